"""Comparing runs in the QuickTestPanel (ticks in Recent Quick Tests) and CompareView alone."""

from __future__ import annotations

from widget_helpers import XSS

import towerwidgets as tw
from towerwidgets.config import ModelConfig
from towerwidgets.widgets import CompareView, QuickTestPanel
from towerwidgets.widgets.compare import EMPTY_TEXT


def _runs(store, feature_config, add_quick_test, n=3):
    ids = []
    for i in range(n):
        mc = store.model_configs.create(
            ModelConfig.from_preset("minimal", name=f"M{i}", learning_rate=0.1 / (i + 1))
        )
        test = add_quick_test(store, feature_config, mc)
        for epoch in (1, 2):
            store.quick_tests.append_epoch(
                test.id, {"epoch": epoch, "loss": 100.0 - 10 * epoch - i, "recall_at_100": 0.1}
            )
        ids.append(test.id)
    return ids


def test_ticking_two_runs_compares_them(store, feature_config, sample_df, add_quick_test):
    a, b, _ = _runs(store, feature_config, add_quick_test)
    panel = QuickTestPanel(store, data=sample_df)
    view = panel.comparison
    assert isinstance(view, CompareView) and view.runs == [] and view.message == EMPTY_TEXT

    panel.set_state({"compare_ids": [a]})  # as the front end ticks one box
    assert view.runs == [] and view.message == f"Tick one more run to compare it with #{a}."

    panel.set_state({"compare_ids": [a, b, a]})
    assert panel.compare_ids == [a, b]  # each run once
    assert [r["id"] for r in view.runs] == [a, b] and view.message == ""
    assert [c["metric"] for c in view.charts] == ["loss", "recall_at_100"]
    assert view.charts[0]["series"][1]["points"] == [[1, 89.0], [2, 79.0]]
    assert {r["field"]: r["values"] for r in view.diff}["Learning rate"] == ["0.1", "0.05"]
    assert view.frame is not None and len(view.frame) == 2 * 2 * 2

    panel.set_state({"compare_ids": []})  # unticked: the view empties
    assert view.runs == [] and view.charts == [] and view.frame is None
    panel.close()


def test_compare_method_and_a_run_deleted_elsewhere(
    store, feature_config, sample_df, add_quick_test
):
    a, b, c = _runs(store, feature_config, add_quick_test)
    panel = QuickTestPanel(store, data=sample_df)
    assert panel.compare([a, b, c]) is panel.comparison
    assert len(panel.comparison.runs) == 3

    store.quick_tests.delete(c)  # another process or widget deletes it
    panel.refresh()
    assert panel.compare_ids == [a, b]
    assert panel.message == f"Quick test #{c} no longer exists"
    assert [r["id"] for r in panel.comparison.runs] == [a, b]
    panel.close()


def test_compare_view_shows_names_as_data(store, add_quick_test, sample_df):
    """Config names reach the front end as plain strings (JS renders them as text)."""
    fc = store.feature_configs.create(
        tw.FeatureConfig.infer(
            sample_df,
            buyer_columns=["buyer_id"],
            product_columns=["product_id"],
            name=XSS,
        )
    )
    ids = []
    for lr in (0.1, 0.2):
        mc = store.model_configs.create(
            ModelConfig.from_preset("minimal", name="M", learning_rate=lr)
        )
        ids.append(add_quick_test(store, fc, mc).id)
    result = tw.compare(ids, store=store)
    view = result.widget()
    assert view.runs[0]["label"] == f"#{ids[0]} {XSS} + M"
    assert view.charts == []  # no epochs logged yet: no chart, but the diff is there
    assert view.diff == [
        {"section": "Training", "field": "Learning rate", "values": ["0.1", "0.2"]}
    ]
    assert repr(view) == f"CompareView(runs={ids})"
    # In a notebook the Comparison displays as this widget.
    data, _ = result._repr_mimebundle_()
    assert data["application/vnd.jupyter.widget-view+json"]["model_id"] == view.model_id
    view.close()


def test_a_ticked_running_run_grows_a_point_per_epoch(
    store, feature_config, sample_df, add_quick_test
):
    """The runner stores an epoch before it publishes the event; the panel then redraws."""
    from types import SimpleNamespace

    a, b, _ = _runs(store, feature_config, add_quick_test)
    panel = QuickTestPanel(store, data=sample_df)
    panel.compare([a, b])
    panel._handle = SimpleNamespace(record=store.quick_tests.get(b))  # b is the live run
    store.quick_tests.append_epoch(b, {"epoch": 3, "loss": 70.5, "recall_at_100": 0.2})
    panel.apply_event({"kind": "epoch", "epoch": 3, "metrics": {"loss": 70.5}})
    loss = panel.comparison.charts[0]
    assert loss["series"][1]["points"][-1] == [3, 70.5]
    assert len(loss["series"][0]["points"]) == 2  # the other run is as it was
    panel.close()
