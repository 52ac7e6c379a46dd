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
# # 1. The chain rule by hand and by autograd
#
# Note 004 works backpropagation out by hand on the smallest network there is: three neurons in a
# row, one weight and one bias each, a sigmoid after each, and the squared error of one example
# [note 004]. In this tutorial you
#
# 1. run that network forward and print every value the note names;
# 2. write the note's gradient formula factor by factor, and check that `backward()` gives the same
#    number — every bit of it;
# 3. open the same computation in chainrule's graph explorer and step through the backward pass;
# 4. walk the graph yourself through `loss.grad_fn.next_functions` and see why backpropagation is
#    *dynamic programming*: each node's gradient is summed from all the nodes that consumed it,
#    and only then handed on, so each node is visited once [notes 002, 004].
#
# Run it with `python tutorials/01_chain_rule.py` from the repository root, or open it as a notebook
# with jupytext. Every number printed below is computed when you run it.

# %%
import math
import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

import chainrule as cr
import chainrule.viz  # the graph explorer: a subpackage, imported on its own

# %% [markdown]
# ## 1. Three neurons in a chain, forward
#
# Number the layers $L-2$, $L-1$, $L$ (the last). Each neuron takes the previous activation,
# weights it, adds its bias and squashes the result:
#
# $$
# z^{(l)} = w^{(l)} a^{(l-1)} + b^{(l)}, \qquad a^{(l)} = \sigma\big(z^{(l)}\big) = \frac{1}{1 + e^{-z^{(l)}}},
# \qquad C_0 = \big(a^{(L)} - y\big)^2 .
# $$
#
# $a^{(L-3)}$ is the input and $y$ the target. The numbers below are the ones
# `chainrule.viz.examples.note004()` uses; change them and rerun — every check below still holds.

# %%
weights = [0.8, -1.2, 1.5]  # w^(L-2), w^(L-1), w^(L)
biases = [0.1, 0.3, -0.4]  # b^(L-2), b^(L-1), b^(L)
a_input, y = 0.9, 1.0  # a^(L-3) and the target

# %% [markdown]
# First as chainrule tensors. `dtype=cr.float64` so that the comparison with plain Python floats
# (also 64-bit) can be exact; `requires_grad=True` on the six parameters asks autograd to record
# every operation that uses them.

# %%
w = [cr.tensor(v, dtype=cr.float64, requires_grad=True) for v in weights]
b = [cr.tensor(v, dtype=cr.float64, requires_grad=True) for v in biases]

a = cr.tensor(a_input, dtype=cr.float64)
zs_t, acts_t = [], [a]
for wl, bl in zip(w, b):
    z = wl * acts_t[-1] + bl
    zs_t.append(z)
    acts_t.append(z.sigmoid())
cost = (acts_t[-1] - y) ** 2

layer_names = ["L-2", "L-1", "L"]
for name, z, a_out in zip(layer_names, zs_t, acts_t[1:]):
    print(f"layer {name:>3}:  z = {z.item():+.6f}   a = σ(z) = {a_out.item():.6f}")
print(f"cost C0 = (a_L - y)^2 = {cost.item():.6f}")
print("cost's grad_fn:", cost.grad_fn)

# %% [markdown]
# The same forward pass in plain Python floats, for the hand computation. Nothing is recorded
# here: these are just numbers.

# %%
def sigma(z):
    return 1 / (1 + math.exp(-z))


def sigma_prime(z):  # σ'(z) = σ(z)(1 − σ(z))
    return sigma(z) * (1 - sigma(z))


acts, zs = [a_input], []  # acts = [a^(L-3), a^(L-2), a^(L-1), a^(L)], zs = [z^(L-2), z^(L-1), z^(L)]
for wl, bl in zip(weights, biases):
    zs.append(wl * acts[-1] + bl)
    acts.append(sigma(zs[-1]))
print("a^(L) by hand:", acts[-1], "  by chainrule:", acts_t[-1].item())

