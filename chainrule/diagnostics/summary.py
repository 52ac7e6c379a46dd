"""Model summary [note 003: parameter count and time complexity of a CNN]: one row per layer with its
output shape, parameters, MACs/FLOPs, receptive field and jump, and activation memory.

Conventions: MACs count the multiply-accumulates of convolutions and linear layers only (what the
published figures count, e.g. ResNet-18's 1.8 GMACs at 224×224); FLOPs = 2·MACs. Normalization,
activations and pooling are left out of both. Conv MACs = C_out·H_out·W_out·(C_in/groups)·k_h·k_w.
Figures are per sample (batch 1). A recurrent layer (RNN, LSTM, GRU) multiplies each of its weights
once per time step and direction: MACs = T · (numel(W_ih) + numel(W_hh)) summed over layers and
directions, i.e. T · 4H(I + H) for one LSTM layer. Multi-head attention counts its four projections
and the two products with the attention weights: L·E·E + S·E·(kdim + vdim) + 2·L·S·E + L·E·E
(L query and S key positions, E = embed_dim).

The receptive field r and jump j (distance in input pixels between neighbouring outputs) follow
r_n = r_{n−1} + (k_n − 1)·d_n·j_{n−1},  j_n = j_{n−1}·s_n, traced through the actual graph: a
layer's input takes the largest receptive field among the tensors it was computed from, so
branches and residual sums are handled. A linear layer after a flatten sees the whole input. The
output of a recurrent or attention layer depends on the whole sequence, not on a window of pixels:
its receptive field, and that of every layer computed from it, is None (left blank in the table).
"""
import json

import numpy as np

from .. import creation
from ..tensor import Tensor


def _pair(v):
    return tuple(v) if isinstance(v, (tuple, list)) else (v, v)


def _leaf_modules(model):
    """The modules that get a row: the leaves, and any module holding parameters of its own beside its children
    (MultiheadAttention's in_proj_weight, a model's positional embedding), so each parameter is in one row."""
    return [(name or type(m).__name__, m) for name, m in model.named_modules()
            if not any(True for _ in m.children()) or any(True for _ in m.parameters(recurse=False))]


def _fold_unrun_into_parents(leaves, rows):
    """A module whose parameters its parent uses without calling it (MultiheadAttention's out_proj) gets no row
    of its own: its parameters count in the row of its nearest ancestor that ran."""
    by_name = {r["name"]: r for r in rows}
    for name, module in leaves:
        if name in by_name:
            continue
        parts = name.split(".")
        owner = next((by_name[p] for p in (".".join(parts[:k]) for k in range(len(parts) - 1, 0, -1)) if p in by_name),
                     None)
        if owner is not None:
            owner["params"] += sum(p.numel() for p in module.parameters(recurse=False) if p.requires_grad)
            owner["frozen_params"] += sum(p.numel() for p in module.parameters(recurse=False) if not p.requires_grad)


def _tensors(out):
    """Every Tensor of a layer's output, nested tuples included (an LSTM's output, h_n and c_n)."""
    if isinstance(out, (tuple, list)):
        return [t for item in out for t in _tensors(item)]
    return [out] if isinstance(out, Tensor) else []


def _first_tensor(out):
    """A layer's output Tensor, or the first one of a tuple output (an LSTM's (output, (h_n, c_n)))."""
    if isinstance(out, (tuple, list)):
        return next((t for t in map(_first_tensor, out) if t is not None), None)
    return out if isinstance(out, Tensor) else None


RECURRENT = ("RNN", "LSTM", "GRU", "RNNCell", "LSTMCell", "GRUCell")
SEQUENCE_MIXING = RECURRENT + ("MultiheadAttention",)  # outputs that depend on the whole sequence


def _positions(module, x):
    """The sequence length of a recurrent or attention layer's input ((T, N, ·), batch_first (N, T, ·), or
    unbatched (T, ·))."""
    return x.shape[1] if getattr(module, "batch_first", False) and x.ndim == 3 else x.shape[0]


