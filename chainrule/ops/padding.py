"""Padding: grow (or, with negative widths, crop) the last dims of a tensor, as torch.nn.functional.pad.

``pad`` lists (before, after) widths from the last dim backwards: (left, right) of W, then (top, bottom) of H,
then (front, back) of D. Four rules fill the new border:
  • constant:  the value;                                  x = [a b c d], pad 2 → v v a b c d v v
  • reflect:   the input mirrored about its edge element; → c b a b c d c b
  • replicate: the edge element repeated;                  → a a a b c d d d
  • circular:  the input wrapped around (periodic);        → c d a b c d a b
The last three read every output position from an input position, out = x[src(i)] along each padded dim,
so their gradient adds each output gradient back onto the position it was read from (an edge element
collects several). Constant padding copies the input into a larger canvas; its gradient is the canvas's
gradient cut back to the input.
"""
import numpy as np

from ..autograd import Function
from ..tensor import Tensor
from .index import IndexAdd


class Pad(Function):
    """out = a padded with a constant; ``widths`` is NumPy's ((before, after), ...) per dim. A negative width
    crops that many elements instead. dx: g cut back to the input's window (zero where the input was cropped)."""

    def forward(self, a, *, widths, value):
        self.shape, self.widths = a.shape, widths
        cropped = a[tuple(slice(max(-lo, 0), n - max(-hi, 0)) for (lo, hi), n in zip(widths, a.shape))]
        grown = tuple((max(lo, 0), max(hi, 0)) for lo, hi in widths)
        return np.pad(cropped, grown, mode="constant", constant_values=value)

    def backward(self, g):
        inside = g[tuple(slice(max(lo, 0), g.shape[d] - max(hi, 0)) for d, (lo, hi) in enumerate(self.widths))]
        return (np.pad(inside, tuple((max(-lo, 0), max(-hi, 0)) for lo, hi in self.widths)),)

    def backward_graph(self, g):  # cutting g back is padding it by the opposite widths
        return (Pad.apply(g, widths=tuple((-lo, -hi) for lo, hi in self.widths), value=0),)


def source_positions(n, before, after, mode):
    """The input position each of the n + before + after output positions reads along one dim. A negative width
    first crops the input to m elements starting at ``start``; then output position i (coordinate t = i − before
    in the cropped input) reads start + src(t):
    reflect  t ↦ (m−1) − |(m−1) − |t| mod 2(m−1)|;  replicate t ↦ clip(t, 0, m−1);  circular t ↦ t mod m."""
    start = max(-before, 0)
    m = n - start - max(-after, 0)
    t = np.arange(-max(before, 0), m + max(after, 0))
    if mode == "reflect":
        period = 2 * (m - 1)
        return start + ((m - 1) - np.abs((m - 1) - np.abs(t) % period) if period else np.zeros_like(t))
    if mode == "replicate":
        return start + np.clip(t, 0, m - 1)
    return start + t % m


class IndexPad(Function):
    """out = x[src_1(i_1), src_2(i_2), …] over the padded dims (reflect, replicate, circular); ``sources`` maps
    each padded axis to its source positions. dx: every g added back onto its source position, one axis at a
    time in reverse order (the adjoint of each gather)."""

    def forward(self, x, *, sources):
        self.sources, self.shape = sources, x.shape
        out = x
        for axis, src in sources:
            out = np.take(out, src, axis=axis)
        return out

    def backward(self, g):
        for axis, src in reversed(self.sources):
            shape = list(g.shape)
            shape[axis] = self.shape[axis]
            gx = np.zeros(shape, dtype=g.dtype)
            np.add.at(gx, (slice(None),) * axis + (src,), g)
            g = gx
        return (g,)

    def backward_graph(self, g):
        for axis, src in reversed(self.sources):
            shape = g.shape[:axis] + (self.shape[axis],) + g.shape[axis + 1:]
            g = IndexAdd.apply(Tensor(np.zeros(shape, g.data.dtype)), g, index=src, axis=axis, alpha=1)
        return (g,)


MODES = ("constant", "reflect", "replicate", "circular")


def pad(input, pad, mode="constant", value=None):  # noqa: A002 - torch's names
    """``input`` padded by ``pad`` = (left, right[, top, bottom[, front, back]]), from the last dim backwards.

    'constant' (with ``value``, 0 by default) pads any of the last len(pad)/2 dims and crops where a width is
    negative. 'reflect', 'replicate' and 'circular' pad 1, 2 or 3 spatial dims of a batched (N, C, …) or
    unbatched (C, …) input; reflect widths must be smaller than the dim, circular ones at most its size."""
    if not isinstance(input, Tensor):
        raise TypeError(f"pad: expected a Tensor input, got {type(input).__name__}")
    if mode not in MODES:
        raise NotImplementedError(f"pad: mode must be one of {', '.join(MODES)}, got {mode!r}")
    pad = tuple(int(p) for p in pad)
    if len(pad) % 2:
        raise RuntimeError(f"pad: padding length must be divisible by 2, got pad={pad}")
    dims = len(pad) // 2
    if dims > input.ndim:
        raise RuntimeError(f"pad: pad {pad} pads {dims} dims, more than the input's {input.ndim} (shape {input.shape})")
    widths = [(0, 0)] * input.ndim
    for i in range(dims):
        widths[input.ndim - 1 - i] = (pad[2 * i], pad[2 * i + 1])
    for d, (lo, hi) in enumerate(widths):
        if input.shape[d] + lo + hi < 0:
            raise RuntimeError(f"pad: pad {pad} gives dim {d} of input shape {input.shape} a negative size "
                               f"{input.shape[d] + lo + hi}")
    if mode == "constant":
        return Pad.apply(input, widths=tuple(widths), value=0 if value is None else value)
    if value is not None:
        raise RuntimeError(f"pad: mode {mode!r} does not take a value argument, got value={value}")
    if dims not in (1, 2, 3) or input.ndim not in (dims + 1, dims + 2):
        raise NotImplementedError(f"pad: mode {mode!r} pads the last 1, 2 or 3 dims of a (C, …) or (N, C, …) input: "
                                  f"pad of length {len(pad)} needs a {dims + 1}-D or {dims + 2}-D input, got shape "
                                  f"{input.shape}")
    sources = []
    for d in range(input.ndim - dims, input.ndim):
        (lo, hi), n = widths[d], input.shape[d]
        if mode == "reflect" and max(lo, hi) >= n:
            raise RuntimeError(f"pad: reflect padding {(lo, hi)} of dim {d} must be smaller than its size {n} "
                               f"(input shape {input.shape})")
        if mode == "circular" and max(lo, hi) > n:
            raise RuntimeError(f"pad: circular padding {(lo, hi)} of dim {d} must be at most its size {n} "
                               f"(input shape {input.shape})")
        if mode == "replicate" and n == 0:
            raise RuntimeError(f"pad: replicate padding needs a non-empty dim {d}, input shape {input.shape}")
        sources.append((d, source_positions(n, lo, hi, mode)))
    return IndexPad.apply(input, sources=tuple(sources))
