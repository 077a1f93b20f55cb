"""The event -> record rules of a quick test, without threads, processes or a store."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from towerwidgets.config import QuickTest
from towerwidgets.errors import InvalidTransitionError
from towerwidgets.runner import reducer

NOW = datetime(2026, 12, 1, tzinfo=timezone.utc)


def running() -> QuickTest:
    record = QuickTest(model_config_snapshot={"name": "M"}, feature_config_snapshot={"name": "F"})
    record.status = "running"
    return record


def test_stages_are_recorded_once_and_progress_never_goes_back():
    record = running()
    reducer.set_stage(record, "train", NOW)
    step = reducer.apply_worker_event(
        record, {"kind": "progress", "stage": "train", "progress_percent": 60}, NOW
    )
    assert step.save == reducer.SAVE_THROTTLED and record.progress_percent == 60
    reducer.apply_worker_event(
        record, {"kind": "stage", "stage": "train", "progress_percent": 30}, NOW
    )
    assert record.progress_percent == 60
    assert [h["stage"] for h in record.stage_history] == ["train"]
    # "done" comes from the kernel after it checked the exit code, never from the worker.
    assert reducer.apply_worker_event(record, {"kind": "stage", "stage": "done"}, NOW).publish == []
    assert record.current_stage == "train"


def test_an_epoch_is_a_row_the_latest_metrics_and_a_store_write():
    record = running()
    event = {
        "kind": "epoch",
        "epoch": 1,
        "progress_percent": 50,
        "metrics": {"epoch": 1, "loss": 2.5, "recall_at_10": 0.1},
    }
    step = reducer.apply_worker_event(record, event, NOW)
    assert step.save == reducer.SAVE_NOW and step.epoch_row == {
        "epoch": 1,
        "loss": 2.5,
        "recall_at_10": 0.1,
    }
    assert (
        record.loss == 2.5
        and record.recall_at_10 == 0.1
        and record.epoch_metrics == [step.epoch_row]
    )
    assert [e.kind for e in step.publish] == ["epoch"]


def test_info_error_and_warning_events():
    record = running()
    step = reducer.apply_worker_event(
        record,
        {
            "kind": "info",
            "metrics": {"worker_pid": 42, "transform_cache_hit": 1, "export_path": "/m"},
        },
        NOW,
    )
    assert record.worker_pid == 42 and record.vocabulary_stats == {"transform_cache_hit": True}
    assert record.export_path == "/m" and step.facts["worker_pid"] == 42
    assert reducer.apply_worker_event(
        record, {"kind": "error", "message": "x"}, NOW
    ).worker_error == {"kind": "error", "message": "x"}
    first = reducer.apply_worker_event(record, {"kind": "warning", "message": "careful"}, NOW)
    again = reducer.apply_worker_event(record, {"kind": "warning", "message": "careful"}, NOW)
    assert len(first.publish) == 1 and again.publish == [] and record.warnings == ["careful"]


def test_finish_happens_once():
    record = running()
    step = reducer.finish(record, "completed", NOW, duration_seconds=3)
    assert (
        record.status == "completed" and record.progress_percent == 100 and record.cost_usd == 0.0
    )
    assert step.publish[0].is_final
    assert reducer.finish(record, "failed", NOW, duration_seconds=4, message="late").publish == []
    assert record.status == "completed" and record.error_message == ""


def test_a_cancelled_finish_keeps_its_reason():
    record = running()
    reducer.finish(record, "cancelled", NOW, duration_seconds=1, message="Cancelled: deleted")
    assert record.error_message == "Cancelled: deleted" and record.error_stage == ""


@pytest.mark.parametrize(
    ("stored", "status", "words"),
    [
        (None, "cancelled", "deleted"),
        ({"status": "cancelled"}, "cancelled", "another kernel"),
        ({"status": "cancelled", "error_message": "Stopped by Ann"}, "cancelled", "Stopped by Ann"),
        ({"status": "failed", "error_message": "Interrupted: no heartbeat"}, "failed", "heartbeat"),
    ],
)
def test_losing_the_record_to_a_cancel_delete_or_recovery(stored, status, words):
    record = None
    if stored is not None:
        record = QuickTest()
        record.status = "running"
        record.status = stored["status"]
        record.error_message = stored.get("error_message", "")
    final, reason = reducer.lost_ownership(record)
    assert final == status and words in reason


def test_a_final_record_cannot_be_reopened_by_a_late_event():
    record = running()
    reducer.finish(record, "cancelled", NOW, duration_seconds=1)
    with pytest.raises(InvalidTransitionError):
        record.status = "running"


def test_collapse_warning_is_judged_on_the_last_epoch():
    record = running()
    record.epoch_metrics = [
        {"epoch": 1, "collapsed_fraction": 0.9},
        {"epoch": 2, "collapsed_fraction": 0.1},
    ]
    assert reducer.final_warnings(record) == []
    record.epoch_metrics = [*record.epoch_metrics, {"epoch": 3, "collapsed_fraction": 0.75}]
    assert "75%" in reducer.final_warnings(record)[0]
