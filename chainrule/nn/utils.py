"""Gradient clipping, regularization loss terms and parameter-group helpers.

Gradient clipping [note 003, note 004: against exploding gradients, "set a threshold and force the
gradient back within it"]: ``clip_grad_norm_`` rescales all gradients together when their joint
norm exceeds ``max_norm`` (the direction is kept); ``clip_grad_value_`` clamps each entry to
[−clip_value, clip_value] (the direction changes). Both equal ``torch.nn.utils``'s. Call them
between ``loss.backward()`` and ``optimizer.step()``.

Regularization [note 003: L1 and L2], and which to use when:

* **L2 / weight decay** — the notes' default choice ("L1 is almost never better than L2: prefer
  L2"). Pass ``weight_decay=λ`` to the optimizer: for SGD this *is* the notes' shrink
  w ← (1 − ηλ)·w − η·∂C₀/∂w, and it equals adding ``l2_penalty(params, λ)`` to the loss. For Adam,
  use ``AdamW`` (decoupled decay): coupled L2 in Adam is divided by the adaptive denominator and
  barely regularizes weights with large gradients. Keep biases and normalization parameters out of
  the decay, as the notes do for b (∂C/∂b is unchanged by L2): ``param_groups(model, λ)`` builds the
  two groups.
* **L1** — when you want sparse weights (feature selection, Lasso): ``SGD(..., l1=λ)`` applies the
  proximal soft-threshold after each step and drives weights to *exactly* zero. ``l1_penalty`` in
  the loss gives the notes' literal subgradient update w ← w − ηλ·sgn(w) − η·∂C₀/∂w, which works
  with any optimizer but leaves small weights oscillating around zero instead of at zero.

Scaling: the notes write the penalties as (λ/n)·Σ|w| and (λ/2n)·Σw² with n the training-set size,
next to a mean loss C₀. Here the terms are λ·Σ|w| and (λ/2)·Σw²: a loss term cannot know n (and
mini-batches blur it), so pass λ = λ_notes/n. With this scaling λ means the same thing everywhere:
``l2_penalty(params, λ)`` ≡ ``weight_decay=λ`` ≡ the (1 − ηλ) shrink, and ``l1_penalty(params, λ)``
≡ ``SGD(l1=λ)``'s objective.
"""
import numpy as np

from ..tensor import Tensor
from . import fusion  # noqa: F401  (torch.nn.utils.fusion)
from .fusion import fuse_conv_bn, fuse_conv_bn_eval, fuse_linear_bn_eval, fuse_modules
from .module import Module
from .normalization import GroupNorm, LayerNorm, _NormBase

__all__ = ["NORM_LAYERS", "clip_grad_norm_", "clip_grad_value_", "fuse_conv_bn", "fuse_conv_bn_eval",
           "fuse_linear_bn_eval", "fuse_modules", "l1_penalty", "l2_penalty", "param_groups"]

# BatchNorm1d/2d and InstanceNorm1d/2d derive from _NormBase.
NORM_LAYERS = (_NormBase, LayerNorm, GroupNorm)


def _tensors(parameters):
    return [parameters] if isinstance(parameters, Tensor) else list(parameters)


def _vector_norm(x, norm_type):
    """‖x‖_p of all entries of ``x`` (torch.linalg.vector_norm's conventions), a 0-d array of x's dtype."""
    if norm_type == np.inf:
        value = np.max(np.abs(x))
    elif norm_type == -np.inf:
        value = np.min(np.abs(x))
    elif norm_type == 0:
        value = np.count_nonzero(x)
    elif norm_type == 1:
        value = np.sum(np.abs(x))
    elif norm_type == 2:
        value = np.sqrt(np.vdot(x, x))
    else:
        with np.errstate(divide="ignore"):  # |0|^p for p < 0 is inf, and the norm 0, as in torch
            value = np.sum(np.abs(x) ** norm_type) ** (1.0 / norm_type)
    return np.asarray(value, dtype=x.dtype)


