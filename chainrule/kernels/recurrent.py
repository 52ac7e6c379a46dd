"""Fast kernels of the recurrent sequences in ``chainrule/ops/recurrent.py``: each must equal its reference
op up to float rounding (same equations, same outputs and gradients), and is faster in four ways.

Forward: the input projection of every step is ONE matmul, (T·N, I) @ (I, G·H); then each step adds
one (N, H) @ (H, G·H) matmul and the gate math, writing activations into preallocated buffers.
Backward: a reverse loop over t that carries dh (and dc), one (N, G·H) @ (G·H, H) matmul per step and
the closed-form cell derivative on that step's (N, G, H) slices (which stay in cache; the same factors
computed for all t at once stream (T, N, G, H) arrays through memory: one LSTM(128) layer's backward
at T = 28, N = 128, 1 thread took 36 ms that way, 30 ms this way); dW_ih, dx, dW_hh and the biases
come after the loop from single big matmuls and sums over all steps.

Activations cost more than the matmuls here (a float32 exp or tanh is ~20× a multiply in NumPy,
a float64 tanh ~3× an exp), so every σ and tanh is ONE exp: σ(x) = 1/(1 + e^(−x)),
tanh(x) = 2σ(2x) − 1. The −1 and −2 are folded into the weight rows of each gate beforehand (exact:
powers of two), so the projections already give −x or −2x and a single exp activates all the gates of
a step at once. Large pre-activations overflow e^(−x) to inf, which gives exactly 0 (or −1): correct.

Each sample's recurrence is independent of the others', so the time loops run on near-equal slices of
the batch, one per thread (``_over_batch``): one hand-off per layer instead of one per step, and the
gate math, which a threaded BLAS leaves on one thread, is shared out too.

The LSTM and GRU backward overwrite the saved gate activations step by step with the pre-activation
gradients (no second (T, N, G, H) buffer).
"""
import math

import numpy as np

from ..ops import recurrent as reference
from .parallel import map_rows


def _sigmoid_of_negated_(a):
    """a ← σ(x) in place, for a = −x: 1/(1 + e^a)."""
    np.exp(a, out=a)
    a += 1
    return np.reciprocal(a, out=a)


def _tanh_of_scaled_(a):
    """a ← tanh(x) in place, for a = −2x: 2/(1 + e^a) − 1."""
    np.exp(a, out=a)
    a += 1
    np.divide(2, a, out=a)
    a -= 1
    return a


def _gate_scale(factors, H, dtype):
    """Per-row factors (G·H,) for the weights of gates with these per-gate ``factors``."""
    return np.repeat(np.asarray(factors, dtype=dtype), H)


def _scaled(w, scale):
    """w with row k multiplied by scale[k] (a bias: element k); w itself when either is None."""
    if w is None or scale is None:
        return w
    return w * (scale[:, None] if w.ndim == 2 else scale)


def _project(x, w_ih, bias):
    """The input projection of all steps at once: (T, N, I) → (T, N, G·H) = x W_ihᵀ + bias."""
    T, N, I = x.shape
    a = x.reshape(T * N, I) @ w_ih.T
    if bias is not None:
        a += bias
    return a.reshape(T, N, w_ih.shape[0])


def _last(T, reverse):
    """The index of the final step: T − 1, or 0 with ``reverse``."""
    return 0 if reverse else T - 1


def _over_batch(loop, N):
    """``loop(rows)`` for near-equal slices ``rows`` of the N samples, one per thread, overflow in exp
    ignored (see the module docstring; NumPy's error state is per thread)."""
    def work(rows):
        with np.errstate(over="ignore"):
            loop(rows)

    map_rows(work, N)


def _rows(a, rows):
    """a[rows], or None for None (an absent initial state)."""
    return None if a is None else a[rows]


def _recurrent_weight_grad(dpre, y, h0, reverse):
    """dW_hh = Σ_t dpreₜᵀ hₜ₋₁ for dpre (T, N, G·H) (or (T, N, G, H)) and outputs y (T, N, H): one matmul
    over the steps whose previous state is an output (no shifted copy of y), plus the first step's
    term when h0 is given."""
    T, N, H = y.shape
    d = dpre.reshape(T, N, math.prod(dpre.shape[2:]))  # not -1, which is ambiguous for an empty batch
    inner, outer, first = (d[:-1], y[1:], d[-1]) if reverse else (d[1:], y[:-1], d[0])
    dw = inner.reshape(-1, d.shape[-1]).T @ outer.reshape(-1, H)
    if h0 is not None:
        dw += first.T @ h0
    return dw


