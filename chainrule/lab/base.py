"""What every lab experiment returns, and the registry that lists them.

An experiment is a module with ``NAME``, ``NOTE`` (which note makes the claim), ``CLAIM`` (the
claim in one sentence) and ``run(quick=False, seed=0, out=...) -> Result``. It measures, decides
whether the claim held in a fair setup, and draws its pictures into ``out``. The lab reports what
was measured: a claim that does not hold is reported as such.
"""
import importlib
import os
from dataclasses import asdict, dataclass, field

from ..io import to_json

MODULES = (
    "vanishing_gradients", "exploding_gradients", "initialization", "normalization", "activations",
    "regularization", "optimizers", "learning_rate_and_scaling", "normal_equation_vs_gd", "newton_vs_gd",
    "pooling_backward", "architectures", "residual_depth", "conv_arithmetic", "translation_invariance",
    "overlapping_pooling", "per_sample_normalization", "whitening", "norm_in_rnn", "higher_derivatives",
    "gd_variants", "dead_relus", "lstm_vs_rnn", "fine_tuning", "min_max_scaling",
    "instance_norm_generation", "layerwise_pretraining", "conv_algorithms",
)


@dataclass
class Result:
    """The outcome of one experiment.

    numbers   the measured figures (JSON-serializable), e.g. {"final_accuracy": {"sigmoid": 0.41, ...}}
    held      did the claim hold in this experiment (all of it)
    in_part   some of its parts held and some did not (``held`` is then False)
    verdict   one or two sentences with the figures that decide it
    figures   PNG file names, relative to the experiment's output folder
    tables    optional [{"title": str, "columns": [...], "rows": [[...], ...]}]
    pages     optional [[label, file name]]: further pages in the folder (e.g. graph explorers)
    """

    name: str
    note: str
    claim: str
    setup: str
    numbers: dict
    held: bool
    verdict: str
    figures: list = field(default_factory=list)
    tables: list = field(default_factory=list)
    pages: list = field(default_factory=list)
    seconds: float = 0.0
    quick: bool = False
    in_part: bool = False

    @property
    def outcome(self):
        """The verdict in the lab's three words: "held", "held in part" or "did not hold"."""
        return "held" if self.held else "held in part" if self.in_part else "did not hold"

    def to_dict(self):
        return {**asdict(self), "outcome": self.outcome}

    def save(self, out):
        with open(os.path.join(out, "result.json"), "w") as f:
            f.write(to_json(self.to_dict(), "Result", indent=1))


def _import(module_name):
    """The lab module ``module_name``, or None when it does not exist (yet); other import errors are raised."""
    try:
        return importlib.import_module(f"chainrule.lab.{module_name}")
    except ModuleNotFoundError as e:
        if e.name != f"chainrule.lab.{module_name}":
            raise
        return None


def experiments():
    """name → experiment module, in the order of the issue's list (modules not written yet are left out)."""
    return {m.NAME: m for m in map(_import, MODULES) if m is not None}


def get(name):
    """The experiment called ``name``. Imports only its module when the name is the module's name with
    '-' for '_' (true of every listed experiment), the whole registry otherwise."""
    import difflib

    module_name = str(name).replace("-", "_")
    module = _import(module_name) if module_name in MODULES else None
    if module is not None and module.NAME == name:
        return module
    registry = experiments()
    if name not in registry:
        close = difflib.get_close_matches(name, registry, n=3)
        hint = f" Did you mean {', '.join(map(repr, close))}?" if close else ""
        raise KeyError(f"unknown lab experiment {name!r}.{hint} Available: {', '.join(registry)}")
    return registry[name]
