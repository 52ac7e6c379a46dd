"""Norms and distances between vectors along one dim: normalize, cosine_similarity, pairwise_distance
(torch.nn.functional's), with the p-norm they share and torch's gradients where a norm is 0."""
import numpy as np

from ..autograd import Function, constant, unbroadcast
from ..dtypes import check_floating, get_default_dtype, result_type
from ..tensor import Tensor
from .arithmetic import sign_array, where
from .reduce import normalize_dims


class Norm(Function):
    """The p-norm along ``axis``: ‖x‖_p = (Σ|x|^p)^(1/p); ∞: max|x|; 0: the count of non-zeros.
    dx = g·sign(x)·|x|^(p−1)/‖x‖^(p−1) (p = 2: g·x/‖x‖; p = 1: g·sign x), 0 where x = 0 or ‖x‖ = 0 (torch's);
    ∞: g·sign x split evenly among the entries of largest |x|; p = 0: 0."""

    def forward(self, x, *, p, axis, keepdim):
        a = np.abs(x)
        if p == np.inf:
            out = np.max(a, axis=axis, keepdims=True)
        elif p == 0:
            out = np.sum(x != 0, axis=axis, keepdims=True).astype(x.dtype)
        elif p == 1:
            out = np.sum(a, axis=axis, keepdims=True)
        elif p == 2:
            out = np.sqrt(np.sum(x * x, axis=axis, keepdims=True))
        else:
            out = np.sum(a**p, axis=axis, keepdims=True) ** (1 / p)
        self.x, self.out, self.p, self.axis, self.keepdim = x, out, p, axis, keepdim
        return out if keepdim else np.squeeze(out, axis)

    def backward(self, g):
        x, out, p = self.x, self.out, self.p
        g = g if self.keepdim else np.expand_dims(g, self.axis)
        if p == 0:
            return (np.zeros_like(x),)
        if p == 1:
            return (g * np.sign(x),)
        with np.errstate(divide="ignore", invalid="ignore"):
            if p == np.inf:
                top = np.abs(x) == out
                dx = g * np.sign(x) * top / np.sum(top, axis=self.axis, keepdims=True)
            elif p == 2:
                dx = g * x / out
            else:
                dx = np.where(x == 0, 0, g * np.sign(x) * np.abs(x) ** (p - 1) / out ** (p - 1))
        return (np.where(out == 0, 0, dx).astype(x.dtype, copy=False),)

    def backward_graph(self, g):
        (x,) = self.inputs
        x_data, out_data, p = self.x, self.out, self.p
        g = g if self.keepdim else g.unsqueeze(self.axis)
        if p == 0:
            return (g * constant(np.zeros(x.shape), g),)
        if p == 1:
            return (g * constant(sign_array(x_data), g),)
        if p == np.inf:
            top = np.abs(x_data) == out_data
            return (g * constant(sign_array(x_data) * top / np.sum(top, axis=self.axis, keepdims=True), g),)
        out = Norm.apply(x, p=p, axis=self.axis, keepdim=True)
        empty = out_data == 0  # the gradient is 0 there (and at x = 0 for p ≠ 2); safe 1s keep NaN out of all orders
        safe_out = where(empty, 1.0, out)
        if p == 2:
            return (where(empty, 0.0, g * x / safe_out),)
        scaled = x * where(x_data == 0, 1.0, x.abs()) ** (p - 2)  # sign(x)·|x|^(p−1)
        return (where(empty | (x_data == 0), 0.0, g * scaled / safe_out ** (p - 1)),)


