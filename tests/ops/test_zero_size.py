"""Empty batches (N = 0) through every layer and loss that torch runs on them: torch's output (an empty
tensor of the right shape; a loss's 'mean' is nan, its 'sum' 0), an empty input gradient and torch's
(zero) parameter gradients; running statistics as torch leaves them."""
import numpy as np
import pytest
import torch
import torch.nn as tnn
import torch.nn.functional as TF

import chainrule as cr
from chainrule import nn
from chainrule.nn import functional as F
from tests.parity import assert_parity

LAYERS = {  # name: (the layer, built from chainrule.nn or torch.nn, and its input shape)
    "conv2d": (lambda L: L.Conv2d(2, 3, 3), (0, 2, 5, 5)),
    "conv2d_stride2_padded": (lambda L: L.Conv2d(2, 3, 3, stride=2, padding=1), (0, 2, 5, 5)),
    "conv2d_1x1": (lambda L: L.Conv2d(2, 3, 1), (0, 2, 5, 5)),
    "conv2d_groups": (lambda L: L.Conv2d(4, 4, 3, padding=1, groups=2), (0, 4, 5, 5)),
    "conv1d": (lambda L: L.Conv1d(2, 3, 3), (0, 2, 7)),
    "max_pool2d": (lambda L: L.MaxPool2d(2), (0, 2, 4, 4)),
    "avg_pool2d": (lambda L: L.AvgPool2d(3, stride=2, padding=1), (0, 2, 5, 5)),
    "max_pool1d": (lambda L: L.MaxPool1d(2), (0, 2, 6)),
    "avg_pool1d": (lambda L: L.AvgPool1d(2), (0, 2, 6)),
    "adaptive_avg_pool2d": (lambda L: L.AdaptiveAvgPool2d(2), (0, 2, 5, 5)),
    "adaptive_max_pool2d": (lambda L: L.AdaptiveMaxPool2d(2), (0, 2, 5, 5)),
    "global_avg_pool2d": (lambda L: L.GlobalAvgPool2d() if L is nn else L.AdaptiveAvgPool2d(1), (0, 2, 5, 5)),
    "batch_norm2d_train": (lambda L: L.BatchNorm2d(3), (0, 3, 4, 4)),
    "batch_norm2d_eval": (lambda L: L.BatchNorm2d(3).eval(), (0, 3, 4, 4)),
    "batch_norm1d_train": (lambda L: L.BatchNorm1d(3), (0, 3)),
    "batch_norm1d_eval": (lambda L: L.BatchNorm1d(3).eval(), (0, 3)),
    "batch_norm1d_train_empty_length": (lambda L: L.BatchNorm1d(3), (2, 3, 0)),  # N > 0, still no values
    "layer_norm": (lambda L: L.LayerNorm(3), (0, 3)),
    "layer_norm_image": (lambda L: L.LayerNorm((2, 3, 3)), (0, 2, 3, 3)),
    "group_norm": (lambda L: L.GroupNorm(2, 4), (0, 4, 2, 2)),
    "instance_norm2d": (lambda L: L.InstanceNorm2d(3), (0, 3, 4, 4)),
    "linear": (lambda L: L.Linear(3, 2), (0, 3)),
    "relu": (lambda L: L.ReLU(), (0, 3)),
    "sigmoid": (lambda L: L.Sigmoid(), (0, 3)),
    "tanh": (lambda L: L.Tanh(), (0, 3)),
    "gelu": (lambda L: L.GELU(), (0, 3)),
    "leaky_relu": (lambda L: L.LeakyReLU(), (0, 3)),
    "elu": (lambda L: L.ELU(), (0, 3)),
    "softplus": (lambda L: L.Softplus(), (0, 3)),
    "prelu": (lambda L: L.PReLU(3), (0, 3, 2)),
    "softmax": (lambda L: L.Softmax(1), (0, 3)),
    "log_softmax": (lambda L: L.LogSoftmax(1), (0, 3)),
    "dropout": (lambda L: L.Dropout(0.5), (0, 3)),
    "dropout2d": (lambda L: L.Dropout2d(0.5), (0, 3, 2, 2)),
    "flatten": (lambda L: L.Flatten(), (0, 3, 2, 2)),
    "rnn": (lambda L: L.RNN(3, 4, batch_first=True), (0, 5, 3)),
    "lstm": (lambda L: L.LSTM(3, 4, batch_first=True), (0, 5, 3)),
    "gru": (lambda L: L.GRU(3, 4, batch_first=True), (0, 5, 3)),
    "lstm_two_layers_bidirectional": (lambda L: L.LSTM(3, 4, num_layers=2, bidirectional=True), (5, 0, 3)),
    "rnn_cell": (lambda L: L.RNNCell(3, 4), (0, 3)),
    "lstm_cell": (lambda L: L.LSTMCell(3, 4), (0, 3)),
    "gru_cell": (lambda L: L.GRUCell(3, 4), (0, 3)),
}


def outputs(result):
    """A layer's output tensors, flattened (an LSTM returns (output, (h, c)))."""
    if isinstance(result, (tuple, list)):
        return [t for r in result for t in outputs(r)]
    return [result]


def twins(make):
    """The chainrule layer and its torch twin, in float64, holding the same weights."""
    twin = make(tnn).double()
    layer = make(nn).to(cr.float64)
    layer.load_state_dict({k: v.numpy() for k, v in twin.state_dict().items()})
    return layer, twin


