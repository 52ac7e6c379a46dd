"""RMSprop, equal to ``torch.optim.RMSprop`` step for step [note 004: adaptive learning rates —
divide each weight's step by a moving root-mean-square of its recent gradients]."""
import numpy as np

from .optimizer import Optimizer, check_hyperparameters


class RMSprop(Optimizer):
    """For each parameter p with gradient g:

        g ← −g if maximize
        g ← g + λ·p                         (weight_decay λ: L2)
        v ← α·v + (1 − α)·g²                (moving mean square, smoothing constant α)
        ḡ ← α·ḡ + (1 − α)·g                 (centered only: moving mean)
        d ← √(v − ḡ²) + ε  if centered else  √v + ε
        b ← μ·b + g/d,  p ← p − η·b         (momentum μ > 0)
          or p ← p − η·g/d                  (no momentum)

    ``centered`` normalizes by an estimate of the gradient's variance instead of its raw second
    moment. State per parameter: ``step`` (a float), ``square_avg`` (v), and ``momentum_buffer`` (b)
    and ``grad_avg`` (ḡ) when used, arrays in the parameter's dtype.
    """

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0, centered=False, *,
                 maximize=False):
        check_hyperparameters(lr=lr, eps=eps, momentum=momentum, weight_decay=weight_decay, alpha=alpha)
        super().__init__(params, dict(lr=lr, momentum=momentum, alpha=alpha, eps=eps, centered=centered,
                                      weight_decay=weight_decay, maximize=maximize))

    def step(self, closure=None):
        """One update of every parameter that has a gradient; returns ``closure()`` if given."""
        loss = closure() if closure is not None else None
        for group in self.param_groups:
            lr, alpha, eps, mu = group["lr"], group["alpha"], group["eps"], group["momentum"]
            wd, centered, maximize = group["weight_decay"], group["centered"], group["maximize"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                w, g = p.data, p.grad.data
                if maximize:
                    g = -g
                state = self.state.get(id(p))
                if not state:
                    state = self.state[id(p)] = dict(step=0.0, square_avg=np.zeros_like(w))
                if mu > 0 and "momentum_buffer" not in state:
                    state["momentum_buffer"] = np.zeros_like(w)
                if centered and "grad_avg" not in state:
                    state["grad_avg"] = np.zeros_like(w)
                state["step"] += 1
                if wd:
                    g = g + wd * w
                square_avg = state["square_avg"]
                square_avg *= alpha
                tmp = np.multiply(g, g)  # the one scratch array of the step
                tmp *= 1 - alpha
                square_avg += tmp
                if centered:
                    grad_avg = state["grad_avg"]
                    np.subtract(g, grad_avg, out=tmp)
                    tmp *= 1 - alpha
                    grad_avg += tmp  # ḡ ← ḡ + (1 − α)(g − ḡ), torch's lerp
                    np.multiply(grad_avg, grad_avg, out=tmp)
                    np.subtract(square_avg, tmp, out=tmp)
                    np.sqrt(tmp, out=tmp)
                else:
                    np.sqrt(square_avg, out=tmp)
                tmp += eps
                np.divide(g, tmp, out=tmp)
                if mu > 0:
                    buf = state["momentum_buffer"]
                    buf *= mu
                    buf += tmp
                    np.multiply(buf, lr, out=tmp)
                else:
                    tmp *= lr
                w -= tmp
                p._version += 1  # like torch's in-place update: a graph that saved the old value fails loudly
        return loss
