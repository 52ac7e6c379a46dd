"""Datasets, splits, samplers and the DataLoader."""
import numpy as np
import pytest

import chainrule as cr
from chainrule.data import (
    ArrayDataset,
    BatchSampler,
    ConcatDataset,
    DataLoader,
    Dataset,
    RandomSampler,
    SequentialSampler,
    Subset,
    SubsetRandomSampler,
    TensorDataset,
    default_collate,
    random_split,
    stratified_split,
)
from chainrule.data import transforms as T


def toy(n=10, features=3):
    x = np.arange(n * features, dtype=np.float32).reshape(n, features)
    return x, np.arange(n, dtype=np.int64)


class CountingDataset(ArrayDataset):
    """Counts the calls to __getitem__ (to check one fancy index per batch)."""

    calls = 0

    def __getitem__(self, index):
        self.calls += 1
        return super().__getitem__(index)


class ItemDataset(Dataset):
    """A plain map-style dataset that only takes integer indices."""

    def __init__(self, n):
        self.n = n

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        if not isinstance(i, int):
            raise TypeError("int only")
        return np.full((2, 2), i, dtype=np.float32), i


def epoch_labels(loader):
    return np.concatenate([y.numpy() for _, y in loader])


# ----- datasets ----------------------------------------------------------------------------------
def test_tensor_dataset_indexing():
    x, y = toy()
    ds = TensorDataset(x, y)
    assert len(ds) == 10 and ds.batched
    xi, yi = ds[3]
    np.testing.assert_array_equal(xi, x[3])
    assert yi == 3
    xb, yb = ds[np.array([4, -1, 0])]
    np.testing.assert_array_equal(xb, x[[4, 9, 0]])
    np.testing.assert_array_equal(yb, [4, 9, 0])
    np.testing.assert_array_equal(ds[2:5][1], [2, 3, 4])
    np.testing.assert_array_equal(ds[y % 2 == 0][1], [0, 2, 4, 6, 8])
    np.testing.assert_array_equal(ds[cr.tensor([1, 2])][1], [1, 2])


def test_tensor_dataset_keeps_tensors():
    x, y = toy()
    ds = TensorDataset(cr.tensor(x), y)
    xb, yb = ds[np.array([1, 2])]
    assert isinstance(xb, cr.Tensor) and isinstance(yb, np.ndarray)


def test_tensor_dataset_errors():
    with pytest.raises(ValueError, match=r"\(10, 3\), \(9,\)"):
        TensorDataset(np.zeros((10, 3)), np.zeros(9))
    ds = TensorDataset(*toy())
    with pytest.raises(IndexError, match="index 10 is out of range for a dataset of 10"):
        ds[10]
    with pytest.raises(IndexError, match="-11"):
        ds[np.array([0, -11])]
    with pytest.raises(TypeError, match="float64"):
        ds[np.array([0.5])]


def test_array_dataset_converts_uint8_and_applies_transform_to_the_batch():
    data = np.array([[0, 51, 255], [255, 255, 0]], dtype=np.uint8).reshape(2, 1, 1, 3)
    seen = []
    ds = ArrayDataset(data, [0, 1], transform=lambda b: seen.append(b.shape) or b * 2)
    x, _ = ds[np.array([0, 1])]
    assert x.dtype == np.float32 and seen == [(2, 1, 1, 3)]
    np.testing.assert_array_equal(x[1, 0, 0], [2.0, 2.0, 0.0])  # 255 → exactly 1.0, then ×2
    assert ds[0][0][0, 0, 1] == np.float32(0.4)
    with pytest.raises(ValueError, match="same length"):
        ArrayDataset(np.zeros((3, 2)), [0, 1])


