"""Shape, layout and dtype ops: reshape (view, flatten/unflatten, squeeze, unsqueeze), permute (transpose,
.T, t, mT, movedim), expand, indexing (narrow), cat, stack (hstack, vstack, dstack, column_stack, meshgrid),
split/chunk (tensor_split, hsplit, vsplit, dsplit, unbind), flip/roll/rot90, repeat/tile/repeat_interleave,
tril/triu, diagonal/diag_embed/diag/trace, unfold (sliding windows) and the dtype cast (padding: ops/padding.py).

Their backward only moves gradient entries back to where the inputs were; nothing is computed.
"""
import math

import numpy as np

from ..autograd import Function, unbroadcast
from ..dtypes import result_type
from ..tensor import Tensor
from . import reduce


class Cast(Function):
    """out = a as another dtype; the gradient is cast back to the input's dtype."""

    def forward(self, a, *, dtype):
        self.dtype = a.dtype
        return a.astype(dtype)

    def backward(self, g):
        return (g.astype(self.dtype),)

    def backward_graph(self, g):
        return (g.to(self.dtype),)


class Reshape(Function):
    """out = a viewed with a new shape of the same size."""

    def forward(self, a, *, shape):
        self.shape = a.shape
        return a.reshape(shape)

    def backward(self, g):
        return (g.reshape(self.shape),)

    def backward_graph(self, g):
        return (g.reshape(self.shape),)


class Permute(Function):
    """out = a with dims reordered: out.shape[i] = a.shape[perm[i]]; the backward applies the inverse."""

    def forward(self, a, *, perm):
        self.inverse = tuple(np.argsort(perm))
        return a.transpose(perm)

    def backward(self, g):
        return (g.transpose(self.inverse),)

    def backward_graph(self, g):
        return (g.permute(*self.inverse),)


class Expand(Function):
    """out = a broadcast to ``shape`` (a read-only view); the backward sums over the copies."""

    def forward(self, a, *, shape):
        self.shape = a.shape
        return np.broadcast_to(a, shape)

    def backward(self, g):
        return (unbroadcast(g, self.shape),)

    def backward_graph(self, g):
        return (sum_to_size(g, *self.shape),)


class SumTo(Function):
    """out = a summed down to ``shape`` (the dims broadcasting would have added or stretched from 1): the
    adjoint of Expand, so each is the other's backward."""

    def forward(self, a, *, shape):
        self.shape = a.shape
        return unbroadcast(a, shape)

    def backward(self, g):
        return (np.broadcast_to(g, self.shape).copy(),)

    def backward_graph(self, g):
        return (expand(g, *self.shape),)


class GetItem(Function):
    """out = a[index]; the backward scatters g into zeros, adding where integer-array indices repeat."""

    def forward(self, a, *, index, advanced):
        self.shape, self.dtype, self.index, self.advanced = a.shape, a.dtype, index, advanced
        return a[index]

    def backward(self, g):
        gx = np.zeros(self.shape, dtype=g.dtype)
        if self.advanced:
            np.add.at(gx, self.index, g)
        else:
            gx[self.index] = g
        return (gx,)

    def backward_graph(self, g):
        return (PutItem.apply(g, shape=self.shape, index=self.index, advanced=self.advanced),)


class PutItem(Function):
    """out = zeros of ``shape`` with out[index] = a, added where integer-array indices repeat: GetItem's
    adjoint (the scatter its backward does, recorded), so each is the other's backward."""

    def forward(self, a, *, shape, index, advanced):
        self.index, self.advanced = index, advanced
        out = np.zeros(shape, dtype=a.dtype)
        if advanced:
            np.add.at(out, index, a)
        else:
            out[index] = a
        return out

    def backward(self, g):
        return (g[self.index],)

    def backward_graph(self, g):
        return (GetItem.apply(g, index=self.index, advanced=self.advanced),)


class Cat(Function):
    """out = the inputs joined along ``axis``; the backward slices g back into pieces."""

    def forward(self, *arrays, axis):
        self.axis = axis
        self.bounds = np.cumsum([a.shape[axis] for a in arrays])[:-1]
        return np.concatenate(arrays, axis=axis)

    def backward(self, g):
        return tuple(np.split(g, self.bounds, axis=self.axis))

    def backward_graph(self, g):
        edges = [0, *self.bounds, g.shape[self.axis]]
        return tuple(GetItem.apply(g, index=(slice(None),) * self.axis + (slice(lo, hi),), advanced=False)
                     if need else None for lo, hi, need in zip(edges[:-1], edges[1:], self.needs))


class Stack(Function):
    """out = the inputs stacked along a new ``axis``; the backward takes slice i for input i."""

    def forward(self, *arrays, axis):
        self.axis = axis
        return np.stack(arrays, axis=axis)

    def backward(self, g):
        return tuple(np.take(g, i, axis=self.axis) for i in range(g.shape[self.axis]))

    def backward_graph(self, g):
        return tuple(gi if need else None for gi, need in zip(Unbind.apply(g, axis=self.axis), self.needs))


class Flip(Function):
    """out = a reversed along ``axes``: out[..., i, ...] = a[..., n−1−i, ...]; flipping g again is the backward."""

    def forward(self, a, *, axes):
        self.axes = axes
        return np.flip(a, axes).copy()

    def backward(self, g):
        return (np.flip(g, self.axes),)

    def backward_graph(self, g):
        return (Flip.apply(g, axes=self.axes),)


