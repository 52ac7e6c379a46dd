"""Reductions over dims: sum mean nansum nanmean prod max min amax amin aminmax var std var_mean std_mean
logsumexp argmax argmin all any count_nonzero; the norms (torch.norm, linalg.vector_norm, matrix_norm,
norm); and the comparisons that reduce to one answer: isclose allclose equal.

``dim`` is an int, a tuple of ints or None (all dims) — ``axis`` is accepted as another name for it,
as in torch; ``keepdim`` keeps reduced dims as size 1. The backward broadcasts the output gradient
back over the reduced dims.
"""
import builtins
import math
from collections import namedtuple

import numpy as np

from ..autograd import Function, constant
from ..dtypes import check_floating, get_default_dtype, int64, to_dtype, uint8
from ..tensor import Tensor
from . import linalg
from .arithmetic import maximum, minimum, where

MaxMin = namedtuple("MaxMin", ["values", "indices"])  # what max/min over one dim return, as torch
MinMax = namedtuple("MinMax", ["min", "max"])  # what aminmax returns, as torch.return_types.aminmax


def normalize_dims(dim, shape, op):
    """``dim`` (None, int or tuple) → a sorted tuple of non-negative axes; IndexError if out of range.
    None and the empty tuple both mean every dim, as in PyTorch (``x.sum(dim=())`` is a full sum).
    ``shape`` is the input's shape (or just its ndim), for the error message."""
    ndim = shape if isinstance(shape, int) else len(shape)
    dims = (dim,) if isinstance(dim, (int, np.integer)) else () if dim is None else tuple(dim)
    if not dims:
        return tuple(range(ndim))
    out = []
    span = builtins.max(ndim, 1)
    for d in dims:
        if not -span <= d < span:
            where = "" if isinstance(shape, int) else f" of shape {tuple(shape)}"
            raise IndexError(f"{op}: dim {d} out of range for a tensor with {ndim} dims{where}")
        out.append(int(d) % span)
    if len(set(out)) != len(out):
        raise ValueError(f"{op}: dim {dim} names a dim more than once")
    return tuple(sorted(out)) if ndim else ()


def dim_or_axis(dim, axis, op):
    """torch takes NumPy's ``axis=`` as another name for ``dim=``: whichever of the two was given."""
    if axis is None:
        return dim
    if dim is not None:
        raise TypeError(f"{op}: got both dim={dim!r} and axis={axis!r}; axis is another name for dim, pass one")
    return axis


def _expand_back(g, axes, keepdim):
    """Reshape a reduced gradient so it broadcasts against the input of ``shape``."""
    if not keepdim and axes:
        g = np.expand_dims(g, axes)
    return g


def spread(g, shape, axes):
    """A reduced gradient Tensor ``g`` back over the reduced dims: reshaped with each of ``axes`` kept as
    size 1, then broadcast to ``shape`` (the Tensor-level ``_expand_back``, for ``backward_graph``)."""
    kept = tuple(1 if i in axes else n for i, n in enumerate(shape))
    return g.reshape(kept).expand(*shape) if kept else g.reshape(shape)


def unreduce(g, shape, axes):
    """A reduced gradient Tensor ``g`` with each of ``axes`` kept as size 1, so that it broadcasts against
    an input of ``shape`` (``spread`` without the expand, for a product with a full-size factor)."""
    return g.reshape(tuple(1 if i in axes else n for i, n in enumerate(shape)))


