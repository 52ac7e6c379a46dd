"""Regression guard on the structure of one training step (a count, not a timing): how many graph nodes
a step of LeNet-5 (modern), ResNet-20 and the MLP records, that a forward under ``no_grad`` records none,
and that a float32 model stays float32 (nothing float64 saved for backward or produced by a backward). For
inference (eval() under no_grad) the guard counts the ops run, recorded or not: each is a pass over memory.

A node is one ``Function`` that ``Function.apply`` recorded (its output's ``_ctx``); the graph is walked
from the loss through ``_ctx.inputs``. The counts are exact on purpose: if an op is split, fused, added or
removed, the listing below must be updated with it, and the change shows in review.
"""
import collections

import numpy as np
import pytest

import chainrule as cr
from chainrule import models, optim
from chainrule.autograd import Function
from chainrule.nn import functional as F
from chainrule.tensor import Tensor

# LeNet-5 (modern), in forward order: conv and Linear carry their bias inside the node, and Flatten is one
# Reshape.
LENET5_NODES = [
    "Conv2d", "ReLU", "MaxPool2d",      # conv1 1→6 5×5 pad 2, act, pool
    "Conv2d", "ReLU", "MaxPool2d",      # conv2 6→16 5×5, act, pool
    "Reshape",                          # flatten(1): 16×5×5 → 400
    "Linear", "ReLU",                   # 400 → 120
    "Linear", "ReLU",                   # 120 → 84
    "Linear",                           # 84 → 10
    "CrossEntropy",                     # fused log-softmax + NLL
]
# The MLP 64-128-64-10: its leading Flatten gets a 2-D input and records nothing.
MLP_NODES = ["Linear", "ReLU", "Linear", "ReLU", "Linear", "CrossEntropy"]
# ResNet-20 (option A), 112 nodes. A BatchNorm call is 3 nodes: Reshape of γ and of β to (1, C, 1, 1), and
# Normalize. Stem: conv, BN (3), ReLU = 5. Each of the 9 BasicBlocks: conv, BN (3), ReLU, conv, BN (3), Add
# (the shortcut), ReLU = 11 → 99. The two option-A shortcuts (into layer2 and layer3): GetItem
# (x[:, :, ::2, ::2]) and Pad (zero channels) = 4. Head: AdaptiveAvgPool2d(1) (one node), Reshape (flatten),
# Linear, CrossEntropy = 4.
RESNET20_NODES = {
    "Conv2d": 1 + 2 * 9,
    "Reshape": 2 * (1 + 2 * 9) + 1,
    "Normalize": 1 + 2 * 9,
    "ReLU": 1 + 2 * 9,
    "Add": 9,
    "GetItem": 2,
    "Pad": 2,
    "AdaptiveAvgPool2d": 1,
    "Linear": 1,
    "CrossEntropy": 1,
}

CASES = {
    "lenet5": (lambda: models.lenet5(variant="modern"), (4, 1, 28, 28)),
    "resnet20": (lambda: models.resnet20(), (2, 3, 32, 32)),
    "mlp": (lambda: models.mlp([64, 128, 64, 10]), (4, 64)),
    "vgg11_bn": (lambda: models.vgg_cifar(11), (2, 3, 32, 32)),
}
# Inference: the ops an eval() forward under no_grad runs. An eval BatchNorm is 7: its scale γ/√(σ² + ε) and
# shift β − μ·scale from the running statistics (Reshape ×2, Mul ×2, Neg, Add: tiny, (C,)-sized) and one
# ChannelAffine pass x·scale + shift over the activations. ResNet-20's Add: 19 shifts + 9 shortcuts.
INFERENCE_OPS = {
    "lenet5": {"Conv2d": 2, "ReLU": 4, "MaxPool2d": 2, "Reshape": 1, "Linear": 3},
    "mlp": {"Linear": 3, "ReLU": 2},
    "resnet20": {"Conv2d": 19, "Reshape": 2 * 19 + 1, "Mul": 2 * 19, "Neg": 19, "Add": 19 + 9, "ChannelAffine": 19,
                 "ReLU": 19, "GetItem": 2, "Pad": 2, "AdaptiveAvgPool2d": 1, "Linear": 1},
    "vgg11_bn": {"Conv2d": 8, "Reshape": 2 * 8 + 1, "Mul": 2 * 8, "Neg": 8, "Add": 8, "ChannelAffine": 8, "ReLU": 8 + 2,
                 "MaxPool2d": 5, "AdaptiveAvgPool2d": 1, "Linear": 3},
}


@pytest.fixture
def recorded(monkeypatch):
    """Counts the nodes ``Function.apply`` records (outputs given a ``_ctx``); ``recorded[0]`` is the count."""
    count = [0]
    apply = Function.__dict__["apply"].__func__

    def counting_apply(cls, *inputs, **kwargs):
        out = apply(cls, *inputs, **kwargs)
        if any(o._ctx is not None for o in (out if isinstance(out, tuple) else (out,))):
            count[0] += 1
        return out

    monkeypatch.setattr(Function, "apply", classmethod(counting_apply))
    return count


