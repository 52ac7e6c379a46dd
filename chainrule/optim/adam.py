"""Adam and AdamW, equal to ``torch.optim.Adam`` / ``torch.optim.AdamW`` step for step [note 004:
adaptive learning rates — Adam; momentum and an RMSprop-style per-weight scale, bias-corrected]."""
import numpy as np

from .optimizer import Optimizer, check_hyperparameters


class Adam(Optimizer):
    """For each parameter p with gradient g, at step t (counted per parameter, from 1):

        g ← −g if maximize
        g ← g + λ·p                  (weight_decay λ, coupled L2: the decay passes through m and v)
          or p ← (1 − ηλ)·p          (decoupled_weight_decay=True: AdamW)
        m ← β1·m + (1 − β1)·g        (first moment, momentum)
        v ← β2·v + (1 − β2)·g²       (second moment)
        v̂ ← max(v̂, v) if amsgrad else v
        p ← p − η/(1 − β1ᵗ) · m / (√v̂ / √(1 − β2ᵗ) + ε)

    State per parameter (arrays in the parameter's dtype): ``step`` (a float, like torch's),
    ``exp_avg`` (m), ``exp_avg_sq`` (v) and, with amsgrad, ``max_exp_avg_sq`` (v̂).

    Coupled L2 and Adam mix badly: the decay term λ·p is divided by √v̂ like the gradient, so weights
    with large gradients are barely regularized. Prefer ``AdamW`` (decoupled) when regularizing Adam.
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, amsgrad=False, *,
                 maximize=False, decoupled_weight_decay=False):
        check_hyperparameters(lr=lr, eps=eps, betas=betas, weight_decay=weight_decay)
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay, amsgrad=amsgrad,
                                      maximize=maximize, decoupled_weight_decay=decoupled_weight_decay))

    def step(self, closure=None):
        """One update of every parameter that has a gradient; returns ``closure()`` if given."""
        loss = closure() if closure is not None else None
        for group in self.param_groups:
            lr, (beta1, beta2), eps = group["lr"], group["betas"], group["eps"]
            wd, amsgrad, maximize = group["weight_decay"], group["amsgrad"], group["maximize"]
            decoupled = group["decoupled_weight_decay"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                w, g = p.data, p.grad.data
                if maximize:
                    g = -g
                state = self.state.get(id(p))
                if not state:
                    state = self.state[id(p)] = dict(step=0.0, exp_avg=np.zeros_like(w), exp_avg_sq=np.zeros_like(w))
                if amsgrad and "max_exp_avg_sq" not in state:
                    state["max_exp_avg_sq"] = np.zeros_like(w)
                state["step"] += 1
                t = state["step"]
                if wd:
                    if decoupled:
                        w *= 1 - lr * wd
                    else:
                        g = g + wd * w
                m, v = state["exp_avg"], state["exp_avg_sq"]
                tmp = np.subtract(g, m)  # the one scratch array of the step
                tmp *= 1 - beta1
                m += tmp  # m ← m + (1 − β1)(g − m), torch's lerp
                v *= beta2
                np.multiply(g, g, out=tmp)
                tmp *= 1 - beta2
                v += tmp
                if amsgrad:
                    v = np.maximum(state["max_exp_avg_sq"], v, out=state["max_exp_avg_sq"])
                denom = np.sqrt(v, out=tmp)
                denom /= (1 - beta2 ** t) ** 0.5
                denom += eps
                np.divide(m, denom, out=denom)
                denom *= lr / (1 - beta1 ** t)
                w -= denom
                p._version += 1  # like torch's in-place update: a graph that saved the old value fails loudly
        return loss


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter): p ← (1 − ηλ)·p before the Adam update,
    so the decay is the plain L2 shrink of [note 003: weight decay, factor (1 − ηλ/n)] and is not
    rescaled by the adaptive denominator. ``weight_decay`` defaults to 1e-2, as in torch."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2, amsgrad=False, *,
                 maximize=False):
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, maximize=maximize,
                         decoupled_weight_decay=True)

    def load_state_dict(self, state_dict):
        super().load_state_dict(state_dict)
        for group in self.param_groups:
            group["decoupled_weight_decay"] = True
