"""Issues 14 and 11: no stale status, no test's rows under another's title, no silent Save."""

from __future__ import annotations

import pytest
from test_chapters import FakeHandle, standard
from widget_helpers import front_end

from towerwidgets.config import ModelConfig
from towerwidgets.widgets import MetricsTable, ModelWizard, QuickTestPanel


@pytest.fixture
def panel(store, feature_config, sample_df):
    standard(store)
    return QuickTestPanel(store, data=sample_df)


def _finished(store, fc, mc, status="completed"):
    """A finished quick test in the store with two epochs (via FakeHandle.wait)."""
    handle = FakeHandle(store, fc, mc, [], status=status)
    return handle.wait()


def test_viewing_another_run_clears_the_cancelled_runs_status(
    monkeypatch, store, panel, feature_config
):
    """Issue 14 item 3: 'Cancelled • Stage: train • 30%' / 'Cancelling…' stayed above the
    '✓ Completed' box of another run opened with View Results."""
    mc = store.model_configs.list()[0]
    old = _finished(store, feature_config, mc)
    handle = FakeHandle(store, feature_config, mc, [])
    monkeypatch.setattr("towerwidgets.runner.start_quick_test", lambda *a, **k: handle)
    panel.start()
    panel.apply_event({"kind": "stage", "stage": "train", "progress_percent": 30})
    front_end(panel, "cancel")
    panel.wait(5)
    assert panel.status == "cancelled" and panel.message != "Cancelling…"
    front_end(panel, "view_results", test_id=old.id)
    assert panel.result["id"] == old.id and panel.result["status"] == "completed"
    assert (panel.status, panel.stage, panel.progress, panel.message) == ("", "", 0, "")
    assert panel.metrics.title == f"Metrics: {old.title()}"


def test_live_epochs_never_land_under_another_tests_title(
    monkeypatch, store, panel, feature_config
):
    """Issue 11 item 6: 'View results' during a run was overwritten by the next epoch."""
    mc = store.model_configs.list()[0]
    old = _finished(store, feature_config, mc)
    handle = FakeHandle(store, feature_config, mc, [])
    monkeypatch.setattr("towerwidgets.runner.start_quick_test", lambda *a, **k: handle)
    panel.metrics.title = "Metrics: something viewed before"
    panel.start()
    live_title = panel.metrics.title
    assert live_title == f"Metrics: {handle.record.title()} (running)"
    panel.apply_event({"kind": "epoch", "epoch": 1, "metrics": {"loss": 0.9}})
    panel.metrics.flush()
    assert panel.metrics.rows == [{"epoch": 1, "loss": 0.9}]

    front_end(panel, "view_results", test_id=old.id)
    viewed = panel.metrics.rows
    assert [r["epoch"] for r in viewed] == [1, 2] and panel.metrics.title.endswith(old.title())
    panel.apply_event({"kind": "epoch", "epoch": 2, "metrics": {"loss": 0.7}})
    panel.metrics.flush()
    assert panel.metrics.rows == viewed  # the old test's rows, under the old test's title
    assert panel.running and panel.stage  # the live progress keeps going meanwhile

    front_end(panel, "view_results", test_id=handle.record.id)  # back to the live run
    assert panel.metrics.title == live_title
    assert [r["loss"] for r in panel.metrics.rows] == [0.9, 0.7]
    handle.release.set()
    panel.wait(5)
    assert panel.metrics.title == f"Metrics: {handle.record.title()}"
    assert panel.result["id"] == handle.record.id


def test_clearing_the_table_clears_its_title():
    table = MetricsTable(title="Metrics: A + B", df=[{"epoch": 1, "loss": 0.5}])
    table.clear()
    assert table.rows == [] and table.title == ""


def test_a_failed_save_is_shown_in_the_step_and_loses_nothing(store, monkeypatch):
    """Issue 11 item 5: a store error on Save showed nothing; the button just re-enabled."""
    w = ModelWizard(store=store, config=ModelConfig.from_preset("minimal", name="Mini"))
    w.step = 3

    def locked(config):
        raise RuntimeError("database is locked")

    monkeypatch.setattr(store.model_configs, "create", locked)
    front_end(w, "save")
    assert w.step_errors == [
        "Could not save “Mini”: database is locked. Your edits are kept; Save again to retry."
    ]
    assert not w.closed and w.config.name == "Mini" and w.step == 3
    monkeypatch.undo()
    stored = w.save()
    assert stored.id is not None and w.closed and w.step_errors == []


# ── one estimator: one parameter count and one duration, everywhere (issue 14 items 5, 6) ──


