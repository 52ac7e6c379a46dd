"""Note 004: pre-training, then fine-tuning on another task — transfer learning with few labels.

A net trained on a large data set has learned features that serve other tasks too; for a new task with few
labelled examples, load its weights, replace the classifier for the new classes and train further — the early
layers frozen (``Module.requires_grad_(False)``, only the new head learns) or everything fine-tuned [note 004 §18].
Measured on the 8×8 digits split in two tasks: an MLP is pre-trained on all training images of the digits 0–4, then
the digits 5–9 are learned from only 10 or 50 labelled images per class, three ways: from scratch (the same
architecture, random weights), with the pre-trained body frozen (a new head on its features), and with the whole
pre-trained net fine-tuned (a new head, every weight trained). Test accuracy on all test images of 5–9, mean over
several draws of the few labelled images; and a check that the frozen body did not move. For reference, a linear
classifier on the raw pixels from the same few images: what the body's features are worth against none.
"""
import copy
import os

import numpy as np

from .. import manual_seed, nn, no_grad, tensor
from ..optim import Adam
from ..runtime import num_threads
from .base import Result
from .common import digits_split

NAME = "fine-tuning"
NOTE = "004"
CLAIM = ("a net pre-trained on one task and fine-tuned on a new one — its classifier replaced, the body frozen or "
         "trained further — reaches a higher test accuracy from few labelled examples than the same net trained from "
         "scratch")

WIDTHS, LR, PRETRAIN_BATCH = (128, 64), 1e-3, 64
OLD, NEW = (0, 1, 2, 3, 4), (5, 6, 7, 8, 9)
METHODS = ("from scratch", "pre-trained, body frozen", "pre-trained, fine-tuned")
REFERENCE = "linear on the raw pixels"


def body():
    """The feature extractor: 64 → 128 → 64, ReLU after each Linear."""
    return nn.Sequential(nn.Linear(64, WIDTHS[0]), nn.ReLU(), nn.Linear(WIDTHS[0], WIDTHS[1]), nn.ReLU())


def classes_subset(x, y, classes):
    keep = np.isin(y, classes)
    return x[keep], np.searchsorted(np.asarray(classes), y[keep])  # labels 0..len(classes)−1


def few_per_class(y, per_class, rng):
    """Indices of ``per_class`` examples of every class in ``y``, drawn without replacement."""
    return np.concatenate([rng.choice(np.flatnonzero(y == c), per_class, replace=False) for c in np.unique(y)])


def accuracy(model, x, y):
    model.eval()
    with no_grad():
        right = float(np.mean(np.argmax(model(tensor(x)).data, axis=1) == y))
    model.train()
    return right


def fit(model, x, y, steps, batch=None, seed=0):
    """Adam on the parameters that require a gradient (frozen ones are left out), cross-entropy, ``steps`` steps on
    mini-batches of ``batch`` (the whole set when None); returns the last loss."""
    optimizer = Adam([p for p in model.parameters() if p.requires_grad], lr=LR)
    rng = np.random.default_rng(seed)
    xs, ys = tensor(x), tensor(y)
    for _ in range(steps):
        if batch is None:
            inputs, targets = xs, ys
        else:
            idx = rng.choice(len(x), batch, replace=False)
            inputs, targets = tensor(x[idx]), tensor(y[idx])
        loss = nn.functional.cross_entropy(model(inputs), targets)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return float(loss.data)


def pretrain(x, y, steps, seed):
    """The body and its 5-class head trained on the old task."""
    manual_seed(seed)
    features = body()
    model = nn.Sequential(features, nn.Linear(WIDTHS[1], len(OLD)))
    fit(model, x, y, steps, batch=PRETRAIN_BATCH, seed=seed)
    return features, model


