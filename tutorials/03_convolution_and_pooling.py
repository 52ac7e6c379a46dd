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
# # 3. Convolution arithmetic and pooling backward
#
# A convolution layer is a small kernel slid over an image; a pooling layer is a window slid the same way
# that keeps the maximum or the mean. Almost everything you need to reason about either is *arithmetic*:
# how big is the output, how much of the input does one output pixel see, and where does the gradient go
# on the way back. This tutorial works through that arithmetic with chainrule and checks every formula
# against a real layer.
#
# - padding modes *valid / same / full* and the output-size formula [note 000 §3, note 003 §11–12]
# - stride and dilation
# - the receptive field, and why VGG stacks 3×3 convolutions [note 003 §13, note 001 §3]
# - im2col: a convolution is one matrix product
# - the two backward rules of pooling on a 4×4 example [note 000 §8]
#
# Run it top to bottom with `python tutorials/03_convolution_and_pooling.py`, or open it as a notebook with
# jupytext. Change the numbers in the code cells and run again: every claim is re-checked.

# %%
import matplotlib.pyplot as plt
import numpy as np

import chainrule as cr
import chainrule.nn.functional as F
from chainrule import models, nn
from chainrule.diagnostics import summary

cr.manual_seed(0)
np.set_printoptions(precision=3, suppress=True)

# %% [markdown]
# ## 1. Output size: valid, same, full
#
# With input width $W$, kernel $F$, padding $P$ on each side and stride $S$ there are
#
# $$N = \left\lfloor \frac{W - F + 2P}{S} \right\rfloor + 1$$
#
# window positions [note 003 §11]. Convolutions round **down**: a window that would stick out of the
# padded input is dropped. The three named padding modes of [note 000 §3] choose $P$:
#
# | mode  | padding                              | output at stride 1 |
# |-------|--------------------------------------|--------------------|
# | valid | $P = 0$                              | $W - F + 1$ (shrinks) |
# | same  | just enough to keep $\lceil W/S \rceil$ | $W$ (kept) |
# | full  | $P = F - 1$ (every partial overlap)  | $W + F - 1$ (grows) |
#
# `nn.conv_output_size(size, kernel, stride, padding, dilation)` is that formula; `padding` may be a number
# or one of the three names. Below, the formula is compared with the shape of a real `F.conv2d` output
# for several widths, kernels and strides.

# %%
def real_width(width, kernel, stride, padding, dilation=1):
    """The width of an actual convolution's output."""
    x = cr.randn(1, 1, width, width)
    w = cr.randn(1, 1, kernel, kernel)
    return F.conv2d(x, w, stride=stride, padding=padding, dilation=dilation).shape[-1]


print(f"{'W':>3} {'F':>2} {'S':>2}   {'valid':>11} {'same':>11} {'full':>11}    (formula / real conv2d)")
for width, kernel, stride in [(7, 3, 1), (8, 3, 1), (8, 5, 1), (8, 3, 2), (9, 3, 2), (28, 5, 1), (28, 5, 3)]:
    cells = []
    for mode in ("valid", "same", "full"):
        formula = nn.conv_output_size(width, kernel, stride, mode)
        real = real_width(width, kernel, stride, mode)
        assert formula == real
        cells.append(f"{formula:>5} / {real:<3}")
    print(f"{width:>3} {kernel:>2} {stride:>2}   " + " ".join(cells))

# %% [markdown]
# For `'same'` chainrule follows TensorFlow's rule, also when the stride is above 1: the output is
# $\lceil W/S \rceil$, and the total padding that needs, $(N-1)S + F - W$, is split with the odd pixel on
# the bottom/right. `nn.same_padding` returns that (before, after) pair. The note's own example is a
# 128×128 map, a 3×3 kernel, stride 2, SAME → 64×64 [note 003 §11]:

