"""Recurrent sequences: one Function runs one layer in one direction over the whole sequence, with
backpropagation through time written by hand — one graph node per layer and direction, not dozens of
small nodes per time step [note 004: LSTM, backprop through time].

Shapes (time-major): x (T, N, I), h0 and c0 (N, H) or None (zeros), W_ih (G·H, I), W_hh (G·H, H),
b_ih and b_hh (G·H,) or None, G the number of gates (RNN 1, GRU 3, LSTM 4), their row blocks in
PyTorch's order. σ is the logistic sigmoid, ⊙ the elementwise product [note 002]:

    RNN   h_t = tanh(W_ih x_t + b_ih + W_hh h_{t−1} + b_hh)        (or relu)
    LSTM  i, f, g, o = σ, σ, tanh, σ of the four row blocks of (W_ih x_t + b_ih + W_hh h_{t−1} + b_hh)
          c_t = f ⊙ c_{t−1} + i ⊙ g,   h_t = o ⊙ tanh(c_t)
    GRU   r = σ(W_ir x_t + b_ir + W_hr h_{t−1} + b_hr),   z = σ(W_iz x_t + b_iz + W_hz h_{t−1} + b_hz)
          n = tanh(W_in x_t + b_in + r ⊙ (W_hn h_{t−1} + b_hn)),   h_t = (1 − z) ⊙ n + z ⊙ h_{t−1}

Each Function returns the output sequence (h_1 … h_T) (T, N, H) and the final state h_T (N, H) (the
LSTM also c_T), as separate outputs; with ``reverse`` the steps run from t = T down to 1, so the
final state is the one at the first position. The forward is a loop over the steps, the recurrence
itself. The backward is the chain rule of the same equations, step by step in reverse: the gradient
reaching h_t is its output's gradient plus what step t + 1 sends back through W_hh; each step's
pre-activation gradient da_t (note 004's δ_t) gives that step's dx_t and adds its share to dW_ih, dW_hh
and the biases, which every step uses: dW_hh = Σ_t da_tᵀ h_{t−1}, dW_ih = Σ_t da_tᵀ x_t
[note 004: per-step contributions to each shared weight summed].

For gradients that are differentiated again (``create_graph``), each op's ``decomposition`` runs the same
equations step by step with recorded Tensor ops, so backpropagation through time is itself recorded.

These are the reference ops (``chainrule.use_reference()``); the fast kernels, which compute the
same, are in ``chainrule/kernels/recurrent.py``.
"""
import numpy as np

from .. import runtime
from ..autograd import Function
from ..tensor import Tensor
from .shape import stack


def _sigmoid(a):
    """σ(a) = 1/(1 + e^(−a)), computed as e^(−|a|)-based fractions so that no exp overflows."""
    e = np.exp(-np.abs(a))
    return np.where(a >= 0, 1 / (1 + e), e / (1 + e))


def _affine(v, w, b):
    """W v + b for every row v of ``v`` (N, K): v Wᵀ + b; b may be None. Arrays, or Tensors (the decompositions)."""
    return v @ w.T if b is None else v @ w.T + b


def _steps(T, reverse):
    """The order the recurrence visits the steps: 0 … T−1, or T−1 … 0 with ``reverse``."""
    return range(T - 1, -1, -1) if reverse else range(T)


def _previous(states, t, initial, reverse):
    """The state step t started from: states[t − 1] (states[t + 1] with ``reverse``), ``initial`` at the
    first step."""
    first = t == len(states) - 1 if reverse else t == 0
    return initial if first else states[t + 1 if reverse else t - 1]


def _initial(state, x, H):
    """The initial state: the given (N, H) array, or zeros."""
    return np.zeros((x.shape[1], H), dtype=x.dtype) if state is None else state


def _initial_tensor(state, x, H):
    """The initial state of a decomposition: the given (N, H) Tensor, or zeros."""
    return Tensor(np.zeros((x.shape[1], H), dtype=x.data.dtype)) if state is None else state


class _Recurrence(Function):
    """What the three reference ops share in the backward."""

    def _weight_grads(self, G, H, I):
        """Zeroed accumulators for dW_ih, dW_hh, db_ih, db_hh (each step adds its share)."""
        dtype = self.x.dtype
        return (np.zeros((G * H, I), dtype), np.zeros((G * H, H), dtype),
                np.zeros(G * H, dtype), np.zeros(G * H, dtype))

    def _needed(self, *grads):
        """One gradient per input, None for an input that needs none (or is None)."""
        return tuple(g if need else None for g, need in zip(grads, self.needs))


