# ---
# jupyter:
#   jupytext:
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
# # 2. Write your own op
#
# Backpropagation needs only two things from each operation: its value (forward) and its **local
# gradient rule** (backward) — "compute each node's local gradient, then apply the chain rule"
# [note 004]. Every op in chainrule is such a pair. You can add your own, in PyTorch's style, by
# subclassing `chainrule.autograd.Function`:
#
# ```python
# class MyOp(cr.autograd.Function):
#     @staticmethod
#     def forward(ctx, x, ...):          # Tensors in, a Tensor out; no graph is recorded in here
#         ctx.save_for_backward(x)       # what backward will need
#         return ...
#
#     @staticmethod
#     def backward(ctx, grad_output):    # ∂L/∂out in; one ∂L/∂input per argument of forward out
#         (x,) = ctx.saved_tensors
#         return grad_output * ...       # (None for an argument that needs no gradient)
#
# y = MyOp.apply(x, ...)
# ```
#
# `backward` receives $g = \partial L/\partial\, \text{out}$ and returns, per input, $g$ times the
# local derivative: $\partial L/\partial x = g \cdot \partial\, \text{out}/\partial x$ (elementwise
# here; for a general op the vector–Jacobian product $g^\top J$). Autograd does the rest: summing
# over consumers, ordering the sweep, accumulating `.grad` (tutorial 1).
#
# In this tutorial you write a numerically careful **softplus**, check it with `gradcheck`, train a
# small network with it, then break it on purpose four ways and read what chainrule tells you.

# %%
import matplotlib.pyplot as plt
import numpy as np

import chainrule as cr
import chainrule.nn.functional as F
from chainrule import nn
from chainrule.data import stratified_split
from chainrule.data.datasets import digits
from chainrule.data.preprocessing import StandardScaler

# %% [markdown]
# ## 1. Softplus, and why "careful"
#
# Softplus is a smooth ReLU (the notes' ReLU family [note 002]); with a sharpness $\beta > 0$,
#
# $$
# \operatorname{softplus}_\beta(x) = \frac{1}{\beta}\log\big(1 + e^{\beta x}\big), \qquad
# \frac{d}{dx}\operatorname{softplus}_\beta(x) = \frac{e^{\beta x}}{1 + e^{\beta x}} = \sigma(\beta x).
# $$
#
# Typed in literally, the formula fails at both ends in floating point:
#
# * large $x$: $e^{\beta x}$ overflows to `inf` (float64 above $x \approx 709$, float32 above 88) —
#   the value becomes `inf` and the gradient $\infty/\infty$ = `nan`;
# * very negative $x$: $e^{\beta x}$ is tiny, $1 + e^{\beta x}$ rounds to exactly 1 and the log gives 0,
#   though the true value is $\approx e^{\beta x}/\beta > 0$.
#
# The careful form never exponentiates a positive number and keeps the small term apart:
#
# $$
# \log\big(1 + e^{u}\big) = \max(u, 0) + \operatorname{log1p}\big(e^{-|u|}\big), \qquad u = \beta x,
# $$
#
# where `log1p(t)` $= \log(1 + t)$ computed accurately for small $t$. Its gradient $\sigma(\beta x)$ comes
# from chainrule's `sigmoid`, which is written the same careful way.

# %%
class StableSoftplus(cr.autograd.Function):
    """out = log(1 + e^(βx)) / β = (max(βx, 0) + log1p(e^(−|βx|))) / β;  dx = g·σ(βx)."""

    @staticmethod
    def forward(ctx, x, beta):
        ctx.save_for_backward(x)
        ctx.beta = beta  # a plain number: keep it as an attribute of ctx
        u = beta * x
        return (u.clamp(min=0) + (-u.abs()).exp().log1p()) / beta

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        grad_x = None
        if ctx.needs_input_grad[0]:  # skip the work when x needs no gradient
            grad_x = grad_output * (ctx.beta * x).sigmoid()
        return grad_x, None  # one per argument of forward: beta is a number, so None


def softplus(x, beta=1.0):
    return StableSoftplus.apply(x, beta)


def naive_softplus(x, beta=1.0):
    return (1 + (beta * x).exp()).log() / beta


