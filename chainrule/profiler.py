"""Where a step's time goes: per op type and per module, forward and backward time, calls and bytes.

    with chainrule.profiler.profile(model) as prof:     # the model: for the per-module rows
        loss = F.cross_entropy(model(x), y)
        loss.backward()
    print(prof.table(sort_by="total", row_limit=10))    # like torch's key_averages().table()

What is measured, with ``time.perf_counter``:

- an op (a ``Function`` class): forward is its ``forward`` call (the array math, inside
  ``Function.apply``), backward its ``backward`` call in the sweep; calls are forward calls. The graph
  bookkeeping around them (making the output Tensor, the topological order, summing gradients) and
  code that runs no op (the optimizer's step, data loading) are in no op's row: the table's last
  line says how much of the block's wall time the ops account for.
- a module of ``model`` (named by path and type, ``layer1.0.conv1 (Conv2d)``; the model by its
  type): forward is its whole call, from its forward pre-hook to its forward hook, so children and
  that bookkeeping are included (inclusive, like torch's module rows); backward is the sum of the
  backward times of the ops it ran in forward, its children's included (each op is tagged with the
  modules whose calls it ran in).
- bytes: ``nbytes`` of the array each op's forward outputs (MB out) and of the gradients its
  backward returns (MB grad), summed (MB = 10⁶ bytes); a view, or an array handed on unchanged,
  counts in full, so a reshape counts though it copies nothing. A module's bytes are its ops'.

Off by default and free when off: ``Function.apply`` and the backward sweep each test
``autograd._profiler is None`` once per op, and only a running profile sets it.
"""
import time
from dataclasses import dataclass

import numpy as np

from . import autograd

SORT_KEYS = {"total": lambda s: -s.total_s, "forward": lambda s: -s.forward_s, "backward": lambda s: -s.backward_s,
             "calls": lambda s: -s.calls, "bytes": lambda s: -s.bytes, "name": lambda s: s.name}
MB = 1e6


@dataclass
class Stat:
    """One row: ``calls`` forward calls (``backward_calls`` backward), seconds and bytes each way."""

    name: str
    calls: int = 0
    forward_s: float = 0.0
    forward_bytes: int = 0
    backward_calls: int = 0
    backward_s: float = 0.0
    backward_bytes: int = 0

    @property
    def total_s(self):
        """Seconds spent forward and backward together."""
        return self.forward_s + self.backward_s

    @property
    def bytes(self):
        """Bytes forward (the outputs) and backward (the gradients returned) together."""
        return self.forward_bytes + self.backward_bytes


