"""Convolution and transposed-convolution layers [note 000, note 003] and the receptive-field formula."""
import math

from .. import creation
from . import functional as F
from . import init
from .module import Module, ModuleList, Parameter, Sequential


class _ConvNd(Module):
    """Shared parameters and PyTorch's default init: W, b ~ U(−1/√fan_in, 1/√fan_in), fan_in = weight.shape[1]·Πk
    (C_in/G for a convolution, C_out/G for a transposed one, whose weight is (C_in, C_out/G, k…))."""

    dims = 2
    transposed = False

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1, bias=True,
                 padding_mode="zeros", dtype=None):
        super().__init__()
        name = type(self).__name__
        if in_channels <= 0 or out_channels <= 0:
            raise ValueError(f"{name}: channels must be positive, got in={in_channels}, out={out_channels}")
        if groups <= 0 or in_channels % groups or out_channels % groups:
            raise ValueError(f"{name}: groups={groups} must divide in_channels={in_channels} and out_channels={out_channels}")
        if padding_mode != "zeros":
            raise ValueError(f"{name}: only padding_mode='zeros' is supported, got {padding_mode!r}")
        if isinstance(padding, str) and padding not in ("valid", "same", "full"):
            raise ValueError(f"{name}: padding must be an int, a tuple, 'valid', 'same' or 'full', got {padding!r}")
        tup = (lambda v: (v,) * self.dims if isinstance(v, int) else tuple(v))
        self.in_channels, self.out_channels, self.groups = in_channels, out_channels, groups
        self.kernel_size, self.stride, self.dilation = tup(kernel_size), tup(stride), tup(dilation)
        if min(self.kernel_size) < 1:  # torch builds the layer and fails at its first forward
            raise ValueError(f"{name}: kernel_size must be positive, got {kernel_size}")
        self.padding = padding if isinstance(padding, str) else tup(padding)
        self.padding_mode = padding_mode
        shape = (in_channels, out_channels // groups) if self.transposed else (out_channels, in_channels // groups)
        self.weight = Parameter(creation.empty(*shape, *self.kernel_size, dtype=dtype))
        self.bias = Parameter(creation.empty(out_channels, dtype=dtype)) if bias else None
        self.reset_parameters()

    def reset_parameters(self):
        """Draw the weight with ``kaiming_uniform_(a=√5)`` and the bias from U(−1/√fan_in, 1/√fan_in), fan_in =
        weight.shape[1]·Πk (torch's default); called by the constructor."""
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in = self.weight.shape[1] * math.prod(self.kernel_size)
            bound = 1 / math.sqrt(fan_in)
            init.uniform_(self.bias, -bound, bound)

    def _check_input(self, x):
        if x.ndim not in (self.dims + 1, self.dims + 2) or x.shape[-self.dims - 1] != self.in_channels:
            spatial = ", ".join("HW"[: self.dims] if self.dims == 2 else "L")
            raise ValueError(
                f"{self!r}: expected input of shape (N, {self.in_channels}, {spatial}) or ({self.in_channels}, {spatial}), "
                f"got {x.shape}"
            )

    def extra_repr(self):
        s = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}"
        if self.padding not in ((0,) * self.dims, "valid"):
            s += f", padding={self.padding!r}" if isinstance(self.padding, str) else f", padding={self.padding}"
        if self.dilation != (1,) * self.dims:
            s += f", dilation={self.dilation}"
        if self.transposed and self.output_padding != (0,) * self.dims:
            s += f", output_padding={self.output_padding}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        return s


class Conv2d(_ConvNd):
    """2-D convolution over (N, C_in, H, W) → (N, C_out, H_out, W_out). ``padding``: int, pair, 'valid',
    'same' (any stride: output ⌈H/stride⌉, TensorFlow's rule) or 'full'."""

    dims = 2

    def forward(self, x):
        """``F.conv2d(x, weight, bias, stride, padding, dilation, groups)``: x (N, C_in, H, W) or (C_in, H, W) → (N,
        C_out, H_out, W_out) (or without N), H_out = ⌊(H + 2·padding − dilation·(k − 1) − 1) / stride⌋ + 1 per spatial
        dim [note 003: output size]. Raises ValueError when x's ndim or channel count doesn't fit."""
        self._check_input(x)
        return F.conv2d(x, self.weight, self.bias, self.stride, self.padding, self.dilation, self.groups)


class Conv1d(_ConvNd):
    """1-D convolution over (N, C_in, L) → (N, C_out, L_out)."""

    dims = 1

    def forward(self, x):
        """``F.conv1d``: x (N, C_in, L) or (C_in, L) → (N, C_out, L_out) (or without N), L_out = ⌊(L + 2·padding −
        dilation·(k − 1) − 1) / stride⌋ + 1. Raises ValueError when x's ndim or channel count doesn't fit."""
        self._check_input(x)
        padding = self.padding if isinstance(self.padding, str) else self.padding[0]
        return F.conv1d(x, self.weight, self.bias, self.stride[0], padding, self.dilation[0], self.groups)


