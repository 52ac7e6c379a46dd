"""The nn modules added for torch's API breadth against torch's modules given the same weights: activations,
losses, Embedding/EmbeddingBag (init, padding row, from_pretrained, freeze), Bilinear, Unflatten, ChannelShuffle,
CosineSimilarity, PairwiseDistance, Dropout1d/3d, AlphaDropout, LocalResponseNorm, ParameterList/ParameterDict:
constructor defaults, repr, state_dict names, forward and gradients."""
import numpy as np
import pytest
import torch

import chainrule as cr
from chainrule import nn
from tests.parity import assert_parity

RNG = np.random.default_rng(0)
X = RNG.standard_normal((2, 6, 3, 2)) * 3

ACTIVATIONS = [
    ("SiLU", ()), ("SELU", ()), ("CELU", (0.5,)), ("ReLU6", ()), ("Hardtanh", (-2.0, 1.5)), ("Hardsigmoid", ()),
    ("Hardswish", ()), ("Mish", ()), ("Softsign", ()), ("LogSigmoid", ()), ("Softmin", (1,)), ("GLU", (1,)),
    ("Threshold", (0.1, 20)), ("Softmax2d", ()), ("Tanhshrink", ()), ("Softshrink", (0.7,)), ("Hardshrink", ()),
]


@pytest.mark.parametrize("name, args", ACTIVATIONS)
def test_activation_modules_like_torch(name, args):
    ours, theirs = getattr(nn, name)(*args), getattr(torch.nn, name)(*args)
    assert repr(ours) == repr(theirs)
    assert_parity(ours, theirs, X)


LOSSES = [
    ("HuberLoss", dict(delta=0.5), 2), ("KLDivLoss", dict(reduction="batchmean"), 2), ("PoissonNLLLoss", {}, 2),
    ("GaussianNLLLoss", dict(full=True), 3), ("MarginRankingLoss", dict(margin=0.2), 3),
    ("HingeEmbeddingLoss", {}, 2), ("CosineEmbeddingLoss", {}, 3), ("TripletMarginLoss", dict(swap=True), 3),
    ("MultiLabelSoftMarginLoss", {}, 2), ("SoftMarginLoss", dict(reduction="sum"), 2),
]


@pytest.mark.parametrize("name, kwargs, arity", LOSSES)
def test_loss_modules_like_torch(name, kwargs, arity):
    ours, theirs = getattr(nn, name)(**kwargs), getattr(torch.nn, name)(**kwargs)
    assert repr(theirs).startswith(type(ours).__name__)
    x, y, z = RNG.standard_normal((4, 5)), RNG.standard_normal((4, 5)), np.abs(RNG.standard_normal((4, 5))) + 0.1
    sign = np.where(RNG.standard_normal(4) > 0, 1.0, -1.0)
    args = {"MarginRankingLoss": (x[:, 0], y[:, 0], sign), "CosineEmbeddingLoss": (x, y, sign),
            "HingeEmbeddingLoss": (x, np.where(y > 0, 1.0, -1.0)), "MultiLabelSoftMarginLoss": (x, (y > 0) * 1.0),
            "KLDivLoss": (x, z), "PoissonNLLLoss": (x, z), "GaussianNLLLoss": (x, y, z)}.get(name, (x, y, z)[:arity])
    if name in ("SoftMarginLoss", "HingeEmbeddingLoss", "MultiLabelSoftMarginLoss"):  # torch: target without grad
        target = args[1]
        assert_parity(lambda a: ours(a, cr.tensor(target)), lambda a: theirs(a, torch.tensor(target)), args[0])
    else:
        assert_parity(ours, theirs, *args)


def test_triplet_margin_loss_rejects_non_positive_margin():
    with pytest.raises(ValueError, match="TripletMarginLoss: margin must be greater than 0, got 0"):
        nn.TripletMarginLoss(margin=0)


@pytest.mark.parametrize("kwargs", [{}, dict(padding_idx=0, max_norm=1.0), dict(padding_idx=-2)])
def test_embedding_module(kwargs):
    ours, theirs = nn.Embedding(10, 3, **kwargs), torch.nn.Embedding(10, 3, **kwargs)
    assert repr(ours) == repr(theirs) and list(ours.state_dict()) == list(theirs.state_dict())
    assert ours.weight.shape == (10, 3) and abs(ours.weight.data.std() - 1) < 0.5  # N(0, 1), as torch
    if ours.padding_idx is not None:
        np.testing.assert_array_equal(ours.weight.data[ours.padding_idx], 0)
    theirs.weight.data = torch.tensor(ours.weight.data.copy())
    idx = np.array([[1, 8, 8], [0, 3, 9]])
    ours_w, theirs_w = ours.weight, theirs.weight
    out, ref = ours(cr.tensor(idx)), theirs(torch.tensor(idx))
    np.testing.assert_allclose(out.data, ref.detach().numpy(), rtol=1e-6)
    g = RNG.standard_normal(out.shape).astype(np.float32)
    out.backward(g)
    ref.backward(torch.tensor(g))
    np.testing.assert_allclose(ours_w.grad.data, theirs_w.grad.numpy(), rtol=1e-6)