def _share(mask, axes):
    """1/count at the True entries of ``mask``, count being their number in each slice over ``axes``; 0 elsewhere:
    how an extremum's gradient is shared among ties."""
    count = mask.sum(axis=axes, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(mask, 1 / count, 0)


class Sum(Function):
    """out = Σ_dims a;  da = broadcast(g)."""

    def forward(self, a, *, axes, keepdim):
        self.shape, self.axes, self.keepdim = a.shape, axes, keepdim
        return np.sum(a, axis=axes, keepdims=keepdim)

    def backward(self, g):
        return (np.broadcast_to(_expand_back(g, self.axes, self.keepdim), self.shape),)

    def backward_graph(self, g):
        return (spread(g, self.shape, self.axes),)


class Mean(Function):
    """out = Σ_dims a / n;  da = broadcast(g) / n."""

    def forward(self, a, *, axes, keepdim):
        self.shape, self.axes, self.keepdim = a.shape, axes, keepdim
        self.n = math.prod(a.shape[i] for i in axes) if a.ndim else 1
        return np.mean(a, axis=axes, keepdims=keepdim)

    def backward(self, g):
        g = _expand_back(g, self.axes, self.keepdim) / self.n
        return (np.broadcast_to(g, self.shape),)

    def backward_graph(self, g):
        return (spread(g / self.n, self.shape, self.axes),)


class ExtremumEven(Function):
    """out = max (or min) over dims; the gradient is shared equally among tied extrema (torch.amax)."""

    def forward(self, a, *, axes, keepdim, largest):
        self.a, self.axes, self.keepdim = a, axes, keepdim
        self.out = np.max(a, axis=axes, keepdims=True) if largest else np.min(a, axis=axes, keepdims=True)
        return self.out if keepdim else np.squeeze(self.out, axis=axes)

    def backward(self, g):
        mask = self.a == self.out
        count = mask.sum(axis=self.axes, keepdims=True)
        g = _expand_back(g, self.axes, self.keepdim)
        return (np.where(mask, g / count, 0).astype(self.a.dtype, copy=False),)

    def backward_graph(self, g):
        return (unreduce(g, self.a.shape, self.axes) * constant(_share(self.a == self.out, self.axes), g),)


class ExtremumAlongDim(Function):
    """(values, indices) = max (or min) along one dim and where it is (the first, among ties); the whole
    gradient of values goes to that index (indices, integers, have none)."""

    def forward(self, a, *, axis, keepdim, largest):
        self.shape, self.axis, self.keepdim = a.shape, axis, keepdim
        idx = np.argmax(a, axis=axis, keepdims=True) if largest else np.argmin(a, axis=axis, keepdims=True)
        self.idx = idx
        values = np.take_along_axis(a, idx, axis=axis)
        if not keepdim:
            values, idx = np.squeeze(values, axis=axis), np.squeeze(idx, axis=axis)
        return values, idx.astype(np.int64, copy=False)

    def backward(self, g, g_indices):
        gx = np.zeros(self.shape, dtype=g.dtype)
        g = g if self.keepdim else np.expand_dims(g, self.axis)
        np.put_along_axis(gx, self.idx, g, axis=self.axis)
        return (gx,)

    def backward_graph(self, g, g_indices):
        picked = np.zeros(self.shape, dtype=g.data.dtype)
        np.put_along_axis(picked, self.idx, 1, axis=self.axis)
        return (unreduce(g, self.shape, (self.axis,)) * picked,)


class Var(Function):
    """out = Σ (a − mean)² / (n − correction);  da = 2·g·(a − mean) / (n − correction)."""

    def forward(self, a, *, axes, keepdim, correction):
        self.shape, self.axes, self.keepdim = a.shape, axes, keepdim
        n = math.prod(a.shape[i] for i in axes) if a.ndim else 1
        self.denom = builtins.max(n - correction, 0)
        self.centered = a - np.mean(a, axis=axes, keepdims=True)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.sum(self.centered * self.centered, axis=axes, keepdims=keepdim) / self.denom

    def backward(self, g):
        g = _expand_back(g, self.axes, self.keepdim)
        with np.errstate(divide="ignore", invalid="ignore"):
            return (g * (2 / self.denom if self.denom else np.inf) * self.centered,)

    def backward_graph(self, g):
        a = self.inputs[0]
        centered = a - Mean.apply(a, axes=self.axes, keepdim=True)
        return (unreduce(g, self.shape, self.axes) * (2 / self.denom if self.denom else math.inf) * centered,)


class Std(Var):
    """out = √var;  da = g·(a − mean) / ((n − correction)·out), and 0 where out = 0 (PyTorch's choice
    at the kink, instead of the ∞·0 = NaN that composing var and √ gives)."""

    def forward(self, a, *, axes, keepdim, correction):
        self.out = np.sqrt(super().forward(a, axes=axes, keepdim=keepdim, correction=correction))
        return self.out

    def backward(self, g):
        with np.errstate(divide="ignore", invalid="ignore"):
            g = np.where(self.out == 0, 0, g / (2 * self.out))
        return super().backward(g)

    def backward_graph(self, g):
        zero = self.out == 0
        out = Std.apply(self.inputs[0], **self.kwargs)
        return super().backward_graph(where(zero, 0.0, g / (2 * where(zero, 1.0, out))))


class Prod(Function):
    """out = Π a along one axis (or all);  da_i = g · Π_{j≠i} a_j (exact with zeros: prefix·suffix products)."""

    def forward(self, a, *, axis, keepdim):
        self.a, self.axis, self.keepdim = a, axis, keepdim
        if axis is None:
            return np.prod(a)
        return np.prod(a, axis=axis, keepdims=keepdim)

    def backward(self, g):
        a, axis = self.a, self.axis
        if a.size == 0:  # an empty product is the constant 1
            return (np.zeros_like(a),)
        flat = a.reshape(-1) if axis is None else np.moveaxis(a, axis, -1)
        ones = np.ones(flat.shape[:-1] + (1,), dtype=a.dtype)
        before = np.concatenate([ones, np.cumprod(flat[..., :-1], axis=-1)], axis=-1)
        after = np.flip(np.concatenate([ones, np.cumprod(np.flip(flat, -1)[..., :-1], axis=-1)], axis=-1), -1)
        others = before * after
        if axis is None:
            return (g * others.reshape(a.shape),)
        others = np.moveaxis(others, -1, axis)
        g = g if self.keepdim else np.expand_dims(g, axis)
        return (g * others,)

    def backward_graph(self, g):
        a, axis = self.inputs[0], self.axis
        axes = tuple(range(a.ndim)) if axis is None else (axis,)
        if not (self.a == 0).any():  # Π_{j≠i} a_j = out / a_i
            return (unreduce(g * Prod.apply(a, **self.kwargs), a.shape, axes) / a,)
        # with zeros: row i of an (n, n) grid is the slice with a_i replaced by 1, and its product is Π_{j≠i} a_j
        flat = a.reshape(-1) if axis is None else a.movedim(axis, -1)
        n = flat.shape[-1]
        grid = where(np.eye(n, dtype=bool), 1.0, flat.unsqueeze(-2).expand(*flat.shape[:-1], n, n))
        others = Prod.apply(grid, axis=grid.ndim - 1, keepdim=False)
        others = others.reshape(a.shape) if axis is None else others.movedim(-1, axis)
        return (unreduce(g, a.shape, axes) * others,)


class LogSumExp(Function):
    """out = log Σ exp(a) over dims, computed stably;  da = g · softmax(a)."""

    def forward(self, a, *, axes, keepdim):
        self.a, self.axes, self.keepdim = a, axes, keepdim
        m = np.max(a, axis=axes, keepdims=True)
        m = np.where(np.isfinite(m), m, 0)
        with np.errstate(divide="ignore"):  # a slice of only −∞: log 0 = −∞
            self.out = np.log(np.sum(np.exp(a - m), axis=axes, keepdims=True)) + m
        return self.out if keepdim else np.squeeze(self.out, axis=axes)

    def backward(self, g):
        g = _expand_back(g, self.axes, self.keepdim)
        return (g * np.exp(self.a - self.out),)

    def backward_graph(self, g):
        a = self.inputs[0]
        out = LogSumExp.apply(a, axes=self.axes, keepdim=True)
        return (unreduce(g, a.shape, self.axes) * (a - out).exp(),)


class NanMean(Function):
    """out = Σ_kept a / n_kept over dims, where kept are the entries that are not NaN (NaN if none is);
    da = g / n_kept at the kept entries, 0 at the NaNs."""

    def forward(self, a, *, axes, keepdim):
        self.kept, self.axes, self.keepdim = ~np.isnan(a), axes, keepdim
        self.count = np.sum(self.kept, axis=axes, keepdims=True).astype(a.dtype)
        with np.errstate(invalid="ignore"):  # 0 / 0 for a slice of only NaNs
            out = np.sum(np.where(self.kept, a, 0), axis=axes, keepdims=True) / self.count
        return out if keepdim else np.squeeze(out, axis=axes)

    def backward(self, g):
        g = _expand_back(g, self.axes, self.keepdim)
        with np.errstate(divide="ignore"):  # count is 0 only in slices with nothing kept, where 0 is taken
            return (np.where(self.kept, g / self.count, 0),)

    def backward_graph(self, g):
        return (unreduce(g, self.kept.shape, self.axes) * constant(_share(self.kept, self.axes), g),)


class VectorNorm(Function):
    """out = ‖a‖_p over dims = (Σ |a|^p)^(1/p); p = ∞: max |a|, p = −∞: min |a|, p = 0: the number of
    non-zero entries.
    da = g · sgn(a)·|a|^(p−1) / out^(p−1)  (p = 2: g·a/out; p = 1: g·sgn(a)), with torch's values where
    that is 0/0: 0 where out = 0 (the subgradient 0 at the origin) and, for p < 1, 0 where a = 0;
    p = ±∞: g·sgn(a) shared equally among the entries where |a| = out; p = 0: 0 (a count is flat)."""

    def forward(self, a, *, ord, axes, keepdim):  # noqa: A002 - torch's argument name
        self.a, self.ord, self.axes, self.keepdim = a, ord, axes, keepdim
        magnitude = np.abs(a)
        if ord == math.inf:
            out = np.max(magnitude, axis=axes, keepdims=True)
        elif ord == -math.inf:
            out = np.min(magnitude, axis=axes, keepdims=True)
        elif ord == 0:
            out = np.sum(a != 0, axis=axes, keepdims=True).astype(a.dtype)
        else:
            with np.errstate(divide="ignore"):  # p < 0 and a zero entry: 0^p = ∞, so the norm is 0
                out = np.sum(magnitude**ord, axis=axes, keepdims=True) ** (1 / ord)
        self.out = out
        return out if keepdim else np.squeeze(out, axis=axes)

    def backward(self, g):
        a, p, out = self.a, self.ord, self.out
        g = _expand_back(g, self.axes, self.keepdim)
        if p == 0:
            return (np.zeros_like(a),)
        if math.isinf(p):
            reached = (np.abs(a) == out) | np.isnan(a)
            return (np.sign(a) * reached * (g / reached.sum(axis=self.axes, keepdims=True)),)
        with np.errstate(divide="ignore", invalid="ignore"):
            slope = np.where(a == 0, 0, np.sign(a) * np.abs(a) ** (p - 1))
            scale = np.where(out == 0, 0, g / out ** (p - 1))
        return (slope * scale,)

    def backward_graph(self, g):
        """torch's formula for each p, so that its derivatives agree (NaN at zero entries for fractional p too);
        where the norm is 0 the masked gradient's derivatives are 0 (torch's are NaN)."""
        a, p = self.inputs[0], self.ord
        g = unreduce(g, a.shape, self.axes)
        if p == 0:  # a count: flat, as torch (whose gradient there has no graph either)
            return (Tensor(np.zeros(a.shape, dtype=g.data.dtype)),)
        sign = constant(np.sign(self.a), g)
        if math.isinf(p):
            reached = (np.abs(self.a) == self.out) | np.isnan(self.a)
            return (g * sign * constant(_share(reached, self.axes), g),)
        if p == 1:
            return (g * sign,)
        norm = VectorNorm.apply(a, ord=p, axes=self.axes, keepdim=True)
        if p < 1:
            nonzero = self.a != 0
            return (sign * (where(nonzero, a, 1.0).abs() ** (p - 1) * constant(nonzero, g)) * g * norm ** (1 - p),)
        zero = self.out == 0
        out = where(zero, 1.0, norm)
        if p == 2:
            return (g * where(zero, 0.0, a / out),)
        slope = sign * a.abs() ** (p - 1) if p < 2 else a * a.abs() ** (p - 2)
        return (slope * where(zero, 0.0, g / out ** (p - 1)),)


class MatrixNormBySVD(Function):
    """The norms of the matrices in dims (row, col) that their singular values σ give: ord = 2: σ_max,
    −2: σ_min, 'nuc': Σσ.  With A = U diag(σ) Vᵀ, dσ_i = u_iᵀ dA v_i, so dA = U diag(g·w) Vᵀ where w_i
    = ∂out/∂σ_i: 1 for 'nuc', and for ±2 1/count on the σ equal to the extreme (shared among ties)."""

    def forward(self, a, *, ord, dims, keepdim):  # noqa: A002 - torch's argument name
        self.dims, self.keepdim = dims, keepdim
        stacked = np.moveaxis(a, dims, (-2, -1))  # (..., rows, cols)
        u, s, vh = np.linalg.svd(stacked, full_matrices=False)
        if ord == "nuc" or not s.shape[-1]:  # a matrix with no entries has no σ: its norms are 0 (as torch)
            out = np.sum(s, axis=-1)
            weights = np.ones_like(s)
        else:
            out = np.max(s, axis=-1) if ord == 2 else np.min(s, axis=-1)
            reached = s == out[..., None]
            weights = reached / reached.sum(axis=-1, keepdims=True)
        self.u, self.weights, self.vh = u, weights, vh
        return np.expand_dims(out, dims) if keepdim else out

    def backward(self, g):
        g = np.squeeze(g, self.dims) if self.keepdim else g
        scaled = g[..., None] * self.weights  # (..., k): g·∂out/∂σ_i
        grad = (self.u * scaled[..., None, :]) @ self.vh
        return (np.moveaxis(grad, (-2, -1), self.dims),)

    def decomposition(self, a, *, ord, dims, keepdim):
        s = linalg.svdvals(a.movedim(dims, (-2, -1)))
        if ord == "nuc" or not s.shape[-1]:
            out = s.sum(-1)
        else:
            out = ExtremumEven.apply(s, axes=(s.ndim - 1,), keepdim=False, largest=ord == 2)
        if keepdim:
            shape = list(out.shape)
            for d in sorted(dims):
                shape.insert(d, 1)
            out = out.reshape(tuple(shape))
        return out


def _check(x, op, name=None):
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}: expected a Tensor{f' as {name}' if name else ''}, got {type(x).__name__}")


