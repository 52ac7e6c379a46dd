"""Module, Parameter and the containers, with PyTorch's contract: assigning a Parameter, a Module or
a registered buffer to an attribute registers it, so ``parameters()``, ``state_dict()``,
``train()``/``eval()`` and ``zero_grad()`` find everything without being told.
"""
from collections import OrderedDict, namedtuple
from collections.abc import Mapping

import numpy as np

from .. import dtypes, hooks
from ..autograd import Function, NoSecondDerivative, no_grad
from ..tensor import Tensor


class Parameter(Tensor):
    """A Tensor that is a module's learnable weight: requires grad by default, registered on assignment."""

    __slots__ = ()

    def __init__(self, data, requires_grad=True):
        super().__init__(data.data if isinstance(data, Tensor) else data, requires_grad=requires_grad)

    def __repr__(self):
        return "Parameter containing:\n" + super().__repr__()


IncompatibleKeys = namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])


class _HookIdentity(Function):
    """out = x; its backward reports g to a module's backward-hook call (and may swap it)."""

    def forward(self, x, *, call, slot):
        self.call, self.slot = call, slot
        return x

    def backward(self, g):
        return (self.call.received(self.slot, g),)

    def backward_graph(self, g):  # create_graph: the hooks see the value; a swapped gradient is not differentiable
        swapped = self.call.received(self.slot, g.data)
        if swapped is g.data:
            return (g,)
        return (NoSecondDerivative.apply(swapped, g, op="a module's full backward hook", index=0),)


class _BackwardHookCall:
    """One forward call of a module with full backward hooks: identity nodes on its tensor inputs and
    output collect grad_output, then grad_input, and fire the hooks once all input gradients are in."""

    def __init__(self, module, args):
        self.module = module
        self.n_inputs = len(args)
        self.grad_input = [None] * len(args)
        self.pending = {i for i, a in enumerate(args) if isinstance(a, Tensor) and a.requires_grad}
        self.grad_output = None

    def wrap_inputs(self, args):
        return tuple(_HookIdentity.apply(a, call=self, slot=i) if i in self.pending else a for i, a in enumerate(args))

    def wrap_output(self, out):
        if isinstance(out, Tensor) and out.requires_grad:
            return _HookIdentity.apply(out, call=self, slot="output")
        return out

    def received(self, slot, g):
        if slot == "output":
            self.grad_output = (Tensor(g),)
            if not self.pending:
                self._fire()
            return g
        self.grad_input[slot] = Tensor(g)
        self.pending.discard(slot)
        if not self.pending:
            replaced = self._fire()
            if replaced is not None:
                return replaced[slot].data
        return g

    def _fire(self):
        replaced = None
        for hook in list(self.module._backward_hooks.values()):
            result = hook(self.module, tuple(self.grad_input), self.grad_output)
            if result is not None:
                wanting = [i for i, a in enumerate(self.grad_input) if a is not None]
                if len(wanting) != 1:
                    raise RuntimeError(
                        f"{type(self.module).__name__}: a full backward hook may replace grad_input only for a module "
                        f"with one input that requires grad (this call has {len(wanting)})"
                    )
                replaced = tuple(result)
                if len(replaced) != len(self.grad_input):
                    raise RuntimeError(
                        f"{type(self.module).__name__}: a full backward hook returned {len(replaced)} gradients for "
                        f"{len(self.grad_input)} inputs"
                    )
                for old, new in zip(self.grad_input, replaced):
                    if old is not None and new is not None and tuple(np.shape(getattr(new, "data", new))) != old.shape:
                        raise RuntimeError(
                            f"{type(self.module).__name__}: a full backward hook changed a gradient's shape from "
                            f"{old.shape} to {tuple(np.shape(getattr(new, 'data', new)))}"
                        )
                self.grad_input = [r if isinstance(r, Tensor) or r is None else Tensor(r) for r in replaced]
        return self.grad_input if replaced is not None else None


