"""Normal equation vs gradient descent: fit time as the number of features grows [note 004 §2.1].

The notes' rule of thumb (Andrew Ng's) says: normal equation below ~10,000 features, gradient descent
above, because solving the p×p system costs O(n·p² + p³) while one gradient step costs O(n·p). This
script measures where the crossover lies on the machine at hand.

Data: ``chainrule.data.datasets.linear_regression(n, p, noise=0.5, collinear=c)`` in float64 — unit-variance
features whose pairwise correlation is c. The Hessian's condition number — and with it the iterations gradient
descent needs — grows like 1 + c·p/(1 − c), and even for c = 0 like ((1 + √(p/n))/(1 − √(p/n)))² as p nears n
(≈ 34 at p = 5,000, n = 10,000): random samples of p independent features look correlated when n is not ≫ p.
Cases, each a full ``LinearRegression(...).fit(X, y)`` (validation, centring/standardizing included):
  normal   solver="normal": centre, XᵀX, equilibrated LU solve (np.linalg.solve)
  gd       solver="gd", lr="auto" (1/λ_max by Lanczos iteration, included in the time), standardize=True,
           tol=--tol (default 1e-6: stop when ‖∇J‖ ≤ 1e-6·‖∇J(0)‖), max_iter=--max-iter
Each (p, case) is timed --repeat times, the two solvers alternating, after one warm-up fit at the smallest p;
the machine is shared with other jobs, so the table reports the **median** of the repeats (all go to --json).
The gd row also reports its iterations and how close it got: the relative excess cost (J_gd − J_normal)/J_normal.

Usage:
  python benchmarks/linear_regression.py [--threads 2] [--repeat 3] [--n 10000]
      [--features 10,20,50,100,200,500,1000,2000,5000] [--collinear 0.0] [--max-iter 10000] [--tol 1e-6]
      [--json out.json]
"""
import argparse
import os
import sys
from pathlib import Path

from _common import thread_env


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--threads", type=int, default=2, help="BLAS threads (default 2)")
    p.add_argument("--repeat", type=int, default=3, help="timed fits per (p, solver); the median is reported")
    p.add_argument("--n", type=int, default=10_000, help="samples (default 10000)")
    p.add_argument("--features", default="10,20,50,100,200,500,1000,2000,5000",
                   help="comma-separated feature counts (default 10,…,5000)")
    p.add_argument("--collinear", type=float, default=0.0, help="pairwise feature correlation c in [0, 1) (default 0)")
    p.add_argument("--max-iter", type=int, default=10_000, help="gradient-descent iteration cap (default 10000)")
    p.add_argument("--tol", type=float, default=1e-6,
                   help="gradient-descent tolerance: stop when ‖∇J‖ ≤ tol·‖∇J(0)‖ (default 1e-6)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", metavar="PATH", help="also write the numbers as JSON to PATH")
    args = p.parse_args(argv)
    args.features = [int(f) for f in args.features.split(",") if f.strip()]
    if args.threads < 1 or args.repeat < 1 or args.n < 2 or not args.features or min(args.features) < 1:
        p.error("threads, repeat, n and features must be positive (n ≥ 2)")
    if not 0 <= args.collinear < 1:
        p.error("--collinear must be in [0, 1)")
    return args


ARGS = parse_args() if __name__ == "__main__" else None
if ARGS is not None:
    thread_env(ARGS.threads)

import json  # noqa: E402
import math  # noqa: E402
import platform  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository root
from chainrule.data.datasets import linear_regression  # noqa: E402
from chainrule.linear_model import ConvergenceWarning, LinearRegression  # noqa: E402

SOLVERS = ("normal", "gd")


def make_model(solver, max_iter, tol):
    if solver == "normal":
        return LinearRegression(solver="normal")
    return LinearRegression(solver="gd", lr="auto", standardize=True, tol=tol, max_iter=max_iter)


