"""Fast kernels of the pooling ops in ``chainrule/ops/pool.py``: no window is ever gathered. A fixed-window pool
works offset by offset — for each of the k_h·k_w offsets (i, j) one strided slice of the padded input holds that
element of every window at once (``ops.pool.window_elements``) — and an adaptive pool is separable, one axis at a
time."""
import numpy as np

from ..ops import pool as reference
from ..ops.geometry import pad_spatial
from ..ops.pool import avg_pool_divisor, window_elements


class MaxPool2d(reference.MaxPool2d):
    """Must equal ``ops.pool.MaxPool2d``: the same values and indices, the same gradients. The forward is a running
    np.maximum over the k_h·k_w offset slices (NaN propagates) instead of an argmax over gathered windows; the
    offset of each max is then found by equality, as the count of leading offsets that differ from it (int8) —
    only when the node is recorded or the indices are asked for. The backward writes g where the offset matches,
    slice by slice, into an uninitialized array when the windows tile the input."""

    def forward(self, x, *, kernel, stride, dilation, out_size, pads, return_indices=False):
        kh, kw = kernel
        xp = pad_spatial(x, pads, -np.inf)
        self.x_shape, self.padded_shape, self.pads = x.shape, xp.shape, pads
        self.kernel, self.stride, self.dilation, self.out_size = kernel, stride, dilation, out_size
        offsets = [xp[window_elements(k // kw, k % kw, stride, dilation, out_size)] for k in range(kh * kw)]
        out = offsets[0].copy()
        for cand in offsets[1:]:
            np.maximum(out, cand, out=out)
        if self.recording or return_indices:
            self.arg = self._argmax(offsets, out)
        if return_indices:
            return out, self.indices()
        return out

    @staticmethod
    def _argmax(offsets, out):
        """Which offset k of the window held each max (int8 for windows of ≤ 127)."""
        arg = np.zeros(out.shape, dtype=np.int8 if len(offsets) <= 127 else np.int32)
        differ = np.ones(out.shape, dtype=bool)
        for cand in offsets[:-1]:
            np.logical_and(differ, cand != out, out=differ)
            np.add(arg, differ, out=arg, casting="unsafe")
        nan = np.isnan(out)
        if nan.any():  # a NaN max goes to the window's last NaN, as PyTorch's `val > max || isnan(val)`
            for k, cand in enumerate(offsets):
                arg[nan & np.isnan(cand)] = k
        return arg

    def backward(self, g, g_indices=None):
        kh, kw = self.kernel
        (sh, sw), (dh, dw) = self.stride, self.dilation
        top, _, left, _ = self.pads
        h, w = self.x_shape[2:]
        ho, wo = self.out_size
        tiles = (sh, sw) == (kh, kw) and (dh, dw) == (1, 1) and (ho * sh, wo * sw) == self.padded_shape[2:]
        gxp = (np.empty if tiles else np.zeros)(self.padded_shape, dtype=g.dtype)  # tiled: every cell written once
        for k in range(kh * kw):
            view = gxp[window_elements(k // kw, k % kw, self.stride, self.dilation, self.out_size)]
            if tiles:
                np.multiply(self.arg == k, g, out=view)
            else:
                view += (self.arg == k) * g
        return (gxp[:, :, top : top + h, left : left + w],)

    def indices(self):
        """Flat index into each input plane (H·W) of every max, as ``return_indices`` gives."""
        (_, kw), (sh, sw), (dh, dw) = self.kernel, self.stride, self.dilation
        top, _, left, _ = self.pads
        ho, wo = self.out_size
        rows = np.arange(ho)[:, None] * sh - top + (self.arg // kw) * dh
        cols = np.arange(wo)[None, :] * sw - left + (self.arg % kw) * dw
        return (rows * self.x_shape[3] + cols).astype(np.int64)


class AvgPool2d(reference.AvgPool2d):
    """Must equal ``ops.pool.AvgPool2d`` up to rounding: the window sums are accumulated offset slice by offset
    slice into one output array instead of summing gathered windows. The backward is the reference's (already
    slice by slice)."""

    def forward(self, x, *, kernel, stride, out_size, pads, padding, count_include_pad, divisor_override):
        kh, kw = kernel
        xp = pad_spatial(x, pads)
        self.x_shape, self.padded_shape, self.pads = x.shape, xp.shape, pads
        self.kernel, self.stride, self.out_size = kernel, stride, out_size
        out = np.zeros(x.shape[:2] + out_size, dtype=x.dtype)
        for k in range(kh * kw):
            out += xp[window_elements(k // kw, k % kw, stride, (1, 1), out_size)]
        self.divisor = avg_pool_divisor(x, kernel, stride, padding, out_size, count_include_pad, divisor_override)
        out /= self.divisor
        return out


def _adaptive_matrix(size, out, dtype):
    """P (out, size) with P[o, i] = 1/|window o| for i in window o, else 0."""
    start, end = reference.adaptive_windows(size, out)
    idx = np.arange(size)
    inside = (idx[None, :] >= start[:, None]) & (idx[None, :] < end[:, None])
    return (inside / (end - start)[:, None]).astype(dtype)


class AdaptiveAvgPool2d(reference.AdaptiveAvgPool2d):
    """Must equal ``ops.pool.AdaptiveAvgPool2d`` up to rounding, without gathering windows. When the sizes divide,
    the windows tile the input: a reshape and a mean, dx = g / window size broadcast back. Otherwise average
    pooling is linear and separable: out = P_h · x · P_wᵀ with P[o, i] = 1/|window o| for i in window o, and
    dx = P_hᵀ · g · P_w — four matmuls."""

    def forward(self, x, *, out_size):
        (n, c, h, w), (oh, ow) = x.shape, out_size
        self.x_shape, self.tiles = x.shape, h % oh == 0 and w % ow == 0
        if self.tiles:
            return x.reshape(n, c, oh, h // oh, ow, w // ow).mean(axis=(3, 5))
        self.ph = _adaptive_matrix(h, oh, x.dtype)
        self.pw = _adaptive_matrix(w, ow, x.dtype)
        return np.matmul(np.matmul(self.ph, x), self.pw.T)

    def backward(self, g):
        if not self.tiles:
            return (np.matmul(np.matmul(self.ph.T, g), self.pw),)
        (n, c, h, w), (oh, ow) = self.x_shape, g.shape[2:]
        share = g / ((h // oh) * (w // ow))
        return (np.broadcast_to(share[:, :, :, None, :, None], (n, c, oh, h // oh, ow, w // ow)).reshape(self.x_shape),)


def _adaptive_max_last(x, out):
    """Max over adaptive windows along the last axis: (…, size) → the values (…, out) and the position of each
    (…, out): the first max, the last NaN if any."""
    size = x.shape[-1]
    start, end = reference.adaptive_windows(size, out)
    span = int((end - start).max())
    idx = np.minimum(start[:, None] + np.arange(span)[None, :], end[:, None] - 1)  # repeat the last inside
    gathered = x[..., idx]  # (..., out, span)
    first = np.argmax(gathered, axis=-1)
    nan = np.isnan(gathered)
    if nan.any():
        first = np.where(nan.any(-1), span - 1 - np.argmax(nan[..., ::-1], axis=-1), first)
    pos = np.take_along_axis(np.broadcast_to(idx, gathered.shape), first[..., None], -1)[..., 0]
    return np.take_along_axis(gathered, first[..., None], -1)[..., 0], pos


def _add_at_last(g, pos, size):
    """The adjoint of ``_adaptive_max_last``: each g (…, out) added at its position along a last axis of ``size``."""
    pos = pos.reshape(-1, pos.shape[-1])
    gx = np.zeros((pos.shape[0], size), dtype=g.dtype)
    np.add.at(gx, (np.arange(pos.shape[0])[:, None], pos), g.reshape(pos.shape))
    return gx


class AdaptiveMaxPool2d(reference.AdaptiveMaxPool2d):
    """Must equal ``ops.pool.AdaptiveMaxPool2d``: the same values, indices and gradients. The max over a rectangle
    is the max over its rows of the max over its columns, so two 1-D adaptive max passes (width, then height) give
    it exactly — the first max in row-major order on ties, the last NaN — gathering windows of one axis at a time;
    the backward is the two passes' scatters in reverse."""

    def forward(self, x, *, out_size, return_indices=False):
        oh, ow = out_size
        self.x_shape = x.shape
        rows, self.col_pos = _adaptive_max_last(x, ow)  # (N, C, H, ow)
        out_t, self.row_pos = _adaptive_max_last(rows.transpose(0, 1, 3, 2), oh)  # (N, C, ow, oh)
        out = out_t.transpose(0, 1, 3, 2)
        if return_indices:
            return out, self.indices()
        return out

    def indices(self):
        """Flat index into each input plane (H·W) of every max, as ``return_indices`` gives."""
        h_idx = self.row_pos.transpose(0, 1, 3, 2)  # (N, C, oh, ow): input row of each max
        w_idx = np.take_along_axis(self.col_pos, h_idx, axis=2)
        return (h_idx * self.x_shape[3] + w_idx).astype(np.int64)

    def backward(self, g, g_indices=None):
        n, c, h, w = self.x_shape
        ow = g.shape[3]
        g_rows = _add_at_last(g.transpose(0, 1, 3, 2), self.row_pos, h).reshape(n, c, ow, h)
        return (_add_at_last(g_rows.transpose(0, 1, 3, 2), self.col_pos, w).reshape(self.x_shape),)
