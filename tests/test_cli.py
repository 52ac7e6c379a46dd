"""The ``chainrule`` command end to end, as a user runs it: ``python -m chainrule.cli ...`` in a
temporary folder. ``train`` writes a complete run folder and a final JSON line; ``--resume``
continues it to the same weights an uninterrupted run reaches; ``evaluate`` reproduces the final
accuracy; ``summary``, ``models`` and ``datasets`` print what they promise; and every mistake a user
can make ends with exit status 2 and one line on stderr, never a traceback."""
import csv
import json
import math
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from safetensors.numpy import load_file

from chainrule import models
from chainrule.data.catalog import DATASETS, get_dataset
from chainrule.diagnostics import summary
from chainrule.train import checkpoint_files, load_checkpoint

from .faults import PROTOCOL, killed_at

REPO = Path(__file__).resolve().parents[1]
RUN_FILES = {"metrics.csv", "history.json", "checkpoints", "loss.png", "accuracy.png", "confusion.png", "gradflow.png",
             "summary.txt", "config.json"}
PNG = b"\x89PNG\r\n\x1a\n"


def chainrule(*args, cwd, **extra_env):
    """Run the command; one BLAS thread (its GEMMs are small and the machine is shared)."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
               OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", MPLBACKEND="Agg", **extra_env)
    env.pop("CHAINRULE_DEBUG", None)
    return subprocess.run([sys.executable, "-m", "chainrule.cli", *map(str, args)], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=600, check=False)


def succeeded(proc):
    assert proc.returncode == 0, f"exit status {proc.returncode}\nstdout:\n{proc.stdout}\nstderr:\n{proc.stderr}"
    assert "Traceback" not in proc.stderr
    return proc


def final_json(proc):
    return json.loads(proc.stdout.strip().splitlines()[-1])


def newest_checkpoint(run):
    return Path(checkpoint_files(str(run / "checkpoints"))[0])


def model_tensors(run):
    return {k: v for k, v in load_file(str(newest_checkpoint(run))).items() if k.startswith("model.")}


def without_seconds(epochs):
    return [{k: v for k, v in e.items() if k != "seconds"} for e in epochs]


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    return tmp_path_factory.mktemp("cli")


@pytest.fixture(scope="module")
def trained(workdir):
    """``chainrule train --epochs 2 --quiet --json --out run`` on the bundled digits."""
    proc = succeeded(chainrule("train", "--epochs", 2, "--quiet", "--json", "--out", "run", cwd=workdir))
    run = workdir / "run"
    return SimpleNamespace(proc=proc, run=run, result=final_json(proc),
                           history=json.loads((run / "history.json").read_text()))


def test_train_writes_a_complete_run_folder(trained):
    run, history = trained.run, trained.history
    assert RUN_FILES <= set(os.listdir(run))
    assert not [f for f in os.listdir(run) if f.startswith(".tmp")]
    for name in ("loss.png", "accuracy.png", "confusion.png", "gradflow.png"):
        assert (run / name).read_bytes()[:8] == PNG, name

    from chainrule import cli

    train_set, _, _ = cli._train_val_test(get_dataset("digits"), cli._parser().parse_args(["train"]))
    steps_per_epoch = sum(s["epoch"] == 1 for s in history["steps"])
    assert steps_per_epoch in (len(train_set) // 64, math.ceil(len(train_set) / 64))  # the last batch may be dropped
    assert [e["epoch"] for e in history["epochs"]] == [1, 2]
    assert len(history["steps"]) == 2 * steps_per_epoch
    assert [s["step"] for s in history["steps"]] == list(range(2 * steps_per_epoch))

    with open(run / "metrics.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == ["epoch", "train_loss", "train_accuracy", "lr", "val_loss", "val_accuracy", "seconds"]
    assert len(rows) == 2
    for row, epoch in zip(rows, history["epochs"]):
        for key, value in epoch.items():
            assert float(row[key]) == pytest.approx(value, rel=1e-12), key

    assert sorted(os.listdir(run / "checkpoints")) == ["epoch-0001.safetensors", "epoch-0002.safetensors"]
    info = load_checkpoint(str(run / "checkpoints"), restore_rng=False)
    assert info["epoch"] == 2 and info["step"] == 2 * steps_per_epoch

    config = json.loads((run / "config.json").read_text())
    assert config["model"] == "small_cnn" and config["dataset"] == "digits" and config["epochs"] == 2

    text = (run / "summary.txt").read_text()
    params = summary(models.small_cnn(), (1, 8, 8)).totals["params"]
    assert "SmallCNN: input 1×8×8" in text and f"params: {params:,}" in text

    assert json.loads((run / "gradflow.json").read_text())["grad_norms"]


def test_train_prints_a_final_json_line(trained):
    result, last, test = trained.result, trained.history["epochs"][-1], trained.history["test"]
    assert set(result) == {"run", "model", "dataset", "epochs", "val_accuracy", "val_loss", "test_accuracy", "test_loss",
                           "seconds"}
    assert result["run"] == "run" and result["model"] == "small_cnn" and result["dataset"] == "digits"
    assert result["epochs"] == 2
    assert (result["val_accuracy"], result["val_loss"]) == (last["val_accuracy"], last["val_loss"])
    assert result["test_accuracy"] == test["accuracy"] and result["test_loss"] == pytest.approx(test["loss"], rel=1e-9)
    lines = trained.proc.stdout.strip().splitlines()
    assert len(lines) == 2 and lines[0].startswith(f"test accuracy {100 * result['test_accuracy']:.2f}%")
    assert f"val accuracy {100 * result['val_accuracy']:.2f}%" in lines[0]
    assert "epoch" not in trained.proc.stderr  # --quiet: no per-epoch lines


def test_resume_continues_to_the_uninterrupted_run(trained, tmp_path):
    shutil.copytree(trained.run, tmp_path / "run")
    resumed = succeeded(chainrule("train", "--resume", "--out", "run", "--epochs", 3, "--quiet", "--json",
                                  cwd=tmp_path))
    result = final_json(resumed)
    assert result["epochs"] == 3 and result["model"] == "small_cnn"
    history = json.loads((tmp_path / "run" / "history.json").read_text())
    assert history["epochs"][:2] == trained.history["epochs"]  # the first two epochs are the saved ones
    assert history["steps"][: len(trained.history["steps"])] == trained.history["steps"]
    assert len(history["epochs"]) == 3 and len(history["steps"]) == 3 * len(trained.history["steps"]) // 2
    with open(tmp_path / "run" / "metrics.csv", newline="") as f:
        assert [row["epoch"] for row in csv.DictReader(f)] == ["1", "2", "3"]

    succeeded(chainrule("train", "--epochs", 3, "--quiet", "--json", "--out", "full", cwd=tmp_path))
    full = json.loads((tmp_path / "full" / "history.json").read_text())
    assert without_seconds(history["epochs"]) == without_seconds(full["epochs"])
    assert history["steps"] == full["steps"]
    expected = model_tensors(tmp_path / "full")
    got = model_tensors(tmp_path / "run")
    assert got.keys() == expected.keys()
    for k in expected:
        np.testing.assert_array_equal(got[k], expected[k], err_msg=f"{k} differs from the uninterrupted run")


def test_evaluate_reproduces_the_final_accuracy(trained, workdir):
    proc = succeeded(chainrule("evaluate", "run", "--json", cwd=workdir))
    result = final_json(proc)
    assert result["test_accuracy"] == trained.result["test_accuracy"]
    assert result["test_loss"] == pytest.approx(trained.result["test_loss"], rel=1e-9)
    assert proc.stdout.startswith(f"small_cnn on digits: test accuracy {100 * result['test_accuracy']:.2f}%")


def test_summary_lenet5(workdir):
    proc = succeeded(chainrule("summary", "lenet5", "--input", "1x28x28", cwd=workdir))
    assert "LeNet5: input 1×28×28" in proc.stdout and "params: 61,706" in proc.stdout
    assert "117.60K" in proc.stdout and "240.00K" in proc.stdout and "MACs: 416.52K" in proc.stdout
    data = json.loads(succeeded(chainrule("summary", "lenet5", "--input", "1x28x28", "--json", cwd=workdir)).stdout)
    assert data["totals"]["params"] == 61_706 and data["totals"]["macs"] == 416_520
    assert [r["macs"] for r in data["rows"] if r["type"] == "Conv2d"] == [117_600, 240_000]


def test_summary_mlp_is_sized_for_the_input(workdir):
    data = json.loads(succeeded(chainrule("summary", "mlp", "--input", "1x8x8", "--json", cwd=workdir)).stdout)
    assert data["totals"]["params"] == (64 * 128 + 128) + (128 * 128 + 128) + (128 * 10 + 10)


def test_models_lists_the_zoo(workdir):
    proc = succeeded(chainrule("models", cwd=workdir))
    listed = [line.split()[0] for line in proc.stdout.splitlines()]
    assert set(models.list_models()) <= set(listed)
    zoo = set(models.list_models())
    assert all(len(line.split()) > 1 for line in proc.stdout.splitlines() if line.split()[0] in zoo)  # described


def test_datasets_lists_the_catalog(workdir, tmp_path):
    proc = succeeded(chainrule("datasets", "--data-dir", tmp_path, cwd=workdir))
    lines = {line.split()[0]: line for line in proc.stdout.splitlines()}
    assert set(lines) == set(DATASETS)
    assert " available " in lines["digits"] and "[bundled]" in lines["digits"]
    assert " missing " in lines["mnist"] and f"[{tmp_path / 'mnist'}]" in lines["mnist"]
    assert "1×28×28" in lines["mnist"] and "10 classes" in lines["mnist"]


def _flip_a_byte(path):
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))


def _corrupted(run, dest):
    """A copy of the run whose every checkpoint has one flipped bit (one would fall back to the other)."""
    dest.mkdir()
    shutil.copy(run / "config.json", dest / "config.json")
    shutil.copytree(run / "checkpoints", dest / "checkpoints")
    for path in (dest / "checkpoints").iterdir():
        _flip_a_byte(path)
    return dest


def _wrong_model(run, dest):
    dest.mkdir()
    shutil.copy(run / "config.json", dest / "config.json")
    shutil.copytree(run / "checkpoints", dest / "checkpoints")
    config = json.loads((dest / "config.json").read_text())
    config["model"] = "mlp"  # its checkpoint holds small_cnn's tensors: every key is missing or unexpected
    (dest / "config.json").write_text(json.dumps(config))
    return dest


ERRORS = {
    "unknown-model": (["train", "--model", "resnet19", "--out", "x"],
                      r"unknown model 'resnet19'\. Did you mean [^.]*'resnet18'"),
    "unknown-model-summary": (["summary", "vgg61"], r"unknown model 'vgg61'\. Did you mean [^.]*'vgg16'"),
    "unknown-dataset": (["train", "--dataset", "mnsit", "--out", "x"],
                        r"unknown dataset 'mnsit'\. Did you mean 'mnist'"),
    "missing-files": (["train", "--dataset", "mnist", "--data-dir", "{empty}", "--out", "x"],
                      r"MNIST: could not find train-images-idx3-ubyte.* in any of: {empty}"),
    "input-too-small": (["summary", "resnet18", "--input", "3x8x8"],
                        r"resnet18: expected input \(N, 3, H, W\) with H, W >= 32, got shape \(1, 3, 8, 8\)"),
    "input-wrong-size": (["summary", "lenet5", "--input", "1x32x32"],
                         r"expected input \(N, 1, 28, 28\), got shape \(1, 1, 32, 32\)"),
    "train-input-too-small": (["train", "--model", "lenet5", "--out", "x"],
                              r"lenet5 \(classic\): expected input \(N, 1, 28, 28\), got shape \(1, 1, 8, 8\)"),
    "input-unreadable": (["summary", "lenet5", "--input", "28by28"], r"--input must look like 3x224x224"),
    "corrupted-checkpoint": (["evaluate", "{corrupted}"],
                             r"every checkpoint in .* is unreadable: .*epoch-0002.* do not match their recorded SHA-256"),
    "checkpoint-of-another-model": (["evaluate", "{wrong_model}"],  # a multi-line message, on one line
                                    r"loading into Sequential: missing keys: .* unexpected keys: "),
    "not-a-run": (["evaluate", "nowhere"], r"evaluate: nowhere is not a run folder \(nowhere.config\.json does not"),
    "resume-nothing": (["train", "--resume", "--out", "x"], r"--resume: x is not a run folder \(x.config\.json does not"),
    "zero-epochs": (["train", "--epochs", "0", "--out", "x"], r"--epochs must be at least 1, got 0"),
    "batch-larger-than-the-data": (["train", "--batch-size", "5000", "--out", "x"],  # 1347 less 10 % for validation
                                   (r"--batch-size 5000 is larger than the 1211 training samples of digits .* use at "
                                    r"most 1211")),
    "val-fraction-of-one": (["train", "--val-fraction", "1", "--out", "x"],
                            r"--val-fraction must be in \[0, 1\) \(0: no validation set\), got 1\.0"),
    "val-fraction-too-small": (["train", "--val-fraction", "0.0001", "--out", "x"],
                               r"--val-fraction 0.0001 of the 1347 training samples of digits holds no sample"),
    "dataset-in-capitals": (["train", "--dataset", "MNIST", "--out", "x"], r"unknown dataset 'MNIST'\. Did you mean 'mnist'\?"),
    "missing-files-speaks-cli": (["train", "--dataset", "cifar10", "--data-dir", "{empty}", "--out", "x"],
                                 (r"CIFAR10: could not find .*\. Give --data-dir a folder that holds cifar10/ .*`chainrule "
                                  r"datasets --data-dir DIR`")),
    "negative-clip": (["train", "--clip-grad", "-1", "--out", "x"], r"--clip-grad must be a positive number, got -1"),
    "zero-threads": (["train", "--threads", "0", "--out", "x"], r"--threads must be at least 1, got 0"),
    "negative-threads": (["train", "--threads", "-3", "--out", "x"],
                         r"--threads must be at least 1, got -3"),
    "zero-keep": (["train", "--keep", "0", "--out", "x"], r"--keep must be at least 1, got 0"),
    "resume-and-overwrite": (["train", "--resume", "--overwrite", "--out", "x"], r"give one of them"),
    "config-missing-a-key": (["train", "--resume", "--out", "{no_seed}"], r"config\.json lacks seed: not a config"),
    "config-of-zero-bytes": (["evaluate", "{empty_config}"], r"config\.json is not readable JSON .* corrupted"),
    "checkpoint-of-another-optimizer": (["train", "--resume", "--out", "{other_optimizer}", "--epochs", "3", "--quiet"],
                                        r"holds the state of a Adam optimizer, not of the SGD it is loaded into"),
    "mpiexec-without-distributed": (["train", "--out", "x", "env:PMI_SIZE=2", "env:PMI_RANK=0"],
                                    r"one of 2 processes started by mpiexec, but --distributed is not set"),
}


def _run_copy(run, dest, edit=None):
    """A copy of the run's config and checkpoints, its config changed by ``edit(config)``."""
    dest.mkdir()
    shutil.copytree(run / "checkpoints", dest / "checkpoints")
    config = json.loads((run / "config.json").read_text())
    (dest / "config.json").write_text(json.dumps(edit(config) if edit else config))
    return dest


