"""Notes 001, 003: what the classic architectures cost — parameters, MACs, receptive fields.

Note 003 asks for the parameter count and time complexity of a CNN; note 001 explains the design moves
of the classic nets: VGG stacks 3×3 convs because two of them see the 5×5 field of one 5×5 conv with
2·9C² weights instead of 25C² (three see 7×7 with 27C² instead of 49C²); GoogLeNet's Inception block puts
1×1 convs in front of its 3×3 and 5×5 branches to cut channels first; NiN, GoogLeNet (and after them
ResNet, DenseNet) replace the big fully connected head of AlexNet/VGG with global average pooling.
Every figure here comes from ``chainrule.diagnostics.summary`` — one traced forward pass of the real
chainrule modules — not from hand formulas; the hand formulas are only what the figures are compared to.
"""
import math
import os
import statistics
import time

import numpy as np

from .. import cat, models, nn, no_grad, tensor
from ..diagnostics import summary
from .base import Result

NAME = "architectures"
NOTE = "001, 003"
CLAIM = ("two stacked 3×3 convolutions see the same 5×5 receptive field as one 5×5 with 2·9C² instead of 25C² "
         "weights; 1×1 reductions cut an Inception block's parameters and MACs several-fold; global average "
         "pooling heads (NiN, GoogLeNet, ResNet, DenseNet) hold a small share of the parameters where the fully "
         "connected heads of LeNet, AlexNet and VGG hold most of them")

FC_HEAD = ("lenet5", "alexnet", "vgg16")
LABELS = {"lenet5": "LeNet-5", "alexnet": "AlexNet", "vgg16": "VGG-16", "nin": "NiN", "googlenet": "GoogLeNet",
          "resnet18": "ResNet-18", "resnet50": "ResNet-50", "densenet121": "DenseNet-121"}


def _input_size(name, quick):
    if name == "lenet5":
        return (1, 28, 28)  # the classic LeNet-5 takes 28×28 (padded first conv)
    if name == "nin":
        return (3, 32, 32)  # the paper's CIFAR-10 model
    if quick:
        return (3, 63, 63) if name == "alexnet" else (3, 32, 32)  # the smallest inputs the nets accept
    return (3, 224, 224)


def zoo_row(name, quick):
    kwargs = {"aux_logits": False} if name == "googlenet" else {}  # the 6.6M-parameter figure excludes the aux heads
    model = models.get_model(name, **kwargs)
    size = _input_size(name, quick)
    start = time.perf_counter()
    s = summary(model, size)
    seconds = time.perf_counter() - start
    fc = sum(r["params"] + r["frozen_params"] for r in s.rows if r["type"] == "Linear")
    convs = [r for r in s.rows if r["type"] == "Conv2d"]
    return {"model": LABELS[name], "fc_head": name in FC_HEAD, "input": "×".join(map(str, size)),
            "params": s.totals["params"], "fc_params": fc, "fc_share": fc / s.totals["params"],
            "macs": s.totals["macs"], "conv_layers": len(convs),
            "receptive_field": max(r["receptive_field"] for r in convs), "forward_seconds": seconds}


def _stats(module, input_size):
    s = summary(module, input_size, dtype=np.float64)
    convs = [r for r in s.rows if r["type"] == "Conv2d"]
    return {"params": s.totals["params"], "macs": s.totals["macs"], "output": s.rows[-1]["output_shape"],
            "receptive_field": max(r["receptive_field"] for r in convs)}


