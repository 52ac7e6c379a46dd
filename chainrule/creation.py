"""Tensor creation: from data, filled, ranges, and random draws (seeded through ``chainrule.random``).

Every function takes torch's keywords: ``dtype=`` (default: the default float dtype for floating
values, int64 for integer ranges and ``randint``), ``device=`` (only the CPU: see
``chainrule.dtypes.device``) and ``requires_grad=``; the random ones also ``generator=``.
"""
import numpy as np

from . import dtypes
from .autograd import Function
from .random import rng
from .tensor import Tensor, as_array


def _size(size):
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = tuple(size[0])
    for n in size:
        if not isinstance(n, (int, np.integer)) or n < 0:
            raise ValueError(f"size must be non-negative integers, got {size}")
    return tuple(int(n) for n in size)


def _float_dtype(dtype):
    return dtypes.get_default_dtype() if dtype is None else dtypes.to_dtype(dtype)


def _random_float_dtype(fn, dtype):
    """Uniform and normal draws exist only in floating point (an int64 ``rand`` would be all zeros)."""
    dtype = _float_dtype(dtype)
    if dtype.kind != "f":
        raise TypeError(f"{fn}: random draws need a floating-point dtype, got {dtype}")
    return dtype


def _make(array, requires_grad, device=None, op="tensor"):
    dtypes.check_device(device, op)
    return Tensor(array, requires_grad=requires_grad)


def tensor(data, dtype=None, device=None, requires_grad=False):
    """A new tensor holding a copy of ``data`` (number, nested list, array or Tensor)."""
    return _make(as_array(data, None if dtype is None else dtypes.to_dtype(dtype), copy=True), requires_grad, device)


