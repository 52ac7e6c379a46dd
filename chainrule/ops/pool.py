"""Pooling [note 000, note 003]: max and average, overlapping or not, adaptive and global.

A pooling window slides over each (H, W) plane as a convolution's does; the output is the max or the mean of
each window. The backward rules are note 000's:
  • average pooling hands each output gradient out in equal parts (÷ window size) to its window;
  • max pooling hands it only to the position that held the maximum (the first, on ties, as PyTorch),
    remembered in the forward.
1-D pooling is 2-D pooling of a height-1 image. The reference ops here gather the windows as they are
written; the fast kernels (``chainrule/kernels/pool.py``) compute the same without the copies.

Both backward rules are linear in g, so recorded (create_graph) they are linear ops again, whose own gradients
are their adjoints: max pooling's a scatter-add of g at the (constant) argmax indices — the adjoint a gather —,
average pooling's a fold (col2im) of each window's share — the adjoint an unfold, i.e. the pool again.
"""
import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from .. import runtime
from ..autograd import Function
from ..tensor import Tensor
from .geometry import conv_output_size, pad_spatial, pair, single
from .index import gather, scatter_add
from .padding import Pad
from .spatial import Fold, Resample, resample_matrix


def _geometry(x, kernel, stride, padding, dilation, ceil_mode, op, shape):
    """Output size and (top, bottom, left, right) padding large enough for every window. Errors name
    ``shape``, the input as the caller gave it, and for the 1-D ops the length dim only."""
    h, w = x.shape[2:]
    (kh, kw), (sh, sw), (ph, pw), (dh, dw) = kernel, stride, padding, dilation
    show = (lambda v: v[1]) if op.endswith("1d") else (lambda v: v)
    if min(kh, kw, sh, sw, dh, dw) < 1 or min(ph, pw) < 0:
        raise ValueError(f"{op}: kernel_size {show(kernel)}, stride {show(stride)} and dilation {show(dilation)} "
                         f"must be positive and padding {show(padding)} non-negative")
    if ph > kh // 2 or pw > kw // 2:
        raise ValueError(f"{op}: padding {show(padding)} must be at most half the kernel size {show(kernel)}")
    ho = conv_output_size(h, kh, sh, ph, dh, ceil_mode)
    wo = conv_output_size(w, kw, sw, pw, dw, ceil_mode)
    if ho <= 0 or wo <= 0:
        raise ValueError(f"{op}: kernel {show(kernel)} (dilation {show(dilation)}) is larger than the padded input "
                         f"of shape {shape}")
    bottom = max((ho - 1) * sh + dh * (kh - 1) + 1 - h - ph, 0)
    right = max((wo - 1) * sw + dw * (kw - 1) + 1 - w - pw, 0)
    return (ho, wo), (ph, bottom, pw, right)


def _windows(xp, kernel, stride, dilation, out_size):
    """Every window of the padded (N, C, H_p, W_p) array ``xp``, a view of shape (N, C, H_out, W_out, k_h, k_w):
    windows[n, c, y, x, i, j] = xp[n, c, y·s_h + i·d_h, x·s_w + j·d_w]."""
    (kh, kw), (sh, sw), (dh, dw), (ho, wo) = kernel, stride, dilation, out_size
    view = sliding_window_view(xp, ((kh - 1) * dh + 1, (kw - 1) * dw + 1), axis=(2, 3))
    return view[:, :, : (ho - 1) * sh + 1 : sh, : (wo - 1) * sw + 1 : sw, ::dh, ::dw]


def window_elements(i, j, stride, dilation, out_size):
    """Slice of the padded input holding element (i, j) of every window, shape (N, C, H_out, W_out)."""
    (sh, sw), (dh, dw), (ho, wo) = stride, dilation, out_size
    return (slice(None), slice(None), slice(i * dh, i * dh + sh * (ho - 1) + 1, sh),
            slice(j * dw, j * dw + sw * (wo - 1) + 1, sw))


def first_argmax(values):
    """Position along the last axis of each max: the first on ties, the last NaN where there is one — PyTorch's
    scan, which takes a value when ``val > max or isnan(val)``."""
    nan = np.isnan(values)
    last_nan = values.shape[-1] - 1 - np.argmax(nan[..., ::-1], axis=-1)
    return np.where(nan.any(axis=-1), last_nan, np.argmax(values, axis=-1))


