"""Loss functions [note 004: squared error for regression, cross-entropy for classification].

Cross-entropy is one fused, stable op — log-softmax (via log-sum-exp) and the negative
log-likelihood in a single node whose backward is softmax − target. Signatures and reduction
semantics are PyTorch's: ``reduction='mean'`` averages over elements, or over the weights of the
targets' classes when class weights are given.
"""
import numpy as np

from .. import runtime
from ..autograd import Function, to_inputs, unbroadcast
from ..dtypes import check_floating
from ..tensor import Tensor
from .activation import logsigmoid
from .arithmetic import minimum, sign_array, where
from .distance import pairwise_distance

REDUCTIONS = ("none", "mean", "sum")


def check_reduction(reduction, op):
    if reduction not in REDUCTIONS:
        raise ValueError(f"{op}: reduction must be one of {REDUCTIONS}, got {reduction!r}")


def _reduced(loss, reduction, denom):
    """A decomposition's reduction of the loss Tensor: Σ loss / denom for 'mean' (NaN for denom 0, as the forward,
    with a gradient of 0)."""
    if reduction == "none":
        return loss
    total = loss.sum()
    if reduction == "sum":
        return total
    return total / denom if denom else total * 0 + np.nan


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
    as PyTorch does. Derivatives of higher order differentiate ``decomposition``: log-softmax from exp, sum and
    log, and the same weighted targets.
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

    def decomposition(self, z, target, weight, *, ignore_index, smoothing, reduction):
        shifted = z - np.max(z.data, axis=1, keepdims=True)  # a constant shift, which log-softmax ignores
        logp = shifted - shifted.exp().sum(1, keepdim=True).log()
        wq = self.wq  # class-index targets: a constant
        if self.soft_target:
            wq = (target * (1 - smoothing) + smoothing / z.shape[1]) * (1 if weight is None else weight)
        return _reduced(-(logp * wq).sum(1), reduction, self.denom)


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

    def decomposition(self, x, target, weight, *, ignore_index, reduction):
        picked = np.zeros(self.shape, dtype=self.wt.dtype)  # w_t at (i, t_i): loss_i = −Σ_c picked_i,c·x_i,c
        picked[np.arange(self.shape[0]), self.t] = self.wt
        return _reduced(-(x * picked).sum(1), reduction, self.denom)


class PointwiseLoss(Function):
    """Base of the elementwise losses: ``terms(x, y, **hyperparameters)`` returns (loss, dloss/dx, dloss/dy)
    elementwise; an optional weight multiplies each term; then the reduction. ``derivatives`` gives the same
    dloss/dx and dloss/dy as Tensor ops, from which ``backward_graph`` builds gradients that can be differentiated
    again."""

    def forward(self, x, y, weight, *, reduction, **hyperparameters):
        self.shapes = x.shape, y.shape  # the newer losses broadcast input and target, as torch
        loss, self.dx, self.dy = self.terms(x, y, **hyperparameters)
        if self.dx.shape != loss.shape or self.dy.shape != loss.shape:  # a term without a broadcast dim (KLDiv's −y)
            self.dx, self.dy = np.broadcast_to(self.dx, loss.shape), np.broadcast_to(self.dy, loss.shape)
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
        gx = unbroadcast(self.dx * scale, self.shapes[0]) if self.needs[0] else None
        gy = unbroadcast(self.dy * scale, self.shapes[1]) if self.needs[1] else None
        return gx, gy, None

    def backward_graph(self, g):
        x, y, weight = self.inputs
        hyperparameters = {k: v for k, v in self.kwargs.items() if k != "reduction"}
        scale = g / self.n if self.reduction == "mean" and self.n else g
        if weight is not None:
            scale = scale * weight
        full = np.broadcast_shapes(x.shape, y.shape)
        grads = [None if not need else _broadcast(d * scale, full)
                 for d, need in zip(self.derivatives(x, y, **hyperparameters), self.needs)]
        return to_inputs(self, *grads, None)


def _broadcast(t, shape):
    return t if t.shape == shape else t.expand(*shape)


def _sign(t):
    return sign_array(t.data)


