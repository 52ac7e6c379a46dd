"""nn.MultiheadAttention, the Transformer encoder/decoder layers and stacks, and nn.Transformer against torch:
torch's state_dict loads as it is (same names and shapes), and with it the outputs and the gradients of every
parameter and input agree in float64 — masks (causal, key padding, bool and float), batch_first, unbatched,
pre-norm, gelu, no bias, train and eval with dropout 0. Plus torch's initialization, dropout in training,
float32, and the error paths."""
import itertools

import numpy as np
import pytest
import torch

import chainrule as cr
from chainrule import nn

rng = np.random.default_rng(0)
TOL = {"rtol": 1e-8, "atol": 1e-10}


def _twin(torch_module, ours):
    """Copy torch's state_dict into ours (float64 both); the names must be the same."""
    torch_module.double()
    ours.double()
    theirs = torch_module.state_dict()
    assert list(ours.state_dict()) == list(theirs)
    ours.load_state_dict(theirs)
    return torch_module, ours


def _compare(torch_module, ours, inputs, kwargs=None, pick=lambda out: out, train=False):
    """Outputs and the gradients of every parameter and float input equal to torch's."""
    kwargs = kwargs or {}
    torch_module.train(train)
    ours.train(train)
    t_in = [torch.tensor(a, requires_grad=True) for a in inputs]
    c_in = [cr.tensor(a, requires_grad=True) for a in inputs]
    t_kw = {k: None if v is None else torch.tensor(v) for k, v in kwargs.items()}
    c_kw = {k: None if v is None else cr.tensor(v) for k, v in kwargs.items()}
    t_out, c_out = pick(torch_module(*t_in, **t_kw)), pick(ours(*c_in, **c_kw))
    assert c_out.shape == tuple(t_out.shape)
    np.testing.assert_allclose(c_out.data, t_out.detach().numpy(), **TOL, err_msg="forward")
    g = rng.standard_normal(c_out.shape)
    t_out.backward(torch.tensor(g))
    c_out.backward(g)
    t_params = dict(torch_module.named_parameters())
    assert [n for n, _ in ours.named_parameters()] == list(t_params)
    for name, p in ours.named_parameters():
        np.testing.assert_allclose(p.grad.data, t_params[name].grad.numpy(), **TOL, err_msg=name)
    for i, (c, t) in enumerate(zip(c_in, t_in)):
        want = np.zeros(t.shape) if t.grad is None else t.grad.numpy()  # the weights do not depend on value
        got = np.zeros(c.shape) if c.grad is None else c.grad.data
        np.testing.assert_allclose(got, want, **TOL, err_msg=f"input {i}")


def _causal(n):
    return np.triu(np.full((n, n), -np.inf), 1)


