"""F.pad (ops/padding.py): constant (with cropping), reflect, replicate and circular against torch."""
import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import chainrule as cr
import chainrule.nn.functional as F
from tests.parity import assert_parity

rng = np.random.default_rng(0)
MODES = ["reflect", "replicate", "circular"]


@pytest.mark.parametrize("shape,pad", [((2, 3, 5), (1, 2)), ((3, 5), (2, 0)), ((2, 3, 5, 6), (2, 1, 0, 3)),
                                       ((3, 5, 6), (1, 1, 2, 2)), ((2, 3, 5, 6), (-1, 2, 1, -2)),
                                       ((1, 2, 4, 5, 6), (1, 2, 3, 0, 2, 1)), ((2, 4, 5, 3), (0, 2, -1, 1, 2, 0))])
@pytest.mark.parametrize("mode", MODES)
def test_index_pad_parity(shape, pad, mode):
    x = rng.standard_normal(shape)
    assert_parity(lambda t: F.pad(t, pad, mode=mode), lambda t: TF.pad(t, pad, mode=mode), x)


@pytest.mark.parametrize("pad", [(1, 2), (0, 2, 1, 0), (-1, 2, 1, -2), (2, 1, 0, 0, -1, 1), (-2, -1)])
@pytest.mark.parametrize("value", [None, 0.5])
def test_constant_pad_parity_with_cropping(pad, value):
    x = rng.standard_normal((2, 3, 4, 5))
    assert_parity(lambda t: F.pad(t, pad, value=value), lambda t: TF.pad(t, pad, value=value), x)


@pytest.mark.parametrize("mode", ["constant"] + MODES)
def test_float32_kept(mode):
    x = rng.standard_normal((2, 3, 4)).astype(np.float32)
    out = assert_parity(lambda t: F.pad(t, (2, 1), mode=mode), lambda t: TF.pad(t, (2, 1), mode=mode), x)
    assert out.dtype == np.float32


@pytest.mark.parametrize("mode", ["constant"] + MODES)
def test_integer_input(mode):
    x = np.arange(12).reshape(1, 3, 4)
    out = F.pad(cr.tensor(x), (2, 1), mode=mode)
    np.testing.assert_array_equal(out.data, TF.pad(torch.tensor(x), (2, 1), mode=mode).numpy())
    assert out.dtype == np.int64 and not out.requires_grad


def test_errors():
    x = cr.randn(1, 2, 3, 4)
    with pytest.raises(RuntimeError, match="divisible by 2"):
        F.pad(x, (1,))
    with pytest.raises(NotImplementedError, match="mode must be one of"):
        F.pad(x, (1, 1), mode="wrap")
    with pytest.raises(NotImplementedError, match="needs a 2-D or 3-D input, got shape \\(1, 2, 3, 4\\)"):
        F.pad(x, (1, 1), mode="reflect")
    with pytest.raises(RuntimeError, match="reflect padding \\(4, 0\\) of dim 3 must be smaller than its size 4"):
        F.pad(x, (4, 0, 0, 0), mode="reflect")
    with pytest.raises(RuntimeError, match="circular padding \\(0, 5\\) of dim 3 must be at most its size 4"):
        F.pad(x, (0, 5, 0, 0), mode="circular")
    with pytest.raises(RuntimeError, match="does not take a value"):
        F.pad(x, (1, 1, 1, 1), mode="replicate", value=1.0)
    with pytest.raises(RuntimeError, match="negative size"):
        F.pad(x, (-3, -2))
    with pytest.raises(TypeError, match="expected a Tensor"):
        F.pad(np.zeros(3), (1, 1))


def test_attention_still_pads_masks():
    from chainrule.ops import attention, padding
    assert attention.pad is padding.pad
