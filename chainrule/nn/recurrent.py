"""Recurrent layers with PyTorch's contract: RNN, LSTM, GRU (stacked, bidirectional, batch_first,
inter-layer dropout, initial states) and the single-step RNNCell, LSTMCell, GRUCell.

Parameters have torch's names, shapes and order — ``weight_ih_l{k}``, ``weight_hh_l{k}``,
``bias_ih_l{k}``, ``bias_hh_l{k}`` per layer k, with ``_reverse`` for the backward direction — so a
torch state dict loads as is. Each layer direction is one fused op over the whole sequence
(``chainrule.ops.recurrent``); the cells run the same op for one step, so each cell's math exists once.
"""
import math
import numbers
import warnings

from .. import creation
from ..ops.dropout import dropout as _dropout
from ..ops.recurrent import gru_sequence, lstm_sequence, rnn_sequence
from ..ops.shape import cat, stack
from ..tensor import Tensor
from . import init
from .module import Module, Parameter

_GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}


def _check_sizes(name, input_size, hidden_size):
    for what, v in (("input_size", input_size), ("hidden_size", hidden_size)):
        if isinstance(v, bool) or not isinstance(v, numbers.Integral) or v <= 0:
            raise ValueError(f"{name}: {what} must be a positive integer, got {v!r}")


def _check_dtype(name, what, t, weight):
    if t.data.dtype != weight.data.dtype:
        raise TypeError(f"{name}: {what} dtype {t.dtype} differs from the weights' dtype {weight.dtype}")


def _run_direction(mode, x, h0, c0, w_ih, w_hh, b_ih, b_hh, reverse):
    """One layer direction over x (T, N, I): (output (T, N, H), h_T, c_T or None)."""
    if mode == "LSTM":
        return lstm_sequence(x, h0, c0, w_ih, w_hh, b_ih, b_hh, reverse=reverse)
    if mode == "GRU":
        y, h = gru_sequence(x, h0, w_ih, w_hh, b_ih, b_hh, reverse=reverse)
    else:
        nonlinearity = "relu" if mode == "RNN_RELU" else "tanh"
        y, h = rnn_sequence(x, h0, w_ih, w_hh, b_ih, b_hh, reverse=reverse, nonlinearity=nonlinearity)
    return y, h, None


