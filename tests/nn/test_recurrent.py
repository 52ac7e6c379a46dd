"""chainrule.nn recurrent layers against torch.nn in float64, weights copied from the torch twin:
RNN (tanh, relu), LSTM, GRU over num_layers 1–3, bidirectional, batch_first, bias on/off, with and
without initial states, unbatched input — outputs, final states and the gradients of the input, the
initial states and every parameter; the cells likewise; inter-layer dropout (eval, and p = 1 in
training, where both sides are deterministic); parameter names and order (a torch state dict loads);
initialization; one fused graph node per layer and direction; saturated gates; a second backward
through a retained graph; finite differences through chainrule.gradcheck; error messages that name
the layer and the shapes. Every test runs on both paths (the reference ops and the fast kernels); the
sequence ops themselves: tests/ops/test_recurrent.py."""
import math
import warnings

import numpy as np
import pytest
import torch
import torch.nn as tnn
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import chainrule as cr
from chainrule import nn
from chainrule.nn.recurrent import RNNBase
from chainrule.ops.recurrent import GRUSequence, LSTMSequence, RNNSequence
from tests.parity import TOL

pytestmark = pytest.mark.usefixtures("both_paths")

F64 = TOL[np.float64]

# kind → (chainrule class, torch class, extra constructor kwargs)
KINDS = {
    "rnn_tanh": (nn.RNN, tnn.RNN, {"nonlinearity": "tanh"}),
    "rnn_relu": (nn.RNN, tnn.RNN, {"nonlinearity": "relu"}),
    "lstm": (nn.LSTM, tnn.LSTM, {}),
    "gru": (nn.GRU, tnn.GRU, {}),
}
CELLS = {
    "rnn_tanh": (nn.RNNCell, tnn.RNNCell, {"nonlinearity": "tanh"}),
    "rnn_relu": (nn.RNNCell, tnn.RNNCell, {"nonlinearity": "relu"}),
    "lstm": (nn.LSTMCell, tnn.LSTMCell, {}),
    "gru": (nn.GRUCell, tnn.GRUCell, {}),
}


def normal(shape, rng, scale=1.0):
    return rng.standard_normal(shape) * scale


def twins(table, kind, *args, seed=0, **kwargs):
    """(chainrule module in float64, its torch twin) with the torch module's weights."""
    cr_cls, t_cls, extra = table[kind]
    torch.manual_seed(seed)
    twin = t_cls(*args, **extra, **kwargs).double()
    ours = cr_cls(*args, **extra, **kwargs, dtype=cr.float64)
    ours.load_state_dict(twin.state_dict())  # torch tensors load directly (np.asarray)
    return ours, twin


def leaf_pair(array):
    return cr.tensor(array, requires_grad=True), torch.tensor(array, requires_grad=True)


def assert_close(ours, ref, what):
    assert ours is not None, f"{what}: no gradient"
    ref = ref.detach().numpy() if isinstance(ref, torch.Tensor) else ref
    ours = ours.data if isinstance(ours, cr.Tensor) else ours
    assert ours.shape == ref.shape, f"{what}: shape {ours.shape} != torch's {ref.shape}"
    np.testing.assert_allclose(ours, ref, **F64, err_msg=f"{what} differs from torch")


def backward_both(outs, refs, rng):
    """Seed every output (sequence output and final states) with the same random upstream gradient."""
    loss = None
    ref_loss = None
    for o, r in zip(outs, refs):
        g = normal(o.shape, rng)
        term, ref_term = (o * cr.tensor(g)).sum(), (r * torch.tensor(g)).sum()
        loss = term if loss is None else loss + term
        ref_loss = ref_term if ref_loss is None else ref_loss + ref_term
    loss.backward()
    ref_loss.backward()


