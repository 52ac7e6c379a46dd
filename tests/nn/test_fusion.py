"""chainrule.nn.fusion: a BatchNorm folded into the conv / linear layer before it equals conv → BN(eval) in float64
and torch.nn.utils.fusion's fold on the same weights; fuse_conv_bn / fuse_modules on the zoo's vgg11_bn and ResNets
keep the eval outputs with fewer BatchNorms; every error path names the module."""
import numpy as np
import pytest
import torch

import chainrule as cr
from chainrule import models, nn
from chainrule.nn.normalization import _BatchNorm
from chainrule.nn.utils import fuse_conv_bn, fuse_conv_bn_eval, fuse_linear_bn_eval, fuse_modules

TOL = {"rtol": 1e-12, "atol": 1e-12}


def randomize_bn(model, seed=0):
    """Running statistics and γ, β away from their defaults, so that a fold that ignores any of them shows."""
    rng = np.random.default_rng(seed)
    for m in model.modules():
        if isinstance(m, _BatchNorm):
            c = m.num_features
            if m.running_mean is not None:
                m.running_mean.data[...] = rng.standard_normal(c)
                m.running_var.data[...] = rng.uniform(0.5, 2.0, c)
            if m.affine:
                m.weight.data[...] = rng.uniform(0.5, 1.5, c)
                m.bias.data[...] = rng.standard_normal(c)
    return model


def count_bn(model):
    return sum(isinstance(m, _BatchNorm) for m in model.modules())


def pair(dims, cin, cout, groups, bias, affine, k=3, stride=1, padding=1):
    conv_cls, bn_cls = (nn.Conv1d, nn.BatchNorm1d) if dims == 1 else (nn.Conv2d, nn.BatchNorm2d)
    conv = conv_cls(cin, cout, k, stride=stride, padding=padding, groups=groups, bias=bias, dtype=cr.float64)
    bn = randomize_bn(bn_cls(cout, affine=affine, dtype=cr.float64))
    return conv.eval(), bn.eval()


CASES = [  # dims, C_in, C_out, groups, bias, affine, kernel, stride, padding
    (2, 3, 4, 1, True, True, 3, 1, 1),
    (2, 4, 6, 2, False, True, 3, 2, 0),
    (2, 4, 4, 4, True, False, 1, 1, 0),
    (2, 6, 4, 2, False, False, 5, 1, 2),
    (1, 3, 5, 1, False, True, 3, 1, 1),
    (1, 4, 6, 2, True, False, 2, 2, 0),
]


@pytest.mark.parametrize("dims, cin, cout, groups, bias, affine, k, stride, padding", CASES)
def test_fused_conv_equals_conv_then_bn(dims, cin, cout, groups, bias, affine, k, stride, padding):
    conv, bn = pair(dims, cin, cout, groups, bias, affine, k, stride, padding)
    x = cr.tensor(np.random.default_rng(1).standard_normal((2, cin) + (7,) * dims))
    fused = fuse_conv_bn_eval(conv, bn)
    assert type(fused) is type(conv) and fused.bias is not None and fused.weight.dtype == cr.float64
    np.testing.assert_allclose(fused(x).detach().numpy(), bn(conv(x)).detach().numpy(), **TOL)
    assert (conv.bias is None) == (not bias)  # the inputs are not changed


@pytest.mark.parametrize("dims, cin, cout, groups, bias, affine, k, stride, padding", CASES)
def test_fused_conv_matches_torch(dims, cin, cout, groups, bias, affine, k, stride, padding):
    conv, bn = pair(dims, cin, cout, groups, bias, affine, k, stride, padding)
    t_conv = (torch.nn.Conv1d if dims == 1 else torch.nn.Conv2d)(
        cin, cout, k, stride=stride, padding=padding, groups=groups, bias=bias, dtype=torch.float64).eval()
    t_bn = (torch.nn.BatchNorm1d if dims == 1 else torch.nn.BatchNorm2d)(cout, affine=affine,
                                                                          dtype=torch.float64).eval()
    t_conv.load_state_dict({k_: torch.from_numpy(v.detach().numpy().copy()) for k_, v in conv.state_dict().items()})
    t_bn.load_state_dict({k_: torch.from_numpy(np.array(v.detach().numpy())) for k_, v in bn.state_dict().items()})
    ours, theirs = fuse_conv_bn_eval(conv, bn), torch.nn.utils.fusion.fuse_conv_bn_eval(t_conv, t_bn)
    np.testing.assert_allclose(ours.weight.detach().numpy(), theirs.weight.detach().numpy(), **TOL)
    np.testing.assert_allclose(ours.bias.detach().numpy(), theirs.bias.detach().numpy(), **TOL)