def _float(x):
    return x if x.data.dtype.kind == "f" else x.to(get_default_dtype())


def sum(x, dim=None, keepdim=False, *, dtype=None, axis=None):  # noqa: A001 - torch.sum
    """Σ over ``dim``; integer and bool tensors sum to int64 (as torch), ``dtype=`` casts first."""
    _check(x, "sum")
    dim = dim_or_axis(dim, axis, "sum")
    if dtype is not None:
        x = x.to(dtype)
    elif x.data.dtype.kind in "bui":
        x = x.to(int64)
    return Sum.apply(x, axes=normalize_dims(dim, x.shape, "sum"), keepdim=keepdim)


def mean(x, dim=None, keepdim=False, *, dtype=None, axis=None):
    """Σ / n over ``dim``; floating-point input only, unless ``dtype=`` casts it first."""
    _check(x, "mean")
    dim = dim_or_axis(dim, axis, "mean")
    if dtype is not None:
        x = x.to(dtype)
    elif x.data.dtype.kind != "f":
        raise TypeError(f"mean: input dtype should be floating point, got {x.dtype}; pass dtype=")
    return Mean.apply(x, axes=normalize_dims(dim, x.shape, "mean"), keepdim=keepdim)


def nansum(x, dim=None, keepdim=False, *, dtype=None, axis=None):
    """Σ over ``dim`` of the entries that are not NaN — sum(where(isnan(x), 0, x)), so the gradient is g,
    and 0 at the NaNs. Integer and bool tensors (never NaN) sum to int64, as in ``sum``."""
    _check(x, "nansum")
    dim = dim_or_axis(dim, axis, "nansum")
    if dtype is not None:
        x = x.to(dtype)
    if x.data.dtype.kind == "f":
        x = where(Tensor(np.isnan(x.data)), 0.0, x)
    return sum(x, dim, keepdim)


