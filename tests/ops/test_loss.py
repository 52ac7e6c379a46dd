"""chainrule.ops.loss against torch: cross_entropy (class indices, class weights, ignore_index, label
smoothing, probability targets, (N, C, d1, d2) and unbatched (C,) inputs, every target ignored), nll_loss,
mse_loss, l1_loss, smooth_l1_loss (beta, 0 included), binary_cross_entropy (weights, probabilities at and
near 0 and 1), binary_cross_entropy_with_logits (weight, pos_weight, |z| up to 100) — values and the
gradients of every input torch differentiates, every reduction, float32 dtypes, NaN propagation, finite
differences and error messages. cross_entropy, the loss with a fast kernel (kernels/loss.py), is checked
against torch on both paths (the both_paths fixture)."""

import re

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import chainrule as cr
import chainrule.nn.functional as F
from tests.parity import assert_parity

# the both_paths fixture holds one path for the whole test, every example included
SETTINGS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
SEEDS = st.integers(0, 2**32 - 1)
ARRAY_SHAPES = hnp.array_shapes(min_dims=0, max_dims=4, min_side=1, max_side=4)
REDUCTIONS = ["none", "mean", "sum"]
TF = torch.nn.functional
BOTH_PATHS = pytest.mark.usefixtures("both_paths")


def normal(shape, seed, dtype=np.float64, scale=1.0):
    return np.asarray(np.random.default_rng(seed).standard_normal(shape) * scale, dtype=dtype)


def uniform(shape, seed, low=0.0, high=1.0, dtype=np.float64):
    return np.asarray(np.random.default_rng(seed).uniform(low, high, shape), dtype=dtype)


def probabilities(shape, seed, axis=1):
    """Rows of a distribution over dim ``axis`` (the classes)."""
    e = np.exp(normal(shape, seed, scale=2.0))
    return e / e.sum(axis=axis, keepdims=True)


def _leaf(array):
    return cr.tensor(array, requires_grad=True)


def _pair(array):
    """The same constant for both libraries (a class weight is not differentiated by torch)."""
    return (None, None) if array is None else (cr.tensor(array), torch.tensor(array))


# ----- cross_entropy: class-index targets ---------------------------------------------------------
@BOTH_PATHS
@pytest.mark.parametrize("reduction", REDUCTIONS)
@SETTINGS
@given(n=st.integers(1, 6), c=st.integers(1, 6), seed=SEEDS, scale=st.sampled_from([1.0, 50.0]))
def test_cross_entropy_parity(reduction, n, c, seed, scale):
    logits = normal((n, c), seed, scale=scale)
    target = np.random.default_rng(seed + 1).integers(0, c, n)
    out = assert_parity(
        lambda x, y: F.cross_entropy(x, y, reduction=reduction),
        lambda x, y: TF.cross_entropy(x, y, reduction=reduction),
        logits,
        target,
    )
    assert out.shape == ((n,) if reduction == "none" else ())


@BOTH_PATHS
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_cross_entropy_float32_and_target_forms(reduction):
    logits = normal((5, 4), 0, np.float32)
    target = np.array([0, 3, 3, 1, 2])
    out = assert_parity(
        lambda x, y: F.cross_entropy(x, y, reduction=reduction),
        lambda x, y: TF.cross_entropy(x, y, reduction=reduction),
        logits,
        target,
    )
    assert out.dtype == np.float32
    # targets as a NumPy array or a list, and as int32
    assert_parity(
        lambda x: F.cross_entropy(x, target, reduction=reduction),
        lambda x: TF.cross_entropy(x, torch.tensor(target), reduction=reduction),
        logits,
    )
    assert_parity(
        lambda x: F.cross_entropy(x, target.astype(np.int32).tolist(), reduction=reduction),
        lambda x: TF.cross_entropy(x, torch.tensor(target), reduction=reduction),
        logits,
    )


@BOTH_PATHS
def test_cross_entropy_after_a_computation():
    x, w = normal((4, 3), 0), normal((5, 3), 1)
    y = np.array([4, 0, 2, 2])
    assert_parity(lambda a, b, t: F.cross_entropy(a @ b.T, t), lambda a, b, t: TF.cross_entropy(a @ b.T, t), x, w, y)


@BOTH_PATHS
@pytest.mark.parametrize("reduction", REDUCTIONS)
@SETTINGS
@given(n=st.integers(1, 4), c=st.integers(1, 5), spatial=st.sampled_from([(), (3,), (2, 3)]),
       weighted=st.booleans(), ignore_index=st.sampled_from([-100, 0, 255]), ignore_frac=st.sampled_from([0, 0.3, 1]),
       smoothing=st.sampled_from([0.0, 0.1, 0.5, 1.0]), scale=st.sampled_from([1.0, 20.0]), seed=SEEDS)
def test_cross_entropy_index_targets_parity(reduction, n, c, spatial, weighted, ignore_index, ignore_frac, smoothing,
                                            scale, seed):
    """weight, ignore_index (absent, a valid class or out of range as in segmentation), label smoothing,
    (N, C) and (N, C, d1[, d2]) inputs: values and the logits' gradient as torch's — nan when every target
    is ignored and the reduction is a mean, with a zero gradient, as torch."""
    rng = np.random.default_rng(seed)
    logits = normal((n, c) + spatial, seed, scale=scale)
    target = rng.integers(0, c, (n,) + spatial)
    target[rng.random(target.shape) < ignore_frac] = ignore_index
    w, wt = _pair(uniform(c, seed + 1, 0.1, 2.0) if weighted else None)
    kw = {"ignore_index": ignore_index, "reduction": reduction, "label_smoothing": smoothing}
    out = assert_parity(lambda x: F.cross_entropy(x, target, w, **kw),
                        lambda x: TF.cross_entropy(x, torch.tensor(target), wt, **kw), logits)
    assert out.shape == (target.shape if reduction == "none" else ())


