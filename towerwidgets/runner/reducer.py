"""The pure half of a quick test's kernel side: events in, record changes out.

:class:`~towerwidgets.runner.api.QuickTestHandle` drives a run on a thread, writes the store
and calls listeners; every decision about the QuickTest record lives here instead, as
functions of (record, event, clock) that return what to publish and whether to write. So
the rules (stages only move forward, progress never goes back, a cancel or delete made
elsewhere ends the run as cancelled) are tested without threads, processes or a store.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from towerwidgets.runner.events import QuickTestEvent, stage_percent

__all__ = [
    "COLLAPSE_WARNING_THRESHOLD",
    "SAVE_NO",
    "SAVE_NOW",
    "SAVE_THROTTLED",
    "Step",
    "add_warning",
    "apply_worker_event",
    "final_warnings",
    "finish",
    "lost_ownership",
    "set_stage",
]

COLLAPSE_WARNING_THRESHOLD = 0.5
SAVE_NO, SAVE_THROTTLED, SAVE_NOW = 0, 1, 2
# Record fields that mirror the latest epoch's metric of the same name.
_LATEST_METRICS = ("loss", "recall_at_10", "recall_at_50", "recall_at_100", "rmse", "mae")


@dataclass
class Step:
    """What the driver does after one change: publish these events, maybe write."""

    publish: list[QuickTestEvent] = field(default_factory=list)
    save: int = SAVE_NO
    epoch_row: dict[str, Any] | None = None
    worker_error: dict[str, Any] | None = None
    facts: dict[str, Any] = field(default_factory=dict)


def _bump(record: Any, percent: int | None, cap: int = 99) -> None:
    if percent is not None:
        record.progress_percent = max(record.progress_percent, min(int(percent), cap))


def set_stage(record: Any, stage: str, now: datetime, percent: int | None = None) -> Step:
    """Enter ``stage`` (history grows only on a change; progress never goes back)."""
    percent = stage_percent(stage) if percent is None else int(percent)
    if stage != record.current_stage:
        record.stage_history = [
            *record.stage_history,
            {"stage": stage, "at": now.isoformat(), "progress_percent": percent},
        ]
    record.current_stage = stage
    _bump(record, percent, cap=100)
    return Step([QuickTestEvent("stage", stage=stage, progress_percent=percent)], SAVE_NOW)


def add_warning(record: Any, message: str) -> Step:
    """Record a warning once; a repeat publishes nothing."""
    if message in record.warnings:
        return Step()
    record.warnings = [*record.warnings, message]
    return Step([QuickTestEvent("warning", stage=record.current_stage, message=message)])


def apply_worker_event(record: Any, data: dict[str, Any], now: datetime) -> Step:
    """One event from the worker (see ``events.py``) applied to the record."""
    kind = data.get("kind")
    if kind == "ready":
        return Step()
    if kind == "stage":
        stage = data.get("stage", "")
        if stage == "done":
            return Step()  # the kernel declares done after checking the exit code
        return set_stage(record, stage, now, data.get("progress_percent"))
    if kind == "error":
        return Step(worker_error=data)
    event = QuickTestEvent.from_dict(data)
    if kind == "warning":
        return add_warning(record, event.message)
    step = Step([event])
    if kind == "progress":
        _bump(record, event.progress_percent)
        step.save = SAVE_THROTTLED
    elif kind == "epoch":
        row = dict(event.metrics)
        record.epoch_metrics = [*record.epoch_metrics, row]
        for name in _LATEST_METRICS:
            value = row.get(name)
            if isinstance(value, int | float):
                setattr(record, name, float(value))
        _bump(record, event.progress_percent)
        step.epoch_row, step.save = row, SAVE_NOW
    elif kind == "info":
        metrics = event.metrics
        step.facts = dict(metrics)
        if "worker_pid" in metrics:
            record.worker_pid = int(metrics["worker_pid"])
        for key in ("transform_vocabularies", "transform_cache_hit"):
            if key in metrics:
                value = metrics[key]
                value = bool(value) if key == "transform_cache_hit" else value
                record.vocabulary_stats = {**record.vocabulary_stats, key: value}
        if metrics.get("export_path"):
            record.export_path = str(metrics["export_path"])
        if metrics.get("vertex_pipeline_id"):
            record.vertex_pipeline_id = str(metrics["vertex_pipeline_id"])
        if metrics.get("vertex_console_url"):
            record.vertex_console_url = str(metrics["vertex_console_url"])
        step.save = SAVE_NOW
    return step


def final_warnings(record: Any) -> list[str]:
    """Warnings judged on the whole run (collapsed embeddings at the last epoch)."""
    rows = record.epoch_metrics
    collapsed = rows[-1].get("collapsed_fraction") if rows else None
    if isinstance(collapsed, int | float) and collapsed >= COLLAPSE_WARNING_THRESHOLD:
        return [
            f"Collapsed embeddings: {collapsed:.0%} of candidate embeddings are zero or equal "
            "to another candidate's, so Recall@K is not meaningful. Use a linear output "
            "layer, a lower learning rate or more epochs."
        ]
    return []


def finish(
    record: Any,
    status: str,
    now: datetime,
    *,
    duration_seconds: int,
    message: str = "",
    stage: str = "",
    local: bool = True,
) -> Step:
    """End the run; a record already final stays as it is (publishes nothing)."""
    if record.is_finished:
        return Step()
    record.status = status
    record.completed_at = now
    record.duration_seconds = duration_seconds
    if status == "completed":
        record.current_stage = "done"
        record.progress_percent = 100
        record.stage_history = [
            *record.stage_history,
            {"stage": "done", "at": now.isoformat(), "progress_percent": 100},
        ]
        record.cost_usd = 0.0 if local else record.cost_usd
    elif status == "failed":
        record.error_stage = stage or record.current_stage or "validate"
        record.error_message = message
    elif message:
        record.error_message = message  # why it was cancelled
    event = QuickTestEvent(
        "status",
        stage=record.current_stage,
        status=status,
        message=message,
        progress_percent=record.progress_percent,
    )
    return Step([event], SAVE_NOW)


def lost_ownership(stored: Any | None) -> tuple[str, str]:
    """The final status and reason when the store refuses the owner's write: the record
    was deleted, cancelled elsewhere or failed by recovery. The run then stops its worker
    and ends like this instead of carrying on against a record that moved on."""
    if stored is None:
        return (
            "cancelled",
            "Cancelled: the quick test's record was deleted while it ran (with its "
            "config?); the worker was stopped.",
        )
    if stored.status == "failed":
        return "failed", stored.error_message or "Failed elsewhere while it ran"
    reason = stored.error_message or "Cancelled from another kernel or the command line."
    return "cancelled", reason
