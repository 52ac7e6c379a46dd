"""CIFAR-10 (Krizhevsky, 2009) from the official BINARY version — never the pickled Python version,
since unpickling an untrusted file can run arbitrary code.

Binary layout (``cifar-10-batches-bin/data_batch_{1..5}.bin``, ``test_batch.bin``): 10,000 records of
3,073 bytes each — 1 label byte (0..9), then 3,072 pixel bytes: the 32×32 red plane, then green,
then blue, each row-major. So the records reshape directly to (N, 3, 32, 32).
"""
import tarfile

import numpy as np

from ..dataset import ArrayDataset
from .files import check_digest, data_root
from .files import download as download_file

RECORD_BYTES = 1 + 3 * 32 * 32


def parse_cifar_binary(buffer, name="<bytes>", num_classes=10):
    """Records in CIFAR-10's binary format → (images uint8 (N, 3, 32, 32), labels int64 (N,))."""
    if len(buffer) % RECORD_BYTES:
        raise ValueError(
            f"CIFAR10: {name} is truncated or not a CIFAR-10 binary batch: {len(buffer)} bytes is not a multiple "
            f"of the {RECORD_BYTES}-byte record (1 label byte + 3×32×32 pixels)"
        )
    records = np.frombuffer(buffer, dtype=np.uint8).reshape(-1, RECORD_BYTES)
    labels = records[:, 0].astype(np.int64)
    if labels.size and labels.max() >= num_classes:
        raise ValueError(f"CIFAR10: {name} holds label {labels.max()}, expected 0..{num_classes - 1}: corrupt file?")
    return records[:, 1:].reshape(-1, 3, 32, 32), labels


def read_cifar_binary(path):
    """Read one CIFAR-10 binary batch file."""
    with open(path, "rb") as f:
        return parse_cifar_binary(f.read(), str(path))


class CIFAR10(ArrayDataset):
    """CIFAR-10: 32×32 colour images of 10 classes, 50,000 train / 10,000 test.

    ``data``: uint8 (N, 3, 32, 32); ``targets``: int64 (N,). Samples are (float32 in [0, 1], label).

    Looked for in ``root/cifar-10-batches-bin/``, ``root/cifar10/cifar-10-batches-bin/`` and ``root/`` (the
    extracted .bin files), else read straight out of ``cifar-10-binary.tar.gz`` in ``root/`` or
    ``root/cifar10/`` without extracting anything. ``verify`` checks the archive's official md5 (the
    extracted files have no official checksums; their size and labels are checked).
    ``download=True`` fetches the archive into ``root/cifar10/`` (md5-checked, atomic).
    """

    base_folder = "cifar-10-batches-bin"
    archive = "cifar-10-binary.tar.gz"
    url = "https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz"
    archive_md5 = "c32a1d4ab5d03f1284b67883e8d87530"
    train_files = tuple(f"data_batch_{i}.bin" for i in range(1, 6))
    test_files = ("test_batch.bin",)
    classes = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]

    def __init__(self, root=None, train=True, transform=None, target_transform=None, download=False, verify=True):
        self.root, self.train = data_root(root), train
        names = self.train_files if train else self.test_files
        parts = self._read(names, download, verify)
        images = np.concatenate([p[0] for p in parts])
        labels = np.concatenate([p[1] for p in parts])
        super().__init__(images, labels, transform, target_transform)

    def _read(self, names, download, verify):
        folders = [self.root / self.base_folder, self.root / "cifar10" / self.base_folder, self.root]
        for folder in folders:
            if all((folder / n).is_file() for n in names):
                return [read_cifar_binary(folder / n) for n in names]
        archives = [self.root / self.archive, self.root / "cifar10" / self.archive]
        archive = next((a for a in archives if a.is_file()), None)
        if archive is None and download:
            archive = download_file([self.url], archives[1], self.archive_md5, "CIFAR10")
        if archive is None:
            raise FileNotFoundError(
                f"CIFAR10: could not find {', '.join(names)} in any of {', '.join(map(str, folders))}, nor "
                f"{self.archive} in {archives[0].parent} or {archives[1].parent}. Pass download=True to fetch the "
                f"binary version from {self.url} (needs a network), or put it in one of those places"
            )
        if verify:
            check_digest(archive, self.archive_md5, "md5", "CIFAR10")
        try:
            with tarfile.open(archive, "r:gz") as tar:
                out = []
                for n in names:
                    member = tar.getmember(f"{self.base_folder}/{n}")
                    if not member.isfile():
                        raise ValueError(f"CIFAR10: {archive}: {member.name} is not a regular file")
                    out.append(parse_cifar_binary(tar.extractfile(member).read(), f"{archive}:{member.name}"))
                return out
        except KeyError as e:
            expected = ", ".join(f"{self.base_folder}/{n}" for n in names)
            raise ValueError(f"CIFAR10: {archive} has no member {e}; expected {expected}") from None
        except (tarfile.TarError, EOFError, OSError) as e:
            raise ValueError(f"CIFAR10: {archive} is a truncated or corrupt archive ({e})") from None
