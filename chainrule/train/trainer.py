"""The training loop: ``fit`` and ``evaluate``, with progress bars, a history of per-epoch and per-step
figures, NaN/Inf detection that names the step, gradient clipping, LR scheduling, callbacks and
checkpoints that resume to exactly the same weights as an uninterrupted run."""
import math
import sys
import time

import numpy as np

from ..autograd import no_grad
from ..distributed import comm as dist
from ..nn.utils import clip_grad_norm_
from ..optim.lr_scheduler import ReduceLROnPlateau
from .checkpoint import checkpoint_files, load_checkpoint, save_to_folder
from .metrics import confusion_matrix, precision_recall_f1

REMEDIES = ("lower the learning rate, clip gradients (grad_clip / --clip-grad), add normalization (BatchNorm) "
            "or use a better initialization (Xavier/He) [notes 000–004: exploding gradients]")


class NonFiniteLossError(FloatingPointError):
    """The loss became NaN or infinite; the message names the step, the epoch and the last finite loss."""


class Callback:
    """Override any of these; ``logs`` is the history entry just added."""

    def on_train_begin(self, state):
        """Called once before the first step; ``state`` holds model, optimizer, history, epoch and step."""

    def on_step_end(self, state, logs):
        """Called after each optimizer step; ``logs`` is that step's entry (epoch, step, loss)."""

    def on_epoch_end(self, state, logs):
        """Called after each epoch (its validation and scheduler step done); ``logs`` is that epoch's entry."""

    def on_train_end(self, state):
        """Called once after the last epoch."""


class History:
    """``epochs``: one dict per epoch (train_loss, train_accuracy, val_loss, val_accuracy, lr, seconds);
    ``steps``: one dict per optimizer step (epoch, step, loss)."""

    def __init__(self, epochs=None, steps=None):
        self.epochs, self.steps = list(epochs or []), list(steps or [])

    def to_dict(self):
        """``{'epochs': [...], 'steps': [...]}``, JSON-able (history.json's epochs and steps)."""
        return {"epochs": self.epochs, "steps": self.steps}


def _progress(iterable, total, desc, quiet):
    """A tqdm bar on a terminal; the plain iterable when quiet or not on a terminal."""
    if quiet or not sys.stderr.isatty():
        return iterable
    from tqdm import tqdm

    return tqdm(iterable, total=total, desc=desc, leave=False, dynamic_ncols=True)


def _lr(optimizer):
    return optimizer.param_groups[0]["lr"]


def _batches(loader, where):
    """``len(loader)``, refusing a loader that yields no batch (a fit of zero steps reports nothing true)."""
    n = len(loader)
    if n == 0:
        size = len(getattr(loader, "dataset", ()))
        raise ValueError(f"{where}: the loader yields no batches ({size} samples, batch_size "
                         f"{getattr(loader, 'batch_size', '?')}, drop_last={getattr(loader, 'drop_last', '?')}); "
                         "use a smaller batch size or more data")
    return n


