"""chainrule.nn.init: statistics of every initializer on large tensors with fixed seeds (mean, std, bounds
— trunc_normal_ against the truncated normal's exact moments, the notes' ±2σ included), fans equal torch's
``_calculate_fan_in_and_fan_out`` for Linear and Conv1d/Conv2d weights (groups included), calculate_gain
equals torch's for every nonlinearity, orthogonal_ gives orthonormal rows or columns, in place without a
graph, reproducibility, errors — and the symmetry problem of all-zero initialization [note 003]."""

import math

import numpy as np
import pytest
import torch
import torch.nn as tnn

import chainrule as cr
import chainrule.nn.functional as F
from chainrule import nn
from chainrule.nn import init
from chainrule.optim import SGD

BIG = (400, 500)  # 200 000 draws: the sample mean is within ~0.01σ, the std within ~0.005σ


def _empty(*shape, dtype=cr.float64):
    return cr.empty(*shape, dtype=dtype)


def assert_moments(values, mean, std, tol=0.01):
    """Sample mean and std within ``tol``·std (many standard errors at these sizes) of the expected."""
    v = np.asarray(values, dtype=np.float64).ravel()
    assert abs(v.mean() - mean) < tol * std, f"mean {v.mean()} vs {mean}"
    assert abs(v.std() - std) < tol * std, f"std {v.std()} vs {std}"


def _phi(x):
    return math.exp(-x * x / 2) / math.sqrt(2 * math.pi)


def _Phi(x):
    return 0.5 * (1 + math.erf(x / math.sqrt(2)))


def truncated_normal_moments(mean, std, a, b):
    """Exact mean and std of N(mean, std²) restricted to [a, b]."""
    al, be = (a - mean) / std, (b - mean) / std
    z = _Phi(be) - _Phi(al)
    m = (_phi(al) - _phi(be)) / z
    var = 1 + (al * _phi(al) - be * _phi(be)) / z - m * m
    return mean + std * m, std * math.sqrt(var)


# ----- the basic fills ---------------------------------------------------------------------------------
def test_constant_fills_in_place_keep_dtype_and_record_no_graph():
    for dtype in (cr.float32, cr.float64):
        w = nn.Parameter(cr.randn(3, 4, dtype=dtype))
        for fn, value in ((init.zeros_, 0.0), (init.ones_, 1.0), (lambda t: init.constant_(t, 0.1), 0.1)):
            out = fn(w)
            assert out is w and w.dtype == dtype and w.is_leaf and w.requires_grad
            np.testing.assert_array_equal(w.data, np.full((3, 4), value, dtype=dtype))


def test_uniform_and_normal_statistics():
    cr.manual_seed(0)
    w = init.uniform_(_empty(*BIG), -2.0, 3.0)
    assert w.data.min() >= -2.0 and w.data.max() <= 3.0
    assert w.data.min() < -1.99 and w.data.max() > 2.99
    assert_moments(w.data, 0.5, 5 / math.sqrt(12))
    assert_moments(init.uniform_(_empty(*BIG)).data, 0.5, 1 / math.sqrt(12))  # U(0, 1) by default
    w = init.normal_(_empty(*BIG), 1.5, 0.1)  # [note 003: Gaussian init with std 0.1]
    assert_moments(w.data, 1.5, 0.1)
    assert_moments(init.normal_(_empty(*BIG)).data, 0.0, 1.0)


@pytest.mark.parametrize("mean, std, a, b", [
    (0.0, 1.0, -2.0, 2.0),  # torch's defaults: absolute bounds ±2
    (0.5, 0.1, 0.3, 0.7),  # the notes' truncated normal: mean ± 2σ
    (0.0, 0.02, -0.04, 0.04),
    (0.0, 1.0, -1.0, 3.0),  # asymmetric
    (1.0, 2.0, 0.0, 10.0),
])
def test_trunc_normal_bounds_and_moments(mean, std, a, b):
    """Draws beyond [a, b] are redrawn (not clipped): every value inside, none piled up at the bounds,
    the mean and std those of the truncated normal."""
    cr.manual_seed(1)
    w = init.trunc_normal_(_empty(*BIG), mean, std, a, b)
    assert w.data.min() >= a and w.data.max() <= b
    assert np.mean(w.data == a) + np.mean(w.data == b) == 0
    m, s = truncated_normal_moments(mean, std, a, b)
    assert_moments(w.data, m, s)


