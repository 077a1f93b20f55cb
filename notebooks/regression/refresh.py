"""Re-record the stored outputs of the regression notebooks after an intended change.

    .venv/bin/python notebooks/regression/refresh.py [notebook.ipynb ...]

Runs each notebook (all of them by default) top to bottom in a fresh kernel with a throwaway
store and run directory, keeps the outputs nbval compares, empties the cells marked
``# NBVAL_IGNORE_OUTPUT``, numbers the cells 1..n (nbval skips cells without an execution
count) and drops widget state. Review the diff before committing it.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path

import nbformat
from nbclient import NotebookClient

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
NOT_CHECKED = ("# NBVAL_IGNORE_OUTPUT", "# NBVAL_SKIP")


def _coalesce_streams(outputs: list) -> list:
    """One output per run of stdout (or stderr) text, however the kernel flushed it."""
    merged: list = []
    for output in outputs:
        last = merged[-1] if merged else None
        if (
            last is not None
            and output.get("output_type") == "stream"
            and last.get("output_type") == "stream"
            and last.get("name") == output.get("name")
        ):
            last["text"] = "".join(last["text"]) + "".join(output["text"])
        else:
            merged.append(output)
    return merged


def refresh(path: Path) -> None:
    nb = nbformat.read(path, as_version=4)
    NotebookClient(
        nb, timeout=900, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}
    ).execute()
    count = 0
    for cell in nb.cells:
        cell.metadata.pop("execution", None)
        cell.metadata.pop("widgets", None)
        if cell.cell_type != "code":
            continue
        count += 1
        cell.execution_count = count
        if any(marker in cell.source for marker in NOT_CHECKED):
            cell.outputs = []
        for output in cell.outputs:
            if output.get("output_type") == "execute_result":
                output["execution_count"] = count
            if "data" in output:
                output["data"].pop("application/vnd.jupyter.widget-view+json", None)
        cell.outputs = _coalesce_streams(cell.outputs)
    nb.metadata.pop("widgets", None)
    nbformat.write(nb, path)
    print(f"refreshed {path.relative_to(REPO)}")


def main(argv: list[str]) -> int:
    paths = [Path(p).resolve() for p in argv] or sorted(HERE.glob("*.ipynb"))
    tmp = tempfile.mkdtemp(prefix="towerwidgets-refresh-")
    os.environ["TOWERWIDGETS_STORE"] = os.path.join(tmp, "store.db")
    os.environ["TOWERWIDGETS_HOME"] = os.path.join(tmp, "home")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(REPO), os.environ.get("PYTHONPATH", "")) if p
    )
    try:
        for path in paths:
            refresh(path)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
