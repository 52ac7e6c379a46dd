"""Note 004: batch, stochastic and mini-batch gradient descent, and learning-rate decay.

Batch gradient descent averages the gradient over all n examples before each step; stochastic gradient descent
(SGD) steps on one example at a time, so each step is far cheaper and it gets near the minimum sooner, along a
noisy path; mini-batch (b examples per step) lies in between [note 004 §12]. A constant step keeps SGD's noise
forever — it hovers around the minimum instead of settling — and the note's remedy for an unstable run is to lower
the learning rate step by step [note 004 §13].

One problem for all: softmax regression (Linear 64→10) on the standardized 8×8 digits with a small L2 penalty on
the weights, J(W, b) = cross-entropy + λ/2·‖W‖², which makes the minimum J* unique (found by a long run of batch
gradient descent). Batch (b = n = 1,347), mini-batch (b = 32) and stochastic (b = 1) descent each run at the best
learning rate of a small grid (the lowest J at the end of its budget) with SGD (no momentum, the penalty as
``weight_decay`` on the weights only); J over the whole training set is recorded ten times per epoch (every step for
batch descent), against epochs and against training time (the time of the steps alone, the recording left out).
"Near the minimum" is J − J* ≤ 0.1; the noise is the share of the last few hundred steps after which J (on the whole
set) went up — never, on a path that only descends. Then learning-rate
decay: mini-batch descent from a large rate, kept constant, a constant rate ten times smaller, ``StepLR`` (×0.1 every
third of the run) and ``CosineAnnealingLR`` (to 0 at the end), all from ``chainrule.optim.lr_scheduler``; measured:
J − J* at the end, and how much J still moves during the last epoch (max − min after each of its steps).
"""
import itertools
import math
import os
import statistics
import time

import numpy as np

from .. import manual_seed, nn, no_grad, tensor
from ..data.preprocessing import StandardScaler
from ..optim import SGD
from ..optim.lr_scheduler import CosineAnnealingLR, StepLR
from ..runtime import num_threads
from .base import Result
from .common import digits_split

NAME = "gd-variants"
NOTE = "004"
CLAIM = ("stochastic gradient descent (one example per step) takes far cheaper steps than batch gradient descent and "
         "gets near the minimum in fewer passes over the data and less time, along a noisy path, mini-batch lying in "
         "between; decaying the learning rate step by step ends closer to the minimum and steadier than keeping a "
         "large one constant")

L2 = 1e-2  # λ of the penalty λ/2·‖W‖²: a unique minimum, so that "near the minimum" has a meaning
NEAR = 0.1  # "near the minimum": J − J* ≤ NEAR (J* ≈ 0.26, J at the start ≈ 2.3)
RECORDS = 10  # recordings of J per epoch
VARIANTS = ("batch", "mini-batch", "stochastic")
DECAY_LR, DECAY_BATCH = 1.0, 32


def objective(model, x, y):
    """J = cross-entropy over (x, y) + λ/2·‖W‖², without a graph (inf when not finite)."""
    with no_grad(), np.errstate(all="ignore"):
        ce = float(nn.functional.cross_entropy(model(x), y).data)
    value = ce + L2 / 2 * float(np.sum(model.weight.data.astype(np.float64) ** 2))
    return value if math.isfinite(value) else math.inf


