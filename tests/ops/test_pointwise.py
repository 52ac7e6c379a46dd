"""chainrule.ops.pointwise against torch: the elementwise math of one tensor — forward and gradient in
float64 over drawn shapes, float32 kept, the method forms, the gradients at special points (0, ±1, ±inf,
NaN), the dtypes of integer and bool inputs, erf/erfc/erfinv to 1e-12 relative, and the error paths."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import chainrule as cr
from chainrule.ops.pointwise import erf_array, erfc_array, erfinv_array
from tests.parity import assert_parity

SETTINGS = settings(max_examples=10, deadline=None)
SHAPES = hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=4)
SEEDS = st.integers(0, 2**32 - 1)


def normal(shape, seed, dtype=np.float64):
    return np.asarray(np.random.default_rng(seed).standard_normal(shape) * 2, dtype=dtype)


def uniform(low, high):
    def make(shape, seed, dtype=np.float64):
        return np.asarray(np.random.default_rng(seed).uniform(low, high, shape), dtype=dtype)

    return make


def off_integers(shape, seed, dtype=np.float64):
    """Values at least 0.1 from an integer and from a half: rounding ops are flat there in float32 too."""
    rng = np.random.default_rng(seed)
    return np.asarray(rng.integers(-5, 5, shape) + rng.choice([0.2, 0.3, 0.7, 0.8], shape), dtype=dtype)


OPEN_UNIT = uniform(-0.95, 0.95)
POSITIVE = uniform(0.2, 3.0)
# name -> (input maker); the same name is looked up in chainrule, torch, and as a method of both
UNARY = {
    "tan": uniform(-1.3, 1.3), "asin": OPEN_UNIT, "arcsin": OPEN_UNIT, "acos": OPEN_UNIT, "arccos": OPEN_UNIT,
    "atan": normal, "arctan": normal, "sinh": normal, "cosh": normal, "asinh": normal, "arcsinh": normal,
    "acosh": uniform(1.1, 4.0), "arccosh": uniform(1.1, 4.0), "atanh": OPEN_UNIT, "arctanh": OPEN_UNIT,
    "floor": off_integers, "ceil": off_integers, "round": off_integers, "trunc": off_integers, "fix": off_integers,
    "frac": off_integers, "sign": normal, "sgn": normal, "rsqrt": POSITIVE, "reciprocal": uniform(0.3, 3.0),
    "square": normal, "log2": POSITIVE, "log10": POSITIVE, "log1p": uniform(-0.8, 3.0), "expm1": normal,
    "exp2": normal, "erf": normal, "erfc": normal, "erfinv": OPEN_UNIT, "sigmoid": normal, "logit": uniform(0.05, 0.95),
    "nan_to_num": normal, "positive": normal, "negative": normal, "deg2rad": normal, "rad2deg": normal,
    "sinc": normal,
}


# torch.sgn's gradient is a ZeroTensor, which tests.parity cannot read (.numpy() refuses it): for real
# tensors sgn is sign, so sign's gradient — zeros as well — stands in for it on torch's side
TORCH_TWIN = {"sgn": "sign"}


def twin(name):
    return getattr(torch, TORCH_TWIN.get(name, name))


@pytest.mark.parametrize("name", sorted(UNARY))
@SETTINGS
@given(shape=SHAPES, seed=SEEDS)
def test_unary_parity_float64(name, shape, seed):
    x = UNARY[name](shape, seed)
    assert_parity(getattr(cr, name), twin(name), x)


@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_method_form_and_float32(name):
    x = UNARY[name]((3, 4), 5, np.float32)
    out = assert_parity(lambda t: getattr(t, name)(), lambda t: getattr(t, TORCH_TWIN.get(name, name))(), x)
    assert out.dtype == np.float32


SPECIAL = np.array([0.0, -0.0, 0.5, 1.0, -1.0, 2.5, -2.5, np.inf, -np.inf, np.nan])


@pytest.mark.parametrize("name", ["floor", "ceil", "round", "trunc", "frac", "sign", "sgn", "abs", "rsqrt",
                                  "reciprocal", "sinc", "asin", "acos", "acosh", "atanh", "erfinv", "sqrt", "log2",
                                  "log1p", "square", "nan_to_num", "erf", "erfc", "tan", "expm1", "exp2"])
def test_gradient_at_special_points_equals_torch(name):
    """Kinks, poles, ±inf and NaN: torch's values (sign → 0 and floor → 0 everywhere, abs' 0 at 0 and at NaN,
    rsqrt's ∓inf at ±0, sinc's 0 at 0) — NaN where torch gives NaN."""
    with np.errstate(all="ignore"):
        assert_parity(getattr(cr, name), twin(name), SPECIAL.copy())


@pytest.mark.parametrize("decimals", [0, 1, 2, 3, -1, -2])
def test_round_decimals_half_to_even_like_torch(decimals):
    x = np.array([0.5, 1.5, 2.5, -0.5, -2.5, 1.2345, 2.675, -0.125, 15.0, 25.0, 1250.0, 1350.0, 12345.678])
    assert_parity(lambda t: cr.round(t, decimals=decimals), lambda t: torch.round(t, decimals=decimals), x)
    out = assert_parity(lambda t: t.round(decimals=decimals), lambda t: t.round(decimals=decimals), x.astype(np.float32))
    assert out.dtype == np.float32


# ----- the error function ---------------------------------------------------------------------------------
def _relative_error(ours, theirs):
    both = np.isfinite(theirs) & (theirs != 0)
    assert np.array_equal(np.isnan(ours), np.isnan(theirs))
    assert np.array_equal(ours[~both & ~np.isnan(theirs)], theirs[~both & ~np.isnan(theirs)])
    return np.max(np.abs(ours[both] - theirs[both]) / np.abs(theirs[both]))


def test_erf_and_erfc_within_1e12_relative_of_torch():
    x = np.concatenate([np.linspace(-7, 7, 20001), np.geomspace(1e-300, 27, 3000), -np.geomspace(1e-300, 6, 1000),
                        [0.0, -0.0, np.inf, -np.inf, np.nan, 0.46875, -0.46875, 4.0, -4.0, 26.5, 30.0]])
    assert _relative_error(erf_array(x), torch.erf(torch.tensor(x)).numpy()) < 1e-12
    assert _relative_error(erfc_array(x), torch.erfc(torch.tensor(x)).numpy()) < 1e-12


def test_erfinv_within_1e12_relative_of_torch_up_to_the_last_float_below_one():
    y = np.concatenate([np.linspace(-1, 1, 20001), 1 - np.geomspace(1.2e-16, 0.5, 3000),
                        -1 + np.geomspace(1.2e-16, 0.5, 1000), np.geomspace(1e-300, 0.5, 1000),
                        [0.0, -0.0, 1.0, -1.0, np.nan, 1.5, -2.0, np.nextafter(1.0, 0.0)]])
    assert _relative_error(erfinv_array(y), torch.erfinv(torch.tensor(y)).numpy()) < 1e-12
    inside = np.abs(y) < 1
    np.testing.assert_allclose(erf_array(erfinv_array(y[inside])), y[inside], rtol=1e-14, atol=1e-300)


def test_erf_array_keeps_float64_and_is_vectorized():
    out = erf_array(np.zeros((2, 3)))
    assert out.shape == (2, 3) and out.dtype == np.float64


# ----- logit, xlogy, nan_to_num, heaviside, predicates -------------------------------------------------------
@pytest.mark.parametrize("eps", [None, 0.1, 0.0, 1e-6, -1.0])
def test_logit_eps_clamps_and_zeroes_gradient_outside(eps):
    x = np.array([0.05, 0.1, 0.3, 0.5, 0.9, 0.95]) if eps else np.array([0.05, 0.3, 0.5, 0.95, 1.5, -0.5])
    with np.errstate(all="ignore"):
        assert_parity(lambda t: cr.logit(t, eps), lambda t: torch.logit(t, eps), x)
        assert_parity(lambda t: t.logit(eps=eps), lambda t: t.logit(eps=eps), x)


@SETTINGS
@given(shapes=hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3, max_side=4), seed=SEEDS)
def test_xlogy_broadcasting_parity(shapes, seed):
    sa, sb = shapes.input_shapes
    rng = np.random.default_rng(seed)
    x = np.where(rng.random(sa) < 0.3, 0.0, rng.standard_normal(sa))
    assert_parity(cr.xlogy, torch.xlogy, np.asarray(x), POSITIVE(sb, seed + 1))


def test_xlogy_zero_times_log_zero_is_zero_and_nan_propagates():
    x = np.array([0.0, 0.0, 1.0, 2.0, np.nan, 0.0])
    y = np.array([0.0, 2.0, 0.0, np.nan, 1.0, np.nan])
    with np.errstate(all="ignore"):
        assert_parity(cr.xlogy, torch.xlogy, x, y)
        assert_parity(lambda a, b: a.xlogy(b), lambda a, b: a.xlogy(b), x, y)


@pytest.mark.parametrize("ours, theirs", [
    (lambda t: cr.xlogy(t, 3), lambda t: torch.xlogy(t, 3)),
    (lambda t: cr.xlogy(2.0, t), lambda t: torch.xlogy(2.0, t)),
])
def test_xlogy_with_a_number_operand(ours, theirs):
    out = assert_parity(ours, theirs, POSITIVE((2, 3), 0, np.float32))
    assert out.dtype == np.float32


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("kwargs", [{}, {"nan": 1.5}, {"posinf": 9.0, "neginf": -9.0}, {"nan": -1.0, "posinf": 2.0}])
def test_nan_to_num_values_and_gradient(kwargs, dtype):
    x = np.array([1.0, np.nan, np.inf, -np.inf, -2.0], dtype=dtype)
    out = assert_parity(lambda t: cr.nan_to_num(t, **kwargs), lambda t: torch.nan_to_num(t, **kwargs), x)
    assert out.dtype == dtype
    assert_parity(lambda t: t.nan_to_num(**kwargs), lambda t: t.nan_to_num(**kwargs), x)


@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.int64])
def test_heaviside_matches_torch_and_is_outside_the_graph(dtype):
    x = np.array([-1.5, 0.0, 2.0, -0.0, np.nan]) if dtype != np.int64 else np.array([-2, 0, 3])
    x = x.astype(dtype)
    values = np.array(0.5 if dtype != np.int64 else 7, dtype=dtype)
    out = assert_parity(cr.heaviside, torch.heaviside, x, values, grad=False)
    assert out.dtype == dtype
    assert not cr.heaviside(cr.tensor(x.astype(np.float64), requires_grad=dtype != np.int64),
                            cr.tensor(np.float64(1.0))).requires_grad
    assert_parity(lambda a, v: a.heaviside(v), lambda a, v: a.heaviside(v), x, values, grad=False)


@pytest.mark.parametrize("name", ["isnan", "isinf", "isposinf", "isneginf", "isfinite", "isreal"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.int64, np.bool_])
def test_predicates_give_bool_tensors_like_torch(name, dtype):
    with np.errstate(invalid="ignore"):
        x = SPECIAL.astype(dtype)
    out = assert_parity(getattr(cr, name), getattr(torch, name), x, grad=False)
    assert out.dtype == np.bool_ and not out.requires_grad
    assert_parity(lambda t: getattr(t, name)(), lambda t: getattr(t, name)(), x, grad=False)


# ----- dtypes of integer and bool inputs -------------------------------------------------------------------
FLOAT_RESULT = ["tan", "asin", "acos", "atan", "sinh", "cosh", "asinh", "acosh", "atanh", "rsqrt", "reciprocal",
                "log2", "log10", "log1p", "expm1", "exp2", "erf", "erfc", "erfinv", "logit", "deg2rad", "rad2deg",
                "sinc"]
KEEPS_INTEGER = ["floor", "ceil", "round", "trunc", "fix", "sign", "sgn", "square", "positive", "negative",
                 "nan_to_num"]


@pytest.mark.parametrize("dtype", [np.int64, np.int32, np.bool_])
@pytest.mark.parametrize("name", FLOAT_RESULT + KEEPS_INTEGER)
def test_integer_and_bool_inputs_give_torch_dtype(name, dtype):
    x = np.array([-3, 0, 1, 5]).astype(dtype)
    try:
        expected = getattr(torch, name)(torch.tensor(x))
    except (RuntimeError, NotImplementedError, TypeError):
        with pytest.raises(TypeError, match=rf"{name.replace('fix', 'trunc')}|positive|negative"):
            getattr(cr, name)(cr.tensor(x))
        return
    with np.errstate(all="ignore"):
        out = assert_parity(getattr(cr, name), getattr(torch, name), x, grad=False)
    assert out.dtype == expected.numpy().dtype and not out.requires_grad


def test_positive_returns_the_input_itself():
    x = cr.tensor([1.0, -2.0], requires_grad=True)
    assert cr.positive(x) is x and +x is x


def test_zero_size_and_zero_dim_inputs():
    for name in ["tan", "erf", "erfinv", "floor", "round", "logit", "square", "isnan"]:
        for x in (np.zeros((0, 3)), np.array(0.25)):
            assert_parity(getattr(cr, name), getattr(torch, name), x)


def test_gradcheck_composite():
    x = cr.tensor(np.array([0.2, -0.4, 0.7, 0.1]), requires_grad=True)
    assert cr.gradcheck(lambda t: cr.erfinv(t) * cr.atanh(t) + cr.sinc(t).log1p() + cr.logit(t.abs()) * cr.erf(t)
                        + cr.xlogy(t.square(), t.abs()) + cr.rsqrt(t.cosh()) + cr.exp2(t) * cr.asinh(t), (x,))


# ----- errors ----------------------------------------------------------------------------------------------
def test_errors_name_the_op_and_the_problem():
    with pytest.raises(TypeError, match=r"tan: expected a Tensor as input, got float"):
        cr.tan(1.0)
    with pytest.raises(TypeError, match=r"frac: needs a floating-point tensor, got int64"):
        cr.frac(cr.tensor([1, 2]))
    with pytest.raises(TypeError, match=r"round: decimals=2 needs a floating-point tensor, got int64"):
        cr.round(cr.tensor([1, 2]), decimals=2)
    with pytest.raises(TypeError, match=r"round: decimals must be an int, got float"):
        cr.round(cr.tensor([1.0]), decimals=1.5)
    with pytest.raises(TypeError, match=r"floor: needs an integer or floating-point tensor, got bool"):
        cr.floor(cr.tensor([True]))
    with pytest.raises(TypeError, match=r"negative: needs a number tensor, got bool"):
        cr.negative(cr.tensor([True]))
    with pytest.raises(TypeError, match=r"heaviside: input and values must have one dtype, got float64 and float32"):
        cr.heaviside(cr.tensor(np.array([1.0])), cr.tensor(np.array([1.0], dtype=np.float32)))
    with pytest.raises(TypeError, match=r"heaviside: values must be a Tensor, got float"):
        cr.heaviside(cr.tensor([1.0]), 0.5)
    with pytest.raises(ValueError, match=r"heaviside: shapes \(2,\) and \(3,\) are not broadcastable"):
        cr.heaviside(cr.tensor([1.0, 2.0]), cr.tensor([1.0, 2.0, 3.0]))
    with pytest.raises(TypeError, match=r"xlogy: at least one of input and other must be a Tensor"):
        cr.xlogy(1.0, 2.0)
    with pytest.raises(TypeError, match=r"logit: eps must be a number or None, got str"):
        cr.logit(cr.tensor([0.5]), "a")
