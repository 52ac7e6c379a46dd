"""Checkpoints without pickle, each committed by one atomic step.

A checkpoint is **one safetensors file**: the tensors (model, optimizer moments) in its body, and
everything else — epoch, step, history, random states, the optimizer's and scheduler's other
state — as JSON in its header's metadata, with a SHA-256 of that JSON and one of the tensors.
It is written to a temporary file in the target folder, flushed and synced, renamed into place
(``os.replace``: one atomic step) and the folder synced, so at every instant the name holds either
the complete previous checkpoint or the complete new one — a kill at any point loses nothing that
was committed. One file rather than two (tensors + JSON) because two renames can't be one atomic
step: a kill between them left new weights beside an old JSON.

A training run keeps its checkpoints in a folder (``fit(checkpoint_dir=...)``, the CLI's
``RUN/checkpoints``): ``epoch-0003.safetensors``, … — the last ``keep`` of them (default 2). Loading
a folder takes the newest checkpoint that verifies; a corrupted newest falls back to the one
before with a warning naming both. Temporary files left by a write that was killed are removed at
the next write.
"""
import hashlib
import json
import os
import re
import warnings

import numpy as np

from ..io import atomic_write, fsync_folder, remove_stale_temporaries, to_json
from ..random import default_generator

FORMAT = "chainrule-checkpoint-2"
_NAME = re.compile(r"^epoch-(\d+)\.safetensors$")


class CheckpointError(ValueError):
    """A checkpoint is missing, incomplete or corrupted."""


def _sha256(text):
    return hashlib.sha256(text.encode() if isinstance(text, str) else text).hexdigest()


def _tensors_digest(tensors):
    """SHA-256 over every tensor's name, dtype, shape and bytes, in name order."""
    h = hashlib.sha256()
    for name in sorted(tensors):
        a = np.require(tensors[name], requirements="C")
        h.update(f"{name}|{a.dtype.str}|{a.shape}|".encode())
        h.update(a.tobytes())
    return h.hexdigest()


def _optimizer_payload(optimizer):
    """Split an optimizer state dict into arrays (for safetensors) and JSON-able rest."""
    sd = optimizer.state_dict()
    tensors, state = {}, {}
    for idx, entry in sd["state"].items():
        state[str(idx)] = {}
        for k, v in entry.items():
            if isinstance(v, np.ndarray):
                tensors[f"optimizer.{idx}.{k}"] = v
            else:
                state[str(idx)][k] = v
    return tensors, {"type": type(optimizer).__name__, "state": state, "param_groups": sd["param_groups"]}


def checkpoint_bytes(model, optimizer=None, scheduler=None, **info):
    """The bytes of a checkpoint file (see the module docstring)."""
    from safetensors.numpy import save

    # np.require, not np.ascontiguousarray: that one turns 0-d buffers (num_batches_tracked) into shape (1,)
    tensors = {f"model.{k}": np.require(v.data, requirements="C") for k, v in model.state_dict().items()}
    state = {"info": info, "rng": default_generator.get_state()}
    if optimizer is not None:
        opt_tensors, state["optimizer"] = _optimizer_payload(optimizer)
        tensors.update(opt_tensors)
    if scheduler is not None:
        state["scheduler"] = scheduler.state_dict()
    text = to_json(state, "save_checkpoint")
    metadata = {"format": FORMAT, "state": text, "state_sha256": _sha256(text),
                "tensors_sha256": _tensors_digest(tensors)}
    return save(tensors, metadata=metadata)


def save_checkpoint(path, model, optimizer=None, scheduler=None, **info):
    """Write one checkpoint file at ``path`` (atomically): model and optimizer tensors, the
    optimizer's other state, the scheduler's state, the default generator's state and ``info``
    (epoch, step, anything JSON-serializable). Missing folders are created."""
    blob = checkpoint_bytes(model, optimizer, scheduler, **info)
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    atomic_write(path, blob)
    return path


def checkpoint_files(folder):
    """The checkpoints in a run's checkpoint folder, newest (highest epoch) first."""
    if not os.path.isdir(folder):
        return []
    found = [(int(m.group(1)), name) for name in os.listdir(folder) if (m := _NAME.match(name))]
    return [os.path.join(folder, name) for _, name in sorted(found, reverse=True)]


def save_to_folder(folder, epoch, model, optimizer=None, scheduler=None, keep=2, **info):
    """Commit ``folder/epoch-NNNN.safetensors``, then delete all but the newest ``keep``
    checkpoints and any temporaries of killed writes. Returns the path written."""
    if keep < 1:
        raise ValueError(f"keep must be at least 1 (the checkpoint just written), got {keep}")
    created = not os.path.isdir(folder)
    os.makedirs(folder, exist_ok=True)
    if created:
        fsync_folder(os.path.dirname(os.path.abspath(folder)))
    remove_stale_temporaries(folder)
    path = save_checkpoint(os.path.join(folder, f"epoch-{epoch:04d}.safetensors"), model, optimizer, scheduler,
                           epoch=epoch, **info)
    for old in checkpoint_files(folder)[keep:]:
        os.remove(old)
    return path


