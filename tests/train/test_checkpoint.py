"""Checkpoints: tensors in safetensors, the rest in JSON, no pickle; every tensor (0-d buffers and
integer dtypes included), the optimizer's and scheduler's state and the random state come back
exactly; a flipped byte in either file raises CheckpointError; a crash while writing leaves the
previous checkpoint intact and no temporary file behind."""
import json
import os
import pickle
import struct

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn, optim
from chainrule.nn.functional import cross_entropy
from chainrule.optim import lr_scheduler
from chainrule.train import CheckpointError, load_checkpoint, save_checkpoint


def _model(seed=0):
    cr.manual_seed(seed)
    return nn.Sequential(nn.Conv2d(1, 3, 3), nn.BatchNorm2d(3), nn.ReLU(), nn.Flatten(), nn.Linear(12, 4))


def _batch(seed):
    rng = np.random.default_rng(seed)
    return cr.tensor(rng.standard_normal((8, 1, 4, 4)).astype(np.float32)), cr.tensor(rng.integers(0, 4, 8))


def _train(model, opt, sched, steps, first=0):
    model.train()
    for i in range(first, first + steps):
        x, y = _batch(i)
        opt.zero_grad()
        cross_entropy(model(x), y).backward()
        opt.step()
        if isinstance(sched, lr_scheduler.ReduceLROnPlateau):
            sched.step(10.0 - i if i % 3 else 20.0)
        elif sched is not None:
            sched.step()


def _weights(model):
    return {k: v.data.copy() for k, v in model.state_dict().items()}


def _files(folder):
    return sorted(os.listdir(folder))


OPTIMIZERS = {
    "sgd": lambda p: optim.SGD(p, lr=0.05, momentum=0.9, nesterov=True, weight_decay=1e-3),
    "adam": lambda p: optim.Adam(p, lr=1e-2, amsgrad=True),
    "adamw": lambda p: optim.AdamW(p, lr=1e-2),
    "rmsprop": lambda p: optim.RMSprop(p, lr=1e-3, momentum=0.5, centered=True),
    "adagrad": lambda p: optim.Adagrad(p, lr=1e-2),
    "adadelta": lambda p: optim.Adadelta(p),
}
SCHEDULERS = {
    "none": lambda o: None,
    "step": lambda o: lr_scheduler.StepLR(o, step_size=2, gamma=0.5),
    "cosine": lambda o: lr_scheduler.CosineAnnealingLR(o, T_max=5),
    "onecycle": lambda o: lr_scheduler.OneCycleLR(o, max_lr=0.1, total_steps=12),
    "plateau": lambda o: lr_scheduler.ReduceLROnPlateau(o, patience=0, factor=0.5),
}


@pytest.mark.parametrize("opt_name, sched_name", [(o, "step") for o in OPTIMIZERS] +
                         [("sgd", s) for s in SCHEDULERS if s != "step"] + [("adam", "onecycle")])
def test_continuing_from_a_checkpoint_equals_continuing_in_memory(tmp_path, opt_name, sched_name):
    path = str(tmp_path / "c.safetensors")
    model = _model()
    opt = OPTIMIZERS[opt_name](model.parameters())
    sched = SCHEDULERS[sched_name](opt)
    _train(model, opt, sched, 4)
    save_checkpoint(path, model, opt, sched, epoch=4)
    _train(model, opt, sched, 4, first=4)

    fresh = _model(seed=1)
    fresh_opt = OPTIMIZERS[opt_name](fresh.parameters())
    fresh_sched = SCHEDULERS[sched_name](fresh_opt)
    assert load_checkpoint(path, fresh, fresh_opt, fresh_sched) == {"epoch": 4}
    _train(fresh, fresh_opt, fresh_sched, 4, first=4)

    expected = _weights(model)
    for k, v in fresh.state_dict().items():
        np.testing.assert_array_equal(v.data, expected[k], err_msg=k)
    assert fresh_opt.param_groups[0].keys() == opt.param_groups[0].keys()
    for got, want in zip(fresh_opt.param_groups, opt.param_groups):
        assert {k: v for k, v in got.items() if k != "params"} == {k: v for k, v in want.items() if k != "params"}
    if sched is not None:
        assert fresh_sched.state_dict() == sched.state_dict()


