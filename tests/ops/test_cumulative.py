"""chainrule.ops.cumulative against torch: cumsum cumprod cummax cummin logcumsumexp — forward and
gradient over drawn shapes and dims (negative ones, 0-d inputs, empty dims) in float64 and float32;
zeros in cumprod, ties and NaN in cummax/cummin, integer dtypes, the method forms and the errors."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import chainrule as cr
from tests.parity import assert_parity

SETTINGS = settings(max_examples=25, deadline=None)
SEEDS = st.integers(0, 2**32 - 1)


@st.composite
def shape_and_dim(draw, min_side=1):
    shape = draw(hnp.array_shapes(min_dims=0, max_dims=4, min_side=min_side, max_side=5))
    span = max(len(shape), 1)
    return shape, draw(st.integers(-span, span - 1))


def normal(shape, seed, dtype=np.float64):
    return np.asarray(np.random.default_rng(seed).standard_normal(shape), dtype=dtype)


def with_zeros(shape, seed):
    """Normal values with about a third of them zero (several zeros per slice, often)."""
    rng = np.random.default_rng(seed)
    return np.where(rng.random(shape) < 0.35, 0.0, rng.standard_normal(shape))


def ties(shape, seed):
    return np.asarray(np.random.default_rng(seed).integers(-1, 2, shape), dtype=np.float64)


@SETTINGS
@given(case=shape_and_dim(min_side=0), seed=SEEDS)
def test_cumsum_parity(case, seed):
    shape, dim = case
    x = normal(shape, seed)
    assert_parity(lambda t: cr.cumsum(t, dim), lambda t: torch.cumsum(t, dim), x)
    assert_parity(lambda t: t.cumsum(dim), lambda t: t.cumsum(dim), x)


@SETTINGS
@given(case=shape_and_dim(min_side=0), seed=SEEDS, zeros=st.booleans())
def test_cumprod_parity_and_exact_gradient_with_zeros(case, seed, zeros):
    shape, dim = case
    x = with_zeros(shape, seed) if zeros else normal(shape, seed)
    assert_parity(lambda t: cr.cumprod(t, dim), lambda t: torch.cumprod(t, dim), x)
    assert_parity(lambda t: t.cumprod(dim), lambda t: t.cumprod(dim), x)


def test_cumprod_gradient_is_exact_where_the_input_is_zero():
    # d/dx_1 of the last output = x_0·x_2·x_3 even though x_1 = 0 (no division by x_1)
    x = cr.tensor([2.0, 0.0, 3.0, 0.5], requires_grad=True)
    cr.cumprod(x, 0)[3].backward()
    np.testing.assert_array_equal(x.grad.data, [0.0, 3.0, 0.0, 0.0])
    x = cr.tensor([2.0, 0.0, 3.0, 0.0], requires_grad=True)  # two zeros: every product of the others is 0 ...
    cr.cumprod(x, 0)[2].backward()
    np.testing.assert_array_equal(x.grad.data, [0.0, 6.0, 0.0, 0.0])  # ... except the one missing x_1


@SETTINGS
@given(case=shape_and_dim(min_side=0), seed=SEEDS)
def test_logcumsumexp_parity(case, seed):
    shape, dim = case
    x = np.asarray(normal(shape, seed) * 3)
    assert_parity(lambda t: cr.logcumsumexp(t, dim), lambda t: torch.logcumsumexp(t, dim), x)
    assert_parity(lambda t: t.logcumsumexp(dim), lambda t: t.logcumsumexp(dim), x)


def test_logcumsumexp_is_stable_for_large_and_minus_infinite_inputs():
    x = np.array([[1000.0, -1000.0, 999.0, -np.inf], [-np.inf, -np.inf, 0.0, 800.0]])
    assert_parity(lambda t: cr.logcumsumexp(t, 1), lambda t: torch.logcumsumexp(t, 1), x)


@pytest.mark.parametrize("op", ["cummax", "cummin"])
@SETTINGS
@given(case=shape_and_dim(min_side=0), seed=SEEDS, tied=st.booleans())
def test_cummax_cummin_parity(op, case, seed, tied):
    shape, dim = case
    x = ties(shape, seed) if tied else normal(shape, seed)
    ours = getattr(cr, op)(cr.tensor(x), dim)
    theirs = getattr(torch, op)(torch.tensor(x), dim)
    np.testing.assert_array_equal(ours.indices.data, theirs.indices.numpy())  # ties: the latest index, as torch
    assert ours.indices.dtype == np.int64
    assert_parity(lambda t: getattr(cr, op)(t, dim).values, lambda t: getattr(torch, op)(t, dim).values, x)
    assert_parity(lambda t: getattr(t, op)(dim)[0], lambda t: getattr(t, op)(dim)[0], x)


@pytest.mark.parametrize("op", ["cummax", "cummin"])
def test_cummax_cummin_propagate_nan_with_torch_indices(op):
    x = np.array([1.0, np.nan, 0.5, np.nan, 3.0, -2.0])
    ours, theirs = getattr(cr, op)(cr.tensor(x), 0), getattr(torch, op)(torch.tensor(x), 0)
    np.testing.assert_array_equal(ours.values.data, theirs.values.numpy())
    np.testing.assert_array_equal(ours.indices.data, theirs.indices.numpy())


@pytest.mark.parametrize("dtype", [np.int32, np.int64, np.bool_])
def test_integer_and_bool_inputs_accumulate_in_int64(dtype):
    x = np.array([[1, 0, 2], [3, 1, 1]]).astype(dtype)
    for op in ("cumsum", "cumprod"):
        ours, theirs = getattr(cr, op)(cr.tensor(x), 1), getattr(torch, op)(torch.tensor(x), 1)
        assert ours.dtype == np.int64 and theirs.dtype == torch.int64
        np.testing.assert_array_equal(ours.data, theirs.numpy())
    ours = cr.cummax(cr.tensor(x), 0)
    assert ours.values.dtype == dtype and not ours.values.requires_grad
    np.testing.assert_array_equal(ours.values.data, torch.cummax(torch.tensor(x), 0).values.numpy())


def test_dtype_argument_casts_before_accumulating():
    x = np.array([1, 2, 3])
    out = cr.cumsum(cr.tensor(x), 0, dtype=cr.float64)
    assert out.dtype == np.float64
    assert_parity(lambda t: cr.cumprod(t, 0, dtype=cr.float64), lambda t: torch.cumprod(t, 0, dtype=torch.float64),
                  np.array([1.5, -2.0, 3.0], dtype=np.float32))


@pytest.mark.parametrize("op", ["cumsum", "cumprod", "logcumsumexp"])
def test_float32_keeps_its_dtype(op):
    x = normal((3, 4), 1, np.float32)
    out = assert_parity(lambda t: getattr(cr, op)(t, 1), lambda t: getattr(torch, op)(t, 1), x)
    assert out.dtype == np.float32
    values = cr.cummax(cr.tensor(x, requires_grad=True), 0).values
    values.sum().backward()
    assert values.dtype == np.float32


def test_finite_differences():
    x = cr.tensor(with_zeros((3, 4), 3), requires_grad=True)
    assert cr.gradcheck(lambda t: cr.cumprod(t, 1), (x,))
    assert cr.gradcheck(lambda t: cr.logcumsumexp(t, 0), (x,))
    assert cr.gradcheck(lambda t: cr.cumsum(t, -1), (x,))


def test_errors():
    x = cr.tensor(np.ones((2, 3)))
    with pytest.raises(IndexError, match=r"cumsum: dim 2 out of range for a tensor with 2 dims"):
        cr.cumsum(x, 2)
    with pytest.raises(TypeError, match=r"cumprod: dim must be an int, got None"):
        cr.cumprod(x, None)
    with pytest.raises(TypeError, match=r"logcumsumexp: needs a floating-point input, got int64"):
        cr.logcumsumexp(cr.tensor([1, 2]), 0)
    with pytest.raises(TypeError, match=r"cummax: expected a Tensor as input, got list"):
        cr.cummax([1.0, 2.0], 0)
