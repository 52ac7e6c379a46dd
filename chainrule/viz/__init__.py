"""See backprop: the recorded graph of a computation, stepped through in a browser [notes 002, 004].

    view = chainrule.viz.graph(loss, params=dict(model.named_parameters()))   # before backward
    loss.backward()
    view.save("graph.html")        # an explorer page: open it in any browser, no Graphviz

``trace(model)`` groups the ops by module; ``model_graph(model, x, y)`` does all of it for one training
step and adds GradientFlow's verdict; ``examples.note004()`` is the notes' worked example.
"""
from . import examples
from .graph import GraphView, graph, model_graph, trace

__all__ = ["GraphView", "examples", "graph", "model_graph", "trace"]