# %% [markdown]
# `ctx` is the graph node itself: what forward stores on it, backward reads. `ctx.needs_input_grad`
# is a tuple of booleans, one per argument of forward (here `(True, False)` when `x` requires
# grad): with several tensor inputs it lets backward skip the gradients nobody asked for.
#
# Compare the two at the troublesome ends (NumPy's overflow warnings are silenced; the `inf` and
# `nan` they warn about are printed instead):

# %%
points = [-800.0, -40.0, -1.0, 0.0, 1.0, 40.0, 800.0]
x_careful = cr.tensor(points, dtype=cr.float64, requires_grad=True)
x_naive = cr.tensor(points, dtype=cr.float64, requires_grad=True)
with np.errstate(over="ignore", invalid="ignore"):
    y_careful, y_naive = softplus(x_careful), naive_softplus(x_naive)
    y_careful.sum().backward()
    y_naive.sum().backward()

print(f"{'x':>8} {'naive value':>14} {'careful value':>14} {'naive grad':>11} {'careful grad':>13}")
for i, p in enumerate(points):
    print(f"{p:>8.0f} {y_naive[i].item():>14.6g} {y_careful[i].item():>14.6g} "
          f"{x_naive.grad[i].item():>11.6g} {x_careful.grad[i].item():>13.6g}")
print("\ngraph nodes:", y_careful.grad_fn, "(ours: one node) and", y_naive.grad_fn, "(the naive formula's last op of five)")

# %% [markdown]
# At $x = -40$ the naive value is 0 (the true one is $e^{-40} \approx 4.2\cdot10^{-18}$); at
# $x = 800$ it is `inf` and its gradient `nan` — one such number in a training step and every
# weight becomes `nan`. The careful version is right everywhere. (At $x = -800$ both print 0,
# correctly: $e^{-800}$ is below the smallest float64, about $5\cdot10^{-324}$.)
#
# ## 2. Check the backward with `gradcheck`
#
# A backward written by hand can be wrong in ways that never crash. `chainrule.gradcheck(fn, inputs)`
# compares autograd's gradient with **central finite differences**,
# $\partial f/\partial x_i \approx \big(f(x + \varepsilon e_i) - f(x - \varepsilon e_i)\big)/2\varepsilon$,
# element by element, in float64 (it needs float64: in float32 the difference quotient is mostly
# rounding noise). It returns `True` or raises naming the input, the element and both numbers.

# %%
cr.manual_seed(0)
x = (3 * cr.randn(4, 5, dtype=cr.float64)).requires_grad_()
for beta in (1.0, 1.5, 4.0):
    print(f"beta = {beta}: gradcheck ->", cr.gradcheck(lambda t, beta=beta: softplus(t, beta), (x,)))

# %% [markdown]
# And against chainrule's built-in `F.softplus` (which also switches to the identity above a
# `threshold`, 20 by default; our inputs stay below it):

# %%
a = x.detach().requires_grad_()
b = x.detach().requires_grad_()
ours, builtin = softplus(a, 1.5), F.softplus(b, beta=1.5)
ours.sum().backward()
builtin.sum().backward()
print("largest difference, values   :", (ours - builtin).abs().max().item())
print("largest difference, gradients:", (a.grad - b.grad).abs().max().item())

# %% [markdown]
# A picture of what we built: softplus for a few $\beta$ against ReLU, and its derivative — a
# sigmoid, which becomes ReLU's step as $\beta$ grows. The derivative curves are the `.grad` that
# our backward computed, not a formula typed again.

# %%
grid = cr.linspace(-4, 4, 201, dtype=cr.float64)
fig, (ax_value, ax_grad) = plt.subplots(1, 2, figsize=(9, 3.5))
ax_value.plot(grid.numpy(), F.relu(grid).numpy(), "k--", label="ReLU")
for beta in (0.5, 1.0, 4.0):
    t = grid.detach().requires_grad_()
    out = softplus(t, beta)
    out.sum().backward()
    ax_value.plot(grid.numpy(), out.detach().numpy(), label=f"softplus, β = {beta}")
    ax_grad.plot(grid.numpy(), t.grad.numpy(), label=f"our backward, β = {beta}")
ax_value.set_title("value")
ax_grad.set_title("gradient = σ(βx)")
for ax in (ax_value, ax_grad):
    ax.set_xlabel("x")
    ax.legend()
fig.tight_layout()
plt.show()

