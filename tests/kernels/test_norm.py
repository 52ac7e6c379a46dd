"""kernels/norm.py == ops/norm.py: the fast Normalize (closed-form backward, statistics written out as rows,
BatchNorm's passes split over the threads) and ChannelAffine against the reference forms — outputs, the batch
statistics as outputs, every input's gradient and the running statistics, float64 to rounding (rtol 1e-10) and
float32. Both against torch: tests/ops/test_norm.py, which runs on both paths."""
import math

import numpy as np
import pytest

import chainrule as cr
import chainrule.nn.functional as F
from chainrule.kernels.norm import ROWS_SPLIT_MIN, _row
from chainrule.ops.norm import _normalize
from tests.parity import assert_paths_agree

TOL = {np.float64: {"rtol": 1e-10, "atol": 1e-10}, np.float32: {"rtol": 1e-4, "atol": 1e-4}}
# either side of the fast kernel's regimes: N < 8 and N ≥ 8 (statistics written out as rows), and BatchNorm
# inputs below and from ROWS_SPLIT_MIN elements on (row slices over the threads, uneven when N is odd)
BN_SHAPES = [(5, 3), (16, 4), (4, 3, 7), (9, 4, 6), (2, 3, 4, 5), (8, 3, 4, 5), (11, 4096, 2), (16, 8, 24, 24)]


def normal(shape, seed, dtype=np.float64, scale=1.0, shift=0.0):
    """Inputs x are not drawn from seed 0: assert_paths_agree weights the outputs by standard normals of seed 0,
    and an x of the same draw would make them proportional to x̂, whose gradient through x is ~0."""
    return np.asarray(np.random.default_rng(seed).standard_normal(shape) * scale + shift, dtype=dtype)


def _affine(c, affine, dtype):
    return (normal(c, 1, dtype, 0.5, 1.0), normal(c, 2, dtype)) if affine else (None, None)


def _running(c, dtype):
    return normal(c, 3, dtype), np.random.default_rng(4).uniform(0.5, 2.0, c).astype(dtype)


def _with_running(fn, running):
    """``fn(x, γ, β, running_mean, running_var)`` with fresh running-statistic Tensors on each path, returned
    as outputs after the call so that assert_paths_agree compares them too."""
    def call(x, w, b):
        rm, rv = (None, None) if running is None else (cr.tensor(running[0].copy()), cr.tensor(running[1].copy()))
        out = fn(x, w, b, rm, rv)
        return out if rm is None else (out, rm, rv)
    return call


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("shape", BN_SHAPES)
@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("affine", [True, False])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_batch_norm_fast_equals_reference(threads, shape, training, affine, dtype):
    """Training (batch statistics, running ones updated) and evaluation (the running ones: ChannelAffine)."""
    c = shape[1]
    fn = _with_running(lambda x, w, b, rm, rv: F.batch_norm(x, rm, rv, w, b, training, 0.1, 1e-5), _running(c, dtype))
    with cr.num_threads(threads):
        assert_paths_agree(fn, normal(shape, 5, dtype, 2.0, 0.5), *_affine(c, affine, dtype), **TOL[dtype])


@pytest.mark.parametrize("shape", [(6, 3), (4, 3, 5)])
def test_batch_norm_without_running_statistics(shape):
    fn = _with_running(lambda x, w, b, rm, rv: F.batch_norm(x, rm, rv, w, b, False), None)
    assert_paths_agree(fn, normal(shape, 5), *_affine(shape[1], True, np.float64), **TOL[np.float64])


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("shape, k", [((7,), 1), ((5, 8), 1), ((3, 4, 6), 1), ((3, 4, 6), 2), ((2, 3, 4, 5), 3),
                                      ((2, 3, 4, 5), 2), ((256, 512), 1)])
