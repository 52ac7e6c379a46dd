"""chainrule.profiler: calls per op type and per module for a known model, times that add up to the
block's wall time, bytes equal to the outputs' and gradients' nbytes, the table's columns, sort
orders and row limit, nothing recorded while off (also after an exception), no nesting, and
``chainrule train --profile``."""
import time

import numpy as np
import pytest

import chainrule as cr
import chainrule.nn.functional as F
from chainrule import autograd, models, profiler
from tests.test_cli import chainrule, succeeded

LENET_OPS = {"Conv2d": 2, "Tanh": 4, "AvgPool2d": 2, "Reshape": 1, "Linear": 3, "CrossEntropy": 1}
LENET_MODULES = {"LeNet5", "features (Sequential)", "features.0 (Conv2d)", "features.1 (Tanh)",
                 "features.2 (AvgPool2d)", "features.3 (Conv2d)", "features.4 (Tanh)", "features.5 (AvgPool2d)",
                 "classifier (Sequential)", "classifier.0 (Linear)", "classifier.1 (Tanh)", "classifier.2 (Linear)",
                 "classifier.3 (Tanh)", "classifier.4 (Linear)"}
ORDERS = {"total": lambda s: -s.total_s, "forward": lambda s: -s.forward_s, "backward": lambda s: -s.backward_s,
          "calls": lambda s: -s.calls, "bytes": lambda s: -(s.forward_bytes + s.backward_bytes),
          "name": lambda s: s.name}


def lenet_step(batch=8):
    """LeNet-5 (classic) and one forward+backward of cross-entropy on a random batch."""
    cr.manual_seed(0)
    model = models.lenet5()
    x, y = cr.randn(batch, 1, 28, 28), cr.randint(0, 10, (batch,))
    return model, lambda: F.cross_entropy(model(x), y).backward()


