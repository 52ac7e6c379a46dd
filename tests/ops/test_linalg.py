"""chainrule.ops.linalg against torch: matmul/@ for every combination of 1-D, 2-D and batched operands
(with broadcast batch dims) and nn.functional.linear — forward and gradients in float64 and float32,
finite differences and error messages."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import chainrule as cr
import chainrule.nn.functional as F
from tests.parity import assert_parity

SETTINGS = settings(max_examples=25, deadline=None)
SEEDS = st.integers(0, 2**32 - 1)
SIDES = st.integers(1, 5)


def normal(shape, seed, dtype=np.float64):
    return np.asarray(np.random.default_rng(seed).standard_normal(shape), dtype=dtype)


MATMULS = {
    "@": (lambda a, b: a @ b, lambda a, b: a @ b),
    "matmul": (cr.matmul, torch.matmul),
    "method": (lambda a, b: a.matmul(b), lambda a, b: a.matmul(b)),
}

NAMED_SHAPES = [
    ((4,), (4,)),  # 1-D · 1-D: a scalar
    ((4,), (4, 3)),  # 1-D · 2-D
    ((3, 4), (4,)),  # 2-D · 1-D
    ((3, 4), (4, 5)),
    ((1, 1), (1, 1)),
    ((2, 3, 4), (2, 4, 5)),  # batched
    ((2, 3, 4), (4, 5)),  # a batch against one matrix
    ((3, 4), (2, 4, 5)),  # one matrix against a batch
    ((2, 1, 3, 4), (5, 4, 6)),  # broadcast batch dims
    ((5, 4, 6), (2, 1, 6, 3)),
    ((1, 3, 4), (2, 4, 5)),
    ((4,), (2, 3, 4, 5)),  # 1-D against a batch
    ((2, 3, 3, 4), (4,)),
    ((2, 1, 3, 4), (1, 5, 4, 2)),
]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("sa, sb", NAMED_SHAPES)
@pytest.mark.parametrize("name", sorted(MATMULS))
def test_matmul_named_shapes(name, sa, sb, dtype):
    ours, theirs = MATMULS[name]
    out = assert_parity(ours, theirs, normal(sa, 0, dtype), normal(sb, 1, dtype))
    assert out.dtype == dtype


@st.composite
def matmul_case(draw):
    """Two operands of 1 to 4 dims whose inner sizes agree and whose batch dims broadcast."""
    m, k, n = draw(SIDES), draw(SIDES), draw(SIDES)
    batch = draw(hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=2, max_side=3)).input_shapes
    a_vec, b_vec = draw(st.booleans()), draw(st.booleans())
    sa = (k,) if a_vec else batch[0] + (m, k)
    sb = (k,) if b_vec else batch[1] + (k, n)
    return sa, sb


@SETTINGS
@given(case=matmul_case(), seed=SEEDS)
def test_matmul_parity(case, seed):
    sa, sb = case
    a, b = normal(sa, seed), normal(sb, seed + 1)
    assert_parity(lambda x, y: x @ y, lambda x, y: x @ y, a, b)


@SETTINGS
@given(case=matmul_case(), seed=SEEDS)
def test_matmul_with_only_one_operand_requiring_grad(case, seed):
    sa, sb = case
    a, b = normal(sa, seed), normal(sb, seed + 1)
    assert_parity(lambda x: x @ cr.tensor(b), lambda x: x @ torch.tensor(b), a)
    assert_parity(lambda y: cr.tensor(a) @ y, lambda y: torch.tensor(a) @ y, b)


def test_matmul_same_tensor_on_both_sides():
    x = normal((3, 3), 0)
    assert_parity(lambda t: t @ t, lambda t: t @ t, x)
    assert_parity(lambda t: t @ t.T, lambda t: t @ t.T, normal((2, 4), 1))


def test_matmul_with_numpy_array_on_the_left():
    a, b = normal((2, 3), 0), normal((3, 4), 1)
    assert_parity(lambda y: a @ y, lambda y: torch.tensor(a) @ y, b)


def test_matmul_promotes_mixed_float_dtypes():
    """chainrule promotes float32 @ float64 to float64 (torch refuses); compare with an explicit cast."""
    out = assert_parity(
        cr.matmul, lambda a, b: torch.matmul(a.double(), b), normal((2, 3), 0, np.float32), normal((3, 2), 1)
    )
    assert out.dtype == np.float64


# ----- linear -------------------------------------------------------------------------------------
@SETTINGS
@given(
    lead=hnp.array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=4),
    fan_in=SIDES,
    fan_out=SIDES,
    bias=st.booleans(),
    seed=SEEDS,
)
def test_linear_parity(lead, fan_in, fan_out, bias, seed):
    x, w = normal(lead + (fan_in,), seed), normal((fan_out, fan_in), seed + 1)
    if bias:
        assert_parity(F.linear, torch.nn.functional.linear, x, w, normal((fan_out,), seed + 2))
    else:
        assert_parity(F.linear, torch.nn.functional.linear, x, w)
        assert_parity(lambda a, b: F.linear(a, b, None), lambda a, b: torch.nn.functional.linear(a, b, None), x, w)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("x_shape", [(5,), (4, 5), (2, 3, 5)])
@pytest.mark.parametrize("bias", [False, True])
def test_linear_named_shapes(x_shape, bias, dtype):
    arrays = [normal(x_shape, 0, dtype), normal((3, 5), 1, dtype)] + ([normal((3,), 2, dtype)] if bias else [])
    out = assert_parity(F.linear, torch.nn.functional.linear, *arrays)
    assert out.dtype == dtype


def test_linear_with_frozen_weight_or_input():
    x, w, b = normal((4, 5), 0), normal((3, 5), 1), normal((3,), 2)
    assert_parity(
        lambda t: F.linear(t, cr.tensor(w), cr.tensor(b)),
        lambda t: torch.nn.functional.linear(t, torch.tensor(w), torch.tensor(b)),
        x,
    )
    assert_parity(
        lambda v, c: F.linear(cr.tensor(x), v, c), lambda v, c: torch.nn.functional.linear(torch.tensor(x), v, c), w, b
    )


# ----- finite differences -------------------------------------------------------------------------
def _leaf(array):
    return cr.tensor(array, requires_grad=True)


def test_gradcheck_matmul_chain_with_broadcast_batches():
    a, b, c = _leaf(normal((2, 1, 3, 4), 0)), _leaf(normal((5, 4, 2), 1)), _leaf(normal((2,), 2))
    assert cr.gradcheck(lambda x, y, v: ((x @ y).sin() @ v) @ (x[0, 0] @ y[0]), (a, b, c))


def test_gradcheck_vector_products():
    u, m = _leaf(normal((3,), 3)), _leaf(normal((3, 3), 4))
    assert cr.gradcheck(lambda x, a: (x @ a @ x) * (a @ x) + x @ x, (u, m))


def test_gradcheck_two_layer_linear():
    x, w1, b1, w2 = (
        _leaf(normal((2, 3, 4), 5)),
        _leaf(normal((5, 4), 6)),
        _leaf(normal((5,), 7)),
        _leaf(normal((2, 5), 8)),
    )
    assert cr.gradcheck(lambda a, p, q, r: F.linear(F.linear(a, p, q).tanh(), r), (x, w1, b1, w2))


# ----- errors -------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "sa, sb",
    [((2, 3), (4, 5)), ((3,), (4,)), ((3,), (4, 2)), ((2, 3), (4,)), ((2, 3, 4), (2, 5, 6)), ((7, 2, 3), (3, 4, 5))],
)
def test_matmul_inner_size_mismatch_names_both_shapes(sa, sb):
    a, b = cr.tensor(normal(sa, 0), requires_grad=True), cr.tensor(normal(sb, 1))
    with pytest.raises(ValueError, match=rf"matmul: shapes {_re(sa)} and {_re(sb)} cannot be multiplied"):
        a @ b


def _re(shape):
    return str(shape).replace("(", r"\(").replace(")", r"\)")


def test_matmul_batch_mismatch_names_both_shapes():
    with pytest.raises(
        ValueError, match=r"matmul: batch dims of shapes \(2, 3, 4\) and \(3, 4, 5\) are not broadcastable"
    ):
        cr.tensor(normal((2, 3, 4), 0)) @ cr.tensor(normal((3, 4, 5), 1))


def test_matmul_of_0d_names_shapes():
    with pytest.raises(ValueError, match=r"matmul: both operands need at least 1 dim, got shapes \(\) and \(3,\)"):
        cr.matmul(cr.tensor(2.0), cr.tensor(normal((3,), 0)))


def test_matmul_rejects_non_tensors():
    with pytest.raises(TypeError, match="matmul: expected two Tensors, got Tensor and list"):
        cr.matmul(cr.tensor(normal((3,), 0)), [1.0, 2.0, 3.0])


def test_linear_errors_name_shapes():
    x, w = cr.tensor(normal((4, 5), 0)), cr.tensor(normal((3, 6), 1))
    with pytest.raises(ValueError, match=r"linear: input of shape \(4, 5\) does not match weight of shape \(3, 6\)"):
        F.linear(x, w)
    with pytest.raises(ValueError, match=r"linear: bias of shape \(4,\) does not match 3 output features"):
        F.linear(x, cr.tensor(normal((3, 5), 1)), cr.tensor(normal((4,), 2)))
    with pytest.raises(TypeError, match="linear: input dtype float32 differs from weight dtype float64"):
        F.linear(cr.tensor(normal((4, 5), 0, np.float32)), cr.tensor(normal((3, 5), 1)))
