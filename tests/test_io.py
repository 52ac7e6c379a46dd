"""safetensors files: 0-d tensors keep their shape both ways (chainrule ↔ torch); a file that is not
valid safetensors, or holds a dtype NumPy lacks, raises ValueError naming the file; saving into a
missing folder names the target and the folder. Every zoo model's round trip: tests/models/test_zoo.py."""
import json

import numpy as np
import pytest
import safetensors.torch
import torch

import chainrule as cr
from chainrule import nn


def test_zero_dim_tensors_keep_their_shape(tmp_path):
    bn = nn.BatchNorm1d(3)
    path = tmp_path / "bn.safetensors"
    cr.save_file({**bn.state_dict(), "scalar": np.float64(2.5)}, path)
    back = cr.load_file(path)
    assert back["num_batches_tracked"].shape == () and back["num_batches_tracked"].dtype == np.int64
    assert back["scalar"].shape == () and back["scalar"] == 2.5
    nn.BatchNorm1d(3).load_state_dict({k: v for k, v in back.items() if k != "scalar"})
    assert safetensors.torch.load_file(str(path))["num_batches_tracked"].shape == torch.Size([])


def _file(header, data):
    """A safetensors file from a header dict and the data bytes."""
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    return len(text).to_bytes(8, "little") + text + data


W = {"dtype": "F32", "shape": [2, 3], "data_offsets": [0, 24]}
GOOD = _file({"w": W}, bytes(24))
MALFORMED = {
    "random bytes": np.random.default_rng(0).bytes(256),
    "empty": b"",
    "shorter than the length field": GOOD[:5],
    "truncated header": GOOD[:20],
    "truncated data": GOOD[:-4],
    "header not JSON": (16).to_bytes(8, "little") + b'{"w": {,,,}}    ',
    "header not an object": _file([1, 2], b""),
    "offsets past the end": _file({"w": {**W, "data_offsets": [0, 1 << 20]}}, bytes(24)),
    "offsets reversed": _file({"w": {**W, "data_offsets": [24, 0]}}, bytes(24)),
    "shape disagrees with offsets": _file({"w": {**W, "shape": [5, 5]}}, bytes(24)),
    "unknown dtype": _file({"w": {**W, "dtype": "F99"}}, bytes(24)),
    "no offsets": _file({"w": {"dtype": "F32", "shape": [2, 3]}}, bytes(24)),
    "bfloat16 past the end": _file({"w": {"dtype": "BF16", "shape": [4], "data_offsets": [0, 1 << 20]}}, bytes(8)),
    "bfloat16 shape disagrees": _file({"w": {"dtype": "BF16", "shape": [5], "data_offsets": [0, 8]}}, bytes(8)),
    "metadata not strings": _file({"w": W, "__metadata__": {"epoch": 3}}, bytes(24)),
}


def test_the_good_file_loads(tmp_path):
    (tmp_path / "good.safetensors").write_bytes(GOOD)
    np.testing.assert_array_equal(cr.load_file(tmp_path / "good.safetensors")["w"], np.zeros((2, 3), np.float32))


@pytest.mark.parametrize("why", list(MALFORMED))
def test_malformed_file_is_named(why, tmp_path):
    path = tmp_path / "weights.safetensors"
    path.write_bytes(MALFORMED[why])
    with pytest.raises(ValueError, match="not a safetensors file") as info:
        cr.load_file(path)
    assert str(path) in str(info.value)


def test_dtype_numpy_lacks_is_named(tmp_path):
    path = tmp_path / "f8.safetensors"
    safetensors.torch.save_file({"w": torch.zeros(4, dtype=torch.float8_e4m3fn)}, str(path))
    with pytest.raises(ValueError, match=r"tensor 'w' has dtype F8_E4M3, which NumPy cannot hold") as info:
        cr.load_file(path)
    assert str(path) in str(info.value)


def test_save_into_a_missing_folder_names_the_target(tmp_path):
    target = tmp_path / "run" / "w.safetensors"
    with pytest.raises(FileNotFoundError) as info:
        cr.save_file({"w": np.zeros(2)}, target)
    assert str(info.value) == f"save_file: folder {tmp_path / 'run'} does not exist (for {target})"
    with pytest.raises(IsADirectoryError, match=f"save_file: {tmp_path} is a folder"):
        cr.save_file({"w": np.zeros(2)}, tmp_path)
    assert list(tmp_path.iterdir()) == []  # no temporary file left behind


def test_a_dtype_safetensors_cannot_store_is_named(tmp_path):
    target = tmp_path / "w.safetensors"
    with pytest.raises(TypeError, match=r"save_file: .*\{'z': 'complex128'\} cannot be written to .*w\.safetensors"):
        cr.save_file({"ok": np.zeros(2), "z": np.zeros(2, dtype=np.complex128)}, target)
    assert list(tmp_path.iterdir()) == []