def nanmean(x, dim=None, keepdim=False, *, dtype=None, axis=None):
    """The mean over ``dim`` of the entries that are not NaN (NaN where a slice holds only NaNs); the
    gradient is 0 at the NaNs. Floating-point input only."""
    _check(x, "nanmean")
    dim = dim_or_axis(dim, axis, "nanmean")
    check_floating(x.dtype, "nanmean", "input")
    if dtype is not None:
        x = x.to(dtype)
    return NanMean.apply(x, axes=normalize_dims(dim, x.shape, "nanmean"), keepdim=keepdim)


def _extremum(x, dim, keepdim, largest):
    op = "max" if largest else "min"
    _check(x, op)
    if x.data.size == 0:
        raise ValueError(f"{op}: cannot reduce an empty tensor of shape {x.shape}")
    if dim is None:
        return ExtremumEven.apply(x, axes=normalize_dims(None, x.ndim, op), keepdim=False, largest=largest)
    (axis,) = normalize_dims(dim, x.shape, op) if x.ndim else (0,)
    if x.ndim == 0:
        return MaxMin(x, Tensor(np.zeros((), dtype=np.int64)))
    return MaxMin(*ExtremumAlongDim.apply(x, axis=axis, keepdim=keepdim, largest=largest))


def max(x, dim=None, keepdim=False, *, axis=None):  # noqa: A001 - torch.max
    """max over all elements (gradient shared among ties), ``(values, indices)`` along ``dim``, or, given
    a tensor ``max(x, other)``, the elementwise maximum (as torch)."""
    if isinstance(dim, Tensor):
        return maximum(x, dim)
    return _extremum(x, dim_or_axis(dim, axis, "max"), keepdim, True)


