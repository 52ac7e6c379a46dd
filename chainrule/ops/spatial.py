"""Spatial rearrangements of images: resampling (interpolate), pixel shuffle, and im2col / col2im as ops.

**Resampling is a matrix along each dim.** Every mode of ``interpolate`` computes each output position from a
few input positions along one dim with fixed weights: nearest copies one, linear mixes two, cubic four, area
averages a window. Written as a matrix M (out, in), the 1-D resample is out = M @ x along that dim, and the
2-D / 3-D ones (bilinear, bicubic, trilinear, …) apply one such matrix per spatial dim, since their weights are
products of per-dim weights. The gradient is the transpose: dx = Mᵀ @ g along each dim, in reverse order —
nearest's Mᵀ adds each gradient to the pixel it was copied from, linear's shares it between two.

**Pixel shuffle** moves r×r channel groups into r×r spatial blocks (sub-pixel convolution), a reshape and a
permute; pixel unshuffle is its inverse.

**unfold / fold** are the im2col and col2im of the convolution notes [note 003] as public ops: unfold lays
every k_h×k_w window of the zero-padded input out as a column, fold adds columns back onto the image (an
overlap gets their sum) — each is the other's adjoint, so each one's gradient is the other.
"""
import math

import numpy as np

from ..autograd import Function
from ..tensor import Tensor
from .conv import col2im, im2col
from .geometry import pad_spatial, pair

# ----- interpolate ---------------------------------------------------------------------------------------

_LINEAR = {"linear": 1, "bilinear": 2, "bicubic": 2, "trilinear": 3}  # mode → the spatial dims it needs
MODES = ("nearest", "nearest-exact", "linear", "bilinear", "bicubic", "trilinear", "area")


def _source_coordinate(n_in, n_out, align_corners, scale, dtype, cubic=False):
    """Each output position's coordinate in the input, torch's rule: with ``align_corners`` the corner pixels'
    centres meet, src = dst·(in − 1)/(out − 1); else pixel centres are scaled, src = (dst + ½)·s − ½ with
    s = 1/scale_factor (or in/out), clamped at 0 except for cubic."""
    dst = np.arange(n_out, dtype=dtype)
    if align_corners:
        return dst * dtype((n_in - 1) / (n_out - 1) if n_out > 1 else 0)
    s = dtype(1.0 / scale if scale else n_in / n_out)
    src = (dst + dtype(0.5)) * s - dtype(0.5)
    return src if cubic else np.maximum(src, 0)


def _cubic_weights(t, a=-0.75):
    """Keys' cubic convolution weights of the taps at −1, 0, 1, 2 for a point t ∈ [0, 1) past tap 0 (a = −0.75)."""
    near = lambda x: ((a + 2) * x - (a + 3)) * x * x + 1  # noqa: E731 - |x| ≤ 1
    far = lambda x: ((a * x - 5 * a) * x + 8 * a) * x - 4 * a  # noqa: E731 - 1 < |x| < 2
    return np.stack([far(t + 1), near(t), near(1 - t), far(2 - t)], axis=-1)


def resample_matrix(n_in, n_out, mode, align_corners, scale, dtype):
    """The (n_out, n_in) matrix M of one dim's resampling: out = M @ x along that dim.

    nearest: src = min(⌊dst·s⌋, in − 1);  nearest-exact: min(⌊(dst + ½)·s⌋, in − 1)  (s in float32, as torch);
    linear:  (1 − λ)·x[i₀] + λ·x[i₁], i₀ = ⌊src⌋, i₁ = min(i₀ + 1, in − 1), λ = src − i₀;
    cubic:   Σ_k w_k(src − ⌊src⌋)·x[clip(⌊src⌋ − 1 + k, 0, in − 1)], k = 0..3;
    area:    the mean of x[⌊dst·in/out⌋ : ⌈(dst + 1)·in/out⌉] (adaptive average pooling)."""
    m = np.zeros((n_out, n_in), dtype=dtype)
    rows = np.arange(n_out)
    if mode in ("nearest", "nearest-exact"):
        s = np.float32(1.0 / scale if scale else n_in / n_out)
        dst = rows.astype(np.float32) + (np.float32(0.5) if mode == "nearest-exact" else 0)
        src = np.minimum(np.floor(dst * s).astype(np.int64), n_in - 1)
        if mode == "nearest" and n_out in (n_in, 2 * n_in):  # torch's exact shortcuts for ×1 and ×2
            src = rows * n_in // n_out
        m[rows, src] = 1
    elif mode == "area":
        start, end = (rows * n_in) // n_out, -((-(rows + 1) * n_in) // n_out)
        cols = np.arange(n_in)
        inside = (cols >= start[:, None]) & (cols < end[:, None])
        m[:] = inside / (end - start)[:, None]
    elif mode == "bicubic":
        src = _source_coordinate(n_in, n_out, align_corners, scale, dtype, cubic=True)
        i0 = np.floor(src).astype(np.int64)
        w = _cubic_weights(src - i0)
        for k in range(4):
            np.add.at(m, (rows, np.clip(i0 - 1 + k, 0, n_in - 1)), w[:, k])
    else:
        src = _source_coordinate(n_in, n_out, align_corners, scale, dtype)
        i0 = src.astype(np.int64)
        lam = np.clip(src - i0, 0, 1)
        np.add.at(m, (rows, i0), 1 - lam)
        np.add.at(m, (rows, np.minimum(i0 + 1, n_in - 1)), lam)
    return m


