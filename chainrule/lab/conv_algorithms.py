"""Note 000: one convolution computed three ways — its definition, im2col, Winograd — and what each costs.

The note defines a convolution (a cross-correlation) by its sum, here with stride 1, a 3×3 kernel and the input
zero-padded by 1 (xp):

    out[n, o, y, x] = Σ_{c, i, j} w[o, c, i, j] · xp[n, c, y + i, x + j]

and computes it by **im2col**: every 3×3·C window copied into a column, the layer one matrix product. Both spend
C·9 multiplications per output. **Winograd's minimal filtering** (Lavin & Gray 2015) spends fewer: an m×m tile of
outputs, from an α×α tile d of the input (α = m + 2) and a filter g, is

    Y = Aᵀ [ (G g Gᵀ) ⊙ (Bᵀ d B) ] A

with small constant matrices (``chainrule.kernels.winograd.MATRICES``), summed over the channels before Aᵀ·A — α²
multiplications per tile and channel in the product instead of 9m²: 16 instead of 36 for F(2×2, 3×3), 36 instead of
144 = 1/4 for F(4×4, 3×3). The transforms cost multiplications too (counted here from the matrices' entries), and
F(4×4)'s entries (its Bᵀ holds 4 and 5, its G 1/24) make float32 round more; F(2×2)'s are 0, ±1 and ±½ only.

The experiment writes the three algorithms out readably in NumPy (``direct``, ``im2col``, ``winograd_simple``), checks
them equal to each other and to chainrule's fast kernels (``nn.functional.conv2d(..., algorithm=...)``) in float64,
counts their multiplications, times all of them in float32 on layers from narrow (few channels, large image) to wide
(many channels, small image), and measures each one's float32 error against the float64 definition.
"""
import os
import statistics
import time
from fractions import Fraction

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from .. import no_grad, tensor
from ..kernels.winograd import MATRICES
from ..nn import functional as F
from ..ops.conv import im2col as columns
from ..runtime import get_num_threads
from .base import Result

NAME = "conv-algorithms"
NOTE = "000"
CLAIM = ("a 3×3 convolution computed by its definition, by im2col and by Winograd's minimal filtering gives the same "
         "result; Winograd F(m×m, 3×3) needs fewer multiplications — (m + 2)² instead of 9m² per m×m output tile, "
         "16/36 for F(2×2) and 36/144 = 1/4 for F(4×4) — and so runs faster where channels are wide, at the price of "
         "more float32 rounding")

# layer shapes (N, C, O, H, W), 3×3 kernel, stride 1, padding 1 (H_out = H): few channels on a large image, many on
# a small one (ResNet-20's first and VGG's last stages), and a ragged one whose tiles overhang the output
SHAPES = {"narrow": (8, 16, 16, 32, 32), "middle": (8, 64, 64, 16, 16), "wide": (8, 256, 256, 8, 8)}
QUICK_SHAPES = {"narrow": (2, 4, 4, 16, 16), "wide": (2, 64, 64, 8, 8)}
RAGGED = ("ragged", (2, 3, 5, 7, 9))  # checked for equality only
CALLS = {False: 5, True: 2}  # timed calls per algorithm (after one warm-up call): the median is reported
TOL = 1e-10  # float64: max |difference| / max |definition|
ROUNDS_MORE = 2  # "rounds more": a float32 error at least twice the other's (direct and im2col differ by up to ~3×)
TILE = {"winograd2": 2, "winograd4": 4}
ALGORITHMS = ("direct", "im2col", "winograd2", "winograd4")  # the readable ones
FAST = ("im2col", "winograd2", "winograd4")  # nn.functional.conv2d(algorithm=...)
LABELS = {"direct": "direct (definition)", "im2col": "im2col", "winograd2": "Winograd F(2×2, 3×3)",
          "winograd4": "Winograd F(4×4, 3×3)"}


def pad(x, padding=1):
    """x (N, C, H, W) zero-padded by ``padding`` on each side of H and W."""
    return np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))