class CosineSimilarity(Function):
    """cos = Σ (x₁/n₁)·(x₂/n₂) along ``axis``, n = max(‖x‖₂, eps), x₁ and x₂ broadcast to one shape. As torch,
    the clamp at eps passes the gradient on unchanged: dx₁ = g/n₁·(x₂/n₂ − cos·x₁/‖x₁‖) (the second term
    0 where ‖x₁‖ = 0), and symmetrically for x₂."""

    def forward(self, x1, x2, *, axis, eps):
        self.shapes = x1.shape, x2.shape
        x1, x2 = np.broadcast_arrays(x1, x2)
        norms = [np.sqrt(np.sum(x * x, axis=axis, keepdims=True)) for x in (x1, x2)]
        self.x, self.norms, self.axis = (x1, x2), norms, axis
        self.n = [np.maximum(n, eps) for n in norms]
        self.u = (x1 / self.n[0], x2 / self.n[1])
        self.cos = np.sum(self.u[0] * self.u[1], axis=axis, keepdims=True)
        return np.squeeze(self.cos, axis)

    def backward(self, g):
        g = np.expand_dims(g, self.axis)
        grads = []
        for i in (0, 1):
            if not self.needs[i]:
                grads.append(None)
                continue
            x, norm, n, other = self.x[i], self.norms[i], self.n[i], self.u[1 - i]
            with np.errstate(divide="ignore", invalid="ignore"):
                direction = np.where(norm == 0, 0, x / norm)
            grads.append(unbroadcast(g / n * (other - self.cos * direction), self.shapes[i]))
        return tuple(grads)

    def decomposition(self, x1, x2, *, axis, eps):
        shape = np.broadcast_shapes(x1.shape, x2.shape)
        units = []
        for x in (x1.expand(*shape), x2.expand(*shape)):
            norm = Norm.apply(x, p=2.0, axis=axis, keepdim=True)
            clamped = norm + Tensor(np.maximum(norm.data, eps) - norm.data)  # max(‖x‖, eps), ‖x‖'s gradient (torch's)
            units.append(x / clamped)
        return (units[0] * units[1]).sum(axis)


def _float_tensor(x, op, what):
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}: {what} must be a Tensor, got {type(x).__name__}")
    return x


def _norm(x, p, dim, keepdim, op):
    check_floating(x.data.dtype, op, "input")
    axis = normalize_dims(dim, x.shape, op)[0] if x.ndim else None
    if x.ndim == 0:
        x, axis = x.reshape(1), 0
    return Norm.apply(x, p=float(p), axis=axis, keepdim=keepdim)


def normalize(input, p=2.0, dim=1, eps=1e-12, out=None):
    """x / max(‖x‖_p, eps) along ``dim``: each vector scaled to unit p-norm (a tiny one is divided by eps)."""
    op = "normalize"
    _float_tensor(input, op, "input")
    if out is not None:
        raise TypeError(f"{op}: out= is not supported (chainrule ops never write into a given tensor)")
    return input / _norm(input, p, dim, True, op).clamp(min=eps)


def cosine_similarity(x1, x2, dim=1, eps=1e-8):
    """Cosine of the angle between x₁ and x₂ (broadcast together) along ``dim``: Σx₁x₂ / (‖x₁‖·‖x₂‖), each norm
    clamped at ``eps``. Integer inputs give the default float dtype, as in torch."""
    op = "cosine_similarity"
    x1, x2 = _float_tensor(x1, op, "x1"), _float_tensor(x2, op, "x2")
    dt = result_type(x1.data.dtype, x2.data.dtype)
    dt = dt if dt.kind == "f" else get_default_dtype()
    x1, x2 = x1.to(dt), x2.to(dt)
    try:
        shape = np.broadcast_shapes(x1.shape, x2.shape)
    except ValueError:
        raise ValueError(f"{op}: x1 of shape {x1.shape} and x2 of shape {x2.shape} do not broadcast") from None
    axis = normalize_dims(dim, shape, op)[0]
    return CosineSimilarity.apply(x1, x2, axis=axis, eps=eps)


def pairwise_distance(x1, x2, p=2.0, eps=1e-6, keepdim=False):
    """‖x₁ − x₂ + eps‖_p along the last dim (x₁, x₂ broadcast): the distance between matching rows."""
    op = "pairwise_distance"
    x1, x2 = _float_tensor(x1, op, "x1"), _float_tensor(x2, op, "x2")
    diff = x1 - x2 + eps
    if diff.ndim == 0:
        raise ValueError(f"{op}: expected inputs of at least 1 dim, got shapes {x1.shape} and {x2.shape}")
    return _norm(diff, p, -1, keepdim, op)
