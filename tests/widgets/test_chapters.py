"""ModelStructure, QuickTestPanel, MetricsTable and ModelingPage state, without a browser."""

from __future__ import annotations

import threading
import time

import pandas as pd
import pytest
import traitlets
from widget_helpers import front_end

from towerwidgets.config import ModelConfig, QuickTest
from towerwidgets.widgets import MetricsTable, ModelingPage, ModelStructure, QuickTestPanel
from towerwidgets.widgets import metrics as metrics_module

XSS = "<img src=x onerror=alert(1)>"


def standard(store, name="Standard Retrieval v1", **fields):
    return store.model_configs.create(ModelConfig.from_preset("standard", name=name, **fields))


# ── ModelStructure ───────────────────────────────────────────────────────────────────────


def test_structure_empty_state_then_cards(store):
    ms = ModelStructure(store)
    assert ms.configs == []
    assert repr(ms) == "ModelStructure(configs=0)"
    standard(store)
    front_end(ms, "refresh")
    [card] = ms.configs
    assert card["name"] == "Standard Retrieval v1"
    assert card["type_label"] == "Retrieval"
    assert card["buyer_summary"] == "128→64→32"
    assert (card["optimizer"], card["learning_rate"], card["batch_size"]) == (
        "Adagrad",
        "0.1",
        4096,
    )
    assert card["output_dim"] == 32
    assert card["updated"] == "just now"


def test_new_model_opens_the_wizard_and_saving_adds_a_card(store):
    ms = ModelStructure(store)
    front_end(ms, "new")
    wizard = ms.wizard
    assert wizard is not None and wizard.mode == "create"
    wizard.set(name="Deep Asymmetric v2")
    wizard.apply_preset("asymmetric")
    wizard.set(optimizer="adam", learning_rate=0.01, batch_size=8192)
    front_end(wizard, "save")
    assert ms.wizard is None
    assert [c["name"] for c in ms.configs] == ["Deep Asymmetric v2"]
    assert ms.message == "Saved “Deep Asymmetric v2”"


def test_edit_opens_the_wizard_on_the_stored_config(store):
    cfg = standard(store)
    ms = ModelStructure(store)
    front_end(ms, "edit", config_id=cfg.id)
    assert ms.wizard.mode == "edit" and ms.wizard.config.id == cfg.id
    front_end(ms.wizard, "cancel")
    assert ms.wizard is None


def test_view_is_read_only_and_previews_code_for_a_selected_feature_config(store, feature_config):
    cfg = standard(store)
    ms = ModelStructure(store)
    front_end(ms, "view", config_id=cfg.id)
    assert ms.viewing["name"] == "Standard Retrieval v1"
    assert [layer["label"] for layer in ms.viewing["buyer_layers"]] == [
        "Dense(128)",
        "Dense(64)",
        "Dense(32)",
    ]
    assert ms.feature_config_id == feature_config.id  # the only one: selected already
    ms.set_state({"feature_config_id": None})
    assert ms.code == ""
    ms.set_state({"feature_config_id": feature_config.id})
    assert ms.code_error == ""
    assert "def run_fn" in ms.code
    assert ms.viewing["buyer_input_dim"] == feature_config.buyer_tensor_dim
    front_end(ms, "close_view")
    assert ms.viewing == {} and ms.code == ""


def test_clone_and_delete_with_confirmation_naming_quick_tests(store, feature_config):
    cfg = standard(store)
    ms = ModelStructure(store)
    front_end(ms, "clone", config_id=cfg.id)
    assert sorted(c["name"] for c in ms.configs) == [
        "Standard Retrieval v1",
        "Standard Retrieval v1 (copy)",
    ]
    store.quick_tests.create(
        QuickTest(
            feature_config_id=feature_config.id,
            model_config_id=cfg.id,
            feature_config_snapshot=feature_config.to_dict(),
            model_config_snapshot=cfg.to_dict(),
        )
    )
    front_end(ms, "delete", config_id=cfg.id)
    assert ms.confirm_delete["name"] == "Standard Retrieval v1"
    assert len(ms.confirm_delete["quick_tests"]) == 1
    assert "Rich Features v2 + Standard Retrieval v1" in ms.confirm_delete["quick_tests"][0]
    front_end(ms, "cancel_delete")
    assert ms.confirm_delete == {} and len(ms.configs) == 2
    front_end(ms, "delete", config_id=cfg.id)
    front_end(ms, "confirm_delete")
    assert [c["name"] for c in ms.configs] == ["Standard Retrieval v1 (copy)"]
    assert store.quick_tests.list() == []
    assert ms.message == "Deleted 'Standard Retrieval v1' and 1 quick test"


