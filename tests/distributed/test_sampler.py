"""DistributedSampler: disjoint shards, full coverage, PyTorch's padding and dropping rules, the seed
and the epoch. Explicit ``num_replicas``/``rank`` need no MPI, so these run everywhere."""
import numpy as np
import pytest
import torch.utils.data as tud

from chainrule.data import BatchSampler, DataLoader, TensorDataset
from chainrule.distributed import DistributedSampler


def shards(n, replicas, **kwargs):
    return [DistributedSampler(range(n), num_replicas=replicas, rank=r, **kwargs) for r in range(replicas)]


@pytest.mark.parametrize("n", [1, 7, 12, 13, 100])
@pytest.mark.parametrize("replicas", [1, 2, 3, 4])
@pytest.mark.parametrize("shuffle", [False, True])
def test_shards_are_disjoint_and_cover_the_epoch(n, replicas, shuffle):
    samplers = shards(n, replicas, shuffle=shuffle, seed=5)
    parts = [s.epoch_indices() for s in samplers]
    assert all(len(p) == len(s) == -(-n // replicas) for p, s in zip(parts, samplers))
    everything = np.concatenate(parts)
    assert set(everything.tolist()) == set(range(n))  # every sample, on some rank
    padding = len(everything) - n  # PyTorch's rule: the order padded by repeating its start
    assert padding == (-n) % replicas
    if padding == 0:
        assert sorted(everything.tolist()) == list(range(n))  # exactly once: the shards are disjoint
    assert all(p.dtype == np.int64 for p in parts)


@pytest.mark.parametrize("n,replicas", [(7, 2), (13, 4), (12, 3), (10, 4)])
@pytest.mark.parametrize("drop_last", [False, True])
def test_same_indices_as_pytorch_without_shuffle(n, replicas, drop_last):
    for r in range(replicas):
        ours = DistributedSampler(range(n), num_replicas=replicas, rank=r, shuffle=False, drop_last=drop_last)
        theirs = tud.DistributedSampler(range(n), num_replicas=replicas, rank=r, shuffle=False, drop_last=drop_last)
        assert ours.epoch_indices().tolist() == list(theirs)
        assert len(ours) == len(theirs)


@pytest.mark.parametrize("n,replicas", [(13, 4), (10, 3)])
def test_drop_last_skips_the_tail_instead_of_padding(n, replicas):
    parts = [s.epoch_indices() for s in shards(n, replicas, shuffle=True, drop_last=True, seed=1)]
    everything = np.concatenate(parts)
    assert len(everything) == n // replicas * replicas == len(set(everything.tolist()))  # disjoint, no repeats


def test_pad_false_shards_hold_every_index_exactly_once():
    parts = [s.epoch_indices() for s in shards(11, 4, shuffle=False, pad=False)]
    assert [len(p) for p in parts] == [3, 3, 3, 2]
    assert sorted(np.concatenate(parts).tolist()) == list(range(11))


def test_the_seed_reproduces_and_the_epoch_reshuffles():
    a, b = shards(50, 2, seed=7), shards(50, 2, seed=7)
    assert all(np.array_equal(x.epoch_indices(), y.epoch_indices()) for x, y in zip(a, b))
    first = np.concatenate([s.epoch_indices() for s in a])
    for s in a:
        s.set_epoch(1)
    second = np.concatenate([s.epoch_indices() for s in a])
    assert not np.array_equal(first, second) and sorted(first.tolist()) == sorted(second.tolist())
    for s in a:
        s.set_epoch(0)
    assert np.array_equal(np.concatenate([s.epoch_indices() for s in a]), first)  # a function of (seed, epoch)
    other = np.concatenate([s.epoch_indices() for s in shards(50, 2, seed=8)])
    assert not np.array_equal(first, other)


@pytest.mark.parametrize("replicas", [1, 2, 4])
def test_global_batches_do_not_depend_on_the_number_of_ranks(replicas):
    """With batch B/N per rank, global batch k holds the same samples for any N (B divisible by N):
    a run resumed with another number of processes sees the same data in the same steps."""
    n, global_batch = 40, 8
    reference = DistributedSampler(range(n), num_replicas=1, rank=0, seed=3).epoch_indices()
    per_rank = [list(BatchSampler(s, global_batch // replicas)) for s in shards(n, replicas, seed=3)]
    for k in range(n // global_batch):
        together = sorted(np.concatenate([batches[k] for batches in per_rank]).tolist())
        assert together == sorted(reference[k * global_batch:(k + 1) * global_batch].tolist())


def test_works_with_the_data_loader():
    data = TensorDataset(np.arange(10.0)[:, None], np.arange(10))
    seen = []
    for r in range(2):
        for _, y in DataLoader(data, batch_size=2, sampler=DistributedSampler(data, num_replicas=2, rank=r, seed=0)):
            seen += y.data.tolist()
    assert sorted(seen) == list(range(10))


def test_invalid_rank_is_refused():
    with pytest.raises(ValueError, match=r"invalid rank 2, rank should be in the interval \[0, 1\]"):
        DistributedSampler(range(4), num_replicas=2, rank=2)
    with pytest.raises(ValueError, match="num_replicas must be at least 1"):
        DistributedSampler(range(4), num_replicas=0, rank=0)
