"""Shared test helpers: run a chainrule function and its PyTorch twin on the same inputs and compare
outputs and every input's gradient (the backward is seeded with the same random upstream gradient)."""
import numpy as np
import torch

import chainrule as cr

torch.set_num_threads(1)

TOL = {np.float64: dict(rtol=1e-7, atol=1e-9), np.float32: dict(rtol=2e-4, atol=2e-5)}


def _leaves(arrays, grad):
    ours, theirs = [], []
    for a in arrays:
        if isinstance(a, np.ndarray):
            g = grad and a.dtype.kind == "f"
            ours.append(cr.tensor(a, requires_grad=g))
            theirs.append(torch.tensor(a, requires_grad=g))
        else:
            ours.append(a)
            theirs.append(a)
    return ours, theirs


def assert_parity(cr_fn, torch_fn, *arrays, grad=True, seed=0, rtol=None, atol=None):
    """Assert ``cr_fn(*tensors)`` equals ``torch_fn(*torch_tensors)`` in value and, with ``grad``, that
    the gradients of every floating-point array input agree. Non-array arguments are passed as-is."""
    ours, theirs = _leaves(arrays, grad)
    out, ref = cr_fn(*ours), torch_fn(*theirs)
    ref_np = ref.detach().numpy()
    dtype = out.data.dtype.type if out.data.dtype.kind == "f" else np.float64
    tol = dict(TOL.get(dtype, TOL[np.float64]))
    if rtol is not None:
        tol["rtol"] = rtol
    if atol is not None:
        tol["atol"] = atol
    assert out.shape == tuple(ref.shape), f"shape {out.shape} != torch's {tuple(ref.shape)}"
    assert out.dtype == ref_np.dtype, f"dtype {out.dtype} != torch's {ref_np.dtype}"
    np.testing.assert_allclose(out.data, ref_np, **tol, err_msg="forward differs from torch")
    if not grad or not ref.requires_grad:
        return out
    upstream = np.random.default_rng(seed).standard_normal(out.shape).astype(out.data.dtype)
    out.backward(upstream)
    ref.backward(torch.tensor(upstream))
    for i, (o, t) in enumerate(zip(ours, theirs)):
        if isinstance(t, torch.Tensor) and t.requires_grad:
            tg = np.zeros(tuple(t.shape)) if t.grad is None else t.grad.numpy()
            og = np.zeros(o.shape) if o.grad is None else o.grad.data
            assert og.dtype == o.data.dtype, f"gradient of input {i} has dtype {og.dtype}, input has {o.dtype}"
            np.testing.assert_allclose(og, tg, **tol, err_msg=f"gradient of input {i} differs from torch")
    return out
