"""The graph explorer's data: nodes and edges of known graphs (a diamond, a shared parameter, note
004's chain, LeNet-5, ResNet-20 grouped by module), the dynamic-programming table filled by a real
backward sweep equal to autograd's gradients, DOT that parses, a static SVG, the page, and errors."""
import json
import xml.etree.ElementTree as ET
from collections import Counter

import numpy as np
import pydot
import pytest

import chainrule as cr
from chainrule import autograd, models, viz
from chainrule.nn import functional as F


def _by_name(view):
    return {n["name"]: n for n in view.nodes}


def _check_dp_table(view, root_grad=1.0):
    """Each node's total gradient is the sum of the contributions its consumers handed back."""
    assert view.backward_done
    out_edges = {}
    for e in view.edges:
        out_edges.setdefault(e["from"], []).append(e)
    for n in view.nodes:
        if n["grad"] is None:
            continue
        if n["is_output"]:
            np.testing.assert_allclose(n["grad"], root_grad)
            continue
        handed = [np.asarray(e["grad"]) for e in out_edges[n["id"]] if e["grad"] is not None]
        np.testing.assert_allclose(np.sum(handed, axis=0), n["grad"], rtol=1e-12, atol=1e-15, err_msg=n["name"])
        np.testing.assert_allclose(np.sqrt(np.sum(np.square(n["grad"]))), n["grad_norm"], rtol=1e-12)


def test_a_diamond():
    x = cr.tensor([0.5, -1.0, 2.0], dtype="float64", requires_grad=True)
    loss = (x.exp() * x.sin()).sum()
    view = viz.graph(loss, {"x": x})
    assert [n["name"] for n in view.nodes] == ["x", "Exp", "Sin", "Mul", "Sum"]
    assert sorted((e["from"], e["to"], e["index"]) for e in view.edges) == [(0, 1, 0), (0, 2, 0), (1, 3, 0), (2, 3, 1),
                                                                            (3, 4, 0)]
    assert view.sweep == [] and not view.backward_done
    loss.backward()
    assert view.sweep == [4, 3, 2, 1, 0]  # reverse topological: the loss first, the leaf last
    _check_dp_table(view)
    np.testing.assert_allclose(_by_name(view)["x"]["grad"], x.grad.data)
    np.testing.assert_allclose(x.grad.data, np.exp(x.data) * (np.sin(x.data) + np.cos(x.data)))
    assert view not in autograd._observers


def test_a_shared_parameter_is_one_node_with_two_contributions():
    w = cr.tensor([[1.0, 2.0], [3.0, -1.0]], dtype="float64", requires_grad=True)
    x1, x2 = cr.tensor([1.0, 0.5], dtype="float64"), cr.tensor([-2.0, 1.0], dtype="float64")
    loss = ((w @ x1) * (w @ x2)).sum()
    view = viz.graph(loss, {"w": w, "x1": x1, "x2": x2})
    w_node = _by_name(view)["w"]
    assert [n["kind"] for n in view.nodes].count("param") == 1
    assert sum(e["from"] == w_node["id"] for e in view.edges) == 2
    assert _by_name(view)["x1"]["kind"] == "input" and _by_name(view)["x1"]["value"] == [1.0, 0.5]
    loss.backward()
    _check_dp_table(view)
    np.testing.assert_allclose(w_node["grad"], w.grad.data)


def test_note004_chain_and_the_hand_formula():
    view = viz.examples.note004()
    ops = Counter(n["op"] for n in view.nodes if n["kind"] == "op")
    assert ops == {"Mul": 3, "Add": 3, "Sigmoid": 3, "Sub": 1, "Pow": 1}
    assert sorted(n["name"] for n in view.nodes if n["kind"] != "op") == ["a0", "b1", "b2", "b3", "w1", "w2", "w3"]
    assert len(view.edges) == 3 * 3 * 2 // 1 - 1  # per neuron: Mul(w, a), Add(·, b), Sigmoid(·); then Sub, Pow
    _check_dp_table(view)
    rows = dict(view.notes[0]["rows"])
    assert rows["∂C₀/∂w_L = 2(a_L − y)·σ'(z_L)·a_(L−1), by hand"] == rows["∂C₀/∂w_L, autograd (w3.grad)"]
    by_hand = [v for k, v in rows.items() if k.startswith("∂C₀/∂w_(L−1)")]
    assert by_hand[0] == by_hand[1]
    sigmoid = next(n for n in view.nodes if n["op"] == "Sigmoid")
    assert "dx = g·σ(1 − σ)" in sigmoid["formula"]


