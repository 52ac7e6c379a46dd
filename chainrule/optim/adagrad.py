"""Adagrad, equal to ``torch.optim.Adagrad`` step for step [note 004: adaptive learning rates —
Adagrad: each weight's step is divided by the root of its accumulated squared gradients]."""
import numpy as np

from .optimizer import Optimizer, check_hyperparameters


class Adagrad(Optimizer):
    """For each parameter p with gradient g, at step t (counted per parameter, from 1):

        g ← −g if maximize
        g ← g + λ·p                         (weight_decay λ: L2)
        η_t ← η / (1 + (t − 1)·lr_decay)
        s ← s + g²                          (s starts at initial_accumulator_value)
        p ← p − η_t · g / (√s + ε)

    Weights that have seen large gradients take small steps and rarely-updated ones large steps;
    since s only grows, the effective rate decays on its own (RMSprop and Adadelta replace the sum
    by a moving average to stop it from reaching zero).

    State per parameter: ``step`` (a float, like torch's) and ``sum`` (s, in the parameter's dtype).
    Like torch, the state of the parameters given to the constructor is created at once. Unlike torch,
    a parameter group's own ``initial_accumulator_value`` is honoured (torch uses the constructor's
    value for every group); without per-group overrides the two are identical.
    """

    def __init__(self, params, lr=1e-2, lr_decay=0.0, weight_decay=0.0, initial_accumulator_value=0.0, eps=1e-10, *,
                 maximize=False):
        check_hyperparameters(lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
                              initial_accumulator_value=initial_accumulator_value, eps=eps)
        super().__init__(params, dict(lr=lr, lr_decay=lr_decay, eps=eps, weight_decay=weight_decay,
                                      initial_accumulator_value=initial_accumulator_value, maximize=maximize))
        for group in self.param_groups:
            for p in group["params"]:
                self._init_state(p, group)

    def _init_state(self, p, group):
        state = self.state[id(p)] = dict(step=0.0, sum=np.full_like(p.data, group["initial_accumulator_value"]))
        return state

    def step(self, closure=None):
        """One update of every parameter that has a gradient; returns ``closure()`` if given."""
        loss = closure() if closure is not None else None
        for group in self.param_groups:
            lr, lr_decay, eps = group["lr"], group["lr_decay"], group["eps"]
            wd, maximize = group["weight_decay"], group["maximize"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                w, g = p.data, p.grad.data
                if maximize:
                    g = -g
                state = self.state.get(id(p)) or self._init_state(p, group)
                state["step"] += 1
                if wd:
                    g = g + wd * w
                clr = lr / (1 + (state["step"] - 1) * lr_decay)
                tmp = np.multiply(g, g)
                state["sum"] += tmp
                np.sqrt(state["sum"], out=tmp)
                tmp += eps
                np.divide(g, tmp, out=tmp)
                tmp *= clr
                w -= tmp
                p._version += 1  # like torch's in-place update: a graph that saved the old value fails loudly
        return loss
