"""Note 003: InstanceNorm for generation — each image normalized by its own statistics, not the batch's.

BatchNorm normalizes each channel with statistics over (N, H, W): in training, one image's output depends on the
other images of its batch. InstanceNorm normalizes each (image, channel) over (H, W) only, so each image stands alone;
the notes prescribe it for generative and style models, where the output is one particular image [note 003 §9–§10].
Normalizing by the image's own mean and standard deviation also removes that image's contrast and brightness: after
the first convolution (with reflection padding, so a constant shift stays constant at the borders), a·x + b and x
give the same normalized features for every a > 0 and b.

Measured on a small image-to-image network (a convolutional encoder–decoder, 8×8 → 4×4 → 8×8) on the bundled 8×8
digits, with no normalization, BatchNorm2d or InstanceNorm2d(affine=True) after every convolution but the last. The
task: restore a digit from a noisy copy whose contrast and brightness were changed at random, a·(x + σε) + b →
x. (a) The largest change of one image's output when the 31 other images of its batch (train mode) are replaced.
(b) The change of the trained nets' outputs (eval mode) when a test input's contrast and brightness are changed once
more. (c) Test MSE after training at batch sizes 32 and 1 (BatchNorm then uses its running statistics at test
time, as deployed). As a control, the same nets on plain denoising (a = 1, b = 0), where there is no contrast or
brightness to remove.
"""
import os

import numpy as np

from .. import manual_seed, nn, no_grad, tensor
from ..optim import Adam
from ..runtime import num_threads
from .base import Result
from .common import digits_split

NAME = "instance-norm-generation"
NOTE = "003"
CLAIM = ("InstanceNorm suits image generation and style tasks because each image is normalized by its own statistics: "
         "its output does not depend on the other images of the batch (BatchNorm's does), it is invariant to each "
         "image's contrast and brightness, and an image-to-image network with it reconstructs at least as well as "
         "with BatchNorm at batch sizes 32 and 1")

NORMS = ("none", "BatchNorm", "InstanceNorm")
WIDTH, LR, NOISE = 8, 3e-3, 0.2
CONTRAST, BRIGHTNESS = (0.3, 2.0), (-1.0, 1.0)  # a log-uniform on the first, b uniform on the second
TASKS = {"restore": "contrast and brightness changed at random, plus noise", "denoise": "noise only (a = 1, b = 0)"}
BATCHES = (32, 1)
INDEPENDENT = 1e-5  # largest output change (pixels in [0, 1]) that still counts as "does not depend"
# invariant: no pixel of any test image moves by more than 1% of the pixel range under a new contrast and brightness
# (IN's residue is ε's: a·c/√(a²σ² + ε) is not c/√(σ² + ε) where a channel is nearly flat)
INVARIANT = 1e-2
MARGIN = 1.05  # "at least as well": IN's test MSE at most 5% above BN's


def _norm(kind, channels):
    if kind == "none":
        return nn.Identity()
    if kind == "BatchNorm":
        return nn.BatchNorm2d(channels)
    if kind == "InstanceNorm":
        return nn.InstanceNorm2d(channels, affine=True)
    raise ValueError(f"instance-norm-generation: unknown norm {kind!r}")


def build(kind, width=WIDTH):
    """(N, 1, 8, 8) → (N, 1, 8, 8) in [0, 1]: conv–norm–ReLU at 8×8, a stride-2 one to 4×4, one at 4×4, nearest
    upsampling, conv–norm–ReLU at 8×8, a last conv and a sigmoid. The first conv pads by reflection (a constant
    image stays constant at the borders); the convs before a norm have no bias (β plays its part)."""
    def block(cin, cout, stride=1, reflect=False):
        pad = [nn.ReflectionPad2d(1)] if reflect else []
        return pad + [nn.Conv2d(cin, cout, 3, stride=stride, padding=0 if reflect else 1, bias=kind == "none"),
                      _norm(kind, cout), nn.ReLU()]
    return nn.Sequential(*block(1, width, reflect=True), *block(width, 2 * width, stride=2),
                         *block(2 * width, 2 * width), nn.Upsample(scale_factor=2), *block(2 * width, width),
                         nn.Conv2d(width, 1, 3, padding=1), nn.Sigmoid())


