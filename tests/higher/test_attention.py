"""Second (and third) derivatives of scaled dot-product attention equal torch's (float64): with respect to query,
key, value and a float mask; bool and causal masks, a custom scale, broadcast batch dims, dropout (its mask kept
as a constant), and multi-head attention built on it."""
import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import chainrule as cr
import chainrule.nn.functional as F
from chainrule.ops.attention import _attention
from tests.higher.check import assert_higher_order


def draw(shape, seed):
    return np.random.default_rng(seed).standard_normal(shape)


def _masked_attention(q, k, v, mask):
    """torch's attention with a bool mask whose fully masked rows give 0, written so that its derivatives stay
    finite (torch's own gives NaN there from the second order on)."""
    keep = torch.tensor(mask)
    e = torch.where(keep, q @ k.transpose(-1, -2) / np.sqrt(q.shape[-1]), 0).exp() * keep
    total = e.sum(-1, keepdim=True)
    return e / (total + (total == 0)) @ v


@pytest.mark.parametrize("q_shape, k_shape, v_dim, scale", [
    ((4, 3), (5, 3), 2, None), ((2, 3, 4), (2, 2, 4), 3, 0.4), ((2, 2, 3, 2), (2, 1, 4, 2), 2, None),
    ((2, 3, 2), (3, 2), 1, 1.5),
])
def test_attention(q_shape, k_shape, v_dim, scale):
    q, k, v = draw(q_shape, 1), draw(k_shape, 2), draw(k_shape[:-1] + (v_dim,), 3)
    assert_higher_order(lambda q, k, v: F.scaled_dot_product_attention(q, k, v, scale=scale),
                        lambda q, k, v: TF.scaled_dot_product_attention(q, k, v, scale=scale), q, k, v,
                        order=3 if len(q_shape) == 2 else 2)


def test_bool_mask_with_a_fully_masked_row():
    q, k, v = draw((2, 4, 3), 4), draw((2, 5, 3), 5), draw((2, 5, 2), 6)
    mask = np.random.default_rng(7).random((4, 5)) > 0.4
    mask[2] = False
    assert_higher_order(lambda q, k, v: F.scaled_dot_product_attention(q, k, v, attn_mask=mask),
                        lambda q, k, v: _masked_attention(q, k, v, mask), q, k, v, order=3)


@pytest.mark.parametrize("mask_shape", [(3, 4), (2, 1, 3, 4)])
def test_float_mask(mask_shape):
    """An additive float mask gets derivatives too."""
    q, k, v, m = draw((2, 2, 3, 2), 8), draw((2, 2, 4, 2), 9), draw((2, 2, 4, 3), 10), draw(mask_shape, 11)
    assert_higher_order(lambda q, k, v, m: F.scaled_dot_product_attention(q, k, v, attn_mask=m),
                        lambda q, k, v, m: TF.scaled_dot_product_attention(q, k, v, attn_mask=m), q, k, v, m)


def test_causal():
    q, k, v = draw((2, 4, 3), 12), draw((2, 4, 3), 13), draw((2, 4, 2), 14)
    assert_higher_order(lambda q, k, v: F.scaled_dot_product_attention(q, k, v, is_causal=True),
                        lambda q, k, v: TF.scaled_dot_product_attention(q, k, v, is_causal=True), q, k, v, order=3)


def test_dropout_mask_is_a_constant():
    """With dropout, the derivatives are those of softmax(S)·D/(1 − p) with the mask D that the forward drew; both
    outputs (out, the weights) are used."""
    q, k, v = draw((2, 3, 4), 15), draw((2, 5, 4), 16), draw((2, 5, 2), 17)

    def ours(q, k, v):
        cr.manual_seed(3)
        return _attention(q, k, v, None, 0.4, None, "test")

    keep = ours(*(cr.tensor(a, requires_grad=True) for a in (q, k, v)))[1].grad_fn.keep
    assert np.any(keep == 0) and np.any(keep > 0)

    def theirs(q, k, v):
        weights = torch.softmax(q @ k.transpose(-1, -2) / 2, -1) * torch.tensor(keep)
        return weights @ v, weights

    assert_higher_order(ours, theirs, q, k, v)


def test_multi_head_attention():
    torch.manual_seed(0)
    theirs = torch.nn.MultiheadAttention(4, 2, dtype=torch.float64)
    ours = cr.nn.MultiheadAttention(4, 2, dtype=cr.float64)
    names = [n for n, _ in theirs.named_parameters()]
    params = [p.detach().numpy().copy() for p in theirs.parameters()]
    x, mask = draw((3, 2, 4), 18), np.triu(np.ones((3, 3), dtype=bool), 1)

    def call(lib, module, x, *ps):
        return lib.func.functional_call(module, dict(zip(names, ps)), (x, x, x), {"attn_mask": lib.tensor(mask)})

    assert_higher_order(lambda x, *ps: call(cr, ours, x, *ps), lambda x, *ps: call(torch, theirs, x, *ps), x, *params)