def check_layer(kind, num_layers=1, bidirectional=False, batch_first=False, bias=True, with_state=False,
                unbatched=False, T=4, N=3, I=5, H=6, seed=0):
    rng = np.random.default_rng(seed)
    ours, twin = twins(KINDS, kind, I, H, num_layers=num_layers, bias=bias, batch_first=batch_first,
                       bidirectional=bidirectional, seed=seed)
    D = 2 if bidirectional else 1
    x_shape = (T, I) if unbatched else ((N, T, I) if batch_first else (T, N, I))
    x, tx = leaf_pair(normal(x_shape, rng))
    state_shape = (num_layers * D, H) if unbatched else (num_layers * D, N, H)
    states = [leaf_pair(normal(state_shape, rng)) for _ in range(2 if kind == "lstm" else 1)] if with_state else []
    if kind == "lstm":
        hx = tuple(s[0] for s in states) if states else None
        thx = tuple(s[1] for s in states) if states else None
        out, (h_n, c_n) = ours(x, hx)
        ref, (th_n, tc_n) = twin(tx, thx)
        outs, refs = [out, h_n, c_n], [ref, th_n, tc_n]
    else:
        hx = states[0][0] if states else None
        thx = states[0][1] if states else None
        out, h_n = ours(x, hx)
        ref, th_n = twin(tx, thx)
        outs, refs = [out, h_n], [ref, th_n]
    for o, r, what in zip(outs, refs, ("output", "h_n", "c_n")):
        assert_close(o, r, what)
    backward_both(outs, refs, rng)
    assert_close(x.grad, tx.grad, "input gradient")
    for k, (s, ts) in enumerate(states):
        assert_close(s.grad, ts.grad, f"gradient of initial state {k}")
    for (name, p), (tname, tp) in zip(ours.named_parameters(), twin.named_parameters()):
        assert name == tname
        assert p.grad is not None and p.grad.dtype == np.float64, name
        assert_close(p.grad, tp.grad, f"gradient of {name}")


# ----- parity: layers -----------------------------------------------------------------------------------

@pytest.mark.parametrize("kind", list(KINDS))
@pytest.mark.parametrize("num_layers", [1, 2, 3])
@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("bias, with_state", [(True, False), (True, True), (False, True), (False, False)])
def test_layer_parity(kind, num_layers, bidirectional, batch_first, bias, with_state):
    check_layer(kind, num_layers, bidirectional, batch_first, bias, with_state)


@pytest.mark.parametrize("kind", list(KINDS))
@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("with_state", [False, True])
def test_layer_parity_unbatched(kind, bidirectional, with_state):
    check_layer(kind, 2, bidirectional, batch_first=True, with_state=with_state, unbatched=True)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(kind=st.sampled_from(list(KINDS)), T=st.integers(1, 6), N=st.integers(1, 4), I=st.integers(1, 5),
       H=st.integers(1, 5), num_layers=st.integers(1, 2), bidirectional=st.booleans(), with_state=st.booleans(),
       seed=st.integers(0, 2**16))
def test_layer_parity_drawn_shapes(kind, T, N, I, H, num_layers, bidirectional, with_state, seed):
    check_layer(kind, num_layers, bidirectional, with_state=with_state, T=T, N=N, I=I, H=H, seed=seed)


@pytest.fixture
def threads(request):
    before = cr.get_num_threads()
    cr.set_num_threads(request.param)
    if cr.get_num_threads() != request.param:
        pytest.skip("NumPy's BLAS has no thread pool to set")
    yield request.param
    cr.set_num_threads(before)


@pytest.mark.parametrize("threads", [2, 3], indirect=True)
@pytest.mark.parametrize("kind", list(KINDS))
@pytest.mark.parametrize("N", [1, 2, 7])
@pytest.mark.parametrize("bidirectional, with_state", [(False, False), (True, True)])
def test_layer_parity_on_threads(threads, kind, N, bidirectional, with_state):
    """The time loops run on slices of the batch, one per thread (fewer slices than threads when N is
    small; uneven ones when N is not a multiple)."""
    check_layer(kind, 2, bidirectional, with_state=with_state, T=5, N=N)


