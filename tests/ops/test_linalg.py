"""chainrule.ops.linalg against torch: matmul/@ for every combination of 1-D, 2-D and batched operands
(with broadcast batch dims) and nn.functional.linear; the products (mm, bmm, einsum, tensordot, kron, cross, the
add-products, matrix_power, multi_dot) and chainrule.linalg's decompositions (solve, inv, det, Cholesky, QR,
SVD, eigh, pinv, lstsq) — forward and gradients in float64 and float32 (decompositions compared on quantities
that do not depend on the arbitrary signs of singular vectors and eigenvectors), finite differences, error
messages and method forms."""

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


# ===== linear algebra: products, einsum, decompositions (issue #19) ===================================
def square(shape, seed, dtype=np.float64):
    """A well-conditioned square (batch of) matrix: random plus n·I."""
    return (normal(shape, seed) + shape[-1] * np.eye(shape[-1])).astype(dtype)


def spd(shape, seed, dtype=np.float64):
    """A symmetric positive-definite (batch of) matrix X Xᵀ + n·I, distinct eigenvalues almost surely."""
    x = normal(shape, seed)
    return (x @ np.swapaxes(x, -1, -2) + shape[-1] * np.eye(shape[-1])).astype(dtype)


DECOMP = {"rtol": 1e-8, "atol": 1e-10}


# ----- products -----------------------------------------------------------------------------------
PRODUCTS = [
    ("mm", cr.mm, torch.mm, [(3, 4), (4, 2)]),
    ("mm 1x1", cr.mm, torch.mm, [(1, 1), (1, 5)]),
    ("bmm", cr.bmm, torch.bmm, [(2, 3, 4), (2, 4, 5)]),
    ("mv", cr.mv, torch.mv, [(3, 4), (4,)]),
    ("dot", cr.dot, torch.dot, [(5,), (5,)]),
    ("vdot", cr.vdot, torch.vdot, [(5,), (5,)]),
    ("inner 1-D", cr.inner, torch.inner, [(4,), (4,)]),
    ("inner", cr.inner, torch.inner, [(2, 3, 4), (5, 4)]),
    ("inner 0-d", cr.inner, torch.inner, [(), (2, 3)]),
    ("outer", cr.outer, torch.outer, [(3,), (4,)]),
    ("ger", cr.ger, torch.ger, [(3,), (2,)]),
    ("kron 2-D", cr.kron, torch.kron, [(2, 3), (4, 2)]),
    ("kron mixed ndim", cr.kron, torch.kron, [(2, 3), (4,)]),
    ("kron 3-D", cr.kron, torch.kron, [(2, 1, 3), (1, 2, 2)]),
    ("tensordot 2", cr.tensordot, torch.tensordot, [(2, 3, 4), (3, 4, 5)]),
    ("tensordot 0", lambda a, b: cr.tensordot(a, b, 0), lambda a, b: torch.tensordot(a, b, 0), [(2, 3), (4,)]),
    ("tensordot 1", lambda a, b: cr.tensordot(a, b, dims=1), lambda a, b: torch.tensordot(a, b, dims=1),
     [(2, 3), (3, 4)]),
    ("tensordot lists", lambda a, b: cr.tensordot(a, b, dims=([1, 0], [0, 2])),
     lambda a, b: torch.tensordot(a, b, dims=([1, 0], [0, 2])), [(2, 3, 4), (3, 5, 2)]),
    ("tensordot negative dims", lambda a, b: cr.tensordot(a, b, ([-1], [0])),
     lambda a, b: torch.tensordot(a, b, ([-1], [0])), [(2, 3), (3, 2)]),
    ("linalg.cross", cr.linalg.cross, torch.linalg.cross, [(4, 3), (4, 3)]),
    ("linalg.cross broadcast", cr.linalg.cross, torch.linalg.cross, [(2, 1, 3), (1, 4, 3)]),
    ("linalg.cross dim", lambda a, b: cr.linalg.cross(a, b, dim=0), lambda a, b: torch.linalg.cross(a, b, dim=0),
     [(3, 2), (3, 2)]),
    ("cross dim=None", cr.cross, lambda a, b: torch.cross(a, b, dim=1), [(2, 3, 3), (2, 3, 3)]),
    ("cross dim", lambda a, b: cr.cross(a, b, dim=-1), lambda a, b: torch.cross(a, b, dim=-1), [(4, 3), (4, 3)]),
    ("multi_dot", lambda *t: cr.linalg.multi_dot(t), lambda *t: torch.linalg.multi_dot(t), [(2, 3), (3, 4), (4, 2)]),
    ("multi_dot vectors", lambda *t: cr.linalg.multi_dot(t), lambda *t: torch.linalg.multi_dot(t),
     [(3,), (3, 4), (4, 2), (2,)]),
    ("chain_matmul", cr.chain_matmul, lambda *t: torch.linalg.multi_dot(t),
     [(2, 3), (3, 4), (4, 5)]),
    ("linalg.matmul", cr.linalg.matmul, torch.linalg.matmul, [(2, 3, 4), (4,)]),
]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name, ours, theirs, shapes", PRODUCTS, ids=[p[0] for p in PRODUCTS])
def test_products_parity(name, ours, theirs, shapes, dtype):
    arrays = [normal(s, i, dtype) for i, s in enumerate(shapes)]
    out = assert_parity(ours, theirs, *arrays)
    assert out.dtype == dtype


