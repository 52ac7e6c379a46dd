"""Pooling [note 000, note 003]: max and average, overlapping or not, adaptive and global.

Both work window offset by window offset: for each of the k_h·k_w offsets (i, j) one strided slice
of the padded input holds that offset's element of every window at once — a loop over the kernel,
never over pixels. The backward rules are note 000's:
  • average pooling hands each output gradient out in equal parts (÷ window size) to its window;
  • max pooling hands it only to the position that held the maximum (the first, on ties, as
    PyTorch), remembered in the forward.
1-D pooling is 2-D pooling of a height-1 image.
"""
import numpy as np

from ..autograd import Function
from ..tensor import Tensor
from .geometry import conv_output_size, pad_spatial, pair, single


def _offset_slice(i, j, stride, dilation, out_size):
    """Slice of the padded input holding element (i, j) of every window."""
    (sh, sw), (dh, dw), (ho, wo) = stride, dilation, out_size
    return (slice(None), slice(None), slice(i * dh, i * dh + sh * (ho - 1) + 1, sh),
            slice(j * dw, j * dw + sw * (wo - 1) + 1, sw))


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


class MaxPool2d(Function):
    """out[n, c, y, x] = max_{i,j} xp[n, c, y·s_h + i·d_h, x·s_w + j·d_w] (xp padded with −∞);
    dx: each g goes to the one position that held the max — the first, or the last NaN (PyTorch).

    The forward is a running np.maximum over the k_h·k_w offset slices (NaN propagates); the offset
    of each max is then found by equality, as the count of leading offsets that differ from it — only
    when the node is recorded (or the indices are asked for).
    """

    def forward(self, x, kernel, stride, dilation, out_size, pads):
        kh, kw = kernel
        xp = pad_spatial(x, pads, -np.inf)
        self.x_shape, self.padded_shape, self.pads = x.shape, xp.shape, pads
        self.kernel, self.stride, self.dilation, self.out_size = kernel, stride, dilation, out_size
        offsets = [xp[_offset_slice(k // kw, k % kw, stride, dilation, out_size)] for k in range(kh * kw)]
        out = offsets[0].copy()
        for cand in offsets[1:]:
            np.maximum(out, cand, out=out)
        if self.recording:
            self.arg = self._argmax(offsets, out)
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

    def backward(self, g):
        kh, kw = self.kernel
        (sh, sw), (dh, dw) = self.stride, self.dilation
        top, _, left, _ = self.pads
        h, w = self.x_shape[2:]
        ho, wo = self.out_size
        tiles = (sh, sw) == (kh, kw) and (dh, dw) == (1, 1) and (ho * sh, wo * sw) == self.padded_shape[2:]
        gxp = (np.empty if tiles else np.zeros)(self.padded_shape, dtype=g.dtype)  # tiled: every cell written once
        for k in range(kh * kw):
            view = gxp[_offset_slice(k // kw, k % kw, self.stride, self.dilation, self.out_size)]
            if tiles:
                np.multiply(self.arg == k, g, out=view)
            else:
                view += (self.arg == k) * g
        return gxp[:, :, top : top + h, left : left + w], None, None, None, None, None

    def indices(self):
        """Flat index into each input plane (H·W) of every max, as ``return_indices`` gives."""
        (_, kw), (sh, sw), (dh, dw) = self.kernel, self.stride, self.dilation
        top, _, left, _ = self.pads
        ho, wo = self.out_size
        rows = np.arange(ho)[:, None] * sh - top + (self.arg // kw) * dh
        cols = np.arange(wo)[None, :] * sw - left + (self.arg % kw) * dw
        return (rows * self.x_shape[3] + cols).astype(np.int64)


class AvgPool2d(Function):
    """out = Σ_{i,j} xp[..., y·s + i, x·s + j] / divisor(y, x) (xp zero-padded);
    dx: each g ÷ divisor is added to every position of its window."""

    def forward(self, x, kernel, stride, out_size, pads, padding, count_include_pad, divisor_override):
        kh, kw = kernel
        xp = pad_spatial(x, pads)
        self.x_shape, self.padded_shape, self.pads = x.shape, xp.shape, pads
        self.kernel, self.stride, self.out_size = kernel, stride, out_size
        out = np.zeros(x.shape[:2] + out_size, dtype=x.dtype)
        for k in range(kh * kw):
            out += xp[_offset_slice(k // kw, k % kw, stride, (1, 1), out_size)]
        if divisor_override:
            self.divisor = np.asarray(divisor_override, dtype=x.dtype)
        else:
            dh_ = _window_counts(x.shape[2], kh, stride[0], padding[0], out_size[0], count_include_pad)
            dw_ = _window_counts(x.shape[3], kw, stride[1], padding[1], out_size[1], count_include_pad)
            self.divisor = np.outer(dh_, dw_).astype(x.dtype)
        out /= self.divisor
        return out

    def backward(self, g):
        kh, kw = self.kernel
        top, _, left, _ = self.pads
        h, w = self.x_shape[2:]
        share = g / self.divisor
        gxp = np.zeros(self.padded_shape, dtype=g.dtype)
        for k in range(kh * kw):
            gxp[_offset_slice(k // kw, k % kw, self.stride, (1, 1), self.out_size)] += share
        return gxp[:, :, top : top + h, left : left + w], None, None, None, None, None, None, None


def _window_counts(size, kernel, stride, pad, out, count_include_pad):
    """Elements each window divides by, PyTorch's rule: windows are clipped to the padded input
    (size + pad on each side); without ``count_include_pad`` also to the input itself."""
    start = np.arange(out) * stride - pad
    end = np.minimum(start + kernel, size + pad)
    if count_include_pad:
        return end - start
    return np.minimum(end, size) - np.maximum(start, 0)


class AdaptiveAvgPool2d(Function):
    """out = P_h · x · P_wᵀ with P[o, i] = 1/|window o| for i in window o (windows from ⌊o·n/m⌋ to
    ⌈(o+1)·n/m⌉): average pooling is linear and separable; dx = P_hᵀ · g · P_w."""

    def forward(self, x, out_size):
        self.ph = _adaptive_matrix(x.shape[2], out_size[0], x.dtype)
        self.pw = _adaptive_matrix(x.shape[3], out_size[1], x.dtype)
        return np.matmul(np.matmul(self.ph, x), self.pw.T)

    def backward(self, g):
        return np.matmul(np.matmul(self.ph.T, g), self.pw), None


def adaptive_windows(size, out):
    """Start and end (exclusive) of each adaptive pooling window: ⌊o·size/out⌋ .. ⌈(o+1)·size/out⌉."""
    o = np.arange(out)
    return (o * size) // out, -((-(o + 1) * size) // out)


def _adaptive_matrix(size, out, dtype):
    start, end = adaptive_windows(size, out)
    idx = np.arange(size)
    inside = (idx[None, :] >= start[:, None]) & (idx[None, :] < end[:, None])
    return (inside / (end - start)[:, None]).astype(dtype)


class AdaptiveMax1d(Function):
    """Max over adaptive windows along the last axis; the gradient goes to each window's (first) argmax."""

    def forward(self, x, out):
        size = x.shape[-1]
        start, end = adaptive_windows(size, out)
        span = int((end - start).max())
        idx = np.minimum(start[:, None] + np.arange(span)[None, :], end[:, None] - 1)  # repeat the last inside
        gathered = x[..., idx]  # (..., out, span)
        first = np.argmax(gathered, axis=-1)
        nan = np.isnan(gathered)
        if nan.any():
            first = np.where(nan.any(-1), np.argmax(nan, axis=-1), first)
        self.pos = np.take_along_axis(np.broadcast_to(idx, gathered.shape), first[..., None], -1)[..., 0]
        self.x_shape = x.shape
        return np.take_along_axis(gathered, first[..., None], -1)[..., 0]

    def backward(self, g):
        pos = self.pos.reshape(-1, self.pos.shape[-1])
        gx = np.zeros((pos.shape[0], self.x_shape[-1]), dtype=g.dtype)
        rows = np.arange(pos.shape[0])[:, None]
        np.add.at(gx, (rows, pos), g.reshape(pos.shape))
        return gx.reshape(self.x_shape), None


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
    out = MaxPool2d.apply(x, kernel, stride, dilation, out_size, pads)
    if return_indices:
        node = out._ctx
        if node is None:  # no graph was recorded: rerun the forward, recording the positions
            node = MaxPool2d()
            node.needs = (True,)
            node.forward(x.data, kernel, stride, dilation, out_size, pads)
        idx = Tensor(node.indices())
        return (out.squeeze(0), idx.squeeze(0)) if unbatched else (out, idx)
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
    out = AvgPool2d.apply(x, kernel, stride, out_size, pads, padding, count_include_pad, divisor_override)
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
    """Average pooling to a fixed output size (None keeps that dim); windows as PyTorch's (equal
    windows when the size divides: a reshape and a mean; otherwise the separable matrices)."""
    op = "adaptive_avg_pool2d"
    unbatched = _image_input(input, op)
    x = input.unsqueeze(0) if unbatched else input
    (n, c, h, w), (oh, ow) = x.shape, _adaptive_size(x, output_size, op)
    if h % oh == 0 and w % ow == 0:  # equal windows that tile the input: a plain mean over each
        out = x.reshape(n, c, oh, h // oh, ow, w // ow).mean(dim=(3, 5))
    else:
        out = AdaptiveAvgPool2d.apply(x, (oh, ow))
    return out.squeeze(0) if unbatched else out


def adaptive_max_pool2d(input, output_size, return_indices=False):  # noqa: A002
    """Max pooling to a fixed output size: the max over a rectangle is the max over its rows of the
    max over its columns, so two 1-D adaptive max passes (width, then height) give it exactly."""
    op = "adaptive_max_pool2d"
    unbatched = _image_input(input, op)
    x = input.unsqueeze(0) if unbatched else input
    oh, ow = _adaptive_size(x, output_size, op)
    rows = AdaptiveMax1d.apply(x, ow)  # (N, C, H, ow)
    out_t = AdaptiveMax1d.apply(rows.transpose(2, 3), oh)  # (N, C, ow, oh)
    out = out_t.transpose(2, 3)
    if return_indices:
        width_fn, height_fn = _adaptive_fns(x, rows, out_t, ow, oh)
        h_idx = height_fn.pos.transpose(0, 1, 3, 2)  # (N, C, oh, ow): input row of each max
        w_idx = np.take_along_axis(width_fn.pos, h_idx, axis=2)
        idx = Tensor((h_idx * x.shape[3] + w_idx).astype(np.int64))
        return (out.squeeze(0), idx.squeeze(0)) if unbatched else (out, idx)
    return out.squeeze(0) if unbatched else out


def _adaptive_fns(x, rows, out_t, ow, oh):
    """The two AdaptiveMax1d nodes (recomputed when no graph was recorded)."""
    if rows._ctx is not None and out_t._ctx is not None:
        return rows._ctx, out_t._ctx
    width_fn, height_fn = AdaptiveMax1d(), AdaptiveMax1d()
    r = width_fn.forward(x.data, ow)
    height_fn.forward(r.transpose(0, 1, 3, 2), oh)
    return width_fn, height_fn


def global_avg_pool2d(input):  # noqa: A002
    """Mean over H and W, keeping (N, C, 1, 1) — global average pooling in place of big FC heads [note 001]."""
    _image_input(input, "global_avg_pool2d")
    return input.mean(dim=(-2, -1), keepdim=True)
