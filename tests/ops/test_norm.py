"""chainrule.ops.norm against torch.nn.functional: batch_norm (training with running-statistic updates over
several calls, evaluation with the running statistics), instance_norm (with and without running
statistics), layer_norm (one or several trailing dims, with or without γ and β) and group_norm — outputs
and the gradients of input, weight and bias in float64, float32 dtypes, finite differences, constant
inputs, and error messages that name the shapes; the op's batch statistics (its outputs μ and σ²) and their
gradients against torch.var_mean. Every test runs on the fast kernels and on the reference ops
(``both_paths``); the two against each other: tests/kernels/test_norm.py."""

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import chainrule as cr
import chainrule.nn.functional as F
from chainrule.kernels.norm import ROWS_SPLIT_MIN
from chainrule.ops.norm import _normalize
from tests.parity import assert_parity

pytestmark = pytest.mark.usefixtures("both_paths")

SETTINGS = settings(max_examples=25, deadline=None)
SEEDS = st.integers(0, 2**32 - 1)
TF = torch.nn.functional


def normal(shape, seed, dtype=np.float64, scale=1.0, shift=0.0):
    """Inputs of parity tests are not drawn from seed 0: assert_parity's upstream gradient is the standard normal
    of seed 0, and an x of the same draw would make it proportional to x̂, whose gradient through x is ~0."""
    return np.asarray(np.random.default_rng(seed).standard_normal(shape) * scale + shift, dtype=dtype)


def _leaf(array):
    return cr.tensor(array, requires_grad=True)


def _affine(c, seed, affine, dtype=np.float64):
    """γ, β arrays (leaves for assert_parity) or None."""
    if not affine:
        return None, None
    return normal(c, seed, dtype, 0.5, 1.0), normal(c, seed + 1, dtype)


def _running(c, seed, dtype=np.float64):
    """The same running statistics for both libraries, updated in place by the calls."""
    mean, var = normal(c, seed, dtype), np.random.default_rng(seed).uniform(0.5, 2.0, c).astype(dtype)
    return (cr.tensor(mean), cr.tensor(var)), (torch.tensor(mean), torch.tensor(var))


def _assert_running_equal(ours, theirs, dtype=np.float64):
    rtol = 1e-12 if dtype == np.float64 else 1e-6
    for o, t, name in zip(ours, theirs, ("running_mean", "running_var")):
        assert o.dtype == dtype, name
        np.testing.assert_allclose(o.data, t.numpy(), rtol=rtol, atol=rtol, err_msg=f"{name} differs from torch")


# ----- batch_norm -----------------------------------------------------------------------------------
@SETTINGS
@given(n=st.integers(1, 4), c=st.integers(1, 4), spatial=st.sampled_from([(), (3,), (2, 3)]), affine=st.booleans(),
       momentum=st.sampled_from([0.1, 0.5, 0.0, 1.0]), eps=st.sampled_from([1e-5, 1e-3, 0.5]), seed=SEEDS)
def test_batch_norm_training_parity_with_running_updates(n, c, spatial, affine, momentum, eps, seed):
    """Three training calls on different batches: each output and gradient, and the running statistics
    (biased variance to normalize, unbiased into running_var) after each call, equal torch's."""
    shape = (n, c) + spatial
    if int(np.prod(shape)) // c < 2:
        n, shape = n + 1, (n + 1, c) + spatial
    ours, theirs = _running(c, seed)
    w, b = _affine(c, seed + 1, affine)
    for step in range(3):
        x = normal(shape, seed + 10 + step, scale=2.0, shift=step)
        assert_parity(lambda t, g, h: F.batch_norm(t, *ours, g, h, True, momentum, eps),
                      lambda t, g, h: TF.batch_norm(t, *theirs, g, h, True, momentum, eps), x, w, b, seed=step)
        _assert_running_equal(ours, theirs)


@SETTINGS
@given(n=st.integers(1, 4), c=st.integers(1, 4), spatial=st.sampled_from([(), (3,), (2, 3)]), affine=st.booleans(),
       seed=SEEDS)