def from_numpy(array):
    """A tensor sharing memory with ``array``."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"from_numpy: expected an ndarray, got {type(array).__name__}")
    return Tensor(array)


def zeros(*size, dtype=None, device=None, requires_grad=False):
    """A tensor of ``size`` filled with 0. ``size``: ints or one tuple/list of ints (ValueError for a negative or
    non-integer size). ``dtype`` defaults to the default float dtype (``get_default_dtype()``); ``device`` only the CPU
    (another raises RuntimeError); ``requires_grad`` makes a leaf that records ops."""
    return _make(np.zeros(_size(size), dtype=_float_dtype(dtype)), requires_grad, device, "zeros")


def ones(*size, dtype=None, device=None, requires_grad=False):
    """A tensor of ``size`` filled with 1. ``size``: ints or one tuple/list of ints (ValueError for a negative or
    non-integer size). ``dtype`` defaults to the default float dtype (``get_default_dtype()``); ``device`` only the CPU
    (another raises RuntimeError); ``requires_grad`` makes a leaf that records ops."""
    return _make(np.ones(_size(size), dtype=_float_dtype(dtype)), requires_grad, device, "ones")


def empty(*size, dtype=None, device=None, requires_grad=False):
    """A tensor of ``size`` with uninitialized entries (whatever the memory held). ``size``: ints or one tuple/list of
    ints (ValueError for a negative or non-integer size). ``dtype`` defaults to the default float dtype
    (``get_default_dtype()``); ``device`` only the CPU (another raises RuntimeError); ``requires_grad`` makes a leaf
    that records ops."""
    return _make(np.empty(_size(size), dtype=_float_dtype(dtype)), requires_grad, device, "empty")


def full(size, fill_value, *, dtype=None, device=None, requires_grad=False):
    """A tensor of ``size`` (an int or a tuple) filled with ``fill_value``; ``dtype`` defaults to fill_value's (an int →
    int64, a float → the default float dtype, a bool → bool). ``device`` only the CPU."""
    if dtype is None:
        dtype = as_array(fill_value).dtype
    return _make(np.full(_size((size,)), fill_value, dtype=dtypes.to_dtype(dtype)), requires_grad, device, "full")


def _like(t, dtype):
    return t.dtype if dtype is None else dtypes.to_dtype(dtype)


def zeros_like(input, *, dtype=None, device=None, requires_grad=False):  # noqa: A002 - torch's argument name
    """A tensor of input's shape filled with 0. ``dtype`` defaults to input's; ``device`` only the CPU;
    ``requires_grad`` makes a leaf that records ops."""
    return _make(np.zeros(input.shape, dtype=_like(input, dtype)), requires_grad, device, "zeros_like")


def ones_like(input, *, dtype=None, device=None, requires_grad=False):  # noqa: A002
    """A tensor of input's shape filled with 1. ``dtype`` defaults to input's; ``device`` only the CPU;
    ``requires_grad`` makes a leaf that records ops."""
    return _make(np.ones(input.shape, dtype=_like(input, dtype)), requires_grad, device, "ones_like")


def empty_like(input, *, dtype=None, device=None, requires_grad=False):  # noqa: A002
    """A tensor of input's shape with uninitialized entries. ``dtype`` defaults to input's; ``device`` only the CPU;
    ``requires_grad`` makes a leaf that records ops."""
    return _make(np.empty(input.shape, dtype=_like(input, dtype)), requires_grad, device, "empty_like")


def full_like(input, fill_value, *, dtype=None, device=None, requires_grad=False):  # noqa: A002
    """A tensor of input's shape filled with ``fill_value``. ``dtype`` defaults to input's; ``device`` only the CPU;
    ``requires_grad`` makes a leaf that records ops."""
    return _make(np.full(input.shape, fill_value, dtype=_like(input, dtype)), requires_grad, device, "full_like")


def arange(start, end=None, step=1, *, dtype=None, device=None, requires_grad=False):
    """Values start, start+step, ... < end; int64 if all arguments are ints, else the default float."""
    if end is None:
        start, end = 0, start
    if step == 0:
        raise ValueError("arange: step must be non-zero")
    if dtype is None:
        all_int = all(isinstance(v, (int, np.integer)) for v in (start, end, step))
        dtype = np.int64 if all_int else dtypes.get_default_dtype()
    return _make(np.arange(start, end, step, dtype=dtypes.to_dtype(dtype)), requires_grad, device, "arange")


def linspace(start, end, steps, *, dtype=None, device=None, requires_grad=False):
    """``steps`` evenly spaced values from start to end. For an integer dtype, as torch: start and end
    truncated to integers, then start + i·(end − start)/(steps − 1) truncated toward zero (NumPy's integer
    linspace floors instead) — computed exactly, in Python integers."""
    if steps < 0:
        raise ValueError(f"linspace: steps must be non-negative, got {steps}")
    dtype = _float_dtype(dtype)
    if dtype.kind == "f":
        return _make(np.linspace(start, end, steps, dtype=dtype), requires_grad, device, "linspace")
    start, end, d = int(start), int(end), max(steps - 1, 1)  # (one step: just start)
    num = start * d + np.arange(steps, dtype=object) * (end - start)  # d × the exact values
    return _make(np.where(num < 0, -(-num // d), num // d).astype(dtype), requires_grad, device, "linspace")


def eye(n, m=None, *, dtype=None, device=None, requires_grad=False):
    """The n × m identity matrix (m = n when None): ones on the diagonal, zeros elsewhere. ``dtype`` defaults to the
    default float dtype (``get_default_dtype()``); ``device`` only the CPU (another raises RuntimeError);
    ``requires_grad`` makes a leaf that records ops."""
    return _make(np.eye(n, m, dtype=_float_dtype(dtype)), requires_grad, device, "eye")



# ----- random draws ------------------------------------------------------------------------------
def rand(*size, generator=None, dtype=None, device=None, requires_grad=False):
    """Uniform on [0, 1)."""
    dtype = _random_float_dtype("rand", dtype)
    draws = rng(generator).random(_size(size), dtype=np.float64).astype(dtype)
    # rounding to a narrower float can reach 1.0 (for float16 one draw in ~4000); keep the interval open
    draws = np.minimum(draws, np.nextafter(dtype.type(1), dtype.type(0)))
    return _make(draws, requires_grad, device, "rand")


def randn(*size, generator=None, dtype=None, device=None, requires_grad=False):
    """Standard normal."""
    dtype = _random_float_dtype("randn", dtype)
    return _make(rng(generator).standard_normal(_size(size)).astype(dtype), requires_grad, device, "randn")


def _integers(op, low, high, size, generator, dtype):
    if not all(isinstance(v, (int, np.integer)) for v in (low, high)):
        raise TypeError(f"{op}: low and high must be integers, got low={low!r}, high={high!r}")
    if high <= low:
        raise ValueError(f"{op}: expected low < high, got low={low}, high={high}")
    return rng(generator).integers(low, high, size=size).astype(dtype)


def randint(*args, size=None, low=0, high=None, generator=None, dtype=None, device=None, requires_grad=False):
    """Integers uniform on [low, high), as torch's forms: ``randint(high, size)``,
    ``randint(low, high, size)``, or keywords (``randint(10, size=(3,))``). int64 unless ``dtype``."""
    if size is None:
        if not args:
            raise TypeError("randint: missing the size argument")
        *args, size = args
    if len(args) == 2:
        low, high = args
    elif len(args) == 1:
        if high is None:
            high = args[0]
        else:
            low = args[0]
    elif args:
        raise TypeError(f"randint: takes (high, size) or (low, high, size), got {len(args) + 1} positional arguments")
    if high is None:
        raise TypeError("randint: missing the high argument")
    shape = (int(size),) if isinstance(size, (int, np.integer)) else _size((size,))
    dtype = np.int64 if dtype is None else dtypes.to_dtype(dtype)
    return _make(_integers("randint", low, high, shape, generator, dtype), requires_grad, device, "randint")


def randperm(n, *, generator=None, dtype=None, device=None, requires_grad=False):
    """A random permutation of 0..n−1."""
    dtype = np.int64 if dtype is None else dtypes.to_dtype(dtype)
    return _make(rng(generator).permutation(n).astype(dtype), requires_grad, device, "randperm")


def rand_like(input, *, generator=None, dtype=None, device=None, requires_grad=False):  # noqa: A002
    """Uniform draws on [0, 1) in input's shape; ``dtype`` defaults to input's and must be floating (TypeError
    otherwise); ``generator`` as ``rand``'s."""
    dtypes.check_device(device, "rand_like")
    return rand(input.shape, generator=generator, dtype=_like(input, dtype), device=device,
                requires_grad=requires_grad)


