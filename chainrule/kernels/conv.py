"""Fast kernels of ``chainrule/ops/conv.py``: convolution and transposed convolution by blocked im2col + GEMM.

im2col lays every k_h×k_w window of the padded input out as a column, so that the convolution is
one matrix product: out = W (O, C·k_h·k_w) @ columns. ``Im2col`` builds the columns a block of
samples at a time, in a buffer small enough to stay in the CPU cache, and each block goes straight
into the GEMMs (forward, weight gradient, input gradient), the blocks shared out between the threads;
stride-1 columns are contiguous shifted runs of the flat padded image, copied at memory speed. The
transposed convolution is the input gradient of a convolution: it runs on the same two pieces, the
correlation with the flipped kernel or col2im (``input_grad_method`` picks one).

There is no fast 3-D kernel: ``conv3d`` always runs the reference ``Conv3d`` of ``ops/conv.py``.
"""
import numpy as np
from numpy.lib.stride_tricks import as_strided

from ..autograd import sum_to
from ..ops import conv as reference
from . import winograd
from .parallel import get_num_threads, run_blocks

CORRELATE_RATIO = 2  # dx by correlation while out_channels ≤ this × in_channels (else col2im)
BLOCK = 1 << 18  # column-matrix entries built at once (1 MiB in float32; measured best of 2^16…2^20 on LeNet-5 and ResNet-20 layers)


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
        self.shape = x_shape
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


def input_grad_method(cols, o):
    """How to compute the input gradient of the convolution with geometry ``cols`` (an Im2col) and ``o``
    output channels. Stride 1 with padding ≤ d·(k − 1): 'correlation' — dx is the convolution of g padded by
    d·(k − 1) − pad with the flipped kernel, in/out channels swapped; its columns (O·k_h·k_w per input
    position) are cheaper than col2im's adds of C·k_h·k_w per output position unless the conv widens the
    channels a lot. Otherwise 'col2im' (measured faster for stride 2 than a polyphase split of dx into
    stride-1 correlations)."""
    (kh, kw), (dh, dw), (top, bottom, left, right) = cols.kernel, cols.dilation, cols.pads
    if cols.flat:
        fits = max(top, bottom) <= dh * (kh - 1) and max(left, right) <= dw * (kw - 1)
        if fits and o <= CORRELATE_RATIO * cols.c:
            return "correlation"
    return "col2im"


def correlate_flipped(g, w, groups, cols, bias=None):
    """The 'correlation' input gradient: g (N, O, H_out, W_out), padded by d·(k − 1) − pad, convolved with
    the flipped kernel of w (O, C/G, k_h, k_w), in/out channels swapped (+ bias) → (N, C, H, W)."""
    (kh, kw), (dh, dw), (top, bottom, left, right) = cols.kernel, cols.dilation, cols.pads
    ph, pw = dh * (kh - 1), dw * (kw - 1)
    gcols = Im2col(g.shape, (kh, kw), (1, 1), cols.dilation, (ph - top, ph - bottom, pw - left, pw - right))
    return correlate(g, _flipped(w, groups), gcols, bias)


def block_grads(g, x, w, groups, cols, want_w, want_x):
    """The gradients of the convolution of x (N, C, H, W) by w (O, C/G, k_h, k_w) with geometry ``cols``
    from its output gradient g (N, O, H_out, W_out): dW = Σ_blocks g @ colsᵀ and, if ``want_x``, dx by
    col2im (dcols = Wᵀ @ g added back onto the input positions) — both from the same blocks of g.
    x is read only for dW (None without it)."""
    if not (want_w or want_x):
        return None, None
    n, c, h, wd = cols.shape
    o, cg, kh, kw = w.shape
    og, k = o // groups, cg * kh * kw
    top, _, left, _ = cols.pads
    gx = np.empty(cols.shape, dtype=g.dtype) if want_x else None

    def work(blocks):
        workspace = cols.workspace(g.dtype)
        gw = np.zeros((groups, og, k), dtype=g.dtype) if want_w else None
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
                gxp = np.zeros((c, m, cols.hp, cols.wp), dtype=g.dtype)
                cols.add_columns(np.matmul(w.reshape(groups, og, k).transpose(0, 2, 1), g3).reshape(c * kh * kw, -1), gxp)
                gx[n0:n1] = gxp[:, :, top : top + h, left : left + wd].transpose(1, 0, 2, 3)
        return gw

    gws = run_blocks(work, cols.blocks(n))
    return (sum(gws).reshape(w.shape) if want_w else None), gx


