"""Datasets from real files (MNIST, Fashion-MNIST, MNIST-1D, the shipped digits), the IDX and CIFAR
binary readers on files written here, corrupt-file errors, downloads, and the synthetic sets."""
import gzip
import hashlib
import shutil
import tarfile
from importlib import resources
from pathlib import Path

import numpy as np
import pytest

import chainrule as cr
from chainrule.data import DataLoader, stratified_split
from chainrule.data import datasets as ds
from chainrule.data.datasets.idx import read_idx, write_idx

MNIST_TRAIN_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
MNIST_TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
T10K = ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")


def sha256sums(folder):
    lines = (Path(folder) / "SHA256SUMS").read_text().split("\n")
    return {name: digest for digest, name in (line.split() for line in lines if line.strip())}


def copy_t10k(src_root, dst):
    dst.mkdir(parents=True, exist_ok=True)
    for name in T10K:
        shutil.copy(Path(src_root) / "mnist" / name, dst / name)
    return dst


# ----- MNIST and Fashion-MNIST, the real files ---------------------------------------------------
def test_mnist_train(mnist_train):
    assert len(mnist_train) == 60000
    assert mnist_train.data.shape == (60000, 1, 28, 28) and mnist_train.data.dtype == np.uint8
    assert mnist_train.targets.dtype == np.int64
    np.testing.assert_array_equal(np.bincount(mnist_train.targets), MNIST_TRAIN_COUNTS)
    x, y = mnist_train[np.array([0, 1, 2])]
    assert x.dtype == np.float32 and x.shape == (3, 1, 28, 28) and 0 <= x.min() and x.max() == 1.0
    np.testing.assert_array_equal(y, [5, 0, 4])  # the first three MNIST training labels


def test_mnist_test(mnist_test):
    assert mnist_test.data.shape == (10000, 1, 28, 28)
    np.testing.assert_array_equal(np.bincount(mnist_test.targets), MNIST_TEST_COUNTS)
    assert mnist_test[0][1] == 7


