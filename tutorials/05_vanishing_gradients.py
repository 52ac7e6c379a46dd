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
# # 5. Vanishing and exploding gradients, and their cures
#
# Backpropagation is the chain rule: the gradient that reaches layer 1 of a deep net is a **product** with one
# factor per layer above it — the slope of that layer's activation times its weights [note 004 §2, §14]:
#
# $$
# \left\lVert \frac{\partial L}{\partial W^{(1)}} \right\rVert \;\propto\;
# \prod_{l=2}^{L} \big\lVert \operatorname{diag}\!\big(\sigma'(z^{(l)})\big)\, W^{(l)} \big\rVert .
# $$
#
# A product of many factors is unstable in both directions. If each factor is below one, the gradient shrinks
# exponentially toward the input: the first layers get almost no signal and stop learning — **vanishing
# gradients**. The sigmoid makes this likely, because its slope $\sigma'(z) = \sigma(z)(1-\sigma(z))$ is at most
# $1/4$ [note 000, note 002]. If each factor is above one — weights drawn too large — the gradient grows
# exponentially instead, a step becomes huge and the loss overflows to NaN — **exploding gradients** [note 004 §13].
#
# The notes list the cures, and this tutorial measures each one on the same data and the same deep MLP:
#
# | problem | cure | chainrule |
# |---|---|---|
# | saturating activation | ReLU [note 002] | `nn.ReLU` |
# | badly scaled weights | He initialization [note 004 §15] | `nn.init.kaiming_normal_` |
# | pre-activations drifting into saturation | BatchNorm [note 003] | `nn.BatchNorm1d` |
# | a long product of factors | residual connections [note 004 §16] | `h + f(h)` in your own `nn.Module` |
# | exploding steps | gradient clipping [note 004 §13] | `nn.utils.clip_grad_norm_` |
#
# The measuring instrument is `chainrule.diagnostics.GradientFlow`: it watches a model through hooks, and each
# call of `monitor.record()` after `loss.backward()` stores every layer's gradient norm.

# %%
import math
import time

import matplotlib.pyplot as plt
import numpy as np

import chainrule as cr
from chainrule import nn
from chainrule.data import ArrayDataset, DataLoader, datasets, stratified_split
from chainrule.data.preprocessing import StandardScaler
from chainrule.diagnostics import GradientFlow

started = time.perf_counter()

# %% [markdown]
# ## The data: the bundled 8×8 digits
#
# 1,797 handwritten digits ship inside chainrule, so this runs offline. Each image is flattened to 64 pixels and
# standardized with statistics from the training part only [note 003].

# %%
images, labels = datasets.digits(flatten=True)
train_idx, test_idx = stratified_split(labels, test_size=0.25, generator=cr.Generator(0))
scaler = StandardScaler().fit(images[train_idx])
x_train, x_test = scaler.transform(images[train_idx]), scaler.transform(images[test_idx])
y_train, y_test = labels[train_idx], labels[test_idx]
train_set = ArrayDataset(x_train.astype(np.float32), y_train)
print(f"training images: {x_train.shape}, test images: {x_test.shape}, classes: {np.unique(labels).tolist()}")

# %% [markdown]
# ## A deep sigmoid MLP
#
# Twenty `Linear` layers, 64 units wide, a sigmoid after each but the last, and Xavier initialization — the
# initialization the notes recommend for sigmoid and tanh [note 004 §15]. `DEPTH` and `WIDTH` are yours to change.

# %%
DEPTH, WIDTH = 20, 64  # Linear layers, hidden units


def linear(fan_in, fan_out, init=None):
    """A Linear layer; ``init`` (e.g. nn.init.xavier_uniform_) redraws its weight, the bias starts at 0."""
    layer = nn.Linear(fan_in, fan_out)
    if init is not None:
        init(layer.weight)
        nn.init.zeros_(layer.bias)
    return layer


