"""Notes 003, 004: optimizers — plain SGD against momentum, Nesterov, Adagrad, RMSprop and Adam.

Note 004: gradient descent needs its learning rate set and tuned by hand, moves slowly when the cost's
contours are elongated (unscaled features), and adaptive methods (Adam, Adagrad) make training faster
and more stable. Momentum averages the steps, so the back-and-forth across a narrow valley cancels
and the motion along it adds up; Adagrad, RMSprop and Adam divide each coordinate's step by the size
of its recent gradients, which rounds the contours. Measured twice, each optimizer at the best
learning rate of a small grid around its usual range:

* the same MLP on the standardized 8×8 digits: the training loss reached in a fixed number of steps;
* two 2-parameter costs built from chainrule tensors and optimized through a 2-element ``Parameter``:
  an elongated quadratic ½(x² + κy²) (condition number κ) and the Rosenbrock valley
  (1 − x)² + 100(y − x²)²; the paths are drawn over the contours.
"""
import math
import os

import numpy as np

from .. import manual_seed, nn, no_grad, tensor
from ..data.catalog import get_dataset
from ..optim import SGD, Adagrad, Adam, RMSprop
from ..runtime import num_threads
from .base import Result
from .common import train_curve

NAME = "optimizers"
NOTE = "003, 004"
CLAIM = ("momentum, Nesterov momentum, Adagrad, RMSprop and Adam reach a lower cost than plain SGD in the same number "
         "of steps — on a network's loss, on an ill-conditioned quadratic valley, where plain gradient descent zigzags "
         "across the valley and crawls along it, and on the curved Rosenbrock valley")

OPTIMIZERS = {
    "SGD": lambda params, lr: SGD(params, lr=lr),
    "momentum": lambda params, lr: SGD(params, lr=lr, momentum=0.9),
    "Nesterov": lambda params, lr: SGD(params, lr=lr, momentum=0.9, nesterov=True),
    "Adagrad": lambda params, lr: Adagrad(params, lr=lr),
    "RMSprop": lambda params, lr: RMSprop(params, lr=lr),
    "Adam": lambda params, lr: Adam(params, lr=lr),
}
# the centre of each optimizer's learning-rate grid, per task; the grid is centre × 10^(k/2)
CENTRES = {
    "digits": {"SGD": 1.0, "momentum": 0.1, "Nesterov": 0.1, "Adagrad": 0.1, "RMSprop": 0.01, "Adam": 0.01},
    "quadratic": {"SGD": 0.03, "momentum": 0.01, "Nesterov": 0.01, "Adagrad": 3.0, "RMSprop": 1.0, "Adam": 1.0},
    "Rosenbrock": {"SGD": 0.001, "momentum": 0.001, "Nesterov": 0.001, "Adagrad": 1.0, "RMSprop": 0.1, "Adam": 0.3},
}
KAPPA = 50.0  # the quadratic's condition number
WIDTH, BATCH = 64, 64
TOLERANCE = 1e-4  # "at the minimum": cost below this


def _quadratic(w):
    """½(x² + κy²): minimum 0 at (0, 0)."""
    return (w * w * tensor(np.array([1.0, KAPPA]))).sum() * 0.5


def _rosenbrock(w):
    """(1 − x)² + 100(y − x²)²: minimum 0 at (1, 1), at the bottom of a curved, narrow valley."""
    x, y = w[0], w[1]
    return (1 - x) ** 2 + 100 * (y - x * x) ** 2


PROBLEMS = {"quadratic": (_quadratic, (-9.0, 1.5), (0.0, 0.0)), "Rosenbrock": (_rosenbrock, (-1.5, 1.5), (1.0, 1.0))}


def _grid(centre, points):
    half = (points - 1) // 2
    return [float(f"{centre * 10 ** (k / 2):.3g}") for k in range(-half, half + 1)]


