"""Activation functions, each with its closed-form derivative [note 000, note 002]."""
import math

import numpy as np

from .. import runtime
from ..autograd import Function, constant, to_inputs, unbroadcast
from ..dtypes import check_floating, get_default_dtype
from ..random import rng
from .arithmetic import where
from .pointwise import erf_array
from .reduce import normalize_dims


class ReLU(Function):
    """out = max(x, 0);  dx = g·[not x ≤ 0] (derivative 0 at x = 0, as note 000 defines it; a NaN
    passes g on, as in PyTorch). Not x·[x > 0]: that gives −0 for negatives and NaN for −∞ (−∞·0)."""

    def forward(self, x):
        self.mask = ~(x <= 0)
        return np.maximum(x, 0)

    def backward(self, g):
        return (g * self.mask,)

    def backward_graph(self, g):
        return (g * constant(self.mask, g),)


class Sigmoid(Function):
    """out = σ(x) = 1 / (1 + e^(−x));  dx = g·σ(1 − σ). Computed without overflow for large |x|."""

    def forward(self, x):
        e = np.exp(-np.abs(x))
        self.out = np.where(x >= 0, 1 / (1 + e), e / (1 + e))
        return self.out

    def backward(self, g):
        out = self.out
        return (g * out * (1 - out),)

    def backward_graph(self, g):
        s = self.inputs[0].sigmoid()
        return (g * s * (1 - s),)


class Tanh(Function):
    """out = tanh x;  dx = g·(1 − out²)."""

    def forward(self, x):
        self.out = np.tanh(x)
        return self.out

    def backward(self, g):
        out = self.out
        return (g * (1 - out * out),)

    def backward_graph(self, g):
        t = self.inputs[0].tanh()
        return (g * (1 - t * t),)


class LeakyReLU(Function):
    """out = x if x > 0 else slope·x;  dx = g·(1 if x > 0 else slope) [note 000: against dead ReLUs].
    RReLU uses it too, with a random slope per element (an array) in training."""

    def forward(self, x, *, slope):
        self.scale = np.where(x > 0, np.ones((), x.dtype), np.asarray(slope, dtype=x.dtype))
        return x * self.scale

    def backward(self, g):
        return (g * self.scale,)

    def backward_graph(self, g):
        return (g * constant(self.scale, g),)


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

    def backward_graph(self, g):
        x, a = self.inputs
        return to_inputs(self, where(self.pos, g, a * g), where(self.pos, 0.0, g * x))


class ELU(Function):
    """out = x if x > 0 else α(eˣ − 1);  dx = g·(1 if x > 0 else out + α)."""

    def forward(self, x, *, alpha):
        self.pos, self.alpha = x > 0, alpha
        self.out = np.where(self.pos, x, alpha * np.expm1(np.minimum(x, 0)))
        return self.out

    def backward(self, g):
        return (np.where(self.pos, g, g * (self.out + self.alpha)),)

    def backward_graph(self, g):
        negative = self.alpha * self.inputs[0].clamp(max=0).exp()  # out + α; no overflow where x > 0
        return (where(self.pos, g, g * negative),)


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

    def backward_graph(self, g):
        return (where(self.linear, g, g * (self.inputs[0] * self.kwargs["beta"]).sigmoid()),)


class GELU(Function):
    """Exact: out = x·Φ(x), Φ(x) = (1 + erf(x/√2))/2, dx = g·(Φ(x) + x·φ(x)).
    approximate='tanh': out = x/2·(1 + tanh(√(2/π)(x + 0.044715x³)))."""

    def forward(self, x, *, approximate):
        self.x, self.approximate = x, approximate
        if approximate == "tanh":
            self.t = np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x**3))
            return 0.5 * x * (1 + self.t)
        self.cdf = (0.5 * (1 + erf_array(x / math.sqrt(2)))).astype(x.dtype)  # erf vectorized, in float64
        return x * self.cdf

    def backward(self, g):
        x = self.x
        if self.approximate == "tanh":
            t = self.t
            inner = math.sqrt(2 / math.pi) * (1 + 3 * 0.044715 * x * x)
            return (g * (0.5 * (1 + t) + 0.5 * x * (1 - t * t) * inner),)
        pdf = np.exp(-0.5 * x * x) / math.sqrt(2 * math.pi)
        return (g * (self.cdf + x * pdf),)

    def backward_graph(self, g):
        x = self.inputs[0]
        if self.approximate == "tanh":
            t = (math.sqrt(2 / math.pi) * (x + 0.044715 * x**3)).tanh()
            inner = math.sqrt(2 / math.pi) * (1 + 3 * 0.044715 * x * x)
            return (g * (0.5 * (1 + t) + 0.5 * x * (1 - t * t) * inner),)
        cdf = 0.5 * (1 + (x / math.sqrt(2)).erf())
        pdf = (-0.5 * x * x).exp() / math.sqrt(2 * math.pi)
        return (g * (cdf + x * pdf),)


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

    def backward_graph(self, g):
        out = Softmax.apply(self.inputs[0], axis=self.axis)
        return (out * (g - (g * out).sum(self.axis, keepdim=True)),)


