"""The ways a rank leaves a job, run by tests/distributed/test_departures.py as

    mpiexec -n 2 python tests/distributed/departure_cases.py CASE FOLDER

Both ranks train a tiny model under DistributedDataParallel. When a rank reaches the moment the
test acts on (a signal to send, or the departure itself) it writes FOLDER/ready-R holding its pid,
so the test signals at the right moment instead of sleeping blindly. A case that the test should
have ended long before exits with status 3 after ``LIMIT`` seconds, so a broken test can't hang.
"""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

import numpy as np  # noqa: E402

import chainrule as cr  # noqa: E402
from chainrule import distributed as dist  # noqa: E402
from chainrule import nn, optim  # noqa: E402
from chainrule.nn.functional import cross_entropy  # noqa: E402

LIMIT = 60.0


class Trainer:
    """A two-layer float64 model, data-parallel, on random batches of 8 per rank."""

    def __init__(self):
        cr.manual_seed(0)
        self.model = dist.DistributedDataParallel(nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 2)).double())
        self.optimizer = optim.SGD(self.model.parameters(), lr=0.1)
        self.rng = np.random.default_rng(dist.rank())

    def step(self):
        x, y = cr.Tensor(self.rng.standard_normal((8, 4))), cr.Tensor(self.rng.integers(0, 2, 8))
        loss = cross_entropy(self.model(x), y)
        self.optimizer.zero_grad()
        loss.backward()
        self.optimizer.step()


def ready(folder):
    """Tell the test this rank has reached its moment."""
    path = os.path.join(folder, f"ready-{dist.rank()}")
    with open(path + ".tmp", "w") as f:
        f.write(str(os.getpid()))
    os.replace(path + ".tmp", path)  # the test never reads a half-written pid


def work_outside_collectives(seconds):
    """Compute without any collective (a rank writing plots or a checkpoint)."""
    a, end = np.ones((64, 64)), time.perf_counter() + seconds
    while time.perf_counter() < end:
        a = np.tanh(a @ a / 64)


def time_out():
    raise SystemExit(3)


# ----- cases ------------------------------------------------------------------------------------------
def case_train(folder):
    """Both ranks train until the test signals mpiexec (which forwards the signal to every rank)."""
    trainer = Trainer()
    for _ in range(3):
        trainer.step()
    ready(folder)
    end = time.perf_counter() + LIMIT
    while time.perf_counter() < end:
        trainer.step()
    time_out()


def case_stall(folder):
    """Rank 0 computes outside collectives while rank 1 waits for it in a DDP backward: the test
    signals one of them."""
    trainer = Trainer()
    for _ in range(3):
        trainer.step()
    ready(folder)
    if dist.rank() == 0:
        work_outside_collectives(LIMIT)
    trainer.step()
    time_out()


def case_exit_in_all_reduce(folder):
    """Rank 1 calls sys.exit(0) while rank 0 waits in an all_reduce."""
    Trainer().step()
    ready(folder)
    if dist.rank() == 1:
        sys.exit(0)
    dist.all_reduce(np.zeros(3))
    time_out()


def case_return_in_backward(folder):
    """Rank 1's program ends (returns) while rank 0 waits in a DDP backward."""
    trainer = Trainer()
    trainer.step()
    ready(folder)
    if dist.rank() == 0:
        trainer.step()
        time_out()


def case_raise_in_backward(folder):
    """Rank 1 raises while rank 0 waits in a DDP backward."""
    trainer = Trainer()
    trainer.step()
    ready(folder)
    if dist.rank() == 1:
        raise ValueError("deliberate failure on rank 1")
    trainer.step()
    time_out()


def case_raise_everywhere(folder):
    """Every rank raises the same error at once: one traceback for the job, not one per rank."""
    Trainer().step()
    ready(folder)
    raise ValueError(f"the same failure everywhere (rank {dist.rank()})")


def case_abort_everywhere(folder):
    """Every rank calls abort() with the same message: printed once, the job's status is the code."""
    Trainer().step()
    ready(folder)
    dist.abort(2, "chainrule.distributed-test: the same message from every rank")


def case_busy_main(folder):
    """Rank 1 has finished while rank 0 works 5 s outside collectives: a normal end, status 0."""
    trainer = Trainer()
    for _ in range(3):
        trainer.step()
    ready(folder)
    if dist.rank() == 0:
        work_outside_collectives(5.0)
        print("rank 0 done", flush=True)


CASES = {name[5:]: fn for name, fn in globals().items() if name.startswith("case_")}

if __name__ == "__main__":
    dist.init()
    if dist.world_size() < 2:
        raise SystemExit(f"expected several processes, got a world of {dist.world_size()}")
    CASES[sys.argv[1]](sys.argv[2])