def test_subset_and_concat():
    x, y = toy()
    ds = TensorDataset(x, y)
    sub = Subset(ds, [7, 2, 5])
    assert len(sub) == 3 and sub.batched
    assert sub[0][1] == 7
    np.testing.assert_array_equal(sub[np.array([2, 0])][1], [5, 7])
    cat = ConcatDataset([ds, sub])
    assert len(cat) == 13
    assert cat[9][1] == 9 and cat[10][1] == 7 and cat[-1][1] == 5
    xb, yb = cat[np.array([11, 0, 12, 9, 10])]
    np.testing.assert_array_equal(yb, [2, 0, 5, 9, 7])
    np.testing.assert_array_equal(xb, x[[2, 0, 5, 9, 7]])
    assert len(ds + sub) == 13
    plain = ConcatDataset([ItemDataset(3), ItemDataset(2)])
    assert plain[4][1] == 1 and not plain.batched
    with pytest.raises(TypeError, match="batched"):
        plain[np.array([0, 1])]


def test_random_split():
    ds = TensorDataset(*toy(10))
    a, b = random_split(ds, [7, 3], generator=cr.Generator(0))
    assert (len(a), len(b)) == (7, 3)
    assert sorted(np.concatenate([a.indices, b.indices]).tolist()) == list(range(10))
    a2, _ = random_split(ds, [7, 3], generator=cr.Generator(0))
    np.testing.assert_array_equal(a.indices, a2.indices)
    parts = random_split(TensorDataset(*toy(11)), [0.5, 0.3, 0.2], generator=cr.Generator(1))
    assert [len(p) for p in parts] == [6, 3, 2]  # floor 5, 3, 2 and the remainder to the first, as torch
    with pytest.raises(ValueError, match="sum to the dataset size 10"):
        random_split(ds, [5, 4])
    with pytest.raises(ValueError, match="sum to 1"):
        random_split(ds, [0.5, 0.2])


def test_stratified_split_keeps_class_proportions():
    labels = np.repeat(np.arange(4), [100, 50, 30, 20])
    train, test = stratified_split(labels, test_size=0.2, generator=cr.Generator(0))
    assert len(np.intersect1d(train, test)) == 0 and len(train) + len(test) == 200
    np.testing.assert_array_equal(np.bincount(labels[test]), [20, 10, 6, 4])
    _, test2 = stratified_split(labels, test_size=40, generator=cr.Generator(0))
    np.testing.assert_array_equal(np.sort(test), np.sort(test2))
    with pytest.raises(ValueError, match="test_size"):
        stratified_split(labels, test_size=1.5)


# ----- the loader --------------------------------------------------------------------------------
@pytest.mark.parametrize("n,batch_size,drop_last", [(10, 3, False), (10, 3, True), (10, 5, False), (7, 10, False)])
@pytest.mark.parametrize("shuffle", [False, True])
def test_every_sample_once_per_epoch(n, batch_size, drop_last, shuffle):
    ds = TensorDataset(*toy(n))
    loader = DataLoader(ds, batch_size=batch_size, shuffle=shuffle, drop_last=drop_last, seed=0)
    sizes = [len(y) for _, y in loader]
    full, rest = divmod(n, batch_size)
    expected = [batch_size] * full + ([] if drop_last or rest == 0 else [rest])
    assert sizes == expected and len(loader) == len(expected)
    labels = epoch_labels(loader)
    if drop_last:
        assert len(set(labels.tolist())) == len(labels) == full * batch_size
    else:
        assert sorted(labels.tolist()) == list(range(n))
    if not shuffle:
        np.testing.assert_array_equal(labels, np.arange(len(labels)))


def test_batches_are_tensors_of_the_right_dtypes():
    ds = ArrayDataset(np.zeros((5, 1, 4, 4), np.uint8), np.arange(5))
    x, y = next(iter(DataLoader(ds, batch_size=4)))
    assert isinstance(x, cr.Tensor) and isinstance(y, cr.Tensor)
    assert x.dtype == cr.float32 and y.dtype == cr.int64 and x.shape == (4, 1, 4, 4)


