"""scaled_dot_product_attention and multi_head_attention_forward (ops/attention.py) against torch: forward and
every input's gradient (the float mask's included) in float64 over a grid of batch shapes, lengths, masks
(bool, float, broadcast, fully masked rows), causal masks, scales and grouped-query heads; the dropout's
weights; finite differences; float32; and the error paths."""
import itertools

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import chainrule as cr
from chainrule.nn import functional as F
from chainrule.ops.attention import _attention
from tests.parity import assert_parity

rng = np.random.default_rng(0)


def _qkv(batch, L, S, E, Ev, kv_batch=None, dtype=np.float64):
    kv_batch = batch if kv_batch is None else kv_batch
    return (rng.standard_normal(batch + (L, E)).astype(dtype), rng.standard_normal(kv_batch + (S, E)).astype(dtype),
            rng.standard_normal(kv_batch + (S, Ev)).astype(dtype))


SHAPES = [((), 1, 1, 1, 1), ((), 3, 5, 4, 2), ((2,), 4, 3, 5, 6), ((2, 3), 5, 5, 4, 4), ((2, 3), 1, 7, 2, 3)]


@pytest.mark.parametrize(("batch", "L", "S", "E", "Ev"), SHAPES)
@pytest.mark.parametrize("scale", [None, 0.3])
def test_parity_no_mask(batch, L, S, E, Ev, scale):
    assert_parity(lambda q, k, v: F.scaled_dot_product_attention(q, k, v, scale=scale),
                  lambda q, k, v: TF.scaled_dot_product_attention(q, k, v, scale=scale), *_qkv(batch, L, S, E, Ev))


@pytest.mark.parametrize(("batch", "L", "S", "E", "Ev"), SHAPES[1:])
@pytest.mark.parametrize("mask_dims", [2, 3, "full"])
def test_parity_bool_mask_with_a_fully_masked_row(batch, L, S, E, Ev, mask_dims):
    shape = {2: (L, S), 3: (1,) * min(len(batch), 1) + (L, S), "full": batch + (L, S)}[mask_dims]
    mask = rng.random(shape) < 0.7
    mask[..., 0, :] = False  # query 0 may attend to nothing: its output is 0, as torch's safe softmax
    assert_parity(lambda q, k, v, m: F.scaled_dot_product_attention(q, k, v, attn_mask=m),
                  lambda q, k, v, m: TF.scaled_dot_product_attention(q, k, v, attn_mask=m),
                  *_qkv(batch, L, S, E, Ev), mask)


@pytest.mark.parametrize(("batch", "L", "S", "E", "Ev"), SHAPES)
@pytest.mark.parametrize("broadcast", [False, True])
def test_parity_float_mask_and_its_gradient(batch, L, S, E, Ev, broadcast):
    mask = rng.standard_normal((L, S) if broadcast else batch + (L, S))
    mask[..., -1, 0] = -np.inf
    assert_parity(lambda q, k, v, m: F.scaled_dot_product_attention(q, k, v, m),
                  lambda q, k, v, m: TF.scaled_dot_product_attention(q, k, v, m), *_qkv(batch, L, S, E, Ev), mask)


@pytest.mark.parametrize(("L", "S"), [(4, 4), (3, 6), (6, 3)])
def test_parity_causal(L, S):
    assert_parity(lambda q, k, v: F.scaled_dot_product_attention(q, k, v, is_causal=True, scale=0.7),
                  lambda q, k, v: TF.scaled_dot_product_attention(q, k, v, is_causal=True, scale=0.7),
                  *_qkv((2, 2), L, S, 3, 4))


def test_parity_key_value_batch_broadcast():
    assert_parity(F.scaled_dot_product_attention, TF.scaled_dot_product_attention, *_qkv((3, 2), 4, 5, 3, 2, (1, 2)))


@pytest.mark.parametrize(("heads", "kv_heads"), [(4, 2), (6, 3), (3, 1), (2, 2)])
def test_parity_grouped_query_attention(heads, kv_heads):
    q = rng.standard_normal((2, heads, 3, 4))
    k, v = rng.standard_normal((2, kv_heads, 5, 4)), rng.standard_normal((2, kv_heads, 5, 6))
    assert_parity(lambda q, k, v: F.scaled_dot_product_attention(q, k, v, enable_gqa=True),
                  lambda q, k, v: TF.scaled_dot_product_attention(q, k, v, enable_gqa=True), q, k, v)


@pytest.mark.parametrize("shape", [((0, 3, 4), (0, 5, 4), (0, 5, 6)), ((2, 0, 4), (2, 5, 4), (2, 5, 6)),
                                   ((2, 3, 4), (2, 0, 4), (2, 0, 6))])
def test_empty_inputs(shape):
    q, k, v = (rng.standard_normal(s) for s in shape)
    assert_parity(F.scaled_dot_product_attention, TF.scaled_dot_product_attention, q, k, v)