def plain_mlp(activation, init=None, batchnorm=False, depth=DEPTH, width=WIDTH):
    """64 → width ×(depth−1) → 10: Linear [→ BatchNorm1d] → activation, repeated, then a Linear output layer."""
    layers, fan_in = [], 64
    for _ in range(depth - 1):
        layers.append(linear(fan_in, width, init))
        if batchnorm:
            layers.append(nn.BatchNorm1d(width))
        layers.append(activation())
        fan_in = width
    return nn.Sequential(*layers, nn.Linear(width, 10))


cr.manual_seed(0)
sigmoid_net = plain_mlp(nn.Sigmoid, init=nn.init.xavier_uniform_)
print(sigmoid_net[:4], "…", f"({len(sigmoid_net)} modules)")

# %% [markdown]
# ### One backward pass, layer by layer
#
# Push one batch of 256 training images through, call `backward()`, and let `GradientFlow` read each layer's
# gradient norm $\lVert \partial L / \partial (W, b) \rVert$. `GradientFlow` watches every layer that owns
# parameters, input side first; here all of them are `Linear`.

# %%
x_batch, y_batch = cr.tensor(x_train[:256].astype(np.float32)), cr.tensor(y_train[:256])


def gradient_norms_at_init(model):
    """Per-Linear-layer gradient norm of one batch's cross-entropy (input side first), and GradientFlow's report."""
    monitor = GradientFlow(model)
    loss = nn.functional.cross_entropy(model(x_batch), y_batch)
    model.zero_grad()
    loss.backward()
    layers = monitor.record()
    monitor.remove()
    norms = [layers[name]["grad_norm"] for name, module in monitor.layers if isinstance(module, nn.Linear)]
    return np.array(norms), monitor.report()


sigmoid_norms, report = gradient_norms_at_init(sigmoid_net)
for i in (0, 4, 9, 14, DEPTH - 1):
    print(f"layer {i + 1:2d}: ‖grad‖ = {sigmoid_norms[i]:.2e}")
print(f"first / last = {sigmoid_norms[0] / sigmoid_norms[-1]:.1e}")
print("GradientFlow says:", report["messages"][0])

# %%
fig, ax = plt.subplots(figsize=(7, 4))
ax.semilogy(range(1, DEPTH + 1), sigmoid_norms, "o-")
ax.set(xlabel="Linear layer (1 = input side)", ylabel="‖∂L/∂(W, b)‖",
       title=f"{DEPTH}-layer sigmoid MLP, Xavier init: gradient norm per layer")
ax.grid(alpha=0.3)
plt.show()

# %% [markdown]
# The gradient norm falls by orders of magnitude from the output layer to the input layer. Why so steady a
# fall? Look at the factor $\sigma'(z)$ the chain rule multiplies in at every layer. Below, each sigmoid's output
# $a$ is taken on the same batch, and its mean slope $a(1-a)$ printed: every one is below the $1/4$ ceiling, and
# almost none of the units are saturated — the sigmoid's gradient shrinks even when nothing saturates.

# %%
slopes = []
with cr.no_grad():
    h = x_batch
    for module in sigmoid_net:
        h = module(h)
        if isinstance(module, nn.Sigmoid):
            a = h.numpy().astype(np.float64)
            slopes.append(a * (1 - a))
mean_slopes = np.array([s.mean() for s in slopes])
saturated = np.mean([np.mean(s < 0.02) for s in slopes])  # σ' < 0.02 ⇔ σ(z) beyond about 0.02 or 0.98
print(f"mean σ'(z) per sigmoid layer: min {mean_slopes.min():.3f}, max {mean_slopes.max():.3f}; "
      f"saturated units: {saturated:.1%}")
print(f"product of the {len(mean_slopes)} mean slopes: {np.prod(mean_slopes):.1e}")

# %% [markdown]
# The product of the mean slopes is an order-of-magnitude guide only (Xavier weights contribute factors of their
# own), but it shows where the loss comes from: about $0.2$ per layer, nineteen times over.
#
# ## The cures, measured on the same data
#
# Each variant below changes one thing about the net above. ReLU with PyTorch's default initialization
# ($U(\pm 1/\sqrt{n_{in}})$) is included on purpose: it shows that swapping the activation alone is not enough.
# The residual net needs a module of its own — write it as you would in PyTorch: the block returns
# $h + W\,\mathrm{relu}(h) + b$, so the gradient has an identity path around every layer [note 004 §16].