def _empty_config(run, dest):
    _run_copy(run, dest)
    (dest / "config.json").write_bytes(b"")  # what a kill during a plain (non-atomic) write left
    return dest


PLACES = {
    "corrupted": _corrupted,
    "wrong_model": _wrong_model,
    "no_seed": lambda run, dest: _run_copy(run, dest, lambda c: {k: v for k, v in c.items() if k != "seed"}),
    "empty_config": _empty_config,
    "other_optimizer": lambda run, dest: _run_copy(run, dest, lambda c: dict(c, optimizer="sgd")),
}


def snapshot(folder):
    """Every file under ``folder`` with its bytes and modification time: 'nothing touched' is equality."""
    return {str(p.relative_to(folder)): (p.read_bytes(), p.stat().st_mtime_ns) for p in sorted(folder.rglob("*"))
            if p.is_file()}





@pytest.mark.parametrize("case", list(ERRORS))
def test_user_errors_end_with_one_line_and_status_2(case, trained, tmp_path):
    args, pattern = ERRORS[case]
    empty = tmp_path / "empty"
    empty.mkdir()
    places = {"empty": str(empty)}
    for name, make in PLACES.items():
        if "{" + name + "}" in " ".join(args):
            places[name] = str(make(trained.run, tmp_path / name))
    before = {name: snapshot(Path(place)) for name, place in places.items()}
    env = dict(a[len("env:"):].split("=") for a in args if a.startswith("env:"))
    args = [a.format(**places) for a in args if not a.startswith("env:")]
    pattern = pattern.replace("{empty}", str(empty).replace("\\", "\\\\"))
    proc = chainrule(*args, cwd=tmp_path, **env)
    assert proc.returncode == 2, f"exit status {proc.returncode}\nstderr:\n{proc.stderr}"
    assert proc.stdout == ""
    assert "Traceback" not in proc.stderr
    assert proc.stderr.endswith("\n") and proc.stderr.count("\n") == 1, f"not one line:\n{proc.stderr}"
    assert proc.stderr.startswith("chainrule: error: ")
    assert re.search(pattern, proc.stderr), proc.stderr
    assert not (tmp_path / "x").exists(), "a failed command must not leave a run folder behind"
    assert {name: snapshot(Path(place)) for name, place in places.items()} == before, "a failed command touched a run"


