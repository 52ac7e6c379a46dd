"""Samplers and the DataLoader (``torch.utils.data``-shaped), batching whole arrays at once.

An epoch's order is drawn as one int64 array; batches are slices of it. For a ``batched`` dataset
(in-memory arrays) each batch is fetched with ONE fancy index, ``dataset[idx]``, and its arrays are
wrapped as Tensors; other datasets are read sample by sample and stacked (``default_collate``).
"""
import collections
import itertools
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout

import numpy as np

from .. import dtypes
from ..random import Generator, rng, using_generator
from ..tensor import Tensor


class Sampler:
    """Iterates over dataset indices. ``epoch_indices()`` returns one epoch's order as an int64 array."""

    def epoch_indices(self):
        """One epoch's order of dataset indices, an int64 ndarray; subclasses define it (a fresh draw each call for the
        random ones). Raises NotImplementedError here."""
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
        """0, 1, …, n−1 as an int64 ndarray, n = len(data_source)."""
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
        """How many indices an epoch gives: ``num_samples`` if given, else len(data_source)."""
        return len(self.data_source) if self._num_samples is None else int(self._num_samples)

    def __len__(self):
        return self.num_samples

    def epoch_indices(self):
        """``num_samples`` indices: uniform draws in [0, n) with replacement, else a fresh permutation of 0..n−1 (whole
        permutations chained when num_samples > n, cut to num_samples); int64."""
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
        """The given indices in a fresh random order (a permutation drawn from ``generator``), int64."""
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
    num_workers  threads that fetch and collate batches ahead (0: in the loop's thread). Batches come
                 in order and equal those of num_workers=0: batch i of epoch e draws its random
                 numbers (a transform's, without its own ``generator=``) from a generator seeded by
                 (the state of the generator above when the epoch starts, e, i) — whichever thread
                 runs it. The state is read, not drawn from, so the loader leaves that generator's
                 stream as it was. A transform given its own ``generator=`` is shared by the threads:
                 its draws then depend on their timing. Threads, not processes: NumPy releases the
                 GIL in array work and batches need no pickling. Measured on 2 cores, digits at
                 32×32 with rotation, crop and noise, batch 128: batched transforms 1.6× faster with
                 2 threads (a fork pool: 1.1×); per-sample transforms in Python hold the GIL — 0.6×
                 with threads (a fork pool: 1.7×), so keep num_workers=0 for those, or batch them.
    prefetch_factor  batches in flight per worker (default 2); ``persistent_workers``: keep the
                 threads between epochs; ``worker_init_fn(worker_id)``: run once in each thread;
                 ``timeout``: seconds to wait for a batch (0: forever).
    pin_memory, pin_memory_device, multiprocessing_context, in_order  accepted for torch's signature,
                 no effect: there is no GPU to pin memory for, workers are threads, batches come in order.
    """

    def __init__(self, dataset, batch_size=1, shuffle=False, sampler=None, batch_sampler=None, num_workers=0,
                 collate_fn=None, pin_memory=False, drop_last=False, timeout=0, worker_init_fn=None,
                 multiprocessing_context=None, generator=None, *, prefetch_factor=None, persistent_workers=False,
                 pin_memory_device="", in_order=True, seed=None):
        if not isinstance(num_workers, (int, np.integer)) or num_workers < 0:
            raise ValueError(f"DataLoader: num_workers option should be a non-negative integer, got {num_workers!r}")
        if num_workers == 0 and (prefetch_factor is not None or persistent_workers):
            raise ValueError("DataLoader: prefetch_factor and persistent_workers need num_workers > 0")
        if prefetch_factor is not None and (not isinstance(prefetch_factor, (int, np.integer)) or prefetch_factor < 1):
            raise ValueError(f"DataLoader: prefetch_factor should be a positive integer, got {prefetch_factor!r}")
        if timeout < 0:
            raise ValueError(f"DataLoader: timeout option should be non-negative, got {timeout!r}")
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
        self.num_workers, self.prefetch_factor = int(num_workers), prefetch_factor or 2
        self.persistent_workers, self.worker_init_fn, self.timeout = persistent_workers, worker_init_fn, timeout
        self.pin_memory = pin_memory
        self._pool, self._epochs = None, 0

    def __len__(self):
        return len(self.batch_sampler)

    def _fetch(self, index):
        if getattr(self.dataset, "batched", False):
            return (self.collate_fn or default_convert)(self.dataset[np.asarray(index, dtype=np.int64)])
        return (self.collate_fn or default_collate)([self.dataset[int(i)] for i in index])

    def _fetch_seeded(self, seed, index):
        """Batch ``index`` with random draws from a generator of its own (see num_workers)."""
        with using_generator(Generator(seed)):
            return self._fetch(index)

    def _workers(self):
        if self._pool is None:
            ids = itertools.count()  # next() on a count is atomic: each thread gets its own id
            init = (lambda: self.worker_init_fn(next(ids))) if self.worker_init_fn else None
            self._pool = ThreadPoolExecutor(self.num_workers, thread_name_prefix="DataLoader", initializer=init)
        return self._pool

    def __iter__(self):
        state, self._epochs = rng(self.generator).bit_generator.state["state"], self._epochs + 1
        entropy = [state["state"], state["inc"], self._epochs]
        seeds = (np.random.SeedSequence([*entropy, i]).generate_state(1, np.uint64)[0] for i in itertools.count())
        if self.num_workers == 0:
            for seed, index in zip(seeds, self.batch_sampler):
                yield self._fetch_seeded(seed, index)
            return
        pool, pending = self._workers(), collections.deque()
        jobs = zip(seeds, self.batch_sampler)
        try:
            for seed, index in itertools.islice(jobs, self.num_workers * self.prefetch_factor):
                pending.append(pool.submit(self._fetch_seeded, seed, index))
            while pending:
                try:
                    batch = pending.popleft().result(timeout=self.timeout or None)
                except FutureTimeout:
                    raise RuntimeError(f"DataLoader: timed out after {self.timeout} seconds waiting for a batch") from None
                for seed, index in itertools.islice(jobs, 1):
                    pending.append(pool.submit(self._fetch_seeded, seed, index))
                yield batch
        finally:
            for future in pending:
                future.cancel()
            if not self.persistent_workers:
                self._pool = None
                pool.shutdown(wait=True, cancel_futures=True)

    def __repr__(self):
        return (f"DataLoader({type(self.dataset).__name__} of {len(self.dataset)}, batch_size={self.batch_size}, "
                f"batches={len(self)}, sampler={type(self.sampler).__name__})")
