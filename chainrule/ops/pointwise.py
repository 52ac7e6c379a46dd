"""Elementwise math of one tensor: trigonometric and hyperbolic functions and their inverses, rounding,
logarithms and exponentials in other bases, the error function and its inverse, logit, xlogy, sinc,
and the tests for NaN and infinity.

Each differentiable op is a ``Unary`` Function: ``f`` gives the value, ``df(a, out)`` the derivative
from the input and the output, and the backward is ``g · df``; ``df_graph(a)`` is the same derivative
in recorded Tensor ops, so that the gradient can be differentiated again. Integer and bool inputs give the
default float dtype, as in PyTorch, except for the ops that keep integers (floor, sign, square, …).
erf, erfc and erfinv are computed in float64 with vectorized NumPy (W. J. Cody's rational
approximations; erfinv refined by Halley and Newton steps) and rounded to the input's dtype.
"""
import math

import numpy as np

from ..autograd import Function, constant, to_inputs, unbroadcast
from ..dtypes import get_default_dtype
from ..tensor import Tensor
from .arithmetic import _operand, _shape, mul, neg, promote, sign_array, where


def _tensor(x, op):
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}: expected a Tensor as input, got {type(x).__name__}")
    return x


def _float_input(x, op):
    """Math of integer and bool tensors gives the default float dtype, as in PyTorch."""
    x = _tensor(x, op)
    return x if x.data.dtype.kind == "f" else x.to(get_default_dtype())


def _number_input(x, op, what="an integer or floating-point"):
    """Ops that keep integers refuse bool tensors, as torch does (floor, round, abs, neg, …)."""
    x = _tensor(x, op)
    if x.data.dtype.kind == "b":
        raise TypeError(f"{op}: needs {what} tensor, got bool")
    return x


class Unary(Function):
    """out = f(a);  da = g · df(a, out). Subclasses give ``f`` and ``df`` (NumPy, elementwise), and
    ``df_graph(a)``: df of the input Tensor in recorded ops (for higher derivatives)."""

    def forward(self, a):
        with np.errstate(all="ignore"):  # outside the domain the value is NaN or ±inf, as in torch
            out = self.f(a)
        if self.recording:
            self.a, self.out = a, out
        return out

    def backward(self, g):
        with np.errstate(all="ignore"):
            return ((g * self.df(self.a, self.out)).astype(g.dtype, copy=False),)

    def backward_graph(self, g):
        return (g * self.df_graph(self.inputs[0]),)


class Tan(Unary):
    """out = tan a;  da = g·(1 + out²)."""

    f = staticmethod(np.tan)

    def df(self, a, out):
        return 1 + out * out

    def df_graph(self, a):
        t = a.tan()
        return 1 + t * t


class Asin(Unary):
    """out = arcsin a;  da = g / √(1 − a²)."""

    f = staticmethod(np.arcsin)

    def df(self, a, out):
        return 1 / np.sqrt(1 - a * a)

    def df_graph(self, a):
        return 1 / (1 - a * a).sqrt()


class Acos(Unary):
    """out = arccos a;  da = −g / √(1 − a²)."""

    f = staticmethod(np.arccos)

    def df(self, a, out):
        return -1 / np.sqrt(1 - a * a)

    def df_graph(self, a):
        return -1 / (1 - a * a).sqrt()


class Atan(Unary):
    """out = arctan a;  da = g / (1 + a²)."""

    f = staticmethod(np.arctan)

    def df(self, a, out):
        return 1 / (1 + a * a)

    def df_graph(self, a):
        return 1 / (1 + a * a)


class Sinh(Unary):
    """out = sinh a;  da = g·cosh a."""

    f = staticmethod(np.sinh)

    def df(self, a, out):
        return np.cosh(a)

    def df_graph(self, a):
        return a.cosh()


class Cosh(Unary):
    """out = cosh a;  da = g·sinh a."""

    f = staticmethod(np.cosh)

    def df(self, a, out):
        return np.sinh(a)

    def df_graph(self, a):
        return a.sinh()


