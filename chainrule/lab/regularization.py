"""Notes 001, 003: regularization — L1 and L2, dropout, data augmentation, and dropout's debugging tip.

Note 003: L1 adds (λ/n)·Σ|w| to the cost, so every step pulls each weight towards 0 by a fixed amount
and drives many weights to exactly zero (sparse, "feature selection"); L2 adds (λ/2n)·Σw², a decay
factor (1 − ηλ/n) that makes weights small but leaves them non-zero. Both, dropout (randomly delete
half the hidden units at each step) and data augmentation (random crops, random noise) fight
overfitting. Note 001: dropout makes the cost J ill-defined — with keep_prob = 1 J must fall
monotonically under gradient descent; with dropout it need not. Measured on an MLP trained on a small
training set (200 of the 8×8 digits), where it overfits:

* the weights after training with none / L2 (weight decay) / L1 by the proximal step
  (``SGD(l1=λ)``) / L1 by the notes' literal subgradient update (``l1_penalty`` in the loss): the
  fraction of exact zeros, of |w| < 10⁻³, and the weight norm;
* the train/test accuracy gap without regularization, with dropout, with random shifts and with
  pixel noise (the augmentations of the notes that keep a digit a digit; flips do not), over a few
  draws of the training set;
* full-batch gradient descent on the same 200 images with p = 0 and with p = 0.5: how often J rose.
"""
import os

import numpy as np

from .. import manual_seed, nn, no_grad, tensor
from ..data import ArrayDataset
from ..data import transforms as T
from ..data.catalog import get_dataset
from ..nn.utils import l1_penalty
from ..optim import SGD
from ..random import Generator
from ..runtime import num_threads
from .base import Result

NAME = "regularization"
NOTE = "001, 003"
CLAIM = ("L1 drives many weights to exactly zero while L2 only makes them small; dropout and data augmentation "
         "shrink the gap between training and test accuracy on a small training set; with dropout off (keep_prob = 1) "
         "the full-batch cost J falls monotonically, with dropout on it does not")

TRAIN_SIZE, WIDTH, BATCH, LR = 200, 128, 50, 0.1
L1, L2 = 1e-3, 1e-2  # chosen so that both end with about the same weight norm
DROPOUT = 0.5  # "delete half the hidden units" [note 003]
NOISE = 0.1  # std of the augmentation's pixel noise, pixels in [0, 1]
MEAN, STD = 0.3, 0.4  # the digits' pixel mean and std (chainrule.data.catalog)
SMALL = 1e-3
WEIGHT_VARIANTS = ("none", "L2", "L1 proximal", "L1 subgradient")
GAP_VARIANTS = ("none", "dropout", "random shift", "pixel noise")
REGULARIZERS = GAP_VARIANTS[1:]


def build(p=0.0, width=WIDTH):
    """64 → width → width → 10 with ReLU, and Dropout(p) after each hidden layer (the identity for p = 0)."""
    return nn.Sequential(nn.Flatten(), nn.Linear(64, width), nn.ReLU(), nn.Dropout(p),
                         nn.Linear(width, width), nn.ReLU(), nn.Dropout(p), nn.Linear(width, 10))


def _all_digits(seed):
    """Every 8×8 digit (train and test split) as raw pixels in [0, 1], (N, 1, 8, 8), and labels."""
    train, test = get_dataset("digits").load(None, False, seed)
    return np.concatenate([train.data, test.data]), np.concatenate([train.targets, test.targets])


def _split(images, labels, draw):
    """``TRAIN_SIZE`` images for training and all the others held out, by the permutation of ``draw``."""
    order = np.random.default_rng(draw).permutation(len(labels))
    fit, rest = order[:TRAIN_SIZE], order[TRAIN_SIZE:]
    return (images[fit], labels[fit]), (images[rest], labels[rest])


def _accuracy(model, images, labels):
    model.eval()
    with no_grad():
        out = model(tensor((images - MEAN) / STD))
    model.train()
    return float(np.mean(np.argmax(out.data, axis=1) == labels))


