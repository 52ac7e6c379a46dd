"""Tensor: an ndarray, the gradient that backward puts in ``.grad``, and the Function that made it.

A tensor made by an op while grad mode is on and some input requires grad remembers that op in
``_ctx`` (PyTorch's ``grad_fn``): following ``_ctx.inputs`` back from a loss walks the whole graph.
"""
import numpy as np

from . import dtypes


def as_array(data, dtype=None, copy=False):
    """Convert ``data`` to an ndarray with PyTorch's rules: Python floats → the default float dtype,
    Python ints → int64, bools → bool; NumPy arrays and scalars keep their dtype. Only numbers: bool,
    integer and floating-point dtypes (not object or string arrays)."""
    if isinstance(data, Tensor):
        data = data.data
    if isinstance(data, (np.ndarray, np.generic)):
        arr = np.array(data, dtype=dtype, copy=copy) if (copy or dtype is not None) else np.asarray(data)
    else:
        try:
            arr = np.array(data, dtype=dtype)
        except ValueError as e:
            ragged = _ragged(data)
            raise ValueError(f"tensor: {ragged or e}") from None
        if dtype is None and arr.dtype.kind == "f":
            arr = arr.astype(dtypes.get_default_dtype(), copy=False)
        elif dtype is None and arr.dtype.kind in "iu":
            arr = arr.astype(np.int64, copy=False)
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"tensor: cannot make a tensor from data of type {type(data).__name__} with dtype {arr.dtype}: "
                        "only bool, integer and floating-point numbers are supported")
    return arr


def _ragged(data):
    """Where nested data is not rectangular, in words (None if it is): the first entry that does not fit
    the shape that the first entries give, as torch reports it."""
    shape, first = [], data
    while (n := _length(first)) is not None:
        shape.append(n)
        if not n:
            break
        first = first[0]
    misfit = _misfit(data, shape, 0)
    if misfit is None:
        return None
    dim, *lengths = misfit
    want, got = ("a number" if n is None else f"a sequence of length {n}" for n in lengths)
    return (f"ragged nested sequence: expected {want} at dim {dim}, got {got} "
            f"(the first entries give shape {tuple(shape)})")


def _misfit(data, shape, dim):
    """(dim, expected length, length) of the first entry, depth first, whose length is not ``shape[dim]``
    (None: a number), or None."""
    got, want = _length(data), shape[dim] if dim < len(shape) else None
    if got != want:
        return dim, want, got
    if got is None:
        return None
    entries = data if isinstance(data, (list, tuple)) else data[:1]  # an array's entries all have one shape
    return next((m for m in (_misfit(d, shape, dim + 1) for d in entries) if m), None)


def _length(data):
    """The length of one level of nested data (a list, tuple, array or Tensor); None for a number."""
    return len(data) if isinstance(data, (list, tuple)) or getattr(data, "ndim", 0) else None


