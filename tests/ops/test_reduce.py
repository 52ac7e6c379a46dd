"""chainrule.ops.reduce against torch: sum mean nansum nanmean max min amax amin aminmax var std var_mean
std_mean prod logsumexp argmax argmin all any count_nonzero, the norms (norm, vector_norm, matrix_norm,
linalg_norm) and isclose allclose equal — forward and gradient over drawn shapes, dims (None, int,
negative, tuple; axis= too) and keepdim, in float64 and float32; tie rules, zeros in prod, NaNs, kinks of
the norms, finite differences and error messages."""

import re

import numpy as np
import pytest
import torch
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import chainrule as cr
from chainrule.ops import reduce  # vector_norm, matrix_norm, linalg_norm: chainrule.linalg's
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


# ----- axis= as another name for dim= ------------------------------------------------------------
# name -> (chainrule call, torch call), both called as f(module_or_tensor_fn, x, axis)
AXIS_ALIASES = ["sum", "mean", "nansum", "nanmean", "std", "var", "prod", "all", "any", "amax", "amin",
                "argmax", "argmin", "logsumexp", "count_nonzero"]


def _first(out):
    return out[0] if isinstance(out, tuple) else out


@pytest.mark.parametrize("name", AXIS_ALIASES + ["max", "min", "aminmax"])
@pytest.mark.parametrize("axis", [0, -1])
def test_axis_is_another_name_for_dim_like_torch(name, axis):
    x = normal((3, 4), 0)
    grad = name not in ("all", "any", "argmax", "argmin", "count_nonzero")
    for keepdim in (False, True):
        kwargs = {"axis": axis} if name == "count_nonzero" else {"axis": axis, "keepdim": keepdim}
        assert_parity(lambda t: _first(getattr(cr, name)(t, **kwargs)),
                      lambda t: _first(getattr(torch, name)(t, **kwargs)), x, grad=grad)
        assert_parity(lambda t: _first(getattr(t, name)(**kwargs)),
                      lambda t: _first(getattr(t, name)(**kwargs)), x, grad=grad)


@pytest.mark.parametrize("name", AXIS_ALIASES + ["max", "min"])
def test_dim_and_axis_together_are_refused(name):
    with pytest.raises(TypeError, match=rf"{name}: got both dim=0 and axis=1; axis is another name for dim"):
        getattr(cr.tensor(normal((2, 3), 0)), name)(dim=0, axis=1)


def test_axis_tuple_and_norm_functions_take_axis_too():
    x = normal((2, 3, 4), 0)
    assert_parity(lambda t: t.sum(axis=(0, 2)), lambda t: t.sum(axis=(0, 2)), x)
    assert_parity(lambda t: reduce.vector_norm(t, 3, axis=(0, 2)), lambda t: torch.linalg.vector_norm(t, 3, axis=(0, 2)), x)
    assert_parity(lambda t: reduce.matrix_norm(t, 1, axis=(2, 0)), lambda t: torch.linalg.matrix_norm(t, 1, axis=(2, 0)), x)
    assert_parity(lambda t: reduce.linalg_norm(t, axis=1), lambda t: torch.linalg.norm(t, axis=1), x)


# ----- all / any / count_nonzero ------------------------------------------------------------------
@pytest.mark.parametrize("op", ["all", "any"])
@pytest.mark.parametrize("dtype", [np.float64, np.int32, np.bool_, np.uint8])
@SETTINGS
@given(sd=shape_and_dim(), keepdim=st.booleans(), seed=SEEDS)
def test_all_any_parity(op, dtype, sd, keepdim, seed):
    """bool results (uint8 for a uint8 input, as torch), over mostly-zero and mostly-non-zero data."""
    shape, dim = sd
    x = np.asarray(np.random.default_rng(seed).random(shape) < 0.8)
    for data in (np.asarray(x, dtype=dtype), np.asarray(~x, dtype=dtype)):
        out = assert_parity(lambda t: getattr(cr, op)(t, dim, keepdim), lambda t: getattr(torch, op)(t, dim, keepdim),
                            data, grad=False)
        assert out.dtype == (np.uint8 if dtype is np.uint8 else np.bool_) and not out.requires_grad
        assert_parity(lambda t: getattr(t, op)(dim, keepdim), lambda t: getattr(t, op)(dim, keepdim), data, grad=False)


