"""Second and third derivatives of the arithmetic ops equal torch's (float64)."""
import numpy as np
import pytest
import torch

import chainrule as cr
from tests.higher.check import assert_higher_order


def draw(shape, seed=0, low=-2.0, high=2.0):
    return np.random.default_rng(seed).uniform(low, high, shape)


def positive(shape, seed=0):
    return draw(shape, seed, 0.3, 2.0)


BINARY = {
    "add": lambda a, b: a + b, "sub": lambda a, b: a - b, "mul": lambda a, b: a * b,
    "div": lambda a, b: a / b, "pow": lambda a, b: a ** b,
}
SHAPES = [((3,), (3,)), ((2, 3), (3,)), ((2, 1, 3), (4, 1)), ((), (2, 2))]


@pytest.mark.parametrize("name", BINARY)
@pytest.mark.parametrize("shapes", SHAPES)
@pytest.mark.parametrize("order", [2, 3])
def test_binary(name, shapes, order):
    a, b = positive(shapes[0], 1), positive(shapes[1], 2)
    f = BINARY[name]
    assert_higher_order(f, f, a, b, order=order)


UNARY = {
    "exp": ("exp", draw), "log": ("log", positive), "sqrt": ("sqrt", positive), "sin": ("sin", draw),
    "cos": ("cos", draw), "neg": ("neg", draw), "abs": ("abs", draw),
}


@pytest.mark.parametrize("name", UNARY)
@pytest.mark.parametrize("order", [2, 3])
def test_unary(name, order):
    method, sample = UNARY[name]
    assert_higher_order(lambda t: getattr(t, method)(), lambda t: getattr(t, method)(), sample((2, 3), 3), order=order)


@pytest.mark.parametrize("order", [2, 3])
def test_binary_math(order):
    a, b = draw((2, 3), 4), draw((3,), 5)
    for f in (lambda x, y: x.hypot(y), lambda x, y: x.atan2(y), lambda x, y: x.logaddexp(y),
              lambda x, y: x.logaddexp2(y), lambda x, y: x.remainder(y) * y, lambda x, y: x.fmod(y) * x,
              lambda x, y: x.copysign(y) * x, lambda x, y: x.maximum(y) ** 2, lambda x, y: x.minimum(y) ** 2):
        assert_higher_order(f, f, a, b, order=order)


def test_clamp_where():
    x, lo, hi = draw((3, 4), 6), draw((4,), 7, -1, 0), draw((4,), 8, 0, 1)
    assert_higher_order(lambda t, a, b: t.clamp(a, b) ** 3, lambda t, a, b: t.clamp(a, b) ** 3, x, lo, hi, order=3)
    assert_higher_order(lambda t: t.clamp(-0.5, 0.5) ** 3, lambda t: t.clamp(-0.5, 0.5) ** 3, x, order=3)
    cond = draw((3, 4), 9) > 0
    f_cr = lambda a, b: cr.where(cr.tensor(cond), a * a, b ** 3)
    f_t = lambda a, b: torch.where(torch.tensor(cond), a * a, b ** 3)
    assert_higher_order(f_cr, f_t, x, draw((4,), 10), order=3)


def test_pow_at_zero_base():
    """0 ** b: the base's derivatives equal torch's; the exponent's gradient is 0 at a = 0, b ≥ 0, and so is
    its derivative — finite where torch's differentiated ``masked_fill`` of ln 0 gives NaN (chainrule's choice)."""
    a = np.array([0.0, 1.5, 0.0, 2.0])
    b = np.array([2.0, 3.0, 0.0, 1.5])
    assert_higher_order(lambda x, y: x ** y, lambda x, y: x ** y, a[[0, 1, 3]], b[[0, 1, 3]], order=3, wrt=[0])
    x = cr.tensor(a, requires_grad=True)  # x ** 0 = 1: every derivative 0, also at x = 0 (torch: NaN from 2nd on)
    (g,) = cr.autograd.grad((x ** cr.tensor(b)).sum(), x, create_graph=True)
    (h,) = cr.autograd.grad(g.sum(), x)
    assert g.data[2] == 0 and h.data[2] == 0
    x, y = cr.tensor(a, requires_grad=True), cr.tensor(b, requires_grad=True)
    (gy,) = cr.autograd.grad((x ** y).sum(), y, create_graph=True)
    np.testing.assert_array_equal(gy.data[[0, 2]], 0.0)
    gxy = cr.autograd.grad(gy.sum(), [x, y])
    assert all(np.all(np.isfinite(g.data)) for g in gxy)


def test_reductions_sum_mean():
    x = draw((2, 3, 4), 11)
    for f in (lambda t: (t ** 3).sum(), lambda t: (t ** 3).sum(dim=1), lambda t: (t ** 3).mean((0, 2), keepdim=True),
              lambda t: t.sum(-1).exp()):
        assert_higher_order(f, f, x, order=3)


def test_pow_with_a_number_keeps_float64():
    """A Python number as base or exponent: the recorded backward stays in float64 (no float32 constant)."""
    x = draw((5,), 12)
    assert_higher_order(lambda t: 2.5 ** t, lambda t: 2.5 ** t, x, order=3, rtol=1e-12)
    assert_higher_order(lambda t: t ** (1 / 3), lambda t: t ** (1 / 3), np.abs(x) + 0.5, order=3, rtol=1e-12)
