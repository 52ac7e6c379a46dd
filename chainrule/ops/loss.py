"""Loss functions [note 004: squared error for regression, cross-entropy for classification].

Cross-entropy is one fused, stable op — log-softmax (via log-sum-exp) and the negative
log-likelihood in a single node whose backward is softmax − target. Signatures and reduction
semantics are PyTorch's: ``reduction='mean'`` averages over elements, or over the weights of the
targets' classes when class weights are given.
"""
import numpy as np

from .. import runtime
from ..autograd import Function
from ..dtypes import check_floating
from ..tensor import Tensor

REDUCTIONS = ("none", "mean", "sum")


def check_reduction(reduction, op):
    if reduction not in REDUCTIONS:
        raise ValueError(f"{op}: reduction must be one of {REDUCTIONS}, got {reduction!r}")


class CrossEntropy(Function):
    """Cross-entropy of logits z (M, C) against a target distribution q (M, C), fused with log-softmax so
    that the backward is the closed form of [note 004] (softmax − one-hot, by the chain rule of [note 002]):

        log p_i = z_i − max z_i − log Σ_c e^(z_i,c − max z_i)          (log-softmax, stable)
        q_i     = (1 − ε)·onehot(t_i) + ε/C for class indices t (M,), label smoothing ε
                  (a row of 0 where t_i = ignore_index);  or (1 − ε)·q_i + ε/C for probabilities q (M, C)
        loss_i  = −Σ_c w_c·q_i,c·log p_i,c                              (class weights w; 1 without)
        dz_i    = p_i·Σ_c w_c·q_i,c − w⊙q_i                             (w = 1, ε = 0: p_i − onehot(t_i))
        dq_i    = −(1 − ε)·w⊙log p_i                                    (probability targets only)

    'mean' divides Σ_i loss_i by Σ_i w_t_i over the targets not ignored (indices) or by M (probabilities),
    as PyTorch does.
    """

    def forward(self, z, target, weight, *, ignore_index, smoothing, reduction):
        m, c = z.shape
        shifted = z - np.max(z, axis=1, keepdims=True)
        self.logp = shifted - np.log(np.sum(np.exp(shifted), axis=1, keepdims=True))
        self.w = np.ones(c, dtype=z.dtype) if weight is None else weight
        self.soft_target = target.dtype.kind == "f"
        if self.soft_target:
            q = (1 - smoothing) * target + smoothing / c
            self.valid, self.denom = np.ones(m, dtype=bool), m
        else:
            self.valid = target != ignore_index
            onehot = (target[:, None] == np.arange(c)).astype(z.dtype)
            q = ((1 - smoothing) * onehot + smoothing / c) * self.valid[:, None]
            self.denom = np.sum(onehot[self.valid] @ self.w)  # Σ of w_t over the targets not ignored
        self.wq = self.w * q
        self.smoothing, self.reduction = smoothing, reduction
        loss = -np.sum(self.wq * self.logp, axis=1)
        if reduction == "none":
            return loss
        if reduction == "sum":
            return np.sum(loss)
        with np.errstate(divide="ignore", invalid="ignore"):  # every target ignored: nan, as in torch
            return np.sum(loss) / self.denom

    def backward(self, g):
        with np.errstate(divide="ignore", invalid="ignore"):
            scale = g[:, None] if self.reduction == "none" else g / self.denom if self.reduction == "mean" else g
            p = np.exp(self.logp)
            gz = (p * np.sum(self.wq, axis=1, keepdims=True) - self.wq) * scale
        gz[~self.valid] = 0  # an ignored row: 0, also when every target is ignored (0·∞ otherwise), as torch
        gq = -(1 - self.smoothing) * self.w * self.logp * scale if self.soft_target and self.needs[1] else None
        return gz, gq, None


class NLL(Function):
    """Negative log-likelihood of log-probabilities x (M, C) at class indices t:
    loss_i = −w_t·x_i,t (0 where t = ignore_index); dx_i,t = −w_t·g."""

    def forward(self, x, target, weight, *, ignore_index, reduction):
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
        return gx, None, None


class PointwiseLoss(Function):
    """Base of the elementwise losses: ``terms(x, y, **hyperparameters)`` returns (loss, dloss/dx, dloss/dy)
    elementwise; an optional weight multiplies each term; then the reduction."""

    def forward(self, x, y, weight, *, reduction, **hyperparameters):
        loss, self.dx, self.dy = self.terms(x, y, **hyperparameters)
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
        return gx, gy, None


class MSE(PointwiseLoss):
    """(x − y)²;  dx = 2(x − y), dy = −dx."""

    def terms(self, x, y):
        d = x - y
        return d * d, 2 * d, -2 * d


class L1(PointwiseLoss):
    """|x − y|;  dx = sign(x − y), dy = −dx."""

    def terms(self, x, y):
        d = x - y
        s = np.sign(d)
        return np.abs(d), s, -s


class SmoothL1(PointwiseLoss):
    """0.5(x − y)²/β where |x − y| < β, else |x − y| − 0.5β (β = 0: L1);  dx = (x − y)/β or sign."""

    def terms(self, x, y, *, beta):
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

    def terms(self, x, y):
        with np.errstate(divide="ignore"):  # log 0 = −∞, clamped to −100
            log_x = np.maximum(np.log(x), -100)
            log_1mx = np.maximum(np.log1p(-x), -100)
        loss = -(y * log_x + (1 - y) * log_1mx)
        dx = (x - y) / np.maximum(x * (1 - x), 1e-12)
        return loss, dx, log_1mx - log_x


class BCEWithLogits(PointwiseLoss):
    """−[pw·y·log σ(z) + (1 − y)·log(1 − σ(z))] computed stably with softplus (log σ(z) = −softplus(−z));
    dz = σ(z)·(pw·y + 1 − y) − pw·y, dy = −pw·log σ(z) + log(1 − σ(z))."""

    def terms(self, z, y, *, pos_weight):
        sp_neg = np.maximum(-z, 0) + np.log1p(np.exp(-np.abs(z)))  # softplus(−z) = −log σ(z)
        sp_pos = sp_neg + z  # softplus(z) = −log(1 − σ(z))
        pw = 1 if pos_weight is None else pos_weight
        loss = pw * y * sp_neg + (1 - y) * sp_pos
        sig = np.exp(-sp_neg)
        dz = sig * (pw * y + 1 - y) - pw * y
        return loss, dz, pw * sp_neg - sp_pos


def _pointwise(op, input, target, weight, reduction, name, **hyperparameters):  # noqa: A002
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
    hyperparameters = {k: v.astype(input.data.dtype, copy=False) if isinstance(v, np.ndarray) else v  # pos_weight
                       for k, v in hyperparameters.items()}
    return op.apply(input, target, w, reduction=reduction, **hyperparameters)


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
    return _pointwise(SmoothL1, input, target, None, reduction, "smooth_l1_loss", beta=beta)


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
    return _pointwise(BCEWithLogits, input, target, weight, reduction, "binary_cross_entropy_with_logits", pos_weight=pw)


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
    op_class = CrossEntropy if runtime.reference else fast.CrossEntropy
    loss = op_class.apply(rows, t, w, ignore_index=ignore_index, smoothing=label_smoothing, reduction=reduction)
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
    w = _class_weight(weight, rows.shape[1], input.data.dtype, op)
    loss = NLL.apply(rows, t, w, ignore_index=ignore_index, reduction=reduction)
    return loss.reshape(batch) if reduction == "none" else loss


from ..kernels import loss as fast  # noqa: E402 - the fast kernels subclass the ops above
