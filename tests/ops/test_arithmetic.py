"""chainrule.ops.arithmetic against torch: + - * / ** neg exp log sqrt abs sin cos clamp maximum minimum
where — forward and every input's gradient, float64 and float32, broadcasting, Python scalars on either
side, tie rules, finite differences and error messages."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import chainrule as cr
from tests.parity import assert_parity

SETTINGS = settings(max_examples=25, deadline=None)
PAIRS = hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=4, max_side=4)
SHAPES = hnp.array_shapes(min_dims=0, max_dims=4, min_side=1, max_side=4)
SEEDS = st.integers(0, 2**32 - 1)


def normal(shape, seed, dtype=np.float64):
    return np.asarray(np.random.default_rng(seed).standard_normal(shape), dtype=dtype)


def away_from_zero(shape, seed, dtype=np.float64, low=0.5, high=2.0):
    """Values with |v| in [low, high) and a random sign: safe denominators, no kinks of abs at 0."""
    rng = np.random.default_rng(seed)
    return np.asarray(rng.uniform(low, high, shape) * rng.choice([-1.0, 1.0], shape), dtype=dtype)


def positive(shape, seed, dtype=np.float64, low=0.5, high=2.0):
    return np.asarray(np.random.default_rng(seed).uniform(low, high, shape), dtype=dtype)


# op name -> (chainrule fn, torch fn, maker of the second operand)
BINARY = {
    "add": (lambda a, b: a + b, lambda a, b: a + b, normal),
    "sub": (lambda a, b: a - b, lambda a, b: a - b, normal),
    "mul": (lambda a, b: a * b, lambda a, b: a * b, normal),
    "div": (lambda a, b: a / b, lambda a, b: a / b, away_from_zero),
    "add_fn": (cr.add, torch.add, normal),
    "sub_fn": (cr.sub, torch.sub, normal),
    "mul_fn": (cr.mul, torch.mul, normal),
    "div_fn": (cr.div, torch.div, away_from_zero),
    "maximum": (cr.maximum, torch.maximum, normal),
    "minimum": (cr.minimum, torch.minimum, normal),
    "maximum_method": (lambda a, b: a.maximum(b), lambda a, b: a.maximum(b), normal),
    "minimum_method": (lambda a, b: a.minimum(b), lambda a, b: a.minimum(b), normal),
}


@pytest.mark.parametrize("name", sorted(BINARY))
@SETTINGS
@given(shapes=PAIRS, seed=SEEDS)
def test_binary_broadcasting_parity(name, shapes, seed):
    ours, theirs, make_b = BINARY[name]
    sa, sb = shapes.input_shapes
    assert_parity(ours, theirs, normal(sa, seed), make_b(sb, seed + 1))


@SETTINGS
@given(shapes=PAIRS, seed=SEEDS)
def test_pow_tensor_tensor_broadcasting_parity(shapes, seed):
    sa, sb = shapes.input_shapes
    assert_parity(lambda a, b: a**b, lambda a, b: a**b, positive(sa, seed), normal(sb, seed + 1))
    assert_parity(cr.pow, torch.pow, positive(sa, seed), normal(sb, seed + 1))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize(
    "sa, sb",
    [((3, 1, 4), (5, 4)), ((4,), (2, 3, 4)), ((2, 3, 4), (4,)), ((), (2, 3)), ((2, 3), ()), ((1,), (3, 1)), ((), ())],
)
@pytest.mark.parametrize("name", ["add", "sub", "mul", "div", "maximum", "minimum"])
def test_binary_named_broadcasts(name, sa, sb, dtype):
    """The shapes the brief names, 0-d tensors included, in both dtypes (float32 must stay float32)."""
    ours, theirs, make_b = BINARY[name]
    out = assert_parity(ours, theirs, normal(sa, 1, dtype), make_b(sb, 2, dtype))
    assert out.dtype == dtype


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("sa, sb", [((3, 1, 4), (5, 4)), ((4,), (2, 3, 4)), ((), (2, 3)), ((2, 3), ()), ((), ())])
def test_pow_tensor_tensor_named_broadcasts(sa, sb, dtype):
    out = assert_parity(lambda a, b: a**b, lambda a, b: a**b, positive(sa, 1, dtype), normal(sb, 2, dtype))
    assert out.dtype == dtype


# Python scalar on the left or on the right: (chainrule fn, torch fn, input maker)
SCALAR = {
    "x+2.5": (lambda x: x + 2.5, normal),
    "2.5+x": (lambda x: 2.5 + x, normal),
    "x+3(int)": (lambda x: x + 3, normal),
    "x-2": (lambda x: x - 2, normal),
    "2.0-x": (lambda x: 2.0 - x, normal),
    "x*-1.5": (lambda x: x * -1.5, normal),
    "3*x": (lambda x: 3 * x, normal),
    "x/4.0": (lambda x: x / 4.0, normal),
    "2.0/x": (lambda x: 2.0 / x, away_from_zero),
    "1/x": (lambda x: 1 / x, away_from_zero),
    "x**3": (lambda x: x**3, normal),
    "x**2.0": (lambda x: x**2.0, normal),
    "x**0": (lambda x: x**0, normal),
    "x**1": (lambda x: x**1, normal),
    "x**0.5": (lambda x: x**0.5, positive),
    "x**-1.5": (lambda x: x**-1.5, positive),
    "x**-2": (lambda x: x**-2, away_from_zero),
    "2**x": (lambda x: 2**x, normal),
    "0.5**x": (lambda x: 0.5**x, normal),
    "-x": (lambda x: -x, normal),
    "neg": (lambda x: x.neg(), normal),
    "x.add(1.5)": (lambda x: x.add(1.5), normal),
    "x.sub(1.5)": (lambda x: x.sub(1.5), normal),
    "x.mul(1.5)": (lambda x: x.mul(1.5), normal),
    "x.div(1.5)": (lambda x: x.div(1.5), normal),
    "x.pow(3)": (lambda x: x.pow(3), normal),
    "x*x": (lambda x: x * x, normal),
    "x-x": (lambda x: x - x, normal),
    "x/x": (lambda x: x / x, away_from_zero),
    "x**x": (lambda x: x**x, positive),
}  # the same lambda runs on both sides: they use only operators and methods torch shares


@pytest.mark.parametrize("name", sorted(SCALAR))
@SETTINGS
@given(shape=SHAPES, seed=SEEDS)
def test_scalar_operands_parity(name, shape, seed):
    fn, make = SCALAR[name]
    assert_parity(fn, fn, make(shape, seed))


@pytest.mark.parametrize("name", sorted(SCALAR))
def test_scalar_operands_float32_stays_float32(name):
    fn, make = SCALAR[name]
    out = assert_parity(fn, fn, make((3, 4), 7, np.float32))
    assert out.dtype == np.float32


def test_neg_function():
    assert_parity(cr.neg, torch.neg, normal((2, 3), 0))


UNARY = {
    "exp": (cr.exp, torch.exp, normal),
    "log": (cr.log, torch.log, positive),
    "sqrt": (cr.sqrt, torch.sqrt, positive),
    "abs": (cr.abs, torch.abs, away_from_zero),
    "sin": (cr.sin, torch.sin, normal),
    "cos": (cr.cos, torch.cos, normal),
    "neg": (cr.neg, torch.neg, normal),
    "exp_method": (lambda x: x.exp(), lambda x: x.exp(), normal),
    "log_method": (lambda x: x.log(), lambda x: x.log(), positive),
    "sqrt_method": (lambda x: x.sqrt(), lambda x: x.sqrt(), positive),
    "abs_method": (lambda x: x.abs(), lambda x: x.abs(), away_from_zero),
    "abs_builtin": (abs, abs, away_from_zero),
    "sin_method": (lambda x: x.sin(), lambda x: x.sin(), normal),
    "cos_method": (lambda x: x.cos(), lambda x: x.cos(), normal),
}


@pytest.mark.parametrize("name", sorted(UNARY))
@SETTINGS
@given(shape=SHAPES, seed=SEEDS)
def test_unary_parity(name, shape, seed):
    ours, theirs, make = UNARY[name]
    assert_parity(ours, theirs, make(shape, seed))


@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_float32(name):
    ours, theirs, make = UNARY[name]
    out = assert_parity(ours, theirs, make((2, 3, 4), 3, np.float32))
    assert out.dtype == np.float32


def test_abs_gradient_at_zero_is_zero_like_torch():
    assert_parity(cr.abs, torch.abs, np.array([-1.5, 0.0, 2.0, 0.0]))


def test_log_and_sqrt_of_integer_tensor_give_default_float():
    x = np.array([1, 2, 4], dtype=np.int64)
    for ours, theirs in [(cr.log, torch.log), (cr.sqrt, torch.sqrt), (cr.exp, torch.exp), (cr.sin, torch.sin)]:
        out = assert_parity(ours, theirs, x, grad=False)
        assert out.dtype == np.float32


def test_mixed_float_dtypes_promote_like_torch():
    a, b = normal((2, 3), 0, np.float32), normal((3,), 1, np.float64)
    out = assert_parity(lambda x, y: x * y + x, lambda x, y: x * y + x, a, b)
    assert out.dtype == np.float64


def test_float_scalar_with_integer_tensor_gives_default_float():
    x = np.array([1, 2, 3], dtype=np.int64)
    out = assert_parity(lambda t: t * 1.5, lambda t: t * 1.5, x, grad=False)
    assert out.dtype == np.float32
    out = assert_parity(lambda t: t + 2, lambda t: t + 2, x, grad=False)
    assert out.dtype == np.int64


# ----- clamp / clip ---------------------------------------------------------------------------------
CLAMP_SCALAR = {
    "min": (lambda x: cr.clamp(x, min=-0.3), lambda x: torch.clamp(x, min=-0.3)),
    "max": (lambda x: cr.clamp(x, max=0.4), lambda x: torch.clamp(x, max=0.4)),
    "both": (lambda x: cr.clamp(x, -0.3, 0.4), lambda x: torch.clamp(x, -0.3, 0.4)),
    "clip_fn": (lambda x: cr.clip(x, -0.3, 0.4), lambda x: torch.clip(x, -0.3, 0.4)),
    "clamp_method": (lambda x: x.clamp(min=-0.5), lambda x: x.clamp(min=-0.5)),
    "clip_method": (lambda x: x.clip(max=0.1), lambda x: x.clip(max=0.1)),
    "int_bounds": (lambda x: x.clamp(-1, 1), lambda x: x.clamp(-1, 1)),
}


@pytest.mark.parametrize("name", sorted(CLAMP_SCALAR))
@SETTINGS
@given(shape=SHAPES, seed=SEEDS)
def test_clamp_scalar_bounds_parity(name, shape, seed):
    ours, theirs = CLAMP_SCALAR[name]
    assert_parity(ours, theirs, normal(shape, seed))


@pytest.mark.parametrize("name", sorted(CLAMP_SCALAR))
def test_clamp_scalar_bounds_float32(name):
    ours, theirs = CLAMP_SCALAR[name]
    out = assert_parity(ours, theirs, normal((4, 5), 2, np.float32))
    assert out.dtype == np.float32


def test_clamp_scalar_bounds_at_the_bounds_pass_gradient_like_torch():
    x = np.array([-1.0, -0.5, 0.0, 0.5, 1.0])
    assert_parity(lambda t: t.clamp(-0.5, 0.5), lambda t: t.clamp(-0.5, 0.5), x)
    assert_parity(lambda t: t.clamp(0.5, -0.5), lambda t: t.clamp(0.5, -0.5), x)  # min > max: max wins


@SETTINGS
@given(shapes=hnp.mutually_broadcastable_shapes(num_shapes=3, min_dims=0, max_dims=3, max_side=4), seed=SEEDS)
def test_clamp_tensor_bounds_parity(shapes, seed):
    sx, slo, shi = shapes.input_shapes
    x, lo, hi = normal(sx, seed), np.asarray(normal(slo, seed + 1) - 0.5), np.asarray(normal(shi, seed + 2) + 0.5)
    assert_parity(lambda a, b: cr.clamp(a, min=b), lambda a, b: torch.clamp(a, min=b), x, lo)
    assert_parity(lambda a, c: cr.clamp(a, max=c), lambda a, c: torch.clamp(a, max=c), x, hi)
    # both bounds: x takes the full broadcast shape (torch's own backward fails otherwise: it ANDs two
    # masks of different broadcast shapes in place); min > max in places, where max wins
    x = normal(shapes.result_shape, seed)
    assert_parity(cr.clamp, torch.clamp, x, lo, hi)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_clamp_tensor_bounds_with_ties_and_crossed_bounds_follow_torch(dtype):
    """Where x equals a tensor bound the whole gradient goes to x (torch's clamp rule, unlike maximum's
    even split); where min == max or min > max torch's rule decides who gets it."""
    x = np.array([[1.0, 2.0, 3.0], [0.5, 2.0, 5.0], [4.0, 4.0, 1.0]], dtype=dtype)
    lo = np.array([1.0, 0.0, 4.0], dtype=dtype)
    hi = np.array([[3.0], [2.0], [4.0]], dtype=dtype)
    assert_parity(lambda a, b: a.clamp(min=b), lambda a, b: a.clamp(min=b), x, lo)
    assert_parity(lambda a, c: a.clamp(max=c), lambda a, c: a.clamp(max=c), x, hi)
    out = assert_parity(cr.clamp, torch.clamp, x, lo, hi)
    assert out.dtype == dtype


