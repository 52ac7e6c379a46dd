"""chainrule.nn normalization layers against torch.nn: BatchNorm1d (2-D and 3-D inputs) and BatchNorm2d —
several training steps (outputs, gradients of input, γ and β, running statistics, num_batches_tracked)
then evaluation with the running statistics; momentum=None (a cumulative average); the notes'
TensorFlow convention ``decay=0.99`` (= torch momentum 0.01, and the formula written by hand);
affine=False; track_running_stats=False; state_dict keys and loading torch's; LayerNorm (with and
without γ/β), InstanceNorm1d/2d (defaults, affine, running statistics), GroupNorm; reprs; errors."""

import numpy as np
import pytest
import torch
import torch.nn as tnn

import chainrule as cr
from chainrule import nn
from tests.parity import TOL, assert_parity


def normal(shape, seed, dtype=np.float64, scale=1.0, shift=0.0):
    return np.asarray(np.random.default_rng(seed).standard_normal(shape) * scale + shift, dtype=dtype)


def torch_twin(module, torch_cls, *args, **kwargs):
    """The torch module built with the same arguments, in float64, holding ``module``'s weights and buffers."""
    twin = torch_cls(*args, **kwargs).double()
    with torch.no_grad():
        for name, p in module.named_parameters():
            getattr(twin, name).copy_(torch.tensor(p.data))
        for name, b in module.named_buffers():
            getattr(twin, name).copy_(torch.tensor(b.data))
    return twin


def assert_module_parity(module, twin, x, seed=0):
    """Output and input gradient through assert_parity, then every parameter's gradient and every buffer."""
    module.zero_grad()
    twin.zero_grad()
    assert_parity(lambda t: module(t), lambda t: twin(t), x, seed=seed)
    tol = TOL[np.float64]
    for name, p in module.named_parameters():
        ref = getattr(twin, name).grad.numpy()
        assert p.grad is not None and p.grad.dtype == p.dtype, name
        np.testing.assert_allclose(p.grad.data, ref, **tol, err_msg=f"gradient of {name} differs from torch")
    assert_buffers_equal(module, twin)


def assert_buffers_equal(module, twin):
    ours, theirs = dict(module.named_buffers()), dict(twin.named_buffers())
    assert sorted(ours) == sorted(theirs)
    for name, b in ours.items():
        ref = theirs[name].numpy()
        assert b.dtype == ref.dtype, f"{name}: {b.dtype} != torch's {ref.dtype}"
        np.testing.assert_allclose(b.data, ref, rtol=1e-12, atol=1e-12, err_msg=f"{name} differs from torch")


def train_then_eval(module, twin, shape, steps=4, seed=0):
    """``steps`` training steps on shifted batches, then evaluation on a fresh batch; parity throughout."""
    for step in range(steps):
        assert_module_parity(module, twin, normal(shape, seed + step, scale=1 + step, shift=step - 1), seed=step)
    module.eval()
    twin.eval()
    assert_module_parity(module, twin, normal(shape, seed + 100, scale=2.0, shift=0.5))
    assert_module_parity(module, twin, normal((1,) + shape[1:], seed + 101))  # one sample is fine in eval


# ----- BatchNorm --------------------------------------------------------------------------------------
@pytest.mark.parametrize("cls, shape", [("BatchNorm1d", (6, 3)), ("BatchNorm1d", (4, 3, 5)), ("BatchNorm2d", (3, 4, 3, 2))])
@pytest.mark.parametrize("kwargs", [{}, {"momentum": 0.3, "eps": 1e-3}, {"momentum": None}, {"affine": False},
                                    {"momentum": 1.0}, {"momentum": 0.0}])
def test_batchnorm_training_steps_then_eval(cls, shape, kwargs):
    m = getattr(nn, cls)(shape[1], dtype=cr.float64, **kwargs)
    if m.weight is not None:
        with cr.no_grad():
            m.weight.data[...] = normal(shape[1], 1, shift=1.0)
            m.bias.data[...] = normal(shape[1], 2)
    twin = torch_twin(m, getattr(tnn, cls), shape[1], **kwargs)
    train_then_eval(m, twin, shape)
    assert int(m.num_batches_tracked.data) == 4 and m.num_batches_tracked.dtype == np.int64


