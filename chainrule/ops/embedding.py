"""Embeddings: a lookup table of learned vectors, one row per token [note 005: word vectors], and the
one-hot vectors the lookup stands for — weight[i] is onehot(i) @ weight, without forming the one-hot
matrix. The backward scatters each output row's gradient back to the row it was read from (rows read
twice add up); ``padding_idx`` names a row that gets no gradient.
"""
import numpy as np

from ..autograd import Function, no_grad
from ..dtypes import check_floating
from ..tensor import Tensor
from .index import IndexAdd


class Embedding(Function):
    """out[..., :] = W[idx[...], :] for integer indices idx (any shape) and W (num_embeddings, dim);
    dW[r] = Σ over the positions where idx = r of g[position] (÷ the count of r in idx with
    ``scale_grad_by_freq``); dW[padding_idx] = 0. Differentiated again, dW is that scatter-add of g, whose
    derivative with respect to g is the lookup again (without the ÷ count, as torch's double backward)."""

    def forward(self, weight, *, indices, padding_idx, scale_grad_by_freq):
        self.indices, self.rows = indices, weight.shape[0]
        self.padding_idx, self.scale_grad_by_freq = padding_idx, scale_grad_by_freq
        return weight[indices]

    def backward(self, g):
        flat = self.indices.reshape(-1)
        g = g.reshape(flat.size, -1)
        if self.scale_grad_by_freq:
            g = g / np.bincount(flat, minlength=self.rows)[flat][:, None]
        gw = np.zeros((self.rows, g.shape[1]), dtype=g.dtype)
        np.add.at(gw, flat, g)  # a row read twice gets both gradients
        if self.padding_idx is not None:
            gw[self.padding_idx] = 0
        return (gw,)

    def backward_graph(self, g):
        flat = self.indices.reshape(-1)
        g = g.reshape(flat.size, g.shape[-1])
        if self.padding_idx is not None:
            g = g * Tensor((flat != self.padding_idx).astype(g.data.dtype)[:, None])
        gw = scatter_rows(g, flat, self.rows)
        if self.scale_grad_by_freq:  # ÷ count in value only: torch's double backward differentiates the plain scatter
            count = np.maximum(np.bincount(flat, minlength=self.rows), 1)[:, None]
            gw = gw + Tensor(gw.data / count - gw.data)
        return (gw,)


class EmbeddingBag(Function):
    """Each bag b (a set of indices) reduced to one vector: out[b] = Σ_{k ∈ b} s_k·W[idx_k] ('sum', s the
    per-sample weights, 1 without), the mean of the W[idx_k] ('mean'), or their elementwise max ('max');
    entries equal to ``padding_idx`` are left out, an empty bag gives 0.
    dW[idx_k] += s_k·g[b] ('sum'), g[b]/|b| ('mean'), or g[b] in the dims where W[idx_k] was the max;
    ds_k = Σ_d g[b, d]·W[idx_k, d]."""

    def forward(self, weight, per_sample_weights, *, indices, bags, num_bags, mode):
        rows = weight[indices]  # (K, D): the looked-up vectors, bags[k] the bag of entry k
        out = np.zeros((num_bags, weight.shape[1]), dtype=weight.dtype)
        self.indices, self.bags, self.mode, self.num_rows = indices, bags, mode, weight.shape[0]
        if mode == "max":  # per bag and dim: the max over its entries, and the first entry k that holds it
            best = np.full(out.shape, -np.inf, dtype=weight.dtype)
            np.maximum.at(best, bags, rows)  # a NaN wins, as in argmax
            hit = (rows == best[bags]) | (np.isnan(rows) & np.isnan(best[bags]))
            first = np.full(out.shape, len(rows))
            k, d = np.nonzero(hit)
            np.minimum.at(first, (bags[k], d), k)
            filled = first < len(rows)  # empty bags keep 0 and no gradient
            self.argmax = np.where(filled, first, -1)
            out[filled] = rows[first[filled], np.nonzero(filled)[1]]
            return out
        self.rows, self.s = rows, per_sample_weights
        if per_sample_weights is not None:
            rows = rows * per_sample_weights[:, None]
        np.add.at(out, bags, rows)
        if mode == "mean":
            self.count = np.maximum(np.bincount(bags, minlength=num_bags), 1)[:, None]
            out /= self.count
        return out

    def backward(self, g):
        gw = np.zeros((self.num_rows, g.shape[1]), dtype=g.dtype)
        gs = None
        if self.mode == "max":
            b, d = np.nonzero(self.argmax >= 0)
            np.add.at(gw, (self.indices[self.argmax[b, d]], d), g[b, d])
            return gw, None
        if self.mode == "mean":
            g = g / self.count
        per_entry = g[self.bags]  # (K, D): each entry's share of its bag's gradient
        if self.needs[1]:
            gs = np.sum(per_entry * self.rows, axis=1)
        if self.s is not None:
            per_entry = per_entry * self.s[:, None]
        np.add.at(gw, self.indices, per_entry)
        return gw, gs

    def backward_graph(self, g):
        weight, s = self.inputs
        if self.mode == "max":  # g[b, d] goes to W[indices[argmax[b, d]], d]: a scatter into the flat table
            b, d = np.nonzero(self.argmax >= 0)
            dim = g.shape[1]
            picked = g.reshape(-1)[b * dim + d]
            return scatter_rows(picked, self.indices[self.argmax[b, d]] * dim + d, self.num_rows * dim).reshape(
                self.num_rows, dim), None
        if self.mode == "mean":
            g = g / Tensor(self.count.astype(g.data.dtype))
        per_entry = rows_at(g, self.bags)
        gs = (per_entry * rows_at(weight, self.indices)).sum(1) if self.needs[1] else None
        if s is not None:
            per_entry = per_entry * s.reshape(-1, 1)
        return scatter_rows(per_entry, self.indices, self.num_rows) if self.needs[0] else None, gs