@pytest.mark.parametrize(
    "lo, hi, dtype", [(1.5, None, np.float32), (None, 2.5, np.float32), (1, 2, np.int64), (0, None, np.int64)]
)
def test_clamp_of_integer_tensor_promotes_like_torch(lo, hi, dtype):
    out = assert_parity(lambda t: t.clamp(lo, hi), lambda t: t.clamp(lo, hi), np.array([0, 1, 2, 3]), grad=False)
    assert out.dtype == dtype


# ----- maximum / minimum ties --------------------------------------------------------------------
@pytest.mark.parametrize("ours, theirs", [(cr.maximum, torch.maximum), (cr.minimum, torch.minimum)])
@SETTINGS
@given(shapes=PAIRS, seed=SEEDS)
def test_maximum_minimum_ties_split_gradient_in_half(ours, theirs, shapes, seed):
    """Values drawn from {-1, 0, 1} so that ties are everywhere; torch gives each side g/2."""
    sa, sb = shapes.input_shapes
    rng = np.random.default_rng(seed)
    a = np.asarray(rng.integers(-1, 2, sa), dtype=np.float64)
    b = np.asarray(rng.integers(-1, 2, sb), dtype=np.float64)
    assert_parity(ours, theirs, a, b)


def test_maximum_of_a_tensor_with_itself_gives_full_gradient():
    x = normal((3, 4), 0)
    assert_parity(lambda t: cr.maximum(t, t), lambda t: torch.maximum(t, t), x)
    assert_parity(lambda t: cr.minimum(t, t), lambda t: torch.minimum(t, t), x)


