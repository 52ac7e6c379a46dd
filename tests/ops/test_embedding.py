"""chainrule.ops.embedding against torch: embedding (padding_idx, scale_grad_by_freq, max_norm's in-place
renorm), embedding_bag (sum/mean/max, offsets, include_last_offset, per_sample_weights, padding_idx) and one_hot,
forward and the weight's gradient in float64, float32 smoke tests, and the error messages."""
import numpy as np
import pytest
import torch

import chainrule as cr
import chainrule.nn.functional as F
from tests.parity import assert_parity

TF = torch.nn.functional
RNG = np.random.default_rng(0)
W = RNG.standard_normal((7, 3))
IDX = np.array([[0, 2, 2], [6, 1, 0]])
FLAT = np.array([1, 2, 4, 5, 4, 3, 2, 6])
OFFSETS = np.array([0, 2, 2, 5])  # bag 1 is empty


@pytest.mark.parametrize("padding_idx", [None, 2, -1])
@pytest.mark.parametrize("scale_grad_by_freq", [False, True])
@pytest.mark.parametrize("idx", [IDX, IDX[0], np.array(3)], ids=["2d", "1d", "0d"])
def test_embedding_parity(padding_idx, scale_grad_by_freq, idx):
    assert_parity(lambda w: F.embedding(cr.tensor(idx), w, padding_idx, scale_grad_by_freq=scale_grad_by_freq),
                  lambda w: TF.embedding(torch.tensor(idx), w, padding_idx, scale_grad_by_freq=scale_grad_by_freq), W)


