"""safetensors files: 0-d tensors keep their shape both ways (chainrule ↔ torch); a file that is not
valid safetensors, or holds a dtype NumPy lacks, raises ValueError naming the file; saving into a
missing folder names the target and the folder. Every zoo model's round trip: tests/models/test_zoo.py."""
import json

import numpy as np
import pytest
import safetensors.numpy
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


# ----- chainrule.save / chainrule.load ------------------------------------------------------------------
def test_state_dict_round_trip_as_torch_habits(tmp_path):
    model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.Linear(4, 2))
    path = tmp_path / "model.safetensors"
    cr.save(model.state_dict(), path)
    loaded = cr.load(path)
    assert list(loaded) == list(model.state_dict()) and type(loaded) is type(model.state_dict())
    fresh = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.Linear(4, 2))
    fresh.load_state_dict(cr.load(path))
    x = cr.randn(5, 3)
    model.eval(), fresh.eval()
    np.testing.assert_array_equal(fresh(x).detach().numpy(), model(x).detach().numpy())


def test_file_is_valid_safetensors_with_the_state_dict_names(tmp_path):
    model = nn.Linear(3, 2)
    path = tmp_path / "m.safetensors"
    cr.save({"model": model.state_dict(), "step": 7}, path)
    arrays = safetensors.numpy.load_file(str(path))
    assert set(arrays) == {"model.weight", "model.bias"}
    np.testing.assert_array_equal(arrays["model.weight"], model.weight.numpy(force=True))
    assert set(safetensors.torch.load_file(str(path))) == {"model.weight", "model.bias"}


def test_nested_structure_is_restored_exactly(tmp_path):
    from collections import OrderedDict

    t = cr.tensor([[1.0, 2.0]], dtype=cr.float64)
    obj = {
        "tensors": [t, cr.tensor(3), cr.zeros(0, 2), cr.tensor([True, False])],
        "numbers": (1, -2**70, 2.5, float("inf"), True, None),
        "nan": float("nan"),
        "text": "héllo",
        "array": np.arange(4, dtype=np.int16),
        "scalar": np.float32(1.5),
        "ordered": OrderedDict([("b", 1), ("a", 2)]),
        3: {"int keys": "kept", 0.5: "float keys", None: "None keys", False: "bool keys"},
        "empty": ([], (), {}),
        "grad": cr.tensor([1.0], requires_grad=True),
    }
    cr.save(obj, tmp_path / "c.st")
    back = cr.load(tmp_path / "c.st")
    assert list(back) == list(obj) and back[3] == obj[3] and back["empty"] == ([], (), {})
    assert back["numbers"] == obj["numbers"] and back["text"] == "héllo" and np.isnan(back["nan"])
    assert type(back["ordered"]) is OrderedDict and list(back["ordered"].items()) == [("b", 1), ("a", 2)]
    for ours, theirs in zip(back["tensors"], obj["tensors"]):
        assert isinstance(ours, cr.Tensor) and ours.dtype == theirs.dtype and ours.shape == theirs.shape
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    assert type(back["array"]) is np.ndarray and back["array"].dtype == np.int16
    assert type(back["scalar"]) is np.float32 and back["scalar"] == 1.5
    assert back["grad"].requires_grad and not back["tensors"][0].requires_grad


def test_a_tensor_saved_twice_loads_as_one_object(tmp_path):
    t = cr.ones(3)
    cr.save({"a": t, "b": [t]}, tmp_path / "s.st")
    back = cr.load(tmp_path / "s.st")
    assert back["a"] is back["b"][0]
    assert len(safetensors.numpy.load_file(str(tmp_path / "s.st"))) == 1


def test_colliding_tensor_names_stay_apart(tmp_path):
    obj = {"a.b": cr.ones(1), "a": {"b": cr.zeros(1)}}
    cr.save(obj, tmp_path / "n.st")
    back = cr.load(tmp_path / "n.st")
    assert back["a.b"].tolist() == [1.0] and back["a"]["b"].tolist() == [0.0]


def test_optimizer_checkpoint_round_trip(tmp_path):
    model = nn.Linear(2, 1)
    opt = cr.optim.Adam(model.parameters(), lr=0.1)
    model(cr.randn(4, 2)).sum().backward()
    opt.step()
    cr.save({"model": model.state_dict(), "optimizer": opt.state_dict(), "epoch": 1}, tmp_path / "ckpt.st")
    ckpt = cr.load(tmp_path / "ckpt.st")
    opt2 = cr.optim.Adam(nn.Linear(2, 1).parameters(), lr=0.1)
    opt2.load_state_dict(ckpt["optimizer"])
    assert ckpt["optimizer"]["param_groups"][0]["betas"] == (0.9, 0.999)
    np.testing.assert_array_equal(opt2.state_dict()["state"][0]["exp_avg"], opt.state_dict()["state"][0]["exp_avg"])


def test_save_to_and_load_from_a_file_object(tmp_path):
    import io

    buffer = io.BytesIO()
    cr.save({"x": cr.arange(3)}, buffer)
    buffer.seek(0)
    assert cr.load(buffer)["x"].tolist() == [0, 1, 2]
    with pytest.raises(ValueError, match="file object does not hold a safetensors file"):
        cr.load(io.BytesIO(b"\x10" + b"\x00" * 7 + b"not json at all!"))


def test_load_of_a_plain_safetensors_file_gives_tensors(tmp_path):
    safetensors.torch.save_file({"w": torch.ones(2, 2), "b": torch.zeros(2, dtype=torch.bfloat16)},
                                str(tmp_path / "t.st"))
    back = cr.load(tmp_path / "t.st", map_location="cpu", weights_only=True)
    assert isinstance(back["w"], cr.Tensor) and back["w"].tolist() == [[1.0, 1.0], [1.0, 1.0]]
    assert back["b"].dtype == cr.float32  # bfloat16 widened


@pytest.mark.parametrize(("obj", "where"), [
    ({"a": [1, {"b": object()}]}, r"obj\['a'\]\[1\]\['b'\] has type object"),
    ([cr.ones(1), {1, 2}], r"obj\[1\] has type set"),
    ({"z": np.array([1j])}, r"obj\['z'\] is a ndarray of dtype complex128"),
    ({(1, 2): cr.ones(1)}, r"obj has a key of type tuple"),
])
def test_unsupported_objects_name_their_path(tmp_path, obj, where):
    with pytest.raises(TypeError, match=where):
        cr.save(obj, tmp_path / "bad.st")
    assert not (tmp_path / "bad.st").exists()


def test_save_is_atomic_and_load_checks(tmp_path, monkeypatch):
    path = tmp_path / "keep.st"
    cr.save({"v": cr.ones(2)}, path)
    monkeypatch.setattr(cr.io, "atomic_write", lambda p, data: (_ for _ in ()).throw(OSError("disk full")))
    with pytest.raises(OSError, match="disk full"):
        cr.save({"v": cr.zeros(2)}, path)
    assert cr.load(path)["v"].tolist() == [1.0, 1.0]
    with pytest.raises(RuntimeError, match="load: chainrule runs on the CPU only.*'cuda:0'"):
        cr.load(path, map_location="cuda:0")
    with pytest.raises(FileNotFoundError, match="no such file"):
        cr.load(tmp_path / "missing.st")
