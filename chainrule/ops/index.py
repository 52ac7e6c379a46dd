"""Gather and scatter: gather scatter scatter_add scatter_reduce index_select index_add index_fill
index_copy take take_along_dim masked_fill masked_scatter.

Gather reads entries at given positions; scatter writes entries to given positions. They are each
other's adjoints: the gradient of a gather is a scatter-add of g (positions read twice get both
gradients), and the gradient of what a scatter wrote is a gather of g. An entry that a scatter
overwrote contributed nothing to the output, so its gradient is 0.

Positions along a dim: for an index tensor ``index`` and a dim d, ``positions(index, d)`` addresses
``a[i_0, …, index[i_0, …, i_n], …, i_n]`` for every position (i_0, …, i_n) of ``index`` — the one
NumPy advanced index behind gather, scatter and their gradients.
"""
import numpy as np

from ..autograd import Function, NoSecondDerivative, constant, unbroadcast
from ..tensor import Tensor
from .arithmetic import where
from .reduce import normalize_dims
from .shape import GetItem, PutItem, expand


def positions(index, axis):
    """The advanced index a[i_0, …, index[i_0, …], …]: ``index`` along ``axis``, each entry's own
    coordinate along every other dim."""
    grid = list(np.indices(index.shape, sparse=True))
    grid[axis] = index
    return tuple(grid)


def _leading(src, shape):
    """src[:shape[0], :shape[1], …]: the part of ``src`` an index of ``shape`` uses."""
    return src[tuple(slice(0, n) for n in shape)]


def _pad_to(part, shape):
    """Zeros of ``shape`` with ``part`` in the leading corner (the adjoint of ``_leading``)."""
    out = np.zeros(shape, dtype=part.dtype)
    out[tuple(slice(0, n) for n in part.shape)] = part
    return out


def _read(g, at):
    """g[at] for an integer-array index ``at``, recorded (its backward scatter-adds back)."""
    return GetItem.apply(g, index=at, advanced=True)


def _padded(part, shape):
    """``_pad_to`` recorded: the Tensor ``part`` in the leading corner of zeros of ``shape``."""
    if part.shape == tuple(shape):
        return part
    return PutItem.apply(part, shape=shape, index=tuple(slice(0, n) for n in part.shape), advanced=False)


def _slices(axis, index):
    """The index a[:, …, index] that picks the slices ``index`` along ``axis`` (np.take's)."""
    return (slice(None),) * axis + (index,)


class Gather(Function):
    """out[i, j, k] = a[i, index[i, j, k], k] (for dim 1; any dim alike), out of index's shape;
    da = g scatter-added back to those places (repeated indices accumulate)."""

    def forward(self, a, *, index, axis):
        self.shape, self.at = a.shape, positions(index, axis)
        return a[self.at]

    def backward(self, g):
        gx = np.zeros(self.shape, dtype=g.dtype)
        np.add.at(gx, self.at, g)
        return (gx,)

    def backward_graph(self, g):
        return (PutItem.apply(g, shape=self.shape, index=self.at, advanced=True),)


class Scatter(Function):
    """out = a, then out[i, index[i, j, k], k] = src[i, j, k] (for dim 1) — src a tensor or a number.
    da = g, 0 where overwritten;  dsrc[i, j, k] = g[i, index[i, j, k], k] (0 beyond index's shape)."""

    def forward(self, a, src, *, index, axis):
        self.at, self.src_shape = positions(index, axis), np.shape(src)
        out = a.copy()
        out[self.at] = _leading(src, index.shape) if np.ndim(src) else src
        return out

    def backward(self, g):
        ga = gsrc = None
        if self.needs[0]:
            ga = g.copy()
            ga[self.at] = 0
        if self.needs[1]:
            gsrc = _pad_to(g[self.at], self.src_shape)
        return ga, gsrc

    def backward_graph(self, g):
        ga = gsrc = None
        if self.needs[0]:
            kept = np.ones(g.shape, dtype=g.data.dtype)
            kept[self.at] = 0
            ga = g * kept
        if self.needs[1]:
            gsrc = _padded(_read(g, self.at), self.src_shape)
        return ga, gsrc


