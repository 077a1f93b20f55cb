"""The spare worker: started when a test starts, so a test right after finds it warm.

No timing: every wait is on an event (the spare's ``ready`` line, a process exit), and
"warm" is the worker's own fact that no job was waiting when its imports ended.
"""

from __future__ import annotations

import pytest
from runner_helpers import generated_code, model_config

from towerwidgets.runner import backends, start_quick_test
from towerwidgets.runner.backends import LocalBackend

pytestmark = pytest.mark.slow


@pytest.fixture
def plenty_of_memory(monkeypatch):
    monkeypatch.setattr(backends, "available_memory_mb", lambda: 64_000.0)
    LocalBackend.shutdown()
    yield
    LocalBackend.shutdown()


def _quick_test(store, home, fc, data, backend, mc=None, rating_column=None):
    mc = mc or model_config("retrieval", epochs=1)
    handle = start_quick_test(
        fc,
        mc,
        data,
        rating_column=rating_column,
        store=store,
        home=home,
        backend=backend,
        code=generated_code(fc, mc, rating_column),
    )
    record = handle.wait(300)
    assert record.status == "completed", record.error_message
    return handle, record


def test_the_worker_that_finished_a_test_serves_the_next_one(
    store, home, tiny_data, feature_config, plenty_of_memory
):
    backend = LocalBackend()
    first, first_record = _quick_test(store, home, feature_config, tiny_data, backend)
    assert first.facts.get("worker_reused") is False
    # Nothing imported TensorFlow beside the test: its own worker serves the next one.
    assert first.facts.get("next_worker_pid") == first_record.worker_pid
    assert LocalBackend.spare_pid() == first_record.worker_pid
    assert "--reusable" in LocalBackend._spare.args
    assert backend.wait_until_warm(300)  # it tidied up and said "ready" (an event)
    first._run.cancel()  # a late cancel of the finished run leaves the worker alone
    assert LocalBackend.spare_pid() == first_record.worker_pid

    second, second_record = _quick_test(store, home, feature_config, tiny_data, backend)
    assert second_record.worker_pid == first_record.worker_pid
    assert second.facts["worker_warm"] is True and second.facts["worker_reused"] is True
    assert second.facts["transform_cache_hit"] is True
    # Nothing of the first job leaks into the second: the same seeded job gives the
    # very same losses and metrics as it did in a fresh process.
    for column in ("loss", "val_loss", "recall_at_10", "recall_at_100"):
        assert list(second_record.metrics[column]) == list(first_record.metrics[column])
    # Each job reports its own peak memory, not the worker's largest so far.
    assert second.facts["worker_peak_rss_mb"] > 0


def test_a_worker_whose_test_failed_is_not_reused_and_a_fresh_one_is_started(
    store, home, tiny_data, feature_config, plenty_of_memory
):
    backend = LocalBackend()
    mc = model_config("retrieval", epochs=1)
    code = generated_code(feature_config, mc)
    code = code if isinstance(code, dict) else vars(code)
    broken = {
        "transform_code": code["transform_code"],
        "trainer_code": code["trainer_code"] + "\nraise RuntimeError('boom')\n",
    }
    failed = start_quick_test(
        feature_config, mc, tiny_data, store=store, home=home, backend=backend, code=broken
    ).wait(300)
    assert failed.status == "failed" and "boom" in failed.error_message
    # The failed worker exited; the backend started the next one when it did.
    assert backend.wait_until_warm(300)
    assert LocalBackend.spare_pid() not in (None, failed.worker_pid)
    handle, record = _quick_test(store, home, feature_config, tiny_data, backend)
    assert record.worker_pid != failed.worker_pid
    assert handle.facts["worker_warm"] is True and handle.facts["worker_reused"] is False


def test_a_released_worker_beyond_its_job_bound_exits(
    store, home, tiny_data, feature_config, plenty_of_memory, monkeypatch
):
    monkeypatch.setenv("TOWERWIDGETS_WORKER_MAX_JOBS", "1")
    backend = LocalBackend()
    _, record = _quick_test(store, home, feature_config, tiny_data, backend)
    # One job was its bound: it exited instead of staying, and a fresh spare replaced it.
    assert backend.wait_until_warm(300)
    assert LocalBackend.spare_pid() not in (None, record.worker_pid)


def test_at_most_one_spare(plenty_of_memory):
    backend = LocalBackend()
    backend.prewarm()
    pid = LocalBackend.spare_pid()
    assert pid is not None
    backend.prewarm()
    LocalBackend().prewarm()  # another backend shares the kernel's one spare
    assert LocalBackend.spare_pid() == pid


def test_no_spare_when_memory_is_low(store, home, tiny_data, feature_config, monkeypatch):
    LocalBackend.shutdown()
    monkeypatch.setattr(backends, "available_memory_mb", lambda: 500.0)
    backend = LocalBackend(min_available_mb=3072)
    backend.prewarm()
    assert LocalBackend.spare_pid() is None
    assert "low memory" in backend.skipped_prewarm

    handle, _ = _quick_test(store, home, feature_config, tiny_data, backend)
    assert handle.facts["worker_warm"] is False  # spawned for the job, which was waiting
    assert "next_worker_pid" not in handle.facts and LocalBackend.spare_pid() is None


def test_an_idle_spare_exits_and_is_replaced(plenty_of_memory):
    backend = LocalBackend(idle_timeout=0.5)
    backend.prewarm()
    spare = LocalBackend._spare
    assert spare is not None
    assert spare.wait(300) == 0  # nobody took it: it left on its own after the timeout
    assert LocalBackend.spare_pid() is None
    backend.prewarm()
    assert LocalBackend.spare_pid() not in (None, spare.pid)


def test_available_memory_reads_proc_meminfo():
    value = backends.available_memory_mb()
    assert value is None or value > 0


def test_a_reused_worker_trains_a_seeded_ranking_model_as_a_fresh_one_does(
    store, home, tiny_data, feature_config, plenty_of_memory
):
    """After a retrieval job in the same worker, a ranking job (towers with dropout, so
    the random state matters) gives exactly what it gives in a worker of its own."""
    from towerwidgets.config import ModelConfig

    mc = ModelConfig.from_preset(
        "regularized", model_type="ranking", name="tiny dropout", batch_size=256, epochs=2
    )

    def ranking(backend):
        return _quick_test(store, home, feature_config, tiny_data, backend, mc, "rating")

    _, fresh = ranking(LocalBackend(keep_warm=False))
    backend = LocalBackend()
    _quick_test(store, home, feature_config, tiny_data, backend)  # retrieval first
    handle, reused = ranking(backend)
    assert handle.facts["worker_reused"] is True
    for column in ("loss", "val_loss", "rmse", "mae"):
        assert list(reused.metrics[column]) == list(fresh.metrics[column]), column