# %% [markdown]
# ## 2. The gradient, factor by factor
#
# The weight $w^{(L)}$ reaches the cost through $z^{(L)}$ and then $a^{(L)}$, so the chain rule has
# three factors, and the note lists each of them [note 004]:
#
# $$
# \frac{\partial C_0}{\partial w^{(L)}}
# = \underbrace{\frac{\partial z^{(L)}}{\partial w^{(L)}}}_{a^{(L-1)}}\;
#   \underbrace{\frac{\partial a^{(L)}}{\partial z^{(L)}}}_{\sigma'(z^{(L)})}\;
#   \underbrace{\frac{\partial C_0}{\partial a^{(L)}}}_{2(a^{(L)} - y)} .
# $$
#
# Note the first factor: the gradient of a weight contains **the activation of the neuron before
# it** — the note's "neurons that fire together wire together".
#
# Let us print the three factors, multiply them, and compare with what `backward()` puts into
# `w[2].grad`.

# %%
dC_da = 2 * (acts[3] - y)  # ∂C0/∂a^(L)
da_dz = sigma_prime(zs[2])  # ∂a^(L)/∂z^(L) = σ'(z^(L))
dz_dw = acts[2]  # ∂z^(L)/∂w^(L) = a^(L-1)

cost.backward()  # autograd: fills .grad of all six parameters

print(f"∂C0/∂a^(L)  = 2(a^(L) − y) = {dC_da:+.10f}")
print(f"∂a^(L)/∂z^(L) = σ'(z^(L))  = {da_dz:+.10f}")
print(f"∂z^(L)/∂w^(L) = a^(L-1)    = {dz_dw:+.10f}")
by_hand = dC_da * da_dz * dz_dw
print(f"product, by hand      : {by_hand!r}")
print(f"w[2].grad, by autograd: {w[2].grad.item()!r}")

# %% [markdown]
# ### One layer further back, and a name for the repeated part
#
# Going back one more neuron, $a^{(L-1)}$ enters $z^{(L)}$ multiplied by $w^{(L)}$, so
# $\partial z^{(L)}/\partial a^{(L-1)} = w^{(L)}$ and
#
# $$
# \frac{\partial C_0}{\partial w^{(L-1)}}
# = 2\big(a^{(L)} - y\big)\,\sigma'\big(z^{(L)}\big)\; w^{(L)}\; \sigma'\big(z^{(L-1)}\big)\; a^{(L-2)} .
# $$
#
# The first factors are shared with the layer above. Give them a name: the **error** of layer $l$,
# $\delta^{(l)} = \partial C_0 / \partial z^{(l)}$. Then each step back is one multiplication, and
# every parameter's gradient is that layer's $\delta$ times what multiplies the parameter:
#
# $$
# \delta^{(L)} = 2\big(a^{(L)} - y\big)\,\sigma'\big(z^{(L)}\big), \qquad
# \delta^{(l-1)} = \delta^{(l)}\, w^{(l)}\, \sigma'\big(z^{(l-1)}\big), \qquad
# \frac{\partial C_0}{\partial w^{(l)}} = \delta^{(l)} a^{(l-1)}, \qquad
# \frac{\partial C_0}{\partial b^{(l)}} = \delta^{(l)} .
# $$
#
# (Note 004's own line for $\partial C_0/\partial w^{(L-1)}$ has two slips: it writes $a^{(L-1)}$
# where the weight $w^{(L)}$ belongs, and $\sigma'(z^{(L)})$ for $\partial a^{(L-1)}/\partial z^{(L-1)}$;
# the last line of the table below evaluates it as written, to show it is not the gradient.)
#
# Below: all six gradients by hand, next to autograd's, and how many *units in the last place*
# (ULPs — the spacing of float64 numbers at that size) they differ by.

# %%
deltas = [None, None, dC_da * sigma_prime(zs[2])]  # δ^(L-2), δ^(L-1), δ^(L)
for l in (1, 0):
    deltas[l] = deltas[l + 1] * weights[l + 1] * sigma_prime(zs[l])


def ulps(p, q):
    return abs(p - q) / math.ulp(max(abs(p), abs(q)))


print(f"{'':>16}{'by hand':>24}{'autograd':>24}   ULPs apart")
for l, name in enumerate(layer_names):
    print(f"{'δ^(' + name + ')':<16}{deltas[l]:+24.17g}")
    for label, hand, param in ((f"∂C0/∂w^({name})", deltas[l] * acts[l], w[l]),
                               (f"∂C0/∂b^({name})", deltas[l], b[l])):
        auto = param.grad.item()
        print(f"{label:<16}{hand:+24.17g}{auto:+24.17g}   {ulps(hand, auto):.0f}")

