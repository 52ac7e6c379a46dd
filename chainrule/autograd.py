"""Reverse-mode automatic differentiation: the Function base, grad mode, and the backward sweep.

Backpropagation is the chain rule evaluated like dynamic programming [note 002, note 004]: the
graph of Functions is put in topological order once, then swept in reverse; every node's gradient
is complete (summed over all its consumers) before its own ``backward`` runs, and runs once.
"""
import functools
import string
import weakref

import numpy as np

from .tensor import Tensor

_grad_enabled = True
_detect_anomaly = False
_profiler = None  # the running chainrule.profiler.profile: it times every op's forward and backward


def is_grad_enabled():
    """Whether grad mode is on (ops record the graph): True unless inside ``no_grad()`` / ``set_grad_enabled(False)``.
    """
    return _grad_enabled


class _GradMode:
    """Context manager and decorator: entering sets grad mode to ``mode``, leaving restores it."""

    mode = True

    def __init__(self):
        self.prev = []

    def __enter__(self):
        global _grad_enabled
        self.prev.append(_grad_enabled)
        _grad_enabled = self.mode

    def __exit__(self, *exc):
        global _grad_enabled
        _grad_enabled = self.prev.pop()
        return False

    def __call__(self, func):
        mode = self.mode

        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            with (enable_grad if mode else no_grad)():
                return func(*args, **kwargs)

        return wrapper


class no_grad(_GradMode):
    """``with chainrule.no_grad():``, ``@no_grad()`` or ``@no_grad``: no graph is recorded inside."""

    mode = False

    def __new__(cls, func=None):
        self = super().__new__(cls)
        if callable(func):
            self.__init__()
            return self(func)
        return self

    def __init__(self, func=None):
        super().__init__()


class enable_grad(no_grad):
    """Re-enables graph recording inside a ``no_grad`` block (same three spellings)."""

    mode = True


class set_grad_enabled(_GradMode):
    """Sets grad mode at once, like ``torch.set_grad_enabled(False)`` as a plain call; as a context
    manager or decorator the previous mode comes back on exit."""

    def __init__(self, mode):
        global _grad_enabled
        super().__init__()
        self.mode = bool(mode)
        self.prev.append(_grad_enabled)
        _grad_enabled = self.mode

    def __enter__(self):
        pass

    def __call__(self, func):
        global _grad_enabled
        _grad_enabled = self.prev.pop()  # decorating must not change the mode now
        return super().__call__(func)


class detect_anomaly:
    """While active, every op's output and every backward gradient is checked for NaN/Inf, and the first
    op that produces one raises ``FloatingPointError`` naming it (slow: use it to debug, not to train)."""

    def __enter__(self):
        global _detect_anomaly
        self.prev, _detect_anomaly = _detect_anomaly, True
        return self

    def __exit__(self, *exc):
        global _detect_anomaly
        _detect_anomaly = self.prev
        return False


def _check_finite(fn, arrays, inputs, where):
    for a in arrays:
        if isinstance(a, (np.ndarray, np.generic)) and a.dtype.kind == "f" and not np.all(np.isfinite(a)):
            shapes = ", ".join(str(x.shape) for x in inputs if isinstance(x, Tensor))
            clean = all(np.all(np.isfinite(x.data)) for x in inputs if isinstance(x, Tensor) and x.data.dtype.kind == "f")
            origin = "from finite inputs" if clean else "(its inputs already held non-finite values)"
            raise FloatingPointError(
                f"detect_anomaly: {type(fn).__name__} {where} produced a non-finite value {origin}; "
                f"input shapes {shapes}"
            )


def sum_to(shape, *arrays):
    """Σ of the elementwise product of ``arrays`` (all of one shape), down to ``shape``: leading extra
    dims and dims where ``shape`` has 1 are summed — the adjoint of broadcasting ``shape`` up. One
    einsum, so a product is never stored (and einsum's sums beat ``ndarray.sum`` over several axes)."""
    full = arrays[0].shape
    extra = len(full) - len(shape)
    letters = string.ascii_letters[: len(full)]
    keep = "".join(c for i, c in enumerate(letters) if i >= extra and shape[i - extra] == full[i])
    return np.einsum(",".join([letters] * len(arrays)) + "->" + keep, *arrays).reshape(shape)


