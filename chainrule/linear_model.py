"""Linear regression two ways: the normal equation and gradient descent [note 004].

    from chainrule.linear_model import LinearRegression
    model = LinearRegression(solver="gd", lr="auto", standardize=True).fit(X, y)
    model.coef_, model.intercept_, model.score(X, y), model.history_["cost"]

The model is h_θ(x) = θ₀ + θ₁x₁ + … + θ_p x_p = b + x·w, fitted by minimizing the cost of note 004

    J(θ) = (1/n) [ Σᵢ (h_θ(xᵢ) − yᵢ)²  +  l2 · ‖w‖² ]                      (intercept b not penalized)

with **1/n, not 1/2n**: J is the mean squared error, as the notes write it. Its gradient is
∇J = (2/n) [Ãᵀ(Ãθ − y) + l2·(0, w)] with Ã = [1 | X], so a step θ ← θ − lr·∇J with this ``lr``
equals a step of the 1/(2n) convention (Andrew Ng's course) with α = 2·lr. ``l2`` sits inside the
1/n, so ``l2`` is exactly scikit-learn's ``Ridge(alpha=l2)`` (which minimizes ‖y − Xw − b‖² + α‖w‖²).

Solvers (``solver=``):

- ``"normal"``: the normal equation θ = (XᵀX)⁻¹Xᵀy — one step, no learning rate, no scaling [note 004 §2].
  With an intercept the columns and y are centred first (block elimination of the intercept row:
  b = ȳ − x̄·w), then (XcᵀXc + l2·I) w = Xcᵀyc is equilibrated to unit diagonal and solved by LU
  (``np.linalg.solve``), never by forming an inverse. If XᵀX is singular or ill-conditioned — collinear
  features, a constant feature, more features than samples [note 004 §2.2] — it falls back to the
  pseudo-inverse (``np.linalg.lstsq``: the minimum-norm least-squares solution) and warns why
  (``LinAlgWarning``).
- ``"gd"``: batch gradient descent, all parameters updated simultaneously from the same residuals
  [note 004 §1.4–1.5]; one iteration = one pass over the data. Stops when ‖∇J(θ)‖ ≤ tol·‖∇J(θ₀)‖ —
  a criterion that does not depend on ``lr``, so a learning rate too small to get there within
  ``max_iter`` is reported as not converged (``ConvergenceWarning``) instead of stopping early because the
  cost barely moves.
- ``"sgd"``: stochastic gradient descent, one sample per update, samples reshuffled every epoch.
  One-sample updates are inherently sequential (each uses the θ the previous one produced), so this is
  the one solver with a Python loop over samples within an epoch; it is kept tight (a dot and an axpy).
- ``"minibatch"``: ``batch_size`` samples per update, each update vectorized.
  The stochastic solvers count ``max_iter`` in epochs (as ``sklearn.linear_model.SGDRegressor``).
  Their gradient never vanishes with a constant step (sampling noise), so they stop when the epoch's
  full-data cost failed to beat the best cost so far by more than ``tol``·best for ``n_iter_no_change``
  consecutive epochs (scikit-learn's rule, with a relative tol).
- ``"auto"``: the notes' rule of thumb (Andrew Ng's) — the normal equation up to ``auto_threshold`` =
  10,000 features, gradient descent (``"gd"``) beyond, because solving the p×p system costs O(p³) while a
  gradient step costs O(n·p). A rule of thumb, not a law: ``benchmarks/linear_regression.py`` measures the
  crossover on the machine at hand.

``standardize=True`` fits the iterative solvers on features standardized with the data module's
``StandardScaler`` (round cost contours, fast convergence [note 004 §1.6]) and reports ``coef_`` and
``intercept_`` in the original units. It changes the optimization path, not the model: the cost being
minimized is the same J (the ridge penalty is carried over as l2/σⱼ² per standardized coefficient).
The normal equation needs no scaling and ignores it.

A learning rate too large makes the cost grow: the fit raises ``DivergenceError`` naming the iteration and
the cost (no NaN coefficients are ever stored).
"""
import inspect
import math
import warnings

import numpy as np

from .data.preprocessing import NotFittedError, StandardScaler
from .random import Generator, rng
from .tensor import Tensor

