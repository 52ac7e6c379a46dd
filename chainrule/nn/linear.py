"""The fully connected (affine) layer [note 000]: y = x Wᵀ + b; and the bilinear layer y_k = x₁ᵀ A_k x₂ + b_k."""
import math

from .. import creation
from ..ops.linalg import linear
from ..ops.misc import bilinear
from ..tensor import Tensor
from . import init
from .module import Module, Parameter


class Linear(Module):
    """y = x Wᵀ + b for x of shape (..., in_features); W (out_features, in_features), b (out_features,).

    PyTorch's default initialization: W ~ U(−1/√in, 1/√in) (kaiming_uniform_ with a = √5), b likewise.
    """

    def __init__(self, in_features, out_features, bias=True, dtype=None):
        super().__init__()
        if in_features <= 0 or out_features <= 0:
            raise ValueError(f"Linear: features must be positive, got in={in_features}, out={out_features}")
        self.in_features, self.out_features = in_features, out_features
        self.weight = Parameter(creation.empty(out_features, in_features, dtype=dtype))
        self.bias = Parameter(creation.empty(out_features, dtype=dtype)) if bias else None
        self.reset_parameters()

    def reset_parameters(self):
        """Draw W with ``kaiming_uniform_(a=√5)`` (so W ~ U(−1/√in, 1/√in)) and b ~ U(−1/√in, 1/√in), torch's default;
        called by the constructor."""
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            bound = 1 / math.sqrt(self.in_features)
            init.uniform_(self.bias, -bound, bound)

    def forward(self, x):
        """y = x Wᵀ + b [note 000]: x (..., in_features) → (..., out_features). Raises TypeError for a non-Tensor x,
        ValueError when x's last dim is not in_features."""
        if not isinstance(x, Tensor):
            raise TypeError(f"{self!r}: expected a Tensor input, got {type(x).__name__} (wrap arrays with chainrule.tensor)")
        if x.ndim == 0 or x.shape[-1] != self.in_features:
            raise ValueError(
                f"Linear({self.in_features}, {self.out_features}): expected input of shape (..., {self.in_features}), "
                f"got {x.shape}"
            )
        return linear(x, self.weight, self.bias)

    def extra_repr(self):
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"


class Bilinear(Module):
    """y_k = x₁ᵀ A_k x₂ + b_k: x₁ (..., in1_features), x₂ (..., in2_features) → (..., out_features);
    weight A (out_features, in1_features, in2_features), bias b (out_features,), both ~ U(−1/√in1, 1/√in1)
    as torch."""

    def __init__(self, in1_features, in2_features, out_features, bias=True, device=None, dtype=None):
        super().__init__()
        if min(in1_features, in2_features, out_features) <= 0:
            raise ValueError(f"Bilinear: features must be positive, got in1={in1_features}, in2={in2_features}, "
                             f"out={out_features}")
        self.in1_features, self.in2_features, self.out_features = in1_features, in2_features, out_features
        self.weight = Parameter(creation.empty(out_features, in1_features, in2_features, dtype=dtype))
        self.bias = Parameter(creation.empty(out_features, dtype=dtype)) if bias else None
        self.reset_parameters()

    def reset_parameters(self):
        """Draw A and b from U(−1/√in1, 1/√in1), torch's default; called by the constructor."""
        bound = 1 / math.sqrt(self.in1_features)
        init.uniform_(self.weight, -bound, bound)
        if self.bias is not None:
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input1, input2):
        """y_k = x₁ᵀ A_k x₂ + b_k: input1 (..., in1_features), input2 (..., in2_features), the same leading dims → (...,
        out_features)."""
        return bilinear(input1, input2, self.weight, self.bias)

    def extra_repr(self):
        return (f"in1_features={self.in1_features}, in2_features={self.in2_features}, "
                f"out_features={self.out_features}, bias={self.bias is not None}")