def direct(x, w, padding=1):
    """The definition, out[n, o, y, x] = Σ_{c, i, j} w[o, c, i, j] · xp[n, c, y + i, x + j]: for each kernel offset
    (i, j), the shifted input xp[:, :, i:, j:] weighed by w[:, :, i, j] and summed over c. x (N, C, H, W),
    w (O, C, k, k) → (N, O, H_out, W_out)."""
    xp = pad(x, padding)
    k = w.shape[2]
    ho, wo = xp.shape[2] - k + 1, xp.shape[3] - k + 1
    out = np.zeros((x.shape[0], w.shape[0], ho, wo), x.dtype)
    for i in range(k):
        for j in range(k):
            out += np.einsum("oc,ncyx->noyx", w[:, :, i, j], xp[:, :, i : i + ho, j : j + wo])
    return out


def im2col(x, w, padding=1):
    """out = W (O, C·k·k) @ columns (C·k·k, H_out·W_out) per sample, a column holding one window of xp in (c, i, j)
    order (``chainrule.ops.conv.im2col``, the reference op's)."""
    n, o = x.shape[0], w.shape[0]
    cols, (ho, wo) = columns(pad(x, padding), w.shape[2:], (1, 1), (1, 1), 1)  # (N, 1, C·k·k, H_out·W_out)
    return (w.reshape(o, -1) @ cols[:, 0]).reshape(n, o, ho, wo)