@pytest.mark.parametrize("op", ["all", "any"])
def test_all_any_of_empty_and_with_empty_dim_tuple_as_torch(op):
    """Over zero entries all is True and any False; torch reads dim=() as 'each entry' for these two."""
    for shape, dim in [((0, 3), None), ((0, 3), 0), ((0, 3), 1)]:
        assert_parity(lambda t: getattr(t, op)(dim), lambda t: getattr(t, op)(dim), np.zeros(shape), grad=False)
    x = ties((2, 3), 0)
    out = assert_parity(lambda t: getattr(t, op)(()), lambda t: getattr(t, op)(()), x, grad=False)
    assert out.shape == (2, 3)


@SETTINGS
@given(sd=shape_and_dim(), seed=SEEDS)
def test_count_nonzero_parity(sd, seed):
    shape, dim = sd
    x = ties(shape, seed)
    out = assert_parity(lambda t: cr.count_nonzero(t, dim), lambda t: torch.count_nonzero(t, dim), x, grad=False)
    assert out.dtype == np.int64
    assert_parity(lambda t: t.count_nonzero(dim), lambda t: t.count_nonzero(dim), x.astype(np.int32), grad=False)


# ----- prod: dtype=, integers, empty --------------------------------------------------------------
@pytest.mark.parametrize("dtype", [np.int32, np.bool_, np.uint8, np.int64])
@pytest.mark.parametrize("dim", [None, 0, -1])
def test_prod_of_integers_and_bools_is_int64_like_torch(dtype, dim):
    x = np.array([[1, 2, 3], [3, 1, 2]]).astype(dtype)
    out = assert_parity(lambda t: t.prod(dim), lambda t: t.prod() if dim is None else t.prod(dim), x, grad=False)
    assert out.dtype == np.int64


@pytest.mark.parametrize("dim, keepdim", [(None, False), (1, False), (0, True)])
def test_prod_dtype_casts_first(dim, keepdim):
    x = signed((3, 4), 0)
    kw = {} if dim is None else {"dim": dim, "keepdim": keepdim}
    out = assert_parity(lambda t: cr.prod(t, **kw, dtype=cr.float32), lambda t: torch.prod(t, **kw, dtype=torch.float32),
                        x.astype(np.float32))
    assert out.dtype == np.float32
    out = assert_parity(lambda t: t.prod(**kw, dtype=cr.float64), lambda t: t.prod(**kw, dtype=torch.float64),
                        np.array([[1, 2, 3, 4], [0, 5, 6, 7], [2, 2, 2, 2]], dtype=np.int32), grad=False)
    assert out.dtype == np.float64


@pytest.mark.parametrize("dim", [None, 0, 1])
def test_prod_of_empty_is_one_with_an_empty_gradient(dim):
    x = np.zeros((0, 3))
    assert_parity(lambda t: t.prod(dim), lambda t: t.prod() if dim is None else t.prod(dim), x)


# ----- logsumexp ----------------------------------------------------------------------------------
def test_logsumexp_of_integers_gives_the_default_float_and_handles_infinities():
    out = assert_parity(lambda t: t.logsumexp(1), lambda t: t.logsumexp(1), np.array([[1, 2], [0, 3]]), grad=False)
    assert out.dtype == np.float32
    x = np.array([[-np.inf, -np.inf], [np.inf, 1.0], [-np.inf, 2.0]])
    assert_parity(lambda t: t.logsumexp(1), lambda t: t.logsumexp(1), x, grad=False)
    assert_parity(lambda t: cr.logsumexp(t[2:], 1), lambda t: torch.logsumexp(t[2:], 1), x)


def test_logsumexp_needs_a_dim_like_torch():
    with pytest.raises(TypeError, match="logsumexp: missing dim"):
        cr.tensor(normal((2, 3), 0)).logsumexp()


