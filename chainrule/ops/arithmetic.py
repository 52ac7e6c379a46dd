"""Elementwise arithmetic: + - * / ** neg exp log sqrt abs sin cos clamp maximum minimum where; division
with rounding (// and div's rounding_mode), remainder (%) and fmod; copysign, hypot, atan2, logaddexp,
float_power, lerp, addcmul, addcdiv; the bitwise and logical ops (outside the graph).

Binary ops broadcast like NumPy; their backward undoes the broadcast with ``unbroadcast``.
Operands may be Tensors, Python numbers or arrays; dtypes are promoted as in PyTorch.
"""
import math

import numpy as np

from ..autograd import Function, constant, to_inputs, unbroadcast
from ..dtypes import get_default_dtype, result_type, scalar_result_type
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

    def backward_graph(self, g):
        return to_inputs(self, g, g)


class Sub(Function):
    """out = a − b."""

    def forward(self, a, b):
        self.shapes = _shape(a), _shape(b)
        return a - b

    def backward(self, g):
        gb = -unbroadcast(g, self.shapes[1]) if self.needs[1] else None
        return unbroadcast(g, self.shapes[0]), gb

    def backward_graph(self, g):
        return to_inputs(self, g, -g)


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

    def backward_graph(self, g):
        a, b = self.inputs
        return to_inputs(self, g * b, g * a)


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

    def backward_graph(self, g):
        a, b = self.inputs
        return to_inputs(self, g / b, -g * a / (b * b))


class Pow(Function):
    """out = a ** b;  da = g·b·a^(b−1), db = g·out·ln a (0 where a = 0, as PyTorch)."""

    def forward(self, a, b):
        self.a, self.b = a, b
        with np.errstate(divide="ignore", invalid="ignore"):  # 0 ** −1 = inf, (−1) ** 0.5 = NaN, as torch
            self.out = a**b
        return self.out

    def backward(self, g):
        a, b = self.a, self.b
        ga = gb = None
        if self.needs[0]:
            with np.errstate(divide="ignore", invalid="ignore"):  # 0 ** (b − 1) for b < 1: masked where b = 0
                ga = unbroadcast(np.where(b == 0, 0.0, g * b * a ** (b - 1)), _shape(a))
        if self.needs[1]:
            with np.errstate(divide="ignore", invalid="ignore"):
                gb = np.where((a == 0) & (b >= 0), 0.0, g * self.out * np.log(a))
            gb = unbroadcast(gb, _shape(b))
        return ga, gb

    def backward_graph(self, g):
        a, b = self.inputs
        a_data, b_data = (x.data if isinstance(x, Tensor) else x for x in (a, b))
        ga = gb = None
        if self.needs[0]:
            zero_b = np.asarray(b_data == 0)  # there a ** (b − 1) may be 0 ** −1: use b = 1 in the branch not taken
            safe_b = where(zero_b, 1.0, b) if isinstance(b, Tensor) else 1.0 if b == 0 else b
            ga = where(zero_b, 0.0, g * b * a ** (safe_b - 1))
        if self.needs[1]:
            zero = np.asarray((a_data == 0) & (b_data >= 0))
            # ln 1 = 0: no NaN from ln 0 in the branch not taken (nor in its gradient)
            log_a = where(zero, 1.0, a).log() if isinstance(a, Tensor) else math.log(a if a != 0 else 1.0)
            gb = where(zero, 0.0, g * a ** b * log_a)
        return to_inputs(self, ga, gb)


class Neg(Function):
    """out = −a."""

    def forward(self, a):
        return -a

    def backward(self, g):
        return (-g,)

    def backward_graph(self, g):
        return (-g,)


class Exp(Function):
    """out = eᵃ;  da = g·out."""

    def forward(self, a):
        self.out = np.exp(a)
        return self.out

    def backward(self, g):
        return (g * self.out,)

    def backward_graph(self, g):
        return (g * self.inputs[0].exp(),)


class Log(Function):
    """out = ln a;  da = g/a."""

    def forward(self, a):
        self.a = a
        return np.log(a)

    def backward(self, g):
        return (g / self.a,)

    def backward_graph(self, g):
        return (g / self.inputs[0],)