@BOTH_PATHS
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_cross_entropy_every_target_ignored(reduction):
    """torch: 'mean' is 0/0 = nan, 'sum' 0, 'none' zeros; the gradient is 0 everywhere (not NaN)."""
    logits, target = normal((3, 4), 0), np.full(3, -100)
    for w in (None, np.array([1.0, 2.0, 3.0, 4.0])):
        for smoothing in (0.0, 0.2):
            kw = {"reduction": reduction, "label_smoothing": smoothing}
            ours, theirs = _pair(w)
            with np.errstate(all="raise"):  # silent, as torch
                out = assert_parity(lambda x, w=ours, kw=kw: F.cross_entropy(x, target, w, **kw),
                                    lambda x, w=theirs, kw=kw: TF.cross_entropy(x, torch.tensor(target), w, **kw), logits)
            assert np.isnan(out.data) if reduction == "mean" else np.all(out.data == 0)


@BOTH_PATHS
def test_cross_entropy_ignored_rows_get_no_gradient():
    x = _leaf(normal((4, 3), 1))
    F.cross_entropy(x, [0, 7, 2, 7], ignore_index=7, label_smoothing=0.3).backward()
    np.testing.assert_array_equal(x.grad.data[[1, 3]], 0)
    assert np.all(x.grad.data[[0, 2]] != 0)


@BOTH_PATHS
def test_cross_entropy_unbatched():
    """(C,) logits with a 0-d class index (a tensor, an array or an int) or a (C,) distribution."""
    logits = normal(5, 2)
    for target in (cr.tensor(3), np.array(3), 3):
        out = assert_parity(lambda x, t=target: F.cross_entropy(x, t), lambda x: TF.cross_entropy(x, torch.tensor(3)), logits)
        assert out.shape == ()
    for reduction in REDUCTIONS:
        kw = {"reduction": reduction, "label_smoothing": 0.2}
        assert_parity(lambda x, kw=kw: F.cross_entropy(x, 1, cr.tensor(np.arange(1.0, 6.0)), **kw),
                      lambda x, kw=kw: TF.cross_entropy(x, torch.tensor(1), torch.arange(1.0, 6.0, dtype=torch.float64), **kw),
                      logits)
        assert_parity(lambda x, q, kw=kw: F.cross_entropy(x, q, **kw), lambda x, q, kw=kw: TF.cross_entropy(x, q, **kw),
                      logits, probabilities(5, 3, axis=0))


# ----- cross_entropy: probability targets ---------------------------------------------------------
@BOTH_PATHS
@pytest.mark.parametrize("reduction", REDUCTIONS)
@SETTINGS
@given(n=st.integers(1, 4), c=st.integers(1, 5), spatial=st.sampled_from([(), (3,), (2, 2)]), weighted=st.booleans(),
       smoothing=st.sampled_from([0.0, 0.25, 1.0]), scale=st.sampled_from([1.0, 20.0]), seed=SEEDS)
def test_cross_entropy_probability_targets_parity(reduction, n, c, spatial, weighted, smoothing, scale, seed):
    """Gradients w.r.t. the logits and the target distribution; 'mean' divides by N·d1·d2 (not by weights)."""
    logits = normal((n, c) + spatial, seed, scale=scale)
    q = probabilities((n, c) + spatial, seed + 1)
    w, wt = _pair(uniform(c, seed + 2, 0.1, 2.0) if weighted else None)
    kw = {"reduction": reduction, "label_smoothing": smoothing}
    assert_parity(lambda x, t: F.cross_entropy(x, t, w, **kw), lambda x, t: TF.cross_entropy(x, t, wt, **kw), logits, q)


@BOTH_PATHS
def test_cross_entropy_probability_targets_not_normalized():
    """Any non-negative (or even negative) float target is used as given, as in torch."""
    assert_parity(lambda x, t: F.cross_entropy(x, t, label_smoothing=0.1),
                  lambda x, t: TF.cross_entropy(x, t, label_smoothing=0.1), normal((3, 4), 4), normal((3, 4), 5))


@BOTH_PATHS
def test_cross_entropy_after_a_computation_with_everything():
    x, w = normal((6, 3), 0), normal((4, 3), 1)
    y = np.array([3, 0, -1, 2, 2, -1])
    cw = uniform(4, 2, 0.5, 1.5)
    kw = {"ignore_index": -1, "label_smoothing": 0.1}
    assert_parity(lambda a, b: F.cross_entropy(a @ b.T, y, cr.tensor(cw), **kw),
                  lambda a, b: TF.cross_entropy(a @ b.T, torch.tensor(y), torch.tensor(cw), **kw), x, w)


@BOTH_PATHS
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_cross_entropy_float32(reduction):
    """float32 logits with float64 class weights or targets: the loss and gradients stay float32."""
    logits, t = normal((2, 4, 3), 0, np.float32), np.array([[0, 3, 1], [2, 2, -100]])
    cw = uniform(4, 1, 0.5, 2.0)
    kw = {"reduction": reduction, "label_smoothing": 0.1}
    out = assert_parity(lambda x: F.cross_entropy(x, t, cr.tensor(cw), **kw),
                        lambda x: TF.cross_entropy(x, torch.tensor(t), torch.tensor(cw, dtype=torch.float32), **kw),
                        logits)
    assert out.dtype == np.float32
    q = probabilities((2, 4, 3), 2).astype(np.float32)
    out = assert_parity(lambda x, p: F.cross_entropy(x, p, **kw), lambda x, p: TF.cross_entropy(x, p, **kw), logits, q)
    assert out.dtype == np.float32


# ----- nll_loss ------------------------------------------------------------------------------------
@pytest.mark.parametrize("reduction", REDUCTIONS)
@SETTINGS
@given(n=st.integers(1, 4), c=st.integers(1, 5), spatial=st.sampled_from([(), (3,), (2, 3)]), weighted=st.booleans(),
       ignore_index=st.sampled_from([-100, 1]), ignore_frac=st.sampled_from([0, 0.3, 1]), seed=SEEDS)
def test_nll_loss_parity(reduction, n, c, spatial, weighted, ignore_index, ignore_frac, seed):
    rng = np.random.default_rng(seed)
    x = normal((n, c) + spatial, seed)
    target = rng.integers(0, c, (n,) + spatial)
    target[rng.random(target.shape) < ignore_frac] = ignore_index
    w, wt = _pair(uniform(c, seed + 1, 0.1, 2.0) if weighted else None)
    kw = {"ignore_index": ignore_index, "reduction": reduction}
    out = assert_parity(lambda a: F.nll_loss(a, target, w, **kw), lambda a: TF.nll_loss(a, torch.tensor(target), wt, **kw), x)
    assert out.shape == (target.shape if reduction == "none" else ())