def test_batchnorm_momentum_none_is_a_cumulative_average():
    """running_mean after t steps = the mean of the t batch means; running_var likewise (unbiased)."""
    m = nn.BatchNorm1d(3, momentum=None, dtype=cr.float64)
    batches = [normal((5, 3), s, scale=s + 1, shift=s) for s in range(4)]
    for x in batches:
        m(cr.tensor(x))
    np.testing.assert_allclose(m.running_mean.data, np.mean([x.mean(0) for x in batches], axis=0), rtol=1e-12)
    np.testing.assert_allclose(m.running_var.data, np.mean([x.var(0, ddof=1) for x in batches], axis=0), rtol=1e-12)


def test_batchnorm_decay_is_the_notes_tensorflow_convention():
    """[note 003] moving = 0.99·moving + 0.01·batch: ``decay=0.99`` equals torch's momentum=0.01 and the
    formula written by hand (the batch variance that goes into running_var is the unbiased one, as torch)."""
    m = nn.BatchNorm2d(2, decay=0.99, dtype=cr.float64)
    assert m.momentum == pytest.approx(0.01)
    twin = torch_twin(m, tnn.BatchNorm2d, 2, momentum=0.01)
    moving_mean, moving_var = np.zeros(2), np.ones(2)
    for step in range(5):
        x = normal((4, 2, 3, 3), step, scale=2.0, shift=3.0)
        assert_module_parity(m, twin, x, seed=step)
        moving_mean = 0.99 * moving_mean + 0.01 * x.mean(axis=(0, 2, 3))
        moving_var = 0.99 * moving_var + 0.01 * x.var(axis=(0, 2, 3), ddof=1)
        np.testing.assert_allclose(m.running_mean.data, moving_mean, rtol=1e-12)
        np.testing.assert_allclose(m.running_var.data, moving_var, rtol=1e-12)
    m.eval()
    twin.eval()
    assert_module_parity(m, twin, normal((2, 2, 3, 3), 9))


def test_batchnorm_bad_decay():
    for bad in (-0.1, 1.5):
        with pytest.raises(ValueError, match=f"BatchNorm1d: decay must be in \\[0, 1\\], got {bad}"):
            nn.BatchNorm1d(3, decay=bad)


def test_batchnorm_track_running_stats_false_uses_batch_statistics_in_eval():
    m = nn.BatchNorm1d(4, track_running_stats=False, dtype=cr.float64)
    assert m.running_mean is None and m.running_var is None and m.num_batches_tracked is None
    assert list(m.state_dict()) == ["weight", "bias"]
    twin = torch_twin(m, tnn.BatchNorm1d, 4, track_running_stats=False)
    x = normal((6, 4, 3), 0, scale=3.0, shift=2.0)
    assert_module_parity(m, twin, x)
    m.eval()
    twin.eval()
    train_out = m.train()(cr.tensor(x)).data
    m.eval()
    np.testing.assert_allclose(m(cr.tensor(x)).data, train_out, rtol=1e-12)
    assert_module_parity(m, twin, x)


def test_batchnorm_num_batches_tracked_counts_training_calls_only():
    m = nn.BatchNorm1d(2)
    x = cr.randn(4, 2)
    for _ in range(3):
        m(x)
    m.eval()
    m(x)
    assert int(m.num_batches_tracked.data) == 3
    running = m.running_mean.data.copy()
    m(x)
    np.testing.assert_array_equal(m.running_mean.data, running)  # evaluation does not update


def test_batchnorm_parameters_buffers_dtype_and_state_dict_like_torch():
    for args, kwargs in [((3,), {}), ((3,), {"affine": False}), ((3,), {"track_running_stats": False}),
                         ((3,), {"affine": False, "track_running_stats": False})]:
        for cls in ("BatchNorm1d", "BatchNorm2d"):
            m, t = getattr(nn, cls)(*args, **kwargs), getattr(tnn, cls)(*args, **kwargs)
            assert list(m.state_dict()) == list(t.state_dict()), (cls, kwargs)
            assert [n for n, _ in m.named_parameters()] == [n for n, _ in t.named_parameters()]
            for name, value in m.state_dict().items():
                assert value.dtype == t.state_dict()[name].numpy().dtype, name
                np.testing.assert_array_equal(value.data, t.state_dict()[name].numpy())  # the same initial values


def test_batchnorm_loads_torch_state_dict():
    """A torch BatchNorm2d trained a few steps: its state dict loaded here gives the same eval outputs."""
    torch.manual_seed(0)
    twin = tnn.BatchNorm2d(3).double()
    with torch.no_grad():
        twin.weight.normal_()
        twin.bias.normal_()
        for s in range(3):
            twin(torch.tensor(normal((4, 3, 2, 2), s, shift=s)))
    m = nn.BatchNorm2d(3, dtype=cr.float64)
    m.load_state_dict({k: v.numpy() for k, v in twin.state_dict().items()})
    assert int(m.num_batches_tracked.data) == 3
    m.eval()
    twin.eval()
    assert_module_parity(m, twin, normal((2, 3, 2, 2), 7))


