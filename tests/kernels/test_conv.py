"""kernels/conv.py == ops/conv.py: the blocked, threaded im2col convolution and transposed convolution against
the reference im2col + one matmul, float64 to 1e-10 (float32 where useful) — forward and every input's gradient,
over the grids of tests/ops/test_conv.py and the fast kernel's own regimes: a batch split in blocks of 1, 2 or 3
samples (``BLOCK`` shrunk, the last block partial), the blocks shared between 1–3 threads, and each way the
kernel computes an input gradient — correlation with the flipped kernel (stride 1, out ≤ 2·in channels), col2im
on the flat stride-1 layout (out > 2·in, or padding beyond d·(k − 1)) and col2im on the window view (stride > 1).
The several-block cases are also checked against torch here, as the parity tests use one-block batches."""
import numpy as np
import pytest
import torch.nn.functional as TF
from hypothesis import given

import chainrule as cr
import chainrule.nn.functional as F
from chainrule.kernels import conv as fast
from chainrule.ops import geometry
from tests.ops.test_conv import (
    SETTINGS,
    conv1d_cases,
    conv2d_cases,
    conv_args,
    normal,
    transposed_args,
    transposed_grid,
)
from tests.parity import assert_parity, assert_paths_agree

F64 = {"rtol": 1e-10, "atol": 1e-12}
F32 = {"rtol": 1e-5, "atol": 1e-5}


def agree(fn, case, **overrides):
    args = {k: case[k] for k in ("stride", "padding", "dilation", "groups")} | overrides
    assert_paths_agree(lambda *a: fn(*a, **args), *conv_args(case["x"], case["w"], case["bias"], case["seed"]), **F64)


# ----- the grids of tests/ops/test_conv.py --------------------------------------------------------------

@SETTINGS
@given(case=conv2d_cases())
def test_conv2d_fast_equals_reference(case):
    agree(F.conv2d, case)


@SETTINGS
@given(case=conv1d_cases())
def test_conv1d_fast_equals_reference(case):
    agree(F.conv1d, case)


