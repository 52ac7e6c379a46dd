"""Note 003: whitening decorrelates the features and gives them equal variance, so gradient descent goes faster.

Gradient descent on a linear model sees the loss surface through the input covariance C: its step size is capped
by C's largest eigenvalue (lr < 2/λ_max) and its progress along a direction is lr·λ, so the directions of small
variance move slowest and the number of steps grows with the condition number λ_max/λ_min. Standardization only
equalizes the diagonal of C; whitening (PCA or ZCA, fitted on the training part only) makes C ≈ I, condition ≈ 1.
On the 64 pixel counts of the 8×8 digits, a softmax regression is trained by plain full-batch gradient descent on
the raw counts, standardized, PCA-whitened and ZCA-whitened inputs, each at its best learning rate of a grid, and we
count the steps each needs to bring the training loss below a target, next to the condition number of its training
covariance and its test accuracy.
"""
import math
import os

import numpy as np

from .. import tensor
from ..data.preprocessing import PCAWhitening, StandardScaler, ZCAWhitening
from .base import Result
from .common import digits_split, fit_softmax_regression, linear_accuracy

NAME = "whitening"
NOTE = "003"
CLAIM = ("whitening decorrelates the input features (covariance ≈ I) and so speeds up gradient descent "
         "on a linear model")

LRS = (0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0, 30.0)
TARGET_LOSS = 0.05
EPS = 1e-5  # whitening's regularizer (the default), far below the digits' smallest non-zero variance


def condition(x):
    """(λ_max/λ_min over the covariance's non-zero eigenvalues, the number of them, the largest |off-diagonal
    correlation|) of the columns of x; a constant column (std below 1e-6 of the largest: the whitened images' blank
    border pixels come out as float rounding noise) has no correlation and is left out of the last one."""
    cov = np.cov(x.astype(np.float64), rowvar=False)
    eigenvalues = np.linalg.eigvalsh(cov)
    kept = eigenvalues[eigenvalues > eigenvalues.max() * 1e-10]
    std = np.sqrt(np.diag(cov))
    live = std > 1e-6 * std.max()
    corr = cov[np.ix_(live, live)] / np.outer(std[live], std[live])
    np.fill_diagonal(corr, 0)
    return float(kept.max() / kept.min()), int(kept.size), float(np.abs(corr).max())


def gradient_descent(x_train, y_train, x_test, y_test, steps, lrs=LRS, seed=0):
    """Plain full-batch gradient descent (SGD, no momentum) on a Linear layer with cross-entropy at each learning
    rate of ``lrs``; returns the run that first reaches TARGET_LOSS (or, if none does, the lowest final loss):
    {"lr", "curve" (training loss before each step), "steps_to_target" (or None), "train", "test"}."""
    best = None
    xt, yt = tensor(x_train.astype(np.float32)), tensor(y_train)
    for lr in lrs:
        model, curve = fit_softmax_regression(xt, yt, lr, steps, seed)
        if not math.isfinite(curve[-1]):
            continue
        reached = next((i for i, v in enumerate(curve) if v < TARGET_LOSS), None)
        run = {"lr": lr, "curve": curve, "steps_to_target": reached,
               "train": linear_accuracy(model, x_train, y_train), "test": linear_accuracy(model, x_test, y_test)}
        key = (reached if reached is not None else math.inf, curve[-1])
        if best is None or key < (best["steps_to_target"] if best["steps_to_target"] is not None else math.inf,
                                  best["curve"][-1]):
            best = run
    return best


def _plot(runs, conditions, steps, path):
    from .plotting import figure, save

    fig, (ax1, ax2, ax3) = figure(1, 3, figsize=(14, 4), gridspec_kw={"width_ratios": [3, 2, 2]})
    labels = list(runs)
    short = [k.split(" (")[0] for k in labels]
    for i, (label, r) in enumerate(runs.items()):
        # PCA and ZCA whitening differ by a rotation, so gradient descent from zero walks the same losses: each
        # curve wider and paler than the next, the last one dashed, so one lying on another stays visible
        last = i == len(runs) - 1
        style = {"linestyle": "--", "linewidth": 1.5} if last else {"linewidth": 1.5 + 1.2 * i, "alpha": 1 - 0.2 * i}
        ax1.plot(r["curve"], color=f"C{i}", label=f"{short[i]} (lr {r['lr']:g})", **style)
        if r["steps_to_target"] is not None:
            size = 6 if last else 6 + 2 * i
            ax1.plot(r["steps_to_target"], r["curve"][r["steps_to_target"]], "o", color=f"C{i}", markersize=size,
                     zorder=20 - size)  # the smaller dots on top
    ax1.axhline(TARGET_LOSS, color="gray", ls=":", lw=1)
    ax1.text(steps * 0.99, TARGET_LOSS * 1.05, f"target {TARGET_LOSS}", ha="right", va="bottom", fontsize=8,
             color="gray")
    ax1.set(xlabel="full-batch gradient-descent step", ylabel="training cross-entropy", yscale="log",
            title="softmax regression on the digits, best lr of each")
    ax1.grid(alpha=0.3)
    ax1.legend(fontsize="small", loc="upper right")
    colors = [f"C{i}" for i in range(len(labels))]
    ax2.bar(range(len(labels)), [conditions[k][0] for k in labels], color=colors)
    for i, k in enumerate(labels):
        ax2.text(i, conditions[k][0] * 1.15, f"{conditions[k][0]:.3g}", ha="center", va="bottom", fontsize=8)
    ax2.set_xticks(range(len(labels)), short, fontsize=8, rotation=15)
    ax2.set(yscale="log", ylim=(0.5, max(c[0] for c in conditions.values()) * 20),
            ylabel="λ_max / λ_min (non-zero λ)", title="condition of the training covariance")
    bars = ax3.bar(range(len(labels)), [runs[k]["test"] for k in labels], color=colors)
    for bar, k in zip(bars, labels):
        ax3.text(bar.get_x() + bar.get_width() / 2, runs[k]["test"] + 0.01, f"{runs[k]['test']:.3f}", ha="center",
                 va="bottom", fontsize=8)
    ax3.set_xticks(range(len(labels)), short, fontsize=8, rotation=15)
    ax3.set(ylim=(0, 1.1), ylabel="test accuracy", title=f"test accuracy after {steps} steps")
    save(fig, path)


