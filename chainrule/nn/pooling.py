"""Pooling layers [note 000, note 003]: max, average, adaptive and global average."""
from . import functional as F
from .module import Module


class _Pool(Module):
    def __init__(self, kernel_size, stride=None, padding=0):
        super().__init__()
        self.kernel_size, self.padding = kernel_size, padding
        self.stride = kernel_size if stride is None else stride


class MaxPool2d(_Pool):
    """Max over k_h×k_w windows; ``stride`` defaults to ``kernel_size``; overlapping when stride < kernel
    (AlexNet's 3/2)."""

    def __init__(self, kernel_size, stride=None, padding=0, dilation=1, return_indices=False, ceil_mode=False):
        super().__init__(kernel_size, stride, padding)
        self.dilation, self.return_indices, self.ceil_mode = dilation, return_indices, ceil_mode

    def forward(self, x):
        """``F.max_pool2d``: the max of each k_h×k_w window [note 000: pooling], x (N, C, H, W) or (C, H, W) → (N, C,
        H_out, W_out), H_out = ⌊(H + 2·padding − dilation·(k − 1) − 1) / stride⌋ + 1 (⌈…⌉ with ceil_mode) [note 003:
        output size]; with return_indices, (output, indices of each max in the flattened H·W plane). The gradient goes
        to each window's max only [note 000: backpropagation through pooling]."""
        return F.max_pool2d(x, self.kernel_size, self.stride, self.padding, self.dilation, self.ceil_mode,
                            self.return_indices)

    def extra_repr(self):
        return (f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
                f"dilation={self.dilation}, ceil_mode={self.ceil_mode}")


class MaxPool1d(MaxPool2d):
    """Max over windows of length k of (N, C, L)."""

    def forward(self, x):
        """``F.max_pool1d``: the max of each window of length k, x (N, C, L) or (C, L) → (N, C, L_out), L_out as
        MaxPool2d's H_out; with return_indices, (output, indices)."""
        return F.max_pool1d(x, self.kernel_size, self.stride, self.padding, self.dilation, self.ceil_mode,
                            self.return_indices)


class AvgPool2d(_Pool):
    """Mean over k_h×k_w windows (``count_include_pad``: whether padded zeros count in the divisor)."""

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
                 divisor_override=None):
        super().__init__(kernel_size, stride, padding)
        self.ceil_mode, self.count_include_pad, self.divisor_override = ceil_mode, count_include_pad, divisor_override

    def forward(self, x):
        """``F.avg_pool2d``: the mean of each k_h×k_w window (divided by ``divisor_override`` when given; padded zeros
        count unless count_include_pad=False), x (N, C, H, W) or (C, H, W) → (N, C, H_out, W_out), H_out = ⌊(H +
        2·padding − k) / stride⌋ + 1 (⌈…⌉ with ceil_mode) [note 003: output size]. The gradient spreads evenly over each
        window [note 000: backpropagation through pooling]."""
        return F.avg_pool2d(x, self.kernel_size, self.stride, self.padding, self.ceil_mode, self.count_include_pad,
                            self.divisor_override)

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AvgPool1d(_Pool):
    """Mean over windows of length k of (N, C, L)."""

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True):
        super().__init__(kernel_size, stride, padding)
        self.ceil_mode, self.count_include_pad = ceil_mode, count_include_pad

    def forward(self, x):
        """``F.avg_pool1d``: the mean of each window of length k, x (N, C, L) or (C, L) → (N, C, L_out), L_out as
        AvgPool2d's H_out."""
        return F.avg_pool1d(x, self.kernel_size, self.stride, self.padding, self.ceil_mode, self.count_include_pad)

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AdaptiveAvgPool2d(Module):
    """Average pooling to a fixed ``output_size``; ``AdaptiveAvgPool2d((1, 1))`` is global average pooling."""

    def __init__(self, output_size):
        super().__init__()
        self.output_size = output_size

    def forward(self, x):
        """``F.adaptive_avg_pool2d``: x (N, C, H, W) or (C, H, W) → (N, C, *output_size), output cell i averaging rows
        ⌊i·H/H_out⌋ … ⌈(i + 1)·H/H_out⌉ − 1 (likewise for columns); None in output_size keeps that size."""
        return F.adaptive_avg_pool2d(x, self.output_size)

    def extra_repr(self):
        return f"output_size={self.output_size}"