def min(x, dim=None, keepdim=False, *, axis=None):  # noqa: A001 - torch.min
    """min over all elements (gradient shared among ties), ``(values, indices)`` along ``dim``, or, given
    a tensor ``min(x, other)``, the elementwise minimum (as torch)."""
    if isinstance(dim, Tensor):
        return minimum(x, dim)
    return _extremum(x, dim_or_axis(dim, axis, "min"), keepdim, False)


def _nonempty_axes(x, dim, op):
    """The axes of ``dim``, checked: a max or min of zero elements has no value (IndexError, as torch)."""
    axes = normalize_dims(dim, x.shape, op)
    if x.ndim and 0 in (x.shape[i] for i in axes):
        raise IndexError(f"{op}: cannot reduce over dim(s) {axes} of the input of shape {x.shape}: they hold zero "
                         "elements, and a max or min of nothing has no value")
    return axes


def amax(x, dim=None, keepdim=False, *, axis=None):
    """max over ``dim`` (all dims for None or ()); the gradient is shared equally among tied maxima."""
    _check(x, "amax")
    axes = _nonempty_axes(x, dim_or_axis(dim, axis, "amax"), "amax")
    return ExtremumEven.apply(x, axes=axes, keepdim=keepdim, largest=True)


def amin(x, dim=None, keepdim=False, *, axis=None):
    """min over ``dim`` (all dims for None or ()); the gradient is shared equally among tied minima."""
    _check(x, "amin")
    axes = _nonempty_axes(x, dim_or_axis(dim, axis, "amin"), "amin")
    return ExtremumEven.apply(x, axes=axes, keepdim=keepdim, largest=False)


def aminmax(x, *, dim=None, keepdim=False, axis=None):
    """``(min, max)`` over one dim or all of them: amin and amax at once, each gradient shared among ties."""
    _check(x, "aminmax")
    dim = dim_or_axis(dim, axis, "aminmax")
    if dim is not None and not isinstance(dim, (int, np.integer)):
        raise TypeError(f"aminmax: dim must be an int or None (one dim at a time, as torch), got {dim!r}")
    axes = _nonempty_axes(x, dim, "aminmax")
    return MinMax(ExtremumEven.apply(x, axes=axes, keepdim=keepdim, largest=False),
                  ExtremumEven.apply(x, axes=axes, keepdim=keepdim, largest=True))


def _correction(dim, unbiased, correction, op):
    """torch's three spellings of the divisor n − correction: ``correction=`` (default 1), the older
    ``unbiased=`` (True → 1, False → 0), and ``op(x, False)`` — a bool where ``dim`` goes is ``unbiased``.
    Returns (dim, correction)."""
    if isinstance(dim, bool):
        if unbiased is not None:
            raise TypeError(f"{op}: got unbiased twice (a bool where dim goes is unbiased)")
        dim, unbiased = None, dim
    if unbiased is not None and correction is not None:
        raise TypeError(f"{op}: pass either unbiased or correction, not both")
    if correction is None:
        correction = 1 if unbiased is None or unbiased else 0
    return dim, correction


