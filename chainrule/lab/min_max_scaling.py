"""Note 003: min-max scaling (and standardization) of features on very different scales speeds up gradient descent.

Min-max scaling maps each feature onto [0, 1] with the training set's minimum and maximum; standardization gives it
mean 0 and standard deviation 1 [note 003 §1–§2]. Either way, features on very different scales make the cost's
contours long thin ellipses, where gradient descent must take a step small enough for the steepest direction and
then crawls along the flattest; scaled features make the contours rounder [note 003 §2, note 004 §9]. The digits
make a real data set with features on very different scales when each of the 64 pixels is recorded in its own unit:
pixel j multiplied by 10^u_j, u_j drawn uniformly from [−1.5, 1.5] (three decades between the smallest and largest
unit). A softmax regression is trained by plain full-batch gradient descent from zero weights on these features as
they are, min-max scaled (``MinMaxScaler``) and standardized (``StandardScaler``), both fitted on the training part.

The learning rates are a grid of multiples of each input's own step bound 2K/λ_max (K = 10 classes, λ_max the
largest eigenvalue of ÃᵀÃ/n, Ã = [1 | X]: at zero weights the cross-entropy's Hessian is (I − 11ᵀ/K)/K ⊗ ÃᵀÃ/n,
and plain gradient descent only lowers the loss at every step below 2/λ_max of it). Measured: the largest learning
rate of the grid whose run lowered the loss at every step (the largest stable rate), the fewest steps to a target
training loss at any rate of the grid, the condition number λ_max/λ_min of ÃᵀÃ/n (non-zero eigenvalues: blank border
pixels are constant), and the test accuracy. ``learning-rate-and-scaling`` measures unscaled against standardized
features on a two-feature linear regression; ``whitening`` raw, standardized and whitened digits in their own units;
this experiment adds min-max scaling, on real features of very different scales, and the stable learning rate.
"""
import itertools
import math
import os

import numpy as np

from .. import no_grad, tensor
from ..data.preprocessing import MinMaxScaler, StandardScaler
from ..runtime import num_threads
from .base import Result
from .common import digits_split, fit_softmax_regression

NAME = "min-max-scaling"
NOTE = "003"
CLAIM = ("scaling features that are on very different scales — min-max to [0, 1], or standardization — lets gradient "
         "descent take far larger steps and reach a given training loss in far fewer steps than on the features as "
         "they are")

DECADES = 1.5  # units 10^u, u ~ U(−DECADES, DECADES)
CLASSES = 10
FASTER = 10  # "far fewer steps": at least this many times fewer (or the unscaled features never reach the target)
RISE = 1e-4  # a step "raised the loss" when it went up by more than RISE × the initial loss (float32 noise is far less)
INPUTS = ("as recorded (pixel j in unit 10^u_j)", "min-max scaled to [0, 1]", "standardized")
SHORT = dict(zip(INPUTS, ("as recorded", "min-max", "standardized")))


def units(seed):
    """One unit per pixel: 10^u, u ~ U(−DECADES, DECADES)."""
    return 10.0 ** np.random.default_rng(seed).uniform(-DECADES, DECADES, 64)


def second_moment_eigenvalues(x):
    """Eigenvalues of ÃᵀÃ/n, Ã = [1 | x] (the intercept column in), ascending."""
    a = np.column_stack([np.ones(len(x)), x.astype(np.float64)])
    return np.linalg.eigvalsh(a.T @ a / len(a))


def stable(curve):
    """Every step lowered the loss (up to RISE × the initial loss), and it stayed finite."""
    return all(math.isfinite(b) and b <= a + RISE * curve[0] for a, b in itertools.pairwise(curve))


def accuracy(model, x, y):
    with no_grad():
        return float(np.mean(np.argmax(model(tensor(x)).data, axis=1) == y))


