"""Activation functions, each with its closed-form derivative [note 000, note 002]."""
import math

import numpy as np

from .. import runtime
from ..autograd import Function, unbroadcast
from ..random import rng
from ..dtypes import check_floating, get_default_dtype
from .reduce import normalize_dims


class ReLU(Function):
    """out = max(x, 0);  dx = g·[not x ≤ 0] (derivative 0 at x = 0, as note 000 defines it; a NaN
    passes g on, as in PyTorch). Not x·[x > 0]: that gives −0 for negatives and NaN for −∞ (−∞·0)."""

    def forward(self, x):
        self.mask = ~(x <= 0)
        return np.maximum(x, 0)

    def backward(self, g):
        return (g * self.mask,)


class Sigmoid(Function):
    """out = σ(x) = 1 / (1 + e^(−x));  dx = g·σ(1 − σ). Computed without overflow for large |x|."""

    def forward(self, x):
        e = np.exp(-np.abs(x))
        self.out = np.where(x >= 0, 1 / (1 + e), e / (1 + e))
        return self.out

    def backward(self, g):
        out = self.out
        return (g * out * (1 - out),)


class Tanh(Function):
    """out = tanh x;  dx = g·(1 − out²)."""

    def forward(self, x):
        self.out = np.tanh(x)
        return self.out

    def backward(self, g):
        out = self.out
        return (g * (1 - out * out),)


class LeakyReLU(Function):
    """out = x if x > 0 else slope·x;  dx = g·(1 if x > 0 else slope) [note 000: against dead ReLUs].
    RReLU uses it too, with a random slope per element (an array) in training."""

    def forward(self, x, *, slope):
        self.scale = np.where(x > 0, np.ones((), x.dtype), np.asarray(slope, dtype=x.dtype))
        return x * self.scale

    def backward(self, g):
        return (g * self.scale,)


class PReLU(Function):
    """out = x if x > 0 else a·x with a learnable slope a (one, or one per channel, broadcast);
    dx = g·(1 if x > 0 else a), da = Σ g·x over x ≤ 0."""

    def forward(self, x, a):
        self.x, self.a, self.pos = x, a, x > 0
        return np.where(self.pos, x, a * x)

    def backward(self, g):
        gx = np.where(self.pos, g, self.a * g) if self.needs[0] else None
        ga = unbroadcast(np.where(self.pos, 0, g * self.x), self.a.shape) if self.needs[1] else None
        return gx, ga


class ELU(Function):
    """out = x if x > 0 else α(eˣ − 1);  dx = g·(1 if x > 0 else out + α)."""

    def forward(self, x, *, alpha):
        self.pos, self.alpha = x > 0, alpha
        self.out = np.where(self.pos, x, alpha * np.expm1(np.minimum(x, 0)))
        return self.out

    def backward(self, g):
        return (np.where(self.pos, g, g * (self.out + self.alpha)),)


class Softplus(Function):
    """out = log(1 + e^(βx))/β, linear where βx > threshold;  dx = g·σ(βx) (1 above the threshold)."""

    def forward(self, x, *, beta, threshold):
        bx = beta * x
        self.linear = bx > threshold
        e = np.exp(-np.abs(bx))  # σ(βx) without overflow for large |βx|, as Sigmoid
        self.sig = np.where(bx >= 0, 1 / (1 + e), e / (1 + e))
        return np.where(self.linear, x, (np.maximum(bx, 0) + np.log1p(e)) / beta)

    def backward(self, g):
        return (np.where(self.linear, g, g * self.sig),)


_erf = np.frompyfunc(math.erf, 1, 1)


class GELU(Function):
    """Exact: out = x·Φ(x), Φ(x) = (1 + erf(x/√2))/2, dx = g·(Φ(x) + x·φ(x)).
    approximate='tanh': out = x/2·(1 + tanh(√(2/π)(x + 0.044715x³)))."""

    def forward(self, x, *, approximate):
        self.x, self.approximate = x, approximate
        if approximate == "tanh":
            self.t = np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x**3))
            return 0.5 * x * (1 + self.t)
        # np.asarray: on a 0-d input the ufunc returns a Python float, not an array
        self.cdf = (0.5 * (1 + np.asarray(_erf(x / math.sqrt(2)), dtype=np.float64))).astype(x.dtype)
        return x * self.cdf

    def backward(self, g):
        x = self.x
        if self.approximate == "tanh":
            t = self.t
            inner = math.sqrt(2 / math.pi) * (1 + 3 * 0.044715 * x * x)
            return (g * (0.5 * (1 + t) + 0.5 * x * (1 - t * t) * inner),)
        pdf = np.exp(-0.5 * x * x) / math.sqrt(2 * math.pi)
        return (g * (self.cdf + x * pdf),)


