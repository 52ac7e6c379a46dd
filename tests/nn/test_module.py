"""The torch.nn.Module contract, checked against a torch twin of the same structure: registration,
traversal names and order, modes, grads, state dicts, dtype casts, repr, the containers, and Linear."""
import math
from collections import OrderedDict

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import chainrule as cr
import chainrule.nn as nn
from tests.parity import assert_parity


# ----- twins: the same structure built from either library --------------------------------------------
def make_net(lib, T):
    """A custom module with own parameters, a ModuleList, a ModuleDict holding a Sequential, an activation
    module, a persistent and a non-persistent buffer. ``lib`` is chainrule.nn or torch.nn, ``T`` the
    package with ``zeros``/``ones``."""

    class Net(lib.Module):
        def __init__(self):
            super().__init__()
            self.scale = lib.Parameter(T.ones(3))
            self.blocks = lib.ModuleList([lib.Linear(3, 4), lib.Linear(4, 4, bias=False)])
            self.heads = lib.ModuleDict({"cls": lib.Linear(4, 2), "reg": lib.Sequential(lib.Linear(4, 1), lib.Tanh())})
            self.register_buffer("running", T.zeros(4))
            self.register_buffer("scratch", T.zeros(2), persistent=False)
            self.act = lib.ReLU()
            self.offset = lib.Parameter(T.zeros(2))

        def forward(self, x):
            x = x * self.scale
            for block in self.blocks:
                x = self.act(block(x))
            return self.heads["cls"](x) + self.offset + self.heads["reg"](x)

    return Net()


def make_seq(lib):
    return lib.Sequential(lib.Linear(5, 8), lib.ReLU(), lib.Linear(8, 8), lib.Tanh(), lib.Linear(8, 3))


def make_shared(lib):
    shared = lib.Linear(2, 2)

    class Shared(lib.Module):
        def __init__(self):
            super().__init__()
            self.first = shared
            self.body = lib.Sequential(lib.Linear(2, 2), shared, lib.ReLU())
            self.last = shared

        def forward(self, x):
            return self.last(self.body(self.first(x)))

    return Shared()


TWINS = {
    "sequential": (lambda: make_seq(nn), lambda: make_seq(torch.nn)),
    "custom": (lambda: make_net(nn, cr), lambda: make_net(torch.nn, torch)),
    "shared": (lambda: make_shared(nn), lambda: make_shared(torch.nn)),
}


def numpy_state(torch_module):
    return OrderedDict((k, v.detach().numpy().copy()) for k, v in torch_module.state_dict().items())


# ----- registration ----------------------------------------------------------------------------------
def test_attribute_assignment_registers():
    m = nn.Module()
    m.w = nn.Parameter(cr.zeros(2, 3))
    m.child = nn.Linear(3, 1)
    m.register_buffer("stat", cr.ones(3))
    m.plain = cr.zeros(4)  # a plain tensor is just an attribute
    m.number = 5
    assert [n for n, _ in m.named_parameters()] == ["w", "child.weight", "child.bias"]
    assert [n for n, _ in m.named_children()] == ["child"]
    assert [n for n, _ in m.named_buffers()] == ["stat"]
    assert list(m.state_dict()) == ["w", "stat", "child.weight", "child.bias"]
    assert m.w.shape == (2, 3) and m.stat.tolist() == [1.0] * 3 and m.number == 5
    m.stat = cr.zeros(3)  # reassigning a buffer keeps it a buffer
    assert [n for n, _ in m.named_buffers()] == ["stat"] and m.stat.tolist() == [0.0] * 3
    m.w = None
    assert [n for n, _ in m.named_parameters()] == ["child.weight", "child.bias"]
    m.w = nn.Parameter(cr.zeros(1))
    del m.child
    assert [n for n, _ in m.named_parameters()] == ["w"]
    with pytest.raises(AttributeError):
        m.child


