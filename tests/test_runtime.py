"""chainrule.runtime: what ``import chainrule`` changes for the whole process (imported before NumPy, after
it: OpenBLAS re-initialized, switched off), as settings() returns it and show() prints it; num_threads for a block."""
import json
import os
import subprocess
import sys

import pytest

import chainrule
from chainrule import runtime
from chainrule.kernels import parallel
from tests.test_allocator import GLIBC


def _in_child(first="import chainrule", **env_vars):
    """What show() prints and settings() returns in a fresh process that runs ``first``, started without
    this process's spin setting or switches."""
    env = {k: v for k, v in os.environ.items() if k not in ("OPENBLAS_THREAD_TIMEOUT", *runtime.SWITCHES)}
    env.update(env_vars)
    code = f"{first}; import json, chainrule; chainrule.runtime.show(); print(json.dumps(chainrule.runtime.settings()))"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    *shown, settings = out.stdout.splitlines()
    return "\n".join(shown), json.loads(settings)


def test_imported_before_numpy_shortens_the_blas_spin_and_tunes_malloc():
    shown, settings = _in_child()
    spin, malloc = settings["blas_spin"], settings["malloc"]
    assert spin["OPENBLAS_THREAD_TIMEOUT"] == str(runtime.BLAS_SPIN_LOG2_CYCLES)
    assert spin["state"] == "set by chainrule"
    assert malloc["tuned"] is GLIBC
    assert malloc["state"] == ("tuned by chainrule" if GLIBC else "not applied: not Linux with glibc")
    assert settings["switches"]["CHAINRULE_RUNTIME_DEFAULTS"] is None
    assert not settings["worker_pool"]["alive"]  # nothing has run on threads yet
    assert "  OPENBLAS_THREAD_TIMEOUT: 18\n  chainrule's value: 18" in shown
    assert "  state: set by chainrule\n" in shown
    if GLIBC:
        assert "  tuned: True\n  M_MMAP_THRESHOLD: 32 MiB\n  M_TRIM_THRESHOLD: 1 GiB\n" in shown


def _openblas_on_pthreads():
    return any(lib.internal_api == "openblas" and getattr(lib, "threading_layer", None) == "pthreads"
               for lib in runtime.thread_pools().lib_controllers)


def test_numpy_first_has_openblas_read_the_spin_again():
    """OpenBLAS read its variables when NumPy loaded it; chainrule sets the spin, then has OpenBLAS re-read them
    and restart its workers (openblas_read_env, blas_thread_shutdown_, blas_thread_init)."""
    shown, settings = _in_child("import numpy")
    spin = settings["blas_spin"]
    if not _openblas_on_pthreads():
        assert spin["OPENBLAS_THREAD_TIMEOUT"] is None and spin["state"].startswith("not applied: NumPy was imported")
        return
    assert spin["OPENBLAS_THREAD_TIMEOUT"] == str(runtime.BLAS_SPIN_LOG2_CYCLES)
    assert spin["state"] == "set by chainrule (OpenBLAS re-initialized: NumPy was imported first)"
    assert "  state: set by chainrule (OpenBLAS re-initialized: NumPy was imported first)\n" in shown
    assert settings["malloc"]["tuned"] is GLIBC  # malloc can be tuned at any time


SPIN_PROBE = """
import ctypes, json, time
import numpy as np
from threadpoolctl import ThreadpoolController, threadpool_limits

threadpool_limits(2)
openblas = ThreadpoolController().select(internal_api="openblas").lib_controllers[0].dynlib
openblas.openblas_thread_timeout.restype = ctypes.c_uint

def spin():
    # OpenBLAS's cached variable, and the CPU seconds the process burns in the 0.3 s after a threaded
    # product (its idle workers' busy-wait; median of 5)
    a = np.ones((400, 400))
    idle = []
    for _ in range(5):
        a @ a
        start = time.process_time()
        time.sleep(0.3)
        idle.append(time.process_time() - start)
    return openblas.openblas_thread_timeout(), sorted(idle)[2]

before = spin()
import chainrule
print(json.dumps({"before": before, "after": spin()}))
"""


def test_numpy_first_shortens_openblas_s_effective_spin():
    """Observed from outside: OpenBLAS's cached variable goes from unset (0) to 18, and after a product its
    workers stop burning CPU within the next 0.3 s (2^28 cycles spin ~0.1 s; 2^18, ~0.1 ms)."""
    if not _openblas_on_pthreads() or os.cpu_count() < 2:
        pytest.skip("needs NumPy on OpenBLAS's pthreads server and 2 cores")
    env = {k: v for k, v in os.environ.items() if k not in ("OPENBLAS_THREAD_TIMEOUT", *runtime.SWITCHES)}
    out = subprocess.run([sys.executable, "-c", SPIN_PROBE], env=env, capture_output=True, text=True, check=True)
    (variable_before, idle_before), (variable_after, idle_after) = json.loads(out.stdout).values()
    assert (variable_before, variable_after) == (0, runtime.BLAS_SPIN_LOG2_CYCLES)
    assert idle_after < 0.02, (idle_before, idle_after)  # before: ~0.1 s on an idle 2-core machine
    assert idle_after < idle_before


