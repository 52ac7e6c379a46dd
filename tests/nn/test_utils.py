"""chainrule.nn.utils gradient clipping against torch.nn.utils: the returned total norm, the clipped
gradients, non-finite detection, and clipping inside a training loop."""
import numpy as np
import pytest
import torch

import chainrule as cr
import chainrule.nn as nn
from chainrule.nn.utils import clip_grad_norm_, clip_grad_value_
from chainrule.optim import SGD

TOL = dict(rtol=1e-12, atol=1e-14)
SHAPES = [(3, 4), (5,), (2, 3, 2), ()]


def twins(seed=0, scale=1.0, dtype=np.float64, none_at=(), poison=None):
    """Parameters with the same gradients in chainrule and torch; ``none_at``: indices left without a
    gradient; ``poison``: a value written into the first gradient."""
    rng = np.random.default_rng(seed)
    ours, theirs = [], []
    for i, shape in enumerate(SHAPES):
        w = rng.standard_normal(shape).astype(dtype)
        g = (scale * rng.standard_normal(shape)).astype(dtype)
        if i == 0 and poison is not None:
            g.flat[3] = poison
        p, t = nn.Parameter(cr.tensor(w)), torch.nn.Parameter(torch.tensor(w))
        if i not in none_at:
            p.grad, t.grad = cr.tensor(g.copy()), torch.tensor(g.copy())
        ours.append(p)
        theirs.append(t)
    return ours, theirs


def grads(params):
    return [None if p.grad is None else np.array(p.grad.detach().numpy() if isinstance(p, torch.Tensor)
                                                 else p.grad.numpy(), copy=True) for p in params]


def assert_grads_equal(ours, theirs, **tol):
    for i, (a, b) in enumerate(zip(grads(ours), grads(theirs))):
        if b is None:
            assert a is None, f"parameter {i} got a gradient"
        else:
            np.testing.assert_allclose(a, b, **(tol or TOL), err_msg=f"gradient {i}")


NORM_TYPES = [2.0, 1.0, float("inf"), -float("inf"), 0.0, 3.5, 0.5, "inf"]


@pytest.mark.parametrize("norm_type", NORM_TYPES)
@pytest.mark.parametrize("max_norm", [0.5, 1e6])
def test_clip_grad_norm_equals_torch(norm_type, max_norm):
    ours, theirs = twins(none_at=(1,))
    total = clip_grad_norm_(ours, max_norm, norm_type)
    total_t = torch.nn.utils.clip_grad_norm_(theirs, max_norm, norm_type)
    assert isinstance(total, cr.Tensor) and total.shape == () and total.dtype == cr.float64
    np.testing.assert_allclose(total.item(), total_t.item(), **TOL)
    assert_grads_equal(ours, theirs)
    if max_norm == 1e6:  # nothing to clip: the gradients are unchanged
        assert_grads_equal(ours, twins(none_at=(1,))[0], rtol=0, atol=0)


def test_clipped_gradients_have_the_max_norm():
    ours, _ = twins(scale=10.0)
    before = clip_grad_norm_(ours, 1.0).item()
    assert before > 1.0
    flat = np.concatenate([g.ravel() for g in grads(ours)])
    np.testing.assert_allclose(np.linalg.norm(flat), 1.0 / (1 + 1e-6 / before), rtol=1e-12)
    assert clip_grad_norm_(ours, 1.0).item() == pytest.approx(1.0, rel=1e-6)


def test_clip_grad_norm_float32_like_torch():
    ours, theirs = twins(dtype=np.float32, scale=3.0)
    total = clip_grad_norm_(ours, 0.1)
    total_t = torch.nn.utils.clip_grad_norm_(theirs, 0.1)
    assert total.dtype == cr.float32
    np.testing.assert_allclose(total.item(), total_t.item(), rtol=1e-6)
    assert_grads_equal(ours, theirs, rtol=1e-6, atol=1e-7)
    assert all(g.dtype == np.float32 for g in grads(ours))


