"""`towerwidgets demo` and `towerwidgets quicktest` run real quick tests."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from towerwidgets.cli import main

pytestmark = pytest.mark.slow


def test_demo_runs_a_retrieval_quick_test_into_the_store(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    db = tmp_path / "demo.db"
    assert main(["--store", str(db), "demo", "--epochs", "2"]) == 0
    out = capsys.readouterr().out
    assert "Quick test #1: completed" in out and "Recall@100" in out
    from towerwidgets.store import Store

    record = Store(db).quick_tests.get(1)
    assert record.status == "completed" and record.recall_at_100 > 0.15  # chance: 0.10
    assert record.model_config_snapshot["name"] == "Standard Retrieval (demo)"
    assert record.batch_size_override == 512 and record.epochs_override == 2
    home = Path(os.environ["TOWERWIDGETS_HOME"])  # set by conftest; else ./.towerwidgets
    assert (home / "cache" / "transform").is_dir() and Path(record.export_path).is_relative_to(home)


def test_quicktest_command_on_a_csv_file(tmp_path, monkeypatch, capsys, tiny_data):
    monkeypatch.chdir(tmp_path)
    tiny_data.to_csv(tmp_path / "data.csv", index=False)
    code = main(
        [
            "--store",
            str(tmp_path / "q.db"),
            "quicktest",
            "--data",
            "data.csv",
            "--buyer-columns",
            "buyer_id",
            "--product-columns",
            "product_id",
            "category",
            "--preset",
            "minimal",
            "--model-type",
            "ranking",
            "--rating-column",
            "rating",
            "--epochs",
            "1",
            "--batch-size",
            "256",
        ]
    )
    out = capsys.readouterr().out
    assert code == 0, out
    assert "RMSE" in out and "completed" in out


def test_quicktest_command_reports_a_bad_rating_column_in_one_line(
    tmp_path, monkeypatch, capsys, tiny_data
):
    monkeypatch.chdir(tmp_path)
    tiny_data.assign(rating="good").to_csv(tmp_path / "data.csv", index=False)
    code = main(
        [
            "--store",
            str(tmp_path / "q.db"),
            "quicktest",
            "--data",
            "data.csv",
            "--buyer-columns",
            "buyer_id",
            "--product-columns",
            "product_id",
            "--model-type",
            "ranking",
            "--rating-column",
            "rating",
        ]
    )
    out = capsys.readouterr().out
    assert code == 1 and "must be numeric" in out and "validate" in out
