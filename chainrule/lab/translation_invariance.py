"""Note 003: pooling gives a network some invariance to small translations.

A max-pooling window reports the largest value in it wherever in the window it sits, so a feature that moves by
less than the window often leaves the pooled map unchanged. Two CNNs with the same convolutions and the same
classifier input size are trained on the 8×8 digits placed in the middle of a 12×12 canvas: one shrinks its maps
with 2×2 max pooling, the other with a stride-2 convolution sampling (no pooling). Both are tested on the test
digits shifted by 1, 2 and 3 pixels (left, right, up, down; zeros fill in): the accuracy kept, and how much the
features before the classifier change, ‖f(shifted) − f(x)‖ / ‖f(x)‖.

The note's second claim, that pooling reduces computation, is measured on the pooled net against the same net with
its pooling layers taken out (every layer stride 1, so the second convolution and the classifier work on the full
12×12 maps): the multiply-accumulates counted by ``chainrule.diagnostics.summary``, and the measured time of a
forward and backward pass on the same batch.
"""
import os
import statistics
import time

import numpy as np

from .. import manual_seed, nn, no_grad, tensor
from ..data import ArrayDataset, DataLoader
from ..data.catalog import get_dataset
from ..diagnostics import summary
from ..optim import SGD
from .base import Result
from .common import train_steps

NAME = "translation-invariance"
NOTE = "003"
CLAIM = ("pooling makes a CNN's features and predictions change less when the input is shifted by a few pixels "
         "than the same CNN without pooling, and it reduces the computation")

CANVAS, PAD, WIDTH, LR, MOMENTUM, BATCH = 12, 2, 16, 0.05, 0.9, 32
SHIFTS = (1, 2, 3)
TIMING_BATCH = 128
POOLED, STRIDED, UNPOOLED = "2×2 max pooling", "no pooling (stride-2 conv)", "no pooling, stride 1 everywhere"


def canvas(images, dy=0, dx=0):
    """(N, 1, 8, 8) digits placed in the middle of a 12×12 canvas of zeros, then moved by (dy, dx) pixels, zeros
    filling in and what leaves the canvas cut off."""
    out = np.zeros((len(images), 1, CANVAS, CANVAS), dtype=np.float32)
    out[:, :, PAD:PAD + 8, PAD:PAD + 8] = images
    moved = np.zeros_like(out)
    h = w = CANVAS
    moved[:, :, max(dy, 0):h + min(dy, 0), max(dx, 0):w + min(dx, 0)] = \
        out[:, :, max(-dy, 0):h + min(-dy, 0), max(-dx, 0):w + min(-dx, 0)]
    return moved


def build(pool, width=WIDTH, classes=10):
    """conv3×3–ReLU, downsample ×2, conv3×3–ReLU, downsample ×2, Linear on the 3×3 maps. ``pool``: a
    ``MaxPool2d`` factory for pooling; None for the same shrinking by taking every second pixel (stride 2) of a
    3×3 convolution instead."""
    def down(channels):
        return pool() if pool is not None else nn.Conv2d(channels, channels, 3, stride=2, padding=1)
    features = nn.Sequential(nn.Conv2d(1, width, 3, padding=1), nn.ReLU(), down(width),
                             nn.Conv2d(width, width, 3, padding=1), nn.ReLU(), down(width), nn.Flatten())
    return features, nn.Sequential(features, nn.Linear(width * 9, classes))


def build_unpooled(width=WIDTH, classes=10):
    """The pooled net of ``build`` with its pooling layers taken out: conv3×3–ReLU, conv3×3–ReLU, Linear on the
    full 12×12 maps."""
    return nn.Sequential(nn.Conv2d(1, width, 3, padding=1), nn.ReLU(), nn.Conv2d(width, width, 3, padding=1),
                         nn.ReLU(), nn.Flatten(), nn.Linear(width * CANVAS * CANVAS, classes))


def digits_on_canvas(seed):
    train, test = get_dataset("digits").load(None, False, seed)
    return (canvas(train.data), np.asarray(train.targets)), (canvas(test.data), np.asarray(test.targets)), test.data


def train(pool, data, epochs, seed):
    """The trained (features, model) for ``pool`` (see ``build``)."""
    (x, y), _, _ = data
    manual_seed(seed)
    features, model = build(pool)
    loader = DataLoader(ArrayDataset(x, y), batch_size=BATCH, shuffle=True, drop_last=True, seed=seed)
    train_steps(model, SGD(model.parameters(), lr=LR, momentum=MOMENTUM), loader, epochs=epochs)
    model.eval()
    return features, model


