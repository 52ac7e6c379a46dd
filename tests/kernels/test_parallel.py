"""chainrule.kernels.parallel: run_blocks' shares (OpenBLAS's spin setting: tests/test_runtime.py)."""
import pytest

import chainrule
from chainrule.kernels import parallel


@pytest.fixture
def threads():
    before = chainrule.get_num_threads()
    yield
    chainrule.set_num_threads(before)


@pytest.mark.parametrize("n_threads, n_items", [(1, 5), (2, 5), (2, 1), (3, 7)])
def test_run_blocks_covers_every_item_once_in_order(threads, n_threads, n_items):
    chainrule.set_num_threads(n_threads)
    if chainrule.get_num_threads() != n_threads:
        pytest.skip("NumPy's BLAS has no thread pool to set")
    seen = []

    def work(share):
        seen.append((list(share), chainrule.get_num_threads()))
        return sum(share)

    results = parallel.run_blocks(work, list(range(n_items)))
    shares = [s for s, _ in sorted(seen)]
    assert [i for s in shares for i in s] == list(range(n_items))
    assert len(shares) == min(n_threads, n_items) and results == [sum(s) for s in shares]  # in share order
    assert all(len(s) in (n_items // len(shares), -(-n_items // len(shares))) for s in shares)  # near-equal
    if len(shares) > 1:
        assert {blas for _, blas in seen} == {1}  # BLAS pinned to one thread while the shares run
    assert chainrule.get_num_threads() == n_threads  # and restored afterwards
