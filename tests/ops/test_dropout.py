"""chainrule.ops.dropout: dropout and dropout2d [note 001, note 003] — inverted dropout keeps the expected
value (survivors scaled by 1/(1 − p)), the gradient is the same mask, training=False is the identity,
p = 0 and p = 1, whole channels for dropout2d, reproducible under ``manual_seed`` and with a generator,
float32 kept, and bad ``p`` or input dims raise. (The modules: tests/nn/test_dropout.py.)"""

import numpy as np
import pytest

import chainrule as cr
import chainrule.nn.functional as F


def _ones(shape, dtype=cr.float64, requires_grad=False):
    return cr.ones(*shape, dtype=dtype, requires_grad=requires_grad)


@pytest.mark.parametrize("p", [0.1, 0.5, 0.8])
def test_dropout_keeps_expected_value_and_gradient_is_the_mask(p):
    cr.manual_seed(0)
    x = cr.tensor(np.random.default_rng(0).uniform(1, 2, (400, 500)), requires_grad=True)
    out = F.dropout(x, p)
    kept = out.data != 0
    n = kept.size
    # the fraction dropped is p within 5 binomial standard deviations
    assert abs((1 - kept.mean()) - p) < 5 * np.sqrt(p * (1 - p) / n)
    np.testing.assert_allclose(out.data[kept], x.data[kept] / (1 - p), rtol=1e-12)
    # E[out] = x: the mean of out/x is 1 within 5 standard deviations of the scaled Bernoulli
    ratio = out.data / x.data
    assert abs(ratio.mean() - 1) < 5 * np.sqrt(p / (1 - p) / n)
    out.backward(np.ones(out.shape))
    np.testing.assert_array_equal(x.grad.data, kept / (1 - p))


def test_training_false_is_identity():
    x = cr.randn(5, 6, dtype=cr.float64, requires_grad=True)
    np.testing.assert_array_equal(F.dropout(x, 0.5, training=False).data, x.data)
    y = cr.randn(2, 3, 4, 4)
    np.testing.assert_array_equal(F.dropout2d(y, 0.5, training=False).data, y.data)


def test_p_zero_is_identity_and_p_one_zeros_everything():
    x = cr.randn(50, 40, dtype=cr.float64, requires_grad=True)
    for fn, t in ((F.dropout, x), (F.dropout2d, x.reshape(5, 10, 8, 5))):
        np.testing.assert_array_equal(fn(t, 0.0).data, t.data)
        with np.errstate(all="raise"):  # no 0/0 for p = 1
            out = fn(t, 1.0)
        np.testing.assert_array_equal(out.data, np.zeros(t.shape))
    x.grad = None
    with np.errstate(all="raise"):
        F.dropout(x, 1.0).sum().backward()
    np.testing.assert_array_equal(x.grad.data, 0)


@pytest.mark.parametrize("bad", [-0.1, 1.5, 2, "0.5", None, float("nan")])
def test_bad_p_raises(bad):
    x = cr.randn(2, 3, 4, 4)
    for call, name in [(lambda: F.dropout(x, bad), "dropout"), (lambda: F.dropout2d(x, bad), "dropout2d")]:
        with pytest.raises(ValueError, match=f"{name}: dropout probability has to be between 0 and 1, got {bad!r}"):
            call()


def test_reproducible_under_manual_seed_and_generator():
    x = cr.randn(20, 30)
    cr.manual_seed(7)
    a, b = F.dropout(x).data, F.dropout2d(x.reshape(2, 10, 5, 6)).data
    cr.manual_seed(7)
    np.testing.assert_array_equal(F.dropout(x).data, a)
    np.testing.assert_array_equal(F.dropout2d(x.reshape(2, 10, 5, 6)).data, b)
    assert not np.array_equal(F.dropout(x).data, a)  # the stream moves on
    g1, g2 = cr.Generator(11), cr.Generator(11)
    np.testing.assert_array_equal(F.dropout(x, 0.4, generator=g1).data, F.dropout(x, 0.4, generator=g2).data)


