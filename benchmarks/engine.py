"""Engine overhead, chainrule against PyTorch in one process, same thread count, float32.

Cases (each timed after warm-up, chainrule and torch interleaved round by round, alternating which
goes first, so that a noisy machine slows both alike; medians and interquartile ranges over all samples):

  chain       10,000 small elementwise ops on a (16,) tensor (mul, add, tanh, sub, sigmoid, exp, cycling;
              one operand of the mul is a shared (16,) leaf w, so gradients also accumulate), then
              .sum().backward(). Reported per op: forward+backward, and forward and backward alone.
              The chain is contractive, so the gradient reaching x underflows to 0 in both frameworks
              (w's gradient, from the last few hundred ops, is not 0 and is the one compared); every
              node's backward still runs, which is what is timed.
  mlp_train   one training step of an MLP 64-128-64-10 (Linear-ReLU-Linear-ReLU-Linear) at batch 64:
              zero_grad, forward, cross_entropy, backward, SGD(lr=0.01, momentum=0.9).step().
              Both models start from the same weights (torch's, loaded into chainrule) and see the same
              batch; the first five losses are checked equal before timing.
  mlp_infer   the same MLP in eval mode under no_grad, batch 64.

For the MLP cases a third contestant, "numpy", runs the same arithmetic as plain NumPy calls with no
framework (no graph, no modules): the floor that chainrule's Python overhead sits on. It is printed
under the table and written to the JSON, not part of the ratio.

Threads default to 1: these ops are far too small to gain from a second thread, and on a loaded
2-core machine a second BLAS/OpenMP thread that gets descheduled stalls every parallel region
(medians of 100+ ms per step were seen with --threads 2 while other jobs ran).

Usage:
  python benchmarks/engine.py [--threads 1] [--repeat 30] [--cases chain,mlp_train,mlp_infer] [--json out.json]
"""
import argparse
import os
import sys

from _common import describe_machine, environment, interleaved, quartiles, thread_env, timed_calls

CASES = ("chain", "mlp_train", "mlp_infer")


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--threads", type=int, default=1, help="threads for NumPy's BLAS and for torch (default 1)")
    p.add_argument("--repeat", type=int, default=30,
                   help="timed rounds per case (default 30); a round times, per framework, 1 chain, "
                        "20 training steps or 50 inference calls")
    p.add_argument("--warmup", type=int, default=3, help="untimed rounds per case before timing (default 3)")
    p.add_argument("--cases", default=",".join(CASES), help=f"comma-separated subset of {','.join(CASES)}")
    p.add_argument("--chain-length", type=int, default=10_000, help="ops in the elementwise chain (default 10000)")
    p.add_argument("--json", metavar="PATH", help="also write the numbers as JSON to PATH")
    args = p.parse_args(argv)
    args.cases = [c.strip() for c in args.cases.split(",") if c.strip()]
    unknown = sorted(set(args.cases) - set(CASES))
    if unknown:
        p.error(f"unknown case(s) {', '.join(unknown)}; choose from {', '.join(CASES)}")
    if args.threads < 1 or args.repeat < 1 or args.warmup < 0 or args.chain_length < 1:
        p.error("--threads, --repeat and --chain-length must be positive, --warmup non-negative")
    return args


ARGS = parse_args() if __name__ == "__main__" else None

if ARGS is not None:
    thread_env(ARGS.threads)

import itertools  # noqa: E402
import json  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as torch_F  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # the repository root

from threadpoolctl import threadpool_limits  # noqa: E402 - pins the BLAS pools even if NumPy came first

import chainrule  # noqa: E402
import chainrule.nn.functional as cr_F  # noqa: E402
from chainrule import nn as cr_nn  # noqa: E402
from chainrule import optim as cr_optim  # noqa: E402

