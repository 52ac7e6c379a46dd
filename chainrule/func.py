"""Function transforms with torch.func's names: ``grad``, ``grad_and_value``, ``vjp``, ``jvp``, ``jacrev``,
``jacfwd``, ``hessian``, ``hvp``, ``vmap`` and ``functional_call``, all built on the reverse sweep of
``autograd.grad`` [note 002].

Each transform calls ``func`` on copies of the differentiated arguments that require grad — a new leaf for a
tensor that does not require grad, a recorded alias of one that does — so ``func`` is treated as a pure function:
the caller's tensors keep their ``requires_grad`` and their ``.grad``. Arguments are Tensors or tuples / lists /
dicts of them (nested); the other arguments and keywords pass through unchanged.

The gradient is recorded as ops (``create_graph``) only where something can differentiate it again: when the
output depends on a tensor requiring grad that is not one of the transform's own copies (the copies of an
enclosing transform, a parameter ``func`` closes over). That is what makes the transforms nest —
``grad(grad(f))``, ``jacfwd(jacrev(f))``, ``vmap(grad(f))`` — while a single transform runs the fast first-order
sweep. Forward-mode products (``jvp``, ``jacfwd``) are computed by differentiating a reverse sweep a second time,
so they need the second derivatives of the ops in ``func`` (an op without one raises ``NoSecondDerivative``).
"""
import numpy as np

from . import autograd
from .autograd import enable_grad, is_grad_enabled
from .ops.shape import stack
from .tensor import Tensor

__all__ = ["functional_call", "grad", "grad_and_value", "hessian", "hvp", "jacfwd", "jacrev", "jvp", "vjp", "vmap"]


# ----- trees of tensors: tuples, lists and dicts, nested ---------------------------------------------------
def _flatten(tree):
    """The leaves of a tuple / list / dict tree in order, and its structure (for ``_unflatten`` and for
    comparing two trees): a leaf is anything else, a Tensor usually."""
    if isinstance(tree, (tuple, list, dict)):
        values = tree.values() if isinstance(tree, dict) else tree
        parts = [_flatten(v) for v in values]
        kind = dict if isinstance(tree, dict) else tuple if isinstance(tree, tuple) else list
        keys = tuple(tree) if isinstance(tree, dict) else len(tree)
        return [leaf for leaves, _ in parts for leaf in leaves], (kind, keys, tuple(spec for _, spec in parts))
    return [tree], None


def _unflatten(spec, leaves):
    """The tree of structure ``spec`` holding ``leaves`` in order."""
    it = iter(leaves)

    def build(spec):
        if spec is None:
            return next(it)
        kind, keys, children = spec
        values = [build(c) for c in children]
        return dict(zip(keys, values)) if kind is dict else kind(values)

    return build(spec)


def _describe(x):
    return f"a Tensor of dtype {x.dtype}" if isinstance(x, Tensor) else f"a {type(x).__name__}"


# ----- the differentiated arguments --------------------------------------------------------------------------
def _check_argnums(argnums, n, name):
    """``argnums`` (an int or a non-empty tuple of ints, negative counting from the end) as a tuple of indices."""
    nums = (argnums,) if isinstance(argnums, int) else argnums
    if not isinstance(nums, tuple) or not nums or not all(isinstance(a, int) and not isinstance(a, bool)
                                                          for a in nums):
        raise RuntimeError(f"{name}: argnums must be an int or a non-empty tuple of ints, got {argnums!r}")
    for a in nums:
        if not -n <= a < n:
            raise RuntimeError(f"{name}: got argnums={argnums!r}, but only {n} positional argument(s)")
    nums = tuple(a % n for a in nums)
    if len(set(nums)) != len(nums):
        raise RuntimeError(f"{name}: argnums must be unique, got {argnums!r}")
    return nums


