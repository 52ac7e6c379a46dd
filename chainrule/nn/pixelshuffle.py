"""Sub-pixel layers: PixelShuffle (C·r² channels → r× the resolution) and its inverse, PixelUnshuffle."""
from . import functional as F
from .module import Module


class PixelShuffle(Module):
    """(*, C·r², H, W) → (*, C, H·r, W·r), r = ``upscale_factor``."""

    def __init__(self, upscale_factor):
        super().__init__()
        self.upscale_factor = upscale_factor

    def forward(self, x):
        """``F.pixel_shuffle(x, r)``: (*, C·r², H, W) → (*, C, H·r, W·r), each group of r² channels laid out as an r×r
        block. Raises when the channel count is not a multiple of r²."""
        return F.pixel_shuffle(x, self.upscale_factor)

    def extra_repr(self):
        return f"upscale_factor={self.upscale_factor}"


class PixelUnshuffle(Module):
    """(*, C, H·r, W·r) → (*, C·r², H, W), r = ``downscale_factor``."""

    def __init__(self, downscale_factor):
        super().__init__()
        self.downscale_factor = downscale_factor

    def forward(self, x):
        """``F.pixel_unshuffle(x, r)``: (*, C, H·r, W·r) → (*, C·r², H, W), PixelShuffle's inverse. Raises when H or W
        is not a multiple of r."""
        return F.pixel_unshuffle(x, self.downscale_factor)

    def extra_repr(self):
        return f"downscale_factor={self.downscale_factor}"
