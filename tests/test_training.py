"""Integration: a small MLP trained with chainrule.optim.SGD separates two interleaved spirals."""
import time

import numpy as np

import chainrule as cr
from chainrule import nn
from chainrule.optim import SGD


def spirals(n_per_class, rng, noise=0.01):
    """Two interleaved spirals of 1.5 turns each: features (2n, 2) float32, labels (2n,) int64."""
    t = np.sqrt(rng.uniform(0.02, 1, n_per_class)) * 3 * np.pi
    arm = np.stack([t * np.cos(t), t * np.sin(t)], axis=1) / (3 * np.pi)
    x = np.concatenate([arm, -arm]) + noise * rng.standard_normal((2 * n_per_class, 2))
    y = np.repeat([0, 1], n_per_class)
    return x.astype(np.float32), y


def train(model, x, y, epochs, lr=0.1, batch=60):
    opt = SGD(model.parameters(), lr=lr, momentum=0.9)
    for _ in range(epochs):
        perm = cr.randperm(len(x))
        for i in range(0, len(x), batch):
            idx = perm[i : i + batch]
            loss = nn.functional.cross_entropy(model(x[idx]), y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()


def evaluate(model, x, y):
    with cr.no_grad():
        logits = model(x)
        return (logits.argmax(1) == y).float().mean().item(), nn.functional.cross_entropy(logits, y).item()


def test_mlp_learns_two_spirals():
    cr.manual_seed(0)
    rng = np.random.default_rng(0)
    x, y = map(cr.tensor, spirals(300, rng))
    x_held, y_held = map(cr.tensor, spirals(300, rng))
    model = nn.Sequential(nn.Linear(2, 32), nn.Tanh(), nn.Linear(32, 32), nn.Tanh(), nn.Linear(32, 2))
    acc0, loss0 = evaluate(model, x, y)
    start = time.perf_counter()
    train(model, x, y, epochs=200)
    elapsed = time.perf_counter() - start
    acc, loss = evaluate(model, x, y)
    held_acc, _ = evaluate(model, x_held, y_held)
    assert acc0 < 0.8  # untrained: far from solved
    assert acc >= 0.99, f"training accuracy {acc:.3f}"
    assert loss < 0.1 * loss0, f"loss {loss0:.3f} -> {loss:.3f}"
    assert held_acc >= 0.97, f"held-out accuracy {held_acc:.3f}"
    assert elapsed < 20, f"training took {elapsed:.1f} s"


def test_spirals_are_not_linearly_separable():
    """The same training with no hidden layer stays far from 99%: the MLP's success is its nonlinearity."""
    cr.manual_seed(0)
    x, y = map(cr.tensor, spirals(300, np.random.default_rng(0)))
    model = nn.Linear(2, 2)
    train(model, x, y, epochs=50)
    acc, _ = evaluate(model, x, y)
    assert acc < 0.8, f"a linear classifier reached {acc:.3f}"
