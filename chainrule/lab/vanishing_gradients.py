"""Notes 000, 002, 004: vanishing gradients in deep nets, and the cures.

Backpropagation multiplies one factor per layer — the activation's slope times the weights — so in a
deep chain a factor below one shrinks the gradient exponentially towards the input: the first layers
stop learning and the net behaves like its last few layers. The notes blame saturating activations
(sigmoid's slope is at most 1/4) and name the cures: ReLU-family activations, BatchNorm (pulls the
pre-activations back out of the saturated region) and residual connections (an identity path for the
gradient). Twenty-layer MLPs on the 8×8 digits measure it: each Linear layer's gradient norm, at
initialization and late in training, and the loss reached.
"""
import math
import os

import numpy as np

from .. import manual_seed, nn, no_grad, tensor, viz
from ..data import ArrayDataset, DataLoader
from ..data.catalog import get_dataset
from ..diagnostics import GradientFlow
from ..nn import init
from ..optim import SGD
from ..train import evaluate
from .base import Result
from .common import train_steps

NAME = "vanishing-gradients"
NOTE = "000, 002, 004"
CLAIM = "saturating activations make gradients vanish in deep nets; ReLU, BatchNorm and residual connections cure it"

DEPTH, WIDTH, BATCH, LR = 20, 64, 64, 0.01
VANISHED, HEALTHY = 1e-3, 1e-2  # first/last gradient-norm ratio: below VANISHED vanished, above HEALTHY reaches layer 1
SATURATING = ("sigmoid", "tanh")
CURES = ("ReLU + He", "sigmoid + BatchNorm", "ReLU + residual")
REFERENCE = "ReLU, default init"  # not part of the claim: shows that ReLU alone is not the cure


class _Residual(nn.Module):
    """h + W·relu(h) + b: one Linear per block, the skip adds no parameters [note 004]."""

    def __init__(self, width):
        super().__init__()
        self.act, self.fc = nn.ReLU(), nn.Linear(width, width)

    def forward(self, h):
        return h + self.fc(self.act(h))


def _xavier(linear):
    init.xavier_uniform_(linear.weight)
    init.zeros_(linear.bias)
    return linear


def _he(linear):
    init.kaiming_normal_(linear.weight, nonlinearity="relu")
    init.zeros_(linear.bias)
    return linear


def build(variant, in_features=64, classes=10, depth=DEPTH, width=WIDTH):
    """A ``depth``-Linear-layer MLP of the named variant (input side first)."""
    if variant == "ReLU + residual":
        blocks = [_Residual(width) for _ in range(depth - 2)]
        return nn.Sequential(nn.Linear(in_features, width), *blocks, nn.ReLU(), nn.Linear(width, classes))
    layers, fan_in = [], in_features
    for _ in range(depth - 1):
        linear = nn.Linear(fan_in, width)
        fan_in = width
        if variant in ("sigmoid", "tanh"):
            layers += [_xavier(linear), nn.Sigmoid() if variant == "sigmoid" else nn.Tanh()]
        elif variant == "ReLU + He":
            layers += [_he(linear), nn.ReLU()]
        elif variant == "sigmoid + BatchNorm":
            layers += [linear, nn.BatchNorm1d(width), nn.Sigmoid()]
        elif variant == REFERENCE:
            layers += [linear, nn.ReLU()]
        else:
            raise ValueError(f"vanishing-gradients: unknown variant {variant!r}")
    return nn.Sequential(*layers, nn.Linear(width, classes))


def _digits(seed):
    """The standardized 8×8 digits as flat (N, 64) float32 datasets (train, test)."""
    train, test = get_dataset("digits").load(None, False, seed)
    xs = [part[np.arange(len(part))] for part in (train, test)]
    return [ArrayDataset(x.reshape(len(x), -1), y) for x, y in xs]


def _linear_norms(monitor, step):
    """Gradient norm (weight and bias together) of every Linear layer at one recorded step, input side first."""
    layers = monitor.stats(step)["layers"]
    return [layers[name]["grad_norm"] for name, module in monitor.layers if isinstance(module, nn.Linear)]


def _slopes(model, x):
    """Mean slope σ'(z) of each sigmoid/tanh layer on a batch at initialization, and the fraction saturated."""
    slopes, saturated = [], []
    with no_grad():
        h = x
        for module in model:
            h = module(h)
            a = h.data.astype(np.float64)
            if isinstance(module, nn.Sigmoid):
                slopes.append(float(np.mean(a * (1 - a))))
                saturated.append(float(np.mean((a < 0.02) | (a > 0.98))))
            elif isinstance(module, nn.Tanh):
                slopes.append(float(np.mean(1 - a * a)))
                saturated.append(float(np.mean(np.abs(a) > 0.98)))
    return (float(np.mean(slopes)), float(np.mean(saturated))) if slopes else (None, None)