def table_rows(text, title):
    """The names in the section of ``text`` headed ``title``, in printed order."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.split()[:1] == [title])
    width = lines[start].index("  calls")
    rows = lines[start + 2: lines.index("", start)]
    return [line[:width].rstrip() for line in rows]


def test_lenet5_calls_per_op_type_and_per_module():
    model, step = lenet_step()
    with profiler.profile(model) as prof:
        step()
        step()
    ops = prof.key_averages()
    assert {name: s.calls for name, s in ops.items()} == {name: 2 * n for name, n in LENET_OPS.items()}
    assert all(s.backward_calls == s.calls for s in ops.values())  # every op was recorded and ran backward once
    modules = prof.key_averages("module")
    assert set(modules) == LENET_MODULES
    assert all(s.calls == 2 for s in modules.values())
    # a module's backward is its ops', its children's included: features ran conv, tanh, pool twice over
    assert modules["features (Sequential)"].backward_calls == 2 * 6
    assert modules["classifier (Sequential)"].backward_calls == 2 * 5
    assert modules["LeNet5"].backward_calls == 2 * (6 + 5 + 1)  # + the flatten; the loss ran outside the model
    children = [modules[f"features.{i} ({t})"] for i, t in enumerate(("Conv2d", "Tanh", "AvgPool2d") * 2)]
    assert modules["features (Sequential)"].backward_s == pytest.approx(sum(c.backward_s for c in children))
    assert modules["features (Sequential)"].forward_bytes == sum(c.forward_bytes for c in children)
    assert modules["features.0 (Conv2d)"].forward_bytes == 2 * 8 * 6 * 28 * 28 * 4  # float32 maps, two steps


def test_times_are_non_negative_and_add_up_to_the_wall_time():
    model, step = lenet_step(batch=64)
    step()  # warm-up
    start = time.perf_counter()
    with profiler.profile(model) as prof:
        step()
    wall = time.perf_counter() - start
    ops, modules = prof.key_averages(), prof.key_averages("module")
    assert all(s.forward_s >= 0 and s.backward_s >= 0 for s in [*ops.values(), *modules.values()])
    assert 0 < prof.wall_s <= wall
    in_ops = sum(s.total_s for s in ops.values())
    assert 0.3 * prof.wall_s < in_ops <= prof.wall_s  # the rest is bookkeeping around the ops
    root = modules["LeNet5"]
    assert sum(s.forward_s for name, s in ops.items() if name != "CrossEntropy") <= root.forward_s  # inclusive
    assert root.total_s + ops["CrossEntropy"].total_s <= prof.wall_s


def test_bytes_are_the_outputs_and_the_gradients():
    a = cr.randn(3, 4, dtype=cr.float64, requires_grad=True)
    b = cr.randn(4, dtype=cr.float64, requires_grad=True)
    with profiler.profile() as prof:
        loss = (a * b).sum()
        loss.backward()
    ops = prof.key_averages()
    assert set(ops) == {"Mul", "Sum"}
    assert (ops["Mul"].forward_bytes, ops["Mul"].backward_bytes) == (3 * 4 * 8, 3 * 4 * 8 + 4 * 8)  # a's and b's
    assert (ops["Sum"].forward_bytes, ops["Sum"].backward_bytes) == (8, 3 * 4 * 8)
    assert prof.key_averages("module") == {}


def test_the_table_sorts_limits_and_shows_every_column():
    model, step = lenet_step()
    with profiler.profile(model) as prof:
        step()
    ops, modules = prof.key_averages(), prof.key_averages("module")
    text = prof.table()
    for column in ("calls", "forward ms", "backward ms", "total ms", "% wall", "MB out", "MB grad"):
        assert text.count(column) == 2, column  # in both headers
    conv = next(line for line in text.splitlines() if line.startswith("Conv2d "))
    s = ops["Conv2d"]
    assert conv.split()[1:5] == ["2", f"{1e3 * s.forward_s:.2f}", f"{1e3 * s.backward_s:.2f}", f"{1e3 * s.total_s:.2f}"]
    assert text.splitlines()[-1].startswith(f"wall {1e3 * prof.wall_s:.2f} ms")
    for sort_by, order in ORDERS.items():
        text = prof.table(sort_by=sort_by)
        assert table_rows(text, "op") == [s.name for s in sorted(ops.values(), key=order)], sort_by
        assert table_rows(text, "module") == [s.name for s in sorted(modules.values(), key=order)], sort_by
    limited = prof.table(sort_by="calls", row_limit=3)
    assert table_rows(limited, "op") == ["Tanh", "Linear", "Conv2d"]  # 4, 3, then the first of the 2s
    assert len(table_rows(limited, "module")) == 3
    with pytest.raises(ValueError, match="sort_by must be one of total, forward, backward, calls, bytes, name"):
        prof.table(sort_by="time")
    with pytest.raises(ValueError, match="group_by"):
        prof.key_averages("layer")


def test_without_a_model_there_are_no_module_rows():
    _, step = lenet_step()
    with profiler.profile() as prof:
        step()
    assert {name: s.calls for name, s in prof.key_averages().items()} == LENET_OPS
    assert prof.key_averages("module") == {}
    assert "module" not in prof.table()


def test_nothing_is_recorded_while_off_even_after_an_exception_inside():
    model, step = lenet_step()
    prof = profiler.profile(model)
    step()
    assert autograd._profiler is None and prof.key_averages() == {}
    with pytest.raises(ValueError, match="lenet5"), prof:
        step()
        model(cr.randn(1, 1, 20, 20))  # raises inside LeNet5's forward: its forward hook never runs
    assert autograd._profiler is None
    assert all(not m._forward_pre_hooks and not m._forward_hooks for m in model.modules())
    step()
    assert {name: s.calls for name, s in prof.key_averages().items()} == LENET_OPS  # the block's step alone
    assert prof.key_averages("module")["LeNet5"].calls == 1  # the failed call never finished


def test_start_and_stop_profile_some_steps_of_many():
    model, step = lenet_step()
    prof = profiler.profile(model)
    for i in range(5):
        if i in (1, 3):
            prof.start()
        step()
        prof.stop()
        prof.stop()  # stopping a stopped profile does nothing
    assert prof.key_averages()["Conv2d"].calls == 2 * 2
    assert prof.key_averages("module")["LeNet5"].calls == 2


def test_profiles_do_not_nest():
    with profiler.profile() as outer:
        with pytest.raises(RuntimeError, match="do not nest"), profiler.profile():
            pass
        assert autograd._profiler is outer
        with pytest.raises(RuntimeError, match="do not nest"):
            outer.start()
    assert autograd._profiler is None


def test_an_op_recorded_before_the_profile_counts_its_backward_only():
    a = cr.randn(5, requires_grad=True)
    loss = a.tanh().sum()
    with profiler.profile() as prof:
        loss.backward()
    ops = prof.key_averages()
    assert [(s.calls, s.backward_calls) for s in ops.values()] == [(0, 1), (0, 1)]
    np.testing.assert_allclose(a.grad.data, 1 - np.tanh(a.data) ** 2, rtol=1e-6)


def test_train_profile_prints_and_writes_the_table(tmp_path):
    proc = succeeded(chainrule("train", "--epochs", 1, "--batch-size", 32, "--quiet", "--profile", "--out", "run",
                               cwd=tmp_path))
    written = (tmp_path / "run" / "profile.txt").read_text()
    assert written.startswith("profile of training steps 3-22 of the first epoch")
    assert written in proc.stderr + "\n"
    assert table_rows(written, "op")[0] == "Conv2d"  # sorted by total time: the small CNN's convolutions lead
    linear = next(line for line in written.splitlines() if line.startswith("Linear "))
    assert linear.split()[1] == "20"  # one classifier call per profiled step
    assert "SmallCNN" in table_rows(written, "module")
    succeeded(chainrule("train", "--epochs", 1, "--quiet", "--out", "run", "--overwrite", cwd=tmp_path))
    assert not (tmp_path / "run" / "profile.txt").exists()
