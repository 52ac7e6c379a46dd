"""Adam, AdamW, Adagrad, RMSprop and Adadelta against their torch.optim twins, step for step, on the
same small MLP regression problem (float64, parameters compared after every step)."""
import copy

import numpy as np
import pytest
import torch

import chainrule as cr
import chainrule.nn as nn
from chainrule import optim

STEPS = 32
TOL = dict(rtol=1e-9, atol=1e-11)
NAMES = ["Adam", "AdamW", "Adagrad", "RMSprop", "Adadelta"]


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


def groups_of(model, spec):
    """``spec``: None for all parameters in one group, else a list of (layer indices, overrides)."""
    if spec is None:
        return list(model.parameters())
    return [dict(params=[p for i in idx for p in model[i].parameters()], **over) for idx, over in spec]


def train(opt, model, x, y, lib, steps, sign=1.0):
    """``steps`` optimizer steps; the parameters (as arrays) after every step."""
    history = []
    for _ in range(steps):
        opt.zero_grad()
        loss_of(model, x, y, lib, sign).backward()
        opt.step()
        history.append([p.detach().numpy().copy() for p in model.parameters()])
    return history


def assert_histories_equal(ours, theirs, label, **tol):
    for step, (o, t) in enumerate(zip(ours, theirs)):
        for i, (po, pt) in enumerate(zip(o, t)):
            np.testing.assert_allclose(po, pt, **(tol or TOL), err_msg=f"{label}: parameter {i} after step {step + 1}")


def as_numpy_state(torch_state_dict):
    """A torch optimizer state dict with tensors turned into arrays and ``step`` into a float."""
    state = {i: {k: (float(v) if k == "step" else v.numpy().copy()) for k, v in s.items()}
             for i, s in torch_state_dict["state"].items()}
    return {"state": state, "param_groups": copy.deepcopy(torch_state_dict["param_groups"])}


two_groups = [((0,), dict()), ((2,), dict(lr=0.003))]
CONFIGS = {
    "Adam": {
        "plain": (dict(lr=0.01), None),
        "betas_eps": (dict(lr=0.02, betas=(0.5, 0.9), eps=1e-6), None),
        "weight_decay": (dict(lr=0.01, weight_decay=0.1), None),
        "amsgrad": (dict(lr=0.02, amsgrad=True), None),
        "amsgrad_weight_decay": (dict(lr=0.01, amsgrad=True, weight_decay=0.05), None),
        "decoupled": (dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True), None),
        "maximize": (dict(lr=0.01, maximize=True, weight_decay=0.01), None),
        "maximize_amsgrad": (dict(lr=0.01, maximize=True, amsgrad=True), None),
        "two_groups": (dict(lr=0.01), two_groups),
        "two_groups_mixed": (dict(lr=0.01), [((0,), dict(amsgrad=True, betas=(0.8, 0.99))),
                                              ((2,), dict(weight_decay=0.1, eps=1e-4))]),
    },
    "AdamW": {
        "default_decay": (dict(lr=0.01), None),
        "strong_decay": (dict(lr=0.01, weight_decay=0.5), None),
        "no_decay": (dict(lr=0.01, weight_decay=0.0), None),
        "amsgrad": (dict(lr=0.02, amsgrad=True, weight_decay=0.1), None),
        "maximize": (dict(lr=0.01, maximize=True), None),
        "two_groups": (dict(lr=0.01), [((0,), dict(weight_decay=0.2)), ((2,), dict(weight_decay=0.0, lr=0.03))]),
    },
    "Adagrad": {
        "plain": (dict(lr=0.1), None),
        "lr_decay": (dict(lr=0.1, lr_decay=0.05), None),
        "weight_decay": (dict(lr=0.1, weight_decay=0.1), None),
        "initial_accumulator": (dict(lr=0.1, initial_accumulator_value=0.3, eps=1e-6), None),
        "everything": (dict(lr=0.2, lr_decay=0.01, weight_decay=0.05, initial_accumulator_value=0.1), None),
        "maximize": (dict(lr=0.1, maximize=True, lr_decay=0.01), None),
        "two_groups": (dict(lr=0.1), [((0,), dict(lr_decay=0.1)), ((2,), dict(lr=0.03, weight_decay=0.1))]),
    },
    "RMSprop": {
        "plain": (dict(lr=0.01), None),
        "alpha": (dict(lr=0.01, alpha=0.9, eps=1e-6), None),
        "weight_decay": (dict(lr=0.01, weight_decay=0.1), None),
        "momentum": (dict(lr=0.005, momentum=0.9), None),
        "centered": (dict(lr=0.01, centered=True), None),
        "centered_momentum_decay": (dict(lr=0.005, centered=True, momentum=0.8, weight_decay=0.05), None),
        "maximize": (dict(lr=0.01, maximize=True, momentum=0.5), None),
        "two_groups": (dict(lr=0.01), [((0,), dict(centered=True)), ((2,), dict(momentum=0.9, lr=0.002))]),
    },
    "Adadelta": {
        "plain": (dict(), None),
        "rho_eps": (dict(lr=0.5, rho=0.95, eps=1e-5), None),
        "weight_decay": (dict(lr=1.0, weight_decay=0.1), None),
        "maximize": (dict(lr=1.0, maximize=True), None),
        "two_groups": (dict(lr=1.0), [((0,), dict(rho=0.8)), ((2,), dict(lr=0.3, weight_decay=0.05))]),
    },
}
CASES = [(name, config) for name in NAMES for config in CONFIGS[name]]


