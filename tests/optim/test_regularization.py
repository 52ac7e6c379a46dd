"""Regularization [note 003]: L2 as weight decay (the (1 − ηλ) shrink, kept off biases and
normalization parameters), L1 as a loss term (the sgn(w) update) and as SGD's proximal option
(exact zeros), on problems where the effect can be checked."""
import numpy as np
import pytest
import torch

import chainrule as cr
import chainrule.nn as nn
from chainrule.nn.utils import l1_penalty, l2_penalty, param_groups
from chainrule.optim import SGD, AdamW

TOL = dict(rtol=1e-12, atol=1e-14)


def sparse_regression(seed=0, n=200, d=30, support=(2, 7, 11, 20)):
    """y = X·w* + b* + noise with only ``len(support)`` non-zero weights in w*."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, d))
    w_true = np.zeros(d)
    w_true[list(support)] = [2.0, -1.5, 1.0, -0.8]
    y = x @ w_true + 0.5 + 0.05 * rng.standard_normal(n)
    return x, y[:, None], w_true


def fit(x, y, steps=400, lr=0.1, l1=0.0, weight_decay=0.0, penalty=None):
    """Full-batch SGD on the mean squared error of a float64 linear model; the bias is never regularized."""
    model = nn.Linear(x.shape[1], 1).double()
    with cr.no_grad():
        model.weight.fill_(0.1)
        model.bias.fill_(0.0)
    opt = SGD([{"params": [model.weight], "l1": l1, "weight_decay": weight_decay}, {"params": [model.bias]}], lr=lr)
    xt, yt = cr.tensor(x), cr.tensor(y)
    for _ in range(steps):
        opt.zero_grad()
        loss = ((model(xt) - yt) ** 2).mean()
        if penalty is not None:
            loss = loss + penalty(model)
        loss.backward()
        opt.step()
    return model


def data_gradient(model, x, y):
    """∂C₀/∂w of the mean squared error at the model's weights."""
    residual = x @ model.weight.detach().numpy().T + model.bias.detach().numpy() - y
    return 2 * (x.T @ residual).ravel() / len(x)


def test_proximal_l1_gives_exact_zeros_where_l2_and_the_subgradient_do_not():
    x, y, w_true = sparse_regression()
    lam = 0.05
    proximal = fit(x, y, l1=lam).weight.detach().numpy().ravel()
    subgradient = fit(x, y, penalty=lambda m: l1_penalty([m.weight], lam)).weight.detach().numpy().ravel()
    ridge = fit(x, y, weight_decay=lam).weight.detach().numpy().ravel()

    off_support = w_true == 0
    assert np.all(proximal[off_support] == 0.0)  # exactly zero, every irrelevant feature [note 003: L1 → sparse]
    assert np.all(proximal[~off_support] != 0.0)  # and the true features kept
    assert not np.any(np.signbit(proximal[proximal == 0]))  # +0.0, not −0.0
    assert np.count_nonzero(ridge == 0.0) == 0  # L2 shrinks towards zero but never reaches it
    assert np.count_nonzero(subgradient == 0.0) == 0  # sgn(w) steps jump across zero
    # the subgradient iterates hover within about one step η·λ of zero instead
    assert np.max(np.abs(subgradient[off_support])) < 2 * 0.1 * lam
    assert np.max(np.abs(ridge[off_support])) > 1e-4


def test_proximal_l1_reaches_the_lasso_optimum():
    """Lasso optimality (KKT) for min C₀(w) + λ‖w‖₁: |∂C₀/∂w_j| ≤ λ where w_j = 0, ∂C₀/∂w_j = −λ·sgn(w_j) elsewhere."""
    x, y, _ = sparse_regression(seed=1)
    lam = 0.05
    model = fit(x, y, l1=lam, steps=600)
    w = model.weight.detach().numpy().ravel()
    g = data_gradient(model, x, y)
    zero = w == 0
    assert zero.sum() >= 20
    assert np.all(np.abs(g[zero]) <= lam + 1e-9)
    np.testing.assert_allclose(g[~zero], -lam * np.sign(w[~zero]), atol=1e-9)


