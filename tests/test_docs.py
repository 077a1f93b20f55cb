"""Every public name has a docstring and a place in the API reference (docs/reference/)."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest

import towerwidgets as tw

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = ROOT / "docs" / "reference"


def _documented_paths() -> set[str]:
    paths: set[str] = set()
    for page in REFERENCE.glob("*.md"):
        paths |= set(re.findall(r"^::: ([\w.]+)\s*$", page.read_text(), flags=re.M))
    return paths


def _reference_path(value: object) -> str:
    if inspect.ismodule(value):
        return value.__name__
    return f"{value.__module__}.{value.__qualname__}"


@pytest.mark.parametrize("name", [n for n in tw.__all__ if n != "__version__"])
def test_every_public_name_has_a_docstring_and_a_reference_entry(name):
    value = getattr(tw, name)
    assert (inspect.getdoc(value) or "").strip(), f"tw.{name} has no docstring"
    assert _reference_path(value) in _documented_paths(), (
        f"tw.{name} ({_reference_path(value)}) has no '::: ' entry in docs/reference/*.md"
    )


def test_the_reference_index_lists_every_public_name():
    index = (REFERENCE / "index.md").read_text()
    missing = [name for name in tw.__all__ if f"`{name}`" not in index]
    assert not missing, f"docs/reference/index.md does not list: {missing}"


def test_every_reference_page_and_notebook_is_in_the_nav():
    nav = (ROOT / "mkdocs.yml").read_text()
    for page in REFERENCE.glob("*.md"):
        assert f"reference/{page.name}" in nav, page.name
    for notebook in (ROOT / "notebooks").glob("0*.ipynb"):
        assert f"notebooks/{notebook.name}" in nav, notebook.name


def test_make_test_builds_the_docs_strictly_with_installed_tools():
    makefile = (ROOT / "Makefile").read_text()
    assert "mkdocs build --strict" in makefile
    test_recipe = makefile.split("\ntest:", 1)[1].split("\n\n", 1)[0]
    assert "$(MAKE) docs" in test_recipe
    pyproject = (ROOT / "pyproject.toml").read_text()
    assert '".[test,docs]"' in makefile and "mkdocstrings[python]" in pyproject
