"""chainrule without the ``distributed`` extra: importing works, a script that never calls ``init()``
is a world of one, and using MPI gives one clear error naming what to install. (mpi4py is hidden
here, so these run whether or not it is installed, and MPI is never started in the test process.)"""
import sys

import numpy as np
import pytest

import chainrule.distributed as dist
from chainrule import nn
from chainrule.cli import main
from chainrule.distributed import comm


@pytest.fixture
def no_mpi4py(monkeypatch):
    if comm.is_initialized():
        pytest.skip("MPI was already started in this process")
    monkeypatch.setitem(sys.modules, "mpi4py", None)  # `import mpi4py` now raises ImportError
    monkeypatch.setitem(sys.modules, "mpi4py.MPI", None)


def test_before_init_the_process_is_alone():
    if comm.is_initialized():
        pytest.skip("MPI was already started in this process")
    assert (dist.rank(), dist.world_size(), dist.is_main()) == (0, 1, True)
    a = np.arange(4.0)
    assert dist.all_reduce(a, "mean") is a and a.tolist() == [0, 1, 2, 3]
    dist.barrier()


def test_using_mpi_without_mpi4py_says_what_to_install(no_mpi4py):
    uses = (dist.init, lambda: dist.DistributedDataParallel(nn.Linear(2, 2)), lambda: dist.DistributedSampler(range(4)))
    for use in uses:
        with pytest.raises(dist.DistributedUnavailableError, match=r"pip install 'chainrule\[distributed\]'"):
            use()
    assert not dist.is_available()


def test_cli_distributed_without_mpi4py_is_one_line_error(no_mpi4py, capsys, tmp_path):
    assert main(["train", "--distributed", "--model", "mlp", "--epochs", "1", "--out", str(tmp_path / "run")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("chainrule: error: chainrule.distributed needs mpi4py"), err
