"""Stochastic gradient descent with momentum, dampening, Nesterov and L2 weight decay, equal to
``torch.optim.SGD`` step for step [note 003, note 004: θ ← θ − η·∇J]."""
import numpy as np

from .optimizer import Optimizer


class SGD(Optimizer):
    """For each parameter p with gradient g:

        g ← g + λ·p                              (weight_decay λ: L2, the (1 − ηλ) shrink)
        b ← g at the first step, else μ·b + (1 − τ)·g   (momentum μ, dampening τ)
        g ← g + μ·b if nesterov else b
        p ← p − η·g                              (maximize: p ← p + η·g)
    """

    def __init__(self, params, lr=1e-3, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False, *,
                 maximize=False):
        if lr < 0:
            raise ValueError(f"Invalid learning rate: {lr}")
        if momentum < 0:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if weight_decay < 0:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay,
                                      nesterov=nesterov, maximize=maximize))

    def step(self, closure=None):
        loss = closure() if closure is not None else None
        for group in self.param_groups:
            lr, mu, damp = group["lr"], group["momentum"], group["dampening"]
            wd, nesterov, maximize = group["weight_decay"], group["nesterov"], group["maximize"]
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
        return loss