class Module:
    """Base class of every layer and model. Subclasses set attributes in ``__init__`` and define ``forward``.

    Assigning a Parameter, a Module or a registered buffer records it in ``_parameters``, ``_modules`` or
    ``_buffers`` (their order is the state_dict's); ``_register`` also mirrors it into the instance
    ``__dict__``, so that reading ``self.weight`` in a forward is a plain attribute lookup, not the
    ``__getattr__`` fallback after a failed one (0.84 µs each, 5 µs of an MLP's 88 µs inference).
    """

    def __init__(self):
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_buffers", OrderedDict())
        object.__setattr__(self, "_non_persistent", set())
        object.__setattr__(self, "_modules", OrderedDict())
        object.__setattr__(self, "training", True)
        object.__setattr__(self, "_forward_pre_hooks", OrderedDict())
        object.__setattr__(self, "_forward_hooks", OrderedDict())
        object.__setattr__(self, "_backward_hooks", OrderedDict())

    # ----- registration -------------------------------------------------------------------------
    def __setattr__(self, name, value):
        if "_parameters" not in self.__dict__:
            raise AttributeError(f"{type(self).__name__}: call super().__init__() before assigning attributes")
        params, modules, buffers = self._parameters, self._modules, self._buffers
        if isinstance(value, Parameter):
            if name not in params:  # a replaced parameter keeps its place in the order, as in torch
                self._forget(name)
            self._register(params, name, value)
        elif isinstance(value, Module):
            if name not in modules:
                self._forget(name)
            self._register(modules, name, value)
        elif name in params:
            if value is not None:
                raise TypeError(f"{type(self).__name__}.{name}: cannot assign {type(value).__name__} to a parameter "
                                "(use a Parameter or None)")
            self._register(params, name, None)
        elif name in modules:
            if value is not None:
                raise TypeError(f"{type(self).__name__}.{name}: cannot assign {type(value).__name__} to a submodule")
            self._register(modules, name, None)
        elif name in buffers:
            if value is not None and not isinstance(value, Tensor):
                raise TypeError(f"{type(self).__name__}.{name}: a buffer must be a Tensor or None, "
                                f"got {type(value).__name__}")
            self._register(buffers, name, value)
        else:
            object.__setattr__(self, name, value)

    def _register(self, registry, name, value):
        registry[name] = value
        self.__dict__[name] = value

    def _forget(self, name):
        self.__dict__.pop(name, None)
        for registry in (self._parameters, self._modules, self._buffers):
            registry.pop(name, None)
        self._non_persistent.discard(name)

    def __getattr__(self, name):
        d = self.__dict__
        for registry in ("_parameters", "_buffers", "_modules"):
            if registry in d and name in d[registry]:
                return d[registry][name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __delattr__(self, name):
        if name in self._parameters or name in self._modules or name in self._buffers:
            self._forget(name)
        else:
            object.__delattr__(self, name)

    def register_parameter(self, name, param):
        """Register ``param`` (a Parameter, or None for an absent one such as a bias turned off) under ``name``, as
        assigning ``self.name = param`` does. Raises TypeError for anything else."""
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(f"register_parameter: {name} must be a Parameter or None, got {type(param).__name__}")
        self._forget(name)
        self._register(self._parameters, name, param)

    def register_buffer(self, name, tensor, persistent=True):
        """A non-learnable tensor that belongs to the module's state (e.g. BatchNorm's running mean)."""
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(f"register_buffer: {name} must be a Tensor or None, got {type(tensor).__name__}")
        self._forget(name)
        self._register(self._buffers, name, tensor)
        if not persistent:
            self._non_persistent.add(name)

    def add_module(self, name, module):
        """Register ``module`` (a Module or None) as a child under ``name``, as assigning ``self.name = module`` does;
        ``register_module`` is the same. Raises TypeError for anything else."""
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"add_module: {name} must be a Module, got {type(module).__name__}")
        self._forget(name)
        self._register(self._modules, name, module)

    register_module = add_module

    # ----- calling ------------------------------------------------------------------------------
    def forward(self, *args, **kwargs):
        """The computation of the module, which every subclass defines; call the module (``module(x)``), not
        ``forward``, so that hooks run. Raises NotImplementedError here."""
        raise NotImplementedError(f"{type(self).__name__} has no forward()")

    def __call__(self, *args, **kwargs):
        if self._forward_pre_hooks or self._forward_hooks or self._backward_hooks:
            return self._call_with_hooks(args, kwargs)
        return self.forward(*args, **kwargs)

    # ----- hooks --------------------------------------------------------------------------------
    def register_forward_pre_hook(self, hook):
        """``hook(module, args)`` runs before ``forward``; returning a value (a tuple, or one input) replaces args."""
        return hooks.add(self._forward_pre_hooks, hook)

    def register_forward_hook(self, hook):
        """``hook(module, args, output)`` runs after ``forward``; returning a value replaces the output."""
        return hooks.add(self._forward_hooks, hook)

    def register_full_backward_hook(self, hook):
        """``hook(module, grad_input, grad_output)`` runs when the gradients w.r.t. the module's tensor inputs
        have been computed (tuples; None for inputs that need no gradient). Returning a tuple replaces
        grad_input (for modules with one input that requires grad)."""
        return hooks.add(self._backward_hooks, hook)

    def _call_with_hooks(self, args, kwargs):
        for hook in list(self._forward_pre_hooks.values()):
            replaced = hook(self, args)
            if replaced is not None:
                args = replaced if isinstance(replaced, tuple) else (replaced,)
        call = _BackwardHookCall(self, args) if self._backward_hooks else None
        if call is not None:
            args = call.wrap_inputs(args)
        out = self.forward(*args, **kwargs)
        for hook in list(self._forward_hooks.values()):
            replaced = hook(self, args, out)
            if replaced is not None:
                out = replaced
        return call.wrap_output(out) if call is not None else out

    # ----- traversal ----------------------------------------------------------------------------
    def named_modules(self, prefix="", memo=None):
        """(name, module) for this module and every descendant, each once, depth-first."""
        memo = set() if memo is None else memo
        if id(self) in memo:
            return
        memo.add(id(self))
        yield prefix, self
        for name, child in self._modules.items():
            if child is not None:
                yield from child.named_modules(f"{prefix}.{name}" if prefix else name, memo)

    def modules(self):
        """Iterate over this module and every descendant, each once, depth-first (``named_modules`` without the names).
        """
        for _, m in self.named_modules():
            yield m

    def named_children(self):
        """(name, child) for each direct submodule, a child registered under two names once (like torch)."""
        seen = set()
        for name, child in self._modules.items():
            if child is not None and id(child) not in seen:
                seen.add(id(child))
                yield name, child

    def children(self):
        """Iterate over the direct submodules, each once."""
        for _, child in self.named_children():
            yield child

    def _named_members(self, registry, recurse):
        seen = set()
        mods = self.named_modules() if recurse else [("", self)]
        for prefix, m in mods:
            for name, t in getattr(m, registry).items():
                if t is None or id(t) in seen:
                    continue
                seen.add(id(t))
                yield (f"{prefix}.{name}" if prefix else name), t

    def named_parameters(self, prefix="", recurse=True):
        """Iterate over (dotted name, Parameter) of this module and, with ``recurse=True`` (the default), every
        descendant, each Parameter once (a shared one under its first name); ``prefix`` is put before each name. The
        names are the state_dict's keys."""
        for name, p in self._named_members("_parameters", recurse):
            yield (f"{prefix}.{name}" if prefix else name), p

    def parameters(self, recurse=True):
        """Iterate over the Parameters of this module (and its descendants with ``recurse=True``), each once: what an
        optimizer is given."""
        for _, p in self.named_parameters(recurse=recurse):
            yield p

    def named_buffers(self, prefix="", recurse=True):
        """Iterate over (dotted name, Tensor) of the registered buffers (running statistics…), as ``named_parameters``.
        """
        for name, b in self._named_members("_buffers", recurse):
            yield (f"{prefix}.{name}" if prefix else name), b

    def buffers(self, recurse=True):
        """Iterate over the registered buffers of this module (and its descendants with ``recurse=True``)."""
        for _, b in self.named_buffers(recurse=recurse):
            yield b

    # ----- modes and grads ----------------------------------------------------------------------
    def train(self, mode=True):
        """Set training mode (``mode=True``) or evaluation mode on this module and every descendant; returns self.
        Dropout and batch norm read ``self.training`` [note 003: BN at test time]."""
        for m in self.modules():
            object.__setattr__(m, "training", bool(mode))
        return self

    def eval(self):
        """``train(False)``: evaluation mode (dropout off, batch norm uses its running statistics); returns self."""
        return self.train(False)

    def requires_grad_(self, requires_grad=True):
        """Set ``requires_grad`` on every parameter (False freezes the module); returns self."""
        for p in self.parameters():
            p.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none=True):
        """Clear every parameter's ``.grad``: set it to None (``set_to_none=True``, the default, as torch) or fill it
        with zeros."""
        for p in self.parameters():
            if p.grad is None:
                continue
            if set_to_none:
                p.grad = None
            else:
                p.grad.data[...] = 0

    def apply(self, fn):
        """Call ``fn(module)`` on every submodule (children first) and on self, e.g. for custom init."""
        for child in self.children():
            child.apply(fn)
        fn(self)
        return self

    def to(self, dtype):
        """Cast every floating-point parameter and buffer (in place, so optimizers keep their references)."""
        dtype = dtypes.to_dtype(dtype)
        if dtype.kind != "f":
            raise TypeError(f"Module.to: only floating-point dtypes are supported, got {dtype}")
        for t in list(self.parameters()) + list(self.buffers()):
            if t.data.dtype.kind == "f":
                t.data = t.data.astype(dtype)
                if t.grad is not None:
                    t.grad.data = t.grad.data.astype(dtype)
        return self

    def float(self):
        """``to(chainrule.float32)``: cast the floating-point parameters and buffers in place; returns self."""
        return self.to(dtypes.float32)

    def double(self):
        """``to(chainrule.float64)``: cast the floating-point parameters and buffers in place; returns self."""
        return self.to(dtypes.float64)

    # ----- state --------------------------------------------------------------------------------
    def state_dict(self, prefix=""):
        """Ordered name → Tensor (parameters and persistent buffers), sharing memory with the module.

        A submodule reachable under several names appears under each of them, as in torch, so a
        state dict saved by torch for the same structure has the same keys."""
        out = OrderedDict()
        self._save_to_state_dict(out, prefix)
        return out

    def _save_to_state_dict(self, out, prefix):
        for name, p in self._parameters.items():
            if p is not None:
                out[prefix + name] = p.detach()
        for name, b in self._buffers.items():
            if b is not None and name not in self._non_persistent:
                out[prefix + name] = b.detach()
        for name, child in self._modules.items():
            if child is not None:
                child._save_to_state_dict(out, f"{prefix}{name}.")

    def load_state_dict(self, state_dict, strict=True):
        """Copy values (Tensors or arrays) into the parameters and buffers of the same names.

        Shapes must match exactly; values are cast to each parameter's dtype. With ``strict``, missing
        and unexpected keys raise; otherwise they are returned as ``(missing_keys, unexpected_keys)``.
        """
        if not isinstance(state_dict, Mapping):
            raise TypeError(f"load_state_dict: expected a dict (a Mapping of names to tensors or arrays), "
                            f"got {type(state_dict).__name__}")
        own = self.state_dict()
        missing = [k for k in own if k not in state_dict]
        unexpected = [k for k in state_dict if k not in own]
        errors = []
        if strict:
            if missing:
                errors.append(f"missing keys: {', '.join(missing)}")
            if unexpected:
                errors.append(f"unexpected keys: {', '.join(unexpected)}")
        values = {}
        for k, target in own.items():
            if k not in state_dict:
                continue
            # np.asarray, not as_array: a float64 torch tensor or list must not pass through the default float
            value = state_dict[k]
            value = values[k] = np.asarray(value.data if isinstance(value, Tensor) else value)
            if value.shape != target.shape:
                errors.append(f"size mismatch for {k}: expected shape {target.shape}, got {value.shape}")
        if errors:
            raise RuntimeError(f"load_state_dict: error(s) loading into {type(self).__name__}:\n  " + "\n  ".join(errors))
        with no_grad():
            for k, value in values.items():
                own[k].data[...] = value
        written = {id(own[k].data) for k in values}  # own holds detached views: bump the modules' own tensors
        for t in [*self.parameters(), *self.buffers()]:
            if id(t.data) in written:
                t._version += 1  # the array changed: what was computed from it (a cached transform) is stale
        return IncompatibleKeys(missing, unexpected)

    # ----- repr ---------------------------------------------------------------------------------
    def extra_repr(self):
        """The text inside the parentheses of this module's repr line (its constructor arguments, e.g. ``in_features=4,
        out_features=2, bias=True``); '' here. Subclasses override it."""
        return ""

    def __repr__(self):
        lines = []
        for name, child in self._modules.items():
            body = repr(child).replace("\n", "\n  ")
            lines.append(f"({name}): {body}")
        head = f"{type(self).__name__}({self.extra_repr()}"
        if not lines:
            return head + ")"
        return head + "\n  " + "\n  ".join(lines) + "\n)"

    def __dir__(self):
        return sorted(set(super().__dir__()) | set(self._parameters) | set(self._modules) | set(self._buffers))


