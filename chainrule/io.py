"""Tensors to and from **safetensors** files, the format PyTorch users share weights in.

    sd = chainrule.load_file("resnet18.safetensors")   # saved from torch: safetensors.torch.save_file(m.state_dict(), ...)
    model.load_state_dict(sd)                          # same names as torchvision: see chainrule.models
    chainrule.save_file(model.state_dict(), "mine.safetensors")   # loadable by safetensors.torch.load_file

A safetensors file is an 8-byte little-endian header length, a JSON header (name → dtype, shape,
byte range) and the raw little-endian bytes: no pickle, so loading a file runs no code.

``chainrule.save(obj, path)`` / ``chainrule.load(path)`` are torch's habits on the same format: ``obj``
may nest dicts (also OrderedDicts, with str, int, float, bool or None keys), lists and tuples of
Tensors, arrays, numbers, strings, bools and None — a model's or an optimizer's state dict, a
checkpoint. The tensors go in the body, the structure as JSON in the header's metadata, so any
safetensors reader gets the tensors and ``load`` gets the object back as it was.

    chainrule.save(model.state_dict(), "model.safetensors")
    model.load_state_dict(chainrule.load("model.safetensors"))
"""
import io
import json
import os
import tempfile
from collections import OrderedDict
from pathlib import Path

import numpy as np
import safetensors.numpy

from .tensor import Tensor

__all__ = ["atomic_write", "load", "load_file", "save", "save_file"]


def _as_array(name, value):
    data = value.data if isinstance(value, Tensor) else value
    if not isinstance(data, np.ndarray):
        if type(data).__module__.startswith("torch"):
            data = data.detach().cpu().numpy()  # a torch tensor handed over directly
        else:
            data = np.asarray(data)
    if data.dtype == object:
        raise TypeError(f"save_file: {name!r} holds objects of type {type(value).__name__}, not numbers")
    return np.require(data, requirements="C")  # not ascontiguousarray: that turns a 0-d array into shape (1,)


TMP_PREFIX = ".tmp-"
_UMASK = os.umask(0o022)
os.umask(_UMASK)  # read once: files get the permissions a plain open() would give them (mkstemp's are 0600)


def _write_all(fd, data):
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def fsync_folder(folder):
    """Sync a folder's entries (a rename is durable only once its folder is synced)."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def atomic_write(path, data):
    """Write ``data`` (bytes) to ``path`` in one atomic step: a temporary file in the same folder,
    synced, then ``os.replace``d onto ``path`` and the folder synced. A crash at any point leaves
    ``path`` as it was or complete — never partly written; the temporary file is removed on error
    (a kill leaves it behind, named ``.tmp-*``: ``remove_stale_temporaries`` clears those)."""
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise FileNotFoundError(f"cannot write {path}: the folder {folder} does not exist")
    if os.path.isdir(path):
        raise IsADirectoryError(f"cannot write {path}: it is a folder, not a file name")
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=TMP_PREFIX, suffix="-" + os.path.basename(path))
    try:
        try:
            os.fchmod(fd, 0o666 & ~_UMASK)
            _write_all(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise
    fsync_folder(folder)


def save_figure(fig, path, dpi=100):
    """Render a matplotlib figure to PNG in memory, close it and ``atomic_write`` it to ``path``: a kill
    mid-write leaves the previous picture, not half a PNG."""
    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi)
    plt.close(fig)
    atomic_write(path, buffer.getvalue())
    return path


def to_json(value, owner, **options):
    """``json.dumps(value, **options)`` that also writes NumPy values, a scalar as its Python number and
    an array as nested lists; anything else JSON cannot write raises a TypeError naming ``owner``."""

    def numpy_value(v):
        if isinstance(v, np.generic):
            return v.item()
        if isinstance(v, np.ndarray):
            return v.tolist()
        raise TypeError(f"{owner}: {type(v).__name__} is not JSON-serializable")

    return json.dumps(value, default=numpy_value, **options)


def remove_stale_temporaries(folder):
    """Delete the ``.tmp-*`` files that killed writes left in ``folder``."""
    for name in os.listdir(folder):
        if name.startswith(TMP_PREFIX):
            os.remove(os.path.join(folder, name))


def save_file(tensors, path, metadata=None):
    """Write ``tensors`` (name → Tensor or ndarray, e.g. ``model.state_dict()``) to ``path``.

    ``metadata``: an optional dict of str → str stored in the header. Written by ``atomic_write``:
    a crash never leaves a half-written file under ``path``.
    """
    if not isinstance(tensors, dict):
        raise TypeError(f"save_file: expected a dict of name → tensor, got {type(tensors).__name__}")
    bad = [k for k in tensors if not isinstance(k, str)]
    if bad:
        raise TypeError(f"save_file: tensor names must be strings, got {bad[:3]}")
    if metadata is not None and not all(isinstance(k, str) and isinstance(v, str) for k, v in metadata.items()):
        raise TypeError("save_file: metadata must map str to str")
    arrays = {k: _as_array(k, v) for k, v in tensors.items()}
    unstorable = {k: str(a.dtype) for k, a in arrays.items() if a.dtype.kind not in "biuf"}
    if unstorable:
        raise TypeError(f"save_file: safetensors stores booleans, integers and floats; {unstorable} cannot be "
                        f"written to {path}")
    path = Path(path)
    if not path.parent.is_dir():
        raise FileNotFoundError(f"save_file: folder {path.parent} does not exist (for {path})")
    if path.is_dir():
        raise IsADirectoryError(f"save_file: {path} is a folder, not a file name")
    atomic_write(path, safetensors.numpy.save(arrays, metadata=metadata))


def _header(path):
    """The JSON header (name → dtype, shape, data_offsets) and the byte where the data starts; the file
    has already passed ``safe_open``'s checks."""
    with open(path, "rb") as f:
        n = int.from_bytes(f.read(8), "little")
        return json.loads(f.read(n)), 8 + n


