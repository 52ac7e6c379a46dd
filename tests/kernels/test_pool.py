"""kernels/pool.py == ops/pool.py: the fast pooling kernels (offset slices, separable adaptive passes and
matrices) against the reference ops (gathered windows) — values, indices and the input gradient, float64 to
rounding and float32, over grids of kernel, stride, padding, dilation, ceil_mode, count_include_pad,
divisor_override and adaptive sizes that divide and don't; 1-D, 2-D and unbatched; ties (integer-valued inputs)
and NaNs for max pooling. Both against torch: tests/ops/test_pool.py, which runs on both paths."""
import itertools

import numpy as np
import pytest

import chainrule.nn.functional as F
from chainrule.ops.geometry import conv_output_size
from tests.parity import assert_paths_agree

F32 = {"rtol": 1e-5, "atol": 1e-6}
SHAPE2D, SHAPE1D = (2, 3, 7, 8), (2, 3, 9)


def along(v, i):
    """Dim i of an int-or-pair argument (None stays None)."""
    return v[i] if isinstance(v, tuple) else v


def accepted(sizes, kernel, stride, padding, dilation, ceil_mode):
    """A geometry the ops accept along every dim: padding at most half the kernel, one window at least."""
    for i, size in enumerate(sizes):
        k, s, p, d = (along(v, i) for v in (kernel, stride, padding, dilation))
        if p > k // 2 or conv_output_size(size, k, s or k, p, d, ceil_mode) <= 0:
            return False
    return True


