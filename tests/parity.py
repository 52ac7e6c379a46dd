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


def _floats(out):
    outs = out if isinstance(out, (tuple, list)) else (out,)
    flat = []
    for o in outs:
        flat.extend(_floats(o) if isinstance(o, (tuple, list)) else [o])
    return [o for o in flat if isinstance(o, cr.Tensor)]


def _run_path(fn, arrays, reference, seed):
    tensors = [cr.tensor(a, requires_grad=a.dtype.kind == "f") if isinstance(a, np.ndarray) else a for a in arrays]
    with cr.use_reference(reference):
        outs = _floats(fn(*tensors))
        rng = np.random.default_rng(seed)
        loss = None
        for o in outs:
            if o.requires_grad:
                term = (o * cr.tensor(rng.standard_normal(o.shape).astype(o.data.dtype))).sum()
                loss = term if loss is None else loss + term
        if loss is not None:
            loss.backward()
    grads = [t.grad.data if isinstance(t, cr.Tensor) and t.grad is not None else None for t in tensors]
    return [o.data for o in outs], grads


def assert_paths_agree(fn, *arrays, seed=0, rtol=1e-12, atol=1e-13):
    """Assert that ``fn(*tensors)`` computes the same on the fast kernels as on the reference ops
    (``chainrule.use_reference``): every output (a Tensor, or tuples of them) and the gradient of every
    floating-point array input, the backward seeded by the same random weights on every float output.
    Non-array arguments are passed as-is. The default tolerances are for float64 (rounding only)."""
    fast_out, fast_grads = _run_path(fn, arrays, False, seed)
    ref_out, ref_grads = _run_path(fn, arrays, True, seed)
    assert len(fast_out) == len(ref_out), f"{len(fast_out)} outputs on the fast path, {len(ref_out)} on the reference"
    for i, (f, r) in enumerate(zip(fast_out, ref_out)):
        assert f.shape == r.shape and f.dtype == r.dtype, f"output {i}: fast {f.shape} {f.dtype}, reference {r.shape} {r.dtype}"
        np.testing.assert_allclose(f, r, rtol=rtol, atol=atol, err_msg=f"output {i}: fast kernel != reference")
    for i, (f, r) in enumerate(zip(fast_grads, ref_grads)):
        assert (f is None) == (r is None), f"gradient of input {i}: present on one path only"
        if f is not None:
            assert f.dtype == r.dtype, f"gradient of input {i}: fast {f.dtype}, reference {r.dtype}"
            np.testing.assert_allclose(f, r, rtol=rtol, atol=atol, err_msg=f"gradient of input {i}: fast kernel != reference")