def test_seed_reproduces_orders_and_epochs_differ():
    ds = TensorDataset(*toy(50))
    a = DataLoader(ds, batch_size=8, shuffle=True, seed=3)
    b = DataLoader(ds, batch_size=8, shuffle=True, seed=3)
    a1, a2 = epoch_labels(a), epoch_labels(a)
    np.testing.assert_array_equal(a1, epoch_labels(b))
    np.testing.assert_array_equal(a2, epoch_labels(b))
    assert not np.array_equal(a1, a2)
    assert not np.array_equal(a1, epoch_labels(DataLoader(ds, batch_size=8, shuffle=True, seed=4)))
    g1, g2 = cr.Generator(9), cr.Generator(9)
    np.testing.assert_array_equal(epoch_labels(DataLoader(ds, 8, shuffle=True, generator=g1)),
                                  epoch_labels(DataLoader(ds, 8, shuffle=True, generator=g2)))


def test_global_seed_reproduces_shuffle():
    ds = TensorDataset(*toy(40))
    cr.manual_seed(123)
    first = epoch_labels(DataLoader(ds, batch_size=7, shuffle=True))
    cr.manual_seed(123)
    np.testing.assert_array_equal(first, epoch_labels(DataLoader(ds, batch_size=7, shuffle=True)))


def test_one_fancy_index_per_batch():
    x, y = toy(100)
    ds = CountingDataset(x, y)
    batches = list(DataLoader(ds, batch_size=32, shuffle=True, seed=0))
    assert len(batches) == 4 and ds.calls == 4


def test_item_dataset_is_collated():
    loader = DataLoader(ItemDataset(5), batch_size=2)
    batches = list(loader)
    assert len(batches) == 3
    x, y = batches[0]
    assert isinstance(x, cr.Tensor) and x.shape == (2, 2, 2) and y.dtype == cr.int64
    np.testing.assert_array_equal(y.numpy(), [0, 1])
    np.testing.assert_array_equal(batches[2][1].numpy(), [4])


def test_collate_fn_sampler_and_batch_sampler():
    ds = TensorDataset(*toy(10))
    got = list(DataLoader(ds, batch_size=4, collate_fn=lambda batch: batch[1].sum()))
    assert got == [6, 22, 17]
    order = epoch_labels(DataLoader(ds, batch_size=3, sampler=[9, 8, 7, 1]))
    np.testing.assert_array_equal(order, [9, 8, 7, 1])
    sub = epoch_labels(DataLoader(ds, batch_size=2, sampler=SubsetRandomSampler([1, 3, 5], generator=cr.Generator(0))))
    assert sorted(sub.tolist()) == [1, 3, 5]
    loader = DataLoader(ds, batch_sampler=[[0, 1], [5]])
    assert [b[1].tolist() for b in loader] == [[0, 1], [5]]
    with pytest.raises(ValueError, match="mutually exclusive with shuffle"):
        DataLoader(ds, sampler=[0], shuffle=True)
    with pytest.raises(ValueError, match="batch_sampler"):
        DataLoader(ds, batch_size=2, batch_sampler=[[0]])
    with pytest.raises(ValueError, match="either generator or seed"):
        DataLoader(ds, shuffle=True, seed=0, generator=cr.Generator(0))
    with pytest.raises(ValueError, match="positive integer"):
        DataLoader(ds, batch_size=0)


def test_samplers():
    ds = TensorDataset(*toy(6))
    assert list(SequentialSampler(ds)) == list(range(6))
    draws = RandomSampler(ds, replacement=True, num_samples=20, generator=cr.Generator(0)).epoch_indices()
    assert len(draws) == 20 and draws.min() >= 0 and draws.max() < 6
    chained = RandomSampler(ds, num_samples=14, generator=cr.Generator(0)).epoch_indices()
    assert sorted(np.bincount(chained).tolist()) == [2, 2, 2, 2, 3, 3]  # two whole permutations, then 2 more
    assert [b.tolist() for b in BatchSampler(SequentialSampler(ds), 4, drop_last=False)] == [[0, 1, 2, 3], [4, 5]]
    assert len(BatchSampler(SequentialSampler(ds), 4, drop_last=True)) == 1


