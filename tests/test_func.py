"""chainrule.func equals torch.func (float64): grad, grad_and_value, vjp, jvp, jacrev, jacfwd, hessian, hvp, vmap
and functional_call, on an MLP loss and a small CNN loss (conv2d → relu/tanh → linear → cross-entropy), with
respect to inputs and to parameters; nesting; the caller's tensors untouched; the error messages."""
import numpy as np
import pytest
import torch
import torch.func as tf

import chainrule as cr
import chainrule.func as cf
import chainrule.nn.functional as F

torch.set_num_threads(1)
TOL = {"rtol": 1e-8, "atol": 1e-10}


def draw(shape, seed):
    return np.random.default_rng(seed).standard_normal(shape)


def both(*arrays):
    """Each array as a chainrule tensor and a torch tensor (neither requires grad)."""
    return [cr.tensor(a) for a in arrays], [torch.tensor(a) for a in arrays]


def assert_close(ours, theirs, path="result"):
    """Two trees (tuples, lists, dicts) of chainrule and torch tensors are equal leaf by leaf."""
    if isinstance(theirs, dict):
        assert isinstance(ours, dict) and list(ours) == list(theirs), f"{path}: keys {list(ours)} != {list(theirs)}"
        for k in theirs:
            assert_close(ours[k], theirs[k], f"{path}[{k!r}]")
    elif isinstance(theirs, (tuple, list)):
        assert isinstance(ours, (tuple, list)) and len(ours) == len(theirs), f"{path}: structure differs"
        for i, (a, b) in enumerate(zip(ours, theirs)):
            assert_close(a, b, f"{path}[{i}]")
    else:
        assert isinstance(ours, cr.Tensor), f"{path}: {type(ours).__name__} is not a Tensor"
        assert ours.shape == tuple(theirs.shape), f"{path}: shape {ours.shape} != torch's {tuple(theirs.shape)}"
        np.testing.assert_allclose(ours.data, theirs.detach().numpy(), **TOL, err_msg=path)


# ----- the two losses, written once for either library ----------------------------------------------------------
def mlp_loss(lib, act="tanh"):
    fn = torch.nn.functional if lib is torch else F

    def loss(x, w1, b1, w2, b2, y):
        h = getattr(lib, act)(fn.linear(x, w1, b1))
        return fn.cross_entropy(fn.linear(h, w2, b2), y)

    return loss


def cnn_loss(lib, act="relu"):
    fn = torch.nn.functional if lib is torch else F

    def loss(x, w, b, v, c, y):
        h = getattr(lib, act)(fn.conv2d(x, w, b, padding=1))
        return fn.cross_entropy(fn.linear(h.reshape(h.shape[0], -1), v, c), y)

    return loss


def mlp_arrays(seed=0):
    return [draw((4, 3), seed), draw((5, 3), seed + 1) * 0.5, draw(5, seed + 2), draw((3, 5), seed + 3) * 0.5,
            draw(3, seed + 4)], np.array([0, 2, 1, 2])


def cnn_arrays(seed=0):
    return [draw((3, 1, 4, 4), seed), draw((2, 1, 3, 3), seed + 1) * 0.5, draw(2, seed + 2),
            draw((3, 32), seed + 3) * 0.3, draw(3, seed + 4)], np.array([2, 0, 1])


MODELS = {"mlp-tanh": (mlp_loss, "tanh", mlp_arrays), "mlp-relu": (mlp_loss, "relu", mlp_arrays),
          "cnn-relu": (cnn_loss, "relu", cnn_arrays), "cnn-tanh": (cnn_loss, "tanh", cnn_arrays)}


def model(name):
    """(chainrule loss, torch loss, chainrule args, torch args): the labels last, not differentiated."""
    make, act, arrays = MODELS[name]
    floats, labels = arrays()
    ours, theirs = both(*floats)
    return (make(cr, act), make(torch, act), ours + [cr.tensor(labels)], theirs + [torch.tensor(labels)])


# ----- grad, grad_and_value ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", MODELS)
@pytest.mark.parametrize("argnums", [0, 1, (1, 2), (0, 1, 2, 3, 4), -2])
def test_grad_equals_torch(name, argnums):
    f, g, ours, theirs = model(name)
    assert_close(cf.grad(f, argnums)(*ours), tf.grad(g, argnums)(*theirs))


