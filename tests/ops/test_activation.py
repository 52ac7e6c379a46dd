"""chainrule.ops.activation against torch: relu sigmoid tanh, softmax log_softmax, and the rest of the ReLU
family — leaky_relu, prelu (one slope or one per channel), rrelu (eval: the mean slope; training: random
slopes in [lower, upper], reproducible, the gradient is the slope used), elu, softplus (beta, threshold),
gelu (exact and tanh) — forward and gradients in float64 and float32 over drawn shapes and arguments,
extreme inputs, finite differences and error messages. ReLU, the one activation with a fast kernel
(kernels/activation.py), is checked against torch on both paths (the both_paths fixture)."""

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import chainrule as cr
import chainrule.nn.functional as F
from chainrule.kernels.activation import ZEROS_BLOCK, ReLU, positive_part
from tests.parity import assert_parity

# the both_paths fixture holds one path for the whole test, every example included
SETTINGS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
SEEDS = st.integers(0, 2**32 - 1)
SHAPES = hnp.array_shapes(min_dims=0, max_dims=4, min_side=1, max_side=4)
TF = torch.nn.functional
BOTH_PATHS = pytest.mark.usefixtures("both_paths")


def normal(shape, seed, dtype=np.float64, scale=1.0):
    return np.asarray(np.random.default_rng(seed).standard_normal(shape) * scale, dtype=dtype)


def nonzero(shape, seed, dtype=np.float64, scale=1.0):
    """Normal values pushed away from 0, where the ReLU family has its kink."""
    x = np.random.default_rng(seed).standard_normal(shape)
    return np.asarray(np.where(np.abs(x) < 1e-3, 0.5, x) * scale, dtype=dtype)


def _leaf(array):
    return cr.tensor(array, requires_grad=True)


# ----- relu, sigmoid, tanh ------------------------------------------------------------------------
ELEMENTWISE = {
    "relu": (cr.relu, torch.relu),
    "relu_F": (F.relu, TF.relu),
    "relu_method": (lambda x: x.relu(), lambda x: x.relu()),
    "sigmoid": (cr.sigmoid, torch.sigmoid),
    "sigmoid_F": (F.sigmoid, TF.sigmoid),
    "sigmoid_method": (lambda x: x.sigmoid(), lambda x: x.sigmoid()),
    "tanh": (cr.tanh, torch.tanh),
    "tanh_F": (F.tanh, TF.tanh),
    "tanh_method": (lambda x: x.tanh(), lambda x: x.tanh()),
}


@BOTH_PATHS
@pytest.mark.parametrize("name", sorted(ELEMENTWISE))
@SETTINGS
@given(shape=SHAPES, seed=SEEDS, scale=st.sampled_from([1.0, 10.0]))
def test_elementwise_activation_parity(name, shape, seed, scale):
    ours, theirs = ELEMENTWISE[name]
    assert_parity(ours, theirs, nonzero(shape, seed, scale=scale))


@BOTH_PATHS
@pytest.mark.parametrize("name", sorted(ELEMENTWISE))
def test_elementwise_activation_float32(name):
    ours, theirs = ELEMENTWISE[name]
    out = assert_parity(ours, theirs, nonzero((3, 4, 5), 0, np.float32) * np.float32(3))
    assert out.dtype == np.float32


@BOTH_PATHS
@pytest.mark.parametrize("name", sorted(ELEMENTWISE))
def test_integer_input_dtype_like_torch(name):
    """relu keeps int64; sigmoid and tanh give the default float dtype (float32)."""
    ours, theirs = ELEMENTWISE[name]
    out = assert_parity(ours, theirs, np.array([[-2, 0, 3]]), grad=False)
    assert out.dtype == (np.int64 if name.startswith("relu") else np.float32)


@BOTH_PATHS
def test_relu_derivative_at_zero_is_zero_like_torch():
    """note 000 defines relu'(0) = 0; so does torch."""
    assert_parity(cr.relu, torch.relu, np.array([-1.0, 0.0, 0.0, 2.0]))


@pytest.fixture
def threads(request):
    before = cr.get_num_threads()
    cr.set_num_threads(request.param)
    yield
    cr.set_num_threads(before)


@BOTH_PATHS
@pytest.mark.parametrize("threads", [1, 3], indirect=True)
@pytest.mark.parametrize("n", [1, ZEROS_BLOCK - 1, ZEROS_BLOCK, 2 * ZEROS_BLOCK + 3])
@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.int32])
def test_relu_over_several_zero_blocks(threads, n, dtype):
    """positive_part compares x with a block of zeros at a time, the blocks shared out between threads:
    every block and the partial last one, non-contiguous input, NaN (of either sign) and ±inf kept as
    torch keeps them; the backward's mask and product likewise by blocks."""
    x = np.random.default_rng(n).standard_normal((2, n)) * 5
    if dtype != np.int32:
        x[0, :4] = [np.nan, -np.inf, np.inf, -np.nan][: min(4, n)]
    x = x.astype(dtype).T  # (n, 2), not contiguous
    assert_parity(cr.relu, torch.relu, x, grad=dtype == np.float64)
    assert positive_part(x.copy()).dtype == dtype


