"""Dropout layers [note 001, note 003]: active in ``train()`` mode, the identity in ``eval()``.
Debugging tip from the notes: set p = 0 (keep_prob = 1) to check that the loss falls monotonically."""
from ..ops.dropout import check_p
from . import functional as F
from .module import Module


class Dropout(Module):
    """Zero each element with probability ``p`` in training, scaling the rest by 1/(1 − p).
    ``inplace`` is accepted for PyTorch compatibility and has no effect."""

    def __init__(self, p=0.5, inplace=False):
        super().__init__()
        check_p(p, type(self).__name__)
        self.p, self.inplace = p, inplace

    def forward(self, x):
        """``F.dropout(x, p, self.training)``: in training each element zeroed with probability p and the rest scaled by
        1/(1 − p), so the expectation is x [note 003: dropout]; x itself in eval. Any shape; the output has x's shape.
        """
        return F.dropout(x, self.p, self.training)

    def extra_repr(self):
        return f"p={self.p}, inplace={self.inplace}"


class Dropout2d(Dropout):
    """Zero whole channels of (N, C, H, W) with probability ``p`` in training, scaling the rest."""

    def forward(self, x):
        """``F.dropout2d(x, p, self.training)``: whole channels of (N, C, H, W) or (C, H, W) zeroed with probability p
        in training, the rest scaled by 1/(1 − p); x itself in eval."""
        return F.dropout2d(x, self.p, self.training)


class Dropout1d(Dropout):
    """Zero whole channels of (N, C, L) or (C, L) with probability ``p`` in training, scaling the rest."""

    def forward(self, x):
        """``F.dropout1d(x, p, self.training)``: whole channels of (N, C, L) or (C, L) zeroed with probability p in
        training, the rest scaled by 1/(1 − p); x itself in eval."""
        return F.dropout1d(x, self.p, self.training)


class Dropout3d(Dropout):
    """Zero whole channels of (N, C, D, H, W) or (C, D, H, W) with probability ``p`` in training, scaling the rest."""

    def forward(self, x):
        """``F.dropout3d(x, p, self.training)``: whole channels of (N, C, D, H, W) or (C, D, H, W) zeroed with
        probability p in training, the rest scaled by 1/(1 − p); x itself in eval."""
        return F.dropout3d(x, self.p, self.training)


class AlphaDropout(Dropout):
    """Dropout for SELU networks: keeps the activations' mean 0 and variance 1 (see ``alpha_dropout``)."""

    def forward(self, x):
        """``F.alpha_dropout(x, p, self.training)``: dropped elements set to SELU's negative saturation and an affine
        correction keeping mean 0 and variance 1; x itself in eval. Any shape."""
        return F.alpha_dropout(x, self.p, self.training)


class FeatureAlphaDropout(Dropout):
    """Alpha dropout of whole channels."""

    def forward(self, x):
        """``F.feature_alpha_dropout(x, p, self.training)``: alpha dropout of whole channels (dim 1); x itself in eval.
        """
        return F.feature_alpha_dropout(x, self.p, self.training)