def test_assigning_a_tensor_to_a_parameter_slot_raises_like_torch():
    t = torch.nn.Linear(2, 2)
    with pytest.raises(TypeError):
        t.weight = torch.zeros(2, 2)
    lin = nn.Linear(2, 2)
    with pytest.raises(TypeError):
        lin.weight = cr.zeros(2, 2)


def test_parameter_is_a_tensor_requiring_grad():
    p = nn.Parameter(cr.zeros(3))
    assert isinstance(p, cr.Tensor) and p.requires_grad and p.is_leaf
    assert not nn.Parameter(cr.zeros(3), requires_grad=False).requires_grad
    assert repr(p) == repr(torch.nn.Parameter(torch.zeros(3)))


def test_non_persistent_buffer():
    m = nn.Module()
    m.register_buffer("kept", cr.zeros(2))
    m.register_buffer("dropped", cr.zeros(2), persistent=False)
    t = torch.nn.Module()
    t.register_buffer("kept", torch.zeros(2))
    t.register_buffer("dropped", torch.zeros(2), persistent=False)
    assert [n for n, _ in m.named_buffers()] == [n for n, _ in t.named_buffers()] == ["kept", "dropped"]
    assert list(m.state_dict()) == list(t.state_dict()) == ["kept"]


def test_register_errors():
    m = nn.Module()
    with pytest.raises(TypeError):
        m.register_buffer("b", np.zeros(2))
    with pytest.raises(TypeError):
        m.register_parameter("p", cr.zeros(2))
    with pytest.raises(TypeError):
        m.add_module("c", 3)


def test_missing_super_init_raises():
    class Bad(nn.Module):
        def __init__(self):
            self.layer = nn.Linear(1, 1)

    with pytest.raises(AttributeError, match="super"):
        Bad()


# ----- traversal against the torch twin --------------------------------------------------------------
@pytest.mark.parametrize("name", sorted(TWINS))
def test_traversal_names_and_order_as_torch(name):
    ours, theirs = TWINS[name][0](), TWINS[name][1]()
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    assert [p.shape for p in ours.parameters()] == [tuple(p.shape) for p in theirs.parameters()]
    assert [n for n, _ in ours.named_buffers()] == [n for n, _ in theirs.named_buffers()]
    assert len(list(ours.buffers())) == len(list(theirs.buffers()))
    assert [n for n, _ in ours.named_modules()] == [n for n, _ in theirs.named_modules()]
    assert [type(m).__name__ for m in ours.modules()] == [type(m).__name__ for m in theirs.modules()]
    assert [n for n, _ in ours.named_children()] == [n for n, _ in theirs.named_children()]
    assert [type(m).__name__ for m in ours.children()] == [type(m).__name__ for m in theirs.children()]
    assert [n for n, _ in ours.named_parameters(recurse=False)] == [
        n for n, _ in theirs.named_parameters(recurse=False)]
    assert [n for n, _ in ours.named_parameters(prefix="m")] == [n for n, _ in theirs.named_parameters(prefix="m")]


def test_shared_submodule_counted_once():
    m = make_shared(nn)
    assert len(list(m.parameters())) == 4  # body.0 and the shared Linear, once
    assert len({id(p) for p in m.parameters()}) == 4
    assert sum(1 for x in m.modules() if x is m.first) == 1
    assert len(list(m.children())) == 2  # torch: first, body (last is the same module as first)


@pytest.mark.parametrize("name", sorted(TWINS))
def test_state_dict_keys_as_torch(name):
    ours, theirs = TWINS[name][0](), TWINS[name][1]()
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert [v.shape for v in ours.state_dict().values()] == [tuple(v.shape) for v in theirs.state_dict().values()]


def test_state_dict_shares_memory_and_is_detached():
    m = nn.Linear(2, 3)
    sd = m.state_dict()
    assert not sd["weight"].requires_grad
    sd["weight"].data[0, 0] = 42.0
    assert m.weight.data[0, 0] == 42.0


