"""The multi-process checks, run by tests/distributed/test_mpi.py as

    mpiexec -n 2 python tests/distributed/mpi_cases.py CASE

Each rank computes, next to its distributed result, the single-process reference on the whole
global batch (same seed, same data) and compares; a failed check raises, which the excepthook of
``chainrule.distributed.init()`` turns into an abort of the job — so the driver sees a non-zero
exit and the rank's traceback. A passing rank prints ``PASS CASE rank R``.
"""
import io
import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

import numpy as np  # noqa: E402

import chainrule as cr  # noqa: E402
from chainrule import distributed as dist  # noqa: E402
from chainrule import nn, optim  # noqa: E402
from chainrule.nn.functional import cross_entropy  # noqa: E402

TIGHT = {"rtol": 1e-12, "atol": 1e-13}


def shard(n_global, rank, world):
    per = n_global // world
    return slice(rank * per, (rank + 1) * per)


def same_on_all_ranks(array, what):
    """Every rank holds bit-identical ``array``."""
    gathered = dist.all_gather_object(np.asarray(array))
    for r, a in enumerate(gathered):
        np.testing.assert_array_equal(a, gathered[0], err_msg=f"{what}: rank {r} differs from rank 0")


def mlp_conv():
    """A small float64 CNN + MLP without BatchNorm (DDP alone must match the whole-batch run)."""
    return nn.Sequential(nn.Conv2d(2, 4, 3, padding=1), nn.Tanh(), nn.MaxPool2d(2), nn.Flatten(),
                         nn.Linear(4 * 3 * 3, 12), nn.Tanh(), nn.Linear(12, 5)).double()


def built(factory, seed=0):
    cr.manual_seed(seed)
    return factory()


def batches(steps, n, seed=1, shape=(2, 6, 6), classes=5):
    rng = np.random.default_rng(seed)
    return [(rng.standard_normal((n,) + shape), rng.integers(0, classes, n)) for _ in range(steps)]


# ----- cases ------------------------------------------------------------------------------------------
def case_collectives():
    r, n = dist.rank(), dist.world_size()
    a = np.arange(6, dtype=np.float64) * (r + 1)
    assert dist.all_reduce(a) is a
    np.testing.assert_array_equal(a, np.arange(6) * sum(range(1, n + 1)))
    t = cr.Tensor(np.full(3, float(r)))
    dist.all_reduce(t, "mean")
    np.testing.assert_allclose(t.data, np.full(3, (n - 1) / 2))
    for op, expected in (("max", n - 1), ("min", 0), ("prod", 0)):
        v = np.array([float(r)])
        dist.all_reduce(v, op)
        assert v[0] == expected, (op, v)
    assert dist.all_reduce(r + 1) == n * (n + 1) // 2
    assert dist.all_reduce(0.5) == 0.5 * n
    b = np.full((2, 2), float(r)) if r else np.arange(4.0).reshape(2, 2)
    dist.broadcast(b, root=0)
    np.testing.assert_array_equal(b, np.arange(4.0).reshape(2, 2))
    assert dist.broadcast_object({"from": r}, root=n - 1) == {"from": n - 1}
    assert dist.all_gather_object(r) == list(range(n))
    dist.barrier()
    assert dist.is_main() == (r == 0)
    try:
        dist.all_reduce(np.arange(6.0)[::2])
    except ValueError as e:
        assert "C-contiguous" in str(e)
    else:
        raise AssertionError("a non-contiguous array must be refused")