def corrupt(x, task, rng):
    """a·(x + σε) + b per image (x in [0, 1], shape (N, 1, 8, 8)); for "denoise" a = 1, b = 0."""
    noisy = x + NOISE * rng.standard_normal(x.shape)
    if task == "denoise":
        return noisy.astype(np.float32)
    a = np.exp(rng.uniform(*np.log(CONTRAST), (len(x), 1, 1, 1)))
    b = rng.uniform(*BRIGHTNESS, (len(x), 1, 1, 1))
    return (a * noisy + b).astype(np.float32)


def outputs(model, x):
    """The model's outputs (eval mode, no graph) for an array x."""
    model.eval()
    with no_grad():
        y = model(tensor(x)).data
    model.train()
    return y


def train(kind, task, batch, steps, x, seed):
    """Adam (lr LR) on the mean squared error for ``steps`` steps of ``batch`` images (fresh corruptions each step);
    returns (model, [loss per step])."""
    manual_seed(seed)
    model = build(kind)
    optimizer = Adam(model.parameters(), lr=LR)
    rng = np.random.default_rng(seed)
    losses = []
    for _ in range(steps):
        clean = x[rng.integers(0, len(x), batch)]
        loss = nn.functional.mse_loss(model(tensor(corrupt(clean, task, rng))), tensor(clean))
        losses.append(float(loss.data))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return model, losses


def batch_dependence(model, inputs, probes, rng, batch=32):
    """The largest change (over ``probes`` test images and their pixels) of one image's output in train mode when
    its ``batch - 1`` companions are replaced by others; the running statistics are left as they were."""
    saved = {k: v.data.copy() for k, v in model.state_dict().items()}
    model.train()
    worst = 0.0
    with no_grad():
        for i in range(probes):
            others = np.delete(np.arange(len(inputs)), i)
            first, second = (rng.choice(others, batch - 1, replace=False) for _ in range(2))
            y1 = model(tensor(inputs[np.r_[i, first]])).data[0]
            y2 = model(tensor(inputs[np.r_[i, second]])).data[0]
            worst = max(worst, float(np.max(np.abs(y1 - y2))))
    model.load_state_dict(saved)
    return worst


def contrast_change(model, inputs, rng):
    """(mean, max) over the test images of the largest pixel change of the output (eval mode) when each input is
    changed once more to a·input + b (a log-uniform on CONTRAST, b uniform on BRIGHTNESS)."""
    a = np.exp(rng.uniform(*np.log(CONTRAST), (len(inputs), 1, 1, 1)))
    b = rng.uniform(*BRIGHTNESS, (len(inputs), 1, 1, 1))
    change = np.abs(outputs(model, (a * inputs + b).astype(np.float32)) - outputs(model, inputs))
    per_image = change.reshape(len(inputs), -1).max(axis=1)
    return float(per_image.mean()), float(per_image.max())


def _floor(v):
    return max(v, 1e-9)


def _plot(runs, tasks, batches, dependence, invariance, path):
    from .plotting import figure, legend, save

    fig, (ax1, ax2, ax3) = figure(1, 3, figsize=(16, 4.6), gridspec_kw={"width_ratios": [3, 2, 2]})
    groups = [(task, b) for task in tasks for b in batches]
    width, top = 0.8 / len(NORMS), max(r["test_mse"] for r in runs.values())
    for i, kind in enumerate(NORMS):
        values = [runs[(kind, task, b)]["test_mse"] for task, b in groups]
        xs = np.arange(len(groups)) + (i - (len(NORMS) - 1) / 2) * width
        ax1.bar(xs, values, width=width, color=f"C{i}", label=kind)
        for xv, v in zip(xs, values):
            ax1.text(xv, v + 0.01 * top, f"{v:.3g}", ha="center", va="bottom", fontsize=7, rotation=90)
    ax1.set_xticks(range(len(groups)), [f"{task}\nbatch {b}" for task, b in groups], fontsize=9)
    ax1.set(ylabel="test MSE (pixels in [0, 1])", title="reconstruction: test MSE (eval mode)",
            ylim=(0, 1.2 * top))
    legend(ax1, "upper left")
    for ax, values, title, ylabel in (
            (ax2, dependence, "(a) one image's output when the other\n31 of its batch change (train mode)",
             "largest pixel change"),
            (ax3, invariance, "(b) output change when the input's\ncontrast and brightness change (eval mode)",
             "largest pixel change, mean over test images")):
        bars = ax.bar(range(len(NORMS)), [_floor(values[k]) for k in NORMS], color=[f"C{i}" for i in range(len(NORMS))])
        for bar, k in zip(bars, NORMS):
            ax.text(bar.get_x() + bar.get_width() / 2, _floor(values[k]) * 1.6,
                    "0 (exactly)" if values[k] == 0 else f"{values[k]:.2g}", ha="center", va="bottom", fontsize=8)
        ax.set_xticks(range(len(NORMS)), NORMS, fontsize=9)
        ax.set(yscale="log", ylim=(1e-9, 30), ylabel=ylabel, title=title)
        ax.grid(alpha=0.3, axis="y")
    save(fig, path)