@pytest.mark.parametrize("name", ["mlp-tanh", "cnn-relu"])
def test_grad_and_value_and_has_aux(name):
    f, g, ours, theirs = model(name)
    assert_close(cf.grad_and_value(f, (0, 3))(*ours), tf.grad_and_value(g, (0, 3))(*theirs))

    def with_aux(lib, loss):
        return lambda *args: (loss(*args), {"scaled": loss(*args) * 2, "first": args[0][0]})

    ours_out = cf.grad_and_value(with_aux(cr, f), 1, has_aux=True)(*ours)
    assert_close(ours_out, tf.grad_and_value(with_aux(torch, g), 1, has_aux=True)(*theirs))
    grads, aux = cf.grad(with_aux(cr, f), (1, 2), has_aux=True)(*ours)
    assert_close((grads, aux), tf.grad(with_aux(torch, g), (1, 2), has_aux=True)(*theirs))
    assert not aux["scaled"].requires_grad and not ours_out[1][0].requires_grad  # nothing outside to record for


def test_grad_over_trees_of_parameters():
    f, g, ours, theirs = model("mlp-tanh")

    def tree_loss(loss):
        return lambda x, p, y: loss(x, p["layer1"][0], p["layer1"][1], p["out"]["w"], p["out"]["b"], y)

    ours_tree = {"layer1": (ours[1], ours[2]), "out": {"w": ours[3], "b": ours[4]}}
    theirs_tree = {"layer1": (theirs[1], theirs[2]), "out": {"w": theirs[3], "b": theirs[4]}}
    assert_close(cf.grad(tree_loss(f), 1)(ours[0], ours_tree, ours[5]),
                 tf.grad(tree_loss(g), 1)(theirs[0], theirs_tree, theirs[5]))
    assert_close(cf.grad(tree_loss(f), (0, 1))(ours[0], ours_tree, ours[5]),
                 tf.grad(tree_loss(g), (0, 1))(theirs[0], theirs_tree, theirs[5]))


def test_the_callers_tensors_are_untouched_and_an_input_requiring_grad_stays_differentiable():
    f, g, ours, theirs = model("mlp-tanh")
    before = [a.data.copy() for a in ours[:5]]
    cf.grad(f, (0, 1, 2, 3, 4))(*ours)
    cf.hessian(f, 2)(*ours)
    assert all(not a.requires_grad and a.grad is None for a in ours)
    for a, b in zip(ours, before):
        np.testing.assert_array_equal(a.data, b)
    # a parameter that requires grad: its .grad stays None, and the gradient is differentiable with respect to it
    w, tw = cr.tensor(ours[1].data, requires_grad=True), torch.tensor(theirs[1].numpy(), requires_grad=True)
    gx = cf.grad(f)(ours[0], w, *ours[2:])
    gx_t = tf.grad(g)(theirs[0], tw, *theirs[2:])
    assert w.grad is None and gx.requires_grad
    (gx ** 2).sum().backward()
    (gx_t ** 2).sum().backward()
    np.testing.assert_allclose(w.grad.data, tw.grad.numpy(), **TOL)
    # a closed-over tensor requiring grad: the result is recorded with respect to it too
    gb = cf.grad(lambda x: f(x, w, *ours[2:]))(ours[0])
    (gb_t,) = [tf.grad(lambda x: g(x, tw, *theirs[2:]))(theirs[0])]
    w.grad, tw.grad = None, None
    gb.sum().backward()
    gb_t.sum().backward()
    np.testing.assert_allclose(w.grad.data, tw.grad.numpy(), **TOL)


def test_nested_grad_is_the_second_derivative():
    x, tx = cr.tensor(0.7, dtype=cr.float64), torch.tensor(0.7, dtype=torch.float64)
    f = lambda t: (t.sin() * t ** 3).exp()
    for k in range(1, 4):
        ours, theirs = f, f
        for _ in range(k):
            ours, theirs = cf.grad(ours), tf.grad(theirs)
        assert_close(ours(x), theirs(tx), f"derivative {k}")