# ----- var / std: the older unbiased spellings, std_mean and var_mean -----------------------------
@pytest.mark.parametrize("op", ["var", "std"])
def test_var_std_legacy_bool_in_the_dim_place_is_unbiased(op):
    x = normal((3, 4), 0)
    for unbiased in (False, True):
        assert_parity(lambda t: getattr(cr, op)(t, unbiased), lambda t: getattr(torch, op)(t, unbiased), x)
        assert_parity(lambda t: getattr(t, op)(unbiased), lambda t: getattr(t, op)(unbiased), x)
    with pytest.raises(TypeError, match=rf"{op}: pass either unbiased or correction, not both"):
        getattr(cr.tensor(x), op)(1, True, correction=0)


@pytest.mark.parametrize("op", ["std_mean", "var_mean"])
@SETTINGS
@given(sd=shape_and_dim(min_dims=1), keepdim=st.booleans(), correction=st.sampled_from([None, 0, 1, 2]),
       seed=SEEDS)
def test_std_mean_var_mean_parity_both_outputs(op, sd, keepdim, correction, seed):
    """Both outputs and the gradient through both (stacked, so each gets its own upstream gradient)."""
    shape, dim = sd
    assume(_reduced_size(shape, dim) > (1 if correction is None else correction))
    kw = {"keepdim": keepdim} if correction is None else {"keepdim": keepdim, "correction": correction}
    out = assert_parity(lambda t: cr.stack(getattr(cr, op)(t, dim, **kw)),
                        lambda t: torch.stack(getattr(torch, op)(t, dim, **kw)), normal(shape, seed))
    assert isinstance(getattr(cr, op)(cr.tensor(normal(shape, seed)), dim, **kw), tuple)
    assert out.shape[0] == 2


@pytest.mark.parametrize("op", ["std_mean", "var_mean"])
def test_std_mean_var_mean_legacy_spellings_and_float32(op):
    x = normal((3, 4), 1)
    assert_parity(lambda t: cr.stack(getattr(cr, op)(t, False)), lambda t: torch.stack(getattr(torch, op)(t, False)), x)
    assert_parity(lambda t: cr.stack(getattr(cr, op)(t, 1, False, True)),
                  lambda t: torch.stack(getattr(torch, op)(t, 1, False, True)), x)
    assert_parity(lambda t: cr.stack(getattr(cr, op)(t, (0, 1), unbiased=False)),
                  lambda t: torch.stack(getattr(torch, op)(t, (0, 1), unbiased=False)), x)
    out = assert_parity(lambda t: cr.stack(getattr(cr, op)(t, 0)), lambda t: torch.stack(getattr(torch, op)(t, 0)),
                        x.astype(np.float32))
    assert out.dtype == np.float32


@pytest.mark.parametrize("op", ["std_mean", "var_mean"])
def test_std_mean_var_mean_errors(op):
    with pytest.raises(TypeError, match=rf"{op}: needs a floating-point input, got int64"):
        getattr(cr, op)(cr.tensor([1, 2, 3]))
    with pytest.raises(TypeError, match=rf"{op}: pass either unbiased or correction, not both"):
        getattr(cr, op)(cr.tensor([1.0, 2.0]), 0, True, correction=1)


# ----- aminmax ------------------------------------------------------------------------------------
@SETTINGS
@given(sd=shape_and_dim(kinds=("none", "int")), keepdim=st.booleans(), seed=SEEDS, tied=st.booleans())
def test_aminmax_parity_with_ties(sd, keepdim, seed, tied):
    """(min, max) as torch: values, and each gradient shared equally among tied extrema."""
    shape, dim = sd
    x = ties(shape, seed) if tied else normal(shape, seed)
    out = assert_parity(lambda t: cr.stack(cr.aminmax(t, dim=dim, keepdim=keepdim)),
                        lambda t: torch.stack(torch.aminmax(t, dim=dim, keepdim=keepdim)), x)
    assert out.shape[0] == 2
    result = cr.tensor(x).aminmax(dim=dim, keepdim=keepdim)
    ref = torch.tensor(x).aminmax(dim=dim, keepdim=keepdim)
    np.testing.assert_array_equal(result.min.data, ref.min.numpy())
    np.testing.assert_array_equal(result.max.data, ref.max.numpy())