class ScatterReduce(Function):
    """out = a, then every src[i, j, k] is combined into out[i, index[i, j, k], k] (for dim 1) by
    ``reduce``: 'sum', 'prod', 'mean', 'amax' or 'amin' — with a's entry as one more operand if
    ``include_self``, else a's entries at the written places are left out (untouched places keep a).
    Per output place, over the operands x_m that reach it:
        sum:  da = g, dsrc = g                    mean: both g / count
        prod: d x_m = g · Π_{l≠m} x_l (exact with zeros: counted, not divided by)
        amax, amin: g shared equally among the operands equal to the result (torch's rule)."""

    def forward(self, a, src, *, index, axis, reduce, include_self):
        self.at, self.src_shape, self.reduce = positions(index, axis), src.shape, reduce
        part = _leading(src, index.shape)
        hit = np.zeros(a.shape, dtype=bool)
        hit[self.at] = True
        self.a, self.part = a, part
        self.self_in = np.ones(a.shape, dtype=bool) if include_self else ~hit  # is a's entry an operand?
        if reduce in ("sum", "mean"):
            out = np.where(self.self_in, a, 0).astype(a.dtype)
            np.add.at(out, self.at, part)
            if reduce == "mean":
                self.count = self.self_in.astype(np.int64)
                np.add.at(self.count, self.at, 1)
                out = out // self.count if a.dtype.kind in "biu" else out / self.count
        elif reduce == "prod":
            out = np.where(self.self_in, a, 1).astype(a.dtype)
            np.multiply.at(out, self.at, part)
        else:
            largest = reduce == "amax"
            if a.dtype.kind == "f":
                start = -np.inf if largest else np.inf
            else:
                info = np.iinfo(a.dtype)
                start = info.min if largest else info.max
            out = np.where(self.self_in, a, start).astype(a.dtype)
            (np.maximum if largest else np.minimum).at(out, self.at, part)
        self.out = out
        return out

    def backward(self, g):
        at, a, part, self_in = self.at, self.a, self.part, self.self_in
        if self.reduce == "sum":
            ga, gpart = np.where(self_in, g, 0), g[at]
        elif self.reduce == "mean":
            g = g / self.count
            ga, gpart = np.where(self_in, g, 0), g[at]
        elif self.reduce == "prod":
            ga, gpart = self._prod_backward(g)
        else:  # amax / amin: the operands equal to the result share g
            is_self = self_in & (a == self.out)
            is_part = part == self.out[at]
            count = is_self.astype(g.dtype)
            np.add.at(count, at, is_part)
            g = np.where(count > 0, g / np.maximum(count, 1), 0)
            ga, gpart = np.where(is_self, g, 0), np.where(is_part, g[at], 0)
        return ga, _pad_to(gpart.astype(g.dtype, copy=False), self.src_shape)

    def _prod_backward(self, g):
        """Π of the other operands of an output place, for each operand x: with p = Π of the place's
        non-zero operands and z = how many are zero — p/x if z = 0; p if x = 0 and z = 1; else 0."""
        at, a, part, self_in = self.at, self.a, self.part, self.self_in
        zeros = (self_in & (a == 0)).astype(np.int64)
        np.add.at(zeros, at, part == 0)
        nonzero_prod = np.where(self_in & (a != 0), a, 1).astype(a.dtype)
        np.multiply.at(nonzero_prod, at, np.where(part == 0, 1, part))

        def others(x, z, p):
            with np.errstate(divide="ignore", invalid="ignore"):
                return np.where(x != 0, np.where(z == 0, p / np.where(x == 0, 1, x), 0), np.where(z == 1, p, 0))

        ga = np.where(self_in, g * others(a, zeros, nonzero_prod), 0)
        gpart = g[at] * others(part, zeros[at], nonzero_prod[at])
        return ga, gpart

    def backward_graph(self, g):
        at, a, part = self.at, self.a, self.part
        if self.reduce in ("sum", "mean"):
            if self.reduce == "mean":
                g = g * constant(1 / self.count, g)
            ga, gpart = g * constant(self.self_in, g), _read(g, at)
        elif self.reduce == "prod":
            ga, gpart = self._prod_backward_graph(g)
        else:
            is_self = self.self_in & (a == self.out)
            is_part = part == self.out[at]
            count = is_self.astype(g.data.dtype)
            np.add.at(count, at, is_part)
            share = np.where(count > 0, 1 / np.maximum(count, 1), 0)
            ga, gpart = g * constant(is_self * share, g), _read(g, at) * constant(is_part * share[at], g)
        return ga if self.needs[0] else None, _padded(gpart, self.src_shape) if self.needs[1] else None

    def _prod_backward_graph(self, g):
        """torch's formula: Π of the other operands is out / x, or, for a zero of a or a lone zero from src, the
        product taken again with that zero set to 1. Two zeros from src at one place: src's is first-order only."""
        a, src = self.inputs
        at, part = self.at, self.part
        kwargs = self.kwargs
        zero_self = self.a == 0
        masked_a = where(zero_self, 1.0, a)
        ga = g * ScatterReduce.apply(masked_a, src, **kwargs) / masked_a * constant(self.self_in, g)
        zero_part = part == 0
        zeros_at = np.zeros(self.a.shape, dtype=np.int64)
        np.add.at(zeros_at, at, zero_part)
        alone = zero_part & (zeros_at[at] == 1)
        masked_src = where(_pad_to(alone, self.src_shape), 1.0, src)
        out = ScatterReduce.apply(a, src, **kwargs)
        divisor = where(zero_part, 1.0, GetItem.apply(src, index=tuple(slice(0, n) for n in part.shape),
                                                       advanced=False))
        gpart = where(alone, _read(g * ScatterReduce.apply(a, masked_src, **kwargs), at),
                      _read(g * out, at) / divisor)
        if (zeros_at[at][zero_part] > 1).any():
            gpart = NoSecondDerivative.apply(gpart.data, g, a, src, op="ScatterReduce", index=1)
        return ga, gpart


