# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 7. Gradient descent vs the normal equation
#
# Linear regression predicts $h_\theta(x) = \theta_0 + \theta_1 x_1 + \dots + \theta_p x_p$. Put a column of ones in
# front of the features to get the design matrix $A = [\mathbf 1 \mid X]$ ($n \times (p+1)$); the cost is the mean
# squared error [note 004 §6, §8]
#
# $$
# J(\theta) = \frac1n \lVert A\theta - y \rVert^2, \qquad \nabla J(\theta) = \frac2n A^\top (A\theta - y),
# \qquad \nabla^2 J = \frac2n A^\top A .
# $$
#
# Note 004 gives two ways to find the $\theta$ that minimizes it:
#
# - **walk downhill** — gradient descent, $\theta \leftarrow \theta - \alpha \nabla J(\theta)$, many cheap steps,
#   with a learning rate to choose and features to scale [note 004 §6–§9, §12];
# - **solve for the bottom** — set $\nabla J = 0$: the *normal equation* $A^\top A\,\theta = A^\top y$, so
#   $\theta = (A^\top A)^{-1} A^\top y$ in one step, no learning rate, but an $(p+1)\times(p+1)$ system to solve,
#   $O(p^3)$ [note 004 §10].
#
# This tutorial does both by hand with chainrule tensors, then with `chainrule.linear_model.LinearRegression`, and
# measures what the notes claim: the effect of the learning rate, of feature scaling, and the wall time as $p$ grows.
# It ends one step beyond the notes, with Newton's method — second derivatives by autograd — which the normal
# equation turns out to be.

# %%
import statistics
import time
import warnings

import matplotlib.pyplot as plt
import numpy as np

import chainrule as cr
from chainrule.data import datasets
from chainrule.linear_model import ConvergenceWarning, DivergenceError, LinearRegression

started = time.perf_counter()

# %% [markdown]
# ## The data
#
# `datasets.linear_regression` draws $y = Xw + b + 0.5\,\varepsilon$ with known true $w$ and $b$, so we can see
# how close each method gets. Its features are standard normal; real features rarely are, so we give them
# different scales and one a nonzero mean (the true coefficients change units with them). Everything is float64
# here: the normal equation squares the condition number of $X$, and float32 would lose digits we want to compare.

# %%
X, y, w_true, b_true = datasets.linear_regression(n=200, features=3, noise=0.5, bias=2.0, coef=True, seed=0,
                                                  dtype=np.float64)
scale, shift = np.array([1.0, 2.0, 0.5]), np.array([1.0, 0.0, 0.0])
X = X * scale + shift  # x' = x·scale + shift, so y = x'·(w/scale) + (b − shift·w/scale)
theta_true = np.r_[b_true - shift @ (w_true / scale), w_true / scale]
n, p = X.shape
A = cr.tensor(np.column_stack([np.ones(n), X]))  # the design matrix [1 | X]
Y = cr.tensor(y)
print(f"n = {n} samples, p = {p} features; true θ = {theta_true.round(4)}")

# %% [markdown]
# ## 1. The normal equation
#
# Solve $A^\top A\,\theta = A^\top y$ with `chainrule.linalg.solve` — never by forming the inverse, which costs the
# same and loses more digits. `chainrule.linalg.pinv` gives the pseudo-inverse $A^+$, which the notes prescribe when
# $A^\top A$ is singular [note 004 §11]; here it is not, so both agree.

# %%
theta_normal = cr.linalg.solve(A.T @ A, A.T @ Y)
theta_pinv = cr.linalg.pinv(A) @ Y


def J(theta):
    """The cost (1/n)‖Aθ − y‖² as a float."""
    return float(((A @ theta - Y) ** 2).mean())


J_star = J(theta_normal)
print("θ (normal equation):", theta_normal.numpy().round(4), f"  J = {J_star:.5f}")
print("θ (pseudo-inverse): ", theta_pinv.numpy().round(4),
      f"  max difference {np.abs((theta_pinv - theta_normal).numpy()).max():.1e}")