class RNNBase(Module):
    """Shared by RNN, LSTM and GRU. Input (T, N, I) (``batch_first``: (N, T, I)) or unbatched (T, I);
    initial states (num_layers·D, N, H) (unbatched: (num_layers·D, H)), D = 2 if bidirectional else 1.
    Output (T, N, D·H): the last layer's h_t, both directions concatenated; final states
    (num_layers·D, N, H) ordered layer by layer, forward direction first. All weights and biases
    start as U(−1/√H, 1/√H), as in torch.
    """

    def __init__(self, mode, input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
                 bidirectional=False, proj_size=0, dtype=None):
        super().__init__()
        name = type(self).__name__
        _check_sizes(name, input_size, hidden_size)
        if isinstance(num_layers, bool) or not isinstance(num_layers, numbers.Integral) or num_layers <= 0:
            raise ValueError(f"{name}: num_layers must be a positive integer, got {num_layers!r}")
        if isinstance(dropout, bool) or not isinstance(dropout, numbers.Number) or not 0 <= dropout <= 1:
            raise ValueError(f"{name}: dropout should be a number in [0, 1] (the probability of zeroing an "
                             f"element), got {dropout!r}")
        if dropout > 0 and num_layers == 1:
            warnings.warn(f"{name}: dropout applies between recurrent layers, so with num_layers=1 and "
                          f"dropout={dropout} it does nothing", UserWarning, stacklevel=3)
        if proj_size:
            raise NotImplementedError(f"{name}: proj_size > 0 (projected LSTM) is not supported")
        self.mode = mode
        self.input_size, self.hidden_size, self.num_layers = input_size, hidden_size, num_layers
        self.bias, self.batch_first, self.dropout = bias, batch_first, float(dropout)
        self.bidirectional, self.proj_size = bidirectional, proj_size
        gates = _GATES[mode] * hidden_size
        directions = 2 if bidirectional else 1
        self._flat_weights_names = []
        for layer in range(num_layers):
            layer_input = input_size if layer == 0 else hidden_size * directions
            for direction in range(directions):
                suffix = f"_l{layer}" + ("_reverse" if direction else "")
                shapes = [("weight_ih", (gates, layer_input)), ("weight_hh", (gates, hidden_size))]
                if bias:
                    shapes += [("bias_ih", (gates,)), ("bias_hh", (gates,))]
                for prefix, shape in shapes:
                    setattr(self, prefix + suffix, Parameter(creation.empty(*shape, dtype=dtype)))
                    self._flat_weights_names.append(prefix + suffix)
        self.reset_parameters()

    def reset_parameters(self):
        """Draw every weight and bias from U(−1/√H, 1/√H), H = hidden_size (torch's default); called by the constructor.
        """
        bound = 1 / math.sqrt(self.hidden_size)
        for p in self.parameters():
            init.uniform_(p, -bound, bound)

    def flatten_parameters(self):
        """A no-op, for code written for torch (where it compacts cuDNN's weight buffer)."""

    @property
    def all_weights(self):
        """[[weight_ih, weight_hh, bias_ih, bias_hh] for each layer and direction], as in torch."""
        per = 4 if self.bias else 2
        names = self._flat_weights_names
        return [[getattr(self, n) for n in names[k:k + per]] for k in range(0, len(names), per)]

    def _weights(self, layer, direction):
        suffix = f"_l{layer}" + ("_reverse" if direction else "")
        w_ih, w_hh = getattr(self, "weight_ih" + suffix), getattr(self, "weight_hh" + suffix)
        if not self.bias:
            return w_ih, w_hh, None, None
        return w_ih, w_hh, getattr(self, "bias_ih" + suffix), getattr(self, "bias_hh" + suffix)

    def _check_state(self, what, state, expected, input_shape):
        name = type(self).__name__
        if not isinstance(state, Tensor):
            raise TypeError(f"{name}: {what} must be a Tensor, got {type(state).__name__}")
        if tuple(state.shape) != expected:
            raise ValueError(
                f"{name}: {what} of shape {tuple(state.shape)} does not match the expected {expected} "
                f"(num_layers·num_directions, batch, hidden_size) for input of shape {tuple(input_shape)}"
            )
        _check_dtype(name, what, state, self.weight_ih_l0)

    def _initial_states(self, hx, batched, batch, input_shape):
        """hx → (h0, c0) of shape (L·D, N, H) each (c0 None except for the LSTM), or (None, None)."""
        if hx is None:
            return None, None
        name = type(self).__name__
        lstm = self.mode == "LSTM"
        if lstm and not (isinstance(hx, (tuple, list)) and len(hx) == 2):
            raise TypeError(f"{name}: hx must be a tuple (h0, c0), got {type(hx).__name__}")
        states = tuple(hx) if lstm else (hx,)
        layers = self.num_layers * (2 if self.bidirectional else 1)
        expected = (layers, batch, self.hidden_size) if batched else (layers, self.hidden_size)
        for what, s in zip(("h0", "c0") if lstm else ("hx",), states):
            self._check_state(what, s, expected, input_shape)
        if not batched:
            states = tuple(s.unsqueeze(1) for s in states)
        return states if lstm else (states[0], None)

    def forward(self, input, hx=None):
        """Run the stack over the sequence [note 004: LSTM, backprop through time]: input (T, N, I) (batch_first: (N, T,
        I)) or unbatched (T, I); hx the initial state(s), (num_layers·D, N, H) each, zeros when None (for the LSTM a
        pair (h0, c0)). Returns (output, h_n) — for the LSTM (output, (h_n, c_n)) — output (T, N, D·H) (batch_first: (N,
        T, D·H)), the last layer's h_t with both directions concatenated; h_n, c_n (num_layers·D, N, H); D = 2 if
        bidirectional else 1. Dropout acts between layers in training. Raises TypeError for a non-Tensor input,
        ValueError for a wrong ndim, feature count, state shape or an empty sequence."""
        name = type(self).__name__
        if not isinstance(input, Tensor):
            raise TypeError(f"{name}: expected a Tensor input, got {type(input).__name__}")
        if input.ndim not in (2, 3):
            raise ValueError(f"{name}: expected a 2-D (unbatched: seq_len, input_size) or 3-D input, "
                             f"got shape {tuple(input.shape)}")
        batched = input.ndim == 3
        x = input if batched else input.unsqueeze(1)
        if batched and self.batch_first:
            x = x.transpose(0, 1)
        T, N, features = x.shape
        if features != self.input_size:
            raise ValueError(f"{name}: input of shape {tuple(input.shape)} has {features} features, "
                             f"expected input_size={self.input_size}")
        if T == 0:  # an empty batch (N = 0) runs, as in torch
            raise ValueError(f"{name}: expected a sequence of length > 0, got input of shape {tuple(input.shape)}")
        _check_dtype(name, "input", x, self.weight_ih_l0)
        h0, c0 = self._initial_states(hx, batched, N, input.shape)

        directions = 2 if self.bidirectional else 1
        layer_input, h_n, c_n = x, [], []
        for layer in range(self.num_layers):
            outputs = []
            for direction in range(directions):
                k = layer * directions + direction
                y, h, c = _run_direction(self.mode, layer_input, None if h0 is None else h0[k],
                                    None if c0 is None else c0[k], *self._weights(layer, direction), direction == 1)
                outputs.append(y)
                h_n.append(h)
                c_n.append(c)
            layer_input = outputs[0] if directions == 1 else cat(outputs, dim=2)
            if self.dropout and self.training and layer < self.num_layers - 1:
                layer_input = _dropout(layer_input, self.dropout, True)

        output, h_n = layer_input, stack(h_n, 0)
        c_n = stack(c_n, 0) if self.mode == "LSTM" else None
        if not batched:
            output, h_n = output.squeeze(1), h_n.squeeze(1)
            c_n = None if c_n is None else c_n.squeeze(1)
        elif self.batch_first:
            output = output.transpose(0, 1)
        return output, ((h_n, c_n) if self.mode == "LSTM" else h_n)

    def extra_repr(self):
        s = f"{self.input_size}, {self.hidden_size}"
        if self.mode == "RNN_RELU":
            s += ", nonlinearity='relu'"  # torch's repr omits it; it changes the layer, so show it
        if self.num_layers != 1:
            s += f", num_layers={self.num_layers}"
        if not self.bias:
            s += ", bias=False"
        if self.batch_first:
            s += ", batch_first=True"
        if self.dropout:
            s += f", dropout={self.dropout}"
        if self.bidirectional:
            s += ", bidirectional=True"
        return s


