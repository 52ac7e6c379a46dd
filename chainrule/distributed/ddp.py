"""``DistributedDataParallel``: the same model on every rank, each rank a different slice of the
batch, gradients averaged over ranks during ``loss.backward()`` — PyTorch's contract.

How the averaging is done (PyTorch's reducer, in NumPy and MPI):

- At wrap time the parameters are laid out, in reverse registration order (roughly the order in
  which backward produces their gradients), in a few flat buckets per dtype — the first of at most
  ``first_bucket_cap_mb`` so that communication starts early, the others up to ``bucket_cap_mb``.
- A hook on every parameter fires when the backward sweep has completed that parameter's gradient
  (``Tensor.register_hook``); it copies the gradient (plus what ``.grad`` already holds, for
  gradient accumulation) into its slot of the bucket. When every slot of a bucket is filled, the
  bucket is handed to ``MPI_Iallreduce`` (in place, non-blocking) while backward goes on with the
  earlier layers; later hooks call ``MPI_Testall`` so that MPI makes progress on it meanwhile.
  Buckets are started strictly in order, so every rank issues the same collectives in the same order.
- The hook of the last parameter waits for all buckets (``comm.wait``: polling, so that Ctrl-C and a
  departed peer are noticed), divides by the world size and writes the averages into every
  ``.grad`` — so by the time ``loss.backward()`` returns each ``.grad`` is the average over ranks,
  and the optimizer step is the same on every rank.

For ``grad`` = mean-loss gradients over each rank's B/N samples, the average over ranks is the
gradient of the mean loss over the whole global batch of B: N ranks with B/N samples each take the
same steps as one process with B.
"""
import contextlib
import time

import numpy as np

from ..autograd import is_grad_enabled
from ..nn.module import Module
from ..tensor import Tensor
from . import comm


def bucket_layout(parameters, bucket_cap_mb=25.0, first_bucket_cap_mb=1.0):
    """Group ``parameters`` (taken in the order given) into gradient buckets, PyTorch's rule: one open
    bucket per dtype, closed when the next parameter would take it past its cap — the first bucket's
    cap is ``first_bucket_cap_mb``, the others' ``bucket_cap_mb`` (MiB); a parameter larger than the cap
    gets a bucket of its own. Returns lists of positions in ``parameters``, in reduction order."""
    caps = (first_bucket_cap_mb * 2 ** 20, bucket_cap_mb * 2 ** 20)
    buckets, open_by_dtype, sizes = [], {}, {}
    for position, p in enumerate(parameters):
        data = p.data if isinstance(p, Tensor) else p
        bucket = open_by_dtype.get(data.dtype)
        if bucket is not None:
            cap = caps[0] if bucket is buckets[0] else caps[1]
            if (sizes[id(bucket)] + data.size) * data.dtype.itemsize > cap:
                bucket = None
        if bucket is None:
            bucket = open_by_dtype[data.dtype] = []
            buckets.append(bucket)
            sizes[id(bucket)] = 0
        bucket.append(position)
        sizes[id(bucket)] += data.size
    return buckets


class _Bucket:
    """Flat storage for the gradients of some parameters of one dtype."""

    def __init__(self, dtype):
        self.dtype, self.members, self.size = dtype, [], 0  # members: (param index, offset)

    def add(self, index, numel):
        self.members.append((index, self.size))
        self.size += numel

    def allocate(self):
        self.flat = np.zeros(self.size, dtype=self.dtype)


class _Round:
    """The bookkeeping of one synchronizing backward pass."""

    def __init__(self, buckets, unused=()):
        self.pending = [len(b.members) for b in buckets]
        self.done, self.unused, self.fired = set(), set(unused), []
        self.requests, self.launched = [], 0


def _tensors_in(out):
    """The Tensors in a forward's output (a Tensor, or tuples, lists, dicts of them)."""
    if isinstance(out, Tensor):
        return [out]
    if isinstance(out, dict):
        out = list(out.values())
    if isinstance(out, (tuple, list)):
        return [t for o in out for t in _tensors_in(o)]
    return []


def _leaves_reached(outputs):
    """ids of the leaf tensors that the graph of ``outputs`` depends on (iterative, no recursion)."""
    seen, leaves = set(), set()
    stack = [t for t in outputs if t.requires_grad]
    while stack:
        t = stack.pop()
        if id(t) in seen:
            continue
        seen.add(id(t))
        if t._ctx is None:
            leaves.add(id(t))
            continue
        stack.extend(x for x in t._ctx.inputs if isinstance(x, Tensor) and x.requires_grad)
    return leaves