def var(x, dim=None, unbiased=None, keepdim=False, *, correction=None, axis=None):
    """Variance with Bessel's correction by default (``correction=1``; ``unbiased=False`` → 0)."""
    _check(x, "var")
    dim, correction = _correction(dim_or_axis(dim, axis, "var"), unbiased, correction, "var")
    return Var.apply(_float(x), axes=normalize_dims(dim, x.shape, "var"), keepdim=keepdim, correction=correction)


def std(x, dim=None, unbiased=None, keepdim=False, *, correction=None, axis=None):
    """Standard deviation: √var (gradient 0 where it is 0)."""
    _check(x, "std")
    dim, correction = _correction(dim_or_axis(dim, axis, "std"), unbiased, correction, "std")
    return Std.apply(_float(x), axes=normalize_dims(dim, x.shape, "std"), keepdim=keepdim, correction=correction)


def var_mean(x, dim=None, unbiased=None, keepdim=False, *, correction=None, axis=None):
    """``(var, mean)`` over the same dims, both differentiable (the gradients of the two add up)."""
    _check(x, "var_mean")
    check_floating(x.dtype, "var_mean", "input")
    dim, correction = _correction(dim_or_axis(dim, axis, "var_mean"), unbiased, correction, "var_mean")
    return var(x, dim, keepdim=keepdim, correction=correction), mean(x, dim, keepdim)


def std_mean(x, dim=None, unbiased=None, keepdim=False, *, correction=None, axis=None):
    """``(std, mean)`` over the same dims, both differentiable (the gradients of the two add up)."""
    _check(x, "std_mean")
    check_floating(x.dtype, "std_mean", "input")
    dim, correction = _correction(dim_or_axis(dim, axis, "std_mean"), unbiased, correction, "std_mean")
    return std(x, dim, keepdim=keepdim, correction=correction), mean(x, dim, keepdim)


def prod(x, dim=None, keepdim=False, *, dtype=None, axis=None):
    """Π over one dim (or all); integer and bool tensors multiply in int64 (as torch), ``dtype=`` casts
    first. The gradient is exact with zeros in the input (no division by x)."""
    _check(x, "prod")
    dim = dim_or_axis(dim, axis, "prod")
    if dim is not None and not isinstance(dim, (int, np.integer)):
        raise TypeError(f"prod: dim must be an int or None (one dim at a time, as torch), got {dim!r}")
    if dtype is not None:
        x = x.to(dtype)
    elif x.data.dtype.kind in "bui":
        x = x.to(int64)
    axes = () if dim is None else normalize_dims(dim, x.shape, "prod")  # () for a 0-d tensor: itself
    return Prod.apply(x, axis=axes[0] if axes else None, keepdim=keepdim)


def logsumexp(x, dim=None, keepdim=False, *, axis=None):
    """log Σ exp(x) over ``dim`` (required, as in torch), computed stably; integers give the default float."""
    _check(x, "logsumexp")
    dim = dim_or_axis(dim, axis, "logsumexp")
    if dim is None:
        raise TypeError("logsumexp: missing dim (an int or a tuple of ints), as torch requires one")
    return LogSumExp.apply(_float(x), axes=normalize_dims(dim, x.shape, "logsumexp"), keepdim=keepdim)


def _index_of(x, dim, keepdim, op, find):
    """argmax / argmin (``find``: np.argmax / np.argmin); over the flattened tensor when ``dim`` is None.
    Reducing zero elements has no index: IndexError, as in torch."""
    _check(x, op)
    if dim is None:
        if x.data.size == 0:
            raise IndexError(f"{op}: the input of shape {x.shape} is empty, so there is no index to return; "
                             "pass dim= to reduce along a non-empty dim")
        return Tensor(np.asarray(find(x.data), dtype=np.int64).reshape((1,) * x.ndim if keepdim else ()))
    (axis,) = normalize_dims(dim, x.shape, op) or (None,)  # () for a 0-d tensor: index 0
    if axis is not None and x.shape[axis] == 0:
        raise IndexError(f"{op}: dim {dim} of the input of shape {x.shape} has size 0, so there is no index to return")
    return Tensor(find(x.data, axis=axis, keepdims=keepdim).astype(np.int64, copy=False))


def argmax(x, dim=None, keepdim=False, *, axis=None):
    """Index of the (first) maximum; over the flattened tensor when ``dim`` is None. Not differentiable."""
    return _index_of(x, dim_or_axis(dim, axis, "argmax"), keepdim, "argmax", np.argmax)


def argmin(x, dim=None, keepdim=False, *, axis=None):
    """Index of the (first) minimum; over the flattened tensor when ``dim`` is None. Not differentiable."""
    return _index_of(x, dim_or_axis(dim, axis, "argmin"), keepdim, "argmin", np.argmin)


