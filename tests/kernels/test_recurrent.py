"""kernels/recurrent.py == ops/recurrent.py: the fast RNN, LSTM and GRU sequences (factors folded into the
weight rows so that each σ and tanh is one exp, the time loops split over the batch between threads, the
saved gates overwritten by their gradients) against the reference equations stepped in plain NumPy —
every output (the sequence, h_T, c_T) and the gradient of x, the initial states and every weight and bias,
the loss weighting every output (so c_T's gradient is used). Float64 to rtol 1e-10: the two compute
σ and tanh differently (one exp against np.tanh), so they agree to rounding, not bit for bit.
Both against torch: tests/ops/test_recurrent.py and tests/nn/test_recurrent.py, which run on both paths."""
import numpy as np
import pytest

import chainrule as cr
from chainrule import nn
from tests.ops.test_recurrent import GATES, op_arrays, sequence
from tests.parity import assert_paths_agree

F64 = {"rtol": 1e-10, "atol": 1e-12}


def op(kind, reverse):
    return lambda *tensors: sequence(kind, *tensors, reverse)


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("kind", list(GATES))
@pytest.mark.parametrize("T", [1, 2, 3, 4, 5])
@pytest.mark.parametrize("N", [1, 2, 3])
def test_sequence_fast_equals_reference(threads, kind, T, N):
    """Every combination of hidden size, bias, initial states given or not and direction."""
    with cr.num_threads(threads):
        for H in (1, 4):
            for bias in (True, False):
                for with_state in (True, False):
                    arrays = op_arrays(kind, T, N, 3, H, bias, with_state, seed=T * 10 + N)
                    for reverse in (False, True):
                        assert_paths_agree(op(kind, reverse), *arrays, **F64)


@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("given", ["h0", "c0"])
def test_lstm_with_one_initial_state(reverse, given):
    """h0 without c0 or c0 without h0: the absent one is zeros on both paths."""
    x, h0, c0, *w = op_arrays("lstm", 4, 3, 3, 5, True, True)
    arrays = [x, h0 if given == "h0" else None, c0 if given == "c0" else None, *w]
    assert_paths_agree(op("lstm", reverse), *arrays, **F64)


@pytest.mark.parametrize("threads", [1, 2, 3])
@pytest.mark.parametrize("kind", list(GATES))
@pytest.mark.parametrize("N", [0, 5, 7])
def test_uneven_batch_slices_and_empty_batch(threads, kind, N):
    """More samples than threads, not a multiple of them (uneven slices); no samples at all."""
    with cr.num_threads(threads):
        for reverse in (False, True):
            assert_paths_agree(op(kind, reverse), *op_arrays(kind, 5, N, 3, 4, True, True), **F64)


@pytest.mark.parametrize("kind", list(GATES))
def test_saturated_gates(kind):
    """|pre-activation| ≫ 1: e^(−x) overflows to inf on the fast path, giving σ = 0 and tanh = −1 exactly."""
    for reverse in (False, True):
        assert_paths_agree(op(kind, reverse), *op_arrays(kind, 6, 2, 3, 4, True, True, scale=30.0), **F64)


@pytest.mark.parametrize("kind", list(GATES))
def test_float32(kind):
    arrays = [None if a is None else a.astype(np.float32) for a in op_arrays(kind, 5, 3, 4, 6, True, True)]
    assert_paths_agree(op(kind, False), *arrays, rtol=1e-4, atol=1e-6)


# ----- through the nn modules: stacked layers, both directions -------------------------------------------------

MODULES = {"rnn_tanh": (nn.RNN, {"nonlinearity": "tanh"}), "rnn_relu": (nn.RNN, {"nonlinearity": "relu"}),
           "lstm": (nn.LSTM, {}), "gru": (nn.GRU, {})}


def run_module(kind, reference, x, states, **kwargs):
    """Outputs, and the gradients of x, the initial states and every parameter, on one path."""
    cls, extra = MODULES[kind]
    cr.manual_seed(0)
    m = cls(x.shape[2], 4, **extra, **kwargs, dtype=cr.float64)
    x = cr.tensor(x, requires_grad=True)
    states = [cr.tensor(s, requires_grad=True) for s in states]
    hx = (tuple(states) if kind == "lstm" else states[0]) if states else None
    with cr.use_reference(reference):
        out, final = m(x, hx)
        outs = [out, *final] if kind == "lstm" else [out, final]
        rng = np.random.default_rng(1)
        loss = sum((o * cr.tensor(rng.standard_normal(o.shape))).sum() for o in outs)
        loss.backward()
    grads = [x.grad] + [s.grad for s in states] + [p.grad for p in m.parameters()]
    return [o.data for o in outs], [g.data for g in grads]


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("kind", list(MODULES))
@pytest.mark.parametrize("num_layers", [1, 2, 3])
@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("with_state", [False, True])
def test_modules_fast_equal_reference(threads, kind, num_layers, bidirectional, with_state):
    rng = np.random.default_rng(num_layers)
    x = rng.standard_normal((4, 3, 5))
    D = 2 if bidirectional else 1
    states = [rng.standard_normal((num_layers * D, 3, 4)) for _ in range(2 if kind == "lstm" else 1)] \
        if with_state else []
    with cr.num_threads(threads):
        fast = run_module(kind, False, x, states, num_layers=num_layers, bidirectional=bidirectional)
        ref = run_module(kind, True, x, states, num_layers=num_layers, bidirectional=bidirectional)
    for what, f_arrays, r_arrays in (("output", fast[0], ref[0]), ("gradient", fast[1], ref[1])):
        assert len(f_arrays) == len(r_arrays)
        for k, (f, r) in enumerate(zip(f_arrays, r_arrays)):
            np.testing.assert_allclose(f, r, **F64, err_msg=f"{what} {k}: fast kernel != reference")
