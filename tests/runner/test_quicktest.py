"""Real quick tests on tiny data: a worker process trains the modules with TensorFlow."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest
from runner_helpers import generated_code, model_config

from towerwidgets.runner import LocalBackend, run_quick_test, start_quick_test

pytestmark = pytest.mark.slow

STAGES = ["validate", "prepare data", "transform", "train", "evaluate", "export", "done"]


def _start(store, home, fc, mc, data, rating_column=None, **kw):
    code = generated_code(fc, mc, rating_column)
    return start_quick_test(
        fc, mc, data, rating_column=rating_column, store=store, home=home, code=code, **kw
    )


def _wait_for(handle, predicate, timeout=120):
    for event in handle.events(timeout=timeout):
        if predicate(event):
            return event
    raise AssertionError(f"never happened; record: {handle.record!r}")


def test_retrieval_quick_test_streams_every_stage_and_records_results(
    store, tmp_path, tiny_data, feature_config
):
    mc = model_config("retrieval", epochs=2)
    # Its own home: the session's shared one may hold this transform already, from
    # whichever test ran first on this xdist worker (the cache-miss facts below).
    handle = _start(store, tmp_path / "home", feature_config, mc, tiny_data)
    events = list(handle.events(timeout=180))
    record = handle.wait()
    assert record.status == "completed", record.error_message

    stages = [e.stage for e in events if e.kind == "stage"]
    assert stages == STAGES[:-1]  # "done" is the final status event
    assert events[-1].kind == "status" and events[-1].status == "completed"
    epochs = [e for e in events if e.kind == "epoch"]
    assert [e.epoch for e in epochs] == [1, 2]
    percents = [e.progress_percent for e in events if e.progress_percent is not None]
    assert percents == sorted(percents) or max(percents) == 100
    assert events.index(epochs[0]) > stages.index("train")

    stored = store.quick_tests.get(record.id)
    assert stored.status == "completed" and stored.current_stage == "done"
    assert stored.progress_percent == 100
    assert [s["stage"] for s in stored.stage_history] == STAGES
    assert list(stored.metrics["epoch"]) == [1, 2]
    for column in ("loss", "val_loss", "recall_at_10", "recall_at_50", "recall_at_100"):
        assert column in stored.metrics.columns
    assert stored.recall_at_100 == pytest.approx(stored.metrics["recall_at_100"].iloc[-1])
    chance_at_10 = 10 / tiny_data["product_id"].nunique()
    assert stored.recall_at_10 > 2 * chance_at_10
    assert stored.recall_at_10 <= stored.recall_at_50 <= stored.recall_at_100
    assert stored.rmse is None and stored.mae is None
    assert stored.loss is not None and stored.duration_seconds is not None
    assert stored.cost_usd == 0.0 and stored.estimated_duration_seconds
    assert stored.seed == 42 and stored.split["train_rows"] + stored.split["eval_rows"] == 3000
    assert stored.vocabulary_stats["columns"]["buyer_id"]["vocabulary_size"] > 0
    assert stored.vocabulary_stats["transform_cache_hit"] is False
    assert stored.trainer_code and stored.transform_code
    assert stored.feature_config_snapshot["name"] == "tiny features"
    assert os.path.isfile(os.path.join(stored.export_path, "saved_model.pb"))
    assert stored.owner_pid == os.getpid() and stored.worker_pid


def test_changing_only_the_model_config_reuses_the_transform(
    store, home, tiny_data, feature_config
):
    first = _start(store, home, feature_config, model_config(epochs=1), tiny_data).wait(180)
    assert first.status == "completed", first.error_message
    other = model_config(epochs=1, learning_rate=0.05, name="another model")
    second = _start(store, home, feature_config, other, tiny_data)
    events = list(second.events(timeout=180))
    assert second.record.status == "completed", second.record.error_message
    info = {k: v for e in events if e.kind == "info" for k, v in e.metrics.items()}
    assert info["transform_cache_hit"] is True and info["transform_seconds"] == 0.0
    assert store.quick_tests.get(second.id).vocabulary_stats["transform_cache_hit"] is True


def test_ranking_quick_test_reports_rmse_and_mae(store, home, tiny_data, feature_config):
    mc = model_config("ranking", epochs=2)
    record = run_quick_test(
        feature_config,
        mc,
        tiny_data,
        rating_column="rating",
        store=store,
        home=home,
        code=generated_code(feature_config, mc, "rating"),
    )
    assert record.status == "completed", record.error_message
    assert record.rmse is not None and 0 < record.rmse < 3
    assert record.mae is not None and 0 < record.mae <= record.rmse
    assert record.recall_at_100 is None
    assert list(store.quick_tests.get(record.id).metrics["rmse"].notna()) == [True, True]
    # the Keras-like face of the record: History rows, an exact summary, the loaded model
    assert len(record.history) == 2 and {"epoch", "loss", "rmse"} <= set(record.history)
    assert set(record.history) <= set(record.metrics)
    lines: list[str] = []
    record.summary(print_fn=lines.append)
    assert "Total params:" in lines[0] and "≈" not in lines[0], lines[0]
    loaded = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from towerwidgets.config import QuickTest; "
            "m = QuickTest.model_validate_json(sys.stdin.read()).load_model(); "
            "print(sorted(m.signatures))",
        ],
        input=record.model_dump_json(),
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "TF_USE_LEGACY_KERAS": "1"},
    )
    assert "serving_default" in loaded.stdout, loaded.stderr[-2000:]


def test_multitask_quick_test_reports_both_kinds_of_metrics(store, home, tiny_data, feature_config):
    mc = model_config("multitask", epochs=1)
    record = run_quick_test(
        feature_config,
        mc,
        tiny_data,
        rating_column="rating",
        store=store,
        home=home,
        code=generated_code(feature_config, mc, "rating"),
    )
    assert record.status == "completed", record.error_message
    assert record.rmse is not None and record.recall_at_100 is not None


def test_unseen_categories_in_eval_still_run(store, home, tiny_data, feature_config):
    data = tiny_data.copy()
    late = data.index[-300:]
    data.loc[late, "category"] = "brand-new-category"
    data.loc[late[:100], "buyer_id"] = [f"new-buyer-{i}" for i in range(100)]
    record = run_quick_test(
        feature_config,
        model_config(epochs=1),
        data,
        store=store,
        home=home,
        code=generated_code(feature_config, model_config(epochs=1)),
        split="temporal",
    )
    assert record.status == "completed", record.error_message
    stats = record.vocabulary_stats["columns"]
    assert stats["category"]["eval_oov_rate"] > 0.4
    assert stats["buyer_id"]["eval_oov_rate"] > 0.1
    assert any("never seen in training" in w for w in record.warnings)


def test_nan_loss_fails_and_names_the_epoch(store, home, tiny_data, feature_config):
    mc = model_config(epochs=3)
    record = run_quick_test(
        feature_config,
        mc,
        tiny_data,
        store=store,
        home=home,
        learning_rate=1e38,
        code=generated_code(feature_config, mc),
    )
    assert record.status == "failed"
    assert record.error_stage == "train"
    assert "NaN" in record.error_message and "epoch 1" in record.error_message
    assert store.quick_tests.get(record.id).status == "failed"


def test_cancel_stops_the_worker_within_two_seconds(store, home, tiny_data, feature_config):
    mc = model_config(epochs=200)
    handle = _start(store, home, feature_config, mc, tiny_data)
    _wait_for(handle, lambda e: e.kind == "epoch")
    pid = handle.record.worker_pid
    started = time.time()
    record = handle.cancel()
    assert time.time() - started < 2.5
    assert record.status == "cancelled"
    assert store.quick_tests.get(handle.id).status == "cancelled"
    assert len(store.quick_tests.get(handle.id).epoch_metrics) >= 1  # kept what it had
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


def test_cancel_from_the_store_stops_the_run(store, home, tiny_data, feature_config):
    handle = _start(store, home, feature_config, model_config(epochs=200), tiny_data)
    _wait_for(handle, lambda e: e.kind == "epoch")
    store.quick_tests.cancel(handle.id)
    record = handle.wait(10)
    assert record.status == "cancelled"


def test_a_killed_worker_fails_the_test_with_stage_and_reason(
    store, home, tiny_data, feature_config
):
    handle = _start(store, home, feature_config, model_config(epochs=200), tiny_data)
    _wait_for(handle, lambda e: e.kind == "epoch")
    os.kill(handle.record.worker_pid, signal.SIGKILL)
    record = handle.wait(15)
    assert record.status == "failed"
    assert record.error_stage in ("train", "evaluate")
    assert "SIGKILL" in record.error_message and "memory" in record.error_message
    stored = store.quick_tests.get(handle.id)
    assert stored.status == "failed" and stored.epoch_metrics  # earlier epochs kept


def test_validation_failures_end_before_any_training(store, home, tiny_data, feature_config):
    backend = LocalBackend(keep_warm=False)
    mc = model_config("ranking")
    text = tiny_data.assign(rating="five")
    record = run_quick_test(
        feature_config,
        mc,
        text,
        rating_column="rating",
        store=store,
        home=home,
        backend=backend,
        code=generated_code(feature_config, mc, "rating"),
    )
    assert record.status == "failed" and record.error_stage == "validate"
    assert "'rating' must be numeric" in record.error_message
    assert record.worker_pid is None and not record.epoch_metrics

    empty = tiny_data.iloc[0:0]
    record = run_quick_test(
        feature_config,
        model_config(),
        empty,
        store=store,
        home=home,
        backend=backend,
        code=generated_code(feature_config, model_config()),
    )
    assert record.status == "failed" and record.error_stage == "validate"
    assert "no rows" in record.error_message
    assert store.quick_tests.get(record.id).status == "failed"


def test_a_missing_data_file_fails_cleanly(store, home, feature_config, tmp_path):
    record = run_quick_test(
        feature_config,
        model_config(),
        tmp_path / "nope.csv",
        store=store,
        home=home,
        backend=LocalBackend(keep_warm=False),
        code=generated_code(feature_config, model_config()),
    )
    assert record.status == "failed" and "does not exist" in record.error_message


def test_a_dead_kernel_leaves_no_test_stuck_in_running(tmp_path, home):
    import subprocess
    import sys
    from pathlib import Path

    from towerwidgets.store import Store

    script = Path(__file__).parent / "scripts" / "dying_kernel.py"
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    db = tmp_path / "kernel.db"
    out = subprocess.run(
        [sys.executable, str(script), str(db), str(home)],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    test_id, worker_pid = (int(x) for x in out.stdout.split())
    deadline = time.time() + 15  # the orphaned worker notices the closed pipe and exits
    while time.time() < deadline:
        try:
            os.kill(worker_pid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.2)
    else:
        os.kill(worker_pid, signal.SIGKILL)
        raise AssertionError("the orphaned worker kept running")
    record = Store(db).quick_tests.get(test_id)
    assert record.status == "failed" and "Interrupted" in record.error_message
    assert record.error_stage in ("train", "evaluate") and record.epoch_metrics