def test_structure_reports_failures_as_messages(store):
    ms = ModelStructure(store)
    front_end(ms, "view", config_id=999)
    assert "999" in ms.message


def test_hostile_names_stay_data(store):
    standard(store, name=XSS)
    ms = ModelStructure(store)
    assert ms.configs[0]["name"] == XSS  # the front end shows it with textContent


# ── MetricsTable ─────────────────────────────────────────────────────────────────────────


def test_metrics_table_rows_best_values_and_df_round_trip():
    frame = pd.DataFrame(
        {"epoch": [1, 2, 3], "loss": [0.9, 0.5, 0.6], "recall_at_100": [0.2, 0.35, float("nan")]}
    )
    table = MetricsTable(df=frame)
    assert table.columns == ["epoch", "loss", "recall_at_100"]
    assert table.rows[2]["recall_at_100"] is None  # NaN is not JSON
    assert table.best == {
        "loss": {"row": 1, "value": 0.5, "mode": "min"},
        "recall_at_100": {"row": 1, "value": 0.35, "mode": "max"},
    }
    pd.testing.assert_frame_equal(table.df, frame)
    flat = MetricsTable(df=pd.DataFrame({"epoch": [1, 2], "regularization_loss": [0.0, 0.0]}))
    assert flat.best == {}  # a constant column has no best row
    table.sort("loss", descending=True)
    assert (table.sort_by, table.sort_descending) == ("loss", True)
    with pytest.raises(ValueError):
        table.sort("nope")
    assert repr(table) == "MetricsTable(rows=3, columns=['epoch', 'loss', 'recall_at_100'])"


def test_metrics_table_throttles_to_ten_updates_per_second(monkeypatch):
    table = MetricsTable()
    pushes = []
    table.observe(lambda change: pushes.append(len(change["new"])), names=["rows"])
    start = time.monotonic()
    for n in range(1, 51):
        table.df = pd.DataFrame({"epoch": list(range(n)), "loss": [1.0] * n})
    assert len(pushes) <= 2  # the first at once, the rest coalesced
    deadline = time.monotonic() + 2
    while pushes[-1] != 50 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert pushes[-1] == 50  # the latest frame always arrives
    elapsed = max(time.monotonic() - start, metrics_module.MIN_INTERVAL_S)
    assert len(pushes) <= elapsed / metrics_module.MIN_INTERVAL_S + 1


def test_metrics_table_accepts_updates_from_a_background_thread():
    table = MetricsTable()

    def feed():
        for n in range(1, 6):
            table.df = pd.DataFrame({"epoch": list(range(1, n + 1))})

    thread = threading.Thread(target=feed)
    thread.start()
    thread.join()
    time.sleep(0.25)
    assert len(table.rows) == 5


# ── QuickTestPanel ───────────────────────────────────────────────────────────────────────


class FakeHandle:
    """Stands in for the runner's handle: replays events, then a finished record."""

    def __init__(self, store, fc, mc, events, status="completed"):
        self.record = store.quick_tests.create(
            QuickTest(
                feature_config_id=fc.id,
                model_config_id=mc.id,
                feature_config_snapshot=fc.to_dict(),
                model_config_snapshot=mc.to_dict(),
            )
        )
        self._store, self._events, self._status = store, events, status
        self.release = threading.Event()
        self.cancelled = False

    def events(self):
        yield from self._events
        self.release.wait(5)

    def wait(self, timeout=None):
        rec = self.record
        rec.status = "running"
        rec = self._store.quick_tests.update(rec)
        rec.status = "cancelled" if self.cancelled else self._status
        rec.loss, rec.recall_at_100, rec.duration_seconds = 0.38, 0.473, 503
        self._store.quick_tests.update(rec)
        for row in ({"epoch": 1, "loss": 0.5}, {"epoch": 2, "loss": 0.38}):
            self._store.quick_tests.append_epoch(rec.id, row)
        self.record = self._store.quick_tests.get(rec.id)
        return self.record

    def cancel(self, timeout=5.0):
        self.cancelled = True
        self.cancel_timeout = timeout
        self.release.set()


@pytest.fixture
def panel(store, feature_config, sample_df):
    standard(store)
    return QuickTestPanel(store, data=sample_df)


def test_panel_selects_summarises_checks_and_estimates(panel, feature_config):
    assert panel.feature_config_id == feature_config.id
    assert panel.feature_summary["buyer_tensor_dim"] == feature_config.buyer_tensor_dim
    assert panel.model_summary["buyer_summary"] == "128→64→32"
    assert panel.defaults == {"epochs": 5, "batch_size": 4096, "learning_rate": 0.1}
    assert [c["label"] for c in panel.checks] == ["Feature Config", "Model Config", "Compatibility"]
    assert all(c["ok"] for c in panel.checks), panel.checks
    assert panel.estimate["duration"].startswith("~")
    assert panel.can_start
    assert not panel.needs_rating


