"""Notes 000–004: exploding gradients and their remedies.

When every layer multiplies the signal by more than one — weights drawn too large — the forward
activations and the backward gradients grow exponentially with depth; a learning rate that would be
fine for a well-scaled net then takes a step so large that the next loss overflows and training ends
in NaN. The notes' remedies: gradient clipping (by a threshold on the norm), a smaller learning rate,
and a proper (He/Xavier) initialization. A 12-layer ReLU MLP on the 8×8 digits with weights 1.5×
He's scale diverges; each remedy alone, applied to that same run, lets it train.
"""
import math
import os

import numpy as np

from .. import manual_seed, nn
from ..data import ArrayDataset, DataLoader
from ..data.catalog import get_dataset
from ..nn import init
from ..nn.utils import clip_grad_norm_
from ..optim import SGD
from .base import Result
from .common import train_steps

NAME = "exploding-gradients"
NOTE = "000–004"
CLAIM = ("too large an initialization or learning rate makes gradients explode and the loss diverge to NaN; "
         "gradient clipping, a smaller learning rate and a proper initialization each prevent it")

DEPTH, WIDTH, BATCH = 12, 64, 64
GAIN, LR, SMALL_LR, CLIP = 1.5, 0.01, 0.001, 1.0
BASELINE = "too-large init (1.5× He)"
VARIANTS = {  # name: (init gain over He's std, learning rate, clip threshold on the global gradient norm)
    BASELINE: (GAIN, LR, None),
    f"+ clipping (‖g‖ ≤ {CLIP:g})": (GAIN, LR, CLIP),
    f"+ smaller lr ({SMALL_LR:g})": (GAIN, SMALL_LR, None),
    "+ proper init (He)": (1.0, LR, None),
}


def build(gain, in_features=64, classes=10, depth=DEPTH, width=WIDTH):
    """``depth`` Linear layers with ReLU between; weights N(0, (gain·√(2/fan_in))²), biases 0
    (gain 1 is He's init; the output layer uses √(1/fan_in), as it has no ReLU after it)."""
    layers, fan_in = [], in_features
    for i in range(depth):
        last = i == depth - 1
        linear = nn.Linear(fan_in, classes if last else width)
        init.normal_(linear.weight, 0.0, gain * math.sqrt((1.0 if last else 2.0) / fan_in))
        init.zeros_(linear.bias)
        layers += [linear] if last else [linear, nn.ReLU()]
        fan_in = width
    return nn.Sequential(*layers)


def _digits(seed):
    """The standardized 8×8 digits as a flat (N, 64) float32 training set."""
    train, _ = get_dataset("digits").load(None, False, seed)
    x, y = train[np.arange(len(train))]
    return ArrayDataset(x.reshape(len(x), -1), y)


def _grad_norm(model):
    """The global L2 norm of all gradients, in float64 (inf when they overflowed, nan when they are nan)."""
    with np.errstate(over="ignore", invalid="ignore"):
        return float(np.sqrt(sum(np.sum(np.square(p.grad.data, dtype=np.float64))
                                 for p in model.parameters() if p.grad is not None)))


