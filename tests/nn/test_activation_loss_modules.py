"""chainrule.nn activation and loss modules against their torch.nn twins: outputs and input gradients,
PReLU's slope gradient (one slope or one per channel), RReLU in training and evaluation, the loss
modules' weight and pos_weight buffers (state dict and dtype casts as torch), reductions, reprs, errors."""

import numpy as np
import pytest
import torch
import torch.nn as tnn

import chainrule as cr
from chainrule import nn
from tests.parity import TOL, assert_parity


def normal(shape, seed, dtype=np.float64, scale=1.0):
    x = np.random.default_rng(seed).standard_normal(shape) * scale
    return np.asarray(np.where(np.abs(x) < 1e-3, 0.5, x), dtype=dtype)  # away from the kinks at 0


def uniform(shape, seed, low=0.0, high=1.0, dtype=np.float64):
    return np.asarray(np.random.default_rng(seed).uniform(low, high, shape), dtype=dtype)


ACTIVATIONS = [
    ("ReLU", (), {}), ("ReLU", (), {"inplace": True}), ("Sigmoid", (), {}), ("Tanh", (), {}),
    ("LeakyReLU", (), {}), ("LeakyReLU", (0.2,), {}), ("LeakyReLU", (), {"negative_slope": 0.3, "inplace": True}),
    ("ELU", (), {}), ("ELU", (0.5,), {}), ("Softplus", (), {}), ("Softplus", (2.0, 5.0), {}),
    ("Softplus", (), {"beta": 0.5, "threshold": 1.0}), ("GELU", (), {}), ("GELU", ("tanh",), {}),
    ("GELU", (), {"approximate": "tanh"}), ("Softmax", (1,), {}), ("Softmax", (), {"dim": -1}), ("LogSoftmax", (0,), {}),
    ("LogSoftmax", (), {"dim": 1}), ("RReLU", (), {}), ("RReLU", (0.1, 0.5), {}),
]


@pytest.mark.parametrize("name, args, kwargs", ACTIVATIONS)
def test_activation_modules_equal_torch(name, args, kwargs):
    """Outputs, input gradients and reprs (RReLU in eval mode: the mean slope)."""
    m = getattr(nn, name)(*args, **kwargs)  # inplace is accepted and has no effect (nor a place in the repr)
    t = getattr(tnn, name)(*args, **{k: v for k, v in kwargs.items() if k != "inplace"})
    m.eval()
    t.eval()
    assert repr(m) == repr(t)
    assert list(m.parameters()) == [] and list(m.state_dict()) == []
    for dtype in (np.float64, np.float32):
        out = assert_parity(lambda x: m(x), lambda x: t(x), normal((3, 4, 2), 0, dtype, 3.0))
        assert out.dtype == dtype


@pytest.mark.parametrize("num_parameters, init, shape", [(1, 0.25, (4, 3)), (3, 0.1, (4, 3)), (3, -0.2, (2, 3, 5)),
                                                         (3, 0.5, (2, 3, 4, 4)), (1, 0.25, (2, 3, 4, 4)), (1, 0.3, (5,))])
def test_prelu_module_equals_torch_with_slope_gradient(num_parameters, init, shape):
    m = nn.PReLU(num_parameters, init, dtype=cr.float64)
    t = tnn.PReLU(num_parameters, init).double()
    assert repr(m) == repr(t) and list(m.state_dict()) == list(t.state_dict())
    np.testing.assert_allclose(m.weight.data, t.weight.detach().numpy(), rtol=1e-7)  # torch's init is float32
    with cr.no_grad():
        m.weight.data[...] = uniform(num_parameters, 1, -0.5, 0.8)
    with torch.no_grad():
        t.weight.copy_(torch.tensor(m.weight.data))
    assert_parity(lambda x: m(x), lambda x: t(x), normal(shape, 2, scale=2.0))
    assert m.weight.grad.dtype == np.float64
    np.testing.assert_allclose(m.weight.grad.data, t.weight.grad.numpy(), **TOL[np.float64])