ADD_PRODUCTS = [
    ("addmm", cr.addmm, torch.addmm, [(3, 2), (3, 4), (4, 2)]),
    ("addmm broadcast input", cr.addmm, torch.addmm, [(2,), (3, 4), (4, 2)]),
    ("addmv", cr.addmv, torch.addmv, [(3,), (3, 4), (4,)]),
    ("addr", cr.addr, torch.addr, [(3, 1), (3,), (2,)]),
    ("baddbmm", cr.baddbmm, torch.baddbmm, [(2, 3, 5), (2, 3, 4), (2, 4, 5)]),
    ("baddbmm broadcast input", cr.baddbmm, torch.baddbmm, [(3, 1), (2, 3, 4), (2, 4, 5)]),
]


@pytest.mark.parametrize("beta, alpha", [(1, 1), (0.5, 2.0), (0, 1), (0, -1.5), (2, 0)])
@pytest.mark.parametrize("name, ours, theirs, shapes", ADD_PRODUCTS, ids=[p[0] for p in ADD_PRODUCTS])
def test_add_products_parity(name, ours, theirs, shapes, beta, alpha):
    arrays = [normal(s, i) for i, s in enumerate(shapes)]
    assert_parity(lambda *t: ours(*t, beta=beta, alpha=alpha), lambda *t: theirs(*t, beta=beta, alpha=alpha), *arrays)


def test_add_product_with_beta_zero_ignores_nan_input():
    nan = np.full((3, 2), np.nan)
    out = cr.addmm(cr.tensor(nan), cr.tensor(normal((3, 4), 0)), cr.tensor(normal((4, 2), 1)), beta=0)
    ref = torch.addmm(torch.tensor(nan), torch.tensor(normal((3, 4), 0)), torch.tensor(normal((4, 2), 1)), beta=0)
    np.testing.assert_allclose(out.data, ref.numpy())
    assert not np.isnan(out.data).any()


@pytest.mark.parametrize("n", [-3, -1, 0, 1, 2, 3, 6])
@pytest.mark.parametrize("shape", [(3, 3), (2, 4, 4), (1, 1)])
def test_matrix_power_parity(shape, n):
    a = square(shape, 3) / shape[-1]  # entries O(1): A⁶ stays well scaled
    assert_parity(lambda t: cr.matrix_power(t, n), lambda t: torch.matrix_power(t, n), a)
    assert_parity(lambda t: cr.linalg.matrix_power(t, n), lambda t: torch.linalg.matrix_power(t, n), a)


@pytest.mark.parametrize("name, ours, theirs, shapes", [
    ("mm", cr.mm, torch.mm, [(2, 3), (3, 2)]),
    ("bmm", cr.bmm, torch.bmm, [(2, 2, 3), (2, 3, 2)]),
    ("mv", cr.mv, torch.mv, [(2, 3), (3,)]),
    ("dot", cr.dot, torch.dot, [(3,), (3,)]),
    ("einsum", lambda a, b: cr.einsum("ij,jk", a, b), lambda a, b: torch.einsum("ij,jk", a, b), [(2, 3), (3, 2)]),
    ("kron", cr.kron, torch.kron, [(2, 2), (2,)]),
    ("cross", cr.linalg.cross, torch.linalg.cross, [(2, 3), (2, 3)]),
    ("matrix_power", lambda a: cr.matrix_power(a, 3), lambda a: torch.matrix_power(a, 3), [(3, 3)]),
])
def test_integer_products_stay_integer(name, ours, theirs, shapes):
    arrays = [np.random.default_rng(i).integers(-5, 5, s) for i, s in enumerate(shapes)]
    out = ours(*[cr.tensor(a) for a in arrays])
    ref = theirs(*[torch.tensor(a) for a in arrays])
    assert out.dtype == np.int64 and not out.requires_grad
    np.testing.assert_array_equal(out.data, ref.numpy())


def test_outer_and_kron_promote_dtypes_as_torch():
    i, f = np.arange(3), normal((2,), 0, np.float32)
    assert cr.outer(cr.tensor(i), cr.tensor(f)).dtype == np.float32 == torch.outer(torch.tensor(i), torch.tensor(f)).numpy().dtype
    assert cr.kron(cr.tensor(i), cr.tensor(f)).dtype == np.float32


