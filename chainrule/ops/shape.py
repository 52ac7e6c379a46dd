"""Shape, layout and dtype ops: reshape (view, flatten, squeeze, unsqueeze), permute (transpose, .T),
expand, indexing, cat, stack, split/chunk, constant pad, and the dtype cast.

Their backward only moves gradient entries back to where the inputs were; nothing is computed.
"""
import math

import numpy as np

from ..autograd import Function, unbroadcast
from ..dtypes import result_type
from ..tensor import Tensor


class Cast(Function):
    """out = a as another dtype; the gradient is cast back to the input's dtype."""

    def forward(self, a, *, dtype):
        self.dtype = a.dtype
        return a.astype(dtype)

    def backward(self, g):
        return (g.astype(self.dtype),)


class Reshape(Function):
    """out = a viewed with a new shape of the same size."""

    def forward(self, a, *, shape):
        self.shape = a.shape
        return a.reshape(shape)

    def backward(self, g):
        return (g.reshape(self.shape),)


class Permute(Function):
    """out = a with dims reordered: out.shape[i] = a.shape[perm[i]]; the backward applies the inverse."""

    def forward(self, a, *, perm):
        self.inverse = tuple(np.argsort(perm))
        return a.transpose(perm)

    def backward(self, g):
        return (g.transpose(self.inverse),)


class Expand(Function):
    """out = a broadcast to ``shape`` (a read-only view); the backward sums over the copies."""

    def forward(self, a, *, shape):
        self.shape = a.shape
        return np.broadcast_to(a, shape)

    def backward(self, g):
        return (unbroadcast(g, self.shape),)


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


class Cat(Function):
    """out = the inputs joined along ``axis``; the backward slices g back into pieces."""

    def forward(self, *arrays, axis):
        self.axis = axis
        self.bounds = np.cumsum([a.shape[axis] for a in arrays])[:-1]
        return np.concatenate(arrays, axis=axis)

    def backward(self, g):
        return tuple(np.split(g, self.bounds, axis=self.axis))


class Stack(Function):
    """out = the inputs stacked along a new ``axis``; the backward takes slice i for input i."""

    def forward(self, *arrays, axis):
        self.axis = axis
        return np.stack(arrays, axis=axis)

    def backward(self, g):
        return tuple(np.take(g, i, axis=self.axis) for i in range(g.shape[self.axis]))


class Pad(Function):
    """out = a padded with a constant; ``widths`` is NumPy's ((before, after), ...) per dim, ≥ 0."""

    def forward(self, a, *, widths, value):
        self.crop = tuple(slice(lo, lo + n) for (lo, _), n in zip(widths, a.shape))
        return np.pad(a, widths, mode="constant", constant_values=value)

    def backward(self, g):
        return (g[self.crop],)


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
        dims = [_dim(d, x.shape, "squeeze") for d in ((dim,) if isinstance(dim, int) else dim)]
        dims = [d for d in dims if x.ndim and x.shape[d] == 1]
    return reshape(x, tuple(n for i, n in enumerate(x.shape) if i not in dims))


def unsqueeze(x, dim):
    """Insert a size-1 dim at position ``dim`` (−ndim−1 ≤ dim ≤ ndim)."""
    if not -x.ndim - 1 <= dim <= x.ndim:
        raise IndexError(f"unsqueeze: dim {dim} out of range for a tensor with {x.ndim} dims of shape {x.shape}")
    dim = dim % (x.ndim + 1)
    return reshape(x, x.shape[:dim] + (1,) + x.shape[dim:])


def permute(x, *dims):
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


def expand(x, *shape):
    """Broadcast to ``shape`` without copying; -1 keeps a dim; new dims may be added in front."""
    shape = _shape_arg(shape)
    if len(shape) < x.ndim:
        raise ValueError(f"expand: target shape {shape} has fewer dims than the tensor's shape {x.shape}")
    lead = len(shape) - x.ndim
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


def pad(x, pad, mode="constant", value=0.0):
    """Constant padding, ``pad`` as in torch.nn.functional.pad: (left, right) of the last dim first,
    then the dim before it, and so on. Negative widths are not supported."""
    if mode != "constant":
        raise ValueError(f"pad: only mode='constant' is supported, got {mode!r}")
    if len(pad) % 2 or len(pad) // 2 > x.ndim:
        raise ValueError(f"pad: pad {tuple(pad)} must have an even length of at most 2·ndim = {2 * x.ndim}")
    if any(p < 0 for p in pad):
        raise ValueError(f"pad: negative padding {tuple(pad)} is not supported")
    widths = [(0, 0)] * x.ndim
    for i in range(len(pad) // 2):
        widths[x.ndim - 1 - i] = (pad[2 * i], pad[2 * i + 1])
    return Pad.apply(x, widths=tuple(widths), value=value)