def fit(model, train_loader, loss_fn, optimizer, epochs, val_loader=None, scheduler=None, callbacks=(),
        grad_clip=None, monitor=None, checkpoint_dir=None, keep=2, resume=False, quiet=False):
    """Train for ``epochs`` epochs; return the ``History``.

    Every step: forward, loss (a non-finite loss raises ``NonFiniteLossError`` naming the step),
    ``zero_grad``, backward, optional ``monitor.record()`` (a ``GradientFlow``), optional clipping of
    the global gradient norm to ``grad_clip``, ``optimizer.step()``. Every epoch: validation (if a
    loader is given), ``scheduler.step()`` (``ReduceLROnPlateau`` gets the validation loss, or the
    training loss), callbacks, and a checkpoint ``checkpoint_dir/epoch-NNNN.safetensors`` if given
    (the newest ``keep`` are kept; see ``chainrule.train.checkpoint``). With ``resume=True`` and a
    checkpoint in ``checkpoint_dir``, training continues from the newest one that verifies — model,
    optimizer, scheduler, history and random state — and ends with the same weights an
    uninterrupted run reaches. NumPy's floating-point warnings are silenced during the steps: a
    non-finite loss is reported by the error above, with its step.
    """
    _batches(train_loader, "fit")
    if val_loader is not None:
        _batches(val_loader, "fit (val_loader)")
    if keep < 1:
        raise ValueError(f"fit: keep must be at least 1, got {keep}")
    history, start_epoch, step = History(), 0, 0
    if resume and checkpoint_dir and checkpoint_files(checkpoint_dir):
        info = load_checkpoint(checkpoint_dir, model, optimizer, scheduler)
        start_epoch, step = info["epoch"], info["step"]
        history = History(info["history"]["epochs"], info["history"]["steps"])
        if info.get("loader_rng") is not None and getattr(train_loader, "generator", None) is not None:
            train_loader.generator.set_state(info["loader_rng"])
    state = {"model": model, "optimizer": optimizer, "history": history, "epoch": start_epoch, "step": step}
    for cb in callbacks:
        cb.on_train_begin(state)
    last_finite = history.steps[-1]["loss"] if history.steps else None  # a resumed run has one already
    for epoch in range(start_epoch, epochs):
        model.train()
        if hasattr(getattr(train_loader, "sampler", None), "set_epoch"):
            train_loader.sampler.set_epoch(epoch)  # a DistributedSampler's order is drawn from seed + epoch
        start, seen, total_loss, correct = time.perf_counter(), 0, 0.0, 0
        bar = _progress(train_loader, len(train_loader), f"epoch {epoch + 1}/{epochs}", quiet or not dist.is_main())
        for batch, (x, y) in enumerate(bar):
            with np.errstate(all="ignore"):
                out = model(x)
                loss = loss_fn(out, y)
            value = float(loss.data)
            if not math.isfinite(value):
                raise NonFiniteLossError(
                    f"loss became {value} at step {step} (epoch {epoch + 1}, batch {batch + 1}); last finite loss: "
                    f"{'none' if last_finite is None else f'{last_finite:.6g}'}. Try: {REMEDIES}"
                )
            last_finite = value
            optimizer.zero_grad()
            with np.errstate(all="ignore"):
                loss.backward()
                if monitor is not None:
                    monitor.record()
                if grad_clip:
                    clip_grad_norm_(model.parameters(), grad_clip)
                optimizer.step()
                if monitor is not None:
                    monitor.after_step()
            n = len(y)
            seen += n
            total_loss += value * n
            if out.ndim == 2 and y.ndim == 1:
                correct += int(np.sum(np.argmax(out.data, axis=1) == y.data))
            history.steps.append({"epoch": epoch + 1, "step": step, "loss": value})
            step += 1
            if bar is not train_loader:
                rate = seen / max(time.perf_counter() - start, 1e-9)
                bar.set_postfix(loss=f"{total_loss / seen:.4f}", acc=f"{correct / seen:.3f}", ips=f"{rate:.0f}/s")
            state.update(epoch=epoch, step=step)
            for cb in callbacks:
                cb.on_step_end(state, history.steps[-1])
        if dist.world_size() > 1:  # each rank saw its shard: the epoch's figures are over all ranks
            seen, total_loss, correct = dist.all_reduce(np.array([seen, total_loss, correct], dtype=np.float64))
            seen, correct = int(seen), int(correct)
        logs = {"epoch": epoch + 1, "train_loss": total_loss / max(seen, 1), "train_accuracy": correct / max(seen, 1),
                "lr": _lr(optimizer)}
        if val_loader is not None:
            val = evaluate(model, val_loader, loss_fn)
            logs.update(val_loss=val["loss"], val_accuracy=val["accuracy"])
        logs["seconds"] = time.perf_counter() - start
        if scheduler is not None:
            if isinstance(scheduler, ReduceLROnPlateau):
                scheduler.step(logs.get("val_loss", logs["train_loss"]))
            else:
                scheduler.step()
        history.epochs.append(logs)
        state.update(epoch=epoch + 1)
        if not quiet and dist.is_main():
            shown = "  ".join(f"{k} {v:.4g}" if isinstance(v, float) else f"{k} {v}" for k, v in logs.items())
            print(shown, file=sys.stderr)
        for cb in callbacks:
            cb.on_epoch_end(state, logs)
        if checkpoint_dir and dist.is_main():  # one writer; the ranks hold the same weights
            loader_gen = getattr(train_loader, "generator", None)
            save_to_folder(checkpoint_dir, epoch + 1, model, optimizer, scheduler, keep=keep, step=step,
                           history=history.to_dict(), loader_rng=None if loader_gen is None else loader_gen.get_state())
    for cb in callbacks:
        cb.on_train_end(state)
    return history


def evaluate(model, loader, loss_fn=None, num_classes=None):
    """Eval-mode pass over ``loader`` without a graph: mean loss (if ``loss_fn``), accuracy, the
    confusion matrix and per-class precision/recall/F1 (for classifiers with (N, C) outputs)."""
    _batches(loader, "evaluate")
    was_training = model.training
    model.eval()
    total, losses, predictions, targets = 0, 0.0, [], []
    try:
        with no_grad(), np.errstate(all="ignore"):  # a diverged model's inf/nan shows in the returned loss
            for x, y in loader:
                out = model(x)
                if loss_fn is not None:
                    losses += float(loss_fn(out, y).data) * len(y)
                total += len(y)
                predictions.append(np.argmax(out.data, axis=1))
                targets.append(y.data)
    finally:
        model.train(was_training)
    preds, tgts = np.concatenate(predictions), np.concatenate(targets)
    k = num_classes or int(max(preds.max(initial=0), tgts.max(initial=0)) + 1)
    accuracy = float(np.mean(preds == tgts))
    sharded = getattr(getattr(loader, "sampler", None), "num_replicas", 1) > 1 and dist.world_size() > 1
    if sharded:  # a DistributedSampler's shard on each rank: the figures are summed over all ranks
        k = dist.all_reduce(k, "max")
        total, losses = dist.all_reduce(total), dist.all_reduce(float(losses))
    matrix = confusion_matrix(preds, tgts, k)
    if sharded:
        dist.all_reduce(matrix)
        accuracy = float(np.trace(matrix)) / total
    precision, recall, f1 = precision_recall_f1(matrix)
    return {"loss": losses / total if loss_fn is not None else None, "accuracy": accuracy,
            "confusion_matrix": matrix, "precision": precision, "recall": recall, "f1": f1, "samples": total}