def test_aminmax_of_integers_keeps_dtype_and_float32_stays():
    x = np.array([[4, 1, 7], [2, 9, 0]], dtype=np.int32)
    lo, hi = cr.aminmax(cr.tensor(x), dim=1, keepdim=True)
    ref = torch.aminmax(torch.tensor(x), dim=1, keepdim=True)
    assert lo.dtype == hi.dtype == np.int32
    np.testing.assert_array_equal(lo.data, ref.min.numpy())
    np.testing.assert_array_equal(hi.data, ref.max.numpy())
    out = assert_parity(lambda t: cr.stack(cr.aminmax(t)), lambda t: torch.stack(torch.aminmax(t)),
                        ties((3, 4), 0, np.float32))
    assert out.dtype == np.float32


def test_aminmax_errors():
    with pytest.raises(TypeError, match=r"aminmax: dim must be an int or None"):
        cr.aminmax(cr.tensor(normal((2, 3), 0)), dim=(0, 1))
    with pytest.raises(IndexError, match=r"aminmax: cannot reduce over dim\(s\) \(0, 1\) of the input of shape \(0, 3\)"):
        cr.aminmax(cr.zeros(0, 3))
    with pytest.raises(IndexError, match=r"amax: cannot reduce over dim\(s\) \(0,\) of the input of shape \(0, 3\)"):
        cr.zeros(0, 3).amax(0)
    assert_parity(lambda t: cr.stack(cr.aminmax(t, dim=1)), lambda t: torch.stack(torch.aminmax(t, dim=1)),
                  np.zeros((0, 3)))


# ----- nansum / nanmean ---------------------------------------------------------------------------
def with_nans(shape, seed, fraction=0.3):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape)
    x[rng.random(shape) < fraction] = np.nan
    return np.asarray(x)


@pytest.mark.parametrize("op", ["nansum", "nanmean"])
@SETTINGS
@given(sd=shape_and_dim(), keepdim=st.booleans(), seed=SEEDS, fraction=st.sampled_from([0.0, 0.3, 1.0]))
def test_nansum_nanmean_parity(op, sd, keepdim, seed, fraction):
    """NaNs are left out; their gradient is 0. A slice of only NaNs: nansum 0, nanmean NaN (as torch) —
    but there torch's nanmean gradient is NaN (its nansum's 0 at the NaNs times 1/0); ours stays 0."""
    shape, dim = sd
    x = with_nans(shape, seed, fraction)
    kept = np.sum(~np.isnan(x), axis=reduce.normalize_dims(dim, shape, op))
    grad = op == "nansum" or bool(np.all(kept > 0))
    assert_parity(lambda t: getattr(cr, op)(t, dim, keepdim), lambda t: getattr(torch, op)(t, dim, keepdim), x,
                  grad=grad)
    assert_parity(lambda t: getattr(t, op)(dim, keepdim), lambda t: getattr(t, op)(dim, keepdim), x, grad=grad)
    t = cr.tensor(x, requires_grad=True)
    getattr(t, op)(dim, keepdim).sum().backward()
    assert np.all(t.grad.data[np.isnan(x)] == 0)


@pytest.mark.parametrize("op", ["nansum", "nanmean"])
def test_nansum_nanmean_dtypes(op):
    x = with_nans((3, 4), 0)
    out = assert_parity(lambda t: getattr(t, op)(1), lambda t: getattr(t, op)(1), x.astype(np.float32))
    assert out.dtype == np.float32
    out = assert_parity(lambda t: getattr(t, op)(dtype=cr.float32), lambda t: getattr(t, op)(dtype=torch.float32), x)
    assert out.dtype == np.float32


def test_nansum_of_integers_is_int64_and_nanmean_refuses_them():
    for x in (np.array([[1, 2], [3, 4]], dtype=np.int32), np.array([True, True, False])):
        out = assert_parity(lambda t: t.nansum(), lambda t: t.nansum(), x, grad=False)
        assert out.dtype == np.int64
    with pytest.raises(TypeError, match="nanmean: needs a floating-point input, got int64"):
        cr.tensor([1, 2]).nanmean()


