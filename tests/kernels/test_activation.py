"""kernels/activation.py == ops/activation.py: the fast ReLU (a block of zeros at a time, split over threads)
against the reference max(x, 0) — outputs and gradients equal, bit for bit (both compare and multiply the same
numbers). Both against torch: tests/ops/test_activation.py, which runs its ReLU tests on both paths."""
import numpy as np
import pytest

import chainrule as cr
from chainrule.kernels.activation import ZEROS_BLOCK
from tests.parity import assert_paths_agree


@pytest.mark.parametrize("threads", [1, 2, 3])
@pytest.mark.parametrize("shape", [(1,), (7, 5), (ZEROS_BLOCK - 1,), (ZEROS_BLOCK,), (2, 3, ZEROS_BLOCK // 2 + 7)])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_relu_fast_equals_reference(threads, shape, dtype):
    x = np.random.default_rng(0).standard_normal(shape).astype(dtype)
    x.reshape(-1)[::7] = 0.0  # the kink: derivative 0 on both paths
    with cr.num_threads(threads):
        assert_paths_agree(cr.relu, x, rtol=0, atol=0)


def test_relu_fast_equals_reference_on_special_values():
    x = np.array([-np.inf, -1.0, -0.0, 0.0, np.nan, 1e-300, 2.0, np.inf])
    assert_paths_agree(cr.relu, x, rtol=0, atol=0)


def test_relu_fast_equals_reference_on_integers():
    x = np.arange(-6, 7, dtype=np.int32).reshape(13, 1)
    assert_paths_agree(cr.relu, x, rtol=0, atol=0)
