"""Note 000's tanh′ = 1 − tanh², and every derivative after it, by differentiating the backward again.

Every derivative of tanh is a polynomial in t = tanh x: since dt/dx = 1 − t², d/dx P(t) = P′(t)(1 − t²), so from
P₀(t) = t the n-th derivative is Pₙ(tanh x) with Pₙ₊₁ = (1 − t²)Pₙ′ — P₁ = 1 − t² is the note's formula,
P₂ = −2t + 2t³, and so on (computed here with ``numpy.polynomial``, not typed in). autograd gets the same
functions with no formula at all: ``grad(y.sum(), x, create_graph=True)`` records the backward as ops, so its
result is a function of x that can be differentiated again, n times over. The experiment compares the two on
[−3, 3] for n = 1..6 and counts the nodes of the graph that each order records — the price of the trick: the
n-th derivative's graph contains the backward of the (n−1)-th's.
"""
import itertools
import os
import time

import numpy as np
from numpy.polynomial import Polynomial

from .. import tensor
from ..autograd import Function, grad
from .base import Result

NAME = "higher-derivatives"
NOTE = "000"
CLAIM = ("tanh′ = 1 − tanh², and differentiating autograd's backward again gives every higher derivative: the n-th "
         "derivative by n nested grad(create_graph=True) equals the closed form Pₙ(tanh x), Pₙ₊₁ = (1 − t²)Pₙ′, to "
         "rounding, while the recorded graph grows with each order")

ORDERS = 6
TOL = 1e-10  # max |autograd − closed form| over [−3, 3] (|P₆| reaches 52 there)


def tanh_polynomials(orders=ORDERS):
    """[P₀, P₁, …, P_orders] with P₀(t) = t and Pₙ₊₁ = (1 − t²)·Pₙ′: dⁿ/dxⁿ tanh x = Pₙ(tanh x)."""
    polys = [Polynomial([0, 1])]
    for _ in range(orders):
        polys.append(Polynomial([1, 0, -1]) * polys[-1].deriv())
    return polys


def graph_nodes(t):
    """The number of distinct Function nodes in the recorded graph of ``t`` (walking ``grad_fn.next_functions``)."""
    seen, stack = set(), [t.grad_fn]
    while stack:
        fn = stack.pop()
        if isinstance(fn, Function) and id(fn) not in seen:
            seen.add(id(fn))
            stack.extend(node for node, _ in fn.next_functions)
    return len(seen)


def derivatives(x, orders=ORDERS):
    """[(the n-th derivative of tanh at the points x as a recorded Tensor, seconds its grad took)] for n = 1..orders,
    each the gradient of the previous one's sum (tanh acts elementwise, so that is the derivative at each point)."""
    xt = tensor(x, requires_grad=True)
    d, out = xt.tanh(), []
    for _ in range(orders):
        start = time.perf_counter()
        (d,) = grad(d.sum(), xt, create_graph=True)
        out.append((d, time.perf_counter() - start))
    return out


def _plot_derivatives(x, values, polys, errors, path):
    from .plotting import figure, legend, save

    t = np.tanh(x)
    fig, axes = figure(2, 4, figsize=(15, 6.6), sharex=True)
    for n, ax in enumerate(axes.flat[:ORDERS + 1]):
        ax.plot(x, polys[n](t), color="0.6", lw=4, label="closed form Pₙ(tanh x)")
        ax.plot(x, values[n], color="C0", lw=1.3, label="autograd, n nested grads")
        power = "" if n == 1 else "⁰¹²³⁴⁵⁶"[n]
        ax.set_title("order 0: tanh x" if n == 0 else f"order {n}: d{power}/dx{power} tanh x", fontsize=10)
        ax.grid(alpha=0.3)
    legend(axes.flat[0], "lower right", fontsize=7)
    ax = axes.flat[-1]
    for n in range(1, ORDERS + 1):
        error = np.abs(values[n] - polys[n](t))
        if error.max() == 0:  # a line at the floor would only hide under the next exact order: say it instead
            ax.plot([], [], color=f"C{n - 1}", lw=1, label=f"order {n}: exactly 0\nat every x (not drawn)")
        else:
            ax.semilogy(x, np.maximum(error, 1e-18), color=f"C{n - 1}", lw=1, label=f"order {n}")
    ax.set_yscale("log")
    ax.set_title("|autograd − closed form| (a 0 drawn at 1e-18)", fontsize=10)
    ax.grid(alpha=0.3)
    legend(ax, "right", fontsize=7)
    for ax in axes[1]:
        ax.set_xlabel("x")
    axes.flat[0].set_xticks(np.arange(round(x[0]), round(x[-1]) + 1))  # shared by all: every whole x
    worst = max(errors)
    fig.suptitle(f"the derivatives of tanh on [−3, 3]: autograd vs the polynomials in tanh x (worst error {worst:.1e})",
                 fontsize=11)
    save(fig, path)