def test_nll_loss_of_log_softmax_equals_cross_entropy_and_unbatched():
    x, t = normal((5, 4), 0, scale=3.0), np.array([0, 3, 1, 1, 2])
    assert_parity(lambda a: F.nll_loss(F.log_softmax(a, 1), t), lambda a: TF.cross_entropy(a, torch.tensor(t)), x)
    assert_parity(lambda a: F.nll_loss(a, 2), lambda a: TF.nll_loss(a, torch.tensor(2)), normal(4, 1))
    out = assert_parity(lambda a: F.nll_loss(a, t, reduction="sum"),
                        lambda a: TF.nll_loss(a, torch.tensor(t), reduction="sum"), x.astype(np.float32))
    assert out.dtype == np.float32


# ----- mse_loss -----------------------------------------------------------------------------------
@pytest.mark.parametrize("reduction", REDUCTIONS)
@SETTINGS
@given(shape=ARRAY_SHAPES, seed=SEEDS)
def test_mse_loss_parity(reduction, shape, seed):
    a, b = normal(shape, seed), normal(shape, seed + 1)
    assert_parity(
        lambda x, y: F.mse_loss(x, y, reduction=reduction), lambda x, y: TF.mse_loss(x, y, reduction=reduction), a, b
    )
    assert_parity(
        lambda x: F.mse_loss(x, cr.tensor(b), reduction=reduction),
        lambda x: TF.mse_loss(x, torch.tensor(b), reduction=reduction),
        a,
    )


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_mse_loss_float32(reduction):
    out = assert_parity(
        lambda x, y: F.mse_loss(x, y, reduction=reduction),
        lambda x, y: TF.mse_loss(x, y, reduction=reduction),
        normal((3, 4), 0, np.float32),
        normal((3, 4), 1, np.float32),
    )
    assert out.dtype == np.float32


# ----- l1_loss, smooth_l1_loss ---------------------------------------------------------------------
SHAPES = st.sampled_from([(), (1,), (5,), (3, 4), (2, 3, 4), (2, 1, 3, 2)])


@pytest.mark.parametrize("reduction", REDUCTIONS)
@SETTINGS
@given(shape=SHAPES, seed=SEEDS, beta=st.sampled_from([None, 0.0, 0.3, 1.0, 2.5]))
def test_l1_and_smooth_l1_parity(reduction, shape, seed, beta):
    """Gradients w.r.t. the input and the target; beta=None is l1_loss, beta=0 is L1 as well."""
    a, b = normal(shape, seed, scale=2.0), normal(shape, seed + 1)
    if beta is None:
        ours, theirs = (lambda x, y: F.l1_loss(x, y, reduction=reduction),
                        lambda x, y: TF.l1_loss(x, y, reduction=reduction))
    else:
        ours, theirs = (lambda x, y: F.smooth_l1_loss(x, y, reduction=reduction, beta=beta),
                        lambda x, y: TF.smooth_l1_loss(x, y, reduction=reduction, beta=beta))
    assert_parity(ours, theirs, a, b)
    assert_parity(lambda x: ours(x, cr.tensor(b)), lambda x: theirs(x, torch.tensor(b)), a)  # a constant target


def test_smooth_l1_at_the_joins():
    """|x − y| exactly beta, and x = y: the same one-sided values as torch (no NaN for beta = 0)."""
    x, y = np.array([0.0, 1.0, -1.0, 0.5, 2.0]), np.array([0.0, 0.0, 0.0, 0.0, 0.0])
    for beta in (0.0, 0.5, 1.0):
        assert_parity(lambda a, b, beta=beta: F.smooth_l1_loss(a, b, reduction="sum", beta=beta),
                      lambda a, b, beta=beta: TF.smooth_l1_loss(a, b, reduction="sum", beta=beta), x, y)
    assert_parity(lambda a, b: F.l1_loss(a, b, reduction="none"), lambda a, b: TF.l1_loss(a, b, reduction="none"), x, y)


@pytest.mark.parametrize("fn", ["l1_loss", "smooth_l1_loss"])
def test_l1_float32(fn):
    out = assert_parity(getattr(F, fn), getattr(TF, fn), normal((3, 4), 0, np.float32), normal((3, 4), 1, np.float32))
    assert out.dtype == np.float32


# ----- binary_cross_entropy ------------------------------------------------------------------------
@pytest.mark.parametrize("reduction", REDUCTIONS)
@SETTINGS
@given(shape=st.sampled_from([(), (4,), (3, 4), (2, 3, 4)]), weight=st.sampled_from([None, "last", "full", "scalar"]),
       seed=SEEDS)
def test_binary_cross_entropy_parity(reduction, shape, weight, seed):
    """Gradients w.r.t. the probabilities and the targets (torch gives both); weights broadcast."""
    p, y = uniform(shape, seed, 0.02, 0.98), uniform(shape, seed + 1)
    wshape = {None: None, "last": shape[-1:], "full": shape, "scalar": ()}[weight]
    w, wt = _pair(None if wshape is None else uniform(wshape, seed + 2, 0.1, 2.0))
    assert_parity(lambda a, b: F.binary_cross_entropy(a, b, w, reduction=reduction),
                  lambda a, b: TF.binary_cross_entropy(a, b, wt, reduction=reduction), p, y)


def test_binary_cross_entropy_near_and_at_0_and_1():
    """Logs clamped at −100 as torch: finite losses at p ∈ {0, 1}, the input gradient (x − y)/max(x(1 − x), 1e-12)."""
    p = np.array([0.0, 0.0, 1e-20, 1e-8, 1e-3, 0.5, 1 - 1e-8, 1.0, 1.0])
    y = np.array([0.0, 1.0, 1.0, 0.3, 0.0, 1.0, 0.7, 1.0, 0.0])
    with np.errstate(all="raise"):  # silent, as torch
        out = assert_parity(lambda a: F.binary_cross_entropy(a, cr.tensor(y), reduction="none"),
                            lambda a: TF.binary_cross_entropy(a, torch.tensor(y), reduction="none"), p)
    assert np.all(np.isfinite(out.data)) and out.data[1] == 100 and out.data[-1] == 100
    inner = slice(2, 7)  # torch's target gradient is log(1 − p) − log p, finite only inside (0, 1)
    assert_parity(lambda a, b: F.binary_cross_entropy(a, b, reduction="sum"),
                  lambda a, b: TF.binary_cross_entropy(a, b, reduction="sum"), p[inner], y[inner])