__all__ = ["ConvergenceWarning", "DivergenceError", "LinAlgWarning", "LinearRegression", "cost"]

SOLVERS = ("auto", "normal", "gd", "sgd", "minibatch")
# Above this estimated condition number of the equilibrated XᵀX the normal equation has lost ~8 of its
# 16 digits (its error grows like κ(XᵀX)·eps = κ(X)²·eps) while lstsq on X loses only κ(X)·eps ≈ 4: switch.
MAX_CONDITION = 1e8
DEFAULT_STOCHASTIC_LR = 0.01  # lr=None for sgd/minibatch, as sklearn's SGDRegressor(eta0=0.01)
PATH_MAX_FEATURES = 2  # the parameter path is recorded for 1–2 features (drawable on cost contours)


class DivergenceError(ArithmeticError):
    """Gradient descent diverged: the cost grew instead of falling (learning rate too large).

    An ``ArithmeticError`` because it is a numerical blow-up of an iteration, the family of Python's
    ``OverflowError`` and NumPy's ``FloatingPointError`` (``except ArithmeticError`` catches both), not a
    bad argument: whether an ``lr`` is too large depends on the data (the largest eigenvalue of XᵀX/n).
    Attributes: ``solver``, ``iteration``, ``cost`` (J there), ``initial_cost``, ``lr``, ``history``
    (the costs up to and including the diverged one, for plotting), ``max_stable_lr`` (full-batch bound
    2/λ_max(∇²J), or None).
    """

    def __init__(self, message, *, solver, iteration, cost, initial_cost, lr, history, max_stable_lr=None):
        super().__init__(message)
        self.solver, self.iteration, self.cost, self.initial_cost = solver, iteration, cost, initial_cost
        self.lr, self.history, self.max_stable_lr = lr, history, max_stable_lr


class ConvergenceWarning(UserWarning):
    """An iterative solver hit ``max_iter`` before its stopping rule (as ``sklearn.exceptions``')."""


class LinAlgWarning(RuntimeWarning):
    """XᵀX was singular or ill-conditioned, so the pseudo-inverse was used (as ``scipy.linalg``')."""


def cost(X, y, coef, intercept=0.0, l2=0.0):
    """J(θ) = (1/n)[Σᵢ (b + xᵢ·w − yᵢ)² + l2·‖w‖²] for one θ or a whole grid of them at once.

    X (n, p), y (n,), coef (..., p), intercept () or broadcastable to coef's leading shape (...).
    Returns (...): e.g. coef of shape (100, 100, 2) from a meshgrid gives the 100×100 cost surface to
    draw ``history_["theta"]`` on [note 004 §1.4: cost contours]. X, y in the optimizer's coordinates:
    ``model.scaler_.transform(X)`` when the model was fitted with ``standardize=True``.
    """
    X, y = np.asarray(X, dtype=np.float64), np.asarray(y, dtype=np.float64)
    coef = np.asarray(coef, dtype=np.float64)
    residual = coef @ X.T + np.asarray(intercept, dtype=np.float64)[..., None] - y  # (..., n)
    return ((residual**2).sum(axis=-1) + l2 * (coef**2).sum(axis=-1)) / len(y)


def _array(a, name, method):
    """Tensor/array-like → float64 ndarray, refusing non-numeric data and NaN/Inf."""
    a = a.data if isinstance(a, Tensor) else np.asarray(a)
    if a.dtype.kind not in "biuf":
        raise TypeError(f"LinearRegression.{method}: {name} must be numeric, got dtype {a.dtype} (shape {a.shape})")
    a = a.astype(np.float64, copy=False)
    finite = np.isfinite(a)
    if not finite.all():
        where = np.argwhere(~finite)
        bad = a[tuple(where[0])]
        kinds = " and ".join(k for k, has in (("NaN", np.isnan(a).any()), ("Inf", np.isinf(a).any())) if has)
        raise ValueError(
            f"LinearRegression.{method}: {name} (shape {a.shape}) contains {kinds}: {len(where)} entries, the first "
            f"{bad} at index {tuple(int(i) for i in where[0])}; remove or impute them before fitting"
        )
    return a


