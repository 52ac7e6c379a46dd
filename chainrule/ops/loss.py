"""Loss functions [note 004: squared error for regression, cross-entropy for classification].

Cross-entropy is one fused, stable op — log-softmax (via log-sum-exp) and the negative
log-likelihood in a single node whose backward is softmax − target. Signatures and reduction
semantics are PyTorch's: ``reduction='mean'`` averages over elements, or over the weights of the
targets' classes when class weights are given.
"""
import numpy as np

from ..autograd import Function
from ..dtypes import check_floating
from ..tensor import Tensor

REDUCTIONS = ("none", "mean", "sum")


def check_reduction(reduction, op):
    if reduction not in REDUCTIONS:
        raise ValueError(f"{op}: reduction must be one of {REDUCTIONS}, got {reduction!r}")


def _log_softmax_rows(z):
    """log softmax along the last axis, stable; also returns softmax."""
    shifted = z - np.max(z, axis=-1, keepdims=True)
    exp = np.exp(shifted)
    total = np.sum(exp, axis=-1, keepdims=True)
    return shifted - np.log(total), exp / total


class CrossEntropy(Function):
    """Logits z (M, C) against class indices t (M,) or class probabilities q (M, C), class weights w:

        indices:        loss_i = (1 − ε)·w_t·(−log p_i,t) + (ε/C)·Σ_c w_c·(−log p_i,c)   (0 where t = ignore_index)
        probabilities:  loss_i = Σ_c w_c·q'_c·(−log p_i,c),  q' = (1 − ε)·q + ε/C
        dz_i = p_i·Σ_c w_c·q'_i,c − w⊙q'_i   (the indices case is q'_i = (1 − ε)·onehot(t_i) + ε/C, masked)

    'mean' divides by Σ_i w_t (indices) or by M (probabilities), as PyTorch does.
    """

    def forward(self, z, target, weight, ignore_index, smoothing, reduction):
        m, c = z.shape
        logp, p = _log_softmax_rows(z)
        w = np.ones(c, dtype=z.dtype) if weight is None else weight
        if target.dtype.kind in "iu":
            valid = target != ignore_index
            t = np.where(valid, target, 0)
            q = np.zeros((m, c), dtype=z.dtype)
            q[np.arange(m), t] = 1 - smoothing
            q += smoothing / c
            q *= valid[:, None]
            denom = np.sum(w[t] * valid)
        else:
            q = target * (1 - smoothing) + smoothing / c if smoothing else target
            denom, valid = m, None
        wq = w * q
        loss = -np.sum(wq * logp, axis=1)
        self.p, self.wq, self.logp, self.w, self.smoothing = p, wq, logp, w, smoothing
        self.reduction, self.denom, self.soft_target = reduction, denom, target.dtype.kind == "f"
        self.valid = valid
        if reduction == "sum":
            return np.sum(loss)
        if reduction == "mean":
            with np.errstate(divide="ignore", invalid="ignore"):  # every target ignored: nan, as in torch
                return np.sum(loss) / denom
        return loss

    def backward(self, g):
        with np.errstate(divide="ignore", invalid="ignore"):
            scale = g[:, None] if self.reduction == "none" else (g / self.denom if self.reduction == "mean" else g)
            gz = (self.p * np.sum(self.wq, axis=1, keepdims=True) - self.wq) * scale
        if self.valid is not None and not self.denom:
            gz[~self.valid] = 0  # ignored rows get 0, not 0·∞ (torch's gradient when every target is ignored)
        gq = None
        if self.soft_target and self.needs[1]:
            gq = -self.w * self.logp * (1 - self.smoothing) * scale
        return gz, gq, None, None, None, None


