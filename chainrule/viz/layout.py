"""A small layered (Sugiyama-style) layout and the static SVG drawn from it.

Graphviz's binary is what learners fail to install (torchviz's most common complaint), and the
pure-Python layout libraries are unmaintained, so the layout is written out here in its three
classic steps (the explorer page does the same steps in JavaScript, where modules collapse):

1. layers — an op sits one layer below its deepest input (longest path), a leaf one layer above
   its first consumer, so inputs are at the top and the loss at the bottom;
2. order — within each layer, nodes are sorted by the mean position of their neighbours in the
   layer above, then below (barycenter sweeps), which removes most edge crossings;
3. coordinates — evenly spaced within a layer, layers centred on each other.
"""
import html

NODE_W, NODE_H, GAP_X, GAP_Y = 150, 38, 24, 46
FILL = {"op": "#e8f0fe", "param": "#fff4d6", "input": "#e6f4ea"}


def layered(nodes, edges, sweeps=4):
    """``{node id: (x, y)}``, the centres of a layered drawing of the DAG (edges ``from`` → ``to``)."""
    inputs = {n["id"]: [] for n in nodes}
    consumers = {n["id"]: [] for n in nodes}
    for e in edges:
        inputs[e["to"]].append(e["from"])
        consumers[e["from"]].append(e["to"])
    layer = {}
    for n in nodes:  # nodes come in topological order: inputs first (leaves count as layer 0 here)
        if inputs[n["id"]]:
            layer[n["id"]] = 1 + max(layer.get(i, 0) for i in inputs[n["id"]])
    for n in nodes:
        if not inputs[n["id"]]:
            layer[n["id"]] = min((layer[c] for c in consumers[n["id"]] if c in layer), default=1) - 1
    rows = {}
    for n in nodes:
        rows.setdefault(layer[n["id"]], []).append(n["id"])
    levels = sorted(rows)
    position = {i: k for level in levels for k, i in enumerate(rows[level])}

    def reorder(level, neighbours):
        def key(i):
            near = [position[j] for j in neighbours[i]]
            return sum(near) / len(near) if near else position[i]
        rows[level].sort(key=key)
        position.update({i: k for k, i in enumerate(rows[level])})

    for _ in range(sweeps):
        for level in levels[1:]:
            reorder(level, inputs)
        for level in reversed(levels[:-1]):
            reorder(level, consumers)
    width = max(len(r) for r in rows.values())
    return {i: ((k + (width - len(rows[level])) / 2) * (NODE_W + GAP_X) + NODE_W / 2 + GAP_X,
                (level - levels[0]) * (NODE_H + GAP_Y) + NODE_H / 2 + GAP_Y + 20)
            for level in levels for k, i in enumerate(rows[level])}


def svg(nodes, edges, title):
    """The whole graph as one SVG document: boxes with the op or leaf name and the shape."""
    at = layered(nodes, edges)
    width = max(x for x, _ in at.values()) + NODE_W / 2 + 24
    height = max(y for _, y in at.values()) + NODE_H / 2 + 24
    parts = [(f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" height="{height:.0f}" '
              'font-family="Helvetica, Arial, sans-serif" font-size="11">'),
             f'<text x="12" y="20" font-size="14" font-weight="bold">{html.escape(title)}</text>',
             ('<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="6" markerHeight="6" '
              'orient="auto"><path d="M0,0 L10,5 L0,10 z" fill="#888"/></marker></defs>')]
    for e in edges:
        (x1, y1), (x2, y2) = at[e["from"]], at[e["to"]]
        parts.append(f'<path d="M{x1:.1f},{y1 + NODE_H / 2:.1f} C{x1:.1f},{y1 + NODE_H:.1f} {x2:.1f},{y2 - NODE_H:.1f} '
                     f'{x2:.1f},{y2 - NODE_H / 2:.1f}" fill="none" stroke="#888" marker-end="url(#arrow)"/>')
    for n in nodes:
        x, y = at[n["id"]]
        shape = "×".join(map(str, n["shape"])) or "scalar"
        stroke = ' stroke="#c5221f" stroke-width="2"' if n["is_output"] else ' stroke="#5f6368"'
        parts.append(f'<g class="node"><rect x="{x - NODE_W / 2:.1f}" y="{y - NODE_H / 2:.1f}" width="{NODE_W}" '
                     f'height="{NODE_H}" rx="{8 if n["kind"] == "op" else 18}" fill="{FILL[n["kind"]]}"{stroke}/>'
                     f'<text x="{x:.1f}" y="{y - 3:.1f}" text-anchor="middle">{html.escape(_short(n["name"]))}</text>'
                     f'<text x="{x:.1f}" y="{y + 11:.1f}" text-anchor="middle" fill="#5f6368">{shape}</text></g>')
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def _short(name, limit=24):
    return name if len(name) <= limit else "…" + name[-(limit - 1):]
