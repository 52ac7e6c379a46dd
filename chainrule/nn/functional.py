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
from ..ops.padding import pad

__all__ = [
    "adaptive_avg_pool2d", "adaptive_max_pool2d", "avg_pool1d", "avg_pool2d", "batch_norm", "binary_cross_entropy",
    "binary_cross_entropy_with_logits", "conv1d", "conv2d", "conv_transpose1d", "conv_transpose2d", "cross_entropy",
    "dropout", "dropout2d", "elu", "gelu",
    "global_avg_pool2d", "group_norm", "instance_norm", "l1_loss", "layer_norm", "leaky_relu", "linear",
    "log_softmax", "max_pool1d", "max_pool2d", "mse_loss", "nll_loss", "pad", "prelu", "relu", "rrelu", "sigmoid",
    "smooth_l1_loss", "softmax", "softplus", "tanh",
]

# ----- nn functional and modules (ops/activation.py, ops/loss.py, ops/embedding.py, ops/dropout.py) -----
from ..ops.activation import (  # noqa: E402
    celu, glu, hardshrink, hardsigmoid, hardswish, hardtanh, logsigmoid, mish, relu6, selu, silu, softmin,
    softshrink, softsign, tanhshrink, threshold,
)
from ..ops.distance import cosine_similarity, normalize, pairwise_distance  # noqa: E402
from ..ops.dropout import alpha_dropout, dropout1d, dropout3d, feature_alpha_dropout  # noqa: E402
from ..ops.embedding import embedding, embedding_bag, one_hot  # noqa: E402
from ..ops.loss import (  # noqa: E402
    cosine_embedding_loss, gaussian_nll_loss, hinge_embedding_loss, huber_loss, kl_div, margin_ranking_loss,
    multilabel_soft_margin_loss, poisson_nll_loss, soft_margin_loss, triplet_margin_loss,
)
from ..ops.misc import bilinear, channel_shuffle, local_response_norm  # noqa: E402

__all__ += [
    "celu", "glu", "hardshrink", "hardsigmoid", "hardswish", "hardtanh", "logsigmoid", "mish", "relu6", "selu", "silu",
    "softmin", "softshrink", "softsign", "tanhshrink", "threshold",
    "cosine_similarity", "normalize", "pairwise_distance", "alpha_dropout", "dropout1d", "dropout3d",
    "feature_alpha_dropout", "embedding", "embedding_bag", "one_hot", "cosine_embedding_loss", "gaussian_nll_loss",
    "hinge_embedding_loss", "huber_loss", "kl_div", "margin_ranking_loss", "multilabel_soft_margin_loss",
    "poisson_nll_loss", "soft_margin_loss", "triplet_margin_loss", "bilinear", "channel_shuffle", "local_response_norm",
]

# ----- attention (ops/attention.py) -----
from ..ops.attention import multi_head_attention_forward, scaled_dot_product_attention  # noqa: E402

__all__ += ["multi_head_attention_forward", "scaled_dot_product_attention"]

# ----- spatial ops (ops/padding.py, ops/spatial.py, ops/conv.py conv3d, ops/pool.py 3-D / unpool / lp) -----
from ..ops.conv import conv3d  # noqa: E402
from ..ops.pool import avg_pool3d, lp_pool1d, lp_pool2d, max_pool3d, max_unpool2d  # noqa: E402
from ..ops.spatial import (  # noqa: E402
    fold, interpolate, pixel_shuffle, pixel_unshuffle, unfold, upsample, upsample_bilinear, upsample_nearest,
)

__all__ += [
    "conv3d", "avg_pool3d", "lp_pool1d", "lp_pool2d", "max_pool3d", "max_unpool2d", "fold", "interpolate",
    "pixel_shuffle", "pixel_unshuffle", "unfold", "upsample", "upsample_bilinear", "upsample_nearest",
]