def _train(gain, lr, clip, train, steps, seed):
    """Train until ``steps`` or the first non-finite loss; per step the loss and the gradient norm before clipping."""
    manual_seed(seed)
    model = build(gain)
    optimizer = SGD(model.parameters(), lr=lr, momentum=0.9)
    loader = DataLoader(train, batch_size=BATCH, shuffle=True, drop_last=True, seed=seed)
    norms = []

    def measure_and_clip():
        norms.append(_grad_norm(model))
        if clip is not None:
            clip_grad_norm_(model.parameters(), clip)

    losses, not_finite = train_steps(model, optimizer, loader, steps, after_backward=measure_and_clip)
    diverged = len(losses) if not_finite is not None else None
    weight_norm = float(np.sqrt(sum(np.sum(np.square(p.data, dtype=np.float64)) for p in model.parameters())))
    late = max(10, steps // 10)
    return {"losses": losses, "grad_norms": norms, "diverged_at": diverged, "first_loss": losses[0],
            "final_loss": None if diverged is not None else float(np.mean(losses[-late:])),
            "max_grad_norm": float(max(norms)) if norms else None, "weight_norm": weight_norm}


def _plot(runs, steps, path):
    from .plotting import figure, save

    fig, (ax1, ax2) = figure(1, 2, figsize=(12, 4.4))
    for name, run in runs.items():
        line, = ax1.plot(run["losses"], label=name, linewidth=1)
        ax2.plot(run["grad_norms"], label=name, linewidth=1, color=line.get_color())
        if run["diverged_at"] is not None:
            ax1.plot(len(run["losses"]) - 1, run["losses"][-1], "x", color=line.get_color(), markersize=10)
            ax1.annotate(f"loss not finite at step {run['diverged_at']}", (len(run["losses"]) - 1, run["losses"][-1]),
                         textcoords="offset points", xytext=(8, -4), fontsize=8, color=line.get_color())
    ax1.axhline(math.log(10), color="gray", linewidth=0.8, linestyle=":", label="chance (ln 10)")
    ax1.set(yscale="log", xlabel="step", ylabel="training loss", title="loss per step (× = last finite loss)",
            xlim=(-2, steps))
    ax2.axhline(CLIP, color="gray", linewidth=0.8, linestyle="--", label=f"clip threshold {CLIP:g}")
    ax2.set(yscale="log", xlabel="step", ylabel="‖g‖ before clipping", title="global gradient norm per step",
            xlim=(-2, steps))
    ax1.legend(fontsize="small")
    ax2.legend(fontsize="small")
    for ax in (ax1, ax2):
        ax.grid(alpha=0.3)
    save(fig, path)


def run(quick=False, seed=0, out="."):
    steps = 150 if quick else 600
    train = _digits(seed)
    runs = {name: _train(gain, lr, clip, train, steps, seed) for name, (gain, lr, clip) in VARIANTS.items()}
    base = runs[BASELINE]
    fixes = {name: run for name, run in runs.items() if name != BASELINE}
    # a remedy works when every loss stays finite and training gets below chance level
    works = {name: r["diverged_at"] is None and r["final_loss"] < math.log(10) for name, r in fixes.items()}
    held = base["diverged_at"] is not None and all(works.values())
    _plot(runs, steps, os.path.join(out, "exploding_gradients.png"))

    def outcome(r):
        if r["diverged_at"] is not None:
            return f"diverged at step {r['diverged_at']}"
        return f"final loss {r['final_loss']:.2f}"

    if base["diverged_at"] is not None:
        head = (f"the baseline's loss went from {base['first_loss']:.3g} to non-finite at step {base['diverged_at']} "
                f"(gradient norm {base['grad_norms'][0]:.3g} at step 0, {base['max_grad_norm']:.3g} at most; "
                f"weight norm {base['weight_norm']:.3g} at the end)")
    else:
        head = (f"the baseline did not diverge in {steps} steps (final loss {base['final_loss']:.3g}, gradient norm "
                f"up to {base['max_grad_norm']:.3g})")
    tail = "; ".join(f"{name}: {outcome(r)}" for name, r in fixes.items())
    verdict = f"{head}; with one remedy each — {tail} (chance level ln 10 = 2.30)"
    if not held and base["diverged_at"] is not None:
        verdict += f"; not enough: {', '.join(n for n, ok in works.items() if not ok)}"

    rows = [[name, gain, lr, "none" if clip is None else clip, runs[name]["first_loss"], runs[name]["max_grad_norm"],
             "—" if runs[name]["diverged_at"] is None else runs[name]["diverged_at"],
             "—" if runs[name]["final_loss"] is None else runs[name]["final_loss"]]
            for name, (gain, lr, clip) in VARIANTS.items()]
    return Result(
        name=NAME, note=NOTE, claim=CLAIM,
        setup=(f"a {DEPTH}-layer ReLU MLP (64 → {WIDTH} ×{DEPTH - 1} → 10) on the standardized 8×8 digits "
               f"({len(train)} training images), batch {BATCH}, SGD momentum 0.9, {steps} steps, seed {seed}. "
               f"Baseline: weights N(0, ({GAIN}·√(2/fan_in))²) — {GAIN}× He's scale, so each layer amplifies the "
               f"signal about {GAIN}× — and lr {LR}. Each remedy changes one thing: clipping the global gradient norm "
               f"to {CLIP:g}, lr {SMALL_LR:g}, or He's init (gain 1). Diverged = the loss became inf or NaN; final "
               "loss = mean over the last tenth of the steps"),
        numbers={
            "diverged_at_step": {n: r["diverged_at"] for n, r in runs.items()},
            "final_loss": {n: r["final_loss"] for n, r in runs.items()},
            "first_loss": {n: r["first_loss"] for n, r in runs.items()},
            "grad_norm_at_step_0": {n: r["grad_norms"][0] for n, r in runs.items()},
            "max_grad_norm": {n: r["max_grad_norm"] for n, r in runs.items()},
            "final_weight_norm": {n: r["weight_norm"] for n, r in runs.items()},
            "steps": steps,
        },
        held=bool(held),
        in_part=not held and (base["diverged_at"] is not None or any(works.values())),
        verdict=verdict,
        figures=["exploding_gradients.png"],
        tables=[{"title": "one remedy at a time",
                 "columns": ["run", "init gain", "lr", "clip", "first loss", "max ‖g‖", "diverged at step",
                             "final loss"],
                 "rows": rows}],
    )