class Softmax(Function):
    """out = e^(x − max) / Σ e^(x − max) along ``axis``;  dx = out·(g − Σ g·out)."""

    def forward(self, x, *, axis):
        self.axis = axis
        e = np.exp(x - np.max(x, axis=axis, keepdims=True))
        self.out = e / np.sum(e, axis=axis, keepdims=True)
        return self.out

    def backward(self, g):
        out = self.out
        return (out * (g - np.sum(g * out, axis=self.axis, keepdims=True)),)


class LogSoftmax(Function):
    """out = x − logsumexp(x) along ``axis``;  dx = g − softmax(x)·Σ g."""

    def forward(self, x, *, axis):
        self.axis = axis
        shifted = x - np.max(x, axis=axis, keepdims=True)
        self.out = shifted - np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))
        return self.out

    def backward(self, g):
        return (g - np.exp(self.out) * np.sum(g, axis=self.axis, keepdims=True),)


def relu(x):
    return (ReLU if runtime.reference else fast.ReLU).apply(x)


def _float_input(x):
    """Integer tensors give the default float dtype, as in PyTorch."""
    return x if x.data.dtype.kind == "f" else x.to(get_default_dtype())


def sigmoid(x):
    return Sigmoid.apply(_float_input(x))


def tanh(x):
    return Tanh.apply(_float_input(x))


def _softmax_axis(x, dim, op):
    if not isinstance(dim, int):
        raise TypeError(f"{op}: dim must be an int, got {dim!r}")
    check_floating(x.data.dtype, op, "input", "; convert with .float()")  # as torch, unlike sigmoid and tanh
    return normalize_dims(dim, x.shape, op)[0] if x.ndim else None


def softmax(x, dim):
    """Softmax along ``dim`` (stable: the max is subtracted first)."""
    return Softmax.apply(x, axis=_softmax_axis(x, dim, "softmax"))


def log_softmax(x, dim):
    """log(softmax(x)) along ``dim``, computed as x − logsumexp(x) without forming softmax."""
    return LogSoftmax.apply(x, axis=_softmax_axis(x, dim, "log_softmax"))


def leaky_relu(x, negative_slope=0.01):
    """x for x > 0, negative_slope·x otherwise."""
    return LeakyReLU.apply(_float_input(x), slope=negative_slope)


def prelu(x, weight):
    """Leaky ReLU with a learnable slope: ``weight`` of 1 element, or one per channel (dim 1; dim 0 for 1-D input)."""
    n = weight.data.size
    channels = x.shape[1] if x.ndim >= 2 else (x.shape[0] if x.ndim == 1 else 1)
    if weight.ndim != 1 or n not in (1, channels):
        raise ValueError(f"prelu: weight must have 1 or {channels} elements (the channels of input {x.shape}), "
                         f"got shape {weight.shape}")
    if x.ndim == 0:
        weight = weight.reshape(())  # one slope; a 0-d input stays 0-d, as in torch
    elif n > 1 and x.ndim >= 2:
        weight = weight.reshape((1, n) + (1,) * (x.ndim - 2))
    return PReLU.apply(x, weight)


def rrelu(x, lower=1.0 / 8, upper=1.0 / 3, training=False, generator=None):
    """Randomized leaky ReLU: in training each negative element gets a slope ~ U(lower, upper);
    in evaluation the mean slope (lower + upper)/2."""
    if not 0 <= lower <= upper:
        raise ValueError(f"rrelu: expected 0 <= lower <= upper, got lower={lower}, upper={upper}")
    x = _float_input(x)
    if not training:
        return LeakyReLU.apply(x, slope=(lower + upper) / 2)
    slope = rng(generator).uniform(lower, upper, x.shape).astype(x.dtype)
    return LeakyReLU.apply(x, slope=slope)


def elu(x, alpha=1.0):
    """x for x > 0, α(eˣ − 1) otherwise."""
    return ELU.apply(_float_input(x), alpha=alpha)


def softplus(x, beta=1.0, threshold=20.0):
    """Smooth ReLU: log(1 + e^(βx))/β (x itself where βx > threshold, for stability)."""
    return Softplus.apply(_float_input(x), beta=beta, threshold=threshold)


def gelu(x, approximate="none"):
    """Gaussian error linear unit x·Φ(x) (``approximate='tanh'``: the tanh approximation)."""
    if approximate not in ("none", "tanh"):
        raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")
    return GELU.apply(_float_input(x), approximate=approximate)


from ..kernels import activation as fast  # noqa: E402 - the fast kernels subclass the ops above