@pytest.mark.parametrize("train,n", [(True, 60000), (False, 10000)])
def test_fashion_mnist(fashion_root, train, n):
    f = ds.FashionMNIST(fashion_root, train=train)
    assert f.data.shape == (n, 1, 28, 28) and f.data.dtype == np.uint8
    np.testing.assert_array_equal(np.bincount(f.targets), [n // 10] * 10)
    assert f.classes[9] == "Ankle boot"


def test_official_checksums_match_the_shared_files(mnist_root, fashion_root):
    for root, cls in ((mnist_root / "mnist", ds.MNIST), (fashion_root / "fashion-mnist", ds.FashionMNIST)):
        sums = sha256sums(root)
        for name in ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz") + T10K:
            assert ds.file_digest(root / name, "sha256") == sums[name]
            assert ds.file_digest(root / name, "md5") == cls.md5[name]


def test_default_root_is_chainrule_data(mnist_root, monkeypatch):
    monkeypatch.setenv("CHAINRULE_DATA", str(mnist_root))
    assert ds.data_root() == mnist_root
    assert len(ds.MNIST(train=False)) == 10000
    monkeypatch.delenv("CHAINRULE_DATA")
    assert ds.data_root() == Path("~/.chainrule/data").expanduser()


def test_torchvision_layout_with_raw_files(mnist_root, tmp_path):
    raw = tmp_path / "MNIST" / "raw"
    raw.mkdir(parents=True)
    for name in T10K:
        (raw / name[:-3]).write_bytes(gzip.decompress((mnist_root / "mnist" / name).read_bytes()))
    m = ds.MNIST(tmp_path, train=False)  # checked against the official decompressed md5s
    np.testing.assert_array_equal(np.bincount(m.targets), MNIST_TEST_COUNTS)


def test_missing_files_say_what_was_looked_for_where(tmp_path):
    with pytest.raises(FileNotFoundError) as e:
        ds.MNIST(tmp_path, train=False)
    message = str(e.value)
    assert "t10k-images-idx3-ubyte(.gz)" in message and str(tmp_path / "mnist") in message
    assert "download=True" in message and "CHAINRULE_DATA" in message


def test_bad_checksum(mnist_root, tmp_path):
    folder = copy_t10k(mnist_root, tmp_path / "mnist")
    labels = folder / T10K[1]
    content = bytearray(gzip.decompress(labels.read_bytes()))
    content[100] = (content[100] + 1) % 10  # a valid file with one label changed
    labels.write_bytes(gzip.compress(bytes(content)))
    with pytest.raises(ValueError, match=r"checksum mismatch for .*t10k-labels-idx1-ubyte.gz: expected md5 ec29112d"):
        ds.MNIST(tmp_path, train=False)
    assert len(ds.MNIST(tmp_path, train=False, verify=False)) == 10000


def test_truncated_file_is_a_clear_error(mnist_root, tmp_path):
    folder = copy_t10k(mnist_root, tmp_path / "mnist")
    images = folder / T10K[0]
    images.write_bytes(gzip.compress(gzip.decompress(images.read_bytes())[:-784], compresslevel=1))  # one image short
    with pytest.raises(ValueError, match="checksum mismatch"):
        ds.MNIST(tmp_path, train=False)
    with pytest.raises(ValueError, match=r"t10k-images-idx3-ubyte.gz is truncated: shape \(10000, 28, 28\) of uint8 "
                                         r"needs 7840016 bytes, found 7839232"):
        ds.MNIST(tmp_path, train=False, verify=False)
    images.write_bytes((mnist_root / "mnist" / T10K[0]).read_bytes()[:100000])  # a cut gzip stream
    with pytest.raises(ValueError, match="truncated or corrupt gzip"):
        ds.MNIST(tmp_path, train=False, verify=False)


def test_wrong_images_files(tmp_path):
    folder = tmp_path / "mnist"
    folder.mkdir()
    write_idx(folder / T10K[0], np.zeros((3, 27, 27), np.uint8))
    write_idx(folder / T10K[1], np.zeros(3, np.uint8))
    with pytest.raises(ValueError, match=r"images of shape \(27, 27\), expected \(28, 28\)"):
        ds.MNIST(tmp_path, train=False, verify=False)
    write_idx(folder / T10K[0], np.zeros((4, 28, 28), np.uint8))
    with pytest.raises(ValueError, match="has 4 images but .* has 3 labels"):
        ds.MNIST(tmp_path, train=False, verify=False)
    write_idx(folder / T10K[0], np.zeros(3, np.uint8))  # a labels file where the images should be
    with pytest.raises(ValueError, match=r"wrong magic number 0x00000801 \(2049\); expected 0x00000803 \(2051\)"):
        ds.MNIST(tmp_path, train=False, verify=False)


# ----- the IDX reader ----------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", [np.uint8, np.int8, np.int16, np.int32, np.float32, np.float64])
@pytest.mark.parametrize("suffix", ["", ".gz"])
def test_idx_round_trip(tmp_path, dtype, suffix):
    array = (np.random.default_rng(0).normal(size=(3, 4, 5)) * 50).astype(dtype)
    path = tmp_path / f"a.idx{suffix}"
    write_idx(path, array)
    out = read_idx(path)
    assert out.dtype == np.dtype(dtype).newbyteorder("=") and out.dtype.isnative
    np.testing.assert_array_equal(out, array)


def test_idx_corrupt_files(tmp_path):
    path = tmp_path / "x.idx"
    write_idx(path, np.arange(24, dtype=np.uint8).reshape(2, 3, 4))
    good = path.read_bytes()
    assert int.from_bytes(good[:4], "big") == 0x0803
    path.write_bytes(good[:-1])
    with pytest.raises(ValueError, match=r"x.idx is truncated: shape \(2, 3, 4\) of uint8 needs 40 bytes, found 39"):
        read_idx(path)
    path.write_bytes(good + b"\0")
    with pytest.raises(ValueError, match="longer than its header says"):
        read_idx(path)
    path.write_bytes(good[:10])
    with pytest.raises(ValueError, match="shorter than its 16-byte header"):
        read_idx(path)
    path.write_bytes(b"\x89PNG" + good[4:])
    with pytest.raises(ValueError, match="not an IDX file"):
        read_idx(path)
    path.write_bytes(b"")
    with pytest.raises(ValueError, match="truncated"):
        read_idx(path)
    path.write_bytes(good)
    with pytest.raises(ValueError, match=r"wrong magic number 0x00000803 \(2051\); expected 0x00000801 \(2049\)"):
        read_idx(path, magic=2049)
    compressed = bytearray(gzip.compress(good))
    compressed[-8] ^= 0xFF  # break the CRC
    path.write_bytes(bytes(compressed))
    with pytest.raises(ValueError, match="truncated or corrupt gzip"):
        read_idx(path)
    with pytest.raises(FileNotFoundError, match="no such file"):
        read_idx(tmp_path / "missing.idx")


# ----- download (offline: the mirrors are file:// URLs) -------------------------------------------
def test_download_is_checked_and_atomic(mnist_root, tmp_path, monkeypatch):
    bad = tmp_path / "bad-mirror"
    bad.mkdir()
    for name in T10K:
        (bad / name).write_bytes(b"not the file")
    good = (mnist_root / "mnist").as_uri() + "/"
    monkeypatch.setattr(ds.MNIST, "mirrors", (bad.as_uri() + "/", (tmp_path / "nowhere").as_uri() + "/", good))
    root = tmp_path / "root"
    m = ds.MNIST(root, train=False, download=True)
    assert len(m) == 10000
    assert sorted(p.name for p in (root / "mnist").iterdir()) == sorted(T10K)  # no temporary files left
    monkeypatch.setattr(ds.MNIST, "mirrors", (bad.as_uri() + "/",))
    with pytest.raises(RuntimeError, match="checksum mismatch"):
        ds.MNIST(tmp_path / "other", train=False, download=True)
    assert list((tmp_path / "other" / "mnist").iterdir()) == []


# ----- CIFAR-10, binary format, files written here ----------------------------------------------
def cifar_records(n, seed):
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 10, n).astype(np.uint8)
    images = rng.integers(0, 256, (n, 3, 32, 32)).astype(np.uint8)
    raw = np.concatenate([labels[:, None], images.reshape(n, -1)], axis=1).tobytes()
    return raw, images, labels


def write_cifar(folder, sizes=(3, 2, 4, 1, 2), test_size=5):
    folder.mkdir(parents=True, exist_ok=True)
    truth = {}
    for i, n in enumerate(sizes, 1):
        raw, images, labels = cifar_records(n, i)
        (folder / f"data_batch_{i}.bin").write_bytes(raw)
        truth[f"data_batch_{i}.bin"] = (raw, images, labels)
    raw, images, labels = cifar_records(test_size, 0)
    (folder / "test_batch.bin").write_bytes(raw)
    truth["test_batch.bin"] = (raw, images, labels)
    return truth


def test_cifar_binary_reader(tmp_path):
    truth = write_cifar(tmp_path / "cifar-10-batches-bin")
    train = ds.CIFAR10(tmp_path, train=True)
    assert train.data.shape == (12, 3, 32, 32) and train.data.dtype == np.uint8
    np.testing.assert_array_equal(train.data, np.concatenate([truth[f"data_batch_{i}.bin"][1] for i in range(1, 6)]))
    np.testing.assert_array_equal(train.targets, np.concatenate([truth[f"data_batch_{i}.bin"][2] for i in range(1, 6)]))
    test = ds.CIFAR10(tmp_path, train=False)
    raw, images, _ = truth["test_batch.bin"]
    # record layout: label byte, then the red plane (1024 bytes), green, blue
    assert test.targets[1] == raw[3073] and test.data[1, 0, 0, 0] == raw[3074]
    assert test.data[1, 1, 0, 0] == raw[3074 + 1024]
    x, _ = next(iter(DataLoader(test, batch_size=5)))
    assert x.shape == (5, 3, 32, 32) and x.dtype == cr.float32
    np.testing.assert_allclose(x.numpy(), images / np.float32(255))


def test_cifar_from_the_archive_without_extracting(tmp_path):
    source = tmp_path / "src" / "cifar-10-batches-bin"
    truth = write_cifar(source)
    archive = tmp_path / "root" / "cifar-10-binary.tar.gz"
    archive.parent.mkdir()
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(source, arcname="cifar-10-batches-bin")
    test = ds.CIFAR10(archive.parent, train=False, verify=False)
    np.testing.assert_array_equal(test.data, truth["test_batch.bin"][1])
    assert not (archive.parent / "cifar-10-batches-bin").exists()
    with pytest.raises(ValueError, match="checksum mismatch .* expected md5 c32a1d4ab5d03f1284b67883e8d87530"):
        ds.CIFAR10(archive.parent, train=False)
    with tarfile.open(archive, "w:gz") as tar:  # an archive lacking the test batch
        tar.add(source / "data_batch_1.bin", arcname="cifar-10-batches-bin/data_batch_1.bin")
    with pytest.raises(ValueError, match="has no member .*test_batch.bin"):
        ds.CIFAR10(archive.parent, train=False, verify=False)


def test_cifar_corrupt_and_missing(tmp_path):
    folder = tmp_path / "cifar-10-batches-bin"
    truth = write_cifar(folder)
    raw = truth["test_batch.bin"][0]
    (folder / "test_batch.bin").write_bytes(raw[:-10])
    with pytest.raises(ValueError, match=r"test_batch.bin is truncated .* 15355 bytes is not a multiple of the 3073"):
        ds.CIFAR10(tmp_path, train=False)
    (folder / "test_batch.bin").write_bytes(bytes([10]) + raw[1:])
    with pytest.raises(ValueError, match="label 10, expected 0..9"):
        ds.CIFAR10(tmp_path, train=False)
    with pytest.raises(FileNotFoundError, match="test_batch.bin .* download=True"):
        ds.CIFAR10(tmp_path / "empty", train=False)


# ----- MNIST-1D ----------------------------------------------------------------------------------
def test_mnist1d(mnist1d_root):
    train, test = ds.MNIST1D(mnist1d_root), ds.MNIST1D(mnist1d_root / "mnist1d" / "mnist1d.npz", train=False)
    assert train.data.shape == (4000, 40) and test.data.shape == (1000, 40)
    assert train.data.dtype == np.float32 and train.targets.dtype == np.int64 and train.t.shape == (40,)
    assert set(np.unique(train.targets)) == set(range(10))
    x, y = train[np.arange(8)]
    assert x.shape == (8, 40) and y.shape == (8,)


def test_mnist1d_checks(mnist1d_root, tmp_path):
    with np.load(mnist1d_root / "mnist1d" / "mnist1d.npz") as f:
        arrays = {k: f[k] for k in f.files}
    mine = tmp_path / "mnist1d.npz"
    np.savez(mine, **{**arrays, "x": arrays["x"][:10], "y": arrays["y"][:10]})
    with pytest.raises(ValueError, match="checksum mismatch .* sha256 b1adc2b5"):
        ds.MNIST1D(mine)
    assert len(ds.MNIST1D(mine, verify=False)) == 10
    np.savez(mine, x=np.array([{"a": 1}], dtype=object), y=arrays["y"], x_test=arrays["x_test"],
             y_test=arrays["y_test"], t=arrays["t"])
    with pytest.raises(ValueError, match="pickled"):
        ds.MNIST1D(mine, verify=False)
    with pytest.raises(FileNotFoundError, match="mnist1d.npz"):
        ds.MNIST1D(tmp_path / "none")


# ----- the shipped digits ------------------------------------------------------------------------
def test_digits_shipped_and_equal_to_sklearn():
    shipped = resources.files("chainrule.data.datasets") / "digits.csv.gz"
    assert hashlib.sha256(shipped.read_bytes()).hexdigest() == (
        "09f66e6debdee2cd2b5ae59e0d6abbb73fc2b0e0185d2e1957e9ebb51e23aa22")
    assert (resources.files("chainrule.data.datasets") / "COPYING").is_file()
    images, labels = ds.digits()
    assert images.shape == (1797, 8, 8) and images.dtype == np.float32 and labels.dtype == np.int64
    assert images.min() == 0 and images.max() == 16 and set(labels.tolist()) == set(range(10))
    assert ds.digits(flatten=True)[0].shape == (1797, 64)
    assert "Optical recognition of handwritten digits" in ds.digits_description()
    sklearn_datasets = pytest.importorskip("sklearn.datasets")
    reference = sklearn_datasets.load_digits()
    np.testing.assert_array_equal(images, reference.images)
    np.testing.assert_array_equal(labels, reference.target)


def test_digits_stratified_split():
    _, labels = ds.digits(flatten=True)
    train, test = stratified_split(labels, test_size=0.2, generator=cr.Generator(0))
    assert len(train) + len(test) == 1797 and len(np.intersect1d(train, test)) == 0
    expected = np.bincount(labels) * 0.2
    assert np.all(np.abs(np.bincount(labels[test]) - expected) <= 0.5)
    np.testing.assert_allclose(np.bincount(labels[train]) / len(train), np.bincount(labels) / 1797, atol=2e-3)


# ----- synthetic sets ----------------------------------------------------------------------------
SYNTHETIC = {
    "spirals": (lambda **kw: ds.spirals(50, n_classes=3, **kw), (150, 2), 3),
    "xor": (lambda **kw: ds.xor(120, **kw), (120, 2), 2),
    "moons": (lambda **kw: ds.moons(101, **kw), (101, 2), 2),
}


@pytest.mark.parametrize("name", SYNTHETIC)
def test_synthetic_shapes_and_determinism(name):
    make, shape, classes = SYNTHETIC[name]
    x, y = make(seed=0)
    assert x.shape == shape and x.dtype == np.float32 and y.dtype == np.int64
    assert set(np.unique(y)) == set(range(classes))
    np.testing.assert_array_equal(x, make(seed=0)[0])
    np.testing.assert_array_equal(x, make(generator=cr.Generator(0))[0])
    cr.manual_seed(7)
    a = make()[0]
    cr.manual_seed(7)
    np.testing.assert_array_equal(a, make()[0])
    assert not np.array_equal(x, make(seed=1)[0])


def test_xor_and_moons_geometry():
    x, y = ds.xor(400, noise=0.1, seed=0)
    np.testing.assert_array_equal(y, (np.sign(x[:, 0]) != np.sign(x[:, 1])).astype(np.int64))
    x, y = ds.moons(100, noise=0.0, seed=0, dtype=np.float64)
    sklearn_datasets = pytest.importorskip("sklearn.datasets")
    ref_x, ref_y = sklearn_datasets.make_moons(100, noise=0.0, shuffle=False)
    order = np.lexsort((x[:, 1], x[:, 0], y))
    ref_order = np.lexsort((ref_x[:, 1], ref_x[:, 0], ref_y))
    np.testing.assert_allclose(x[order], ref_x[ref_order], atol=1e-12)


def test_linear_regression():
    x, y, w, b = ds.linear_regression(500, features=3, noise=0.0, bias=2.0, coef=True, seed=0, dtype=np.float64)
    assert x.shape == (500, 3) and y.shape == (500,)
    np.testing.assert_allclose(y, x @ w + b, rtol=1e-12)
    x, y = ds.linear_regression(20000, features=4, noise=0.5, collinear=0.9, seed=1, dtype=np.float64)
    corr = np.corrcoef(x, rowvar=False)
    np.testing.assert_allclose(corr[~np.eye(4, dtype=bool)], 0.9, atol=0.01)
    x, _ = ds.linear_regression(50, features=3, collinear=True, seed=0, dtype=np.float64)
    assert np.linalg.matrix_rank(x) == 1  # identical columns: XᵀX is singular
    with pytest.raises(ValueError, match="collinear must be in"):
        ds.linear_regression(10, collinear=2)
    assert ds.linear_regression(10, seed=0)[0].dtype == np.float32


def test_gzip_detection_is_by_content(tmp_path):
    array = np.arange(6, dtype=np.uint8).reshape(2, 3)
    write_idx(tmp_path / "a.gz", array)
    (tmp_path / "plain-name").write_bytes((tmp_path / "a.gz").read_bytes())
    np.testing.assert_array_equal(read_idx(tmp_path / "plain-name"), array)