class _ConvTransposeNd(_ConvNd):
    """Shared by the transposed convolutions: torch's argument order (output_padding, groups, bias, then
    dilation), integer padding only, and ``output_size`` in forward — the output_padding that gives it."""

    transposed = True

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, output_padding=0, groups=1, bias=True,
                 dilation=1, padding_mode="zeros", dtype=None):
        name = type(self).__name__
        if isinstance(padding, str):
            raise ValueError(f"{name}: padding must be an int or a tuple, got {padding!r}")
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias, padding_mode,
                         dtype)
        self.output_padding = (output_padding,) * self.dims if isinstance(output_padding, int) else tuple(output_padding)

    def _output_padding(self, x, output_size):
        """output_size (the spatial sizes, or with the batch and channel dims too) → the output_padding that
        gives it: its offset from the smallest output, (H − 1)·s − 2p + d·(k − 1) + 1, less than the stride."""
        if output_size is None:
            return self.output_padding
        output_size = tuple(output_size)[-self.dims :] if len(output_size) in (x.ndim, x.ndim - 1) else tuple(output_size)
        if len(output_size) != self.dims:
            raise ValueError(f"{self!r}: output_size must have {self.dims} elements (or include the batch and channel "
                             f"dims), got {output_size}")
        smallest = [(n - 1) * s - 2 * p + d * (k - 1) + 1 for n, s, p, d, k in
                    zip(x.shape[-self.dims :], self.stride, self.padding, self.dilation, self.kernel_size)]
        largest = [m + s - 1 for m, s in zip(smallest, self.stride)]
        if any(not lo <= n <= hi for n, lo, hi in zip(output_size, smallest, largest)):
            raise ValueError(f"{self!r}: requested an output size of {output_size}, but valid sizes range from "
                             f"{tuple(smallest)} to {tuple(largest)} (for an input of {x.shape[-self.dims:]})")
        return tuple(n - m for n, m in zip(output_size, smallest))


class ConvTranspose2d(_ConvTransposeNd):
    """2-D transposed convolution over (N, C_in, H, W) → (N, C_out, H_out, W_out), weight (C_in, C_out/G, k_h, k_w):
    H_out = (H − 1)·stride − 2·padding + dilation·(k_h − 1) + output_padding + 1 — the input gradient of a
    Conv2d with the same arguments (an upsampling). ``forward(x, output_size=None)``: output_size picks the
    output_padding, as torch's."""

    dims = 2

    def forward(self, x, output_size=None):
        """``F.conv_transpose2d``: x (N, C_in, H, W) or (C_in, H, W) → (N, C_out, H_out, W_out), H_out = (H − 1)·stride
        − 2·padding + dilation·(k − 1) + output_padding + 1; ``output_size`` (the spatial sizes, optionally with N and
        C) picks the output_padding that gives it. Raises ValueError when x doesn't fit or output_size is out of reach.
        """
        self._check_input(x)
        return F.conv_transpose2d(x, self.weight, self.bias, self.stride, self.padding,
                                  self._output_padding(x, output_size), self.groups, self.dilation)


class ConvTranspose1d(_ConvTransposeNd):
    """1-D transposed convolution over (N, C_in, L) → (N, C_out, L_out), weight (C_in, C_out/G, k)."""

    dims = 1

    def forward(self, x, output_size=None):
        """``F.conv_transpose1d``: x (N, C_in, L) or (C_in, L) → (N, C_out, L_out), L_out = (L − 1)·stride − 2·padding +
        dilation·(k − 1) + output_padding + 1; ``output_size`` picks the output_padding. Raises ValueError when x
        doesn't fit or output_size is out of reach."""
        self._check_input(x)
        return F.conv_transpose1d(x, self.weight, self.bias, self.stride[0], self.padding[0],
                                  self._output_padding(x, output_size)[0], self.groups, self.dilation[0])


def _layer_geometry(layer):
    """(kernel, stride, dilation) of one spatial dim of a layer given as a tuple or a conv/pool module."""
    if isinstance(layer, Module):
        first = (lambda v: v[0] if isinstance(v, (tuple, list)) else v)
        k = first(getattr(layer, "kernel_size", 1))
        s = first(getattr(layer, "stride", None) or k)
        d = first(getattr(layer, "dilation", 1))
        return k, s, d
    k, s, *rest = layer
    return k, s, (rest[0] if rest else 1)


def _flat(layers):
    """The layers in order, nested Sequential / ModuleList blocks opened (VGG's stages, say): a container
    has no kernel of its own and would otherwise count as a 1×1 layer."""
    for layer in layers:
        if isinstance(layer, (Sequential, ModuleList)):
            yield from _flat(layer)
        else:
            yield layer


def receptive_field(layers):
    """Receptive field r and jump (cumulative stride) after a stack of layers [note 003]:
    r_n = r_{n−1} + (k_n − 1)·d_n·Π_{i<n} s_i, r_0 = 1. ``layers``: (kernel, stride[, dilation]) tuples
    or conv/pooling modules (their first spatial dim), in a list or a (nested) Sequential."""
    r, jump = 1, 1
    for layer in _flat(layers):
        k, s, d = _layer_geometry(layer)
        r += (k - 1) * d * jump
        jump *= s
    return r, jump


class Conv3d(_ConvNd):
    """3-D convolution over (N, C_in, D, H, W) → (N, C_out, D_out, H_out, W_out) (reference speed: no fast 3-D
    kernel). ``padding``: int, triple, 'valid', 'same' or 'full'."""

    dims = 3

    def forward(self, x):
        """``F.conv3d``: x (N, C_in, D, H, W) or (C_in, D, H, W) → (N, C_out, D_out, H_out, W_out) (or without N), H_out
        = ⌊(H + 2·padding − dilation·(k − 1) − 1) / stride⌋ + 1 per spatial dim [note 003: output size]. Raises
        ValueError when x's ndim or channel count doesn't fit."""
        if x.ndim not in (4, 5) or x.shape[-4] != self.in_channels:
            raise ValueError(f"{self!r}: expected input of shape (N, {self.in_channels}, D, H, W) or "
                             f"({self.in_channels}, D, H, W), got {x.shape}")
        return F.conv3d(x, self.weight, self.bias, self.stride, self.padding, self.dilation, self.groups)