class Sqrt(Function):
    """out = √a;  da = g / (2·out)."""

    def forward(self, a):
        self.out = np.sqrt(a)
        return self.out

    def backward(self, g):
        return (g / (2 * self.out),)

    def backward_graph(self, g):
        return (g / (2 * self.inputs[0].sqrt()),)


def sign_array(a):
    """sign(a): −1, 0 or 1, and 0 for NaN as in torch (NumPy gives NaN)."""
    s = np.sign(a)
    return np.where(np.isnan(s), 0, s).astype(a.dtype, copy=False) if a.dtype.kind == "f" else s


class Abs(Function):
    """out = |a|;  da = g·sign(a) (0 at a = 0 and at NaN, as torch)."""

    def forward(self, a):
        self.a = a
        return np.abs(a)

    def backward(self, g):
        return (g * sign_array(self.a),)

    def backward_graph(self, g):
        return (g * constant(sign_array(self.a), g),)


class Sin(Function):
    """out = sin a;  da = g·cos a."""

    def forward(self, a):
        self.a = a
        return np.sin(a)

    def backward(self, g):
        return (g * np.cos(self.a),)

    def backward_graph(self, g):
        return (g * self.inputs[0].cos(),)


class Cos(Function):
    """out = cos a;  da = −g·sin a."""

    def forward(self, a):
        self.a = a
        return np.cos(a)

    def backward(self, g):
        return (-g * np.sin(self.a),)

    def backward_graph(self, g):
        return (-g * self.inputs[0].sin(),)


class Clamp(Function):
    """out = min(max(a, lo), hi) (hi wins where lo > hi); lo, hi: numbers, None or broadcast arrays.
    da = g where lo ≤ a ≤ hi;  dlo = g where a < lo < hi;  dhi = g where a > hi or hi < lo
    (PyTorch's rule: where a equals a bound the whole gradient goes to a, not half as in maximum)."""

    def forward(self, a, lo, hi):
        self.a, self.lo, self.hi = a, lo, hi
        return np.clip(a, lo, hi)

    def masks(self):
        """Where the gradient goes: to a (lo ≤ a ≤ hi), to lo (a < lo < hi), to hi (a > hi, or hi < lo); None for
        an absent bound."""
        a, lo, hi = self.a, self.lo, self.hi
        keep = np.ones(a.shape, dtype=bool)
        if lo is not None:
            keep = keep & (a >= lo)
        if hi is not None:
            keep = keep & (a <= hi)
        below = None if lo is None else (a < lo) if hi is None else (a < lo) & (lo < hi)
        above = None if hi is None else (a > hi) if lo is None else (a > hi) | (hi < lo)
        return keep, below, above

    def backward(self, g):
        keep, below, above = self.masks()
        glo = unbroadcast(np.where(below, g, 0), _shape(self.lo)) if self.needs[1] else None
        ghi = unbroadcast(np.where(above, g, 0), _shape(self.hi)) if self.needs[2] else None
        return unbroadcast(g * keep, self.a.shape), glo, ghi

    def backward_graph(self, g):
        keep, below, above = self.masks()
        return to_inputs(self, g * constant(keep, g), None if below is None else g * constant(below, g),
                         None if above is None else g * constant(above, g))


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

    def backward_graph(self, g):
        diff = (self.a - self.b) * self.sign
        return to_inputs(self, g * constant(np.where(diff > 0, 1, np.where(diff == 0, 0.5, 0)), g),
                      g * constant(np.where(diff < 0, 1, np.where(diff == 0, 0.5, 0)), g))


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

    def backward_graph(self, g):
        return to_inputs(self, None, where(self.cond, g, 0.0), where(self.cond, 0.0, g))


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


def div(a, b, *, rounding_mode=None):
    """a / b. rounding_mode None: true division, integer operands give the default float dtype, as in
    PyTorch; 'trunc' rounds the quotient toward zero, 'floor' down (the dtype promoted, integers stay
    integers; their gradient is 0, as torch's)."""
    if rounding_mode is not None:
        return _divide_rounded(a, b, rounding_mode, "div")
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
    """−x elementwise. Keeps x's shape and dtype."""
    return Neg.apply(x)


def exp(x):
    """eˣ elementwise; d/dx = eˣ. Integer x gives the default float dtype; the output has x's shape."""
    return Exp.apply(_float_input(x))


