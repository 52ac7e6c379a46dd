"""Second and third derivatives of the linear-algebra ops (products, einsum, Linear, Bilinear, solves, inverse,
determinants, Cholesky, eigh, pinv) and of the norms and cosine similarity, equal to torch's (float64)."""
import numpy as np
import pytest
import torch

import chainrule as cr
from tests.higher.check import assert_higher_order


def draw(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


def invertible(*shape, seed=0):
    return draw(*shape, seed=seed) + 3 * np.eye(shape[-1])


def symmetric(*shape, seed=0):
    a = draw(*shape, seed=seed)
    return a + np.swapaxes(a, -1, -2)


def spd(*shape, seed=0):
    a = draw(*shape, seed=seed)
    return a @ np.swapaxes(a, -1, -2) + shape[-1] * np.eye(shape[-1])


def lib(t):
    """The library of ``t``: the same test function runs on chainrule and on torch."""
    return cr if isinstance(t, cr.Tensor) else torch


def same(f):
    return f, f


LINALG = {"rtol": 1e-7, "atol": 1e-9}  # LAPACK's solves and factorizations round differently from torch's
MATMUL_SHAPES = [((3,), (3,)), ((2, 3), (3,)), ((3,), (3, 4)), ((2, 3), (3, 4)), ((5, 2, 3), (3, 4)),
                 ((2, 3), (5, 3, 4)), ((3,), (5, 3, 4)), ((5, 2, 3), (3,)), ((2, 1, 2, 3), (5, 3, 4)),
                 ((1, 2, 3), (4, 3, 2))]


@pytest.mark.parametrize("shapes", MATMUL_SHAPES)
@pytest.mark.parametrize("wrap", ["cube", "sin"])
def test_matmul(shapes, wrap):
    f = (lambda a, b: (a @ b) ** 3) if wrap == "cube" else (lambda a, b: (a @ b).sin())
    assert_higher_order(f, f, draw(*shapes[0], seed=1), draw(*shapes[1], seed=2), order=3)


def test_matmul_one_operand_and_chain():
    """Only one operand requires grad; a product of three (a's second derivative meets both matmuls)."""
    a, b, c = draw(2, 3, 4, seed=3), draw(4, 5, seed=4), draw(5, 2, seed=5)
    f = lambda x, y: ((x @ y) ** 2).exp().sum(-1)
    assert_higher_order(f, f, a, b, order=3, wrt=[1])
    assert_higher_order(f, f, a, b, order=3, wrt=[0])
    g = lambda x, y, z: (x @ y @ z).sin()
    assert_higher_order(g, g, a, b, c, order=3)


def test_products():
    """mm, bmm, mv, dot, outer, inner, tensordot, kron, the add-products, matrix_power and multi_dot."""
    m, n, v, w = draw(3, 4, seed=6), draw(4, 2, seed=7), draw(4, seed=8), draw(3, seed=9)
    b1, b2 = draw(2, 3, 4, seed=10), draw(2, 4, 2, seed=11)
    sq = draw(3, 3, seed=12) / 2
    cases = [
        (lambda x, y: lib(x).mm(x, y) ** 3, m, n), (lambda x, y: lib(x).bmm(x, y) ** 3, b1, b2),
        (lambda x, y: lib(x).mv(x, y) ** 3, m, v), (lambda x, y: lib(x).dot(x, y) ** 3, v, v * 2),
        (lambda x, y: lib(x).outer(x, y) ** 3, v, w), (lambda x, y: lib(x).inner(x, y) ** 3, m, b1),
        (lambda x, y: lib(x).tensordot(x, y, dims=([0, 2], [0, 1])) ** 3, b1, b2),
        (lambda x, y: lib(x).kron(x, y) ** 3, m, n),
        (lambda x, y, z: lib(x).addmm(x, y, z, beta=0.5, alpha=2) ** 3, draw(3, 2, seed=13), m, n),
        (lambda x, y, z: lib(x).baddbmm(x, y, z, alpha=-1) ** 3, draw(1, 3, 2, seed=14), b1, b2),
        (lambda x: lib(x).linalg.matrix_power(x, 3).sin(), sq),
        (lambda x, y, z: lib(x).linalg.multi_dot([x, y, z]).sin(), w, m, n),
    ]
    for f, *args in cases:
        assert_higher_order(f, f, *args, order=3)


@pytest.mark.parametrize("x_shape", [(4,), (2, 4), (3, 2, 4)])
@pytest.mark.parametrize("bias", [True, False])
def test_linear(x_shape, bias):
    f = lambda x, w, b=None: lib(x).nn.functional.linear(x, w, b) ** 3
    args = [draw(*x_shape, seed=15), draw(5, 4, seed=16)] + ([draw(5, seed=17)] if bias else [])
    assert_higher_order(f, f, *args, order=3)


EINSUM = [
    ("ij,jk->ik", [(2, 3), (3, 4)]), ("bij,bjk->bik", [(2, 2, 3), (1, 3, 4)]), ("...ij,...jk", [(5, 2, 3), (3, 4)]),
    ("ii->i", [(3, 3)]), ("ii", [(3, 3)]), ("iii->i", [(2, 2, 2)]), ("iij,jk->ik", [(3, 3, 2), (2, 4)]),
    ("i->", [(3,)]), ("ij->", [(2, 3)]), ("ij->ji", [(2, 3)]), ("i,i,i->", [(3,), (3,), (3,)]),
    ("ij,j->ij", [(3, 4), (1,)]), ("ij,kj->ikj", [(2, 3), (4, 3)]), (",i->i", [(), (3,)]),
    ("bn,anm,bm->ba", [(2, 3), (4, 3, 5), (2, 5)]),
]


@pytest.mark.parametrize("equation, shapes", EINSUM)
def test_einsum(equation, shapes):
    f = lambda *t: lib(t[0]).einsum(equation, *t).sin()
    assert_higher_order(f, f, *[draw(*s, seed=20 + i) for i, s in enumerate(shapes)], order=3)


@pytest.mark.parametrize("x_shape", [(4,), (2, 4), (2, 3, 4)])
@pytest.mark.parametrize("bias", [True, False])
def test_bilinear(x_shape, bias):
    f = lambda *t: lib(t[0]).nn.functional.bilinear(*t) ** 3
    args = [draw(*x_shape, seed=30), draw(*x_shape[:-1], 3, seed=31), draw(5, 4, 3, seed=32)]
    assert_higher_order(f, f, *args + ([draw(5, seed=33)] if bias else []), order=3)


def test_cross():
    f = lambda a, b: lib(a).linalg.cross(a, b) ** 3
    assert_higher_order(f, f, draw(4, 3, seed=34), draw(1, 3, seed=35), order=3)
    g = lambda a, b: lib(a).cross(a, b, dim=0) ** 3
    assert_higher_order(g, g, draw(3, 2, seed=36), draw(3, 2, seed=37), order=3)


def test_inverse_and_determinants():
    A = invertible(2, 3, 3, seed=38)
    for f in (lambda a: lib(a).linalg.inv(a) ** 2, lambda a: lib(a).linalg.det(a) ** 2,
              lambda a: lib(a).linalg.slogdet(a)[1] ** 2):
        assert_higher_order(f, f, A, order=3, **LINALG)
    f = lambda a: lib(a).logdet(a)
    assert_higher_order(f, f, spd(3, 3, seed=39), order=3, **LINALG)


@pytest.mark.parametrize("B_shape, left", [((3, 2), True), ((3,), True), ((2, 2, 3), False), ((2, 1, 3, 2), True)])
def test_solve(B_shape, left):
    f = lambda a, b: lib(a).linalg.solve(a, b, left=left) ** 2
    assert_higher_order(f, f, invertible(2, 3, 3, seed=40), draw(*B_shape, seed=41), order=3, **LINALG)


@pytest.mark.parametrize("upper", [True, False])
@pytest.mark.parametrize("unitriangular", [True, False])
@pytest.mark.parametrize("left", [True, False])
def test_solve_triangular(upper, unitriangular, left):
    def f(a, b):
        return lib(a).linalg.solve_triangular(a, b, upper=upper, unitriangular=unitriangular, left=left) ** 2
    assert_higher_order(f, f, invertible(2, 3, 3, seed=42), draw(3, 3, seed=43), order=3, **LINALG)


@pytest.mark.parametrize("upper", [True, False])
def test_cholesky(upper):
    f = lambda a: lib(a).linalg.cholesky(a, upper=upper) ** 2
    assert_higher_order(f, f, spd(2, 3, 3, seed=44), order=3, **LINALG)


def test_eigh():
    """Eigenvalues, and eigenvectors through functions that do not depend on their signs."""
    f = lambda a: lib(a).linalg.eigvalsh(a) ** 3
    assert_higher_order(f, f, symmetric(2, 3, 3, seed=45), order=3, **LINALG)
    g = lambda a: lib(a).linalg.eigvalsh(a, UPLO="U") ** 3
    assert_higher_order(g, g, draw(3, 3, seed=46), order=3, **LINALG)

    def h(a):
        L, V = lib(a).linalg.eigh(a)
        return (V ** 2 * L.unsqueeze(-2)).sum(-1), V ** 2
    assert_higher_order(h, h, symmetric(2, 3, 3, seed=47), order=3, **LINALG)


@pytest.mark.parametrize("shape", [(3, 3), (2, 4, 3), (3, 5)])
def test_pinv(shape):
    f = lambda a: lib(a).linalg.pinv(a) ** 3
    assert_higher_order(f, f, draw(*shape, seed=48), order=3, **LINALG)


def test_pinv_hermitian_and_lstsq():
    f = lambda a: lib(a).linalg.pinv(a, hermitian=True) ** 3
    assert_higher_order(f, f, symmetric(3, 3, seed=49), order=2, **LINALG)
    g = lambda a, b: lib(a).linalg.lstsq(a, b).solution ** 2
    assert_higher_order(g, g, draw(5, 3, seed=50), draw(5, 2, seed=51), order=2, **LINALG)


@pytest.mark.parametrize("make", [lambda a: cr.linalg.svdvals(a).sum() ** 2,
                                  lambda a: (cr.linalg.svd(a, full_matrices=False).U ** 2).sum(),
                                  lambda a: (cr.linalg.qr(a).R ** 2).sum()])
def test_svd_qr_have_no_second_derivative(make):
    """SVD and QR keep first-order-only gradients: differentiating them again raises, naming the op."""
    a = cr.tensor(draw(3, 3, seed=52), requires_grad=True)
    (g,) = cr.autograd.grad(make(a), a, create_graph=True)
    with pytest.raises(RuntimeError, match="SVD|QR"):
        cr.autograd.grad(g.sum(), a)


@pytest.mark.parametrize("p", [2.0, 1.0, 3.0, 1.5, float("inf")])
@pytest.mark.parametrize("keepdim", [False, True])
def test_pairwise_distance(p, keepdim):
    f = lambda a, b: lib(a).nn.functional.pairwise_distance(a, b, p=p, keepdim=keepdim) ** 3
    assert_higher_order(f, f, draw(3, 4, seed=53), draw(4, seed=54), order=3)


@pytest.mark.parametrize("p", [2.0, 1.0, 3.0, float("inf")])
def test_normalize(p):
    """With a zero entry in a non-zero vector (p = 2: its second derivative is not 0 there)."""
    x = draw(3, 4, seed=55)
    x[1, 2] = 0
    f = lambda a: lib(a).nn.functional.normalize(a, p=p, dim=0).sin()
    assert_higher_order(f, f, x, order=3)


def test_norm_p0_is_flat():
    """The 0-"norm" counts non-zeros: its gradient and every higher one is 0."""
    x = cr.tensor(draw(3, 4, seed=56), requires_grad=True)
    y = cr.tensor(draw(4, seed=57), requires_grad=True)
    out = (cr.nn.functional.pairwise_distance(x, y, p=0) ** 2).sum() + (x ** 2).sum()
    gx, gy = cr.autograd.grad(out, [x, y], create_graph=True)
    np.testing.assert_allclose(gy.data, 0)
    hx, hy = cr.autograd.grad(gx.sum() + gy.sum(), [x, y], allow_unused=True)
    np.testing.assert_allclose(hx.data, 2)
    assert hy is None or not np.any(hy.data)


@pytest.mark.parametrize("shapes, dim", [(((3, 4), (3, 4)), 1), (((3, 4), (4,)), -1), (((2, 1, 4), (3, 4)), 0),
                                         (((5,), (5,)), 0), (((3, 1), (3, 4)), 1)])
def test_cosine_similarity(shapes, dim):
    f = lambda a, b: lib(a).nn.functional.cosine_similarity(a, b, dim=dim) ** 3
    assert_higher_order(f, f, draw(*shapes[0], seed=58), draw(*shapes[1], seed=59), order=3)


def test_cosine_similarity_below_eps():
    """Norms under eps are clamped; the gradient passes the clamp as torch's does."""
    f = lambda a, b: lib(a).nn.functional.cosine_similarity(a, b, eps=0.5) ** 3
    assert_higher_order(f, f, 0.1 * draw(3, 4, seed=60), draw(3, 4, seed=61), order=3)


@pytest.mark.parametrize("op", ["normalize", "cosine_similarity"])
def test_zero_vector(op):
    """A zero vector: its second derivative is 0 (torch's is NaN there); every other row equals torch's."""
    x = draw(3, 4, seed=62)
    x[1] = 0
    other = draw(3, 4, seed=63)
    u = draw(3, 4, seed=64)

    def second(lib_, t, o):
        out = lib_.nn.functional.normalize(t, dim=1) if op == "normalize" else \
            lib_.nn.functional.cosine_similarity(t, o)
        (g,) = lib_.autograd.grad((out.sin()).sum(), t, create_graph=True)
        return lib_.autograd.grad((g * lib_.tensor(u)).sum(), t)[0]

    ours = second(cr, cr.tensor(x, requires_grad=True), cr.tensor(other)).data
    theirs = second(torch, torch.tensor(x, requires_grad=True), torch.tensor(other)).numpy()
    assert np.all(np.isfinite(ours))
    np.testing.assert_allclose(ours[1], 0)
    np.testing.assert_allclose(ours[[0, 2]], theirs[[0, 2]], rtol=1e-9, atol=1e-10)
