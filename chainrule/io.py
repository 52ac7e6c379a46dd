"""Tensors to and from **safetensors** files, the format PyTorch users share weights in.

    sd = chainrule.load_file("resnet18.safetensors")   # saved from torch: safetensors.torch.save_file(m.state_dict(), ...)
    model.load_state_dict(sd)                          # same names as torchvision: see chainrule.models
    chainrule.save_file(model.state_dict(), "mine.safetensors")   # loadable by safetensors.torch.load_file

A safetensors file is an 8-byte little-endian header length, a JSON header (name → dtype, shape,
byte range) and the raw little-endian bytes: no pickle, so loading a file runs no code.
"""
import json
import os
import tempfile
from pathlib import Path

import numpy as np
import safetensors.numpy

from .tensor import Tensor

__all__ = ["load_file", "save_file"]


def _as_array(name, value):
    data = value.data if isinstance(value, Tensor) else value
    if not isinstance(data, np.ndarray):
        if type(data).__module__.startswith("torch"):
            data = data.detach().cpu().numpy()  # a torch tensor handed over directly
        else:
            data = np.asarray(data)
    if data.dtype == object:
        raise TypeError(f"save_file: {name!r} holds objects of type {type(value).__name__}, not numbers")
    return np.ascontiguousarray(data)


def save_file(tensors, path, metadata=None):
    """Write ``tensors`` (name → Tensor or ndarray, e.g. ``model.state_dict()``) to ``path``.

    ``metadata``: an optional dict of str → str stored in the header. The file is written to a
    temporary file in the same folder and moved into place with ``os.replace``, so a crash never
    leaves a half-written file under ``path``.
    """
    if not isinstance(tensors, dict):
        raise TypeError(f"save_file: expected a dict of name → tensor, got {type(tensors).__name__}")
    bad = [k for k in tensors if not isinstance(k, str)]
    if bad:
        raise TypeError(f"save_file: tensor names must be strings, got {bad[:3]}")
    if metadata is not None and not all(isinstance(k, str) and isinstance(v, str) for k, v in metadata.items()):
        raise TypeError("save_file: metadata must map str to str")
    arrays = {k: _as_array(k, v) for k, v in tensors.items()}
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        safetensors.numpy.save_file(arrays, tmp, metadata=metadata)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


def _read_header(path):
    with open(path, "rb") as f:
        raw = f.read(8)
        if len(raw) < 8:
            raise ValueError(f"load_file: {path} is not a safetensors file (shorter than 8 bytes)")
        n = int.from_bytes(raw, "little")
        if n > os.path.getsize(path) - 8:
            raise ValueError(f"load_file: {path} is not a safetensors file (header length {n} exceeds the file)")
        try:
            return json.loads(f.read(n)), 8 + n
        except (UnicodeDecodeError, json.JSONDecodeError) as e:
            raise ValueError(f"load_file: {path} is not a safetensors file (bad header: {e})") from None


def _load_with_bfloat16(path, header, start):
    """Read every tensor by hand, widening bfloat16 (NumPy has no such dtype) to float32 exactly:
    a bfloat16 is the top 16 bits of a float32."""
    out = {}
    with open(path, "rb") as f:
        for name, info in header.items():
            if name == "__metadata__":
                continue
            begin, end = info["data_offsets"]
            f.seek(start + begin)
            buf = f.read(end - begin)
            if info["dtype"] == "BF16":
                bits = np.frombuffer(buf, dtype="<u2").astype(np.uint32) << 16
                out[name] = bits.view(np.float32).reshape(info["shape"])
            else:
                out[name] = safetensors.numpy.load(_single(name, info, buf))[name]
    return out


def _single(name, info, buf):
    """The bytes of one tensor re-wrapped as a one-tensor safetensors blob (so dtype decoding stays the library's)."""
    header = json.dumps({name: {"dtype": info["dtype"], "shape": info["shape"], "data_offsets": [0, len(buf)]}})
    header = header.encode() + b" " * (-len(header) % 8)
    return len(header).to_bytes(8, "little") + header + buf


def load_file(path):
    """Read a safetensors file into a dict name → ``np.ndarray`` (bfloat16 widened to float32), ready
    for ``Module.load_state_dict``."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"load_file: no such file: {path}")
    header, start = _read_header(path)
    if any(isinstance(v, dict) and v.get("dtype") == "BF16" for v in header.values()):
        return _load_with_bfloat16(path, header, start)
    return dict(safetensors.numpy.load_file(str(path)))
