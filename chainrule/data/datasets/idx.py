"""The IDX file format of MNIST and Fashion-MNIST (LeCun et al.), gzip-compressed or raw.

Layout, all integers big-endian:
    bytes 0-1   0x00 0x00
    byte  2     element type: 0x08 uint8, 0x09 int8, 0x0B int16, 0x0C int32, 0x0D float32, 0x0E float64
    byte  3     number of dimensions k
    then k uint32 sizes d_1 … d_k, then d_1·…·d_k elements in row-major order.
So the magic number of MNIST's images is 0x00000803 = 2051 (uint8, 3 dims), of its labels 2049.
"""
import gzip
import zlib
from pathlib import Path

import numpy as np

IDX_DTYPES = {0x08: np.dtype("u1"), 0x09: np.dtype("i1"), 0x0B: np.dtype(">i2"), 0x0C: np.dtype(">i4"),
              0x0D: np.dtype(">f4"), 0x0E: np.dtype(">f8")}


def read_bytes(path):
    """A file's bytes, decompressed when it is gzip (detected by its magic 1f 8b, not its name)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"read_idx: no such file {path}")
    raw = path.read_bytes()
    if raw[:2] != b"\x1f\x8b":
        return raw
    try:
        return gzip.decompress(raw)
    except (EOFError, OSError, zlib.error) as e:  # gzip.BadGzipFile is an OSError
        raise ValueError(f"read_idx: {path} is a truncated or corrupt gzip file ({e})") from None


def parse_idx(buffer, name="<bytes>", magic=None):
    """Decode IDX bytes into a new, writable ndarray in native byte order.

    ``magic``: the expected magic number (e.g. 2051); a different one is an error.
    """
    if len(buffer) < 4:
        raise ValueError(
            f"read_idx: {name} is truncated: {len(buffer)} bytes, shorter than the 4-byte IDX magic number"
        )
    found = int.from_bytes(buffer[:4], "big")
    if magic is not None and found != magic:
        raise ValueError(
            f"read_idx: {name} has the wrong magic number {found:#010x} ({found}); expected {magic:#010x} ({magic}) — "
            "not an IDX file of the expected kind"
        )
    if buffer[0] != 0 or buffer[1] != 0 or buffer[2] not in IDX_DTYPES:
        raise ValueError(
            f"read_idx: {name} is not an IDX file: magic number {found:#010x} should be 0x0000TTKK "
            f"with element type TT in {{{', '.join(f'{t:02x}' for t in IDX_DTYPES)}}}"
        )
    dtype, ndim = IDX_DTYPES[buffer[2]], buffer[3]
    header = 4 + 4 * ndim
    if len(buffer) < header:
        raise ValueError(f"read_idx: {name} is truncated: {len(buffer)} bytes, shorter than its {header}-byte header")
    shape = tuple(int(d) for d in np.frombuffer(buffer, dtype=">u4", count=ndim, offset=4))
    expected = header + int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if len(buffer) != expected:
        problem = "truncated" if len(buffer) < expected else "longer than its header says"
        raise ValueError(
            f"read_idx: {name} is {problem}: shape {shape} of {dtype.name} needs {expected} bytes, found {len(buffer)}"
        )
    return np.frombuffer(buffer, dtype=dtype, offset=header).reshape(shape).astype(dtype.newbyteorder("="))


def read_idx(path, magic=None):
    """Read an IDX file (gzip or raw) into an ndarray, checking magic number, dimensions and size."""
    return parse_idx(read_bytes(path), str(path), magic)


def write_idx(path, array):
    """Write ``array`` as an IDX file (gzip-compressed when ``path`` ends in .gz). For tests and tools."""
    array = np.asarray(array)
    codes = {v.newbyteorder("=").str[1:]: k for k, v in IDX_DTYPES.items()}
    code = codes.get(array.dtype.newbyteorder("=").str[1:])
    if code is None:
        raise TypeError(f"write_idx: IDX cannot hold dtype {array.dtype}")
    header = bytes([0, 0, code, array.ndim]) + np.asarray(array.shape, dtype=">u4").tobytes()
    payload = header + array.astype(IDX_DTYPES[code]).tobytes()
    Path(path).write_bytes(gzip.compress(payload, mtime=0) if str(path).endswith(".gz") else payload)