def randn_like(input, *, generator=None, dtype=None, device=None, requires_grad=False):  # noqa: A002
    """Standard-normal draws in input's shape; ``dtype`` defaults to input's and must be floating (TypeError otherwise);
    ``generator`` as ``randn``'s."""
    dtypes.check_device(device, "randn_like")
    return randn(input.shape, generator=generator, dtype=_like(input, dtype), device=device,
                 requires_grad=requires_grad)


def randint_like(input, low=0, high=None, *, generator=None, dtype=None, device=None,  # noqa: A002
                 requires_grad=False):
    """``randint_like(x, high)`` or ``randint_like(x, low, high)``: x's shape and (by default) dtype."""
    if high is None:
        low, high = 0, low
    array = _integers("randint_like", low, high, input.shape, generator, _like(input, dtype))
    return _make(array, requires_grad, device, "randint_like")


class Sample(Function):
    """out = a draw from a distribution whose parameters are the inputs. Sampling has no pathwise
    derivative here: d out / d parameter = 0, as torch's ``normal`` and ``bernoulli`` give (for the
    reparameterized gradient write ``mean + std * randn_like(std)``)."""

    def forward(self, *parameters, draws):
        self.shapes = [p.shape for p in parameters]
        return draws

    def backward(self, g):
        return tuple(np.zeros(shape, dtype=g.dtype) if need else None for shape, need in zip(self.shapes, self.needs))

    def backward_graph(self, g):  # the zero gradient is a constant: its own derivatives are 0 too
        return tuple(Tensor(np.zeros(shape, dtype=g.data.dtype)) if need else None
                     for shape, need in zip(self.shapes, self.needs))


def _sample(parameters, draws, dtype, requires_grad=False):
    """The draws as a tensor of ``dtype``, a node of ``Sample`` when a parameter tensor requires grad."""
    draws = draws.astype(dtype)
    tensors = [p for p in parameters if isinstance(p, Tensor)]
    if any(p.requires_grad for p in tensors):
        return Sample.apply(*tensors, draws=draws)
    return Tensor(draws, requires_grad=requires_grad)


