"""Reductions over dims: sum mean max min amax amin var std prod logsumexp argmax argmin.

``dim`` is an int, a tuple of ints or None (all dims); ``keepdim`` keeps reduced dims as size 1.
The backward broadcasts the output gradient back over the reduced dims.
"""
import builtins
from collections import namedtuple

import math

import numpy as np

from ..autograd import Function
from ..dtypes import get_default_dtype, int64
from ..tensor import Tensor
from .arithmetic import maximum, minimum

MaxMin = namedtuple("MaxMin", ["values", "indices"])  # what max/min over one dim return, as torch


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


def _expand_back(g, axes, keepdim):
    """Reshape a reduced gradient so it broadcasts against the input of ``shape``."""
    if not keepdim and axes:
        g = np.expand_dims(g, axes)
    return g


class Sum(Function):
    """out = Σ_dims a;  da = broadcast(g)."""

    def forward(self, a, *, axes, keepdim):
        self.shape, self.axes, self.keepdim = a.shape, axes, keepdim
        return np.sum(a, axis=axes, keepdims=keepdim)

    def backward(self, g):
        return (np.broadcast_to(_expand_back(g, self.axes, self.keepdim), self.shape),)


class Mean(Function):
    """out = Σ_dims a / n;  da = broadcast(g) / n."""

    def forward(self, a, *, axes, keepdim):
        self.shape, self.axes, self.keepdim = a.shape, axes, keepdim
        self.n = math.prod(a.shape[i] for i in axes) if a.ndim else 1
        return np.mean(a, axis=axes, keepdims=keepdim)

    def backward(self, g):
        g = _expand_back(g, self.axes, self.keepdim) / self.n
        return (np.broadcast_to(g, self.shape),)


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


class Var(Function):
    """out = Σ (a − mean)² / (n − correction);  da = 2·g·(a − mean) / (n − correction)."""

    def forward(self, a, *, axes, keepdim, correction):
        self.axes, self.keepdim = axes, keepdim
        n = math.prod(a.shape[i] for i in axes) if a.ndim else 1
        self.denom = builtins.max(n - correction, 0)
        self.centered = a - np.mean(a, axis=axes, keepdims=True)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.sum(self.centered * self.centered, axis=axes, keepdims=keepdim) / self.denom

    def backward(self, g):
        g = _expand_back(g, self.axes, self.keepdim)
        with np.errstate(divide="ignore", invalid="ignore"):
            return (g * (2 / self.denom if self.denom else np.inf) * self.centered,)


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


class Prod(Function):
    """out = Π a along one axis (or all);  da_i = g · Π_{j≠i} a_j (exact with zeros: prefix·suffix products)."""

    def forward(self, a, *, axis, keepdim):
        self.a, self.axis, self.keepdim = a, axis, keepdim
        if axis is None:
            return np.prod(a)
        return np.prod(a, axis=axis, keepdims=keepdim)

    def backward(self, g):
        a, axis = self.a, self.axis
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


class LogSumExp(Function):
    """out = log Σ exp(a) over dims, computed stably;  da = g · softmax(a)."""

    def forward(self, a, *, axes, keepdim):
        self.a, self.axes, self.keepdim = a, axes, keepdim
        m = np.max(a, axis=axes, keepdims=True)
        m = np.where(np.isfinite(m), m, 0)
        self.out = np.log(np.sum(np.exp(a - m), axis=axes, keepdims=True)) + m
        return self.out if keepdim else np.squeeze(self.out, axis=axes)

    def backward(self, g):
        g = _expand_back(g, self.axes, self.keepdim)
        return (g * np.exp(self.a - self.out),)


def _check(x, op):
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}: expected a Tensor, got {type(x).__name__}")


def _float(x):
    return x if x.data.dtype.kind == "f" else x.to(get_default_dtype())


def sum(x, dim=None, keepdim=False, *, dtype=None):  # noqa: A001 - torch.sum
    _check(x, "sum")
    if dtype is not None:
        x = x.to(dtype)
    elif x.data.dtype.kind in "bui":
        x = x.to(int64)
    return Sum.apply(x, axes=normalize_dims(dim, x.shape, "sum"), keepdim=keepdim)


def mean(x, dim=None, keepdim=False, *, dtype=None):
    _check(x, "mean")
    if dtype is not None:
        x = x.to(dtype)
    elif x.data.dtype.kind != "f":
        raise TypeError(f"mean: input dtype should be floating point, got {x.dtype}; pass dtype=")
    return Mean.apply(x, axes=normalize_dims(dim, x.shape, "mean"), keepdim=keepdim)


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


def max(x, dim=None, keepdim=False):  # noqa: A001 - torch.max
    """max over all elements (gradient shared among ties), ``(values, indices)`` along ``dim``, or, given
    a tensor ``max(x, other)``, the elementwise maximum (as torch)."""
    if isinstance(dim, Tensor):
        return maximum(x, dim)
    return _extremum(x, dim, keepdim, True)


def min(x, dim=None, keepdim=False):  # noqa: A001 - torch.min
    """min over all elements (gradient shared among ties), ``(values, indices)`` along ``dim``, or, given
    a tensor ``min(x, other)``, the elementwise minimum (as torch)."""
    if isinstance(dim, Tensor):
        return minimum(x, dim)
    return _extremum(x, dim, keepdim, False)


def amax(x, dim=None, keepdim=False):
    _check(x, "amax")
    return ExtremumEven.apply(x, axes=normalize_dims(dim, x.shape, "amax"), keepdim=keepdim, largest=True)


def amin(x, dim=None, keepdim=False):
    _check(x, "amin")
    return ExtremumEven.apply(x, axes=normalize_dims(dim, x.shape, "amin"), keepdim=keepdim, largest=False)


def var(x, dim=None, unbiased=True, keepdim=False, *, correction=None):
    """Variance with Bessel's correction by default (``correction=1``; ``unbiased=False`` → 0)."""
    _check(x, "var")
    correction = (1 if unbiased else 0) if correction is None else correction
    return Var.apply(_float(x), axes=normalize_dims(dim, x.shape, "var"), keepdim=keepdim, correction=correction)


def std(x, dim=None, unbiased=True, keepdim=False, *, correction=None):
    """Standard deviation: √var (gradient 0 where it is 0)."""
    _check(x, "std")
    correction = (1 if unbiased else 0) if correction is None else correction
    return Std.apply(_float(x), axes=normalize_dims(dim, x.shape, "std"), keepdim=keepdim, correction=correction)


def prod(x, dim=None, keepdim=False):
    _check(x, "prod")
    if dim is not None and not isinstance(dim, (int, np.integer)):
        raise TypeError(f"prod: dim must be an int or None (one dim at a time, as torch), got {dim!r}")
    axes = () if dim is None else normalize_dims(dim, x.shape, "prod")  # () for a 0-d tensor: itself
    axis = axes[0] if axes else None
    return Prod.apply(x, axis=axis, keepdim=keepdim)


def logsumexp(x, dim, keepdim=False):
    _check(x, "logsumexp")
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


def argmax(x, dim=None, keepdim=False):
    """Index of the (first) maximum; over the flattened tensor when ``dim`` is None. Not differentiable."""
    return _index_of(x, dim, keepdim, "argmax", np.argmax)


def argmin(x, dim=None, keepdim=False):
    """Index of the (first) minimum; over the flattened tensor when ``dim`` is None. Not differentiable."""
    return _index_of(x, dim, keepdim, "argmin", np.argmin)