@pytest.mark.parametrize("shape", [(6, 50, 3, 4), (200, 5, 2)])
def test_dropout2d_drops_whole_channels(shape):
    """(N, C, H, W): each (n, c) map is all zero or all scaled; an unbatched (C, H, W) input: each c."""
    p = 0.4
    cr.manual_seed(1)
    x = cr.tensor(np.random.default_rng(1).uniform(1, 2, shape), requires_grad=True)
    out = F.dropout2d(x, p)
    maps = (out.data != 0).reshape(shape[:-2] + (-1,))
    assert np.all(maps.all(-1) | ~maps.any(-1))  # all or nothing per channel map
    kept = maps.all(-1)
    assert abs((1 - kept.mean()) - p) < 5 * np.sqrt(p * (1 - p) / kept.size)
    np.testing.assert_allclose(out.data[out.data != 0], x.data[out.data != 0] / (1 - p), rtol=1e-12)
    out.backward(np.ones(shape))
    np.testing.assert_array_equal(x.grad.data, (out.data != 0) / (1 - p))


def test_dropout2d_bad_dims():
    for shape in [(4, 5), (2, 3, 4, 5, 6)]:
        with pytest.raises(ValueError, match=rf"dropout2d: expected a 3-D or 4-D input, got shape \({shape[0]}, "):
            F.dropout2d(cr.randn(*shape))


def test_dtype_kept():
    for dtype in (cr.float32, cr.float64):
        x = _ones((10, 4, 2, 2), dtype, requires_grad=True)
        for out in (F.dropout(x, 0.3), F.dropout2d(x, 0.3)):
            assert out.dtype == dtype
            out.sum().backward()
            assert x.grad.dtype == dtype
            x.grad = None


# ----- dropout1d, dropout3d, alpha_dropout, feature_alpha_dropout ----------------------------------------
@pytest.mark.parametrize("fn, shape, spatial", [(F.dropout1d, (4, 6, 5), 1), (F.dropout1d, (6, 5), 1),
                                                (F.dropout3d, (2, 6, 2, 3, 2), 3), (F.dropout3d, (6, 2, 3, 2), 3)])
def test_channel_dropout_zeroes_whole_channels(fn, shape, spatial):
    x = cr.tensor(np.ones(shape), requires_grad=True)
    out = fn(x, 0.5, generator=cr.Generator().manual_seed(0))
    per_channel = out.data.reshape(out.shape[: out.ndim - spatial] + (-1,))
    assert np.all((per_channel == 0).all(-1) | (per_channel == 2).all(-1))  # a channel is dropped or scaled whole
    out.sum().backward()
    np.testing.assert_array_equal(x.grad.data, out.data)  # d(x·mask/(1 − p))/dx = mask/(1 − p)
    assert fn(x, 0.5, training=False) is x


def test_channel_dropout_errors():
    with pytest.raises(ValueError, match=r"dropout1d: expected a 2-D or 3-D input .* got shape \(2, 3, 4, 5\)"):
        F.dropout1d(cr.ones(2, 3, 4, 5))
    with pytest.raises(ValueError, match=r"dropout3d: expected a 4-D or 5-D input .* got shape \(2, 3\)"):
        F.dropout3d(cr.ones(2, 3))


@pytest.mark.parametrize("fn", [F.alpha_dropout, F.feature_alpha_dropout])
def test_alpha_dropout_keeps_selu_statistics(fn):
    """On N(0, 1) input the output keeps mean 0 and variance 1 (the point of alpha dropout); dropped units sit at
    the affine image of −λα; the gradient is a·mask."""
    x = cr.tensor(np.random.default_rng(0).standard_normal((400, 50, 4)), requires_grad=True)
    out = fn(x, 0.2, training=True, generator=cr.Generator().manual_seed(1))
    assert abs(out.data.mean()) < 0.02 and abs(out.data.var() - 1) < 0.03
    a = 1 / np.sqrt((1.7580993408473766**2 * 0.2 + 1) * 0.8)
    out.sum().backward()
    kept = x.grad.data != 0
    np.testing.assert_allclose(x.grad.data[kept], a)
    np.testing.assert_allclose(out.data[~kept], a * 1.7580993408473766 * (0.2 - 1))
    assert abs((~kept).mean() - 0.2) < 0.01
    assert fn(x, 0.2) is x  # training=False by default, as torch
    np.testing.assert_array_equal(fn(x, 1.0, training=True).data, 0)


def test_alpha_dropout_float32():
    x = cr.tensor(np.ones((3, 4), np.float32))
    assert F.alpha_dropout(x, 0.5, True).dtype == np.float32