class _Copies:
    """The arguments at ``nums`` replaced by copies that require grad: ``args`` to call func with, ``leaves``
    (flat, in order), ``own`` (ids of the copies that are new leaves) and how to put flat results back into
    the arguments' trees (``regroup``)."""

    def __init__(self, args, nums, name):
        self.args, self.leaves, self.specs, self.own = list(args), [], [], set()
        for a in nums:
            flat, spec = _flatten(self.args[a])
            copies = []
            for x in flat:
                if not isinstance(x, Tensor) or x.data.dtype.kind not in "fc":
                    raise TypeError(f"{name}: argument {a} must be a floating-point Tensor or a tuple / list / dict of "
                                    f"them, but holds {_describe(x)}")
                if x.requires_grad:
                    copy = x.view_as(x)  # recorded: an enclosing transform differentiates through it
                else:
                    copy = x.detach().requires_grad_()
                    self.own.add(id(copy))
                copies.append(copy)
            self.args[a] = _unflatten(spec, copies)
            self.leaves += copies
            self.specs.append((spec, len(flat)))

    def regroup(self, flat, single):
        """Flat per-leaf results as the arguments' trees: one tree (``single``) or a tuple, one per argnum."""
        trees, start = [], 0
        for spec, n in self.specs:
            trees.append(_unflatten(spec, flat[start:start + n]))
            start += n
        return trees[0] if single else tuple(trees)

    def outside(self, tensors):
        """Does any of ``tensors`` depend on a tensor requiring grad other than these copies — an enclosing
        transform's input, a parameter func closes over? Then results must be recorded (``create_graph``)."""
        stack_, seen = [t for t in tensors if isinstance(t, Tensor) and t.requires_grad], set()
        while stack_:
            t = stack_.pop()
            if id(t) in seen:
                continue
            seen.add(id(t))
            fn = t._ctx
            if fn is None:
                if id(t) not in self.own:
                    return True
            elif fn.inputs is None:  # a freed graph: whoever differentiates it will say so
                return True
            else:
                stack_ += [x for x in fn.inputs if isinstance(x, Tensor) and x.requires_grad]
        return False

    def export(self, tree):
        """``tree`` as the caller sees it: a Tensor that depends only on these copies is detached."""
        flat, spec = _flatten(tree)
        return _unflatten(spec, [x.detach() if isinstance(x, Tensor) and x.requires_grad and not self.outside([x])
                                 else x for x in flat])


def _split_aux(out, has_aux, name):
    if not has_aux:
        return out, None
    if not (isinstance(out, tuple) and len(out) == 2):
        raise RuntimeError(f"{name}: with has_aux=True, func must return a tuple (output, aux), "
                           f"got {_describe(out)}")
    return out


def _float_outputs(out, name):
    outs, spec = _flatten(out)
    for i, o in enumerate(outs):
        if not isinstance(o, Tensor) or o.data.dtype.kind not in "fc":
            raise RuntimeError(f"{name}: every output of func must be a floating-point Tensor, but output {i} is "
                               f"{_describe(o)}")
    return outs, spec


def _zeros(shape, like):
    return Tensor(np.zeros(shape, like.data.dtype))


def _vjp(outputs, inputs, cotangents, create):
    """Σₒ cotangentₒ · ∂outputₒ/∂input for each input (zeros where unused); ``create``: recorded as ops."""
    pairs = [(o, c) for o, c in zip(outputs, cotangents) if o.requires_grad]
    if not pairs or not inputs:
        return [_zeros(x.shape, x) for x in inputs]
    return list(autograd.grad([o for o, _ in pairs], inputs, [c for _, c in pairs], retain_graph=True,
                              create_graph=create, materialize_grads=True))


def _transposed(outputs, inputs):
    """The reverse sweep with dummy cotangents u (zeros that require grad), recorded: (u per output — None for
    one that does not require grad —, Jᵀu per input). Jᵀu is linear in u, so its gradient with respect to u
    contracted with t is J·t: forward mode from reverse mode, the double-vjp trick."""
    us = [_zeros(o.shape, o).requires_grad_() if o.requires_grad else None for o in outputs]
    gs = _vjp(outputs, inputs, us, create=True)
    return us, gs


