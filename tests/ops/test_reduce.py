"""chainrule.ops.reduce against torch: sum mean max min amax amin var std prod logsumexp argmax argmin —
forward and gradient over drawn shapes, dims (None, int, negative, tuple) and keepdim, in float64 and
float32; tie rules, zeros in prod, finite differences and error messages."""

import numpy as np
import pytest
import torch
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import chainrule as cr
from tests.parity import assert_parity

SETTINGS = settings(max_examples=25, deadline=None)
SEEDS = st.integers(0, 2**32 - 1)


def normal(shape, seed, dtype=np.float64):
    return np.asarray(np.random.default_rng(seed).standard_normal(shape), dtype=dtype)


def ties(shape, seed, dtype=np.float64):
    """Values from {-1, 0, 1}: extrema are tied almost everywhere."""
    return np.asarray(np.random.default_rng(seed).integers(-1, 2, shape), dtype=dtype)


@st.composite
def shape_and_dim(draw, min_dims=0, kinds=("none", "int", "tuple")):
    """A shape and a dim for it: None, an int (possibly negative) or a tuple of distinct dims, each
    possibly written negatively."""
    shape = draw(hnp.array_shapes(min_dims=min_dims, max_dims=4, min_side=1, max_side=4))
    nd = len(shape)
    span = max(nd, 1)
    kind = draw(st.sampled_from(kinds))
    if kind == "none":
        return shape, None
    if kind == "int":
        return shape, draw(st.integers(-span, span - 1))
    dims = draw(st.lists(st.integers(0, span - 1), unique=True, min_size=1, max_size=span))
    negative = draw(st.lists(st.booleans(), min_size=len(dims), max_size=len(dims)))
    return shape, tuple(d - span if n else d for d, n in zip(dims, negative))


def _all_dims_if_none(dim, ndim):
    return tuple(range(ndim)) if dim is None else dim


# name -> (chainrule fn, torch fn); both called as fn(x, dim, keepdim)
REDUCTIONS = {
    "sum": (lambda x, d, k: x.sum(d, k), lambda x, d, k: x.sum(d, keepdim=k)),
    "sum_fn": (lambda x, d, k: cr.sum(x, d, k), lambda x, d, k: torch.sum(x, d, keepdim=k)),
    "mean": (lambda x, d, k: x.mean(d, k), lambda x, d, k: x.mean(d, keepdim=k)),
    "mean_fn": (lambda x, d, k: cr.mean(x, d, k), lambda x, d, k: torch.mean(x, d, keepdim=k)),
    "amax": (lambda x, d, k: x.amax(d, k), lambda x, d, k: x.amax(() if d is None else d, keepdim=k)),
    "amin": (lambda x, d, k: cr.amin(x, d, k), lambda x, d, k: torch.amin(x, () if d is None else d, keepdim=k)),
    "var": (lambda x, d, k: x.var(d, keepdim=k), lambda x, d, k: x.var(d, keepdim=k)),
    "std": (lambda x, d, k: cr.std(x, d, keepdim=k), lambda x, d, k: torch.std(x, d, keepdim=k)),
    "var_biased": (lambda x, d, k: x.var(d, False, k), lambda x, d, k: x.var(d, unbiased=False, keepdim=k)),
    "std_biased": (lambda x, d, k: x.std(d, False, k), lambda x, d, k: x.std(d, unbiased=False, keepdim=k)),
    "logsumexp": (
        lambda x, d, k: x.logsumexp(_all_dims_if_none(d, x.ndim), k),
        lambda x, d, k: x.logsumexp(_all_dims_if_none(d, x.ndim), keepdim=k),
    ),
    "logsumexp_fn": (
        lambda x, d, k: cr.logsumexp(x, _all_dims_if_none(d, x.ndim), k),
        lambda x, d, k: torch.logsumexp(x, _all_dims_if_none(d, x.ndim), keepdim=k),
    ),
}
NEEDS_TWO = {"var", "std"}  # Bessel's correction: a reduced size of 1 divides by zero (inf/NaN, as torch)