# ----- where --------------------------------------------------------------------------------------
@SETTINGS
@given(shapes=hnp.mutually_broadcastable_shapes(num_shapes=3, min_dims=0, max_dims=4, max_side=4), seed=SEEDS)
def test_where_broadcasting_parity(shapes, seed):
    sc, sx, sy = shapes.input_shapes
    cond = np.asarray(np.random.default_rng(seed).random(sc) < 0.5)
    assert_parity(cr.where, torch.where, cond, normal(sx, seed + 1), normal(sy, seed + 2))
    assert_parity(
        lambda c, x, y: x.where(c, y), lambda c, x, y: x.where(c, y), cond, normal(sx, seed + 1), normal(sy, seed + 2)
    )


def test_where_with_scalar_operand_and_float32():
    cond = np.array([[True, False, True], [False, False, True]])
    out = assert_parity(
        lambda c, x: cr.where(c, x, 0.0), lambda c, x: torch.where(c, x, 0.0), cond, normal((2, 3), 0, np.float32)
    )
    assert out.dtype == np.float32
    out = assert_parity(cr.where, torch.where, cond, normal((3,), 1, np.float32), normal((2, 1), 2, np.float32))
    assert out.dtype == np.float32


@pytest.mark.parametrize("x, y, dtype", [(1.0, 0.0, np.float32), (1, 0, np.int64), (2, 0.5, np.float32)])
def test_where_of_two_numbers_has_torch_dtype(x, y, dtype):
    cond = np.array([True, False, True])
    out = assert_parity(lambda c: cr.where(c, x, y), lambda c: torch.where(c, x, y), cond, grad=False)
    assert out.dtype == dtype