def time_fits(X, y, repeat, max_iter, tol):
    """{solver: (seconds of each fit, the last fitted model)}; the solvers alternate fit by fit so that a
    change in the machine's load hits both alike."""
    out = {solver: ([], None) for solver in SOLVERS}
    for _ in range(repeat):
        for solver in SOLVERS:
            model = make_model(solver, max_iter, tol)
            start = time.perf_counter()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)  # reported through converged_ below
                model.fit(X, y)
            out[solver][0].append(time.perf_counter() - start)
            out[solver] = (out[solver][0], model)
    return out


def crossover(rows):
    """First p from which gd stays faster, log-interpolated between the bracketing sizes (None: never)."""
    faster = [r["gd_s"] < r["normal_s"] for r in rows]
    for i in range(len(rows)):
        if all(faster[i:]):
            if i == 0:
                return rows[0]["p"], "at or below"
            a, b = rows[i - 1], rows[i]
            ra, rb = math.log(a["gd_s"] / a["normal_s"]), math.log(b["gd_s"] / b["normal_s"])
            t = ra / (ra - rb)
            return round(math.exp(math.log(a["p"]) + t * (math.log(b["p"]) - math.log(a["p"])))), "about"
    return None, "beyond"


def main(args):
    print(f"chainrule linear-regression benchmark — {platform.processor() or platform.machine()}, "
          f"{os.cpu_count()} CPUs, threads={args.threads}, numpy {np.__version__}, python {platform.python_version()}")
    print(f"n = {args.n} samples, collinear = {args.collinear}, gd tol = {args.tol:g}, "
          f"median of {args.repeat} fits per cell "
          f"(the machine is shared)\n")
    X, y = linear_regression(n=args.n, features=min(args.features), noise=0.5, collinear=args.collinear,
                             seed=args.seed, dtype=np.float64)
    time_fits(X, y, 1, args.max_iter, args.tol)  # warm-up: imports, BLAS thread pool, page faults

    header = (f"{'p':>6} | {'normal (s)':>10} | {'gd (s)':>9} | {'gd/normal':>9} | {'gd iters':>8} | "
              f"{'gd lr':>7} | {'gd excess cost':>14}")
    print(header)
    print("-" * len(header))
    rows = []
    for p in args.features:
        X, y = linear_regression(n=args.n, features=p, noise=0.5, collinear=args.collinear, seed=args.seed + p,
                                 dtype=np.float64)
        timed = time_fits(X, y, args.repeat, args.max_iter, args.tol)
        (normal_times, normal), (gd_times, gd) = timed["normal"], timed["gd"]
        j_normal, j_gd = normal.history_["cost"][-1], gd.history_["cost"][-1]
        row = {
            "p": p, "normal_s": statistics.median(normal_times), "gd_s": statistics.median(gd_times),
            "normal_times": normal_times, "gd_times": gd_times, "gd_iterations": gd.n_iter_,
            "gd_converged": bool(gd.converged_), "gd_lr": gd.lr_, "gd_excess_cost": (j_gd - j_normal) / j_normal,
        }
        rows.append(row)
        iterations = f"{gd.n_iter_}" + ("" if gd.converged_ else "*")
        print(f"{p:>6} | {row['normal_s']:>10.4f} | {row['gd_s']:>9.4f} | {row['gd_s'] / row['normal_s']:>9.2f} | "
              f"{iterations:>8} | {gd.lr_:>7.3f} | {row['gd_excess_cost']:>14.1e}", flush=True)
        del X, y

    if not all(r["gd_converged"] for r in rows):
        print("* gd hit max_iter before its tolerance")
    where, how = crossover(rows)
    if where is None:
        verdict = f"gradient descent is not faster anywhere up to p = {rows[-1]['p']}"
    else:
        verdict = f"gradient descent becomes faster {how} p = {where} features"
    print(f"\nmeasured crossover: {verdict} (n = {args.n}, collinear = {args.collinear}); "
          f"the notes' rule of thumb: p ≈ 10,000")
    if args.json:
        Path(args.json).write_text(json.dumps({
            "n": args.n, "collinear": args.collinear, "tol": args.tol, "threads": args.threads, "repeat": args.repeat,
            "crossover": where, "rows": rows,
        }, indent=2))


if __name__ == "__main__":
    main(ARGS)