def unbroadcast(grad, shape):
    """Sum ``grad`` down to ``shape``: the adjoint of NumPy broadcasting (shared by every op)."""
    return grad if grad.shape == shape else sum_to(shape, grad)


class Function:
    """One differentiable op, in either of two styles.

    **PyTorch's** (for your own ops): ``@staticmethod forward(ctx, *args)`` computes the output Tensor
    from Tensors (and any other arguments) with no graph recorded, keeping what backward needs with
    ``ctx.save_for_backward(*tensors)`` or as attributes of ``ctx``; ``@staticmethod backward(ctx,
    grad_output)`` returns one gradient per argument of forward (a Tensor of that argument's shape,
    or None), reading ``ctx.saved_tensors`` and ``ctx.needs_input_grad``; ``MyOp.apply(*args)``
    runs it. A wrong number of gradients, or one of the wrong shape, raises naming the Function::

        class Cube(chainrule.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                ctx.save_for_backward(x)
                return x ** 3
            @staticmethod
            def backward(ctx, g):
                (x,) = ctx.saved_tensors
                return g * 3 * x ** 2

    **The built-in ops'** (array level, for speed): ``apply(*tensors, **hyperparameters)``; ``forward``
    maps the input arrays (keywords passed on) to an output array and keeps on ``self`` what the backward
    needs; ``backward`` maps the output gradient array to one gradient array per positional input, of that
    input's shape (``None`` for inputs that need none) — a wrong count or shape raises naming the op.
    A forward may return a tuple of arrays (several outputs: an LSTM's sequence and final state, values and
    indices): ``apply`` returns a tuple of Tensors and ``backward`` takes one gradient per output (zeros
    for a floating-point output that got none, None for an integer one). ``apply`` records the node when
    grad mode is on and an input requires a gradient; ``forward`` can ask (``self.recording``) and skip
    what only the backward would use.
    """

    inputs = None  # the input Tensors (and constants), set when the node is recorded
    output_ids = None  # a node with several outputs: id() of each output Tensor, in order
    needs = ()  # needs[i]: does input i require a gradient (backward may skip the others)
    versions = ()  # each input's version when recorded: an in-place change since then is an error

    @property
    def recording(self):
        """Will this node be recorded (so its backward may run)? Known inside ``forward``."""
        return True in self.needs

    @classmethod
    def apply(cls, *inputs, **kwargs):
        """Run the op on ``inputs`` (Tensors and other arguments; keywords go to forward) and return its output Tensor
        (a tuple for several outputs). The node is recorded — the output gets ``grad_fn`` and ``requires_grad`` — when
        grad mode is on and some input requires grad. Raises ValueError naming the op and the input shapes when forward
        rejects its inputs."""
        fn = cls()
        if _grad_enabled:
            fn.needs = tuple([isinstance(x, Tensor) and x.requires_grad for x in inputs])
        try:
            arrays = [x.data if isinstance(x, Tensor) else x for x in inputs]
            out = fn.forward(*arrays, **kwargs) if _profiler is None else _profiler.run_forward(fn, arrays, kwargs)
        except ValueError as e:
            shapes = ", ".join(str(x.shape) for x in inputs if isinstance(x, Tensor))
            raise ValueError(f"{cls.__name__}: invalid inputs of shapes {shapes}: {e}") from None
        if type(out) is tuple:
            return fn._outputs(out, inputs)
        if type(out) is not np.ndarray:
            out = np.asarray(out)  # NumPy reductions return scalars; a Tensor always holds an array
        if _detect_anomaly:
            _check_finite(fn, (out,), inputs, "forward")
        result = Tensor.__new__(Tensor)
        result.data = out
        result._grad = None
        result._retains_grad = False
        result._version = 0
        result._hooks = None
        if True in fn.needs:
            fn.inputs = inputs
            fn.versions = [x._version if isinstance(x, Tensor) else 0 for x in inputs]
            result.requires_grad = True
            result._ctx = fn
            return result
        result.requires_grad = False
        result._ctx = None
        return result

    def _outputs(self, arrays, inputs):
        """A forward that returned a tuple of arrays: a tuple of Tensors, each floating-point one recorded
        as an output of this one node (its ``backward`` then takes one gradient per output)."""
        arrays = [a if type(a) is np.ndarray else np.asarray(a) for a in arrays]
        if _detect_anomaly:
            _check_finite(self, arrays, inputs, "forward")
        record = True in self.needs
        outs = tuple(Tensor(a) for a in arrays)
        if record:
            self.inputs = inputs
            self.versions = [x._version if isinstance(x, Tensor) else 0 for x in inputs]
            self.output_ids = tuple(id(t) for t in outs)
            self.output_meta = [(a.shape, a.dtype) for a in arrays]
            for t in outs:
                if t.data.dtype.kind in "fc":
                    t.requires_grad, t._ctx = True, self
        return outs

    def forward(self, *arrays, **kwargs):
        """The op's output from its inputs; subclasses define it (a staticmethod ``forward(ctx, *args)`` on Tensors in
        PyTorch's style, or a method on arrays for the built-in ops — see the class docstring). Raises
        NotImplementedError here."""
        raise NotImplementedError

    def backward(self, grad):
        """The gradient of each input from the output's gradient: one per forward argument (None where none is needed),
        each of that input's shape; subclasses define it. Raises NotImplementedError here."""
        raise NotImplementedError

    def release(self):
        """Drop saved arrays and inputs once backward has used them (the graph is freed)."""
        self.__dict__.clear()

    def __repr__(self):
        return f"<{type(self).__name__}Backward>"

    @property
    def next_functions(self):
        """The nodes this one hands gradients to, as torch's ``grad_fn.next_functions``: one
        ``(node, output index)`` per Tensor input — its Function, an ``AccumulateGrad`` for a leaf that requires
        grad, None for one that doesn't. Walking these from ``loss.grad_fn`` visits the whole graph."""
        if self.inputs is None:
            raise RuntimeError(f"{type(self).__name__}: the graph was freed by backward (retain_graph=True keeps it)")
        return tuple((x._ctx, x._ctx.output_ids.index(id(x)) if x._ctx.output_ids else 0) if x._ctx is not None
                     else (AccumulateGrad(x) if x.requires_grad else None, 0)
                     for x in self.inputs if isinstance(x, Tensor))

    # -- PyTorch's style: the node is the ctx ------------------------------------------------------------
    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if isinstance(cls.__dict__.get("forward"), staticmethod):
            if not isinstance(cls.__dict__.get("backward"), staticmethod):
                raise TypeError(f"{cls.__name__}: a forward(ctx, ...) staticmethod needs a backward(ctx, grad_output) "
                                "staticmethod beside it")
            cls.ctx_backward = cls.__dict__["backward"]  # the user's; the sweep calls backward(grad array)
            cls.backward = _backward_through_ctx
            cls.apply = classmethod(_apply_with_ctx)

    def save_for_backward(self, *tensors):
        """Keep tensors for backward (``ctx.saved_tensors``); an in-place change to one before backward
        is an error there, as its saved value is gone."""
        self._saved = [(t, t._version if isinstance(t, Tensor) else None) for t in tensors]

    @property
    def saved_tensors(self):
        """The tensors given to ``save_for_backward``, in order. Raises RuntimeError when one was modified in place
        since (its saved value is gone)."""
        for i, (t, version) in enumerate(getattr(self, "_saved", ())):
            if isinstance(t, Tensor) and t._version != version:
                raise RuntimeError(f"{type(self).__name__}: saved tensor {i} (shape {t.shape}) was modified by an "
                                   f"in-place operation after save_for_backward (version {version} → {t._version})")
        return tuple(t for t, _ in getattr(self, "_saved", ()))