def _padding(batch, length):
    kpm = np.zeros((batch, length), bool)
    kpm[-1, length // 2:] = True  # the last sequence is padded after half its length
    return kpm


# ----- MultiheadAttention ----------------------------------------------------------------------------------------
MHA_CASES = list(itertools.product([False, True], [True, False], [False, True], [True, False]))


@pytest.mark.parametrize(("batch_first", "need_weights", "average", "bias"), MHA_CASES)
def test_mha_self_attention_parity(batch_first, need_weights, average, bias):
    torch.manual_seed(0)
    t, c = _twin(torch.nn.MultiheadAttention(8, 2, bias=bias, batch_first=batch_first),
                 nn.MultiheadAttention(8, 2, bias=bias, batch_first=batch_first))
    L, N = 5, 3
    x = rng.standard_normal((N, L, 8) if batch_first else (L, N, 8))

    class SelfAttention(torch.nn.Module):  # the same tensor as query, key and value (one packed projection)
        def __init__(self, m):
            super().__init__()
            self.m = m

        def forward(self, x, **kw):
            return self.m(x, x, x, need_weights=need_weights, average_attn_weights=average, **kw)

    class Ours(nn.Module):
        def __init__(self, m):
            super().__init__()
            self.m = m

        def forward(self, x, **kw):
            return self.m(x, x, x, need_weights=need_weights, average_attn_weights=average, **kw)

    kwargs = {"attn_mask": _causal(L), "key_padding_mask": _padding(N, L)}
    _compare(SelfAttention(t), Ours(c), [x], kwargs, pick=lambda out: out[0])
    if need_weights:
        _compare(SelfAttention(t), Ours(c), [x], kwargs, pick=lambda out: out[1])
    else:
        assert c(cr.tensor(x), cr.tensor(x), cr.tensor(x), need_weights=False)[1] is None


@pytest.mark.parametrize(("kdim", "vdim", "add_bias_kv", "add_zero_attn"),
                         [(None, None, True, False), (None, None, False, True), (5, 3, False, False),
                          (5, 3, True, True), (8, 6, False, False)])
@pytest.mark.parametrize("mask", ["none", "bool", "float", "3d"])
def test_mha_cross_attention_parity(kdim, vdim, add_bias_kv, add_zero_attn, mask):
    torch.manual_seed(1)
    kw = {"kdim": kdim, "vdim": vdim, "add_bias_kv": add_bias_kv, "add_zero_attn": add_zero_attn}
    t, c = _twin(torch.nn.MultiheadAttention(8, 4, **kw), nn.MultiheadAttention(8, 4, **kw))
    L, S, N = 3, 6, 2
    q = rng.standard_normal((L, N, 8))
    k, v = rng.standard_normal((S, N, kdim or 8)), rng.standard_normal((S, N, vdim or 8))
    attn = {"none": None, "bool": rng.random((L, S)) < 0.3, "float": rng.standard_normal((L, S)),
            "3d": rng.standard_normal((N * 4, L, S))}[mask]
    if mask == "bool":
        attn[:, 0] = False
    kpm = None if mask == "bool" else rng.standard_normal((N, S))  # float padding mask: added to the scores
    _compare(t, c, [q, k, v], {"attn_mask": attn, "key_padding_mask": kpm}, pick=lambda out: out[0])


def test_mha_unbatched_parity():
    torch.manual_seed(2)
    t, c = _twin(torch.nn.MultiheadAttention(6, 3, batch_first=True), nn.MultiheadAttention(6, 3, batch_first=True))
    q, kv = rng.standard_normal((4, 6)), rng.standard_normal((5, 6))
    kwargs = {"key_padding_mask": np.array([False, False, True, False, True]), "attn_mask": rng.standard_normal((3, 4, 5))}
    _compare(t, c, [q, kv, kv], kwargs, pick=lambda out: out[0])
    _compare(t, c, [q, kv, kv], kwargs, pick=lambda out: out[1])


def test_mha_is_causal_uses_the_given_mask():
    torch.manual_seed(3)
    t, c = _twin(torch.nn.MultiheadAttention(4, 2), nn.MultiheadAttention(4, 2))
    x = rng.standard_normal((5, 2, 4))
    _compare(t, c, [x, x, x], {"attn_mask": _causal(5)}, pick=lambda out: out[0])
    ours = c(*(cr.tensor(x),) * 3, attn_mask=cr.tensor(_causal(5)), is_causal=True, need_weights=False)[0]
    theirs = t(*(torch.tensor(x),) * 3, attn_mask=torch.tensor(_causal(5)), is_causal=True, need_weights=False)[0]
    np.testing.assert_allclose(ours.data, theirs.detach().numpy(), **TOL)


def test_mha_parameter_names_shapes_and_torch_init():
    m = nn.MultiheadAttention(16, 4, add_bias_kv=True)
    t = torch.nn.MultiheadAttention(16, 4, add_bias_kv=True)
    assert [(n, p.shape) for n, p in m.named_parameters()] == [(n, tuple(p.shape)) for n, p in t.named_parameters()]
    bound = np.sqrt(6 / (16 + 48))  # Xavier-uniform over the packed (3E, E) matrix
    w = m.in_proj_weight.data
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.8 * bound
    assert np.all(m.in_proj_bias.data == 0) and np.all(m.out_proj.bias.data == 0)
    assert m.bias_k.shape == (1, 1, 16) and np.any(m.bias_k.data != 0)
    separate = nn.MultiheadAttention(16, 4, kdim=5, vdim=7, bias=False)
    assert {n: p.shape for n, p in separate.named_parameters()} == {
        "q_proj_weight": (16, 16), "k_proj_weight": (16, 5), "v_proj_weight": (16, 7), "out_proj.weight": (16, 16)}
    assert separate.in_proj_weight is None and separate.in_proj_bias is None
    assert repr(m).startswith("MultiheadAttention(")


def test_mha_dropout_in_training_only():
    cr.manual_seed(0)
    m = nn.MultiheadAttention(8, 2, dropout=0.5)
    x = cr.randn(4, 2, 8)
    m.eval()
    a, wa = m(x, x, x)
    b, _ = m(x, x, x)
    assert np.array_equal(a.data, b.data)
    np.testing.assert_allclose(wa.data.sum(-1), 1, rtol=1e-6)
    m.train()
    c, wc = m(x, x, x, average_attn_weights=False)
    assert not np.allclose(c.data, a.data)
    assert np.any(wc.data == 0)  # the returned weights are the dropped-out ones, as torch's


def test_mha_float32():
    m = nn.MultiheadAttention(8, 2)
    x = cr.randn(3, 2, 8)
    out, w = m(x, x, x)
    assert out.dtype == np.float32 and w.dtype == np.float32 and out.shape == (3, 2, 8) and w.shape == (2, 3, 3)


MHA_ERRORS = [
    (lambda m, x: m(x[0, 0], x[0, 0], x[0, 0]), AssertionError, "unbatched 2D or batched 3D .* 1-D"),
    (lambda m, x: m(x, x[0], x[0]), AssertionError, r"batched \(3-D\) query, expected key and value to be 3-D"),
    (lambda m, x: m(x, x, x, key_padding_mask=cr.zeros(2, 3, 5).bool()), AssertionError,
     "key_padding_mask to be None or 2-D"),
    (lambda m, x: m(x, x, x, attn_mask=cr.zeros(5, 5)), RuntimeError,
     r"shape of the 2D attn_mask is \(5, 5\), but should be \(3, 3\)"),
    (lambda m, x: m(x, x, x, attn_mask=cr.zeros(3, 3, 3)), RuntimeError,
     r"3D attn_mask is \(3, 3, 3\), but should be \(4, 3, 3\)"),
    (lambda m, x: m(x, x, x, key_padding_mask=cr.zeros(2, 4).bool()), AssertionError,
     r"key_padding_mask of shape \(2, 3\)"),
    (lambda m, x: m(x, x, x, attn_mask=cr.zeros(3, 3).long()), AssertionError, "only bool and floating types of attn_mask"),
    (lambda m, x: m(x, x, x, is_causal=True), RuntimeError, "need attn_mask if specifying the is_causal hint"),
    (lambda m, x: m(cr.randn(3, 2, 6), cr.randn(3, 2, 6), cr.randn(3, 2, 6)), AssertionError,
     "expecting embedding dimension of 8, but got 6"),
    (lambda m, x: m(x, x, x[:2]), AssertionError, r"key shape \(3, 2, 8\) does not match value shape \(2, 2, 8\)"),
    (lambda m, x: m(x.numpy(), x, x), TypeError, "query must be a Tensor"),
]


@pytest.mark.parametrize(("call", "error", "match"), MHA_ERRORS, ids=range(len(MHA_ERRORS)))
def test_mha_errors(call, error, match):
    with pytest.raises(error, match=match):
        call(nn.MultiheadAttention(8, 2), cr.randn(3, 2, 8))


@pytest.mark.parametrize(("args", "error", "match"), [((8, 3), AssertionError, "divisible by num_heads"),
                                                      ((0, 1), ValueError, "embed_dim must be a positive integer"),
                                                      ((8, 2.0), ValueError, "num_heads must be a positive")])
def test_mha_constructor_errors(args, error, match):
    with pytest.raises(error, match=match):
        nn.MultiheadAttention(*args)


# ----- encoder and decoder ---------------------------------------------------------------------------------------
LAYER_CASES = [{}, {"norm_first": True}, {"activation": "gelu", "batch_first": True}, {"bias": False},
               {"norm_first": True, "activation": "gelu", "layer_norm_eps": 1e-3, "batch_first": True}]


@pytest.mark.parametrize("options", LAYER_CASES, ids=[str(o) for o in LAYER_CASES])
@pytest.mark.parametrize("train", [False, True], ids=["eval", "train"])
def test_encoder_layer_parity(options, train):
    torch.manual_seed(0)
    t, c = _twin(torch.nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, **options),
                 nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, **options))
    S, N = 5, 3
    x = rng.standard_normal((N, S, 8) if options.get("batch_first") else (S, N, 8))
    _compare(t, c, [x], {"src_mask": _causal(S), "src_key_padding_mask": _padding(N, S).astype(np.float64) * -1e9},
             train=train)
    _compare(t, c, [x], {"src_key_padding_mask": _padding(N, S)}, train=train)


