"""im2col and col2im as layers: Unfold lays every sliding window out as a column, Fold sums columns back."""
from . import functional as F
from .module import Module


class Unfold(Module):
    """(N, C, H, W) → (N, C·k_h·k_w, L): every k_h×k_w window as a column (F.unfold)."""

    def __init__(self, kernel_size, dilation=1, padding=0, stride=1):
        super().__init__()
        self.kernel_size, self.dilation, self.padding, self.stride = kernel_size, dilation, padding, stride

    def forward(self, x):
        """``F.unfold`` (im2col): x (N, C, H, W) → (N, C·k_h·k_w, L), L the number of window positions, Π ⌊(size +
        2·padding − dilation·(k − 1) − 1) / stride⌋ + 1."""
        return F.unfold(x, self.kernel_size, self.dilation, self.padding, self.stride)

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, dilation={self.dilation}, padding={self.padding}, stride={self.stride}"


class Fold(Module):
    """(N, C·k_h·k_w, L) → (N, C, H, W) of ``output_size``: columns added back onto their windows (F.fold)."""

    def __init__(self, output_size, kernel_size, dilation=1, padding=0, stride=1):
        super().__init__()
        self.output_size, self.kernel_size = output_size, kernel_size
        self.dilation, self.padding, self.stride = dilation, padding, stride

    def forward(self, x):
        """``F.fold`` (col2im): x (N, C·k_h·k_w, L) → (N, C, *output_size), each column added onto its window (overlaps
        sum); the adjoint of Unfold."""
        return F.fold(x, self.output_size, self.kernel_size, self.dilation, self.padding, self.stride)

    def extra_repr(self):
        return (f"output_size={self.output_size}, kernel_size={self.kernel_size}, dilation={self.dilation}, "
                f"padding={self.padding}, stride={self.stride}")