class IndexSelect(Function):
    """out = a's slices index[0], index[1], … along ``axis`` (out.shape[axis] = len(index));
    da = g's slices added back at those indices (repeats accumulate)."""

    def forward(self, a, *, index, axis):
        self.shape, self.index, self.axis = a.shape, index, axis
        return np.take(a, index, axis=axis)

    def backward(self, g):
        gx = np.zeros(self.shape, dtype=g.dtype)
        np.add.at(np.moveaxis(gx, self.axis, 0), self.index, np.moveaxis(g, self.axis, 0))
        return (gx,)

    def backward_graph(self, g):
        return (PutItem.apply(g, shape=self.shape, index=_slices(self.axis, self.index), advanced=True),)


class IndexAdd(Function):
    """out = a, then out's slice index[i] along ``axis`` += alpha · source's slice i;
    da = g,  dsource = alpha · (g's slices at index)."""

    def forward(self, a, source, *, index, axis, alpha):
        self.index, self.axis, self.alpha = index, axis, alpha
        out = a.copy()
        np.add.at(np.moveaxis(out, axis, 0), index, np.moveaxis(source, axis, 0) * alpha)
        return out

    def backward(self, g):
        gsource = self.alpha * np.take(g, self.index, axis=self.axis) if self.needs[1] else None
        return g, gsource

    def backward_graph(self, g):
        gsource = _read(g, _slices(self.axis, self.index)) * self.alpha if self.needs[1] else None
        return g if self.needs[0] else None, gsource


class IndexFill(Function):
    """out = a with its slices index[i] along ``axis`` set to ``value`` (a number or 0-d array);
    da = g, 0 in the filled slices;  dvalue = Σ g over the filled slices."""

    def forward(self, a, value, *, index, axis):
        self.filled = np.zeros(a.shape, dtype=bool)
        np.moveaxis(self.filled, axis, 0)[index] = True
        return np.where(self.filled, np.asarray(value).astype(a.dtype), a)

    def backward(self, g):
        gvalue = g[self.filled].sum().reshape(()) if self.needs[1] else None
        return np.where(self.filled, 0, g), gvalue

    def backward_graph(self, g):
        gvalue = (g * constant(self.filled, g)).sum() if self.needs[1] else None
        return g * constant(~self.filled, g) if self.needs[0] else None, gvalue


