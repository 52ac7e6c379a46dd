"""Normalization layers [note 001, note 003]: BatchNorm, LayerNorm, InstanceNorm, GroupNorm.

When each fits: BatchNorm for discriminative CNNs with reasonable batches; LayerNorm for RNNs and
small batches (the same computation in training and inference); InstanceNorm for style transfer
and generation; GroupNorm between the two when batches are small.
"""
from .. import creation
from . import functional as F
from ..tensor import Tensor
from .module import Module, Parameter


class _NormBase(Module):
    """γ (ones), β (zeros) and, when tracked, running_mean (zeros), running_var (ones) and
    num_batches_tracked buffers — PyTorch's names and defaults."""

    def __init__(self, num_features, eps, momentum, affine, track_running_stats, decay, dtype):
        super().__init__()
        if decay is not None:
            if not 0 <= decay <= 1:
                raise ValueError(f"{type(self).__name__}: decay must be in [0, 1], got {decay}")
            momentum = 1 - decay
        self.num_features, self.eps, self.momentum = num_features, eps, momentum
        self.affine, self.track_running_stats = affine, track_running_stats
        if affine:
            self.weight = Parameter(creation.ones(num_features, dtype=dtype))
            self.bias = Parameter(creation.zeros(num_features, dtype=dtype))
        else:
            self.weight = self.bias = None
        if track_running_stats:
            self.register_buffer("running_mean", creation.zeros(num_features, dtype=dtype))
            self.register_buffer("running_var", creation.ones(num_features, dtype=dtype))
            self.register_buffer("num_batches_tracked", Tensor(0))
        else:
            self.running_mean = self.running_var = self.num_batches_tracked = None

    def _factor(self):
        """Averaging factor for this step: ``momentum``, or 1/t (a cumulative average) when momentum is None."""
        if self.training and self.track_running_stats:
            self.num_batches_tracked.data += 1
            return 1.0 / float(self.num_batches_tracked.data) if self.momentum is None else self.momentum
        return 0.0 if self.momentum is None else self.momentum

    def _check_input(self, x, ndims):
        if x.ndim not in ndims or x.shape[1] != self.num_features:
            dims = " or ".join(f"{d}-D" for d in ndims)
            raise ValueError(
                f"{type(self).__name__}({self.num_features}): expected a {dims} input with {self.num_features} "
                f"channels in dim 1, got shape {x.shape}"
            )

    def extra_repr(self):
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
                f"track_running_stats={self.track_running_stats}")


class _BatchNorm(_NormBase):
    """y = γ·(x − μ_B)/√(σ²_B + ε) + β per channel, μ_B and σ²_B over the batch (and spatial dims).

    ``momentum`` follows PyTorch: running ← (1 − momentum)·running + momentum·batch (default 0.1).
    The notes use TensorFlow's form, moving ← decay·moving + (1 − decay)·batch with decay 0.99:
    pass ``decay=0.99`` (equivalently ``momentum=0.01``) to run the notes' formula as written.
    In eval mode the running statistics replace the batch statistics.
    """

    ndims = (2, 3, 4)

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True, *, decay=None,
                 dtype=None):
        super().__init__(num_features, eps, momentum, affine, track_running_stats, decay, dtype)

    def forward(self, x):
        """``F.batch_norm``: y = γ·(x − μ)/√(σ² + ε) + β per channel (dim 1) [note 003: batch normalization]; in
        training μ, σ² are the batch's (over N and the spatial dims) and the running statistics move by ``momentum``; in
        eval the running statistics are used [note 003: BN at test time]. x (N, C) or (N, C, L) for BatchNorm1d, (N, C,
        H, W) for BatchNorm2d; the output has x's shape. Raises ValueError when x's ndim or dim 1 doesn't fit."""
        self._check_input(x, self.ndims)
        factor = self._factor()
        use_batch = self.training or not self.track_running_stats
        return F.batch_norm(x, self.running_mean, self.running_var, self.weight, self.bias, use_batch, factor, self.eps)


class BatchNorm1d(_BatchNorm):
    """Batch normalization of (N, C) or (N, C, L) per feature/channel."""

    ndims = (2, 3)


class BatchNorm2d(_BatchNorm):
    """Batch normalization of (N, C, H, W) per channel over (N, H, W)."""

    ndims = (4,)