# ----- vector_norm / matrix_norm / linalg.norm / torch.norm ---------------------------------------
ORDS = [2, 1, 3, 0.5, 1.5, -1, -2.5, 0, np.inf, -np.inf]


def sparse_ties(shape, seed):
    """Gaussian values with exact zeros and a repeated magnitude, so the kinks are exercised."""
    x = normal(shape, seed)
    flat = x.reshape(-1)
    rng = np.random.default_rng(seed + 1)
    flat[rng.random(flat.size) < 0.25] = 0.0
    if flat.size >= 2:
        flat[-1] = -flat[0]
    return x


@pytest.mark.parametrize("ord", ORDS)
@SETTINGS
@given(sd=shape_and_dim(), keepdim=st.booleans(), seed=SEEDS, zeros=st.booleans())
def test_vector_norm_parity(ord, sd, keepdim, seed, zeros):
    shape, dim = sd
    x = sparse_ties(shape, seed) if zeros else normal(shape, seed)
    assert_parity(lambda t: reduce.vector_norm(t, ord, dim, keepdim),
                  lambda t: torch.linalg.vector_norm(t, ord, dim, keepdim), x)


@pytest.mark.parametrize("ord", ORDS)
def test_vector_norm_gradient_at_the_origin_is_torchs_subgradient(ord):
    """An all-zero slice: the gradient is 0 (not NaN) for every ord, as torch."""
    x = np.zeros((2, 3))
    x[1] = [0.0, 1.5, -2.0]
    out = assert_parity(lambda t: reduce.vector_norm(t, ord, 1), lambda t: torch.linalg.vector_norm(t, ord, 1), x)
    assert np.isfinite(out.data).all()
    assert_parity(lambda t: reduce.vector_norm(t, ord), lambda t: torch.linalg.vector_norm(t, ord), np.zeros(4))


@pytest.mark.parametrize("ord", [2, 1, np.inf, 0.5])
def test_vector_norm_float32_and_dtype(ord):
    x = normal((3, 4), 0, np.float32)
    out = assert_parity(lambda t: reduce.vector_norm(t, ord, 1), lambda t: torch.linalg.vector_norm(t, ord, 1), x)
    assert out.dtype == np.float32
    out = assert_parity(lambda t: reduce.vector_norm(t, ord, dtype=cr.float64),
                        lambda t: torch.linalg.vector_norm(t, ord, dtype=torch.float64), x, rtol=1e-6)
    assert out.dtype == np.float64


def test_vector_norm_of_empty_and_0d_as_torch():
    for ord in (2, 1, 0):
        assert_parity(lambda t: reduce.vector_norm(t, ord), lambda t: torch.linalg.vector_norm(t, ord), np.zeros((0, 3)))
    assert_parity(lambda t: reduce.vector_norm(t, np.inf, 1), lambda t: torch.linalg.vector_norm(t, np.inf, 1),
                  np.zeros((0, 3)))
    assert_parity(lambda t: reduce.vector_norm(t, 3, 0), lambda t: torch.linalg.vector_norm(t, 3, 0), np.array(-3.0))


def test_vector_norm_errors():
    with pytest.raises(TypeError, match="vector_norm: needs a floating-point input, got int64"):
        reduce.vector_norm(cr.tensor([1, 2]))
    with pytest.raises(TypeError, match="vector_norm: the input's dtype float64 can't be narrowed to dtype=float32"):
        reduce.vector_norm(cr.tensor(normal(3, 0)), dtype=cr.float32)
    with pytest.raises(TypeError, match="vector_norm: dtype must be a floating-point dtype, got int64"):
        reduce.vector_norm(cr.tensor(normal(3, 0)), dtype=cr.int64)
    with pytest.raises(TypeError, match="vector_norm: ord must be a number .* got 'fro'"):
        reduce.vector_norm(cr.tensor(normal(3, 0)), "fro")
    with pytest.raises(IndexError, match=r"vector_norm: cannot reduce over dim\(s\) \(0, 1\) of the input of shape \(0, 3\)"):
        reduce.vector_norm(cr.zeros(0, 3), np.inf)


