"""Hooks, side by side with PyTorch: Module.register_forward_pre_hook / register_forward_hook /
register_full_backward_hook and Tensor.register_hook see the same values, replace them the same way
when they return something, run in registration order, and stop when their handle is removed."""
import numpy as np
import pytest
import torch

import chainrule as cr
from chainrule import nn

torch.set_num_threads(1)

RNG = np.random.default_rng(0)
W1, B1 = RNG.standard_normal((4, 3)), RNG.standard_normal(4)
W2, B2 = RNG.standard_normal((2, 4)), RNG.standard_normal(2)
X = RNG.standard_normal((5, 3))
UPSTREAM = RNG.standard_normal((5, 2))


class Lib:
    """The same small net and tensors in chainrule or torch, float64."""

    def __init__(self, name):
        self.name = name
        self.torch = name == "torch"

    def tensor(self, a, requires_grad=False):
        a = np.array(a, dtype=np.float64)
        return torch.tensor(a, requires_grad=requires_grad) if self.torch else cr.tensor(a, requires_grad=requires_grad)

    def net(self):
        if self.torch:
            net = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Tanh(), torch.nn.Linear(4, 2)).double()
        else:
            net = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2)).double()
        for layer, w, b in ((net[0], W1, B1), (net[2], W2, B2)):
            if self.torch:
                with torch.no_grad():
                    layer.weight.copy_(torch.tensor(w))
                    layer.bias.copy_(torch.tensor(b))
            else:
                layer.weight.data[...] = w
                layer.bias.data[...] = b
        return net

    def backward(self, out, upstream=UPSTREAM):
        out.backward(self.tensor(upstream) if self.torch else np.asarray(upstream))


def arr(t):
    """A Tensor of either library (or None) as a float64 ndarray."""
    if t is None:
        return None
    return t.detach().numpy().copy() if isinstance(t, torch.Tensor) else np.array(t.data, dtype=np.float64)


LIBS = [Lib("chainrule"), Lib("torch")]


def both(fn):
    """Run ``fn(lib)`` for chainrule and torch and return both results."""
    return [fn(lib) for lib in LIBS]


def assert_same(ours, theirs, path="result"):
    if isinstance(theirs, (list, tuple)):
        assert isinstance(ours, (list, tuple)) and len(ours) == len(theirs), f"{path}: {ours!r} vs {theirs!r}"
        for i, (a, b) in enumerate(zip(ours, theirs)):
            assert_same(a, b, f"{path}[{i}]")
    elif isinstance(theirs, dict):
        assert ours.keys() == theirs.keys(), path
        for k in theirs:
            assert_same(ours[k], theirs[k], f"{path}[{k!r}]")
    elif isinstance(theirs, np.ndarray):
        assert isinstance(ours, np.ndarray), f"{path}: {ours!r} is not an array"
        np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-12, err_msg=path)
    else:
        assert ours == theirs, f"{path}: {ours!r} != {theirs!r}"


def check(fn):
    ours, theirs = both(fn)
    assert_same(ours, theirs)
    return ours


# ----- forward hooks ----------------------------------------------------------------------------------
def test_forward_pre_hook_sees_args_and_can_replace_them():
    def run(lib):
        net = lib.net()
        log = []

        def double(module, args):
            log.append(("double", type(args).__name__, len(args), arr(args[0])))
            return (args[0] * 2,)  # a tuple replaces the args

        def shift(module, args):
            log.append(("shift", arr(args[0])))
            return args[0] + 1  # a single value is wrapped into a tuple

        def watch(module, args):
            log.append(("watch", arr(args[0])))  # returning None keeps the args

        handles = [net[0].register_forward_pre_hook(h) for h in (double, shift, watch)]
        out = arr(net(lib.tensor(X)))
        for h in handles:
            h.remove()
        after = arr(net(lib.tensor(X)))
        return log, out, after, len(log)

    log, out, after, n = check(run)
    np.testing.assert_allclose(log[2][1], 2 * X + 1)
    assert n == 3  # removed: not called again
    assert not np.allclose(out, after)