# ----- truth and counting (not differentiable) --------------------------------------------------------
def _truth(x, dim, keepdim, op, test):
    """all / any (``test``: np.all / np.any) over ``dim``: bool, or uint8 for a uint8 input (as torch).
    Unlike the other reductions, torch reads ``dim=()`` here as no dim at all: each entry's truth."""
    _check(x, op)
    axes = () if isinstance(dim, (tuple, list)) and not dim else normalize_dims(dim, x.shape, op)
    out = test(x.data, axis=axes, keepdims=keepdim)
    return Tensor(np.asarray(out, dtype=uint8 if x.dtype == uint8 else bool))


def all(x, dim=None, keepdim=False, *, axis=None):  # noqa: A001 - torch.all
    """Are all entries (over ``dim``) non-zero? True over zero entries."""
    return _truth(x, dim_or_axis(dim, axis, "all"), keepdim, "all", np.all)


def any(x, dim=None, keepdim=False, *, axis=None):  # noqa: A001 - torch.any
    """Is any entry (over ``dim``) non-zero? False over zero entries."""
    return _truth(x, dim_or_axis(dim, axis, "any"), keepdim, "any", np.any)


def count_nonzero(x, dim=None, *, axis=None):
    """The number of non-zero entries over ``dim`` (all dims for None), as int64."""
    _check(x, "count_nonzero")
    axes = normalize_dims(dim_or_axis(dim, axis, "count_nonzero"), x.shape, "count_nonzero")
    return Tensor(np.asarray(np.sum(x.data != 0, axis=axes), dtype=np.int64))


# ----- norms -----------------------------------------------------------------------------------------
def _norm_input(x, dtype, op):
    """A norm's input: floating point only (as torch); ``dtype=`` computes in that float dtype, which may
    widen the input but not narrow it."""
    _check(x, op)
    check_floating(x.dtype, op, "input")
    if dtype is None:
        return x
    dtype = to_dtype(dtype)
    if dtype.kind != "f":
        raise TypeError(f"{op}: dtype must be a floating-point dtype, got {dtype}")
    if dtype.itemsize < x.dtype.itemsize:
        raise TypeError(f"{op}: the input's dtype {x.dtype} can't be narrowed to dtype={dtype}; pass a wider "
                        "dtype or convert the input first")
    return x.to(dtype)


def vector_norm(x, ord=2, dim=None, keepdim=False, *, dtype=None, axis=None):  # noqa: A002 - torch's name
    """‖x‖_ord over ``dim`` (all entries for None), x read as one vector per slice: (Σ |x|^ord)^(1/ord);
    ord = inf: max |x|, -inf: min |x|, 0: the count of non-zeros (torch.linalg.vector_norm)."""
    x = _norm_input(x, dtype, "vector_norm")
    if isinstance(ord, str) or not isinstance(ord, (int, float, np.integer, np.floating)):
        raise TypeError(f"vector_norm: ord must be a number (inf, -inf, 0 or any float), got {ord!r}; "
                        "'fro' and 'nuc' are matrix norms: use matrix_norm")
    axes = normalize_dims(dim_or_axis(dim, axis, "vector_norm"), x.shape, "vector_norm")
    if ord == -math.inf or ord == math.inf:
        axes = _nonempty_axes(x, axes, "vector_norm")
    return VectorNorm.apply(x, ord=float(ord), axes=axes, keepdim=keepdim)


MATRIX_ORDS = ("fro", "nuc", 1, -1, 2, -2, math.inf, -math.inf)


def matrix_norm(x, ord="fro", dim=(-2, -1), keepdim=False, *, dtype=None, axis=None):  # noqa: A002
    """The norm of each matrix in dims ``dim`` = (rows, cols) (torch.linalg.matrix_norm):
    'fro': √(Σ a²); 'nuc': Σ σ; 2 / -2: the largest / smallest singular value σ;
    1 / -1: the max / min over columns of Σ_rows |a|; inf / -inf: the max / min over rows of Σ_cols |a|."""
    x = _norm_input(x, dtype, "matrix_norm")
    if axis is not None:
        if tuple(dim) != (-2, -1):
            raise TypeError(f"matrix_norm: got both dim={dim!r} and axis={axis!r}; axis is another name for dim, "
                            "pass one")
        dim = axis
    if x.ndim < 2:
        raise ValueError(f"matrix_norm: the input must have at least 2 dims (…, rows, cols), got shape {x.shape}")
    if ord not in MATRIX_ORDS:
        raise ValueError(f"matrix_norm: ord must be one of 'fro', 'nuc', 1, -1, 2, -2, inf, -inf, got {ord!r}")
    if isinstance(dim, (int, np.integer)) or len(dim) != 2:
        raise ValueError(f"matrix_norm: dim must be a pair of dims (rows, cols), got {dim!r}")
    rows, cols = (normalize_dims(d, x.shape, "matrix_norm")[0] for d in dim)
    if rows == cols:
        raise ValueError(f"matrix_norm: dim {tuple(dim)} names the same dim twice; rows and cols must differ")
    if ord == "fro":
        return vector_norm(x, 2, (rows, cols), keepdim)
    if ord == -2 and 0 in (x.shape[rows], x.shape[cols]):
        raise IndexError(f"matrix_norm: the matrices in dims {(rows, cols)} of the input of shape {x.shape} have no "
                         "entries, so no smallest singular value (ord=-2)")
    if ord in ("nuc", 2, -2):
        return MatrixNormBySVD.apply(x, ord=ord, dims=(rows, cols), keepdim=keepdim)
    if ord in (math.inf, -math.inf):  # the inf norm is the 1 norm of the transpose
        rows, cols = cols, rows
    if x.shape[cols] == 0 and ord < 0:
        raise IndexError(f"matrix_norm: ord={ord} is a min over dim {cols}, which has size 0 in the input of "
                         f"shape {x.shape}")
    column_sums = vector_norm(x, 1, rows, keepdim)
    if not keepdim and rows < cols:  # the dim before cols is gone
        cols -= 1
    if ord < 0:
        return amin(column_sums, cols, keepdim)
    # the max of no column sums is 0, as torch (they are all >= 0): a sum over the empty dim keeps it in the graph
    return amax(column_sums, cols, keepdim) if column_sums.shape[cols] else sum(column_sums, cols, keepdim)


