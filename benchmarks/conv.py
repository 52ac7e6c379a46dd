"""Convolution and pooling layers, chainrule against PyTorch in one process, same thread count, float32.

Each layer is timed on its own at batch 128, from the same weights (torch's, loaded into chainrule)
and the same input, after warm-up, chainrule and torch interleaved round by round so that a noisy
machine slows both alike (medians and interquartile ranges over all samples). One sample is one
training-shaped call: ``out = layer(x)`` with the graph recorded (timed: "fwd"), then
``out.backward(g)`` with a fixed random upstream gradient g (fwd + that: "fwd+bwd"); the input
requires grad too, so the input, weight and bias gradients are all computed.

  lenet    LeNet-5 at 1×28×28: conv1 1→6 5×5 pad 2 (28×28), maxpool 2×2, conv2 6→16 5×5 (14×14 → 10×10),
           maxpool 2×2.
  resnet   ResNet-20 (CIFAR, 32×32) layer shapes: 3×3 pad-1 convs 3→16 @32, 16→16 @32, 16→32 stride 2
           (32→16), 32→32 @16, 32→64 stride 2 (16→8), 64→64 @8; 1×1 stride-2 projections 16→32 @32 and
           32→64 @16; global average pooling of 64×8×8 (AdaptiveAvgPool2d(1) on both sides; chainrule's
           GlobalAvgPool2d, a mean, is shown on an extra row that no total counts).

Throughput: conv FLOPs = 2·MACs, MACs = N·C_out·H_out·W_out·(C_in/groups)·k_h·k_w; the backward is
counted as 2× the forward (input gradient + weight gradient), so fwd+bwd = 3× forward FLOPs. The roof
is NumPy's float32 1024×1024 @ 1024×1024 matmul measured in the same run (torch's beside it).

Usage:
  python benchmarks/conv.py [--threads 2] [--repeat 20] [--calls 3] [--warmup 2] [--lead-in 0.1] [--only lenet|resnet] [--json out.json]
"""
import argparse
import os
import sys

from _common import LEAD_IN, describe_machine, environment, interleaved, load_average, quartiles, thread_env, timed_calls

SETS = ("lenet", "resnet")


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--threads", type=int, default=2, help="threads for NumPy's BLAS and for torch (default 2)")
    p.add_argument("--repeat", type=int, default=20,
                   help="timed rounds per layer (default 20); a round times --calls calls per framework")
    p.add_argument("--calls", type=int, default=3, help="timed calls per framework per round (default 3)")
    p.add_argument("--warmup", type=int, default=2, help="untimed rounds per layer before timing (default 2)")
    p.add_argument("--lead-in", type=float, default=LEAD_IN,
                   help="seconds of untimed calls before each framework's timed round (default 0.1): the other "
                        "framework's spinning workers go idle, this one's threads are awake")
    p.add_argument("--only", choices=SETS, help="time only the LeNet-5 or only the ResNet-20 layers")
    p.add_argument("--batch", type=int, default=128, help="batch size (default 128)")
    p.add_argument("--json", metavar="PATH", help="also write the numbers as JSON to PATH")
    args = p.parse_args(argv)
    if min(args.threads, args.repeat, args.calls, args.batch) < 1 or args.warmup < 0 or args.lead_in < 0:
        p.error("--threads, --repeat, --calls and --batch must be positive, --warmup and --lead-in non-negative")
    return args


ARGS = parse_args() if __name__ == "__main__" else None

if ARGS is not None:
    thread_env(ARGS.threads)

import json  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # the repository root

from threadpoolctl import threadpool_limits  # noqa: E402 - pins the BLAS pools even if NumPy came first

import chainrule  # noqa: E402
from chainrule import nn as cr_nn  # noqa: E402

ROOF_SIZE = 1024


# ----- the layers -----------------------------------------------------------------------------------
def conv(name, c_in, c_out, k, size, stride=1, padding=0, count=1):
    return {"name": name, "kind": "conv", "args": (c_in, c_out, k), "kwargs": {"stride": stride, "padding": padding},
            "in": (c_in, size, size), "count": count}


def pool(name, kind, channels, size, count=1, in_total=True):
    return {"name": name, "kind": kind, "in": (channels, size, size), "count": count, "in_total": in_total}


