"""``SyncBatchNorm``: batch normalization whose batch statistics are those of the global batch —
every rank's samples — so N ranks with B/N samples each normalize exactly as one process with B
[note 003: BN's statistics are the batch's; a batch split over ranks must still be one batch].

Forward: each rank's per-channel count, mean and M2 = Σ(x − mean)² are gathered (one
``MPI_Iallgather``) and merged with Chan's parallel formula, M2 = Σ M2ᵢ + Σ nᵢ·(meanᵢ − mean)²,
in float64 and in rank order, so every rank gets bit-identical statistics (and running statistics).
Backward, with ĝ = γ·g: dx = (1/√(σ² + ε))·(ĝ − Σĝ/n − x̂·Σ(ĝ·x̂)/n), the two channel sums taken over
all ranks (one ``MPI_Iallreduce``) and n the global count; dγ = Σ g·x̂ and dβ = Σ g stay per rank
(DistributedDataParallel averages them with the other gradients).
"""
import numpy as np

from ..autograd import Function, no_grad
from ..nn.module import Module
from ..nn.normalization import _BatchNorm
from . import comm


def _global_moments(x, world):
    """(mean, biased var, count) per channel over dims (0, 2, 3, ...) of every rank's x (float64)."""
    c = x.shape[1]
    axes = (0,) + tuple(range(2, x.ndim))
    n = x.size // c
    local = np.empty(2 * c + 1)
    local[0] = n
    mean = np.mean(x, axis=axes, dtype=np.float64)
    local[1:c + 1] = mean
    centered = x - mean.reshape((1, c) + (1,) * (x.ndim - 2))
    local[c + 1:] = np.sum(centered * centered, axis=axes, dtype=np.float64)
    gathered = np.empty((world.Get_size(), 2 * c + 1))
    comm.wait([world.Iallgather(local, gathered)], "SyncBatchNorm forward")
    counts, means, m2s = gathered[:, 0], gathered[:, 1:c + 1], gathered[:, c + 1:]
    total = counts.sum()
    if total <= 1:
        raise ValueError(f"SyncBatchNorm: expected more than 1 value per channel over all ranks when training, "
                         f"got {int(total)} (local input of shape {x.shape})")
    weights = counts[:, None]
    global_mean = (weights * means).sum(axis=0) / total
    m2 = m2s.sum(axis=0) + (weights * (means - global_mean) ** 2).sum(axis=0)
    return global_mean, m2 / total, int(total)


class SyncBatchNormFunction(Function):
    """y = γ·(x − μ)/√(σ² + ε) + β with μ, σ² the global batch statistics (given); shapes: x (N, C, ...),
    γ, β, μ, σ² (C,). The backward reduces its two channel sums over all ranks."""

    def forward(self, x, weight, bias, *, mean, var, count, eps, world):
        shape = (1, x.shape[1]) + (1,) * (x.ndim - 2)
        self.inv_std = (1.0 / np.sqrt(var + eps)).astype(x.dtype).reshape(shape)
        self.xhat = (x - mean.astype(x.dtype).reshape(shape)) * self.inv_std
        self.weight = None if weight is None else weight.reshape(shape)
        self.axes, self.count, self.world = (0,) + tuple(range(2, x.ndim)), count, world
        out = self.xhat * self.weight if weight is not None else self.xhat.copy()
        if bias is not None:
            out += bias.reshape(shape)
        return out

    def backward(self, g):
        xhat, axes = self.xhat, self.axes
        c = g.shape[1]
        sum_dy = np.sum(g, axis=axes)
        sum_dy_xhat = np.sum(g * xhat, axis=axes)
        gw = sum_dy_xhat if self.needs[1] else None
        gb = sum_dy if self.needs[2] else None
        gx = None
        if self.needs[0]:  # the same on every rank (same model), so every rank joins this Allreduce
            sums = np.concatenate([sum_dy, sum_dy_xhat])
            comm.wait([self.world.Iallreduce(comm._MPI.IN_PLACE, sums, op=comm._MPI.SUM)], "SyncBatchNorm backward")
            shape = self.inv_std.shape
            mean_dy = (sums[:c] / self.count).reshape(shape)
            mean_dy_xhat = (sums[c:] / self.count).reshape(shape)
            scale = self.inv_std if self.weight is None else self.inv_std * self.weight
            gx = scale * (g - mean_dy - xhat * mean_dy_xhat)
        return gx, gw, gb


class SyncBatchNorm(_BatchNorm):
    """BatchNorm over (N, C), (N, C, L) or (N, C, H, W) whose training-mode statistics span all ranks
    (PyTorch's ``nn.SyncBatchNorm``). In eval mode, or when running as a single process, it is
    exactly BatchNorm. Running statistics get the global mean and the unbiased global variance,
    identical on every rank. ``process_group``: only the whole world (None) is supported."""

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True,
                 process_group=None, *, decay=None, dtype=None):
        if process_group is not None:
            raise NotImplementedError("SyncBatchNorm: process groups are not supported; statistics span all ranks")
        super().__init__(num_features, eps, momentum, affine, track_running_stats, decay=decay, dtype=dtype)

    def forward(self, x):
        if not self.training or comm.world_size() == 1:
            return super().forward(x)
        self._check_input(x, self.ndims)
        factor = self._factor()
        world = comm.world()
        mean, var, count = _global_moments(x.data, world)
        out = SyncBatchNormFunction.apply(x, self.weight, self.bias, mean=mean, var=var, count=count, eps=self.eps,
                                         world=world)
        if self.track_running_stats:
            with no_grad():
                for running, value in ((self.running_mean, mean), (self.running_var, var * (count / (count - 1)))):
                    running.data *= 1 - factor
                    running.data += factor * value.astype(running.data.dtype)
        return out

    @classmethod
    def convert_sync_batchnorm(cls, module, process_group=None):
        """``convert_sync_batchnorm(module)``."""
        return convert_sync_batchnorm(module, process_group)


def _to_sync(bn):
    sync = SyncBatchNorm(bn.num_features, bn.eps, bn.momentum, bn.affine, bn.track_running_stats)
    sync.weight, sync.bias = bn.weight, bn.bias  # the same Parameters: an optimizer built before still holds them
    if bn.track_running_stats:
        sync.running_mean, sync.running_var = bn.running_mean, bn.running_var
        sync.num_batches_tracked = bn.num_batches_tracked
    object.__setattr__(sync, "training", bn.training)
    return sync


def convert_sync_batchnorm(module, process_group=None):
    """Replace every BatchNorm1d/BatchNorm2d in ``module`` by a SyncBatchNorm sharing its parameters
    and buffers (in place, keeping each submodule's position); return the module (or the new layer,
    if ``module`` itself is a BatchNorm)."""
    if process_group is not None:
        raise NotImplementedError("convert_sync_batchnorm: process groups are not supported")
    if isinstance(module, _BatchNorm) and not isinstance(module, SyncBatchNorm):
        return _to_sync(module)
    if not isinstance(module, Module):
        raise TypeError(f"convert_sync_batchnorm: expected a Module, got {type(module).__name__}")
    converted = {}  # a BatchNorm registered under two names stays one layer
    for parent in list(module.modules()):
        for name, child in list(parent._modules.items()):
            if isinstance(child, _BatchNorm) and not isinstance(child, SyncBatchNorm):
                if id(child) not in converted:
                    converted[id(child)] = _to_sync(child)
                parent._modules[name] = converted[id(child)]  # not setattr: that would move it to the end
    return module
