"""Notes 000, 003: the arithmetic of convolution — output sizes and receptive fields.

A window of size F slid with stride S over a length W padded by P on each side fits
N = ⌊(W − F + 2P)/S⌋ + 1 times [note 003]. The three padding modes of note 000: **valid** (P = 0, the
output shrinks), **same** (TensorFlow's SAME: pad so that N = ⌈W/S⌉ — the size is kept at stride 1),
**full** (P = F − 1, every partial overlap, the output grows). The notes' example: 128×128, 3×3,
stride 2, SAME → 64×64. Pooling in Caffe rounds up (⌈…⌉, PyTorch's ``ceil_mode=True``).

The receptive field grows as r_n = r_{n−1} + (k_n − 1)·Π_{i<n} s_i [note 003]: by 2 per 3×3 layer at
stride 1 (linear in depth), by twice as much after every stride-2 layer (geometric). Here each formula
is checked against what a chainrule layer actually does: the output shape of a real ``nn.Conv2d`` /
``nn.MaxPool2d`` forward, and the receptive field as the support of the input gradient of one output
pixel (all-ones weights, so no contribution can cancel).
"""
import itertools
import math
import os

import numpy as np

from .. import nn, tensor
from ..diagnostics import summary
from .base import Result

NAME = "conv-arithmetic"
NOTE = "000, 003"
CLAIM = ("a convolution's output size is N = ⌊(W − F + 2P)/S⌋ + 1: valid padding shrinks the map, same keeps "
         "⌈W/S⌉ (128×128, 3×3, stride 2, SAME → 64×64), full grows it; the receptive field grows as "
         "r_n = r_{n−1} + (k_n − 1)·Π s_i — linearly with depth at stride 1, geometrically once stride-2 layers "
         "multiply")


