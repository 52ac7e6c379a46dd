"""Normalization [note 001, note 003]: standardize over some axes, then scale by γ and shift by β.

BatchNorm normalizes each channel over (N, H, W); LayerNorm each sample over its trailing dims
(for images all of C, H, W); InstanceNorm each (sample, channel) over (H, W); GroupNorm each
(sample, group of channels). They differ only in the axes, so one op serves them all, with the
closed-form backward rather than a chain of primitive nodes:

    x̂ = (x − μ) / √(σ² + ε),  y = γ·x̂ + β
    dx = (1/√(σ² + ε)) · (ĝ − mean(ĝ) − x̂·mean(ĝ·x̂)),  ĝ = γ·g   (means over the same axes)
    dγ = Σ g·x̂,  dβ = Σ g   (over the axes γ is broadcast along)
"""
import math

import numpy as np

from ..autograd import Function, no_grad, sum_to
from ..kernels.parallel import map_rows
from ..tensor import Tensor


def _row(a, shape):
    """``a``, which broadcasts against an array of ``shape``, with its trailing broadcast dims written
    out — BatchNorm's (1, C, 1, 1) statistics become a (1, C, H, W) block that repeats only over N.
    NumPy's binary ops run ~1.8× faster when no operand has stride 0 in the inner loop (0.17 vs 0.31
    ns per float32 element here); ``a`` itself when the written-out block would not be small."""
    a = a.reshape((1,) * (len(shape) - a.ndim) + a.shape)
    k = max((i for i, n in enumerate(a.shape) if n != 1), default=-1)
    target = a.shape[: k + 1] + tuple(shape[k + 1 :])
    if k == len(shape) - 1 or 8 * math.prod(target) > math.prod(shape):
        return a
    return np.ascontiguousarray(np.broadcast_to(a, target))


ROWS_SPLIT_MIN = 1 << 16  # BatchNorm inputs of at least this many elements are split by rows over the threads


class Normalize(Function):
    """y = γ·(x − mean)/√(var + ε) + β with statistics over ``axes`` (biased variance);
    γ and β (each optional) broadcast against x. Saves x and the statistics only (as PyTorch):
    the backward recomputes x̂, which costs less than keeping a copy of the input alive per layer.

    When the statistics are shared by all samples (BatchNorm: axis 0 among ``axes``) a large input is
    processed in slices of its rows, one per thread: each pass over x is split, and each reduction
    becomes per-slice partial sums that are added (``_passes``)."""

    def forward(self, x, weight, bias, axes, eps):
        stats = tuple(1 if i in axes else s for i, s in enumerate(x.shape))
        n = math.prod(x.shape[i] for i in axes)
        run = self._passes(x, axes)
        mean = sum(run(lambda r: sum_to(stats, x[r]))) / n
        mean_row, out = _row(mean, x.shape), np.empty_like(x)

        def centre(r):
            np.subtract(x[r], mean_row, out=out[r])
            return sum_to(stats, out[r], out[r])

        var = sum(run(centre)) / n
        self.inv_std = 1.0 / np.sqrt(var + eps)
        scale = _row(self.inv_std if weight is None else self.inv_std * weight, x.shape)
        shift = None if bias is None else _row(bias, x.shape)

        def affine(r):
            out[r] *= scale
            if shift is not None:
                out[r] += shift

        run(affine)
        self.x, self.axes, self.weight, self.n = x, axes, weight, n
        self.bias_shape = None if bias is None else bias.shape
        self.mean, self.var = mean, var  # the batch statistics, for running averages
        return out

    def backward(self, g):
        x, w, n, shape, needs = self.x, self.weight, self.n, g.shape, self.needs
        stats, run = self.mean.shape, self._passes(x, self.axes)
        mean_row, inv_row = _row(self.mean, shape), _row(self.inv_std, shape)
        w_row = None if w is None or not needs[0] else _row(w, shape)
        xhat = np.empty(shape, dtype=x.dtype)
        gh = np.empty(shape, dtype=g.dtype) if w_row is not None else g  # ĝ = γ·g

        def first(r):
            xh = xhat[r]
            np.subtract(x[r], mean_row, out=xh)
            xh *= inv_row
            sums = [sum_to(w.shape, g[r], xh) if needs[1] else None,
                    sum_to(self.bias_shape, g[r]) if needs[2] else None]
            if needs[0]:
                if w_row is not None:
                    np.multiply(g[r], w_row, out=gh[r])
                sums += [sum_to(stats, gh[r], xh), sum_to(stats, gh[r])]
            return sums

        gw, gb, *gx_sums = [None if parts[0] is None else sum(parts) for parts in zip(*run(first))]
        gx = None
        if needs[0]:
            k_xhat, k_const, gx = _row(-gx_sums[0] / n, shape), _row(gx_sums[1] / n, shape), xhat

            def second(r):
                gr = gx[r]
                gr *= k_xhat
                gr += gh[r]
                gr -= k_const
                gr *= inv_row

            run(second)
        return gx, gw, gb, None, None

    @staticmethod
    def _passes(x, axes):
        """How to run a pass ``fn(rows)``: on row slices over the threads for a large x whose statistics
        are shared by all rows, else once over all of x; returns the list of results."""
        split = 0 in axes and x.size >= ROWS_SPLIT_MIN
        return lambda fn: map_rows(fn, x.shape[0], split)


class ChannelAffine(Function):
    """y = x·s + t with s and t broadcast against x (per channel: (1, C, 1, ...));
    dx = g·s, ds = Σ g·x, dt = Σ g (over the dims they are broadcast along)."""

    def forward(self, x, scale, shift):
        self.x, self.scale, self.shift_shape = x, scale, shift.shape
        s, t, out = _row(scale, x.shape), _row(shift, x.shape), np.empty_like(x)

        def rows(r):
            np.multiply(x[r], s, out=out[r])
            out[r] += t

        map_rows(rows, x.shape[0], x.size >= ROWS_SPLIT_MIN)
        return out

    def backward(self, g):
        gx = g * _row(self.scale, g.shape) if self.needs[0] else None
        gs = sum_to(self.scale.shape, g, self.x) if self.needs[1] else None
        gt = sum_to(self.shift_shape, g) if self.needs[2] else None
        return gx, gs, gt


def _normalize(x, weight, bias, axes, eps):
    """Apply ``Normalize``; return the output and the batch mean and biased variance (arrays)."""
    out = Normalize.apply(x, weight, bias, axes, eps)
    node = out._ctx
    if node is None:  # no graph recorded (no_grad or nothing requires grad): statistics recomputed cheaply
        mean = np.mean(x.data, axis=axes, keepdims=True)
        var = np.mean((x.data - mean) ** 2, axis=axes, keepdims=True)
        return out, mean, var
    return out, node.mean, node.var


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
    (one ``ChannelAffine``, two passes over x; γ and β still get their gradients through s and t)."""
    dtype = x.data.dtype
    scale = Tensor((1.0 / np.sqrt(var + eps)).astype(dtype, copy=False))
    if weight is not None:
        scale = weight * scale
    shift = -Tensor(mean.astype(dtype, copy=False)) * scale
    if bias is not None:
        shift = shift + bias
    return ChannelAffine.apply(x, scale, shift)


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
            _update_running(running_mean, mean.reshape(c), momentum)
            _update_running(running_var, var.reshape(c) * (n / max(n - 1, 1)), momentum)
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
        _update_running(running_mean, mean.mean(axis=0).reshape(c), momentum)
        _update_running(running_var, (var * (n / (n - 1))).mean(axis=0).reshape(c), momentum)
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