def test_lenet5_traced_names_every_node_by_module():
    model = models.lenet5()
    x, y = cr.randn(2, 1, 28, 28), cr.tensor([1, 2])
    with viz.trace(model):
        loss = F.cross_entropy(model(x), y)
    view = viz.graph(loss)
    assert Counter(n["op"] for n in view.nodes if n["kind"] == "op") == {
        "Conv2d": 2, "Tanh": 4, "AvgPool2d": 2, "Linear": 3, "Reshape": 1, "CrossEntropy": 1}
    params = dict(model.named_parameters())
    assert sorted(n["name"] for n in view.nodes if n["kind"] == "param") == sorted(params)
    assert [n["group"] for n in view.nodes if n["op"] == "Conv2d"] == ["features.0", "features.3"]
    assert {g["id"]: g["type"] for g in view.groups}["features.2"] == "AvgPool2d"
    assert len(view.edges) == 13 + 10  # one per op input: 3 Linear and 2 Conv2d take 3, the other 8 take 1
    loss.backward()
    _check_dp_table(view)
    for n in view.nodes:
        if n["kind"] == "param":
            np.testing.assert_allclose(n["grad_norm"], np.linalg.norm(params[n["name"]].grad.data.astype(np.float64)),
                                       rtol=1e-6)


def test_resnet20_is_grouped_and_collapsed_at_first():
    model = models.resnet20()
    with viz.trace(model):
        loss = F.cross_entropy(model(cr.randn(2, 3, 32, 32)), cr.tensor([1, 2]))
    view = viz.graph(loss)
    groups = {g["id"]: g for g in view.groups}
    assert groups["layer2.1"]["parent"] == "layer2" and groups["layer2.1"]["type"] == "BasicBlock"
    assert {"layer1", "layer2", "layer3"} <= set(view.collapsed)
    assert viz.graph(loss, detail="full").collapsed == []
    loss.backward()
    assert view.backward_done and len(view.sweep) == sum(n["grad_norm"] is not None for n in view.nodes)


def test_without_trace_params_name_the_leaves_and_group_their_ops():
    model = models.lenet5()
    loss = F.cross_entropy(model(cr.randn(1, 1, 28, 28)), cr.tensor([3]))
    view = viz.graph(loss, params=dict(model.named_parameters()))
    assert [n["group"] for n in view.nodes if n["op"] == "Linear"] == ["classifier.0", "classifier.2", "classifier.4"]
    assert [n["group"] for n in view.nodes if n["op"] == "Tanh"] == ["", "", "", ""]  # no parameter: no module known


def test_watching_changes_no_gradient():
    def grads(watch):
        cr.manual_seed(0)
        model = models.lenet5()
        loss = F.cross_entropy(model(cr.randn(2, 1, 28, 28)), cr.tensor([1, 2]))
        if watch:
            viz.graph(loss)
        loss.backward()
        return [p.grad.data.copy() for p in model.parameters()]

    for a, b in zip(grads(False), grads(True)):
        np.testing.assert_array_equal(a, b)


def test_dot_parses_with_modules_as_clusters():
    model = models.lenet5()
    with viz.trace(model):
        loss = F.cross_entropy(model(cr.randn(1, 1, 28, 28)), cr.tensor([3]))
    view = viz.graph(loss)
    (dot,) = pydot.graph_from_dot_data(view.to_dot())

    def count(graph, what):
        own = ([i for i in graph.get_nodes() if i.get_name() not in ("node", "graph", "edge")] if what == "nodes"
               else graph.get_edges())
        return len(own) + sum(count(s, what) for s in graph.get_subgraphs())

    assert count(dot, "nodes") == len(view.nodes) and count(dot, "edges") == len(view.edges)
    assert {s.get_name().strip('"') for s in dot.get_subgraphs()} >= {"cluster_features", "cluster_classifier"}


def test_svg_draws_every_node():
    view = viz.examples.note004()
    root = ET.fromstring(view.to_svg())
    drawn = root.findall(".//{http://www.w3.org/2000/svg}g[@class='node']")
    assert len(drawn) == len(view.nodes)


