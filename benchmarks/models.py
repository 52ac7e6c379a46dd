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

--sweep, instead of the table (and the memory and the epoch), shows where each framework does better: the
training step of each model (default resnet20) at batches 16, 32, 64, 128, 256, 512 (width ×1) and at
widths ×0.5, ×1, ×2, ×4 of its channels or hidden units (WIDTHS; at the table's batch unless
--sweep-width-batch), each point built, parity-checked and timed as above (the table's steps per round). It
prints ms per step, ms per sample and the ratio, and plots ms per sample against the batch and ms per step
against the width (docs/img/sweep-<model>.png; the CPU and threads in the title).

Usage:
  python benchmarks/models.py [--threads 2] [--repeat 10] [--warmup 1] [--lead-in 0.1]
                              [--models mlp,lenet5,resnet20,vgg11_bn,lstm] [--no-memory] [--no-epoch]
                              [--data-dir PATH] [--json out.json]
  python benchmarks/models.py --sweep [--models resnet20] [--sweep-batches 16,32,64,128,256,512]
                              [--sweep-widths 0.5,1,2,4] [--sweep-width-batch N]
                              [--plot docs/img/sweep-{model}.png] [--threads 2] [--repeat 10] [--json out.json]
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
    "mlp": SimpleNamespace(label="MLP 64-128-64-10", batch=64, input=(64,), target=0.7, calls=(20, 50)),
    "lenet5": SimpleNamespace(label="LeNet-5 (modern)", batch=128, input=(1, 28, 28), target=1.0, calls=(5, 10)),
    "resnet20": SimpleNamespace(label="ResNet-20 (option A)", batch=128, input=(3, 32, 32), target=1.35, calls=(1, 2)),
    "vgg11_bn": SimpleNamespace(label="VGG-11-BN (CIFAR)", batch=64, input=(3, 32, 32), target=1.0, calls=(1, 2)),
    "lstm": SimpleNamespace(label="LSTM(128)×2, 28 steps", batch=128, input=(28, 28), target=1.0, calls=(2, 4)),
}
MEMORY_TARGET = 1.0
ONE_THREAD_TARGETS = {"resnet20": 1.15}  # issue #23: at --threads 1, ResNet-20 ≤ 1.15; the others as at 2
CLASSES, LR, MOMENTUM = 10, 0.01, 0.9
PARITY_STEPS, MEMORY_STEPS = 3, 3
MNIST_MEAN, MNIST_STD, EPOCH_BATCH = 0.1307, 0.3081, 128

