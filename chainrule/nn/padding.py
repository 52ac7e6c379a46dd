"""Padding layers: F.pad with a fixed width and mode. ``padding`` is an int (every side) or the 2·d widths
(left, right[, top, bottom[, front, back]]) of the last d dims, as torch's."""
from . import functional as F
from .module import Module


class _PadNd(Module):
    dims = 2
    mode = "constant"

    def __init__(self, padding):
        super().__init__()
        padding = (padding,) * (2 * self.dims) if isinstance(padding, int) else tuple(padding)
        if len(padding) != 2 * self.dims:
            raise ValueError(f"{type(self).__name__}: padding must be an int or a {2 * self.dims}-tuple, got {padding}")
        self.padding = padding

    def forward(self, x):
        """``F.pad(x, padding, mode)``: the last ``dims`` dims of x widened by (left, right[, top, bottom[, front,
        back]]) in the class's mode; negative widths crop. The other dims are kept."""
        return F.pad(x, self.padding, self.mode)

    def extra_repr(self):
        return f"{self.padding}"


class _ConstantPadNd(_PadNd):
    def __init__(self, padding, value):
        super().__init__(padding)
        self.value = value

    def forward(self, x):
        """``F.pad(x, padding, 'constant', value)``: the last ``dims`` dims of x widened with ``value`` (negative widths
        crop)."""
        return F.pad(x, self.padding, "constant", self.value)

    def extra_repr(self):
        return f"padding={self.padding}, value={self.value}"


class ConstantPad1d(_ConstantPadNd):
    """Pads the last dim of (N, C, L) or (C, L) with ``value``."""
    dims = 1


class ConstantPad2d(_ConstantPadNd):
    """Pads the last 2 dims of (N, C, H, W) or (C, H, W) with ``value``."""
    dims = 2


class ConstantPad3d(_ConstantPadNd):
    """Pads the last 3 dims of (N, C, D, H, W) or (C, D, H, W) with ``value``."""
    dims = 3


class ZeroPad1d(ConstantPad1d):
    """Pads the last dim with zeros."""

    def __init__(self, padding):
        super().__init__(padding, 0.0)

    def extra_repr(self):
        return f"{self.padding}"


class ZeroPad2d(ZeroPad1d):
    """Pads the last 2 dims with zeros."""
    dims = 2


class ZeroPad3d(ZeroPad1d):
    """Pads the last 3 dims with zeros."""
    dims = 3


class ReflectionPad1d(_PadNd):
    """Pads the last dim with its reflection about the edge element (widths < the dim's size)."""
    dims, mode = 1, "reflect"


class ReflectionPad2d(ReflectionPad1d):
    """Pads the last 2 dims of (N, C, H, W) or (C, H, W) with their reflection about the edge elements (widths < each
    dim's size)."""
    dims = 2


class ReflectionPad3d(ReflectionPad1d):
    """Pads the last 3 dims of (N, C, D, H, W) or (C, D, H, W) with their reflection about the edge elements (widths <
    each dim's size)."""
    dims = 3


class ReplicationPad1d(_PadNd):
    """Pads the last dim by repeating its edge elements."""
    dims, mode = 1, "replicate"


class ReplicationPad2d(ReplicationPad1d):
    """Pads the last 2 dims of (N, C, H, W) or (C, H, W) by repeating their edge elements."""
    dims = 2


class ReplicationPad3d(ReplicationPad1d):
    """Pads the last 3 dims of (N, C, D, H, W) or (C, D, H, W) by repeating their edge elements."""
    dims = 3


class CircularPad1d(_PadNd):
    """Pads the last dim by wrapping it around (periodic boundary)."""
    dims, mode = 1, "circular"


class CircularPad2d(CircularPad1d):
    """Pads the last 2 dims of (N, C, H, W) or (C, H, W) by wrapping them around (periodic boundary)."""
    dims = 2


class CircularPad3d(CircularPad1d):
    """Pads the last 3 dims of (N, C, D, H, W) or (C, D, H, W) by wrapping them around (periodic boundary)."""
    dims = 3
