"""Cumulative ops along one dim: cumsum cumprod cummax cummin logcumsumexp.

Each output entry j sees the inputs 0..j along ``dim``, so input i's gradient collects the output
gradients j ≥ i: a cumulative sum run backwards. A 0-d tensor is treated as one element along dim 0.

For higher derivatives, cumprod's and logcumsumexp's gradients are recorded through an n×n table per
row (n = the length along ``dim``): entry (i, j) is output j's share in input i's gradient.
"""
import numpy as np

from ..autograd import Function, constant
from ..dtypes import check_floating, int64, to_dtype
from ..tensor import Tensor
from .arithmetic import where
from .index import Gather
from .reduce import MaxMin, normalize_dims


def reverse_cumsum(g, axis):
    """Σ_{j ≥ i} g_j along ``axis``: the adjoint of a cumulative sum."""
    return np.flip(np.cumsum(np.flip(g, axis), axis=axis), axis)


class Cumsum(Function):
    """out_j = Σ_{i ≤ j} a_i along ``axis``;  da_i = Σ_{j ≥ i} g_j. ``reverse``: out_j = Σ_{i ≥ j} a_i,
    the adjoint (so each is the other's backward)."""

    def forward(self, a, *, axis, reverse=False):
        self.axis, self.reverse = axis, reverse
        return reverse_cumsum(a, axis) if reverse else np.cumsum(a, axis=axis)

    def backward(self, g):
        return (np.cumsum(g, axis=self.axis) if self.reverse else reverse_cumsum(g, self.axis),)

    def backward_graph(self, g):
        return (Cumsum.apply(g, axis=self.axis, reverse=not self.reverse),)


class Cumprod(Function):
    """out_j = Π_{i ≤ j} a_i along ``axis``;
    da_i = Σ_{j ≥ i} g_j · Π_{k ≤ j, k ≠ i} a_k = (Π_{k < i} a_k) · S_i,  with S_i = g_i + a_{i+1}·S_{i+1}
    (S_{n-1} = g_{n-1}): no division by a_i, so the gradient is exact where the input has zeros."""

    def forward(self, a, *, axis):
        self.a, self.axis = a, axis
        return np.cumprod(a, axis=axis)

    def backward(self, g):
        a, g = np.moveaxis(self.a, self.axis, -1), np.moveaxis(g, self.axis, -1)
        n = a.shape[-1]
        before = np.concatenate([np.ones_like(a[..., :1]), np.cumprod(a[..., :-1], axis=-1)], axis=-1)
        s = np.empty_like(g)
        for i in range(n - 1, -1, -1):  # S_i = g_i + a_{i+1}·S_{i+1}, from the end
            s[..., i] = g[..., i] if i == n - 1 else g[..., i] + a[..., i + 1] * s[..., i + 1]
        return (np.moveaxis(before * s, -1, self.axis),)

    def backward_graph(self, g):
        """Row i of the table is the running product of a with a_i replaced by 1: entry (i, j) is
        Π_{k ≤ j, k ≠ i} a_k, kept where j ≥ i — exact where a has zeros."""
        a, g = self.inputs[0].movedim(self.axis, -1), g.movedim(self.axis, -1)
        n = a.shape[-1]
        rows = where(np.eye(n, dtype=bool), 1.0, a.unsqueeze(-2))  # (..., i, k)
        products = Cumprod.apply(rows, axis=rows.ndim - 1) * constant(np.triu(np.ones((n, n))), a)
        return ((products * g.unsqueeze(-2)).sum(-1).movedim(-1, self.axis),)


class CumExtremum(Function):
    """(values, indices): values_j = max (or min) of a_0..a_j along ``axis``, indices_j where it is — the
    last position among ties, and a NaN once one is seen (as torch). da_i = Σ_{j: indices_j = i} g_j."""

    def forward(self, a, *, axis, largest):
        self.shape, self.axis = a.shape, axis
        values = (np.maximum if largest else np.minimum).accumulate(a, axis=axis)
        # a position is the running extremum's own index when it equals it (or is a NaN): carry the
        # latest such position forward
        shape = [1] * a.ndim
        shape[axis] = a.shape[axis]
        position = np.arange(a.shape[axis]).reshape(shape)
        own = (a == values) | (np.isnan(a) if a.dtype.kind == "f" else False)
        self.idx = np.maximum.accumulate(np.where(own, position, 0), axis=axis).astype(np.int64)
        return values, self.idx

    def decomposition(self, a, *, axis, largest):
        return Gather.apply(a, index=self.idx, axis=axis), Tensor(self.idx)  # values: a read at the indices

    def backward(self, g, g_indices):
        gx = np.zeros(self.shape, dtype=g.dtype)
        full = np.indices(self.shape, sparse=True)
        full = full[: self.axis] + (self.idx,) + full[self.axis + 1:]
        np.add.at(gx, full, g)
        return (gx,)


