"""The lab's conv-algorithms experiment (issue #23: Winograd convolution), run once in its quick version (seed 0) into a
temporary folder and written into a report. Asserted: the readable direct / im2col / Winograd convolutions against
torch in float64, the multiplication counts by hand and their exact ratios, and the verdict's parts that do not depend
on timing (equality, counts, float32 errors are deterministic; wall times are only reported)."""
from fractions import Fraction

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

from chainrule.kernels.winograd import MATRICES
from chainrule.lab import conv_algorithms as ca
from tests.lab import assert_well_formed, run_quick

TIMED_PART = "F(4×4) faster than im2col on the wide layer"


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    return run_quick((ca,), tmp_path_factory)


def test_well_formed(results):
    result, folder = results[ca.NAME]
    assert_well_formed(ca, result, folder)
    assert result.setup and result.tables and len(result.figures) == 2


def test_conv_algorithms(results):
    result, _ = results[ca.NAME]
    numbers, parts = result.numbers, result.numbers["parts"]
    assert set(numbers["float64_difference"]) == {*ca.QUICK_SHAPES, ca.RAGGED[0]}
    assert max(max(v.values()) for v in numbers["float64_difference"].values()) < ca.TOL
    assert parts["float64 results agree"] and parts["multiplications 16/36 and 36/144 per tile"]
    assert numbers["tile_ratio"] == {"F(2×2, 3×3)": "4/9", "F(4×4, 3×3)": "1/4"}
    # float32: F(4×4) rounds ~15× more than F(2×2); F(2×2) about as much as direct and im2col (0.6–1.1× here)
    assert all(r > 5 for r in numbers["f4_error_over_f2"].values()) and parts["F(4×4) rounds more in float32 than F(2×2)"]
    assert all(r < 2 for r in numbers["f2_error_over_direct_im2col"].values())
    assert not parts["F(2×2) rounds more in float32 than direct and im2col"]
    assert result.outcome == "held in part" and TIMED_PART in parts
    # the tables say what the numbers say
    rows = {(r[0], r[1]): r for r in result.tables[1]["rows"]}
    for m in numbers["multiplications"]:
        assert list(rows[m["layer"], m["algorithm"]]) == list(m.values())
    assert [r[1:] for r in result.tables[2]["rows"]] == [list(v.values()) for v in numbers["float32_error"].values()]


@pytest.mark.parametrize("shape, padding", [((2, 3, 4, 8, 8), 1), ((1, 5, 2, 7, 9), 1), ((2, 2, 3, 6, 5), 0),
                                            ((1, 4, 3, 5, 6), 2), ((3, 1, 1, 3, 3), 0), ((1, 2, 2, 1, 1), 1)])
def test_readable_algorithms_equal_torch(shape, padding):
    """direct, im2col and winograd_simple (F(2×2) and F(4×4)) against torch.nn.functional.conv2d in float64, on whole
    and overhanging tiles, paddings 0–2."""
    x, w = ca.arrays(shape, np.random.default_rng(sum(shape)), np.float64)
    want = TF.conv2d(torch.tensor(x), torch.tensor(w), padding=padding).numpy()
    for got in (ca.direct(x, w, padding), ca.im2col(x, w, padding), ca.winograd_simple(x, w, 2, padding),
                ca.winograd_simple(x, w, 4, padding)):
        assert got.shape == want.shape
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-10 * np.abs(want).max())


def test_the_fast_kernels_are_the_ones_compared():
    x, w = ca.arrays((2, 3, 4, 8, 8), np.random.default_rng(0), np.float64)
    want = TF.conv2d(torch.tensor(x), torch.tensor(w), padding=1).numpy()
    for algorithm in ca.FAST:
        np.testing.assert_allclose(ca.fast(x, w, algorithm), want, rtol=1e-10, atol=1e-12)


def test_multiplication_counts_by_hand():
    # the transforms' multiplications: entries other than 0 and ±1 — F(2×2)'s Bᵀ and Aᵀ have none, G six halves
    assert [ca.constant_multiplications(a) for a in MATRICES[2]] == [0, 6, 0]
    assert [ca.constant_multiplications(a) for a in MATRICES[4]] == [12, 13, 6]
    assert ca.tile_ratio(2) == Fraction(16, 36) and ca.tile_ratio(4) == Fraction(36, 144)
    n, c, o, h, w = shape = (2, 3, 5, 8, 8)
    direct = n * o * h * w * c * 9
    assert ca.multiplications(shape, "direct") == ca.multiplications(shape, "im2col") == {
        "product": direct, "transforms": 0, "dense_transforms": 0}
    # F(2×2): 16 tiles a sample; G g (3 columns × 6) + (G g) Gᵀ (4 rows × 6) = 42 per filter
    f2 = ca.multiplications(shape, "winograd2")
    assert f2["product"] == n * o * c * 16 * 16 and Fraction(f2["product"], direct) == Fraction(16, 36)
    assert f2["transforms"] == o * c * 42
    assert f2["dense_transforms"] == n * c * 16 * 4 ** 4 + o * c * 9 * 16 + n * o * 16 * 4 * 16
    # F(4×4): 4 tiles a sample; Bᵀ d B 2·6·12 = 144 per input tile, G g Gᵀ 3·13 + 6·13 = 117 per filter,
    # Aᵀ M A 6·6 + 4·6 = 60 per output tile
    f4 = ca.multiplications(shape, "winograd4")
    assert f4["product"] == n * o * c * 4 * 36 and Fraction(f4["product"], direct) == Fraction(36, 144)
    assert f4["transforms"] == n * c * 4 * 144 + o * c * 117 + n * o * 4 * 60
    # an overhanging output (7×9 at padding 1): ⌈7/4⌉·⌈9/4⌉ = 6 tiles, computed whole
    assert ca.multiplications((1, 1, 1, 7, 9), "winograd4")["product"] == 6 * 36


def test_tiles_cover_the_output():
    x = np.arange(2 * 3 * 7 * 9, dtype=np.float64).reshape(2, 3, 7, 9)
    d, (ho, wo) = ca.tiles(x, 4)
    assert d.shape == (2, 3, 2, 3, 6, 6) and (ho, wo) == (7, 9)
    xp = np.pad(x, ((0, 0), (0, 0), (1, 2), (1, 4)))  # padded by 1, then zeros to whole tiles: 4·2 + 2 by 4·3 + 2
    for ty, tx in np.ndindex(2, 3):
        np.testing.assert_array_equal(d[:, :, ty, tx], xp[:, :, 4 * ty : 4 * ty + 6, 4 * tx : 4 * tx + 6])
