"""Note 004: gradient descent's learning rate, and why features are scaled.

Gradient descent on the least-squares cost J(θ) = (1/n) Σ (h_θ(x) − y)² steps θ ← θ − lr·∇J(θ). On this
quadratic every direction of the Hessian H = ∇²J contracts by |1 − lr·λ| per step, so a step is stable
only while lr < 2/λ_max: far below it gradient descent crawls (too small), near it the steepest direction
overshoots and zigzags, past it every step overshoots by more than it corrects and the cost explodes (too
large). And the slowest direction contracts by 1 − lr·λ_min ≥ 1 − 2/κ (κ = λ_max/λ_min), so elongated
contours — features on different scales — cost about κ iterations, while standardized features make the
contours round (κ ≈ 1) and convergence fast [note 004 §1.3, §1.6].

Everything runs through ``chainrule.linear_model.LinearRegression(solver="gd")``: its ``history_`` holds the
parameter path drawn on the cost contours (``linear_model.cost`` on a grid), its ``DivergenceError`` reports
the blow-up. Learning rates are given as fractions of the largest stable step 2/λ_max of each problem.
"""
import os
import warnings

import numpy as np

from ..data.datasets import linear_regression
from ..linear_model import ConvergenceWarning, DivergenceError, LinearRegression, cost
from .base import Result

NAME = "learning-rate-and-scaling"
NOTE = "004"
CLAIM = ("gradient descent with too small a learning rate converges slowly and with too large a one overshoots "
         "and diverges; standardized features make the cost contours round and gradient descent converge in far "
         "fewer iterations than features on different scales")

# learning rates as fractions of the largest stable step 2/λ_max
RATES = {"too small": 0.01, "good": 0.4, "large": 0.95, "too large": 1.05}
COLORS = {"too small": "C0", "good": "C2", "large": "C1", "too large": "C3"}
TOL = 1e-6  # gd stops when ‖∇J‖ ≤ TOL·‖∇J(θ₀)‖
SLOW = 10  # "too small" must need at least SLOW× the good rate's iterations (or not converge at all)


def _design(X, fit_intercept):
    return np.column_stack([np.ones(len(X)), X]) if fit_intercept else X


def hessian_eigenvalues(X, fit_intercept):
    """Eigenvalues of ∇²J = (2/n)ÃᵀÃ (Ã = [1 | X] with an intercept), ascending."""
    A = _design(X, fit_intercept)
    return np.linalg.eigvalsh(2 * A.T @ A / len(A))


def manual_path(X, y, lr, steps, fit_intercept):
    """The same update θ ← θ − lr·(2/n)Ãᵀ(Ãθ − y) written out, for drawing a diverging run beyond the point
    where the library stops it (it raises at the first step that raises the cost)."""
    A = _design(X, fit_intercept)
    theta = np.zeros(A.shape[1])
    path = [theta]
    for _ in range(steps):
        theta = theta - lr * (2 / len(y)) * A.T @ (A @ theta - y)
        path.append(theta)
    path = np.array(path)
    return path if fit_intercept else np.column_stack([np.zeros(len(path)), path])  # columns (b, w…) as history_


def fit(X, y, lr, fit_intercept, max_iter, standardize=False):
    """One gradient-descent fit; returns a dict with the path, the costs, iterations, and how it ended."""
    model = LinearRegression(solver="gd", lr=lr, fit_intercept=fit_intercept, tol=TOL, max_iter=max_iter,
                             standardize=standardize)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # reported through converged_
        try:
            model.fit(X, y)
        except DivergenceError as e:
            return {"diverged": True, "converged": False, "iterations": e.iteration, "cost": e.history, "theta": None,
                        "diverged_cost": e.cost, "initial_cost": e.initial_cost, "lr": e.lr, "model": None}
    return {"diverged": False, "converged": bool(model.converged_), "iterations": int(model.n_iter_),
                "cost": model.history_["cost"], "theta": model.history_["theta"], "lr": model.lr_, "model": model}