def tiles(x, m, padding=1):
    """The input tiles of F(m×m, 3×3), (N, C, T_h, T_w, α, α): the α×α windows of xp at (m·t_y, m·t_x), xp extended
    with zeros to whole tiles (T_h = ⌈H_out / m⌉), and (H_out, W_out)."""
    xp = pad(x, padding)
    ho, wo = xp.shape[2] - 2, xp.shape[3] - 2
    th, tw = -(-ho // m), -(-wo // m)
    xp = np.pad(xp, ((0, 0), (0, 0), (0, m * th - ho), (0, m * tw - wo)))
    return sliding_window_view(xp, (m + 2, m + 2), axis=(2, 3))[:, :, ::m, ::m], (ho, wo)


def winograd_simple(x, w, m, padding=1):
    """Winograd F(m×m, 3×3) as its formula: on every tile d and filter g, Y = Aᵀ [Σ_c (G g Gᵀ) ⊙ (Bᵀ d B)] A, the
    tiles put side by side and cut to (N, O, H_out, W_out). x (N, C, H, W), w (O, C, 3, 3)."""
    bt, g, at = (np.array(a, x.dtype) for a in MATRICES[m])
    d, (ho, wo) = tiles(x, m, padding)
    u = g @ w @ g.T  # (O, C, α, α): G g Gᵀ for every filter
    v = bt @ d @ bt.T  # (N, C, T_h, T_w, α, α): Bᵀ d B for every tile
    product = np.einsum("ocab,nctsab->notsab", u, v)  # U ⊙ V summed over the channels: α² multiplications each
    y = at @ product @ at.T  # (N, O, T_h, T_w, m, m)
    n, o, th, tw = y.shape[:4]
    return y.transpose(0, 1, 2, 4, 3, 5).reshape(n, o, th * m, tw * m)[:, :, :ho, :wo]


def fast(x, w, algorithm):
    """chainrule's kernel for ``algorithm`` ('im2col', 'winograd2', 'winograd4'): nn.functional.conv2d, padding 1."""
    with no_grad():
        return F.conv2d(tensor(x), tensor(w), padding=1, algorithm=algorithm).numpy()


def readable(algorithm):
    """The readable function of ``algorithm`` ('direct', 'im2col', 'winograd2', 'winograd4') as f(x, w)."""
    if algorithm in TILE:
        return lambda x, w: winograd_simple(x, w, TILE[algorithm])
    return {"direct": direct, "im2col": im2col}[algorithm]


def constant_multiplications(matrix):
    """Multiplications to apply a constant ``matrix`` to one vector: its entries other than 0 and ±1 (a product
    by ±1 is an addition or a subtraction)."""
    a = np.abs(np.asarray(matrix, dtype=np.float64))
    return int(np.sum((a != 0) & (a != 1)))


def multiplications(shape, algorithm):
    """The multiplications of one forward of the layer ``shape`` (N, C, O, H, W), padding 1:

    direct, im2col   N·O·H_out·W_out·C·9 (each output, a sum of C·9 products)
    winograd m       the product stage N·O·C·T·α² (T = T_h·T_w tiles a sample, α² products per tile and channel),
                     and the transforms: Bᵀ d B per (sample, channel, tile) as Bᵀ applied to α columns then B to α
                     rows, G g Gᵀ per (o, c), Aᵀ M A per (sample, o, tile); each application of a constant matrix
                     costs its entries other than 0 and ±1 (``constant_multiplications``). ``dense_transforms``: the
                     transforms as kernels/winograd.py runs them, dense Kronecker products — α⁴, 9α² and m²α².

    Returns {"product": ..., "transforms": ..., "dense_transforms": ...} (0 for the transforms of direct / im2col)."""
    n, c, o, h, w = shape
    if algorithm not in TILE:
        return {"product": n * o * h * w * c * 9, "transforms": 0, "dense_transforms": 0}
    m = TILE[algorithm]
    a = m + 2
    t = -(-h // m) * -(-w // m)
    bt, g, at = MATRICES[m]
    per_tile = 2 * a * constant_multiplications(bt)  # Bᵀ d: α columns; (Bᵀ d) B: α rows through B (Bᵀ's entries)
    per_filter = 3 * constant_multiplications(g) + a * constant_multiplications(g)  # G g, then (G g) Gᵀ
    per_output_tile = a * constant_multiplications(at) + m * constant_multiplications(at)  # Aᵀ M, then (Aᵀ M) A
    return {"product": n * o * c * t * a * a,
            "transforms": n * c * t * per_tile + o * c * per_filter + n * o * t * per_output_tile,
            "dense_transforms": n * c * t * a ** 4 + o * c * 9 * a * a + n * o * t * m * m * a * a}


def tile_ratio(m):
    """Multiplications per m×m output tile and channel, Winograd's product stage over the definition: α² / (9m²),
    α and m read off the matrices (Bᵀ is α×α, Aᵀ is m×α)."""
    bt, _, at = MATRICES[m]
    return Fraction(len(bt) ** 2, 9 * len(at) ** 2)


def arrays(shape, rng, dtype):
    """x ~ N(0, 1) (N, C, H, W) and w ~ N(0, 1/(9C)) (O, C, 3, 3), He-like, so outputs are of order 1."""
    n, c, o, h, w = shape
    x = rng.standard_normal((n, c, h, w))
    weight = rng.standard_normal((o, c, 3, 3)) / np.sqrt(9 * c)
    return x.astype(dtype), weight.astype(dtype)


def computations():
    """name → f(x, w) for every computation compared: the readable four and the three fast kernels."""
    out = {f"readable {a}": readable(a) for a in ALGORITHMS}
    out.update({f"fast {a}": (lambda x, w, a=a: fast(x, w, a)) for a in FAST})
    return out


def relative_error(value, reference):
    """max |value − reference| / max |reference|."""
    return float(np.abs(value - reference).max() / np.abs(reference).max())


def forward_seconds(fns, x, w, calls):
    """{name: median seconds of one call f(x, w)}: every f called once to warm up, then the fns take turns call by
    call, so that a change of the shared machine's load hits all alike."""
    for f in fns.values():
        f(x, w)
    times = {k: [] for k in fns}
    for _ in range(calls):
        for k, f in fns.items():
            start = time.perf_counter()
            f(x, w)
            times[k].append(time.perf_counter() - start)
    return {k: statistics.median(v) for k, v in times.items()}


def outputs(shape):
    """The output values of the layer ``shape`` (N, C, O, H, W) at padding 1: N·O·H·W."""
    n, _, o, h, w = shape
    return n * o * h * w


def shape_text(name, shape):
    n, c, o, h, w = shape
    return f"{name}: {c}→{o} channels @ {h}×{w}, batch {n}"


COLOURS = {"direct": "C0", "im2col": "C1", "winograd2": "C2", "winograd4": "C3"}
SHORT = {"direct": "direct", "im2col": "im2col", "winograd2": "F(2×2)", "winograd4": "F(4×4)"}


def _bars(ax, groups, series, values, fmt, rotation=0):
    """Grouped bars: one group per name of ``groups``, one bar per computation of ``series`` ('readable X' hatched
    and pale, 'fast X' solid, coloured by algorithm X) on a log axis; ``values[group][computation]``; ``fmt`` writes
    each value above its bar."""
    width = 0.8 / len(series)
    for k, name in enumerate(series):
        kind, algorithm = name.split()
        xs = np.arange(len(groups)) + (k - (len(series) - 1) / 2) * width
        ys = [values[g][name] for g in groups]
        ax.bar(xs, ys, width, color=COLOURS[algorithm], alpha=0.45 if kind == "readable" else 1.0,
               hatch="//" if kind == "readable" else None, edgecolor="black", linewidth=0.4,
               label=f"{SHORT[algorithm]} ({'readable NumPy' if kind == 'readable' else 'fast kernel'})")
        for x, y in zip(xs, ys):
            ax.annotate(fmt(y), (x, y), textcoords="offset points", xytext=(0, 2), ha="center", va="bottom",
                        fontsize=7, rotation=rotation)
    ax.set_xticks(np.arange(len(groups)), groups)
    ax.set_yscale("log")
    ax.grid(alpha=0.3, axis="y", which="both")


def _plot_time(shapes, counts, ms, path):
    from .plotting import figure, legend, log_ticks, save

    fig, axes = figure(1, 3, figsize=(15, 4.6), width_ratios=(1, 1.3, 1.3))
    groups = list(shapes)
    ax = axes[0]
    width = 0.8 / 3
    for k, algorithm in enumerate(("direct", "winograd2", "winograd4")):
        xs = np.arange(len(groups)) + (k - 1) * width
        per_output = [{key: v / (outputs(shapes[g]) * shapes[g][1]) for key, v in counts[g][algorithm].items()}
                      for g in groups]
        product = [c["product"] for c in per_output]
        transforms = [c["transforms"] for c in per_output]
        dense = [c["product"] + c["dense_transforms"] for c in per_output]
        ax.bar(xs, product, width, color=COLOURS[algorithm], edgecolor="black", linewidth=0.4,
               label=f"{'direct / im2col' if algorithm == 'direct' else SHORT[algorithm]}: product")
        if algorithm != "direct":
            ax.bar(xs, transforms, width, bottom=product, color=COLOURS[algorithm], alpha=0.35, hatch="..",
                   edgecolor="black", linewidth=0.4, label=f"{SHORT[algorithm]}: + transforms")
            ax.plot(xs, dense, "k_", ms=12, mew=2,
                    label="with the transforms as the\nfast kernel runs them (dense)" if k == 2 else None)
    ax.set_xticks(np.arange(len(groups)), groups)
    ax.set_ylabel("multiplications per output value and input channel")
    ax.set_title("multiplications (direct: 9 = 36/4 = 144/16)", fontsize=10)
    ax.grid(alpha=0.3, axis="y")
    legend(ax, "below", ncol=2, fontsize=7)
    fast_series = [f"fast {a}" for a in FAST]
    readable_series = [f"readable {a}" for a in ALGORITHMS]
    for ax, series, title in ((axes[1], fast_series, "fast kernels: nn.functional.conv2d(algorithm=...)"),
                              (axes[2], readable_series, "the readable NumPy versions")):
        _bars(ax, groups, series, ms, fmt=lambda v: f"{v:#.3g}")
        ax.set_ylabel("ms per float32 forward (median)")
        ax.set_title(title, fontsize=10)
        ax.margins(y=0.15)
        log_ticks(ax)
        legend(ax, "below", ncol=2, fontsize=7)
    fig.suptitle("one 3×3 convolution layer, three algorithms: multiplications and time", fontsize=11)
    save(fig, path)


def _plot_error(shapes, errors, path):
    from .plotting import figure, legend, save

    fig, ax = figure(figsize=(9, 4.6))
    series = [f"readable {a}" for a in ALGORITHMS] + [f"fast {a}" for a in FAST]
    _bars(ax, list(shapes), series, errors, fmt=lambda v: f"{v:.1e}", rotation=90)
    ax.set_ylabel("max |float32 − float64 definition| / max |out|")
    ax.set_title("float32 error of each algorithm (against the definition in float64)", fontsize=10)
    ax.margins(y=0.3)
    legend(ax, "right", fontsize=8)
    save(fig, path)


def run(quick=False, seed=0, out="."):
    shapes = QUICK_SHAPES if quick else SHAPES
    rng = np.random.default_rng(seed)
    fns = computations()
    agree, errors, ms, counts = {}, {}, {}, {}
    for name, shape in [*shapes.items(), RAGGED]:
        x, w = arrays(shape, rng, np.float64)
        reference = direct(x, w)
        agree[name] = {k: relative_error(f(x, w), reference) for k, f in fns.items() if k != "readable direct"}
        if name == RAGGED[0]:
            continue
        x32, w32 = x.astype(np.float32), w.astype(np.float32)
        errors[name] = {k: relative_error(f(x32, w32), reference) for k, f in fns.items()}
        ms[name] = {k: 1e3 * s for k, s in forward_seconds(fns, x32, w32, CALLS[quick]).items()}
        counts[name] = {a: multiplications(shape, a) for a in ALGORITHMS}

    worst = max(max(v.values()) for v in agree.values())
    whole_tiles = [g for g, s in shapes.items() if s[3] % 4 == 0 and s[4] % 4 == 0]  # of 2×2 and of 4×4
    counted = {g: {a: Fraction(counts[g][a]["product"], counts[g]["direct"]["product"]) for a in TILE}
               for g in whole_tiles}
    ratios_ok = (tile_ratio(2) == Fraction(16, 36) and tile_ratio(4) == Fraction(36, 144)
                 and all(counted[g][a] == tile_ratio(TILE[a]) for g in counted for a in TILE))
    baseline = {g: max(e["readable direct"], e["fast im2col"]) for g, e in errors.items()}
    f2_over_base = {g: e["fast winograd2"] / baseline[g] for g, e in errors.items()}
    f4_over_f2 = {g: e["fast winograd4"] / e["fast winograd2"] for g, e in errors.items()}
    speedup = {g: t["fast im2col"] / t["fast winograd4"] for g, t in ms.items()}
    wide = list(shapes)[-1]
    parts = {
        "float64 results agree": worst <= TOL,
        "multiplications 16/36 and 36/144 per tile": ratios_ok,
        "F(2×2) rounds more in float32 than direct and im2col": all(r >= ROUNDS_MORE for r in f2_over_base.values()),
        "F(4×4) rounds more in float32 than F(2×2)": all(r >= ROUNDS_MORE for r in f4_over_f2.values()),
        f"F(4×4) faster than im2col on the {wide} layer": speedup[wide] > 1,
    }
    held = all(parts.values())
    in_part = not held and any(parts.values())

    _plot_time(shapes, counts, ms, os.path.join(out, "conv_algorithms_time.png"))
    _plot_error(shapes, errors, os.path.join(out, "conv_algorithms_error.png"))

    def share(g, a, key="transforms"):
        return (counts[g][a]["product"] + counts[g][a][key]) / counts[g]["direct"]["product"]

    failed = [k for k, v in parts.items() if not v]
    wins = [g for g in shapes if speedup[g] > 1]
    verdict = (
        f"In float64 the readable im2col and Winograd F(2×2) and F(4×4) and the three fast kernels all equal the "
        f"definition to {worst:.0e} of the output's largest entry. Winograd's product stage multiplies 16 times per "
        f"2×2 output tile and channel where the definition multiplies 36, and 36 per 4×4 tile where it multiplies "
        f"144; with its transforms counted, F(4×4) needs {share(wide, 'winograd4'):.2f}× the definition's "
        f"multiplications on the {wide} layer ({share(wide, 'winograd4', 'dense_transforms'):.2f}× with the "
        f"transforms as the fast kernel runs them, dense). float32 error, max |error| / max |out|, on the {wide} "
        f"layer: direct {errors[wide]['readable direct']:.1e}, im2col {errors[wide]['fast im2col']:.1e}, F(2×2) "
        f"{errors[wide]['fast winograd2']:.1e}, F(4×4) {errors[wide]['fast winograd4']:.1e}; over the layers F(4×4) "
        f"is {min(f4_over_f2.values()):.0f}–{max(f4_over_f2.values()):.0f}× F(2×2), F(2×2) "
        f"{min(f2_over_base.values()):.1f}–{max(f2_over_base.values()):.1f}× the larger of direct and im2col"
        + (" (its matrices hold only 0, ±1 and ±½)" if not parts["F(2×2) rounds more in float32 than direct and im2col"]
           else "")
        + ". A float32 forward by the fast kernels, im2col / F(2×2) / F(4×4): "
        + "; ".join(f"{g} {ms[g]['fast im2col']:#.3g} / {ms[g]['fast winograd2']:#.3g} / {ms[g]['fast winograd4']:#.3g} ms"
                    for g in shapes)
        + " — F(4×4) beat im2col on "
        + ("every layer" if len(wins) == len(shapes) else f"the {' and '.join(wins)} layer{'s' * (len(wins) > 1)} only"
           if wins else "none of the layers")
        + " (im2col's time over F(4×4)'s: " + ", ".join(f"{g} {speedup[g]:.2f}" for g in shapes) + ")"
        + (". Did not hold: " + "; ".join(failed) if failed else "") + ".")

    mults = [{"layer": g, "algorithm": LABELS[a], "product": c["product"], "transforms": c["transforms"],
              "total": c["product"] + c["transforms"], "per output": (c["product"] + c["transforms"]) / outputs(s),
              "vs direct": (c["product"] + c["transforms"]) / counts[g]["direct"]["product"],
              "transforms as the fast kernel runs them": c["dense_transforms"]}
             for g, s in shapes.items() for a, c in counts[g].items()]
    columns = [k for k in fns if k != "readable direct"]
    return Result(
        name=NAME, note=NOTE, claim=CLAIM,
        setup=("3×3 convolutions, stride 1, padding 1, no bias, layers (N, C → O, H×W): "
               + "; ".join(shape_text(g, s) for g, s in shapes.items())
               + f"; and, for equality only, {shape_text(*RAGGED)} (its tiles overhang the output). x ~ N(0, 1), "
               f"w ~ N(0, 1/(9C)) (seed {seed}). Computed by this module's readable NumPy — direct (the definition, "
               "one einsum per kernel offset), im2col (chainrule.ops.conv.im2col columns and one matmul), "
               "winograd_simple (Y = Aᵀ[Σ_c (G g Gᵀ) ⊙ (Bᵀ d B)]A on every tile, Lavin & Gray's matrices from "
               "chainrule.kernels.winograd) — and by the fast kernels, nn.functional.conv2d(algorithm='im2col' / "
               "'winograd2' / 'winograd4'). Equality: float64, against the definition. float32 error: each "
               "computation in float32 against the definition in float64, max |error| / max |out|; 'rounds more' "
               f"means at least {ROUNDS_MORE}× (fast kernels; the baseline is the larger of direct's and im2col's). "
               f"Time: median of {CALLS[quick]} forward calls each, after one warm-up, the computations taking "
               f"turns, {get_num_threads()} BLAS thread(s). Multiplications: counted from the shapes (see the table; "
               "a transform costs its matrix's entries other than 0 and ±1)"),
        numbers={"float64_difference": agree, "float32_error": errors, "forward_ms": ms, "multiplications": mults,
                 "tile_ratio": {"F(2×2, 3×3)": str(tile_ratio(2)), "F(4×4, 3×3)": str(tile_ratio(4))},
                 "f4_error_over_f2": f4_over_f2, "f2_error_over_direct_im2col": f2_over_base,
                 "f4_speedup_over_im2col": speedup, "parts": parts},
        held=bool(held), in_part=bool(in_part), verdict=verdict,
        figures=["conv_algorithms_time.png", "conv_algorithms_error.png"],
        tables=[
            {"title": "float64: max |computation − definition| / max |definition|",
             "columns": ["layer", *columns], "rows": [[g, *(agree[g][k] for k in columns)] for g in agree]},
            {"title": "multiplications of one forward (product stage + transforms; per m×m tile and channel the "
                      f"product stage is {tile_ratio(2)} = 16/36 of the definition's for F(2×2), "
                      f"{tile_ratio(4)} = 36/144 for F(4×4))",
             "columns": ["layer", "algorithm", "product stage", "transforms", "total", "per output", "× direct",
                         "transforms, dense (fast kernel)"],
             "rows": [list(r.values()) for r in mults]},
            {"title": "float32 error: max |float32 − float64 definition| / max |out|",
             "columns": ["layer", *fns], "rows": [[g, *errors[g].values()] for g in errors]},
            {"title": f"ms per float32 forward (median of {CALLS[quick]})",
             "columns": ["layer", *fns], "rows": [[g, *ms[g].values()] for g in ms]},
            {"title": "the claim, part by part", "columns": ["part", "held"],
             "rows": [[k, v] for k, v in parts.items()]},
        ],
    )
