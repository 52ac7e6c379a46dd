"""Map-style datasets (``torch.utils.data``-shaped) and splits.

A dataset has ``len(ds)`` samples and ``ds[i]`` returns the i-th. A dataset whose ``__getitem__``
also takes an integer array and returns the whole batch at once — a tuple of arrays with a leading
batch axis — sets ``batched = True``; the ``DataLoader`` then fetches each batch with ONE fancy index
instead of one Python call per sample.
"""
import bisect
import itertools
import math

import numpy as np

from ..random import rng
from ..tensor import Tensor


def _as_index(index, n, name):
    """``index`` (int, slice, integer or boolean array/list/Tensor) → an int or an int64 array in [0, n)."""
    if isinstance(index, Tensor):
        index = index.data
    if isinstance(index, (bool, np.bool_)):
        raise TypeError(f"{name}: index must be an integer, a slice or an integer array, got a bool")
    if isinstance(index, (int, np.integer)):
        if not -n <= index < n:
            raise IndexError(f"{name}: index {index} is out of range for a dataset of {n} samples")
        return int(index) % n
    if isinstance(index, slice):
        return np.arange(n)[index]
    arr = np.asarray(index)
    if arr.dtype.kind == "b":
        if arr.shape != (n,):
            raise IndexError(f"{name}: a boolean mask must have shape ({n},), got {arr.shape}")
        return np.flatnonzero(arr)
    if arr.size == 0:
        return arr.astype(np.int64)
    if arr.dtype.kind not in "iu":
        raise TypeError(f"{name}: index must be an integer, a slice or an integer array, got dtype {arr.dtype}")
    if arr.min() < -n or arr.max() >= n:
        bad = arr.min() if arr.min() < -n else arr.max()
        raise IndexError(f"{name}: index {bad} is out of range for a dataset of {n} samples")
    return np.where(arr < 0, arr + n, arr).astype(np.int64, copy=False)


def _to_float(x):
    """uint8 pixels → float32 in [0, 1] (÷255); other numbers → float32."""
    if x.dtype == np.uint8:
        out = x.astype(np.float32)
        out /= 255  # a division, not ×(1/255), so that 255 maps to exactly 1.0
        return out
    return x.astype(np.float32, copy=False)


class Dataset:
    """Base class: override ``__getitem__`` and ``__len__``. ``ds1 + ds2`` concatenates."""

    batched = False

    def __getitem__(self, index):
        raise NotImplementedError(f"{type(self).__name__} must implement __getitem__")

    def __len__(self):
        raise NotImplementedError(f"{type(self).__name__} must implement __len__")

    def __add__(self, other):
        return ConcatDataset([self, other])


class TensorDataset(Dataset):
    """Samples are rows of the given arrays (or Tensors), which share their first dimension.

    ``ds[i]`` → tuple of rows; ``ds[int_array]`` → tuple of row blocks (one fancy index per array).
    Tensors come back as Tensors, arrays as arrays.
    """

    batched = True

    def __init__(self, *tensors):
        if not tensors:
            raise ValueError("TensorDataset: give at least one array or tensor")
        self.tensors = tensors
        self._arrays = [t.data if isinstance(t, Tensor) else np.asarray(t) for t in tensors]
        sizes = [a.shape[0] if a.ndim else None for a in self._arrays]
        if None in sizes or len(set(sizes)) != 1:
            shapes = ", ".join(str(a.shape) for a in self._arrays)
            raise ValueError(f"TensorDataset: all arrays must have the same size in dimension 0, got shapes {shapes}")

    def __len__(self):
        return self._arrays[0].shape[0]

    def __getitem__(self, index):
        index = _as_index(index, len(self), "TensorDataset")
        rows = (a[index] for a in self._arrays)
        return tuple(Tensor(r) if isinstance(t, Tensor) else r for t, r in zip(self.tensors, rows))


class ArrayDataset(Dataset):
    """In-memory (inputs, targets) with optional transforms — the base of the real datasets.

    ``data``: (N, ...) array (uint8 images are kept as uint8: 4× less memory); ``targets``: (N,) int64.
    ``ds[i]`` / ``ds[int_array]`` → (x, y) with x float32 (uint8 ÷ 255, so in [0, 1]), then
    ``transform(x)`` applied to the single sample or to the whole batch at once, and
    ``target_transform(y)``.
    """

    batched = True

    def __init__(self, data, targets, transform=None, target_transform=None):
        data, targets = np.asarray(data), np.asarray(targets)
        if data.ndim == 0 or targets.shape[:1] != data.shape[:1]:
            raise ValueError(
                f"{type(self).__name__}: data of shape {data.shape} and targets of shape {targets.shape} "
                "must have the same length"
            )
        self.data, self.targets = data, targets
        self.transform, self.target_transform = transform, target_transform

    def __len__(self):
        return self.data.shape[0]

    def __getitem__(self, index):
        index = _as_index(index, len(self), type(self).__name__)
        x, y = _to_float(self.data[index]), self.targets[index]
        if self.transform is not None:
            x = self.transform(x)
        if self.target_transform is not None:
            y = self.target_transform(y)
        return x, y

    def __repr__(self):
        lines = [f"{type(self).__name__}(", f"  samples: {len(self)}, data {self.data.dtype} {self.data.shape}"]
        if self.transform is not None:
            lines.append(f"  transform: {self.transform!r}")
        return "\n".join(lines) + "\n)"


