"""Small layers over single functional ops: Unflatten (Flatten's inverse), ChannelShuffle, and the
distance layers CosineSimilarity and PairwiseDistance."""
from . import functional as F
from .module import Module


class Unflatten(Module):
    """Expands dim ``dim`` into ``unflattened_size`` (one entry may be −1): (…, d, …) → (…, *sizes, …)."""

    def __init__(self, dim, unflattened_size):
        super().__init__()
        if not isinstance(dim, int):
            raise TypeError(f"Unflatten: dim must be an int, got {type(dim).__name__}")
        if not isinstance(unflattened_size, (tuple, list)) or not all(isinstance(s, int) for s in unflattened_size):
            raise TypeError(f"Unflatten: unflattened_size must be a tuple of ints, got {unflattened_size!r}")
        self.dim, self.unflattened_size = dim, tuple(unflattened_size)

    def forward(self, x):
        """x with dim ``dim`` reshaped into ``unflattened_size``: (…, d, …) → (…, *unflattened_size, …), their product
        equal to d. Raises IndexError for a dim out of range, and as reshape when the sizes don't multiply to d."""
        if not -x.ndim <= self.dim < x.ndim:
            raise IndexError(f"Unflatten: dim {self.dim} out of range for an input of shape {x.shape}")
        d = self.dim % x.ndim
        return x.reshape(*x.shape[:d], *self.unflattened_size, *x.shape[d + 1:])

    def extra_repr(self):
        return f"dim={self.dim}, unflattened_size={self.unflattened_size}"


class ChannelShuffle(Module):
    """ShuffleNet's channel shuffle with ``groups`` groups."""

    def __init__(self, groups):
        super().__init__()
        self.groups = groups

    def forward(self, x):
        """``F.channel_shuffle(x, groups)``: x (N, C, *) with C = g·m viewed as (N, g, m, *), the two channel dims
        swapped, flattened back; the output has x's shape."""
        return F.channel_shuffle(x, self.groups)

    def extra_repr(self):
        return f"groups={self.groups}"


class CosineSimilarity(Module):
    """Cosine similarity of x₁ and x₂ along ``dim``."""

    def __init__(self, dim=1, eps=1e-8):
        super().__init__()
        self.dim, self.eps = dim, eps

    def forward(self, x1, x2):
        """``F.cosine_similarity``: x₁·x₂ / max(‖x₁‖·‖x₂‖, eps) along ``dim``, x₁ and x₂ broadcastable; that dim is
        removed."""
        return F.cosine_similarity(x1, x2, self.dim, self.eps)


class PairwiseDistance(Module):
    """‖x₁ − x₂ + eps‖_p along the last dim."""

    def __init__(self, p=2.0, eps=1e-6, keepdim=False):
        super().__init__()
        self.norm, self.eps, self.keepdim = p, eps, keepdim

    def forward(self, x1, x2):
        """``F.pairwise_distance``: ‖x₁ − x₂ + eps‖_p along the last dim, x₁, x₂ (N, D) or (D); the last dim is removed
        unless keepdim."""
        return F.pairwise_distance(x1, x2, self.norm, self.eps, self.keepdim)
