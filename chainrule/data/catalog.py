"""The datasets the command line knows by name: how to load each one's train and test split, its input
shape, classes, standard normalization and augmentation, and where its files are expected."""
import difflib
import os
import re

import numpy as np

from . import transforms as T
from .dataset import ArrayDataset, Subset, stratified_split
from .datasets import CIFAR10, MNIST1D, FashionMNIST, MNIST, data_root, digits, moons, spirals, xor
from ..random import Generator


class Entry:
    """One named dataset: ``load(root, augment, seed) -> (train, test)``, plus its metadata."""

    def __init__(self, name, input_shape, num_classes, description, load, files=None):
        self.name, self.input_shape, self.num_classes = name, tuple(input_shape), num_classes
        self.description, self._load, self.files = description, load, files

    def load(self, root=None, augment=False, seed=0):
        """(train, test) datasets. Missing files raise FileNotFoundError in the command line's words
        (``--data-dir``, ``chainrule datasets``), not the dataset class's Python arguments."""
        try:
            return self._load(root, augment, seed)
        except FileNotFoundError as e:
            found = _PYTHON_ADVICE.split(str(e), maxsplit=1)[0].rstrip(".")
            raise FileNotFoundError(
                f"{found}. Give --data-dir a folder that holds {self.files}/ (or set $CHAINRULE_DATA; in this project: "
                f"--data-dir ../shared/data); `chainrule datasets --data-dir DIR` shows what it finds there") from None

    def where(self, root=None):
        """'bundled', 'generated', or the folder its files are looked for in."""
        return self.files if self.files in ("bundled", "generated") else os.path.join(data_root(root), self.files)

    def available(self, root=None):
        if self.files in ("bundled", "generated"):
            return True
        folder = self.where(root)
        return os.path.isdir(folder) and any(os.scandir(folder))


# where a dataset class's "not found" message turns to advice for Python callers (download=True, root=)
_PYTHON_ADVICE = re.compile(r"\. (?:Pass|Point) ")


def _digits(root, augment, seed):
    images, labels = digits()
    data = (images / 16.0).astype(np.float32)[:, None]  # pixel counts 0..16 → [0, 1]
    train_idx, test_idx = stratified_split(labels, test_size=0.25, generator=Generator(seed))
    norm = T.Normalize(0.3, 0.4)
    train_tf = T.Compose([T.RandomCrop(8, padding=1), norm]) if augment else norm
    return (ArrayDataset(data[train_idx], labels[train_idx], transform=train_tf),
            ArrayDataset(data[test_idx], labels[test_idx], transform=norm))


def _mnist_like(cls, mean, std):
    def load(root, augment, seed):
        norm = T.Normalize(mean, std)
        train_tf = T.Compose([T.RandomCrop(28, padding=2), norm]) if augment else norm
        return cls(root, train=True, transform=train_tf), cls(root, train=False, transform=norm)
    return load


def _cifar10(root, augment, seed):
    norm = T.Normalize((0.4914, 0.4822, 0.4465), (0.2470, 0.2435, 0.2616))
    train_tf = T.Compose([T.RandomCrop(32, padding=4), T.RandomHorizontalFlip(), norm]) if augment else norm
    return CIFAR10(root, train=True, transform=train_tf), CIFAR10(root, train=False, transform=norm)


def _mnist1d(root, augment, seed):
    add_channel = T.Lambda(lambda x: x[..., None, :])
    return MNIST1D(root, train=True, transform=add_channel), MNIST1D(root, train=False, transform=add_channel)


def _synthetic(make, **kwargs):
    def load(root, augment, seed):
        x, y = make(seed=seed, **kwargs)
        order = Generator(seed + 1).rng.permutation(len(y))
        cut = int(0.8 * len(y))
        full = ArrayDataset(x, y)
        return Subset(full, order[:cut]), Subset(full, order[cut:])
    return load


DATASETS = {
    e.name: e
    for e in (
        Entry("digits", (1, 8, 8), 10, "UCI 8×8 handwritten digits, 1,797 images (bundled)", _digits, "bundled"),
        Entry("mnist", (1, 28, 28), 10, "MNIST handwritten digits, 60,000 + 10,000", _mnist_like(MNIST, 0.1307, 0.3081),
              "mnist"),
        Entry("fashion-mnist", (1, 28, 28), 10, "Fashion-MNIST clothing images, 60,000 + 10,000",
              _mnist_like(FashionMNIST, 0.2860, 0.3530), "fashion-mnist"),
        Entry("cifar10", (3, 32, 32), 10, "CIFAR-10 colour images, 50,000 + 10,000 (binary version)", _cifar10,
              "cifar10"),
        Entry("mnist1d", (1, 40), 10, "MNIST-1D signals of length 40, 4,000 + 1,000", _mnist1d, "mnist1d"),
        Entry("spirals", (2,), 2, "two interleaved spirals in the plane (generated)",
              _synthetic(spirals, n_per_class=500), "generated"),
        Entry("moons", (2,), 2, "two interleaving half circles (generated)", _synthetic(moons, n=1000), "generated"),
        Entry("xor", (2,), 2, "XOR of the signs of two coordinates (generated)", _synthetic(xor, n=1000), "generated"),
    )
}


def get_dataset(name):
    """The catalog entry for ``name``; KeyError with the closest names otherwise."""
    if name not in DATASETS:  # a wrong case ('MNIST') is suggested, not taken: names are exact, like the models'
        close = [n for n in DATASETS if n == str(name).lower()] or difflib.get_close_matches(str(name).lower(),
                                                                                            DATASETS, n=3)
        hint = f" Did you mean {', '.join(map(repr, close))}?" if close else ""
        raise KeyError(f"unknown dataset {name!r}.{hint} Available: {', '.join(DATASETS)}")
    return DATASETS[name]