def _jvp_from(outputs, us, gs, tangents, create):
    """J·t per output from ``_transposed``'s (u, Jᵀu): the gradient of Σ ⟨Jᵀu, t⟩ with respect to u."""
    pairs = [(g, t) for g, t in zip(gs, tangents) if g.requires_grad]
    live = [u for u in us if u is not None]
    found = iter(autograd.grad([g for g, _ in pairs], live, [t for _, t in pairs], retain_graph=True,
                               create_graph=create, materialize_grads=True) if pairs and live else ())
    return [_zeros(o.shape, o) if u is None or not pairs else next(found) for o, u in zip(outputs, us)]


def _one_hot(x, k):
    e = np.zeros(x.data.size, x.data.dtype)
    e[k] = 1
    return e.reshape(x.shape)


def _stack_rows(rows, shape):
    """Rows (one per element of a flattened tensor of ``shape``) stacked and shaped as ``shape`` + a row's shape."""
    if len(rows) == 1:
        return rows[0].reshape(tuple(shape) + rows[0].shape)
    return stack(rows).reshape(tuple(shape) + rows[0].shape)


def _stack_columns(columns, shape):
    """Columns (one per element of a flattened tensor of ``shape``) side by side: a column's shape + ``shape``."""
    if len(columns) == 1:
        return columns[0].reshape(columns[0].shape + tuple(shape))
    return stack(columns, dim=-1).reshape(columns[0].shape + tuple(shape))


def _check_tangents(primals, tangents, name):
    if not isinstance(primals, tuple):
        raise RuntimeError(f"{name}: primals must be a tuple (func(*primals) is called), got {_describe(primals)}")
    if not isinstance(tangents, tuple):
        raise RuntimeError(f"{name}: tangents must be a tuple like primals, got {_describe(tangents)}")
    p_flat, p_spec = _flatten(primals)
    t_flat, t_spec = _flatten(tangents)
    if p_spec != t_spec:
        raise RuntimeError(f"{name}: tangents must have the structure of primals (the same tuples, lists and dicts)")
    for i, (p, t) in enumerate(zip(p_flat, t_flat)):
        if not isinstance(t, Tensor) or t.shape != getattr(p, "shape", None):
            got = tuple(t.shape) if isinstance(t, Tensor) else _describe(t)
            raise RuntimeError(f"{name}: tangent {i} must be a Tensor of its primal's shape "
                               f"{getattr(p, 'shape', None)}, got {got}")
    return t_flat


# ----- the transforms ---------------------------------------------------------------------------------------
def grad_and_value(func, argnums=0, has_aux=False):
    """A function returning ``(gradient, value)`` of ``func`` — ``(gradient, (value, aux))`` with ``has_aux`` —,
    as torch.func.grad_and_value: ``func`` returns a 0-d Tensor (with ``has_aux``: ``(output, aux)``); the
    gradient is with respect to argument ``argnums`` (an int: that argument's tree of Tensors; a tuple of ints: a
    tuple of them), zeros where the output does not depend on an input. Raises RuntimeError for a non-scalar
    output and for argnums that are not unique ints naming positional arguments."""

    def wrapper(*args, **kwargs):
        nums = _check_argnums(argnums, len(args), "grad")
        outer = is_grad_enabled()
        with enable_grad():
            copies = _Copies(args, nums, "grad")
            out, aux = _split_aux(func(*copies.args, **kwargs), has_aux, "grad")
            if not isinstance(out, Tensor) or out.ndim != 0:
                got = f"a Tensor of shape {out.shape}" if isinstance(out, Tensor) else _describe(out)
                raise RuntimeError(f"grad: func must return a scalar (0-d) Tensor, got {got}; for a non-scalar output "
                                   "use vjp or jacrev")
            create = outer and copies.outside([out])
            grads = copies.regroup(_vjp([out], copies.leaves, [None], create), isinstance(argnums, int))
        value = copies.export(out)
        return (grads, (value, copies.export(aux))) if has_aux else (grads, value)

    return wrapper