class RNNSequence(_Recurrence):
    """h_t = act(a_t), a_t = W_ih x_t + b_ih + W_hh h_{t−1} + b_hh, act tanh or relu, over all t;
    x (T, N, I), h0 (N, H) or None → (output (T, N, H), h_T (N, H)).
    Backward: da_t = dh_t ⊙ act'(a_t) with tanh' = 1 − h_t², relu' = [h_t > 0];
    dx_t = da_t W_ih, dh_{t−1} = da_t W_hh (+ the output's gradient at t − 1),
    dW_ih += da_tᵀ x_t, dW_hh += da_tᵀ h_{t−1}, db_ih = db_hh += Σ_n da_t."""

    def forward(self, x, h0, w_ih, w_hh, b_ih, b_hh, *, reverse, nonlinearity):
        T, H = x.shape[0], w_hh.shape[1]
        h = _initial(h0, x, H)
        hs = [None] * T  # hs[t] = h_t
        for t in _steps(T, reverse):
            a = _affine(x[t], w_ih, b_ih) + _affine(h, w_hh, b_hh)
            h = np.tanh(a) if nonlinearity == "tanh" else np.maximum(a, 0)
            hs[t] = h
        self.x, self.h0, self.w_ih, self.w_hh = x, _initial(h0, x, H), w_ih, w_hh
        self.y, self.reverse, self.nonlinearity = np.stack(hs), reverse, nonlinearity
        return self.y, h

    def backward(self, g_y, g_h):
        x, y, w_ih, w_hh, reverse = self.x, self.y, self.w_ih, self.w_hh, self.reverse
        T, _, I = x.shape
        H = w_hh.shape[1]
        dx = np.zeros_like(x)
        dw_ih, dw_hh, db_ih, db_hh = self._weight_grads(1, H, I)
        dh = g_h  # the final state's own gradient; each step adds its output's
        for t in _steps(T, not reverse):
            h, h_prev = y[t], _previous(y, t, self.h0, reverse)
            dh = dh + g_y[t]
            da = dh * (1 - h * h) if self.nonlinearity == "tanh" else dh * (h > 0)
            dx[t] = da @ w_ih
            dw_ih += da.T @ x[t]
            dw_hh += da.T @ h_prev
            db_ih += da.sum(axis=0)
            db_hh += da.sum(axis=0)
            dh = da @ w_hh  # to h_{t−1}
        return self._needed(dx, dh, dw_ih, dw_hh, db_ih, db_hh)

    def decomposition(self, x, h0, w_ih, w_hh, b_ih, b_hh, *, reverse, nonlinearity):
        h, xs = _initial_tensor(h0, x, w_hh.shape[1]), x.unbind(0)
        hs = [None] * len(xs)
        for t in _steps(len(xs), reverse):
            a = _affine(xs[t], w_ih, b_ih) + _affine(h, w_hh, b_hh)
            h = hs[t] = a.tanh() if nonlinearity == "tanh" else a.relu()
        return stack(hs), h