CHAIN_WIDTH = 16
BATCH, SIZES, CLASSES = 64, (64, 128, 64, 10), 10
TRAIN_STEPS_PER_ROUND, INFER_CALLS_PER_ROUND = 20, 50
MOMENTUM, LR = 0.9, 0.01


# ----- (a) a long chain of small elementwise ops ----------------------------------------------------
def chain_ops(w):
    """Six safe ops: values stay bounded however long the chain (tanh and sigmoid squash; exp follows
    sigmoid, so its input is in (0, 1) and it cannot overflow)."""
    return (
        lambda t: t * w,
        lambda t: t + 0.1,
        lambda t: t.tanh(),
        lambda t: t - 0.2,
        lambda t: t.sigmoid(),
        lambda t: t.exp(),
    )


def make_chain_runner(lib, x0, w0, length):
    x = lib.tensor(x0, requires_grad=True)
    w = lib.tensor(w0, requires_grad=True)
    ops = chain_ops(w)
    n_ops = len(ops)
    clock = time.perf_counter

    def one_round():
        x.grad = None
        w.grad = None
        t0 = clock()
        out = x
        for i in range(length):
            out = ops[i % n_ops](out)
        loss = out.sum()
        t1 = clock()
        loss.backward()
        t2 = clock()
        n = length + 1  # the sum is an op too
        return [((t2 - t0) / n, (t1 - t0) / n, (t2 - t1) / n)]

    return one_round, (x, w)


def bench_chain(args):
    rng = np.random.default_rng(0)
    x0 = rng.uniform(-1, 1, CHAIN_WIDTH).astype(np.float32)
    w0 = rng.uniform(0.5, 1.5, CHAIN_WIDTH).astype(np.float32)
    cr_run, (cx, cw) = make_chain_runner(chainrule, x0, w0, args.chain_length)
    th_run, (tx, tw) = make_chain_runner(torch, x0, w0, args.chain_length)

    cr_run()
    th_run()
    for a, b in ((cx.grad.data, tx.grad.numpy()), (cw.grad.data, tw.grad.numpy())):
        if not np.allclose(a, b, rtol=1e-3, atol=1e-5):
            raise AssertionError(f"chain: chainrule and torch gradients differ: {a} vs {b}")

    samples = interleaved({"chainrule": cr_run, "torch": th_run}, args.repeat, args.warmup, 0)
    rows = []
    for j, what in enumerate(("fwd+bwd", "fwd only", "bwd only")):
        rows.append(row(f"chain {args.chain_length} ops, {what}", "us/op",
                        [s[j] * 1e6 for s in samples["chainrule"]], [s[j] * 1e6 for s in samples["torch"]]))
    return rows


# ----- (b), (c) the MLP -----------------------------------------------------------------------------
def make_models():
    torch.manual_seed(0)
    layers = []
    for i, (n_in, n_out) in enumerate(itertools.pairwise(SIZES)):
        layers.append(torch.nn.Linear(n_in, n_out))
        if i < len(SIZES) - 2:
            layers.append(torch.nn.ReLU())
    th_model = torch.nn.Sequential(*layers).float()

    layers = []
    for i, (n_in, n_out) in enumerate(itertools.pairwise(SIZES)):
        layers.append(cr_nn.Linear(n_in, n_out))
        if i < len(SIZES) - 2:
            layers.append(cr_nn.ReLU())
    cr_model = cr_nn.Sequential(*layers)
    cr_model.load_state_dict({k: v.detach().numpy().copy() for k, v in th_model.state_dict().items()})
    return cr_model, th_model


def make_batch():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((BATCH, SIZES[0])).astype(np.float32)
    y = rng.integers(0, CLASSES, BATCH).astype(np.int64)
    return x, y


def train_step_fn(model, opt, F, x, y):
    def step():
        opt.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        return loss

    return step


