"""Processes and collectives over MPI (through ``mpi4py``): ``init``, ``rank``, ``world_size``,
``barrier``, ``all_reduce``, ``broadcast``, and what keeps a job from hanging when one of its ranks
leaves — an exception, Ctrl-C (SIGINT), SIGTERM, or a program that simply ends early.

mpi4py is imported only by ``init()`` (importing ``mpi4py.MPI`` starts MPI), so ``import chainrule``
and a script that never calls ``init()`` need no MPI at all. Before ``init()`` — and in a process
started without ``mpiexec``, which MPI runs as a world of one — ``rank()`` is 0, ``world_size()`` 1,
``is_main()`` true and every collective returns its input: the same script runs alone or under
``mpiexec -n N`` unchanged.

How a job with several ranks ends when one rank leaves (``init()`` sets it up):

- Every collective of chainrule (these functions, DistributedDataParallel's gradient buckets,
  SyncBatchNorm's statistics) is started non-blocking and completed by ``wait``, which polls
  ``MPI_Test`` rather than blocking inside MPI: Python runs a signal handler only between bytecodes,
  so a rank blocked in C would neither see Ctrl-C nor notice that a peer is gone.
- An uncaught exception, SIGINT or SIGTERM on any rank aborts the whole job (``MPI_Abort``; exit
  status 1, 130, 143) and the reason is printed once for the job, not once per rank: mpiexec
  forwards Ctrl-C to every rank, and they agree on one to print (``_abort_job``).
- A rank whose program ends (returns, or calls ``sys.exit``) waits at exit in a non-blocking barrier
  for the others to end theirs — the normal end of a job. If they haven't within ``_GRACE`` s, it
  sends each a notice that it left; a rank waiting in a collective that this rank never joined
  sees the notice and aborts the job, naming both ranks. A rank busy outside collectives (rank 0
  writing plots for a minute) is not disturbed: it reaches its own end later, and the job ends
  normally. No timeout ever ends a healthy job.

A rank blocked in a blocking MPI call of its own (mpi4py used directly) still can't be reached.
"""
import atexit
import itertools
import os
import pickle
import signal
import socket
import sys
import threading
import time
import traceback

import numpy as np

from ..tensor import Tensor

INSTALL_HINT = ("chainrule.distributed needs mpi4py and an MPI library: pip install 'chainrule[distributed]' "
                "(mpi4py and the mpich wheel, which brings mpiexec; with a system MPI, pip install mpi4py alone "
                "builds against it)")

_MPI = None  # the mpi4py.MPI module once init() ran
_world = None  # MPI.COMM_WORLD
_control = None  # a duplicate of COMM_WORLD for the notices below, apart from every collective
_previous_handlers = {}  # signal number -> the handler init() replaced
_aborting = False

_LEAVING, _ABORTING = 1, 2  # tags on _control: "my program ended", "I am aborting the job"
_NOTE_BYTES = 256  # a leaving notice: the leaver's describe(), padded
_SPIN = 0.05  # seconds wait() polls without sleeping (yielding the core): a step's skew between ranks
_NAP = 1e-3  # seconds wait() sleeps between polls after that: ≤ 1 ms late, ≤ 1000 wake-ups a second
_GRACE = 0.5  # seconds a leaving rank waits for the others at its exit barrier before notifying them
_CONFIRM = 2.0  # seconds a collective may still complete after a peer's leaving notice arrived
_TIE = 0.2  # seconds an aborting rank above 0 waits for a lower one to claim the job's one message
_FORWARD = 0.25  # seconds for mpiexec to pass on what a rank printed before its MPI_Abort tears the job down
_yield_core = getattr(os, "sched_yield", lambda: None)  # POSIX; elsewhere the spin just polls


class DistributedUnavailableError(ImportError, RuntimeError):
    """mpi4py (or the MPI library under it) is not installed; the message says what to install. An
    ImportError, and a RuntimeError so that the CLI reports it in one line."""


def _import_mpi():
    try:
        from mpi4py import MPI
    except ImportError as e:  # mpi4py missing, or present without a loadable libmpi
        raise DistributedUnavailableError(f"{INSTALL_HINT} [{type(e).__name__}: {e}]") from None
    return MPI