def test_prelu_module_defaults_and_training_step():
    """torch's defaults: one slope 0.25, float32; the slope learns (moves toward what the data wants)."""
    m = nn.PReLU()
    assert m.weight.shape == (1,) and m.weight.dtype == np.float32 and m.weight.data[0] == np.float32(0.25)
    x, y = cr.tensor(-np.ones((8, 2), dtype=np.float32)), cr.tensor(np.full((8, 2), -0.5, dtype=np.float32))
    from chainrule.optim import SGD
    opt = SGD(m.parameters(), lr=0.1)
    for _ in range(100):
        opt.zero_grad()
        nn.MSELoss()(m(x), y).backward()
        opt.step()
    assert abs(m.weight.data[0] - 0.5) < 1e-3


def test_rrelu_module_training_and_eval():
    m = nn.RReLU(0.1, 0.3)
    x = cr.tensor(-np.ones((100, 100)), requires_grad=True)
    cr.manual_seed(0)
    out = m(x)
    slopes = -out.data
    assert slopes.min() >= 0.1 and slopes.max() <= 0.3 and slopes.std() > 0.05
    out.sum().backward()
    np.testing.assert_allclose(x.grad.data, slopes, rtol=1e-12)
    cr.manual_seed(0)
    np.testing.assert_array_equal(m(x).data, out.data)
    m.eval()
    np.testing.assert_allclose(m(x).data, np.full((100, 100), -0.2), rtol=1e-12)


# ----- loss modules ---------------------------------------------------------------------------------
def _loss_cases():
    """(name, kwargs for both with the weights as NumPy arrays, input, target, does the target get a gradient)."""
    logits, idx = normal((5, 4, 3), 0, scale=2.0), np.random.default_rng(1).integers(0, 4, (5, 3))
    idx[0, 0] = idx[2, 1] = 7
    probs = uniform((4, 3), 2, 0.05, 0.95)
    cw, ew = uniform(4, 3, 0.5, 2.0), uniform(3, 4, 0.5, 2.0)
    cases = []
    for reduction in ("mean", "sum", "none"):
        r = {"reduction": reduction}
        cases += [
            ("CrossEntropyLoss", {**r}, logits, np.where(idx == 7, 1, idx), False),
            ("CrossEntropyLoss", {**r, "weight": cw, "ignore_index": 7, "label_smoothing": 0.15}, logits, idx, False),
            ("CrossEntropyLoss", {**r, "weight": cw, "label_smoothing": 0.1}, logits, uniform((5, 4, 3), 5), True),
            ("NLLLoss", {**r, "weight": cw, "ignore_index": 7}, logits, idx, False),
            ("MSELoss", {**r}, probs, uniform((4, 3), 6), True),
            ("L1Loss", {**r}, probs, uniform((4, 3), 6), True),
            ("SmoothL1Loss", {**r, "beta": 0.2}, normal((4, 3), 7), probs, True),
            ("SmoothL1Loss", {**r, "beta": 0.0}, normal((4, 3), 7), probs, True),
            ("BCELoss", {**r, "weight": ew}, probs, uniform((4, 3), 8), True),
            ("BCEWithLogitsLoss", {**r, "weight": ew, "pos_weight": uniform(3, 9, 0.5, 4.0)}, normal((4, 3), 10, scale=5.0),
             uniform((4, 3), 11), True),
        ]
    return cases


LOSS_CASES = _loss_cases()
LOSS_IDS = [f"{c[0]}-{c[1]['reduction']}-" + "-".join(sorted(k for k in c[1] if k != "reduction")) + f"-{i}"
            for i, c in enumerate(LOSS_CASES)]