def _route_to_max(g, rows, cols, shape):
    """dx of max pooling [note 003]: each g[n, c, y, x] added at (rows, cols)[n, c, y, x], where its window's max
    was, in zeros of ``shape`` — a position that is the max of several windows collects all their gradients."""
    n, c = np.ogrid[: shape[0], : shape[1]]
    gx = np.zeros(shape, dtype=g.dtype)
    np.add.at(gx, (n[:, :, None, None], c[:, :, None, None], rows, cols), g)
    return gx


def to_argmax(g, indices, shape):
    """dx of a max pool as recorded ops (create_graph): g (N, C, …) scatter-added at ``indices``, each max's flat
    index into the input's spatial plane (volume), of zeros of the input's ``shape`` — linear in g, whose
    derivative is the gather at the same (constant) indices."""
    n, c = shape[:2]
    zeros = Tensor(np.zeros((n, c, int(np.prod(shape[2:]))), dtype=g.data.dtype))
    return scatter_add(zeros, 2, Tensor(indices.reshape(n, c, -1)), g.reshape(n, c, -1)).reshape(shape)


class MaxPool2d(Function):
    """out[n, c, y, x] = max_{i,j} xp[n, c, y·s_h + i·d_h, x·s_w + j·d_w], xp the (N, C, H, W) input padded with −∞,
    out (N, C, H_out, W_out); dx: each g goes to the one position that held its window's max, every other gets 0
    [note 000, note 003]. The max is the first one on ties, the last NaN if any (PyTorch).
    With ``return_indices`` also each max's flat index into the input's H·W plane (int64, torch's indices)."""

    def forward(self, x, *, kernel, stride, dilation, out_size, pads, return_indices=False):
        xp = pad_spatial(x, pads, -np.inf)
        windows = _windows(xp, kernel, stride, dilation, out_size)  # (N, C, H_out, W_out, k_h, k_w)
        (ho, wo), (sh, sw), (dh, dw), (kh, kw) = out_size, stride, dilation, kernel
        k = first_argmax(windows.reshape(windows.shape[:4] + (kh * kw,)))  # i·k_w + j: which element is the max
        self.rows = np.arange(ho)[:, None] * sh + k // kw * dh  # where each max is in xp, (N, C, H_out, W_out)
        self.cols = np.arange(wo) * sw + k % kw * dw
        self.x_shape, self.padded_shape, self.pads = x.shape, xp.shape, pads
        out = windows.max(axis=(-2, -1))
        if return_indices:
            return out, self.indices()
        return out

    def backward(self, g, g_indices=None):
        top, _, left, _ = self.pads
        h, w = self.x_shape[2:]
        gxp = _route_to_max(g, self.rows, self.cols, self.padded_shape)
        return (gxp[:, :, top : top + h, left : left + w],)

    def backward_graph(self, g, g_indices=None):
        return (to_argmax(g, self.indices(), self.x_shape),)

    def indices(self):
        """Flat index into each input plane (H·W) of every max, as ``return_indices`` gives."""
        top, _, left, _ = self.pads
        return ((self.rows - top) * self.x_shape[3] + self.cols - left).astype(np.int64)


def _window_counts(size, kernel, stride, pad, out, count_include_pad):
    """Elements each window divides by, PyTorch's rule: windows are clipped to the padded input
    (size + pad on each side); without ``count_include_pad`` also to the input itself."""
    start = np.arange(out) * stride - pad
    end = np.minimum(start + kernel, size + pad)
    if count_include_pad:
        return end - start
    return np.minimum(end, size) - np.maximum(start, 0)


def avg_pool_divisor(x, kernel, stride, padding, out_size, count_include_pad, divisor_override):
    """What each window's sum is divided by: ``divisor_override``, else its element count, (H_out, W_out)."""
    if divisor_override:
        return np.asarray(divisor_override, dtype=x.dtype)
    rows = _window_counts(x.shape[2], kernel[0], stride[0], padding[0], out_size[0], count_include_pad)
    cols = _window_counts(x.shape[3], kernel[1], stride[1], padding[1], out_size[1], count_include_pad)
    return np.outer(rows, cols).astype(x.dtype)


