"""Gradient-flow diagnostics [note 000–004: vanishing and exploding gradients].

``GradientFlow(model)`` watches training through hooks: after each ``loss.backward()`` call
``monitor.record()`` (per layer: gradient norm, mean |g|, max |g|, weight norm), after
``optimizer.step()`` call ``monitor.after_step()`` (update/weight ratio ‖Δw‖/‖w‖); forward hooks
collect activation statistics (mean, std, the fraction saturated for sigmoid/tanh, the fraction of
dead units for ReLU). ``report()`` names the symptoms the notes describe:

- vanishing: the first layer's gradient norm is orders of magnitude below the last's (saturating
  activations, deep products of small factors, bad initialization);
- exploding: non-finite gradients, or gradient norms growing step over step (too large a learning
  rate or initialization) — remedies: clipping, a smaller learning rate, normalization, proper init.

Memory stays flat over a run of any length: ``history`` keeps the full records of the last ``window``
steps only (and step 0's), a downsampled ``trace`` of the gradient norms covers the whole run for the
plot, and the figures ``report()`` needs from the whole run (step 0's total norm, the first
non-finite gradient) are kept as they pass.
"""
import math
from collections import deque

import numpy as np

from ..io import save_figure

SATURATING = {"Sigmoid": lambda a: (a < 0.02) | (a > 0.98), "Tanh": lambda a: np.abs(a) > 0.98}
TRACE_SIZE = 512  # points of the whole-run trace (even: halving keeps the spacing uniform)


def _norm(a):
    return float(np.sqrt(np.sum(np.square(a, dtype=np.float64))))


def _total(layers):
    """The whole model's gradient norm √(Σ_layers ‖g‖²) from one step's per-layer statistics."""
    return math.sqrt(sum(s["grad_norm"] ** 2 for s in layers.values()))