# ``count``: how often the shape occurs in the network, for the occurrence-weighted total.
LAYERS = {
    "lenet": [
        conv("conv1 1→6 5×5 p2", 1, 6, 5, 28, padding=2),
        pool("maxpool1 2×2", "maxpool", 6, 28),
        conv("conv2 6→16 5×5", 6, 16, 5, 14),
        pool("maxpool2 2×2", "maxpool", 16, 10),
    ],
    "resnet": [
        conv("conv 3→16 3×3 @32", 3, 16, 3, 32, padding=1),
        conv("conv 16→16 3×3 @32", 16, 16, 3, 32, padding=1, count=6),
        conv("conv 16→32 3×3 s2 @32", 16, 32, 3, 32, stride=2, padding=1),
        conv("conv 32→32 3×3 @16", 32, 32, 3, 16, padding=1, count=5),
        conv("conv 32→64 3×3 s2 @16", 32, 64, 3, 16, stride=2, padding=1),
        conv("conv 64→64 3×3 @8", 64, 64, 3, 8, padding=1, count=5),
        conv("proj 16→32 1×1 s2 @32", 16, 32, 1, 32, stride=2),
        conv("proj 32→64 1×1 s2 @16", 32, 64, 1, 16, stride=2),
        pool("avgpool global 64×8×8", "gap", 64, 8),
        pool("  (GlobalAvgPool2d, mean)", "gap_mean", 64, 8, count=0, in_total=False),
    ],
}


def build(spec):
    """(chainrule layer, torch layer) computing the same function from the same weights."""
    kind = spec["kind"]
    if kind == "conv":
        torch.manual_seed(0)
        th = torch.nn.Conv2d(*spec["args"], **spec["kwargs"]).float()
        cr = cr_nn.Conv2d(*spec["args"], **spec["kwargs"])
        cr.load_state_dict({k: v.detach().numpy().copy() for k, v in th.state_dict().items()})
        return cr, th
    if kind == "maxpool":
        return cr_nn.MaxPool2d(2), torch.nn.MaxPool2d(2)
    if kind == "gap":
        return cr_nn.AdaptiveAvgPool2d(1), torch.nn.AdaptiveAvgPool2d(1)
    if kind == "gap_mean":
        return cr_nn.GlobalAvgPool2d(), torch.nn.AdaptiveAvgPool2d(1)
    raise ValueError(kind)


def forward_flops(spec, out_shape):
    """2·MACs of the forward, None for pooling (no multiply-adds worth counting)."""
    if spec["kind"] != "conv":
        return None
    n, c_out, h_out, w_out = out_shape
    c_in, _, k = spec["args"]
    return 2 * n * c_out * h_out * w_out * c_in * k * k


# ----- timing ---------------------------------------------------------------------------------------
def make_runner(layer, x, g, params, calls):
    """One round: ``calls`` × (clear grads, forward, backward); samples are (fwd+bwd, fwd) seconds."""
    clock = time.perf_counter
    leaves = [x, *params]

    def one_round():
        out_samples = []
        for _ in range(calls):
            for t in leaves:
                t.grad = None
            t0 = clock()
            out = layer(x)
            t1 = clock()
            out.backward(g)
            t2 = clock()
            out_samples.append((t2 - t0, t1 - t0))
            del out
        return out_samples

    return one_round


def check_parity(spec, cr, th, cx, tx, g, tg):
    """Same output and gradients, else the two sides would not be timing the same computation."""
    for t in (cx, tx, *cr.parameters(), *th.parameters()):
        t.grad = None
    co, to = cr(cx), th(tx)
    co.backward(g)
    to.backward(tg)
    pairs = [("output", co.data, to.detach().numpy()), ("input grad", cx.grad.data, tx.grad.numpy())]
    for (name, cp), (_, tp) in zip(cr.named_parameters(), th.named_parameters()):
        pairs.append((f"{name} grad", cp.grad.data, tp.grad.numpy()))
    for what, a, b in pairs:
        a = a.reshape(b.shape)
        scale = float(np.abs(b).max()) or 1.0
        if not np.allclose(a, b, rtol=1e-3, atol=1e-4 * scale):
            err = float(np.abs(a - b).max())
            raise AssertionError(f"{spec['name']}: {what} differs from torch's (max abs error {err:.3g}, scale {scale:.3g})")
    for t in (cx, tx, *cr.parameters(), *th.parameters()):
        t.grad = None


