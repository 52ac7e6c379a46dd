"""Fixtures for the data tests: the shared data folder (``$CHAINRULE_DATA`` or ``../shared/data``
next to the repository) and the real datasets loaded once per session."""
import os
from pathlib import Path

import pytest

from chainrule.data import datasets

REPO = Path(__file__).resolve().parents[2]


def shared_root(folder):
    """The first of $CHAINRULE_DATA, ../shared/data that holds ``folder``, or None."""
    for root in (os.environ.get("CHAINRULE_DATA"), REPO.parent / "shared" / "data"):
        if root and (Path(root) / folder).is_dir():
            return Path(root)
    return None


def _require(folder):
    root = shared_root(folder)
    if root is None:
        pytest.skip(f"no {folder}/ in $CHAINRULE_DATA or {REPO.parent / 'shared' / 'data'} (the shared data folder)")
    return root


@pytest.fixture(scope="session")
def mnist_root():
    return _require("mnist")


@pytest.fixture(scope="session")
def fashion_root():
    return _require("fashion-mnist")


@pytest.fixture(scope="session")
def mnist1d_root():
    return _require("mnist1d")


@pytest.fixture(scope="session")
def mnist_train(mnist_root):
    return datasets.MNIST(mnist_root, train=True)


@pytest.fixture(scope="session")
def mnist_test(mnist_root):
    return datasets.MNIST(mnist_root, train=False)