def _descend(problem, optimizer, lr, steps):
    """The path (steps + 1, 2) and the costs (steps + 1,) of ``optimizer`` on a 2-parameter cost; stops at a
    non-finite point."""
    cost, start, _ = PROBLEMS[problem]
    w = nn.Parameter(tensor(np.array(start, dtype=np.float64)))
    opt = OPTIMIZERS[optimizer]([w], lr)
    points, costs = [w.data.copy()], []
    with np.errstate(all="ignore"):
        for _ in range(steps):
            loss = cost(w)
            costs.append(float(loss.data))
            opt.zero_grad()
            loss.backward()
            opt.step()
            points.append(w.data.copy())
            if not np.all(np.isfinite(w.data)):
                break
        with no_grad():
            costs.append(float(cost(w).data))
    costs = np.array(costs)
    return np.array(points), np.where(np.isfinite(costs), costs, np.inf)


def _settled(costs, tolerance=TOLERANCE):
    """The first step from which the cost stays below ``tolerance`` (None if it never does)."""
    above = np.nonzero(~(costs < tolerance))[0]
    if len(above) == 0:
        return 0
    return int(above[-1] + 1) if above[-1] + 1 < len(costs) else None


def _digits(seed):
    train, _ = get_dataset("digits").load(None, False, seed)
    x, y = train[np.arange(len(train))]
    return x.reshape(len(x), -1), y


def _train_digits(optimizer, lr, steps, x, y, seed, every=5):
    """The MLP 64 → 64 → 64 → 10 (ReLU, default init) trained with batches of ``BATCH``; (step, training-set loss)."""
    manual_seed(seed)
    model = nn.Sequential(nn.Linear(64, WIDTH), nn.ReLU(), nn.Linear(WIDTH, WIDTH), nn.ReLU(), nn.Linear(WIDTH, 10))
    opt = OPTIMIZERS[optimizer](model.parameters(), lr)
    curve = train_curve(model, opt, x, y, steps, BATCH, seed, every)
    return curve