class MSE(PointwiseLoss):
    """(x − y)²;  dx = 2(x − y), dy = −dx."""

    def terms(self, x, y):
        d = x - y
        return d * d, 2 * d, -2 * d

    def derivatives(self, x, y):
        d = x - y
        return 2 * d, -2 * d


class L1(PointwiseLoss):
    """|x − y|;  dx = sign(x − y), dy = −dx."""

    def terms(self, x, y):
        d = x - y
        s = np.sign(d)
        return np.abs(d), s, -s

    def derivatives(self, x, y):
        s = _sign(x - y)
        return s, -s


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

    def derivatives(self, x, y, *, beta):
        d = x - y
        dx = _sign(d) if beta == 0 else where(np.abs(d.data) < beta, d / beta, _sign(d))
        return dx, -dx


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

    def derivatives(self, x, y):
        with np.errstate(divide="ignore"):
            dy = (1 - x).log().clamp(min=-100) - x.log().clamp(min=-100)
        return (x - y) / (x * (1 - x)).clamp(min=1e-12), dy


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

    def derivatives(self, z, y, *, pos_weight):
        pw = 1 if pos_weight is None else pos_weight
        sp_neg = -logsigmoid(z)  # softplus(−z); softplus(z) = softplus(−z) + z
        return z.sigmoid() * (pw * y + 1 - y) - pw * y, (pw - 1) * sp_neg - z


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


# ----- more of torch's losses: elementwise ones on PointwiseLoss, the margin losses composed ------------
class Huber(PointwiseLoss):
    """½(x − y)² where |x − y| < δ, else δ·(|x − y| − ½δ);  dx = (x − y) or δ·sign(x − y), dy = −dx.
    (SmoothL1 with β = δ, times δ.)"""

    def terms(self, x, y, *, delta):
        d = x - y
        small = np.abs(d) < delta
        dx = np.where(small, d, delta * np.sign(d))
        return np.where(small, 0.5 * d * d, delta * (np.abs(d) - 0.5 * delta)), dx, -dx

    def derivatives(self, x, y, *, delta):
        d = x - y
        dx = where(np.abs(d.data) < delta, d, delta * _sign(d))
        return dx, -dx


class KLDiv(PointwiseLoss):
    """Kullback–Leibler divergence of the target distribution from the input's, the input given as log-probabilities
    x: y·(log y − x) (0 where y = 0); dx = −y, dy = log y + 1 − x. With ``log_target`` (y given as log-probabilities):
    e^y·(y − x); dx = −e^y, dy = e^y·(y − x + 1)."""

    def terms(self, x, y, *, log_target):
        if log_target:
            p = np.exp(y)
            return p * (y - x), -p, p * (y - x + 1)
        with np.errstate(divide="ignore", invalid="ignore"):
            log_y = np.log(y)
            loss = np.where(y > 0, y * log_y, 0) - y * x
            dy = log_y + y / y - x  # the product rule of y·log y as torch's xlogy: NaN at y = 0, as torch
        return loss, -y, dy

    def derivatives(self, x, y, *, log_target):
        if log_target:
            p = y.exp()
            return -p, p * (y - x + 1)
        with np.errstate(divide="ignore", invalid="ignore"):
            return -y, y.log() + y / y - x


class PoissonNLL(PointwiseLoss):
    """Negative log-likelihood of a Poisson target y with rate λ: λ − y·log λ (+ log y!, Stirling's
    y·log y − y + ½log(2πy) for y > 1 when ``full``). The input is log λ (``log_input``: loss eˣ − y·x,
    dx = eˣ − y, dy = −x) or λ itself (loss x − y·log(x + eps), dx = 1 − y/(x + eps), dy = −log(x + eps))."""

    def terms(self, x, y, *, log_input, full, eps):
        if log_input:
            e = np.exp(x)
            loss, dx, dy = e - y * x, e - y, -x
        else:
            log_x = np.log(x + eps)
            loss, dx, dy = x - y * log_x, 1 - y / (x + eps), -log_x
        if full:
            big = y > 1
            with np.errstate(divide="ignore", invalid="ignore"):
                yb = np.where(big, y, 2)  # any value > 1: the masked entries are not used
                loss = loss + np.where(big, yb * np.log(yb) - yb + 0.5 * np.log(2 * np.pi * yb), 0)
                dy = dy + np.where(big, np.log(yb) + 0.5 / yb, 0)
        return loss, dx, dy

    def derivatives(self, x, y, *, log_input, full, eps):
        if log_input:
            dx, dy = x.exp() - y, -x
        else:
            dx, dy = 1 - y / (x + eps), -(x + eps).log()
        if full:
            big = y.data > 1
            yb = where(big, y, 2.0)
            dy = dy + where(big, yb.log() + 0.5 / yb, 0.0)
        return dx, dy


