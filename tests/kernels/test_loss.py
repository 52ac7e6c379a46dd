"""kernels/loss.py == ops/loss.py: the fast CrossEntropy (softmax from the log-sum-exp's exponentials, the
target distribution built in place, no copy of unsmoothed probability targets) against the reference
−Σ w·q·log_softmax with gradient p·Σ w·q − w⊙q — the loss and the gradients of the logits and of probability
targets, over input dims (C,), (N, C), (N, C, d1, d2), every reduction, class weights, ignore_index (some,
all, a real class), label smoothing, float64 and float32. Both against torch: tests/ops/test_loss.py, which
runs its cross-entropy tests on both paths."""
import itertools

import numpy as np
import pytest

import chainrule as cr
import chainrule.nn.functional as F
from tests.parity import assert_paths_agree

REDUCTIONS = ["none", "mean", "sum"]
SHAPES = [(5,), (6, 4), (3, 5, 2, 3), (4, 1)]  # input shapes; the classes are dim 1 (dim 0 unbatched)
TOL = {np.float64: {"rtol": 1e-12, "atol": 1e-13}, np.float32: {"rtol": 1e-5, "atol": 1e-6}}


def _logits(shape, dtype, seed=0, scale=3.0):
    return (np.random.default_rng(seed).standard_normal(shape) * scale).astype(dtype)


def _classes(shape):
    return shape[0] if len(shape) == 1 else shape[1]


def _index_target(shape, seed, ignore_index, ignore_frac):
    c, rng = _classes(shape), np.random.default_rng(seed)
    batch = () if len(shape) == 1 else (shape[0],) + shape[2:]
    t = rng.integers(0, c, batch)
    t[rng.random(batch) < ignore_frac] = ignore_index
    return t


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("weighted, smoothing, ignore_index, ignore_frac",
                         [(False, 0.0, -100, 0.0), (True, 0.0, -100, 0.3), (False, 0.1, -100, 0.3),
                          (True, 0.25, 255, 0.5), (True, 1.0, -100, 0.0), (True, 0.1, 0, 0.0)])
def test_cross_entropy_index_targets_fast_equals_reference(dtype, reduction, shape, weighted, smoothing, ignore_index,
                                                           ignore_frac):
    t = _index_target(shape, 1, ignore_index, ignore_frac)
    w = np.random.default_rng(2).uniform(0.5, 2.0, _classes(shape)).astype(dtype) if weighted else None
    assert_paths_agree(lambda x: F.cross_entropy(x, t, None if w is None else cr.tensor(w), ignore_index=ignore_index,
                                                 reduction=reduction, label_smoothing=smoothing),
                       _logits(shape, dtype), **TOL[dtype])


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True])
def test_cross_entropy_every_target_ignored_fast_equals_reference(reduction, weighted):
    """mean: 0/0 = nan on both paths, and every row's gradient 0 (not 0·∞)."""
    w = cr.tensor(np.linspace(0.5, 2.0, 4)) if weighted else None
    t = np.full((3, 2), -100)
    with np.errstate(invalid="ignore"):  # the nan itself, compared equal by assert_allclose
        assert_paths_agree(lambda x: F.cross_entropy(x, t, w, reduction=reduction), _logits((3, 4, 2), np.float64))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("weighted, smoothing", list(itertools.product([False, True], [0.0, 0.2])))
def test_cross_entropy_probability_targets_fast_equals_reference(dtype, reduction, shape, weighted, smoothing):
    """The gradient of the target too (both paths: −(1 − ε)·w⊙log p)."""
    e = np.exp(_logits(shape, np.float64, seed=3, scale=1.0))
    q = (e / e.sum(axis=0 if len(shape) == 1 else 1, keepdims=True)).astype(dtype)
    w = cr.tensor(np.random.default_rng(4).uniform(0.5, 2.0, _classes(shape)).astype(dtype)) if weighted else None
    assert_paths_agree(lambda x, y: F.cross_entropy(x, y, w, reduction=reduction, label_smoothing=smoothing),
                       _logits(shape, dtype), q, **TOL[dtype])


@pytest.mark.parametrize("scale", [1e-3, 50.0, 1e3])
def test_cross_entropy_extreme_logits_fast_equals_reference(scale):
    """Logits near equal and far apart (softmax 0 and 1 in float64): the same stable values on both paths."""
    t = _index_target((8, 6), 5, -100, 0.0)
    assert_paths_agree(lambda x: F.cross_entropy(x, t, reduction="none", label_smoothing=0.1),
                       _logits((8, 6), np.float64, seed=6, scale=scale))


def test_cross_entropy_without_a_graph_fast_equals_reference():
    """Under no_grad the forward alone: the same loss."""
    x, t = _logits((6, 5), np.float64), _index_target((6, 5), 7, -100, 0.3)
    losses = []
    for reference in (False, True):
        with cr.no_grad(), cr.use_reference(reference):
            losses.append(F.cross_entropy(cr.tensor(x), t).data)
    np.testing.assert_allclose(losses[0], losses[1], rtol=1e-12, atol=0)
