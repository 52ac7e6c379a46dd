"""The training loop: small_cnn learns the bundled digits with ``fit``; the history it returns;
``evaluate``'s confusion matrix and per-class scores against sklearn; a non-finite loss named by its
step, epoch and the last finite loss; callbacks; gradient clipping; ReduceLROnPlateau fed the
validation loss; and a run interrupted mid-epoch and resumed from its checkpoint ends bit-identical to
an uninterrupted one (shuffling, dropout, BatchNorm, momentum/Adam and a scheduler)."""
import math
from types import SimpleNamespace

import numpy as np
import pytest
from sklearn import metrics as skm
from threadpoolctl import threadpool_limits

import chainrule as cr
from chainrule import nn, optim
from chainrule.data import ArrayDataset, DataLoader
from chainrule.data.catalog import get_dataset
from chainrule.data.datasets import digits
from chainrule.models import small_cnn
from chainrule.nn.functional import cross_entropy
from chainrule.optim import lr_scheduler
from chainrule.train import Callback, NonFiniteLossError, evaluate, fit, load_checkpoint

EPOCHS = 3


@pytest.fixture(autouse=True, scope="module")
def one_blas_thread():
    """Many small GEMMs: one BLAS thread is several times faster than two on a shared, loaded machine."""
    with threadpool_limits(1):
        yield


@pytest.fixture(scope="module")
def digits_run():
    """small_cnn (default width) trained 3 epochs on the catalog's digits: Adam, cosine schedule."""
    cr.manual_seed(0)
    train_set, test_set = get_dataset("digits").load(None, False, 0)
    model = small_cnn()
    opt = optim.Adam(model.parameters(), lr=1e-2)
    sched = lr_scheduler.CosineAnnealingLR(opt, T_max=EPOCHS)
    train_loader = DataLoader(train_set, batch_size=64, shuffle=True, seed=0)
    test_loader = DataLoader(test_set, batch_size=512)
    history = fit(model, train_loader, cross_entropy, opt, EPOCHS, val_loader=test_loader, scheduler=sched,
                  quiet=True)
    return SimpleNamespace(model=model, history=history, train_set=train_set, test_set=test_set,
                           train_loader=train_loader, test_loader=test_loader)


def test_fit_learns_digits(digits_run):
    history, model = digits_run.history, digits_run.model
    final = evaluate(model, digits_run.test_loader, cross_entropy, num_classes=10)
    assert final["accuracy"] >= 0.97, f"test accuracy {final['accuracy']:.3f} after {EPOCHS} epochs"
    assert final["accuracy"] == history.epochs[-1]["val_accuracy"]
    assert final["loss"] == pytest.approx(history.epochs[-1]["val_loss"], rel=1e-6)
    assert history.epochs[-1]["train_loss"] < 0.5 * history.epochs[0]["train_loss"]
    assert history.epochs[-1]["train_accuracy"] > history.epochs[0]["train_accuracy"]


def test_history_contents(digits_run):
    history, loader = digits_run.history, digits_run.train_loader
    n = len(digits_run.train_set)
    assert [e["epoch"] for e in history.epochs] == list(range(1, EPOCHS + 1))
    for e in history.epochs:
        assert set(e) == {"epoch", "train_loss", "train_accuracy", "lr", "val_loss", "val_accuracy", "seconds"}
        assert 0 <= e["train_accuracy"] <= 1 and 0 <= e["val_accuracy"] <= 1 and e["seconds"] > 0
    # lr is the rate the epoch trained with: cosine annealing from 1e-2 over 3 epochs
    expected_lr = [1e-2 * (1 + math.cos(math.pi * i / EPOCHS)) / 2 for i in range(EPOCHS)]
    assert [e["lr"] for e in history.epochs] == pytest.approx(expected_lr, rel=1e-12)
    # one entry per optimizer step, numbered across epochs; an epoch's loss is their sample-weighted mean
    assert len(history.steps) == EPOCHS * len(loader)
    assert [s["step"] for s in history.steps] == list(range(EPOCHS * len(loader)))
    assert [s["epoch"] for s in history.steps] == [e for e in range(1, EPOCHS + 1) for _ in range(len(loader))]
    sizes = [min(loader.batch_size, n - i) for i in range(0, n, loader.batch_size)]
    for e in history.epochs:
        losses = [s["loss"] for s in history.steps if s["epoch"] == e["epoch"]]
        assert e["train_loss"] == pytest.approx(np.average(losses, weights=sizes), rel=1e-9)
    assert history.to_dict() == {"epochs": history.epochs, "steps": history.steps}