def overshoot_fraction(path, optimum, direction):
    """Fraction of steps whose error θ − θ* along ``direction`` flips sign (zigzag across the valley)."""
    e = (path - optimum) @ direction
    e = e[np.abs(e) > 1e-12 * max(np.abs(e).max(), 1e-300)]
    return float(np.mean(np.sign(e[1:]) != np.sign(e[:-1]))) if len(e) > 1 else 0.0


def learning_rate_runs(X, y, fit_intercept, max_iter):
    """Gradient descent at every rate of RATES on one problem; θ* by the normal equation."""
    eig = hessian_eigenvalues(X, fit_intercept)
    lr_max = 2 / eig[-1]
    exact = LinearRegression(solver="normal", fit_intercept=fit_intercept).fit(X, y)
    optimum = np.r_[exact.intercept_, exact.coef_]
    A = _design(X, fit_intercept)
    top = np.linalg.eigh(A.T @ A)[1][:, -1]  # steepest direction of J
    if not fit_intercept:
        top = np.r_[0.0, top]
    runs = {}
    for name, fraction in RATES.items():
        r = fit(X, y, fraction * lr_max, fit_intercept, max_iter)
        if r["diverged"]:
            r["theta"] = manual_path(X, y, fraction * lr_max, max(r["iterations"], 6), fit_intercept)
            r["manual_cost_matches"] = bool(np.isclose(
                cost(X, y, r["theta"][r["iterations"], 1:], r["theta"][r["iterations"], 0]), r["diverged_cost"]))
        r["overshoot_fraction"] = overshoot_fraction(r["theta"], optimum, top)
        r["fraction"] = fraction
        runs[name] = r
    return {"runs": runs, "lr_max": lr_max, "eigenvalues": eig, "optimum": optimum,
            "j_min": float(exact.history_["cost"][-1])}


def scaling_runs(X, y, ratio, max_iter):
    """Column 0 of X multiplied by ``ratio`` (the same quantity in units ``ratio``× smaller); gd at lr = 1/λ_max
    ("auto", the best fixed step of each problem) on the raw and on the standardized features."""
    Xs = X * np.array([ratio, 1.0])
    reference = LinearRegression(solver="normal", fit_intercept=False).fit(Xs, y).coef_
    j_min = float(cost(Xs, y, reference))
    out = {}
    for key, standardize in (("unscaled", False), ("standardized", True)):
        r = fit(Xs, y, "auto", False, max_iter, standardize=standardize)
        model = r["model"]
        Z = model.scaler_.transform(Xs) if standardize else Xs
        eig = hessian_eigenvalues(Z, False)
        r.update(condition=float(eig[-1] / eig[0]), X=Z,
                 excess_cost=float((cost(Xs, y, model.coef_) - j_min) / j_min))
        out[key] = r
    return out


