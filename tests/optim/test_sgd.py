"""chainrule.optim.SGD against torch.optim.SGD, step for step, on the same small MLP regression problem."""
import copy

import numpy as np
import pytest
import torch

import chainrule as cr
import chainrule.nn as nn
from chainrule.optim import SGD

STEPS = 32
TOL = dict(rtol=1e-9, atol=1e-11)


def make_twins(seed=0):
    """The same float64 MLP in torch and chainrule (weights copied from torch), and a regression problem."""
    torch.manual_seed(seed)
    theirs = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.Tanh(), torch.nn.Linear(8, 1)).double()
    ours = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 1)).double()
    ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((16, 4))
    y = np.sin(x.sum(1, keepdims=True)) + 0.1 * rng.standard_normal((16, 1))
    return ours, theirs, x, y


def loss_of(model, x, y, lib, sign=1.0):
    out = model(lib.tensor(x))
    return sign * ((out - lib.tensor(y)) ** 2).mean()


def param_groups(model, spec):
    """``spec``: None for all parameters in one group, else a list of (layer indices, overrides)."""
    if spec is None:
        return list(model.parameters())
    return [dict(params=[p for i in idx for p in model[i].parameters()], **over) for idx, over in spec]


def run(make_optimizer, lib, model, x, y, steps, sign=1.0):
    """Train ``steps`` steps; return the parameters (as arrays) after every step."""
    opt = make_optimizer(model)
    history = []
    for _ in range(steps):
        opt.zero_grad()
        loss_of(model, x, y, lib, sign).backward()
        opt.step()
        history.append([p.detach().numpy().copy() for p in model.parameters()])
    return history


CONFIGS = {
    "plain": (dict(lr=0.1), None),
    "momentum": (dict(lr=0.05, momentum=0.9), None),
    "dampening": (dict(lr=0.05, momentum=0.9, dampening=0.3), None),
    "nesterov": (dict(lr=0.05, momentum=0.9, nesterov=True), None),
    "weight_decay": (dict(lr=0.1, weight_decay=0.05), None),
    "weight_decay_momentum": (dict(lr=0.05, momentum=0.8, weight_decay=0.05), None),
    "maximize": (dict(lr=0.1, maximize=True), None),
    "maximize_nesterov_decay": (dict(lr=0.05, momentum=0.7, nesterov=True, weight_decay=0.01, maximize=True), None),
    "two_groups": (dict(lr=0.1), [((0,), dict()), ((2,), dict(lr=0.01))]),
    "two_groups_mixed": (dict(lr=0.02, momentum=0.9), [((0,), dict(lr=0.2, momentum=0.0)),
                                                      ((2,), dict(weight_decay=0.1, dampening=0.5))]),
}


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_sgd_equals_torch_step_for_step(name):
    kwargs, spec = CONFIGS[name]
    sign = -1.0 if kwargs.get("maximize") else 1.0  # maximize the negated loss: training still converges
    ours, theirs, x, y = make_twins()
    ours_hist = run(lambda m: SGD(param_groups(m, spec), **kwargs), cr, ours, x, y, STEPS, sign)
    theirs_hist = run(lambda m: torch.optim.SGD(param_groups(m, spec), **kwargs), torch, theirs, x, y, STEPS, sign)
    for step, (o, t) in enumerate(zip(ours_hist, theirs_hist)):
        for i, (po, pt) in enumerate(zip(o, t)):
            np.testing.assert_allclose(po, pt, **TOL, err_msg=f"{name}: parameter {i} after step {step + 1}")
    assert not np.allclose(ours_hist[0][0], ours_hist[-1][0])  # the parameters did move
    first = make_twins()[0]
    first_loss = loss_of(first, x, y, cr).item()
    assert loss_of(ours, x, y, cr).item() < first_loss  # and the loss fell


def test_parameter_without_grad_is_skipped_like_torch():
    ours, theirs, x, y = make_twins()
    unused = nn.Parameter(cr.ones(3, dtype=cr.float64))
    unused_t = torch.nn.Parameter(torch.ones(3, dtype=torch.float64))
    opt = SGD(list(ours.parameters()) + [unused], lr=0.1, momentum=0.9, weight_decay=0.1)
    opt_t = torch.optim.SGD(list(theirs.parameters()) + [unused_t], lr=0.1, momentum=0.9, weight_decay=0.1)
    for _ in range(3):
        opt.zero_grad()
        opt_t.zero_grad()
        loss_of(ours, x, y, cr).backward()
        loss_of(theirs, x, y, torch).backward()
        opt.step()
        opt_t.step()
    assert unused.tolist() == unused_t.tolist() == [1.0] * 3
    for p, t in zip(ours.parameters(), theirs.parameters()):
        np.testing.assert_allclose(p.detach().numpy(), t.detach().numpy(), **TOL)


