"""chainrule.optim.lr_scheduler against torch.optim.lr_scheduler: the learning rates (and, for
OneCycleLR, the momenta) of every parameter group over 100 epochs, state_dict resumption, errors."""
import copy

import numpy as np
import pytest
import torch

import chainrule as cr
import chainrule.nn as nn
from chainrule import optim
from chainrule.optim import lr_scheduler

EPOCHS = 100
RTOL = 1e-12


def make_optimizer(lib, kind="SGD", **kwargs):
    """An optimizer of ``lib`` over two parameter groups with different learning rates."""
    params = [lib.nn.Parameter(lib.zeros(2)), lib.nn.Parameter(lib.zeros(3))]
    groups = [{"params": params[:1]}, {"params": params[1:], "lr": 0.05}]
    module = optim if lib is cr else torch.optim
    return getattr(module, kind)(groups, lr=0.1, **kwargs)


SCHEDULERS = {
    "StepLR": lambda m, o: m.StepLR(o, step_size=7, gamma=0.5),
    "StepLR_default_gamma": lambda m, o: m.StepLR(o, 30),
    "MultiStepLR": lambda m, o: m.MultiStepLR(o, milestones=[10, 25, 25, 60], gamma=0.3),
    "ExponentialLR": lambda m, o: m.ExponentialLR(o, gamma=0.95),
    "CosineAnnealingLR": lambda m, o: m.CosineAnnealingLR(o, T_max=30, eta_min=1e-3),  # past T_max: back up
    "CosineAnnealingLR_full": lambda m, o: m.CosineAnnealingLR(o, T_max=EPOCHS),
    "LinearLR_warmup": lambda m, o: m.LinearLR(o, start_factor=0.1, total_iters=10),
    "LinearLR_default": lambda m, o: m.LinearLR(o),
    "LinearLR_decay": lambda m, o: m.LinearLR(o, start_factor=1.0, end_factor=0.2, total_iters=40),
    "ConstantLR": lambda m, o: m.ConstantLR(o, factor=0.25, total_iters=8),
    "PolynomialLR": lambda m, o: m.PolynomialLR(o, total_iters=50, power=2.0),
    "LambdaLR": lambda m, o: m.LambdaLR(o, lambda e: 1.0 / (1.0 + 0.1 * e)),
    "LambdaLR_per_group": lambda m, o: m.LambdaLR(o, [lambda e: 0.97 ** e, lambda e: (e // 10 + 1) ** -0.5]),
    "MultiplicativeLR": lambda m, o: m.MultiplicativeLR(o, lambda e: 0.97 if e % 3 else 0.9),
    "OneCycleLR": lambda m, o: m.OneCycleLR(o, max_lr=[0.5, 0.2], total_steps=EPOCHS),
    "OneCycleLR_linear_three_phase": lambda m, o: m.OneCycleLR(o, max_lr=1.0, epochs=10, steps_per_epoch=10,
                                                               pct_start=0.25, anneal_strategy="linear",
                                                               three_phase=True, div_factor=10.0),
    "OneCycleLR_no_momentum": lambda m, o: m.OneCycleLR(o, max_lr=0.3, total_steps=EPOCHS, cycle_momentum=False),
    "SequentialLR_warmup_cosine": lambda m, o: m.SequentialLR(
        o, [m.LinearLR(o, start_factor=0.01, total_iters=5), m.CosineAnnealingLR(o, T_max=95)], milestones=[5]),
    "SequentialLR_three": lambda m, o: m.SequentialLR(
        o, [m.ConstantLR(o, factor=0.5, total_iters=20), m.ExponentialLR(o, 0.9), m.StepLR(o, 5, 0.7)],
        milestones=[10, 40]),
    "SequentialLR_warmup_multistep": lambda m, o: m.SequentialLR(
        o, [m.LinearLR(o, start_factor=0.2, total_iters=4), m.MultiStepLR(o, [30, 60], 0.1)], milestones=[4]),
    "ChainedScheduler": lambda m, o: m.ChainedScheduler([m.ExponentialLR(o, 0.98), m.StepLR(o, 10, 0.5),
                                                         m.LinearLR(o, 0.5, total_iters=6)]),
}
OPTIMIZER_OF = {"OneCycleLR_linear_three_phase": ("Adam", {})}  # the others run on SGD with momentum
MOMENTUM_KEYS = ("momentum", "betas")


def run(lib, name, epochs=EPOCHS):
    """Learning rates, ``get_last_lr()`` and momenta at each epoch (the first is set at construction)."""
    kind, kwargs = OPTIMIZER_OF.get(name, ("SGD", {"momentum": 0.9}))
    opt = make_optimizer(lib, kind, **kwargs)
    sched = SCHEDULERS[name](lr_scheduler if lib is cr else torch.optim.lr_scheduler, opt)
    lrs, last, momenta = [], [], []
    for epoch in range(epochs):
        if epoch:
            opt.step()
            sched.step()
        lrs.append([g["lr"] for g in opt.param_groups])
        last.append(sched.get_last_lr())
        momenta.append([g.get(k) for g in opt.param_groups for k in MOMENTUM_KEYS])
    return np.array(lrs), np.array(last), momenta


@pytest.mark.parametrize("name", sorted(SCHEDULERS))
def test_learning_rates_equal_torch_for_100_epochs(name):
    lrs, last, momenta = run(cr, name)
    lrs_t, last_t, momenta_t = run(torch, name)
    assert lrs.shape == (EPOCHS, 2)
    np.testing.assert_allclose(lrs, lrs_t, rtol=RTOL, atol=0)
    np.testing.assert_allclose(last, last_t, rtol=RTOL, atol=0)
    np.testing.assert_array_equal(last, lrs)
    assert len(np.unique(lrs[:, 0])) > 1  # the schedule did change the rate
    for epoch, (m, m_t) in enumerate(zip(momenta, momenta_t)):
        for a, b in zip(m, m_t):
            np.testing.assert_allclose(np.asarray(a, dtype=float), np.asarray(b, dtype=float), rtol=RTOL, atol=0,
                                       err_msg=f"momentum at epoch {epoch}")


def test_schedulers_drive_the_optimizer():
    """The scheduled lr is the one the optimizer uses: SGD + StepLR equals torch's on a real problem."""
    torch.manual_seed(0)
    theirs = torch.nn.Linear(3, 1).double()
    ours = nn.Linear(3, 1).double()
    ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    x = np.random.default_rng(0).standard_normal((8, 3))
    weights = []
    for lib, model, sched_module in ((cr, ours, lr_scheduler), (torch, theirs, torch.optim.lr_scheduler)):
        opt = (optim if lib is cr else torch.optim).SGD(model.parameters(), lr=0.2, momentum=0.5)
        sched = sched_module.OneCycleLR(opt, max_lr=0.5, total_steps=30)
        for _ in range(30):
            opt.zero_grad()
            (model(lib.tensor(x)) ** 2).mean().backward()
            opt.step()
            if sched.last_epoch < 29:
                sched.step()
        weights.append(model.weight.detach().numpy().copy())
    np.testing.assert_allclose(*weights, rtol=1e-10)


# ----- ReduceLROnPlateau ---------------------------------------------------------------------------
def metric_sequence(mode, seed=0):
    """A loss (mode 'min') or an accuracy ('max'): improving fast, then slowly, then a noisy plateau."""
    rng = np.random.default_rng(seed)
    epochs = np.arange(EPOCHS)
    values = 1.0 / (1.0 + epochs) + 0.3 * np.exp(-epochs / 40) + 0.002 * rng.standard_normal(EPOCHS)
    values[50:70] = values[50]  # an exact plateau
    return list(values if mode == "min" else 1.0 - values)


PLATEAU = {
    "default": dict(),
    "patience_cooldown": dict(patience=3, cooldown=2, factor=0.5),
    "abs_threshold": dict(patience=2, threshold=1e-3, threshold_mode="abs", factor=0.3),
    "max_mode": dict(mode="max", patience=4, factor=0.5),
    "max_abs": dict(mode="max", threshold_mode="abs", threshold=5e-4, patience=1, factor=0.7),
    "min_lr_per_group": dict(patience=1, factor=0.2, min_lr=[1e-3, 5e-4]),
    "min_lr_eps": dict(patience=0, factor=0.5, min_lr=1e-4, eps=1e-3),
}


@pytest.mark.parametrize("name", sorted(PLATEAU))
def test_reduce_lr_on_plateau_equals_torch(name):
    kwargs = PLATEAU[name]
    metrics = metric_sequence(kwargs.get("mode", "min"))
    results = []
    for lib, module in ((cr, lr_scheduler), (torch, torch.optim.lr_scheduler)):
        opt = make_optimizer(lib)
        sched = module.ReduceLROnPlateau(opt, **kwargs)
        lrs = []
        for value in metrics:
            opt.step()
            sched.step(value)
            lrs.append(sched.get_last_lr() + [sched.num_bad_epochs, sched.cooldown_counter, sched.best])
        results.append(np.array(lrs))
    np.testing.assert_allclose(results[0], results[1], rtol=RTOL, atol=0)
    assert len(np.unique(results[0][:, 0])) > 1  # the rate was reduced at least once


def test_reduce_lr_on_plateau_accepts_a_tensor_metric():
    opt = make_optimizer(cr)
    sched = lr_scheduler.ReduceLROnPlateau(opt, patience=0)
    sched.step(cr.tensor(1.0))
    sched.step(cr.tensor(2.0))
    assert sched.get_last_lr() == pytest.approx([0.01, 0.005])


# ----- state_dict ----------------------------------------------------------------------------------
RESUMABLE = ["StepLR", "MultiStepLR", "CosineAnnealingLR", "LinearLR_warmup", "OneCycleLR", "ConstantLR",
             "PolynomialLR", "SequentialLR_warmup_cosine", "SequentialLR_three", "ChainedScheduler", "LambdaLR",
             "MultiplicativeLR"]


@pytest.mark.parametrize("name", RESUMABLE)
def test_state_dict_mid_run_continues_identically(name):
    expected = run(cr, name)[0]
    opt = make_optimizer(cr, momentum=0.9)
    sched = SCHEDULERS[name](lr_scheduler, opt)
    for _ in range(40):
        opt.step()
        sched.step()
    saved = copy.deepcopy(opt.state_dict()), copy.deepcopy(sched.state_dict())
    # resume as torch documents: build the scheduler, then load the optimizer's and the scheduler's state
    opt2 = make_optimizer(cr, momentum=0.9)
    sched2 = SCHEDULERS[name](lr_scheduler, opt2)
    opt2.load_state_dict(saved[0])
    sched2.load_state_dict(saved[1])
    lrs = [[g["lr"] for g in opt2.param_groups]]
    for _ in range(EPOCHS - 41):
        opt2.step()
        sched2.step()
        lrs.append(sched2.get_last_lr())
    np.testing.assert_array_equal(np.array(lrs), expected[40:])


def test_reduce_lr_on_plateau_state_dict_round_trip():
    metrics = metric_sequence("min")
    opt = make_optimizer(cr)
    sched = lr_scheduler.ReduceLROnPlateau(opt, patience=3, cooldown=2)
    lrs = []
    for i, value in enumerate(metrics):
        if i == 40:
            saved = copy.deepcopy(opt.state_dict()), copy.deepcopy(sched.state_dict())
        sched.step(value)
        lrs.append(sched.get_last_lr())
    opt2 = make_optimizer(cr)
    sched2 = lr_scheduler.ReduceLROnPlateau(opt2, mode="max", patience=50)  # all restored from the state
    opt2.load_state_dict(saved[0])
    sched2.load_state_dict(saved[1])
    resumed = []
    for value in metrics[40:]:
        sched2.step(value)
        resumed.append(sched2.get_last_lr())
    assert resumed == lrs[40:]


def test_lambda_lr_state_dict_saves_callable_objects_not_functions():
    class Decay:
        def __init__(self, rate):
            self.rate = rate

        def __call__(self, epoch):
            return self.rate ** epoch

    opt = make_optimizer(cr)
    sd = lr_scheduler.LambdaLR(opt, [Decay(0.9), lambda e: 1.0]).state_dict()
    assert sd["lr_lambdas"] == [{"rate": 0.9}, None]
    other = lr_scheduler.LambdaLR(make_optimizer(cr), [Decay(0.5), lambda e: 1.0])
    other.load_state_dict(sd)
    assert other.lr_lambdas[0].rate == 0.9


def test_step_with_epoch_uses_the_closed_form_and_warns():
    for lib, module in ((cr, lr_scheduler), (torch, torch.optim.lr_scheduler)):
        opt = make_optimizer(lib)
        sched = module.StepLR(opt, step_size=3, gamma=0.5)
        opt.step()
        with pytest.warns(UserWarning):
            sched.step(7)
        assert sched.get_last_lr() == pytest.approx([0.1 * 0.25, 0.05 * 0.25], rel=1e-15)
        assert sched.last_epoch == 7


def test_resuming_with_last_epoch_needs_initial_lr():
    for lib, module in ((cr, lr_scheduler), (torch, torch.optim.lr_scheduler)):
        with pytest.raises(KeyError, match="initial_lr"):
            module.StepLR(make_optimizer(lib), step_size=3, last_epoch=5)
    opt = make_optimizer(cr)
    for group in opt.param_groups:
        group["initial_lr"] = group["lr"]
    sched = lr_scheduler.StepLR(opt, step_size=3, gamma=0.5, last_epoch=5)  # resumes at epoch 6
    assert sched.last_epoch == 6 and sched.get_last_lr() == pytest.approx([0.05, 0.025])


def test_one_cycle_lr_past_total_steps_raises_like_torch():
    messages = []
    for lib, module in ((cr, lr_scheduler), (torch, torch.optim.lr_scheduler)):
        opt = make_optimizer(lib, momentum=0.9)
        sched = module.OneCycleLR(opt, max_lr=0.1, total_steps=5)
        for _ in range(5):
            opt.step()
            sched.step()
        with pytest.raises(ValueError) as err:
            sched.step()
        messages.append(str(err.value))
    assert messages[0] == messages[1]


# ----- errors --------------------------------------------------------------------------------------
ERRORS = {
    "LinearLR_start_zero": (ValueError, lambda m, o: m.LinearLR(o, start_factor=0.0)),
    "LinearLR_start_above_one": (ValueError, lambda m, o: m.LinearLR(o, start_factor=1.5)),
    "LinearLR_end_above_one": (ValueError, lambda m, o: m.LinearLR(o, end_factor=2.0)),
    "ConstantLR_factor": (ValueError, lambda m, o: m.ConstantLR(o, factor=1.5)),
    "LambdaLR_wrong_count": (ValueError, lambda m, o: m.LambdaLR(o, [lambda e: 1.0])),
    "MultiplicativeLR_not_callable": (TypeError, lambda m, o: m.MultiplicativeLR(o, [0.9, 0.9])),
    "Plateau_factor": (ValueError, lambda m, o: m.ReduceLROnPlateau(o, factor=1.0)),
    "Plateau_mode": (ValueError, lambda m, o: m.ReduceLROnPlateau(o, mode="avg")),
    "Plateau_threshold_mode": (ValueError, lambda m, o: m.ReduceLROnPlateau(o, threshold_mode="pct")),
    "Plateau_min_lr_count": (ValueError, lambda m, o: m.ReduceLROnPlateau(o, min_lr=[0.1])),
    "OneCycle_no_length": (ValueError, lambda m, o: m.OneCycleLR(o, max_lr=0.1)),
    "OneCycle_total_steps": (ValueError, lambda m, o: m.OneCycleLR(o, max_lr=0.1, total_steps=0)),
    "OneCycle_epochs": (ValueError, lambda m, o: m.OneCycleLR(o, max_lr=0.1, epochs=-1, steps_per_epoch=10)),
    "OneCycle_steps_per_epoch": (ValueError, lambda m, o: m.OneCycleLR(o, max_lr=0.1, epochs=2, steps_per_epoch=0)),
    "OneCycle_pct_start": (ValueError, lambda m, o: m.OneCycleLR(o, max_lr=0.1, total_steps=10, pct_start=1.5)),
    "OneCycle_pct_start_int": (ValueError, lambda m, o: m.OneCycleLR(o, max_lr=0.1, total_steps=10, pct_start=1)),
    "OneCycle_anneal": (ValueError, lambda m, o: m.OneCycleLR(o, max_lr=0.1, total_steps=10, anneal_strategy="exp")),
    "OneCycle_max_lr_count": (ValueError, lambda m, o: m.OneCycleLR(o, max_lr=[0.1], total_steps=10)),
    "SequentialLR_empty": (ValueError, lambda m, o: m.SequentialLR(o, [], milestones=[])),
    "SequentialLR_milestones": (ValueError, lambda m, o: m.SequentialLR(o, [m.StepLR(o, 2), m.StepLR(o, 3)],
                                                                        milestones=[])),
    "SequentialLR_plateau": (ValueError, lambda m, o: m.SequentialLR(o, [m.StepLR(o, 2), m.ReduceLROnPlateau(o)],
                                                                     milestones=[3])),
    "ChainedScheduler_empty": (ValueError, lambda m, o: m.ChainedScheduler([])),
}


@pytest.mark.parametrize("name", sorted(ERRORS))
def test_errors_as_torch(name):
    exc, make = ERRORS[name]
    with pytest.raises(exc) as theirs:
        make(torch.optim.lr_scheduler, make_optimizer(torch))
    with pytest.raises(exc) as ours:
        make(lr_scheduler, make_optimizer(cr))
    if exc is ValueError:
        assert str(ours.value) == str(theirs.value)


def test_one_cycle_needs_a_momentum_to_cycle():
    with pytest.raises(ValueError) as theirs:
        torch.optim.lr_scheduler.OneCycleLR(make_optimizer(torch, "Adagrad"), max_lr=0.1, total_steps=10)
    with pytest.raises(ValueError) as ours:
        lr_scheduler.OneCycleLR(make_optimizer(cr, "Adagrad"), max_lr=0.1, total_steps=10)
    assert str(ours.value) == str(theirs.value)
    lr_scheduler.OneCycleLR(make_optimizer(cr, "Adagrad"), max_lr=0.1, total_steps=10, cycle_momentum=False)


def test_scheduler_needs_an_optimizer_and_one_optimizer():
    with pytest.raises(TypeError, match="is not an Optimizer"):
        lr_scheduler.StepLR(object(), step_size=2)
    with pytest.raises(TypeError, match="is not an Optimizer"):
        lr_scheduler.ReduceLROnPlateau(object())
    a, b = make_optimizer(cr), make_optimizer(cr)
    with pytest.raises(ValueError, match="same optimizer"):
        lr_scheduler.SequentialLR(a, [lr_scheduler.StepLR(a, 2), lr_scheduler.StepLR(b, 2)], milestones=[3])
    with pytest.raises(ValueError, match="same optimizer"):
        lr_scheduler.ChainedScheduler([lr_scheduler.StepLR(a, 2), lr_scheduler.StepLR(b, 2)])
