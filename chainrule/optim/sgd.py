"""Stochastic gradient descent with momentum, dampening, Nesterov and L2 weight decay, equal to
``torch.optim.SGD`` step for step [note 003, note 004: θ ← θ − η·∇J], plus a proximal L1 option."""
import numpy as np

from .optimizer import Optimizer, check_hyperparameters


class SGD(Optimizer):
    """For each parameter p with gradient g:

        g ← g + λ·p                              (weight_decay λ: L2, the (1 − ηλ) shrink)
        b ← g at the first step, else μ·b + (1 − τ)·g   (momentum μ, dampening τ)
        g ← g + μ·b if nesterov else b
        p ← p − η·g                              (maximize: p ← p + η·g)
        p ← sign(p)·max(|p| − η·l1, 0)          (l1 > 0: proximal L1, soft-thresholding)

    ``l1`` (not in torch; with ``l1=0`` this is exactly torch's SGD) minimizes J(p) + l1·Σ|p|, the
    L1 term of [note 003: L1 regularization, C = C₀ + (λ/n)·Σ|w|] with ``l1`` = λ/n. The notes'
    update w ← w − (ηλ/n)·sgn(w) − η·∂C₀/∂w (a subgradient step, what ``nn.utils.l1_penalty`` in the
    loss gives) moves every weight by a fixed ηλ/n per step, so a weight that should be zero jumps
    back and forth across zero and is never exactly zero. The proximal step instead solves
    argmin_p ½‖p − p̂‖² + η·l1·‖p‖₁ for the gradient-step result p̂ exactly: weights within η·l1 of
    zero are set to 0 and stay there while |∂C₀/∂w| < l1 — the sparsity, "driven to exactly zero",
    that the notes promise of L1 (Lasso, feature selection). Use it when you want sparse weights;
    for plain regularization the notes' advice stands: prefer L2 (``weight_decay``).
    """

    def __init__(self, params, lr=1e-3, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False, *,
                 maximize=False, l1=0.0):
        check_hyperparameters(lr=lr, momentum=momentum, weight_decay=weight_decay, l1=l1)
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay,
                                      nesterov=nesterov, maximize=maximize, l1=l1))

    def step(self, closure=None):
        """One update of every parameter that has a gradient, by the rule in the class docstring [note 004: θ ← θ −
        η·∇J]; returns ``closure()`` if given (called first, so it may recompute the gradients), else None."""
        loss = closure() if closure is not None else None
        for group in self.param_groups:
            lr, mu, damp = group["lr"], group["momentum"], group["dampening"]
            wd, nesterov, maximize = group["weight_decay"], group["nesterov"], group["maximize"]
            l1 = group["l1"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                g = p.grad.data
                if maximize:
                    g = -g
                if wd:
                    g = g + wd * p.data
                if mu:
                    state = self.state.setdefault(id(p), {})
                    buf = state.get("momentum_buffer")
                    if buf is None:
                        buf = state["momentum_buffer"] = np.array(g, dtype=p.data.dtype)
                    else:
                        buf *= mu
                        buf += (1 - damp) * g if damp else g
                    g = g + mu * buf if nesterov else buf
                p.data -= lr * g
                if l1:
                    _soft_threshold_(p.data, lr * l1)
                p._version += 1  # like torch's in-place update: a graph that saved the old value fails loudly
        return loss


def _soft_threshold_(w, threshold):
    """w ← sign(w)·max(|w| − threshold, 0) in place: the proximal operator of threshold·‖w‖₁."""
    magnitude = np.abs(w)
    magnitude -= threshold
    np.maximum(magnitude, 0, out=magnitude)
    np.copysign(magnitude, w, out=w)
    w += 0.0  # −0.0 + 0.0 = +0.0: the zeroed weights print as 0, not −0
