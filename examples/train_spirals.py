"""Train a small MLP on two interleaved spirals and print its accuracy — the quick-start job.

    python examples/train_spirals.py [--epochs 300] [--seed 0]
"""
import argparse
import time

import numpy as np

import chainrule as cr
from chainrule import nn, optim


def spirals(n_per_class, noise, rng):
    """Two interleaved spirals in the plane: features (2n, 2) float32, labels (2n,) int64."""
    t = np.sqrt(rng.random(n_per_class)) * 3 * np.pi
    arm = np.stack([t * np.cos(t), t * np.sin(t)], axis=1) / (3 * np.pi)
    x = np.concatenate([arm, -arm]) + noise * rng.standard_normal((2 * n_per_class, 2))
    y = np.concatenate([np.zeros(n_per_class), np.ones(n_per_class)]).astype(np.int64)
    return x.astype(np.float32), y


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=300)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    cr.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    x_train, y_train = spirals(500, 0.02, rng)
    x_test, y_test = spirals(200, 0.02, rng)
    x_train, y_train, x_test, y_test = map(cr.tensor, (x_train, y_train, x_test, y_test))

    model = nn.Sequential(nn.Linear(2, 64), nn.Tanh(), nn.Linear(64, 64), nn.Tanh(), nn.Linear(64, 2))
    opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    start = time.perf_counter()
    for epoch in range(1, args.epochs + 1):
        perm = cr.randperm(len(x_train))
        for i in range(0, len(x_train), 100):
            idx = perm[i : i + 100]
            loss = nn.functional.cross_entropy(model(x_train[idx]), y_train[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
        if epoch % 50 == 0 or epoch == args.epochs:
            print(f"epoch {epoch:4d}  loss {loss.item():.4f}")
    model.eval()
    with cr.no_grad():
        train_acc = (model(x_train).argmax(1) == y_train).float().mean().item()
        test_acc = (model(x_test).argmax(1) == y_test).float().mean().item()
    print(f"train accuracy {train_acc:.2%}  test accuracy {test_acc:.2%}  ({time.perf_counter() - start:.1f} s)")


if __name__ == "__main__":
    main()
