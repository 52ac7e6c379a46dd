"""Second (and third) derivatives of embedding, embedding_bag, pad (every mode) and local_response_norm equal
torch's (float64); embedding_bag, which torch cannot differentiate twice, against torch's lookups summed by hand."""
import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import chainrule as cr
from tests.higher.check import assert_higher_order

F = cr.nn.functional


def draw(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


INDICES = np.array([[1, 3, 1], [0, 3, 3]])  # rows read more than once, row 2 and 4 never


@pytest.mark.parametrize("padding_idx", [None, 3, -4])
@pytest.mark.parametrize("order", [2, 3])
def test_embedding(padding_idx, order):
    def f(w):
        op = F.embedding if isinstance(w, cr.Tensor) else TF.embedding
        return op(lib_tensor(w, INDICES), w, padding_idx=padding_idx) ** 3
    assert_higher_order(f, f, draw(5, 4, seed=1), order=order)


def test_embedding_1d_indices_inside_a_product():
    """The table read by two lookups whose product is differentiated: the second derivative mixes them."""
    a, b = np.array([0, 2, 2, 1]), np.array([2, 2, 0, 0])

    def f(w):
        op = F.embedding if isinstance(w, cr.Tensor) else TF.embedding
        return (op(lib_tensor(w, a), w) * op(lib_tensor(w, b), w)).sin()
    assert_higher_order(f, f, draw(3, 2, seed=2), order=3)


def lib_tensor(like, array):
    return cr.tensor(array) if isinstance(like, cr.Tensor) else torch.tensor(array)


@pytest.mark.parametrize("padding_idx", [None, 1])
@pytest.mark.parametrize("order", [2, 3])
def test_embedding_scale_grad_by_freq(padding_idx, order):
    """The first-order result is divided by each row's count; its derivative with respect to g is the plain
    lookup, as torch's double backward."""
    def f(w):
        op = F.embedding if isinstance(w, cr.Tensor) else TF.embedding
        return op(lib_tensor(w, INDICES), w, padding_idx=padding_idx, scale_grad_by_freq=True) ** 3
    assert_higher_order(f, f, draw(5, 4, seed=3), order=order)


def _torch_bags(w, idx, bags, num_bags, mode, s=None):
    """embedding_bag by hand in torch: each bag's rows (scaled by s), summed, averaged or maximized."""
    rows = w[torch.tensor(idx)]
    if s is not None:
        rows = rows * s[:, None]
    out = []
    for b in range(num_bags):
        mine = rows[torch.tensor(bags == b)]
        if len(mine) == 0:
            out.append(torch.zeros(w.shape[1], dtype=w.dtype))
        else:
            out.append({"sum": mine.sum(0), "mean": mine.mean(0), "max": mine.amax(0)}[mode])
    return torch.stack(out)


@pytest.mark.parametrize("mode", ["sum", "mean", "max"])
@pytest.mark.parametrize("padding_idx", [None, 3])
def test_embedding_bag_2d(mode, padding_idx):
    keep = INDICES.reshape(-1) != padding_idx
    bags = np.repeat(np.arange(2), 3)[keep]
    f_cr = lambda w: F.embedding_bag(cr.tensor(INDICES), w, mode=mode, padding_idx=padding_idx) ** 3
    f_t = lambda w: _torch_bags(w, INDICES.reshape(-1)[keep], bags, 2, mode) ** 3
    assert_higher_order(f_cr, f_t, draw(5, 4, seed=7), order=3)


FLAT, OFFSETS = np.array([1, 3, 1, 0, 3, 3, 2]), np.array([0, 2, 2, 5])  # bag 1 is empty
FLAT_BAGS = np.array([0, 0, 2, 2, 2, 3, 3])


@pytest.mark.parametrize("mode", ["sum", "mean", "max"])
def test_embedding_bag_offsets(mode):
    f_cr = lambda w: F.embedding_bag(cr.tensor(FLAT), w, cr.tensor(OFFSETS), mode=mode).sin()
    f_t = lambda w: _torch_bags(w, FLAT, FLAT_BAGS, 4, mode).sin()
    assert_higher_order(f_cr, f_t, draw(5, 4, seed=8), order=3)


@pytest.mark.parametrize("padding_idx", [None, 1])
def test_embedding_bag_per_sample_weights(padding_idx):
    keep = FLAT != padding_idx

    def f_cr(w, s):
        return F.embedding_bag(cr.tensor(FLAT), w, cr.tensor(OFFSETS), mode="sum", per_sample_weights=s,
                               padding_idx=padding_idx) ** 3

    def f_t(w, s):
        return _torch_bags(w, FLAT[keep], FLAT_BAGS[keep], 4, "sum", s[torch.tensor(keep)]) ** 3
    assert_higher_order(f_cr, f_t, draw(5, 4, seed=9), draw(7, seed=10), order=3)
    assert_higher_order(f_cr, f_t, draw(5, 4, seed=9), draw(7, seed=10), order=2, wrt=[1])


PADS = [((2, 3, 5), (2, 1)), ((1, 2, 4, 5), (1, 2, 2, 0)), ((1, 2, 3, 4, 5), (1, 1, 2, 0, 1, 2)), ((3, 5), (3, 4))]


@pytest.mark.parametrize("mode", ["constant", "reflect", "replicate", "circular"])
@pytest.mark.parametrize("shape, pad", PADS)
@pytest.mark.parametrize("order", [2, 3])
def test_pad(mode, shape, pad, order):
    if mode == "reflect":
        pad = tuple(min(p, n - 1) for p, n in zip(pad, np.repeat(shape[::-1], 2)))
    if mode == "circular":
        pad = tuple(min(p, n) for p, n in zip(pad, np.repeat(shape[::-1], 2)))
    f = lambda x: (F.pad(x, pad, mode=mode) if isinstance(x, cr.Tensor) else TF.pad(x, pad, mode=mode)) ** 3
    assert_higher_order(f, f, draw(*shape, seed=11), order=order)


@pytest.mark.parametrize("shape, pad", [((2, 3, 4, 5), (1, -1, 2, 1)), ((2, 3), (1, 2, -1, 1)), ((4,), (-2, -1))])
def test_pad_constant_crop(shape, pad):
    """Negative widths crop; the gradient of the cropped part is 0 at every order."""
    f = lambda x: (F.pad(x, pad, value=0.5) if isinstance(x, cr.Tensor) else TF.pad(x, pad, value=0.5)).sin()
    assert_higher_order(f, f, draw(*shape, seed=12), order=3)


@pytest.mark.parametrize("shape, size", [((2, 5, 3), 3), ((1, 4, 3, 3), 2), ((2, 3, 2, 2, 2), 5), ((1, 2, 3), 5),
                                         ((2, 6, 3), 1)])
def test_local_response_norm(shape, size):
    def f(x):
        op = F.local_response_norm if isinstance(x, cr.Tensor) else TF.local_response_norm
        return op(x, size, alpha=0.5, beta=0.75, k=1.5)
    assert_higher_order(f, f, draw(*shape, seed=13), order=3)
