"""Graphs worth stepping through, ready to save.

``note004()`` is the notes' worked example [note 004]: three single neurons in a chain,
a⁽ˡ⁾ = σ(z⁽ˡ⁾), z⁽ˡ⁾ = w⁽ˡ⁾a⁽ˡ⁻¹⁾ + b⁽ˡ⁾, and the cost C₀ = (a⁽ᴸ⁾ − y)². Its page shows the hand
formula ∂C₀/∂w⁽ᴸ⁾ = 2(a⁽ᴸ⁾ − y) · σ'(z⁽ᴸ⁾) · a⁽ᴸ⁻¹⁾ term by term beside autograd's number, and one
neuron further back, where the factor after σ'(z⁽ᴸ⁾) is the weight w⁽ᴸ⁾ (∂z⁽ᴸ⁾/∂a⁽ᴸ⁻¹⁾ = w⁽ᴸ⁾; the
note's own line writes a⁽ᴸ⁻¹⁾ there).
"""
import math

from .. import tensor
from .graph import graph

WEIGHTS, BIASES, A0, Y = (0.8, -1.2, 1.5), (0.1, 0.3, -0.4), 0.9, 1.0


def _sigma(z):
    return 1 / (1 + math.exp(-z))


def note004(weights=WEIGHTS, biases=BIASES, a0=A0, y=Y):
    """Note 004's chain of three sigmoid neurons and its squared-error cost, after backward, with the
    hand derivation as a notes panel. Returns the ``GraphView``."""
    a = tensor(a0, dtype="float64")
    params = {"a0": a}
    for layer, (w_value, b_value) in enumerate(zip(weights, biases), start=1):
        w = params[f"w{layer}"] = tensor(w_value, dtype="float64", requires_grad=True)
        b = params[f"b{layer}"] = tensor(b_value, dtype="float64", requires_grad=True)
        a = (w * a + b).sigmoid()
    cost = (a - y) ** 2
    view = graph(cost, params, title="note 004: three neurons in a chain, C₀ = (a_L − y)²")
    cost.backward()

    acts, zs = [a0], []
    for w_value, b_value in zip(weights, biases):
        zs.append(w_value * acts[-1] + b_value)
        acts.append(_sigma(zs[-1]))
    a_l, a_prev, a_prev2 = acts[3], acts[2], acts[1]
    dc_da = 2 * (a_l - y)
    ds_l = _sigma(zs[2]) * (1 - _sigma(zs[2]))
    ds_prev = _sigma(zs[1]) * (1 - _sigma(zs[1]))
    by_hand = dc_da * ds_l * a_prev
    by_hand_prev = dc_da * ds_l * weights[2] * ds_prev * a_prev2
    as_written = dc_da * ds_l * a_prev * ds_prev * a_prev2  # note 004's line, a_(L−1) in w_L's place
    return view.add_note("∂C₀/∂w_L by hand (note 004) and by autograd", [
        ("∂C₀/∂a_L = 2(a_L − y)", f"{dc_da:.6g}"),
        ("∂a_L/∂z_L = σ'(z_L) = σ(z_L)(1 − σ(z_L))", f"{ds_l:.6g}"),
        ("∂z_L/∂w_L = a_(L−1)", f"{a_prev:.6g}"),
        ("∂C₀/∂w_L = 2(a_L − y)·σ'(z_L)·a_(L−1), by hand", f"{by_hand:.6g}"),
        ("∂C₀/∂w_L, autograd (w3.grad)", f"{float(params['w3'].grad.data):.6g}"),
        ("∂C₀/∂w_(L−1) = 2(a_L − y)·σ'(z_L)·w_L·σ'(z_(L−1))·a_(L−2), by hand", f"{by_hand_prev:.6g}"),
        ("∂C₀/∂w_(L−1), autograd (w2.grad)", f"{float(params['w2'].grad.data):.6g}"),
        ("as note 004 writes it, with a_(L−1) in place of w_L (not the gradient)", f"{as_written:.6g}"),
    ])