def test_evaluate_matches_sklearn(digits_run):
    model, loader = digits_run.model, digits_run.test_loader
    model.train()
    result = evaluate(model, loader, cross_entropy, num_classes=10)
    assert model.training, "evaluate must restore training mode"
    model.eval()
    y_true, y_pred, losses = [], [], []
    with cr.no_grad():
        for x, y in loader:
            out = model(x)
            y_true.append(y.data)
            y_pred.append(out.data.argmax(1))
            losses.append(cross_entropy(out, y).item() * len(y))
    model.train()
    y_true, y_pred = np.concatenate(y_true), np.concatenate(y_pred)
    labels = np.arange(10)
    np.testing.assert_array_equal(result["confusion_matrix"], skm.confusion_matrix(y_true, y_pred, labels=labels))
    precision, recall, f1, _ = skm.precision_recall_fscore_support(y_true, y_pred, labels=labels, zero_division=0)
    np.testing.assert_allclose(result["precision"], precision, rtol=1e-12)
    np.testing.assert_allclose(result["recall"], recall, rtol=1e-12)
    np.testing.assert_allclose(result["f1"], f1, rtol=1e-12)
    assert result["accuracy"] == skm.accuracy_score(y_true, y_pred)
    assert result["samples"] == len(digits_run.test_set) == result["confusion_matrix"].sum()
    assert result["loss"] == pytest.approx(sum(losses) / len(y_true), rel=1e-6)


def test_evaluate_keeps_eval_mode_and_counts_absent_classes():
    model = nn.Linear(3, 4)
    model.eval()
    x = np.eye(3, dtype=np.float32)
    result = evaluate(model, [(cr.tensor(x), cr.tensor([0, 1, 2]))], num_classes=6)
    assert not model.training
    assert result["loss"] is None and result["confusion_matrix"].shape == (6, 6)
    assert result["precision"][5] == result["recall"][5] == result["f1"][5] == 0.0


# ----- small, fast problems for the loop's mechanics --------------------------------------------------
def _blobs(n=96, features=6, classes=3, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, classes, n)
    centers = 3 * rng.standard_normal((classes, features))
    x = (centers[y] + rng.standard_normal((n, features))).astype(np.float32)
    return ArrayDataset(x, y)


def _mlp(features=6, classes=3):
    return nn.Sequential(nn.Linear(features, 16), nn.ReLU(), nn.Linear(16, classes))


def test_nonfinite_loss_names_step_epoch_and_last_finite_loss():
    cr.manual_seed(0)
    model = _mlp()
    loader = DataLoader(_blobs(), batch_size=32, shuffle=True, seed=0)  # 3 steps per epoch
    seen = []

    def loss_fn(out, y):
        loss = cross_entropy(out, y)
        if len(seen) == 4:  # the 5th step: step 4, epoch 2, batch 2
            return loss * float("nan")
        seen.append(loss.item())
        return loss

    with pytest.raises(NonFiniteLossError) as info:
        fit(model, loader, loss_fn, optim.SGD(model.parameters(), lr=0.1), 5, quiet=True)
    message = str(info.value)
    assert isinstance(info.value, FloatingPointError)
    assert "loss became nan at step 4 (epoch 2, batch 2)" in message
    assert f"last finite loss: {seen[-1]:.6g}" in message
    assert "learning rate" in message  # and a remedy


def test_nonfinite_loss_from_a_huge_learning_rate():
    cr.manual_seed(0)
    model = _mlp()
    loader = DataLoader(_blobs(), batch_size=16, shuffle=True, seed=0)
    steps = []

    class Steps(Callback):
        def on_step_end(self, state, logs):
            steps.append(logs["loss"])

    with np.errstate(all="ignore"), pytest.raises(NonFiniteLossError) as info:
        fit(model, loader, cross_entropy, optim.SGD(model.parameters(), lr=1e6), 20, callbacks=[Steps()], quiet=True)
    step = len(steps)
    assert 0 < step and all(math.isfinite(v) for v in steps)
    epoch, batch = divmod(step, len(loader))
    assert f"at step {step} (epoch {epoch + 1}, batch {batch + 1})" in str(info.value)
    assert f"last finite loss: {steps[-1]:.6g}" in str(info.value)