class Conv2d(reference.Conv2d):
    """Must equal ``ops.conv.Conv2d``. 3×3 stride-1 convolutions by Winograd where ``algorithm`` says so
    (``winograd.tile_size``; in inference, with the weight's ``weight_version``, its transform is cached), the rest
    by im2col. Faster by: the columns of ``Im2col`` built and consumed a cache-sized
    block of samples at a time, the blocks shared out between the threads (out = W @ cols, dW = Σ g @ colsᵀ,
    db = Σ g); dx by ``input_grad_method``: for stride 1 the correlation of g, padded by d·(k − 1) − pad,
    with the flipped kernel, in/out channels swapped (``correlate`` again); otherwise dcols = Wᵀ @ g added
    back onto the input positions (col2im) in the blocks of dW. A 1×1 stride-1 unpadded conv needs no
    columns: x is its own.
    """

    def forward(self, x, w, b, *, stride, pads, dilation, groups, algorithm="auto", weight_version=None):
        n, c, h, wd = x.shape
        o, cg, kh, kw = w.shape
        self.x, self.w, self.groups = x, w, groups
        self.winograd = winograd.tile_size(algorithm, x.shape, w.shape, stride, dilation, groups, pads, x.dtype)
        if self.winograd:
            self.im2col, self.pads = False, pads
            inference = not any(self.needs)  # nothing to differentiate: the weight's transform may be cached
            # the weight gradient needs the transformed input again: kept from here (2.25× x for F(4×4))
            self.kept = {} if any(self.needs[1:2]) else None
            return winograd.conv2d(x, w, b, pads, self.winograd, weight_version if inference else None, self.kept)
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
        if self.winograd:
            return self.winograd_grads(g, gb)
        if cols is None:
            gg = g.reshape(n, groups, og, h * wd)
            gw = gx = None
            if self.needs[1]:
                gw = np.matmul(gg, x.reshape(n, groups, cg, h * wd).transpose(0, 1, 3, 2)).sum(axis=0).reshape(w.shape)
            if self.needs[0]:
                gx = np.matmul(wg.transpose(0, 2, 1), gg).reshape(x.shape)
            return gx, gw, gb
        method = input_grad_method(cols, o) if self.needs[0] else None
        gw, gx = block_grads(g, x, w, groups, cols, self.needs[1], method == "col2im")
        if method == "correlation":
            gx = correlate_flipped(g, w, groups, cols)
        return gx, gw, gb

    def winograd_grads(self, g, gb):
        """dW in Winograd's transformed domain; dx the convolution of g, padded by 2 − pad, with the flipped
        kernel — by Winograd too where that padding is ≥ 0 (pad ≤ 2), else by col2im."""
        x, w, pads, m = self.x, self.w, self.pads, self.winograd
        gx = gw = None
        if self.needs[0]:
            if winograd.input_grad_applies(pads):
                gx = winograd.conv2d_input_grad(g, w, pads, m)
            else:
                gx = block_grads(g, None, w, 1, Im2col(x.shape, (3, 3), (1, 1), (1, 1), pads), False, True)[1]
        if self.needs[1]:
            gw = winograd.conv2d_weight_grad(x, g, pads, m, self.kept)
        return gx, gw, gb


class ConvTranspose2d(reference.ConvTranspose2d):
    """Must equal ``ops.conv.ConvTranspose2d``. Its forward is the input gradient of the convolution that maps
    the output (N, C_out, H_out, W_out) to x by w (C_in output channels), computed as the fast Conv2d computes
    its dx, by the method ``input_grad_method`` picks: the correlation of x, padded by d·(k − 1) − p, with the
    flipped kernel, or col2im in cache-sized blocks shared out between the threads. Backward: dx is that
    convolution's forward of g (``correlate``), dW its weight gradient with x as the output gradient
    (``block_grads``), db = Σ g.

    The convolution's geometry (``Im2col``) covers the output rows and columns that lie on the canvas — all
    but output_padding ones past its end, which are 0 (+ bias): H_v = min(H_out, H_s − p) rows, padded by p on
    top and H_s − p − H_v below, H_s = (H − 1)·s + d·(k − 1) + 1.
    """

    def forward(self, x, w, b, *, stride, padding, output_padding, dilation, groups):
        n, c_in, h, wd = x.shape
        kernel, c_out = w.shape[2:], w.shape[1] * groups
        canvas = [(size - 1) * stride[i] + dilation[i] * (kernel[i] - 1) + 1 for i, size in enumerate((h, wd))]
        size = tuple(canvas[i] - 2 * padding[i] + output_padding[i] for i in range(2))
        top = [min(p, s) for p, s in zip(padding, canvas)]
        visible = [max(0, min(size[i], canvas[i] - padding[i])) for i in range(2)]
        pads = (top[0], canvas[0] - top[0] - visible[0], top[1], canvas[1] - top[1] - visible[1])
        self.im2col = cols = Im2col((n, c_out, *visible), kernel, stride, dilation, pads)
        self.x, self.w, self.groups = x, w, groups
        whole = tuple(visible) == size
        bias = b if whole else None  # else added to the whole output below
        if input_grad_method(cols, c_in) == "correlation":
            out = correlate_flipped(x, w, groups, cols, bias)
        else:
            out = block_grads(x, None, w, groups, cols, False, True)[1]
            if bias is not None:
                out += bias.reshape(1, c_out, 1, 1)
        if whole:
            return out
        full = np.zeros((n, c_out) + size, dtype=x.dtype)  # output_padding rows past the canvas: 0 (+ bias)
        full[:, :, : visible[0], : visible[1]] = out
        if b is not None:
            full += b.reshape(1, c_out, 1, 1)
        return full

    def backward(self, g):
        x, w, groups, cols = self.x, self.w, self.groups, self.im2col
        c_in, c_out = w.shape[0], g.shape[1]
        gb = sum_to((c_out, 1, 1), g).reshape(c_out) if self.needs[2] else None
        g = g[:, :, : cols.shape[2], : cols.shape[3]]  # the rows past the canvas got no input pixel
        gx = correlate(g, w.reshape(groups, c_in // groups, -1), cols) if self.needs[0] else None
        gw = block_grads(x, g, w, groups, cols, self.needs[1], False)[0]
        return gx, gw, gb


def _flipped(w, groups):
    """The kernel of the input gradient: w (O, C/G, k_h, k_w) flipped in space, in/out channels
    swapped, as (G, C/G, O/G·k_h·k_w)."""
    o, cg, kh, kw = w.shape
    return w[:, :, ::-1, ::-1].reshape(groups, o // groups, cg, kh, kw).transpose(0, 2, 1, 3, 4).reshape(groups, cg, -1)