class Asinh(Unary):
    """out = arsinh a;  da = g / √(a² + 1)."""

    f = staticmethod(np.arcsinh)

    def df(self, a, out):
        return 1 / np.sqrt(a * a + 1)

    def df_graph(self, a):
        return 1 / (a * a + 1).sqrt()


class Acosh(Unary):
    """out = arcosh a;  da = g / √(a² − 1)."""

    f = staticmethod(np.arccosh)

    def df(self, a, out):
        return 1 / np.sqrt(a * a - 1)

    def df_graph(self, a):
        return 1 / (a * a - 1).sqrt()


class Atanh(Unary):
    """out = artanh a;  da = g / (1 − a²)."""

    f = staticmethod(np.arctanh)

    def df(self, a, out):
        return 1 / (1 - a * a)

    def df_graph(self, a):
        return 1 / (1 - a * a)


class Step(Unary):
    """A piecewise-constant function (floor, ceil, trunc, sign): da = 0 everywhere, as torch."""

    def df(self, a, out):
        return np.zeros_like(a)

    def df_graph(self, a):
        return 0.0


class Floor(Step):
    """out = ⌊a⌋;  da = 0."""

    f = staticmethod(np.floor)


class Ceil(Step):
    """out = ⌈a⌉;  da = 0."""

    f = staticmethod(np.ceil)


class Trunc(Step):
    """out = a rounded toward zero;  da = 0."""

    f = staticmethod(np.trunc)


class Sign(Step):
    """out = −1, 0 or 1 by the sign of a (0 for NaN, as torch);  da = 0."""

    f = staticmethod(sign_array)


class Round(Function):
    """out = a rounded to ``decimals`` places, halves to even (as torch: rint(a·10ᵈ)/10ᵈ);  da = 0."""

    def forward(self, a, decimals=0):
        self.shape = a.shape
        return np.round(a, decimals)

    def backward(self, g):
        return (np.zeros(self.shape, g.dtype),)

    def backward_graph(self, g):
        return (g * 0,)


class Frac(Unary):
    """out = a − trunc(a);  da = g."""

    @staticmethod
    def f(a):
        return a - np.trunc(a)

    def df(self, a, out):
        return np.ones_like(a)

    def df_graph(self, a):
        return 1.0


class Rsqrt(Unary):
    """out = 1/√a;  da = −g·out³/2."""

    @staticmethod
    def f(a):
        return 1 / np.sqrt(a)

    def df(self, a, out):
        return -0.5 * out * out * out

    def df_graph(self, a):
        r = a.rsqrt()
        return -0.5 * r * r * r


class Reciprocal(Unary):
    """out = 1/a;  da = −g·out²."""

    @staticmethod
    def f(a):
        return 1 / a

    def df(self, a, out):
        return -out * out

    def df_graph(self, a):
        r = a.reciprocal()
        return -r * r


class Square(Unary):
    """out = a²;  da = 2·g·a."""

    @staticmethod
    def f(a):
        return a * a

    def df(self, a, out):
        return 2 * a

    def df_graph(self, a):
        return 2 * a


class Log2(Unary):
    """out = log₂ a;  da = g / (a·ln 2)."""

    f = staticmethod(np.log2)

    def df(self, a, out):
        return 1 / (a * math.log(2))

    def df_graph(self, a):
        return 1 / (a * math.log(2))


class Log10(Unary):
    """out = log₁₀ a;  da = g / (a·ln 10)."""

    f = staticmethod(np.log10)

    def df(self, a, out):
        return 1 / (a * math.log(10))

    def df_graph(self, a):
        return 1 / (a * math.log(10))


class Log1p(Unary):
    """out = ln(1 + a), exact for tiny a;  da = g / (1 + a)."""

    f = staticmethod(np.log1p)

    def df(self, a, out):
        return 1 / (1 + a)

    def df_graph(self, a):
        return 1 / (1 + a)


