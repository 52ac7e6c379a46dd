"""Notes 003, 004: weight initialization.

All-zero weights — or any constant — give every hidden unit the same inputs, the same output and the
same gradient, so the units stay identical and a layer is worth one unit (symmetry). Random weights
break the symmetry, but their scale must match the layer: a layer multiplies the activations' variance
by about fan_in·Var(w)·(the activation's gain), so N(0, 0.1²) shrinks the signal layer after layer,
N(0, 1) saturates tanh and explodes ReLU, while Xavier (Var(w) = 2/(fan_in + fan_out), for sigmoid/tanh)
and He (Var(w) = 2/fan_in, for ReLU) keep it steady. Ten-layer tanh and ReLU nets on the 8×8 digits
measure each init: activation std per layer at initialization, the spread between hidden units'
weights after training, and the test accuracy reached.
"""
import os

import numpy as np

from .. import manual_seed, nn, no_grad, tensor
from ..data import ArrayDataset, DataLoader
from ..data.catalog import get_dataset
from ..nn import init
from ..optim import SGD
from ..train import evaluate
from .base import Result
from .common import train_steps

NAME = "initialization"
NOTE = "003, 004"
CLAIM = ("all-zero or constant weights keep every hidden unit identical, so the net cannot learn; too small random "
         "weights make the activations vanish with depth and too large ones saturate tanh or explode ReLU; Xavier (for "
         "tanh) and He (for ReLU) keep the activation scale through depth and train best")

DEPTH, WIDTH, BATCH, LR = 10, 64, 64, 0.01
INITS = {  # name: fill(weight) — every Linear layer, biases 0
    "zeros": init.zeros_,
    "constant 1/fan_in": lambda w: init.constant_(w, 1.0 / w.shape[1]),
    "N(0, 0.1²)": lambda w: init.normal_(w, 0.0, 0.1),
    "N(0, 1)": lambda w: init.normal_(w, 0.0, 1.0),
    "Xavier": init.xavier_uniform_,
    "He": lambda w: init.kaiming_normal_(w, nonlinearity="relu"),
}
SYMMETRIC = ("zeros", "constant 1/fan_in")
PRESCRIBED = {"tanh": "Xavier", "ReLU": "He"}
ACTIVATIONS = {"tanh": nn.Tanh, "ReLU": nn.ReLU}
IDENTICAL = 1e-6  # largest |w_i − w_0| between hidden units' incoming weights that still counts as identical


def build(activation, init_name, in_features=64, classes=10, depth=DEPTH, width=WIDTH):
    """``depth`` Linear layers, the activation between them, all weights filled by ``INITS[init_name]``."""
    layers, fan_in = [], in_features
    for i in range(depth):
        linear = nn.Linear(fan_in, classes if i == depth - 1 else width)
        INITS[init_name](linear.weight)
        init.zeros_(linear.bias)
        layers += [linear] if i == depth - 1 else [linear, ACTIVATIONS[activation]()]
        fan_in = width
    return nn.Sequential(*layers)


def _digits(seed):
    """The standardized 8×8 digits as flat (N, 64) float32 datasets (train, test)."""
    train, test = get_dataset("digits").load(None, False, seed)
    xs = [part[np.arange(len(part))] for part in (train, test)]
    return [ArrayDataset(x.reshape(len(x), -1), y) for x, y in xs]


def _activation_stats(model, x):
    """Per hidden layer: the std of the activations over a batch, and the fraction saturated (|tanh| > 0.98)
    or dead (ReLU output ≤ 0 for every sample)."""
    stds, saturated, dead = [], [], []
    with no_grad(), np.errstate(over="ignore", invalid="ignore"):
        h = tensor(x)
        for module in model:
            h = module(h)
            if isinstance(module, nn.Tanh):
                saturated.append(float(np.mean(np.abs(h.data) > 0.98)))
            elif isinstance(module, nn.ReLU):
                dead.append(float(np.mean(np.all(h.data <= 0, axis=0))))
            else:
                continue
            stds.append(float(h.data.astype(np.float64).std()))
    return stds, saturated, dead


def _unit_spread(model):
    """Largest difference between two hidden units' incoming weights, over the hidden Linear layers."""
    hidden = [m.weight.data for m in model if isinstance(m, nn.Linear)][:-1]
    return float(max(np.max(np.abs(w - w[:1])) for w in hidden))