# ----- einsum -------------------------------------------------------------------------------------
EINSUMS = [
    ("ij,jk->ik", [(2, 3), (3, 4)]),
    ("ij,jk", [(2, 3), (3, 4)]),  # implicit output
    ("bij,bjk->bik", [(2, 3, 4), (2, 4, 5)]),
    ("i,i->", [(4,), (4,)]),
    ("i,j->ij", [(3,), (2,)]),
    ("ii->i", [(3, 3)]),  # diagonal
    ("ii", [(3, 3)]),  # trace
    ("iij,j->ij", [(3, 3, 2), (2,)]),
    ("ij->ji", [(2, 3)]),
    ("ji", [(2, 3)]),  # implicit: sorted letters, so a transpose
    ("ij->", [(2, 3)]),
    ("ij,k->i", [(2, 3), (4,)]),  # k summed in one operand only
    ("bA,aC", [(2, 3), (3, 4)]),  # capitals sort before lower case
    ("...ij,...jk", [(2, 1, 2, 3), (5, 3, 4)]),  # broadcast ellipsis
    ("...ij,...jk->...ik", [(3, 2, 3), (3, 4)]),
    ("...ii->...i", [(2, 3, 3)]),
    ("i...->...", [(3, 2, 2)]),
    ("ij,jk->ik", [(2, 1), (3, 4)]),  # a size-1 labelled dim broadcasts
    ("ij,jk,kl->il", [(2, 3), (3, 4), (4, 2)]),
    ("i,i,i->", [(3,), (3,), (3,)]),
    ("bhqd,bhkd->bhqk", [(2, 2, 3, 4), (2, 2, 5, 4)]),  # attention scores
    (" ij , jk -> ik ", [(2, 3), (3, 4)]),  # spaces are ignored
]


@pytest.mark.parametrize("equation, shapes", EINSUMS, ids=[e[0] for e in EINSUMS])
def test_einsum_parity(equation, shapes):
    arrays = [normal(s, i) for i, s in enumerate(shapes)]
    assert_parity(lambda *t: cr.einsum(equation, *t), lambda *t: torch.einsum(equation, *t), *arrays)
    assert_parity(lambda *t: cr.einsum(equation, list(t)), lambda *t: torch.einsum(equation, list(t)), *arrays)


@SETTINGS
@given(batch=hnp.array_shapes(min_dims=0, max_dims=2, max_side=3), m=SIDES, k=SIDES, n=SIDES, seed=SEEDS)
def test_einsum_batched_matmul_drawn(batch, m, k, n, seed):
    a, b = normal(batch + (m, k), seed), normal((k, n), seed + 1)
    assert_parity(lambda x, y: cr.einsum("...mk,kn->...nm", x, y), lambda x, y: torch.einsum("...mk,kn->...nm", x, y),
                  a, b)


def test_einsum_same_tensor_twice_and_float32():
    x = normal((3, 3), 0)
    assert_parity(lambda t: cr.einsum("ij,ij->", t, t), lambda t: torch.einsum("ij,ij->", t, t), x)
    out = assert_parity(lambda t: cr.einsum("ij,jk", t, t), lambda t: torch.einsum("ij,jk", t, t), x.astype(np.float32))
    assert out.dtype == np.float32


def test_gradcheck_einsum_diagonal_and_broadcast():
    a, b = _leaf(normal((3, 3, 2), 0)), _leaf(normal((1, 2), 1))
    assert cr.gradcheck(lambda x, y: cr.einsum("iij,kj->ik", x, y), (a, b))


@pytest.mark.parametrize("equation, shapes, message", [
    ("ij,jk", [(2, 3)], r"einsum\(\): fewer operands \(1\) were provided"),
    ("ij", [(2, 3), (3,)], r"einsum\(\): more operands \(2\) were provided"),
    ("ijk,jk", [(2, 3), (3, 4)], (r"number of subscripts in the equation \(3\) does not match the number of "
                                  r"dimensions \(2\) for operand 0 and no ellipsis was given")),
    ("ij,jk->q", [(2, 3), (3, 4)], "output subscript q does not appear in the equation for any input operand"),
    ("ij,jk->ii", [(2, 3), (3, 4)], "output subscript i appears more than once in the output"),
    ("ij,jk", [(2, 3), (4, 4)], ("subscript j has size 4 for operand 1 which does not broadcast with previously "
                                 "seen size 3")),
    ("i1,j", [(2, 3), (3,)], "invalid subscript '1'"),
    ("i.j", [(2, 3)], "found '.' for operand 0 that is not part of any ellipsis"),
])
def test_einsum_errors(equation, shapes, message):
    with pytest.raises(RuntimeError, match=message):
        cr.einsum(equation, *[cr.tensor(normal(s, 0)) for s in shapes])


def test_einsum_rejects_mixed_dtypes_and_non_tensors():
    with pytest.raises(RuntimeError, match="einsum\\(\\): expected all inputs to have the same dtype, got float32, float64"):
        cr.einsum("i,i", cr.tensor(normal((3,), 0, np.float32)), cr.tensor(normal((3,), 1)))
    with pytest.raises(TypeError, match=r"einsum\(\): argument 'operands\[1\]' must be a Tensor, got list"):
        cr.einsum("i,i", cr.tensor(normal((3,), 0)), [1.0, 2.0, 3.0])