def test_identical_towers_show_identical_counts_before_a_feature_config():
    """The first wizard assumed inputs 100/50: identical towers showed ~44K and ~32K."""
    from towerwidgets.widgets import TowerBuilder

    w = TowerBuilder(config=ModelConfig.from_preset("standard"))
    est = w.estimates
    assert est["buyer"]["params"] == est["product"]["params"]
    assert est["buyer"]["params_text"].startswith("≈") and not est["params_exact"]
    assert "assumes 64 input features per tower" in est["params_assumption"]
    assert est["total_params"] == est["buyer"]["params"] + est["product"]["params"]


def test_the_count_includes_embeddings_and_is_the_same_in_wizard_view_and_panel(
    store, feature_config, sample_df
):
    """View said ~87K, the wizard ~109K, the builder ~44K; none counted embeddings."""
    from towerwidgets.codegen.params import param_breakdown, vocabulary_sizes
    from towerwidgets.widgets import ModelingPage

    mc = standard(store)
    page = ModelingPage(store, data=sample_df)
    page.structure.feature_config_id = feature_config.id
    wizard = page.structure.edit(mc.id)
    view = page.structure.view(mc.id)
    page.quick_test.select(feature_config.id, mc.id)
    sizes = vocabulary_sizes(feature_config, sample_df)
    parts = param_breakdown(feature_config, sizes, mc)
    embeddings = sum(parts["buyer"]["embeddings"].values())
    assert embeddings > 0 and parts["missing_vocabularies"] == []
    figure = wizard.estimates["total_params_text"]
    assert wizard.estimates["total_params"] == parts["total"]  # Keras count_params() rule
    assert wizard.estimates["buyer"]["embedding_params"] == embeddings
    assert view["params_text"] == figure == page.quick_test.model_summary["params_text"]
    assert "training split" in wizard.estimates["params_assumption"]


def test_one_duration_estimate_for_cards_wizard_panel(store, feature_config, sample_df):
    """Preset cards said ~8 min, the wizard ~35 s, the panel ~30 s for one run."""
    from towerwidgets.widgets import ModelingPage

    mc = store.model_configs.create(ModelConfig.from_preset("deep", name="Deep"))
    page = ModelingPage(store, data=sample_df)
    page.structure.feature_config_id = feature_config.id
    wizard = page.structure.edit(mc.id)
    page.quick_test.select(feature_config.id, mc.id)
    cards = {card["key"]: card["estimated_time"] for card in wizard.presets}
    assert wizard.estimates["quick_test_time"] == page.quick_test.estimate["duration"]
    assert cards["deep"] == wizard.estimates["quick_test_time"]


# ── baselines beside every metric ─────────────────────────────────────────────────────────


def test_the_table_and_the_summary_say_when_the_model_does_not_beat_the_baselines(
    store, panel, feature_config
):
    mc = store.model_configs.list()[0]
    test = _finished(store, feature_config, mc)  # loss 0.5 → 0.38, Recall@100 47.3%
    test.split = {"kind": "random", "baselines": {"recall_at_100": 0.60, "rmse": 1.0}}
    test = store.quick_tests.update(test)
    store.quick_tests.append_epoch(test.id, {"epoch": 3, "loss": 0.3, "recall_at_100": 0.473})
    front_end(panel, "view_results", test_id=test.id)
    assert panel.result["baseline_notes"] == [
        "Recall@100 47.3% does not beat recommending the most popular products (60.0%)"
    ]
    table = panel.metrics
    assert "recall_at_100" in table.columns
    assert table.baseline["values"] == {"recall_at_100": 0.60}  # rmse: not a column here
    assert table.baseline["beaten"] == {"recall_at_100": False}


def test_metrics_table_marks_each_baseline_beaten_or_not():
    table = MetricsTable(
        df=[{"epoch": 1, "recall_at_100": 0.2, "rmse": 0.95}, {"epoch": 2, "recall_at_100": 0.25}]
    )
    table.set_baselines({"recall_at_100": 0.30, "rmse": 1.0, "mae": 0.8})
    assert table.baseline["values"] == {"recall_at_100": 0.30, "rmse": 1.0}  # shown columns
    assert table.baseline["beaten"] == {"recall_at_100": False, "rmse": True}
    table.clear()
    assert table.baseline == {}


