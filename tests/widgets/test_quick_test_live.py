"""The Quick Test panel with the real runner: a worker trains while the kernel stays free."""

from __future__ import annotations

import time

import pytest
from widget_helpers import front_end

from towerwidgets.config import Feature, FeatureConfig, ModelConfig
from towerwidgets.widgets import QuickTestPanel

pytestmark = pytest.mark.slow


def test_panel_runs_a_real_quick_test_and_streams_epochs(store, tmp_path, monkeypatch):
    from towerwidgets.datasets import sample

    monkeypatch.setenv("TOWERWIDGETS_HOME", str(tmp_path / "home"))
    data = sample(n_buyers=150, n_products=120, n_interactions=3000, n_categories=8, seed=3)
    fc = store.feature_configs.create(
        FeatureConfig(
            name="tiny features",
            buyer_id_column="buyer_id",
            product_id_column="product_id",
            buyer_features=[Feature(column="buyer_id", embedding_dim=16)],
            product_features=[
                Feature(column="product_id", embedding_dim=16),
                Feature(column="category", embedding_dim=8),
            ],
        )
    )
    mc = ModelConfig.from_preset("minimal", name="Minimal", epochs=2, batch_size=256)
    mc = store.model_configs.create(mc)
    panel = QuickTestPanel(store, data=data)
    panel.select(fc.id, mc.id)
    assert panel.can_start, panel.checks
    stages = []
    panel.observe(lambda change: stages.append(change["new"]), names=["stage"])

    started = time.monotonic()
    front_end(panel, "start")
    assert time.monotonic() - started < 10  # non-blocking: the kernel is free meanwhile
    assert panel.running
    panel.wait(600)
    assert panel.status == "completed", panel.message
    assert "train" in stages
    assert [row["epoch"] for row in panel.metrics.rows] == [1, 2]
    assert "loss" in panel.metrics.columns
    assert panel.result["status"] == "completed"
    assert panel.recent[0]["id"] == panel.result["id"]
    assert panel.progress == 100 and not panel.running
