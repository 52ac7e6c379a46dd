"""Data-parallel training over MPI: ResNet-20 throughput with 1 process × T threads against P processes ×
1 thread on the same cores, the time each step spends in allreduce, and the ring-allreduce cost model
for the zoo. (chainrule only: torch's DDP would need its own process group; the question here is what
chainrule.distributed costs and gains.)

Throughput (default mode): the same global batch (--batch, 64) of random CIFAR-shaped images
(3×32×32, float32) and labels, one training step = forward, cross-entropy, zero_grad, backward,
SGD(momentum 0.9).step(). Configurations, each in fresh processes:

  1 process × 1 thread           the bare model (no DDP), the whole batch: the baseline for scaling
  1 process × 2 threads          the same with BLAS/OpenMP using 2 threads
  2 processes × 1 thread         DistributedDataParallel, --batch/2 per process, BatchNorm per process
  2 processes × 1 thread + SyncBN  the same with SyncBatchNorm (statistics over the global batch)

After --warmup steps, --steps steps are timed one by one (a barrier before each, so every rank starts
together; the time is rank 0's); the table gives the median step, the images/s it implies
(global batch / median step), and for DDP the mean time per step inside MPI gradient calls
("allreduce", overlapped with backward or not), the part of it backward waited at its end
("exposed"), and how many buckets per step started while backward was still running. Exposed time
includes waiting for the slower rank: on a loaded machine that skew, not the transfer, dominates.
Each 2-process run also times bare MPI_Allreduce of several sizes (median of 30), printed under the
table: the machine's latency and bandwidth as the ring model sees them.

Zoo mode (--zoo): gradient bytes per step of every zoo model (float32 parameters, as built by
default), and the ring-allreduce prediction 2(N−1)·k·α + 2·(N−1)/N · S/β for S bytes in k buckets
(DistributedDataParallel's default layout: 1 MiB first, then 25 MiB; a larger parameter alone), for
N = 8, 64, 512 processes on 10 Gbit/s (α = 25 µs, TCP) and 100 Gbit/s (α = 3 µs, RDMA) networks.
The table in docs/distributed.md is this output.

Usage:
  python benchmarks/distributed.py [--batch 64] [--steps 5] [--rounds 3] [--warmup 2] [--configs 1x1,2x1]
                                   [--json out.json]
  python benchmarks/distributed.py --zoo [--json out.json]
(needs the distributed extra: pip install '.[distributed]'; mpiexec is taken from beside the Python
executable, else PATH)
"""
import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import sysconfig
import time

from _common import quartiles, thread_env

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CONFIGS = {  # name: (processes, threads per process, SyncBatchNorm)
    "1x1": (1, 1, False),
    "1x2": (1, 2, False),
    "2x1": (2, 1, False),
    "2x1-syncbn": (2, 1, True),
}
LABELS = {"1x1": "1 process × 1 thread", "1x2": "1 process × 2 threads", "2x1": "2 processes × 1 thread",
          "2x1-syncbn": "2 processes × 1 thread, SyncBN"}
NETWORKS = {"10 Gbit/s": (10e9 / 8, 25e-6), "100 Gbit/s": (100e9 / 8, 3e-6)}  # bytes/s, α per message hop
PROCESSES = (8, 64, 512)


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--batch", type=int, default=64, help="global batch (default 64)")
    p.add_argument("--steps", type=int, default=5, help="timed steps per configuration and round (default 5)")
    p.add_argument("--rounds", type=int, default=3,
                   help="rounds (default 3): every configuration runs once per round, the order reversed every "
                        "other round, so that a load that comes and goes falls on all of them alike")
    p.add_argument("--warmup", type=int, default=2, help="untimed steps first (default 2)")
    p.add_argument("--configs", default=",".join(CONFIGS), help=f"comma-separated, of {', '.join(CONFIGS)}")
    p.add_argument("--zoo", action="store_true", help="gradient bytes of the zoo and the ring-allreduce predictions")
    p.add_argument("--json", metavar="PATH", help="also write the numbers as JSON to PATH")
    p.add_argument("--worker", help=argparse.SUPPRESS)
    return p.parse_args(argv)


