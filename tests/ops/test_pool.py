"""chainrule.ops.pool against torch, on the fast kernels and on the reference ops (both_paths): max / average
pooling 1-D and 2-D (stride, padding, dilation, ceil_mode, count_include_pad, divisor_override, return_indices),
overlapping pooling, adaptive average and max pooling, global average pooling — forward and input gradient in
float64; ties and NaNs; note 000's two backward rules on hand-written inputs; finite differences; error messages.
Fast == reference over the same grids: tests/kernels/test_pool.py."""
import numpy as np
import pytest
import torch
import torch.nn.functional as TF
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import chainrule as cr
import chainrule.nn.functional as F
from tests.parity import assert_parity

pytestmark = pytest.mark.usefixtures("both_paths")
SETTINGS = settings(max_examples=40, deadline=None)


def normal(shape, seed, dtype=np.float64):
    return np.asarray(np.random.default_rng(seed).standard_normal(shape), dtype=dtype)


def assert_indices_equal(ours, theirs):
    assert ours.dtype == np.int64
    assert ours.shape == tuple(theirs.shape)
    np.testing.assert_array_equal(ours.data, theirs.numpy())


def every_window_sees_input(size, kernel, stride, padding, dilation, ceil_mode):
    """False when some dilated window holds padding only: torch then returns −inf with an index outside the
    input, and its backward writes out of bounds (an abort was seen), so such draws are left out."""
    out = TF.max_pool1d(torch.zeros(1, 1, size), kernel, stride, padding, dilation, ceil_mode)
    return bool(torch.isfinite(out).all())