# ----- finite differences -------------------------------------------------------------------------
def _leaf(array):
    return cr.tensor(array, requires_grad=True)


def test_gradcheck_rational_and_power_composite():
    x, y = _leaf(away_from_zero((3, 1, 4), 0)), _leaf(positive((5, 4), 1))
    assert cr.gradcheck(lambda a, b: (a * b.exp() - a / (b**2 + 1)).sin() + 2.0 / a - b ** a.cos(), (x, y))


def test_gradcheck_kinked_composite_away_from_kinks():
    x = _leaf(np.array([[-1.3, -0.6, 0.45, 1.7], [0.9, -2.1, 0.15, -0.35]]))
    y = _leaf(np.array([0.2, -0.9, 1.1, -0.1]))
    lo, hi = _leaf(np.array([-1.0, -0.7, 0.0, -0.2])), _leaf(np.array([[1.0], [0.5]]))

    def f(a, b, low, high):
        return cr.clamp(a, -0.5, 0.5) * a.abs() + cr.maximum(a, b) * cr.minimum(a, b).cos() + cr.clamp(a, low, high)

    assert cr.gradcheck(f, (x, y, lo, hi))


def test_gradcheck_where_log_sqrt_composite():
    x, y = _leaf(positive((2, 3), 3)), _leaf(normal((3,), 4))
    cond = cr.tensor(np.array([True, False, True]))
    assert cr.gradcheck(lambda a, b: cr.where(cond, a.log() * b, a.sqrt() - b * b) ** 2 + (-a) ** 3, (x, y))


