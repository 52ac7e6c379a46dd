"""Every tutorial (tutorials/NN_*.py, jupytext py:percent) runs as a notebook: converted with jupytext and executed
cell by cell by nbclient in a fresh kernel, from the repository root, offline; any error fails it. Marked ``docs``
(not in the default run): `.ci/run` runs ``python -m pytest -q -m docs`` as its own step."""
import pathlib
import time

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
TUTORIALS = sorted((ROOT / "tutorials").glob("[0-9][0-9]_*.py"))

pytestmark = pytest.mark.docs


def test_there_are_tutorials():
    assert len(TUTORIALS) >= 7, [t.name for t in TUTORIALS]


@pytest.mark.parametrize("path", TUTORIALS, ids=lambda p: p.stem)
def test_tutorial_runs_as_a_notebook(path, monkeypatch):
    import jupytext  # the docs extra: pip install ".[docs]"
    import nbclient
    monkeypatch.setenv("MPLBACKEND", "Agg")
    notebook = jupytext.read(path)
    client = nbclient.NotebookClient(notebook, timeout=300, kernel_name="python3",
                                     resources={"metadata": {"path": str(ROOT)}})
    start = time.perf_counter()
    client.execute()
    elapsed = time.perf_counter() - start
    outputs = [o for cell in notebook.cells if cell.cell_type == "code" for o in cell.get("outputs", [])]
    assert outputs, f"{path.name} printed nothing"
    print(f"{path.name}: {elapsed:.1f} s")
