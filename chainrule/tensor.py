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
        """The shape, a tuple of ints (NumPy's ``shape``; torch's ``torch.Size``)."""
        return self.data.shape

    @property
    def ndim(self):
        """The number of dimensions (``len(self.shape)``)."""
        return self.data.ndim

    @property
    def dtype(self):
        """The element type, a NumPy dtype (``chainrule.float32`` is ``numpy.float32``'s dtype)."""
        return self.data.dtype

    @property
    def is_leaf(self):
        """True for a tensor no recorded op made (created by the user, or made with grad mode off or from inputs that
        require no grad); ``backward`` fills ``.grad`` on the leaves only."""
        return self._ctx is None

    @property
    def grad_fn(self):
        """The Function node (the ``ctx``) that made this tensor, or None for a leaf. ``grad_fn.inputs`` leads back
        through the graph."""
        return self._ctx

    @property
    def T(self):
        """The dimensions reversed: ``permute(ndim-1, …, 0)``; for a matrix, its transpose. Differentiable."""
        return shape_ops.permute(self, tuple(range(self.ndim - 1, -1, -1)))

    def size(self, dim=None):
        """The shape (a tuple) without ``dim``; with ``dim`` (an int, negative counts from the end), that dimension's
        length. Raises IndexError for a dim out of range."""
        return self.data.shape if dim is None else self.data.shape[dim]

    def dim(self):
        """The number of dimensions, as ``ndim``."""
        return self.data.ndim

    def numel(self):
        """The number of elements: the product of the shape (1 for a 0-d tensor)."""
        return self.data.size

    def item(self):
        """The single element as a Python number. Raises ValueError if the tensor has more than one element."""
        if self.data.size != 1:
            raise ValueError(f"item: only a tensor with one element can be converted, got shape {self.shape}")
        return self.data.item()

    def tolist(self):
        """The data as nested Python lists of Python numbers (a number for a 0-d tensor)."""
        return self.data.tolist()

    def numpy(self, *, force=False):
        """The data as an ndarray, sharing memory; ``force=True`` returns a copy, even of a tensor that
        requires grad."""
        if force:
            return self.data.copy()
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
        """A copy of the data; differentiable (the gradient flows back to ``self``) when ``self`` requires grad."""
        return arith.add(self, 0) if self.requires_grad else Tensor(self.data.copy())

    def to(self, *args, dtype=None, device=None, non_blocking=False, copy=False):
        """Convert to another dtype (differentiable between float dtypes), as torch's three forms:
        ``to(dtype)``, ``to(device=None, dtype=None)`` and ``to(other)`` (other's dtype). The device can
        only be the CPU; ``non_blocking`` is accepted and has no effect. Returns ``self`` when nothing
        changes, unless ``copy=True``."""
        if len(args) > 2:
            raise TypeError(f"to: takes at most 2 positional arguments (device, dtype), got {len(args)}")
        for arg in args:
            if isinstance(arg, Tensor):
                dtype = arg.dtype
            elif isinstance(arg, dtypes.device) or (isinstance(arg, str) and not dtypes.is_dtype_name(arg)):
                device = arg
            elif isinstance(arg, bool):  # torch's to(dtype, non_blocking, copy) positional form
                raise TypeError("to: pass non_blocking and copy as keywords")
            else:
                dtype = arg
        dtypes.check_device(device, "to")
        out = self if dtype is None else shape_ops.cast(self, dtypes.to_dtype(dtype))
        return out.clone() if copy and out is self else out

    def astype(self, dtype):
        """NumPy's spelling of ``to(dtype)``: the tensor cast to ``dtype``."""
        return self.to(dtype)

    def type(self, dtype=None, non_blocking=False):
        """Without an argument: the type name, 'chainrule.FloatTensor' as torch's 'torch.FloatTensor';
        with a dtype (or a type name such as 'chainrule.DoubleTensor'): the tensor cast to it."""
        if dtype is None:
            return "chainrule." + dtypes.TENSOR_TYPE_NAMES[self.data.dtype]
        if isinstance(dtype, str) and dtype.endswith("Tensor"):
            dtype = dtypes.from_type_name(dtype)
        return self.to(dtype)

    def float(self):
        """``to(chainrule.float32)``."""
        return self.to(dtypes.float32)

    def double(self):
        """``to(chainrule.float64)``."""
        return self.to(dtypes.float64)

    def half(self):
        """``to(chainrule.float16)``."""
        return self.to(dtypes.float16)

    def long(self):
        """``to(chainrule.int64)``."""
        return self.to(dtypes.int64)

    def int(self):
        """``to(chainrule.int32)``."""
        return self.to(dtypes.int32)

    def short(self):
        """``to(chainrule.int16)``."""
        return self.to(dtypes.int16)

    def char(self):
        """``to(chainrule.int8)``."""
        return self.to(dtypes.int8)

    def byte(self):
        """``to(chainrule.uint8)``."""
        return self.to(dtypes.uint8)

    def bool(self):
        """``to(chainrule.bool)``."""
        return self.to(dtypes.bool)

    # devices: chainrule computes on the CPU only; these let device-agnostic torch code run unchanged
    @property
    def device(self):
        """Always ``chainrule.device('cpu')``: chainrule computes on the CPU (NumPy)."""
        return dtypes.cpu

    @property
    def is_cuda(self):
        """Always False: there is no CUDA device."""
        return False

    def cpu(self):
        """``self``: every tensor already lives on the CPU."""
        return self

    def cuda(self, device=None, non_blocking=False):
        """Always raises RuntimeError: chainrule has no CUDA device (use ``.cpu()`` or ``.to('cpu')``)."""
        raise RuntimeError("cuda: chainrule runs on the CPU only (NumPy); there is no CUDA device — use .cpu() "
                           "or .to('cpu'), or leave the tensor where it is")

    # memory layout: no chainrule op depends on strides (view and reshape work on any layout, NumPy
    # copies where it must), so every tensor behaves as torch's contiguous tensors do
    def element_size(self):
        """Bytes per element."""
        return self.data.itemsize

    @property
    def itemsize(self):
        """Bytes per element, as ``element_size()``."""
        return self.data.itemsize

    @property
    def nbytes(self):
        """Bytes held by the data: ``numel() * itemsize``."""
        return self.data.nbytes

    def is_floating_point(self):
        """True for a float dtype (float16, float32, float64)."""
        return self.data.dtype.kind == "f"

    def is_contiguous(self, memory_format=None):
        """Always True: no chainrule op depends on strides, so every tensor behaves as torch's contiguous ones."""
        return True

    def contiguous(self, memory_format=None):
        """``self`` (see ``is_contiguous``)."""
        return self

    def data_ptr(self):
        """The address of the first element."""
        return self.data.__array_interface__["data"][0]

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
        """Set ``requires_grad`` in place and return ``self``. Raises RuntimeError for ``True`` on a non-float tensor,
        and for ``False`` on a non-leaf (use ``detach()``)."""
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

    def backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None):
        """Accumulate d(self)/d(leaf) into each leaf's ``.grad``. ``gradient`` (dL/dself, a Tensor or array of
        self's shape) is needed unless self is a scalar. The graph is freed afterwards unless ``retain_graph``
        (default: ``create_graph``). ``create_graph=True`` records the backward as ops: ``.grad`` then has a graph
        of its own and can be differentiated again. ``inputs`` (a Tensor or sequence): accumulate into those
        tensors' ``.grad`` only (they may be non-leaves). Raises RuntimeError when self does not require grad,
        when a non-scalar gets no ``gradient``, or when it has the wrong shape."""
        if not self.requires_grad:
            raise RuntimeError("backward: this tensor does not require grad and has no grad_fn")
        (g,) = autograd.seed_gradients([self], [gradient], create_graph, op="backward")
        retain = create_graph if retain_graph is None else retain_graph
        if inputs is None:
            autograd.backward(self, g, retain, create_graph)
            return
        inputs = [inputs] if isinstance(inputs, Tensor) else list(inputs)
        if not inputs or not all(isinstance(x, Tensor) and x.requires_grad for x in inputs):
            raise RuntimeError("backward: inputs must be a non-empty sequence of Tensors that require grad")
        found = {id(x): None for x in inputs}
        autograd.backward(self, g, retain, create_graph, inputs=found)
        for x in {id(x): x for x in inputs}.values():
            gx = found[id(x)]
            if gx is not None:
                gx = gx if create_graph else Tensor(gx.copy())
                x.grad = gx if x.grad is None else x.grad + gx

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
        """self ← 0, in place, outside the graph; returns self. Raises RuntimeError on a tensor in a recorded graph (see
        ``_check_inplace``)."""
        self._check_inplace("zero_")
        self.data[...] = 0
        return self

    def fill_(self, value):
        """self ← ``value`` (a number) everywhere, in place, outside the graph; returns self. Raises RuntimeError on a
        tensor in a recorded graph."""
        self._check_inplace("fill_")
        self.data[...] = value
        return self

    def copy_(self, src):
        """self ← ``src`` (a Tensor, array or nested list broadcastable to self's shape; cast to self's dtype), in
        place, outside the graph; returns self. Raises ValueError when the shapes don't broadcast, RuntimeError on a
        tensor in a recorded graph."""
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

    # ----- in-place math, scatter and random fills (tensor basics group) --------------------------
    # Each is the out-of-place op computed outside the graph and written into self's array, with
    # torch's rules: the result must keep self's shape (broadcast only the other operand) and be
    # castable to self's dtype by category (bool < integer < float: no float result in an int tensor).
    def _write(self, op, result):
        if result.shape != self.shape:
            raise RuntimeError(f"{op}: output with shape {self.shape} doesn't match the broadcast shape {result.shape}")
        category = {"b": 0, "i": 1, "u": 1, "f": 2}
        if category[result.dtype.kind] > category[self.data.dtype.kind]:
            raise RuntimeError(f"{op}: result type {result.dtype} can't be cast to the desired output type {self.dtype}")
        self._check_inplace(op)
        self.data[...] = result
        return self

    def _inplace(self, op, fn, *others):
        """self ← fn(self, *others), the operands taken outside the graph."""
        if autograd.is_grad_enabled() and any(isinstance(o, Tensor) and o.requires_grad for o in others):
            raise RuntimeError(f"{op}: an operand requires grad; in-place ops are not recorded in the graph — "
                               "use the out-of-place op, or wrap the update in chainrule.no_grad()")
        with autograd.no_grad():
            result = fn(Tensor(self.data), *(o.detach() if isinstance(o, Tensor) else o for o in others))
        return self._write(op, result.data)

    def _scaled(self, op, other, alpha):
        if alpha == 1:
            return other
        if self.data.dtype.kind in "biu" and isinstance(alpha, float):
            raise RuntimeError(f"{op}: for integral input tensors, argument alpha must not be a floating point number")
        return arith.mul(other, alpha) if isinstance(other, Tensor) else other * alpha

    def add_(self, other, *, alpha=1):
        """self ← self + alpha·other, in place (``other`` broadcast to self's shape); returns self. Raises RuntimeError
        when the result's shape or dtype category doesn't fit self, or an operand is in a recorded graph."""
        return self._inplace("add_", arith.add, self._scaled("add_", other, alpha))

    def sub_(self, other, *, alpha=1):
        """self ← self − alpha·other, in place; returns self. Raises as ``add_``."""
        return self._inplace("sub_", arith.sub, self._scaled("sub_", other, alpha))

    def mul_(self, other):
        """self ← self · other, in place; returns self. Raises as ``add_``."""
        return self._inplace("mul_", arith.mul, other)

    def div_(self, other, *, rounding_mode=None):
        """self ← self / other; ``rounding_mode`` 'trunc' rounds the quotient toward zero, 'floor' down."""
        if rounding_mode is None:
            return self._inplace("div_", arith.div, other)
        if rounding_mode not in ("trunc", "floor"):
            raise ValueError(f"div_: rounding_mode must be None, 'trunc' or 'floor', got {rounding_mode!r}")
        b = other.data if isinstance(other, Tensor) else other
        dtype = (dtypes.scalar_result_type(self.data.dtype, b) if isinstance(b, (int, float))
                 else dtypes.result_type(self.data.dtype, np.asarray(b).dtype))
        a, b = self.data.astype(dtype), np.asarray(b, dtype=dtype)
        if dtype.kind in "iu" and np.any(b == 0):
            raise ZeroDivisionError("div_: integer division by zero")
        if rounding_mode == "floor":
            quotient = np.floor_divide(a, b)
        elif dtype.kind == "f":
            quotient = np.trunc(a / b)
        else:  # exact integer truncation: |a| // |b| with the sign of a·b
            quotient = np.abs(a) // np.abs(b) * np.sign(a) * np.sign(b)
        return self._write("div_", np.asarray(quotient, dtype=dtype))

    def pow_(self, exponent):
        """self ← self ** exponent, in place; returns self. Raises as ``add_``."""
        return self._inplace("pow_", arith.pow, exponent)

    def clamp_(self, min=None, max=None):  # noqa: A002 - PyTorch's argument names
        """self ← clamp(self, min, max), in place; returns self (``clip_`` is the same). Raises as ``add_``."""
        return self._inplace("clamp_", lambda x: arith.clamp(x, min, max))

    clip_ = clamp_

    def exp_(self):
        """self ← exp(self), in place; returns self. Raises RuntimeError on an integer tensor (a float result) or one in
        a recorded graph."""
        return self._inplace("exp_", arith.exp)

    def log_(self):
        """self ← log(self), in place; returns self. Raises as ``exp_``."""
        return self._inplace("log_", arith.log)

    def sqrt_(self):
        """self ← sqrt(self), in place; returns self. Raises as ``exp_``."""
        return self._inplace("sqrt_", arith.sqrt)

    def abs_(self):
        """self ← |self|, in place; returns self."""
        return self._inplace("abs_", arith.abs)

    def neg_(self):
        """self ← −self, in place; returns self."""
        return self._inplace("neg_", arith.neg)

    def sigmoid_(self):
        """self ← σ(self) = 1 / (1 + e^(−self)), in place; returns self. Raises as ``exp_``."""
        return self._inplace("sigmoid_", activation.sigmoid)

    def tanh_(self):
        """self ← tanh(self), in place; returns self. Raises as ``exp_``."""
        return self._inplace("tanh_", activation.tanh)

    def relu_(self):
        """self ← max(self, 0), in place; returns self."""
        return self._inplace("relu_", activation.relu)

    def masked_fill_(self, mask, value):
        """self[mask] ← value, ``mask`` a bool tensor broadcastable to self's shape, ``value`` a number
        or a 0-d tensor."""
        mask = mask.data if isinstance(mask, Tensor) else np.asarray(mask)
        if mask.dtype != np.bool_:
            raise RuntimeError(f"masked_fill_: only supports boolean masks, but got mask with dtype {mask.dtype}")
        value = self._fill_value("masked_fill_", value)
        try:
            mask = np.broadcast_to(mask, self.shape)
        except ValueError:
            raise RuntimeError(f"masked_fill_: mask of shape {mask.shape} cannot be broadcast to the tensor's "
                               f"shape {self.shape}") from None
        self._check_inplace("masked_fill_")
        self.data[mask] = value
        return self

    def _fill_value(self, op, value):
        if isinstance(value, Tensor):
            if value.ndim:
                raise RuntimeError(f"{op}: only supports a 0-dimensional value tensor, but got tensor with "
                                   f"{value.ndim} dimension(s)")
            value = value.data
        if self.data.dtype.kind == "b" and np.asarray(value).dtype.kind != "b":
            value = np.asarray(value) != 0
        return value

    def _index_array(self, op, index, dim):
        """``index`` as an int64 ndarray, ``dim`` in range, with torch's errors."""
        index = index.data if isinstance(index, Tensor) else np.asarray(index)
        if index.dtype != np.int64:
            raise RuntimeError(f"{op}: expected dtype int64 for index, got {index.dtype}")
        dim = shape_ops._dim(dim, self.shape, op)
        size = self.shape[dim] if self.ndim else 1
        if index.size and (index.min() < 0 or index.max() >= size):
            bad = index.min() if index.min() < 0 else index.max()
            raise IndexError(f"{op}: index {bad} is out of bounds for dimension {dim} with size {size}")
        return index, dim

    def _scatter_positions(self, op, dim, index, src):
        """Where scatter writes: self[..., index[i, j, k], ...] (at ``dim``) for every position (i, j, k)
        of ``index``; and the part of ``src`` it writes there (src[:index.shape])."""
        index, dim = self._index_array(op, index, dim)
        if index.ndim != self.ndim:
            raise RuntimeError(f"{op}: index of shape {index.shape} must have as many dimensions as the tensor "
                               f"of shape {self.shape}")
        if any(n > s for d, (n, s) in enumerate(zip(index.shape, self.shape)) if d != dim):
            raise RuntimeError(f"{op}: index of shape {index.shape} is larger than the tensor's shape {self.shape} "
                               f"apart from dimension {dim}")
        if isinstance(src, Tensor):
            if src.dtype != self.dtype:
                raise RuntimeError(f"{op}: expected self.dtype to be equal to src.dtype, got {self.dtype} and "
                                   f"{src.dtype}")
            if src.ndim != index.ndim or any(n > s for n, s in zip(index.shape, src.shape)):
                raise RuntimeError(f"{op}: index of shape {index.shape} is larger than src of shape {src.shape}")
            src = src.data[tuple(slice(0, n) for n in index.shape)]
        positions = list(np.indices(index.shape, sparse=True))
        positions[dim] = index
        return tuple(positions), src

    def scatter_(self, dim, index, src=None, *, value=None, reduce=None):
        """self[..., index[i, j], ...] ← src[i, j] along ``dim`` (or ← ``value``); ``reduce`` 'add' or
        'multiply' combines with what is there instead (repeated indices then all count)."""
        if (src is None) == (value is None):
            raise TypeError("scatter_: give exactly one of src (a tensor or number) and value")
        src = value if src is None else src
        positions, src = self._scatter_positions("scatter_", dim, index, src)
        if reduce not in (None, "add", "multiply"):
            raise RuntimeError(f"scatter_: reduce must be None, 'add' or 'multiply', got {reduce!r}")
        self._check_inplace("scatter_")
        if reduce is None:
            self.data[positions] = src
        else:
            (np.add if reduce == "add" else np.multiply).at(self.data, positions, src)
        return self

    def scatter_add_(self, dim, index, src):
        """self[..., index[i, j], ...] += src[i, j] along ``dim``, repeated indices accumulating."""
        positions, src = self._scatter_positions("scatter_add_", dim, index, src)
        self._check_inplace("scatter_add_")
        np.add.at(self.data, positions, src)
        return self

    def index_add_(self, dim, index, source, *, alpha=1):
        """self[..., index[i], ...] += alpha·source[..., i, ...] along ``dim`` (index 1-D)."""
        index, dim = self._index_array("index_add_", index, dim)
        source = source if isinstance(source, Tensor) else Tensor(source)
        want = self.shape[:dim] + (index.size,) + self.shape[dim + 1:]
        if index.ndim > 1 or source.shape != want:
            raise RuntimeError(f"index_add_: source of shape {source.shape} must have shape {want} for an index "
                               f"of {index.size} entries into shape {self.shape} at dimension {dim}")
        if source.dtype != self.dtype:
            raise RuntimeError(f"index_add_: self ({self.dtype}) and source ({source.dtype}) must have the same "
                               "scalar type")
        self._check_inplace("index_add_")
        np.add.at(np.moveaxis(self.data, dim, 0), index.reshape(-1), np.moveaxis(source.data, dim, 0) * alpha)
        return self

    def index_fill_(self, dim, index, value):
        """self[..., index[i], ...] ← value along ``dim``."""
        index, dim = self._index_array("index_fill_", index, dim)
        value = self._fill_value("index_fill_", value)
        self._check_inplace("index_fill_")
        np.moveaxis(self.data, dim, 0)[index.reshape(-1)] = value
        return self

    def _random_fill(self, op, draws, floating=True):
        if floating and self.data.dtype.kind != "f":
            raise TypeError(f"{op}: needs a floating-point tensor, got {self.dtype}")
        self._check_inplace(op)
        self.data[...] = draws
        return self

    def uniform_(self, from_=0.0, to=1.0, *, generator=None):
        """Fill with draws uniform on [from_, to)."""
        if from_ > to:
            raise RuntimeError(f"uniform_: expects from <= to, but got from={from_} > to={to}")
        return self._random_fill("uniform_", random.rng(generator).uniform(from_, to, self.shape))

    def normal_(self, mean=0.0, std=1.0, *, generator=None):
        """Fill with draws from N(mean, std²)."""
        if std < 0:
            raise RuntimeError(f"normal_: expects std >= 0.0, but found std {std}")
        return self._random_fill("normal_", random.rng(generator).normal(mean, std, self.shape))

    def exponential_(self, lambd=1.0, *, generator=None):
        """Fill with draws from the exponential distribution of rate λ (mean 1/λ)."""
        if lambd <= 0:
            raise RuntimeError(f"exponential_: expects lambd > 0.0, but found lambd={lambd}")
        return self._random_fill("exponential_", random.rng(generator).exponential(1 / lambd, self.shape))

    def bernoulli_(self, p=0.5, *, generator=None):
        """Fill with 1 (probability p) or 0; ``p`` a number or a tensor broadcastable to self."""
        p = p.data if isinstance(p, Tensor) else np.asarray(p, dtype=np.float64)
        if np.any((p < 0) | (p > 1)):
            raise RuntimeError("bernoulli_: expects 0 <= p <= 1")
        return self._random_fill("bernoulli_", random.rng(generator).random(self.shape) < p, floating=False)

    def random_(self, from_=0, to=None, *, generator=None):
        """Fill with integers uniform on [from_, to); ``random_(to)`` is [0, to); ``random_()`` is
        [0, 2^mantissa] for floats (every integer exactly representable) and [0, max] for integers."""
        if to is None and from_ != 0:
            from_, to = 0, from_
        if to is None:
            kind = self.data.dtype.kind
            to = (2 ** (np.finfo(self.dtype).nmant + 1) + 1 if kind == "f" else
                  2 if kind == "b" else int(np.iinfo(self.dtype).max) + 1)
        if from_ >= to:
            raise RuntimeError(f"random_: expects 'from' to be less than 'to', but got from={from_} >= to={to}")
        return self._random_fill("random_", random.rng(generator).integers(from_, to, self.shape), floating=False)

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
        """Tensor method of ``chainrule.add(self, other)``."""
        return arith.add(self, other)

    def sub(self, other):
        """Tensor method of ``chainrule.sub(self, other)``."""
        return arith.sub(self, other)

    def mul(self, other):
        """Tensor method of ``chainrule.mul(self, other)``."""
        return arith.mul(self, other)

    def div(self, other, *, rounding_mode=None):
        """Tensor method of ``chainrule.div(self, other, rounding_mode=None)``."""
        return arith.div(self, other, rounding_mode=rounding_mode)

    def pow(self, exponent):
        """Tensor method of ``chainrule.pow(self, exponent)``."""
        return arith.pow(self, exponent)

    def neg(self):
        """Tensor method of ``chainrule.neg(self)``."""
        return arith.neg(self)

    def exp(self):
        """Tensor method of ``chainrule.exp(self)``."""
        return arith.exp(self)

    def log(self):
        """Tensor method of ``chainrule.log(self)``."""
        return arith.log(self)

    def sqrt(self):
        """Tensor method of ``chainrule.sqrt(self)``."""
        return arith.sqrt(self)

    def abs(self):
        """Tensor method of ``chainrule.abs(self)``."""
        return arith.abs(self)

    def sin(self):
        """Tensor method of ``chainrule.sin(self)``."""
        return arith.sin(self)

    def cos(self):
        """Tensor method of ``chainrule.cos(self)``."""
        return arith.cos(self)

    def tanh(self):
        """Tensor method of ``chainrule.tanh(self)``."""
        return activation.tanh(self)

    def sigmoid(self):
        """Tensor method of ``chainrule.sigmoid(self)``."""
        return activation.sigmoid(self)

    def relu(self):
        """Tensor method of ``chainrule.relu(self)``."""
        return activation.relu(self)

    def softmax(self, dim):
        """Tensor method of ``chainrule.softmax(self, dim)``."""
        return activation.softmax(self, dim)

    def log_softmax(self, dim):
        """Tensor method of ``chainrule.log_softmax(self, dim)``."""
        return activation.log_softmax(self, dim)

    def clamp(self, min=None, max=None):  # noqa: A002 - PyTorch's argument names
        """Tensor method of ``chainrule.clamp(self, min, max)``: each entry limited to [min, max] (either may be None);
        ``clip`` is the same."""
        return arith.clamp(self, min, max)

    clip = clamp

    def maximum(self, other):
        """Tensor method of ``chainrule.maximum(self, other)``."""
        return arith.maximum(self, other)

    def minimum(self, other):
        """Tensor method of ``chainrule.minimum(self, other)``."""
        return arith.minimum(self, other)

    def where(self, condition, other):
        """Tensor method of ``chainrule.where(condition, self, other)``: ``self`` where ``condition`` holds, else
        ``other``."""
        return arith.where(condition, self, other)

    def matmul(self, other):
        """Tensor method of ``chainrule.matmul(self, other)``: also ``self @ other``."""
        return linalg.matmul(self, other)

    # ----- reductions (ops/reduce.py; axis= is another name for dim=, as in torch) -------------
    def sum(self, dim=None, keepdim=False, *, dtype=None, axis=None):
        """Tensor method of ``chainrule.sum(self, dim=None, keepdim=False, *, dtype=None, axis=None)``."""
        return reduce.sum(self, dim, keepdim, dtype=dtype, axis=axis)

    def mean(self, dim=None, keepdim=False, *, dtype=None, axis=None):
        """Tensor method of ``chainrule.mean(self, dim=None, keepdim=False, *, dtype=None, axis=None)``."""
        return reduce.mean(self, dim, keepdim, dtype=dtype, axis=axis)

    def nansum(self, dim=None, keepdim=False, *, dtype=None, axis=None):
        """Tensor method of ``chainrule.nansum(self, dim=None, keepdim=False, *, dtype=None, axis=None)``."""
        return reduce.nansum(self, dim, keepdim, dtype=dtype, axis=axis)

    def nanmean(self, dim=None, keepdim=False, *, dtype=None, axis=None):
        """Tensor method of ``chainrule.nanmean(self, dim=None, keepdim=False, *, dtype=None, axis=None)``."""
        return reduce.nanmean(self, dim, keepdim, dtype=dtype, axis=axis)

    def max(self, dim=None, keepdim=False, *, axis=None):
        """Tensor method of ``chainrule.max(self, dim=None, keepdim=False, *, axis=None)``: the maximum without dim;
        with dim, the (values, indices) pair."""
        return reduce.max(self, dim, keepdim, axis=axis)

    def min(self, dim=None, keepdim=False, *, axis=None):
        """Tensor method of ``chainrule.min(self, dim=None, keepdim=False, *, axis=None)``: the minimum without dim;
        with dim, the (values, indices) pair."""
        return reduce.min(self, dim, keepdim, axis=axis)

    def amax(self, dim=None, keepdim=False, *, axis=None):
        """Tensor method of ``chainrule.amax(self, dim=None, keepdim=False, *, axis=None)``."""
        return reduce.amax(self, dim, keepdim, axis=axis)

    def amin(self, dim=None, keepdim=False, *, axis=None):
        """Tensor method of ``chainrule.amin(self, dim=None, keepdim=False, *, axis=None)``."""
        return reduce.amin(self, dim, keepdim, axis=axis)

    def aminmax(self, *, dim=None, keepdim=False, axis=None):
        """Tensor method of ``chainrule.aminmax(self, *, dim=None, keepdim=False, axis=None)``."""
        return reduce.aminmax(self, dim=dim, keepdim=keepdim, axis=axis)

    def var(self, dim=None, unbiased=None, keepdim=False, *, correction=None, axis=None):
        """Tensor method of ``chainrule.var(self, dim=None, unbiased=None, keepdim=False, *, correction=None,
        axis=None)``."""
        return reduce.var(self, dim, unbiased, keepdim, correction=correction, axis=axis)

    def std(self, dim=None, unbiased=None, keepdim=False, *, correction=None, axis=None):
        """Tensor method of ``chainrule.std(self, dim=None, unbiased=None, keepdim=False, *, correction=None,
        axis=None)``."""
        return reduce.std(self, dim, unbiased, keepdim, correction=correction, axis=axis)

    def prod(self, dim=None, keepdim=False, *, dtype=None, axis=None):
        """Tensor method of ``chainrule.prod(self, dim=None, keepdim=False, *, dtype=None, axis=None)``."""
        return reduce.prod(self, dim, keepdim, dtype=dtype, axis=axis)

    def logsumexp(self, dim=None, keepdim=False, *, axis=None):
        """Tensor method of ``chainrule.logsumexp(self, dim=None, keepdim=False, *, axis=None)``."""
        return reduce.logsumexp(self, dim, keepdim, axis=axis)

    def argmax(self, dim=None, keepdim=False, *, axis=None):
        """Tensor method of ``chainrule.argmax(self, dim=None, keepdim=False, *, axis=None)``."""
        return reduce.argmax(self, dim, keepdim, axis=axis)

    def argmin(self, dim=None, keepdim=False, *, axis=None):
        """Tensor method of ``chainrule.argmin(self, dim=None, keepdim=False, *, axis=None)``."""
        return reduce.argmin(self, dim, keepdim, axis=axis)

    def all(self, dim=None, keepdim=False, *, axis=None):
        """Tensor method of ``chainrule.all(self, dim=None, keepdim=False, *, axis=None)``."""
        return reduce.all(self, dim, keepdim, axis=axis)

    def any(self, dim=None, keepdim=False, *, axis=None):
        """Tensor method of ``chainrule.any(self, dim=None, keepdim=False, *, axis=None)``."""
        return reduce.any(self, dim, keepdim, axis=axis)

    def count_nonzero(self, dim=None, *, axis=None):
        """Tensor method of ``chainrule.count_nonzero(self, dim=None, *, axis=None)``."""
        return reduce.count_nonzero(self, dim, axis=axis)

    def norm(self, p="fro", dim=None, keepdim=False, dtype=None):
        """Tensor method of ``chainrule.norm(self, p='fro', dim=None, keepdim=False, dtype=None)``."""
        return reduce.norm(self, p, dim, keepdim, dtype)

    def isclose(self, other, rtol=1e-05, atol=1e-08, equal_nan=False):
        """Tensor method of ``chainrule.isclose(self, other, rtol=1e-05, atol=1e-08, equal_nan=False)``."""
        return reduce.isclose(self, other, rtol, atol, equal_nan)

    def allclose(self, other, rtol=1e-05, atol=1e-08, equal_nan=False):
        """Tensor method of ``chainrule.allclose(self, other, rtol=1e-05, atol=1e-08, equal_nan=False)``."""
        return reduce.allclose(self, other, rtol, atol, equal_nan)

    def equal(self, other):
        """Tensor method of ``chainrule.equal(self, other)``."""
        return reduce.equal(self, other)

    # ----- shape --------------------------------------------------------------------------------
    def reshape(self, *shape):
        """Tensor method of ``chainrule.reshape(self, *shape)``: the same entries in ``shape`` (one entry may be −1)."""
        return shape_ops.reshape(self, *shape)

    def view(self, *shape):
        """``view(*shape)``: ``reshape``. ``view(dtype)``: the same bytes read as another dtype (not
        differentiable); with a different element size the last dimension scales by the size ratio, as
        torch."""
        if len(shape) == 1 and not isinstance(shape[0], (int, np.integer, tuple, list)):
            return self._view_dtype(dtypes.to_dtype(shape[0]))
        return shape_ops.reshape(self, *shape)

    def _view_dtype(self, dtype):
        if dtype == self.data.dtype:
            return self
        old, new = self.data.itemsize, dtype.itemsize
        if old != new:
            if self.ndim == 0:
                raise RuntimeError(f"view: a 0-d tensor cannot be viewed as {dtype} from {self.dtype} "
                                   "(different element sizes)")
            if new > old and (self.shape[-1] * old) % new:
                raise RuntimeError(f"view: the last dimension ({self.shape[-1]} × {old} bytes) must be a multiple "
                                   f"of {new} bytes to view {self.dtype} as {dtype}")
        return Tensor(np.ascontiguousarray(self.data).view(dtype))

    def flatten(self, start_dim=0, end_dim=-1):
        """Tensor method of ``chainrule.flatten(self, start_dim=0, end_dim=-1)``."""
        return shape_ops.flatten(self, start_dim, end_dim)

    def squeeze(self, dim=None):
        """Tensor method of ``chainrule.squeeze(self, dim=None)``."""
        return shape_ops.squeeze(self, dim)

    def unsqueeze(self, dim):
        """Tensor method of ``chainrule.unsqueeze(self, dim)``."""
        return shape_ops.unsqueeze(self, dim)

    def transpose(self, dim0, dim1):
        """Tensor method of ``chainrule.transpose(self, dim0, dim1)``."""
        return shape_ops.transpose(self, dim0, dim1)

    def sum_to_size(self, *size):
        """Tensor method of ``ops.shape.sum_to_size(self, *size)``: self summed down to ``size`` (the adjoint of
        ``expand``). Raises RuntimeError when self's shape does not broadcast from ``size``."""
        return shape_ops.sum_to_size(self, *size)

    def permute(self, *dims):
        """Tensor method of ``chainrule.permute(self, *dims)``."""
        return shape_ops.permute(self, *dims)

    def expand(self, *shape):
        """Tensor method of ``ops.shape.expand(self, *shape)``: self broadcast to ``shape`` (−1 keeps a dim; new dims
        lead); the gradient sums over the broadcast dims. ``broadcast_to`` is the same. Raises when a non-1 dim differs.
        """
        return shape_ops.expand(self, *shape)

    broadcast_to = expand

    def expand_as(self, other):
        """``expand(other.shape)``."""
        return shape_ops.expand(self, other.shape)

    def split(self, split_size_or_sections, dim=0):
        """Tensor method of ``chainrule.split(self, split_size_or_sections, dim=0)``."""
        return shape_ops.split(self, split_size_or_sections, dim)

    def chunk(self, chunks, dim=0):
        """Tensor method of ``chainrule.chunk(self, chunks, dim=0)``."""
        return shape_ops.chunk(self, chunks, dim)

    # ----- shape: flips, repeats, diagonals, windows, splits (ops/shape.py) ----------------------
    def view_as(self, other):
        """``reshape(other.shape)``. As torch's view it shares the data where NumPy can; unlike torch it
        never refuses a non-contiguous tensor (it copies)."""
        return shape_ops.reshape(self, other.shape)

    def t(self):
        """Tensor method of ``chainrule.t(self)``."""
        return shape_ops.t(self)

    @property
    def mT(self):
        """The transpose of the last two dims (a batch of matrices transposed); ``mH`` is the same, as the tensors are
        real."""
        return shape_ops.matrix_transpose(self)

    mH = mT  # the conjugate transpose: the transpose, as chainrule's tensors are real

    @property
    def H(self):
        """The transpose of a matrix (a 0-d tensor is returned as is). Raises RuntimeError for other ndims (use ``mH``).
        """
        if self.ndim not in (0, 2):
            raise RuntimeError(f"H: only supported on matrices (2-D tensors), got shape {self.shape}; use mH")
        return shape_ops.t(self)

    def flip(self, *dims):
        """Tensor method of ``chainrule.flip(self, *dims)``."""
        return shape_ops.flip(self, shape_ops._shape_arg(dims))

    def fliplr(self):
        """Tensor method of ``chainrule.fliplr(self)``."""
        return shape_ops.fliplr(self)

    def flipud(self):
        """Tensor method of ``chainrule.flipud(self)``."""
        return shape_ops.flipud(self)

    def roll(self, shifts, dims=None):
        """Tensor method of ``chainrule.roll(self, shifts, dims=None)``."""
        return shape_ops.roll(self, shifts, dims)

    def rot90(self, k=1, dims=(0, 1)):
        """Tensor method of ``chainrule.rot90(self, k=1, dims=(0, 1))``."""
        return shape_ops.rot90(self, k, dims)

    def repeat(self, *sizes):
        """Tensor method of ``ops.shape.repeat(self, *sizes)``: self tiled ``sizes[i]`` times along dim i; out.shape[i]
        = sizes[i]·shape[i] (extra sizes add leading dims). Raises when len(sizes) < ndim."""
        return shape_ops.repeat(self, *sizes)

    def tile(self, *dims):
        """Tensor method of ``chainrule.tile(self, dims)``."""
        return shape_ops.tile(self, shape_ops._shape_arg(dims))

    def repeat_interleave(self, repeats, dim=None, *, output_size=None):
        """Tensor method of ``chainrule.repeat_interleave(self, repeats, dim=None, *, output_size=None)``."""
        return shape_ops.repeat_interleave(self, repeats, dim, output_size=output_size)

    def tril(self, diagonal=0):
        """Tensor method of ``chainrule.tril(self, diagonal=0)``."""
        return shape_ops.tril(self, diagonal)

    def triu(self, diagonal=0):
        """Tensor method of ``chainrule.triu(self, diagonal=0)``."""
        return shape_ops.triu(self, diagonal)

    def diag(self, diagonal=0):
        """Tensor method of ``chainrule.diag(self, diagonal=0)``."""
        return shape_ops.diag(self, diagonal)

    def diagonal(self, offset=0, dim1=0, dim2=1):
        """Tensor method of ``chainrule.diagonal(self, offset=0, dim1=0, dim2=1)``."""
        return shape_ops.diagonal(self, offset, dim1, dim2)

    def diag_embed(self, offset=0, dim1=-2, dim2=-1):
        """Tensor method of ``chainrule.diag_embed(self, offset=0, dim1=-2, dim2=-1)``."""
        return shape_ops.diag_embed(self, offset, dim1, dim2)

    def trace(self):
        """Tensor method of ``chainrule.trace(self)``."""
        return shape_ops.trace(self)

    def unflatten(self, dim, sizes):
        """Tensor method of ``chainrule.unflatten(self, dim, sizes)``."""
        return shape_ops.unflatten(self, dim, sizes)

    def movedim(self, source, destination):
        """Tensor method of ``chainrule.movedim(self, source, destination)``: ``moveaxis`` is the same."""
        return shape_ops.movedim(self, source, destination)

    moveaxis = movedim

    def swapaxes(self, axis0, axis1):
        """Tensor method of ``chainrule.swapaxes(self, axis0, axis1)``: ``transpose(axis0, axis1)``."""
        return shape_ops.transpose(self, axis0, axis1)

    def swapdims(self, dim0, dim1):
        """Tensor method of ``chainrule.swapdims(self, dim0, dim1)``: ``transpose(dim0, dim1)``."""
        return shape_ops.transpose(self, dim0, dim1)

    def narrow(self, dim, start, length):
        """Tensor method of ``chainrule.narrow(self, dim, start, length)``."""
        return shape_ops.narrow(self, dim, start, length)

    def narrow_copy(self, dim, start, length):
        """Tensor method of ``chainrule.narrow_copy(self, dim, start, length)``."""
        return shape_ops.narrow_copy(self, dim, start, length)

    def unfold(self, dimension, size, step):
        """Tensor method of ``ops.shape.unfold(self, dimension, size, step)``: the sliding windows x[w·step : w·step +
        size] along ``dimension``, which becomes the (n − size) // step + 1 windows; a new last dim holds each window's
        ``size`` entries."""
        return shape_ops.unfold(self, dimension, size, step)

    def unbind(self, dim=0):
        """Tensor method of ``chainrule.unbind(self, dim=0)``."""
        return shape_ops.unbind(self, dim)

    def tensor_split(self, indices_or_sections, dim=0):
        """Tensor method of ``chainrule.tensor_split(self, indices_or_sections, dim=0)``."""
        return shape_ops.tensor_split(self, indices_or_sections, dim)

    def hsplit(self, indices_or_sections):
        """Tensor method of ``chainrule.hsplit(self, indices_or_sections)``."""
        return shape_ops.hsplit(self, indices_or_sections)

    def vsplit(self, indices_or_sections):
        """Tensor method of ``chainrule.vsplit(self, indices_or_sections)``."""
        return shape_ops.vsplit(self, indices_or_sections)

    def dsplit(self, indices_or_sections):
        """Tensor method of ``chainrule.dsplit(self, indices_or_sections)``."""
        return shape_ops.dsplit(self, indices_or_sections)


