"""chainrule.parallel: OpenBLAS's spin time set at import, and run_blocks' shares."""
import os
import subprocess
import sys

import pytest

import chainrule
from chainrule import parallel


def _timeout_in_child(code, **env_vars):
    env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_THREAD_TIMEOUT"}
    env.update(env_vars)
    out = subprocess.run([sys.executable, "-c", code + "; import os; print(os.environ.get('OPENBLAS_THREAD_TIMEOUT'))"],
                         env=env, capture_output=True, text=True, check=True)
    return out.stdout.strip()


def test_import_before_numpy_shortens_the_blas_spin():
    assert _timeout_in_child("import chainrule") == str(parallel.BLAS_SPIN_LOG2_CYCLES)


def test_a_users_setting_is_kept():
    assert _timeout_in_child("import chainrule", OPENBLAS_THREAD_TIMEOUT="25") == "25"


def test_numpy_first_is_left_alone():
    """OpenBLAS has read its settings by then; setting the variable afterwards would only mislead."""
    assert _timeout_in_child("import numpy, chainrule") == "None"


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
