"""Finding ``mpiexec`` and running a command under it, for the MPI tests.

The tests run when the ``distributed`` extra is installed (mpi4py, and an ``mpiexec``: the mpich
wheel's, beside the Python executable, or one on PATH) and are skipped with the reason otherwise.
"""
import importlib.util
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
CASES = Path(__file__).resolve().parent / "mpi_cases.py"


def find_mpiexec():
    """The mpiexec next to this Python (the mpich wheel installs it there), else the one on PATH."""
    for folder in (os.path.dirname(sys.executable), sysconfig.get_path("scripts"),
                   sysconfig.get_path("scripts", f"{os.name}_user")):
        candidate = os.path.join(folder, "mpiexec")
        if os.access(candidate, os.X_OK):
            return candidate
    return shutil.which("mpiexec")


def skip_reason():
    """Why the MPI tests can't run here, or None."""
    if importlib.util.find_spec("mpi4py") is None:
        return "the `distributed` extra is not installed (pip install '.[distributed]': mpi4py and the mpich wheel)"
    if find_mpiexec() is None:
        return "mpi4py is installed but no mpiexec was found (pip install mpich, or put a system MPI's mpiexec on PATH)"
    return None


requires_mpi = pytest.mark.skipif(skip_reason() is not None, reason=skip_reason() or "")


def environment():
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(REPO)] + [p for p in [env.get("PYTHONPATH")] if p])
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        env[var] = "1"  # two processes on a 2-core machine: one thread each
    env.pop("CHAINRULE_DEBUG", None)
    return env


def run(args, processes=2, timeout=240, cwd=None):
    """``mpiexec -n processes args...`` (or the bare command when processes is None); the CompletedProcess."""
    command = ([find_mpiexec(), "-n", str(processes)] if processes else []) + [str(a) for a in args]
    try:
        return subprocess.run(command, check=False, cwd=cwd or REPO, env=environment(), capture_output=True, text=True,
                              timeout=timeout)
    except subprocess.TimeoutExpired as e:
        pytest.fail(f"{' '.join(command)} did not finish in {timeout} s (a hang?)\n"
                    f"stdout:\n{e.stdout}\nstderr:\n{e.stderr}")


def run_case(case, processes=2, timeout=240):
    return run([sys.executable, CASES, case], processes, timeout)
