/*
 * chainrule graph explorer: draws one "chainrule-graph-1" document (written by chainrule.viz) as an
 * interactive SVG, and steps through the backward sweep as the dynamic-programming table it is
 * [note 004: backprop is the chain rule evaluated like dynamic programming]. Plain ES2017, no
 * libraries, no network: it runs from file:// and inline in Jupyter. Everything it touches lives
 * inside its own root <div class="chainrule-graph">, so several explorers can share a page.
 *
 * Stable hooks (tests rely on them):
 *   window.chainruleExplorers           one Explorer per root, in page order
 *   .chainrule-graph[data-cr-ready]     set once the explorer has drawn
 *   g.node[data-id=ID]                  a drawn node; also .op / .param / .input, .output (the loss)
 *   g.node.group-node[data-group=PATH]  a collapsed module, drawn as one node
 *   g.group-box[data-group=PATH]        an expanded module's rectangle (one per connected part)
 *   g.node.current / .done / .pending   while stepping: the node being swept, nodes already swept,
 *                                       nodes not reached yet (.nograd: never swept)
 *   g.node.match                        search hits
 *   path.edge[data-from][data-to]       a drawn edge between drawn nodes (keys "n:ID" or "g:PATH");
 *                                       .arriving (gradient coming back from a consumer) and
 *                                       .handed (gradient handed to an input) while stepping
 *   .cr-step-counter                    "step k / N"
 *   .cr-step-name                       the current node's name
 *   .cr-step-incoming .cr-contrib       (a) one per consumer: .cr-contrib-name, .cr-norm, .cr-array
 *   .cr-step-total                      the current node's total gradient: .cr-norm and .cr-array
 *   .cr-step-formula                    (b) the local derivative rule
 *   .cr-step-handed .cr-contrib         (c) one per input: the chain-rule product handed to it
 *   .cr-dp-table tr[data-step=K]        (d) the DP table; rows .filled up to the current step, .current
 *   .cr-details                         details of the hovered or clicked node
 *   .cr-search, .cr-search-count        the search box and its hit count
 *   .cr-notes                           the notes panels
 * Every printed number has 5 significant digits; .cr-norm reads "‖g‖ = 0.12346"; .cr-array prints
 * nested brackets like NumPy and elides the middle ("…") of arrays over 100 elements.
 *
 * Explorer API: step(k) (-1 = before the sweep), next(), prev(), first(), last(), stepIndex;
 * expand(path), collapse(path), toggle(path), expandAll(), collapseAll(); search(text) -> ids;
 * select(id); fit(); drawnNodeCount(); timings (ms: layout, render, total).
 */
