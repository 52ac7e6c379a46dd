"""Processes and collectives over MPI (through ``mpi4py``): ``init``, ``rank``, ``world_size``,
``barrier``, ``all_reduce``, ``broadcast``, and the abort-on-exception that keeps a failed job from
hanging.

mpi4py is imported only by ``init()`` (importing ``mpi4py.MPI`` starts MPI), so ``import chainrule``
and a script that never calls ``init()`` need no MPI at all. Before ``init()`` — and in a process
started without ``mpiexec``, which MPI runs as a world of one — ``rank()`` is 0, ``world_size()`` 1,
``is_main()`` true and every collective returns its input: the same script runs alone or under
``mpiexec -n N`` unchanged.
"""
import os
import socket
import sys
import traceback

import numpy as np

from ..tensor import Tensor

INSTALL_HINT = ("chainrule.distributed needs mpi4py and an MPI library: pip install 'chainrule[distributed]' "
                "(mpi4py and the mpich wheel, which brings mpiexec; with a system MPI, pip install mpi4py alone "
                "builds against it)")

_MPI = None  # the mpi4py.MPI module once init() ran
_world = None  # MPI.COMM_WORLD
_previous_excepthook = None


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
    than one process, an uncaught exception on any rank prints that rank and its traceback and then
    ``MPI_Abort``s the whole job, so no rank waits forever in a collective for a dead peer."""
    global _MPI, _world, _previous_excepthook
    if _MPI is not None:
        return _world.Get_size()
    MPI = _import_mpi()
    _MPI, _world = MPI, MPI.COMM_WORLD
    if _world.Get_size() > 1 and _previous_excepthook is None:
        _previous_excepthook = sys.excepthook
        sys.excepthook = _abort_on_exception
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


def barrier():
    """Wait until every rank has reached this call."""
    if world_size() > 1:
        _world.Barrier()


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
        _world.Allreduce(_MPI.IN_PLACE, data, op=_mpi_op(op))
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
        _world.Bcast(data, root=root)
    return array


def broadcast_object(obj, root=0):
    """Rank ``root``'s ``obj`` (any picklable value) on every rank."""
    return _world.bcast(obj, root=root) if world_size() > 1 else obj


def all_gather_object(obj):
    """A list with every rank's ``obj``, in rank order, on every rank."""
    return _world.allgather(obj) if world_size() > 1 else [obj]


def abort(code=1):
    """End every process of the job with exit status ``code`` (no-op when alone: the caller exits)."""
    if world_size() > 1:
        sys.stdout.flush()
        sys.stderr.flush()
        _world.Abort(code)


def describe():
    """'rank R of N on HOST' — how a message names the process it comes from."""
    return f"rank {rank()} of {world_size()} on {socket.gethostname()} (pid {os.getpid()})"


def _abort_on_exception(exc_type, exc, tb):
    """``sys.excepthook`` while running on several ranks: print which rank failed and why, then end
    the whole job. Without it the failed rank would wait in MPI_Finalize and the others in their
    next collective — a hang instead of an error."""
    try:
        text = "".join(traceback.format_exception(exc_type, exc, tb))
        sys.stderr.write(f"chainrule.distributed: {describe()} raised {exc_type.__name__}; aborting all "
                         f"{world_size()} processes.\n{text}")
        sys.stderr.flush()
    finally:
        _world.Abort(1)