@pytest.mark.parametrize("threads", [1, 2], indirect=True)
@pytest.mark.parametrize("kind", list(KINDS))
def test_saturated_gates(kind, threads):
    """Saturated gates (|pre-activation| ≫ 1, where e^(−x) overflows to inf) stay exact and warning-free,
    also in the worker threads (NumPy's error state is per thread)."""
    ours, twin = twins(KINDS, kind, 3, 4, num_layers=2)
    with torch.no_grad():
        for p in twin.parameters():
            p.mul_(40)
    ours.load_state_dict(twin.state_dict())
    x, tx = leaf_pair(np.random.default_rng(1).standard_normal((30, 2, 3)) * 20)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out, ref = ours(x), twin(tx)
        outs = [out[0], *out[1]] if kind == "lstm" else list(out)
        refs = [ref[0], *ref[1]] if kind == "lstm" else list(ref)
        for o, r in zip(outs, refs):
            assert_close(o, r, "output or final state")
        backward_both(outs, refs, np.random.default_rng(2))
    assert_close(x.grad, tx.grad, "input gradient")
    for (name, p), tp in zip(ours.named_parameters(), twin.parameters()):
        assert_close(p.grad, tp.grad, f"gradient of {name}")


@pytest.mark.parametrize("kind", list(KINDS))
def test_float32_matches_torch(kind):
    cr_cls, t_cls, extra = KINDS[kind]
    torch.manual_seed(0)
    twin = t_cls(4, 5, num_layers=2, bidirectional=True, **extra)
    ours = cr_cls(4, 5, num_layers=2, bidirectional=True, **extra)
    ours.load_state_dict(twin.state_dict())
    x = np.random.default_rng(0).standard_normal((6, 3, 4)).astype(np.float32)
    out = ours(cr.tensor(x))[0]
    ref = twin(torch.tensor(x))[0]
    assert out.dtype == np.float32
    np.testing.assert_allclose(out.data, ref.detach().numpy(), **TOL[np.float32])


# ----- parity: cells ------------------------------------------------------------------------------------

@pytest.mark.parametrize("kind", list(CELLS))
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("with_state", [False, True])
@pytest.mark.parametrize("unbatched", [False, True])
def test_cell_parity(kind, bias, with_state, unbatched):
    rng = np.random.default_rng(3)
    ours, twin = twins(CELLS, kind, 5, 4, bias=bias)
    x, tx = leaf_pair(normal((5,) if unbatched else (3, 5), rng))
    state_shape = (4,) if unbatched else (3, 4)
    states = [leaf_pair(normal(state_shape, rng)) for _ in range(2 if kind == "lstm" else 1)] if with_state else []
    if kind == "lstm":
        outs = list(ours(x, tuple(s[0] for s in states) if states else None))
        refs = list(twin(tx, tuple(s[1] for s in states) if states else None))
    else:
        outs = [ours(x, states[0][0] if states else None)]
        refs = [twin(tx, states[0][1] if states else None)]
    for o, r in zip(outs, refs):
        assert_close(o, r, "cell output")
    backward_both(outs, refs, rng)
    assert_close(x.grad, tx.grad, "input gradient")
    for k, (s, ts) in enumerate(states):
        assert_close(s.grad, ts.grad, f"gradient of state {k}")
    for (name, p), (tname, tp) in zip(ours.named_parameters(), twin.named_parameters()):
        assert name == tname
        assert_close(p.grad, tp.grad, f"gradient of {name}")


@pytest.mark.parametrize("kind", list(CELLS))
def test_cell_unrolled_equals_layer(kind):
    """A cell stepped over a sequence gives the one-layer module's output, with the same weights."""
    cell, _ = twins(CELLS, kind, 3, 4)
    layer_cls, _, extra = KINDS[kind]
    layer = layer_cls(3, 4, **extra, dtype=cr.float64)
    layer.load_state_dict({f"{k}_l0": v for k, v in cell.state_dict().items()})
    x = cr.tensor(np.random.default_rng(0).standard_normal((5, 2, 3)))
    out, _ = layer(x)
    state = None
    for t in range(5):
        state = cell(x[t], state)
        h = state[0] if kind == "lstm" else state
        np.testing.assert_allclose(h.data, out.data[t], **F64)


# ----- dropout ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("kind", list(KINDS))
def test_dropout_eval_equals_torch(kind):
    ours, twin = twins(KINDS, kind, 3, 4, num_layers=3, dropout=0.5, bidirectional=True)
    ours.eval()
    twin.eval()
    x = np.random.default_rng(0).standard_normal((5, 2, 3))
    assert_close(ours(cr.tensor(x))[0], twin(torch.tensor(x))[0], "eval output")


