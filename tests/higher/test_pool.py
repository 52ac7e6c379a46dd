"""Second (and third) derivatives of pooling and resampling equal torch's (float64), on the fast kernels and the
reference ops: max pooling with ties (the gradient goes to the first max), ceil_mode, padding and dilation; average
pooling with count_include_pad, ceil_mode and divisor_override; adaptive average and max pooling; the 1-D and 3-D
pools, max_unpool2d, lp_pool2d and interpolate."""
import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import chainrule.nn.functional as F
from tests.higher.check import assert_higher_order

TOL = {"rtol": 1e-7, "atol": 1e-9}


def draw(shape, seed):
    return np.random.default_rng(seed).standard_normal(shape)


def ties(shape, seed):
    """Small integers: most windows hold their max more than once."""
    return np.random.default_rng(seed).integers(-2, 3, shape).astype(np.float64)


def lib(t):
    return TF if isinstance(t, torch.Tensor) else F


def check(f, *arrays, order=2):
    assert_higher_order(f, f, *arrays, order=order, **TOL)


# (kernel, stride, padding, dilation, ceil_mode): overlapping and strided windows, ceil_mode's partial last one
WINDOWS = [(2, 1, 0, 1, False), (2, 2, 0, 1, True), (2, 3, 1, 1, True), (2, 2, 1, 2, False), (2, 1, 1, 2, True),
           (3, 1, 1, 2, True), (3, 2, 1, 1, True), (3, 3, 0, 1, True), (3, 2, 0, 2, False), (3, 3, 1, 1, False)]


@pytest.mark.usefixtures("both_paths")
@pytest.mark.parametrize("kernel,stride,padding,dilation,ceil_mode", WINDOWS)
def test_max_pool2d(kernel, stride, padding, dilation, ceil_mode):
    def f(x):
        return lib(x).max_pool2d(x * x, kernel, stride, padding, dilation, ceil_mode).square()
    check(f, ties((2, 2, 7, 6), 0), order=3)


@pytest.mark.usefixtures("both_paths")
@pytest.mark.parametrize("count_include_pad,divisor_override", [(True, None), (False, None), (True, 5)])
@pytest.mark.parametrize("kernel,stride,padding,ceil_mode", [(k, s, p, c) for k, s, p, _, c in WINDOWS])
def test_avg_pool2d(kernel, stride, padding, ceil_mode, count_include_pad, divisor_override):
    def f(t):
        return lib(t).avg_pool2d(t, kernel, stride, padding, ceil_mode, count_include_pad, divisor_override).square()
    check(f, draw((2, 2, 7, 6), 1))


@pytest.mark.usefixtures("both_paths")
@pytest.mark.parametrize("out", [(1, 1), (3, 2), (4, 6), (5, 4), (7, 6), (2, None)], ids=str)
def test_adaptive(out):
    """Windows that tile the input and windows of unequal sizes that overlap."""
    x = ties((2, 2, 7, 6), 2)
    check(lambda t: lib(t).adaptive_avg_pool2d(t * t, out).square(), x, order=3)
    check(lambda t: lib(t).adaptive_max_pool2d(t * t, out).square(), x, order=3)


@pytest.mark.usefixtures("both_paths")
def test_return_indices_and_1d():
    x = ties((2, 3, 7, 6), 3)
    check(lambda t: lib(t).max_pool2d(t, 3, 2, 1, return_indices=True)[0].sin(), x)
    check(lambda t: lib(t).adaptive_max_pool2d(t, (3, 4), return_indices=True)[0].sin(), x)
    check(lambda t: lib(t).max_pool1d(t * t, 3, 2, 1, ceil_mode=True).square(), x[:, :, 0], order=3)
    check(lambda t: lib(t).avg_pool1d(t, 3, 2, 1, ceil_mode=True, count_include_pad=False).square(), x[0])


def test_lp_pool2d():
    check(lambda t: lib(t).lp_pool2d(t * t + 1, 3, 2, ceil_mode=True), draw((2, 2, 5, 6), 4))


@pytest.mark.parametrize("kernel,stride,padding,ceil_mode", [(2, 1, 0, False), (2, 2, 1, True), (3, 2, 1, False),
                                                             ((3, 2, 2), (1, 2, 3), (1, 0, 1), True)])
def test_pool3d(kernel, stride, padding, ceil_mode):
    x = ties((1, 2, 5, 4, 6), 5)
    check(lambda t: lib(t).max_pool3d(t * t, kernel, stride, padding, 1, ceil_mode).square(), x, order=3)
    check(lambda t: lib(t).avg_pool3d(t, kernel, stride, padding, ceil_mode, False).square(), x)
    check(lambda t: lib(t).avg_pool3d(t, kernel, stride, padding, ceil_mode, True, 4).square(), x)


def test_max_unpool2d():
    def f(t):
        pooled, indices = lib(t).max_pool2d(t, 2, return_indices=True)
        return lib(t).max_unpool2d(pooled.square(), indices, 2).square()
    check(f, draw((2, 3, 6, 4), 6), order=3)


@pytest.mark.parametrize("mode,align_corners,size", [("nearest", None, (4, 9)), ("nearest-exact", None, (9, 4)),
                                                     ("bilinear", False, (4, 9)), ("bilinear", True, (9, 3)),
                                                     ("bicubic", False, (5, 7)), ("area", None, (4, 3))])
def test_interpolate(mode, align_corners, size):
    check(lambda t: lib(t).interpolate(t * t, size=size, mode=mode, align_corners=align_corners).square(),
          draw((2, 2, 6, 5), 7), order=3)


def test_interpolate_1d_3d():
    check(lambda t: lib(t).interpolate(t * t, scale_factor=1.5, mode="linear").square(), draw((2, 2, 5), 8), order=3)
    check(lambda t: lib(t).interpolate(t * t, size=(3, 2, 5), mode="trilinear").square(), draw((1, 2, 2, 4, 3), 9),
          order=3)