class AvgPool2d(Function):
    """out[n, c, y, x] = Σ_{i,j} xp[n, c, y·s_h + i, x·s_w + j] / divisor[y, x], xp the (N, C, H, W) input
    zero-padded, out (N, C, H_out, W_out); dx: each g ÷ divisor is added to every position of its window — shared
    out in equal parts, not copied [note 000, note 003]."""

    def forward(self, x, *, kernel, stride, out_size, pads, padding, count_include_pad, divisor_override):
        xp = pad_spatial(x, pads)
        self.x_shape, self.padded_shape, self.pads = x.shape, xp.shape, pads
        self.kernel, self.stride, self.out_size = kernel, stride, out_size
        self.divisor = avg_pool_divisor(x, kernel, stride, padding, out_size, count_include_pad, divisor_override)
        return _windows(xp, kernel, stride, (1, 1), out_size).sum(axis=(-2, -1)) / self.divisor

    def backward(self, g):
        top, _, left, _ = self.pads
        h, w = self.x_shape[2:]
        share = g / self.divisor
        gxp = np.zeros(self.padded_shape, dtype=g.dtype)
        for i, j in np.ndindex(*self.kernel):  # element (i, j) of every window gets its share
            gxp[window_elements(i, j, self.stride, (1, 1), self.out_size)] += share
        return (gxp[:, :, top : top + h, left : left + w],)

    def backward_graph(self, g):
        """The same as recorded ops: every window's share as a column of k_h·k_w equal entries, folded (col2im)."""
        n, c, ho, wo = g.shape
        (kh, kw), (top, _, left, _), (h, w) = self.kernel, self.pads, self.x_shape[2:]
        share = (g / self.divisor).reshape(n, c, 1, ho * wo).expand(n, c, kh * kw, ho * wo)
        gxp = Fold.apply(share.reshape(n, c * kh * kw, ho * wo), output_size=self.padded_shape[2:], kernel=self.kernel,
                         stride=self.stride, padding=(0, 0), dilation=(1, 1), blocks=(ho, wo))
        return (gxp[:, :, top : top + h, left : left + w],)


def adaptive_windows(size, out):
    """Start and end (exclusive) of each adaptive pooling window: ⌊o·size/out⌋ .. ⌈(o+1)·size/out⌉."""
    o = np.arange(out)
    return (o * size) // out, -((-(o + 1) * size) // out)


def _adaptive_positions(size, out):
    """(out, span) positions of each adaptive window along one dim, span its longest window: a shorter window's
    row is filled up with its last position, ``inside`` (out, span) marks the true ones."""
    start, end = adaptive_windows(size, out)
    pos = start[:, None] + np.arange(int((end - start).max()))
    return np.minimum(pos, end[:, None] - 1), pos < end[:, None]


def _adaptive_windows(x, out_size):
    """Every adaptive window of the (N, C, H, W) array x: (N, C, H_out, W_out, span_h, span_w), the
    (H_out, W_out, span_h, span_w) mask of the true positions, and their rows and columns."""
    rows, row_in = _adaptive_positions(x.shape[2], out_size[0])
    cols, col_in = _adaptive_positions(x.shape[3], out_size[1])
    rows, cols = rows[:, None, :, None], cols[None, :, None, :]
    return x[:, :, rows, cols], row_in[:, None, :, None] & col_in[None, :, None, :], rows, cols


class AdaptiveAvgPool2d(Function):
    """out[n, c, y, x] = mean of x[n, c, h₀(y):h₁(y), w₀(x):w₁(x)], the windows from ⌊y·H/H_out⌋ to
    ⌈(y+1)·H/H_out⌉ (and so along W: of unequal size, overlapping, as PyTorch's), (N, C, H, W) → (N, C, H_out,
    W_out); dx: each g ÷ its window's size added to every position of the window [note 000]."""

    def forward(self, x, *, out_size):
        windows, self.inside, self.rows, self.cols = _adaptive_windows(x, out_size)
        self.x_shape, self.count = x.shape, self.inside.sum(axis=(-2, -1)).astype(x.dtype)
        return np.where(self.inside, windows, 0).sum(axis=(-2, -1)) / self.count

    def backward(self, g):
        gx = np.zeros(self.x_shape, dtype=g.dtype)
        share = (g / self.count)[..., None, None] * self.inside  # (N, C, H_out, W_out, span_h, span_w)
        np.add.at(gx, (slice(None), slice(None), self.rows, self.cols), share)
        return (gx,)

    def backward_graph(self, g):
        """The same as a recorded op: the pool is out = P_h · x · P_wᵀ (P the window means, ``interpolate``'s 'area'
        matrices), so dx = P_hᵀ · g · P_w — a Resample by the transposed matrices."""
        sizes = zip(self.inputs[0].shape[2:], g.shape[2:])
        return (Resample.apply(g, matrices=tuple((2 + d, resample_matrix(n, m, "area", False, None, g.data.dtype.type).T)
                                                 for d, (n, m) in enumerate(sizes))),)


