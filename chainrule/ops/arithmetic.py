"""Elementwise arithmetic and math: + - * / ** neg exp log sqrt abs sin cos clamp maximum minimum where.

Binary ops broadcast like NumPy; their backward undoes the broadcast with ``unbroadcast``.
Operands may be Tensors, Python numbers or arrays; dtypes are promoted as in PyTorch.
"""
import numpy as np

from ..autograd import Function, unbroadcast
from ..dtypes import get_default_dtype, result_type
from ..tensor import Tensor


def _operand(x):
    """A Tensor stays; a Python number stays (NumPy treats it as weakly typed); arrays become Tensors."""
    if isinstance(x, Tensor) or type(x) in (float, int, bool):
        return x
    if isinstance(x, np.generic):
        return x.item()
    if isinstance(x, (np.ndarray, list, tuple)):
        return Tensor(np.asarray(x))
    raise TypeError(f"unsupported operand of type {type(x).__name__}; expected a Tensor, number or array")


def promote(a, b):
    """Cast two operands to PyTorch's common dtype (a float wins over an integer of any width)."""
    a, b = _operand(a), _operand(b)
    if isinstance(a, Tensor):
        if isinstance(b, Tensor):
            da, db = a.data.dtype, b.data.dtype
            if da is not db and da != db:
                dt = result_type(da, db)
                a, b = a.to(dt), b.to(dt)
        elif type(b) is float and a.data.dtype.kind != "f":
            a = a.to(get_default_dtype())
    elif type(a) is float and isinstance(b, Tensor) and b.data.dtype.kind != "f":
        b = b.to(get_default_dtype())
    return a, b


def _shape(x):
    return x.shape if isinstance(x, np.ndarray) else ()


class Add(Function):
    """out = a + b."""

    def forward(self, a, b):
        self.shapes = _shape(a), _shape(b)
        return a + b

    def backward(self, g):
        return unbroadcast(g, self.shapes[0]), unbroadcast(g, self.shapes[1])


class Sub(Function):
    """out = a − b."""

    def forward(self, a, b):
        self.shapes = _shape(a), _shape(b)
        return a - b

    def backward(self, g):
        gb = -unbroadcast(g, self.shapes[1]) if self.needs[1] else None
        return unbroadcast(g, self.shapes[0]), gb


class Mul(Function):
    """out = a · b;  da = g·b, db = g·a."""

    def forward(self, a, b):
        self.a, self.b = a, b
        return a * b

    def backward(self, g):
        a, b = self.a, self.b
        ga = unbroadcast(g * b, _shape(a)) if self.needs[0] else None
        gb = unbroadcast(g * a, _shape(b)) if self.needs[1] else None
        return ga, gb


class Div(Function):
    """out = a / b;  da = g/b, db = −g·a/b²."""

    def forward(self, a, b):
        self.a, self.b = a, b
        return a / b

    def backward(self, g):
        a, b = self.a, self.b
        gab = g / b
        ga = unbroadcast(gab, _shape(a)) if self.needs[0] else None
        gb = unbroadcast(-gab * a / b, _shape(b)) if self.needs[1] else None
        return ga, gb


class Pow(Function):
    """out = a ** b;  da = g·b·a^(b−1), db = g·out·ln a (0 where a = 0, as PyTorch)."""

    def forward(self, a, b):
        self.a, self.b = a, b
        self.out = a**b
        return self.out

    def backward(self, g):
        a, b = self.a, self.b
        ga = gb = None
        if self.needs[0]:
            ga = unbroadcast(np.where(b == 0, 0.0, g * b * a ** (b - 1)), _shape(a))
        if self.needs[1]:
            with np.errstate(divide="ignore", invalid="ignore"):
                gb = np.where((a == 0) & (b >= 0), 0.0, g * self.out * np.log(a))
            gb = unbroadcast(gb, _shape(b))
        return ga, gb


class Neg(Function):
    """out = −a."""

    def forward(self, a):
        return -a

    def backward(self, g):
        return (-g,)


class Exp(Function):
    """out = eᵃ;  da = g·out."""

    def forward(self, a):
        self.out = np.exp(a)
        return self.out

    def backward(self, g):
        return (g * self.out,)


class Log(Function):
    """out = ln a;  da = g/a."""

    def forward(self, a):
        self.a = a
        return np.log(a)

    def backward(self, g):
        return (g / self.a,)


class Sqrt(Function):
    """out = √a;  da = g / (2·out)."""

    def forward(self, a):
        self.out = np.sqrt(a)
        return self.out

    def backward(self, g):
        return (g / (2 * self.out),)


class Abs(Function):
    """out = |a|;  da = g·sign(a) (0 at a = 0)."""

    def forward(self, a):
        self.a = a
        return np.abs(a)

    def backward(self, g):
        return (g * np.sign(self.a),)


class Sin(Function):
    """out = sin a;  da = g·cos a."""

    def forward(self, a):
        self.a = a
        return np.sin(a)

    def backward(self, g):
        return (g * np.cos(self.a),)


class Cos(Function):
    """out = cos a;  da = −g·sin a."""

    def forward(self, a):
        self.a = a
        return np.cos(a)

    def backward(self, g):
        return (-g * np.sin(self.a),)