class profile:
    """``with profile(model=None) as prof:`` records every op run in the block (and, given ``model``,
    every call of its modules); ``prof.table()`` and ``prof.key_averages()`` report them. ``start()``
    and ``stop()`` do what entering and leaving do, for a loop that profiles some steps of many.
    One profile records at a time: starting a second raises ``RuntimeError``."""

    def __init__(self, model=None):
        self.model = model
        self.wall_s = 0.0  # seconds recorded, summed over start()…stop() spans
        self._ops = {}  # (Function class, scope) → Stat of that op type run inside those module calls
        self._modules = {}  # module name → Stat: calls and inclusive forward seconds from the hooks
        self._scope = ()  # names of the modules being called, outermost first
        self._frames = []  # (the scope outside, start time) of each module call in progress
        self._handles = []
        self._started = None

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()
        return False

    def start(self):
        """Start recording (what entering the ``with`` block does): every op run from now, and each call of the model's
        modules when a model was given, until ``stop()``. Raises RuntimeError when another profile is recording."""
        if autograd._profiler is not None:
            raise RuntimeError("profiler.profile: another profile is already recording (profiles do not nest); "
                               "stop it or leave its `with` block first")
        for path, module in self.model.named_modules() if self.model is not None else ():
            name = f"{path} ({type(module).__name__})" if path else type(module).__name__
            self._handles += [module.register_forward_pre_hook(self._module_entered(name)),
                              module.register_forward_hook(self._module_left(name))]
        self._started = time.perf_counter()
        autograd._profiler = self

    def stop(self):
        """Stop recording (nothing happens if this profile is not recording)."""
        if autograd._profiler is not self:
            return
        autograd._profiler = None
        self.wall_s += time.perf_counter() - self._started
        for handle in self._handles:
            handle.remove()
        self._handles, self._scope, self._frames, self._started = [], (), [], None

    # ----- recording: called by the hooks and by autograd while this profile runs ----------------
    def _module_entered(self, name):
        def hook(module, args):
            self._frames.append((self._scope, time.perf_counter()))
            self._scope += (name,)
        return hook

    def _module_left(self, name):
        def hook(module, args, output):
            self._scope, start = self._frames.pop()
            stat = self._modules.get(name) or self._modules.setdefault(name, Stat(name))
            stat.calls += 1
            stat.forward_s += time.perf_counter() - start
        return hook

    def _stat(self, fn, scope):
        key = (type(fn), scope)
        return self._ops.get(key) or self._ops.setdefault(key, Stat(type(fn).__name__))

    def run_forward(self, fn, arrays, kwargs):
        """``fn.forward(*arrays, **kwargs)``, timed (for ``Function.apply``); tags ``fn`` with the scope."""
        start = time.perf_counter()
        out = fn.forward(*arrays, **kwargs)
        elapsed = time.perf_counter() - start
        fn.profile_scope = self._scope
        stat = self._stat(fn, self._scope)
        stat.calls += 1
        stat.forward_s += elapsed
        stat.forward_bytes += sum(np.asarray(o).nbytes for o in (out if type(out) is tuple else (out,)))
        return out

    def run_backward(self, fn, grad):
        """``fn.backward(grad)`` (``fn.backward(*grads)`` for a node with several outputs), timed (for the
        backward sweep)."""
        start = time.perf_counter()
        in_grads = fn.backward(*grad) if fn.output_ids is not None else fn.backward(grad)
        elapsed = time.perf_counter() - start
        stat = self._stat(fn, getattr(fn, "profile_scope", ()))  # () for an op recorded before start()
        stat.backward_calls += 1
        stat.backward_s += elapsed
        stat.backward_bytes += sum(g.nbytes for g in in_grads if g is not None)
        return in_grads

    # ----- reporting ------------------------------------------------------------------------------
    def key_averages(self, group_by="op"):
        """``{name: Stat}``, per op type (``group_by="op"``: the Function class's name) or per module
        (``"module"``: ``path (Type)``, the model by its type; only modules that were called)."""
        if group_by == "op":
            rows = {}
            for s in self._ops.values():
                _add(rows.setdefault(s.name, Stat(s.name)), s)
            return rows
        if group_by == "module":  # calls and forward time from the hooks; the rest from the ops run inside
            rows = {name: Stat(name, s.calls, s.forward_s) for name, s in self._modules.items()}
            for (_, scope), s in self._ops.items():
                for name in set(scope):
                    _add(rows.setdefault(name, Stat(name)), s, forward_time=False)
            return rows
        raise ValueError(f"key_averages: group_by must be 'op' or 'module', got {group_by!r}")

    def table(self, sort_by="total", row_limit=None):
        """The ops' table, then (given a model) the modules', as text: rows sorted by ``sort_by`` (one
        of total, forward, backward, calls, bytes: largest first; name: alphabetical), at most
        ``row_limit`` rows each; the last line compares the ops' total with the block's wall time."""
        if sort_by not in SORT_KEYS:
            raise ValueError(f"table: sort_by must be one of {', '.join(SORT_KEYS)}, got {sort_by!r}")
        wall = self.wall_s + (time.perf_counter() - self._started if self._started is not None else 0.0)
        ops = self.key_averages("op")
        sections = [("op", ops)] + ([("module", self.key_averages("module"))] if self.model is not None else [])
        sections = [(title, sorted(rows.values(), key=SORT_KEYS[sort_by])[:row_limit]) for title, rows in sections]
        width = max([len(s.name) for _, rows in sections for s in rows] + [len("module")])
        lines = []
        for title, rows in sections:
            lines += [f"{title:<{width}}  calls  forward ms  backward ms  total ms  % wall   MB out  MB grad",
                      "-" * (width + 70)]
            for s in rows:
                lines.append(f"{s.name:<{width}}  {s.calls:5d}  {1e3 * s.forward_s:10.2f}  {1e3 * s.backward_s:11.2f}  "
                             f"{1e3 * s.total_s:8.2f}  {100 * s.total_s / (wall or 1):6.1f}  "
                             f"{s.forward_bytes / MB:7.2f}  {s.backward_bytes / MB:7.2f}")
            lines.append("")
        in_ops = sum(s.total_s for s in ops.values())
        lines.append(f"wall {1e3 * wall:.2f} ms; ops' forward+backward {1e3 * in_ops:.2f} ms "
                     f"({100 * in_ops / (wall or 1):.1f} %); the rest: graph bookkeeping, hooks, the optimizer, data")
        return "\n".join(lines)


def _add(row, s, forward_time=True):
    """Add the op record ``s`` into ``row``: backward calls, both times and both byte counts (forward
    calls and time only if ``forward_time``: a module's come from its hooks)."""
    if forward_time:
        row.calls += s.calls
        row.forward_s += s.forward_s
    row.forward_bytes += s.forward_bytes
    row.backward_calls += s.backward_calls
    row.backward_s += s.backward_s
    row.backward_bytes += s.backward_bytes
