"""Notes 001, 003: normalization layers in a CNN.

BatchNorm standardizes each channel with the mean and variance of the current batch (over N, H, W),
then applies a learned γ, β; at inference it uses running averages of those statistics. The notes
say it speeds training up and tolerates a larger learning rate, that it suits discriminative CNNs,
and that it is sensitive to small batches (noisy statistics) — where LayerNorm (per sample over C, H,
W), InstanceNorm (per sample and channel over H, W; meant for style transfer and generation) or
GroupNorm (per sample over groups of channels) normalize each sample alone. A small CNN on the 8×8
digits measures all three statements.
"""
import math
import os

import numpy as np

from .. import manual_seed, nn, no_grad
from ..data import DataLoader
from ..data.catalog import get_dataset
from ..optim import SGD
from ..train import evaluate
from .base import Result
from .common import train_steps

NAME = "normalization"
NOTE = "001, 003"
CLAIM = ("(1) BatchNorm makes a CNN classifier train fastest of the normalizations (the notes: BN for discriminative "
         "CNNs, LayerNorm weaker on CNNs, InstanceNorm for generation); (2) BatchNorm tolerates a larger learning "
         "rate; (3) BatchNorm is sensitive to small batches, whose statistics do not represent the data")

WIDTH, BATCH, LR, MOMENTUM = 16, 32, 0.05, 0.9
NORMS = ("none", "BatchNorm", "LayerNorm", "InstanceNorm", "GroupNorm")
BATCH_SIZES = (2, 8, 64)
BATCH_LR = 0.05 / 64  # learning rate per sample in the batch-size comparison (linear scaling: lr = BATCH_LR · batch)
LRS = (0.05, 0.3, 1.0)  # the learning-rate sweep, plain vs BatchNorm; 0.05 is the comparison's own lr
QUICK_LRS = (0.05, 1.0)


def _norm(kind, channels, size):
    if kind == "none":
        return nn.Identity()
    if kind == "BatchNorm":
        return nn.BatchNorm2d(channels)
    if kind == "LayerNorm":
        return nn.LayerNorm([channels, size, size])
    if kind == "InstanceNorm":
        return nn.InstanceNorm2d(channels, affine=True)
    if kind == "GroupNorm":
        return nn.GroupNorm(4, channels)
    raise ValueError(f"normalization: unknown norm {kind!r}")


def build(kind, width=WIDTH, classes=10):
    """conv3×3–norm–ReLU ×2, 2×2 max pooling, conv3×3–norm–ReLU, global average pooling, Linear — the shape
    of models.small_cnn at half its width; the conv has a bias only without a norm (β plays its part)."""
    def block(cin, cout, size):
        return [nn.Conv2d(cin, cout, 3, padding=1, bias=kind == "none"), _norm(kind, cout, size), nn.ReLU()]
    return nn.Sequential(*block(1, width, 8), *block(width, width, 8), nn.MaxPool2d(2), *block(width, 2 * width, 4),
                         nn.AdaptiveAvgPool2d((1, 1)), nn.Flatten(), nn.Linear(2 * width, classes))


def _batch_statistics_accuracy(model, test, batch_size):
    """Test accuracy with each test batch (of ``batch_size``) normalized by its own statistics, as in training,
    instead of the running statistics; the running statistics are left untouched."""
    norms = [m for m in model.modules() if isinstance(m, nn.BatchNorm2d)]
    saved = [(m.momentum, m.num_batches_tracked.data.copy()) for m in norms]
    for m in norms:
        m.momentum = 0.0  # running ← 1·running + 0·batch
    model.train()
    correct = 0
    with no_grad():
        for x, y in DataLoader(test, batch_size=batch_size):
            correct += int(np.sum(np.argmax(model(x).data, axis=1) == y.data))
    for m, (momentum, tracked) in zip(norms, saved):
        m.momentum, m.num_batches_tracked.data = momentum, tracked
    model.eval()
    return correct / len(test)