class Sequential(Module):
    """Modules applied one after another: ``Sequential(a, b, c)(x) == c(b(a(x)))``."""

    def __init__(self, *modules):
        super().__init__()
        if len(modules) == 1 and isinstance(modules[0], (dict, OrderedDict)):
            for name, m in modules[0].items():
                self.add_module(name, m)
        else:
            for i, m in enumerate(modules):
                self.add_module(str(i), m)

    def forward(self, x):
        """x passed through each module in order: ``c(b(a(x)))``; the shapes are those the modules take and give."""
        for m in self._modules.values():
            x = m(x)
        return x

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def __getitem__(self, idx):
        if isinstance(idx, slice):
            return Sequential(OrderedDict(list(self._modules.items())[idx]))
        items = list(self._modules.values())
        if not -len(items) <= idx < len(items):
            raise IndexError(f"Sequential: index {idx} out of range for {len(items)} modules")
        return items[idx]

    def append(self, module):
        """Add ``module`` at the end (named by its index); returns self."""
        self.add_module(str(len(self)), module)
        return self


class ModuleList(Module):
    """A list of modules whose parameters are registered (a plain list would hide them)."""

    def __init__(self, modules=()):
        super().__init__()
        for m in modules:
            self.append(m)

    def append(self, module):
        """Add ``module`` at the end (registered under its index); returns self."""
        self.add_module(str(len(self)), module)
        return self

    def extend(self, modules):
        """Append each module of the iterable ``modules``; returns self."""
        for m in modules:
            self.append(m)
        return self

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def __getitem__(self, idx):
        items = list(self._modules.values())
        if isinstance(idx, slice):
            return ModuleList(items[idx])
        if not -len(items) <= idx < len(items):
            raise IndexError(f"ModuleList: index {idx} out of range for {len(items)} modules")
        return items[idx]


