"""Committed notebooks are clean: no widget state (it embeds the whole JS bundle per widget),
no outputs outside the regression notebooks' checked cells, nothing machine-specific stored."""

from __future__ import annotations

import ast
import configparser
import json
import re
from pathlib import Path

import pytest

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"
REGRESSION = NOTEBOOKS / "regression"
ALL = sorted(p for p in NOTEBOOKS.rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)
WALKTHROUGHS = [p for p in ALL if REGRESSION not in p.parents]
REGRESSIONS = [p for p in ALL if REGRESSION in p.parents]
WIDGET_MIMES = (
    "application/vnd.jupyter.widget-state+json",
    "application/vnd.jupyter.widget-view+json",
)
NOT_CHECKED = ("# NBVAL_IGNORE_OUTPUT", "# NBVAL_SKIP")


def _ids(paths: list[Path]) -> list[str]:
    return [str(p.relative_to(NOTEBOOKS)) for p in paths]


def _load(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def _code_cells(nb: dict) -> list[dict]:
    return [cell for cell in nb["cells"] if cell["cell_type"] == "code"]


def _source(cell: dict) -> str:
    source = cell["source"]
    return "".join(source) if isinstance(source, list) else source


def test_the_promised_notebooks_exist():
    names = {p.name for p in WALKTHROUGHS}
    assert {
        "01_quickstart.ipynb",
        "02_retrieval_ranking_multitask.ipynb",
        "03_export_and_serve.ipynb",
        "04_tfx_pipeline.ipynb",
    } <= names
    assert REGRESSIONS, "notebooks/regression/ holds no notebook"
    assert (REGRESSION / "sanitize.cfg").is_file()


@pytest.mark.parametrize("path", ALL, ids=_ids(ALL))
def test_notebook_is_valid_and_carries_no_widget_state(path: Path):
    import nbformat

    nbformat.validate(nbformat.read(path, as_version=4))
    text = path.read_text(encoding="utf-8")
    for mime in WIDGET_MIMES:
        assert mime not in text, f"{path.name} stores {mime}; clear widget state before committing"
    nb = _load(path)
    assert "widgets" not in nb["metadata"]
    assert nb["metadata"].get("kernelspec", {}).get("name") == "python3"
    for cell in nb["cells"]:
        assert "widgets" not in cell.get("metadata", {})
        assert "execution" not in cell.get("metadata", {}), "timing metadata is noise"


@pytest.mark.parametrize("path", ALL, ids=_ids(ALL))
def test_code_cells_are_python(path: Path):
    for cell in _code_cells(_load(path)):
        source = "\n".join(
            line for line in _source(cell).splitlines() if not line.lstrip().startswith(("%", "!"))
        )
        ast.parse(source, filename=f"{path.name}")


@pytest.mark.parametrize("path", WALKTHROUGHS, ids=_ids(WALKTHROUGHS))
def test_walkthroughs_are_committed_without_outputs(path: Path):
    for index, cell in enumerate(_code_cells(_load(path))):
        assert cell["outputs"] == [], f"{path.name} code cell {index} has stored outputs"
        assert cell["execution_count"] is None, f"{path.name} code cell {index} was executed"


@pytest.mark.parametrize("path", REGRESSIONS, ids=_ids(REGRESSIONS))
def test_regression_outputs_only_where_nbval_checks_them(path: Path):
    checked_outputs = 0
    for index, cell in enumerate(_code_cells(_load(path))):
        source = _source(cell)
        if any(marker in source for marker in NOT_CHECKED):
            assert cell["outputs"] == [], f"{path.name} cell {index}: ignored cell keeps outputs"
            continue
        for output in cell["outputs"]:
            assert output["output_type"] != "error", f"{path.name} cell {index} stored an error"
            assert output.get("name") != "stderr", f"{path.name} cell {index} stored stderr"
            text = json.dumps(output)
            assert not re.search(r"0x[0-9a-fA-F]{6,}", text), "memory address in a stored output"
            assert "/work/" not in text and "/home/" not in text, "machine path in an output"
            checked_outputs += 1
    assert checked_outputs, f"{path.name} stores no output for nbval to compare"


def test_sanitize_file_has_regex_and_replacement_per_section():
    parser = configparser.ConfigParser()
    parser.read(REGRESSION / "sanitize.cfg")
    assert parser.sections()
    for section in parser.sections():
        re.compile(parser[section]["regex"])
        assert "replace" in parser[section]