def _ddp_matches_reference(bucket_mb, steps, make_opt):
    r, n = dist.rank(), dist.world_size()
    ref = built(mlp_conv)
    model = built(mlp_conv)
    if r:  # rank 0's weights must win at wrap time
        with cr.no_grad():
            for p in model.parameters():
                p.data += 1.0
    ddp = dist.DistributedDataParallel(model, bucket_cap_mb=bucket_mb, first_bucket_cap_mb=bucket_mb)
    ref_opt, opt = make_opt(ref.parameters()), make_opt(ddp.parameters())
    for x, y in batches(steps, 4 * n):
        local = shard(len(x), r, n)
        ref_opt.zero_grad()
        cross_entropy(ref(cr.Tensor(x)), cr.Tensor(y)).backward()
        opt.zero_grad()
        cross_entropy(ddp(cr.Tensor(x[local])), cr.Tensor(y[local])).backward()
        for (name, p), q in zip(model.named_parameters(), ref.parameters()):
            np.testing.assert_allclose(p.grad.data, q.grad.data, **TIGHT, err_msg=f"gradient of {name}")
        ref_opt.step()
        opt.step()
        for (name, p), q in zip(model.named_parameters(), ref.parameters()):
            np.testing.assert_allclose(p.data, q.data, **TIGHT, err_msg=f"updated {name}")
            same_on_all_ranks(p.data, name)
    return ddp


def case_ddp_step():
    # default buckets (all in one) and tiny ones (one per parameter or so): same result
    ddp = _ddp_matches_reference(25.0, 1, lambda ps: optim.SGD(ps, lr=0.5))
    assert len(ddp.bucket_sizes) == 1 and ddp.stats["allreduce_calls"] == 1, ddp.stats
    ddp = _ddp_matches_reference(1e-4, 1, lambda ps: optim.SGD(ps, lr=0.5))
    assert len(ddp.bucket_sizes) > 3 and ddp.stats["allreduce_calls"] == len(ddp.bucket_sizes), ddp.bucket_sizes
    assert sum(ddp.bucket_sizes) == sum(p.data.nbytes for p in ddp.parameters())
    # after the first step the buckets follow the order in which gradients became ready: every bucket
    # but the one holding the last gradient starts while backward is still running
    ddp = _ddp_matches_reference(1e-4, 3, lambda ps: optim.SGD(ps, lr=0.5))
    ddp.reset_stats()
    (x, y), = batches(1, 4 * dist.world_size(), seed=9)
    local = shard(len(x), dist.rank(), dist.world_size())
    cross_entropy(ddp(cr.Tensor(x[local])), cr.Tensor(y[local])).backward()
    assert ddp.stats["early_launches"] == len(ddp.bucket_sizes) - 1 > 2, (ddp.stats, ddp.bucket_sizes)


def case_ddp_momentum():
    _ddp_matches_reference(25.0, 6, lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9, nesterov=True, weight_decay=1e-3))
    _ddp_matches_reference(1e-3, 4, lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9))
    _ddp_matches_reference(25.0, 4, lambda ps: optim.Adam(ps, lr=1e-2))


def case_ddp_no_sync():
    """Two micro-batches accumulated locally under no_sync, the third synchronizes the sum."""
    r, n = dist.rank(), dist.world_size()
    ref, model = built(mlp_conv), built(mlp_conv)
    ddp = dist.DistributedDataParallel(model, bucket_cap_mb=1e-3, first_bucket_cap_mb=1e-3)
    data = batches(3, 4 * n, seed=5)
    for x, y in data:
        cross_entropy(ref(cr.Tensor(x)), cr.Tensor(y)).backward()
    with ddp.no_sync():
        for x, y in data[:2]:
            local = shard(len(x), r, n)
            cross_entropy(ddp(cr.Tensor(x[local])), cr.Tensor(y[local])).backward()
    assert ddp.stats["allreduce_calls"] == 0
    p0 = next(iter(model.parameters()))
    local_grad = p0.grad.data.copy()
    gathered = dist.all_gather_object(local_grad)
    assert not np.array_equal(gathered[0], gathered[-1]), "under no_sync the gradients must stay local"
    x, y = data[2]
    local = shard(len(x), r, n)
    cross_entropy(ddp(cr.Tensor(x[local])), cr.Tensor(y[local])).backward()
    for (name, p), q in zip(model.named_parameters(), ref.parameters()):
        np.testing.assert_allclose(p.grad.data, q.grad.data, **TIGHT, err_msg=f"accumulated gradient of {name}")