def grad(func, argnums=0, has_aux=False):
    """A function returning the gradient of ``func`` (a 0-d Tensor output) with respect to argument(s)
    ``argnums``, as torch.func.grad: ``grad(f)(x)`` = ∂f/∂x, of x's shape (a tree of Tensors: a tree of
    gradients; a tuple of argnums: a tuple). ``has_aux``: func returns ``(output, aux)`` and this returns
    ``(gradient, aux)``. Nests: ``grad(grad(f))(x)`` is the second derivative of a scalar function."""
    with_value = grad_and_value(func, argnums, has_aux)

    def wrapper(*args, **kwargs):
        grads, value = with_value(*args, **kwargs)
        return (grads, value[1]) if has_aux else grads

    return wrapper


def vjp(func, *primals, has_aux=False):
    """``(output, vjp_fn)`` — ``(output, vjp_fn, aux)`` with ``has_aux`` —, as torch.func.vjp: ``output =
    func(*primals)`` (a Tensor or a tree of them) and ``vjp_fn(cotangents)`` (of output's structure and
    shapes) returns a tuple with one entry per primal, Σ cotangent · ∂output/∂primal. ``vjp_fn`` may be
    called many times; its result is recorded (differentiable) when grad mode is on and it depends on something
    outside requiring grad (the cotangents included). Raises RuntimeError for a non-float output and, in
    ``vjp_fn``, for cotangents of another structure or shape."""
    with enable_grad():
        copies = _Copies(primals, tuple(range(len(primals))), "vjp")
        out, aux = _split_aux(func(*copies.args), has_aux, "vjp")
    outs, out_spec = _float_outputs(out, "vjp")

    def vjp_fn(cotangents):
        """Σ cotangent · ∂output/∂primal, a tuple with one entry per primal."""
        cots, spec = _flatten(cotangents)
        if spec != out_spec:
            raise RuntimeError("vjp_fn: cotangents must have the structure of func's output (the same tuples, lists "
                               f"and dicts: {len(outs)} Tensor(s)), got {len(cots)} leaves in another structure")
        for i, (o, c) in enumerate(zip(outs, cots)):
            if not isinstance(c, Tensor) or c.shape != o.shape:
                raise RuntimeError(f"vjp_fn: cotangent {i} must be a Tensor of its output's shape {o.shape}, got "
                                   f"{tuple(c.shape) if isinstance(c, Tensor) else _describe(c)}")
        create = is_grad_enabled() and (copies.outside(outs) or any(c.requires_grad for c in cots))
        return copies.regroup(_vjp(outs, copies.leaves, cots, create), single=False)

    result = (copies.export(out), vjp_fn)
    return result + (copies.export(aux),) if has_aux else result


def jvp(func, primals, tangents, *, has_aux=False):
    """``(output, jvp_out)`` — ``(output, jvp_out, aux)`` with ``has_aux`` —, as torch.func.jvp: ``output =
    func(*primals)`` and ``jvp_out`` = J·tangents, the directional derivative, of output's structure. primals and
    tangents are tuples of the same structure and shapes.

    Forward mode by the double-vjp trick: one recorded reverse sweep with a dummy cotangent u (zeros that
    require grad) gives g(u) = Jᵀu, linear in u; the gradient of ⟨g(u), tangents⟩ with respect to u is
    J·tangents. So every op in func needs its second derivative. Raises RuntimeError for primals / tangents that
    are not tuples of one structure and shape."""
    t_flat = _check_tangents(primals, tangents, "jvp")
    outer = is_grad_enabled()
    with enable_grad():
        copies = _Copies(primals, tuple(range(len(primals))), "jvp")
        out, aux = _split_aux(func(*copies.args), has_aux, "jvp")
        outs, out_spec = _float_outputs(out, "jvp")
        us, gs = _transposed(outs, copies.leaves)
        create = outer and (copies.outside(outs) or any(t.requires_grad for t in t_flat))
        jvps = _jvp_from(outs, us, gs, t_flat, create)
    result = (copies.export(out), _unflatten(out_spec, jvps))
    return result + (copies.export(aux),) if has_aux else result


