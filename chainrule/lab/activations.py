"""Notes 000, 002, 004: activation functions — convergence speed and dead ReLUs.

Note 002 says SGD converges faster with ReLU than with sigmoid or tanh (ReLU does not saturate for
x > 0), and that ReLU's weakness is the dead unit: once a unit's input is negative for every sample
its gradient is exactly zero and it never fires again; Leaky ReLU, PReLU and RReLU (and ELU, note
004) keep a slope for x < 0, so such a unit still gets a gradient and can come back. Two measurements
on the same MLP and the standardized 8×8 digits:

* convergence: every activation trained with plain SGD at each learning rate of a small grid (each
  activation with its prescribed init: Xavier for sigmoid/tanh, He for the ReLU family); the
  activation's best learning rate counts, and it is judged by the steps it needs to bring the
  training loss below a target and by the loss reached after k steps;
* dead units: the same net with every hidden bias initialized to −1, so that many units start off
  (their pre-activation ≤ 0 for every training image); the fraction of such units before and after
  training tells whether they stay dead or come back.
"""
import math
import os

import numpy as np

from .. import manual_seed, nn, no_grad, tensor
from ..data.catalog import get_dataset
from ..nn import init
from ..optim import SGD
from ..runtime import num_threads
from .base import Result
from .common import train_curve

NAME = "activations"
NOTE = "000, 002, 004"
CLAIM = ("SGD converges faster with ReLU than with the saturating sigmoid and tanh; ReLU units can die (input ≤ 0 "
         "for every sample, gradient exactly 0 from then on), while Leaky ReLU, PReLU, RReLU and ELU keep a slope for "
         "x < 0 and so keep such units alive")

HIDDEN, WIDTH, BATCH = 3, 64, 64
TARGET = 0.1  # the training loss (cross-entropy over the whole training set) that counts as "converged"
DEAD_BIAS = -1.0  # the hidden biases' init in the dead-unit run
SATURATING = ("sigmoid", "tanh")
RELU_FAMILY = ("ReLU", "Leaky ReLU", "PReLU", "RReLU", "ELU")
LEAKY = RELU_FAMILY[1:]
ACTIVATIONS = {
    "sigmoid": lambda width: nn.Sigmoid(),
    "tanh": lambda width: nn.Tanh(),
    "ReLU": lambda width: nn.ReLU(),
    "Leaky ReLU": lambda width: nn.LeakyReLU(0.01),
    "PReLU": lambda width: nn.PReLU(width),  # one learnable slope per unit, starting at 0.25
    "RReLU": lambda width: nn.RReLU(),  # slope ~ U(1/8, 1/3) in training, 11/48 in eval
    "ELU": lambda width: nn.ELU(),
}


def build(activation, hidden=HIDDEN, width=WIDTH, in_features=64, classes=10, bias=0.0):
    """``hidden`` Linear(width) + activation layers and a Linear head; Xavier-uniform weights for sigmoid and
    tanh, He-normal for the ReLU family; every hidden bias set to ``bias``."""
    layers, fan_in = [], in_features
    for _ in range(hidden):
        linear = nn.Linear(fan_in, width)
        if activation in SATURATING:
            init.xavier_uniform_(linear.weight)
        else:
            init.kaiming_normal_(linear.weight, nonlinearity="relu")
        init.constant_(linear.bias, bias)
        layers += [linear, ACTIVATIONS[activation](width)]
        fan_in = width
    return nn.Sequential(*layers, nn.Linear(width, classes))


def _digits(seed):
    """The standardized 8×8 digits of the training split as flat arrays: x (N, 64) float32, y (N,)."""
    train, _ = get_dataset("digits").load(None, False, seed)
    x, y = train[np.arange(len(train))]
    return x.reshape(len(x), -1), y


def off_fractions(model, x):
    """Per hidden layer, the fraction of units whose pre-activation is ≤ 0 for every row of ``x``. For ReLU
    such a unit outputs 0 and passes no gradient for any sample: it is dead."""
    fractions = []
    model.eval()
    with no_grad():
        h = tensor(x)
        for module in model:
            h = module(h)
            if isinstance(module, nn.Linear) and module is not model[len(model) - 1]:
                fractions.append(float(np.mean(np.all(h.data <= 0, axis=0))))
    model.train()
    return fractions


def _train(activation, lr, steps, x, y, seed, bias=0.0, every=5):
    """Plain SGD with batches of ``BATCH``; the training-set loss every ``every`` steps; off fractions before and after."""
    manual_seed(seed)
    model = build(activation, bias=bias)
    off_before = off_fractions(model, x)
    optimizer = SGD(model.parameters(), lr=lr)
    curve = train_curve(model, optimizer, x, y, steps, BATCH, seed, every, diverged=float("nan"))
    reached = next((s for s, v in curve if v < TARGET), None)
    return {"curve": curve, "reached": reached, "final": curve[-1][1], "off_before": off_before,
            "off_after": off_fractions(model, x) if math.isfinite(curve[-1][1]) else None}


