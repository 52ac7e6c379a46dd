"""Note 004: the normal equation vs gradient descent, and the pseudo-inverse when XᵀX is singular.

The notes' rule of thumb (Andrew Ng's): solve θ = (XᵀX)⁻¹Xᵀy directly below ~10,000 features, use
gradient descent above, because the direct solve costs O(n·p² + p³) and a gradient step O(n·p). How many
steps gradient descent needs is the other half of the trade: about κ·ln(1/tol) with κ the condition number of
the (standardized) features' covariance, which grows as p approaches n even for independent features. So the
crossover depends on the accuracy asked of gradient descent and on how fast the machine runs a matrix-matrix
product (XᵀX, BLAS-3) compared with the matrix-vector products of a gradient step (BLAS-2, memory-bound).
This experiment times both solvers of ``chainrule.linear_model.LinearRegression`` on this machine (the method of
``benchmarks/linear_regression.py``: full ``fit`` calls, solvers alternating, medians) and reports the crossover
it finds — or that it finds none in the range it can afford. The machine is shared, so one solver counts as
faster at a size only when it won at least 80% of the back-to-back rounds (all of them when there are 3);
anything closer is a tie.

When XᵀX is singular — a duplicated column, all columns equal, more features than samples — the inverse does not
exist; the notes prescribe the pseudo-inverse. ``LinearRegression(solver="normal")`` then warns
(``LinAlgWarning``) and returns the minimum-norm least-squares solution, checked here against ``np.linalg.pinv``.
"""
import math
import os
import statistics
import time
import warnings

import numpy as np

from ..data.datasets import linear_regression
from ..linear_model import ConvergenceWarning, LinAlgWarning, LinearRegression, cost
from ..runtime import num_threads
from .base import Result

NAME = "normal-equation-vs-gd"
NOTE = "004"
CLAIM = ("the normal equation fits linear regression in one step and is the faster choice below about 10,000 "
         "features (gradient descent above); when XᵀX is singular (collinear features, fewer samples than features) "
         "the pseudo-inverse still gives the least-squares solution")

RULE_OF_THUMB = 10_000
TOLS = {"gd": 1e-6, "gd_loose": 1e-3}  # stop when ‖∇J‖ ≤ tol·‖∇J(0)‖; 1e-6 leaves J within ~1e-8 of the minimum
THREADS = 1  # BLAS threads: on a shared 2-core machine a second OpenBLAS thread that gets descheduled stalls every
#              product (a 2000×50 normal-equation fit measured 270 ms with 2 threads, 1.2 ms with 1)


def _model(solver, max_iter):
    if solver == "normal":
        return LinearRegression(solver="normal")
    return LinearRegression(solver="gd", lr="auto", standardize=True, tol=TOLS[solver], max_iter=max_iter)


def time_fits(X, y, repeat, max_iter):
    """{solver: (seconds of each fit, the last fitted model)}, the solvers alternating fit by fit, their order
    reversed every round, so that a change of the machine's load hits all alike."""
    times, fitted = {s: [] for s in ("normal", *TOLS)}, {}
    order = list(times)
    for i in range(repeat):
        for solver in (order if i % 2 == 0 else order[::-1]):
            model = _model(solver, max_iter)
            start = time.perf_counter()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)  # reported through converged_
                model.fit(X, y)
            times[solver].append(time.perf_counter() - start)
            fitted[solver] = model
    return times, fitted


def winner(normal_times, gd_times, share=0.8):
    """"normal" or "gd": the solver that was faster in at least ``share`` of the rounds (the two timed back to back
    in each round, so that both see the same load), else "tie". On a shared machine one round can be hit by another
    job; a difference that does not show in nearly every round is not a measured difference."""
    need = math.ceil(share * len(normal_times))
    gd_faster = sum(g < n for n, g in zip(normal_times, gd_times))
    if len(normal_times) - gd_faster >= need:
        return "normal"
    if gd_faster >= need:
        return "gd"
    return "tie"