def test_encoder_layer_with_a_module_activation_and_unbatched():
    torch.manual_seed(1)
    t, c = _twin(torch.nn.TransformerEncoderLayer(6, 3, 12, dropout=0.0, activation=torch.nn.GELU(approximate="tanh")),
                 nn.TransformerEncoderLayer(6, 3, 12, dropout=0.0, activation=nn.GELU(approximate="tanh")))
    _compare(t, c, [rng.standard_normal((4, 6))], {"src_mask": _causal(4)})


@pytest.mark.parametrize("norm", [False, True])
def test_encoder_stack_parity(norm):
    torch.manual_seed(2)
    t_layer = torch.nn.TransformerEncoderLayer(8, 4, 16, dropout=0.0, batch_first=True)
    t = torch.nn.TransformerEncoder(t_layer, 3, norm=torch.nn.LayerNorm(8) if norm else None,
                                    enable_nested_tensor=False)
    c = nn.TransformerEncoder(nn.TransformerEncoderLayer(8, 4, 16, dropout=0.0, batch_first=True), 3,
                              norm=nn.LayerNorm(8) if norm else None)
    _twin(t, c)
    x = rng.standard_normal((2, 6, 8))
    _compare(t, c, [x], {"mask": _causal(6), "src_key_padding_mask": _padding(2, 6)}, train=True)