class SoftMargin(PointwiseLoss):
    """Logistic loss of labels y = ±1: log(1 + e^(−y·x)) = softplus(−y·x), stable;
    dx = −y·σ(−y·x), dy = −x·σ(−y·x)."""

    def terms(self, x, y):
        m = -y * x
        e = np.exp(-np.abs(m))
        s = np.where(m >= 0, 1 / (1 + e), e / (1 + e))  # σ(m)
        return np.maximum(m, 0) + np.log1p(e), -y * s, -x * s

    def derivatives(self, x, y):
        s = (-y * x).sigmoid()
        return -y * s, -x * s


class GaussianNLL(Function):
    """Negative log-likelihood of y under N(x, v): ½(log v + (x − y)²/v) (+ ½log 2π with ``full``), v the
    variance clamped at ``eps`` — and, as torch, the clamp passes the gradient on unchanged:
    dx = (x − y)/v, dy = −dx, dv = ½(1/v − (x − y)²/v²) (summed back to v's shape)."""

    def forward(self, x, y, var, *, eps, full, reduction):
        v = np.maximum(var, eps)
        d = x - y
        loss = 0.5 * (np.log(v) + d * d / v)
        if full:
            loss = loss + 0.5 * np.log(2 * np.pi)
        self.d, self.v, self.shapes, self.reduction, self.n = d, v, (x.shape, y.shape, var.shape), reduction, loss.size
        return _reduce_array(loss, reduction)

    def backward(self, g):
        d, v = self.d, self.v
        scale = g / self.n if self.reduction == "mean" and self.n else g
        dx = d / v * scale
        gx = unbroadcast(dx, self.shapes[0]) if self.needs[0] else None
        gy = unbroadcast(-dx, self.shapes[1]) if self.needs[1] else None
        gv = unbroadcast(0.5 * (1 / v - d * d / (v * v)) * scale, self.shapes[2]) if self.needs[2] else None
        return gx, gy, gv

    def decomposition(self, x, y, var, *, eps, full, reduction):
        v = var + (np.maximum(var.data, eps) - var.data)  # clamped, the gradient passed on unchanged
        d = x - y
        loss = 0.5 * (v.log() + d * d / v)
        if full:
            loss = loss + 0.5 * np.log(2 * np.pi)
        return _reduced(loss, reduction, loss.numel())


def _reduce_array(loss, reduction):
    if reduction == "mean":  # of an empty batch: nan, as torch
        return np.mean(loss) if loss.size else np.full((), np.nan, loss.dtype)
    return np.sum(loss) if reduction == "sum" else loss


def _reduce(loss, reduction):
    """The reduction of a composed loss (a Tensor of per-element losses)."""
    return loss.mean() if reduction == "mean" else loss.sum() if reduction == "sum" else loss


def _float_pair(input, target, op):  # noqa: A002
    """input a floating-point Tensor; target a Tensor (an array or number becomes one) cast to its dtype, the two
    broadcast together (as torch's newer losses)."""
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}: input must be a Tensor, got {type(input).__name__}")
    check_floating(input.data.dtype, op, "input")
    if not isinstance(target, Tensor):
        target = Tensor(np.asarray(target))
    if target.data.dtype != input.data.dtype:
        target = target.to(input.data.dtype)
    try:
        np.broadcast_shapes(input.shape, target.shape)
    except ValueError:
        raise ValueError(f"{op}: input shape {input.shape} and target shape {target.shape} do not broadcast") from None
    return input, target


