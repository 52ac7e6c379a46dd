"""Numerical gradient checking: autograd's gradients against central finite differences, and the second
derivatives (the gradient of the recorded gradient, ``create_graph``) against finite differences of the first."""
import numpy as np

from ..autograd import enable_grad, grad, is_grad_enabled, no_grad
from ..ops.shape import cat
from ..tensor import Tensor


class GradcheckError(AssertionError):
    """Raised by ``gradcheck`` and ``gradgradcheck`` when an analytic derivative disagrees with the numerical one."""


def _check(name, fn, leaves, labels, eps, atol, rtol, seed, raise_exception):
    """Compare the gradient of f(x) = Σ fn(x)·v (v random) with respect to every element of the ``leaves`` that
    require grad against central differences; the first input with an element off by more than atol + rtol·|numerical|
    raises naming ``labels[i]``, the largest error, its index and both values."""
    out = fn(*leaves)
    if not isinstance(out, Tensor) or not out.requires_grad:
        raise ValueError(f"{name}: fn must return a Tensor that depends on an input requiring grad")
    v = np.random.default_rng(seed).standard_normal(out.shape)
    out.backward(v)

    def projected():
        with no_grad():
            return float(np.sum(fn(*leaves).data * v))

    for x, label in zip(leaves, labels):
        if not (isinstance(x, Tensor) and x.requires_grad):
            continue
        analytic = np.zeros(x.data.size) if x.grad is None else x.grad.data.reshape(-1)
        numerical = np.empty(x.data.size)
        flat = x.data.reshape(-1)  # a view: perturbing it perturbs the input
        for j in range(flat.size):
            orig = flat[j]
            flat[j] = orig + eps
            f_plus = projected()
            flat[j] = orig - eps
            f_minus = projected()
            flat[j] = orig
            numerical[j] = (f_plus - f_minus) / (2 * eps)
        error = np.abs(analytic - numerical)
        bad = ~(error <= atol + rtol * np.abs(numerical))
        if bad.any():
            if not raise_exception:
                return False
            j = int(np.argmax(np.where(bad, error, -1.0)))
            idx = tuple(int(k) for k in np.unravel_index(j, x.shape))
            raise GradcheckError(
                f"{name}: {label} (shape {x.shape}) at index {idx}: analytic {analytic[j]:.8g} vs numerical "
                f"{numerical[j]:.8g} (max error {error[j]:.3g}, {int(bad.sum())} of {bad.size} element(s) off)"
            )
    return True


def _float64_inputs(inputs, name):
    inputs = tuple(inputs) if isinstance(inputs, (tuple, list)) else (inputs,)
    for i, x in enumerate(inputs):
        if isinstance(x, Tensor) and x.requires_grad and x.dtype != np.float64:
            raise TypeError(f"{name}: input {i} has dtype {x.dtype}; finite differences need float64")
    return tuple(Tensor(x.data.copy(), requires_grad=True) if isinstance(x, Tensor) and x.requires_grad else x
                 for x in inputs)


def gradcheck(fn, inputs, eps=1e-6, atol=1e-5, rtol=1e-3, seed=0, raise_exception=True):
    """Check ``fn``'s gradients at ``inputs`` by central differences, in float64.

    The output is projected onto a random direction v, f(x) = Σ fn(x)·v, so a single backward gives
    the analytic ∇f, and each input element costs two extra forward passes:
    ∂f/∂x_i ≈ (f(x + ε e_i) − f(x − ε e_i)) / 2ε. An element passes when
    |analytic − numerical| ≤ atol + rtol·|numerical|. Returns True, or raises ``GradcheckError``
    naming the input, the worst element, both values and the max error (returns False if
    ``raise_exception=False``).
    """
    leaves = _float64_inputs(inputs, "gradcheck")
    labels = [f"gradient of input {i}" for i in range(len(leaves))]
    return _check("gradcheck", fn, leaves, labels, eps, atol, rtol, seed, raise_exception)


def gradgradcheck(func, inputs, grad_outputs=None, eps=1e-6, atol=1e-5, rtol=1e-3, seed=0, raise_exception=True):
    """Check ``func``'s second derivatives at ``inputs`` by central differences of its first derivative, in float64
    (as torch.autograd.gradgradcheck).

    The first derivative is the vector-Jacobian product g(x, w) = Σ w·∂func(x)/∂x computed with
    ``create_graph=True`` (w: ``grad_outputs``, one per output of func — a Tensor or a tuple of Tensors —, random
    when None). ``gradcheck``'s machinery then checks g: projected onto a random v, the analytic gradient of
    ⟨v, g⟩ (the recorded backward differentiated again) is compared with central differences of ⟨v, g⟩ for every
    element of every input requiring grad, and of every w (g is linear in w: that checks that the recorded
    backward carries its gradient argument correctly). Two first-order sweeps per element, so keep inputs small.
    Returns True, or raises ``GradcheckError`` naming the input (or grad_output), the worst element, both values and
    the max error (False if ``raise_exception=False``)."""
    xs = _float64_inputs(inputs, "gradgradcheck")
    wrt = [x for x in xs if isinstance(x, Tensor) and x.requires_grad]
    if not wrt:
        raise ValueError("gradgradcheck: no input requires grad")
    out = func(*xs)
    outs = [o for o in (out if isinstance(out, (tuple, list)) else (out,)) if o.requires_grad]
    if grad_outputs is None:
        rng = np.random.default_rng(seed + 1)
        ws = [Tensor(rng.standard_normal(o.shape), requires_grad=True) for o in outs]
    else:
        given = list(grad_outputs) if isinstance(grad_outputs, (tuple, list)) else [grad_outputs]
        shapes = [tuple(np.shape(getattr(w, "data", w))) for w in given]
        if shapes != [o.shape for o in outs]:
            raise ValueError(f"gradgradcheck: grad_outputs must hold one per output of func that requires grad, of "
                             f"shapes {[o.shape for o in outs]}, got {shapes}")
        ws = [Tensor(np.array(getattr(w, "data", w), dtype=np.float64), requires_grad=True) for w in given]
    n = len(xs)

    def first_derivative(*args):
        create = is_grad_enabled()  # the finite differences run under no_grad: no graph needed there
        with enable_grad():
            values = func(*args[:n])
            values = [o for o in (values if isinstance(values, (tuple, list)) else (values,)) if o.requires_grad]
            diff = [x for x in args[:n] if isinstance(x, Tensor) and x.requires_grad]
            grads = grad(values, diff, list(args[n:]), create_graph=create, materialize_grads=True)
        return cat([g.reshape(-1) for g in grads])

    labels = [f"second derivative w.r.t. input {i}" for i in range(n)]
    labels += [f"second derivative w.r.t. grad_output {k}" for k in range(len(ws))]
    return _check("gradgradcheck", first_derivative, xs + tuple(ws), labels, eps, atol, rtol, seed, raise_exception)
