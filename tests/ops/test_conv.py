"""chainrule.ops.conv against torch: conv1d / conv2d forward and the gradients of input, weight and bias
over drawn shapes, strides, paddings, dilations and groups (float64); 'valid' / 'same' / 'full' padding,
including TensorFlow's 'same' with stride > 1 (checked against explicit asymmetric padding); depthwise and
1×1 convolutions (the fast path); unbatched inputs; float32; finite differences; conv_output_size; errors.
conv_transpose1d / conv_transpose2d: the same over a grid of strides, paddings, output paddings, dilations
and groups; it is the input gradient of conv2d; its errors. Every test runs on the fast kernels and on the
reference ops (the both_paths fixture)."""
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as TF
from hypothesis import given, settings
from hypothesis import strategies as st

import chainrule as cr
import chainrule.nn.functional as F
from chainrule.nn import conv_output_size
from tests.parity import assert_parity

pytestmark = pytest.mark.usefixtures("both_paths")

SETTINGS = settings(max_examples=40, deadline=None)


def normal(shape, seed, dtype=np.float64):
    return np.asarray(np.random.default_rng(seed).standard_normal(shape), dtype=dtype)


def conv_args(x, w, b, seed=0):
    """The array arguments of a conv call, bias left out when ``b`` is False."""
    arrays = [normal(x, seed), normal(w, seed + 1)]
    if b:
        arrays.append(normal(w[0], seed + 2))
    return arrays


def tf_same_pads(size, kernel, stride, dilation):
    """TensorFlow's SAME, written out: output ⌈size / stride⌉, the odd pixel of padding at the end."""
    out = math.ceil(size / stride)
    total = max((out - 1) * stride + dilation * (kernel - 1) + 1 - size, 0)
    return total // 2, total - total // 2