class Roll(Function):
    """out = a shifted cyclically: out[(i + shift) mod n] = a[i] along each axis (``axes=None``: over the
    flattened array, shape kept); the backward rolls g back by −shift."""

    def forward(self, a, *, shifts, axes):
        self.shifts, self.axes = shifts, axes
        return np.roll(a, shifts, axes)

    def backward(self, g):
        back = -self.shifts if isinstance(self.shifts, int) else tuple(-s for s in self.shifts)
        return (np.roll(g, back, self.axes),)

    def backward_graph(self, g):
        back = -self.shifts if isinstance(self.shifts, int) else tuple(-s for s in self.shifts)
        return (Roll.apply(g, shifts=back, axes=self.axes),)


class Tile(Function):
    """out = a repeated ``reps[i]`` times along dim i (a padded with leading 1-dims to len(reps) dims):
    out[r·s + j] = a[j] along a dim of size s. Backward: g viewed as (r0, s0, r1, s1, ...), summed over
    every r — each entry of a gets the sum of the gradients of its copies."""

    def forward(self, a, *, reps):
        self.shape = a.shape
        self.padded = (1,) * (len(reps) - a.ndim) + a.shape
        self.reps = reps
        return np.tile(a.reshape(self.padded), reps)

    def backward(self, g):
        interleaved = g.reshape(tuple(n for pair in zip(self.reps, self.padded) for n in pair))
        return (interleaved.sum(axis=tuple(range(0, 2 * len(self.reps), 2))).reshape(self.shape),)

    def backward_graph(self, g):
        interleaved = reshape(g, tuple(n for pair in zip(self.reps, self.padded) for n in pair))
        return (reshape(reduce.sum(interleaved, tuple(range(0, 2 * len(self.reps), 2))), self.shape),)


class RepeatInterleave(Function):
    """out = each slice of a along ``axis`` repeated in place: slice j appears repeats[j] times in a row,
    out = a.take(index, axis) with index = [0]*repeats[0] + [1]*repeats[1] + ...; the backward adds the
    gradients of the copies of slice j into slice j."""

    def forward(self, a, *, repeats, axis):
        self.shape, self.axis = a.shape, axis
        self.index = np.repeat(np.arange(a.shape[axis]), repeats)
        return np.take(a, self.index, axis=axis)

    def backward(self, g):
        gx = np.zeros(self.shape, dtype=g.dtype)
        np.add.at(gx, (slice(None),) * self.axis + (self.index,), g)
        return (gx,)

    def backward_graph(self, g):
        return (PutItem.apply(g, shape=self.shape, index=(slice(None),) * self.axis + (self.index,), advanced=True),)


class Triangle(Function):
    """tril: out[..., i, j] = a[..., i, j] where j − i ≤ k, else 0; triu: where j − i ≥ k. The same mask
    applied to g is the backward."""

    def forward(self, a, *, k, upper):
        self.k, self.keep = k, np.triu if upper else np.tril
        return self.keep(a, k)

    def backward(self, g):
        return (self.keep(g, self.k),)

    def backward_graph(self, g):
        return (Triangle.apply(g, **self.kwargs),)


def _diagonal_at(length, offset):
    """The (rows, cols) of the ``offset`` diagonal's ``length`` entries in a matrix."""
    return np.arange(length) + max(-offset, 0), np.arange(length) + max(offset, 0)


def _put_diagonal(out, values, offset, axis1, axis2):
    """Write ``values`` (the diagonal in its last dim) into out[..., i, i + offset] over dims axis1, axis2."""
    rows, cols = _diagonal_at(values.shape[-1], offset)
    np.moveaxis(out, (axis1, axis2), (-2, -1))[..., rows, cols] = values  # moveaxis is a view: writes into out


class Diagonal(Function):
    """out[..., i] = a[i, i + offset] over dims axis1, axis2, the diagonal becoming the last dim; the
    backward puts g on that diagonal of a zero array (DiagEmbed's forward)."""

    def forward(self, a, *, offset, axis1, axis2):
        self.shape, self.args = a.shape, (offset, axis1, axis2)
        return np.diagonal(a, offset, axis1, axis2).copy()

    def backward(self, g):
        gx = np.zeros(self.shape, dtype=g.dtype)
        _put_diagonal(gx, g, *self.args)
        return (gx,)

    def backward_graph(self, g):
        offset, axis1, axis2 = self.args
        moved = tuple(n for i, n in enumerate(self.shape) if i not in (axis1, axis2)) + (
            self.shape[axis1], self.shape[axis2])
        put = PutItem.apply(g, shape=moved, index=(Ellipsis, *_diagonal_at(g.shape[-1], offset)), advanced=False)
        return (movedim(put, (-2, -1), (axis1, axis2)),)


class DiagEmbed(Function):
    """out[i, i + offset] = a[..., i] over two new dims axis1, axis2 of size n + |offset| (zeros elsewhere);
    the backward reads that diagonal of g back (Diagonal's forward)."""

    def forward(self, a, *, offset, axis1, axis2):
        self.args = (offset, axis1, axis2)
        shape = list(a.shape[:-1])
        for axis in sorted((axis1, axis2)):
            shape.insert(axis, a.shape[-1] + abs(offset))
        out = np.zeros(shape, dtype=a.dtype)
        _put_diagonal(out, a, *self.args)
        return out

    def backward(self, g):
        return (np.diagonal(g, *self.args).copy(),)

    def backward_graph(self, g):
        return (Diagonal.apply(g, **self.kwargs),)


