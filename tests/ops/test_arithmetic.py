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