class LogSoftmax(Function):
    """out = x − logsumexp(x) along ``axis``;  dx = g − softmax(x)·Σ g."""

    def forward(self, x, *, axis):
        self.axis = axis
        shifted = x - np.max(x, axis=axis, keepdims=True)
        self.out = shifted - np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))
        return self.out

    def backward(self, g):
        return (g - np.exp(self.out) * np.sum(g, axis=self.axis, keepdims=True),)

    def backward_graph(self, g):
        return (g - Softmax.apply(self.inputs[0], axis=self.axis) * g.sum(self.axis, keepdim=True),)


def relu(x):
    """max(x, 0) elementwise [note 000]; the derivative is 1 for x > 0 and 0 otherwise, 0 at x = 0 as torch [note 000:
    ReLU's derivative at 0]. x any shape and dtype; the output has x's shape and dtype."""
    return (ReLU if runtime.reference else fast.ReLU).apply(x)


def _float_input(x):
    """Integer tensors give the default float dtype, as in PyTorch."""
    return x if x.data.dtype.kind == "f" else x.to(get_default_dtype())


def sigmoid(x):
    """σ(x) = 1 / (1 + e^(−x)) elementwise, σ' = σ(1 − σ) ≤ 1/4 [note 002: why gradients vanish]. Integer x gives the
    default float dtype; the output has x's shape."""
    return Sigmoid.apply(_float_input(x))


def tanh(x):
    """tanh x elementwise, tanh' = 1 − tanh² [note 000]. Integer x gives the default float dtype; the output has x's
    shape."""
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


# ----- the pointwise family: out = f(x), dx = g·f'(x) ----------------------------------------------
class Pointwise(Function):
    """Base of the activations applied element by element: ``terms(x, **hyperparameters)`` returns f(x)
    and its derivative f'(x) (both of x's shape); the backward is dx = g·f'(x). Kinks get torch's one-sided
    values (stated in each docstring). ``slope_graph(x, **hyperparameters)`` is f'(x) of the input Tensor
    in recorded ops (for higher derivatives)."""

    def forward(self, x, **hyperparameters):
        out, self.slope = self.terms(x, **hyperparameters)
        return out

    def backward(self, g):
        return ((g * self.slope).astype(g.dtype, copy=False),)  # a bool or float64 slope keeps g's dtype

    def backward_graph(self, g):
        return (g * self.slope_graph(self.inputs[0], **self.kwargs),)


class PiecewiseLinear(Pointwise):
    """A Pointwise activation whose f' is piecewise constant: the saved slope is a constant of the graph
    (f'' = 0 away from the kinks)."""

    def slope_graph(self, x, **hyperparameters):
        return constant(self.slope, x)


def _sigmoid(x):
    """σ(x) = 1/(1 + e^(−x)) without overflow for large |x| (as Sigmoid)."""
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e))


class SiLU(Pointwise):
    """Swish: out = x·σ(x);  f' = σ(x)·(1 + x·(1 − σ(x)))."""

    def terms(self, x):
        s = _sigmoid(x)
        return x * s, s * (1 + x * (1 - s))

    def slope_graph(self, x):
        s = x.sigmoid()
        return s * (1 + x * (1 - s))


class SELU(Pointwise):
    """Self-normalizing ELU: out = λ·x for x > 0, λ·α(eˣ − 1) otherwise, with torch's α ≈ 1.6733 and
    λ ≈ 1.0507 (the fixed point of zero mean and unit variance);  f' = λ for x > 0, λα·eˣ otherwise."""

    ALPHA = 1.6732632423543772848170429916717
    SCALE = 1.0507009873554804934193349852946

    def terms(self, x):
        pos, e = x > 0, np.exp(np.minimum(x, 0))
        return self.SCALE * np.where(pos, x, self.ALPHA * (e - 1)), np.where(pos, self.SCALE, self.SCALE * self.ALPHA * e)

    def slope_graph(self, x):
        e = x.clamp(max=0).exp()  # no overflow where x > 0
        return where(x.data > 0, self.SCALE, self.SCALE * self.ALPHA * e)