def test_step_with_closure_returns_loss():
    ours, theirs, x, y = make_twins()
    opt, opt_t = SGD(ours.parameters(), lr=0.1), torch.optim.SGD(theirs.parameters(), lr=0.1)

    def closure():
        opt.zero_grad()
        loss = loss_of(ours, x, y, cr)
        loss.backward()
        return loss

    def closure_t():
        opt_t.zero_grad()
        loss = loss_of(theirs, x, y, torch)
        loss.backward()
        return loss

    for _ in range(3):
        loss, loss_t = opt.step(closure), opt_t.step(closure_t)
        np.testing.assert_allclose(loss.item(), loss_t.item(), **TOL)
    assert SGD(ours.parameters(), lr=0.1).step() is None


def test_float32_parameters_stay_float32():
    model = nn.Linear(3, 2)
    opt = SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=0.01)
    for _ in range(3):
        opt.zero_grad()
        (model(cr.randn(4, 3)) ** 2).mean().backward()
        opt.step()
    assert all(p.dtype == cr.float32 for p in model.parameters())
    assert all(s["momentum_buffer"].dtype == np.float32 for s in opt.state_dict()["state"].values())


# ----- state_dict ----------------------------------------------------------------------------------
@pytest.mark.parametrize("kwargs", [dict(lr=0.05, momentum=0.9), dict(lr=0.05, momentum=0.9, dampening=0.2,
                                                                    weight_decay=0.01),
                                    dict(lr=0.05, momentum=0.5, nesterov=True)])
def test_state_dict_mid_run_continues_identically(kwargs):
    ours, _, x, y = make_twins()
    opt = SGD(ours.parameters(), **kwargs)
    uninterrupted = []
    saved = None
    for step in range(2 * 16):
        if step == 16:
            saved = (copy.deepcopy(opt.state_dict()), {k: v.numpy().copy() for k, v in ours.state_dict().items()})
        opt.zero_grad()
        loss_of(ours, x, y, cr).backward()
        opt.step()
        uninterrupted.append([p.detach().numpy().copy() for p in ours.parameters()])

    opt_state, model_state = saved
    resumed = make_twins(seed=5)[0]  # different weights, overwritten by the checkpoint
    resumed.load_state_dict(model_state)
    opt2 = SGD(resumed.parameters(), lr=1.0)  # a different lr, restored from the checkpoint
    opt2.load_state_dict(opt_state)
    assert opt2.param_groups[0]["lr"] == kwargs["lr"]
    for step in range(16, 32):
        opt2.zero_grad()
        loss_of(resumed, x, y, cr).backward()
        opt2.step()
        for p, expected in zip(resumed.parameters(), uninterrupted[step]):
            np.testing.assert_array_equal(p.detach().numpy(), expected, err_msg=f"step {step + 1}")


def test_state_dict_layout_and_buffers_match_torch():
    ours, theirs, x, y = make_twins()
    opt = SGD(param_groups(ours, [((0,), dict()), ((2,), dict(lr=0.01))]), lr=0.1, momentum=0.9)
    opt_t = torch.optim.SGD(param_groups(theirs, [((0,), dict()), ((2,), dict(lr=0.01))]), lr=0.1, momentum=0.9)
    for _ in range(4):
        for o, m, lib in ((opt, ours, cr), (opt_t, theirs, torch)):
            o.zero_grad()
            loss_of(m, x, y, lib).backward()
            o.step()
    sd, sd_t = opt.state_dict(), opt_t.state_dict()
    assert [g["params"] for g in sd["param_groups"]] == [g["params"] for g in sd_t["param_groups"]] == [[0, 1], [2, 3]]
    for key in ("lr", "momentum", "dampening", "weight_decay", "nesterov", "maximize"):
        assert [g[key] for g in sd["param_groups"]] == [g[key] for g in sd_t["param_groups"]], key
    assert sorted(sd["state"]) == sorted(sd_t["state"]) == [0, 1, 2, 3]
    for i in range(4):
        np.testing.assert_allclose(np.asarray(sd["state"][i]["momentum_buffer"]),
                                   sd_t["state"][i]["momentum_buffer"].numpy(), **TOL)


