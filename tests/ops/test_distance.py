"""chainrule.ops.distance against torch: normalize (p, dim, eps; a zero vector), cosine_similarity (dim, eps,
broadcasting, vectors below eps), pairwise_distance (p, eps, keepdim, broadcasting), forward and gradients in
float64, float32 smoke tests, the top-level names and errors."""
import numpy as np
import pytest
import torch

import chainrule as cr
import chainrule.nn.functional as F
from tests.parity import assert_parity

TF = torch.nn.functional
RNG = np.random.default_rng(0)
X, Y = RNG.standard_normal((4, 5)), RNG.standard_normal((4, 5))
X0 = X.copy()
X0[1], X0[2] = 0, 1e-10  # a zero row and one below eps


@pytest.mark.parametrize("p", [1, 2, 3, 0.5, float("inf")])
@pytest.mark.parametrize("dim", [0, 1, -1])
def test_normalize_parity(p, dim):
    assert_parity(lambda a: F.normalize(a, p, dim), lambda a: TF.normalize(a, p, dim), X)
    assert_parity(lambda a: F.normalize(a, p, dim, eps=1e-3), lambda a: TF.normalize(a, p, dim, eps=1e-3), X0)


@pytest.mark.parametrize("dim", [0, 1, -1])
def test_cosine_similarity_parity(dim):
    assert_parity(lambda a, b: F.cosine_similarity(a, b, dim), lambda a, b: TF.cosine_similarity(a, b, dim), X, Y)
    assert_parity(lambda a, b: F.cosine_similarity(a, b, dim), lambda a, b: TF.cosine_similarity(a, b, dim), X0, Y)
    assert_parity(lambda a, b: cr.cosine_similarity(a, b, dim, 1e-2), lambda a, b: torch.cosine_similarity(a, b, dim, 1e-2), X0, Y)


def test_cosine_similarity_broadcasts_and_integers():
    assert_parity(lambda a, b: F.cosine_similarity(a, b), lambda a, b: TF.cosine_similarity(a, b), X[:, None, :], Y[:3])
    out = F.cosine_similarity(cr.tensor([[1, 2]]), cr.tensor([[2, 1]]))
    assert out.dtype == np.float32


@pytest.mark.parametrize("p", [1, 2, 3, float("inf")])
@pytest.mark.parametrize("keepdim", [False, True])
def test_pairwise_distance_parity(p, keepdim):
    assert_parity(lambda a, b: F.pairwise_distance(a, b, p, keepdim=keepdim),
                  lambda a, b: TF.pairwise_distance(a, b, p, keepdim=keepdim), X, Y)
    assert_parity(lambda a, b: cr.pairwise_distance(a, b, p, 1e-3, keepdim),
                  lambda a, b: torch.pairwise_distance(a, b, p, 1e-3, keepdim), X, Y[0])
    assert_parity(lambda a, b: F.pairwise_distance(a, b, p), lambda a, b: TF.pairwise_distance(a, b, p), X[0], Y[0])


def test_distances_float32():
    x, y = X.astype(np.float32), Y.astype(np.float32)
    for ours, theirs in ((F.cosine_similarity, TF.cosine_similarity), (F.pairwise_distance, TF.pairwise_distance)):
        assert assert_parity(ours, theirs, x, y).dtype == np.float32
    assert assert_parity(F.normalize, TF.normalize, x).dtype == np.float32


def test_distance_errors():
    with pytest.raises(ValueError, match=r"cosine_similarity: x1 of shape \(4, 5\) and x2 of shape \(3,\) do not broadcast"):
        F.cosine_similarity(cr.tensor(X), cr.ones(3))
    with pytest.raises(IndexError, match="cosine_similarity: dim 2 out of range"):
        F.cosine_similarity(cr.tensor(X), cr.tensor(Y), 2)
    with pytest.raises(TypeError, match="normalize: needs a floating-point input, got int64"):
        F.normalize(cr.tensor([1, 2]))
    with pytest.raises(TypeError, match="pairwise_distance: x2 must be a Tensor, got list"):
        F.pairwise_distance(cr.tensor(X), [1.0])