def test_every_transform_nests_inside_grad():
    x, tx = cr.tensor(draw(3, 10)), torch.tensor(draw(3, 10))
    v, tv = cr.tensor(draw(3, 11)), torch.tensor(draw(3, 11))
    f = lambda a: a.sin() * a.exp().sum()
    s = lambda a: (a.tanh() ** 3).sum()
    cases = [
        (lambda a: cf.jvp(f, (a,), (v,))[1].sum(), lambda a: tf.jvp(f, (a,), (tv,))[1].sum()),
        (lambda a: cf.vjp(f, a)[1](v)[0].sum(), lambda a: tf.vjp(f, a)[1](tv)[0].sum()),
        (lambda a: (cf.jacrev(f)(a) ** 2).sum(), lambda a: (tf.jacrev(f)(a) ** 2).sum()),
        (lambda a: (cf.jacfwd(f)(a) ** 2).sum(), lambda a: (tf.jacfwd(f)(a) ** 2).sum()),
        (lambda a: cf.hessian(s)(a).sum(), lambda a: tf.hessian(s)(a).sum()),
        (lambda a: cf.hvp(s, (a,), (v,))[1][0].sum(),
         lambda a: tf.jvp(tf.grad(s), (a,), (tv,))[1].sum()),
    ]
    for i, (ours, theirs) in enumerate(cases):
        assert_close(cf.grad(ours)(x), tf.grad(theirs)(tx), f"case {i}")


def test_grad_of_a_function_that_ignores_an_input_is_zero():
    x, tx = cr.tensor(draw(3, 1)), torch.tensor(draw(3, 1))
    assert_close(cf.grad(lambda a, b: (a * 2).sum(), (0, 1))(x, x), tf.grad(lambda a, b: (a * 2).sum(), (0, 1))(tx, tx))
    assert_close(cf.grad(lambda a: (a * 0).sum() + 1)(x), tf.grad(lambda a: (a * 0).sum() + 1)(tx))


# ----- vjp, jvp, hvp ------------------------------------------------------------------------------------------------
def logits(lib, name):
    """The model of ``name`` up to its logits: a non-scalar output."""
    def net(x, w, b, v, c):
        fn = torch.nn.functional if lib is torch else F
        if name.startswith("mlp"):
            return fn.linear(getattr(lib, MODELS[name][1])(fn.linear(x, w, b)), v, c)
        h = getattr(lib, MODELS[name][1])(fn.conv2d(x, w, b, padding=1))
        return fn.linear(h.reshape(h.shape[0], -1), v, c)

    return net


@pytest.mark.parametrize("name", MODELS)
def test_vjp_equals_torch(name):
    _, _, ours, theirs = model(name)
    f, g = logits(cr, name), logits(torch, name)
    out, vjp_fn = cf.vjp(f, *ours[:5])
    ref, vjp_t = tf.vjp(g, *theirs[:5])
    assert_close(out, ref)
    u = draw(ref.shape, 9)
    assert_close(vjp_fn(cr.tensor(u)), vjp_t(torch.tensor(u)))
    assert_close(vjp_fn(cr.tensor(2 * u)), vjp_t(torch.tensor(2 * u)))  # vjp_fn can be called again


def test_vjp_of_several_outputs_and_has_aux():
    x, tx = cr.tensor(draw((2, 3), 2)), torch.tensor(draw((2, 3), 2))

    def f(lib):
        return lambda a: ({"sin": a.sin(), "pair": (a * a, a.exp().sum())}, a.cos())

    out, vjp_fn, aux = cf.vjp(f(cr), x, has_aux=True)
    ref, vjp_t, aux_t = tf.vjp(f(torch), tx, has_aux=True)
    assert_close((out, aux), (ref, aux_t))
    u = {"sin": draw((2, 3), 3), "pair": (draw((2, 3), 4), draw((), 5))}
    assert_close(vjp_fn({"sin": cr.tensor(u["sin"]), "pair": (cr.tensor(u["pair"][0]), cr.tensor(u["pair"][1]))}),
                 vjp_t({"sin": torch.tensor(u["sin"]), "pair": (torch.tensor(u["pair"][0]),
                                                                torch.tensor(u["pair"][1]))}))


