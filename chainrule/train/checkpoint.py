"""Checkpoints without pickle: tensors in a safetensors file, everything else (epoch, step, RNG states,
hyper-parameters, the tensors file's SHA-256) in a small JSON beside it, which records its own SHA-256
too. Both files are written to temporary files in the same folder and renamed into place only once both
are complete, so a crash never leaves a half-written checkpoint or a new tensors file beside an old JSON;
loading verifies both checksums, so a corrupted file is detected, not silently used."""
import hashlib
import json
import os
import tempfile

import numpy as np

from ..random import default_generator

FORMAT = "chainrule-checkpoint-1"


class CheckpointError(ValueError):
    """A checkpoint is missing, incomplete or corrupted."""


def _atomic_write(files):
    """Write ``{path: bytes}``: every file goes to a temporary file in its folder and is synced first,
    and only when all are complete are they renamed into place, so a crash while writing leaves the
    previous files untouched and no temporary file behind."""
    written = []
    try:
        for path, data in files.items():
            folder = os.path.dirname(os.path.abspath(path))
            os.makedirs(folder, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-", suffix=os.path.basename(path))
            written.append((tmp, path))
            with os.fdopen(fd, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
        for tmp, path in written:
            os.replace(tmp, path)
    except BaseException:
        for tmp, _ in written:
            if os.path.exists(tmp):
                os.remove(tmp)
        raise


def _sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
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
    return tensors, {"state": state, "param_groups": sd["param_groups"]}


def save_checkpoint(path, model, optimizer=None, scheduler=None, **info):
    """Write ``path`` (a .safetensors file) and ``path`` with .json: model and optimizer tensors, the
    optimizer's other state, the scheduler's state, the default generator's state and ``info``
    (epoch, step, anything JSON-serializable)."""
    from safetensors.numpy import save

    # np.require, not np.ascontiguousarray: that one turns 0-d buffers (num_batches_tracked) into shape (1,)
    tensors = {f"model.{k}": np.require(v.data, requirements="C") for k, v in model.state_dict().items()}
    meta = {"format": FORMAT, "info": info, "rng": default_generator.get_state()}
    if optimizer is not None:
        opt_tensors, meta["optimizer"] = _optimizer_payload(optimizer)
        tensors.update(opt_tensors)
    if scheduler is not None:
        meta["scheduler"] = scheduler.state_dict()
    blob = save(tensors)
    meta["sha256"] = hashlib.sha256(blob).hexdigest()
    meta = json.loads(json.dumps(meta, default=_json_default))
    meta["meta_sha256"] = _meta_digest(meta)
    _atomic_write({path: blob, _meta_path(path): json.dumps(meta, indent=1).encode()})
    return path


def _meta_digest(meta):
    """SHA-256 of the JSON metadata in a canonical form (sorted keys), so any changed value is detected."""
    return hashlib.sha256(json.dumps(meta, sort_keys=True).encode()).hexdigest()


def _json_default(v):
    if isinstance(v, np.generic):
        return v.item()
    if isinstance(v, np.ndarray):
        return v.tolist()
    raise TypeError(f"save_checkpoint: {type(v).__name__} is not JSON-serializable")


def _retuple(value, like):
    """``value`` read back from JSON, which turned tuples into lists (Adam's betas, OneCycleLR's phases),
    with the tuples of ``like``, the same state as the live object holds it."""
    if isinstance(value, list) and isinstance(like, (list, tuple)) and len(value) == len(like):
        items = [_retuple(v, w) for v, w in zip(value, like)]
        return tuple(items) if isinstance(like, tuple) else items
    if isinstance(value, dict) and isinstance(like, dict):
        return {k: _retuple(v, like[k]) if k in like else v for k, v in value.items()}
    return value


def _meta_path(path):
    return os.path.splitext(path)[0] + ".json"


def load_checkpoint(path, model=None, optimizer=None, scheduler=None, restore_rng=True):
    """Verify and read a checkpoint; load it into the given objects; return its ``info`` dict."""
    from safetensors.numpy import load

    meta_path = _meta_path(path)
    for p in (path, meta_path):
        if not os.path.exists(p):
            raise CheckpointError(f"checkpoint: {p} does not exist")
    try:
        with open(meta_path) as f:
            meta = json.load(f)
    except (OSError, ValueError) as e:  # ValueError: invalid JSON or invalid UTF-8
        raise CheckpointError(f"checkpoint: {meta_path} is not valid JSON ({e}); the checkpoint is corrupted") from None
    if not isinstance(meta, dict) or meta.pop("meta_sha256", None) != _meta_digest(meta):
        raise CheckpointError(f"checkpoint: {meta_path} does not match its recorded SHA-256; it is corrupted")
    if meta.get("format") != FORMAT:
        raise CheckpointError(f"checkpoint: {meta_path} has format {meta.get('format')!r}, expected {FORMAT!r}")
    with open(path, "rb") as f:
        blob = f.read()
    if hashlib.sha256(blob).hexdigest() != meta.get("sha256"):
        raise CheckpointError(f"checkpoint: {path} does not match the SHA-256 recorded in {meta_path}; it is corrupted")
    tensors = load(blob)
    if model is not None:
        model.load_state_dict({k[len("model."):]: v for k, v in tensors.items() if k.startswith("model.")})
    if optimizer is not None:
        if "optimizer" not in meta:
            raise CheckpointError(f"checkpoint: {path} holds no optimizer state")
        state = {}
        for idx, entry in meta["optimizer"]["state"].items():
            state[int(idx)] = dict(entry)
        for k, v in tensors.items():
            if k.startswith("optimizer."):
                _, idx, name = k.split(".", 2)
                state.setdefault(int(idx), {})[name] = v
        groups = _retuple(meta["optimizer"]["param_groups"], optimizer.state_dict()["param_groups"])
        optimizer.load_state_dict({"state": state, "param_groups": groups})
    if scheduler is not None and "scheduler" in meta:
        scheduler.load_state_dict(_retuple(meta["scheduler"], scheduler.state_dict()))
    if restore_rng:
        default_generator.set_state(meta["rng"])
    return meta["info"]