# ----- modes and grads ------------------------------------------------------------------------------
def test_train_eval_propagate():
    m = make_net(nn, cr)
    assert all(x.training for x in m.modules())
    assert m.eval() is m
    assert not any(x.training for x in m.modules())
    m.blocks.train()
    assert m.blocks[0].training and not m.training and not m.heads["reg"][1].training
    assert m.train() is m and all(x.training for x in m.modules())
    m.train(False)
    assert not any(x.training for x in m.modules())


@pytest.mark.parametrize("set_to_none", [True, False])
def test_zero_grad(set_to_none):
    m = make_seq(nn)
    m(cr.randn(4, 5)).sum().backward()
    assert all(p.grad is not None and np.any(p.grad.numpy() != 0) for p in m.parameters())
    m.zero_grad(set_to_none=set_to_none)
    for p in m.parameters():
        if set_to_none:
            assert p.grad is None
        else:
            assert p.grad.shape == p.shape and not np.any(p.grad.numpy())
    x = cr.randn(4, 5)
    m(x).sum().backward()  # accumulation starts from zero either way
    fresh = make_seq(nn)
    fresh.load_state_dict(m.state_dict())
    fresh(x).sum().backward()
    for p, q in zip(m.parameters(), fresh.parameters()):
        np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-6)


def test_zero_grad_default_sets_to_none():
    m = nn.Linear(2, 2)
    m(cr.ones(1, 2)).sum().backward()
    m.zero_grad()
    assert m.weight.grad is None and m.bias.grad is None


def test_requires_grad_():
    m = make_net(nn, cr)
    assert m.requires_grad_(False) is m
    assert not any(p.requires_grad for p in m.parameters())
    out = m(cr.ones(2, 3))
    assert not out.requires_grad
    m.requires_grad_()
    assert all(p.requires_grad for p in m.parameters())
    assert m(cr.ones(2, 3)).requires_grad


@pytest.mark.parametrize("name", sorted(TWINS))
def test_apply_visits_like_torch(name):
    """Children first, then self; torch reaches a shared module once per distinct parent (twice here)."""
    ours, theirs = TWINS[name][0](), TWINS[name][1]()
    ours_seen, theirs_seen = [], []
    assert ours.apply(lambda m: ours_seen.append(type(m).__name__)) is ours
    theirs.apply(lambda m: theirs_seen.append(type(m).__name__))
    assert ours_seen == theirs_seen


def test_apply_for_custom_init():
    m = make_seq(nn)

    def init(mod):
        if isinstance(mod, nn.Linear):
            with cr.no_grad():
                mod.weight.fill_(0.5)
                mod.bias.zero_()

    m.apply(init)
    for lin in (m[0], m[2], m[4]):
        assert np.all(lin.weight.detach().numpy() == 0.5) and np.all(lin.bias.detach().numpy() == 0)


def test_to_double_float_cast_in_place():
    m = make_net(nn, cr)
    params = list(m.parameters())
    m(cr.ones(2, 3)).sum().backward()
    assert m.to(cr.float64) is m
    assert [id(p) for p in m.parameters()] == [id(p) for p in params]  # optimizers keep their references
    assert all(p.dtype == cr.float64 and p.grad.dtype == cr.float64 for p in m.parameters())
    assert all(b.dtype == cr.float64 for b in m.buffers())
    assert m(cr.ones(2, 3, dtype=cr.float64)).dtype == cr.float64
    assert m.float() is m and all(p.dtype == cr.float32 for p in m.parameters())
    assert m.double() is m and all(p.dtype == cr.float64 for p in m.parameters())
    assert all(isinstance(p, nn.Parameter) and p.requires_grad for p in m.parameters())