def test_round_trip_keeps_values_shapes_and_dtypes(tmp_path):
    path = str(tmp_path / "c.safetensors")
    model = _model()
    opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    _train(model, opt, None, 2)
    model[1].num_batches_tracked.data[...] = 7  # a 0-d int64 buffer
    model.double()
    save_checkpoint(path, model, opt, epoch=3, step=17, note="x", acc=np.float32(0.5), seen=np.int64(9),
                    curve=np.arange(3))
    fresh = _model(seed=1).double()
    info = load_checkpoint(path, fresh)
    assert info == {"epoch": 3, "step": 17, "note": "x", "acc": 0.5, "seen": 9, "curve": [0, 1, 2]}
    expected = model.state_dict()
    assert list(fresh.state_dict()) == list(expected)
    for k, v in fresh.state_dict().items():
        assert v.shape == expected[k].shape and v.dtype == expected[k].dtype, k
        np.testing.assert_array_equal(v.data, expected[k].data, err_msg=k)
    assert fresh[1].num_batches_tracked.shape == () and int(fresh[1].num_batches_tracked.item()) == 7


def test_the_random_state_is_restored(tmp_path):
    path = str(tmp_path / "c.safetensors")
    cr.manual_seed(5)
    cr.randn(3)
    save_checkpoint(path, nn.Linear(2, 2))
    expected = cr.randn(4).data.copy()
    cr.manual_seed(123)
    load_checkpoint(path, restore_rng=False)
    assert not np.array_equal(cr.randn(4).data, expected)
    load_checkpoint(path)
    np.testing.assert_array_equal(cr.randn(4).data, expected)