class TwoHeads(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Linear(3, 4)
        self.used = nn.Linear(4, 2)
        self.unused = nn.Linear(4, 2)

    def forward(self, x, head="used"):
        return getattr(self, head)(self.body(x).tanh())


def case_ddp_unused():
    r, n = dist.rank(), dist.world_size()
    x = np.random.default_rng(2).standard_normal((2 * n, 3))
    local = shard(len(x), r, n)
    # default: the unused head leaves the reduction unfinished; the next forward says so, by name
    ddp = dist.DistributedDataParallel(built(lambda: TwoHeads().double()))
    ddp(cr.Tensor(x[local])).sum().backward()
    try:
        ddp(cr.Tensor(x[local]))
    except RuntimeError as e:
        assert "unused.weight" in str(e) and "find_unused_parameters=True" in str(e), e
    else:
        raise AssertionError("an unfinished reduction must be reported at the next forward")
    # find_unused_parameters: used parameters averaged; the head unused on every rank keeps grad None;
    # a head used on one rank only gets the average (its zero on the other)
    ref = built(lambda: TwoHeads().double())
    ddp = dist.DistributedDataParallel(built(lambda: TwoHeads().double()), find_unused_parameters=True,
                                       bucket_cap_mb=1e-4, first_bucket_cap_mb=1e-4)
    ref(cr.Tensor(x)).sum().backward()
    (ddp(cr.Tensor(x[local])).sum() * n).backward()  # a sum loss: the average of n·local sums is the global sum
    m = ddp.module
    for name in ("body.weight", "body.bias", "used.weight", "used.bias"):
        ours, theirs = dict(m.named_parameters())[name], dict(ref.named_parameters())[name]
        np.testing.assert_allclose(ours.grad.data, theirs.grad.data, **TIGHT, err_msg=name)
    assert m.unused.weight.grad is None and m.unused.bias.grad is None
    m.zero_grad()
    head = "unused" if r == 0 else "used"
    (ddp(cr.Tensor(x[local]), head=head).sum()).backward()
    assert m.unused.weight.grad is not None and m.used.weight.grad is not None  # used somewhere: averaged everywhere
    same_on_all_ranks(m.unused.weight.grad.data, "unused.weight.grad")
    same_on_all_ranks(m.used.weight.grad.data, "used.weight.grad")


def case_sync_bn():
    r, n = dist.rank(), dist.world_size()
    rng = np.random.default_rng(3)
    shapes = (((4 * n + 1, 3, 5, 4), nn.BatchNorm2d), ((6 * n, 4), nn.BatchNorm1d), ((3 * n, 2, 7), nn.BatchNorm1d))
    for shape, bn_cls in shapes:
        x = rng.standard_normal(shape) * 3 + 1
        w_out = rng.standard_normal(shape)
        ref = bn_cls(shape[1], momentum=0.3).double()
        sync = dist.SyncBatchNorm(shape[1], momentum=0.3).double()
        with cr.no_grad():
            for bn in (ref, sync):
                bn.weight.data[...] = np.linspace(0.5, 2, shape[1])
                bn.bias.data[...] = np.linspace(-1, 1, shape[1])
        # uneven shards on purpose: rank r gets r+1 parts, so counts differ and the merge must weight them
        cuts = np.cumsum([0] + [(k + 1) for k in range(n)])
        cuts = np.round(cuts / cuts[-1] * shape[0]).astype(int)
        local = slice(cuts[r], cuts[r + 1])
        for _step in range(2):
            xr = cr.Tensor(x, requires_grad=True)
            xs = cr.Tensor(x[local].copy(), requires_grad=True)
            ref.zero_grad()
            sync.zero_grad()
            yr, ys = ref(xr), sync(xs)
            np.testing.assert_allclose(ys.data, yr.data[local], **TIGHT, err_msg=f"output {shape}")
            (yr * cr.Tensor(w_out)).sum().backward()
            (ys * cr.Tensor(w_out[local])).sum().backward()  # the global loss is the sum over ranks of these
            np.testing.assert_allclose(xs.grad.data, xr.grad.data[local], **TIGHT, err_msg=f"input gradient {shape}")
            for name in ("weight", "bias"):
                g = getattr(sync, name).grad.data.copy()
                dist.all_reduce(g)
                np.testing.assert_allclose(g, getattr(ref, name).grad.data, **TIGHT, err_msg=f"{name} gradient {shape}")
            for name in ("running_mean", "running_var", "num_batches_tracked"):
                np.testing.assert_allclose(getattr(sync, name).data, getattr(ref, name).data, **TIGHT, err_msg=name)
                same_on_all_ranks(getattr(sync, name).data, name)
        sync.eval()
        ref.eval()
        np.testing.assert_allclose(sync(cr.Tensor(x[local])).data, ref(cr.Tensor(x)).data[local], **TIGHT)
    # convert_sync_batchnorm + DDP: N ranks with B/N samples take the steps of one process with B
    def net():
        return nn.Sequential(nn.Conv2d(2, 4, 3, padding=1, bias=False), nn.BatchNorm2d(4), nn.ReLU(), nn.Flatten(),
                             nn.Linear(4 * 6 * 6, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Linear(8, 5)).double()

    ref = built(net)
    model = built(net)
    names_before = [k for k, _ in model.state_dict().items()]
    params_before = [id(p) for p in model.parameters()]
    model = dist.convert_sync_batchnorm(model)
    assert [type(m).__name__ for m in model][1::4] == ["SyncBatchNorm", "SyncBatchNorm"]
    assert list(model.state_dict()) == names_before and [id(p) for p in model.parameters()] == params_before
    ddp = dist.DistributedDataParallel(model)
    ref_opt = optim.SGD(ref.parameters(), lr=0.2, momentum=0.9)
    opt = optim.SGD(ddp.parameters(), lr=0.2, momentum=0.9)
    for x, y in batches(3, 4 * n, seed=7):
        local = shard(len(x), r, n)
        ref_opt.zero_grad()
        cross_entropy(ref(cr.Tensor(x)), cr.Tensor(y)).backward()
        opt.zero_grad()
        cross_entropy(ddp(cr.Tensor(x[local])), cr.Tensor(y[local])).backward()
        for (name, p), q in zip(model.named_parameters(), ref.parameters()):
            np.testing.assert_allclose(p.grad.data, q.grad.data, **TIGHT, err_msg=f"gradient of {name}")
        ref_opt.step()
        opt.step()
    for (name, a), b in zip(model.state_dict().items(), ref.state_dict().values()):
        np.testing.assert_allclose(a.data, b.data, **TIGHT, err_msg=name)


def case_fit():
    """fit() with DDP and a DistributedSampler: metrics over all ranks, identical on every rank; one
    printer, one checkpoint writer; evaluate() on a pad=False shard equals evaluate() on everything."""
    from chainrule.data import DataLoader, TensorDataset
    from chainrule.train import evaluate, fit, trainer

    r, n = dist.rank(), dist.world_size()
    rng = np.random.default_rng(0)
    x = rng.standard_normal((50, 2, 6, 6)).astype(np.float64)
    y = (x[:, 0, :3].mean(axis=(1, 2)) > 0).astype(np.int64) + 2 * (x[:, 1].mean(axis=(1, 2)) > 0)
    data = TensorDataset(x, y)
    model = dist.DistributedDataParallel(dist.convert_sync_batchnorm(built(mlp_conv)))
    sampler = dist.DistributedSampler(data, shuffle=True, seed=3)
    loader = DataLoader(data, batch_size=10 // n, sampler=sampler, drop_last=True)
    val = DataLoader(data, batch_size=16, sampler=dist.DistributedSampler(data, shuffle=False, pad=False))
    writes = []
    real_save = trainer.save_to_folder
    trainer.save_to_folder = lambda *a, **k: writes.append(a[1]) or real_save(*a, **k)
    folder = dist.broadcast_object(tempfile.mkdtemp() if r == 0 else None)
    stderr, sys.stderr = sys.stderr, io.StringIO()
    try:
        history = fit(model, loader, cross_entropy, optim.SGD(model.parameters(), lr=0.1, momentum=0.9), 3,
                      val_loader=val, checkpoint_dir=folder)
        printed = sys.stderr.getvalue()
    finally:
        sys.stderr = stderr
        trainer.save_to_folder = real_save
    assert sampler.epoch == 2
    assert (printed.count("train_loss") == 3) if r == 0 else printed == "", printed
    assert len(writes) == (3 if r == 0 else 0), writes
    for key in ("train_loss", "train_accuracy", "val_loss", "val_accuracy"):
        same_on_all_ranks([e[key] for e in history.epochs], key)
    whole = evaluate(model.module, DataLoader(data, batch_size=16), cross_entropy)
    assert abs(history.epochs[-1]["val_loss"] - whole["loss"]) < 1e-12, (history.epochs[-1], whole)
    assert history.epochs[-1]["val_accuracy"] == whole["accuracy"]
    sharded = evaluate(model, val, cross_entropy, num_classes=4)
    assert sharded["samples"] == 50 and sharded["confusion_matrix"].sum() == 50
    unsharded = evaluate(model, DataLoader(data, batch_size=16), cross_entropy, num_classes=4)
    np.testing.assert_array_equal(sharded["confusion_matrix"], unsharded["confusion_matrix"])
    dist.barrier()
    if r == 0:  # the checkpoint holds the bare model's keys: it loads without DDP, in one process
        from chainrule.train import load_checkpoint

        plain = built(mlp_conv)
        info = load_checkpoint(folder, plain, restore_rng=False)
        assert info["epoch"] == 3
        for (name, a), b in zip(plain.state_dict().items(), model.module.state_dict().values()):
            np.testing.assert_array_equal(a.data, b.data, err_msg=name)


def case_raise():
    """Rank 1 fails while rank 0 waits in a collective: the job must end, not hang."""
    dist.barrier()
    if dist.rank() == 1:
        raise ValueError("deliberate failure on rank 1")
    dist.all_reduce(np.zeros(3))  # never completes: rank 1 is gone
    raise AssertionError("rank 0 should have been aborted")


def case_mismatch():
    width = 6 if dist.rank() == 0 else 7
    dist.DistributedDataParallel(nn.Sequential(nn.Linear(4, width), nn.ReLU(), nn.Linear(width, 2)))
    raise AssertionError("a different model on one rank must be refused at wrap time")


def case_single():
    """Run without mpiexec: a world of one, where everything is the plain single-process thing."""
    assert dist.init() == 1 and dist.init() == 1 and dist.world_size() == 1 and dist.rank() == 0 and dist.is_main()
    ref, model = built(mlp_conv), built(mlp_conv)
    ddp = dist.DistributedDataParallel(model)
    (x, y), = batches(1, 6)
    cross_entropy(ref(cr.Tensor(x)), cr.Tensor(y)).backward()
    cross_entropy(ddp(cr.Tensor(x)), cr.Tensor(y)).backward()
    for p, q in zip(model.parameters(), ref.parameters()):
        np.testing.assert_array_equal(p.grad.data, q.grad.data)
    bn, sync = nn.BatchNorm2d(2).double(), dist.SyncBatchNorm(2).double()
    np.testing.assert_array_equal(sync(cr.Tensor(x)).data, bn(cr.Tensor(x)).data)
    assert len(dist.DistributedSampler(list(range(7)))) == 7
    a = np.arange(3.0)
    np.testing.assert_array_equal(dist.all_reduce(a, "mean"), np.arange(3.0))


CASES = {name[5:]: fn for name, fn in globals().items() if name.startswith("case_")}

if __name__ == "__main__":
    case = sys.argv[1]
    dist.init()
    if case != "single" and dist.world_size() < 2:
        raise SystemExit(f"{case}: expected several processes, got a world of {dist.world_size()}; is this mpiexec "
                         "the one of the MPI library mpi4py uses?")
    CASES[case]()
    dist.barrier()
    print(f"PASS {case} rank {dist.rank()}", flush=True)
