"""Set-up shared by the benchmark scripts."""
import gc
import os
import sys
import time

# What ``import chainrule`` sets when it comes before NumPy (chainrule/runtime.py: OpenBLAS's workers
# spin ~0.1 ms after a product instead of ~0.1 s); the scripts here import NumPy first, so they set it.
BLAS_SPIN = "18"
LEAD_IN = 0.1  # seconds of untimed calls before each timed round (see ``interleaved``)


def thread_env(threads, env=None):
    """Thread counts for NumPy's BLAS and torch's pools, which read them once, when first imported:
    written into ``env`` (default: this process's environment, with a warning if NumPy is loaded)."""
    if env is None:
        env = os.environ
        if "numpy" in sys.modules:
            print("warning: numpy was imported before the thread count could be set", file=sys.stderr)
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        env[var] = str(threads)
    env.setdefault("OPENBLAS_THREAD_TIMEOUT", BLAS_SPIN)
    return env


def quartiles(samples):
    """Median, quartiles, interquartile range, minimum and count of ``samples``."""
    import numpy as np

    q1, med, q3 = np.percentile(np.asarray(samples, dtype=np.float64), [25, 50, 75])
    return {"median": float(med), "q1": float(q1), "q3": float(q3), "iqr": float(q3 - q1), "min": float(min(samples)),
            "n": len(samples)}


def timed_calls(fn, calls):
    """A round: ``calls`` timed calls of ``fn``; returns their durations in seconds."""
    def one_round():
        out = []
        for _ in range(calls):
            t0 = time.perf_counter()
            fn()
            out.append(time.perf_counter() - t0)
        return out

    return one_round


def interleaved(runners, rounds, warmup, lead_in):
    """``runners``: name → callable returning a list of samples (one round). Runs ``warmup`` untimed
    rounds of each, then ``rounds`` timed ones, alternating which framework goes first; returns name →
    samples. Before each timed round the other framework's garbage is collected, then this framework
    runs untimed rounds for ``lead_in`` seconds (at least one if ``lead_in`` > 0): the other's worker
    threads, which spin for a while after its calls (torch's OpenMP pool), go idle during untimed work,
    and this one's threads are awake — after ~0.1 s asleep, thread pools on these VMs ran at about half
    speed for the next ~50 ms (chainrule's conv threads measured 8.5 vs 4.5 ms), which a training loop
    never sees."""
    names = list(runners)
    for _ in range(warmup):
        for name in names:
            runners[name]()
    samples = {name: [] for name in names}
    for r in range(rounds):
        for name in (names if r % 2 == 0 else names[::-1]):
            gc.collect()
            end = time.perf_counter() + lead_in
            while lead_in > 0:
                runners[name]()
                if time.perf_counter() >= end:
                    break
            samples[name].extend(runners[name]())
    return samples


def load_average():
    return " ".join(f"{v:.2f}" for v in os.getloadavg()) if hasattr(os, "getloadavg") else "n/a"


ISA_FLAGS = ("avx2", "fma", "avx512f", "avx512bw", "avx512_vnni", "avx512_bf16", "amx_tile")


def machine():
    """The CPU and the kernels each framework picked on it — ratios against torch depend on all three:
    ``cpu`` (model name), ``isa`` (the vector extensions among ISA_FLAGS the CPU reports), ``numpy_blas``
    (NumPy's BLAS, its version and the kernel family it chose, from threadpoolctl) and ``torch_cpu``
    (``torch.backends.cpu.get_cpu_capability()``: the widest ISA torch's kernels use)."""
    import platform

    import torch
    from threadpoolctl import threadpool_info

    model, flags = platform.processor() or platform.machine(), set()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                key, _, value = line.partition(":")
                if key.strip() == "model name":
                    model = value.strip()
                elif key.strip() == "flags":
                    flags = set(value.split())
                    break
    except OSError:  # not Linux: the model from platform, no flags
        pass
    blas = [f"{i['internal_api']} {i.get('version', '?')} ({i.get('architecture', '?')})"
            for i in threadpool_info() if i.get("user_api") == "blas"]
    return {"cpu": model, "isa": " ".join(f for f in ISA_FLAGS if f in flags) or "n/a",
            "numpy_blas": ", ".join(blas) or "n/a", "torch_cpu": torch.backends.cpu.get_cpu_capability()}


def describe_machine(info):
    """One line for a table's header: the CPU, its ISA and each framework's kernels."""
    return (f"CPU {info['cpu']} [{info['isa']}]; NumPy BLAS {info['numpy_blas']}; "
            f"torch CPU capability {info['torch_cpu']}")


def environment(args, **extra):
    """What a result file records about its run: the command, threads, versions, machine, load; plus
    the script's own ``extra`` fields (its arguments and rules)."""
    import platform

    import numpy as np
    import torch

    import chainrule

    return {"command": " ".join([os.path.basename(sys.executable), *sys.argv]), "threads": args.threads,
            "torch_threads": torch.get_num_threads(), "repeat": args.repeat, "warmup": args.warmup,
            "python": platform.python_version(), "numpy": np.__version__, "torch": torch.__version__,
            "chainrule": chainrule.__version__, "machine": platform.machine(), "cpu_count": os.cpu_count(),
            "load_average": load_average(), "dtype": "float32", **machine(), **extra}