class Expm1(Unary):
    """out = eᵃ − 1, exact for tiny a;  da = g·(out + 1)."""

    f = staticmethod(np.expm1)

    def df(self, a, out):
        return out + 1

    def df_graph(self, a):
        return a.exp()


class Exp2(Unary):
    """out = 2ᵃ;  da = g·out·ln 2."""

    f = staticmethod(np.exp2)

    def df(self, a, out):
        return out * math.log(2)

    def df_graph(self, a):
        return a.exp2() * math.log(2)


class Sinc(Unary):
    """out = sin(πa)/(πa), 1 at a = 0;  da = g·(cos(πa) − out)/a, 0 at a = 0. At a = 0 the recorded
    derivative is −π²a/3 (sinc' to first order), so the second and third derivatives there come out right,
    −π²/3 and 0 (torch's masked formula gives 0 for the second)."""

    @staticmethod
    def f(a):
        pa = np.pi * np.where(a == 0, 1, a)
        return np.where(a == 0, 1, np.sin(pa) / pa).astype(a.dtype, copy=False)

    def df(self, a, out):
        return np.where(a == 0, 0, (np.cos(np.pi * a) - out) / np.where(a == 0, 1, a))

    def df_graph(self, a):
        zero = a.data == 0
        safe = where(zero, 1.0, a)  # no 0/0 in the branch not taken, nor in its derivative
        return where(zero, -math.pi**2 / 3 * a, ((math.pi * safe).cos() - safe.sinc()) / safe)


# ----- the error function: W. J. Cody, "Rational Chebyshev approximations for the error function",
# Math. Comp. 23 (1969), the coefficients of his CALERF (netlib specfun): relative error below 1e-15.
_ERF_A = (3.16112374387056560e00, 1.13864154151050156e02, 3.77485237685302021e02, 3.20937758913846947e03,
          1.85777706184603153e-1)
_ERF_B = (2.36012909523441209e01, 2.44024637934444173e02, 1.28261652607737228e03, 2.84423683343917062e03)
_ERFC_C = (5.64188496988670089e-1, 8.88314979438837594e00, 6.61191906371416295e01, 2.98635138197400131e02,
           8.81952221241769090e02, 1.71204761263407058e03, 2.05107837782607147e03, 1.23033935479799725e03,
           2.15311535474403846e-8)
_ERFC_D = (1.57449261107098347e01, 1.17693950891312499e02, 5.37181101862009858e02, 1.62138957456669019e03,
           3.29079923573345963e03, 4.36261909014324716e03, 3.43936767414372164e03, 1.23033935480374942e03)
_ERFC_P = (3.05326634961232344e-1, 3.60344899949804439e-1, 1.25781726111229246e-1, 1.60837851487422766e-2,
           6.58749161529837803e-4, 1.63153871373020978e-2)
_ERFC_Q = (2.56852019228982242e00, 1.87295284992346725e00, 5.27905102951428412e-1, 6.05183413124413191e-2,
           2.33520497626869185e-3)
_SPLIT = 0.46875  # Cody's first break point: below it erf's own series-like ratio, above it erfc's
_TWO_OVER_SQRT_PI = 2 / math.sqrt(math.pi)


def _ratio(z, top, bottom, n):
    """(…((top[n]·z + top[0])·z + top[1])·z …)/(…((z + bottom[0])·z + bottom[1])·z …), n steps: the
    numerator's and denominator's polynomials as Cody evaluates them."""
    num, den = top[-1] * z, z
    for i in range(n):
        num, den = (num + top[i]) * z, (den + bottom[i]) * z
    return num + top[n], den + bottom[n]


def _erf_small(x):
    """erf(x) for |x| ≤ 0.46875: x·P(x²)/Q(x²)."""
    num, den = _ratio(x * x, _ERF_A, _ERF_B, 3)
    return x * num / den