def test_view_results_shows_the_live_tables_columns_and_marks_mae_best(
    store, panel, feature_config
):
    """Item 8: View showed 12 columns (rating_rmse beside rmse), rating_mae never best."""
    from towerwidgets.widgets.metrics import better

    mc = store.model_configs.list()[0]
    test = _finished(store, feature_config, mc)
    store.quick_tests.append_epoch(
        test.id, {"epoch": 3, "loss": 0.3, "rating_rmse": 2.29, "total_loss": 9.0}
    )
    front_end(panel, "view_results", test_id=test.id)
    assert panel.metrics.columns == ["epoch", "loss"]
    assert better("rating_mae") == "min" and better("mae") == "min"


def test_runs_of_the_same_configs_can_be_told_apart(store, panel, feature_config):
    """Item 9: same title, no epochs / learning rate / batch size."""
    mc = store.model_configs.list()[0]
    test = _finished(store, feature_config, mc)
    panel.refresh()
    assert panel.recent[0]["settings"] == f"#{test.id} • 5 epochs • batch 4096 • lr 0.1"


def test_a_timestamp_is_never_silently_taken_for_a_rating(store, feature_config, sample_df):
    """Item 10: `timestamp` (8e8…1.5e9) was accepted as a rating without a warning."""
    import numpy as np

    data = sample_df.drop(columns=[c for c in sample_df.columns if "rating" in c]).copy()
    data["timestamp"] = np.linspace(8e8, 1.5e9, len(data)).astype("int64")
    data["stars"] = (np.arange(len(data)) % 5 + 1).astype(float)
    rank = store.model_configs.create(
        ModelConfig.from_preset("standard", name="Rank", model_type="ranking")
    )
    p = QuickTestPanel(store, data=data)
    p.select(feature_config.id, rank.id)
    assert p.needs_rating and p.rating_column == ""  # nothing chosen for the user
    check = next(c for c in p.checks if c["label"] == "Rating Column")
    assert not check["ok"] and "Choose the column" in check["text"] and not p.can_start
    p.set_state({"rating_column": "timestamp"})
    check = next(c for c in p.checks if c["label"] == "Rating Column")
    assert check["text"].startswith("⚠ timestamp looks like a time")
    p.set_state({"rating_column": "stars"})
    check = next(c for c in p.checks if c["label"] == "Rating Column")
    assert check == {"ok": True, "label": "Rating Column", "text": "stars"}


def test_view_uses_the_only_feature_config_without_asking(store, feature_config):
    """Item 11: View made you pick the only feature config before showing code."""
    from towerwidgets.widgets import ModelStructure

    mc = standard(store)
    ms = ModelStructure(store)
    assert ms.feature_config_id == feature_config.id
    ms.view(mc.id)
    assert "def run_fn" in ms.code


def test_config_cards_show_dropout_batch_norm_and_l2(store):
    """Item 11: cards omitted Dropout (the summary lists dense units only)."""
    from towerwidgets.widgets import ModelStructure

    store.model_configs.create(ModelConfig.from_preset("regularized", name="Reg"))
    card = ModelStructure(store).configs[0]
    assert card["buyer_extras"].startswith("+Dropout(") and card["buyer_extras"].endswith("+L2")


def test_view_has_a_model_summary_table_that_adds_up_to_the_count(store, feature_config, sample_df):
    """A model.summary()-style table in View (layer, output shape, params)."""
    from towerwidgets.widgets import ModelStructure

    mc = store.model_configs.create(
        ModelConfig.from_preset("regularized", name="Reg", model_type="multitask")
    )
    ms = ModelStructure(store, data=sample_df)
    view = ms.view(mc.id)
    rows = view["summary_rows"]
    assert rows[0]["part"] == "Buyer tower" and rows[-1]["layer"] == "Dense(1)"
    assert any(r["layer"].startswith("Embedding ") and r["params"] for r in rows)
    assert sum(r["params"] for r in rows) == view["params_total"]
    without_data = ModelStructure(store).view(mc.id)["summary_rows"]
    assert any(r["params"] is None for r in without_data)  # unknown vocabulary: '?'


def test_a_finished_run_shows_the_exact_parameter_count_of_what_it_trained(
    store, panel, feature_config
):
    """Once the transform counted the vocabularies, the count is exact (no '≈')."""
    from towerwidgets.codegen.params import count_params
    from towerwidgets.codegen.plan import build_plan

    mc = store.model_configs.list()[0]
    test = _finished(store, feature_config, mc)
    keys = [f.key for t in ("buyer", "product") for f in build_plan(feature_config).tower(t)]
    vocabularies = {key: 40 for key in keys}
    test.vocabulary_stats = {"transform_vocabularies": vocabularies}
    store.quick_tests.update(test)
    front_end(panel, "view_results", test_id=test.id)
    expected = count_params(mc, feature_config, vocabularies)
    assert expected["exact"] and panel.result["params_text"] == f"{expected['total']:,}"
