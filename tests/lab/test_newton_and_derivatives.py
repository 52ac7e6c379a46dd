"""The lab's newton-vs-gd and higher-derivatives experiments (issue #20: higher-order gradients), each run once in
its quick version (seed 0) into a temporary folder and written into a report, and the Python blocks of
docs/higher-order.md run as one script. Asserted: the verdicts and the figures that decide them, as measured
(iteration counts and errors are deterministic; wall times are only reported), and the helpers against
independent references — torch's nested autograd for the derivatives of tanh, the closed-form Hessians."""
import itertools
import pathlib

import numpy as np
import pytest
import torch
from threadpoolctl import threadpool_limits

import chainrule as cr
from chainrule.lab import get, higher_derivatives, newton_vs_gd
from chainrule.lab.base import MODULES, Result, experiments
from chainrule.lab.report import write_pages
from tests.lab import run_quick

ROOT = pathlib.Path(__file__).resolve().parents[2]
EXPERIMENTS = (newton_vs_gd, higher_derivatives)


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    out = run_quick(EXPERIMENTS, tmp_path_factory)
    for result, folder in out.values():
        result.save(str(folder))  # the numbers are JSON-serializable
        write_pages(result, str(folder))
    return out


@pytest.mark.parametrize("module", EXPERIMENTS, ids=lambda m: m.NAME)
def test_registered_and_shaped(results, module):
    result, folder = results[module.NAME]
    assert isinstance(result, Result)
    assert (result.name, result.note, result.claim) == (module.NAME, module.NOTE, module.CLAIM)
    assert module.NAME.replace("-", "_") in MODULES and get(module.NAME) is module and module.NAME in experiments()
    assert result.verdict and result.setup and result.tables
    for f in result.figures:
        assert (folder / f).stat().st_size > 10_000, f
    assert (folder / "result.json").exists()


def test_newton_vs_gd(results):
    result, _ = results["newton-vs-gd"]
    assert result.held is True and result.outcome == "held"
    # least squares: one Newton step from 0 and from a random start lands on the normal equation's solution
    for start in result.numbers["one_newton_step"].values():
        assert start["distance"] < 1e-8 and start["gradient_ratio"] < 1e-12 and start["hessian_error"] < 1e-12
    s = {}
    for run in result.numbers["runs"]:
        s.setdefault(run["problem"], {})[run["method"]] = run
    assert s["least squares"]["newton"]["steps"] == s["least squares"]["linearized"]["steps"] == 1
    # logistic regression: Newton and IRLS take the same steps; Rosenbrock: Gauss-Newton in 2, Newton in 6
    assert s["logistic regression"]["newton"]["steps"] == s["logistic regression"]["linearized"]["steps"] == 7
    assert result.numbers["irls_vs_newton"] < 1e-10
    assert (s["Rosenbrock"]["newton"]["steps"], s["Rosenbrock"]["linearized"]["steps"]) == (6, 2)
    for problem in s.values():  # the quick run caps gradient descent at 500 steps: none reaches 1e-8
        assert problem["gradient descent"]["steps"] == 500 and not problem["gradient descent"]["reached"]
        assert problem["newton"]["reached"] and problem["linearized"]["reached"]
        assert problem["newton"]["excess_loss"] < 1e-12 and problem["gradient descent"]["excess_loss"] > 0
    # the table says what the numbers say, and so does the verdict
    rows = result.tables[1]["rows"]
    assert [r[2] for r in rows] == [1, "> 500 (cap)", 1, 7, "> 500 (cap)", 7, 6, "> 500 (cap)", 2]
    assert "Logistic regression: Newton 7 steps, IRLS 7 steps, gradient descent more than its cap of 500" \
        in result.verdict
    assert "Rosenbrock: Newton 6 steps, Gauss-Newton 2 steps" in result.verdict and "Not held" not in result.verdict


