"""Numerical gradient checking: autograd's gradients against central finite differences."""
import numpy as np

from ..autograd import no_grad
from ..tensor import Tensor


class GradcheckError(AssertionError):
    """Raised by ``gradcheck`` when an analytic gradient disagrees with the numerical one."""


def gradcheck(fn, inputs, eps=1e-6, atol=1e-5, rtol=1e-3, seed=0, raise_exception=True):
    """Check ``fn``'s gradients at ``inputs`` by central differences, in float64.

    The output is projected onto a random direction v, f(x) = Σ fn(x)·v, so a single backward gives
    the analytic ∇f, and each input element costs two extra forward passes:
    ∂f/∂x_i ≈ (f(x + ε e_i) − f(x − ε e_i)) / 2ε. An element passes when
    |analytic − numerical| ≤ atol + rtol·|numerical|. Returns True, or raises ``GradcheckError``
    naming the input, the element and both values (returns False if ``raise_exception=False``).
    """
    inputs = tuple(inputs) if isinstance(inputs, (tuple, list)) else (inputs,)
    for i, x in enumerate(inputs):
        if isinstance(x, Tensor) and x.requires_grad and x.dtype != np.float64:
            raise TypeError(f"gradcheck: input {i} has dtype {x.dtype}; finite differences need float64")
    leaves = tuple(Tensor(x.data.copy(), requires_grad=True) if isinstance(x, Tensor) and x.requires_grad else x for x in inputs)
    out = fn(*leaves)
    if not isinstance(out, Tensor) or not out.requires_grad:
        raise ValueError("gradcheck: fn must return a Tensor that depends on an input requiring grad")
    v = np.random.default_rng(seed).standard_normal(out.shape)
    out.backward(v)

    def projected():
        with no_grad():
            return float(np.sum(fn(*leaves).data * v))

    for i, x in enumerate(leaves):
        if not (isinstance(x, Tensor) and x.requires_grad):
            continue
        analytic = np.zeros(x.shape) if x.grad is None else x.grad.data
        flat = x.data.reshape(-1)  # a view: perturbing it perturbs the input
        for j in range(flat.size):
            orig = flat[j]
            flat[j] = orig + eps
            f_plus = projected()
            flat[j] = orig - eps
            f_minus = projected()
            flat[j] = orig
            numerical = (f_plus - f_minus) / (2 * eps)
            a = analytic.reshape(-1)[j]
            if not abs(a - numerical) <= atol + rtol * abs(numerical):
                if not raise_exception:
                    return False
                idx = np.unravel_index(j, x.shape)
                raise GradcheckError(
                    f"gradcheck: gradient of input {i} (shape {x.shape}) at index {tuple(int(k) for k in idx)}: "
                    f"analytic {a:.8g} vs numerical {numerical:.8g}"
                )
    return True
