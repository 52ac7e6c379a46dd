"""Threads: how many chainrule computes on, and a loop over blocks spread over them.

chainrule uses as many threads as NumPy's BLAS is set to (``OMP_NUM_THREADS`` /
``OPENBLAS_NUM_THREADS`` at start, ``threadpoolctl``, or ``set_num_threads``). BLAS alone splits one
matrix product over its threads, but a convolution's products are block-sized and too small to split
well, and the copies around them (padding, im2col, output transposes) run on one thread. So the conv
hands each thread its own share of the blocks instead — NumPy releases the GIL inside copies and BLAS
calls — with BLAS pinned to one thread meanwhile.

OpenBLAS's workers busy-wait after each threaded product, by default for 2^28 cycles (~0.1 s), to
pick up the next one fast. A training step alternates threaded products (linear layers) with the
conv's own threads, so a worker still spinning from the last product took a core from them: a
LeNet-5 step at 2 threads measured 17.4 ms, and 11.8 ms with the spin cut to 2^18 cycles (~0.1 ms,
still enough for back-to-back products: an LSTM step is unchanged). OpenBLAS reads
``OPENBLAS_THREAD_TIMEOUT`` (log2 of the cycles) once, when NumPy is imported; so ``import chainrule``
sets it, unless it is set already — and only if it comes before ``import numpy``.
"""
import contextvars
import os
import sys
from concurrent.futures import ThreadPoolExecutor

from threadpoolctl import ThreadpoolController

BLAS_SPIN_LOG2_CYCLES = 18
if "numpy" not in sys.modules:
    os.environ.setdefault("OPENBLAS_THREAD_TIMEOUT", str(BLAS_SPIN_LOG2_CYCLES))

_controller = None
_executor = None


def _blas():
    global _controller
    if _controller is None:
        _controller = ThreadpoolController()
    return _controller


def get_num_threads():
    """Threads chainrule computes on: BLAS's current thread count (1 if NumPy has no BLAS pool)."""
    return max((lib.num_threads for lib in _blas().select(user_api="blas").lib_controllers), default=1)


def set_num_threads(n):
    """Compute on ``n`` threads (sets NumPy's BLAS and OpenMP pools, as torch.set_num_threads)."""
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"set_num_threads: expected a positive int, got {n!r}")
    _blas().limit(limits=n)


def row_slices(n):
    """Near-equal slices of ``range(n)``, one per thread (fewer when n is smaller than the thread count)."""
    k = max(1, min(get_num_threads(), n))
    return [slice(n * i // k, n * (i + 1) // k) for i in range(k)]


def map_rows(fn, n, split=True):
    """``[fn(rows) for rows in row_slices(n)]``, the slices computed on the threads: for work that splits
    along a leading axis of n rows (the samples of a batch), each call writing or returning its part.
    ``split=False``: one call on all rows, on this thread (work too small to hand out)."""
    if not split:
        return [fn(slice(0, n))]
    return [r for part in run_blocks(lambda share: [fn(rows) for rows in share], row_slices(n)) for r in part]


def run_blocks(work, items):
    """``work(share)`` for near-equal contiguous shares of ``items``, one per thread, BLAS on one thread
    while they run; the list of results (a single call on the calling thread when one thread is set)."""
    global _executor
    n = min(get_num_threads(), len(items))
    if n <= 1:
        return [work(items)]
    shares = [items[len(items) * i // n : len(items) * (i + 1) // n] for i in range(n)]
    if _executor is None or _executor._max_workers < n - 1:
        _executor = ThreadPoolExecutor(max_workers=n - 1, thread_name_prefix="chainrule")
    with _blas().limit(limits=1, user_api="blas"):
        # each worker runs in a copy of the caller's context: NumPy's errstate lives there (a caller's
        # np.errstate(all="ignore") holds on every thread of the op, not only on the calling one)
        others = [_executor.submit(contextvars.copy_context().run, work, share) for share in shares[1:]]
        return [work(shares[0])] + [f.result() for f in others]  # the calling thread takes the first share