class CELU(Pointwise):
    """Continuously differentiable ELU: out = x for x > 0, α(e^(x/α) − 1) otherwise;  f' = 1 or e^(x/α)."""

    def terms(self, x, *, alpha):
        pos, e = x > 0, np.exp(np.minimum(x, 0) / alpha)
        return np.where(pos, x, alpha * (e - 1)), np.where(pos, 1, e)

    def slope_graph(self, x, *, alpha):
        return where(x.data > 0, 1.0, (x.clamp(max=0) / alpha).exp())


class Hardtanh(PiecewiseLinear):
    """out = clip(x, lo, hi);  f' = 1 strictly inside (lo, hi), 0 elsewhere (also at the bounds, as torch).
    ReLU6 is Hardtanh(0, 6)."""

    def terms(self, x, *, lo, hi):
        return np.clip(x, lo, hi).astype(x.dtype, copy=False), (x > lo) & (x < hi)


class Hardsigmoid(PiecewiseLinear):
    """Piecewise-linear σ: out = clip(x/6 + 1/2, 0, 1);  f' = 1/6 strictly inside (−3, 3), else 0."""

    def terms(self, x):
        return np.clip(x / 6 + 0.5, 0, 1), ((x > -3) & (x < 3)) / 6


class Hardswish(Pointwise):
    """out = x·clip(x + 3, 0, 6)/6;  f' = 0 for x ≤ −3, x/3 + 1/2 for −3 < x < 3, 1 for x ≥ 3 (torch's)."""

    def terms(self, x):
        slope = np.where(x <= -3, 0, np.where(x < 3, x / 3 + 0.5, 1))
        return x * np.clip(x + 3, 0, 6) / 6, slope

    def slope_graph(self, x):
        return where(x.data <= -3, 0.0, where(x.data < 3, x / 3 + 0.5, 1.0))


class Mish(Pointwise):
    """out = x·tanh(softplus(x));  f' = t + x·(1 − t²)·σ(x) with t = tanh(softplus(x))."""

    def terms(self, x):
        t = np.tanh(np.maximum(x, 0) + np.log1p(np.exp(-np.abs(x))))
        return x * t, t + x * (1 - t * t) * _sigmoid(x)

    def slope_graph(self, x):
        t = softplus(x).tanh()
        return t + x * (1 - t * t) * x.sigmoid()


class Softsign(Pointwise):
    """out = x/(1 + |x|);  f' = 1/(1 + |x|)²."""

    def terms(self, x):
        d = 1 + np.abs(x)
        return x / d, 1 / (d * d)

    def slope_graph(self, x):
        d = 1 + x.abs()
        return 1 / (d * d)


class LogSigmoid(Pointwise):
    """out = log σ(x) = −softplus(−x), computed stably as −(max(−x, 0) + log(1 + e^(−|x|)));
    f' = 1 − σ(x) = σ(−x)."""

    def terms(self, x):
        return -(np.maximum(-x, 0) + np.log1p(np.exp(-np.abs(x)))), _sigmoid(-x)

    def slope_graph(self, x):
        return (-x).sigmoid()


class Threshold(PiecewiseLinear):
    """out = x where x > threshold, else ``value``;  f' = [x > threshold]."""

    def terms(self, x, *, threshold, value):
        keep = x > threshold
        return np.where(keep, x, np.asarray(value, x.dtype)), keep


class Tanhshrink(Pointwise):
    """out = x − tanh x;  f' = tanh² x."""

    def terms(self, x):
        t = np.tanh(x)
        return x - t, t * t

    def slope_graph(self, x):
        t = x.tanh()
        return t * t


class Softshrink(PiecewiseLinear):
    """out = x − λ for x > λ, x + λ for x < −λ, 0 between;  f' = [|x| > λ]."""

    def terms(self, x, *, lambd):
        outside = np.abs(x) > lambd
        return np.where(outside, x - np.sign(x) * lambd, 0).astype(x.dtype, copy=False), outside


class Hardshrink(PiecewiseLinear):
    """out = x where |x| > λ, else 0;  f' = [|x| > λ]."""

    def terms(self, x, *, lambd):
        outside = np.abs(x) > lambd
        return np.where(outside, x, 0).astype(x.dtype, copy=False), outside


class GLU(Function):
    """Gated linear unit: x split in halves a, b along ``axis``; out = a·σ(b);
    da = g·σ(b), db = g·a·σ(b)(1 − σ(b)) — the two halves of dx."""

    def forward(self, x, *, axis):
        self.axis = axis
        self.a, b = np.split(x, 2, axis=axis)
        self.s = _sigmoid(b)
        return self.a * self.s

    def backward(self, g):
        s = self.s
        return (np.concatenate([g * s, g * self.a * s * (1 - s)], axis=self.axis),)

    def decomposition(self, x, *, axis):
        a, b = x.chunk(2, dim=axis)
        return a * b.sigmoid()


