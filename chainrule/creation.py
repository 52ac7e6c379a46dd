"""Tensor creation: from data, filled, ranges, and random draws (seeded through ``chainrule.random``).

Every function takes ``dtype=`` (default: the default float dtype for floating values, int64 for
integer ranges and ``randint``) and ``requires_grad=``.
"""
import numpy as np

from . import dtypes
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


def _make(array, requires_grad):
    return Tensor(array, requires_grad=requires_grad)


def tensor(data, dtype=None, requires_grad=False):
    """A new tensor holding a copy of ``data`` (number, nested list, array or Tensor)."""
    return _make(as_array(data, None if dtype is None else dtypes.to_dtype(dtype), copy=True), requires_grad)


def from_numpy(array):
    """A tensor sharing memory with ``array``."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"from_numpy: expected an ndarray, got {type(array).__name__}")
    return Tensor(array)


def zeros(*size, dtype=None, requires_grad=False):
    return _make(np.zeros(_size(size), dtype=_float_dtype(dtype)), requires_grad)


def ones(*size, dtype=None, requires_grad=False):
    return _make(np.ones(_size(size), dtype=_float_dtype(dtype)), requires_grad)


def empty(*size, dtype=None, requires_grad=False):
    return _make(np.empty(_size(size), dtype=_float_dtype(dtype)), requires_grad)


def full(size, fill_value, dtype=None, requires_grad=False):
    if dtype is None:
        dtype = as_array(fill_value).dtype
    return _make(np.full(_size((size,)), fill_value, dtype=dtypes.to_dtype(dtype)), requires_grad)


def zeros_like(t, dtype=None, requires_grad=False):
    return _make(np.zeros(t.shape, dtype=t.dtype if dtype is None else dtypes.to_dtype(dtype)), requires_grad)


def ones_like(t, dtype=None, requires_grad=False):
    return _make(np.ones(t.shape, dtype=t.dtype if dtype is None else dtypes.to_dtype(dtype)), requires_grad)


def full_like(t, fill_value, dtype=None, requires_grad=False):
    return _make(np.full(t.shape, fill_value, dtype=t.dtype if dtype is None else dtypes.to_dtype(dtype)), requires_grad)


def arange(start, end=None, step=1, dtype=None, requires_grad=False):
    """Values start, start+step, ... < end; int64 if all arguments are ints, else the default float."""
    if end is None:
        start, end = 0, start
    if step == 0:
        raise ValueError("arange: step must be non-zero")
    if dtype is None:
        all_int = all(isinstance(v, (int, np.integer)) for v in (start, end, step))
        dtype = np.int64 if all_int else dtypes.get_default_dtype()
    return _make(np.arange(start, end, step, dtype=dtypes.to_dtype(dtype)), requires_grad)


def linspace(start, end, steps, dtype=None, requires_grad=False):
    """``steps`` evenly spaced values from start to end. For an integer dtype, as torch: start and end
    truncated to integers, then start + i·(end − start)/(steps − 1) truncated toward zero (NumPy's integer
    linspace floors instead) — computed exactly, in Python integers."""
    if steps < 0:
        raise ValueError(f"linspace: steps must be non-negative, got {steps}")
    dtype = _float_dtype(dtype)
    if dtype.kind == "f":
        return _make(np.linspace(start, end, steps, dtype=dtype), requires_grad)
    start, end, d = int(start), int(end), max(steps - 1, 1)  # (one step: just start)
    num = start * d + np.arange(steps, dtype=object) * (end - start)  # d × the exact values
    return _make(np.where(num < 0, -(-num // d), num // d).astype(dtype), requires_grad)


def eye(n, m=None, dtype=None, requires_grad=False):
    return _make(np.eye(n, m, dtype=_float_dtype(dtype)), requires_grad)


def rand(*size, generator=None, dtype=None, requires_grad=False):
    """Uniform on [0, 1)."""
    dtype = _random_float_dtype("rand", dtype)
    draws = rng(generator).random(_size(size), dtype=np.float64).astype(dtype)
    # rounding to a narrower float can reach 1.0 (for float16 one draw in ~4000); keep the interval open
    draws = np.minimum(draws, np.nextafter(dtype.type(1), dtype.type(0)))
    return _make(draws, requires_grad)


def randn(*size, generator=None, dtype=None, requires_grad=False):
    """Standard normal."""
    dtype = _random_float_dtype("randn", dtype)
    return _make(rng(generator).standard_normal(_size(size)).astype(dtype), requires_grad)


def randint(low, high=None, size=(), generator=None, dtype=None):
    """Integers uniform on [low, high) (or [0, low) when ``high`` is omitted or is the size, as in
    torch's ``randint(high, size)``)."""
    if isinstance(high, (tuple, list)):
        low, high, size = 0, low, high
    elif high is None:
        low, high = 0, low
    if high <= low:
        raise ValueError(f"randint: expected low < high, got low={low}, high={high}")
    dtype = np.int64 if dtype is None else dtypes.to_dtype(dtype)
    return Tensor(rng(generator).integers(low, high, size=_size((size,)) if not isinstance(size, int) else (size,)).astype(dtype))


def randperm(n, generator=None, dtype=None):
    """A random permutation of 0..n−1."""
    return Tensor(rng(generator).permutation(n).astype(np.int64 if dtype is None else dtypes.to_dtype(dtype)))


def rand_like(t, generator=None, dtype=None, requires_grad=False):
    return rand(t.shape, generator=generator, dtype=t.dtype if dtype is None else dtype, requires_grad=requires_grad)


def randn_like(t, generator=None, dtype=None, requires_grad=False):
    return randn(t.shape, generator=generator, dtype=t.dtype if dtype is None else dtype, requires_grad=requires_grad)