def test_clip_grad_norm_single_tensor_and_no_gradients():
    ours, theirs = twins()
    total = clip_grad_norm_(ours[0], 0.3, norm_type=1)
    total_t = torch.nn.utils.clip_grad_norm_(theirs[0], 0.3, norm_type=1)
    np.testing.assert_allclose(total.item(), total_t.item(), **TOL)
    assert_grads_equal(ours[:1], theirs[:1])
    for params, lib_clip in ((twins(none_at=range(4))[0], clip_grad_norm_), ([], clip_grad_norm_)):
        total = lib_clip(params, 1.0)
        assert total.item() == 0.0 and total.dtype == cr.float32  # torch.tensor(0.0): the default dtype
    assert torch.nn.utils.clip_grad_norm_([], 1.0).item() == 0.0


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), -float("inf")])
@pytest.mark.parametrize("norm_type", [2.0, 1.0, float("inf")])
def test_non_finite_norm_raises_like_torch(bad, norm_type):
    ours, theirs = twins(poison=bad)
    with pytest.raises(RuntimeError) as theirs_err:
        torch.nn.utils.clip_grad_norm_(theirs, 1.0, norm_type, error_if_nonfinite=True)
    with pytest.raises(RuntimeError) as ours_err:
        clip_grad_norm_(ours, 1.0, norm_type, error_if_nonfinite=True)
    assert str(ours_err.value) == str(theirs_err.value)
    assert_grads_equal(ours, twins(poison=bad)[0], rtol=0, atol=0)  # untouched
    assert_grads_equal(theirs, ours, rtol=0, atol=0)


@pytest.mark.parametrize("bad", [float("nan"), float("inf")])
@pytest.mark.parametrize("norm_type", [2.0, float("inf")])
def test_non_finite_norm_without_error_scales_like_torch(bad, norm_type):
    ours, theirs = twins(poison=bad)
    total = clip_grad_norm_(ours, 1.0, norm_type)
    total_t = torch.nn.utils.clip_grad_norm_(theirs, 1.0, norm_type)
    np.testing.assert_equal(total.item(), total_t.item())  # nan or inf, the same
    for a, b in zip(grads(ours), grads(theirs)):
        np.testing.assert_array_equal(a, b)  # NaN-aware: an inf norm zeroes (inf·0 = nan), a NaN norm spreads


@pytest.mark.parametrize("clip_value", [0.0, 0.3, 1.0, 100])
def test_clip_grad_value_equals_torch(clip_value):
    ours, theirs = twins(scale=2.0, none_at=(2,))
    assert clip_grad_value_(ours, clip_value) is None
    torch.nn.utils.clip_grad_value_(theirs, clip_value)
    assert_grads_equal(ours, theirs, rtol=0, atol=0)
    assert max(np.abs(g).max() for g in grads(ours) if g is not None) <= clip_value
    single, single_t = twins(scale=2.0)
    clip_grad_value_(single[0], 0.5)
    torch.nn.utils.clip_grad_value_(single_t[0], 0.5)
    assert_grads_equal(single, single_t, rtol=0, atol=0)


@pytest.mark.parametrize("clip", ["norm", "norm_inf", "value"])
def test_clipping_in_a_training_loop_equals_torch(clip):
    """30 SGD steps on large gradients, clipped before each step, parameters compared after each step."""
    torch.manual_seed(0)
    theirs = torch.nn.Sequential(torch.nn.Linear(4, 16), torch.nn.Tanh(), torch.nn.Linear(16, 1)).double()
    ours = nn.Sequential(nn.Linear(4, 16), nn.Tanh(), nn.Linear(16, 1)).double()
    ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    rng = np.random.default_rng(0)
    x, y = 3 * rng.standard_normal((32, 4)), 10 * rng.standard_normal((32, 1))
    opt, opt_t = SGD(ours.parameters(), lr=0.1, momentum=0.5), torch.optim.SGD(theirs.parameters(), lr=0.1, momentum=0.5)
    clipped = 0
    for step in range(30):
        for o, model, lib in ((opt, ours, cr), (opt_t, theirs, torch)):
            o.zero_grad()
            ((model(lib.tensor(x)) - lib.tensor(y)) ** 2).mean().backward()
        if clip == "value":
            clip_grad_value_(ours.parameters(), 0.5)
            torch.nn.utils.clip_grad_value_(theirs.parameters(), 0.5)
        else:
            norm_type = 2.0 if clip == "norm" else float("inf")
            total = clip_grad_norm_(ours.parameters(), 1.0, norm_type).item()
            total_t = torch.nn.utils.clip_grad_norm_(theirs.parameters(), 1.0, norm_type).item()
            np.testing.assert_allclose(total, total_t, rtol=1e-9, err_msg=f"norm at step {step}")
            clipped += total > 1.0
        opt.step()
        opt_t.step()
        for p, t in zip(ours.parameters(), theirs.parameters()):
            np.testing.assert_allclose(p.detach().numpy(), t.detach().numpy(), rtol=1e-9, atol=1e-11,
                                       err_msg=f"after step {step + 1}")
    assert clip == "value" or clipped > 0
