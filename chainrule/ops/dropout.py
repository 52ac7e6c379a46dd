"""Dropout [note 001, note 003]: inverted dropout — in training each unit is zeroed with probability p
and the survivors are scaled by 1/(1 − p), so the expected activation is unchanged and evaluation
needs no rescaling (it is the identity)."""
import numpy as np

from ..autograd import Function
from ..random import rng


class Dropout(Function):
    """out = x·mask/(1 − p), mask ~ Bernoulli(1 − p) with ``mask_shape`` (broadcast: a whole channel
    for Dropout2d); dx = g·mask/(1 − p)."""

    def forward(self, x, *, p, mask_shape, generator):
        keep = rng(generator).random(mask_shape) >= p
        self.scale = (keep / (1 - p)).astype(x.dtype) if p < 1 else np.zeros(mask_shape, dtype=x.dtype)
        return x * self.scale

    def backward(self, g):
        return (g * self.scale,)


def check_p(p, op):
    if not (isinstance(p, (int, float)) and 0 <= p <= 1):
        raise ValueError(f"{op}: dropout probability has to be between 0 and 1, got {p!r}")


def dropout(input, p=0.5, training=True, generator=None):  # noqa: A002
    """Zero each element with probability ``p`` and scale the rest by 1/(1 − p) in training; identity otherwise."""
    check_p(p, "dropout")
    if not training or p == 0:
        return input
    return Dropout.apply(input, p=p, mask_shape=input.shape, generator=generator)


def dropout2d(input, p=0.5, training=True, generator=None):  # noqa: A002
    """Zero whole channels of (N, C, H, W) (or unbatched (C, H, W)) with probability ``p``, scaling the rest."""
    check_p(p, "dropout2d")
    if input.ndim not in (3, 4):
        raise ValueError(f"dropout2d: expected a 3-D or 4-D input, got shape {input.shape}")
    if not training or p == 0:
        return input
    return Dropout.apply(input, p=p, mask_shape=input.shape[:-2] + (1, 1), generator=generator)