class AccumulateGrad:
    """Where a leaf's gradient ends (torch's name): ``variable`` is the leaf tensor."""

    next_functions = ()

    def __init__(self, variable):
        self.variable = variable

    def __repr__(self):
        return "<AccumulateGrad>"


def _apply_with_ctx(cls, *args, **kwargs):
    """``apply`` of a PyTorch-style Function: forward on Tensors without a graph; the output is one
    node whose backward calls the user's."""
    if kwargs:
        raise TypeError(f"{cls.__name__}.apply takes positional arguments only (as torch's), got {sorted(kwargs)}")
    ctx = cls()
    needs = tuple(isinstance(a, Tensor) and a.requires_grad for a in args)
    ctx.needs_input_grad = needs
    with no_grad():
        out = cls.forward(ctx, *args)
    if not isinstance(out, Tensor):
        several = " (one output only: return a single Tensor)" if isinstance(out, (tuple, list)) else ""
        raise TypeError(f"{cls.__name__}.forward must return a Tensor, got {type(out).__name__}{several}")
    result = Tensor(out.data)
    if _grad_enabled and True in needs:
        ctx.needs, ctx.inputs = needs, args
        ctx.versions = [a._version if isinstance(a, Tensor) else 0 for a in args]
        result.requires_grad, result._ctx = True, ctx
    return result