def descend(x, y, batch, lr, epochs, seed, schedule=None, records=RECORDS, watch=0):
    """Gradient descent on J in steps of ``batch`` examples (an epoch: n // batch steps over a fresh shuffle).
    ``schedule(optimizer)`` makes a scheduler stepped once per epoch. Returns {"curve": [(epoch, seconds, J)]
    ``records`` times per epoch, "lrs": [the rate of each epoch], "step_seconds": [the time of each step], "watched":
    [J after each of the last ``watch`` steps], "model"}; seconds count the steps only, not the evaluations of J.
    Stops at a J that is not finite."""
    manual_seed(seed)
    model = nn.Linear(x.shape[1], 10)
    optimizer = SGD([{"params": [model.weight], "weight_decay": L2}, {"params": [model.bias]}], lr=lr)
    scheduler = schedule(optimizer) if schedule is not None else None
    xs, ys = tensor(x), tensor(y)
    n = len(x)
    per_epoch = n // batch
    every = max(1, per_epoch // records)
    first_watched = epochs * per_epoch - watch
    order = np.random.default_rng(seed)
    out = {"curve": [(0.0, 0.0, objective(model, xs, ys))], "lrs": [], "step_seconds": [], "watched": [],
           "model": model}
    seconds, step = 0.0, 0
    with np.errstate(all="ignore"):  # a rate too large overflows: that is measured, not an error
        for epoch in range(epochs):
            out["lrs"].append(optimizer.param_groups[0]["lr"])
            perm = order.permutation(n)
            for k in range(per_epoch):
                start = time.perf_counter()
                idx = perm[k * batch:(k + 1) * batch]
                loss = nn.functional.cross_entropy(model(tensor(x[idx])), tensor(y[idx]))
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
                out["step_seconds"].append(time.perf_counter() - start)
                seconds += out["step_seconds"][-1]
                step += 1
                if step > first_watched:
                    out["watched"].append(objective(model, xs, ys))
                if (k + 1) % every == 0 or k + 1 == per_epoch:
                    out["curve"].append((epoch + (k + 1) / per_epoch, seconds, objective(model, xs, ys)))
                    if not math.isfinite(out["curve"][-1][2]):
                        return out
            if scheduler is not None:
                scheduler.step()
    return out


def reference_minimum(x, y, steps, lr=3.0):
    """J* by ``steps`` steps of batch gradient descent (the problem is strongly convex: one minimum)."""
    run = descend(x, y, len(x), lr, steps, seed=0, records=1)
    return min(j for _, _, j in run["curve"])


def first_near(curve, j_star):
    """(epoch, seconds) of the first recording with J − J* ≤ NEAR, or (None, None)."""
    return next(((e, s) for e, s, j in curve if j - j_star <= NEAR), (None, None))


def rise_share(js):
    """The share of steps after which J went up: 0 on a path that only descends."""
    return float(np.mean([b > a for a, b in itertools.pairwise(js)])) if len(js) > 1 else 0.0


def accuracy(model, x, y):
    with no_grad():
        return float(np.mean(np.argmax(model(tensor(x)).data, axis=1) == y))


def _plot_variants(best, j_star, path):
    from .plotting import figure, legend, save

    fig, (ax1, ax2) = figure(1, 2, figsize=(12.5, 4.4))
    # mini-batch and stochastic descent walk the same losses over their first epoch: mini-batch wide and pale
    # underneath, stochastic dashed on top, so neither hides the other
    styles = {"mini-batch": {"lw": 3.5, "alpha": 0.5}, "stochastic": {"lw": 1.4, "ls": "--", "zorder": 3}}
    for i, (name, r) in enumerate(best.items()):
        e, s, j = map(np.array, zip(*r["curve"]))
        gap = np.maximum(j - j_star, 1e-6)
        label = f"{name} (b = {r['batch']}, lr {r['lr']:g})"
        style = styles.get(name, {"lw": 1.2})
        ax1.plot(e[1:], gap[1:], color=f"C{i}", label=label, **style)
        ax2.plot(s[1:], gap[1:], color=f"C{i}", label=label, **style)
    for ax, xlabel in ((ax1, "epochs (passes over the 1,347 training digits)"),
                       (ax2, "training time (s, the steps only)")):
        ax.axhline(NEAR, color="gray", ls=":", lw=1)
        ax.set(xscale="log", yscale="log", xlabel=xlabel, ylabel="J − J*")
        ax.grid(alpha=0.3, which="both")
    ax1.set_title("J − J* against passes over the data", fontsize=10)
    ax2.set_title(f"against time (dotted: 'near', J − J* = {NEAR:g})", fontsize=10)
    legend(ax2, "right")
    save(fig, path)


def _plot_decay(decay, j_star, epochs, path):
    from .plotting import figure, legend, save

    fig, (ax1, ax2) = figure(1, 2, figsize=(12.5, 4.2))
    # the schedules share their rates, and so their losses, until they decay: the constant ones wide and pale
    # underneath, StepLR on them, cosine dashed on top, so no curve hides another
    styles = {"constant": {"lw": 4.5, "alpha": 0.4}, "constant ÷ 10": {"lw": 3.5, "alpha": 0.5},
              "StepLR": {"lw": 1.6}, "cosine": {"lw": 1.3, "ls": "--", "zorder": 3}}
    for i, (name, r) in enumerate(decay.items()):
        style = styles.get(name, {"lw": 1.1})
        ax1.step(np.arange(len(r["lrs"]) + 1), [*r["lrs"], r["lrs"][-1]], where="post", color=f"C{i}", label=name,
                 **style)
        e, _, j = map(np.array, zip(*r["curve"]))
        ax2.plot(e[1:], np.maximum(j[1:] - j_star, 1e-6), color=f"C{i}", label=name, **style)
    ax1.set(yscale="log", xlabel="epoch", ylabel="learning rate", title="the schedules (stepped once per epoch)",
            xlim=(0, epochs))
    ax2.set(yscale="log", xlabel="epoch", ylabel="J − J*", xlim=(0, epochs),
            title=f"mini-batch descent (b = {DECAY_BATCH}) from lr {DECAY_LR:g}")
    for ax in (ax1, ax2):
        ax.grid(alpha=0.3, which="both")
        ax.xaxis.get_major_locator().set_params(integer=True)
    legend(ax2, "right")
    save(fig, path)


def run(quick=False, seed=0, out="."):
    x_raw, y, x_test_raw, y_test = digits_split(seed)
    scaler = StandardScaler().fit(x_raw)
    x, x_test = scaler.transform(x_raw).astype(np.float32), scaler.transform(x_test_raw).astype(np.float32)
    n = len(x)
    if quick:
        plan = {"batch": (n, (1.0, 3.0), 60), "mini-batch": (32, (0.1, 0.3), 4), "stochastic": (1, (0.01, 0.03), 1)}
        decay_epochs, reference_steps, watch = 6, 400, 100
    else:
        plan = {"batch": (n, (0.3, 1.0, 3.0, 10.0), 200), "mini-batch": (32, (0.03, 0.1, 0.3, 1.0), 20),
                "stochastic": (1, (0.003, 0.01, 0.03, 0.1), 5)}
        decay_epochs, reference_steps, watch = 24, 3000, 300
    schedules = {"constant": (DECAY_LR, None), "constant ÷ 10": (DECAY_LR / 10, None),
                 "StepLR": (DECAY_LR, lambda o: StepLR(o, step_size=decay_epochs // 3, gamma=0.1)),
                 "cosine": (DECAY_LR, lambda o: CosineAnnealingLR(o, T_max=decay_epochs))}
    with num_threads(1):  # small matrices: one BLAS thread is faster and the timings steadier
        j_star = reference_minimum(x, y, reference_steps)
        sweep = {name: {lr: descend(x, y, b, lr, epochs, seed, watch=watch) for lr in lrs}
                 for name, (b, lrs, epochs) in plan.items()}
        decay = {name: descend(x, y, DECAY_BATCH, lr, decay_epochs, seed, schedule=make, watch=n // DECAY_BATCH)
                 for name, (lr, make) in schedules.items()}
    j_star = min(j_star, *(j for runs in sweep.values() for r in runs.values() for _, _, j in r["curve"]),
                 *(j for r in decay.values() for _, _, j in r["curve"]))

    best = {}
    for name, runs in sweep.items():
        lr = min(runs, key=lambda k: runs[k]["curve"][-1][2])
        r = runs[lr]
        epoch, seconds = first_near(r["curve"], j_star)
        best[name] = {**r, "lr": lr, "batch": plan[name][0], "epochs": plan[name][2], "near_epoch": epoch,
                      "near_seconds": seconds, "step_ms": 1e3 * statistics.median(r["step_seconds"]),
                      "final_gap": r["curve"][-1][2] - j_star, "rise_share": rise_share(r["watched"]),
                      "after_one_epoch": next(j for e, _, j in r["curve"] if e >= 1) - j_star,
                      "test_accuracy": accuracy(r["model"], x_test, y_test)}
    for r in decay.values():
        r.update(final_gap=r["curve"][-1][2] - j_star, last_epoch_spread=float(max(r["watched"]) - min(r["watched"])),
                 rise_share=rise_share(r["watched"]), test_accuracy=accuracy(r["model"], x_test, y_test))

    batch, mini, sgd = (best[k] for k in VARIANTS)
    inf = math.inf

    def when(r, key):
        return r[key] if r[key] is not None else inf

    parts = {
        "stochastic steps are cheaper": sgd["step_ms"] <= mini["step_ms"] <= batch["step_ms"],
        "near the minimum in fewer epochs": when(sgd, "near_epoch") <= when(mini, "near_epoch") < when(batch, "near_epoch"),
        "near the minimum in less time": when(sgd, "near_seconds") < when(batch, "near_seconds"),
        "a noisy path": min(sgd["rise_share"], mini["rise_share"]) > batch["rise_share"],
        "decay ends closer to the minimum": all(decay[k]["final_gap"] < decay["constant"]["final_gap"]
                                                for k in ("StepLR", "cosine")),
        "decay ends steadier": all(decay[k]["last_epoch_spread"] < decay["constant"]["last_epoch_spread"]
                                   for k in ("StepLR", "cosine")),
    }
    held = all(parts.values())
    in_part = not held and any(parts.values())

    _plot_variants(best, j_star, os.path.join(out, "gd_variants.png"))
    _plot_decay(decay, j_star, decay_epochs, os.path.join(out, "gd_variants_lr_decay.png"))

    def near(r):
        if r["near_epoch"] is None:
            return f"not within {r['epochs']} epochs"
        return f"{r['near_epoch']:.2g} epochs, {r['near_seconds']:.2g} s"

    failed = [k for k, v in parts.items() if not v]
    verdict = (f"J* = {j_star:.4f}. Time per step: batch {batch['step_ms']:.2f} ms, mini-batch {mini['step_ms']:.2f} ms, "
               f"stochastic {sgd['step_ms']:.2f} ms ({batch['step_ms'] / sgd['step_ms']:.1f}× cheaper than a batch step,"
               f" for 1/{n:,} of the examples). Near the minimum (J − J* ≤ {NEAR:g}): batch after {near(batch)}, "
               f"mini-batch {near(mini)}, stochastic {near(sgd)}. J − J* after one epoch: batch "
               f"{batch['after_one_epoch']:.3f}, mini-batch {mini['after_one_epoch']:.3f}, stochastic "
               f"{sgd['after_one_epoch']:.3f}; at the end: {batch['final_gap']:.1e}, {mini['final_gap']:.1e}, "
               f"{sgd['final_gap']:.1e}; J went up after {batch['rise_share']:.0%}, {mini['rise_share']:.0%} and "
               f"{sgd['rise_share']:.0%} of the last {watch} steps. Learning-rate decay from lr {DECAY_LR:g} over "
               f"{decay_epochs} epochs, J − J* at the end (and its spread over the last epoch): "
               + ", ".join(f"{k} {r['final_gap']:.1e} ({r['last_epoch_spread']:.1e})" for k, r in decay.items())
               + (". Did not hold: " + "; ".join(failed) if failed else "") + ".")
    return Result(
        name=NAME, note=NOTE, claim=CLAIM,
        setup=(f"the bundled 8×8 digits, stratified 75/25 split (seed {seed}), standardized with the training part's "
               f"StandardScaler; softmax regression (Linear 64→10), J = cross-entropy + {L2:g}/2·‖W‖², SGD without "
               "momentum (the penalty as weight_decay on W only), one BLAS thread; batch (b = n), mini-batch (b = 32) "
               "and stochastic (b = 1) descent, each at the learning rate of its grid with the lowest J at the end: "
               + "; ".join(f"{k}: lr ∈ {lrs}, {e} epochs" for k, (_, lrs, e) in plan.items())
               + f"; J over the whole training set {RECORDS} times per epoch (every step for batch descent); J* by "
               f"{reference_steps} steps of batch descent at lr 3 (or the lowest J seen, if lower); time: the steps "
               f"only, medians per step. Decay: mini-batch (b = {DECAY_BATCH}) for {decay_epochs} epochs from lr "
               f"{DECAY_LR:g}: constant, constant {DECAY_LR / 10:g}, StepLR(step_size={decay_epochs // 3}, gamma=0.1), "
               f"CosineAnnealingLR(T_max={decay_epochs}); spread = max − min of J after each step of the last epoch; "
               f"share of rises: of the last {watch} steps (the last epoch's for the schedules), those after which J "
               "went up"),
        numbers={"j_star": j_star, "near": NEAR,
                 "variants": [{"variant": k, "batch": r["batch"], "lr": r["lr"], "step_ms": r["step_ms"],
                               "epochs_to_near": r["near_epoch"], "seconds_to_near": r["near_seconds"],
                               "gap_after_one_epoch": r["after_one_epoch"], "final_gap": r["final_gap"],
                               "rise_share": r["rise_share"], "test_accuracy": r["test_accuracy"]}
                              for k, r in best.items()],
                 "final_gap_by_lr": {k: {str(lr): r["curve"][-1][2] - j_star for lr, r in runs.items()}
                                     for k, runs in sweep.items()},
                 "decay": [{"schedule": k, "final_lr": r["lrs"][-1], "final_gap": r["final_gap"],
                            "last_epoch_spread": r["last_epoch_spread"], "rise_share": r["rise_share"],
                            "test_accuracy": r["test_accuracy"]} for k, r in decay.items()],
                 "parts": parts},
        held=bool(held), in_part=bool(in_part), verdict=verdict,
        figures=["gd_variants.png", "gd_variants_lr_decay.png"],
        tables=[{"title": "batch vs mini-batch vs stochastic gradient descent (best lr of each)",
                 "columns": ["variant", "b", "lr", "ms per step", f"epochs to J − J* ≤ {NEAR:g}", "seconds to it",
                             "J − J* after 1 epoch", "J − J* at the end", f"rises in the last {watch} steps", "test accuracy"],
                 "rows": [[k, r["batch"], r["lr"], r["step_ms"], r["near_epoch"] if r["near_epoch"] is not None
                           else f"> {r['epochs']}", r["near_seconds"] if r["near_seconds"] is not None else "—",
                           r["after_one_epoch"], r["final_gap"], r["rise_share"], r["test_accuracy"]]
                          for k, r in best.items()]},
                {"title": f"learning-rate decay (mini-batch b = {DECAY_BATCH}, {decay_epochs} epochs)",
                 "columns": ["schedule", "first lr", "last lr", "J − J* at the end", "spread over the last epoch",
                             "rises in the last epoch", "test accuracy"],
                 "rows": [[k, r["lrs"][0], r["lrs"][-1], r["final_gap"], r["last_epoch_spread"], r["rise_share"],
                           r["test_accuracy"]] for k, r in decay.items()]},
                {"title": "the claim, part by part", "columns": ["part", "held"],
                 "rows": [[k, v] for k, v in parts.items()]}],
    )