def test_batch_norm_eval_uses_running_statistics(n, c, spatial, affine, seed):
    ours, theirs = _running(c, seed)
    w, b = _affine(c, seed + 1, affine)
    x = normal((n, c) + spatial, seed + 2, scale=3.0, shift=1.0)
    assert_parity(lambda t, g, h: F.batch_norm(t, *ours, g, h, False, 0.1, 1e-3),
                  lambda t, g, h: TF.batch_norm(t, *theirs, g, h, False, 0.1, 1e-3), x, w, b)
    _assert_running_equal(ours, theirs)  # untouched in evaluation


def test_batch_norm_without_running_statistics_uses_the_batch():
    """No running statistics: batch statistics in either mode (torch needs training=True for that)."""
    x, (w, b) = normal((5, 3, 2), 9), _affine(3, 1, True)
    for training in (True, False):
        assert_parity(lambda t, g, h, training=training: F.batch_norm(t, None, None, g, h, training),
                      lambda t, g, h: TF.batch_norm(t, None, None, g, h, True), x, w, b)


def test_batch_norm_keyword_defaults_like_torch():
    (rm, rv), (trm, trv) = _running(4, 0)
    x = normal((6, 4), 1)
    assert_parity(lambda t: F.batch_norm(t, rm, rv, training=True), lambda t: TF.batch_norm(t, trm, trv, training=True), x)
    _assert_running_equal((rm, rv), (trm, trv))  # momentum 0.1 by default
    assert_parity(lambda t: F.batch_norm(t, rm, rv), lambda t: TF.batch_norm(t, trm, trv), x)  # training=False default


def test_batch_norm_float32():
    ours, theirs = _running(3, 0, np.float32)
    w, b = _affine(3, 1, True, np.float32)
    for training in (True, False):
        out = assert_parity(lambda t, g, h, training=training: F.batch_norm(t, *ours, g, h, training),
                            lambda t, g, h, training=training: TF.batch_norm(t, *theirs, g, h, training),
                            normal((4, 3, 5), 2, np.float32), w, b)
        assert out.dtype == np.float32
        _assert_running_equal(ours, theirs, np.float32)


# ----- instance_norm ---------------------------------------------------------------------------------
@SETTINGS
@given(n=st.integers(1, 3), c=st.integers(1, 4), spatial=st.sampled_from([(2,), (5,), (2, 3)]), affine=st.booleans(),
       running=st.sampled_from(["none", "update", "use"]), momentum=st.sampled_from([0.1, 0.7]), seed=SEEDS)
def test_instance_norm_parity(n, c, spatial, affine, running, momentum, seed):
    """Per (sample, channel) statistics; with running statistics they average the per-instance ones
    (unbiased variance); use_input_stats=False normalizes with them instead."""
    ours, theirs = _running(c, seed) if running != "none" else ((None, None), (None, None))
    w, b = _affine(c, seed + 1, affine)
    use_input_stats = running != "use"
    for step in range(2):
        x = normal((n, c) + spatial, seed + 2 + step, scale=2.0, shift=step)
        assert_parity(lambda t, g, h: F.instance_norm(t, *ours, g, h, use_input_stats, momentum, 1e-4),
                      lambda t, g, h: TF.instance_norm(t, *theirs, g, h, use_input_stats, momentum, 1e-4), x, w, b)
        if running != "none":
            _assert_running_equal(ours, theirs)


def test_instance_norm_defaults_and_float32():
    x = normal((2, 3, 4, 4), 9, np.float32)
    out = assert_parity(F.instance_norm, TF.instance_norm, x)
    assert out.dtype == np.float32


# ----- layer_norm --------------------------------------------------------------------------------------
@SETTINGS
@given(shape=st.sampled_from([(5,), (3, 4), (2, 3, 4), (2, 3, 2, 2)]), data=st.data(),
       params=st.sampled_from(["both", "weight", "none"]), eps=st.sampled_from([1e-5, 0.1]), seed=SEEDS)