def test_numpy_first_with_other_threads_running_leaves_the_spin_alone():
    """A product may be running on another thread: OpenBLAS's workers are not stopped under it."""
    first = "import numpy, threading, time; threading.Thread(target=time.sleep, args=(3,), daemon=True).start()"
    shown, settings = _in_child(first)
    assert settings["blas_spin"]["OPENBLAS_THREAD_TIMEOUT"] is None
    assert settings["blas_spin"]["state"] == ("not applied: NumPy was imported before chainrule, and other "
                                              "threads were running")
    assert "  OPENBLAS_THREAD_TIMEOUT: unset\n" in shown


def test_a_users_spin_setting_is_kept():
    _, settings = _in_child(OPENBLAS_THREAD_TIMEOUT="25")
    assert settings["blas_spin"]["OPENBLAS_THREAD_TIMEOUT"] == "25"
    assert settings["blas_spin"]["state"] == "kept from the environment"


def test_one_switch_turns_off_every_import_time_change():
    shown, settings = _in_child(CHAINRULE_RUNTIME_DEFAULTS="0")
    assert settings["blas_spin"]["OPENBLAS_THREAD_TIMEOUT"] is None
    assert settings["blas_spin"]["state"] == settings["malloc"]["state"] == "off (CHAINRULE_RUNTIME_DEFAULTS=0)"
    assert settings["malloc"]["tuned"] is False
    assert settings["malloc"]["M_MMAP_THRESHOLD"] == "glibc's default"
    assert settings["switches"]["CHAINRULE_RUNTIME_DEFAULTS"] == "0"
    assert "  CHAINRULE_RUNTIME_DEFAULTS: 0\n" in shown


def test_the_malloc_switch_turns_off_the_malloc_tuning_only():
    _, settings = _in_child(CHAINRULE_MALLOC_TUNING="0")
    assert settings["malloc"]["tuned"] is False and settings["malloc"]["state"] == "off (CHAINRULE_MALLOC_TUNING=0)"
    assert settings["blas_spin"]["state"] == "set by chainrule"
    _, settings = _in_child(CHAINRULE_MALLOC_TUNING="1")
    assert settings["malloc"]["tuned"] is GLIBC


def test_show_prints_every_setting(capsys):
    runtime.show()
    shown = capsys.readouterr().out
    for section, fields in runtime.settings().items():
        assert f"\n{section}\n" in shown
        for key in fields:
            assert f"\n  {key}: " in shown
    assert "why: " in shown and "num_threads=" in shown  # the BLAS library threadpoolctl found, and its count


@pytest.fixture
def two_threads():
    """Two threads for the test (skipped where NumPy's BLAS has no pool to set), the count put back after."""
    with chainrule.num_threads(2):
        if chainrule.get_num_threads() != 2:
            pytest.skip("NumPy's BLAS has no thread pool to set")
        yield


def test_settings_report_the_thread_count_and_the_worker_pool(two_threads):
    parallel.run_blocks(len, [1, 2, 3, 4])
    settings = runtime.settings()
    assert settings["threads"]["chainrule"] == 2
    assert any(blas.endswith("num_threads=2") for blas in settings["threads"]["blas"])
    assert settings["worker_pool"]["alive"] and settings["worker_pool"]["threads"] >= 1


def test_num_threads_sets_the_count_for_the_block_and_restores_it(two_threads):
    with chainrule.num_threads(1):
        assert chainrule.get_num_threads() == 1
        with chainrule.num_threads(3):  # nested blocks restore in turn
            assert chainrule.get_num_threads() == 3
        assert chainrule.get_num_threads() == 1
    assert chainrule.get_num_threads() == 2


def test_num_threads_restores_the_count_when_the_block_raises(two_threads):
    with pytest.raises(RuntimeError, match="inside"), chainrule.num_threads(1):
        assert chainrule.get_num_threads() == 1
        raise RuntimeError("inside")
    assert chainrule.get_num_threads() == 2


@pytest.mark.parametrize("bad", [0, -1, 1.5, True, "2", None])
def test_thread_counts_must_be_positive_ints(bad):
    before = chainrule.get_num_threads()
    with pytest.raises(ValueError, match=r"^num_threads: n must be a positive int \(a thread count\), got "):
        chainrule.num_threads(bad)
    with pytest.raises(ValueError, match=r"^set_num_threads: n must be a positive int"):
        chainrule.set_num_threads(bad)
    assert chainrule.get_num_threads() == before


def test_num_threads_is_exported():
    assert chainrule.num_threads is runtime.num_threads and chainrule.runtime is runtime