def bench_layer(spec, args, rng):
    cr, th = build(spec)
    x0 = rng.standard_normal((args.batch, *spec["in"])).astype(np.float32)
    cx = chainrule.tensor(x0, requires_grad=True)
    tx = torch.from_numpy(x0.copy()).requires_grad_(True)
    with torch.no_grad():
        out_shape = tuple(th(tx).shape)
    g0 = rng.standard_normal(out_shape).astype(np.float32)
    tg = torch.from_numpy(g0.copy())
    check_parity(spec, cr, th, cx, tx, g0, tg)
    samples = interleaved({"chainrule": make_runner(cr, cx, g0, list(cr.parameters()), args.calls),
                           "torch": make_runner(th, tx, tg, list(th.parameters()), args.calls)},
                          args.repeat, args.warmup, args.lead_in)
    result = {"layer": spec["name"], "set": None, "kind": spec["kind"], "input": [args.batch, *spec["in"]],
              "output": list(out_shape), "count": spec["count"], "in_total": spec.get("in_total", True),
              "forward_flops": forward_flops(spec, out_shape)}
    for j, what in enumerate(("fwd+bwd", "fwd")):
        cr_q = quartiles([s[j] * 1e3 for s in samples["chainrule"]])
        th_q = quartiles([s[j] * 1e3 for s in samples["torch"]])
        result[what] = {"unit": "ms", "chainrule": cr_q, "torch": th_q, "ratio": cr_q["median"] / th_q["median"]}
    flops = result["forward_flops"]
    if flops is not None:
        fb = result["fwd+bwd"]
        result["gflops_fwd_bwd"] = {fw: 3 * flops / (fb[fw]["median"] * 1e-3) / 1e9 for fw in ("chainrule", "torch")}
    return result


