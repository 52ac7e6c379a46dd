"""Activation modules over the functional ops [note 000, note 002, note 004].

Saturating ones (sigmoid, tanh) squash large inputs and their derivatives vanish there; the ReLU
family keeps a derivative of 1 for positive inputs; its leaky variants keep negative units alive.
``inplace`` is accepted for PyTorch compatibility and has no effect (chainrule ops never write in place).
"""
from .. import creation
from . import functional as F
from .module import Module, Parameter


class ReLU(Module):
    """max(x, 0)."""

    def __init__(self, inplace=False):
        super().__init__()

    def forward(self, x):
        """``F.relu(x)`` = max(x, 0) [note 000]. x of any shape; the output has its shape."""
        return F.relu(x)


class Sigmoid(Module):
    """1 / (1 + e^(−x))."""

    def forward(self, x):
        """``F.sigmoid(x)`` = 1 / (1 + e^(−x)). x of any shape; the output has its shape."""
        return F.sigmoid(x)


class Tanh(Module):
    """tanh x."""

    def forward(self, x):
        """``F.tanh(x)``. x of any shape; the output has its shape."""
        return F.tanh(x)


class LeakyReLU(Module):
    """x if x > 0 else negative_slope·x."""

    def __init__(self, negative_slope=0.01, inplace=False):
        super().__init__()
        self.negative_slope = negative_slope

    def forward(self, x):
        """``F.leaky_relu(x, negative_slope)``: x if x > 0 else negative_slope·x [note 000, note 002]. x of any shape;
        the output has its shape."""
        return F.leaky_relu(x, self.negative_slope)

    def extra_repr(self):
        return f"negative_slope={self.negative_slope}"


class PReLU(Module):
    """Leaky ReLU with a learnable slope, one (``num_parameters=1``) or one per channel, initialized to ``init``."""

    def __init__(self, num_parameters=1, init=0.25, dtype=None):
        super().__init__()
        self.num_parameters = num_parameters
        self.weight = Parameter(creation.full((num_parameters,), float(init), dtype=dtype))

    def forward(self, x):
        """``F.prelu(x, weight)``: x if x > 0 else a·x, a the learned slope (one per channel: dim 1 of x when
        num_parameters > 1) [note 002]. x of any shape; the output has its shape."""
        return F.prelu(x, self.weight)

    def extra_repr(self):
        return f"num_parameters={self.num_parameters}"


class RReLU(Module):
    """Randomized leaky ReLU: slope ~ U(lower, upper) per element in training, (lower + upper)/2 in eval."""

    def __init__(self, lower=1.0 / 8, upper=1.0 / 3, inplace=False):
        super().__init__()
        self.lower, self.upper = lower, upper

    def forward(self, x):
        """``F.rrelu(x, lower, upper, self.training)``: a random slope in training, the mean slope in eval [note 002]. x
        of any shape; the output has its shape."""
        return F.rrelu(x, self.lower, self.upper, self.training)

    def extra_repr(self):
        return f"lower={self.lower}, upper={self.upper}"


class ELU(Module):
    """x if x > 0 else α(eˣ − 1)."""

    def __init__(self, alpha=1.0, inplace=False):
        super().__init__()
        self.alpha = alpha

    def forward(self, x):
        """``F.elu(x, alpha)``: x if x > 0 else α(eˣ − 1) [note 002]. x of any shape; the output has its shape."""
        return F.elu(x, self.alpha)

    def extra_repr(self):
        return f"alpha={self.alpha}"


class Softplus(Module):
    """log(1 + e^(βx))/β."""

    def __init__(self, beta=1.0, threshold=20.0):
        super().__init__()
        self.beta, self.threshold = beta, threshold

    def forward(self, x):
        """``F.softplus(x, beta, threshold)``: log(1 + e^(βx))/β, x itself where βx > threshold. x of any shape; the
        output has its shape."""
        return F.softplus(x, self.beta, self.threshold)

    def extra_repr(self):
        return f"beta={self.beta}, threshold={self.threshold}"


class GELU(Module):
    """x·Φ(x) (``approximate='tanh'`` for the tanh approximation)."""

    def __init__(self, approximate="none"):
        super().__init__()
        self.approximate = approximate

    def forward(self, x):
        """``F.gelu(x, approximate)``: x·Φ(x), Φ the standard normal CDF. x of any shape; the output has its shape."""
        return F.gelu(x, self.approximate)

    def extra_repr(self):
        return f"approximate={self.approximate!r}"


class Softmax(Module):
    """Softmax along ``dim``."""

    def __init__(self, dim=None):
        super().__init__()
        self.dim = dim

    def forward(self, x):
        """``F.softmax(x, dim)``: e^(x_i) / Σ_j e^(x_j) along ``dim`` (each slice sums to 1). x of any shape; the output
        has its shape."""
        return F.softmax(x, self.dim)

    def extra_repr(self):
        return f"dim={self.dim}"


class LogSoftmax(Softmax):
    """log softmax along ``dim``."""

    def forward(self, x):
        """``F.log_softmax(x, dim)``: x_i − logsumexp(x) along ``dim``. x of any shape; the output has its shape."""
        return F.log_softmax(x, self.dim)