def _describe_mismatch(signatures):
    """A message naming the first rank whose (kind, name, shape, dtype) list differs from rank 0's."""
    reference = signatures[0]
    for r, sig in enumerate(signatures[1:], start=1):
        if sig == reference:
            continue
        for i, (a, b) in enumerate(zip(reference, sig)):
            if a != b:
                return (f"entry {i}: rank 0 has {a[0]} {a[1]!r} of shape {a[2]} ({a[3]}), rank {r} has {b[0]} {b[1]!r} "
                        f"of shape {b[2]} ({b[3]})")
        longer, n = (0, len(reference)) if len(reference) > len(sig) else (r, len(sig))
        extra = (reference if longer == 0 else sig)[min(len(reference), len(sig))]
        return (f"rank 0 has {len(reference)} parameters and buffers, rank {r} has {len(sig)}; rank {longer} has "
                f"{extra[0]} {extra[1]!r} more (of {n})")
    return None


def _flat_copy(tensors, root):
    """Broadcast the arrays of ``tensors`` from ``root``, one ``MPI_Ibcast`` per dtype."""
    by_dtype = {}
    for t in tensors:
        by_dtype.setdefault(t.data.dtype, []).append(t)
    world = comm.world()
    flats = {dtype: np.concatenate([t.data.ravel() for t in group]) if comm.rank() == root else
             np.empty(sum(t.data.size for t in group), dtype=dtype) for dtype, group in by_dtype.items()}
    comm.wait([world.Ibcast(flat, root=root) for flat in flats.values()], "DistributedDataParallel broadcast")
    if comm.rank() != root:
        for dtype, group in by_dtype.items():
            offset = 0
            for t in group:
                t.data[...] = flats[dtype][offset:offset + t.data.size].reshape(t.data.shape)
                t._version += 1
                offset += t.data.size