def _predict(model, features, x):
    with no_grad():
        return np.argmax(model(tensor(x)).data, axis=1), features(tensor(x)).data


def shift_response(features, model, test_digits, y):
    """{shift: (accuracy on the test digits moved by that many pixels in the four directions, mean relative change
    of the features)}; shift 0 is the unshifted canvas."""
    _, base = _predict(model, features, canvas(test_digits))
    out = {}
    for s in (0, *SHIFTS):
        moves = [(0, 0)] if s == 0 else [(0, -s), (0, s), (-s, 0), (s, 0)]
        accs, changes = [], []
        for dy, dx in moves:
            predicted, f = _predict(model, features, canvas(test_digits, dy, dx))
            accs.append(float(np.mean(predicted == y)))
            changes.append(float(np.mean(np.linalg.norm(f - base, axis=1) / np.linalg.norm(base, axis=1).clip(1e-12))))
        out[s] = (float(np.mean(accs)), float(np.mean(changes)))
    return out


def computation(models, x, repeat):
    """{name: (MACs per image, parameters, median seconds of one forward + backward pass of the batch ``x``)}; the
    models take turns round by round after one warm-up round, so a change of the shared machine's load hits all
    alike."""
    y = tensor(np.zeros(len(x), dtype=np.int64))
    x = tensor(x)
    counted = {k: summary(m, (1, CANVAS, CANVAS)).totals for k, m in models.items()}
    times = {k: [] for k in models}
    for round_ in range(repeat + 1):
        for k, model in models.items():
            model.zero_grad()
            start = time.perf_counter()
            nn.functional.cross_entropy(model(x), y).backward()
            if round_:
                times[k].append(time.perf_counter() - start)
    return {k: (counted[k]["macs"], counted[k]["params"], statistics.median(times[k])) for k in models}


def _plot(responses, cost, path):
    from .plotting import figure, save

    fig, (ax1, ax2, ax3) = figure(1, 3, figsize=(16, 4.4))
    shifts = [0, *SHIFTS]
    for label, r in responses.items():
        ax1.plot(shifts, [r[s][0] for s in shifts], "o-", label=label)
        ax2.plot(shifts, [r[s][1] for s in shifts], "o-", label=label)
    ax1.set(xlabel="shift (pixels)", ylabel="test accuracy", ylim=(0, 1.02), title="accuracy on shifted test digits")
    ax2.set(xlabel="shift (pixels)", ylabel="‖f(shifted) − f(x)‖ / ‖f(x)‖", title="change of the features")
    for ax in (ax1, ax2):
        ax.set_xticks(shifts)
        ax.grid(alpha=0.3)
        ax.legend(fontsize="small", loc="lower left" if ax is ax1 else "upper left")
    names = list(cost)
    relative = np.array([[cost[k][0] / cost[POOLED][0], cost[k][2] / cost[POOLED][2]] for k in names])
    positions = np.arange(len(names))
    for i, (what, colour) in enumerate((("MACs per image", "tab:blue"), ("forward + backward time", "tab:orange"))):
        bars = ax3.barh(positions + (i - 0.5) * 0.38, relative[:, i], height=0.36, color=colour, label=what)
        ax3.bar_label(bars, fmt="%.1f×", padding=3, fontsize="small")
    ax3.set_yticks(positions, [n.replace(" (", "\n(").replace(", ", ",\n") for n in names], fontsize="small")
    ax3.invert_yaxis()
    ax3.set(xlabel="relative to the pooled net", xlim=(0, 1.2 * relative.max()),
            title="computation (pooled net = 1)")
    ax3.grid(alpha=0.3, axis="x")
    ax3.legend(fontsize="small", loc="upper right")
    save(fig, path)