def test_binary_cross_entropy_target_gradient_at_0_and_1_is_the_clamped_slope():
    """The loss is linear in y with slope max(log(1 − p), −100) − max(log p, −100): at p = 0 that is +100
    (torch reports +inf, the unclamped log's slope; ours is the derivative of the loss actually computed)."""
    p, y = cr.tensor([0.0, 1.0, 0.5]), _leaf(np.array([0.3, 0.6, 0.2]))
    F.binary_cross_entropy(p, y, reduction="sum").backward()
    np.testing.assert_allclose(y.grad.data, [100.0, -100.0, 0.0], atol=1e-12)
    assert cr.gradcheck(lambda t: F.binary_cross_entropy(p.to(cr.float64), t, reduction="sum"), (y,))


def test_binary_cross_entropy_float32_with_float64_weight():
    p, y, w = uniform((3, 4), 0, 0.1, 0.9, np.float32), uniform((3, 4), 1, dtype=np.float32), uniform(4, 2)
    out = assert_parity(lambda a, b: F.binary_cross_entropy(a, b, cr.tensor(w)),
                        lambda a, b: TF.binary_cross_entropy(a, b, torch.tensor(w)), p, y)
    assert out.dtype == np.float32


# ----- binary_cross_entropy_with_logits ------------------------------------------------------------
@pytest.mark.parametrize("reduction", REDUCTIONS)
@SETTINGS
@given(shape=st.sampled_from([(4,), (3, 4), (2, 3, 4)]), weighted=st.booleans(), pos_weight=st.sampled_from([None, "one", "last"]),
       scale=st.sampled_from([1.0, 10.0, 100.0]), seed=SEEDS)
def test_binary_cross_entropy_with_logits_parity(reduction, shape, weighted, pos_weight, scale, seed):
    """Gradients w.r.t. the logits and the targets; pos_weight per class (broadcast along the last dim)."""
    z, y = normal(shape, seed, scale=scale), uniform(shape, seed + 1)
    w, wt = _pair(uniform(shape[-1:], seed + 2, 0.1, 2.0) if weighted else None)
    pshape = {None: None, "one": (1,), "last": shape[-1:]}[pos_weight]
    pw, pwt = _pair(None if pshape is None else uniform(pshape, seed + 3, 0.1, 5.0))
    with np.errstate(over="raise", invalid="raise"):
        out = assert_parity(lambda a, b: F.binary_cross_entropy_with_logits(a, b, w, reduction=reduction, pos_weight=pw),
                            lambda a, b: TF.binary_cross_entropy_with_logits(a, b, wt, reduction=reduction, pos_weight=pwt),
                            z, y)
    assert np.all(np.isfinite(out.data))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_binary_cross_entropy_with_logits_extreme_logits_stay_finite(dtype):
    z = np.array([-1000.0, -100.0, -30.0, -1.0, 0.0, 1.0, 30.0, 100.0, 1000.0], dtype=dtype)
    for y in (np.ones_like(z), np.zeros_like(z), np.full_like(z, 0.5)):
        with np.errstate(over="raise", divide="raise", invalid="raise"):
            out = assert_parity(lambda a, b: F.binary_cross_entropy_with_logits(a, b, reduction="none", pos_weight=cr.tensor([3.0])),
                                lambda a, b: TF.binary_cross_entropy_with_logits(a, b, reduction="none", pos_weight=torch.tensor([3.0])),
                                z, y)
        assert np.all(np.isfinite(out.data)) and out.dtype == dtype


def test_binary_cross_entropy_with_logits_float32_keeps_dtype():
    """pos_weight and weight given in float64 (or as a list) do not promote a float32 loss."""
    z, y = normal((3, 4), 0, np.float32), uniform((3, 4), 1, dtype=np.float32)
    pw, w = uniform(4, 2, 0.5, 3.0), uniform(4, 3)
    out = assert_parity(lambda a, b: F.binary_cross_entropy_with_logits(a, b, cr.tensor(w), pos_weight=cr.tensor(pw)),
                        lambda a, b: TF.binary_cross_entropy_with_logits(a, b, torch.tensor(w), pos_weight=torch.tensor(pw)),
                        z, y)
    assert out.dtype == np.float32
    assert F.binary_cross_entropy_with_logits(cr.tensor(z), cr.tensor(y), pos_weight=pw.tolist()).dtype == np.float32


def test_binary_cross_entropy_with_logits_equals_bce_of_sigmoid():
    z, y = normal((4, 3), 5), uniform((4, 3), 6)
    a = F.binary_cross_entropy_with_logits(cr.tensor(z), cr.tensor(y))
    b = F.binary_cross_entropy(cr.sigmoid(cr.tensor(z)), cr.tensor(y))
    np.testing.assert_allclose(a.data, b.data, rtol=1e-12)