def _check_X(X, method):
    X = _array(X, "X", method)
    if X.ndim != 2:
        hint = " (one feature: X.reshape(-1, 1); one sample: X.reshape(1, -1))" if X.ndim == 1 else ""
        raise ValueError(
            f"LinearRegression.{method}: X must be 2-D (n_samples, n_features), got shape {X.shape}{hint}"
        )
    if X.shape[0] == 0 or X.shape[1] == 0:
        raise ValueError(f"LinearRegression.{method}: X must have at least 1 sample and 1 feature, got shape {X.shape}")
    return X


def _check_y(y, X, method):
    y = _array(y, "y", method)
    if y.ndim != 1:
        raise ValueError(
            f"LinearRegression.{method}: y must be 1-D (n_samples,), got shape {y.shape}"
            + ("; use y.ravel()" if y.ndim == 2 and 1 in y.shape else "; multi-output y is not supported")
        )
    if len(y) != len(X):
        raise ValueError(
            f"LinearRegression.{method}: X and y have different numbers of samples: X has {len(X)} "
            f"(shape {X.shape}), y has {len(y)} (shape {y.shape})"
        )
    return y


def _is_int(v):
    return isinstance(v, (int, np.integer)) and not isinstance(v, bool)


def _largest_curvature(Z, pen, fit_intercept, max_steps=60, rtol=1e-2):
    """λ_max of the Hessian ∇²J = (2/n)(ÃᵀÃ + diag(0, pen)), Ã = [1 | Z], by Lanczos iteration.

    Matrix-free (two matvecs per step, like one gradient step). The largest Ritz value rises to λ_max from
    below and, unlike the power method, converges fast even when the top eigenvalues cluster (isotropic data),
    so ~10–20 steps suffice; it stops when that value changes by less than ``rtol`` — a step size needs λ_max
    only roughly: lr = 1/λ̂ stays stable (< 2/λ_max) for any λ̂ > λ_max/2. Fixed seed: reproducible.
    """
    n, p = Z.shape

    def hessian_times(v):  # (ÃᵀÃ + diag(0, pen)) v without forming Ã
        u = Z @ v[1:] + v[0]
        out = np.empty_like(v)
        out[0] = u.sum() if fit_intercept else 0.0
        out[1:] = Z.T @ u + pen * v[1:]
        return out

    q = np.random.default_rng(0).standard_normal(p + 1)
    if not fit_intercept:
        q[0] = 0.0  # stay in the coefficients' subspace
    q /= np.linalg.norm(q)
    q_prev, beta, alphas, betas, top = np.zeros_like(q), 0.0, [], [], 0.0
    for _ in range(min(max_steps, p + 1)):
        w = hessian_times(q)
        alpha = float(q @ w)
        w -= alpha * q + beta * q_prev
        alphas.append(alpha)
        tridiagonal = np.diag(alphas) + np.diag(betas, 1) + np.diag(betas, -1)
        previous, top = top, float(np.linalg.eigvalsh(tridiagonal)[-1])
        beta = float(np.linalg.norm(w))
        if abs(top - previous) <= rtol * top or beta <= 1e-12 * max(top, 1e-300):
            break
        betas.append(beta)
        q_prev, q = q, w / beta
    return 2 * max(top, 0.0) / n


