"""Sorting and selection: sort argsort topk kthvalue median mode unique nonzero where(cond)
masked_select searchsorted bucketize.

An order statistic picks input entries; its gradient goes back to the entries it picked, unchanged.
So every differentiable op here computes *which* entries (indices, in NumPy, outside the graph) and
then one node, ``SelectAlong``, gathers them — its backward puts g back at those indices.

Where torch leaves the choice among tied values unspecified (kthvalue, median along a dim, topk with
``sorted=False``), the stable sort decides: the tie that comes first in the input comes first.
"""
import numpy as np

from ..autograd import Function, constant, unbroadcast
from ..dtypes import int64
from ..tensor import Tensor
from . import arithmetic
from .index import positions
from .reduce import MaxMin, normalize_dims
from .shape import PutItem


class SelectAlong(Function):
    """(values, indices): values = a gathered at ``indices`` along ``axis`` (values[..., j, ...] =
    a[..., indices[..., j, ...], ...]); ``keepdim=False`` drops ``axis`` (one index per slice).
    da = g put back at ``indices``, zeros elsewhere (each slice's indices are distinct)."""

    def forward(self, a, *, indices, axis, keepdim=True):
        self.shape, self.indices, self.axis, self.keepdim = a.shape, indices, axis, keepdim
        values = np.take_along_axis(a, indices, axis=axis)
        if not keepdim:
            values, indices = np.squeeze(values, axis), np.squeeze(indices, axis)
        return values, indices.astype(np.int64, copy=False)

    def backward(self, g, g_indices):
        gx = np.zeros(self.shape, dtype=g.dtype)
        np.put_along_axis(gx, self.indices, g if self.keepdim else np.expand_dims(g, self.axis), axis=self.axis)
        return (gx,)

    def backward_graph(self, g, g_indices):
        g = g if self.keepdim else g.unsqueeze(self.axis)
        return (PutItem.apply(g, shape=self.shape, index=positions(self.indices, self.axis), advanced=False),)


class MedianAll(Function):
    """out = the lower median of all entries: the ⌊(n−1)/2⌋-th smallest (NaN if there is a NaN);
    da = g shared equally among the entries equal to out (among the NaNs, if out is NaN) — torch's rule."""

    def forward(self, a):
        self.a = a
        flat = np.sort(a.reshape(-1))
        if flat.size == 0:
            self.out = np.array(np.nan, dtype=a.dtype)
        else:
            self.out = flat[-1] if np.isnan(flat[-1]) else flat[(flat.size - 1) // 2]
        return np.asarray(self.out, dtype=a.dtype)

    def backward(self, g):
        mask = self._mask()
        return (np.where(mask, g / mask.sum(), 0).astype(self.a.dtype, copy=False),)

    def backward_graph(self, g):
        mask = self._mask()
        return (g * constant(mask / mask.sum(), g),)

    def _mask(self):
        """The entries that share the gradient: those equal to the median (the NaNs, if it is NaN)."""
        return np.isnan(self.a) if np.isnan(self.out) else self.a == self.out


class MaskedSelect(Function):
    """out = the entries of a (broadcast with mask) where mask is True, in row-major order, as a 1-D
    tensor; da = g put back at those places (then summed over broadcast dims)."""

    def forward(self, a, *, mask):
        self.a_shape = a.shape
        shape = np.broadcast_shapes(a.shape, mask.shape)
        self.mask = np.broadcast_to(mask, shape)
        return np.broadcast_to(a, shape)[self.mask]

    def backward(self, g):
        gx = np.zeros(self.mask.shape, dtype=g.dtype)
        gx[self.mask] = g
        return (unbroadcast(gx, self.a_shape),)

    def backward_graph(self, g):
        return (PutItem.apply(g, shape=self.mask.shape, index=self.mask, advanced=False).sum_to_size(self.a_shape),)


def _check_tensor(x, op, name="input"):
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}: expected a Tensor as {name}, got {type(x).__name__}")