def linalg_norm(x, ord=None, dim=None, keepdim=False, *, dtype=None, axis=None):  # noqa: A002
    """torch.linalg.norm: a vector norm over one dim (or all, with ord None) and a matrix norm over two.
    ord None: the 2-norm of the vector, the Frobenius norm of the matrix. Given ord and no dim, the input
    must be 1-D (a vector) or 2-D (a matrix)."""
    _check(x, "norm")
    dim = dim_or_axis(dim, axis, "norm")
    if dim is not None:
        dim = (dim,) if isinstance(dim, (int, np.integer)) else tuple(dim)
        if len(dim) not in (1, 2):
            raise ValueError(f"norm: dim must be one dim (a vector norm) or two (a matrix norm), got {dim!r}")
    if ord is None:
        return vector_norm(x, 2, dim, keepdim, dtype=dtype)
    if dim is None:
        if x.ndim not in (1, 2):
            raise ValueError(f"norm: given ord and no dim, the input must be 1-D or 2-D, got shape {x.shape}; "
                             "pass dim=")
        dim = tuple(range(x.ndim))
    if len(dim) == 1:
        return vector_norm(x, ord, dim, keepdim, dtype=dtype)
    return matrix_norm(x, ord, dim, keepdim, dtype=dtype)


def norm(x, p="fro", dim=None, keepdim=False, dtype=None):
    """torch.norm (the older spelling): p a number → vector_norm(x, p, dim) (all entries for dim None; p
    None → 2); p = 'fro' → the 2-norm of the entries over dim (at most two dims); p = 'nuc' → the nuclear
    norm of the matrix in the two dims ``dim`` (all dims, so a 2-D input, for None)."""
    _check(x, "norm")
    if isinstance(p, str):
        if p == "fro" and (dim is None or isinstance(dim, (int, np.integer)) or len(dim) <= 2):
            return vector_norm(x, 2, dim, keepdim, dtype=dtype)
        return matrix_norm(x, p, tuple(range(x.ndim)) if dim is None else dim, keepdim, dtype=dtype)
    return vector_norm(x, 2 if p is None else p, dim, keepdim, dtype=dtype)


# ----- closeness -------------------------------------------------------------------------------------
def isclose(x, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    """Entrywise |x − other| ≤ atol + rtol·|other| (broadcast), where both are finite; infinities are
    close only to themselves, NaN to NaN only with ``equal_nan``. Both tensors must have one dtype."""
    _check(x, "isclose")
    _check(other, "isclose", "other")
    if x.dtype != other.dtype:
        raise TypeError(f"isclose: input and other must have the same dtype, got {x.dtype} and {other.dtype}")
    if rtol < 0 or atol < 0:
        raise ValueError(f"isclose: rtol and atol must be >= 0, got rtol={rtol} and atol={atol}")
    try:
        np.broadcast_shapes(x.shape, other.shape)
    except ValueError:
        raise ValueError(f"isclose: shapes {x.shape} and {other.shape} are not broadcastable") from None
    a, b = x.data, other.data
    if a.dtype.kind != "f":  # integers and bools: compare their values as floats
        a, b = a.astype(np.float64), b.astype(np.float64)
    with np.errstate(invalid="ignore", over="ignore"):
        difference = np.abs(a - b)
        close = (a == b) | (np.isfinite(difference) & (difference <= atol + rtol * np.abs(b)))
    if equal_nan:
        close |= np.isnan(a) & np.isnan(b)
    return Tensor(close)


def allclose(x, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    """Are all entries close (``isclose``)? A Python bool."""
    return builtins.bool(np.all(isclose(x, other, rtol, atol, equal_nan).data))


def equal(x, other):
    """Same shape and the same values (NaN equals nothing)? A Python bool; the dtypes may differ."""
    _check(x, "equal")
    _check(other, "equal", "other")
    return x.shape == other.shape and builtins.bool(np.array_equal(x.data, other.data))
