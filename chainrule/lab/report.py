"""The lab report: one Markdown page and one self-contained HTML page (images inlined) per experiment,
and an index of claims, verdicts and timings."""
import base64
import html
import os


def _table_md(table):
    lines = [f"**{table['title']}**", "", "| " + " | ".join(map(str, table["columns"])) + " |",
             "|" + "---|" * len(table["columns"])]
    lines += ["| " + " | ".join(_fmt(c) for c in row) + " |" for row in table["rows"]]
    return "\n".join(lines)


def _fmt(v):
    if isinstance(v, float):
        return f"{v:.4g}"
    return str(v)


def _scalar(v):
    return not isinstance(v, (dict, list, tuple))


def _flatten(value, prefix=""):
    """(path, scalar) pairs of a nested dict / list: the keys joined by " › "; a list of scalars stays one cell."""
    if isinstance(value, dict):
        pairs = []
        for k, v in value.items():
            pairs += _flatten(v, f"{prefix} › {k}" if prefix else str(k))
        return pairs
    if isinstance(value, (list, tuple)) and not all(map(_scalar, value)):
        pairs = []
        for i, v in enumerate(value):
            pairs += _flatten(v, f"{prefix}[{i}]")
        return pairs
    if isinstance(value, (list, tuple)):
        shown = ", ".join(_fmt(v) for v in value[:12]) + (f", … ({len(value)} values)" if len(value) > 12 else "")
        return [(prefix, f"[{shown}]")]
    return [(prefix, value)]


def numbers_tables(numbers):
    """The measured numbers as tables, never as a raw dict: a list of dicts with the same keys becomes a table
    with a row per item; a dict whose values are dicts with the same scalar keys becomes a table with a row per key;
    every other figure goes, by its path, into one "figure | value" table."""
    tables, loose = [], []
    for key, value in numbers.items():
        if (isinstance(value, list) and value and all(isinstance(v, dict) for v in value)
                and len({tuple(v) for v in value}) == 1):
            columns = [c for c in value[0] if all(_scalar(v[c]) for v in value)]
            tables.append({"title": key, "columns": columns, "rows": [[v[c] for c in columns] for v in value]})
            rest = {c: [v[c] for v in value] for c in value[0] if c not in columns}
            loose += _flatten(rest, key) if rest else []
        elif (isinstance(value, dict) and len(value) > 1 and all(isinstance(v, dict) and v for v in value.values())
              and len({tuple(v) for v in value.values()}) == 1
              and all(_scalar(x) for v in value.values() for x in v.values())):
            columns = list(next(iter(value.values())))
            tables.append({"title": key, "columns": ["", *columns],
                           "rows": [[k, *v.values()] for k, v in value.items()]})
        else:
            loose += _flatten(value, str(key))
    if loose:
        tables.append({"title": "other figures", "columns": ["figure", "value"], "rows": [list(p) for p in loose]})
    return tables


def page_markdown(result):
    verdict = result.outcome.upper()
    parts = [
        f"# {result.name}", "", f"**Claim** (note {result.note}): {result.claim}", "",
        f"**Verdict: {verdict}.** {result.verdict}", "", f"**Setup.** {result.setup}"
        + (" (quick version)" if result.quick else ""), "",
    ]
    for table in result.tables:
        parts += [_table_md(table), ""]
    parts += ["### Numbers", ""]
    for table in numbers_tables(result.numbers):
        parts += [_table_md(table), ""]
    parts += [f"![{f}]({f})" for f in result.figures]
    parts += [f"- [{label}]({page})" for label, page in result.pages]
    parts += ["", f"_{result.seconds:.1f} s_"]
    return "\n".join(parts) + "\n"


def _table_html(table):
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in table["columns"])
    rows = "".join("<tr>" + "".join(f"<td>{html.escape(_fmt(c))}</td>" for c in row) + "</tr>" for row in table["rows"])
    return f"<p><b>{html.escape(str(table['title']))}</b></p><table><tr>{head}</tr>{rows}</table>"


def page_html(result, folder):
    verdict = result.outcome
    body = [f"<h1>{html.escape(result.name)}</h1>",
            f"<p><b>Claim</b> (note {html.escape(result.note)}): {html.escape(result.claim)}</p>",
            f"<p class='{verdict.replace(' ', '-')}'><b>Verdict: {verdict}.</b> {html.escape(result.verdict)}</p>",
            f"<p><b>Setup.</b> {html.escape(result.setup)}{' (quick version)' if result.quick else ''}</p>"]
    for table in result.tables:
        body.append(_table_html(table))
    for fig in result.figures:
        with open(os.path.join(folder, fig), "rb") as f:
            data = base64.b64encode(f.read()).decode()
        body.append(f"<img alt='{html.escape(fig)}' src='data:image/png;base64,{data}'>")
    body += [f"<p><a href='{html.escape(page)}'>{html.escape(label)}</a></p>" for label, page in result.pages]
    body.append("<h3>Numbers</h3>" + "".join(_table_html(t) for t in numbers_tables(result.numbers)))
    style = ("body{font-family:sans-serif;max-width:60em;margin:2em auto}img{max-width:100%}"
             "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:2px 6px}"
             ".held{color:#070}.held-in-part{color:#a60}.did-not-hold{color:#a00}")
    return f"<!doctype html><meta charset='utf-8'><title>{html.escape(result.name)}</title><style>{style}</style>" + "".join(body)


def write_pages(result, folder):
    """Write ``<name>.md`` and ``<name>.html`` into the experiment's folder."""
    with open(os.path.join(folder, f"{result.name}.md"), "w") as f:
        f.write(page_markdown(result))
    with open(os.path.join(folder, f"{result.name}.html"), "w") as f:
        f.write(page_html(result, folder))


def write_index(results, out):
    """``index.md`` and ``index.html`` listing every experiment's claim, verdict and time."""
    rows = [(r.name, r.note, r.claim, r.outcome, f"{r.seconds:.1f}") for r in results]
    md = ["# chainrule lab report", "", "| experiment | note | claim | verdict | seconds |", "|---|---|---|---|---|"]
    md += [f"| [{n}]({n}/{n}.md) | {note} | {c} | {v} | {s} |" for n, note, c, v, s in rows]
    with open(os.path.join(out, "index.md"), "w") as f:
        f.write("\n".join(md) + "\n")
    cells = "".join(f"<tr><td><a href='{n}/{n}.html'>{n}</a></td><td>{html.escape(note)}</td><td>{html.escape(c)}</td>"
                    f"<td>{v}</td><td>{s}</td></tr>" for n, note, c, v, s in rows)
    with open(os.path.join(out, "index.html"), "w") as f:
        f.write("<!doctype html><meta charset='utf-8'><title>chainrule lab</title>"
                "<style>body{font-family:sans-serif;max-width:70em;margin:2em auto}td,th{border:1px solid #ccc;"
                "padding:2px 6px}table{border-collapse:collapse}</style><h1>chainrule lab report</h1><table>"
                "<tr><th>experiment</th><th>note</th><th>claim</th><th>verdict</th><th>seconds</th></tr>"
                f"{cells}</table>")
    return os.path.join(out, "index.md")