class Unfold(Function):
    """out[..., w, ..., j] = a[..., w·step + j, ...]: the windows of ``size`` entries along ``axis``, every
    ``step`` entries, as a dim of (n − size) // step + 1 windows and a new last dim of ``size`` (im2col in
    one dim). Backward (col2im): entry j of every window sends its gradient back to a[w·step + j], added
    where windows overlap."""

    def forward(self, a, *, axis, size, step):
        self.shape, self.axis, self.step = a.shape, axis, step
        windows = np.lib.stride_tricks.sliding_window_view(a, size, axis=axis)
        return windows[(slice(None),) * axis + (slice(None, None, step),)].copy()

    def backward(self, g):
        gx = np.zeros(self.shape, dtype=g.dtype)
        count = g.shape[self.axis]
        for j in range(g.shape[-1]):
            rows = slice(j, j + self.step * (count - 1) + 1, self.step)  # a's entries at offset j of each window
            gx[(slice(None),) * self.axis + (rows,)] += g[..., j]
        return (gx,)

    def backward_graph(self, g):
        count, size = g.shape[self.axis], g.shape[-1]
        at = (np.arange(count) * self.step)[:, None] + np.arange(size)  # (windows, size): a's entry of each
        windows = movedim(g, -1, self.axis + 1)  # a[..., at, ...] has the windows' entries next to the windows
        return (PutItem.apply(windows, shape=self.shape, index=(slice(None),) * self.axis + (at,), advanced=True),)


class Unbind(Function):
    """out_i = a[..., i, ...] along ``axis``, one output per slice (one node); the backward stacks the
    outputs' gradients (zeros for those that got none) back along ``axis``."""

    def forward(self, a, *, axis):
        self.axis = axis
        return tuple(np.take(a, i, axis=axis) for i in range(a.shape[axis]))

    def backward(self, *grads):
        return (np.stack(grads, axis=self.axis),)

    def backward_graph(self, *grads):
        return (Stack.apply(*grads, axis=self.axis),)


def _shape_arg(shape):
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        return tuple(shape[0])
    return tuple(shape)


def cast(x, dtype):
    """x as ``dtype``; differentiable between float dtypes, outside the graph to integer or bool (as torch)."""
    if x.data.dtype == dtype:
        return x
    if dtype.kind != "f":
        return Tensor(x.data.astype(dtype))
    return Cast.apply(x, dtype=dtype)


def reshape(x, *shape):
    """Same data, new shape; one dim may be -1 (inferred)."""
    shape = _shape_arg(shape)
    size = x.data.size
    known = math.prod(s for s in shape if s != -1)
    if shape.count(-1) > 1 or (-1 in shape and (known == 0 or size % known)) or (-1 not in shape and known != size):
        raise ValueError(f"reshape: shape {shape} is invalid for input of shape {x.shape} ({size} elements)")
    if shape == x.shape:
        return x
    return Reshape.apply(x, shape=shape)


def _dim(d, shape, op):
    ndim = len(shape)
    if not -max(ndim, 1) <= d < max(ndim, 1):
        raise IndexError(f"{op}: dim {d} out of range for a tensor with {ndim} dims of shape {shape}")
    return d % max(ndim, 1)


def flatten(x, start_dim=0, end_dim=-1):
    """Merge dims start_dim..end_dim into one."""
    if x.ndim == 0:
        return reshape(x, 1)
    s, e = _dim(start_dim, x.shape, "flatten"), _dim(end_dim, x.shape, "flatten")
    if s > e:
        raise ValueError(f"flatten: start_dim {start_dim} comes after end_dim {end_dim}")
    if s == e:  # one dim: nothing to merge
        return x
    shape = x.shape[:s] + (math.prod(x.shape[s : e + 1]),) + x.shape[e + 1 :]
    return reshape(x, shape)


def squeeze(x, dim=None):
    """Drop size-1 dims (all of them, or those in ``dim`` that have size 1)."""
    if dim is None:
        dims = [i for i, n in enumerate(x.shape) if n == 1]
    else:
        dims = [d for d in _dims(dim, x.shape, "squeeze") if x.ndim and x.shape[d] == 1]
    return reshape(x, tuple(n for i, n in enumerate(x.shape) if i not in dims))


def unsqueeze(x, dim):
    """Insert a size-1 dim at position ``dim`` (−ndim−1 ≤ dim ≤ ndim)."""
    if not -x.ndim - 1 <= dim <= x.ndim:
        raise IndexError(f"unsqueeze: dim {dim} out of range for a tensor with {x.ndim} dims of shape {x.shape}")
    dim = dim % (x.ndim + 1)
    return reshape(x, x.shape[:dim] + (1,) + x.shape[dim:])


def permute(x, *dims):
    """x with its dims reordered: out.shape[i] = x.shape[dims[i]]; ``dims`` ints or one tuple, a permutation of
    0..ndim−1 (negative counted from the end). The gradient is permuted back. Raises ValueError when dims is not a
    permutation."""
    dims = _shape_arg(dims)
    if len(dims) != x.ndim or sorted(d % max(x.ndim, 1) for d in dims) != list(range(x.ndim)):
        raise ValueError(f"permute: dims {dims} are not a permutation of the {x.ndim} dims of shape {x.shape}")
    dims = tuple(d % x.ndim for d in dims)
    if dims == tuple(range(x.ndim)):
        return x
    return Permute.apply(x, perm=dims)


def transpose(x, dim0, dim1):
    """Swap two dims."""
    if x.ndim < 2 and dim0 in (0, -1) and dim1 in (0, -1):
        return x
    perm = list(range(x.ndim))
    a, b = _dim(dim0, x.shape, "transpose"), _dim(dim1, x.shape, "transpose")
    perm[a], perm[b] = perm[b], perm[a]
    return permute(x, perm)