def test_batchnorm_float32_default_dtype():
    m = nn.BatchNorm1d(3)
    assert m.weight.dtype == np.float32 and m.running_var.dtype == np.float32
    twin = tnn.BatchNorm1d(3)
    x = normal((5, 3), 0, np.float32)
    out = assert_parity(lambda t: m(t), lambda t: twin(t), x)
    assert out.dtype == np.float32
    np.testing.assert_allclose(m.running_var.data, twin.running_var.numpy(), rtol=1e-6)


# ----- LayerNorm ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("normalized_shape, shape", [(5, (3, 5)), ((4,), (2, 3, 4)), ((3, 4, 4), (2, 3, 4, 4)),
                                                     ([4, 4], (2, 3, 4, 4))])
@pytest.mark.parametrize("kwargs", [{}, {"elementwise_affine": False}, {"bias": False}, {"eps": 0.1}])
def test_layernorm_parity_same_in_train_and_eval(normalized_shape, shape, kwargs):
    """For an image, normalized_shape (C, H, W) normalizes each sample over all of them [note 003]."""
    m = nn.LayerNorm(normalized_shape, dtype=cr.float64, **kwargs)
    with cr.no_grad():
        for p in m.parameters():
            p.data[...] = normal(p.shape, 3, shift=1.0)
    twin = torch_twin(m, tnn.LayerNorm, normalized_shape, **kwargs)
    assert [n for n, _ in m.named_parameters()] == [n for n, _ in twin.named_parameters()]
    x = normal(shape, 0, scale=3.0, shift=2.0)
    assert_module_parity(m, twin, x)
    train_out = m(cr.tensor(x)).data
    m.eval()
    np.testing.assert_array_equal(m(cr.tensor(x)).data, train_out)


def test_layernorm_defaults_like_torch():
    m, t = nn.LayerNorm((2, 3)), tnn.LayerNorm((2, 3))
    assert m.normalized_shape == t.normalized_shape and m.eps == t.eps
    for name, p in m.state_dict().items():
        np.testing.assert_array_equal(p.data, t.state_dict()[name].numpy())
        assert p.dtype == np.float32
    assert nn.LayerNorm(3, elementwise_affine=False).weight is None
    assert nn.LayerNorm(3, bias=False).bias is None


# ----- InstanceNorm ------------------------------------------------------------------------------------
@pytest.mark.parametrize("cls, shape", [("InstanceNorm1d", (3, 2, 5)), ("InstanceNorm2d", (2, 3, 3, 4))])
@pytest.mark.parametrize("kwargs", [{}, {"affine": True}, {"track_running_stats": True},
                                    {"affine": True, "track_running_stats": True, "momentum": 0.4},
                                    {"track_running_stats": True, "momentum": None}])
def test_instancenorm_parity(cls, shape, kwargs):
    """PyTorch's defaults (no γ/β, no running statistics); with them, several training steps then eval.
    As torch, InstanceNorm leaves num_batches_tracked at 0, and momentum=None leaves the running statistics."""
    m = getattr(nn, cls)(shape[1], dtype=cr.float64, **kwargs)
    if m.weight is not None:
        with cr.no_grad():
            m.weight.data[...] = normal(shape[1], 1, shift=1.0)
            m.bias.data[...] = normal(shape[1], 2)
    twin = torch_twin(m, getattr(tnn, cls), shape[1], **kwargs)
    assert list(m.state_dict()) == list(twin.state_dict())
    train_then_eval(m, twin, shape, steps=3)


def test_instancenorm_defaults_have_no_parameters_or_buffers():
    m = nn.InstanceNorm2d(3)
    assert list(m.parameters()) == [] and list(m.buffers()) == [] and list(m.state_dict()) == []
    assert not m.affine and not m.track_running_stats


# ----- GroupNorm ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("groups, channels, shape", [(2, 4, (3, 4, 5)), (1, 6, (2, 6, 2, 2)), (6, 6, (2, 6, 3, 2)),
                                                     (3, 6, (2, 6))])
