"""``benchmarks/models.py --sweep``: step time against batch and width, printed, written as JSON and plotted.
A tiny run (two batches, two widths, one round) checks that the table, the JSON and the figure come out well
formed; the times themselves are reported, never asserted."""
import importlib.util
import json
import pathlib
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "benchmarks" / "models.py"


def load_script():
    """benchmarks/models.py as a module (its own name: tests/models is a package too)."""
    sys.path.insert(0, str(SCRIPT.parent))  # its helpers, _common and _twins
    spec = importlib.util.spec_from_file_location("benchmark_models", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_sweep_arguments():
    script = load_script()
    args = script.parse_args(["--sweep"])
    assert args.models == ["resnet20"] and args.sweep_width_batch is None
    assert args.sweep_batches == [16, 32, 64, 128, 256, 512] and args.sweep_widths == [0.5, 1, 2, 4]
    assert script.parse_args([]).models == list(script.MODELS)  # the table still defaults to every model
    args = script.parse_args(["--sweep", "--models", "lenet5", "--sweep-widths", ""])
    assert args.models == ["lenet5"] and args.sweep_widths == []  # a model without a width: batch only
    for bad in (["--sweep", "--models", "lenet5"], ["--sweep", "--models", "mlp,resnet20", "--plot", "a.png"],
                ["--sweep", "--sweep-batches", "0,4"], ["--sweep", "--sweep-widths", "1,x"]):
        with pytest.raises(SystemExit):
            script.parse_args(bad)
    assert script.WIDTHS["resnet20"](1) == {"width": 16}  # ×1 builds the table's model


def test_tiny_sweep_prints_writes_json_and_plots(tmp_path):
    plot, out = tmp_path / "sweep-{model}.png", tmp_path / "sweep.json"
    cmd = [sys.executable, str(SCRIPT), "--sweep", "--models", "resnet20", "--sweep-batches", "2,4",
           "--sweep-widths", "0.5,1", "--sweep-width-batch", "4", "--repeat", "1", "--warmup", "0",
           "--lead-in", "0", "--threads", "1", "--plot", str(plot), "--json", str(out)]
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr

    # the table: a row per point, the shared point (batch 4, ×1) in both sweeps
    rows = [line.split() for line in proc.stdout.splitlines() if line.startswith(("batch ", "width "))]
    assert [(r[0], r[1], r[2], r[3]) for r in rows] == [
        ("batch", "2", "×1", "width=16"), ("batch", "4", "×1", "width=16"),
        ("width", "4", "×0.5", "width=8"), ("width", "4", "×1", "width=16")]
    assert "ms/sample chainrule" in proc.stdout

    sweep = json.loads(out.read_text())["sweep"]
    assert [s["model"] for s in sweep] == ["resnet20"] and sweep[0]["width_batch"] == 4
    batch_points, width_points = sweep[0]["batch"], sweep[0]["width"]
    assert [p["batch"] for p in batch_points] == [2, 4] and [p["width"] for p in width_points] == [0.5, 1]
    assert [p["build"] for p in width_points] == [{"width": 8}, {"width": 16}]
    assert batch_points[1] == width_points[1]  # timed once
    for p in batch_points + width_points:
        cr, th = p["chainrule"]["median"], p["torch"]["median"]
        assert cr > 0 and th > 0 and p["chainrule"]["n"] == p["calls_per_round"]
        assert p["ratio"] == pytest.approx(cr / th)
        assert p["ms_per_sample"] == pytest.approx({"chainrule": cr / p["batch"], "torch": th / p["batch"]})
        assert len(p["parity"]["losses"]["chainrule"]) == 3  # the table's parity check ran at this point

    figure = pathlib.Path(str(plot).replace("{model}", "resnet20"))
    assert figure.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    import matplotlib.image

    height, width, _ = matplotlib.image.imread(figure).shape
    assert width > 1.5 * height > 600  # two panels side by side