def _plot_lr(one, two, X1, y1, X2, y2, path):
    from .plotting import figure, save

    fig, axes = figure(1, 3, figsize=(16, 4.6))
    ax = axes[0]
    w_star = one["optimum"][1]
    span = 2.2 * max(abs(w_star), 1.0)
    grid = np.linspace(w_star - span, w_star + span, 400)
    ax.plot(grid, cost(X1, y1, grid[:, None]), color="0.6", lw=1)
    for name, r in one["runs"].items():
        w = r["theta"][:25, 1]
        keep = np.abs(w - w_star) <= span
        ax.plot(w[keep], cost(X1, y1, w[keep, None]), "o-", ms=3, lw=0.8, color=COLORS[name],
                label=f"{name}: lr = {r['fraction']:g}·2/λ")
    ax.set_xlabel("θ₁")
    ax.set_ylabel("J(θ₁)")
    ax.set_title("one parameter (h = θ₁x): paths on the cost curve", fontsize=10)
    ax.legend(fontsize=8)

    ax = axes[1]
    b_star, w_star = two["optimum"]
    rb, rw = 2.5 * max(abs(b_star), 1.0), 2.5 * max(abs(w_star), 1.0)
    B, W = np.meshgrid(np.linspace(b_star - rb, b_star + rb, 160), np.linspace(w_star - rw, w_star + rw, 160))
    J = cost(X2, y2, W[..., None], B)
    ax.contour(B, W, J, levels=np.geomspace(J.min() + 1e-3, J.max(), 18), colors="0.7", linewidths=0.7)
    for name, r in two["runs"].items():
        th = r["theta"][:60]
        keep = (np.abs(th[:, 0] - b_star) <= rb) & (np.abs(th[:, 1] - w_star) <= rw)
        ax.plot(th[keep, 0], th[keep, 1], "o-", ms=2.5, lw=0.8, color=COLORS[name], label=name)
    ax.plot([b_star], [w_star], "k*", ms=10)
    ax.set_xlabel("θ₀ (intercept)")
    ax.set_ylabel("θ₁")
    ax.set_title("two parameters: paths on the contours of J(θ₀, θ₁)", fontsize=10)
    ax.legend(fontsize=8)

    ax = axes[2]
    for name, r in two["runs"].items():
        c = np.asarray(r["cost"]) - two["j_min"]
        ax.semilogy(np.arange(len(c)), np.maximum(c, 1e-16), color=COLORS[name],
                    label=f"{name}: " + ("diverged" if r["diverged"] else f"{r['iterations']} it."
                                         + ("" if r["converged"] else " (not converged)")))
    # the too-small run takes the whole budget while the others finish in a sliver of it: a log step axis
    ax.set_xscale("symlog", linthresh=10, linscale=0.5)
    ax.set_xlim(left=0)
    ax.set_xlabel("iteration (linear to 10, log after)")
    ax.set_ylabel("J(θ) − J(θ*)")
    ax.set_title("two parameters: cost above the minimum", fontsize=10)
    ax.legend(fontsize=8)
    save(fig, path)