def inputs(shape, kind, dtype=np.float64, seed=0):
    """Normal values, or small integers as floats ('ties': windows with several equal maxima)."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape) if kind == "normal" else rng.integers(0, 3, shape).astype(float)
    return x.astype(dtype)


POOL2D = [case for case in itertools.product([1, 2, 3, (2, 3), (3, 1)], [None, 1, 2, (1, 2)], [0, 1, (1, 0)],
                                             [1, 2, (1, 2)], [False, True])
          if accepted(SHAPE2D[2:], *case)]
POOL1D = [case for case in itertools.product([1, 2, 3, 4], [None, 1, 2, 3], [0, 1, 2], [1, 2], [False, True])
          if accepted(SHAPE1D[2:], *case)]


@pytest.mark.parametrize("kind", ["normal", "ties"])
@pytest.mark.parametrize("kernel, stride, padding, dilation, ceil_mode", POOL2D)
def test_max_pool2d_fast_equals_reference(kernel, stride, padding, dilation, ceil_mode, kind):
    x = inputs(SHAPE2D, kind)
    assert_paths_agree(lambda t: F.max_pool2d(t, kernel, stride, padding, dilation, ceil_mode, return_indices=True), x)


@pytest.mark.parametrize("kind", ["normal", "ties"])
@pytest.mark.parametrize("kernel, stride, padding, dilation, ceil_mode", POOL1D)
def test_max_pool1d_fast_equals_reference(kernel, stride, padding, dilation, ceil_mode, kind):
    x = inputs(SHAPE1D, kind)
    assert_paths_agree(lambda t: F.max_pool1d(t, kernel, stride, padding, dilation, ceil_mode, return_indices=True), x)


@pytest.mark.parametrize("return_indices", [False, True])
def test_max_pool_without_indices_and_without_a_graph(return_indices):
    """The values alone (the fast kernel then skips the argmax when no graph is recorded) and the indices alone."""
    x = inputs(SHAPE2D, "ties")
    assert_paths_agree(lambda t: F.max_pool2d(t, 3, 2, 1, return_indices=return_indices), x)
    assert_paths_agree(lambda t: F.max_pool2d(t.detach(), 3, 2, 1, return_indices=return_indices), x)


@pytest.mark.parametrize("count_include_pad", [False, True])
@pytest.mark.parametrize("divisor_override", [None, 1, 5])
@pytest.mark.parametrize("kernel, stride, padding, ceil_mode",
                         [case for case in itertools.product([1, 2, 3, (2, 3), (3, 1)], [None, 1, 2, (1, 2)],
                                                             [0, 1, (1, 0)], [False, True])
                          if accepted(SHAPE2D[2:], case[0], case[1], case[2], 1, case[3])])
def test_avg_pool2d_fast_equals_reference(kernel, stride, padding, ceil_mode, count_include_pad, divisor_override):
    x = inputs(SHAPE2D, "normal")
    assert_paths_agree(lambda t: F.avg_pool2d(t, kernel, stride, padding, ceil_mode, count_include_pad,
                                              divisor_override), x)


@pytest.mark.parametrize("count_include_pad", [False, True])
@pytest.mark.parametrize("kernel, stride, padding, ceil_mode",
                         [(k, s, p, c) for k, s, p, _, c in POOL1D if _ == 1])
def test_avg_pool1d_fast_equals_reference(kernel, stride, padding, ceil_mode, count_include_pad):
    x = inputs(SHAPE1D, "normal")
    assert_paths_agree(lambda t: F.avg_pool1d(t, kernel, stride, padding, ceil_mode, count_include_pad), x)


ADAPTIVE = [
    ((8, 8), (4, 4)), ((8, 6), (2, 3)), ((8, 8), 1), ((6, 9), (6, 9)),  # sizes divide: the windows tile the input
    ((7, 7), (3, 3)), ((5, 9), (3, 4)), ((10, 6), (4, 5)), ((7, 11), 6), ((8, 8), (3, 8)),  # unequal, overlapping
    ((3, 4), (5, 7)), ((6, 5), (None, 3)), ((6, 5), (4, None)), ((1, 1), (2, 2)),  # bigger than the input; None
]


@pytest.mark.parametrize("size, output_size", ADAPTIVE)
def test_adaptive_avg_pool2d_fast_equals_reference(size, output_size):
    assert_paths_agree(lambda t: F.adaptive_avg_pool2d(t, output_size), inputs((2, 3) + size, "normal"))


@pytest.mark.parametrize("kind", ["normal", "ties"])
@pytest.mark.parametrize("size, output_size", ADAPTIVE)
def test_adaptive_max_pool2d_fast_equals_reference(size, output_size, kind):
    x = inputs((2, 3) + size, kind)
    assert_paths_agree(lambda t: F.adaptive_max_pool2d(t, output_size, return_indices=True), x)
    assert_paths_agree(lambda t: F.adaptive_max_pool2d(t, output_size), x)


@pytest.mark.parametrize("name, args", [
    ("max_pool2d", (3, 2, 1)), ("avg_pool2d", (3, 2, 1, True, False)), ("adaptive_avg_pool2d", ((3, 2),)),
    ("adaptive_avg_pool2d", ((7, 4),)), ("adaptive_max_pool2d", ((3, 2),)), ("max_pool1d", (3, 2, 1)),
    ("avg_pool1d", (3, 2, 1)),
])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_unbatched_and_float32_fast_equals_reference(name, args, dtype):
    shape = (3, 7, 8) if name.endswith("2d") else (3, 9)
    tol = F32 if dtype == np.float32 else {}
    for kind in ("normal", "ties"):
        assert_paths_agree(lambda t: getattr(F, name)(t, *args), inputs(shape, kind, dtype), **tol)


@pytest.mark.parametrize("kernel, stride, padding, dilation, ceil_mode",
                         [(3, 1, 1, 1, False), ((2, 3), 2, (1, 0), (1, 2), True), (2, None, 0, 1, False)])
def test_max_pool2d_float32_and_indices(kernel, stride, padding, dilation, ceil_mode):
    x = inputs(SHAPE2D, "ties", np.float32)
    assert_paths_agree(lambda t: F.max_pool2d(t, kernel, stride, padding, dilation, ceil_mode, return_indices=True),
                       x, **F32)


@pytest.mark.parametrize("name, args", [("max_pool2d", (3, 1, 1)), ("max_pool2d", (2,)),
                                        ("adaptive_max_pool2d", ((3, 2),)), ("adaptive_max_pool2d", (1,))])
def test_max_pools_nan_and_inf_fast_equals_reference(name, args):
    """A NaN max goes to its window's last NaN on both paths; ±∞ are ordinary values."""
    x = inputs(SHAPE2D, "ties")
    x[0, 0, 1, 1] = x[0, 0, 2, 2] = x[0, 0, 2, 3] = x[1, 2, 5, 6] = np.nan
    x[0, 1, 3, 3], x[1, 0, 0, 0], x[1, 1, :, :] = np.inf, -np.inf, -np.inf  # a plane of −∞: maxima in the padding
    with np.errstate(invalid="ignore"):  # the test's loss, Σ out·w, adds −∞·w of both signs
        assert_paths_agree(lambda t: getattr(F, name)(t, *args, return_indices=True), x)


def test_global_avg_pool2d_is_adaptive_to_one_on_both_paths():
    x = inputs(SHAPE2D, "normal")
    assert_paths_agree(lambda t: (F.global_avg_pool2d(t), F.adaptive_avg_pool2d(t, 1)), x)


@pytest.mark.parametrize("name, args", [("max_pool2d", (2,)), ("avg_pool2d", (3, 2, 1)), ("max_pool1d", (2,)),
                                        ("adaptive_avg_pool2d", (2,)), ("adaptive_max_pool2d", (2,))])
def test_empty_batch_fast_equals_reference(name, args):
    x = np.zeros((0, 2, 5, 5) if name.endswith("2d") else (0, 2, 6))
    assert_paths_agree(lambda t: getattr(F, name)(t, *args), x)
