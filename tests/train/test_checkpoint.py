"""Checkpoints: one safetensors file (the JSON state in its header), no pickle; every tensor (0-d
buffers and integer dtypes included), the optimizer's and scheduler's state and the random state come
back exactly; a flipped byte anywhere raises CheckpointError; a crash while writing leaves the
previous checkpoint intact; a checkpoint folder keeps the newest K and falls back past a corrupted
one; a process killed at any step of the protocol resumes to the weights of an uninterrupted run."""
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
from chainrule.train import CheckpointError, checkpoint_files, load_checkpoint, save_checkpoint, save_to_folder

from ..faults import PROTOCOL, killed_at


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


def _header(path):
    blob = path.read_bytes()
    (n,) = struct.unpack("<Q", blob[:8])  # safetensors: u64 header length, a JSON header, raw data
    return n, json.loads(blob[8 : 8 + n])


def test_one_safetensors_file_without_pickle(tmp_path, monkeypatch):
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
    assert _files(tmp_path) == ["c.safetensors"]
    _, header = _header(path)
    keys = set(header) - {"__metadata__"}
    assert {"model.0.weight", "model.1.num_batches_tracked", "model.4.bias"} <= keys
    assert {"optimizer.0.exp_avg", "optimizer.0.exp_avg_sq"} <= keys
    counter = header["model.1.num_batches_tracked"]
    assert counter["shape"] == [] and counter["dtype"] == "I64"
    meta = header["__metadata__"]
    assert meta["format"] == "chainrule-checkpoint-2" and {"state_sha256", "tensors_sha256"} <= set(meta)
    state = json.loads(meta["state"])
    assert state["info"] == {"epoch": 1} and {"rng", "optimizer", "scheduler"} <= set(state)
    assert state["optimizer"]["type"] == "Adam"
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
def test_a_flipped_byte_is_detected(saved, where):
    _flip(saved, len(saved.read_bytes()) // 2 if where == "middle" else where)
    with pytest.raises(CheckpointError, match="corrupted"):
        load_checkpoint(str(saved), _model())


@pytest.mark.parametrize("needle", [r'\"epoch\": 12', r'\"step\": 345', r'\"lr\"', r'\"momentum\": 0.9', '"format"',
                                    '"state_sha256"', '"tensors_sha256"', '"state"', '"SGD'])
def test_a_flipped_byte_in_the_state_is_detected(saved, needle):
    text = saved.read_bytes()
    _flip(saved, text.index(needle.encode()) + len(needle) - 1)
    with pytest.raises(CheckpointError, match="corrupted|format"):
        load_checkpoint(str(saved), _model(), optim.SGD(_model().parameters(), lr=0.1, momentum=0.9))


def test_every_byte_of_the_header_is_covered(tmp_path):
    path = tmp_path / "c.safetensors"
    save_checkpoint(str(path), nn.Linear(2, 2), epoch=3)
    original = path.read_bytes()
    n, _ = _header(path)
    for i in range(8 + n):
        data = bytearray(original)
        data[i] ^= 0x80 if i % 2 else 0x01  # the low bit (a digit, a letter changes) or the high (not UTF-8)
        if bytes(data[8:8 + n]).rstrip() == original[8:8 + n].rstrip():
            continue  # safetensors pads the header with spaces: a changed pad byte changes nothing read
        path.write_bytes(bytes(data))
        with pytest.raises(CheckpointError):
            load_checkpoint(str(path), restore_rng=False)


def test_truncated_or_missing_files_are_detected(saved):
    data = saved.read_bytes()
    for size in (len(data) - 10, 100, 8, 3, 0):
        saved.write_bytes(data[:size])
        with pytest.raises(CheckpointError, match=rf"{saved.name} is not a readable safetensors file"):
            load_checkpoint(str(saved), _model())
    saved.unlink()
    with pytest.raises(CheckpointError, match="does not exist"):
        load_checkpoint(str(saved), _model())


def test_asking_for_optimizer_state_that_was_not_saved(tmp_path):
    path = str(tmp_path / "c.safetensors")
    save_checkpoint(path, _model())
    with pytest.raises(CheckpointError, match="no optimizer state"):
        load_checkpoint(path, _model(), optim.SGD(_model().parameters(), lr=0.1))


def test_the_state_of_another_optimizer_is_refused_before_anything_loads(saved):
    model = _model(seed=7)
    before = _weights(model)
    with pytest.raises(CheckpointError, match="holds the state of a SGD optimizer, not of the Adam it is loaded into"):
        load_checkpoint(str(saved), model, optim.Adam(model.parameters()))
    for k, v in _weights(model).items():
        np.testing.assert_array_equal(v, before[k])


@pytest.mark.parametrize("exc", [OSError(28, "No space left on device"), KeyboardInterrupt()])
def test_a_crash_while_writing_keeps_the_previous_checkpoint(saved, monkeypatch, exc):
    folder = saved.parent
    before = saved.read_bytes()
    model = _model()
    load_checkpoint(str(saved), model)
    old = _weights(model)
    real_write = os.write

    def write(fd, data):
        real_write(fd, bytes(data)[: len(data) // 2])  # half of it, then a full disk or a Ctrl-C
        raise exc

    monkeypatch.setattr(os, "write", write)
    with pytest.raises(type(exc)):
        save_checkpoint(str(saved), _model(seed=3), epoch=13)
    monkeypatch.undo()
    assert _files(folder) == ["c.safetensors"], "no temporary file may be left behind"
    assert saved.read_bytes() == before
    fresh = _model(seed=4)
    assert load_checkpoint(str(saved), fresh)["epoch"] == 12
    for k, v in fresh.state_dict().items():
        np.testing.assert_array_equal(v.data, old[k])


def test_unserializable_info_keeps_the_previous_checkpoint(saved):
    before = saved.read_bytes()
    with pytest.raises(TypeError, match="JSON-serializable"):
        save_checkpoint(str(saved), _model(seed=3), epoch=13, callback=object())
    assert saved.read_bytes() == before and _files(saved.parent) == ["c.safetensors"]
    assert load_checkpoint(str(saved), _model())["epoch"] == 12


def test_saving_creates_the_folder_and_replaces_a_checkpoint(tmp_path):
    path = tmp_path / "a" / "b" / "c.safetensors"
    save_checkpoint(str(path), _model(), epoch=1)
    save_checkpoint(str(path), _model(seed=2), epoch=2)
    assert _files(path.parent) == ["c.safetensors"]
    assert oct(path.stat().st_mode & 0o777) == oct(0o666 & ~_umask()), "the permissions of a plain open()"
    fresh = _model(seed=5)
    assert load_checkpoint(str(path), fresh)["epoch"] == 2
    for k, v in _model(seed=2).state_dict().items():
        np.testing.assert_array_equal(fresh.state_dict()[k].data, v.data)


def _umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


def test_a_folder_keeps_the_newest_k_and_clears_stale_temporaries(tmp_path):
    folder = tmp_path / "checkpoints"
    folder.mkdir()
    (folder / ".tmp-x-epoch-0001.safetensors").write_bytes(b"half a checkpoint of a killed write")
    (folder / "notes.txt").write_text("mine")
    for epoch in range(1, 6):
        save_to_folder(str(folder), epoch, _model(seed=epoch), keep=3, step=10 * epoch)
    assert _files(folder) == ["epoch-0003.safetensors", "epoch-0004.safetensors", "epoch-0005.safetensors", "notes.txt"]
    assert checkpoint_files(str(folder))[0].endswith("epoch-0005.safetensors")
    assert load_checkpoint(str(folder), restore_rng=False) == {"epoch": 5, "step": 50}
    with pytest.raises(ValueError, match="keep must be at least 1"):
        save_to_folder(str(folder), 6, _model(), keep=0)


def test_a_corrupted_newest_checkpoint_falls_back_with_a_warning_naming_both(tmp_path):
    folder = tmp_path / "checkpoints"
    for epoch in (1, 2, 3):
        save_to_folder(str(folder), epoch, _model(seed=epoch), keep=3)
    _flip(folder / "epoch-0003.safetensors", -3)
    _flip(folder / "epoch-0002.safetensors", 30)
    fresh = _model(seed=9)
    with pytest.warns(RuntimeWarning, match=r"epoch-0003\.safetensors .*corrupted.*epoch-0002\.safetensors .*"
                                            r"falling back to .*epoch-0001\.safetensors"):
        assert load_checkpoint(str(folder), fresh, restore_rng=False)["epoch"] == 1
    for k, v in _model(seed=1).state_dict().items():
        np.testing.assert_array_equal(fresh.state_dict()[k].data, v.data)
    _flip(folder / "epoch-0001.safetensors", -1)
    with pytest.raises(CheckpointError, match="every checkpoint in .* is unreadable"):
        load_checkpoint(str(folder), restore_rng=False)
    with pytest.raises(CheckpointError, match="no checkpoint in"):
        load_checkpoint(str(tmp_path), restore_rng=False)


# -- a process killed at every step of the protocol -------------------------------------------------------


def _fit(folder, epochs=3, keep=2):
    """A deterministic little run: the same seed, model and loader in every process."""
    from chainrule.data import ArrayDataset, DataLoader
    from chainrule.train import fit

    cr.manual_seed(0)
    model = _model()
    opt = optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    sched = lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)
    rng = np.random.default_rng(0)
    data = ArrayDataset(rng.standard_normal((48, 1, 4, 4)).astype(np.float32), rng.integers(0, 4, 48))
    loader = DataLoader(data, batch_size=16, shuffle=True, seed=0)
    fit(model, loader, cross_entropy, opt, epochs, scheduler=sched, checkpoint_dir=str(folder), keep=keep,
        resume=True, quiet=True)
    return _weights(model)


def _count_protocol_calls(monkeypatch, folder):
    count = [0]
    for name in PROTOCOL:
        real = getattr(os, name)
        monkeypatch.setattr(os, name, lambda *a, _real=real, **k: count.__setitem__(0, count[0] + 1) or _real(*a, **k))
    expected = _fit(folder)
    monkeypatch.undo()
    return count[0], expected


def test_a_kill_at_any_step_of_the_protocol_resumes_to_the_uninterrupted_weights(tmp_path, monkeypatch):
    calls, expected = _count_protocol_calls(monkeypatch, tmp_path / "reference")
    assert calls >= 3 * 4  # per epoch at least: write, fsync (file), replace, fsync (folder)
    for k in range(1, calls + 1):
        folder = tmp_path / f"kill-{k}"
        assert killed_at(k, lambda: _fit(folder)), f"the child did not reach protocol call {k}"
        weights = _fit(folder)  # resume from whatever the kill left
        for name, value in weights.items():
            np.testing.assert_array_equal(value, expected[name], err_msg=f"{name} after a kill at call {k}")
        assert [f for f in os.listdir(folder)] and not [f for f in os.listdir(folder) if f.startswith(".tmp-")]
        kept = checkpoint_files(str(folder))
        assert kept[0].endswith("epoch-0003.safetensors")
        # a kill after the last commit (at its folder sync or the prune) leaves one more, pruned at the next write
        assert len(kept) == 2 or (len(kept) == 3 and k >= calls - 1)