def _input_grads(dpre, x, w_ih, need_x, need_w, need_b):
    """The input-side gradients from the per-step pre-activation gradients, all steps at once:
    dx = dA W_ih, dW_ih = dAᵀ x, db_ih = Σ dA."""
    T, N, I = x.shape
    d2 = dpre.reshape(T * N, w_ih.shape[0])
    dx = (d2 @ w_ih).reshape(T, N, I) if need_x else None
    dw = d2.T @ x.reshape(T * N, I) if need_w else None
    db = d2.sum(axis=0) if need_b else None
    return dx, dw, db


def _take_gates(fn):
    """The saved gate activations of ``fn``, handed over to be overwritten. A second backward through a
    retained graph finds them gone and recomputes them from the saved inputs (which the engine's
    version check guarantees unchanged)."""
    if fn.gates is None:
        fn.forward(*fn.forward_args, **fn.forward_kwargs)
    gates, fn.gates = fn.gates, None
    return gates


class RNNSequence(reference.RNNSequence):
    """Must equal ``ops.recurrent.RNNSequence``. Faster: one input projection for all steps, tanh as
    one exp on rows prescaled by −2, the time loop split over the batch between threads, dW_hh and the
    input-side gradients as single matmuls after the loop."""

    def forward(self, x, h0, w_ih, w_hh, b_ih, b_hh, *, reverse, nonlinearity):
        bias = b_ih if b_hh is None else b_hh if b_ih is None else b_ih + b_hh
        relu = nonlinearity == "relu"
        # for tanh the rows are scaled by −2, so the projections give −2x and tanh is one exp
        scale = None if relu else _gate_scale([-2], w_hh.shape[1], x.dtype)
        out = _project(x, _scaled(w_ih, scale), _scaled(bias, scale))  # becomes the output, in place
        whT = _scaled(w_hh, scale).T

        def loop(rows):
            h = _rows(h0, rows)
            for t in reference._steps(x.shape[0], reverse):
                a = out[t, rows]
                if h is not None:
                    a += h @ whT
                if relu:
                    np.maximum(a, 0, out=a)
                else:
                    _tanh_of_scaled_(a)
                h = a

        _over_batch(loop, x.shape[1])
        self.x, self.h0, self.w_ih, self.w_hh, self.out = x, h0, w_ih, w_hh, out
        self.reverse, self.relu = reverse, relu
        return out, out[_last(x.shape[0], reverse)].copy()

    def backward(self, g, g_h):
        x, y, w_hh, reverse = self.x, self.out, self.w_hh, self.reverse
        dpre = np.empty_like(y)
        dh0 = np.empty_like(y[0])

        def loop(rows):
            dh = g_h[rows].copy()
            for t in reference._steps(x.shape[0], not reverse):
                d, yt = dpre[t, rows], y[t, rows]
                dh += g[t, rows]
                if self.relu:
                    np.multiply(dh, yt > 0, out=d)
                else:  # tanh' = 1 − y²
                    np.multiply(yt, yt, out=d)
                    np.subtract(1, d, out=d)
                    d *= dh
                dh = d @ w_hh
            dh0[rows] = dh

        _over_batch(loop, x.shape[1])
        needs = self.needs
        dx, dw_ih, db = _input_grads(dpre, x, self.w_ih, needs[0], needs[2], needs[4] or needs[5])
        dw_hh = _recurrent_weight_grad(dpre, y, self.h0, reverse) if needs[3] else None
        return (dx, dh0 if needs[1] else None, dw_ih, dw_hh,
                db if needs[4] else None, db if needs[5] else None)