class LSTMSequence(_Recurrence):
    """i, f, g, o = σ, σ, tanh, σ of the row blocks of a_t = W_ih x_t + b_ih + W_hh h_{t−1} + b_hh;
    c_t = f ⊙ c_{t−1} + i ⊙ g, h_t = o ⊙ tanh(c_t), over all t;
    x (T, N, I), h0 and c0 (N, H) or None → (output (T, N, H), h_T (N, H), c_T (N, H)).
    Backward, from dh_t and dc_t (what step t + 1 sent back plus the outputs' gradients):
    do = dh_t ⊙ tanh(c_t), dc_t += dh_t ⊙ o ⊙ (1 − tanh²(c_t)), di = dc_t ⊙ g, df = dc_t ⊙ c_{t−1},
    dg = dc_t ⊙ i, dc_{t−1} = dc_t ⊙ f; da_t = (di ⊙ i(1 − i), df ⊙ f(1 − f), dg ⊙ (1 − g²),
    do ⊙ o(1 − o)); then dx_t, dh_{t−1} and the weights' shares from da_t as in the RNN."""

    def forward(self, x, h0, c0, w_ih, w_hh, b_ih, b_hh, *, reverse):
        T, H = x.shape[0], w_hh.shape[1]
        h, c = _initial(h0, x, H), _initial(c0, x, H)
        hs, cs, gates = [None] * T, [None] * T, [None] * T
        for t in _steps(T, reverse):
            a = _affine(x[t], w_ih, b_ih) + _affine(h, w_hh, b_hh)
            a_i, a_f, a_g, a_o = np.split(a, 4, axis=1)
            i, f, g, o = _sigmoid(a_i), _sigmoid(a_f), np.tanh(a_g), _sigmoid(a_o)
            c = f * c + i * g
            h = o * np.tanh(c)
            hs[t], cs[t], gates[t] = h, c, (i, f, g, o)
        self.x, self.h0, self.c0, self.w_ih, self.w_hh = x, _initial(h0, x, H), _initial(c0, x, H), w_ih, w_hh
        self.y, self.cells, self.gates, self.reverse = np.stack(hs), cs, gates, reverse
        return self.y, h, c

    def backward(self, g_y, g_h, g_c):
        x, y, w_ih, w_hh, reverse = self.x, self.y, self.w_ih, self.w_hh, self.reverse
        T, _, I = x.shape
        H = w_hh.shape[1]
        dx = np.zeros_like(x)
        dw_ih, dw_hh, db_ih, db_hh = self._weight_grads(4, H, I)
        dh, dc = g_h, g_c
        for t in _steps(T, not reverse):
            i, f, g, o = self.gates[t]
            h_prev, c_prev = _previous(y, t, self.h0, reverse), _previous(self.cells, t, self.c0, reverse)
            tanh_c = np.tanh(self.cells[t])
            dh = dh + g_y[t]
            do = dh * tanh_c
            dc = dc + dh * o * (1 - tanh_c * tanh_c)
            di, df, dg = dc * g, dc * c_prev, dc * i
            dc = dc * f  # to c_{t−1}
            da = np.concatenate([di * i * (1 - i), df * f * (1 - f), dg * (1 - g * g), do * o * (1 - o)], axis=1)
            dx[t] = da @ w_ih
            dw_ih += da.T @ x[t]
            dw_hh += da.T @ h_prev
            db_ih += da.sum(axis=0)
            db_hh += da.sum(axis=0)
            dh = da @ w_hh  # to h_{t−1}
        return self._needed(dx, dh, dc, dw_ih, dw_hh, db_ih, db_hh)

    def decomposition(self, x, h0, c0, w_ih, w_hh, b_ih, b_hh, *, reverse):
        H, xs = w_hh.shape[1], x.unbind(0)
        h, c, hs = _initial_tensor(h0, x, H), _initial_tensor(c0, x, H), [None] * len(xs)
        for t in _steps(len(xs), reverse):
            a_i, a_f, a_g, a_o = (_affine(xs[t], w_ih, b_ih) + _affine(h, w_hh, b_hh)).chunk(4, 1)
            c = a_f.sigmoid() * c + a_i.sigmoid() * a_g.tanh()
            h = hs[t] = a_o.sigmoid() * c.tanh()
        return stack(hs), h, c