def test_layer_norm_parity(shape, data, params, eps, seed):
    """Over the trailing k dims (all of C, H, W for an image); γ and β of that shape, each optional."""
    k = data.draw(st.integers(1, len(shape)))
    ns = shape[-k:]
    w = normal(ns, seed + 1, scale=0.5, shift=1.0) if params != "none" else None
    b = normal(ns, seed + 2) if params == "both" else None
    x = normal(shape, seed, scale=2.0, shift=3.0)
    assert_parity(lambda t, g, h: F.layer_norm(t, ns, g, h, eps), lambda t, g, h: TF.layer_norm(t, ns, g, h, eps), x, w, b)


def test_layer_norm_int_shape_list_shape_and_float32():
    x = normal((4, 6), 9, np.float32)
    out = assert_parity(lambda t: F.layer_norm(t, 6), lambda t: TF.layer_norm(t, [6]), x)
    assert out.dtype == np.float32
    assert_parity(lambda t: F.layer_norm(t, [4, 6]), lambda t: TF.layer_norm(t, [4, 6]), x)


# ----- group_norm ----------------------------------------------------------------------------------------
@SETTINGS
@given(n=st.integers(1, 3), cg=st.sampled_from([(1, 1), (2, 1), (2, 2), (4, 2), (6, 3), (6, 1), (6, 6)]),
       spatial=st.sampled_from([(), (3,), (2, 3)]), affine=st.booleans(), seed=SEEDS)
def test_group_norm_parity(n, cg, spatial, affine, seed):
    c, groups = cg
    if n * c // groups * int(np.prod(spatial)) == 1:
        n += 1  # torch refuses this one-value case (its batch-size check); chainrule gives β
    w, b = _affine(c, seed + 1, affine)
    x = normal((n, c) + spatial, seed, scale=2.0, shift=-1.0)
    assert_parity(lambda t, g, h: F.group_norm(t, groups, g, h, 1e-4), lambda t, g, h: TF.group_norm(t, groups, g, h, 1e-4),
                  x, w, b)