# ----- NaN propagates ------------------------------------------------------------------------------
@BOTH_PATHS
def test_nan_in_logits_propagates():
    """A NaN logit makes its row's loss NaN (and the mean NaN); the other rows are untouched."""
    z = normal((3, 4), 0)
    z[1, 2] = np.nan
    t = np.array([0, 2, 2])  # nll_loss reads only the target's entry: row 1 reads the NaN
    out = assert_parity(lambda x: F.cross_entropy(x, t, reduction="none"),
                        lambda x: TF.cross_entropy(x, torch.tensor(t), reduction="none"), z, grad=False)
    assert np.isnan(out.data[1]) and np.all(np.isfinite(out.data[[0, 2]]))
    q, zeros, ones = probabilities((3, 4), 1), np.zeros((3, 4)), np.ones((3, 4))
    pairs = [
        (lambda x: F.cross_entropy(x, t), lambda x: TF.cross_entropy(x, torch.tensor(t))),
        (lambda x: F.cross_entropy(x, t, label_smoothing=0.1),
         lambda x: TF.cross_entropy(x, torch.tensor(t), label_smoothing=0.1)),
        (lambda x: F.cross_entropy(x, cr.tensor(q)), lambda x: TF.cross_entropy(x, torch.tensor(q))),
        (lambda x: F.nll_loss(x, t), lambda x: TF.nll_loss(x, torch.tensor(t))),
        (lambda x: F.mse_loss(x, cr.tensor(zeros)), lambda x: TF.mse_loss(x, torch.tensor(zeros))),
        (lambda x: F.binary_cross_entropy_with_logits(x, cr.tensor(ones)),
         lambda x: TF.binary_cross_entropy_with_logits(x, torch.tensor(ones))),
    ]
    for ours, theirs in pairs:  # the NaN in the value, and in the gradient exactly where torch has it
        assert np.isnan(assert_parity(ours, theirs, z).data)
    x = _leaf(z)  # l1: torch's gradient at a NaN is 0 (sign(NaN) taken as 0); chainrule's stays NaN, not hidden
    loss = F.l1_loss(x, cr.tensor(zeros))
    loss.backward()
    assert np.isnan(loss.data) and np.isnan(x.grad.data[1, 2]) and np.isfinite(x.grad.data[0]).all()
    p = uniform((3, 4), 1)
    p[0, 0] = np.nan  # torch refuses a NaN probability; chainrule lets it through to the loss
    assert np.isnan(F.binary_cross_entropy(cr.tensor(p), cr.tensor(np.ones((3, 4)))).data)


# ----- finite differences --------------------------------------------------------------------------
@BOTH_PATHS
def test_gradcheck_losses():
    x = _leaf(normal((3, 4, 2), 0, scale=2.0))
    t = np.array([[0, 3], [-100, 1], [2, 2]])
    w = cr.tensor(uniform(4, 1, 0.5, 2.0))
    assert cr.gradcheck(lambda a: F.cross_entropy(a, t, w, label_smoothing=0.2), (x,))
    assert cr.gradcheck(lambda a, q: F.cross_entropy(a, q, w, label_smoothing=0.2, reduction="sum"),
                        (x, _leaf(probabilities((3, 4, 2), 2))))
    assert cr.gradcheck(lambda a: F.nll_loss(a, t, w, reduction="none"), (x,))
    a, b = _leaf(normal((3, 4), 3)), _leaf(normal((3, 4), 4))
    assert cr.gradcheck(lambda u, v: F.l1_loss(u, v), (a, b))
    assert cr.gradcheck(lambda u, v: F.smooth_l1_loss(u, v, beta=0.7, reduction="sum"), (a, b))
    p, y = _leaf(uniform((3, 4), 5, 0.05, 0.95)), _leaf(uniform((3, 4), 6))
    assert cr.gradcheck(lambda u, v: F.binary_cross_entropy(u, v, cr.tensor(uniform(4, 7))), (p, y))
    assert cr.gradcheck(lambda u, v: F.binary_cross_entropy_with_logits(u, v, pos_weight=cr.tensor(uniform(4, 8, 0.5, 3))),
                        (a, y))


@BOTH_PATHS
def test_gradcheck_mlp_with_cross_entropy():
    x, w1, w2 = _leaf(normal((4, 3), 0)), _leaf(normal((5, 3), 1)), _leaf(normal((3, 5), 2))
    y = cr.tensor([0, 2, 1, 2])
    assert cr.gradcheck(lambda a, p, q: F.cross_entropy(F.linear(cr.tanh(F.linear(a, p)), q), y), (x, w1, w2))


@BOTH_PATHS
def test_gradcheck_cross_entropy_unreduced():
    x = _leaf(normal((3, 5), 5, scale=3.0))
    assert cr.gradcheck(
        lambda a: F.cross_entropy(a, [4, 0, 0], reduction="none") * cr.tensor([1.0, 2.0, -1.0], dtype=cr.float64), (x,)
    )


# ----- errors ----------------------------------------------------------------------------------------
def test_cross_entropy_class_out_of_range():
    x = cr.tensor(normal((3, 4), 0), requires_grad=True)
    with pytest.raises(IndexError, match=r"cross_entropy: target class 4 out of range \[0, 4\)"):
        F.cross_entropy(x, cr.tensor([0, 4, 1]))
    with pytest.raises(IndexError, match=r"cross_entropy: target class -1 out of range \[0, 4\)"):
        F.cross_entropy(x, cr.tensor([0, -1, 1]))


def test_cross_entropy_float_targets_are_probabilities():
    """As in torch, a float target is a distribution over classes and must have the input's shape."""
    x = cr.tensor(normal((3, 4), 0))
    with pytest.raises(ValueError, match=r"cross_entropy: probability targets must have the input's shape \(3, 4\), got \(3,\)"):
        F.cross_entropy(x, cr.tensor([0.0, 1.0, 2.0]))
    with pytest.raises(TypeError, match="cross_entropy: class-index targets must be integers, got dtype float64"):
        F.cross_entropy(x, np.array([0.0, 1.0, 2.0]))


def test_cross_entropy_shape_errors_name_shapes():
    x = cr.tensor(normal((3, 4), 0))
    with pytest.raises(ValueError, match=r"cross_entropy: target of shape \(2,\) does not match input of shape \(3, 4\) \(expected \(3,\)\)"):
        F.cross_entropy(x, cr.tensor([0, 1]))
    with pytest.raises(ValueError, match=r"target of shape \(2,\) does not match input of shape \(2, 3, 4\) \(expected \(2, 4\)\)"):
        F.cross_entropy(cr.tensor(normal((2, 3, 4), 0)), cr.tensor([0, 1]))  # (N, C, d) input: target (N, d)
    with pytest.raises(ValueError, match="cross_entropy: reduction must be one of"):
        F.cross_entropy(x, cr.tensor([0, 1, 2]), reduction="avg")


