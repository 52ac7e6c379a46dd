"""The documentation points at things that exist: every relative link in README.md and docs/ (the notes pages,
the notes-map) resolves to a file, and every ``tests/….py::test_name`` it cites names a test defined there —
so moving or renaming code or tests cannot leave the docs pointing nowhere."""
import ast
import pathlib
import re

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
LINK = re.compile(r"\]\(([^)\s#]+)(?:#[^)]*)?\)")
TEST_REF = re.compile(r"(tests/[\w/]+\.py)::(\w+)")


def _defined(path, cache={}):  # noqa: B006 - a cache of parsed test files
    if path not in cache:
        tree = ast.parse(path.read_text())
        cache[path] = {n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.ClassDef))}
    return cache[path]


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_relative_links_resolve(page):
    missing = [target for target in LINK.findall(page.read_text())
               if "://" not in target and not target.startswith("mailto:")
               and not (page.parent / target).exists()]
    assert not missing, f"{page.relative_to(ROOT)} links to missing files: {missing}"


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_cited_tests_exist(page):
    missing = []
    for file, name in TEST_REF.findall(page.read_text()):
        path = ROOT / file
        if not path.exists() or name not in _defined(path):
            missing.append(f"{file}::{name}")
    assert not missing, f"{page.relative_to(ROOT)} cites tests that do not exist: {missing}"
