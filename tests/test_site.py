"""The documentation site's hooks (docs/hooks.py) and its strict build; needs the `docs` extra."""
import argparse
import functools
import importlib.util
import os
import subprocess
import sys
from types import SimpleNamespace

import pytest

pytestmark = pytest.mark.docs  # needs the docs extra (pip install ".[docs]"); .ci/run runs -m docs as its own step

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@functools.cache
def _hooks():
    """docs/hooks.py, imported on first use (it needs mkdocs: the docs extra)."""
    spec = importlib.util.spec_from_file_location("chainrule_docs_hooks", os.path.join(ROOT, "docs", "hooks.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module



class _Files:
    """The one method of mkdocs' Files that the note links use: the notes 000–004 exist."""

    def get_file_from_path(self, path):
        if path in {f"notes/note-00{i}.md" for i in range(5)}:
            return SimpleNamespace(url=path[:-3] + "/")
        return None


def _content(html, url="api/nn/"):
    return _hooks().on_page_content(html, SimpleNamespace(url=url), None, _Files())


def test_a_note_in_a_docstring_links_its_page_relative_to_the_page():
    assert _content("<p>BN momentum [note 003].</p>") == \
        '<p>BN momentum [<a href="../../notes/note-003/">note 003</a>].</p>'
    assert _content("<p>[note 003]</p>", url="lab/") == '<p>[<a href="../notes/note-003/">note 003</a>]</p>'


def test_note_groups_link_every_note_that_has_a_page():
    assert _content("<p>[notes 002, 004]</p>") == \
        '<p>[notes <a href="../../notes/note-002/">002</a>, <a href="../../notes/note-004/">004</a>]</p>'
    assert _content("<p>[note 001, note 003: batch normalization]</p>") == (
        '<p>[<a href="../../notes/note-001/">note 001</a>, <a href="../../notes/note-003/">note 003</a>: '
        'batch normalization]</p>')
    assert _content("<p>[notes 000–004]</p>").count("<a ") == 2
    assert _content("<p>[note 005: word vectors]</p>") == "<p>[note 005: word vectors]</p>"  # no page: text
    assert _content("<p>[note 003: 128 → 064]</p>").count("<a ") == 1  # numbers after the colon are text


def test_notes_inside_code_blocks_and_links_are_left_alone():
    for html in ('<pre><code>x = 1  # [note 003]</code></pre>', '<a href="x">see [note 003]</a>'):
        assert _content(html) == html


def _page(src_uri, url):
    return SimpleNamespace(file=SimpleNamespace(src_uri=src_uri), url=url)


def test_links_to_repository_files_point_to_their_source_pages():
    _hooks()._linked_sources.clear()
    _hooks()._linked_sources.add("chainrule/ops/conv.py")
    markdown = "[`conv.py`](../../chainrule/ops/conv.py) and [the tests](../../tests/ops/) and [n](note-001.md#a)"
    out = _hooks().on_page_markdown(markdown, _page("notes/note-000.md", "notes/note-000/"), None, None)
    assert out == ("[`conv.py`](../source/chainrule/ops/conv.py.md) and the tests (`tests/ops`) "
                   "and [n](note-001.md#a)")


def test_the_cli_reference_has_every_subcommand_and_option():
    from chainrule.cli import _parser

    reference = _hooks()._cli_reference()
    commands, options = [], []

    def walk(parser, words):
        commands.append(" ".join(words))
        for action in parser._actions:
            options.extend(action.option_strings)
            if isinstance(action, argparse._SubParsersAction):
                for name, sub in action.choices.items():
                    walk(sub, words + [name])

    walk(_parser(), ["chainrule"])
    assert {"chainrule train", "chainrule lab run", "chainrule datasets"} <= set(commands)
    for command in commands:
        assert f"## `{command}`" in reference
    for option in options:
        assert option in reference


def test_the_lab_page_lists_every_registered_experiment():
    from chainrule.lab import experiments

    page = _hooks()._lab_reference()
    for name, module in experiments().items():
        assert f"`chainrule lab run {name} --quick`" in page
        assert module.CLAIM in page


def test_the_site_builds_strictly(tmp_path):
    """`mkdocs build --strict`: no warning (a broken link, a docstring mkdocstrings cannot render) passes."""
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    done = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-q", "-d", str(tmp_path / "site")],
                          check=False, cwd=ROOT, capture_output=True, text=True, env=env)
    assert done.returncode == 0, done.stderr
    nn_page = (tmp_path / "site" / "api" / "nn" / "index.html").read_text()
    assert 'id="chainrule.nn.Conv2d"' in nn_page and '<a href="../../notes/note-003/">note 003</a>' in nn_page
    assert (tmp_path / "site" / "source" / "chainrule" / "ops" / "conv.py" / "index.html").exists()