def jacrev(func, argnums=0, *, has_aux=False):
    """A function returning the Jacobian of ``func`` with respect to argument(s) ``argnums``, by reverse mode, as
    torch.func.jacrev: for each output Tensor o and input x, a Tensor of shape ``o.shape + x.shape`` (the result
    has the output's structure; per output, the argument's tree, or a tuple of them for a tuple of argnums).
    One reverse sweep per output element (not batched), so it suits few outputs and many inputs.
    ``has_aux``: returns ``(jacobian, aux)``."""

    def wrapper(*args, **kwargs):
        nums = _check_argnums(argnums, len(args), "jacrev")
        outer = is_grad_enabled()
        with enable_grad():
            copies = _Copies(args, nums, "jacrev")
            out, aux = _split_aux(func(*copies.args, **kwargs), has_aux, "jacrev")
            outs, out_spec = _float_outputs(out, "jacrev")
            create = outer and copies.outside(outs)
            jacobians = []
            for o in outs:
                if o.data.size == 0 or not o.requires_grad:
                    flat = [_zeros(o.shape + x.shape, x) for x in copies.leaves]
                else:
                    rows = [_vjp([o], copies.leaves, [_one_hot(o, k)], create) for k in range(o.data.size)]
                    flat = [_stack_rows([r[i] for r in rows], o.shape) for i in range(len(copies.leaves))]
                jacobians.append(copies.regroup(flat, isinstance(argnums, int)))
        jac = _unflatten(out_spec, jacobians)
        return (jac, copies.export(aux)) if has_aux else jac

    return wrapper


def jacfwd(func, argnums=0, has_aux=False):
    """A function returning the Jacobian of ``func`` with respect to argument(s) ``argnums`` column by column, as
    torch.func.jacfwd, of the same layout as ``jacrev``'s (``o.shape + x.shape`` per output and input).

    Forward mode by the double-vjp trick (see ``jvp``): one recorded reverse sweep gives Jᵀu for a dummy
    cotangent u, then one sweep per input element e_j differentiates ⟨Jᵀu, e_j⟩ with respect to u, giving
    column J·e_j — so it suits many outputs and few inputs, and needs the second derivatives of func's ops.
    ``has_aux``: returns ``(jacobian, aux)``."""

    def wrapper(*args, **kwargs):
        nums = _check_argnums(argnums, len(args), "jacfwd")
        outer = is_grad_enabled()
        with enable_grad():
            copies = _Copies(args, nums, "jacfwd")
            out, aux = _split_aux(func(*copies.args, **kwargs), has_aux, "jacfwd")
            outs, out_spec = _float_outputs(out, "jacfwd")
            us, gs = _transposed(outs, copies.leaves)
            create = outer and copies.outside(outs)
            per_input = []  # per input: one Jacobian per output
            for x, g in zip(copies.leaves, gs):
                if x.data.size == 0:
                    per_input.append([_zeros(o.shape + x.shape, x) for o in outs])
                    continue
                columns = [_jvp_from(outs, us, [g], [_one_hot(x, k)], create) for k in range(x.data.size)]
                per_input.append([_stack_columns([c[i] for c in columns], x.shape) for i in range(len(outs))])
            jacobians = [copies.regroup([j[i] for j in per_input], isinstance(argnums, int)) for i in range(len(outs))]
        jac = _unflatten(out_spec, jacobians)
        return (jac, copies.export(aux)) if has_aux else jac

    return wrapper