def normal(mean=0.0, std=1.0, size=None, *, generator=None, dtype=None, device=None, requires_grad=False):
    """Draws from N(mean, std²): ``mean`` and ``std`` tensors (broadcast against each other) or numbers;
    with two numbers ``size`` gives the shape. The dtype is the tensors' (the default float for two
    numbers). The gradient with respect to mean and std is zero, as torch's (see ``Sample``)."""
    dtypes.check_device(device, "normal")
    tensors = [p for p in (mean, std) if isinstance(p, Tensor)]
    if not tensors:
        if size is None:
            raise TypeError("normal: with a float mean and std, give size=")
        shape, out_dtype = _size((size,)), _random_float_dtype("normal", dtype)
    else:
        if size is not None:
            raise TypeError("normal: size= is only for a float mean and std; the tensors give the shape")
        for p in tensors:
            dtypes.check_floating(p.dtype, "normal", "mean and std")
        shape = np.broadcast_shapes(*(p.shape for p in tensors))
        out_dtype = tensors[0].dtype if len(tensors) == 1 else dtypes.result_type(mean.dtype, std.dtype)
    m, s = (p.data if isinstance(p, Tensor) else p for p in (mean, std))
    if np.any(np.asarray(s) < 0):
        raise RuntimeError("normal: expects all elements of std >= 0.0")
    draws = m + s * rng(generator).standard_normal(shape)
    return _sample((mean, std), np.asarray(draws), out_dtype, requires_grad)


def bernoulli(input, p=None, *, generator=None):  # noqa: A002 - torch's argument name
    """1 with probability ``input`` (elementwise; or the number ``p`` for every element of ``input``'s
    shape), else 0, in ``input``'s floating dtype. The gradient with respect to ``input`` is zero."""
    dtypes.check_floating(input.dtype, "bernoulli", "probability tensor")
    prob = input.data if p is None else p
    if np.any((np.asarray(prob) < 0) | (np.asarray(prob) > 1)):
        raise RuntimeError("bernoulli: expects 0 <= p <= 1")
    draws = rng(generator).random(input.shape) < prob
    return _sample((input,) if p is None else (), draws, input.dtype)


def multinomial(input, num_samples, replacement=False, *, generator=None):  # noqa: A002
    """Category indices (int64) drawn with probabilities proportional to the rows of ``input`` (1-D:
    one distribution, (N, C): N of them) — ``num_samples`` per row. Without replacement each index is
    drawn at most once: the top ``num_samples`` of w / E with E ~ Exp(1) (the exponential race, as torch),
    zero-weight categories coming last."""
    w = input.data if isinstance(input, Tensor) else np.asarray(input)
    if w.ndim not in (1, 2):
        raise RuntimeError(f"multinomial: prob_dist must be 1 or 2 dim, got shape {w.shape}")
    if w.dtype.kind != "f":
        raise RuntimeError(f"multinomial: only supports floating-point dtypes for input, got {w.dtype}")
    if not isinstance(num_samples, (int, np.integer)) or num_samples <= 0:
        raise RuntimeError(f"multinomial: cannot sample n_sample <= 0 samples, got {num_samples!r}")
    if not replacement and num_samples > w.shape[-1]:
        raise RuntimeError(f"multinomial: cannot sample n_sample ({num_samples}) > prob_dist.size(-1) "
                           f"({w.shape[-1]}) samples without replacement")
    if not np.all(np.isfinite(w)) or np.any(w < 0):
        raise RuntimeError("multinomial: probability tensor contains either `inf`, `nan` or element < 0")
    rows = w.reshape(-1, w.shape[-1]).astype(np.float64)
    totals = rows.sum(axis=1, keepdims=True)
    if np.any(totals <= 0):
        raise RuntimeError("multinomial: invalid multinomial distribution (sum of probabilities <= 0)")
    gen = rng(generator)
    if replacement:  # inverse CDF: the first category whose cumulative probability exceeds u
        cdf = np.cumsum(rows / totals, axis=1)
        u = gen.random((rows.shape[0], num_samples))
        out = np.stack([np.searchsorted(c, ui, side="right") for c, ui in zip(cdf, u)])
        last = rows.shape[1] - 1 - np.argmax(rows[:, ::-1] > 0, axis=1)  # each row's last possible category
        out = np.minimum(out, last[:, None])  # u just below 1 against a cdf that rounds below 1
    else:
        keys = rows / gen.exponential(size=rows.shape)
        out = np.argsort(-keys, axis=1, kind="stable")[:, :num_samples]
    return Tensor(out.astype(np.int64).reshape(w.shape[:-1] + (num_samples,)))