class IndexCopy(Function):
    """out = a with its slice index[i] along ``axis`` replaced by source's slice i;
    da = g, 0 in the replaced slices;  dsource = g's slices at index."""

    def forward(self, a, source, *, index, axis):
        self.index, self.axis = index, axis
        out = a.copy()
        np.moveaxis(out, axis, 0)[index] = np.moveaxis(source, axis, 0)
        return out

    def backward(self, g):
        ga = gsource = None
        if self.needs[0]:
            ga = g.copy()
            np.moveaxis(ga, self.axis, 0)[self.index] = 0
        if self.needs[1]:
            gsource = np.take(g, self.index, axis=self.axis)
        return ga, gsource

    def backward_graph(self, g):
        ga = gsource = None
        if self.needs[0]:
            kept = np.ones(g.shape, dtype=g.data.dtype)
            np.moveaxis(kept, self.axis, 0)[self.index] = 0
            ga = g * kept
        if self.needs[1]:
            gsource = _read(g, _slices(self.axis, self.index))
        return ga, gsource


class Take(Function):
    """out = a.flatten()[index], of index's shape;  da = g scatter-added back into the flat a."""

    def forward(self, a, *, index):
        self.shape, self.index = a.shape, index
        return a.reshape(-1)[index]

    def backward(self, g):
        gx = np.zeros(int(np.prod(self.shape)), dtype=g.dtype)
        np.add.at(gx, self.index, g)
        return (gx.reshape(self.shape),)

    def backward_graph(self, g):
        flat = PutItem.apply(g, shape=(int(np.prod(self.shape)),), index=self.index, advanced=True)
        return (flat.reshape(self.shape),)


class MaskedFill(Function):
    """out = value where mask else a (a and mask broadcast; value cast to a's dtype);
    da = g where not mask (summed over broadcast dims);  dvalue = Σ g where mask."""

    def forward(self, a, value, *, mask):
        self.a_shape, self.mask = a.shape, mask
        return np.where(mask, np.asarray(value).astype(a.dtype), a)

    def backward(self, g):
        ga = unbroadcast(np.where(self.mask, 0, g), self.a_shape) if self.needs[0] else None
        gvalue = np.where(self.mask, g, 0).sum().reshape(()) if self.needs[1] else None
        return ga, gvalue

    def backward_graph(self, g):
        ga = (g * constant(~self.mask, g)).sum_to_size(self.a_shape) if self.needs[0] else None
        gvalue = (g * constant(self.mask, g)).sum() if self.needs[1] else None
        return ga, gvalue


class MaskedScatter(Function):
    """out = a (broadcast with mask) with the places where mask is True filled, in row-major order,
    by source's first entries; da = g where not mask;  dsource = g at those places, in that order
    (0 for source's unused entries)."""

    def forward(self, a, source, *, mask):
        shape = np.broadcast_shapes(a.shape, mask.shape)
        self.a_shape, self.source_shape = a.shape, source.shape
        self.mask = np.broadcast_to(mask, shape)
        out = np.broadcast_to(a, shape).copy()
        out[self.mask] = source.reshape(-1)[: int(self.mask.sum())]
        return out

    def backward(self, g):
        ga = unbroadcast(np.where(self.mask, 0, g), self.a_shape) if self.needs[0] else None
        gsource = None
        if self.needs[1]:
            gsource = np.zeros(int(np.prod(self.source_shape)), dtype=g.dtype)
            picked = g[self.mask]
            gsource[: picked.size] = picked
            gsource = gsource.reshape(self.source_shape)
        return ga, gsource

    def backward_graph(self, g):
        ga = (g * constant(~self.mask, g)).sum_to_size(self.a_shape) if self.needs[0] else None
        gsource = None
        if self.needs[1]:
            picked = GetItem.apply(g, index=self.mask, advanced=False)
            gsource = _padded(picked, (int(np.prod(self.source_shape)),)).reshape(self.source_shape)
        return ga, gsource


# ----- argument checks, with torch's errors ----------------------------------------------------------
def _tensor(x, op, name="input"):
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}: expected a Tensor as {name}, got {type(x).__name__}")
    return x


def _axis(x, dim, op):
    if not isinstance(dim, (int, np.integer)) or isinstance(dim, bool):
        raise TypeError(f"{op}: dim must be an int, got {dim!r}")
    (axis,) = normalize_dims(dim, x.shape, op) or (0,)
    return axis


def _index(index, op, name="index"):
    """The index as an int64 array (torch takes integer index tensors only)."""
    _tensor(index, op, name)
    if index.data.dtype.kind not in "iu":
        raise RuntimeError(f"{op}: expected an integer (int64) tensor for {name}, got dtype {index.dtype}")
    return index.data.astype(np.int64, copy=False)


