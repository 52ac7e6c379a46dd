"""Normalization [note 001, note 003]: standardize over some axes, then scale by γ and shift by β.

BatchNorm normalizes each channel over (N, H, W); LayerNorm each sample over its trailing dims
(for images all of C, H, W); InstanceNorm each (sample, channel) over (H, W); GroupNorm each
(sample, group of channels). They differ only in the axes, so one op serves them all:

    μ = mean(x),  σ² = mean((x − μ)²),  x̂ = (x − μ)/√(σ² + ε),  y = γ·x̂ + β   (means over the axes)

Its backward is the batch-normalization paper's chain rule (Ioffe & Szegedy 2015, section 3), written
out in ``Normalize``. In evaluation BatchNorm uses fixed running statistics instead, and is then one
linear map per channel (``ChannelAffine``). The fast kernels: ``chainrule/kernels/norm.py``.
"""
import math

import numpy as np

from .. import runtime
from ..autograd import Function, no_grad, to_inputs, unbroadcast
from ..tensor import Tensor


class Normalize(Function):
    """Normalization over ``axes`` (a tuple of dims of x) [note 001, note 003: batch normalization]:

        μ = mean of x over axes,  σ² = mean of (x − μ)² (biased),  x̂ = (x − μ)/√(σ² + ε),  y = γ·x̂ + β

    Shapes: x any; γ and β (each optional, None) broadcast against x — (1, C, 1, 1) for BatchNorm2d, the
    normalized shape for LayerNorm. Returns (y, μ, σ²): y like x, the statistics like x with size 1 along
    ``axes`` (the batch statistics, for the running averages).

    Backward, with m the number of values each statistic is taken over and Σ summing over ``axes``;
    g is y's gradient, g_μ and g_σ² the statistics' (zeros when only y is used):

        dx̂ = g·γ
        dσ² = Σ dx̂·(x − μ)·(−½)(σ² + ε)^(−3/2)                + g_σ²
        dμ  = Σ −dx̂/√(σ² + ε) + dσ²·Σ −2(x − μ)/m             + g_μ
        dx  = dx̂/√(σ² + ε) + dσ²·2(x − μ)/m + dμ/m
        dγ = Σ g·x̂,  dβ = Σ g   (over the dims γ and β are broadcast along)

    The paper's steps: x reaches the loss through x̂ directly, through σ² (∂σ²/∂x = 2(x − μ)/m) and
    through μ (∂μ/∂x = 1/m); μ also reaches it through σ² (∂σ²/∂μ = Σ −2(x − μ)/m, zero in exact
    arithmetic). The outputs μ and σ² add their own gradients where they stand in that chain.
    Saves x and the statistics only (as PyTorch): the backward recomputes x − μ. Its derivatives of higher order
    differentiate ``decomposition``, the forward's lines in Tensor ops."""

    def forward(self, x, weight, bias, *, axes, eps):
        mean = x.mean(axis=axes, keepdims=True)
        var = ((x - mean) ** 2).mean(axis=axes, keepdims=True)
        xhat = (x - mean) / np.sqrt(var + eps)
        y = xhat if weight is None else weight * xhat
        if bias is not None:
            y = y + bias
        self.x, self.mean, self.var, self.axes, self.eps = x, mean, var, axes, eps
        self.weight, self.bias_shape = weight, None if bias is None else bias.shape
        self.m = math.prod(x.shape[i] for i in axes)
        return y, mean, var

    def backward(self, g, g_mean, g_var):
        axes, m = self.axes, self.m
        xmu, inv_std = self.x - self.mean, 1 / np.sqrt(self.var + self.eps)  # x − μ and 1/√(σ² + ε)
        dx = None
        if self.needs[0]:
            dxhat = g if self.weight is None else g * self.weight
            dvar = np.sum(dxhat * xmu, axis=axes, keepdims=True) * -0.5 * inv_std**3 + g_var
            dmean = (np.sum(-dxhat * inv_std, axis=axes, keepdims=True)
                     + dvar * np.sum(-2 * xmu, axis=axes, keepdims=True) / m + g_mean)
            dx = dxhat * inv_std + dvar * 2 * xmu / m + dmean / m
        dw = unbroadcast(g * xmu * inv_std, self.weight.shape) if self.needs[1] else None
        db = unbroadcast(g, self.bias_shape) if self.needs[2] else None
        return dx, dw, db

    def decomposition(self, x, weight, bias, *, axes, eps):
        mean = x.mean(axes, keepdim=True)
        xmu = x - mean
        var = (xmu * xmu).mean(axes, keepdim=True)
        y = xmu / (var + eps).sqrt()
        if weight is not None:
            y = y * weight
        return (y if bias is None else y + bias), mean, var