# %%
class Residual(nn.Module):
    """h + Linear(ReLU(h)): the skip connection adds no parameters [note 004 §16]."""

    def __init__(self, width):
        super().__init__()
        self.act, self.fc = nn.ReLU(), nn.Linear(width, width)

    def forward(self, h):
        return h + self.fc(self.act(h))


def residual_mlp(depth=DEPTH, width=WIDTH):
    blocks = [Residual(width) for _ in range(depth - 2)]
    return nn.Sequential(nn.Linear(64, width), *blocks, nn.ReLU(), nn.Linear(width, 10))


def he_normal(weight):
    return nn.init.kaiming_normal_(weight, nonlinearity="relu")  # N(0, 2/fan_in) [note 004 §15]


VARIANTS = {
    "sigmoid, Xavier": lambda: plain_mlp(nn.Sigmoid, init=nn.init.xavier_uniform_),
    "ReLU, default init": lambda: plain_mlp(nn.ReLU),
    "ReLU + He init": lambda: plain_mlp(nn.ReLU, init=he_normal),
    "sigmoid + BatchNorm": lambda: plain_mlp(nn.Sigmoid, batchnorm=True),
    "ReLU + residual": residual_mlp,
}

# %% [markdown]
# First the picture at initialization: the same batch, one backward pass per variant.

# %%
init_norms = {}
for name, build in VARIANTS.items():
    cr.manual_seed(0)
    init_norms[name], _ = gradient_norms_at_init(build())
    print(f"{name:20s} first/last layer gradient norm: {init_norms[name][0] / init_norms[name][-1]:.1e}")

fig, ax = plt.subplots(figsize=(7.5, 4.2))
for name, norms in init_norms.items():
    ax.semilogy(range(1, DEPTH + 1), norms, "o-", ms=3, label=name)
ax.set(xlabel="Linear layer (1 = input side)", ylabel="‖∂L/∂(W, b)‖", title="gradient norm per layer at initialization")
ax.legend(fontsize="small")
ax.grid(alpha=0.3)
plt.show()

# %% [markdown]
# Now train each one the same way — SGD with momentum 0.9, learning rate 0.01, batches of 64, the same shuffling —
# and record the gradient norms at every step. A cure has to do two things: keep the first layer's gradient
# within reach of the last layer's, **and** let the net learn (the loss falls well below chance, $\ln 10 = 2.30$).

# %%
STEPS, BATCH, LR = 200, 64, 0.01


def train(model, steps=STEPS, lr=LR, clip=None):
    """SGD (momentum 0.9) on cross-entropy for ``steps`` steps; ``clip``: clip_grad_norm_ threshold or None.
    Returns the per-step losses (stops at the first loss that is not finite), per-step gradient norms of
    the whole model before clipping, and the GradientFlow monitor."""
    monitor = GradientFlow(model)
    optimizer = cr.optim.SGD(model.parameters(), lr=lr, momentum=0.9)
    loader = DataLoader(train_set, batch_size=BATCH, shuffle=True, drop_last=True, seed=0)
    losses, total_norms = [], []
    with np.errstate(over="ignore", invalid="ignore"):  # an exploding run overflows: that is what we measure
        while len(losses) < steps:
            for x, y in loader:
                loss = nn.functional.cross_entropy(model(x), y)
                if not math.isfinite(loss.item()):
                    monitor.remove()
                    return losses, total_norms, monitor
                losses.append(loss.item())
                optimizer.zero_grad()
                loss.backward()
                monitor.record()
                # clip_grad_norm_ returns the norm before clipping; max_norm=inf only measures it
                total_norms.append(nn.utils.clip_grad_norm_(model.parameters(), clip or math.inf).item())
                optimizer.step()
                if len(losses) == steps:
                    break
    monitor.remove()
    return losses, total_norms, monitor