# ----- errors -------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "op",
    [lambda a, b: a + b, lambda a, b: a - b, lambda a, b: a * b, lambda a, b: a / b, cr.maximum, cr.minimum, cr.pow],
)
def test_binary_ops_reject_non_broadcastable_shapes(op):
    a, b = cr.tensor(normal((2, 3), 0)), cr.tensor(normal((4,), 1))
    with pytest.raises(ValueError, match=r"\(2, 3\).*\(4,\)"):
        op(a, b)


@pytest.mark.parametrize(
    "name, op",
    [
        ("add", cr.add),
        ("sub", cr.sub),
        ("mul", cr.mul),
        ("div", cr.div),
        ("maximum", cr.maximum),
        ("minimum", cr.minimum),
    ],
)
def test_broadcast_error_names_op_and_shapes(name, op):
    a, b = cr.tensor(normal((2, 3), 0), requires_grad=True), cr.tensor(normal((4,), 1))
    with pytest.raises(ValueError, match=rf"(?i){name}.*\(2, 3\).*\(4,\)"):
        op(a, b)


def test_where_broadcast_error_names_shapes():
    cond = cr.tensor(np.ones((2, 3), dtype=bool))
    with pytest.raises(ValueError, match=r"(?i)where.*\(2, 3\)"):
        cr.where(cond, cr.tensor(normal((4,), 0)), cr.tensor(normal((2, 3), 1)))


def test_where_rejects_non_bool_condition():
    with pytest.raises(TypeError, match=r"where.*float"):
        cr.where(cr.tensor([1.0, 0.0]), cr.tensor([1.0, 2.0]), cr.tensor([3.0, 4.0]))


def test_clamp_needs_a_bound():
    with pytest.raises(ValueError, match="clamp"):
        cr.clamp(cr.tensor([1.0, 2.0]))


def test_two_python_scalars_are_rejected():
    with pytest.raises(TypeError, match="add"):
        cr.add(1.0, 2.0)


def test_unsupported_operand_type_is_rejected():
    with pytest.raises(TypeError, match="str"):
        cr.tensor([1.0]) + "a"


# ----- division with rounding, remainders, binary math (issue #19) ------------------------------------
def off_multiples(shape, seed, dtype=np.float64):
    """Dividends that are not near a multiple of the divisors drawn by ``away_from_zero``' halves: no
    quotient sits on an integer, so floor/trunc agree with torch in float32 too."""
    rng = np.random.default_rng(seed)
    return np.asarray((rng.integers(-6, 6, shape) + rng.choice([0.15, 0.35, 0.65, 0.85], shape)) * 0.5, dtype=dtype)


def divisors(shape, seed, dtype=np.float64):
    rng = np.random.default_rng(seed)
    return np.asarray(rng.choice([-2.0, -1.0, -0.5, 0.5, 1.0, 2.0], shape), dtype=dtype)


MORE_BINARY = {
    "remainder": (cr.remainder, torch.remainder, off_multiples, divisors),
    "remainder_op": (lambda a, b: a % b, lambda a, b: a % b, off_multiples, divisors),
    "remainder_method": (lambda a, b: a.remainder(b), lambda a, b: a.remainder(b), off_multiples, divisors),
    "fmod": (cr.fmod, torch.fmod, off_multiples, divisors),
    "fmod_method": (lambda a, b: a.fmod(b), lambda a, b: a.fmod(b), off_multiples, divisors),
    "div_trunc": (lambda a, b: cr.div(a, b, rounding_mode="trunc"), lambda a, b: torch.div(a, b, rounding_mode="trunc"),
                  off_multiples, divisors),
    "div_floor": (lambda a, b: a.div(b, rounding_mode="floor"), lambda a, b: a.div(b, rounding_mode="floor"),
                  off_multiples, divisors),
    "true_divide": (cr.true_divide, torch.true_divide, normal, away_from_zero),
    "divide": (cr.divide, torch.divide, normal, away_from_zero),
    "multiply": (cr.multiply, torch.multiply, normal, normal),
    "subtract": (cr.subtract, torch.subtract, normal, normal),
    "copysign": (cr.copysign, torch.copysign, away_from_zero, normal),
    "copysign_method": (lambda a, b: a.copysign(b), lambda a, b: a.copysign(b), away_from_zero, normal),
    "hypot": (cr.hypot, torch.hypot, normal, normal),
    "hypot_method": (lambda a, b: a.hypot(b), lambda a, b: a.hypot(b), normal, normal),
    "atan2": (cr.atan2, torch.atan2, normal, normal),
    "arctan2": (cr.arctan2, torch.arctan2, normal, normal),
    "atan2_method": (lambda a, b: a.atan2(b), lambda a, b: a.atan2(b), normal, normal),
    "logaddexp": (cr.logaddexp, torch.logaddexp, normal, normal),
    "logaddexp2": (cr.logaddexp2, torch.logaddexp2, normal, normal),
    "logaddexp_method": (lambda a, b: a.logaddexp(b), lambda a, b: a.logaddexp(b), normal, normal),
    "float_power": (cr.float_power, torch.float_power, positive, normal),
    "float_power_method": (lambda a, b: a.float_power(b), lambda a, b: a.float_power(b), positive, normal),
    "lerp_tensor_weight": (lambda a, b: cr.lerp(a, b, b * 0.3), lambda a, b: torch.lerp(a, b, b * 0.3), normal, normal),
    "lerp_scalar_weight": (lambda a, b: a.lerp(b, 0.7), lambda a, b: a.lerp(b, 0.7), normal, normal),
    "addcmul": (lambda a, b: cr.addcmul(a, b, a, value=0.5), lambda a, b: torch.addcmul(a, b, a, value=0.5),
                normal, normal),
    "addcdiv": (lambda a, b: a.addcdiv(a, b, value=-2), lambda a, b: a.addcdiv(a, b, value=-2), normal, away_from_zero),
    "clamp_min": (cr.clamp_min, torch.clamp_min, normal, normal),
    "clamp_max_method": (lambda a, b: a.clamp_max(b), lambda a, b: a.clamp_max(b), normal, normal),
}


