"""Notes 002, 003: a small positive bias (0.1) against dead ReLUs, and a large learning rate that kills them.

A ReLU unit whose pre-activation is ≤ 0 for every training input outputs 0 and passes no gradient: it is dead, and
nothing brings it back [note 002 §6]. Note 003 (§20) initializes the weights from a truncated N(0, 0.1²) and, with
ReLU, the biases to a small positive constant such as 0.1, so that units do not start dead; note 002's scenario for
the dying is one large gradient step pushing a unit's weights so far that it never fires again. Measured on an MLP
of four ReLU layers of 64 units on the 8×8 digits (pixels in [0, 1], as the notes' MNIST), with the notes'
initialization: the fraction of hidden units that fire for no training image — at initialization and while training
with plain SGD at a moderate and at a large learning rate — for biases 0 and 0.1, and the test accuracy; means over
several seeds (the same weights for both biases at each seed).
"""
import math
import os

import numpy as np

from .. import manual_seed, nn, no_grad, tensor
from ..nn import init
from ..optim import SGD
from ..runtime import num_threads
from .activations import off_fractions
from .base import Result
from .common import digits_split

NAME = "dead-relus"
NOTE = "002, 003"
CLAIM = ("initializing ReLU layers' biases to a small positive constant (0.1) leaves fewer units dead — firing for no "
         "training input — than biases of 0, at initialization and after training; a large learning rate kills "
         "ReLU units")

HIDDEN, WIDTH, STD, BATCH = 4, 64, 0.1, 32
BIASES = (0.0, 0.1)
LRS = {"moderate": 0.1, "large": 0.5}


def build(bias, hidden=HIDDEN, width=WIDTH, std=STD):
    """``hidden`` Linear(width)–ReLU layers and a Linear head: weights from N(0, std²) redrawn beyond 2·std (the
    notes' truncated normal), every bias ``bias``."""
    layers, fan_in = [], 64
    for _ in range(hidden):
        layers += [nn.Linear(fan_in, width), nn.ReLU()]
        fan_in = width
    model = nn.Sequential(*layers, nn.Linear(width, 10))
    for module in model:
        if isinstance(module, nn.Linear):
            init.trunc_normal_(module.weight, std=std, a=-2 * std, b=2 * std)
            init.constant_(module.bias, bias)
    return model


def accuracy(model, x, y):
    model.eval()
    with no_grad():
        right = float(np.mean(np.argmax(model(tensor(x)).data, axis=1) == y))
    model.train()
    return right


def train(bias, lr, x, y, steps, seed, every):
    """Plain SGD (batches of BATCH, reshuffled each epoch) from ``build(bias)`` drawn with ``seed``; returns
    {"dead": [(step, fraction of hidden units dead)] every ``every`` steps, "dead_by_layer_before" / "_after",
    "loss" (the last mini-batch loss), "diverged_at" (None, or the step whose loss was not finite: that step is not
    taken, and the net is counted as it stood before it, its dead fraction carried to the end of the curve),
    "model"}."""
    manual_seed(seed)
    model = build(bias)
    optimizer = SGD(model.parameters(), lr=lr)
    before = off_fractions(model, x)
    dead, step, loss_value, diverged_at = [(0, float(np.mean(before)))], 0, math.nan, None
    order = np.random.default_rng(seed)
    with np.errstate(all="ignore"):  # a rate too large overflows: that is measured, not an error
        while step < steps and diverged_at is None:
            perm = order.permutation(len(x))
            for start in range(0, len(x) - BATCH + 1, BATCH):
                idx = perm[start:start + BATCH]
                loss = nn.functional.cross_entropy(model(tensor(x[idx])), tensor(y[idx]))
                loss_value = float(loss.data)
                if not math.isfinite(loss_value):
                    diverged_at = step
                    break
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
                step += 1
                if step % every == 0:
                    dead.append((step, float(np.mean(off_fractions(model, x)))))
                if step == steps:
                    break
        after = off_fractions(model, x)
    dead += [(k, dead[-1][1]) for k in range(dead[-1][0] + every, steps + 1, every)]
    return {"dead": dead, "dead_by_layer_before": before, "dead_by_layer_after": after, "loss": loss_value,
            "diverged_at": diverged_at, "model": model}