def test_gradcheck_with_mask_and_dropout():
    q, k, v = (cr.tensor(a, requires_grad=True) for a in _qkv((2,), 3, 4, 3, 2))
    mask = cr.tensor(rng.standard_normal((3, 4)), requires_grad=True)

    def attend(q, k, v, m):
        cr.manual_seed(5)  # the same dropout mask on every evaluation
        return F.scaled_dot_product_attention(q, k, v, m, dropout_p=0.3)

    assert cr.gradcheck(attend, (q, k, v, mask))


def test_dropout_zeroes_and_rescales_the_weights():
    q, k, v = (cr.tensor(a) for a in _qkv((4,), 6, 7, 3, 5))
    plain = _attention(q, k, v, None, 0.0, None, "test")[1].data
    out, weights = _attention(q, k, v, None, 0.4, None, "test")
    w = weights.data
    dropped = w == 0
    assert 0.2 < dropped.mean() < 0.6
    np.testing.assert_allclose(w[~dropped], plain[~dropped] / 0.6)
    np.testing.assert_allclose(out.data, w @ v.data)
    zero = F.scaled_dot_product_attention(q, k, v, dropout_p=1.0)
    assert np.array_equal(zero.data, np.zeros((4, 6, 5)))


def test_dropout_is_drawn_from_the_default_generator():
    q, k, v = (cr.tensor(a) for a in _qkv((2,), 5, 5, 3, 3))
    cr.manual_seed(1)
    a = F.scaled_dot_product_attention(q, k, v, dropout_p=0.5)
    cr.manual_seed(1)
    b = F.scaled_dot_product_attention(q, k, v, dropout_p=0.5)
    c = F.scaled_dot_product_attention(q, k, v, dropout_p=0.5)
    assert np.array_equal(a.data, b.data) and not np.array_equal(a.data, c.data)


def test_float32_keeps_its_dtype():
    q, k, v = _qkv((2,), 3, 4, 5, 6, dtype=np.float32)
    mask = rng.random((3, 4)) < 0.8
    out = assert_parity(lambda q, k, v, m: F.scaled_dot_product_attention(q, k, v, m),
                        lambda q, k, v, m: TF.scaled_dot_product_attention(q, k, v, m), q, k, v, mask)
    assert out.dtype == np.float32


def test_a_float_mask_of_another_float_dtype_is_used_in_the_query_dtype():
    q, k, v = _qkv((), 3, 4, 2, 2)
    mask = rng.standard_normal((3, 4)).astype(np.float32)
    out = assert_parity(lambda q, k, v, m: F.scaled_dot_product_attention(q, k, v, m),
                        lambda q, k, v, m: TF.scaled_dot_product_attention(q, k, v, m), q, k, v, mask, grad=False)
    assert out.dtype == np.float64


def _t(a):
    return cr.tensor(a)


ERRORS = [
    (lambda q, k, v: F.scaled_dot_product_attention(q, k.float(), v), RuntimeError, "same dtype"),
    (lambda q, k, v: F.scaled_dot_product_attention(q.long(), k.long(), v.long()), RuntimeError, "floating point"),
    (lambda q, k, v: F.scaled_dot_product_attention(q[0, 0], k[0, 0], v[0, 0]), RuntimeError,
     "at least 2 dimensional"),
    (lambda q, k, v: F.scaled_dot_product_attention(q, k[..., :2], v), RuntimeError, r"query \(\.\.\., L, E\)"),
    (lambda q, k, v: F.scaled_dot_product_attention(q, k, v[:, :3]), RuntimeError, r"key \(\.\.\., S, E\)"),
    (lambda q, k, v: F.scaled_dot_product_attention(q, cr.cat([k, k]), cr.cat([v, v])), RuntimeError,
     "do not broadcast"),
    (lambda q, k, v: F.scaled_dot_product_attention(q, k, v, attn_mask=_t(np.ones((2, 4), np.int64))), RuntimeError,
     "attn_mask dtype to be bool or float"),
    (lambda q, k, v: F.scaled_dot_product_attention(q, k, v, attn_mask=_t(np.ones((2, 5), bool))), RuntimeError,
     r"attn_mask of shape \(2, 5\) does not broadcast to .* \(3, 2, 4\)"),
    (lambda q, k, v: F.scaled_dot_product_attention(q, k, v, attn_mask=_t(np.ones((2, 3, 2, 4), bool))),
     RuntimeError, r"attn_mask of shape \(2, 3, 2, 4\)"),
    (lambda q, k, v: F.scaled_dot_product_attention(q, k, v, attn_mask=_t(np.ones((2, 4), bool)), is_causal=True),
     RuntimeError, "attn_mask should not be set when is_causal=True"),
    (lambda q, k, v: F.scaled_dot_product_attention(q, k, v, dropout_p=1.5), ValueError, r"dropout_p .* got 1\.5"),
    (lambda q, k, v: F.scaled_dot_product_attention(q.numpy(), k, v), TypeError, "query must be a Tensor"),
    (lambda q, k, v: F.scaled_dot_product_attention(q.reshape(1, 3, 2, 3), cr.stack([k[:2]]), cr.stack([v[:2]]),
                                                    enable_gqa=True),
     RuntimeError, r"query heads \(3\) must be a multiple of the key and value heads \(2 and 2\)"),
]