def _erfc_large(y):
    """erfc(y) for y ≥ 0.46875: e^(−y²)·R(y), R rational in y up to 4 and in 1/y² beyond; e^(−y²) split
    as e^(−s²)·e^(−(y−s)(y+s)) with s = y rounded down to 1/16, so that y² loses no digits."""
    num, den = _ratio(y, _ERFC_C, _ERFC_D, 7)
    middle = num / den
    z = 1 / (y * y)
    num, den = _ratio(z, _ERFC_P, _ERFC_Q, 4)
    tail = (1 / math.sqrt(math.pi) - z * num / den) / y
    s = np.trunc(y * 16) / 16
    return np.exp(-s * s) * np.exp(-(y - s) * (y + s)) * np.where(y <= 4, middle, tail)


def erf_array(x):
    """erf(x) = 2/√π ∫₀ˣ e^(−t²) dt of an array, elementwise in float64 (vectorized, no Python loop over
    elements); the result has x's floating dtype. The exact GELU's Φ(x) = (1 + erf(x/√2))/2 uses it."""
    x = np.asarray(x, dtype=np.float64)
    y = np.minimum(np.abs(x), 30.0)  # erfc(30) underflows to 0: no inf − inf below; NaN passes through
    large = 1 - _erfc_large(np.maximum(y, _SPLIT))
    return np.where(y <= _SPLIT, _erf_small(np.clip(x, -_SPLIT, _SPLIT)), np.copysign(large, x))


def erfc_array(x):
    """erfc(x) = 1 − erf(x), accurate where it is tiny (large x), elementwise in float64."""
    x = np.asarray(x, dtype=np.float64)
    y = np.minimum(np.abs(x), 30.0)
    large = _erfc_large(np.maximum(y, _SPLIT))
    return np.where(y <= _SPLIT, 1 - _erf_small(np.clip(x, -_SPLIT, _SPLIT)), np.where(x < 0, 2 - large, large))


# M. Giles, "Approximating the erfinv function" (GPU Computing Gems, 2011), the single-precision
# polynomials in w = −ln(1 − y²): a start within ~1e-7 (cruder beyond w = 16), which the steps refine.
_GILES_CENTRAL = (2.81022636e-08, 3.43273939e-07, -3.5233877e-06, -4.39150654e-06, 0.00021858087, -0.00125372503,
                  -0.00417768164, 0.246640727, 1.50140941)
_GILES_TAIL = (-0.000200214257, 0.000100950558, 0.00134934322, -0.00367342844, 0.00573950773, -0.0076224613,
               0.00943887047, 1.00167406, 2.83297682)


def _horner(coefficients, w):
    p = np.full_like(w, coefficients[0])
    for c in coefficients[1:]:
        p = p * w + c
    return p


def erfinv_array(y):
    """erfinv(y): the x in (−∞, ∞) with erf(x) = y, for y in [−1, 1] (±inf at ±1, NaN outside), float64.
    Giles' start, then four steps: Halley's on erf(x) = y where |y| < 1/2, and in the tails Newton's on
    ln erfc(|x|) = ln(1 − |y|) — nearly linear in x², and 1 − |y| is exact there, so no digits cancel."""
    y = np.asarray(y, dtype=np.float64)
    with np.errstate(all="ignore"):
        w = -np.log((1 - y) * (1 + y))
        x = y * np.where(w < 5, _horner(_GILES_CENTRAL, w - 2.5), _horner(_GILES_TAIL, np.sqrt(w) - 3))
        x = np.where(np.isfinite(x), x, 0)
        t = 1 - np.abs(y)
        tail = t < 0.5
        for _ in range(4):
            slope = _TWO_OVER_SQRT_PI * np.exp(-x * x)  # erf'(x)
            u = (erf_array(x) - y) / slope
            central = x - u / (1 + x * u)  # Halley: erf''(x) = −2x·erf'(x)
            c = erfc_array(np.abs(x))
            x = np.where(tail, np.copysign(np.abs(x) + (np.log(c) - np.log(t)) * c / slope, y), central)
        return np.where(np.abs(y) == 1, np.copysign(np.inf, y), np.where(np.abs(y) > 1, np.nan, x))


