"""The multilayer perceptron [note 000]: Linear → (norm) → activation → (dropout), repeated."""
import itertools
import math

from .. import nn
from .registry import register_model

_ACTIVATIONS = {"relu": nn.ReLU, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid}
_NORMS = {"batch": nn.BatchNorm1d, "layer": nn.LayerNorm}


class MLP(nn.Sequential):
    """A fully connected classifier/regressor over flattened inputs (N, *) → (N, sizes[-1]).

    Layers are numbered as in ``nn.Sequential``: ``0`` is the Flatten, then for each hidden layer
    Linear, the optional norm, the activation and the optional Dropout; the last Linear has none of them.
    """

    def __init__(self, sizes, activation="relu", norm=None, dropout=0.0):
        sizes = [int(s) for s in sizes]
        if len(sizes) < 2 or min(sizes) <= 0:
            raise ValueError(f"mlp: sizes must list at least an input and an output size, all positive, got {sizes}")
        if isinstance(activation, str):
            if activation not in _ACTIVATIONS:
                raise ValueError(f"mlp: activation must be one of {sorted(_ACTIVATIONS)} or a Module class, "
                                 f"got {activation!r}")
            activation = _ACTIVATIONS[activation]
        if norm is not None and norm not in _NORMS:
            raise ValueError(f"mlp: norm must be None, 'batch' or 'layer', got {norm!r}")
        if not 0 <= dropout < 1:
            raise ValueError(f"mlp: dropout must be in [0, 1), got {dropout}")
        layers = [nn.Flatten()]
        for fan_in, fan_out in itertools.pairwise(sizes[:-1]):
            layers.append(nn.Linear(fan_in, fan_out))
            if norm is not None:
                layers.append(_NORMS[norm](fan_out))
            layers.append(activation())
            if dropout:
                layers.append(nn.Dropout(dropout))
        layers.append(nn.Linear(sizes[-2], sizes[-1]))
        super().__init__(*layers)
        self.sizes = sizes

    def forward(self, x):
        if x.ndim < 2 or math.prod(x.shape[1:]) != self.sizes[0]:
            raise ValueError(f"mlp: expected input (N, {self.sizes[0]}) or (N, ...) with {self.sizes[0]} features "
                             f"per sample, got shape {x.shape}")
        return super().forward(x)


@register_model
def mlp(sizes, activation="relu", norm=None, dropout=0.0):
    """``mlp([784, 256, 10])``: sizes = [inputs, hidden..., outputs]; ``activation`` 'relu' | 'tanh' |
    'sigmoid' or a Module class; ``norm`` None | 'batch' | 'layer' (after each hidden Linear);
    ``dropout``: p after each hidden activation."""
    return MLP(sizes, activation, norm, dropout)