def test_trunc_normal_matches_torch_in_distribution_and_float32():
    torch.manual_seed(0)
    theirs = tnn.init.trunc_normal_(torch.empty(*BIG), 0.0, 1.0, -1.5, 0.5).numpy()
    cr.manual_seed(0)
    ours = init.trunc_normal_(_empty(*BIG, dtype=cr.float32), 0.0, 1.0, -1.5, 0.5)
    assert ours.dtype == np.float32
    assert abs(ours.data.mean() - theirs.mean()) < 0.01 and abs(ours.data.std() - theirs.std()) < 0.01


def test_trunc_normal_bad_bounds():
    with pytest.raises(ValueError, match="trunc_normal_: expected a < b, got a=1.0, b=-1.0"):
        init.trunc_normal_(_empty(3), a=1.0, b=-1.0)


# ----- fans and gains ------------------------------------------------------------------------------------
FAN_CASES = [
    (nn.Linear, tnn.Linear, (7, 5), {}),
    (nn.Linear, tnn.Linear, (1, 300), {}),
    (nn.Conv1d, tnn.Conv1d, (4, 8, 5), {}),
    (nn.Conv1d, tnn.Conv1d, (4, 8, 3), {"groups": 4}),
    (nn.Conv2d, tnn.Conv2d, (3, 16, 3), {}),
    (nn.Conv2d, tnn.Conv2d, (8, 32, (5, 3)), {"groups": 4}),
    (nn.Conv2d, tnn.Conv2d, (6, 6, 3), {"groups": 6}),  # depthwise
    (nn.Conv2d, tnn.Conv2d, (6, 12, 1), {}),
]


@pytest.mark.parametrize("ours, theirs, args, kwargs", FAN_CASES)
def test_fans_equal_torch(ours, theirs, args, kwargs):
    w = ours(*args, **kwargs).weight
    t = theirs(*args, **kwargs).weight
    assert w.shape == tuple(t.shape)
    assert init._calculate_fan_in_and_fan_out(w) == tnn.init._calculate_fan_in_and_fan_out(t)


def test_fans_of_raw_shapes_and_1d_error():
    for shape in [(3, 4), (5, 2, 3), (2, 3, 4, 5), (4, 1, 1, 1), (6, 3, 2, 2, 2)]:
        assert init._calculate_fan_in_and_fan_out(_empty(*shape)) == tnn.init._calculate_fan_in_and_fan_out(
            torch.empty(shape))
    with pytest.raises(ValueError, match=r"fan in and fan out need a tensor with at least 2 dims, got shape \(5,\)"):
        init._calculate_fan_in_and_fan_out(_empty(5))


NONLINEARITIES = ["linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d",
                  "sigmoid", "tanh", "relu", "leaky_relu", "selu"]


@pytest.mark.parametrize("nonlinearity", NONLINEARITIES)
def test_calculate_gain_equals_torch(nonlinearity):
    assert init.calculate_gain(nonlinearity) == pytest.approx(tnn.init.calculate_gain(nonlinearity), rel=1e-15)


def test_calculate_gain_leaky_relu_slopes_and_errors():
    for slope in (None, 0, 0.01, 0.2, 1, 3.0, math.sqrt(5)):
        assert init.calculate_gain("leaky_relu", slope) == pytest.approx(tnn.init.calculate_gain("leaky_relu", slope))
    for bad in ("0.2", True):
        with pytest.raises(ValueError, match=f"calculate_gain: negative_slope {bad!r} is not a number"):
            init.calculate_gain("leaky_relu", bad)
    with pytest.raises(ValueError, match="calculate_gain: unsupported nonlinearity 'swish'"):
        init.calculate_gain("swish")


# ----- Xavier and Kaiming --------------------------------------------------------------------------------
@pytest.mark.parametrize("shape", [BIG, (200, 100, 3, 3), (250, 40, 20)])
@pytest.mark.parametrize("gain", [1.0, 5 / 3])
def test_xavier_statistics(shape, gain):
    """[note 003] a = gain·√(6/(fan_in + fan_out)) for U(−a, a); std = gain·√(2/(fan_in + fan_out)) for the normal."""
    fan_in, fan_out = tnn.init._calculate_fan_in_and_fan_out(torch.empty(shape))
    cr.manual_seed(2)
    w = init.xavier_uniform_(_empty(*shape), gain)
    a = gain * math.sqrt(6 / (fan_in + fan_out))
    assert np.abs(w.data).max() <= a and np.abs(w.data).max() > 0.999 * a
    assert_moments(w.data, 0.0, a / math.sqrt(3))
    w = init.xavier_normal_(_empty(*shape), gain)
    assert_moments(w.data, 0.0, gain * math.sqrt(2 / (fan_in + fan_out)))