@pytest.mark.parametrize("name", MODELS)
def test_jvp_equals_torch(name):
    _, _, ours, theirs = model(name)
    f, g = logits(cr, name), logits(torch, name)
    tangents = [draw(a.shape, 20 + i) for i, a in enumerate(ours[:5])]
    t_ours, t_theirs = both(*tangents)
    assert_close(cf.jvp(f, tuple(ours[:5]), tuple(t_ours)), tf.jvp(g, tuple(theirs[:5]), tuple(t_theirs)))
    # with respect to the input alone, the parameters closed over
    assert_close(cf.jvp(lambda x: f(x, *ours[1:5]), (ours[0],), (t_ours[0],)),
                 tf.jvp(lambda x: g(x, *theirs[1:5]), (theirs[0],), (t_theirs[0],)))


def test_jvp_has_aux_and_trees():
    x, tx = cr.tensor(draw(3, 6)), torch.tensor(draw(3, 6))
    t, tt = cr.tensor(draw(3, 7)), torch.tensor(draw(3, 7))

    def f(p):
        return {"y": p["a"].sin() * p["b"][0], "z": p["b"][0].exp()}, p["a"].sum()

    ours = cf.jvp(f, ({"a": x, "b": [x * 2]},), ({"a": t, "b": [t]},), has_aux=True)
    theirs = tf.jvp(f, ({"a": tx, "b": [tx * 2]},), ({"a": tt, "b": [tt]},), has_aux=True)
    assert_close(ours, theirs)


@pytest.mark.parametrize("name", ["mlp-tanh", "mlp-relu", "cnn-tanh"])
def test_hvp_equals_torch(name):
    f, g, ours, theirs = model(name)
    tangents = [draw(a.shape, 30 + i) for i, a in enumerate(ours[:5])]
    t_ours, t_theirs = both(*tangents)

    def on_floats(loss, labels):
        return lambda *args: loss(*args, labels)

    out, products = cf.hvp(on_floats(f, ours[5]), tuple(ours[:5]), tuple(t_ours))
    ref, refs = torch.autograd.functional.hvp(on_floats(g, theirs[5]), tuple(theirs[:5]), tuple(t_theirs))
    assert_close((out, products), (ref, refs))
    # torch.func's recipe: jvp of grad
    recipe = tf.jvp(tf.grad(on_floats(g, theirs[5]), tuple(range(5))), tuple(theirs[:5]), tuple(t_theirs))[1]
    assert_close(products, recipe)


# ----- jacrev, jacfwd, hessian ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", MODELS)
@pytest.mark.parametrize("argnums", [0, (2, 4)])
def test_jacobians_equal_torch(name, argnums):
    _, _, ours, theirs = model(name)
    f, g = logits(cr, name), logits(torch, name)
    ref = tf.jacrev(g, argnums)(*theirs[:5])
    assert_close(cf.jacrev(f, argnums)(*ours[:5]), ref)
    assert_close(cf.jacfwd(f, argnums)(*ours[:5]), ref)


def test_jacobians_of_several_outputs_and_has_aux():
    x, tx = cr.tensor(draw((2, 2), 8)), torch.tensor(draw((2, 2), 8))
    y, ty = cr.tensor(draw(3, 9)), torch.tensor(draw(3, 9))

    def f(a, b):
        return (a.sin() * b.sum(), {"outer": a.reshape(4, 1) * b}), b.mean()

    for ours_jac, torch_jac in ((cf.jacrev, tf.jacrev), (cf.jacfwd, tf.jacfwd)):
        assert_close(ours_jac(f, (0, 1), has_aux=True)(x, y), torch_jac(f, (0, 1), has_aux=True)(tx, ty))
        assert_close(ours_jac(lambda a: a.exp().sum())(x), torch_jac(lambda a: a.exp().sum())(tx))


@pytest.mark.parametrize("name", MODELS)
@pytest.mark.parametrize("argnums", [0, 2, (2, 4)])
def test_hessian_equals_torch(name, argnums):
    f, g, ours, theirs = model(name)
    assert_close(cf.hessian(f, argnums)(*ours), tf.hessian(g, argnums)(*theirs))


def test_hessian_compositions_agree():
    f, g, ours, theirs = model("mlp-tanh")
    ref = tf.hessian(g, 4)(*theirs)
    for outer in (cf.jacrev, cf.jacfwd):
        for inner in (cf.jacrev, cf.jacfwd):
            assert_close(outer(inner(f, 4), 4)(*ours), ref, f"{outer.__name__}({inner.__name__})")


