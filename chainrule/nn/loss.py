"""Loss modules over the functional losses (PyTorch's names, arguments and defaults)."""
from ..ops.loss import check_reduction
from . import functional as F
from .module import Module


class _Loss(Module):
    def __init__(self, reduction="mean"):
        super().__init__()
        check_reduction(reduction, type(self).__name__)
        self.reduction = reduction

    def extra_repr(self):
        return "" if self.reduction == "mean" else f"reduction={self.reduction!r}"


class _WeightedLoss(_Loss):
    """A loss with optional per-class (or per-element) weights, kept as a buffer (in the state dict, as torch)."""

    def __init__(self, weight=None, reduction="mean"):
        super().__init__(reduction)
        self.register_buffer("weight", weight)


class CrossEntropyLoss(_WeightedLoss):
    """Cross-entropy of logits against class indices or class probabilities (see ``cross_entropy``)."""

    def __init__(self, weight=None, ignore_index=-100, reduction="mean", label_smoothing=0.0):
        super().__init__(weight, reduction)
        self.ignore_index, self.label_smoothing = ignore_index, label_smoothing

    def forward(self, input, target):  # noqa: A002 - PyTorch's argument name
        """``F.cross_entropy``: ℓ = −w_y·log softmax(input)_y [note 004: cross-entropy for classification]; input (N, C)
        or (N, C, d…) logits, target (N) or (N, d…) class indices (entries equal to ignore_index skipped) or (N, C, …)
        probabilities; label_smoothing mixes in the uniform distribution; 'mean' divides by the summed weights of the
        counted targets. ``reduction``: 'mean' → a 0-d tensor (the average), 'sum' → the sum, 'none' → the per-element
        losses."""
        return F.cross_entropy(input, target, self.weight, ignore_index=self.ignore_index, reduction=self.reduction,
                               label_smoothing=self.label_smoothing)


class NLLLoss(_WeightedLoss):
    """Negative log-likelihood of log-probabilities at class indices."""

    def __init__(self, weight=None, ignore_index=-100, reduction="mean"):
        super().__init__(weight, reduction)
        self.ignore_index = ignore_index

    def forward(self, input, target):  # noqa: A002
        """``F.nll_loss``: ℓ = −w_y·input_y, input (N, C) or (N, C, d…) log-probabilities, target (N) or (N, d…) class
        indices (ignore_index skipped); 'mean' divides by the summed weights. ``reduction``: 'mean' → a 0-d tensor (the
        average), 'sum' → the sum, 'none' → the per-element losses."""
        return F.nll_loss(input, target, self.weight, ignore_index=self.ignore_index, reduction=self.reduction)


class MSELoss(_Loss):
    """Mean squared error."""

    def forward(self, input, target):  # noqa: A002
        """``F.mse_loss``: (input − target)² [note 004: squared error for regression]; input and target of one shape (or
        broadcastable). ``reduction``: 'mean' → a 0-d tensor (the average), 'sum' → the sum, 'none' → the per-element
        losses."""
        return F.mse_loss(input, target, reduction=self.reduction)


class L1Loss(_Loss):
    """Mean absolute error."""

    def forward(self, input, target):  # noqa: A002
        """``F.l1_loss``: |input − target|; input and target of one shape. ``reduction``: 'mean' → a 0-d tensor (the
        average), 'sum' → the sum, 'none' → the per-element losses."""
        return F.l1_loss(input, target, reduction=self.reduction)


class SmoothL1Loss(_Loss):
    """Quadratic below ``beta``, linear above."""

    def __init__(self, reduction="mean", beta=1.0):
        super().__init__(reduction)
        self.beta = beta

    def forward(self, input, target):  # noqa: A002
        """``F.smooth_l1_loss``: 0.5·d²/β where |d| < β, else |d| − 0.5·β, d = input − target. ``reduction``: 'mean' → a
        0-d tensor (the average), 'sum' → the sum, 'none' → the per-element losses."""
        return F.smooth_l1_loss(input, target, reduction=self.reduction, beta=self.beta)


class BCELoss(_WeightedLoss):
    """Binary cross-entropy of probabilities."""

    def forward(self, input, target):  # noqa: A002
        """``F.binary_cross_entropy``: −w·[y·log p + (1 − y)·log(1 − p)], input p probabilities in [0, 1], target y of
        its shape (logs clamped at −100 as torch). ``reduction``: 'mean' → a 0-d tensor (the average), 'sum' → the sum,
        'none' → the per-element losses."""
        return F.binary_cross_entropy(input, target, self.weight, reduction=self.reduction)


