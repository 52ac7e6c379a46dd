"""chainrule.ops.activation and chainrule.ops.loss against torch: relu sigmoid tanh softmax log_softmax,
cross_entropy (class-index targets) and mse_loss — forward and gradients in float64 and float32, extreme
inputs, finite differences and error messages."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import chainrule as cr
import chainrule.nn.functional as F
from chainrule.kernels.activation import ZEROS_BLOCK, ReLU, positive_part
from chainrule.ops.pool import MaxPool2d
from tests.parity import assert_parity

SETTINGS = settings(max_examples=25, deadline=None)
SEEDS = st.integers(0, 2**32 - 1)
SHAPES = hnp.array_shapes(min_dims=0, max_dims=4, min_side=1, max_side=4)
TF = torch.nn.functional


def normal(shape, seed, dtype=np.float64, scale=1.0):
    return np.asarray(np.random.default_rng(seed).standard_normal(shape) * scale, dtype=dtype)


def nonzero(shape, seed, dtype=np.float64):
    """Normal values pushed away from 0, where relu has its kink."""
    x = np.random.default_rng(seed).standard_normal(shape)
    return np.asarray(np.where(np.abs(x) < 1e-3, 0.5, x), dtype=dtype)


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


@pytest.mark.parametrize("name", sorted(ELEMENTWISE))
@SETTINGS
@given(shape=SHAPES, seed=SEEDS, scale=st.sampled_from([1.0, 10.0]))
def test_elementwise_activation_parity(name, shape, seed, scale):
    ours, theirs = ELEMENTWISE[name]
    assert_parity(ours, theirs, np.asarray(nonzero(shape, seed) * scale))


@pytest.mark.parametrize("name", sorted(ELEMENTWISE))
def test_elementwise_activation_float32(name):
    ours, theirs = ELEMENTWISE[name]
    out = assert_parity(ours, theirs, nonzero((3, 4, 5), 0, np.float32) * np.float32(3))
    assert out.dtype == np.float32


@pytest.mark.parametrize("name", sorted(ELEMENTWISE))
def test_integer_input_dtype_like_torch(name):
    """relu keeps int64; sigmoid and tanh give the default float dtype (float32)."""
    ours, theirs = ELEMENTWISE[name]
    out = assert_parity(ours, theirs, np.array([[-2, 0, 3]]), grad=False)
    assert out.dtype == (np.int64 if name.startswith("relu") else np.float32)


def test_relu_derivative_at_zero_is_zero_like_torch():
    """note 000 defines relu'(0) = 0; so does torch."""
    assert_parity(cr.relu, torch.relu, np.array([-1.0, 0.0, 0.0, 2.0]))


@pytest.fixture
def threads(request):
    before = cr.get_num_threads()
    cr.set_num_threads(request.param)
    yield
    cr.set_num_threads(before)


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


def test_relu_and_max_pool_save_nothing_without_a_graph():
    """A node that will not be recorded (no_grad, or no input needing a gradient) skips the backward's
    mask and argmax; max_pool2d's return_indices still gets its positions."""
    x = np.random.default_rng(0).standard_normal((2, 3, 4, 4))
    pool_args = ((2, 2), (2, 2), (1, 1), (2, 2), (0, 0, 0, 0))
    for node, args, saved in ((ReLU(), (), "mask"), (MaxPool2d(), pool_args, "arg")):
        node.forward(x, *args)
        assert saved not in vars(node)
        node.needs = (True,)
        node.forward(x, *args)
        assert saved in vars(node)
    with cr.no_grad():
        _, idx = F.max_pool2d(cr.tensor(x), 2, return_indices=True)
    np.testing.assert_array_equal(idx.data, TF.max_pool2d(torch.tensor(x), 2, return_indices=True)[1].numpy())


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


# ----- cross_entropy ------------------------------------------------------------------------------
REDUCTIONS = ["none", "mean", "sum"]


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


def test_cross_entropy_after_a_computation():
    x, w = normal((4, 3), 0), normal((5, 3), 1)
    y = np.array([4, 0, 2, 2])
    assert_parity(lambda a, b, t: F.cross_entropy(a @ b.T, t), lambda a, b, t: TF.cross_entropy(a @ b.T, t), x, w, y)


# ----- mse_loss -----------------------------------------------------------------------------------
@pytest.mark.parametrize("reduction", REDUCTIONS)
@SETTINGS
@given(shape=SHAPES, seed=SEEDS)
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


# ----- finite differences -------------------------------------------------------------------------
def _leaf(array):
    return cr.tensor(array, requires_grad=True)


def test_gradcheck_mlp_with_cross_entropy():
    x, w1, w2 = _leaf(normal((4, 3), 0)), _leaf(normal((5, 3), 1)), _leaf(normal((3, 5), 2))
    y = cr.tensor([0, 2, 1, 2])
    assert cr.gradcheck(lambda a, p, q: F.cross_entropy(F.linear(cr.tanh(F.linear(a, p)), q), y), (x, w1, w2))


def test_gradcheck_activations_and_mse():
    x, t = _leaf(nonzero((3, 4), 3)), _leaf(normal((3, 4), 4))
    assert cr.gradcheck(
        lambda a, b: F.mse_loss(cr.sigmoid(a) * cr.relu(a) + cr.softmax(a, 1) - cr.log_softmax(a, 0), b.tanh(), reduction="sum"),
        (x, t),
    )


def test_gradcheck_cross_entropy_unreduced():
    x = _leaf(normal((3, 5), 5, scale=3.0))
    assert cr.gradcheck(
        lambda a: F.cross_entropy(a, [4, 0, 0], reduction="none") * cr.tensor([1.0, 2.0, -1.0], dtype=cr.float64), (x,)
    )


# ----- errors -------------------------------------------------------------------------------------
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