def test_group_norm_float32_and_extremes_of_groups():
    """One group is LayerNorm over (C, H, W); C groups is InstanceNorm."""
    x = normal((2, 4, 3, 3), 9, np.float32)
    out = assert_parity(lambda t: F.group_norm(t, 2), lambda t: TF.group_norm(t, 2), x)
    assert out.dtype == np.float32
    x64 = cr.tensor(normal((2, 4, 3, 3), 1))
    np.testing.assert_allclose(F.group_norm(x64, 1).data, F.layer_norm(x64, (4, 3, 3)).data, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(F.group_norm(x64, 4).data, F.instance_norm(x64).data, rtol=1e-12, atol=1e-12)


# ----- constant inputs, finite differences -----------------------------------------------------------------
def test_constant_input_gives_zero_not_nan():
    """σ² = 0: x̂ = 0/√ε, the output is β, the gradient finite (as torch)."""
    x = np.full((4, 3, 2), 7.0)
    w, b = _affine(3, 0, True)
    cases = [
        (lambda t, g, h: F.batch_norm(t, None, None, g, h, True), lambda t, g, h: TF.batch_norm(t, None, None, g, h, True)),
        (lambda t, g, h: F.instance_norm(t, weight=g, bias=h), lambda t, g, h: TF.instance_norm(t, weight=g, bias=h)),
        (lambda t, g, h: F.group_norm(t, 3, g, h), lambda t, g, h: TF.group_norm(t, 3, g, h)),
    ]
    for ours, theirs in cases:
        with np.errstate(all="raise"):
            out = assert_parity(ours, theirs, x, w, b)
        np.testing.assert_allclose(out.data, np.broadcast_to(b[:, None], x.shape), atol=1e-12)
    assert_parity(lambda t: F.layer_norm(t, (3, 2)), lambda t: TF.layer_norm(t, (3, 2)), x)


def test_gradcheck():
    x = _leaf(normal((3, 4, 2), 0, scale=2.0))
    g, h = _leaf(normal(4, 1, shift=1.0)), _leaf(normal(4, 2))
    rm, rv = cr.tensor(np.zeros(4)), cr.tensor(np.ones(4))
    assert cr.gradcheck(lambda t, a, c: F.batch_norm(t, None, None, a, c, True), (x, g, h))
    assert cr.gradcheck(lambda t, a, c: F.batch_norm(t, rm, rv, a, c, False), (x, g, h))
    assert cr.gradcheck(lambda t, a, c: F.instance_norm(t, weight=a, bias=c), (x, g, h))
    assert cr.gradcheck(lambda t, a, c: F.group_norm(t, 2, a, c), (x, g, h))
    assert cr.gradcheck(lambda t, a, c: F.layer_norm(t, (2,), a, c), (x, _leaf(normal(2, 3)), _leaf(normal(2, 4))))
    assert cr.gradcheck(lambda t: F.layer_norm(t, (4, 2)), (x,))


# ----- the batch statistics as outputs -----------------------------------------------------------------
@pytest.mark.parametrize("shape, axes, param_shape", [
    ((6, 3), (0,), (1, 3)),                  # BatchNorm1d
    ((4, 3, 5), (0, 2), (1, 3, 1)),          # BatchNorm1d over (N, L)
    ((2, 3, 4, 5), (2, 3), (1, 3, 1, 1)),    # InstanceNorm2d
    ((3, 4, 6), (1, 2), (4, 6)),             # LayerNorm over two dims
    ((5, 8), (1,), (8,)),                    # LayerNorm over one
])
@pytest.mark.parametrize("affine", [True, False])
def test_statistics_outputs_and_their_gradients(shape, axes, param_shape, affine):
    """``_normalize`` returns (y, μ, σ²); μ and σ² depend on x, so a loss that uses them sends their gradients
    into x: y against torch's normalization, μ and σ² against torch.var_mean (biased), the three combined."""
    stat_shape = tuple(1 if i in axes else s for i, s in enumerate(shape))
    w, b = (normal(param_shape, 1, scale=0.5, shift=1.0), normal(param_shape, 2)) if affine else (None, None)
    u, v = normal(stat_shape, 3), normal(stat_shape, 4)

    def ours(t, g, h):
        y, mean, var = _normalize(t, g, h, axes, 1e-5)
        return y + mean * cr.tensor(u) + var * cr.tensor(v)

    def theirs(t, g, h):
        var, mean = torch.var_mean(t, dim=axes, correction=0, keepdim=True)
        y = (t - mean) / torch.sqrt(var + 1e-5)
        y = y if g is None else y * g
        y = y if h is None else y + h
        return y + mean * torch.tensor(u) + var * torch.tensor(v)

    assert_parity(ours, theirs, normal(shape, 9, scale=2.0, shift=1.0), w, b)
    weights = (1.0, 2.0, -3.0)  # of y, μ and σ² in a scalar loss
    assert cr.gradcheck(lambda t: sum(o.sum() * k for o, k in zip(_normalize(t, None, None, axes, 1e-3), weights)),
                        (_leaf(normal(shape, 5)),))


# ----- errors --------------------------------------------------------------------------------------------
def test_batch_norm_errors_name_shapes():
    x = cr.tensor(normal((4, 3), 0))
    with pytest.raises(ValueError, match=r"batch_norm: expected an input of at least 2 dims \(N, C, ...\), got shape \(4,\)"):
        F.batch_norm(cr.tensor(normal(4, 0)), None, None, training=True)
    with pytest.raises(ValueError, match=r"batch_norm: running_mean must have shape \(3,\) for an input with 3 channels, got \(4,\)"):
        F.batch_norm(x, cr.tensor(np.zeros(4)), cr.tensor(np.ones(3)))
    with pytest.raises(ValueError, match=r"batch_norm: weight must have shape \(3,\) for an input with 3 channels, got \(1, 3\)"):
        F.batch_norm(x, None, None, cr.tensor(np.ones((1, 3))), training=True)
    with pytest.raises(ValueError, match=r"batch_norm: expected more than 1 value per channel when training, got input of shape \(1, 3\)"):
        F.batch_norm(cr.tensor(normal((1, 3), 0)), None, None, training=True)


def test_instance_norm_errors_name_shapes():
    with pytest.raises(ValueError, match=r"instance_norm: expected an input of at least 3 dims \(N, C, L...\), got shape \(4, 3\)"):
        F.instance_norm(cr.tensor(normal((4, 3), 0)))
    with pytest.raises(ValueError, match=r"instance_norm: expected more than 1 spatial element per channel, got input of shape \(4, 3, 1\)"):
        F.instance_norm(cr.tensor(normal((4, 3, 1), 0)))
    with pytest.raises(ValueError, match=r"instance_norm: bias must have shape \(3,\) for an input with 3 channels, got \(2,\)"):
        F.instance_norm(cr.tensor(normal((4, 3, 2), 0)), bias=cr.tensor(np.zeros(2)))


def test_layer_and_group_norm_errors_name_shapes():
    x = cr.tensor(normal((2, 3, 4), 0))
    with pytest.raises(ValueError, match=r"layer_norm: normalized_shape \(3,\) does not match the trailing dims of input of shape \(2, 3, 4\)"):
        F.layer_norm(x, 3)
    with pytest.raises(ValueError, match=r"layer_norm: normalized_shape \(1, 2, 3, 4\) does not match"):
        F.layer_norm(x, (1, 2, 3, 4))
    with pytest.raises(ValueError, match=r"layer_norm: weight must have shape \(3, 4\), got \(4,\)"):
        F.layer_norm(x, (3, 4), cr.tensor(np.ones(4)))
    with pytest.raises(ValueError, match=r"group_norm: num_groups=2 must divide the 3 channels of input \(2, 3, 4\)"):
        F.group_norm(x, 2)
    with pytest.raises(ValueError, match=r"group_norm: num_groups=0 must divide"):
        F.group_norm(x, 0)
    with pytest.raises(ValueError, match=r"group_norm: weight must have shape \(3,\) for an input with 3 channels, got \(4,\)"):
        F.group_norm(x, 3, cr.tensor(np.ones(4)))


@pytest.mark.parametrize("shape", [(8, 3, 4, 5), (16, 2, 7), (9, 4, 2, 2), (8, 5)])
@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("affine", [True, False])
def test_batch_norm_with_statistics_written_out_as_rows(shape, training, affine):
    """From N ≥ 8 on, the fast kernel writes the per-channel statistics out over the spatial dims (``_row``) so
    that the elementwise passes broadcast over N only: forward and every gradient, both modes, against torch."""
    c = shape[1]
    assert 8 * c * math.prod(shape[2:]) <= math.prod(shape)  # the written-out path is the one taken
    ours, theirs = _running(c, 3)
    w, b = _affine(c, 4, affine)
    x = normal(shape, 5, scale=2.0, shift=0.5)
    assert_parity(lambda t, g, h: F.batch_norm(t, *ours, g, h, training, 0.1, 1e-5),
                  lambda t, g, h: TF.batch_norm(t, *theirs, g, h, training, 0.1, 1e-5), x, w, b)
    _assert_running_equal(ours, theirs)


@pytest.fixture
def threads(request):
    before = cr.get_num_threads()
    cr.set_num_threads(request.param)
    yield
    cr.set_num_threads(before)


@pytest.mark.parametrize("threads", [1, 2, 3], indirect=True)
@pytest.mark.parametrize("shape", [(16, 8, 24, 24), (11, 4096, 2)])
@pytest.mark.parametrize("affine", [True, False])
@pytest.mark.parametrize("training", [True, False])
def test_batch_norm_split_by_rows_over_threads(threads, shape, affine, training):
    """On the fast path inputs of ≥ ROWS_SPLIT_MIN elements run each pass on row slices, one per thread (training
    and the evaluation's ChannelAffine), the reductions as partial sums (uneven slices when N is not a multiple of
    the threads): output, every gradient and the running statistics as torch's."""
    assert math.prod(shape) >= ROWS_SPLIT_MIN
    c = shape[1]
    ours, theirs = _running(c, 6)
    w, b = _affine(c, 7, affine)
    x = normal(shape, 8, scale=2.0, shift=-1.0)
    assert_parity(lambda t, g, h: F.batch_norm(t, *ours, g, h, training, 0.1, 1e-5),
                  lambda t, g, h: TF.batch_norm(t, *theirs, g, h, training, 0.1, 1e-5), x, w, b)
    _assert_running_equal(ours, theirs)