class BCEWithLogitsLoss(_WeightedLoss):
    """Binary cross-entropy of logits (sigmoid fused in); ``pos_weight`` weighs the positive class."""

    def __init__(self, weight=None, reduction="mean", pos_weight=None):
        super().__init__(weight, reduction)
        self.register_buffer("pos_weight", pos_weight)

    def forward(self, input, target):  # noqa: A002
        """``F.binary_cross_entropy_with_logits``: −w·[pos_weight·y·log σ(x) + (1 − y)·log(1 − σ(x))], computed stably
        from the logits x; target y of x's shape. ``reduction``: 'mean' → a 0-d tensor (the average), 'sum' → the sum,
        'none' → the per-element losses."""
        return F.binary_cross_entropy_with_logits(input, target, self.weight, reduction=self.reduction,
                                                  pos_weight=self.pos_weight)


class HuberLoss(_Loss):
    """Quadratic within ``delta`` of the target, linear beyond."""

    def __init__(self, reduction="mean", delta=1.0):
        super().__init__(reduction)
        self.delta = delta

    def forward(self, input, target):  # noqa: A002
        """``F.huber_loss``: 0.5·d² where |d| < δ, else δ·(|d| − 0.5·δ), d = input − target. ``reduction``: 'mean' → a
        0-d tensor (the average), 'sum' → the sum, 'none' → the per-element losses."""
        return F.huber_loss(input, target, reduction=self.reduction, delta=self.delta)


class KLDivLoss(_Loss):
    """KL divergence of the target from the input's distribution (input: log-probabilities); 'batchmean' allowed."""

    def __init__(self, size_average=None, reduce=None, reduction="mean", log_target=False):
        Module.__init__(self)
        if reduction not in ("none", "mean", "sum", "batchmean"):
            raise ValueError(f"KLDivLoss: reduction must be 'none', 'mean', 'sum' or 'batchmean', got {reduction!r}")
        self.reduction, self.log_target = reduction, log_target

    def forward(self, input, target):  # noqa: A002
        """``F.kl_div``: target·(log target − input), input log-probabilities, target probabilities (log-probabilities
        with log_target); 'batchmean' divides the sum by the batch size (the true KL divergence). ``reduction``: 'mean'
        → a 0-d tensor (the average), 'sum' → the sum, 'none' → the per-element losses."""
        return F.kl_div(input, target, reduction=self.reduction, log_target=self.log_target)


class PoissonNLLLoss(_Loss):
    """Poisson negative log-likelihood (input log λ with ``log_input``, else λ)."""

    def __init__(self, log_input=True, full=False, size_average=None, eps=1e-8, reduce=None, reduction="mean"):
        super().__init__(reduction)
        self.log_input, self.full, self.eps = log_input, full, eps

    def forward(self, log_input, target):
        """``F.poisson_nll_loss``: e^x − y·x with log_input (x = log λ), else λ − y·log(λ + eps); ``full`` adds
        Stirling's term for y > 1. ``reduction``: 'mean' → a 0-d tensor (the average), 'sum' → the sum, 'none' → the
        per-element losses."""
        return F.poisson_nll_loss(log_input, target, log_input=self.log_input, full=self.full, eps=self.eps,
                                  reduction=self.reduction)


class GaussianNLLLoss(_Loss):
    """Gaussian negative log-likelihood of the target under N(input, var)."""

    def __init__(self, *, full=False, eps=1e-6, reduction="mean"):
        super().__init__(reduction)
        self.full, self.eps = full, eps

    def forward(self, input, target, var):  # noqa: A002
        """``F.gaussian_nll_loss``: 0.5·(log max(var, eps) + (input − target)² / max(var, eps)) (+ 0.5·log 2π with
        full); var of input's shape, one dim short, size 1 in one dim, or a float. ``reduction``:
        'mean' → a 0-d tensor (the average), 'sum' → the sum, 'none' → the per-element losses."""
        return F.gaussian_nll_loss(input, target, var, full=self.full, eps=self.eps, reduction=self.reduction)


