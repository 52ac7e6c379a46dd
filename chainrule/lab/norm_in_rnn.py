"""Note 003: BatchNorm is awkward in a recurrent net, LayerNorm is not.

A recurrent net applies the same cell at every time step, but the pre-activations at step 1 and step 8 have different
distributions, so BatchNorm needs its own statistics (and running averages) per time step, each estimated from the
mini-batch; LayerNorm normalizes each sample over its own hidden units, the same computation at every step, in
training and in evaluation, at any batch size. A vanilla tanh RNN reads each 8×8 digit as a sequence of 8 rows of 8
pixels and classifies it from its last hidden state; its recurrent pre-activation W_ih x_t + W_hh h_{t−1} + b is
normalized by BatchNorm1d (one per time step), by LayerNorm, or not at all, and it is trained at batch sizes 64 and 4
for the same number of epochs. Measured: test accuracy (evaluation mode: BatchNorm uses its running averages), and
the train/eval mismatch — the same trained net scored on the test set with the statistics of test mini-batches of the
training batch size (training mode) instead.
"""
import copy
import os

import numpy as np

from .. import manual_seed, nn, no_grad, tensor, zeros
from ..data import stratified_split
from ..data.datasets.digits import digits
from ..optim import Adam
from .base import Result

NAME = "norm-in-rnn"
NOTE = "003"
CLAIM = ("in a recurrent net LayerNorm works where BatchNorm struggles: BatchNorm needs per-time-step statistics "
         "from the batch, so at small batches it trains worse and behaves differently in training and evaluation")

HIDDEN = 64
LR = 2e-3
NORMS = ("none", "BatchNorm (per step)", "LayerNorm")
BATCHES = (64, 4)


class NormalizedRNN(nn.Module):
    """h_t = tanh(norm_t(W_ih x_t + W_hh h_{t−1} + b)), logits = W_out h_T; x (N, T, I) → (N, classes).

    ``norm`` "none", "batch" (a BatchNorm1d per time step: the statistics of step t are not those of step 1) or
    "layer" (one LayerNorm for every step: it needs no batch and no running averages)."""

    def __init__(self, input_size, hidden_size, steps, classes, norm):
        super().__init__()
        self.steps, self.hidden_size, self.norm = steps, hidden_size, norm
        self.input = nn.Linear(input_size, hidden_size)
        self.recurrent = nn.Linear(hidden_size, hidden_size, bias=False)
        if norm == "batch":
            self.norms = nn.ModuleList([nn.BatchNorm1d(hidden_size) for _ in range(steps)])
        elif norm == "layer":
            self.layer_norm = nn.LayerNorm(hidden_size)
        self.out = nn.Linear(hidden_size, classes)

    def forward(self, x):
        h = zeros(x.shape[0], self.hidden_size)
        for t in range(self.steps):
            a = self.input(x[:, t]) + self.recurrent(h)
            if self.norm == "batch":
                a = self.norms[t](a)
            elif self.norm == "layer":
                a = self.layer_norm(a)
            h = a.tanh()
        return self.out(h)


def split(seed):
    images, y = digits()
    manual_seed(seed)
    train, test = stratified_split(y, 0.25)
    x = (images / 16).astype(np.float32)  # 8 rows of 8 pixels in [0, 1]
    return x[train], y[train], x[test], y[test]


def accuracy(model, x, y, batch=None):
    """Accuracy on (x, y) without a graph, in the model's current mode; in training mode, mini-batches of ``batch``
    (a last, smaller remainder batch included), each normalized with its own statistics."""
    batch = batch or len(x)
    right = 0
    with no_grad():
        for start in range(0, len(x), batch):
            right += int((np.argmax(model(tensor(x[start:start + batch])).data, axis=1) == y[start:start + batch]).sum())
    return right / len(x)


def train(norm, batch, epochs, data, seed):
    """Train NormalizedRNN with Adam (lr LR) for ``epochs`` epochs at ``batch``; returns the scores and the curve."""
    x_train, y_train, x_test, y_test = data
    manual_seed(seed)
    key = {"none": "none", "BatchNorm (per step)": "batch", "LayerNorm": "layer"}[norm]
    model = NormalizedRNN(8, HIDDEN, 8, 10, key)
    optimizer = Adam(model.parameters(), lr=LR)
    order, curve = np.random.default_rng(seed), []
    for _ in range(epochs):
        perm, losses = order.permutation(len(x_train)), []
        model.train()
        for start in range(0, len(x_train) - batch + 1, batch):
            idx = perm[start:start + batch]
            loss = nn.functional.cross_entropy(model(tensor(x_train[idx])), tensor(y_train[idx]))
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            losses.append(float(loss.data))
        model.eval()
        curve.append({"train_loss": float(np.mean(losses)), "test_accuracy": accuracy(model, x_test, y_test)})
    # the same net with batch statistics: a copy, so that scoring does not move the running averages
    as_trained = copy.deepcopy(model).train()
    return {"test_eval": curve[-1]["test_accuracy"], "test_batch_stats": accuracy(as_trained, x_test, y_test, batch),
            "train_eval": accuracy(model, x_train, y_train), "curve": curve}