def test_mse_loss_shape_mismatch_names_shapes():
    with pytest.raises(ValueError, match=r"mse_loss: input shape \(3, 4\) and target shape \(4,\) differ"):
        F.mse_loss(cr.tensor(normal((3, 4), 0)), cr.tensor(normal((4,), 1)))
    with pytest.raises(ValueError, match="mse_loss: reduction must be one of"):
        F.mse_loss(cr.tensor(normal((4,), 0)), cr.tensor(normal((4,), 1)), reduction="max")


def test_cross_entropy_class_out_of_range_in_spatial_input_and_with_ignore_index():
    x = cr.tensor(normal((2, 4, 3), 0))
    with pytest.raises(IndexError, match=r"cross_entropy: target class 4 out of range \[0, 4\)"):
        F.cross_entropy(x, np.array([[0, 1, 2], [3, 4, 0]]))
    with pytest.raises(IndexError, match=r"cross_entropy: target class -100 out of range \[0, 4\)"):
        F.cross_entropy(x, np.array([[0, 1, 2], [3, -100, 0]]), ignore_index=255)
    F.cross_entropy(x, np.array([[0, 1, 2], [3, 255, 0]]), ignore_index=255)  # ignored, so not out of range
    with pytest.raises(IndexError, match=r"nll_loss: target class 5 out of range \[0, 4\)"):
        F.nll_loss(x, np.array([[0, 1, 2], [3, 5, 0]]))


def test_cross_entropy_target_dtype_and_shape_errors():
    x = cr.tensor(normal((3, 4), 0))
    with pytest.raises(TypeError, match="cross_entropy: class-index targets must be integers, got dtype bool"):
        F.cross_entropy(x, np.array([True, False, True]))
    with pytest.raises(TypeError, match="nll_loss: class-index targets must be integers, got dtype float32"):
        F.nll_loss(x, cr.tensor([0.0, 1.0, 2.0]))
    with pytest.raises(ValueError, match=r"cross_entropy: target of shape \(3, 1\) does not match input of shape \(3, 4\)"):
        F.cross_entropy(x, np.array([[0], [1], [2]]))
    with pytest.raises(ValueError, match=r"probability targets must have the input's shape \(2, 4, 3\), got \(2, 3, 4\)"):
        F.cross_entropy(cr.tensor(normal((2, 4, 3), 0)), cr.tensor(probabilities((2, 3, 4), 1)))
    with pytest.raises(ValueError, match=r"cross_entropy: expected input of shape \(C,\), \(N, C\) or \(N, C, d1, ...\), got a 0-d"):
        F.cross_entropy(cr.tensor(1.0), 0)
    with pytest.raises(ValueError, match=r"cross_entropy: ignore_index=0 is not supported for probability \(float\) targets"):
        F.cross_entropy(x, cr.tensor(probabilities((3, 4), 1)), ignore_index=0)  # torch: RuntimeError
    with pytest.raises(TypeError, match="cross_entropy: input must be a Tensor of logits, got ndarray"):
        F.cross_entropy(normal((3, 4), 0), [0, 1, 2])


def test_class_weight_and_argument_errors():
    x = cr.tensor(normal((3, 4), 0))
    with pytest.raises(ValueError, match=r"cross_entropy: weight must have shape \(4,\), one per class, got \(3,\)"):
        F.cross_entropy(x, [0, 1, 2], cr.tensor(np.ones(3)))
    with pytest.raises(ValueError, match=r"nll_loss: weight must have shape \(4,\), one per class, got \(1, 4\)"):
        F.nll_loss(x, [0, 1, 2], np.ones((1, 4)))
    for bad in (-0.1, 1.5):
        with pytest.raises(ValueError, match=f"cross_entropy: label_smoothing must be in \\[0, 1\\], got {bad}"):
            F.cross_entropy(x, [0, 1, 2], label_smoothing=bad)


@pytest.mark.parametrize("name", ["cross_entropy", "nll_loss", "l1_loss", "smooth_l1_loss", "binary_cross_entropy",
                                  "binary_cross_entropy_with_logits", "mse_loss"])
def test_bad_reduction(name):
    x, t = cr.tensor(uniform((3, 4), 0)), [0, 1, 2]
    target = t if name in ("cross_entropy", "nll_loss") else cr.tensor(uniform((3, 4), 1))
    with pytest.raises(ValueError, match=f"{name}: reduction must be one of \\('none', 'mean', 'sum'\\), got 'avg'"):
        getattr(F, name)(x, target, reduction="avg")


def test_pointwise_loss_errors_name_shapes():
    a, b = cr.tensor(uniform((3, 4), 0)), cr.tensor(uniform((4, 3), 1))
    for name in ("l1_loss", "smooth_l1_loss", "binary_cross_entropy", "binary_cross_entropy_with_logits"):
        with pytest.raises(ValueError, match=rf"{name}: input shape \(3, 4\) and target shape \(4, 3\) differ"):
            getattr(F, name)(a, b)
    with pytest.raises(ValueError, match="smooth_l1_loss: beta must be non-negative, got -1"):
        F.smooth_l1_loss(a, a, beta=-1)
    with pytest.raises(ValueError, match=r"binary_cross_entropy: weight of shape \(3,\) does not broadcast to input shape \(3, 4\)"):
        F.binary_cross_entropy(a, a, cr.tensor(np.ones(3)))
    with pytest.raises(ValueError, match=r"binary_cross_entropy_with_logits: weight of shape \(2, 4\) does not broadcast"):
        F.binary_cross_entropy_with_logits(a, a, np.ones((2, 4)))
    with pytest.raises(ValueError, match=r"binary_cross_entropy: input must hold probabilities in \[0, 1\], got values in \[-0.5, 1.0\]"):
        F.binary_cross_entropy(cr.tensor([-0.5, 1.0]), cr.tensor([0.0, 1.0]))
    with pytest.raises(TypeError, match="l1_loss: input must be a Tensor, got list"):
        F.l1_loss([1.0], cr.tensor([1.0]))


# ----- dtypes: floating-point logits and probabilities, as torch ---------------------------------------

@pytest.mark.parametrize("name, message", [("cross_entropy", "input (logits)"),
                                           ("nll_loss", "input (log-probabilities)")])
