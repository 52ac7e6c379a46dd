"""interpolate, pixel_shuffle / pixel_unshuffle, unfold / fold (ops/spatial.py) against torch."""
import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import chainrule as cr
import chainrule.nn.functional as F
from tests.parity import assert_parity

rng = np.random.default_rng(0)
SHAPES = {1: (2, 3, 7), 2: (2, 3, 5, 7), 3: (1, 2, 3, 4, 5)}
SIZES = {1: (11,), 2: (11, 3), 3: (5, 2, 8)}
RESIZE = [dict(size="S"), dict(scale_factor=1.7), dict(scale_factor=0.6), dict(scale_factor=2),
          dict(scale_factor=2.3, recompute_scale_factor=True)]


def _cases():
    for mode, dims in [("nearest", 1), ("nearest", 2), ("nearest", 3), ("nearest-exact", 2), ("area", 2),
                       ("linear", 1), ("bilinear", 2), ("bicubic", 2), ("trilinear", 3)]:
        for ac in ([None] if mode in ("nearest", "nearest-exact", "area") else [False, True]):
            for i in range(len(RESIZE)):
                yield mode, dims, ac, i


@pytest.mark.parametrize("mode,dims,align_corners,which", list(_cases()))
def test_interpolate_parity(mode, dims, align_corners, which):
    kw = dict(RESIZE[which])
    if kw.get("size") == "S":
        kw["size"] = SIZES[dims]
    x = rng.standard_normal(SHAPES[dims])
    assert_parity(lambda t: F.interpolate(t, mode=mode, align_corners=align_corners, **kw),
                  lambda t: TF.interpolate(t, mode=mode, align_corners=align_corners, **kw), x)


@pytest.mark.parametrize("mode", ["nearest", "bilinear", "bicubic"])
def test_interpolate_float32_and_uint8(mode):
    x = rng.standard_normal((1, 2, 4, 5)).astype(np.float32)
    out = assert_parity(lambda t: F.interpolate(t, scale_factor=1.5, mode=mode),
                        lambda t: TF.interpolate(t, scale_factor=1.5, mode=mode), x, rtol=1e-4, atol=1e-5)
    assert out.dtype == np.float32
    img = np.arange(20, dtype=np.uint8).reshape(1, 1, 4, 5)
    ours = F.interpolate(cr.tensor(img), size=(7, 3))
    np.testing.assert_array_equal(ours.data, TF.interpolate(torch.tensor(img), size=(7, 3)).numpy())
    assert ours.dtype == np.uint8


def test_interpolate_errors():
    x = cr.randn(1, 2, 4, 5)
    with pytest.raises(ValueError, match="exactly one of size or scale_factor"):
        F.interpolate(x)
    with pytest.raises(ValueError, match="exactly one of size or scale_factor"):
        F.interpolate(x, size=3, scale_factor=2)
    with pytest.raises(NotImplementedError, match="got a 4-D input, but mode 'linear' needs a 3-D input"):
        F.interpolate(x, size=3, mode="linear")
    with pytest.raises(ValueError, match="align_corners can only be set"):
        F.interpolate(x, size=3, mode="nearest", align_corners=True)
    with pytest.raises(ValueError, match="size \\(1, 2, 3\\) must have one entry per spatial dim"):
        F.interpolate(x, size=(1, 2, 3))
    with pytest.raises(ValueError, match="recompute_scale_factor is not meaningful"):
        F.interpolate(x, size=3, recompute_scale_factor=True)
    with pytest.raises(NotImplementedError, match="mode must be one of"):
        F.interpolate(x, size=3, mode="lanczos")
    with pytest.raises(NotImplementedError, match="needs a floating-point input"):
        F.interpolate(cr.tensor(np.zeros((1, 1, 2, 2), dtype=np.uint8)), size=3, mode="bilinear")


@pytest.mark.parametrize("shape,r", [((2, 8, 3, 4), 2), ((9, 2, 3), 3), ((2, 1, 4, 2, 2), 2)])
def test_pixel_shuffle_parity(shape, r):
    x = rng.standard_normal(shape)
    assert_parity(lambda t: F.pixel_shuffle(t, r), lambda t: TF.pixel_shuffle(t, r), x)
    y = TF.pixel_shuffle(torch.tensor(x), r).numpy()
    assert_parity(lambda t: F.pixel_unshuffle(t, r), lambda t: TF.pixel_unshuffle(t, r), y)
    assert_parity(lambda t: cr.pixel_shuffle(t, r), lambda t: torch.pixel_shuffle(t, r), x.astype(np.float32))


def test_pixel_shuffle_errors():
    with pytest.raises(ValueError, match="channels 5 of input shape \\(1, 5, 2, 2\\) must be divisible by"):
        F.pixel_shuffle(cr.randn(1, 5, 2, 2), 2)
    with pytest.raises(ValueError, match="height 3 and width 4"):
        F.pixel_unshuffle(cr.randn(1, 1, 3, 4), 2)
    with pytest.raises(ValueError, match="at least 3 dims"):
        F.pixel_shuffle(cr.randn(4, 4), 2)
    with pytest.raises(ValueError, match="upscale_factor must be a positive int"):
        F.pixel_shuffle(cr.randn(1, 4, 2, 2), 0)


WINDOWS = [dict(kernel_size=2), dict(kernel_size=(2, 3), dilation=(1, 2), padding=1, stride=(2, 1)),
           dict(kernel_size=3, padding=(0, 2), stride=2)]


@pytest.mark.parametrize("kw", WINDOWS)
@pytest.mark.parametrize("shape", [(2, 3, 5, 6), (3, 6, 5)])
def test_unfold_fold_parity(kw, shape):
    x = rng.standard_normal(shape)
    assert_parity(lambda t: F.unfold(t, **kw), lambda t: TF.unfold(t, **kw), x)
    cols = TF.unfold(torch.tensor(x), **kw).numpy()
    assert_parity(lambda t: F.fold(t, shape[-2:], **kw), lambda t: TF.fold(t, shape[-2:], **kw), cols)
    out = assert_parity(lambda t: F.fold(t, shape[-2:], **kw), lambda t: TF.fold(t, shape[-2:], **kw),
                        cols.astype(np.float32))
    assert out.dtype == np.float32


def test_unfold_fold_errors():
    with pytest.raises(ValueError, match="expected a 3-D \\(C, H, W\\) or 4-D"):
        F.unfold(cr.randn(5, 5), 2)
    with pytest.raises(RuntimeError, match="kernel \\(4, 4\\) .* larger than the padded input"):
        F.unfold(cr.randn(1, 1, 3, 3), 4)
    with pytest.raises(RuntimeError, match="must be divisible by the kernel size 2·2 = 4"):
        F.fold(cr.randn(1, 6, 4), (3, 3), 2)
    with pytest.raises(RuntimeError, match="has 5 blocks, but output_size \\(3, 3\\)"):
        F.fold(cr.randn(1, 4, 5), (3, 3), 2)