def test_fast_relu_saves_nothing_without_a_graph():
    """A node that will not be recorded (no_grad, or no input needing a gradient) skips the backward's mask."""
    x = np.random.default_rng(0).standard_normal((2, 3, 4, 4))
    node = ReLU()
    node.forward(x)
    assert "mask" not in vars(node)
    node.needs = (True,)
    node.forward(x)
    assert "mask" in vars(node)


@BOTH_PATHS
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_extreme_inputs_stay_finite(dtype):
    """sigmoid and tanh saturate without overflow warnings or NaN at ±100 and beyond; relu(−inf) is 0."""
    x = np.array([-1000.0, -100.0, -30.0, 30.0, 100.0, 1000.0], dtype=dtype)
    for ours, theirs in [(cr.sigmoid, torch.sigmoid), (cr.tanh, torch.tanh), (cr.relu, torch.relu)]:
        with np.errstate(over="raise", divide="raise", invalid="raise"):
            out = assert_parity(ours, theirs, x)
        assert np.all(np.isfinite(out.data))
    assert_parity(cr.relu, torch.relu, np.array([-np.inf, -1.0, 2.0, np.inf], dtype=dtype), grad=False)
    t = cr.tensor(x, requires_grad=True)
    cr.sigmoid(t).sum().backward()
    assert np.all(np.isfinite(t.grad.data))



# ----- softmax, log_softmax -----------------------------------------------------------------------
SOFTMAXES = {
    "softmax": (cr.softmax, torch.softmax),
    "log_softmax": (cr.log_softmax, torch.log_softmax),
    "softmax_F": (F.softmax, TF.softmax),
    "log_softmax_F": (F.log_softmax, TF.log_softmax),
    "softmax_method": (lambda x, d: x.softmax(d), lambda x, d: x.softmax(d)),
    "log_softmax_method": (lambda x, d: x.log_softmax(d), lambda x, d: x.log_softmax(d)),
}


@pytest.mark.parametrize("name", sorted(SOFTMAXES))
@SETTINGS
@given(shape=SHAPES, data=st.data(), seed=SEEDS, scale=st.sampled_from([1.0, 30.0]))
def test_softmax_parity(name, shape, data, seed, scale):
    span = max(len(shape), 1)
    dim = data.draw(st.integers(-span, span - 1))
    ours, theirs = SOFTMAXES[name]
    assert_parity(lambda x: ours(x, dim), lambda x: theirs(x, dim), normal(shape, seed, scale=scale))


@pytest.mark.parametrize("name", sorted(SOFTMAXES))
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_softmax_large_logits_and_float32(name, dtype):
    ours, theirs = SOFTMAXES[name]
    x = np.array([[1000.0, 0.0, -1000.0], [500.0, 500.0, 499.0]], dtype=dtype)
    for dim in (0, 1, -1):
        with np.errstate(over="raise", invalid="raise"):
            out = assert_parity(lambda t, d=dim: ours(t, d), lambda t, d=dim: theirs(t, d), x)
        assert out.dtype == dtype
        assert np.all(np.isfinite(out.data))


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
@pytest.mark.parametrize("data, dtype", [([1, 2, 3], "int64"), ([True, False], "bool")])
def test_softmax_refuses_integer_and_bool_tensors_as_torch(name, data, dtype):
    with pytest.raises(NotImplementedError, match="not implemented for"):
        getattr(torch, name)(torch.tensor(data), 0)
    with pytest.raises(TypeError, match=rf"{name}: needs a floating-point input, got {dtype}; convert with .float\(\)"):
        getattr(cr, name)(cr.tensor(data), 0)
    with pytest.raises(TypeError, match=rf"{name}: needs a floating-point input"):
        getattr(cr.tensor(data), name)(0)


def test_softmax_dim_errors():
    x = cr.tensor(normal((2, 3), 0))
    with pytest.raises(IndexError, match=r"softmax: dim 2 out of range for a tensor with 2 dims of shape \(2, 3\)"):
        cr.softmax(x, 2)
    with pytest.raises(
        IndexError, match=r"log_softmax: dim -3 out of range for a tensor with 2 dims of shape \(2, 3\)"
    ):
        cr.log_softmax(x, -3)
    with pytest.raises(TypeError, match="softmax: dim must be an int, got None"):
        cr.softmax(x, None)