# %%
width, kernel, stride = 128, 3, 2
before, after = nn.same_padding(width, kernel, stride)
print("same padding (before, after):", (before, after))
print("formula with that padding:   ", nn.conv_output_size(width, kernel, stride, (before, after)))
print("ceil(W / S):                 ", -(-width // stride))
print("a real conv2d, padding='same':", real_width(width, kernel, stride, "same"))

# %% [markdown]
# Pooling uses the same formula. The note says Caffe rounds *up* for pooling, keeping a last partial
# window; that is `ceil_mode=True`. AlexNet's overlapping 3×3 pooling with stride 2 on a 13-wide map
# [note 003 §14]:

# %%
for w in (13, 14):
    x = cr.randn(1, 1, w, w)
    floor_out = F.max_pool2d(x, 3, stride=2).shape[-1]
    ceil_out = F.max_pool2d(x, 3, stride=2, ceil_mode=True).shape[-1]
    print(f"W={w}: floor {nn.conv_output_size(w, 3, 2)} (real {floor_out}),"
          f" ceil {nn.conv_output_size(w, 3, 2, ceil_mode=True)} (real {ceil_out})")

# %% [markdown]
# ## 2. Stride and dilation
#
# **Stride** $S$ moves the window $S$ pixels at a time, dividing the output size by about $S$.
# **Dilation** $d$ spreads the kernel's taps $d$ pixels apart: a 3×3 kernel with $d = 2$ covers a 5×5
# area with still 9 weights. In the formula $F$ becomes the kernel's *extent* $d(F-1) + 1$:
#
# $$N = \left\lfloor \frac{W + 2P - d(F - 1) - 1}{S} \right\rfloor + 1 .$$
#
# The picture marks which input pixels one output pixel reads, for a 3×3 kernel: plain, dilated, and two
# neighbouring output positions at stride 2 (light: the first window, middle: the next one, dark: the
# column both read).

# %%
def taps(size, kernel, dilation, start):
    """A size×size mask of the pixels a kernel×kernel window with this dilation reads from `start`."""
    m = np.zeros((size, size))
    for i in range(kernel):
        for j in range(kernel):
            m[start[0] + i * dilation, start[1] + j * dilation] = 1
    return m


fig, axes = plt.subplots(1, 3, figsize=(9, 3))
for ax, (title, mask) in zip(axes, [
    ("3×3, dilation 1", taps(9, 3, 1, (0, 0))),
    ("3×3, dilation 2 (extent 5)", taps(9, 3, 2, (0, 0))),
    ("3×3, stride 2: next output", taps(9, 3, 1, (0, 0)) + 2 * taps(9, 3, 1, (0, 2))),
]):
    ax.imshow(mask, cmap="Blues", vmin=0, vmax=3)
    ax.set_title(title, fontsize=9)
    ax.set_xticks(range(9)); ax.set_yticks(range(9))
    ax.grid(color="gray", linewidth=0.3)
fig.tight_layout()
plt.show()

for d in (1, 2, 3):
    print(f"W=16, 3×3 kernel, dilation {d}: extent {d * 2 + 1}, valid output "
          f"{nn.conv_output_size(16, 3, 1, 0, d)} (real {real_width(16, 3, 1, 'valid', d)})")

# %% [markdown]
# ## 3. Receptive field
#
# The receptive field $r_n$ of a unit after layer $n$ is the side of the input patch it depends on
# [note 003 §13]. Starting from $r_0 = 1$,
#
# $$r_n = r_{n-1} + (k_n - 1)\, d_n \prod_{i<n} s_i ,$$
#
# where the product of the earlier strides, the **jump**, is how many input pixels one step of layer
# $n$'s input spans. `nn.receptive_field` takes (kernel, stride[, dilation]) tuples or modules and
# returns $(r, \text{jump})$.

# %%
print("one 3×3:             ", nn.receptive_field([(3, 1)]))
print("two 3×3:             ", nn.receptive_field([(3, 1), (3, 1)]))
print("three 3×3:           ", nn.receptive_field([(3, 1), (3, 1), (3, 1)]))
print("one 7×7:             ", nn.receptive_field([(7, 1)]))
print("3×3, pool 2, 3×3:    ", nn.receptive_field([(3, 1), (2, 2), (3, 1)]))
print("3×3 with dilation 2: ", nn.receptive_field([(3, 1, 2)]))

# %% [markdown]
# The receptive field is not just bookkeeping: it is exactly the set of input pixels that get a nonzero
# gradient when you backpropagate from one output pixel. Check it for three stacked 3×3 convolutions
# (all-positive weights, so no cancellation hides a pixel):

# %%
stack = nn.Sequential(*[nn.Conv2d(1, 1, 3, bias=False) for _ in range(3)])
for conv in stack:
    conv.weight.data[...] = 1.0
x = cr.randn(1, 1, 15, 15, requires_grad=True)
y = stack(x)                                 # (1, 1, 9, 9)
y[0, 0, 4, 4].backward()                     # one output pixel in the middle
support = np.abs(x.grad.data[0, 0]) > 0
rows, cols = np.nonzero(support)
print("output shape:", y.shape)
print("input pixels with a gradient:", f"{rows.max() - rows.min() + 1}×{cols.max() - cols.min() + 1}",
      "  nn.receptive_field:", nn.receptive_field(stack))

# %% [markdown]
# ### VGG: three 3×3 layers instead of one 7×7
#
# VGG uses only 3×3 convolutions [note 001 §3]. Three of them see a 7×7 patch, like one 7×7 layer, but
# with $C$ channels in and out they cost $3 \cdot 9C^2 = 27C^2$ weights against $49C^2$, and put three
# nonlinearities where there was one. `summary` traces a model and prints the parameters, the
# multiply-accumulates (MACs) and the receptive field (RF) of every layer; `chainrule summary MODEL`
# prints the same table from the shell.

# %%
C = 64
three_3x3 = nn.Sequential(nn.Conv2d(C, C, 3, padding=1), nn.ReLU(), nn.Conv2d(C, C, 3, padding=1), nn.ReLU(),
                          nn.Conv2d(C, C, 3, padding=1), nn.ReLU())
one_7x7 = nn.Sequential(nn.Conv2d(C, C, 7, padding=3), nn.ReLU())
for name, model in [("three 3×3", three_3x3), ("one 7×7", one_7x7)]:
    s = summary(model, (C, 32, 32))
    print(f"--- {name}\n{s}\n")
ratio = summary(three_3x3, (C, 32, 32)).totals["params"] / summary(one_7x7, (C, 32, 32)).totals["params"]
print(f"parameters, three 3×3 / one 7×7: {ratio:.3f}   (27/49 = {27 / 49:.3f} without the biases)")

# %% [markdown]
# The same table for a whole VGG-16 (the 32×32 CIFAR version, the same 13 convolutions and 5 poolings as
# the ImageNet one). Watch the RF column: +2 per 3×3 conv while the jump is 1, then +2·jump after each
# 2×2 pooling doubles the jump; the last pooling sees 212×212 pixels, more than the 32×32 image.

# %%
vgg = models.vgg_cifar(16, batch_norm=False)
table = summary(vgg, (3, 32, 32))
print(f"{'layer':<12} {'type':<10} {'output':>12} {'RF':>4} {'jump':>5}")
for row in table.rows:
    if row["type"] in ("Conv2d", "MaxPool2d"):
        shape = "×".join(map(str, row["output_shape"]))
        print(f"{row['name']:<12} {row['type']:<10} {shape:>12} {row['receptive_field']:>4} {row['jump']:>5}")
print("nn.receptive_field(vgg.features):", nn.receptive_field(vgg.features))

# %% [markdown]
# ## 4. im2col: a convolution is one matrix product
#
# Cut every $k \times k$ window of the input (all $C$ channels) out and lay it flat as a column: that is
# **im2col**, `F.unfold`. For an input $(N, C, H, W)$ it returns $(N, C k^2, L)$ with $L = H_\text{out}
# W_\text{out}$ windows. Flatten the weights $(C_\text{out}, C, k, k)$ to a $(C_\text{out}, C k^2)$ matrix;
# then
#
# $$Y = W_\text{flat} \cdot \operatorname{unfold}(X) \;\in\; \mathbb{R}^{N \times C_\text{out} \times L},$$
#
# reshaped to $(N, C_\text{out}, H_\text{out}, W_\text{out})$, *is* the convolution. chainrule's `conv2d`
# computes it this way (in blocks, so the columns never fill memory), and the backward pass is two more
# products plus `fold`, which adds the columns back into the image.
#
# First a tiny case you can read: one 4×4 channel, a 3×3 kernel, 4 windows.

# %%
x_small = cr.tensor(np.arange(16, dtype=np.float64).reshape(1, 1, 4, 4))
cols = F.unfold(x_small, kernel_size=3)
print("input:\n", x_small.data[0, 0])
print("unfold(input, 3): shape", cols.shape, "— each column is one window, flattened:\n", cols.data[0])

# %% [markdown]
# Now a real-sized one, with padding and stride, compared with `F.conv2d`:

# %%
N, C_in, H, W_, C_out, k, stride, padding = 2, 3, 10, 10, 5, 3, 2, 1
x = cr.randn(N, C_in, H, W_, dtype=cr.float64)
weight = cr.randn(C_out, C_in, k, k, dtype=cr.float64)

cols = F.unfold(x, kernel_size=k, padding=padding, stride=stride)     # (N, C_in·k·k, L)
h_out = nn.conv_output_size(H, k, stride, padding)
w_out = nn.conv_output_size(W_, k, stride, padding)
y_matmul = (weight.reshape(C_out, -1) @ cols).reshape(N, C_out, h_out, w_out)
y_conv = F.conv2d(x, weight, stride=stride, padding=padding)

print("columns:", cols.shape, " weight matrix:", weight.reshape(C_out, -1).shape, " output:", y_matmul.shape)
print("max |matmul − conv2d| =", float(np.abs(y_matmul.data - y_conv.data).max()))

# %% [markdown]
# ## 5. Pooling backward: route to the max, or spread evenly
#
# Pooling has no weights, but the gradient must still get back through it, and the pooled map is smaller
# than its input. [note 000 §8] gives the two rules, both keeping the gradient's total:
#
# - **average pooling** divided the window's sum by $n$, so each of the $n$ positions gets $g/n$
#   ($g/4$ for 2×2). Copying $g$ to every position would multiply the gradient by $n$.
# - **max pooling** passed on one value, so only the position of the maximum gets $g$; the others get 0.
#   The forward pass has to remember where the maximum was.
#
# A 4×4 input, 2×2 pooling with stride 2, and an upstream gradient $g$ of $[[1, 2], [3, 4]]$ for the
# four outputs:

# %%
x_np = np.array([[1., 5., 2., 0.],
                 [3., 2., 8., 1.],
                 [0., 4., 6., 7.],
                 [9., 1., 3., 2.]])
g = cr.tensor([[[[1., 2.], [3., 4.]]]], dtype=cr.float64)

x_max = cr.tensor(x_np[None, None], requires_grad=True)
y_max = F.max_pool2d(x_max, 2)
y_max.backward(g)

x_avg = cr.tensor(x_np[None, None], requires_grad=True)
y_avg = F.avg_pool2d(x_avg, 2)
y_avg.backward(g)

print("x:\n", x_np)
print("max pool forward:\n", y_max.data[0, 0])
print("avg pool forward:\n", y_avg.data[0, 0])
print("upstream gradient g:\n", g.data[0, 0])
print("max pool backward (g at each window's max, 0 elsewhere):\n", x_max.grad.data[0, 0])
print("avg pool backward (g/4 everywhere in the window):\n", x_avg.grad.data[0, 0])
print("sum of g:", float(g.data.sum()), " sum of max grad:", float(x_max.grad.data.sum()),
      " sum of avg grad:", float(x_avg.grad.data.sum()))

# %% [markdown]
# The same gradients written by hand from the two rules, to confirm autograd does exactly this:

# %%
hand_max = np.zeros((4, 4))
hand_avg = np.zeros((4, 4))
for i in range(2):
    for j in range(2):
        window = x_np[2 * i:2 * i + 2, 2 * j:2 * j + 2]
        p, q = np.unravel_index(np.argmax(window), window.shape)
        hand_max[2 * i + p, 2 * j + q] += g.data[0, 0, i, j]
        hand_avg[2 * i:2 * i + 2, 2 * j:2 * j + 2] += g.data[0, 0, i, j] / window.size
print("max rule equals autograd:", np.array_equal(hand_max, x_max.grad.data[0, 0]))
print("avg rule equals autograd:", np.array_equal(hand_avg, x_avg.grad.data[0, 0]))

fig, axes = plt.subplots(1, 3, figsize=(10, 3.2))
for ax, (title, a) in zip(axes, [("input x (max of each window boxed)", x_np),
                                 ("∂L/∂x through max pooling", x_max.grad.data[0, 0]),
                                 ("∂L/∂x through average pooling", x_avg.grad.data[0, 0])]):
    ax.imshow(a, cmap="viridis")
    for (r, c), v in np.ndenumerate(a):
        ax.text(c, r, f"{v:g}", ha="center", va="center", color="k" if v > 0.6 * a.max() else "w", fontsize=10)
    ax.axhline(1.5, color="w", linewidth=2); ax.axvline(1.5, color="w", linewidth=2)
    ax.set_title(title, fontsize=9); ax.set_xticks([]); ax.set_yticks([])
for r, c in zip(*np.nonzero(hand_max)):
    axes[0].add_patch(plt.Rectangle((c - 0.5, r - 0.5), 1, 1, fill=False, edgecolor="red", linewidth=2))
fig.tight_layout()
plt.show()

# %% [markdown]
# When windows **overlap** (stride below the kernel, AlexNet's 3×3 stride 2), one input position belongs
# to several windows and collects a share from each: the rule is "$+=$", not "$=$". With a gradient of 1
# on every output of a 3×3 / stride 2 average pooling of a 5×5 input, the centre column and row sit in
# two windows and the centre pixel in four:

# %%
x_ov = cr.zeros(1, 1, 5, 5, dtype=cr.float64, requires_grad=True)
y_ov = F.avg_pool2d(x_ov, 3, stride=2)
y_ov.backward(cr.ones_like(y_ov))
print("output shape:", y_ov.shape)
print("∂L/∂x × 9 (how many windows each pixel is in):\n", x_ov.grad.data[0, 0] * 9)

# %% [markdown]
# ## What to try
#
# - Change `(width, kernel, stride)` in the first table, or pass `dilation` to `real_width`: the asserts
#   re-check the formula.
# - Set the weights of the three-layer stack to random values, or add a `nn.MaxPool2d(2)` to it: the
#   support of the gradient still matches `nn.receptive_field`.
# - Replace `F.max_pool2d` with `F.max_pool2d(x, 2, stride=1)`: now the windows overlap and the gradient of
#   a pixel that is the maximum of two windows is the sum of both.
# - `chainrule lab run pooling-backward` and `chainrule lab run conv-arithmetic` run the longer experiments
#   behind this page.