@st.composite
def conv2d_cases(draw):
    groups = draw(st.sampled_from([1, 1, 2, 3]))
    c, o = groups * draw(st.integers(1, 2)), groups * draw(st.integers(1, 2))
    kh, kw = draw(st.integers(1, 7)), draw(st.integers(1, 7))
    sh, sw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    dh, dw = draw(st.integers(1, 2)), draw(st.integers(1, 2))
    ph, pw = draw(st.integers(0, 3)), draw(st.integers(0, 3))
    # every size the padded input still fits the dilated kernel in, odd and even
    h_min, w_min = max(1, dh * (kh - 1) + 1 - 2 * ph), max(1, dw * (kw - 1) + 1 - 2 * pw)
    h, w = draw(st.integers(h_min, h_min + 7)), draw(st.integers(w_min, w_min + 7))
    n = draw(st.integers(1, 3))
    bias = draw(st.booleans())
    return {"x": (n, c, h, w), "w": (o, c // groups, kh, kw), "bias": bias, "stride": (sh, sw), "padding": (ph, pw),
            "dilation": (dh, dw), "groups": groups, "seed": draw(st.integers(0, 2**16))}


@st.composite
def conv1d_cases(draw):
    groups = draw(st.sampled_from([1, 1, 2, 3]))
    c, o = groups * draw(st.integers(1, 2)), groups * draw(st.integers(1, 3))
    k, s, d, p = draw(st.integers(1, 7)), draw(st.integers(1, 3)), draw(st.integers(1, 3)), draw(st.integers(0, 4))
    l_min = max(1, d * (k - 1) + 1 - 2 * p)
    length = draw(st.integers(l_min, l_min + 8))
    return {"x": (draw(st.integers(1, 3)), c, length), "w": (o, c // groups, k), "bias": draw(st.booleans()),
            "stride": s, "padding": p, "dilation": d, "groups": groups, "seed": draw(st.integers(0, 2**16))}


def check_conv(ours, theirs, case, **overrides):
    args = {k: case[k] for k in ("stride", "padding", "dilation", "groups")} | overrides
    arrays = conv_args(case["x"], case["w"], case["bias"], case["seed"])
    if case["bias"]:
        return assert_parity(lambda x, w, b: ours(x, w, b, **args), lambda x, w, b: theirs(x, w, b, **args), *arrays)
    return assert_parity(lambda x, w: ours(x, w, **args), lambda x, w: theirs(x, w, **args), *arrays)


# ----- parity over drawn arguments --------------------------------------------------------------------

@SETTINGS
@given(case=conv2d_cases())
def test_conv2d_parity(case):
    check_conv(F.conv2d, TF.conv2d, case)


@SETTINGS
@given(case=conv1d_cases())
def test_conv1d_parity(case):
    check_conv(F.conv1d, TF.conv1d, case)


@SETTINGS
@given(case=conv2d_cases())
def test_conv2d_valid_is_no_padding(case):
    fits = all(n >= d * (k - 1) + 1 for n, d, k in zip(case["x"][2:], case["dilation"], case["w"][2:]))
    if fits:
        check_conv(F.conv2d, TF.conv2d, case, padding="valid")  # torch's 'valid'
        check_conv(F.conv2d, TF.conv2d, case, padding=0)
    else:
        with pytest.raises(ValueError, match="larger than the padded input"):
            check_conv(F.conv2d, TF.conv2d, case, padding="valid")


@pytest.mark.filterwarnings("ignore:Using padding='same'")
@SETTINGS
@given(case=conv2d_cases())
def test_conv2d_same_stride1_matches_torch_same(case):
    out = check_conv(F.conv2d, TF.conv2d, case, padding="same", stride=1)
    assert out.shape[2:] == case["x"][2:]


@pytest.mark.filterwarnings("ignore:Using padding='same'")
@SETTINGS
@given(case=conv1d_cases())
def test_conv1d_same_stride1_matches_torch_same(case):
    out = check_conv(F.conv1d, TF.conv1d, case, padding="same", stride=1)
    assert out.shape[2] == case["x"][2]


def torch_tf_same_conv2d(x, w, b=None, stride=1, padding=None, dilation=1, groups=1):
    (t, bo), (le, r) = (tf_same_pads(x.shape[2 + i], w.shape[2 + i], stride[i], dilation[i]) for i in range(2))
    return TF.conv2d(TF.pad(x, (le, r, t, bo)), w, b, stride, 0, dilation, groups)


@SETTINGS
@given(case=conv2d_cases())
def test_conv2d_same_any_stride_is_tensorflow_rule(case):
    """PyTorch refuses 'same' with stride > 1; we follow TensorFlow: output ⌈size / stride⌉, the extra pad
    on the bottom/right — checked against F.pad with those asymmetric pads, then a torch conv."""
    out = check_conv(F.conv2d, torch_tf_same_conv2d, case, padding="same")
    assert out.shape[2:] == tuple(math.ceil(n / s) for n, s in zip(case["x"][2:], case["stride"]))


@pytest.mark.parametrize("size, kernel, stride, pads", [
    (128, 3, 2, (0, 1)),  # the note's example: 128×128, 3×3, stride 2, SAME → 64×64
    (7, 3, 2, (1, 1)), (8, 4, 2, (1, 1)), (8, 4, 3, (1, 1)), (9, 4, 2, (1, 2)), (5, 1, 2, (0, 0)), (6, 5, 4, (1, 2)),
    (4, 7, 1, (3, 3)),
])
def test_same_padding_split_written_out(size, kernel, stride, pads):
    assert cr.nn.same_padding(size, kernel, stride) == pads
    assert tf_same_pads(size, kernel, stride, 1) == pads


def test_conv2d_same_stride2_note_example():
    """[note 000] 128×128 input, 3×3 kernel, stride 2, SAME → 64×64 (pad 0 on top/left, 1 on bottom/right)."""
    x, w = normal((1, 1, 128, 128), 0), normal((2, 1, 3, 3), 1)
    out = assert_parity(lambda x, w: F.conv2d(x, w, stride=2, padding="same"),
                        lambda x, w: TF.conv2d(TF.pad(x, (0, 1, 0, 1)), w, stride=2), x, w)
    assert out.shape == (1, 2, 64, 64)
    assert conv_output_size(128, 3, 2, "same") == 64


@SETTINGS
@given(case=conv1d_cases())
def test_conv1d_same_any_stride_is_tensorflow_rule(case):
    def theirs(x, w, b=None, stride=1, padding=None, dilation=1, groups=1):
        left, right = tf_same_pads(x.shape[2], w.shape[2], stride, dilation)
        return TF.conv1d(TF.pad(x, (left, right)), w, b, stride, 0, dilation, groups)

    out = check_conv(F.conv1d, theirs, case, padding="same")
    assert out.shape[2] == math.ceil(case["x"][2] / case["stride"])


@SETTINGS
@given(case=conv2d_cases())
def test_conv2d_full_pads_dilated_kernel_extent(case):
    full = tuple(d * (k - 1) for d, k in zip(case["dilation"], case["w"][2:]))
    out = check_conv(F.conv2d, lambda x, w, b=None, **kw: TF.conv2d(x, w, b, **(kw | {"padding": full})), case,
                     padding="full")
    if case["stride"] == (1, 1):  # every partial overlap: the output grows by d·(k − 1)
        assert out.shape[2:] == tuple(n + p for n, p in zip(case["x"][2:], full))


@SETTINGS
@given(case=conv1d_cases())
def test_conv1d_full_pads_dilated_kernel_extent(case):
    full = case["dilation"] * (case["w"][2] - 1)
    check_conv(F.conv1d, lambda x, w, b=None, **kw: TF.conv1d(x, w, b, **(kw | {"padding": full})), case,
               padding="full")


# ----- named cases ------------------------------------------------------------------------------------

@pytest.mark.parametrize("multiplier", [1, 2])
@pytest.mark.parametrize("stride, padding", [(1, 1), (2, 1), (1, "same"), (2, "same")])
def test_depthwise_conv2d(multiplier, stride, padding):
    """groups == in_channels: each channel convolved with its own filter(s) (MobileNet's depthwise)."""
    c = 4
    x, w, b = normal((2, c, 9, 8), 0), normal((c * multiplier, 1, 3, 3), 1), normal(c * multiplier, 2)
    theirs = torch_tf_same_conv2d if padding == "same" else TF.conv2d
    assert_parity(lambda x, w, b: F.conv2d(x, w, b, stride, padding, 1, c),
                  lambda x, w, b: theirs(x, w, b, (stride, stride), padding, (1, 1), c), x, w, b)


def test_depthwise_conv1d():
    assert_parity(lambda x, w, b: F.conv1d(x, w, b, padding=2, groups=5),
                  lambda x, w, b: TF.conv1d(x, w, b, padding=2, groups=5),
                  normal((3, 5, 11), 0), normal((10, 1, 5), 1), normal(10, 2))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("groups", [1, 2])
@pytest.mark.parametrize("stride, padding", [(1, 0), (2, 0), (1, 1), (2, 1), ((1, 2), (0, 2)), (1, "same")])
def test_1x1_conv(stride, padding, groups, dtype):
    """1×1 convolution mixes channels only; stride 1 and no padding take a GEMM-only fast path."""
    x, w, b = normal((2, 4, 5, 6), 0, dtype), normal((6, 4 // groups, 1, 1), 1, dtype), normal(6, 2, dtype)
    out = assert_parity(lambda x, w, b: F.conv2d(x, w, b, stride, padding, groups=groups),
                        lambda x, w, b: TF.conv2d(x, w, b, stride, padding, groups=groups), x, w, b)
    assert out.dtype == dtype


def test_1x1_conv_fast_path_on_a_non_contiguous_input():
    assert_parity(lambda x, w: F.conv2d(x.transpose(2, 3), w), lambda x, w: TF.conv2d(x.transpose(2, 3), w),
                  normal((2, 3, 4, 5), 0), normal((2, 3, 1, 1), 1))


def test_1x1_conv_is_a_per_pixel_matrix_product():
    x, w = normal((2, 3, 4, 5), 0), normal((6, 3, 1, 1), 1)
    out = F.conv2d(cr.tensor(x), cr.tensor(w))
    np.testing.assert_allclose(out.data, np.einsum("oc,nchw->nohw", w[:, :, 0, 0], x), rtol=1e-12)


@pytest.mark.parametrize("kernel, stride, padding, dilation", [
    ((2, 2), 1, 5, 1), ((3, 1), 1, (4, 6), 1), ((2, 3), 2, 5, 1), ((3, 3), 1, 4, (1, 2)), ((1, 1), 1, 3, 1),
    ((1, 1), 3, 2, 1), ((2, 2), (2, 3), (6, 4), 2),
])
def test_conv2d_padding_larger_than_kernel_extent(kernel, stride, padding, dilation):
    """Padding beyond d·(k − 1): border outputs see only zeros (their value is the bias) and the stride-1
    input gradient must crop, not pad, the output gradient."""
    x, w, b = normal((2, 2, 5, 4), 0), normal((3, 2) + kernel, 1), normal(3, 2)
    out = assert_parity(lambda x, w, b: F.conv2d(x, w, b, stride, padding, dilation),
                        lambda x, w, b: TF.conv2d(x, w, b, stride, padding, dilation), x, w, b)
    np.testing.assert_allclose(out.data[0, :, 0, 0], b, rtol=1e-12)


def test_conv1d_padding_larger_than_kernel_extent():
    assert_parity(lambda x, w, b: F.conv1d(x, w, b, padding=6), lambda x, w, b: TF.conv1d(x, w, b, padding=6),
                  normal((2, 3, 4), 0), normal((2, 3, 3), 1), normal(2, 2))


@pytest.mark.parametrize("padding", [0, 1, "same", "full"])
def test_conv2d_unbatched_input(padding):
    """A 3-D input is one image (C, H, W), as in PyTorch: the output is 3-D too."""
    x, w, b = normal((3, 7, 6), 0), normal((4, 3, 3, 2), 1), normal(4, 2)
    if padding == "full":
        theirs = (lambda x, w, b: TF.conv2d(x, w, b, padding=(2, 1)))
    elif padding == "same":
        theirs = (lambda x, w, b: TF.conv2d(TF.pad(x, (0, 1, 1, 1)), w, b))
    else:
        theirs = (lambda x, w, b: TF.conv2d(x, w, b, padding=padding))
    out = assert_parity(lambda x, w, b: F.conv2d(x, w, b, padding=padding), theirs, x, w, b)
    assert out.ndim == 3


def test_conv1d_unbatched_input():
    out = assert_parity(lambda x, w, b: F.conv1d(x, w, b, stride=2, padding=1),
                        lambda x, w, b: TF.conv1d(x, w, b, stride=2, padding=1),
                        normal((3, 9), 0), normal((5, 3, 3), 1), normal(5, 2))
    assert out.shape == (5, 5)


@pytest.mark.parametrize("stride, padding, dilation, groups", [(1, 1, 1, 1), (2, (1, 2), (2, 1), 2), (1, "same", 1, 2)])
def test_conv2d_float32_stays_float32(stride, padding, dilation, groups):
    x, w, b = (normal((2, 4, 9, 8), 0, np.float32), normal((6, 4 // groups, 3, 2), 1, np.float32),
               normal(6, 2, np.float32))
    theirs = (lambda x, w, b: TF.conv2d(TF.pad(x, (0, 1, 1, 1)), w, b, groups=groups)) if padding == "same" else (
        lambda x, w, b: TF.conv2d(x, w, b, stride, padding, dilation, groups))
    out = assert_parity(lambda x, w, b: F.conv2d(x, w, b, stride, padding, dilation, groups), theirs, x, w, b)
    assert out.dtype == np.float32  # assert_parity also checks every gradient's dtype


def test_conv1d_float32_stays_float32():
    out = assert_parity(lambda x, w, b: F.conv1d(x, w, b, 2, 1), lambda x, w, b: TF.conv1d(x, w, b, 2, 1),
                        normal((2, 3, 10), 0, np.float32), normal((4, 3, 3), 1, np.float32), normal(4, 2, np.float32))
    assert out.dtype == np.float32


def test_conv2d_gradient_only_for_what_requires_it():
    x, w = cr.tensor(normal((1, 2, 5, 5), 0)), cr.tensor(normal((3, 2, 3, 3), 1), requires_grad=True)
    F.conv2d(x, w, stride=2).sum().backward()
    assert x.grad is None and w.grad is not None and w.grad.shape == w.shape
    with cr.no_grad():
        assert not F.conv2d(x, w).requires_grad


# ----- finite differences -----------------------------------------------------------------------------

@pytest.mark.parametrize("stride, padding, dilation, groups", [
    (1, 1, 1, 1), (2, (1, 0), (1, 2), 2), (1, "same", 1, 1), (2, "same", 1, 2), ((1, 2), "full", 1, 1), (1, 0, 1, 1),
])
def test_conv2d_gradcheck(stride, padding, dilation, groups):
    x = cr.tensor(normal((2, 4, 5, 6), 0), requires_grad=True)
    w = cr.tensor(normal((2, 4 // groups, 3, 2), 1), requires_grad=True)
    b = cr.tensor(normal(2, 2), requires_grad=True)
    assert cr.gradcheck(lambda x, w, b: F.conv2d(x, w, b, stride, padding, dilation, groups), (x, w, b))


def test_conv1x1_and_conv1d_gradcheck():
    x = cr.tensor(normal((2, 3, 4, 3), 0), requires_grad=True)
    w = cr.tensor(normal((2, 3, 1, 1), 1), requires_grad=True)
    assert cr.gradcheck(lambda x, w: F.conv2d(x, w), (x, w))
    x1 = cr.tensor(normal((2, 3, 7), 0), requires_grad=True)
    w1 = cr.tensor(normal((4, 3, 3), 1), requires_grad=True)
    assert cr.gradcheck(lambda x, w: F.conv1d(x, w, stride=2, padding=2, dilation=2), (x1, w1))


# ----- conv_output_size -------------------------------------------------------------------------------

@pytest.mark.parametrize("args, expected", [
    ((128, 3, 2, "same"), 64),  # the note's example
    ((128, 3, 1, "same"), 128), ((127, 3, 2, "same"), 64), ((5, 4, 3, "same"), 2),
    ((32, 5, 1, 0), 28), ((32, 5, 1, "valid"), 28), ((28, 5, 1, 2), 28), ((32, 5, 1, "full"), 36),
    ((32, 3, 1, "full", 2), 36), ((10, 3, 2, (0, 1)), 5), ((227, 11, 4, 0), 55), ((55, 3, 2, 0), 27),
    ((10, 3, 1, 0, 4), 2), ((4, 5, 1, 0), 0),
])
def test_conv_output_size_written_out(args, expected):
    assert conv_output_size(*args) == expected


@pytest.mark.parametrize("kernel", [1, 2, 3, 5])
@pytest.mark.parametrize("stride", [1, 2, 3])
@pytest.mark.parametrize("dilation", [1, 2])
def test_conv_output_size_matches_torch_conv(kernel, stride, dilation):
    for size in range(1, 13):
        for padding in [0, 1, 3, "valid", "same", "full"]:
            if padding == "same" and stride > 1:
                continue  # torch refuses it; the TensorFlow rule is checked above
            pad = {"full": dilation * (kernel - 1)}.get(padding, padding)
            expected = 0
            if size + 2 * (pad if isinstance(pad, int) else 0) >= dilation * (kernel - 1) + 1 or pad == "same":
                expected = TF.conv1d(torch.zeros(1, 1, size), torch.zeros(1, 1, kernel), None, stride, pad,
                                     dilation).shape[2]
            assert conv_output_size(size, kernel, stride, padding, dilation) == expected, (size, padding)


@pytest.mark.parametrize("kernel", [1, 2, 3, 4])
@pytest.mark.parametrize("stride", [1, 2, 3])
@pytest.mark.parametrize("dilation", [1, 2])
def test_conv_output_size_ceil_mode_matches_torch_pooling(kernel, stride, dilation):
    """ceil_mode: PyTorch's rule, the last window must start inside the input or its left padding; a
    window may overhang the padded input. 0 where torch refuses (output too small)."""
    for size in range(1, 12):
        for padding in range(kernel // 2 + 1):
            for ceil_mode in (False, True):
                try:
                    expected = TF.max_pool1d(torch.zeros(1, 1, size), kernel, stride, padding, dilation,
                                             ceil_mode).shape[2]
                except RuntimeError:
                    expected = 0
                got = conv_output_size(size, kernel, stride, padding, dilation, ceil_mode)
                assert got == expected, (size, padding, ceil_mode)


@pytest.mark.parametrize("size, kernel, stride, padding, floor, ceil", [
    (5, 2, 2, 0, 2, 3),  # ceil keeps the half-empty last window
    (5, 2, 3, 1, 2, 2),  # ceil's extra window would start in the right padding: dropped
    (6, 3, 2, 1, 3, 4), (4, 2, 2, 0, 2, 2), (13, 3, 2, 0, 6, 6), (14, 3, 2, 0, 6, 7),
])
def test_conv_output_size_ceil_mode_written_out(size, kernel, stride, padding, floor, ceil):
    assert conv_output_size(size, kernel, stride, padding) == floor
    assert conv_output_size(size, kernel, stride, padding, ceil_mode=True) == ceil


def test_conv_output_size_ceil_mode_window_overhanging_the_input():
    """Length 4, kernel 3 with dilation 2 (extent 5), stride 3: floor mode has no window; ceil mode has
    one, starting at 0 — and max pooling computes it, like torch."""
    assert conv_output_size(4, 3, 3, 0, 2) == 0
    assert conv_output_size(4, 3, 3, 0, 2, ceil_mode=True) == 1
    x = normal((1, 2, 4), 0)
    assert_parity(lambda x: F.max_pool1d(x, 3, 3, 0, 2, ceil_mode=True),
                  lambda x: TF.max_pool1d(x, 3, 3, 0, 2, ceil_mode=True), x)


# ----- errors -----------------------------------------------------------------------------------------

def t(shape, seed=0):
    return cr.tensor(normal(shape, seed))


def test_conv2d_wrong_number_of_input_channels():
    with pytest.raises(ValueError, match=r"conv2d") as e:
        F.conv2d(t((2, 1, 5, 5)), t((4, 3, 3, 3)))
    msg = str(e.value)
    assert "3 channels" in msg and "(4, 3, 3, 3)" in msg and "(2, 1, 5, 5)" in msg


def test_conv2d_wrong_channels_unbatched_names_the_given_shape():
    with pytest.raises(ValueError, match=r"conv2d") as e:
        F.conv2d(t((2, 5, 5)), t((4, 3, 3, 3)))
    assert "(2, 5, 5)" in str(e.value) and "(4, 3, 3, 3)" in str(e.value)


def test_conv2d_wrong_channels_with_groups():
    with pytest.raises(ValueError, match=r"conv2d") as e:
        F.conv2d(t((1, 4, 5, 5)), t((4, 1, 3, 3)), groups=2)
    assert "2 channels" in str(e.value) and "(1, 4, 5, 5)" in str(e.value) and "groups=2" in str(e.value)


@pytest.mark.parametrize("fn, x, w, shown", [
    ("conv2d", (1, 1, 5, 5), (2, 1, 0, 0), r"\(0, 0\) \(weight shape \(2, 1, 0, 0\)\)"),
    ("conv2d", (1, 1, 5, 5), (2, 1, 0, 3), r"\(0, 3\) \(weight shape \(2, 1, 0, 3\)\)"),
    ("conv1d", (1, 1, 5), (2, 1, 0), r"\(0,\) \(weight shape \(2, 1, 0\)\)"),
])
def test_conv_refuses_an_empty_kernel_as_torch(fn, x, w, shown):
    with pytest.raises(RuntimeError, match="kernel size should be greater than zero"):
        getattr(TF, fn)(torch.zeros(x), torch.zeros(w))
    with pytest.raises(ValueError, match=rf"{fn}: kernel size must be positive, got {shown}"):
        getattr(F, fn)(cr.zeros(x), cr.zeros(w))


def test_conv1d_errors_name_the_1d_shapes():
    with pytest.raises(ValueError, match=r"conv1d") as e:
        F.conv1d(t((2, 2, 9)), t((4, 3, 3)))
    msg = str(e.value)
    assert "3 channels" in msg and "(4, 3, 3)" in msg and "(2, 2, 9)" in msg
    with pytest.raises(ValueError, match=r"conv1d.*larger") as e:
        F.conv1d(t((2, 3, 2)), t((4, 3, 3)))
    assert "(2, 3, 2)" in str(e.value)


@pytest.mark.parametrize("x, w, kwargs, shown", [
    ((2, 3, 4, 4), (2, 3, 5, 5), {}, "(2, 3, 4, 4)"),
    ((2, 3, 4, 9), (2, 3, 5, 3), {"padding": (0, 1)}, "(4, 11)"),
    ((1, 3, 5, 5), (2, 3, 3, 3), {"dilation": 3}, "(7, 7)"),
    ((3, 2, 2), (2, 3, 3, 3), {}, "(3, 2, 2)"),
])
def test_conv2d_kernel_larger_than_padded_input(x, w, kwargs, shown):
    with pytest.raises(ValueError, match=r"conv2d: kernel size .* larger than the padded input") as e:
        F.conv2d(t(x), t(w), **kwargs)
    assert shown in str(e.value)
    with pytest.raises(RuntimeError):  # torch refuses the same call
        TF.conv2d(torch.zeros(x), torch.zeros(w), **kwargs)


@pytest.mark.parametrize("x, w, groups", [((2, 3, 5, 5), (4, 1, 3, 3), 2), ((2, 4, 5, 5), (3, 2, 3, 3), 2),
                                          ((2, 4, 5, 5), (4, 4, 3, 3), 0)])
def test_conv2d_groups_must_divide_channels(x, w, groups):
    with pytest.raises(ValueError, match=rf"conv2d: groups={groups} must divide in_channels=\d+ and out_channels=\d+"):
        F.conv2d(t(x), t(w), groups=groups)


def test_conv1d_groups_must_divide_channels():
    with pytest.raises(ValueError, match=r"conv1d: groups=2 must divide in_channels=3"):
        F.conv1d(t((2, 3, 8)), t((4, 1, 3)), groups=2)


@pytest.mark.parametrize("shape", [(5, 5), (1, 2, 3, 5, 5), (7,)])
def test_conv2d_wrong_input_ndim(shape):
    with pytest.raises(ValueError, match=r"conv2d: expected a 3-D \(C, H, W\) or 4-D \(N, C, H, W\) input") as e:
        F.conv2d(t(shape), t((4, 3, 3, 3)))
    assert str(shape) in str(e.value)


@pytest.mark.parametrize("shape", [(9,), (1, 2, 3, 9)])
def test_conv1d_wrong_input_ndim(shape):
    with pytest.raises(ValueError, match=r"conv1d: expected a 2-D \(C, L\) or 3-D \(N, C, L\) input") as e:
        F.conv1d(t(shape), t((4, 3, 3)))
    assert str(shape) in str(e.value)


def test_conv_wrong_weight_ndim():
    with pytest.raises(ValueError, match=r"conv2d: weight must be 4-D .*\(4, 3, 3\)"):
        F.conv2d(t((1, 3, 5, 5)), t((4, 3, 3)))
    with pytest.raises(ValueError, match=r"conv1d: weight must be a 3-D .*\(4, 3, 3, 3\)"):
        F.conv1d(t((1, 3, 5)), t((4, 3, 3, 3)))


def test_conv_bad_arguments():
    x, w = t((1, 3, 5, 5)), t((4, 3, 3, 3))
    with pytest.raises(ValueError, match=r"conv2d: padding must be .*'valid', 'same' or 'full', got 'half'"):
        F.conv2d(x, w, padding="half")
    with pytest.raises(ValueError, match=r"conv2d: padding must be non-negative"):
        F.conv2d(x, w, padding=-1)
    with pytest.raises(ValueError, match=r"conv2d: stride and dilation must be positive"):
        F.conv2d(x, w, stride=0)
    with pytest.raises(ValueError, match=r"conv2d: stride and dilation must be positive"):
        F.conv2d(x, w, dilation=(1, 0))
    with pytest.raises(ValueError, match=r"conv2d: stride must be an int or a pair, got \(1, 1, 1\)"):
        F.conv2d(x, w, stride=(1, 1, 1))
    with pytest.raises(ValueError, match=r"conv2d: bias must have shape \(4,\), got \(3,\)"):
        F.conv2d(x, w, t(3))
    with pytest.raises(TypeError, match=r"conv2d: input dtype float32, weight dtype float64"):
        F.conv2d(cr.tensor(normal((1, 3, 5, 5), 0, np.float32)), w)
    with pytest.raises(TypeError, match=r"conv2d: input and weight must be Tensors"):
        F.conv2d(normal((1, 3, 5, 5), 0), w)
    with pytest.raises(ValueError, match=r"conv1d: stride must be an int or a 1-tuple"):
        F.conv1d(t((1, 3, 5)), t((4, 3, 3)), stride=(1, 2))


# ----- transposed convolution -------------------------------------------------------------------------

def transposed_grid():
    """(stride, padding, output_padding, dilation, groups, bias, batch) over strides 1–3, paddings 0–2,
    dilations 1–2, every output_padding below the stride or the dilation, groups 1–2, bias on/off; the batch
    size cycles through 1–3."""
    cases = []
    for s in (1, 2, 3):
        for d in (1, 2):
            for q in range(max(s, d)):
                for p in (0, 1, 2):
                    for groups in (1, 2):
                        for bias in (True, False):
                            cases.append((s, p, q, d, groups, bias, 1 + len(cases) % 3))
    return cases


def transposed_args(x, w, groups, bias, dtype=np.float64, seed=0):
    arrays = [normal(x, seed, dtype), normal(w, seed + 1, dtype)]
    if bias:
        arrays.append(normal(w[1] * groups, seed + 2, dtype))
    return arrays


def check_transposed(ours, theirs, x, w, groups, bias, dtype=np.float64, **kwargs):
    arrays = transposed_args(x, w, groups, bias, dtype)
    fns = [(lambda *a, f=f: f(*a, groups=groups, **kwargs)) for f in (ours, theirs)]
    return assert_parity(*fns, *arrays, grad=dtype == np.float64)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("stride, padding, output_padding, dilation, groups, bias, n", transposed_grid())
def test_conv_transpose2d_parity(stride, padding, output_padding, dilation, groups, bias, n, dtype):
    """float64: forward and the gradients of input, weight and bias; float32: forward."""
    out = check_transposed(F.conv_transpose2d, TF.conv_transpose2d, (n, 4, 4, 5), (4, 6 // groups, 3, 2), groups, bias,
                           dtype, stride=stride, padding=padding, output_padding=output_padding, dilation=dilation)
    assert out.dtype == dtype


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("stride, padding, output_padding, dilation, groups, bias, n", transposed_grid())
def test_conv_transpose1d_parity(stride, padding, output_padding, dilation, groups, bias, n, dtype):
    check_transposed(F.conv_transpose1d, TF.conv_transpose1d, (n, 2, 6), (2, 3, 4), groups, bias, dtype,
                     stride=stride, padding=padding, output_padding=output_padding, dilation=dilation)


@pytest.mark.parametrize("stride, padding, output_padding, dilation", [
    ((2, 1), (0, 1), (1, 0), (1, 2)), ((1, 3), (2, 0), (1, 2), (2, 1)), ((3, 2), (1, 2), (0, 1), (3, 1)),
])
def test_conv_transpose2d_pairs(stride, padding, output_padding, dilation):
    check_transposed(F.conv_transpose2d, TF.conv_transpose2d, (2, 3, 5, 4), (3, 2, 2, 3), 1, True, stride=stride,
                     padding=padding, output_padding=output_padding, dilation=dilation)


@pytest.mark.parametrize("multiplier", [1, 2])
def test_depthwise_conv_transpose2d(multiplier):
    check_transposed(F.conv_transpose2d, TF.conv_transpose2d, (2, 4, 5, 5), (4, multiplier, 3, 3), 4, True,
                     stride=2, padding=1, output_padding=1)


@pytest.mark.parametrize("c_in, c_out, stride", [(2, 8, 1), (8, 2, 1), (2, 8, 2), (6, 6, 1)])
def test_conv_transpose2d_widening_and_narrowing(c_in, c_out, stride):
    """The channel ratio picks the fast kernel's method (correlation or col2im): both against torch."""
    check_transposed(F.conv_transpose2d, TF.conv_transpose2d, (2, c_in, 5, 6), (c_in, c_out, 3, 3), 1, True,
                     stride=stride, padding=1)


def test_conv_transpose2d_output_padding_past_the_canvas():
    """Padding 2 cuts the canvas (one pixel for a 1×1 input and kernel) away entirely: the output is the
    output_padding row, the bias alone."""
    out = check_transposed(F.conv_transpose2d, TF.conv_transpose2d, (1, 2, 1, 1), (2, 3, 1, 1), 1, True,
                           stride=(5, 1), padding=(2, 0), output_padding=(4, 0))
    assert out.shape == (1, 3, 1, 1)
    np.testing.assert_allclose(out.data[0, :, 0, 0], normal(3, 2), rtol=1e-12)


@pytest.mark.parametrize("fn, theirs, x, w", [
    (F.conv_transpose2d, TF.conv_transpose2d, (3, 5, 4), (3, 2, 3, 3)),
    (F.conv_transpose1d, TF.conv_transpose1d, (3, 7), (3, 2, 3)),
])
def test_conv_transpose_unbatched_input(fn, theirs, x, w):
    arrays = transposed_args(x, w, 1, True)
    out = assert_parity(lambda *a: fn(*a, stride=2, padding=1, output_padding=1),
                        lambda *a: theirs(*a, stride=2, padding=1, output_padding=1), *arrays)
    assert out.ndim == len(x)


def test_conv_transpose2d_empty_batch():
    out = F.conv_transpose2d(cr.zeros(0, 2, 3, 3), cr.zeros(2, 4, 3, 3), stride=2)
    assert out.shape == tuple(TF.conv_transpose2d(torch.zeros(0, 2, 3, 3), torch.zeros(2, 4, 3, 3), stride=2).shape)


@pytest.mark.parametrize("stride, padding, dilation, groups", [(1, 0, 1, 1), (2, 1, 1, 2), (3, 2, 2, 1), ((2, 1), (1, 0), (1, 2), 2)])
def test_conv_transpose2d_is_the_input_gradient_of_conv2d(stride, padding, dilation, groups):
    """[note 002] conv_transpose2d(g, w) = ∂⟨g, conv2d(x, w)⟩/∂x, the output_padding making up the rows and
    columns a strided conv2d drops."""
    x = cr.tensor(normal((2, 4, 9, 8), 0), requires_grad=True)
    w = cr.tensor(normal((6, 4 // groups, 3, 2), 1))
    out = F.conv2d(x, w, None, stride, padding, dilation, groups)
    g = normal(out.shape, 2)
    out.backward(g)
    s, p, d = ((v, v) if isinstance(v, int) else v for v in (stride, padding, dilation))
    smallest = [(n - 1) * s_ - 2 * p_ + d_ * (k - 1) + 1 for n, s_, p_, d_, k in zip(out.shape[2:], s, p, d, (3, 2))]
    output_padding = tuple(n - m for n, m in zip((9, 8), smallest))
    gx = F.conv_transpose2d(cr.tensor(g), w, None, stride, padding, output_padding, groups, dilation)
    np.testing.assert_allclose(gx.data, x.grad.data, rtol=1e-12, atol=1e-12)


def test_conv_transpose_gradcheck():
    x = cr.tensor(normal((2, 4, 3, 4), 0), requires_grad=True)
    w = cr.tensor(normal((4, 1, 3, 2), 1), requires_grad=True)
    b = cr.tensor(normal(2, 2), requires_grad=True)
    assert cr.gradcheck(lambda x, w, b: F.conv_transpose2d(x, w, b, 2, 1, 1, 2, (1, 2)), (x, w, b))
    x1 = cr.tensor(normal((2, 3, 5), 0), requires_grad=True)
    w1 = cr.tensor(normal((3, 2, 3), 1), requires_grad=True)
    assert cr.gradcheck(lambda x, w: F.conv_transpose1d(x, w, stride=3, padding=1, output_padding=2), (x1, w1))


@pytest.mark.parametrize("call, message", [
    (lambda: F.conv_transpose2d(t((1, 4, 5, 5)), t((4, 3, 3))),
     r"conv_transpose2d: weight must be 4-D \(in_channels, out_channels/groups, kH, kW\), got \(4, 3, 3\)"),
    (lambda: F.conv_transpose1d(t((1, 4, 5)), t((4, 3, 3, 3))), r"conv_transpose1d: weight must be a 3-D .*\(4, 3, 3, 3\)"),
    (lambda: F.conv_transpose2d(t((2, 3, 5, 5)), t((4, 3, 3, 3))),
     (r"conv_transpose2d: expected input with 4 channels \(weight \(4, 3, 3, 3\): in_channels first\), got 3 channels "
      r"in input of shape \(2, 3, 5, 5\)")),
    (lambda: F.conv_transpose1d(t((2, 3, 5)), t((4, 3, 3))),
     r"conv_transpose1d: expected input with 4 channels \(weight \(4, 3, 3\).*input of shape \(2, 3, 5\)"),
    (lambda: F.conv_transpose2d(t((2, 4, 5, 5)), t((4, 3, 3, 3)), groups=3),
     r"conv_transpose2d: groups=3 must divide in_channels=4"),
    (lambda: F.conv_transpose2d(t((2, 4, 5, 5)), t((4, 3, 3, 3)), stride=2, output_padding=2),
     (r"conv_transpose2d: output_padding must be smaller than stride or dilation, got output_padding=\(2, 2\), "
      r"stride=\(2, 2\), dilation=\(1, 1\)")),
    (lambda: F.conv_transpose1d(t((2, 4, 5)), t((4, 3, 3)), output_padding=1, dilation=1),
     (r"conv_transpose1d: output_padding must be smaller than stride or dilation, got output_padding=\(1,\), "
      r"stride=\(1,\), dilation=\(1,\)")),
    (lambda: F.conv_transpose2d(t((2, 4, 5, 5)), t((4, 3, 3, 3)), padding=5),
     r"conv_transpose2d: output size \(-3, -3\) is not positive \(input shape \(2, 4, 5, 5\)"),
    (lambda: F.conv_transpose2d(t((2, 4, 5, 5)), t((4, 3, 3, 3)), t(4)),
     r"conv_transpose2d: bias must have shape \(3,\) \(out_channels = weight.shape\[1\]·groups\), got \(4,\)"),
    (lambda: F.conv_transpose2d(t((2, 4, 5, 5)), t((4, 3, 3, 3)), padding=-1),
     r"conv_transpose2d: padding and output_padding must be non-negative"),
    (lambda: F.conv_transpose2d(t((2, 4, 5, 5)), t((4, 3, 3, 3)), stride=0),
     r"conv_transpose2d: stride and dilation must be positive"),
    (lambda: F.conv_transpose2d(t((2, 4, 5, 5)), t((4, 3, 3, 3)), padding="same"),
     r"conv_transpose2d: padding must be an int or a pair, got 'same'"),
    (lambda: F.conv_transpose2d(t((2, 4, 0, 5)), t((4, 3, 3, 3))),
     r"conv_transpose2d: input of shape \(2, 4, 0, 5\) has an empty spatial dim"),
    (lambda: F.conv_transpose2d(t((2, 4, 5, 5)), t((4, 3, 0, 3))), r"conv_transpose2d: kernel size must be positive"),
    (lambda: F.conv_transpose2d(t((5, 5)), t((4, 3, 3, 3))), r"conv_transpose2d: expected a 3-D \(C, H, W\) or 4-D"),
])
def test_conv_transpose_errors_name_the_op(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_conv_transpose_type_errors():
    with pytest.raises(TypeError, match=r"conv_transpose2d: input dtype float32, weight dtype float64"):
        F.conv_transpose2d(cr.tensor(normal((1, 4, 5, 5), 0, np.float32)), t((4, 3, 3, 3)))
    with pytest.raises(TypeError, match=r"conv_transpose2d: input and weight must be Tensors"):
        F.conv_transpose2d(normal((1, 4, 5, 5), 0), t((4, 3, 3, 3)))


def test_conv_transpose_refuses_what_torch_refuses():
    """The error cases above that torch also refuses (output_padding, channels, output size)."""
    for kwargs, w in [({"stride": 2, "output_padding": 2}, (4, 3, 3, 3)), ({}, (3, 3, 3, 3)), ({"padding": 5}, (4, 3, 3, 3))]:
        with pytest.raises(RuntimeError):
            TF.conv_transpose2d(torch.zeros(2, 4, 5, 5), torch.zeros(w), **kwargs)
