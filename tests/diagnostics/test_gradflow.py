"""The gradient-flow monitor [notes 000–004]: a 20-layer sigmoid MLP is flagged as vanishing, a
ReLU + He-initialized residual MLP of the same depth as healthy, a net trained with a huge learning
rate as exploding (non-finite gradients); dead ReLUs and saturated sigmoids are measured; the
per-step statistics, the hook-in through ``fit`` and the plot; memory stays flat over a long run while
the report still judges all of it."""
import itertools
import math
import tracemalloc

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn, optim
from chainrule.data import ArrayDataset, DataLoader
from chainrule.diagnostics import GradientFlow
from chainrule.diagnostics.gradflow import TRACE_SIZE
from chainrule.models import mlp
from chainrule.nn import init
from chainrule.nn.functional import cross_entropy, mse_loss
from chainrule.train import fit

DEPTH = 20


def _data(n=64, features=32, classes=10, seed=0):
    rng = np.random.default_rng(seed)
    return (cr.tensor(rng.standard_normal((n, features)).astype(np.float32)),
            cr.tensor(rng.integers(0, classes, n)))


def _backward(model, monitor, x, y, steps=1):
    for _ in range(steps):
        model.zero_grad()
        cross_entropy(model(x), y).backward()
        monitor.record()
    return monitor.report()


class Residual(nn.Module):
    """x + relu(W x + b), W He-initialized, b = 0."""

    def __init__(self, width):
        super().__init__()
        self.fc, self.act = nn.Linear(width, width), nn.ReLU()
        init.kaiming_normal_(self.fc.weight, nonlinearity="relu")
        init.zeros_(self.fc.bias)

    def forward(self, x):
        return x + self.act(self.fc(x))


def test_deep_sigmoid_mlp_is_flagged_vanishing():
    cr.manual_seed(0)
    model = mlp([32] + [32] * (DEPTH - 1) + [10], activation="sigmoid")
    monitor = GradientFlow(model)
    assert len(monitor.layers) == DEPTH
    report = _backward(model, monitor, *_data())
    assert report["vanishing"] and not report["healthy"] and not report["exploding"]
    norms = report["grad_norms"]
    assert len(norms) == DEPTH and norms == monitor.grad_norms()
    assert report["first_to_last_ratio"] == pytest.approx(norms[0] / norms[-1])
    assert report["first_to_last_ratio"] < 1e-3
    # each sigmoid passes back at most 1/4 of the gradient: the norm falls layer after layer toward the input
    assert sum(a < b for a, b in itertools.pairwise(norms)) >= DEPTH - 3
    assert "vanishing gradients" in report["messages"][0] and "ReLU" in report["messages"][0]


def test_relu_he_residual_mlp_is_healthy():
    cr.manual_seed(0)
    model = nn.Sequential(nn.Linear(32, 32), *[Residual(32) for _ in range(DEPTH - 2)], nn.Linear(32, 10))
    monitor = GradientFlow(model)
    assert len(monitor.layers) == DEPTH
    report = _backward(model, monitor, *_data(), steps=3)
    assert report["healthy"] and not report["vanishing"] and not report["exploding"]
    assert 1e-2 < report["first_to_last_ratio"] < 1e2
    assert all(math.isfinite(n) and n > 0 for n in report["grad_norms"])


def test_huge_learning_rate_is_flagged_exploding():
    cr.manual_seed(0)
    x, y = cr.randn(64, 8), cr.randn(64, 1)
    model = nn.Sequential(nn.Linear(8, 16), nn.Tanh(), nn.Linear(16, 16), nn.Tanh(), nn.Linear(16, 1))
    opt = optim.SGD(model.parameters(), lr=1e4)
    monitor = GradientFlow(model)
    with np.errstate(all="ignore"):
        for step in range(50):
            opt.zero_grad()
            mse_loss(model(x), y).backward()
            layers = monitor.record()
            if not all(s["finite"] for s in layers.values()):
                break
            opt.step()
            monitor.after_step()
    assert not all(s["finite"] for s in monitor.history[-1]["layers"].values()), "the gradients never blew up"
    report = monitor.report()
    assert report["exploding"] and not report["healthy"]
    first_bad = next((h["step"], name) for h in monitor.history for name, s in h["layers"].items() if not s["finite"])
    assert f"non-finite gradient in layer {first_bad[1]!r} at step {first_bad[0]}" in " ".join(report["messages"])
    assert any("remedies" in m and "clipping" in m for m in report["messages"])


