"""Reverse-mode automatic differentiation: the Function base, grad mode, the backward sweep and ``grad``.

Backpropagation is the chain rule evaluated like dynamic programming [note 002, note 004]: the
graph of Functions is put in topological order once, then swept in reverse; every node's gradient
is complete (summed over all its consumers) before its own ``backward`` runs, and runs once.
With ``create_graph=True`` the sweep is itself recorded — every node's backward runs as ops on
Tensors — so the gradient is a function of the inputs like any other, and can be differentiated
again (Hessians, gradient penalties, Newton's method).
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


def to_inputs(fn, *grads):
    """``backward_graph``'s result for an op on broadcast operands: each input's gradient Tensor summed back to
    that input's shape (``unbroadcast`` on Tensors), None where the input needs none."""
    return tuple(g.sum_to_size(x.shape) if need and g is not None else None
                 for x, need, g in zip(fn.inputs, fn.needs, grads))


def constant(array, like):
    """An array computed from values (a mask, a sign, a saved index pattern) as a constant of ``like``'s dtype
    in a recorded backward: its derivative is 0."""
    return np.asarray(array, dtype=like.data.dtype)


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

    **Higher-order gradients.** ``backward`` works on arrays and is not recorded. For
    ``create_graph=True`` the sweep calls ``backward_graph(grad Tensor)`` instead: the same gradients
    written with recorded Tensor ops (from ``self.inputs``, ``self.kwargs`` and constants such as saved
    masks), so they can be differentiated again. An op either overrides it, or sets ``decomposition``
    (its forward written with other differentiable ops, which the default ``backward_graph``
    differentiates), or has neither: then its first-order gradient still comes out, and differentiating
    that gradient raises, naming the op (``NoSecondDerivative``). PyTorch-style Functions need nothing:
    their Tensor-level backward is recorded when grad mode is on.
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
            fn.kwargs = kwargs
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
            fn.inputs, fn.kwargs = inputs, kwargs
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

    # -- create_graph: the backward as recorded ops -------------------------------------------------------
    decomposition = None  # optional: forward(*inputs, **kwargs) written with differentiable Tensor ops

    def backward_graph(self, *grads):
        """The same gradients as ``backward``, as Tensors computed by recorded ops, so that they can be
        differentiated again (``backward(create_graph=True)``, ``grad(..., create_graph=True)``). ``grads``:
        one Tensor per output. An op overrides it with its backward formula written in Tensor ops; the
        default differentiates the op's ``decomposition`` (its forward in other ops) where it has one, and
        otherwise gives first-order gradients that raise, naming the op, if differentiated again."""
        if self.decomposition is None:
            return _first_order_only(self, grads)
        wanted = {id(x): None for x, need in zip(self.inputs, self.needs) if need}
        out = self.decomposition(*self.inputs, **self.kwargs)
        outs = out if isinstance(out, tuple) else (out,)
        pairs = [(o, g) for o, g in zip(outs, grads) if g is not None and o.requires_grad]
        backward([o for o, _ in pairs], [g for _, g in pairs], retain_graph=True, create_graph=True,
                 inputs=wanted, stop=wanted)
        return tuple(_zeros_where_unused(wanted[id(x)], x) if need else None
                     for x, need in zip(self.inputs, self.needs))

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
            cls.backward_graph = _checked_ctx_grads
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


def _checked_ctx_grads(self, grad):
    """The user's backward(ctx, grad Tensor), its gradients checked — one per argument of forward, each None
    or of that argument's shape — as Tensors (None where not needed). Under ``create_graph`` grad mode is on,
    so a backward written in Tensor ops is recorded and can be differentiated again, as torch's."""
    name = type(self).__name__
    grads = type(self).ctx_backward(self, grad)
    grads = grads if isinstance(grads, tuple) else (grads,)
    if len(grads) != len(self.inputs):
        raise RuntimeError(f"{name}.backward returned {len(grads)} gradient(s), but forward took {len(self.inputs)} "
                           "argument(s): return one per argument, None for those that need none")
    checked = []
    for i, (x, gx) in enumerate(zip(self.inputs, grads)):
        if gx is not None and not isinstance(x, Tensor):
            raise RuntimeError(f"{name}.backward returned a gradient for argument {i}, a {type(x).__name__}, not a "
                               "Tensor: return None there")
        if gx is None or not self.needs[i]:
            checked.append(None)
            continue
        gx = gx if isinstance(gx, Tensor) else Tensor(np.asarray(gx))
        if gx.shape != x.shape:
            raise RuntimeError(f"{name}.backward: the gradient for argument {i} has shape {gx.shape}, but the "
                               f"argument has shape {x.shape}")
        checked.append(gx)
    return checked


