"""The blocked im2col of chainrule.ops.conv against torch when a batch spans several blocks.

Parity tests elsewhere use batches that fit in one block (``conv.BLOCK`` entries of columns); here
BLOCK is shrunk so that blocks hold 1, 2 or 3 samples of a batch of 5 — the last block partial —
for each way the op computes dx: correlation (stride 1, out ≤ 2·in channels), col2im with the flat
stride-1 layout (out > 2·in, or padding beyond d·(k − 1)) and col2im with the window view (stride > 1),
with padding, dilation and groups. Also the per-block workspace: buffers exist only inside a pass.
"""
import numpy as np
import pytest
import torch.nn.functional as TF

import chainrule as cr
import chainrule.nn.functional as F
from chainrule.ops import conv
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
    cols = conv.Im2col(x.shape, k, conv._pair(stride, "stride", "t"), conv._pair(dilation, "dilation", "t"),
                       conv._conv_pads(padding, (h, w), k, conv._pair(stride, "stride", "t"),
                                       conv._pair(dilation, "dilation", "t"), "t"))
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


def test_workspace_is_freed_after_each_pass():
    x = cr.randn(3, 2, 5, 5, requires_grad=True)
    out = F.conv2d(x, cr.randn(4, 2, 3, 3, requires_grad=True), padding=1)
    cols = out._ctx.im2col
    assert cols.buf is None and cols.padded is None  # nothing but x and w is kept for the backward
    out.sum().backward()
    assert x.grad.shape == x.shape
