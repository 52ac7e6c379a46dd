"""Whole zoo models, chainrule against PyTorch in one process, same thread count, float32.

Each model is built twice: ``chainrule.models``' and a hand-written torch twin (benchmarks/_twins.py)
whose weights reach chainrule through a file, as a user's would: torch ``state_dict`` →
``safetensors.torch.save_file`` → ``chainrule.io.load_file`` → ``load_state_dict`` (strict). Then:

  step       one training step: zero_grad, forward, cross_entropy, backward, SGD(lr=0.01, momentum=0.9).step()
  inference  eval() mode under no_grad, the same batch
  memory     peak resident memory of a short training run (build, load weights, 3 steps), one child process
             per framework (this script re-run with a hidden flag): the child's ru_maxrss, import included
  GFLOP/s    FLOPs = 2·MACs from chainrule.diagnostics.summary (conv and linear layers; the LSTM's recurrent
             products added by hand) × batch; a training step counts as 3× the forward
  epoch      one epoch of LeNet-5 (modern) on MNIST train with loading and augmentation (RandomCrop(28,
             padding=2), Normalize) in each framework, batch 128

  model      batch  input
  mlp        64     64                 chainrule.models.mlp([64, 128, 64, 10])
  lenet5     128    1×28×28            lenet5(variant='modern')
  resnet20   128    3×32×32            resnet20() (option A shortcuts)
  vgg11_bn   64     3×32×32            vgg_cifar(11) (BatchNorm, dropout 0.5 in the head)
  lstm       128    28 steps × 28      lstm_classifier() (2-layer LSTM(128), Linear on the last h)

Before timing, each model's eval outputs and its first training losses must agree between the two
frameworks (with dropout set to p = 0 for that check only), else the script stops. The step and inference
samples come from interleaved rounds (the order flips every round, each timed round after 0.1 s of untimed
calls: benchmarks/_common.py says why), medians and interquartile ranges.

Usage:
  python benchmarks/models.py [--threads 2] [--repeat 10] [--warmup 1] [--lead-in 0.1]
                              [--models mlp,lenet5,resnet20,vgg11_bn,lstm] [--no-memory] [--no-epoch]
                              [--data-dir PATH] [--json out.json]
"""
import argparse
import os
import sys
from types import SimpleNamespace

from _common import LEAD_IN, describe_machine, environment, interleaved, load_average, quartiles, thread_env, timed_calls

