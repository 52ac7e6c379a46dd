"""chainrule.nn conv, transposed conv and pooling layers: parameter shapes, PyTorch's default initialization,
forward and gradients (input, weight, bias) equal to torch's modules holding the same weights (the conv and
pooling layers on both paths: fast kernels and reference ops), repr, error messages that name the layer, receptive_field on
tuples and module stacks (VGG-16 by hand), a LeNet-5 stack."""
import math
import re

import numpy as np
import pytest
import torch
import torch.nn as tnn

import chainrule as cr
from chainrule import nn
from tests.parity import TOL, assert_parity


def normal(shape, seed, dtype=np.float64):
    return np.asarray(np.random.default_rng(seed).standard_normal(shape), dtype=dtype)


def torch_twin(module, torch_cls, *args, **kwargs):
    """The torch module built with the same arguments, in float64, holding ``module``'s weights."""
    twin = torch_cls(*args, **kwargs).double()
    with torch.no_grad():
        for name, p in module.named_parameters():
            getattr(twin, name).copy_(torch.tensor(p.data))
    return twin


def assert_module_parity(module, twin, x, twin_call=None):
    """Output and input gradient through assert_parity, then every parameter's gradient."""
    assert_parity(lambda t: module(t), twin_call or (lambda t: twin(t)), x)
    tol = TOL[np.float64]
    for name, p in module.named_parameters():
        ref = getattr(twin, name).grad.numpy()
        assert p.grad is not None and p.grad.dtype == p.dtype, name
        np.testing.assert_allclose(p.grad.data, ref, **tol, err_msg=f"gradient of {name} differs from torch")


# ----- parameters and initialization ------------------------------------------------------------------

@pytest.mark.parametrize("cls, args, kwargs, weight, bias", [
    (nn.Conv2d, (3, 16, 3), {}, (16, 3, 3, 3), (16,)),
    (nn.Conv2d, (3, 16, (3, 5)), {"bias": False}, (16, 3, 3, 5), None),
    (nn.Conv2d, (4, 8, 3), {"groups": 2}, (8, 2, 3, 3), (8,)),
    (nn.Conv2d, (6, 6, 3), {"groups": 6}, (6, 1, 3, 3), (6,)),  # depthwise
    (nn.Conv2d, (6, 12, 1), {}, (12, 6, 1, 1), (12,)),
    (nn.Conv1d, (4, 8, 5), {}, (8, 4, 5), (8,)),
    (nn.Conv1d, (4, 8, (5,)), {"groups": 4, "bias": False}, (8, 1, 5), None),
    (nn.ConvTranspose2d, (3, 16, 3), {}, (3, 16, 3, 3), (16,)),  # (in, out/groups, k…): transposed
    (nn.ConvTranspose2d, (4, 8, (3, 5)), {"groups": 2, "bias": False}, (4, 4, 3, 5), None),
    (nn.ConvTranspose1d, (4, 8, 5), {"groups": 4}, (4, 2, 5), (8,)),
])
def test_conv_parameter_shapes(cls, args, kwargs, weight, bias):
    m = cls(*args, **kwargs)
    assert m.weight.shape == weight
    assert (m.bias is None) if bias is None else (m.bias.shape == bias)
    names = [n for n, _ in m.named_parameters()]
    assert names == (["weight"] if bias is None else ["weight", "bias"])
    assert m.weight.requires_grad and m.weight.dtype == np.float32  # torch's default dtype
    assert tuple(p.shape for p in m.parameters()) == tuple(
        p.shape for p in getattr(tnn, cls.__name__)(*args, **kwargs).parameters())


