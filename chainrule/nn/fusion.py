"""Folding an eval-mode BatchNorm into the convolution or linear layer before it, for inference only.

In eval mode BatchNorm is a fixed affine map per channel c [note 003: BN at test time]:

    BN(z)_c = γ_c·(z_c − μ_c)/√(σ²_c + ε) + β_c,   μ, σ² the running statistics,

so BN(conv(x)) is again a convolution, with weight and bias

    s_c = γ_c/√(σ²_c + ε),   W'_c = W_c·s_c,   b'_c = (b_c − μ_c)·s_c + β_c

(γ = 1, β = 0 when the BN is not affine; b = 0 when the conv has no bias). W is (C_out, C_in/G, k…) for a
convolution and (out_features, in_features) for a linear layer, so row c of W scales by s_c whatever the groups.
One layer then does the work of two: no normalization pass over the activations at inference.

The fused layer is *not* the training-mode pair: in training BN uses the batch's statistics and updates its running
ones, which the folded layer cannot. Fuse a copy for inference; train the original.

``fuse_conv_bn_eval`` / ``fuse_linear_bn_eval`` are ``torch.nn.utils.fusion``'s; ``fuse_modules(model, [[conv, bn],
...])`` is ``torch.ao.quantization.fuse_modules`` for conv/linear + BN pairs named explicitly (ResNet's blocks keep
``conv1``/``bn1`` as attributes, not in a Sequential); ``fuse_conv_bn(model)`` finds every pair by itself inside
Sequentials (VGG's conv → BN → ReLU stacks, ResNet's projection shortcuts).

A ReLU right after the BN fuses too (torch.ao's ConvReLU2d): the folded layer becomes its ``…ReLU`` subclass
(``Conv2dReLU``; the parameters keep their names) and the ReLU an Identity. Where nothing records a graph, its
max(·, 0) is taken in place on the layer's fresh output: conv + BN + ReLU in eval cost one convolution, no
normalization pass and no second activation array.
"""
import copy

import numpy as np

from . import functional as F
from .activation import ReLU
from .conv import _ConvNd
from .linear import Linear
from .module import Identity, Module, Parameter, Sequential
from .normalization import _BatchNorm

__all__ = ["FusedReLU", "fuse_conv_bn", "fuse_conv_bn_eval", "fuse_conv_bn_weights", "fuse_linear_bn_eval",
           "fuse_modules"]


def _check_bn(layer, bn, channels, what):
    if not isinstance(bn, _BatchNorm):
        raise TypeError(f"fuse: expected a BatchNorm after {layer!r}, got {type(bn).__name__}")
    for m in (layer, bn):
        if m.training:
            raise RuntimeError(f"fuse: {m!r} is in training mode; folding BatchNorm is for inference only — call "
                               ".eval() first (in training BN uses the batch's statistics, which cannot be folded)")
    if bn.running_mean is None or bn.running_var is None:
        raise ValueError(f"fuse: {bn!r} has no running statistics (track_running_stats=False), so in eval it still "
                         "normalizes by the batch's statistics and cannot be folded")
    if bn.num_features != channels:
        raise ValueError(f"fuse: {layer!r} gives {channels} {what} but {bn!r} normalizes {bn.num_features}")


def fuse_conv_bn_weights(weight, bias, running_mean, running_var, eps, gamma=None, beta=None):
    """The folded (W', b') as float64-computed ndarrays in W's dtype: s = γ/√(σ² + ε), W' = W·s per output row (dim 0),
    b' = (b − μ)·s + β. weight (C_out, ...), bias / μ / σ² / γ / β (C_out,) or None (b = 0, γ = 1, β = 0)."""
    w = np.asarray(weight, dtype=np.float64)
    c = w.shape[0]
    mean, var = np.asarray(running_mean, np.float64), np.asarray(running_var, np.float64)
    gamma = np.ones(c) if gamma is None else np.asarray(gamma, np.float64)
    beta = np.zeros(c) if beta is None else np.asarray(beta, np.float64)
    b = np.zeros(c) if bias is None else np.asarray(bias, np.float64)
    scale = gamma / np.sqrt(var + eps)
    fused_w = w * scale.reshape((c,) + (1,) * (w.ndim - 1))
    fused_b = (b - mean) * scale + beta
    dtype = np.asarray(weight).dtype
    return fused_w.astype(dtype), fused_b.astype(dtype)