@pytest.mark.parametrize("name,config", CASES)
def test_equals_torch_step_for_step(name, config):
    kwargs, spec = CONFIGS[name][config]
    sign = -1.0 if kwargs.get("maximize") else 1.0  # maximize the negated loss: training still converges
    ours, theirs, x, y = make_twins()
    opt = getattr(optim, name)(groups_of(ours, spec), **kwargs)
    opt_t = getattr(torch.optim, name)(groups_of(theirs, spec), **kwargs)
    ours_hist = train(opt, ours, x, y, cr, STEPS, sign)
    theirs_hist = train(opt_t, theirs, x, y, torch, STEPS, sign)
    assert_histories_equal(ours_hist, theirs_hist, f"{name} {config}")
    assert not np.allclose(ours_hist[0][0], ours_hist[-1][0])  # the parameters did move
    assert loss_of(ours, x, y, cr).item() < loss_of(make_twins()[0], x, y, cr).item()  # and the loss fell
    # the optimizer state, in torch's layout, holds the same moments
    sd, sd_t = opt.state_dict(), opt_t.state_dict()
    assert sorted(sd["state"]) == sorted(sd_t["state"])
    for i, state_t in sd_t["state"].items():
        assert sorted(sd["state"][i]) == sorted(state_t), f"state keys of parameter {i}"
        for key, value in state_t.items():
            if key == "step":
                assert sd["state"][i]["step"] == float(value) == STEPS
            else:
                assert sd["state"][i][key].dtype == np.float64
                np.testing.assert_allclose(sd["state"][i][key], value.numpy(), **TOL, err_msg=f"{key} of {i}")
    for group, group_t in zip(sd["param_groups"], sd_t["param_groups"]):
        assert group["params"] == group_t["params"]
        assert {k: v for k, v in group.items() if k in group_t} == {k: group_t[k] for k in group if k in group_t}


@pytest.mark.parametrize("name", NAMES)
def test_defaults_and_hyper_parameter_names_match_torch(name):
    p, p_t = nn.Parameter(cr.zeros(2)), torch.nn.Parameter(torch.zeros(2))
    defaults, defaults_t = getattr(optim, name)([p]).defaults, getattr(torch.optim, name)([p_t]).defaults
    torch_only = {"foreach", "capturable", "differentiable", "fused"}  # device-execution switches
    assert set(defaults) == set(defaults_t) - torch_only
    assert defaults == {k: defaults_t[k] for k in defaults}