class AdaptiveMaxPool2d(Module):
    """Max pooling to a fixed ``output_size``."""

    def __init__(self, output_size, return_indices=False):
        super().__init__()
        self.output_size, self.return_indices = output_size, return_indices

    def forward(self, x):
        """``F.adaptive_max_pool2d``: x (N, C, H, W) or (C, H, W) → (N, C, *output_size), each cell the max of its
        region (the regions as AdaptiveAvgPool2d's); with return_indices, (output, indices)."""
        return F.adaptive_max_pool2d(x, self.output_size, self.return_indices)

    def extra_repr(self):
        return f"output_size={self.output_size}"


class GlobalAvgPool2d(Module):
    """Mean over H and W → (N, C, 1, 1) [note 001: in place of large fully connected heads]."""

    def forward(self, x):
        """``F.global_avg_pool2d``: the mean over H and W, x (N, C, H, W) → (N, C, 1, 1)."""
        return F.global_avg_pool2d(x)


class MaxPool3d(MaxPool2d):
    """Max over k_d×k_h×k_w windows of (N, C, D, H, W) or (C, D, H, W) (reference speed)."""

    def forward(self, x):
        """``F.max_pool3d``: the max of each k_d×k_h×k_w window, x (N, C, D, H, W) or (C, D, H, W) → (N, C, D_out,
        H_out, W_out), each as MaxPool2d's H_out; with return_indices, (output, indices)."""
        return F.max_pool3d(x, self.kernel_size, self.stride, self.padding, self.dilation, self.ceil_mode,
                            self.return_indices)


class AvgPool3d(AvgPool2d):
    """Mean over k_d×k_h×k_w windows of (N, C, D, H, W) or (C, D, H, W) (reference speed)."""

    def forward(self, x):
        """``F.avg_pool3d``: the mean of each k_d×k_h×k_w window, x (N, C, D, H, W) or (C, D, H, W) → (N, C, D_out,
        H_out, W_out), each as AvgPool2d's H_out."""
        return F.avg_pool3d(x, self.kernel_size, self.stride, self.padding, self.ceil_mode, self.count_include_pad,
                            self.divisor_override)


class MaxUnpool2d(_Pool):
    """The partial inverse of MaxPool2d: ``forward(x, indices, output_size=None)`` puts each pooled max back at its
    index in a zero image (H_out = (H − 1)·stride − 2·padding + kernel_size unless ``output_size`` is given)."""

    def forward(self, x, indices, output_size=None):
        """``F.max_unpool2d``: x (N, C, H, W) and the indices MaxPool2d returned → (N, C, H_out, W_out), zeros except
        each value at its index; H_out = (H − 1)·stride − 2·padding + kernel_size unless ``output_size`` is given."""
        return F.max_unpool2d(x, indices, self.kernel_size, self.stride, self.padding, output_size)

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class LPPool2d(Module):
    """Power-average pooling (Σ_window x^p)^{1/p} over k_h×k_w windows (p = ``norm_type``)."""

    def __init__(self, norm_type, kernel_size, stride=None, ceil_mode=False):
        super().__init__()
        self.norm_type, self.kernel_size, self.stride, self.ceil_mode = norm_type, kernel_size, stride, ceil_mode

    def forward(self, x):
        """``F.lp_pool2d``: (Σ_window x^p)^{1/p} over each k_h×k_w window, x (N, C, H, W) or (C, H, W) → (N, C, H_out,
        W_out), no padding."""
        return F.lp_pool2d(x, self.norm_type, self.kernel_size, self.stride, self.ceil_mode)

    def extra_repr(self):
        return f"norm_type={self.norm_type}, kernel_size={self.kernel_size}, stride={self.stride}, ceil_mode={self.ceil_mode}"


class LPPool1d(LPPool2d):
    """Power-average pooling (Σ_window x^p)^{1/p} over windows of length k of (N, C, L) or (C, L)."""

    def forward(self, x):
        """``F.lp_pool1d``: (Σ_window x^p)^{1/p} over each window of length k, x (N, C, L) or (C, L) → (N, C, L_out), no
        padding."""
        return F.lp_pool1d(x, self.norm_type, self.kernel_size, self.stride, self.ceil_mode)