def _plot_graph(orders, nodes, seconds, path):
    from .plotting import figure, layer_ticks, log_ticks, save

    fig, axes = figure(1, 2, figsize=(11, 4.2))
    ax = axes[0]
    ax.semilogy(orders, nodes, "o-", color="C0")
    for n, k in zip(orders, nodes):
        ax.annotate(f"{k:,}", (n, k), textcoords="offset points", xytext=(0, 7), ha="center", fontsize=8)
    ax.set(xlabel="order n", ylabel="Function nodes in the graph")
    ax.set_title("size of the recorded graph of the n-th derivative", fontsize=10)
    ax.margins(y=0.25)
    ax = axes[1]
    ax.semilogy(orders, np.array(seconds) * 1e3, "s-", color="C3")
    ax.set(xlabel="order n", ylabel="milliseconds")
    ax.set_title("time of the n-th grad(create_graph=True)", fontsize=10)
    log_ticks(ax)
    for ax in axes:
        layer_ticks(ax)
        ax.grid(alpha=0.3, which="both")
    save(fig, path)


def run(quick=False, seed=0, out="."):
    x = np.linspace(-3, 3, 121 if quick else 601)
    polys = tanh_polynomials()
    found = derivatives(x)
    values = [np.tanh(x)] + [d.detach().numpy() for d, _ in found]
    t = np.tanh(x)
    errors = [float(np.abs(values[n] - polys[n](t)).max()) for n in range(1, ORDERS + 1)]
    nodes = [graph_nodes(d) for d, _ in found]
    seconds = [s for _, s in found]
    orders = list(range(1, ORDERS + 1))
    growth = [b / a for a, b in itertools.pairwise(nodes)]

    _plot_derivatives(x, values, polys, errors, os.path.join(out, "tanh_derivatives.png"))
    _plot_graph(orders, nodes, seconds, os.path.join(out, "graph_size.png"))

    match = all(e <= TOL for e in errors)
    grows = all(b > a for a, b in itertools.pairwise(nodes))
    held, in_part = match and grows, match != grows
    verdict = (f"The n-th derivative by n nested grad(create_graph=True) matched Pₙ(tanh x) on {len(x)} points of "
               f"[−3, 3] to {max(errors):.1e} at worst ("
               f"{'every order within' if match else 'NOT all within'} {TOL:g}). The graph of the n-th derivative "
               f"has {', '.join(f'{k:,}' for k in nodes)} Function nodes for n = 1..{ORDERS}"
               + (f", {min(growth):.1f}–{max(growth):.1f}× more per order" if grows else ", not growing at every order")
               + f"; the grad of order {ORDERS} took {seconds[-1] * 1e3:.1f} ms.")
    return Result(
        name=NAME, note=NOTE, claim=CLAIM,
        setup=(f"x: {len(x)} points evenly spaced on [−3, 3], float64; y = tanh x; the n-th derivative = "
               "chainrule.autograd.grad(previous.sum(), x, create_graph=True) (tanh acts elementwise, so the gradient "
               "of the sum is the derivative at each point); the closed forms Pₙ by numpy.polynomial from P₀(t) = t, "
               "Pₙ₊₁ = (1 − t²)Pₙ′; graph size: the distinct Function nodes reached from the n-th derivative's "
               "grad_fn through next_functions"),
        numbers={"points": len(x), "max_error": dict(zip(map(str, orders), errors)),
                 "graph_nodes": dict(zip(map(str, orders), nodes)), "growth_per_order": growth,
                 "grad_seconds": dict(zip(map(str, orders), seconds)),
                 "polynomials": {str(n): [float(c) for c in p.coef] for n, p in enumerate(polys)}},
        held=bool(held), in_part=bool(in_part), verdict=verdict,
        figures=["tanh_derivatives.png", "graph_size.png"],
        tables=[{"title": "the n-th derivative of tanh: autograd vs the closed form, and the graph it records",
                 "columns": ["n", "Pₙ(t)", "max |autograd − Pₙ(tanh x)|", "max |Pₙ(tanh x)|", "graph nodes",
                             "grad (ms)"],
                 "rows": [[n, _poly_text(polys[n]), errors[n - 1], float(np.abs(polys[n](t)).max()), nodes[n - 1],
                           seconds[n - 1] * 1e3] for n in orders]}],
    )


def _poly_text(p):
    """P as text in t, highest power first: −2t + 2t³ → "2t³ − 2t"."""
    sup = str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹")
    terms = []
    for k in range(len(p.coef) - 1, -1, -1):
        c = p.coef[k]
        if abs(c) < 1e-12:
            continue
        mag = f"{abs(c):g}" if (abs(c) != 1 or k == 0) else ""
        power = "" if k == 0 else "t" if k == 1 else "t" + str(k).translate(sup)
        terms.append(("−" if c < 0 else "+", mag + power))
    text = " ".join(f"{s} {m}" for s, m in terms)
    return text[2:] if text.startswith("+ ") else "−" + text[2:]