def sum_to_size(x, *size):
    """x summed down to ``size``, to which x must broadcast (torch's ``Tensor.sum_to_size``): the adjoint of
    ``expand``, as each binary op's backward uses it to undo broadcasting. x itself when the shapes agree."""
    size = _shape_arg(size)
    if tuple(size) == x.shape:
        return x
    lead = x.ndim - len(size)
    if lead < 0 or any(n != 1 and n != x.shape[lead + i] for i, n in enumerate(size)):
        raise RuntimeError(f"sum_to_size: size {tuple(size)} is not expandable to the tensor's shape {x.shape}")
    return SumTo.apply(x, shape=tuple(size))


def expand(x, *shape):
    """Broadcast to ``shape`` without copying; -1 keeps a dim; new dims may be added in front."""
    shape = _shape_arg(shape)
    if len(shape) < x.ndim:
        raise ValueError(f"expand: target shape {shape} has fewer dims than the tensor's shape {x.shape}")
    lead = len(shape) - x.ndim
    if -1 in shape[:lead]:
        raise ValueError(f"expand: -1 is not allowed in a new leading dim, got target shape {shape} for {x.shape}")
    target = tuple(x.shape[i - lead] if n == -1 and i >= lead else n for i, n in enumerate(shape))
    for i, n in enumerate(x.shape):
        if n != 1 and n != target[lead + i]:
            raise ValueError(f"expand: the tensor's shape {x.shape} cannot be expanded to {shape} (dim {i})")
    if target == x.shape:
        return x
    return Expand.apply(x, shape=target)


def _index_part(i):
    """One entry of an index: a Tensor, list or tuple (a sequence, as in torch) becomes an array."""
    if isinstance(i, Tensor):
        i = i.data
    if isinstance(i, (list, tuple, np.ndarray)):
        i = np.asarray(i)
        if i.size == 0 and i.dtype.kind == "f":  # an empty list: no indices (NumPy makes it float64)
            i = i.astype(np.int64)
        if i.dtype.kind not in "biu":
            raise IndexError(f"__getitem__: tensors used as indices must be integer or bool, got {i.dtype}")
        if i.ndim == 0 and i.dtype.kind in "iu":
            return int(i)  # a 0-d integer tensor indexes like an int (a select), as in PyTorch
    return i


def _is_int(i):
    return isinstance(i, (int, np.integer)) and not isinstance(i, (bool, np.bool_))


def _index(x, index):
    parts = index if isinstance(index, tuple) else (index,)
    advanced = any(isinstance(i, np.ndarray) and i.dtype.kind != "b" for i in parts)
    return GetItem.apply(x, index=index, advanced=advanced)


def getitem(x, index):
    """``x[index]`` with ints, slices, None, Ellipsis, bool masks and integer arrays. As in PyTorch (not
    NumPy) integers are selects applied before the advanced indices: for x of shape (4, 5, 6),
    ``x[1, :, [0, 0]]`` is ``x[1][:, [0, 0]]``, of shape (5, 2), where NumPy gives (2, 5)."""
    parts = index if isinstance(index, tuple) else (index,)
    parts = tuple(_index_part(i) for i in parts)
    try:
        if any(isinstance(i, np.ndarray) for i in parts) and any(_is_int(i) for i in parts):
            # first pass: the basic part, with a full slice for every dim an advanced index consumes
            basic = sum(((slice(None),) * (i.ndim if i.dtype == np.bool_ else 1) if isinstance(i, np.ndarray) else (i,)
                         for i in parts), ())
            # second pass: the advanced indices on what is left (the ints' dims are gone)
            rest = tuple(i if isinstance(i, np.ndarray) or i is Ellipsis else slice(None)
                         for i in parts if not _is_int(i))
            return _index(_index(x, basic), rest)
        return _index(x, parts if isinstance(index, tuple) else parts[0])
    except IndexError as e:
        raise IndexError(f"__getitem__: index {index!r} is out of range for a tensor of shape {x.shape}: {e}") from None


def cat(tensors, dim=0):
    """Join tensors along an existing dim; all other dims must match."""
    tensors = list(tensors)
    if not tensors:
        raise ValueError("cat: expected a non-empty sequence of tensors")
    ref = tensors[0]
    d = _dim(dim, ref.shape, "cat")
    for t in tensors[1:]:
        if t.ndim != ref.ndim or any(a != b for i, (a, b) in enumerate(zip(t.shape, ref.shape)) if i != d):
            raise ValueError(
                f"cat: shapes must match except in dim {dim}, got {ref.shape} and {t.shape}"
            )
    return Cat.apply(*_common_dtype(tensors), axis=d)


def stack(tensors, dim=0):
    """Stack equal-shaped tensors along a new dim."""
    tensors = list(tensors)
    if not tensors:
        raise ValueError("stack: expected a non-empty sequence of tensors")
    shapes = {t.shape for t in tensors}
    if len(shapes) > 1:
        raise ValueError(f"stack: expected tensors of equal shape, got {sorted(shapes)}")
    if not -tensors[0].ndim - 1 <= dim <= tensors[0].ndim:
        raise IndexError(
            f"stack: dim {dim} out of range for tensors with {tensors[0].ndim} dims of shape {tensors[0].shape}"
        )
    return Stack.apply(*_common_dtype(tensors), axis=dim % (tensors[0].ndim + 1))