def matmul_roof(args, rounds=None):
    """GFLOP/s of a float32 ROOF_SIZE³ matmul, NumPy and torch, interleaved; medians."""
    n = ROOF_SIZE
    rng = np.random.default_rng(2)
    a, b = (rng.standard_normal((n, n)).astype(np.float32) for _ in range(2))
    ta, tb = torch.from_numpy(a.copy()), torch.from_numpy(b.copy())
    samples = interleaved({"numpy": timed_calls(lambda: a @ b, 5), "torch": timed_calls(lambda: ta @ tb, 5)},
                          rounds or max(args.repeat // 2, 4), 1, args.lead_in)
    return {fw: {"samples_s": s, "gflops": 2 * n ** 3 / float(np.median(s)) / 1e9} for fw, s in samples.items()}


# ----- report ---------------------------------------------------------------------------------------
def print_table(results, roof):
    def cell(q):
        return f"{q['median']:.2f} ({q['q1']:.2f}-{q['q3']:.2f})"

    header = ("layer", "input → output", "chainrule fwd+bwd ms (IQR)", "torch fwd+bwd ms (IQR)", "ratio",
              "min cr/torch", "chainrule fwd ms", "torch fwd ms", "ratio", "chainrule GFLOP/s", "% roof",
              "torch GFLOP/s")
    body = []
    for r in results:
        fb, f = r["fwd+bwd"], r["fwd"]
        gf = r.get("gflops_fwd_bwd")
        shape = "×".join(map(str, r["input"][1:])) + " → " + "×".join(map(str, r["output"][1:]))
        body.append((r["layer"], shape, cell(fb["chainrule"]), cell(fb["torch"]), f"{fb['ratio']:.2f}",
                     f"{fb['chainrule']['min']:.1f}/{fb['torch']['min']:.1f}", f"{f['chainrule']['median']:.2f}", f"{f['torch']['median']:.2f}", f"{f['ratio']:.2f}",
                     f"{gf['chainrule']:.1f}" if gf else "-",
                     f"{100 * gf['chainrule'] / roof['numpy']['gflops']:.0f}%" if gf else "-",
                     f"{gf['torch']:.1f}" if gf else "-"))
    widths = [max(len(line[i]) for line in [header, *body]) for i in range(len(header))]
    for line in [header, tuple("-" * w for w in widths), *body]:
        print("  ".join(c.ljust(w) if i < 2 else c.rjust(w) for i, (c, w) in enumerate(zip(line, widths))))


def totals(results, which):
    rows = [r for r in results if r["set"] == which and r["in_total"]]
    out = {}
    for what in ("fwd+bwd", "fwd"):
        cr = sum(r[what]["chainrule"]["median"] for r in rows)
        th = sum(r[what]["torch"]["median"] for r in rows)
        crw = sum(r["count"] * r[what]["chainrule"]["median"] for r in rows)
        thw = sum(r["count"] * r[what]["torch"]["median"] for r in rows)
        out[what] = {"chainrule_ms": cr, "torch_ms": th, "ratio": cr / th,
                     "weighted_chainrule_ms": crw, "weighted_torch_ms": thw, "weighted_ratio": crw / thw}
    return out


def meta(args):
    return environment(args, calls=args.calls, lead_in_s=args.lead_in, batch=args.batch,
                       flops_rule="conv FLOPs = 2*MACs; fwd+bwd counted as 3x forward FLOPs")


def main(args):
    torch.set_num_threads(args.threads)
    threadpool_limits(limits=args.threads)
    chainrule.set_default_dtype(chainrule.float32)
    torch.set_default_dtype(torch.float32)
    info = meta(args)
    print(f"threads={args.threads} (torch reports {info['torch_threads']}), "
          f"numpy {info['numpy']}, torch {info['torch']}, "
          f"python {info['python']}, {info['cpu_count']} CPUs, load average {info['load_average']}; batch {args.batch}, float32; "
          f"rounds={args.repeat} × {args.calls} calls per framework, warm-up rounds={args.warmup}, "
          f"lead-in {args.lead_in} s")
    print(describe_machine(info))
    roof_before = matmul_roof(args)
    rng = np.random.default_rng(1)
    results = []
    for which in ([args.only] if args.only else SETS):
        for spec in LAYERS[which]:
            r = bench_layer(spec, args, rng)
            r["set"] = which
            results.append(r)
            print(f"  timed {which}: {spec['name'].strip()}", file=sys.stderr, flush=True)
    roof_after = matmul_roof(args)
    info["load_average_end"] = load_average()
    roof = {fw: {"gflops": 2 * ROOF_SIZE ** 3 / float(np.median(roof_before[fw]["samples_s"]
                                                                + roof_after[fw]["samples_s"])) / 1e9,
                 "before_gflops": roof_before[fw]["gflops"], "after_gflops": roof_after[fw]["gflops"]}
            for fw in ("numpy", "torch")}

    print(f"\nmatmul roof, float32 {ROOF_SIZE}×{ROOF_SIZE} @ {ROOF_SIZE}×{ROOF_SIZE} (median of start and end of run): "
          f"NumPy {roof['numpy']['gflops']:.1f} GFLOP/s (start {roof['numpy']['before_gflops']:.1f}, end "
          f"{roof['numpy']['after_gflops']:.1f}), torch {roof['torch']['gflops']:.1f} GFLOP/s")
    print("GFLOP/s: conv FLOPs = 2·MACs, MACs = N·C_out·H_out·W_out·(C_in/groups)·k_h·k_w; fwd+bwd counted as "
          "3× the forward FLOPs (backward ≈ 2× forward); '% roof' = chainrule GFLOP/s / NumPy's matmul roof.")
    print(f"load average at the end: {info['load_average_end']} (at the start: {info['load_average']})")
    print("fwd = the forward of a training step (graph recorded); fwd+bwd adds out.backward(g); input, weight "
          "and bias gradients all computed. Times in ms; 'min cr/torch' = fastest fwd+bwd sample of each.\n")
    print_table(results, roof)
    summary = {}
    for which in ([args.only] if args.only else SETS):
        t = summary[which] = totals(results, which)
        label = {"lenet": "LeNet-5 layers", "resnet": "ResNet-20 layer set"}[which]
        fb, f = t["fwd+bwd"], t["fwd"]
        print(f"\n{label}, sum of medians: fwd+bwd chainrule {fb['chainrule_ms']:.1f} ms, torch {fb['torch_ms']:.1f} ms, "
              f"ratio {fb['ratio']:.2f}; fwd chainrule {f['chainrule_ms']:.1f} ms, torch {f['torch_ms']:.1f} ms, "
              f"ratio {f['ratio']:.2f}")
        if which == "resnet":
            print(f"  weighted by occurrences in ResNet-20 (16→16 ×6, 32→32 ×5, 64→64 ×5, others ×1): fwd+bwd "
                  f"chainrule {fb['weighted_chainrule_ms']:.1f} ms, torch {fb['weighted_torch_ms']:.1f} ms, ratio "
                  f"{fb['weighted_ratio']:.2f}")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump({"meta": info, "roof": roof, "results": results, "totals": summary}, fh, indent=2)
        print(f"wrote {args.json}")


if __name__ == "__main__":
    main(ARGS)
