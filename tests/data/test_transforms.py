"""Transforms: shapes, exactness, bounds and seeded reproducibility."""
import numpy as np
import pytest

import chainrule as cr
from chainrule.data import transforms as T


def images(n=16, c=3, h=8, w=10, seed=0):
    return np.random.default_rng(seed).random((n, c, h, w), dtype=np.float32)


RANDOM = [
    lambda g: T.RandomHorizontalFlip(generator=g),
    lambda g: T.RandomVerticalFlip(generator=g),
    lambda g: T.RandomCrop((6, 7), padding=2, generator=g),
    lambda g: T.GaussianNoise(0.1, generator=g),
    lambda g: T.RandomRotation(10, generator=g),
]


@pytest.mark.parametrize("make", RANDOM)
def test_seeded_reproducibility(make):
    x = images()
    a, b = make(cr.Generator(5))(x), make(cr.Generator(5))(x)
    np.testing.assert_array_equal(a, b)
    t = make(None)
    cr.manual_seed(1)
    first = t(x)
    cr.manual_seed(1)
    np.testing.assert_array_equal(first, t(x))
    assert not np.array_equal(first, t(x))  # the next call draws anew


@pytest.mark.parametrize("make", RANDOM)
@pytest.mark.parametrize("shape", [(16, 3, 8, 10), (3, 8, 10), (8, 10), (4, 1, 8, 10)])
def test_shapes_and_tensor_in_tensor_out(make, shape):
    x = images()[: shape[0] if len(shape) == 4 else 1].reshape(-1)[: np.prod(shape)].reshape(shape)
    out = make(cr.Generator(0))(x)
    expected = shape[:-2] + ((6, 7) if isinstance(make(None), T.RandomCrop) else shape[-2:])
    assert isinstance(out, np.ndarray) and out.shape == expected and out.dtype == np.float32
    out_t = make(cr.Generator(0))(cr.tensor(x))
    assert isinstance(out_t, cr.Tensor) and out_t.shape == expected
    np.testing.assert_array_equal(out_t.numpy(), out)


def test_flips_are_exact_flips():
    x = images(n=400)
    np.testing.assert_array_equal(T.RandomHorizontalFlip(p=1.0)(x), x[..., ::-1])
    np.testing.assert_array_equal(T.RandomVerticalFlip(p=1.0)(x), x[..., ::-1, :])
    np.testing.assert_array_equal(T.RandomHorizontalFlip(p=0.0)(x), x)
    out = T.RandomHorizontalFlip(p=0.5, generator=cr.Generator(0))(x)
    flipped = np.all(out == x[..., ::-1], axis=(1, 2, 3))
    kept = np.all(out == x, axis=(1, 2, 3))
    assert np.all(flipped ^ kept)  # every image is either exactly flipped or untouched
    assert 150 < flipped.sum() < 250
    with pytest.raises(ValueError, match="probability"):
        T.RandomHorizontalFlip(p=1.5)


@pytest.mark.parametrize("padding_mode", ["constant", "edge", "reflect", "symmetric"])
def test_crops_stay_in_bounds(padding_mode):
    x = images(n=300, c=2, h=6, w=5)
    crop = T.RandomCrop((4, 5), padding=(1, 2), padding_mode=padding_mode, fill=-1.0, generator=cr.Generator(0))
    out = crop(x)
    kwargs = {"constant_values": -1.0} if padding_mode == "constant" else {}
    padded = np.pad(x, ((0, 0), (0, 0), (2, 2), (1, 1)), mode=padding_mode, **kwargs)  # (300, 2, 10, 7)
    offsets = set()
    for n in range(len(x)):  # find each crop among all windows of its padded image
        hits = [(top, left) for top in range(10 - 4 + 1) for left in range(7 - 5 + 1)
                if np.array_equal(padded[n, :, top:top + 4, left:left + 5], out[n])]
        assert hits, f"crop {n} is not a window of the padded image"
        offsets.update(hits)
    assert offsets == {(top, left) for top in range(7) for left in range(3)}  # every offset occurs, none outside


def test_crop_without_padding_and_errors():
    x = images(n=50, h=8, w=8)
    out = T.RandomCrop(8)(x)
    np.testing.assert_array_equal(out, x)
    shifted = T.RandomCrop(8, padding=1, generator=cr.Generator(0))(x)
    # a ±1 shift keeps the interior 6×6 of each image somewhere in the output
    assert shifted.shape == x.shape
    with pytest.raises(ValueError, match=r"crop size \(9, 9\) is larger than the padded image \(8, 8\)"):
        T.RandomCrop(9)(x)
    with pytest.raises(ValueError, match="padding"):
        T.RandomCrop(4, padding=(1, 2, 3))


