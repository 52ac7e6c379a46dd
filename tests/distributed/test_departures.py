"""A rank that leaves a job — Ctrl-C, SIGTERM, an exception, its program ending early — ends the
whole job within seconds, the rank and the reason printed once, and leaves no process behind; a
rank that is merely busy outside collectives while another has finished ends the job normally.

Each test runs ``mpiexec -n 2`` on tests/distributed/departure_cases.py (or on the CLI), waits until
both ranks have reached the moment to act (the ready files they write), acts, and gives the job
``ENDS_WITHIN`` seconds to end. mpiexec and the ranks carry the test's unique tmp_path on their
command lines, and hydra's proxy is the ranks' parent: any of them still alive afterwards is killed,
by its pid, and fails the test. (Processes are read from /proc: Linux only.)"""
import glob
import os
import signal
import subprocess
import sys
import time

import pytest

from .launch import REPO, environment, find_mpiexec, requires_mpi

pytestmark = [requires_mpi, pytest.mark.skipif(not os.path.isdir("/proc"), reason="finds processes in /proc")]

CASES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "departure_cases.py")
ENDS_WITHIN = 10.0  # seconds from the act to the end of the job
STARTS_WITHIN = 90.0  # seconds for two interpreters to import chainrule and take a few steps
SETTLE = 0.5  # seconds after the ready files before signalling a rank, so it is inside its wait


def _command_line(pid):
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:  # gone meanwhile
        return ""


def _processes_with(marker):
    """{pid: command line} of the live processes whose command line contains ``marker`` (Linux /proc)."""
    found = {int(p): _command_line(p) for p in os.listdir("/proc") if p.isdigit() and int(p) != os.getpid()}
    return {pid: line for pid, line in found.items() if marker in line}


