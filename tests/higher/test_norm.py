"""Second (and third) derivatives of the normalizations equal torch's (float64), on the fast kernels and the
reference ops. Torch's native layer/batch norm treat their saved statistics as constants from the third order
on, so the third order is compared with the same formula written in torch's elementary ops."""
import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import chainrule as cr
import chainrule.nn.functional as F
from chainrule.ops.norm import _normalize
from tests.higher.check import assert_higher_order

pytestmark = pytest.mark.usefixtures("both_paths")


def draw(shape, seed):
    return np.random.default_rng(seed).standard_normal(shape)


def torch_normalize(x, axes, eps=1e-5):
    mean = x.mean(axes, keepdim=True)
    var = ((x - mean) ** 2).mean(axes, keepdim=True)
    return (x - mean) / torch.sqrt(var + eps), mean, var


def channel(p, x):
    return p.reshape((1, -1) + (1,) * (x.ndim - 2))


@pytest.mark.parametrize("shape", [(5, 3), (4, 2, 3), (3, 2, 2, 3)])
@pytest.mark.parametrize("affine", [True, False])
def test_batch_norm_training(shape, affine):
    x, w, b = draw(shape, 1), draw(shape[1], 2), draw(shape[1], 3)
    if affine:
        assert_higher_order(lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True),
                            lambda x, w, b: TF.batch_norm(x, None, None, w, b, training=True), x, w, b)
    else:
        assert_higher_order(lambda x: F.batch_norm(x, None, None, training=True),
                            lambda x: TF.batch_norm(x, None, None, training=True), x)


def test_batch_norm_third_order():
    x, w, b = draw((4, 3, 2), 4), draw(3, 5), draw(3, 6)
    axes = (0, 2)

    def ours(x, w, b):
        return F.batch_norm(x, None, None, w, b, training=True, eps=1e-3)

    def theirs(x, w, b):
        return torch_normalize(x, axes, 1e-3)[0] * channel(w, x) + channel(b, x)

    assert_higher_order(ours, theirs, x, w, b, order=3)


def test_batch_norm_running_statistics_updated_as_before():
    """Training mode with running statistics: the same second derivatives, and the running averages still move."""
    x = draw((6, 2, 3), 7)
    running_mean, running_var = cr.zeros(2), cr.ones(2)
    assert_higher_order(lambda x: F.batch_norm(x, running_mean, running_var, training=True),
                        lambda x: TF.batch_norm(x, torch.zeros(2, dtype=torch.float64),
                                                torch.ones(2, dtype=torch.float64), training=True), x)
    assert not np.allclose(running_mean.data, 0)


@pytest.mark.parametrize("shape", [(4, 3), (2, 3, 4)])
def test_batch_norm_eval(shape):
    x, w, b = draw(shape, 8), draw(shape[1], 9), draw(shape[1], 10)
    mean, var = draw(shape[1], 11), np.random.default_rng(12).uniform(0.5, 2.0, shape[1])

    def ours(x, w, b):
        return F.batch_norm(x, cr.tensor(mean), cr.tensor(var), w, b, training=False) ** 2

    def theirs(x, w, b):
        return TF.batch_norm(x, torch.tensor(mean), torch.tensor(var), w, b, training=False) ** 2

    assert_higher_order(ours, theirs, x, w, b, order=3)


@pytest.mark.parametrize("shape, normalized", [((4, 5), (5,)), ((2, 3, 4), (3, 4)), ((2, 2, 3, 2), (2,))])
def test_layer_norm(shape, normalized):
    x, w, b = draw(shape, 13), draw(normalized, 14), draw(normalized, 15)
    assert_higher_order(lambda x, w, b: F.layer_norm(x, normalized, w, b, eps=1e-4),
                        lambda x, w, b: TF.layer_norm(x, normalized, w, b, eps=1e-4), x, w, b)


def test_layer_norm_third_order():
    x, w = draw((3, 2, 4), 16), draw((2, 4), 17)
    assert_higher_order(lambda x, w: F.layer_norm(x, (2, 4), w),
                        lambda x, w: torch_normalize(x, (1, 2))[0] * w, x, w, order=3)


@pytest.mark.parametrize("shape, groups", [((2, 4, 3), 2), ((3, 6), 3), ((2, 4, 2, 2), 1), ((2, 4, 3), 4)])
def test_group_norm(shape, groups):
    x, w, b = draw(shape, 18), draw(shape[1], 19), draw(shape[1], 20)
    assert_higher_order(lambda x, w, b: F.group_norm(x, groups, w, b),
                        lambda x, w, b: TF.group_norm(x, groups, w, b), x, w, b)


@pytest.mark.parametrize("shape", [(2, 3, 4), (2, 2, 3, 2)])
def test_instance_norm(shape):
    x, w, b = draw(shape, 21), draw(shape[1], 22), draw(shape[1], 23)
    assert_higher_order(lambda x, w, b: F.instance_norm(x, weight=w, bias=b),
                        lambda x, w, b: TF.instance_norm(x, weight=w, bias=b), x, w, b)


@pytest.mark.parametrize("axes", [(0,), (1, 2), (0, 2)])
def test_statistics_outputs(axes):
    """Normalize's three outputs (y, μ, σ²) all used: each one's derivatives enter."""
    x, w, b = draw((3, 4, 2), 24), draw((1, 4, 1), 25), draw((1, 4, 1), 26)

    def theirs(x, w, b):
        y, mean, var = torch_normalize(x, axes)
        return y * w + b, mean, var

    assert_higher_order(lambda x, w, b: _normalize(x, w, b, axes, 1e-5), theirs, x, w, b, order=3)