def huber_loss(input, target, reduction="mean", delta=1.0, weight=None):  # noqa: A002
    """Huber loss: quadratic within ``delta`` of the target, linear beyond; ``weight`` (the input's shape)
    multiplies each term before the reduction."""
    op = "huber_loss"
    check_reduction(reduction, op)
    if delta <= 0:
        raise ValueError(f"{op}: delta must be positive, got {delta}")
    input, target = _float_pair(input, target, op)
    if weight is None:
        return Huber.apply(input, target, None, reduction=reduction, delta=delta)
    if not isinstance(weight, Tensor):
        weight = Tensor(np.asarray(weight, dtype=input.data.dtype))
    if weight.shape != input.shape:
        raise ValueError(f"{op}: weight of shape {weight.shape} must have the input's shape {input.shape}")
    # as torch: the weight multiplies the unreduced loss (and gets a gradient)
    return _reduce(Huber.apply(input, target, None, reduction="none", delta=delta) * weight, reduction)


def kl_div(input, target, size_average=None, reduce=None, reduction="mean", log_target=False):  # noqa: A002
    """KL(target ‖ input) with ``input`` log-probabilities; ``reduction='batchmean'`` (the true KL divergence of
    a batch) sums and divides by the batch size input.size(0); 'mean' divides by the number of elements, as torch."""
    op = "kl_div"
    if reduction not in REDUCTIONS + ("batchmean",):
        raise ValueError(f"{op}: reduction must be one of {REDUCTIONS + ('batchmean',)}, got {reduction!r}")
    input, target = _float_pair(input, target, op)
    loss = KLDiv.apply(input, target, None, reduction="sum" if reduction == "batchmean" else reduction,
                       log_target=log_target)
    return loss / input.shape[0] if reduction == "batchmean" and input.ndim else loss


def poisson_nll_loss(input, target, log_input=True, full=False, size_average=None, eps=1e-8, reduce=None,  # noqa: A002
                     reduction="mean"):
    """Poisson negative log-likelihood; ``input`` is log λ (``log_input``) or λ; ``full`` adds Stirling's
    approximation of log y! for targets above 1."""
    op = "poisson_nll_loss"
    check_reduction(reduction, op)
    input, target = _float_pair(input, target, op)
    return PoissonNLL.apply(input, target, None, reduction=reduction, log_input=log_input, full=full, eps=eps)


def soft_margin_loss(input, target, size_average=None, reduce=None, reduction="mean"):  # noqa: A002
    """Two-class logistic loss log(1 + e^(−y·x)) for labels y = ±1."""
    op = "soft_margin_loss"
    check_reduction(reduction, op)
    input, target = _float_pair(input, target, op)
    return SoftMargin.apply(input, target, None, reduction=reduction)


def gaussian_nll_loss(input, target, var, full=False, eps=1e-6, reduction="mean"):  # noqa: A002
    """Gaussian negative log-likelihood of ``target`` under N(input, var). ``var``: the input's shape
    (heteroscedastic), one dim short of it or with size 1 in one dim (homoscedastic), or a float."""
    op = "gaussian_nll_loss"
    check_reduction(reduction, op)
    input, target = _float_pair(input, target, op)
    if isinstance(var, (int, float)):
        var = Tensor(np.full(input.shape, float(var), dtype=input.data.dtype))
    elif not isinstance(var, Tensor):
        raise TypeError(f"{op}: var must be a Tensor or a float, got {type(var).__name__}")
    if var.data.dtype != input.data.dtype:
        var = var.to(input.data.dtype)
    if np.any(var.data < 0):
        raise ValueError(f"{op}: var has negative entries")
    if var.shape != input.shape:
        if var.shape == input.shape[:-1]:
            var = var.unsqueeze(-1)
        elif not (var.ndim == input.ndim and sum(v for i, v in zip(input.shape, var.shape) if i != v) == 1):
            raise ValueError(f"{op}: var of shape {var.shape} is of incorrect size for input of shape {input.shape}: "
                             "expected the input's shape, one dim short of it, or size 1 in one dim")
    return GaussianNLL.apply(input, target, var, eps=eps, full=full, reduction=reduction)


def _same_ndim(op, **tensors):
    dims = {name: t.ndim for name, t in tensors.items()}
    if len(set(dims.values())) != 1:
        raise ValueError(f"{op}: all inputs must have the same number of dims, got " +
                         ", ".join(f"{name} {d}-D" for name, d in dims.items()))