class Erf(Unary):
    """out = erf a = 2/√π ∫₀ᵃ e^(−t²) dt;  da = g·2/√π·e^(−a²)."""

    @staticmethod
    def f(a):
        return erf_array(a).astype(a.dtype, copy=False)

    def df(self, a, out):
        return _TWO_OVER_SQRT_PI * np.exp(-a * a)

    def df_graph(self, a):
        return _TWO_OVER_SQRT_PI * (-a * a).exp()


class Erfc(Unary):
    """out = erfc a = 1 − erf a;  da = −g·2/√π·e^(−a²)."""

    @staticmethod
    def f(a):
        return erfc_array(a).astype(a.dtype, copy=False)

    def df(self, a, out):
        return -_TWO_OVER_SQRT_PI * np.exp(-a * a)

    def df_graph(self, a):
        return -_TWO_OVER_SQRT_PI * (-a * a).exp()


class Erfinv(Unary):
    """out = erf⁻¹ a;  da = g·√π/2·e^(out²)."""

    @staticmethod
    def f(a):
        return erfinv_array(a).astype(a.dtype, copy=False)

    def df(self, a, out):
        return math.sqrt(math.pi) / 2 * np.exp(out * out)

    def df_graph(self, a):
        out = a.erfinv()
        return math.sqrt(math.pi) / 2 * (out * out).exp()


class Logit(Function):
    """out = ln(z/(1 − z)), z = a clamped to [eps, 1 − eps] when eps is given;
    da = g / (a(1 − a)) — 0 where a was clamped (outside [eps, 1 − eps]), NaN outside [0, 1] without eps."""

    def forward(self, a, eps=None):
        z = a if eps is None else np.clip(a, eps, 1 - eps)
        self.a, self.eps = a, eps
        with np.errstate(all="ignore"):
            return np.log(z / (1 - z))

    def backward(self, g):
        a, eps = self.a, self.eps
        with np.errstate(all="ignore"):
            grad = g / (a * (1 - a))
        if eps is None:
            return (np.where((a < 0) | (a > 1), np.nan, grad).astype(g.dtype, copy=False),)
        return (np.where((a < eps) | (a > 1 - eps), 0, grad).astype(g.dtype, copy=False),)

    def backward_graph(self, g):
        a, eps = self.inputs[0], self.eps
        if eps is None:
            outside = (self.a < 0) | (self.a > 1)
            return (where(outside, np.nan, g / (a * (1 - a))),)
        clamped = (self.a < eps) | (self.a > 1 - eps)
        safe = where(clamped, 0.5, a)  # no 1/0 in the branch not taken, nor in its derivative
        return (where(clamped, 0.0, g / (safe * (1 - safe))),)


class Xlogy(Function):
    """out = x·ln y, and 0 where x = 0 (unless y is NaN);  dx = xlogy(g, y), 0 where x = 0 and y ≤ 0
    (torch's rule: the one-sided derivative at the edge of the domain), dy = g·x/y."""

    def forward(self, x, y):
        self.x, self.y = x, y
        with np.errstate(all="ignore"):
            return np.where((x == 0) & ~np.isnan(y), 0, x * np.log(y)).astype(np.result_type(x, y), copy=False)

    def backward(self, g):
        x, y = self.x, self.y
        gx = gy = None
        with np.errstate(all="ignore"):
            if self.needs[0]:
                gx = np.where(((g == 0) & ~np.isnan(y)) | ((x == 0) & (y <= 0)), 0, g * np.log(y))
                gx = unbroadcast(gx, _shape(x))
            if self.needs[1]:
                gy = unbroadcast(g * x / y, _shape(y))
        return gx, gy

    def backward_graph(self, g):
        x, y = self.inputs
        gx = where((self.x == 0) & (self.y <= 0), 0.0, Xlogy.apply(g, y)) if self.needs[0] else None
        return to_inputs(self, gx, g * x / y if self.needs[1] else None)