class DistributedDataParallel(Module):
    """Wrap ``module`` for data-parallel training over all MPI ranks (``init()`` is called if needed).

    At wrap time: every rank's model structure (parameter and buffer names, shapes, dtypes) is
    compared with rank 0's — a mismatch raises ``RuntimeError`` naming the first difference — and
    rank 0's parameters and buffers are broadcast to all ranks. Each training-mode ``forward``
    first broadcasts rank 0's buffers (BatchNorm running statistics), with ``broadcast_buffers``.
    ``loss.backward()`` returns with every ``.grad`` averaged over ranks (see the module docstring).

    module                  the model (its Parameters are shared, not copied: build the optimizer on
                            either ``model`` or ``ddp.parameters()``)
    broadcast_buffers       rank 0's buffers replace the others' before each training forward
    bucket_cap_mb           size of the gradient buckets after the first (MiB; PyTorch's 25)
    find_unused_parameters  parameters that take no part in a forward's output are found by walking
                            its graph and count as ready with a zero gradient (without it, such a
                            parameter leaves the reduction unfinished, which the next forward reports)
    first_bucket_cap_mb     size of the first bucket (MiB; PyTorch's 1), the one started earliest

    ``state_dict()``/``load_state_dict()`` are the wrapped module's (no ``module.`` prefix), so a
    checkpoint is the same file whether 1 or N processes wrote it, and loads into the bare model.
    ``stats`` counts the communication: ``steps``, ``allreduce_calls``, ``early_launches`` (buckets
    started while backward still had gradients to compute), ``comm_seconds`` (inside MPI calls,
    overlapped or not) and ``wait_seconds`` (backward blocked at its end waiting for buckets).
    """

    def __init__(self, module, broadcast_buffers=True, bucket_cap_mb=25.0, find_unused_parameters=False, *,
                 first_bucket_cap_mb=1.0):
        super().__init__()
        if not isinstance(module, Module):
            raise TypeError(f"DistributedDataParallel: expected a Module, got {type(module).__name__}")
        if bucket_cap_mb <= 0 or first_bucket_cap_mb <= 0:
            raise ValueError("DistributedDataParallel: bucket_cap_mb and first_bucket_cap_mb must be positive")
        comm.init()
        self.module = module
        self.broadcast_buffers, self.find_unused_parameters = broadcast_buffers, find_unused_parameters
        self.world_size = comm.world_size()
        named = [(n, p) for n, p in module.named_parameters() if p.requires_grad]
        self._names = [n for n, _ in named]
        self._params = [p for _, p in named]
        self._sync_enabled, self._expect_sync, self._round = True, False, None
        self.stats = {}
        self.reset_stats()
        self._caps = (bucket_cap_mb, first_bucket_cap_mb)
        self._buckets = self._build_buckets(reversed(range(len(self._params))))
        self._rebuilt = False
        self._handles = []
        if self.world_size > 1:
            self._check_structure()
            _flat_copy(list(module.parameters()) + list(module.buffers()), root=0)
            self._comm, request = comm.world().Idup()  # its own: never interleaves with SyncBatchNorm's calls
            comm.wait([request], "DistributedDataParallel")
            for i, p in enumerate(self._params):
                self._handles.append(p.register_hook(lambda grad, i=i: self._grad_ready(i, grad)))

    # ----- layout --------------------------------------------------------------------------------
    def _build_buckets(self, order):
        """Buckets filled with the parameters in ``order`` (indices), per dtype, up to the caps."""
        order = list(order)
        buckets = []
        for positions in bucket_layout([self._params[i] for i in order], *self._caps):
            bucket = _Bucket(self._params[order[positions[0]]].data.dtype)
            for pos in positions:
                bucket.add(order[pos], self._params[order[pos]].data.size)
            buckets.append(bucket)
        self._where = {}
        for bucket in buckets:
            bucket.allocate()
            for index, offset in bucket.members:
                self._where[index] = (bucket, offset)
        self._bucket_index = {id(b): k for k, b in enumerate(buckets)}
        return buckets

    @property
    def bucket_sizes(self):
        """Bytes per gradient bucket, in the order they are reduced."""
        return [b.flat.nbytes for b in self._buckets]

    def _check_structure(self):
        def signature(kind, items):
            return [(kind, n, tuple(t.shape), str(t.data.dtype)) for n, t in items]

        own = signature("parameter", self.module.named_parameters()) + signature("buffer", self.module.named_buffers())
        own += [("trainable", n, (), "") for n in self._names]
        problem = _describe_mismatch(comm.all_gather_object(own))
        if problem:
            raise RuntimeError(f"DistributedDataParallel: the model is not the same on every rank ({problem}). Every "
                               "rank must build the same architecture with the same arguments.")

    # ----- forward -------------------------------------------------------------------------------
    def forward(self, *args, **kwargs):
        if self.world_size > 1:
            if self.training and self.broadcast_buffers:
                buffers = list(self.module.buffers())
                if buffers:
                    _flat_copy(buffers, root=0)
            self._expect_sync = is_grad_enabled() and self._sync_enabled
            if self._expect_sync:
                self._check_previous_round()
        out = self.module(*args, **kwargs)
        if self._expect_sync and self.world_size > 1 and self.find_unused_parameters:
            reached = _leaves_reached(_tensors_in(out))
            self._round = _Round(self._buckets, [i for i, p in enumerate(self._params) if id(p) not in reached])
            for i in self._round.unused:
                bucket, _ = self._where[i]
                self._round.pending[self._bucket_index[id(bucket)]] -= 1
        return out

    def _check_previous_round(self):
        r = self._round
        if r is not None and r.done:
            missing = [self._names[i] for i in range(len(self._params)) if i not in r.done and i not in r.unused]
            shown = ", ".join(missing[:8]) + (f" and {len(missing) - 8} more" if len(missing) > 8 else "")
            raise RuntimeError(
                f"DistributedDataParallel: the previous backward produced no gradient for {len(missing)} parameter(s) "
                f"({shown}), so the gradients were not averaged across ranks. Those parameters took no part in the "
                "loss: pass find_unused_parameters=True, or make every parameter contribute to the loss."
            )
        self._round = None

    @contextlib.contextmanager
    def no_sync(self):
        """Inside, forward/backward accumulate gradients locally, without communication; the first
        backward after the block averages the accumulated ``.grad`` (gradient accumulation)."""
        previous, self._sync_enabled = self._sync_enabled, False
        try:
            yield
        finally:
            self._sync_enabled = previous

    # ----- the reduction -------------------------------------------------------------------------
    def _grad_ready(self, i, grad):
        """Hook: parameter i's gradient of this backward is complete (not yet accumulated into .grad)."""
        if not self._expect_sync:
            return None
        r = self._round
        if r is None:
            r = self._round = _Round(self._buckets)
        if i in r.done or i in r.unused:
            raise RuntimeError(
                f"DistributedDataParallel: parameter {self._names[i]!r} received a second gradient before the "
                "reduction of the previous backward finished (some parameters took no part in the loss): pass "
                "find_unused_parameters=True, or make every parameter contribute to the loss."
            )
        r.done.add(i)
        r.fired.append(i)
        launched_before = r.launched
        p = self._params[i]
        bucket, offset = self._where[i]
        slot = bucket.flat[offset:offset + p.data.size].reshape(p.data.shape)
        if p.grad is not None:  # accumulated under no_sync (or a previous backward): reduce the sum
            np.add(p.grad.data, grad.data, out=slot)
        else:
            slot[...] = grad.data
        k = self._bucket_index[id(bucket)]
        r.pending[k] -= 1
        started = time.perf_counter()
        if r.pending[k] == 0:
            self._launch_ready(r)
        elif r.requests:
            self._MPI.Request.Testall(r.requests)  # lets MPI progress the buckets in flight
        self.stats["comm_seconds"] += time.perf_counter() - started
        if r.launched == len(self._buckets):
            self.stats["early_launches"] += launched_before  # started while backward was still running
            return self._finish(r, i)
        return None

    @property
    def _MPI(self):
        return comm._MPI

    def _launch_ready(self, r):
        MPI = self._MPI
        while r.launched < len(self._buckets) and r.pending[r.launched] == 0:
            bucket = self._buckets[r.launched]
            for index, offset in bucket.members:
                if index in r.unused:
                    p = self._params[index]
                    slot = bucket.flat[offset:offset + p.data.size]
                    slot[...] = 0 if p.grad is None else p.grad.data.ravel()
            r.requests.append(self._comm.Iallreduce(MPI.IN_PLACE, bucket.flat, op=MPI.SUM))
            r.launched += 1
            self.stats["allreduce_calls"] += 1

    def _finish(self, r, current):
        started = time.perf_counter()
        comm.wait(r.requests, "DistributedDataParallel backward")
        waited = time.perf_counter() - started
        self.stats["wait_seconds"] += waited
        self.stats["comm_seconds"] += waited
        self.stats["steps"] += 1
        used = None
        if r.unused:  # a parameter unused on every rank (and without an accumulated .grad) keeps .grad None
            used = np.array([i not in r.unused or self._params[i].grad is not None for i in range(len(self._params))],
                            dtype=np.int32)
            comm.wait([self._comm.Iallreduce(self._MPI.IN_PLACE, used, op=self._MPI.SUM)],
                      "DistributedDataParallel backward")
        replacement = None
        for bucket in self._buckets:
            np.divide(bucket.flat, self.world_size, out=bucket.flat)
            for index, offset in bucket.members:
                p = self._params[index]
                average = bucket.flat[offset:offset + p.data.size].reshape(p.data.shape)
                if index == current:
                    replacement = average  # the engine accumulates it into .grad after this hook
                elif used is not None and not used[index]:
                    continue
                elif p.grad is None:
                    p.grad = Tensor(average.copy())
                else:
                    p.grad.data[...] = average
        self._round = None
        if not self._rebuilt:
            self._rebuild_buckets(r.fired)
        self._params[current].grad = None  # so .grad becomes exactly the average, not the local grad + it
        return Tensor(replacement)

    def _rebuild_buckets(self, fired):
        """After the first synchronized backward, lay the buckets out in the order the gradients became
        ready (PyTorch's bucket rebuilding): the reverse registration order is only a guess, and
        the engine's actual order (e.g. a Linear's weight is completed after everything below it)
        decides whether a bucket fills early. Rank 0's order is used everywhere, so layouts match."""
        rest = [i for i in reversed(range(len(self._params))) if i not in set(fired)]
        order = comm.broadcast_object(list(fired) + rest, root=0, communicator=self._comm)
        self._buckets = self._build_buckets(order)
        self._rebuilt = True

    def reset_stats(self):
        self.stats.update(steps=0, allreduce_calls=0, early_launches=0, comm_seconds=0.0, wait_seconds=0.0)

    # ----- state ---------------------------------------------------------------------------------
    def state_dict(self, prefix=""):
        """The wrapped module's state dict (keys without ``module.``)."""
        return self.module.state_dict(prefix)

    def load_state_dict(self, state_dict, strict=True):
        """Load into the wrapped module; keys saved with PyTorch's ``module.`` prefix are accepted too."""
        keys = list(state_dict)
        if keys and all(k.startswith("module.") for k in keys):
            state_dict = {k[len("module."):]: v for k, v in state_dict.items()}
        return self.module.load_state_dict(state_dict, strict)

    def extra_repr(self):
        return f"world_size={self.world_size}, buckets={len(self._buckets)}"