@pytest.mark.parametrize("name", sorted(MORE_BINARY))
@settings(max_examples=10, deadline=None)
@given(shapes=PAIRS, seed=SEEDS)
def test_more_binary_ops_broadcasting_parity(name, shapes, seed):
    ours, theirs, make_a, make_b = MORE_BINARY[name]
    sa, sb = shapes.input_shapes
    if name.startswith(("lerp", "addc", "clamp")):  # the first operand takes the broadcast shape, as torch needs
        sa = shapes.result_shape
    assert_parity(ours, theirs, make_a(sa, seed), make_b(sb, seed + 1))


@pytest.mark.parametrize("name", sorted(MORE_BINARY))
def test_more_binary_ops_float32(name):
    ours, theirs, make_a, make_b = MORE_BINARY[name]
    out = assert_parity(ours, theirs, make_a((3, 4), 1, np.float32), make_b((4,), 2, np.float32))
    assert out.dtype == (np.float64 if "float_power" in name else np.float32)


SPECIAL_A = np.array([-7.5, 7.5, -7.0, 7.0, 0.0, 3.0, 0.0, -0.0, 1.0, np.inf, np.nan, -2.0])
SPECIAL_B = np.array([2.0, -2.0, 2.0, -2.0, 2.0, 0.0, 0.0, 1.0, -0.0, 1.0, 1.0, 2.0])


@pytest.mark.parametrize("name", ["remainder", "fmod", "div_trunc", "div_floor", "copysign", "hypot", "atan2",
                                  "logaddexp", "logaddexp2", "float_power"])
def test_binary_gradients_at_special_points_equal_torch(name):
    """Exact multiples, zero divisors, the origin, ±0, inf and NaN: torch's values, NaN where torch's."""
    ours, theirs = MORE_BINARY[name][:2]
    with np.errstate(all="ignore"):
        assert_parity(ours, theirs, SPECIAL_A.copy(), SPECIAL_B.copy())


@pytest.mark.parametrize("op", ["floor_divide", "remainder", "fmod", "div_trunc", "div_floor", "true_divide",
                                "copysign", "atan2", "hypot", "logaddexp", "float_power"])
@pytest.mark.parametrize("b", ["int_tensor", 2, -3, 2.5])
def test_integer_operands_give_torch_dtype(op, b):
    fns = {"div_trunc": lambda x, y: x.div(y, rounding_mode="trunc"), "div_floor": lambda x, y: x.div(y, rounding_mode="floor")}
    ours = fns.get(op, getattr(cr, op, None))
    theirs = fns.get(op, getattr(torch, op, None))
    a = np.array([-7, 7, 0, 5, -5])
    other = np.array([2, -2, 3, -3, 4]) if b == "int_tensor" else b
    try:
        expected = theirs(torch.tensor(a), torch.tensor(other) if b == "int_tensor" else other)
    except (RuntimeError, TypeError, NotImplementedError):  # torch refuses; chainrule computes in the default float
        return
    out = assert_parity(ours, theirs, a, other, grad=False)
    assert out.dtype == expected.numpy().dtype