def _backward_through_ctx(self, grad):
    """The sweep's ``backward(grad array)`` of a PyTorch-style Function: the user's backward on Tensors, with
    no graph recorded."""
    with no_grad():
        return [None if gx is None else gx.data for gx in _checked_ctx_grads(self, Tensor(grad))]


class NoSecondDerivative(Function):
    """Stands in the graph for gradients that an op computed without recording (it has no ``backward_graph``):
    using them as values is fine; differentiating through them raises, naming the op."""

    def forward(self, *arrays, op, index):
        self.op, self.index = op, index
        return arrays[0]

    def backward(self, g):
        raise RuntimeError(f"{self.op}: no second derivative — its backward is not written as differentiable ops, "
                           f"so the gradient of its input {self.index} computed with create_graph=True cannot be "
                           "differentiated again")


def _first_order_only(fn, grads):
    """``fn``'s array-level backward on the gradients' values, each result wrapped as a node that refuses to
    be differentiated (``NoSecondDerivative``) — never a silently zero second derivative."""
    arrays = fn.backward(*[g.data if isinstance(g, Tensor) else g for g in grads])
    sources = [g for g in grads if isinstance(g, Tensor)] + [x for x in fn.inputs if isinstance(x, Tensor)]
    return [None if a is None else NoSecondDerivative.apply(a, *sources, op=type(fn).__name__, index=i)
            for i, a in enumerate(arrays)]


def _zeros_where_unused(g, x):
    return Tensor(np.zeros(x.shape, x.data.dtype)) if g is None else g


def _topological_order(roots, every_tensor=False, outputs=None, stop=()):
    """Tensors that need a gradient (``every_tensor``: also the inputs that don't, for chainrule.viz),
    each after all of its inputs (iterative DFS, no recursion), from one root Tensor or a list of them.
    ``outputs``: a dict to count, per node with several outputs, how many of them are in the order (its
    backward runs once the last has its gradient). ``stop``: ids of tensors whose own history is not
    walked (they are treated as leaves)."""
    order, seen = [], set()
    stack = [(r, False) for r in reversed(roots)] if isinstance(roots, (list, tuple)) else [(roots, False)]
    while stack:
        t, expanded = stack.pop()
        if expanded:
            order.append(t)
            if outputs is not None and t._ctx is not None and t._ctx.output_ids is not None and id(t) not in stop:
                outputs[t._ctx] = outputs.get(t._ctx, 0) + 1
            continue
        if id(t) in seen:
            continue
        seen.add(id(t))
        stack.append((t, True))
        fn = t._ctx
        if fn is not None and id(t) not in stop:
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


def _gather_output_grads(fn, t, g, waiting, create_graph=False):
    """A node with several outputs: keep ``g`` as output ``t``'s gradient; once the last output in the graph
    has handed its own, the node's backward arguments (zeros for a float output that got no gradient; Tensors
    with ``create_graph``), else None."""
    slots = fn.__dict__.setdefault("output_grads", [None] * len(fn.output_ids))
    slots[fn.output_ids.index(id(t))] = g
    waiting[fn] -= 1
    if waiting[fn]:
        return None
    del fn.output_grads
    zeros = (lambda shape, dtype: Tensor(np.zeros(shape, dtype))) if create_graph else np.zeros
    return tuple(zeros(shape, dtype) if slot is None and dtype.kind in "fc" else slot
                 for slot, (shape, dtype) in zip(slots, fn.output_meta))


def _run_hooks(t, g, create_graph):
    """``t``'s gradient hooks, in order; each may replace the gradient (same shape)."""
    for hook in list(t._hooks.values()):
        replaced = hook(g if create_graph else Tensor(g))
        if replaced is not None:
            new = replaced if isinstance(replaced, Tensor) else Tensor(np.asarray(replaced))
            if new.shape != g.shape:
                raise RuntimeError(f"register_hook: a hook has changed the size of the gradient from "
                                   f"{g.shape} to {new.shape}")
            g = new.to(g.dtype) if create_graph else new.data.astype(g.dtype, copy=False)
    return g