def test_embedding_from_pretrained_freeze():
    w = cr.tensor(RNG.standard_normal((4, 2)))
    frozen = nn.Embedding.from_pretrained(w)
    assert not frozen.weight.requires_grad and list(frozen.parameters())[0] is frozen.weight
    np.testing.assert_array_equal(frozen(cr.tensor([3, 0])).data, w.data[[3, 0]])
    trainable = nn.Embedding.from_pretrained(w, freeze=False, padding_idx=1)
    assert trainable.weight.requires_grad and trainable.padding_idx == 1
    bag = nn.EmbeddingBag.from_pretrained(w, mode="sum")
    assert not bag.weight.requires_grad
    np.testing.assert_allclose(bag(cr.tensor([[0, 1]])).data, w.data[[0]] + w.data[[1]])
    with pytest.raises(ValueError, match="Embedding.from_pretrained: embeddings must be a 2-D Tensor"):
        nn.Embedding.from_pretrained(cr.ones(3))


@pytest.mark.parametrize("mode", ["sum", "mean", "max"])
def test_embedding_bag_module(mode):
    ours, theirs = nn.EmbeddingBag(6, 3, mode=mode, padding_idx=2), torch.nn.EmbeddingBag(6, 3, mode=mode, padding_idx=2)
    assert repr(ours) == repr(theirs)
    theirs.weight.data = torch.tensor(ours.weight.data.copy())
    flat, offsets = np.array([1, 2, 5, 0, 2]), np.array([0, 2])
    np.testing.assert_allclose(ours(cr.tensor(flat), cr.tensor(offsets)).data,
                               theirs(torch.tensor(flat), torch.tensor(offsets)).detach().numpy(), rtol=1e-6)


@pytest.mark.parametrize("bias", [True, False])
def test_bilinear_module(bias):
    ours, theirs = nn.Bilinear(4, 5, 3, bias=bias, dtype=cr.float64), torch.nn.Bilinear(4, 5, 3, bias=bias)
    assert repr(ours) == repr(theirs) and list(ours.state_dict()) == list(theirs.state_dict())
    bound = 1 / np.sqrt(4)
    assert np.abs(ours.weight.data).max() <= bound and ours.weight.shape == (3, 4, 5)
    ref = theirs.double()
    ref.weight.data = torch.tensor(ours.weight.data)
    if bias:
        ref.bias.data = torch.tensor(ours.bias.data)
    assert_parity(ours, ref, RNG.standard_normal((2, 4)), RNG.standard_normal((2, 5)))


def test_shape_and_distance_modules():
    for ours, theirs, args in (
        (nn.Unflatten(1, (2, 3)), torch.nn.Unflatten(1, (2, 3)), (X.reshape(2, 6, 6),)),
        (nn.Unflatten(-1, (3, -1)), torch.nn.Unflatten(-1, (3, -1)), (X.reshape(2, 6, 6),)),
        (nn.ChannelShuffle(3), torch.nn.ChannelShuffle(3), (X,)),
        (nn.CosineSimilarity(dim=0), torch.nn.CosineSimilarity(dim=0), (X[0], X[1])),
        (nn.PairwiseDistance(p=1.0, keepdim=True), torch.nn.PairwiseDistance(p=1.0, keepdim=True), (X[0], X[1])),
        (nn.LocalResponseNorm(3, k=2.0), torch.nn.LocalResponseNorm(3, k=2.0), (X,)),
    ):
        assert repr(ours) == repr(theirs)
        assert_parity(ours, theirs, *args)


@pytest.mark.parametrize("name, shape", [("Dropout1d", (3, 4, 5)), ("Dropout3d", (2, 3, 2, 2, 2)), ("AlphaDropout", (3, 4)),
                                         ("FeatureAlphaDropout", (3, 4, 2))])
def test_dropout_modules(name, shape):
    ours = getattr(nn, name)(p=0.3)
    assert repr(ours) == repr(getattr(torch.nn, name)(p=0.3))
    x = cr.tensor(np.ones(shape))
    assert not np.array_equal(ours(x).data, x.data)  # training: something dropped or shifted
    assert ours.eval()(x) is x


def test_identity_accepts_any_arguments():
    m = nn.Identity(54, unused_argument1=0.1, unused_argument2=False)
    x = cr.ones(2)
    assert m(x) is x


def test_parameter_list_and_dict_register_like_torch():
    model, ref = nn.Module(), torch.nn.Module()
    model.layers = nn.ParameterList([nn.Parameter(cr.zeros(2, 3)), cr.ones(2)])
    model.table = nn.ParameterDict({"scale": nn.Parameter(cr.ones(1))})
    model.table["shift"] = cr.zeros(1)
    model.layers.append(cr.zeros(4))
    ref.layers = torch.nn.ParameterList([torch.nn.Parameter(torch.zeros(2, 3)), torch.ones(2), torch.zeros(4)])
    ref.table = torch.nn.ParameterDict({"scale": torch.nn.Parameter(torch.ones(1)), "shift": torch.zeros(1)})
    assert list(model.state_dict()) == list(ref.state_dict())
    assert [n for n, _ in model.named_parameters()] == [n for n, _ in ref.named_parameters()]
    assert all(isinstance(p, nn.Parameter) for p in model.parameters())
    assert len(model.layers) == 3 and model.layers[-1].shape == (4,) and "shift" in model.table
    assert list(model.table.keys()) == ["scale", "shift"] and model.table.pop("shift").shape == (1,)
    assert len(list(model.parameters())) == 4
    with pytest.raises(IndexError, match="ParameterList: index 3 out of range for 3 parameters"):
        model.layers[3]
    with pytest.raises(TypeError, match="ParameterList: entries must be Parameters or Tensors, got int"):
        model.layers.append(3)