def accuracy(model):
    model.eval()  # BatchNorm: use the running statistics
    with cr.no_grad():
        predicted = model(cr.tensor(x_test.astype(np.float32))).argmax(dim=1).numpy()
    model.train()
    return float(np.mean(predicted == y_test))


def linear_norms(monitor, step):
    layers = monitor.stats(step)["layers"]
    return np.array([layers[n]["grad_norm"] for n, m in monitor.layers if isinstance(m, nn.Linear)])


runs = {}
for name, build in VARIANTS.items():
    cr.manual_seed(0)
    model = build()
    losses, _, monitor = train(model)
    late = np.mean([linear_norms(monitor, s) for s in range(-25, 0)], axis=0)  # the last 25 steps
    runs[name] = {"losses": losses, "late_norms": late, "accuracy": accuracy(model)}

print(f"{'variant':20s} {'first/last at init':>18s} {'in training':>12s} {'final loss':>10s} {'test acc':>8s}")
for name, r in runs.items():
    print(f"{name:20s} {init_norms[name][0] / init_norms[name][-1]:18.1e} {r['late_norms'][0] / r['late_norms'][-1]:12.1e}"
          f" {np.mean(r['losses'][-25:]):10.3f} {r['accuracy']:8.1%}")

# %%
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(13, 4.2))
for name, r in runs.items():
    ax1.plot(r["losses"], lw=1, label=name)
    ax2.semilogy(range(1, DEPTH + 1), r["late_norms"], "o-", ms=3, label=name)
ax1.axhline(math.log(10), color="gray", ls=":", lw=0.8, label="chance (ln 10)")
ax1.set(xlabel="step", ylabel="training loss", title=f"{DEPTH}-layer MLPs on the 8×8 digits")
ax2.set(xlabel="Linear layer (1 = input side)", ylabel="‖∂L/∂(W, b)‖", title="gradient norm per layer, last 25 steps")
for ax in (ax1, ax2):
    ax.grid(alpha=0.3)
    ax.legend(fontsize="small")
plt.show()

# %% [markdown]
# What the table shows (the numbers above are this run's; change `DEPTH`, `STEPS` or the seed and rerun):
#
# - **sigmoid, Xavier**: the first layer's gradient is several orders of magnitude below the last layer's, at
#   initialization and still during training; in this many steps the loss has barely left chance level.
# - **ReLU, default init**: ReLU's slope is 1 where it is active, but the default weights are too small for it
#   (variance $1/(3 n_{in})$ against He's $2/n_{in}$), so every layer still shrinks the signal and the gradient —
#   the activation alone is not the cure.
# - **ReLU + He init**: the right scale for ReLU keeps each factor near one, and the gradient reaches layer 1.
# - **sigmoid + BatchNorm**: the same saturating activation, but normalizing the pre-activations keeps them where
#   the slope is largest and rescales the backward signal at every layer.
# - **ReLU + residual**: the identity path adds a term 1 to each layer's Jacobian, $\partial (h + f(h))/\partial h
#   = I + \partial f/\partial h$, so the product no longer decays with depth.
#
# ## Exploding gradients, and clipping
#
# Now the other direction [note 004 §13]. A 12-layer ReLU MLP whose weights are drawn 1.5× wider than He's scale
# multiplies the signal by about 1.5 per layer: the activations grow layer after layer, the logits come out huge,
# and so do the loss and every gradient. A learning rate that suits a well-scaled net then takes far too large a
# step, the next gradient is larger still, and within a few steps the loss overflows.
#
# Gradient clipping rescales the whole gradient whenever its norm is above a threshold $c$:
#
# $$
# g \leftarrow g \cdot \min\!\Big(1, \frac{c}{\lVert g \rVert}\Big),
# $$
#
# so a step never moves the weights more than $\text{lr} \cdot c$, whatever the gradient did. In chainrule, as in
# PyTorch, it goes between `loss.backward()` and `optimizer.step()`: `nn.utils.clip_grad_norm_(params, c)`
# (our `train` above already calls it). The third run fixes the cause instead: He's initialization.