def log(x):
    """The natural logarithm elementwise (−inf at 0, nan below); d/dx = 1/x. Integer x gives the default float dtype;
    the output has x's shape."""
    return Log.apply(_float_input(x))


def sqrt(x):
    """√x elementwise (nan below 0); d/dx = 1/(2√x). Integer x gives the default float dtype; the output has x's shape.
    """
    return Sqrt.apply(_float_input(x))


def abs(x):  # noqa: A001 - torch.abs
    """x| elementwise; the gradient is sign(x) (0 at 0). Keeps x's shape and dtype."""
    return Abs.apply(x)


def sin(x):
    """sin x elementwise (radians); d/dx = cos x. Integer x gives the default float dtype; the output has x's shape."""
    return Sin.apply(_float_input(x))


def cos(x):
    """cos x elementwise (radians); d/dx = −sin x. Integer x gives the default float dtype; the output has x's shape."""
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


# ----- division with rounding, remainders --------------------------------------------------------
def _pair(a, b, op):
    """Two operands promoted to PyTorch's common dtype; at least one must be a Tensor."""
    a, b = promote(a, b)
    if not isinstance(a, Tensor) and not isinstance(b, Tensor):
        raise TypeError(f"{op}: at least one operand must be a Tensor, got {type(a).__name__} and {type(b).__name__}")
    return a, b


def _check_integer_divisor(b, op):
    """Integer division by zero has no value: torch raises ZeroDivisionError, so does chainrule."""
    d = b.data if isinstance(b, Tensor) else np.asarray(b)
    if d.dtype.kind in "iub" and not np.all(d):
        raise ZeroDivisionError(f"{op}: integer division by zero")