@pytest.mark.parametrize("bias, affine", [(True, True), (False, True), (False, False)])
def test_fused_linear_equals_linear_then_bn_and_torch(bias, affine):
    lin = nn.Linear(5, 3, bias=bias, dtype=cr.float64).eval()
    bn = randomize_bn(nn.BatchNorm1d(3, affine=affine, dtype=cr.float64)).eval()
    x = cr.tensor(np.random.default_rng(2).standard_normal((4, 5)))
    fused = fuse_linear_bn_eval(lin, bn)
    np.testing.assert_allclose(fused(x).detach().numpy(), bn(lin(x)).detach().numpy(), **TOL)
    if not affine:  # torch's fuse_linear_bn_eval multiplies by bn.weight, so it rejects a non-affine BN
        return
    t_lin = torch.nn.Linear(5, 3, bias=bias, dtype=torch.float64).eval()
    t_bn = torch.nn.BatchNorm1d(3, affine=affine, dtype=torch.float64).eval()
    t_lin.load_state_dict({k: torch.from_numpy(np.array(v.detach().numpy())) for k, v in lin.state_dict().items()})
    t_bn.load_state_dict({k: torch.from_numpy(np.array(v.detach().numpy())) for k, v in bn.state_dict().items()})
    theirs = torch.nn.utils.fusion.fuse_linear_bn_eval(t_lin, t_bn)
    np.testing.assert_allclose(fused.weight.detach().numpy(), theirs.weight.detach().numpy(), **TOL)
    np.testing.assert_allclose(fused.bias.detach().numpy(), theirs.bias.detach().numpy(), **TOL)


def test_errors_name_the_module_and_reason():
    conv, bn = pair(2, 3, 4, 1, True, True)
    with pytest.raises(RuntimeError, match=r"BatchNorm2d\(4.*training mode"):
        fuse_conv_bn_eval(conv, bn.train())
    with pytest.raises(RuntimeError, match=r"Conv2d\(3, 4.*training mode"):
        fuse_conv_bn_eval(conv.train(), bn.eval())
    conv.eval()
    with pytest.raises(ValueError, match=r"gives 4 output channels but BatchNorm2d\(5"):
        fuse_conv_bn_eval(conv, nn.BatchNorm2d(5).eval())
    with pytest.raises(ValueError, match=r"no running statistics"):
        fuse_conv_bn_eval(conv, nn.BatchNorm2d(4, track_running_stats=False).eval())
    with pytest.raises(TypeError, match=r"ConvTranspose2d"):
        fuse_conv_bn_eval(nn.ConvTranspose2d(3, 4, 3).eval(), bn)
    with pytest.raises(TypeError, match=r"expected a BatchNorm"):
        fuse_conv_bn_eval(conv, nn.LayerNorm(4).eval())
    with pytest.raises(ValueError, match=r"gives 3 output features but BatchNorm1d\(4"):
        fuse_linear_bn_eval(nn.Linear(2, 3).eval(), nn.BatchNorm1d(4).eval())
    seq = nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4))
    with pytest.raises(RuntimeError, match=r"Sequential is in training mode"):
        fuse_conv_bn(seq)
    seq.eval()
    seq[1].train()
    with pytest.raises(RuntimeError, match=r"submodule '1'.*training mode"):
        fuse_conv_bn(seq)
    with pytest.raises(KeyError, match=r"no submodule named 'nope'"):
        fuse_modules(seq.eval(), ["0", "nope"])


def test_fuse_conv_bn_nested_sequential_leaves_original_untouched():
    inner = nn.Sequential(nn.Conv1d(2, 3, 3), nn.BatchNorm1d(3), nn.ReLU(), nn.Conv1d(3, 3, 1), nn.BatchNorm1d(3))
    model = randomize_bn(nn.Sequential(inner, nn.Flatten(), nn.Linear(15, 4), nn.BatchNorm1d(4)).double()).eval()
    before = {k: v.detach().numpy().copy() for k, v in model.state_dict().items()}
    fused = fuse_conv_bn(model)
    assert count_bn(model) == 3 and count_bn(fused) == 0
    assert isinstance(fused[0][1], nn.Identity) and isinstance(fused[3], nn.Identity)
    x = cr.tensor(np.random.default_rng(3).standard_normal((2, 2, 7)))
    np.testing.assert_allclose(fused(x).detach().numpy(), model(x).detach().numpy(), **TOL)
    for k, v in model.state_dict().items():
        np.testing.assert_array_equal(v.detach().numpy(), before[k])


