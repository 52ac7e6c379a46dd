"""The recorded graph of a computation, as a learner sees it [notes 002, 004].

``graph(loss)`` walks the graph that produced ``loss`` — one node per Function (an op) and per leaf
tensor (a parameter or an input), edges from each input to the op that consumed it — and, if
``loss.backward()`` runs afterwards, watches the backward sweep node by node: the order it visits
the nodes (reverse topological), each node's total gradient (the sum of what its consumers handed
back: the dynamic-programming table) and each chain-rule product handed to an input.

    with chainrule.viz.trace(model):          # optional: group the ops by the module that ran them
        loss = F.cross_entropy(model(x), y)
    view = chainrule.viz.graph(loss)           # before backward, which frees the graph
    loss.backward()
    view.save("graph.html")                    # one self-contained file: open it in any browser

Nothing is installed or drawn by Graphviz: ``save``/``_repr_html_`` write an explorer page (inline
JS and CSS), ``to_svg`` a static picture laid out here, ``to_dot`` the DOT text for those who want
Graphviz.
"""
import html
import json
import weakref
from pathlib import Path

import numpy as np

from .. import autograd
from ..io import atomic_write
from ..tensor import Tensor

STATIC = Path(__file__).with_name("static")
DETAILS = ("auto", "full", "modules")
AUTO_FULL_LIMIT = 60  # 'auto' shows every op of a graph this small, and collapses modules above it

_scopes = weakref.WeakKeyDictionary()  # Function → path of the innermost module that ran it (by trace)
_traced_models = weakref.WeakSet()  # models under trace: their parameters name the leaves


class trace:
    """``with trace(model):`` — ops run inside ``model``'s submodules are tagged with the module's
    path (``layer1.0.conv1``) so ``graph`` groups them, and its parameters name their leaves. Works
    through forward hooks, removed on exit; nothing is recorded outside the block."""

    def __init__(self, model):
        self.model = model
        self._handles = []

    def __enter__(self):
        _traced_models.add(self.model)
        for path, module in self.model.named_modules():
            if path:
                self._handles.append(module.register_forward_hook(_tagger(path)))
        return self

    def __exit__(self, *exc):
        for handle in self._handles:
            handle.remove()
        self._handles = []
        return False


def _tensors(value):
    if isinstance(value, Tensor):
        return [value]
    if isinstance(value, (tuple, list)):
        return [t for v in value for t in _tensors(v)]
    if isinstance(value, dict):
        return [t for v in value.values() for t in _tensors(v)]
    return []


def _tagger(path):
    """A forward hook tagging every op between the module's inputs and its outputs; inner modules
    finish first, so the innermost module's tag is the one kept."""
    def hook(module, args, output):
        stop = {id(t) for t in _tensors(args)}
        stack, seen = [t for t in _tensors(output) if t._ctx is not None], set()
        while stack:
            t = stack.pop()
            if id(t) in stop or id(t) in seen or t._ctx is None or t._ctx.inputs is None:
                continue
            seen.add(id(t))
            _scopes.setdefault(t._ctx, path)
            stack.extend(x for x in t._ctx.inputs if isinstance(x, Tensor))
    return hook


def _formula(fn):
    """The op's rule from the first paragraph of its Function's docstring (forward; local derivative)."""
    doc = (type(fn).__doc__ or "").strip().split("\n\n")[0]
    return " ".join(doc.split()) or None


def _small(a, max_elements):
    return a.tolist() if a.size <= max_elements else None


def _norm(a):
    return float(np.sqrt(np.sum(np.square(a, dtype=np.float64))))


