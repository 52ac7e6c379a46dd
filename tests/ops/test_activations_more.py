"""chainrule.ops.activation beyond relu/sigmoid/tanh/softmax: leaky_relu, prelu (one slope or one per
channel), rrelu (eval: the mean slope; training: random slopes in [lower, upper], reproducible, the
gradient is the slope used), elu, softplus (beta, threshold), gelu (exact and tanh) — parity with torch
in float64 over drawn shapes and arguments, float32 dtypes, finite differences, extremes, errors."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import chainrule as cr
import chainrule.nn.functional as F
from tests.parity import assert_parity

SETTINGS = settings(max_examples=25, deadline=None)
SEEDS = st.integers(0, 2**32 - 1)
SHAPES = hnp.array_shapes(min_dims=0, max_dims=4, min_side=1, max_side=4)
TF = torch.nn.functional


def nonzero(shape, seed, dtype=np.float64, scale=1.0):
    """Normal values pushed away from 0, where the ReLU family has its kink."""
    x = np.random.default_rng(seed).standard_normal(shape)
    return np.asarray(np.where(np.abs(x) < 1e-3, 0.5, x) * scale, dtype=dtype)


def _leaf(array):
    return cr.tensor(array, requires_grad=True)


# (ours, torch's, strategy of keyword arguments)
ELEMENTWISE = {
    "leaky_relu": (F.leaky_relu, TF.leaky_relu,
                   st.fixed_dictionaries({"negative_slope": st.sampled_from([0.0, 0.01, 0.2, 1.0, 1.5, -0.3])})),
    "elu": (F.elu, TF.elu, st.fixed_dictionaries({"alpha": st.sampled_from([1.0, 0.5, 2.0, 0.0])})),
    "softplus": (F.softplus, TF.softplus,
                 st.fixed_dictionaries({"beta": st.sampled_from([1.0, 0.5, 2.0, 3.0]),
                                        "threshold": st.sampled_from([20.0, 5.0, 1.0, 0.0])})),
    "gelu": (F.gelu, TF.gelu, st.fixed_dictionaries({"approximate": st.sampled_from(["none", "tanh"])})),
    "gelu_tanh": (lambda x: F.gelu(x, "tanh"), lambda x: TF.gelu(x, approximate="tanh"), st.just({})),
    "rrelu_eval": (F.rrelu, TF.rrelu,
                   st.fixed_dictionaries({"lower": st.sampled_from([1 / 8, 0.0, 0.3]),
                                          "upper": st.sampled_from([1 / 3, 0.5, 0.3])})),
}


@pytest.mark.parametrize("name", sorted(ELEMENTWISE))
@SETTINGS
@given(shape=SHAPES, seed=SEEDS, scale=st.sampled_from([1.0, 10.0]), data=st.data())
def test_elementwise_parity(name, shape, seed, scale, data):
    ours, theirs, kwargs_strategy = ELEMENTWISE[name]
    kwargs = data.draw(kwargs_strategy)
    if name == "rrelu_eval" and kwargs["lower"] > kwargs["upper"]:
        kwargs["lower"], kwargs["upper"] = kwargs["upper"], kwargs["lower"]
    assert_parity(lambda x: ours(x, **kwargs), lambda x: theirs(x, **kwargs), nonzero(shape, seed, scale=scale))


@pytest.mark.parametrize("name", sorted(ELEMENTWISE))
def test_elementwise_float32(name):
    ours, theirs, _ = ELEMENTWISE[name]
    out = assert_parity(ours, theirs, nonzero((3, 4, 5), 1, np.float32, scale=3.0))
    assert out.dtype == np.float32


def test_elementwise_positional_arguments_and_defaults():
    x = nonzero((4, 5), 2, scale=4.0)
    assert_parity(lambda t: F.leaky_relu(t, 0.3), lambda t: TF.leaky_relu(t, 0.3), x)
    assert_parity(lambda t: F.elu(t, 0.7), lambda t: TF.elu(t, 0.7), x)
    assert_parity(lambda t: F.softplus(t, 2.0, 3.0), lambda t: TF.softplus(t, 2.0, 3.0), x)
    assert_parity(lambda t: F.rrelu(t, 0.1, 0.2), lambda t: TF.rrelu(t, 0.1, 0.2), x)
    for ours, theirs, _ in ELEMENTWISE.values():  # the defaults are torch's
        assert_parity(ours, theirs, x)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_extreme_inputs_stay_finite(dtype):
    """No overflow or NaN at ±1000 (softplus, elu and gelu each saturate to a line or a constant)."""
    x = np.array([-1000.0, -100.0, -40.0, -1.0, 1.0, 40.0, 100.0, 1000.0], dtype=dtype)
    cases = [(F.softplus, TF.softplus), (F.elu, TF.elu), (F.leaky_relu, TF.leaky_relu),
             (lambda t: F.gelu(t, "tanh"), lambda t: TF.gelu(t, approximate="tanh")), (F.gelu, TF.gelu),
             (lambda t: F.softplus(t, 2.0, 1.0), lambda t: TF.softplus(t, 2.0, 1.0))]
    for ours, theirs in cases:
        with np.errstate(over="raise", invalid="raise"):
            out = assert_parity(ours, theirs, x)
        assert np.all(np.isfinite(out.data))
    assert_parity(F.leaky_relu, TF.leaky_relu, np.array([-np.inf, -1.0, 2.0, np.inf], dtype=dtype), grad=False)
    assert_parity(F.elu, TF.elu, np.array([-np.inf, -1.0, 2.0, np.inf], dtype=dtype), grad=False)


def test_softplus_threshold_switches_to_identity_like_torch():
    """Where beta·x > threshold the output is x itself and the derivative exactly 1."""
    x = np.array([-3.0, 0.9, 1.1, 2.6, 10.0])
    for beta, threshold in [(1.0, 1.0), (2.0, 5.0), (0.5, 0.5)]:
        out = assert_parity(lambda t, b=beta, th=threshold: F.softplus(t, b, th),
                            lambda t, b=beta, th=threshold: TF.softplus(t, b, th), x)
        linear = beta * x > threshold
        np.testing.assert_array_equal(out.data[linear], x[linear])


def test_integer_input_gives_default_float():
    for fn in (F.leaky_relu, F.elu, F.softplus, F.gelu, F.rrelu):
        out = fn(cr.tensor([[-2, 0, 3]]))
        assert out.dtype == np.float32


# ----- prelu ------------------------------------------------------------------------------------------
@SETTINGS
@given(shape=hnp.array_shapes(min_dims=2, max_dims=4, min_side=1, max_side=4), per_channel=st.booleans(), seed=SEEDS)
def test_prelu_parity(shape, per_channel, seed):
    """Input and slope gradients; one slope, or one per channel (dim 1)."""
    n = shape[1] if per_channel else 1
    slope = np.random.default_rng(seed + 1).uniform(-0.5, 1.5, n)
    assert_parity(F.prelu, TF.prelu, nonzero(shape, seed, scale=3.0), slope)


@pytest.mark.parametrize("shape", [(), (1,), (5,)])
def test_prelu_single_slope_low_dims(shape):
    """0-D and 1-D inputs with one slope: shapes as torch's (a 0-D input stays 0-D)."""
    out = assert_parity(F.prelu, TF.prelu, nonzero(shape, 3, scale=2.0), np.array([0.3]))
    assert out.shape == shape


