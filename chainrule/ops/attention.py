"""Attention, the chapter after the notes' LSTM [note 004]: instead of carrying one state through time,
every query position looks at every key position at once and takes a weighted mean of the values,

    S = Q Kᵀ · scale + M,    P = softmax(S) along the keys,    out = P V

with Q (..., L, E), K (..., S, E), V (..., S, Eᵥ), scale = 1/√E by default and M an additive mask
(0 where a key may be attended, −∞ where it may not). ``scaled_dot_product_attention`` is that line;
``multi_head_attention_forward`` runs it on ``num_heads`` learned projections of the inputs side by
side (Vaswani et al., 2017, "Attention is all you need") — what ``nn.MultiheadAttention`` and the
Transformer layers call.
"""
import math

import numpy as np

from ..autograd import Function, unbroadcast
from ..random import rng
from ..tensor import Tensor
from .linalg import linear
from .padding import pad
from .reduce import mean
from .shape import cat


class ScaledDotProductAttention(Function):
    """S = Q Kᵀ·scale + M,  P = softmax(S) over the last axis (a row whose keys are all masked, S = −∞
    everywhere, gets P = 0 rather than 0/0, as torch),  P̃ = P ⊙ D/(1 − p) with D ~ Bernoulli(1 − p)
    (attention dropout; P̃ = P when p = 0),  out = P̃ V.  Outputs (out, P̃).

    Backward, with g the gradient of out and g_w that of P̃ (zeros when P̃ is unused):
        dV = P̃ᵀ g,   dP̃ = g Vᵀ + g_w,   dP = dP̃ ⊙ D/(1 − p),
        dS = P ⊙ (dP − Σ_keys dP ⊙ P)   (softmax's backward),
        dQ = dS K · scale,   dK = dSᵀ Q · scale,   dM = dS   (each summed back over broadcast dims).

    ``mask``: None, a bool array (True = may attend, becomes 0 / −∞) or a float array added to S.
    Derivatives of higher order differentiate ``decomposition``, these lines in Tensor ops with the dropout
    mask D that the forward drew kept as a constant.
    """

    def forward(self, q, k, v, mask, *, scale, dropout_p):
        s = np.matmul(q, np.swapaxes(k, -1, -2))
        s *= scale
        if mask is not None:
            s = s + (np.where(mask, 0.0, -np.inf).astype(s.dtype) if mask.dtype == np.bool_ else mask.astype(s.dtype))
        top = np.max(s, axis=-1, keepdims=True, initial=-np.inf)
        e = np.exp(s - np.where(np.isneginf(top), 0, top))
        total = np.sum(e, axis=-1, keepdims=True)
        p = e / np.where(total == 0, 1, total)
        self.keep = None
        if dropout_p > 0:
            keep = rng().random(p.shape) >= dropout_p
            self.keep = (keep / (1 - dropout_p)).astype(p.dtype) if dropout_p < 1 else np.zeros(p.shape, p.dtype)
        weights = p if self.keep is None else p * self.keep
        self.q, self.k, self.v, self.p, self.weights, self.scale = q, k, v, p, weights, scale
        self.mask_shape = None if mask is None else mask.shape
        return np.matmul(weights, v), weights

    def backward(self, g, g_weights):
        q, k, v, p, scale = self.q, self.k, self.v, self.p, self.scale
        gv = unbroadcast(np.matmul(np.swapaxes(self.weights, -1, -2), g), v.shape) if self.needs[2] else None
        if not (self.needs[0] or self.needs[1] or self.needs[3]):
            return None, None, gv, None
        dp = np.matmul(g, np.swapaxes(v, -1, -2)) + g_weights
        if self.keep is not None:
            dp *= self.keep
        ds = p * (dp - np.sum(dp * p, axis=-1, keepdims=True))
        gq = unbroadcast(np.matmul(ds, k) * scale, q.shape) if self.needs[0] else None
        gk = unbroadcast(np.matmul(np.swapaxes(ds, -1, -2), q) * scale, k.shape) if self.needs[1] else None
        gm = unbroadcast(ds, self.mask_shape) if self.needs[3] else None
        return gq, gk, gv, gm

    def decomposition(self, q, k, v, mask, *, scale, dropout_p):
        s = (q @ k.swapaxes(-1, -2)) * scale
        if isinstance(mask, Tensor) and mask.requires_grad:
            s = s + mask.to(s.data.dtype)
        elif mask is not None:
            m = mask.data if isinstance(mask, Tensor) else mask
            s = s + (np.where(m, 0.0, -np.inf) if m.dtype == np.bool_ else m).astype(s.data.dtype)
        top = np.max(s.data, axis=-1, keepdims=True, initial=-np.inf)
        e = (s - np.where(np.isneginf(top), 0, top)).exp()  # a constant shift, which softmax ignores
        total = e.sum(-1, keepdim=True)
        p = e / (total + (total.data == 0).astype(total.data.dtype))  # a row with every key masked: P = 0
        weights = p if self.keep is None else p * self.keep
        return weights @ v, weights


