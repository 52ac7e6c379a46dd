"""3×3 stride-1 convolutions by each of chainrule's algorithms against PyTorch, one process, float32.

For each layer shape, one training-shaped sample is ``y = F.conv2d(x, w, b, padding=1, algorithm=a)`` with x
and w requiring grad, then ``y.backward(g)`` (forward + input, weight and bias gradients: "train"); an
inference sample is the forward alone under no_grad ("infer"). Algorithms: 'im2col' (columns + GEMM),
'winograd2' and 'winograd4' (Winograd F(2×2, 3×3) and F(4×4, 3×3), ``chainrule/kernels/winograd.py``),
'auto' (what ``kernels/winograd.choose`` picks), and torch. All are interleaved round by round
(``benchmarks/_common.interleaved``); medians. Each algorithm's output is checked against torch's first
(float32 relative error printed).

This table is the evidence behind ``choose``: rerun it on another CPU before trusting the rule there.

  resnet20   the stride-1 3×3 shapes of ResNet-20 at batch 128: 16→16 @32², 32→32 @16², 64→64 @8² (and 3→16)
  vgg11      the stride-1 3×3 shapes of VGG-11 (CIFAR) at batch 64: 3→64 @32², 64→128 @16², 128→256 @8²,
             256→256 @8², 256→512 @4², 512→512 @4², 512→512 @2²
  grid       channels 8…256 × sizes 4…32 at batch 32: where the rule's boundaries lie

Usage:
  python benchmarks/conv_algorithms.py [--threads 2] [--set resnet20,vgg11] [--repeat 5] [--calls 2]
                                       [--algorithms im2col,winograd2,winograd4,auto] [--json out.json]
"""
import argparse
import sys

from _common import LEAD_IN, describe_machine, environment, interleaved, load_average, thread_env, timed_calls

SETS = {
    "resnet20": [(128, 3, 16, 32), (128, 16, 16, 32), (128, 32, 32, 16), (128, 64, 64, 8)],
    "vgg11": [(64, 3, 64, 32), (64, 64, 128, 16), (64, 128, 256, 8), (64, 256, 256, 8), (64, 256, 512, 4),
              (64, 512, 512, 4), (64, 512, 512, 2)],
    "grid": [(32, c, c, s) for c in (8, 16, 32, 64, 128, 256) for s in (4, 8, 16, 32) if c * s <= 2048],
}
ALGORITHMS = ("im2col", "winograd2", "winograd4", "auto")


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--threads", type=int, default=2, help="threads for NumPy's BLAS and for torch (default 2)")
    p.add_argument("--set", default="resnet20,vgg11", help=f"comma-separated subset of {','.join(SETS)}")
    p.add_argument("--repeat", type=int, default=5, help="timed rounds per shape (default 5)")
    p.add_argument("--calls", type=int, default=2, help="timed calls per algorithm per round (default 2)")
    p.add_argument("--algorithms", default=",".join(ALGORITHMS), help="comma-separated chainrule algorithms")
    p.add_argument("--json", metavar="PATH", help="also write the numbers as JSON to PATH")
    args = p.parse_args(argv)
    args.set, args.warmup = [s for s in args.set.split(",") if s], 1
    args.algorithms = [a for a in args.algorithms.split(",") if a]
    if set(args.set) - set(SETS) or set(args.algorithms) - set(ALGORITHMS):
        p.error(f"--set from {', '.join(SETS)}; --algorithms from {', '.join(ALGORITHMS)}")
    if min(args.threads, args.repeat, args.calls) < 1:
        p.error("--threads, --repeat and --calls must be positive")
    return args


ARGS = parse_args() if __name__ == "__main__" else None
if ARGS is not None:
    thread_env(ARGS.threads)

import json  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def bench_shape(shape, args, cr, F, torch):
    n, c, o, size = shape
    rng = np.random.default_rng(0)
    x = rng.standard_normal((n, c, size, size)).astype(np.float32)
    w = (rng.standard_normal((o, c, 3, 3)) / np.sqrt(9 * c)).astype(np.float32)
    b = rng.standard_normal(o).astype(np.float32)
    g = rng.standard_normal((n, o, size, size)).astype(np.float32)
    tx, tw, tb = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
    tg = torch.tensor(g)
    cx, cw, cb = (cr.tensor(a, requires_grad=True) for a in (x, w, b))
    cg = cr.tensor(g)
    want = torch.nn.functional.conv2d(tx, tw, tb, padding=1).detach().numpy()
    scale = np.abs(want).max()

    def torch_train():
        tx.grad = tw.grad = tb.grad = None
        torch.nn.functional.conv2d(tx, tw, tb, padding=1).backward(tg)

    def torch_infer():
        with torch.no_grad():
            torch.nn.functional.conv2d(tx, tw, tb, padding=1)

    train, infer, error = {"torch": torch_train}, {"torch": torch_infer}, {}
    for a in args.algorithms:
        def cr_train(a=a):
            cx.grad = cw.grad = cb.grad = None
            F.conv2d(cx, cw, cb, padding=1, algorithm=a).backward(cg)

        def cr_infer(a=a):
            with cr.no_grad():
                F.conv2d(cx, cw, cb, padding=1, algorithm=a)

        train[a], infer[a] = cr_train, cr_infer
        error[a] = float(np.abs(F.conv2d(cx, cw, cb, padding=1, algorithm=a).detach().numpy() - want).max() / scale)
    result = {"shape": shape, "error": error}
    for kind, fns in (("train", train), ("infer", infer)):
        samples = interleaved({k: timed_calls(f, args.calls) for k, f in fns.items()}, args.repeat, 1, LEAD_IN)
        result[kind] = {k: float(np.median(v)) for k, v in samples.items()}
    from chainrule.kernels import winograd
    result["auto"] = winograd.choose((n, c, size, size), (1, 1, 1, 1), np.float32)
    return result


def main(args):
    import torch

    import chainrule as cr
    from chainrule.nn import functional as F

    torch.set_num_threads(args.threads)
    cr.set_num_threads(args.threads)
    from _common import machine
    print(f"threads={args.threads}, load average {load_average()}; float32; medians of {args.repeat}×{args.calls}")
    print(describe_machine(machine()))
    algos = args.algorithms
    head = (f"{'N×C→O @size':>20}  {'torch ms':>9}  " + "  ".join(f"{a:>10}" for a in algos)
            + "   auto picks  " + "  ".join(f"{'err ' + a:>14}" for a in algos if a != "auto"))
    results = []
    for name in args.set:
        print(f"\n[{name}] ratio chainrule/torch, train = forward + backward (infer = forward under no_grad)")
        print(head)
        for shape in SETS[name]:
            r = bench_shape(shape, args, cr, F, torch)
            results.append(r)
            n, c, o, size = shape
            for kind in ("train", "infer"):
                t = r[kind]["torch"]
                cells = "  ".join(f"{r[kind][a] / t:>10.2f}" for a in algos)
                pick = {0: "im2col", 2: "winograd2", 4: "winograd4"}[r["auto"]]
                errs = "  ".join(f"{r['error'][a]:>14.1e}" for a in algos if a != "auto") if kind == "train" else ""
                label = f"{n}×{c}→{o} @{size} {kind}"
                print(f"{label:>20}  {t * 1e3:>9.2f}  {cells}   {pick:>10}  {errs}", flush=True)
    if args.json:
        Path(args.json).write_text(json.dumps({"environment": environment(args), "results": results}, indent=1))


if __name__ == "__main__":
    main(ARGS)