class AdaptiveMaxPool2d(Function):
    """out[n, c, y, x] = max of x[n, c, h₀(y):h₁(y), w₀(x):w₁(x)], the windows of AdaptiveAvgPool2d; dx: each g
    goes to its window's max (the first on ties, the last NaN if any, as PyTorch) [note 000]. With
    ``return_indices`` also each max's flat index into the H·W plane (int64)."""

    def forward(self, x, *, out_size, return_indices=False):
        windows, inside, _, _ = _adaptive_windows(x, out_size)
        windows = np.where(inside, windows, -np.inf)  # the filled-up positions never win
        span_h, span_w = windows.shape[4:]
        k = first_argmax(windows.reshape(windows.shape[:4] + (span_h * span_w,)))  # i·span_w + j: which is the max
        top, left = (adaptive_windows(x.shape[2 + d], out_size[d])[0] for d in (0, 1))  # each window's first row, column
        self.rows, self.cols = top[:, None] + k // span_w, left + k % span_w  # where each max is in x
        self.x_shape = x.shape
        out = windows.max(axis=(-2, -1))
        if return_indices:
            return out, self.indices()
        return out

    def backward(self, g, g_indices=None):
        return (_route_to_max(g, self.rows, self.cols, self.x_shape),)

    def backward_graph(self, g, g_indices=None):
        return (to_argmax(g, self.indices(), self.x_shape),)

    def indices(self):
        """Flat index into each input plane (H·W) of every max, as ``return_indices`` gives."""
        return (self.rows * self.x_shape[3] + self.cols).astype(np.int64)


def _image_input(x, op, dims=4):
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}: expected a Tensor, got {type(x).__name__}")
    if x.ndim not in (dims - 1, dims):
        raise ValueError(f"{op}: expected a {dims - 1}-D or {dims}-D input, got shape {x.shape}")
    return x.ndim == dims - 1


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):  # noqa: A002
    """Max pooling over (N, C, H, W) or (C, H, W); ``stride`` defaults to ``kernel_size``."""
    return _max_pool(input, kernel_size, stride, padding, dilation, ceil_mode, return_indices, "max_pool2d",
                     getattr(input, "shape", None))


def _max_pool(input, kernel_size, stride, padding, dilation, ceil_mode, return_indices, op, shape):
    unbatched = _image_input(input, op)
    x = input.unsqueeze(0) if unbatched else input
    kernel = pair(kernel_size, "kernel_size", op)
    stride = kernel if stride is None else pair(stride, "stride", op)
    padding, dilation = pair(padding, "padding", op), pair(dilation, "dilation", op)
    out_size, pads = _geometry(x, kernel, stride, padding, dilation, ceil_mode, op, shape)
    out = (MaxPool2d if runtime.reference else fast.MaxPool2d).apply(
        x, kernel=kernel, stride=stride, dilation=dilation, out_size=out_size, pads=pads, return_indices=return_indices)
    if return_indices:
        return tuple(t.squeeze(0) for t in out) if unbatched else out
    return out.squeeze(0) if unbatched else out


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,  # noqa: A002
               divisor_override=None):
    """Average pooling over (N, C, H, W) or (C, H, W); ``stride`` defaults to ``kernel_size``."""
    return _avg_pool(input, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override, "avg_pool2d",
                     getattr(input, "shape", None))