@SETTINGS
@given(case=conv2d_cases())
def test_conv2d_same_and_full_fast_equal_reference(case):
    agree(F.conv2d, case, padding="same")
    agree(F.conv2d, case, padding="full")


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("stride, padding, groups", [(1, 0, 1), (1, 0, 2), (2, 0, 1), (1, 1, 2)])
def test_1x1_conv_fast_equals_reference(stride, padding, groups, dtype):
    """Stride 1, no padding: the fast kernel's GEMM-only path, no columns."""
    x, w, b = normal((3, 4, 5, 6), 0, dtype), normal((6, 4 // groups, 1, 1), 1, dtype), normal(6, 2, dtype)
    assert_paths_agree(lambda x, w, b: F.conv2d(x, w, b, stride, padding, groups=groups), x, w, b,
                       **(F64 if dtype == np.float64 else F32))


@pytest.mark.parametrize("stride, padding, dilation, groups", [(1, 1, 1, 1), (2, (1, 2), (2, 1), 2), (1, "same", 1, 2)])
def test_conv2d_float32_fast_equals_reference(stride, padding, dilation, groups):
    x, w, b = normal((2, 4, 9, 8), 0, np.float32), normal((6, 4 // groups, 3, 2), 1, np.float32), normal(6, 2, np.float32)
    assert_paths_agree(lambda x, w, b: F.conv2d(x, w, b, stride, padding, dilation, groups), x, w, b, **F32)


@pytest.mark.parametrize("stride, padding, output_padding, dilation, groups, bias, n", transposed_grid())
def test_conv_transpose2d_fast_equals_reference(stride, padding, output_padding, dilation, groups, bias, n):
    arrays = transposed_args((n, 4, 4, 5), (4, 6 // groups, 3, 2), groups, bias)
    assert_paths_agree(lambda *a: F.conv_transpose2d(*a, stride=stride, padding=padding, output_padding=output_padding,
                                                     groups=groups, dilation=dilation), *arrays, **F64)


@pytest.mark.parametrize("stride, padding, output_padding, dilation, groups, bias, n", transposed_grid())
def test_conv_transpose1d_fast_equals_reference(stride, padding, output_padding, dilation, groups, bias, n):
    arrays = transposed_args((n, 2, 6), (2, 3, 4), groups, bias)
    assert_paths_agree(lambda *a: F.conv_transpose1d(*a, stride=stride, padding=padding, output_padding=output_padding,
                                                     groups=groups, dilation=dilation), *arrays, **F64)


@pytest.mark.parametrize("stride, padding, output_padding", [(1, 1, 0), (2, 1, 1), (3, 0, 2)])
def test_conv_transpose2d_float32_fast_equals_reference(stride, padding, output_padding):
    arrays = transposed_args((2, 4, 5, 6), (4, 3, 3, 3), 1, True, np.float32)
    assert_paths_agree(lambda *a: F.conv_transpose2d(*a, stride=stride, padding=padding, output_padding=output_padding),
                       *arrays, **F32)


# ----- the fast kernel's regimes: blocks, threads, input-gradient methods ----------------------------------

CASES = [  # (C, O, H, W, kernel, stride, padding, dilation, groups) → the dx method it exercises
    (4, 4, 7, 6, (3, 3), 1, 1, 1, 1),  # correlation
    (4, 8, 6, 7, (3, 2), 1, (1, 0), (2, 1), 2),  # correlation, dilated, grouped
    (2, 6, 7, 7, (3, 3), 1, 1, 1, 1),  # col2im, flat layout (out > 2·in)
    (3, 3, 6, 6, (2, 2), 1, 2, 1, 1),  # col2im, flat layout (padding > k − 1)
    (4, 6, 9, 8, (3, 3), 2, 1, 1, 2),  # col2im, window view
    (3, 5, 9, 9, (3, 2), (2, 3), (0, 1), (1, 2), 1),  # col2im, window view, dilated
]

TRANSPOSED = [  # (C_in, C_out, H, W, kernel, stride, padding, output_padding, dilation, groups) → forward method
    (4, 4, 5, 6, (3, 3), 1, 1, 0, 1, 1),  # correlation
    (8, 4, 5, 4, (3, 2), 1, (1, 0), (1, 0), (2, 1), 2),  # correlation, dilated, grouped, output_padding
    (6, 2, 5, 5, (3, 3), 1, 1, 0, 1, 1),  # col2im, flat layout (in > 2·out)
    (3, 3, 6, 6, (2, 2), 1, (1, 2), 0, (1, 2), 1),  # col2im, flat layout (padding > d·(k − 1))
    (4, 6, 4, 5, (3, 3), 2, 1, 1, 1, 2),  # col2im, window view
    (3, 5, 4, 4, (3, 2), (2, 3), (0, 1), (1, 2), (1, 2), 1),  # col2im, window view, output_padding past the canvas
]


def conv_geometry(case):
    c, _, h, w, k, stride, padding, dilation, _ = case
    stride, dilation = geometry.pair(stride, "stride", "t"), geometry.pair(dilation, "dilation", "t")
    return fast.Im2col((5, c, h, w), k, stride, dilation, geometry.conv_pads(padding, (h, w), k, stride, dilation, "t"))


def conv_call(case):
    stride, padding, dilation, groups = case[5:]
    return (lambda x, w_, b: F.conv2d(x, w_, b, stride, padding, dilation, groups),
            lambda x, w_, b: TF.conv2d(x, w_, b, stride, padding, dilation, groups))


def transposed_call(case):
    stride, padding, output_padding, dilation, groups = case[5:]
    return (lambda x, w_, b: F.conv_transpose2d(x, w_, b, stride, padding, output_padding, groups, dilation),
            lambda x, w_, b: TF.conv_transpose2d(x, w_, b, stride, padding, output_padding, groups, dilation))


def conv_arrays(case, n, seed):
    (c, o, h, w, k), groups = case[:5], case[-1]
    return normal((n, c, h, w), seed), normal((o, c // groups) + k, seed + 1), normal(o, seed + 2)


def transposed_arrays(case, n, seed):
    c_in, c_out, h, w, k, *_, groups = case
    return normal((n, c_in, h, w), seed), normal((c_in, c_out // groups) + k, seed + 1), normal(c_out, seed + 2)


@pytest.mark.parametrize("samples_per_block", [1, 2, 3])
@pytest.mark.parametrize("case", CASES)
def test_conv_blocks(monkeypatch, case, samples_per_block):
    """A batch of 5 in blocks of 1, 2 or 3 samples: against torch, and fast == reference."""
    cols = conv_geometry(case)
    monkeypatch.setattr(fast, "BLOCK", cols.rows * cols.span * samples_per_block)
    assert fast.Im2col(cols.shape, cols.kernel, cols.stride, cols.dilation, cols.pads).block == samples_per_block
    ours, theirs = conv_call(case)
    arrays = conv_arrays(case, 5, samples_per_block)
    assert_parity(ours, theirs, *arrays)
    assert_paths_agree(ours, *arrays, **F64)


@pytest.mark.parametrize("block", [1, 1 << 9, 1 << 20])
@pytest.mark.parametrize("case", TRANSPOSED)
def test_conv_transpose_blocks(monkeypatch, case, block):
    """BLOCK = 1: one sample per block in every Im2col of the op; 2⁹: a few; 2²⁰: the whole batch."""
    monkeypatch.setattr(fast, "BLOCK", block)
    ours, theirs = transposed_call(case)
    arrays = transposed_arrays(case, 5, 3)
    assert_parity(ours, theirs, *arrays)
    assert_paths_agree(ours, *arrays, **F64)


@pytest.mark.parametrize("threads", [1, 2, 3])
@pytest.mark.parametrize("case", CASES)
def test_conv_threads(case, threads):
    """Blocks shared between threads (each with its own workspace and partial dW)."""
    ours, theirs = conv_call(case)
    arrays = conv_arrays(case, 9, 7)
    with cr.num_threads(threads):
        assert_parity(ours, theirs, *arrays)
        assert_paths_agree(ours, *arrays, **F64)
        assert cr.get_num_threads() == threads  # BLAS's count is back after the block loops pinned it to 1


@pytest.mark.parametrize("threads", [1, 2, 3])
@pytest.mark.parametrize("case", TRANSPOSED)
def test_conv_transpose_threads(monkeypatch, case, threads):
    monkeypatch.setattr(fast, "BLOCK", 1 << 9)
    ours, theirs = transposed_call(case)
    arrays = transposed_arrays(case, 7, 5)
    with cr.num_threads(threads):
        assert_parity(ours, theirs, *arrays)
        assert_paths_agree(ours, *arrays, **F64)


def test_each_input_grad_method_is_exercised():
    """The cases above cover correlation, col2im on the flat layout and col2im on the window view, for the
    conv's dx and for the transposed conv's forward (the same choice)."""
    conv, transposed = set(), set()
    for case in CASES:
        fn, _ = conv_call(case)
        out = fn(*(cr.tensor(a, requires_grad=True) for a in conv_arrays(case, 2, 0)))
        conv.add((out._ctx.im2col.flat, fast.input_grad_method(out._ctx.im2col, case[1])))
    for case in TRANSPOSED:
        fn, _ = transposed_call(case)
        out = fn(*(cr.tensor(a, requires_grad=True) for a in transposed_arrays(case, 2, 0)))
        transposed.add((out._ctx.im2col.flat, fast.input_grad_method(out._ctx.im2col, case[0])))
    assert conv == transposed == {(True, "correlation"), (True, "col2im"), (False, "col2im")}


def test_output_padding_past_the_canvas_is_exercised():
    case = TRANSPOSED[-1]
    fn, _ = transposed_call(case)
    out = fn(*(cr.tensor(a, requires_grad=True) for a in transposed_arrays(case, 2, 0)))
    assert out._ctx.im2col.shape[2:] != out.shape[2:]  # the output reaches past the canvas


def test_node_keeps_no_block_buffers():
    x = cr.randn(3, 2, 5, 5, requires_grad=True)
    out = F.conv2d(x, cr.randn(4, 2, 3, 3, requires_grad=True), padding=1)
    kept = [v for v in vars(out._ctx.im2col).values() if isinstance(v, np.ndarray)]
    assert kept == []  # the workspaces live only while a pass runs: the node keeps x and w
    out.sum().backward()
    assert x.grad.shape == x.shape


def test_blocks_split_evenly_over_threads():
    with cr.num_threads(2):
        cols = fast.Im2col((128, 1, 28, 28), (5, 5), (1, 1), (1, 1), (2, 2, 2, 2))
        blocks = cols.blocks(128)
    half = len(blocks) // 2  # run_blocks gives each thread a contiguous half of the blocks
    shares = [sum(n1 - n0 for n0, n1 in part) for part in (blocks[:half], blocks[half:])]
    assert len(blocks) % 2 == 0 and abs(shares[0] - shares[1]) < cols.block and sum(shares) == 128