def backward(roots, gradients, retain_graph=False, create_graph=False, inputs=None, stop=()):
    """The backward sweep from ``roots`` (a Tensor or a list) seeded with ``gradients`` (one each): every
    node's gradient is summed over its consumers, then its backward runs once, in reverse topological order.

    - ``inputs`` None: accumulate into every leaf's ``.grad`` (and non-leaves that ``retain_grad``).
      ``inputs`` a dict ``{id(tensor): None}``: fill it with those tensors' gradients instead (for
      ``grad()``; ``.grad`` untouched) — nodes that lead to none of them are skipped.
    - ``create_graph``: gradients are Tensors and every node's backward is recorded as ops
      (``Function.backward_graph``), so the gradients can be differentiated again; ``gradients`` are then
      Tensors too. Otherwise they are arrays and each node's array-level ``backward`` runs (the fast path).
    - ``stop``: ids of tensors treated as leaves (their history is not walked).
    """
    many = isinstance(roots, (list, tuple))
    roots, gradients = (list(roots), list(gradients)) if many else ([roots], [gradients])
    waiting = {}
    order = _topological_order(roots, outputs=waiting, stop=stop)
    grads = {}
    for r, g in zip(roots, gradients):
        grads[id(r)] = g if id(r) not in grads else grads[id(r)] + g
    wanted = None
    if inputs is not None:  # only the nodes from which some wanted tensor can be reached
        wanted = set()
        for t in order:
            fn = t._ctx
            if fn is not None and id(t) not in stop and fn not in wanted and any(
                    isinstance(x, Tensor) and (id(x) in inputs or x._ctx in wanted and id(x) not in stop)
                    for x in fn.inputs):
                wanted.add(fn)
    handed_out = set()
    watchers = [w for w in (o.watch(roots[0]) for o in list(_observers)) if w is not None] if _observers else None
    for i in range(len(order) - 1, -1, -1):
        t = order[i]
        order[i] = None
        g = grads.pop(id(t), None)
        if g is None:
            continue
        if t._hooks:
            g = _run_hooks(t, g, create_graph)
        fn = None if id(t) in stop else t._ctx
        if inputs is not None:
            if id(t) in inputs:
                inputs[id(t)] = g if inputs[id(t)] is None else inputs[id(t)] + g
            if fn not in wanted:
                continue
        elif fn is None or t._retains_grad:
            if create_graph:
                t.grad = (Tensor(g.data.copy()) if g._ctx is None else g) if t.grad is None else t.grad + g
            elif t.grad is None:
                if not g.flags.owndata or not g.flags.writeable or id(g) in handed_out:
                    g = g.copy()
                handed_out.add(id(g))
                t.grad = Tensor(g)
            else:
                t.grad.data += g
        if fn is None:
            for watcher in watchers or ():
                watcher.node(t, g.data if create_graph else g, (), ())
            continue
        own = g  # t's own gradient (a node with several outputs gets them all at once)
        if fn.output_ids is not None:
            g = _gather_output_grads(fn, t, g, waiting, create_graph)
            if g is None:
                for watcher in watchers or ():
                    watcher.node(t, own.data if create_graph else own, (), ())
                continue
        _check_versions(fn)
        fn_inputs = fn.inputs
        if create_graph:
            with enable_grad():
                in_grads = fn.backward_graph(*g) if fn.output_ids is not None else fn.backward_graph(g)
        elif _profiler is not None:
            in_grads = _profiler.run_backward(fn, g)
        else:
            in_grads = fn.backward(*g) if fn.output_ids is not None else fn.backward(g)
        if len(in_grads) != len(fn_inputs):
            raise _gradient_count_error(fn, in_grads, fn_inputs)
        if _detect_anomaly:
            _check_finite(fn, [gx.data if isinstance(gx, Tensor) else gx for gx in in_grads], fn_inputs, "backward")
        for watcher in watchers or ():
            watcher.node(t, own.data if create_graph else own, fn_inputs,
                         [gx.data if isinstance(gx, Tensor) else gx for gx in in_grads])
        for j, (x, gx) in enumerate(zip(fn_inputs, in_grads)):
            if gx is None or not isinstance(x, Tensor) or not x.requires_grad:
                continue
            if gx.shape != x.data.shape:
                raise _gradient_shape_error(fn, j, gx, x)
            if gx.dtype != x.data.dtype:
                gx = gx.to(x.data.dtype) if create_graph else gx.astype(x.data.dtype)
            prev = grads.get(id(x))
            grads[id(x)] = gx if prev is None else prev + gx
        if not retain_graph:
            fn.release()
    for watcher in watchers or ():
        watcher.done()