class LinearRegression:
    """Ordinary least squares / ridge regression with scikit-learn's face and note 004's two solvers.

    Parameters
        solver: "auto" (default), "normal", "gd", "sgd" or "minibatch" — see the module docstring.
        fit_intercept: learn b (θ₀); False fits y ≈ Xw through the origin.
        l2: ridge strength ≥ 0 in J = (1/n)[Σ(h−y)² + l2‖w‖²] — equals ``sklearn.linear_model.Ridge(alpha=l2)``.
        lr: learning rate of the iterative solvers (the step on ∇J of the 1/n cost; = α/2 of the 1/2n
            convention): a positive float; "auto" (``"gd"`` only): 1/λ_max(∇²J), found by Lanczos iteration
            — half the largest stable step 2/λ_max; None (default): "auto" for ``"gd"`` (so ``solver="auto"``
            past its threshold needs no tuning), 0.01 for ``"sgd"``/``"minibatch"`` (SGDRegressor's eta0).
        max_iter: iterations for ``"gd"``, epochs for ``"sgd"``/``"minibatch"`` (one gd iteration is one epoch).
        epochs: alias of ``max_iter`` (overrides it when given).
        tol: ``"gd"``: stop when ‖∇J‖ ≤ tol·‖∇J(θ₀)‖; stochastic: the relative cost improvement of the rule above.
        batch_size: samples per ``"minibatch"`` update.
        standardize: iterative solvers work on standardized features (``StandardScaler``); results in original units.
        shuffle: reshuffle the samples every epoch (stochastic solvers).
        random_state: None (chainrule's default generator, seeded by ``chainrule.manual_seed``), an int, or a
            ``chainrule.Generator`` — the shuffling of the stochastic solvers.
        n_iter_no_change: epochs without improvement before a stochastic solver stops.
        auto_threshold: ``"auto"`` uses the normal equation for n_features ≤ this, gradient descent above.

    Attributes after ``fit``
        coef_ (p,), intercept_ (float), n_features_in_, solver_ (the solver that ran), lr_ (the learning rate
        used, or None), n_iter_ (iterations/epochs; 1 for the normal equation), converged_ (bool), rank_
        (rank of the design seen by the normal equation, or None), scaler_ (the fitted StandardScaler, or None),
        history_: {"cost": (k+1,) J(θ) before the first and after every iteration/epoch (the normal equation:
        [J(0), J(θ*)], its one step), "theta": (k+1, 1+p) the path (θ₀=b, θ₁..θ_p) for p ≤ 2 — in the
        optimizer's coordinates, i.e. standardized ones when ``standardize=True`` — else None}.
    """

    def __init__(self, solver="auto", *, fit_intercept=True, l2=0.0, lr=None, max_iter=1000, epochs=None, tol=1e-6,
                 batch_size=32, standardize=False, shuffle=True, random_state=None, n_iter_no_change=5,
                 auto_threshold=10_000):
        self.solver, self.fit_intercept, self.l2, self.lr = solver, fit_intercept, l2, lr
        self.max_iter, self.epochs, self.tol, self.batch_size = max_iter, epochs, tol, batch_size
        self.standardize, self.shuffle, self.random_state = standardize, shuffle, random_state
        self.n_iter_no_change, self.auto_threshold = n_iter_no_change, auto_threshold

    # --- scikit-learn's estimator protocol -----------------------------------------------------------
    @classmethod
    def _param_names(cls):
        return [p for p in inspect.signature(cls.__init__).parameters if p != "self"]

    def get_params(self, deep=True):
        return {name: getattr(self, name) for name in self._param_names()}

    def set_params(self, **params):
        for name, value in params.items():
            if name not in self._param_names():
                raise ValueError(
                    f"LinearRegression.set_params: unknown parameter {name!r}; valid: {self._param_names()}"
                )
            setattr(self, name, value)
        return self

    def __repr__(self):
        defaults = {n: p.default for n, p in inspect.signature(type(self).__init__).parameters.items() if n != "self"}
        changed = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items() if v != defaults[k])
        return f"LinearRegression({changed})"

    # --- fitting ------------------------------------------------------------------------------------
    def _validate_params(self):
        def bad(name, expected):
            raise ValueError(f"LinearRegression.fit: {name} must be {expected}, got {getattr(self, name)!r}")

        if self.solver not in SOLVERS:
            bad("solver", f"one of {SOLVERS}")
        if isinstance(self.lr, str):
            if self.lr != "auto":
                bad("lr", "a positive float, 'auto' or None")
            if self.solver in ("sgd", "minibatch"):
                raise ValueError(
                    f"LinearRegression.fit: lr='auto' (1/λ_max of the full-batch Hessian) is only for solver='gd' "
                    f"(or 'auto'); give solver={self.solver!r} a float learning rate"
                )
        elif self.lr is not None and not (
            isinstance(self.lr, (int, float, np.floating)) and not isinstance(self.lr, bool)
            and math.isfinite(self.lr) and self.lr > 0
        ):
            bad("lr", "a positive finite float, 'auto' or None")
        max_iter = self.max_iter if self.epochs is None else self.epochs
        if not _is_int(max_iter) or max_iter < 1:
            bad("max_iter" if self.epochs is None else "epochs", "an integer ≥ 1")
        if not (isinstance(self.tol, (int, float, np.floating)) and self.tol >= 0):
            bad("tol", "a float ≥ 0")
        if not (isinstance(self.l2, (int, float, np.floating)) and math.isfinite(self.l2) and self.l2 >= 0):
            bad("l2", "a finite float ≥ 0")
        if not _is_int(self.batch_size) or self.batch_size < 1:
            bad("batch_size", "an integer ≥ 1")
        if not _is_int(self.n_iter_no_change) or self.n_iter_no_change < 1:
            bad("n_iter_no_change", "an integer ≥ 1")
        if not _is_int(self.auto_threshold) or self.auto_threshold < 1:
            bad("auto_threshold", "an integer ≥ 1")
        return int(max_iter)

    def fit(self, X, y):
        """Fit on X (n_samples, n_features) and y (n_samples,); returns self."""
        max_iter = self._validate_params()
        for attr in [a for a in vars(self) if a.endswith("_") and not a.startswith("_")]:
            delattr(self, attr)  # a failed fit (bad input, divergence) must not leave an old fit behind
        X = _check_X(X, "fit")
        y = _check_y(y, X, "fit")
        p = X.shape[1]
        solver = self.solver
        if solver == "auto":  # [note 004 §2.1: N < 10000 → normal equation, N > 10000 → gradient descent]
            solver = "normal" if p <= self.auto_threshold else "gd"
        if solver == "normal":
            fitted = self._fit_normal(X, y)
        else:
            fitted = self._fit_descent(X, y, solver, max_iter)
        for attr in ("coef_", "intercept_", "history_", "n_iter_", "converged_", "rank_", "scaler_", "lr_"):
            setattr(self, attr, fitted[attr])
        self.n_features_in_, self.solver_ = p, solver
        return self

    def _fit_normal(self, X, y):
        """θ from the normal equation, or the pseudo-inverse when XᵀX cannot be trusted [note 004 §2]."""
        n, p = X.shape
        if self.fit_intercept:
            x_mean, y_mean = X.mean(axis=0), y.mean()
            Xc, yc = X - x_mean, y - y_mean
        else:
            x_mean, y_mean, Xc, yc = np.zeros(p), 0.0, X, y
        dof = n - 1 if self.fit_intercept else n  # centring spends one sample on the intercept
        coef, reason = None, None
        if dof < p and self.l2 == 0:
            reason = (
                f"more features than samples (n_features={p} > n_samples={n}"
                + (" − 1 for the centring of the intercept" if self.fit_intercept and n == p else "")
                + f"), so XᵀX ({p}×{p}) has rank ≤ {dof}"
            )
        else:
            gram = Xc.T @ Xc
            gram.flat[:: p + 1] += self.l2
            rhs = Xc.T @ yc
            scale = np.sqrt(np.diag(gram))
            constant = np.flatnonzero(scale == 0)
            if len(constant):
                what = "are constant (collinear with the intercept)" if self.fit_intercept else "are all zero"
                reason = f"feature(s) {constant.tolist()[:10]} {what}, so XᵀX is singular"
            else:
                coef, condition = self._solve_equilibrated(gram / np.outer(scale, scale), rhs / scale)
                if coef is None:
                    reason = "XᵀX is singular: some features are exact linear combinations of others (collinear)"
                elif not condition <= MAX_CONDITION:
                    reason = (
                        f"XᵀX is ill-conditioned: estimated condition number {condition:.1e} > {MAX_CONDITION:.0e} "
                        "(nearly collinear features), the normal equation would lose most digits"
                    )
                    coef = None
                else:
                    coef = coef / scale
        rank = p
        if coef is None:
            coef, rank = self._solve_lstsq(Xc, yc)
            collinear = " (linearly dependent features)" if rank < min(p, dof) else ""
            warnings.warn(
                f"LinearRegression.fit(solver='normal'): {reason}; solved with the pseudo-inverse "
                f"(np.linalg.lstsq, rank {rank} of {p}{collinear}), which gives the minimum-norm θ among the "
                "least-squares solutions. Consider dropping collinear features or adding l2 > 0 (ridge).",
                LinAlgWarning,
                stacklevel=3,
            )
        intercept = float(y_mean - x_mean @ coef) if self.fit_intercept else 0.0
        history = {
            "cost": np.array([cost(X, y, np.zeros(p), 0.0, self.l2), cost(X, y, coef, intercept, self.l2)]),
            "theta": np.vstack([np.zeros(p + 1), np.r_[intercept, coef]]) if p <= PATH_MAX_FEATURES else None,
        }
        return {"coef_": coef, "intercept_": intercept, "history_": history, "n_iter_": 1, "converged_": True,
                "rank_": rank, "scaler_": None, "lr_": None}

    @staticmethod
    def _solve_equilibrated(A, b):
        """Solve A x = b for A symmetric with unit diagonal; returns (x, estimated κ(A)) or (None, inf).

        ‖A⁻¹‖ is estimated from random right-hand sides r solved in the same LU factorization:
        ‖A⁻¹r‖/‖r‖ ≈ √(mean λᵢ⁻²) ≥ λ_min⁻¹/√p, so √p·‖A‖₁·max ‖A⁻¹r‖/‖r‖ errs on the high side
        (κ ≤ estimate ≲ p·κ typically) — the safe side for deciding to fall back. Singular systems give ~1e16+.
        """
        probes = np.random.default_rng(0).standard_normal((len(b), 2))
        try:
            solution = np.linalg.solve(A, np.column_stack([b, probes]))
        except np.linalg.LinAlgError:
            return None, math.inf
        if not np.isfinite(solution).all():
            return None, math.inf
        inverse_norm = (np.linalg.norm(solution[:, 1:], axis=0) / np.linalg.norm(probes, axis=0)).max()
        return solution[:, 0], float(np.abs(A).sum(axis=0).max() * inverse_norm * math.sqrt(len(b)))

    def _solve_lstsq(self, Xc, yc):
        """Minimum-norm least squares θ = X⁺y via SVD (ridge: the augmented system [X; √l2·I] w ≈ [y; 0])."""
        if self.l2 > 0:
            p = Xc.shape[1]
            Xc = np.vstack([Xc, math.sqrt(self.l2) * np.eye(p)])
            yc = np.concatenate([yc, np.zeros(p)])
        coef, _, rank, _ = np.linalg.lstsq(Xc, yc, rcond=None)
        return coef, int(rank)

    def _fit_descent(self, X, y, solver, max_iter):
        """Gradient descent (batch, stochastic, mini-batch) on J; standardized coordinates if asked."""
        p = X.shape[1]
        scaler = None
        pen = np.full(p, float(self.l2))
        if self.standardize:
            scaler = StandardScaler(with_mean=self.fit_intercept).fit(X)
            Z = scaler.transform(X)
            pen = pen / scaler.scale_**2  # same J in new coordinates: ‖w‖² = Σ (w_sⱼ/σⱼ)²
        else:
            Z = X
        requested = self.lr if self.lr is not None else ("auto" if solver == "gd" else DEFAULT_STOCHASTIC_LR)
        if requested == "auto":
            lr = 1.0 / max(_largest_curvature(Z, pen, self.fit_intercept), np.finfo(float).tiny)
        else:
            lr = float(requested)
        gen = rng(Generator(self.random_state) if _is_int(self.random_state) else self.random_state)
        run = _Descent(Z, y, pen, lr, solver, self.fit_intercept, self.tol, self.batch_size, self.shuffle,
                       self.n_iter_no_change, gen)
        with np.errstate(over="ignore", invalid="ignore"):
            w, b, history, n_iter, converged = run(max_iter)
        if not converged:
            warnings.warn(run.not_converged_message(max_iter, self.standardize), ConvergenceWarning, stacklevel=3)
        if scaler is not None:  # back to the original units: w = w_s/σ, b = b_s − μ·w
            w = w / scaler.scale_
            b = b - scaler.mean_ @ w if self.fit_intercept else b
        return {"coef_": w, "intercept_": float(b), "history_": history, "n_iter_": n_iter, "converged_": converged,
                "rank_": None, "scaler_": scaler, "lr_": lr}

    # --- using the fit ------------------------------------------------------------------------------
    def _check_fitted(self, method):
        if not hasattr(self, "coef_"):
            raise NotFittedError(f"LinearRegression.{method}: this instance is not fitted yet; call fit(X, y) first")

    def predict(self, X):
        """ŷ = X·coef_ + intercept_: (n_samples,) float64 (a Tensor if X is one)."""
        self._check_fitted("predict")
        as_tensor = isinstance(X, Tensor)
        X = _check_X(X, "predict")
        if X.shape[1] != self.n_features_in_:
            raise ValueError(
                f"LinearRegression.predict: X has {X.shape[1]} features (shape {X.shape}), but the model was "
                f"fitted with {self.n_features_in_}"
            )
        out = X @ self.coef_ + self.intercept_
        return Tensor(out) if as_tensor else out

    def score(self, X, y):
        """R² = 1 − Σ(y − ŷ)² / Σ(y − ȳ)² (as ``sklearn.metrics.r2_score``; constant y: 1 if exact else 0)."""
        X = _check_X(X, "score")
        y = _check_y(y, X, "score")
        prediction = self.predict(X)
        residual = ((y - prediction) ** 2).sum()
        total = ((y - y.mean()) ** 2).sum()
        if total == 0:
            return 1.0 if residual == 0 else 0.0
        return float(1 - residual / total)


