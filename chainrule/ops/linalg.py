"""Matrix products: matmul (1-D, 2-D, batched with broadcasting) and the fused affine map of Linear."""
import numpy as np

from ..autograd import Function, unbroadcast
from ..tensor import Tensor
from .arithmetic import promote


class MatMul(Function):
    """out = a @ b;  da = g @ bᵀ, db = aᵀ @ g (1-D operands are promoted to matrices and back)."""

    def forward(self, a, b):
        self.a, self.b = a, b
        return np.matmul(a, b)

    def backward(self, g):
        a, b = self.a, self.b
        a2 = a[None, :] if a.ndim == 1 else a
        b2 = b[:, None] if b.ndim == 1 else b
        if b.ndim == 1:  # b's axis first: for vector · vector g is 0-d and becomes (1, 1)
            g = np.expand_dims(g, -1)
        if a.ndim == 1:
            g = np.expand_dims(g, -2)
        ga = gb = None
        if self.needs[0]:
            ga = np.matmul(g, np.swapaxes(b2, -1, -2))
            ga = unbroadcast(ga, a2.shape).reshape(a.shape)
        if self.needs[1]:
            if b2.ndim == 2 and a2.ndim > 2:  # a batch against one shared matrix: one big GEMM, no batch sum
                gb = a2.reshape(-1, a2.shape[-1]).T @ g.reshape(-1, g.shape[-1])
            else:
                gb = unbroadcast(np.matmul(np.swapaxes(a2, -1, -2), g), b2.shape)
            gb = gb.reshape(b.shape)
        return ga, gb


class Linear(Function):
    """out = x @ Wᵀ + b for x (..., in), W (out, in), b (out,);
    dx = g @ W, dW = gᵀ @ x, db = Σ g (summed over all leading dims)."""

    def forward(self, x, weight, bias):
        self.x, self.weight = x, weight
        out = x @ weight.T
        if bias is not None:
            out += bias
        return out

    def backward(self, g):
        x, w = self.x, self.weight
        gx = g @ w if self.needs[0] else None
        g2 = g.reshape(-1, g.shape[-1])
        gw = g2.T @ x.reshape(-1, x.shape[-1]) if self.needs[1] else None
        gb = g2.sum(axis=0) if self.needs[2] else None
        return gx, gw, gb


def matmul(a, b):
    """Matrix product with NumPy/PyTorch semantics for 1-D, 2-D and batched (broadcast) operands."""
    if not isinstance(a, Tensor) or not isinstance(b, Tensor):
        raise TypeError(f"matmul: expected two Tensors, got {type(a).__name__} and {type(b).__name__}")
    if a.ndim == 0 or b.ndim == 0:
        raise ValueError(f"matmul: both operands need at least 1 dim, got shapes {a.shape} and {b.shape}")
    k_a = a.shape[-1]
    k_b = b.shape[0] if b.ndim == 1 else b.shape[-2]
    if k_a != k_b:
        raise ValueError(f"matmul: shapes {a.shape} and {b.shape} cannot be multiplied ({k_a} != {k_b})")
    try:
        np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    except ValueError:
        raise ValueError(
            f"matmul: batch dims of shapes {a.shape} and {b.shape} are not broadcastable"
        ) from None
    if a.data.dtype != b.data.dtype:
        a, b = promote(a, b)
    return MatMul.apply(a, b)


def linear(x, weight, bias=None):
    """y = x Wᵀ + b, x of shape (..., in_features), W (out_features, in_features), b (out_features,)."""
    if not isinstance(x, Tensor) or not isinstance(weight, Tensor):
        raise TypeError(f"linear: input and weight must be Tensors, got {type(x).__name__} and {type(weight).__name__}")
    if x.ndim == 0 or x.shape[-1] != weight.shape[-1]:
        raise ValueError(
            f"linear: input of shape {x.shape} does not match weight of shape {weight.shape} "
            f"(expected input (..., {weight.shape[-1]}))"
        )
    if bias is not None and bias.shape != (weight.shape[0],):
        raise ValueError(f"linear: bias of shape {bias.shape} does not match {weight.shape[0]} output features")
    if x.data.dtype != weight.data.dtype:
        raise TypeError(f"linear: input dtype {x.dtype} differs from weight dtype {weight.dtype}")
    return Linear.apply(x, weight, bias)