def test_growing_gradient_norms_are_flagged_exploding():
    model = nn.Sequential(nn.Linear(4, 4), nn.Linear(4, 1))
    monitor = GradientFlow(model, exploding_growth=100)
    x = cr.randn(8, 4)
    for scale in (1.0, 10.0, 1e3):
        model.zero_grad()
        (model(x * scale).sum() * scale).backward()
        monitor.record()
    report = monitor.report()
    assert report["exploding"] and report["total_grad_norms"][-1] > 100 * report["total_grad_norms"][0]
    assert any("grew from" in m for m in report["messages"])


def test_dead_relus_are_reported():
    cr.manual_seed(0)
    model = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 16), nn.ReLU(), nn.Linear(16, 3))
    with cr.no_grad():
        model[2].bias.fill_(-100.0)  # the second ReLU's inputs are all negative: every unit dead
    monitor = GradientFlow(model)
    x, y = cr.randn(32, 8), cr.randint(0, 3, (32,))
    report = _backward(model, monitor, x, y)
    acts = monitor.history[-1]["activations"]
    assert acts["3"]["type"] == "ReLU" and acts["3"]["dead"] == 1.0
    pre = model[0](x).data
    assert acts["1"]["dead"] == pytest.approx(np.mean(np.all(pre <= 0, axis=0)))
    assert acts["1"]["dead"] < 0.5
    assert report["dead"] == {"3": 1.0}
    assert any("dead ReLUs" in m and "'3'" in m for m in report["messages"])
    # nothing flows back through a dead layer: the first layer's gradient is exactly zero
    assert report["grad_norms"][0] == 0 and report["vanishing"] and report["first_to_last_ratio"] == 0
    assert "gradient norm (0) is zero, unlike the last's" in report["messages"][0]


def test_saturated_sigmoids_are_reported():
    cr.manual_seed(0)
    model = nn.Sequential(nn.Linear(8, 16), nn.Sigmoid(), nn.Linear(16, 3), nn.Tanh())
    with cr.no_grad():
        model[0].weight.data *= 100
    monitor = GradientFlow(model)
    x = cr.randn(32, 8)
    report = _backward(model, monitor, x, cr.randint(0, 3, (32,)))
    s = model[1](model[0](x)).data
    acts = monitor.history[-1]["activations"]
    assert acts["1"]["saturated"] == pytest.approx(np.mean((s < 0.02) | (s > 0.98)))
    assert acts["1"]["saturated"] > 0.5 and "saturated" in acts["3"]
    assert acts["1"]["mean"] == pytest.approx(float(s.mean()), rel=1e-5)
    assert acts["1"]["std"] == pytest.approx(float(s.std()), rel=1e-4)
    assert "1" in report["saturated"]
    assert any(m.startswith("saturated activations") for m in report["messages"])


def test_per_layer_statistics_and_update_ratio():
    cr.manual_seed(0)
    model = nn.Sequential(nn.Linear(6, 5), nn.ReLU(), nn.Linear(5, 2))
    opt = optim.SGD(model.parameters(), lr=0.1)
    monitor = GradientFlow(model)
    x, y = cr.randn(10, 6), cr.randint(0, 2, (10,))
    cross_entropy(model(x), y).backward()
    layers = monitor.record()
    before = [p.data.copy() for p in model[0].parameters()]
    opt.step()
    monitor.after_step()
    g = np.concatenate([p.grad.data.ravel() for p in model[0].parameters()]).astype(np.float64)
    w = np.concatenate([b.ravel() for b in before]).astype(np.float64)
    stats = monitor.history[0]["layers"]["0"]
    assert set(layers) == {"0", "2"} and stats["type"] == "Linear" and stats["finite"]
    assert stats["grad_norm"] == pytest.approx(np.linalg.norm(g), rel=1e-6)
    assert stats["grad_mean_abs"] == pytest.approx(np.abs(g).mean(), rel=1e-5)
    assert stats["grad_max_abs"] == pytest.approx(np.abs(g).max(), rel=1e-6)
    assert stats["weight_norm"] == pytest.approx(np.linalg.norm(w), rel=1e-6)
    assert stats["update_ratio"] == pytest.approx(0.1 * np.linalg.norm(g) / np.linalg.norm(w), rel=1e-4)