def _reduced_size(shape, dim):
    if dim is None:
        return int(np.prod(shape))
    dims = (dim,) if isinstance(dim, int) else dim
    return int(np.prod([shape[d] for d in dims])) if shape else 1


@pytest.mark.parametrize("name", sorted(REDUCTIONS))
@SETTINGS
@given(sd=shape_and_dim(), keepdim=st.booleans(), seed=SEEDS)
def test_reduction_parity(name, sd, keepdim, seed):
    shape, dim = sd
    if name in NEEDS_TWO:
        assume(_reduced_size(shape, dim) >= 2)
    ours, theirs = REDUCTIONS[name]
    assert_parity(lambda x: ours(x, dim, keepdim), lambda x: theirs(x, dim, keepdim), normal(shape, seed))


@pytest.mark.parametrize("name", sorted(REDUCTIONS))
@pytest.mark.parametrize("dim, keepdim", [(None, False), (1, True), (-1, False), ((0, 2), True), ((-1, 0), False)])
def test_reduction_float32_stays_float32(name, dim, keepdim):
    ours, theirs = REDUCTIONS[name]
    out = assert_parity(
        lambda x: ours(x, dim, keepdim), lambda x: theirs(x, dim, keepdim), normal((3, 4, 5), 1, np.float32)
    )
    assert out.dtype == np.float32


@pytest.mark.parametrize("name", ["sum", "mean", "amax", "amin", "var", "std"])
@pytest.mark.parametrize("keepdim", [False, True])
def test_empty_dim_tuple_reduces_every_dim_like_torch(name, keepdim):
    """torch's forward reduces every dim for dim=(); its var/std backward does not agree with its own
    forward there (it returns inf), so for those only the forward is compared and the gradient must
    equal the one for dim=None."""
    ours, theirs = REDUCTIONS[name]
    x = normal((2, 3), 0)
    grad = name not in ("var", "std")
    out = assert_parity(lambda t: ours(t, (), keepdim), lambda t: theirs(t, (), keepdim), x, grad=grad)
    assert out.shape == ((1, 1) if keepdim else ())
    if not grad:
        assert_parity(lambda t: ours(t, (), keepdim), lambda t: theirs(t, None, keepdim), x)


@pytest.mark.parametrize("correction", [0, 1, 2, 3])
@SETTINGS
@given(sd=shape_and_dim(min_dims=1), keepdim=st.booleans(), seed=SEEDS)
def test_var_std_correction_parity(correction, sd, keepdim, seed):
    shape, dim = sd
    assume(_reduced_size(shape, dim) > correction)
    x = normal(shape, seed)
    assert_parity(
        lambda t: t.var(dim, keepdim=keepdim, correction=correction),
        lambda t: t.var(dim, keepdim=keepdim, correction=correction),
        x,
    )
    assert_parity(
        lambda t: cr.std(t, dim, keepdim=keepdim, correction=correction),
        lambda t: torch.std(t, dim, keepdim=keepdim, correction=correction),
        x,
    )


def test_std_of_constant_slices_has_zero_gradient_like_torch():
    """std is not differentiable where it is 0; torch defines the gradient there as 0, not NaN."""
    x = np.array([[1.0, 1.0, 1.0], [1.0, 2.0, 4.0]])
    assert_parity(lambda t: t.std(1), lambda t: t.std(1), x)
    # a reduced dim of size 1 with correction 0: every std is 0
    x = normal((2, 3, 1), 0)
    assert_parity(lambda t: t.std(2, False, True), lambda t: t.std(2, unbiased=False, keepdim=True), x)
    assert_parity(lambda t: t.std(2, False), lambda t: t.std(2, unbiased=False), x)
    out = assert_parity(lambda t: t.std(2, False), lambda t: t.std(2, unbiased=False), x.astype(np.float32))
    assert out.dtype == np.float32


# ----- max / min ----------------------------------------------------------------------------------
@pytest.mark.parametrize("op", ["max", "min"])
@SETTINGS
@given(shape=hnp.array_shapes(min_dims=0, max_dims=4, max_side=4), seed=SEEDS)
def test_max_min_without_dim_split_gradient_evenly_among_ties(op, shape, seed):
    ours = getattr(cr, op)
    theirs = getattr(torch, op)
    assert_parity(ours, theirs, ties(shape, seed))
    assert_parity(lambda x: getattr(x, op)(), lambda x: getattr(x, op)(), ties(shape, seed))
    assert_parity(ours, theirs, normal(shape, seed))