class RNN(RNNBase):
    """Elman RNN: h_t = tanh(W_ih x_t + b_ih + W_hh h_{t−1} + b_hh) (or relu), stacked ``num_layers``
    deep. ``forward(input, hx=None)`` → (output, h_n)."""

    def __init__(self, input_size, hidden_size, num_layers=1, nonlinearity="tanh", bias=True, batch_first=False,
                 dropout=0.0, bidirectional=False, dtype=None):
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"RNN: unknown nonlinearity {nonlinearity!r}, expected 'tanh' or 'relu'")
        super().__init__("RNN_TANH" if nonlinearity == "tanh" else "RNN_RELU", input_size, hidden_size, num_layers,
                         bias, batch_first, dropout, bidirectional, dtype=dtype)
        self.nonlinearity = nonlinearity


class LSTM(RNNBase):
    """Long short-term memory, gates (i, f, g, o) as torch: c_t = f ⊙ c_{t−1} + i ⊙ g,
    h_t = o ⊙ tanh(c_t). ``forward(input, (h0, c0)=None)`` → (output, (h_n, c_n))."""

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
                 bidirectional=False, proj_size=0, dtype=None):
        super().__init__("LSTM", input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional,
                         proj_size, dtype=dtype)


class GRU(RNNBase):
    """Gated recurrent unit, gates (r, z, n) as torch: n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn)),
    h_t = (1 − z) ⊙ n + z ⊙ h_{t−1}. ``forward(input, hx=None)`` → (output, h_n)."""

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
                 bidirectional=False, dtype=None):
        super().__init__("GRU", input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional,
                         dtype=dtype)