def _plot_examples(examples, path, count=6):
    from .plotting import figure, save

    rows = list(examples)
    fig, axes = figure(len(rows), count, figsize=(1.3 * count + 1.6, 1.3 * len(rows)))
    for r, label in enumerate(rows):
        for c in range(count):
            ax = axes[r, c]
            scale = {} if label == "input" else {"vmin": 0, "vmax": 1}
            ax.imshow(examples[label][c, 0], cmap="gray_r", **scale)
            ax.set_xticks([])
            ax.set_yticks([])
        axes[r, 0].set_ylabel(label, rotation=0, ha="right", va="center", fontsize=9)
    fig.suptitle("restoring test digits of random contrast and brightness\n(the inputs on their own grey scale, the "
                 "rest on [0, 1]; rows: the norm and the training batch)", fontsize=10)
    save(fig, path)


def run(quick=False, seed=0, out="."):
    if quick:
        steps, tasks, probes, test_count = {32: 40, 1: 100}, ("restore",), 4, 64
    else:
        steps, tasks, probes, test_count = {32: 600, 1: 1500}, tuple(TASKS), 16, None
    x, _, x_test, _ = digits_split(seed)
    x = (x / 16).reshape(-1, 1, 8, 8).astype(np.float32)  # pixel counts 0..16 → [0, 1]
    x_test = (x_test / 16).reshape(-1, 1, 8, 8).astype(np.float32)[:test_count]
    test_inputs = {task: corrupt(x_test, task, np.random.default_rng(seed + 1000)) for task in tasks}
    runs, models = {}, {}
    with num_threads(1):  # small arrays: one BLAS thread is faster
        for task in tasks:
            for batch in BATCHES:
                for kind in NORMS:
                    model, losses = train(kind, task, batch, steps[batch], x, seed)
                    y = outputs(model, test_inputs[task])
                    runs[(kind, task, batch)] = {"test_mse": float(np.mean((y - x_test) ** 2)),
                                                 "train_loss": float(np.mean(losses[-max(1, steps[batch] // 10):]))}
                    models[(kind, task, batch)] = model
        dependence = {k: batch_dependence(models[(k, "restore", 32)], test_inputs["restore"], probes,
                                          np.random.default_rng(seed + 1)) for k in NORMS}
        change = {k: contrast_change(models[(k, "restore", 32)], test_inputs["restore"],
                                     np.random.default_rng(seed + 2)) for k in NORMS}
        examples = {"clean": x_test[:6], "input": test_inputs["restore"][:6]}
        examples.update({f"{k}, batch {b}": outputs(models[(k, "restore", b)], test_inputs["restore"][:6])
                         for b in BATCHES for k in NORMS if k != "none" or b == 32})
    invariance = {k: v[0] for k, v in change.items()}

    def mse(kind, task, batch):
        return runs[(kind, task, batch)]["test_mse"]

    parts = {"(a) IN: an image's output does not depend on its batch": dependence["InstanceNorm"] <= INDEPENDENT,
             "(a) BN: an image's output depends on its batch": dependence["BatchNorm"] > 100 * INDEPENDENT,
             "(b) IN: invariant to the input's contrast and brightness": change["InstanceNorm"][1] <= INVARIANT,
             "(b) BN: not invariant to them": invariance["BatchNorm"] > INVARIANT}
    for batch in BATCHES:
        parts[f"(c) IN at least as good as BN at batch {batch}"] = (
            mse("InstanceNorm", "restore", batch) <= MARGIN * mse("BatchNorm", "restore", batch))
    held = all(parts.values())
    in_part = not held and any(parts.values())

    _plot(runs, tasks, BATCHES, dependence, invariance, os.path.join(out, "instance_norm_generation.png"))
    _plot_examples(examples, os.path.join(out, "instance_norm_examples.png"))
    failed = [k for k, v in parts.items() if not v]
    control = ("; the control, plain denoising, test MSE " + ", ".join(
        f"batch {b}: " + " / ".join(f"{mse(k, 'denoise', b):.4f}" for k in NORMS) for b in BATCHES)
        if "denoise" in tasks else "")
    behind = [b for b in BATCHES
              if "denoise" in tasks and mse("InstanceNorm", "denoise", b) > mse("BatchNorm", "denoise", b)]
    if behind:  # IN's edge is the contrast and brightness it removes: without them BN may do better
        control += (" — without a contrast or brightness to remove, IN was behind BN at batch "
                    + " and ".join(map(str, behind)))
    verdict = (f"(a) largest change of one image's output when its 31 batch companions change (train mode): none "
               f"{dependence['none']:.2g}, BN {dependence['BatchNorm']:.2g}, IN {dependence['InstanceNorm']:.2g}; "
               f"(b) output change when the input's contrast and brightness change again (eval mode, mean of the "
               f"per-image largest pixel change): none {invariance['none']:.3g}, BN {invariance['BatchNorm']:.3g}, "
               f"IN {invariance['InstanceNorm']:.2g} (its largest {change['InstanceNorm'][1]:.2g}); (c) test MSE "
               f"restoring digits of random contrast and brightness, none / BN / IN: "
               + ", ".join(f"batch {b}: " + " / ".join(f"{mse(k, 'restore', b):.4f}" for k in NORMS) for b in BATCHES)
               + control + (". Did not hold: " + "; ".join(failed) if failed else "") + ".")
    table_rows = [[task, b, k, runs[(k, task, b)]["train_loss"], runs[(k, task, b)]["test_mse"]]
                  for task in tasks for b in BATCHES for k in NORMS]
    return Result(
        name=NAME, note=NOTE, claim=CLAIM,
        setup=(f"the bundled 8×8 digits (pixels /16, in [0, 1]), stratified 75/25 split (seed {seed})"
               + (f", the first {test_count} test images" if test_count else "")
               + f"; encoder–decoder: reflection pad + conv3×3(1→{WIDTH}), conv3×3 stride 2 (→{2 * WIDTH}, 4×4), "
               f"conv3×3, nearest upsampling, conv3×3(→{WIDTH}), each followed by the norm (none, BatchNorm2d, "
               f"InstanceNorm2d(affine=True)) and ReLU, then conv3×3(→1) and a sigmoid; inputs a·(x + {NOISE:g}ε) + b, "
               f"a log-uniform on {CONTRAST}, b uniform on {BRIGHTNESS}, fresh each step (restore) or a = 1, b = 0 "
               f"(denoise); Adam lr {LR:g}, MSE, " + ", ".join(f"{steps[b]} steps at batch {b}" for b in BATCHES)
               + f"; seed {seed}; test MSE in eval mode (BN on its running statistics); (a) over {probes} test images "
               f"and two random sets of 31 companions each, nets trained at batch 32; (b) every test input changed "
               f"once more by a new a, b; independent: change ≤ {INDEPENDENT:g}; invariant: largest change ≤ "
               f"{INVARIANT:g} (not invariant: the mean of the per-image largest change above it); at least as good: "
               f"IN's MSE ≤ {MARGIN:g} × BN's"),
        numbers={"steps": {f"batch {b}": steps[b] for b in BATCHES},
                 "runs": [{"task": task, "batch": b, "norm": k, **runs[(k, task, b)]}
                          for task in tasks for b in BATCHES for k in NORMS],
                 "batch_dependence": dependence,
                 "contrast_change": {k: {"mean": v[0], "max": v[1]} for k, v in change.items()},
                 "parts": parts},
        held=bool(held), in_part=bool(in_part), verdict=verdict,
        figures=["instance_norm_generation.png", "instance_norm_examples.png"],
        tables=[{"title": "image-to-image training: loss over the last tenth of the steps and test MSE",
                 "columns": ["task", "batch", "norm", "training MSE", "test MSE"], "rows": table_rows},
                {"title": "each image alone: (a) batch dependence (train mode), (b) contrast and brightness "
                          "(eval mode)",
                 "columns": ["norm", "(a) largest change when the batch changes",
                             "(b) mean largest change", "(b) largest change"],
                 "rows": [[k, dependence[k], change[k][0], change[k][1]] for k in NORMS]},
                {"title": "the claim, part by part", "columns": ["part", "held"],
                 "rows": [[k, v] for k, v in parts.items()]}],
    )