def _backward_through_ctx(self, grad):
    """The sweep's ``backward(grad array)`` of a PyTorch-style Function: the user's backward on Tensors,
    its gradients checked — one per argument of forward, each None or of that argument's shape."""
    name = type(self).__name__
    with no_grad():
        grads = type(self).ctx_backward(self, Tensor(grad))
    grads = grads if isinstance(grads, tuple) else (grads,)
    if len(grads) != len(self.inputs):
        raise RuntimeError(f"{name}.backward returned {len(grads)} gradient(s), but forward took {len(self.inputs)} "
                           "argument(s): return one per argument, None for those that need none")
    arrays = []
    for i, (x, gx) in enumerate(zip(self.inputs, grads)):
        if gx is not None and not isinstance(x, Tensor):
            raise RuntimeError(f"{name}.backward returned a gradient for argument {i}, a {type(x).__name__}, not a "
                               "Tensor: return None there")
        if gx is None or not self.needs[i]:
            arrays.append(None)
            continue
        data = gx.data if isinstance(gx, Tensor) else np.asarray(gx)
        if data.shape != x.shape:
            raise RuntimeError(f"{name}.backward: the gradient for argument {i} has shape {data.shape}, but the "
                               f"argument has shape {x.shape}")
        arrays.append(data)
    return arrays


def _topological_order(root, every_tensor=False, outputs=None):
    """Tensors that need a gradient (``every_tensor``: also the inputs that don't, for chainrule.viz),
    each after all of its inputs (iterative DFS, no recursion). ``outputs``: a dict to count, per node with
    several outputs, how many of them are in the order (its backward runs once the last has its gradient)."""
    order, seen = [], set()
    stack = [(root, False)]
    while stack:
        t, expanded = stack.pop()
        if expanded:
            order.append(t)
            if outputs is not None and t._ctx is not None and t._ctx.output_ids is not None:
                outputs[t._ctx] = outputs.get(t._ctx, 0) + 1
            continue
        if id(t) in seen:
            continue
        seen.add(id(t))
        stack.append((t, True))
        fn = t._ctx
        if fn is not None:
            if fn.inputs is None:
                raise RuntimeError(
                    f"backward: trying to backward through the graph a second time ({type(fn).__name__} "
                    "already freed its saved arrays); call backward(retain_graph=True) the first time "
                    "if you need to backward twice"
                )
            for x in reversed(fn.inputs):  # so ties resolve as in torch: later inputs (e.g. a layer's bias) first
                if isinstance(x, Tensor) and (x.requires_grad or every_tensor) and id(x) not in seen:
                    stack.append((x, False))
    return order


def _check_versions(fn):
    for i, (x, v) in enumerate(zip(fn.inputs, fn.versions)):
        if isinstance(x, Tensor) and x._version != v:
            raise RuntimeError(
                f"backward: input {i} (shape {x.shape}) of {type(fn).__name__} was modified by an in-place "
                f"operation after it was used (version {v} → {x._version}); its saved value is gone. "
                "Use an out-of-place op or clone() before modifying it."
            )