class LSTMSequence(reference.LSTMSequence):
    """Must equal ``ops.recurrent.LSTMSequence``. Faster: one input projection for all steps, the rows
    prescaled by −1 (i, f, o) and −2 (g) so one exp activates all four gates, the time loops split over
    the batch between threads, the backward overwriting the saved gates with their gradients."""

    def forward(self, x, h0, c0, w_ih, w_hh, b_ih, b_hh, *, reverse):
        T, N, _ = x.shape
        H = w_hh.shape[1]
        # rows scaled so the projections give −x for the σ gates and −2x for g: one exp activates all
        scale = _gate_scale([-1, -1, -2, -1], H, x.dtype)
        bias = b_ih if b_hh is None else b_hh if b_ih is None else b_ih + b_hh
        gates = _project(x, _scaled(w_ih, scale), _scaled(bias, scale)).reshape(T, N, 4, H)
        whT = _scaled(w_hh, scale).T
        out = np.empty((T, N, H), dtype=gates.dtype)
        c_last = np.empty((N, H), dtype=gates.dtype)
        cell = np.empty((T, N, H), dtype=gates.dtype)
        tanh_cell = np.empty((T, N, H), dtype=gates.dtype)

        def loop(rows):
            h, c = _rows(h0, rows), _rows(c0, rows)
            for t in reference._steps(T, reverse):
                a = gates[t, rows]  # (m, 4, H): i, f, g, o
                if h is not None:
                    a += (h @ whT).reshape(a.shape)
                _sigmoid_of_negated_(a)
                g = a[:, 2]  # σ(2x) → tanh(x) = 2σ(2x) − 1
                g *= 2
                g -= 1
                c_new = cell[t, rows]
                np.multiply(a[:, 0], g, out=c_new)
                if c is not None:
                    c_new += a[:, 1] * c
                tc = tanh_cell[t, rows]
                np.multiply(c_new, -2, out=tc)
                _tanh_of_scaled_(tc)
                h = np.multiply(a[:, 3], tc, out=out[t, rows])
                c = c_new
            c_last[rows] = c

        _over_batch(loop, N)
        self.forward_args, self.forward_kwargs = (x, h0, c0, w_ih, w_hh, b_ih, b_hh), {"reverse": reverse}
        self.x, self.h0, self.c0, self.w_ih, self.w_hh = x, h0, c0, w_ih, w_hh
        self.gates, self.cell, self.tanh_cell, self.out, self.reverse = gates, cell, tanh_cell, out, reverse
        return out, out[_last(T, reverse)].copy(), c_last

    def backward(self, g, g_h, g_c):
        dpre = _take_gates(self)  # (T, N, 4, H): step t's activations become its gradients (i, f, g, o)
        x, cell, tanh_cell, reverse = self.x, self.cell, self.tanh_cell, self.reverse
        T, N, _, H = dpre.shape
        w_hh = self.w_hh
        dh0, dc0 = np.empty((N, H), dtype=dpre.dtype), np.empty((N, H), dtype=dpre.dtype)

        def loop(rows):
            m = len(dh0[rows])
            deriv = np.empty((m, 4, H), dtype=dpre.dtype)
            partial = np.empty((m, 4, H), dtype=dpre.dtype)
            tmp = np.empty((m, H), dtype=dpre.dtype)
            dh, dc = g_h[rows].copy(), g_c[rows].copy()
            for t in reference._steps(T, not reverse):
                a, tc = dpre[t, rows], tanh_cell[t, rows]
                i, f, gg, o = a[:, 0], a[:, 1], a[:, 2], a[:, 3]
                dh += g[t, rows]
                np.multiply(tc, tc, out=tmp)  # dc += dh ⊙ o ⊙ (1 − tanh²c)
                np.subtract(1, tmp, out=tmp)
                tmp *= o
                tmp *= dh
                dc += tmp
                np.subtract(1, a, out=deriv)  # σ' = s(1 − s); for g, tanh' = 1 − g²
                deriv *= a
                np.multiply(gg, gg, out=deriv[:, 2])
                np.subtract(1, deriv[:, 2], out=deriv[:, 2])
                np.multiply(dc, gg, out=partial[:, 0])  # ∂c/∂i = g
                c_prev = _rows(reference._previous(cell, t, self.c0, reverse), rows)
                if c_prev is None:
                    partial[:, 1] = 0
                else:
                    np.multiply(dc, c_prev, out=partial[:, 1])  # ∂c/∂f = c_{t−1}
                np.multiply(dc, i, out=partial[:, 2])  # ∂c/∂g = i
                np.multiply(dh, tc, out=partial[:, 3])  # ∂h/∂o = tanh c
                dc *= f
                np.multiply(partial, deriv, out=a)  # the activations of step t are no longer needed
                dh = a.reshape(m, 4 * H) @ w_hh
            dh0[rows], dc0[rows] = dh, dc

        _over_batch(loop, N)
        needs = self.needs
        dx, dw_ih, db = _input_grads(dpre, x, self.w_ih, needs[0], needs[3], needs[5] or needs[6])
        dw_hh = _recurrent_weight_grad(dpre, self.out, self.h0, reverse) if needs[4] else None
        return (dx, dh0 if needs[1] else None, dc0 if needs[2] else None, dw_ih, dw_hh,
                db if needs[5] else None, db if needs[6] else None)