def _train(train, epochs, seed, p=0.0, augment=None, penalty=None):
    """Plain SGD (lr ``LR``, batch ``BATCH``) on ``train``; ``penalty``: ('L2' | 'L1 proximal' | 'L1 subgradient')
    on the weights only (the notes leave b alone)."""
    manual_seed(seed)
    model = build(p)
    weights = [w for name, w in model.named_parameters() if name.endswith("weight")]
    others = [b for name, b in model.named_parameters() if not name.endswith("weight")]
    groups = [{"params": weights, "weight_decay": L2 if penalty == "L2" else 0.0,
               "l1": L1 if penalty == "L1 proximal" else 0.0}, {"params": others}]
    optimizer = SGD(groups, lr=LR)
    transform = T.Compose([augment, T.Normalize(MEAN, STD)]) if augment else T.Normalize(MEAN, STD)
    data = ArrayDataset(*train, transform=transform)
    order = np.random.default_rng(seed)
    for _ in range(epochs):
        perm = order.permutation(len(data))
        for start in range(0, len(data), BATCH):
            x, y = data[perm[start:start + BATCH]]
            loss = nn.functional.cross_entropy(model(tensor(x)), tensor(y))
            if penalty == "L1 subgradient":  # the notes' update: w ← w − ηλ·sgn(w) − η·∂C₀/∂w
                loss = loss + l1_penalty(weights, L1)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    return model, np.concatenate([w.data.ravel() for w in weights])


def _weights_figures(w):
    return {"exact_zero": float(np.mean(w == 0)), "small": float(np.mean(np.abs(w) < SMALL)),
            "norm": float(np.linalg.norm(w))}