def test_panel_overrides_change_the_estimate(panel):
    before = panel.estimate["seconds"]
    panel.set_state({"epochs_override": 20})
    assert panel.estimate["seconds"] > before
    panel.set_state({"epochs_override": None})
    assert panel.estimate["seconds"] == before


def test_panel_estimates_a_vertex_ai_run_for_the_chosen_machine(panel):
    """Before starting, the panel prices the same test on a Vertex AI machine type."""
    from towerwidgets.runner.estimates import MACHINE_PRICES, estimate_quick_test

    assert panel.estimate["cost"] == "$0.00 (local, no cost)"
    assert "local" not in panel.choices["vertex_machine"]
    assert "n1-standard-4" in panel.choices["vertex_machine"]
    vertex = panel.estimate["vertex"]
    fc, mc = panel._configs()
    expected = estimate_quick_test(fc, mc, n_rows=len(panel.data), machine="n1-standard-8")
    assert vertex["machine"] == "n1-standard-8"
    assert vertex["cost"] == f"~${expected.cost_usd:.2f}" and expected.cost_usd > 0
    panel.set_state({"vertex_machine": "n1-standard-16"})
    faster = panel.estimate["vertex"]
    assert faster["machine"] == "n1-standard-16"
    assert faster["seconds"] < vertex["seconds"]  # a faster machine, same startup overhead
    assert MACHINE_PRICES["n1-standard-16"]["usd_per_hour"] > 0
    with pytest.raises(traitlets.TraitError, match="choose one of: n1-standard-4"):
        panel.vertex_machine = "a-machine-that-does-not-exist"
    assert panel.estimate["vertex"]["machine"] == "n1-standard-16"


def test_ranking_needs_a_rating_column(store, panel):
    rank = store.model_configs.create(
        ModelConfig.from_preset("standard", name="Rank", model_type="ranking")
    )
    panel.refresh()
    panel.set_state({"model_config_id": rank.id})
    assert panel.needs_rating
    names = [c["name"] for c in panel.rating_columns]
    assert "rating" in names and "buyer_id" not in names
    assert panel.rating_column == "rating"
    info = next(c for c in panel.rating_columns if c["name"] == "rating")
    assert info["min"] >= 1 and info["max"] <= 5
    assert all(c["ok"] for c in panel.checks), panel.checks


def test_panel_without_data_cannot_start(store, feature_config):
    standard(store)
    p = QuickTestPanel(store)
    assert not p.can_start
    assert p.checks[-1]["label"] == "Data" and not p.checks[-1]["ok"]
    front_end(p, "start")
    assert "Cannot start" in p.message


def test_start_carries_the_selections_made_just_before_it(
    monkeypatch, store, panel, feature_config
):
    """A busy kernel: the state update of a choice made just before Start is still held
    back by the front end when "start" arrives; the command's own copy of it is used."""
    first = store.model_configs.list()[0]
    other = store.model_configs.create(ModelConfig.from_preset("minimal", name="Other"))
    panel.refresh()
    assert panel.model_config_id == first.id
    started, handles = [], []

    def fake_start(*args, **kwargs):
        started.append((args[1].id, kwargs["epochs"]))
        handles.append(FakeHandle(store, feature_config, args[1], []))
        return handles[-1]

    monkeypatch.setattr("towerwidgets.runner.start_quick_test", fake_start)
    selection = {"model_config_id": other.id, "epochs_override": 5, "running": True}
    front_end(panel, "start", selection=selection)
    assert started == [(other.id, 5)]  # and "running" is not a selection: ignored
    assert panel.model_config_id == other.id and panel.epochs_override == 5
    handles[0].release.set()
    panel.wait(5)
    assert panel.status == "completed"