# The ops are imported after Tensor exists: they build Tensors, and Tensor's methods call them.
from . import autograd, hooks, random  # noqa: E402
from .ops import activation  # noqa: E402
from .ops import arithmetic as arith  # noqa: E402
from .ops import linalg  # noqa: E402
from .ops import reduce  # noqa: E402
from .ops import shape as shape_ops  # noqa: E402

# ----- linear algebra (ops/linalg.py): x.mm(y) is mm(x, y) -----
Tensor.mm, Tensor.bmm, Tensor.mv, Tensor.dot, Tensor.vdot = linalg.mm, linalg.bmm, linalg.mv, linalg.dot, linalg.vdot
Tensor.inner, Tensor.outer, Tensor.ger, Tensor.kron = linalg.inner, linalg.outer, linalg.ger, linalg.kron
Tensor.cross, Tensor.matrix_power = linalg.cross, linalg.matrix_power
Tensor.addmm, Tensor.addmv, Tensor.addr, Tensor.baddbmm = linalg.addmm, linalg.addmv, linalg.addr, linalg.baddbmm
Tensor.det, Tensor.logdet, Tensor.slogdet, Tensor.inverse = linalg.det, linalg.logdet, linalg.slogdet, linalg.inverse
Tensor.pinverse, Tensor.cholesky = linalg.pinverse, linalg.cholesky_legacy
Tensor.qr, Tensor.svd = linalg.qr_legacy, linalg.svd_legacy