@pytest.mark.parametrize("threads", [1, 2])
def test_the_nonfinite_loss_report_speaks_alone(threads, recwarn):
    """No NumPy overflow/invalid warnings before the report — also from the conv's worker threads."""
    from chainrule.diagnostics import GradientFlow

    cr.manual_seed(0)
    train_set, test_set = get_dataset("digits").load(None, False, 0)
    model = small_cnn()
    with threadpool_limits(threads), pytest.raises(NonFiniteLossError):
        fit(model, DataLoader(train_set, batch_size=64, shuffle=True, seed=0), cross_entropy,
            optim.SGD(model.parameters(), lr=1e10), 2, val_loader=DataLoader(test_set, batch_size=256),
            monitor=GradientFlow(model), quiet=True)
    assert not [w for w in recwarn if issubclass(w.category, RuntimeWarning)], [str(w.message) for w in recwarn]


@pytest.mark.parametrize("where", ["fit", "fit (val_loader)", "evaluate"])
def test_an_empty_loader_is_refused(where):
    model = _mlp()
    empty = DataLoader(_blobs(), batch_size=1000, drop_last=True)
    full = DataLoader(_blobs(), batch_size=32)
    with pytest.raises(ValueError, match=rf"^{where.replace('(', '.').replace(')', '.')}: the loader yields no batches "
                                         rf"\({len(_blobs())} samples, batch_size 1000, drop_last=True\)"):
        if where == "evaluate":
            evaluate(model, empty, cross_entropy)
        else:
            fit(model, empty if where == "fit" else full, cross_entropy, optim.SGD(model.parameters(), lr=0.1), 1,
                val_loader=empty if where != "fit" else None, quiet=True)


def test_nonfinite_loss_at_the_first_step():
    model = _mlp()
    with pytest.raises(NonFiniteLossError, match=r"at step 0 \(epoch 1, batch 1\); last finite loss: none"):
        fit(model, DataLoader(_blobs(), batch_size=32), lambda out, y: cross_entropy(out, y) * float("inf"),
            optim.SGD(model.parameters(), lr=0.1), 1, quiet=True)


def test_nonfinite_loss_right_after_resuming_names_the_saved_last_loss(tmp_path):
    path = str(tmp_path / "checkpoints")
    cr.manual_seed(0)
    model = _mlp()
    loader = DataLoader(_blobs(), batch_size=32)
    history = fit(model, loader, cross_entropy, optim.SGD(model.parameters(), lr=0.1), 1, checkpoint_dir=path,
                  quiet=True)
    with pytest.raises(NonFiniteLossError, match=rf"at step 3 \(epoch 2, batch 1\); last finite loss: "
                                                 rf"{history.steps[-1]['loss']:.6g}\."):
        fit(model, loader, lambda out, y: cross_entropy(out, y) * float("nan"), optim.SGD(model.parameters(), lr=0.1),
            2, checkpoint_dir=path, resume=True, quiet=True)


def test_callbacks_are_called_in_order_with_the_history_entries():
    cr.manual_seed(0)
    model = _mlp()
    loader = DataLoader(_blobs(), batch_size=40, shuffle=True, seed=0)  # 3 steps per epoch
    calls = []

    class Recorder(Callback):
        def on_train_begin(self, state):
            calls.append(("begin", state["epoch"], state["step"], state["model"] is model))

        def on_step_end(self, state, logs):
            calls.append(("step", state["epoch"], state["step"], dict(logs)))

        def on_epoch_end(self, state, logs):
            calls.append(("epoch", state["epoch"], state["step"], dict(logs)))

        def on_train_end(self, state):
            calls.append(("end", state["epoch"], state["step"], state["history"] is history_box[0]))

    history_box = [None]
    opt = optim.SGD(model.parameters(), lr=0.1)

    class Capture(Callback):
        def on_train_begin(self, state):
            history_box[0] = state["history"]
            assert state["optimizer"] is opt

    history = fit(model, loader, cross_entropy, opt, 2, callbacks=[Capture(), Recorder()], quiet=True)
    assert history is history_box[0]
    kinds = [c[0] for c in calls]
    assert kinds == ["begin"] + ["step"] * 3 + ["epoch"] + ["step"] * 3 + ["epoch"] + ["end"]
    assert calls[0] == ("begin", 0, 0, True) and calls[-1] == ("end", 2, 6, True)
    step_logs = [c[3] for c in calls if c[0] == "step"]
    assert step_logs == history.steps
    assert [c[2] for c in calls if c[0] == "step"] == [1, 2, 3, 4, 5, 6]  # state["step"]: steps done
    epoch_calls = [c for c in calls if c[0] == "epoch"]
    assert [c[3] for c in epoch_calls] == history.epochs and [c[1] for c in epoch_calls] == [1, 2]