@pytest.mark.parametrize("op", ["amax", "amin"])
@SETTINGS
@given(sd=shape_and_dim(), keepdim=st.booleans(), seed=SEEDS)
def test_amax_amin_split_gradient_evenly_among_ties(op, sd, keepdim, seed):
    shape, dim = sd
    tdim = () if dim is None else dim
    assert_parity(
        lambda x: getattr(cr, op)(x, dim, keepdim), lambda x: getattr(torch, op)(x, tdim, keepdim), ties(shape, seed)
    )


def test_max_tie_rule_explicit():
    x = np.array([[1.0, 3.0, 3.0], [3.0, 0.0, -2.0]])
    out = cr.tensor(x, requires_grad=True)
    out.max().backward()
    np.testing.assert_array_equal(out.grad.data, [[0, 1 / 3, 1 / 3], [1 / 3, 0, 0]])
    assert_parity(cr.max, torch.max, x)
    assert_parity(cr.min, torch.min, x)


@pytest.mark.parametrize("op", ["max", "min"])
@SETTINGS
@given(sd=shape_and_dim(min_dims=1, kinds=("int",)), keepdim=st.booleans(), seed=SEEDS)
def test_max_min_along_dim_return_values_and_indices(op, sd, keepdim, seed):
    shape, dim = sd
    x = normal(shape, seed)  # continuous values: no ties
    values = assert_parity(lambda t: getattr(t, op)(dim, keepdim)[0], lambda t: getattr(t, op)(dim, keepdim)[0], x)
    result = getattr(cr, op)(cr.tensor(x), dim, keepdim)
    ref = getattr(torch, op)(torch.tensor(x), dim, keepdim)
    np.testing.assert_array_equal(result.values.data, ref.values.numpy())
    np.testing.assert_array_equal(result.indices.data, ref.indices.numpy())
    assert result.indices.dtype == np.int64
    assert values.shape == result.indices.shape == tuple(ref.indices.shape)
    _, idx = result  # unpacks like torch.return_types.max
    np.testing.assert_array_equal(idx.data, ref.indices.numpy())
    assert_parity(
        lambda t: getattr(t, op)(dim=dim, keepdim=keepdim).values,
        lambda t: getattr(t, op)(dim=dim, keepdim=keepdim).values,
        x,
    )


@pytest.mark.parametrize("op", ["max", "min"])
def test_max_min_along_dim_float32(op):
    out = assert_parity(
        lambda t: getattr(t, op)(1)[0], lambda t: getattr(t, op)(1)[0], normal((3, 4, 2), 0, np.float32)
    )
    assert out.dtype == np.float32
    out = assert_parity(lambda t: getattr(t, op)(), lambda t: getattr(t, op)(), ties((3, 4), 0, np.float32))
    assert out.dtype == np.float32


@pytest.mark.parametrize("op", ["max", "min"])
def test_max_min_of_two_tensors_is_elementwise_like_torch(op):
    a, b = normal((3, 1, 4), 0), normal((5, 4), 1)
    assert_parity(getattr(cr, op), getattr(torch, op), a, b)
    assert_parity(lambda x, y: getattr(x, op)(y), lambda x, y: getattr(x, op)(y), a, b)
    assert_parity(getattr(cr, op), getattr(torch, op), ties((2, 3), 2), ties((2, 3), 3))


# ----- prod ---------------------------------------------------------------------------------------
def signed(shape, seed):
    rng = np.random.default_rng(seed)
    return np.asarray(rng.uniform(0.5, 1.5, shape) * rng.choice([-1.0, 1.0], shape))