# ----- cumulative, sorting and selection, gather/scatter (ops/cumulative.py, ops/sort.py, ops/index.py) -----
# Each method is the function itself, its first argument (input) being self: x.cumsum(0) is cumsum(x, 0).
from .ops import cumulative  # noqa: E402
from .ops import index as index_ops  # noqa: E402
from .ops import sort as sort_ops  # noqa: E402

Tensor.cumsum, Tensor.cumprod = cumulative.cumsum, cumulative.cumprod
Tensor.cummax, Tensor.cummin = cumulative.cummax, cumulative.cummin
Tensor.logcumsumexp = cumulative.logcumsumexp
Tensor.sort, Tensor.argsort, Tensor.topk = sort_ops.sort, sort_ops.argsort, sort_ops.topk
Tensor.kthvalue, Tensor.median, Tensor.mode = sort_ops.kthvalue, sort_ops.median, sort_ops.mode
Tensor.unique, Tensor.nonzero, Tensor.masked_select = sort_ops.unique, sort_ops.nonzero, sort_ops.masked_select
Tensor.gather, Tensor.take, Tensor.take_along_dim = index_ops.gather, index_ops.take, index_ops.take_along_dim
Tensor.scatter, Tensor.scatter_add = index_ops.scatter, index_ops.scatter_add
Tensor.scatter_reduce = index_ops.scatter_reduce
Tensor.index_select, Tensor.index_add = index_ops.index_select, index_ops.index_add
Tensor.index_fill, Tensor.index_copy = index_ops.index_fill, index_ops.index_copy
Tensor.masked_fill, Tensor.masked_scatter = index_ops.masked_fill, index_ops.masked_scatter