def stacked_vs_single(channels, size, n_small):
    """``n_small`` 3×3 convs (ReLU between) vs one (2·n_small + 1)² conv: C → C channels, no bias, 'same' padding."""
    big = 2 * n_small + 1
    layers = []
    for i in range(n_small):
        layers += [nn.Conv2d(channels, channels, 3, padding=1, bias=False, dtype=np.float64)]
        layers += [nn.ReLU()] if i < n_small - 1 else []
    stacked = _stats(nn.Sequential(*layers), (channels, size, size))
    single = _stats(nn.Sequential(nn.Conv2d(channels, channels, big, padding=big // 2, bias=False, dtype=np.float64)),
                    (channels, size, size))
    return {"kernel": big, "stacked": stacked, "single": single, "formula_stacked": n_small * 9 * channels**2,
                "formula_single": big * big * channels**2, "param_ratio": stacked["params"] / single["params"]}


class InceptionBlock(nn.Module):
    """Inception (GoogLeNet 3a's widths) with a true 5×5 branch; ``reduce=False`` is the paper's naive version
    (no 1×1 reductions, the pooled input passed on with all its channels)."""

    def __init__(self, c_in=192, c1=64, c3red=96, c3=128, c5red=16, c5=32, pool_proj=32, reduce=True):
        super().__init__()
        conv = lambda i, o, k: nn.Conv2d(i, o, k, padding=k // 2, bias=False, dtype=np.float64)
        self.branch1 = conv(c_in, c1, 1)
        if reduce:
            self.branch3 = nn.Sequential(conv(c_in, c3red, 1), nn.ReLU(), conv(c3red, c3, 3))
            self.branch5 = nn.Sequential(conv(c_in, c5red, 1), nn.ReLU(), conv(c5red, c5, 5))
            self.branch_pool = nn.Sequential(nn.MaxPool2d(3, stride=1, padding=1), conv(c_in, pool_proj, 1))
        else:
            self.branch3 = conv(c_in, c3, 3)
            self.branch5 = conv(c_in, c5, 5)
            self.branch_pool = nn.MaxPool2d(3, stride=1, padding=1)

    def forward(self, x):
        return cat([self.branch1(x), self.branch3(x), self.branch5(x), self.branch_pool(x)], 1)


def _forward_seconds(blocks, input_size, repeat, gen):
    """Median batch-1 forward time of each block, the blocks alternating round by round (the machine is shared:
    a change of load then hits all alike), after one warm-up round; also each block's output shape."""
    x = tensor(gen.standard_normal((1,) + input_size))
    times, shapes = {k: [] for k in blocks}, {}
    with no_grad():
        for k, block in blocks.items():
            shapes[k] = list(block(x).shape[1:])
        for _ in range(repeat):
            for k, block in blocks.items():
                start = time.perf_counter()
                block(x)
                times[k].append(time.perf_counter() - start)
    return {k: statistics.median(v) for k, v in times.items()}, shapes


def _plot(zoo, stacks, inception, path):
    from matplotlib.patches import Patch

    from .plotting import figure, save

    fig, axes = figure(1, 3, figsize=(15, 4.4))
    ax = axes[0]
    names = [r["model"] for r in zoo]
    share = [100 * r["fc_share"] for r in zoo]
    colors = ["C3" if r["fc_head"] else "C0" for r in zoo]
    ax.bar(names, share, color=colors)
    for i, r in enumerate(zoo):
        ax.text(i, share[i] + 1.5, f"{r['params'] / 1e6:.3g}M", ha="center", fontsize=8)
    ax.set_ylim(0, 110)
    ax.set_ylabel("% of parameters in fully connected layers")
    ax.set_title("the share of the fully connected layers (total parameters on top)", fontsize=10)
    ax.set_xticks(range(len(names)), names, rotation=35, ha="right", rotation_mode="anchor", fontsize=8)
    ax.legend(handles=[Patch(color="C3", label="fully connected head"),
                       Patch(color="C0", label="global average pooling")], fontsize=8, loc="upper right")

    ax = axes[1]
    labels, stacked, single = [], [], []
    for s in stacks:
        labels.append(f"{s['kernel']}×{s['kernel']} field")
        stacked.append(s["stacked"]["params"] / 1e3)
        single.append(s["single"]["params"] / 1e3)
    x = np.arange(len(labels))
    ax.bar(x - 0.2, stacked, 0.4, label="stacked 3×3 convs", color="C2")
    ax.bar(x + 0.2, single, 0.4, label="one large conv", color="C1")
    for i, s in enumerate(stacks):
        ax.text(i, max(stacked[i], single[i]) * 1.02, f"ratio {s['param_ratio']:.2f}", ha="center", fontsize=8)
    ax.set_xticks(x, labels)
    ax.set_ylim(0, max(single + stacked) * 1.15)  # room for the ratio above the taller bar
    ax.set_ylabel("parameters (thousands)")
    ax.set_title(f"same receptive field, C = {stacks[0]['channels']} channels", fontsize=10)
    ax.legend(fontsize=8)

    ax = axes[2]
    kinds = ("naive", "with 1×1 reductions")
    params = ax.bar(np.arange(2) - 0.2, [inception["naive"]["params"] / 1e3, inception["reduced"]["params"] / 1e3],
                    0.4, label="parameters (thousands)", color="C4")
    macs = ax.bar(np.arange(2) + 0.2, [inception["naive"]["macs"] / 1e6, inception["reduced"]["macs"] / 1e6], 0.4,
                  label="MACs (millions)", color="C5")
    for bars in (params, macs):
        ax.bar_label(bars, fmt="%.0f", padding=2, fontsize=8)
    ax.margins(y=0.12)
    ax.set_xticks(np.arange(2), kinds)
    ax.set_ylabel("thousands of parameters, millions of MACs")
    ax.set_title(f"Inception block (3a widths, input {'×'.join(map(str, inception['input']))})", fontsize=10)
    ax.legend(fontsize=8)
    save(fig, path)


def run(quick=False, seed=0, out="."):
    gen = np.random.default_rng(seed)
    names = [n for n in LABELS if not (quick and n == "vgg16")]  # VGG-16 alone takes ~10 s to build (138M weights)
    zoo = [zoo_row(n, quick) for n in names]

    channels, size = (32, 16) if quick else (64, 32)
    stacks = [dict(stacked_vs_single(channels, size, n), channels=channels) for n in (2, 3)]
    stacks_ok = all(s["stacked"]["receptive_field"] == s["single"]["receptive_field"] == s["kernel"]
                    and s["stacked"]["params"] == s["formula_stacked"] and s["single"]["params"] == s["formula_single"]
                    and s["stacked"]["output"] == s["single"]["output"]
                    and math.isclose(s["stacked"]["macs"] / s["single"]["macs"], s["param_ratio"])
                    and s["param_ratio"] < 1 for s in stacks)

    block_input = (192, 28, 28)  # what GoogLeNet's inception3a receives at 224×224
    repeat = 3 if quick else 11
    blocks = {"naive": InceptionBlock(reduce=False), "reduced": InceptionBlock(reduce=True)}
    seconds, shapes = _forward_seconds(blocks, block_input, repeat, gen)
    inception = {"input": list(block_input)}
    for kind, block in blocks.items():
        inception[kind] = dict(_stats(block, block_input), output=shapes[kind], forward_seconds=seconds[kind])
    five_naive, five_reduced = 25 * 192 * 32, 192 * 16 + 25 * 16 * 32
    inception["param_saving"] = inception["naive"]["params"] / inception["reduced"]["params"]
    inception["mac_saving"] = inception["naive"]["macs"] / inception["reduced"]["macs"]
    inception["time_saving"] = inception["naive"]["forward_seconds"] / inception["reduced"]["forward_seconds"]
    inception["five_by_five_branch"] = {"naive": five_naive, "reduced": five_reduced,
                                        "saving": five_naive / five_reduced}
    bottleneck_ok = inception["param_saving"] >= 2 and inception["mac_saving"] >= 2

    fc_heads = [r for r in zoo if r["fc_head"]]
    gap_heads = [r for r in zoo if not r["fc_head"]]
    fc_ok = max(r["fc_share"] for r in gap_heads) < 0.5 < min(r["fc_share"] for r in fc_heads)

    held = stacks_ok and bottleneck_ok and fc_ok
    _plot(zoo, stacks, inception, os.path.join(out, "architectures.png"))

    two, three = stacks
    naive, reduced = inception["naive"], inception["reduced"]
    inputs = "small inputs: the smallest each accepts, VGG-16 left out of the quick run" if quick else "224×224 inputs"
    share = lambda rows: ", ".join(f"{r['model']} {r['fc_share']:.0%}" for r in rows)
    verdict = (f"two 3×3 convs: receptive field {two['stacked']['receptive_field']} "
               f"= the 5×5's {two['single']['receptive_field']}, {two['stacked']['params']:,} vs "
               f"{two['single']['params']:,} weights (ratio {two['param_ratio']:.2f} = 18/25); three 3×3 vs 7×7: "
               f"{three['param_ratio']:.2f} = 27/49. Inception 3a: the 1×1 reductions cut parameters "
               f"{naive['params']:,} → {reduced['params']:,} ({inception['param_saving']:.1f}×) and MACs "
               f"{naive['macs'] / 1e6:.0f}M → {reduced['macs'] / 1e6:.0f}M ({inception['mac_saving']:.1f}×; a "
               f"chainrule forward {inception['time_saving']:.1f}× faster), and the output has "
               f"{reduced['output'][0]} channels instead of {naive['output'][0]}. Share of parameters in fully "
               f"connected layers: {share(fc_heads)} vs {share(gap_heads)}")

    zoo_rows = [[r["model"], r["input"], r["params"], r["fc_share"], r["macs"], r["conv_layers"], r["receptive_field"]]
                for r in zoo]
    return Result(
        name=NAME, note=NOTE, claim=CLAIM,
        setup=(f"diagnostics.summary (one traced batch-1 forward) of chainrule's {', '.join(LABELS[n] for n in names)} "
               f"({inputs}; "
               "LeNet-5 28×28×1, NiN its CIFAR 32×32; GoogLeNet without auxiliary heads); MACs count conv and linear "
               "layers; receptive field = that of the last conv layer. Stacks: C → C convs without bias, 'same' "
               f"padding, C = {channels} on {size}×{size}. Inception: GoogLeNet 3a's widths (1×1 64 | 96 → 3×3 128 | "
               "16 → 5×5 32 | pool → 1×1 32) with a true 5×5 kernel (the library's torchvision-layout Inception keeps "
               "torchvision's 3×3 there), vs the naive block (1×1 64 | 3×3 128 | 5×5 32 | pool) on 192×28×28, no "
               f"bias; forward time: median of {repeat} batch-1 float64 forwards, the two blocks alternating"),
        numbers={"zoo": {r["model"]: {k: v for k, v in r.items() if k != "model"} for r in zoo},
                 "stacked_3x3": {f"{s['kernel']}x{s['kernel']}": s for s in stacks},
                 "inception": inception,
                 "fc_share_fc_heads": {r["model"]: r["fc_share"] for r in fc_heads},
                 "fc_share_gap_heads": {r["model"]: r["fc_share"] for r in gap_heads}},
        held=bool(held),
        in_part=not held and (stacks_ok or bottleneck_ok or fc_ok),
        verdict=verdict,
        figures=["architectures.png"],
        tables=[
            {"title": "the model zoo (diagnostics.summary)",
             "columns": ["model", "input", "params", "FC share", "MACs", "conv layers", "receptive field"],
             "rows": zoo_rows},
            {"title": "stacked 3×3 convs vs one large kernel",
             "columns": ["field", "stacked params", "single params", "ratio", "stacked RF", "single RF",
                         "stacked MACs", "single MACs"],
             "rows": [[f"{s['kernel']}×{s['kernel']}", s["stacked"]["params"], s["single"]["params"],
                       s["param_ratio"], s["stacked"]["receptive_field"], s["single"]["receptive_field"],
                       s["stacked"]["macs"], s["single"]["macs"]] for s in stacks]},
            {"title": "Inception block: naive vs 1×1 reductions",
             "columns": ["block", "params", "MACs", "output channels", "forward s"],
             "rows": [[k, inception[k]["params"], inception[k]["macs"], inception[k]["output"][0],
                       inception[k]["forward_seconds"]] for k in ("naive", "reduced")]},
        ],
    )