as_written = dC_da * sigma_prime(zs[2]) * acts[2] * sigma_prime(zs[1]) * acts[1]
print(f"\nnote 004's line for ∂C0/∂w^(L-1), as written: {as_written:+.6f}"
      f"   (the gradient: {w[1].grad.item():+.6f})")

# %% [markdown]
# **What this shows.** With these numbers the hand formula and autograd agree to every bit (0 ULPs
# apart): autograd does nothing but the note's multiplications, one op at a time, in the same
# order. If you change the numbers above you may see 1 ULP now and then — floating-point products
# give the last bit differently when they are grouped differently, which is not an error.
#
# ### What the gradient means: the slope of the cost
#
# $\partial C_0/\partial w^{(L)}$ is the slope of the cost as $w^{(L)}$ alone moves. Draw the cost
# over a range of $w^{(L)}$ (forward only, under `no_grad`) and the tangent line whose slope is
# autograd's number: it touches the curve at the current weight.

# %%
def cost_at(w_last):
    with cr.no_grad():
        a = cr.tensor(a_input, dtype=cr.float64)
        for wl, bl in zip(weights[:2] + [w_last], biases):
            a = (wl * a + bl).sigmoid()
        return ((a - y) ** 2).item()


grid = np.linspace(weights[2] - 4, weights[2] + 4, 81)
slope = w[2].grad.item()
fig, ax = plt.subplots(figsize=(6, 3.5))
ax.plot(grid, [cost_at(v) for v in grid], label="$C_0$ as $w^{(L)}$ varies")
ax.plot(grid, cost.item() + slope * (grid - weights[2]), "--", label=f"tangent, slope = w[2].grad = {slope:.4f}")
ax.plot([weights[2]], [cost.item()], "o", color="black")
ax.set_xlabel("$w^{(L)}$")
ax.set_ylabel("cost")
ax.set_ylim(0, 1.1 * max(cost_at(v) for v in grid))
ax.legend()
ax.set_title("note 004: the gradient is the slope of the cost")
fig.tight_layout()
plt.show()

# %% [markdown]
# ## 3. The graph explorer
#
# Autograd recorded the computation as a graph: one node per operation (a `Function`) and per leaf
# tensor. `chainrule.viz` draws that graph as **one self-contained HTML page** — no Graphviz, no
# network: open the file in any browser. Press → (or the *step* button) to run the backward pass
# one node at a time: for each node the page shows the gradient arriving (the sum over its
# consumers), the op's local derivative, the product handed to each input, and the
# dynamic-programming table filling row by row.
#
# `chainrule.viz.examples.note004()` builds exactly this network (it takes the same four arguments,
# so your changes carry over) and adds a panel with the hand formula beside autograd's numbers.
# The page goes to a temporary folder, not into the repository.

# %%
out_dir = Path(tempfile.mkdtemp(prefix="chainrule-tutorial01-"))
view = cr.viz.examples.note004(weights=tuple(weights), biases=tuple(biases), a0=a_input, y=y)
page = view.save(out_dir / "note004.html")
print("explorer page written to", page)
print(f"open it in a browser: file://{page}   (or: python -m webbrowser file://{page})")
print("in Jupyter, a GraphView shown as the cell's last value renders the same page inline")

for note in view.notes:
    print("\n" + note["title"])
    for label, value in note["rows"]:
        print(f"  {label:<72} {value}")

# %% [markdown]
# You can build such a view of any computation of your own with `cr.viz.graph(loss, params)` —
# **before** `loss.backward()`, which frees the graph. The view then watches the backward sweep.
# Its `sweep` attribute lists the nodes in the order backward visited them; each node's `grad`
# is the total gradient it received.

# %%
w_own = [cr.tensor(v, dtype=cr.float64, requires_grad=True) for v in weights]
b_own = [cr.tensor(v, dtype=cr.float64, requires_grad=True) for v in biases]
a = cr.tensor(a_input, dtype=cr.float64)
for wl, bl in zip(w_own, b_own):
    a = (wl * a + bl).sigmoid()
