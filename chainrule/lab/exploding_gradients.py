"""Notes 000–004: exploding gradients and their remedies.

When every layer multiplies the signal by more than one — weights drawn too large — the forward
activations and the backward gradients grow exponentially with depth; a learning rate that would be
fine for a well-scaled net then takes a step so large that the next loss overflows and training ends
in NaN. The notes' remedies: gradient clipping (by a threshold on the norm), a smaller learning rate,
a proper (He/Xavier) initialization and weight regularization (an L2 penalty, i.e. weight decay, that
keeps the weights small). A 12-layer ReLU MLP on the 8×8 digits with weights 1.5× He's scale
diverges; each remedy alone is applied to that same run. Besides the loss and the global gradient
norm, every step records the weights' norm and the first layer's gradient norm, which show how fast
each remedy acts: clipping bounds the step at once, weight decay only shrinks the weights by the
factor (1 − ηλ) per step. A sweep over λ tells whether any strength of weight decay prevents the
divergence.
"""
import math
import os

import numpy as np

from .. import manual_seed, nn
from ..data import ArrayDataset, DataLoader
from ..data.catalog import get_dataset
from ..nn import init
from ..nn.utils import clip_grad_norm_, param_groups
from ..optim import SGD
from .base import Result
from .common import train_steps

NAME = "exploding-gradients"
NOTE = "000–004"
CLAIM = ("too large an initialization or learning rate makes gradients explode and the loss diverge to NaN; "
         "gradient clipping, a smaller learning rate, a proper initialization and weight regularization (L2 "
         "weight decay) each prevent it")

DEPTH, WIDTH, BATCH = 12, 64, 64
GAIN, LR, SMALL_LR, CLIP = 1.5, 0.01, 0.001, 1.0
DECAYS = (5e-4, 0.1)  # a usual weight decay, and one 200× stronger: the weights shrink by 1 − ηλ = 0.999 a step
DECAY_SWEEP = (5e-4, 1e-3, 1e-2, 1e-1, 1.0, 10.0)
BASELINE = "too-large init (1.5× He)"
VARIANTS = {  # name: (init gain over He's std, learning rate, clip threshold on the global gradient norm, L2 λ)
    BASELINE: (GAIN, LR, None, 0.0),
    f"+ clipping (‖g‖ ≤ {CLIP:g})": (GAIN, LR, CLIP, 0.0),
    f"+ smaller lr ({SMALL_LR:g})": (GAIN, SMALL_LR, None, 0.0),
    "+ proper init (He)": (1.0, LR, None, 0.0),
    **{f"+ weight decay (λ = {wd:g})": (GAIN, LR, None, wd) for wd in DECAYS},
}
DECAY_RUNS = {wd: f"+ weight decay (λ = {wd:g})" for wd in DECAYS}


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


def _weight_norm(model):
    """The global L2 norm of all parameters, in float64."""
    with np.errstate(over="ignore", invalid="ignore"):
        return float(np.sqrt(sum(np.sum(np.square(p.data, dtype=np.float64)) for p in model.parameters())))


