"""conv3d (ops/conv.py, reference op only) against torch."""
import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import chainrule as cr
import chainrule.nn.functional as F
from chainrule import runtime
from tests.parity import assert_parity

rng = np.random.default_rng(0)


@pytest.mark.parametrize("kw,groups,bias", [
    (dict(), 1, True), (dict(stride=2, padding=1), 1, False), (dict(padding="same", dilation=(2, 1, 1)), 1, True),
    (dict(stride=(1, 2, 1), padding=(0, 1, 2), dilation=(2, 1, 1)), 1, True), (dict(padding="valid"), 2, True),
    (dict(stride=3), 4, False)])
def test_conv3d_parity(kw, groups, bias):
    x = rng.standard_normal((2, 4, 5, 6, 7))
    w = rng.standard_normal((8, 4 // groups, 2, 3, 2))
    b = rng.standard_normal(8) if bias else None
    arrays = (x, w) + ((b,) if bias else ())
    assert_parity(lambda *t: F.conv3d(*t, groups=groups, **kw), lambda *t: TF.conv3d(*t, groups=groups, **kw), *arrays)


def test_unbatched_float32_and_top_level():
    x = rng.standard_normal((3, 4, 4, 4)).astype(np.float32)
    w = rng.standard_normal((2, 3, 3, 3, 3)).astype(np.float32)
    out = assert_parity(lambda a, b: cr.conv3d(a, b, padding=1), lambda a, b: torch.conv3d(a, b, padding=1), x, w)
    assert out.dtype == np.float32 and out.shape == (2, 4, 4, 4)


def test_reference_path_whatever_the_switch():
    x, w = cr.randn(1, 2, 3, 3, 3, dtype=cr.float64), cr.randn(2, 2, 2, 2, 2, dtype=cr.float64)
    with runtime.use_reference(False):
        fast = F.conv3d(x, w).data
    with runtime.use_reference(True):
        np.testing.assert_array_equal(F.conv3d(x, w).data, fast)


def test_conv3d_errors():
    x = cr.randn(1, 4, 3, 3, 3)
    with pytest.raises(ValueError, match="weight must be 5-D"):
        F.conv3d(x, cr.randn(2, 4, 3, 3))
    with pytest.raises(ValueError, match="expected a 4-D \\(C, D, H, W\\) or 5-D"):
        F.conv3d(cr.randn(4, 3, 3), cr.randn(2, 4, 1, 1, 1))
    with pytest.raises(ValueError, match="expected input with 2 channels"):
        F.conv3d(x, cr.randn(2, 2, 1, 1, 1))
    with pytest.raises(ValueError, match="groups=3 must divide in_channels=4"):
        F.conv3d(x, cr.randn(3, 1, 1, 1, 1), groups=3)
    with pytest.raises(ValueError, match="bias must have shape \\(2,\\)"):
        F.conv3d(x, cr.randn(2, 4, 1, 1, 1), cr.randn(3))
    with pytest.raises(ValueError, match="kernel size \\(4, 4, 4\\) \\(dilated\\) is larger than the padded input"):
        F.conv3d(x, cr.randn(2, 4, 4, 4, 4))
    with pytest.raises(ValueError, match="padding must be an int, a triple"):
        F.conv3d(x, cr.randn(2, 4, 1, 1, 1), padding="half")
    with pytest.raises(ValueError, match="stride must be an int or a triple"):
        F.conv3d(x, cr.randn(2, 4, 1, 1, 1), stride=(1, 1))
    with pytest.raises(TypeError, match="dtype"):
        F.conv3d(x, cr.randn(2, 4, 1, 1, 1, dtype=cr.float64))