def init():
    """Start MPI (idempotent) and return the world size. Under ``mpiexec -n N`` each of the N
    processes gets its rank; started without ``mpiexec`` the process is a world of one. With more
    than one process, any rank leaving — an uncaught exception, SIGINT, SIGTERM, its program ending
    while others wait for it in a collective — ends the whole job within seconds, the rank and the
    reason printed once (see the module docstring), so no rank waits forever for a dead peer."""
    global _MPI, _world, _control
    if _MPI is not None:
        return _world.Get_size()
    MPI = _import_mpi()
    _MPI, _world = MPI, MPI.COMM_WORLD
    if _world.Get_size() > 1:
        _control, request = _world.Idup()
        wait([request])
        sys.excepthook = _abort_on_exception
        if threading.current_thread() is threading.main_thread():  # signal.signal works only there
            for signum in (signal.SIGINT, signal.SIGTERM):
                if signal.getsignal(signum) is not signal.SIG_IGN:  # started under nohup: stays ignored
                    _previous_handlers[signum] = signal.signal(signum, _on_signal)
        atexit.register(_leave)
    return _world.Get_size()


def is_initialized():
    """Whether ``init()`` has run in this process."""
    return _MPI is not None


def is_available():
    """Whether mpi4py and an MPI library can be imported (without starting MPI)."""
    try:
        import mpi4py  # noqa: F401
    except ImportError:
        return False
    return True


def rank():
    """This process's index in [0, world_size()); 0 before ``init()``."""
    return 0 if _world is None else _world.Get_rank()


def world_size():
    """The number of processes in the job; 1 before ``init()``."""
    return 1 if _world is None else _world.Get_size()


def is_main():
    """True on rank 0, the process that prints, writes checkpoints and plots."""
    return rank() == 0


def local_world_size():
    """The number of this job's processes on this machine (they share its cores)."""
    if _world is None or _world.Get_size() == 1:
        return 1
    node = _world.Split_type(_MPI.COMM_TYPE_SHARED)
    try:
        return node.Get_size()
    finally:
        node.Free()


def world():
    """The ``MPI.COMM_WORLD`` communicator (``init()`` first)."""
    if _world is None:
        init()
    return _world


def wait(requests, what=None, timeout=None):
    """Complete the MPI ``requests`` (a list) and return True — or False if ``timeout`` seconds
    passed first. Every collective of chainrule waits here rather than blocking inside MPI, so
    that this rank stays reachable: signal handlers run (between polls), and, when ``what`` names
    the collective, a peer's notice that it left the job aborts it (unless the requests still
    complete within ``_CONFIRM`` s: a collective that peer did join).

    MPI progresses only while polled, and each handshake of a collective waits for the next poll.
    So for the first ``_SPIN`` s the polls only yield the core between them, as MPICH's own blocking
    calls do: the usual waits of a training step (ranks a few ms apart) cost what they did. A longer
    wait (a peer writing a checkpoint) sleeps ``_NAP`` between polls: a core no longer spins for
    nothing, for a few ms added to a wait of 50 ms or more."""
    started, noticed = time.perf_counter(), None
    while not _MPI.Request.Testall(requests):
        waited = time.perf_counter() - started
        if timeout is not None and waited >= timeout:
            return False
        if waited < _SPIN:
            _yield_core()
            continue
        time.sleep(_NAP)
        if what is None:
            continue
        if noticed is None:
            noticed = time.perf_counter() if _control.Iprobe(source=_MPI.ANY_SOURCE, tag=_LEAVING) else None
        elif time.perf_counter() - noticed > _CONFIRM:
            _abort_for_departure(what)
    return True


def barrier():
    """Wait until every rank has reached this call."""
    if world_size() > 1:
        wait([_world.Ibarrier()], "barrier")


_OPS = ("sum", "mean", "max", "min", "prod")


def _mpi_op(op):
    if op not in _OPS:
        raise ValueError(f"all_reduce: op must be one of {', '.join(_OPS)}, got {op!r}")
    return {"sum": _MPI.SUM, "mean": _MPI.SUM, "max": _MPI.MAX, "min": _MPI.MIN, "prod": _MPI.PROD}[op]


def _buffer(array, where):
    """The ndarray behind ``array`` (a Tensor's data), checked for in-place collectives."""
    data = array.data if isinstance(array, Tensor) else array
    if not isinstance(data, np.ndarray):
        raise TypeError(f"{where}: expected an ndarray or a Tensor, got {type(array).__name__}")
    if not (data.flags.c_contiguous and data.flags.writeable):
        raise ValueError(f"{where}: the array of shape {data.shape} must be C-contiguous and writeable "
                         "(the result is written into it); pass np.ascontiguousarray(a)")
    return data