@pytest.mark.parametrize("cls, args, kwargs", [
    (nn.Conv2d, (16, 32, 3), {}), (nn.Conv2d, (8, 32, (5, 3)), {"groups": 4}), (nn.Conv2d, (3, 64, 1), {}),
    (nn.Conv1d, (6, 48, 7), {}), (nn.Conv2d, (32, 32, 3), {"groups": 32}),
    (nn.ConvTranspose2d, (32, 16, 3), {}), (nn.ConvTranspose2d, (32, 8, (5, 3)), {"groups": 4}),
    (nn.ConvTranspose1d, (48, 6, 7), {}),
])
def test_conv_default_init_is_uniform_within_one_over_sqrt_fan_in(cls, args, kwargs):
    """PyTorch's default: weight and bias ~ U(−1/√fan_in, 1/√fan_in), fan_in = weight.shape[1] · Πk: in_channels/
    groups · Πk for a convolution, out_channels/groups · Πk for a transposed one (torch's rule for both)."""
    cr.manual_seed(0)
    m = cls(*args, **kwargs)
    channels = args[1] if cls.__name__.startswith("ConvTranspose") else args[0]
    fan_in = channels // kwargs.get("groups", 1) * math.prod(m.kernel_size)
    bound = 1 / math.sqrt(fan_in)
    for p in (m.weight, m.bias):
        assert np.all(np.abs(p.data) <= bound), p.shape
    w = m.weight.data.ravel()
    assert np.abs(w).max() > 0.9 * bound  # the whole range is used, not a narrower one
    assert abs(w.mean()) < 0.1 * bound and abs(w.std() - bound / math.sqrt(3)) < 0.1 * bound
    assert np.abs(m.bias.data).max() > 0.5 * bound


def test_conv_reset_parameters_redraws():
    m = nn.Conv2d(3, 4, 3)
    before = m.weight.data.copy()
    m.reset_parameters()
    assert not np.array_equal(before, m.weight.data)


def test_conv_dtype_argument():
    m = nn.Conv2d(2, 3, 3, dtype=cr.float64)
    assert m.weight.dtype == np.float64 and m.bias.dtype == np.float64


# ----- forward and gradients against torch ------------------------------------------------------------

CONV2D = [
    ((3, 4, 3), {}, (2, 3, 8, 7)),
    ((3, 4, (3, 5)), {"stride": (2, 1), "padding": (1, 2), "dilation": (1, 2)}, (2, 3, 9, 10)),
    ((4, 6, 3), {"groups": 2, "padding": 2}, (2, 4, 6, 6)),
    ((4, 8, 3), {"groups": 4, "padding": "same"}, (1, 4, 7, 6)),  # depthwise, multiplier 2
    ((3, 5, 1), {}, (2, 3, 5, 5)),
    ((3, 5, 1), {"stride": 2, "bias": False}, (2, 3, 5, 5)),
    ((2, 3, 4), {"padding": "valid"}, (2, 2, 6, 6)),
    ((2, 3, (2, 4)), {"padding": "same", "dilation": 2}, (2, 2, 7, 8)),
    ((3, 2, 3), {"padding": 1}, (3, 7, 7)),  # unbatched
]


@pytest.mark.usefixtures("both_paths")
@pytest.mark.filterwarnings("ignore:Using padding='same'")
@pytest.mark.parametrize("args, kwargs, shape", CONV2D)
def test_conv2d_module_matches_torch(args, kwargs, shape):
    m = nn.Conv2d(*args, **kwargs, dtype=cr.float64)
    assert_module_parity(m, torch_twin(m, tnn.Conv2d, *args, **kwargs), normal(shape, 0))


CONV1D = [
    ((3, 4, 3), {}, (2, 3, 9)),
    ((3, 4, 5), {"stride": 2, "padding": 2, "dilation": 2}, (2, 3, 12)),
    ((4, 4, 3), {"groups": 4, "padding": "same"}, (2, 4, 8)),
    ((2, 6, 1), {"bias": False}, (2, 2, 5)),
    ((3, 2, 3), {"padding": 1}, (3, 7)),  # unbatched
]