def test_class_losses_refuse_integer_scores_as_torch(name, message):
    x, y = np.array([[1, 2], [3, 4]]), np.array([0, 1])
    with pytest.raises(NotImplementedError, match="not implemented for 'Long'"):
        getattr(TF, name)(torch.tensor(x), torch.tensor(y))
    with pytest.raises(TypeError, match=rf"{name}: needs a floating-point {re.escape(message)}, got int64"):
        getattr(F, name)(cr.tensor(x), cr.tensor(y))


def test_cross_entropy_float_class_labels_get_the_integer_hint():
    """Float labels of shape (N,) are taken for probabilities (torch: 'expected target dtype to be Long');
    the error says that class indices must be integers."""
    with pytest.raises(RuntimeError, match="expected target dtype to be Long"):
        TF.cross_entropy(torch.zeros(2, 3), torch.tensor([1.0, 0.0]))
    with pytest.raises(ValueError, match=r"probability targets must have the input's shape \(2, 3\), got \(2,\) "
                                         r"\(float dtype float32\); class-index targets must be integers "
                                         r"\(e.g. target.long\(\)\)"):
        F.cross_entropy(cr.zeros(2, 3), cr.tensor([1.0, 0.0]))


@pytest.mark.parametrize("name", ["binary_cross_entropy", "binary_cross_entropy_with_logits"])
@pytest.mark.parametrize("what, x, y", [("target", [0.2, 0.7], [1, 0]), ("target", [0.2, 0.7], [True, False]),
                                        ("input", [1, 0], [0.2, 0.7])])
def test_binary_cross_entropy_refuses_integer_and_bool_tensors_as_torch(name, what, x, y):
    with pytest.raises((RuntimeError, NotImplementedError)):
        getattr(TF, name)(torch.tensor(x), torch.tensor(y))
    dtype = np.asarray(x if what == "input" else y).dtype
    dtype = "bool" if dtype == bool else "int64"
    with pytest.raises(TypeError, match=rf"{name}: needs a floating-point {what}, got {dtype}; "
                                        rf"convert with {what}.float\(\)"):
        getattr(F, name)(cr.tensor(x), cr.tensor(y))


@pytest.mark.parametrize("name", ["mse_loss", "l1_loss", "smooth_l1_loss"])
def test_pointwise_loss_integer_input_takes_the_float_target_dtype_as_torch(name):
    """torch promotes an integer input to the target's float dtype; casting the target to the input's
    integer dtype would truncate it to a silently wrong loss."""
    x, y = np.array([1, 0, 1]), np.array([0.3, 0.2, 0.9])
    out = assert_parity(lambda a, b: getattr(F, name)(a, b), lambda a, b: getattr(TF, name)(a, b), x, y)
    assert out.dtype == cr.float64
    with pytest.raises(TypeError, match=rf"{name}: needs a floating-point input or target, got int64 for the target "
                                        "and int64 for the input"):
        getattr(F, name)(cr.tensor(x), cr.tensor(x))


# ----- torch's other losses: huber, kl_div, poisson/gaussian NLL, the margin and embedding losses -------------
REDUCTIONS_ALL = ["none", "mean", "sum"]


def _draw(shape, seed, positive=False, sign=False):
    x = np.random.default_rng(seed).standard_normal(shape)
    return np.abs(x) + 0.1 if positive else np.where(x >= 0, 1.0, -1.0) if sign else x


@pytest.mark.parametrize("reduction", REDUCTIONS_ALL)
@settings(max_examples=10, deadline=None)
@given(shape=hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4), seed=st.integers(0, 2**31),
       delta=st.sampled_from([0.3, 1.0, 2.5]))
@pytest.mark.filterwarnings("ignore:reduction. 'mean' divides")
def test_huber_kl_poisson_softmargin_parity(reduction, shape, seed, delta):
    x, y, p = _draw(shape, seed), _draw(shape, seed + 1), _draw(shape, seed + 2, positive=True)
    assert_parity(lambda a, b: F.huber_loss(a, b, reduction, delta), lambda a, b: TF.huber_loss(a, b, reduction, delta), x, y)
    assert_parity(lambda a, b, w: F.huber_loss(a, b, reduction, weight=w),
                  lambda a, b, w: TF.huber_loss(a, b, reduction, weight=w), x, y, p)
    assert_parity(lambda a, b: F.kl_div(a, b, reduction=reduction), lambda a, b: TF.kl_div(a, b, reduction=reduction), x, p)
    assert_parity(lambda a, b: F.kl_div(a, b, reduction=reduction, log_target=True),
                  lambda a, b: TF.kl_div(a, b, reduction=reduction, log_target=True), x, y)
    for log_input, full in ((True, False), (True, True), (False, False), (False, True)):
        assert_parity(lambda a, b: F.poisson_nll_loss(a, b, log_input, full, reduction=reduction),
                      lambda a, b: TF.poisson_nll_loss(a, b, log_input, full, reduction=reduction),
                      x if log_input else p, 3 * p)
    s = _draw(shape, seed + 3, sign=True)
    assert_parity(lambda a: F.soft_margin_loss(a, cr.tensor(s), reduction=reduction),
                  lambda a: TF.soft_margin_loss(a, torch.tensor(s), reduction=reduction), x)


@pytest.mark.parametrize("log_target", [False, True])
def test_kl_div_batchmean(log_target):
    x, y = np.log(_draw((4, 5), 0, positive=True)), _draw((4, 5), 1, positive=True)
    y = np.log(y) if log_target else y
    for shape in ((4, 5), (5,)):
        assert_parity(lambda a, b: F.kl_div(a, b, reduction="batchmean", log_target=log_target),
                      lambda a, b: TF.kl_div(a, b, reduction="batchmean", log_target=log_target),
                      x.reshape(-1)[:5].reshape(shape) if shape == (5,) else x, y.reshape(-1)[:5] if shape == (5,) else y)


def test_kl_div_zero_target_like_torch():
    """Where the target is 0 the term is 0 (y·log y → 0) and its input gradient 0."""
    assert_parity(lambda a, b: F.kl_div(a, b, reduction="sum"), lambda a, b: TF.kl_div(a, b, reduction="sum"),
                  np.array([-1.0, -2.0]), np.array([0.0, 0.5]), grad=False)
    x = cr.tensor([-1.0, -2.0], requires_grad=True)
    F.kl_div(x, cr.tensor([0.0, 0.5]), reduction="sum").backward()
    np.testing.assert_array_equal(x.grad.data, [0.0, -0.5])


