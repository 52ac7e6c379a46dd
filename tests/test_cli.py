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

REPO = Path(__file__).resolve().parents[1]
RUN_FILES = {"metrics.csv", "history.json", "checkpoint.safetensors", "checkpoint.json", "loss.png", "accuracy.png",
             "confusion.png", "gradflow.png", "summary.txt", "config.json"}
PNG = b"\x89PNG\r\n\x1a\n"


def chainrule(*args, cwd):
    """Run the command; one BLAS thread (its GEMMs are small and the machine is shared)."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
               OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", MPLBACKEND="Agg")
    env.pop("CHAINRULE_DEBUG", None)
    return subprocess.run([sys.executable, "-m", "chainrule.cli", *map(str, args)], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=600, check=False)


def succeeded(proc):
    assert proc.returncode == 0, f"exit status {proc.returncode}\nstdout:\n{proc.stdout}\nstderr:\n{proc.stderr}"
    assert "Traceback" not in proc.stderr
    return proc


def final_json(proc):
    return json.loads(proc.stdout.strip().splitlines()[-1])


def model_tensors(run):
    return {k: v for k, v in load_file(str(run / "checkpoint.safetensors")).items() if k.startswith("model.")}


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

    train_set, _ = get_dataset("digits").load(None, False, 0)
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

    info = json.loads((run / "checkpoint.json").read_text())["info"]
    assert info["epoch"] == 2 and info["step"] == 2 * steps_per_epoch

    config = json.loads((run / "config.json").read_text())
    assert config["model"] == "small_cnn" and config["dataset"] == "digits" and config["epochs"] == 2

    text = (run / "summary.txt").read_text()
    params = summary(models.small_cnn(), (1, 8, 8)).totals["params"]
    assert "SmallCNN: input 1×8×8" in text and f"params: {params:,}" in text

    assert json.loads((run / "gradflow.json").read_text())["grad_norms"]


def test_train_prints_a_final_json_line(trained):
    result, last = trained.result, trained.history["epochs"][-1]
    assert set(result) == {"run", "model", "dataset", "epochs", "test_accuracy", "test_loss", "seconds"}
    assert result["run"] == "run" and result["model"] == "small_cnn" and result["dataset"] == "digits"
    assert result["epochs"] == 2
    assert result["test_accuracy"] == last["val_accuracy"]
    assert result["test_loss"] == pytest.approx(last["val_loss"], rel=1e-9)
    lines = trained.proc.stdout.strip().splitlines()
    assert len(lines) == 2 and lines[0].startswith(f"test accuracy {100 * result['test_accuracy']:.2f}%")
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
    assert all(len(line.split()) > 1 for line in proc.stdout.splitlines())  # each with its description


def test_datasets_lists_the_catalog(workdir, tmp_path):
    proc = succeeded(chainrule("datasets", "--data-dir", tmp_path, cwd=workdir))
    lines = {line.split()[0]: line for line in proc.stdout.splitlines()}
    assert set(lines) == set(DATASETS)
    assert " available " in lines["digits"] and "[bundled]" in lines["digits"]
    assert " missing " in lines["mnist"] and f"[{tmp_path / 'mnist'}]" in lines["mnist"]
    assert "1×28×28" in lines["mnist"] and "10 classes" in lines["mnist"]


def _corrupted(run, dest):
    dest.mkdir()
    for name in ("config.json", "checkpoint.json", "checkpoint.safetensors"):
        shutil.copy(run / name, dest / name)
    data = bytearray((dest / "checkpoint.safetensors").read_bytes())
    data[len(data) // 2] ^= 0x01
    (dest / "checkpoint.safetensors").write_bytes(bytes(data))
    return dest


def _wrong_model(run, dest):
    _corrupted(run, dest)
    shutil.copy(run / "checkpoint.safetensors", dest / "checkpoint.safetensors")
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
    "corrupted-checkpoint": (["evaluate", "{corrupted}"], r"does not match the SHA-256 .* corrupted"),
    "checkpoint-of-another-model": (["evaluate", "{wrong_model}"],  # a multi-line message, on one line
                                    r"loading into Sequential: missing keys: .* unexpected keys: "),
    "not-a-run": (["evaluate", "nowhere"], r"evaluate: nowhere is not a run folder \(no config\.json\)"),
    "resume-nothing": (["train", "--resume", "--out", "x"], r"--resume: x.config\.json does not exist"),
    "zero-epochs": (["train", "--epochs", "0", "--out", "x"], r"--epochs must be at least 1, got 0"),
}


@pytest.mark.parametrize("case", list(ERRORS))
def test_user_errors_end_with_one_line_and_status_2(case, trained, tmp_path):
    args, pattern = ERRORS[case]
    empty = tmp_path / "empty"
    empty.mkdir()
    places = {"empty": str(empty)}
    if case == "corrupted-checkpoint":
        places["corrupted"] = str(_corrupted(trained.run, tmp_path / "corrupted"))
    if case == "checkpoint-of-another-model":
        places["wrong_model"] = str(_wrong_model(trained.run, tmp_path / "wrong"))
    args = [a.format(**places) for a in args]
    pattern = pattern.replace("{empty}", str(empty).replace("\\", "\\\\"))
    proc = chainrule(*args, cwd=tmp_path)
    assert proc.returncode == 2, f"exit status {proc.returncode}\nstderr:\n{proc.stderr}"
    assert proc.stdout == ""
    assert "Traceback" not in proc.stderr
    assert proc.stderr.endswith("\n") and proc.stderr.count("\n") == 1, f"not one line:\n{proc.stderr}"
    assert proc.stderr.startswith("chainrule: error: ")
    assert re.search(pattern, proc.stderr), proc.stderr
    assert not (tmp_path / "x").exists(), "a failed command must not leave a run folder behind"
