"""The kernel side of a run without TensorFlow: a scripted backend feeds worker events and
the handle turns them into the record, the store and the listeners' events."""

from __future__ import annotations

import threading
import time

from runner_helpers import generated_code, model_config

from towerwidgets.runner import start_quick_test
from towerwidgets.runner.backends import Backend, Run

DONE_EVENTS = [
    {"kind": "ready"},
    {"kind": "stage", "stage": "transform", "progress_percent": 10},
    {"kind": "info", "metrics": {"transform_cache_hit": False, "transform_seconds": 1.5}},
    {"kind": "stage", "stage": "train", "progress_percent": 30},
    {
        "kind": "progress",
        "stage": "train",
        "progress_percent": 50,
        "epoch": 1,
        "metrics": {"batch": 3, "steps": 6, "loss": 9.0},
    },
    {
        "kind": "epoch",
        "stage": "train",
        "epoch": 1,
        "progress_percent": 57,
        "metrics": {
            "epoch": 1,
            "loss": 8.0,
            "recall_at_10": 0.1,
            "recall_at_50": 0.2,
            "recall_at_100": 0.3,
            "collapsed_fraction": 0.0,
        },
    },
    {"kind": "stage", "stage": "evaluate", "progress_percent": 85},
    {
        "kind": "epoch",
        "stage": "train",
        "epoch": 2,
        "progress_percent": 85,
        "metrics": {
            "epoch": 2,
            "loss": 7.0,
            "recall_at_10": 0.5,
            "recall_at_50": 0.6,
            "recall_at_100": 0.7,
            "collapsed_fraction": 0.96,
        },
    },
    {"kind": "stage", "stage": "export", "progress_percent": 92},
    {"kind": "info", "metrics": {"export_path": "/tmp/model"}},
    {"kind": "stage", "stage": "done", "progress_percent": 100},
]


class ScriptedRun(Run):
    def __init__(self, events, on_event, code, block=False):
        self.pid = None
        self.code = code
        self.cancelled = threading.Event()
        self._block = block
        for event in events:
            on_event(event)

    def wait(self, timeout=None):
        if self._block and not self.cancelled.is_set():
            self.cancelled.wait(timeout)
            return None if not self.cancelled.is_set() else -15
        return self.code

    def cancel(self):
        self.cancelled.set()

    def failure_reason(self, stage):
        return f"scripted exit {self.code} during {stage!r}"


class ScriptedBackend(Backend):
    name = "scripted"
    machine = "local"

    def __init__(self, events, code=0, block=False):
        self.events, self.code, self.block = events, code, block
        self.jobs = []

    def submit(self, job, job_path, on_event):
        self.jobs.append(job)
        return ScriptedRun(self.events, on_event, self.code, self.block)


def _start(store, tmp_path, tiny_data, feature_config, backend, **kw):
    mc = model_config()
    return start_quick_test(
        feature_config,
        mc,
        tiny_data,
        store=store,
        home=tmp_path,
        backend=backend,
        code=generated_code(feature_config, mc),
        **kw,
    )


def test_events_become_the_record_and_reach_every_listener(
    store, tmp_path, tiny_data, feature_config
):
    seen = []
    handle = _start(
        store,
        tmp_path,
        tiny_data,
        feature_config,
        ScriptedBackend(DONE_EVENTS),
        on_event=seen.append,
    )
    first, second = list(handle.events(timeout=30)), list(handle.events(timeout=30))
    record = handle.wait(30)
    assert record.status == "completed"
    assert [e.kind for e in first] == [e.kind for e in second] == [e.kind for e in seen]
    kinds = [e.kind for e in first]
    assert kinds.count("epoch") == 2 and kinds[-1] == "status"
    stages = [e.stage for e in first if e.kind == "stage"]
    assert stages == ["validate", "prepare data", "transform", "train", "evaluate", "export"]

    stored = store.quick_tests.get(record.id)
    assert stored.loss == 7.0 and stored.recall_at_100 == 0.7 and stored.recall_at_10 == 0.5
    assert list(stored.metrics["recall_at_100"]) == [0.3, 0.7]
    assert stored.export_path == "/tmp/model" and stored.progress_percent == 100
    assert stored.vocabulary_stats["transform_cache_hit"] is False
    assert any("Collapsed embeddings: 96%" in w for w in stored.warnings)
    assert stored.duration_seconds is not None and stored.completed_at is not None


def test_a_worker_error_event_fails_the_test_with_its_stage(
    store, tmp_path, tiny_data, feature_config
):
    events = [
        *DONE_EVENTS[:5],
        {"kind": "error", "stage": "train", "message": "Loss became NaN at epoch 1"},
    ]
    record = _start(
        store, tmp_path, tiny_data, feature_config, ScriptedBackend(events, code=1)
    ).wait(30)
    assert record.status == "failed" and record.error_stage == "train"
    assert record.error_message == "Loss became NaN at epoch 1"
    assert store.quick_tests.get(record.id).status == "failed"


def test_an_exit_without_an_error_event_is_explained(store, tmp_path, tiny_data, feature_config):
    record = _start(
        store, tmp_path, tiny_data, feature_config, ScriptedBackend(DONE_EVENTS[:4], code=-9)
    ).wait(30)
    assert record.status == "failed" and record.error_stage == "train"
    assert record.error_message == "scripted exit -9 during 'train'"