def test_the_double_backward_hessian_is_the_closed_form():
    rng = np.random.default_rng(1)
    A, y = rng.standard_normal((40, 4)), rng.standard_normal(40)
    theta = rng.standard_normal(4)
    t = cr.tensor(theta, requires_grad=True)
    z = cr.tensor(A) @ t
    g, h = newton_vs_gd.hessian((z.logaddexp(cr.tensor(np.zeros(()))) - cr.tensor(y) * z).mean(), t)
    p = 1 / (1 + np.exp(-A @ theta))
    np.testing.assert_allclose(g, A.T @ (p - y) / 40, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(h, A.T @ ((p * (1 - p))[:, None] * A) / 40, rtol=1e-12, atol=1e-14)
    # Rosenbrock's Hessian by hand: [[2 − 400(y − 3x²), −400x], [−400x, 200]]
    for x0, y0 in [(-1.2, 1.0), (1.0, 1.0), (0.3, -2.0)]:
        t = cr.tensor([x0, y0], dtype=cr.float64, requires_grad=True)
        _, h = newton_vs_gd.hessian(newton_vs_gd.rosenbrock(t), t)
        np.testing.assert_allclose(h, [[2 - 400 * (y0 - 3 * x0 ** 2), -400 * x0], [-400 * x0, 200]], rtol=1e-13)
    # one IRLS step is one Newton step
    loss = newton_vs_gd.logistic_loss(A, (y > 0).astype(float), 0.1)
    np.testing.assert_allclose(newton_vs_gd.irls_step(A, (y > 0).astype(float), 0.1)(theta),
                               newton_vs_gd.newton_step(loss, theta), rtol=1e-12)


def test_higher_derivatives(results):
    result, _ = results["higher-derivatives"]
    assert result.held is True and result.outcome == "held"
    errors = result.numbers["max_error"]
    assert list(errors) == ["1", "2", "3", "4", "5", "6"] and max(errors.values()) < 1e-10
    nodes = list(result.numbers["graph_nodes"].values())
    assert all(b > a for a, b in itertools.pairwise(nodes))
    rows = result.tables[0]["rows"]
    assert [r[1] for r in rows[:3]] == ["−t² + 1", "2t³ − 2t", "−6t⁴ + 8t² − 2"]
    assert [r[2] for r in rows] == list(errors.values()) and [r[4] for r in rows] == nodes
    assert f"{max(errors.values()):.1e} at worst" in result.verdict


def test_tanh_polynomials_and_derivatives_equal_torch():
    """Pₙ from the recurrence, and chainrule's nested derivatives, against torch's nested autograd."""
    x = np.linspace(-3, 3, 41)
    polys = higher_derivatives.tanh_polynomials(6)
    assert [list(p.coef) for p in polys[:3]] == [[0, 1], [1, 0, -1], [0, -2, 0, 2]]
    ours = higher_derivatives.derivatives(x, 6)
    xt = torch.tensor(x, requires_grad=True)
    d = torch.tanh(xt)
    for n in range(1, 7):
        (d,) = torch.autograd.grad(d.sum(), xt, create_graph=True)
        np.testing.assert_allclose(polys[n](np.tanh(x)), d.detach().numpy(), rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(ours[n - 1][0].detach().numpy(), d.detach().numpy(), rtol=1e-12, atol=1e-12)


def test_graph_nodes_counts_each_function_once():
    x = cr.tensor([0.5, 1.0], requires_grad=True)
    t = x.tanh()
    assert higher_derivatives.graph_nodes(t) == 1
    assert higher_derivatives.graph_nodes((t * t + t).sum()) == 4  # tanh shared by mul and add: counted once


def python_blocks(text):
    """The page's ```python blocks as one script, every other line blanked, so that a traceback's line numbers are
    the page's."""
    lines, inside = [], False
    for line in text.splitlines():
        if line.startswith("```"):
            inside = line == "```python"
            lines.append("")
        else:
            lines.append(line if inside else "")
    return "\n".join(lines)


def test_the_higher_order_page_runs():
    """docs/higher-order.md's Python blocks, in order, as one script (each checks what it shows with asserts)."""
    text = (ROOT / "docs" / "higher-order.md").read_text()
    assert text.count("```python") >= 8
    with threadpool_limits(1):
        exec(compile(python_blocks(text), "docs/higher-order.md", "exec"), {})  # noqa: S102 - our own page