def test_soft_threshold_step_by_hand():
    w = nn.Parameter(cr.tensor([0.5, -0.5, 0.01, -0.01, 0.0, 0.02], dtype=cr.float64))
    opt = SGD([w], lr=0.1, l1=0.2)  # threshold η·l1 = 0.02
    w.grad = cr.zeros(6, dtype=cr.float64)
    opt.step()
    np.testing.assert_allclose(w.tolist(), [0.48, -0.48, 0.0, 0.0, 0.0, 0.0], rtol=1e-15, atol=0)
    assert not np.any(np.signbit(w.detach().numpy()[2:]))
    w.grad = cr.tensor([0.0, 0.0, 0.1, -0.1, 0.15, 0.3], dtype=cr.float64)  # |g| < l1 keeps a zero at zero
    opt.step()
    np.testing.assert_allclose(w.tolist(), [0.46, -0.46, 0.0, 0.0, 0.0, -0.01], rtol=1e-14, atol=1e-17)


def test_l1_is_off_by_default_and_kept_in_state_dict():
    a = nn.Parameter(cr.zeros(2))
    opt = SGD([{"params": [a], "l1": 0.1}], lr=0.1)
    assert SGD([nn.Parameter(cr.zeros(1))]).defaults["l1"] == 0.0
    sd = opt.state_dict()
    assert sd["param_groups"][0]["l1"] == 0.1
    opt2 = SGD([a], lr=0.1)
    opt2.load_state_dict(sd)
    assert opt2.param_groups[0]["l1"] == 0.1
    with pytest.raises(ValueError, match="Invalid l1 value: -0.1"):
        SGD([a], lr=0.1, l1=-0.1)


# ----- the penalty terms ---------------------------------------------------------------------------
def penalty_twins(seed=0):
    rng = np.random.default_rng(seed)
    arrays = [rng.standard_normal(s) for s in [(3, 4), (4,), (2, 2, 3)]]
    arrays[0][0, 0] = 0.0  # |w| at 0: gradient 0, as torch
    return ([nn.Parameter(cr.tensor(a)) for a in arrays], [torch.nn.Parameter(torch.tensor(a)) for a in arrays])


@pytest.mark.parametrize("lam", [1.0, 0.03])
def test_penalties_and_their_gradients_equal_torch(lam):
    for ours_fn, torch_fn in ((l1_penalty, lambda ps: lam * sum(p.abs().sum() for p in ps)),
                              (l2_penalty, lambda ps: lam / 2 * sum((p ** 2).sum() for p in ps))):
        ours, theirs = penalty_twins()
        value, value_t = ours_fn(ours, lam), torch_fn(theirs)
        assert value.shape == () and value.dtype == cr.float64
        np.testing.assert_allclose(value.item(), value_t.item(), **TOL)
        value.backward()
        value_t.backward()
        for p, t in zip(ours, theirs):
            np.testing.assert_allclose(p.grad.numpy(), t.grad.numpy(), **TOL)


def test_penalty_gradients_are_the_notes_terms():
    """∂/∂w of λ·Σ|w| is λ·sgn(w); of (λ/2)·Σw² is λ·w [note 003]."""
    ours, _ = penalty_twins()
    l1_penalty(ours, 0.3).backward()
    for p in ours:
        np.testing.assert_array_equal(p.grad.numpy(), 0.3 * np.sign(p.detach().numpy()))
        p.grad = None
    l2_penalty(ours, 0.3).backward()
    for p in ours:
        np.testing.assert_allclose(p.grad.numpy(), 0.3 * p.detach().numpy(), **TOL)
    single = nn.Parameter(cr.tensor([-2.0, 3.0]))
    assert l1_penalty(single, 0.5).item() == 2.5 and l2_penalty(single, 0.5).item() == 3.25
    with pytest.raises(ValueError, match="empty"):
        l1_penalty([], 0.1)


def test_l2_penalty_in_the_loss_equals_weight_decay_and_torch():
    """SGD on C₀ + (λ/2)·Σw² ≡ SGD(weight_decay=λ) ≡ torch's, 30 steps: w ← (1 − ηλ)·w − η·∂C₀/∂w."""
    x, y, _ = sparse_regression()
    lam, steps = 0.1, 30
    with_penalty = fit(x, y, steps=steps, penalty=lambda m: l2_penalty([m.weight], lam))
    with_decay = fit(x, y, steps=steps, weight_decay=lam)
    np.testing.assert_allclose(with_penalty.weight.detach().numpy(), with_decay.weight.detach().numpy(), **TOL)
    torch_model = torch.nn.Linear(x.shape[1], 1).double()
    with torch.no_grad():
        torch_model.weight.fill_(0.1)
        torch_model.bias.fill_(0.0)
    opt = torch.optim.SGD([{"params": [torch_model.weight], "weight_decay": lam}, {"params": [torch_model.bias]}],
                          lr=0.1)
    for _ in range(steps):
        opt.zero_grad()
        ((torch_model(torch.tensor(x)) - torch.tensor(y)) ** 2).mean().backward()
        opt.step()
    np.testing.assert_allclose(with_decay.weight.detach().numpy(), torch_model.weight.detach().numpy(), rtol=1e-10)