def test_start_streams_events_into_traits_without_blocking(
    monkeypatch, store, panel, feature_config
):
    fc = feature_config
    mc = store.model_configs.list()[0]
    from towerwidgets.runner.events import QuickTestEvent

    events = [
        QuickTestEvent(kind="stage", stage="transform", progress_percent=10),
        QuickTestEvent(
            kind="progress", stage="train", progress_percent=40, epoch=1, metrics={"loss": 0.7}
        ),
        QuickTestEvent(
            kind="epoch", stage="train", epoch=1, metrics={"loss": 0.5, "recall_at_100": 0.4}
        ),
        QuickTestEvent(kind="warning", message="tiny data"),
    ]
    handles = []

    def fake_start(*args, **kwargs):
        handles.append(FakeHandle(store, fc, mc, events))
        assert kwargs["epochs"] is None and kwargs["store"] is store
        return handles[-1]

    monkeypatch.setattr("towerwidgets.runner.start_quick_test", fake_start)
    front_end(panel, "start")
    assert panel.running  # returned at once: the kernel is free while the test runs
    deadline = time.monotonic() + 5
    while panel.message != "⚠ tiny data" and time.monotonic() < deadline:
        time.sleep(0.01)
    assert panel.stage == "train" and panel.progress == 40
    time.sleep(0.15)
    assert panel.metrics.rows == [{"epoch": 1, "loss": 0.5, "recall_at_100": 0.4}]
    handles[0].release.set()
    panel.wait(5)
    assert not panel.running
    assert panel.status == "completed"
    assert panel.result["recall_at_100"] == "47.3%"
    assert panel.result["duration"] == "8m 23s"
    assert panel.recent[0]["status_label"] == "✓ Completed"
    assert panel.recent[0]["title"] == "Rich Features v2 + Standard Retrieval v1"
    assert len(panel.metrics.rows) == 2  # the record's final per-epoch metrics


def test_cancel_and_view_results(monkeypatch, store, panel, feature_config):
    mc = store.model_configs.list()[0]
    handle = FakeHandle(store, feature_config, mc, [])
    monkeypatch.setattr("towerwidgets.runner.start_quick_test", lambda *a, **k: handle)
    panel.start()
    front_end(panel, "cancel")
    panel.wait(5)
    assert handle.cancelled and panel.status == "cancelled"
    assert handle.cancel_timeout == 0  # the message handler only asks; it never waits
    front_end(panel, "view_results", test_id=handle.record.id)
    assert panel.result["id"] == handle.record.id
    assert [r["epoch"] for r in panel.metrics.rows] == [1, 2]
    with pytest.raises(ValueError, match="No quick test is running"):
        panel.cancel()


# ── ModelingPage ─────────────────────────────────────────────────────────────────────────


def test_modeling_page_holds_the_three_chapters(store, feature_config, sample_df):
    page = ModelingPage(store, data=sample_df)
    assert page.features[0]["name"] == "Rich Features v2"
    assert isinstance(page.structure, ModelStructure)
    assert isinstance(page.quick_test, QuickTestPanel)
    front_end(page, "toggle_compare")
    assert page.compare
    # a config saved in the chapter appears in the quick-test selector
    page.structure.new().set(name="Minimal One")
    page.structure.wizard.apply_preset("minimal")
    page.structure.wizard.save()
    assert [m["name"] for m in page.quick_test.model_configs] == ["Minimal One"]
    assert repr(page) == "ModelingPage(title='Modeling', feature_configs=1)"
    state = page.get_state()
    assert state["structure"].startswith("anywidget:")
    assert state["quick_test"] == f"anywidget:{page.quick_test.model_id}"


def test_widgets_never_import_tensorflow(tmp_path):
    import pathlib
    import subprocess
    import sys

    code = (
        "import sys, towerwidgets as tw\n"
        "from towerwidgets import datasets\n"
        "from towerwidgets.config import FeatureConfig, ModelConfig\n"
        f"store = tw.Store({str(tmp_path / 's.db')!r})\n"
        "df = datasets.sample(n_buyers=20, n_products=20, n_interactions=200)\n"
        "fc = store.feature_configs.create(FeatureConfig.infer(df, ['buyer_id'], ['product_id'],"
        " name='f'))\n"
        "mc = store.model_configs.create(ModelConfig.from_preset('standard', name='m'))\n"
        "w = tw.ModelWizard(store=store, feature_config=fc); w.set(name='x'); w.next_step()\n"
        "page = tw.ModelingPage(store, data=df)\n"
        "page.structure.set_state({'feature_config_id': fc.id}); page.structure.view(mc.id)\n"
        "assert 'def run_fn' in page.structure.code\n"
        "assert page.quick_test.can_start, page.quick_test.checks\n"
        "assert 'tensorflow' not in sys.modules, 'tensorflow imported'\n"
    )
    root = pathlib.Path(__file__).resolve().parents[2]
    subprocess.run([sys.executable, "-c", code], check=True, cwd=str(root))


def test_reopening_the_wizard_closes_the_old_one(store):
    ms = ModelStructure(store)
    first = ms.new()
    second = ms.edit(store.model_configs.create(ModelConfig.from_preset("minimal", name="M")).id)
    assert first.comm is None and second.comm is not None and ms.wizard is second
    ms.close()
    assert second.comm is None


def test_closing_the_page_closes_every_child_widget(store):
    page = ModelingPage(store)
    wizard = page.structure.new()
    children = [page.structure, page.quick_test, page.quick_test.metrics, wizard]
    page.close()
    assert [child.comm for child in children] == [None] * 4