@pytest.mark.usefixtures("both_paths")
@pytest.mark.parametrize("args, kwargs, shape", CONV1D)
def test_conv1d_module_matches_torch(args, kwargs, shape):
    m = nn.Conv1d(*args, **kwargs, dtype=cr.float64)
    assert_module_parity(m, torch_twin(m, tnn.Conv1d, *args, **kwargs), normal(shape, 0))


CONV_TRANSPOSE2D = [
    ((3, 4, 3), {}, (2, 3, 5, 4)),
    ((3, 4, (3, 2)), {"stride": 2, "padding": 1, "output_padding": 1}, (2, 3, 4, 5)),
    ((4, 6, 3), {"stride": (1, 3), "padding": (2, 1), "output_padding": (1, 2), "dilation": (2, 1), "groups": 2},
     (3, 4, 5, 4)),
    ((4, 8, 4), {"stride": 2, "padding": 1, "groups": 4, "bias": False}, (1, 4, 3, 3)),  # depthwise, ×2 upsampling
    ((3, 5, 1), {}, (2, 3, 4, 4)),
    ((3, 2, 3), {"stride": 2}, (3, 4, 4)),  # unbatched
]


@pytest.mark.usefixtures("both_paths")
@pytest.mark.parametrize("args, kwargs, shape", CONV_TRANSPOSE2D)
def test_conv_transpose2d_module_matches_torch(args, kwargs, shape):
    m = nn.ConvTranspose2d(*args, **kwargs, dtype=cr.float64)
    assert_module_parity(m, torch_twin(m, tnn.ConvTranspose2d, *args, **kwargs), normal(shape, 0))


CONV_TRANSPOSE1D = [
    ((3, 4, 3), {}, (2, 3, 6)),
    ((4, 6, 5), {"stride": 3, "padding": 2, "output_padding": 2, "dilation": 2, "groups": 2}, (2, 4, 5)),
    ((3, 2, 3), {"stride": 2, "bias": False}, (3, 7)),  # unbatched
]


@pytest.mark.usefixtures("both_paths")
@pytest.mark.parametrize("args, kwargs, shape", CONV_TRANSPOSE1D)
def test_conv_transpose1d_module_matches_torch(args, kwargs, shape):
    m = nn.ConvTranspose1d(*args, **kwargs, dtype=cr.float64)
    assert_module_parity(m, torch_twin(m, tnn.ConvTranspose1d, *args, **kwargs), normal(shape, 0))


@pytest.mark.parametrize("cls, torch_cls, x, output_size", [
    (nn.ConvTranspose2d, tnn.ConvTranspose2d, (2, 4, 5, 5), (10, 9)),
    (nn.ConvTranspose2d, tnn.ConvTranspose2d, (2, 4, 5, 5), (2, 6, 9, 10)),  # with the batch and channel dims
    (nn.ConvTranspose2d, tnn.ConvTranspose2d, (4, 5, 5), (6, 10, 10)),  # unbatched
    (nn.ConvTranspose1d, tnn.ConvTranspose1d, (2, 4, 5), (10,)),
])
def test_conv_transpose_module_output_size(cls, torch_cls, x, output_size):
    """forward(x, output_size): the output_padding that gives that size (a strided conv maps several sizes to one)."""
    m = cls(4, 6, 3, stride=2, padding=1, dtype=cr.float64)
    twin = torch_twin(m, torch_cls, 4, 6, 3, stride=2, padding=1)
    out = assert_parity(lambda t: m(t, output_size=output_size), lambda t: twin(t, output_size=list(output_size)),
                        normal(x, 0))
    assert out.shape[-len(m.kernel_size):] == tuple(output_size)[-len(m.kernel_size):]


