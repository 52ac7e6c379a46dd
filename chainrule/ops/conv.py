"""Convolution [note 000, note 003]: local connectivity and weight sharing, by im2col + GEMM.

im2col lays every k_h×k_w window of the padded input out as a column, so that the convolution is
one matrix product: out = W (O, C·k_h·k_w) @ columns. ``Im2col`` builds the columns a block of
samples at a time, in a buffer small enough to stay in the CPU cache, and each block goes straight
into the GEMMs (forward, weight gradient, input gradient); stride-1 columns are contiguous shifted
runs of the flat padded image, copied at memory speed. conv1d is conv2d on a height-1 image.
"""
import numpy as np
from numpy.lib.stride_tricks import as_strided

from ..autograd import Function, sum_to
from .geometry import conv_pads, pair, single
from ..kernels.parallel import get_num_threads, run_blocks
from ..tensor import Tensor


CORRELATE_RATIO = 2  # dx by correlation while out_channels ≤ this × in_channels (else col2im)
BLOCK = 1 << 20  # column-matrix entries built at once (4 MiB in float32): small enough to stay in the L3 cache


class Im2col:
    """The column matrix of a convolution, a block of samples at a time.

    Column (n, y, x) holds window (y, x) of sample n: its C·k_h·k_w entries, in (c, i, j) order, so
    that out = W (O, C·k_h·k_w) @ columns is the convolution. Columns are built for ``block`` samples
    at once into a buffer that stays in cache, and consumed by the matrix products right away; the
    whole matrix (k_h·k_w times the input) never exists.

    Stride 1 — the flat trick: in a sample's padded image flattened row by row, the window at (y, x)
    starts at q = y·W_p + x and its entry (i, j) sits at q + i·d_h·W_p + j·d_w; so row (c, i, j) of
    the columns is one contiguous run of the flat image, shifted by i·d_h·W_p + j·d_w, and the copy
    runs at memory speed. A sample has ``span`` = H_p·W_p − max shift such positions; those with
    x ≥ W_out wrap around the row's end and are discarded (outputs) or meet a zero (gradients).
    Stride > 1 copies the window view (C, k_h, k_w, n, H_out, W_out) instead: span = H_out·W_out.
    """

    def __init__(self, x_shape, kernel, stride, dilation, pads):
        n, c, h, w = x_shape
        (kh, kw), (sh, sw), (dh, dw) = kernel, stride, dilation
        top, bottom, left, right = pads
        self.hp, self.wp = h + top + bottom, w + left + right
        self.ho, self.wo = (self.hp - dh * (kh - 1) - 1) // sh + 1, (self.wp - dw * (kw - 1) - 1) // sw + 1
        self.flat = stride == (1, 1)
        self.span = self.hp * self.wp - dh * (kh - 1) * self.wp - dw * (kw - 1) if self.flat else self.ho * self.wo
        self.kernel, self.stride, self.dilation, self.pads, self.c = kernel, stride, dilation, pads, c
        self.rows = c * kh * kw
        n = max(n, 1)  # an empty batch gets a block size all the same (and no blocks)
        blocks = -(-n // max(1, BLOCK // (self.rows * self.span)))
        threads = get_num_threads()
        self.block = -(-n // (-(-blocks // threads) * threads))  # as many blocks per thread on every thread

    def workspace(self, dtype):
        """One thread's block buffers: the columns, and the padded block whose border is zeroed once
        (each block writes only the interior)."""
        padded = np.zeros((self.block, self.c, self.hp, self.wp), dtype) if any(self.pads) else None
        return np.empty(self.rows * self.block * self.span, dtype), padded

    def blocks(self, n):
        return [(n0, min(n0 + self.block, n)) for n0 in range(0, n, self.block)]

    def columns(self, x, workspace):
        """(C·k_h·k_w, m·span) columns of the m samples of x (m ≤ block), in the ``workspace``."""
        m = len(x)
        buf, padded = workspace
        if padded is None:
            xp = np.ascontiguousarray(x)
        else:
            top, _, left, _ = self.pads
            xp = padded[:m]
            xp[:, :, top : top + x.shape[2], left : left + x.shape[3]] = x
        (kh, kw), (dh, dw) = self.kernel, self.dilation
        s_n, s_c, s_h, s_w = xp.strides
        cols = buf[: self.rows * m * self.span]
        if self.flat:
            view = as_strided(xp, (self.c, kh, kw, m, self.span), (s_c, s_h * dh, s_w * dw, s_n, s_w))
        else:
            sh, sw = self.stride
            view = as_strided(xp, (self.c, kh, kw, m, self.ho, self.wo), (s_c, s_h * dh, s_w * dw, s_n, s_h * sh, s_w * sw))
        cols.reshape(view.shape)[...] = view
        return cols.reshape(self.rows, m * self.span)

    def outputs(self, res):
        """The (R, m, H_out, W_out) view of the real outputs in a contiguous (R, m·span) result."""
        r, ms = res.shape
        if not self.flat:
            return res.reshape(r, ms // self.span, self.ho, self.wo)
        it = res.itemsize
        return as_strided(res, (r, ms // self.span, self.ho, self.wo), (ms * it, self.span * it, self.wp * it, it))

    def add_columns(self, gcols, gxp):
        """col2im, the adjoint of ``columns``: add every entry of gcols (C·k_h·k_w, m·span) onto the
        position of gxp (C, m, H_p, W_p) — the padded block, channels first — it was read from: one
        strided add per kernel offset (i, j)."""
        (kh, kw), (dh, dw), (sh, sw) = self.kernel, self.dilation, self.stride
        m = gxp.shape[1]
        g6 = gcols.reshape(self.c, kh, kw, m, self.span)
        flat = gxp.reshape(self.c, m, self.hp * self.wp)
        for i in range(kh):
            for j in range(kw):
                if self.flat:
                    off = i * dh * self.wp + j * dw
                    flat[:, :, off : off + self.span] += g6[:, i, j]
                else:
                    gxp[:, :, i * dh : i * dh + sh * (self.ho - 1) + 1 : sh, j * dw : j * dw + sw * (self.wo - 1) + 1 : sw] += \
                        g6[:, i, j].reshape(self.c, m, self.ho, self.wo)


def correlate(x, wg, cols, bias=None):
    """The convolution of x (N, C, H, W) by wg (G, O/G, C/G·k_h·k_w) (+ bias) with the geometry of
    ``cols`` (an Im2col): out = wg @ columns, block by block → (N, O, H_out, W_out)."""
    groups, og, _ = wg.shape
    o = groups * og
    out = np.empty((x.shape[0], o, cols.ho, cols.wo), dtype=x.dtype)

    def work(blocks):
        workspace = cols.workspace(x.dtype)
        res = np.empty(o * cols.block * cols.span, dtype=x.dtype)
        for n0, n1 in blocks:
            cx = cols.columns(x[n0:n1], workspace)
            r = res[: o * cx.shape[1]].reshape(groups, og, cx.shape[1])
            np.matmul(wg, cx.reshape(groups, -1, cx.shape[1]), out=r)
            view = cols.outputs(r.reshape(o, -1)).transpose(1, 0, 2, 3)
            if bias is None:
                out[n0:n1] = view
            else:
                np.add(view, bias.reshape(1, o, 1, 1), out=out[n0:n1])

    run_blocks(work, cols.blocks(x.shape[0]))
    return out


class Conv2d(Function):
    """out[n, o, y, x] = b[o] + Σ_{c, i, j} w[o, c, i, j] · xp[n, g(o)·C/G + c, y·s_h + i·d_h, x·s_w + j·d_w]

    x (N, C, H, W), w (O, C/G, k_h, k_w), b (O,) → out (N, O, H_out, W_out). With the columns of
    ``Im2col``, block by block: out = W @ cols; dW = Σ g @ colsᵀ; db = Σ g. dx: for stride 1 the
    correlation of g, padded by d·(k − 1) − pad, with the flipped kernel, in/out channels swapped
    (``correlate`` again); otherwise dcols = Wᵀ @ g added back onto the input positions (col2im).
    A 1×1 stride-1 unpadded conv needs no columns: x is its own.
    """

    def forward(self, x, w, b, stride, pads, dilation, groups):
        n, c, h, wd = x.shape
        o, cg, kh, kw = w.shape
        self.x, self.w, self.groups = x, w, groups
        wg = w.reshape(groups, o // groups, cg * kh * kw)
        if kh == kw == 1 and stride == (1, 1) and not any(pads):
            self.im2col = None
            out = np.matmul(wg, x.reshape(n, groups, cg, h * wd)).reshape(n, o, h, wd)
            if b is not None:
                out += b.reshape(1, o, 1, 1)
            return out
        self.im2col = Im2col(x.shape, (kh, kw), stride, dilation, pads)
        return correlate(x, wg, self.im2col, b)

    def backward(self, g):
        x, w, groups, cols = self.x, self.w, self.groups, self.im2col
        n, c, h, wd = x.shape
        o, cg, kh, kw = w.shape
        og, k = o // groups, cg * kh * kw
        wg = w.reshape(groups, og, k)
        gb = sum_to((o, 1, 1), g).reshape(o) if self.needs[2] else None
        if cols is None:
            gg = g.reshape(n, groups, og, h * wd)
            gw = gx = None
            if self.needs[1]:
                gw = np.matmul(gg, x.reshape(n, groups, cg, h * wd).transpose(0, 1, 3, 2)).sum(axis=0).reshape(w.shape)
            if self.needs[0]:
                gx = np.matmul(wg.transpose(0, 2, 1), gg).reshape(x.shape)
            return gx, gw, gb, None, None, None, None
        method = self._input_grad_method() if self.needs[0] else None
        gw, gx = self._block_grads(g, self.needs[1], method == "col2im")
        if method == "correlation":
            (dh, dw), (top, bottom, left, right) = cols.dilation, cols.pads
            ph, pw = dh * (kh - 1), dw * (kw - 1)
            gcols = Im2col(g.shape, (kh, kw), (1, 1), cols.dilation, (ph - top, ph - bottom, pw - left, pw - right))
            gx = correlate(g, _flipped(w, groups), gcols)
        return gx, gw, gb, None, None, None, None

    def _input_grad_method(self):
        """How to compute dx. Stride 1 with padding ≤ d·(k − 1): 'correlation' — dx is the convolution
        of g padded by d·(k − 1) − pad with the flipped kernel, in/out channels swapped; its columns
        (O·k_h·k_w per input position) are cheaper than col2im's adds of C·k_h·k_w per output position
        unless the conv widens the channels a lot. Otherwise 'col2im' (measured faster for stride 2 than
        a polyphase split of dx into stride-1 correlations)."""
        cols, (o, _, kh, kw) = self.im2col, self.w.shape
        (dh, dw), (top, bottom, left, right) = cols.dilation, cols.pads
        if cols.flat:
            fits = max(top, bottom) <= dh * (kh - 1) and max(left, right) <= dw * (kw - 1)
            if fits and o <= CORRELATE_RATIO * cols.c:
                return "correlation"
        return "col2im"

    def _block_grads(self, g, want_w, want_x):
        """dW = Σ_blocks g @ colsᵀ and, if ``want_x``, dx by col2im (dcols = Wᵀ @ g added back onto the
        input positions) — both from the same blocks of g."""
        if not (want_w or want_x):
            return None, None
        x, w, groups, cols = self.x, self.w, self.groups, self.im2col
        n, c, h, wd = x.shape
        o, cg, kh, kw = w.shape
        og, k = o // groups, cg * kh * kw
        top, _, left, _ = cols.pads
        gx = np.empty(x.shape, dtype=x.dtype) if want_x else None

        def work(blocks):
            workspace = cols.workspace(x.dtype)
            gw = np.zeros((groups, og, k), dtype=x.dtype) if want_w else None
            for n0, n1 in blocks:
                m = n1 - n0
                gt = g[n0:n1].transpose(1, 0, 2, 3)
                if cols.flat:
                    gblk = np.zeros((o, m * cols.span), dtype=g.dtype)
                    cols.outputs(gblk)[...] = gt
                else:
                    gblk = np.ascontiguousarray(gt).reshape(o, m * cols.span)
                g3 = gblk.reshape(groups, og, -1)
                if want_w:
                    cx = cols.columns(x[n0:n1], workspace)
                    gw += np.matmul(g3, cx.reshape(groups, k, -1).transpose(0, 2, 1))
                if want_x:
                    gxp = np.zeros((c, m, cols.hp, cols.wp), dtype=x.dtype)
                    cols.add_columns(np.matmul(w.reshape(groups, og, k).transpose(0, 2, 1), g3).reshape(c * kh * kw, -1), gxp)
                    gx[n0:n1] = gxp[:, :, top : top + h, left : left + wd].transpose(1, 0, 2, 3)
            return gw

        gws = run_blocks(work, cols.blocks(n))
        return (sum(gws).reshape(w.shape) if want_w else None), gx


def _flipped(w, groups):
    """The kernel of the input gradient: w (O, C/G, k_h, k_w) flipped in space, in/out channels
    swapped, as (G, C/G, O/G·k_h·k_w)."""
    o, cg, kh, kw = w.shape
    return w[:, :, ::-1, ::-1].reshape(groups, o // groups, cg, kh, kw).transpose(0, 2, 1, 3, 4).reshape(groups, cg, -1)


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
    if kh < 1 or kw < 1:
        raise ValueError(f"{op}: kernel size must be positive, got {w_shape[2:]} (weight shape {w_shape})")
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
    stride, dilation = pair(stride, "stride", op), pair(dilation, "dilation", op)
    if min(stride) < 1 or min(dilation) < 1:
        raise ValueError(f"{op}: stride and dilation must be positive, got stride={stride}, dilation={dilation}")
    pads = conv_pads(padding, x.shape[2:], (kh, kw), stride, dilation, op)
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
    pad = padding if isinstance(padding, str) else (0, single(padding, "padding", "conv1d"))
    out = _conv(input.unsqueeze(-2), weight.unsqueeze(-2), bias, (1, single(stride, "stride", "conv1d")), pad,
                (1, single(dilation, "dilation", "conv1d")), groups, "conv1d", (input.shape, weight.shape))
    return out.squeeze(-2)


