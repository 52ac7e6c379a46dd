"""chainrule.ops.misc against torch: bilinear (batched, unbatched, no bias), channel_shuffle, local_response_norm
(3-D and 4-D, even and odd sizes, sizes beyond the channels), forward and gradients in float64, float32 smoke
tests and errors."""
import numpy as np
import pytest
import torch

import chainrule as cr
import chainrule.nn.functional as F
from tests.parity import assert_parity

TF = torch.nn.functional
RNG = np.random.default_rng(1)


@pytest.mark.parametrize("batch", [(), (3,), (2, 3)])
@pytest.mark.parametrize("bias", [True, False])
def test_bilinear_parity(batch, bias):
    args = [RNG.standard_normal(batch + (4,)), RNG.standard_normal(batch + (5,)), RNG.standard_normal((6, 4, 5))]
    if bias:
        args.append(RNG.standard_normal(6))
    assert_parity(F.bilinear, TF.bilinear, *args)
    if bias:  # torch.bilinear takes the bias positionally
        assert_parity(cr.bilinear, torch.bilinear, *args)


def test_bilinear_errors():
    with pytest.raises(ValueError, match=r"bilinear: expected input1 \(..., in1\).*got \(2, 4\), \(3, 5\)"):
        F.bilinear(cr.ones(2, 4), cr.ones(3, 5), cr.ones(6, 4, 5))
    with pytest.raises(ValueError, match=r"bilinear: bias must have shape \(6,\), got \(5,\)"):
        F.bilinear(cr.ones(2, 4), cr.ones(2, 5), cr.ones(6, 4, 5), cr.ones(5))


@pytest.mark.parametrize("shape, groups", [((2, 6, 3, 2), 2), ((2, 6, 3, 2), 3), ((1, 8, 5), 4), ((2, 4, 1, 2, 2), 2)])
def test_channel_shuffle_parity(shape, groups):
    x = RNG.standard_normal(shape)
    assert_parity(lambda t: F.channel_shuffle(t, groups), lambda t: TF.channel_shuffle(t, groups), x)
    assert_parity(lambda t: cr.channel_shuffle(t, groups), lambda t: torch.channel_shuffle(t, groups), x)


def test_channel_shuffle_errors():
    with pytest.raises(ValueError, match="channel_shuffle: the number of channels 6 must be divisible by groups=4"):
        F.channel_shuffle(cr.ones(1, 6, 2), 4)
    with pytest.raises(ValueError, match=r"channel_shuffle: expected an input of at least 3 dims"):
        F.channel_shuffle(cr.ones(6, 2), 2)


@pytest.mark.parametrize("size", [1, 2, 3, 4, 9])
@pytest.mark.parametrize("shape", [(2, 7, 3), (2, 7, 3, 2), (1, 5, 2, 2, 2)])
def test_local_response_norm_parity(size, shape):
    x = RNG.standard_normal(shape) * 3
    assert_parity(lambda t: F.local_response_norm(t, size), lambda t: TF.local_response_norm(t, size), x)
    assert_parity(lambda t: F.local_response_norm(t, size, 0.3, 0.6, 2.0),
                  lambda t: TF.local_response_norm(t, size, 0.3, 0.6, 2.0), x)


def test_local_response_norm_float32_and_errors():
    out = assert_parity(lambda t: F.local_response_norm(t, 3, 0.1), lambda t: TF.local_response_norm(t, 3, 0.1),
                        RNG.standard_normal((2, 5, 4, 4)).astype(np.float32))
    assert out.dtype == np.float32
    with pytest.raises(ValueError, match=r"local_response_norm: expected an input of 3 or more dims \(N, C, \*\), got 2 dims"):
        F.local_response_norm(cr.ones(2, 3), 2)