@pytest.mark.parametrize("shape", [BIG, (100, 200, 3, 3), (250, 40, 20)])
@pytest.mark.parametrize("mode", ["fan_in", "fan_out"])
@pytest.mark.parametrize("nonlinearity, a", [("relu", 0.0), ("leaky_relu", 0.0), ("leaky_relu", 0.2), ("tanh", 0.0),
                                             ("linear", 0.0), ("leaky_relu", math.sqrt(5))])
def test_kaiming_statistics(shape, mode, nonlinearity, a):
    """[note 003, note 004] std = gain/√fan (√(2/fan_in) for ReLU); the uniform bound is √3·std."""
    fan_in, fan_out = tnn.init._calculate_fan_in_and_fan_out(torch.empty(shape))
    fan = fan_in if mode == "fan_in" else fan_out
    std = tnn.init.calculate_gain(nonlinearity, a) / math.sqrt(fan)
    cr.manual_seed(3)
    w = init.kaiming_normal_(_empty(*shape), a, mode, nonlinearity)
    assert_moments(w.data, 0.0, std)
    w = init.kaiming_uniform_(_empty(*shape), a=a, mode=mode, nonlinearity=nonlinearity)
    bound = math.sqrt(3) * std
    assert np.abs(w.data).max() <= bound and np.abs(w.data).max() > 0.999 * bound
    assert_moments(w.data, 0.0, std)


def test_kaiming_defaults_like_torch():
    """Defaults a=0, mode='fan_in', nonlinearity='leaky_relu': std = √2/√fan_in."""
    cr.manual_seed(4)
    assert_moments(init.kaiming_normal_(_empty(*BIG)).data, 0.0, math.sqrt(2 / BIG[1]))
    assert_moments(init.kaiming_uniform_(_empty(*BIG)).data, 0.0, math.sqrt(2 / BIG[1]))


def test_linear_and_conv_default_init_is_kaiming_uniform_sqrt5():
    """PyTorch's default: kaiming_uniform_(a=√5), i.e. U(−1/√fan_in, 1/√fan_in)."""
    cr.manual_seed(5)
    w = nn.Linear(500, 400).weight
    assert np.abs(w.data).max() <= 1 / math.sqrt(500)
    assert_moments(w.data, 0.0, 1 / math.sqrt(500) / math.sqrt(3))


def test_initializer_errors():
    for fn in (init.xavier_uniform_, init.xavier_normal_, init.kaiming_uniform_, init.kaiming_normal_):
        with pytest.raises(ValueError, match=r"at least 2 dims, got shape \(4,\)"):
            fn(_empty(4))
    with pytest.raises(ValueError, match="kaiming_normal_: mode must be 'fan_in' or 'fan_out', got 'fan_avg'"):
        init.kaiming_normal_(_empty(3, 4), mode="fan_avg")
    with pytest.raises(ValueError, match="kaiming_uniform_: mode must be 'fan_in' or 'fan_out', got 'in'"):
        init.kaiming_uniform_(_empty(3, 4), mode="in")
    with pytest.raises(ValueError, match="calculate_gain: unsupported nonlinearity 'gelu'"):
        init.kaiming_uniform_(_empty(3, 4), nonlinearity="gelu")


# ----- orthogonal_ -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("shape", [(8, 5), (5, 8), (6, 6), (6, 3, 2, 2), (2, 3, 4), (1, 7), (7, 1)])
@pytest.mark.parametrize("gain", [1.0, 2.0])
def test_orthogonal(shape, gain):
    """Tall: QᵀQ = I (orthonormal columns); wide: QQᵀ = I (orthonormal rows); trailing dims flattened."""
    w = init.orthogonal_(_empty(*shape), gain)
    q = w.data.reshape(shape[0], -1) / gain
    rows, cols = q.shape
    gram = q.T @ q if rows >= cols else q @ q.T
    np.testing.assert_allclose(gram, np.eye(min(rows, cols)), atol=1e-12)
    assert w.shape == shape and w.dtype == np.float64