def _parent(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return int(f.read().rsplit(")", 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        return None


def _output(tmp_path):
    return {name: (tmp_path / name).read_text(errors="replace") for name in ("stdout", "stderr")}


def _explain(job):
    return f"exit status {job['returncode']}\nstdout:\n{job['stdout']}\nstderr:\n{job['stderr']}"


def _run(args, tmp_path, is_ready, act=None):
    """Run ``mpiexec -n 2 args`` (tmp_path among them), wait until ``is_ready()``, call ``act(mpiexec's
    Popen, {rank: pid})``, and wait at most ENDS_WITHIN s for the job to end. Returns a dict: returncode,
    seconds (from the act to the end), stdout, stderr. Whatever happens, no process is left behind."""
    marker = str(tmp_path)
    with open(tmp_path / "stdout", "w") as out, open(tmp_path / "stderr", "w") as err:
        job = subprocess.Popen([find_mpiexec(), "-n", "2", *map(str, args)], cwd=REPO, env=environment(), stdout=out,
                               stderr=err, start_new_session=True)
    watched = {}  # pid: command line, so that a pid reused by another process is never touched
    try:
        deadline = time.perf_counter() + STARTS_WITHIN
        while not is_ready():
            if job.poll() is not None or time.perf_counter() > deadline:
                pytest.fail(f"the job ended or stalled before the moment to act (status {job.poll()})\n"
                            f"{_output(tmp_path)}")
            time.sleep(0.05)
        ranks = {r: int(path.read_text()) for r in (0, 1) if (path := tmp_path / f"ready-{r}").exists()}
        proxies = {_parent(pid) for pid in ranks.values()} - {None}  # hydra_pmi_proxy: no marker in its arguments
        watched = {**_processes_with(marker), **{pid: _command_line(pid) for pid in proxies}}
        started = time.perf_counter()
        if act is not None:
            act(job, ranks)
        try:
            job.wait(timeout=ENDS_WITHIN)
        except subprocess.TimeoutExpired:
            pytest.fail(f"the job did not end within {ENDS_WITHIN} s of the act\n{_output(tmp_path)}")
        result = {"returncode": job.returncode, "seconds": time.perf_counter() - started, **_output(tmp_path)}
    finally:
        left = _end_leftovers({**watched, **_processes_with(marker)})
        job.wait()  # mpiexec itself, ended (or killed just above)
    assert not left, f"processes left behind (killed now): {left}"
    return result


def _end_leftovers(processes):
    """Give the job's processes ({pid: command line}) 3 s to disappear, then SIGKILL the survivors;
    return them. A process counts as alive while its pid shows the same, non-empty command line (a
    zombie's is empty: it has ended)."""
    def alive():
        return {pid: line for pid, line in processes.items() if line and _command_line(pid) == line}

    deadline = time.perf_counter() + 3.0
    while alive() and time.perf_counter() < deadline:
        time.sleep(0.05)
    left = alive()
    for pid in left:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    return left


def _case(case, tmp_path, act=None, ranks=(0, 1)):
    return _run([sys.executable, CASES, case, tmp_path], tmp_path,
                lambda: all((tmp_path / f"ready-{r}").exists() for r in ranks), act)


def _signal_rank(rank, signum):
    def act(job, ranks):
        time.sleep(SETTLE)
        os.kill(ranks[rank], signum)
    return act


def _reports(job):
    """The lines chainrule.distributed printed (the job's one report, and nothing per rank)."""
    return [line for line in job["stderr"].splitlines() if line.startswith("chainrule.distributed:")]


def _assert_one_report(job, *expected):
    reports = _reports(job)
    assert len(reports) == 1, _explain(job)
    for text in expected:
        assert text in reports[0], _explain(job)
    assert job["seconds"] < ENDS_WITHIN


def test_sigint_to_mpiexec_ends_the_job_with_one_report(tmp_path):
    """Ctrl-C: mpiexec forwards SIGINT to every rank; one of them reports, status 130."""
    job = _case("train", tmp_path, lambda job, ranks: job.send_signal(signal.SIGINT))
    assert job["returncode"] == 130, _explain(job)
    _assert_one_report(job, "interrupted by SIGINT; aborting all 2 processes")


def test_sigint_to_a_rank_waiting_in_a_collective_ends_the_job(tmp_path):
    """Rank 1 is blocked in a DDP backward (waiting for rank 0) when SIGINT reaches it alone."""
    job = _case("stall", tmp_path, _signal_rank(1, signal.SIGINT))
    assert job["returncode"] == 130, _explain(job)
    _assert_one_report(job, "rank 1 of 2", "interrupted by SIGINT")


def test_sigterm_to_a_busy_rank_ends_the_job(tmp_path):
    """SIGTERM to rank 0, computing outside collectives while rank 1 waits for it: status 143."""
    job = _case("stall", tmp_path, _signal_rank(0, signal.SIGTERM))
    assert job["returncode"] == 143, _explain(job)
    _assert_one_report(job, "rank 0 of 2", "interrupted by SIGTERM")


def test_an_exception_on_one_rank_during_training_ends_the_job(tmp_path):
    job = _case("raise_in_backward", tmp_path)
    assert job["returncode"] == 1, _explain(job)
    _assert_one_report(job, "rank 1 of 2", "raised ValueError")
    assert job["stderr"].count("Traceback") == 1, _explain(job)
    assert "ValueError: deliberate failure on rank 1" in job["stderr"]


def test_the_same_exception_on_every_rank_is_reported_once(tmp_path):
    job = _case("raise_everywhere", tmp_path)
    assert job["returncode"] == 1, _explain(job)
    _assert_one_report(job, "raised ValueError")
    assert job["stderr"].count("Traceback") == 1, _explain(job)


def test_abort_with_a_message_on_every_rank_prints_it_once(tmp_path):
    job = _case("abort_everywhere", tmp_path)
    assert job["returncode"] == 2, _explain(job)
    assert job["stderr"].count("the same message from every rank") == 1, _explain(job)


@pytest.mark.parametrize("case, waited_in", [("exit_in_all_reduce", "all_reduce"),
                                             ("return_in_backward", "DistributedDataParallel backward")])
def test_a_rank_ending_early_ends_the_job_waiting_for_it(tmp_path, case, waited_in):
    """Rank 1's program ends (sys.exit(0), or returns) while rank 0 waits for it in a collective."""
    job = _case(case, tmp_path)
    assert job["returncode"] == 1, _explain(job)
    _assert_one_report(job, "rank 1 of 2", "left the job", "rank 0 of 2", f"waited in {waited_in}")


def test_a_rank_busy_outside_collectives_is_not_disturbed(tmp_path):
    """Rank 1 has finished while rank 0 computes for 5 s more: the job ends normally."""
    job = _case("busy_main", tmp_path)
    assert job["returncode"] == 0, _explain(job)
    assert _reports(job) == [], _explain(job)
    assert "rank 0 done" in job["stdout"]


def test_ctrl_c_on_cli_training_keeps_the_last_checkpoint(tmp_path):
    """`mpiexec -n 2 chainrule train --distributed`, interrupted after its first checkpoint: the job
    ends with one report, and the checkpoint rank 0 wrote loads."""
    from chainrule.train import load_checkpoint

    run = tmp_path / "run"

    def checkpoints():  # RUN/checkpoints/epoch-NNNN.safetensors, or RUN/checkpoint.safetensors
        return [p for p in glob.glob(str(run / "**" / "*.safetensors"), recursive=True)
                if not os.path.basename(p).startswith(".")]

    job = _run([sys.executable, "-m", "chainrule.cli", "train", "--distributed", "--model", "mlp", "--batch-size",
                "32", "--seed", "1", "--quiet", "--epochs", "50", "--out", run], tmp_path, lambda: bool(checkpoints()),
               lambda job, ranks: job.send_signal(signal.SIGINT))
    assert job["returncode"] == 130, _explain(job)
    _assert_one_report(job, "interrupted by SIGINT")
    folder = run / "checkpoints"
    info = load_checkpoint(str(folder) if folder.is_dir() else checkpoints()[0], restore_rng=False)
    assert 1 <= info["epoch"] < 50