@pytest.mark.parametrize("norm_type", [2.0, 1.0])
def test_embedding_max_norm_renorms_in_place_like_torch(norm_type):
    ours, theirs = cr.tensor(W.copy(), requires_grad=True), torch.tensor(W.copy(), requires_grad=True)
    out = F.embedding(cr.tensor(IDX), ours, max_norm=1.0, norm_type=norm_type)
    ref = TF.embedding(torch.tensor(IDX), theirs, max_norm=1.0, norm_type=norm_type)
    np.testing.assert_allclose(out.data, ref.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(ours.data, theirs.detach().numpy(), rtol=1e-12)  # rows 0, 1, 2, 6 renormed
    np.testing.assert_array_equal(ours.data[3:6], W[3:6])  # rows not looked up are untouched


def test_embedding_float32_and_int32_indices():
    out = assert_parity(lambda w: F.embedding(cr.tensor(IDX.astype(np.int32)), w),
                        lambda w: TF.embedding(torch.tensor(IDX.astype(np.int32)), w), W.astype(np.float32))
    assert out.dtype == np.float32 and out.shape == (2, 3, 3)


def test_embedding_errors():
    w = cr.tensor(W)
    with pytest.raises(TypeError, match="embedding: indices must be an integer tensor .* got dtype float32"):
        F.embedding(cr.tensor([1.0]), w)
    with pytest.raises(IndexError, match=r"embedding: index 7 out of range for a table of 7 rows \[0, 7\)"):
        F.embedding(cr.tensor([1, 7]), w)
    with pytest.raises(ValueError, match=r"embedding: padding_idx 9 must be within the number of embeddings \[-7, 7\)"):
        F.embedding(cr.tensor([1]), w, padding_idx=9)
    with pytest.raises(ValueError, match=r"embedding: weight must be a 2-D Tensor"):
        F.embedding(cr.tensor([1]), cr.tensor(np.ones(3)))


@pytest.mark.parametrize("mode", ["sum", "mean", "max"])
@pytest.mark.parametrize("padding_idx", [None, 4])
def test_embedding_bag_parity(mode, padding_idx):
    kw = dict(mode=mode, padding_idx=padding_idx)
    assert_parity(lambda w: F.embedding_bag(cr.tensor(FLAT), w, cr.tensor(OFFSETS), **kw),
                  lambda w: TF.embedding_bag(torch.tensor(FLAT), w, torch.tensor(OFFSETS), **kw), W)
    assert_parity(lambda w: F.embedding_bag(cr.tensor(IDX), w, **kw), lambda w: TF.embedding_bag(torch.tensor(IDX), w, **kw), W)
    last = np.append(OFFSETS, FLAT.size)
    assert_parity(lambda w: F.embedding_bag(cr.tensor(FLAT), w, cr.tensor(last), include_last_offset=True, **kw),
                  lambda w: TF.embedding_bag(torch.tensor(FLAT), w, torch.tensor(last), include_last_offset=True, **kw), W)


@pytest.mark.parametrize("padding_idx", [None, 4])
def test_embedding_bag_per_sample_weights(padding_idx):
    s = RNG.standard_normal(FLAT.size)
    assert_parity(lambda w, s: F.embedding_bag(cr.tensor(FLAT), w, cr.tensor(OFFSETS), mode="sum", per_sample_weights=s,
                                               padding_idx=padding_idx),
                  lambda w, s: TF.embedding_bag(torch.tensor(FLAT), w, torch.tensor(OFFSETS), mode="sum",
                                                per_sample_weights=s, padding_idx=padding_idx), W, s)


def test_embedding_bag_max_ties_and_float32():
    w = np.array([[1.0, 5.0], [1.0, 2.0], [3.0, 5.0]], dtype=np.float32)  # ties: the first entry, as torch
    out = assert_parity(lambda t: F.embedding_bag(cr.tensor(np.array([[0, 1, 2]])), t, mode="max"),
                        lambda t: TF.embedding_bag(torch.tensor([[0, 1, 2]]), t, mode="max"), w)
    assert out.dtype == np.float32


def test_embedding_bag_errors():
    w = cr.tensor(W)
    with pytest.raises(ValueError, match="embedding_bag: per_sample_weights is only supported for mode='sum', got mode='mean'"):
        F.embedding_bag(cr.tensor(IDX), w, per_sample_weights=cr.ones(2, 3, dtype=cr.float64))
    with pytest.raises(ValueError, match="embedding_bag: offsets must be given for a 1-D input"):
        F.embedding_bag(cr.tensor(FLAT), w)
    with pytest.raises(ValueError, match="embedding_bag: offsets must be None for a 2-D input"):
        F.embedding_bag(cr.tensor(IDX), w, cr.tensor([0]))
    with pytest.raises(ValueError, match=r"embedding_bag: offsets must start at 0, not decrease.*got \[1, 3\]"):
        F.embedding_bag(cr.tensor(FLAT), w, cr.tensor([1, 3]))
    with pytest.raises(ValueError, match="embedding_bag: mode must be 'sum', 'mean' or 'max', got 'min'"):
        F.embedding_bag(cr.tensor(IDX), w, mode="min")


@pytest.mark.parametrize("num_classes", [-1, 6])
def test_one_hot_like_torch(num_classes):
    t = np.array([[0, 3], [1, 1], [4, 2]])
    out = F.one_hot(cr.tensor(t), num_classes)
    ref = TF.one_hot(torch.tensor(t), num_classes).numpy()
    assert out.dtype == np.int64 and not out.requires_grad
    np.testing.assert_array_equal(out.data, ref)
    np.testing.assert_array_equal(F.one_hot(cr.tensor(np.zeros(0, np.int64)), 3).data, np.zeros((0, 3)))


def test_one_hot_errors():
    with pytest.raises(TypeError, match="one_hot: is only applicable to index tensors of dtype int64, got float32"):
        F.one_hot(cr.tensor([1.0]))
    with pytest.raises(ValueError, match="one_hot: can not infer the number of classes from an empty tensor"):
        F.one_hot(cr.tensor(np.zeros(0, np.int64)))
    with pytest.raises(ValueError, match="one_hot: class values must be smaller than num_classes=3, got 3"):
        F.one_hot(cr.tensor([0, 3]), 3)
    with pytest.raises(ValueError, match="one_hot: class values must be non-negative, got -1"):
        F.one_hot(cr.tensor([0, -1]), 3)
