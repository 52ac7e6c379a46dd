"""Optimizer base: parameter groups with their own hyper-parameters, per-parameter state, and a
``state_dict`` in PyTorch's layout so a run can be resumed exactly."""
import copy
import math

import numpy as np

from ..tensor import Tensor

# the arguments whose torch message is not "Invalid <name> value: <value>", and those whose interval is
# not [0, inf): argument → (words in the message, low, high, whether high itself is allowed)
_ARGUMENTS = {
    "lr": ("learning rate", 0.0, math.inf, True),
    "eps": ("epsilon value", 0.0, math.inf, True),
    "rho": ("rho value", 0.0, 1.0, True),
    "betas": ("beta parameter at index {index}", 0.0, 1.0, False),
}


def check_hyperparameters(**arguments):
    """Check an optimizer's arguments in the order given, raising torch's own
    ``ValueError("Invalid <what>: <value>")`` for the first outside its interval: [0, ∞) unless
    ``_ARGUMENTS`` says otherwise (rho ∈ [0, 1], each of ``betas`` ∈ [0, 1)). NaN lies in no interval."""
    for name, value in arguments.items():
        words, low, high, high_allowed = _ARGUMENTS.get(name, (f"{name} value", 0.0, math.inf, True))
        entries = enumerate(value) if name == "betas" else [(None, value)]
        for index, v in entries:
            inside = low <= v <= high if high_allowed else low <= v < high
            if not inside:
                raise ValueError(f"Invalid {words.format(index=index)}: {v}")


class Optimizer:
    """Holds ``param_groups`` (dicts with ``params`` plus hyper-parameters, missing ones taken from
    ``defaults``) and ``state`` (per parameter). Subclasses implement ``step``."""

    def __init__(self, params, defaults):
        self.defaults = defaults
        self.state = {}
        self.param_groups = []
        if isinstance(params, Tensor):
            raise TypeError("optimizer: params must be an iterable of Tensors or of dicts, got a single Tensor")
        groups = list(params)
        if not groups:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for g in groups:
            self.add_param_group(g)

    def add_param_group(self, group):
        """Add a dict with ``params`` and any hyper-parameters that differ from the defaults."""
        if not isinstance(group, dict):
            raise TypeError(f"add_param_group: a param group must be a dict, got {type(group).__name__}")
        params = group["params"]
        params = [params] if isinstance(params, Tensor) else list(params)
        for p in params:
            if not isinstance(p, Tensor):
                raise TypeError(f"optimizer can only optimize Tensors, got {type(p).__name__}")
            if not p.is_leaf:
                raise ValueError("optimizer can't optimize a non-leaf Tensor")
        if len({id(p) for p in params}) != len(params):
            raise ValueError("optimizer: a parameter group contains a parameter more than once")
        existing = {id(p) for g in self.param_groups for p in g["params"]}
        if any(id(p) in existing for p in params):
            raise ValueError("some parameters appear in more than one parameter group")
        full = dict(self.defaults)
        full.update(group)
        full["params"] = params
        self.param_groups.append(full)

    def zero_grad(self, set_to_none=True):
        """Clear the gradient of every parameter in every group: set it to None (``set_to_none=True``, the default, as
        torch) or fill it with zeros."""
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                if set_to_none:
                    p.grad = None
                else:
                    p.grad.data[...] = 0

    def step(self):
        """One update of every parameter that has a gradient, by the subclass's rule; ``closure`` (where accepted)
        re-evaluates the loss and its value is returned. Raises NotImplementedError here."""
        raise NotImplementedError

    def state_dict(self):
        """``{'state': {index: {name: array}}, 'param_groups': [{..., 'params': [index, ...]}]}``,
        parameters numbered in group order (PyTorch's layout); arrays are copies."""
        index, groups = {}, []
        for g in self.param_groups:
            packed = {k: v for k, v in g.items() if k != "params"}
            packed["params"] = []
            for p in g["params"]:
                index.setdefault(id(p), len(index))
                packed["params"].append(index[id(p)])
            groups.append(packed)
        state = {}
        for g in self.param_groups:
            for p in g["params"]:
                if id(p) in self.state:
                    state[index[id(p)]] = {
                        k: (v.copy() if isinstance(v, np.ndarray) else copy.copy(v)) for k, v in self.state[id(p)].items()
                    }
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict):
        """Restore hyper-parameters and per-parameter state saved by ``state_dict``."""
        groups = state_dict["param_groups"]
        if len(groups) != len(self.param_groups):
            raise ValueError(
                f"load_state_dict: the saved state has {len(groups)} parameter groups, this optimizer has "
                f"{len(self.param_groups)}"
            )
        for saved, own in zip(groups, self.param_groups):
            if len(saved["params"]) != len(own["params"]):
                raise ValueError(
                    f"load_state_dict: a saved group has {len(saved['params'])} parameters, this one has "
                    f"{len(own['params'])}"
                )
        self.state = {}
        for saved, own in zip(groups, self.param_groups):
            own.update({k: v for k, v in saved.items() if k != "params"})
            for i, p in zip(saved["params"], own["params"]):
                entry = state_dict["state"].get(i, state_dict["state"].get(str(i)))
                if entry is not None:
                    self.state[id(p)] = {
                        k: (np.asarray(v).astype(p.data.dtype) if isinstance(v, np.ndarray) else v) for k, v in entry.items()
                    }

    def __repr__(self):
        lines = [f"{type(self).__name__} ("]
        for i, g in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            lines += [f"    {k}: {v}" for k, v in sorted(g.items()) if k != "params"]
        return "\n".join(lines) + "\n)"