# ----- state_dict ----------------------------------------------------------------------------------
RESUME = {
    "Adam": dict(lr=0.01, amsgrad=True, weight_decay=0.01),
    "AdamW": dict(lr=0.01, weight_decay=0.1),
    "Adagrad": dict(lr=0.1, lr_decay=0.05, initial_accumulator_value=0.1),
    "RMSprop": dict(lr=0.005, centered=True, momentum=0.9),
    "Adadelta": dict(lr=1.0, rho=0.95, weight_decay=0.01),
}


@pytest.mark.parametrize("name", NAMES)
def test_state_dict_mid_run_continues_identically(name):
    kwargs, cls = RESUME[name], getattr(optim, name)
    ours, _, x, y = make_twins()
    opt = cls(groups_of(ours, two_groups), **kwargs)
    first = train(opt, ours, x, y, cr, 16)
    saved = (copy.deepcopy(opt.state_dict()), {k: v.numpy().copy() for k, v in ours.state_dict().items()})
    uninterrupted = first + train(opt, ours, x, y, cr, 16)

    opt_state, model_state = saved
    resumed = make_twins(seed=5)[0]  # different weights, overwritten by the checkpoint
    resumed.load_state_dict(model_state)
    opt2 = cls(groups_of(resumed, two_groups), lr=1.0)  # other hyper-parameters, restored from the checkpoint
    opt2.load_state_dict(opt_state)
    assert [g["lr"] for g in opt2.param_groups] == [kwargs["lr"], 0.003]
    continued = train(opt2, resumed, x, y, cr, 16)
    for step, (a, b) in enumerate(zip(continued, uninterrupted[16:])):
        for p, expected in zip(a, b):
            np.testing.assert_array_equal(p, expected, err_msg=f"{name}: step {17 + step}")


@pytest.mark.parametrize("name", NAMES)
def test_state_dict_interchangeable_with_torch(name):
    """torch's state dict, arrays in place of tensors, resumes our optimizer on torch's trajectory."""
    kwargs = RESUME[name]
    ours, theirs, x, y = make_twins()
    opt_t = getattr(torch.optim, name)(groups_of(theirs, two_groups), **kwargs)
    train(opt_t, theirs, x, y, torch, 16)
    ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    opt = getattr(optim, name)(groups_of(ours, two_groups), lr=1.0)
    opt.load_state_dict(as_numpy_state(opt_t.state_dict()))
    assert_histories_equal(train(opt, ours, x, y, cr, 16), train(opt_t, theirs, x, y, torch, 16), name)


def test_state_dict_is_a_snapshot():
    ours, _, x, y = make_twins()
    opt = optim.Adam(ours.parameters(), lr=0.01)
    train(opt, ours, x, y, cr, 1)
    sd = opt.state_dict()
    before = sd["state"][0]["exp_avg"].copy()
    train(opt, ours, x, y, cr, 1)
    np.testing.assert_array_equal(sd["state"][0]["exp_avg"], before)
    assert sd["state"][0]["step"] == 1.0 and opt.state_dict()["state"][0]["step"] == 2.0


# ----- parameter groups ----------------------------------------------------------------------------
@pytest.mark.parametrize("name", NAMES)
def test_add_param_group_mid_run_equals_torch(name):
    kwargs = RESUME[name]
    ours, theirs, x, y = make_twins()
    histories = []
    for lib, model, module in ((cr, ours, optim), (torch, theirs, torch.optim)):
        opt = getattr(module, name)(model[0].parameters(), **kwargs)
        history = train(opt, model, x, y, lib, 10)
        opt.add_param_group({"params": list(model[2].parameters()), "lr": kwargs["lr"] / 2})
        assert opt.param_groups[1]["lr"] == kwargs["lr"] / 2
        assert {k: v for k, v in opt.param_groups[1].items() if k not in ("params", "lr")} == \
            {k: v for k, v in opt.param_groups[0].items() if k not in ("params", "lr")}
        histories.append(history + train(opt, model, x, y, lib, 22))
    assert_histories_equal(*histories, name)