def test_prelu_per_channel_on_1d_input_is_unbatched():
    """chainrule reads a 1-D input as one unbatched sample (C,), so per-channel slopes apply along dim 0;
    torch refuses it (it sees one channel). The result equals torch's on the batched (1, C) input."""
    x, a = nonzero((4,), 5, scale=2.0), np.array([0.1, 0.2, -0.3, 0.4])
    assert_parity(F.prelu, lambda t, w: TF.prelu(t[None], w)[0], x, a)


@pytest.mark.parametrize("shape", [(3, 4), (2, 4, 5), (2, 4, 3, 3)])
def test_prelu_float32_and_gradcheck(shape):
    slope = np.linspace(-0.2, 0.8, shape[1])
    out = assert_parity(F.prelu, TF.prelu, nonzero(shape, 7, np.float32, 2.0), slope.astype(np.float32))
    assert out.dtype == np.float32
    assert cr.gradcheck(F.prelu, (_leaf(nonzero(shape, 8)), _leaf(slope)))
    assert cr.gradcheck(F.prelu, (_leaf(nonzero(shape, 9)), _leaf(np.array([0.25]))))


def test_prelu_bad_weight_names_shapes():
    x = cr.tensor(nonzero((2, 3, 4), 0))
    with pytest.raises(ValueError, match=r"prelu: weight must have 1 or 3 elements .*\(2, 3, 4\).*got shape \(4,\)"):
        F.prelu(x, cr.tensor(np.ones(4)))
    with pytest.raises(ValueError, match=r"prelu: weight must have 1 or 3 elements .*got shape \(1, 3\)"):
        F.prelu(x, cr.tensor(np.ones((1, 3))))