def test_forward_hook_sees_args_and_output_and_can_replace_the_output():
    def run(lib):
        net = lib.net()
        log = []

        def zero(module, args, output):
            log.append(("zero", len(args), arr(args[0]), arr(output)))
            return output * 0 + 0.5

        def watch(module, args, output):
            log.append(("watch", arr(output)))

        h1 = net[1].register_forward_hook(zero)
        h2 = net[1].register_forward_hook(watch)
        out = arr(net(lib.tensor(X)))
        h1.remove()
        again = arr(net(lib.tensor(X)))
        h2.remove()
        net(lib.tensor(X))
        return log, out, again

    log, out, again = check(run)
    np.testing.assert_allclose(out, np.broadcast_to(0.5 * W2.sum(1) + B2, (5, 2)))
    np.testing.assert_allclose(log[1][1], 0.5)  # a later hook sees the replaced output
    np.testing.assert_allclose(again, log[2][1] @ W2.T + B2)  # the first hook removed: the real output
    assert [entry[0] for entry in log] == ["zero", "watch", "watch"]


def test_forward_hooks_run_in_registration_order_and_pre_hooks_first():
    def run(lib):
        layer = lib.net()[0]
        order = []
        layer.register_forward_hook(lambda m, a, o: order.append("fwd1"))
        layer.register_forward_pre_hook(lambda m, a: order.append("pre1"))
        layer.register_forward_hook(lambda m, a, o: order.append("fwd2"))
        layer.register_forward_pre_hook(lambda m, a: order.append("pre2"))
        layer(lib.tensor(X))
        return order

    assert check(run) == ["pre1", "pre2", "fwd1", "fwd2"]


def test_handles_work_as_context_managers_and_remove_twice():
    def run(lib):
        layer = lib.net()[0]
        calls = []
        with layer.register_forward_hook(lambda m, a, o: calls.append(1)) as handle:
            layer(lib.tensor(X))
        layer(lib.tensor(X))
        handle.remove()  # removing again is harmless
        return len(calls)

    assert check(run) == 1


# ----- full backward hooks ----------------------------------------------------------------------------
def test_full_backward_hook_sees_grad_input_and_grad_output():
    def run(lib):
        net = lib.net()
        seen = {}

        def record(name):
            def hook(module, grad_input, grad_output):
                seen[name] = ([arr(g) for g in grad_input], [arr(g) for g in grad_output])
            return hook

        for i in range(3):
            net[i].register_full_backward_hook(record(i))
        x = lib.tensor(X, requires_grad=True)
        lib.backward(net(x))
        return seen, arr(x.grad), arr(net[0].weight.grad)

    seen, x_grad, _ = check(run)
    assert len(seen) == 3
    np.testing.assert_allclose(seen[2][1][0], UPSTREAM)  # the last layer's grad_output is the upstream gradient
    np.testing.assert_allclose(seen[0][0][0], x_grad)  # the first layer's grad_input is the input's gradient


def test_full_backward_hook_can_replace_grad_input():
    def run(lib):
        net = lib.net()
        grads = []
        handle = net[1].register_full_backward_hook(lambda m, gi, go: tuple(3 * g for g in gi))
        for _ in range(2):
            x = lib.tensor(X, requires_grad=True)
            lib.backward(net(x))
            grads.append((arr(x.grad), arr(net[0].weight.grad), arr(net[2].weight.grad)))
            net.zero_grad()
            handle.remove()
        return grads

    (scaled, plain) = check(run)
    np.testing.assert_allclose(scaled[0], 3 * plain[0])  # everything upstream of the Tanh is tripled
    np.testing.assert_allclose(scaled[1], 3 * plain[1])
    np.testing.assert_allclose(scaled[2], plain[2])  # downstream of it, untouched


def test_full_backward_hook_when_the_input_needs_no_gradient():
    def run(lib):
        net = lib.net()
        seen = []
        net[0].register_full_backward_hook(lambda m, gi, go: seen.append(([arr(g) for g in gi],
                                                                          [arr(g) for g in go])))
        lib.backward(net(lib.tensor(X)))  # x does not require grad
        return seen

    with pytest.warns(UserWarning, match="no inputs require gradients"):  # torch's warning; ours is silent
        (seen, theirs) = both(run)
    assert_same(seen, theirs)
    assert seen[0][0] == [None]


