"""LSTM classifier training step, chainrule against PyTorch in one process, same thread count, float32.

The model is ``chainrule.models.rnn.lstm_classifier()`` — a 2-layer LSTM(28 → 128) over 28 steps (the
rows of a 28×28 image) and a Linear(128 → 10) on the last hidden state — and its torch twin
(nn.LSTM(batch_first=True) + nn.Linear) with the same weights. One sample is one training step:
zero the grads, forward, cross-entropy, backward, SGD with momentum 0.9. A second table times the
forward alone under no_grad (inference). Rounds alternate which framework goes first, so a noisy
machine slows both alike; medians and interquartile ranges over all samples.

Usage:
  python benchmarks/rnn.py [--threads 2] [--repeat 15] [--calls 3] [--warmup 2] [--batch 128]
                           [--hidden 128] [--layers 2] [--json out.json]
"""
import argparse
import os
import sys

from _common import LEAD_IN, describe_machine, environment, interleaved, load_average, quartiles, thread_env, timed_calls


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--threads", type=int, default=2, help="threads for NumPy's BLAS and for torch (default 2)")
    p.add_argument("--repeat", type=int, default=15, help="timed rounds (default 15), --calls steps per framework each")
    p.add_argument("--calls", type=int, default=3, help="timed steps per framework per round (default 3)")
    p.add_argument("--warmup", type=int, default=2, help="untimed rounds before timing (default 2)")
    p.add_argument("--batch", type=int, default=128, help="batch size (default 128)")
    p.add_argument("--hidden", type=int, default=128, help="LSTM hidden size (default 128)")
    p.add_argument("--layers", type=int, default=2, help="LSTM layers (default 2)")
    p.add_argument("--steps", type=int, default=28, help="sequence length (default 28)")
    p.add_argument("--inputs", type=int, default=28, help="features per step (default 28)")
    p.add_argument("--json", metavar="PATH", help="also write the numbers as JSON to PATH")
    args = p.parse_args(argv)
    if min(args.threads, args.repeat, args.calls, args.batch, args.hidden, args.layers, args.steps,
           args.inputs) < 1 or args.warmup < 0:
        p.error("sizes, --threads, --repeat and --calls must be positive, --warmup non-negative")
    return args


ARGS = parse_args() if __name__ == "__main__" else None

if ARGS is not None:
    thread_env(ARGS.threads)

import json

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # the repository root

from threadpoolctl import threadpool_limits  # noqa: E402 - pins the BLAS pools even if NumPy came first

import chainrule
from chainrule import optim as cr_optim
from chainrule.models.rnn import lstm_classifier
from chainrule.nn import functional as cr_F

LR, MOMENTUM = 0.01, 0.9


class TorchLSTMClassifier(torch.nn.Module):
    def __init__(self, inputs, hidden, layers, classes=10):
        super().__init__()
        self.lstm = torch.nn.LSTM(inputs, hidden, layers, batch_first=True)
        self.fc = torch.nn.Linear(hidden, classes)

    def forward(self, x):
        _, (h_n, _) = self.lstm(x)
        return self.fc(h_n[-1])


def build(args):
    torch.manual_seed(0)
    th = TorchLSTMClassifier(args.inputs, args.hidden, args.layers).float()
    cr = lstm_classifier(args.inputs, args.hidden, args.layers, 10)
    cr.load_state_dict({k: v.detach().numpy().copy() for k, v in th.state_dict().items()})
    return cr, th


def check_parity(cr, th, x, y):
    """Same loss and gradients before timing, else the two sides would not be timing the same thing."""
    cl = cr_F.cross_entropy(cr(chainrule.tensor(x)), chainrule.tensor(y))
    tl = torch.nn.functional.cross_entropy(th(torch.from_numpy(x)), torch.from_numpy(y))
    cl.backward()
    tl.backward()
    assert abs(cl.item() - tl.item()) < 1e-4, f"loss {cl.item()} != torch's {tl.item()}"
    for (name, p), q in zip(cr.named_parameters(), th.parameters()):
        scale = float(q.grad.abs().max()) or 1.0
        err = float(np.abs(p.grad.data - q.grad.numpy()).max())
        assert err <= 1e-3 * scale + 1e-6, f"{name} grad differs from torch's (max abs error {err:.3g})"
    cr.zero_grad()
    th.zero_grad()


def main(args):
    torch.set_num_threads(args.threads)
    threadpool_limits(limits=args.threads)
    chainrule.set_default_dtype(chainrule.float32)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((args.batch, args.steps, args.inputs)).astype(np.float32)
    y = rng.integers(0, 10, args.batch).astype(np.int64)
    cr, th = build(args)
    check_parity(cr, th, x, y)
    cx, cy, tx, ty = chainrule.tensor(x), chainrule.tensor(y), torch.from_numpy(x.copy()), torch.from_numpy(y.copy())
    cr_opt = cr_optim.SGD(cr.parameters(), lr=LR, momentum=MOMENTUM)
    th_opt = torch.optim.SGD(th.parameters(), lr=LR, momentum=MOMENTUM)

    def cr_step():
        cr_opt.zero_grad()
        cr_F.cross_entropy(cr(cx), cy).backward()
        cr_opt.step()

    def th_step():
        th_opt.zero_grad()
        torch.nn.functional.cross_entropy(th(tx), ty).backward()
        th_opt.step()

    def cr_infer():
        with chainrule.no_grad():
            cr(cx)

    def th_infer():
        with torch.no_grad():
            th(tx)

    info = environment(args, batch=args.batch, steps=args.steps, inputs=args.inputs, hidden=args.hidden,
                       layers=args.layers, calls=args.calls)
    print(f"threads={args.threads} (torch reports {info['torch_threads']}), "
          f"numpy {info['numpy']}, torch {info['torch']}, "
          f"python {info['python']}, {info['cpu_count']} CPUs; float32; load average {info['load_average']}")
    print(describe_machine(info))
    print(f"lstm_classifier: {args.layers}-layer LSTM({args.inputs} → {args.hidden}) over {args.steps} steps, "
          f"Linear({args.hidden} → 10), batch {args.batch}; rounds={args.repeat} × {args.calls} calls per "
          f"framework, warm-up rounds={args.warmup}\n")
    results = {}
    for what, runners in (("train step (fwd + cross_entropy + bwd + SGD momentum)",
                           {"chainrule": timed_calls(cr_step, args.calls), "torch": timed_calls(th_step, args.calls)}),
                          ("inference (fwd, no_grad)",
                           {"chainrule": timed_calls(cr_infer, args.calls), "torch": timed_calls(th_infer, args.calls)})):
        samples = interleaved(runners, args.repeat, args.warmup, LEAD_IN)
        q = {fw: quartiles([s * 1e3 for s in v]) for fw, v in samples.items()}
        ratio = q["chainrule"]["median"] / q["torch"]["median"]
        results[what] = {"unit": "ms", **q, "ratio": ratio}
        print(f"{what}:\n  chainrule {q['chainrule']['median']:.1f} ms (IQR {q['chainrule']['q1']:.1f}-"
              f"{q['chainrule']['q3']:.1f})   torch {q['torch']['median']:.1f} ms (IQR {q['torch']['q1']:.1f}-"
              f"{q['torch']['q3']:.1f})   ratio {ratio:.2f}")
    info["load_average_end"] = load_average()
    print(f"load average at the end: {info['load_average_end']}")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump({"meta": info, "results": results}, fh, indent=2)
        print(f"wrote {args.json}")


if __name__ == "__main__":
    main(ARGS)