def run(quick=False, seed=0, out="."):
    epochs, repeat = (3, 5) if quick else (10, 20)
    data = digits_on_canvas(seed)
    (x_train, _), (_, y_test), test_digits = data
    responses, models = {}, {}
    for label, pool in ((POOLED, lambda: nn.MaxPool2d(2)), (STRIDED, None)):
        features, models[label] = train(pool, data, epochs, seed)
        responses[label] = shift_response(features, models[label], test_digits, y_test)
    pooled, strided = responses.values()
    kept = {s: (pooled[s][0] - strided[s][0]) for s in SHIFTS}  # accuracy advantage of pooling at each shift
    steadier = {s: pooled[s][1] < strided[s][1] for s in SHIFTS}
    more_accurate = {s: kept[s] > 0 for s in SHIFTS}
    invariance = all(steadier.values()) and all(more_accurate.values())

    manual_seed(seed)
    models[UNPOOLED] = build_unpooled()
    cost = computation(models, x_train[:TIMING_BATCH], repeat)
    mac_saving = cost[UNPOOLED][0] / cost[POOLED][0]
    time_saving = cost[UNPOOLED][2] / cost[POOLED][2]
    saves = mac_saving > 1  # the computation counted; the time is reported beside it (it moves with the load)
    held = invariance and saves
    in_part = not held and (any(steadier.values()) or any(more_accurate.values()) or saves)

    _plot(responses, cost, os.path.join(out, "translation_invariance.png"))
    rows = [[s, pooled[s][0], strided[s][0], pooled[s][1], strided[s][1]] for s in (0, *SHIFTS)]
    verdict = ("test accuracy with pooling / without at shifts 0, 1, 2, 3 px: "
               + ", ".join(f"{pooled[s][0]:.2f}/{strided[s][0]:.2f}" for s in (0, *SHIFTS))
               + "; relative feature change: "
               + ", ".join(f"{pooled[s][1]:.2f}/{strided[s][1]:.2f}" for s in SHIFTS)
               + ". Pooling's features changed less at " + (", ".join(f"{s} px" for s in SHIFTS if steadier[s]) or "no shift")
               + " and it kept more accuracy at " + (", ".join(f"{s} px" for s in SHIFTS if more_accurate[s]) or "no shift")
               + "; neither net is invariant: both lose accuracy as the shift grows. Computation: the pooled net "
               + f"counts {cost[POOLED][0] / 1e3:.0f}K MACs per image against {cost[UNPOOLED][0] / 1e3:.0f}K for the "
               + f"same net without its pooling layers ({mac_saving:.1f}× fewer), and a forward + backward pass of "
               + f"{TIMING_BATCH} images took {1e3 * cost[POOLED][2]:.1f} ms against {1e3 * cost[UNPOOLED][2]:.1f} ms "
               + f"({time_saving:.1f}× faster, the max-pooling itself included)")
    return Result(
        name=NAME, note=NOTE, claim=CLAIM,
        setup=(f"the bundled 8×8 digits centred on a {CANVAS}×{CANVAS} canvas; two CNNs: conv3×3 {WIDTH}–ReLU, "
               f"downsample, conv3×3 {WIDTH}–ReLU, downsample, Linear on {WIDTH}×3×3 features, the downsampling 2×2 max "
               f"pooling or a stride-2 3×3 convolution; SGD lr {LR} momentum {MOMENTUM}, batch {BATCH}, {epochs} "
               f"epochs on unshifted images, seed {seed}; tested on the test digits moved 1–3 px left, right, up and "
               "down (means over the four directions); feature change = mean over test images of "
               "‖f(shifted) − f(x)‖ / ‖f(x)‖ of the flattened maps before the Linear layer. Computation: the pooled "
               f"net against the same net with its two pooling layers taken out (conv–ReLU–conv–ReLU–Linear on the "
               f"12×12 maps, all stride 1), the stride-2 net alongside; MACs per image of the convolutions and Linear "
               f"layers as chainrule.diagnostics.summary counts them (pooling's comparisons not counted); time = "
               f"median over {repeat} rounds of one forward + backward pass (cross-entropy) of the same {TIMING_BATCH} "
               f"training images, the nets taking turns, after a warm-up round"),
        numbers={"epochs": epochs,
                 "by_shift": [{"shift": s, "accuracy_pooling": pooled[s][0], "accuracy_no_pooling": strided[s][0],
                               "feature_change_pooling": pooled[s][1], "feature_change_no_pooling": strided[s][1]}
                              for s in (0, *SHIFTS)],
                 "computation": {k: {"macs": macs, "params": params, "forward_backward_seconds": seconds}
                                 for k, (macs, params, seconds) in cost.items()},
                 "mac_saving": mac_saving, "time_saving": time_saving, "timing_batch": TIMING_BATCH,
                 "parts": {"features_steadier": all(steadier.values()), "more_accuracy_kept": all(more_accurate.values()),
                           "less_computation": saves}},
        held=bool(held), in_part=bool(in_part), verdict=verdict,
        figures=["translation_invariance.png"],
        tables=[{"title": "shifted test digits", "columns": ["shift (px)", "accuracy, pooling", "accuracy, no pooling",
                                                             "feature change, pooling", "feature change, no pooling"],
                 "rows": rows},
                {"title": f"computation (forward + backward of {TIMING_BATCH} images)",
                 "columns": ["net", "MACs per image", "parameters", "forward + backward (ms)"],
                 "rows": [[k, macs, params, 1e3 * seconds] for k, (macs, params, seconds) in cost.items()]}],
    )
