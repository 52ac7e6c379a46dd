"""The UCI 8×8 handwritten digits, shipped inside chainrule so that it loads offline on any machine.

``digits.csv.gz`` (1,797 rows: 64 pixels 0..16, then the label) and ``digits.rst`` (its description)
are byte-exact copies of the files in the scikit-learn 1.9.1 wheel (sklearn/datasets/data/ and
descr/), © the scikit-learn developers, BSD-3-Clause — the licence text is ``COPYING`` next to them.
The data are the UCI "Optical Recognition of Handwritten Digits" set (E. Alpaydin, C. Kaynak, 1998),
distributed by UCI under CC BY 4.0.
"""
import functools
import gzip
from importlib import resources

import numpy as np

_FILE = "digits.csv.gz"


@functools.lru_cache(maxsize=1)
def _load():
    raw = resources.files(__package__).joinpath(_FILE).read_bytes()
    table = np.loadtxt(gzip.decompress(raw).decode("ascii").splitlines(), delimiter=",", dtype=np.int64)
    if table.shape != (1797, 65):
        raise ValueError(f"digits: the shipped {_FILE} has shape {table.shape}, expected (1797, 65): damaged install?")
    pixels, labels = table[:, :64], table[:, 64]
    pixels.setflags(write=False)
    labels.setflags(write=False)
    return pixels, labels


def digits(flatten=False, dtype=np.float32):
    """The 1,797 digits: (images, labels).

    images  (1797, 8, 8) — or (1797, 64) with ``flatten=True`` — raw pixel counts 0..16 as ``dtype``
            (scale them with ``preprocessing``: fit on the training part only)
    labels  (1797,) int64 in 0..9, about 180 per class
    Split with ``chainrule.data.stratified_split(labels, test_size)``.
    """
    pixels, labels = _load()
    images = pixels.astype(dtype)
    return (images if flatten else images.reshape(-1, 8, 8)), labels.copy()


def description():
    """The dataset's description (scikit-learn's digits.rst)."""
    return resources.files(__package__).joinpath("digits.rst").read_text(encoding="utf-8")