def test_normalize():
    x = images(c=3)
    mean, std = [0.1, 0.2, 0.3], [0.5, 0.25, 2.0]
    out = T.Normalize(mean, std)(x)
    expected = (x - np.array(mean, np.float32)[:, None, None]) / np.array(std, np.float32)[:, None, None]
    np.testing.assert_allclose(out, expected, rtol=1e-6)
    assert out.dtype == np.float32
    np.testing.assert_allclose(T.Normalize(0.5, 0.25)(x[0]), (x[0] - 0.5) / 0.25, rtol=1e-6)
    with pytest.raises(ValueError, match=r"3 channel means need data \(…, 3, H, W\), got shape \(16, 1, 8, 10\)"):
        T.Normalize(mean, std)(images(c=1))
    with pytest.raises(ValueError, match="non-zero"):
        T.Normalize(0.0, 0.0)
    with pytest.raises(TypeError, match="ToTensor"):
        T.Normalize(0.5, 0.5)(np.zeros((1, 2, 2), np.uint8))


def test_normalize_matches_torch():
    torch = pytest.importorskip("torch")
    x = images(c=3)
    mean, std = [0.4914, 0.4822, 0.4465], [0.247, 0.243, 0.261]
    ours = T.Normalize(mean, std)(x)
    ref = (torch.from_numpy(x) - torch.tensor(mean)[:, None, None]) / torch.tensor(std)[:, None, None]
    np.testing.assert_allclose(ours, ref.numpy(), rtol=1e-6, atol=1e-7)


def test_to_tensor():
    x = np.array([[0, 255], [51, 102]], dtype=np.uint8)
    t = T.ToTensor()(x)
    assert isinstance(t, cr.Tensor) and t.dtype == cr.float32
    np.testing.assert_array_equal(t.numpy(), np.array([[0, 1], [0.2, 0.4]], np.float32))
    hwc = np.random.default_rng(0).integers(0, 256, (4, 5, 3), dtype=np.uint8)
    chw = T.ToTensor(channels_last=True)(hwc)
    assert chw.shape == (3, 4, 5)
    np.testing.assert_array_equal(chw.numpy()[1], hwc[..., 1] / np.float32(255))


def test_gaussian_noise_statistics():
    x = np.zeros((200, 1, 20, 20), np.float32)
    out = T.GaussianNoise(std=0.5, mean=0.1, generator=cr.Generator(0))(x)
    assert out.dtype == np.float32
    assert abs(out.mean() - 0.1) < 0.01 and abs(out.std() - 0.5) < 0.01
    with pytest.raises(TypeError, match="floating-point"):
        T.GaussianNoise(0.1)(np.zeros(3, np.int64))


def test_rotation_geometry():
    x = images(n=4, c=2, h=9, w=9)
    np.testing.assert_allclose(T.RandomRotation(0)(x), x, atol=1e-6)
    # +90° is a counter-clockwise quarter turn, which np.rot90 does on the (H, W) axes
    np.testing.assert_allclose(T.RandomRotation((90, 90))(x), np.rot90(x, axes=(-2, -1)), atol=1e-5)
    np.testing.assert_allclose(T.RandomRotation((90, 90), interpolation="nearest")(x), np.rot90(x, axes=(-2, -1)))
    # a small turn of a constant image: the centre keeps its value, a corner falls outside → fill
    out = T.RandomRotation((20, 20), fill=0.0)(np.ones((1, 1, 15, 15), np.float32))
    assert abs(out[0, 0, 7, 7] - 1) < 1e-6 and out[0, 0, 0, 0] == 0
    with pytest.raises(ValueError, match="lo <= hi"):
        T.RandomRotation((10, -10))


def test_compose_and_lambda():
    x = images()
    pipeline = T.Compose([T.Lambda(lambda b: b * 2), T.Normalize(1.0, 2.0)])
    np.testing.assert_allclose(pipeline(x), (x * 2 - 1) / 2, rtol=1e-6)
    assert "Normalize" in repr(pipeline) and "Lambda" in repr(pipeline)
    with pytest.raises(TypeError, match="callable"):
        T.Lambda(3)
