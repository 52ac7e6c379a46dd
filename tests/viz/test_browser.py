"""The explorer page in a real browser: Debian's Chromium, driven by Playwright (no browser download).

Each page is saved by chainrule.viz and opened from file://, as a learner would. Checked: no
JavaScript error; every node drawn once all modules are expanded; collapsing a module draws it as one
node; the step-through visits the sweep in order and prints, at every step, the total gradient
chainrule computed (the JSON's and the parameters' own .grad, to the 5 digits printed); the DP table
fills row by row; module boxes nest and never overlap; two explorers share a page. Screenshots go to
each test's tmp folder.
"""
import re
import shutil
import time

import numpy as np
import pytest
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import sync_playwright

import chainrule as cr
from chainrule import models, viz
from chainrule.nn import functional as F

pytestmark = pytest.mark.browser

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# Headless as root, on a machine with no network: no sandbox, no background connections.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-sync",
                 "--disable-background-networking", "--disable-component-update"]
NUMBER = re.compile(r"-?(?:inf|nan|\d+(?:\.\d+)?(?:e[-+]?\d+)?)")


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as p:
        try:
            chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, timeout=30_000)
        except PlaywrightError as e:
            pytest.skip(f"Chromium cannot be started from {CHROMIUM} (install Debian's chromium): {e.message[:300]}")
        yield chromium
        chromium.close()


class Page:
    """One explorer page open in the browser, with every console error and uncaught exception kept."""

    def __init__(self, browser, path):
        self.page = browser.new_page(viewport={"width": 1400, "height": 900})
        self.errors = []
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        start = time.perf_counter()
        self.page.goto(path.resolve().as_uri())
        self.page.wait_for_selector(".chainrule-graph[data-cr-ready]", timeout=10_000)
        self.load_seconds = time.perf_counter() - start

    def js(self, expression, arg=None):
        return self.page.evaluate(expression, arg)

    def call(self, method, *args):
        """Call a method of the first explorer, e.g. call('collapse', 'layer1')."""
        return self.js("([m, a]) => window.chainruleExplorers[0][m](...a)", [method, list(args)])

    def drawn(self):
        return self.js("document.querySelectorAll('.chainrule-graph svg g.node').length")

    def screenshot(self, path):
        self.page.screenshot(path=str(path))
        print(f"screenshot: {path}")

    def close(self):
        assert self.errors == [], f"JavaScript errors: {self.errors}"
        self.page.close()


def _traced(name, shape):
    cr.manual_seed(0)
    model = getattr(models, name)()
    with viz.trace(model):
        loss = F.cross_entropy(model(cr.randn(*shape)), cr.tensor([1, 2]))
    view = viz.graph(loss, title=f"{name} loss")
    loss.backward()
    return model, view


def _numbers(text):
    return np.array([float(s) for s in NUMBER.findall(text)])


def _norm_printed(text):
    """'‖g‖ = 0.12346' → 0.12346"""
    return float(text.split("=")[1])


STEP_ALL = """() => {
  const x = window.chainruleExplorers[0], root = x.root, text = sel => {
    const el = root.querySelector(sel); return el ? el.textContent : null; };
  const rows = [];
  for (let k = 0; k < x.data.sweep.length; k++) {
    x.step(k);
    const current = root.querySelectorAll('svg g.node.current');
    rows.push({
      current: Array.from(current).map(el => Number(el.dataset.id)),
      name: text('.cr-step-name'),
      norm: text('.cr-step-total .cr-norm'),
      values: text('.cr-step-total .cr-array'),
      contributions: Array.from(root.querySelectorAll('.cr-step-incoming .cr-contrib .cr-array')).map(e => e.textContent),
      handed: root.querySelectorAll('.cr-step-handed .cr-contrib').length,
      filled: root.querySelectorAll('.cr-dp-table tr.filled').length,
      empty: root.querySelectorAll('.cr-dp-table tr.empty').length,
      doneNodes: root.querySelectorAll('svg g.node.done').length,
    });
  }
  return rows;
}"""


