"""MkDocs hooks for chainrule's site (mkdocs.yml: ``hooks: [docs/hooks.py]``).

What the site needs that plain MkDocs does not do:

- **Tutorials** live in ``tutorials/NN_*.py`` (jupytext py:percent files) at the repository root, outside
  ``docs/``. ``on_files`` adds them as pages (src_uri ``tutorials/NN_name.py``) before mkdocs-jupyter turns
  them into notebooks (rendered, not executed), ``on_config`` lists them in the nav under Tutorials, and
  the ``<!-- tutorials -->`` marker of ``docs/tutorials.md`` becomes a list of them with their titles.
- **Links to the code.** The notes link ``../../chainrule/ops/conv.py``, a path outside ``docs/``. Every
  repository file a page links to gets a generated page ``source/<path>.md``: the file, highlighted, with
  line numbers; ``on_page_markdown`` points the links there.
- **The CLI reference** (``<!-- cli-reference -->`` in ``docs/cli.md``) is the ``--help`` text of every
  subcommand, taken from chainrule's own argparse parser at build time, so it cannot drift from the code.
- **The lab** (``<!-- lab-experiments -->`` in ``docs/lab.md``) is generated from ``chainrule.lab``'s
  registry: each experiment's name, note, claim, command and module.
- **[note 003]** in a docstring or a page (also ``[note 003: BN momentum]``, ``[notes 002, 004]``,
  ``[notes 000–004]``) becomes a link to that note's page, relative to the page it is on.
"""
import argparse
import contextlib
import glob
import os
import posixpath
import re

import mkdocs.plugins
from mkdocs.structure.files import File
from mkdocs.utils import get_relative_url

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TUTORIALS = "tutorials"
SOURCE = "source"  # generated pages: source/chainrule/ops/conv.py.md
LINK = re.compile(r"(!?\[[^\]\n]*\])\(([^)\s]+)\)")
NOTE_GROUP = re.compile(r"\[(notes? \d{3}[^\]<>]*)\]")
NOTE_NUMBER = re.compile(r"\b(note )?(\d{3})\b")

_linked_sources = set()  # repository paths that get a source page, filled by on_files


def _tutorial_paths():
    return sorted(glob.glob(os.path.join(ROOT, TUTORIALS, "[0-9]*.py")))


def _tutorial_title(path):
    """The first heading of the tutorial's first markdown cell (``# # Title`` in py:percent), else its name."""
    import jupytext

    for cell in jupytext.read(path).cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if line.startswith("# "):
                    return line[2:].strip()
            break
    return os.path.splitext(os.path.basename(path))[0]


def on_config(config):
    """Append the tutorials found in tutorials/ to the nav's Tutorials section (after docs/tutorials.md)."""
    entries = [f"{TUTORIALS}/{os.path.basename(p)}" for p in _tutorial_paths()]
    for item in config["nav"] or []:
        if isinstance(item, dict) and "Tutorials" in item:
            section = item["Tutorials"]
            item["Tutorials"] = (section if isinstance(section, list) else [section]) + entries
    return config


def _outside_links(markdown, src_uri):
    """(match, repository path) for each link of a page that leaves docs/."""
    for m in LINK.finditer(markdown):
        url = m.group(2)
        if "://" in url or url.startswith(("#", "mailto:", "/")):
            continue
        path = url.split("#")[0]
        resolved = posixpath.normpath(posixpath.join("docs", posixpath.dirname(src_uri), path))
        if path and not resolved.startswith("docs/"):
            yield m, resolved


def _lab_modules():
    from chainrule.lab import experiments

    return [(name, module, f"chainrule/lab/{module.__name__.rsplit('.', 1)[1]}.py")
            for name, module in experiments().items()]


def _fence(text):
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    return "`" * max(3, longest + 1)


def _source_page(config, path):
    with open(os.path.join(ROOT, path), encoding="utf-8") as f:
        text = f.read()
    language = {".py": "python", ".md": "markdown", ".toml": "toml", ".yml": "yaml"}.get(os.path.splitext(path)[1], "text")
    fence = _fence(text)
    content = ("---\nsearch:\n  exclude: true\n---\n\n"  # the search index skips whole files of code
               f"# `{path}`\n\nThe file as it is in the repository this site was built from.\n\n"
               f'{fence}{language} linenums="1"\n{text}{"" if text.endswith(chr(10)) else chr(10)}{fence}\n')
    return File.generated(config, f"{SOURCE}/{path}.md", content=content)


