"""Autograd semantics against PyTorch: graphs with shared nodes, very deep graphs, accumulation,
retain_graph, grad mode, leaves, backward's errors, the worked example of note 004, and gradcheck."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import chainrule as cr
from chainrule.autograd import Function
from tests.parity import assert_parity

shapes = st.lists(st.integers(1, 4), min_size=0, max_size=3).map(tuple)


def draw(shape, seed=0, low=-1.0, high=1.0):
    return np.random.default_rng(seed).uniform(low, high, shape)


@pytest.fixture(autouse=True)
def grad_mode_restored():
    """A failing grad-mode test must not leave recording off for the tests after it."""
    yield
    cr.autograd._grad_enabled = True


# ----- graphs where a node has many consumers --------------------------------------------------------
@given(shape=shapes, seed=st.integers(0, 2**16))
@settings(max_examples=25, deadline=None)
def test_node_used_many_times(shape, seed):
    x = draw(shape, seed)
    assert_parity(lambda t: t * t + t * 3 + t.exp(), lambda t: t * t + t * 3 + t.exp(), x)


@given(shape=shapes, seed=st.integers(0, 2**16))
@settings(max_examples=25, deadline=None)
def test_shared_intermediate_with_three_consumers(shape, seed):
    x, w = draw(shape, seed), draw(shape, seed + 1)

    def f(x, w):
        h = (x * w).tanh()  # the shared intermediate
        return h * h + h.exp() * x + h.sum() * w

    assert_parity(f, f, x, w)


def test_diamond_chain_of_diamonds():
    """Each stage uses the previous one twice: 2^20 paths, but every node's backward runs once."""
    def f(x):
        for _ in range(20):
            x = (x * 0.5).sin() + x * 0.5
        return x

    assert_parity(f, f, draw((3,), 1))


def test_same_leaf_in_two_inputs_of_one_op():
    for op in (lambda t: t * t, lambda t: t / (t + 3), lambda t: t - t * 2, lambda t: t @ t):
        assert_parity(op, op, draw((3, 3), 2))


# ----- deep graphs ------------------------------------------------------------------------------------
@pytest.mark.parametrize("step, factor", [(lambda y: y * 1.0000001, 1.0000001), (lambda y: y + 0.0, 1.0)],
                         ids=["mul", "add"])
def test_100k_deep_chain_backpropagates(step, factor):
    x = cr.tensor(0.5, dtype=cr.float64, requires_grad=True)
    y = x
    for _ in range(100_000):
        y = step(y)
    y.backward()  # a recursive backward would hit RecursionError long before this depth
    np.testing.assert_allclose(x.grad.item(), factor**100_000, rtol=1e-9)
    np.testing.assert_allclose(y.item(), 0.5 * factor**100_000, rtol=1e-9)


# ----- accumulation and retain_graph ----------------------------------------------------------------
def test_gradients_accumulate_across_backward_calls():
    a = draw((2, 3), 3)
    x, xt = cr.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    (x * x).sum().backward()
    (x.exp() * 2).sum().backward()
    (xt * xt).sum().backward()
    (xt.exp() * 2).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), xt.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(x.grad.numpy(), 2 * a + 2 * np.exp(a), rtol=1e-12)


def test_grad_tensors_are_independent_of_graph_arrays():
    """Two leaves fed the same upstream array must not share one ``.grad`` array."""
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    w = cr.tensor([3.0, 4.0], requires_grad=True)
    (x + w).sum().backward()
    x.grad.data[0] = 100.0
    assert w.grad.tolist() == [1.0, 1.0]
    (x + w).sum().backward()
    assert x.grad.tolist() == [101.0, 2.0] and w.grad.tolist() == [2.0, 2.0]


