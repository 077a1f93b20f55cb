"""notebooks/01_quickstart.ipynb as a person runs it: opened in JupyterLab, Run All Cells,
every widget renders, the quick test finishes, and the MovieLens ending shows two presets
compared in charts and a user's recommendations with movie titles."""

from __future__ import annotations

import shutil
from pathlib import Path

from playwright.sync_api import expect

QUICKSTART = Path(__file__).resolve().parents[2] / "notebooks" / "01_quickstart.ipynb"
MOVIELENS = Path(__file__).resolve().parents[3] / "shared" / "data" / "movielens-latest-small"


def test_quickstart_runs_top_to_bottom_in_jupyterlab(lab, page):
    from labkit import Notebook

    shutil.copy(QUICKSTART, lab.root / "01_quickstart.ipynb")
    # The notebook finds MovieLens in a shared/data folder beside (or above) its own.
    data_link = lab.root / "shared" / "data" / "movielens-latest-small"
    if not data_link.exists():
        data_link.parent.mkdir(parents=True, exist_ok=True)
        data_link.symlink_to(MOVIELENS, target_is_directory=True)
    lab.use_store(lab.store_path.parent / "quickstart.db")
    nb = Notebook(lab, page, "01_quickstart.ipynb").open()
    try:
        nb.run_all()
        nb.widget(".tw-wizard", timeout=120_000)
        nb.widget(".tw-structure .tw-config-card")
        panel = nb.widget(".tw-quick-test")
        nb.wait_done(timeout=600)
        assert nb.kernel.eval("result.status") == "completed", nb.kernel.eval("panel.message")
        assert nb.kernel.eval("len(result.metrics)") == 2
        panel.locator(".tw-recent .tw-recent-item", has_text="Completed").first.wait_for()
        expect(panel.locator(".tw-qt-metrics tbody tr")).to_have_count(2)
        tests = lab.store().quick_tests.list()
        assert [t.status for t in tests] == ["completed"] * 3
        assert [c.name for c in lab.store().model_configs.list()] == ["Standard Retrieval v1"]
        # The sweep's two presets are quick tests with their configs' snapshots.
        assert sorted(t.model_config_snapshot["name"] for t in tests) == [
            "Minimal retrieval",
            "Standard Retrieval v1",
            "Standard retrieval",
        ]
        # The ending: two presets on MovieLens compared, then one user's top 10.
        # (The QuickTestPanel above holds an empty comparison: the one with charts is this.)
        compared = nb.widget(".tw-compare:has(svg)")
        expect(compared.locator(".tw-compare-title")).to_have_text("Compare runs")
        expect(compared).to_contain_text("Minimal retrieval")
        expect(compared).to_contain_text("Standard retrieval")
        preview = nb.widget(".tw-preview")
        results = preview.locator(".tw-preview-results")
        expect(results.locator("tbody tr")).to_have_count(10, timeout=120_000)
        first_title = nb.kernel.eval("preview.recommend('7')['title'].iloc[0]")
        expect(results.locator("tbody tr").first).to_contain_text(first_title)
        errors = page.locator(
            ".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']"
        )
        assert errors.count() == 0, errors.first.inner_text()
        assert page.page_errors == []
    finally:
        nb.close()
        lab.use_store(None)