class NanToNum(Function):
    """out = a with NaN → nan, +inf → posinf, −inf → neginf (default: 0 and the dtype's largest finite
    values);  da = g where a is finite, else 0."""

    def forward(self, a, nan=0.0, posinf=None, neginf=None):
        self.finite = np.isfinite(a)
        return np.nan_to_num(a, nan=nan, posinf=posinf, neginf=neginf)

    def backward(self, g):
        return (np.where(self.finite, g, 0).astype(g.dtype, copy=False),)

    def backward_graph(self, g):
        return (g * constant(self.finite, g),)


def _math(cls, name):
    """chainrule.<name>(input): the Function ``cls`` of a float tensor (integers become the default float)."""

    def op(input):
        return cls.apply(_float_input(input, name))

    op.__name__ = op.__qualname__ = name
    op.__doc__ = cls.__doc__
    return op


tan = _math(Tan, "tan")
asin = arcsin = _math(Asin, "asin")
acos = arccos = _math(Acos, "acos")
atan = arctan = _math(Atan, "atan")
sinh = _math(Sinh, "sinh")
cosh = _math(Cosh, "cosh")
asinh = arcsinh = _math(Asinh, "asinh")
acosh = arccosh = _math(Acosh, "acosh")
atanh = arctanh = _math(Atanh, "atanh")
rsqrt = _math(Rsqrt, "rsqrt")
reciprocal = _math(Reciprocal, "reciprocal")
log2 = _math(Log2, "log2")
log10 = _math(Log10, "log10")
log1p = _math(Log1p, "log1p")
expm1 = _math(Expm1, "expm1")
exp2 = _math(Exp2, "exp2")
erf = _math(Erf, "erf")
erfc = _math(Erfc, "erfc")
erfinv = _math(Erfinv, "erfinv")
sinc = _math(Sinc, "sinc")


def _rounding(cls, name):
    """floor, ceil, trunc: integer tensors come back unchanged (a copy), as in torch; bool is refused."""

    def op(input):
        x = _number_input(input, name)
        return cls.apply(x) if x.data.dtype.kind == "f" else Tensor(x.data.copy())

    op.__name__ = op.__qualname__ = name
    op.__doc__ = cls.__doc__
    return op


floor = _rounding(Floor, "floor")
ceil = _rounding(Ceil, "ceil")
trunc = fix = _rounding(Trunc, "trunc")


def round(input, *, decimals=0):
    """Round half to even to ``decimals`` decimal places (negative: to tens, hundreds, …); da = 0.
    Integer tensors come back unchanged when decimals = 0; torch refuses them otherwise."""
    x = _number_input(input, "round")
    if not isinstance(decimals, int) or isinstance(decimals, bool):
        raise TypeError(f"round: decimals must be an int, got {type(decimals).__name__}")
    if x.data.dtype.kind != "f":
        if decimals:
            raise TypeError(f"round: decimals={decimals} needs a floating-point tensor, got {x.dtype}")
        return Tensor(x.data.copy())
    return Round.apply(x, decimals=decimals)


def frac(input):
    """a − trunc(a), with a's sign: frac(−1.25) = −0.25;  da = g. Floating-point tensors only, as torch."""
    x = _tensor(input, "frac")
    if x.data.dtype.kind != "f":
        raise TypeError(f"frac: needs a floating-point tensor, got {x.dtype}")
    return Frac.apply(x)


def sign(input):
    """−1, 0 or 1 (0 for NaN), in the input's dtype (bool stays bool);  da = 0."""
    x = _tensor(input, "sign")
    return Sign.apply(x) if x.data.dtype.kind == "f" else Tensor(np.sign(x.data) if x.data.dtype.kind != "b" else x.data.copy())


sgn = sign  # torch.sgn is x/|x| for complex tensors; chainrule has none, and for real ones it is sign


def square(input):
    """a², keeping integer dtypes (bool becomes int64, as torch);  da = 2·g·a."""
    x = _tensor(input, "square")
    if x.data.dtype.kind == "b":
        x = x.to(np.int64)
    return Square.apply(x)


def positive(input):
    """+a: the input itself, as torch (no copy); bool is refused."""
    return _number_input(input, "positive", "a number")


