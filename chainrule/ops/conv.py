"""Convolution [note 000, note 003]: local connectivity and weight sharing, by im2col + GEMM.

im2col takes every k_h×k_w window of the padded input as a column, via a strided view that is
copied once in (N, C, k_h, k_w, H_out, W_out) order — the order whose copy is cheapest — so that
the convolution becomes one matrix product per sample: out_n = W (O, C·k_h·k_w) @ cols_n.
conv1d is conv2d on a height-1 image.
"""
import numpy as np
from numpy.lib.stride_tricks import as_strided

from ..autograd import Function
from ..tensor import Tensor


def _pair(v, name, op):
    if isinstance(v, (int, np.integer)):
        return int(v), int(v)
    v = tuple(int(i) for i in v)
    if len(v) != 2:
        raise ValueError(f"{op}: {name} must be an int or a pair, got {v}")
    return v


def conv_output_size(size, kernel, stride=1, padding=0, dilation=1, ceil_mode=False):
    """Output length of a convolution or pooling window along one dim [note 003]:
    ⌊(size + 2·padding − dilation·(kernel − 1) − 1) / stride⌋ + 1 (⌈…⌉ with ``ceil_mode``).

    ``padding`` may be an int, a (before, after) pair, or 'valid' / 'same' / 'full' (see ``same_padding``).
    With ``ceil_mode`` the last window must start inside the input or the left padding (PyTorch's rule).
    """
    if isinstance(padding, str):
        before, after = resolve_padding(padding, size, kernel, stride, dilation)
    elif isinstance(padding, (tuple, list)):
        before, after = padding
    else:
        before = after = padding
    span = size + before + after - dilation * (kernel - 1) - 1
    if not ceil_mode:
        return max(span // stride + 1, 0)
    # ceil may keep a window that overhangs the padded input (span < 0 included), as PyTorch does
    out = -(-span // stride) + 1
    if (out - 1) * stride >= size + before:
        out -= 1
    return max(out, 0)


def same_padding(size, kernel, stride=1, dilation=1):
    """TensorFlow's SAME rule: output ⌈size / stride⌉, total pad split with the extra on the bottom/right.
    For stride 1 this is also PyTorch's padding='same'."""
    out = -(-size // stride)
    total = max((out - 1) * stride + dilation * (kernel - 1) + 1 - size, 0)
    return total // 2, total - total // 2


def resolve_padding(padding, size, kernel, stride=1, dilation=1):
    """(before, after) padding of one dim for 'valid' (none), 'same' (keep size/stride) or 'full'
    (dilation·(kernel − 1) each side: every partial overlap, the output grows)."""
    if padding == "valid":
        return 0, 0
    if padding == "same":
        return same_padding(size, kernel, stride, dilation)
    if padding == "full":
        return dilation * (kernel - 1), dilation * (kernel - 1)
    raise ValueError(f"padding must be an int, a tuple, 'valid', 'same' or 'full', got {padding!r}")


def pad_spatial(x, pads, value=0.0):
    """Pad the last two dims of an (N, C, H, W) array by (top, bottom, left, right); no copy if all 0."""
    top, bottom, left, right = pads
    if not (top or bottom or left or right):
        return x
    n, c, h, w = x.shape
    out = np.full((n, c, h + top + bottom, w + left + right), value, dtype=x.dtype)
    out[:, :, top : top + h, left : left + w] = x
    return out


def windows(xp, kernel, stride, dilation, out_size):
    """Strided view (N, C, k_h, k_w, H_out, W_out) of every window of the padded input ``xp`` — no copy."""
    (kh, kw), (sh, sw), (dh, dw), (ho, wo) = kernel, stride, dilation, out_size
    n, c = xp.shape[:2]
    s_n, s_c, s_h, s_w = xp.strides
    return as_strided(xp, (n, c, kh, kw, ho, wo), (s_n, s_c, s_h * dh, s_w * dw, s_h * sh, s_w * sw), writeable=False)


def col2im(cols, padded_shape, stride, dilation):
    """Adjoint of ``windows``: add each column entry (N, C, k_h, k_w, H_out, W_out) back onto the padded
    input position it was read from. One strided slice add per kernel offset, none per pixel."""
    n, c, kh, kw, ho, wo = cols.shape
    (sh, sw), (dh, dw) = stride, dilation
    out = np.zeros(padded_shape, dtype=cols.dtype)
    for i in range(kh):
        for j in range(kw):
            out[:, :, i * dh : i * dh + sh * (ho - 1) + 1 : sh, j * dw : j * dw + sw * (wo - 1) + 1 : sw] += cols[:, :, i, j]
    return out


class Conv2d(Function):
    """out[n, o, y, x] = b[o] + Σ_{c, i, j} w[o, c, i, j] · xp[n, g(o)·C/G + c, y·s_h + i·d_h, x·s_w + j·d_w]

    x (N, C, H, W), w (O, C/G, k_h, k_w), b (O,) → out (N, O, H_out, W_out).
    Backward: dw = Σ_n g_n @ cols_nᵀ; db = Σ g; dx: for stride 1 the correlation of the padded g with
    the flipped, transposed kernel (im2col + GEMM again); otherwise col2im(wᵀ @ g).
    """

    def forward(self, x, w, b, stride, pads, dilation, groups):
        n, c, h, wd = x.shape
        o, cg, kh, kw = w.shape
        top, bottom, left, right = pads
        ho = (h + top + bottom - dilation[0] * (kh - 1) - 1) // stride[0] + 1
        wo = (wd + left + right - dilation[1] * (kw - 1) - 1) // stride[1] + 1
        self.x_shape, self.w, self.stride, self.pads, self.dilation, self.groups = x.shape, w, stride, pads, dilation, groups
        self.has_bias = b is not None
        if kh == kw == 1 and stride == (1, 1) and not any(pads):
            cols = x.reshape(n, groups, cg, h * wd)
        else:
            xp = pad_spatial(x, pads)
            self.padded_shape = xp.shape
            cols = windows(xp, (kh, kw), stride, dilation, (ho, wo)).reshape(n, groups, cg * kh * kw, ho * wo)
        self.cols = cols
        out = np.matmul(w.reshape(groups, o // groups, cg * kh * kw), cols).reshape(n, o, ho, wo)
        if b is not None:
            out += b.reshape(1, o, 1, 1)
        return out

    def backward(self, g):
        n, c, h, wd = self.x_shape
        w, groups = self.w, self.groups
        o, cg, kh, kw = w.shape
        ho, wo = g.shape[2:]
        gg = g.reshape(n, groups, o // groups, ho * wo)
        gx = gw = gb = None
        if self.needs[2]:
            gb = g.sum(axis=(0, 2, 3))
        if self.needs[1]:
            gw = np.matmul(gg, self.cols.transpose(0, 1, 3, 2)).sum(axis=0).reshape(w.shape)
        if self.needs[0]:
            gx = self._input_grad(g, gg)
        self.cols = None
        return gx, gw, gb, None, None, None, None

    def _input_grad(self, g, gg):
        n, c, h, wd = self.x_shape
        w, groups, stride, dilation = self.w, self.groups, self.stride, self.dilation
        o, cg, kh, kw = w.shape
        og = o // groups
        top, bottom, left, right = self.pads
        if kh == kw == 1 and stride == (1, 1) and not any(self.pads):
            wt = w.reshape(groups, og, cg).transpose(0, 2, 1)
            return np.matmul(wt, gg).reshape(self.x_shape)
        if stride == (1, 1):
            # dx = correlate(g padded by d·(k−1) − pad, flip(w) with in/out channels swapped)
            ph, pw = dilation[0] * (kh - 1), dilation[1] * (kw - 1)
            gp = _shifted_pad(g, (ph - top, ph - bottom), (pw - left, pw - right))
            cols = windows(gp, (kh, kw), (1, 1), dilation, (h, wd)).reshape(n, groups, og * kh * kw, h * wd)
            wf = w[:, :, ::-1, ::-1].reshape(groups, og, cg, kh, kw).transpose(0, 2, 1, 3, 4).reshape(groups, cg, og * kh * kw)
            return np.matmul(wf, cols).reshape(self.x_shape)
        wm = w.reshape(groups, og, cg * kh * kw).transpose(0, 2, 1)
        gcols = np.matmul(wm, gg).reshape(n, c, kh, kw, g.shape[2], g.shape[3])
        gxp = col2im(gcols, self.padded_shape, stride, dilation)
        return gxp[:, :, top : top + h, left : left + wd]


def _shifted_pad(g, rows, cols):
    """g padded by (before, after) rows and cols; a negative amount crops g instead of padding it."""
    n, o, gh, gw = g.shape
    (r0, r1), (c0, c1) = rows, cols
    out = np.zeros((n, o, gh + r0 + r1, gw + c0 + c1), dtype=g.dtype)
    src_r, src_c = slice(max(-r0, 0), gh - max(-r1, 0)), slice(max(-c0, 0), gw - max(-c1, 0))
    dst_r = slice(max(r0, 0), max(r0, 0) + (src_r.stop - src_r.start))
    dst_c = slice(max(c0, 0), max(c0, 0) + (src_c.stop - src_c.start))
    out[:, :, dst_r, dst_c] = g[:, :, src_r, src_c]
    return out


def _conv_pads(padding, size, kernel, stride, dilation, op):
    """Padding argument → (top, bottom, left, right)."""
    if isinstance(padding, str):
        if padding not in ("valid", "same", "full"):
            raise ValueError(f"{op}: padding must be an int, a tuple, 'valid', 'same' or 'full', got {padding!r}")
        (t, b), (l, r) = (resolve_padding(padding, size[i], kernel[i], stride[i], dilation[i]) for i in range(2))
        return t, b, l, r
    ph, pw = _pair(padding, "padding", op)
    if ph < 0 or pw < 0:
        raise ValueError(f"{op}: padding must be non-negative, got {padding}")
    return ph, ph, pw, pw


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):  # noqa: A002 - torch's names
    """2-D convolution (cross-correlation, as in PyTorch) of input (N, C, H, W) — or an unbatched
    (C, H, W) — with weight (O, C/groups, k_h, k_w). ``padding``: int, pair, 'valid', 'same' (also
    with stride > 1, TensorFlow's rule: output ⌈H / stride⌉, extra pad bottom/right) or 'full'."""
    return _conv(input, weight, bias, stride, padding, dilation, groups, "conv2d")


def _conv(x, weight, bias, stride, padding, dilation, groups, op, shapes=None):
    """Checks, then Conv2d; ``shapes``: the (input, weight) shapes to name in errors — conv1d's own, not
    its height-1 view's."""
    if not isinstance(x, Tensor) or not isinstance(weight, Tensor):
        raise TypeError(f"{op}: input and weight must be Tensors")
    if weight.ndim != 4:
        raise ValueError(f"{op}: weight must be 4-D (out_channels, in_channels/groups, kH, kW), got {weight.shape}")
    x_shape, w_shape = shapes or (x.shape, weight.shape)
    spatial = len(w_shape) - 2  # 1 for conv1d
    unbatched = x.ndim == 3
    if x.ndim not in (3, 4):
        raise ValueError(f"{op}: expected a 3-D (C, H, W) or 4-D (N, C, H, W) input, got shape {x.shape}")
    if unbatched:
        x = x.unsqueeze(0)
    o, cg, kh, kw = weight.shape
    c = x.shape[1]
    if groups < 1 or c % groups or o % groups:
        raise ValueError(f"{op}: groups={groups} must divide in_channels={c} and out_channels={o}")
    if c != cg * groups:
        raise ValueError(
            f"{op}: expected input with {cg * groups} channels (weight {w_shape}, groups={groups}), "
            f"got {c} channels in input of shape {x_shape}"
        )
    if bias is not None and bias.shape != (o,):
        raise ValueError(f"{op}: bias must have shape ({o},), got {bias.shape}")
    if x.dtype != weight.dtype or (bias is not None and bias.dtype != weight.dtype):
        raise TypeError(f"{op}: input dtype {x.dtype}, weight dtype {weight.dtype} and bias dtype must match")
    stride, dilation = _pair(stride, "stride", op), _pair(dilation, "dilation", op)
    if min(stride) < 1 or min(dilation) < 1:
        raise ValueError(f"{op}: stride and dilation must be positive, got stride={stride}, dilation={dilation}")
    pads = _conv_pads(padding, x.shape[2:], (kh, kw), stride, dilation, op)
    eff = (dilation[0] * (kh - 1) + 1, dilation[1] * (kw - 1) + 1)
    padded = (x.shape[2] + pads[0] + pads[1], x.shape[3] + pads[2] + pads[3])
    if padded[0] < eff[0] or padded[1] < eff[1]:
        raise ValueError(
            f"{op}: kernel size {eff[-spatial:]} (dilated) is larger than the padded input {padded[-spatial:]} "
            f"of input shape {x_shape}"
        )
    out = Conv2d.apply(x, weight, bias, stride, pads, dilation, groups)
    return out.squeeze(0) if unbatched else out


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):  # noqa: A002 - torch's names
    """1-D convolution of input (N, C, L) — or unbatched (C, L) — with weight (O, C/groups, k): conv2d
    on a height-1 image."""
    if not isinstance(weight, Tensor) or weight.ndim != 3:
        raise ValueError(f"conv1d: weight must be a 3-D Tensor (out_channels, in_channels/groups, k), got "
                         f"{getattr(weight, 'shape', type(weight).__name__)}")
    if not isinstance(input, Tensor) or input.ndim not in (2, 3):
        raise ValueError(f"conv1d: expected a 2-D (C, L) or 3-D (N, C, L) input, got shape {getattr(input, 'shape', None)}")
    pad = padding if isinstance(padding, str) else (0, _single(padding, "padding"))
    out = _conv(input.unsqueeze(-2), weight.unsqueeze(-2), bias, (1, _single(stride, "stride")), pad,
                (1, _single(dilation, "dilation")), groups, "conv1d", (input.shape, weight.shape))
    return out.squeeze(-2)


def _single(v, name):
    if isinstance(v, (tuple, list)):
        if len(v) != 1:
            raise ValueError(f"conv1d: {name} must be an int or a 1-tuple, got {v}")
        return int(v[0])
    return int(v)
