"""The Dropout and Dropout2d modules [note 001, note 003]: evaluation is the identity (and its gradient
1), training drops, p = 0 and p = 1, whole channels for Dropout2d, reproducible under ``manual_seed``,
torch's argument names and repr, no parameters, and bad ``p`` raises. (The functions: tests/ops/test_dropout.py.)"""

import numpy as np
import pytest
import torch.nn as tnn

import chainrule as cr
from chainrule import nn


def test_eval_is_identity_and_train_drops():
    x = cr.randn(5, 6, dtype=cr.float64, requires_grad=True)
    m = nn.Dropout(0.7).eval()
    out = m(x)
    np.testing.assert_array_equal(out.data, x.data)
    out.sum().backward()
    np.testing.assert_array_equal(x.grad.data, np.ones(x.shape))
    m2 = nn.Dropout2d(0.7).eval()
    y = cr.randn(2, 3, 4, 4)
    np.testing.assert_array_equal(m2(y).data, y.data)
    m.train()
    assert (m(x).data == 0).any()


def test_p_zero_is_identity_and_p_one_zeros_everything():
    x = cr.randn(50, 40, dtype=cr.float64)
    np.testing.assert_array_equal(nn.Dropout(0)(x).data, x.data)
    np.testing.assert_array_equal(nn.Dropout(1)(x).data, 0)


@pytest.mark.parametrize("bad", [-0.1, 1.5, 2, "0.5", None, float("nan")])
def test_bad_p_raises(bad):
    for cls in ("Dropout", "Dropout2d"):
        with pytest.raises(ValueError, match=f"{cls}: dropout probability has to be between 0 and 1, got {bad!r}"):
            getattr(nn, cls)(bad)


def test_reproducible_under_manual_seed():
    x = cr.randn(20, 30)
    m = nn.Dropout(0.3)
    cr.manual_seed(3)
    first = m(x).data
    cr.manual_seed(3)
    np.testing.assert_array_equal(m(x).data, first)


@pytest.mark.parametrize("shape", [(6, 50, 3, 4), (200, 5, 2)])
def test_dropout2d_module_drops_whole_channels(shape):
    x = cr.tensor(np.random.default_rng(1).uniform(1, 2, shape))
    m = nn.Dropout2d(0.4)
    assert (m(x).data != 0).reshape(shape[:-2] + (-1,)).std(-1).max() == 0


def test_modules_like_torch():
    """torch's argument names (inplace accepted; chainrule never writes in place) and reprs; no parameters."""
    for cls in ("Dropout", "Dropout2d"):
        for args, kwargs in [((), {}), ((0.2,), {}), ((), {"p": 0.3, "inplace": True})]:
            m, t = getattr(nn, cls)(*args, **kwargs), getattr(tnn, cls)(*args, **kwargs)
            assert repr(m) == repr(t)
            assert m.p == t.p and list(m.parameters()) == [] and list(m.state_dict()) == []
    x = cr.randn(4, 3, 2, 2)
    before = x.data.copy()
    cr.manual_seed(0)
    nn.Dropout(0.5, inplace=True)(x)
    np.testing.assert_array_equal(x.data, before)