def _loss_at(curve, k):
    """The training-set loss at step ``k`` (the last recorded at or before it; NaN after a divergence)."""
    before = [v for s, v in curve if s <= k]
    return before[-1] if curve[-1][0] >= k else float("nan")


def _rank_key(run):
    """Best learning rate: fewest steps to the target, then the lowest final loss (NaN last)."""
    final = run["final"] if math.isfinite(run["final"]) else math.inf
    return (run["reached"] if run["reached"] is not None else math.inf, final)


def _plot_convergence(best, lrs, steps, path):
    from .plotting import figure, legend, log_ticks, save

    fig, ax = figure(figsize=(8, 4.6))
    for activation, run in best.items():
        s, v = zip(*run["curve"])
        ax.plot(s, v, label=f"{activation} (lr {lrs[activation]:g})",
                linestyle="--" if activation in SATURATING else "-", linewidth=1.4)
    ax.axhline(TARGET, color="gray", linewidth=0.8, linestyle=":", label=f"target {TARGET:g}")
    ax.set(yscale="log", xlabel="SGD step (batch 64)", ylabel="training-set loss (cross-entropy)", xlim=(0, steps),
           title=f"{HIDDEN}×{WIDTH} MLP on the 8×8 digits, each activation at its best learning rate")
    log_ticks(ax)
    legend(ax, "right")
    ax.grid(alpha=0.3)
    save(fig, path)


def _plot_dead(dead, path):
    from matplotlib.patches import Patch

    from .plotting import figure, save

    fig, (ax1, ax2) = figure(1, 2, figsize=(12, 4.4))
    names = list(dead)
    xs = np.arange(len(names))
    for k, layer in enumerate(range(HIDDEN)):
        before = [dead[n]["off_before"][layer] for n in names]
        after = [dead[n]["off_after"][layer] if dead[n]["off_after"] else np.nan for n in names]
        offset = (k - (HIDDEN - 1) / 2) * 0.27
        ax1.bar(xs + offset, before, width=0.25, color="lightgray", edgecolor=f"C{k}")
        ax1.bar(xs + offset, after, width=0.13, color=f"C{k}", label=f"hidden layer {layer + 1}")
    ax1.set_xticks(xs, names)
    ax1.set(ylabel="fraction of units off for every image", ylim=(0, 1.05),
            title=f"dead units, biases init {DEAD_BIAS:g}: before (gray) → after (colour)")
    handles, _ = ax1.get_legend_handles_labels()
    handles.append(Patch(facecolor="lightgray", edgecolor="0.4", label="before training"))
    ax1.legend(handles=handles, fontsize="small")
    for n in names:
        s, v = zip(*dead[n]["curve"])
        # ReLU wide and pale underneath: a curve that lies on it (Leaky ReLU stuck at chance too) stays visible
        ax2.plot(s, v, label=n, **({"linewidth": 4, "alpha": 0.5} if n == "ReLU" else {}))
    ax2.axhline(math.log(10), color="gray", linewidth=0.8, linestyle=":", label="chance (ln 10)")
    ax2.set(yscale="log", xlabel="SGD step", ylabel="training-set loss", title="training from the negative-bias init")
    ax2.legend(fontsize="small")
    ax2.grid(alpha=0.3)
    save(fig, path)


