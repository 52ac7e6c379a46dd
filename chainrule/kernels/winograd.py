"""Winograd minimal filtering (Lavin & Gray 2015) for stride-1, dilation-1, 3×3 convolutions, groups = 1.

An m×m tile of outputs of a 3×3 correlation reads an α×α tile of input, α = m + 2. Direct (and im2col)
computation spends 9 multiplications per output, 9·m² per tile. Winograd's F(m×m, 3×3) spends α²:

    Y = Aᵀ [ (G g Gᵀ) ⊙ (Bᵀ d B) ] A        d (α, α) input tile, g (3, 3) filter, Y (m, m)

with small constant matrices Bᵀ (α, α), G (α, 3), Aᵀ (m, α) — 16 instead of 36 multiplications for
F(2×2, 3×3), 36 instead of 144 for F(4×4, 3×3). Over channels, the elementwise product becomes a sum, so
for each of the α² transformed positions (ξ, ν) the layer is one matrix product:

    M[ξν] (O, P) = U[ξν] (O, C) @ V[ξν] (C, P)      U = G g Gᵀ per (o, c),  V = Bᵀ d B per (c, tile)

P the tiles of a block of samples. The transforms are linear maps of the flattened tile; in row-major
vec form vec(Bᵀ d B) = (Bᵀ ⊗ Bᵀ) vec(d), so each is one GEMM too (``Winograd.kb``, ``kg``, ``ka``).

Gradients, from the same pieces: dx is the convolution of g, padded by 2 − pad, with the flipped kernel,
in/out channels swapped (``conv2d`` again); dW in the transformed domain (the adjoint of the formula above,
w ↦ U linear):  dW[o, c] = Gᵀ [ Σ_tiles (A gy Aᵀ) ⊙ (Bᵀ d B) ] G,  gy the output-gradient tile. In training
the forward keeps its transformed input V = Bᵀ d B for dW (2.25× the input for F(4×4), 4× for F(2×2)): a
ResNet-20 step at batch 128 1199 → 1142 ms at 2 threads, its peak memory 417 → 597 MiB (torch's: 626).

The price of fewer multiplications is rounding: the transforms' entries grow with m (F(4×4)'s Bᵀ holds 4
and 5, its G 1/24), so float32 results differ from a direct convolution's by ~1e-6 relative for F(2×2)
and ~1e-5 for F(4×4) (float64: ~1e-14). ``choose`` picks the algorithm per layer shape.
"""
import weakref

import numpy as np
from numpy.lib.stride_tricks import as_strided

from .parallel import get_num_threads, run_blocks

BLOCK = 1 << 17  # entries of the transformed input V built at once (512 KiB in float32: the L2 cache)
MIN_TILES = 128  # but at least this many tiles per block: the products' GEMMs (O, C) @ (C, P) need columns
MIN_CHANNELS = 16  # 'auto' keeps im2col below this many input channels (an RGB input layer, 8-channel layers)
MIN_CHANNELS_BY_SIZE = 256  # and where input channels × output size (the smaller side) is below this

# Lavin & Gray's matrices: Cook–Toom with interpolation points 0, 1, −1 (F(2×2)) and 0, ±1, ±2 (F(4×4)), and ∞.
MATRICES = {
    2: (
        [[1, 0, -1, 0], [0, 1, 1, 0], [0, -1, 1, 0], [0, 1, 0, -1]],
        [[1, 0, 0], [1 / 2, 1 / 2, 1 / 2], [1 / 2, -1 / 2, 1 / 2], [0, 0, 1]],
        [[1, 1, 1, 0], [0, 1, -1, -1]],
    ),
    4: (
        [[4, 0, -5, 0, 1, 0], [0, -4, -4, 1, 1, 0], [0, 4, -4, -1, 1, 0],
         [0, -2, -1, 2, 1, 0], [0, 2, -1, -2, 1, 0], [0, 4, 0, -5, 0, 1]],
        [[1 / 4, 0, 0], [-1 / 6, -1 / 6, -1 / 6], [-1 / 6, 1 / 6, -1 / 6],
         [1 / 24, 1 / 12, 1 / 6], [1 / 24, -1 / 12, 1 / 6], [0, 0, 1]],
        [[1, 1, 1, 1, 1, 0], [0, 1, -1, 2, -2, 0], [0, 1, 1, 4, 4, 0], [0, 1, -1, 8, -8, 1]],
    ),
}
ALGORITHMS = {"winograd2": 2, "winograd4": 4}