def _common_dtype(tensors):
    dt = tensors[0].data.dtype
    for t in tensors[1:]:
        dt = result_type(dt, t.data.dtype)
    return [cast(t, dt) for t in tensors]


def split(x, split_size_or_sections, dim=0):
    """Split into chunks of ``split_size`` (the last may be smaller) or of the given sizes."""
    d = _dim(dim, x.shape, "split")
    n = x.shape[d]
    if isinstance(split_size_or_sections, int):
        if split_size_or_sections <= 0:
            raise ValueError(f"split: split_size must be positive, got {split_size_or_sections}")
        sizes = [split_size_or_sections] * (n // split_size_or_sections)
        if n % split_size_or_sections:
            sizes.append(n % split_size_or_sections)
    else:
        sizes = list(split_size_or_sections)
        if sum(sizes) != n:
            raise ValueError(f"split: sizes {sizes} do not add up to {n}, the size of dim {dim} of {x.shape}")
    out, start = [], 0
    for s in sizes:
        out.append(getitem(x, (slice(None),) * d + (slice(start, start + s),)))
        start += s
    return tuple(out)


def chunk(x, chunks, dim=0):
    """Split into ``chunks`` pieces of size ceil(n / chunks) (fewer if it does not divide), as torch."""
    if chunks <= 0:
        raise ValueError(f"chunk: number of chunks must be positive, got {chunks}")
    n = x.shape[_dim(dim, x.shape, "chunk")]
    return split(x, max(-(-n // chunks), 1), dim)


# ----- reversing, rolling, rotating ---------------------------------------------------------------
def _dims(dims, shape, op):
    """A dim or sequence of dims, each checked and made non-negative; a repeated dim is an error (as torch)."""
    dims = (dims,) if isinstance(dims, int) else tuple(dims)
    out = tuple(_dim(d, shape, op) for d in dims)
    if len(set(out)) != len(out):
        raise RuntimeError(f"{op}: a dim appears more than once in dims {dims} (shape {shape})")
    return out


def flip(x, dims):
    """Reverse the order of entries along each dim in ``dims``."""
    axes = _dims(dims, x.shape, "flip")
    if not axes or x.ndim == 0:
        return x
    return Flip.apply(x, axes=axes)


def fliplr(x):
    """Flip left/right: reverse dim 1 (needs ≥ 2 dims)."""
    if x.ndim < 2:
        raise RuntimeError(f"fliplr: input must have at least 2 dims, got shape {x.shape}")
    return flip(x, (1,))


def flipud(x):
    """Flip up/down: reverse dim 0 (needs ≥ 1 dim)."""
    if x.ndim < 1:
        raise RuntimeError(f"flipud: input must have at least 1 dim, got shape {x.shape}")
    return flip(x, (0,))


def roll(x, shifts, dims=None):
    """Shift entries cyclically by ``shifts`` along ``dims`` (one shift per dim); ``dims=None``: shift the
    flattened tensor by one shift and keep the shape. out[(i + shift) mod n] = x[i]."""
    shifts = (shifts,) if isinstance(shifts, int) else tuple(shifts)
    if not shifts:
        raise RuntimeError("roll: shifts must not be empty")
    if dims is None:
        if len(shifts) != 1:
            raise RuntimeError(f"roll: without dims, shifts must be one number, got {shifts}")
        return Roll.apply(x, shifts=shifts[0], axes=None)
    axes = (dims,) if isinstance(dims, int) else tuple(dims)
    if len(shifts) != len(axes):
        raise RuntimeError(f"roll: shifts {shifts} and dims {axes} must have the same length")
    axes = tuple(_dim(d, x.shape, "roll") for d in axes)
    if x.ndim == 0:  # one entry: nothing moves
        return x
    return Roll.apply(x, shifts=shifts, axes=axes)


def rot90(x, k=1, dims=(0, 1)):
    """Rotate by k·90° in the plane of ``dims``, from the first dim towards the second (as torch): one turn
    is flip(dims[1]) then swapping the two dims."""
    dims = tuple(dims)
    if len(dims) != 2:
        raise RuntimeError(f"rot90: dims must be two dims, got {dims}")
    if x.ndim < 2:
        raise RuntimeError(f"rot90: input must have at least 2 dims, got shape {x.shape}")
    d0, d1 = _dim(dims[0], x.shape, "rot90"), _dim(dims[1], x.shape, "rot90")
    if d0 == d1:
        raise RuntimeError(f"rot90: the two dims must differ, got dims {dims} (shape {x.shape})")
    k %= 4
    if k == 1:
        return transpose(flip(x, (d1,)), d0, d1)
    if k == 2:
        return flip(x, (d0, d1))
    if k == 3:
        return transpose(flip(x, (d0,)), d0, d1)
    return x


# ----- repeating ----------------------------------------------------------------------------------
def repeat(x, *sizes):
    """``Tensor.repeat``: tile x ``sizes[i]`` times along dim i; len(sizes) ≥ x.ndim, extra sizes add
    leading dims. out.shape[i] = sizes[i]·shape[i] (shape padded with leading 1s)."""
    reps = _shape_arg(sizes)
    if len(reps) < x.ndim:
        raise RuntimeError(f"repeat: {len(reps)} repeats {reps} are fewer than the {x.ndim} dims of shape {x.shape}")
    if any(r < 0 for r in reps):
        raise RuntimeError(f"repeat: repeats must be non-negative, got {reps}")
    return Tile.apply(x, reps=reps)


def tile(x, dims):
    """``repeat`` where ``dims`` may be shorter than x.ndim (then padded with leading 1s: repeat the
    trailing dims)."""
    reps = _shape_arg((dims,) if isinstance(dims, int) else dims)
    return repeat(x, (1,) * (x.ndim - len(reps)) + reps)


def repeat_interleave(x, repeats=None, dim=None, *, output_size=None):
    """Repeat each slice along ``dim`` in place: x[j] repeats[j] times in a row (``repeats`` an int, or a
    tensor of one count per slice, or of one count for all); ``dim=None`` works on the flattened tensor.
    ``repeat_interleave(counts)`` alone gives the indices [0]*counts[0] + [1]*counts[1] + ... ."""
    if repeats is None:  # torch.repeat_interleave(repeats): x holds the counts
        counts = _repeat_counts(x, 1 if x.ndim == 0 else x.numel(), "repeat_interleave")
        return Tensor(np.repeat(np.arange(counts.size), counts))
    if dim is None:
        x, dim = flatten(x), 0
    axis = _dim(dim, x.shape, "repeat_interleave")
    n = x.shape[axis] if x.ndim else 1
    counts = _repeat_counts(repeats, n, "repeat_interleave")
    if output_size is not None and output_size != counts.sum():
        raise RuntimeError(f"repeat_interleave: output_size is {output_size}, but the repeats add up to {counts.sum()}")
    if x.ndim == 0:
        x = reshape(x, 1)
    return RepeatInterleave.apply(x, repeats=counts, axis=axis)


def _repeat_counts(repeats, n, op):
    """One non-negative integer count per slice: an int or a 1-element tensor counts for every slice."""
    counts = np.asarray(repeats.data if isinstance(repeats, Tensor) else repeats)
    if counts.dtype.kind not in "iu":
        raise TypeError(f"{op}: repeats must be integers, got {counts.dtype}")
    if counts.ndim > 1:
        raise RuntimeError(f"{op}: repeats must be an int or a 0-d or 1-d tensor, got shape {counts.shape}")
    if counts.size == 1:
        counts = np.full(n, counts.item(), dtype=np.int64)
    if counts.shape != (n,):
        raise RuntimeError(f"{op}: repeats has {counts.size} entries, but the input has {n} slices along dim")
    if (counts < 0).any():
        raise RuntimeError(f"{op}: repeats must be non-negative, got {counts.tolist()}")
    return counts


# ----- triangles and diagonals --------------------------------------------------------------------
def _matrices(x, op):
    if x.ndim < 2:
        raise RuntimeError(f"{op}: input must have at least 2 dims (a matrix or a batch of them), got shape {x.shape}")


def tril(x, diagonal=0):
    """Lower triangle of the last two dims: x[..., i, j] where j − i ≤ diagonal, else 0."""
    _matrices(x, "tril")
    return Triangle.apply(x, k=diagonal, upper=False)


def triu(x, diagonal=0):
    """Upper triangle of the last two dims: x[..., i, j] where j − i ≥ diagonal, else 0."""
    _matrices(x, "triu")
    return Triangle.apply(x, k=diagonal, upper=True)


def _two_dims(dim1, dim2, shape, op):
    a, b = _dim(dim1, shape, op), _dim(dim2, shape, op)
    if a == b:
        raise RuntimeError(f"{op}: dim1 and dim2 must differ, got {dim1} and {dim2} (shape {shape})")
    return a, b


def diagonal(x, offset=0, dim1=0, dim2=1):
    """out[..., i] = x[i, i + offset] over dims dim1, dim2 (offset > 0: above the main diagonal); those two
    dims go, the diagonal becomes the last dim (empty where offset is past the edge)."""
    a, b = _two_dims(dim1, dim2, x.shape, "diagonal")
    return Diagonal.apply(x, offset=offset, axis1=a, axis2=b)


def diag_embed(x, offset=0, dim1=-2, dim2=-1):
    """Put the last dim of x on the ``offset`` diagonal of two new dims dim1, dim2 (of the output, which has
    one more dim), of size n + |offset|; zeros elsewhere."""
    if x.ndim == 0:
        raise IndexError(f"diag_embed: input must have at least 1 dim, got shape {x.shape}")
    a, b = _two_dims(dim1, dim2, x.shape + (1,), "diag_embed")
    return DiagEmbed.apply(x, offset=offset, axis1=a, axis2=b)


def diag(x, diagonal=0):
    """1-D x: the square matrix with x on the ``diagonal`` (diag_embed); 2-D x: that diagonal of x, 1-D."""
    if x.ndim == 1:
        return DiagEmbed.apply(x, offset=diagonal, axis1=0, axis2=1)
    if x.ndim == 2:
        return Diagonal.apply(x, offset=diagonal, axis1=0, axis2=1)
    raise RuntimeError(f"diag: expected a 1-D or 2-D tensor, got shape {x.shape}")


def trace(x):
    """Sum of the main diagonal of a matrix: Σ_i x[i, i] (integers sum to int64)."""
    if x.ndim != 2:
        raise RuntimeError(f"trace: expected a matrix, got shape {x.shape}")
    return reduce.sum(diagonal(x))


# ----- moving, swapping and naming dims -----------------------------------------------------------
def unflatten(x, dim, sizes):
    """Split dim ``dim`` into ``sizes`` (their product is its size; one may be -1): flatten's inverse."""
    d = _dim(dim, x.shape, "unflatten")
    sizes = tuple(sizes)
    if not sizes:
        raise RuntimeError("unflatten: sizes must be non-empty")
    known = math.prod(s for s in sizes if s != -1)
    n = x.shape[d]
    if sizes.count(-1) > 1 or (-1 in sizes and (known == 0 or n % known)) or (-1 not in sizes and known != n):
        raise RuntimeError(f"unflatten: sizes {sizes} don't multiply up to {n}, the size of dim {dim} of {x.shape}")
    sizes = tuple(n // known if s == -1 else s for s in sizes)
    return reshape(x, x.shape[:d] + sizes + x.shape[d + 1 :])


def movedim(x, source, destination):
    """Move dims ``source`` to positions ``destination`` (ints or equal-length tuples); the other dims keep
    their order."""
    src, dst = _dims(source, x.shape, "movedim"), _dims(destination, x.shape, "movedim")
    if len(src) != len(dst):
        raise RuntimeError(f"movedim: source {source} and destination {destination} must have the same length")
    perm = [None] * x.ndim
    for s, d in zip(src, dst):
        perm[d] = s
    rest = iter(d for d in range(x.ndim) if d not in src)
    return permute(x, tuple(p if p is not None else next(rest) for p in perm))


moveaxis = movedim


def swapaxes(x, axis0, axis1):
    """NumPy's name for ``transpose(x, axis0, axis1)``."""
    return transpose(x, axis0, axis1)


def swapdims(x, dim0, dim1):
    """Another name for ``transpose(x, dim0, dim1)``."""
    return transpose(x, dim0, dim1)


def t(x):
    """Transpose of a matrix; a 0-d or 1-d tensor is returned as it is."""
    if x.ndim > 2:
        raise RuntimeError(f"t: expects a tensor with at most 2 dims, got shape {x.shape}; use transpose or mT")
    return transpose(x, 0, -1)


def matrix_transpose(x):
    """``x.mT``: swap the last two dims (a batch of matrices transposed)."""
    if x.ndim < 2:
        raise RuntimeError(f"mT: only supported on matrices or batches of matrices, got shape {x.shape}")
    return transpose(x, -2, -1)


# ----- slices and windows -------------------------------------------------------------------------
def narrow(x, dim, start, length):
    """x[..., start : start + length, ...] along ``dim`` (start may be negative, counted from the end)."""
    d = _dim(dim, x.shape, "narrow")
    n = x.shape[d]
    start = int(start)  # an int or a 0-d integer tensor
    if not -n <= start <= n:
        raise IndexError(f"narrow: start {start} out of range [-{n}, {n}] for dim {dim} of shape {x.shape}")
    if length < 0:
        raise RuntimeError(f"narrow: length must be non-negative, got {length}")
    if start < 0:
        start += n
    if start + length > n:
        raise RuntimeError(f"narrow: start ({start}) + length ({length}) exceeds the size {n} of dim {dim} of {x.shape}")
    return getitem(x, (slice(None),) * d + (slice(start, start + length),))


def narrow_copy(x, dim, start, length):
    """``narrow``, as a copy."""
    return narrow(x, dim, start, length).clone()


def unfold(x, dimension, size, step):
    """``Tensor.unfold``: the windows x[w·step : w·step + size] along ``dimension``: that dim becomes the
    (n − size) // step + 1 windows and a new last dim holds each window's ``size`` entries."""
    d = _dim(dimension, x.shape, "unfold")
    n = x.shape[d] if x.ndim else 1
    if size > n or size < 0:
        raise RuntimeError(f"unfold: size {size} must be between 0 and {n}, the size of dim {dimension} of {x.shape}")
    if step <= 0:
        raise RuntimeError(f"unfold: step must be positive, got {step}")
    if x.ndim == 0:
        return reshape(x, 1)
    return Unfold.apply(x, axis=d, size=size, step=step)


# ----- many tensors: split into, build from -------------------------------------------------------
def unbind(x, dim=0):
    """The slices x[..., i, ...] along ``dim``, as a tuple (the dim removed)."""
    if x.ndim == 0:
        raise IndexError("unbind: a 0-d tensor has no dim to unbind")
    return Unbind.apply(x, axis=_dim(dim, x.shape, "unbind"))


def tensor_split(x, indices_or_sections, dim=0):
    """Split along ``dim`` into ``sections`` near-equal pieces (the first n % sections one longer), or at the
    given ``indices`` (x[:i0], x[i0:i1], ..., x[ik:], Python slicing: some may be empty)."""
    if x.ndim == 0:
        raise RuntimeError("tensor_split: expected a tensor with at least 1 dim, got a 0-d tensor")
    d = _dim(dim, x.shape, "tensor_split")
    n = x.shape[d]
    split_at = indices_or_sections
    if isinstance(split_at, Tensor):
        if split_at.data.dtype.kind not in "iu" or split_at.ndim > 1:
            raise RuntimeError(f"tensor_split: a tensor of sections or indices must be a 0-d or 1-d integer tensor, "
                               f"got dtype {split_at.dtype} and shape {split_at.shape}")
        split_at = split_at.item() if split_at.ndim == 0 else split_at.tolist()
    if isinstance(split_at, int):
        if split_at <= 0:
            raise RuntimeError(f"tensor_split: the number of sections must be positive, got {split_at}")
        size, extra = divmod(n, split_at)
        bounds = np.cumsum([0] + [size + 1] * extra + [size] * (split_at - extra))
        pieces = list(zip(bounds[:-1], bounds[1:]))
    else:
        cuts = [0] + list(split_at) + [n]
        pieces = list(zip(cuts[:-1], cuts[1:]))
    return tuple(getitem(x, (slice(None),) * d + (slice(int(a), int(b)),)) for a, b in pieces)


def _split_dim(x, indices_or_sections, dim, op, min_ndim):
    if x.ndim < min_ndim:
        raise RuntimeError(f"{op}: needs a tensor with at least {min_ndim} dims, got shape {x.shape}")
    if isinstance(indices_or_sections, int) and (indices_or_sections <= 0 or x.shape[dim] % indices_or_sections):
        raise RuntimeError(f"{op}: dim {dim} of size {x.shape[dim]} (shape {x.shape}) cannot be split into "
                           f"{indices_or_sections} equal parts")
    return tensor_split(x, indices_or_sections, dim)


def hsplit(x, indices_or_sections):
    """Split along dim 1 (dim 0 of a 1-D tensor); an int number of sections must divide it evenly."""
    return _split_dim(x, indices_or_sections, 0 if x.ndim == 1 else 1, "hsplit", 1)


def vsplit(x, indices_or_sections):
    """Split along dim 0 of a tensor with ≥ 2 dims; an int number of sections must divide it evenly."""
    return _split_dim(x, indices_or_sections, 0, "vsplit", 2)


def dsplit(x, indices_or_sections):
    """Split along dim 2 of a tensor with ≥ 3 dims; an int number of sections must divide it evenly."""
    return _split_dim(x, indices_or_sections, 2, "dsplit", 3)


def _atleast(tensors, ndim):
    """x with leading/trailing size-1 dims up to ``ndim``: () → (1,)…; (n,) → (1, n) → (1, n, 1);
    (m, n) → (m, n, 1). One tensor gives one tensor; several (or a list) give a tuple."""
    one = len(tensors) == 1 and isinstance(tensors[0], Tensor)
    if len(tensors) == 1 and not one:
        tensors = tuple(tensors[0])
    out = []
    for x in tensors:
        if x.ndim >= ndim:
            out.append(x)
        elif x.ndim == 0:
            out.append(reshape(x, (1,) * ndim))
        elif x.ndim == 1:
            out.append(reshape(x, (1, -1)) if ndim == 2 else reshape(x, (1, -1, 1)))
        else:
            out.append(unsqueeze(x, -1))
    return out[0] if one else tuple(out)


def atleast_1d(*tensors):
    """Each tensor with at least 1 dim: a 0-d one becomes shape (1,)."""
    return _atleast(tensors, 1)


def atleast_2d(*tensors):
    """Each tensor with at least 2 dims: () → (1, 1), (n,) → (1, n)."""
    return _atleast(tensors, 2)


def atleast_3d(*tensors):
    """Each tensor with at least 3 dims: () → (1, 1, 1), (n,) → (1, n, 1), (m, n) → (m, n, 1)."""
    return _atleast(tensors, 3)


def _nonempty(tensors, op):
    tensors = list(tensors)
    if not tensors:
        raise RuntimeError(f"{op}: expected a non-empty sequence of tensors")
    return tensors


def hstack(tensors):
    """Join side by side: along dim 1, or dim 0 if they are 1-D (0-d ones count as 1-D)."""
    tensors = atleast_1d(_nonempty(tensors, "hstack"))
    return cat(tensors, 0 if tensors[0].ndim == 1 else 1)


def vstack(tensors):
    """Join one above the other: along dim 0 of each tensor made at least 2-D ((n,) → (1, n))."""
    return cat(atleast_2d(_nonempty(tensors, "vstack")), 0)


row_stack = vstack


def dstack(tensors):
    """Join along the depth dim 2 of each tensor made at least 3-D."""
    return cat(atleast_3d(_nonempty(tensors, "dstack")), 2)


def column_stack(tensors):
    """Join as columns: along dim 1, a 0-d or 1-d tensor (n,) becoming one column (n, 1)."""
    tensors = _nonempty(tensors, "column_stack")
    return cat([reshape(x, (x.numel(), 1)) if x.ndim <= 1 else x for x in tensors], 1)


def meshgrid(*tensors, indexing="ij"):
    """Coordinate grids: for 1-D (or 0-d) tensors of sizes n1, n2, ..., output i holds tensor i's values
    along dim i of the shape (n1, n2, ...) and repeats them along the others. indexing='xy' swaps the first
    two dims of that shape (rows follow the second tensor, as in NumPy and MATLAB)."""
    if len(tensors) == 1 and not isinstance(tensors[0], Tensor):
        tensors = tuple(tensors[0])
    if not tensors:
        raise RuntimeError("meshgrid: expected a non-empty sequence of tensors")
    if indexing not in ("ij", "xy"):
        raise ValueError(f"meshgrid: indexing must be 'ij' or 'xy', got {indexing!r}")
    for x in tensors:
        if x.ndim > 1:
            raise RuntimeError(f"meshgrid: expected 0-d or 1-d tensors, got shape {x.shape}")
    if len({x.dtype for x in tensors}) > 1:
        raise RuntimeError(f"meshgrid: expected tensors of one dtype, got {[str(x.dtype) for x in tensors]}")
    where = list(range(len(tensors)))  # the output dim that each tensor runs along
    if indexing == "xy" and len(tensors) > 1:
        where[0], where[1] = 1, 0
    grid = [0] * len(tensors)
    for x, d in zip(tensors, where):
        grid[d] = x.numel()
    out = []
    for x, d in zip(tensors, where):
        line = [1] * len(tensors)
        line[d] = -1
        out.append(expand(reshape(x, tuple(line)), tuple(grid)))
    return tuple(out)