def test_retain_graph_allows_second_backward():
    a = draw((4,), 4)
    x, xt = cr.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    y, yt = (x.exp() * x).sum(), (xt.exp() * xt).sum()
    y.backward(retain_graph=True)
    y.backward()
    yt.backward(retain_graph=True)
    yt.backward()
    np.testing.assert_allclose(x.grad.numpy(), xt.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(x.grad.numpy(), 2 * (np.exp(a) + a * np.exp(a)), rtol=1e-12)


@pytest.mark.parametrize("make", [lambda x: (x * x).sum(), lambda x: (x.exp() * 2).mean(), lambda x: x.sum()],
                         ids=["mul", "exp", "sum"])
def test_second_backward_without_retain_graph_raises(make):
    xt = torch.tensor([1.0, 2.0], requires_grad=True)
    yt = (xt * xt).sum()
    yt.backward()
    with pytest.raises(RuntimeError, match="second time"):
        yt.backward()
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    y = make(x)
    y.backward()
    with pytest.raises(RuntimeError, match="second time"):
        y.backward()


def test_backward_through_freed_shared_subgraph_raises():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    h = x * x
    h.sum().backward()
    with pytest.raises(RuntimeError, match="second time"):
        (h * 2).sum().backward()


# ----- grad mode -----------------------------------------------------------------------------------
def assert_not_recorded(t):
    assert not t.requires_grad and t.grad_fn is None and t.is_leaf


def test_no_grad_context_manager():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    with cr.no_grad():
        assert not cr.is_grad_enabled()
        for y in (x * 2, x.exp(), x.sum(), x[0], x.reshape(2, 1), x @ x):
            assert_not_recorded(y)
    assert cr.is_grad_enabled()
    assert (x * 2).requires_grad


def test_no_grad_restores_mode_after_exception():
    with pytest.raises(KeyError):
        with cr.no_grad():
            raise KeyError
    assert cr.is_grad_enabled()


def test_no_grad_decorators():
    x = cr.tensor([1.0, 2.0], requires_grad=True)

    @cr.no_grad()
    def called(t):
        """doc"""
        return t * 2

    @cr.no_grad
    def bare(t):
        return t * 3

    for fn in (called, bare):
        assert_not_recorded(fn(x))
        assert cr.is_grad_enabled()
    assert called.__name__ == "called" and called.__doc__ == "doc" and bare.__name__ == "bare"
    assert called(x).tolist() == [2.0, 4.0] and bare(x).tolist() == [3.0, 6.0]


def test_nested_enable_grad():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    with cr.no_grad():
        with cr.enable_grad():
            assert cr.is_grad_enabled()
            y = x * 2
            assert y.requires_grad and y.grad_fn is not None
            with cr.no_grad():
                assert_not_recorded(x * 2)
            assert cr.is_grad_enabled()
        assert_not_recorded(x * 2)

        @cr.enable_grad()
        def recorded(t):
            return t * 2

        assert recorded(x).requires_grad
        assert not cr.is_grad_enabled()
    y.sum().backward()
    assert x.grad.tolist() == [2.0, 2.0]


def test_set_grad_enabled_context_and_decorator():
    x = cr.tensor([1.0], requires_grad=True)
    with cr.set_grad_enabled(False):
        assert_not_recorded(x * 2)
        with cr.set_grad_enabled(True):
            assert (x * 2).requires_grad
    assert cr.is_grad_enabled()

    @cr.set_grad_enabled(False)
    def f(t):
        return t * 2

    assert_not_recorded(f(x))
    assert cr.is_grad_enabled()


def test_set_grad_enabled_as_a_function_call():
    """torch: ``torch.set_grad_enabled(False)`` switches recording off when called, not only in ``with``."""
    torch.set_grad_enabled(False)
    torch_off = not torch.is_grad_enabled()
    torch.set_grad_enabled(True)
    assert torch_off
    x = cr.tensor([1.0], requires_grad=True)
    cr.set_grad_enabled(False)
    try:
        assert not cr.is_grad_enabled()
        assert_not_recorded(x * 2)
    finally:
        cr.set_grad_enabled(True)
    assert cr.is_grad_enabled()
    assert (x * 2).requires_grad


def test_inputs_not_requiring_grad_are_not_recorded():
    a, b = cr.tensor([1.0, 2.0]), cr.tensor([3.0, 4.0])
    assert_not_recorded(a * b + 1)
    c = cr.tensor([1.0, 2.0], requires_grad=True)
    (a * c).sum().backward()
    assert a.grad is None and c.grad.tolist() == [1.0, 2.0]


# ----- leaves --------------------------------------------------------------------------------------
def test_leaf_and_non_leaf():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    xt = torch.tensor([1.0, 2.0], requires_grad=True)
    y, yt = x * 3, xt * 3
    z, zt = y * y, yt * yt
    assert x.is_leaf and not y.is_leaf and not z.is_leaf
    assert xt.is_leaf and not yt.is_leaf
    assert cr.tensor([1.0]).is_leaf and (cr.tensor([1.0]) * 2).is_leaf  # torch: no grad, no history → leaf
    assert x.grad_fn is None and y.grad_fn is not None
    z.sum().backward()
    assert y.grad is None and z.grad is None
    np.testing.assert_allclose(x.grad.numpy(), 18 * np.array([1.0, 2.0]))


def test_retain_grad_keeps_non_leaf_grad_like_torch():
    a = draw((3,), 5)
    x, xt = cr.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    y, yt = x.exp(), xt.exp()
    y.retain_grad()
    yt.retain_grad()
    (y * y + y).sum().backward()
    (yt * yt + yt).sum().backward()
    np.testing.assert_allclose(y.grad.numpy(), yt.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(x.grad.numpy(), xt.grad.numpy(), rtol=1e-12)
    with pytest.raises(RuntimeError):
        cr.tensor([1.0]).retain_grad()


def test_backward_on_tensor_without_grad_raises():
    with pytest.raises(RuntimeError):
        cr.tensor([1.0]).sum().backward()


# ----- backward's arguments -------------------------------------------------------------------------
@given(shape=st.lists(st.integers(1, 4), min_size=1, max_size=3).map(tuple).filter(lambda s: np.prod(s) > 1))
@settings(max_examples=25, deadline=None)
def test_backward_on_non_scalar_needs_gradient(shape):
    x = cr.tensor(draw(shape), requires_grad=True)
    with pytest.raises(RuntimeError, match=r"scalar") as info:
        (x * 2).backward()
    assert str(shape) in str(info.value)
    with pytest.raises(RuntimeError):
        (torch.tensor(draw(shape), requires_grad=True) * 2).backward()


def test_backward_on_one_element_tensor_without_gradient():
    """torch accepts any one-element output, e.g. shape (1, 1)."""
    x = cr.tensor([[2.0]], requires_grad=True)
    (x * x).backward()
    assert x.grad.tolist() == [[4.0]]


def test_backward_with_gradient():
    a, g = draw((2, 3), 6), draw((2, 3), 7)
    x, xt = cr.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    (x.sin() * 2).backward(gradient=g)
    (xt.sin() * 2).backward(gradient=torch.tensor(g))
    np.testing.assert_allclose(x.grad.numpy(), xt.grad.numpy(), rtol=1e-12)
    x.grad = None
    (x.sin() * 2).backward(cr.tensor(g))  # a Tensor gradient works too
    np.testing.assert_allclose(x.grad.numpy(), xt.grad.numpy(), rtol=1e-12)


@pytest.mark.parametrize("bad", [(3,), (3, 2), (2, 3, 1), ()])
def test_backward_gradient_of_wrong_shape_raises(bad):
    x = cr.tensor(draw((2, 3)), requires_grad=True)
    with pytest.raises(RuntimeError, match=r"\(2, 3\)") as info:
        (x * 2).backward(gradient=np.ones(bad))
    assert str(bad) in str(info.value)


# ----- note 004: three single neurons in a chain ----------------------------------------------------
@pytest.mark.parametrize("seed", range(5))
def test_note_004_three_neuron_chain(seed):
    """[note 004] a^(l) = σ(w^(l) a^(l−1) + b^(l)) for three single neurons l = L−2, L−1, L, cost
    C0 = (a^(L) − y)². Hand-derived chain rule against autograd, all scalars in float64."""
    rng = np.random.default_rng(seed)
    a_in, y = rng.uniform(-1, 1), rng.uniform(0, 1)  # a^(L−3) and the target
    w_vals, b_vals = rng.standard_normal(3), rng.standard_normal(3)
    w = [cr.tensor(v, dtype=cr.float64, requires_grad=True) for v in w_vals]
    b = [cr.tensor(v, dtype=cr.float64, requires_grad=True) for v in b_vals]
    a = cr.tensor(a_in, dtype=cr.float64)
    for wl, bl in zip(w, b):
        a = cr.sigmoid(wl * a + bl)
    cost = (a - y) ** 2
    cost.backward()

    def sigmoid(z):
        return 1 / (1 + np.exp(-z))

    acts, zs = [a_in], []  # acts = [a^(L−3), a^(L−2), a^(L−1), a^(L)], zs = [z^(L−2), z^(L−1), z^(L)]
    for wl, bl in zip(w_vals, b_vals):
        zs.append(wl * acts[-1] + bl)
        acts.append(sigmoid(zs[-1]))

    def sigmoid_prime(z):
        return sigmoid(z) * (1 - sigmoid(z))

    a_L, a_L1, a_L2 = acts[3], acts[2], acts[1]
    z_L, z_L1 = zs[2], zs[1]
    w_L = w_vals[2]
    np.testing.assert_allclose(cost.item(), (a_L - y) ** 2, rtol=1e-13)
    # dC0/dw^(L) = 2(a^(L) − y)·σ'(z^(L))·a^(L−1)
    np.testing.assert_allclose(w[2].grad.item(), 2 * (a_L - y) * sigmoid_prime(z_L) * a_L1, rtol=1e-12)
    # dC0/db^(L) = 2(a^(L) − y)·σ'(z^(L))
    np.testing.assert_allclose(b[2].grad.item(), 2 * (a_L - y) * sigmoid_prime(z_L), rtol=1e-12)
    # dC0/dw^(L−1) = 2(a^(L) − y)·σ'(z^(L))·w^(L)·σ'(z^(L−1))·a^(L−2). Note 004 writes a^(L−1) where
    # w^(L) belongs (and σ'(z^(L)) for ∂a^(L−1)/∂z^(L−1)): ∂z^(L)/∂a^(L−1) = w^(L), so w^(L) is the factor.
    correct = 2 * (a_L - y) * sigmoid_prime(z_L) * w_L * sigmoid_prime(z_L1) * a_L2
    np.testing.assert_allclose(w[1].grad.item(), correct, rtol=1e-12)
    as_written_in_note = 2 * (a_L - y) * sigmoid_prime(z_L) * a_L1 * sigmoid_prime(z_L1) * a_L2
    assert not np.isclose(w[1].grad.item(), as_written_in_note, rtol=1e-6)
    # one more layer back, the same pattern: ·w^(L−1)·σ'(z^(L−2))·a^(L−3)
    deeper = correct / a_L2 * w_vals[1] * sigmoid_prime(zs[0]) * a_in
    np.testing.assert_allclose(w[0].grad.item(), deeper, rtol=1e-12)


# ----- gradcheck ------------------------------------------------------------------------------------
COMPOSITES = {
    "poly_exp": (lambda x: x * x + x * 3 + x.exp(), [(3, 2)]),
    "rational": (lambda x, y: (x * y + 1) / (y * y + 2), [(2, 3), (2, 3)]),
    "broadcast_tanh_matmul": (lambda x, w, b: (x @ w + b).tanh(), [(4, 3), (3, 2), (2,)]),
    "softmax_log": (lambda x: cr.log_softmax(x, 1) * cr.softmax(x, 1), [(2, 4)]),
    "reduce_mix": (lambda x: x.mean(0) * x.sum(1, keepdim=True) + x.var(), [(3, 3)]),
    "reshape_transpose": (lambda x: (x.reshape(2, 3).T * x.reshape(3, 2)).sigmoid().sum(), [(6,)]),
    "shared_intermediate": (lambda x: (lambda h: h * h + h.exp() + h.sum())(x.sin() * 2), [(2, 2)]),
}


@pytest.mark.parametrize("name", sorted(COMPOSITES))
def test_gradcheck_passes_on_composites(name):
    fn, input_shapes = COMPOSITES[name]
    inputs = [cr.tensor(draw(s, i), dtype=cr.float64, requires_grad=True) for i, s in enumerate(input_shapes)]
    assert cr.gradcheck(fn, inputs) is True


class Cube(Function):
    """out = a³, da = 3a²·g."""

    def forward(self, a):
        self.a = a
        return a**3

    def backward(self, g):
        return (3 * self.a**2 * g,)


class WrongCube(Cube):
    """The same forward with a wrong backward: 2a²·g."""

    def backward(self, g):
        return (2 * self.a**2 * g,)


def test_custom_function_apply():
    x = cr.tensor([1.0, -2.0], dtype=cr.float64, requires_grad=True)
    y = Cube.apply(x)
    assert y.requires_grad and isinstance(y.grad_fn, Cube)
    y.sum().backward()
    assert x.grad.tolist() == [3.0, 12.0]
    with cr.no_grad():
        assert not Cube.apply(x).requires_grad


def test_gradcheck_passes_on_correct_custom_function():
    x = cr.tensor(draw((3, 2), 8), dtype=cr.float64, requires_grad=True)
    assert cr.gradcheck(lambda t: Cube.apply(t) * 2, [x])


def test_gradcheck_raises_on_wrong_custom_function():
    x = cr.tensor(draw((3, 2), 8, 0.5, 1.5), dtype=cr.float64, requires_grad=True)
    with pytest.raises(cr.GradcheckError, match="input 0"):
        cr.gradcheck(lambda t: WrongCube.apply(t) * 2, [x])
    assert cr.gradcheck(lambda t: WrongCube.apply(t), [x], raise_exception=False) is False
    assert issubclass(cr.GradcheckError, Exception)


def test_gradcheck_checks_every_input():
    a = cr.tensor(draw((2,), 9), dtype=cr.float64, requires_grad=True)
    b = cr.tensor(draw((2,), 10, 0.5, 1.5), dtype=cr.float64, requires_grad=True)
    with pytest.raises(cr.GradcheckError, match="input 1"):
        cr.gradcheck(lambda p, q: p * 2 + WrongCube.apply(q), [a, b])


# -- custom Functions in PyTorch's style ---------------------------------------------------------------------
class _ScaledCube(cr.autograd.Function):
    """out = s·x³ + y (s a number); dx = g·3s·x², dy = g."""

    @staticmethod
    def forward(ctx, x, s, y):
        ctx.save_for_backward(x)
        ctx.s = s
        return s * x ** 3 + y

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        dx = g * 3 * ctx.s * x ** 2 if ctx.needs_input_grad[0] else None
        return dx, None, g if ctx.needs_input_grad[2] else None


def test_a_torch_style_function_equals_torchs_and_passes_gradcheck():
    import torch

    class TorchScaledCube(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x, s, y):
            ctx.save_for_backward(x)
            ctx.s = s
            return s * x ** 3 + y

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return g * 3 * ctx.s * x ** 2, None, g

    rng = np.random.default_rng(0)
    xv, yv, w = rng.standard_normal((3, 4)), rng.standard_normal((3, 4)), rng.standard_normal((3, 4))
    x, y = cr.tensor(xv, requires_grad=True), cr.tensor(yv, requires_grad=True)
    tx, ty = torch.tensor(xv, requires_grad=True), torch.tensor(yv, requires_grad=True)
    out = _ScaledCube.apply(x.tanh(), 0.5, y)
    t_out = TorchScaledCube.apply(tx.tanh(), 0.5, ty)
    np.testing.assert_allclose(out.data, t_out.detach().numpy(), rtol=1e-12)
    (out * cr.tensor(w)).sum().backward()
    (t_out * torch.tensor(w)).sum().backward()
    np.testing.assert_allclose(x.grad.data, tx.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(y.grad.data, ty.grad.numpy(), rtol=1e-12)
    assert "grad_fn=<_ScaledCubeBackward>" in repr(_ScaledCube.apply(x, 2.0, y))
    assert cr.gradcheck(lambda a, b: _ScaledCube.apply(a, 1.5, b), (cr.tensor(xv, requires_grad=True),
                                                                     cr.tensor(yv, requires_grad=True)))


def test_a_torch_style_function_checks_what_backward_returns():
    def make(backward):
        return type("Bad", (cr.autograd.Function,), {"forward": staticmethod(lambda ctx, x, k: x * k),
                                                      "backward": staticmethod(backward)})

    x = cr.tensor([1.0, 2.0, 3.0], requires_grad=True)
    with pytest.raises(RuntimeError, match=r"Bad.backward returned 1 gradient\(s\), but forward took 2 argument"):
        make(lambda ctx, g: g).apply(x, 2.0).sum().backward()
    with pytest.raises(RuntimeError, match=r"gradient for argument 0 has shape \(\), but the argument has shape \(3,\)"):
        make(lambda ctx, g: (g.sum(), None)).apply(x, 2.0).sum().backward()  # a bare scalar, once silently accepted
    with pytest.raises(RuntimeError, match="returned a gradient for argument 1, a float, not a Tensor"):
        make(lambda ctx, g: (g, g)).apply(x, 2.0).sum().backward()
    with pytest.raises(TypeError, match="Bad2.forward must return a Tensor, got tuple"):
        type("Bad2", (cr.autograd.Function,), {"forward": staticmethod(lambda ctx, x: (x, x)),
                                                "backward": staticmethod(lambda ctx, g: g)}).apply(x)
    with pytest.raises(TypeError, match="needs a backward"):
        type("Bad3", (cr.autograd.Function,), {"forward": staticmethod(lambda ctx, x: x)})


def test_a_torch_style_function_saves_tensors_safely_and_records_no_graph_without_grad():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    base = x * 1
    out = _ScaledCube.apply(base, 2.0, cr.tensor([0.0, 0.0]))
    with cr.no_grad():
        base.fill_(5.0)
    with pytest.raises(RuntimeError, match=r"input 0 \(shape \(2,\)\) of _ScaledCube was modified by an in-place"):
        out.sum().backward()
    with cr.no_grad():
        free = _ScaledCube.apply(x, 2.0, x)
    assert free.grad_fn is None and not free.requires_grad


def test_grad_fn_is_readable_and_next_functions_walk_the_graph_as_torchs():
    import torch

    w = cr.tensor([[1.0, 2.0]], requires_grad=True)
    x = cr.tensor([[3.0], [4.0]])
    loss = (w @ x).tanh().sum()
    tw = torch.tensor([[1.0, 2.0]], requires_grad=True)
    t_loss = (tw @ torch.tensor([[3.0], [4.0]])).tanh().sum()
    assert repr(loss.grad_fn) == "<SumBackward>"

    def walk(fn):
        names = []
        while fn is not None:
            names.append(type(fn).__name__.replace("Backward0", "").replace("Backward", "").replace("Mm", "MatMul"))
            nexts = [f for f, _ in fn.next_functions if f is not None]
            fn = nexts[0] if nexts else None
        return names

    assert walk(loss.grad_fn) == walk(t_loss.grad_fn) == ["Sum", "Tanh", "MatMul", "AccumulateGrad"]
    leaf = loss.grad_fn.next_functions[0][0].next_functions[0][0].next_functions
    assert leaf[0][0].variable is w and leaf[1][0] is None  # x needs no grad: None, as in torch
    loss.backward()
    with pytest.raises(RuntimeError, match="SumBackward|Sum: the graph was freed by backward"):
        loss.grad_fn.next_functions


# ----- the array-level contract: several outputs, one gradient per input of that input's shape ---------------
class _TwoOutputs(Function):
    """(2x, x², argmax over the last dim): two float outputs and an integer one, one node."""

    calls = 0

    def forward(self, x, *, scale):
        self.x, self.scale = x, scale
        return scale * x, x * x, np.argmax(x, axis=-1)

    def backward(self, g_scaled, g_square, g_index):
        type(self).calls += 1
        assert g_index is None
        return (self.scale * g_scaled + 2 * self.x * g_square,)


@pytest.mark.parametrize("use", ["both", "first", "second"])
def test_a_node_with_several_outputs_runs_its_backward_once_with_every_output_gradient(use):
    x = cr.tensor(np.array([[1.0, -2.0, 3.0], [0.5, 4.0, -1.0]]), requires_grad=True)
    xt = torch.tensor(x.data, requires_grad=True)
    _TwoOutputs.calls = 0
    a, b, idx = _TwoOutputs.apply(x, scale=2.0)
    assert idx.dtype == np.int64 and not idx.requires_grad and a.requires_grad and b.requires_grad
    assert a.grad_fn is b.grad_fn and [i for _, i in (a * b).grad_fn.next_functions] == [0, 1]
    loss = {"both": (a * b).sum() + a.sum(), "first": (a * a).sum(), "second": b.exp().sum()}[use]
    at, bt = 2.0 * xt, xt * xt
    loss_t = {"both": (at * bt).sum() + at.sum(), "first": (at * at).sum(), "second": bt.exp().sum()}[use]
    loss.backward()
    loss_t.backward()
    assert _TwoOutputs.calls == 1
    np.testing.assert_allclose(x.grad.data, xt.grad.numpy(), rtol=1e-12)


def test_a_node_with_several_outputs_backwards_again_with_retain_graph():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    a, b, _ = _TwoOutputs.apply(x, scale=3.0)
    loss = (a + b).sum()
    loss.backward(retain_graph=True)
    loss.backward()
    np.testing.assert_allclose(x.grad.data, 2 * (3.0 + 2 * x.data))


class _WrongShape(Function):
    def forward(self, x):
        return x * 1

    def backward(self, g):
        return (g.sum(),)  # a scalar where the input was a vector


def test_a_builtin_backward_with_a_gradient_of_the_wrong_shape_is_named():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match=r"_WrongShape.backward: the gradient of input 0 has shape \(\), but the "
                                           r"input has shape \(2,\)"):
        _WrongShape.apply(x).sum().backward()


class _TooFewGradients(Function):
    def forward(self, a, b):
        return a * b

    def backward(self, g):
        return (g,)  # b's gradient missing


def test_a_builtin_backward_with_the_wrong_number_of_gradients_is_named():
    a, b = cr.tensor([1.0, 2.0], requires_grad=True), cr.tensor([3.0, 4.0], requires_grad=True)
    with pytest.raises(RuntimeError, match=r"_TooFewGradients.backward returned 1 gradient\(s\) for 2 input\(s\)"):
        _TooFewGradients.apply(a, b).sum().backward()