def _train(kind, train, test, batch_size, lr, epochs, seed):
    manual_seed(seed)
    model = build(kind)
    optimizer = SGD(model.parameters(), lr=lr, momentum=MOMENTUM)
    loader = DataLoader(train, batch_size=batch_size, shuffle=True, drop_last=True, seed=seed)
    # a plain net at a large lr may overflow: that is measured
    losses, not_finite = train_steps(model, optimizer, loader, epochs=epochs)
    diverged = len(losses) if not_finite is not None else None
    late = max(10, len(losses) // 10)
    accuracy = None if diverged is not None else float(evaluate(model, DataLoader(test, 512))["accuracy"])
    run = {"losses": losses, "diverged_at": diverged, "final_loss": float(np.mean(losses[-late:])) if losses else None,
           "accuracy": accuracy}
    if kind == "BatchNorm" and diverged is None:
        run["batch_statistics_accuracy"] = _batch_statistics_accuracy(model, test, batch_size)
    return run


def _smooth(values, k=10):
    values = np.asarray(values, dtype=np.float64)
    if len(values) < k:
        return values
    return np.convolve(values, np.ones(k) / k, mode="valid")


def _plot_norms(runs, path):
    from .plotting import figure, save

    fig, (ax1, ax2) = figure(1, 2, figsize=(12, 4.2), gridspec_kw={"width_ratios": [3, 2]})
    for kind, run in runs.items():
        ax1.plot(_smooth(run["losses"]), label=kind, linewidth=1.2)
    ax1.axhline(math.log(10), color="gray", linewidth=0.8, linestyle=":", label="chance (ln 10)")
    ax1.set(xlabel="step", ylabel="training loss (moving average of 10)", title=f"small CNN, batch {BATCH}, lr {LR}")
    ax1.legend(fontsize="small")
    ax1.grid(alpha=0.3)
    accs = [runs[k]["accuracy"] or 0 for k in NORMS]
    bars = ax2.bar(range(len(NORMS)), accs, color=[f"C{i}" for i in range(len(NORMS))])
    for bar, a in zip(bars, accs):
        ax2.text(bar.get_x() + bar.get_width() / 2, a + 0.01, f"{a:.2f}", ha="center", va="bottom", fontsize=9)
    ax2.set_xticks(range(len(NORMS)), NORMS, rotation=20, ha="right", rotation_mode="anchor")
    ax2.set(ylim=(0, 1.08), ylabel="test accuracy", title="after the same budget")
    save(fig, path)


def _plot_batchnorm(by_batch, by_lr, lrs, path):
    from .plotting import figure, log_ticks, save

    fig, (ax1, ax2) = figure(1, 2, figsize=(12, 4.2))
    xs = np.arange(len(BATCH_SIZES))
    ax1.plot(xs, [by_batch["BatchNorm"][b]["accuracy"] for b in BATCH_SIZES], "o-", label="BatchNorm, eval mode "
             "(running statistics)")
    ax1.plot(xs, [by_batch["BatchNorm"][b]["batch_statistics_accuracy"] for b in BATCH_SIZES], "o--",
             label="BatchNorm, test batches' own statistics")
    ax1.plot(xs, [by_batch["GroupNorm"][b]["accuracy"] for b in BATCH_SIZES], "s-", label="GroupNorm (no batch "
             "statistics)")
    ax1.set_xticks(xs, [str(b) for b in BATCH_SIZES])
    ax1.set(xlabel="training batch size (lr ∝ batch size, same epochs)", ylabel="test accuracy", ylim=(0, 1.05),
            title="batch-size sensitivity")
    ax1.legend(fontsize="small")
    ax1.grid(alpha=0.3)
    for kind, marker in (("none", "s"), ("BatchNorm", "o")):
        accs = [by_lr[kind][lr]["accuracy"] for lr in lrs]
        ax2.plot(lrs, [0 if a is None else a for a in accs], marker + "-", label=kind)
        for lr, a in zip(lrs, accs):
            if a is None:
                ax2.annotate("diverged", (lr, 0), textcoords="offset points", xytext=(-20, 6), fontsize=8)
    ax2.set(xscale="log", xlabel="learning rate (SGD, momentum 0.9)", ylabel="test accuracy", ylim=(0, 1.05),
            title=f"learning rate, batch {BATCH}")
    log_ticks(ax2, "x", values=lrs)
    ax2.legend(fontsize="small")
    ax2.grid(alpha=0.3)
    save(fig, path)


def run(quick=False, seed=0, out="."):
    epochs, lrs = (2, QUICK_LRS) if quick else (6, LRS)
    train, test = get_dataset("digits").load(None, False, seed)
    by_norm = {kind: _train(kind, train, test, BATCH, LR, epochs, seed) for kind in NORMS}
    by_batch = {kind: {b: _train(kind, train, test, b, BATCH_LR * b, epochs, seed) for b in BATCH_SIZES}
                for kind in ("BatchNorm", "GroupNorm")}
    by_lr = {kind: {lr: by_norm[kind] if lr == LR else _train(kind, train, test, BATCH, lr, epochs, seed) for lr in lrs}
             for kind in ("none", "BatchNorm")}

    acc = {k: r["accuracy"] for k, r in by_norm.items()}
    loss = {k: r["final_loss"] for k, r in by_norm.items()}
    # 1. faster: after the same budget BN has the lowest training loss of the five and beats no norm by 2+ points
    faster = loss["BatchNorm"] == min(loss.values()) and acc["BatchNorm"] >= acc["none"] + 0.02
    # 2. larger lr: at the largest lr BN still trains (within 5 points of its accuracy at the base lr) while the plain
    #    net fails or lags by 10+ points
    top = lrs[-1]
    plain_top, bn_top = by_lr["none"][top]["accuracy"], by_lr["BatchNorm"][top]["accuracy"]
    larger_lr = bn_top is not None and bn_top >= acc["BatchNorm"] - 0.05 and (plain_top is None or
                                                                              plain_top <= bn_top - 0.10)
    # 3. small batches: BN trained with the smallest batch tests 3+ points below BN trained with the largest, and
    #    loses more than GroupNorm (the same net without batch statistics) does
    small, large = BATCH_SIZES[0], BATCH_SIZES[-1]
    bn_b, gn_b = by_batch["BatchNorm"], by_batch["GroupNorm"]
    bn_drop = bn_b[large]["accuracy"] - bn_b[small]["accuracy"]
    gn_drop = gn_b[large]["accuracy"] - gn_b[small]["accuracy"]
    sensitive = bn_drop >= 0.03 and bn_drop > gn_drop
    parts = {"BN trains fastest": faster, "BN tolerates a larger lr": larger_lr,
             "BN is sensitive to small batches": sensitive}
    held = all(parts.values())

    _plot_norms(by_norm, os.path.join(out, "normalization_layers.png"))
    _plot_batchnorm(by_batch, by_lr, lrs, os.path.join(out, "normalization_batchnorm.png"))

    def a_(v):
        return "diverged" if v is None else f"{v:.2f}"

    def per_batch(run, key, fmt=a_):
        return "/".join(fmt(run[b][key]) for b in BATCH_SIZES)

    sizes = "/".join(map(str, BATCH_SIZES))
    verdict = (
        f"(1) {'held' if faster else 'did not hold'}: after {epochs} epochs the final training loss / test accuracy "
        "was " + ", ".join(f"{k} {loss[k]:.2f}/{a_(acc[k])}" for k in NORMS)
        + f"; (2) {'held' if larger_lr else 'did not hold'}: at lr {top:g} BatchNorm reached {a_(bn_top)}, the plain "
        f"net {a_(plain_top)}; (3) {'held' if sensitive else 'did not hold'}: trained with batch {sizes}, BatchNorm "
        f"tested {per_batch(bn_b, 'accuracy')} in eval mode and GroupNorm {per_batch(gn_b, 'accuracy')}"
    )
    verdict += (f" (batch {small} minus batch {large}: BatchNorm {-bn_drop:+.2f}, GroupNorm {-gn_drop:+.2f})"
                f"{'' if sensitive else ' — no BatchNorm-specific small-batch loss in test accuracy'}. The noise the notes "
                f"describe is there: normalized by their own statistics, test batches of {sizes} score "
                f"{per_batch(bn_b, 'batch_statistics_accuracy')}, and BatchNorm's training loss at batch {sizes} ends at "
                f"{per_batch(bn_b, 'final_loss', lambda v: f'{v:.2f}')} (GroupNorm "
                f"{per_batch(gn_b, 'final_loss', lambda v: f'{v:.2f}')}); in eval mode the running statistics replace "
                f"the batch's own")
    if not sensitive:
        verdict += f" (and on 8×8 maps a batch of {small} still gives each channel {small}·8·8 = {small * 64} values)"
    lag = bn_b[large]["batch_statistics_accuracy"] - bn_b[large]["accuracy"]
    if lag > 0.03:
        steps = epochs * (len(train) // large)
        verdict += (f"; at batch {large} ({steps} steps) the running statistics lagged the changing weights: "
                    f"{bn_b[large]['accuracy']:.2f} in eval mode against {bn_b[large]['batch_statistics_accuracy']:.2f} "
                    "with the test batches' own statistics")

    tables = [
        {"title": f"norm layers, batch {BATCH}, lr {LR}, {epochs} epochs",
         "columns": ["norm", "final training loss", "test accuracy"],
         "rows": [[k, by_norm[k]["final_loss"], a_(acc[k])] for k in NORMS]},
        {"title": f"batch size (lr = {BATCH_LR:.3g} × batch, {epochs} epochs)",
         "columns": ["batch", "BN test acc (running stats)", "BN test acc (batch stats)", "BN final loss",
                     "GN test acc", "GN final loss"],
         "rows": [[b, bn_b[b]["accuracy"], bn_b[b]["batch_statistics_accuracy"], bn_b[b]["final_loss"],
                   gn_b[b]["accuracy"], gn_b[b]["final_loss"]] for b in BATCH_SIZES]},
        {"title": f"learning rate, batch {BATCH}, {epochs} epochs",
         "columns": ["lr", "plain test acc", "BatchNorm test acc"],
         "rows": [[lr, a_(by_lr["none"][lr]["accuracy"]), a_(by_lr["BatchNorm"][lr]["accuracy"])] for lr in lrs]},
    ]
    return Result(
        name=NAME, note=NOTE, claim=CLAIM,
        setup=(f"a small CNN (conv3×3 {WIDTH}–norm–ReLU, conv3×3 {WIDTH}–norm–ReLU, max-pool 2, conv3×3 {2 * WIDTH}–"
               "norm–ReLU, global average pooling, Linear) on the standardized 8×8 digits "
               f"({len(train)} training / {len(test)} test images), SGD momentum {MOMENTUM}, {epochs} epochs, seed "
               f"{seed}. Norms: BatchNorm2d, LayerNorm over (C, H, W), InstanceNorm2d with affine γ, β, GroupNorm "
               f"with 4 groups; PyTorch's default init. Comparison: batch {BATCH}, lr {LR}. Batch size: "
               f"{', '.join(map(str, BATCH_SIZES))} with lr ∝ batch ({BATCH_LR:.3g} per sample, the linear scaling "
               "rule, so every run sees the same epochs), BatchNorm vs GroupNorm; BatchNorm's test accuracy in eval "
               "mode (running statistics, momentum 0.1) and with each test batch of the training batch size "
               f"normalized by its own statistics. Learning rate: {', '.join(map(str, lrs))}, batch {BATCH}, "
               "plain vs BatchNorm. Final loss = mean over the last tenth of the steps"),
        numbers={
            "test_accuracy": acc,
            "final_training_loss": {k: r["final_loss"] for k, r in by_norm.items()},
            "batch_size": {
                "BatchNorm_test_accuracy": {b: bn_b[b]["accuracy"] for b in BATCH_SIZES},
                "BatchNorm_test_accuracy_batch_statistics": {b: bn_b[b]["batch_statistics_accuracy"]
                                                             for b in BATCH_SIZES},
                "BatchNorm_final_training_loss": {b: bn_b[b]["final_loss"] for b in BATCH_SIZES},
                "GroupNorm_test_accuracy": {b: gn_b[b]["accuracy"] for b in BATCH_SIZES},
                "GroupNorm_final_training_loss": {b: gn_b[b]["final_loss"] for b in BATCH_SIZES},
            },
            "learning_rate": {k: {lr: by_lr[k][lr]["accuracy"] for lr in lrs} for k in by_lr},
            "diverged_at_step": {f"{k} lr {lr:g}": by_lr[k][lr]["diverged_at"] for k in by_lr for lr in lrs},
            "parts": parts,
            "epochs": epochs,
        },
        held=bool(held),
        in_part=not held and any(parts.values()),
        verdict=verdict,
        figures=["normalization_layers.png", "normalization_batchnorm.png"],
        tables=tables,
    )