class _NormRecordingSGD(optim.SGD):
    """SGD that records the global gradient norm it is asked to apply."""

    def __init__(self, params, **kwargs):
        params = list(params)
        super().__init__(params, **kwargs)
        self.norms = []

    def step(self, closure=None):
        grads = [p.grad.data for g in self.param_groups for p in g["params"] if p.grad is not None]
        self.norms.append(math.sqrt(sum(float(np.sum(np.square(g, dtype=np.float64))) for g in grads)))
        return super().step(closure)


@pytest.mark.parametrize("clip", [None, 0.05])
def test_grad_clip_bounds_the_global_norm(clip):
    cr.manual_seed(0)
    model = _mlp()
    opt = _NormRecordingSGD(model.parameters(), lr=0.05)
    fit(model, DataLoader(_blobs(), batch_size=32, shuffle=True, seed=0), cross_entropy, opt, 2, grad_clip=clip,
        quiet=True)
    assert len(opt.norms) == 6
    if clip is None:
        assert max(opt.norms) > 10 * 0.05  # so the clipped run below has something to clip
    else:
        assert max(opt.norms) <= clip * (1 + 1e-5)
        assert min(opt.norms) > 0.5 * clip  # scaled down to the bound, not zeroed


@pytest.mark.parametrize("with_val", [True, False])
def test_reduce_lr_on_plateau_is_fed_the_validation_loss(with_val):
    cr.manual_seed(0)
    model = _mlp()
    opt = optim.SGD(model.parameters(), lr=0.1)
    sched = lr_scheduler.ReduceLROnPlateau(opt, patience=0, factor=0.5)
    fed = []
    original = sched.step
    sched.step = lambda metrics, epoch=None: (fed.append(metrics), original(metrics))[1]
    val = DataLoader(_blobs(48, seed=1), batch_size=48) if with_val else None
    history = fit(model, DataLoader(_blobs(), batch_size=32, shuffle=True, seed=0), cross_entropy, opt, 4,
                  val_loader=val, scheduler=sched, quiet=True)
    key = "val_loss" if with_val else "train_loss"
    assert fed == [e[key] for e in history.epochs]
    assert sched.best == min(fed)


def test_a_subclass_of_reduce_lr_on_plateau_is_fed_the_loss_too():
    class Plateau(lr_scheduler.ReduceLROnPlateau):
        pass

    model = _mlp()
    opt = optim.SGD(model.parameters(), lr=0.1)
    sched = Plateau(opt, patience=0)
    history = fit(model, DataLoader(_blobs(), batch_size=32), cross_entropy, opt, 2, scheduler=sched, quiet=True)
    assert sched.best == min(e["train_loss"] for e in history.epochs) and sched.last_epoch == 2


def test_other_schedulers_step_once_per_epoch():
    model = _mlp()
    opt = optim.SGD(model.parameters(), lr=0.1)
    sched = lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)
    history = fit(model, DataLoader(_blobs(), batch_size=32), cross_entropy, opt, 3, scheduler=sched, quiet=True)
    assert [e["lr"] for e in history.epochs] == pytest.approx([0.1, 0.05, 0.025])
    assert opt.param_groups[0]["lr"] == pytest.approx(0.0125) and sched.last_epoch == 3


# ----- resume -----------------------------------------------------------------------------------------
def _without_seconds(epochs):
    return [{k: v for k, v in e.items() if k != "seconds"} for e in epochs]


class _Interrupt(Callback):
    """Raise KeyboardInterrupt once ``step`` optimizer steps are done, as a Ctrl-C or a crash would."""

    def __init__(self, step):
        self.step = step

    def on_step_end(self, state, logs):
        if state["step"] == self.step:
            raise KeyboardInterrupt


def _digits_subset(n=320):
    images, labels = digits()
    return ArrayDataset((images[:n, None] / 16.0).astype(np.float32), labels[:n])