class GraphView:
    """The graph that produced ``output``: ``nodes``, ``edges`` and ``groups`` as plain dicts (the
    JSON the explorer page reads, format ``chainrule-graph-1``), filled with gradients by the next
    backward sweep from ``output``. Build it with ``graph()``."""

    def __init__(self, output, params, detail, max_elements, title):
        if not isinstance(output, Tensor):
            raise TypeError(f"viz.graph: expected a Tensor, got {type(output).__name__}")
        if detail not in DETAILS:
            raise ValueError(f"viz.graph: detail must be one of {', '.join(map(repr, DETAILS))}, got {detail!r}")
        if output._ctx is None:
            raise ValueError("viz.graph: the tensor has no graph (it is a leaf, or was computed under no_grad or "
                             "without any input that requires grad)")
        if output._ctx.inputs is None:
            raise RuntimeError("viz.graph: the graph was freed by backward; call viz.graph(loss) before "
                               "loss.backward() (or backward with retain_graph=True)")
        self.title, self.max_elements = title or f"graph of a {tuple(output.shape)} output", max_elements
        names = self._leaf_names(params)
        self._ids, self._tensors = {}, []  # id(tensor) → node id, and the tensors until backward has run
        self.nodes, self.edges = [], []
        for t in autograd._topological_order(output, every_tensor=True):
            self._add_node(t, names, max_elements)
        for t in self._tensors:
            if t._ctx is not None:
                for index, x in enumerate(t._ctx.inputs):
                    if isinstance(x, Tensor):
                        self.edges.append({"from": self._ids[id(x)], "to": self._ids[id(t)], "index": index,
                                           "grad": None, "grad_norm": None})
        self.nodes[self._ids[id(output)]]["is_output"] = True
        self.groups = self._groups()
        ops = sum(n["kind"] == "op" for n in self.nodes)
        full = detail == "full" or (detail == "auto" and ops <= AUTO_FULL_LIMIT)
        self.collapsed = [] if full else [g["id"] for g in self.groups if g["parent"] == ""]
        self.sweep, self.backward_done, self.notes = [], False, []
        self._output = output
        autograd._observers.add(self)

    @staticmethod
    def _leaf_names(params):
        names = {}
        for model in list(_traced_models):
            names.update({id(p): n for n, p in model.named_parameters()})
        if params is not None:
            items = params.items() if isinstance(params, dict) else params
            names.update({id(p): n for n, p in items})
        return names

    def _add_node(self, t, names, max_elements):
        fn = t._ctx
        node_id = len(self.nodes)
        if fn is not None:
            kind, name = "op", type(fn).__name__
            group = _scopes.get(fn) or self._group_from_params(fn, names)
        elif id(t) in names:
            kind, name = "param" if t.requires_grad else "input", names[id(t)]
            group = name.rpartition(".")[0]
        else:
            kind, name, group = "input", "input" if not t.requires_grad else "leaf", ""
        self.nodes.append({"id": node_id, "kind": kind, "name": name, "op": name if fn is not None else None,
                           "group": group, "shape": list(t.shape), "dtype": str(t.dtype),
                           "formula": _formula(fn) if fn is not None else None,
                           "value": _small(t.data, max_elements), "grad": None, "grad_norm": None, "is_output": False})
        self._ids[id(t)] = node_id
        self._tensors.append(t)

    @staticmethod
    def _group_from_params(fn, names):
        """Without a trace: the module of the first named parameter the op consumes ('' if none)."""
        for x in fn.inputs:
            if isinstance(x, Tensor) and id(x) in names:
                return names[id(x)].rpartition(".")[0]
        return ""

    def _groups(self):
        types = {}
        for model in list(_traced_models):
            types.update({path: type(m).__name__ for path, m in model.named_modules() if path})
        paths = set()
        for n in self.nodes:
            parts = n["group"].split(".") if n["group"] else []
            paths.update(".".join(parts[:i]) for i in range(1, len(parts) + 1))
        return [{"id": p, "parent": p.rpartition(".")[0], "type": types.get(p, "")} for p in sorted(paths)]

    # -- the backward sweep, watched: autograd.backward asks watch(root), then calls node() per node --
    def watch(self, root):
        """The autograd observer hook: at the start of a backward sweep from ``root``, return self if root is this
        view's output (the sweep then calls ``node`` for each node and ``done`` at the end), else None. Called by
        ``autograd.backward``, not by users."""
        if root is not self._output:
            return None
        autograd._observers.discard(self)  # one sweep: the graph is gone after it (unless retained)
        self._edge_at = {(e["to"], e["index"]): e for e in self.edges}
        return self

    def node(self, t, g, inputs, in_grads):
        """One step of the sweep: ``t``'s total gradient ``g`` and, for an op, what it handed each input."""
        node = self.nodes[self._ids[id(t)]]
        node["grad"], node["grad_norm"] = _small(g, self.max_elements), _norm(g)
        self.sweep.append(node["id"])
        for index, (x, gx) in enumerate(zip(inputs, in_grads)):
            if gx is not None and isinstance(x, Tensor) and x.requires_grad:
                edge = self._edge_at[(node["id"], index)]
                edge["grad"], edge["grad_norm"] = _small(gx, self.max_elements), _norm(gx)

    def done(self):
        """The autograd observer hook called when the watched backward sweep ends: marks ``backward_done`` and lets go
        of the tensors it held."""
        self.backward_done = True
        self._tensors, self._ids, self._output, self._edge_at = [], {}, None, None

    # -- outputs --------------------------------------------------------------------------------------
    def to_dict(self):
        """The JSON-able graph (format ``chainrule-graph-1``; see chainrule/viz/static/explorer.js)."""
        return {"format": "chainrule-graph-1", "title": self.title, "nodes": self.nodes, "edges": self.edges,
                "groups": self.groups, "collapsed": self.collapsed, "sweep": list(self.sweep),
                "backward_done": self.backward_done, "notes": self.notes}

    def add_note(self, title, rows):
        """A panel beside the graph: ``rows`` of (label, value) — e.g. a hand derivation to compare."""
        self.notes.append({"title": title, "rows": [[str(a), str(b)] for a, b in rows]})
        return self

    def to_html(self):
        """The explorer page: one self-contained HTML document (inline JS and CSS, no network)."""
        # NaN and ±Infinity stay (exploding gradients are what the page is for); the page's reader takes them
        data = json.dumps(self.to_dict(), default=_json_number).replace("</", "<\\/")
        page = (STATIC / "template.html").read_text()
        for key, value in (("{{TITLE}}", html.escape(self.title)), ("{{CSS}}", (STATIC / "explorer.css").read_text()),
                           ("{{JS}}", (STATIC / "explorer.js").read_text()), ("{{DATA}}", data)):
            page = page.replace(key, value)
        return page

    def save(self, path):
        """Write the explorer page to ``path`` (atomically); returns ``path``."""
        atomic_write(str(path), self.to_html().encode())
        return path

    def _repr_html_(self):
        return self.to_html()

    def to_dot(self):
        """The graph in Graphviz's DOT language (modules as clusters), for ``dot -Tsvg``."""
        lines = ["digraph chainrule {", '  rankdir=TB; node [fontname="Helvetica", fontsize=10];']
        by_group = {}
        for n in self.nodes:
            by_group.setdefault(n["group"], []).append(n)
        children = {}
        for g in self.groups:
            children.setdefault(g["parent"], []).append(g["id"])

        def emit(group, indent):
            for n in by_group.get(group, []):
                shape = {"op": "box", "param": "ellipse", "input": "parallelogram"}[n["kind"]]
                label = f"{n['name']}\\n{' × '.join(map(str, n['shape'])) or 'scalar'}"
                lines.append(f'{indent}n{n["id"]} [label="{_dot_escape(label)}", shape={shape}];')
            for child in children.get(group, []):
                lines.append(f'{indent}subgraph "cluster_{child}" {{ label="{_dot_escape(child)}";')
                emit(child, indent + "  ")
                lines.append(f"{indent}}}")

        emit("", "  ")
        lines += [f"  n{e['from']} -> n{e['to']};" for e in self.edges]
        lines.append("}")
        return "\n".join(lines) + "\n"

    def to_svg(self):
        """A static picture of the whole graph (every module expanded), laid out by ``layout.layered``."""
        from .layout import svg

        return svg(self.nodes, self.edges, self.title)


