"""Notes 001, 004: residual connections let depth grow; plain stacks degrade.

Note 004: a residual block adds its input to the output of its main path (the shortcut "skips" the
layers and adds no parameters); the shortcut is a fast lane for information and gradients, so residual
networks can be stacked very deep, while plain ones get harder to train as they grow (note 001:
"ResNet solved vanishing gradients and the representation bottleneck, so networks can be very deep").
Measured: plain and residual MLPs of growing depth on the standardized 8×8 digits, the same
parameters at each depth, the same optimizer, learning rate and number of steps; the training loss
reached after that fixed budget. Both get He initialization; the residual blocks' second layer starts
at zero (the usual "zero-init residual"), so a residual net starts as its shallow version.
"""
import math
import os

import numpy as np

from .. import manual_seed, nn
from ..data.catalog import get_dataset
from ..nn import init
from ..optim import SGD
from ..runtime import num_threads
from .base import Result
from .common import train_curve

NAME = "residual-depth"
NOTE = "001, 004"
CLAIM = ("with the same budget, a plain network trains worse as it gets deeper (degradation), a residual one with the "
         "same layers and parameters does not: the shortcut carries information and gradients through any depth")

WIDTH, BATCH, LR, MOMENTUM = 64, 64, 0.01, 0.9
DEGRADED = 2.0  # plain degrades: the deepest net's loss is more than this × the best shallower one's


class ResidualBlock(nn.Module):
    """relu(h + W₂·relu(W₁·h + b₁) + b₂): two Linear layers on the main path, the identity as shortcut
    [note 004: the skip adds no parameters]."""

    def __init__(self, width):
        super().__init__()
        self.fc1, self.fc2, self.act = nn.Linear(width, width), nn.Linear(width, width), nn.ReLU()
        _he(self.fc1)
        init.zeros_(self.fc2.weight)  # zero-init residual: the block starts as the identity
        init.zeros_(self.fc2.bias)

    def forward(self, h):
        return self.act(h + self.fc2(self.act(self.fc1(h))))


def _he(linear):
    init.kaiming_normal_(linear.weight, nonlinearity="relu")
    init.zeros_(linear.bias)
    return linear