class _Descent:
    """One gradient-descent run on J(b, w) = (1/n)[‖Zw + b − y‖² + Σ pen·w²], started from θ = 0."""

    def __init__(self, Z, y, pen, lr, solver, fit_intercept, tol, batch_size, shuffle, n_iter_no_change, gen):
        self.Z, self.y, self.pen, self.lr, self.solver = Z, y, pen, lr, solver
        self.fit_intercept, self.tol, self.batch_size, self.shuffle = fit_intercept, tol, batch_size, shuffle
        self.n_iter_no_change, self.gen = n_iter_no_change, gen
        self.has_penalty = bool(np.any(pen))
        self.reason = ""

    def residual(self, w, b, Z=None, y=None):
        Z, y = (self.Z, self.y) if Z is None else (Z, y)
        r = Z @ w
        if self.fit_intercept:
            r += b
        return r - y

    def cost(self, r, w):
        return float(r @ r + (self.pen @ (w * w) if self.has_penalty else 0.0)) / len(self.y)

    def __call__(self, max_iter):
        p = self.Z.shape[1]
        w, b = np.zeros(p), 0.0
        costs = np.empty(max_iter + 1)
        path = np.empty((max_iter + 1, p + 1)) if p <= PATH_MAX_FEATURES else None
        step = self._gd_step if self.solver == "gd" else self._epoch
        self.best, self.stalled = math.inf, 0
        converged, k = False, 0
        for k in range(max_iter + 1):
            r = self.residual(w, b)
            J = costs[k] = self.cost(r, w)
            if path is not None:
                path[k, 0], path[k, 1:] = b, w
            if k == 0:
                self.initial_cost = J
            elif self._diverged(J):
                self._raise_divergence(k, J, costs[: k + 1])
            if self._converged(k, J, r, w):
                converged = True
                break
            if k == max_iter:
                break
            w, b = step(r, w, b)
        history = {"cost": costs[: k + 1].copy(), "theta": None if path is None else path[: k + 1].copy()}
        return w, b, history, k, converged

    # --- stopping rules -----------------------------------------------------------------------------
    def _diverged(self, J):
        if not math.isfinite(J):
            return True
        if self.solver == "gd":  # a stable step never raises the cost of a quadratic: each eigen-component shrinks
            return J > self.initial_cost * (1 + 1e-6) + np.finfo(float).tiny
        return J > 10 * self.initial_cost  # stochastic: noisy, but never 10× the cost of predicting 0

    def _full_gradient(self, r, w):
        n = len(self.y)
        g_w = (2 / n) * (self.Z.T @ r + self.pen * w)
        g_b = (2 / n) * r.sum() if self.fit_intercept else 0.0
        return g_w, g_b

    def _converged(self, k, J, r, w):
        if self.solver == "gd":
            self.g_w, self.g_b = self._full_gradient(r, w)
            self.grad_norm = math.sqrt(float(self.g_w @ self.g_w) + self.g_b**2)
            if k == 0:
                self.initial_grad_norm = self.grad_norm
            return self.grad_norm <= self.tol * self.initial_grad_norm
        if J < self.best * (1 - self.tol) or k == 0:
            self.stalled = 0
        else:
            self.stalled += 1
        self.best = min(self.best, J)
        return self.stalled >= self.n_iter_no_change

    # --- updates ------------------------------------------------------------------------------------
    def _gd_step(self, r, w, b):
        """θ ← θ − lr·∇J(θ), every component from the same residuals (simultaneous update) [note 004 §1.4]."""
        return w - self.lr * self.g_w, b - self.lr * self.g_b

    def _epoch(self, r, w, b):
        n = len(self.y)
        order = self.gen.permutation(n) if self.shuffle else np.arange(n)
        Z, y = self.Z[order], self.y[order]
        w = w.copy()
        lr, fit_intercept = self.lr, self.fit_intercept
        shrink = 1 - 2 * lr * self.pen / n if self.has_penalty else None  # the l2 term's share of each step
        if self.solver == "sgd":
            # One sample per update: sequential by definition, so the loop runs over samples (tight: dot + axpy).
            for z_i, y_i in zip(Z, y.tolist()):
                s = 2 * lr * (float(z_i @ w) + b - y_i)
                if shrink is not None:
                    w *= shrink
                w -= s * z_i
                if fit_intercept:
                    b -= s
            return w, b
        for start in range(0, n, self.batch_size):  # each mini-batch update is vectorized over its samples
            Zb, yb = Z[start : start + self.batch_size], y[start : start + self.batch_size]
            rb = self.residual(w, b, Zb, yb)
            g_w = (2 / len(yb)) * (Zb.T @ rb)
            if shrink is not None:
                w *= shrink
            w -= lr * g_w
            if fit_intercept:
                b -= lr * (2 / len(yb)) * rb.sum()
        return w, b

    # --- reports ------------------------------------------------------------------------------------
    def max_stable_lr(self):
        """2/λ_max(∇²J): gradient descent is stable (for every data direction) iff lr < this."""
        curvature = _largest_curvature(self.Z, self.pen, self.fit_intercept)
        return 2 / curvature if curvature > 0 else math.inf

    def _raise_divergence(self, k, J, costs):
        unit = "iteration" if self.solver == "gd" else "epoch"
        bound = self.max_stable_lr()
        if self.solver == "gd":
            hint = f"lower lr below the largest stable step ≈ {bound:.3g} for this data (2/λ_max of ∇²J)"
        else:
            hint = f"lower lr (the full-batch gd bound for this data is ≈ {bound:.3g}; single-sample steps need less)"
        if math.isfinite(J):
            what = f"rose to J = {J:.4g} from J(θ₀) = {self.initial_cost:.4g}"
        else:
            what = (f"overflowed to J = {J} during that {unit} (J was {costs[-2]:.4g} before it, "
                    f"J(θ₀) = {self.initial_cost:.4g})")
        raise DivergenceError(
            f"LinearRegression.fit(solver={self.solver!r}): gradient descent diverged at {unit} {k}: the cost {what} "
            f"with lr={self.lr:.4g} — the learning rate is too large for the scale of these features. Fix: {hint}, "
            "or pass standardize=True (equal feature scales allow a larger step) [note 004 §1.3, §1.6]",
            solver=self.solver, iteration=k, cost=J, initial_cost=self.initial_cost, lr=self.lr,
            history=costs.copy(), max_stable_lr=bound,
        )

    def not_converged_message(self, max_iter, standardized):
        if self.solver == "gd":
            state = (f"‖∇J‖ = {self.grad_norm:.3g} is still above "
                     f"tol·‖∇J(θ₀)‖ = {self.tol * self.initial_grad_norm:.3g}")
            unit = "iterations"
        else:
            state = f"the cost was still improving by more than tol={self.tol:g} (relative) per epoch"
            unit = "epochs"
        scale = "" if standardized else ", or standardize=True"
        return (
            f"LinearRegression.fit(solver={self.solver!r}): did not converge in max_iter={max_iter} {unit} "
            f"(lr={self.lr:.4g}): {state}. Raise max_iter, raise lr (lr='auto' picks 1/λ_max for gd){scale}."
        )