MATRIX_ORDS = ["fro", "nuc", 1, -1, 2, -2, np.inf, -np.inf]


@st.composite
def shape_and_matrix_dims(draw):
    shape = draw(hnp.array_shapes(min_dims=2, max_dims=4, min_side=1, max_side=4))
    nd = len(shape)
    rows, cols = draw(st.lists(st.integers(0, nd - 1), unique=True, min_size=2, max_size=2))
    negative = draw(st.booleans())
    return shape, (rows - nd if negative else rows, cols)


@pytest.mark.parametrize("ord", MATRIX_ORDS)
@SETTINGS
@given(sd=shape_and_matrix_dims(), keepdim=st.booleans(), seed=SEEDS)
def test_matrix_norm_parity(ord, sd, keepdim, seed):
    shape, dim = sd
    x = normal(shape, seed)
    assert_parity(lambda t: reduce.matrix_norm(t, ord, dim, keepdim),
                  lambda t: torch.linalg.matrix_norm(t, ord, dim, keepdim), x, rtol=1e-6)


@pytest.mark.parametrize("ord", MATRIX_ORDS)
def test_matrix_norm_ties_float32_and_empty(ord):
    """1 / inf norms of ties share the gradient among the tied columns (rows); float32 stays float32."""
    x = np.array([[1.0, -2.0, 0.0], [2.0, 1.0, -3.0]])
    assert_parity(lambda t: reduce.matrix_norm(t, ord), lambda t: torch.linalg.matrix_norm(t, ord), x, rtol=1e-6)
    out = assert_parity(lambda t: reduce.matrix_norm(t, ord), lambda t: torch.linalg.matrix_norm(t, ord),
                        normal((2, 3, 4), 0, np.float32))
    assert out.dtype == np.float32
    for shape in ((0, 3), (3, 0), (2, 0, 3)):  # no entries: the max-type norms are 0, the min-type ones may fail
        try:
            torch.linalg.matrix_norm(torch.zeros(shape), ord)
        except IndexError:
            with pytest.raises(IndexError, match=rf"matrix_norm: .*the input of shape {re.escape(str(shape))}"):
                reduce.matrix_norm(cr.zeros(shape), ord)
            continue
        assert_parity(lambda t: reduce.matrix_norm(t, ord), lambda t: torch.linalg.matrix_norm(t, ord), np.zeros(shape))


def test_matrix_norm_errors():
    x = cr.tensor(normal((2, 3), 0))
    with pytest.raises(ValueError, match=r"matrix_norm: the input must have at least 2 dims .* got shape \(3,\)"):
        reduce.matrix_norm(x[0])
    with pytest.raises(ValueError, match="matrix_norm: ord must be one of 'fro', 'nuc', 1, -1, 2, -2, inf, -inf, got 3"):
        reduce.matrix_norm(x, 3)
    with pytest.raises(ValueError, match=r"matrix_norm: dim \(0, -2\) names the same dim twice"):
        reduce.matrix_norm(x, dim=(0, -2))
    with pytest.raises(ValueError, match=r"matrix_norm: dim must be a pair of dims \(rows, cols\), got \(0,\)"):
        reduce.matrix_norm(x, dim=(0,))
    with pytest.raises(TypeError, match="matrix_norm: needs a floating-point input, got int64"):
        reduce.matrix_norm(cr.tensor([[1, 2]]))


LINALG_NORM_CASES = [  # (shape, ord, dim)
    ((5,), None, None), ((3, 4), None, None), ((2, 3, 4), None, None), ((2, 3, 4), None, 1),
    ((2, 3, 4), None, (0, 2)), ((5,), 1, None), ((5,), np.inf, None), ((5,), 0.5, None), ((3, 4), 1, None),
    ((3, 4), "fro", None), ((3, 4), "nuc", None), ((3, 4), 2, None), ((3, 4), -np.inf, None), ((3, 4), 3, 1),
    ((2, 3, 4), 2, -1), ((2, 3, 4), "nuc", (2, 0)), ((2, 3, 4), -1, (1, 2)),
]