def test_full_backward_hook_of_a_module_with_two_inputs():
    class Mul(nn.Module):
        def forward(self, a, b):
            return a * b

    class TorchMul(torch.nn.Module):
        def forward(self, a, b):
            return a * b

    def run(lib):
        module = TorchMul() if lib.torch else Mul()
        seen = []
        module.register_full_backward_hook(lambda m, gi, go: seen.append(([arr(g) for g in gi], [arr(g) for g in go])))
        a, b = lib.tensor([1.0, 2.0], requires_grad=True), lib.tensor([3.0, 4.0], requires_grad=True)
        (module(a, b) * lib.tensor([10.0, 100.0])).sum().backward()
        return seen, arr(a.grad), arr(b.grad)

    seen, _, _ = check(run)
    np.testing.assert_allclose(seen[0][0][0], [30.0, 400.0])


def test_removed_backward_hook_is_not_called():
    def run(lib):
        net = lib.net()
        calls = []
        handle = net[2].register_full_backward_hook(lambda m, gi, go: calls.append(1))
        handle.remove()
        lib.backward(net(lib.tensor(X, requires_grad=True)))
        return len(calls)

    assert check(run) == 0


# ----- tensor hooks -----------------------------------------------------------------------------------
def test_tensor_hooks_on_a_non_leaf_chain_and_replace_the_gradient():
    def run(lib):
        x = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
        y = x * 2
        seen = []
        y.register_hook(lambda g: seen.append(("h1", arr(g))) or g * 3)  # returns a replacement
        y.register_hook(lambda g: seen.append(("h2", arr(g))))  # sees h1's result; None keeps it
        y.retain_grad()
        (y * y).sum().backward()
        return seen, arr(x.grad), arr(y.grad)

    seen, x_grad, y_grad = check(run)
    np.testing.assert_allclose(seen[1][1], 3 * seen[0][1])
    np.testing.assert_allclose(y_grad, [12.0, 24.0, 36.0])  # retain_grad keeps the replaced gradient
    np.testing.assert_allclose(x_grad, 2 * y_grad)


def test_tensor_hook_on_a_leaf_sees_the_total_gradient_once():
    def run(lib):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        seen = []
        handle = x.register_hook(lambda g: seen.append(arr(g)) or g + 1)
        (x * x + x).sum().backward()  # x used three times: the hook runs once, with the sum
        first = arr(x.grad)
        handle.remove()
        x.grad = None
        (x * x + x).sum().backward()
        return seen, first, arr(x.grad)

    seen, first, second = check(run)
    assert len(seen) == 1
    np.testing.assert_allclose(first, second + 1)


def test_tensor_hook_runs_on_every_backward_and_accumulates():
    def run(lib):
        x = lib.tensor([1.0, -1.0], requires_grad=True)
        calls = []
        x.register_hook(lambda g: calls.append(arr(g)) or g * 10)
        y = (x * 3).sum()
        y.backward(retain_graph=True)
        y.backward()
        return calls, arr(x.grad)

    calls, grad = check(run)
    assert len(calls) == 2
    np.testing.assert_allclose(grad, [60.0, 60.0])


def test_tensor_hook_needs_a_tensor_that_requires_grad():
    with pytest.raises(RuntimeError, match="doesn't require gradient"):
        cr.tensor([1.0]).register_hook(lambda g: g)
    with pytest.raises(RuntimeError, match="doesn't require gradient"):
        torch.tensor([1.0]).register_hook(lambda g: g)


# ----- a replacement must fit what it replaces --------------------------------------------------------
def test_tensor_hook_replacement_must_keep_the_shape():
    def run(lib):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        x.register_hook(lambda g: g.sum())  # a scalar for a (2,) gradient
        with pytest.raises(RuntimeError, match="size"):
            (x * 3).sum().backward()
        return arr(x.grad)

    assert check(run) is None  # torch refuses; .grad is not silently replaced by a scalar


@pytest.mark.parametrize("replacement", ["wrong-shape", "too-many"])
def test_full_backward_hook_replacement_must_match_grad_input(replacement):
    def run(lib):
        module = torch.nn.Tanh() if lib.torch else nn.Tanh()
        if replacement == "wrong-shape":
            module.register_full_backward_hook(lambda m, gi, go: (gi[0].sum(),))
        else:
            module.register_full_backward_hook(lambda m, gi, go: (gi[0], gi[0]))
        a = lib.tensor([1.0, -2.0], requires_grad=True)
        with pytest.raises(RuntimeError):
            (module(a) * 2).sum().backward()
        return arr(a.grad)

    assert check(run) is None