class NLL(Function):
    """Negative log-likelihood of log-probabilities x (M, C) at class indices t:
    loss_i = −w_t·x_i,t (0 where t = ignore_index); dx_i,t = −w_t·g."""

    def forward(self, x, target, weight, ignore_index, reduction):
        m, c = x.shape
        valid = target != ignore_index
        t = np.where(valid, target, 0)
        wt = (np.ones(c, dtype=x.dtype) if weight is None else weight)[t] * valid
        loss = -wt * x[np.arange(m), t]
        self.shape, self.t, self.wt, self.valid, self.reduction = x.shape, t, wt, valid, reduction
        self.denom = np.sum(wt)
        if reduction == "sum":
            return np.sum(loss)
        if reduction == "mean":
            with np.errstate(divide="ignore", invalid="ignore"):  # every target ignored: nan, as in torch
                return np.sum(loss) / self.denom
        return loss

    def backward(self, g):
        gx = np.zeros(self.shape, dtype=self.wt.dtype)
        with np.errstate(divide="ignore", invalid="ignore"):
            scale = g if self.reduction != "mean" else g / self.denom
            # ignored rows get 0, not 0·∞ when every target is ignored (as torch)
            gx[np.arange(self.shape[0]), self.t] = np.where(self.valid, -self.wt * scale, 0)
        return gx, None, None, None, None


class PointwiseLoss(Function):
    """Base of the elementwise losses: ``terms(x, y, param)`` returns (loss, dloss/dx, dloss/dy)
    elementwise; an optional weight multiplies each term; then the reduction."""

    def forward(self, x, y, weight, reduction, param=None):
        loss, self.dx, self.dy = self.terms(x, y, param)
        if weight is not None:
            loss, self.dx, self.dy = loss * weight, self.dx * weight, self.dy * weight
        self.reduction, self.n = reduction, loss.size
        if reduction == "mean":  # of an empty batch: nan, as torch
            return np.mean(loss) if self.n else np.full((), np.nan, loss.dtype)
        if reduction == "sum":
            return np.sum(loss)
        return loss

    def backward(self, g):
        scale = g / self.n if self.reduction == "mean" and self.n else g  # (n = 0: the gradients are empty)
        gx = self.dx * scale if self.needs[0] else None
        gy = self.dy * scale if self.needs[1] else None
        return gx, gy, None, None, None


class MSE(PointwiseLoss):
    """(x − y)²;  dx = 2(x − y), dy = −dx."""

    def terms(self, x, y, _):
        d = x - y
        return d * d, 2 * d, -2 * d


class L1(PointwiseLoss):
    """|x − y|;  dx = sign(x − y), dy = −dx."""

    def terms(self, x, y, _):
        d = x - y
        s = np.sign(d)
        return np.abs(d), s, -s


class SmoothL1(PointwiseLoss):
    """0.5(x − y)²/β where |x − y| < β, else |x − y| − 0.5β (β = 0: L1);  dx = (x − y)/β or sign."""

    def terms(self, x, y, beta):
        d = x - y
        a = np.abs(d)
        if beta == 0:
            return a, np.sign(d), -np.sign(d)
        small = a < beta
        loss = np.where(small, 0.5 * d * d / beta, a - 0.5 * beta)
        dx = np.where(small, d / beta, np.sign(d))
        return loss, dx, -dx


class BCE(PointwiseLoss):
    """−[y·log x + (1 − y)·log(1 − x)] for probabilities x, logs clamped at −100 as PyTorch;
    dx = (x − y)/max(x(1 − x), 1e-12), dy = log(1 − x) − log x."""

    def terms(self, x, y, _):
        with np.errstate(divide="ignore"):  # log 0 = −∞, clamped to −100
            log_x = np.maximum(np.log(x), -100)
            log_1mx = np.maximum(np.log1p(-x), -100)
        loss = -(y * log_x + (1 - y) * log_1mx)
        dx = (x - y) / np.maximum(x * (1 - x), 1e-12)
        return loss, dx, log_1mx - log_x


class BCEWithLogits(PointwiseLoss):
    """−[pw·y·log σ(z) + (1 − y)·log(1 − σ(z))] computed stably with softplus (log σ(z) = −softplus(−z));
    dz = σ(z)·(pw·y + 1 − y) − pw·y, dy = −pw·log σ(z) + log(1 − σ(z))."""

    def terms(self, z, y, pos_weight):
        sp_neg = np.maximum(-z, 0) + np.log1p(np.exp(-np.abs(z)))  # softplus(−z) = −log σ(z)
        sp_pos = sp_neg + z  # softplus(z) = −log(1 − σ(z))
        pw = 1 if pos_weight is None else pos_weight
        loss = pw * y * sp_neg + (1 - y) * sp_pos
        sig = np.exp(-sp_neg)
        dz = sig * (pw * y + 1 - y) - pw * y
        return loss, dz, pw * sp_neg - sp_pos