@pytest.mark.parametrize(("call", "error", "match"), ERRORS, ids=range(len(ERRORS)))
def test_errors(call, error, match):
    q, k, v = (cr.tensor(a) for a in _qkv((3,), 2, 4, 3, 5))
    with pytest.raises(error, match=match):
        call(q, k, v)


# ----- multi_head_attention_forward: the functional form, against torch's ---------------------------------------
def _mha_args(E=6, H=2, kdim=None, vdim=None, bias=True, bias_kv=False):
    kdim, vdim = kdim or E, vdim or E
    arrays = {"in_proj_weight": rng.standard_normal((3 * E, E)) * 0.5, "out_proj_weight": rng.standard_normal((E, E)),
              "in_proj_bias": rng.standard_normal(3 * E) if bias else None,
              "out_proj_bias": rng.standard_normal(E) if bias else None,
              "bias_k": rng.standard_normal((1, 1, E)) if bias_kv else None,
              "bias_v": rng.standard_normal((1, 1, E)) if bias_kv else None}
    if kdim != E or vdim != E:
        arrays.update(q_proj_weight=rng.standard_normal((E, E)), k_proj_weight=rng.standard_normal((E, kdim)),
                      v_proj_weight=rng.standard_normal((E, vdim)))
    return arrays


@pytest.mark.parametrize("output", [0, 1], ids=["output", "weights"])
@pytest.mark.parametrize(("separate", "bias_kv", "zero_attn", "static", "batched"),
                         [c for c in itertools.product([False, True], [False, True], [False, True], [False, True],
                                                       [True, False]) if not (c[1] and c[3])])
def test_functional_parity(separate, bias_kv, zero_attn, static, batched, output):
    E, H, L, S, N = 6, 2, 3, 4, 2
    arrays = _mha_args(E, H, kdim=5 if separate else None, vdim=3 if separate else None, bias_kv=bias_kv)
    names = sorted(k for k, v in arrays.items() if v is not None)
    query = rng.standard_normal((L, N, E) if batched else (L, E))
    key = rng.standard_normal((S, N, 5 if separate else E) if batched else (S, 5 if separate else E))
    value = rng.standard_normal((S, N, 3 if separate else E) if batched else (S, 3 if separate else E))
    n = N if batched else 1
    statics = [rng.standard_normal((n * H, S, E // H)) for _ in range(2)] if static else []
    kpm = rng.random((N, S) if batched else (S,)) < 0.3
    mask = rng.random((L, S)) < 0.3
    kpm[..., 0] = mask[:, 0] = False  # no query with every key masked: torch's weights are NaN there, ours 0

    def run(mod, q, k, v, *rest):
        params = dict(zip(names, rest[:len(names)]))
        static_k, static_v = rest[len(names):] or (None, None)
        out, w = mod.multi_head_attention_forward(
            q, k, v, E, H, params.get("in_proj_weight") if not separate else None, params.get("in_proj_bias"),
            params.get("bias_k"), params.get("bias_v"), zero_attn, 0.0, params["out_proj_weight"],
            params["out_proj_bias"], training=True, key_padding_mask=mod_tensor(mod, kpm), need_weights=True,
            attn_mask=mod_tensor(mod, mask), use_separate_proj_weight=separate,
            q_proj_weight=params.get("q_proj_weight"), k_proj_weight=params.get("k_proj_weight"),
            v_proj_weight=params.get("v_proj_weight"), static_k=static_k, static_v=static_v,
            average_attn_weights=False)
        return (out, w)[output]

    def mod_tensor(mod, a):
        return cr.tensor(a) if mod is F else torch.tensor(a)

    assert_parity(lambda *a: run(F, *a), lambda *a: run(TF, *a), query, key, value,
                  *[arrays[k] for k in names], *statics)


def test_functional_a_query_with_every_key_masked_gets_zero_weights_and_output():
    """torch's need_weights path gives NaN weights (and a NaN output) for such a query; its SDPA path, which
    the Transformer layers take, gives 0. chainrule gives 0 on both."""
    E, H, L, S = 4, 2, 3, 5
    w_in, w_out = cr.tensor(rng.standard_normal((3 * E, E))), cr.tensor(rng.standard_normal((E, E)))
    x = cr.tensor(rng.standard_normal((L, 1, E)))
    mem = cr.tensor(rng.standard_normal((S, 1, E)))
    mask = np.zeros((L, S), bool)
    mask[1] = True
    out, w = F.multi_head_attention_forward(x, mem, mem, E, H, w_in, None, None, None, False, 0.0, w_out, None,
                                            attn_mask=cr.tensor(mask))
    assert np.all(w.data[:, 1] == 0) and np.all(out.data[1] == 0)
    assert np.allclose(w.data[:, [0, 2]].sum(-1), 1)