def _train(variant, train, test, steps, seed):
    manual_seed(seed)
    model = build(variant)
    # slopes before any training step; only for the plain sigmoid/tanh nets (a BN forward would move running stats)
    slope, saturated = _slopes(model, tensor(train[np.arange(512)][0])) if variant in SATURATING else (None, None)
    monitor = GradientFlow(model)
    optimizer = SGD(model.parameters(), lr=LR, momentum=0.9)
    loader = DataLoader(train, batch_size=BATCH, shuffle=True, drop_last=True, seed=seed)
    losses, _ = train_steps(model, optimizer, loader, steps, after_backward=monitor.record)
    monitor.remove()
    late = max(10, steps // 10)  # "during training": the mean over the last tenth of the steps
    at_init = np.array(_linear_norms(monitor, 0))
    training = np.mean([_linear_norms(monitor, s) for s in range(steps - late, steps)], axis=0)
    accuracy = evaluate(model, DataLoader(test, batch_size=512))["accuracy"]
    return {"norms_init": at_init, "norms_training": training, "ratio_init": float(at_init[0] / at_init[-1]),
            "ratio_training": float(training[0] / training[-1]), "losses": losses,
            "final_loss": float(np.mean(losses[-late:])), "accuracy": float(accuracy),
            "diagnosis_vanishing": bool(monitor.report()["vanishing"]), "slope": slope, "saturated": saturated}


def _plot_norms(runs, path):
    from .plotting import figure, layer_ticks, legend, save

    fig, axes = figure(1, 2, figsize=(13, 4.4), sharey=True)
    for ax, key, title in ((axes[0], "norms_init", "at initialization"),
                           (axes[1], "norms_training", "late in training\n(mean over the last 10% of steps)")):
        for variant, run in runs.items():
            ax.plot(range(1, len(run[key]) + 1), run[key], marker="o", markersize=3, label=variant,
                    linestyle="--" if variant == REFERENCE else "-")
        ax.set(yscale="log", xlabel=f"Linear layer (1 = input side, {DEPTH} = output)",
               title=f"gradient norm per layer {title}")
        layer_ticks(ax, [str(i) for i in range(1, DEPTH + 1)])
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("‖∂L/∂(W, b)‖")
    legend(axes[1], "right")
    save(fig, path)


def _plot_losses(runs, path):
    from .plotting import figure, legend, save

    fig, ax = figure(figsize=(8.5, 4.4))
    for variant, run in runs.items():
        # the reference sits at chance right on top of sigmoid's curve: draw it dashed, thicker and above it
        reference = variant == REFERENCE
        ax.plot(run["losses"], label=variant, linewidth=1.6 if reference else 1, linestyle="--" if reference else "-",
                zorder=3 if reference else 2)
    ax.axhline(math.log(10), color="gray", linewidth=0.8, linestyle=":", label="chance (ln 10)")
    ax.set(xlabel="step", ylabel="training loss (cross-entropy)", title=f"{DEPTH}-layer MLPs on the 8×8 digits")
    legend(ax, "right")
    ax.grid(alpha=0.3)
    save(fig, path)


def _explorer(variant, train, seed, out):
    """The graph explorer of one training batch's loss at initialization (file name returned): the
    colour of each node is its gradient norm, so the vanishing is seen layer by layer, beside
    GradientFlow's verdict."""
    manual_seed(seed)
    x, y = train[np.arange(BATCH)]
    view = viz.model_graph(build(variant), tensor(x), tensor(y), detail="full",
                           title=f"vanishing-gradients: {DEPTH} layers, {variant}, at init")
    name = f"graph_{variant.replace(' + ', '_').replace(' ', '_').lower()}.html"
    view.save(os.path.join(out, name))
    return name


def run(quick=False, seed=0, out="."):
    steps = 120 if quick else 600
    train, test = _digits(seed)
    runs = {v: _train(v, train, test, steps, seed) for v in (*SATURATING, *CURES, REFERENCE)}
    learned = 0.5 * math.log(10)  # "trains": the loss reached is at most half the chance-level loss
    vanished = {v: runs[v]["ratio_init"] < VANISHED and runs[v]["ratio_training"] < VANISHED for v in SATURATING}
    cured = {v: min(runs[v]["ratio_init"], runs[v]["ratio_training"]) > HEALTHY and runs[v]["final_loss"] < learned
             for v in CURES}
    held = all(vanished.values()) and all(cured.values())

    _plot_norms(runs, os.path.join(out, "vanishing_gradients_norms.png"))
    _plot_losses(runs, os.path.join(out, "vanishing_gradients_loss.png"))
    pages = [[f"step through backward: {variant} (graph explorer, gradient norms coloured)",
              _explorer(variant, train, seed, out)] for variant in ("sigmoid", "ReLU + residual")]

    def figures(v):
        r = runs[v]
        return f"{v} {r['ratio_init']:.1e} at init / {r['ratio_training']:.1e} in training, loss {r['final_loss']:.2f}"

    lost = [v for v in SATURATING if vanished[v]]
    kept = [v for v in SATURATING if not vanished[v]]
    failed = [v for v in CURES if not cured[v]]
    verdict = "first-to-last-layer gradient-norm ratio and loss reached: "
    if lost:
        verdict += f"{'; '.join(map(figures, lost))} — vanished: the first layers get almost no gradient"
    if kept:
        verdict += f"{'; but ' if lost else ''}{'; '.join(map(figures, kept))} — no vanishing"
    verdict += f". The cures: {'; '.join(map(figures, CURES))} — "
    verdict += (f"{', '.join(failed)} did not cure it" if failed
                else f"all keep every layer within {1 / HEALTHY:.0f}× and train")
    reference = runs[REFERENCE]
    if reference["ratio_init"] < VANISHED:
        verdict += f". Reference: {figures(REFERENCE)} — ReLU alone is not the cure, He's init is part of it"
    sig, tanh = runs["sigmoid"], runs["tanh"]
    if "sigmoid" in lost and "tanh" in kept:
        verdict += (f". At init the mean slope σ'(z) was {sig['slope']:.2f} for sigmoid and {tanh['slope']:.2f} for "
                    f"tanh, with {sig['saturated']:.0%} and {tanh['saturated']:.0%} of the outputs saturated: "
                    "sigmoid's slope is at most 1/4, so its gradient shrinks at every layer without any saturation "
                    f"({sig['slope']:.2f}^{DEPTH - 1} = {sig['slope'] ** (DEPTH - 1):.0e}), while tanh with Xavier "
                    "init stays in its near-linear region")

    rows = [[v, runs[v]["ratio_init"], runs[v]["ratio_training"], runs[v]["final_loss"], runs[v]["accuracy"]]
            for v in runs]
    return Result(
        name=NAME, note=NOTE, claim=CLAIM,
        setup=(f"{DEPTH} Linear layers (64 → {WIDTH} ×{DEPTH - 1} → 10) on the standardized 8×8 digits "
               f"({len(train)} training / {len(test)} test images), batch {BATCH}, SGD lr {LR} momentum 0.9, "
               f"{steps} steps, seed {seed}. sigmoid and tanh get Xavier-uniform init (the notes' choice for them), "
               "ReLU + He gets He-normal, sigmoid + BatchNorm (Linear → BN → sigmoid) and ReLU + residual "
               "(h + Linear(ReLU(h)), 18 blocks) the default init; the reference ReLU net has the default init "
               "U(±1/√fan_in). Gradient norm = ‖∂L/∂(W, b)‖ of each Linear layer, recorded by "
               "diagnostics.GradientFlow; 'during training' = the mean over the last tenth of the steps; "
               f"vanished: ratio < {VANISHED:g}; cured: ratio > {HEALTHY:g} and loss < ½ ln 10"),
        numbers={
            "first_to_last_ratio_at_init": {v: r["ratio_init"] for v, r in runs.items()},
            "first_to_last_ratio_in_training": {v: r["ratio_training"] for v, r in runs.items()},
            "final_loss": {v: r["final_loss"] for v, r in runs.items()},
            "test_accuracy": {v: r["accuracy"] for v, r in runs.items()},
            "gradient_flow_says_vanishing": {v: r["diagnosis_vanishing"] for v, r in runs.items()},
            "mean_activation_slope_at_init": {v: r["slope"] for v, r in runs.items() if r["slope"] is not None},
            "saturated_fraction_at_init": {v: r["saturated"] for v, r in runs.items() if r["saturated"] is not None},
            "grad_norms_at_init": {v: [float(f"{n:.4g}") for n in r["norms_init"]] for v, r in runs.items()},
            "grad_norms_in_training": {v: [float(f"{n:.4g}") for n in r["norms_training"]] for v, r in runs.items()},
            "steps": steps,
        },
        held=bool(held),
        in_part=not held and bool(lost or len(failed) < len(CURES)),
        verdict=verdict,
        figures=["vanishing_gradients_norms.png", "vanishing_gradients_loss.png"],
        pages=pages,
        tables=[{"title": "first-to-last-layer gradient-norm ratio and training outcome",
                 "columns": ["variant", "ratio at init", "ratio in training", "final loss", "test accuracy"],
                 "rows": rows}],
    )