class Winograd:
    """F(m×m, 3×3) for one input shape (N, C, H, W) and ``pads`` (top, bottom, left, right): the tiles, the
    transforms as matrices in ``dtype``, and the three computations (``conv``, ``weight_grad``; dx is a ``conv``).

    Tiles: the output (H_out, W_out) = (H_p − 2, W_p − 2) is cut into T_h × T_w tiles of m×m,
    T = ⌈H_out / m⌉; input tile (t_y, t_x) is the α×α window at (m·t_y, m·t_x) of the padded input, extended
    with zeros to m·T + 2 rows and columns (outputs past H_out are computed and dropped). Samples go through
    in blocks of ``block``: their transformed tiles (α², C, block·T_h·T_w) stay in the L2 cache, unless the
    products' GEMMs would get fewer than MIN_TILES columns (wide layers)."""

    def __init__(self, x_shape, pads, m, dtype):
        n, c, h, w = x_shape
        self.shape, self.pads, self.m, self.alpha = x_shape, pads, m, m + 2
        top, bottom, left, right = pads
        self.ho, self.wo = h + top + bottom - 2, w + left + right - 2
        self.th, self.tw = -(-self.ho // m), -(-self.wo // m)
        self.he, self.we = m * self.th + 2, m * self.tw + 2  # the padded input, extended to whole tiles
        bt, g, at = (np.array(a, dtype=np.float64) for a in MATRICES[m])
        self.kb = np.kron(bt, bt).astype(dtype)  # (α², α²): vec(Bᵀ d B) = kb @ vec(d)
        self.kg = np.kron(g, g).astype(dtype)  # (α², 9): vec(G g Gᵀ) = kg @ vec(g)
        self.ka = np.kron(at, at).astype(dtype)  # (m², α²): vec(Aᵀ M A) = ka @ vec(M)
        self.dtype = dtype
        tiles = self.th * self.tw  # per sample
        per_block = max(-(-MIN_TILES // tiles), BLOCK // (self.alpha ** 2 * c * tiles), 1)
        blocks = -(-max(n, 1) // per_block)
        threads = get_num_threads()
        self.block = -(-max(n, 1) // (-(-blocks // threads) * threads))  # as many blocks on every thread

    def blocks(self):
        n = self.shape[0]
        return [(n0, min(n0 + self.block, n)) for n0 in range(0, n, self.block)]

    def filters(self, w):
        """U (α², O, C) = G g Gᵀ for every filter g of w (O, C, 3, 3)."""
        o, c = w.shape[:2]
        return (self.kg @ w.reshape(o * c, 9).T).reshape(self.alpha ** 2, o, c)

    def transformed_input(self, x, padded):
        """V (α², C, P) = Bᵀ d B for every tile d of the m samples x (m, C, H, W), P = m·T_h·T_w, through
        ``padded`` (block, C, H_e, W_e), a buffer whose border is zero."""
        m, c = x.shape[:2]
        top, left = self.pads[0], self.pads[2]
        xp = padded[:m]
        xp[:, :, top : top + x.shape[2], left : left + x.shape[3]] = x
        s_n, s_c, s_h, s_w = xp.strides
        a, step = self.alpha, self.m
        view = as_strided(xp, (a, a, c, m, self.th, self.tw), (s_h, s_w, s_c, s_n, step * s_h, step * s_w))
        d = np.empty(view.shape, self.dtype)
        d[...] = view
        return (self.kb @ d.reshape(a * a, -1)).reshape(a * a, c, -1)

    def padded(self):
        return np.zeros((self.block, self.shape[1], self.he, self.we), self.dtype)

    def conv(self, x, u, bias=None, keep=None):
        """out (N, O, H_out, W_out) = Aᵀ [U ⊙ V] A summed over channels (+ bias), U = ``filters(w)``; with a dict
        ``keep``, each block's V stays there (by its first sample) for ``weight_grad``."""
        n, o = x.shape[0], u.shape[1]
        a2, m = self.alpha ** 2, self.m
        out = np.empty((n, o, self.ho, self.wo), self.dtype)
        exact = self.ho == m * self.th and self.wo == m * self.tw

        def work(blocks):
            padded = self.padded()
            for n0, n1 in blocks:
                v = self.transformed_input(x[n0:n1], padded)
                if keep is not None:
                    keep[n0] = v
                prod = np.matmul(u, v)  # (α², O, P): one GEMM per transformed position
                y = (self.ka @ prod.reshape(a2, -1)).reshape(m, m, o, n1 - n0, self.th, self.tw)
                tiles = y.transpose(3, 2, 4, 0, 5, 1)  # (n, O, T_h, m, T_w, m)
                if exact:
                    out[n0:n1].reshape(tiles.shape)[...] = tiles
                else:  # the last tiles overhang the output: assemble them whole, then crop
                    out[n0:n1] = tiles.reshape(n1 - n0, o, m * self.th, m * self.tw)[:, :, : self.ho, : self.wo]
                if bias is not None:
                    out[n0:n1] += bias.reshape(1, o, 1, 1)

        run_blocks(work, self.blocks())
        return out

    def weight_grad(self, x, g, kept=None):
        """dW (O, C, 3, 3) = Gᵀ [Σ_tiles (A gy Aᵀ) ⊙ (Bᵀ d B)] G from the output gradient g (N, O, H_out, W_out);
        V = Bᵀ d B from ``kept`` (what ``conv(..., keep)`` left) where it holds the block, else computed again."""
        o, c = g.shape[1], x.shape[1]
        a2, m = self.alpha ** 2, self.m

        def work(blocks):
            padded = self.padded()
            gpad = np.zeros((self.block, o, m * self.th, m * self.tw), self.dtype)  # g, zero past H_out / W_out
            s = np.zeros((a2, o, c), self.dtype)
            for n0, n1 in blocks:
                v = kept[n0] if kept and n0 in kept else self.transformed_input(x[n0:n1], padded)
                gb = gpad[: n1 - n0]
                gb[:, :, : self.ho, : self.wo] = g[n0:n1]
                gt = np.empty((m, m, o, n1 - n0, self.th, self.tw), self.dtype)
                gt[...] = gb.reshape(n1 - n0, o, self.th, m, self.tw, m).transpose(3, 5, 1, 0, 2, 4)
                gu = (self.ka.T @ gt.reshape(m * m, -1)).reshape(a2, o, -1)  # A gy Aᵀ per tile: (α², O, P)
                s += np.matmul(gu, v.transpose(0, 2, 1))
            return s

        s = sum(run_blocks(work, self.blocks()))
        return (self.kg.T @ s.reshape(a2, -1)).reshape(3, 3, o, c).transpose(2, 3, 0, 1)


def applies(kernel, stride, dilation, groups, pads):
    """Whether Winograd F(m×m, 3×3) computes this convolution: a 3×3 kernel, stride 1, dilation 1, one
    group, no negative padding."""
    return tuple(kernel) == (3, 3) and stride == (1, 1) and dilation == (1, 1) and groups == 1 and min(pads) >= 0


def multiplications_per_output(m, out_size):
    """Winograd F(m×m, 3×3)'s multiplications per output that is kept: α² per m×m tile, the tiles covering
    (H_out, W_out) whole (outputs past the edge are computed and dropped). Direct and im2col: 9."""
    ho, wo = out_size
    return (m + 2) ** 2 * -(-ho // m) * -(-wo // m) / (ho * wo)


def choose(x_shape, pads, dtype):
    """The tile size m of the faster of im2col (0), F(2×2, 3×3) and F(4×4, 3×3) for a convolution that
    Winograd applies to, by the rule that ``benchmarks/conv_algorithms.py`` measured (its tables:
    benchmarks/README.md): im2col for narrow layers — fewer than MIN_CHANNELS input channels, or channels ×
    output size below MIN_CHANNELS_BY_SIZE (16 channels @8², 32 @4²): there the transforms and the thin
    GEMMs cost more than the multiplications they save —; else the m with fewer multiplications per kept
    output (ties: F(2×2), which rounds less), if that saves at least a third of im2col's 9. The same rule at
    1 and 2 threads. float64 keeps im2col: who computes in float64 wants the exact sums (gradcheck,
    comparisons), and Winograd's rounding, ~100× a direct sum's there, showed through an ill-conditioned
    BatchNorm (a DenseNet's 1×1 maps over a batch of 2)."""
    _, c, h, w = x_shape
    top, bottom, left, right = pads
    out_size = (h + top + bottom - 2, w + left + right - 2)
    if c < MIN_CHANNELS or c * min(out_size) < MIN_CHANNELS_BY_SIZE or dtype == np.float64:
        return 0
    m = min((2, 4), key=lambda m: multiplications_per_output(m, out_size))
    return m if multiplications_per_output(m, out_size) <= 6 else 0


def tile_size(algorithm, x_shape, w_shape, stride, dilation, groups, pads, dtype):
    """m of F(m×m, 3×3) that computes this convolution, 0 for im2col: ``algorithm`` 'im2col' → 0, 'winograd2' /
    'winograd4' → 2 / 4 where Winograd applies (0 elsewhere), 'auto' → ``choose``."""
    if algorithm == "im2col" or not applies(w_shape[2:], stride, dilation, groups, pads):
        return 0
    if algorithm == "auto":
        return choose(x_shape, pads, dtype)
    return ALGORITHMS[algorithm]


def input_grad_applies(pads):
    """Whether dx, the convolution of g padded by 2 − pad with the flipped kernel, is one: pad ≤ 2 on every side."""
    return max(pads) <= 2


_filters = {}  # id(w) → ((version, m), U): transformed filters for inference, dropped with their weight array


def cached_filters(plan, w, version):
    """``plan.filters(w)``, kept for the next call while the weight array w is alive and its Tensor's version
    (bumped by every in-place write: optimizer steps, load_state_dict, nn.init, ``copy_``…) is ``version``.
    For inference: a wide layer's transform is a pass over 4× its weights (VGG's 512→512: ~15 ms a call). A write
    into ``weight.data`` by hand is not seen — as torch's version counter does not see one —: bump
    ``weight._version`` after it, or write with ``copy_`` / ``mul_``… under no_grad."""
    key, tag = id(w), (version, plan.m)
    hit = _filters.get(key)
    if hit is not None and hit[0] == tag and hit[1].dtype == w.dtype:
        return hit[1]
    if hit is None:
        weakref.finalize(w, _filters.pop, key, None)
    u = _filters[key] = (tag, plan.filters(w))
    return u[1]


def conv2d(x, w, bias, pads, m, version=None, keep=None):
    """The convolution of x (N, C, H, W) by w (O, C, 3, 3) (+ bias), stride 1, padded by ``pads``, by F(m×m, 3×3);
    with the weight's ``version``, its transformed filters are cached (``cached_filters``); with a dict ``keep``,
    the plan and each block's transformed input are left there for ``conv2d_weight_grad``."""
    plan = Winograd(x.shape, pads, m, x.dtype)
    if keep is not None:
        keep["plan"] = plan
    return plan.conv(x, plan.filters(w) if version is None else cached_filters(plan, w, version), bias, keep)


def conv2d_input_grad(g, w, pads, m):
    """dx (N, C, H, W) of that convolution from g (N, O, H_out, W_out): g padded by 2 − pad convolved with w
    flipped in space, in/out channels swapped."""
    flipped = np.ascontiguousarray(w[:, :, ::-1, ::-1].transpose(1, 0, 2, 3))
    return conv2d(g, flipped, None, tuple(2 - p for p in pads), m)


def conv2d_weight_grad(x, g, pads, m, kept=None):
    """dW (O, C, 3, 3) of that convolution from x and g (N, O, H_out, W_out); ``kept``: what the forward's
    ``keep`` holds (its plan and transformed input: the weight gradient then transforms only g)."""
    plan = kept["plan"] if kept else Winograd(x.shape, pads, m, x.dtype)
    return plan.weight_grad(x, g, kept)
