"""The benchmarks record the machine their figures come from: CPU model, ISA, NumPy's BLAS kernel, torch's."""
import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "benchmarks"))
import _common  # noqa: E402 - the benchmarks' own helpers, a script folder


def test_machine_names_the_cpu_and_each_frameworks_kernels():
    info = _common.machine()
    assert set(info) == {"cpu", "isa", "numpy_blas", "torch_cpu"} and all(info.values())
    assert info["numpy_blas"] != "n/a"  # NumPy's BLAS is found by threadpoolctl
    assert set(info["isa"].split()) <= set(_common.ISA_FLAGS) or info["isa"] == "n/a"
    line = _common.describe_machine(info)
    assert info["cpu"] in line and info["torch_cpu"] in line and info["numpy_blas"] in line