def _avg_pool(input, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override, op, shape):
    unbatched = _image_input(input, op)
    x = input.unsqueeze(0) if unbatched else input
    kernel = pair(kernel_size, "kernel_size", op)
    stride = kernel if stride is None else pair(stride, "stride", op)
    padding = pair(padding, "padding", op)
    out_size, pads = _geometry(x, kernel, stride, padding, (1, 1), ceil_mode, op, shape)
    out = (AvgPool2d if runtime.reference else fast.AvgPool2d).apply(
        x, kernel=kernel, stride=stride, out_size=out_size, pads=pads, padding=padding,
        count_include_pad=count_include_pad, divisor_override=divisor_override)
    return out.squeeze(0) if unbatched else out


def max_pool1d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):  # noqa: A002
    """Max pooling over (N, C, L) or (C, L): max_pool2d of a height-1 image."""
    op = "max_pool1d"
    _image_input(input, op, dims=3)
    k = single(kernel_size, "kernel_size", op)
    s = k if stride is None else single(stride, "stride", op)
    out = _max_pool(input.unsqueeze(-2), (1, k), (1, s), (0, single(padding, "padding", op)),
                    (1, single(dilation, "dilation", op)), ceil_mode, return_indices, op, input.shape)
    if return_indices:
        return out[0].squeeze(-2), out[1].squeeze(-2)
    return out.squeeze(-2)


def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True):  # noqa: A002
    """Average pooling over (N, C, L) or (C, L): avg_pool2d of a height-1 image."""
    op = "avg_pool1d"
    _image_input(input, op, dims=3)
    k = single(kernel_size, "kernel_size", op)
    s = k if stride is None else single(stride, "stride", op)
    out = _avg_pool(input.unsqueeze(-2), (1, k), (1, s), (0, single(padding, "padding", op)), ceil_mode,
                    count_include_pad, None, op, input.shape)
    return out.squeeze(-2)


def _adaptive_size(x, output_size, op):
    size = (output_size, output_size) if isinstance(output_size, int) else tuple(output_size)
    if len(size) != 2:
        raise ValueError(f"{op}: output_size must be an int or a pair, got {output_size}")
    size = tuple(x.shape[-2 + i] if s is None else int(s) for i, s in enumerate(size))
    if min(size) <= 0:
        raise ValueError(f"{op}: output_size must be positive, got {output_size}")
    return size


def adaptive_avg_pool2d(input, output_size):  # noqa: A002
    """Average pooling of (N, C, H, W) or (C, H, W) to a fixed output size (None keeps that dim), windows as
    PyTorch's."""
    op = "adaptive_avg_pool2d"
    unbatched = _image_input(input, op)
    x = input.unsqueeze(0) if unbatched else input
    out_size = _adaptive_size(x, output_size, op)
    out = (AdaptiveAvgPool2d if runtime.reference else fast.AdaptiveAvgPool2d).apply(x, out_size=out_size)
    return out.squeeze(0) if unbatched else out


def adaptive_max_pool2d(input, output_size, return_indices=False):  # noqa: A002
    """Max pooling of (N, C, H, W) or (C, H, W) to a fixed output size (None keeps that dim), windows as
    PyTorch's."""
    op = "adaptive_max_pool2d"
    unbatched = _image_input(input, op)
    x = input.unsqueeze(0) if unbatched else input
    out_size = _adaptive_size(x, output_size, op)
    out = (AdaptiveMaxPool2d if runtime.reference else fast.AdaptiveMaxPool2d).apply(
        x, out_size=out_size, return_indices=return_indices)
    if return_indices:
        return tuple(t.squeeze(0) for t in out) if unbatched else out
    return out.squeeze(0) if unbatched else out


def global_avg_pool2d(input):  # noqa: A002
    """Mean over H and W, keeping (N, C, 1, 1) — global average pooling in place of big FC heads [note 001]."""
    _image_input(input, "global_avg_pool2d")
    return input.mean(dim=(-2, -1), keepdim=True)


# ----- 3-D pooling, max unpooling, power-average pooling (reference ops only) -----


def _windows3d(xp, kernel, stride, dilation, out_size):
    """Every window of the padded (N, C, D_p, H_p, W_p) array, a view (N, C, D_out, H_out, W_out, k_d, k_h, k_w)."""
    view = sliding_window_view(xp, tuple((k - 1) * d + 1 for k, d in zip(kernel, dilation)), axis=(2, 3, 4))
    return view[(slice(None), slice(None)) + tuple(slice(0, (o - 1) * s + 1, s) for o, s in zip(out_size, stride))
                + tuple(slice(None, None, d) for d in dilation)]


