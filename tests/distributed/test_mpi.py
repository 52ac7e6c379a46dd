"""The data-parallel tests that need several processes: each runs ``mpiexec -n 2`` on
tests/distributed/mpi_cases.py (or on the CLI) and checks its exit status and output. Skipped, with
the reason, when the ``distributed`` extra (mpi4py + an mpiexec) is not installed."""
import json
import sys
import time

import numpy as np
import pytest

from .launch import requires_mpi, run, run_case

pytestmark = requires_mpi

PARITY_CASES = ["collectives", "ddp_step", "ddp_momentum", "ddp_no_sync", "ddp_unused", "sync_bn", "fit"]


def _explain(result):
    return f"exit status {result.returncode}\nstdout:\n{result.stdout}\nstderr:\n{result.stderr}"


@pytest.mark.parametrize("case", PARITY_CASES)
def test_two_ranks_match_one_process(case):
    """ddp_step: one DDP step on 2 ranks with half the batch each = one process on the whole batch
    (float64, gradients and updated weights to 1e-12), with one bucket and with many; ddp_momentum:
    several steps of SGD-momentum (and Nesterov, weight decay, Adam) stay equal; ddp_no_sync:
    gradient accumulation; ddp_unused: unused parameters; sync_bn: SyncBatchNorm on 2 ranks = BatchNorm
    on the whole batch (outputs, running statistics, gradients), and DDP+SyncBN steps; fit: the
    training loop's metrics, printing and checkpoints; collectives: all_reduce, broadcast, ..."""
    result = run_case(case)
    assert result.returncode == 0, _explain(result)
    assert result.stdout.count(f"PASS {case} rank") == 2, _explain(result)


def test_single_process_without_mpiexec():
    """Started without mpiexec, the same code runs as a world of one."""
    result = run_case("single", processes=None)
    assert result.returncode == 0, _explain(result)
    assert "PASS single rank 0" in result.stdout


def test_a_failing_rank_aborts_the_job_within_seconds():
    started = time.perf_counter()
    result = run_case("raise", timeout=120)
    elapsed = time.perf_counter() - started
    assert result.returncode != 0, _explain(result)
    reports = [line for line in result.stderr.splitlines() if line.startswith("chainrule.distributed:")]
    assert len(reports) == 1 and "rank 1 of 2" in reports[0], _explain(result)  # once, not once per rank
    assert "ValueError: deliberate failure on rank 1" in result.stderr, _explain(result)
    assert result.stderr.count("Traceback") == 1, _explain(result)
    # start-up of two interpreters included; a hang would run into the timeout instead
    assert elapsed < 60, f"the job took {elapsed:.1f} s to end"


def test_a_different_model_on_one_rank_is_refused_at_wrap_time():
    result = run_case("mismatch", timeout=120)
    assert result.returncode != 0, _explain(result)
    assert "the model is not the same on every rank" in result.stderr, _explain(result)
    assert "rank 1 has parameter '0.weight' of shape (7, 4)" in result.stderr, _explain(result)


def _cli(args, processes=2, timeout=300):
    return run([sys.executable, "-m", "chainrule.cli", "train", "--distributed", "--model", "mlp", "--batch-size", "32",
                "--seed", "1", "--quiet", *args], processes, timeout)


def test_cli_distributed_run_resumes_with_another_number_of_processes(tmp_path):
    """`mpiexec -n 2 chainrule train --distributed`: one result line, one run folder; its checkpoint,
    resumed by a single process, ends where the uninterrupted 2-process run ends."""
    whole = _cli(["--epochs", "2", "--out", tmp_path / "whole", "--json"])
    assert whole.returncode == 0, _explain(whole)
    lines = [json.loads(line) for line in whole.stdout.splitlines() if line.startswith("{")]
    assert len(lines) == 1 and lines[0]["epochs"] == 2, whole.stdout  # rank 0 alone prints
    for name in ("checkpoints/epoch-0002.safetensors", "config.json", "history.json", "loss.png", "summary.txt"):
        assert (tmp_path / "whole" / name).exists(), name

    first = _cli(["--epochs", "1", "--out", tmp_path / "resumed"])
    assert first.returncode == 0, _explain(first)
    second = _cli(["--epochs", "2", "--out", tmp_path / "resumed", "--resume", "--json"], processes=None)
    assert second.returncode == 0, _explain(second)
    assert json.loads(second.stdout.splitlines()[-1])["epochs"] == 2

    from safetensors.numpy import load_file

    a = load_file(tmp_path / "whole" / "checkpoints" / "epoch-0002.safetensors")
    b = load_file(tmp_path / "resumed" / "checkpoints" / "epoch-0002.safetensors")
    assert a.keys() == b.keys()
    for key in a:  # float32, and a different summation order in the second epoch: rounding-level differences
        np.testing.assert_allclose(a[key], b[key], rtol=1e-4, atol=1e-5, err_msg=key)
    history = json.loads((tmp_path / "resumed" / "history.json").read_text())
    assert [e["epoch"] for e in history["epochs"]] == [1, 2]


def test_cli_global_batch_must_split_evenly(tmp_path):
    result = _cli(["--epochs", "1", "--batch-size", "33", "--out", tmp_path / "run"], timeout=120)
    assert result.returncode != 0
    expected = "--batch-size 33 is the global batch and must be divisible by the 2 processes"
    assert expected in result.stderr, _explain(result)
    assert "(rank 0 of 2)" in result.stderr or "(rank 1 of 2)" in result.stderr
    assert result.stderr.count("chainrule: error") == 1, _explain(result)  # both ranks fail; said once