def _pointwise(op, input, target, weight, reduction, name, param=None):  # noqa: A002
    check_reduction(reduction, name)
    if not isinstance(input, Tensor):
        raise TypeError(f"{name}: input must be a Tensor, got {type(input).__name__}")
    if not isinstance(target, Tensor):
        target = Tensor(np.asarray(target))
    if input.shape != target.shape:
        raise ValueError(f"{name}: input shape {input.shape} and target shape {target.shape} differ")
    if input.data.dtype.kind != "f":  # as torch: an integer input takes a floating-point target's dtype
        check_floating(target.data.dtype, name, "input or target", f" for the target and {input.dtype} for the input")
        input = input.to(target.data.dtype)
    if target.data.dtype != input.data.dtype:
        target = target.to(input.data.dtype)
    w = None
    if weight is not None:  # weights (and pos_weight) take the input's dtype, as in torch
        w = np.asarray(weight.data if isinstance(weight, Tensor) else weight, dtype=input.data.dtype)
        try:
            np.broadcast_shapes(w.shape, input.shape)
        except ValueError:
            raise ValueError(f"{name}: weight of shape {w.shape} does not broadcast to input shape {input.shape}") from None
    if isinstance(param, np.ndarray):
        param = param.astype(input.data.dtype, copy=False)
    return op.apply(input, target, w, reduction, param)


def mse_loss(input, target, *, reduction="mean"):  # noqa: A002 - PyTorch's argument name
    """Mean squared error: mean (or sum) of (input − target)² [note 004]."""
    return _pointwise(MSE, input, target, None, reduction, "mse_loss")


def l1_loss(input, target, *, reduction="mean"):  # noqa: A002
    """Mean absolute error: mean (or sum) of |input − target|."""
    return _pointwise(L1, input, target, None, reduction, "l1_loss")


def smooth_l1_loss(input, target, *, reduction="mean", beta=1.0):  # noqa: A002
    """Quadratic below ``beta``, linear above (Huber-like, as torch's smooth_l1_loss)."""
    if beta < 0:
        raise ValueError(f"smooth_l1_loss: beta must be non-negative, got {beta}")
    return _pointwise(SmoothL1, input, target, None, reduction, "smooth_l1_loss", beta)


def _check_float_arguments(input, target, op):  # noqa: A002
    """The binary cross-entropies take floating-point input and target only, as torch (0/1 labels: y.float())."""
    for what, t in (("input", input), ("target", target)):
        if isinstance(t, Tensor):
            check_floating(t.data.dtype, op, what, f"; convert with {what}.float()")


def binary_cross_entropy(input, target, weight=None, *, reduction="mean"):  # noqa: A002
    """Binary cross-entropy of probabilities ``input`` in [0, 1] against ``target`` in [0, 1]."""
    _check_float_arguments(input, target, "binary_cross_entropy")
    x = input.data if isinstance(input, Tensor) else None
    if x is not None and x.size and (np.nanmin(x) < 0 or np.nanmax(x) > 1):
        raise ValueError(
            f"binary_cross_entropy: input must hold probabilities in [0, 1], got values in [{np.nanmin(x)}, {np.nanmax(x)}];"
            " for logits use binary_cross_entropy_with_logits"
        )
    return _pointwise(BCE, input, target, weight, reduction, "binary_cross_entropy")


def binary_cross_entropy_with_logits(input, target, weight=None, *, reduction="mean", pos_weight=None):  # noqa: A002
    """Binary cross-entropy of logits (sigmoid fused in, stable for large |z|); ``pos_weight`` weighs positives."""
    _check_float_arguments(input, target, "binary_cross_entropy_with_logits")
    pw = None if pos_weight is None else (pos_weight.data if isinstance(pos_weight, Tensor) else np.asarray(pos_weight))
    return _pointwise(BCEWithLogits, input, target, weight, reduction, "binary_cross_entropy_with_logits", pw)


