"""Second and third derivatives of the activations (ops/activation.py, the fast ReLU kernel) and of dropout equal
torch's (float64).

The piecewise functions are drawn away from their kinks (x = 0 for ReLU and friends, ±3 for the hard ones, the
bounds of hardtanh, ±λ for the shrinks, the threshold), where torch and chainrule may legitimately take different
one-sided values — except x = 0 for ReLU, where both take 0.
"""
import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import chainrule as cr
import chainrule.nn.functional as F
from chainrule import runtime
from tests.higher.check import assert_higher_order


def draw(shape, seed=0, low=-4.0, high=4.0, kinks=()):
    """Uniform draws, each moved at least 0.05 away from every kink."""
    x = np.random.default_rng(seed).uniform(low, high, shape)
    for k in kinks:
        x = np.where(np.abs(x - k) < 0.05, k + 0.1, x)
    return x


SHAPES = [(), (7,), (2, 3, 4)]

# name: (chainrule's, torch's, kinks of f' — drawn away from)
ACTIVATIONS = {
    "sigmoid": (lambda t: t.sigmoid(), torch.sigmoid, ()),
    "tanh": (lambda t: t.tanh(), torch.tanh, ()),
    "relu": (F.relu, TF.relu, (0,)),
    "leaky_relu": (F.leaky_relu, TF.leaky_relu, (0,)),
    "leaky_relu_0.2": (lambda t: F.leaky_relu(t, 0.2), lambda t: TF.leaky_relu(t, 0.2), (0,)),
    "leaky_relu_-0.5": (lambda t: F.leaky_relu(t, -0.5), lambda t: TF.leaky_relu(t, -0.5), (0,)),
    "rrelu_eval": (lambda t: F.rrelu(t, 0.1, 0.3), lambda t: TF.rrelu(t, 0.1, 0.3), (0,)),
    "elu": (F.elu, TF.elu, (0,)),
    "elu_0.5": (lambda t: F.elu(t, 0.5), lambda t: TF.elu(t, 0.5), (0,)),
    "celu": (F.celu, TF.celu, (0,)),
    "celu_2": (lambda t: F.celu(t, 2.0), lambda t: TF.celu(t, 2.0), (0,)),
    "selu": (F.selu, TF.selu, (0,)),
    "softplus": (F.softplus, TF.softplus, ()),
    "softplus_beta2": (lambda t: F.softplus(t, beta=2.0), lambda t: TF.softplus(t, beta=2.0), ()),
    "softplus_threshold1": (lambda t: F.softplus(t, 0.5, 1.0), lambda t: TF.softplus(t, 0.5, 1.0), (2,)),
    "gelu": (F.gelu, TF.gelu, ()),
    "gelu_tanh": (lambda t: F.gelu(t, approximate="tanh"), lambda t: TF.gelu(t, approximate="tanh"), ()),
    "silu": (F.silu, TF.silu, ()),
    "mish": (F.mish, TF.mish, ()),
    "hardswish": (F.hardswish, TF.hardswish, (-3, 3)),
    # torch has no derivative of hardsigmoid's backward: its formula instead
    "hardsigmoid": (F.hardsigmoid, lambda t: (t / 6 + 0.5).clamp(0, 1), (-3, 3)),
    "relu6": (F.relu6, TF.relu6, (0, 6)),
    "hardtanh": (lambda t: F.hardtanh(t, -2.0, 1.5), lambda t: TF.hardtanh(t, -2.0, 1.5), (-2, 1.5)),
    "softsign": (F.softsign, TF.softsign, (0,)),
    "logsigmoid": (F.logsigmoid, TF.logsigmoid, ()),
    "threshold": (lambda t: F.threshold(t, 0.5, -1.0), lambda t: TF.threshold(t, 0.5, -1.0), (0.5,)),
    "tanhshrink": (F.tanhshrink, TF.tanhshrink, ()),
    "softshrink": (lambda t: F.softshrink(t, 0.7), lambda t: TF.softshrink(t, 0.7), (-0.7, 0.7)),
    "hardshrink": (lambda t: F.hardshrink(t, 0.7), lambda t: TF.hardshrink(t, 0.7), (-0.7, 0.7)),
}


@pytest.mark.parametrize("name", ACTIVATIONS)
@pytest.mark.parametrize("shape", SHAPES)
def test_activation(name, shape):
    f_cr, f_t, kinks = ACTIVATIONS[name]
    assert_higher_order(f_cr, f_t, draw(shape, len(shape), kinks=kinks), order=3)


@pytest.mark.parametrize("name", ACTIVATIONS)
def test_activation_composed(name):
    """f(x)³ + f(x)·x: products of f' and f'' to the third order (for the piecewise-linear ones the
    only nonzero higher derivatives)."""
    f_cr, f_t, kinks = ACTIVATIONS[name]
    x = draw((3, 5), 11, kinks=kinks)
    assert_higher_order(lambda t: f_cr(t) ** 3 + f_cr(t) * t, lambda t: f_t(t) ** 3 + f_t(t) * t, x, order=3)