@pytest.mark.parametrize("name", sorted(LAYERS))
@pytest.mark.usefixtures("both_paths")
def test_empty_batch_through_layer_as_torch(name):
    make, shape = LAYERS[name]
    layer, twin = twins(make)
    x = cr.zeros(shape, dtype=cr.float64, requires_grad=True)
    xt = torch.zeros(shape, dtype=torch.float64, requires_grad=True)
    ours, theirs = outputs(layer(x)), outputs(twin(xt))
    assert [o.shape for o in ours] == [tuple(t.shape) for t in theirs]
    for o, t in zip(ours, theirs):
        np.testing.assert_array_equal(o.data, t.detach().numpy())
    sum(o.sum() for o in ours).backward()
    sum(t.sum() for t in theirs).backward()
    assert x.grad.shape == shape and x.grad.dtype == cr.float64
    for (k, p), (_, pt) in zip(layer.named_parameters(), twin.named_parameters()):
        assert p.grad is not None and p.grad.shape == p.shape, k
        np.testing.assert_array_equal(p.grad.data, pt.grad.numpy(), err_msg=k)
    for k, v in twin.state_dict().items():  # BatchNorm: running statistics untouched, the batch counted
        np.testing.assert_array_equal(layer.state_dict()[k].data, v.numpy(), err_msg=k)


def test_empty_batch_leaves_instance_norm_running_statistics():
    """torch's InstanceNorm averages the empty batch's statistics into nan running statistics; an empty
    batch leaves them as they are here, as BatchNorm does in both libraries."""
    layer = nn.InstanceNorm2d(3, affine=True, track_running_stats=True)
    layer.running_mean.data[...] = 0.5
    out = layer(cr.zeros(0, 3, 4, 4, requires_grad=True))
    out.sum().backward()
    assert out.shape == (0, 3, 4, 4)
    np.testing.assert_array_equal(layer.running_mean.data, [0.5] * 3)
    np.testing.assert_array_equal(layer.running_var.data, [1.0] * 3)
    np.testing.assert_array_equal(layer.weight.grad.data, [0.0] * 3)


def test_empty_sequence_is_still_refused_as_torch():
    with pytest.raises(RuntimeError, match="Expected sequence length to be larger than 0"):
        tnn.LSTM(3, 4)(torch.zeros(0, 2, 3))
    with pytest.raises(ValueError, match=r"LSTM: expected a sequence of length > 0, got input of shape \(0, 2, 3\)"):
        nn.LSTM(3, 4)(cr.zeros(0, 2, 3))


def test_empty_batch_with_initial_state():
    layer, twin = twins(lambda L: L.GRU(3, 4))
    assert_parity(lambda x, h: layer(x, h)[0], lambda x, h: twin(x, h)[0], np.zeros((5, 0, 3)), np.zeros((1, 0, 4)))


def test_empty_batch_still_refuses_a_single_value_per_channel_in_training():
    with pytest.raises(ValueError, match="Expected more than 1 value per channel"):
        tnn.BatchNorm1d(3)(torch.zeros(1, 3))
    with pytest.raises(ValueError, match=r"batch_norm: expected more than 1 value per channel when training"):
        nn.BatchNorm1d(3)(cr.zeros(1, 3))


LOSSES = {  # name: (chainrule's, torch's, input, target)
    "cross_entropy": (F.cross_entropy, TF.cross_entropy, np.zeros((0, 3)), np.zeros(0, dtype=np.int64)),
    "cross_entropy_spatial": (F.cross_entropy, TF.cross_entropy, np.zeros((0, 3, 2, 2)),
                              np.zeros((0, 2, 2), dtype=np.int64)),
    "cross_entropy_probabilities": (F.cross_entropy, TF.cross_entropy, np.zeros((0, 3)), np.zeros((0, 3))),
    "nll_loss": (F.nll_loss, TF.nll_loss, np.zeros((0, 3)), np.zeros(0, dtype=np.int64)),
    "mse_loss": (F.mse_loss, TF.mse_loss, np.zeros((0, 3)), np.zeros((0, 3))),
    "l1_loss": (F.l1_loss, TF.l1_loss, np.zeros((0, 3)), np.zeros((0, 3))),
    "smooth_l1_loss": (F.smooth_l1_loss, TF.smooth_l1_loss, np.zeros((0, 3)), np.zeros((0, 3))),
    "binary_cross_entropy": (F.binary_cross_entropy, TF.binary_cross_entropy, np.zeros((0, 3)), np.zeros((0, 3))),
    "binary_cross_entropy_with_logits": (F.binary_cross_entropy_with_logits, TF.binary_cross_entropy_with_logits,
                                         np.zeros((0, 3)), np.zeros((0, 3))),
}


@pytest.mark.filterwarnings("error")  # no "mean of empty slice" or division warnings either
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("name", sorted(LOSSES))
def test_empty_batch_loss_as_torch(name, reduction):
    ours, theirs, x, y = LOSSES[name]
    out = assert_parity(lambda a, b: ours(a, b, reduction=reduction), lambda a, b: theirs(a, b, reduction=reduction),
                        x, y)
    if reduction != "none":  # (assert_parity compared the shapes)
        np.testing.assert_array_equal(out.data, np.nan if reduction == "mean" else 0.0)
