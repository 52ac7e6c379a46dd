"""A loop over blocks spread over chainrule's threads (their count: ``runtime.get_num_threads``).

BLAS alone splits one matrix product over its threads, but a convolution's products are block-sized and
too small to split well, and the copies around them (padding, im2col, output transposes) run on one
thread. So the conv hands each thread its own share of the blocks instead — NumPy releases the GIL inside
copies and BLAS calls — with BLAS pinned to one thread meanwhile.
"""
import contextvars

from ..runtime import get_num_threads, thread_pools, worker_pool


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
    n = min(get_num_threads(), len(items))
    if n <= 1:
        return [work(items)]
    shares = [items[len(items) * i // n : len(items) * (i + 1) // n] for i in range(n)]
    pool = worker_pool(n - 1)
    with thread_pools().limit(limits=1, user_api="blas"):  # BLAS only: leaves OpenMP pools (torch's) alone
        # each worker runs in a copy of the caller's context: NumPy's errstate lives there (a caller's
        # np.errstate(all="ignore") holds on every thread of the op, not only on the calling one)
        others = [pool.submit(contextvars.copy_context().run, work, share) for share in shares[1:]]
        return [work(shares[0])] + [f.result() for f in others]  # the calling thread takes the first share