def _axis(x, dim, op):
    _check_tensor(x, op)
    (axis,) = normalize_dims(dim, x.shape, op) or (0,)
    return axis


def _order(a, axis, descending):
    """Indices that sort ``a`` along ``axis``, stably (ties keep their input order); NaN counts as the
    largest value, as in torch. Descending: sort the reversed array ascending, reverse the result back."""
    if not descending:
        return np.argsort(a, axis=axis, kind="stable")
    n = a.shape[axis]
    return n - 1 - np.flip(np.argsort(np.flip(a, axis), axis=axis, kind="stable"), axis)


def _select(x, indices, axis, keepdim=True):
    """SelectAlong on ``x``; a 0-d ``x`` (seen as one element) gives 0-d values and indices back."""
    if x.ndim:
        return MaxMin(*SelectAlong.apply(x, indices=indices, axis=axis, keepdim=keepdim))
    values, idx = SelectAlong.apply(x.reshape(1), indices=indices.reshape(1), axis=0)
    return MaxMin(values.reshape(()), idx.reshape(()))


def _nonempty(x, axis, dim, op):
    if x.ndim and x.shape[axis] == 0:
        raise IndexError(f"{op}: expected reduction dim {dim} of the input of shape {x.shape} to have non-zero size")


def sort(input, dim=-1, descending=False, *, stable=False):
    """(values, indices): ``input`` sorted along ``dim`` and where each value came from. Always stable
    (``stable`` is accepted for torch's signature); NaN sorts as the largest value."""
    axis = _axis(input, dim, "sort")
    data = input.data if input.ndim else input.data.reshape(1)
    return _select(input, _order(data, axis, descending), axis)


def argsort(input, dim=-1, descending=False, *, stable=False):
    """The indices that sort ``input`` along ``dim`` (int64, no gradient); stable, as ``sort``."""
    axis = _axis(input, dim, "argsort")
    if not input.ndim:
        return Tensor(np.zeros((), dtype=np.int64))
    return Tensor(_order(input.data, axis, descending).astype(np.int64, copy=False))


def topk(input, k, dim=-1, largest=True, sorted=True):
    """(values, indices) of the ``k`` largest (``largest=False``: smallest) entries along ``dim``, largest
    first (smallest first). ``sorted=False`` is accepted and returns them sorted too (torch leaves that
    order unspecified)."""
    axis = _axis(input, dim, "topk")
    n = input.shape[axis] if input.ndim else 1
    if not isinstance(k, (int, np.integer)) or not 0 <= k <= n:
        raise RuntimeError(f"topk: selected index k out of range: k = {k} for dim {dim} of size {n} "
                           f"(input shape {input.shape})")
    if not input.ndim:
        k = 1  # torch returns a 0-d input itself, for k = 0 too
    data = input.data if input.ndim else input.data.reshape(1)
    order = _order(data, axis, largest)
    return _select(input, np.take(order, np.arange(k), axis=axis), axis)


def _select_one(input, positions, axis, keepdim):
    """(values, indices) of the entries at sorted ``positions`` (one per slice, a keepdim-shaped array)."""
    data = input.data if input.ndim else input.data.reshape(1)
    order = _order(data, axis, False)
    indices = np.take_along_axis(order, positions, axis=axis)
    return _select(input, indices, axis, keepdim or not input.ndim)


def kthvalue(input, k, dim=-1, keepdim=False):
    """(values, indices): the ``k``-th smallest entry (1-based) along ``dim`` and where it is."""
    axis = _axis(input, dim, "kthvalue")
    _nonempty(input, axis, dim, "kthvalue")
    n = input.shape[axis] if input.ndim else 1
    if not isinstance(k, (int, np.integer)) or not 1 <= k <= n:
        raise RuntimeError(f"kthvalue: selected number k out of range: k = {k} for dim {dim} of size {n} "
                           f"(input shape {input.shape}); expected 1 ≤ k ≤ {n}")
    shape = list(input.shape) or [1]
    shape[axis] = 1
    return _select_one(input, np.full(shape, k - 1), axis, keepdim)