class Subset(Dataset):
    """The samples of ``dataset`` at ``indices``, in that order."""

    def __init__(self, dataset, indices):
        self.dataset = dataset
        self.indices = _as_index(np.asarray(indices, dtype=np.int64).reshape(-1), len(dataset), "Subset")

    @property
    def batched(self):
        return getattr(self.dataset, "batched", False)

    def __len__(self):
        return len(self.indices)

    def __getitem__(self, index):
        return self.dataset[self.indices[_as_index(index, len(self), "Subset")]]


class ConcatDataset(Dataset):
    """Datasets one after another: sample i of the result is sample i − cumulative_sizes[k−1] of part k."""

    def __init__(self, datasets):
        self.datasets = list(datasets)
        if not self.datasets:
            raise ValueError("ConcatDataset: datasets should not be an empty iterable")
        self.cumulative_sizes = np.cumsum([len(d) for d in self.datasets]).tolist()

    @property
    def batched(self):
        return all(getattr(d, "batched", False) for d in self.datasets)

    def __len__(self):
        return self.cumulative_sizes[-1]

    def __getitem__(self, index):
        index = _as_index(index, len(self), "ConcatDataset")
        if isinstance(index, int):
            k = bisect.bisect_right(self.cumulative_sizes, index)
            return self.datasets[k][index - (self.cumulative_sizes[k - 1] if k else 0)]
        if not self.batched:
            raise TypeError(
                "ConcatDataset: indexing with an array needs every part to accept arrays (batched=True); "
                "index one sample at a time"
            )
        if index.size == 0:
            return self.datasets[0][index]
        part = np.searchsorted(self.cumulative_sizes, index, side="right")
        starts = np.concatenate([[0], self.cumulative_sizes[:-1]])
        positions, pieces = [], []
        for k in np.unique(part):
            where = np.flatnonzero(part == k)
            positions.append(where)
            pieces.append(self.datasets[k][index[where] - starts[k]])
        inverse = np.argsort(np.concatenate(positions), kind="stable")
        return _concat_batches(pieces, inverse)


def _concat_batches(pieces, order):
    """Concatenate batches (arrays, Tensors or tuples/lists of them) along axis 0, then reorder rows."""
    first = pieces[0]
    if isinstance(first, (tuple, list)):
        return type(first)(_concat_batches([p[i] for p in pieces], order) for i in range(len(first)))
    if isinstance(first, Tensor):
        return Tensor(np.concatenate([p.data for p in pieces])[order])
    return np.concatenate([np.asarray(p) for p in pieces])[order]


def _split_lengths(lengths, n):
    """Integer lengths summing to n; fractions (summing to 1) are floored, and the remainder handed out
    one by one round-robin, as ``torch.utils.data.random_split`` does."""
    lengths = list(lengths)
    if all(isinstance(x, (int, np.integer)) for x in lengths):
        if sum(lengths) != n or min(lengths) < 0:
            raise ValueError(f"random_split: lengths {lengths} must be non-negative and sum to the dataset size {n}")
        return [int(x) for x in lengths]
    if not math.isclose(sum(lengths), 1.0) or min(lengths) < 0:
        raise ValueError(f"random_split: fractions {lengths} must be non-negative and sum to 1")
    counts = [math.floor(n * f) for f in lengths]
    for i in range(n - sum(counts)):
        counts[i % len(counts)] += 1
    return counts


def random_split(dataset, lengths, generator=None):
    """Split ``dataset`` at random into non-overlapping ``Subset``s of the given lengths (ints summing
    to len(dataset), or fractions summing to 1). ``generator``: a ``chainrule.Generator``."""
    counts = _split_lengths(lengths, len(dataset))
    perm = rng(generator).permutation(len(dataset))
    bounds = np.cumsum([0] + counts)
    return [Subset(dataset, perm[a:b]) for a, b in itertools.pairwise(bounds)]


def stratified_split(labels, test_size=0.25, generator=None):
    """Indices (train, test) such that every class keeps its proportion in both parts.

    ``labels``: (N,) class labels. ``test_size``: a fraction in (0, 1) or a number of test samples.
    Class c with n_c samples puts round(n_c · f) of them in the test part (f = the test fraction),
    chosen at random; both index arrays come back shuffled. Use them as ``x[train]`` or
    ``Subset(ds, train)``.
    """
    labels = np.asarray(labels.data if isinstance(labels, Tensor) else labels)
    if labels.ndim != 1:
        raise ValueError(f"stratified_split: labels must be 1-D, got shape {labels.shape}")
    n = len(labels)
    fraction = test_size / n if isinstance(test_size, (int, np.integer)) else float(test_size)
    if not 0 < fraction < 1:
        raise ValueError(
            f"stratified_split: test_size must be a fraction in (0, 1) or a count in (0, {n}), got {test_size}"
        )
    gen = rng(generator)
    train, test = [], []
    for c in np.unique(labels):
        members = gen.permutation(np.flatnonzero(labels == c))
        k = round(len(members) * fraction)
        test.append(members[:k])
        train.append(members[k:])
    return gen.permutation(np.concatenate(train)), gen.permutation(np.concatenate(test))