class _Elementwise(Module):
    """An activation with no arguments: ``fn`` applied to the input (``inplace`` accepted and ignored)."""

    fn = None

    def __init__(self, inplace=False):
        super().__init__()

    def forward(self, x):
        """The class's function applied to x (SiLU: x·σ(x), SELU, ReLU6, Hardsigmoid, Hardswish, Mish: see each class).
        x of any shape; the output has its shape."""
        return type(self).fn(x)


class SiLU(_Elementwise):
    """x·σ(x) (swish)."""

    fn = staticmethod(F.silu)


class SELU(_Elementwise):
    """λ·elu(x, α), self-normalizing (torch's α, λ)."""

    fn = staticmethod(F.selu)


class ReLU6(_Elementwise):
    """min(max(x, 0), 6)."""

    fn = staticmethod(F.relu6)


class Hardsigmoid(_Elementwise):
    """clip(x/6 + 1/2, 0, 1)."""

    fn = staticmethod(F.hardsigmoid)


class Hardswish(_Elementwise):
    """x·hardsigmoid(x)."""

    fn = staticmethod(F.hardswish)


class Mish(_Elementwise):
    """x·tanh(softplus(x))."""

    fn = staticmethod(F.mish)


class Softsign(Module):
    """x/(1 + |x|)."""

    def forward(self, x):
        """``F.softsign(x)`` = x / (1 + |x|). x of any shape; the output has its shape."""
        return F.softsign(x)


class LogSigmoid(Module):
    """log σ(x)."""

    def forward(self, x):
        """``F.logsigmoid(x)`` = log σ(x) = −softplus(−x). x of any shape; the output has its shape."""
        return F.logsigmoid(x)


class Tanhshrink(Module):
    """x − tanh x."""

    def forward(self, x):
        """``F.tanhshrink(x)`` = x − tanh x. x of any shape; the output has its shape."""
        return F.tanhshrink(x)


class CELU(Module):
    """x if x > 0 else α(e^(x/α) − 1)."""

    def __init__(self, alpha=1.0, inplace=False):
        super().__init__()
        self.alpha, self.inplace = alpha, inplace

    def forward(self, x):
        """``F.celu(x, alpha)``: x if x > 0 else α(e^(x/α) − 1). x of any shape; the output has its shape."""
        return F.celu(x, self.alpha)

    def extra_repr(self):
        return f"alpha={self.alpha}"


class Hardtanh(Module):
    """x clipped to [min_val, max_val]."""

    def __init__(self, min_val=-1.0, max_val=1.0, inplace=False):
        super().__init__()
        if max_val < min_val:
            raise ValueError(f"Hardtanh: max_val ({max_val}) must be greater than or equal to min_val ({min_val})")
        self.min_val, self.max_val, self.inplace = min_val, max_val, inplace

    def forward(self, x):
        """``F.hardtanh(x, min_val, max_val)``: x clipped to [min_val, max_val]. x of any shape; the output has its
        shape."""
        return F.hardtanh(x, self.min_val, self.max_val)

    def extra_repr(self):
        return f"min_val={self.min_val}, max_val={self.max_val}"


class Threshold(Module):
    """x where x > threshold, else value."""

    def __init__(self, threshold, value, inplace=False):
        super().__init__()
        self.threshold, self.value, self.inplace = threshold, value, inplace

    def forward(self, x):
        """``F.threshold(x, threshold, value)``: x where x > threshold, else value. x of any shape; the output has its
        shape."""
        return F.threshold(x, self.threshold, self.value)

    def extra_repr(self):
        return f"threshold={self.threshold}, value={self.value}"


class Softshrink(Module):
    """x − λ·sign(x) where |x| > λ, else 0."""

    def __init__(self, lambd=0.5):
        super().__init__()
        self.lambd = lambd

    def forward(self, x):
        """``F.softshrink(x, lambd)``: x − λ·sign(x) where |x| > λ, else 0. x of any shape; the output has its shape."""
        return F.softshrink(x, self.lambd)

    def extra_repr(self):
        return str(self.lambd)


class Hardshrink(Softshrink):
    """x where |x| > λ, else 0."""

    def forward(self, x):
        """``F.hardshrink(x, lambd)``: x where |x| > λ, else 0. x of any shape; the output has its shape."""
        return F.hardshrink(x, self.lambd)


class Softmin(Softmax):
    """softmax(−x) along ``dim``."""

    def forward(self, x):
        """``F.softmin(x, dim)`` = softmax(−x) along ``dim``. x of any shape; the output has its shape."""
        return F.softmin(x, self.dim)


class Softmax2d(Module):
    """Softmax over the channels of (N, C, H, W) or (C, H, W) at every position (dim −3)."""

    def forward(self, x):
        """Softmax over the channel dim (−3) of x, (N, C, H, W) or (C, H, W); the output has x's shape. Raises
        ValueError for other ndims."""
        if x.ndim not in (3, 4):
            raise ValueError(f"Softmax2d: expected a 3-D or 4-D input, got shape {x.shape}")
        return F.softmax(x, -3)


class GLU(Module):
    """a·σ(b) for the halves a, b of the input along ``dim``."""

    def __init__(self, dim=-1):
        super().__init__()
        self.dim = dim

    def forward(self, x):
        """``F.glu(x, dim)``: a·σ(b) for the halves a, b of x along ``dim`` (its size must be even); that dim halves in
        the output."""
        return F.glu(x, self.dim)

    def extra_repr(self):
        return f"dim={self.dim}"
