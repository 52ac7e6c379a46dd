"""Dropout [note 001, note 003]: inverted dropout — in training each unit is zeroed with probability p
and the survivors are scaled by 1/(1 − p), so the expected activation is unchanged and evaluation
needs no rescaling (it is the identity)."""
import math

import numpy as np

from ..autograd import Function, constant
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

    def backward_graph(self, g):
        return (g * constant(self.scale, g),)  # the mask is a constant of the graph


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


def _channel_dropout(input, p, training, generator, op, spatial):  # noqa: A002
    """Zero whole channels of (N, C, *spatial) or unbatched (C, *spatial) with probability ``p``."""
    check_p(p, op)
    if input.ndim not in (spatial + 1, spatial + 2):
        raise ValueError(f"{op}: expected a {spatial + 1}-D or {spatial + 2}-D input (an optional batch dim, the "
                         f"channels and {spatial} spatial dim{'s' if spatial > 1 else ''}), got shape {input.shape}")
    if not training or p == 0:
        return input
    return Dropout.apply(input, p=p, mask_shape=input.shape[: input.ndim - spatial] + (1,) * spatial,
                         generator=generator)


def dropout1d(input, p=0.5, training=True, inplace=False, generator=None):  # noqa: A002
    """Zero whole channels of (N, C, L) (or unbatched (C, L)) with probability ``p``, scaling the rest."""
    return _channel_dropout(input, p, training, generator, "dropout1d", 1)


def dropout3d(input, p=0.5, training=True, inplace=False, generator=None):  # noqa: A002
    """Zero whole channels of (N, C, D, H, W) (or unbatched (C, D, H, W)) with probability ``p``, scaling the rest."""
    return _channel_dropout(input, p, training, generator, "dropout3d", 3)


class AlphaDropout(Function):
    """Dropout for SELU networks: a dropped unit is set to SELU's negative saturation −λα ≈ −1.7581 instead of 0,
    then an affine map a·x + b restores the input's mean 0 and variance 1 (Klambauer et al.):
    a = 1/√((α'²p + 1)(1 − p)), b = a·α'·(p − [dropped]) with α' = λα; out = x·a·keep + b, dx = g·a·keep."""

    ALPHA = 1.7580993408473766  # λα of SELU: its value at −∞, negated

    def forward(self, x, *, p, mask_shape, generator):
        keep = (rng(generator).random(mask_shape) >= p).astype(x.dtype)
        a = 1 / math.sqrt((self.ALPHA**2 * p + 1) * (1 - p))  # a Python float: keeps float32 float32
        self.scale = keep * a
        return x * self.scale + (keep - 1) * self.ALPHA * a + self.ALPHA * a * p

    def backward(self, g):
        return (g * self.scale,)

    def backward_graph(self, g):
        return (g * constant(self.scale, g),)  # the mask is a constant of the graph


def alpha_dropout(input, p=0.5, training=False, inplace=False, generator=None):  # noqa: A002
    """Alpha dropout (keeps SELU activations at mean 0, variance 1) in training; identity otherwise; p = 1: zeros."""
    check_p(p, "alpha_dropout")
    if not training or p == 0 or input.data.size == 0:
        return input
    if p == 1:
        return input * 0.0
    return AlphaDropout.apply(input, p=p, mask_shape=input.shape, generator=generator)


def feature_alpha_dropout(input, p=0.5, training=False, inplace=False, generator=None):  # noqa: A002
    """Alpha dropout of whole channels (dims 2 onward share one mask) of (N, C, ...) input."""
    check_p(p, "feature_alpha_dropout")
    if not training or p == 0 or input.data.size == 0:
        return input
    if p == 1:
        return input * 0.0
    if input.ndim < 2:
        raise ValueError(f"feature_alpha_dropout: expected an input of at least 2 dims (N, C, ...), got {input.shape}")
    mask_shape = input.shape[:2] + (1,) * (input.ndim - 2)
    return AlphaDropout.apply(input, p=p, mask_shape=mask_shape, generator=generator)