@pytest.mark.parametrize("reduction", REDUCTIONS_ALL)
@pytest.mark.parametrize("full", [False, True])
@pytest.mark.parametrize("var_shape", [(4, 3), (4,), (4, 1), (1, 3)])
def test_gaussian_nll_parity(reduction, full, var_shape):
    x, y = _draw((4, 3), 0), _draw((4, 3), 1)
    v = _draw(var_shape, 2, positive=True)
    v.reshape(-1)[0] = 1e-9  # clamped at eps: the gradient still passes, as torch
    assert_parity(lambda a, b, c: F.gaussian_nll_loss(a, b, c, full, reduction=reduction),
                  lambda a, b, c: TF.gaussian_nll_loss(a, b, c, full, reduction=reduction), x, y, v)
    out = F.gaussian_nll_loss(cr.tensor(x), cr.tensor(y), 0.5, reduction=reduction)
    np.testing.assert_allclose(out.data, TF.gaussian_nll_loss(torch.tensor(x), torch.tensor(y), 0.5, reduction=reduction))


@pytest.mark.parametrize("reduction", REDUCTIONS_ALL)
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_margin_losses_parity(reduction, seed):
    x, y, z = _draw((5, 4), seed), _draw((5, 4), seed + 10), _draw((5, 4), seed + 20)
    t = _draw((5,), seed + 30, sign=True)
    assert_parity(lambda a, b, c: F.margin_ranking_loss(a, b, c, 0.3, reduction=reduction),
                  lambda a, b, c: TF.margin_ranking_loss(a, b, c, 0.3, reduction=reduction), x[:, 0], y[:, 0], t)
    assert_parity(lambda a, c: F.hinge_embedding_loss(a, c, 0.5, reduction=reduction),
                  lambda a, c: TF.hinge_embedding_loss(a, c, 0.5, reduction=reduction), x, _draw((5, 4), seed, sign=True))
    for rows in (slice(None), 0):  # batched (N, D) and unbatched (D,)
        assert_parity(lambda a, b, c: F.cosine_embedding_loss(a, b, c, 0.2, reduction=reduction),
                      lambda a, b, c: TF.cosine_embedding_loss(a, b, c, 0.2, reduction=reduction), x[rows], y[rows], np.asarray(t[rows]))
        for p, swap in ((2, False), (1, True), (3, False), (2, True)):
            assert_parity(lambda a, b, c: F.triplet_margin_loss(a, b, c, 0.8, p, swap=swap, reduction=reduction),
                          lambda a, b, c: TF.triplet_margin_loss(a, b, c, 0.8, p, swap=swap, reduction=reduction),
                          x[rows], y[rows], z[rows])
    labels = (y > 0).astype(np.float64)
    assert_parity(lambda a, b: F.multilabel_soft_margin_loss(a, b, reduction=reduction),
                  lambda a, b: TF.multilabel_soft_margin_loss(a, b, reduction=reduction), 4 * x, labels)
    assert_parity(lambda a, b, w: F.multilabel_soft_margin_loss(a, b, w, reduction=reduction),
                  lambda a, b, w: TF.multilabel_soft_margin_loss(a, b, w, reduction=reduction), x, labels,
                  _draw((4,), seed, positive=True))


def test_new_losses_float32():
    x, y, p = (_draw((3, 4), s).astype(np.float32) for s in (0, 1, 2))
    p = np.abs(p) + np.float32(0.1)
    for ours, theirs, args in (
        (F.huber_loss, TF.huber_loss, (x, y)), (F.kl_div, TF.kl_div, (x, p)),
        (F.poisson_nll_loss, TF.poisson_nll_loss, (x, p)), (F.gaussian_nll_loss, TF.gaussian_nll_loss, (x, y, p)),
        (F.triplet_margin_loss, TF.triplet_margin_loss, (x, y, p)),
        (F.multilabel_soft_margin_loss, TF.multilabel_soft_margin_loss, (x, (y > 0).astype(np.float32))),
    ):
        assert assert_parity(ours, theirs, *args).dtype == np.float32


def test_new_loss_errors():
    x = cr.tensor(np.ones((2, 3)))
    with pytest.raises(ValueError, match="huber_loss: delta must be positive, got 0"):
        F.huber_loss(x, x, delta=0)
    with pytest.raises(ValueError, match=r"huber_loss: weight of shape \(3,\) must have the input's shape \(2, 3\)"):
        F.huber_loss(x, x, weight=cr.ones(3))
    with pytest.raises(ValueError, match="kl_div: reduction must be one of .*'batchmean'.*got 'avg'"):
        F.kl_div(x, x, reduction="avg")
    with pytest.raises(TypeError, match="poisson_nll_loss: needs a floating-point input, got int64"):
        F.poisson_nll_loss(cr.tensor([1, 2]), cr.tensor([1.0, 2.0]))
    with pytest.raises(ValueError, match=r"soft_margin_loss: input shape \(2, 3\) and target shape \(2,\) do not broadcast"):
        F.soft_margin_loss(x, cr.ones(2))
    with pytest.raises(ValueError, match="gaussian_nll_loss: var has negative entries"):
        F.gaussian_nll_loss(x, x, -cr.ones(2, 3))
    with pytest.raises(ValueError, match=r"gaussian_nll_loss: var of shape \(3, 2\) is of incorrect size"):
        F.gaussian_nll_loss(x, x, cr.ones(3, 2))
    with pytest.raises(ValueError, match="margin_ranking_loss: all inputs must have the same number of dims"):
        F.margin_ranking_loss(cr.ones(3), cr.ones(3), cr.ones(1, 3))
    with pytest.raises(ValueError, match="triplet_margin_loss: all inputs must have the same number of dims, got "
                                         "anchor 2-D, positive 2-D, negative 1-D"):
        F.triplet_margin_loss(x, x, cr.ones(3))
    with pytest.raises(ValueError, match=r"cosine_embedding_loss: expected inputs of one shape"):
        F.cosine_embedding_loss(x, x, cr.ones(2, 3))