def margin_ranking_loss(input1, input2, target, margin=0, size_average=None, reduce=None, reduction="mean"):
    """max(0, −y·(x₁ − x₂) + margin): x₁ should rank above x₂ where y = 1, below where y = −1."""
    op = "margin_ranking_loss"
    check_reduction(reduction, op)
    _same_ndim(op, input1=input1, input2=input2, target=target)
    return _reduce((-target * (input1 - input2) + margin).clamp(min=0), reduction)


def hinge_embedding_loss(input, target, margin=1.0, size_average=None, reduce=None, reduction="mean"):  # noqa: A002
    """x where y = 1, max(0, margin − x) where y = −1 (x: a distance; y: similar or dissimilar), as torch:
    the two terms are added, each kept where y is not the other label."""
    op = "hinge_embedding_loss"
    check_reduction(reduction, op)
    input, target = _float_pair(input, target, op)
    margin_term = where((target != 1).data, (margin - input).clamp(min=0), 0.0)
    return _reduce(margin_term + where((target != -1).data, input, 0.0), reduction)


def cosine_embedding_loss(input1, input2, target, margin=0, size_average=None, reduce=None, reduction="mean"):
    """1 − cos(x₁, x₂) where y = 1, max(0, cos(x₁, x₂) − margin) where y = −1, cos along the last dim of
    (N, D) or (D,) inputs; torch's cos: Σx₁x₂ / √((Σx₁² + 1e-12)(Σx₂² + 1e-12))."""
    op = "cosine_embedding_loss"
    check_reduction(reduction, op)
    if input1.ndim not in (1, 2) or input1.shape != input2.shape or target.ndim != input1.ndim - 1:
        raise ValueError(f"{op}: expected inputs of one shape (N, D) or (D,) and target (N,) or (), got "
                         f"{input1.shape}, {input2.shape} and target {target.shape}")
    eps = 1e-12
    dim = input1.ndim - 1
    squared_norms = ((input1 * input1).sum(dim) + eps) * ((input2 * input2).sum(dim) + eps)
    cos = (input1 * input2).sum(dim) / squared_norms.sqrt()
    t = target.data
    loss = where(t == 1, 1 - cos, 0.0) + where(t == -1, (cos - margin).clamp(min=0), 0.0)
    return _reduce(loss, reduction)


def triplet_margin_loss(anchor, positive, negative, margin=1.0, p=2, eps=1e-6, swap=False, size_average=None,
                        reduce=None, reduction="mean"):
    """max(0, margin + d(a, p) − d(a, n)) with d the p-norm pairwise distance; ``swap`` uses
    min(d(a, n), d(p, n)) as the negative distance (the distance swap of Balntas et al.)."""
    op = "triplet_margin_loss"
    check_reduction(reduction, op)
    _same_ndim(op, anchor=anchor, positive=positive, negative=negative)
    if anchor.ndim not in (1, 2):
        raise ValueError(f"{op}: expected 1-D (D,) or 2-D (N, D) inputs, got {anchor.ndim}-D")
    d_pos = pairwise_distance(anchor, positive, p, eps)
    d_neg = pairwise_distance(anchor, negative, p, eps)
    if swap:
        d_neg = minimum(d_neg, pairwise_distance(positive, negative, p, eps))
    return _reduce((margin + d_pos - d_neg).clamp(min=0), reduction)


def multilabel_soft_margin_loss(input, target, weight=None, size_average=None, reduce=None, reduction="mean"):  # noqa: A002
    """One logistic loss per class, averaged over the C classes (last dim):
    −(1/C)·Σ_c w_c·[y_c·log σ(x_c) + (1 − y_c)·log σ(−x_c)], then reduced over the batch."""
    op = "multilabel_soft_margin_loss"
    check_reduction(reduction, op)
    input, target = _float_pair(input, target, op)
    loss = -(target * logsigmoid(input) + (1 - target) * logsigmoid(-input))
    if weight is not None:
        loss = loss * weight
    dim = input.ndim - 1
    return _reduce(loss.sum(dim) / input.shape[dim], reduction)


from ..kernels import loss as fast  # noqa: E402 - the fast kernels subclass the ops above