# ----- solve, inv, det ----------------------------------------------------------------------------
BATCHES = [(), (2,), (2, 3)]


@pytest.mark.parametrize("n", [1, 3, 4])
@pytest.mark.parametrize("batch", BATCHES)
def test_inv_det_slogdet_parity(batch, n):
    a = square(batch + (n, n), n)
    assert_parity(cr.linalg.inv, torch.linalg.inv, a, **DECOMP)
    assert_parity(cr.inverse, torch.inverse, a, **DECOMP)
    assert_parity(cr.linalg.det, torch.linalg.det, a, **DECOMP)
    assert_parity(cr.det, torch.det, a, **DECOMP)
    assert_parity(lambda t: cr.linalg.slogdet(t).logabsdet, lambda t: torch.linalg.slogdet(t).logabsdet, a, **DECOMP)
    assert_parity(lambda t: cr.slogdet(t)[0], lambda t: torch.slogdet(t)[0], -a, grad=False)
    assert_parity(cr.logdet, torch.logdet, spd(batch + (n, n), n), **DECOMP)


def test_det_gradient_at_a_singular_matrix_is_the_adjugate():
    a = normal((3, 3), 0)
    a[2] = a[0] - 2 * a[1]  # rank 2: det = 0, A⁻¹ does not exist, adj(A) does
    assert_parity(cr.linalg.det, torch.linalg.det, a, **DECOMP)


def test_logdet_of_negative_determinant_is_nan():
    a = -np.eye(3)
    out, ref = cr.logdet(cr.tensor(a)), torch.logdet(torch.tensor(a))
    assert np.isnan(out.item()) and np.isnan(ref.item())


SOLVES = [
    ((3, 3), (3, 2)),
    ((3, 3), (3,)),  # a vector
    ((2, 3, 3), (2, 3)),  # a batch of vectors (B's shape is A's less the last dim)
    ((2, 3, 3), (3, 4)),  # one B against a batch
    ((3, 3), (2, 3, 1)),  # a batch of B against one A
    ((2, 1, 4, 4), (3, 4, 2)),  # broadcast batch dims
]


@pytest.mark.parametrize("sa, sb", SOLVES)
def test_solve_parity(sa, sb):
    assert_parity(cr.linalg.solve, torch.linalg.solve, square(sa, 0), normal(sb, 1), **DECOMP)


@pytest.mark.parametrize("sa, sb", [((3, 3), (2, 3)), ((2, 4, 4), (2, 5, 4))])
def test_solve_from_the_right(sa, sb):
    assert_parity(lambda a, b: cr.linalg.solve(a, b, left=False), lambda a, b: torch.linalg.solve(a, b, left=False),
                  square(sa, 0), normal(sb, 1), **DECOMP)


@pytest.mark.parametrize("left", [True, False])
@pytest.mark.parametrize("unitriangular", [False, True])
@pytest.mark.parametrize("upper", [False, True])
def test_solve_triangular_parity(upper, unitriangular, left):
    a, b = square((2, 4, 4), 0), normal((2, 4, 3) if left else (2, 3, 4), 1)
    kw = {"upper": upper, "left": left, "unitriangular": unitriangular}
    assert_parity(lambda x, y: cr.linalg.solve_triangular(x, y, **kw),
                  lambda x, y: torch.linalg.solve_triangular(x, y, **kw), a, b, **DECOMP)


def test_normal_equation_is_differentiable_as_torch():
    """[note 004] θ = (XᵀX)⁻¹Xᵀy by solve, and the residual of the pseudo-inverse fit: gradients w.r.t. X and y."""
    X, y = normal((8, 3), 0), normal((8,), 1)
    assert_parity(lambda x, t: cr.linalg.solve(x.T @ x, x.T @ t), lambda x, t: torch.linalg.solve(x.T @ x, x.T @ t),
                  X, y, **DECOMP)
    assert_parity(lambda x, t: ((x @ cr.linalg.pinv(x) @ t - t) ** 2).sum(),
                  lambda x, t: ((x @ torch.linalg.pinv(x) @ t - t) ** 2).sum(), X, y, rtol=1e-6, atol=1e-9)
    theta = cr.linalg.lstsq(cr.tensor(X), cr.tensor(y)).solution
    np.testing.assert_allclose(theta.data, np.linalg.lstsq(X, y, rcond=None)[0], rtol=1e-10)


# ----- decompositions -----------------------------------------------------------------------------
@pytest.mark.parametrize("upper", [False, True])
@pytest.mark.parametrize("shape", [(1, 1), (3, 3), (2, 4, 4)])
def test_cholesky_parity(shape, upper):
    a = spd(shape, 0)
    assert_parity(lambda t: cr.linalg.cholesky(t, upper=upper), lambda t: torch.linalg.cholesky(t, upper=upper), a,
                  **DECOMP)
    assert_parity(lambda t: t.cholesky(upper), lambda t: t.cholesky(upper), a, **DECOMP)


