"""notebooks/01_quickstart.ipynb as a person runs it: opened in JupyterLab, Run All Cells,
every widget renders and the quick test finishes."""

from __future__ import annotations

import shutil
from pathlib import Path

from playwright.sync_api import expect

QUICKSTART = Path(__file__).resolve().parents[2] / "notebooks" / "01_quickstart.ipynb"


def test_quickstart_runs_top_to_bottom_in_jupyterlab(lab, page):
    from labkit import Notebook

    shutil.copy(QUICKSTART, lab.root / "01_quickstart.ipynb")
    lab.use_store(lab.store_path.parent / "quickstart.db")
    nb = Notebook(lab, page, "01_quickstart.ipynb").open()
    try:
        nb.run_all()
        nb.widget(".tw-wizard", timeout=120_000)
        nb.widget(".tw-structure .tw-config-card")
        panel = nb.widget(".tw-quick-test")
        nb.wait_done(timeout=300)
        assert nb.kernel.eval("result.status") == "completed", nb.kernel.eval("panel.message")
        assert nb.kernel.eval("len(result.metrics)") == 2
        panel.locator(".tw-recent .tw-recent-item", has_text="Completed").wait_for()
        expect(panel.locator(".tw-qt-metrics tbody tr")).to_have_count(2)
        tests = lab.store().quick_tests.list()
        assert [t.status for t in tests] == ["completed"]
        assert [c.name for c in lab.store().model_configs.list()] == ["Standard Retrieval v1"]
        errors = page.locator(
            ".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']"
        )
        assert errors.count() == 0, errors.first.inner_text()
        assert page.page_errors == []
    finally:
        nb.close()
        lab.use_store(None)