@pytest.mark.parametrize("name, kwargs, x, target, target_grad", LOSS_CASES, ids=LOSS_IDS)
def test_loss_modules_equal_torch(name, kwargs, x, target, target_grad):
    ours = {k: cr.tensor(v) if isinstance(v, np.ndarray) else v for k, v in kwargs.items()}
    theirs = {k: torch.tensor(v) if isinstance(v, np.ndarray) else v for k, v in kwargs.items()}
    m, t = getattr(nn, name)(**ours), getattr(tnn, name)(**theirs)
    if target_grad:  # the gradient w.r.t. a float target too, where torch gives one
        assert_parity(lambda a, b: m(a, b), lambda a, b: t(a, b), x, target)
    else:
        assert_parity(lambda a: m(a, target), lambda a: t(a, torch.tensor(target)), x)


@pytest.mark.parametrize("name, kwargs", [("CrossEntropyLoss", {"weight"}), ("NLLLoss", {"weight"}), ("BCELoss", {"weight"}),
                                          ("BCEWithLogitsLoss", {"weight", "pos_weight"})])
def test_loss_weight_buffers_like_torch(name, kwargs):
    """weight and pos_weight are buffers: in named_buffers and the state dict (as torch's), cast by .double()."""
    values = {k: np.arange(1.0, 4.0, dtype=np.float32) for k in kwargs}
    m = getattr(nn, name)(**{k: cr.tensor(v) for k, v in values.items()})
    t = getattr(tnn, name)(**{k: torch.tensor(v) for k, v in values.items()})
    assert [n for n, _ in m.named_buffers()] == [n for n, _ in t.named_buffers()]
    assert list(m.state_dict()) == list(t.state_dict())
    assert list(m.parameters()) == []
    m.double()
    for k in kwargs:
        assert getattr(m, k).dtype == np.float64 and not getattr(m, k).requires_grad
    m.load_state_dict({k: v.numpy() * 2 for k, v in t.state_dict().items()})
    for k in kwargs:
        np.testing.assert_array_equal(getattr(m, k).data, 2 * values[k])
    empty = getattr(nn, name)()
    assert empty.weight is None and list(empty.state_dict()) == list(getattr(tnn, name)().state_dict()) == []


def test_loss_modules_defaults_like_torch():
    for name in ("CrossEntropyLoss", "NLLLoss", "MSELoss", "L1Loss", "SmoothL1Loss", "BCELoss", "BCEWithLogitsLoss"):
        m, t = getattr(nn, name)(), getattr(tnn, name)()
        assert m.reduction == t.reduction == "mean"
        assert repr(m) == repr(t)
        for attr in ("ignore_index", "label_smoothing", "beta"):
            if hasattr(t, attr):
                assert getattr(m, attr) == getattr(t, attr), (name, attr)


def test_loss_module_reprs():
    """torch's repr of a loss is its bare name; chainrule adds the reduction when it is not the mean."""
    assert repr(nn.CrossEntropyLoss(label_smoothing=0.1, ignore_index=3)) == "CrossEntropyLoss()"
    assert repr(nn.NLLLoss(reduction="sum")) == "NLLLoss(reduction='sum')"
    assert repr(nn.BCEWithLogitsLoss(reduction="none", pos_weight=cr.tensor([2.0]))) == "BCEWithLogitsLoss(reduction='none')"


def test_loss_module_errors():
    for name in ("CrossEntropyLoss", "NLLLoss", "MSELoss", "L1Loss", "SmoothL1Loss", "BCELoss", "BCEWithLogitsLoss"):
        with pytest.raises(ValueError, match=f"{name}: reduction must be one of \\('none', 'mean', 'sum'\\), got 'avg'"):
            getattr(nn, name)(reduction="avg")
    with pytest.raises(IndexError, match=r"cross_entropy: target class 5 out of range \[0, 4\)"):
        nn.CrossEntropyLoss()(cr.tensor(normal((2, 4), 0)), cr.tensor([1, 5]))
    with pytest.raises(ValueError, match=r"cross_entropy: weight must have shape \(4,\), one per class, got \(3,\)"):
        nn.CrossEntropyLoss(weight=cr.ones(3))(cr.tensor(normal((2, 4), 0)), cr.tensor([1, 2]))