def _fold(layer, bn):
    def raw(t):
        return None if t is None else t.data
    w, b = fuse_conv_bn_weights(raw(layer.weight), raw(layer.bias), raw(bn.running_mean), raw(bn.running_var), bn.eps,
                                raw(bn.weight), raw(bn.bias))
    fused = copy.deepcopy(layer)
    fused.weight = Parameter(w, requires_grad=layer.weight.requires_grad)
    fused.bias = Parameter(b, requires_grad=layer.weight.requires_grad)
    return fused


def fuse_conv_bn_eval(conv, bn):
    """A new convolution equal to ``bn(conv(x))`` in eval mode [note 003: BN at test time]: W' = W·γ/√(σ² + ε) per
    output channel, b' = (b − μ)·γ/√(σ² + ε) + β. conv: Conv1d / Conv2d / Conv3d, any groups, with or without bias
    (the result always has one); weight (C_out, C_in/G, k…). bn: a BatchNorm over C_out channels with running
    statistics, affine or not. Inference only. Neither argument is changed.

    Raises RuntimeError if either is in training mode, ValueError if the channels differ or the BN tracks no running
    statistics, TypeError for a transposed convolution (its weight is (C_in, C_out/G, k…)) or a non-BN second module.
    """
    if not isinstance(conv, _ConvNd) or conv.transposed:
        raise TypeError(f"fuse_conv_bn_eval: expected a (non-transposed) convolution, got {conv!r}")
    _check_bn(conv, bn, conv.out_channels, "output channels")
    return _fold(conv, bn)


def fuse_linear_bn_eval(linear, bn):
    """A new Linear equal to ``bn(linear(x))`` in eval mode: W' = W·γ/√(σ² + ε) per output feature (row of W,
    (out_features, in_features)), b' = (b − μ)·γ/√(σ² + ε) + β. bn: BatchNorm1d over out_features with running
    statistics. Inference only; the same errors as ``fuse_conv_bn_eval``."""
    if not isinstance(linear, Linear):
        raise TypeError(f"fuse_linear_bn_eval: expected a Linear, got {linear!r}")
    _check_bn(linear, bn, linear.out_features, "output features")
    return _fold(linear, bn)


def _fuse_pair(layer, bn):
    return fuse_linear_bn_eval(layer, bn) if isinstance(layer, Linear) else fuse_conv_bn_eval(layer, bn)


class FusedReLU:
    """Mixed into a layer class ahead of it (``Conv2dReLU``: FusedReLU, Conv2d): relu(layer(x)). With a graph
    recorded, the ReLU op; without one (inference under no_grad, or no input requiring grad) max(·, 0) in place on
    the layer's output, which nothing else holds yet — one pass, no second array."""

    def forward(self, x):
        out = super().forward(x)
        if out.requires_grad:
            return F.relu(out)
        np.maximum(out.data, 0, out=out.data)
        return out


_relu_classes = {}


def _with_relu(layer):
    """``layer`` (a fresh fused copy) turned into its FusedReLU subclass, same parameters and names."""
    cls = type(layer)
    if cls not in _relu_classes:
        _relu_classes[cls] = type(f"{cls.__name__}ReLU", (FusedReLU, cls), {"__module__": cls.__module__})
    layer.__class__ = _relu_classes[cls]
    return layer


def _foldable(layer, bn):
    return (isinstance(bn, _BatchNorm) and bn.running_mean is not None
            and (isinstance(layer, Linear) or (isinstance(layer, _ConvNd) and not layer.transposed)))