def test_default_collate():
    batch = default_collate([{"a": 1, "b": 2.5, "c": np.ones(2)}, {"a": 3, "b": 0.5, "c": np.zeros(2)}])
    assert batch["a"].dtype == cr.int64 and batch["b"].dtype == cr.float64 and batch["c"].shape == (2, 2)
    with pytest.raises(ValueError, match=r"different shapes \[\(2,\), \(3,\)\]"):
        default_collate([np.ones(2), np.ones(3)])


def test_loader_over_subset_and_concat_uses_batches():
    x, y = toy(20)
    base = CountingDataset(x, y)
    loader = DataLoader(ConcatDataset([Subset(base, np.arange(10, 20)), Subset(base, np.arange(5))]), batch_size=8,
                        shuffle=True, seed=1)
    assert sorted(epoch_labels(loader).tolist()) == list(range(5)) + list(range(10, 20))
    assert base.calls <= 2 * len(loader)  # at most one fetch per part per batch


def test_real_mnist_epoch_with_augmentation(mnist_train):
    ds = ArrayDataset(mnist_train.data, mnist_train.targets,
                      transform=T.Compose([T.RandomCrop(28, padding=2), T.Normalize(0.1307, 0.3081)]))
    loader = DataLoader(ds, batch_size=1000, shuffle=True, seed=0)
    counts = np.zeros(10, np.int64)
    for x, y in loader:
        assert x.shape[1:] == (1, 28, 28) and x.dtype == cr.float32
        counts += np.bincount(y.numpy(), minlength=10)
    np.testing.assert_array_equal(counts, [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949])


# ----- num_workers and torch's other DataLoader options -----------------------------------------------
class PerSampleNoise(Dataset):
    """Per-sample Python work with random draws from the default generator (as a user's transform)."""

    def __len__(self):
        return 37

    def __getitem__(self, i):
        return np.full(3, i, dtype=np.float32) + cr.randn(3).numpy(), {"label": i, "weight": 0.5}


def _epochs(loader, n=2):
    out = []
    for _ in range(n):
        for batch in loader:
            flat = batch if isinstance(batch, (tuple, list)) else [batch]
            out.append([np.asarray(b.numpy() if isinstance(b, cr.Tensor) else
                                   {k: v.numpy() for k, v in b.items()}["label"] if isinstance(b, dict) else b)
                        for b in flat])
    return out