def _in_range(index, size, op, dim, allow_negative=False):
    """Every entry of ``index`` in [0, size) (or [−size, size)), else torch's out-of-bounds error."""
    low = -size if allow_negative else 0
    bad = index[(index < low) | (index >= size)]
    if bad.size:
        raise IndexError(f"{op}: index {bad.flat[0]} is out of bounds for dimension {dim} with size {size}")


def _check_index_shape(op, x, axis, index, src=None):
    """torch's rule for gather/scatter: index has input's number of dims, is no larger than input in every
    dim but ``axis`` and no larger than src in any dim."""
    if index.ndim != x.ndim:
        raise RuntimeError(f"{op}: index of shape {index.shape} must have as many dimensions as the input of "
                           f"shape {x.shape}")
    if any(n > s for d, (n, s) in enumerate(zip(index.shape, x.shape)) if d != axis):
        raise RuntimeError(f"{op}: index of shape {index.shape} must be no larger than the input of shape {x.shape} "
                           f"apart from dimension {axis}")
    if src is not None and (src.ndim != index.ndim or any(n > s for n, s in zip(index.shape, src.shape))):
        raise RuntimeError(f"{op}: index of shape {index.shape} must be no larger than src of shape {src.shape}")


def _same_dtype(op, x, src, name="src"):
    if src.dtype != x.dtype:
        raise RuntimeError(f"{op}: expected the input's dtype ({x.dtype}) to be equal to {name}'s ({src.dtype})")


def _one_dim(x):
    """A 0-d input runs as a 1-element 1-D one (torch treats it so); returns (x, undo)."""
    if x.ndim:
        return x, lambda out: out
    return x.reshape(1), lambda out: out.reshape(())


# ----- the public functions ---------------------------------------------------------------------------
def gather(input, dim, index, *, sparse_grad=False):
    """out[i][j][k] = input[i][index[i][j][k]][k] for dim = 1 (alike for any dim); out has index's shape,
    index is no larger than input apart from ``dim``. ``sparse_grad`` is accepted and ignored (dense)."""
    _tensor(input, "gather")
    axis = _axis(input, dim, "gather")
    idx = _index(index, "gather")
    if input.ndim == 0 and idx.ndim == 0:
        return gather(input.reshape(1), 0, index.reshape(1)).reshape(())
    _check_index_shape("gather", input, axis, idx)
    _in_range(idx, input.shape[axis], "gather", dim)
    return Gather.apply(input, index=idx, axis=axis)


def _scatter_args(op, input, dim, index, src):
    _tensor(input, op)
    if input.ndim == 0:
        raise RuntimeError(f"{op}: the input must have at least one dimension, got a 0-d tensor "
                           "(scatter into input.reshape(1))")
    axis = _axis(input, dim, op)
    idx = _index(index, op)
    if isinstance(src, Tensor):
        _same_dtype(op, input, src)
    _check_index_shape(op, input, axis, idx, src if isinstance(src, Tensor) else None)
    _in_range(idx, input.shape[axis], op, dim)
    return axis, idx


def scatter(input, dim, index, src=None, *, value=None, reduce=None):
    """out = input, then out[i][index[i][j][k]][k] = src[i][j][k] for dim = 1 (alike for any dim); ``src``
    a tensor (of input's dtype, no smaller than index) or a number (or ``value=``). Where an index repeats,
    which write wins is unspecified (here: the last). ``reduce`` 'add' / 'multiply' combine instead of
    overwriting: scatter_reduce with 'sum' / 'prod' (include_self)."""
    if (src is None) == (value is None):
        raise TypeError("scatter: give exactly one of src (a tensor or a number) and value")
    src = value if src is None else src
    if reduce is not None:
        if reduce not in ("add", "multiply"):
            raise RuntimeError(f"scatter: reduce must be None, 'add' or 'multiply', got {reduce!r}")
        if not isinstance(src, Tensor):
            src = Tensor(np.full(index.shape, src, dtype=input.dtype))
        return scatter_reduce(input, dim, index, src, "sum" if reduce == "add" else "prod")
    if isinstance(src, Tensor) and src.ndim == 0 and input.ndim:
        raise RuntimeError("scatter: src must be a tensor with index's number of dimensions or a number, "
                           "got a 0-d tensor (pass value=src.item())")
    axis, idx = _scatter_args("scatter", input, dim, index, src)
    return Scatter.apply(input, src, index=idx, axis=axis)