def test_weight_decay_is_the_one_minus_eta_lambda_shrink():
    w = nn.Parameter(cr.tensor([1.0, -2.0, 4.0], dtype=cr.float64))
    opt = SGD([w], lr=0.1, weight_decay=0.5)
    for _ in range(5):
        w.grad = cr.zeros(3, dtype=cr.float64)  # no data gradient: only the decay acts
        opt.step()
    np.testing.assert_allclose(w.tolist(), [0.95 ** 5, -2 * 0.95 ** 5, 4 * 0.95 ** 5], rtol=1e-14)


def test_l1_penalty_step_is_the_notes_update():
    """w' = w − ηλ·sgn(w) − η·∂C₀/∂w [note 003], one SGD step on C₀ + λ·Σ|w|."""
    x, y, _ = sparse_regression()
    start = fit(x, y, steps=5)  # non-trivial weights of both signs
    w0 = start.weight.detach().numpy().copy()
    g0 = data_gradient(start, x, y)
    eta, lam = 0.1, 0.05
    opt = SGD([start.weight], lr=eta)
    opt.zero_grad()
    (((start(cr.tensor(x)) - cr.tensor(y)) ** 2).mean() + l1_penalty([start.weight], lam)).backward()
    opt.step()
    np.testing.assert_allclose(start.weight.detach().numpy().ravel(),
                               w0.ravel() - eta * lam * np.sign(w0.ravel()) - eta * g0, rtol=1e-10, atol=1e-13)


# ----- the decay / no-decay groups -----------------------------------------------------------------
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3)
        self.bn = nn.BatchNorm2d(4)
        self.gn = nn.GroupNorm(2, 4)
        self.inorm = nn.InstanceNorm2d(4, affine=True)
        self.ln = nn.LayerNorm((4, 6))  # a 2-D γ: excluded because it belongs to a norm layer
        self.fc = nn.Linear(24, 5)
        self.bn1 = nn.BatchNorm1d(5)
        self.head = nn.Linear(5, 2, bias=False)
        self.scale = nn.Parameter(cr.ones(5))  # a free 1-D parameter


def names_of(model, params):
    ids = {id(p) for p in params}
    return sorted(n for n, p in model.named_parameters() if id(p) in ids)


def test_param_groups_leave_biases_and_norm_parameters_out():
    model = Net()
    decay, no_decay = param_groups(model, 5e-4, lr=0.3)
    assert decay["weight_decay"] == 5e-4 and no_decay["weight_decay"] == 0.0
    assert decay["lr"] == no_decay["lr"] == 0.3
    assert names_of(model, decay["params"]) == ["conv.weight", "fc.weight", "head.weight"]
    assert names_of(model, no_decay["params"]) == sorted([
        "conv.bias", "bn.weight", "bn.bias", "gn.weight", "gn.bias", "inorm.weight", "inorm.bias", "ln.weight",
        "ln.bias", "fc.bias", "bn1.weight", "bn1.bias", "scale"])
    assert len(decay["params"]) + len(no_decay["params"]) == len(list(model.parameters()))
    # without the 1-D rule, a free 1-D parameter is decayed; biases and norm parameters still are not
    decay, no_decay = param_groups(model, 5e-4, skip_1d=False)
    assert names_of(model, decay["params"]) == ["conv.weight", "fc.weight", "head.weight", "scale"]
    # a model without anything to exempt gives one group
    assert len(param_groups(nn.Linear(3, 2, bias=False), 0.1)) == 1
    with pytest.raises(TypeError, match="Module"):
        param_groups(list(model.parameters()), 0.1)


@pytest.mark.parametrize("make", [lambda g: SGD(g, lr=0.1, momentum=0.9), lambda g: AdamW(g, lr=0.1)])
def test_param_groups_in_an_optimizer_shrink_only_the_weights(make):
    model = Net()
    opt = make(param_groups(model, 0.5))
    before = {n: p.detach().numpy().copy() for n, p in model.named_parameters()}
    for p in model.parameters():
        p.grad = cr.zeros_like(p)  # no data gradient: only the decay acts
    opt.step()
    for n, p in model.named_parameters():
        if n in ("conv.weight", "fc.weight", "head.weight"):
            np.testing.assert_allclose(p.detach().numpy(), 0.95 * before[n], rtol=1e-6)
        else:
            np.testing.assert_array_equal(p.detach().numpy(), before[n], err_msg=n)
