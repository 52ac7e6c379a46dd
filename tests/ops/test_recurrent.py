"""chainrule.ops.recurrent against torch in float64, on both paths (the reference ops and the fast kernels):
rnn_sequence (tanh, relu), lstm_sequence and gru_sequence over one layer direction, stepped in torch with
its own cells (torch.rnn_tanh_cell, rnn_relu_cell, lstm_cell, gru_cell) forward or reversed — the output
sequence, the final states (separate outputs of the one node) and the gradients of x, the initial states
and every weight and bias, with biases and initial states given or not; a loss on c_T alone; finite
differences through chainrule.gradcheck. The layers (stacked, bidirectional, cells): tests/nn/test_recurrent.py;
fast == reference exactly: tests/kernels/test_recurrent.py."""
import numpy as np
import pytest
import torch

import chainrule as cr
from chainrule.ops.recurrent import gru_sequence, lstm_sequence, rnn_sequence
from tests.parity import TOL

pytestmark = pytest.mark.usefixtures("both_paths")

GATES = {"rnn_tanh": 1, "rnn_relu": 1, "lstm": 4, "gru": 3}
TORCH_CELLS = {"rnn_tanh": torch.rnn_tanh_cell, "rnn_relu": torch.rnn_relu_cell, "lstm": torch.lstm_cell,
               "gru": torch.gru_cell}


def sequence(kind, x, h0, c0, w_ih, w_hh, b_ih, b_hh, reverse):
    """chainrule's op for ``kind``: (output, h_T) or, for the LSTM, (output, h_T, c_T)."""
    if kind == "lstm":
        return lstm_sequence(x, h0, c0, w_ih, w_hh, b_ih, b_hh, reverse=reverse)
    if kind == "gru":
        return gru_sequence(x, h0, w_ih, w_hh, b_ih, b_hh, reverse=reverse)
    return rnn_sequence(x, h0, w_ih, w_hh, b_ih, b_hh, reverse=reverse, nonlinearity=kind[4:])


def torch_sequence(kind, x, h0, c0, w_ih, w_hh, b_ih, b_hh, reverse):
    """The same with torch's cell stepped over the sequence."""
    T, N, _ = x.shape
    H = w_hh.shape[1]
    h = torch.zeros(N, H, dtype=x.dtype) if h0 is None else h0
    c = torch.zeros(N, H, dtype=x.dtype) if c0 is None else c0
    outputs = [None] * T
    for t in (range(T - 1, -1, -1) if reverse else range(T)):
        if kind == "lstm":
            h, c = torch.lstm_cell(x[t], (h, c), w_ih, w_hh, b_ih, b_hh)
        else:
            h = TORCH_CELLS[kind](x[t], h, w_ih, w_hh, b_ih, b_hh)
        outputs[t] = h
    return (torch.stack(outputs), h, c) if kind == "lstm" else (torch.stack(outputs), h)


def op_arrays(kind, T, N, I, H, bias, with_state, seed=0, scale=1.0):
    """x, h0, c0, w_ih, w_hh, b_ih, b_hh as float64 arrays (None where absent)."""
    rng = np.random.default_rng(seed)
    G = GATES[kind]

    def draw(*shape):
        return rng.standard_normal(shape) * scale

    return [draw(T, N, I), draw(N, H) if with_state else None,
            draw(N, H) if with_state and kind == "lstm" else None,
            draw(G * H, I), draw(G * H, H), draw(G * H) if bias else None, draw(G * H) if bias else None]


def check_op(kind, arrays, reverse, use=None, seed=1):
    """Outputs and every input's gradient equal torch's; the loss weights each output used (``use``:
    the indices of the outputs in the loss, all by default) by a random array."""
    ours = [None if a is None else cr.tensor(a, requires_grad=True) for a in arrays]
    theirs = [None if a is None else torch.tensor(a, requires_grad=True) for a in arrays]
    outs = sequence(kind, *ours, reverse)
    refs = torch_sequence(kind, *theirs, reverse)
    assert len(outs) == len(refs) == (3 if kind == "lstm" else 2)
    for k, (o, r) in enumerate(zip(outs, refs)):
        assert o.shape == tuple(r.shape), f"output {k}: shape {o.shape} != torch's {tuple(r.shape)}"
        np.testing.assert_allclose(o.data, r.detach().numpy(), **TOL[np.float64], err_msg=f"output {k}")
    rng = np.random.default_rng(seed)
    loss = ref_loss = 0
    for k in range(len(outs)) if use is None else use:
        g = rng.standard_normal(outs[k].shape)
        loss = loss + (outs[k] * cr.tensor(g)).sum()
        ref_loss = ref_loss + (refs[k] * torch.tensor(g)).sum()
    loss.backward()
    ref_loss.backward()
    names = ["x", "h0", "c0", "weight_ih", "weight_hh", "bias_ih", "bias_hh"]
    for name, o, r in zip(names, ours, theirs):
        if o is None:
            continue
        assert o.grad is not None, f"no gradient for {name}"
        expected = np.zeros(r.shape) if r.grad is None else r.grad.numpy()
        np.testing.assert_allclose(o.grad.data, expected, **TOL[np.float64], err_msg=f"gradient of {name}")