class SoftMarginLoss(_Loss):
    """Two-class logistic loss for labels ±1."""

    def __init__(self, size_average=None, reduce=None, reduction="mean"):
        super().__init__(reduction)

    def forward(self, input, target):  # noqa: A002
        """``F.soft_margin_loss``: log(1 + e^(−y·x)), target y ∈ {1, −1} of input's shape. ``reduction``: 'mean' → a 0-d
        tensor (the average), 'sum' → the sum, 'none' → the per-element losses."""
        return F.soft_margin_loss(input, target, reduction=self.reduction)


class MarginRankingLoss(_Loss):
    """max(0, −y·(x₁ − x₂) + margin)."""

    def __init__(self, margin=0.0, size_average=None, reduce=None, reduction="mean"):
        super().__init__(reduction)
        self.margin = margin

    def forward(self, input1, input2, target):
        """``F.margin_ranking_loss``: max(0, −y·(x₁ − x₂) + margin), input1, input2, target y ∈ {1, −1} of one shape.
        ``reduction``: 'mean' → a 0-d tensor (the average), 'sum' → the sum, 'none' → the per-element losses."""
        return F.margin_ranking_loss(input1, input2, target, margin=self.margin, reduction=self.reduction)


class HingeEmbeddingLoss(_Loss):
    """x where y = 1, max(0, margin − x) where y = −1."""

    def __init__(self, margin=1.0, size_average=None, reduce=None, reduction="mean"):
        super().__init__(reduction)
        self.margin = margin

    def forward(self, input, target):  # noqa: A002
        """``F.hinge_embedding_loss``: x where y = 1, max(0, margin − x) where y = −1; target of input's shape.
        ``reduction``: 'mean' → a 0-d tensor (the average), 'sum' → the sum, 'none' → the per-element losses."""
        return F.hinge_embedding_loss(input, target, margin=self.margin, reduction=self.reduction)


class CosineEmbeddingLoss(MarginRankingLoss):
    """1 − cos(x₁, x₂) where y = 1, max(0, cos(x₁, x₂) − margin) where y = −1."""

    def forward(self, input1, input2, target):
        """``F.cosine_embedding_loss``: 1 − cos(x₁, x₂) where y = 1, max(0, cos(x₁, x₂) − margin) where y = −1; input1,
        input2 (N, D) or (D), target (N) or (). ``reduction``: 'mean' → a 0-d tensor (the average), 'sum' → the sum,
        'none' → the per-element losses."""
        return F.cosine_embedding_loss(input1, input2, target, margin=self.margin, reduction=self.reduction)


class TripletMarginLoss(_Loss):
    """max(0, margin + d(a, p) − d(a, n)), d the p-norm distance (``swap``: the distance swap)."""

    def __init__(self, margin=1.0, p=2.0, eps=1e-6, swap=False, size_average=None, reduce=None, reduction="mean"):
        super().__init__(reduction)
        if margin <= 0:
            raise ValueError(f"TripletMarginLoss: margin must be greater than 0, got {margin}")
        self.margin, self.p, self.eps, self.swap = margin, p, eps, swap

    def forward(self, anchor, positive, negative):
        """``F.triplet_margin_loss``: max(0, margin + d(a, p) − d(a, n)), d the p-norm distance along the last dim; with
        swap, d(a, n) is min(d(a, n), d(p, n)). anchor, positive, negative (N, D) or (D). ``reduction``: 'mean' → a 0-d
        tensor (the average), 'sum' → the sum, 'none' → the per-element losses."""
        return F.triplet_margin_loss(anchor, positive, negative, margin=self.margin, p=self.p, eps=self.eps,
                                     swap=self.swap, reduction=self.reduction)


class MultiLabelSoftMarginLoss(_WeightedLoss):
    """One logistic loss per class, averaged over the classes."""

    def __init__(self, weight=None, size_average=None, reduce=None, reduction="mean"):
        super().__init__(weight, reduction)

    def forward(self, input, target):  # noqa: A002
        """``F.multilabel_soft_margin_loss``: −mean over classes of w_c·[y_c·log σ(x_c) + (1 − y_c)·log σ(−x_c)], input
        and target (N, C); one loss per sample, then reduced. ``reduction``: 'mean' → a 0-d tensor (the average), 'sum'
        → the sum, 'none' → the per-element losses."""
        return F.multilabel_soft_margin_loss(input, target, weight=self.weight, reduction=self.reduction)