@pytest.mark.parametrize("shape, ord, dim", LINALG_NORM_CASES)
@pytest.mark.parametrize("keepdim", [False, True])
def test_linalg_norm_parity(shape, ord, dim, keepdim):
    assert_parity(lambda t: reduce.linalg_norm(t, ord, dim, keepdim),
                  lambda t: torch.linalg.norm(t, ord, dim, keepdim), normal(shape, 0), rtol=1e-6)


def test_linalg_norm_errors():
    with pytest.raises(ValueError, match=r"norm: given ord and no dim, the input must be 1-D or 2-D, got shape \(2, 3, 4\)"):
        reduce.linalg_norm(cr.zeros(2, 3, 4, dtype=cr.float64), 1)
    with pytest.raises(ValueError, match=r"norm: dim must be one dim .* or two .*, got \(0, 1, 2\)"):
        reduce.linalg_norm(cr.zeros(2, 3, 4, dtype=cr.float64), dim=(0, 1, 2))
    with pytest.raises(TypeError, match="vector_norm: ord must be a number"):
        reduce.linalg_norm(cr.zeros(2, 3, dtype=cr.float64), "fro", dim=1)


TORCH_NORM_CASES = [  # (shape, p, dim)
    ((3, 4), "fro", None), ((2, 3, 4), "fro", None), ((2, 3, 4), "fro", 1), ((2, 3, 4), "fro", (0, 2)),
    ((3, 4), "nuc", None), ((2, 3, 4), "nuc", (0, 2)), ((3, 4), None, None), ((2, 3, 4), 2, None),
    ((2, 3, 4), 1, (0, 1, 2)), ((2, 3, 4), 3, 2), ((3, 4), 0, None), ((3, 4), np.inf, 1), ((3, 4), -np.inf, 0),
    ((3, 4), 0.5, (0, 1)), ((), 2, None), ((5,), -1, 0),
]


@pytest.mark.parametrize("shape, p, dim", TORCH_NORM_CASES)
@pytest.mark.parametrize("keepdim", [False, True])
def test_torch_norm_parity_function_and_method(shape, p, dim, keepdim):
    """torch.norm's older semantics: a number p (or 'fro' over at most two dims) is a vector norm over dim
    (every entry for None), 'nuc' a matrix norm."""
    x = sparse_ties(shape, 1)
    assert_parity(lambda t: cr.norm(t, p, dim, keepdim), lambda t: torch.norm(t, p, dim, keepdim), x, rtol=1e-6)
    assert_parity(lambda t: t.norm(p, dim, keepdim), lambda t: t.norm(p, dim, keepdim), x, rtol=1e-6)


def test_torch_norm_defaults_float32_and_errors():
    x = normal((3, 4), 2, np.float32)
    out = assert_parity(lambda t: t.norm(), lambda t: t.norm(), x)
    assert out.dtype == np.float32
    out = assert_parity(lambda t: t.norm(dim=1, dtype=cr.float64), lambda t: t.norm(dim=1, dtype=torch.float64), x)
    assert out.dtype == np.float64
    with pytest.raises(ValueError, match=r"matrix_norm: dim must be a pair of dims \(rows, cols\), got \(0, 1, 2\)"):
        cr.norm(cr.zeros(2, 3, 4), "nuc")
    with pytest.raises(ValueError, match="matrix_norm: ord must be one of .* got 'abc'"):
        cr.norm(cr.zeros(2, 3), "abc")
    with pytest.raises(TypeError, match="vector_norm: needs a floating-point input, got int64"):
        cr.tensor([1, 2]).norm()


def test_gradcheck_norms():
    x = _leaf(sparse_ties((3, 4), 5) + 0.1)
    assert cr.gradcheck(lambda t: reduce.vector_norm(t, 3, 1).sum() + cr.norm(t, "nuc") + reduce.matrix_norm(t, 2), (x,))


