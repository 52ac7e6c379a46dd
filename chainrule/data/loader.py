"""Samplers and the DataLoader (``torch.utils.data``-shaped), batching whole arrays at once.

An epoch's order is drawn as one int64 array; batches are slices of it. For a ``batched`` dataset
(in-memory arrays) each batch is fetched with ONE fancy index, ``dataset[idx]``, and its arrays are
wrapped as Tensors; other datasets are read sample by sample and stacked (``default_collate``).
"""
import numpy as np

from .. import dtypes
from ..random import Generator, rng
from ..tensor import Tensor


class Sampler:
    """Iterates over dataset indices. ``epoch_indices()`` returns one epoch's order as an int64 array."""

    def epoch_indices(self):
        raise NotImplementedError(f"{type(self).__name__} must implement epoch_indices")

    def __iter__(self):
        return iter(self.epoch_indices().tolist())


class SequentialSampler(Sampler):
    """0, 1, ..., n−1."""

    def __init__(self, data_source):
        self.data_source = data_source

    def __len__(self):
        return len(self.data_source)

    def epoch_indices(self):
        return np.arange(len(self.data_source), dtype=np.int64)


class RandomSampler(Sampler):
    """A fresh random permutation each epoch (or ``num_samples`` draws with replacement).

    Without replacement and ``num_samples`` > n, whole permutations are chained, as in PyTorch.
    ``generator``: a ``chainrule.Generator`` (default: the global one, seeded by ``manual_seed``).
    """

    def __init__(self, data_source, replacement=False, num_samples=None, generator=None):
        self.data_source, self.replacement, self.generator = data_source, replacement, generator
        self._num_samples = num_samples
        if num_samples is not None and (not isinstance(num_samples, (int, np.integer)) or num_samples <= 0):
            raise ValueError(f"RandomSampler: num_samples should be a positive integer, got {num_samples!r}")

    @property
    def num_samples(self):
        return len(self.data_source) if self._num_samples is None else int(self._num_samples)

    def __len__(self):
        return self.num_samples

    def epoch_indices(self):
        n, gen = len(self.data_source), rng(self.generator)
        if self.replacement:
            return gen.integers(0, n, size=self.num_samples, dtype=np.int64)
        reps = -(-self.num_samples // n) if n else 0
        return np.concatenate([gen.permutation(n) for _ in range(reps)] or [np.zeros(0, np.int64)])[: self.num_samples]


class SubsetRandomSampler(Sampler):
    """The given indices in a fresh random order each epoch."""

    def __init__(self, indices, generator=None):
        self.indices, self.generator = np.asarray(indices, dtype=np.int64), generator

    def __len__(self):
        return len(self.indices)

    def epoch_indices(self):
        return rng(self.generator).permutation(self.indices)


class BatchSampler(Sampler):
    """Groups a sampler's indices into batches of ``batch_size`` (int64 arrays); the last one may be
    smaller unless ``drop_last``."""

    def __init__(self, sampler, batch_size, drop_last=False):
        if not isinstance(batch_size, (int, np.integer)) or isinstance(batch_size, bool) or batch_size <= 0:
            raise ValueError(f"BatchSampler: batch_size should be a positive integer, got {batch_size!r}")
        self.sampler, self.batch_size, self.drop_last = sampler, int(batch_size), drop_last

    def __len__(self):
        n = len(self.sampler)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)

    def __iter__(self):
        if hasattr(self.sampler, "epoch_indices"):
            order = self.sampler.epoch_indices()
        else:
            order = np.fromiter(iter(self.sampler), dtype=np.int64)
        stop = len(order) - len(order) % self.batch_size if self.drop_last else len(order)
        for start in range(0, stop, self.batch_size):
            yield order[start : start + self.batch_size]


def default_convert(data):
    """Arrays and NumPy scalars → Tensors (same dtype), recursing into tuples, lists and dicts."""
    if isinstance(data, Tensor):
        return data
    if isinstance(data, (np.ndarray, np.generic)) and data.dtype.kind in "biuf":
        return Tensor(np.asarray(data))
    if isinstance(data, dict):
        return {k: default_convert(v) for k, v in data.items()}
    if isinstance(data, (tuple, list)):
        return type(data)(default_convert(d) for d in data)
    return data