def _setup(kind, seed):
    """Model with BatchNorm and dropout, a shuffling loader, an optimizer with state and a scheduler."""
    cr.manual_seed(seed)
    model = nn.Sequential(nn.Conv2d(1, 6, 3, padding=1), nn.BatchNorm2d(6), nn.ReLU(), nn.Dropout(0.3),
                          nn.MaxPool2d(2), nn.Flatten(), nn.Linear(96, 10))
    data = _digits_subset()
    if kind == "sgd-step":
        opt = optim.SGD(model.parameters(), lr=0.05, momentum=0.9, nesterov=True)
        sched = lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
        loader = DataLoader(data, batch_size=64, shuffle=True, seed=7)  # its own generator
    elif kind == "adam-cosine":
        opt = optim.Adam(model.parameters(), lr=3e-3, amsgrad=True)
        sched = lr_scheduler.CosineAnnealingLR(opt, T_max=5)
        loader = DataLoader(data, batch_size=64, shuffle=True)  # the global generator
    else:
        opt = optim.RMSprop(model.parameters(), lr=1e-3, momentum=0.5)
        sched = lr_scheduler.ReduceLROnPlateau(opt, patience=0, factor=0.5)
        loader = DataLoader(data, batch_size=64, shuffle=True, seed=3)
    val = DataLoader(_digits_subset(96), batch_size=96)
    return model, opt, sched, loader, val


@pytest.mark.parametrize("kind", ["sgd-step", "adam-cosine", "rmsprop-plateau"])
def test_resume_equals_uninterrupted_run(tmp_path, kind):
    epochs = 5
    model, opt, sched, loader, val = _setup(kind, seed=0)
    reference = fit(model, loader, cross_entropy, opt, epochs, val_loader=val, scheduler=sched, quiet=True)
    expected = {k: v.data.copy() for k, v in model.state_dict().items()}
    expected_opt, expected_sched = opt.state_dict(), sched.state_dict()

    path = str(tmp_path / "run" / "checkpoints")
    model, opt, sched, loader, val = _setup(kind, seed=0)
    with pytest.raises(KeyboardInterrupt):  # in the middle of epoch 3: the last checkpoint is epoch 2's
        fit(model, loader, cross_entropy, opt, epochs, val_loader=val, scheduler=sched, checkpoint_dir=path,
            callbacks=[_Interrupt(step=2 * len(loader) + 2)], quiet=True)
    assert load_checkpoint(path, restore_rng=False)["epoch"] == 2

    # a new process: everything rebuilt from other seeds; only the checkpoint carries the state
    model, opt, sched, loader, val = _setup(kind, seed=123)
    cr.manual_seed(999)
    resumed = fit(model, loader, cross_entropy, opt, epochs, val_loader=val, scheduler=sched, checkpoint_dir=path,
                  resume=True, quiet=True)

    state = model.state_dict()
    assert list(state) == list(expected)
    for name, value in state.items():
        assert value.data.dtype == expected[name].dtype and value.shape == expected[name].shape, name
        np.testing.assert_array_equal(value.data, expected[name], err_msg=f"{name} differs after resume")
    got_opt = opt.state_dict()
    assert got_opt["param_groups"] == expected_opt["param_groups"]
    for i, entry in expected_opt["state"].items():
        for k, v in entry.items():
            np.testing.assert_array_equal(got_opt["state"][i][k], v, err_msg=f"optimizer state {i}.{k}")
    assert sched.state_dict() == expected_sched
    assert _without_seconds(resumed.epochs) == _without_seconds(reference.epochs)
    assert resumed.steps == reference.steps


def test_resume_of_a_finished_run_trains_no_further(tmp_path):
    path = str(tmp_path / "checkpoints")
    model, opt, sched, loader, _ = _setup("sgd-step", seed=0)
    first = fit(model, loader, cross_entropy, opt, 2, scheduler=sched, checkpoint_dir=path, quiet=True)
    weights = {k: v.data.copy() for k, v in model.state_dict().items()}
    again = fit(model, loader, cross_entropy, opt, 2, scheduler=sched, checkpoint_dir=path, resume=True, quiet=True)
    assert again.steps == first.steps and len(again.epochs) == 2
    for k, v in model.state_dict().items():
        np.testing.assert_array_equal(v.data, weights[k])


def test_resume_without_a_checkpoint_starts_fresh(tmp_path):
    path = str(tmp_path / "none" / "checkpoints")
    model, opt, _, loader, _ = _setup("sgd-step", seed=0)
    history = fit(model, loader, cross_entropy, opt, 1, checkpoint_dir=path, resume=True, quiet=True)
    assert [e["epoch"] for e in history.epochs] == [1]
    assert load_checkpoint(path, restore_rng=False)["step"] == len(loader)