# name: label, batch, per-sample input shape, chainrule/torch step ratio the issue asks for, and the
# calls per framework in one round (training steps, inference calls), so that a round lasts long
# enough to time but not too long on 2 cores.
MODELS = {
    "mlp": SimpleNamespace(label="MLP 64-128-64-10", batch=64, input=(64,), target=1.0, calls=(20, 50)),
    "lenet5": SimpleNamespace(label="LeNet-5 (modern)", batch=128, input=(1, 28, 28), target=1.5, calls=(5, 10)),
    "resnet20": SimpleNamespace(label="ResNet-20 (option A)", batch=128, input=(3, 32, 32), target=2.0, calls=(1, 2)),
    "vgg11_bn": SimpleNamespace(label="VGG-11-BN (CIFAR)", batch=64, input=(3, 32, 32), target=1.8, calls=(1, 2)),
    "lstm": SimpleNamespace(label="LSTM(128)×2, 28 steps", batch=128, input=(28, 28), target=1.5, calls=(2, 4)),
}
MEMORY_TARGET = 1.5
CLASSES, LR, MOMENTUM = 10, 0.01, 0.9
PARITY_STEPS, MEMORY_STEPS = 3, 3
MNIST_MEAN, MNIST_STD, EPOCH_BATCH = 0.1307, 0.3081, 128


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--threads", type=int, default=2, help="threads for NumPy's BLAS and for torch (default 2)")
    p.add_argument("--repeat", type=int, default=10,
                   help="timed rounds per model and measure (default 10); a round times each framework's calls: "
                        "mlp 20 steps / 50 inferences, lenet5 5/10, resnet20 1/2, vgg11_bn 1/2, lstm 2/4")
    p.add_argument("--warmup", type=int, default=1, help="untimed rounds before timing (default 1)")
    p.add_argument("--lead-in", type=float, default=LEAD_IN,
                   help="seconds of untimed calls before each framework's timed round (default 0.1): the other "
                        "framework's spinning workers go idle, this one's threads are awake")
    p.add_argument("--models", default=",".join(MODELS), help=f"comma-separated subset of {','.join(MODELS)}")
    p.add_argument("--no-memory", dest="memory", action="store_false",
                   help="skip the peak-memory child processes")
    p.add_argument("--epoch", action=argparse.BooleanOptionalAction, default=True,
                   help="time one LeNet-5 epoch on MNIST with data loading and augmentation (default: on; "
                        "about half a minute to a minute in all)")
    p.add_argument("--data-dir", help="folder holding mnist/ (default: $CHAINRULE_DATA, else ../shared/data, "
                                      "else ~/.chainrule/data)")
    p.add_argument("--json", metavar="PATH", help="also write the numbers as JSON to PATH")
    p.add_argument("--memory-child", nargs=3, metavar=("FRAMEWORK", "MODEL", "WEIGHTS"), help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    args.models = [m.strip() for m in args.models.split(",") if m.strip()]
    unknown = sorted(set(args.models) - set(MODELS))
    if unknown:
        p.error(f"unknown model(s) {', '.join(unknown)}; choose from {', '.join(MODELS)}")
    if args.threads < 1 or args.repeat < 1 or args.warmup < 0 or args.lead_in < 0:
        p.error("--threads and --repeat must be positive, --warmup and --lead-in non-negative")
    return args


ARGS = parse_args() if __name__ == "__main__" else None

if ARGS is not None:
    thread_env(ARGS.threads)

# ru_maxrss outlives exec: a process started from this (large) parent begins with the parent's peak, since
# Linux carries the replaced address space's high-water mark over. So the memory child forks at once,
# while it is still a bare interpreter, and measures in the fork, whose accounting starts afresh.
if ARGS is not None and ARGS.memory_child:
    worker = os.fork()
    if worker:
        sys.exit(os.waitstatus_to_exitcode(os.waitpid(worker, 0)[1]))

import contextlib
import gc
import json
import resource
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the repository root (benchmarks/, holding _twins.py, is already on the path)

from threadpoolctl import threadpool_limits  # noqa: E402 - pins the BLAS pools even if NumPy came first

# Each framework is imported only by ``framework(name)``: a memory child must not carry the other's import.


def framework(name, threads):
    """The calls a step needs, from chainrule or from torch, importing only that framework."""
    if name == "chainrule":
        import chainrule
        from chainrule import models, nn, optim
        from chainrule.io import load_file
        from chainrule.nn import functional as F

        builders = {
            "mlp": lambda: models.mlp([64, 128, 64, 10]),
            "lenet5": lambda: models.lenet5(variant="modern"),
            "resnet20": lambda: models.resnet20(),
            "vgg11_bn": lambda: models.vgg_cifar(11),
            "lstm": lambda: models.lstm_classifier(),
        }
        chainrule.set_default_dtype(chainrule.float32)
        return SimpleNamespace(name=name, build=lambda m: builders[m](), tensor=chainrule.tensor,
                               load=lambda model, path: model.load_state_dict(load_file(path)),
                               cross_entropy=F.cross_entropy, sgd=optim.SGD, no_grad=chainrule.no_grad,
                               numpy=lambda t: t.numpy(), dropout=nn.Dropout)
    import safetensors.torch
    import torch
    from _twins import TWINS

    torch.set_num_threads(threads)
    torch.set_default_dtype(torch.float32)

    def build(m):
        torch.manual_seed(0)
        return TWINS[m]()

    return SimpleNamespace(name=name, build=build, tensor=lambda a: torch.from_numpy(a.copy()),
                           load=lambda model, path: model.load_state_dict(safetensors.torch.load_file(str(path))),
                           save=lambda model, path: safetensors.torch.save_file(model.state_dict(), str(path)),
                           cross_entropy=torch.nn.functional.cross_entropy, sgd=torch.optim.SGD,
                           no_grad=torch.no_grad, numpy=lambda t: t.detach().numpy(), dropout=torch.nn.Dropout)


def make_batch(spec, seed=1):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((spec.batch, *spec.input)).astype(np.float32)
    return x, rng.integers(0, CLASSES, spec.batch).astype(np.int64)


def train_step(fw, model, x, y):
    """A closure running one training step and returning the loss tensor."""
    opt = fw.sgd(model.parameters(), lr=LR, momentum=MOMENTUM)

    def step():
        opt.zero_grad()
        loss = fw.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        return loss

    return step


def inference(fw, model, x):
    def call():
        with fw.no_grad():
            return model(x)

    return call


# ----- peak memory (child process) ------------------------------------------------------------------
def max_rss_mib():
    """This process's peak resident set size so far (ru_maxrss: KiB on Linux, bytes on macOS)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (2 ** 20 if sys.platform == "darwin" else 2 ** 10)


def memory_child(args):
    """Import one framework, build the model, load the weights, run a few training steps; print the peak."""
    fw_name, name, weights = args.memory_child
    threadpool_limits(limits=args.threads)
    fw = framework(fw_name, args.threads)
    after_import = max_rss_mib()
    model = fw.build(name)
    fw.load(model, weights)
    x, y = make_batch(MODELS[name])
    step = train_step(fw, model, fw.tensor(x), fw.tensor(y))
    for _ in range(MEMORY_STEPS):
        step()
    print(json.dumps({"after_import_mib": after_import, "peak_mib": max_rss_mib()}))


def measure_memory(name, weights, args):
    """Peak MiB (ru_maxrss, import included) of a training run in a fresh child process per framework."""
    out = {}
    for fw in ("chainrule", "torch"):
        cmd = [sys.executable, str(Path(__file__).resolve()), "--threads", str(args.threads),
               "--memory-child", fw, name, str(weights)]
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            raise RuntimeError(f"{name}: the {fw} memory child failed:\n{proc.stderr}")
        out[fw] = json.loads(proc.stdout.strip().splitlines()[-1])
    out["ratio"] = out["chainrule"]["peak_mib"] / out["torch"]["peak_mib"]
    return out


# ----- one model ------------------------------------------------------------------------------------
def forward_flops(name, model, spec):
    """2·MACs of one forward of the batch: conv and linear layers from chainrule's summary, plus the
    LSTM's input and recurrent products (4 gates × H × (I + H) per layer and step), which it leaves out."""
    from chainrule.diagnostics import summary

    macs = summary(model, spec.input).totals["macs"]
    if name == "lstm":
        lstm, steps = model.lstm, spec.input[0]
        for layer in range(lstm.num_layers):
            fan_in = lstm.input_size if layer == 0 else lstm.hidden_size
            macs += steps * 4 * lstm.hidden_size * (fan_in + lstm.hidden_size)
    return 2 * macs * spec.batch


@contextlib.contextmanager
def dropout_off(model, fw):
    """Dropout p = 0 inside the block: the two frameworks draw different masks."""
    layers = [m for m in model.modules() if isinstance(m, fw.dropout)]
    kept = [m.p for m in layers]
    for m in layers:
        m.p = 0.0
    try:
        yield
    finally:
        for m, p in zip(layers, kept):
            m.p = p


def twin_pair(name, cr, th, workdir):
    """(chainrule model, torch twin) with the twin's weights, passed through a safetensors file; the file's path."""
    th_model = th.build(name)
    weights = workdir / f"{name}.safetensors"
    th.save(th_model, weights)
    cr_model = cr.build(name)
    cr.load(cr_model, weights)  # strict: every key and shape must match
    return cr_model, th_model, weights


def check_parity(name, sides):
    """Eval outputs, then the first training losses (dropout off for this check only), must agree:
    otherwise the two frameworks would not be timing the same computation."""
    outs = {}
    for fw, model, x, _ in sides:
        model.eval()
        outs[fw.name] = fw.numpy(inference(fw, model, x)())
        model.train()
    ref = outs["torch"]
    err = float(np.abs(outs["chainrule"] - ref).max())
    if not np.allclose(outs["chainrule"], ref, rtol=1e-3, atol=1e-4 * (float(np.abs(ref).max()) or 1.0)):
        raise AssertionError(f"{name}: eval outputs differ from torch's (max abs error {err:.3g})")

    losses = {}
    for fw, model, x, y in sides:
        with dropout_off(model, fw):
            step = train_step(fw, model, x, y)
            losses[fw.name] = [float(step().item()) for _ in range(PARITY_STEPS)]
    if not np.allclose(losses["chainrule"], losses["torch"], rtol=1e-3, atol=1e-5):
        raise AssertionError(f"{name}: the first training losses differ: chainrule {losses['chainrule']}, "
                             f"torch {losses['torch']}")
    return {"eval_max_abs_error": err, "losses": losses}


def bench_model(name, args, cr, th, workdir):
    spec = MODELS[name]
    cr_model, th_model, weights = twin_pair(name, cr, th, workdir)
    x, y = make_batch(spec)
    sides = [(fw, model, fw.tensor(x), fw.tensor(y)) for fw, model in ((cr, cr_model), (th, th_model))]
    flops = forward_flops(name, cr_model, spec)
    parity = check_parity(name, sides)

    result = {"model": name, "label": spec.label, "batch": spec.batch, "input": list(spec.input),
              "target_ratio": spec.target, "forward_flops": flops, "parity": parity}
    for what, calls, factor in (("step", spec.calls[0], 3), ("inference", spec.calls[1], 1)):
        runners = {}
        for fw, model, cx, cy in sides:
            model.train(what == "step")
            fn = train_step(fw, model, cx, cy) if what == "step" else inference(fw, model, cx)
            runners[fw.name] = timed_calls(fn, calls)
        samples = interleaved(runners, args.repeat, args.warmup, args.lead_in)
        q = {fw: quartiles([s * 1e3 for s in v]) for fw, v in samples.items()}
        result[what] = {"unit": "ms", "calls_per_round": calls, **q, "ratio": q["chainrule"]["median"] / q["torch"]["median"],
                        "gflops": {fw: factor * flops / (q[fw]["median"] * 1e-3) / 1e9 for fw in q}}
        print(f"  timed {name}: {what}", file=sys.stderr, flush=True)
    del sides, cr_model, th_model
    gc.collect()
    if args.memory:
        result["memory"] = measure_memory(name, weights, args)
        print(f"  measured {name}: memory", file=sys.stderr, flush=True)
    return result


# ----- the MNIST epoch ------------------------------------------------------------------------------
def find_mnist(data_dir):
    """The folder holding mnist/ with the train files, or None."""
    from chainrule.data.datasets import data_root

    candidates = [Path(data_dir)] if data_dir else [data_root(), ROOT.parent / "shared" / "data"]
    for root in candidates:
        folder = root / "mnist"
        if any((folder / f"train-images-idx3-ubyte{ext}").is_file() for ext in ("", ".gz")):
            return root
    return None


def torch_random_crop(x, padding, gen):
    """torch's version of chainrule's RandomCrop(size = image size, padding): zero-pad, then each image's
    window at its own random offset, gathered in one advanced index."""
    import torch

    n, c, h, w = x.shape
    padded = torch.nn.functional.pad(x, (padding,) * 4)
    tops = torch.randint(0, 2 * padding + 1, (n,), generator=gen)
    lefts = torch.randint(0, 2 * padding + 1, (n,), generator=gen)
    rows = (tops[:, None] + torch.arange(h))[:, None, :, None]
    cols = (lefts[:, None] + torch.arange(w))[:, None, None, :]
    return padded[torch.arange(n)[:, None, None, None], torch.arange(c)[None, :, None, None], rows, cols]


def bench_epoch(args, cr, th, workdir):
    """One LeNet-5 epoch on MNIST train (all 60,000 images, batch 128, the last batch smaller), data
    loading and augmentation included, in each framework; 2 untimed steps first."""
    import torch

    import chainrule
    from chainrule.data import ArrayDataset, DataLoader
    from chainrule.data import transforms as T
    from chainrule.data.datasets import MNIST

    root = find_mnist(args.data_dir)
    if root is None:
        where = args.data_dir or "$CHAINRULE_DATA (or ~/.chainrule/data) and ../shared/data"
        print(f"\nepoch: MNIST train files not found under {where}; skipped (pass --data-dir)")
        return {"skipped": "MNIST not found"}
    mnist = MNIST(root, train=True)
    n = len(mnist)
    cr_model, th_model, _ = twin_pair("lenet5", cr, th, workdir)

    chainrule.manual_seed(0)
    augment = T.Compose([T.RandomCrop(28, padding=2), T.Normalize(MNIST_MEAN, MNIST_STD)])
    loader = DataLoader(ArrayDataset(mnist.data, mnist.targets, transform=augment), batch_size=EPOCH_BATCH,
                        shuffle=True, seed=0)
    cr_opt = cr.sgd(cr_model.parameters(), lr=LR, momentum=MOMENTUM)

    def cr_epoch(limit=None):
        for i, (x, y) in enumerate(loader):
            if i == limit:
                break
            cr_opt.zero_grad()
            cr.cross_entropy(cr_model(x), y).backward()
            cr_opt.step()

    images, labels = torch.from_numpy(mnist.data), torch.from_numpy(mnist.targets)
    gen = torch.Generator().manual_seed(0)
    th_opt = th.sgd(th_model.parameters(), lr=LR, momentum=MOMENTUM)

    def th_epoch(limit=None):
        order = torch.randperm(n, generator=gen)
        for i, start in enumerate(range(0, n, EPOCH_BATCH)):
            if i == limit:
                break
            idx = order[start:start + EPOCH_BATCH]
            x = torch_random_crop(images[idx].float().div_(255), 2, gen)
            x = (x - MNIST_MEAN) / MNIST_STD
            th_opt.zero_grad()
            th.cross_entropy(th_model(x), labels[idx]).backward()
            th_opt.step()

    out = {"images": n, "batch": EPOCH_BATCH, "data_root": str(root)}
    for fw, run in (("chainrule", cr_epoch), ("torch", th_epoch)):
        run(limit=2)
        gc.collect()
        t0 = time.perf_counter()
        run()
        seconds = time.perf_counter() - t0
        out[fw] = {"s_per_epoch": seconds, "images_per_s": n / seconds}
        print(f"  timed epoch: {fw}", file=sys.stderr, flush=True)
    out["ratio"] = out["chainrule"]["s_per_epoch"] / out["torch"]["s_per_epoch"]
    return out


# ----- report ---------------------------------------------------------------------------------------
def print_table(results):
    def cell(q):
        return f"{q['median']:.2f} ({q['q1']:.2f}-{q['q3']:.2f})"

    def verdict(ratio, target):
        return f"{ratio:.2f} {'ok' if ratio <= target else 'over'} (≤{target:g})"

    header = ("model", "batch", "step ms chainrule (IQR)", "step ms torch (IQR)", "step ratio (target)",
              "infer ms chainrule (IQR)", "infer ms torch (IQR)", "infer ratio (target)",
              "peak MiB cr/torch", "mem ratio (target)", "step GFLOP/s cr/torch", "infer GFLOP/s cr/torch")
    body = []
    for r in results:
        s, i, mem = r["step"], r["inference"], r.get("memory")
        body.append((r["label"], str(r["batch"]), cell(s["chainrule"]), cell(s["torch"]), verdict(s["ratio"], r["target_ratio"]),
                     cell(i["chainrule"]), cell(i["torch"]), verdict(i["ratio"], r["target_ratio"]),
                     f"{mem['chainrule']['peak_mib']:.0f}/{mem['torch']['peak_mib']:.0f}" if mem else "-",
                     verdict(mem["ratio"], MEMORY_TARGET) if mem else "-",
                     f"{s['gflops']['chainrule']:.2f}/{s['gflops']['torch']:.2f}",
                     f"{i['gflops']['chainrule']:.2f}/{i['gflops']['torch']:.2f}"))
    widths = [max(len(line[k]) for line in [header, *body]) for k in range(len(header))]
    for line in [header, tuple("-" * w for w in widths), *body]:
        print("  ".join(c.ljust(w) if k == 0 else c.rjust(w) for k, (c, w) in enumerate(zip(line, widths))))


def meta(args):
    return environment(
        args, lead_in_s=args.lead_in,
        optimizer=f"SGD(lr={LR}, momentum={MOMENTUM})",
        flops_rule="FLOPs = 2*MACs (chainrule.diagnostics.summary: conv and linear; LSTM gates added) x batch; "
                   "training step = 3x forward",
        memory_rule=f"peak ru_maxrss of a child process: import, build, load weights, {MEMORY_STEPS} training steps",
    )


def main(args):
    threadpool_limits(limits=args.threads)
    cr, th = framework("chainrule", args.threads), framework("torch", args.threads)
    info = meta(args)
    print(f"threads={args.threads} (torch reports {info['torch_threads']}), "
          f"numpy {info['numpy']}, torch {info['torch']}, "
          f"python {info['python']}, {info['cpu_count']} CPUs, load average {info['load_average']}; float32; "
          f"rounds={args.repeat}, warm-up rounds={args.warmup}, lead-in {args.lead_in} s")
    print(describe_machine(info))
    results, epoch = [], None
    with tempfile.TemporaryDirectory(prefix="chainrule-models-") as tmp:
        for name in args.models:
            results.append(bench_model(name, args, cr, th, Path(tmp)))
        if args.epoch:
            epoch = bench_epoch(args, cr, th, Path(tmp))
    info["load_average_end"] = load_average()

    print(f"\nload average at the end: {info['load_average_end']} (at the start: {info['load_average']})")
    print(f"step: zero_grad, forward, cross_entropy, backward, SGD(lr={LR}, momentum={MOMENTUM}).step(); infer: eval() "
          "under no_grad. Ratios chainrule/torch of the medians; targets from the issue (inference: the model's "
          "step target).")
    print(f"peak MiB: ru_maxrss of a child process per framework, import included ({MEMORY_STEPS} training steps). "
          "GFLOP/s: 2·MACs × batch / median (step: 3× forward).\n")
    print_table(results)
    for r in results:
        if "memory" in r:
            m = r["memory"]
            print(f"{r['label']}: after import {m['chainrule']['after_import_mib']:.0f} MiB chainrule, "
                  f"{m['torch']['after_import_mib']:.0f} MiB torch; the training run added "
                  f"{m['chainrule']['peak_mib'] - m['chainrule']['after_import_mib']:.0f} and "
                  f"{m['torch']['peak_mib'] - m['torch']['after_import_mib']:.0f} MiB")
    if epoch and "ratio" in epoch:
        c, t = epoch["chainrule"], epoch["torch"]
        print(f"\nLeNet-5 (modern), one MNIST epoch ({epoch['images']:,} images, batch {epoch['batch']}, "
              f"RandomCrop(28, padding=2) + Normalize, data loading included): chainrule {c['s_per_epoch']:.1f} s "
              f"({c['images_per_s']:,.0f} images/s), torch {t['s_per_epoch']:.1f} s ({t['images_per_s']:,.0f} "
              f"images/s), ratio {epoch['ratio']:.2f}")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump({"meta": info, "results": results, "epoch": epoch}, fh, indent=2)
        print(f"wrote {args.json}")


if __name__ == "__main__":
    memory_child(ARGS) if ARGS.memory_child else main(ARGS)