# %% [markdown]
# ## 3. Use it in a model
#
# A Function is usable anywhere a built-in op is. Wrap it in a `Module` and train a small MLP on
# the 8×8 digits that ship with chainrule (no download). For comparison, the same network — same
# seed, so the same initial weights — with the built-in `nn.Softplus`.

# %%
class MySoftplus(nn.Module):
    def __init__(self, beta=1.0):
        super().__init__()
        self.beta = beta

    def forward(self, x):
        return softplus(x, self.beta)


images, labels = digits(flatten=True)
train_idx, test_idx = stratified_split(labels, test_size=0.2, generator=cr.Generator().manual_seed(0))
scaler = StandardScaler().fit(images[train_idx])
x_train, x_test = cr.tensor(scaler.transform(images[train_idx])), cr.tensor(scaler.transform(images[test_idx]))
y_train, y_test = cr.tensor(labels[train_idx]), cr.tensor(labels[test_idx])


def train(activation, steps=100, seed=0):
    cr.manual_seed(seed)
    model = nn.Sequential(nn.Linear(64, 64), activation, nn.Linear(64, 10))
    optimizer = cr.optim.Adam(model.parameters(), lr=0.01)
    losses = []
    for _ in range(steps):  # full batch: 1,437 training images per step
        optimizer.zero_grad()
        loss = F.cross_entropy(model(x_train), y_train)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    with cr.no_grad():
        accuracy = (model(x_test).argmax(dim=1) == y_test).float().mean().item()
    return losses, accuracy


losses_ours, acc_ours = train(MySoftplus())
losses_builtin, acc_builtin = train(nn.Softplus())
print(f"our Softplus     : loss {losses_ours[0]:.4f} -> {losses_ours[-1]:.4f}, test accuracy {acc_ours:.3f}")
print(f"built-in Softplus: loss {losses_builtin[0]:.4f} -> {losses_builtin[-1]:.4f}, test accuracy {acc_builtin:.3f}")
print("largest difference between the two loss curves:",
      max(abs(p - q) for p, q in zip(losses_ours, losses_builtin)))

fig, ax = plt.subplots(figsize=(6, 3.5))
ax.plot(losses_ours, label="our Softplus Function")
ax.plot(losses_builtin, "--", label="built-in nn.Softplus")
ax.set_xlabel("step")
ax.set_ylabel("training loss")
ax.set_yscale("log")
ax.legend()
fig.tight_layout()
plt.show()

# %% [markdown]
# (This model runs in float32, chainrule's default, like PyTorch's; `gradcheck` above used float64.)
#
# ## 4. Break it on purpose
#
# Each broken version below reuses `StableSoftplus`'s forward and replaces only the backward. (A
# subclass names both staticmethods: chainrule wraps a Function's pair when the class defines them.)
#
# ### 4a. A wrong derivative: `gradcheck` catches it
#
# A typical slip: differentiating $\log(1 + e^{\beta x})/\beta$ and forgetting that the inner
# $\beta$ cancels the outer $1/\beta$, so the backward returns $\beta\,\sigma(\beta x)$. Nothing crashes, and
# the gradients still point downhill (every weight before the activation gets β times its true
# gradient) — only a check finds it.

# %%
class SoftplusWrongDerivative(StableSoftplus):
    forward = staticmethod(StableSoftplus.forward)  # the same forward; only backward changes

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        return grad_output * ctx.beta * (ctx.beta * x).sigmoid(), None  # the slip: an extra β


print("beta = 1  :", cr.gradcheck(lambda t: SoftplusWrongDerivative.apply(t, 1.0), (x,)), "(the slip is invisible at β = 1!)")
try:
    cr.gradcheck(lambda t: SoftplusWrongDerivative.apply(t, 1.5), (x,))
except cr.GradcheckError as error:
    print("beta = 1.5:", type(error).__name__, "-", error)

# %% [markdown]
# The message names the input, the element and both numbers: here the analytic value is exactly
# 1.5 times the numerical one — the extra β. Note the first line: at β = 1 the bug does not show.
# Check your ops at more than one setting of their arguments.
#
# ### 4b. The wrong number of gradients
#
# `backward` must return one gradient per argument of `forward`, `None` for arguments that need
# none (here `beta`). Forgetting the `None`:

