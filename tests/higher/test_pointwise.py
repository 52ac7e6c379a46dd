"""Second and third derivatives of the elementwise math of ops/pointwise.py equal torch's (float64).

Inputs are drawn inside each function's domain; the step functions (floor, ceil, trunc, sign, round) away
from their jumps, where both sides' derivative is 0.
"""
import math

import numpy as np
import pytest
import torch

import chainrule as cr
from tests.higher.check import assert_higher_order


def draw(shape, seed=0, low=-2.0, high=2.0):
    return np.random.default_rng(seed).uniform(low, high, shape)


def inside(low, high):
    return lambda shape, seed: draw(shape, seed, low, high)


UNARY = {  # method: the interval its inputs are drawn from
    "tan": (-1.2, 1.2), "asin": (-0.9, 0.9), "acos": (-0.9, 0.9), "atan": (-3, 3), "sinh": (-2, 2),
    "cosh": (-2, 2), "asinh": (-3, 3), "acosh": (1.2, 3), "atanh": (-0.9, 0.9), "rsqrt": (0.3, 3),
    "reciprocal": (0.3, 3), "square": (-2, 2), "log2": (0.3, 3), "log10": (0.3, 3), "log1p": (-0.7, 3),
    "expm1": (-2, 2), "exp2": (-2, 2), "erf": (-2, 2), "erfc": (-2, 2), "erfinv": (-0.95, 0.95),
    "sinc": (-2.5, 2.5), "frac": (-3, 3), "logit": (0.05, 0.95),
}
SHAPES = [(), (5,), (2, 3), (2, 1, 3)]


@pytest.mark.parametrize("name", UNARY)
@pytest.mark.parametrize("shape", SHAPES)
def test_unary(name, shape):
    x = draw(shape, len(shape), *UNARY[name])
    assert_higher_order(lambda t: getattr(t, name)(), lambda t: getattr(t, name)(), x, order=3)


@pytest.mark.parametrize("name", UNARY)
def test_unary_composed(name):
    """f(x)·x²: the chain and product rules around each op, to the third order."""
    x = draw((3, 4), 7, *UNARY[name])
    f = lambda t: getattr(t, name)() * t * t
    assert_higher_order(f, f, x, order=3)


@pytest.mark.parametrize("name", ["floor", "ceil", "trunc", "sign", "round"])
def test_steps(name):
    """A step function's derivative is 0 at every order; composed with x³ the rest of the chain still
    counts (inputs away from the jumps)."""
    x = draw((3, 4), 8, -3, 3)
    x = np.where(np.abs(x - np.round(x)) < 0.05, x + 0.1, x)
    for f in (lambda t: getattr(t, name)(), lambda t: getattr(t, name)() * t ** 3 + t ** 2):
        assert_higher_order(f, f, x, order=3)


def test_round_decimals():
    x = draw((2, 5), 9) + 0.003
    f = lambda t: t.round(decimals=1) * t ** 3
    assert_higher_order(f, f, x, order=3)


def test_sinc_at_zero():
    """At a = 0 the recorded derivative is −π²a/3 (the Taylor term), so sinc''(0) = −π²/3 and sinc'''(0) = 0:
    the true values (torch's masked formula gives 0 for the second)."""
    x = cr.tensor(np.array([0.0, 0.5]), requires_grad=True)
    (g1,) = cr.autograd.grad(x.sinc().sum(), x, create_graph=True)
    (g2,) = cr.autograd.grad(g1.sum(), x, create_graph=True)
    (g3,) = cr.autograd.grad(g2.sum(), x)
    t = torch.tensor([0.5], dtype=torch.float64, requires_grad=True)
    (t1,) = torch.autograd.grad(t.sinc().sum(), t, create_graph=True)
    (t2,) = torch.autograd.grad(t1.sum(), t, create_graph=True)
    (t3,) = torch.autograd.grad(t2.sum(), t)
    np.testing.assert_allclose(g1.data, [0.0, t1.item()], rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(g2.data, [-math.pi**2 / 3, t2.item()], rtol=1e-12)
    np.testing.assert_allclose(g3.data, [0.0, t3.item()], rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("eps", [None, 0.1, 0.3])
def test_logit_eps(eps):
    """With eps the input is clamped: the derivative is 0 outside [eps, 1 − eps] at every order (as torch);
    inputs away from the clamp's bounds."""
    x = np.array([[0.02, 0.2, 0.45, 0.6], [0.85, 0.97, 0.35, 0.5]])
    f_cr = lambda t: t.logit(eps) * t
    f_t = lambda t: torch.logit(t, eps) * t
    assert_higher_order(f_cr, f_t, x, order=3)


@pytest.mark.parametrize("shapes", [((2, 3), (2, 3)), ((2, 3), (3,)), ((4, 1), (1, 3)), ((), (2,))])
def test_xlogy(shapes):
    x, y = draw(shapes[0], 10), draw(shapes[1], 11, 0.3, 3)
    assert_higher_order(lambda a, b: a.xlogy(b), torch.xlogy, x, y, order=3)
    f_cr = lambda a, b: a.xlogy(b) * a
    f_t = lambda a, b: torch.xlogy(a, b) * a
    assert_higher_order(f_cr, f_t, x, y, order=3)


def test_xlogy_at_zero():
    """x = 0: the value is 0 even where y ≤ 0, and so is x's gradient there (torch's rule); y's is g·x/y."""
    x = np.array([0.0, 1.5, 0.0, -0.5])
    y = np.array([-1.0, 2.0, 0.5, 0.7])
    f_cr = lambda a, b: a.xlogy(b) * (a + b)
    f_t = lambda a, b: torch.xlogy(a, b) * (a + b)
    assert_higher_order(f_cr, f_t, x, y, order=3)


def test_nan_to_num():
    """Non-finite entries are replaced by constants: their derivative is 0 at every order."""
    x = np.array([[0.5, np.nan, -1.2], [np.inf, 0.3, -np.inf]])
    f = lambda t: t.nan_to_num(nan=1.0, posinf=2.0, neginf=-2.0) ** 3
    assert_higher_order(f, f, x, order=3)


def test_composed_elsewhere():
    """deg2rad, rad2deg, negative, positive: written with arithmetic ops."""
    x = draw((2, 3), 12)
    for f in (lambda t: t.deg2rad() ** 3, lambda t: t.rad2deg() ** 3, lambda t: t.negative() ** 3,
              lambda t: t.positive() ** 3):
        assert_higher_order(f, f, x, order=3)