def _final(curve):
    """The training loss at the end: the mean of the last quarter of the recorded points (inf if it diverged)."""
    values = [v for _, v in curve]
    if len(curve) < 2 or not math.isfinite(values[-1]):
        return math.inf
    return float(np.mean(values[-max(1, len(values) // 4):]))


def _plot_paths(paths, path):
    from .plotting import figure, legend, save

    fig, axes = figure(1, 2, figsize=(13, 5.6))
    views = {"quadratic": ((-10, 2), (-2.2, 2.2)), "Rosenbrock": ((-2, 1.6), (-0.6, 2.6))}
    for ax, (problem, runs) in zip(axes, paths.items()):
        minimum = PROBLEMS[problem][2]
        (x0, x1), (y0, y1) = views[problem]
        gx, gy = np.meshgrid(np.linspace(x0, x1, 200), np.linspace(y0, y1, 200))
        if problem == "quadratic":
            z = 0.5 * (gx ** 2 + KAPPA * gy ** 2)
        else:
            z = (1 - gx) ** 2 + 100 * (gy - gx ** 2) ** 2
        ax.contour(gx, gy, z, levels=np.logspace(-2, 3.5, 18), colors="lightgray", linewidths=0.8)
        for k, (name, run) in enumerate(runs.items()):
            p = run["points"]
            ax.plot(p[:, 0], p[:, 1], marker=".", markersize=2.5, linewidth=1, color=f"C{k}",
                    label=f"{name} (lr {run['lr']:g}): {run['final']:.1e}")
        ax.plot(*minimum, marker="*", color="k", markersize=12)
        steps = next(iter(runs.values()))["steps"]
        ax.set(xlim=(x0, x1), ylim=(y0, y1), xlabel="x", ylabel="y",
               title=(f"½(x² + {KAPPA:g}y²)" if problem == "quadratic" else "(1 − x)² + 100(y − x²)²")
               + f", {steps} steps")
        legend(ax, "below", ncol=2, bbox_to_anchor=(0.5, -0.13))
    fig.suptitle("each optimizer at its best learning rate from the same start (★ = minimum); legend: final cost; "
                 "long jumps leave the frame", fontsize=10)
    save(fig, path)


def _plot_digits(curves, lrs, steps, path):
    from .plotting import figure, log_ticks, save

    fig, ax = figure(figsize=(8, 4.6))
    for name, curve in curves.items():
        s, v = zip(*curve)
        ax.plot(s, v, label=f"{name} (lr {lrs[name]:g})", linewidth=2 if name == "SGD" else 1.2)
    ax.set(yscale="log", xlabel="step (batch 64)", ylabel="training-set loss", xlim=(0, steps),
           title="MLP on the 8×8 digits, each optimizer at its best learning rate")
    log_ticks(ax)
    ax.legend(fontsize="small")
    ax.grid(alpha=0.3)
    save(fig, path)


def run(quick=False, seed=0, out="."):
    points = 3 if quick else 5
    digit_steps = 150 if quick else 500
    toy_steps = {"quadratic": 100, "Rosenbrock": 300} if quick else {"quadratic": 200, "Rosenbrock": 1500}
    x, y = _digits(seed)
    with num_threads(1):  # small matrices: one BLAS thread is several times faster
        digit_runs = {o: {lr: _train_digits(o, lr, digit_steps, x, y, seed) for lr in _grid(CENTRES["digits"][o], points)}
                      for o in OPTIMIZERS}
        toy_runs = {p: {o: {lr: _descend(p, o, lr, toy_steps[p]) for lr in _grid(CENTRES[p][o], points)}
                        for o in OPTIMIZERS} for p in PROBLEMS}
    digit_lr = {o: min(runs, key=lambda lr: _final(runs[lr])) for o, runs in digit_runs.items()}
    curves = {o: digit_runs[o][digit_lr[o]] for o in OPTIMIZERS}
    digit_final = {o: _final(curves[o]) for o in OPTIMIZERS}
    toy = {}
    for p, by_opt in toy_runs.items():
        toy[p] = {}
        for o, by_lr in by_opt.items():
            best = min(by_lr, key=lambda lr: (by_lr[lr][1][-1], lr))
            points_, costs = by_lr[best]
            edge = best in (min(by_lr), max(by_lr))
            toy[p][o] = {"lr": best, "points": points_, "final": float(costs[-1]), "settled": _settled(costs),
                         "steps": toy_steps[p], "at_grid_edge": edge}
    sgd_path = toy["quadratic"]["SGD"]["points"]
    visible = np.abs(sgd_path[:, 1]) > 1e-3 * abs(sgd_path[0, 1])  # crossings while y is still 0.1% of its start
    crossings = int(np.sum((np.diff(np.sign(sgd_path[:, 1])) != 0) & visible[1:]))
    sgd_x = float(sgd_path[-1, 0])

    others = [o for o in OPTIMIZERS if o != "SGD"]
    beat_digits = {o: digit_final[o] < digit_final["SGD"] for o in others}

    beat_quadratic = {o: toy["quadratic"][o]["final"] < toy["quadratic"]["SGD"]["final"] for o in others}
    beat_rosenbrock = {o: toy["Rosenbrock"][o]["final"] < toy["Rosenbrock"]["SGD"]["final"] for o in others}
    zigzag = crossings >= 5
    parts = {"lower loss than SGD on the digits": all(beat_digits.values()),
             "lower quadratic cost than SGD": all(beat_quadratic.values()),
             "SGD zigzags across the quadratic's valley": zigzag,
             "lower Rosenbrock cost than SGD": all(beat_rosenbrock.values())}
    held = all(parts.values())

    _plot_digits(curves, digit_lr, digit_steps, os.path.join(out, "optimizers_digits.png"))
    _plot_paths(toy, os.path.join(out, "optimizers_paths.png"))

    def steps_text(p, o):
        s = toy[p][o]["settled"]
        return f"{o} {s}" if s is not None else f"{o} not within {toy_steps[p]}"

    failed = {"digits": [o for o in others if not beat_digits[o]],
              "quadratic": [o for o in others if not beat_quadratic[o]],
              "Rosenbrock valley": [o for o in others if not beat_rosenbrock[o]]}
    measured = (
        f"training loss on the digits after {digit_steps} steps: "
        + ", ".join(f"{o} {digit_final[o]:.4f}" for o in OPTIMIZERS)
        + f"; quadratic (κ = {KAPPA:g}) cost after {toy_steps['quadratic']} steps: "
        + ", ".join(f"{o} {toy['quadratic'][o]['final']:.2g}" for o in OPTIMIZERS)
        + f" (steps until it stays below {TOLERANCE:g}: " + ", ".join(steps_text("quadratic", o) for o in OPTIMIZERS)
        + f"); SGD's path crossed the valley floor y = 0 {crossings} times while |y| was above 0.1% of its start, "
        f"and in {toy_steps['quadratic']} steps crawled along the valley only from x = {PROBLEMS['quadratic'][1][0]:g} "
        f"to x = {sgd_x:.2g}; Rosenbrock cost after {toy_steps['Rosenbrock']} steps: "
        + ", ".join(f"{o} {toy['Rosenbrock'][o]['final']:.2g}" for o in OPTIMIZERS))
    if held:
        verdict = measured
    else:
        verdict = "; ".join(
            f"{', '.join(v)} did not beat SGD on the {k}" for k, v in failed.items() if v)
        if not zigzag:
            verdict += ("; " if any(failed.values()) else "") + "SGD did not zigzag"
        verdict += ". Measured: " + measured

    rows = [[o, digit_lr[o], digit_final[o],
             toy["quadratic"][o]["lr"], toy["quadratic"][o]["settled"] if toy["quadratic"][o]["settled"] is not None
             else f"> {toy_steps['quadratic']}", toy["quadratic"][o]["final"],
             toy["Rosenbrock"][o]["lr"], toy["Rosenbrock"][o]["final"]] for o in OPTIMIZERS]
    return Result(
        name=NAME, note=NOTE, claim=CLAIM,
        setup=(f"Digits: MLP 64 → {WIDTH} → {WIDTH} → 10 (ReLU, default init) on the standardized training split "
               f"({len(x)} images), batch {BATCH}, {digit_steps} steps, seed {seed}; loss = cross-entropy over the whole "
               "training set, 'final' = the mean over the last quarter of the run. Toy costs: ½(x² + "
               f"{KAPPA:g}y²) from (−9, 1.5), {toy_steps['quadratic']} steps, and (1 − x)² + 100(y − x²)² from "
               f"(−1.5, 1.5), {toy_steps['Rosenbrock']} steps, on a 2-element Parameter. Each optimizer at the best "
               f"of {points} learning rates spaced by √10 around its usual range ({CENTRES}); momentum 0.9, "
               "Adagrad/RMSprop/Adam with torch's defaults otherwise. Held needs every other optimizer to end below SGD "
               "on all three costs, and SGD's quadratic path to cross y = 0 at least 5 times while |y| is above 0.1% "
               "of its start"),
        numbers={
            "digits_best_lr": digit_lr,
            "digits_final_loss": digit_final,
            "digits_final_loss_per_lr": {o: {str(lr): _final(c) for lr, c in r.items()} for o, r in digit_runs.items()},
            "quadratic": {o: {k: v for k, v in r.items() if k != "points"} for o, r in toy["quadratic"].items()},
            "rosenbrock": {o: {k: v for k, v in r.items() if k != "points"} for o, r in toy["Rosenbrock"].items()},
            "sgd_quadratic_valley_crossings": crossings,
            "sgd_quadratic_final_x": sgd_x,
            "below_sgd": {"digits": beat_digits, "quadratic": beat_quadratic, "Rosenbrock": beat_rosenbrock},
            "parts": parts,
            "digit_steps": digit_steps, "toy_steps": toy_steps,
        },
        held=bool(held),
        in_part=not held and any(parts.values()),
        verdict=verdict,
        figures=["optimizers_digits.png", "optimizers_paths.png"],
        tables=[{"title": "each optimizer at its best learning rate",
                 "columns": ["optimizer", "digits lr", "digits loss", "quadratic lr",
                             f"quadratic: steps to < {TOLERANCE:g}", "quadratic final", "Rosenbrock lr",
                             "Rosenbrock final"], "rows": rows}],
    )
