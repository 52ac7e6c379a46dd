"""Activation functions, each with its closed-form derivative [note 000, note 002]."""
import numpy as np

from ..autograd import Function
from ..dtypes import get_default_dtype
from .reduce import normalize_dims


class ReLU(Function):
    """out = max(x, 0);  dx = g·[x > 0] (derivative 0 at x = 0, as note 000 defines it).
    Not x·[x > 0]: that gives −0 for negatives and NaN for −∞ (−∞·0)."""

    def forward(self, x):
        self.mask = x > 0
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


class Softmax(Function):
    """out = e^(x − max) / Σ e^(x − max) along ``axis``;  dx = out·(g − Σ g·out)."""

    def forward(self, x, axis):
        self.axis = axis
        e = np.exp(x - np.max(x, axis=axis, keepdims=True))
        self.out = e / np.sum(e, axis=axis, keepdims=True)
        return self.out

    def backward(self, g):
        out = self.out
        return out * (g - np.sum(g * out, axis=self.axis, keepdims=True)), None


class LogSoftmax(Function):
    """out = x − logsumexp(x) along ``axis``;  dx = g − softmax(x)·Σ g."""

    def forward(self, x, axis):
        self.axis = axis
        shifted = x - np.max(x, axis=axis, keepdims=True)
        self.out = shifted - np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))
        return self.out

    def backward(self, g):
        return g - np.exp(self.out) * np.sum(g, axis=self.axis, keepdims=True), None


def relu(x):
    return ReLU.apply(x)


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
    return normalize_dims(dim, x.shape, op)[0] if x.ndim else None


def softmax(x, dim):
    """Softmax along ``dim`` (stable: the max is subtracted first)."""
    return Softmax.apply(x, _softmax_axis(x, dim, "softmax"))


def log_softmax(x, dim):
    """log(softmax(x)) along ``dim``, computed as x − logsumexp(x) without forming softmax."""
    return LogSoftmax.apply(x, _softmax_axis(x, dim, "log_softmax"))