def _qr_loss(qr, mode):
    def loss(t):
        q, r = qr(t, mode=mode)
        return (q * 1.5).sum() + (r * r).sum() + (q[..., :1] * 2).sum()
    return loss


@pytest.mark.parametrize("mode", ["reduced", "complete"])
@pytest.mark.parametrize("shape", [(4, 3), (3, 3), (3, 5), (2, 5, 2), (2, 2, 4)])
def test_qr_parity(shape, mode):
    a = normal(shape, 0)
    assert_parity(lambda t: cr.linalg.qr(t, mode=mode).Q, lambda t: torch.linalg.qr(t, mode=mode).Q, a,
                  grad=mode == "reduced" or shape[-2] <= shape[-1], **DECOMP)
    assert_parity(lambda t: cr.linalg.qr(t, mode=mode).R, lambda t: torch.linalg.qr(t, mode=mode).R, a,
                  grad=mode == "reduced" or shape[-2] <= shape[-1], **DECOMP)
    if mode == "reduced" or shape[-2] <= shape[-1]:
        assert_parity(_qr_loss(cr.linalg.qr, mode), _qr_loss(torch.linalg.qr, mode), a, **DECOMP)


def test_qr_r_mode_and_complete_tall_gradient_raise_as_torch():
    a = cr.tensor(normal((4, 3), 0), requires_grad=True)
    Q, R = cr.linalg.qr(a, mode="r")
    assert Q.shape == (0,)
    np.testing.assert_allclose(R.data, torch.linalg.qr(torch.tensor(a.data), mode="r").R.numpy(), **DECOMP)
    with pytest.raises(RuntimeError, match="not computed when mode='r'"):
        R.sum().backward()
    with pytest.raises(RuntimeError, match="not differentiable when mode='complete' and nrows > ncols"):
        cr.linalg.qr(a, mode="complete").Q.sum().backward()


def _svd_invariants(svd_fn, abs_fn):
    """Sign-free functions of the SVD: S, |U| and |Vh| on the k = min(m, n) leading vectors, and U diag(S) Vh."""
    def loss(t, full):
        U, S, Vh = svd_fn(t, full_matrices=full)
        k = S.shape[-1]
        u, vh = U[..., :k], Vh[..., :k, :]
        return S, abs_fn(u), abs_fn(vh), (u * S[..., None, :]) @ vh
    return loss


@pytest.mark.parametrize("full", [False, True])
@pytest.mark.parametrize("shape", [(4, 3), (3, 3), (3, 5), (2, 5, 2), (2, 3, 2, 4)])
def test_svd_parity_on_sign_invariant_quantities(shape, full):
    a = normal(shape, 0)
    ours, theirs = _svd_invariants(cr.linalg.svd, abs), _svd_invariants(torch.linalg.svd, torch.abs)
    for i in range(4):
        assert_parity(lambda t, i=i: ours(t, full)[i], lambda t, i=i: theirs(t, full)[i], a, seed=i, **DECOMP)
    assert cr.linalg.svd(cr.tensor(a), full_matrices=full).U.shape == torch.linalg.svd(torch.tensor(a), full).U.shape


@pytest.mark.parametrize("shape", [(4, 3), (3, 5), (2, 3, 3)])
def test_svdvals_and_legacy_svd(shape):
    a = normal(shape, 1)
    assert_parity(cr.linalg.svdvals, torch.linalg.svdvals, a, **DECOMP)
    assert_parity(lambda t: cr.svd(t).V.abs(), lambda t: torch.svd(t).V.abs(), a, **DECOMP)
    assert_parity(lambda t: t.svd(some=False).S, lambda t: t.svd(some=False).S, a, **DECOMP)
    out, ref = cr.svd(cr.tensor(a), compute_uv=False), torch.svd(torch.tensor(a), compute_uv=False)
    assert out.U.shape == tuple(ref.U.shape) and not out.U.data.any()


@pytest.mark.parametrize("UPLO", ["L", "U"])
@pytest.mark.parametrize("shape", [(1, 1), (3, 3), (2, 4, 4)])
def test_eigh_parity_on_sign_invariant_quantities(shape, UPLO):
    a = spd(shape, 0) + np.triu(normal(shape, 1), 1)  # the triangle not read differs: both must ignore it
    assert_parity(lambda t: cr.linalg.eigh(t, UPLO).eigenvalues, lambda t: torch.linalg.eigh(t, UPLO).eigenvalues, a,
                  **DECOMP)
    assert_parity(lambda t: cr.linalg.eigh(t, UPLO=UPLO)[1] ** 2, lambda t: torch.linalg.eigh(t, UPLO=UPLO)[1] ** 2, a,
                  **DECOMP)
    assert_parity(lambda t: cr.linalg.eigvalsh(t, UPLO), lambda t: torch.linalg.eigvalsh(t, UPLO), a, **DECOMP)


@pytest.mark.parametrize("shape, hermitian", [((4, 3), False), ((3, 5), False), ((3, 3), False), ((2, 4, 2), False),
                                             ((3, 3), True), ((2, 4, 4), True)])