def transfer(method, pretrained, x, y, steps, seed):
    """A net for the new task by ``method``; returns (model, its body, number of trainable parameters)."""
    manual_seed(seed)
    if method == REFERENCE:
        model = nn.Linear(64, len(NEW))
        fit(model, x, y, steps, seed=seed)
        return model, None, int(sum(p.data.size for p in model.parameters()))
    if method == "from scratch":
        features = body()
    else:
        features = copy.deepcopy(pretrained)
        if method == "pre-trained, body frozen":
            features.requires_grad_(False)
    model = nn.Sequential(features, nn.Linear(WIDTHS[1], len(NEW)))
    trainable = sum(p.data.size for p in model.parameters() if p.requires_grad)
    fit(model, x, y, steps, seed=seed)
    return model, features, int(trainable)


def _plot(acc, shots, seeds, path):
    from .plotting import figure, legend, save

    fig, ax = figure(figsize=(9, 4.4))
    shown = (*METHODS, REFERENCE)
    width = 0.8 / len(shown)
    xs = np.arange(len(shots))
    for i, method in enumerate(shown):
        means = [np.mean(acc[(method, k)]) for k in shots]
        spread = [np.std(acc[(method, k)]) for k in shots]
        bars = ax.bar(xs + (i - (len(shown) - 1) / 2) * width, means, width, yerr=spread, capsize=3,
                      color=f"C{i}" if method != REFERENCE else "0.6", label=method)
        for bar, m in zip(bars, means):
            ax.text(bar.get_x() + bar.get_width() / 2, 0.02, f"{m:.2f}", ha="center", va="bottom", fontsize=8,
                    color="white", fontweight="bold")
    ax.set_xticks(xs, [f"{k} per class\n({len(NEW) * k} images)" for k in shots])
    ax.set(ylim=(0, 1.05), ylabel="test accuracy on the digits 5–9",
           title=f"learning 5–9 from few labels after pre-training on 0–4 (mean ± std of {len(seeds)} draws)")
    legend(ax, "right")
    save(fig, path)