def rows_at(table, index):
    """table[index] for a 2-D Tensor and an integer array: a recorded lookup (its gradient is ``scatter_rows``)."""
    return Embedding.apply(table, indices=index, padding_idx=None, scale_grad_by_freq=False)


def scatter_rows(src, index, rows):
    """Zeros with ``rows`` rows, src's row k added to row index[k] (repeats add up): the adjoint of a lookup,
    as a recorded ``index_add`` so that it can be differentiated again."""
    return IndexAdd.apply(Tensor(np.zeros((rows,) + src.shape[1:], src.data.dtype)), src, index=index, axis=0,
                          alpha=1)


def _indices(input, op):
    t = input.data if isinstance(input, Tensor) else np.asarray(input)
    if t.dtype.kind not in "iu":
        raise TypeError(f"{op}: indices must be an integer tensor (int64 or int32), got dtype {t.dtype}")
    return t


def _check_range(idx, rows, op):
    if idx.size and (idx.min() < 0 or idx.max() >= rows):
        bad = int(idx.min() if idx.min() < 0 else idx.max())
        raise IndexError(f"{op}: index {bad} out of range for a table of {rows} rows [0, {rows})")


def _padding(padding_idx, rows, op):
    """torch's rule: a negative padding_idx counts from the end; it must name a row."""
    if padding_idx is None:
        return None
    if not -rows <= padding_idx < rows:
        raise ValueError(f"{op}: padding_idx {padding_idx} must be within the number of embeddings [-{rows}, {rows})")
    return padding_idx % rows


def _renorm(weight, idx, max_norm, norm_type):
    """torch's embedding_renorm_: every row named in idx whose ``norm_type``-norm exceeds max_norm is scaled
    in place (no gradient recorded) to norm max_norm (÷ (norm + 1e-7), as torch)."""
    rows = np.unique(idx)
    with no_grad():
        w = weight.data
        norms = np.linalg.norm(w[rows], ord=norm_type, axis=1)
        big = norms > max_norm
        w[rows[big]] *= (max_norm / (norms[big] + 1e-7))[:, None].astype(w.dtype)
        weight._version += 1


def _check_weight(weight, op):
    if not isinstance(weight, Tensor) or weight.ndim != 2:
        raise ValueError(f"{op}: weight must be a 2-D Tensor (num_embeddings, embedding_dim), got "
                         f"{getattr(weight, 'shape', type(weight).__name__)}")


def embedding(input, weight, padding_idx=None, max_norm=None, norm_type=2.0, scale_grad_by_freq=False,
              sparse=False):
    """Rows of ``weight`` (num_embeddings, embedding_dim) at the integer indices ``input`` (any shape):
    output input.shape + (embedding_dim,). ``padding_idx``: that row gets no gradient. ``max_norm``: the rows
    looked up are first renormalized in place to norm at most max_norm (as torch)."""
    op = "embedding"
    _check_weight(weight, op)
    idx = _indices(input, op)
    _check_range(idx, weight.shape[0], op)
    if sparse:
        raise ValueError(f"{op}: sparse gradients are not supported (chainrule has no sparse tensors); use sparse=False")
    padding_idx = _padding(padding_idx, weight.shape[0], op)
    if max_norm is not None:
        _renorm(weight, idx, max_norm, norm_type)
    return Embedding.apply(weight, indices=idx, padding_idx=padding_idx, scale_grad_by_freq=scale_grad_by_freq)