def test_vgg11_bn_fused_same_eval_outputs():
    cr.manual_seed(0)
    model = models.vgg11_bn(num_classes=10)
    model.classifier = nn.Sequential(nn.Linear(512 * 7 * 7, 10))  # the 100M-parameter head is not what is tested
    model = randomize_bn(model.double()).eval()
    fused = fuse_conv_bn(model)
    assert count_bn(model) == 8 and count_bn(fused) == 0
    x = cr.tensor(np.random.default_rng(4).standard_normal((2, 3, 32, 32)))
    with cr.no_grad():
        np.testing.assert_allclose(fused(x).detach().numpy(), model(x).detach().numpy(), rtol=1e-10, atol=1e-10)


def block_pairs(model):
    """The ResNet blocks' and stem's [convK, bnK] attribute pairs, which fuse_conv_bn cannot see."""
    names = []
    for prefix, m in model.named_modules():
        for k in range(1, 4):
            conv, bn = m._modules.get(f"conv{k}"), m._modules.get(f"bn{k}")
            if isinstance(conv, nn.Conv2d) and isinstance(bn, nn.BatchNorm2d):
                names.append([f"{prefix}.conv{k}".lstrip("."), f"{prefix}.bn{k}".lstrip(".")])
    return names


def test_resnet18_fused_same_eval_outputs():
    cr.manual_seed(0)
    model = randomize_bn(models.resnet18(num_classes=10).double()).eval()
    x = cr.tensor(np.random.default_rng(5).standard_normal((2, 3, 32, 32)))
    with cr.no_grad():
        expected = model(x).detach().numpy()
        projections = fuse_conv_bn(model)  # only the downsample Sequentials hold a conv → BN pair
        assert count_bn(model) == 20 and count_bn(projections) == 17
        np.testing.assert_allclose(projections(x).detach().numpy(), expected, rtol=1e-10, atol=1e-10)
        everything = fuse_modules(projections, block_pairs(projections))
        assert count_bn(everything) == 0 and count_bn(projections) == 17
        np.testing.assert_allclose(everything(x).detach().numpy(), expected, rtol=1e-10, atol=1e-10)


def test_resnet20_fuse_modules_same_eval_outputs():
    cr.manual_seed(0)
    model = randomize_bn(models.resnet20().double()).eval()
    fused = fuse_modules(model, block_pairs(model))
    assert count_bn(model) == 19 and count_bn(fused) == 0
    x = cr.tensor(np.random.default_rng(6).standard_normal((2, 3, 32, 32)))
    with cr.no_grad():
        np.testing.assert_allclose(fused(x).detach().numpy(), model(x).detach().numpy(), rtol=1e-10, atol=1e-10)


def test_relu_after_bn_fuses_into_the_layer():
    """conv → BN → ReLU in a Sequential: the conv becomes Conv2dReLU (same parameter names), BN and ReLU
    Identities; in inference its max(·, 0) is taken in place on the conv's output; equal to the unfused stack
    with and without a graph, and its gradient is the recorded ReLU's."""
    cr.manual_seed(0)
    stack = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.Conv2d(4, 2, 1),
                          nn.BatchNorm2d(2))
    stack = randomize_bn(stack.double()).eval()
    fused = fuse_conv_bn(stack)
    assert type(fused[0]).__name__ == "Conv2dReLU" and isinstance(fused[0], nn.Conv2d)
    assert [type(m).__name__ for m in fused] == ["Conv2dReLU", "Identity", "Identity", "Conv2d", "Identity"]
    assert list(fused.state_dict()) == ["0.weight", "0.bias", "3.weight", "3.bias"]
    x = cr.tensor(np.random.default_rng(5).standard_normal((2, 3, 6, 6)), requires_grad=True)
    with cr.no_grad():
        np.testing.assert_allclose(fused(x).numpy(force=True), stack(x).numpy(force=True), rtol=1e-10, atol=1e-10)
        hidden = fused[0](x)
        assert hidden.min().item() == 0.0  # the ReLU applied, in place
    out, want = fused(x), stack(x)
    assert out.grad_fn is not None
    out.sum().backward()
    g = x.grad.numpy().copy()
    x.grad = None
    want.sum().backward()
    np.testing.assert_allclose(g, x.grad.numpy(), rtol=1e-10, atol=1e-10)
    assert type(stack[2]) is nn.ReLU  # the original is untouched