# %% [markdown]
# ### The solve is differentiable
#
# `linalg.solve` and `pinv` have gradients in chainrule, so a fitted $\theta$ is an ordinary node of the graph.
# One use: tune a ridge penalty $\lambda$ by gradient. Fit $\theta_\lambda = (A^\top A + \lambda I)^{-1} A^\top y$
# on half of the data, measure the squared error on the other half, and ask autograd for
# $\partial\,\text{error} / \partial \lambda$ — checked below against a finite difference.

# %%
def validation_error(lam):
    """Squared error on samples 100–199 of the ridge fit on samples 0–99 (λ a 0-d tensor)."""
    A_fit, A_val, Y_fit, Y_val = A[:100], A[100:], Y[:100], Y[100:]
    theta = cr.linalg.solve(A_fit.T @ A_fit + lam * cr.eye(p + 1, dtype=cr.float64), A_fit.T @ Y_fit)
    return ((A_val @ theta - Y_val) ** 2).mean()


lam = cr.tensor(5.0, dtype=cr.float64, requires_grad=True)
error = validation_error(lam)
error.backward()
h = 1e-5
finite_difference = (validation_error(cr.tensor(5.0 + h, dtype=cr.float64)).item()
                     - validation_error(cr.tensor(5.0 - h, dtype=cr.float64)).item()) / (2 * h)
print(f"validation error at λ = 5: {error.item():.5f}; d/dλ by autograd {lam.grad.item():.6e}, "
      f"by finite difference {finite_difference:.6e}")

# %% [markdown]
# ## 2. Batch gradient descent, by hand
#
# The same $\theta$, found by walking downhill. Each step uses *all* $n$ samples and updates every component of
# $\theta$ at once from the same residuals — the "simultaneous update" note 004 §8 insists on. autograd computes
# $\nabla J$; the first step checks it against the formula $\frac2n A^\top(A\theta - y)$.
#
# How large may the step be? On this quadratic cost, the error along an eigenvector of the Hessian with eigenvalue
# $\lambda$ is multiplied by $|1 - \alpha\lambda|$ every step [note 004 §7], so descent converges exactly when
# $\alpha < 2/\lambda_{\max}$. `linalg.eigvalsh` gives $\lambda_{\max}$.

# %%
hessian_eigenvalues = cr.linalg.eigvalsh(2 / n * A.T @ A).numpy()
lr_max = 2 / hessian_eigenvalues[-1]
print(f"Hessian eigenvalues {hessian_eigenvalues.round(3)}, so the largest stable learning rate is 2/λ_max = {lr_max:.4f}")


def batch_gradient_descent(lr, steps):
    """θ ← θ − lr·∇J(θ) from θ = 0; returns the cost before each step and the last θ."""
    theta = cr.zeros(p + 1, dtype=cr.float64, requires_grad=True)
    costs = []
    for step in range(steps):
        loss = ((A @ theta - Y) ** 2).mean()
        costs.append(loss.item())
        loss.backward()
        if step == 0:
            formula = 2 / n * A.T @ (A @ theta.detach() - Y)
            print(f"  step 0: autograd's ∇J equals 2/n·Aᵀ(Aθ − y) to {np.abs((theta.grad - formula).numpy()).max():.0e}")
        with cr.no_grad():
            theta.sub_(lr * theta.grad)  # in place: θ stays the same leaf tensor
        theta.grad = None
    return np.array(costs), theta.detach()


curves = {}
for fraction in (0.05, 0.5, 0.95, 1.02):
    print(f"lr = {fraction} × 2/λ_max:")
    curves[fraction], theta_gd = batch_gradient_descent(fraction * lr_max, steps=60)
    print(f"  after 60 steps J − J* = {curves[fraction][-1] - J_star:.2e}")

fig, ax = plt.subplots(figsize=(7, 4))
for fraction, costs in curves.items():
    ax.semilogy(np.maximum(costs - J_star, 1e-16), label=f"lr = {fraction} × 2/λ_max")
ax.set(xlabel="step", ylabel="J(θ) − J(θ*)", title="batch gradient descent: the learning rate")
ax.legend()
ax.grid(alpha=0.3)
plt.show()