def hessian(func, argnums=0):
    """A function returning the Hessian of ``func`` (a 0-d output) with respect to argument(s) ``argnums``,
    ``x.shape + x.shape`` per input pair, as torch.func.hessian: ``jacfwd(jacrev(func, argnums), argnums)``,
    forward over reverse."""
    return jacfwd(jacrev(func, argnums), argnums)


def hvp(func, primals, tangents):
    """``(output, hvp)``: ``output = func(*primals)`` (a 0-d Tensor) and the Hessian-vector product H·tangents, a
    tuple with one entry per primal — the return of torch.autograd.functional.hvp, with jvp's arguments
    (torch.func has no hvp; its recipe ``jvp(grad(f), primals, tangents)`` gives the same product).

    Reverse over reverse: H is symmetric, so H·v is the gradient of ⟨∇f, v⟩ — two reverse sweeps, the first
    recorded. Raises RuntimeError for a non-scalar output or tangents unlike primals."""
    t_flat = _check_tangents(primals, tangents, "hvp")
    outer = is_grad_enabled()
    with enable_grad():
        copies = _Copies(primals, tuple(range(len(primals))), "hvp")
        out = func(*copies.args)
        if not isinstance(out, Tensor) or out.ndim != 0:
            raise RuntimeError(f"hvp: func must return a scalar (0-d) Tensor, got {_describe(out)}")
        gs = _vjp([out], copies.leaves, [None], create=True)
        create = outer and (copies.outside([out]) or any(t.requires_grad for t in t_flat))
        pairs = [(g, t) for g, t in zip(gs, t_flat) if g.requires_grad]
        products = (list(autograd.grad([g for g, _ in pairs], copies.leaves, [t for _, t in pairs], retain_graph=True,
                                       create_graph=create, materialize_grads=True)) if pairs
                    else [_zeros(x.shape, x) for x in copies.leaves])
    return copies.export(out), copies.regroup(products, single=False)


# ----- vmap --------------------------------------------------------------------------------------------------
def _leaf_dims(dims, arg, where):
    """One in_dim per leaf of ``arg``: an int or None applies to all of them; a tuple / list / dict must match
    ``arg``'s structure."""
    if dims is None or isinstance(dims, int) and not isinstance(dims, bool):
        return [dims] * len(_flatten(arg)[0])
    if isinstance(dims, (tuple, list, dict)):
        if isinstance(dims, dict) and isinstance(arg, dict) and set(dims) == set(arg):
            keys = list(arg)
        elif isinstance(dims, (tuple, list)) and isinstance(arg, (tuple, list)) and len(dims) == len(arg):
            keys = range(len(arg))
        else:
            raise ValueError(f"vmap: in_dims{where} has structure {_shape_of(dims)} but the input has "
                             f"{_shape_of(arg)}")
        return [d for k in keys for d in _leaf_dims(dims[k], arg[k], f"{where}[{k!r}]")]
    raise ValueError(f"vmap: in_dims{where} must be an int, None or a tuple / list / dict of them, got {dims!r}")


def _shape_of(tree):
    if isinstance(tree, dict):
        return "{" + ", ".join(f"{k!r}: {_shape_of(v)}" for k, v in tree.items()) + "}"
    if isinstance(tree, (tuple, list)):
        return "(" + ", ".join(_shape_of(v) for v in tree) + ")"
    return "*"