def _plot(results, factors, target, steps, path):
    from .plotting import figure, legend, save

    fig, (ax1, ax2, ax3) = figure(1, 3, figsize=(16, 4.4), gridspec_kw={"width_ratios": [3, 3, 2]})
    short = SHORT
    for i, (name, r) in enumerate(results.items()):
        best = r["runs"][r["best_factor"]]
        ax1.plot(np.arange(len(best["curve"])), best["curve"], color=f"C{i}",
                 label=f"{short[name]} (lr {r['bound'] * r['best_factor']:.2g})")
        lrs = [r["bound"] * f for f in factors]
        finals = [r["runs"][f]["curve"][-1] if math.isfinite(r["runs"][f]["curve"][-1]) else np.nan for f in factors]
        ax2.plot(lrs, finals, "-", color=f"C{i}", lw=1, label=short[name])
        for f, lr, v in zip(factors, lrs, finals):
            ax2.plot(lr, v, "o", color=f"C{i}", mfc=f"C{i}" if r["runs"][f]["stable"] else "white", ms=6)
    ax1.axhline(target, color="gray", ls=":", lw=1)
    ax1.set(yscale="log", xlabel="full-batch gradient-descent step", ylabel="training cross-entropy",
            title=f"at the best learning rate of each (dotted: target {target:g})")
    ax1.grid(alpha=0.3)
    legend(ax1, "upper right")
    ax2.set(xscale="log", yscale="log", xlabel="learning rate", ylabel=f"training loss after {steps} steps",
            title="the learning-rate grid (hollow: some step raised the loss)")
    ax2.grid(alpha=0.3, which="both")
    legend(ax2, "best")
    names = list(results)
    kappas = [results[k]["condition"] for k in names]
    ax3.bar(range(len(names)), kappas, color=[f"C{i}" for i in range(len(names))])
    for i, v in enumerate(kappas):
        ax3.text(i, v * 1.3, f"{v:.2g}", ha="center", va="bottom", fontsize=8)
    ax3.set_xticks(range(len(names)), [short[k] for k in names], fontsize=8)
    ax3.set(yscale="log", ylim=(1, max(kappas) * 30), ylabel="λ_max / λ_min (features and intercept)", title="condition number")
    save(fig, path)