def formula_size(w, f, s, mode):
    """The notes' N = ⌊(W − F + 2P)/S⌋ + 1 with P of each mode, written out independently of the library."""
    if mode == "same":
        return -(-w // s)  # SAME: ⌈W/S⌉ by definition; the padding is whatever achieves it
    p = {"valid": 0, "full": f - 1}[mode]
    return (w - f + 2 * p) // s + 1


def measured_size(w, f, s, mode):
    """Spatial output size of an actual chainrule Conv2d forward on a (1, 1, W, W) input."""
    conv = nn.Conv2d(1, 1, f, stride=s, padding=mode, bias=False, dtype=np.float64)
    out = conv(tensor(np.zeros((1, 1, w, w))))
    return int(out.shape[2]) if out.shape[2] == out.shape[3] else -1  # a square input must give a square output


def pooled_size(w, f, s, ceil_mode):
    pool = nn.MaxPool2d(f, stride=s, ceil_mode=ceil_mode)
    return int(pool(tensor(np.zeros((1, 1, w, w)))).shape[2])


def stack(depth, strided):
    """``depth`` 3×3 convs (1 channel, no padding, all-ones weights); with ``strided`` every second has stride 2."""
    layers = []
    for i in range(depth):
        conv = nn.Conv2d(1, 1, 3, stride=2 if strided and i % 2 == 1 else 1, bias=False, dtype=np.float64)
        nn.init.ones_(conv.weight)
        layers.append(conv)
    return nn.Sequential(*layers)


def hand_receptive_field(depth, strided):
    """r_n = r_{n−1} + (k − 1)·Π_{i<n} s_i with k = 3, computed by hand (the notes' recursion)."""
    r, jump = 1, 1
    for i in range(depth):
        r += 2 * jump
        jump *= 2 if strided and i % 2 == 1 else 1
    return r


def empirical_receptive_field(model, size):
    """Width of the input region that output pixel (0, 0) depends on: the extent of the nonzero input gradient."""
    x = tensor(np.zeros((1, 1, size, size)), requires_grad=True)
    out = model(x)
    out[:, :, 0:1, 0:1].sum().backward()
    rows = np.flatnonzero(np.abs(x.grad.data[0, 0]).sum(axis=1))
    cols = np.flatnonzero(np.abs(x.grad.data[0, 0]).sum(axis=0))
    return int(rows[-1] - rows[0] + 1), int(cols[-1] - cols[0] + 1)


def _plot_sizes(sizes, path):
    from .plotting import figure, save

    fig, ax = figure(figsize=(6, 4))
    w = np.arange(1, 41)
    for mode, style in (("valid", "-"), ("same", "--"), ("full", ":")):
        for s, color in ((1, "C0"), (2, "C1")):
            n = [formula_size(int(v), 3, s, mode) if formula_size(int(v), 3, s, mode) > 0 else np.nan for v in w]
            ax.plot(w, n, style, color=color, label=f"{mode}, stride {s}")
    pts = [(c["W"], c["measured"]) for c in sizes if c["F"] == 3 and c["W"] <= 40 and c["S"] in (1, 2)]
    if pts:
        ax.plot(*zip(*pts), "k.", label="measured (Conv2d forward)")
    ax.plot(w, w, color="0.8", lw=0.8, zorder=0, label="N = W")
    ax.set_xlabel("input size W")
    ax.set_ylabel("output size N")
    ax.set_title("3×3 convolution: N = ⌊(W − F + 2P)/S⌋ + 1", fontsize=10)
    ax.legend(fontsize=7)
    save(fig, path)


def _plot_fields(depths, fields, path):
    from .plotting import figure, layer_ticks, save

    fig, ax = figure(figsize=(6, 4))
    for key, label, color in (("stride1", "3×3, stride 1", "C0"), ("stride2", "3×3, every 2nd layer stride 2", "C3")):
        ax.plot(depths, fields[key]["formula"], "-", color=color, label=f"{label}: formula")
        ax.plot(depths, fields[key]["measured"], "o", mfc="none", color=color, label=f"{label}: gradient support")
    ax.set_xlabel("depth (number of conv layers)")
    ax.set_ylabel("receptive field r (pixels)")
    ax.set_title("receptive-field growth: r_n = r_{n−1} + (k − 1)·Π s_i", fontsize=10)
    layer_ticks(ax)
    ax.legend(fontsize=8)
    save(fig, path)


def run(quick=False, seed=0, out="."):
    del seed  # nothing random: shapes and gradient supports are exact
    widths = (5, 7, 28, 32, 128) if quick else (5, 6, 7, 13, 28, 32, 33, 64, 128, 224)
    kernels = (1, 3, 5) if quick else (1, 2, 3, 5, 7)
    strides = (1, 2) if quick else (1, 2, 3)
    sizes = []
    for w, f, s, mode in itertools.product(widths, kernels, strides, ("valid", "same", "full")):
        expected = formula_size(w, f, s, mode)
        if expected < 1:
            continue
        sizes.append({"W": w, "F": f, "S": s, "mode": mode, "formula": expected,
                      "library": nn.conv_output_size(w, f, s, mode), "measured": measured_size(w, f, s, mode)})
    size_mismatches = [c for c in sizes if not c["formula"] == c["library"] == c["measured"]]
    shrink = all(c["measured"] < c["W"] for c in sizes if c["mode"] == "valid" and c["S"] == 1 and c["F"] > 1)
    keep = all(c["measured"] == c["W"] for c in sizes if c["mode"] == "same" and c["S"] == 1)
    grow = all(c["measured"] > c["W"] for c in sizes if c["mode"] == "full" and c["S"] == 1 and c["F"] > 1)

    example = measured_size(128, 3, 2, "same")
    example_pad = nn.same_padding(128, 3, 2)

    # pooling: floor (PyTorch's default) vs ceil (Caffe, the notes' rule) — GoogLeNet's 112 → 56 relies on ceil
    pool_cases = [(112, 3, 2), (6, 3, 2), (55, 3, 2), (13, 3, 2), (7, 2, 2)]
    pooling = []
    for w, f, s in pool_cases:
        pooling.append({"W": w, "F": f, "S": s,
                        "floor_formula": (w - f) // s + 1, "ceil_formula": math.ceil((w - f) / s) + 1,
                        "floor_measured": pooled_size(w, f, s, False), "ceil_measured": pooled_size(w, f, s, True)})
    pooling_ok = all(p["floor_formula"] == p["floor_measured"] and p["ceil_formula"] == p["ceil_measured"]
                     for p in pooling)

    max_depth = 8 if quick else 12
    depths = list(range(1, max_depth + 1))
    fields = {}
    for key, strided in (("stride1", False), ("stride2", True)):
        size = hand_receptive_field(max_depth, strided) + 16  # room beyond the largest field: no truncation
        formula, library, traced, measured = [], [], [], []
        for d in depths:
            model = stack(d, strided)
            formula.append(hand_receptive_field(d, strided))
            library.append(nn.receptive_field(model)[0])
            traced.append(summary(model, (1, size, size), dtype=np.float64).rows[-1]["receptive_field"])
            rows, cols = empirical_receptive_field(model, size)
            measured.append(rows if rows == cols else -1)
        fields[key] = {"formula": formula, "library": library, "summary": traced, "measured": measured}
    fields_ok = all(f["formula"] == f["library"] == f["summary"] == f["measured"] for f in fields.values())
    linear = fields["stride1"]["measured"] == [2 * d + 1 for d in depths]
    deepest = {k: v["measured"][-1] for k, v in fields.items()}

    held = (not size_mismatches and shrink and keep and grow and example == 64 and pooling_ok and fields_ok and linear
            and deepest["stride2"] > deepest["stride1"])

    _plot_sizes(sizes, os.path.join(out, "conv_arithmetic_sizes.png"))
    _plot_fields(depths, fields, os.path.join(out, "conv_arithmetic_receptive_field.png"))

    if held:
        verdict = (f"all {len(sizes)} (W, F, S, mode) cases gave the same output size by the formula, by "
                   "nn.conv_output_size and by a real Conv2d forward (valid shrinks, same keeps W at stride 1, full "
                   f"grows); 128×128, 3×3, stride 2, SAME → {example}×{example} (padding {example_pad}); pooling "
                   f"floors by default and ceils with ceil_mode as the formula says (112, 3, 2 → "
                   f"{pooling[0]['floor_measured']} / {pooling[0]['ceil_measured']}). The receptive field measured as "
                   f"the input-gradient support matched the recursion at every depth: after {max_depth} layers "
                   f"r = {deepest['stride1']} at stride 1 (2d + 1) vs {deepest['stride2']} with every second layer at "
                   "stride 2")
    else:
        bad = size_mismatches[:3]
        verdict = (f"output sizes: {len(size_mismatches)} of {len(sizes)} cases disagree (first: {bad}); "
                   f"128×128/3×3/stride 2/SAME gave {example}; pooling checks {'pass' if pooling_ok else 'fail'}; "
                   f"receptive fields formula/library/summary/measured: {fields}")

    rows = [[c["W"], c["F"], c["S"], c["mode"], c["formula"], c["measured"]]
            for c in sizes if c["W"] in (7, 128) and c["F"] in (3, 5)]
    return Result(
        name=NAME, note=NOTE, claim=CLAIM,
        setup=(f"output sizes: every combination of W ∈ {widths}, F ∈ {kernels}, S ∈ {strides} and padding "
               f"valid/same/full with a non-empty output ({len(sizes)} cases), each computed three ways — the notes' "
               "formula written out here, nn.conv_output_size, and the shape of an actual nn.Conv2d(1, 1, F, "
               f"stride=S, padding=mode) forward; pooling floor vs ceil on {len(pool_cases)} cases with nn.MaxPool2d; "
               f"receptive fields of stacks of 1…{max_depth} unpadded 3×3 convs (all stride 1, or stride 2 at every "
               "second layer) by the recursion, nn.receptive_field, diagnostics.summary and the support of the input "
               "gradient of output pixel (0, 0) with all-ones weights"),
        numbers={
            "cases": len(sizes), "size_mismatches": len(size_mismatches),
            "valid_shrinks": shrink, "same_keeps_at_stride_1": keep, "full_grows": grow,
            "notes_example_128_3x3_s2_same": example, "notes_example_padding": list(example_pad),
            "pooling": pooling, "pooling_ok": pooling_ok,
            "depths": depths, "receptive_field": fields, "receptive_fields_agree": fields_ok,
            "stride1_is_2d_plus_1": linear,
        },
        held=bool(held),
        verdict=verdict,
        figures=["conv_arithmetic_sizes.png", "conv_arithmetic_receptive_field.png"],
        tables=[
            {"title": "output size N for W ∈ {7, 128}, F ∈ {3, 5} (formula vs actual Conv2d)",
             "columns": ["W", "F", "S", "padding", "formula", "Conv2d output"], "rows": rows},
            {"title": "pooling: floor (default) vs ceil (Caffe / ceil_mode=True)",
             "columns": ["W", "F", "S", "⌊⌋ formula", "⌊⌋ MaxPool2d", "⌈⌉ formula", "⌈⌉ MaxPool2d"],
             "rows": [[p["W"], p["F"], p["S"], p["floor_formula"], p["floor_measured"], p["ceil_formula"],
                       p["ceil_measured"]] for p in pooling]},
            {"title": "receptive field r by depth (measured: input-gradient support)",
             "columns": ["depth", "stride 1: formula", "stride 1: measured", "stride 2: formula", "stride 2: measured"],
             "rows": [[d, fields["stride1"]["formula"][i], fields["stride1"]["measured"][i],
                       fields["stride2"]["formula"][i], fields["stride2"]["measured"][i]]
                      for i, d in enumerate(depths)]},
        ],
    )