def _dot_escape(text):
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\\\\n", "\\n")


def _json_number(value):
    raise TypeError(f"viz: {type(value).__name__} is not JSON-serializable")


def graph(output, params=None, *, detail="auto", max_elements=64, title=None):
    """The ``GraphView`` of the recorded graph that produced ``output`` (call it before backward).

    params: a dict name → tensor (``dict(model.named_parameters())``, torchviz's habit) naming the
        leaves (inputs too); models under ``viz.trace`` name their parameters without it.
    detail: 'full' (every op), 'modules' (each top-level module collapsed to one box) or 'auto'
        (full up to 60 ops).
    max_elements: tensors up to this size carry their values (and, after backward, gradients).
    """
    if not isinstance(max_elements, int) or max_elements < 0:
        raise ValueError(f"viz.graph: max_elements must be a non-negative int, got {max_elements!r}")
    return GraphView(output, params, detail, max_elements, title)


def model_graph(model, x, y, loss_fn=None, *, detail="auto", title=None):
    """One training step of ``model`` seen whole: its loss on (x, y) (``loss_fn``, default
    cross-entropy) traced by module, backward run, and ``GradientFlow``'s verdict on the gradients
    [notes 000–004: vanishing and exploding] as a notes panel beside the colours. Returns the view."""
    from ..diagnostics import GradientFlow
    from ..nn.functional import cross_entropy

    monitor = GradientFlow(model)
    try:
        with trace(model):
            loss = (loss_fn or cross_entropy)(model(x), y)
        view = graph(loss, detail=detail, title=title)
        loss.backward()
        monitor.record()
    finally:
        monitor.remove()
    report = monitor.report()
    verdict = "vanishing" if report["vanishing"] else "exploding" if report["exploding"] else "healthy"
    return view.add_note(f"GradientFlow's verdict: {verdict}", [
        ("first/last layer gradient norm", f"{report['first_to_last_ratio']:.3g}"),
        *[(message, "") for message in report["messages"]],
    ])