# ----- load_state_dict ---------------------------------------------------------------------------------
def test_load_state_dict_round_trip():
    a, b = make_net(nn, cr), make_net(nn, cr)
    x = cr.randn(5, 3)
    assert not np.allclose(a(x).detach().numpy(), b(x).detach().numpy())
    params_before = [id(p) for p in b.parameters()]
    result = b.load_state_dict(a.state_dict())
    assert result.missing_keys == [] and result.unexpected_keys == []
    np.testing.assert_array_equal(a(x).detach().numpy(), b(x).detach().numpy())
    assert [id(p) for p in b.parameters()] == params_before  # values copied into the same Parameters
    a.blocks[0].weight.data[...] = 0.0  # and not aliased to the source
    assert np.any(b.blocks[0].weight.detach().numpy() != 0)


def test_load_state_dict_missing_and_unexpected_keys_raise():
    m = make_seq(nn)
    sd = m.state_dict()
    del sd["2.bias"]
    sd["9.weight"] = cr.zeros(1)
    with pytest.raises(RuntimeError) as info:
        m.load_state_dict(sd)
    assert "2.bias" in str(info.value) and "9.weight" in str(info.value)
    assert "missing" in str(info.value).lower() and "unexpected" in str(info.value).lower()
    t = make_seq(torch.nn)
    tsd = t.state_dict()
    del tsd["2.bias"]
    with pytest.raises(RuntimeError):
        t.load_state_dict(tsd)


def test_load_state_dict_strict_leaves_module_unchanged_on_error():
    m = make_seq(nn)
    before = {k: v.detach().numpy().copy() for k, v in m.state_dict().items()}
    sd = {k: np.zeros(v.shape, np.float32) for k, v in m.state_dict().items()}
    sd["extra"] = np.zeros(1)
    with pytest.raises(RuntimeError, match="extra"):
        m.load_state_dict(sd)
    for k, v in m.state_dict().items():
        np.testing.assert_array_equal(v.detach().numpy(), before[k])


def test_load_state_dict_shape_mismatch_raises():
    m = make_seq(nn)
    sd = {k: v.detach().numpy() for k, v in m.state_dict().items()}
    sd["2.weight"] = np.zeros((8, 7), np.float32)
    for strict in (True, False):
        with pytest.raises(RuntimeError) as info:
            m.load_state_dict(sd, strict=strict)
        assert "2.weight" in str(info.value) and "(8, 8)" in str(info.value) and "(8, 7)" in str(info.value)
    t = make_seq(torch.nn)
    tsd = t.state_dict()
    tsd["2.weight"] = torch.zeros(8, 7)
    with pytest.raises(RuntimeError):
        t.load_state_dict(tsd, strict=False)


@pytest.mark.parametrize("state_dict", [[1, 2], None, "weights.safetensors"])
def test_load_state_dict_refuses_what_is_not_a_mapping_as_torch(state_dict):
    with pytest.raises(TypeError, match="Expected state_dict to be dict-like"):
        make_seq(torch.nn).load_state_dict(state_dict)
    with pytest.raises(TypeError, match=rf"load_state_dict: expected a dict \(a Mapping of names to tensors or "
                                        rf"arrays\), got {type(state_dict).__name__}"):
        make_seq(nn).load_state_dict(state_dict)


def test_load_state_dict_non_strict_returns_keys_like_torch():
    m, t = make_seq(nn), make_seq(torch.nn)
    sd = {k: v.detach().numpy() for k, v in t.state_dict().items()}
    del sd["0.weight"], sd["4.bias"]
    sd["head.weight"] = np.zeros(3, np.float32)
    result = m.load_state_dict(sd, strict=False)
    tsd = {k: torch.tensor(v) for k, v in sd.items()}
    ref = t.load_state_dict(tsd, strict=False)
    assert result.missing_keys == ref.missing_keys == ["0.weight", "4.bias"]
    assert result.unexpected_keys == ref.unexpected_keys == ["head.weight"]
    missing, unexpected = result
    assert missing == ["0.weight", "4.bias"] and unexpected == ["head.weight"]
    np.testing.assert_array_equal(m[2].weight.detach().numpy(), sd["2.weight"])  # the keys present were loaded