def _class_last(x, op):
    """(N, C, d1, ...) → (N·d1·..., C); (C,) → (1, C); (N, C) unchanged. Returns rows and the batch shape."""
    if x.ndim == 0:
        raise ValueError(f"{op}: expected input of shape (C,), (N, C) or (N, C, d1, ...), got a 0-d tensor")
    if x.ndim == 1:
        return x.reshape(1, -1), ()
    if x.ndim == 2:
        return x, x.shape[:1]
    batch = (x.shape[0],) + x.shape[2:]
    return x.permute(0, *range(2, x.ndim), 1).reshape(-1, x.shape[1]), batch


def _index_target(target, input, batch, op):
    t = target.data if isinstance(target, Tensor) else np.asarray(target)
    if t.dtype.kind not in "iu":
        raise TypeError(f"{op}: class-index targets must be integers, got dtype {t.dtype} "
                        "(float targets are class probabilities and need the input's shape)")
    if t.shape != batch:
        raise ValueError(f"{op}: target of shape {t.shape} does not match input of shape {input.shape} "
                         f"(expected {batch})")
    return t.reshape(-1)


def _check_classes(t, c, ignore_index, op):
    valid = t[t != ignore_index]
    if valid.size and (valid.min() < 0 or valid.max() >= c):
        bad = int(valid.min() if valid.min() < 0 else valid.max())
        raise IndexError(f"{op}: target class {bad} out of range [0, {c})")


def _class_weight(weight, c, dtype, op):
    if weight is None:
        return None
    w = weight.data if isinstance(weight, Tensor) else np.asarray(weight)
    if w.shape != (c,):
        raise ValueError(f"{op}: weight must have shape ({c},), one per class, got {w.shape}")
    return w.astype(dtype, copy=False)


def cross_entropy(input, target, weight=None, *, ignore_index=-100, reduction="mean", label_smoothing=0.0):  # noqa: A002
    """Cross-entropy of logits ``input`` — (C,), (N, C) or (N, C, d1, ...) — against class indices
    (int, shape without C) or class probabilities (float, the input's shape). ``weight``: per-class
    weights; ``ignore_index``: targets that contribute nothing; ``label_smoothing`` ε mixes the target
    with the uniform distribution."""
    op = "cross_entropy"
    check_reduction(reduction, op)
    if not 0 <= label_smoothing <= 1:
        raise ValueError(f"{op}: label_smoothing must be in [0, 1], got {label_smoothing}")
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}: input must be a Tensor of logits, got {type(input).__name__}")
    check_floating(input.data.dtype, op, "input (logits)")
    rows, batch = _class_last(input, op)
    c = rows.shape[1]
    w = _class_weight(weight, c, input.data.dtype, op)
    soft = isinstance(target, Tensor) and target.data.dtype.kind == "f"
    if soft:
        if target.shape != input.shape:
            raise ValueError(f"{op}: probability targets must have the input's shape {input.shape}, got {target.shape} "
                             f"(float dtype {target.dtype}); class-index targets must be integers (e.g. target.long())")
        if ignore_index >= 0:  # as torch: a class to ignore has no meaning for a distribution
            raise ValueError(f"{op}: ignore_index={ignore_index} is not supported for probability (float) targets")
        t, _ = _class_last(target.to(input.data.dtype), op)
    else:
        t = _index_target(target, input, batch, op)
        _check_classes(t, c, ignore_index, op)
    loss = CrossEntropy.apply(rows, t, w, ignore_index, label_smoothing, reduction)
    return loss.reshape(batch) if reduction == "none" else loss


def nll_loss(input, target, weight=None, *, ignore_index=-100, reduction="mean"):  # noqa: A002
    """Negative log-likelihood of log-probabilities ``input`` (N, C) or (N, C, d1, ...) at class indices."""
    op = "nll_loss"
    check_reduction(reduction, op)
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}: input must be a Tensor of log-probabilities, got {type(input).__name__}")
    check_floating(input.data.dtype, op, "input (log-probabilities)")
    rows, batch = _class_last(input, op)
    t = _index_target(target, input, batch, op)
    _check_classes(t, rows.shape[1], ignore_index, op)
    loss = NLL.apply(rows, t, _class_weight(weight, rows.shape[1], input.data.dtype, op), ignore_index, reduction)
    return loss.reshape(batch) if reduction == "none" else loss
