"""Layers and models' building blocks, with the ``torch.nn`` contract."""
from ..ops.geometry import conv_output_size, resolve_padding, same_padding
from . import functional, init
from . import utils
from .activation import ELU, GELU, LeakyReLU, LogSoftmax, PReLU, ReLU, RReLU, Sigmoid, Softmax, Softplus, Tanh
from .conv import Conv1d, Conv2d, ConvTranspose1d, ConvTranspose2d, receptive_field
from .dropout import Dropout, Dropout2d
from .linear import Linear
from .loss import BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, L1Loss, MSELoss, NLLLoss, SmoothL1Loss
from .module import Flatten, Identity, Module, ModuleDict, ModuleList, Parameter, Sequential
from .normalization import BatchNorm1d, BatchNorm2d, GroupNorm, InstanceNorm1d, InstanceNorm2d, LayerNorm
from .pooling import (
    AdaptiveAvgPool2d,
    AdaptiveMaxPool2d,
    AvgPool1d,
    AvgPool2d,
    GlobalAvgPool2d,
    MaxPool1d,
    MaxPool2d,
)
from .recurrent import GRU, LSTM, RNN, GRUCell, LSTMCell, RNNCell

__all__ = [
    "BCELoss", "BCEWithLogitsLoss", "ELU", "GELU", "L1Loss", "LeakyReLU", "NLLLoss", "PReLU", "RReLU", "SmoothL1Loss",
    "Softplus",
    "AdaptiveAvgPool2d", "AdaptiveMaxPool2d", "AvgPool1d", "AvgPool2d", "BatchNorm1d", "BatchNorm2d", "Conv1d", "Conv2d",
    "ConvTranspose1d", "ConvTranspose2d",
    "CrossEntropyLoss", "Dropout", "Dropout2d", "GroupNorm", "InstanceNorm1d", "InstanceNorm2d", "LayerNorm",
    "Flatten", "GlobalAvgPool2d", "Identity", "Linear", "LogSoftmax", "MSELoss", "MaxPool1d", "MaxPool2d", "Module",
    "ModuleDict", "ModuleList", "Parameter", "ReLU", "Sequential", "Sigmoid", "Softmax", "Tanh", "conv_output_size",
    "functional", "init", "receptive_field", "resolve_padding", "same_padding",
    "GRU", "GRUCell", "LSTM", "LSTMCell", "RNN", "RNNCell",
]

# ----- nn functional and modules (activations, losses, embeddings, dropout, misc layers) -----
from .activation import (  # noqa: E402
    CELU, GLU, SELU, Hardshrink, Hardsigmoid, Hardswish, Hardtanh, LogSigmoid, Mish, ReLU6, SiLU, Softmax2d, Softmin,
    Softshrink, Softsign, Tanhshrink, Threshold,
)
from .dropout import AlphaDropout, Dropout1d, Dropout3d, FeatureAlphaDropout  # noqa: E402
from .linear import Bilinear  # noqa: E402
from .loss import (  # noqa: E402
    CosineEmbeddingLoss, GaussianNLLLoss, HingeEmbeddingLoss, HuberLoss, KLDivLoss, MarginRankingLoss,
    MultiLabelSoftMarginLoss, PoissonNLLLoss, SoftMarginLoss, TripletMarginLoss,
)
from .misc import ChannelShuffle, CosineSimilarity, PairwiseDistance, Unflatten  # noqa: E402
from .module import ParameterDict, ParameterList  # noqa: E402
from .normalization import LocalResponseNorm  # noqa: E402
from .sparse import Embedding, EmbeddingBag  # noqa: E402

__all__ += [
    "CELU", "GLU", "SELU", "Hardshrink", "Hardsigmoid", "Hardswish", "Hardtanh", "LogSigmoid", "Mish", "ReLU6", "SiLU",
    "Softmax2d", "Softmin", "Softshrink", "Softsign", "Tanhshrink", "Threshold",
    "AlphaDropout", "Dropout1d", "Dropout3d", "FeatureAlphaDropout", "Bilinear", "CosineEmbeddingLoss",
    "GaussianNLLLoss", "HingeEmbeddingLoss", "HuberLoss", "KLDivLoss", "MarginRankingLoss", "MultiLabelSoftMarginLoss",
    "PoissonNLLLoss", "SoftMarginLoss", "TripletMarginLoss", "ChannelShuffle", "CosineSimilarity", "PairwiseDistance",
    "Unflatten", "ParameterDict", "ParameterList", "LocalResponseNorm", "Embedding", "EmbeddingBag",
]

# ----- attention (ops/attention.py, nn/transformer.py) -----
from .transformer import (  # noqa: E402
    MultiheadAttention, Transformer, TransformerDecoder, TransformerDecoderLayer, TransformerEncoder,
    TransformerEncoderLayer,
)

__all__ += [
    "MultiheadAttention", "Transformer", "TransformerDecoder", "TransformerDecoderLayer", "TransformerEncoder",
    "TransformerEncoderLayer",
]

# ----- spatial ops (nn/padding.py, nn/upsampling.py, nn/fold.py, nn/pixelshuffle.py, 3-D conv and pooling) -----
from .conv import Conv3d  # noqa: E402
from .fold import Fold, Unfold  # noqa: E402
from .padding import (  # noqa: E402
    CircularPad1d, CircularPad2d, CircularPad3d, ConstantPad1d, ConstantPad2d, ConstantPad3d, ReflectionPad1d,
    ReflectionPad2d, ReflectionPad3d, ReplicationPad1d, ReplicationPad2d, ReplicationPad3d, ZeroPad1d, ZeroPad2d,
    ZeroPad3d,
)
from .pixelshuffle import PixelShuffle, PixelUnshuffle  # noqa: E402
from .pooling import AvgPool3d, LPPool1d, LPPool2d, MaxPool3d, MaxUnpool2d  # noqa: E402
from .upsampling import Upsample, UpsamplingBilinear2d, UpsamplingNearest2d  # noqa: E402

__all__ += [
    "Conv3d", "Fold", "Unfold", "CircularPad1d", "CircularPad2d", "CircularPad3d", "ConstantPad1d", "ConstantPad2d",
    "ConstantPad3d", "ReflectionPad1d", "ReflectionPad2d", "ReflectionPad3d", "ReplicationPad1d", "ReplicationPad2d",
    "ReplicationPad3d", "ZeroPad1d", "ZeroPad2d", "ZeroPad3d", "PixelShuffle", "PixelUnshuffle", "AvgPool3d",
    "LPPool1d", "LPPool2d", "MaxPool3d", "MaxUnpool2d", "Upsample", "UpsamplingBilinear2d", "UpsamplingNearest2d",
]
