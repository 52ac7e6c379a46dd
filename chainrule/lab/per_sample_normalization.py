"""Note 003: normalize each feature over the training set, never each sample over its own features.

Standardizing feature by feature, (x − μ_feature) / σ_feature with μ, σ from the training set, treats every sample
alike and keeps what tells samples apart. Standardizing sample by sample, (x − mean(x)) / std(x) over the
sample's own features, gives every sample mean 0 and variance 1: a sample and the same sample twice as strong
become one point, and the amount of signal a sample carries is thrown away. On the 64 raw pixel counts of the 8×8
digits, a softmax regression (a linear model) is trained full-batch on the raw counts, on per-feature and on
per-sample standardized inputs, each at its best learning rate of a grid; and a second one on only the two numbers
that per-sample standardization removes (each image's mean and standard deviation), to see whether they carried
information about the digit.
"""
import math
import os

import numpy as np

from .. import tensor
from ..data.preprocessing import StandardScaler, scale
from .base import Result
from .common import digits_split, fit_softmax_regression, linear_accuracy

NAME = "per-sample-normalization"
NOTE = "003"
CLAIM = ("standardize each feature with the training set's statistics, not each sample with its own: "
         "per-sample standardization trains a worse model")

LRS = (0.003, 0.01, 0.03, 0.1, 0.3, 1.0)
MOMENTUM = 0.9


def softmax_regression(x_train, y_train, x_test, y_test, steps, lrs=LRS, seed=0):
    """Full-batch SGD (momentum 0.9) on a Linear layer with cross-entropy, at each learning rate of ``lrs``;
    returns the run with the lowest final training loss: {"lr", "curve" (loss per step), "train", "test"}."""
    best = None
    xt, yt = tensor(x_train.astype(np.float32)), tensor(y_train)
    for lr in lrs:
        model, curve = fit_softmax_regression(xt, yt, lr, steps, seed, momentum=MOMENTUM)
        if not math.isfinite(curve[-1]):
            continue
        run = {"lr": lr, "curve": curve,
               "train": linear_accuracy(model, x_train, y_train), "test": linear_accuracy(model, x_test, y_test)}
        if best is None or curve[-1] < best["curve"][-1]:
            best = run
    return best


def _plot(runs, path):
    from .plotting import figure, save

    fig, (ax1, ax2) = figure(1, 2, figsize=(11, 4), gridspec_kw={"width_ratios": [3, 2]})
    for label, r in runs.items():
        ax1.plot(r["curve"], label=f"{label} (lr {r['lr']:g})")
    ax1.set(xlabel="full-batch step", ylabel="training cross-entropy", yscale="log",
            title="softmax regression on the digits, best lr of each")
    ax1.grid(alpha=0.3)
    ax1.legend(fontsize="small", loc="upper right")
    labels = list(runs)
    bars = ax2.bar(range(len(labels)), [runs[k]["test"] for k in labels], color=[f"C{i}" for i in range(len(labels))])
    for bar, k in zip(bars, labels):
        ax2.text(bar.get_x() + bar.get_width() / 2, runs[k]["test"] + 0.01, f"{runs[k]['test']:.3f}", ha="center",
                 va="bottom", fontsize=9)
    ax2.set_xticks(range(len(labels)), [k.split(" (")[0] for k in labels], fontsize=9)
    ax2.set(ylim=(0, 1.1), ylabel="test accuracy", title="test accuracy")
    save(fig, path)


def run(quick=False, seed=0, out="."):
    steps = 100 if quick else 500
    x_train, y_train, x_test, y_test = digits_split(seed)
    scaler = StandardScaler().fit(x_train)
    inputs = {"raw pixel counts": (x_train, x_test),
              "per feature (training set's μ, σ)": (scaler.transform(x_train), scaler.transform(x_test)),
              "per sample (each image's own μ, σ)": (scale(x_train, axis=1), scale(x_test, axis=1))}
    runs = {k: softmax_regression(a, y_train, b, y_test, steps, seed=seed) for k, (a, b) in inputs.items()}
    stats = [np.column_stack([x.mean(axis=1), x.std(axis=1)]) for x in (x_train, x_test)]
    stat_scaler = StandardScaler().fit(stats[0])
    removed = softmax_regression(stat_scaler.transform(stats[0]), y_train, stat_scaler.transform(stats[1]), y_test,
                                 steps, seed=seed)
    _, feature, sample = runs.values()
    worse_test = sample["test"] < feature["test"]
    worse_loss = sample["curve"][-1] > feature["curve"][-1]
    held = worse_test and worse_loss
    in_part = not held and (worse_test or worse_loss)
    _plot(runs, os.path.join(out, "per_sample_normalization.png"))
    verdict = (f"after {steps} full-batch steps at each input's best learning rate, training loss / test accuracy: "
               + ", ".join(f"{k} {r['curve'][-1]:.3f}/{r['test']:.3f}" for k, r in runs.items())
               + f"; the two numbers per-sample standardization removes (each image's mean and std) alone give "
               f"{removed['test']:.3f} test accuracy (chance 0.1): information about the digit that the per-sample "
               "inputs no longer carry")
    return Result(
        name=NAME, note=NOTE, claim=CLAIM,
        setup=(f"the 1,797 bundled 8×8 digits, 64 raw pixel counts 0..16, a stratified 75/25 split (seed {seed}); "
               f"softmax regression (Linear 64→10, cross-entropy), full-batch SGD momentum {MOMENTUM}, {steps} steps, "
               f"the best learning rate of {LRS} by final training loss for each input; per feature: "
               "chainrule.data.preprocessing.StandardScaler fit on the training part; per sample: "
               "preprocessing.scale(axis=1)"),
        numbers={"steps": steps,
                 "runs": [{"input": k, "lr": r["lr"], "final_training_loss": r["curve"][-1], "train_accuracy": r["train"],
                           "test_accuracy": r["test"]} for k, r in runs.items()],
                 "removed_statistics_only": {"lr": removed["lr"], "test_accuracy": removed["test"]}},
        held=bool(held), in_part=bool(in_part), verdict=verdict,
        figures=["per_sample_normalization.png"],
        tables=[{"title": f"softmax regression, {steps} steps",
                 "columns": ["input", "best lr", "training loss", "train accuracy", "test accuracy"],
                 "rows": [[k, r["lr"], r["curve"][-1], r["train"], r["test"]] for k, r in runs.items()]
                 + [["only each image's mean and std", removed["lr"], removed["curve"][-1], removed["train"],
                     removed["test"]]]}],
    )