@pytest.mark.parametrize("kwargs", [{}, {"affine": False}, {"eps": 0.01}])
def test_groupnorm_parity(groups, channels, shape, kwargs):
    m = nn.GroupNorm(groups, channels, dtype=cr.float64, **kwargs)
    if m.weight is not None:
        with cr.no_grad():
            m.weight.data[...] = normal(channels, 1, shift=1.0)
            m.bias.data[...] = normal(channels, 2)
    twin = torch_twin(m, tnn.GroupNorm, groups, channels, **kwargs)
    assert list(m.state_dict()) == list(twin.state_dict())
    assert_module_parity(m, twin, normal(shape, 0, scale=2.0, shift=1.0))
    m.eval()
    twin.eval()
    assert_module_parity(m, twin, normal(shape, 1))


# ----- reprs ---------------------------------------------------------------------------------------------
def test_reprs():
    """torch's reprs (torch 2.13 adds ``bias=`` to the norm layers, which chainrule's have no argument for)."""
    assert repr(nn.BatchNorm1d(3)) == "BatchNorm1d(3, eps=1e-05, momentum=0.1, affine=True, track_running_stats=True)"
    assert repr(nn.BatchNorm2d(8, momentum=None, affine=False)) == (
        "BatchNorm2d(8, eps=1e-05, momentum=None, affine=False, track_running_stats=True)")
    assert repr(nn.InstanceNorm2d(3)) == "InstanceNorm2d(3, eps=1e-05, momentum=0.1, affine=False, track_running_stats=False)"
    assert repr(nn.GroupNorm(2, 4)) == "GroupNorm(2, 4, eps=1e-05, affine=True)"
    for args, kwargs in [((4,), {}), (((2, 3),), {"elementwise_affine": False}), ((4,), {"bias": False})]:
        assert repr(nn.LayerNorm(*args, **kwargs)) == repr(tnn.LayerNorm(*args, **kwargs))


# ----- errors ---------------------------------------------------------------------------------------------
def test_batchnorm_wrong_num_features_or_dims():
    with pytest.raises(ValueError, match=r"BatchNorm1d\(3\): expected a 2-D or 3-D input with 3 channels in dim 1, got shape \(4, 5\)"):
        nn.BatchNorm1d(3)(cr.randn(4, 5))
    with pytest.raises(ValueError, match=r"BatchNorm1d\(3\): expected a 2-D or 3-D input .*got shape \(2, 3, 4, 4\)"):
        nn.BatchNorm1d(3)(cr.randn(2, 3, 4, 4))
    with pytest.raises(ValueError, match=r"BatchNorm2d\(3\): expected a 4-D input with 3 channels in dim 1, got shape \(2, 3, 4\)"):
        nn.BatchNorm2d(3)(cr.randn(2, 3, 4))
    with pytest.raises(ValueError, match=r"BatchNorm2d\(3\): expected a 4-D input with 3 channels in dim 1, got shape \(2, 4, 4, 4\)"):
        nn.BatchNorm2d(3)(cr.randn(2, 4, 4, 4))
    with pytest.raises(ValueError, match="expected more than 1 value per channel when training"):
        nn.BatchNorm1d(3)(cr.randn(1, 3))


def test_other_norm_errors():
    with pytest.raises(ValueError, match=r"LayerNorm\(\(3, 4\)\): expected an input whose trailing dims are \(3, 4\), got shape \(2, 4, 3\)"):
        nn.LayerNorm((3, 4))(cr.randn(2, 4, 3))
    with pytest.raises(ValueError, match=r"LayerNorm\(\(2, 3, 4\)\): expected an input whose trailing dims are \(2, 3, 4\), got shape \(3, 4\)"):
        nn.LayerNorm((2, 3, 4))(cr.randn(3, 4))
    with pytest.raises(ValueError, match=r"InstanceNorm2d\(3\): expected a 4-D input with 3 channels in dim 1, got shape \(2, 3, 4\)"):
        nn.InstanceNorm2d(3)(cr.randn(2, 3, 4))
    with pytest.raises(ValueError, match=r"InstanceNorm1d\(3\): expected a 3-D input with 3 channels in dim 1, got shape \(2, 4, 5\)"):
        nn.InstanceNorm1d(3, affine=True)(cr.randn(2, 4, 5))
    with pytest.raises(ValueError, match="GroupNorm: num_groups=4 must divide num_channels=6"):
        nn.GroupNorm(4, 6)
    with pytest.raises(ValueError, match=r"GroupNorm\(2, 4\): expected an input with 4 channels in dim 1, got shape \(2, 6, 3\)"):
        nn.GroupNorm(2, 4)(cr.randn(2, 6, 3))