(function () {
  'use strict';

  const SVG_NS = 'http://www.w3.org/2000/svg';
  const FULL_PRINT_LIMIT = 100;  // arrays with more elements are printed with "…"
  const VIRIDIS = ['#440154', '#482878', '#3e4989', '#31688e', '#26828e',
                   '#1f9e89', '#35b779', '#6ece58', '#b5de2b', '#fde725'];
  // Layout sizes (px): node height, vertical gap between layers, a module box's padding and label.
  const NODE_H = 34, GROUP_H = 40, LAYER_GAP = 30, BOX_PAD = 8, BOX_LABEL = 18;
  const NODE_SEP = 18, DUMMY_SEP = 10;

  // ---------------------------------------------------------------- small helpers

  function html(tag, attrs, children) {
    return fill(document.createElement(tag), attrs, children);
  }

  function svg(tag, attrs, children) {
    return fill(document.createElementNS(SVG_NS, tag), attrs, children);
  }

  function fill(el, attrs, children) {
    for (const k in attrs || {}) {
      const v = attrs[k];
      if (v == null || v === false) continue;
      if (k === 'text') el.textContent = v;
      else if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
      else el.setAttribute(k, v === true ? '' : v);
    }
    for (const c of [].concat(children == null ? [] : children)) {
      if (c == null || c === false) continue;
      el.appendChild(typeof c === 'string' ? document.createTextNode(c) : c);
    }
    return el;
  }

  function text(cls, content) {
    return html('div', { class: cls, text: content });
  }

  function button(label, title, action, cls) {
    return html('button', { type: 'button', class: cls, title: title, onclick: action, text: label });
  }

  /** rows of cells; the first cell of each row in a `first` element ('th' or 'td'). */
  function table(rows, first, cls) {
    return html('table', { class: cls || null }, rows.map(row => html('tr', {}, row.map((cell, i) =>
      html(i ? 'td' : first, { text: String(cell) })))));
  }

  function translate(x, y) {
    return 'translate(' + x.toFixed(1) + ',' + y.toFixed(1) + ')';
  }

  function trimZeros(s) {
    return s.indexOf('.') < 0 ? s : s.replace(/0+$/, '').replace(/\.$/, '');
  }

  /** One number with 5 significant digits; NaN and infinities may arrive as strings. */
  function fmt(x) {
    x = Number(x);
    if (x === 0) return '0';
    if (!isFinite(x)) return isNaN(x) ? 'nan' : (x > 0 ? 'inf' : '-inf');
    const a = Math.abs(x);
    if (a >= 1e-3 && a < 1e5) return trimZeros(x.toPrecision(5));
    const parts = x.toExponential(4).split('e');
    return trimZeros(parts[0]) + 'e' + parts[1];
  }

  function size(v) {
    if (!Array.isArray(v)) return 1;
    let n = 0;
    for (const x of v) n += size(x);
    return n;
  }

  /** Nested lists printed like NumPy; over FULL_PRINT_LIMIT elements every axis keeps 3 at each end. */
  function arrayText(v) {
    const edge = size(v) > FULL_PRINT_LIMIT ? 3 : Infinity;
    function rec(a, depth) {
      if (!Array.isArray(a)) return fmt(a);
      const parts = a.length > 2 * edge
        ? a.slice(0, edge).map(x => rec(x, depth + 1)).concat(['…'], a.slice(-edge).map(x => rec(x, depth + 1)))
        : a.map(x => rec(x, depth + 1));
      const nested = a.length && Array.isArray(a[0]);
      return '[' + parts.join(nested ? ',\n' + ' '.repeat(depth + 1) : ', ') + ']';
    }
    return rec(v, 0);
  }

  function shapeText(shape) {
    return shape && shape.length ? shape.join('×') : 'scalar';
  }

  function numel(shape) {
    return (shape || []).reduce((a, b) => a * b, 1);
  }

  function parentPath(path) {
    const i = path.lastIndexOf('.');
    return i < 0 ? '' : path.slice(0, i);
  }

  /** Viridis at t in [0, 1], with a text colour that stays readable on it. */
  function viridis(t) {
    t = Math.max(0, Math.min(1, t)) * (VIRIDIS.length - 1);
    const i = Math.min(VIRIDIS.length - 2, Math.floor(t)), f = t - i;
    const a = hexRgb(VIRIDIS[i]), b = hexRgb(VIRIDIS[i + 1]);
    const rgb = a.map((x, j) => Math.round(x + (b[j] - x) * f));
    const luminance = (0.299 * rgb[0] + 0.587 * rgb[1] + 0.114 * rgb[2]) / 255;
    return { fill: 'rgb(' + rgb.join(',') + ')', text: luminance < 0.5 ? '#fff' : '#1b1b1b' };
  }

  function hexRgb(hex) {
    return [1, 3, 5].map(i => parseInt(hex.slice(i, i + 2), 16));
  }

  let measureContext = null;
  function textWidth(text, font) {
    measureContext = measureContext || document.createElement('canvas').getContext('2d');
    measureContext.font = font;
    return measureContext.measureText(text).width;
  }
  /** text, cut with "…" to fit width px. */
  function fitText(label, width, font) {
    if (textWidth(label, font) <= width) return label;
    let n = label.length;
    while (n > 1 && textWidth(label.slice(0, n) + '…', font) > width) n--;
    return label.slice(0, n) + '…';
  }

  const NAME_FONT = '600 12px system-ui, "DejaVu Sans", sans-serif';
  const SHAPE_FONT = '10.5px ui-monospace, "DejaVu Sans Mono", monospace';
  const LABEL_FONT = '11px system-ui, "DejaVu Sans", sans-serif';

  /** The graph JSON; Python's json writes NaN/Infinity, which JSON.parse refuses, so quote them. */
  function readData(root) {
    const script = root.querySelector('script[type="application/json"]');
    const json = script ? script.textContent : '{}';
    try {
      return JSON.parse(json);
    } catch (e) {
      return JSON.parse(json.replace(/([:,[]\s*)(-?Infinity|NaN)(?=\s*[,\]}])/g, '$1"$2"'));
    }
  }

  // ---------------------------------------------------------------- layered (Sugiyama) layout

  /**
   * Lays out a directed graph top to bottom. nodes: [{key, w, h, chain}] where chain lists the
   * expanded modules around the node, outermost first; edges: [{from, to}] by key. Steps:
   * 1. break cycles (a collapsed module used twice can make one) by reversing DFS back edges;
   * 2. layer by longest path to the sink, so every node sits just above its first consumer: the
   *    inputs come out on top and the loss at the bottom;
   * 3. find each module's connected parts (one box each) and give every part a left and a right
   *    border node in each layer it spans; split edges longer than one layer with dummy points;
   * 4. order each layer by barycenter sweeps, a module part's members kept together between its
   *    borders, keeping the order with the fewest crossings;
   * 5. place x by least-squares moves toward the neighbours under the minimum separations, then
   *    straighten the borders into box walls; y layer by layer with room for box labels.
   * Returns {nodes: Map key -> {x, y, w, h}, edges: [{from, to, points}], boxes, width, height}.
   */
  function layoutGraph(nodes, edges) {
    const V = nodes.map(n => ({ key: n.key, w: n.w, h: n.h, chain: n.chain, kind: 'node' }));
    const index = new Map(V.map((v, i) => [v.key, i]));
    const E = edges.map(e => ({ u: index.get(e.from), v: index.get(e.to), src: e, reversed: false }))
      .filter(e => e.u !== e.v);
    reverseBackEdges(V.length, E);
    const head = e => (e.reversed ? e.v : e.u), tail = e => (e.reversed ? e.u : e.v);
    const parts = moduleParts(V, E);
    const layer = longestPathLayers(V, E.map(e => [head(e), tail(e)]), parts);
    const nLayers = V.length ? Math.max.apply(null, layer) + 1 : 0;

    const up = V.map(() => []), down = V.map(() => []);
    const add = (v, l) => { V.push(v); layer.push(l); up.push([]); down.push([]); return V.length - 1; };
    for (const e of E) {
      const a = head(e), b = tail(e), nest = commonPrefix(V[a].nest, V[b].nest);
      e.path = [a];
      for (let l = layer[a] + 1; l < layer[b]; l++) e.path.push(add({ w: 0, h: 0, nest: nest, kind: 'dummy' }, l));
      e.path.push(b);
      for (let i = 1; i < e.path.length; i++) {
        down[e.path[i - 1]].push(e.path[i]);
        up[e.path[i]].push(e.path[i - 1]);
      }
    }
    for (const p of parts) {
      p.walls = [];
      for (let l = p.top; l <= p.bottom; l++) {
        p.walls.push([-1, 1].map(side => add({ w: 0, h: 0, nest: p.nest, kind: 'border', side: side, part: p }, l)));
      }
    }

    const rows = [];
    for (let l = 0; l < nLayers; l++) rows.push([]);
    V.forEach((v, i) => rows[layer[i]].push(i));
    orderLayers(rows, up, down, V, parts);
    const x = placeX(rows, up, down, V, parts);
    const y = placeY(rows, V, layer);
    const boxes = moduleBoxes(parts, V, x, y, layer);

    let minX = Infinity, maxX = -Infinity, maxY = 0;
    V.forEach((v, i) => {
      minX = Math.min(minX, x[i] - v.w / 2);
      maxX = Math.max(maxX, x[i] + v.w / 2);
      maxY = Math.max(maxY, y[i] + v.h / 2);
    });
    for (const b of boxes) {
      minX = Math.min(minX, b.x);
      maxX = Math.max(maxX, b.x + b.w);
      maxY = Math.max(maxY, b.y + b.h);
    }
    const shift = 20 - (isFinite(minX) ? minX : 0);
    const out = { nodes: new Map(), boxes: boxes, width: (isFinite(maxX) ? maxX + shift : 0) + 20, height: maxY + 20 };
    V.forEach((v, i) => {
      if (v.kind === 'node') out.nodes.set(v.key, { x: x[i] + shift, y: y[i], w: v.w, h: v.h });
    });
    for (const b of boxes) b.x += shift;
    out.edges = routeEdges(E, V, x, y, shift);
    return out;
  }

  function commonPrefix(a, b) {
    let i = 0;
    while (i < a.length && i < b.length && a[i] === b[i]) i++;
    return a.slice(0, i);
  }

  /** Marks e.reversed on the edges that close a cycle (iterative DFS, no recursion). */
  function reverseBackEdges(n, E) {
    const out = [];
    for (let i = 0; i < n; i++) out.push([]);
    E.forEach(e => out[e.u].push(e));
    const state = new Uint8Array(n);  // 0 unseen, 1 on the DFS stack, 2 finished
    for (let s = 0; s < n; s++) {
      if (state[s]) continue;
      const stack = [[s, 0]];
      state[s] = 1;
      while (stack.length) {
        const top = stack[stack.length - 1];
        const e = out[top[0]][top[1]++];
        if (!e) {
          state[top[0]] = 2;
          stack.pop();
        } else if (state[e.v] === 1) {
          e.reversed = true;
        } else if (state[e.v] === 0) {
          state[e.v] = 1;
          stack.push([e.v, 0]);
        }
      }
    }
  }

  /**
   * layer = (longest path in the graph) - (longest path from the node to a sink), with one rule for
   * module boxes: a node that feeds a box from outside sits above the box's top, so consecutive
   * boxes (a ResNet's blocks) stack instead of sharing a layer. Sets each part's top and bottom.
   */
  function longestPathLayers(V, pairs, parts) {
    const n = V.length, succ = [], deps = [];
    for (let i = 0; i < n; i++) { succ.push([]); deps.push(new Set()); }
    for (const p of pairs) {
      succ[p[0]].push(p[1]);
      deps[p[0]].add(p[1]);
      for (const part of V[p[1]].nest) {
        if (V[p[0]].nest.indexOf(part) < 0) for (const m of part.members) deps[p[0]].add(m);
      }
    }
    // height[i] = 1 + max height of what i must sit above: its consumers, and every member of a box
    // it feeds. Kahn's order over those dependencies; a module that feeds itself (a cycle) falls
    // back to its consumers alone.
    const height = new Array(n).fill(-1), waiting = deps.map(d => d.size), users = [];
    for (let i = 0; i < n; i++) users.push([]);
    deps.forEach((d, i) => d.forEach(j => users[j].push(i)));
    const queue = [];
    for (let i = 0; i < n; i++) if (!waiting[i]) queue.push(i);
    for (let k = 0; k < queue.length; k++) {
      const i = queue[k];
      height[i] = 0;
      for (const j of deps[i]) height[i] = Math.max(height[i], height[j] + 1);
      for (const u of users[i]) if (--waiting[u] === 0) queue.push(u);
    }
    for (let changed = true; changed;) {
      changed = false;
      for (let i = 0; i < n; i++) {
        if (waiting[i] === 0) continue;
        let h = 0;
        for (const j of succ[i]) h = Math.max(h, height[j] + 1);
        if (h > height[i]) { height[i] = h; changed = true; }
      }
    }
    const top = n ? Math.max.apply(null, height) : 0;
    const layer = height.map(h => top - h);
    for (const part of parts) {
      part.top = Math.min.apply(null, part.members.map(i => layer[i]));
      part.bottom = Math.max.apply(null, part.members.map(i => layer[i]));
    }
    return layer;
  }

  /**
   * The connected parts of each module's members: a module called twice (a ResNet block's shared
   * ReLU) gets one box per call. A part with a single member gets no box; the node stands for its
   * module by itself. Sets each node's nest (its parts, outermost first) and returns the parts,
   * each {group, nest, members}, outer parts before inner ones.
   */
  function moduleParts(V, E) {
    const find = (p, a) => { while (p.get(a) !== a) { p.set(a, p.get(p.get(a))); a = p.get(a); } return a; };
    const roots = new Map();  // group -> union-find over its members
    V.forEach((v, i) => {
      for (const g of v.chain) {
        if (!roots.has(g)) roots.set(g, new Map());
        roots.get(g).set(i, i);
      }
    });
    for (const e of E) {
      for (const g of commonPrefix(V[e.u].chain, V[e.v].chain)) {
        const p = roots.get(g);
        p.set(find(p, e.u), find(p, e.v));
      }
    }
    const byRoot = new Map();
    for (const [g, p] of roots) {
      for (const i of p.keys()) {
        const key = g + '\u0000' + find(p, i);
        if (!byRoot.has(key)) byRoot.set(key, { group: g, members: [] });
        byRoot.get(key).members.push(i);
      }
    }
    const partOf = new Map();  // "group\0node" -> part
    const parts = [];
    for (const part of byRoot.values()) {
      if (part.members.length < 2) continue;
      parts.push(part);
      for (const i of part.members) partOf.set(part.group + '\u0000' + i, part);
    }
    V.forEach((v, i) => {
      v.nest = v.chain.map(g => partOf.get(g + '\u0000' + i)).filter(Boolean);
    });
    for (const part of parts) {
      const m = V[part.members[0]].nest;
      part.nest = m.slice(0, m.indexOf(part) + 1);
    }
    parts.sort((a, b) => a.nest.length - b.nest.length);
    return parts;
  }

  /**
   * Barycenter sweeps down and up, keeping the order with the fewest crossings. Module parts sort
   * by their members' mean position over all layers, so two boxes side by side keep the same
   * order in every layer they share (else no straight walls could separate them).
   */
  function orderLayers(rows, up, down, V, parts) {
    const pos = new Float64Array(V.length);
    const record = () => rows.forEach(r => r.forEach((v, i) => { pos[v] = i; }));
    const partKeys = () => new Map(parts.map(p => [p, p.members.reduce((s, i) => s + pos[i], 0) / p.members.length]));
    record();
    let keys = partKeys();
    rows.forEach((r, l) => { rows[l] = nestedSort(r, new Map(r.map(v => [v, pos[v]])), pos, V, keys); });
    record();
    let best = rows.map(r => r.slice()), bestCrossings = crossings(rows, down, pos);
    for (let iter = 0; iter < 8; iter++) {
      const downward = iter % 2 === 0;
      const order = rows.map((_, i) => i);
      if (!downward) order.reverse();
      keys = partKeys();
      for (const l of order) {
        const key = new Map();
        for (const v of rows[l]) {
          const nb = downward ? up[v] : down[v];
          key.set(v, nb.length ? nb.reduce((s, u) => s + pos[u], 0) / nb.length : pos[v]);
        }
        rows[l] = nestedSort(rows[l], key, pos, V, keys);
        rows[l].forEach((v, i) => { pos[v] = i; });
      }
      const c = crossings(rows, down, pos);
      if (c < bestCrossings) {
        bestCrossings = c;
        best = rows.map(r => r.slice());
      }
    }
    best.forEach((r, l) => { rows[l] = r; });
  }

  /**
   * Sorts a layer by key, module part by module part: a part's members stay together, between
   * its left and right border; a part sorts among its siblings by partKey.
   */
  function nestedSort(row, key, pos, V, partKey) {
    const tree = () => ({ kids: new Map(), leaves: [], left: -1, right: -1 });
    const root = tree();
    for (const v of row) {
      const node = V[v];
      let t = root;
      for (const part of node.nest) {
        if (!t.kids.has(part)) t.kids.set(part, tree());
        t = t.kids.get(part);
      }
      if (node.kind !== 'border') t.leaves.push(v);
      else if (node.side < 0) t.left = v;
      else t.right = v;
    }
    const out = [];
    (function flatten(t) {
      if (t.left >= 0) out.push(t.left);
      const items = t.leaves.map(v => ({ k: key.get(v), tie: pos[v], v: v }));
      for (const [part, kid] of t.kids) items.push({ k: partKey.get(part), tie: part.members[0], kid: kid });
      items.sort((a, b) => a.k - b.k || a.tie - b.tie);
      for (const it of items) {
        if (it.kid) flatten(it.kid);
        else out.push(it.v);
      }
      if (t.right >= 0) out.push(t.right);
    })(root);
    return out;
  }

  function crossings(rows, down, pos) {
    let total = 0;
    for (const row of rows) {
      const segs = [];
      for (const u of row) for (const v of down[u]) segs.push([pos[u], pos[v]]);
      segs.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
      for (let i = 0; i < segs.length; i++) {
        for (let j = i + 1; j < segs.length; j++) {
          if (segs[j][0] > segs[i][0] && segs[j][1] < segs[i][1]) total++;
        }
      }
    }
    return total;
  }

  /** Minimum distance between the centres of neighbours a, b in a layer. */
  function separation(a, b) {
    if (a.kind === 'border' || b.kind === 'border') return (a.w + b.w) / 2 + BOX_PAD;
    return (a.w + b.w) / 2 + (a.kind === 'dummy' || b.kind === 'dummy' ? DUMMY_SEP : NODE_SEP);
  }

  /**
   * x by alternating sweeps: each node moves toward the weighted mean of its neighbours in the layer
   * above (or below), the layer keeping its order and separations. An edge pulls with the length of
   * the longest path that reaches its upper end, and a node holds its place with the same weight,
   * so the main path stays straight and the side inputs (parameters) hang beside it instead of
   * dragging it sideways. Last, every box's borders move out to its widest layer: straight walls.
   */
  function placeX(rows, up, down, V, parts) {
    const x = new Float64Array(V.length), depth = new Float64Array(V.length);
    for (const r of rows) for (const v of r) for (const u of up[v]) depth[v] = Math.max(depth[v], depth[u] + 1);
    const seps = rows.map(r => r.slice(1).map((v, i) => separation(V[r[i]], V[v])));
    rows.forEach((r, l) => {
      let at = 0;
      r.forEach((v, i) => { if (i) at += seps[l][i - 1]; x[v] = at; });
      r.forEach(v => { x[v] -= at / 2; });
    });
    const pull = (v, list, upper) => {
      let sum = 0, total = 0;
      for (const u of list) {
        const w = 1 + (upper ? depth[u] : depth[v]);
        sum += w * x[u];
        total += w;
      }
      return sum / total;
    };
    // A border wants to hug the first thing inside it; straightening moves all of a box's borders
    // to where its widest layer needs them.
    const hug = (l, i) => {
      const r = rows[l], v = r[i], inner = r[i - V[v].side];
      return inner === undefined ? x[v] : x[inner] + V[v].side * separation(V[v], V[inner]);
    };
    const slot = new Map();
    rows.forEach((r, l) => r.forEach((v, i) => { if (V[v].kind === 'border') slot.set(v, [l, i]); }));
    const wall = new Float64Array(V.length);
    for (let iter = 0; iter < 22; iter++) {
      const straighten = iter >= 16, downward = iter % 2 === 0;
      if (straighten) {
        for (const p of parts) {
          const left = Math.min.apply(null, p.walls.map(w => hug.apply(null, slot.get(w[0]))));
          const right = Math.max.apply(null, p.walls.map(w => hug.apply(null, slot.get(w[1]))));
          for (const w of p.walls) { wall[w[0]] = left; wall[w[1]] = right; }
        }
      }
      const order = rows.map((_, i) => i);
      if (!downward) order.reverse();
      for (const l of order) {
        const r = rows[l];
        const desired = [], weight = [];
        r.forEach((v, i) => {
          const nb = downward ? up[v] : down[v];
          if (V[v].kind === 'border') {
            desired.push(straighten ? wall[v] : hug(l, i));
            weight.push(straighten ? 1e4 : 0.01);
          } else if (straighten) {
            desired.push(x[v]);
            weight.push(1);
          } else {
            desired.push(nb.length ? pull(v, nb, downward) : x[v]);
            weight.push((1 + depth[v]) * (V[v].kind === 'dummy' ? 2 : 1) * (nb.length ? 1 : 0.1));
          }
        });
        const placed = leastSquaresRow(desired, weight, seps[l]);
        r.forEach((v, i) => { x[v] = placed[i]; });
      }
    }
    return x;
  }

  /**
   * argmin Σ w_i (x_i − d_i)² subject to x_{i+1} − x_i ≥ sep_i: shifting by the cumulative
   * separations makes it isotonic regression, solved by pooling adjacent violators.
   */
  function leastSquaresRow(desired, weight, sep) {
    const n = desired.length, offset = [0];
    for (let i = 1; i < n; i++) offset.push(offset[i - 1] + sep[i - 1]);
    const blocks = [];
    for (let i = 0; i < n; i++) {
      blocks.push({ w: weight[i], wy: weight[i] * (desired[i] - offset[i]), count: 1 });
      while (blocks.length > 1) {
        const b = blocks[blocks.length - 1], a = blocks[blocks.length - 2];
        if (a.wy / a.w <= b.wy / b.w) break;
        a.w += b.w; a.wy += b.wy; a.count += b.count;
        blocks.pop();
      }
    }
    const x = [];
    for (const b of blocks) for (let k = 0; k < b.count; k++) x.push(b.wy / b.w + offset[x.length]);
    return x;
  }

  /** y per layer, leaving room above a layer for the labels of the boxes that open there. */
  function placeY(rows, V, layer) {
    const y = new Float64Array(V.length);
    let at = 0;
    rows.forEach((r, l) => {
      let height = 0, above = 0, below = 0;
      for (const v of r) {
        if (V[v].kind !== 'node') continue;
        height = Math.max(height, V[v].h);
        above = Math.max(above, V[v].nest.filter(p => p.top === l).length * BOX_LABEL);
        below = Math.max(below, V[v].nest.filter(p => p.bottom === l).length * BOX_PAD);
      }
      at += (l ? LAYER_GAP : 20) + above;
      for (const v of r) y[v] = at + height / 2;
      at += height + below;
    });
    return y;
  }

  /** A box per module part: between its walls, from its top members' labels to its bottom members. */
  function moduleBoxes(parts, V, x, y, layer) {
    return parts.map(p => {
      let y0 = Infinity, y1 = -Infinity;
      for (const i of p.members) {
        const v = V[i], inner = v.nest.length - v.nest.indexOf(p);
        if (layer[i] === p.top) y0 = Math.min(y0, y[i] - v.h / 2 - BOX_LABEL * inner);
        if (layer[i] === p.bottom) y1 = Math.max(y1, y[i] + v.h / 2 + BOX_PAD * inner);
      }
      const x0 = Math.min.apply(null, p.walls.map(w => x[w[0]]));
      const x1 = Math.max.apply(null, p.walls.map(w => x[w[1]]));
      return { group: p.group, depth: p.nest.length - 1, x: x0, y: y0, w: x1 - x0, h: y1 - y0 };
    });
  }

  /** Points per edge, from the bottom of its source to the top of its target, ports spread out. */
  function routeEdges(E, V, x, y, shift) {
    const outs = new Map(), ins = new Map();
    for (const e of E) {
      const a = e.path[0], b = e.path[e.path.length - 1];
      if (!outs.has(a)) outs.set(a, []);
      if (!ins.has(b)) ins.set(b, []);
      outs.get(a).push(e);
      ins.get(b).push(e);
    }
    const port = (list, node, next) => {
      const offsets = new Map();
      list.sort((p, q) => x[next(p)] - x[next(q)]);
      const w = V[node].w, m = list.length, step = m > 1 ? Math.min(12, (w - 16) / (m - 1)) : 0;
      list.forEach((e, i) => offsets.set(e, (i - (m - 1) / 2) * step));
      return offsets;
    };
    const outPort = new Map(), inPort = new Map();
    for (const [node, list] of outs) for (const [e, o] of port(list, node, e => e.path[1])) outPort.set(e, o);
    for (const [node, list] of ins) {
      for (const [e, o] of port(list, node, e => e.path[e.path.length - 2])) inPort.set(e, o);
    }
    return E.map(e => {
      const p = e.path, last = p.length - 1;
      const points = p.map((i, k) => {
        if (k === 0) return { x: x[i] + outPort.get(e) + shift, y: y[i] + V[i].h / 2 };
        if (k === last) return { x: x[i] + inPort.get(e) + shift, y: y[i] - V[i].h / 2 };
        return { x: x[i] + shift, y: y[i] };
      });
      if (e.reversed) points.reverse();
      return { from: e.src.from, to: e.src.to, points: points };
    });
  }

  function pathData(points) {
    let d = 'M' + points[0].x.toFixed(1) + ',' + points[0].y.toFixed(1);
    for (let i = 1; i < points.length; i++) {
      const a = points[i - 1], b = points[i], dy = (b.y - a.y) / 2;
      d += 'C' + a.x.toFixed(1) + ',' + (a.y + dy).toFixed(1) + ' ' + b.x.toFixed(1) + ',' +
        (b.y - dy).toFixed(1) + ' ' + b.x.toFixed(1) + ',' + b.y.toFixed(1);
    }
    return d;
  }

  // ---------------------------------------------------------------- the explorer

  let explorerCount = 0;

  class Explorer {
    constructor(root) {
      const t0 = performance.now();
      this.root = root;
      this.uid = 'cr' + (++explorerCount);
      this.data = readData(root);
      this.timings = {};
      this.index();
      this.collapsed = new Set((this.data.collapsed || []).filter(g => this.groups.has(g)));
      this.stepIndex = -1;
      this.pinned = null;
      this.matches = new Set();
      this.matchCursor = -1;
      this.colourByGrad = !!this.data.backward_done && this.gradRange !== null;
      this.view = { x: 0, y: 0, k: 1 };
      this.buildDom();
      this.relayout();
      this.initialView();
      this.renderStepPanel();
      this.timings.total = performance.now() - t0;
      root.setAttribute('data-cr-ready', '');
    }

    // ------------------------------------------------------------ indexes over the data

    index() {
      const d = this.data;
      d.nodes = d.nodes || [];
      d.edges = d.edges || [];
      d.sweep = d.sweep || [];
      this.nodes = new Map(d.nodes.map(n => [n.id, n]));
      this.groups = new Map();
      for (const g of d.groups || []) this.groups.set(g.id, g);
      for (const n of d.nodes) {  // tolerate modules missing from "groups"
        for (let p = n.group || ''; p && !this.groups.has(p); p = parentPath(p)) {
          this.groups.set(p, { id: p, parent: parentPath(p), type: '' });
        }
      }
      this.chains = new Map();
      const chainOf = g => {
        if (!g) return [];
        if (!this.chains.has(g)) {
          const info = this.groups.get(g);
          const parent = info && info.parent != null ? info.parent : parentPath(g);
          this.chains.set(g, chainOf(parent === g ? '' : parent).concat([g]));
        }
        return this.chains.get(g);
      };
      for (const g of this.groups.keys()) chainOf(g);
      this.chainOf = chainOf;
      this.inEdges = new Map();
      this.outEdges = new Map();
      for (const n of d.nodes) { this.inEdges.set(n.id, []); this.outEdges.set(n.id, []); }
      for (const e of d.edges) {
        if (this.inEdges.has(e.to)) this.inEdges.get(e.to).push(e);
        if (this.outEdges.has(e.from)) this.outEdges.get(e.from).push(e);
      }
      for (const list of this.inEdges.values()) list.sort((a, b) => (a.index || 0) - (b.index || 0));
      this.sweepPos = new Map(d.sweep.map((id, k) => [id, k]));
      this.membersOf = new Map();  // group -> every node inside it, at any depth
      for (const n of d.nodes) {
        for (const g of chainOf(n.group || '')) {
          if (!this.membersOf.has(g)) this.membersOf.set(g, []);
          this.membersOf.get(g).push(n);
        }
      }
      const logs = d.nodes.map(n => Number(n.grad_norm)).filter(v => v > 0 && isFinite(v)).map(Math.log10);
      const lo = Math.floor(Math.min.apply(null, logs)), hi = Math.ceil(Math.max.apply(null, logs));
      this.gradRange = logs.length ? [lo, Math.max(lo + 1, hi)] : null;  // whole decades, at least one
    }

    /** The key of what stands for node n on screen: itself, or its outermost collapsed module. */
    repKey(n) {
      for (const g of this.chainOf(n.group || '')) if (this.collapsed.has(g)) return 'g:' + g;
      return 'n:' + n.id;
    }

    label(n) {
      return n.kind === 'op' && n.group ? n.name + ' · ' + n.group : n.name;
    }

    /** A module box's label: its name inside the enclosing box ("conv1 · Conv2d", "layer1.0 · BasicBlock"). */
    boxTitle(g) {
      const parent = parentPath(g), info = this.groups.get(g);
      let name = parent ? g.slice(parent.length + 1) : g;
      if (/^\d+$/.test(name)) name = g.slice(parentPath(parent).length ? parentPath(parent).length + 1 : 0);
      return info && info.type ? name + ' · ' + info.type : name;
    }

    groupTitle(g) {
      const info = this.groups.get(g);
      return info && info.type ? g + ' · ' + info.type : g;
    }

    // ------------------------------------------------------------ DOM scaffolding

    buildDom() {
      const root = this.root, d = this.data;
      for (const el of root.querySelectorAll('.cr-fallback')) el.remove();
      root.setAttribute('tabindex', '0');
      this.searchBox = html('input', {
        class: 'cr-search', type: 'search', placeholder: 'search name, op, module…', 'aria-label': 'search nodes',
        oninput: () => this.search(this.searchBox.value),
        onkeydown: ev => { if (ev.key === 'Enter') this.nextMatch(ev.shiftKey ? -1 : 1); },
      });
      this.searchCount = html('span', { class: 'cr-search-count' });
      const colourToggle = html('input', {
        type: 'checkbox', class: 'cr-colour-toggle',
        onchange: ev => { this.colourByGrad = ev.target.checked; this.paint(); },
      });
      colourToggle.checked = this.colourByGrad;
      const toolbar = html('div', { class: 'cr-toolbar' }, [
        html('span', { class: 'cr-title', text: d.title || 'graph' }),
        html('span', { class: 'cr-stats', text: d.nodes.length + ' nodes · ' + d.edges.length + ' edges' }),
        html('span', { class: 'cr-spacer' }),
        this.searchBox, this.searchCount,
        button('Expand all', 'expand every module', () => this.expandAll(), 'cr-expand-all'),
        button('Collapse all', 'collapse every module', () => this.collapseAll(), 'cr-collapse-all'),
        button('Fit', 'fit the graph to the view', () => this.fit(), 'cr-fit'),
        this.gradRange ? html('label', { class: 'cr-colour-label', title: 'fill nodes by log10 of the norm of ∂loss/∂(node)' },
          [colourToggle, ' colour by ‖∂loss/∂x‖']) : null,
      ]);

      this.svg = svg('svg', { class: 'cr-svg' }, [
        svg('defs', {}, ['plain', 'arriving', 'handed'].map(kind => svg('marker', {
          id: this.uid + '-arrow-' + kind, class: 'cr-arrow ' + kind, viewBox: '0 0 10 10', refX: 9, refY: 5,
          markerWidth: 7, markerHeight: 7, markerUnits: 'userSpaceOnUse', orient: 'auto',
        }, [svg('path', { d: 'M0,0 L10,5 L0,10 z' })]))),
      ]);
      this.viewport = svg('g', { class: 'cr-viewport' });
      this.svg.appendChild(this.viewport);
      this.details = html('div', { class: 'cr-details', hidden: true });
      this.legend = html('div', { class: 'cr-legend' });
      const canvas = html('div', { class: 'cr-canvas' }, [this.svg, this.details, this.legend]);
      this.side = html('div', { class: 'cr-side' });
      root.appendChild(toolbar);
      root.appendChild(html('div', { class: 'cr-main' }, [canvas, this.side]));
      this.buildSide();
      this.buildLegend();
      this.bindCanvas();
      // the arrow keys drive the explorer last touched (shared by every copy of this script on a page)
      root.addEventListener('pointerdown', () => { window.chainruleActive = this; });
      root.addEventListener('focusin', () => { window.chainruleActive = this; });
    }

    buildSide() {
      const d = this.data;
      const side = this.side;
      if (d.backward_done && d.sweep.length) {
        this.stepCounter = html('span', { class: 'cr-step-counter' });
        side.appendChild(html('section', { class: 'cr-step' }, [
          html('h3', { text: 'Backward, step by step' }),
          html('p', { class: 'cr-hint', text: 'The sweep visits nodes in reverse topological order, the loss first; ' +
            'each node\'s gradient is complete before it is used. Keys: ← → Home End.' }),
          html('div', { class: 'cr-step-controls' }, [
            button('|◀', 'before the sweep (Home)', () => this.step(-1), 'cr-first'),
            button('◀', 'previous step (←)', () => this.prev(), 'cr-prev'),
            button('▶', 'next step (→)', () => this.next(), 'cr-next'),
            button('▶|', 'last step (End)', () => this.last(), 'cr-last'),
            this.stepCounter,
          ]),
          this.stepBody = html('div', { class: 'cr-step-body' }),
        ]));
        this.buildDpTable(side);
      } else {
        side.appendChild(html('section', { class: 'cr-step' }, [
          html('h3', { text: 'Backward, step by step' }),
          html('p', { class: 'cr-hint', text: 'Call loss.backward() after chainrule.viz.graph(loss) to step through ' +
            'the backward sweep here.' }),
        ]));
      }
      if ((d.notes || []).length) {
        side.appendChild(html('section', { class: 'cr-notes' }, d.notes.map(note => html('div', { class: 'cr-note' }, [
          html('h3', { text: note.title || 'Note' }),
          table(note.rows || [], 'td'),
        ]))));
      }
    }

    buildDpTable(side) {
      const rows = this.data.sweep.map((id, k) => {
        const n = this.nodes.get(id) || { name: '?' };
        return html('tr', { 'data-step': k, 'data-id': id, class: 'empty', onclick: () => this.step(k) }, [
          html('td', { class: 'cr-dp-k', text: String(k + 1) }),
          html('td', { class: 'cr-dp-node', text: this.label(n) }),
          html('td', { class: 'cr-dp-grad' }),
        ]);
      });
      this.dpRows = rows;
      this.dpShown = -1;
      this.dpScroll = html('div', { class: 'cr-dp-scroll' }, html('table', { class: 'cr-dp-table' }, [
        html('thead', {}, html('tr', {}, ['#', 'node', '∂loss/∂node'].map(t => html('th', { text: t })))),
        html('tbody', {}, rows),
      ]));
      side.appendChild(html('section', { class: 'cr-dp' }, [
        html('h3', { text: 'The dynamic-programming table' }),
        html('p', { class: 'cr-hint', text: 'One row per node in sweep order, filled as the sweep goes: each row is ' +
          'the sum of what the rows of its consumers handed back.' }),
        this.dpScroll,
      ]));
    }

    buildLegend() {
      this.legend.textContent = '';
      if (!this.gradRange || !this.colourByGrad) {
        this.legend.hidden = true;
        return;
      }
      this.legend.hidden = false;
      const lo = this.gradRange[0], hi = this.gradRange[1];
      const stops = VIRIDIS.map((c, i) => c + ' ' + (100 * i / (VIRIDIS.length - 1)).toFixed(0) + '%').join(', ');
      const every = Math.max(1, Math.ceil((hi - lo) / 6));
      const ticks = [];
      for (let e = lo; e <= hi; e += every) {
        ticks.push(html('span', { style: 'left:' + (100 * (e - lo) / (hi - lo)).toFixed(1) + '%', text: '1e' + e }));
      }
      fill(this.legend, {}, [
        html('div', { class: 'cr-legend-title', text: '‖∂loss/∂x‖ (log scale)' }),
        html('div', { class: 'cr-legend-bar', style: 'background: linear-gradient(to right, ' + stops + ')' }),
        html('div', { class: 'cr-legend-ticks' }, ticks),
      ]);
    }

    // ------------------------------------------------------------ layout and drawing

    visibleGraph() {
      const nodes = new Map(), edges = new Map();
      for (const n of this.data.nodes) {
        const key = this.repKey(n);
        if (nodes.has(key)) continue;
        if (key[0] === 'g') {
          const g = key.slice(2);
          const chain = this.chainOf(g).slice(0, -1);
          const title = this.groupTitle(g);
          const members = this.membersOf.get(g) || [];
          const sub = members.length + (members.length === 1 ? ' node' : ' nodes');
          const w = Math.max(textWidth(title, NAME_FONT), textWidth(sub, SHAPE_FONT)) + 36;
          nodes.set(key, { key: key, group: g, w: Math.ceil(w), h: GROUP_H, chain: chain, title: title, sub: sub });
        } else {
          const chain = this.chainOf(n.group || '');
          const name = this.shortName(n);
          const sub = shapeText(n.shape);
          const w = Math.max(textWidth(name, NAME_FONT), textWidth(sub, SHAPE_FONT)) + (n.kind === 'param' ? 28 : 20);
          nodes.set(key, { key: key, node: n, w: Math.max(48, Math.ceil(w)), h: NODE_H, chain: chain, title: name,
            sub: sub });
        }
      }
      for (const e of this.data.edges) {
        const a = this.nodes.get(e.from), b = this.nodes.get(e.to);
        if (!a || !b) continue;
        const from = this.repKey(a), to = this.repKey(b);
        if (from === to) continue;
        const key = from + '>' + to;
        if (!edges.has(key)) edges.set(key, { key: key, from: from, to: to, data: [] });
        edges.get(key).data.push(e);
      }
      return { nodes: nodes, edges: edges };
    }

    /** A parameter drawn inside its module's box needs only the last part of its name. */
    shortName(n) {
      if (n.kind === 'param' && n.group && n.name.startsWith(n.group + '.')) return n.name.slice(n.group.length + 1);
      return n.name;
    }

    relayout() {
      const t0 = performance.now();
      const graph = this.visibleGraph();
      const layout = layoutGraph(Array.from(graph.nodes.values()), Array.from(graph.edges.values()));
      const t1 = performance.now();
      this.graph = graph;
      this.layout = layout;
      this.render();
      this.paint();
      this.restoreDetails();  // the hovered element may be gone
      this.timings.layout = t1 - t0;
      this.timings.render = performance.now() - t1;
    }

    render() {
      const graph = this.graph, layout = this.layout;
      const boxes = svg('g', { class: 'cr-boxes' });
      for (const b of layout.boxes) {
        boxes.appendChild(svg('g', { class: 'group-box depth-' + Math.min(b.depth, 4), 'data-group': b.group }, [
          svg('rect', { x: b.x, y: b.y, width: b.w, height: b.h, rx: 8 }),
          svg('text', {
            class: 'group-label', x: b.x + 7, y: b.y + 13,
            onclick: ev => { ev.stopPropagation(); this.collapse(b.group); },
          }, [
            svg('title', { text: this.groupTitle(b.group) + ': click to collapse' }),
            fitText(this.boxTitle(b.group), b.w - 24, LABEL_FONT) + ' −',
          ]),
        ]));
      }
      const edgeLayer = svg('g', { class: 'cr-edges' });
      this.edgeEls = new Map();
      for (const e of layout.edges) {
        const info = graph.edges.get(e.from + '>' + e.to);
        const norms = info.data.map(x => x.grad_norm).filter(v => v != null);
        const tip = info.data.length > 1 ? info.data.length + ' edges' : 'input ' + (info.data[0].index || 0);
        const el = svg('path', {
          class: 'edge', d: pathData(e.points), 'data-from': e.from, 'data-to': e.to,
          'marker-end': 'url(#' + this.uid + '-arrow-plain)',
        }, svg('title', { text: tip + (norms.length ? ' · handed back ‖g‖ = ' + norms.map(fmt).join(', ') : '') }));
        if (info.data.length > 1) el.classList.add('merged');
        edgeLayer.appendChild(el);
        this.edgeEls.set(info.key, el);
      }
      const nodeLayer = svg('g', { class: 'cr-nodes' });
      this.nodeEls = new Map();
      for (const v of graph.nodes.values()) {
        const p = layout.nodes.get(v.key);
        const el = v.group ? this.drawGroupNode(v, p) : this.drawNode(v, p);
        nodeLayer.appendChild(el);
        this.nodeEls.set(v.key, el);
      }
      this.viewport.textContent = '';
      this.viewport.appendChild(boxes);
      this.viewport.appendChild(edgeLayer);
      this.viewport.appendChild(nodeLayer);
    }

    drawNode(v, p) {
      const n = v.node;
      const cls = 'node ' + n.kind + (n.is_output ? ' output' : '');
      const rx = n.kind === 'param' ? v.h / 2 : (n.kind === 'input' ? 2 : 6);
      const el = svg('g', { class: cls, 'data-id': n.id, transform: translate(p.x, p.y) }, [
        svg('rect', { x: -v.w / 2, y: -v.h / 2, width: v.w, height: v.h, rx: rx }),
        svg('text', { class: 'name', y: -2 }, v.title),
        svg('text', { class: 'shape', y: 11 }, v.sub),
      ]);
      this.bindNode(el, () => this.showDetails(n), () => this.select(n.id));
      return el;
    }

    drawGroupNode(v, p) {
      const el = svg('g', { class: 'node group-node', 'data-group': v.group, transform: translate(p.x, p.y) }, [
        svg('rect', { class: 'stack', x: -v.w / 2 + 4, y: -v.h / 2 + 4, width: v.w, height: v.h, rx: 7 }),
        svg('rect', { x: -v.w / 2, y: -v.h / 2, width: v.w, height: v.h, rx: 7 }),
        svg('text', { class: 'name', y: -3 }, v.title),
        svg('text', { class: 'shape', y: 12 }, v.sub),
        svg('text', { class: 'cr-plus', x: v.w / 2 - 9, y: -v.h / 2 + 12 }, '+'),
        svg('title', {}, 'click to expand ' + v.group),
      ]);
      this.bindNode(el, () => this.showGroupDetails(v.group), () => this.expand(v.group));
      return el;
    }

    bindNode(el, hover, click) {
      el.addEventListener('pointerenter', hover);
      el.addEventListener('pointerleave', () => this.restoreDetails());
      el.addEventListener('click', ev => { ev.stopPropagation(); click(); });
    }

    /** Classes and fills that depend on the step, the search and the colour switch. */
    paint() {
      const k = this.stepIndex, stepping = k >= 0;
      const status = id => {
        const pos = this.sweepPos.get(id);
        if (pos === undefined) return 'nograd';
        return pos < k ? 'done' : pos === k ? 'current' : 'pending';
      };
      for (const [key, el] of this.nodeEls) {
        let st = null, norm = null;
        if (key[0] === 'n') {
          const n = this.nodes.get(Number(key.slice(2)));
          st = stepping ? status(n.id) : null;
          norm = n.grad_norm;
          el.classList.toggle('match', this.matches.has(n.id));
        } else {
          const members = this.membersOf.get(key.slice(2)) || [];
          const sts = stepping ? members.map(m => status(m.id)).filter(s => s !== 'nograd') : [];
          if (stepping) {
            st = sts.every(s => s === 'done') ? 'done' : sts.some(s => s === 'done' || s === 'current') ? 'partial' : 'pending';
          }
          const norms = members.filter(m => m.grad_norm != null).map(m => Number(m.grad_norm)).filter(x => isFinite(x));
          norm = norms.length ? Math.max.apply(null, norms) : null;
          el.classList.toggle('match', members.some(m => this.matches.has(m.id)));
        }
        for (const c of ['current', 'done', 'pending', 'partial', 'nograd']) el.classList.toggle(c, st === c);
        const rect = el.querySelector('rect:not(.stack)');
        const showColour = this.colourByGrad && norm != null && st !== 'pending';  // a pending gradient is unknown yet
        if (showColour) {
          const c = this.gradColour(norm);
          rect.style.fill = c.fill;
          el.style.setProperty('--cr-text', c.text);
          el.classList.add('coloured');
        } else {
          rect.style.fill = '';
          el.style.removeProperty('--cr-text');
          el.classList.remove('coloured');
        }
      }
      this.svg.classList.toggle('searching', this.matches.size > 0);
      this.svg.classList.toggle('stepping', stepping);
      for (const el of this.edgeEls.values()) {
        el.classList.remove('arriving', 'handed');
        el.setAttribute('marker-end', 'url(#' + this.uid + '-arrow-plain)');
      }
      if (stepping) {
        const n = this.nodes.get(this.data.sweep[k]);
        const mark = (edges, cls) => {
          for (const e of edges) {
            const el = this.edgeEls.get(this.repKey(this.nodes.get(e.from)) + '>' + this.repKey(this.nodes.get(e.to)));
            if (!el) continue;
            el.classList.add(cls);
            el.setAttribute('marker-end', 'url(#' + this.uid + '-arrow-' + cls + ')');
          }
        };
        mark(this.outEdges.get(n.id) || [], 'arriving');
        mark(this.inEdges.get(n.id) || [], 'handed');
      }
      this.buildLegend();
    }

    gradColour(norm) {
      norm = Number(norm);
      if (!(norm > 0) || !isFinite(norm)) return { fill: norm === 0 ? '#d9d9d9' : '#e4572e', text: '#1b1b1b' };
      const lo = this.gradRange[0], hi = this.gradRange[1];
      return viridis((Math.log10(norm) - lo) / (hi - lo));
    }

    drawnNodeCount() {
      return this.nodeEls.size;
    }

    // ------------------------------------------------------------ view: pan, zoom, fit

    bindCanvas() {
      const svgEl = this.svg;
      let drag = null;
      svgEl.addEventListener('pointerdown', ev => {
        if (ev.button !== 0 || ev.target.closest('.node, .group-label')) return;
        drag = { x: ev.clientX, y: ev.clientY, vx: this.view.x, vy: this.view.y, moved: false };
        svgEl.setPointerCapture(ev.pointerId);
      });
      svgEl.addEventListener('pointermove', ev => {
        if (!drag) return;
        const dx = ev.clientX - drag.x, dy = ev.clientY - drag.y;
        if (Math.abs(dx) + Math.abs(dy) > 3) drag.moved = true;
        this.view.x = drag.vx + dx;
        this.view.y = drag.vy + dy;
        this.applyView();
      });
      const end = () => {
        if (drag && !drag.moved) this.unpin();
        drag = null;
      };
      svgEl.addEventListener('pointerup', end);
      svgEl.addEventListener('pointercancel', () => { drag = null; });
      svgEl.addEventListener('wheel', ev => {
        ev.preventDefault();
        const r = svgEl.getBoundingClientRect();
        this.zoomAt(ev.clientX - r.left, ev.clientY - r.top, Math.exp(-ev.deltaY * (ev.deltaMode ? 0.05 : 0.0015)));
      }, { passive: false });
    }

    zoomAt(px, py, factor) {
      const k = Math.max(0.05, Math.min(4, this.view.k * factor));
      this.view.x = px - (px - this.view.x) * k / this.view.k;
      this.view.y = py - (py - this.view.y) * k / this.view.k;
      this.view.k = k;
      this.applyView();
    }

    applyView() {
      const v = this.view;
      this.viewport.setAttribute('transform', translate(v.x, v.y) + ' scale(' + v.k.toFixed(4) + ')');
    }

    canvasSize() {
      const r = this.svg.getBoundingClientRect();
      return { w: r.width || 800, h: r.height || 600 };
    }

    fit(minScale) {
      const c = this.canvasSize(), L = this.layout;
      let k = Math.min(c.w / Math.max(L.width, 1), c.h / Math.max(L.height, 1), 1.25);
      const clamped = minScale && k < minScale;
      if (clamped) k = minScale;
      this.view = { k: k, x: (c.w - L.width * k) / 2, y: clamped ? 0 : (c.h - L.height * k) / 2 };
      this.applyView();
    }

    /** Fit, but never so small that labels are unreadable: then show the top (the inputs). */
    initialView() {
      this.fit(0.55);
    }

    /** Pans just enough to bring drawn node `key` into view (centred if it was far outside). */
    reveal(key) {
      const p = this.layout.nodes.get(key);
      if (!p) return;
      const c = this.canvasSize(), v = this.view, margin = 24;
      const left = v.x + (p.x - p.w / 2) * v.k, right = v.x + (p.x + p.w / 2) * v.k;
      const top = v.y + (p.y - p.h / 2) * v.k, bottom = v.y + (p.y + p.h / 2) * v.k;
      const shift = (lo, hi, size) => (lo < margin ? margin - lo : hi > size - margin ? size - margin - hi : 0);
      const dx = shift(left, right, c.w), dy = shift(top, bottom, c.h);
      if (!dx && !dy) return;
      const far = Math.abs(dx) > c.w / 2 || Math.abs(dy) > c.h / 2;
      this.view.x = far ? c.w / 2 - p.x * v.k : v.x + dx;
      this.view.y = far ? c.h / 2 - p.y * v.k : v.y + dy;
      this.applyView();
    }

    // ------------------------------------------------------------ modules: expand and collapse

    expand(path) {
      let changed = false;
      for (const g of this.chainOf(path)) changed = this.collapsed.delete(g) || changed;
      if (changed) this.relayout();
      return changed;
    }

    collapse(path) {
      if (!this.groups.has(path) || this.collapsed.has(path)) return false;
      this.collapsed.add(path);
      this.relayout();
      return true;
    }

    toggle(path) {
      return this.collapsed.has(path) ? this.expand(path) : this.collapse(path);
    }

    expandAll() {
      this.collapsed.clear();
      this.relayout();
      this.fit(0.55);
    }

    collapseAll() {
      this.collapsed = new Set(this.groups.keys());
      if (this.stepIndex >= 0) this.expandFor(this.nodes.get(this.data.sweep[this.stepIndex]), false);
      this.relayout();
      this.fit(0.55);
    }

    /** Expands the modules that hide node n; returns whether anything changed. */
    expandFor(n, relayout) {
      let changed = false;
      for (const g of this.chainOf(n.group || '')) changed = this.collapsed.delete(g) || changed;
      if (changed && relayout !== false) this.relayout();
      return changed;
    }

    // ------------------------------------------------------------ search

    search(text) {
      const q = (text || '').trim().toLowerCase();
      if (this.searchBox.value !== (text || '')) this.searchBox.value = text || '';
      this.matches = new Set();
      if (q) {
        for (const n of this.data.nodes) {
          const hay = [n.name, n.op || '', n.group || '', n.kind].join(' ').toLowerCase();
          if (hay.indexOf(q) >= 0) this.matches.add(n.id);
        }
      }
      let changed = false;
      for (const id of this.matches) changed = this.expandFor(this.nodes.get(id), false) || changed;
      if (changed) this.relayout();
      else this.paint();
      this.searchCount.textContent = q ? this.matches.size + (this.matches.size === 1 ? ' match' : ' matches') : '';
      this.matchCursor = -1;
      return Array.from(this.matches);
    }

    nextMatch(direction) {
      const ids = Array.from(this.matches);
      if (!ids.length) return;
      this.matchCursor = (this.matchCursor + direction + ids.length) % ids.length;
      const id = ids[this.matchCursor];
      this.reveal('n:' + id);
      this.select(id);
    }

    // ------------------------------------------------------------ details card

    select(id) {
      const n = this.nodes.get(id);
      if (!n) return;
      this.expandFor(n);
      this.pinned = n;
      this.showDetails(n);
    }

    unpin() {
      this.pinned = null;
      this.details.hidden = true;
    }

    restoreDetails() {
      if (this.pinned) this.showDetails(this.pinned);
      else this.details.hidden = true;
    }

    showDetails(n) {
      const rows = [
        ['kind', n.kind + (n.is_output ? ' (the output)' : '')],
        n.op && n.op !== n.name ? ['op', n.op] : null,
        ['module', n.group ? this.groupTitle(n.group) : '(top level)'],
        ['shape', n.shape && n.shape.length ? '[' + n.shape.join(', ') + ']' : 'scalar'],
        ['dtype', n.dtype || '?'],
      ];
      const body = [
        html('div', { class: 'cr-details-head' }, [
          html('span', { class: 'cr-details-name', text: n.name }),
          html('span', { class: 'cr-badge ' + n.kind, text: n.kind }),
          this.pinned === n ? button('×', 'close', () => this.unpin(), 'cr-close') : null,
        ]),
        table(rows.filter(Boolean), 'th', 'cr-kv'),
      ];
      if (n.formula) body.push(text('cr-sub', 'local derivative'), text('cr-formula', n.formula));
      body.push(text('cr-sub', 'value'), this.arrayBlock(n.value, n.shape));
      if (this.data.backward_done) {
        body.push(text('cr-sub', 'gradient ∂loss/∂(this)'));
        if (n.grad_norm == null && n.grad == null) body.push(text('cr-muted', 'none: does not require grad'));
        else body.push(this.normLine(n.grad_norm, n.grad), this.arrayBlock(n.grad, n.shape));
      }
      const ins = (this.inEdges.get(n.id) || []).map(e => this.nodes.get(e.from)).filter(Boolean);
      const outs = (this.outEdges.get(n.id) || []).map(e => this.nodes.get(e.to)).filter(Boolean);
      if (ins.length) body.push(text('cr-sub', 'inputs'), text('cr-muted', ins.map(m => this.label(m)).join(', ')));
      if (outs.length) body.push(text('cr-sub', 'consumers'), text('cr-muted', outs.map(m => this.label(m)).join(', ')));
      this.setDetails(body);
    }

    showGroupDetails(g) {
      const members = this.membersOf.get(g) || [];
      const count = kind => members.filter(m => m.kind === kind).length;
      const norms = members.map(m => Number(m.grad_norm)).filter(x => x > 0 && isFinite(x));
      const info = this.groups.get(g) || {};
      const rows = [
        ['module', g], ['type', info.type || '?'],
        ['nodes', count('op') + ' ops, ' + count('param') + ' params, ' + count('input') + ' inputs'],
        norms.length ? ['‖∂loss/∂x‖', fmt(Math.min.apply(null, norms)) + ' … ' + fmt(Math.max.apply(null, norms))]
          : null,
      ];
      this.setDetails([
        html('div', { class: 'cr-details-head' }, [
          html('span', { class: 'cr-details-name', text: g }), html('span', { class: 'cr-badge group', text: 'module' }),
        ]),
        table(rows.filter(Boolean), 'th', 'cr-kv'),
        text('cr-muted', 'Click to expand.'),
      ]);
    }

    setDetails(children) {
      this.details.textContent = '';
      fill(this.details, {}, children);
      this.details.hidden = false;
    }

    normLine(norm, grad) {
      if (norm == null && grad != null) norm = Math.sqrt([].concat(...flatten(grad)).reduce((s, x) => s + x * x, 0));
      return html('div', { class: 'cr-norm', text: norm == null ? '‖g‖ = ?' : '‖g‖ = ' + fmt(norm) });
    }

    arrayBlock(v, shape) {
      if (v == null) {
        return text('cr-muted', 'values not stored (' + numel(shape) + ' elements, over max_elements)');
      }
      return html('pre', { class: 'cr-array', text: arrayText(v) });
    }

    // ------------------------------------------------------------ stepping through backward

    step(k) {
      const sweep = this.data.sweep;
      if (!this.data.backward_done || !sweep.length) return -1;
      k = Math.max(-1, Math.min(sweep.length - 1, Math.floor(Number(k))));
      this.stepIndex = k;
      if (k >= 0) {
        const n = this.nodes.get(sweep[k]);
        if (!this.expandFor(n)) this.paint();
        this.reveal(this.repKey(n));
      } else {
        this.paint();
      }
      this.renderStepPanel();
      return k;
    }

    next() { return this.step(this.stepIndex + 1); }
    prev() { return this.step(this.stepIndex - 1); }
    first() { return this.step(0); }
    last() { return this.step(this.data.sweep.length - 1); }

    renderStepPanel() {
      if (!this.stepBody) return;
      const sweep = this.data.sweep, k = this.stepIndex;
      this.stepCounter.textContent = 'step ' + (k + 1) + ' / ' + sweep.length;
      this.updateDpTable();
      this.stepBody.textContent = '';
      if (k < 0) {
        this.stepBody.appendChild(text('cr-muted', 'Press ▶ (or →) to start at the loss, whose gradient is the seed ' +
          '∂loss/∂loss = 1.'));
        return;
      }
      const n = this.nodes.get(sweep[k]);
      const body = [html('div', { class: 'cr-step-name', text: this.label(n) }),
        html('div', { class: 'cr-muted', text: n.kind + ' · ' + shapeText(n.shape) })];

      // (a) the incoming gradient: one contribution per consumer, then their sum.
      const outs = this.outEdges.get(n.id) || [];
      const incoming = html('div', { class: 'cr-step-incoming' });
      if (n.is_output || !outs.length) {
        incoming.appendChild(text('cr-muted', n.is_output ? 'The output: the sweep starts here with the seed ' +
          '∂loss/∂loss = 1.' : 'No consumer in the graph.'));
      } else {
        for (const e of outs) {
          const c = this.nodes.get(e.to);
          incoming.appendChild(this.contribution(this.label(c) + ' (its input ' + (e.index || 0) + ')', e, c));
        }
      }
      const total = html('div', { class: 'cr-step-total' }, [this.normLine(n.grad_norm, n.grad), this.arrayBlock(n.grad, n.shape)]);
      body.push(
        html('h4', { text: '(a) Gradient arriving' + (outs.length > 1 ? ': the sum over ' + outs.length + ' consumers' : '') }),
        incoming, text('cr-total-label', '= total ∂loss/∂(' + this.shortName(n) + ')'), total);

      // (b) the local derivative and (c) the chain-rule products handed to the inputs.
      if (n.kind === 'op') {
        body.push(html('h4', { text: '(b) Local derivative' }),
          html('div', { class: 'cr-step-formula cr-formula', text: n.formula || '(no formula given)' }));
        const handed = html('div', { class: 'cr-step-handed' });
        for (const e of this.inEdges.get(n.id) || []) {
          const x = this.nodes.get(e.from);
          if (e.grad == null && e.grad_norm == null) {
            handed.appendChild(html('div', { class: 'cr-contrib none' }, [
              text('cr-contrib-name', 'input ' + (e.index || 0) + ': ' + this.label(x)),
              text('cr-muted', 'nothing: it does not require grad'),
            ]));
          } else {
            handed.appendChild(this.contribution('input ' + (e.index || 0) + ': ' + this.label(x), e, x));
          }
        }
        body.push(html('h4', { text: '(c) Handed to each input: local derivative × total' }), handed);
      } else {
        body.push(html('h4', { text: '(b) A leaf' }),
          text('cr-step-formula cr-muted', 'Nothing to hand on: the total is accumulated into ' +
            (n.kind === 'param' ? n.name : 'its') + '.grad.'));
      }
      fill(this.stepBody, {}, body);
    }

    contribution(title, e, node) {
      return html('div', { class: 'cr-contrib' }, [
        html('div', { class: 'cr-contrib-name', text: title }),
        this.normLine(e.grad_norm, e.grad),
        this.arrayBlock(e.grad, (this.nodes.get(e.from) || {}).shape),  // a gradient has its input's shape
      ]);
    }

    updateDpTable() {
      if (!this.dpRows) return;
      const k = this.stepIndex;
      for (let i = 0; i < this.dpRows.length; i++) {
        const tr = this.dpRows[i], filled = i <= k;
        if (tr.classList.contains('filled') !== filled) {
          const n = this.nodes.get(this.data.sweep[i]) || {};
          tr.lastChild.textContent = filled ? this.dpCell(n) : '';
          tr.classList.toggle('filled', filled);
          tr.classList.toggle('empty', !filled);
        }
        tr.classList.toggle('current', i === k);
      }
      if (k >= 0) {
        const tr = this.dpRows[k], box = this.dpScroll;
        if (tr.offsetTop < box.scrollTop + 24 || tr.offsetTop + tr.offsetHeight > box.scrollTop + box.clientHeight) {
          box.scrollTop = tr.offsetTop - box.clientHeight / 2;
        }
      }
    }

    dpCell(n) {
      if (n.grad != null && size(n.grad) <= 4) return arrayText(n.grad);
      return n.grad_norm == null ? '—' : '‖g‖ = ' + fmt(n.grad_norm);
    }
  }

  function flatten(v) {
    return Array.isArray(v) ? [].concat(...v.map(flatten)) : [Number(v)];
  }

  // ---------------------------------------------------------------- keys and start-up

  function onKey(ev) {
    if (ev.defaultPrevented || ev.altKey || ev.ctrlKey || ev.metaKey) return;
    const t = ev.target;
    if (t && (t.tagName === 'INPUT' || t.tagName === 'TEXTAREA' || t.isContentEditable)) return;
    const list = window.chainruleExplorers || [];
    const owner = list.find(x => x.root.contains(t)) || window.chainruleActive || (list.length === 1 ? list[0] : null);
    if (!owner || !owner.data.backward_done) return;
    const actions = {
      ArrowRight: () => owner.next(), ArrowLeft: () => owner.prev(), Home: () => owner.step(-1), End: () => owner.last(),
    };
    if (!actions[ev.key]) return;
    ev.preventDefault();
    actions[ev.key]();
  }

  function start() {
    window.chainruleExplorers = window.chainruleExplorers || [];
    if (!window.chainruleKeysBound) {
      window.chainruleKeysBound = true;
      document.addEventListener('keydown', onKey);
    }
    for (const root of document.querySelectorAll('.chainrule-graph:not([data-cr-ready]):not([data-cr-starting])')) {
      root.setAttribute('data-cr-starting', '');
      try {
        window.chainruleExplorers.push(new Explorer(root));
      } catch (err) {
        root.appendChild(html('pre', { class: 'cr-error', text: 'chainrule graph explorer failed: ' + (err.stack || err) }));
        throw err;
      }
    }
  }

  window.chainruleExplorer = { Explorer: Explorer, layoutGraph: layoutGraph, fmt: fmt, arrayText: arrayText };
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
})();