# ----- leaky_relu, elu, softplus, gelu, rrelu in evaluation -------------------------------------------
# (ours, torch's, strategy of keyword arguments)
RELU_FAMILY = {
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


@pytest.mark.parametrize("name", sorted(RELU_FAMILY))
@SETTINGS
@given(shape=SHAPES, seed=SEEDS, scale=st.sampled_from([1.0, 10.0]), data=st.data())
def test_relu_family_parity(name, shape, seed, scale, data):
    ours, theirs, kwargs_strategy = RELU_FAMILY[name]
    kwargs = data.draw(kwargs_strategy)
    if name == "rrelu_eval" and kwargs["lower"] > kwargs["upper"]:
        kwargs["lower"], kwargs["upper"] = kwargs["upper"], kwargs["lower"]
    assert_parity(lambda x: ours(x, **kwargs), lambda x: theirs(x, **kwargs), nonzero(shape, seed, scale=scale))


@pytest.mark.parametrize("name", sorted(RELU_FAMILY))
def test_relu_family_float32(name):
    ours, theirs, _ = RELU_FAMILY[name]
    out = assert_parity(ours, theirs, nonzero((3, 4, 5), 1, np.float32, scale=3.0))
    assert out.dtype == np.float32


def test_relu_family_positional_arguments_and_defaults():
    x = nonzero((4, 5), 2, scale=4.0)
    assert_parity(lambda t: F.leaky_relu(t, 0.3), lambda t: TF.leaky_relu(t, 0.3), x)
    assert_parity(lambda t: F.elu(t, 0.7), lambda t: TF.elu(t, 0.7), x)
    assert_parity(lambda t: F.softplus(t, 2.0, 3.0), lambda t: TF.softplus(t, 2.0, 3.0), x)
    assert_parity(lambda t: F.rrelu(t, 0.1, 0.2), lambda t: TF.rrelu(t, 0.1, 0.2), x)
    for ours, theirs, _ in RELU_FAMILY.values():  # the defaults are torch's
        assert_parity(ours, theirs, x)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_relu_family_extreme_inputs_stay_finite(dtype):
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


def test_relu_family_integer_input_gives_default_float():
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
def test_gradcheck_relu_family(fn):
    assert cr.gradcheck(fn, (_leaf(nonzero((3, 5), 21, scale=2.0)),))


def test_gradcheck_rrelu_training_with_a_fixed_generator():
    """The slopes are redrawn per call; a fresh generator with the same seed makes them the same draw."""
    assert cr.gradcheck(lambda t: F.rrelu(t, 0.1, 0.3, True, cr.Generator(4)), (_leaf(nonzero((3, 5), 22)),))


@BOTH_PATHS
def test_gradcheck_activations_and_mse():
    x, t = _leaf(nonzero((3, 4), 3)), _leaf(normal((3, 4), 4))
    assert cr.gradcheck(
        lambda a, b: F.mse_loss(cr.sigmoid(a) * cr.relu(a) + cr.softmax(a, 1) - cr.log_softmax(a, 0), b.tanh(), reduction="sum"),
        (x, t),
    )



# ----- the pointwise family added for torch's API: silu … hardshrink, softmin, glu ----------------------------
POINTWISE = {
    "silu": (F.silu, TF.silu), "selu": (F.selu, TF.selu), "celu": (F.celu, TF.celu),
    # α = 0.5: torch's celu rounds α to float32 (0.6 → 0.6000000238), which moves e^(x/α) by ~1e-7 relative
    "celu_alpha": (lambda x: F.celu(x, 0.5), lambda x: TF.celu(x, 0.5)),
    "relu6": (F.relu6, TF.relu6), "hardtanh": (F.hardtanh, TF.hardtanh),
    "hardtanh_bounds": (lambda x: F.hardtanh(x, -0.5, 2.0), lambda x: TF.hardtanh(x, -0.5, 2.0)),
    "hardsigmoid": (F.hardsigmoid, TF.hardsigmoid), "hardswish": (F.hardswish, TF.hardswish),
    "mish": (F.mish, TF.mish), "softsign": (F.softsign, TF.softsign), "logsigmoid": (F.logsigmoid, TF.logsigmoid),
    "threshold": (lambda x: F.threshold(x, 0.5, -3.0), lambda x: TF.threshold(x, 0.5, -3.0)),
    "tanhshrink": (F.tanhshrink, TF.tanhshrink),
    "softshrink": (lambda x: F.softshrink(x, 0.7), lambda x: TF.softshrink(x, 0.7)),
    "hardshrink": (F.hardshrink, TF.hardshrink), "hardshrink_method": (lambda x: x.hardshrink(0.3), lambda x: x.hardshrink(0.3)),
    "cr.selu": (cr.selu, torch.selu), "cr.celu": (cr.celu, torch.celu), "cr.hardshrink": (cr.hardshrink, torch.hardshrink),
    "cr.threshold": (lambda x: cr.threshold(x, 0.1, 2.0), lambda x: torch.threshold(x, 0.1, 2.0)),
}


@pytest.mark.parametrize("name", sorted(POINTWISE))
@settings(max_examples=15, deadline=None)
@given(shape=SHAPES, seed=SEEDS, scale=st.sampled_from([1.0, 5.0, 40.0]))
def test_pointwise_activation_parity(name, shape, seed, scale):
    ours, theirs = POINTWISE[name]
    assert_parity(ours, theirs, nonzero(shape, seed, scale=scale))


@pytest.mark.parametrize("name", sorted(POINTWISE))
def test_pointwise_activation_kinks_like_torch(name):
    """At the kinks (±3, ±1, 0, 6, the thresholds) the one-sided derivative torch picks."""
    ours, theirs = POINTWISE[name]
    kinks = np.array([-6.0, -3.0, -1.0, -0.7, -0.5, -0.3, 0.0, 0.1, 0.3, 0.5, 0.7, 1.0, 2.0, 3.0, 6.0])
    assert_parity(ours, theirs, kinks)


@pytest.mark.parametrize("name", sorted(POINTWISE))
def test_pointwise_activation_float32(name):
    ours, theirs = POINTWISE[name]
    out = assert_parity(ours, theirs, nonzero((3, 4, 5), 1, np.float32, 3.0))
    assert out.dtype == np.float32


def test_pointwise_integer_inputs_like_torch():
    """relu6/hardtanh/threshold keep integers; softsign/tanhshrink give float32; the rest refuse them."""
    x = np.array([-4, -1, 0, 2, 7])
    for ours, theirs in (POINTWISE["relu6"], POINTWISE["hardtanh"], POINTWISE["threshold"],
                         POINTWISE["softsign"], POINTWISE["tanhshrink"]):
        out = assert_parity(ours, theirs, x, grad=False)
        assert out.dtype == theirs(torch.tensor(x)).numpy().dtype
    for name in ("silu", "selu", "celu", "hardsigmoid", "hardswish", "mish", "logsigmoid", "softshrink", "hardshrink"):
        with pytest.raises(TypeError, match=f"{name}: needs a floating-point input, got int64"):
            getattr(F, name)(cr.tensor(x))


def test_pointwise_errors():
    x = cr.tensor([1.0, 2.0])
    with pytest.raises(ValueError, match=r"hardtanh: max_val \(0\) must be greater than or equal to min_val \(1\)"):
        F.hardtanh(x, 1, 0)
    with pytest.raises(ValueError, match="softshrink: lambd must be non-negative, got -1"):
        F.softshrink(x, -1)
    with pytest.raises(ValueError, match="celu: alpha cannot be 0"):
        F.celu(x, 0.0)


@pytest.mark.parametrize("dim", [0, 1, -1])
def test_softmin_parity(dim):
    assert_parity(lambda x: F.softmin(x, dim), lambda x: TF.softmin(x, dim), normal((3, 4), dim + 5))
    out = F.softmin(cr.tensor(normal((2, 3), 0)), dim, dtype=cr.float32)
    assert out.dtype == np.float32


@pytest.mark.parametrize("shape, dim", [((4,), 0), ((3, 6), 1), ((2, 4, 3), 1), ((2, 3, 4), -1), ((6, 2), 0)])
def test_glu_parity(shape, dim):
    assert_parity(lambda x: F.glu(x, dim), lambda x: TF.glu(x, dim), normal(shape, 3, scale=3.0))


def test_glu_errors():
    with pytest.raises(ValueError, match=r"glu: halving dimension must be even, but dimension -1 of input \(2, 3\) is size 3"):
        F.glu(cr.tensor(np.ones((2, 3))))
    with pytest.raises(ValueError, match="glu: a 0-d input cannot be halved"):
        F.glu(cr.tensor(1.0))
    with pytest.raises(IndexError, match="glu: dim 2 out of range"):
        F.glu(cr.tensor(np.ones((2, 4))), 2)


@pytest.mark.parametrize("approximate", ["none", "tanh"])
def test_gelu_extreme_and_vectorized(approximate):
    """The exact GELU on a vectorized erf: large and tiny inputs, float64 to torch's precision."""
    x = np.concatenate([np.linspace(-40, 40, 81), np.array([-1e-8, 0.0, 1e-8])])
    assert_parity(lambda t: F.gelu(t, approximate), lambda t: TF.gelu(t, approximate=approximate), x)