@pytest.mark.parametrize("params", ["both", "weight", "none"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_layer_norm_fast_equals_reference(threads, shape, k, params, dtype):
    """Over the trailing 1–3 dims, γ and β each optional."""
    ns = shape[-k:]
    w = normal(ns, 1, dtype, 0.5, 1.0) if params != "none" else None
    b = normal(ns, 2, dtype) if params == "both" else None
    with cr.num_threads(threads):
        assert_paths_agree(lambda x, g, h: F.layer_norm(x, ns, g, h, 1e-5), normal(shape, 7, dtype, 2.0, 3.0), w, b,
                           **TOL[dtype])


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("shape, groups", [((2, 4), 2), ((3, 6, 5), 1), ((3, 6, 5), 3), ((2, 6, 3, 3), 6),
                                           ((2, 8, 3, 4), 4), ((16, 32, 16, 16), 8)])
@pytest.mark.parametrize("affine", [True, False])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_group_norm_fast_equals_reference(threads, shape, groups, affine, dtype):
    with cr.num_threads(threads):
        assert_paths_agree(lambda x, g, h: F.group_norm(x, groups, g, h, 1e-4), normal(shape, 7, dtype, 2.0, -1.0),
                           *_affine(shape[1], affine, dtype), **TOL[dtype])


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("shape", [(2, 3, 5), (3, 4, 2, 3), (16, 32, 16, 16)])
@pytest.mark.parametrize("running", ["none", "update", "use"])
@pytest.mark.parametrize("affine", [True, False])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_instance_norm_fast_equals_reference(threads, shape, running, affine, dtype):
    """Without running statistics, updating them (the batch mean of the per-instance ones), and using them."""
    use_input_stats = running != "use"
    fn = _with_running(lambda x, w, b, rm, rv: F.instance_norm(x, rm, rv, w, b, use_input_stats, 0.3, 1e-4),
                       None if running == "none" else _running(shape[1], dtype))
    with cr.num_threads(threads):
        assert_paths_agree(fn, normal(shape, 7, dtype, 2.0, 1.0), *_affine(shape[1], affine, dtype), **TOL[dtype])


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("shape, axes, param_shape", [((6, 3), (0,), (1, 3)), ((9, 4, 6), (0, 2), (1, 4, 1)),
                                                      ((11, 4096, 2), (0, 2), (1, 4096, 1)),
                                                      ((2, 3, 4, 5), (2, 3), (1, 3, 1, 1)), ((3, 4, 6), (1, 2), (4, 6))])
@pytest.mark.parametrize("affine", [True, False])
def test_statistics_outputs_fast_equal_reference(threads, shape, axes, param_shape, affine):
    """(y, μ, σ²) all weighted in the loss: the gradients of μ and σ² folded into the fast kernel's two
    per-statistic constants equal the reference's chain rule."""
    w, b = (normal(param_shape, 1, scale=0.5, shift=1.0), normal(param_shape, 2)) if affine else (None, None)
    with cr.num_threads(threads):
        assert_paths_agree(lambda x, g, h: _normalize(x, g, h, axes, 1e-5), normal(shape, 7, scale=2.0, shift=1.0),
                           w, b, **TOL[np.float64])


@pytest.mark.parametrize("shape", [(16, 8, 24, 24), (3, 4, 5)])
def test_running_statistics_equal_without_a_graph(shape):
    """Under no_grad (no node recorded) both paths still return the batch statistics: equal running averages."""
    x = normal(shape, 0, scale=2.0, shift=1.0)
    results = []
    for reference in (False, True):
        rm, rv = (cr.tensor(a.copy()) for a in _running(shape[1], np.float64))
        with cr.use_reference(reference), cr.no_grad():
            F.batch_norm(cr.tensor(x), rm, rv, training=True)
        results.append((rm.data, rv.data))
    for f, r in zip(*results):
        np.testing.assert_allclose(f, r, rtol=1e-12, atol=1e-12)


def test_rows_are_written_out_only_when_small():
    stat = np.arange(3.0).reshape(1, 3, 1, 1)
    row = _row(stat, (8, 3, 4, 5))
    assert row.shape == (1, 3, 4, 5) and row.flags.c_contiguous and np.all(row == stat)
    assert _row(stat, (4, 3, 4, 5)).shape == (1, 3, 1, 1)  # N < 8: the block would not be small
    assert _row(np.ones((8, 1, 1)), (8, 3, 4)).shape == (8, 1, 1)  # per sample (LayerNorm): full size, left
    assert _row(np.ones((1, 3)), (8, 3)).shape == (1, 3)  # no trailing broadcast dim


def test_shapes_cover_both_sides_of_the_thresholds():
    sizes = [math.prod(s) for s in BN_SHAPES]
    assert min(sizes) < ROWS_SPLIT_MIN <= max(sizes)
    assert any(s[0] >= 8 and 8 * math.prod(s[1:]) <= math.prod(s) for s in BN_SHAPES if len(s) > 2)
