"""gradgradcheck: the recorded gradient of composites passes the finite-difference check of its derivative; a
Function whose backward is right to first order but wrong when differentiated again fails it, naming the input."""
import numpy as np
import pytest

import chainrule as cr
import chainrule.nn.functional as F


def draw(shape, seed, requires_grad=True):
    return cr.tensor(np.random.default_rng(seed).standard_normal(shape), requires_grad=requires_grad)


COMPOSITES = {
    "polynomial": (lambda x, y: (x ** 3 * y - x / (y * y + 1)).sum(), [(3,), (3,)]),
    "exp-sin": (lambda x, y: (x.sin() * y.exp()).mean(0), [(2, 3), (3,)]),
    "broadcast": (lambda x, y: (x - y).reshape(-1) ** 2, [(2, 1, 3), (4, 1)]),
    "tanh-mlp": (lambda x, w: F.linear(F.linear(x, w).tanh(), w.T).sum(-1), [(2, 3), (4, 3)]),
    "softmax-ce": (lambda x, w: F.cross_entropy(x @ w, cr.tensor([0, 2])), [(2, 3), (3, 3)]),
    "conv-relu": (lambda x, w: F.conv2d(x, w, padding=1).relu().sum((2, 3)), [(1, 1, 3, 3), (2, 1, 2, 2)]),
    "several outputs": (lambda x, y: (x * y, (x + y).exp().sum()), [(2,), (2,)]),
}


@pytest.mark.parametrize("name", COMPOSITES)
def test_composites_pass(name):
    f, shapes = COMPOSITES[name]
    inputs = [draw(s, i) for i, s in enumerate(shapes)]
    assert cr.gradgradcheck(f, inputs)
    assert all(x.grad is None for x in inputs)  # the check works on copies


def test_given_grad_outputs_and_inputs_that_do_not_require_grad():
    x, c = draw((3,), 0), draw((3,), 1, requires_grad=False)
    assert cr.gradgradcheck(lambda a, b: a.exp() * b, [x, c], grad_outputs=cr.tensor(np.arange(3.0)))
    assert cr.gradgradcheck(lambda a, k: (a ** k).sum(), [x, 3])


class CubeWithConstantSlope(cr.autograd.Function):
    """x³ whose backward is right to first order, but computes 3x² from x's value: a constant to a second sweep,
    so the second derivative comes out 0 instead of 6x."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x ** 3

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * cr.tensor(3 * x.data ** 2)


class CubeWithDetachedGradient(cr.autograd.Function):
    """x³ whose backward is right to first order and in x, but cuts the incoming gradient from the graph: the
    derivative with respect to the grad_output (what a Jacobian-vector product by the double-vjp trick needs) is 0."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x ** 3

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g.detach() * 3 * x ** 2


def test_a_wrong_double_backward_fails():
    x, y = draw((4,), 3), draw((4,), 4)
    assert cr.gradcheck(CubeWithConstantSlope.apply, [x])  # first order: right
    with pytest.raises(cr.GradcheckError, match=r"second derivative w.r.t. input 1 \(shape \(4,\)\).*max error"):
        cr.gradgradcheck(lambda a, b: a.sin() + CubeWithConstantSlope.apply(b), [x, y])
    assert cr.gradgradcheck(lambda a: CubeWithConstantSlope.apply(a), [x], raise_exception=False) is False
    assert cr.gradcheck(CubeWithDetachedGradient.apply, [x])
    with pytest.raises(cr.GradcheckError, match=r"second derivative w.r.t. grad_output 0 \(shape \(4,\)\)"):
        cr.gradgradcheck(CubeWithDetachedGradient.apply, [x])


def test_errors():
    with pytest.raises(TypeError, match="input 0 has dtype float32; finite differences need float64"):
        cr.gradgradcheck(lambda a: a ** 2, [cr.ones(2, requires_grad=True)])
    with pytest.raises(ValueError, match="no input requires grad"):
        cr.gradgradcheck(lambda a: a ** 2, [draw((2,), 0, requires_grad=False)])
    with pytest.raises(ValueError, match=r"grad_outputs must hold one per output.*\[\(2,\)\], got \[\(3,\)\]"):
        cr.gradgradcheck(lambda a: a ** 2, [draw((2,), 0)], grad_outputs=[np.ones(3)])
