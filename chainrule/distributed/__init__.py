"""Data-parallel training over MPI (``mpi4py``), PyTorch's ``torch.distributed`` shape:

    from chainrule import distributed as dist
    dist.init()                                      # under `mpiexec -n N python train.py`
    model = dist.DistributedDataParallel(dist.convert_sync_batchnorm(model))
    sampler = dist.DistributedSampler(train_set, shuffle=True, seed=0)
    loader = DataLoader(train_set, batch_size=global_batch // dist.world_size(), sampler=sampler)
    for epoch in range(epochs):
        sampler.set_epoch(epoch)
        for x, y in loader:
            loss = cross_entropy(model(x), y); optimizer.zero_grad(); loss.backward(); optimizer.step()

The extra ``pip install 'chainrule[distributed]'`` brings mpi4py and the mpich wheel (with
``mpiexec``). Importing this package needs neither; ``init()`` (and what calls it) raises
``DistributedUnavailableError`` naming what to install when they are missing. See docs/distributed.md.
"""
from .comm import (
    DistributedUnavailableError,
    abort,
    all_gather_object,
    all_reduce,
    barrier,
    broadcast,
    broadcast_object,
    init,
    is_available,
    is_initialized,
    is_main,
    local_world_size,
    rank,
    world_size,
)
from .ddp import DistributedDataParallel, bucket_layout
from .sampler import DistributedSampler
from .sync_batchnorm import SyncBatchNorm, convert_sync_batchnorm

__all__ = [
    "DistributedDataParallel", "DistributedSampler", "DistributedUnavailableError", "SyncBatchNorm", "abort",
    "all_gather_object", "all_reduce", "barrier", "broadcast", "broadcast_object", "bucket_layout",
    "convert_sync_batchnorm", "init", "is_available", "is_initialized", "is_main", "local_world_size", "rank",
    "world_size",
]