def _attention(query, key, value, attn_mask, dropout_p, scale, op):
    """Checks, then the node: (out, P̃) as Tensors."""
    for name, t in (("query", query), ("key", key), ("value", value)):
        if not isinstance(t, Tensor):
            raise TypeError(f"{op}: {name} must be a Tensor, got {type(t).__name__}")
    if not query.dtype == key.dtype == value.dtype:
        raise RuntimeError(f"{op}: expected query, key, and value to have the same dtype, but got query.dtype: "
                           f"{query.dtype}, key.dtype: {key.dtype} and value.dtype: {value.dtype}")
    if query.dtype.kind != "f":
        raise RuntimeError(f"{op}: query, key and value must be floating point, got {query.dtype}")
    if min(query.ndim, key.ndim, value.ndim) < 2:
        raise RuntimeError(f"{op}: expected query, key, and value to all be at least 2 dimensional, but got "
                           f"query.dim: {query.ndim}, key.dim: {key.ndim} and value.dim: {value.ndim}")
    if key.shape[-1] != query.shape[-1] or key.shape[-2] != value.shape[-2]:
        raise RuntimeError(f"{op}: expected query (..., L, E), key (..., S, E) and value (..., S, Ev), got shapes "
                           f"{query.shape}, {key.shape} and {value.shape}")
    try:
        batch = np.broadcast_shapes(query.shape[:-2], key.shape[:-2], value.shape[:-2])
    except ValueError:
        raise RuntimeError(f"{op}: the batch dims of query {query.shape}, key {key.shape} and value {value.shape} "
                           "do not broadcast") from None
    if isinstance(dropout_p, bool) or not isinstance(dropout_p, (int, float)) or not 0 <= dropout_p <= 1:
        raise ValueError(f"{op}: dropout_p must be a probability in [0, 1], got {dropout_p!r}")
    scores = batch + (query.shape[-2], key.shape[-2])
    if attn_mask is not None:
        mask = attn_mask.data if isinstance(attn_mask, Tensor) else np.asarray(attn_mask)
        if mask.dtype != np.bool_ and mask.dtype.kind != "f":
            raise RuntimeError(f"{op}: expected attn_mask dtype to be bool or float or to match query dtype, but "
                               f"got attn_mask.dtype: {mask.dtype} and query.dtype: {query.dtype}")
        try:
            fits = np.broadcast_shapes(mask.shape, scores) == scores
        except ValueError:
            fits = False
        if not fits:
            raise RuntimeError(f"{op}: attn_mask of shape {mask.shape} does not broadcast to the attention scores' "
                               f"shape {scores} (..., L, S)")
    scale = 1 / math.sqrt(query.shape[-1]) if scale is None else scale
    return ScaledDotProductAttention.apply(query, key, value, attn_mask, scale=scale, dropout_p=dropout_p)


