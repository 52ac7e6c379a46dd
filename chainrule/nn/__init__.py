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