# ----- rrelu in training -------------------------------------------------------------------------------
def test_rrelu_training_slopes_in_range_and_gradient_is_the_slope():
    lower, upper = 0.1, 0.4
    x = _leaf(nonzero((200, 50), 11, scale=2.0))
    cr.manual_seed(0)
    out = F.rrelu(x, lower, upper, training=True)
    neg = x.data < 0
    slopes = out.data[neg] / x.data[neg]
    assert np.all((slopes >= lower) & (slopes <= upper))
    np.testing.assert_array_equal(out.data[~neg], x.data[~neg])  # positives untouched
    # U(lower, upper): the whole range is used, the mean is the midpoint, the std (upper − lower)/√12
    assert slopes.min() < lower + 0.01 and slopes.max() > upper - 0.01
    assert abs(slopes.mean() - (lower + upper) / 2) < 0.005
    assert abs(slopes.std() - (upper - lower) / np.sqrt(12)) < 0.005
    assert len(np.unique(slopes)) > 0.99 * slopes.size  # one slope per element, not one per tensor
    out.sum().backward()
    np.testing.assert_allclose(x.grad.data[neg], slopes, rtol=1e-12)
    np.testing.assert_array_equal(x.grad.data[~neg], 1.0)


def test_rrelu_training_reproducible_under_manual_seed():
    x = cr.tensor(nonzero((30, 7), 12))
    cr.manual_seed(123)
    a = F.rrelu(x, training=True).data
    b = F.rrelu(x, training=True).data
    cr.manual_seed(123)
    np.testing.assert_array_equal(F.rrelu(x, training=True).data, a)
    np.testing.assert_array_equal(F.rrelu(x, training=True).data, b)
    assert not np.array_equal(a, b)
    gen = cr.Generator(5)
    c = F.rrelu(x, training=True, generator=gen).data
    np.testing.assert_array_equal(F.rrelu(x, training=True, generator=cr.Generator(5)).data, c)


def test_rrelu_training_float32_and_equal_bounds():
    """lower == upper: training is deterministic and equals torch's leaky_relu with that slope."""
    x = nonzero((4, 6), 13, np.float32)
    out = assert_parity(lambda t: F.rrelu(t, 0.2, 0.2, training=True), lambda t: TF.leaky_relu(t, 0.2), x)
    assert out.dtype == np.float32


def test_rrelu_training_matches_torch_in_distribution():
    """torch's training-mode rrelu draws the same U(lower, upper) slopes: compare the moments."""
    x = -np.ones(200_000)
    cr.manual_seed(1)
    torch.manual_seed(1)
    ours = F.rrelu(cr.tensor(x), 0.05, 0.45, training=True).data
    theirs = TF.rrelu(torch.tensor(x), 0.05, 0.45, training=True).numpy()
    assert abs(ours.mean() - theirs.mean()) < 0.002
    assert abs(ours.std() - theirs.std()) < 0.002


def test_rrelu_bad_bounds():
    with pytest.raises(ValueError, match="rrelu: expected 0 <= lower <= upper, got lower=0.5, upper=0.1"):
        F.rrelu(cr.tensor([1.0]), 0.5, 0.1)
    with pytest.raises(ValueError, match="rrelu: expected 0 <= lower <= upper"):
        F.rrelu(cr.tensor([1.0]), -0.1, 0.1, training=True)


def test_gelu_bad_approximate():
    with pytest.raises(ValueError, match="gelu: approximate must be 'none' or 'tanh', got 'erf'"):
        F.gelu(cr.tensor([1.0]), "erf")


# ----- finite differences -------------------------------------------------------------------------------
@pytest.mark.parametrize("fn", [
    lambda t: F.leaky_relu(t, 0.2), lambda t: F.elu(t, 1.3), lambda t: F.softplus(t),
    lambda t: F.softplus(t, 2.0, 3.0), lambda t: F.gelu(t), lambda t: F.gelu(t, "tanh"),
    lambda t: F.rrelu(t, 0.1, 0.3),
], ids=["leaky_relu", "elu", "softplus", "softplus_beta_threshold", "gelu", "gelu_tanh", "rrelu_eval"])
def test_gradcheck(fn):
    assert cr.gradcheck(fn, (_leaf(nonzero((3, 5), 21, scale=2.0)),))


def test_gradcheck_rrelu_training_with_a_fixed_generator():
    """The slopes are redrawn per call; a fresh generator with the same seed makes them the same draw."""
    assert cr.gradcheck(lambda t: F.rrelu(t, 0.1, 0.3, True, cr.Generator(4)), (_leaf(nonzero((3, 5), 22)),))