class Resample(Function):
    """out = x ×_d M_d for each resampled axis d (the matrix applied along that axis): x (N, C, *in) →
    (N, C, *out). dx = g ×_d M_dᵀ, the axes in reverse order."""

    def forward(self, x, *, matrices):
        self.matrices = matrices
        for axis, m in matrices:
            x = np.moveaxis(np.tensordot(m, x, axes=(1, axis)), 0, axis)
        return x

    def backward(self, g):
        for axis, m in reversed(self.matrices):
            g = np.moveaxis(np.tensordot(m.T, g, axes=(1, axis)), 0, axis)
        return (g,)

    def backward_graph(self, g):
        return (Resample.apply(g, matrices=tuple((axis, m.T) for axis, m in reversed(self.matrices))),)


def interpolate(input, size=None, scale_factor=None, mode="nearest", align_corners=None,  # noqa: A002
                recompute_scale_factor=None, antialias=False):
    """Resample the spatial dims of (N, C, L), (N, C, H, W) or (N, C, D, H, W) to ``size`` or by ``scale_factor``
    (output ⌊in·scale_factor⌋; the scale itself is used for the coordinates unless ``recompute_scale_factor``).
    ``mode``: 'nearest', 'nearest-exact', 'linear' (3-D input), 'bilinear' / 'bicubic' (4-D), 'trilinear' (5-D),
    'area'; ``align_corners`` (linear modes only, default False) maps corner pixel centres onto each other."""
    op = "interpolate"
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}: expected a Tensor input, got {type(input).__name__}")
    if mode not in MODES:
        raise NotImplementedError(f"{op}: mode must be one of {', '.join(MODES)}, got {mode!r}")
    if antialias:
        raise NotImplementedError(f"{op}: antialias=True is not supported")
    dims = input.ndim - 2
    if dims not in (1, 2, 3):
        raise NotImplementedError(f"{op}: expected a 3-D, 4-D or 5-D (N, C, *spatial) input, got shape {input.shape}")
    if mode in _LINEAR and _LINEAR[mode] != dims:
        raise NotImplementedError(f"{op}: got a {input.ndim}-D input, but mode {mode!r} needs a "
                                  f"{_LINEAR[mode] + 2}-D input")
    if align_corners is not None and mode not in _LINEAR:
        raise ValueError(f"{op}: align_corners can only be set with the interpolating modes linear | bilinear | "
                         f"bicubic | trilinear, got mode {mode!r}")
    if (size is None) == (scale_factor is None):
        raise ValueError(f"{op}: exactly one of size or scale_factor must be given, got size={size}, "
                         f"scale_factor={scale_factor}")
    spatial = input.shape[2:]

    def per_dim(v, name):
        v = tuple(v) if isinstance(v, (tuple, list)) else (v,) * dims
        if len(v) != dims:
            raise ValueError(f"{op}: {name} {v} must have one entry per spatial dim of input shape {input.shape}")
        return v

    if size is not None:
        if recompute_scale_factor:
            raise ValueError(f"{op}: recompute_scale_factor is not meaningful with an explicit size")
        out, scales = tuple(int(s) for s in per_dim(size, "size")), (None,) * dims
    else:
        scales = tuple(float(s) for s in per_dim(scale_factor, "scale_factor"))
        out = tuple(math.floor(n * s) for n, s in zip(spatial, scales))
        if recompute_scale_factor or mode == "area":
            scales = (None,) * dims
    if min(out) <= 0 or min(spatial) <= 0:
        raise ValueError(f"{op}: input spatial size {spatial} and output size {out} must be positive")
    dtype = input.dtype if input.dtype.kind == "f" else np.dtype(np.float64)
    matrices = tuple((2 + d, resample_matrix(spatial[d], out[d], mode, bool(align_corners), scales[d], dtype.type))
                     for d in range(dims))
    if input.dtype.kind == "f":
        return Resample.apply(input, matrices=matrices)
    if not mode.startswith("nearest"):
        raise NotImplementedError(f"{op}: mode {mode!r} needs a floating-point input, got {input.dtype}")
    x = input.data
    for axis, m in matrices:  # integer nearest: copy the chosen pixels (no gradient)
        x = np.take(x, m.argmax(axis=1), axis=axis)
    return Tensor(x)