def crossover(rows, key):
    """The smallest p measured from which gradient descent (``key``) won (see ``winner``) at every larger p measured,
    or None."""
    for i, row in enumerate(rows):
        if all(r[key + "_winner"] == "gd" for r in rows[i:]):
            return row["p"]
    return None


def singular_case(X, y):
    """Fit a design whose XᵀX is singular: the warning, the rank, the distance to the pseudo-inverse solution and
    the cost reached by the normal equation (pseudo-inverse) and by gradient descent."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = LinearRegression(solver="normal").fit(X, y)
    warned = [w for w in caught if issubclass(w.category, LinAlgWarning)]
    Xc, yc = X - X.mean(axis=0), y - y.mean()
    pinv = np.linalg.pinv(Xc) @ yc  # the minimum-norm least-squares solution
    j_pinv = float(cost(X, y, pinv, y.mean() - X.mean(axis=0) @ pinv))
    with warnings.catch_warnings(record=True) as caught_gd:
        warnings.simplefilter("always")
        gd = LinearRegression(solver="gd", lr="auto", tol=1e-8, max_iter=20_000).fit(X, y)
    j_normal = float(model.history_["cost"][-1])
    return {"shape": list(X.shape), "warned": bool(warned), "message": str(warned[0].message) if warned else "",
            "rank": model.rank_,
            "coef_vs_pinv": float(np.abs(model.coef_ - pinv).max() / max(np.abs(pinv).max(), 1e-300)),
            "cost_normal": j_normal, "cost_pinv": j_pinv, "cost_gd": float(gd.history_["cost"][-1]),
            "gd_iterations": int(gd.n_iter_), "gd_converged": bool(gd.converged_),
            "gd_warned": any(issubclass(w.category, LinAlgWarning) for w in caught_gd)}


def singular_cases(seed):
    X, y = linear_regression(n=200, features=3, noise=0.5, seed=seed, dtype=np.float64)
    duplicated = singular_case(np.column_stack([X, X[:, 0]]), y)
    Xe, ye = linear_regression(n=200, features=4, noise=0.5, collinear=1.0, seed=seed, dtype=np.float64)
    equal = singular_case(Xe, ye)
    Xw, yw = linear_regression(n=30, features=60, noise=0.5, seed=seed, dtype=np.float64)
    wide = singular_case(Xw, yw)
    return {"duplicated column (200×4)": duplicated, "all columns equal, collinear=1 (200×4)": equal,
            "fewer samples than features (30×60)": wide}


def _plot(rows, n, path):
    from .plotting import figure, log_ticks, save

    fig, axes = figure(1, 2, figsize=(12, 4.4))
    p = [r["p"] for r in rows]
    ax = axes[0]
    ax.loglog(p, [r["normal_s"] for r in rows], "o-", color="C0", label="normal equation")
    ax.loglog(p, [r["gd_s"] for r in rows], "s-", color="C3", label=f"gradient descent, tol {TOLS['gd']:g}")
    ax.loglog(p, [r["gd_loose_s"] for r in rows], "^--", color="C1",
              label=f"gradient descent, tol {TOLS['gd_loose']:g}")
    ax.set_xlabel("number of features p")
    ax.set_ylabel("fit time, median (s)")
    ax.set_title(f"LinearRegression.fit, n = {n} samples, {THREADS} BLAS thread\n(the notes' crossover: p ≈ 10,000)",
                 fontsize=10)
    log_ticks(ax, "x", values=p)
    ax.legend(fontsize=8)
    ax = axes[1]
    ax.semilogx(p, [r["gd_iterations"] for r in rows], "s-", color="C3", label=f"iterations, tol {TOLS['gd']:g}")
    ax.semilogx(p, [r["gd_loose_iterations"] for r in rows], "^--", color="C1",
                label=f"iterations, tol {TOLS['gd_loose']:g}")
    ax.semilogx(p, [r["condition"] for r in rows], "k:", label="κ of the standardized features")
    ax.set_yscale("log")
    ax.set_xlabel("number of features p")
    ax.set_ylabel("gradient-descent iterations; condition number κ")
    ax.set_title(f"why gradient descent slows down as p grows toward n = {n}", fontsize=10)
    log_ticks(ax, "x", values=p)
    log_ticks(ax)
    ax.legend(fontsize=8)
    save(fig, path)


def run(quick=False, seed=0, out="."):
    n = 2000 if quick else 10_000
    features = (10, 50, 200, 500) if quick else (10, 30, 100, 300, 1000, 2000, 3000, 4000)
    repeat = 5 if quick else 3
    max_iter = 10_000
    rows = []
    with num_threads(THREADS):
        X, y = linear_regression(n=n, features=features[0], noise=0.5, seed=seed, dtype=np.float64)
        time_fits(X, y, 1, max_iter)  # warm-up: imports, page faults
        for p in features:
            X, y = linear_regression(n=n, features=p, noise=0.5, seed=seed + p, dtype=np.float64)
            times, fitted = time_fits(X, y, repeat, max_iter)
            j_normal = float(fitted["normal"].history_["cost"][-1])
            Z = fitted["gd"].scaler_.transform(X)
            eig = np.linalg.eigvalsh(np.cov(Z, rowvar=False)) if p > 1 else np.ones(1)
            row = {"p": p, "normal_s": statistics.median(times["normal"]), "condition": float(eig[-1] / eig[0])}
            for key in TOLS:
                model = fitted[key]
                row.update({f"{key}_s": statistics.median(times[key]), f"{key}_iterations": int(model.n_iter_),
                            f"{key}_converged": bool(model.converged_),
                            f"{key}_excess_cost": (float(model.history_["cost"][-1]) - j_normal) / j_normal})
            row.update({f"{key}_winner": winner(times["normal"], times[key]) for key in TOLS})
            row["times"] = {k: [round(t, 6) for t in v] for k, v in times.items()}
            rows.append(row)
            del X, y, Z
        singular = singular_cases(seed)

    cross = {key: crossover(rows, key) for key in TOLS}
    normal_wins = all(r["gd_winner"] == "normal" for r in rows)
    gd_wins = [r["p"] for r in rows if r["gd_winner"] == "gd"]
    ties = [r["p"] for r in rows if r["gd_winner"] == "tie"]
    rule_ok = normal_wins  # every p measured is below 10,000: there the normal equation should win
    singular_ok = all(c["warned"] and c["coef_vs_pinv"] < 1e-6 and abs(c["cost_normal"] - c["cost_pinv"])
                      <= 1e-9 * max(c["cost_pinv"], 1e-12) + 1e-12 for c in singular.values())
    held = rule_ok and singular_ok
    in_part = not held and (singular_ok or any(r["gd_winner"] == "normal" for r in rows))

    _plot(rows, n, os.path.join(out, "normal_equation_vs_gd.png"))

    last = rows[-1]
    sizes = ", ".join(f"{r['p']:,}" for r in rows)
    ratios = ", ".join(f"{r['gd_s'] / r['normal_s']:.2f}" for r in rows)
    timing = (f"with {THREADS} BLAS thread and n = {n:,}, median time of gradient descent at tol {TOLS['gd']:g} over "
              f"that of the normal equation at p = {sizes}: {ratios}; ")

    def _ps(some):
        return ", ".join(f"{r['p']:,}" for r in some)

    def rounds(r):
        won = sum(g < n for n, g in zip(r["times"]["normal"], r["times"]["gd"]))
        return f"gradient descent won {won} of {len(r['times']['gd'])} rounds"

    if normal_wins:
        timing += (f"the normal equation was faster in nearly every round at every p up to {last['p']:,} "
                   f"({last['normal_s']:.3g} s vs {last['gd_s']:.3g} s, {last['gd_iterations']} gd iterations) — no "
                   "crossover below the notes' 10,000 in the range measured")
    else:
        won = [r for r in rows if r["gd_winner"] == "normal"]
        tied = [r for r in rows if r["gd_winner"] == "tie"]
        lost = [r for r in rows if r["gd_winner"] == "gd"]
        said = []
        if won:
            said.append(f"the normal equation won nearly every round at p = {_ps(won)}")
        if tied:
            said.append("at p = " + "; ".join(f"{r['p']:,} ({r['gd_s'] / r['normal_s']:.2f}×, {rounds(r)})"
                                               for r in tied)
                        + " neither solver was faster in nearly every round: no consistent winner on this shared "
                        "machine" + (", although gradient descent's median was lower" if any(
                            r["gd_s"] < r["normal_s"] for r in tied) else ""))
        if lost:
            said.append(f"gradient descent won nearly every round at p = {_ps(lost)}"
                        + (f", and from p = {cross['gd']:,} on" if cross["gd"] else "")
                        + " — below the notes' 10,000")
        timing += "; ".join(said)
    loose = (f"; at the loose tol {TOLS['gd_loose']:g} (J up to {max(r['gd_loose_excess_cost'] for r in rows):.1e} "
             "above the minimum, relative) gradient descent "
             + (f"won nearly every round from p = {cross['gd_loose']:,} on" if cross["gd_loose"]
                else "was not clearly faster either")
             + f" (at p = {last['p']:,}: {last['gd_loose_s']:.3g} s)")
    sing = "; ".join(f"{name}: {'LinAlgWarning, ' if c['warned'] else 'NO warning, '}rank {c['rank']}, "
                     f"|θ − pinv| {c['coef_vs_pinv']:.1e}" for name, c in singular.items())
    verdict = f"{timing}{loose}. Singular XᵀX — {sing}."

    return Result(
        name=NAME, note=NOTE, claim=CLAIM,
        setup=(f"chainrule.data.datasets.linear_regression(n = {n:,}, p, noise 0.5, independent unit-variance "
               f"features, float64), p ∈ {features}; each case a full LinearRegression.fit: solver='normal' (centre, "
               "XᵀX, equilibrated LU solve) vs solver='gd' (lr='auto' = 1/λ_max, standardize=True, max_iter "
               f"{max_iter:,}) at tol {TOLS['gd']:g} and {TOLS['gd_loose']:g}; median of {repeat} fits per cell, the "
               f"solvers alternating, after a warm-up; BLAS limited to {THREADS} thread (chainrule.num_threads) on a "
               "shared machine. Singular cases: a duplicated column, the dataset's collinear=1 (all columns equal), 30 "
               "samples × 60 features; compared with np.linalg.pinv of the centred design; gradient descent "
               "(tol 1e-8) on the same data for the cost it reaches"),
        numbers={"n": n, "threads": THREADS, "rows": rows, "crossover": cross, "normal_faster_everywhere": normal_wins,
                 "gd_clearly_faster_at": gd_wins, "ties_at": ties,
                 "singular": singular},
        held=bool(held),
        in_part=bool(in_part),
        verdict=verdict,
        figures=["normal_equation_vs_gd.png"],
        tables=[
            {"title": f"fit time vs number of features (n = {n:,}, median of {repeat})",
             "columns": ["p", "normal (s)", f"gd tol {TOLS['gd']:g} (s)", "gd/normal", "gd iterations",
                         f"gd tol {TOLS['gd_loose']:g} (s)", "iterations", "excess cost at loose tol", "κ"],
             "rows": [[r["p"], r["normal_s"], r["gd_s"], r["gd_s"] / r["normal_s"], r["gd_iterations"],
                       r["gd_loose_s"], r["gd_loose_iterations"], r["gd_loose_excess_cost"], r["condition"]]
                      for r in rows]},
            {"title": "singular XᵀX: the pseudo-inverse",
             "columns": ["case", "LinAlgWarning", "rank", "|θ − pinv| (rel.)", "J normal", "J pinv", "J gd",
                         "gd iterations"],
             "rows": [[name, c["warned"], c["rank"], c["coef_vs_pinv"], c["cost_normal"], c["cost_pinv"], c["cost_gd"],
                       c["gd_iterations"]] for name, c in singular.items()]},
        ],
    )
