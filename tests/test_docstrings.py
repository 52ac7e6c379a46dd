"""Every public callable a user imports has a docstring: the functions and classes in each public module's
namespace (its ``__all__`` where it has one, else its names without a leading underscore that chainrule defines),
their public methods and properties, Tensor's public attributes, and each nn Module's ``forward``.

A method that overrides a documented one of a chainrule base class (``SGD.step`` over ``Optimizer.step``) is
documented by it, as ``inspect.getdoc`` reads it — except a Module's ``forward``, which says what that layer
computes and so needs its own. Run ``python tests/test_docstrings.py`` for the list and the count."""
import importlib
import inspect

import pytest

PUBLIC_MODULES = [
    "chainrule", "chainrule.nn", "chainrule.nn.functional", "chainrule.nn.init", "chainrule.nn.utils",
    "chainrule.optim", "chainrule.optim.lr_scheduler", "chainrule.data", "chainrule.data.transforms",
    "chainrule.linalg", "chainrule.diagnostics", "chainrule.viz", "chainrule.train", "chainrule.io",
    "chainrule.runtime", "chainrule.profiler", "chainrule.autograd", "chainrule.func",
]


def _ours(obj):
    module = getattr(obj, "__module__", None) or ""
    return module == "chainrule" or module.startswith("chainrule.")


def _public_names(module):
    names = getattr(module, "__all__", None)
    if names is None:
        names = [n for n in vars(module) if not n.startswith("_")]
    return names


def _own_doc(obj):
    doc = obj.__doc__ if not isinstance(obj, property) else (obj.fget.__doc__ if obj.fget else obj.__doc__)
    return bool(doc and doc.strip())


def _members(cls):
    """(name, object, defining class) for the public methods and properties cls has, defined in chainrule."""
    for name in dir(cls):
        if name.startswith("_"):
            continue
        for owner in cls.__mro__:
            if name in vars(owner):
                break
        if not _ours(owner):
            continue
        raw = vars(owner)[name]
        if isinstance(raw, (staticmethod, classmethod)):
            raw = raw.__func__
        if isinstance(raw, property) or inspect.isfunction(raw):
            yield name, raw, owner


def _inherited_doc(owner, name):
    for base in owner.__mro__[1:]:
        if name in vars(base) and _ours(base):
            raw = vars(base)[name]
            if isinstance(raw, (staticmethod, classmethod)):
                raw = raw.__func__
            if _own_doc(raw):
                return True
    return False


def undocumented():
    """The qualified names of the public callables without a docstring, sorted."""
    from chainrule.nn import Module

    missing, seen_classes = set(), set()

    def visit_class(cls):
        if cls in seen_classes:
            return
        seen_classes.add(cls)
        if not _own_doc(cls):
            missing.add(f"{cls.__module__}.{cls.__qualname__}")
        for name, raw, owner in _members(cls):
            if _own_doc(raw):
                continue
            needs_own = name == "forward" and issubclass(owner, Module) and owner is not Module
            if needs_own or not _inherited_doc(owner, name):
                missing.add(f"{owner.__module__}.{owner.__qualname__}.{name}")

    for module_name in PUBLIC_MODULES:
        module = importlib.import_module(module_name)
        for name in _public_names(module):
            obj = getattr(module, name)
            if inspect.isclass(obj) and _ours(obj):
                visit_class(obj)
            elif (inspect.isfunction(obj) or inspect.isbuiltin(obj)) and _ours(obj) and not _own_doc(obj):
                missing.add(f"{obj.__module__}.{obj.__qualname__}")
    return sorted(missing)


def test_every_public_callable_has_a_docstring():
    missing = undocumented()
    assert not missing, f"{len(missing)} public callables have no docstring:\n  " + "\n  ".join(missing)


@pytest.mark.parametrize("module_name", PUBLIC_MODULES)
def test_public_module_has_a_docstring(module_name):
    assert _own_doc(importlib.import_module(module_name)), f"{module_name} has no module docstring"


if __name__ == "__main__":
    names = undocumented()
    print("\n".join(names))
    print(len(names), "public callables without a docstring")