def run(quick=False, seed=0, out="."):
    steps, dead_steps = (120, 300) if quick else (400, 1000)
    lrs = (0.1, 0.3, 1.0) if quick else (0.03, 0.1, 0.3, 1.0, 3.0)
    x, y = _digits(seed)
    with num_threads(1):  # small matrices: one BLAS thread is several times faster
        sweep = {a: {lr: _train(a, lr, steps, x, y, seed) for lr in lrs} for a in ACTIVATIONS}
        best_lr = {a: min(lrs, key=lambda lr: _rank_key(sweep[a][lr])) for a in ACTIVATIONS}
        best = {a: sweep[a][best_lr[a]] for a in ACTIVATIONS}
        dead = {a: _train(a, best_lr[a], dead_steps, x, y, seed, bias=DEAD_BIAS, every=10) for a in RELU_FAMILY}

    def to_target(a):
        return math.inf if best[a]["reached"] is None else best[a]["reached"]

    def off(run, key):
        return float(np.mean(run[key])) if run[key] is not None else float("nan")

    faster = {s: to_target("ReLU") < to_target(s) for s in SATURATING}
    relu_before, relu_after = off(dead["ReLU"], "off_before"), off(dead["ReLU"], "off_after")
    relu_dead = relu_before > 0.2 and relu_after >= relu_before - 0.01  # many units off, and none came back
    revived = {a: off(dead[a], "off_after") < 0.5 * relu_after for a in LEAKY}
    held = all(faster.values()) and relu_dead and all(revived.values())

    _plot_convergence(best, best_lr, steps, os.path.join(out, "activations_convergence.png"))
    _plot_dead(dead, os.path.join(out, "activations_dead_units.png"))

    def steps_text(a):
        return f"{a} {best[a]['reached']} steps" if best[a]["reached"] is not None else f"{a} not within {steps}"

    half = steps // 2
    conv = (f"steps to a training loss below {TARGET:g}, each at its best learning rate: "
            + ", ".join(steps_text(a) for a in ACTIVATIONS)
            + f" (loss after {half} steps: " + ", ".join(f"{a} {_loss_at(best[a]['curve'], half):.3f}" for a in ACTIVATIONS)
            + ")")
    dead_text = (f"with hidden biases initialized to {DEAD_BIAS:g}, the fraction of hidden units off for every training "
                 f"image went from {relu_before:.2f} to {relu_after:.2f} with ReLU (loss {dead['ReLU']['final']:.3f}, "
                 f"chance is {math.log(10):.3f}), and for "
                 + ", ".join(f"{a} {off(dead[a], 'off_before'):.2f} → {off(dead[a], 'off_after'):.2f} "
                             f"(loss {dead[a]['final']:.3f})" for a in LEAKY)
                 + f" in {dead_steps} steps")
    if held:
        verdict = f"{conv}; {dead_text}: ReLU's dead units stay dead, the leaky variants bring theirs back"
    else:
        failed = []
        if not all(faster.values()):
            failed.append("ReLU was not faster than " + " and ".join(s for s in SATURATING if not faster[s]))
        if not relu_dead:
            failed.append("ReLU's units did not stay dead")
        if not all(revived.values()):
            failed.append("within the budget " + ", ".join(a for a in LEAKY if not revived[a])
                          + " did not bring its units back (off fraction not below half of ReLU's)")
        verdict = "; ".join(failed) + f". Measured: {conv}; {dead_text}"

    rows = [[a, best_lr[a], best[a]["reached"] if best[a]["reached"] is not None else f"> {steps}",
             _loss_at(best[a]["curve"], half), best[a]["final"],
             off(dead[a], "off_before") if a in dead else "—", off(dead[a], "off_after") if a in dead else "—",
             dead[a]["final"] if a in dead else "—"] for a in ACTIVATIONS]
    return Result(
        name=NAME, note=NOTE, claim=CLAIM,
        setup=(f"MLP 64 → {WIDTH} ×{HIDDEN} hidden layers → 10 on the standardized 8×8 digits ({len(x)} training "
               f"images), plain SGD, batch {BATCH}, seed {seed}; Xavier-uniform init for sigmoid/tanh, He-normal for the "
               "ReLU family, biases 0; Leaky ReLU slope 0.01, PReLU one slope per unit from 0.25, RReLU slopes "
               f"U(1/8, 1/3), ELU α = 1. Convergence: {steps} steps at each learning rate of {list(lrs)}, the best per "
               f"activation (fewest steps to a training-set loss < {TARGET:g}, then lowest final loss). Dead units: the "
               f"ReLU family again at its best learning rate for {dead_steps} steps with every hidden bias initialized "
               f"to {DEAD_BIAS:g}; a unit is off when its pre-activation is ≤ 0 for all {len(x)} training images "
               "(for ReLU: dead, zero gradient); fractions are averaged over the hidden layers. Held needs ReLU to reach "
               "the target before sigmoid and tanh, ReLU's off fraction not to fall, and every leaky variant to end "
               "below half of ReLU's"),
        numbers={
            "best_lr": best_lr,
            "steps_to_target": {a: best[a]["reached"] for a in ACTIVATIONS},
            f"loss_after_{half}_steps": {a: _loss_at(best[a]["curve"], half) for a in ACTIVATIONS},
            "final_loss": {a: best[a]["final"] for a in ACTIVATIONS},
            "final_loss_per_lr": {a: {str(lr): r["final"] for lr, r in sweep[a].items()} for a in ACTIVATIONS},
            "steps_to_target_per_lr": {a: {str(lr): r["reached"] for lr, r in sweep[a].items()} for a in ACTIVATIONS},
            "dead_run": {a: {"off_before_per_layer": r["off_before"], "off_after_per_layer": r["off_after"],
                             "off_before": off(r, "off_before"), "off_after": off(r, "off_after"),
                             "final_loss": r["final"]} for a, r in dead.items()},
            "parts": {"ReLU faster than sigmoid": faster["sigmoid"], "ReLU faster than tanh": faster["tanh"],
                      "ReLU units stay dead": relu_dead, **{f"{a} revives units": ok for a, ok in revived.items()}},
            "steps": steps, "dead_steps": dead_steps, "target": TARGET,
        },
        held=bool(held),
        in_part=not held and (any(faster.values()) or relu_dead or any(revived.values())),
        verdict=verdict,
        figures=["activations_convergence.png", "activations_dead_units.png"],
        tables=[{"title": "per activation",
                 "columns": ["activation", "best lr", f"steps to loss < {TARGET:g}", f"loss after {half} steps",
                             "final loss", f"off before (bias {DEAD_BIAS:g})", "off after", "final loss (bias run)"],
                 "rows": rows}],
    )