def vmap(func, in_dims=0, out_dims=0):
    """``func`` mapped over a batch dim, as torch.func.vmap: ``vmap(f)(x)[i] = f(x[i])``.

    in_dims: the batch dim of each positional argument — an int for all of them, or a tuple with one entry
    per argument: an int, None (the argument is passed whole to every call: broadcast) or a tree matching the
    argument's. out_dims: where the batch dim goes in each output (an int, or a tuple per output; None: not
    batched, the first call's value). Implemented as a loop: func runs once per batch element on the slices,
    and the outputs are stacked (recorded ops, so the result is differentiable). Nests (``vmap(vmap(f))``) and
    composes (``vmap(grad(loss), in_dims=(None, 0, 0))`` gives per-sample gradients). Raises ValueError for
    in_dims that do not match the arguments, a dim out of range, mapped sizes that differ, no mapped argument,
    and outputs that are not Tensors."""

    def wrapper(*args, **kwargs):
        if isinstance(in_dims, tuple):
            if len(in_dims) != len(args):
                raise ValueError(f"vmap: in_dims has {len(in_dims)} entries but func got {len(args)} positional "
                                 "argument(s): give one in_dim per argument")
            dims = [d for i, (d, a) in enumerate(zip(in_dims, args)) for d in _leaf_dims(d, a, f"[{i}]")]
        elif isinstance(in_dims, int) and not isinstance(in_dims, bool):
            dims = [in_dims] * len(_flatten(args)[0])
        else:
            raise ValueError(f"vmap: in_dims must be an int or a tuple with one entry per argument, got {in_dims!r}")
        flat, spec = _flatten(args)
        sizes = []
        for x, d in zip(flat, dims):
            if d is None:
                continue
            if not isinstance(x, Tensor):
                raise ValueError(f"vmap: in_dim={d} for an input that is {_describe(x)}: only Tensors can be mapped "
                                 "over (use None for the others)")
            if x.ndim == 0 or not -x.ndim <= d < x.ndim:
                raise ValueError(f"vmap: in_dim={d} for an input of shape {x.shape}: expected -{x.ndim} <= in_dim < "
                                 f"{x.ndim}")
            sizes.append(x.shape[d])
        if not sizes:
            raise ValueError("vmap: at least one argument must be mapped over (an in_dim that is not None)")
        if len(set(sizes)) > 1:
            raise ValueError(f"vmap: all mapped inputs must have the same size in the mapped dim, got sizes {sizes}")
        if sizes[0] == 0:
            raise ValueError("vmap: the mapped dim has size 0 (the loop over the batch would never call func)")
        slices = [None if d is None else x.unbind(d) for x, d in zip(flat, dims)]
        results = [_flatten(func(*_unflatten(spec, [x if s is None else s[b] for x, s in zip(flat, slices)]),
                                 **kwargs)) for b in range(sizes[0])]
        leaves, out_spec = results[0]
        if isinstance(out_dims, int) or out_dims is None:
            o_dims = [out_dims] * len(leaves)
        else:
            o_dims = _leaf_dims(out_dims, _unflatten(out_spec, leaves), "(out_dims)")
        outs = []
        for j, d in enumerate(o_dims):
            if d is None:
                outs.append(leaves[j])
                continue
            if not isinstance(leaves[j], Tensor):
                raise ValueError(f"vmap: func must return Tensors (or give them out_dims None), but output {j} is "
                                 f"{_describe(leaves[j])}")
            outs.append(stack([r[0][j] for r in results], dim=d))
        return _unflatten(out_spec, outs)

    return wrapper


# ----- functional_call ---------------------------------------------------------------------------------------
def _named_tensors(module, prefix=""):
    """(dotted name, tensor) of every parameter and buffer, a shared one under each of its names."""
    for name, t in list(module._parameters.items()) + list(module._buffers.items()):
        if t is not None:
            yield prefix + name, t
    for name, child in module._modules.items():
        if child is not None:
            yield from _named_tensors(child, f"{prefix}{name}.")