def run(quick=False, seed=0, out="."):
    shots, seeds, pretrain_steps, steps = ((1, 10), (seed, seed + 1), 150, 100) if quick else \
        ((1, 10, 50), tuple(range(seed, seed + 5)), 600, 300)
    x, y, x_test, y_test = digits_split(seed)
    x, x_test = (x / 16).astype(np.float32), (x_test / 16).astype(np.float32)  # pixel counts 0..16 → [0, 1]
    x_old, y_old = classes_subset(x, y, OLD)
    x_old_test, y_old_test = classes_subset(x_test, y_test, OLD)
    x_new, y_new = classes_subset(x, y, NEW)
    x_new_test, y_new_test = classes_subset(x_test, y_test, NEW)
    acc, trainable, frozen_moved = {}, {}, 0.0
    with num_threads(1):  # small matrices: one BLAS thread is faster
        features, old_model = pretrain(x_old, y_old, pretrain_steps, seed)
        old_accuracy = accuracy(old_model, x_old_test, y_old_test)
        for k in shots:
            for method in (*METHODS, REFERENCE):
                acc[(method, k)] = []
            for s in seeds:
                idx = few_per_class(y_new, k, np.random.default_rng(s))
                for method in (*METHODS, REFERENCE):
                    model, body_after, trainable[method] = transfer(method, features, x_new[idx], y_new[idx], steps, s)
                    acc[(method, k)].append(accuracy(model, x_new_test, y_new_test))
                    if method == "pre-trained, body frozen":
                        frozen_moved = max(frozen_moved, max(float(np.abs(a.data - b.data).max()) for a, b in
                                                             zip(body_after.parameters(), features.parameters())))
    mean = {key: float(np.mean(v)) for key, v in acc.items()}
    # paired by draw (every method learns from the same labelled images): the gain over scratch and its standard error
    gain = {}
    for k in shots:
        for method in METHODS[1:]:
            d = np.subtract(acc[(method, k)], acc[("from scratch", k)])
            gain[(method, k)] = (float(d.mean()), float(d.std(ddof=1) / np.sqrt(len(d))) if len(d) > 1 else 0.0)
    parts = {f"{method} beats scratch at {k} per class": gain[(method, k)][0] > 2 * gain[(method, k)][1]
             for k in shots for method in METHODS[1:]}
    held = all(parts.values())
    in_part = not held and any(parts.values())
    _plot(acc, shots, seeds, os.path.join(out, "fine_tuning.png"))

    failed = [k for k, v in parts.items() if not v]
    verdict = (f"pre-trained on the digits 0–4 (test accuracy there {old_accuracy:.3f}); test accuracy on 5–9, mean "
               f"of {len(seeds)} draws of the labelled images — "
               + "; ".join(f"{k} per class: " + ", ".join(f"{m} {mean[(m, k)]:.3f}" for m in (*METHODS, REFERENCE))
                           for k in shots)
               + "; gain over scratch (± standard error over the draws): "
               + "; ".join(f"{k} per class: " + ", ".join(f"{m.split(', ')[1]} {gain[(m, k)][0]:+.3f} ± "
                                                          f"{gain[(m, k)][1]:.3f}" for m in METHODS[1:]) for k in shots)
               + f". The frozen body moved by {frozen_moved:g}"
               + ("; the features learned on 0–4 served 5–9 worse than the raw pixels at every number of labels "
                  "(frozen body vs the linear reference): five source classes on a small domain teach features too "
                  "narrow to transfer" if all(mean[(METHODS[1], k)] < mean[(REFERENCE, k)] for k in shots) else "")
               + (". Did not hold: " + "; ".join(failed) if failed else "") + ".")
    return Result(
        name=NAME, note=NOTE, claim=CLAIM,
        setup=(f"the bundled 8×8 digits (pixels /16), stratified 75/25 split (seed {seed}); MLP body 64 → {WIDTHS[0]} → "
               f"{WIDTHS[1]} (ReLU), a Linear head per task; pre-training: the {len(x_old)} training images of 0–4, Adam "
               f"lr {LR:g}, {pretrain_steps} steps of {PRETRAIN_BATCH}; new task: 5–9 from {' or '.join(map(str, shots))} "
               f"labelled training images per class (drawn by seeds {', '.join(map(str, seeds))}), full-batch Adam lr "
               f"{LR:g}, {steps} steps, a fresh head each time; from scratch: the same architecture with new random "
               "weights; body frozen: the pre-trained body with Module.requires_grad_(False), only the head in the "
               "optimizer; fine-tuned: every weight trained; reference: a Linear 64 → 5 on the raw pixels, trained "
               f"alike; tested on all {len(x_new_test)} test images of 5–9; a method beats scratch when its gain, paired "
               "by draw, exceeds twice its standard error"),
        numbers={"pretrain_test_accuracy": old_accuracy, "seeds": list(seeds),
                 "accuracy": {f"{k} per class": {m: mean[(m, k)] for m in (*METHODS, REFERENCE)} for k in shots},
                 "accuracy_std": {f"{k} per class": {m: float(np.std(acc[(m, k)])) for m in (*METHODS, REFERENCE)}
                                  for k in shots},
                 "gain_over_scratch": {f"{k} per class": {m: {"mean": gain[(m, k)][0], "standard_error": gain[(m, k)][1]}
                                                          for m in METHODS[1:]} for k in shots},
                 "trainable_parameters": trainable, "frozen_body_max_change": frozen_moved, "parts": parts},
        held=bool(held), in_part=bool(in_part), verdict=verdict,
        figures=["fine_tuning.png"],
        tables=[{"title": f"test accuracy on 5–9 (mean ± std of {len(seeds)} draws)",
                 "columns": ["labelled per class", *METHODS, REFERENCE],
                 "rows": [[k, *(f"{mean[(m, k)]:.3f} ± {np.std(acc[(m, k)]):.3f}" for m in (*METHODS, REFERENCE))]
                          for k in shots]},
                {"title": "trainable parameters", "columns": [*METHODS, REFERENCE],
                 "rows": [[trainable[m] for m in (*METHODS, REFERENCE)]]},
                {"title": "the claim, part by part", "columns": ["part", "held"],
                 "rows": [[k, v] for k, v in parts.items()]}],
    )