def _read(path):
    """The verified (state, tensors) of one checkpoint file; CheckpointError naming the file otherwise."""
    from safetensors.numpy import load

    if not os.path.isfile(path):
        raise CheckpointError(f"checkpoint: {path} does not exist")
    with open(path, "rb") as f:
        blob = f.read()
    try:
        n = int.from_bytes(blob[:8], "little")
        metadata = json.loads(blob[8:8 + n]).get("__metadata__") or {}
        tensors = load(blob)
    except Exception as e:  # any malformed header or body: safetensors' own errors, JSON, UTF-8
        raise CheckpointError(f"checkpoint: {path} is not a readable safetensors file ({type(e).__name__}: {e}); "
                              "it is corrupted or incomplete") from None
    if metadata.get("format") != FORMAT:
        raise CheckpointError(f"checkpoint: {path} has format {metadata.get('format')!r}, expected {FORMAT!r} "
                              "(not a chainrule checkpoint, or one from an older version)")
    text = metadata.get("state", "")
    if _sha256(text) != metadata.get("state_sha256"):
        raise CheckpointError(f"checkpoint: the state in {path} does not match its recorded SHA-256; it is corrupted")
    if _tensors_digest(tensors) != metadata.get("tensors_sha256"):
        raise CheckpointError(f"checkpoint: the tensors in {path} do not match their recorded SHA-256; "
                              "it is corrupted")
    return json.loads(text), tensors


def _read_newest(folder):
    """(path, state, tensors) of the newest checkpoint in ``folder`` that verifies; a corrupted newer
    one is skipped with a warning naming both files."""
    files = checkpoint_files(folder)
    if not files:
        raise CheckpointError(f"checkpoint: no checkpoint in {folder} (expected epoch-NNNN.safetensors files)")
    errors = []
    for path in files:
        try:
            state, tensors = _read(path)
        except CheckpointError as e:
            errors.append(str(e))
            continue
        if errors:
            warnings.warn(f"{'; '.join(errors)} — falling back to {path}", RuntimeWarning, stacklevel=3)
        return path, state, tensors
    raise CheckpointError(f"checkpoint: every checkpoint in {folder} is unreadable: {'; '.join(errors)}")


def _retuple(value, like):
    """``value`` read back from JSON, which turned tuples into lists (Adam's betas, OneCycleLR's phases),
    with the tuples of ``like``, the same state as the live object holds it."""
    if isinstance(value, list) and isinstance(like, (list, tuple)) and len(value) == len(like):
        items = [_retuple(v, w) for v, w in zip(value, like)]
        return tuple(items) if isinstance(like, tuple) else items
    if isinstance(value, dict) and isinstance(like, dict):
        return {k: _retuple(v, like[k]) if k in like else v for k, v in value.items()}
    return value


def _check_optimizer(path, state, optimizer):
    saved = state.get("optimizer")
    if saved is None:
        raise CheckpointError(f"checkpoint: {path} holds no optimizer state")
    if saved["type"] != type(optimizer).__name__:
        raise CheckpointError(f"checkpoint: {path} holds the state of a {saved['type']} optimizer, "
                              f"not of the {type(optimizer).__name__} it is loaded into")


def _load_optimizer(state, tensors, optimizer):
    saved = state["optimizer"]
    entries = {int(idx): dict(entry) for idx, entry in saved["state"].items()}
    for k, v in tensors.items():
        if k.startswith("optimizer."):
            _, idx, name = k.split(".", 2)
            entries.setdefault(int(idx), {})[name] = v
    groups = _retuple(saved["param_groups"], optimizer.state_dict()["param_groups"])
    optimizer.load_state_dict({"state": entries, "param_groups": groups})


def load_checkpoint(path, model=None, optimizer=None, scheduler=None, restore_rng=True):
    """Verify and read a checkpoint — a file, or a checkpoint folder (its newest checkpoint that
    verifies) — load it into the given objects and return its ``info`` dict."""
    if os.path.isdir(path):
        path, state, tensors = _read_newest(path)
    else:
        state, tensors = _read(path)
    if optimizer is not None:
        _check_optimizer(path, state, optimizer)  # before anything is loaded: a mismatch changes nothing
    if model is not None:
        model.load_state_dict({k[len("model."):]: v for k, v in tensors.items() if k.startswith("model.")})
    if optimizer is not None:
        _load_optimizer(state, tensors, optimizer)
    if scheduler is not None and "scheduler" in state:
        scheduler.load_state_dict(_retuple(state["scheduler"], scheduler.state_dict()))
    if restore_rng:
        default_generator.set_state(state["rng"])
    return state["info"]