class RNNCellBase(Module):
    """One time step. Input (N, I) or unbatched (I,); state (N, H) or (H,), zeros when not given.
    Parameters ``weight_ih`` (G·H, I), ``weight_hh`` (G·H, H), ``bias_ih``, ``bias_hh`` (G·H,),
    all U(−1/√H, 1/√H)."""

    def __init__(self, mode, input_size, hidden_size, bias=True, dtype=None):
        super().__init__()
        _check_sizes(type(self).__name__, input_size, hidden_size)
        self.mode = mode
        self.input_size, self.hidden_size, self.bias = input_size, hidden_size, bias
        gates = _GATES[self.mode] * hidden_size
        self.weight_ih = Parameter(creation.empty(gates, input_size, dtype=dtype))
        self.weight_hh = Parameter(creation.empty(gates, hidden_size, dtype=dtype))
        self.bias_ih = Parameter(creation.empty(gates, dtype=dtype)) if bias else None
        self.bias_hh = Parameter(creation.empty(gates, dtype=dtype)) if bias else None
        self.reset_parameters()

    def reset_parameters(self):
        """Draw every weight and bias from U(−1/√H, 1/√H), H = hidden_size (torch's default); called by the constructor.
        """
        bound = 1 / math.sqrt(self.hidden_size)
        for p in self.parameters():
            init.uniform_(p, -bound, bound)

    def _step(self, input, states):
        """Check shapes, run the sequence op for T = 1; returns (h', c' or None) shaped like the input."""
        name = type(self).__name__
        if not isinstance(input, Tensor):
            raise TypeError(f"{name}: expected a Tensor input, got {type(input).__name__}")
        if input.ndim not in (1, 2):
            raise ValueError(f"{name}: expected a 1-D (unbatched) or 2-D (batch, input_size) input, "
                             f"got shape {tuple(input.shape)}")
        if input.shape[-1] != self.input_size:
            raise ValueError(f"{name}: input of shape {tuple(input.shape)} has {input.shape[-1]} features, "
                             f"expected input_size={self.input_size}")
        _check_dtype(name, "input", input, self.weight_ih)
        batched = input.ndim == 2
        expected = (input.shape[0], self.hidden_size) if batched else (self.hidden_size,)
        for what, s in states:
            if s is None:
                continue
            if not isinstance(s, Tensor):
                raise TypeError(f"{name}: {what} must be a Tensor, got {type(s).__name__}")
            if tuple(s.shape) != expected:
                raise ValueError(f"{name}: {what} of shape {tuple(s.shape)} does not match the expected {expected} "
                                 f"for input of shape {tuple(input.shape)}")
            _check_dtype(name, what, s, self.weight_ih)
        x = input.reshape(1, -1, self.input_size)  # a sequence of one step
        h0, c0 = ([s for _, s in states] + [None])[:2]  # c0 only for the LSTM
        if not batched:
            h0, c0 = (s if s is None else s.reshape(1, self.hidden_size) for s in (h0, c0))
        _, h, c = _run_direction(self.mode, x, h0, c0, self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh, False)
        if not batched:
            h = h.reshape(self.hidden_size)
            c = None if c is None else c.reshape(self.hidden_size)
        return h, c

    def extra_repr(self):
        s = f"{self.input_size}, {self.hidden_size}"
        if not self.bias:
            s += ", bias=False"
        if self.mode == "RNN_RELU":
            s += ", nonlinearity=relu"
        return s


class RNNCell(RNNCellBase):
    """h' = tanh(W_ih x + b_ih + W_hh h + b_hh) (or relu). ``forward(input, hx=None)`` → h'."""

    def __init__(self, input_size, hidden_size, bias=True, nonlinearity="tanh", dtype=None):
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"RNNCell: unknown nonlinearity {nonlinearity!r}, expected 'tanh' or 'relu'")
        super().__init__("RNN_TANH" if nonlinearity == "tanh" else "RNN_RELU", input_size, hidden_size, bias, dtype)
        self.nonlinearity = nonlinearity

    def forward(self, input, hx=None):
        """One step: h' = tanh(W_ih x + b_ih + W_hh h + b_hh) (or relu); input (N, I) or (I,), hx (N, H) or (H,) (zeros
        when None) → h' of hx's shape. Raises ValueError when the shapes don't fit."""
        return self._step(input, [("hx", hx)])[0]


class LSTMCell(RNNCellBase):
    """c' = f ⊙ c + i ⊙ g, h' = o ⊙ tanh(c'), gates (i, f, g, o). ``forward(input, (h, c)=None)`` → (h', c')."""

    def __init__(self, input_size, hidden_size, bias=True, dtype=None):
        super().__init__("LSTM", input_size, hidden_size, bias, dtype)

    def forward(self, input, hx=None):
        """One step: i, f, g, o from W_ih x + b_ih + W_hh h + b_hh (σ, σ, tanh, σ), c' = f ⊙ c + i ⊙ g, h' = o ⊙
        tanh(c') [note 004: LSTM]; input (N, I) or (I,), hx the pair (h, c), each (N, H) or (H,) (zeros when None) →
        (h', c'). Raises ValueError when the shapes don't fit."""
        if hx is not None and not (isinstance(hx, (tuple, list)) and len(hx) == 2):
            raise TypeError(f"LSTMCell: hx must be a tuple (h, c), got {type(hx).__name__}")
        h, c = (None, None) if hx is None else hx
        return self._step(input, [("h", h), ("c", c)])


class GRUCell(RNNCellBase):
    """n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn)), h' = (1 − z) ⊙ n + z ⊙ h, gates (r, z, n).
    ``forward(input, hx=None)`` → h'."""

    def __init__(self, input_size, hidden_size, bias=True, dtype=None):
        super().__init__("GRU", input_size, hidden_size, bias, dtype)

    def forward(self, input, hx=None):
        """One step: r, z = σ(W_i{r,z} x + b + W_h{r,z} h + b), n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn)), h' = (1 −
        z) ⊙ n + z ⊙ h; input (N, I) or (I,), hx (N, H) or (H,) (zeros when None) → h'. Raises ValueError when the
        shapes don't fit."""
        return self._step(input, [("hx", hx)])[0]