def test_load_state_dict_accepts_numpy_and_casts_dtype():
    m = nn.Linear(3, 2)
    w = np.arange(6, dtype=np.float64).reshape(2, 3)
    m.load_state_dict({"weight": w, "bias": np.array([1, 2])})
    assert m.weight.dtype == cr.float32 and m.bias.dtype == cr.float32
    np.testing.assert_array_equal(m.weight.detach().numpy(), w)
    assert m.bias.tolist() == [1.0, 2.0]


def test_load_state_dict_keeps_float64_precision():
    """A float64 source (torch tensor, list or array) must not be rounded through float32 on the way in."""
    t = torch.nn.Linear(3, 2).double()
    with torch.no_grad():
        t.weight.normal_()
        t.bias.normal_()
    for source in (t.state_dict(), numpy_state(t), {k: v.tolist() for k, v in t.state_dict().items()}):
        m = nn.Linear(3, 2).double()
        m.load_state_dict(source)
        np.testing.assert_array_equal(m.weight.detach().numpy(), t.weight.detach().numpy())
        np.testing.assert_array_equal(m.bias.detach().numpy(), t.bias.detach().numpy())


@pytest.mark.parametrize("name", sorted(TWINS))
def test_torch_state_dict_into_twin_gives_identical_outputs(name):
    ours, theirs = TWINS[name][0](), TWINS[name][1]()
    torch.manual_seed(0)
    with torch.no_grad():
        for b in theirs.buffers():
            b.uniform_()
    ours.load_state_dict(numpy_state(theirs))
    for b_ours, b_theirs in zip(ours.buffers(), theirs.buffers()):
        if b_ours is not getattr(ours, "scratch", None):
            np.testing.assert_array_equal(b_ours.detach().numpy(), b_theirs.detach().numpy())
    in_features = 5 if name == "sequential" else (3 if name == "custom" else 2)
    x = np.random.default_rng(1).standard_normal((4, in_features)).astype(np.float32)
    np.testing.assert_allclose(ours(cr.tensor(x)).detach().numpy(), theirs(torch.tensor(x)).detach().numpy(), rtol=1e-5,
                               atol=1e-6)
    ours.double()
    theirs.double()
    assert_parity(ours, theirs, x.astype(np.float64))
    for (n, p), (tn, tp) in zip(ours.named_parameters(), theirs.named_parameters()):
        assert n == tn
        np.testing.assert_allclose(p.grad.numpy(), tp.grad.numpy(), rtol=1e-7, atol=1e-9, err_msg=n)


# ----- repr ------------------------------------------------------------------------------------------
def test_repr_as_torch():
    for build in (make_seq, lambda lib: lib.Sequential(lib.Flatten(), lib.Identity(), lib.Linear(4, 2, bias=False),
                                                       lib.Sigmoid())):
        assert repr(build(nn)) == repr(build(torch.nn))
    assert repr(make_net(nn, cr)) == repr(make_net(torch.nn, torch))
    assert repr(nn.Linear(3, 4)) == "Linear(in_features=3, out_features=4, bias=True)"


# ----- containers -------------------------------------------------------------------------------------
def test_sequential_indexing_slicing_len_append():
    layers = [nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 4)]
    s = nn.Sequential(*layers)
    t = torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.ReLU(), torch.nn.Linear(3, 4))
    assert len(s) == len(t) == 3
    assert s[0] is layers[0] and s[-1] is layers[2] and s[-3] is layers[0]
    assert list(s) == layers
    head = s[1:]
    assert isinstance(head, nn.Sequential) and list(head) == layers[1:]
    assert list(head.state_dict()) == list(t[1:].state_dict()) == ["2.weight", "2.bias"]
    assert list(s[::2]) == [layers[0], layers[2]]
    with pytest.raises(IndexError):
        s[3]
    with pytest.raises(IndexError):
        s[-4]
    extra = nn.Tanh()
    assert s.append(extra) is s and len(s) == 4 and s[3] is extra
    assert [n for n, _ in s.named_children()] == ["0", "1", "2", "3"]
    x = cr.randn(5, 2)
    np.testing.assert_array_equal(s(x).detach().numpy(), extra(layers[2](layers[1](layers[0](x)))).detach().numpy())