def _real_input(x, op):
    """The activations torch computes for floating-point tensors only: a TypeError for integers."""
    check_floating(x.data.dtype, op, "input", "; convert with .float()")
    return x


def silu(input, inplace=False):  # noqa: A002 - PyTorch's argument name
    """x·σ(x) (swish)."""
    return SiLU.apply(_real_input(input, "silu"))


def selu(input, inplace=False):  # noqa: A002
    """λ·elu(x, α) with torch's constants α ≈ 1.6733, λ ≈ 1.0507."""
    return SELU.apply(_real_input(input, "selu"))


def celu(input, alpha=1.0, inplace=False):  # noqa: A002
    """x for x > 0, α(e^(x/α) − 1) otherwise."""
    if alpha == 0:
        raise ValueError("celu: alpha cannot be 0")
    return CELU.apply(_real_input(input, "celu"), alpha=alpha)


def hardtanh(input, min_val=-1.0, max_val=1.0, inplace=False):  # noqa: A002
    """x clipped to [min_val, max_val] (integer tensors stay integer, as in torch)."""
    if max_val < min_val:
        raise ValueError(f"hardtanh: max_val ({max_val}) must be greater than or equal to min_val ({min_val})")
    return Hardtanh.apply(input, lo=min_val, hi=max_val)


def relu6(input, inplace=False):  # noqa: A002
    """min(max(x, 0), 6) = hardtanh(x, 0, 6)."""
    return Hardtanh.apply(input, lo=0, hi=6)


def hardsigmoid(input, inplace=False):  # noqa: A002
    """clip(x/6 + 1/2, 0, 1)."""
    return Hardsigmoid.apply(_real_input(input, "hardsigmoid"))


def hardswish(input, inplace=False):  # noqa: A002
    """x·hardsigmoid(x) (MobileNetV3)."""
    return Hardswish.apply(_real_input(input, "hardswish"))


def mish(input, inplace=False):  # noqa: A002
    """x·tanh(softplus(x))."""
    return Mish.apply(_real_input(input, "mish"))


def softsign(input):  # noqa: A002
    """x/(1 + |x|); integer tensors give the default float dtype."""
    return Softsign.apply(_float_input(input))


def logsigmoid(input):  # noqa: A002
    """log σ(x), stable for large |x|."""
    return LogSigmoid.apply(_real_input(input, "logsigmoid"))


def threshold(input, threshold, value, inplace=False):  # noqa: A002
    """x where x > threshold, else value."""
    return Threshold.apply(input, threshold=threshold, value=value)


def tanhshrink(input):  # noqa: A002
    """x − tanh x; integer tensors give the default float dtype."""
    return Tanhshrink.apply(_float_input(input))


def _check_lambd(lambd, op):
    if lambd < 0:
        raise ValueError(f"{op}: lambd must be non-negative, got {lambd}")


def softshrink(input, lambd=0.5):  # noqa: A002
    """Shrink toward 0 by λ: x − λ·sign(x) where |x| > λ, else 0."""
    _check_lambd(lambd, "softshrink")
    return Softshrink.apply(_real_input(input, "softshrink"), lambd=lambd)


def hardshrink(input, lambd=0.5):  # noqa: A002
    """x where |x| > λ, else 0."""
    _check_lambd(lambd, "hardshrink")
    return Hardshrink.apply(_real_input(input, "hardshrink"), lambd=lambd)


def softmin(input, dim=None, _stacklevel=3, dtype=None):  # noqa: A002
    """softmax(−x) along ``dim`` (``dtype``: cast the input first, as torch)."""
    if dtype is not None:
        input = input.to(dtype)
    return Softmax.apply(-input, axis=_softmax_axis(input, dim, "softmin"))


def glu(input, dim=-1):  # noqa: A002
    """a·σ(b) for the halves a, b of ``input`` along ``dim`` (whose size must be even)."""
    op = "glu"
    if input.ndim == 0:
        raise ValueError(f"{op}: a 0-d input cannot be halved")
    check_floating(input.data.dtype, op, "input")
    axis = normalize_dims(dim, input.shape, op)[0]
    if input.shape[axis] % 2:
        raise ValueError(f"{op}: halving dimension must be even, but dimension {dim} of input {input.shape} "
                         f"is size {input.shape[axis]}")
    return GLU.apply(input, axis=axis)


from ..kernels import activation as fast  # noqa: E402 - the fast kernels subclass the ops above