# %%
EXPLODE_DEPTH, GAIN, CLIP = 12, 1.5, 1.0


def wide_relu_mlp(gain, depth=EXPLODE_DEPTH, width=WIDTH):
    """ReLU MLP with weights N(0, (gain·√(2/fan_in))²): gain 1 is He's initialization."""
    layers, fan_in = [], 64
    for _ in range(depth - 1):
        layer = linear(fan_in, width, nn.init.zeros_)  # zeros the bias; the weight is drawn on the next line
        nn.init.normal_(layer.weight, 0.0, gain * math.sqrt(2 / fan_in))
        layers += [layer, nn.ReLU()]
        fan_in = width
    return nn.Sequential(*layers, nn.Linear(width, 10))


for gain in (GAIN, 1.0):
    cr.manual_seed(0)
    model = wide_relu_mlp(gain)
    monitor = GradientFlow(model)  # its forward hooks record each layer's output statistics
    with cr.no_grad():
        model(x_batch)
    monitor.remove()
    stds = [a["std"] for a in monitor.activations.values() if a["type"] == "ReLU"]
    print(f"gain {gain}: std of the ReLU outputs, layer 1 → {len(stds)}:", " ".join(f"{s:.3g}" for s in stds))

explode_runs = {}
for name, gain, clip in ((f"{GAIN}× He init", GAIN, None),
                         (f"{GAIN}× He init + clip_grad_norm_({CLIP:g})", GAIN, CLIP),
                         ("He init", 1.0, None)):
    cr.manual_seed(0)
    model = wide_relu_mlp(gain)
    losses, total_norms, monitor = train(model, clip=clip)
    explode_runs[name] = {"losses": losses, "norms": total_norms, "report": monitor.report()}
    outcome = (f"loss not finite at step {len(losses)}" if len(losses) < STEPS
               else f"final loss {np.mean(losses[-25:]):.3f}, test accuracy {accuracy(model):.1%}")
    print(f"{name:34s} ‖g‖ at step 0 {total_norms[0]:8.3g}, largest {max(total_norms):10.3g}: {outcome}")

print("GradientFlow on the first run:", explode_runs[f"{GAIN}× He init"]["report"]["messages"][0])

# %%
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(13, 4.2))
for name, r in explode_runs.items():
    line, = ax1.semilogy(r["losses"], lw=1, label=name)
    ax2.semilogy(r["norms"], lw=1, color=line.get_color(), label=name)
    if len(r["losses"]) < STEPS:
        ax1.plot(len(r["losses"]) - 1, r["losses"][-1], "x", ms=10, color=line.get_color())
ax2.axhline(CLIP, color="gray", ls="--", lw=0.8, label=f"clip threshold {CLIP:g}")
ax1.set(xlabel="step", ylabel="training loss", title="loss (× = the last finite loss)", xlim=(-2, STEPS))
ax2.set(xlabel="step", ylabel="‖g‖ before clipping", title="whole-model gradient norm", xlim=(-2, STEPS))
for ax in (ax1, ax2):
    ax.grid(alpha=0.3)
    ax.legend(fontsize="small")
plt.show()

# %% [markdown]
# Clipping does not make the gradient small — the norm before clipping (right) starts hundreds of times above the
# threshold — it makes the **step** small, and that is enough to keep the run finite and learning. He's
# initialization removes the cause: the gradient norm starts a few hundred times lower and stays within a small
# factor of where it started.
#
# ## Try it
#
# - Set `DEPTH = 8`: the sigmoid net's gradient no longer vanishes as badly — depth is a cause in its own right
#   [note 004 §14].
# - Replace `nn.Sigmoid` by `nn.Tanh` in the first variant: its slope at 0 is 1, not 1/4.
# - Raise `GAIN` to 2 or lower `CLIP` to 0.1 and watch when clipping stops being enough.
# - `chainrule lab run vanishing-gradients` and `chainrule lab run exploding-gradients` run the longer,
#   reported versions of these experiments.

# %%
print(f"tutorial ran in {time.perf_counter() - started:.1f} s")