# %%
class SoftplusWrongCount(StableSoftplus):
    forward = staticmethod(StableSoftplus.forward)  # the same forward; only backward changes

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        return grad_output * (ctx.beta * x).sigmoid()  # forgot the None for beta


t = x.detach().requires_grad_()
try:
    SoftplusWrongCount.apply(t, 1.0).sum().backward()
except RuntimeError as error:
    print(type(error).__name__, "-", error)

# %% [markdown]
# ### 4c. A gradient of the wrong shape
#
# Each gradient must have its input's shape: $\partial L/\partial x$ has one entry per entry of $x$.
# Summing it (a common slip when porting code that worked on scalars):

# %%
class SoftplusWrongShape(StableSoftplus):
    forward = staticmethod(StableSoftplus.forward)  # the same forward; only backward changes

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        return (grad_output * (ctx.beta * x).sigmoid()).sum(), None  # a scalar, not x's (4, 5)


t = x.detach().requires_grad_()
try:
    SoftplusWrongShape.apply(t, 1.0).sum().backward()
except RuntimeError as error:
    print(type(error).__name__, "-", error)

# %% [markdown]
# Both errors are raised during `backward()` and name the Function, the argument and the shapes —
# not silently broadcast into a wrong `.grad`.
#
# ### 4d. A deliberately "wrong" gradient: the straight-through estimator
#
# Sometimes the true derivative is useless. $\operatorname{sign}(x)$ (binarized weights) or rounding
# (quantization) have derivative 0 almost everywhere, so nothing before them would learn. The
# **straight-through estimator** pretends the op was the identity in the backward pass, clipped to
# $|x| \le 1$ where the identity is a fair stand-in: forward $\operatorname{sign}(x)$, backward
# $g \cdot [\,|x| \le 1\,]$. `gradcheck` rightly reports that this is not the derivative — here the
# check failing is the expected outcome, and a reminder of what the check measures.

# %%
class SignStraightThrough(cr.autograd.Function):
    """out = sign(x);  dx = g·[|x| ≤ 1] (the straight-through estimator, not the true derivative 0)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x.sign()

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        return grad_output * (x.abs() <= 1)


t = cr.tensor([-2.0, -0.5, 0.3, 1.7], dtype=cr.float64, requires_grad=True)
out = SignStraightThrough.apply(t)
out.sum().backward()
print("x        :", t.detach().numpy())
print("sign(x)  :", out.detach().numpy())
print("x.grad   :", t.grad.numpy(), "(passed straight through where |x| ≤ 1)")
print("gradcheck:", cr.gradcheck(SignStraightThrough.apply, (t,), raise_exception=False),
      "(expected: the true derivative of sign is 0)")

# %% [markdown]
# ## 5. What the graph calls your op
#
# A recorded op appears in the graph as its Function, shown PyTorch's way as `<NameBackward>`:
# `grad_fn` of the output, and `next_functions` leading back to the inputs (`AccumulateGrad` for a
# leaf). Built-in ops and yours look the same to autograd.

# %%
t = cr.tensor([0.5, -1.0], dtype=cr.float64, requires_grad=True)
print("built-in F.softplus :", F.softplus(t).grad_fn)
print("built-in F.relu     :", F.relu(t).grad_fn)
print("our StableSoftplus  :", softplus(t).grad_fn)
mixed = F.relu(softplus(t * 2))
print("F.relu(softplus(t * 2)):", mixed)
print("  grad_fn                 :", mixed.grad_fn)
print("  its next_functions      :", mixed.grad_fn.next_functions)
print("  and theirs              :", mixed.grad_fn.next_functions[0][0].next_functions)
print("  down to the leaf        :", mixed.grad_fn.next_functions[0][0].next_functions[0][0].next_functions)

# %% [markdown]
# ## What to try
#
# * Write `Cube` (forward $x^3$, backward $3x^2 g$) or a clipped identity (forward
#   `x.clamp(-1, 1)`, backward $g \cdot [\,|x| < 1\,]$) and check them with `gradcheck` — the clipped
#   identity passes away from the kinks at ±1, unlike the straight-through sign above.
# * An op with two tensor inputs — e.g. $x \cdot \sigma(\beta x)$ (SiLU/Swish) with a learnable
#   $\beta$: return two gradients and use `ctx.needs_input_grad` to skip the one not needed.
# * Make the naive softplus the activation in section 3 and feed it inputs scaled by 1000.
