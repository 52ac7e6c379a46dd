"""Second derivatives of the recurrent layers (RNN tanh/relu, LSTM, GRU) equal torch's (float64) with respect to
the input, the initial states and every weight and bias — the same weights in torch's and chainrule's modules,
run through ``functional_call`` — on the fast kernels and on the reference ops: backpropagation through time
recorded step by step and differentiated again."""
import numpy as np
import pytest
import torch

import chainrule as cr
from tests.higher.check import assert_higher_order

pytestmark = pytest.mark.usefixtures("both_paths")


def _modules(kind, input_size, hidden_size, seed, **kwargs):
    torch.manual_seed(seed)
    theirs = getattr(torch.nn, kind)(input_size, hidden_size, dtype=torch.float64, **kwargs)
    ours = getattr(cr.nn, kind)(input_size, hidden_size, dtype=cr.float64, **kwargs)
    names = [n for n, _ in theirs.named_parameters()]
    return ours, theirs, names, [p.detach().numpy().copy() for p in theirs.parameters()]


def _flat(out):
    """(output, h_n) or (output, (h_n, c_n)) → a flat tuple; a cell's state(s) as they are."""
    if isinstance(out, tuple) and isinstance(out[-1], tuple):
        return (out[0],) + out[-1]
    return out


def _check(kind, x, states, order=2, seed=0, **kwargs):
    """``states``: None (zeros), or h0 — the LSTM takes (h0, 0.5·h0 + 0.1) as (h0, c0)."""
    ours, theirs, names, params = _modules(kind, x.shape[-1], 3, seed, **kwargs)

    def call(lib, module, x, h0, *ps):
        hx = h0 if h0 is None or kind not in ("LSTM", "LSTMCell") else (h0, h0 * 0.5 + 0.1)
        args = (x,) if hx is None else (x, hx)
        return _flat(lib.func.functional_call(module, dict(zip(names, ps)), args))

    assert_higher_order(lambda x, h0, *ps: call(cr, ours, x, h0, *ps),
                        lambda x, h0, *ps: call(torch, theirs, x, h0, *ps), x, states, *params, order=order)


def draw(shape, seed):
    return np.random.default_rng(seed).standard_normal(shape)


CASES = [  # kind, sequence length, module kwargs
    ("RNN", 2, {}), ("RNN", 3, {"nonlinearity": "relu"}), ("RNN", 4, {"num_layers": 2, "bidirectional": True}),
    ("RNN", 3, {"nonlinearity": "relu", "bias": False, "batch_first": True}),
    ("LSTM", 2, {}), ("LSTM", 3, {"bidirectional": True}), ("LSTM", 3, {"num_layers": 2, "bias": False}),
    ("LSTM", 4, {"batch_first": True}),
    ("GRU", 2, {}), ("GRU", 3, {"num_layers": 2, "batch_first": True}), ("GRU", 4, {"bidirectional": True}),
    ("GRU", 2, {"bias": False}),
]


@pytest.mark.parametrize("kind, length, kwargs", CASES)
@pytest.mark.parametrize("initial", [True, False])
def test_sequence(kind, length, kwargs, initial):
    batch, layers = 2, kwargs.get("num_layers", 1) * (2 if kwargs.get("bidirectional") else 1)
    x = draw((batch, length, 2) if kwargs.get("batch_first") else (length, batch, 2), length)
    _check(kind, x, draw((layers, batch, 3), 7) if initial else None, **kwargs)


@pytest.mark.parametrize("kind", ["RNN", "LSTM", "GRU"])
def test_third_order(kind):
    _check(kind, draw((2, 1, 2), 8), draw((1, 1, 3), 9), order=3)


@pytest.mark.parametrize("kind", ["RNNCell", "LSTMCell", "GRUCell"])
def test_cells(kind):
    _check(kind, draw((2, 3), 10), draw((2, 3), 11))


def test_unbatched():
    _check("GRU", draw((3, 2), 12), draw((1, 3), 13))