def median(input, dim=None, keepdim=False):
    """The lower median, the ⌊(n−1)/2⌋-th smallest entry (torch's median, not the mean of the two middle
    ones); NaN if a NaN is present.

    Without ``dim``: a 0-d tensor of all entries' median (gradient shared among the entries equal to it).
    With ``dim``: (values, indices) along ``dim`` (the gradient goes to the index)."""
    if dim is None:
        _check_tensor(input, "median")
        return MedianAll.apply(input)
    axis = _axis(input, dim, "median")
    _nonempty(input, axis, dim, "median")
    data = input.data if input.ndim else input.data.reshape(1)
    n = data.shape[axis]
    nans = np.isnan(data).sum(axis=axis, keepdims=True) if data.dtype.kind == "f" else np.zeros(())
    positions = np.where(nans > 0, n - nans, (n - 1) // 2)  # the first NaN, once sorted to the end
    positions = np.broadcast_to(positions, data.shape[:axis] + (1,) + data.shape[axis + 1:])
    return _select_one(input, positions, axis, keepdim)


def mode(input, dim=-1, keepdim=False):
    """(values, indices): the most frequent value along ``dim`` (the smallest of equally frequent ones)
    and the last position where it occurs, as torch."""
    axis = _axis(input, dim, "mode")
    _nonempty(input, axis, dim, "mode")
    data = np.moveaxis(input.data if input.ndim else input.data.reshape(1), axis, -1)
    rows = data.reshape(-1, data.shape[-1])
    last = np.empty(len(rows), dtype=np.int64)
    for r, row in enumerate(rows):
        values, counts = np.unique(row, return_counts=True)
        winner = values[np.argmax(counts)]  # argmax takes the first, i.e. smallest, of the most frequent
        last[r] = np.flatnonzero(row == winner)[-1]
    indices = np.expand_dims(last.reshape(data.shape[:-1]), axis)
    return _select(input, indices, axis, keepdim or not input.ndim)


def unique(input, sorted=True, return_inverse=False, return_counts=False, dim=None):
    """The distinct values of ``input`` (flattened), sorted; with ``return_inverse`` also where each input
    entry went (input's shape), with ``return_counts`` how often each occurs. Not differentiable.
    Always sorted (torch may sort anyway with ``sorted=False``); ``dim`` (unique slices) is not supported."""
    _check_tensor(input, "unique")
    if dim is not None:
        raise NotImplementedError(f"unique: dim={dim} (unique slices along a dim) is not supported; "
                                  "only dim=None (unique values of the flattened input)")
    values, inverse, counts = np.unique(input.data.reshape(-1), return_inverse=True, return_counts=True)
    out = [Tensor(values)]
    if return_inverse:
        out.append(Tensor(inverse.reshape(input.shape).astype(np.int64)))
    if return_counts:
        out.append(Tensor(counts.astype(np.int64)))
    return out[0] if len(out) == 1 else tuple(out)


def nonzero(input, *, as_tuple=False):
    """Indices of the non-zero entries: an (n, ndim) int64 tensor, one row per entry in row-major order;
    with ``as_tuple``, ndim 1-D tensors, one per dim (a 0-d input counts as 1-D). Not differentiable."""
    _check_tensor(input, "nonzero")
    if as_tuple:
        data = input.data if input.ndim else input.data.reshape(1)
        return tuple(Tensor(i.astype(np.int64)) for i in np.nonzero(data))
    return Tensor(np.argwhere(input.data).astype(np.int64))


def where(condition, input=None, other=None):
    """``where(condition, input, other)``: elementwise ``input if condition else other`` (differentiable);
    ``where(condition)``: ``nonzero(condition, as_tuple=True)``, as torch."""
    if input is None and other is None:
        return nonzero(condition if isinstance(condition, Tensor) else Tensor(condition), as_tuple=True)
    if input is None or other is None:
        raise TypeError("where: give both input and other, or neither (where(condition) is nonzero(as_tuple=True))")
    return arithmetic.where(condition, input, other)


def masked_select(input, mask):
    """The entries of ``input`` where the bool ``mask`` is True (the two broadcast together), as a 1-D
    tensor in row-major order; differentiable in ``input``."""
    _check_tensor(input, "masked_select")
    _check_tensor(mask, "masked_select", "mask")
    if mask.data.dtype != np.bool_:
        raise RuntimeError(f"masked_select: expected a bool mask, got dtype {mask.dtype}")
    try:
        np.broadcast_shapes(input.shape, mask.shape)
    except ValueError:
        raise RuntimeError(f"masked_select: the input's shape {input.shape} and the mask's {mask.shape} "
                           "are not broadcastable") from None
    return MaskedSelect.apply(input, mask=mask.data)


def _side(right, side, op):
    if side is None:
        return "right" if right else "left"
    if side not in ("left", "right"):
        raise RuntimeError(f"{op}: side can only be 'left' or 'right', got {side!r}")
    if right and side == "left":
        raise RuntimeError(f"{op}: side and right can't be set to opposites, got side='left' while right=True")
    return side


def searchsorted(sorted_sequence, input, *, out_int32=False, right=False, side=None, sorter=None):
    """For each value v of ``input``, the index i at which inserting it keeps ``sorted_sequence`` sorted:
    seq[i−1] < v ≤ seq[i] (side='left', the default) or seq[i−1] ≤ v < seq[i] (side='right' / right=True).
    ``sorted_sequence`` is 1-D (for all of input) or N-D, sorted along its last dim, its leading dims equal
    to input's (one sequence per row). ``input`` may be a number (0-d result). ``sorter``: indices that
    sort an unsorted sequence along its last dim. int64 (int32 with ``out_int32``); not differentiable."""
    _check_tensor(sorted_sequence, "searchsorted", "sorted_sequence")
    side = _side(right, side, "searchsorted")
    seq = sorted_sequence.data
    values = input.data if isinstance(input, Tensor) else np.asarray(input)
    if seq.ndim == 0:
        raise RuntimeError("searchsorted: sorted_sequence must have at least one dimension, got a 0-d tensor")
    if sorter is not None:
        order = sorter.data if isinstance(sorter, Tensor) else np.asarray(sorter)
        if order.shape != seq.shape:
            raise RuntimeError(f"searchsorted: sorter of shape {order.shape} must have the shape of "
                             f"sorted_sequence, {seq.shape}")
        seq = np.take_along_axis(seq, order, axis=-1)
    if seq.ndim == 1:
        out = np.searchsorted(seq, values, side=side)
    else:
        if values.ndim != seq.ndim or values.shape[:-1] != seq.shape[:-1]:
            raise RuntimeError(f"searchsorted: sorted_sequence should be 1-D or have the leading dims of input: "
                             f"got sorted_sequence of shape {seq.shape} and input of shape {values.shape}")
        # one search per row, all rows at once: the insertion point is the count of entries before v (< v on the
        # left side, ≤ v on the right), NaN sorting last as in np.searchsorted
        entries, v = seq[..., None, :], values[..., :, None]
        before = (entries < v) if side == "left" else (entries <= v) | np.isnan(v)
        out = np.sum(before | (~np.isnan(entries) & np.isnan(v)), axis=-1)
    return Tensor(np.asarray(out, dtype=np.int32 if out_int32 else int64))


def bucketize(input, boundaries, *, out_int32=False, right=False):
    """The bucket of each value of ``input`` given sorted 1-D ``boundaries``: i with b[i−1] < v ≤ b[i]
    (``right=True``: b[i−1] ≤ v < b[i]) — ``searchsorted(boundaries, input, right=right)``."""
    _check_tensor(boundaries, "bucketize", "boundaries")
    if boundaries.ndim != 1:
        raise RuntimeError(f"bucketize: boundaries must be 1-D, got shape {boundaries.shape}")
    return searchsorted(boundaries, input, out_int32=out_int32, right=right)