# ----- functional_call --------------------------------------------------------------------------------------------
def twin_modules(kind):
    """The same model in chainrule and torch, float64, equal weights."""
    if kind == "mlp":
        ours = cr.nn.Sequential(cr.nn.Linear(3, 5), cr.nn.Tanh(), cr.nn.Linear(5, 3))
        theirs = torch.nn.Sequential(torch.nn.Linear(3, 5), torch.nn.Tanh(), torch.nn.Linear(5, 3))
    else:
        ours = cr.nn.Sequential(cr.nn.Conv2d(1, 2, 3, padding=1), cr.nn.ReLU(), cr.nn.Flatten(), cr.nn.Linear(32, 3))
        theirs = torch.nn.Sequential(torch.nn.Conv2d(1, 2, 3, padding=1), torch.nn.ReLU(), torch.nn.Flatten(),
                                     torch.nn.Linear(32, 3))
    ours.double()
    theirs.double()
    for (name, p), seed in zip(theirs.named_parameters(), range(10)):
        p.data = torch.tensor(draw(tuple(p.shape), 40 + seed) * 0.5)
    ours.load_state_dict({k: cr.tensor(v.numpy()) for k, v in theirs.state_dict().items()})
    x = draw((4, 3) if kind == "mlp" else (4, 1, 4, 4), 50)
    y = np.array([0, 2, 1, 1])
    return ours, theirs, both(x, y)


def params_of(module, lib):
    return {k: v.detach() if lib is torch else cr.tensor(v.data.copy()) for k, v in module.named_parameters()}


@pytest.mark.parametrize("kind", ["mlp", "cnn"])
def test_functional_call_gradients_equal_torch(kind):
    ours, theirs, ((x, y), (tx, ty)) = twin_modules(kind)

    def loss(module, fn):
        return lambda params, a, b: fn.cross_entropy(module_call(module, params, a), b)

    def module_call(module, params, a):
        return (tf if isinstance(module, torch.nn.Module) else cf).functional_call(module, params, (a,))

    p, tp = params_of(ours, cr), params_of(theirs, torch)
    assert_close(cf.grad(loss(ours, F))(p, x, y), tf.grad(loss(theirs, torch.nn.functional))(tp, tx, ty))
    assert_close(cf.grad_and_value(loss(ours, F))(p, x, y),
                 tf.grad_and_value(loss(theirs, torch.nn.functional))(tp, tx, ty))
    name = "2.bias" if kind == "mlp" else "3.bias"
    only = {name: p[name]}
    assert_close(cf.hessian(lambda q: loss(ours, F)(q, x, y))(only),
                 tf.hessian(lambda q: loss(theirs, torch.nn.functional)(q, tx, ty))({name: tp[name]}))
    # the module's own parameters are back and untouched
    for k, v in ours.named_parameters():
        np.testing.assert_array_equal(v.data, theirs.state_dict()[k].numpy())
        assert v.grad is None and v.requires_grad


def test_functional_call_per_sample_gradients_with_vmap():
    """torch's per-sample-gradient tutorial: vmap(grad(loss), in_dims=(None, 0, 0))."""
    ours, theirs, ((x, y), (tx, ty)) = twin_modules("cnn")

    def loss(module, fn, func):
        def compute(params, sample, target):
            out = func.functional_call(module, params, (sample.unsqueeze(0),))
            return fn.cross_entropy(out, target.unsqueeze(0))
        return compute

    per_sample = cf.vmap(cf.grad(loss(ours, F, cf)), in_dims=(None, 0, 0))(params_of(ours, cr), x, y)
    per_sample_t = tf.vmap(tf.grad(loss(theirs, torch.nn.functional, tf)), in_dims=(None, 0, 0))(
        params_of(theirs, torch), tx, ty)
    assert_close(per_sample, per_sample_t)
    assert per_sample["0.weight"].shape == (4, 2, 1, 3, 3)
    # their mean is the batch gradient
    batch = cf.grad(lambda p: F.cross_entropy(cf.functional_call(ours, p, x), y))(params_of(ours, cr))
    for k, g in batch.items():
        np.testing.assert_allclose(per_sample[k].data.mean(0), g.data, **TOL)


