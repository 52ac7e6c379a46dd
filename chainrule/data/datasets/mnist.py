"""MNIST and Fashion-MNIST from their original IDX files, checksummed.

Files are looked for, in this order, in ``root/<folder>/`` (``mnist``, ``fashion-mnist``: the layout of
``../shared/data``), ``root/<ClassName>/raw/`` (torchvision's layout) and ``root/`` itself, each
either gzip-compressed (``train-images-idx3-ubyte.gz``, as distributed) or decompressed.
"""
import numpy as np

from ..dataset import ArrayDataset
from .files import check_digest, data_root
from .files import download as download_file
from .idx import read_idx

IMAGES_MAGIC, LABELS_MAGIC = 2051, 2049


class MNIST(ArrayDataset):
    """The MNIST handwritten digits (LeCun, Cortes & Burges): 60,000 train / 10,000 test images.

    ``data``: uint8 (N, 1, 28, 28); ``targets``: int64 (N,) in 0..9. ``ds[i]`` / ``ds[int_array]`` →
    (float32 images in [0, 1], labels), ``transform`` applied to the sample or the whole batch.

    root       folder holding the files (default ``$CHAINRULE_DATA`` or ``~/.chainrule/data``)
    train      the training split (True) or the test split
    download   fetch missing files from the official mirrors (needs a network), md5-checked, atomic
    verify     check every file's md5 against the official one before reading it
    """

    folder = "mnist"
    mirrors = ("https://ossci-datasets.s3.amazonaws.com/mnist/", "http://yann.lecun.com/exdb/mnist/")
    # official md5s of the distributed .gz files, and of their decompressed contents
    md5 = {
        "train-images-idx3-ubyte.gz": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
        "train-labels-idx1-ubyte.gz": "d53e105ee54ea40749a09fcbcd1e9432",
        "t10k-images-idx3-ubyte.gz": "9fb629c4189551a2d022fa330f9573f3",
        "t10k-labels-idx1-ubyte.gz": "ec29112dd5afa0611ce80d1b7f02629c",
        "train-images-idx3-ubyte": "6bbc9ace898e44ae57da46a324031adb",
        "train-labels-idx1-ubyte": "a25bea736e30d166cdddb491f175f624",
        "t10k-images-idx3-ubyte": "2646ac647ad5339dbf082846283269ea",
        "t10k-labels-idx1-ubyte": "27ae3e4e09519cfbb04c329615203637",
    }
    classes = ["0 - zero", "1 - one", "2 - two", "3 - three", "4 - four",
               "5 - five", "6 - six", "7 - seven", "8 - eight", "9 - nine"]
    image_size = (28, 28)

    def __init__(self, root=None, train=True, transform=None, target_transform=None, download=False, verify=True):
        self.root, self.train = data_root(root), train
        split = "train" if train else "t10k"
        names = (f"{split}-images-idx3-ubyte", f"{split}-labels-idx1-ubyte")
        paths = self._locate(names, download)
        if verify:
            for path in paths:
                check_digest(path, self.md5[path.name], "md5", type(self).__name__)
        images = read_idx(paths[0], IMAGES_MAGIC)
        labels = read_idx(paths[1], LABELS_MAGIC)
        if images.ndim != 3 or images.shape[1:] != self.image_size:
            raise ValueError(f"{type(self).__name__}: {paths[0]} holds images of shape {images.shape[1:]}, "
                             f"expected {self.image_size}")
        if len(labels) != len(images):
            raise ValueError(f"{type(self).__name__}: {paths[0]} has {len(images)} images but {paths[1]} "
                             f"has {len(labels)} labels")
        if labels.size and labels.max() >= len(self.classes):
            raise ValueError(f"{type(self).__name__}: {paths[1]} holds label {labels.max()}, expected 0..9")
        super().__init__(images[:, None], labels.astype(np.int64), transform, target_transform)

    def _candidates(self):
        return [self.root / self.folder, self.root / type(self).__name__ / "raw", self.root]

    def _locate(self, names, download):
        for folder in self._candidates():
            found = []
            for name in names:
                hits = [folder / f"{name}.gz", folder / name]
                found.append(next((p for p in hits if p.is_file()), None))
            if None not in found:
                return found
        if download:
            target = self.root / self.folder
            return [download_file([m + f"{name}.gz" for m in self.mirrors], target / f"{name}.gz",
                                  self.md5[f"{name}.gz"], type(self).__name__) for name in names]
        where = ", ".join(str(p) for p in self._candidates())
        raise FileNotFoundError(
            f"{type(self).__name__}: could not find {names[0]}(.gz) and {names[1]}(.gz) in any of: {where}. "
            f"Pass download=True to fetch them (needs a network), or point root= or $CHAINRULE_DATA at a folder "
            f"holding {self.folder}/ with the four IDX files (in this project: ../shared/data)"
        )


class FashionMNIST(MNIST):
    """Fashion-MNIST (Xiao, Rasul & Vollgraf, Zalando): 28×28 grayscale clothing images, same format,
    sizes and API as ``MNIST``; 6,000 train / 1,000 test images per class."""

    folder = "fashion-mnist"
    mirrors = ("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",)
    # the .gz md5s are upstream's (README); the decompressed ones were computed from those verified files
    md5 = {
        "train-images-idx3-ubyte.gz": "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
        "train-labels-idx1-ubyte.gz": "25c81989df183df01b3e8a0aad5dffbe",
        "t10k-images-idx3-ubyte.gz": "bef4ecab320f06d8554ea6380940ec79",
        "t10k-labels-idx1-ubyte.gz": "bb300cfdad3c16e7a12a480ee83cd310",
        "train-images-idx3-ubyte": "f4a8712d7a061bf5bd6d2ca38dc4d50a",
        "train-labels-idx1-ubyte": "9018921c3c673c538a1fc5bad174d6f9",
        "t10k-images-idx3-ubyte": "8181f5470baa50b63fa0f6fddb340f0a",
        "t10k-labels-idx1-ubyte": "15d484375f8d13e6eb1aabb0c3f46965",
    }
    classes = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]