def _swap(module, name, value):
    """Put ``value`` where the dotted ``name`` points (a parameter, a buffer, else a plain attribute) and return
    the function that puts the old one back."""
    *path, attr = name.split(".")
    owner = module
    for i, part in enumerate(path):
        owner = getattr(owner, part, None)
        if owner is None or not hasattr(owner, "_parameters"):
            raise AttributeError(f"functional_call: {'.'.join(path[:i + 1])!r} (in key {name!r}) is not a submodule "
                                 f"of {type(module).__name__}")
    for registry in (owner._parameters, owner._buffers):
        if attr in registry:
            old = registry[attr]
            owner._register(registry, attr, value)
            return lambda: owner._register(registry, attr, old)
    missing = object()
    old = owner.__dict__.get(attr, missing)
    object.__setattr__(owner, attr, value)
    return lambda: object.__delattr__(owner, attr) if old is missing else object.__setattr__(owner, attr, old)


def functional_call(module, parameter_and_buffer_dicts, args=None, kwargs=None, *, tie_weights=True, strict=False):
    """``module(*args, **kwargs)`` with its parameters and buffers replaced by the tensors given by dotted name
    (a dict, or a tuple / list of dicts with distinct keys), as torch.func.functional_call: the originals are back
    afterwards, even when the call raises, so a model's loss can be differentiated with respect to a dict of
    parameters (``grad(loss)(params, x, y)`` with ``loss`` calling ``functional_call(model, params, x)``).

    args: a tuple, or one argument. tie_weights: a tensor the module holds under several names (tied weights, a
    shared submodule) is replaced under all of them when one is given. strict: the keys must be exactly the
    module's parameter and buffer names. A key that is no parameter or buffer sets a plain attribute for the
    call. Raises RuntimeError (strict) listing the unexpected and missing keys, ValueError for a key given
    twice or tied keys given different tensors."""
    if isinstance(parameter_and_buffer_dicts, dict):
        values = dict(parameter_and_buffer_dicts)
    elif isinstance(parameter_and_buffer_dicts, (tuple, list)) and all(isinstance(d, dict)
                                                                        for d in parameter_and_buffer_dicts):
        keys = [k for d in parameter_and_buffer_dicts for k in d]
        repeated = sorted({k for k in keys if keys.count(k) > 1})
        if repeated:
            raise ValueError(f"functional_call: keys {repeated} appear in several dictionaries")
        values = {k: v for d in parameter_and_buffer_dicts for k, v in d.items()}
    else:
        raise ValueError("functional_call: parameter_and_buffer_dicts must be a dict or a tuple / list of dicts, "
                         f"got {type(parameter_and_buffer_dicts).__name__}")
    names = {}  # id(tensor) -> every name it has
    for name, t in _named_tensors(module):
        names.setdefault(id(t), []).append(name)
    if strict:
        first = {n[0] for n in names.values()}
        every = {name for n in names.values() for name in n}
        covered = {name for n in names.values() if tie_weights and set(n) & set(values) for name in n}
        unexpected = sorted(set(values) - every)
        missing = sorted(first - set(values) - covered)
        if unexpected or missing:
            lines = ([f"Unexpected key(s): {', '.join(map(repr, unexpected))}."] if unexpected else []) + (
                [f"Missing key(s): {', '.join(map(repr, missing))}."] if missing else [])
            raise RuntimeError(f"functional_call: error(s) in reparametrizing for {type(module).__name__}:\n\t"
                               + "\n\t".join(lines))
    swaps = dict(values)
    if tie_weights:
        by_name = {name: n for n in names.values() for name in n}
        for key, value in values.items():
            for other in by_name.get(key, ()):
                if other in values and values[other] is not value:
                    raise ValueError(f"functional_call: keys {key!r} and {other!r} name one tied tensor but were "
                                     "given different ones; pass tie_weights=False to replace them separately")
                swaps.setdefault(other, value)
    restore = []
    try:
        for name, value in swaps.items():
            restore.append(_swap(module, name, value))
        args = () if args is None else args if isinstance(args, tuple) else (args,)
        return module(*args, **(kwargs or {}))
    finally:
        for undo in reversed(restore):
            undo()