def scatter_add(input, dim, index, src):
    """out = input, then out[i][index[i][j][k]][k] += src[i][j][k] for dim = 1: repeated indices add up."""
    _tensor(src, "scatter_add", "src")
    axis, idx = _scatter_args("scatter_add", input, dim, index, src)
    return ScatterReduce.apply(input, src, index=idx, axis=axis, reduce="sum", include_self=True)


def scatter_reduce(input, dim, index, src, reduce, *, include_self=True):
    """Scatter ``src`` into ``input`` along ``dim``, combining everything sent to one place by ``reduce``:
    'sum', 'prod', 'mean', 'amax' or 'amin' (``include_self``: input's own entry takes part). Places no
    index names keep input's entry. Integer 'mean' rounds down, as torch."""
    if reduce not in ("sum", "prod", "mean", "amax", "amin"):
        raise RuntimeError(f"scatter_reduce: reduce argument must be either sum, prod, mean, amax or amin, "
                           f"got {reduce!r}")
    _tensor(src, "scatter_reduce", "src")
    axis, idx = _scatter_args("scatter_reduce", input, dim, index, src)
    return ScatterReduce.apply(input, src, index=idx, axis=axis, reduce=reduce, include_self=include_self)


def _slice_index(op, input, dim, index, allow_0d=True):
    """index_* ops: a 1-D (or 0-d) integer index of slices along ``dim``, each in range."""
    _tensor(input, op)
    axis = _axis(input, dim, op)
    idx = _index(index, op)
    if idx.ndim > 1 or (idx.ndim == 0 and not allow_0d):
        raise IndexError(f"{op}: index is supposed to be a vector, got shape {idx.shape}")
    size = input.shape[axis] if input.ndim else 1
    bad = idx[(idx < 0) | (idx >= size)]
    if bad.size:
        raise IndexError(f"{op}: index {bad.flat[0]} is out of range for dimension {dim} with size {size}")
    return axis, idx.reshape(-1)


def index_select(input, dim, index):
    """The slices of ``input`` along ``dim`` at the entries of the 1-D ``index`` (repeats allowed):
    out.shape[dim] = len(index)."""
    axis, idx = _slice_index("index_select", input, dim, index)
    x, undo = _one_dim(input)
    return undo(IndexSelect.apply(x, index=idx, axis=axis))


def _source(op, input, axis, idx, source, name="source"):
    """index_add / index_copy: source's shape is input's with dim ``axis`` of len(index); its dtype, input's."""
    _tensor(source, op, name)
    want = input.shape[:axis] + (idx.size,) + input.shape[axis + 1:] if input.ndim else (idx.size,)
    if source.shape != want and not (input.ndim == 0 and source.size == idx.size == 1):
        raise RuntimeError(f"{op}: {name} of shape {source.shape} must have shape {want}: the input's "
                           f"{input.shape} with dimension {axis} of the index's length {idx.size}")
    return source.to(input.dtype).reshape(want)


def index_add(input, dim, index, source, *, alpha=1):
    """out = input, then out's slice index[i] along ``dim`` += alpha · source's slice i (repeats add up)."""
    axis, idx = _slice_index("index_add", input, dim, index)
    source = _source("index_add", input, axis, idx, source)
    x, undo = _one_dim(input)
    return undo(IndexAdd.apply(x, source, index=idx, axis=axis, alpha=alpha))


def index_copy(input, dim, index, source):
    """out = input with its slice index[i] along ``dim`` replaced by source's slice i (an index named twice:
    which write wins is unspecified; here the last)."""
    axis, idx = _slice_index("index_copy", input, dim, index)
    if isinstance(source, Tensor) and input.ndim and source.ndim == input.ndim and source.shape[axis] != idx.size:
        raise IndexError(f"index_copy: number of indices ({idx.size}) should be equal to source.size(dim) "
                         f"({source.shape[axis]})")
    source = _source("index_copy", input, axis, idx, source)
    x, undo = _one_dim(input)
    return undo(IndexCopy.apply(x, source, index=idx, axis=axis))