@st.composite
def pool2d_cases(draw, dilation=True):
    kh, kw = draw(st.integers(1, 5)), draw(st.integers(1, 5))
    stride = draw(st.one_of(st.none(), st.tuples(st.integers(1, 3), st.integers(1, 3))))
    ph, pw = draw(st.integers(0, kh // 2)), draw(st.integers(0, kw // 2))
    dh, dw = (draw(st.integers(1, 2)), draw(st.integers(1, 2))) if dilation else (1, 1)
    ceil_mode = draw(st.booleans())
    # the smallest input with a window: with ceil_mode one window may overhang the padded input by up to s − 1
    sh, sw = stride or (kh, kw)
    h_min = max(1, dh * (kh - 1) + 1 - 2 * ph - ceil_mode * (sh - 1))
    w_min = max(1, dw * (kw - 1) + 1 - 2 * pw - ceil_mode * (sw - 1))
    shape = (draw(st.integers(1, 3)), draw(st.integers(1, 4)), draw(st.integers(h_min, h_min + 7)),
             draw(st.integers(w_min, w_min + 7)))
    assume(every_window_sees_input(shape[2], kh, sh, ph, dh, ceil_mode))
    assume(every_window_sees_input(shape[3], kw, sw, pw, dw, ceil_mode))
    return {"shape": shape, "kernel": (kh, kw), "stride": stride, "padding": (ph, pw), "dilation": (dh, dw),
            "ceil_mode": ceil_mode, "seed": draw(st.integers(0, 2**16))}


@st.composite
def pool1d_cases(draw, dilation=True):
    k = draw(st.integers(1, 6))
    p, d = draw(st.integers(0, k // 2)), draw(st.integers(1, 3)) if dilation else 1
    stride, ceil_mode = draw(st.one_of(st.none(), st.integers(1, 4))), draw(st.booleans())
    l_min = max(1, d * (k - 1) + 1 - 2 * p - ceil_mode * ((stride or k) - 1))
    length = draw(st.integers(l_min, l_min + 9))
    assume(every_window_sees_input(length, k, stride or k, p, d, ceil_mode))
    return {"shape": (draw(st.integers(1, 3)), draw(st.integers(1, 4)), length), "kernel": k, "stride": stride,
            "padding": p, "dilation": d, "ceil_mode": ceil_mode, "seed": draw(st.integers(0, 2**16))}


# ----- max pooling ------------------------------------------------------------------------------------

@SETTINGS
@given(case=pool2d_cases())
def test_max_pool2d_parity_and_indices(case):
    args = (case["kernel"], case["stride"], case["padding"], case["dilation"], case["ceil_mode"])
    x = normal(case["shape"], case["seed"])
    assert_parity(lambda x: F.max_pool2d(x, *args), lambda x: TF.max_pool2d(x, *args), x)
    out, idx = F.max_pool2d(cr.tensor(x), *args, return_indices=True)
    ref, ref_idx = TF.max_pool2d(torch.tensor(x), *args, return_indices=True)
    np.testing.assert_array_equal(out.data, ref.numpy())
    assert_indices_equal(idx, ref_idx)


@SETTINGS
@given(case=pool1d_cases())
def test_max_pool1d_parity_and_indices(case):
    args = (case["kernel"], case["stride"], case["padding"], case["dilation"], case["ceil_mode"])
    x = normal(case["shape"], case["seed"])
    assert_parity(lambda x: F.max_pool1d(x, *args), lambda x: TF.max_pool1d(x, *args), x)
    _, idx = F.max_pool1d(cr.tensor(x), *args, return_indices=True)
    _, ref_idx = TF.max_pool1d(torch.tensor(x), *args, return_indices=True)
    assert_indices_equal(idx, ref_idx)


def test_max_pool2d_return_indices_with_gradients_and_without_a_graph():
    x = normal((2, 3, 7, 6), 0)
    _, ref_idx = TF.max_pool2d(torch.tensor(x), 3, 2, 1, return_indices=True)
    xt = cr.tensor(x, requires_grad=True)
    out, idx = F.max_pool2d(xt, 3, 2, 1, return_indices=True)
    assert_indices_equal(idx, ref_idx)
    assert out.requires_grad and not idx.requires_grad
    out.sum().backward()
    assert xt.grad.shape == x.shape
    with cr.no_grad():
        _, idx = F.max_pool2d(xt, 3, 2, 1, return_indices=True)
    assert_indices_equal(idx, ref_idx)


@pytest.mark.parametrize("shape", [(3, 7, 6), (2, 9)])
def test_max_pool_unbatched(shape):
    x = normal(shape, 0)
    fn, tfn = (F.max_pool2d, TF.max_pool2d) if len(shape) == 3 else (F.max_pool1d, TF.max_pool1d)
    out = assert_parity(lambda x: fn(x, 3, 2, 1), lambda x: tfn(x, 3, 2, 1), x)
    assert out.ndim == len(shape)
    _, idx = fn(cr.tensor(x), 3, 2, 1, return_indices=True)
    _, ref_idx = tfn(torch.tensor(x), 3, 2, 1, return_indices=True)
    assert_indices_equal(idx, ref_idx)


@pytest.mark.parametrize("size, out_size", [(55, 27), (27, 13), (13, 6), (12, 5)])
def test_overlapping_max_pool_alexnet(size, out_size):
    """[note 000] AlexNet's overlapping pooling, kernel 3 stride 2: 55 → 27 → 13 → 6."""
    x = normal((1, 2, size, size), 0)
    out = assert_parity(lambda x: F.max_pool2d(x, 3, 2), lambda x: TF.max_pool2d(x, 3, 2), x)
    assert out.shape == (1, 2, out_size, out_size)
    assert_parity(lambda x: F.avg_pool2d(x, 3, 2), lambda x: TF.avg_pool2d(x, 3, 2), x)


@pytest.mark.parametrize("kernel, stride, padding, dilation", [
    ((1, 3), (1, 2), (0, 1), 1), ((3, 1), (2, 1), (1, 0), 1), ((2, 4), (3, 1), (1, 2), (2, 1)),
    ((5, 2), (1, 3), (2, 0), (1, 2)), ((4, 3), None, (2, 1), 1),
])
@pytest.mark.parametrize("ceil_mode", [False, True])
def test_pool2d_non_square(kernel, stride, padding, dilation, ceil_mode):
    x = normal((2, 3, 11, 10), 0)
    assert_parity(lambda x: F.max_pool2d(x, kernel, stride, padding, dilation, ceil_mode),
                  lambda x: TF.max_pool2d(x, kernel, stride, padding, dilation, ceil_mode), x)
    assert_parity(lambda x: F.avg_pool2d(x, kernel, stride, padding, ceil_mode),
                  lambda x: TF.avg_pool2d(x, kernel, stride, padding, ceil_mode), x)


def test_max_pool2d_nan_and_inf_like_torch():
    x = normal((1, 1, 4, 6), 0)
    x[0, 0, 0, 1], x[0, 0, 3, 3], x[0, 0, 2, 5] = np.nan, np.inf, -np.inf
    out, idx = F.max_pool2d(cr.tensor(x), 2, return_indices=True)
    ref, ref_idx = TF.max_pool2d(torch.tensor(x), 2, return_indices=True)
    np.testing.assert_array_equal(out.data, ref.numpy())
    assert_indices_equal(idx, ref_idx)


@pytest.mark.parametrize("name, args", [("max_pool2d", ((2, 3), 1)), ("adaptive_max_pool2d", ((2, 2),))])
def test_max_pools_take_the_last_nan_of_a_window_like_torch(name, args):
    """Several NaNs in one window: torch's scan (``val > max || isnan(val)``) keeps the last one, row-major."""
    x = normal((1, 2, 4, 5), 0)
    x[0, 0, 0, 1] = x[0, 0, 1, 0] = x[0, 0, 1, 2] = x[0, 1, 2, 4] = x[0, 1, 3, 3] = np.nan
    xt, xr = cr.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    out, idx = getattr(F, name)(xt, *args, return_indices=True)
    ref, ref_idx = getattr(TF, name)(xr, *args, return_indices=True)
    np.testing.assert_array_equal(out.data, ref.detach().numpy())
    assert_indices_equal(idx, ref_idx)
    out.sum().backward()
    ref.sum().backward()
    np.testing.assert_array_equal(xt.grad.data, xr.grad.numpy())


# ----- average pooling --------------------------------------------------------------------------------

@SETTINGS
@given(case=pool2d_cases(dilation=False), count_include_pad=st.booleans(),
       divisor_override=st.one_of(st.none(), st.integers(1, 5)))
def test_avg_pool2d_parity(case, count_include_pad, divisor_override):
    args = (case["kernel"], case["stride"], case["padding"], case["ceil_mode"], count_include_pad, divisor_override)
    x = normal(case["shape"], case["seed"])
    assert_parity(lambda x: F.avg_pool2d(x, *args), lambda x: TF.avg_pool2d(x, *args), x)


@SETTINGS
@given(case=pool1d_cases(dilation=False), count_include_pad=st.booleans())
def test_avg_pool1d_parity(case, count_include_pad):
    args = (case["kernel"], case["stride"], case["padding"], case["ceil_mode"], count_include_pad)
    x = normal(case["shape"], case["seed"])
    assert_parity(lambda x: F.avg_pool1d(x, *args), lambda x: TF.avg_pool1d(x, *args), x)


@pytest.mark.parametrize("count_include_pad", [False, True])
@pytest.mark.parametrize("size, kernel, stride, padding", [(5, 2, 2, 1), (6, 3, 2, 1), (7, 4, 3, 2), (4, 3, 3, 0)])
def test_avg_pool_ceil_mode_divisors(size, kernel, stride, padding, count_include_pad):
    """ceil_mode adds a window that overhangs the input: its divisor counts the padded input only (or the
    input only, without count_include_pad), PyTorch's rule."""
    x = normal((2, 2, size, size + 1), 0)
    args = (kernel, stride, padding, True, count_include_pad)
    assert_parity(lambda x: F.avg_pool2d(x, *args), lambda x: TF.avg_pool2d(x, *args), x)
    assert_parity(lambda x: F.avg_pool1d(x, *args), lambda x: TF.avg_pool1d(x, *args), x[0])


@pytest.mark.parametrize("divisor_override", [1, 3, 7])
def test_avg_pool2d_divisor_override(divisor_override):
    x = normal((2, 3, 6, 7), 0)
    out = assert_parity(lambda x: F.avg_pool2d(x, 3, 2, 1, divisor_override=divisor_override),
                        lambda x: TF.avg_pool2d(x, 3, 2, 1, divisor_override=divisor_override), x)
    if divisor_override == 1:  # a plain window sum
        np.testing.assert_allclose(out.data[0, 0, 1, 1], x[0, 0, 1:4, 1:4].sum(), rtol=1e-12)


@pytest.mark.parametrize("shape", [(3, 7, 6), (2, 9)])
def test_avg_pool_unbatched(shape):
    fn, tfn = (F.avg_pool2d, TF.avg_pool2d) if len(shape) == 3 else (F.avg_pool1d, TF.avg_pool1d)
    out = assert_parity(lambda x: fn(x, 3, 2, 1, False, False), lambda x: tfn(x, 3, 2, 1, False, False),
                        normal(shape, 0))
    assert out.ndim == len(shape)


@pytest.mark.parametrize("name", ["max_pool2d", "avg_pool2d", "max_pool1d", "avg_pool1d"])
def test_pool_float32_stays_float32(name):
    shape = (2, 3, 7, 8) if name.endswith("2d") else (2, 3, 9)
    fn, tfn = getattr(F, name), getattr(TF, name)
    out = assert_parity(lambda x: fn(x, 3, 2, 1), lambda x: tfn(x, 3, 2, 1), normal(shape, 0, np.float32))
    assert out.dtype == np.float32


# ----- adaptive and global pooling --------------------------------------------------------------------

ADAPTIVE = [
    ((8, 8), (4, 4)), ((8, 6), (2, 3)), ((8, 8), 1),  # divisible
    ((7, 7), (3, 3)), ((5, 9), (3, 4)), ((10, 6), (4, 5)), ((7, 11), 6),  # windows of unequal size, overlapping
    ((3, 4), (5, 7)), ((6, 5), (None, 3)), ((6, 5), (4, None)), ((1, 1), (2, 2)),  # bigger than the input; None
]


@pytest.mark.parametrize("size, output_size", ADAPTIVE)
def test_adaptive_avg_pool2d(size, output_size):
    x = normal((2, 3) + size, 0)
    assert_parity(lambda x: F.adaptive_avg_pool2d(x, output_size), lambda x: TF.adaptive_avg_pool2d(x, output_size), x)


@pytest.mark.parametrize("size, output_size", ADAPTIVE)
def test_adaptive_max_pool2d_and_indices(size, output_size):
    x = normal((2, 3) + size, 0)
    assert_parity(lambda x: F.adaptive_max_pool2d(x, output_size), lambda x: TF.adaptive_max_pool2d(x, output_size), x)
    out, idx = F.adaptive_max_pool2d(cr.tensor(x, requires_grad=True), output_size, return_indices=True)
    ref, ref_idx = TF.adaptive_max_pool2d(torch.tensor(x), output_size, return_indices=True)
    np.testing.assert_array_equal(out.data, ref.numpy())
    assert_indices_equal(idx, ref_idx)
    _, idx = F.adaptive_max_pool2d(cr.tensor(x), output_size, return_indices=True)  # no graph recorded
    assert_indices_equal(idx, ref_idx)


@SETTINGS
@given(h=st.integers(1, 12), w=st.integers(1, 12), oh=st.integers(1, 8), ow=st.integers(1, 8),
       seed=st.integers(0, 2**16))
def test_adaptive_pool2d_drawn_sizes(h, w, oh, ow, seed):
    x = normal((2, 2, h, w), seed)
    assert_parity(lambda x: F.adaptive_avg_pool2d(x, (oh, ow)), lambda x: TF.adaptive_avg_pool2d(x, (oh, ow)), x)
    assert_parity(lambda x: F.adaptive_max_pool2d(x, (oh, ow)), lambda x: TF.adaptive_max_pool2d(x, (oh, ow)), x)
    _, idx = F.adaptive_max_pool2d(cr.tensor(x), (oh, ow), return_indices=True)
    assert_indices_equal(idx, TF.adaptive_max_pool2d(torch.tensor(x), (oh, ow), return_indices=True)[1])


def test_adaptive_pool2d_unbatched_and_float32():
    x = normal((3, 7, 5), 0, np.float32)
    out = assert_parity(lambda x: F.adaptive_avg_pool2d(x, (3, 2)), lambda x: TF.adaptive_avg_pool2d(x, (3, 2)), x)
    assert out.shape == (3, 3, 2) and out.dtype == np.float32
    out = assert_parity(lambda x: F.adaptive_max_pool2d(x, (3, 2)), lambda x: TF.adaptive_max_pool2d(x, (3, 2)), x)
    assert out.shape == (3, 3, 2) and out.dtype == np.float32
    _, idx = F.adaptive_max_pool2d(cr.tensor(x), (3, 2), return_indices=True)
    assert_indices_equal(idx, TF.adaptive_max_pool2d(torch.tensor(x), (3, 2), return_indices=True)[1])


@pytest.mark.parametrize("shape", [(2, 3, 5, 7), (4, 6, 6), (1, 1, 1, 1)])
def test_global_avg_pool2d(shape):
    """[note 001] Global average pooling: the mean of each channel, kept (N, C, 1, 1), = adaptive to (1, 1)."""
    x = normal(shape, 0)
    out = assert_parity(F.global_avg_pool2d, lambda x: TF.adaptive_avg_pool2d(x, (1, 1)), x)
    np.testing.assert_allclose(out.data, x.mean(axis=(-2, -1), keepdims=True), rtol=1e-12)
    np.testing.assert_allclose(F.adaptive_avg_pool2d(cr.tensor(x), (1, 1)).data, out.data, rtol=1e-12)


# ----- ties -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("kernel, stride, padding",
                         [(2, 2, 0), (3, 2, 0), (3, 1, 1), ((2, 3), (1, 2), (1, 1)), (3, 3, 1)])
def test_max_pool2d_ties_go_to_the_first_position(kernel, stride, padding):
    """All-equal input: every window's max is its first element inside the input (row-major), as torch."""
    x = np.full((1, 2, 5, 6), 0.5)
    assert_parity(lambda x: F.max_pool2d(x, kernel, stride, padding),
                  lambda x: TF.max_pool2d(x, kernel, stride, padding), x)
    _, idx = F.max_pool2d(cr.tensor(x), kernel, stride, padding, return_indices=True)
    assert_indices_equal(idx, TF.max_pool2d(torch.tensor(x), kernel, stride, padding, return_indices=True)[1])


def test_max_pool_ties_written_out():
    x = cr.tensor(np.ones((1, 1, 4, 4)), requires_grad=True)
    out, idx = F.max_pool2d(x, 2, return_indices=True)
    np.testing.assert_array_equal(idx.data[0, 0], [[0, 2], [8, 10]])  # the top-left of each window
    out.backward(np.array([[[[1.0, 2.0], [3.0, 4.0]]]]))
    np.testing.assert_array_equal(x.grad.data[0, 0], [[1, 0, 2, 0], [0, 0, 0, 0], [3, 0, 4, 0], [0, 0, 0, 0]])
    x1 = cr.tensor(np.zeros((1, 5)), requires_grad=True)
    F.max_pool1d(x1, 3, 1).sum().backward()  # windows [0..2], [1..3], [2..4]: firsts 0, 1, 2
    np.testing.assert_array_equal(x1.grad.data, [[1, 1, 1, 0, 0]])


@pytest.mark.parametrize("output_size", [(2, 2), (3, 4), 1])
def test_adaptive_max_pool2d_ties_go_to_the_first_position(output_size):
    x = np.full((1, 2, 5, 7), -1.0)
    assert_parity(lambda x: F.adaptive_max_pool2d(x, output_size), lambda x: TF.adaptive_max_pool2d(x, output_size), x)
    _, idx = F.adaptive_max_pool2d(cr.tensor(x), output_size, return_indices=True)
    assert_indices_equal(idx, TF.adaptive_max_pool2d(torch.tensor(x), output_size, return_indices=True)[1])


def test_max_pool1d_ties():
    x = np.full((2, 3, 8), 2.0)
    assert_parity(lambda x: F.max_pool1d(x, 3, 2, 1), lambda x: TF.max_pool1d(x, 3, 2, 1), x)
    _, idx = F.max_pool1d(cr.tensor(x), 3, 2, 1, return_indices=True)
    assert_indices_equal(idx, TF.max_pool1d(torch.tensor(x), 3, 2, 1, return_indices=True)[1])


# ----- note 000's backward rules, by hand -------------------------------------------------------------

def grad_of(fn, x, upstream):
    xt = cr.tensor(np.asarray(x, dtype=np.float64), requires_grad=True)
    fn(xt).backward(np.asarray(upstream, dtype=np.float64))
    return xt.grad.data


def test_note000_avg_pool_backward_spreads_equally():
    """Average pooling hands each output gradient out in equal parts (÷ window size) to its window."""
    x = np.arange(16.0).reshape(1, 1, 4, 4)
    g = [[[[1.0, 2.0], [3.0, 4.0]]]]
    expected = [[0.25, 0.25, 0.5, 0.5],
                [0.25, 0.25, 0.5, 0.5],
                [0.75, 0.75, 1.0, 1.0],
                [0.75, 0.75, 1.0, 1.0]]
    np.testing.assert_allclose(grad_of(lambda t: F.avg_pool2d(t, 2), x, g)[0, 0], expected, rtol=1e-15)
    # overlapping windows (kernel 3, stride 1): a position collects a third from each window holding it
    np.testing.assert_allclose(grad_of(lambda t: F.avg_pool1d(t, 3, 1), [[1.0, 3, 2, 0, 4]], [[1.0, 2, 3]]),
                               [[1 / 3, 1, 2, 5 / 3, 1]], rtol=1e-15)
    # padding 1: windows [-1, 1], [0, 2], [1, 3] — the divisor is 3 with the padded zeros counted, else 2, 3, 2
    np.testing.assert_allclose(grad_of(lambda t: F.avg_pool1d(t, 3, 1, 1), [[5.0, 6, 7]], [[1.0, 1, 1]]),
                               [[2 / 3, 1, 2 / 3]], rtol=1e-15)
    np.testing.assert_allclose(
        grad_of(lambda t: F.avg_pool1d(t, 3, 1, 1, count_include_pad=False), [[5.0, 6, 7]], [[1.0, 1, 1]]),
        [[1 / 2 + 1 / 3, 1 / 2 + 1 / 3 + 1 / 2, 1 / 3 + 1 / 2]], rtol=1e-15)


def test_note000_max_pool_backward_routes_to_the_max():
    """Max pooling hands each output gradient only to the position that held the maximum (the first on
    ties, as PyTorch)."""
    x = [[[[1.0, 5.0, 2.0, 0.0],
           [3.0, 4.0, 8.0, 8.0],  # a tie in the top-right window: (1, 2) comes first
           [0.0, 9.0, 1.0, 1.0],
           [7.0, 2.0, 3.0, 6.0]]]]
    g = [[[[1.0, 2.0], [3.0, 4.0]]]]
    expected = [[0, 1, 0, 0],
                [0, 0, 2, 0],
                [0, 3, 0, 0],
                [0, 0, 0, 4]]
    np.testing.assert_array_equal(grad_of(lambda t: F.max_pool2d(t, 2), x, g)[0, 0], expected)
    # overlapping windows (kernel 3, stride 1): the 3 at index 1 is the max of two windows and gets both
    np.testing.assert_array_equal(grad_of(lambda t: F.max_pool1d(t, 3, 1), [[1.0, 3, 2, 0, 4]], [[1.0, 2, 3]]),
                                  [[0, 3, 0, 0, 3]])
    # adaptive max, 2×2 → 1×1 (global max): only the 9 gets the gradient
    np.testing.assert_array_equal(grad_of(lambda t: F.adaptive_max_pool2d(t, 1), [[[[9.0, 1], [2, 9]]]], [[[[5.0]]]]),
                                  [[[[5, 0], [0, 0]]]])


def test_note000_hand_written_gradients_agree_with_torch():
    """The same hand-written cases through torch: the expectations above are torch's too."""
    x = np.array([[[[1.0, 5.0, 2.0, 0.0], [3.0, 4.0, 8.0, 8.0], [0.0, 9.0, 1.0, 1.0], [7.0, 2.0, 3.0, 6.0]]]])
    assert_parity(lambda t: F.max_pool2d(t, 2), lambda t: TF.max_pool2d(t, 2), x)
    assert_parity(lambda t: F.avg_pool2d(t, 2), lambda t: TF.avg_pool2d(t, 2), x)
    x1 = np.array([[1.0, 3, 2, 0, 4]])
    assert_parity(lambda t: F.max_pool1d(t, 3, 1), lambda t: TF.max_pool1d(t, 3, 1), x1)
    assert_parity(lambda t: F.avg_pool1d(t, 3, 1, 1, count_include_pad=False),
                  lambda t: TF.avg_pool1d(t, 3, 1, 1, count_include_pad=False), x1)


# ----- finite differences -----------------------------------------------------------------------------

def test_pool_gradcheck():
    # distinct values, far apart compared with eps, so every window's argmax is stable under perturbation
    x = np.random.default_rng(0).permutation(2 * 3 * 6 * 5).reshape(2, 3, 6, 5) / 10.0
    for fn in [lambda t: F.avg_pool2d(t, 3, 2, 1, ceil_mode=True, count_include_pad=False),
               lambda t: F.avg_pool2d(t, (2, 3), 1, (1, 1), divisor_override=4),
               lambda t: F.max_pool2d(t, 3, 2, 1, ceil_mode=True),
               lambda t: F.max_pool2d(t, 2, 1, 1, dilation=2),
               lambda t: F.adaptive_avg_pool2d(t, (4, 3)),
               lambda t: F.adaptive_max_pool2d(t, (4, 3)),
               F.global_avg_pool2d,
               lambda t: F.max_pool1d(t[:, :, 0], 3, 2, 1),
               lambda t: F.avg_pool1d(t[:, :, 0], 3, 2, 1)]:
        assert cr.gradcheck(fn, (cr.tensor(x, requires_grad=True),))


# ----- errors -----------------------------------------------------------------------------------------

def t(shape):
    return cr.tensor(normal(shape, 0))


@pytest.mark.parametrize("name, shape, kernel, padding", [
    ("max_pool2d", (1, 1, 8, 8), 3, 2), ("max_pool2d", (1, 1, 8, 8), (2, 4), (1, 3)),
    ("avg_pool2d", (1, 1, 8, 8), 2, 2), ("max_pool1d", (1, 1, 8), 3, 2), ("avg_pool1d", (1, 1, 8), 4, 3),
])
def test_pool_padding_more_than_half_the_kernel(name, shape, kernel, padding):
    shown = "" if name.endswith("1d") else r"\("  # the 1-D ops name ints, not their height-1 pairs
    with pytest.raises(ValueError, match=rf"{name}: padding {shown}{padding}.* must be at most half the kernel size"):
        getattr(F, name)(t(shape), kernel, 1, padding)
    with pytest.raises(RuntimeError, match="pad"):  # torch refuses it too
        getattr(TF, name)(torch.zeros(shape), kernel, 1, padding)


@pytest.mark.parametrize("name, shape, kernel", [
    ("max_pool2d", (1, 1, 4, 4), 5), ("avg_pool2d", (2, 3, 3, 8), (4, 2)), ("max_pool2d", (3, 4, 4), (2, 5)),
])
def test_pool2d_kernel_larger_than_input(name, shape, kernel):
    with pytest.raises(ValueError, match=rf"{name}: kernel .* is larger than the padded input") as e:
        getattr(F, name)(t(shape), kernel)
    assert str(shape) in str(e.value)  # the shape as given, unbatched included
    with pytest.raises(RuntimeError):
        getattr(TF, name)(torch.zeros(shape), kernel)


def test_pool1d_kernel_larger_than_input():
    with pytest.raises(ValueError, match=r"max_pool1d: kernel 6 \(dilation 1\) is larger than the padded input of "
                                         r"shape \(1, 2, 5\)"):
        F.max_pool1d(t((1, 2, 5)), 6)
    with pytest.raises(ValueError, match=r"max_pool1d: kernel 3 \(dilation 3\) is larger .* shape \(2, 6\)"):
        F.max_pool1d(t((2, 6)), 3, dilation=3)
    with pytest.raises(ValueError, match=r"avg_pool1d: kernel 4 .* larger than the padded input of shape \(1, 2, 3\)"):
        F.avg_pool1d(t((1, 2, 3)), 4)


@pytest.mark.parametrize("kwargs", [{"kernel_size": 0}, {"kernel_size": 2, "stride": 0},
                                    {"kernel_size": 3, "padding": -1}, {"kernel_size": 2, "stride": (1, 0)},
                                    {"kernel_size": (2, 0)}])
@pytest.mark.parametrize("name", ["max_pool2d", "avg_pool2d"])
def test_pool2d_non_positive_arguments(name, kwargs):
    with pytest.raises(ValueError, match=rf"{name}: kernel_size .*, stride .* and dilation .* must be positive and "
                                         r"padding .* non-negative"):
        getattr(F, name)(t((1, 1, 6, 6)), **kwargs)


def test_pool1d_non_positive_arguments():
    with pytest.raises(ValueError, match=r"max_pool1d: kernel_size 2, stride 2 and dilation 0 must be positive"):
        F.max_pool1d(t((1, 1, 6)), 2, dilation=0)
    with pytest.raises(ValueError, match=r"avg_pool1d: kernel_size 2, stride 0 .* must be positive"):
        F.avg_pool1d(t((1, 1, 6)), 2, 0)


@pytest.mark.parametrize("name, shape", [
    ("max_pool2d", (5, 5)), ("max_pool2d", (1, 1, 1, 5, 5)), ("avg_pool2d", (8,)), ("adaptive_avg_pool2d", (5, 5)),
    ("adaptive_max_pool2d", (1, 1, 1, 5, 5)), ("global_avg_pool2d", (5, 5)),
])
def test_pool2d_wrong_ndim(name, shape):
    args = () if name == "global_avg_pool2d" else (2,)
    with pytest.raises(ValueError, match=rf"{name}: expected a 3-D or 4-D input") as e:
        getattr(F, name)(t(shape), *args)
    assert str(shape) in str(e.value)


@pytest.mark.parametrize("name, shape", [("max_pool1d", (5,)), ("avg_pool1d", (1, 2, 3, 5))])
def test_pool1d_wrong_ndim(name, shape):
    with pytest.raises(ValueError, match=rf"{name}: expected a 2-D or 3-D input") as e:
        getattr(F, name)(t(shape), 2)
    assert str(shape) in str(e.value)


def test_pool_bad_arguments():
    with pytest.raises(ValueError, match=r"adaptive_avg_pool2d: output_size must be positive, got 0"):
        F.adaptive_avg_pool2d(t((1, 1, 4, 4)), 0)
    with pytest.raises(ValueError, match=r"adaptive_max_pool2d: output_size must be an int or a pair"):
        F.adaptive_max_pool2d(t((1, 1, 4, 4)), (1, 2, 3))
    with pytest.raises(ValueError, match=r"max_pool2d: kernel_size must be an int or a pair"):
        F.max_pool2d(t((1, 1, 4, 4)), (2, 2, 2))
    with pytest.raises(TypeError, match=r"max_pool2d: expected a Tensor, got ndarray"):
        F.max_pool2d(normal((1, 1, 4, 4), 0), 2)
