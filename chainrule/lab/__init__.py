"""The lab: every claim of the notes as an experiment that measures it [notes 000–004].

    from chainrule import lab
    result = lab.run("vanishing-gradients", quick=True, out="runs/lab-report")
    lab.run_all(quick=True, out="runs/lab-report")        # every experiment + index.md / index.html

or ``chainrule lab list``, ``chainrule lab run NAME [--quick]``, ``chainrule lab all [--quick]``.
"""
import os
import time

from .base import Result, experiments, get
from .report import write_index, write_pages


def run(name, quick=False, seed=0, out="runs/lab-report"):
    """Run one experiment into ``out/<name>/`` (its pictures, result.json and report pages)."""
    module = get(name)
    folder = os.path.join(out, module.NAME)
    os.makedirs(folder, exist_ok=True)
    start = time.perf_counter()
    result = module.run(quick=quick, seed=seed, out=folder)
    result.seconds, result.quick = time.perf_counter() - start, quick
    result.save(folder)
    write_pages(result, folder)
    return result


def run_all(quick=False, seed=0, out="runs/lab-report", names=None):
    """Run every experiment (or ``names``) and write the index; returns the results."""
    results = [run(name, quick, seed, out) for name in (names or experiments())]
    write_index(results, out)
    return results


__all__ = ["Result", "experiments", "get", "run", "run_all"]
