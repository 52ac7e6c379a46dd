"""Pictures of a run: loss and accuracy curves, and the confusion matrix (matplotlib, Agg backend),
each written atomically (a kill mid-write leaves the previous picture, not half a PNG)."""
import numpy as np

from ..io import save_figure


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_curves(history, path, key, title):
    """Training (and validation) ``key`` per epoch, plus the per-step training loss for 'loss'."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6, 4))
    epochs = [e["epoch"] for e in history.epochs]
    if key == "loss" and history.steps:
        per_epoch = len(history.steps) / max(len(epochs), 1)
        ax.plot([(i + 1) / per_epoch for i in range(len(history.steps))], [s["loss"] for s in history.steps],
                color="0.8", lw=0.8, label="train (per step)")
    ax.plot(epochs, [e[f"train_{key}"] for e in history.epochs], marker="o", label="train")
    if history.epochs and f"val_{key}" in history.epochs[0]:
        ax.plot(epochs, [e[f"val_{key}"] for e in history.epochs], marker="o", label="validation")
    ax.set(xlabel="epoch", ylabel=key, title=title)
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    return save_figure(fig, path)


def plot_confusion(matrix, path, classes=None, title="confusion matrix (test set)"):
    """Counts of true class (rows) against predicted class (columns)."""
    plt = _pyplot()
    m = np.asarray(matrix)
    classes = classes or [str(i) for i in range(len(m))]
    fig, ax = plt.subplots(figsize=(1 + 0.5 * len(m), 1 + 0.45 * len(m)))
    ax.imshow(m, cmap="Blues")
    for (i, j), v in np.ndenumerate(m):
        ax.text(j, i, str(v), ha="center", va="center", fontsize=8, color="white" if v > m.max() / 2 else "black")
    ax.set_xticks(range(len(m)), classes, rotation=45 if max(map(len, classes)) > 2 else 0)
    ax.set_yticks(range(len(m)), classes)
    ax.set(xlabel="predicted", ylabel="true", title=title)
    fig.tight_layout()
    return save_figure(fig, path)
