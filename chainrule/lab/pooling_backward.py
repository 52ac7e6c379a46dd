"""Note 000: how gradients pass back through pooling.

Average pooling hands each output gradient to its window in equal parts (÷ n); max pooling hands it
only to the position that held the maximum. Copying the gradient n times instead of dividing it —
the mistake the note warns about — multiplies the gradient by n, which finite differences expose.
"""
import os

import numpy as np

from .. import nn, tensor
from ..diagnostics import gradcheck
from .base import Result

NAME = "pooling-backward"
NOTE = "000"
CLAIM = ("average pooling's backward divides each gradient by the window size n; max pooling's routes it only to "
         "the position of the maximum; copying it n times would multiply the gradient by n")


def _heatmaps(panels, maxima, path, window=2):
    """One heatmap per (title, array), every cell's value written on it in black or white, whichever reads on
    the cell's colour. On the input-sized panels, white lines mark the pooling windows; on the input, a red box
    marks each window's maximum (``maxima``: (row, column) pairs)."""
    from matplotlib.patches import Rectangle

    from .plotting import cell_values, figure, save

    fig, axes = figure(1, len(panels), figsize=(2.9 * len(panels), 3.4))
    size = panels[0][1].shape[0]
    for k, (ax, (title, a)) in enumerate(zip(axes, panels)):
        cell_values(ax, ax.imshow(a, cmap="viridis"), a)
        if a.shape[0] == size:
            for edge in np.arange(window, size, window) - 0.5:
                ax.axhline(edge, color="white", linewidth=2.5)
                ax.axvline(edge, color="white", linewidth=2.5)
        if k == 0:
            for i, j in maxima:
                ax.add_patch(Rectangle((j - 0.45, i - 0.45), 0.9, 0.9, fill=False, edgecolor="red", linewidth=2))
        ax.set_title(title, fontsize=10)
        ax.set_xticks([])
        ax.set_yticks([])
    save(fig, path)


def run(quick=False, seed=0, out="."):
    rng = np.random.default_rng(seed)
    x = rng.permutation(16).reshape(1, 1, 4, 4).astype(np.float64)
    upstream = np.array([[1.0, 2.0], [3.0, 4.0]]).reshape(1, 1, 2, 2)
    grads = {}
    for kind, fn in (("avg", nn.functional.avg_pool2d), ("max", nn.functional.max_pool2d)):
        t = tensor(x, requires_grad=True)
        fn(t, 2).backward(upstream)
        grads[kind] = t.grad.data[0, 0]
    expected_avg = np.kron(upstream[0, 0], np.ones((2, 2))) / 4
    windows = x[0, 0].reshape(2, 2, 2, 2).transpose(0, 2, 1, 3).reshape(2, 2, 4)
    expected_max = np.zeros((4, 4))
    for i in range(2):
        for j in range(2):
            k = int(np.argmax(windows[i, j]))
            expected_max[2 * i + k // 2, 2 * j + k % 2] = upstream[0, 0, i, j]
    copied = np.kron(upstream[0, 0], np.ones((2, 2)))  # the mistake: every position gets the whole gradient
    fd_ok = {kind: bool(gradcheck(lambda t, f=fn: f(t, 2), [tensor(x, requires_grad=True)]))
             for kind, fn in (("avg", nn.functional.avg_pool2d), ("max", nn.functional.max_pool2d))}
    ratio = float(copied.sum() / grads["avg"].sum())
    held = (np.allclose(grads["avg"], expected_avg) and np.allclose(grads["max"], expected_max)
            and all(fd_ok.values()) and np.isclose(ratio, 4.0))
    _heatmaps([("input x (4×4), □ = window max", x[0, 0]), ("upstream g = dL/dy (2×2)", upstream[0, 0]),
               ("avg pool: dL/dx = g/4", grads["avg"]), ("max pool: g at each argmax", grads["max"]),
               ("wrong: g copied 4 times", copied)], np.argwhere(expected_max != 0),
              os.path.join(out, "pooling_backward.png"))
    return Result(
        name=NAME, note=NOTE, claim=CLAIM,
        setup="a 4×4 input (a permutation of 0..15), 2×2 pooling with stride 2, upstream gradient [[1, 2], [3, 4]]",
        numbers={"avg_grad": grads["avg"].tolist(), "max_grad": grads["max"].tolist(),
                 "finite_differences_agree": fd_ok, "copy_mistake_over_true_ratio": ratio},
        held=bool(held),
        verdict=(f"average pooling gave every input g/4 and max pooling gave g only at each window's maximum, both "
                 f"confirmed by finite differences; copying instead of dividing makes the gradient {ratio:.0f}× too large"),
        figures=["pooling_backward.png"],
    )