def build(kind, depth, width=WIDTH, in_features=64, classes=10):
    """``depth`` Linear layers: input layer, ``depth − 2`` hidden ones (plain: each followed by ReLU; residual: in
    blocks of two with a shortcut around each block), and the output layer. ``depth`` is even for 'residual'."""
    if kind == "residual" and depth % 2:
        raise ValueError(f"residual-depth: a residual net needs an even depth (blocks of 2 layers), got {depth}")
    layers = [_he(nn.Linear(in_features, width)), nn.ReLU()]
    if kind == "plain":
        for _ in range(depth - 2):
            layers += [_he(nn.Linear(width, width)), nn.ReLU()]
    elif kind == "residual":
        layers += [ResidualBlock(width) for _ in range((depth - 2) // 2)]
    else:
        raise ValueError(f"residual-depth: unknown kind {kind!r}")
    return nn.Sequential(*layers, nn.Linear(width, classes))


def _digits(seed):
    train, _ = get_dataset("digits").load(None, False, seed)
    x, y = train[np.arange(len(train))]
    return x.reshape(len(x), -1), y


def _train(kind, depth, steps, x, y, seed, every=10):
    manual_seed(seed)
    model = build(kind, depth)
    parameters = sum(p.data.size for p in model.parameters())
    optimizer = SGD(model.parameters(), lr=LR, momentum=MOMENTUM)
    curve = train_curve(model, optimizer, x, y, steps, BATCH, seed, every)
    values = [v for _, v in curve]
    final = float(np.mean(values[-max(1, len(values) // 4):])) if math.isfinite(values[-1]) else math.inf
    return {"curve": curve, "final": final, "parameters": int(parameters)}


def _plot(runs, depths, steps, path):
    from .plotting import figure, legend, log_ticks, save

    fig, (ax1, ax2) = figure(1, 2, figsize=(13, 4.4))
    for k, kind in enumerate(("plain", "residual")):
        ax1.plot(depths, [runs[kind][d]["final"] for d in depths], marker="o", label=kind, color=f"C{k}")
        for j, d in enumerate(depths):
            s, v = zip(*runs[kind][d]["curve"])
            ax2.plot(s, v, color=f"C{k}", linestyle="-" if kind == "residual" else "--",
                     alpha=0.35 + 0.65 * (j + 1) / len(depths), label=f"{kind}, depth {d}")
    ax1.set(yscale="log", xlabel="depth (Linear layers)", ylabel="training loss after the budget",
            title=f"loss after {steps} steps (mean of the last quarter)")
    ax1.set_xticks(depths)
    log_ticks(ax1)
    legend(ax1)
    ax1.grid(alpha=0.3)
    ax2.axhline(math.log(10), color="gray", linewidth=0.8, linestyle=":", label="chance (ln 10)")
    ax2.set(yscale="log", xlabel="step", ylabel="training-set loss", title="training curves (darker = deeper)")
    legend(ax2, "right")
    ax2.grid(alpha=0.3)
    save(fig, path)


def run(quick=False, seed=0, out="."):
    depths, steps = ((2, 8, 20), 200) if quick else ((2, 8, 20, 32), 500)
    x, y = _digits(seed)
    with num_threads(1):  # small matrices: one BLAS thread is several times faster
        runs = {"plain": {d: _train("plain", d, steps, x, y, seed) for d in depths}}
        # at depth 2 there is no hidden block: the residual net is the plain net, the same run
        runs["residual"] = {d: runs["plain"][d] if d == 2 else _train("residual", d, steps, x, y, seed)
                            for d in depths}
    final = {kind: {d: r["final"] for d, r in by_depth.items()} for kind, by_depth in runs.items()}
    deepest, shallower = depths[-1], depths[:-1]
    best_shallower = {kind: min(final[kind][d] for d in shallower) for kind in final}
    plain_degrades = final["plain"][deepest] > DEGRADED * best_shallower["plain"]
    residual_keeps = final["residual"][deepest] <= best_shallower["residual"]
    same_parameters = all(runs["plain"][d]["parameters"] == runs["residual"][d]["parameters"] for d in depths)
    held = plain_degrades and residual_keeps

    _plot(runs, depths, steps, os.path.join(out, "residual_depth.png"))

    def losses(kind):
        return ", ".join(f"depth {d} {final[kind][d]:.3g}" for d in depths)

    measured = (f"training loss after {steps} steps — plain: {losses('plain')}; residual: {losses('residual')} "
                f"(same parameter count at every depth: {same_parameters})")
    if held:
        verdict = (f"{measured}: the {deepest}-layer plain net ends {final['plain'][deepest] / best_shallower['plain']:.0f}× "
                   f"above its best shallower version, the {deepest}-layer residual net below every shallower one")
    else:
        failed = []
        if not plain_degrades:
            failed.append(f"the plain net did not degrade (depth {deepest} within {DEGRADED:g}× of its best shallower "
                          "version)")
        if not residual_keeps:
            failed.append(f"the residual net degraded too (depth {deepest} above its best shallower version)")
        verdict = "; ".join(failed) + ". Measured: " + measured

    rows = [[d, runs["plain"][d]["parameters"], final["plain"][d], final["residual"][d]] for d in depths]
    return Result(
        name=NAME, note=NOTE, claim=CLAIM,
        setup=(f"MLPs of {'/'.join(map(str, depths))} Linear layers of width {WIDTH} with ReLU on the standardized 8×8 "
               f"digits ({len(x)} training images); plain: every hidden layer Linear → ReLU; residual: the hidden "
               "layers in blocks relu(h + W₂·relu(W₁h + b₁) + b₂). He-normal init, biases 0, the blocks' W₂ zero; "
               f"SGD lr {LR} momentum {MOMENTUM}, batch {BATCH}, {steps} steps for every net, seed {seed}. Loss = "
               "cross-entropy over the whole training set, the mean over the last quarter of the run. The plain net "
               f"degrades when its deepest version ends above {DEGRADED:g}× the best shallower one; the residual net "
               "does not when its deepest version ends at or below every shallower one"),
        numbers={"final_loss": {kind: {str(d): v for d, v in f.items()} for kind, f in final.items()},
                 "parameters": {str(d): runs["plain"][d]["parameters"] for d in depths},
                 "same_parameters": same_parameters,
                 "parts": {"plain degrades": plain_degrades, "residual does not": residual_keeps},
                 "steps": steps, "depths": list(depths)},
        held=bool(held),
        in_part=not held and (plain_degrades or residual_keeps),
        verdict=verdict,
        figures=["residual_depth.png"],
        tables=[{"title": f"training loss after {steps} steps",
                 "columns": ["depth", "parameters (both)", "plain", "residual"], "rows": rows}],
    )