def _plot(runs, seeds, steps, path):
    from .plotting import figure, layer_ticks, legend, save

    fig, (ax1, ax2, ax3) = figure(1, 3, figsize=(16, 4.4), gridspec_kw={"width_ratios": [3, 2.2, 1.6]})
    for i, lr_name in enumerate(LRS):
        for bias in BIASES:
            curves = np.array([[f for _, f in runs[(bias, lr_name, s)]["dead"]] for s in seeds])
            x = [k for k, _ in runs[(bias, lr_name, seeds[0])]["dead"]]
            ax1.plot(x, curves.mean(axis=0), color=f"C{i}", ls="-" if bias == 0 else "--",
                     label=f"lr {LRS[lr_name]:g}, bias {bias:g}")
    ax1.set(xlabel="SGD step", ylabel="fraction of hidden units dead", xlim=(0, steps), ylim=(0, None),
            title=f"dead ReLUs while training (mean of {len(seeds)} seeds)")
    ax1.grid(alpha=0.3)
    legend(ax1, "best")
    layers = np.arange(1, HIDDEN + 1)
    groups = [("init", None)] + [(f"lr {LRS[k]:g}", k) for k in LRS]
    width = 0.8 / (2 * len(groups))
    for g, (label, lr_name) in enumerate(groups):
        for b, bias in enumerate(BIASES):
            key = "dead_by_layer_before" if lr_name is None else "dead_by_layer_after"
            values = np.mean([runs[(bias, lr_name or next(iter(LRS)), s)][key] for s in seeds], axis=0)
            offset = (2 * g + b - (2 * len(groups) - 1) / 2) * width
            ax2.bar(layers + offset, values, width=width, color=f"C{g + 2}" if lr_name is None else
                    f"C{list(LRS).index(lr_name)}", alpha=1.0 if bias == 0 else 0.5,
                    hatch="" if bias == 0 else "//", label=f"{label}, bias {bias:g}")
    layer_ticks(ax2, [f"layer {i}" for i in layers])
    ax2.set(ylabel="fraction dead", title="by layer: at init and after training")
    legend(ax2, "below", ncol=3)
    labels, accs = [], []
    for lr_name, lr in LRS.items():
        for bias in BIASES:
            labels.append(f"lr {lr:g}\nbias {bias:g}")
            accs.append(np.mean([runs[(bias, lr_name, s)]["test_accuracy"] for s in seeds]))
    bars = ax3.bar(range(len(labels)), accs, color=[f"C{i // 2}" for i in range(len(labels))])
    for i, bar in enumerate(bars):
        if i % 2:
            bar.set_alpha(0.5)
            bar.set_hatch("//")
        ax3.text(bar.get_x() + bar.get_width() / 2, accs[i] + 0.01, f"{accs[i]:.2f}", ha="center", va="bottom",
                 fontsize=8)
    ax3.set_xticks(range(len(labels)), labels, fontsize=8)
    ax3.set(ylim=(0, 1.1), ylabel="test accuracy", title="test accuracy")
    save(fig, path)