def test_conv_transpose_module_output_size_out_of_range():
    m = nn.ConvTranspose2d(4, 6, 3, stride=2, padding=1)
    with pytest.raises(ValueError, match=r"^ConvTranspose2d\(4, 6, .*\): requested an output size of \(11, 10\), but "
                                         r"valid sizes range from \(9, 9\) to \(10, 10\) \(for an input of \(5, 5\)\)"):
        m(cr.zeros(2, 4, 5, 5), output_size=(11, 10))
    with pytest.raises(ValueError):  # torch refuses the same size
        tnn.ConvTranspose2d(4, 6, 3, stride=2, padding=1)(torch.zeros(2, 4, 5, 5), output_size=[11, 10])
    with pytest.raises(ValueError, match=r"output_size must have 2 elements"):
        m(cr.zeros(2, 4, 5, 5), output_size=(10,))


@pytest.mark.parametrize("padding", ["same", "full"])
def test_conv2d_module_same_with_stride_and_full(padding):
    """'same' with stride 2: TensorFlow's rule (torch refuses it); 'full' pads d·(k − 1) on each side."""
    m = nn.Conv2d(2, 3, 3, stride=2, padding=padding, dtype=cr.float64)
    pad = (0, 1, 0, 1) if padding == "same" else (2, 2, 2, 2)
    twin = torch_twin(m, tnn.Conv2d, 2, 3, 3, stride=2)
    assert_module_parity(m, twin, normal((1, 2, 128, 128), 0), lambda t: twin(torch.nn.functional.pad(t, pad)))
    assert m(cr.zeros(1, 2, 128, 128, dtype=cr.float64)).shape == (
        (1, 3, 64, 64) if padding == "same" else (1, 3, 65, 65))  # the note's 128×128, 3×3/2, SAME → 64×64


POOLS = [
    (nn.MaxPool2d, tnn.MaxPool2d, (3, 2), {}, (2, 3, 13, 13)),  # AlexNet's overlapping pooling
    (nn.MaxPool2d, tnn.MaxPool2d, (2,), {}, (2, 3, 8, 7)),
    (nn.MaxPool2d, tnn.MaxPool2d, ((3, 2), (2, 1), (1, 1)), {"dilation": (1, 2), "ceil_mode": True}, (2, 2, 9, 8)),
    (nn.MaxPool1d, tnn.MaxPool1d, (3,), {"stride": 2, "padding": 1, "ceil_mode": True}, (2, 3, 10)),
    (nn.AvgPool2d, tnn.AvgPool2d, (3, 2, 1), {"count_include_pad": False, "ceil_mode": True}, (2, 3, 8, 9)),
    (nn.AvgPool2d, tnn.AvgPool2d, (2,), {"divisor_override": 3}, (2, 3, 6, 6)),
    (nn.AvgPool1d, tnn.AvgPool1d, (4, 3, 2), {"count_include_pad": False}, (2, 3, 11)),
    (nn.AdaptiveAvgPool2d, tnn.AdaptiveAvgPool2d, ((1, 1),), {}, (2, 3, 7, 5)),
    (nn.AdaptiveAvgPool2d, tnn.AdaptiveAvgPool2d, ((3, None),), {}, (2, 3, 7, 5)),
    (nn.AdaptiveMaxPool2d, tnn.AdaptiveMaxPool2d, (3,), {}, (2, 3, 7, 5)),
    (nn.MaxPool2d, tnn.MaxPool2d, (2,), {}, (3, 6, 6)),  # unbatched
]


@pytest.mark.usefixtures("both_paths")
@pytest.mark.parametrize("cls, torch_cls, args, kwargs, shape", POOLS)
def test_pool_module_matches_torch(cls, torch_cls, args, kwargs, shape):
    assert_parity(cls(*args, **kwargs), torch_cls(*args, **kwargs), normal(shape, 0))


@pytest.mark.usefixtures("both_paths")
@pytest.mark.parametrize("cls, torch_cls, args", [(nn.MaxPool2d, tnn.MaxPool2d, (3, 2, 1)),
                                                  (nn.MaxPool1d, tnn.MaxPool1d, (3, 2, 1)),
                                                  (nn.AdaptiveMaxPool2d, tnn.AdaptiveMaxPool2d, ((3, 2),))])