def _plot_scaling(pair, ratio, table, path):
    from .plotting import figure, log_ticks, save

    fig, axes = figure(1, 3, figsize=(16, 4.8))
    for ax, key in zip(axes[:2], ("unscaled", "standardized")):
        r = pair[key]
        coef = r["model"].coef_ * (r["model"].scaler_.scale_ if key == "standardized" else 1.0)
        rad = 1.6 * np.abs(coef).max()
        W1, W2 = np.meshgrid(np.linspace(coef[0] - rad, coef[0] + rad, 200),
                             np.linspace(coef[1] - rad, coef[1] + rad, 200))
        J = cost(r["X"], pair["y"], np.stack([W1, W2], axis=-1))
        ax.contour(W1, W2, J, levels=np.geomspace(J.min() + 1e-3, J.max(), 20), colors="0.7", linewidths=0.7)
        th = r["theta"]
        step = max(1, len(th) // 300)
        ax.plot(th[::step, 1], th[::step, 2], ".-", ms=2, lw=0.8, color="C3" if key == "unscaled" else "C2")
        ax.plot([coef[0]], [coef[1]], "k*", ms=10)
        ax.set_aspect("equal")
        ax.set_xlabel("θ₁")
        ax.set_ylabel("θ₂")
        ax.set_title(f"{key} (feature 1 ×{ratio:g}): κ = {r['condition']:.3g}, {r['iterations']} iterations",
                     fontsize=10)
    ax = axes[2]
    ratios = [row[0] for row in table]
    ax.loglog(ratios, [row[1] for row in table], "o-", color="C3", label="unscaled")
    ax.loglog(ratios, [row[3] for row in table], "o-", color="C2", label="standardized")
    for row in table:
        if not row[2]:
            ax.annotate("cap (not converged)", (row[0], row[1]), fontsize=7, xytext=(-60, 8),
                        textcoords="offset points")
    ax.set_xlabel("scale ratio between the two features")
    ax.set_ylabel(f"iterations to ‖∇J‖ ≤ {TOL:g}·‖∇J(0)‖")
    ax.set_title("gradient descent at lr = 1/λ_max of each problem", fontsize=10)
    log_ticks(ax, "x", values=ratios)
    ax.legend(fontsize=8)
    save(fig, path)


def run(quick=False, seed=0, out="."):
    n = 50 if quick else 200
    max_iter = 2000
    X1, y1 = linear_regression(n=n, features=1, noise=0.5, seed=seed, dtype=np.float64)
    one = learning_rate_runs(X1, y1, fit_intercept=False, max_iter=max_iter)
    X2, y2 = linear_regression(n=n, features=1, noise=0.5, bias=1.0, seed=seed + 1, dtype=np.float64)
    X2 = X2 + 1.0  # a feature with a nonzero mean: the intercept and slope interact, the contours are tilted ellipses
    two = learning_rate_runs(X2, y2, fit_intercept=True, max_iter=max_iter)

    ratios = (1, 3, 10, 30) if quick else (1, 3, 10, 30, 100)
    scale_iter = 20_000 if quick else 200_000
    X, y = linear_regression(n=4 * n, features=2, noise=0.5, seed=seed + 2, dtype=np.float64)
    scaling = {ratio: scaling_runs(X, y, ratio, scale_iter) for ratio in ratios}
    shown = 10
    pair = dict(scaling[shown], y=y)

    lr_ok, lr_figures = True, {}
    for label, problem in (("one parameter", one), ("two parameters", two)):
        runs = problem["runs"]
        good, small, large, huge = runs["good"], runs["too small"], runs["large"], runs["too large"]
        slow = (not small["converged"]) or small["iterations"] >= SLOW * good["iterations"]
        ok = (good["converged"] and slow and large["converged"] and large["overshoot_fraction"] > 0.5
              and good["overshoot_fraction"] < 0.5 and huge["diverged"] and huge.get("manual_cost_matches", False))
        lr_ok &= ok
        lr_figures[label] = dict(
            lr_max=problem["lr_max"], condition=float(problem["eigenvalues"][-1] / problem["eigenvalues"][0]),
            **{f"{name}_iterations": r["iterations"] for name, r in runs.items()},
            **{f"{name}_converged": r["converged"] for name, r in runs.items()},
            **{f"{name}_overshoot_fraction": r["overshoot_fraction"] for name, r in runs.items()},
            too_large_cost_at_divergence=huge.get("diverged_cost"), too_large_initial_cost=huge.get("initial_cost"),
        )
    table = [[ratio, s["unscaled"]["iterations"], s["unscaled"]["converged"], s["standardized"]["iterations"],
              s["standardized"]["converged"], s["unscaled"]["condition"], s["standardized"]["condition"],
              s["unscaled"]["excess_cost"], s["standardized"]["excess_cost"]] for ratio, s in scaling.items()]
    standardized_fast = all(row[4] and row[3] <= 50 and row[6] < 1.5 for row in table)
    unscaled_slow = all((not row[2]) or row[1] >= 10 * row[3] for row in table if row[0] >= 10)
    same_answer = all(row[8] < 1e-6 and (row[7] < 1e-6 or not row[2]) for row in table)  # (J − J*)/J*
    scaling_ok = standardized_fast and unscaled_slow and same_answer
    held = lr_ok and scaling_ok

    _plot_lr(one, two, X1, y1, X2, y2, os.path.join(out, "learning_rate_paths.png"))
    _plot_scaling(pair, shown, table, os.path.join(out, "feature_scaling.png"))

    t, o = lr_figures["two parameters"], lr_figures["one parameter"]
    it = lambda f, k: f"{f[k + '_iterations']}" + ("" if f[k + "_converged"] else " (cap, not converged)")
    worst = table[-1]
    verdict = (f"iterations to tol {TOL:g} for one / two parameters, the rate as a fraction of the largest stable "
               f"step 2/λ_max: too small (0.01) {it(o, 'too small')} / {it(t, 'too small')}, good (0.4) "
               f"{it(o, 'good')} / {it(t, 'good')}, large (0.95) {it(o, 'large')} / {it(t, 'large')} with the error "
               f"along the steepest direction changing sign at {o['large_overshoot_fraction']:.0%} / "
               f"{t['large_overshoot_fraction']:.0%} of the steps (overshoot); too large (1.05) diverged at iteration "
               f"{o['too large_iterations']} / {t['too large_iterations']} (two parameters: J rose from "
               f"{t['too_large_initial_cost']:.3g} to {t['too_large_cost_at_divergence']:.3g}). Scaling, lr = 1/λ_max "
               f"each: with one feature ×{worst[0]:g} the contours have κ = {worst[5]:.3g} and gradient descent took "
               f"{worst[1]}{'' if worst[2] else ' (cap, not converged)'} iterations, standardized κ = {worst[6]:.3g} "
               f"and {worst[3]} iterations (×{shown}: {scaling[shown]['unscaled']['iterations']} vs "
               f"{scaling[shown]['standardized']['iterations']})")
    if not held:
        parts = [k for k, v in (("learning-rate behaviour", lr_ok), ("standardized fast", standardized_fast),
                                ("unscaled slow", unscaled_slow), ("same solution", same_answer)) if not v]
        verdict = f"did not hold: {', '.join(parts)}. " + verdict

    return Result(
        name=NAME, note=NOTE, claim=CLAIM,
        setup=(f"LinearRegression(solver='gd', tol={TOL:g}, max_iter={max_iter}) on chainrule.data.datasets."
               f"linear_regression data (noise 0.5, float64): one parameter h = θ₁x (n = {n}, no intercept) and "
               f"two parameters h = θ₀ + θ₁x (n = {n}, x shifted by +1 so the contours are tilted ellipses), "
               "learning rates 0.01 / 0.4 / 0.95 / 1.05 × 2/λ_max (λ_max of the Hessian (2/n)ÃᵀÃ by eigvalsh); θ* "
               f"by the normal equation. Scaling: two unit-variance features (n = {4 * n}, no intercept), the first "
               f"multiplied by {', '.join(map(str, ratios))}; gradient descent with lr='auto' (1/λ_max, the best "
               "fixed step for each) on the raw features vs standardize=True (StandardScaler), max_iter "
               f"{scale_iter:,}; κ = λ_max/λ_min of the cost in the optimizer's coordinates; the fit reached: "
               "(J − J*)/J* with J* by the normal equation"),
        numbers={"learning_rate": lr_figures,
                 "scaling": {str(row[0]): dict(zip(
                     ("unscaled_iterations", "unscaled_converged", "standardized_iterations", "standardized_converged",
                      "unscaled_condition", "standardized_condition", "unscaled_excess_cost",
                      "standardized_excess_cost"), row[1:])) for row in table}},
        held=bool(held),
        in_part=not held and (lr_ok or scaling_ok),
        verdict=verdict,
        figures=["learning_rate_paths.png", "feature_scaling.png"],
        tables=[
            {"title": "learning rate (two parameters)",
             "columns": ["rate", "× 2/λ_max", "iterations", "converged", "overshoot fraction"],
             "rows": [[name, r["fraction"], r["iterations"], "diverged" if r["diverged"] else r["converged"],
                       r["overshoot_fraction"]] for name, r in two["runs"].items()]},
            {"title": "feature scaling: iterations at lr = 1/λ_max",
             "columns": ["scale ratio", "unscaled iterations", "converged", "standardized iterations", "converged",
                         "κ unscaled", "κ standardized", "(J − J*)/J* unscaled", "(J − J*)/J* standardized"],
             "rows": table},
        ],
    )