def scaled_dot_product_attention(query, key, value, attn_mask=None, dropout_p=0.0, is_causal=False, scale=None,
                                 enable_gqa=False):
    """softmax(Q Kᵀ·scale + M) V for query (N, ..., L, E), key (N, ..., S, E), value (N, ..., S, Ev) →
    (N, ..., L, Ev); batch dims broadcast.

    ``attn_mask``: bool (True = the query may attend to that key) or float (added to the scores),
    broadcastable to (N, ..., L, S). ``is_causal``: query i attends to keys 0..i (the lower-left
    triangle of an L × S mask; not together with ``attn_mask``). ``scale``: default 1/√E.
    ``dropout_p``: dropout on the attention weights, always applied when > 0 (there is no training flag).
    ``enable_gqa``: grouped-query attention — key and value have H_kv heads in dim −3, each shared by
    H_q/H_kv consecutive query heads. A query whose keys are all masked gets a zero output.
    """
    if is_causal:
        if attn_mask is not None:
            raise RuntimeError("scaled_dot_product_attention: explicit attn_mask should not be set when "
                               "is_causal=True")
        attn_mask = np.tril(np.ones((query.shape[-2], key.shape[-2]), dtype=bool))
    if enable_gqa and query.ndim >= 3 and key.ndim >= 3 and value.ndim >= 3:
        heads, kv_heads = query.shape[-3], key.shape[-3]
        if value.shape[-3] != kv_heads or kv_heads == 0 or heads % kv_heads:
            raise RuntimeError(f"scaled_dot_product_attention: with enable_gqa the query heads ({heads}) must be a "
                               f"multiple of the key and value heads ({kv_heads} and {value.shape[-3]})")
        key, value = (_repeat_heads(t, heads // kv_heads) for t in (key, value))
    return _attention(query, key, value, attn_mask, dropout_p, scale, "scaled_dot_product_attention")[0]


def _repeat_heads(t, times):
    """(..., H, S, E) → (..., H·times, S, E), each head repeated ``times`` times in place (repeat_interleave)."""
    if times == 1:
        return t
    *lead, heads, s, e = t.shape
    return t.unsqueeze(-3).expand(*lead, heads, times, s, e).reshape(*lead, heads * times, s, e)


# ----- multi-head attention ----------------------------------------------------------------------------
def _additive_mask(mask, name, dtype):
    """A bool mask (True = NOT allowed, torch's convention for these masks) becomes a float Tensor holding
    −∞ there and 0 elsewhere; a float mask is used as it is (added to the scores)."""
    if mask is None:
        return None
    if not isinstance(mask, Tensor):
        mask = Tensor(np.asarray(mask))
    if mask.dtype == np.bool_:
        return Tensor(np.where(mask.data, -np.inf, 0.0).astype(dtype))
    if mask.dtype.kind != "f":
        raise AssertionError(f"multi_head_attention_forward: only bool and floating types of {name} are supported, "
                             f"got {mask.dtype}")
    return mask


def _check_mha_shapes(query, key, value, key_padding_mask, attn_mask, num_heads):
    """Whether the input is batched (3-D), with torch's checks and its AssertionErrors."""
    op = "multi_head_attention_forward"
    if query.ndim not in (2, 3):
        raise AssertionError(f"{op}: query should be unbatched 2D or batched 3D tensor but received {query.ndim}-D "
                             "query tensor")
    batched = query.ndim == 3
    what = "batched (3-D)" if batched else "unbatched (2-D)"
    if key.ndim != query.ndim or value.ndim != query.ndim:
        raise AssertionError(f"{op}: for {what} query, expected key and value to be {query.ndim}-D but found "
                             f"{key.ndim}-D and {value.ndim}-D tensors respectively")
    if key_padding_mask is not None and key_padding_mask.ndim != query.ndim - 1:
        raise AssertionError(f"{op}: for {what} query, expected key_padding_mask to be None or "
                             f"{query.ndim - 1}-D but found {key_padding_mask.ndim}-D tensor instead")
    if attn_mask is not None and attn_mask.ndim not in (2, 3):
        raise AssertionError(f"{op}: for {what} query, expected attn_mask to be None, 2-D or 3-D but found "
                             f"{attn_mask.ndim}-D tensor instead")
    return batched


def multi_head_attention_forward(query, key, value, embed_dim_to_check, num_heads, in_proj_weight, in_proj_bias,
                                 bias_k, bias_v, add_zero_attn, dropout_p, out_proj_weight, out_proj_bias,
                                 training=True, key_padding_mask=None, need_weights=True, attn_mask=None,
                                 use_separate_proj_weight=False, q_proj_weight=None, k_proj_weight=None,
                                 v_proj_weight=None, static_k=None, static_v=None, average_attn_weights=True,
                                 is_causal=False):
    """Multi-head attention on sequence-first inputs, query (L, N, E), key (S, N, E_k), value (S, N, E_v)
    (unbatched: (L, E), ...) → (output (L, N, E), weights (N, L, S) averaged over heads, (N, H, L, S) with
    ``average_attn_weights=False``, or None when ``need_weights`` is False).

        q, k, v = query W_qᵀ + b_q, key W_kᵀ + b_k, value W_vᵀ + b_v        (W_q, W_k, W_v: the three row
                                                                             blocks of in_proj_weight)
        head_h = softmax(q_h k_hᵀ / √(E/H) + M) v_h   for each of the H slices of E/H features
        output = concat(head_1 … head_H) W_oᵀ + b_o

    Masks follow torch: ``attn_mask`` (L, S) or (N·H, L, S) and ``key_padding_mask`` (N, S) are bool
    (True = may NOT attend) or float (added); both are summed into M. ``is_causal`` is only a hint that
    ``attn_mask`` is the causal mask (which is then required). ``bias_k``/``bias_v`` (1, 1, E) append one
    learned key/value position, ``add_zero_attn`` one of zeros; ``static_k``/``static_v`` (N·H, S, E/H)
    replace the projected keys/values. Dropout on the weights only when ``training``.
    """
    op = "multi_head_attention_forward"
    batched = _check_mha_shapes(query, key, value, key_padding_mask, attn_mask, num_heads)
    if not batched:
        query, key, value = query.unsqueeze(1), key.unsqueeze(1), value.unsqueeze(1)
        if key_padding_mask is not None:
            key_padding_mask = key_padding_mask.unsqueeze(0)
    tgt_len, bsz, embed_dim = query.shape
    src_len = key.shape[0]
    if embed_dim != embed_dim_to_check:
        raise AssertionError(f"{op}: was expecting embedding dimension of {embed_dim_to_check}, but got {embed_dim}")
    head_dim = embed_dim // num_heads
    if head_dim * num_heads != embed_dim:
        raise AssertionError(f"{op}: embed_dim {embed_dim} not divisible by num_heads {num_heads}")
    if use_separate_proj_weight:
        if key.shape[:2] != value.shape[:2]:
            raise AssertionError(f"{op}: key's sequence and batch dims {key.shape[:2]} do not match value's "
                                 f"{value.shape[:2]}")
    elif key.shape != value.shape:
        raise AssertionError(f"{op}: key shape {key.shape} does not match value shape {value.shape}")
    if is_causal and attn_mask is None:
        raise RuntimeError(f"{op}: need attn_mask if specifying the is_causal hint; nn.Transformer."
                           "generate_square_subsequent_mask makes one")
    key_padding_mask = _additive_mask(key_padding_mask, "key_padding_mask", query.dtype)
    attn_mask = _additive_mask(attn_mask, "attn_mask", query.dtype)

    # in-projection
    if not use_separate_proj_weight and query is key and key is value:  # self-attention: one product, then split
        q, k, v = linear(query, in_proj_weight, in_proj_bias).chunk(3, dim=-1)
    else:
        if use_separate_proj_weight:
            w_q, w_k, w_v = q_proj_weight, k_proj_weight, v_proj_weight
        else:
            w_q, w_k, w_v = (in_proj_weight[i * embed_dim:(i + 1) * embed_dim] for i in range(3))
        b_q = b_k = b_v = None
        if in_proj_bias is not None:
            b_q, b_k, b_v = (in_proj_bias[i * embed_dim:(i + 1) * embed_dim] for i in range(3))
        q, k, v = linear(query, w_q, b_q), linear(key, w_k, b_k), linear(value, w_v, b_v)

    if attn_mask is not None:
        want = (tgt_len, src_len) if attn_mask.ndim == 2 else (bsz * num_heads, tgt_len, src_len)
        if attn_mask.shape != want:
            raise RuntimeError(f"{op}: the shape of the {attn_mask.ndim}D attn_mask is {attn_mask.shape}, but "
                               f"should be {want}")
        attn_mask = attn_mask.reshape(1, 1, tgt_len, src_len) if attn_mask.ndim == 2 else \
            attn_mask.reshape(bsz, num_heads, tgt_len, src_len)

    if bias_k is not None and bias_v is not None:
        if static_k is not None or static_v is not None:
            raise AssertionError(f"{op}: bias cannot be added to static key or value")
        k = cat([k, bias_k.expand(1, bsz, embed_dim)])
        v = cat([v, bias_v.expand(1, bsz, embed_dim)])
        attn_mask = None if attn_mask is None else pad(attn_mask, (0, 1))
        key_padding_mask = None if key_padding_mask is None else pad(key_padding_mask, (0, 1))
    elif bias_k is not None or bias_v is not None:
        raise AssertionError(f"{op}: bias_k and bias_v must be given together")

    # heads: (seq, N, E) → (N, H, seq, E/H), the order of torch's (N·H, seq, E/H)
    q = q.reshape(tgt_len, bsz, num_heads, head_dim).permute(1, 2, 0, 3)
    k = _heads(k, static_k, bsz, num_heads, head_dim, "static_k")
    v = _heads(v, static_v, bsz, num_heads, head_dim, "static_v")
    if add_zero_attn:
        zeros = Tensor(np.zeros((bsz, num_heads, 1, head_dim), dtype=k.dtype))
        k, v = cat([k, zeros], 2), cat([v, zeros], 2)
        attn_mask = None if attn_mask is None else pad(attn_mask, (0, 1))
        key_padding_mask = None if key_padding_mask is None else pad(key_padding_mask, (0, 1))
    src_len = k.shape[2]

    if key_padding_mask is not None:
        if key_padding_mask.shape != (bsz, src_len):
            raise AssertionError(f"{op}: expected key_padding_mask of shape {(bsz, src_len)}, got "
                                 f"{key_padding_mask.shape}")
        padding = key_padding_mask.reshape(bsz, 1, 1, src_len)
        attn_mask = padding if attn_mask is None else attn_mask + padding

    out, weights = _attention(q, k, v, attn_mask, dropout_p if training else 0.0, None, op)
    out = linear(out.permute(2, 0, 1, 3).reshape(tgt_len, bsz, embed_dim), out_proj_weight, out_proj_bias)
    if need_weights:
        weights = mean(weights, 1) if average_attn_weights else weights
    else:
        weights = None
    if not batched:
        out = out.squeeze(1)
        weights = None if weights is None else weights.squeeze(0)
    return out, weights


def _heads(x, static, bsz, num_heads, head_dim, name):
    """(S, N, E) → (N, H, S, E/H), or the given (N·H, S, E/H) ``static`` keys/values reshaped the same way."""
    if static is None:
        return x.reshape(x.shape[0], bsz, num_heads, head_dim).permute(1, 2, 0, 3)
    if static.ndim != 3 or static.shape[0] != bsz * num_heads or static.shape[2] != head_dim:
        raise AssertionError(f"multi_head_attention_forward: expected {name} of shape ({bsz * num_heads}, S, "
                             f"{head_dim}), got {static.shape}")
    return static.reshape(bsz, num_heads, static.shape[1], head_dim)