def test_max_pool_modules_return_indices(cls, torch_cls, args):
    x = normal((2, 3, 7, 6) if cls is not nn.MaxPool1d else (2, 3, 7), 0)
    out, idx = cls(*args, return_indices=True)(cr.tensor(x))
    ref, ref_idx = torch_cls(*args, return_indices=True)(torch.tensor(x))
    np.testing.assert_array_equal(out.data, ref.numpy())
    np.testing.assert_array_equal(idx.data, ref_idx.numpy())


@pytest.mark.usefixtures("both_paths")
def test_global_avg_pool_module_is_adaptive_avg_pool_1x1():
    x = normal((2, 5, 6, 7), 0)
    out = assert_parity(nn.GlobalAvgPool2d(), tnn.AdaptiveAvgPool2d((1, 1)), x)
    assert out.shape == (2, 5, 1, 1)
    np.testing.assert_allclose(nn.AdaptiveAvgPool2d((1, 1))(cr.tensor(x)).data, out.data, rtol=1e-12)


@pytest.mark.usefixtures("both_paths")
def test_module_float32_in_float32_out():
    m = nn.Conv2d(3, 4, 3, padding=1)
    twin = tnn.Conv2d(3, 4, 3, padding=1)
    with torch.no_grad():
        twin.weight.copy_(torch.tensor(m.weight.data))
        twin.bias.copy_(torch.tensor(m.bias.data))
    out = assert_parity(lambda t: nn.MaxPool2d(2)(m(t)), lambda t: tnn.MaxPool2d(2)(twin(t)),
                        normal((2, 3, 8, 8), 0, np.float32))
    assert out.dtype == np.float32 and m.weight.grad.dtype == np.float32
    np.testing.assert_allclose(m.weight.grad.data, twin.weight.grad.numpy(), **TOL[np.float32])


# ----- repr -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("cls, args, kwargs", [
    ("Conv2d", (3, 16, 3), {}),
    ("Conv2d", (3, 16, (3, 5)), {"stride": 2, "padding": (1, 2), "dilation": (2, 1), "bias": False}),
    ("Conv2d", (4, 8, 3), {"groups": 4, "padding": 1}),
    ("Conv1d", (4, 8, 5), {"padding": 2, "groups": 2}),
    ("ConvTranspose2d", (3, 16, 3), {}),
    ("ConvTranspose2d", (4, 8, (3, 5)), {"stride": 2, "padding": (1, 2), "output_padding": 1, "dilation": (2, 1),
                                         "groups": 2, "bias": False}),
    ("ConvTranspose1d", (4, 8, 5), {"stride": 3, "output_padding": 2}),
    ("MaxPool2d", (3, 2), {}), ("MaxPool2d", (2,), {"padding": 1, "ceil_mode": True}), ("MaxPool1d", (2,), {}),
    ("AvgPool2d", (2,), {}), ("AdaptiveAvgPool2d", ((1, 1),), {}), ("AdaptiveMaxPool2d", (2,), {}),
])
def test_repr_matches_torch(cls, args, kwargs):
    assert repr(getattr(nn, cls)(*args, **kwargs)) == repr(getattr(tnn, cls)(*args, **kwargs))


def test_repr_of_string_padding_and_of_a_stack():
    assert "padding='same'" in repr(nn.Conv2d(3, 8, 3, padding="same"))
    assert "padding" not in repr(nn.Conv2d(3, 8, 3, padding="valid"))
    assert repr(nn.Sequential(nn.Conv2d(1, 6, 5), nn.MaxPool2d(2))) == (
        "Sequential(\n  (0): Conv2d(1, 6, kernel_size=(5, 5), stride=(1, 1))\n"
        "  (1): MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False)\n)")


# ----- errors -----------------------------------------------------------------------------------------