# chainrule.viz: watch(root) -> None or an object told node(t, g, inputs, in_grads) and done(); weak, so a
# graph view nobody keeps does not keep its graph alive
_observers = weakref.WeakSet()


def _gradient_count_error(fn, in_grads, inputs):
    return RuntimeError(f"{type(fn).__name__}.backward returned {len(in_grads)} gradient(s) for {len(inputs)} "
                        "input(s): one per positional input of forward (None where none is needed)")


def _gradient_shape_error(fn, i, gx, x):
    return RuntimeError(f"{type(fn).__name__}.backward: the gradient of input {i} has shape {gx.shape}, but the "
                        f"input has shape {x.shape}")


def _gather_output_grads(fn, t, g, waiting):
    """A node with several outputs: keep ``g`` as output ``t``'s gradient; once the last output in the graph
    has handed its own, the node's backward arguments (zeros for a float output that got no gradient),
    else None."""
    slots = fn.__dict__.setdefault("output_grads", [None] * len(fn.output_ids))
    slots[fn.output_ids.index(id(t))] = g
    waiting[fn] -= 1
    if waiting[fn]:
        return None
    del fn.output_grads
    return tuple(np.zeros(shape, dtype) if slot is None and dtype.kind in "fc" else slot
                 for slot, (shape, dtype) in zip(slots, fn.output_meta))


def backward(root, gradient, retain_graph=False):
    """Accumulate d(root)/d(leaf) into every leaf's ``.grad`` (and into non-leaves that ``retain_grad``)."""
    waiting = {}
    order = _topological_order(root, outputs=waiting)
    grads = {id(root): gradient}
    handed_out = set()
    watchers = [w for w in (o.watch(root) for o in list(_observers)) if w is not None] if _observers else None
    for i in range(len(order) - 1, -1, -1):
        t = order[i]
        order[i] = None
        g = grads.pop(id(t), None)
        if g is None:
            continue
        if t._hooks:
            for hook in list(t._hooks.values()):
                replaced = hook(Tensor(g))
                if replaced is not None:
                    new = replaced.data if isinstance(replaced, Tensor) else np.asarray(replaced)
                    if new.shape != g.shape:
                        raise RuntimeError(f"register_hook: a hook has changed the size of the gradient from "
                                           f"{g.shape} to {new.shape}")
                    g = new.astype(g.dtype, copy=False)
        fn = t._ctx
        if fn is None or t._retains_grad:
            if t.grad is None:
                if not g.flags.owndata or not g.flags.writeable or id(g) in handed_out:
                    g = g.copy()
                handed_out.add(id(g))
                t.grad = Tensor(g)
            else:
                t.grad.data += g
        if fn is None:
            for watcher in watchers or ():
                watcher.node(t, g, (), ())
            continue
        own = g  # t's own gradient (a node with several outputs gets them all at once)
        if fn.output_ids is not None:
            g = _gather_output_grads(fn, t, g, waiting)
            if g is None:
                for watcher in watchers or ():
                    watcher.node(t, own, (), ())
                continue
        _check_versions(fn)
        inputs = fn.inputs
        if _profiler is not None:
            in_grads = _profiler.run_backward(fn, g)
        else:
            in_grads = fn.backward(*g) if fn.output_ids is not None else fn.backward(g)
        if len(in_grads) != len(inputs):
            raise _gradient_count_error(fn, in_grads, inputs)
        if _detect_anomaly:
            _check_finite(fn, in_grads, inputs, "backward")
        for watcher in watchers or ():
            watcher.node(t, own, inputs, in_grads)
        for j, (x, gx) in enumerate(zip(inputs, in_grads)):
            if gx is None or not isinstance(x, Tensor) or not x.requires_grad:
                continue
            if gx.shape != x.data.shape:
                raise _gradient_shape_error(fn, j, gx, x)
            if gx.dtype != x.data.dtype:
                gx = gx.astype(x.data.dtype)
            prev = grads.get(id(x))
            grads[id(x)] = gx if prev is None else prev + gx
        if not retain_graph:
            fn.release()
    for watcher in watchers or ():
        watcher.done()