@SETTINGS
@given(sd=shape_and_dim(kinds=("none", "int")), keepdim=st.booleans(), zeros=st.integers(0, 2), seed=SEEDS)
def test_prod_parity_with_zeros(sd, keepdim, zeros, seed):
    shape, dim = sd
    x = signed(shape, seed)
    flat = x.reshape(-1)
    flat[np.random.default_rng(seed + 1).choice(flat.size, min(zeros, flat.size), replace=False)] = 0.0
    if dim is None:
        assert_parity(cr.prod, torch.prod, x)
        assert_parity(lambda t: t.prod(), lambda t: t.prod(), x)
    else:
        assert_parity(lambda t: t.prod(dim, keepdim), lambda t: t.prod(dim, keepdim), x)


@pytest.mark.parametrize("dim", [None, 0, 1, -1])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_prod_one_and_two_zeros_in_a_slice(dim, dtype):
    """Row 0 has one zero (its gradient is the product of the others), row 1 two (all gradients 0),
    column 1 has two zeros too."""
    x = np.array([[2.0, 0.0, 3.0, -1.5], [0.0, 0.0, 0.5, 4.0], [1.5, -2.0, 0.75, 1.25]], dtype=dtype)
    if dim is None:
        out = assert_parity(cr.prod, torch.prod, x)
        y = x.copy()
        y[1] = 1.0  # only one zero in the whole tensor
        assert_parity(cr.prod, torch.prod, y)
    else:
        out = assert_parity(lambda t: cr.prod(t, dim), lambda t: torch.prod(t, dim), x)
    assert out.dtype == dtype


# ----- argmax / argmin ----------------------------------------------------------------------------
@pytest.mark.parametrize("op", ["argmax", "argmin"])
@SETTINGS
@given(sd=shape_and_dim(kinds=("none", "int")), keepdim=st.booleans(), seed=SEEDS, tied=st.booleans())
def test_argmax_argmin_parity(op, sd, keepdim, seed, tied):
    """With ties both return the first extremum (torch documents this for argmax/argmin)."""
    shape, dim = sd
    x = ties(shape, seed) if tied else normal(shape, seed)
    out = assert_parity(lambda t: getattr(t, op)(dim, keepdim), lambda t: getattr(t, op)(dim, keepdim), x, grad=False)
    assert out.dtype == np.int64
    assert not out.requires_grad
    assert_parity(
        lambda t: getattr(cr, op)(t, dim, keepdim), lambda t: getattr(torch, op)(t, dim, keepdim), x, grad=False
    )


@pytest.mark.parametrize("op", ["argmax", "argmin"])
@pytest.mark.parametrize("shape, dim, message", [
    ((0,), None, r"the input of shape \(0,\) is empty, so there is no index to return; pass dim="),
    ((2, 0), None, r"the input of shape \(2, 0\) is empty"),
    ((0, 3), 0, r"dim 0 of the input of shape \(0, 3\) has size 0"),
    ((3, 0), -1, r"dim -1 of the input of shape \(3, 0\) has size 0"),
])
def test_argmax_argmin_over_zero_elements_raise_as_torch(op, shape, dim, message):
    with pytest.raises(IndexError):
        getattr(torch.zeros(shape), op)(dim)
    with pytest.raises(IndexError, match=rf"{op}: {message}"):
        getattr(cr.zeros(shape), op)(dim)


@pytest.mark.parametrize("op", ["argmax", "argmin"])
def test_argmax_argmin_along_a_non_empty_dim_of_an_empty_tensor_as_torch(op):
    for keepdim in (False, True):
        out = assert_parity(lambda t: getattr(t, op)(1, keepdim), lambda t: getattr(t, op)(1, keepdim),
                            np.zeros((0, 3)), grad=False)
        assert out.dtype == np.int64


# ----- integer inputs -----------------------------------------------------------------------------
def test_sum_of_integers_and_bools_is_int64_like_torch():
    for x in (np.array([[1, 2], [3, 4]], dtype=np.int32), np.array([True, False, True])):
        out = assert_parity(lambda t: t.sum(), lambda t: t.sum(), x, grad=False)
        assert out.dtype == np.int64
    out = assert_parity(lambda t: t.sum(0), lambda t: t.sum(0), np.array([[1, 2], [3, 4]]), grad=False)
    assert out.dtype == np.int64