def test_conv2d_module_wrong_channels_names_the_layer():
    m = nn.Conv2d(3, 16, 3)
    with pytest.raises(ValueError) as e:
        m(cr.zeros(1, 1, 28, 28))
    msg = str(e.value)
    assert msg.startswith("Conv2d(3, 16, kernel_size=(3, 3), stride=(1, 1))")
    assert "(N, 3, H, W)" in msg and "(3, H, W)" in msg and "(1, 1, 28, 28)" in msg


@pytest.mark.parametrize("shape", [(28, 28), (1, 1, 3, 28, 28), (28,)])
def test_conv2d_module_wrong_ndim_names_the_layer(shape):
    with pytest.raises(ValueError, match=r"^Conv2d\(3, 16, kernel_size=\(3, 3\)") as e:
        nn.Conv2d(3, 16, 3)(cr.zeros(*shape))
    assert str(shape) in str(e.value)


def test_conv1d_module_wrong_input_names_the_layer():
    with pytest.raises(ValueError, match=r"^Conv1d\(3, 8, kernel_size=\(3,\), stride=\(1,\)\)") as e:
        nn.Conv1d(3, 8, 3)(cr.zeros(2, 4, 10))
    assert "(N, 3, L)" in str(e.value) and "(2, 4, 10)" in str(e.value)
    with pytest.raises(ValueError, match=r"^Conv1d\(3, 8") as e:
        nn.Conv1d(3, 8, 3)(cr.zeros(2, 3, 1, 10))
    assert "(2, 3, 1, 10)" in str(e.value)


def test_conv_transpose_module_wrong_channels_names_the_layer():
    with pytest.raises(ValueError, match=r"^ConvTranspose2d\(3, 16, kernel_size=\(3, 3\)") as e:
        nn.ConvTranspose2d(3, 16, 3)(cr.zeros(1, 16, 8, 8))
    assert "(N, 3, H, W)" in str(e.value) and "(1, 16, 8, 8)" in str(e.value)


def test_conv_transpose_module_refuses_string_padding_and_bad_output_padding():
    with pytest.raises(ValueError, match=r"ConvTranspose2d: padding must be an int or a tuple, got 'same'"):
        nn.ConvTranspose2d(3, 4, 3, padding="same")
    with pytest.raises(ValueError, match=r"conv_transpose2d: output_padding must be smaller than stride or dilation"):
        nn.ConvTranspose2d(3, 4, 3, stride=2, output_padding=2)(cr.zeros(1, 3, 4, 4))


def test_conv_module_kernel_larger_than_input():
    with pytest.raises(ValueError, match=r"conv2d: kernel size \(5, 5\) \(dilated\) is larger than the padded input "
                                         r"\(4, 4\) of input shape \(2, 3, 4, 4\)"):
        nn.Conv2d(3, 16, 5)(cr.zeros(2, 3, 4, 4))
    with pytest.raises(ValueError, match=r"conv1d: kernel size \(5,\) .* of input shape \(2, 3, 4\)"):
        nn.Conv1d(3, 16, 5)(cr.zeros(2, 3, 4))


@pytest.mark.parametrize("kwargs, message", [
    ({"in_channels": 3, "out_channels": 16, "kernel_size": 3, "groups": 2},
     r"Conv2d: groups=2 must divide in_channels=3 and out_channels=16"),
    ({"in_channels": 4, "out_channels": 6, "kernel_size": 3, "groups": 4},
     r"Conv2d: groups=4 must divide in_channels=4 and out_channels=6"),
    ({"in_channels": 0, "out_channels": 6, "kernel_size": 3}, r"Conv2d: channels must be positive"),
    ({"in_channels": 3, "out_channels": 6, "kernel_size": 3, "padding": "half"},
     r"Conv2d: padding must be .*got 'half'"),
    ({"in_channels": 3, "out_channels": 6, "kernel_size": 3, "padding_mode": "reflect"},
     r"Conv2d: only padding_mode='zeros' is supported, got 'reflect'"),
])
def test_conv_module_constructor_errors(kwargs, message):
    with pytest.raises(ValueError, match=message):
        nn.Conv2d(**kwargs)