def test_pinv_parity(shape, hermitian):
    a = spd(shape, 0) if hermitian else normal(shape, 0)
    assert_parity(lambda t: cr.linalg.pinv(t, hermitian=hermitian), lambda t: torch.linalg.pinv(t, hermitian=hermitian),
                  a, **DECOMP)
    assert_parity(cr.pinverse, torch.pinverse, a, **DECOMP)


def test_pinv_cuts_small_singular_values_as_torch():
    u, _, vh = np.linalg.svd(normal((4, 3), 0), full_matrices=False)
    a = (u * np.array([3.0, 1.0, 1e-3])) @ vh
    for kw in ({"rtol": 1e-2}, {"atol": 0.5}, {"atol": 0.5, "rtol": 0.5}, {"rtol": 1e-6}):
        assert_parity(lambda t, kw=kw: cr.linalg.pinv(t, **kw), lambda t, kw=kw: torch.linalg.pinv(t, **kw), a,
                      **DECOMP)
        assert cr.linalg.matrix_rank(cr.tensor(a), **kw).item() == torch.linalg.matrix_rank(torch.tensor(a), **kw).item()


# gels assumes a tall A of full rank: for a wide A torch's gels solution is not the minimum-norm one
LSTSQ_CASES = [(shapes, driver) for shapes in [((5, 3), (5, 2)), ((5, 3), (5,)), ((2, 6, 3), (2, 6, 4)), ((3, 5), (3, 2))]
               for driver in [None, "gelsy", "gelsd", "gelss", "gels"] if not (driver == "gels" and shapes[0] == (3, 5))]


@pytest.mark.parametrize("shapes, driver", LSTSQ_CASES)
def test_lstsq_parity(shapes, driver):
    sa, sb = shapes
    a, b = normal(sa, 0), normal(sb, 1)
    assert_parity(lambda x, y: cr.linalg.lstsq(x, y, driver=driver).solution,
                  lambda x, y: torch.linalg.lstsq(x, y, driver=driver).solution, a, b, **DECOMP)
    ours, ref = cr.linalg.lstsq(cr.tensor(a), cr.tensor(b), driver=driver), torch.linalg.lstsq(torch.tensor(a), torch.tensor(b), driver=driver)
    for field in ("residuals", "rank", "singular_values"):
        got, want = getattr(ours, field), getattr(ref, field).numpy()
        assert got.shape == want.shape and got.dtype == want.dtype, field
        np.testing.assert_allclose(got.data, want, **DECOMP)


@pytest.mark.parametrize("hermitian", [False, True])
def test_matrix_rank_parity(hermitian):
    a = spd((2, 4, 4), 0)
    a[1] = a[1] @ np.diag([1.0, 1.0, 0.0, 0.0]) @ a[1]  # rank 2
    ours = cr.linalg.matrix_rank(cr.tensor(a), hermitian=hermitian)
    ref = torch.linalg.matrix_rank(torch.tensor(a), hermitian=hermitian)
    assert ours.dtype == np.int64 and not ours.requires_grad
    np.testing.assert_array_equal(ours.data, ref.numpy())


@pytest.mark.parametrize("name, ours, theirs, make", [
    ("inv", cr.linalg.inv, torch.linalg.inv, square),
    ("det", cr.linalg.det, torch.linalg.det, square),
    ("cholesky", cr.linalg.cholesky, torch.linalg.cholesky, spd),
    ("eigvalsh", cr.linalg.eigvalsh, torch.linalg.eigvalsh, spd),
    ("svdvals", cr.linalg.svdvals, torch.linalg.svdvals, normal),
    ("pinv", cr.linalg.pinv, torch.linalg.pinv, normal),
    ("qr.R", lambda t: cr.linalg.qr(t).R, lambda t: torch.linalg.qr(t).R, normal),
    ("solve", lambda t: cr.linalg.solve(t, t[..., :1]), lambda t: torch.linalg.solve(t, t[..., :1]), square),
])
def test_decompositions_keep_float32(name, ours, theirs, make):
    out = assert_parity(ours, theirs, make((2, 3, 3), 0, np.float32), rtol=1e-4, atol=1e-5)
    assert out.dtype == np.float32


# ----- finite differences -------------------------------------------------------------------------
def test_gradcheck_decompositions():
    a = _leaf(square((2, 3, 3), 0))
    s = _leaf(spd((3, 3), 1))
    r = _leaf(normal((4, 3), 2))
    assert cr.gradcheck(lambda t: cr.linalg.inv(t) * cr.linalg.det(t)[..., None, None], (a,))
    # the symmetric formulas are the derivative along symmetric perturbations: feed them (t + tᵀ)/2
    assert cr.gradcheck(lambda t: cr.linalg.cholesky((t + t.T) / 2), (s,))
    assert cr.gradcheck(lambda t: cr.linalg.eigh((t + t.T) / 2).eigenvectors ** 2, (s,))
    assert cr.gradcheck(lambda t: cr.linalg.qr(t).Q, (r,))
    assert cr.gradcheck(lambda t: cr.linalg.svd(t, full_matrices=False).U.abs() + 0, (r,))
    assert cr.gradcheck(lambda t: cr.linalg.pinv(t), (r,))