def run(quick=False, seed=0, out="."):
    steps, target, factors = (100, 0.3, (0.5, 1, 2, 4)) if quick else \
        (1000, 0.1, (0.25, 0.5, 1, 2, 4, 8, 16, 32))
    x, y, x_test, y_test = digits_split(seed)
    scale = units(seed)
    x, x_test = x * scale, x_test * scale
    fitted = {INPUTS[0]: None, INPUTS[1]: MinMaxScaler().fit(x), INPUTS[2]: StandardScaler().fit(x)}
    results = {}
    with num_threads(1):  # small matrices: one BLAS thread is faster
        for name, scaler in fitted.items():
            a, b = (x, x_test) if scaler is None else (scaler.transform(x), scaler.transform(x_test))
            a, b = a.astype(np.float32), b.astype(np.float32)
            eig = second_moment_eigenvalues(a)
            nonzero = eig[eig > eig[-1] * 1e-12]
            bound = float(2 * CLASSES / eig[-1])
            runs = {}
            for f in factors:
                model, curve = fit_softmax_regression(tensor(a), tensor(y), bound * f, steps, seed=0, zero_init=True)
                runs[f] = {"curve": curve, "stable": stable(curve),
                           "steps_to_target": next((i for i, v in enumerate(curve) if v < target), None),
                           "test_accuracy": accuracy(model, b, y_test)}
            best = min(factors, key=lambda f: (runs[f]["steps_to_target"] if runs[f]["steps_to_target"] is not None
                                               else math.inf, runs[f]["curve"][-1] if math.isfinite(
                                                   runs[f]["curve"][-1]) else math.inf))
            stable_factors = [f for f in factors if runs[f]["stable"]]
            results[name] = {"runs": runs, "bound": bound, "condition": float(nonzero[-1] / nonzero[0]),
                             "best_factor": best, "steps_to_target": runs[best]["steps_to_target"],
                             "largest_stable_lr": bound * max(stable_factors) if stable_factors else None,
                             "largest_stable_is_grid_top": bool(stable_factors) and max(stable_factors) == factors[-1],
                             "test_accuracy": runs[best]["test_accuracy"], "final_loss": runs[best]["curve"][-1]}
    raw, minmax, standard = (results[k] for k in INPUTS)

    def steps_of(r):
        return r["steps_to_target"] if r["steps_to_target"] is not None else math.inf

    def faster(r):
        return steps_of(r) < math.inf and (steps_of(raw) == math.inf or steps_of(r) * FASTER <= steps_of(raw))

    def larger(r):
        return r["largest_stable_lr"] is not None and (raw["largest_stable_lr"] is None
                                                       or r["largest_stable_lr"] > FASTER * raw["largest_stable_lr"])

    parts = {"min-max: far fewer steps": faster(minmax), "standardized: far fewer steps": faster(standard),
             "min-max: a far larger stable learning rate": larger(minmax),
             "standardized: a far larger stable learning rate": larger(standard)}
    held = all(parts.values())
    in_part = not held and any(parts.values())
    _plot(results, factors, target, steps, os.path.join(out, "min_max_scaling.png"))

    def reached(r):
        return f"{r['steps_to_target']} steps" if r["steps_to_target"] is not None else f"not in {steps} steps"

    def lr_text(r):
        if r["largest_stable_lr"] is None:
            return "none of the grid"
        return f"{r['largest_stable_lr']:.2g}" + (" (the top of the grid)" if r["largest_stable_is_grid_top"] else "")

    short = SHORT
    failed = [k for k, v in parts.items() if not v]
    verdict = (f"steps of full-batch gradient descent to a training loss below {target:g} (best rate of the grid): "
               + ", ".join(f"{short[k]} {reached(r)}" for k, r in results.items())
               + "; the largest learning rate at which every step lowered the loss: "
               + ", ".join(f"{short[k]} {lr_text(r)}" for k, r in results.items())
               + "; condition number of ÃᵀÃ/n: " + ", ".join(f"{short[k]} {r['condition']:.3g}" for k, r in results.items())
               + "; test accuracy: " + ", ".join(f"{short[k]} {r['test_accuracy']:.3f}" for k, r in results.items())
               + (". Min-max scaling leaves the features uncentred and the rarely-inked pixels with little variance, so "
                  "standardization conditions the problem better" if standard["condition"] < minmax["condition"] else "")
               + (". Did not hold: " + "; ".join(failed) if failed else "") + ".")
    return Result(
        name=NAME, note=NOTE, claim=CLAIM,
        setup=(f"the bundled 8×8 digits, stratified 75/25 split (seed {seed}); pixel j (counts 0..16) multiplied by "
               f"10^u_j, u_j ~ U(−{DECADES:g}, {DECADES:g}) (seed {seed}); MinMaxScaler / StandardScaler fitted on the "
               "training part; softmax regression (Linear 64→10 from zero weights, cross-entropy), plain full-batch "
               f"gradient descent for {steps} steps at lr = f · 2K/λ_max(ÃᵀÃ/n) of each input, f ∈ {factors}; stable: "
               f"no step raised the training loss by more than {RISE:g} × its initial value; far: at least {FASTER}×"),
        numbers={"steps": steps, "target_loss": target, "factors": list(factors),
                 "inputs": [{"input": k, "condition": r["condition"], "step_bound": r["bound"],
                             "largest_stable_lr": r["largest_stable_lr"], "best_lr": r["bound"] * r["best_factor"],
                             "steps_to_target": r["steps_to_target"], "final_loss": r["final_loss"],
                             "test_accuracy": r["test_accuracy"]} for k, r in results.items()],
                 "stable_by_factor": {short[k]: {str(f): r["runs"][f]["stable"] for f in factors}
                                      for k, r in results.items()},
                 "parts": parts},
        held=bool(held), in_part=bool(in_part), verdict=verdict,
        figures=["min_max_scaling.png"],
        tables=[{"title": f"softmax regression by full-batch gradient descent, {steps} steps",
                 "columns": ["input", "κ of ÃᵀÃ/n", "2K/λ_max", "largest stable lr", "best lr",
                             f"steps to loss < {target:g}", "final loss", "test accuracy"],
                 "rows": [[k, r["condition"], r["bound"], r["largest_stable_lr"] if r["largest_stable_lr"] is not None
                           else "—", r["bound"] * r["best_factor"],
                           r["steps_to_target"] if r["steps_to_target"] is not None else f"> {steps}",
                           r["final_loss"], r["test_accuracy"]] for k, r in results.items()]},
                {"title": "the claim, part by part", "columns": ["part", "held"],
                 "rows": [[k, v] for k, v in parts.items()]}],
    )
