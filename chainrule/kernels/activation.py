"""Fast kernels of the activations in ``chainrule/ops/activation.py``."""
import numpy as np

from ..ops import activation as reference
from .parallel import map_rows


ZEROS_BLOCK = 1 << 16
_zeros = {}  # dtype → a read-only block of ZEROS_BLOCK zeros


def _by_blocks(n, fn):
    """``fn(lo, hi)`` over consecutive blocks of ZEROS_BLOCK of n flat elements, the blocks shared out
    between the threads (one block: a plain call)."""
    if n <= ZEROS_BLOCK:
        return fn(0, n)

    def part(blocks):
        for i in range(blocks.start, blocks.stop):
            fn(i * ZEROS_BLOCK, min((i + 1) * ZEROS_BLOCK, n))

    map_rows(part, -(-n // ZEROS_BLOCK))


def positive_part(x, mask=None):
    """max(x, 0) elementwise, NaN kept; with ``mask`` (a bool array of x's shape) also mask ← not x ≤ 0.
    NumPy's maximum against the scalar 0 runs at 0.48 ns per float32 element here, against an array
    of zeros at 0.2 ns (SIMD): so x is compared with one block of zeros, ZEROS_BLOCK elements at a time
    (8,192 elements: 5.0 → 3.2 µs; 2M: 1.0 → 0.4 ms), the blocks shared out between the threads."""
    zeros = _zeros.get(x.dtype)
    if zeros is None:
        zeros = _zeros[x.dtype] = np.zeros(ZEROS_BLOCK, dtype=x.dtype)
        zeros.flags.writeable = False
    flat, out = x.reshape(-1), np.empty(x.shape, dtype=x.dtype)
    flat_out, flat_mask = out.reshape(-1), None if mask is None else mask.reshape(-1)

    def block(lo, hi):
        np.maximum(flat[lo:hi], zeros[: hi - lo], out=flat_out[lo:hi])
        if flat_mask is not None:
            np.less_equal(flat[lo:hi], 0, out=flat_mask[lo:hi])
            np.logical_not(flat_mask[lo:hi], out=flat_mask[lo:hi])

    _by_blocks(flat.size, block)
    return out


class ReLU(reference.ReLU):
    """Must equal ``ops.activation.ReLU``, bit for bit: the same max and mask, each computed by
    ``positive_part`` (against a block of zeros, split over threads) and the gradient g·mask in blocks."""

    def forward(self, x):
        if not self.recording:
            return positive_part(x)
        self.mask = np.empty(x.shape, dtype=bool)
        return positive_part(x, self.mask)

    def backward(self, g):
        flat_g, flat_mask = g.reshape(-1), self.mask.reshape(-1)
        gx = np.empty(g.shape, dtype=g.dtype)
        flat_gx = gx.reshape(-1)
        _by_blocks(flat_g.size, lambda lo, hi: np.multiply(flat_g[lo:hi], flat_mask[lo:hi], out=flat_gx[lo:hi]))
        return (gx,)
