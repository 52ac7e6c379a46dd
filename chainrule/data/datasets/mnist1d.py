"""MNIST-1D (Greydanus & Kobak, 2020): the ten digit templates as 1-D signals of 40 samples, padded,
translated, scaled, sheared, blurred and noised — a small benchmark on which models differ as much as
on MNIST, in seconds on a CPU. The frozen set has 4,000 training and 1,000 test signals.

Read from ``mnist1d.npz`` (arrays ``x, y, x_test, y_test, t``) with ``allow_pickle=False``: the
original distribution is a pickle, and unpickling a file can run code.
"""
from pathlib import Path

import numpy as np

from ..dataset import ArrayDataset
from .files import check_digest, data_root

SHA256 = "b1adc2b5206f50ab6f7dea5e16da94cabd5294c20563a6f631ab3615a9cb2e10"


class MNIST1D(ArrayDataset):
    """MNIST-1D: ``data`` float32 (N, 40) signals, ``targets`` int64 (N,) in 0..9, ``t`` (40,) the
    sample positions. N = 4,000 (train) or 1,000 (test). For a Conv1d add the channel axis:
    ``transform=Lambda(lambda x: x[..., None, :])``.

    root    the .npz file itself, or a folder holding ``mnist1d/mnist1d.npz`` or ``mnist1d.npz``
            (default ``$CHAINRULE_DATA`` or ``~/.chainrule/data``)
    verify  check the file's sha256 against the known copy (pass False for a file you made yourself:
            ``np.savez(path, **mnist1d.data.make_dataset(mnist1d.data.get_dataset_args()))``)
    """

    classes = [str(d) for d in range(10)]

    def __init__(self, root=None, train=True, transform=None, target_transform=None, verify=True):
        path = self._locate(data_root(root))
        if verify:
            check_digest(path, SHA256, "sha256", "MNIST1D")
        try:
            with np.load(path, allow_pickle=False) as f:
                missing = {"x", "y", "x_test", "y_test", "t"} - set(f.files)
                if missing:
                    raise ValueError(f"MNIST1D: {path} lacks the arrays {sorted(missing)}; found {sorted(f.files)}")
                x, y = (f["x"], f["y"]) if train else (f["x_test"], f["y_test"])
                t = f["t"]
        except ValueError as e:
            if "pickle" in str(e):
                raise ValueError(f"MNIST1D: {path} holds Python objects (pickled), which are not loaded; "
                                 "save plain arrays with np.savez") from None
            raise
        if x.ndim != 2 or y.shape != (len(x),):
            raise ValueError(f"MNIST1D: {path}: expected signals (N, L) and labels (N,), got {x.shape} and {y.shape}")
        self.t = t
        super().__init__(x.astype(np.float32), y.astype(np.int64), transform, target_transform)

    @staticmethod
    def _locate(root):
        candidates = [root] if root.suffix == ".npz" else [root / "mnist1d" / "mnist1d.npz", root / "mnist1d.npz"]
        for path in candidates:
            if Path(path).is_file():
                return Path(path)
        raise FileNotFoundError(
            f"MNIST1D: no mnist1d.npz at {', '.join(map(str, candidates))}. Point root= or $CHAINRULE_DATA at a "
            "folder holding mnist1d/mnist1d.npz (in this project: ../shared/data), or make one offline with "
            "`pip install mnist1d` and np.savez(path, **make_dataset(get_dataset_args()))"
        )