# %% [markdown]
# Too small (0.05) and the cost creeps down; 0.5 is fast; 0.95 still converges, but the steepest direction
# overshoots and flips sign every step; just past the limit (1.02) every step overshoots by more than it corrects,
# and the cost grows without bound — the picture note 004 §7 draws.
#
# ## 3. Stochastic and mini-batch gradient descent
#
# Batch descent pays for all $n$ samples per step. **Stochastic** gradient descent uses one sample per step,
# **mini-batch** descent $b$ samples [note 004 §12]:
#
# $$
# \theta \leftarrow \theta - \alpha\,\frac{1}{|B|}\sum_{i \in B} \nabla_\theta (a_i^\top\theta - y_i)^2 .
# $$
#
# One function does all three: the batch size is the only difference. To compare fairly, count **epochs** — passes
# over the data, $n$ sample-gradients each — not steps.

# %%
def minibatch_descent(batch_size, lr, epochs, seed=0):
    """Descent on batches of ``batch_size`` samples, reshuffled every epoch; J(θ) on all data after each epoch."""
    order = np.random.default_rng(seed)
    theta = cr.zeros(p + 1, dtype=cr.float64, requires_grad=True)
    costs = [J(theta.detach())]
    for _ in range(epochs):
        perm = order.permutation(n)
        for start in range(0, n, batch_size):
            rows = cr.tensor(perm[start:start + batch_size])
            loss = ((A[rows] @ theta - Y[rows]) ** 2).mean()
            loss.backward()
            with cr.no_grad():
                theta.sub_(lr * theta.grad)
            theta.grad = None
        costs.append(J(theta.detach()))
    return np.array(costs)


EPOCHS = 40
descent = {"batch (b = n)": minibatch_descent(n, 0.5 * lr_max, EPOCHS),
           "mini-batch (b = 20)": minibatch_descent(20, 0.05, EPOCHS),
           "stochastic (b = 1)": minibatch_descent(1, 0.01, EPOCHS)}
for name, costs in descent.items():
    print(f"{name:20s} J − J* after 1 epoch {costs[1] - J_star:.2e}, after {EPOCHS}: {costs[-1] - J_star:.2e}")

fig, ax = plt.subplots(figsize=(7, 4))
for name, costs in descent.items():
    ax.semilogy(np.maximum(costs - J_star, 1e-16), "o-", ms=3, label=name)
ax.set(xlabel="epoch (n sample-gradients)", ylabel="J(θ) − J(θ*)", title="batch, mini-batch and stochastic descent")
ax.legend()
ax.grid(alpha=0.3)
plt.show()

# %% [markdown]
# Per epoch, the stochastic and mini-batch runs get far closer to the minimum at first — they take $n$ and $n/20$
# steps where batch descent takes one. But with a constant learning rate they stop improving and wander up and down
# at a noise floor: each step follows one batch's gradient, which is not zero at $\theta^*$. Batch descent goes down
# by a steady factor per epoch; by the last epoch it has reached the band the noisy runs bounce around in, and with
# more epochs it keeps going where they do not. (The learning rates are yours to change: a larger one gets down
# faster at first and raises the floor.)
#
# ## 4. The same with `chainrule.linear_model`
#
# `LinearRegression` packages all of the above, with scikit-learn's face: `solver="normal"`, `"gd"`, `"sgd"`,
# `"minibatch"` (and `"auto"`: the notes' rule of thumb, the normal equation up to 10,000 features [note 004
# §10]). The iterative solvers stop on a rule — batch descent when $\lVert\nabla J\rVert \le
# \text{tol}\cdot\lVert\nabla J(\theta_0)\rVert$, the stochastic ones when an epoch stops improving the cost —
# and report `n_iter_` and `converged_`. Note its cost has the same $1/n$ and its `lr` is the step on this $\nabla J$.

