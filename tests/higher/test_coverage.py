"""Which ops can be differentiated twice: all but a known few, and those few say so when asked."""
import importlib
import inspect
import pkgutil

import numpy as np
import pytest

import chainrule as cr
from chainrule import kernels, ops
from chainrule.autograd import Function

FIRST_ORDER_ONLY = {"chainrule.ops.linalg.QR", "chainrule.ops.linalg.SVD",
                    "chainrule.distributed.sync_batchnorm.SyncBatchNormFunction"}


def _functions():
    names = [f"chainrule.ops.{m.name}" for m in pkgutil.iter_modules(ops.__path__)]
    names += [f"chainrule.kernels.{m.name}" for m in pkgutil.iter_modules(kernels.__path__)]
    names += ["chainrule.creation", "chainrule.nn.module", "chainrule.distributed.sync_batchnorm"]
    for name in names:
        module = importlib.import_module(name)
        for attr, cls in vars(module).items():
            if inspect.isclass(cls) and issubclass(cls, Function) and cls.__module__ == name and \
                    not attr.startswith("_") and cls is not Function:
                yield f"{name}.{attr}", cls


def test_every_op_but_a_known_few_has_a_recorded_backward():
    without = {name for name, cls in _functions()
               if cls.backward_graph is Function.backward_graph and cls.decomposition is None}
    assert without == FIRST_ORDER_ONLY


@pytest.mark.parametrize("op", [lambda a: cr.linalg.svd(a)[1].sum(), lambda a: cr.linalg.qr(a)[1].sum()])
def test_first_order_only_ops_raise_naming_themselves(op):
    a = cr.tensor(np.random.default_rng(0).standard_normal((3, 3)), requires_grad=True)
    (g,) = cr.autograd.grad(op(a), a, create_graph=True)  # the first derivative is there
    with pytest.raises(RuntimeError, match=r"(SVD|QR): no second derivative"):
        cr.autograd.grad(g.sum(), a)