class _InstanceNorm(_NormBase):
    """Per (sample, channel) over the spatial dims; PyTorch's defaults: no affine, no running statistics."""

    ndims = (3, 4)

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=False, track_running_stats=False, *, dtype=None):
        super().__init__(num_features, eps, momentum, affine, track_running_stats, None, dtype)

    def forward(self, x):
        """``F.instance_norm``: y = γ·(x − μ)/√(σ² + ε) + β, μ, σ² per (sample, channel) over the spatial dims [note
        003: instance normalization]; x (N, C, L) for InstanceNorm1d, (N, C, H, W) for InstanceNorm2d; the output has
        x's shape. Raises ValueError when x's ndim or dim 1 doesn't fit."""
        self._check_input(x, self.ndims)
        # as torch: num_batches_tracked is not counted here, and momentum=None means no update (not 1/t)
        factor = 0.0 if self.momentum is None else self.momentum
        use_input_stats = self.training or not self.track_running_stats
        return F.instance_norm(x, self.running_mean, self.running_var, self.weight, self.bias, use_input_stats, factor,
                               self.eps)


class InstanceNorm1d(_InstanceNorm):
    """Instance normalization of (N, C, L)."""

    ndims = (3,)


class InstanceNorm2d(_InstanceNorm):
    """Instance normalization of (N, C, H, W)."""

    ndims = (4,)


class LayerNorm(Module):
    """Normalize each sample over its trailing ``normalized_shape`` dims, then an elementwise γ, β of
    that shape. The same computation in training and evaluation."""

    def __init__(self, normalized_shape, eps=1e-5, elementwise_affine=True, bias=True, dtype=None):
        super().__init__()
        self.normalized_shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
        self.eps, self.elementwise_affine = eps, elementwise_affine
        self.weight = Parameter(creation.ones(self.normalized_shape, dtype=dtype)) if elementwise_affine else None
        self.bias = Parameter(creation.zeros(self.normalized_shape, dtype=dtype)) if elementwise_affine and bias else None

    def forward(self, x):
        """``F.layer_norm``: y = γ·(x − μ)/√(σ² + ε) + β, μ, σ² per sample over the trailing ``normalized_shape`` dims
        [note 003: layer normalization]; the output has x's shape. Raises ValueError when x's trailing dims are not
        normalized_shape."""
        if x.shape[-len(self.normalized_shape):] != self.normalized_shape:
            raise ValueError(
                f"LayerNorm({self.normalized_shape}): expected an input whose trailing dims are "
                f"{self.normalized_shape}, got shape {x.shape}"
            )
        return F.layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self):
        return (f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}, "
                f"bias={self.bias is not None}")


class GroupNorm(Module):
    """Normalize each sample's channels in ``num_groups`` groups; per-channel γ, β."""

    def __init__(self, num_groups, num_channels, eps=1e-5, affine=True, dtype=None):
        super().__init__()
        if num_groups <= 0 or num_channels % num_groups:
            raise ValueError(f"GroupNorm: num_groups={num_groups} must divide num_channels={num_channels}")
        self.num_groups, self.num_channels, self.eps, self.affine = num_groups, num_channels, eps, affine
        self.weight = Parameter(creation.ones(num_channels, dtype=dtype)) if affine else None
        self.bias = Parameter(creation.zeros(num_channels, dtype=dtype)) if affine else None

    def forward(self, x):
        """``F.group_norm``: each sample's C channels split into num_groups groups, each normalized over its channels
        and spatial dims, then per-channel γ, β; x (N, C, *), the output has its shape. Raises ValueError when dim 1 is
        not num_channels."""
        if x.ndim < 2 or x.shape[1] != self.num_channels:
            raise ValueError(
                f"GroupNorm({self.num_groups}, {self.num_channels}): expected an input with {self.num_channels} "
                f"channels in dim 1, got shape {x.shape}"
            )
        return F.group_norm(x, self.num_groups, self.weight, self.bias, self.eps)

    def extra_repr(self):
        return f"{self.num_groups}, {self.num_channels}, eps={self.eps}, affine={self.affine}"


class LocalResponseNorm(Module):
    """AlexNet's normalization across ``size`` neighbouring channels [note 001]:
    x_c / (k + α/size·Σ_{c' near c} x_c'²)^β."""

    def __init__(self, size, alpha=1e-4, beta=0.75, k=1.0):
        super().__init__()
        self.size, self.alpha, self.beta, self.k = size, alpha, beta, k

    def forward(self, x):
        """``F.local_response_norm``: x_c / (k + α/size·Σ_{c' near c} x_c'²)^β over a window of ``size`` channels; x (N,
        C, *), the output has its shape."""
        return F.local_response_norm(x, self.size, self.alpha, self.beta, self.k)

    def extra_repr(self):
        return f"{self.size}, alpha={self.alpha}, beta={self.beta}, k={self.k}"
