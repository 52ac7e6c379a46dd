"""Higher-order gradients against PyTorch: run ``f`` on chainrule and torch, then differentiate the
gradient again (and again), each time contracting with the same random tensor, and compare every order.

Order 1: gᵢ = ∂⟨v, f(x)⟩/∂xᵢ with a random v. Order k+1: ∂⟨uₖ, gₖ⟩/∂xᵢ summed over the inputs with random
uₖ — one reverse sweep per order, exactly what ``grad(..., create_graph=True)`` twice computes.
"""
import numpy as np
import torch

import chainrule as cr

torch.set_num_threads(1)


def _dot(outs, weights, lib):
    total = None
    for o, w in zip(outs, weights):
        term = (o * w).sum()
        total = term if total is None else total + term
    return total


def _floats(out):
    outs = out if isinstance(out, (tuple, list)) else (out,)
    return [o for o in outs if o.dtype in (cr.float32, cr.float64, torch.float32, torch.float64)]


def assert_higher_order(cr_fn, torch_fn, *arrays, order=2, seed=0, rtol=1e-9, atol=1e-10, wrt=None):
    """Assert that the gradients of order 1..``order`` of ``cr_fn`` equal torch's. ``arrays``: floating-point
    arrays become inputs that require grad (``wrt``: the indices that do, default all float arrays); anything
    else is passed as is. The gradient of a float output not reached is compared as zeros."""
    rng = np.random.default_rng(seed)
    wrt = [i for i, a in enumerate(arrays) if isinstance(a, np.ndarray) and a.dtype.kind == "f"] if wrt is None else wrt
    ours = [cr.tensor(a, requires_grad=i in wrt) if isinstance(a, np.ndarray) else a for i, a in enumerate(arrays)]
    theirs = [torch.tensor(a, requires_grad=i in wrt) if isinstance(a, np.ndarray) else a
              for i, a in enumerate(arrays)]
    x_ours, x_theirs = [ours[i] for i in wrt], [theirs[i] for i in wrt]
    outs, refs = _floats(cr_fn(*ours)), _floats(torch_fn(*theirs))
    assert len(outs) == len(refs)
    for o, r in zip(outs, refs):
        np.testing.assert_allclose(o.data, r.detach().numpy(), rtol=rtol, atol=atol, err_msg="forward differs")
    weights = [rng.standard_normal(o.shape).astype(o.data.dtype) for o in outs]
    s_ours = _dot(outs, [cr.tensor(w) for w in weights], cr)
    s_theirs = _dot(refs, [torch.tensor(w) for w in weights], torch)
    for k in range(1, order + 1):
        g_ours = cr.autograd.grad(s_ours, x_ours, create_graph=k < order, allow_unused=True)
        g_theirs = torch.autograd.grad(s_theirs, x_theirs, create_graph=k < order, allow_unused=True)
        for i, (a, b) in enumerate(zip(g_ours, g_theirs)):
            a = np.zeros(x_ours[i].shape) if a is None else a.data
            b = np.zeros(tuple(x_theirs[i].shape)) if b is None else b.detach().numpy(force=True)
            np.testing.assert_allclose(a, b, rtol=rtol, atol=atol, err_msg=f"order {k}, input {wrt[i]} differs")
        if k == order:
            return
        us = [rng.standard_normal(a.shape) if a is not None else None for a in g_ours]
        ours_next = [(a, u) for a, u in zip(g_ours, us) if a is not None and a.requires_grad]
        theirs_next = [(b, u) for b, u in zip(g_theirs, us) if b is not None and b.requires_grad]
        if not ours_next:  # chainrule's gradient is constant in x: torch's must be too (all higher orders 0)
            if theirs_next:
                s = _dot([b for b, _ in theirs_next], [torch.tensor(u) for _, u in theirs_next], torch)
                for b in torch.autograd.grad(s, x_theirs, allow_unused=True):
                    assert b is None or np.allclose(b.numpy(force=True), 0, rtol=0, atol=atol), \
                        f"order {k + 1}: torch's is nonzero, chainrule's is 0"
            return
        s_ours = _dot([a for a, _ in ours_next], [cr.tensor(u) for _, u in ours_next], cr)
        if not theirs_next:  # torch's gradient is constant in x: chainrule's next orders must be 0
            for a in cr.autograd.grad(s_ours, x_ours, allow_unused=True):
                assert a is None or np.allclose(a.data, 0, rtol=0, atol=atol), \
                    f"order {k + 1}: chainrule's is nonzero, torch's is 0"
            return
        s_theirs = _dot([b for b, _ in theirs_next], [torch.tensor(u) for _, u in theirs_next], torch)