def _offset_slices(offset, stride, dilation, out_size):
    """Slice of the padded input holding element ``offset`` (i, j, l) of every window, (N, C, D_out, H_out, W_out)."""
    return (slice(None), slice(None)) + tuple(slice(i * d, i * d + s * (o - 1) + 1, s)
                                              for i, s, d, o in zip(offset, stride, dilation, out_size))


def _crop3d(gxp, pads, shape):
    return gxp[(slice(None), slice(None)) + tuple(slice(lo, lo + n) for (lo, _), n in zip(pads, shape[2:]))]


class MaxPool3d(Function):
    """out[n, c, z, y, x] = max_{i,j,l} xp[n, c, z·s_d + i·d_d, y·s_h + j·d_h, x·s_w + l·d_w], xp the (N, C, D, H, W)
    input padded with −∞; dx: each g goes to the one position that held its window's max (the first on ties, the
    last NaN if any, as MaxPool2d). With ``return_indices`` also each max's flat index into the D·H·W volume."""

    def forward(self, x, *, kernel, stride, dilation, out_size, pads, return_indices=False):
        xp = np.pad(x, ((0, 0), (0, 0)) + pads, constant_values=-np.inf)
        windows = _windows3d(xp, kernel, stride, dilation, out_size)
        k = first_argmax(windows.reshape(windows.shape[:5] + (-1,)))  # (i·k_h + j)·k_w + l: which element is the max
        offset = np.unravel_index(k, kernel)
        grid = np.ogrid[tuple(slice(0, o) for o in out_size)]
        self.where = tuple(grid[d] * stride[d] + offset[d] * dilation[d] for d in range(3))  # the max's (z, y, x) in xp
        self.x_shape, self.padded_shape, self.pads = x.shape, xp.shape, pads
        out = windows.max(axis=(-3, -2, -1))
        if return_indices:
            return out, self.indices()
        return out

    def backward(self, g, g_indices=None):
        n, c = np.ogrid[: g.shape[0], : g.shape[1]]
        gxp = np.zeros(self.padded_shape, dtype=g.dtype)
        np.add.at(gxp, (n[:, :, None, None, None], c[:, :, None, None, None]) + self.where, g)
        return (_crop3d(gxp, self.pads, self.x_shape),)

    def backward_graph(self, g, g_indices=None):
        return (to_argmax(g, self.indices(), self.x_shape),)

    def indices(self):
        """Flat index into each input volume (D·H·W) of every max, as ``return_indices`` gives."""
        inside = tuple(self.where[d] - self.pads[d][0] for d in range(3))
        return np.ravel_multi_index(inside, self.x_shape[2:]).astype(np.int64)


class AvgPool3d(Function):
    """out[n, c, z, y, x] = Σ_{i,j,l} xp[n, c, z·s_d + i, y·s_h + j, x·s_w + l] / divisor[z, y, x], xp the input
    zero-padded; the divisor as AvgPool2d's (window clipped to the padded input, and to the input itself without
    ``count_include_pad``; or ``divisor_override``). dx: each g ÷ divisor added to every position of its window."""

    def forward(self, x, *, kernel, stride, out_size, pads, padding, count_include_pad, divisor_override):
        xp = np.pad(x, ((0, 0), (0, 0)) + pads)
        self.x_shape, self.padded_shape, self.pads = x.shape, xp.shape, pads
        self.kernel, self.stride, self.out_size = kernel, stride, out_size
        if divisor_override:
            self.divisor = np.asarray(divisor_override, dtype=x.dtype)
        else:
            counts = [_window_counts(x.shape[2 + d], kernel[d], stride[d], padding[d], out_size[d], count_include_pad)
                      for d in range(3)]
            self.divisor = np.einsum("i,j,k->ijk", *counts).astype(x.dtype)
        return _windows3d(xp, kernel, stride, (1, 1, 1), out_size).sum(axis=(-3, -2, -1)) / self.divisor

    def backward(self, g):
        share = g / self.divisor
        gxp = np.zeros(self.padded_shape, dtype=g.dtype)
        for offset in np.ndindex(*self.kernel):  # element (i, j, l) of every window gets its share
            gxp[_offset_slices(offset, self.stride, (1, 1, 1), self.out_size)] += share
        return (_crop3d(gxp, self.pads, self.x_shape),)

    def decomposition(self, x, *, kernel, stride, out_size, pads, padding, count_include_pad, divisor_override):
        """The forward as recorded ops: Σ over the window offsets of a strided slice of x zero-padded, ÷ divisor."""
        if any(map(any, pads)):
            x = Pad.apply(x, widths=((0, 0), (0, 0)) + pads, value=0.0)
        total = None
        for offset in np.ndindex(*kernel):
            part = x[_offset_slices(offset, stride, (1, 1, 1), out_size)]
            total = part if total is None else total + part
        return total / self.divisor


