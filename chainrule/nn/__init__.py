"""Layers and models' building blocks, with the ``torch.nn`` contract."""
from . import functional, init
from .activation import LogSoftmax, ReLU, Sigmoid, Softmax, Tanh
from .linear import Linear
from .loss import CrossEntropyLoss, MSELoss
from .module import Flatten, Identity, Module, ModuleDict, ModuleList, Parameter, Sequential

__all__ = [
    "CrossEntropyLoss", "Flatten", "Identity", "Linear", "LogSoftmax", "MSELoss", "Module", "ModuleDict",
    "ModuleList", "Parameter", "ReLU", "Sequential", "Sigmoid", "Softmax", "Tanh", "functional", "init",
]