@pytest.mark.parametrize("kind", ["lstm", "gru"])
def test_dropout_one_in_training_equals_torch(kind):
    """p = 1 is deterministic on both sides: every layer but the first sees zeros, the output of the
    last layer is not dropped."""
    ours, twin = twins(KINDS, kind, 3, 4, num_layers=2, dropout=1.0)
    x = np.random.default_rng(0).standard_normal((5, 2, 3))
    out, ref = ours(cr.tensor(x))[0], twin(torch.tensor(x))[0]
    assert_close(out, ref, "training output with dropout=1")
    assert np.abs(out.data).max() > 0


def test_dropout_in_training_is_random_between_layers_only():
    cr.manual_seed(0)
    m = nn.LSTM(3, 8, num_layers=2, dropout=0.5, dtype=cr.float64)
    x = cr.tensor(np.random.default_rng(0).standard_normal((5, 4, 3)))
    a, b = m(x)[0].data, m(x)[0].data
    assert not np.allclose(a, b)  # fresh masks each call
    m.eval()
    np.testing.assert_array_equal(m(x)[0].data, m(x)[0].data)
    single = nn.LSTM(3, 8, num_layers=1, dtype=cr.float64)
    np.testing.assert_array_equal(single(x)[0].data, single(x)[0].data)


def test_dropout_with_one_layer_warns():
    with pytest.warns(UserWarning, match="num_layers=1"):
        nn.GRU(3, 4, dropout=0.2)


# ----- parameters, state dict, initialization, graph shape ---------------------------------------------

@pytest.mark.parametrize("kind", list(KINDS))
@pytest.mark.parametrize("bias", [True, False])
def test_parameter_names_shapes_and_order_match_torch(kind, bias):
    cr_cls, t_cls, extra = KINDS[kind]
    ours = cr_cls(3, 4, num_layers=2, bidirectional=True, bias=bias, **extra)
    twin = t_cls(3, 4, num_layers=2, bidirectional=True, bias=bias, **extra)
    assert [(n, tuple(p.shape)) for n, p in ours.named_parameters()] == \
        [(n, tuple(p.shape)) for n, p in twin.named_parameters()]
    assert list(ours.state_dict()) == list(twin.state_dict())
    assert len(ours.all_weights) == 4 and len(ours.all_weights[0]) == (4 if bias else 2)
    cell_cls, tcell_cls, extra = CELLS[kind]
    assert [(n, tuple(p.shape)) for n, p in cell_cls(3, 4, bias=bias, **extra).named_parameters()] == \
        [(n, tuple(p.shape)) for n, p in tcell_cls(3, 4, bias=bias, **extra).named_parameters()]