def _train(activation, init_name, train, test, steps, seed):
    manual_seed(seed)
    model = build(activation, init_name)
    stds, saturated, dead = _activation_stats(model, train.data[:512])
    optimizer = SGD(model.parameters(), lr=LR, momentum=0.9)
    loader = DataLoader(train, batch_size=BATCH, shuffle=True, drop_last=True, seed=seed)
    losses, not_finite = train_steps(model, optimizer, loader, steps)  # N(0, 1) on ReLU overflows: measured
    diverged = len(losses) if not_finite is not None else None
    loss = not_finite if not_finite is not None else (losses[-1] if losses else float("nan"))
    accuracy = None if diverged is not None else float(evaluate(model, DataLoader(test, batch_size=512))["accuracy"])
    return {"std": stds, "std_ratio": stds[-1] / stds[0] if stds[0] > 0 else None,
            "saturated_last": saturated[-1:] or None, "dead_last": dead[-1:] or None,
            "unit_spread": _unit_spread(model), "accuracy": accuracy, "diverged_at": diverged, "last_loss": loss}


def _plot_stds(runs, path):
    from .plotting import figure, layer_ticks, legend, log_ticks, save

    fig, axes = figure(1, 2, figsize=(13, 4.4))
    for ax, activation in zip(axes, ACTIVATIONS):
        for init_name in INITS:
            stds = runs[activation][init_name]["std"]
            if max(stds) == 0:
                continue  # zeros: every activation is exactly 0, nothing to draw on a log scale
            ax.plot(range(1, len(stds) + 1), stds, marker="o", markersize=3, label=init_name,
                    linewidth=2.2 if init_name == PRESCRIBED[activation] else 1.2)
        ax.set(yscale="log", xlabel="hidden layer", ylabel="activation std",
               title=f"{activation}: activation std per layer at init (zeros: all 0)")
        layer_ticks(ax)
        log_ticks(ax)
        ax.grid(alpha=0.3)
    legend(axes[1], "right", title="init")
    save(fig, path)


def _plot_accuracy(runs, path):
    from .plotting import figure, save

    fig, ax = figure(figsize=(9, 4))
    names = list(INITS)
    for k, activation in enumerate(ACTIVATIONS):
        xs = np.arange(len(names)) + (k - 0.5) * 0.38
        accs = [runs[activation][n]["accuracy"] for n in names]
        bars = ax.bar(xs, [a or 0 for a in accs], width=0.38, label=activation)
        for x, a, n in zip(xs, accs, names):
            text = "NaN" if a is None else f"{a:.2f}"
            ax.text(x, (a or 0) + 0.01, text, ha="center", va="bottom", fontsize=8, color=bars[0].get_facecolor())
    ax.axhline(0.1, color="gray", linewidth=0.8, linestyle=":", label="chance")
    ax.set_xticks(np.arange(len(names)), names)
    ax.set(ylabel="test accuracy", ylim=(0, 1.08), title=f"{DEPTH}-layer MLPs on the 8×8 digits (NaN: diverged)")
    ax.legend(fontsize="small")
    save(fig, path)