@pytest.mark.parametrize("kind", list(GATES))
@pytest.mark.parametrize("T", [1, 2, 5])
@pytest.mark.parametrize("N", [1, 3])
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("with_state", [True, False])
@pytest.mark.parametrize("reverse", [False, True])
def test_sequence_parity(kind, T, N, bias, with_state, reverse):
    check_op(kind, op_arrays(kind, T, N, 4, 3, bias, with_state, seed=T + N), reverse)


@pytest.mark.parametrize("kind", list(GATES))
@pytest.mark.parametrize("reverse", [False, True])
def test_loss_on_the_final_states_only(kind, reverse):
    """The output sequence gets no gradient (zeros on the node's backward), the final state does."""
    check_op(kind, op_arrays(kind, 4, 2, 3, 5, True, True), reverse, use=[1])


@pytest.mark.parametrize("reverse", [False, True])
def test_lstm_loss_on_c_T_only(reverse):
    check_op("lstm", op_arrays("lstm", 4, 2, 3, 5, True, True), reverse, use=[2])


@pytest.mark.parametrize("kind", list(GATES))
def test_saturated_gates_parity(kind):
    """|pre-activations| ≫ 1: σ and tanh at 0, ±1 exactly, the gradients through them still torch's."""
    check_op(kind, op_arrays(kind, 6, 2, 3, 4, True, True, scale=30.0), reverse=False)


@pytest.mark.parametrize("kind", list(GATES))
def test_final_state_is_the_last_step_of_the_output(kind):
    x, h0, c0, *w = [None if a is None else cr.tensor(a) for a in op_arrays(kind, 4, 2, 3, 5, True, True)]
    for reverse, last in ((False, 3), (True, 0)):
        y, h, *c = sequence(kind, x, h0, c0, *w, reverse)
        np.testing.assert_array_equal(h.data, y.data[last])
        assert len(c) == (1 if kind == "lstm" else 0)


def test_several_outputs_are_one_node():
    x, h0, c0, *w = [cr.tensor(a, requires_grad=True) for a in op_arrays("lstm", 3, 2, 3, 4, True, True)]
    y, h, c = lstm_sequence(x, h0, c0, *w)
    assert y.grad_fn is h.grad_fn is c.grad_fn


def test_float32_stays_float32():
    arrays = [a.astype(np.float32) for a in op_arrays("lstm", 3, 2, 3, 4, True, True)]
    outs = lstm_sequence(*[cr.tensor(a) for a in arrays])
    assert [o.dtype for o in outs] == [np.float32] * 3


# ----- finite differences -------------------------------------------------------------------------------

def _flat(outputs):
    """Every output of a sequence op in one vector, so that gradcheck's loss uses each (c_T included)."""
    return cr.cat([o.reshape(-1) for o in outputs])


def _gradcheck_inputs(kind):
    return [cr.tensor(a, requires_grad=True) for a in op_arrays(kind, 3, 2, 3, 2, True, True, scale=0.7)
            if a is not None]


@pytest.mark.parametrize("reverse", [False, True])
def test_gradcheck_lstm(reverse):
    assert cr.gradcheck(lambda *a: _flat(lstm_sequence(*a, reverse=reverse)), _gradcheck_inputs("lstm"))


@pytest.mark.parametrize("reverse", [False, True])
def test_gradcheck_gru(reverse):
    assert cr.gradcheck(lambda *a: _flat(gru_sequence(*a, reverse=reverse)), _gradcheck_inputs("gru"))


@pytest.mark.parametrize("nonlinearity", ["tanh", "relu"])
def test_gradcheck_rnn(nonlinearity):
    assert cr.gradcheck(lambda *a: _flat(rnn_sequence(*a, reverse=True, nonlinearity=nonlinearity)),
                        _gradcheck_inputs("rnn_" + nonlinearity))