def _check_step_through(page, view, params=None):
    """Every step shows the swept node, its total gradient as chainrule computed it, and the DP table
    filled up to that row; params (name → tensor) are also checked against their own .grad."""
    nodes = {n["id"]: n for n in view.nodes}
    in_edges = {}
    for e in view.edges:
        in_edges.setdefault(e["to"], []).append(e)
    rows = page.js(STEP_ALL)
    assert len(rows) == len(view.sweep) > 0
    for k, (node_id, row) in enumerate(zip(view.sweep, rows)):
        n = nodes[node_id]
        assert row["current"] == [node_id], (k, n["name"])
        assert n["name"] in row["name"]
        assert _norm_printed(row["norm"]) == pytest.approx(n["grad_norm"], rel=1e-4, abs=1e-300), (k, n["name"])
        if n["grad"] is not None:
            np.testing.assert_allclose(_numbers(row["values"]), np.ravel(n["grad"]), rtol=1e-4, atol=1e-300,
                                       err_msg=n["name"])
            if len(row["contributions"]) > 1:  # the sum over consumers, as printed, is the total
                total = np.sum([_numbers(c) for c in row["contributions"]], axis=0)
                np.testing.assert_allclose(total, np.ravel(n["grad"]), rtol=1e-3, atol=1e-4 * np.abs(n["grad"]).max())
        if params is not None and n["kind"] == "param":
            grad = params[n["name"]].grad.data.astype(np.float64)
            assert _norm_printed(row["norm"]) == pytest.approx(np.linalg.norm(grad), rel=1e-4)
            if row["values"] is not None:
                np.testing.assert_allclose(_numbers(row["values"]), grad.ravel(), rtol=1e-4, atol=1e-300)
        assert row["handed"] == (len(in_edges.get(node_id, [])) if n["kind"] == "op" else 0)
        assert (row["filled"], row["empty"]) == (k + 1, len(view.sweep) - k - 1)
        assert row["doneNodes"] >= k  # every node swept before is marked done (a collapsed module counts once)


def _check_boxes(page):
    """Module boxes nest inside their parents and never overlap a box or a node of another module."""
    problems = page.js("""() => {
      const x = window.chainruleExplorers[0], B = x.layout.boxes, bad = [];
      const within = (a, b) => a.x >= b.x - 0.5 && a.y >= b.y - 0.5 && a.x + a.w <= b.x + b.w + 0.5 && a.y + a.h <= b.y + b.h + 0.5;
      const overlap = (a, b) => a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;
      const inside = (g, path) => g === path || g.startsWith(path + '.');
      B.forEach((a, i) => B.forEach((b, j) => {
        if (i !== j && inside(a.group, b.group) && a.group !== b.group && !within(a, b)) bad.push(a.group + ' sticks out of ' + b.group);
        if (i < j && !inside(a.group, b.group) && !inside(b.group, a.group) && overlap(a, b)) bad.push(a.group + ' overlaps ' + b.group);
      }));
      for (const [key, p] of x.layout.nodes) {
        const v = x.graph.nodes.get(key), g = v.node ? v.node.group || '' : v.group;
        const r = {x: p.x - p.w / 2, y: p.y - p.h / 2, w: p.w, h: p.h};
        for (const b of B) if (!inside(g, b.group) && overlap(r, b)) bad.push(v.title + ' (' + g + ') inside ' + b.group);
      }
      return bad;
    }""")
    assert problems == []


def _members(view, path):
    return sum(n["group"] == path or n["group"].startswith(path + ".") for n in view.nodes)


def test_note004_steps_through_the_sweep_with_the_hand_derivation(browser, tmp_path):
    view = viz.examples.note004()
    page = Page(browser, view.save(tmp_path / "note004.html"))
    assert page.drawn() == len(view.nodes)
    assert page.js("document.querySelector('.cr-step-counter').textContent") == f"step 0 / {len(view.sweep)}"
    _check_step_through(page, view)
    notes = page.js("document.querySelector('.cr-notes').innerText")
    for label, value in view.notes[0]["rows"]:
        assert label in notes and value in notes

    # the keys walk the sweep: End, Home, then → and ← from the start
    page.page.click(".cr-svg", position={"x": 5, "y": 5})
    page.page.keyboard.press("End")
    assert page.js("window.chainruleExplorers[0].stepIndex") == len(view.sweep) - 1
    page.page.keyboard.press("Home")
    page.page.keyboard.press("ArrowRight")
    page.page.keyboard.press("ArrowRight")
    page.page.keyboard.press("ArrowLeft")
    assert page.js("window.chainruleExplorers[0].stepIndex") == 0
    current = page.js("document.querySelector('svg g.node.current').dataset.id")
    assert int(current) == view.sweep[0] and view.nodes[view.sweep[0]]["is_output"]

    page.call("step", 7)
    page.page.hover(f"svg g.node[data-id='{view.sweep[7]}']")
    details = page.js("document.querySelector('.cr-details').innerText")
    assert view.nodes[view.sweep[7]]["name"] in details and "gradient" in details
    page.screenshot(tmp_path / "note004.png")
    page.close()


def test_lenet5_every_node_drawn_and_modules_collapse(browser, tmp_path):
    model, view = _traced("lenet5", (2, 1, 28, 28))
    page = Page(browser, view.save(tmp_path / "lenet5.html"))
    assert view.collapsed == [] and page.drawn() == len(view.nodes)
    _check_boxes(page)

    page.call("collapse", "classifier")
    assert page.drawn() == len(view.nodes) - _members(view, "classifier") + 1
    assert page.js("document.querySelectorAll('svg g.node.group-node[data-group=\"classifier\"]').length") == 1
    page.call("collapseAll")
    top = {n["group"].split(".")[0] or f"node {n['id']}" for n in view.nodes}
    assert page.drawn() == len(top)
    page.page.click("svg g.node.group-node[data-group='features']")  # a click expands one level
    assert page.drawn() == len(top) - 1 + len({g["id"] for g in view.groups if g["parent"] == "features"})
    page.call("expandAll")
    assert page.drawn() == len(view.nodes)

    page.page.fill(".cr-search", "conv2d")
    assert page.js("document.querySelector('.cr-search-count').textContent") == "2 matches"
    assert page.js("document.querySelectorAll('svg g.node.match').length") == 2
    page.page.fill(".cr-search", "")

    _check_step_through(page, view, dict(model.named_parameters()))
    page.call("step", 9)
    page.screenshot(tmp_path / "lenet5.png")
    page.close()