def run(quick=False, seed=0, out="."):
    steps = 150 if quick else 600
    train, test = _digits(seed)
    runs = {a: {n: _train(a, n, train, test, steps, seed) for n in INITS} for a in ACTIVATIONS}
    acc = {a: {n: r["accuracy"] for n, r in runs[a].items()} for a in ACTIVATIONS}
    best = {a: max(v for v in acc[a].values() if v is not None) for a in ACTIVATIONS}

    symmetric = all(runs[a][n]["unit_spread"] < IDENTICAL and (acc[a][n] or 0) < 0.5 for a in ACTIVATIONS
                    for n in SYMMETRIC)
    small, large = runs["tanh"]["N(0, 0.1²)"], runs["ReLU"]["N(0, 0.1²)"]
    vanish = small["std_ratio"] < 0.2 and large["std_ratio"] < 0.2
    tanh_big, relu_big = runs["tanh"]["N(0, 1)"], runs["ReLU"]["N(0, 1)"]
    blow = tanh_big["saturated_last"][0] > 0.5 and relu_big["std_ratio"] > 100
    steady = all(0.2 < runs[a][PRESCRIBED[a]]["std_ratio"] < 5 for a in ACTIVATIONS)
    best_train = all(acc[a][PRESCRIBED[a]] is not None and acc[a][PRESCRIBED[a]] >= best[a] - 0.02 for a in ACTIVATIONS)
    held = symmetric and vanish and blow and steady and best_train
    parts = {"symmetry": symmetric, "small init vanishes": vanish, "large init saturates/explodes": blow,
             "Xavier/He keep the scale": steady, "Xavier/He train best (within 0.02)": best_train}

    _plot_stds(runs, os.path.join(out, "initialization_activation_std.png"))
    _plot_accuracy(runs, os.path.join(out, "initialization_accuracy.png"))

    def a_(v):
        return "diverged" if v is None else f"{v:.2f}"

    big_relu = (f"diverged at step {relu_big['diverged_at']}" if relu_big["diverged_at"] is not None
                else f"accuracy {a_(acc['ReLU']['N(0, 1)'])}")
    verdict = (
        f"zeros and constant weights left the hidden units identical (largest spread "
        f"{max(runs[a][n]['unit_spread'] for a in ACTIVATIONS for n in SYMMETRIC):.1e} after training) with accuracy "
        f"{a_(acc['tanh']['zeros'])}/{a_(acc['ReLU']['zeros'])} and {a_(acc['tanh']['constant 1/fan_in'])}/"
        f"{a_(acc['ReLU']['constant 1/fan_in'])} (tanh/ReLU); N(0, 0.1²) shrank the activation std from the first to "
        f"the last hidden layer to {small['std_ratio']:.2g}× (tanh) and {large['std_ratio']:.2g}× (ReLU, accuracy "
        f"{a_(acc['ReLU']['N(0, 0.1²)'])}); N(0, 1) saturated {tanh_big['saturated_last'][0]:.0%} of tanh's last-layer "
        f"outputs (accuracy {a_(acc['tanh']['N(0, 1)'])}) and grew ReLU's std {relu_big['std_ratio']:.2g}× ({big_relu}); "
        f"Xavier on tanh kept it at {runs['tanh']['Xavier']['std_ratio']:.2g}× and reached {a_(acc['tanh']['Xavier'])} "
        f"(best {best['tanh']:.2f}), He on ReLU at {runs['ReLU']['He']['std_ratio']:.2g}× and reached "
        f"{a_(acc['ReLU']['He'])} (best {best['ReLU']:.2f})"
    )
    if not held:
        verdict += "; did not hold: " + ", ".join(k for k, ok in parts.items() if not ok)

    rows = [[a, n, r["std"][0], r["std"][-1], r["unit_spread"],
             "—" if r["saturated_last"] is None else r["saturated_last"][0],
             "—" if r["dead_last"] is None else r["dead_last"][0],
             f"diverged at step {r['diverged_at']}" if r["accuracy"] is None else r["accuracy"]]
            for a in ACTIVATIONS for n, r in runs[a].items()]
    return Result(
        name=NAME, note=NOTE, claim=CLAIM,
        setup=(f"{DEPTH} Linear layers (64 → {WIDTH} ×{DEPTH - 1} → 10) with tanh or ReLU between, every weight "
               "filled by the init (constant = 1/fan_in, so that only the symmetry is wrong, not the scale; Xavier "
               "uniform; He normal), biases 0; the standardized 8×8 digits "
               f"({len(train)} training / {len(test)} test images), batch {BATCH}, SGD lr {LR} momentum 0.9, "
               f"{steps} steps, seed {seed}. Activation std per hidden layer on 512 training images at init; unit "
               "spread = the largest |w_i − w_0| between hidden units' incoming weights after training"),
        numbers={
            "test_accuracy": acc,
            "activation_std_last_over_first": {a: {n: r["std_ratio"] for n, r in runs[a].items()} for a in ACTIVATIONS},
            "activation_std_per_layer": {a: {n: [float(f"{s:.4g}") for s in r["std"]] for n, r in runs[a].items()}
                                         for a in ACTIVATIONS},
            "tanh_saturated_fraction_last_layer": {n: r["saturated_last"][0] for n, r in runs["tanh"].items()},
            "relu_dead_fraction_last_layer": {n: r["dead_last"][0] for n, r in runs["ReLU"].items()},
            "hidden_unit_spread_after_training": {a: {n: r["unit_spread"] for n, r in runs[a].items()}
                                                  for a in ACTIVATIONS},
            "diverged_at_step": {a: {n: r["diverged_at"] for n, r in runs[a].items()} for a in ACTIVATIONS},
            "parts": parts,
            "steps": steps,
        },
        held=bool(held),
        in_part=not held and any(parts.values()),
        verdict=verdict,
        figures=["initialization_activation_std.png", "initialization_accuracy.png"],
        tables=[{"title": "per activation and init",
                 "columns": ["activation", "init", "std layer 1", f"std layer {DEPTH - 1}", "unit spread",
                             "saturated (last)", "dead (last)", "test accuracy"],
                 "rows": rows}],
    )