@pytest.mark.parametrize("workers", [1, 2, 4])
@pytest.mark.parametrize("persistent", [False, True])
def test_workers_give_the_batches_of_num_workers_0(workers, persistent):
    x, y = toy(50)
    augment = T.Compose([T.GaussianNoise(0.1), T.RandomHorizontalFlip()])
    for ds in (ArrayDataset(x.reshape(50, 1, 1, 3), y, transform=augment), PerSampleNoise()):
        serial = _epochs(DataLoader(ds, batch_size=4, shuffle=True, seed=11))
        threaded = _epochs(DataLoader(ds, batch_size=4, shuffle=True, seed=11, num_workers=workers,
                                      persistent_workers=persistent, prefetch_factor=3))
        assert len(serial) == len(threaded) == 2 * -(-len(ds) // 4)
        for a, b in zip(serial, threaded):
            for u, v in zip(a, b):
                np.testing.assert_array_equal(u, v)


def test_workers_follow_the_global_seed_and_epochs_differ():
    ds = PerSampleNoise()
    cr.manual_seed(3)
    first = _epochs(DataLoader(ds, batch_size=5, num_workers=2), n=2)
    cr.manual_seed(3)
    again = _epochs(DataLoader(ds, batch_size=5), n=2)
    np.testing.assert_array_equal(first[0][0], again[0][0])
    half = len(first) // 2
    assert not np.array_equal(first[0][0], first[half][0])  # a new epoch draws new noise


def test_default_collate_of_tuples_dicts_and_numbers_as_torch():
    import torch.utils.data as tud

    samples = [(np.ones(2, np.float32) * i, {"n": i, "f": i / 2, "b": bool(i % 2)}, [i, 1.5]) for i in range(3)]
    ours, theirs = default_collate(samples), tud.default_collate(samples)
    np.testing.assert_array_equal(ours[0].numpy(), theirs[0].numpy())
    for k in ("n", "f", "b"):
        assert ours[1][k].tolist() == theirs[1][k].tolist() and str(ours[1][k].dtype) == str(theirs[1][k].dtype)[6:]
    assert [t.tolist() for t in ours[2]] == [t.tolist() for t in theirs[2]]


def test_worker_init_fn_runs_once_per_thread():
    seen = []
    loader = DataLoader(ArrayDataset(*toy(40)), batch_size=2, num_workers=3, worker_init_fn=seen.append)
    assert len(list(loader)) == 20
    assert sorted(seen) == [0, 1, 2]


def test_persistent_workers_keep_the_pool_and_others_release_it():
    ds = ArrayDataset(*toy(20))
    keep = DataLoader(ds, batch_size=4, num_workers=2, persistent_workers=True)
    list(keep)
    pool = keep._pool
    list(keep)
    assert pool is not None and keep._pool is pool
    once = DataLoader(ds, batch_size=4, num_workers=2)
    list(once)
    assert once._pool is None


def test_breaking_out_of_an_epoch_is_clean():
    loader = DataLoader(ArrayDataset(*toy(40)), batch_size=2, num_workers=2)
    for i, _ in enumerate(loader):
        if i == 2:
            break
    assert len(list(loader)) == 20


def test_torch_only_options_are_accepted():
    loader = DataLoader(ArrayDataset(*toy(10)), 3, False, None, None, 0, None, True, True, 0, None, None, None,
                        pin_memory_device="", in_order=True)
    assert [len(b[1]) for b in loader] == [3, 3, 3]


def test_a_slow_batch_times_out():
    import time

    class Slow(Dataset):
        def __len__(self):
            return 2

        def __getitem__(self, i):
            time.sleep(0.5)
            return np.zeros(1)

    with pytest.raises(RuntimeError, match=r"DataLoader: timed out after 0.05 seconds"):
        list(DataLoader(Slow(), num_workers=1, timeout=0.05))


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"num_workers": -1}, "num_workers option should be a non-negative integer, got -1"),
    ({"prefetch_factor": 2}, "prefetch_factor and persistent_workers need num_workers > 0"),
    ({"persistent_workers": True}, "prefetch_factor and persistent_workers need num_workers > 0"),
    ({"num_workers": 1, "prefetch_factor": 0}, "prefetch_factor should be a positive integer, got 0"),
    ({"timeout": -1}, "timeout option should be non-negative"),
])
def test_worker_option_errors(kwargs, message):
    with pytest.raises(ValueError, match=message):
        DataLoader(ArrayDataset(*toy(4)), **kwargs)


def test_random_split_fractions_generator_and_subset_as_torch():
    import torch.utils.data as tud

    ds = TensorDataset(cr.arange(10))
    parts = random_split(ds, [0.5, 0.3, 0.2], generator=cr.Generator(0))
    assert [len(p) for p in parts] == [len(p) for p in tud.random_split(range(10), [0.5, 0.3, 0.2])]
    again = random_split(ds, [0.5, 0.3, 0.2], generator=cr.Generator(0))
    assert [p.indices.tolist() for p in parts] == [p.indices.tolist() for p in again]
    assert sorted(i for p in parts for i in p.indices.tolist()) == list(range(10))
    assert [len(p) for p in random_split(range(7), [0.5, 0.5])] == [len(p) for p in tud.random_split(range(7), [0.5, 0.5])]