def test_files_are_safetensors_and_json_without_pickle(tmp_path, monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("a checkpoint must not use pickle")

    for name in ("dump", "dumps", "load", "loads"):
        monkeypatch.setattr(pickle, name, refuse)
    monkeypatch.setattr(pickle, "Unpickler", refuse)
    path = tmp_path / "c.safetensors"
    model = _model()
    opt = optim.Adam(model.parameters())
    _train(model, opt, None, 1)
    save_checkpoint(str(path), model, opt, lr_scheduler.StepLR(opt, 1), epoch=1)
    assert _files(tmp_path) == ["c.json", "c.safetensors"]
    blob = path.read_bytes()
    (n,) = struct.unpack("<Q", blob[:8])  # safetensors: u64 header length, a JSON header, raw data
    header = json.loads(blob[8 : 8 + n])
    keys = set(header) - {"__metadata__"}
    assert {"model.0.weight", "model.1.num_batches_tracked", "model.4.bias"} <= keys
    assert {"optimizer.0.exp_avg", "optimizer.0.exp_avg_sq"} <= keys
    counter = header["model.1.num_batches_tracked"]
    assert counter["shape"] == [] and counter["dtype"] == "I64"
    meta = json.loads((tmp_path / "c.json").read_text())
    assert meta["info"] == {"epoch": 1} and meta["format"] == "chainrule-checkpoint-1"
    assert {"rng", "optimizer", "scheduler", "sha256"} <= set(meta)
    from safetensors.numpy import load_file

    np.testing.assert_array_equal(load_file(str(path))["model.0.weight"], model[0].weight.data)
    load_checkpoint(str(path), _model(), optim.Adam(_model().parameters()))


def _flip(path, index):
    data = bytearray(path.read_bytes())
    data[index % len(data)] ^= 0x01
    path.write_bytes(bytes(data))


@pytest.fixture
def saved(tmp_path):
    path = tmp_path / "c.safetensors"
    model = _model()
    opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    _train(model, opt, None, 1)
    save_checkpoint(str(path), model, opt, epoch=12, step=345)
    return path


@pytest.mark.parametrize("where", [0, 8, 20, 100, -1, -7, "middle"])
def test_a_flipped_byte_in_the_tensors_file_is_detected(saved, where):
    _flip(saved, len(saved.read_bytes()) // 2 if where == "middle" else where)
    with pytest.raises(CheckpointError, match="SHA-256"):
        load_checkpoint(str(saved), _model())


@pytest.mark.parametrize("needle", ['"epoch": 12', '"step": 345', '"lr"', '"momentum": 0.9', '"format"', '"sha256"',
                                    '"state"'])
def test_a_flipped_byte_in_the_json_is_detected(saved, needle):
    meta = saved.with_suffix(".json")
    text = meta.read_bytes()
    _flip(meta, text.index(needle.encode()) + len(needle) - 1)
    with pytest.raises(CheckpointError, match="corrupted"):
        load_checkpoint(str(saved), _model(), optim.SGD(_model().parameters(), lr=0.1, momentum=0.9))


def test_every_byte_of_the_json_is_covered(tmp_path):
    path = tmp_path / "c.safetensors"
    save_checkpoint(str(path), nn.Linear(2, 2), epoch=3)
    meta = path.with_suffix(".json")
    original = meta.read_bytes()
    for i in range(len(original)):
        data = bytearray(original)
        data[i] ^= 0x80 if i % 2 else 0x01  # the low bit (a digit, a letter changes) or the high (not UTF-8)
        meta.write_bytes(bytes(data))
        with pytest.raises(CheckpointError):
            load_checkpoint(str(path), restore_rng=False)


def test_truncated_or_missing_files_are_detected(saved):
    meta = saved.with_suffix(".json")
    saved.write_bytes(saved.read_bytes()[:-10])
    with pytest.raises(CheckpointError, match="corrupted"):
        load_checkpoint(str(saved), _model())
    meta.write_text(meta.read_text()[:50])
    with pytest.raises(CheckpointError, match="not valid JSON"):
        load_checkpoint(str(saved), _model())
    meta.unlink()
    with pytest.raises(CheckpointError, match="does not exist"):
        load_checkpoint(str(saved), _model())
    with pytest.raises(CheckpointError, match="does not exist"):
        load_checkpoint(str(saved.parent / "other.safetensors"))


def test_asking_for_optimizer_state_that_was_not_saved(tmp_path):
    path = str(tmp_path / "c.safetensors")
    save_checkpoint(path, _model())
    with pytest.raises(CheckpointError, match="no optimizer state"):
        load_checkpoint(path, _model(), optim.SGD(_model().parameters(), lr=0.1))


class _CrashingFile:
    """Writes half of what it is given, then fails like a full disk or a killed process."""

    def __init__(self, f, exc):
        self.f, self.exc = f, exc

    def write(self, data):
        self.f.write(bytes(data)[: len(data) // 2])
        raise self.exc

    def __getattr__(self, name):
        return getattr(self.f, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.f.close()
        return False


@pytest.mark.parametrize("exc", [OSError(28, "No space left on device"), KeyboardInterrupt()])
@pytest.mark.parametrize("crash_on", [1, 2], ids=["first-file", "second-file"])
def test_a_crash_while_writing_keeps_the_previous_checkpoint(saved, monkeypatch, crash_on, exc):
    folder = saved.parent
    before = {name: (folder / name).read_bytes() for name in _files(folder)}
    model = _model()
    load_checkpoint(str(saved), model)
    old = _weights(model)

    opened = []
    real_fdopen = os.fdopen

    def fdopen(fd, *args, **kwargs):
        f = real_fdopen(fd, *args, **kwargs)
        opened.append(fd)
        return _CrashingFile(f, exc) if len(opened) == crash_on else f

    newer = _model(seed=3)
    monkeypatch.setattr(os, "fdopen", fdopen)
    with pytest.raises(type(exc)):
        save_checkpoint(str(saved), newer, epoch=13)
    monkeypatch.undo()
    assert len(opened) == crash_on

    assert _files(folder) == ["c.json", "c.safetensors"], "no temporary file may be left behind"
    assert {name: (folder / name).read_bytes() for name in _files(folder)} == before
    fresh = _model(seed=4)
    assert load_checkpoint(str(saved), fresh)["epoch"] == 12
    for k, v in fresh.state_dict().items():
        np.testing.assert_array_equal(v.data, old[k])


def test_unserializable_info_keeps_the_previous_checkpoint(saved):
    folder = saved.parent
    before = {name: (folder / name).read_bytes() for name in _files(folder)}
    with pytest.raises(TypeError, match="JSON-serializable"):
        save_checkpoint(str(saved), _model(seed=3), epoch=13, callback=object())
    assert {name: (folder / name).read_bytes() for name in _files(folder)} == before
    assert load_checkpoint(str(saved), _model())["epoch"] == 12


def test_saving_creates_the_folder_and_replaces_a_checkpoint(tmp_path):
    path = tmp_path / "a" / "b" / "c.safetensors"
    save_checkpoint(str(path), _model(), epoch=1)
    save_checkpoint(str(path), _model(seed=2), epoch=2)
    assert _files(path.parent) == ["c.json", "c.safetensors"]
    fresh = _model(seed=5)
    assert load_checkpoint(str(path), fresh)["epoch"] == 2
    for k, v in _model(seed=2).state_dict().items():
        np.testing.assert_array_equal(fresh.state_dict()[k].data, v.data)