@pytest.mark.parametrize("reference", [True, False])
def test_relu_at_zero_and_fast_kernel(reference, monkeypatch):
    """ReLU's derivative at 0 is 0 at every order in both; the fast kernel inherits the reference's."""
    monkeypatch.setattr(runtime, "reference", reference)
    x = np.array([[0.0, -1.5, 2.0, 0.0], [0.7, -0.2, 0.0, 3.1]])
    assert_higher_order(lambda t: F.relu(t) ** 3 * t, lambda t: TF.relu(t) ** 3 * t, x, order=3)
    big = draw((300, 300), 12, kinks=(0,))  # more elements than the kernel's zeros block: the threaded path
    assert_higher_order(lambda t: F.relu(t) ** 2, lambda t: TF.relu(t) ** 2, big, order=2)


@pytest.mark.parametrize("shapes", [((2, 3, 4), (1,)), ((2, 3, 4), (3,)), ((5,), (1,)), ((), (1,)), ((2, 3), (3,))])
def test_prelu(shapes):
    """Both the input's and the slope's derivatives, one slope or one per channel."""
    x, w = draw(shapes[0], 13, kinks=(0,)), draw(shapes[1], 14, 0.05, 0.5)
    for f_cr, f_t in ((F.prelu, TF.prelu), (lambda a, b: F.prelu(a, b) ** 3, lambda a, b: TF.prelu(a, b) ** 3)):
        assert_higher_order(f_cr, f_t, x, w, order=3)


@pytest.mark.parametrize("shape, dim", [((5,), 0), ((3, 4), 0), ((3, 4), 1), ((2, 3, 4), -1), ((2, 3, 4), 1), ((), 0)])
def test_softmax_family(shape, dim):
    x = draw(shape, 15, -2, 2)
    for f_cr, f_t in ((lambda t: F.softmax(t, dim), lambda t: TF.softmax(t, dim)),
                      (lambda t: F.log_softmax(t, dim), lambda t: TF.log_softmax(t, dim)),
                      (lambda t: F.softmin(t, dim), lambda t: TF.softmin(t, dim)),
                      (lambda t: F.softmax(t * t, dim) * t, lambda t: TF.softmax(t * t, dim) * t),
                      (lambda t: F.log_softmax(t, dim) * t * t, lambda t: TF.log_softmax(t, dim) * t * t)):
        assert_higher_order(f_cr, f_t, x, order=3)


def test_softmax_large_logits():
    """Logits in the hundreds: recomputing softmax in the backward stays stable."""
    x = draw((3, 4), 16, -300, 300)
    assert_higher_order(lambda t: F.log_softmax(t, 1) * t, lambda t: TF.log_softmax(t, 1) * t, x, order=3)


@pytest.mark.parametrize("shape, dim", [((4,), 0), ((3, 6), 1), ((4, 3), 0), ((2, 4, 3), -2)])
def test_glu(shape, dim):
    x = draw(shape, 17, -2, 2)
    assert_higher_order(lambda t: F.glu(t, dim), lambda t: TF.glu(t, dim), x, order=3)
    assert_higher_order(lambda t: F.glu(t, dim) ** 2, lambda t: TF.glu(t, dim) ** 2, x, order=3)


@pytest.mark.parametrize("op", ["dropout", "dropout2d", "alpha_dropout", "feature_alpha_dropout"])
def test_dropout(op):
    """The mask is a constant. For one seed the op is affine in x, out = x·scale + shift: scale and shift are read
    from two runs (x and 2x), and torch differentiates the same affine map; f(x) = dropout(x)·x³ to order 3."""
    x = draw((2, 3, 4, 5), 18, 0.5, 2)

    def ours(t):
        cr.manual_seed(0)
        return getattr(F, op)(t, 0.4, training=True)

    once, twice = ours(cr.tensor(x)).data, ours(cr.tensor(2 * x)).data
    scale = (twice - once) / x
    shift = once - x * scale
    assert np.any(scale == 0) and np.any(scale != 0)
    assert_higher_order(lambda t: ours(t) * t ** 3, lambda t: (t * torch.tensor(scale) + torch.tensor(shift)) * t ** 3,
                        x, order=3, rtol=1e-8)


def test_rrelu_training():
    """Random slopes drawn in training are constants of the graph: torch differentiates x·slope with the same
    slopes (read back from chainrule's output)."""
    x = draw((3, 6), 19, kinks=(0,))

    def ours(t):
        cr.manual_seed(1)
        return F.rrelu(t, 0.1, 0.4, training=True)

    slope = ours(cr.tensor(x)).data / x
    assert np.all((slope == 1) | ((slope >= 0.1) & (slope <= 0.4)))
    assert_higher_order(lambda t: ours(t) * t ** 3, lambda t: t * torch.tensor(slope) * t ** 3, x, order=3, rtol=1e-8)