def _triple(v, name, op):
    v = (int(v),) * 3 if isinstance(v, (int, np.integer)) else tuple(int(i) for i in v)
    if len(v) != 3:
        raise ValueError(f"{op}: {name} must be an int or a triple, got {v}")
    return v


def _geometry3d(x, kernel, stride, padding, dilation, ceil_mode, op, shape):
    """Output size and ((front, back), (top, bottom), (left, right)) padding large enough for every window."""
    if min(kernel + stride + dilation) < 1 or min(padding) < 0:
        raise ValueError(f"{op}: kernel_size {kernel}, stride {stride} and dilation {dilation} must be positive and "
                         f"padding {padding} non-negative")
    if any(p > k // 2 for p, k in zip(padding, kernel)):
        raise ValueError(f"{op}: padding {padding} must be at most half the kernel size {kernel}")
    out = tuple(conv_output_size(x.shape[2 + d], kernel[d], stride[d], padding[d], dilation[d], ceil_mode)
                for d in range(3))
    if min(out) <= 0:
        raise ValueError(f"{op}: kernel {kernel} (dilation {dilation}) is larger than the padded input of shape {shape}")
    pads = tuple((padding[d], max((out[d] - 1) * stride[d] + dilation[d] * (kernel[d] - 1) + 1 - x.shape[2 + d]
                                  - padding[d], 0)) for d in range(3))
    return out, pads


def max_pool3d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,  # noqa: A002
               return_indices=False):
    """Max pooling over (N, C, D, H, W) or (C, D, H, W); ``stride`` defaults to ``kernel_size``. Reference op only
    (no fast 3-D kernel)."""
    op = "max_pool3d"
    unbatched = _image_input(input, op, dims=5)
    x = input.unsqueeze(0) if unbatched else input
    kernel = _triple(kernel_size, "kernel_size", op)
    stride = kernel if stride is None else _triple(stride, "stride", op)
    padding, dilation = _triple(padding, "padding", op), _triple(dilation, "dilation", op)
    out_size, pads = _geometry3d(x, kernel, stride, padding, dilation, ceil_mode, op, input.shape)
    out = MaxPool3d.apply(x, kernel=kernel, stride=stride, dilation=dilation, out_size=out_size, pads=pads,
                          return_indices=return_indices)
    if return_indices:
        return tuple(t.squeeze(0) for t in out) if unbatched else out
    return out.squeeze(0) if unbatched else out


def avg_pool3d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,  # noqa: A002
               divisor_override=None):
    """Average pooling over (N, C, D, H, W) or (C, D, H, W); ``stride`` defaults to ``kernel_size``. Reference op
    only (no fast 3-D kernel)."""
    op = "avg_pool3d"
    unbatched = _image_input(input, op, dims=5)
    x = input.unsqueeze(0) if unbatched else input
    kernel = _triple(kernel_size, "kernel_size", op)
    stride = kernel if stride is None else _triple(stride, "stride", op)
    padding = _triple(padding, "padding", op)
    out_size, pads = _geometry3d(x, kernel, stride, padding, (1, 1, 1), ceil_mode, op, input.shape)
    out = AvgPool3d.apply(x, kernel=kernel, stride=stride, out_size=out_size, pads=pads, padding=padding,
                          count_include_pad=count_include_pad, divisor_override=divisor_override)
    return out.squeeze(0) if unbatched else out