class GradientFlow:
    """Per-layer gradient and activation statistics over training. Layers are the leaf modules that
    own parameters, in registration order (input side first).

    ``history``: the records (``{'step', 'layers', 'activations'}``) of the last ``window`` steps;
    ``first``: step 0's. ``trace``: ``{'step', 'total', 'grad_norms'}`` of every k-th step since step 0,
    at most ``TRACE_SIZE`` of them: when full, every other one is dropped and k doubles."""

    def __init__(self, model, vanishing_ratio=1e-3, exploding_growth=1e3, window=256):
        if window < 1:
            raise ValueError(f"GradientFlow: window must be at least 1 step, got {window}")
        self.model = model
        self.vanishing_ratio, self.exploding_growth = vanishing_ratio, exploding_growth
        leaves = [(n, m) for n, m in model.named_modules() if not any(True for _ in m.children())]
        self.layers = [(n, m) for n, m in leaves if any(True for _ in m.parameters(recurse=False))]
        if not self.layers:
            raise ValueError(f"GradientFlow: {type(model).__name__} has no layer with parameters to watch")
        self.history, self.activations, self._snapshot = deque(maxlen=window), {}, None
        self.steps, self.first, self.first_non_finite = 0, None, None  # steps recorded, step 0's record, (step, layer)
        self.trace, self._stride = [], 1
        self._handles = [m.register_forward_hook(self._activation_hook(n)) for n, m in leaves]

    def _activation_hook(self, name):
        def hook(module, args, out):
            data = getattr(out, "data", None)
            if not isinstance(data, np.ndarray) or data.dtype.kind != "f" or data.size == 0:
                return
            kind = type(module).__name__
            stats = dict(type=kind, mean=float(data.mean()), std=float(data.std()))
            if kind in SATURATING:
                stats["saturated"] = float(SATURATING[kind](data).mean())
            if kind in ("ReLU",):
                units = data.reshape(data.shape[0], -1) if data.ndim > 1 else data[None]
                stats["dead"] = float(np.all(units <= 0, axis=0).mean())
            self.activations[name] = stats
        return hook

    def remove(self):
        """Detach the forward hooks."""
        for h in self._handles:
            h.remove()
        self._handles = []

    def record(self):
        """Read every watched layer's gradients (call after ``loss.backward()``)."""
        layers = {}
        for name, module in self.layers:
            grads = [p.grad.data for p in module.parameters(recurse=False) if p.grad is not None]
            weights = [p.data for p in module.parameters(recurse=False)]
            if not grads:
                continue
            flat = np.concatenate([g.ravel() for g in grads])
            finite = bool(np.all(np.isfinite(flat)))
            layers[name] = dict(
                type=type(module).__name__, grad_norm=_norm(flat), grad_mean_abs=float(np.mean(np.abs(flat))),
                grad_max_abs=float(np.max(np.abs(flat))), weight_norm=_norm(np.concatenate([w.ravel() for w in weights])),
                finite=finite,
            )
        self._snapshot = {name: [p.data.copy() for p in m.parameters(recurse=False)] for name, m in self.layers}
        step, self.steps = self.steps, self.steps + 1
        self.history.append(dict(step=step, layers=layers, activations=dict(self.activations)))
        if step == 0:
            self.first = self.history[-1]
        if self.first_non_finite is None:
            self.first_non_finite = next(((step, n) for n, s in layers.items() if not s["finite"]), None)
        if step % self._stride == 0:
            self._add_to_trace(step, layers)
        return layers

    def _add_to_trace(self, step, layers):
        norms = {name: s["grad_norm"] for name, s in layers.items()}
        self.trace.append(dict(step=step, total=_total(layers), grad_norms=norms))
        if len(self.trace) == TRACE_SIZE:  # keep the multiples of 2k; from now on every 2k-th step
            del self.trace[1::2]
            self._stride *= 2

    def after_step(self):
        """Record ‖Δw‖/‖w‖ of each layer for the last step (call after ``optimizer.step()``)."""
        if self._snapshot is None or not self.history:
            raise RuntimeError("GradientFlow.after_step: call record() after backward and before the optimizer step")
        for name, module in self.layers:
            before = self._snapshot[name]
            delta = _norm(np.concatenate([(p.data - b).ravel() for p, b in zip(module.parameters(recurse=False), before)]))
            norm = _norm(np.concatenate([b.ravel() for b in before]))
            if name in self.history[-1]["layers"]:
                self.history[-1]["layers"][name]["update_ratio"] = delta / norm if norm else math.inf
        self._snapshot = None

    def stats(self, step=-1):
        """The record of step ``step`` (negative: counted from the end): step 0 or one of the last ``window``."""
        at = step + self.steps if step < 0 else step
        if at == 0 and self.first is not None:
            return self.first
        oldest = self.steps - len(self.history)
        if not oldest <= at < self.steps:
            raise IndexError(f"GradientFlow: step {step} is not kept: {self.steps} steps recorded, of which step 0 and "
                             f"the last {len(self.history)}; GradientFlow(model, window=...) keeps more")
        return self.history[at - oldest]

    def grad_norms(self, step=-1):
        """Per-layer gradient norms at one recorded step (see ``stats``), input side first."""
        layers = self.stats(step)["layers"]
        return [layers[name]["grad_norm"] for name, _ in self.layers if name in layers]

    def report(self):
        """Verdicts with the figures that decide them: ``{'vanishing': bool, 'exploding': bool,
        'healthy': bool, 'messages': [...], 'first_to_last_ratio': float, ...}``. Vanishing, dead and
        saturated are read at the last step; exploding over the whole run: a non-finite gradient at any
        step, or the last step's total norm over ``exploding_growth`` × step 0's. ``total_grad_norms``
        at ``total_grad_norm_steps``: the trace's."""
        if not self.steps:
            raise RuntimeError("GradientFlow.report: nothing recorded yet; call record() after backward")
        messages = []
        norms = self.grad_norms(-1)
        first, last = norms[0], norms[-1]
        ratio = first / last if last > 0 else (math.inf if first > 0 else 1.0)
        vanishing = bool(np.isfinite(ratio) and ratio < self.vanishing_ratio)
        if vanishing:
            smaller = f"{1 / ratio:.3g}× smaller than" if ratio > 0 else "zero, unlike"  # 0: e.g. dead ReLUs
            messages.append(
                f"vanishing gradients: the first layer's gradient norm ({first:.3g}) is {smaller} "
                "the last's — saturating activations or a deep product of small factors; try ReLU-family activations, "
                "BatchNorm, residual connections or Xavier/He initialization"
            )
        first_total, last_total = _total(self.first["layers"]), _total(self.history[-1]["layers"])
        growing = self.steps >= 3 and first_total > 0 and last_total > self.exploding_growth * first_total
        exploding = self.first_non_finite is not None or growing
        if self.first_non_finite is not None:
            step, name = self.first_non_finite
            messages.append(f"exploding gradients: non-finite gradient in layer {name!r} at step {step}")
        if growing:
            messages.append(f"exploding gradients: the total gradient norm grew from {first_total:.3g} to "
                            f"{last_total:.3g}")
        if exploding:
            messages.append("remedies: gradient clipping, a smaller learning rate, normalization, proper initialization")
        dead = {n: a["dead"] for n, a in self.history[-1]["activations"].items() if a.get("dead", 0) > 0.5}
        saturated = {n: a["saturated"] for n, a in self.history[-1]["activations"].items() if a.get("saturated", 0) > 0.5}
        if dead:
            messages.append(f"dead ReLUs: more than half the units never fire in {sorted(dead)}")
        if saturated:
            messages.append(f"saturated activations: more than half the outputs saturate in {sorted(saturated)}")
        return dict(vanishing=vanishing, exploding=exploding, healthy=not (vanishing or exploding),
                    first_to_last_ratio=ratio, grad_norms=norms, total_grad_norms=[t["total"] for t in self.trace],
                    total_grad_norm_steps=[t["step"] for t in self.trace], dead=dead,
                    saturated=saturated, messages=messages or ["healthy: gradients reach every layer at similar scale"])

    def plot(self, path):
        """Draw per-layer gradient norms over training (left, the trace) and against depth at the last step (right)."""
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4))
        names = [n for n, _ in self.layers]
        for name in names:
            steps = [t["step"] for t in self.trace if name in t["grad_norms"]]
            values = [t["grad_norms"][name] for t in self.trace if name in t["grad_norms"]]
            ax1.plot(steps, values, label=name if len(names) <= 10 else None)
        ax1.set(yscale="log", xlabel="step", ylabel="gradient norm", title="per-layer gradient norm over training")
        if len(names) <= 10:
            ax1.legend(fontsize="small")
        norms = self.grad_norms(-1)
        ax2.plot(range(1, len(norms) + 1), norms, marker="o")
        ax2.set(yscale="log", xlabel="layer (input → output)", ylabel="gradient norm", title="gradient norm vs depth")
        fig.tight_layout()
        return save_figure(fig, path)