class LogCumSumExp(Function):
    """out_j = log Σ_{i ≤ j} exp(a_i), computed as a running ``logaddexp`` (stable);
    da_i = Σ_{j ≥ i} g_j · exp(a_i − out_j). The sum is taken in log space, separately over the positive
    and the negative g_j (as torch), so neither exp(a_i) nor exp(−out_j) can overflow."""

    def forward(self, a, *, axis):
        self.a, self.axis = a, axis
        self.out = np.logaddexp.accumulate(a, axis=axis)
        return self.out

    def backward(self, g):
        axis = self.axis

        def log_reverse_sum(w):  # log Σ_{j ≥ i} w_j · exp(−out_j), for w ≥ 0
            with np.errstate(divide="ignore", invalid="ignore"):
                terms = np.where(w > 0, np.log(w) - self.out, -np.inf)
            return np.flip(np.logaddexp.accumulate(np.flip(terms, axis), axis=axis), axis)

        # where a leading run of inputs is −inf, out is −inf and a_i − out_j is undefined: NaN, as torch
        with np.errstate(invalid="ignore"):
            positive = np.exp(self.a + log_reverse_sum(np.maximum(g, 0)))
            negative = np.exp(self.a + log_reverse_sum(np.maximum(-g, 0)))
        return (positive - negative,)

    def backward_graph(self, g):
        """Entry (i, j) of the table is exp(a_i − out_j) where j ≥ i (≤ 1 there, as out_j ≥ a_i: no
        overflow), 0 elsewhere."""
        a, g = self.inputs[0].movedim(self.axis, -1), g.movedim(self.axis, -1)
        out = LogCumSumExp.apply(a, axis=a.ndim - 1)
        n = a.shape[-1]
        exponent = where(np.triu(np.ones((n, n), dtype=bool)), a.unsqueeze(-1) - out.unsqueeze(-2), -np.inf)
        return ((exponent.exp() * g.unsqueeze(-2)).sum(-1).movedim(-1, self.axis),)


def _axis(x, dim, op):
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}: expected a Tensor as input, got {type(x).__name__}")
    if not isinstance(dim, (int, np.integer)) or isinstance(dim, bool):
        raise TypeError(f"{op}: dim must be an int, got {dim!r}")
    (axis,) = normalize_dims(dim, x.shape, op) or (0,)
    return axis


def _along(op, x, axis, **kwargs):
    """Run ``op`` along ``axis``; a 0-d tensor runs as one element (its result reshaped back)."""
    if x.ndim:
        return op.apply(x, axis=axis, **kwargs)
    out = op.apply(x.reshape(1), axis=0, **kwargs)
    return tuple(o.reshape(()) for o in out) if isinstance(out, tuple) else out.reshape(())


def _accumulator(x, dtype):
    """The dtype a running sum or product is kept in: ``dtype`` if given, int64 for integer and bool
    inputs (as torch), else the input's."""
    if dtype is not None:
        return x.to(to_dtype(dtype))
    return x.to(int64) if x.data.dtype.kind in "biu" else x


def cumsum(input, dim, *, dtype=None):
    """Running sum along ``dim``: out[..., j, ...] = Σ_{i ≤ j} input[..., i, ...]; same shape."""
    axis = _axis(input, dim, "cumsum")
    return _along(Cumsum, _accumulator(input, dtype), axis)


def cumprod(input, dim, *, dtype=None):
    """Running product along ``dim``; its gradient is exact where the input holds zeros."""
    axis = _axis(input, dim, "cumprod")
    return _along(Cumprod, _accumulator(input, dtype), axis)


def cummax(input, dim):
    """(values, indices): the running maximum along ``dim`` and where it was reached (the latest of
    ties; NaN propagates)."""
    axis = _axis(input, dim, "cummax")
    return MaxMin(*_along(CumExtremum, input, axis, largest=True))


def cummin(input, dim):
    """(values, indices): the running minimum along ``dim`` and where it was reached (the latest of
    ties; NaN propagates)."""
    axis = _axis(input, dim, "cummin")
    return MaxMin(*_along(CumExtremum, input, axis, largest=False))


def logcumsumexp(input, dim):
    """out_j = log Σ_{i ≤ j} exp(input_i) along ``dim`` (floating-point inputs only, as torch)."""
    axis = _axis(input, dim, "logcumsumexp")
    check_floating(input.data.dtype, "logcumsumexp", "input")
    return _along(LogCumSumExp, input, axis)