def all_reduce(array, op="sum"):
    """Reduce ``array`` (an ndarray or a Tensor's data) elementwise over all ranks, in place, and
    return it: every rank ends with the same result. ``op``: 'sum', 'mean', 'max', 'min', 'prod'.
    A Python number is reduced too (returned, since it can't change in place)."""
    if isinstance(array, (int, float, np.number)) and not isinstance(array, (bool, np.bool_)):
        reduced = all_reduce(np.array([array]), op)  # int → int64, float → float64
        return reduced[0].item() if isinstance(array, (int, float)) else reduced[0]
    data = _buffer(array, "all_reduce")
    if op not in _OPS:
        raise ValueError(f"all_reduce: op must be one of {', '.join(_OPS)}, got {op!r}")
    if op == "mean" and data.dtype.kind != "f":
        raise TypeError(f"all_reduce: op='mean' needs a floating-point array, got {data.dtype}")
    if world_size() > 1:
        wait([_world.Iallreduce(_MPI.IN_PLACE, data, op=_mpi_op(op))], "all_reduce")
        if op == "mean":
            data /= _world.Get_size()
    return array


def broadcast(array, root=0):
    """Copy ``array`` (an ndarray or a Tensor's data) from rank ``root`` into the same array on every
    other rank, in place; return it. Shapes and dtypes must agree across ranks."""
    data = _buffer(array, "broadcast")
    if world_size() > 1:
        if not 0 <= root < _world.Get_size():
            raise ValueError(f"broadcast: root must be in [0, {_world.Get_size()}), got {root}")
        wait([_world.Ibcast(data, root=root)], "broadcast")
    return array


def broadcast_object(obj, root=0, communicator=None):
    """Rank ``root``'s ``obj`` (any picklable value) on every rank (of ``communicator``, default the
    world): its pickle's length, then its bytes, each one ``MPI_Ibcast``."""
    if world_size() == 1:
        return obj
    communicator = _world if communicator is None else communicator
    here = communicator.Get_rank() == root
    payload = np.frombuffer(pickle.dumps(obj), np.uint8) if here else None
    size = np.array([0 if payload is None else payload.size], np.int64)
    wait([communicator.Ibcast(size, root=root)], "broadcast_object")
    if not here:
        payload = np.empty(size[0], np.uint8)
    wait([communicator.Ibcast(payload, root=root)], "broadcast_object")
    return obj if here else pickle.loads(payload.tobytes())


def all_gather_object(obj):
    """A list with every rank's ``obj``, in rank order, on every rank: the pickles' lengths
    (``MPI_Iallgather``), then their bytes (``MPI_Iallgatherv``)."""
    if world_size() == 1:
        return [obj]
    payload = np.frombuffer(pickle.dumps(obj), np.uint8)
    sizes = np.empty(_world.Get_size(), np.int64)
    wait([_world.Iallgather(np.array([payload.size], np.int64), sizes)], "all_gather_object")
    offsets = np.concatenate([[0], np.cumsum(sizes)])
    gathered = np.empty(offsets[-1], np.uint8)
    wait([_world.Iallgatherv(payload, [gathered, (sizes.tolist(), offsets[:-1].tolist())])], "all_gather_object")
    return [pickle.loads(gathered[a:b].tobytes()) for a, b in itertools.pairwise(offsets)]


def abort(code=1, message=None):
    """End every process of the job with exit status ``code``; ``message`` (text for stderr) is
    printed once for the job, even when several ranks abort together (the same error on every
    rank). Alone, the message is printed and the caller exits."""
    if world_size() > 1:
        _abort_job(message, code)
    elif message:
        sys.stderr.write(message.rstrip("\n") + "\n")


def describe():
    """'rank R of N on HOST' — how a message names the process it comes from."""
    return f"rank {rank()} of {world_size()} on {socket.gethostname()} (pid {os.getpid()})"