@mkdocs.plugins.event_priority(50)  # before mkdocs-jupyter's on_files, which wraps the tutorial files
def on_files(files, config):
    for path in _tutorial_paths():
        files.append(File(f"{TUTORIALS}/{os.path.basename(path)}", ROOT, config["site_dir"], config["use_directory_urls"]))
    _linked_sources.clear()
    for page in files.documentation_pages():
        if page.src_uri.endswith(".md") and page.abs_src_path:
            with open(page.abs_src_path, encoding="utf-8") as f:
                _linked_sources.update(p for _, p in _outside_links(f.read(), page.src_uri))
    _linked_sources.update(path for _, _, path in _lab_modules())
    for path in sorted(_linked_sources):
        if os.path.isfile(os.path.join(ROOT, path)):
            files.append(_source_page(config, path))
    return files


def _cli_reference():
    from chainrule.cli import _parser

    blocks = []

    def walk(parser, words):
        blocks.append(f"## `{' '.join(words)}`\n\n```text\n{parser.format_help().rstrip()}\n```\n")
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for name, sub in action.choices.items():
                    walk(sub, words + [name])

    with _columns(100):
        walk(_parser(), ["chainrule"])
    return "\n".join(blocks)


@contextlib.contextmanager
def _columns(width):
    """argparse wraps help at $COLUMNS: fix it so the page does not depend on the terminal that built it."""
    old = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = str(width)
    try:
        yield
    finally:
        os.environ.pop("COLUMNS") if old is None else os.environ.__setitem__("COLUMNS", old)


def _lab_reference():
    rows = ["| experiment | note | claim | command | module |", "|---|---|---|---|---|"]
    for name, module, path in _lab_modules():
        rows.append(f"| **{name}** | [notes {module.NOTE}] | {module.CLAIM} | `chainrule lab run {name} --quick` "
                    f"| [`{path}`](../{path}) |")
    sections = []
    for name, module, path in _lab_modules():
        doc = (module.__doc__ or "").strip()
        sections.append(f"### {name}\n\n*[notes {module.NOTE}]* — {module.CLAIM}.\n\n{doc}\n\n"
                        f"```bash\nchainrule lab run {name} --quick   # the small version; without --quick, the full one\n```\n\n"
                        f"Code: [`{path}`](../{path}).\n")
    return "\n".join(rows) + "\n\n## Each experiment\n\n" + "\n".join(sections)


def _tutorial_list():
    lines = []
    for path in _tutorial_paths():
        name = os.path.basename(path)
        lines.append(f"1. [{_tutorial_title(path)}]({TUTORIALS}/{name}) — `{TUTORIALS}/{name}`")
    return "\n".join(lines) if lines else "No tutorials in `tutorials/` yet."


GENERATED = {"cli.md": ("<!-- cli-reference -->", _cli_reference),
             "lab.md": ("<!-- lab-experiments -->", _lab_reference),
             "tutorials.md": ("<!-- tutorials -->", _tutorial_list)}


def on_page_markdown(markdown, page, config, files):
    if page.file.src_uri.startswith(SOURCE + "/"):
        return markdown
    marker, generate = GENERATED.get(page.file.src_uri, (None, None))
    if marker:
        markdown = markdown.replace(marker, generate())
    here = posixpath.dirname(page.file.src_uri)
    replacements = []
    for m, path in _outside_links(markdown, page.file.src_uri):
        anchor = m.group(2).partition("#")[2]
        if path in _linked_sources and os.path.isfile(os.path.join(ROOT, path)):
            target = posixpath.relpath(f"{SOURCE}/{path}.md", here or ".") + (f"#{anchor}" if anchor else "")
            replacements.append((m.span(), f"{m.group(1)}({target})"))
        else:  # a folder, or a file of the repository no page linked when the files were collected
            replacements.append((m.span(), f"{m.group(1)[1:-1]} (`{path}`)"))
    for (start, end), text in reversed(replacements):
        markdown = markdown[:start] + text + markdown[end:]
    return markdown


def _link_notes(group, page, files):
    """``note 003`` → a link to its note's page; ``notes 002, 004`` → each number a link to its note's page (numbers without a page stay text)."""
    head, sep, tail = group.partition(":")

    def link(m):
        note = files.get_file_from_path(f"notes/note-{m.group(2)}.md")
        if note is None:
            return m.group(0)
        return f'<a href="{get_relative_url(note.url, page.url)}">{m.group(0)}</a>'

    return "[" + NOTE_NUMBER.sub(link, head) + sep + tail + "]"


def on_page_content(html, page, config, files):
    """Link ``[note NNN]`` in the rendered page (docstrings included), outside code blocks and existing links."""
    parts = re.split(r"(<[^>]+>)", html)
    in_link = in_pre = 0
    for i, part in enumerate(parts):
        if part.startswith("<"):
            tag = re.match(r"</?(\w+)", part)
            name = tag.group(1).lower() if tag else ""
            step = -1 if part.startswith("</") else 1
            if name == "a":
                in_link += step
            elif name == "pre":
                in_pre += step
        elif not in_link and not in_pre and "[note" in part:
            parts[i] = NOTE_GROUP.sub(lambda m: _link_notes(m.group(1), page, files), part)
    return "".join(parts)