@pytest.mark.parametrize("name", NAMES)
def test_parameter_without_grad_is_skipped_like_torch(name):
    ours, theirs, x, y = make_twins()
    unused, unused_t = nn.Parameter(cr.ones(3, dtype=cr.float64)), torch.nn.Parameter(torch.ones(3, dtype=torch.float64))
    opt = getattr(optim, name)(list(ours.parameters()) + [unused], **RESUME[name])
    opt_t = getattr(torch.optim, name)(list(theirs.parameters()) + [unused_t], **RESUME[name])
    assert_histories_equal(train(opt, ours, x, y, cr, 5), train(opt_t, theirs, x, y, torch, 5), name)
    assert unused.tolist() == unused_t.tolist() == [1.0] * 3
    # lazy state (Adagrad: created at construction) for exactly the same parameters as torch
    assert sorted(opt.state_dict()["state"]) == sorted(opt_t.state_dict()["state"])


def test_adagrad_honours_a_groups_own_initial_accumulator_value():
    """A documented difference: torch ignores a group's ``initial_accumulator_value``; we use it."""
    a, b = nn.Parameter(cr.zeros(2)), nn.Parameter(cr.zeros(3))
    opt = optim.Adagrad([{"params": [a]}, {"params": [b], "initial_accumulator_value": 0.5}], lr=0.1)
    sd = opt.state_dict()["state"]
    assert sd[0]["sum"].tolist() == [0.0, 0.0] and sd[1]["sum"].tolist() == [0.5] * 3
    c = nn.Parameter(cr.zeros(1))
    opt.add_param_group({"params": [c], "initial_accumulator_value": 0.25})
    c.grad = cr.ones(1)
    opt.step()
    assert opt.state_dict()["state"][2]["sum"].tolist() == [1.25]


# ----- behaviour -----------------------------------------------------------------------------------
@pytest.mark.parametrize("name", NAMES)
def test_step_with_closure_returns_loss(name):
    ours, theirs, x, y = make_twins()
    opt, opt_t = getattr(optim, name)(ours.parameters()), getattr(torch.optim, name)(theirs.parameters())

    def closure(o=opt, model=ours, lib=cr):
        o.zero_grad()
        loss = loss_of(model, x, y, lib)
        loss.backward()
        return loss

    for _ in range(3):
        loss, loss_t = opt.step(closure), opt_t.step(lambda: closure(opt_t, theirs, torch))
        np.testing.assert_allclose(loss.item(), loss_t.item(), **TOL)
    assert opt.step() is None


@pytest.mark.parametrize("name", NAMES)
def test_float32_parameters_and_state_stay_float32(name):
    model = nn.Linear(3, 2)
    opt = getattr(optim, name)(model.parameters(), **RESUME[name], **({"maximize": True} if name != "AdamW" else {}))
    for _ in range(3):
        opt.zero_grad()
        (model(cr.randn(4, 3)) ** 2).mean().backward()
        opt.step()
    assert all(p.dtype == cr.float32 for p in model.parameters())
    arrays = [v for s in opt.state_dict()["state"].values() for v in s.values() if isinstance(v, np.ndarray)]
    assert arrays and all(a.dtype == np.float32 for a in arrays)


@pytest.mark.parametrize("name", NAMES)
def test_update_invalidates_a_graph_that_saved_the_old_weights(name):
    """The in-place update bumps the parameter's version, so backward through a stale graph fails (as in torch)."""
    ours, _, x, y = make_twins()
    opt = getattr(optim, name)(ours.parameters())
    loss_of(ours, x, y, cr).backward()
    stale = loss_of(ours, x, y, cr)
    opt.step()
    with pytest.raises(RuntimeError, match="modified by an in-place"):
        stale.backward()


def test_adamw_decays_where_adam_with_zero_gradient_does_not_move():
    """Decoupled decay: with a zero gradient AdamW still shrinks w by (1 − ηλ) per step; Adam's coupled
    decay goes through the adaptive scale instead."""
    w = nn.Parameter(cr.tensor([2.0, -1.0], dtype=cr.float64))
    opt = optim.AdamW([w], lr=0.1, weight_decay=0.5)
    for _ in range(3):
        w.grad = cr.zeros(2, dtype=cr.float64)
        opt.step()
    np.testing.assert_allclose(w.tolist(), [2.0 * 0.95 ** 3, -1.0 * 0.95 ** 3], rtol=1e-15)