# %%
solvers = {
    "normal": LinearRegression(solver="normal"),
    "gd": LinearRegression(solver="gd", lr="auto"),  # lr = 1/λ_max, half the largest stable step
    "sgd": LinearRegression(solver="sgd", lr=0.01, max_iter=100, random_state=0),
    "minibatch": LinearRegression(solver="minibatch", lr=0.05, batch_size=20, max_iter=100, random_state=0),
}
print(f"{'solver':10s} {'intercept':>9s}  coefficients                  {'iterations':>10s} {'converged':>9s} {'R²':>7s}")
for name, model in solvers.items():
    model.fit(X, y)
    print(f"{name:10s} {model.intercept_:9.4f}  {np.array2string(model.coef_, precision=4):28s} {model.n_iter_:10d}"
          f" {model.converged_!s:>9s} {model.score(X, y):7.4f}")

# %% [markdown]
# A learning rate beyond the limit does not produce NaN coefficients: the fit stops and says why, with the bound.

# %%
try:
    LinearRegression(solver="gd", lr=1.02 * lr_max).fit(X, y)
except DivergenceError as error:
    print(error)

# %% [markdown]
# ## 5. Feature scaling: round contours, fewer steps
#
# Measure one feature in units 100× smaller (multiply its column by 100) and the cost's contours become long thin
# ellipses: the Hessian's condition number $\kappa = \lambda_{\max}/\lambda_{\min}$ grows, the largest stable step is
# set by the steep direction, and the flat direction shrinks by only about $1 - 2/\kappa$ per step — some $\kappa$
# steps [note 004 §9]. Standardizing each feature, $x'_j = (x_j - \mu_j)/\sigma_j$, brings $\kappa$ back near 1.
# `standardize=True` does exactly that inside `fit` and reports the coefficients in the original units. Both runs use
# `lr="auto"`, the best fixed step for their own problem, so the difference is the geometry alone.

# %%
X2, y2 = datasets.linear_regression(n=400, features=2, noise=0.5, seed=1, dtype=np.float64)
ratios = (1, 3, 10, 30, 100)
scaling = {"unscaled": [], "standardized": []}
for ratio in ratios:
    Xs = X2 * np.array([ratio, 1.0])
    for key, standardize in (("unscaled", False), ("standardized", True)):
        model = LinearRegression(solver="gd", lr="auto", standardize=standardize, max_iter=20_000)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)  # reported through converged_
            model.fit(Xs, y2)
        Z = model.scaler_.transform(Xs) if standardize else Xs
        Z = np.column_stack([np.ones(len(Z)), Z])
        eig = np.linalg.eigvalsh(2 / len(Z) * Z.T @ Z)
        scaling[key].append((model.n_iter_, model.converged_, eig[-1] / eig[0]))
    (iu, cu, ku), (is_, cs, ks) = scaling["unscaled"][-1], scaling["standardized"][-1]
    print(f"feature 1 ×{ratio:<4d} unscaled: κ = {ku:9.1f}, {iu:6d} iterations{'' if cu else ' (cap)'};   "
          f"standardized: κ = {ks:5.2f}, {is_:3d} iterations")

fig, ax = plt.subplots(figsize=(7, 4))
for key, rows in scaling.items():
    ax.loglog(ratios, [r[0] for r in rows], "o-", label=key)
ax.set(xlabel="scale ratio between the two features", ylabel="gradient-descent iterations to tol 1e-6",
       title="feature scaling and the number of steps")
ax.legend()
ax.grid(alpha=0.3)
plt.show()

# %% [markdown]
# ## 6. Wall time as the number of features grows
#
# The notes' rule of thumb: the normal equation below about 10,000 features, gradient descent above, because the
# solve costs $O(np^2 + p^3)$ and a gradient step $O(np)$ [note 004 §10]. This machine cannot afford $p = 10{,}000$
# in a tutorial, so the sizes here are small: $n = 2{,}000$ samples, $p$ from 10 to 400. Each cell is the median of
# three full `fit` calls, with BLAS on one thread (`cr.num_threads(1)`: on a small shared machine a second BLAS
# thread can stall more than it helps). `normal (by hand)` is section 1's `cr.linalg.solve` on tensors.

# %%
SIZES, N_TIMING, REPEAT = (10, 25, 50, 100, 200, 400), 2000, 3


def normal_by_hand(Xp, yp):
    Ap = cr.tensor(np.column_stack([np.ones(len(Xp)), Xp]))
    return cr.linalg.solve(Ap.T @ Ap, Ap.T @ cr.tensor(yp))