def test_functional_call_buffers_ties_kwargs_and_restoring_on_error():
    class Scaled(cr.nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = cr.nn.Linear(2, 2)
            self.register_buffer("scale", cr.tensor(np.array(2.0)))

        def forward(self, x, shift=0.0):
            return self.lin(x) * self.scale + shift

    m = Scaled().double()
    x = cr.tensor(draw((3, 2), 60))
    new = {"lin.weight": cr.tensor(np.eye(2)), "lin.bias": cr.tensor(np.zeros(2))}
    out = cf.functional_call(m, (new, {"scale": cr.tensor(np.array(3.0))}), x, {"shift": 1.0})
    np.testing.assert_allclose(out.data, x.data * 3 + 1)
    assert m.scale.item() == 2.0
    weight = m.lin.weight
    with pytest.raises(ZeroDivisionError):
        cf.functional_call(_Raising(m), {"inner.lin.weight": cr.tensor(np.eye(2))}, (x,))
    assert m.lin.weight is weight and m.lin._parameters["weight"] is weight
    # tied weights: one tensor under two names is replaced under both
    tied = cr.nn.Sequential(cr.nn.Linear(2, 2, bias=False), cr.nn.Linear(2, 2, bias=False)).double()
    tied[1].weight = tied[0].weight
    eye = cr.tensor(np.eye(2))
    np.testing.assert_allclose(cf.functional_call(tied, {"0.weight": eye}, x).data, x.data)
    untied = cf.functional_call(tied, {"0.weight": eye}, x, tie_weights=False).data
    np.testing.assert_allclose(untied, x.data @ tied[0].weight.data.T)
    with pytest.raises(ValueError, match="tied"):
        cf.functional_call(tied, {"0.weight": eye, "1.weight": cr.tensor(np.eye(2))}, x)


class _Raising(cr.nn.Module):
    """Calls its inner module, then raises."""

    def __init__(self, inner):
        super().__init__()
        self.inner = inner

    def forward(self, x):
        self.inner(x)
        raise ZeroDivisionError("from forward")


def test_functional_call_strict():
    m = cr.nn.Linear(2, 2)
    x = cr.randn(1, 2)
    with pytest.raises(RuntimeError, match=r"(?s)Unexpected key\(s\): 'foo'.*Missing key\(s\): 'bias'"):
        cf.functional_call(m, {"weight": cr.zeros(2, 2), "foo": cr.ones(1)}, x, strict=True)
    with pytest.raises(RuntimeError, match=r"Missing key\(s\): 'bias'"):
        cf.functional_call(m, {"weight": cr.zeros(2, 2)}, x, strict=True)
    out = cf.functional_call(m, {"weight": cr.zeros(2, 2), "foo": cr.ones(1)}, x)  # not strict: set for the call
    np.testing.assert_allclose(out.data, np.broadcast_to(m.bias.data, (1, 2)))
    assert not hasattr(m, "foo")
    with pytest.raises(ValueError, match="several dictionaries"):
        cf.functional_call(m, ({"weight": cr.zeros(2, 2)}, {"weight": cr.zeros(2, 2)}), x)
    with pytest.raises(AttributeError, match="'nope' .*not a submodule"):
        cf.functional_call(m, {"nope.weight": cr.zeros(2, 2)}, x)


# ----- vmap --------------------------------------------------------------------------------------------------------
def test_vmap_equals_torch():
    a, b = draw((4, 3, 2), 70), draw((2, 4), 71)
    (x, y), (tx, ty) = both(a, b)

    def f(p, q):
        return {"prod": p @ q, "sum": (p.sin() * 2).sum()}

    (q,), (tq,) = both(draw((2, 5), 73))
    assert_close(cf.vmap(f, in_dims=(0, None))(x, q), tf.vmap(f, in_dims=(0, None))(tx, tq))
    assert_close(cf.vmap(lambda p, q: p * q.sum(), in_dims=(2, 0))(x, y), tf.vmap(lambda p, q: p * q.sum(),
                                                                               in_dims=(2, 0))(tx, ty))
    assert_close(cf.vmap(lambda p: (p.exp(), p.sum()), in_dims=-1, out_dims=(1, 0))(x),
                 tf.vmap(lambda p: (p.exp(), p.sum()), in_dims=-1, out_dims=(1, 0))(tx))
    # nested: a function of two batch dims
    assert_close(cf.vmap(cf.vmap(lambda p: p.sum() * p, in_dims=1))(x),
                 tf.vmap(tf.vmap(lambda p: p.sum() * p, in_dims=1))(tx))
    # trees of inputs, a per-leaf in_dims
    trees = {"u": x, "v": [y]}, {"u": tx, "v": [ty]}
    assert_close(cf.vmap(lambda t: t["u"].sum() + t["v"][0].sum(), in_dims=({"u": 0, "v": [1]},))(trees[0]),
                 tf.vmap(lambda t: t["u"].sum() + t["v"][0].sum(), in_dims=({"u": 0, "v": [1]},))(trees[1]))


def test_vmap_is_differentiable_and_composes():
    x, tx = cr.tensor(draw((3, 4), 72)), torch.tensor(draw((3, 4), 72))
    row_norm = lambda v: (v * v).sum().sqrt()
    assert_close(cf.grad(lambda a: cf.vmap(row_norm)(a).sum())(x), tf.grad(lambda a: tf.vmap(row_norm)(a).sum())(tx))
    g = lambda v: v.sin() * v.sum()
    assert_close(cf.vmap(cf.jacrev(g))(x), tf.vmap(tf.jacrev(g))(tx))
    assert_close(cf.vmap(cf.hessian(row_norm))(x), tf.vmap(tf.hessian(row_norm))(tx))


# ----- errors ------------------------------------------------------------------------------------------------------
def test_errors_name_the_problem():
    x = cr.tensor(draw(3, 80))
    with pytest.raises(RuntimeError, match=r"scalar \(0-d\) Tensor, got a Tensor of shape \(3,\).*vjp or jacrev"):
        cf.grad(lambda a: a.sin())(x)
    with pytest.raises(RuntimeError, match="argnums=2, but only 1 positional"):
        cf.grad(lambda a: a.sum(), argnums=2)(x)
    with pytest.raises(RuntimeError, match="argnums must be unique"):
        cf.grad(lambda a, b: a.sum(), argnums=(0, -2))(x, x)
    with pytest.raises(RuntimeError, match="argnums must be an int or a non-empty tuple"):
        cf.jacrev(lambda a: a, argnums=[0])(x)
    with pytest.raises(TypeError, match="argument 0 must be a floating-point Tensor.*int64"):
        cf.grad(lambda a: a.sum())(cr.tensor([1, 2]))
    with pytest.raises(RuntimeError, match="has_aux=True, func must return a tuple"):
        cf.grad(lambda a: a.sum(), has_aux=True)(x)
    with pytest.raises(RuntimeError, match="tangent 0 must be a Tensor of its primal's shape"):
        cf.jvp(lambda a: a, (x,), (cr.ones(2),))
    with pytest.raises(RuntimeError, match="primals must be a tuple"):
        cf.jvp(lambda a: a, x, x)
    _, vjp_fn = cf.vjp(lambda a: a.sin(), x)
    with pytest.raises(RuntimeError, match=r"cotangent 0 must be a Tensor of its output's shape \(3,\)"):
        vjp_fn(cr.ones(4))
    with pytest.raises(ValueError, match=r"same size in the mapped dim, got sizes \[3, 2\]"):
        cf.vmap(lambda a, b: a * b.sum())(x, cr.ones(2))
    with pytest.raises(ValueError, match="in_dims has 1 entries but func got 2"):
        cf.vmap(lambda a, b: a, in_dims=(0,))(x, x)
    with pytest.raises(ValueError, match=r"in_dim=1 for an input of shape \(3,\)"):
        cf.vmap(lambda a: a, in_dims=1)(x)
    with pytest.raises(ValueError, match="at least one argument must be mapped"):
        cf.vmap(lambda a: a, in_dims=(None,))(x)
    with pytest.raises(ValueError, match="must return Tensors"):
        cf.vmap(lambda a: 1.0)(x)


# ----- the public face ------------------------------------------------------------------------------------------------
def test_exposed_as_chainrule_func():
    assert cr.func is cf
    assert set(cf.__all__) >= {"grad", "grad_and_value", "vjp", "jvp", "jacrev", "jacfwd", "hessian", "hvp", "vmap",
                               "functional_call"}