class Tensor:
    """A multi-dimensional array that can record the ops applied to it and backpropagate through them.

    ``Tensor(data)`` shares memory with a NumPy array (like ``torch.as_tensor``); ``chainrule.tensor``
    copies (like ``torch.tensor``).
    """

    __slots__ = ("data", "_grad", "requires_grad", "_ctx", "_retains_grad", "_version", "_hooks", "__weakref__")
    __array_ufunc__ = None  # NumPy defers to our operators: ndarray + Tensor → Tensor.__radd__

    def __init__(self, data, dtype=None, requires_grad=False):
        self.data = as_array(data, None if dtype is None else dtypes.to_dtype(dtype))
        self._grad = None
        self._ctx = None
        self._retains_grad = False
        self._version = 0  # bumped by in-place ops, so a backward that needs the old value can tell
        self._hooks = None
        self.requires_grad = False
        if requires_grad:
            self.requires_grad_(True)

    # ----- properties and conversion -------------------------------------------------------------
    @property
    def shape(self):
        return self.data.shape

    @property
    def ndim(self):
        return self.data.ndim

    @property
    def dtype(self):
        return self.data.dtype

    @property
    def is_leaf(self):
        return self._ctx is None

    @property
    def grad_fn(self):
        return self._ctx

    @property
    def T(self):
        return shape_ops.permute(self, tuple(range(self.ndim - 1, -1, -1)))

    def size(self, dim=None):
        return self.data.shape if dim is None else self.data.shape[dim]

    def dim(self):
        return self.data.ndim

    def numel(self):
        return self.data.size

    def item(self):
        if self.data.size != 1:
            raise ValueError(f"item: only a tensor with one element can be converted, got shape {self.shape}")
        return self.data.item()

    def tolist(self):
        return self.data.tolist()

    def numpy(self):
        if self.requires_grad:
            raise RuntimeError("numpy: can't call numpy() on a tensor that requires grad; use tensor.detach().numpy()")
        return self.data

    def __array__(self, dtype=None, copy=None):
        """NumPy's protocol: ``np.asarray(t)`` shares memory; ``np.array(t, copy=True)`` copies."""
        if copy is False and dtype is not None and np.dtype(dtype) != self.data.dtype:
            raise ValueError(f"__array__: converting {self.dtype} to {np.dtype(dtype)} needs a copy, but copy=False")
        out = self.data if dtype is None else self.data.astype(dtype, copy=False)
        return out.copy() if copy and out is self.data else out

    def detach(self):
        """The same data, cut from the graph."""
        return Tensor(self.data)

    def clone(self):
        return arith.add(self, 0) if self.requires_grad else Tensor(self.data.copy())

    def to(self, dtype):
        """Convert to another dtype (differentiable between float dtypes)."""
        return shape_ops.cast(self, dtypes.to_dtype(dtype))

    astype = to

    def float(self):
        return self.to(dtypes.float32)

    def double(self):
        return self.to(dtypes.float64)

    def long(self):
        return self.to(dtypes.int64)

    def bool(self):
        return self.to(dtypes.bool)

    # ----- autograd -----------------------------------------------------------------------------
    @property
    def grad(self):
        """The gradient that backward accumulated here (None until then). Assignable, as in torch: None,
        or a Tensor of this tensor's shape and dtype."""
        return self._grad

    @grad.setter
    def grad(self, value):
        if value is not None:
            if not isinstance(value, Tensor):
                raise TypeError(f"grad: assigned grad must be a Tensor or None, got {type(value).__name__}")
            if value.shape != self.shape or value.dtype != self.dtype:
                raise RuntimeError(f"grad: assigned grad has shape {value.shape} and dtype {value.dtype}, but the "
                                   f"tensor has shape {self.shape} and dtype {self.dtype}; they must match")
        self._grad = value

    def requires_grad_(self, requires_grad=True):
        if requires_grad and self.data.dtype.kind not in "fc":
            raise RuntimeError(
                f"requires_grad_: only tensors of floating point dtype can require gradients, got {self.dtype}"
            )
        if not requires_grad and self._ctx is not None:
            raise RuntimeError("requires_grad_: you can only change requires_grad of leaf tensors; use detach()")
        self.requires_grad = requires_grad
        return self

    def register_hook(self, hook):
        """Call ``hook(grad)`` when this tensor's gradient has been computed in a backward pass; if it
        returns a Tensor, that replaces the gradient (for leaves, before it is accumulated into ``.grad``)."""
        if not self.requires_grad:
            raise RuntimeError("register_hook: cannot register a hook on a tensor that doesn't require gradient")
        if self._hooks is None:
            self._hooks = {}
        return hooks.add(self._hooks, hook)

    def retain_grad(self):
        """Keep ``.grad`` on this non-leaf tensor after backward (leaves always keep it)."""
        if not self.requires_grad:
            raise RuntimeError("retain_grad: can't retain_grad on a tensor that has requires_grad=False")
        self._retains_grad = True

    def backward(self, gradient=None, retain_graph=False):
        """Accumulate d(self)/d(leaf) into each leaf's ``.grad``. ``gradient`` (dL/dself) is needed
        unless self is a scalar. The graph is freed afterwards unless ``retain_graph=True``."""
        if not self.requires_grad:
            raise RuntimeError("backward: this tensor does not require grad and has no grad_fn")
        if gradient is None:
            if self.data.size != 1:
                raise RuntimeError(
                    f"backward: grad can be implicitly created only for scalar outputs, got shape {self.shape}; "
                    "pass gradient="
                )
            g = np.ones(self.shape, dtype=self.data.dtype)
        else:
            g = as_array(gradient)
            if g.shape != self.shape:
                raise ValueError(f"backward: gradient of shape {g.shape} does not match tensor of shape {self.shape}")
            g = g.astype(self.data.dtype)  # a copy: .grad must never alias the caller's array
        autograd.backward(self, g, retain_graph)

    # ----- in-place data ops (outside the graph) ------------------------------------------------
    def _check_inplace(self, op):
        """In-place ops are refused on tensors that are part of a recorded graph (their gradient would
        be silently wrong); on others they bump the version, so a graph that saved the old value fails
        loudly at backward."""
        if self.requires_grad and autograd.is_grad_enabled():
            kind = "leaf tensor that requires grad" if self._ctx is None else "tensor that is part of the graph"
            raise RuntimeError(
                f"{op}: a {kind} (shape {self.shape}) cannot be modified in-place while grad mode is on; "
                "wrap the update in chainrule.no_grad() or use an out-of-place op"
            )
        self._version += 1

    def zero_(self):
        self._check_inplace("zero_")
        self.data[...] = 0
        return self

    def fill_(self, value):
        self._check_inplace("fill_")
        self.data[...] = value
        return self

    def copy_(self, src):
        self._check_inplace("copy_")
        src = as_array(src)
        try:
            self.data[...] = src
        except ValueError:
            raise ValueError(f"copy_: source of shape {src.shape} cannot be copied into shape {self.shape}") from None
        return self

    def __setitem__(self, index, value):
        self._check_inplace("__setitem__")
        self.data[index.data if isinstance(index, Tensor) else index] = as_array(value)

    # ----- Python protocol ----------------------------------------------------------------------
    def __repr__(self):
        body = np.array2string(self.data, separator=", ", prefix="tensor(")
        extra = "" if self.data.dtype in (dtypes.get_default_dtype(), np.int64, np.bool_) else f", dtype={self.dtype}"
        if self._ctx is not None:
            extra += f", grad_fn=<{type(self._ctx).__name__}Backward>"
        elif self.requires_grad:
            extra += ", requires_grad=True"
        return f"tensor({body}{extra})"

    def __len__(self):
        if self.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.data.shape[0]

    def __iter__(self):
        return (self[i] for i in range(len(self)))

    def __bool__(self):
        if self.data.size != 1:
            raise RuntimeError(f"bool: a tensor with {self.data.size} elements is ambiguous")
        return bool(self.data)

    def __float__(self):
        return float(self.item())

    def __int__(self):
        return int(self.item())

    def __index__(self):
        if self.data.dtype.kind not in "iu" or self.data.size != 1:
            raise TypeError("only integer tensors of a single element can be used as an index")
        return int(self.data)

    __hash__ = object.__hash__

    # ----- arithmetic ---------------------------------------------------------------------------
    def __add__(self, other):
        return arith.add(self, other)

    def __radd__(self, other):
        return arith.add(other, self)

    def __sub__(self, other):
        return arith.sub(self, other)

    def __rsub__(self, other):
        return arith.sub(other, self)

    def __mul__(self, other):
        return arith.mul(self, other)

    def __rmul__(self, other):
        return arith.mul(other, self)

    def __truediv__(self, other):
        return arith.div(self, other)

    def __rtruediv__(self, other):
        return arith.div(other, self)

    def __pow__(self, other):
        return arith.pow(self, other)

    def __rpow__(self, other):
        return arith.pow(other, self)

    def __neg__(self):
        return arith.neg(self)

    def __abs__(self):
        return arith.abs(self)

    def __matmul__(self, other):
        return linalg.matmul(self, other)

    def __rmatmul__(self, other):
        return linalg.matmul(Tensor(other), self)

    # comparisons (bool results) and bitwise ops: outside the graph
    def _compare(self, other, ufunc):
        other = other.data if isinstance(other, Tensor) else other
        try:
            return Tensor(ufunc(self.data, other))
        except ValueError:
            raise ValueError(
                f"{ufunc.__name__}: shapes {self.shape} and {np.shape(other)} are not broadcastable"
            ) from None

    def __eq__(self, other):
        return self._compare(other, np.equal)

    def __ne__(self, other):
        return self._compare(other, np.not_equal)

    def __lt__(self, other):
        return self._compare(other, np.less)

    def __le__(self, other):
        return self._compare(other, np.less_equal)

    def __gt__(self, other):
        return self._compare(other, np.greater)

    def __ge__(self, other):
        return self._compare(other, np.greater_equal)

    def _bitwise(self, other, ufunc):
        """Bit by bit, with torch's result dtype: integers (and bools with integers) promote as in
        arithmetic, bool with bool stays bool; floating-point operands are refused, as in torch."""
        b = other.data if isinstance(other, Tensor) else other
        if isinstance(b, int):
            dtype = dtypes.scalar_result_type(self.data.dtype, b)
        else:
            b = np.asarray(b)
            dtype = dtypes.result_type(self.data.dtype, b.dtype)
        if dtype.kind not in "biu":
            raise TypeError(f"{ufunc.__name__}: needs integer or bool operands, got {self.dtype} and "
                            f"{np.asarray(b).dtype}")
        return self._compare(b, ufunc)

    def __and__(self, other):
        return self._bitwise(other, np.bitwise_and)

    def __or__(self, other):
        return self._bitwise(other, np.bitwise_or)

    def __xor__(self, other):
        return self._bitwise(other, np.bitwise_xor)

    __rand__, __ror__, __rxor__ = __and__, __or__, __xor__  # commutative

    def __invert__(self):
        if self.data.dtype.kind not in "biu":
            raise TypeError(f"bitwise_not: needs an integer or bool tensor, got {self.dtype}")
        return Tensor(np.invert(self.data))

    def __getitem__(self, index):
        return shape_ops.getitem(self, index)

    # ----- math methods -------------------------------------------------------------------------
    def add(self, other):
        return arith.add(self, other)

    def sub(self, other):
        return arith.sub(self, other)

    def mul(self, other):
        return arith.mul(self, other)

    def div(self, other):
        return arith.div(self, other)

    def pow(self, exponent):
        return arith.pow(self, exponent)

    def neg(self):
        return arith.neg(self)

    def exp(self):
        return arith.exp(self)

    def log(self):
        return arith.log(self)

    def sqrt(self):
        return arith.sqrt(self)

    def abs(self):
        return arith.abs(self)

    def sin(self):
        return arith.sin(self)

    def cos(self):
        return arith.cos(self)

    def tanh(self):
        return activation.tanh(self)

    def sigmoid(self):
        return activation.sigmoid(self)

    def relu(self):
        return activation.relu(self)

    def softmax(self, dim):
        return activation.softmax(self, dim)

    def log_softmax(self, dim):
        return activation.log_softmax(self, dim)

    def clamp(self, min=None, max=None):  # noqa: A002 - PyTorch's argument names
        return arith.clamp(self, min, max)

    clip = clamp

    def maximum(self, other):
        return arith.maximum(self, other)

    def minimum(self, other):
        return arith.minimum(self, other)

    def where(self, condition, other):
        return arith.where(condition, self, other)

    def matmul(self, other):
        return linalg.matmul(self, other)

    # ----- reductions ---------------------------------------------------------------------------
    def sum(self, dim=None, keepdim=False, *, dtype=None):
        return reduce.sum(self, dim, keepdim, dtype=dtype)

    def mean(self, dim=None, keepdim=False, *, dtype=None):
        return reduce.mean(self, dim, keepdim, dtype=dtype)

    def max(self, dim=None, keepdim=False):
        return reduce.max(self, dim, keepdim)

    def min(self, dim=None, keepdim=False):
        return reduce.min(self, dim, keepdim)

    def amax(self, dim=None, keepdim=False):
        return reduce.amax(self, dim, keepdim)

    def amin(self, dim=None, keepdim=False):
        return reduce.amin(self, dim, keepdim)

    def var(self, dim=None, unbiased=True, keepdim=False, *, correction=None):
        return reduce.var(self, dim, unbiased, keepdim, correction=correction)

    def std(self, dim=None, unbiased=True, keepdim=False, *, correction=None):
        return reduce.std(self, dim, unbiased, keepdim, correction=correction)

    def prod(self, dim=None, keepdim=False):
        return reduce.prod(self, dim, keepdim)

    def logsumexp(self, dim, keepdim=False):
        return reduce.logsumexp(self, dim, keepdim)

    def argmax(self, dim=None, keepdim=False):
        return reduce.argmax(self, dim, keepdim)

    def argmin(self, dim=None, keepdim=False):
        return reduce.argmin(self, dim, keepdim)

    # ----- shape --------------------------------------------------------------------------------
    def reshape(self, *shape):
        return shape_ops.reshape(self, *shape)

    view = reshape

    def flatten(self, start_dim=0, end_dim=-1):
        return shape_ops.flatten(self, start_dim, end_dim)

    def squeeze(self, dim=None):
        return shape_ops.squeeze(self, dim)

    def unsqueeze(self, dim):
        return shape_ops.unsqueeze(self, dim)

    def transpose(self, dim0, dim1):
        return shape_ops.transpose(self, dim0, dim1)

    def permute(self, *dims):
        return shape_ops.permute(self, *dims)

    def expand(self, *shape):
        return shape_ops.expand(self, *shape)

    broadcast_to = expand

    def expand_as(self, other):
        return shape_ops.expand(self, other.shape)

    def split(self, split_size_or_sections, dim=0):
        return shape_ops.split(self, split_size_or_sections, dim)

    def chunk(self, chunks, dim=0):
        return shape_ops.chunk(self, chunks, dim)


# The ops are imported after Tensor exists: they build Tensors, and Tensor's methods call them.
from . import autograd, hooks  # noqa: E402
from .ops import activation  # noqa: E402
from .ops import arithmetic as arith  # noqa: E402
from .ops import linalg  # noqa: E402
from .ops import reduce  # noqa: E402
from .ops import shape as shape_ops  # noqa: E402