class GRUSequence(_Recurrence):
    """r, z = σ(·), n = tanh(W_in x_t + b_in + r ⊙ (W_hn h_{t−1} + b_hn)), h_t = (1 − z) ⊙ n + z ⊙ h_{t−1},
    gates (r, z, n), over all t; x (T, N, I), h0 (N, H) or None → (output (T, N, H), h_T (N, H)).
    Backward, from dh_t: dn = dh_t ⊙ (1 − z), dz = dh_t ⊙ (h_{t−1} − n), and h_{t−1} directly gets
    dh_t ⊙ z; da_n = dn ⊙ (1 − n²) (the gradient of W_in x + b_in + r ⊙ (W_hn h + b_hn)),
    dr = da_n ⊙ (W_hn h_{t−1} + b_hn); the input side's pre-activation gradient is
    (dr ⊙ r(1 − r), dz ⊙ z(1 − z), da_n), the hidden side's the same with r ⊙ da_n in the n block."""

    def forward(self, x, h0, w_ih, w_hh, b_ih, b_hh, *, reverse):
        T, H = x.shape[0], w_hh.shape[1]
        h = _initial(h0, x, H)
        hs, gates, hidden_n = [None] * T, [None] * T, [None] * T
        for t in _steps(T, reverse):
            x_r, x_z, x_n = np.split(_affine(x[t], w_ih, b_ih), 3, axis=1)
            h_r, h_z, h_n = np.split(_affine(h, w_hh, b_hh), 3, axis=1)
            r, z = _sigmoid(x_r + h_r), _sigmoid(x_z + h_z)
            n = np.tanh(x_n + r * h_n)
            h = (1 - z) * n + z * h
            hs[t], gates[t], hidden_n[t] = h, (r, z, n), h_n
        self.x, self.h0, self.w_ih, self.w_hh = x, _initial(h0, x, H), w_ih, w_hh
        self.y, self.gates, self.hidden_n, self.reverse = np.stack(hs), gates, hidden_n, reverse
        return self.y, h

    def backward(self, g_y, g_h):
        x, y, w_ih, w_hh, reverse = self.x, self.y, self.w_ih, self.w_hh, self.reverse
        T, _, I = x.shape
        H = w_hh.shape[1]
        dx = np.zeros_like(x)
        dw_ih, dw_hh, db_ih, db_hh = self._weight_grads(3, H, I)
        dh = g_h
        for t in _steps(T, not reverse):
            r, z, n = self.gates[t]
            h_prev = _previous(y, t, self.h0, reverse)
            dh = dh + g_y[t]
            dn, dz = dh * (1 - z), dh * (h_prev - n)
            da_n = dn * (1 - n * n)
            dr = da_n * self.hidden_n[t]
            da_r, da_z = dr * r * (1 - r), dz * z * (1 - z)
            da_in = np.concatenate([da_r, da_z, da_n], axis=1)  # of W_ih x_t + b_ih
            da_hid = np.concatenate([da_r, da_z, r * da_n], axis=1)  # of W_hh h_{t−1} + b_hh
            dx[t] = da_in @ w_ih
            dw_ih += da_in.T @ x[t]
            dw_hh += da_hid.T @ h_prev
            db_ih += da_in.sum(axis=0)
            db_hh += da_hid.sum(axis=0)
            dh = dh * z + da_hid @ w_hh  # to h_{t−1}
        return self._needed(dx, dh, dw_ih, dw_hh, db_ih, db_hh)

    def decomposition(self, x, h0, w_ih, w_hh, b_ih, b_hh, *, reverse):
        h, xs = _initial_tensor(h0, x, w_hh.shape[1]), x.unbind(0)
        hs = [None] * len(xs)
        for t in _steps(len(xs), reverse):
            x_r, x_z, x_n = _affine(xs[t], w_ih, b_ih).chunk(3, 1)
            h_r, h_z, h_n = _affine(h, w_hh, b_hh).chunk(3, 1)
            r, z = (x_r + h_r).sigmoid(), (x_z + h_z).sigmoid()
            n = (x_n + r * h_n).tanh()
            h = hs[t] = (1 - z) * n + z * h
        return stack(hs), h


def rnn_sequence(x, h0, w_ih, w_hh, b_ih=None, b_hh=None, reverse=False, nonlinearity="tanh"):
    """One RNN layer direction over a time-major sequence x (T, N, I) → (output (T, N, H), h_T (N, H))."""
    op = RNNSequence if runtime.reference else fast.RNNSequence
    return op.apply(x, h0, w_ih, w_hh, b_ih, b_hh, reverse=reverse, nonlinearity=nonlinearity)


def lstm_sequence(x, h0, c0, w_ih, w_hh, b_ih=None, b_hh=None, reverse=False):
    """One LSTM layer direction over x (T, N, I) → (output (T, N, H), h_T (N, H), c_T (N, H))."""
    op = LSTMSequence if runtime.reference else fast.LSTMSequence
    return op.apply(x, h0, c0, w_ih, w_hh, b_ih, b_hh, reverse=reverse)


def gru_sequence(x, h0, w_ih, w_hh, b_ih=None, b_hh=None, reverse=False):
    """One GRU layer direction over x (T, N, I) → (output (T, N, H), h_T (N, H))."""
    op = GRUSequence if runtime.reference else fast.GRUSequence
    return op.apply(x, h0, w_ih, w_hh, b_ih, b_hh, reverse=reverse)


from ..kernels import recurrent as fast  # noqa: E402 - the fast kernels subclass the ops above