def run(quick=False, seed=0, out="."):
    steps = 200 if quick else 1000
    x_train, y_train, x_test, y_test = digits_split(seed)
    fitted = {"raw pixel counts": None,
              "standardized (training μ, σ)": StandardScaler().fit(x_train),
              f"PCA-whitened (training μ, C; eps {EPS:g})": PCAWhitening(eps=EPS).fit(x_train),
              f"ZCA-whitened (training μ, C; eps {EPS:g})": ZCAWhitening(eps=EPS).fit(x_train)}
    inputs = {k: (x_train, x_test) if f is None else (f.transform(x_train), f.transform(x_test))
              for k, f in fitted.items()}
    conditions = {k: condition(a) for k, (a, _) in inputs.items()}
    runs = {k: gradient_descent(a, y_train, b, y_test, steps, seed=seed) for k, (a, b) in inputs.items()}
    raw, standard, *whitened = runs.values()

    def needed(r):
        return r["steps_to_target"] if r["steps_to_target"] is not None else math.inf

    decorrelated = all(conditions[k][2] < 0.05 and conditions[k][0] < 10 for k in list(inputs)[2:])
    faster = all(needed(w) < min(needed(raw), needed(standard)) for w in whitened)
    not_worse = all(w["test"] >= standard["test"] - 0.02 for w in whitened)
    held = decorrelated and faster
    in_part = not held and (decorrelated or faster)
    _plot(runs, conditions, steps, os.path.join(out, "whitening.png"))

    def reached(r):
        return f"{r['steps_to_target']} steps" if r["steps_to_target"] is not None else f"not in {steps} steps"

    verdict = (f"steps of plain gradient descent (best lr of each) to a training loss below {TARGET_LOSS}: "
               + ", ".join(f"{k.split(' (')[0]} {reached(r)}" for k, r in runs.items())
               + "; condition number of the training covariance: "
               + ", ".join(f"{k.split(' (')[0]} {conditions[k][0]:.3g}" for k in runs)
               + "; test accuracy: " + ", ".join(f"{k.split(' (')[0]} {r['test']:.3f}" for k, r in runs.items())
               + ("" if not_worse else " — the whitened inputs test more than 0.02 below the standardized ones: "
                  "faster to fit, not better at generalizing"))
    return Result(
        name=NAME, note=NOTE, claim=CLAIM,
        setup=(f"the 1,797 bundled 8×8 digits, 64 raw pixel counts 0..16, a stratified 75/25 split (seed {seed}); "
               f"softmax regression (Linear 64→10, cross-entropy), plain full-batch gradient descent (SGD without "
               f"momentum) for {steps} steps at each learning rate of {LRS}, keeping for each input the one that "
               f"reaches a training loss below {TARGET_LOSS} first; standardized: "
               "chainrule.data.preprocessing.StandardScaler, whitened: PCAWhitening / ZCAWhitening "
               f"(eps {EPS:g}), all fitted on the training part only and applied unchanged to the test part; "
               "condition = λ_max/λ_min of the training covariance over its non-zero eigenvalues (the digits have "
               "constant border pixels, so the raw covariance is singular)"),
        numbers={"steps": steps, "target_loss": TARGET_LOSS,
                 "runs": [{"input": k, "lr": r["lr"], "steps_to_target": r["steps_to_target"],
                           "final_training_loss": r["curve"][-1], "condition_number": conditions[k][0],
                           "rank": conditions[k][1], "max_abs_correlation": conditions[k][2],
                           "train_accuracy": r["train"], "test_accuracy": r["test"]} for k, r in runs.items()]},
        held=bool(held), in_part=bool(in_part), verdict=verdict,
        figures=["whitening.png"],
        tables=[{"title": f"softmax regression, plain gradient descent, {steps} steps",
                 "columns": ["input", "condition λmax/λmin", "max |correlation|", "best lr",
                             f"steps to loss < {TARGET_LOSS}", "final training loss", "train accuracy",
                             "test accuracy"],
                 "rows": [[k, conditions[k][0], conditions[k][2], r["lr"],
                           r["steps_to_target"] if r["steps_to_target"] is not None else f"> {steps}",
                           r["curve"][-1], r["train"], r["test"]] for k, r in runs.items()]}],
    )