class ChannelAffine(Function):
    """y = x·s + t with s and t broadcast against x (per channel: (1, C, 1, ...));
    dx = g·s, ds = Σ g·x, dt = Σ g (over the dims they are broadcast along)."""

    def forward(self, x, scale, shift):
        self.x, self.scale, self.shift_shape = x, scale, shift.shape
        return x * scale + shift

    def backward(self, g):
        gx = g * self.scale if self.needs[0] else None
        gs = unbroadcast(g * self.x, self.scale.shape) if self.needs[1] else None
        gt = unbroadcast(g, self.shift_shape) if self.needs[2] else None
        return gx, gs, gt

    def backward_graph(self, g):
        x, scale, _ = self.inputs
        return to_inputs(self, g * scale if self.needs[0] else None, g * x if self.needs[1] else None, g)


def _normalize(x, weight, bias, axes, eps):
    """``Normalize`` over ``axes`` on the path ``runtime.reference`` picks: (y, μ, σ²), three Tensors."""
    return (Normalize if runtime.reference else fast.Normalize).apply(x, weight, bias, axes=axes, eps=eps)


def _channel_shape(x):
    return (1, x.shape[1]) + (1,) * (x.ndim - 2)


def _reshaped(param, shape):
    return None if param is None else param.reshape(shape)


def _check_param(p, c, name, op):
    if p is not None and tuple(p.shape) != (c,):
        raise ValueError(f"{op}: {name} must have shape ({c},) for an input with {c} channels, got {tuple(p.shape)}")


def _update_running(running, batch_value, momentum):
    """running ← (1 − momentum)·running + momentum·batch, in place (PyTorch's convention;
    the notes' TensorFlow form moving = decay·moving + (1 − decay)·batch is momentum = 1 − decay)."""
    with no_grad():
        running.data *= 1 - momentum
        running.data += momentum * batch_value.astype(running.data.dtype, copy=False)


def _affine_with_stats(x, mean, var, weight, bias, eps):
    """y = (x − mean)/√(var + ε)·γ + β with given (running) statistics of shape broadcastable to x,
    folded into one scale and one shift per channel: y = x·s + t, s = γ/√(var + ε), t = β − mean·s
    (the paper's inference network, its Algorithm 2: with fixed statistics BN is a linear map). One
    ``ChannelAffine``; γ and β still get their gradients, through s and t."""
    dtype = x.data.dtype
    scale = Tensor((1.0 / np.sqrt(var + eps)).astype(dtype, copy=False))
    if weight is not None:
        scale = weight * scale
    shift = -Tensor(mean.astype(dtype, copy=False)) * scale
    if bias is not None:
        shift = shift + bias
    return (ChannelAffine if runtime.reference else fast.ChannelAffine).apply(x, scale, shift)


def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False, momentum=0.1,  # noqa: A002
               eps=1e-5):
    """Batch normalization of (N, C), (N, C, L) or (N, C, H, W) per channel over all other dims.
    Training (or no running statistics): batch statistics, biased variance to normalize, running
    statistics updated in place with the unbiased variance. Otherwise the running statistics."""
    op = "batch_norm"
    if input.ndim < 2:
        raise ValueError(f"{op}: expected an input of at least 2 dims (N, C, ...), got shape {input.shape}")
    c = input.shape[1]
    for name, p in (("running_mean", running_mean), ("running_var", running_var), ("weight", weight), ("bias", bias)):
        _check_param(p, c, name, op)
    shape = _channel_shape(input)
    w, b = _reshaped(weight, shape), _reshaped(bias, shape)
    axes = (0,) + tuple(range(2, input.ndim))
    if training or running_mean is None:
        n = math.prod(input.shape[i] for i in axes)
        if n == 0:  # an empty batch has no statistics, and leaves the running ones as they are (as torch)
            return _affine_with_stats(input, np.zeros(shape), np.ones(shape), w, b, eps)
        if training and n == 1:
            raise ValueError(f"{op}: expected more than 1 value per channel when training, got input of shape {input.shape}")
        out, mean, var = _normalize(input, w, b, axes, eps)
        if training and running_mean is not None:
            _update_running(running_mean, mean.data.reshape(c), momentum)
            _update_running(running_var, var.data.reshape(c) * (n / max(n - 1, 1)), momentum)
        return out
    return _affine_with_stats(input, running_mean.data.reshape(shape), running_var.data.reshape(shape), w, b, eps)