# ----- pointwise: arithmetic and elementwise math (ops/arithmetic.py, ops/pointwise.py) -----
# Methods are the functions themselves (x.fmod(2) is fmod(x, 2)); the reflected operators swap operands.
from .ops import pointwise  # noqa: E402

Tensor.__floordiv__, Tensor.__rfloordiv__ = arith.floor_divide, lambda self, other: arith.floor_divide(other, self)
Tensor.__mod__, Tensor.__rmod__ = arith.remainder, lambda self, other: arith.remainder(other, self)
Tensor.__lshift__, Tensor.__rlshift__ = arith.bitwise_left_shift, lambda self, other: arith.bitwise_left_shift(other, self)
Tensor.__rshift__ = arith.bitwise_right_shift
Tensor.__rrshift__ = lambda self, other: arith.bitwise_right_shift(other, self)
Tensor.__pos__ = pointwise.positive
Tensor.floor_divide, Tensor.remainder, Tensor.fmod, Tensor.true_divide = (
    arith.floor_divide, arith.remainder, arith.fmod, arith.true_divide)
Tensor.copysign, Tensor.hypot, Tensor.atan2, Tensor.arctan2 = arith.copysign, arith.hypot, arith.atan2, arith.atan2
Tensor.logaddexp, Tensor.logaddexp2, Tensor.float_power = arith.logaddexp, arith.logaddexp2, arith.float_power
Tensor.lerp, Tensor.addcmul, Tensor.addcdiv = arith.lerp, arith.addcmul, arith.addcdiv
Tensor.clamp_min, Tensor.clamp_max = arith.clamp_min, arith.clamp_max
Tensor.bitwise_and, Tensor.bitwise_or, Tensor.bitwise_xor = arith.bitwise_and, arith.bitwise_or, arith.bitwise_xor
Tensor.bitwise_not = arith.bitwise_not
Tensor.bitwise_left_shift, Tensor.bitwise_right_shift = arith.bitwise_left_shift, arith.bitwise_right_shift
Tensor.logical_and, Tensor.logical_or = arith.logical_and, arith.logical_or
Tensor.logical_xor, Tensor.logical_not = arith.logical_xor, arith.logical_not
Tensor.tan, Tensor.sinh, Tensor.cosh = pointwise.tan, pointwise.sinh, pointwise.cosh
Tensor.asin = Tensor.arcsin = pointwise.asin
Tensor.acos = Tensor.arccos = pointwise.acos
Tensor.atan = Tensor.arctan = pointwise.atan
Tensor.asinh = Tensor.arcsinh = pointwise.asinh
Tensor.acosh = Tensor.arccosh = pointwise.acosh
Tensor.atanh = Tensor.arctanh = pointwise.atanh
Tensor.floor, Tensor.ceil, Tensor.round = pointwise.floor, pointwise.ceil, pointwise.round
Tensor.trunc = Tensor.fix = pointwise.trunc
Tensor.frac, Tensor.sign, Tensor.sgn = pointwise.frac, pointwise.sign, pointwise.sgn
Tensor.rsqrt, Tensor.reciprocal, Tensor.square = pointwise.rsqrt, pointwise.reciprocal, pointwise.square
Tensor.log2, Tensor.log10, Tensor.log1p = pointwise.log2, pointwise.log10, pointwise.log1p
Tensor.expm1, Tensor.exp2 = pointwise.expm1, pointwise.exp2
Tensor.erf, Tensor.erfc, Tensor.erfinv = pointwise.erf, pointwise.erfc, pointwise.erfinv
Tensor.logit, Tensor.xlogy, Tensor.sinc = pointwise.logit, pointwise.xlogy, pointwise.sinc
Tensor.isnan, Tensor.isinf, Tensor.isfinite = pointwise.isnan, pointwise.isinf, pointwise.isfinite
Tensor.isposinf, Tensor.isneginf, Tensor.isreal = pointwise.isposinf, pointwise.isneginf, pointwise.isreal
Tensor.nan_to_num, Tensor.heaviside = pointwise.nan_to_num, pointwise.heaviside
Tensor.positive, Tensor.negative = pointwise.positive, pointwise.negative
Tensor.deg2rad, Tensor.rad2deg = pointwise.deg2rad, pointwise.rad2deg

# ----- nn functional and modules (ops/activation.py): x.hardshrink(lambd) -----
Tensor.hardshrink = activation.hardshrink
