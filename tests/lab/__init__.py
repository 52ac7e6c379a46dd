"""Shared by the lab's tests: each experiment run once, quick, into its own temporary folder."""
from threadpoolctl import threadpool_limits


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
