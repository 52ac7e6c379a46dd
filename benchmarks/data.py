"""Input pipeline speed: one epoch of MNIST train through chainrule's DataLoader, against the time of a
LeNet-5 training epoch (the work it feeds).

Cases (epochs timed after one warm-up epoch; median over --repeat):
  loader_plain     DataLoader(MNIST train, batch_size=128, shuffle=True) with Normalize(0.1307, 0.3081)
  loader_augment   the same with RandomCrop(28, padding=2) before Normalize — the issue's figure
  torch_loader     reference: torch.utils.data.DataLoader over an in-memory TensorDataset of the same uint8
                   images (per-sample fetch + collate, then float conversion and normalization), no crop
  lenet_step       one chainrule LeNet-5 training step at batch 128 (conv5-pool-conv5-pool-120-84-10, ReLU,
                   max-pool, SGD momentum 0.9), median over --lenet-steps after 2 warm-up steps;
                   × 469 batches = the estimated LeNet-5 epoch

Usage:
  python benchmarks/data.py [--threads 2] [--repeat 3] [--lenet-steps 10] [--root PATH] [--no-torch] [--json out.json]
"""
import argparse
import os
import sys
from pathlib import Path

from _common import thread_env


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--threads", type=int, default=2, help="BLAS / torch threads (default 2)")
    p.add_argument("--repeat", type=int, default=3, help="timed epochs per loader case (default 3)")
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--lenet-steps", type=int, default=10, help="timed LeNet-5 steps; 0 skips the case (default 10)")
    p.add_argument("--root", help="data folder holding mnist/ (default: $CHAINRULE_DATA, else ../shared/data)")
    p.add_argument("--no-torch", action="store_true", help="skip the torch.utils.data reference")
    p.add_argument("--json", metavar="PATH", help="also write the numbers as JSON to PATH")
    return p.parse_args(argv)


ARGS = parse_args() if __name__ == "__main__" else None
if ARGS is not None:
    thread_env(ARGS.threads)

import json  # noqa: E402
import platform  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository root
import chainrule as cr  # noqa: E402
from chainrule import nn, optim  # noqa: E402
from chainrule.data import ArrayDataset, DataLoader, datasets  # noqa: E402
from chainrule.data import transforms as T  # noqa: E402

MEAN, STD = 0.1307, 0.3081


def find_root(root):
    if root:
        return Path(root)
    env = os.environ.get("CHAINRULE_DATA")
    if env and (Path(env) / "mnist").is_dir():
        return Path(env)
    return Path(__file__).resolve().parents[1].parent / "shared" / "data"


def time_epochs(loader, repeat):
    """Seconds per epoch (warm-up epoch first); each batch is touched so nothing is left lazy."""
    times = []
    for i in range(repeat + 1):
        start = time.perf_counter()
        seen = 0
        for x, y in loader:
            seen += len(y)
        elapsed = time.perf_counter() - start
        if i:
            times.append(elapsed)
    return times, seen


def lenet5():
    return nn.Sequential(
        nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
        nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, 10),
    )


def time_lenet_steps(train, batch_size, steps):
    cr.manual_seed(0)
    model = lenet5()
    opt = optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    batches = iter(DataLoader(train, batch_size=batch_size, shuffle=True, seed=0))
    times = []
    for i in range(steps + 2):
        x, y = next(batches)
        start = time.perf_counter()
        loss = nn.functional.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        if i >= 2:
            times.append(time.perf_counter() - start)
    return times


def torch_epoch(images, labels, batch_size, repeat, threads):
    import torch
    from torch.utils.data import DataLoader as TorchLoader
    from torch.utils.data import TensorDataset as TorchTensorDataset

    torch.set_num_threads(threads)
    torch.manual_seed(0)
    loader = TorchLoader(TorchTensorDataset(torch.from_numpy(images), torch.from_numpy(labels)),
                         batch_size=batch_size, shuffle=True)
    times = []
    for i in range(repeat + 1):
        start = time.perf_counter()
        for x, y in loader:
            x = (x.float() / 255 - MEAN) / STD
        if i:
            times.append(time.perf_counter() - start)
    return times


def main(args):
    root = find_root(args.root)
    start = time.perf_counter()
    mnist = datasets.MNIST(root, train=True)
    load_s = time.perf_counter() - start
    n, bs = len(mnist), args.batch_size
    batches = -(-n // bs)
    print(f"chainrule data benchmark — {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
          f"threads={args.threads}, numpy {np.__version__}, python {platform.python_version()}")
    print(f"MNIST train: {n} images loaded and md5-verified in {load_s:.2f} s; batch {bs} → {batches} batches/epoch\n")

    results = {"load_s": load_s, "batch_size": bs, "images": n}
    cases = {
        "loader_plain": T.Normalize(MEAN, STD),
        "loader_augment": T.Compose([T.RandomCrop(28, padding=2), T.Normalize(MEAN, STD)]),
    }
    for name, transform in cases.items():
        loader = DataLoader(ArrayDataset(mnist.data, mnist.targets, transform=transform), batch_size=bs,
                            shuffle=True, seed=0)
        times, seen = time_epochs(loader, args.repeat)
        assert seen == n
        med = statistics.median(times)
        results[name] = {"s_per_epoch": med, "images_per_s": n / med, "all": times}
        print(f"{name:16s} {med:7.3f} s/epoch  {n / med:10,.0f} images/s  ({', '.join(f'{t:.3f}' for t in times)})")

    if not args.no_torch:
        try:
            times = torch_epoch(mnist.data.copy(), mnist.targets, bs, args.repeat, args.threads)
            med = statistics.median(times)
            results["torch_loader"] = {"s_per_epoch": med, "images_per_s": n / med, "all": times}
            print(f"{'torch_loader':16s} {med:7.3f} s/epoch  {n / med:10,.0f} images/s  (reference, no crop)")
        except ImportError:
            print("torch_loader     skipped (torch not installed)")

    if args.lenet_steps > 0:
        train = ArrayDataset(mnist.data, mnist.targets, transform=T.Normalize(MEAN, STD))
        times = time_lenet_steps(train, bs, args.lenet_steps)
        step = statistics.median(times)
        epoch = step * batches
        results["lenet_step"] = {"s_per_step": step, "est_s_per_epoch": epoch, "all": times}
        aug = results["loader_augment"]["s_per_epoch"]
        print(f"{'lenet_step':16s} {step * 1e3:7.1f} ms/step → LeNet-5 epoch ≈ {epoch:.1f} s")
        print(f"\nloader with augmentation = {aug / epoch:.1%} of a LeNet-5 training epoch "
              f"({aug:.2f} s vs {epoch:.1f} s)")
        results["loader_fraction_of_lenet_epoch"] = aug / epoch

    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    sys.exit(main(ARGS))
