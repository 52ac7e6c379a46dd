"""Datasets from real files — MNIST, Fashion-MNIST, CIFAR-10 (binary), MNIST-1D, the shipped 8×8
digits — and synthetic sets. File-backed datasets look in ``root``, default ``$CHAINRULE_DATA`` or
``~/.chainrule/data``."""
from .cifar import CIFAR10, parse_cifar_binary, read_cifar_binary
from .digits import description as digits_description
from .digits import digits
from .files import data_root, download, file_digest
from .idx import parse_idx, read_idx, write_idx
from .mnist import MNIST, FashionMNIST
from .mnist1d import MNIST1D
from .synthetic import linear_regression, moons, spirals, xor

__all__ = [
    "CIFAR10", "MNIST", "MNIST1D", "FashionMNIST", "data_root", "digits", "digits_description", "download",
    "file_digest", "linear_regression", "moons", "parse_cifar_binary", "parse_idx", "read_cifar_binary",
    "read_idx", "spirals", "write_idx", "xor",
]