class Clamp(Function):
    """out = min(max(a, lo), hi) (hi wins where lo > hi); lo, hi: numbers, None or broadcast arrays.
    da = g where lo ≤ a ≤ hi;  dlo = g where a < lo < hi;  dhi = g where a > hi or hi < lo
    (PyTorch's rule: where a equals a bound the whole gradient goes to a, not half as in maximum)."""

    def forward(self, a, lo, hi):
        self.a, self.lo, self.hi = a, lo, hi
        return np.clip(a, lo, hi)

    def backward(self, g):
        a, lo, hi = self.a, self.lo, self.hi
        keep = np.ones(a.shape, dtype=bool)
        if lo is not None:
            keep = keep & (a >= lo)
        if hi is not None:
            keep = keep & (a <= hi)
        glo = ghi = None
        if self.needs[1]:
            below = (a < lo) if hi is None else (a < lo) & (lo < hi)
            glo = unbroadcast(np.where(below, g, 0), _shape(lo))
        if self.needs[2]:
            above = (a > hi) if lo is None else (a > hi) | (hi < lo)
            ghi = unbroadcast(np.where(above, g, 0), _shape(hi))
        return unbroadcast(g * keep, a.shape), glo, ghi


class Maximum(Function):
    """out = max(a, b) elementwise; on ties each side gets g/2 (as PyTorch)."""

    sign = 1

    def forward(self, a, b):
        self.a, self.b = a, b
        return np.maximum(a, b) if self.sign > 0 else np.minimum(a, b)

    def backward(self, g):
        a, b = self.a, self.b
        diff = (a - b) * self.sign
        half = g * 0.5
        ga = unbroadcast(np.where(diff > 0, g, np.where(diff == 0, half, 0)), _shape(a)) if self.needs[0] else None
        gb = unbroadcast(np.where(diff < 0, g, np.where(diff == 0, half, 0)), _shape(b)) if self.needs[1] else None
        return ga, gb


class Minimum(Maximum):
    """out = min(a, b) elementwise; on ties each side gets g/2 (as PyTorch)."""

    sign = -1


class Where(Function):
    """out = a where cond else b;  da = g·cond, db = g·¬cond."""

    def forward(self, cond, a, b):
        self.cond, self.shapes = cond, (_shape(a), _shape(b))
        return np.where(cond, a, b)

    def backward(self, g):
        cond = self.cond
        zero = np.zeros((), dtype=g.dtype)
        ga = unbroadcast(np.where(cond, g, zero), self.shapes[0]) if self.needs[1] else None
        gb = unbroadcast(np.where(cond, zero, g), self.shapes[1]) if self.needs[2] else None
        return None, ga, gb


def _binary(op):
    def apply(a, b):
        a, b = promote(a, b)
        if not isinstance(a, Tensor) and not isinstance(b, Tensor):
            raise TypeError(f"{op.__name__.lower()}: at least one operand must be a Tensor")
        return op.apply(a, b)

    apply.__name__ = op.__name__.lower()
    apply.__doc__ = op.__doc__
    return apply


add = _binary(Add)
sub = _binary(Sub)
mul = _binary(Mul)


def div(a, b):
    """True division; integer operands give the default float dtype, as in PyTorch."""
    a, b = promote(a, b)
    if isinstance(a, Tensor) and a.data.dtype.kind != "f" and not (isinstance(b, Tensor) and b.data.dtype.kind == "f"):
        a = a.to(get_default_dtype())
    elif isinstance(b, Tensor) and b.data.dtype.kind != "f" and not isinstance(a, Tensor):
        b = b.to(get_default_dtype())
    return _binary(Div)(a, b)


pow = _binary(Pow)  # noqa: A001 - torch.pow
maximum = _binary(Maximum)
minimum = _binary(Minimum)


def _float_input(x):
    """Math functions of integer tensors give the default float dtype, as in PyTorch."""
    return x if x.data.dtype.kind == "f" else x.to(get_default_dtype())


def neg(x):
    return Neg.apply(x)


def exp(x):
    return Exp.apply(_float_input(x))


def log(x):
    return Log.apply(_float_input(x))


def sqrt(x):
    return Sqrt.apply(_float_input(x))


def abs(x):  # noqa: A001 - torch.abs
    return Abs.apply(x)


def sin(x):
    return Sin.apply(_float_input(x))


def cos(x):
    return Cos.apply(_float_input(x))


def clamp(x, min=None, max=None):  # noqa: A002 - PyTorch's argument names
    """Clamp into [min, max]; either bound may be None, not both."""
    if min is None and max is None:
        raise ValueError("clamp: at least one of min and max must be given")
    bounds = [b for b in (min, max) if isinstance(b, Tensor)]
    if bounds:  # tensor bounds broadcast with x and share its dtype (PyTorch's promotion)
        dt = x.data.dtype
        for b in bounds:
            dt = result_type(dt, b.data.dtype)
        x, min, max = (t.to(dt) if isinstance(t, Tensor) else t for t in (x, min, max))
    elif float in (type(min), type(max)):
        x = _float_input(x)  # an integer tensor clamped to a float bound gives the default float dtype
    return Clamp.apply(x, min, max)


def where(condition, x, y):
    """Elementwise ``x if condition else y`` (condition: bool Tensor or array, broadcast)."""
    cond = condition.data if isinstance(condition, Tensor) else np.asarray(condition)
    if cond.dtype != np.bool_:
        raise TypeError(f"where: condition must be a bool tensor, got dtype {cond.dtype}")
    if not isinstance(x, Tensor) and not isinstance(y, Tensor):
        x = Tensor(x)  # two numbers: a float gives the default dtype, as in PyTorch
    x, y = promote(x, y)
    return Where.apply(cond, x, y)