def check_training_parity():
    """A few steps from the same weights on the same batch must give the same losses: otherwise the
    two sides would not be timing the same computation."""
    cr_model, th_model = make_models()
    x, y = make_batch()
    cr_step = train_step_fn(cr_model, cr_optim.SGD(cr_model.parameters(), lr=LR, momentum=MOMENTUM), cr_F,
                            chainrule.tensor(x), chainrule.tensor(y))
    th_step = train_step_fn(th_model, torch.optim.SGD(th_model.parameters(), lr=LR, momentum=MOMENTUM), torch_F,
                            torch.from_numpy(x.copy()), torch.from_numpy(y.copy()))
    floor = NumpyMLP(cr_model, x, y)
    for i in range(5):
        a, b, c = cr_step().item(), th_step().item(), float(floor.step())
        if not np.allclose([a, c], b, rtol=1e-4, atol=1e-5):
            raise AssertionError(f"mlp: losses differ at step {i}: chainrule {a}, numpy {c} vs torch {b}")


class NumpyMLP:
    """The same MLP step as plain NumPy calls, no graph and no modules: the floor under chainrule's
    Python overhead. Weights are copied from a chainrule model, in ``parameters()`` order."""

    def __init__(self, cr_model, x, y):
        self.params = [p.data.copy() for p in cr_model.parameters()]  # W1, b1, W2, b2, ...
        self.buffers = [None] * len(self.params)
        self.x, self.y, self.rows = x, y, np.arange(x.shape[0])

    def forward(self):
        acts, masks = [self.x], []
        h = self.x
        n_layers = len(self.params) // 2
        for i in range(n_layers):
            w, b = self.params[2 * i], self.params[2 * i + 1]
            h = h @ w.T
            h += b
            if i < n_layers - 1:
                masks.append(h > 0)
                h = np.maximum(h, 0)
                acts.append(h)
        return h, acts, masks

    def infer(self):
        return self.forward()[0]

    def step(self):
        logits, acts, masks = self.forward()
        n = logits.shape[0]
        shifted = logits - logits.max(axis=1, keepdims=True)
        exp = np.exp(shifted)
        sum_exp = exp.sum(axis=1, keepdims=True)
        loss = (np.log(sum_exp[:, 0]) - shifted[self.rows, self.y]).sum() / n
        g = exp / sum_exp  # d loss / d logits = (softmax − onehot) / n
        g[self.rows, self.y] -= 1
        g *= np.float32(1 / n)
        grads = [None] * len(self.params)
        for i in range(len(self.params) // 2 - 1, -1, -1):
            grads[2 * i] = g.T @ acts[i]
            grads[2 * i + 1] = g.sum(axis=0)
            if i:
                g = (g @ self.params[2 * i]) * masks[i - 1]
        for j, (p, gp) in enumerate(zip(self.params, grads)):
            buf = self.buffers[j]
            if buf is None:
                buf = self.buffers[j] = gp.copy()
            else:
                buf *= MOMENTUM
                buf += gp
            p -= LR * buf
        return loss


def bench_mlp_train(args):
    check_training_parity()
    cr_model, th_model = make_models()
    x, y = make_batch()
    floor = NumpyMLP(cr_model, x, y)
    cr_step = train_step_fn(cr_model, cr_optim.SGD(cr_model.parameters(), lr=LR, momentum=MOMENTUM), cr_F,
                            chainrule.tensor(x), chainrule.tensor(y))
    th_step = train_step_fn(th_model, torch.optim.SGD(th_model.parameters(), lr=LR, momentum=MOMENTUM), torch_F,
                            torch.from_numpy(x.copy()), torch.from_numpy(y.copy()))
    samples = interleaved({"chainrule": timed_calls(cr_step, TRAIN_STEPS_PER_ROUND),
                           "torch": timed_calls(th_step, TRAIN_STEPS_PER_ROUND),
                           "numpy": timed_calls(floor.step, TRAIN_STEPS_PER_ROUND)}, args.repeat, args.warmup, 0)
    return [row(f"MLP {'-'.join(map(str, SIZES))} train step, batch {BATCH}", "us/step",
                *(np.multiply(samples[k], 1e6) for k in ("chainrule", "torch", "numpy")))]


def bench_mlp_infer(args):
    cr_model, th_model = make_models()
    cr_model.eval()
    th_model.eval()
    x, _ = make_batch()
    floor = NumpyMLP(cr_model, x, None)
    cx, tx = chainrule.tensor(x), torch.from_numpy(x.copy())
    with chainrule.no_grad(), torch.no_grad():
        expected = th_model(tx).numpy()
        for name, out in (("chainrule", cr_model(cx).data), ("numpy", floor.infer())):
            if not np.allclose(out, expected, rtol=1e-4, atol=1e-5):
                raise AssertionError(f"mlp: {name} and torch inference outputs differ")

    def cr_infer():
        with chainrule.no_grad():
            return cr_model(cx)

    def th_infer():
        with torch.no_grad():
            return th_model(tx)

    samples = interleaved({"chainrule": timed_calls(cr_infer, INFER_CALLS_PER_ROUND),
                           "torch": timed_calls(th_infer, INFER_CALLS_PER_ROUND),
                           "numpy": timed_calls(floor.infer, INFER_CALLS_PER_ROUND)}, args.repeat, args.warmup, 0)
    return [row(f"MLP {'-'.join(map(str, SIZES))} inference (eval, no_grad), batch {BATCH}", "us/call",
                *(np.multiply(samples[k], 1e6) for k in ("chainrule", "torch", "numpy")))]


# ----- report ---------------------------------------------------------------------------------------
def row(case, unit, cr_samples, th_samples, np_samples=None):
    cr, th = quartiles(cr_samples), quartiles(th_samples)
    out = {"case": case, "unit": unit, "chainrule": cr, "torch": th, "ratio": cr["median"] / th["median"]}
    if np_samples is not None:
        out["numpy"] = quartiles(np_samples)
    return out


def print_table(rows):
    def cell(s):
        return f"{s['median']:.2f} ({s['q1']:.2f}-{s['q3']:.2f})"

    header = ("case", "unit", "chainrule median (IQR)", "torch median (IQR)", "chainrule/torch")
    body = [(r["case"], r["unit"], cell(r["chainrule"]), cell(r["torch"]), f"{r['ratio']:.2f}") for r in rows]
    widths = [max(len(line[i]) for line in [header, *body]) for i in range(len(header))]
    for line in [header, tuple("-" * w for w in widths), *body]:
        print("  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(line, widths))))
    for r in rows:
        if "numpy" in r:
            floor, cr = r["numpy"]["median"], r["chainrule"]["median"]
            print(f"numpy floor, {r['case']}: {cell(r['numpy'])} {r['unit']}; chainrule's overhead above it "
                  f"{cr - floor:.2f} {r['unit']} ({(cr - floor) / cr:.0%} of chainrule's time)")


def meta(args):
    return environment(args)


def main(args):
    torch.set_num_threads(args.threads)
    threadpool_limits(limits=args.threads)
    chainrule.set_default_dtype(chainrule.float32)
    torch.set_default_dtype(torch.float32)
    info = meta(args)
    print(f"threads={args.threads} (torch reports {info['torch_threads']}), "
          f"numpy {info['numpy']}, torch {info['torch']}, "
          f"python {info['python']}, {info['cpu_count']} CPUs, load average {info['load_average']}; "
          f"rounds={args.repeat}, warm-up rounds={args.warmup}")
    print(describe_machine(info))
    benches = {"chain": bench_chain, "mlp_train": bench_mlp_train, "mlp_infer": bench_mlp_infer}
    rows = []
    for case in args.cases:
        rows += benches[case](args)
    print_table(rows)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"meta": info, "results": rows}, f, indent=2)
        print(f"wrote {args.json}")


if __name__ == "__main__":
    main(ARGS)
