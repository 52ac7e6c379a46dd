"""Loss functions. Cross-entropy is one fused, stable op: log-softmax and NLL in a single node."""
import numpy as np

from ..autograd import Function
from ..tensor import Tensor

REDUCTIONS = ("none", "mean", "sum")


def _reduce(loss, reduction):
    if reduction == "mean":
        return np.mean(loss)
    if reduction == "sum":
        return np.sum(loss)
    return loss


class CrossEntropy(Function):
    """loss_i = logsumexp(x_i) − x_i[y_i] for logits x (N, C) and class indices y (N,);
    dx = (softmax(x) − onehot(y)) · (1/N for 'mean')."""

    def forward(self, logits, target, reduction):
        self.target, self.reduction = target, reduction
        shifted = logits - np.max(logits, axis=1, keepdims=True)
        exp = np.exp(shifted)
        sum_exp = np.sum(exp, axis=1, keepdims=True)
        rows = np.arange(logits.shape[0])
        loss = np.log(sum_exp[:, 0]) - shifted[rows, target]
        self.probs = exp / sum_exp
        return _reduce(loss, reduction)

    def backward(self, g):
        grad = self.probs.copy()
        grad[np.arange(grad.shape[0]), self.target] -= 1
        if self.reduction == "none":
            grad *= g[:, None]
        else:
            grad *= g / grad.shape[0] if self.reduction == "mean" else g
        return grad, None, None


class MSE(Function):
    """loss = mean/sum of (x − y)²;  dx = 2(x − y)·g (/n for 'mean'), dy = −dx."""

    def forward(self, x, y, reduction):
        self.diff, self.reduction = x - y, reduction
        return _reduce(self.diff * self.diff, reduction)

    def backward(self, g):
        d = self.diff
        gx = 2 * g * d / (d.size if self.reduction == "mean" else 1)
        return (gx if self.needs[0] else None), (-gx if self.needs[1] else None), None


def _check_reduction(reduction, op):
    if reduction not in REDUCTIONS:
        raise ValueError(f"{op}: reduction must be one of {REDUCTIONS}, got {reduction!r}")


def cross_entropy(input, target, reduction="mean"):  # noqa: A002 - PyTorch's argument name
    """Cross-entropy of logits ``input`` (N, C) against class indices ``target`` (N,) of dtype int64."""
    _check_reduction(reduction, "cross_entropy")
    t = target.data if isinstance(target, Tensor) else np.asarray(target)
    if input.ndim != 2:
        raise ValueError(f"cross_entropy: expected logits of shape (N, C), got {input.shape}")
    if t.dtype.kind not in "iu":
        raise TypeError(f"cross_entropy: target must hold integer class indices, got dtype {t.dtype}")
    if t.shape != input.shape[:1]:
        raise ValueError(f"cross_entropy: target of shape {t.shape} does not match logits {input.shape} (expected ({input.shape[0]},))")
    if t.size and (t.min() < 0 or t.max() >= input.shape[1]):
        raise IndexError(f"cross_entropy: target class {int(t.min() if t.min() < 0 else t.max())} out of range [0, {input.shape[1]})")
    return CrossEntropy.apply(input, t, reduction)


def mse_loss(input, target, reduction="mean"):  # noqa: A002 - PyTorch's argument name
    """Mean squared error Σ(input − target)² / n (or the sum, or elementwise)."""
    _check_reduction(reduction, "mse_loss")
    if input.shape != target.shape:
        raise ValueError(f"mse_loss: input shape {input.shape} and target shape {target.shape} differ")
    return MSE.apply(input, target, reduction)