def _abort_job(message, code):
    """Print ``message`` on stderr — once for the job — and ``MPI_Abort`` it with exit status ``code``.

    Several ranks may abort at the same moment (mpiexec forwards Ctrl-C to every rank; the same
    error on all), and each would print. So each first looks for another rank's announcement on
    ``_control``: one already there means that rank prints, and this one stays silent. Otherwise it
    announces itself to all, and a rank above 0 waits ``_TIE`` s for an announcement from a lower
    rank (silent then) before printing; rank 0 prints at once. A silent rank leaves the abort to the
    printing one, aborting itself only if the job still runs 2 s later."""
    global _aborting
    if _aborting:  # a second signal while this rank is already ending the job
        return
    _aborting = True
    try:
        me = _world.Get_rank()
        silent = _control.Iprobe(source=_MPI.ANY_SOURCE, tag=_ABORTING)
        if not silent:
            for peer in range(_world.Get_size()):
                if peer != me:
                    _control.Isend(np.empty(0, np.uint8), dest=peer, tag=_ABORTING)  # never completed: we abort
            deadline = time.perf_counter() + (_TIE if me else 0.0)
            while not silent and time.perf_counter() < deadline:
                time.sleep(0.005)
                silent = any(_control.Iprobe(source=lower, tag=_ABORTING) for lower in range(me))
        if silent:
            time.sleep(_TIE + 2.0)
        elif message:
            sys.stderr.write(message.rstrip("\n") + "\n")
        sys.stdout.flush()
        sys.stderr.flush()
        time.sleep(_FORWARD)
    finally:  # whatever went wrong above, the job ends
        _world.Abort(code)
        os._exit(code)  # MPICH's MPI_Abort may return, leaving the kill to mpiexec: run nothing more meanwhile


def _abort_on_exception(exc_type, exc, tb):
    """``sys.excepthook`` while running on several ranks: print which rank failed and why, then end
    the whole job. Without it the failed rank would wait at exit and the others in their next
    collective — a hang instead of an error."""
    text = "".join(traceback.format_exception(exc_type, exc, tb))
    _abort_job(f"chainrule.distributed: {describe()} raised {exc_type.__name__}; aborting all {world_size()} "
               f"processes.\n{text}", 1)


def _on_signal(signum, frame):
    """SIGINT/SIGTERM handler while running on several ranks: end the whole job (exit status 128 + the
    signal number, a shell's convention: 130, 143)."""
    _abort_job(f"chainrule.distributed: {describe()}: interrupted by {signal.Signals(signum).name}; aborting all "
               f"{world_size()} processes", 128 + signum)


def _abort_for_departure(what):
    """A peer's leaving notice arrived while this rank waited in ``what``, which didn't complete: end the job."""
    note = np.empty(_NOTE_BYTES, np.uint8)
    _control.Recv(note, source=_MPI.ANY_SOURCE, tag=_LEAVING)
    leaver = note.tobytes().rstrip(b"\0").decode(errors="replace")
    _abort_job(f"chainrule.distributed: {leaver} left the job (its program ended: it returned or called sys.exit) "
               f"while {describe()} waited in {what}; aborting all {world_size()} processes", 1)


def _leave():
    """At exit (registered by ``init()`` with several ranks): wait in a non-blocking barrier for the
    other ranks to end their programs too — the normal end of a job. If they haven't within
    ``_GRACE`` s, send each a leaving notice (a rank waiting for this one in a collective aborts the
    job on it; one busy elsewhere just gets here later) and go on waiting. Once all are here, each
    rank learns from an ``MPI_Ialltoall`` which notices were sent to it and receives them, so that
    MPI_Finalize finds none in flight."""
    if _MPI.Is_finalized():
        return
    me, n = _world.Get_rank(), _world.Get_size()
    barrier, notices = _control.Ibarrier(), []
    if not wait([barrier], timeout=_GRACE):
        note = np.frombuffer(describe().encode()[:_NOTE_BYTES].ljust(_NOTE_BYTES, b"\0"), np.uint8)
        notices = [_control.Isend(note, dest=peer, tag=_LEAVING) for peer in range(n) if peer != me]
        wait([barrier])
    sent = np.full(n, int(bool(notices)), np.int32)
    sent[me] = 0
    received = np.empty(n, np.int32)
    wait([_control.Ialltoall(sent, received)])
    for source in np.flatnonzero(received):  # each was posted before the barrier completed: it is there
        _control.Recv(np.empty(_NOTE_BYTES, np.uint8), source=int(source), tag=_LEAVING)
    wait(notices)
    for signum, handler in _previous_handlers.items():  # MPI is about to be finalized
        signal.signal(signum, handler)
