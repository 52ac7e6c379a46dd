"""Note 003: overlapping pooling (AlexNet: 3×3 windows, stride 2) against non-overlapping 2×2 pooling.

AlexNet's paper reports that pooling windows that overlap (kernel 3 > stride 2) lowered its top-1 error by 0.4
points against 2×2 windows with stride 2, which give maps of the same size, and made the network slightly harder to
overfit. The two poolings are compared here in the CNN of ``translation-invariance`` (same convolutions, same 3×3
maps before the classifier; 3×3 pooling with padding 1 so the sizes match) on the 8×8 digits, over several seeds:
test accuracy and the train − test accuracy gap.
"""
import os

import numpy as np

from .. import nn, no_grad, tensor
from .base import Result
from .translation_invariance import BATCH, LR, MOMENTUM, WIDTH, digits_on_canvas, train

NAME = "overlapping-pooling"
NOTE = "003"
CLAIM = ("overlapping pooling (3×3 windows, stride 2) gives a slightly lower test error and slightly less "
         "overfitting than non-overlapping 2×2 pooling with the same output size (AlexNet)")

POOLS = {"2×2, stride 2": lambda: nn.MaxPool2d(2), "3×3, stride 2 (overlapping)": lambda: nn.MaxPool2d(3, 2, 1)}


def _accuracy(model, x, y):
    with no_grad():
        return float(np.mean(np.argmax(model(tensor(x)).data, axis=1) == y))


def _plot(results, seeds, path):
    from .plotting import figure, save

    fig, (ax1, ax2) = figure(1, 2, figsize=(11, 4.2))
    for i, (label, r) in enumerate(results.items()):
        xs = np.arange(len(seeds)) + (i - 0.5) * 0.3
        for ax, values in ((ax1, r["test"]), (ax2, np.subtract(r["train"], r["test"]))):
            bars = ax.bar(xs, values, width=0.3, label=label)
            ax.bar_label(bars, [f"{v:.3f}" for v in values], padding=2, fontsize=7 if len(seeds) > 3 else 8)
    for ax, what in ((ax1, "test accuracy"), (ax2, "train − test accuracy")):
        ax.set_xticks(range(len(seeds)), [f"seed {s}" for s in seeds])
        ax.set(ylabel=what, title=what + " per seed")
        ax.grid(alpha=0.3, axis="y")
        ax.margins(y=0.12)  # room for the value labels
    low = min(min(r["test"]) for r in results.values())
    ax1.set_ylim(max(0.0, low - 0.05), 1.0)
    # one legend for both panels, under them
    fig.legend(*ax1.get_legend_handles_labels(), loc="outside lower center", ncol=2, fontsize="small")
    save(fig, path)


def run(quick=False, seed=0, out="."):
    epochs, seeds = (3, [seed, seed + 1]) if quick else (10, list(range(seed, seed + 5)))
    results = {label: {"train": [], "test": []} for label in POOLS}
    for s in seeds:
        data = digits_on_canvas(s)
        (x_train, y_train), (x_test, y_test), _ = data
        for label, pool in POOLS.items():
            _, model = train(pool, data, epochs, s)
            results[label]["train"].append(_accuracy(model, x_train, y_train))
            results[label]["test"].append(_accuracy(model, x_test, y_test))
    plain, overlap = (results[label] for label in POOLS)
    mean = {label: {k: float(np.mean(v)) for k, v in r.items()} for label, r in results.items()}
    gap = {label: m["train"] - m["test"] for label, m in mean.items()}
    (m_plain, m_overlap), (g_plain, g_overlap) = mean.values(), gap.values()
    spread = float(np.std(np.subtract(overlap["test"], plain["test"]), ddof=1) / np.sqrt(len(seeds)))
    better = m_overlap["test"] - m_plain["test"]
    lower_error = better > 0
    less_overfit = g_overlap < g_plain
    held = lower_error and less_overfit
    in_part = not held and (lower_error or less_overfit)

    _plot(results, seeds, os.path.join(out, "overlapping_pooling.png"))
    verdict = (f"mean test accuracy over {len(seeds)} seeds: 2×2 {m_plain['test']:.3f}, overlapping 3×3 "
               f"{m_overlap['test']:.3f} ({better:+.3f} ± {spread:.3f}, one standard error of the per-seed difference); "
               f"train − test gap: 2×2 {g_plain:+.3f}, overlapping {g_overlap:+.3f}"
               + ("" if abs(better) > 2 * spread else "; the accuracy difference is within two standard errors, "
                  "as small as AlexNet's 0.4 points and not resolved by this many seeds"))
    return Result(
        name=NAME, note=NOTE, claim=CLAIM,
        setup=(f"the CNN of translation-invariance (conv3×3 {WIDTH}–ReLU, pool, conv3×3 {WIDTH}–ReLU, pool, Linear "
               f"on {WIDTH}×3×3) on the 8×8 digits centred on a 12×12 canvas, with MaxPool2d(2) or MaxPool2d(3, "
               f"stride 2, padding 1); SGD lr {LR} momentum {MOMENTUM}, batch {BATCH}, {epochs} epochs; seeds "
               f"{seeds} (each seed its own initialization and batch order, the same for both poolings)"),
        numbers={"seeds": seeds, "epochs": epochs,
                 "mean": mean, "train_minus_test": gap, "difference_standard_error": spread,
                 "per_seed": [{"seed": s, **{f"{k} {label}": results[label][k][i] for label in POOLS
                                             for k in ("train", "test")}} for i, s in enumerate(seeds)]},
        held=bool(held), in_part=bool(in_part), verdict=verdict,
        figures=["overlapping_pooling.png"],
        tables=[{"title": f"mean over {len(seeds)} seeds", "columns": ["pooling", "train accuracy", "test accuracy",
                                                                       "train − test"],
                 "rows": [[label, mean[label]["train"], mean[label]["test"], gap[label]] for label in POOLS]}],
    )