loss = (a - y) ** 2
names = {f"w{i}": t for i, t in enumerate(w_own, start=1)} | {f"b{i}": t for i, t in enumerate(b_own, start=1)}
own_view = cr.viz.graph(loss, names, title="my note-004 chain")
loss.backward()

print("backward visited, in this order:")
for step, node_id in enumerate(own_view.sweep, start=1):
    node = own_view.nodes[node_id]
    print(f"  {step:2d}. {node['name']:<8} gradient {node['grad']:+.6f}")
print("\nthe same graph as Graphviz DOT text (for `dot -Tsvg`), first lines:")
print("\n".join(own_view.to_dot().splitlines()[:6]))

# %% [markdown]
# ## 4. Backpropagation is dynamic programming
#
# In a chain each node has one consumer, so there is only one path back. Real networks branch: a
# ResNet's input goes to the main path *and* the shortcut, a hidden layer feeds every neuron of
# the next. Then a node's gradient is the **sum over its consumers** [note 004, §3]:
#
# $$
# \frac{\partial L}{\partial h} = \sum_{c \,\in\, \text{consumers}(h)} \frac{\partial L}{\partial c}\,\frac{\partial c}{\partial h}.
# $$
#
# Expanding this recursively gives a sum over *every path* from the loss to $h$ — and the number
# of paths can grow exponentially with depth. Backpropagation never enumerates paths: it puts the
# nodes in topological order once, visits them in reverse, and handles each node exactly once,
# after all its consumers have added their share. That is dynamic programming: the table
# `grads[node]` is filled from the output backwards, and each entry is reused by every path
# through it [note 002].
#
# A graph where paths explode: repeat $h \leftarrow \sin h + \cos h$. Each $h$ is consumed by
# two ops, so after $n$ steps there are $2^n$ paths from the result back to $x$.

# %%
def diamond_chain(n, x0=0.5):
    x = cr.tensor(x0, dtype=cr.float64, requires_grad=True)
    h = x
    for _ in range(n):
        h = h.sin() + h.cos()
    return x, h


x, h = diamond_chain(3)
print("h.grad_fn:", h.grad_fn)
print("h.grad_fn.next_functions:", h.grad_fn.next_functions)
print("one level further:", h.grad_fn.next_functions[0][0].next_functions)

# %% [markdown]
# `grad_fn` is the node that made a tensor (PyTorch's name); its `next_functions` are the nodes it
# hands gradients to, one `(node, output_index)` per tensor input. A leaf that requires a gradient
# ends in an `AccumulateGrad` node, whose `.variable` is the leaf. Walking `next_functions` from
# `loss.grad_fn` reaches the whole graph.
#
# Two ways to walk it. The *naive* walk follows every path (a tree walk); the *DP* walk marks what
# it has seen. Count what each visits:

# %%
def node_key(node):
    # next_functions makes a fresh AccumulateGrad each time it is asked: key leaves by their tensor
    return ("leaf", id(node.variable)) if isinstance(node, cr.autograd.AccumulateGrad) else ("op", id(node))


def count_path_visits(node):  # the naive walk: one visit per path
    return 1 + sum(count_path_visits(nxt) for nxt, _ in node.next_functions if nxt is not None)


def topological_order(root):
    """Every node reachable from ``root``, each after all the nodes that consume it (DFS, post-order,
    reversed): the order in which backward can visit them."""
    order, seen = [], set()

    def visit(node):
        seen.add(node_key(node))
        for nxt, _ in node.next_functions:
            if nxt is not None and node_key(nxt) not in seen:
                visit(nxt)
        order.append(node)

    visit(root)
    return order[::-1]


print(f"{'n':>3} {'nodes (DP walk)':>16} {'path visits (naive)':>20}")
for n in (2, 4, 8, 12):
    _, h = diamond_chain(n)
    print(f"{n:>3} {len(topological_order(h.grad_fn)):>16} {count_path_visits(h.grad_fn):>20}")