methods = {
    "normal (by hand)": normal_by_hand,
    "normal": lambda Xp, yp: LinearRegression(solver="normal").fit(Xp, yp),
    "gd, standardized": lambda Xp, yp: LinearRegression(solver="gd", lr="auto", standardize=True,
                                                        max_iter=5000).fit(Xp, yp),
    "minibatch (b = 32)": lambda Xp, yp: LinearRegression(solver="minibatch", lr=0.01, standardize=True,
                                                          max_iter=50, random_state=0).fit(Xp, yp),
    "sgd": lambda Xp, yp: LinearRegression(solver="sgd", lr=0.002, standardize=True, max_iter=10,
                                           random_state=0).fit(Xp, yp),
}
timings = {name: [] for name in methods}
with cr.num_threads(1), warnings.catch_warnings():
    warnings.simplefilter("ignore", ConvergenceWarning)  # the stochastic fits are capped on purpose: time per budget
    for size in SIZES:
        Xp, yp = datasets.linear_regression(n=N_TIMING, features=size, noise=0.5, seed=size, dtype=np.float64)
        for name, fit in methods.items():
            seconds = []
            for _ in range(REPEAT):
                t0 = time.perf_counter()
                fit(Xp, yp)
                seconds.append(time.perf_counter() - t0)
            timings[name].append(statistics.median(seconds))
        print(f"p = {size:3d}: " + ", ".join(f"{name} {timings[name][-1] * 1e3:.1f} ms" for name in methods))

fig, ax = plt.subplots(figsize=(7.5, 4.2))
for name, seconds in timings.items():
    ax.loglog(SIZES, seconds, "o-", label=name)
ax.set(xlabel="number of features p", ylabel="fit time, median of 3 (s)",
       title=f"linear regression, n = {N_TIMING:,} samples, 1 BLAS thread")
ax.legend(fontsize="small")
ax.grid(alpha=0.3, which="both")
plt.show()

# %% [markdown]
# Read the times your run printed, not a rule — and note that the stochastic solvers ran a fixed budget of epochs,
# not to the accuracy of the other two. When this tutorial was written (a shared 2-core machine) the normal
# equation was the fastest at every $p$ measured: it is one matrix product $A^\top A$ ($O(np^2)$) and one small
# solve ($O(p^3)$), while gradient descent pays for many passes over the data and SGD for a Python-level step per
# sample (one-sample updates are inherently sequential). The $p^3$ term only dominates once $p$ is in the
# thousands; `chainrule lab run normal-equation-vs-gd` and `benchmarks/linear_regression.py` measure larger sizes
# (slowly).
#
# ## 7. Newton's method
#
# Gradient descent uses the slope; the normal equation jumps to where the slope is zero. **Newton's method** does
# the jump on any smooth cost: it minimizes the second-order Taylor model of $J$ at $\theta$,
#
# $$
# \theta \leftarrow \theta - \left(\nabla^2 J(\theta)\right)^{-1} \nabla J(\theta),
# $$
#
# which needs the Hessian — second derivatives. autograd gives them: `grad(J, θ, create_graph=True)` records the
# backward as ops, so the gradient is itself a function of $\theta$, and one more backward per component of it
# gives a row of the Hessian (the site's page "Higher-order gradients" says more). On least squares the Taylor
# model is exact, so **one Newton step from any $\theta$ lands on the normal equation's solution**:

# %%
from chainrule.autograd import grad


def gradient_and_hessian(loss, theta):
    """∇J and ∇²J at θ: ∇J recorded with create_graph=True, then one backward per component."""
    (g,) = grad(loss, theta, create_graph=True)
    return g.detach(), cr.stack([grad(g[i], theta, retain_graph=True)[0] for i in range(len(theta))])


theta0 = cr.tensor(np.random.default_rng(0).normal(0, 10, p + 1), requires_grad=True)  # anywhere
g0, H = gradient_and_hessian(((A @ theta0 - Y) ** 2).mean(), theta0)
theta_newton = theta0.detach() - cr.linalg.solve(H, g0)
print(f"the Hessian from double backward equals (2/n)AᵀA to {np.abs((H - 2 / n * A.T @ A).numpy()).max():.0e}")
print("θ after one Newton step:", theta_newton.numpy().round(4))
print(f"distance to the normal equation's θ (relative): "
      f"{float(((theta_newton - theta_normal) ** 2).sum().sqrt() / (theta_normal ** 2).sum().sqrt()):.1e}")