def test_monitor_hooks_into_fit_and_is_removable():
    cr.manual_seed(0)
    x, y = _data(48, features=6, classes=3)
    model = nn.Sequential(nn.Linear(6, 8), nn.ReLU(), nn.Linear(8, 3))
    monitor = GradientFlow(model)
    loader = DataLoader(ArrayDataset(x.data, y.data), batch_size=16)
    fit(model, loader, cross_entropy, optim.SGD(model.parameters(), lr=0.1), 2, monitor=monitor, quiet=True)
    assert len(monitor.history) == 6 and [h["step"] for h in monitor.history] == list(range(6))
    assert all("update_ratio" in s for h in monitor.history for s in h["layers"].values())
    assert set(monitor.history[-1]["activations"]) == {"0", "1", "2"}
    monitor.remove()
    assert all(not m._forward_hooks for m in model.modules())


def test_misuse_is_explained():
    model = nn.Sequential(nn.Linear(2, 2))
    monitor = GradientFlow(model)
    with pytest.raises(RuntimeError, match="nothing recorded yet"):
        monitor.report()
    with pytest.raises(RuntimeError, match="call record"):
        monitor.after_step()
    with pytest.raises(ValueError, match="no layer with parameters"):
        GradientFlow(nn.Sequential(nn.ReLU()))
    with pytest.raises(ValueError, match="window must be at least 1 step, got 0"):
        GradientFlow(model, window=0)


def test_plot_writes_a_png(tmp_path):
    cr.manual_seed(0)
    model = mlp([32, 32, 32, 10], activation="sigmoid")
    monitor = GradientFlow(model)
    _backward(model, monitor, *_data(), steps=2)
    path = monitor.plot(str(tmp_path / "gradflow.png"))
    assert path == str(tmp_path / "gradflow.png")
    data = (tmp_path / "gradflow.png").read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 1000


def test_memory_stays_flat_over_a_long_run():
    """``chainrule train`` records every step of a run. After warm-up (the window full, the trace halved a
    few times) the monitor's memory stops growing — keeping every record it grew ~1.4 KB a step here,
    2.7 MB from step 3,000 to 5,000 — and report() still judges the whole run: a non-finite gradient at
    step 3, long out of the window, and the last step's total norm against step 0's."""
    cr.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))
    monitor = GradientFlow(model)
    cross_entropy(model(cr.randn(8, 4)), cr.randint(0, 3, (8,))).backward()  # the same gradients every step
    w0, w2 = model[0].weight.grad.data, model[2].weight.grad.data
    kept = w0[0, 0]
    traced = {}
    try:
        for step in range(5000):
            if step == 2000:
                tracemalloc.start()
            w0[0, 0] = np.inf if step == 3 else kept
            monitor.record()
            monitor.after_step()
            if step + 1 in (3000, 5000):
                traced[step + 1] = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    # what grows at all is the trace refilling between halvings: at most TRACE_SIZE small entries
    assert traced[5000] - traced[3000] < 100_000, traced
    assert len(monitor.history) == 256 and [h["step"] for h in monitor.history] == list(range(5000 - 256, 5000))
    steps = [t["step"] for t in monitor.trace]  # the whole run, evenly spaced, for the plot
    assert len(steps) <= TRACE_SIZE and steps[0] == 0 and steps[-1] > 5000 - 2 * steps[1]
    assert set(np.diff(steps)) == {steps[1]}
    assert monitor.stats(0) is monitor.first and monitor.stats(4999) is monitor.history[-1]
    assert monitor.grad_norms(-256) == monitor.grad_norms(5000 - 256)
    with pytest.raises(IndexError, match="step 3 is not kept: 5000 steps recorded"):
        monitor.stats(3)
    report = monitor.report()
    assert report["exploding"] and not report["vanishing"]
    assert report["messages"][0] == "exploding gradients: non-finite gradient in layer '0' at step 3"
    assert not any("grew" in m for m in report["messages"])
    w0 *= 1e-4  # the last step: the first layer's gradient vanishes, the last's explodes
    w2 *= 1e4
    monitor.record()
    report = monitor.report()
    assert report["vanishing"] and report["exploding"]
    assert any("grew from" in m for m in report["messages"])
    assert report["total_grad_norm_steps"] == [t["step"] for t in monitor.trace]
