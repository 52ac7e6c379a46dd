"""The spatial layers (padding, upsampling, fold, pixel shuffle, Conv3d, 3-D / unpool / LP pooling) against torch."""
import numpy as np
import pytest
import torch

import chainrule as cr
import chainrule.nn as nn
from tests.parity import assert_parity

rng = np.random.default_rng(0)

CASES = [
    ("ZeroPad1d", (2,), (2, 3, 5)), ("ZeroPad2d", ((1, 2, 0, 1),), (2, 3, 4, 5)), ("ZeroPad3d", (1,), (1, 2, 3, 4, 5)),
    ("ConstantPad1d", (2, 0.5), (3, 5)), ("ConstantPad2d", ((1, 0, 2, 1), -1.0), (2, 3, 4, 5)),
    ("ConstantPad3d", (1, 2.0), (2, 3, 4, 5)), ("ReflectionPad1d", (2,), (2, 3, 5)),
    ("ReflectionPad2d", ((1, 2, 0, 1),), (3, 4, 5)), ("ReflectionPad3d", (1,), (1, 2, 3, 4, 5)),
    ("ReplicationPad1d", ((3, 1),), (2, 3, 5)), ("ReplicationPad2d", (2,), (2, 3, 4, 5)),
    ("ReplicationPad3d", ((1, 0, 2, 1, 0, 1),), (2, 3, 4, 5)), ("CircularPad1d", (2,), (2, 3, 5)),
    ("CircularPad2d", ((1, 2, 0, 1),), (2, 3, 4, 5)), ("CircularPad3d", (1,), (1, 2, 3, 4, 5)),
    ("Upsample", (None, 2.0, "bilinear", True), (2, 3, 4, 5)), ("Upsample", ((7,), None, "linear"), (2, 3, 4)),
    ("UpsamplingNearest2d", ((5, 7),), (2, 3, 4, 5)), ("UpsamplingBilinear2d", (None, 1.5), (2, 3, 4, 5)),
    ("PixelShuffle", (2,), (2, 8, 3, 4)), ("PixelUnshuffle", (2,), (2, 2, 4, 6)), ("Unfold", ((2, 3), 1, 1, 2), (2, 3, 5, 6)),
    ("Fold", ((4, 5), 2), (2, 12, 12)), ("MaxPool3d", (2, 1, 1), (2, 3, 4, 5, 6)), ("AvgPool3d", (3, 2, 1), (2, 3, 4, 5, 6)),
    ("LPPool2d", (2, 2), (2, 3, 4, 6)), ("LPPool1d", (3, 2), (2, 3, 6)),
]


@pytest.mark.parametrize("name,args,shape", CASES)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_module_parity(name, args, shape, dtype):
    x = (np.abs(rng.standard_normal(shape)) + 0.1).astype(dtype)
    ours, theirs = getattr(nn, name)(*args), getattr(torch.nn, name)(*args)
    out = assert_parity(ours, theirs, x)
    assert out.dtype == dtype
    assert name in repr(ours)


def test_conv3d_module():
    torch.manual_seed(0)
    ref = torch.nn.Conv3d(4, 6, (2, 3, 2), stride=(1, 2, 1), padding=1, groups=2, dtype=torch.float64)
    ours = nn.Conv3d(4, 6, (2, 3, 2), stride=(1, 2, 1), padding=1, groups=2, dtype=cr.float64)
    assert ours.weight.shape == tuple(ref.weight.shape)
    ours.load_state_dict({k: cr.tensor(v.detach().numpy()) for k, v in ref.state_dict().items()})
    x = rng.standard_normal((2, 4, 4, 5, 6))
    out = ours(cr.tensor(x))
    np.testing.assert_allclose(out.data, ref(torch.tensor(x)).detach().numpy(), rtol=1e-7, atol=1e-9)
    out.sum().backward()
    ref(torch.tensor(x)).sum().backward()
    np.testing.assert_allclose(ours.weight.grad.data, ref.weight.grad.numpy(), rtol=1e-7, atol=1e-9)
    with pytest.raises(ValueError, match="expected input of shape \\(N, 4, D, H, W\\)"):
        ours(cr.randn(2, 3, 4, 4, 4, dtype=cr.float64))


def test_max_unpool2d_module():
    x = rng.standard_normal((2, 3, 6, 8))
    pool, unpool = nn.MaxPool2d(2, return_indices=True), nn.MaxUnpool2d(2)
    pooled, idx = pool(cr.tensor(x))
    ref_pooled, ref_idx = torch.nn.MaxPool2d(2, return_indices=True)(torch.tensor(x))
    assert_parity(lambda t: unpool(t, idx), lambda t: torch.nn.MaxUnpool2d(2)(t, ref_idx), ref_pooled.numpy())
    assert unpool(pooled, idx, output_size=(7, 9)).shape == (2, 3, 7, 9)


def test_padding_module_errors():
    with pytest.raises(ValueError, match="ReflectionPad2d: padding must be an int or a 4-tuple"):
        nn.ReflectionPad2d((1, 2))
    with pytest.raises(NotImplementedError, match="needs a 3-D or 4-D input"):
        nn.ReplicationPad2d(1)(cr.randn(2, 3, 4, 5, 6))