class MaxUnpool2d(Function):
    """out (N, C, H_out, W_out) zeros, with out[n, c].flat[indices[n, c, y, x]] = x[n, c, y, x]: each pooled max put
    back where it came from (the adjoint of picking it). dx[n, c, y, x] = g[n, c].flat[indices[n, c, y, x]]."""

    def forward(self, x, *, indices, out_size):
        n, c = x.shape[:2]
        self.flat = indices.reshape(n, c, -1)
        out = np.zeros((n, c, out_size[0] * out_size[1]), dtype=x.dtype)
        np.put_along_axis(out, self.flat, x.reshape(n, c, -1), axis=2)
        self.x_shape = x.shape
        return out.reshape(n, c, *out_size)

    def backward(self, g):
        n, c = g.shape[:2]
        return (np.take_along_axis(g.reshape(n, c, -1), self.flat, axis=2).reshape(self.x_shape),)

    def backward_graph(self, g):
        n, c = g.shape[:2]
        return (gather(g.reshape(n, c, -1), 2, Tensor(self.flat)).reshape(self.x_shape),)


def max_unpool2d(input, indices, kernel_size, stride=None, padding=0, output_size=None):  # noqa: A002
    """The partial inverse of max_pool2d: (N, C, H, W) — or (C, H, W) — pooled values put at their ``indices``
    (max_pool2d's return_indices, flat into the H_out·W_out plane) of a zero (N, C, H_out, W_out) output,
    H_out = (H − 1)·stride − 2·padding + kernel_size, or ``output_size`` (the last two entries are used)."""
    op = "max_unpool2d"
    unbatched = _image_input(input, op)
    if not isinstance(indices, Tensor) or indices.dtype != np.int64 or indices.shape != input.shape:
        raise ValueError(f"{op}: indices must be an int64 Tensor of the input's shape {input.shape}, got "
                         f"{getattr(indices, 'dtype', type(indices).__name__)} {getattr(indices, 'shape', '')}")
    x, idx = (input.unsqueeze(0), indices.unsqueeze(0)) if unbatched else (input, indices)
    kernel = pair(kernel_size, "kernel_size", op)
    stride = kernel if stride is None else pair(stride, "stride", op)
    padding = pair(padding, "padding", op)
    default = tuple((x.shape[2 + d] - 1) * stride[d] - 2 * padding[d] + kernel[d] for d in range(2))
    out_size = default if output_size is None else tuple(int(s) for s in tuple(output_size)[-2:])
    if len(out_size) != 2 or any(not default[d] - stride[d] < out_size[d] < default[d] + stride[d] for d in range(2)):
        raise ValueError(f"{op}: output_size {output_size} must give (H_out, W_out) within stride {stride} of the "
                         f"default {default}, exclusive")
    plane = out_size[0] * out_size[1]
    if idx.numel() and (idx.data.min() < 0 or idx.data.max() >= plane):
        raise RuntimeError(f"{op}: indices must lie in [0, {plane}) for output size {out_size}, got values in "
                         f"[{idx.data.min()}, {idx.data.max()}]")
    out = MaxUnpool2d.apply(x, indices=idx.data, out_size=out_size)
    return out.squeeze(0) if unbatched else out


def lp_pool2d(input, norm_type, kernel_size, stride=None, ceil_mode=False):  # noqa: A002
    """Power-average pooling: out = (Σ_window x^p)^{1/p} over k_h×k_w windows of (N, C, H, W) or (C, H, W), as torch:
    the window sum is avg_pool2d(x^p)·k_h·k_w (p = 1: sum pooling; p → ∞: max pooling)."""
    kh, kw = pair(kernel_size, "kernel_size", "lp_pool2d")
    return (avg_pool2d(input ** norm_type, (kh, kw), stride, 0, ceil_mode) * (kh * kw)) ** (1.0 / norm_type)


def lp_pool1d(input, norm_type, kernel_size, stride=None, ceil_mode=False):  # noqa: A002
    """Power-average pooling over windows of length k of (N, C, L) or (C, L): (Σ_window x^p)^{1/p}."""
    k = single(kernel_size, "kernel_size", "lp_pool1d")
    return (avg_pool1d(input ** norm_type, k, stride, 0, ceil_mode) * k) ** (1.0 / norm_type)


from ..kernels import pool as fast  # noqa: E402 - the fast kernels subclass the ops above
