"""Shared by the lab's tests: each experiment run once, quick, into its own temporary folder, and the checks every
experiment's result must pass."""
from threadpoolctl import threadpool_limits

from chainrule.lab.base import MODULES, Result, get
from chainrule.lab.report import write_pages


def run_quick(experiments, tmp_path_factory, seed=0):
    """{name: (Result, folder)} for each experiment module, run with ``quick=True`` on one BLAS thread."""
    out = {}
    with threadpool_limits(1):
        for module in experiments:
            folder = tmp_path_factory.mktemp(module.NAME)
            result = module.run(quick=True, seed=seed, out=str(folder))
            result.quick = True
            out[module.NAME] = (result, folder)
    return out


def assert_well_formed(module, result, folder):
    """Registered, named as its module; one of the three outcomes, and where the experiment records the parts of its
    claim, the verdict follows them (every failed part named in it, only those); the figures written; the report
    page shows the verdict and no raw dict."""
    assert isinstance(result, Result) and module.NAME.replace("-", "_") in MODULES and get(module.NAME) is module
    assert (result.name, result.note, result.claim) == (module.NAME, module.NOTE, module.CLAIM)
    assert result.outcome in ("held", "held in part", "did not hold") and not (result.held and result.in_part)
    parts = result.numbers.get("parts", {})
    if parts:
        assert result.held == all(parts.values())
        assert result.in_part == (not result.held and any(parts.values()))
    for part, held in parts.items():
        assert (part in result.verdict) == (not held), part
    for f in result.figures:
        assert (folder / f).stat().st_size > 10_000, f
    result.save(str(folder))
    write_pages(result, str(folder))
    md = (folder / f"{result.name}.md").read_text()
    assert f"Verdict: {result.outcome.upper()}." in md and "{'" not in md