def test_the_page_is_self_contained_with_the_data(tmp_path):
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    loss = (x * x).sum()
    view = viz.graph(loss, {"x</script><b>": x}, title="a <title>")
    loss.backward()
    page = view.save(tmp_path / "g.html").read_text()
    assert "<title>a &lt;title&gt;</title>" in page
    assert "http://" not in page.replace("http://www.w3.org", "") and "https://" not in page
    data = page.split('id="chainrule-graph">', 1)[1].split("</script>", 1)[0]
    parsed = json.loads(data)
    assert parsed["format"] == "chainrule-graph-1" and parsed["backward_done"]
    assert parsed["nodes"][0]["name"] == "x</script><b>"
    assert view._repr_html_() == page


def test_errors_name_the_problem():
    x = cr.tensor([1.0], requires_grad=True)
    with pytest.raises(TypeError, match="viz.graph: expected a Tensor, got list"):
        viz.graph([1.0])
    with pytest.raises(ValueError, match="viz.graph: the tensor has no graph"):
        viz.graph(x)
    loss = (x * 2).sum()
    with pytest.raises(ValueError, match="detail must be one of 'auto', 'full', 'modules', got 'all'"):
        viz.graph(loss, detail="all")
    with pytest.raises(ValueError, match="max_elements must be a non-negative int, got -1"):
        viz.graph(loss, max_elements=-1)
    loss.backward()
    with pytest.raises(RuntimeError, match=r"the graph was freed by backward; call viz.graph\(loss\) before"):
        viz.graph(loss)


def test_the_vanishing_gradients_lab_links_two_explorers(tmp_path):
    from chainrule.lab import vanishing_gradients
    from chainrule.lab.report import page_markdown

    x = vanishing_gradients._digits(0)[0]
    names = [vanishing_gradients._explorer(v, x, 0, str(tmp_path)) for v in ("sigmoid", "ReLU + residual")]
    assert names == ["graph_sigmoid.html", "graph_relu_residual.html"]
    norms = {}
    for name in names:
        page = (tmp_path / name).read_text()
        data = json.loads(page.split('id="chainrule-graph">', 1)[1].split("</script>", 1)[0])
        linear = [n for n in data["nodes"] if n["kind"] == "param" and n["name"].endswith("weight")]
        norms[name] = linear[0]["grad_norm"] / linear[-1]["grad_norm"]  # first layer over last
    assert norms["graph_sigmoid.html"] < 1e-3 < norms["graph_relu_residual.html"]  # vanished, and cured
    result = vanishing_gradients.Result(name="x", note="0", claim="c", setup="s", numbers={}, held=True, verdict="v",
                                        pages=[["step through", names[0]]])
    assert "- [step through](graph_sigmoid.html)" in page_markdown(result)


def test_a_view_nobody_keeps_does_not_keep_its_graph():
    import gc
    import weakref

    x = cr.tensor([1.0, 2.0], requires_grad=True)
    loss = (x * 3).sum()
    view = weakref.ref(viz.graph(loss))
    gc.collect()
    assert view() is None  # the observer set held it weakly: collected, with the tensors it kept
    loss.backward()
    np.testing.assert_array_equal(x.grad.data, [3.0, 3.0])


def test_exploding_gradients_are_saved_as_they_are(tmp_path):
    x = cr.tensor([1e30, 0.0], requires_grad=True)
    loss = (x * x).sum() / (x * 0).sum()
    view = viz.graph(loss)
    with np.errstate(all="ignore"):
        loss.backward()
    page = view.save(tmp_path / "g.html").read_text()
    data = json.loads(page.split('id="chainrule-graph">', 1)[1].split("</script>", 1)[0])
    assert any(n["grad_norm"] is not None and not np.isfinite(n["grad_norm"]) for n in data["nodes"])


def test_model_graph_adds_gradient_flows_verdict():
    from chainrule.lab.vanishing_gradients import build

    cr.manual_seed(0)
    x, y = cr.randn(16, 64), cr.randint(0, 10, (16,))
    deep = viz.model_graph(build("sigmoid"), x, y)
    assert deep.backward_done and deep.notes[0]["title"] == "GradientFlow's verdict: vanishing"
    assert any(label.startswith("vanishing gradients: the first layer's gradient norm") for label, _ in deep.notes[0]["rows"])
    cured = viz.model_graph(build("ReLU + residual"), x, y)
    assert cured.notes[0]["title"] == "GradientFlow's verdict: healthy"