def test_lstm_from_torch_state_dict_gives_identical_outputs():
    """Interop: copy a torch LSTM's weights (its state dict, as torch saves it) into chainrule."""
    torch.manual_seed(0)
    twin = tnn.LSTM(10, 16, num_layers=2, batch_first=True, bidirectional=True)
    ours = nn.LSTM(10, 16, num_layers=2, batch_first=True, bidirectional=True)
    ours.load_state_dict({k: v.numpy() for k, v in twin.state_dict().items()})
    x = np.random.default_rng(0).standard_normal((4, 7, 10)).astype(np.float32)
    out, (h, c) = ours(cr.tensor(x))
    with torch.no_grad():
        ref, (th, tc) = twin(torch.tensor(x))
    for a, b in ((out, ref), (h, th), (c, tc)):
        np.testing.assert_allclose(a.data, b.numpy(), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("cls, gates", [(nn.RNN, 1), (nn.LSTM, 4), (nn.GRU, 3), (nn.RNNCell, 1), (nn.LSTMCell, 4),
                                        (nn.GRUCell, 3)])
def test_init_uniform_within_one_over_sqrt_hidden(cls, gates):
    cr.manual_seed(0)
    H = 64
    m = cls(32, H)
    bound = 1 / math.sqrt(H)
    values = np.concatenate([p.data.ravel() for p in m.parameters()])
    assert values.dtype == np.float32
    assert np.abs(values).max() <= bound
    assert abs(values.std() - bound / math.sqrt(3)) < 0.05 * bound  # U(−b, b) has std b/√3
    weight_ih = m.weight_ih_l0 if isinstance(m, RNNBase) else m.weight_ih
    assert weight_ih.shape == (gates * H, 32)


@pytest.mark.parametrize("kind, op", [("rnn_tanh", RNNSequence), ("lstm", LSTMSequence), ("gru", GRUSequence)])
def test_one_graph_node_per_layer_and_direction(kind, op):
    """BPTT is fused: the graph holds one sequence node per layer and direction, whatever T is (on the
    fast path a subclass of the reference op)."""
    m, _ = twins(KINDS, kind, 3, 4, num_layers=3, bidirectional=True)
    x = cr.tensor(np.random.default_rng(0).standard_normal((50, 2, 3)), requires_grad=True)
    out = m(x)[0]
    seen, stack, nodes = set(), [out], []
    while stack:
        t = stack.pop()
        if id(t) in seen or t._ctx is None:
            continue
        seen.add(id(t))
        nodes.append(type(t._ctx))
        stack.extend(i for i in t._ctx.inputs if isinstance(i, cr.Tensor))
    assert sum(issubclass(n, op) for n in nodes) == 6
    assert len(nodes) < 30


@pytest.mark.parametrize("kind", list(KINDS))
def test_backward_twice_with_retain_graph(kind):
    """A second backward through a retained graph accumulates exactly twice the first gradients (the fast
    kernels' backward reuses the saved activations' buffer for the gradients: the second recomputes them)."""
    m, _ = twins(KINDS, kind, 3, 4, num_layers=2, bidirectional=True)
    x = cr.tensor(np.random.default_rng(0).standard_normal((5, 2, 3)), requires_grad=True)
    out = m(x)[0]
    g = np.random.default_rng(1).standard_normal(out.shape)
    out.backward(g, retain_graph=True)
    first = [x.grad.data.copy()] + [p.grad.data.copy() for p in m.parameters()]
    out.backward(g)
    for a, b in zip(first, [x.grad.data] + [p.grad.data for p in m.parameters()]):
        np.testing.assert_allclose(b, 2 * a, rtol=1e-12, atol=1e-14)


def test_no_grad_records_nothing():
    m = nn.GRU(3, 4, num_layers=2)
    with cr.no_grad():
        out, h = m(cr.randn(5, 2, 3))
    assert out._ctx is None and not out.requires_grad and h._ctx is None


def test_repr():
    assert repr(nn.LSTM(3, 4)) == "LSTM(3, 4)"
    assert repr(nn.GRU(3, 4, num_layers=2, bias=False, batch_first=True, dropout=0.5, bidirectional=True)) == \
        "GRU(3, 4, num_layers=2, bias=False, batch_first=True, dropout=0.5, bidirectional=True)"
    assert repr(nn.RNN(3, 4, nonlinearity="relu")) == "RNN(3, 4, nonlinearity='relu')"
    assert repr(nn.LSTMCell(3, 4)) == "LSTMCell(3, 4)"
    assert repr(nn.RNNCell(3, 4, bias=False, nonlinearity="relu")) == "RNNCell(3, 4, bias=False, nonlinearity=relu)"


# ----- finite differences -------------------------------------------------------------------------------

def test_gradcheck_bidirectional_gru_module_input():
    m = nn.GRU(2, 3, num_layers=2, bidirectional=True, dtype=cr.float64)
    x = cr.tensor(np.random.default_rng(0).standard_normal((3, 2, 2)), requires_grad=True)
    h0 = cr.tensor(np.random.default_rng(1).standard_normal((4, 2, 3)), requires_grad=True)
    assert cr.gradcheck(lambda x, h0: m(x, h0)[0], [x, h0])


# ----- errors ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("cls", [nn.RNN, nn.LSTM, nn.GRU])
def test_wrong_input_features_names_layer_and_shape(cls):
    m = cls(5, 4)
    with pytest.raises(ValueError, match=rf"{cls.__name__}: input of shape \(7, 2, 3\) has 3 features, expected input_size=5"):
        m(cr.randn(7, 2, 3))


@pytest.mark.parametrize("cls", [nn.RNN, nn.LSTM, nn.GRU])
@pytest.mark.parametrize("shape", [(5,), (2, 3, 4, 5)])
def test_wrong_input_dims(cls, shape):
    with pytest.raises(ValueError, match=rf"{cls.__name__}: expected a 2-D .* 3-D input, got shape {re_shape(shape)}"):
        cls(5, 4)(cr.randn(*shape))


def re_shape(shape):
    return "\\" + str(tuple(shape)).replace(")", "\\)")


@pytest.mark.parametrize("bidirectional, batch_first, h_shape, expected", [
    (False, False, (1, 3, 4), (1, 2, 4)),  # batch mismatch
    (True, False, (1, 2, 4), (2, 2, 4)),  # bidirectional needs 2 states per layer
    (False, True, (1, 2, 5), (1, 3, 4)),  # batch_first: batch is dim 0 of the input
    (False, False, (2, 4), (1, 2, 4)),  # unbatched state for a batched input
])
def test_wrong_initial_state_shape(bidirectional, batch_first, h_shape, expected):
    m = nn.GRU(5, 4, bidirectional=bidirectional, batch_first=batch_first)
    x = cr.randn(3, 2, 5)
    with pytest.raises(ValueError, match=rf"GRU: hx of shape {re_shape(h_shape)} does not match the expected "
                                         rf"{re_shape(expected)} .* input of shape \(3, 2, 5\)"):
        m(x, cr.randn(*h_shape))


def test_lstm_state_errors():
    m = nn.LSTM(5, 4, num_layers=2)
    x = cr.randn(3, 2, 5)
    with pytest.raises(TypeError, match="LSTM: hx must be a tuple"):
        m(x, cr.zeros(2, 2, 4))
    with pytest.raises(ValueError, match=r"LSTM: c0 of shape \(2, 2, 3\) does not match the expected \(2, 2, 4\)"):
        m(x, (cr.zeros(2, 2, 4), cr.zeros(2, 2, 3)))


def test_dtype_mismatch():
    with pytest.raises(TypeError, match="LSTM: input dtype float64 differs from the weights' dtype float32"):
        nn.LSTM(3, 4)(cr.tensor(np.zeros((2, 1, 3))))
    with pytest.raises(TypeError, match="GRUCell: hx dtype float64"):
        nn.GRUCell(3, 4)(cr.zeros(2, 3), cr.tensor(np.zeros((2, 4))))


@pytest.mark.parametrize("cls", [nn.RNNCell, nn.LSTMCell, nn.GRUCell])
def test_cell_errors(cls):
    m = cls(5, 4)
    with pytest.raises(ValueError, match=rf"{cls.__name__}: input of shape \(2, 3\) has 3 features, expected input_size=5"):
        m(cr.randn(2, 3))
    with pytest.raises(ValueError, match=rf"{cls.__name__}: expected a 1-D .* or 2-D .* input, got shape \(1, 2, 5\)"):
        m(cr.randn(1, 2, 5))
    state = cr.randn(3, 4)
    with pytest.raises(ValueError, match=rf"{cls.__name__}: \w+ of shape \(3, 4\) does not match the expected \(2, 4\) "
                                         rf"for input of shape \(2, 5\)"):
        m(cr.randn(2, 5), (state, state) if cls is nn.LSTMCell else state)


@pytest.mark.parametrize("kwargs, match", [
    ({"dropout": 1.5}, "dropout should be a number in"),
    ({"dropout": -0.1}, "dropout should be a number in"),
    ({"num_layers": 0}, "num_layers must be a positive integer"),
    ({"hidden_size": 0}, "hidden_size must be a positive integer"),
    ({"nonlinearity": "sigmoid"}, "unknown nonlinearity 'sigmoid'"),
])
def test_constructor_errors(kwargs, match):
    args = {"input_size": 3, "hidden_size": 4, **kwargs}
    with pytest.raises(ValueError, match=match):
        nn.RNN(**args)


def test_proj_size_not_supported():
    with pytest.raises(NotImplementedError, match="proj_size"):
        nn.LSTM(3, 4, proj_size=2)