def _train(gain, lr, clip, weight_decay, train, steps, seed):
    """Train until ``steps`` or the first non-finite loss; per step the loss, the gradient norm before clipping,
    the first layer's weight-gradient norm and the norm of all parameters the step started from. ``weight_decay``
    λ is SGD's (g ← g + λw, the gradient of the L2 penalty (λ/2)·Σw²), on the weights only [note 003: L2 leaves b
    alone]."""
    manual_seed(seed)
    model = build(gain)
    optimizer = SGD(param_groups(model, weight_decay), lr=lr, momentum=0.9)
    loader = DataLoader(train, batch_size=BATCH, shuffle=True, drop_last=True, seed=seed)
    norms, first_layer, weight_norms = [], [], []
    first = model[0].weight

    def measure_and_clip():
        norms.append(_grad_norm(model))
        with np.errstate(over="ignore", invalid="ignore"):
            first_layer.append(float(np.sqrt(np.sum(np.square(first.grad.data, dtype=np.float64)))))
        weight_norms.append(_weight_norm(model))
        if clip is not None:
            clip_grad_norm_(model.parameters(), clip)

    losses, not_finite = train_steps(model, optimizer, loader, steps, after_backward=measure_and_clip)
    diverged = len(losses) if not_finite is not None else None
    weight_norm = _weight_norm(model)
    late = max(10, steps // 10)
    return {"losses": losses, "grad_norms": norms, "first_layer_grad_norms": first_layer,
            "weight_norms": weight_norms + [weight_norm], "diverged_at": diverged, "first_loss": losses[0],
            "final_loss": None if diverged is not None else float(np.mean(losses[-late:])),
            "max_grad_norm": float(max(norms)) if norms else None, "weight_norm": weight_norm,
            "max_weight_norm": float(max(weight_norms + [weight_norm])),
            "max_first_layer_grad_norm": float(max(first_layer)) if first_layer else None}


def _trace(ax, values, colour, diverged, row):
    """``values`` per step on a log axis, up to the last finite positive one (× there when the run diverged); an
    exact 0 — a step whose gradient did not reach the layer — is a gap in the line and a ▾ on the axis's floor,
    at height ``row`` so that the runs' marks do not cover one another. Returns whether any value was 0."""
    v = np.asarray(values, dtype=np.float64)
    shown = np.isfinite(v) & (v > 0)
    if not shown.any():
        return False
    last = int(np.flatnonzero(shown)[-1])
    steps = np.arange(last + 1)
    ax.plot(steps, np.where(shown, v, np.nan)[:last + 1], linewidth=1, color=colour)
    if diverged:
        ax.plot(last, v[last], "x", color=colour, markersize=9)
    zeros = np.flatnonzero(v[:last + 1] == 0)
    ax.plot(zeros, np.full(len(zeros), 0.025 + 0.03 * row), "v", color=colour, markersize=4, linestyle="none",
            transform=ax.get_xaxis_transform())
    return len(zeros) > 0


def _plot(runs, steps, path):
    from matplotlib.lines import Line2D
    from matplotlib.ticker import NullLocator

    from .plotting import figure, save

    fig, ((ax1, ax2), (ax3, ax4)) = figure(2, 2, figsize=(12, 8.4))
    lines, rows = [], [0, 0, 0]
    for name, run in runs.items():
        label = name if run["diverged_at"] is None else f"{name}: not finite at step {run['diverged_at']}"
        line, = ax1.plot(run["losses"], label=label, linewidth=1)
        colour = line.get_color()
        lines.append(line)
        diverged = run["diverged_at"] is not None
        if diverged:
            ax1.plot(len(run["losses"]) - 1, run["losses"][-1], "x", color=colour, markersize=9)
        for k, (ax, key) in enumerate(((ax2, "grad_norms"), (ax3, "weight_norms"), (ax4, "first_layer_grad_norms"))):
            rows[k] += _trace(ax, run[key], colour, diverged, rows[k])
    marks = [Line2D([], [], color="0.3", marker="x", markersize=8, linestyle="none",
                    label="the last finite value: the loss of the next step was inf or NaN")]
    if any(rows):
        marks.append(Line2D([], [], color="0.3", marker="v", markersize=5, linestyle="none",
                            label="a step whose norm was exactly 0 (a gap in the log-scale line)"))
    chance = ax1.axhline(math.log(10), color="gray", linewidth=0.8, linestyle=":", label="chance (ln 10)")
    threshold = ax2.axhline(CLIP, color="gray", linewidth=0.8, linestyle="--", label=f"clip threshold {CLIP:g}")
    ax1.set(ylabel="training loss", title="loss per step")
    ax2.set(ylabel="‖g‖ before clipping", title="global gradient norm per step")
    ax3.set(ylabel="‖w‖ (all parameters)", title="weight norm at the start of each step")
    ax4.set(ylabel="‖∂L/∂W₁‖ before clipping", title="first layer's gradient norm per step")
    for ax in (ax1, ax2, ax3, ax4):  # the runs diverge within tens of steps: a symlog step axis shows them
        ax.set(yscale="log", xlabel="step (linear to 10, logarithmic beyond)", xlim=(0, steps))
        ax.set_xscale("symlog", linthresh=10, linscale=0.5)
        ticks = [t for t in (0, 5, 10, 20, 50, 100, 200, 500, 1000) if t <= steps]
        ax.set_xticks(ticks, [str(t) for t in ticks])
        ax.xaxis.set_minor_locator(NullLocator())
        ax.grid(alpha=0.3)
    for ax, marked in zip((ax2, ax3, ax4), rows):
        if marked:  # lower the floor: a band under the curves for the rows of ▾
            low, high = ax.get_ylim()
            ax.set_ylim(high / (high / low) ** (1 / (1 - 0.03 * marked - 0.02)), high)
    ax1.legend(handles=[chance], fontsize="small", loc="upper right")
    ax2.legend(handles=[threshold], fontsize="small", loc="upper right")
    fig.legend(handles=lines + marks, loc="outside lower center", ncol=2, fontsize="small")
    save(fig, path)


def run(quick=False, seed=0, out="."):
    steps = 150 if quick else 600
    train = _digits(seed)
    runs = {name: _train(gain, lr, clip, wd, train, steps, seed) for name, (gain, lr, clip, wd) in VARIANTS.items()}
    sweep = {wd: runs[DECAY_RUNS[wd]] if wd in DECAY_RUNS else _train(GAIN, LR, None, wd, train, steps, seed)
             for wd in DECAY_SWEEP}
    base = runs[BASELINE]
    fixes = {name: run for name, run in runs.items() if name != BASELINE}
    # a remedy works when every loss stays finite and training gets below chance level
    works = {name: r["diverged_at"] is None and r["final_loss"] < math.log(10) for name, r in fixes.items()}
    held = base["diverged_at"] is not None and all(works.values())
    sweep_works = [wd for wd, r in sweep.items() if r["diverged_at"] is None and r["final_loss"] < math.log(10)]
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
    clipped = runs[f"+ clipping (‖g‖ ≤ {CLIP:g})"]
    verdict += (". Largest weight norm / first-layer ‖∂L/∂W₁‖: baseline "
                + f"{base['max_weight_norm']:.3g} / {base['max_first_layer_grad_norm']:.3g}, "
                + ", ".join(f"weight decay λ = {wd:g} {runs[name]['max_weight_norm']:.3g} / "
                            f"{runs[name]['max_first_layer_grad_norm']:.3g}" for wd, name in DECAY_RUNS.items())
                + f", clipping {clipped['max_weight_norm']:.3g} / {clipped['max_first_layer_grad_norm']:.3g} (the step "
                + "bounded from the first one); weight decay alone with λ = "
                + ", ".join(f"{wd:g}: {outcome(r)}" for wd, r in sweep.items())
                + (f" — only λ = {', '.join(f'{wd:g}' for wd in sweep_works)} trained below chance" if sweep_works
                   else " — no strength both kept the loss finite and trained below chance"))
    if not held and base["diverged_at"] is not None:
        verdict += f"; not enough: {', '.join(n for n, ok in works.items() if not ok)}"

    rows = [[name, gain, lr, "none" if clip is None else clip, wd, runs[name]["first_loss"],
             runs[name]["max_grad_norm"], runs[name]["max_first_layer_grad_norm"], runs[name]["max_weight_norm"],
             "—" if runs[name]["diverged_at"] is None else runs[name]["diverged_at"],
             "—" if runs[name]["final_loss"] is None else runs[name]["final_loss"]]
            for name, (gain, lr, clip, wd) in VARIANTS.items()]
    sweep_rows = [[wd, LR * wd, r["max_weight_norm"], r["max_first_layer_grad_norm"],
                   "—" if r["diverged_at"] is None else r["diverged_at"],
                   "—" if r["final_loss"] is None else r["final_loss"]] for wd, r in sweep.items()]
    return Result(
        name=NAME, note=NOTE, claim=CLAIM,
        setup=(f"a {DEPTH}-layer ReLU MLP (64 → {WIDTH} ×{DEPTH - 1} → 10) on the standardized 8×8 digits "
               f"({len(train)} training images), batch {BATCH}, SGD momentum 0.9, {steps} steps, seed {seed}. "
               f"Baseline: weights N(0, ({GAIN}·√(2/fan_in))²) — {GAIN}× He's scale, so each layer amplifies the "
               f"signal about {GAIN}× — and lr {LR}. Each remedy changes one thing: clipping the global gradient norm "
               f"to {CLIP:g}, lr {SMALL_LR:g}, He's init (gain 1), or L2 weight decay λ (SGD's weight_decay, the "
               f"gradient of (λ/2)·Σw², on the weights and not the biases — chainrule.nn.utils.param_groups) at "
               f"λ = {' and '.join(f'{wd:g}' for wd in DECAYS)}, swept over {', '.join(f'{wd:g}' for wd in DECAY_SWEEP)}. "
               "Diverged = the loss became inf or NaN; final loss = mean over the last tenth of the steps; weight norm "
               "= L2 norm of all parameters; ‖∂L/∂W₁‖ = the first layer's weight gradient before clipping"),
        numbers={
            "diverged_at_step": {n: r["diverged_at"] for n, r in runs.items()},
            "final_loss": {n: r["final_loss"] for n, r in runs.items()},
            "first_loss": {n: r["first_loss"] for n, r in runs.items()},
            "grad_norm_at_step_0": {n: r["grad_norms"][0] for n, r in runs.items()},
            "max_grad_norm": {n: r["max_grad_norm"] for n, r in runs.items()},
            "final_weight_norm": {n: r["weight_norm"] for n, r in runs.items()},
            "max_weight_norm": {n: r["max_weight_norm"] for n, r in runs.items()},
            "max_first_layer_grad_norm": {n: r["max_first_layer_grad_norm"] for n, r in runs.items()},
            "weight_decay_sweep": [{"weight_decay": wd, "diverged_at_step": r["diverged_at"],
                                    "final_loss": r["final_loss"], "max_weight_norm": r["max_weight_norm"],
                                    "max_first_layer_grad_norm": r["max_first_layer_grad_norm"]}
                                   for wd, r in sweep.items()],
            "remedy_works": works,
            "steps": steps,
        },
        held=bool(held),
        in_part=not held and (base["diverged_at"] is not None or any(works.values())),
        verdict=verdict,
        figures=["exploding_gradients.png"],
        tables=[{"title": "one remedy at a time",
                 "columns": ["run", "init gain", "lr", "clip", "weight decay λ", "first loss", "max ‖g‖",
                             "max ‖∂L/∂W₁‖", "max ‖w‖", "diverged at step", "final loss"],
                 "rows": rows},
                {"title": f"weight decay alone, λ swept (init {GAIN}× He, lr {LR})",
                 "columns": ["λ", "ηλ (w shrinks by 1 − ηλ a step)", "max ‖w‖", "max ‖∂L/∂W₁‖", "diverged at step",
                             "final loss"],
                 "rows": sweep_rows}],
    )
