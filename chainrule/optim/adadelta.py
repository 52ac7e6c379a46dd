"""Adadelta, equal to ``torch.optim.Adadelta`` step for step [note 004: adaptive learning rates]:
Adagrad's ever-growing sum replaced by moving averages, and the step given the units of the weight
by the ratio RMS(Δp)/RMS(g), so that the default ``lr=1.0`` needs no tuning."""
import numpy as np

from .optimizer import Optimizer, check_hyperparameters


class Adadelta(Optimizer):
    """For each parameter p with gradient g:

        g ← −g if maximize
        g ← g + λ·p                         (weight_decay λ: L2)
        v ← ρ·v + (1 − ρ)·g²                (moving mean square of gradients)
        Δ ← √(u + ε) / √(v + ε) · g
        u ← ρ·u + (1 − ρ)·Δ²                (moving mean square of updates)
        p ← p − η·Δ

    State per parameter: ``step`` (a float), ``square_avg`` (v) and ``acc_delta`` (u), arrays in the
    parameter's dtype.
    """

    def __init__(self, params, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0.0, *, maximize=False):
        check_hyperparameters(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay)
        super().__init__(params, dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay, maximize=maximize))

    def step(self, closure=None):
        """One update of every parameter that has a gradient; returns ``closure()`` if given."""
        loss = closure() if closure is not None else None
        for group in self.param_groups:
            lr, rho, eps = group["lr"], group["rho"], group["eps"]
            wd, maximize = group["weight_decay"], group["maximize"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                w, g = p.data, p.grad.data
                if maximize:
                    g = -g
                state = self.state.get(id(p))
                if not state:
                    state = self.state[id(p)] = dict(step=0.0, square_avg=np.zeros_like(w), acc_delta=np.zeros_like(w))
                state["step"] += 1
                if wd:
                    g = g + wd * w
                square_avg, acc_delta = state["square_avg"], state["acc_delta"]
                square_avg *= rho
                scratch = np.multiply(g, g)
                scratch *= 1 - rho
                square_avg += scratch
                std = np.add(square_avg, eps, out=scratch)
                np.sqrt(std, out=std)
                delta = np.add(acc_delta, eps)
                np.sqrt(delta, out=delta)
                delta /= std
                delta *= g
                acc_delta *= rho
                np.multiply(delta, delta, out=scratch)
                scratch *= 1 - rho
                acc_delta += scratch
                delta *= lr
                w -= delta
                p._version += 1  # like torch's in-place update: a graph that saved the old value fails loudly
        return loss