# ----- errors --------------------------------------------------------------------------------------
def p_list(lib):
    return [lib.nn.Parameter(lib.zeros(2)), lib.nn.Parameter(lib.zeros(3))]


def in_two_groups(lib, cls):
    ps = p_list(lib)
    return cls([{"params": ps}, {"params": ps[:1]}])


ERRORS = [(name, "negative_lr", lambda lib, cls: cls(p_list(lib), lr=-0.1)) for name in NAMES] + \
    [(name, "empty_parameter_list", lambda lib, cls: cls([])) for name in NAMES] + \
    [(name, "parameter_in_two_groups", in_two_groups) for name in NAMES] + \
    [(name, "negative_eps", lambda lib, cls: cls(p_list(lib), eps=-1e-8)) for name in NAMES] + \
    [(name, "negative_weight_decay", lambda lib, cls: cls(p_list(lib), weight_decay=-0.1)) for name in NAMES] + \
    [(name, f"betas_{betas}", lambda lib, cls, betas=betas: cls(p_list(lib), betas=betas))
     for name in ("Adam", "AdamW") for betas in [(1.0, 0.999), (-0.1, 0.999), (0.9, 1.0), (0.9, 1.5), (0.9, -0.5)]] + [
    ("Adagrad", "negative_lr_decay", lambda lib, cls: cls(p_list(lib), lr_decay=-0.1)),
    ("Adagrad", "negative_initial_accumulator", lambda lib, cls: cls(p_list(lib), initial_accumulator_value=-1.0)),
    ("RMSprop", "negative_alpha", lambda lib, cls: cls(p_list(lib), alpha=-0.5)),
    ("RMSprop", "negative_momentum", lambda lib, cls: cls(p_list(lib), momentum=-0.5)),
    ("Adadelta", "rho_above_one", lambda lib, cls: cls(p_list(lib), rho=1.5)),
    ("Adadelta", "negative_rho", lambda lib, cls: cls(p_list(lib), rho=-0.1)),
]


@pytest.mark.parametrize("name,case,make", ERRORS, ids=[f"{n}-{c}" for n, c, _ in ERRORS])
def test_errors_as_torch(name, case, make):
    with pytest.raises(ValueError) as theirs:
        make(torch, getattr(torch.optim, name))
    with pytest.raises(ValueError) as ours:
        make(cr, getattr(optim, name))
    assert str(ours.value) == str(theirs.value)


@pytest.mark.parametrize("name", NAMES + ["SGD"])
def test_a_nan_learning_rate_is_rejected(name):
    # torch's SGD lets lr=nan through (its check is lr < 0); every optimizer here shares one check, NaN outside
    with pytest.raises(ValueError, match="Invalid learning rate: nan"):
        getattr(optim, name)(p_list(cr), lr=float("nan"))


@pytest.mark.parametrize("name", NAMES)
def test_add_param_group_rejects_a_parameter_already_present(name):
    a, b = nn.Parameter(cr.zeros(2)), nn.Parameter(cr.zeros(2))
    a_t = torch.nn.Parameter(torch.zeros(2))
    opt, opt_t = getattr(optim, name)([a]), getattr(torch.optim, name)([a_t])
    with pytest.raises(ValueError) as ours:
        opt.add_param_group({"params": [b, a]})
    with pytest.raises(ValueError) as theirs:
        opt_t.add_param_group({"params": [torch.nn.Parameter(torch.zeros(2)), a_t]})
    assert str(ours.value) == str(theirs.value)
    assert len(opt.param_groups) == 1


@pytest.mark.parametrize("name", NAMES)
def test_single_tensor_params_raise_type_error(name):
    with pytest.raises(TypeError):
        getattr(torch.optim, name)(torch.nn.Parameter(torch.zeros(2)))
    with pytest.raises(TypeError):
        getattr(optim, name)(nn.Parameter(cr.zeros(2)))