# --sweep: the models with a width: their builders' arguments (the zoo's and the twin's share names) at ×w.
WIDTHS = {
    "mlp": lambda w: {"sizes": (64, round(128 * w), round(64 * w), 10)},
    "resnet20": lambda w: {"width": round(16 * w)},
    "lstm": lambda w: {"hidden_size": round(128 * w)},
}
SWEEP_BATCHES, SWEEP_WIDTHS = (16, 32, 64, 128, 256, 512), (0.5, 1, 2, 4)
SWEEP_PLOT = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "docs", "img",
                          "sweep-{model}.png")


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
    p.add_argument("--models", help=f"comma-separated subset of {','.join(MODELS)} (default: all; resnet20 with "
                                    "--sweep)")
    p.add_argument("--no-memory", dest="memory", action="store_false",
                   help="skip the peak-memory child processes")
    p.add_argument("--epoch", action=argparse.BooleanOptionalAction, default=True,
                   help="time one LeNet-5 epoch on MNIST with data loading and augmentation (default: on; "
                        "about half a minute to a minute in all)")
    p.add_argument("--data-dir", help="folder holding mnist/ (default: $CHAINRULE_DATA, else ../shared/data, "
                                      "else ~/.chainrule/data)")
    p.add_argument("--json", metavar="PATH", help="also write the numbers as JSON to PATH")
    p.add_argument("--sweep", action="store_true",
                   help="instead of the table: time one training step against the batch and the width, print "
                        "the points and plot them (see --sweep-batches, --sweep-widths, --plot)")
    p.add_argument("--sweep-batches", default=",".join(map(str, SWEEP_BATCHES)), metavar="LIST",
                   help=f"batches of the sweep at width ×1 (default {','.join(map(str, SWEEP_BATCHES))}; '' none)")
    p.add_argument("--sweep-widths", default=",".join(f"{w:g}" for w in SWEEP_WIDTHS), metavar="LIST",
                   help=f"width multipliers of the sweep at the model's batch (default "
                        f"{','.join(f'{w:g}' for w in SWEEP_WIDTHS)}; '' none); models with a width: "
                        f"{', '.join(WIDTHS)}")
    p.add_argument("--sweep-width-batch", type=int, metavar="N",
                   help="the batch of the width sweep (default: the model's, as in the table: 128 for resnet20)")
    p.add_argument("--plot", default=SWEEP_PLOT, metavar="PATH",
                   help="the sweep's figure, {model} replaced by the model's name (default docs/img/sweep-{model}.png)")
    p.add_argument("--memory-child", nargs=3, metavar=("FRAMEWORK", "MODEL", "WEIGHTS"), help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    args.models = [m.strip() for m in (args.models or ("resnet20" if args.sweep else ",".join(MODELS))).split(",")
                   if m.strip()]
    unknown = sorted(set(args.models) - set(MODELS))
    if unknown:
        p.error(f"unknown model(s) {', '.join(unknown)}; choose from {', '.join(MODELS)}")
    if args.threads < 1 or args.repeat < 1 or args.warmup < 0 or args.lead_in < 0:
        p.error("--threads and --repeat must be positive, --warmup and --lead-in non-negative")
    try:
        args.sweep_batches = [int(b) for b in args.sweep_batches.split(",") if b.strip()]
        args.sweep_widths = [float(w) for w in args.sweep_widths.split(",") if w.strip()]
    except ValueError as e:
        p.error(f"--sweep-batches takes integers, --sweep-widths numbers, comma-separated: {e}")
    if min(args.sweep_batches + args.sweep_widths + [args.sweep_width_batch or 1]) <= 0:
        p.error("--sweep-batches, --sweep-widths and --sweep-width-batch must be positive")
    if args.sweep:
        fixed = [m for m in args.models if m not in WIDTHS]
        if fixed and args.sweep_widths:
            p.error(f"--sweep: {', '.join(fixed)} has no width argument (those with one: {', '.join(WIDTHS)}); "
                    "pass --sweep-widths '' to sweep the batch only")
        if len(args.models) > 1 and "{model}" not in args.plot:
            p.error("--plot: with several models the path must contain {model}")
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

        builders = {  # keyword arguments: a model's width (WIDTHS), named as in its torch twin
            "mlp": lambda sizes=(64, 128, 64, 10): models.mlp(sizes),
            "lenet5": lambda: models.lenet5(variant="modern"),
            "resnet20": models.resnet20,
            "vgg11_bn": lambda: models.vgg_cifar(11),
            "lstm": models.lstm_classifier,
        }
        chainrule.set_default_dtype(chainrule.float32)
        return SimpleNamespace(name=name, build=lambda m, **width: builders[m](**width), tensor=chainrule.tensor,
                               load=lambda model, path: model.load_state_dict(load_file(path)),
                               cross_entropy=F.cross_entropy, sgd=optim.SGD, no_grad=chainrule.no_grad,
                               numpy=lambda t: t.numpy(), dropout=nn.Dropout)
    import safetensors.torch
    import torch
    from _twins import TWINS

    torch.set_num_threads(threads)
    torch.set_default_dtype(torch.float32)

    def build(m, **width):
        torch.manual_seed(0)
        return TWINS[m](**width)

    return SimpleNamespace(name=name, build=build, tensor=lambda a: torch.from_numpy(a.copy()),
                           load=lambda model, path: model.load_state_dict(safetensors.torch.load_file(str(path))),
                           save=lambda model, path: safetensors.torch.save_file(model.state_dict(), str(path)),
                           cross_entropy=torch.nn.functional.cross_entropy, sgd=torch.optim.SGD,
                           no_grad=torch.no_grad, numpy=lambda t: t.detach().numpy(), dropout=torch.nn.Dropout)


def make_batch(batch, shape, seed=1):
    """A random float32 input (batch, *shape) and int64 labels in [0, CLASSES)."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((batch, *shape)).astype(np.float32)
    return x, rng.integers(0, CLASSES, batch).astype(np.int64)


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
    x, y = make_batch(MODELS[name].batch, MODELS[name].input)
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


def twin_pair(name, cr, th, workdir, **width):
    """(chainrule model, torch twin) with the twin's weights, passed through a safetensors file; the file's
    path. ``width``: the builders' width arguments (WIDTHS), the defaults if none."""
    th_model = th.build(name, **width)
    weights = workdir / f"{name}.safetensors"
    th.save(th_model, weights)
    cr_model = cr.build(name, **width)
    cr.load(cr_model, weights)  # strict: every key and shape must match
    return cr_model, th_model, weights


def twin_sides(name, batch, cr, th, workdir, **width):
    """[(framework, model, x, y)] for chainrule and torch: the twin pair and one random batch of ``batch``
    samples in each framework's tensors; the weights file's path."""
    cr_model, th_model, weights = twin_pair(name, cr, th, workdir, **width)
    x, y = make_batch(batch, MODELS[name].input)
    return [(fw, model, fw.tensor(x), fw.tensor(y)) for fw, model in ((cr, cr_model), (th, th_model))], weights


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


def time_interleaved(sides, what, calls, args):
    """Medians and quartiles (ms) per framework of one training step (``what`` 'step') or inference call,
    from rounds of ``calls`` calls, interleaved as benchmarks/_common.py describes."""
    runners = {}
    for fw, model, cx, cy in sides:
        model.train(what == "step")
        fn = train_step(fw, model, cx, cy) if what == "step" else inference(fw, model, cx)
        runners[fw.name] = timed_calls(fn, calls)
    samples = interleaved(runners, args.repeat, args.warmup, args.lead_in)
    return {fw: quartiles([s * 1e3 for s in v]) for fw, v in samples.items()}


def bench_model(name, args, cr, th, workdir):
    spec = MODELS[name]
    sides, weights = twin_sides(name, spec.batch, cr, th, workdir)
    flops = forward_flops(name, sides[0][1], spec)
    parity = check_parity(name, sides)

    result = {"model": name, "label": spec.label, "batch": spec.batch, "input": list(spec.input),
              "target_ratio": ONE_THREAD_TARGETS.get(name, spec.target) if args.threads == 1 else spec.target,
              "forward_flops": flops, "parity": parity}
    for what, calls, factor in (("step", spec.calls[0], 3), ("inference", spec.calls[1], 1)):
        q = time_interleaved(sides, what, calls, args)
        result[what] = {"unit": "ms", "calls_per_round": calls, **q, "ratio": q["chainrule"]["median"] / q["torch"]["median"],
                        "gflops": {fw: factor * flops / (q[fw]["median"] * 1e-3) / 1e9 for fw in q}}
        print(f"  timed {name}: {what}", file=sys.stderr, flush=True)
    del sides
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


# ----- the sweep: step time against batch and width --------------------------------------------------
def sweep_point(name, batch, width, args, cr, th, workdir):
    """One training step of ``name`` at ``batch`` and width ×``width``, after the parity check, in
    interleaved rounds of the table's number of steps."""
    calls = MODELS[name].calls[0]
    build = WIDTHS[name](width) if name in WIDTHS else {}  # batch-only sweeps of the others
    sides, _ = twin_sides(name, batch, cr, th, workdir, **build)
    parity = check_parity(f"{name} at batch {batch}, width ×{width:g}", sides)
    q = time_interleaved(sides, "step", calls, args)
    del sides
    gc.collect()
    print(f"  timed {name}: batch {batch}, width ×{width:g}", file=sys.stderr, flush=True)
    return {"batch": batch, "width": width, "build": build, "calls_per_round": calls, **q,
            "ratio": q["chainrule"]["median"] / q["torch"]["median"],
            "ms_per_sample": {fw: q[fw]["median"] / batch for fw in ("chainrule", "torch")}, "parity": parity}


def sweep_model(name, args, cr, th, workdir):
    """The steps at each batch of ``args.sweep_batches`` (width ×1) and at each width of
    ``args.sweep_widths`` (batch ``args.sweep_width_batch``, default the model's); a point both share is
    timed once."""
    spec, points = MODELS[name], {}
    width_batch = args.sweep_width_batch or spec.batch

    def point(batch, width):
        if (batch, width) not in points:
            points[batch, width] = sweep_point(name, batch, width, args, cr, th, workdir)
        return points[batch, width]

    return {"model": name, "label": spec.label, "width_batch": width_batch,
            "batch": [point(b, 1) for b in args.sweep_batches],
            "width": [point(width_batch, w) for w in args.sweep_widths]}


def print_sweep(sweep):
    def cell(q):
        return f"{q['median']:.2f} ({q['q1']:.2f}-{q['q3']:.2f})"

    print(f"\n{sweep['label']}: one training step against the batch (width ×1) and the width (batch "
          f"{sweep['width_batch']}); ratio chainrule/torch of the medians\n")
    header = ("sweep", "batch", "width", "model arguments", "ms/step chainrule (IQR)", "ms/step torch (IQR)",
              "ms/sample chainrule", "ms/sample torch", "ratio")
    body = [(key, str(p["batch"]), f"×{p['width']:g}", ", ".join(f"{k}={v}" for k, v in p["build"].items()) or "-",
             cell(p["chainrule"]), cell(p["torch"]), f"{p['ms_per_sample']['chainrule']:.3f}",
             f"{p['ms_per_sample']['torch']:.3f}", f"{p['ratio']:.2f}")
            for key in ("batch", "width") for p in sweep[key]]
    print_rows(header, body)


def plot_sweep(sweep, info, path):
    """The figure at ``path``: ms per sample against the batch (log x), ms per step against the width
    (log-log); a line per framework, the quartiles as error bars, the ratio chainrule/torch over each
    point; the CPU and thread count in the title."""
    import textwrap

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter

    def log_label(v, _):  # 20, 50, 100, 200 … rather than 2×10¹
        lead = round(v / 10 ** np.floor(np.log10(v)))
        return f"{v:g}" if lead in (1, 2, 5) else ""

    panels = [key for key in ("batch", "width") if sweep[key]]
    fig, axes = plt.subplots(1, len(panels), figsize=(6.5 * len(panels), 5), squeeze=False)
    for ax, key in zip(axes[0], panels):
        points = sweep[key]
        xs, per = [p[key] for p in points], [p["batch"] if key == "batch" else 1 for p in points]
        for fw, colour in (("chainrule", "tab:blue"), ("torch", "tab:orange")):
            ys = [p[fw]["median"] / n for p, n in zip(points, per)]
            spread = [[(p[fw]["median"] - p[fw]["q1"]) / n for p, n in zip(points, per)],
                      [(p[fw]["q3"] - p[fw]["median"]) / n for p, n in zip(points, per)]]
            ax.errorbar(xs, ys, yerr=spread, fmt="o-", color=colour, capsize=3, label=fw)
        for x, p, n in zip(xs, points, per):
            top = max(p[fw]["q3"] for fw in ("chainrule", "torch")) / n
            ax.annotate(f"{p['ratio']:.2f}", (x, top), textcoords="offset points", xytext=(0, 6), ha="center",
                        fontsize=8, color="0.25")
        ax.set_xscale("log", base=2)
        ax.margins(x=0.08, y=0.12)
        if key == "batch":
            ax.set_xticks(xs, [str(x) for x in xs])
            ax.set_ylim(bottom=0)
            ax.set(xlabel="batch", ylabel="ms per sample (training step / batch)",
                   title="per sample, against the batch (width ×1)")
        else:
            ax.set_xticks(xs, [f"×{x:g}\n" + ", ".join(f"{k}={v}" for k, v in p["build"].items())
                               for x, p in zip(xs, points)])
            ax.set_yscale("log")
            ax.yaxis.set_major_formatter(FuncFormatter(log_label))
            ax.yaxis.set_minor_formatter(FuncFormatter(log_label))
            ax.set(xlabel="width (× the default channels / hidden units)", ylabel="ms per training step (log)",
                   title=f"per step, against the width (batch {sweep['width_batch']})")
        ax.xaxis.set_minor_locator(matplotlib.ticker.NullLocator())
        ax.grid(True, which="major", alpha=0.3)
        ax.legend(fontsize=9)
    threads = info["threads"]
    fig.suptitle(f"{sweep['label']}: one training step (SGD, float32), chainrule and torch, {threads} "
                 f"thread{'s' * (threads > 1)}; the numbers: chainrule time / torch time\n"
                 + textwrap.fill(describe_machine(info), 130), fontsize=9.5)
    fig.tight_layout()
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    print(f"wrote {path}")


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
    print_rows(header, body)


def print_rows(header, body):
    """A plain-text table: the first column left-aligned, the others right-aligned."""
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
    results, epoch, sweeps = [], None, []
    with tempfile.TemporaryDirectory(prefix="chainrule-models-") as tmp:
        if args.sweep:
            sweeps = [sweep_model(name, args, cr, th, Path(tmp)) for name in args.models]
        else:
            for name in args.models:
                results.append(bench_model(name, args, cr, th, Path(tmp)))
            if args.epoch:
                epoch = bench_epoch(args, cr, th, Path(tmp))
    info["load_average_end"] = load_average()

    print(f"\nload average at the end: {info['load_average_end']} (at the start: {info['load_average']})")
    if args.sweep:
        for sweep in sweeps:
            print_sweep(sweep)
            plot_sweep(sweep, info, args.plot.replace("{model}", sweep["model"]))
    else:
        print_report(results, epoch)
    if args.json:
        with open(args.json, "w") as fh:
            json.dump({"meta": info, "results": results, "epoch": epoch, "sweep": sweeps}, fh, indent=2)
        print(f"wrote {args.json}")


def print_report(results, epoch):
    """The table's notes, the table, the memory lines and the epoch line."""
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


if __name__ == "__main__":
    memory_child(ARGS) if ARGS.memory_child else main(ARGS)