def _floor_quotient(a, b):
    """⌊a/b⌋ as NumPy's (and torch's, and Python's) floor division: exact for integers, and for floats
    a − fmod(a, b) divided by b, so that the quotient is not rounded up across an integer."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.floor_divide(a, b)


def _trunc_quotient(a, b):
    """a/b rounded toward zero: for integers the floor quotient, one up where the signs differ and b does
    not divide a; for floats trunc(a/b), as torch."""
    if np.result_type(a, b).kind in "iu":
        q = np.floor_divide(a, b)
        return q + ((np.remainder(a, b) != 0) & ((np.asarray(a) < 0) != (np.asarray(b) < 0)))
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.trunc(np.true_divide(a, b))


class DivRounded(Function):
    """out = trunc(a/b) or ⌊a/b⌋ (``rounding_mode``);  da = db = 0 (a step function, as torch)."""

    def forward(self, a, b, rounding_mode):
        self.shapes = _shape(a), _shape(b)
        return (_trunc_quotient if rounding_mode == "trunc" else _floor_quotient)(a, b)

    def backward(self, g):
        zero = [np.zeros(s, g.dtype) if need else None for s, need in zip(self.shapes, self.needs)]
        return zero[0], zero[1]

    def backward_graph(self, g):
        return to_inputs(self, *(g * 0 for _ in range(2)))


def _divide_rounded(a, b, rounding_mode, op):
    if rounding_mode not in ("trunc", "floor"):
        raise ValueError(f"{op}: rounding_mode must be one of None, 'trunc' or 'floor', got {rounding_mode!r}")
    a, b = _pair(a, b, op)
    _check_integer_divisor(b, op)
    return DivRounded.apply(a, b, rounding_mode=rounding_mode)


def true_divide(input, other):
    """input / other, always true division (torch.true_divide, an alias of div)."""
    return div(input, other)


def floor_divide(input, other):
    """⌊input / other⌋ (Python's ``//``), in the promoted dtype. Not differentiable — torch has no
    derivative for it — so the result is outside the graph; ``div(..., rounding_mode='floor')`` is the
    same value with a zero gradient."""
    a, b = _pair(input, other, "floor_divide")
    _check_integer_divisor(b, "floor_divide")
    return Tensor(np.asarray(_floor_quotient(*(x.data if isinstance(x, Tensor) else x for x in (a, b)))))


class Remainder(Function):
    """out = a − b·⌊a/b⌋, the sign of b (Python's %);  da = g, db = −g·⌊a/b⌋."""

    def forward(self, a, b):
        self.a, self.b = a, b
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.remainder(a, b)

    def backward(self, g):
        a, b = self.a, self.b
        ga = unbroadcast(g, _shape(a)) if self.needs[0] else None
        gb = unbroadcast(-g * _floor_quotient(a, b), _shape(b)) if self.needs[1] else None
        return ga, gb

    def backward_graph(self, g):
        return to_inputs(self, g, -g * constant(_floor_quotient(self.a, self.b), g))


class Fmod(Function):
    """out = a − b·trunc(a/b), the sign of a (C's fmod);  da = g, db = −g·trunc(a/b)."""

    def forward(self, a, b):
        self.a, self.b = a, b
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.fmod(a, b)

    def backward(self, g):
        a, b = self.a, self.b
        ga = unbroadcast(g, _shape(a)) if self.needs[0] else None
        gb = unbroadcast(-g * _trunc_quotient(a, b), _shape(b)) if self.needs[1] else None
        return ga, gb

    def backward_graph(self, g):
        return to_inputs(self, g, -g * constant(_trunc_quotient(self.a, self.b), g))


def remainder(input, other):
    """input − other·⌊input/other⌋: the remainder with the sign of ``other``, as Python's ``%``."""
    a, b = _pair(input, other, "remainder")
    _check_integer_divisor(b, "remainder")
    return Remainder.apply(a, b)


def fmod(input, other):
    """input − other·trunc(input/other): the remainder with the sign of ``input``, as C's fmod."""
    a, b = _pair(input, other, "fmod")
    _check_integer_divisor(b, "fmod")
    return Fmod.apply(a, b)


# ----- binary math: copysign, hypot, atan2, logaddexp, float_power, lerp, addcmul, addcdiv ----------
def _float_pair(a, b, op):
    """Two operands promoted; integer results become the default float dtype (the value is not an integer)."""
    a, b = _pair(a, b, op)
    dt = a.data.dtype if isinstance(a, Tensor) else b.data.dtype
    if dt.kind != "f":
        a, b = (x.to(get_default_dtype()) if isinstance(x, Tensor) else float(x) for x in (a, b))
    return a, b


class Copysign(Function):
    """out = |a| with the sign bit of b (−0.0 counts as negative);  da = g·out/a (0 where a = 0), db = 0."""

    def forward(self, a, b):
        self.a, self.shapes = a, (_shape(a), _shape(b))
        self.out = np.copysign(a, b)
        return self.out

    def backward(self, g):
        ga = gb = None
        if self.needs[0]:
            with np.errstate(divide="ignore", invalid="ignore"):
                ga = unbroadcast(np.where(self.a == 0, 0, g * self.out / self.a), self.shapes[0])
        if self.needs[1]:
            gb = np.zeros(self.shapes[1], g.dtype)
        return ga, gb

    def backward_graph(self, g):
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.where(self.a == 0, 0, self.out / self.a)  # ±1: the sign flip, a constant
        return to_inputs(self, g * constant(ratio, g), g * 0)


class Hypot(Function):
    """out = √(a² + b²);  da = g·a/out, db = g·b/out."""

    def forward(self, a, b):
        self.a, self.b = a, b
        self.out = np.hypot(a, b)
        return self.out

    def backward(self, g):
        a, b = self.a, self.b
        with np.errstate(divide="ignore", invalid="ignore"):
            ga = unbroadcast(g * a / self.out, _shape(a)) if self.needs[0] else None
            gb = unbroadcast(g * b / self.out, _shape(b)) if self.needs[1] else None
        return ga, gb

    def backward_graph(self, g):
        a, b = self.inputs
        r = hypot(a, b)
        return to_inputs(self, g * a / r, g * b / r)


class Atan2(Function):
    """out = atan2(a, b), the angle of the point (b, a);  da = g·b/(a² + b²), db = −g·a/(a² + b²)
    (both 0 at the origin, as torch)."""

    def forward(self, a, b):
        self.a, self.b = a, b
        return np.arctan2(a, b)

    def backward(self, g):
        a, b = self.a, self.b
        r2 = a * a + b * b
        with np.errstate(divide="ignore", invalid="ignore"):
            scale = np.where(r2 == 0, 0, g / r2)
        ga = unbroadcast(scale * b, _shape(a)) if self.needs[0] else None
        gb = unbroadcast(-scale * a, _shape(b)) if self.needs[1] else None
        return ga, gb

    def backward_graph(self, g):
        a, b = self.inputs
        origin = np.asarray((self.a == 0) & (self.b == 0))
        scale = where(origin, 0.0, g / where(origin, 1.0, a * a + b * b))
        return to_inputs(self, scale * b, -scale * a)


class LogAddExp(Function):
    """out = ln(eᵃ + eᵇ) without overflow (``base`` 2: log₂(2ᵃ + 2ᵇ));  da = g / (1 + base^(b−a)),
    db = g / (1 + base^(a−b))."""

    def forward(self, a, b, base=np.e):
        self.a, self.b, self.base = a, b, base
        return np.logaddexp(a, b) if base == np.e else np.logaddexp2(a, b)

    def backward(self, g):
        a, b, power = self.a, self.b, (np.exp if self.base == np.e else np.exp2)
        with np.errstate(over="ignore", invalid="ignore"):
            ga = unbroadcast(g / (1 + power(b - a)), _shape(a)) if self.needs[0] else None
            gb = unbroadcast(g / (1 + power(a - b)), _shape(b)) if self.needs[1] else None
        return ga, gb

    def backward_graph(self, g):
        a, b = self.inputs
        k = 1.0 if self.base == np.e else np.log(2.0)  # base^x = e^(k·x)
        return to_inputs(self, g * ((a - b) * k).sigmoid(), g * ((b - a) * k).sigmoid())


def copysign(input, other):
    """|input| with the sign of ``other`` (a Tensor or number); integers become the default float."""
    return Copysign.apply(*_float_pair(input, other, "copysign"))


def hypot(input, other):
    """√(input² + other²) without overflow."""
    return Hypot.apply(*_float_pair(input, other, "hypot"))


def atan2(input, other):
    """The angle atan2(input, other) in (−π, π] of the point (other, input)."""
    return Atan2.apply(*_float_pair(input, other, "atan2"))


arctan2 = atan2


def logaddexp(input, other):
    """ln(e^input + e^other), computed without overflow."""
    return LogAddExp.apply(*_float_pair(input, other, "logaddexp"))


def logaddexp2(input, other):
    """log₂(2^input + 2^other), computed without overflow."""
    return LogAddExp.apply(*_float_pair(input, other, "logaddexp2"), base=2)


def float_power(input, exponent):
    """input ** exponent computed in float64, whatever the dtypes (the result is float64, as torch)."""
    if not isinstance(input, Tensor) and not isinstance(exponent, Tensor):
        raise TypeError("float_power: at least one of input and exponent must be a Tensor")
    a, b = (x.to(np.float64) if isinstance(x, Tensor) else float(x) for x in (input, exponent))
    return pow(a, b)


def lerp(input, end, weight):
    """input + weight·(end − input): linear interpolation, ``weight`` a number or a broadcast Tensor.
    d/dinput = 1 − weight, d/dend = weight, d/dweight = end − input."""
    if not isinstance(input, Tensor) or not isinstance(end, Tensor):
        raise TypeError(f"lerp: input and end must be Tensors, got {type(input).__name__} and {type(end).__name__}")
    if input.data.dtype.kind != "f" or end.data.dtype.kind != "f":
        raise TypeError(f"lerp: needs floating-point input and end, got {input.dtype} and {end.dtype}")
    return add(input, mul(weight, sub(end, input)))


def addcmul(input, tensor1, tensor2, *, value=1):
    """input + value·tensor1·tensor2 (broadcast). With all-integer tensors a float value is truncated, as torch."""
    product = mul(tensor1, tensor2)
    if value != 1:
        integer = product.data.dtype.kind in "iub" and (not isinstance(input, Tensor) or input.data.dtype.kind in "iub")
        product = mul(product, int(value) if integer else value)
    return add(input, product)


def addcdiv(input, tensor1, tensor2, *, value=1):
    """input + value·tensor1/tensor2 (broadcast); tensor1 and tensor2 may not both be integer tensors, as torch."""
    if all(isinstance(t, Tensor) and t.data.dtype.kind in "iub" for t in (tensor1, tensor2)):
        raise RuntimeError(f"addcdiv: integer division of tensor1 ({tensor1.dtype}) by tensor2 ({tensor2.dtype}) is "
                           "not supported, as in torch; convert one of them to a floating-point dtype")
    quotient = div(tensor1, tensor2)
    return add(input, quotient if value == 1 else mul(quotient, value))


def clamp_min(input, min):
    """max(input, min): clamp with a lower bound only."""
    return clamp(input, min=min)


def clamp_max(input, max):
    """min(input, max): clamp with an upper bound only."""
    return clamp(input, max=max)


# ----- bitwise and logical ops (outside the graph) -----------------------------------------------
def _bits(a, b, ufunc, op):
    """ufunc(a, b) on integer or bool operands (a Tensor and a Tensor or Python int/bool, either side),
    in torch's result dtype: promoted as arithmetic, a Python int weakly typed; floats are refused."""
    if not isinstance(a, Tensor) and not isinstance(b, Tensor):
        raise TypeError(f"{op}: at least one operand must be a Tensor, got {type(a).__name__} and {type(b).__name__}")
    if isinstance(a, Tensor) and isinstance(b, Tensor):
        dtype = result_type(a.data.dtype, b.data.dtype)
    else:
        t, n = (a, b) if isinstance(a, Tensor) else (b, a)
        if not isinstance(n, (int, np.integer)):
            raise TypeError(f"{op}: needs integer or bool operands, got {type(n).__name__}")
        dtype = scalar_result_type(t.data.dtype, int(n) if not isinstance(n, bool) else n)
    if dtype.kind not in "biu":
        raise TypeError(f"{op}: needs integer or bool operands, got {getattr(a, 'dtype', type(a).__name__)} "
                        f"and {getattr(b, 'dtype', type(b).__name__)}")
    x, y = (v.data if isinstance(v, Tensor) else v for v in (a, b))
    try:
        return Tensor(np.asarray(ufunc(x, y)).astype(dtype, copy=False))
    except ValueError:
        raise ValueError(f"{op}: shapes {np.shape(x)} and {np.shape(y)} are not broadcastable") from None


def bitwise_and(input, other):
    """input & other, bit by bit (integers), or logical and (bools)."""
    return _bits(input, other, np.bitwise_and, "bitwise_and")


def bitwise_or(input, other):
    """input | other, bit by bit."""
    return _bits(input, other, np.bitwise_or, "bitwise_or")


def bitwise_xor(input, other):
    """input ^ other, bit by bit."""
    return _bits(input, other, np.bitwise_xor, "bitwise_xor")


def bitwise_left_shift(input, other):
    """input << other: input·2^other in its integer dtype (bits shifted out are lost)."""
    return _bits(input, other, np.left_shift, "bitwise_left_shift")


def bitwise_right_shift(input, other):
    """input >> other: ⌊input / 2^other⌋ (an arithmetic shift: the sign is kept)."""
    return _bits(input, other, np.right_shift, "bitwise_right_shift")


def bitwise_not(input):
    """~input: every bit flipped (integers: −input − 1), or logical not (bools)."""
    if not isinstance(input, Tensor) or input.data.dtype.kind not in "biu":
        raise TypeError(f"bitwise_not: needs an integer or bool tensor, got {getattr(input, 'dtype', type(input).__name__)}")
    return Tensor(np.invert(input.data))


def _logical(ufunc, name):
    def op(input, other):
        if not isinstance(input, Tensor):
            raise TypeError(f"{name}: input must be a Tensor, got {type(input).__name__}")
        b = other.data if isinstance(other, Tensor) else other
        try:
            return Tensor(ufunc(input.data, b))
        except ValueError:
            raise ValueError(f"{name}: shapes {input.shape} and {np.shape(b)} are not broadcastable") from None

    op.__name__ = op.__qualname__ = name
    op.__doc__ = f"Elementwise {name.split('_')[1]} of the truth values (nonzero is True): a bool tensor."
    return op


logical_and = _logical(np.logical_and, "logical_and")
logical_or = _logical(np.logical_or, "logical_or")
logical_xor = _logical(np.logical_xor, "logical_xor")


def logical_not(input):
    """True where input is zero (False), as a bool tensor."""
    if not isinstance(input, Tensor):
        raise TypeError(f"logical_not: input must be a Tensor, got {type(input).__name__}")
    return Tensor(np.logical_not(input.data))