def test_sequential_from_ordered_dict():
    od = OrderedDict([("fc", nn.Linear(2, 2)), ("act", nn.ReLU())])
    s = nn.Sequential(od)
    t = torch.nn.Sequential(OrderedDict([("fc", torch.nn.Linear(2, 2)), ("act", torch.nn.ReLU())]))
    assert list(s.state_dict()) == list(t.state_dict()) == ["fc.weight", "fc.bias"]
    assert s.fc is od["fc"] and s[1] is od["act"]


def test_module_list():
    layers = [nn.Linear(2, 2) for _ in range(3)]
    ml = nn.ModuleList(layers[:2])
    assert len(ml) == 2 and ml[0] is layers[0] and ml[-1] is layers[1]
    assert ml.append(layers[2]) is ml and len(ml) == 3
    assert ml.extend([nn.ReLU()]) is ml and len(ml) == 4
    assert list(ml)[:3] == layers
    assert [n for n, _ in ml.named_parameters()] == ["0.weight", "0.bias", "1.weight", "1.bias", "2.weight", "2.bias"]
    sliced = ml[1:3]
    assert isinstance(sliced, nn.ModuleList) and list(sliced) == layers[1:]
    tl = torch.nn.ModuleList([torch.nn.Linear(2, 2) for _ in range(3)])
    assert list(sliced.state_dict()) == list(tl[1:].state_dict())
    with pytest.raises(IndexError):
        ml[4]
    assert len(nn.ModuleList()) == 0


def test_module_dict():
    md = nn.ModuleDict({"b": nn.Linear(1, 1), "a": nn.ReLU()})
    td = torch.nn.ModuleDict({"b": torch.nn.Linear(1, 1), "a": torch.nn.ReLU()})
    assert list(md.keys()) == list(td.keys()) == ["b", "a"]  # insertion order, as torch
    assert list(md) == ["b", "a"] and len(md) == 2 and "a" in md and "z" not in md
    md["c"] = nn.Linear(1, 2)
    assert list(md.keys()) == ["b", "a", "c"] and isinstance(md["c"], nn.Linear)
    assert [k for k, _ in md.items()] == ["b", "a", "c"] and len(list(md.values())) == 3
    assert list(md.state_dict()) == ["b.weight", "b.bias", "c.weight", "c.bias"]
    with pytest.raises(KeyError):
        md["missing"]


def test_identity_and_flatten():
    x = cr.randn(2, 3, 4, 5)
    assert nn.Identity(3, foo=1)(x) is x
    a = np.random.default_rng(0).standard_normal((2, 3, 4, 5))
    for args in ((), (0,), (1, 2), (2, -1), (0, -2)):
        assert_parity(nn.Flatten(*args), torch.nn.Flatten(*args), a)
    assert nn.Flatten()(x).shape == (2, 60)
    assert repr(nn.Flatten()) == repr(torch.nn.Flatten())


# ----- Linear ---------------------------------------------------------------------------------------
@given(
    in_features=st.integers(1, 6),
    out_features=st.integers(1, 6),
    lead=st.lists(st.integers(1, 4), min_size=1, max_size=2).map(tuple),
    bias=st.booleans(),
    seed=st.integers(0, 2**16),
)
@settings(max_examples=25, deadline=None)
def test_linear_equals_torch(in_features, out_features, lead, bias, seed):
    theirs = torch.nn.Linear(in_features, out_features, bias=bias).double()
    ours = nn.Linear(in_features, out_features, bias=bias).double()
    ours.load_state_dict(numpy_state(theirs))
    x = np.random.default_rng(seed).standard_normal(lead + (in_features,))
    assert_parity(ours, theirs, x, seed=seed)
    np.testing.assert_allclose(ours.weight.grad.numpy(), theirs.weight.grad.numpy(), rtol=1e-7, atol=1e-9)
    if bias:
        np.testing.assert_allclose(ours.bias.grad.numpy(), theirs.bias.grad.numpy(), rtol=1e-7, atol=1e-9)
    else:
        assert ours.bias is None and [n for n, _ in ours.named_parameters()] == ["weight"]
    assert list(ours.state_dict()) == list(theirs.state_dict())