def test_cancel_while_the_backend_runs(store, tmp_path, tiny_data, feature_config):
    handle = _start(
        store, tmp_path, tiny_data, feature_config, ScriptedBackend(DONE_EVENTS[:5], block=True)
    )
    deadline = time.time() + 20
    while handle.record.current_stage != "train" and time.time() < deadline:
        time.sleep(0.05)
    record = handle.cancel()
    assert record.status == "cancelled"
    assert store.quick_tests.get(record.id).status == "cancelled"
    assert [e for e in handle.events(timeout=5)][-1].status == "cancelled"


def test_a_listener_that_raises_does_not_break_the_run(store, tmp_path, tiny_data, feature_config):
    def broken(event):
        raise RuntimeError("widget bug")

    record = _start(
        store, tmp_path, tiny_data, feature_config, ScriptedBackend(DONE_EVENTS), on_event=broken
    ).wait(30)
    assert record.status == "completed"


# ── losing the record to someone else (a colleague's cancel, a delete, recovery) ───────


def _running_stored(store, tmp_path, tiny_data, feature_config):
    """A run with stored configs, blocked in the backend; returns (handle, backend run)."""
    fc = store.feature_configs.create(feature_config)
    mc = store.model_configs.create(model_config())
    backend = ScriptedBackend(DONE_EVENTS[:5], block=True)
    runs = []
    submitted = threading.Event()
    original = backend.submit

    def submit(*args):
        runs.append(original(*args))
        submitted.set()
        return runs[-1]

    backend.submit = submit
    handle = start_quick_test(
        fc, mc, tiny_data, store=store, home=tmp_path, backend=backend, code=generated_code(fc, mc)
    )
    assert submitted.wait(60), f"the run never reached the backend: {handle.record!r}"
    return handle, runs[0], mc


def test_deleting_the_config_during_a_run_stops_the_worker(
    store, tmp_path, tiny_data, feature_config
):
    handle, run, mc = _running_stored(store, tmp_path, tiny_data, feature_config)
    store.model_configs.delete(mc.id, force=True)  # removes the quick test record too
    record = handle.wait(60)
    assert handle.done and run.cancelled.is_set()
    assert record.status == "cancelled" and "deleted" in record.error_message
    assert store.quick_tests.list() == []


def test_a_cancel_from_another_kernel_ends_the_run_as_cancelled(
    store, tmp_path, tiny_data, feature_config
):
    handle, run, _ = _running_stored(store, tmp_path, tiny_data, feature_config)
    with type(store)(store.url) as other:
        other.quick_tests.cancel(handle.id, reason="Cancelled by a colleague")
    record = handle.wait(60)
    assert run.cancelled.is_set() and record.status == "cancelled"
    assert record.error_message == "Cancelled by a colleague"
    assert store.quick_tests.get(handle.id).status == "cancelled"


def test_a_run_failed_by_recovery_ends_failed_with_that_reason(
    store, tmp_path, tiny_data, feature_config
):
    handle, run, _ = _running_stored(store, tmp_path, tiny_data, feature_config)
    store.quick_tests.patch(handle.id, status="failed", error_message="Interrupted: no heartbeat")
    record = handle.wait(60)
    assert run.cancelled.is_set()
    assert record.status == "failed" and record.error_message == "Interrupted: no heartbeat"


def test_a_late_write_after_a_delete_is_a_cancel_not_a_busy_store(
    store, tmp_path, tiny_data, feature_config
):
    handle, run, mc = _running_stored(store, tmp_path, tiny_data, feature_config)
    store.model_configs.delete(mc.id, force=True)
    # The worker's next epoch arrives before the handle's poll notices: its write finds no
    # record, which must stop the run (it used to be logged as "store busy" and ignored).
    handle._on_worker_event(DONE_EVENTS[5])
    assert run.cancelled.is_set()
    assert handle.wait(60).status == "cancelled"
    assert "store_errors" not in handle.facts


def test_cancel_without_waiting_returns_at_once(store, tmp_path, tiny_data, feature_config):
    handle, run, _ = _running_stored(store, tmp_path, tiny_data, feature_config)
    handle.cancel(timeout=0)  # what a widget's message handler does
    assert handle.wait(60).status == "cancelled"
    assert run.cancelled.is_set()


def test_the_owner_renews_its_lease_while_it_runs(
    store, tmp_path, tiny_data, feature_config, monkeypatch
):
    import sqlalchemy as sa

    from towerwidgets.store import lease, schema

    monkeypatch.setattr(lease, "HEARTBEAT_SECONDS", 0.05)
    handle, _run, _ = _running_stored(store, tmp_path, tiny_data, feature_config)

    def beat():
        with store.transaction("read") as conn:
            return conn.execute(
                sa.select(schema.quick_tests.c.heartbeat_at).where(
                    schema.quick_tests.c.id == handle.id
                )
            ).scalar()

    first = beat()
    deadline = time.time() + 60
    while beat() == first and time.time() < deadline:
        handle._done.wait(0.05)
    assert beat() != first
    handle.cancel()