def test_an_existing_run_is_refused_and_left_untouched(trained, tmp_path):
    shutil.copytree(trained.run, tmp_path / "run")
    before = snapshot(tmp_path / "run")
    proc = chainrule("train", "--out", "run", "--epochs", 1, "--quiet", cwd=tmp_path)
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1
    assert "--out run already holds files (a run?); pass --resume to continue it or --overwrite" in proc.stderr
    assert snapshot(tmp_path / "run") == before


def test_overwrite_replaces_the_run_and_keeps_other_files(trained, tmp_path):
    shutil.copytree(trained.run, tmp_path / "run")
    (tmp_path / "run" / "notes.txt").write_text("mine")
    (tmp_path / "run" / "checkpoints" / "epoch-0009.safetensors").write_bytes(b"an old run's")
    succeeded(chainrule("train", "--out", "run", "--epochs", 1, "--quiet", "--overwrite", cwd=tmp_path))
    assert (tmp_path / "run" / "notes.txt").read_text() == "mine"
    assert sorted(os.listdir(tmp_path / "run" / "checkpoints")) == ["epoch-0001.safetensors"]
    assert json.loads((tmp_path / "run" / "history.json").read_text())["epochs"][-1]["epoch"] == 1


def test_resume_without_a_checkpoint_names_it_and_touches_nothing(trained, tmp_path):
    shutil.copytree(trained.run, tmp_path / "run")
    shutil.rmtree(tmp_path / "run" / "checkpoints")
    before = snapshot(tmp_path / "run")
    proc = chainrule("train", "--resume", "--out", "run", "--epochs", 3, cwd=tmp_path)
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1
    assert f"--resume: no checkpoint in {os.path.join('run', 'checkpoints')}" in proc.stderr
    assert snapshot(tmp_path / "run") == before


