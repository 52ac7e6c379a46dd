"""max_pool3d, avg_pool3d, max_unpool2d, lp_pool1d/2d (ops/pool.py, reference ops) against torch."""
import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import chainrule as cr
import chainrule.nn.functional as F
from tests.parity import assert_parity

rng = np.random.default_rng(0)
WINDOWS = [dict(kernel_size=2), dict(kernel_size=3, stride=2, padding=1),
           dict(kernel_size=(2, 3, 2), stride=(1, 2, 2), ceil_mode=True), dict(kernel_size=(3, 2, 2), padding=(1, 0, 1))]


@pytest.mark.parametrize("kw", WINDOWS + [dict(kernel_size=(2, 3, 2), stride=(1, 2, 2), dilation=(2, 1, 1))])
@pytest.mark.parametrize("shape", [(2, 3, 5, 6, 7), (3, 4, 5, 6)])
def test_max_pool3d_parity(kw, shape):
    x = rng.standard_normal(shape)
    assert_parity(lambda t: F.max_pool3d(t, **kw), lambda t: TF.max_pool3d(t, **kw), x)
    values, idx = F.max_pool3d(cr.tensor(x), return_indices=True, **kw)
    ref_values, ref_idx = TF.max_pool3d(torch.tensor(x), return_indices=True, **kw)
    np.testing.assert_array_equal(idx.data, ref_idx.numpy())
    assert idx.dtype == np.int64 and not idx.requires_grad
    np.testing.assert_allclose(values.data, ref_values.numpy())


def test_max_pool3d_ties_take_the_first():
    x = np.zeros((1, 1, 2, 2, 2))
    assert_parity(lambda t: F.max_pool3d(t, 2), lambda t: TF.max_pool3d(t, 2), x)


@pytest.mark.parametrize("kw", WINDOWS)
@pytest.mark.parametrize("count_include_pad", [True, False])
def test_avg_pool3d_parity(kw, count_include_pad):
    x = rng.standard_normal((2, 3, 5, 6, 7))
    assert_parity(lambda t: F.avg_pool3d(t, count_include_pad=count_include_pad, **kw),
                  lambda t: TF.avg_pool3d(t, count_include_pad=count_include_pad, **kw), x)


def test_avg_pool3d_divisor_override_and_float32():
    x = rng.standard_normal((3, 4, 4, 4)).astype(np.float32)
    out = assert_parity(lambda t: F.avg_pool3d(t, 2, divisor_override=3),
                        lambda t: TF.avg_pool3d(t, 2, divisor_override=3), x)
    assert out.dtype == np.float32
    out = assert_parity(lambda t: cr.max_pool3d(t, 2), lambda t: torch.max_pool3d(t, 2), x)
    assert out.dtype == np.float32


def test_pool3d_errors():
    with pytest.raises(ValueError, match="expected a 4-D or 5-D input"):
        F.max_pool3d(cr.randn(2, 3, 4), 2)
    with pytest.raises(ValueError, match="padding \\(2, 2, 2\\) must be at most half the kernel size"):
        F.avg_pool3d(cr.randn(1, 1, 4, 4, 4), 2, padding=2)
    with pytest.raises(ValueError, match="larger than the padded input"):
        F.max_pool3d(cr.randn(1, 1, 2, 2, 2), 3)
    with pytest.raises(ValueError, match="kernel_size must be an int or a triple"):
        F.max_pool3d(cr.randn(1, 1, 2, 2, 2), (1, 1))


@pytest.mark.parametrize("shape,kw,output_size", [((2, 3, 6, 8), dict(kernel_size=2), None),
                                                  ((2, 3, 6, 7), dict(kernel_size=2), (6, 7)),
                                                  ((3, 7, 7), dict(kernel_size=3, stride=2, padding=1), None),
                                                  ((1, 2, 5, 5), dict(kernel_size=2), (1, 2, 5, 5))])
def test_max_unpool2d_parity(shape, kw, output_size):
    x = rng.standard_normal(shape)
    pooled, idx = TF.max_pool2d(torch.tensor(x), return_indices=True, **kw)
    ours_pooled, ours_idx = F.max_pool2d(cr.tensor(x), return_indices=True, **kw)
    np.testing.assert_array_equal(ours_idx.data, idx.numpy())
    assert_parity(lambda t: F.max_unpool2d(t, ours_idx, output_size=output_size, **kw),
                  lambda t: TF.max_unpool2d(t, idx, output_size=output_size, **kw), pooled.numpy())
    out = F.max_unpool2d(cr.tensor(pooled.numpy().astype(np.float32)), ours_idx, output_size=output_size, **kw)
    assert out.dtype == np.float32


def test_max_unpool2d_errors():
    x = cr.arange(42.0).reshape(1, 1, 6, 7)  # each window's max at its bottom right: index 40 in the last one
    pooled, idx = F.max_pool2d(x, 2, return_indices=True)
    with pytest.raises(RuntimeError, match="indices must lie in \\[0, 36\\) for output size \\(6, 6\\)"):
        F.max_unpool2d(pooled, idx, 2)
    with pytest.raises(ValueError, match="indices must be an int64 Tensor of the input's shape"):
        F.max_unpool2d(pooled, idx.float(), 2)
    with pytest.raises(ValueError, match="output_size \\(8, 8\\) must give \\(H_out, W_out\\) within stride"):
        F.max_unpool2d(pooled, idx, 2, output_size=(8, 8))


@pytest.mark.parametrize("p", [1, 2, 3, 1.5])
@pytest.mark.parametrize("kw", [dict(kernel_size=2, stride=1), dict(kernel_size=(2, 3), ceil_mode=True),
                                dict(kernel_size=3, stride=2)])
def test_lp_pool_parity(p, kw):
    x = np.abs(rng.standard_normal((2, 3, 6, 7))) + 0.1  # the root of a negative window sum is NaN in torch too
    assert_parity(lambda t: F.lp_pool2d(t, p, **kw), lambda t: TF.lp_pool2d(t, p, **kw), x)
    k = kw["kernel_size"] if isinstance(kw["kernel_size"], int) else kw["kernel_size"][1]
    kw1 = dict(kw, kernel_size=k)
    assert_parity(lambda t: F.lp_pool1d(t, p, **kw1), lambda t: TF.lp_pool1d(t, p, **kw1), x[0])
    out = F.lp_pool2d(cr.tensor(x.astype(np.float32)), p, **kw)
    assert out.dtype == np.float32