def default_collate(samples):
    """A list of samples → one batch: arrays and Tensors are stacked on a new axis 0 and returned as
    Tensors; Python ints → int64, floats → float64 (as PyTorch); tuples, lists and dicts field by field."""
    first = samples[0]
    if isinstance(first, (Tensor, np.ndarray, np.generic)):
        arrays = [s.data if isinstance(s, Tensor) else np.asarray(s) for s in samples]
        shapes = {a.shape for a in arrays}
        if len(shapes) > 1:
            raise ValueError(
                f"default_collate: samples have different shapes {sorted(shapes)}; pass a collate_fn that pads them"
            )
        return Tensor(np.stack(arrays))
    if isinstance(first, (bool, np.bool_)):
        return Tensor(np.array(samples, dtype=dtypes.bool))
    if isinstance(first, int):
        return Tensor(np.array(samples, dtype=np.int64))
    if isinstance(first, float):
        return Tensor(np.array(samples, dtype=np.float64))
    if isinstance(first, dict):
        return {k: default_collate([s[k] for s in samples]) for k in first}
    if isinstance(first, (tuple, list)):
        if len({len(s) for s in samples}) > 1:
            raise ValueError("default_collate: each sample must have the same number of fields")
        return type(first)(default_collate(list(field)) for field in zip(*samples))
    return samples


class DataLoader:
    """Iterate over ``dataset`` in batches: ``for x, y in DataLoader(ds, batch_size=128, shuffle=True, seed=0)``.

    dataset      a ``Dataset``; when ``dataset.batched`` is true each batch is ``dataset[int64 array]``
                 (one fancy index), else ``[dataset[i] for i in batch]``
    batch_size   samples per batch; the last batch is smaller unless ``drop_last``
    shuffle      a new random order every epoch (a ``RandomSampler``)
    sampler      any iterable of indices with ``len`` (exclusive with ``shuffle``)
    batch_sampler  an iterable of index batches (exclusive with batch_size, shuffle, sampler, drop_last)
    collate_fn   turns the fetched data into the batch: for a batched dataset it receives the batch
                 as the dataset returned it (a tuple of arrays), otherwise the list of samples, as in
                 PyTorch. Default: wrap arrays as Tensors / ``default_collate``.
    generator, seed  the randomness of ``shuffle``: a ``chainrule.Generator``, or a seed for a private
                 one (two loaders with the same seed give the same orders, epoch after epoch);
                 neither: the global generator, seeded by ``chainrule.manual_seed``.
    """

    def __init__(self, dataset, batch_size=1, shuffle=False, sampler=None, batch_sampler=None, collate_fn=None,
                 drop_last=False, generator=None, seed=None):
        if seed is not None and generator is not None:
            raise ValueError("DataLoader: give either generator or seed, not both")
        if seed is not None:
            generator = Generator(seed)
        if sampler is not None and shuffle:
            raise ValueError("DataLoader: sampler option is mutually exclusive with shuffle")
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError(
                    "DataLoader: batch_sampler option is mutually exclusive with batch_size, shuffle, sampler, "
                    "and drop_last"
                )
            batch_size = None
        else:
            if sampler is None:
                sampler = RandomSampler(dataset, generator=generator) if shuffle else SequentialSampler(dataset)
            batch_sampler = BatchSampler(sampler, batch_size, drop_last)
        self.dataset, self.batch_size, self.drop_last = dataset, batch_size, drop_last
        self.sampler, self.batch_sampler, self.generator = sampler, batch_sampler, generator
        self.collate_fn = collate_fn

    def __len__(self):
        return len(self.batch_sampler)

    def __iter__(self):
        if getattr(self.dataset, "batched", False):
            collate = self.collate_fn or default_convert
            for index in self.batch_sampler:
                yield collate(self.dataset[np.asarray(index, dtype=np.int64)])
        else:
            collate = self.collate_fn or default_collate
            for index in self.batch_sampler:
                yield collate([self.dataset[int(i)] for i in index])

    def __repr__(self):
        return (f"DataLoader({type(self.dataset).__name__} of {len(self.dataset)}, batch_size={self.batch_size}, "
                f"batches={len(self)}, sampler={type(self.sampler).__name__})")