class GRUSequence(reference.GRUSequence):
    """Must equal ``ops.recurrent.GRUSequence``. Faster: one input projection for all steps (b_hr and b_hz
    folded into it), the rows prescaled by −1 (r, z) and −2 (n) so each σ and tanh is one exp, the time
    loops split over the batch between threads, the backward overwriting the saved gates with their
    gradients."""

    def forward(self, x, h0, w_ih, w_hh, b_ih, b_hh, *, reverse):
        T, N, _ = x.shape
        H = w_hh.shape[1]
        # rows scaled by −1 (r, z) and −2 (n): the pre-activations come out as −x for σ and −2x for tanh
        scale = _gate_scale([-1, -1, -2], H, x.dtype)
        # b_hr and b_hz add to the input projection; b_hn stays inside r ⊙ (W_hn h + b_hn)
        bias = None if b_ih is None else b_ih * scale
        if b_hh is not None:
            bias = np.zeros(3 * H, dtype=x.dtype) if bias is None else bias
            bias[:2 * H] -= b_hh[:2 * H]
        b_hn = None if b_hh is None else b_hh[2 * H:] * -2
        gates = _project(x, _scaled(w_ih, scale), bias).reshape(T, N, 3, H)
        hidden_n = np.empty((T, N, H), dtype=gates.dtype)  # −2·(W_hn h_{t−1} + b_hn)
        out = np.empty((T, N, H), dtype=gates.dtype)
        whT = _scaled(w_hh, scale).T

        def loop(rows):
            h = _rows(h0, rows)
            for t in reference._steps(T, reverse):
                a = gates[t, rows]  # (m, 3, H): r, z, n
                hn = hidden_n[t, rows]
                if h is not None:
                    hw = (h @ whT).reshape(a.shape)
                    a[:, :2] += hw[:, :2]
                    if b_hn is None:
                        hn[...] = hw[:, 2]
                    else:
                        np.add(hw[:, 2], b_hn, out=hn)
                else:
                    hn[...] = 0 if b_hn is None else b_hn
                _sigmoid_of_negated_(a[:, :2])
                n = a[:, 2]
                n += a[:, 0] * hn
                _tanh_of_scaled_(n)
                h_new = out[t, rows]
                if h is None:
                    np.multiply(a[:, 1], n, out=h_new)
                    np.subtract(n, h_new, out=h_new)
                else:
                    np.subtract(h, n, out=h_new)
                    h_new *= a[:, 1]
                    h_new += n
                h = h_new

        _over_batch(loop, N)
        self.forward_args, self.forward_kwargs = (x, h0, w_ih, w_hh, b_ih, b_hh), {"reverse": reverse}
        self.x, self.h0, self.w_ih, self.w_hh = x, h0, w_ih, w_hh
        self.gates, self.hidden_n, self.out, self.reverse = gates, hidden_n, out, reverse
        return out, out[_last(T, reverse)].copy()

    def backward(self, g, g_h):
        # (T, N, 3, H): step t's activations become the gradients of the hidden-side pre-activations
        # (r, z, W_hn h + b_hn); the input side differs only in n, kept in dpre_in
        dpre = _take_gates(self)
        x, out, hidden_n, reverse = self.x, self.out, self.hidden_n, self.reverse
        T, N, _, H = dpre.shape
        dpre_in = np.empty((T, N, H), dtype=dpre.dtype)  # gradient of W_in x + b_in
        w_hh = self.w_hh
        dh0 = np.empty((N, H), dtype=dpre.dtype)

        def loop(rows):
            m = len(dh0[rows])
            deriv = np.empty((m, 2, H), dtype=dpre.dtype)
            tmp = np.empty((m, H), dtype=dpre.dtype)
            dh = g_h[rows].copy()
            for t in reference._steps(T, not reverse):
                a, dn = dpre[t, rows], dpre_in[t, rows]
                r, z, n = a[:, 0], a[:, 1], a[:, 2]
                dh += g[t, rows]
                np.multiply(n, n, out=dn)  # dn_pre = dh ⊙ (1 − z) ⊙ (1 − n²)
                np.subtract(1, dn, out=dn)
                np.subtract(1, z, out=tmp)
                dn *= tmp
                dn *= dh
                h_prev = _rows(reference._previous(out, t, self.h0, reverse), rows)  # ∂h/∂z = h_{t−1} − n
                if h_prev is None:
                    np.negative(n, out=tmp)
                else:
                    np.subtract(h_prev, n, out=tmp)
                tmp *= dh
                np.subtract(1, a[:, :2], out=deriv)  # σ' = s(1 − s) for r and z
                deriv *= a[:, :2]
                dh *= z
                # overwrite step t's activations, each after its last use
                np.multiply(dn, r, out=a[:, 2])  # ∂/∂(W_hn h + b_hn) = r
                np.multiply(tmp, deriv[:, 1], out=a[:, 1])
                np.multiply(dn, hidden_n[t, rows], out=a[:, 0])  # ∂/∂r = W_hn h + b_hn (stored × −2)
                a[:, 0] *= deriv[:, 0]
                a[:, 0] *= -0.5
                dh += a.reshape(m, 3 * H) @ w_hh
            dh0[rows] = dh

        _over_batch(loop, N)
        needs = self.needs
        dw_hh = _recurrent_weight_grad(dpre, out, self.h0, reverse) if needs[3] else None
        db_hh = dpre.reshape(T * N, 3 * H).sum(axis=0) if needs[5] else None
        dpre[:, :, 2] = dpre_in  # now the input-side gradients
        dx, dw_ih, db_ih = _input_grads(dpre, x, self.w_ih, needs[0], needs[2], needs[4])
        return dx, dh0 if needs[1] else None, dw_ih, dw_hh, db_ih, db_hh
