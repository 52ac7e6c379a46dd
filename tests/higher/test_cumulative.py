"""Second and third derivatives of the cumulative ops (ops/cumulative.py) equal torch's (float64)."""
import numpy as np
import pytest
import torch

from tests.higher.check import assert_higher_order


def draw(shape, seed=0, low=-2.0, high=2.0):
    return np.random.default_rng(seed).uniform(low, high, shape)


CASES = [((5,), 0), ((3, 4), 0), ((3, 4), 1), ((2, 3, 4), -1), ((2, 3, 4), 1), ((), 0)]


def logcumsumexp_by_logsumexp(t, dim):
    """torch's logcumsumexp as logsumexp over a masked table: its third derivative is NaN where torch's own
    fused backward takes logs of g's positive and negative parts, so order 3 is compared with this."""
    t = t.movedim(dim, -1)
    n = t.shape[-1]
    before = torch.ones(n, n, dtype=torch.bool).tril()  # (j, i): i ≤ j
    out = torch.where(before, t.unsqueeze(-2), -torch.inf).logsumexp(-1)
    return out.movedim(-1, dim)


@pytest.mark.parametrize("shape, dim", CASES)
def test_cumsum(shape, dim):
    x = draw(shape, 1)
    assert_higher_order(lambda t: t.cumsum(dim), lambda t: t.cumsum(dim), x, order=2)
    assert_higher_order(lambda t: (t ** 3).cumsum(dim) ** 2, lambda t: (t ** 3).cumsum(dim) ** 2, x, order=3)


@pytest.mark.parametrize("shape, dim", CASES)
def test_cumprod(shape, dim):
    """Of a 0-d tensor torch's gradient of cumprod is the constant g, chainrule's a recorded 1×1 table, which the
    checker cannot pair: order 2 of x·cumprod(x) there."""
    x = draw(shape, 2)
    if shape:
        assert_higher_order(lambda t: t.cumprod(dim), lambda t: t.cumprod(dim), x, order=3)
    assert_higher_order(lambda t: t.cumprod(dim) * t, lambda t: t.cumprod(dim) * t, x, order=3 if shape else 2)


@pytest.mark.parametrize("zeros", [[1], [0, 3], [2, 4], [4]])
def test_cumprod_with_zeros(zeros):
    """Zeros in the input: the recorded gradient never divides by an input, so it is exact there too."""
    x = draw((2, 5), 3)
    x[:, zeros] = 0.0
    assert_higher_order(lambda t: t.cumprod(1), lambda t: t.cumprod(1), x, order=3)
    assert_higher_order(lambda t: t.cumprod(1) * t.cumprod(1), lambda t: t.cumprod(1) * t.cumprod(1), x, order=3)


@pytest.mark.parametrize("shape, dim", CASES)
def test_logcumsumexp(shape, dim):
    """Order 2 against torch's logcumsumexp, order 3 against its logsumexp form (0-d: as cumprod)."""
    x = draw(shape, 4)
    f = lambda t: t.logcumsumexp(dim) * t
    assert_higher_order(f, f, x, order=2)
    if shape:
        assert_higher_order(lambda t: t.logcumsumexp(dim), lambda t: logcumsumexp_by_logsumexp(t, dim), x, order=3)
        assert_higher_order(f, lambda t: logcumsumexp_by_logsumexp(t, dim) * t, x, order=3)


def test_logcumsumexp_wide_range():
    """Inputs from −800 to 800: every exponent in the recorded gradient is ≤ 0, nothing overflows."""
    x = np.array([[-800.0, 3.0, 800.0, -5.0, 799.0], [1.0, -700.0, 2.0, 600.0, -600.0]])
    f = lambda t: t.logcumsumexp(1) * t
    assert_higher_order(f, f, x, order=2)
    assert_higher_order(f, lambda t: logcumsumexp_by_logsumexp(t, 1) * t, x, order=3)


@pytest.mark.parametrize("largest", [True, False])
@pytest.mark.parametrize("shape, dim", CASES)
def test_cummax_cummin(shape, dim, largest):
    """The values are the input read at the indices: their derivatives are those of the entries they copy."""
    x = draw(shape, 5)
    name = "cummax" if largest else "cummin"
    f = lambda t: getattr(t, name)(dim).values ** 3
    assert_higher_order(f, f, x, order=3)