def _macs(module, args, out):
    kind = type(module).__name__
    if kind in ("Conv1d", "Conv2d"):
        w = module.weight
        return int(np.prod(out.shape[1:])) * int(np.prod(w.shape[1:]))
    if kind == "Linear":
        return int(np.prod(out.shape[1:])) * module.in_features
    if kind in RECURRENT:
        steps = 1 if kind.endswith("Cell") else _positions(module, args[0])
        per_step = sum(p.numel() for name, p in module.named_parameters() if name.startswith("weight_"))
        return steps * per_step
    if kind == "MultiheadAttention":
        query = args[0]
        key = args[1] if len(args) > 1 and isinstance(args[1], Tensor) else query
        L, S, E = _positions(module, query), _positions(module, key), module.embed_dim
        return L * E * E + S * E * (module.kdim + module.vdim) + 2 * L * S * E + L * E * E
    return 0


def _geometry(module, inp):
    """(kernel, stride, dilation) along the first spatial dim, or None for layers that keep the geometry."""
    kind = type(module).__name__
    if kind in ("Conv1d", "Conv2d"):
        return module.kernel_size[0], module.stride[0], module.dilation[0]
    if kind in ("MaxPool1d", "MaxPool2d", "AvgPool1d", "AvgPool2d"):
        k = _pair(module.kernel_size)[0]
        return k, _pair(module.stride)[0], _pair(getattr(module, "dilation", 1))[0]
    if kind in ("AdaptiveAvgPool2d", "AdaptiveMaxPool2d", "GlobalAvgPool2d"):
        size = inp.shape[-2]
        out = 1 if kind == "GlobalAvgPool2d" else _pair(module.output_size)[0] or size
        return -(-size // out), size // out, 1
    return None


class _Tracer:
    """Receptive field (r, jump) of every tensor seen in one forward pass, found through the graph."""

    def __init__(self, x):
        self.fields = {id(x): (1, 1)}
        self.spatial = x.shape[-1] if x.ndim >= 3 else 1
        self.keep = [x]

    def field(self, t):
        """The largest field among the known tensors ``t`` was computed from (walking back iteratively);
        None when one of them came out of a recurrent or attention layer."""
        best, stack, seen = (1, 1), [t], set()
        while stack:
            u = stack.pop()
            if id(u) in seen:
                continue
            seen.add(id(u))
            if id(u) in self.fields:
                if self.fields[id(u)] is None:
                    return None
                best = max(best, self.fields[id(u)])
                continue
            fn = u._ctx
            if fn is not None and fn.inputs is not None:
                stack.extend(i for i in fn.inputs if isinstance(i, Tensor))
        return best

    def record(self, module, inp, out, outputs=()):
        """(receptive field, jump) of ``out``, or (None, None) where they mean nothing; ``outputs``: all the
        layer's output tensors (a recurrent layer's final states too), which get the same field."""
        if any(True for _ in module.children()):  # a module with parameters beside its children: its output's field
            field = self.field(out)
        else:
            field = self.field(inp) if isinstance(inp, Tensor) else (1, 1)
        if field is None or type(module).__name__ in SEQUENCE_MIXING:
            for t in [out, *outputs]:
                self.fields[id(t)] = None
                self.keep.append(t)
            return None, None
        r, j = field
        geometry = _geometry(module, inp)
        if type(module).__name__ == "Linear":
            r = max(r, self.spatial)
        elif geometry is not None:
            k, s, d = geometry
            r, j = r + (k - 1) * d * j, j * s
        self.fields[id(out)] = (r, j)
        self.keep.append(out)
        return r, j


def summary(model, input_size, dtype=None):
    """Run one forward pass of a batch-1 input of shape ``input_size`` (without the batch dim, e.g.
    (1, 28, 28)) and return a ``Summary``: ``rows`` (one dict per leaf layer, in execution order) and
    ``totals``. ``print(summary(...))`` shows the table; ``.to_json()`` / ``.rows`` give the data."""
    input_size = tuple(input_size)
    x = creation.zeros((1,) + input_size, dtype=dtype)
    x.requires_grad_(True)  # record the graph, so receptive fields can be traced through non-module ops
    tracer = _Tracer(x)
    rows, handles = [], []
    leaves = _leaf_modules(model)
    for name, module in leaves:
        def hook(mod, args, out, name=name):
            inp = args[0] if args else None
            outputs, out = _tensors(out), _first_tensor(out)
            if out is None:
                return
            r, j = tracer.record(mod, inp, out, outputs)
            trainable = sum(p.numel() for p in mod.parameters(recurse=False) if p.requires_grad)
            frozen = sum(p.numel() for p in mod.parameters(recurse=False) if not p.requires_grad)
            macs = _macs(mod, args, out)
            rows.append(dict(name=name, type=type(mod).__name__, output_shape=list(out.shape[1:]),
                             params=trainable, frozen_params=frozen, macs=macs, flops=2 * macs,
                             receptive_field=r, jump=j, activation_bytes=out.data.nbytes))
        handles.append(module.register_forward_hook(hook))
    was_training = model.training
    model.eval()
    try:
        model(x)
    finally:
        for h in handles:
            h.remove()
        model.train(was_training)
    _fold_unrun_into_parents(leaves, rows)
    total_params = sum(p.numel() for p in model.parameters())
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    totals = dict(params=total_params, trainable_params=trainable, frozen_params=total_params - trainable,
                  macs=sum(r["macs"] for r in rows), flops=sum(r["flops"] for r in rows),
                  activation_bytes=sum(r["activation_bytes"] for r in rows),
                  param_bytes=sum(p.data.nbytes for p in model.parameters()),
                  input_size=list(input_size))
    return Summary(type(model).__name__, rows, totals)


def _human(n):
    for unit, scale in (("G", 1e9), ("M", 1e6), ("K", 1e3)):
        if abs(n) >= scale:
            return f"{n / scale:.2f}{unit}"
    return str(n)


class Summary:
    """The result of ``summary``: ``rows``, ``totals``; ``str()`` renders a table."""

    def __init__(self, model_name, rows, totals):
        self.model_name, self.rows, self.totals = model_name, rows, totals

    def to_dict(self):
        """The summary as plain data: ``{'model': name, 'rows': [one dict per layer row: name, type, output_shape,
        params, frozen_params, macs, receptive_field, jump, activation_bytes, …], 'totals': {…}}``."""
        return dict(model=self.model_name, rows=self.rows, totals=self.totals)

    def to_json(self, **kwargs):
        """``json.dumps(self.to_dict(), **kwargs)`` (e.g. ``indent=2``)."""
        return json.dumps(self.to_dict(), **kwargs)

    def __str__(self):
        header = ("layer", "type", "output", "params", "MACs", "RF", "jump", "act. mem")
        body = [(r["name"], r["type"], "×".join(map(str, r["output_shape"])), f"{r['params'] + r['frozen_params']:,}",
                 _human(r["macs"]), "" if r["receptive_field"] is None else str(r["receptive_field"]),
                 "" if r["jump"] is None else str(r["jump"]), _human(r["activation_bytes"]) + "B")
                for r in self.rows]
        widths = [max(len(str(c)) for c in col) for col in zip(header, *body)]
        line = lambda cells: "  ".join(str(c).ljust(w) if i < 3 else str(c).rjust(w)  # noqa: E731
                                       for i, (c, w) in enumerate(zip(cells, widths)))
        rule = "-" * (sum(widths) + 2 * (len(widths) - 1))
        t = self.totals
        foot = [
            f"{self.model_name}: input {'×'.join(map(str, t['input_size']))}",
            f"params: {t['params']:,} (trainable {t['trainable_params']:,}, frozen {t['frozen_params']:,}; "
            f"{_human(t['param_bytes'])}B)",
            (f"MACs: {_human(t['macs'])}  FLOPs: {_human(t['flops'])} (conv, linear, recurrent and attention layers, "
             "per sample)"),
            f"activation memory (forward, per sample): {_human(t['activation_bytes'])}B",
        ]
        if any(r["receptive_field"] is None for r in self.rows):
            foot.append("RF, jump: blank after a recurrent or attention layer (its output depends on the whole "
                        "sequence)")
        return "\n".join([line(header), rule] + [line(r) for r in body] + [rule] + foot)

    __repr__ = __str__