def test_encoder_layers_are_independent_copies():
    layer = nn.TransformerEncoderLayer(4, 2, 8)
    enc = nn.TransformerEncoder(layer, 2)
    a, b = enc.layers[0].linear1.weight, enc.layers[1].linear1.weight
    assert a is not b and a is not layer.linear1.weight
    assert len(list(enc.parameters())) == 2 * len(list(layer.parameters()))
    with pytest.raises(ValueError, match="num_layers must be a non-negative integer, got -1"):
        nn.TransformerEncoder(layer, -1)


@pytest.mark.parametrize("options", LAYER_CASES[:3], ids=[str(o) for o in LAYER_CASES[:3]])
def test_decoder_layer_parity(options):
    torch.manual_seed(3)
    t, c = _twin(torch.nn.TransformerDecoderLayer(8, 2, 16, dropout=0.0, **options),
                 nn.TransformerDecoderLayer(8, 2, 16, dropout=0.0, **options))
    T, S, N = 4, 5, 2
    first = options.get("batch_first")
    tgt = rng.standard_normal((N, T, 8) if first else (T, N, 8))
    memory = rng.standard_normal((N, S, 8) if first else (S, N, 8))
    kwargs = {"tgt_mask": _causal(T), "memory_mask": rng.standard_normal((T, S)),
              "tgt_key_padding_mask": _padding(N, T), "memory_key_padding_mask": _padding(N, S)}
    _compare(t, c, [tgt, memory], kwargs, train=True)


def test_decoder_stack_and_transformer_parity():
    torch.manual_seed(4)
    t = torch.nn.Transformer(8, 2, 2, 2, 16, dropout=0.0)
    c = nn.Transformer(8, 2, 2, 2, 16, dropout=0.0)
    _twin(t, c)
    src, tgt = rng.standard_normal((5, 2, 8)), rng.standard_normal((4, 2, 8))
    kwargs = {"tgt_mask": _causal(4), "src_key_padding_mask": _padding(2, 5),
              "memory_key_padding_mask": _padding(2, 5)}
    _compare(t, c, [src, tgt], kwargs, train=True)
    _compare(t.decoder, c.decoder, [tgt, src], {"tgt_mask": _causal(4)})


def test_transformer_init_and_mask_helper():
    m = nn.Transformer(16, 4, 1, 1, 32)
    assert {n for n, _ in m.named_parameters()} == {n for n, _ in torch.nn.Transformer(16, 4, 1, 1, 32)
                                                   .named_parameters()}
    w = m.encoder.layers[0].linear1.weight.data  # Xavier-uniform, not Linear's default
    assert np.abs(w).max() <= np.sqrt(6 / 48) and np.abs(w).max() > np.sqrt(1 / 16)
    mask = nn.Transformer.generate_square_subsequent_mask(4)
    np.testing.assert_array_equal(mask.data, torch.nn.Transformer.generate_square_subsequent_mask(4).numpy())
    assert mask.dtype == np.float32
    assert nn.Transformer.generate_square_subsequent_mask(3, dtype=cr.float64).dtype == np.float64
    with pytest.raises(RuntimeError, match="the feature number of src and tgt must be equal to d_model"):
        m(cr.randn(3, 2, 16), cr.randn(3, 2, 8))
    with pytest.raises(RuntimeError, match="the batch number of src and tgt must be equal"):
        m(cr.randn(3, 2, 16), cr.randn(3, 1, 16))


def test_layers_dropout_and_float32():
    cr.manual_seed(0)
    layer = nn.TransformerEncoderLayer(8, 2, 16, dropout=0.3)
    x = cr.randn(5, 2, 8)
    layer.eval()
    a, b = layer(x), layer(x)
    assert a.dtype == np.float32 and np.array_equal(a.data, b.data)
    layer.train()
    assert not np.allclose(layer(x).data, a.data)


def test_activation_errors():
    with pytest.raises(RuntimeError, match="activation should be relu/gelu, not tanh"):
        nn.TransformerEncoderLayer(8, 2, activation="tanh")
    with pytest.raises(TypeError, match="activation should be 'relu', 'gelu' or a callable, got int"):
        nn.TransformerDecoderLayer(8, 2, activation=3)