def graph_nodes(root):
    """The Functions reachable from ``root``, each after the nodes of its inputs (forward order)."""
    order, seen, stack = [], set(), [(root._ctx, False)]
    while stack:
        fn, finished = stack.pop()
        if finished:
            order.append(fn)
            continue
        if fn is None or id(fn) in seen:
            continue
        seen.add(id(fn))
        stack.append((fn, True))
        for x in reversed(fn.inputs):  # the first input's subgraph comes first
            if isinstance(x, Tensor) and x._ctx is not None:
                stack.append((x._ctx, False))
    return order


def float_arrays(value):
    """The floating NumPy arrays and scalars in a node attribute (looking into Tensors, tuples and lists)."""
    if isinstance(value, Tensor):
        value = value.data
    if isinstance(value, (np.ndarray, np.generic)):
        return [value] if value.dtype.kind == "f" else []
    if isinstance(value, (tuple, list)):
        return [a for v in value for a in float_arrays(v)]
    return []


def assert_float32_only(nodes):
    """Every floating array a node saved or received (inputs included) is float32; each backward is wrapped
    to check the gradients it gets and returns (the engine would silently cast a float64 one back)."""
    for fn in nodes:
        for attr, value in vars(fn).items():
            for a in float_arrays(value):
                assert a.dtype == np.float32, f"{type(fn).__name__}.{attr} saved a {a.dtype} array in a float32 model"

        def checked(*gs, fn=fn, backward=fn.backward):  # one gradient per output (None for an integer one)
            for g in gs:
                assert g is None or g.dtype == np.float32, f"{type(fn).__name__}.backward received a {g.dtype} gradient"
            grads = backward(*gs)
            for gx in grads:
                assert gx is None or gx.dtype == np.float32, f"{type(fn).__name__}.backward returned {gx.dtype}"
            return grads

        fn.backward = checked  # an instance attribute, dropped with the rest when backward releases the node


def batch(shape):
    rng = np.random.default_rng(0)
    return cr.tensor(rng.standard_normal(shape).astype(np.float32)), cr.tensor(np.arange(shape[0]) % 10)


def training_step(name, recorded):
    """One step (zero_grad, forward, cross_entropy, backward, SGD momentum step) checked for float64;
    returns the nodes reachable from the loss and how many the whole step recorded."""
    cr.manual_seed(0)
    build, shape = CASES[name]
    model = build()
    opt = optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    x, y = batch(shape)
    recorded[0] = 0
    opt.zero_grad()
    loss = F.cross_entropy(model(x), y)
    nodes = graph_nodes(loss)
    assert loss.dtype == cr.float32
    assert_float32_only(nodes)
    loss.backward()
    opt.step()
    for p in model.parameters():
        assert p.dtype == cr.float32 and p.grad.dtype == cr.float32
    for state in opt.state.values():
        for v in state.values():
            assert all(a.dtype == np.float32 for a in float_arrays(v)), "optimizer state is not float32"
    return nodes, recorded[0]


@pytest.mark.parametrize("name, expected", [("lenet5", LENET5_NODES), ("mlp", MLP_NODES)])
def test_chain_models_record_one_node_per_op(name, expected, recorded):
    nodes, count = training_step(name, recorded)
    assert [type(fn).__name__ for fn in nodes] == expected
    assert count == len(expected), "the step recorded nodes that the loss does not depend on"


def test_resnet20_step_records_112_nodes(recorded):
    nodes, count = training_step("resnet20", recorded)
    assert sum(RESNET20_NODES.values()) == 112
    assert dict(collections.Counter(type(fn).__name__ for fn in nodes)) == RESNET20_NODES
    assert count == 112, "the step recorded nodes that the loss does not depend on"


@pytest.mark.parametrize("train", [False, True], ids=["eval", "train"])
@pytest.mark.parametrize("name", list(CASES))
def test_forward_under_no_grad_records_nothing(name, train, recorded):
    build, shape = CASES[name]
    model = build().train(train)
    x, _ = batch(shape)
    recorded[0] = 0
    with cr.no_grad():
        out = model(x)
    assert recorded[0] == 0
    assert out._ctx is None and not out.requires_grad
    assert out.dtype == cr.float32


@pytest.mark.parametrize("name", list(CASES))
def test_inference_runs_the_listed_ops(name, monkeypatch):
    """An eval() forward under no_grad: exactly the ops of INFERENCE_OPS, none recorded, nothing kept for a
    backward (no node holds the activations)."""
    applied = collections.Counter()
    apply = Function.__dict__["apply"].__func__

    def counting_apply(cls, *inputs, **kwargs):
        applied[cls.__name__] += 1
        out = apply(cls, *inputs, **kwargs)
        assert all(o._ctx is None for o in (out if isinstance(out, tuple) else (out,)))
        return out

    build, shape = CASES[name]
    model = build().eval()
    x, _ = batch(shape)
    monkeypatch.setattr(Function, "apply", classmethod(counting_apply))
    with cr.no_grad():
        model(x)
    assert dict(applied) == INFERENCE_OPS[name]