# ----- isclose / allclose / equal -----------------------------------------------------------------
CLOSE_CASES = [  # (a, b, kwargs)
    ([1.0, 2.0, 3.0], [1 + 1e-10, 3.0, 4.0], {}),
    ([np.inf, 4.0], [np.inf, 6.0], {"rtol": 0.5}),
    ([np.inf, np.nan, -np.inf, np.nan, 1.0], [np.inf, np.nan, np.inf, 1.0, np.nan], {}),
    ([np.inf, np.nan, -np.inf, np.nan, 1.0], [np.inf, np.nan, np.inf, 1.0, np.nan], {"equal_nan": True}),
    ([1.0, 2.0], [1.0, 2.00001], {"rtol": 0, "atol": 0}),
    ([[1.0, 2.0], [3.0, 4.0]], [1.0, 2.01], {"rtol": 0.01}),
    ([1.0, 100.0], [1.5, 101.0], {"rtol": 0.01, "atol": 0.5}),
]


@pytest.mark.parametrize("a, b, kwargs", CLOSE_CASES)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_isclose_allclose_parity(a, b, kwargs, dtype):
    a, b = np.array(a, dtype=dtype), np.array(b, dtype=dtype)
    out = assert_parity(lambda s, t: cr.isclose(s, t, **kwargs), lambda s, t: torch.isclose(s, t, **kwargs), a, b,
                        grad=False)
    assert out.dtype == np.bool_
    assert_parity(lambda s, t: s.isclose(t, **kwargs), lambda s, t: s.isclose(t, **kwargs), a, b, grad=False)
    ours = cr.allclose(cr.tensor(a), cr.tensor(b), **kwargs)
    assert ours is torch.allclose(torch.tensor(a), torch.tensor(b), **kwargs)
    assert cr.tensor(a).allclose(cr.tensor(b), **kwargs) is ours


@pytest.mark.parametrize("dtype", [np.int64, np.int32, np.uint8, np.bool_])
def test_isclose_of_integers_and_bools(dtype):
    a, b = np.array([1, 2, 0, 5]).astype(dtype), np.array([1, 3, 1, 5]).astype(dtype)
    for kwargs in ({}, {"atol": 1}, {"atol": 0.99}, {"rtol": 0.4}):
        assert_parity(lambda s, t: cr.isclose(s, t, **kwargs), lambda s, t: torch.isclose(s, t, **kwargs), a, b,
                      grad=False)


def test_isclose_errors():
    x = cr.tensor(normal(3, 0))
    with pytest.raises(TypeError, match="isclose: input and other must have the same dtype, got float64 and int64"):
        cr.isclose(x, cr.tensor([1, 2, 3]))
    with pytest.raises(TypeError, match="isclose: expected a Tensor as other, got float"):
        x.isclose(1.0)
    with pytest.raises(ValueError, match="isclose: rtol and atol must be >= 0, got rtol=-1 and atol=1e-08"):
        cr.isclose(x, x, rtol=-1)
    with pytest.raises(ValueError, match=r"isclose: shapes \(3,\) and \(2,\) are not broadcastable"):
        cr.allclose(x, cr.tensor(normal(2, 0)))


EQUAL_CASES = [
    (np.array([1.0, 2.0]), np.array([1.0, 2.0])), (np.array([1.0, 2.0]), np.array([1.0, 2.5])),
    (np.array([1.0, 2.0]), np.array([1, 2])), (np.array([True]), np.array([1])),
    (np.array([np.nan]), np.array([np.nan])), (normal((2, 3), 0), normal((2, 3), 0)[:1]),
    (normal((2, 3), 0), normal((2, 3), 0).astype(np.float32)), (np.zeros((0, 2)), np.zeros((0, 2))),
]


@pytest.mark.parametrize("a, b", EQUAL_CASES)
def test_equal_parity(a, b):
    ours = cr.equal(cr.tensor(a), cr.tensor(b))
    assert ours is torch.equal(torch.tensor(a), torch.tensor(b))
    assert cr.tensor(a).equal(cr.tensor(b)) is ours
    with pytest.raises(TypeError, match="equal: expected a Tensor as other, got float"):
        cr.tensor(a).equal(1.0)
