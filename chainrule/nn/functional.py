"""The ``torch.nn.functional``-shaped namespace over ``chainrule.ops``."""
from ..ops.activation import elu, gelu, leaky_relu, log_softmax, prelu, relu, rrelu, sigmoid, softmax, softplus, tanh
from ..ops.conv import conv1d, conv2d, conv_transpose1d, conv_transpose2d
from ..ops.dropout import dropout, dropout2d
from ..ops.linalg import linear
from ..ops.loss import (
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    cross_entropy,
    l1_loss,
    mse_loss,
    nll_loss,
    smooth_l1_loss,
)
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
    "adaptive_avg_pool2d", "adaptive_max_pool2d", "avg_pool1d", "avg_pool2d", "batch_norm", "binary_cross_entropy",
    "binary_cross_entropy_with_logits", "conv1d", "conv2d", "conv_transpose1d", "conv_transpose2d", "cross_entropy",
    "dropout", "dropout2d", "elu", "gelu",
    "global_avg_pool2d", "group_norm", "instance_norm", "l1_loss", "layer_norm", "leaky_relu", "linear",
    "log_softmax", "max_pool1d", "max_pool2d", "mse_loss", "nll_loss", "pad", "prelu", "relu", "rrelu", "sigmoid",
    "smooth_l1_loss", "softmax", "softplus", "tanh",
]