def test_state_dict_is_a_snapshot():
    ours, _, x, y = make_twins()
    opt = SGD(ours.parameters(), lr=0.1, momentum=0.9)
    loss_of(ours, x, y, cr).backward()
    opt.step()
    sd = opt.state_dict()
    before = np.array(sd["state"][0]["momentum_buffer"], copy=True)
    loss_of(ours, x, y, cr).backward()
    opt.step()
    sd["param_groups"][0]["lr"] = 123.0
    np.testing.assert_array_equal(sd["state"][0]["momentum_buffer"], before)
    assert opt.param_groups[0]["lr"] == 0.1
    sd["param_groups"][0]["lr"] = 0.1
    opt2 = SGD(ours.parameters(), lr=0.1, momentum=0.9)
    opt2.load_state_dict(sd)  # the loaded buffers are the optimizer's own, not the dict's
    loss_of(ours, x, y, cr).backward()
    opt2.step()
    np.testing.assert_array_equal(sd["state"][0]["momentum_buffer"], before)


def test_load_state_dict_group_mismatch_raises():
    ours = make_twins()[0]
    sd = SGD(ours.parameters(), lr=0.1).state_dict()
    with pytest.raises(ValueError):
        SGD(param_groups(ours, [((0,), dict()), ((2,), dict())]), lr=0.1).load_state_dict(sd)
    with pytest.raises(ValueError):
        SGD(ours[0].parameters(), lr=0.1).load_state_dict(sd)


# ----- zero_grad -----------------------------------------------------------------------------------
@pytest.mark.parametrize("set_to_none", [True, False])
def test_zero_grad(set_to_none):
    ours, theirs, x, y = make_twins()
    opt, opt_t = SGD(ours.parameters(), lr=0.1), torch.optim.SGD(theirs.parameters(), lr=0.1)
    loss_of(ours, x, y, cr).backward()
    loss_of(theirs, x, y, torch).backward()
    opt.zero_grad(set_to_none=set_to_none)
    opt_t.zero_grad(set_to_none=set_to_none)
    for p, t in zip(ours.parameters(), theirs.parameters()):
        if set_to_none:
            assert p.grad is None and t.grad is None
        else:
            assert p.grad.shape == p.shape and not np.any(p.grad.numpy()) and not torch.any(t.grad)
    opt.step()  # with no or zero gradients nothing moves
    for p, t in zip(ours.parameters(), theirs.parameters()):
        np.testing.assert_array_equal(p.detach().numpy(), t.detach().numpy())


def test_zero_grad_default_sets_to_none():
    ours, _, x, y = make_twins()
    opt = SGD(ours.parameters(), lr=0.1)
    loss_of(ours, x, y, cr).backward()
    opt.zero_grad()
    assert all(p.grad is None for p in ours.parameters())


# ----- errors --------------------------------------------------------------------------------------
def p_list(lib):
    return [lib.nn.Parameter(lib.zeros(2)), lib.nn.Parameter(lib.zeros(3))]


ERRORS = {
    "negative_lr": lambda lib, opt: opt(p_list(lib), lr=-0.1),
    "negative_momentum": lambda lib, opt: opt(p_list(lib), lr=0.1, momentum=-0.5),
    "negative_weight_decay": lambda lib, opt: opt(p_list(lib), lr=0.1, weight_decay=-1e-4),
    "nesterov_without_momentum": lambda lib, opt: opt(p_list(lib), lr=0.1, nesterov=True),
    "nesterov_with_dampening": lambda lib, opt: opt(p_list(lib), lr=0.1, momentum=0.9, dampening=0.1, nesterov=True),
    "empty_parameter_list": lambda lib, opt: opt([], lr=0.1),
    "parameter_in_two_groups": lambda lib, opt: (lambda ps: opt([{"params": ps}, {"params": ps[:1]}], lr=0.1))(
        p_list(lib)),
}


@pytest.mark.parametrize("name", sorted(ERRORS))
def test_errors_as_torch(name):
    with pytest.raises(ValueError):
        ERRORS[name](torch, torch.optim.SGD)
    with pytest.raises(ValueError):
        ERRORS[name](cr, SGD)


def test_add_param_group_rejects_duplicates():
    a, b = nn.Parameter(cr.zeros(2)), nn.Parameter(cr.zeros(2))
    opt = SGD([a], lr=0.1)
    with pytest.raises(ValueError):
        opt.add_param_group({"params": [a]})
    opt.add_param_group({"params": [b], "lr": 0.5})
    assert opt.param_groups[1]["lr"] == 0.5 and opt.param_groups[1]["momentum"] == 0.0


def test_single_tensor_params_raise_type_error():
    with pytest.raises(TypeError):
        torch.optim.SGD(torch.nn.Parameter(torch.zeros(2)), lr=0.1)
    with pytest.raises(TypeError):
        SGD(nn.Parameter(cr.zeros(2)), lr=0.1)