def clip_grad_norm_(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    """Scale the gradients of ``parameters`` in place by min(1, max_norm / (‖g‖ + 1e-6)), where ‖g‖
    is the ``norm_type``-norm of all gradients together (the norm of the per-tensor norms, as torch
    computes it; ``inf`` for the largest absolute entry). Parameters without a gradient are skipped.

    Returns the total norm before clipping, a 0-d Tensor (0.0 when no parameter has a gradient).
    With ``error_if_nonfinite``, a NaN or infinite total norm raises ``RuntimeError`` and leaves the
    gradients untouched; otherwise the gradients are scaled anyway (an infinite norm zeroes them, a
    NaN one fills them with NaN), as in torch. ``foreach`` is accepted for torch compatibility.
    """
    grads = [p.grad.data for p in _tensors(parameters) if p.grad is not None]
    norm_type = float(norm_type)
    if not grads:
        return Tensor(0.0)
    total = _vector_norm(np.stack([_vector_norm(g, norm_type) for g in grads]), norm_type)
    if error_if_nonfinite and not np.isfinite(total):
        raise RuntimeError(
            f"The total norm of order {norm_type} for gradients from `parameters` is non-finite, so it cannot be "
            "clipped. To disable this error and scale the gradients by the non-finite norm anyway, set "
            "`error_if_nonfinite=False`"
        )
    coef = np.minimum(float(max_norm) / (total + 1e-6), 1.0)
    with np.errstate(invalid="ignore"):  # an infinite norm gives inf·0 = NaN where a gradient is inf, as in torch
        for g in grads:
            g *= coef
    return Tensor(total)


def clip_grad_value_(parameters, clip_value, foreach=None):
    """Clamp every gradient entry of ``parameters`` to [−clip_value, clip_value] in place."""
    clip_value = float(clip_value)
    for p in _tensors(parameters):
        if p.grad is not None:
            np.clip(p.grad.data, -clip_value, clip_value, out=p.grad.data)


def _sum_over(parameters, term):
    params = _tensors(parameters)
    if not params:
        raise ValueError("penalty: got an empty parameter list")
    total = term(params[0])
    for p in params[1:]:
        total = total + term(p)
    return total


def l1_penalty(parameters, lam=1.0):
    """λ·Σ|w| over every entry of ``parameters`` [note 003: L1, C = C₀ + (λ/n)·Σ|w|, here λ = λ_notes/n]:
    a differentiable scalar Tensor to add to the loss. Its gradient is λ·sgn(w) (0 at w = 0), so plain
    SGD then performs the notes' update w ← w − ηλ·sgn(w) − η·∂C₀/∂w. For exact zeros use ``SGD(l1=λ)``."""
    return _sum_over(parameters, lambda p: p.abs().sum()) * lam


def l2_penalty(parameters, lam=1.0):
    """(λ/2)·Σw² over every entry of ``parameters`` [note 003: L2, C = C₀ + (λ/2n)·Σw², here λ = λ_notes/n]:
    a differentiable scalar Tensor to add to the loss. Its gradient is λ·w, so with SGD it equals
    ``weight_decay=λ``: w ← (1 − ηλ)·w − η·∂C₀/∂w."""
    return _sum_over(parameters, lambda p: (p * p).sum()) * (lam / 2)


def param_groups(model, weight_decay, *, skip_1d=True, norm_layers=NORM_LAYERS, **options):
    """Two optimizer parameter groups from ``model``: the weights, with ``weight_decay``, and the
    parameters that should not be decayed, with ``weight_decay=0`` [note 003: L2 leaves b alone].

    Not decayed: every parameter of a normalization layer (``norm_layers``: BatchNorm, InstanceNorm,
    LayerNorm, GroupNorm — their γ and β set a scale and shift that shrinking would only fight, even
    when γ is 2-D as in ``LayerNorm((C, L))``), every parameter named ``bias``, and, with ``skip_1d``,
    every parameter of at most one dimension. ``options`` (``lr=...``) go into both groups. Empty
    groups are left out. Use: ``SGD(param_groups(model, 5e-4), lr=0.1, momentum=0.9)``.
    """
    if not isinstance(model, Module):
        raise TypeError(f"param_groups: expected a Module, got {type(model).__name__}")
    exempt = set()
    for module in model.modules():
        if isinstance(module, norm_layers):
            exempt.update(id(p) for p in module.parameters())
    decay, no_decay = [], []
    for name, p in model.named_parameters():
        skip = id(p) in exempt or name.rsplit(".", 1)[-1] == "bias" or (skip_1d and p.ndim <= 1)
        (no_decay if skip else decay).append(p)
    groups = []
    if decay:
        groups.append(dict(options, params=decay, weight_decay=weight_decay))
    if no_decay:
        groups.append(dict(options, params=no_decay, weight_decay=0.0))
    return groups
