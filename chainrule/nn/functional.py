"""The ``torch.nn.functional``-shaped namespace over ``chainrule.ops``."""
from ..ops.activation import log_softmax, relu, sigmoid, softmax, tanh
from ..ops.conv import conv1d, conv2d
from ..ops.dropout import dropout, dropout2d
from ..ops.linalg import linear
from ..ops.loss import cross_entropy, mse_loss
from ..ops.norm import batch_norm, group_norm, instance_norm, layer_norm
from ..ops.pool import (
    adaptive_avg_pool2d,
    adaptive_max_pool2d,
    avg_pool1d,
    avg_pool2d,
    global_avg_pool2d,
    max_pool1d,
    max_pool2d,
)
from ..ops.shape import pad

__all__ = [
    "adaptive_avg_pool2d", "adaptive_max_pool2d", "avg_pool1d", "avg_pool2d", "batch_norm", "conv1d", "conv2d",
    "cross_entropy", "dropout", "dropout2d", "global_avg_pool2d", "group_norm", "instance_norm", "layer_norm", "linear",
    "log_softmax", "max_pool1d", "max_pool2d", "mse_loss", "pad", "relu", "sigmoid", "softmax", "tanh",
]