def run(quick=False, seed=0, out="."):
    steps, seeds, every = (150, (seed, seed + 1), 25) if quick else (600, tuple(range(seed, seed + 5)), 25)
    x, y, x_test, y_test = digits_split(seed)
    x, x_test = (x / 16).astype(np.float32), (x_test / 16).astype(np.float32)  # pixel counts 0..16 → [0, 1]
    runs = {}
    with num_threads(1):  # small matrices: one BLAS thread is faster
        for bias in BIASES:
            for lr_name, lr in LRS.items():
                for s in seeds:
                    r = train(bias, lr, x, y, steps, s, every)
                    with np.errstate(all="ignore"):
                        r["test_accuracy"] = accuracy(r.pop("model"), x_test, y_test)
                    runs[(bias, lr_name, s)] = r

    def mean(bias, lr_name, key):
        if key == "init":
            return float(np.mean([np.mean(runs[(bias, lr_name, s)]["dead_by_layer_before"]) for s in seeds]))
        if key == "after":
            return float(np.mean([np.mean(runs[(bias, lr_name, s)]["dead_by_layer_after"]) for s in seeds]))
        return float(np.mean([runs[(bias, lr_name, s)][key] for s in seeds]))

    first = next(iter(LRS))
    table = {f"bias {b:g}, lr {LRS[k]:g}": {"dead_at_init": mean(b, k, "init"), "dead_after": mean(b, k, "after"),
                                             "test_accuracy": mean(b, k, "test_accuracy"),
                                             "diverged_runs": sum(runs[(b, k, s)]["diverged_at"] is not None
                                                                  for s in seeds)}
             for b in BIASES for k in LRS}
    # per seed (the same weights for both biases): in how many runs bias 0.1 ended with fewer / more dead units
    fewer = {k: int(sum(np.mean(runs[(0.1, k, s)]["dead_by_layer_after"])
                        < np.mean(runs[(0.0, k, s)]["dead_by_layer_after"]) for s in seeds)) for k in LRS}
    more = {k: int(sum(np.mean(runs[(0.1, k, s)]["dead_by_layer_after"])
                       > np.mean(runs[(0.0, k, s)]["dead_by_layer_after"]) for s in seeds)) for k in LRS}
    init0, init1 = mean(0.0, first, "init"), mean(0.1, first, "init")
    parts = {"fewer dead at init": init1 < init0}
    for k, lr in LRS.items():
        parts[f"fewer dead after training at lr {lr:g}"] = mean(0.1, k, "after") < mean(0.0, k, "after")
    parts[f"lr {LRS['large']:g} kills units"] = (mean(0.0, "large", "after") > mean(0.0, "large", "init") + 0.05
                                                 and mean(0.0, "large", "after") > mean(0.0, "moderate", "after"))
    held = all(parts.values())
    in_part = not held and any(parts.values())

    _plot(runs, seeds, steps, os.path.join(out, "dead_relus.png"))
    failed = [k for k, v in parts.items() if not v]
    verdict = (f"hidden units dead (firing for no training image), mean of {len(seeds)} seeds: at initialization "
               f"{init0:.3f} with biases 0 and {init1:.3f} with biases 0.1; after {steps} SGD steps "
               + "; ".join(f"at lr {lr:g}: {mean(0.0, k, 'after'):.3f} vs {mean(0.1, k, 'after'):.3f} (test accuracy "
                           f"{mean(0.0, k, 'test_accuracy'):.3f} vs {mean(0.1, k, 'test_accuracy'):.3f}"
                           + "".join(f"; {n} of {len(seeds)} runs with bias {bias:g} overflowed and stopped" for bias in
                                     BIASES if (n := table[f"bias {bias:g}, lr {lr:g}"]["diverged_runs"]))
                           + ")" for k, lr in LRS.items())
               + (". Did not hold: " + "; ".join(failed) if failed else "") + ".")
    return Result(
        name=NAME, note=NOTE, claim=CLAIM,
        setup=(f"the bundled 8×8 digits (pixels /16, in [0, 1]), stratified 75/25 split (seed {seed}); MLP 64 → "
               f"{HIDDEN}×[Linear({WIDTH}) + ReLU] → Linear(10), weights from N(0, {STD:g}²) truncated at 2σ "
               f"(init.trunc_normal_), every bias {' or '.join(f'{b:g}' for b in BIASES)} (init.constant_); plain SGD, "
               f"batch {BATCH}, {steps} steps at lr {' and '.join(f'{v:g}' for v in LRS.values())}; seeds "
               f"{', '.join(map(str, seeds))} (each seed draws the same weights for both biases); dead = pre-activation "
               "≤ 0 for all 1,347 training images (activations.off_fractions), averaged over the four hidden layers; a run whose "
               "mini-batch loss overflows stops there and is counted as it stood"),
        numbers={"steps": steps, "seeds": list(seeds), "by_setting": table, "parts": parts,
                 "seeds_bias_01_fewer_dead": {f"lr {LRS[k]:g}": fewer[k] for k in LRS},
                 "seeds_bias_01_more_dead": {f"lr {LRS[k]:g}": more[k] for k in LRS},
                 "dead_by_layer_after": {f"bias {b:g}, lr {LRS[k]:g}": [float(np.mean(
                     [runs[(b, k, s)]["dead_by_layer_after"][i] for s in seeds])) for i in range(HIDDEN)]
                     for b in BIASES for k in LRS}},
        held=bool(held), in_part=bool(in_part), verdict=verdict,
        figures=["dead_relus.png"],
        tables=[{"title": f"dead hidden units and accuracy (mean of {len(seeds)} seeds)",
                 "columns": ["bias", "lr", "dead at init", f"dead after {steps} steps", "test accuracy",
                             "seeds: fewer / more dead than bias 0", "runs diverged"],
                 "rows": [[b, LRS[k], mean(b, k, "init"), mean(b, k, "after"), mean(b, k, "test_accuracy"),
                           f"{fewer[k]} / {more[k]} of {len(seeds)}" if b else "—",
                           table[f"bias {b:g}, lr {LRS[k]:g}"]["diverged_runs"]] for k in LRS for b in BIASES]},
                {"title": "the claim, part by part", "columns": ["part", "held"],
                 "rows": [[k, v] for k, v in parts.items()]}],
    )