def _fill_value(op, value):
    """A number, or a 0-d tensor (differentiable), as torch's fill ops take."""
    if isinstance(value, Tensor):
        if value.ndim:
            raise RuntimeError(f"{op}: only supports a 0-dimensional value tensor, but got a tensor with "
                               f"{value.ndim} dimension(s)")
        return value
    if not isinstance(value, (int, float, bool, np.number, np.bool_)):
        raise TypeError(f"{op}: value must be a number or a 0-d tensor, got {type(value).__name__}")
    return value


def index_fill(input, dim, index, value):
    """out = input with its slices index[i] along ``dim`` set to ``value`` (a number or a 0-d tensor)."""
    axis, idx = _slice_index("index_fill", input, dim, index)
    value = _fill_value("index_fill", value)
    x, undo = _one_dim(input)
    return undo(IndexFill.apply(x, value, index=idx, axis=axis))


def take(input, index):
    """input seen as 1-D (row-major), read at ``index``: out has index's shape; negative indices count from
    the end."""
    _tensor(input, "take")
    idx = _index(index, "take")
    n = input.data.size
    bad = idx[(idx < -n) | (idx >= n)]
    if bad.size:
        raise IndexError(f"take: out of range: tried to access index {bad.flat[0]} on a tensor of {n} elements")
    return Take.apply(input, index=idx)


def take_along_dim(input, indices, dim=None):
    """Read ``input`` along ``dim`` at ``indices`` (negative ones count from the end), input and indices
    broadcast in every other dim — gather of the broadcast tensors; without ``dim``, both are flattened
    (``take`` of the flattened indices)."""
    _tensor(input, "take_along_dim")
    idx = _index(indices, "take_along_dim", "indices")
    if dim is None:
        return take(input, Tensor(idx.reshape(-1)))
    axis = _axis(input, dim, "take_along_dim")
    if not input.ndim and not idx.ndim:
        return take(input, indices)
    if idx.ndim != input.ndim:
        raise RuntimeError(f"take_along_dim: input and indices should have the same number of dimensions, got "
                           f"{input.ndim} for input of shape {input.shape} and {idx.ndim} for indices of shape "
                           f"{idx.shape}")
    size = input.shape[axis]
    _in_range(idx, size, "take_along_dim", dim, allow_negative=True)
    try:
        common = list(np.broadcast_shapes(input.shape[:axis] + (1,) + input.shape[axis + 1:],
                                          idx.shape[:axis] + (1,) + idx.shape[axis + 1:]))
    except ValueError:
        raise RuntimeError(f"take_along_dim: input of shape {input.shape} and indices of shape {idx.shape} are "
                           f"not broadcastable apart from dimension {dim}") from None
    common[axis] = size
    x = expand(input, tuple(common))
    common[axis] = idx.shape[axis]
    return gather(x, axis, Tensor(np.broadcast_to(idx % size, tuple(common))))


def _mask(mask, op):
    _tensor(mask, op, "mask")
    if mask.data.dtype != np.bool_:
        raise RuntimeError(f"{op}: only supports boolean masks, but got mask with dtype {mask.dtype}")
    return mask.data


def _broadcast(op, input, mask):
    try:
        return np.broadcast_shapes(input.shape, mask.shape)
    except ValueError:
        raise RuntimeError(f"{op}: the input's shape {input.shape} and the mask's {mask.shape} are not "
                           "broadcastable") from None


def masked_fill(input, mask, value):
    """out = value where ``mask`` else input (input and the bool mask broadcast together); ``value``, a
    number or a 0-d tensor, is cast to input's dtype (a float into an integer tensor truncates)."""
    _tensor(input, "masked_fill")
    mask = _mask(mask, "masked_fill")
    _broadcast("masked_fill", input, mask)
    return MaskedFill.apply(input, _fill_value("masked_fill", value), mask=mask)


def masked_scatter(input, mask, source):
    """out = input (broadcast with the bool mask) with the places where ``mask`` is True filled, in
    row-major order, by ``source``'s first entries (source needs at least as many as mask has Trues)."""
    _tensor(input, "masked_scatter")
    mask = _mask(mask, "masked_scatter")
    _tensor(source, "masked_scatter", "source")
    shape = _broadcast("masked_scatter", input, mask)
    needed = int(np.broadcast_to(mask, shape).sum())
    if source.data.size < needed:
        raise RuntimeError(f"masked_scatter: number of elements of source ({source.data.size}) < number of ones "
                           f"in mask ({needed})")
    return MaskedScatter.apply(input, source.to(input.dtype), mask=mask)
