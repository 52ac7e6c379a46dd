"""Convolution and transposed convolution [note 000, note 003].

A fully connected layer joins every output to every input. A convolution keeps two things of images:
**local connectivity** — output (y, x) sees only a k_h×k_w window of the input, around (y·s, x·s) — and
**weight sharing** — every window is weighed by the same kernel, so a feature learnt at one place is found
everywhere. Each output channel o has its kernel w[o] (C/G, k_h, k_w), slid over the zero-padded input with
stride s and dilation d (kernel taps d apart); along one dim the output has
H_out = ⌊(H + 2p − d·(k − 1) − 1) / s⌋ + 1 positions [note 003]. With G groups the channels split into G
stacks convolved independently (G = C: depthwise).

**im2col** turns it into one matrix product: lay the C·k_h·k_w entries of every window out as a column,
and out = W (O, C·k_h·k_w) @ columns. Its gradients are the products the other way round —
dW = Σ g ⊗ columns, dcolumns = Wᵀ g — and **col2im**, which adds every column entry back onto the input
position it was read from. The **transposed convolution** is that col2im used as a forward: every input
pixel, times the kernel, is added into the output (an upsampling, the adjoint of the convolution).

The classes here compute these formulas in plain NumPy. The fast kernels (``chainrule/kernels/conv.py``:
the columns built a cache-sized block of samples at a time, shared out between threads, dx by
correlation with the flipped kernel) are tested equal to them; ``conv2d`` and ``conv_transpose2d`` pick
one at each call (``chainrule.use_reference``). conv1d is conv2d on a height-1 image. conv3d adds a depth
dim to the same formulas; it has a reference op only (no fast kernel).
"""
import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from .. import runtime
from ..autograd import Function
from ..tensor import Tensor
from .geometry import conv_pads, pad_spatial, pair, resolve_padding, single
from .padding import Pad