# %% [markdown]
# The DP walk grows by 3 nodes per step (a `Sin`, a `Cos`, an `Add`): $3n + 1$. The naive walk
# doubles with every step: $2^{n+2} - 3$ visits (check the table). At $n = 60$ that is about
# $4.6 \cdot 10^{18}$ visits, against the DP walk's 181.
#
# Now backpropagation itself, written on top of `next_functions` in a dozen lines. Each op node's
# `backward(g)` is the array-level rule the real sweep calls: given the gradient of its output, it
# returns one gradient per input (the local derivative times `g`). The table `grads` holds each
# node's gradient; a node is processed only after every consumer has added to it — guaranteed by
# the reverse topological order.

# %%
def backprop_by_hand(loss):
    grads = {node_key(loss.grad_fn): np.ones(loss.shape)}  # ∂loss/∂loss = 1
    leaf_grads, visits = {}, []
    for node in topological_order(loss.grad_fn):
        g = grads.pop(node_key(node))  # complete: every consumer has been processed
        visits.append(node)
        if isinstance(node, cr.autograd.AccumulateGrad):
            leaf_grads[id(node.variable)] = g
            continue
        for (nxt, _), g_in in zip(node.next_functions, node.backward(g)):
            if nxt is not None:  # sum over consumers: the DP step
                grads[node_key(nxt)] = grads.get(node_key(nxt), 0) + g_in
    return leaf_grads, visits


x, h = diamond_chain(12)
leaf_grads, visits = backprop_by_hand(h)
h.backward()  # the real sweep, on the same graph
print(f"nodes visited by hand: {len(visits)}, distinct: {len({node_key(node) for node in visits})}")
print(f"dh/dx by hand    : {leaf_grads[id(x)].item()!r}")
print(f"dh/dx by autograd: {x.grad.item()!r}")
print("first visits:", visits[:7])
print("last visits: ", visits[-4:])

# %% [markdown]
# The hand-written sweep visits each of the 37 nodes once and agrees with `backward()` to the last
# bit. One step can be checked against calculus: for $h' = \sin h + \cos h$, $\partial h'/\partial h = \cos h - \sin h$ — the two
# consumers' contributions, $\cos h$ from `Sin` and $-\sin h$ from `Cos`, summed.
#
# Autograd's own sweep can be watched with a hook: `t.register_hook(fn)` calls `fn` with `t`'s
# **total** gradient, right before `t`'s own backward runs. Every intermediate $h$ has two
# consumers, yet each hook fires once, with the sum.

# %%
x = cr.tensor(0.5, dtype=cr.float64, requires_grad=True)
hs, h = [], x
for _ in range(4):
    h = h.sin() + h.cos()
    hs.append(h)

fired = []
for k, hk in enumerate(hs):
    hk.register_hook(lambda g, k=k: fired.append((k, g.item())))
h.backward()

values = [x.item()] + [t.item() for t in hs]
for k, g in fired:
    print(f"h{k + 1}: hook fired once, total gradient {g:+.6f}")
# the chain rule by hand, from the top down: dh4/dh_k = Π_{j>k} (cos h_j − sin h_j)
expected, running = {}, 1.0
for k in range(len(hs) - 1, -1, -1):
    expected[k] = running
    running *= math.cos(values[k]) - math.sin(values[k])
print("hooks fired in the order", [k + 1 for k, _ in fired], "(reverse topological: the output's side first)")
print("each equals Π (cos h − sin h) of the steps above it:",
      all(math.isclose(g, expected[k], rel_tol=1e-14) for k, g in fired))
print(f"dh4/dx = {x.grad.item():+.6f}, by the same product: {running:+.6f}")

# %% [markdown]
# ## What to try
#
# * Change `weights`, `biases`, `a_input` or `y` at the top and rerun: the tables still agree, and
#   the explorer page shows your network.
# * Make the chain longer (append to `weights` and `biases`): each step back multiplies by one more
#   $w\,\sigma'(z)$, and since $\sigma' \le 1/4$ the early gradients shrink — the vanishing gradients of
#   note 004, §14.
# * Save `cr.viz.model_graph(model, x, y)` for a model from `chainrule.models` and step through a
#   graph where a ReLU's gradient arrives from two consumers (the ResNet shortcut).
#
# Next: tutorial 2 writes a new op with its own backward.