def upsample(input, size=None, scale_factor=None, mode="nearest", align_corners=None):  # noqa: A002
    """``interpolate`` under its older name."""
    return interpolate(input, size, scale_factor, mode, align_corners)


def upsample_nearest(input, size=None, scale_factor=None):  # noqa: A002
    """``interpolate`` with mode 'nearest'."""
    return interpolate(input, size, scale_factor, mode="nearest")


def upsample_bilinear(input, size=None, scale_factor=None):  # noqa: A002
    """``interpolate`` with mode 'bilinear' and align_corners=True (as torch's)."""
    return interpolate(input, size, scale_factor, mode="bilinear", align_corners=True)


# ----- pixel shuffle ---------------------------------------------------------------------------------------


def _factor(v, name, op):
    if not isinstance(v, (int, np.integer)) or isinstance(v, bool) or v < 1:
        raise ValueError(f"{op}: {name} must be a positive int, got {v!r}")
    return int(v)


def pixel_shuffle(input, upscale_factor):  # noqa: A002
    """(*, C·r², H, W) → (*, C, H·r, W·r): out[…, c, h·r + i, w·r + j] = x[…, c·r² + i·r + j, h, w]
    (reshape to (*, C, r, r, H, W), permute to (*, C, H, r, W, r), reshape)."""
    op, r = "pixel_shuffle", _factor(upscale_factor, "upscale_factor", "pixel_shuffle")
    if not isinstance(input, Tensor) or input.ndim < 3:
        raise ValueError(f"{op}: expected an input of at least 3 dims (*, C, H, W), got {getattr(input, 'shape', input)}")
    *batch, c, h, w = input.shape
    if c % (r * r):
        raise ValueError(f"{op}: channels {c} of input shape {input.shape} must be divisible by upscale_factor² = {r * r}")
    b = len(batch)
    x = input.reshape(*batch, c // (r * r), r, r, h, w)
    x = x.permute(*range(b), b, b + 3, b + 1, b + 4, b + 2)
    return x.reshape(*batch, c // (r * r), h * r, w * r)


def pixel_unshuffle(input, downscale_factor):  # noqa: A002
    """(*, C, H·r, W·r) → (*, C·r², H, W), the inverse of pixel_shuffle."""
    op, r = "pixel_unshuffle", _factor(downscale_factor, "downscale_factor", "pixel_unshuffle")
    if not isinstance(input, Tensor) or input.ndim < 3:
        raise ValueError(f"{op}: expected an input of at least 3 dims (*, C, H, W), got {getattr(input, 'shape', input)}")
    *batch, c, h, w = input.shape
    if h % r or w % r:
        raise ValueError(f"{op}: height {h} and width {w} of input shape {input.shape} must be divisible by "
                         f"downscale_factor {r}")
    b = len(batch)
    x = input.reshape(*batch, c, h // r, r, w // r, r)
    x = x.permute(*range(b), b, b + 2, b + 4, b + 1, b + 3)
    return x.reshape(*batch, c * r * r, h // r, w // r)


# ----- unfold / fold (im2col / col2im) -----------------------------------------------------------------------


class Unfold(Function):
    """out[n, (c, i, j), (y, x)] = xp[n, c, y·s_h + i·d_h, x·s_w + j·d_w] (im2col): (N, C, H, W) → (N, C·k_h·k_w, L),
    xp the input zero-padded; dx = col2im(g), the padding cut off."""

    def forward(self, x, *, kernel, stride, padding, dilation):
        (ph, pw), n = padding, x.shape[0]
        xp = pad_spatial(x, (ph, ph, pw, pw))
        cols, self.out_size = im2col(xp, kernel, stride, dilation, 1)
        self.shape, self.padded_shape, self.kernel = x.shape, xp.shape, kernel
        self.stride, self.padding, self.dilation = stride, padding, dilation
        return np.ascontiguousarray(cols.reshape(n, cols.shape[2], cols.shape[3]))

    def backward(self, g):
        (ph, pw), (h, w) = self.padding, self.shape[2:]
        gxp = col2im(g, self.padded_shape, self.kernel, self.out_size, self.stride, self.dilation)
        return (gxp[:, :, ph : ph + h, pw : pw + w],)

    def backward_graph(self, g):
        return (Fold.apply(g, output_size=self.shape[2:], kernel=self.kernel, stride=self.stride, padding=self.padding,
                           dilation=self.dilation, blocks=self.out_size),)


class Fold(Function):
    """out = col2im(x): x (N, C·k_h·k_w, L) → (N, C, H, W), each column entry added onto the (padded) position it
    stands for, the padding cut off; dx = im2col(g zero-padded) — unfold's formula."""

    def forward(self, x, *, output_size, kernel, stride, padding, dilation, blocks):
        (ph, pw), (h, w), n = padding, output_size, x.shape[0]
        c = x.shape[1] // (kernel[0] * kernel[1])
        self.padded_shape = (n, c, h + 2 * ph, w + 2 * pw)
        self.kernel, self.stride, self.padding, self.dilation = kernel, stride, padding, dilation
        full = col2im(x, self.padded_shape, kernel, blocks, stride, dilation)
        return full[:, :, ph : ph + h, pw : pw + w]

    def backward(self, g):
        ph, pw = self.padding
        cols, _ = im2col(pad_spatial(g, (ph, ph, pw, pw)), self.kernel, self.stride, self.dilation, 1)
        return (cols.reshape(cols.shape[0], cols.shape[2], cols.shape[3]),)

    def backward_graph(self, g):
        return (Unfold.apply(g, kernel=self.kernel, stride=self.stride, padding=self.padding, dilation=self.dilation),)


def _window_args(kernel_size, dilation, padding, stride, op):
    kernel, dilation = pair(kernel_size, "kernel_size", op), pair(dilation, "dilation", op)
    padding, stride = pair(padding, "padding", op), pair(stride, "stride", op)
    if min(kernel + dilation + stride) < 1 or min(padding) < 0:
        raise ValueError(f"{op}: kernel_size {kernel}, dilation {dilation} and stride {stride} must be positive and "
                         f"padding {padding} non-negative")
    return kernel, dilation, padding, stride


def _blocks(size, kernel, dilation, padding, stride):
    return tuple((size[i] + 2 * padding[i] - dilation[i] * (kernel[i] - 1) - 1) // stride[i] + 1 for i in range(2))


def unfold(input, kernel_size, dilation=1, padding=0, stride=1):  # noqa: A002
    """im2col: every k_h×k_w window of (N, C, H, W) — or unbatched (C, H, W) — as a column of (N, C·k_h·k_w, L),
    L = H_out·W_out the number of windows, entries in (c, i, j) order."""
    op = "unfold"
    if not isinstance(input, Tensor) or input.ndim not in (3, 4):
        raise ValueError(f"{op}: expected a 3-D (C, H, W) or 4-D (N, C, H, W) input, got {getattr(input, 'shape', input)}")
    kernel, dilation, padding, stride = _window_args(kernel_size, dilation, padding, stride, op)
    unbatched = input.ndim == 3
    x = input.unsqueeze(0) if unbatched else input
    if min(_blocks(x.shape[2:], kernel, dilation, padding, stride)) < 1:
        raise RuntimeError(f"{op}: kernel {kernel} (dilation {dilation}) is larger than the padded input of shape "
                           f"{input.shape} (padding {padding})")
    out = Unfold.apply(x, kernel=kernel, stride=stride, padding=padding, dilation=dilation)
    return out.squeeze(0) if unbatched else out


def fold(input, output_size, kernel_size, dilation=1, padding=0, stride=1):  # noqa: A002
    """col2im: columns (N, C·k_h·k_w, L) — or unbatched (C·k_h·k_w, L) — summed back into an (N, C, H, W) image
    of ``output_size`` (H, W); L must be the number of windows unfold would take from it."""
    op = "fold"
    if not isinstance(input, Tensor) or input.ndim not in (2, 3):
        raise ValueError(f"{op}: expected a 2-D (C·k_h·k_w, L) or 3-D (N, C·k_h·k_w, L) input, got "
                         f"{getattr(input, 'shape', input)}")
    output_size = pair(output_size, "output_size", op)
    kernel, dilation, padding, stride = _window_args(kernel_size, dilation, padding, stride, op)
    unbatched = input.ndim == 2
    x = input.unsqueeze(0) if unbatched else input
    if x.shape[1] % (kernel[0] * kernel[1]):
        raise RuntimeError(f"{op}: dim 1 of input shape {input.shape} must be divisible by the kernel size "
                           f"{kernel[0]}·{kernel[1]} = {kernel[0] * kernel[1]}")
    blocks = _blocks(output_size, kernel, dilation, padding, stride)
    if min(blocks) < 1 or blocks[0] * blocks[1] != x.shape[2]:
        raise RuntimeError(f"{op}: input shape {input.shape} has {x.shape[2]} blocks, but output_size {output_size} "
                           f"with kernel {kernel}, dilation {dilation}, padding {padding}, stride {stride} gives "
                           f"{blocks[0]}·{blocks[1]}")
    out = Fold.apply(x, output_size=output_size, kernel=kernel, stride=stride, padding=padding, dilation=dilation,
                     blocks=blocks)
    return out.squeeze(0) if unbatched else out