def test_orthogonal_is_random_float32_and_1d_error():
    cr.manual_seed(0)
    a = init.orthogonal_(_empty(4, 4, dtype=cr.float32)).data
    b = init.orthogonal_(_empty(4, 4, dtype=cr.float32)).data
    assert a.dtype == np.float32 and not np.allclose(a, b)
    np.testing.assert_allclose(a.T @ a, np.eye(4), atol=1e-6)
    # uniform over the orthogonal group (signs fixed by R's diagonal): the entries have mean 0, variance 1/n
    cr.manual_seed(1)
    samples = np.stack([init.orthogonal_(_empty(3, 3)).data for _ in range(3000)])
    assert np.abs(samples.mean(0)).max() < 0.05
    np.testing.assert_allclose(samples.var(0), 1 / 3, atol=0.03)
    with pytest.raises(ValueError, match=r"orthogonal_: only tensors with 2 or more dims are supported, got shape \(3,\)"):
        init.orthogonal_(_empty(3))


# ----- reproducibility -------------------------------------------------------------------------------------
@pytest.mark.parametrize("fn", [init.uniform_, init.normal_, init.trunc_normal_, init.xavier_uniform_, init.xavier_normal_,
                                init.kaiming_uniform_, init.kaiming_normal_, init.orthogonal_])
def test_reproducible_under_manual_seed_and_generator(fn):
    cr.manual_seed(42)
    a = fn(_empty(6, 5)).data.copy()
    b = fn(_empty(6, 5)).data.copy()
    cr.manual_seed(42)
    np.testing.assert_array_equal(fn(_empty(6, 5)).data, a)
    assert not np.array_equal(a, b)
    np.testing.assert_array_equal(fn(_empty(6, 5), generator=cr.Generator(9)).data,
                                  fn(_empty(6, 5), generator=cr.Generator(9)).data)


def test_in_place_on_a_parameter_records_no_graph():
    w = nn.Parameter(cr.zeros(4, 3))
    for fn in (init.uniform_, init.normal_, init.trunc_normal_, init.xavier_uniform_, init.xavier_normal_,
               init.kaiming_uniform_, init.kaiming_normal_, init.orthogonal_):
        assert fn(w) is w
        assert w.is_leaf and w.requires_grad and w.grad is None and w.dtype == np.float32


# ----- the symmetry problem [note 003] -----------------------------------------------------------------------
def _train_mlp(weight_init, steps=20, seed=0):
    """An MLP 4 → 6 (sigmoid) → 3, trained with SGD on cross-entropy; returns the two Linear layers."""
    cr.manual_seed(seed)
    model = nn.Sequential(nn.Linear(4, 6, dtype=cr.float64), nn.Sigmoid(), nn.Linear(6, 3, dtype=cr.float64))
    for layer in (model[0], model[2]):
        weight_init(layer.weight)
        init.zeros_(layer.bias)
    rng = np.random.default_rng(seed)
    x, y = cr.tensor(rng.standard_normal((32, 4))), cr.tensor(rng.integers(0, 3, 32))
    opt = SGD(model.parameters(), lr=0.5)
    losses = []
    for _ in range(steps):
        opt.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return model[0], model[2], losses


def test_zero_init_keeps_hidden_units_identical():
    """With all weights zero every hidden unit computes the same function and gets the same gradient, so
    after training they are still copies of one another: the network has effectively one hidden unit."""
    first, second, losses = _train_mlp(init.zeros_)
    w1, b1, w2 = first.weight.data, first.bias.data, second.weight.data
    assert np.abs(w1).max() > 1e-3 and np.abs(w2).max() > 1e-3  # they did move
    np.testing.assert_allclose(w1, np.broadcast_to(w1[:1], w1.shape), rtol=1e-12, atol=1e-15)  # every row the same
    np.testing.assert_allclose(b1, np.full_like(b1, b1[0]), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(w2, np.broadcast_to(w2[:, :1], w2.shape), rtol=1e-12, atol=1e-15)  # every column
    assert losses[-1] < losses[0]  # it learns, as far as one unit can


def test_random_init_breaks_the_symmetry():
    first, _, _ = _train_mlp(lambda w: init.normal_(w, 0.0, 0.1))
    w1 = first.weight.data
    distances = np.abs(w1[:, None, :] - w1[None, :, :]).sum(-1) + np.eye(len(w1))
    assert distances.min() > 1e-3  # no two hidden units alike