def im2col(xp, kernel, stride, dilation, groups):
    """The columns of the padded input xp (N, C, H_p, W_p), (N, G, C/G·k_h·k_w, H_out·W_out), and (H_out, W_out):
    column (y, x) holds window (y, x), its entries in (c, i, j) order: xp[n, c, y·s_h + i·d_h, x·s_w + j·d_w]."""
    (kh, kw), (sh, sw), (dh, dw) = kernel, stride, dilation
    n, c = xp.shape[:2]
    extent = (dh * (kh - 1) + 1, dw * (kw - 1) + 1)
    windows = sliding_window_view(xp, extent, axis=(2, 3))[:, :, ::sh, ::sw, ::dh, ::dw]  # (N, C, H_out, W_out, k_h, k_w)
    ho, wo = windows.shape[2:4]
    return windows.transpose(0, 1, 4, 5, 2, 3).reshape(n, groups, c // groups * kh * kw, ho * wo), (ho, wo)


def col2im(cols, padded_shape, kernel, out_size, stride, dilation):
    """The adjoint of ``im2col``: every entry of cols (N, G, C/G·k_h·k_w, H_out·W_out) added onto the position
    of the padded input (N, C, H_p, W_p) it was read from — one strided add per kernel offset (i, j)."""
    (kh, kw), (ho, wo), (sh, sw), (dh, dw) = kernel, out_size, stride, dilation
    n, c = padded_shape[:2]
    cols = cols.reshape(n, c, kh, kw, ho, wo)
    xp = np.zeros(padded_shape, dtype=cols.dtype)
    for i in range(kh):
        for j in range(kw):
            xp[:, :, i * dh : i * dh + sh * (ho - 1) + 1 : sh, j * dw : j * dw + sw * (wo - 1) + 1 : sw] += cols[:, :, i, j]
    return xp


class Conv2d(Function):
    """out[n, o, y, x] = b[o] + Σ_{c, i, j} w[o, c, i, j] · xp[n, g(o)·C/G + c, y·s_h + i·d_h, x·s_w + j·d_w]

    x (N, C, H, W), w (O, C/G, k_h, k_w), b (O,) or None → out (N, O, H_out, W_out); xp is x zero-padded by
    ``pads`` (top, bottom, left, right), g(o) the group of output channel o. With the columns of im2col
    (N, G, K = C/G·k_h·k_w, L = H_out·W_out) and W as (G, O/G, K):
    out = W @ cols;  dW = Σ_n g @ colsᵀ;  db = Σ g;  dx = col2im(Wᵀ @ g), the padding cut off.
    Recorded (create_graph), the gradients are convolutions again: dx a ConvTranspose2d of g by w
    (``transposed_window``), dW a Conv2d of x by g (``weight_gradient``), db a sum.
    """

    def forward(self, x, w, b, *, stride, pads, dilation, groups):
        n, o = x.shape[0], w.shape[0]
        xp = pad_spatial(x, pads)
        self.cols, self.out_size = im2col(xp, w.shape[2:], stride, dilation, groups)
        self.w = w.reshape(groups, o // groups, -1)
        self.shape, self.padded_shape, self.kernel = x.shape, xp.shape, w.shape[2:]
        self.stride, self.pads, self.dilation = stride, pads, dilation
        out = np.matmul(self.w, self.cols).reshape(n, o, *self.out_size)  # (N, G, O/G, L) → (N, O, H_out, W_out)
        return out if b is None else out + b.reshape(1, o, 1, 1)

    def backward(self, g):
        n, o = g.shape[:2]
        gg = g.reshape(n, *self.w.shape[:2], g.shape[2] * g.shape[3])  # (N, G, O/G, L)
        gx = gw = gb = None
        if self.needs[0]:
            gxp = col2im(np.matmul(self.w.transpose(0, 2, 1), gg), self.padded_shape, self.kernel, self.out_size,
                         self.stride, self.dilation)
            top, _, left, _ = self.pads
            gx = gxp[:, :, top : top + self.shape[2], left : left + self.shape[3]]
        if self.needs[1]:
            gw = np.matmul(gg, self.cols.transpose(0, 1, 3, 2)).sum(axis=0).reshape(o, -1, *self.kernel)
        if self.needs[2]:
            gb = g.sum(axis=(0, 2, 3))
        return gx, gw, gb

    def backward_graph(self, g):
        x, w, _ = self.inputs
        stride, pads, dilation, groups = (self.kwargs[k] for k in ("stride", "pads", "dilation", "groups"))
        top_left = pads[0], pads[2]
        gx = gw = gb = None
        if self.needs[0]:
            gx = transposed_window(g, w, stride, dilation, groups, top_left, x.shape[2:])
        if self.needs[1]:
            gw = weight_gradient(x, g, w.shape[2:], stride, top_left, dilation, groups)
        if self.needs[2]:
            gb = g.sum(dim=(0, 2, 3))
        return gx, gw, gb


class ConvTranspose2d(Function):
    """out = col2im(Wᵀ @ x) + b: the input gradient of a Conv2d, used as a forward [note 002: the adjoint].

    x (N, C_in, H, W), w (C_in, C_out/G, k_h, k_w), b (C_out,) or None → out (N, C_out, H_out, W_out),
    H_out = (H − 1)·s − 2p + d·(k − 1) + output_padding + 1. Every input pixel scatters itself times the
    kernel: x[n, c, y, x']·w[c, :, i, j] is added at (y·s + i·d, x'·s + j·d) of a canvas of
    H_s = (H − 1)·s + d·(k − 1) + 1 rows (W_s columns); output_padding zero rows and columns are added at its
    end, and p cut off each side. Backward: the canvas's gradient is g padded by p (cut to H_s rows); its
    im2col columns give dx = W @ cols — conv2d(g, w), a correlation —, dW = Σ_n x ⊗ cols and db = Σ g.
    Recorded (create_graph): dx that Conv2d of g, dW the weight gradient of that Conv2d with x as its output's
    gradient (``weight_gradient``), db a sum.
    """

    def forward(self, x, w, b, *, stride, padding, output_padding, dilation, groups):
        n, c_in, h, wd = x.shape
        kernel, c_out = w.shape[2:], w.shape[1] * groups
        canvas = tuple((size - 1) * stride[i] + dilation[i] * (kernel[i] - 1) + 1 for i, size in enumerate((h, wd)))
        self.x, self.w = x.reshape(n, groups, c_in // groups, h * wd), w.reshape(groups, c_in // groups, -1)
        self.kernel, self.stride, self.dilation, self.padding, self.canvas = kernel, stride, dilation, padding, canvas
        self.in_size = (h, wd)
        cols = np.matmul(self.w.transpose(0, 2, 1), self.x)  # (N, G, C_out/G·k_h·k_w, H·W): each pixel times the kernel
        extended = tuple(canvas[i] + output_padding[i] for i in range(2))  # output_padding: zero rows/columns added
        full = col2im(cols, (n, c_out) + extended, kernel, (h, wd), stride, dilation)
        ph, pw = padding
        out = full[:, :, ph : extended[0] - ph, pw : extended[1] - pw]
        return out if b is None else out + b.reshape(1, c_out, 1, 1)

    def backward(self, g):
        (ph, pw), (hs, ws) = self.padding, self.canvas
        gp = pad_spatial(g, (ph, ph, pw, pw))[:, :, :hs, :ws]  # the canvas's gradient (no pixel reaches past H_s)
        n, groups, cg, _ = self.x.shape
        cols, _ = im2col(gp, self.kernel, self.stride, self.dilation, groups)  # (N, G, C_out/G·k_h·k_w, H·W)
        gx = gw = gb = None
        if self.needs[0]:
            gx = np.matmul(self.w, cols).reshape(n, groups * cg, *self.in_size)
        if self.needs[1]:
            gw = np.matmul(self.x, cols.transpose(0, 1, 3, 2)).sum(axis=0).reshape(groups * cg, -1, *self.kernel)
        if self.needs[2]:
            gb = g.sum(axis=(0, 2, 3))
        return gx, gw, gb

    def backward_graph(self, g):
        x, w, _ = self.inputs
        stride, padding, output_padding, dilation, groups = (
            self.kwargs[k] for k in ("stride", "padding", "output_padding", "dilation", "groups"))
        gx = gw = gb = None
        if self.needs[0]:
            bottom = [_nearest_zero(p - q, s) for p, q, s in zip(padding, output_padding, stride)]
            gx = conv2d_cropping(g, w, stride, (padding[0], bottom[0], padding[1], bottom[1]), dilation, groups)
        if self.needs[1]:
            gw = weight_gradient(g, x, w.shape[2:], stride, padding, dilation, groups)
        if self.needs[2]:
            gb = g.sum(dim=(0, 2, 3))
        return gx, gw, gb


# ----- the gradients of Conv2d and ConvTranspose2d as convolutions (create_graph) -----


def _nearest_zero(low, span):
    """The number in low .. low + span − 1 nearest to 0: the bottom padding (negative: cropping) among the
    ``span`` ones that give a strided window the same number of positions."""
    return max(low, min(0, low + span - 1))


def _part_inside(size, before, after):
    """Along one dim of ``size`` padded by ``before`` and ``after`` (negative: cropped, even past the other side's
    padding): the slice of the input inside, and the zero padding it still needs before and after it."""
    start, end = -before, size + after
    first, last = min(max(start, 0), size), max(min(end, size), 0)
    return slice(first, max(first, last)), max(0, min(end, 0) - start), max(0, end - max(start, size))


def conv2d_cropping(x, w, stride, pads, dilation, groups):
    """The recorded Conv2d of x by w (no bias) with (top, bottom, left, right) ``pads``; a negative one crops x."""
    if min(pads) < 0:
        (rows, top, bottom), (cols, left, right) = (_part_inside(x.shape[2 + d], *pads[2 * d : 2 * d + 2])
                                                    for d in (0, 1))
        x, pads = x[:, :, rows, cols], (top, bottom, left, right)
    return (Conv2d if runtime.reference else fast.Conv2d).apply(x, w, None, stride=stride, pads=pads,
                                                                dilation=dilation, groups=groups)


def transposed_window(g, w, stride, dilation, groups, start, size):
    """dx of a convolution: the recorded ConvTranspose2d of g (N, O, H_out, W_out) by w (O, C/G, k_h, k_w), rows
    start[0] .. start[0] + size[0] of its canvas (H_s = (H_out − 1)·s + d·(k − 1) + 1 rows, zeros past its end;
    columns alike) — the padded input's gradient cut to the input. The transposed convolution crops p = start
    on each side and adds output_padding q = size + 2p − H_s rows; a negative q is cropped after it."""
    canvas = [(n - 1) * s + d * (k - 1) + 1 for n, s, d, k in zip(g.shape[2:], stride, dilation, w.shape[2:])]
    extra = [m + 2 * p - c for m, p, c in zip(size, start, canvas)]
    out = (ConvTranspose2d if runtime.reference else fast.ConvTranspose2d).apply(
        g, w, None, stride=stride, padding=tuple(start), output_padding=tuple(max(q, 0) for q in extra),
        dilation=dilation, groups=groups)
    if min(extra) < 0:
        out = out[:, :, : size[0], : size[1]]
    return out


def weight_gradient(x, g, kernel, stride, top_left, dilation, groups):
    """dW[o, c, i, j] = Σ_{n, y, x'} g[n, o, y, x'] · xp[n, g(o)·C/G + c, y·s_h + i·d_h, x'·s_w + j·d_w]: itself a
    convolution, of x seen as (C/G, G·N, H, W) — channels as the batch, the batch as channels — by g seen as
    (O, N, H_out, W_out) filters, stride and dilation swapped, G groups; x padded by ``top_left`` and at the
    bottom/right just enough for k_h×k_w outputs (or cropped). → (O, C/G, k_h, k_w)."""
    n, c, h, wd = x.shape
    canvas = [(m - 1) * s + d * (k - 1) + 1 for m, s, d, k in zip(g.shape[2:], stride, dilation, kernel)]
    bottom = [_nearest_zero(cv - size - p, d) for cv, size, p, d in zip(canvas, (h, wd), top_left, dilation)]
    xt = x.reshape(n, groups, c // groups, h, wd).permute(2, 1, 0, 3, 4).reshape(c // groups, groups * n, h, wd)
    pads = (top_left[0], bottom[0], top_left[1], bottom[1])
    return conv2d_cropping(xt, g.permute(1, 0, 2, 3), dilation, pads, stride, groups).permute(1, 0, 2, 3)


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1, algorithm=None):  # noqa: A002
    """2-D convolution (cross-correlation, as in PyTorch) of input (N, C, H, W) — or an unbatched
    (C, H, W) — with weight (O, C/groups, k_h, k_w). ``padding``: int, pair, 'valid', 'same' (also
    with stride > 1, TensorFlow's rule: output ⌈H / stride⌉, extra pad bottom/right) or 'full'.

    ``algorithm`` (chainrule's; torch has none): how the fast kernel computes it — 'auto' (per layer shape),
    'im2col', 'winograd2' or 'winograd4' (Winograd F(2×2, 3×3) / F(4×4, 3×3): a 3×3 kernel, stride 1,
    dilation 1, groups 1 only, else a ValueError); None: ``chainrule.get_conv_algorithm()`` ('auto' unless
    set). Every algorithm gives the same result up to rounding; under ``use_reference()`` none is used."""
    return _conv(input, weight, bias, stride, padding, dilation, groups, "conv2d", algorithm=algorithm)


def _conv(x, weight, bias, stride, padding, dilation, groups, op, shapes=None, algorithm=None):
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
    algorithm = _conv_algorithm(algorithm, (kh, kw), stride, dilation, groups, pads, op)
    if runtime.reference:
        out = Conv2d.apply(x, weight, bias, stride=stride, pads=pads, dilation=dilation, groups=groups)
    else:
        out = fast.Conv2d.apply(x, weight, bias, stride=stride, pads=pads, dilation=dilation, groups=groups,
                                algorithm=algorithm, weight_version=weight._version)
    return out.squeeze(0) if unbatched else out


def _conv_algorithm(algorithm, kernel, stride, dilation, groups, pads, op):
    """The algorithm a call asks for (None: the global setting), checked: Winograd asked for by the call itself
    must apply to this convolution; asked for by the global setting, it applies where it can."""
    if algorithm is None:
        return runtime.get_conv_algorithm()
    runtime._check_conv_algorithm(algorithm, op)
    if algorithm.startswith("winograd") and not fast.winograd.applies(kernel, stride, dilation, groups, pads):
        raise ValueError(f"{op}: algorithm={algorithm!r} computes 3×3 convolutions with stride 1, dilation 1 and "
                         f"groups=1 only, got kernel {kernel}, stride {stride}, dilation {dilation}, groups={groups}")
    return algorithm


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




def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):  # noqa: A002
    """2-D transposed convolution of input (N, C_in, H, W) — or an unbatched (C_in, H, W) — with weight
    (C_in, C_out/groups, k_h, k_w), as torch's: the input gradient of ``conv2d`` with the same stride, padding,
    dilation and groups, used as a forward. Output H_out = (H − 1)·stride − 2·padding + dilation·(k_h − 1) +
    output_padding + 1; ``output_padding`` (< stride or < dilation) picks among the input sizes a strided
    conv2d maps to the size of ``input``."""
    return _transposed(input, weight, bias, stride, padding, output_padding, groups, dilation, "conv_transpose2d")


def _transposed(x, weight, bias, stride, padding, output_padding, groups, dilation, op, shapes=None):
    """Checks, then ConvTranspose2d; ``shapes``: the (input, weight) shapes to name in errors."""
    if not isinstance(x, Tensor) or not isinstance(weight, Tensor):
        raise TypeError(f"{op}: input and weight must be Tensors")
    if weight.ndim != 4:
        raise ValueError(f"{op}: weight must be 4-D (in_channels, out_channels/groups, kH, kW), got {weight.shape}")
    x_shape, w_shape = shapes or (x.shape, weight.shape)
    spatial = len(w_shape) - 2  # 1 for conv_transpose1d
    if x.ndim not in (3, 4):
        raise ValueError(f"{op}: expected a 3-D (C, H, W) or 4-D (N, C, H, W) input, got shape {x.shape}")
    unbatched = x.ndim == 3
    if unbatched:
        x = x.unsqueeze(0)
    c_in, cg, kh, kw = weight.shape
    if kh < 1 or kw < 1:
        raise ValueError(f"{op}: kernel size must be positive, got {w_shape[2:]} (weight shape {w_shape})")
    if groups < 1 or c_in % groups:
        raise ValueError(f"{op}: groups={groups} must divide in_channels={c_in} (weight {w_shape})")
    if x.shape[1] != c_in:
        raise ValueError(f"{op}: expected input with {c_in} channels (weight {w_shape}: in_channels first), "
                         f"got {x.shape[1]} channels in input of shape {x_shape}")
    if min(x.shape[2:]) < 1:
        raise ValueError(f"{op}: input of shape {x_shape} has an empty spatial dim")
    c_out = cg * groups
    if bias is not None and bias.shape != (c_out,):
        raise ValueError(f"{op}: bias must have shape ({c_out},) (out_channels = weight.shape[1]·groups), got {bias.shape}")
    if x.dtype != weight.dtype or (bias is not None and bias.dtype != weight.dtype):
        raise TypeError(f"{op}: input dtype {x.dtype}, weight dtype {weight.dtype} and bias dtype must match")
    if isinstance(padding, str):
        raise ValueError(f"{op}: padding must be an int or a pair, got {padding!r}")
    stride, dilation = pair(stride, "stride", op), pair(dilation, "dilation", op)
    padding, output_padding = pair(padding, "padding", op), pair(output_padding, "output_padding", op)
    if min(stride) < 1 or min(dilation) < 1:
        raise ValueError(f"{op}: stride and dilation must be positive, got stride={stride[-spatial:]}, "
                         f"dilation={dilation[-spatial:]}")
    if min(padding) < 0 or min(output_padding) < 0:
        raise ValueError(f"{op}: padding and output_padding must be non-negative, got padding={padding[-spatial:]}, "
                         f"output_padding={output_padding[-spatial:]}")
    if any(p >= s and p >= d for p, s, d in zip(output_padding, stride, dilation)):
        raise ValueError(f"{op}: output_padding must be smaller than stride or dilation, got output_padding="
                         f"{output_padding[-spatial:]}, stride={stride[-spatial:]}, dilation={dilation[-spatial:]}")
    size = tuple((n - 1) * s - 2 * p + d * (k - 1) + q + 1
                 for n, s, p, d, k, q in zip(x.shape[2:], stride, padding, dilation, (kh, kw), output_padding))
    if min(size) < 1:
        raise ValueError(f"{op}: output size {size[-spatial:]} is not positive (input shape {x_shape}, weight {w_shape}, "
                         f"stride={stride[-spatial:]}, padding={padding[-spatial:]})")
    out = (ConvTranspose2d if runtime.reference else fast.ConvTranspose2d).apply(
        x, weight, bias, stride=stride, padding=padding, output_padding=output_padding, dilation=dilation, groups=groups)
    return out.squeeze(0) if unbatched else out


def conv_transpose1d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):  # noqa: A002
    """1-D transposed convolution of input (N, C_in, L) — or unbatched (C_in, L) — with weight
    (C_in, C_out/groups, k): conv_transpose2d on a height-1 image."""
    if not isinstance(weight, Tensor) or weight.ndim != 3:
        raise ValueError(f"conv_transpose1d: weight must be a 3-D Tensor (in_channels, out_channels/groups, k), got "
                         f"{getattr(weight, 'shape', type(weight).__name__)}")
    if not isinstance(input, Tensor) or input.ndim not in (2, 3):
        raise ValueError(f"conv_transpose1d: expected a 2-D (C, L) or 3-D (N, C, L) input, got shape "
                         f"{getattr(input, 'shape', None)}")
    op = "conv_transpose1d"
    if isinstance(padding, str):
        raise ValueError(f"{op}: padding must be an int, got {padding!r}")
    s, p, q, d = (single(v, name, op) for v, name in
                  ((stride, "stride"), (padding, "padding"), (output_padding, "output_padding"), (dilation, "dilation")))
    out = _transposed(input.unsqueeze(-2), weight.unsqueeze(-2), bias, (1, s), (0, p), (0, q), groups, (1, d), op,
                      (input.shape, weight.shape))
    return out.squeeze(-2)


# ----- 3-D convolution (reference only) -----


def windows3d(xp, kernel, stride, dilation):
    """Every window of the padded (N, C, D_p, H_p, W_p) array, a view (N, C, D_out, H_out, W_out, k_d, k_h, k_w):
    windows[n, c, z, y, x, i, j, l] = xp[n, c, z·s_d + i·d_d, y·s_h + j·d_h, x·s_w + l·d_w]."""
    extent = tuple(d * (k - 1) + 1 for k, d in zip(kernel, dilation))
    (sd, sh, sw), (dd, dh, dw) = stride, dilation
    return sliding_window_view(xp, extent, axis=(2, 3, 4))[:, :, ::sd, ::sh, ::sw, ::dd, ::dh, ::dw]


def pad3d(x, pads, value=0.0):
    """Pad the last three dims of x by ((front, back), (top, bottom), (left, right))."""
    return np.pad(x, ((0, 0), (0, 0)) + tuple(pads), constant_values=value) if any(map(any, pads)) else x


class Conv3d(Function):
    """out[n, o, z, y, x] = b[o] + Σ_{c, i, j, l} w[o, c, i, j, l] · xp[n, g(o)·C/G + c, z·s_d + i·d_d, y·s_h + j·d_h,
    x·s_w + l·d_w] — Conv2d with one more spatial dim. x (N, C, D, H, W), w (O, C/G, k_d, k_h, k_w) → (N, O, D_out,
    H_out, W_out). With the windows as (N, G, C/G, D_out, H_out, W_out, k…) and W as (G, O/G, C/G, k…):
    out = Σ windows·W (one einsum);  dW = Σ_n g ⊗ windows;  db = Σ g;  dx: g·W added back onto each window
    position, one strided add per kernel offset (i, j, l) — col2im in 3-D. Differentiated twice through its
    ``decomposition`` into Conv2d's, one per depth offset."""

    def forward(self, x, w, b, *, stride, pads, dilation, groups):
        n, c = x.shape[:2]
        o = w.shape[0]
        xp = pad3d(x, pads)
        win = windows3d(xp, w.shape[2:], stride, dilation)
        self.win = win.reshape(n, groups, c // groups, *win.shape[2:])  # (N, G, C/G, D', H', W', k_d, k_h, k_w)
        self.w = w.reshape(groups, o // groups, *w.shape[1:])  # (G, O/G, C/G, k_d, k_h, k_w)
        self.shape, self.padded_shape, self.pads, self.stride, self.dilation = x.shape, xp.shape, pads, stride, dilation
        out = np.einsum("ngcdhwijl,gocijl->ngodhw", self.win, self.w, optimize=True).reshape(n, o, *win.shape[2:5])
        return out if b is None else out + b.reshape(1, o, 1, 1, 1)

    def backward(self, g):
        n, o = g.shape[:2]
        groups = self.w.shape[0]
        gg = g.reshape(n, groups, o // groups, *g.shape[2:])  # (N, G, O/G, D', H', W')
        gx = gw = gb = None
        if self.needs[0]:
            gxp = np.zeros(self.padded_shape, dtype=g.dtype)
            out_size = g.shape[2:]
            for i, j, l in np.ndindex(*self.w.shape[3:]):
                part = np.einsum("ngodhw,goc->ngcdhw", gg, self.w[:, :, :, i, j, l]).reshape(n, -1, *out_size)
                offsets = (i * self.dilation[0], j * self.dilation[1], l * self.dilation[2])
                gxp[(slice(None), slice(None)) + tuple(slice(k, k + s * (m - 1) + 1, s) for k, s, m in
                                                       zip(offsets, self.stride, out_size))] += part
            gx = gxp[(slice(None), slice(None)) + tuple(slice(lo, lo + m) for (lo, _), m in zip(self.pads, self.shape[2:]))]
        if self.needs[1]:
            gw = np.einsum("ngodhw,ngcdhwijl->gocijl", gg, self.win, optimize=True).reshape(o, *self.w.shape[2:])
        if self.needs[2]:
            gb = g.sum(axis=(0, 2, 3, 4))
        return gx, gw, gb

    def decomposition(self, x, w, b, *, stride, pads, dilation, groups):
        """Σ over the k_d depth offsets i of a Conv2d: the input depths z·s_d + i·d_d of every output depth z,
        moved into the batch, convolved in (H, W) by w[:, :, i]."""
        (front, back), kd, o = pads[0], w.shape[2], w.shape[0]
        if front or back:
            x = Pad.apply(x, widths=((0, 0), (0, 0), (front, back), (0, 0), (0, 0)), value=0.0)
        n, c, depth, h, wd = x.shape
        out_depth = (depth - dilation[0] * (kd - 1) - 1) // stride[0] + 1
        out = None
        for i in range(kd):
            start = i * dilation[0]
            planes = x[:, :, start : start + stride[0] * (out_depth - 1) + 1 : stride[0]]  # (N, C, D_out, H, W)
            planes = planes.permute(0, 2, 1, 3, 4).reshape(n * out_depth, c, h, wd)
            part = conv2d_cropping(planes, w[:, :, i], stride[1:], pads[1] + pads[2], dilation[1:], groups)
            out = part if out is None else out + part
        out = out.reshape(n, out_depth, o, *out.shape[2:]).permute(0, 2, 1, 3, 4)
        return out if b is None else out + b.reshape(1, o, 1, 1, 1)


def _triple(v, name, op):
    v = (int(v),) * 3 if isinstance(v, (int, np.integer)) else tuple(int(i) for i in v)
    if len(v) != 3:
        raise ValueError(f"{op}: {name} must be an int or a triple, got {v}")
    return v


def conv3d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):  # noqa: A002 - torch's names
    """3-D convolution of input (N, C, D, H, W) — or unbatched (C, D, H, W) — with weight (O, C/groups, k_d, k_h,
    k_w). ``padding``: int, triple, 'valid', 'same' or 'full' (as conv2d's). There is no fast 3-D kernel: this
    always runs the reference op above, whatever ``chainrule.use_reference`` says."""
    op = "conv3d"
    if not isinstance(input, Tensor) or not isinstance(weight, Tensor):
        raise TypeError(f"{op}: input and weight must be Tensors")
    if weight.ndim != 5:
        raise ValueError(f"{op}: weight must be 5-D (out_channels, in_channels/groups, kD, kH, kW), got {weight.shape}")
    if input.ndim not in (4, 5):
        raise ValueError(f"{op}: expected a 4-D (C, D, H, W) or 5-D (N, C, D, H, W) input, got shape {input.shape}")
    unbatched = input.ndim == 4
    x = input.unsqueeze(0) if unbatched else input
    o, cg, *kernel = weight.shape
    c = x.shape[1]
    if min(kernel) < 1:
        raise ValueError(f"{op}: kernel size must be positive, got {tuple(kernel)} (weight shape {weight.shape})")
    if groups < 1 or c % groups or o % groups:
        raise ValueError(f"{op}: groups={groups} must divide in_channels={c} and out_channels={o}")
    if c != cg * groups:
        raise ValueError(f"{op}: expected input with {cg * groups} channels (weight {weight.shape}, groups={groups}), "
                         f"got {c} channels in input of shape {input.shape}")
    if bias is not None and bias.shape != (o,):
        raise ValueError(f"{op}: bias must have shape ({o},), got {bias.shape}")
    if x.dtype != weight.dtype or (bias is not None and bias.dtype != weight.dtype):
        raise TypeError(f"{op}: input dtype {x.dtype}, weight dtype {weight.dtype} and bias dtype must match")
    stride, dilation = _triple(stride, "stride", op), _triple(dilation, "dilation", op)
    if min(stride) < 1 or min(dilation) < 1:
        raise ValueError(f"{op}: stride and dilation must be positive, got stride={stride}, dilation={dilation}")
    if isinstance(padding, str):
        if padding not in ("valid", "same", "full"):
            raise ValueError(f"{op}: padding must be an int, a triple, 'valid', 'same' or 'full', got {padding!r}")
        pads = tuple(resolve_padding(padding, x.shape[2 + d], kernel[d], stride[d], dilation[d]) for d in range(3))
    else:
        pads = tuple((p, p) for p in _triple(padding, "padding", op))
        if min(map(min, pads)) < 0:
            raise ValueError(f"{op}: padding must be non-negative, got {padding}")
    padded = tuple(x.shape[2 + d] + sum(pads[d]) for d in range(3))
    eff = tuple(dilation[d] * (kernel[d] - 1) + 1 for d in range(3))
    if any(p < e for p, e in zip(padded, eff)):
        raise ValueError(f"{op}: kernel size {eff} (dilated) is larger than the padded input {padded} of input shape "
                         f"{input.shape}")
    out = Conv3d.apply(x, weight, bias, stride=stride, pads=pads, dilation=dilation, groups=groups)
    return out.squeeze(0) if unbatched else out


from ..kernels import conv as fast  # noqa: E402 - the fast kernels subclass the ops above
