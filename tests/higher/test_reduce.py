"""Second and third derivatives of the reductions equal torch's (float64): var/std (0 at std's kink), amax/amin
and max/min along a dim (ties), prod (with zeros), logsumexp, nanmean, the vector and matrix norms, median."""
import math

import numpy as np
import pytest
import torch

import chainrule as cr
from tests.higher.check import assert_higher_order


def draw(shape, seed=0, low=-2.0, high=2.0):
    return np.asarray(np.random.default_rng(seed).uniform(low, high, shape))


def same(f):
    """One function for both libraries (chainrule's Tensor methods are torch's)."""
    return f, f


def on(name):
    """f(t, *args) calling ``cr.linalg.name`` on chainrule tensors and ``torch.linalg.name`` on torch's."""
    def call(t, *args, **kwargs):
        lib = torch.linalg if isinstance(t, torch.Tensor) else cr.linalg
        return getattr(lib, name)(t, *args, **kwargs)
    return call


CASES = [((5,), None), ((5,), 0), ((3, 4), 1), ((3, 4), -2), ((2, 3, 4), (0, 2)), ((2, 3, 4), -1), ((), None)]


@pytest.mark.parametrize("shape,dim,correction", [(s, d, c) for s, d in CASES for c in (0, 1)
                                                  if math.prod(s) > c])  # n − correction > 0: a variance
@pytest.mark.parametrize("keepdim", [False, True])
@pytest.mark.parametrize("op", ["var", "std"])
def test_var_std(shape, dim, keepdim, op, correction):
    f = lambda t: getattr(t ** 3, op)(dim, keepdim=keepdim, correction=correction).exp()
    assert_higher_order(f, f, draw(shape, 1), order=3)


def test_std_is_0_at_its_kink():
    """A constant slice: std = 0, where torch takes the gradient 0 (not √'s ∞·0), and chainrule every higher
    one too — finite where torch's differentiated masked_fill gives NaN (0 · ∞); the other slices as torch."""
    x = np.array([[1.5, 1.5, 1.5], [0.5, -1.0, 2.0]])
    f = lambda t: (t * t).std(1).exp().sum() + (t.std(1, keepdim=True) * t).sum()
    assert_higher_order(f, f, x, order=1)
    ours, theirs = cr.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    (g,) = cr.autograd.grad(f(ours), ours, create_graph=True)
    (gt,) = torch.autograd.grad(f(theirs), theirs, create_graph=True)
    (h,) = cr.autograd.grad((g * g).sum(), ours)
    (ht,) = torch.autograd.grad((gt * gt).sum(), theirs)
    np.testing.assert_array_equal(h.data[0], 0.0)
    assert np.isnan(ht.numpy()[0]).all()
    np.testing.assert_allclose(h.data[1], ht.numpy()[1], rtol=1e-10)


@pytest.mark.parametrize("op", ["var_mean", "std_mean"])
def test_var_mean_std_mean(op):
    f_cr = lambda t: sum(o.exp() for o in getattr(cr, op)(t ** 3, 0))
    f_torch = lambda t: sum(o.exp() for o in getattr(torch, op)(t ** 3, 0))
    assert_higher_order(f_cr, f_torch, draw((3, 4), 2), order=3)


def tied(shape, seed):
    """Entries on a coarse grid, so that maxima and minima repeat."""
    return np.asarray(np.random.default_rng(seed).integers(-2, 3, shape) * 0.5)


@pytest.mark.parametrize("shape,dim", CASES[:-1] + [((3, 4), ()), ((2, 3, 4), (0, 1, 2))])
@pytest.mark.parametrize("keepdim", [False, True])
@pytest.mark.parametrize("op", ["amax", "amin"])
def test_amax_amin_share_ties(shape, dim, keepdim, op):
    x = tied(shape, 3)
    f = lambda t: getattr(t ** 3 + t, op)(dim, keepdim=keepdim).exp() * t.sum()
    assert_higher_order(f, f, x, order=3)


def test_max_min_over_all_and_aminmax():
    x = tied((3, 4), 4)
    for f in (lambda t: (t ** 3).max().exp() * t, lambda t: (t ** 3).min().sin() * t,
              lambda t: t.aminmax(dim=1)[0].exp() + t.aminmax(dim=1)[1] ** 3):
        assert_higher_order(f, f, x, order=3)


@pytest.mark.parametrize("shape,dim", [((5,), 0), ((3, 4), 1), ((3, 4), -2), ((2, 3, 4), 1), ((), 0)])
@pytest.mark.parametrize("keepdim", [False, True])
@pytest.mark.parametrize("op", ["max", "min"])
def test_max_min_along_dim(shape, dim, keepdim, op):
    """values and indices (two outputs); with ties the first index takes the whole gradient, as torch."""
    for x in (draw(shape, 5), tied(shape, 6)):
        f = lambda t: getattr(t ** 3, op)(dim, keepdim=keepdim).values.exp().sum() * t
        assert_higher_order(f, f, x, order=3)
        assert_higher_order(*same(lambda t: getattr(t * t, op)(dim, keepdim)), x, order=2)


@pytest.mark.parametrize("shape,dim", [((5,), None), ((5,), 0), ((3, 4), 1), ((3, 4), -2), ((2, 3, 4), 2), ((), None)])
@pytest.mark.parametrize("keepdim", [False, True])
def test_prod(shape, dim, keepdim):
    x = np.asarray(draw(shape, 7, 0.5, 1.5) * np.where(draw(shape, 8) > 0, 1, -1))
    f_cr = lambda t: (t * t * t).prod(dim, keepdim) if dim is not None else (t * t * t).prod()
    assert_higher_order(f_cr, f_cr, x, order=3)