def negative(input):
    """−a (torch.neg); bool is refused, as torch."""
    return neg(_number_input(input, "negative", "a number"))


def deg2rad(input):
    """a·π/180 (integers become the default float)."""
    return mul(_float_input(input, "deg2rad"), math.pi / 180)


def rad2deg(input):
    """a·180/π (integers become the default float)."""
    return mul(_float_input(input, "rad2deg"), 180 / math.pi)


def logit(input, eps=None):
    """ln(z/(1 − z)), the inverse of the sigmoid; with ``eps``, z = input clamped to [eps, 1 − eps]."""
    x = _float_input(input, "logit")
    if eps is not None and not isinstance(eps, (int, float)):
        raise TypeError(f"logit: eps must be a number or None, got {type(eps).__name__}")
    return Logit.apply(x, eps=None if eps is None or eps < 0 else float(eps))  # torch: eps < 0 means none


def xlogy(input, other):
    """input·ln(other), 0 where input = 0 (so 0·ln 0 = 0) unless other is NaN; either may be a number.
    Integers become the default float."""
    if not isinstance(input, Tensor) and not isinstance(other, Tensor):
        raise TypeError("xlogy: at least one of input and other must be a Tensor")
    x, y = promote(_operand(input), _operand(other))
    x, y = (v.to(get_default_dtype()) if isinstance(v, Tensor) and v.data.dtype.kind != "f" else v for v in (x, y))
    if not isinstance(x, Tensor):
        x = Tensor(np.asarray(x, dtype=y.data.dtype))
    if not isinstance(y, Tensor):
        y = Tensor(np.asarray(y, dtype=x.data.dtype))
    return Xlogy.apply(x, y)


def nan_to_num(input, nan=0.0, posinf=None, neginf=None):
    """NaN → ``nan``, +inf → ``posinf``, −inf → ``neginf`` (None: the dtype's largest / smallest finite
    value); integer and bool tensors come back unchanged (a copy);  da = g where the input was finite."""
    x = _tensor(input, "nan_to_num")
    if x.data.dtype.kind != "f":
        return Tensor(x.data.copy())
    return NanToNum.apply(x, nan=nan, posinf=posinf, neginf=neginf)


def _predicate(test, name, doc):
    def op(input):
        x = _tensor(input, name)
        return Tensor(test(x.data))

    op.__name__ = op.__qualname__ = name
    op.__doc__ = doc
    return op


isnan = _predicate(np.isnan, "isnan", "True where the element is NaN (a bool tensor, outside the graph).")
isinf = _predicate(np.isinf, "isinf", "True where the element is +inf or −inf.")
isposinf = _predicate(lambda a: np.isinf(a) & (a > 0), "isposinf", "True where the element is +inf.")
isneginf = _predicate(lambda a: np.isinf(a) & (a < 0), "isneginf", "True where the element is −inf.")
isfinite = _predicate(np.isfinite, "isfinite", "True where the element is neither NaN nor ±inf.")
isreal = _predicate(lambda a: np.ones(a.shape, dtype=bool), "isreal",
                    "True everywhere: chainrule's tensors are real (torch: False where a complex element has an "
                    "imaginary part).")


def heaviside(input, values):
    """The step function: 0 where input < 0, ``values`` where input = 0, 1 where input > 0. ``values``: a
    Tensor of input's dtype, broadcast. Not differentiable (torch has no derivative for it): the result is
    outside the graph."""
    x = _tensor(input, "heaviside")
    if not isinstance(values, Tensor):
        raise TypeError(f"heaviside: values must be a Tensor, got {type(values).__name__}")
    if values.data.dtype != x.data.dtype:
        raise TypeError(f"heaviside: input and values must have one dtype, got {x.dtype} and {values.dtype}")
    a, v = x.data, values.data
    try:
        out = np.where(a == 0, v, (a > 0).astype(a.dtype))
    except ValueError:
        raise ValueError(f"heaviside: shapes {x.shape} and {values.shape} are not broadcastable") from None
    return Tensor(out.astype(a.dtype, copy=False))