def embedding_bag(input, weight, offsets=None, max_norm=None, norm_type=2, scale_grad_by_freq=False,
                  mode="mean", sparse=False, per_sample_weights=None, include_last_offset=False, padding_idx=None):
    """Sums, means or maxima of bags of embeddings, without forming the (bags, n, dim) lookup. ``input``: 2-D
    (B, n), one bag per row; or 1-D with ``offsets`` (B,), bag b = input[offsets[b]:offsets[b + 1]] (with
    ``include_last_offset`` offsets has B + 1 entries, the last the end). Output (B, embedding_dim).
    ``per_sample_weights`` (the input's shape) scale each entry, 'sum' mode only."""
    op = "embedding_bag"
    _check_weight(weight, op)
    if mode not in ("sum", "mean", "max"):
        raise ValueError(f"{op}: mode must be 'sum', 'mean' or 'max', got {mode!r}")
    if scale_grad_by_freq or sparse:
        raise ValueError(f"{op}: scale_grad_by_freq and sparse are not supported; leave them False")
    idx = _indices(input, op)
    if per_sample_weights is not None:
        if mode != "sum":
            raise ValueError(f"{op}: per_sample_weights is only supported for mode='sum', got mode={mode!r}")
        if per_sample_weights.shape != idx.shape:
            raise ValueError(f"{op}: per_sample_weights of shape {per_sample_weights.shape} must have the input's "
                             f"shape {idx.shape}")
        check_floating(per_sample_weights.data.dtype, op, "per_sample_weights")
        if per_sample_weights.data.dtype != weight.data.dtype:
            per_sample_weights = per_sample_weights.to(weight.data.dtype)
    if idx.ndim == 2:
        if offsets is not None:
            raise ValueError(f"{op}: offsets must be None for a 2-D input (each row is a bag)")
        num_bags, n = idx.shape
        bags = np.repeat(np.arange(num_bags), n)
    elif idx.ndim == 1:
        if offsets is None:
            raise ValueError(f"{op}: offsets must be given for a 1-D input")
        off = _indices(offsets, op + " offsets")
        if off.ndim != 1:
            raise ValueError(f"{op}: offsets must be 1-D, got shape {off.shape}")
        if include_last_offset:
            off, end = off[:-1], int(off[-1])
            idx = idx[:end]
            if per_sample_weights is not None:
                per_sample_weights = per_sample_weights[:end]
        if off.size and (off[0] != 0 or np.any(np.diff(off) < 0) or off[-1] > idx.size):
            raise ValueError(f"{op}: offsets must start at 0, not decrease, and stay within the input's "
                             f"{idx.size} entries, got {off.tolist()}")
        num_bags = off.size
        bags = np.searchsorted(off, np.arange(idx.size), side="right") - 1
    else:
        raise ValueError(f"{op}: input must be 1-D (with offsets) or 2-D (B, n), got shape {idx.shape}")
    idx = idx.reshape(-1)
    _check_range(idx, weight.shape[0], op)
    padding_idx = _padding(padding_idx, weight.shape[0], op)
    if max_norm is not None:
        _renorm(weight, idx, max_norm, norm_type)
    if per_sample_weights is not None:
        per_sample_weights = per_sample_weights.reshape(-1)
    if padding_idx is not None:  # padding entries belong to no bag (and do not count toward a mean)
        keep = idx != padding_idx
        idx, bags = idx[keep], bags[keep]
        if per_sample_weights is not None:
            per_sample_weights = per_sample_weights[np.flatnonzero(keep)]
    return EmbeddingBag.apply(weight, per_sample_weights, indices=idx, bags=bags, num_bags=num_bags, mode=mode)


def one_hot(tensor, num_classes=-1):
    """int64 one-hot vectors: out[..., c] = [tensor[...] = c], shape tensor.shape + (num_classes,);
    num_classes = −1: one more than the largest index."""
    op = "one_hot"
    t = tensor.data if isinstance(tensor, Tensor) else np.asarray(tensor)
    if t.dtype != np.int64:
        raise TypeError(f"{op}: is only applicable to index tensors of dtype int64, got {t.dtype}")
    if num_classes == -1:
        if t.size == 0:
            raise ValueError(f"{op}: can not infer the number of classes from an empty tensor; pass num_classes")
        num_classes = int(t.max()) + 1
    if t.size and t.min() < 0:
        raise ValueError(f"{op}: class values must be non-negative, got {int(t.min())}")
    if t.size and t.max() >= num_classes:
        raise ValueError(f"{op}: class values must be smaller than num_classes={num_classes}, got {int(t.max())}")
    return Tensor((t[..., None] == np.arange(num_classes)).astype(np.int64))