def _plot(runs, epochs, path):
    from matplotlib.patches import Patch

    from .plotting import figure, legend, save

    fig, (ax1, ax2) = figure(1, 2, figsize=(13, 4.6))
    for j, batch in enumerate(BATCHES):
        for i, norm in enumerate(NORMS):
            r = runs[(norm, batch)]
            ax1.plot(range(1, epochs + 1), [c["test_accuracy"] for c in r["curve"]], "os"[j], color=f"C{i}",
                     linestyle="-" if j == 0 else "--", label=f"{norm}, batch {batch}")
    lowest = min(c["test_accuracy"] for r in runs.values() for c in r["curve"])
    bottom = max(0.0, np.floor(10 * lowest - 0.5) / 10)  # the curves fill the panel: the y axis starts under them
    ax1.set_xticks(range(1, epochs + 1))
    ax1.set(xlabel="epoch", ylabel="test accuracy (evaluation mode)", ylim=(bottom, 1), xlim=(0.5, epochs + 0.5),
            title="tanh RNN on digit rows")
    ax1.grid(alpha=0.3)
    legend(ax1, "below", ncol=2)
    width = 0.13
    for i, norm in enumerate(NORMS):
        for j, batch in enumerate(BATCHES):
            r = runs[(norm, batch)]
            pos = i + (j - 0.5) * 2 * width
            ax2.bar(pos - width / 2, r["test_eval"], width, color=f"C{i}", alpha=1.0 if j == 0 else 0.55)
            ax2.bar(pos + width / 2, r["test_batch_stats"], width, color=f"C{i}", alpha=1.0 if j == 0 else 0.55,
                    hatch="//", edgecolor="white")
            ax2.text(pos, max(r["test_eval"], r["test_batch_stats"]) + 0.02, f"b{batch}", ha="center", fontsize=8)
    ax2.set_xticks(range(len(NORMS)), NORMS, fontsize=9)
    ax2.set(ylim=(0, 1.12), ylabel="test accuracy", title="the trained nets, scored two ways")
    handles = [Patch(facecolor="0.3", label=f"trained at batch {BATCHES[0]} (b{BATCHES[0]})"),
               Patch(facecolor="0.3", alpha=0.55, label=f"trained at batch {BATCHES[1]} (b{BATCHES[1]})"),
               Patch(facecolor="0.3", label="evaluation mode"),
               Patch(facecolor="0.3", hatch="//", edgecolor="white", label="test batches' own statistics")]
    legend(ax2, "below", handles=handles, ncol=2, bbox_to_anchor=(0.5, -0.09))
    save(fig, path)


def run(quick=False, seed=0, out="."):
    epochs = 1 if quick else 10
    data = split(seed)
    runs = {(norm, batch): train(norm, batch, epochs, data, seed) for batch in BATCHES for norm in NORMS}
    _, bn, ln = NORMS
    small, large = BATCHES[1], BATCHES[0]

    def mismatch(norm, batch):
        r = runs[(norm, batch)]
        return abs(r["test_eval"] - r["test_batch_stats"])

    ln_wins_small = runs[(ln, small)]["test_eval"] > runs[(bn, small)]["test_eval"]
    bn_mismatch_grows = mismatch(bn, small) > mismatch(bn, large) and mismatch(bn, small) > mismatch(ln, small)
    held = ln_wins_small and bn_mismatch_grows
    in_part = not held and (ln_wins_small or bn_mismatch_grows)
    _plot(runs, epochs, os.path.join(out, "norm_in_rnn.png"))
    verdict = (f"test accuracy after {epochs} epochs (evaluation mode), batch {large} / batch {small}: "
               + ", ".join(f"{n} {runs[(n, large)]['test_eval']:.3f}/{runs[(n, small)]['test_eval']:.3f}"
                           for n in NORMS)
               + f"; train/eval mismatch (|accuracy with running averages − with the batch's statistics|), "
               f"batch {large} / batch {small}: "
               + ", ".join(f"{n} {mismatch(n, large):.3f}/{mismatch(n, small):.3f}" for n in (bn, ln))
               + " (LayerNorm computes the same in both modes: 0 by construction)")
    rows = [{"norm": n, "batch": b, "test_accuracy_eval_mode": runs[(n, b)]["test_eval"],
             "test_accuracy_batch_statistics": runs[(n, b)]["test_batch_stats"], "mismatch": mismatch(n, b),
             "train_accuracy": runs[(n, b)]["train_eval"], "final_epoch_train_loss": runs[(n, b)]["curve"][-1]["train_loss"]}
            for b in BATCHES for n in NORMS]
    return Result(
        name=NAME, note=NOTE, claim=CLAIM,
        setup=(f"the 1,797 bundled 8×8 digits read as sequences of 8 rows of 8 pixels (/16), a stratified 75/25 split "
               f"(seed {seed}); a tanh RNN with {HIDDEN} hidden units, h_t = tanh(norm(W_ih x_t + W_hh h_(t−1) + b)), "
               f"a Linear {HIDDEN}→10 on h_8; norm = none, BatchNorm1d per time step (8 of them, each with its own "
               "running averages) or one LayerNorm; Adam lr "
               f"{LR:g}, {epochs} epochs at batch sizes {BATCHES} (same seed, same init); test accuracy in evaluation "
               "mode, and again in training mode with test mini-batches of the training batch size (a copy of the "
               "net, so the running averages stay as trained)"),
        numbers={"epochs": epochs, "runs": rows},
        held=bool(held), in_part=bool(in_part), verdict=verdict,
        figures=["norm_in_rnn.png"],
        tables=[{"title": f"tanh RNN on the digits' rows, {epochs} epochs",
                 "columns": ["normalization", "batch", "test accuracy (eval mode)", "test accuracy (batch statistics)",
                             "mismatch", "train accuracy", "last epoch's training loss"],
                 "rows": [list(r.values()) for r in rows]}],
    )