# ----- one configuration, in its own processes ----------------------------------------------------
def worker(args):
    processes, threads, sync_bn = CONFIGS[args.worker]
    from threadpoolctl import threadpool_limits

    threadpool_limits(threads)
    sys.path.insert(0, ROOT)
    import numpy as np

    import chainrule as cr
    from chainrule import distributed as dist
    from chainrule import models, optim
    from chainrule.nn.functional import cross_entropy

    dist.init()
    n, r = dist.world_size(), dist.rank()
    if n != processes:
        raise SystemExit(f"{args.worker}: expected {processes} processes, got {n}")
    if args.batch % n:
        raise SystemExit(f"--batch {args.batch} must be divisible by {n}")
    cr.manual_seed(0)
    model = models.resnet20()
    if sync_bn:
        model = dist.convert_sync_batchnorm(model)
    net = dist.DistributedDataParallel(model) if n > 1 else model
    opt = optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((args.batch, 3, 32, 32)).astype(np.float32)
    y = rng.integers(0, 10, args.batch)
    per = args.batch // n
    x, y = cr.Tensor(x[r * per:(r + 1) * per]), cr.Tensor(y[r * per:(r + 1) * per])

    def step():
        loss = cross_entropy(net(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()

    for _ in range(args.warmup):
        step()
    if n > 1:
        net.reset_stats()
    times = []
    for _ in range(args.steps):
        dist.barrier()
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    result = {"config": args.worker, "processes": n, "threads": threads, "sync_bn": sync_bn, "batch": args.batch,
              "times": times, "grad_bytes": sum(p.data.nbytes for p in model.parameters())}
    if n > 1:
        result.update(net.stats, buckets=net.bucket_sizes)
        result["raw_allreduce"] = raw_allreduce(dist, [8, 64 * 1024, result["grad_bytes"], 16 * 2 ** 20])
    if r == 0:
        print("RESULT " + json.dumps(result), flush=True)


def raw_allreduce(dist, sizes, repeat=30):
    """Median seconds of an in-place float32 MPI_Allreduce of each size (bytes)."""
    import numpy as np

    world, mpi = dist.comm.world(), dist.comm._MPI
    out = {}
    for size in sizes:
        buf = np.ones(max(size // 4, 1), dtype=np.float32)
        samples = []
        for i in range(repeat + 3):
            world.Barrier()
            start = time.perf_counter()
            world.Allreduce(mpi.IN_PLACE, buf, op=mpi.SUM)
            if i >= 3:
                samples.append(time.perf_counter() - start)
        out[str(buf.nbytes)] = float(np.median(samples))
    return out


# ----- the driver ------------------------------------------------------------------------------------
def find_mpiexec():
    for folder in (os.path.dirname(sys.executable), sysconfig.get_path("scripts")):
        candidate = os.path.join(folder, "mpiexec")
        if os.access(candidate, os.X_OK):
            return candidate
    return shutil.which("mpiexec")


def run_config(name, args):
    processes, threads, _ = CONFIGS[name]
    env = thread_env(threads, dict(os.environ))
    command = [sys.executable, os.path.abspath(__file__), "--worker", name, "--batch", str(args.batch),
               "--steps", str(args.steps), "--warmup", str(args.warmup)]
    if processes > 1:
        mpiexec = find_mpiexec()
        if mpiexec is None:
            raise SystemExit("no mpiexec found: pip install '.[distributed]'")
        command = [mpiexec, "-n", str(processes)] + command
    done = subprocess.run(command, check=False, env=env, capture_output=True, text=True)
    lines = [line[7:] for line in done.stdout.splitlines() if line.startswith("RESULT ")]
    if done.returncode or not lines:
        raise SystemExit(f"{name} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    return json.loads(lines[0])


def throughput(args):
    names = [c for c in args.configs.split(",") if c]
    for name in names:
        if name not in CONFIGS:
            raise SystemExit(f"unknown configuration {name!r}; choose from {', '.join(CONFIGS)}")
    print(f"ResNet-20 training, global batch {args.batch} (3×32×32 float32), {args.rounds} rounds of {args.steps} "
          f"timed steps after {args.warmup}; load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    runs = {name: [] for name in names}
    for i in range(args.rounds):
        for name in (names if i % 2 == 0 else names[::-1]):
            runs[name].append(run_config(name, args))
    results = [merge(name, runs[name], args.batch) for name in names]
    print(f"{'configuration':34s} {'step (median ± IQR)':>22s} {'images/s':>9s} {'allreduce/step':>15s} "
          f"{'exposed/step':>13s} {'buckets (started early)':>24s}")
    for res in results:
        ar = f"{res['allreduce_s_per_step'] * 1e3:.1f} ms" if "allreduce_s_per_step" in res else "—"
        ex = f"{res['exposed_s_per_step'] * 1e3:.1f} ms" if "exposed_s_per_step" in res else "—"
        nb = f"{len(res['buckets'])} ({res['early_launches_per_step']:.1f})" if "buckets" in res else "—"
        print(f"{LABELS[res['config']]:34s} {res['median_step_s'] * 1e3:12.0f} ± {res['iqr_s'] * 1e3:5.0f} ms "
              f"{res['images_per_s']:9.1f} {ar:>15s} {ex:>13s} {nb:>24s}")
    print(f"load average at the end: {os.getloadavg()[0]:.2f}")
    for res in results:
        if "raw_allreduce" in res:
            shown = ", ".join(f"{_size(int(k))}: {v * 1e6:.0f} µs" for k, v in res["raw_allreduce"].items())
            print(f"bare MPI_Allreduce, {res['processes']} processes on this machine: {shown}")
            break
    return results


def merge(name, runs, batch):
    """One configuration's rounds: medians over all timed steps, communication totals over all steps."""
    import numpy as np

    times = [t for run in runs for t in run["times"]]
    q = quartiles(times)
    med, iqr = q["median"], q["iqr"]
    res = {k: v for k, v in runs[0].items() if k not in ("times", "raw_allreduce", "steps", "comm_seconds",
                                                         "wait_seconds", "allreduce_calls", "early_launches")}
    res.update(times=times, median_step_s=med, iqr_s=iqr, images_per_s=batch / med)
    if "steps" in runs[0]:
        steps = sum(run["steps"] for run in runs)
        res.update(allreduce_s_per_step=sum(run["comm_seconds"] for run in runs) / steps,
                   exposed_s_per_step=sum(run["wait_seconds"] for run in runs) / steps,
                   allreduce_calls_per_step=sum(run["allreduce_calls"] for run in runs) / steps,
                   early_launches_per_step=sum(run["early_launches"] for run in runs) / steps)
        res["raw_allreduce"] = {k: float(np.median([run["raw_allreduce"][k] for run in runs]))
                                for k in runs[0]["raw_allreduce"]}
    return res


def _size(nbytes):
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if nbytes >= scale:
            return f"{nbytes / scale:.3g} {unit}"
    return f"{nbytes} B"


def ring_allreduce_seconds(nbytes, processes, bandwidth, alpha, buckets=1):
    """2(N−1)·k·α + 2·(N−1)/N · S/β: each of the k buckets takes 2(N−1) ring steps of one message
    latency; every rank sends (and receives) 2·(N−1)/N of the S bytes."""
    return 2 * (processes - 1) * buckets * alpha + 2 * (processes - 1) / processes * nbytes / bandwidth


def zoo(args):
    sys.path.insert(0, ROOT)
    import gc

    from chainrule import models
    from chainrule.distributed import bucket_layout

    rows = []
    for name in models.list_models():
        kwargs = {"sizes": [784, 128, 128, 10]} if name == "mlp" else {}
        model = models.get_model(name, **kwargs)
        trainable = [p for p in model.parameters() if p.requires_grad]
        params = sum(p.data.size for p in trainable)
        rows.append({"model": name, "parameters": int(params), "grad_bytes": int(params * 4),
                     "buckets": len(bucket_layout(trainable[::-1]))})  # DDP's default layout
        del model
        gc.collect()
    for row in rows:
        row["allreduce_s"] = {f"{net} N={n}": ring_allreduce_seconds(row["grad_bytes"], n, *NETWORKS[net],
                                                                      buckets=row["buckets"])
                              for net in NETWORKS for n in PROCESSES}
    head = " | ".join(f"{net}, N={n}" for net in NETWORKS for n in PROCESSES)
    print("| model | parameters | gradient bytes/step (fp32) | buckets | " + head + " |")
    print("|---|---:|---:|---:|" + "---:|" * len(NETWORKS) * len(PROCESSES))
    for row in sorted(rows, key=lambda r: r["grad_bytes"]):
        times = " | ".join(_time(t) for t in row["allreduce_s"].values())
        print(f"| {row['model']} | {row['parameters']:,} | {_size(row['grad_bytes'])} | {row['buckets']} | {times} |")
    return rows


def _time(seconds):
    return f"{seconds * 1e3:.1f} ms" if seconds < 1 else f"{seconds:.2f} s"


def main():
    args = parse_args()
    if args.worker:
        return worker(args)
    results = zoo(args) if args.zoo else throughput(args)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"command": " ".join([os.path.basename(sys.executable)] + sys.argv), "results": results,
                       "python": platform.python_version(), "machine": platform.machine(), "cpus": os.cpu_count(),
                       "load_average": os.getloadavg(), "networks": NETWORKS}, f, indent=1)


if __name__ == "__main__":
    main()