def test_a_corrupted_newest_checkpoint_falls_back_to_the_one_before(trained, tmp_path):
    shutil.copytree(trained.run, tmp_path / "run")
    _flip_a_byte(tmp_path / "run" / "checkpoints" / "epoch-0002.safetensors")
    proc = succeeded(chainrule("train", "--resume", "--out", "run", "--epochs", 2, "--quiet", "--json", cwd=tmp_path))
    assert "epoch-0002.safetensors do not match their recorded SHA-256" in proc.stderr
    assert "falling back to" in proc.stderr and "epoch-0001.safetensors" in proc.stderr
    # epoch 2 was trained again from epoch 1's checkpoint: the same weights as the first time
    assert final_json(proc)["test_accuracy"] == trained.result["test_accuracy"]
    history = json.loads((tmp_path / "run" / "history.json").read_text())
    assert history["steps"] == trained.history["steps"]


def test_resume_takes_the_saved_config_from_any_folder(tmp_path):
    """A file-backed dataset, a relative --data-dir, non-default flags; resumed and evaluated from another
    folder with no flags but --epochs; a conflicting flag names both values."""
    data = tmp_path / "a" / "data"
    shutil.copytree(REPO.parent / "shared" / "data" / "mnist1d", data / "mnist1d")
    args = ["--model", "mlp", "--dataset", "mnist1d", "--batch-size", 500, "--optimizer", "sgd", "--lr", 0.1]
    succeeded(chainrule("train", *args, "--data-dir", "data", "--epochs", 1, "--quiet", "--out", "run",
                        cwd=tmp_path / "a"))
    run = tmp_path / "a" / "run"
    config = json.loads((run / "config.json").read_text())
    assert config["data_dir"] == str(data.resolve()) and config["batch_size"] == 500 and config["epochs"] == 1
    elsewhere = tmp_path / "b"
    elsewhere.mkdir()

    before = snapshot(run)
    proc = chainrule("train", "--resume", "--out", run, "--batch-size", 64, "--model", "mlp", cwd=elsewhere)
    assert proc.returncode == 2 and "--batch-size 64 (the run has 500)" in proc.stderr
    assert snapshot(run) == before

    result = final_json(succeeded(chainrule("train", "--resume", "--out", run, "--epochs", 2, "--quiet", "--json",
                                            cwd=elsewhere)))
    assert result["epochs"] == 2 and result["dataset"] == "mnist1d"
    assert json.loads((run / "config.json").read_text()) == dict(config, epochs=2)
    steps = json.loads((run / "history.json").read_text())["steps"]
    assert len(steps) == 2 * (3600 // 500)  # the saved batch size, not the default 64; 4000 less 10 % for validation
    evaluated = final_json(succeeded(chainrule("evaluate", run, "--json", cwd=elsewhere)))
    assert evaluated["test_accuracy"] == result["test_accuracy"]


def test_config_is_written_only_when_it_changes(trained, tmp_path):
    shutil.copytree(trained.run, tmp_path / "run", copy_function=shutil.copy2)
    config = tmp_path / "run" / "config.json"
    before = config.stat()
    succeeded(chainrule("train", "--resume", "--out", "run", "--quiet", cwd=tmp_path))  # nothing left to train
    assert (config.stat().st_ino, config.stat().st_mtime_ns) == (before.st_ino, before.st_mtime_ns)


def test_out_of_memory_is_one_line_naming_the_batch_size(tmp_path, monkeypatch, capsys):
    import chainrule.train
    from chainrule import cli

    def fit(*args, **kwargs):
        raise MemoryError("Unable to allocate 9.00 GiB for an array with shape (64, 512, 224, 224)")

    monkeypatch.setattr(chainrule.train, "fit", fit)
    monkeypatch.delenv("CHAINRULE_DEBUG", raising=False)
    assert cli.main(["train", "--out", str(tmp_path / "x"), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("chainrule: error: out of memory with --batch-size 64")
    assert "try a smaller --batch-size" in err


# -- a process killed at every step of the writes up to the first checkpoint ------------------------------


def _train_in_process(run, *extra):
    from chainrule import cli

    return cli.main(["train", "--model", "mlp", "--epochs", "2", "--quiet", "--out", str(run), *extra])


def test_a_kill_at_any_write_until_the_first_checkpoint_loses_nothing(tmp_path, monkeypatch):
    """config.json is absent or complete at every instant; --resume (or, before the first checkpoint,
    --overwrite) ends on the weights of an uninterrupted run. (Every step of every later checkpoint
    write: tests/train/test_checkpoint.py.)"""
    from threadpoolctl import threadpool_limits

    calls = []
    for name in PROTOCOL:
        real = getattr(os, name)
        monkeypatch.setattr(os, name, lambda *a, _real=real, _name=name, **kw: calls.append((_name, a)) or _real(*a, **kw))
    with threadpool_limits(1):
        assert _train_in_process(tmp_path / "reference") == 0
    monkeypatch.undo()
    config = json.loads((tmp_path / "reference" / "config.json").read_text())
    expected = model_tensors(tmp_path / "reference")
    first = [i for i, (name, a) in enumerate(calls) if name == "replace" and a[1].endswith("epoch-0001.safetensors")]
    last = first[0] + 2  # through that rename's folder sync, 1-based
    assert [name for name, _ in calls[:4]] == ["write", "fsync", "replace", "fsync"]  # config.json first
    for k in range(1, last + 1):
        run = tmp_path / f"kill-{k}"
        assert killed_at(k, lambda: _train_in_process(run)), f"the child did not reach protocol call {k}"
        if (run / "config.json").exists():
            assert json.loads((run / "config.json").read_text()) == config, f"config.json after a kill at call {k}"
        resumable = checkpoint_files(str(run / "checkpoints"))
        with threadpool_limits(1):
            assert _train_in_process(run, "--resume" if resumable else "--overwrite") == 0, f"kill at call {k}"
        got = model_tensors(run)
        for name in expected:
            np.testing.assert_array_equal(got[name], expected[name], err_msg=f"{name} after a kill at call {k}")
        assert not [f for f in os.listdir(run) if f.startswith(".tmp-")]


def test_graph_writes_an_explorer_page_of_a_zoo_model(tmp_path):
    proc = succeeded(chainrule("graph", "lenet5", "--out", "lenet.html", cwd=tmp_path))
    assert proc.stdout.startswith("lenet.html: 13 ops, 11 leaves, 13 modules")
    page = (tmp_path / "lenet.html").read_text()
    data = json.loads(page.split('id="chainrule-graph">', 1)[1].split("</script>", 1)[0])
    assert data["backward_done"] and len(data["sweep"]) == len(data["nodes"]) - 1  # all but the input
    assert {n["shape"][0] for n in data["nodes"] if n["name"] == "input"} == {2}  # --batch 2, 1×28×28 by default
    proc = chainrule("graph", "lenet5", "--batch", 0, cwd=tmp_path)
    assert proc.returncode == 2 and "--batch must be at least 1, got 0" in proc.stderr


def test_train_graph_writes_the_first_step_and_changes_nothing_else(trained, tmp_path):
    result = final_json(succeeded(chainrule("train", "--epochs", 2, "--quiet", "--json", "--graph", "--out", "run",
                                            cwd=tmp_path)))
    assert result["test_accuracy"] == trained.result["test_accuracy"]  # the same run as without --graph
    expected, got = model_tensors(trained.run), model_tensors(tmp_path / "run")
    for k in expected:
        np.testing.assert_array_equal(got[k], expected[k], err_msg=k)
    page = (tmp_path / "run" / "graph.html").read_text()
    assert '"format": "chainrule-graph-1"' in page and '"backward_done": true' in page


# -- the front door: --version, plain listings, natural inputs, a closed pipe, the validation split ----------


def _main(capsys, *args):
    from chainrule import cli

    status = cli.main([str(a) for a in args])
    out, err = capsys.readouterr()
    return status, out, err


def test_version(capsys):
    import chainrule
    from chainrule import cli

    with pytest.raises(SystemExit) as exit_:
        cli.main(["--version"])
    assert exit_.value.code == 0 and capsys.readouterr().out == f"chainrule {chainrule.__version__}\n"


def test_models_prints_plain_whole_descriptions_in_columns(capsys):
    status, out, _ = _main(capsys, "models")
    assert status == 0 and "``" not in out and ":class:" not in out and "`" not in out
    lines = out.splitlines()
    assert lines[0].split() == ["model", "description"]
    column = lines[0].index("description")
    starts = [line for line in lines[1:] if line[:column].strip()]
    assert [line.split()[0] for line in starts] == models.list_models()
    assert all(line[:column].strip() == "" and line[column] != " " for line in lines[1:] if line not in starts)
    text = " ".join(" ".join(lines).split())
    assert "hidden Linear); dropout: p after each hidden activation." in text  # mlp's whole first paragraph
    assert "googlenet GoogLeNet (Inception v1): 6,624,904 parameters without the auxiliary heads (aux_logits=False)." \
        in text


def test_lab_list_is_in_aligned_wrapped_columns(capsys):
    from chainrule import lab

    status, out, _ = _main(capsys, "lab", "list")
    lines = out.splitlines()
    assert status == 0 and lines[0].split() == ["experiment", "notes", "claim"]
    claim = lines[0].index("claim")
    experiments = lab.experiments()
    starts = [line for line in lines[1:] if line[:claim].strip()]
    assert [line.split()[0] for line in starts] == list(experiments)
    assert all(len(line) <= max(80, claim + 30) for line in lines)
    assert all(line[claim] != " " for line in lines)  # every claim line starts in the claim column
    text = " ".join(" ".join(lines).split())
    for module in experiments.values():
        assert " ".join(module.CLAIM.split()) in text


def test_lab_reports_go_under_runs_by_default():
    from chainrule import cli

    for command in (["lab", "all"], ["lab", "run", "pooling-backward"]):
        assert cli._parser().parse_args(command).out == os.path.join("runs", "lab-report")
    assert "runs/" in (REPO / ".gitignore").read_text().split()


@pytest.mark.parametrize("name, size", [("lenet5", "1×28×28"), ("resnet20", "3×32×32"), ("lstm_classifier", "1×28×28"),
                                        ("small_cnn", "1×8×8")])
def test_summary_without_input_takes_the_natural_size(capsys, name, size):
    status, out, _ = _main(capsys, "summary", name)
    assert status == 0 and f": input {size}" in out


def test_summary_help_names_each_natural_size(capsys):
    from chainrule import cli

    with pytest.raises(SystemExit):
        cli.main(["summary", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    for part in ("1x28x28 for lenet5", "lstm_classifier and transformer_classifier", "3x32x32 for the CIFAR nets",
                 "resnet20", "1x8x8 for small_cnn and mlp", "3x224x224 for the ImageNet nets"):
        assert part in text


def test_summary_of_the_lstm_counts_macs_per_step_and_leaves_the_field_blank(capsys):
    status, out, _ = _main(capsys, "summary", "lstm_classifier", "--json")
    assert status == 0
    data = json.loads(out)
    lstm, fc = data["rows"]
    model = models.lstm_classifier()
    steps, hidden = 28, model.lstm.hidden_size  # 28 rows of 28 pixels
    per_step = 4 * hidden * (28 + hidden) + 4 * hidden * (hidden + hidden) * (model.lstm.num_layers - 1)
    assert lstm["macs"] == steps * per_step and lstm["params"] == sum(p.numel() for p in model.lstm.parameters())
    assert fc["macs"] == hidden * 10
    assert lstm["receptive_field"] is None and fc["receptive_field"] is None and lstm["jump"] is None
    _, table, _ = _main(capsys, "summary", "lstm_classifier")
    assert "RF, jump: blank after a recurrent or attention layer" in table
    assert "lstm   LSTM    28×128" in table and f"MACs: {steps * per_step / 1e6 + hidden * 10 / 1e6:.2f}M" in table


def test_summary_of_attention_counts_its_projections_and_products(capsys):
    data = json.loads(_main(capsys, "summary", "transformer_classifier", "--json")[1])
    attention = [r for r in data["rows"] if r["type"] == "MultiheadAttention"]
    L, E = 28, attention[0]["output_shape"][-1]
    assert attention and all(r["macs"] == 4 * L * E * E + 2 * L * L * E for r in attention)
    first = data["rows"].index(attention[0])
    assert all(r["receptive_field"] is None for r in data["rows"][first:])
    assert data["rows"][0]["name"] == "embed" and data["rows"][0]["receptive_field"] == 28  # one row, before attention


def test_a_closed_pipe_ends_quietly(workdir):
    """`chainrule summary --json | head`: the reader closes the pipe; no traceback, no error line."""
    env = dict(os.environ, PYTHONPATH=str(REPO), OPENBLAS_NUM_THREADS="1")
    proc = subprocess.Popen([sys.executable, "-m", "chainrule.cli", "summary", "resnet18", "--json"], cwd=workdir,
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdout.close()  # closed before the command writes
    assert proc.wait(timeout=300) == 141
    assert proc.stderr.read() == b""


def test_the_missing_data_message_speaks_the_command_line(tmp_path):
    for name in ("mnist", "fashion-mnist", "cifar10", "mnist1d"):
        with pytest.raises(FileNotFoundError) as error:
            get_dataset(name).load(str(tmp_path), False, 0)
        message = str(error.value)
        assert "download=True" not in message and "root=" not in message, message
        assert f"Give --data-dir a folder that holds {name}/" in message and str(tmp_path) in message


def test_the_validation_split_is_stratified_disjoint_and_seeded():
    from chainrule import cli

    args = cli._parser().parse_args(["train"])
    entry = get_dataset("digits")
    train, val, _ = cli._train_val_test(entry, args)
    full, _ = entry.load(None, False, 0)
    assert len(train) + len(val) == len(full) and len(val) == 136  # round(10 % of each class's count)
    assert not set(train.indices) & set(val.indices)
    labels = cli._labels(full)
    assert np.all(np.abs(np.bincount(labels[val.indices]) - 0.1 * np.bincount(labels)) <= 0.5)
    again = cli._train_val_test(entry, args)[1]
    np.testing.assert_array_equal(again.indices, val.indices)
    args.val_fraction = 0.0
    assert cli._train_val_test(entry, args)[1] is None


def test_augmentation_stays_out_of_the_validation_set():
    from chainrule import cli

    args = cli._parser().parse_args(["train", "--augment"])
    train, val, _ = cli._train_val_test(get_dataset("digits"), args)
    assert train.dataset.transform is not val.dataset.transform
    plain_val = cli._train_val_test(get_dataset("digits"), cli._parser().parse_args(["train"]))[1]
    np.testing.assert_array_equal(val[np.arange(5)][0].data, plain_val[np.arange(5)][0].data)


def test_no_validation_set_and_a_run_from_before_the_split_resumes(trained, tmp_path):
    """--val-fraction 0: no val_* columns; an old run's config without val_fraction resumes without a split."""
    proc = succeeded(chainrule("train", "--model", "mlp", "--epochs", 1, "--val-fraction", 0, "--quiet", "--json",
                               "--out", "plain", cwd=tmp_path))
    history = json.loads((tmp_path / "plain" / "history.json").read_text())
    assert "val_loss" not in history["epochs"][0] and final_json(proc)["val_accuracy"] is None
    assert sum(s["epoch"] == 1 for s in history["steps"]) == 1347 // 64
    config = json.loads((tmp_path / "plain" / "config.json").read_text())
    del config["val_fraction"]
    (tmp_path / "plain" / "config.json").write_text(json.dumps(config))
    succeeded(chainrule("train", "--resume", "--out", "plain", "--epochs", 2, "--quiet", cwd=tmp_path))
    history = json.loads((tmp_path / "plain" / "history.json").read_text())
    assert len(history["epochs"]) == 2 and sum(s["epoch"] == 2 for s in history["steps"]) == 1347 // 64