@pytest.mark.parametrize("cls, kernel_size", [(nn.Conv2d, 0), (nn.Conv2d, (3, 0)), (nn.Conv2d, -1), (nn.Conv1d, 0)])
def test_conv_module_refuses_a_non_positive_kernel_size(cls, kernel_size):
    """torch builds a layer with a 0 kernel (its forward fails, as F.conv2d's does here); the error comes
    at construction here, before an init that would divide by a fan-in of 0."""
    with pytest.raises(ValueError, match=re.escape(f"{cls.__name__}: kernel_size must be positive, got {kernel_size}")):
        cls(1, 2, kernel_size)


def test_pool_module_errors_name_the_op():
    with pytest.raises(ValueError, match=r"max_pool2d: kernel \(5, 5\) .* larger than the padded input of shape "
                                         r"\(1, 2, 4, 4\)"):
        nn.MaxPool2d(5)(cr.zeros(1, 2, 4, 4))
    with pytest.raises(ValueError, match=r"avg_pool2d: padding \(2, 2\) must be at most half the kernel size \(2, 2\)"):
        nn.AvgPool2d(2, padding=2)(cr.zeros(1, 2, 8, 8))
    with pytest.raises(ValueError, match=r"max_pool1d: expected a 2-D or 3-D input, got shape \(1, 2, 8, 8\)"):
        nn.MaxPool1d(2)(cr.zeros(1, 2, 8, 8))


# ----- receptive field --------------------------------------------------------------------------------

@pytest.mark.parametrize("layers, expected", [
    ([], (1, 1)),
    ([(3, 1)], (3, 1)),
    ([(3, 1), (3, 1)], (5, 1)),  # two 3×3 convs see what one 5×5 sees [VGG]
    ([(3, 1), (3, 1), (3, 1)], (7, 1)),
    ([(3, 1), (3, 1), (2, 2)], (6, 2)),
    ([(2, 2), (3, 1)], (6, 2)),  # after a stride-2 layer a 3×3 adds 2·2
    ([(3, 1, 2), (3, 1, 4)], (13, 1)),  # dilation 2 then 4: 1 + 2·2 + 2·4
    ([(3, 2, 2), (3, 1)], (9, 2)),
    # AlexNet: 11/4, pool 3/2, 5/1, pool 3/2, 3/1 ×3, pool 3/2 → 195
    ([(11, 4), (3, 2), (5, 1), (3, 2), (3, 1), (3, 1), (3, 1), (3, 2)], (195, 32)),
])
def test_receptive_field_of_tuples(layers, expected):
    assert nn.receptive_field(layers) == expected


def vgg16_stages():
    """VGG-16's conv part: 2, 2, 3, 3, 3 3×3 convs (padding 1), each stage closed by a 2×2/2 max-pool."""
    stages, c = [], 3
    for n, width in [(2, 64), (2, 128), (3, 256), (3, 512), (3, 512)]:
        layers = []
        for _ in range(n):
            layers += [nn.Conv2d(c, width, 3, padding=1), nn.ReLU()]
            c = width
        stages.append(nn.Sequential(*layers, nn.MaxPool2d(2, 2)))
    return stages


# r after each conv and pool, by hand: r += (k − 1)·jump, jump *= stride
#   stage 1 (jump 1):  3, 5,       pool → 6   (jump 2)
#   stage 2 (jump 2):  10, 14,     pool → 16  (jump 4)
#   stage 3 (jump 4):  24, 32, 40, pool → 44  (jump 8)
#   stage 4 (jump 8):  60, 76, 92, pool → 100 (jump 16)
#   stage 5 (jump 16): 132, 164, 196, pool → 212 (jump 32)
VGG16_AFTER_EACH = [3, 5, 6, 10, 14, 16, 24, 32, 40, 44, 60, 76, 92, 100, 132, 164, 196, 212]