def _cost_increases(train, steps, seed, p):
    """Full-batch gradient descent on ``train``: J (the loss the step descends, dropout masks included) per step."""
    manual_seed(seed)
    model = build(p)
    optimizer = SGD(model.parameters(), lr=LR)
    x, y = tensor((train[0] - MEAN) / STD), tensor(train[1])
    costs = []
    for _ in range(steps):
        loss = nn.functional.cross_entropy(model(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        costs.append(float(loss.data))
    return costs


def _plot_weights(weights, path):
    from .plotting import figure, save

    fig, axes = figure(1, len(weights), figsize=(4 * len(weights), 3.6), sharex=True, sharey=True)
    edge = float(max(np.abs(w).max() for w in weights.values()))
    bins = np.linspace(-edge, edge, 81)
    for ax, (name, w) in zip(axes, weights.items()):
        ax.hist(w, bins=bins, color="C0")
        zeros = np.mean(w == 0)
        ax.set(yscale="log", xlabel="weight", title=f"{name}: {zeros:.0%} exactly 0")
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("count (log)")
    fig.suptitle("all weights of the MLP after training (biases left out)", fontsize=10)
    save(fig, path)


def _plot_gaps(gaps, costs, path):
    from .plotting import figure, legend, log_ticks, save

    fig, (ax1, ax2) = figure(1, 2, figsize=(12, 4.2))
    xs = np.arange(len(gaps))
    train = [np.mean([r["train"] for r in gaps[v]]) for v in gaps]
    test = [np.mean([r["test"] for r in gaps[v]]) for v in gaps]
    ax1.bar(xs - 0.2, train, width=0.4, label="train accuracy")
    ax1.bar(xs + 0.2, test, width=0.4, label="test accuracy")
    for x, tr, te in zip(xs, train, test):
        ax1.text(x, max(tr, te) + 0.005, f"gap {tr - te:.3f}", ha="center", fontsize=9)
    ax1.set_xticks(xs, list(gaps))
    ax1.set(ylim=(min(test) - 0.05, 1.02), ylabel="accuracy (mean over draws)",
            title=f"{TRAIN_SIZE} training images: the train/test gap")
    legend(ax1, "below", ncol=2, bbox_to_anchor=(0.5, -0.09))  # no x label: right under the tick labels
    for label, c in costs.items():
        ax2.plot(np.arange(1, len(c) + 1), c, label=label)
    ax2.set(yscale="log", xlabel="full-batch gradient-descent step", ylabel="cost J",
            title="dropout's debugging tip: J with and without dropout")
    log_ticks(ax2)
    ax2.legend(fontsize="small")
    ax2.grid(alpha=0.3)
    save(fig, path)


def run(quick=False, seed=0, out="."):
    epochs, draws, gd_steps = (100, 3, 100) if quick else (300, 5, 300)
    images, labels = _all_digits(seed)
    augment = {"random shift": T.RandomCrop(8, padding=1, generator=Generator(seed)),  # by up to ±1 pixel
               "pixel noise": T.GaussianNoise(NOISE, generator=Generator(seed + 1))}
    with num_threads(1):  # small matrices: one BLAS thread is several times faster
        train, test = _split(images, labels, seed)
        trained = {v: _train(train, epochs, seed, penalty=None if v == "none" else v) for v in WEIGHT_VARIANTS}
        weights = {v: w for v, (_, w) in trained.items()}
        figures = {v: _weights_figures(w) for v, w in weights.items()}
        accuracy = {v: {"train": _accuracy(m, *train), "test": _accuracy(m, *test)} for v, (m, _) in trained.items()}
        gaps = {v: [] for v in GAP_VARIANTS}
        for draw in range(seed, seed + draws):
            part_train, part_test = _split(images, labels, draw)
            for v in GAP_VARIANTS:
                model = trained["none"][0] if draw == seed and v == "none" else _train(
                    part_train, epochs, draw, p=DROPOUT if v == "dropout" else 0.0,
                    augment=augment.get(v))[0]
                gaps[v].append({"train": _accuracy(model, *part_train), "test": _accuracy(model, *part_test)})
        costs = {f"p = {p:g}" + (" (keep_prob = 1)" if p == 0 else ""): _cost_increases(train, gd_steps, seed, p)
                 for p in (0.0, DROPOUT)}
    increases = {k: int(np.sum(np.diff(c) > 0)) for k, c in costs.items()}
    per_draw = {v: np.array([r["train"] - r["test"] for r in gaps[v]]) for v in GAP_VARIANTS}
    mean_gap = {v: float(per_draw[v].mean()) for v in GAP_VARIANTS}
    mean_test = {v: float(np.mean([r["test"] for r in gaps[v]])) for v in GAP_VARIANTS}
    # paired over the draws (same training images, same init): the reduction and its standard error
    reduction = {v: (float(np.mean(per_draw["none"] - per_draw[v])),
                     float(np.std(per_draw["none"] - per_draw[v], ddof=1) / np.sqrt(draws)))
                 for v in REGULARIZERS}
    keep_all, with_dropout = list(costs)

    sparse = (figures["L1 proximal"]["exact_zero"] > 0.25 and figures["L2"]["exact_zero"] == 0
              and figures["none"]["exact_zero"] == 0)
    shrunk = figures["L2"]["norm"] < figures["none"]["norm"]
    less_overfit = {v: r > 0 and r > 2 * se for v, (r, se) in reduction.items()}  # a reduction beyond the noise
    tip = increases[keep_all] == 0 and increases[with_dropout] > 0
    parts = {"L1 gives exact zeros, L2 and none do not": sparse, "L2 shrinks the weights": shrunk,
             **{f"{v} shrinks the gap": less_overfit[v] for v in REGULARIZERS}, "J monotone only without dropout": tip}
    held = all(parts.values())

    _plot_weights(weights, os.path.join(out, "regularization_weights.png"))
    _plot_gaps(gaps, costs, os.path.join(out, "regularization_gap_and_cost.png"))

    f = figures
    measured = (
        f"exact zeros among the weights: L1 (proximal) {f['L1 proximal']['exact_zero']:.0%}, L1 (the notes' "
        f"subgradient update) {f['L1 subgradient']['exact_zero']:.0%} but {f['L1 subgradient']['small']:.0%} within "
        f"{SMALL:g} of 0, L2 {f['L2']['exact_zero']:.0%}, none {f['none']['exact_zero']:.0%} (weight norms "
        f"{f['L1 proximal']['norm']:.1f} / {f['L2']['norm']:.1f} / {f['none']['norm']:.1f} for L1 / L2 / none); "
        f"train−test accuracy gap (test accuracy) over {draws} draws of {TRAIN_SIZE} training images: "
        + ", ".join(f"{v} {mean_gap[v]:.3f} ({mean_test[v]:.3f})" for v in GAP_VARIANTS)
        + "; gap reduction " + ", ".join(f"{v} {r:+.3f} ± {se:.3f}" for v, (r, se) in reduction.items())
        + f" (± one standard error over the draws; 'shrinks' needs more than two); full-batch J rose "
        f"{increases[keep_all]} times in {gd_steps} steps with keep_prob = 1 and {increases[with_dropout]} times with "
        f"p = {DROPOUT:g}")
    verdict = measured if held else (measured + "; did not hold: " + ", ".join(k for k, ok in parts.items() if not ok))

    rows = [[v, f[v]["exact_zero"], f[v]["small"], f[v]["norm"], accuracy[v]["train"], accuracy[v]["test"]]
            for v in WEIGHT_VARIANTS]
    gap_rows = [[v, float(np.mean([r["train"] for r in gaps[v]])), float(np.mean([r["test"] for r in gaps[v]])),
                 mean_gap[v], " ".join(f"{r['train'] - r['test']:.3f}" for r in gaps[v])] for v in GAP_VARIANTS]
    return Result(
        name=NAME, note=NOTE, claim=CLAIM,
        setup=(f"MLP 64 → {WIDTH} → {WIDTH} → 10 (ReLU) trained by plain SGD (lr {LR}, batch {BATCH}, {epochs} "
               f"epochs) on {TRAIN_SIZE} 8×8 digits drawn at random, tested on the other {len(labels) - TRAIN_SIZE}; "
               f"pixels standardized with mean {MEAN}, std {STD}. Penalties on the weights only: L2 weight_decay {L2:g} "
               f"(the (1 − ηλ) shrink), L1 λ = {L1:g} either as SGD(l1=λ) (proximal soft-threshold) or as "
               f"l1_penalty in the loss (the notes' update w ← w − ηλ·sgn(w) − η·∂C₀/∂w); seed {seed}. Dropout "
               f"p = {DROPOUT:g} after both hidden layers; augmentations: a random shift by up to ±1 pixel (RandomCrop "
               f"with padding 1), or N(0, {NOISE:g}²) noise on the [0, 1] pixels. Gap = train − test accuracy (eval mode), over "
               f"{draws} random draws of the training set (draw seeds {seed}…{seed + draws - 1}); a regularizer shrinks "
               "the gap when its reduction, paired per draw, exceeds twice its standard error. Debugging tip: "
               f"{gd_steps} full-batch gradient-descent steps (lr {LR}) on the {TRAIN_SIZE} images, J = the "
               "cross-entropy each step descends (with its dropout mask)"),
        numbers={
            "weights": figures,
            "accuracy_by_penalty": accuracy,
            "mean_gap": mean_gap,
            "mean_test_accuracy": mean_test,
            "gap_reduction": {v: {"mean": r, "standard_error": se} for v, (r, se) in reduction.items()},
            "gaps_per_draw": {v: [r["train"] - r["test"] for r in gaps[v]] for v in GAP_VARIANTS},
            "test_accuracy_per_draw": {v: [r["test"] for r in gaps[v]] for v in GAP_VARIANTS},
            "cost_increases": increases,
            "cost_first_last": {k: [c[0], c[-1]] for k, c in costs.items()},
            "parts": parts,
            "epochs": epochs, "draws": draws, "gd_steps": gd_steps,
        },
        held=bool(held),
        in_part=not held and any(parts.values()),
        verdict=verdict,
        figures=["regularization_weights.png", "regularization_gap_and_cost.png"],
        tables=[{"title": f"weights after training (draw {seed})",
                 "columns": ["penalty", "exactly 0", f"|w| < {SMALL:g}", "‖w‖", "train accuracy", "test accuracy"],
                 "rows": rows},
                {"title": f"train/test gap, mean over {draws} draws",
                 "columns": ["variant", "train accuracy", "test accuracy", "gap", "gap per draw"], "rows": gap_rows},
                {"title": "dropout's debugging tip", "columns": ["run", "times J rose", "J first", "J last"],
                 "rows": [[k, increases[k], c[0], c[-1]] for k, c in costs.items()]}],
    )