@pytest.mark.parametrize("zeros", [[0], [0, 2], [1, 2, 3]])
@pytest.mark.parametrize("dim", [1, 0])
def test_prod_with_zeros_along_dim(zeros, dim):
    x = draw((3, 4), 9)
    x[1, zeros] = 0.0
    x[2, zeros[0]] = 0.0
    assert_higher_order(*same(lambda t: t.prod(dim) * t.sum()), x, order=3)


def test_prod_of_all_with_zeros_is_exact():
    """One zero: as torch. Two zeros: ∂²Π/∂x_i∂x_j at the two zeros is the product of the others, which
    chainrule gives and torch's full prod (its gradient zeros_like) does not — compare with torch's prod
    along the flattened dim, exact there."""
    for zeros in ([1], [1, 4]):
        x = draw((2, 3), 10)
        x.reshape(-1)[zeros] = 0.0
        assert_higher_order(lambda t: t.prod() * t, lambda t: t.reshape(-1).prod(0) * t, x, order=3)


@pytest.mark.parametrize("shape,dim", CASES[1:-1] + [((3, 4), (0, 1))])
@pytest.mark.parametrize("keepdim", [False, True])
def test_logsumexp(shape, dim, keepdim):
    f = lambda t: (t * t).logsumexp(dim, keepdim) * t.sum()
    assert_higher_order(f, f, draw(shape, 11), order=3)


@pytest.mark.parametrize("dim,keepdim", [(None, False), (1, False), (0, True), ((0, 1), True)])
@pytest.mark.parametrize("op", ["nanmean", "nansum"])
def test_nanmean_and_nansum(dim, keepdim, op):
    """The NaNs come from a constant, so that every derivative is defined (0 at the NaNs)."""
    nans = np.zeros((3, 4))
    nans[0, 1] = nans[2, 3] = np.nan
    f = lambda t, c: getattr(t ** 3 + c, op)(dim, keepdim=keepdim).exp()
    assert_higher_order(f, f, draw((3, 4), 12), nans, order=3, wrt=[0])


ORDS = [2, 1, 3, 1.5, 0.5, -1, math.inf, -math.inf, 0]


@pytest.mark.parametrize("ord", ORDS)
@pytest.mark.parametrize("shape,dim", [((5,), None), ((3, 4), 1), ((2, 3, 4), (0, -1))])
@pytest.mark.parametrize("keepdim", [False, True])
def test_vector_norm(ord, shape, dim, keepdim):
    x = draw(shape, 13, 0.3, 2.0) * np.where(draw(shape, 14) > 0, 1, -1)  # no zero entries
    f = lambda t: on("vector_norm")(t * t * t, ord, dim, keepdim).exp().sum() * t
    assert_higher_order(f, f, x, order=2 if ord == 0 else 3)  # p = 0: torch's 2nd derivative has no graph


def second_derivatives(f, x):
    """∂/∂x of Σ (∂f/∂x)², chainrule's and torch's."""
    ours, theirs = cr.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    (g,) = cr.autograd.grad(f(ours).sum(), ours, create_graph=True)
    (gt,) = torch.autograd.grad(f(theirs).sum(), theirs, create_graph=True)
    return cr.autograd.grad((g * g).sum(), ours)[0].data, torch.autograd.grad((gt * gt).sum(), theirs)[0].numpy()


def test_vector_norm_ties_and_zeros():
    """p = ±∞ with tied |x| shares among them. A slice of zeros (norm 0): the gradient there is torch's 0, and so
    are the derivatives of that 0 — finite where torch's differentiated masked_fill gives NaN (0 · ∞)."""
    x = tied((3, 4), 15)
    for ord in (math.inf, -math.inf):
        assert_higher_order(*same(lambda t, p=ord: on("vector_norm")(t * t + t, p, 1).exp()), x, order=3)
    x[1] = 0.0
    for ord in (2, 3):
        f = lambda t, p=ord: on("vector_norm")(t, p, 1, keepdim=True).exp() * t
        assert_higher_order(f, f, x, order=1)
        ours, theirs = second_derivatives(f, x)
        assert np.isfinite(ours).all() and np.isnan(theirs[1]).all()
        np.testing.assert_allclose(ours[[0, 2]], theirs[[0, 2]], rtol=1e-10)


@pytest.mark.parametrize("ord", ["fro", 1, -1, math.inf, -math.inf])
@pytest.mark.parametrize("dim", [(-2, -1), (2, 0)])
def test_matrix_norm(ord, dim):
    f = lambda t: on("matrix_norm")(t ** 3, ord, dim).exp()
    assert_higher_order(f, f, draw((3, 2, 4), 16), order=3)


@pytest.mark.parametrize("ord", ["nuc", 2, -2])
def test_matrix_norm_by_svd_through_its_decomposition(ord):
    """With create_graph the gradient comes from the decomposition (svdvals, then sum, amax or amin): torch's
    values. Differentiating it again needs the SVD's second derivative (an error naming SVD until it has one)."""
    x = draw((3, 2, 4), 18)
    f = lambda t: on("matrix_norm")(t * t, ord, (2, 0), True).exp().sum()
    ours, theirs = cr.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    (g,) = cr.autograd.grad(f(ours), ours, create_graph=True)
    np.testing.assert_allclose(g.data, torch.autograd.grad(f(theirs), theirs)[0].numpy(), rtol=1e-9)
    with pytest.raises(RuntimeError, match="SVD: no second derivative"):
        cr.autograd.grad(g.sum(), ours)


def test_median_of_all():
    assert_higher_order(*same(lambda t: (t ** 3).median().exp() * t), draw((3, 5), 18), order=3)
    assert_higher_order(*same(lambda t: (t ** 3).median().exp() * t), tied((3, 4), 19), order=3)