def test_linear_default_init_statistics():
    cr.manual_seed(0)
    in_features, out_features = 400, 500
    lin = nn.Linear(in_features, out_features)
    bound = 1 / math.sqrt(in_features)
    w, b = lin.weight.detach().numpy().ravel(), lin.bias.detach().numpy()
    assert lin.weight.dtype == cr.float32 and lin.weight.shape == (out_features, in_features)
    assert np.all(np.abs(w) <= bound) and np.all(np.abs(b) <= bound)
    assert abs(w.mean()) < 0.01 * bound
    np.testing.assert_allclose(w.std(), bound / math.sqrt(3), rtol=0.01)  # U(−a, a) has std a/√3
    # roughly uniform: the empirical CDF stays within a Kolmogorov–Smirnov band of U(−bound, bound)
    s = np.sort(w)
    cdf = (s + bound) / (2 * bound)
    n = s.size
    ks = max(np.max(np.arange(1, n + 1) / n - cdf), np.max(cdf - np.arange(n) / n))
    assert ks < 1.63 / math.sqrt(n)  # the 1% critical value
    assert w.max() > 0.99 * bound and w.min() < -0.99 * bound  # and spans the whole interval
    counts, _ = np.histogram(w, bins=10, range=(-bound, bound))
    assert counts.min() > 0.9 * n / 10


def test_linear_init_seeded_and_varies():
    cr.manual_seed(3)
    a = nn.Linear(4, 4)
    cr.manual_seed(3)
    b = nn.Linear(4, 4)
    c = nn.Linear(4, 4)
    np.testing.assert_array_equal(a.weight.detach().numpy(), b.weight.detach().numpy())
    assert not np.array_equal(b.weight.detach().numpy(), c.weight.detach().numpy())


@pytest.mark.parametrize("shape", [(2, 4), (3, 2, 5), (2,)])
def test_linear_wrong_feature_size_raises(shape):
    lin = nn.Linear(3, 2)
    with pytest.raises(ValueError) as info:
        lin(cr.zeros(*shape))
    msg = str(info.value)
    assert "Linear" in msg and "3" in msg and str(shape) in msg


def test_linear_constructor_errors():
    with pytest.raises(ValueError):
        nn.Linear(0, 3)


def test_registered_members_read_as_plain_attributes_and_stay_in_sync():
    """Parameters, buffers and submodules are mirrored into __dict__ (fast reads); every way of changing
    a registry changes the mirror with it."""
    m = nn.Module()
    p, q = nn.Parameter(cr.zeros(2)), nn.Parameter(cr.ones(2))

    def same():
        for registry in (m._parameters, m._buffers, m._modules):
            for name, value in registry.items():
                assert vars(m)[name] is value and getattr(m, name) is value

    m.w = p
    same()
    m.w = q  # replaced: same slot, new object
    assert list(m._parameters) == ["w"] and m.w is q
    m.w = None
    same()
    m.register_parameter("w", p)
    m.register_buffer("running", cr.zeros(3))
    m.running = cr.ones(3)
    m.add_module("child", nn.Linear(2, 2))
    m.child = nn.ReLU()
    same()
    assert isinstance(m.child, nn.ReLU) and m.running.data.sum() == 3
    m.child = nn.Parameter(cr.zeros(1))  # a name moves from one registry to another
    assert "child" not in m._modules and m._parameters["child"] is m.child
    same()
    for name in ("w", "running", "child"):
        delattr(m, name)
        assert name not in vars(m) and not hasattr(m, name)
    assert dir(m).count("training") == 1