def _bfloat16(path, info, start):
    """Widen a bfloat16 tensor (NumPy has no such dtype) to float32 exactly: a bfloat16 is the top 16
    bits of a float32."""
    begin, end = info["data_offsets"]
    bits = np.fromfile(path, dtype="<u2", count=(end - begin) // 2, offset=start + begin).astype(np.uint32) << 16
    return bits.view(np.float32).reshape(info["shape"])


def _numpy(f, name, dtype, path):
    """One tensor of the open file ``f`` as an ndarray."""
    try:
        return f.get_tensor(name)
    except (TypeError, AttributeError):  # safetensors asks NumPy for a dtype it lacks (float8, float4, ...)
        raise ValueError(f"load_file: {path}: tensor {name!r} has dtype {dtype}, which NumPy cannot hold") from None


def load_file(path):
    """Read a safetensors file into a dict name → ``np.ndarray`` (bfloat16 widened to float32), ready
    for ``Module.load_state_dict``. A file that is not valid safetensors (truncated, a bad header,
    offsets past the end) raises ValueError naming it."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"load_file: no such file: {path}")
    try:
        with safetensors.safe_open(path, framework="np") as f:  # checks the header: JSON, dtypes, shapes, offsets
            dtypes = {name: f.get_slice(name).get_dtype() for name in f.keys()}  # noqa: SIM118 - a safe_open handle, not a dict
            out = {name: _numpy(f, name, dtype, path) for name, dtype in dtypes.items() if dtype != "BF16"}
    except safetensors.SafetensorError as e:
        raise ValueError(f"load_file: {path} is not a safetensors file ({e})") from None
    if "BF16" in dtypes.values():
        header, start = _header(path)
        out |= {name: _bfloat16(path, header[name], start) for name, dtype in dtypes.items() if dtype == "BF16"}
    return out


# ----- save / load: any nesting of containers, tensors and numbers (torch.save's habits) -----------
STRUCTURE_KEY = "chainrule.structure"
_KEY_TYPES = (str, bool, int, float, type(None))


def _tensor_name(path, taken):
    """The body's name for the tensor at ``path`` (the keys and indices that lead to it, joined by dots:
    a state dict's tensors keep their names), made unique with '#n' if an earlier name is the same."""
    name = ".".join(str(k) for k in path) or "tensor"
    candidate, n = name, 1
    while candidate in taken:
        candidate, n = f"{name}#{n}", n + 1
    return candidate


def _where(path):
    return "obj" + "".join(f"[{k!r}]" for k in path)


def _encode(value, path, arrays, seen):
    """The JSON node describing ``value``; its tensors go into ``arrays`` (name → ndarray). A tensor
    met twice is stored once and restored as one object (``seen``: id → name)."""
    if value is None or isinstance(value, (bool, str)):
        return {"value": value}
    if isinstance(value, int):
        return {"int": str(value)}  # a string: JSON readers differ on integers beyond 2^53
    if isinstance(value, float):
        return {"float": repr(value)}  # repr round-trips exactly, nan and inf included
    if isinstance(value, (Tensor, np.ndarray, np.generic)):
        kind = "tensor" if isinstance(value, Tensor) else "ndarray" if isinstance(value, np.ndarray) else "scalar"
        data = value.data if isinstance(value, Tensor) else np.asarray(value)
        if data.dtype.kind not in "biuf":
            raise TypeError(f"save: {_where(path)} is a {kind} of dtype {data.dtype}; safetensors stores booleans, "
                            "integers and floats")
        if id(value) not in seen:
            seen[id(value)] = _tensor_name(path, arrays)
            arrays[seen[id(value)]] = np.require(data, requirements="C")
        node = {kind: seen[id(value)]}
        if isinstance(value, Tensor) and value.requires_grad:
            node["requires_grad"] = True
        return node
    if isinstance(value, dict):
        bad = next((k for k in value if not isinstance(k, _KEY_TYPES)), None)
        if bad is not None:
            raise TypeError(f"save: {_where(path)} has a key of type {type(bad).__name__} ({bad!r}); keys must be "
                            "str, int, float, bool or None")
        items = [[_encode(k, path, {}, {}), _encode(v, (*path, k), arrays, seen)] for k, v in value.items()]
        return {"ordered_dict" if isinstance(value, OrderedDict) else "dict": items}
    if isinstance(value, (list, tuple)):
        kind = "tuple" if isinstance(value, tuple) else "list"
        return {kind: [_encode(v, (*path, i), arrays, seen) for i, v in enumerate(value)]}
    raise TypeError(f"save: {_where(path)} has type {type(value).__name__}, which save cannot store; it stores "
                    "Tensors, arrays, numbers, strings, bools, None and dicts, lists and tuples of them")


def _decode(node, arrays, made):
    (kind, content), *rest = node.items()
    if kind == "value":
        return content
    if kind == "int":
        return int(content)
    if kind == "float":
        return float(content)
    if kind in ("tensor", "ndarray", "scalar"):
        if content not in made:
            array = arrays[content]
            made[content] = (Tensor(array, requires_grad=bool(rest)) if kind == "tensor" else
                             array if kind == "ndarray" else array[()])
        return made[content]
    if kind in ("dict", "ordered_dict"):
        pairs = ((_decode(k, arrays, made), _decode(v, arrays, made)) for k, v in content)
        return OrderedDict(pairs) if kind == "ordered_dict" else dict(pairs)
    if kind in ("list", "tuple"):
        items = [_decode(v, arrays, made) for v in content]
        return tuple(items) if kind == "tuple" else items
    raise ValueError(f"load: unknown node {kind!r} in the file's structure")


def save(obj, f):
    """Write ``obj`` (nested dicts, lists, tuples of Tensors, arrays, numbers, strings; e.g.
    ``model.state_dict()``) to ``f`` — a path, written atomically by ``atomic_write``, or a binary file
    object — as a safetensors file: tensors in the body (named by their keys: a state dict's names),
    the structure as JSON in the header's metadata. No pickle. Anything else raises a TypeError naming
    where in ``obj`` it is."""
    arrays = {}
    structure = _encode(obj, (), arrays, {})
    data = safetensors.numpy.save(arrays, metadata={"format": "chainrule", STRUCTURE_KEY: json.dumps(structure)})
    if hasattr(f, "write"):
        f.write(data)
    else:
        atomic_write(f, data)


def _metadata(data, where):
    """The ``__metadata__`` of a safetensors header (the header is the JSON after an 8-byte length)."""
    n = int.from_bytes(data[:8], "little")
    try:
        return json.loads(data[8 : 8 + n]).get("__metadata__") or {}
    except (ValueError, UnicodeDecodeError, AttributeError):
        raise ValueError(f"load: {where} is not a safetensors file (its header is not JSON)") from None


def load(f, map_location=None, *, weights_only=True, mmap=None):
    """Read what ``save`` wrote, structure restored exactly (tensors as Tensors, arrays as arrays, the
    same containers and keys). Any other safetensors file loads as a dict name → Tensor. ``f``: a path or
    a binary file object. ``map_location`` may only name the CPU; ``weights_only`` and ``mmap`` are
    accepted for torch's signature — a safetensors file holds no code, so loading is always safe."""
    from .dtypes import check_device

    if not callable(map_location):
        check_device(map_location, "load")
    if hasattr(f, "read"):
        data = f.read()
        try:
            arrays = safetensors.numpy.load(data)
        except safetensors.SafetensorError as e:
            raise ValueError(f"load: the file object does not hold a safetensors file ({e})") from None
        metadata = _metadata(data, "the file object")
    else:
        arrays = load_file(f)
        with open(f, "rb") as file:
            n = int.from_bytes(file.read(8), "little")
            metadata = _metadata(n.to_bytes(8, "little") + file.read(n), f)
    if STRUCTURE_KEY not in metadata:
        return {name: Tensor(array) for name, array in arrays.items()}
    return _decode(json.loads(metadata[STRUCTURE_KEY]), arrays, {})