def test_max_of_integers_keeps_dtype():
    x = np.array([[1, 5, 2], [7, 0, 3]])
    assert_parity(lambda t: t.max(), lambda t: t.max(), x, grad=False)
    assert_parity(lambda t: t.max(1)[0], lambda t: t.max(1)[0], x, grad=False)


# ----- finite differences -------------------------------------------------------------------------
def _leaf(array):
    return cr.tensor(array, requires_grad=True)


def test_gradcheck_normalize_with_mean_std_and_var():
    x = _leaf(normal((3, 5), 0))
    assert cr.gradcheck(lambda t: (t - t.mean(1, True)) / t.std(1, keepdim=True) + t.var((0, 1), correction=0), (x,))


def test_gradcheck_logsumexp_softmax_style_and_sums():
    x, w = _leaf(normal((2, 3, 4), 1)), _leaf(normal((4,), 2))
    assert cr.gradcheck(lambda t, v: (t * v).logsumexp((0, -1)) * t.sum(-2).mean() + cr.amax(t, 1).sum(), (x, w))


def test_gradcheck_prod_max_min():
    x = _leaf(signed((3, 4), 3))
    assert cr.gradcheck(lambda t: t.prod(1) * t.max(0)[0].sum() - t.min() + t.prod() ** 2, (x,))


# ----- errors -------------------------------------------------------------------------------------
DIM_ERRORS = {
    "sum": lambda x, d: x.sum(d),
    "mean": lambda x, d: x.mean(d),
    "max": lambda x, d: x.max(d),
    "min": lambda x, d: x.min(d),
    "amax": lambda x, d: x.amax(d),
    "amin": lambda x, d: x.amin(d),
    "var": lambda x, d: x.var(d),
    "std": lambda x, d: x.std(d),
    "prod": lambda x, d: x.prod(d),
    "logsumexp": lambda x, d: x.logsumexp(d),
    "argmax": lambda x, d: x.argmax(d),
    "argmin": lambda x, d: x.argmin(d),
}


@pytest.mark.parametrize("name", sorted(DIM_ERRORS))
@pytest.mark.parametrize("dim", [2, -3])
def test_dim_out_of_range_names_op_dim_and_shape(name, dim):
    x = cr.tensor(normal((2, 3), 0), requires_grad=True)
    with pytest.raises(IndexError, match=rf"{name}: dim {dim} out of range for a tensor with 2 dims of shape \(2, 3\)"):
        DIM_ERRORS[name](x, dim)


@pytest.mark.parametrize("name", ["sum", "mean", "amax", "var", "logsumexp"])
def test_dim_tuple_out_of_range_or_repeated(name):
    x = cr.tensor(normal((2, 3), 0))
    with pytest.raises(IndexError, match=rf"{name}: dim 5 out of range"):
        DIM_ERRORS[name](x, (0, 5))
    with pytest.raises(IndexError, match=rf"{name}: dim -3 out of range for a tensor with 2 dims of shape \(2, 3\)"):
        DIM_ERRORS[name](x, (-3,))
    with pytest.raises(ValueError, match=rf"{name}: dim \(1, -1\) names a dim more than once"):
        DIM_ERRORS[name](x, (1, -1))


def test_prod_over_several_dims_is_rejected_like_torch():
    with pytest.raises(TypeError, match=r"prod: dim must be an int"):
        cr.tensor(normal((2, 3), 0)).prod((0, 1))


@pytest.mark.parametrize("op", ["max", "min"])
def test_max_min_of_empty_tensor_name_the_shape(op):
    with pytest.raises(ValueError, match=rf"{op}: cannot reduce an empty tensor of shape \(0, 3\)"):
        getattr(cr.zeros(0, 3), op)()


def test_mean_of_integers_asks_for_a_dtype():
    with pytest.raises(TypeError, match="mean: input dtype should be floating point, got int64"):
        cr.tensor([1, 2, 3]).mean()
    assert cr.tensor([1, 2, 4]).mean(dtype=cr.float64).item() == pytest.approx(7 / 3)


def test_reductions_reject_non_tensors():
    with pytest.raises(TypeError, match="sum: expected a Tensor, got list"):
        cr.sum([1.0, 2.0])