# ----- errors -------------------------------------------------------------------------------------
def _t(shape, dtype=np.float64):
    return cr.tensor(normal(shape, 0).astype(dtype))


@pytest.mark.parametrize("call, error, message", [
    (lambda: cr.mm(_t((2, 3)), _t((4, 5))), RuntimeError, r"mm: mat1 and mat2 shapes cannot be multiplied \(2x3 and 4x5\)"),
    (lambda: cr.mm(_t((3,)), _t((3, 5))), RuntimeError, r"mm: input must be a matrix, got shape \(3,\)"),
    (lambda: cr.mm(_t((2, 3), np.float32), _t((3, 2))), RuntimeError, "mm: expected all inputs to have the same dtype"),
    (lambda: cr.bmm(_t((2, 2, 3)), _t((3, 3, 5))), RuntimeError, r"bmm: expected mat2 of shape \(2, 3, n\)"),
    (lambda: cr.bmm(_t((2, 3)), _t((2, 3, 5))), RuntimeError, r"bmm: input must be a 3-D tensor, got shape \(2, 3\)"),
    (lambda: cr.mv(_t((2, 3)), _t((4,))), RuntimeError, r"mv: expected a matrix \(m, n\) and a vector \(n,\)"),
    (lambda: cr.dot(_t((3,)), _t((4,))), RuntimeError, "dot: inconsistent tensor size, got 3 and 4 elements"),
    (lambda: cr.dot(_t((3, 1)), _t((3,))), RuntimeError, "dot: 1D tensors expected, but got 2D and 1D tensors"),
    (lambda: cr.outer(_t((3, 1)), _t((3,))), RuntimeError, r"outer: expected two 1-D tensors"),
    (lambda: cr.inner(_t((2, 3)), _t((2, 4))), RuntimeError, r"inner: last dims must match"),
    (lambda: cr.tensordot(_t((2, 3)), _t((4, 5)), dims=1), RuntimeError,
     "tensordot: contracted dimensions need to match, but first has size 3 in dim 1 and second has size 4 in dim 0"),
    (lambda: cr.tensordot(_t((2, 3)), _t((3, 5)), dims=([0, 1], [0])), RuntimeError,
     "tensordot: both dim lists should have same length"),
    (lambda: cr.tensordot(_t((2, 3)), _t((3, 5)), dims=3), RuntimeError, "tensordot: dims 3 must be between 0 and 2"),
    (lambda: cr.addmm(_t((4,)), _t((2, 3)), _t((3, 3))), RuntimeError,
     r"addmm: input of shape \(4,\) cannot be broadcast to the product's shape \(2, 3\)"),
    (lambda: cr.addmm(cr.tensor(np.ones(3, np.int64)), cr.tensor(np.ones((2, 3), np.int64)),
                      cr.tensor(np.ones((3, 3), np.int64)), alpha=0.5), RuntimeError,
     "addmm: for integral input tensors, argument alpha must not be a floating point number"),
    (lambda: cr.matrix_power(_t((2, 3)), 2), RuntimeError, "linalg.matrix_power: A must be batches of square matrices"),
    (lambda: cr.matrix_power(_t((3, 3)), 1.5), TypeError, "linalg.matrix_power: n must be an int, got float"),
    (lambda: cr.linalg.multi_dot([_t((3,))]), RuntimeError, "linalg.multi_dot: expected at least 2 tensors but got 1"),
    (lambda: cr.linalg.multi_dot([_t((3, 2)), _t((2, 2, 2)), _t((2,))]), RuntimeError,
     r"linalg.multi_dot: tensor 1 must be 2-D, got shape \(2, 2, 2\)"),
    (lambda: cr.linalg.multi_dot([_t((3, 2)), _t((3, 2))]), RuntimeError,
     r"linalg.multi_dot: shapes \(3, 2\) and \(3, 2\) cannot be multiplied"),
    (lambda: cr.linalg.cross(_t((2, 4)), _t((2, 4))), RuntimeError,
     "linalg.cross: inputs dimension -1 must have length 3. Got 4 and 4"),
    (lambda: cr.linalg.cross(_t((4, 3)), _t((3,))), RuntimeError,
     "linalg.cross: inputs must have the same number of dimensions"),
    (lambda: cr.linalg.cross(_t((2, 3)), _t((4, 3))), RuntimeError,
     r"linalg.cross: shapes \(2, 3\) and \(4, 3\) are not broadcastable"),
    (lambda: cr.cross(_t((2, 4)), _t((2, 4))), RuntimeError, r"cross: no dimension of size 3 in input of shape \(2, 4\)"),
    (lambda: cr.linalg.inv(_t((3, 4))), RuntimeError,
     "linalg.inv: A must be batches of square matrices, but they are 3 by 4 matrices"),
    (lambda: cr.linalg.inv(cr.tensor(np.eye(3, dtype=np.int64))), RuntimeError,
     "linalg.inv: Expected a floating point tensor as input, got int64"),
    (lambda: cr.linalg.inv(cr.tensor(np.zeros((3, 3)))), cr.linalg.LinAlgError, "linalg.inv: the input matrix is singular"),
    (lambda: cr.linalg.det(_t((3,))), RuntimeError,
     r"linalg.det: The input tensor A must have at least 2 dimensions, got shape \(3,\)"),
    (lambda: cr.linalg.cholesky(cr.tensor(-np.eye(3))), cr.linalg.LinAlgError,
     "linalg.cholesky: The factorization could not be completed because the input is not positive-definite"),
    (lambda: cr.linalg.solve(_t((3, 3)), _t((4,))), RuntimeError,
     r"linalg.solve: Incompatible shapes of A and B for the equation AX = B \(3x3 and 4x1\)"),
    (lambda: cr.linalg.solve(_t((3, 3)), _t((3,), np.float32)), RuntimeError,
     "linalg.solve: Expected A and B to have the same dtype, but found A of type float64 and B of type float32"),
    (lambda: cr.linalg.solve(_t((2, 3, 3)), _t((4, 3, 1))), RuntimeError,
     r"linalg.solve: the batch dims of A \(2, 3, 3\) and B \(4, 3, 1\) are not broadcastable"),
    (lambda: cr.linalg.solve(cr.tensor(np.zeros((2, 2))), _t((2, 1))), cr.linalg.LinAlgError,
     "linalg.solve: the input matrix A is singular"),
    (lambda: cr.linalg.solve_triangular(_t((3, 3)), _t((3,)), upper=True), RuntimeError,
     "linalg.solve_triangular: The input tensor B must have at least 2 dimensions"),
    (lambda: cr.linalg.qr(_t((3, 3)), mode="x"), RuntimeError, "linalg.qr: received unrecognized mode 'x'"),
    (lambda: cr.linalg.eigh(_t((3, 3)), UPLO="X"), RuntimeError, "linalg.eigh: Expected UPLO argument to be 'L' or 'U'"),
    (lambda: cr.linalg.pinv(_t((3, 2)), hermitian=True), RuntimeError, "linalg.pinv: A must be batches of square"),
    (lambda: cr.linalg.pinv(_t((3, 2)), rtol="big"), TypeError, "linalg.pinv: rtol must be a float or a Tensor, got str"),
    (lambda: cr.linalg.lstsq(_t((5, 3)), _t((4, 2))), RuntimeError,
     r"linalg.lstsq: A \(5, 3\) and B \(4, 2\) must have the same number of rows \(5\)"),
    (lambda: cr.linalg.lstsq(_t((5, 3)), _t((5, 2)), driver="lu"), RuntimeError,
     "linalg.lstsq: parameter `driver` should be one of"),
    (lambda: cr.linalg.svd([[1.0]]), TypeError, "linalg.svd: argument 'A' must be a Tensor, got list"),
])
def test_linalg_errors(call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_linalg_error_is_a_runtime_error():
    assert issubclass(cr.linalg.LinAlgError, RuntimeError)


# ----- method forms -------------------------------------------------------------------------------
METHODS = [
    ("mm", [(2, 3), (3, 4)]), ("bmm", [(2, 2, 3), (2, 3, 4)]), ("mv", [(2, 3), (3,)]), ("dot", [(3,), (3,)]),
    ("vdot", [(3,), (3,)]), ("inner", [(2, 3), (3,)]), ("outer", [(3,), (2,)]), ("ger", [(3,), (2,)]),
    ("kron", [(2, 2), (3,)]), ("cross", [(2, 3), (2, 3)]), ("addmm", [(2, 4), (2, 3), (3, 4)]),
    ("addmv", [(2,), (2, 3), (3,)]), ("addr", [(3, 2), (3,), (2,)]), ("baddbmm", [(2, 2, 4), (2, 2, 3), (2, 3, 4)]),
]


@pytest.mark.parametrize("name, shapes", METHODS, ids=[m[0] for m in METHODS])
def test_product_methods(name, shapes):
    arrays = [normal(s, i) for i, s in enumerate(shapes)]
    assert_parity(lambda x, *rest: getattr(x, name)(*rest), lambda x, *rest: getattr(x, name)(*rest), *arrays)


@pytest.mark.parametrize("name, args, make", [
    ("det", (), square), ("logdet", (), spd), ("inverse", (), square), ("pinverse", (), normal),
    ("matrix_power", (3,), square), ("cholesky", (), spd),
])
def test_matrix_methods(name, args, make):
    assert_parity(lambda t: getattr(t, name)(*args), lambda t: getattr(t, name)(*args), make((2, 3, 3), 0), **DECOMP)
    assert_parity(lambda t: t.slogdet()[1], lambda t: t.slogdet()[1], square((3, 3), 1), **DECOMP)
    assert_parity(lambda t: t.qr().R, lambda t: t.qr().R, normal((4, 3), 2), **DECOMP)
