"""Layers' ops of no larger family: the bilinear form, channel shuffle, local response normalization."""
import numpy as np

from ..autograd import Function
from ..dtypes import check_floating
from ..tensor import Tensor
from .linalg import einsum
from .padding import Pad


class Bilinear(Function):
    """y_k = x₁ᵀ A_k x₂ + b_k for x₁ (..., in1), x₂ (..., in2), A (out, in1, in2), b (out,):
    dx₁ = Σ_k g_k·A_k x₂,  dx₂ = Σ_k g_k·A_kᵀ x₁,  dA_k = Σ over the batch of g_k·x₁ x₂ᵀ,  db = Σ g."""

    def forward(self, x1, x2, weight, bias):
        self.x1, self.x2, self.weight = x1, x2, weight
        y = np.einsum("...i,kij,...j->...k", x1, weight, x2)
        return y if bias is None else y + bias

    def backward(self, g):
        x1, x2, w = self.x1, self.x2, self.weight
        gx1 = np.einsum("...k,kij,...j->...i", g, w, x2) if self.needs[0] else None
        gx2 = np.einsum("...k,kij,...i->...j", g, w, x1) if self.needs[1] else None
        rows = (lambda a: a.reshape(-1, a.shape[-1]))  # the batch dims flattened, to be summed over
        gw = np.einsum("nk,ni,nj->kij", rows(g), rows(x1), rows(x2)) if self.needs[2] else None
        gb = g.reshape(-1, g.shape[-1]).sum(axis=0) if self.needs[3] else None
        return gx1, gx2, gw, gb

    def backward_graph(self, g):
        x1, x2, w, _ = self.inputs
        gx1 = einsum("...k,kij,...j->...i", g, w, x2) if self.needs[0] else None
        gx2 = einsum("...k,kij,...i->...j", g, w, x1) if self.needs[1] else None
        rows = (lambda a: a.reshape(-1, a.shape[-1]))
        gw = einsum("nk,ni,nj->kij", rows(g), rows(x1), rows(x2)) if self.needs[2] else None
        gb = rows(g).sum(0) if self.needs[3] else None
        return gx1, gx2, gw, gb


def bilinear(input1, input2, weight, bias=None):
    """y = x₁ᵀ A x₂ + b per output feature: input1 (..., in1), input2 (..., in2) with the same leading dims,
    weight (out, in1, in2), bias (out,) → (..., out)."""
    op = "bilinear"
    for name, t in (("input1", input1), ("input2", input2), ("weight", weight)):
        if not isinstance(t, Tensor):
            raise TypeError(f"{op}: {name} must be a Tensor, got {type(t).__name__}")
        check_floating(t.data.dtype, op, name)
    if weight.ndim != 3 or input1.shape[:-1] != input2.shape[:-1] or input1.ndim == 0 or \
            (input1.shape[-1], input2.shape[-1]) != weight.shape[1:]:
        raise ValueError(f"{op}: expected input1 (..., in1), input2 (..., in2) with the same leading dims and weight "
                         f"(out, in1, in2), got {input1.shape}, {input2.shape} and weight {weight.shape}")
    if bias is not None and bias.shape != weight.shape[:1]:
        raise ValueError(f"{op}: bias must have shape ({weight.shape[0]},), got {bias.shape}")
    return Bilinear.apply(input1, input2, weight, bias)


def channel_shuffle(input, groups):
    """ShuffleNet's channel shuffle of (N, C, *): the C channels seen as a (groups, C/groups) grid are
    transposed, so that the next grouped convolution mixes channels of every group."""
    op = "channel_shuffle"
    if input.ndim < 3:
        raise ValueError(f"{op}: expected an input of at least 3 dims (N, C, *), got shape {input.shape}")
    if groups <= 0:
        raise ValueError(f"{op}: groups must be positive, got {groups}")
    n, c = input.shape[:2]
    if c % groups:
        raise ValueError(f"{op}: the number of channels {c} must be divisible by groups={groups}")
    rest = input.shape[2:]
    return input.reshape(n, groups, c // groups, *rest).transpose(1, 2).reshape(n, c, *rest)


def _window_sum(a, before, after):
    """Σ of a over the channel window [c − before, c + after] (axis 1, zero beyond the ends), by prefix sums."""
    pad = [(0, 0)] * a.ndim
    pad[1] = (before + 1, after)
    csum = np.cumsum(np.pad(a, pad), axis=1)
    c = a.shape[1]
    return np.take(csum, np.arange(before + after + 1, before + after + 1 + c), axis=1) - \
        np.take(csum, np.arange(c), axis=1)


class LocalResponseNorm(Function):
    """AlexNet's normalization across channels [note 001]: out_c = x_c / d_c^β with
    d_c = k + (α/n)·Σ_{c' ∈ W(c)} x_c'², W(c) = [c − ⌊n/2⌋, c + ⌊(n − 1)/2⌋] (zero beyond the ends);
    dx_j = g_j·d_j^(−β) − (2αβ/n)·x_j·Σ_{c: j ∈ W(c)} g_c·x_c·d_c^(−β−1)."""

    def forward(self, x, *, size, alpha, beta, k):
        self.before, self.after = size // 2, (size - 1) // 2
        self.x, self.coef, self.beta = x, alpha / size, beta
        self.d = k + self.coef * _window_sum(x * x, self.before, self.after)
        self.scale = self.d**-beta
        return x * self.scale

    def backward(self, g):
        x = self.x
        inner = g * x * self.scale / self.d  # g_c·x_c·d_c^(−β−1)
        # c with j in W(c): c ∈ [j − after, j + before] — the window mirrored
        spread = _window_sum(inner, self.after, self.before)
        return (g * self.scale - 2 * self.coef * self.beta * x * spread,)

    def decomposition(self, x, *, size, alpha, beta, k):
        channels, squares = x.shape[1], x * x
        window = 0.0  # Σ_{c' ∈ W(c)} x_c'²: the squares shifted by each offset of the window (zeros beyond the ends)
        for offset in range(max(-(size // 2), 1 - channels), min((size - 1) // 2, channels - 1) + 1):
            widths = [(0, 0)] * x.ndim
            widths[1] = (-offset, offset)  # out_c = squares_{c+offset}
            window = window + Pad.apply(squares, widths=tuple(widths), value=0)
        return x * (k + alpha / size * window) ** -beta


def local_response_norm(input, size, alpha=1e-4, beta=0.75, k=1.0):
    """Local response normalization over ``size`` neighbouring channels of (N, C, *) (at least 3 dims)."""
    op = "local_response_norm"
    if input.ndim < 3:
        raise ValueError(f"{op}: expected an input of 3 or more dims (N, C, *), got {input.ndim} dims")
    if size <= 0:
        raise ValueError(f"{op}: size must be positive, got {size}")
    check_floating(input.data.dtype, op, "input")
    if input.data.size == 0:
        return input
    return LocalResponseNorm.apply(input, size=size, alpha=alpha, beta=beta, k=k)