def instance_norm(input, running_mean=None, running_var=None, weight=None, bias=None, use_input_stats=True,  # noqa: A002
                  momentum=0.1, eps=1e-5):
    """Instance normalization of (N, C, L) or (N, C, H, W): each (sample, channel) over its spatial dims.
    Running statistics, when given, track the mean over the batch of the per-instance statistics."""
    op = "instance_norm"
    if input.ndim < 3:
        raise ValueError(f"{op}: expected an input of at least 3 dims (N, C, L...), got shape {input.shape}")
    c = input.shape[1]
    for name, p in (("running_mean", running_mean), ("running_var", running_var), ("weight", weight), ("bias", bias)):
        _check_param(p, c, name, op)
    shape = _channel_shape(input)
    w, b = _reshaped(weight, shape), _reshaped(bias, shape)
    if not use_input_stats:
        return _affine_with_stats(input, running_mean.data.reshape(shape), running_var.data.reshape(shape), w, b, eps)
    n = math.prod(input.shape[2:])
    if n <= 1:
        raise ValueError(f"{op}: expected more than 1 spatial element per channel, got input of shape {input.shape}")
    out, mean, var = _normalize(input, w, b, tuple(range(2, input.ndim)), eps)
    if running_mean is not None and input.shape[0]:  # an empty batch leaves them as they are, as in batch_norm
        _update_running(running_mean, mean.data.mean(axis=0).reshape(c), momentum)
        _update_running(running_var, (var.data * (n / (n - 1))).mean(axis=0).reshape(c), momentum)
    return out


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5):  # noqa: A002
    """Layer normalization: each sample over its trailing ``normalized_shape`` dims — for an image
    (N, C, H, W) with normalized_shape (C, H, W), over all of C, H, W [note 003]."""
    ns = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    if not ns or input.shape[-len(ns):] != ns:
        raise ValueError(
            f"layer_norm: normalized_shape {ns} does not match the trailing dims of input of shape {input.shape}"
        )
    for name, p in (("weight", weight), ("bias", bias)):
        if p is not None and tuple(p.shape) != ns:
            raise ValueError(f"layer_norm: {name} must have shape {ns}, got {tuple(p.shape)}")
    out, _, _ = _normalize(input, weight, bias, tuple(range(input.ndim - len(ns), input.ndim)), eps)
    return out


def group_norm(input, num_groups, weight=None, bias=None, eps=1e-5):  # noqa: A002
    """Group normalization: the C channels of each sample split into ``num_groups`` groups, each
    normalized over its channels and spatial dims; then a per-channel γ, β."""
    op = "group_norm"
    if input.ndim < 2:
        raise ValueError(f"{op}: expected an input of at least 2 dims (N, C, ...), got shape {input.shape}")
    n, c = input.shape[:2]
    if num_groups <= 0 or c % num_groups:
        raise ValueError(f"{op}: num_groups={num_groups} must divide the {c} channels of input {input.shape}")
    for name, p in (("weight", weight), ("bias", bias)):
        _check_param(p, c, name, op)
    group_size = c // num_groups * math.prod(input.shape[2:])  # written out: -1 is ambiguous when n = 0
    grouped, _, _ = _normalize(input.reshape(n, num_groups, group_size), None, None, (2,), eps)
    out = grouped.reshape(input.shape)
    shape = _channel_shape(input)
    if weight is not None:
        out = out * weight.reshape(shape)
    if bias is not None:
        out = out + bias.reshape(shape)
    return out


from ..kernels import norm as fast  # noqa: E402 - the fast kernels subclass the ops above