def _as_list(x, what):
    if isinstance(x, Tensor):
        return [x]
    if isinstance(x, (list, tuple)) and all(isinstance(t, Tensor) for t in x):
        return list(x)
    raise TypeError(f"grad: {what} must be a Tensor or a sequence of Tensors, got {type(x).__name__}")


def seed_gradients(outputs, grad_outputs, create_graph, op="grad"):
    """One gradient per output to start the sweep: ones for a scalar output given None, else the given
    one (a Tensor or array of the output's shape). Arrays for the fast sweep, Tensors with ``create_graph``
    (a given Tensor is kept as it is, so the result can be differentiated with respect to it)."""
    seeds = []
    for i, (out, g) in enumerate(zip(outputs, grad_outputs)):
        if g is None:
            if out.data.size != 1:
                raise RuntimeError(f"{op}: grad can be implicitly created only for scalar outputs, but output {i} "
                                   f"has shape {out.shape}; pass its gradient (grad_outputs / gradient=)")
            g = np.ones(out.shape, dtype=out.data.dtype)
        elif not isinstance(g, Tensor):
            g = np.asarray(g)
        if g.shape != out.shape:
            raise RuntimeError(f"{op}: the gradient for output {i} has shape {tuple(g.shape)}, but the output has "
                               f"shape {out.shape}")
        if create_graph:
            seeds.append(g if isinstance(g, Tensor) else Tensor(g.astype(out.data.dtype)))
        else:
            data = g.data if isinstance(g, Tensor) else g
            seeds.append(data.astype(out.data.dtype))  # a copy: .grad must never alias the caller's array
    return seeds


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False, allow_unused=None,
         materialize_grads=False):
    """The gradients of ``outputs`` with respect to ``inputs``, returned (as torch.autograd.grad): a tuple
    with one Tensor per input, Σᵢ grad_outputsᵢ · ∂outputsᵢ/∂input; ``.grad`` is left untouched.

    outputs, inputs: a Tensor or a sequence of Tensors (inputs may be non-leaves). grad_outputs: one per
    output — None (a scalar output: 1), a Tensor or an array of that output's shape. create_graph: record the
    backward as ops, so the result can be differentiated again (Hessians, gradient penalties); retain_graph
    defaults to create_graph. allow_unused: an input that ``outputs`` do not depend on gives None instead of
    an error (``materialize_grads=True``: zeros; it implies allow_unused).
    Raises RuntimeError for an output that does not require grad, a non-scalar output without its
    grad_output, or an unused input when neither option is set (naming the input)."""
    outputs, inputs = _as_list(outputs, "outputs"), _as_list(inputs, "inputs")
    if grad_outputs is None:
        grad_outputs = [None] * len(outputs)
    elif isinstance(grad_outputs, Tensor) or not isinstance(grad_outputs, (list, tuple)):
        grad_outputs = [grad_outputs]
    if len(grad_outputs) != len(outputs):
        raise RuntimeError(f"grad: got {len(grad_outputs)} grad_outputs for {len(outputs)} outputs; give one each")
    if allow_unused is None:
        allow_unused = materialize_grads
    elif materialize_grads and not allow_unused:
        raise ValueError("grad: materialize_grads=True needs allow_unused (not False)")
    for i, out in enumerate(outputs):
        if not out.requires_grad:
            raise RuntimeError(f"grad: output {i} (shape {out.shape}) does not require grad and has no grad_fn")
    for i, x in enumerate(inputs):
        if not x.requires_grad:
            raise RuntimeError(f"grad: input {i} (shape {x.shape}) does not require grad: nothing can be "
                               "differentiated with respect to it (set requires_grad=True before using it)")
    seeds = seed_gradients(outputs, grad_outputs, create_graph)
    found = {id(x): None for x in inputs}
    backward(outputs, seeds, retain_graph=create_graph if retain_graph is None else retain_graph,
             create_graph=create_graph, inputs=found)
    result = []
    for i, x in enumerate(inputs):
        g = found[id(x)]
        if g is None:
            if not allow_unused:
                raise RuntimeError(f"grad: input {i} (shape {x.shape}) was not used in the graph of the outputs; "
                                   "pass allow_unused=True to get None for it (materialize_grads=True: zeros)")
            result.append(_zeros_where_unused(None, x) if materialize_grads else None)
        else:
            result.append(g if create_graph else Tensor(g.copy()))
    return tuple(result)