# %% [markdown]
# The normal equation *is* Newton's method on this cost, converged in one step.
#
# ### Newton on a cost that is not quadratic: logistic regression
#
# Turn the data into a classification problem — is $y$ above its median? — and fit logistic regression:
# $J(\theta) = \frac1n\sum_i \left[\log(1 + e^{z_i}) - t_i z_i\right] + \frac\lambda2\lVert\theta\rVert^2$ with
# $z = A\theta$ and a small $\lambda$ that keeps the minimum finite. There is no closed form now, and the Hessian
# changes with $\theta$; Newton takes a handful of steps, each with a fresh Hessian. Gradient descent gets the
# step $1/L$ that is safe everywhere ($L = \lambda_{\max}(A^\top A)/(4n) + \lambda$ bounds the Hessian).

# %%
T = cr.tensor((y > np.median(y)).astype(np.float64))
LAMBDA = 1e-3
zero = cr.tensor(0.0, dtype=cr.float64)


def logistic_cost(theta):
    z = A @ theta
    return (z.logaddexp(zero) - T * z).mean() + LAMBDA / 2 * (theta ** 2).sum()


def newton(steps):
    theta, costs = cr.zeros(p + 1, dtype=cr.float64), []
    for _ in range(steps):
        theta = theta.detach().requires_grad_()
        loss = logistic_cost(theta)
        costs.append(loss.item())
        g, H = gradient_and_hessian(loss, theta)
        theta = theta.detach() - cr.linalg.solve(H, g)
    return np.array(costs + [logistic_cost(theta).item()])


def logistic_descent(steps):
    lr = 1 / (cr.linalg.eigvalsh(A.T @ A).numpy()[-1] / (4 * n) + LAMBDA)
    theta, costs = cr.zeros(p + 1, dtype=cr.float64, requires_grad=True), []
    for _ in range(steps):
        loss = logistic_cost(theta)
        costs.append(loss.item())
        (g,) = grad(loss, theta)
        theta = (theta - lr * g).detach().requires_grad_()
    return np.array(costs + [logistic_cost(theta).item()])


newton_costs, gd_costs = newton(8), logistic_descent(300)
best = newton_costs[-1]
print("Newton, J − J* after each step:", np.array2string(newton_costs - best, precision=1))
print(f"gradient descent, J − J* after 10, 100, 300 steps: {gd_costs[10] - best:.1e}, {gd_costs[100] - best:.1e}, "
      f"{gd_costs[300] - best:.1e}")

fig, ax = plt.subplots(figsize=(7, 4))
ax.semilogy(np.maximum(newton_costs - best, 1e-16), "o-", label="Newton (Hessian by double backward)")
ax.semilogy(np.maximum(gd_costs - best, 1e-16), label="gradient descent, lr = 1/L")
ax.set_xscale("symlog", linthresh=1)
ax.set_xlim(left=0)
ax.set(xlabel="step (linear up to 1, log scale beyond)", ylabel="J(θ) − J(θ*)",
       title="logistic regression: Newton vs gradient descent")
ax.legend(loc="lower right")
ax.grid(alpha=0.3)
plt.show()

# %% [markdown]
# Newton's error roughly squares every step once it is close (quadratic convergence): a few steps reach the
# float64 floor, where gradient descent is still far after hundreds. Each Newton step costs more — $p+1$ backward
# passes for the Hessian and a $(p+1)\times(p+1)$ solve — which is why it is used when $p$ is small, and why
# large models use Hessian-vector products instead of the Hessian. `chainrule lab run newton-vs-gd` measures
# steps and wall time on logistic regression over the digits and on Rosenbrock's function, with the normal
# equation of the linearized problem (IRLS, Gauss-Newton) beside them.

# %%
print(f"tutorial ran in {time.perf_counter() - started:.1f} s")