def test_resnet20_grouped_by_module_loads_fast_and_steps_into_modules(browser, tmp_path):
    model, view = _traced("resnet20", (2, 3, 32, 32))
    page = Page(browser, view.save(tmp_path / "resnet20.html"))
    timings = page.js("window.chainruleExplorers[0].timings")
    print(f"ResNet-20 page ({len(view.nodes)} nodes): loaded in {page.load_seconds:.3f} s; explorer "
          f"{timings['total']:.0f} ms (layout {timings['layout']:.0f} ms, drawing {timings['render']:.0f} ms)")
    top = {n["group"].split(".")[0] or f"node {n['id']}" for n in view.nodes}
    assert set(view.collapsed) >= {"layer1", "layer2", "layer3"} and page.drawn() == len(top)
    page.screenshot(tmp_path / "resnet20_collapsed.png")

    # stepping onto a node inside collapsed modules opens them
    k = next(i for i, node_id in enumerate(view.sweep) if view.nodes[node_id]["group"].startswith("layer2.1."))
    page.call("step", k)
    assert int(page.js("document.querySelector('svg g.node.current').dataset.id")) == view.sweep[k]
    page.screenshot(tmp_path / "resnet20_step.png")

    page.call("expandAll")
    assert page.drawn() == len(view.nodes)
    _check_boxes(page)
    page.call("collapse", "layer2.1")
    assert page.drawn() == len(view.nodes) - _members(view, "layer2.1") + 1
    page.call("expand", "layer2.1")
    assert page.drawn() == len(view.nodes)

    _check_step_through(page, view, dict(model.named_parameters()))
    page.call("step", 25)
    page.screenshot(tmp_path / "resnet20_expanded.png")
    page.close()


def test_before_backward_and_two_explorers_on_one_page(browser, tmp_path):
    """As in a notebook: two explorers inline in one page, each driving only its own graph."""
    x = cr.tensor([0.5, -1.0, 2.0], dtype="float64", requires_grad=True)
    loss = (x.exp() * x.sin()).sum()
    before = viz.graph(loss, {"x": x}, title="before backward")
    before_html = before._repr_html_()
    loss.backward()  # the view stops watching
    loss = (x.tanh() * x).sum()
    after = viz.graph(loss, {"x": x}, title="after backward")
    loss.backward()
    path = tmp_path / "two.html"
    path.write_text(f"<!DOCTYPE html><meta charset='utf-8'><body>{before_html}<p>text between</p>"
                    f"{after._repr_html_()}</body>")
    page = Page(browser, path)
    assert page.js("window.chainruleExplorers.length") == 2
    assert page.js("document.querySelectorAll('.chainrule-graph[data-cr-ready]').length") == 2
    first, second = page.page.locator(".chainrule-graph").nth(0), page.page.locator(".chainrule-graph").nth(1)
    assert first.locator("g.node").count() == len(before.nodes)
    assert second.locator("g.node").count() == len(after.nodes)
    assert first.locator(".cr-step-controls").count() == 0 and "backward()" in first.locator(".cr-step").inner_text()
    second.locator(".cr-next").click()
    second.locator(".cr-next").click()
    assert page.js("window.chainruleExplorers.map(x => x.stepIndex)") == [-1, 1]
    assert second.locator("g.node.current").count() == 1 and first.locator("g.node.current").count() == 0
    page.page.keyboard.press("ArrowRight")  # the keys drive the explorer last clicked
    assert page.js("window.chainruleExplorers.map(x => x.stepIndex)") == [-1, 2]
    markers = page.js("Array.from(document.querySelectorAll('marker')).map(m => m.id)")
    assert len(markers) == len(set(markers)) == 6
    page.screenshot(tmp_path / "two_explorers.png")
    page.close()


def test_exploding_gradients_show_as_inf_and_nan(browser, tmp_path):
    """A page of non-finite gradients (what the colour scale is for) opens and prints them."""
    x = cr.tensor([1e30, 0.0], requires_grad=True)
    loss = (x * x).sum() / (x * 0).sum()
    view = viz.graph(loss, {"x": x})
    with np.errstate(all="ignore"):
        loss.backward()
    page = Page(browser, view.save(tmp_path / "nan.html"))
    page.call("last")
    printed = page.js("document.querySelector('.chainrule-graph .cr-step-total').innerText")
    assert "nan" in printed or "inf" in printed, printed
    page.screenshot(tmp_path / "nan.png")
    page.close()
