"""The blocked im2col of chainrule.ops.conv against torch when a batch spans several blocks.

Parity tests elsewhere use batches that fit in one block (``conv.BLOCK`` entries of columns); here
BLOCK is shrunk so that blocks hold 1, 2 or 3 samples of a batch of 5 — the last block partial —
for each way the op computes dx: correlation (stride 1, out ≤ 2·in channels), col2im with the flat
stride-1 layout (out > 2·in, or padding beyond d·(k − 1)) and col2im with the window view (stride > 1),
with padding, dilation and groups; and the same with blocks shared between two threads.
"""
import numpy as np
import pytest
import torch.nn.functional as TF

import chainrule as cr
import chainrule.nn.functional as F
from chainrule.ops import conv, geometry
from tests.parity import assert_parity

CASES = [  # (C, O, H, W, kernel, stride, padding, dilation, groups) → the dx method it exercises
    (4, 4, 7, 6, (3, 3), 1, 1, 1, 1),  # correlation
    (4, 8, 6, 7, (3, 2), 1, (1, 0), (2, 1), 2),  # correlation, dilated, grouped
    (2, 6, 7, 7, (3, 3), 1, 1, 1, 1),  # col2im, flat layout (out > 2·in)
    (3, 3, 6, 6, (2, 2), 1, 2, 1, 1),  # col2im, flat layout (padding > k − 1)
    (4, 6, 9, 8, (3, 3), 2, 1, 1, 2),  # col2im, window view
    (3, 5, 9, 9, (3, 2), (2, 3), (0, 1), (1, 2), 1),  # col2im, window view, dilated
]


@pytest.mark.parametrize("samples_per_block", [1, 2, 3])
@pytest.mark.parametrize("case", CASES)
def test_blocks_match_torch(monkeypatch, case, samples_per_block):
    c, o, h, w, k, stride, padding, dilation, groups = case
    rng = np.random.default_rng(samples_per_block)
    x = rng.standard_normal((5, c, h, w))
    weight = rng.standard_normal((o, c // groups) + k)
    bias = rng.standard_normal(o)
    cols = conv.Im2col(x.shape, k, geometry.pair(stride, "stride", "t"), geometry.pair(dilation, "dilation", "t"),
                       geometry.conv_pads(padding, (h, w), k, geometry.pair(stride, "stride", "t"),
                                       geometry.pair(dilation, "dilation", "t"), "t"))
    monkeypatch.setattr(conv, "BLOCK", cols.rows * cols.span * samples_per_block)
    assert conv.Im2col(x.shape, k, cols.stride, cols.dilation, cols.pads).block == samples_per_block
    assert_parity(lambda a, b_, c_: F.conv2d(a, b_, c_, stride, padding, dilation, groups),
                  lambda a, b_, c_: TF.conv2d(a, b_, c_, stride, padding, dilation, groups), x, weight, bias)


def test_each_dx_method_is_exercised():
    methods = set()
    for c, o, h, w, k, stride, padding, dilation, groups in CASES:
        x = cr.randn(2, c, h, w, requires_grad=True)
        out = F.conv2d(x, cr.randn(o, c // groups, *k), None, stride, padding, dilation, groups)
        methods.add((out._ctx.im2col.flat, out._ctx._input_grad_method()))
    assert methods == {(True, "correlation"), (True, "col2im"), (False, "col2im")}


def test_node_keeps_no_block_buffers():
    x = cr.randn(3, 2, 5, 5, requires_grad=True)
    out = F.conv2d(x, cr.randn(4, 2, 3, 3, requires_grad=True), padding=1)
    kept = [v for v in vars(out._ctx.im2col).values() if isinstance(v, np.ndarray)]
    assert kept == []  # the workspaces live only while a pass runs: the node keeps x and w
    out.sum().backward()
    assert x.grad.shape == x.shape


@pytest.fixture
def two_threads():
    before = cr.get_num_threads()
    cr.set_num_threads(2)
    yield
    cr.set_num_threads(before)


@pytest.mark.parametrize("case", CASES)
def test_blocks_on_two_threads_match_torch(two_threads, case):
    """Blocks shared between two threads (each with its own workspace and partial dW) give torch's results."""
    c, o, h, w, k, stride, padding, dilation, groups = case
    rng = np.random.default_rng(7)
    x = rng.standard_normal((9, c, h, w))
    weight, bias = rng.standard_normal((o, c // groups) + k), rng.standard_normal(o)
    assert_parity(lambda a, b_, c_: F.conv2d(a, b_, c_, stride, padding, dilation, groups),
                  lambda a, b_, c_: TF.conv2d(a, b_, c_, stride, padding, dilation, groups), x, weight, bias)
    assert cr.get_num_threads() == 2  # BLAS's count is back after the block loops pinned it to 1


def test_blocks_split_evenly_over_threads(two_threads):
    cols = conv.Im2col((128, 1, 28, 28), (5, 5), (1, 1), (1, 1), (2, 2, 2, 2))
    blocks = cols.blocks(128)
    assert len(blocks) % 2 == 0 and len({n1 - n0 for n0, n1 in blocks}) == 1


def test_set_num_threads_rejects_bad_values():
    for bad in (0, -1, 1.5, True, "2"):
        with pytest.raises(ValueError, match="set_num_threads"):
            cr.set_num_threads(bad)