class ModuleDict(Module):
    """A dict of modules whose parameters are registered."""

    def __init__(self, modules=None):
        super().__init__()
        for name, m in (modules or {}).items():
            self.add_module(name, m)

    def __getitem__(self, key):
        return self._modules[key]

    def __setitem__(self, key, module):
        self.add_module(key, module)

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules)

    def __contains__(self, key):
        return key in self._modules

    def keys(self):
        """The names, in insertion order."""
        return self._modules.keys()

    def values(self):
        """The modules, in insertion order."""
        return self._modules.values()

    def items(self):
        """(name, module) pairs, in insertion order."""
        return self._modules.items()


def _as_parameter(value, where):
    """A container's entry: a Parameter stays, a plain Tensor becomes one (as torch's ParameterList/Dict)."""
    if isinstance(value, Parameter):
        return value
    if isinstance(value, Tensor):
        return Parameter(value, requires_grad=value.requires_grad)
    raise TypeError(f"{where}: entries must be Parameters or Tensors, got {type(value).__name__}")


def _describe(p):
    return f"Parameter containing: [{p.dtype} of size {'x'.join(map(str, p.shape))}]"


class ParameterList(Module):
    """A list of Parameters registered under the names "0", "1", ... (in ``parameters()`` and the state_dict,
    as torch's); a plain Tensor appended becomes a Parameter."""

    def __init__(self, values=None):
        super().__init__()
        for v in values or ():
            self.append(v)

    def append(self, value):
        """Add ``value`` (a Parameter, or a Tensor made into one) at the end; returns self. Raises TypeError for
        anything else."""
        self.register_parameter(str(len(self)), _as_parameter(value, "ParameterList"))
        return self

    def extend(self, values):
        """Append each of ``values``; returns self."""
        for v in values:
            self.append(v)
        return self

    def __len__(self):
        return len(self._parameters)

    def __iter__(self):
        return iter(self._parameters.values())

    def _index(self, idx):
        if not -len(self) <= idx < len(self):
            raise IndexError(f"ParameterList: index {idx} out of range for {len(self)} parameters")
        return str(idx % len(self))

    def __getitem__(self, idx):
        if isinstance(idx, slice):
            return ParameterList(list(self)[idx])
        return self._parameters[self._index(idx)]

    def __setitem__(self, idx, value):
        self.register_parameter(self._index(idx), _as_parameter(value, "ParameterList"))

    def __repr__(self):
        body = "\n  ".join(f"({name}): {_describe(p)}" for name, p in self._parameters.items())
        return f"ParameterList(\n  {body}\n)" if len(self) else "ParameterList()"


