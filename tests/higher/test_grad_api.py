"""``autograd.grad`` and ``Tensor.backward(create_graph=, inputs=)`` with torch's semantics, and the errors."""
import numpy as np
import pytest
import torch

import chainrule as cr
from chainrule.autograd import Function, grad


def draw(shape, seed=0):
    return np.random.default_rng(seed).uniform(-1.5, 1.5, shape)


def pair(a):
    return cr.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)


def f(x, w):
    return (x * w).exp() * x + (w ** 3).sum() * x


def test_grad_returns_without_touching_dot_grad():
    (x, xt), (w, wt) = pair(draw((2, 3))), pair(draw((3,), 1))
    gx, gw = grad(f(x, w).sum(), [x, w])
    gxt, gwt = torch.autograd.grad(f(xt, wt).sum(), [xt, wt])
    np.testing.assert_allclose(gx.data, gxt.numpy(), rtol=1e-12)
    np.testing.assert_allclose(gw.data, gwt.numpy(), rtol=1e-12)
    assert x.grad is None and w.grad is None and not gx.requires_grad


def test_grad_of_non_leaf_and_several_outputs_with_grad_outputs():
    (x, xt), (w, wt) = pair(draw((2, 3))), pair(draw((3,), 1))
    h, ht = x * w, xt * wt
    v1, v2 = draw((2, 3), 2), draw((3,), 3)
    outs, outs_t = [h.sin(), (h * h).sum(0)], [ht.sin(), (ht * ht).sum(0)]
    ours = grad(outs, [h, w], grad_outputs=[cr.tensor(v1), v2])
    theirs = torch.autograd.grad(outs_t, [ht, wt], grad_outputs=[torch.tensor(v1), torch.tensor(v2)])
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a.data, b.numpy(), rtol=1e-12)


def test_second_derivative_and_retain_graph_default():
    (x, xt) = pair(draw((4,)))
    (g,) = grad((x ** 4).sum(), x, create_graph=True)
    assert g.requires_grad and g.grad_fn is not None
    (h,) = grad(g.sum(), x, retain_graph=True)
    (h2,) = grad(g.sum(), x)  # the graph of g is still there: retain_graph defaulted to create_graph
    np.testing.assert_allclose(h.data, 12 * x.data ** 2, rtol=1e-12)
    np.testing.assert_allclose(h2.data, h.data)


def test_backward_create_graph_gives_grad_with_a_graph():
    (x, xt) = pair(draw((3,)))
    (x.sin() * x).sum().backward(create_graph=True)
    (xt.sin() * xt).sum().backward(create_graph=True)
    assert x.grad.requires_grad
    gg, ggt = x.grad.pow(2).sum(), xt.grad.pow(2).sum()
    x.grad = None
    xt.grad = None
    gg.backward()
    ggt.backward()
    np.testing.assert_allclose(x.grad.data, xt.grad.numpy(), rtol=1e-12)


def test_backward_inputs_accumulates_only_there():
    (x, xt), (w, wt) = pair(draw((2, 3))), pair(draw((3,), 1))
    h, ht = x * w, xt * wt
    h.retain_grad()
    (h.exp().sum()).backward(inputs=[w, h])
    ht.retain_grad()
    (ht.exp().sum()).backward(inputs=[wt, ht])
    assert x.grad is None and xt.grad is None
    np.testing.assert_allclose(w.grad.data, wt.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(h.grad.data, ht.grad.numpy(), rtol=1e-12)


def test_jvp_by_the_double_vjp_trick():
    """Forward mode from two reverse sweeps: u ↦ Jᵀu is linear in u, so ∂⟨Jᵀu, t⟩/∂u = J t."""
    x = cr.tensor(draw((3,)), requires_grad=True)
    t = draw((3,), 5)
    y = x.sin() * x.exp()
    u = cr.zeros(3, requires_grad=True, dtype=cr.float64)
    (vjp,) = grad(y, x, grad_outputs=u, create_graph=True)
    (jvp,) = grad((vjp * cr.tensor(t)).sum(), u)
    expected = (np.cos(x.data) * np.exp(x.data) + np.sin(x.data) * np.exp(x.data)) * t
    np.testing.assert_allclose(jvp.data, expected, rtol=1e-12)


def test_allow_unused_and_materialize_grads():
    (x, _), (w, _) = pair(draw((3,))), pair(draw((3,), 1))
    with pytest.raises(RuntimeError, match="input 1 .* not used"):
        grad((x * 2).sum(), [x, w])
    assert grad((x * 2).sum(), [x, w], allow_unused=True)[1] is None
    zeros = grad((x * 2).sum(), [x, w], materialize_grads=True)[1]
    np.testing.assert_array_equal(zeros.data, np.zeros(3))


def test_errors_name_what_is_wrong():
    x = cr.tensor(draw((2, 3)), requires_grad=True)
    with pytest.raises(RuntimeError, match=r"only for scalar outputs.*\(2, 3\)"):
        grad(x * 2, x)
    with pytest.raises(RuntimeError, match="input 0 .*does not require grad"):
        grad((x * 2).sum(), cr.tensor(draw(3)))
    with pytest.raises(RuntimeError, match="output 0 .*does not require grad"):
        grad(cr.tensor(1.0), x)
    with pytest.raises(RuntimeError, match=r"gradient for output 0 has shape \(3,\)"):
        grad(x * 2, x, grad_outputs=np.ones(3))
    with pytest.raises(TypeError, match="inputs must be a Tensor"):
        grad((x * 2).sum(), "x")


def test_an_op_without_second_derivative_raises_naming_it():
    class Square(Function):  # array-level, no backward_graph
        def forward(self, a):
            self.a = a
            return a * a

        def backward(self, g):
            return (2 * self.a * g,)

    x = cr.tensor(draw((3,)), requires_grad=True)
    (g,) = grad(Square.apply(x).sum(), x, create_graph=True)  # the first derivative is fine
    np.testing.assert_allclose(g.data, 2 * x.data)
    with pytest.raises(RuntimeError, match="Square: no second derivative"):
        grad(g.sum(), x)


def test_torch_style_function_backward_is_differentiable():
    class Cube(Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x ** 3

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return g * 3 * x ** 2

    x = cr.tensor(draw((3,)), requires_grad=True)
    (g,) = grad(Cube.apply(x).sum(), x, create_graph=True)
    (h,) = grad(g.sum(), x)
    np.testing.assert_allclose(h.data, 6 * x.data, rtol=1e-12)


def test_hooks_see_graph_gradients_under_create_graph():
    x = cr.tensor(draw((3,)), requires_grad=True)
    y = x * x
    seen = []
    y.register_hook(lambda g: seen.append(g.requires_grad) or g * 2)
    (g,) = grad(y.sum() * x.sum(), x, create_graph=True)
    assert seen == [True]
    (h,) = grad(g.sum(), x)
    xt = torch.tensor(x.data, requires_grad=True)
    yt = xt * xt
    yt.register_hook(lambda g: g * 2)
    (gt,) = torch.autograd.grad(yt.sum() * xt.sum(), xt, create_graph=True)
    (ht,) = torch.autograd.grad(gt.sum(), xt)
    np.testing.assert_allclose(h.data, ht.numpy(), rtol=1e-12)


def test_first_order_grad_result_does_not_alias():
    x = cr.tensor(draw((3,)), requires_grad=True)
    y = x * 1.0
    g1, g2 = grad(y.sum() + x.sum(), [x, y])
    g2.data[0] = 99.0
    assert g1.data[0] != 99.0