def _check_eval(model, name):
    for sub_name, m in model.named_modules():
        if m.training:
            where = f" (submodule {sub_name!r})" if sub_name else ""
            raise RuntimeError(f"{name}: {type(m).__name__}{where} is in training mode; BatchNorm folding is for "
                               "inference only — call model.eval() first")


def fuse_conv_bn(model, inplace=False):
    """The model with every Conv (or Linear) followed directly by a BatchNorm inside a ``Sequential`` (nested at any
    depth) replaced by the folded layer (``fuse_conv_bn_eval``) and the BatchNorm by ``nn.Identity``, under the same
    names, so the state_dict keys of the conv stay; a ReLU right after the BN is fused as well (the layer becomes its
    ``FusedReLU`` subclass, the ReLU an Identity). W' = W·γ/√(σ² + ε), b' = (b − μ)·γ/√(σ² + ε) + β per output
    channel [note 003: BN at test time]; the outputs are unchanged in eval, up to rounding.

    For inference only: ``model`` (and every submodule) must be in eval mode (RuntimeError otherwise). Returns a deep
    copy; the original is untouched unless ``inplace=True``. Pairs held as attributes (ResNet's ``conv1``/``bn1``) are
    not in a Sequential and are left alone: name them to ``fuse_modules``.
    """
    _check_eval(model, "fuse_conv_bn")
    model = model if inplace else copy.deepcopy(model)
    for seq in [m for m in model.modules() if isinstance(m, Sequential)]:
        items = list(seq._modules.items()) + [(None, None)]
        for (name, layer), (bn_name, bn), (relu_name, relu) in zip(items, items[1:], items[2:] + [(None, None)]):
            if _foldable(layer, bn) and getattr(seq, name) is layer:
                fused = _fuse_pair(layer, bn)
                if type(relu) is ReLU:
                    fused = _with_relu(fused)
                    setattr(seq, relu_name, Identity().eval())
                setattr(seq, name, fused)
                setattr(seq, bn_name, Identity().eval())
    return model


def _resolve(model, dotted):
    parent, _, leaf = dotted.rpartition(".")
    owner = model
    for part in parent.split(".") if parent else ():
        owner = owner._modules.get(part) if isinstance(owner, Module) else None
        if owner is None:
            break
    if not isinstance(owner, Module) or not isinstance(owner._modules.get(leaf), Module):
        raise KeyError(f"fuse_modules: no submodule named {dotted!r} in {type(model).__name__}")
    return owner, leaf


def fuse_modules(model, modules_to_fuse, inplace=False):
    """``torch.ao.quantization.fuse_modules`` for conv/linear + BatchNorm: each entry of ``modules_to_fuse`` is a pair
    of dotted submodule names ``[conv, bn]`` (or one pair alone); the conv becomes the folded layer
    (``fuse_conv_bn_eval``), the BN an ``nn.Identity``. Works where ``fuse_conv_bn`` cannot see a pair because it is
    not in a Sequential, e.g. a ResNet block's ``["layer1.0.conv1", "layer1.0.bn1"]``; the forward must apply the BN
    to the conv's output and to nothing else. Inference only: the model must be in eval mode. Returns a deep copy
    unless ``inplace=True``. Raises KeyError for an unknown name, ValueError for an entry that is not a pair."""
    _check_eval(model, "fuse_modules")
    if modules_to_fuse and isinstance(modules_to_fuse[0], str):
        modules_to_fuse = [modules_to_fuse]
    model = model if inplace else copy.deepcopy(model)
    for names in modules_to_fuse:
        if len(names) != 2:
            raise ValueError(f"fuse_modules: expected [conv, bn] pairs of names, got {list(names)}")
        (conv_owner, conv_leaf), (bn_owner, bn_leaf) = _resolve(model, names[0]), _resolve(model, names[1])
        fused = _fuse_pair(conv_owner._modules[conv_leaf], bn_owner._modules[bn_leaf])
        setattr(conv_owner, conv_leaf, fused)
        setattr(bn_owner, bn_leaf, Identity().eval())
    return model