class ParameterDict(Module):
    """A dict of Parameters registered under their keys (in ``parameters()`` and the state_dict); a plain Tensor
    stored becomes a Parameter."""

    def __init__(self, parameters=None):
        super().__init__()
        if parameters is not None:
            self.update(parameters)

    def __getitem__(self, key):
        return self._parameters[key]

    def __setitem__(self, key, value):
        if not isinstance(key, str):
            raise TypeError(f"ParameterDict: keys must be strings, got {type(key).__name__}")
        self.register_parameter(key, _as_parameter(value, "ParameterDict"))

    def __delitem__(self, key):
        self._forget(key)

    def __len__(self):
        return len(self._parameters)

    def __iter__(self):
        return iter(self._parameters)

    def __contains__(self, key):
        return key in self._parameters

    def keys(self):
        """The names, in insertion order."""
        return self._parameters.keys()

    def values(self):
        """The Parameters, in insertion order."""
        return self._parameters.values()

    def items(self):
        """(name, Parameter) pairs, in insertion order."""
        return self._parameters.items()

    def get(self, key, default=None):
        """The Parameter named ``key``, or ``default`` when there is none."""
        return self._parameters.get(key, default)

    def pop(self, key):
        """Remove the Parameter named ``key`` and return it. Raises KeyError when there is none."""
        value = self._parameters[key]
        self._forget(key)
        return value

    def update(self, parameters):
        """Set each (key, value) of ``parameters`` (a mapping or an iterable of pairs), values made Parameters as in
        ``__setitem__``."""
        for key, value in (parameters.items() if isinstance(parameters, Mapping) else parameters):
            self[key] = value

    def __repr__(self):
        body = "\n  ".join(f"({name}): {_describe(p)}" for name, p in self._parameters.items())
        return f"ParameterDict(\n  {body}\n)" if len(self) else "ParameterDict()"


class Identity(Module):
    """Returns its input unchanged (accepts and ignores constructor arguments, like torch)."""

    def __init__(self, *args, **kwargs):
        super().__init__()

    def forward(self, x):
        """x unchanged."""
        return x


class Flatten(Module):
    """Flattens dims ``start_dim``..``end_dim`` (default: all but the batch dim)."""

    def __init__(self, start_dim=1, end_dim=-1):
        super().__init__()
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, x):
        """``x.flatten(start_dim, end_dim)``: (N, C, H, W) → (N, C·H·W) with the defaults."""
        return x.flatten(self.start_dim, self.end_dim)

    def extra_repr(self):
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"