def test_floor_divide_operator_and_reflected_operators():
    a = np.array([-7.5, 7.5, -7.0, 0.0, 3.25])
    for ours, theirs in [(lambda t: t // 2, lambda t: t // 2), (lambda t: 5 // t, lambda t: 5 // t),
                         (lambda t: 5.5 % t, lambda t: 5.5 % t), (lambda t: t % -2, lambda t: t % -2),
                         (lambda t: cr.floor_divide(t, -2), lambda t: torch.floor_divide(t, -2)),
                         (lambda t: t.floor_divide(3), lambda t: t.floor_divide(3))]:
        assert_parity(ours, theirs, a[a != 0] if "5" in repr(ours.__code__.co_consts) else a, grad=False)
    out = cr.tensor([5, -5]) // cr.tensor([2, 2])
    assert out.tolist() == [2, -3] and out.dtype == np.int64
    assert (7 % cr.tensor([3, -3])).tolist() == [1, -2]


def test_floor_divide_is_outside_the_graph_where_torch_has_no_derivative():
    x = cr.tensor([1.5, -2.5], requires_grad=True)
    assert not (x // 2).requires_grad
    y = cr.div(x, 2, rounding_mode="floor")  # the same value with a zero gradient, as torch
    y.sum().backward()
    assert y.requires_grad and x.grad.tolist() == [0.0, 0.0]


@pytest.mark.parametrize("op", [cr.floor_divide, cr.remainder, cr.fmod, lambda a, b: cr.div(a, b, rounding_mode="trunc")])
def test_integer_division_by_zero_raises_like_torch(op):
    with pytest.raises(ZeroDivisionError, match="integer division by zero"):
        op(cr.tensor([1, 2]), cr.tensor([1, 0]))
    with pytest.raises(ZeroDivisionError, match="integer division by zero"):
        op(cr.tensor([1, 2]), 0)


def test_div_rounding_mode_error_names_the_choices():
    with pytest.raises(ValueError, match=r"div: rounding_mode must be one of None, 'trunc' or 'floor', got 'bad'"):
        cr.div(cr.tensor([1.0]), 2, rounding_mode="bad")


def test_large_integer_trunc_division_is_exact():
    a = np.array([2**62 + 1, -(2**62) - 1, -7, 7], dtype=np.int64)
    b = np.array([3, 3, 2, -2], dtype=np.int64)
    assert_parity(lambda x, y: cr.div(x, y, rounding_mode="trunc"), lambda x, y: torch.div(x, y, rounding_mode="trunc"),
                  a, b, grad=False)


@pytest.mark.parametrize("value", [1, 2, 0.5])
def test_addcmul_integer_tensors_truncate_a_float_value_like_torch(value):
    i, j = np.array([-7, 7, 0]), np.array([2, -2, 3])
    out = assert_parity(lambda a, b: cr.addcmul(a, a, b, value=value), lambda a, b: torch.addcmul(a, a, b, value=value),
                        i, j, grad=False)
    assert out.dtype == np.int64


def test_addcdiv_refuses_integer_division_and_lerp_integer_tensors():
    with pytest.raises(RuntimeError, match=r"addcdiv: integer division of tensor1 \(int64\) by tensor2 \(int64\)"):
        cr.addcdiv(cr.tensor([1.0]), cr.tensor([1]), cr.tensor([2]))
    with pytest.raises(TypeError, match=r"lerp: needs floating-point input and end, got int64 and int64"):
        cr.lerp(cr.tensor([1]), cr.tensor([2]), 0.5)
    with pytest.raises(TypeError, match=r"lerp: input and end must be Tensors, got Tensor and float"):
        cr.lerp(cr.tensor([1.0]), 2.0, 0.5)


def test_lerp_weight_gradient_and_float_power_of_numbers():
    assert_parity(cr.lerp, torch.lerp, normal((2, 3), 0), normal((2, 3), 1), normal((3,), 2))
    out = assert_parity(lambda t: cr.float_power(2, t), lambda t: torch.float_power(2, t), normal((3,), 3, np.float32))
    assert out.dtype == np.float64


# ----- bitwise, shifts and logical ops -----------------------------------------------------------------
INTS = np.array([-8, -3, 0, 5, 12])
SHIFTS = np.array([0, 1, 2, 3, 4])


@pytest.mark.parametrize("ours, theirs", [
    (cr.bitwise_and, torch.bitwise_and), (cr.bitwise_or, torch.bitwise_or), (cr.bitwise_xor, torch.bitwise_xor),
    (cr.bitwise_left_shift, torch.bitwise_left_shift), (cr.bitwise_right_shift, torch.bitwise_right_shift),
    (lambda a, b: a << b, lambda a, b: a << b), (lambda a, b: a >> b, lambda a, b: a >> b),
    (lambda a, b: a.bitwise_left_shift(b), lambda a, b: a.bitwise_left_shift(b)),
    (lambda a, b: a.bitwise_and(b), lambda a, b: a.bitwise_and(b)),
])
@pytest.mark.parametrize("dtype", [np.int64, np.int32, np.int8, np.uint8])
def test_bitwise_ops_on_integer_tensors(ours, theirs, dtype):
    out = assert_parity(ours, theirs, INTS.astype(dtype) if dtype != np.uint8 else np.abs(INTS).astype(dtype),
                        SHIFTS.astype(dtype), grad=False)
    assert out.dtype == dtype


@pytest.mark.parametrize("fn", [
    lambda t: 3 & t, lambda t: 6 | t, lambda t: 5 ^ t, lambda t: 1 << t, lambda t: 100 >> t, lambda t: t << 2,
    lambda t: t >> 1, lambda t: t & 1, lambda t: ~t, lambda t: t.bitwise_not(), lambda t: t.bitwise_xor(3),
])
@pytest.mark.parametrize("dtype", [np.int64, np.int8])
def test_reflected_bitwise_operators_and_python_ints(fn, dtype):
    out = assert_parity(fn, fn, SHIFTS.astype(dtype), grad=False)
    assert out.dtype == dtype


def test_bitwise_of_bools_and_bitwise_function_with_number_first():
    a, b = np.array([True, False, True, False]), np.array([True, True, False, False])
    for ours, theirs in [(cr.bitwise_and, torch.bitwise_and), (cr.bitwise_xor, torch.bitwise_xor),
                         (lambda x, y: True & x, lambda x, y: True & x)]:
        assert assert_parity(ours, theirs, a, b, grad=False).dtype == np.bool_
    assert_parity(lambda x: cr.bitwise_and(1, x), lambda x: torch.bitwise_and(1, x), INTS, grad=False)
    assert_parity(lambda x: cr.bitwise_left_shift(2, x), lambda x: torch.bitwise_left_shift(2, x), SHIFTS, grad=False)
    assert_parity(cr.bitwise_not, torch.bitwise_not, a, grad=False)


@pytest.mark.parametrize("name", ["logical_and", "logical_or", "logical_xor"])
@pytest.mark.parametrize("da, db", [(np.float64, np.int64), (np.bool_, np.bool_), (np.int64, np.float32)])
def test_logical_ops_give_bool(name, da, db):
    a, b = np.array([0, 1, 2, 0, -1]).astype(da), np.array([[0], [3]]).astype(db)
    out = assert_parity(getattr(cr, name), getattr(torch, name), a, b, grad=False)
    assert out.dtype == np.bool_
    assert_parity(lambda x, y: getattr(x, name)(y), lambda x, y: getattr(x, name)(y), a, b, grad=False)
    assert_parity(cr.logical_not, torch.logical_not, a, grad=False)
    assert_parity(lambda x: x.logical_not(), lambda x: x.logical_not(), a, grad=False)


def test_bitwise_and_logical_errors_name_the_op():
    with pytest.raises(TypeError, match=r"bitwise_left_shift: needs integer or bool operands, got float64 and int64"):
        cr.tensor(np.array([1.0])) << cr.tensor([1])
    with pytest.raises(TypeError, match=r"bitwise_and: needs integer or bool operands, got float"):
        cr.bitwise_and(cr.tensor([1]), 1.5)
    with pytest.raises(TypeError, match=r"bitwise_not: needs an integer or bool tensor, got float64"):
        cr.bitwise_not(cr.tensor(np.array([1.0])))
    with pytest.raises(ValueError, match=r"bitwise_or: shapes \(2,\) and \(3,\) are not broadcastable"):
        cr.bitwise_or(cr.tensor([1, 2]), cr.tensor([1, 2, 3]))
    with pytest.raises(ValueError, match=r"logical_and: shapes \(2,\) and \(3,\) are not broadcastable"):
        cr.logical_and(cr.tensor([1, 2]), cr.tensor([1, 2, 3]))
    with pytest.raises(TypeError, match=r"logical_not: input must be a Tensor, got int"):
        cr.logical_not(1)
    with pytest.raises(TypeError, match=r"remainder: at least one operand must be a Tensor, got int and int"):
        cr.remainder(5, 2)


def test_gradcheck_binary_math_composite():
    x, y = _leaf(away_from_zero((2, 3), 5)), _leaf(away_from_zero((3,), 6))
    assert cr.gradcheck(lambda a, b: cr.hypot(a, b) * cr.atan2(a, b) + cr.logaddexp(a, b) * cr.copysign(a, b)
                        + cr.remainder(a, b + 3.1) + cr.fmod(a * 1.3, b) + cr.lerp(a, b, b.abs() / 3)
                        + cr.addcdiv(a, a, b, value=0.5) + cr.float_power(a.abs(), b) + cr.logaddexp2(a, b), (x, y))