def test_receptive_field_of_vgg16_layer_by_layer():
    flat = [m for stage in vgg16_stages() for m in stage if not isinstance(m, nn.ReLU)]
    assert len(flat) == len(VGG16_AFTER_EACH)
    for i, r in enumerate(VGG16_AFTER_EACH):
        assert nn.receptive_field(flat[: i + 1])[0] == r, i
    assert nn.receptive_field(flat) == (212, 32)


def test_receptive_field_of_module_stacks():
    stages = vgg16_stages()
    assert nn.receptive_field(stages[0]) == (6, 2)  # a Sequential; its ReLUs add nothing
    assert nn.receptive_field(nn.Sequential(*stages)) == (212, 32)  # nested Sequential blocks are opened
    assert nn.receptive_field(stages) == (212, 32)
    assert nn.receptive_field([nn.Conv2d(1, 1, 3, dilation=2), nn.Conv2d(1, 1, 3, stride=2)]) == (7, 2)
    assert nn.receptive_field([nn.Conv1d(1, 1, 5, stride=3), nn.MaxPool1d(2), nn.AvgPool2d(3, 1)]) == (5 + 3 + 12, 6)
    assert nn.receptive_field([nn.Conv2d(1, 1, (3, 7), stride=(2, 1)), nn.Conv2d(1, 1, 3)]) == (7, 2)  # first dim


def test_two_3x3_convs_see_a_5x5_patch():
    """Receptive field measured, not computed: the gradient of one output of two stacked 3×3 convs
    reaches exactly a 5×5 patch of the input."""
    cr.manual_seed(0)
    stack = nn.Sequential(nn.Conv2d(1, 2, 3), nn.Conv2d(2, 1, 3))
    x = cr.tensor(np.ones((1, 1, 9, 9), dtype=np.float32), requires_grad=True)
    stack[0].weight.data[...] = np.abs(stack[0].weight.data) + 0.1
    stack[1].weight.data[...] = np.abs(stack[1].weight.data) + 0.1
    stack(x)[0, 0, 2, 2].backward()
    rows, cols = np.nonzero(x.grad.data[0, 0])
    assert (rows.min(), rows.max(), cols.min(), cols.max()) == (2, 6, 2, 6)
    assert nn.receptive_field(stack) == (5, 1)


# ----- a LeNet-5-like stack ---------------------------------------------------------------------------

@pytest.mark.usefixtures("both_paths")
def test_lenet5_like_sequential():
    cr.manual_seed(0)
    features = nn.Sequential(nn.Conv2d(1, 6, 5, padding=2), nn.Tanh(), nn.AvgPool2d(2),
                             nn.Conv2d(6, 16, 5), nn.Tanh(), nn.AvgPool2d(2))
    model = nn.Sequential(features, nn.Flatten(), nn.Linear(16 * 5 * 5, 120), nn.Tanh(), nn.Linear(120, 84), nn.Tanh(),
                          nn.Linear(84, 10))
    x = cr.randn(4, 1, 28, 28)
    shapes = []
    h = x
    for m in features:
        h = m(h)
        shapes.append(h.shape)
    assert shapes == [(4, 6, 28, 28), (4, 6, 28, 28), (4, 6, 14, 14), (4, 16, 10, 10), (4, 16, 10, 10), (4, 16, 5, 5)]
    out = model(x)
    assert out.shape == (4, 10)
    out.sum().backward()
    assert all(p.grad is not None and p.grad.shape == p.shape for p in model.parameters())
    assert sum(p.data.size for p in model.parameters()) == 61706  # LeNet-5's parameter count
    assert nn.receptive_field(features) == (16, 4)  # 5, pool → 6 (jump 2), 5 → 14, pool → 16
