"""``DistributedSampler``: each rank a disjoint shard of the epoch, all ranks together the whole epoch."""
import numpy as np

from ..data.loader import Sampler
from ..random import Generator
from . import comm


class DistributedSampler(Sampler):
    """Rank ``rank`` of ``num_replicas`` gets every ``num_replicas``-th index of the epoch's order,
    starting at its rank — PyTorch's ``DistributedSampler``, rule for rule:

    - the order is a permutation drawn from ``seed + epoch`` (``shuffle``), else 0, 1, ..., n−1, so
      it is the same on every rank and changes when ``set_epoch(e)`` is called before each epoch;
    - not ``drop_last``: the order is padded by repeating its start until its length is a multiple
      of ``num_replicas`` (every rank gets ⌈n/N⌉ indices; a few samples are seen twice);
      ``drop_last``: the tail is dropped instead (⌊n/N⌋ each; a few samples are skipped);
    - ``pad=False`` (not in PyTorch; for evaluation): neither — shards differ in length by at most
      one and together hold every index exactly once, so metrics summed over ranks are exact.

    Because shard r is order[r::N], a loader with batch size B/N on every rank makes global batch
    k = the samples order[k·B:(k+1)·B] whatever N is: the same epoch order runs on 1 or N processes.
    ``num_replicas`` and ``rank`` default to ``world_size()`` and ``rank()`` (``init()`` is called).
    """

    def __init__(self, dataset, num_replicas=None, rank=None, shuffle=True, seed=0, drop_last=False, *, pad=True):
        if num_replicas is None or rank is None:
            comm.init()
            num_replicas = comm.world_size() if num_replicas is None else num_replicas
            rank = comm.rank() if rank is None else rank
        if num_replicas < 1:
            raise ValueError(f"DistributedSampler: num_replicas must be at least 1, got {num_replicas}")
        if not 0 <= rank < num_replicas:
            raise ValueError(f"DistributedSampler: invalid rank {rank}, rank should be in the interval "
                             f"[0, {num_replicas - 1}]")
        self.dataset, self.num_replicas, self.rank = dataset, int(num_replicas), int(rank)
        self.shuffle, self.seed, self.drop_last, self.pad = shuffle, int(seed), drop_last, pad
        self.epoch = 0
        n = len(dataset)
        if not pad:
            self.total_size = n
            self.num_samples = len(range(self.rank, n, self.num_replicas))
        else:
            if drop_last and n % self.num_replicas:
                self.num_samples = n // self.num_replicas  # PyTorch's ⌈(n − N)/N⌉
            else:
                self.num_samples = -(-n // self.num_replicas)
            self.total_size = self.num_samples * self.num_replicas

    def set_epoch(self, epoch):
        """Make the next epoch's order the one drawn from ``seed + epoch`` (call before each epoch)."""
        self.epoch = int(epoch)

    def __len__(self):
        return self.num_samples

    def epoch_indices(self):
        n = len(self.dataset)
        if self.shuffle:
            order = Generator(self.seed + self.epoch).rng.permutation(n).astype(np.int64)
        else:
            order = np.arange(n, dtype=np.int64)
        if self.pad:
            if self.drop_last:
                order = order[:self.total_size]
            elif self.total_size > n:
                reps = -(-(self.total_size - n) // max(n, 1))
                order = np.concatenate([order] + [order] * reps)[:self.total_size]
        return order[self.rank:self.total_size:self.num_replicas]

    def __repr__(self):
        return (f"DistributedSampler(rank {self.rank} of {self.num_replicas}, {self.num_samples} of "
                f"{len(self.dataset)}, "
                f"shuffle={self.shuffle}, seed={self.seed}, epoch={self.epoch}, drop_last={self.drop_last})")
