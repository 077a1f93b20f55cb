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


def _quick_test(store, home, fc, data, backend):
    mc = model_config("retrieval", epochs=1)
    handle = start_quick_test(
        fc, mc, data, store=store, home=home, backend=backend, code=generated_code(fc, mc)
    )
    record = handle.wait(300)
    assert record.status == "completed", record.error_message
    return handle, record


def test_the_next_worker_starts_with_a_test_and_serves_the_one_after_it(
    store, home, tiny_data, feature_config, plenty_of_memory
):
    backend = LocalBackend()
    first, first_record = _quick_test(store, home, feature_config, tiny_data, backend)
    next_pid = first.facts.get("next_worker_pid")
    assert next_pid and next_pid != first_record.worker_pid  # started at submit, not at end
    assert LocalBackend.spare_pid() == next_pid  # kept, not replaced when the test ended
    assert "--warm-nice" in LocalBackend._spare.args  # imports beside the test, niced
    assert backend.wait_until_warm(300)  # TensorFlow imported (an event, not a sleep)

    second, second_record = _quick_test(store, home, feature_config, tiny_data, backend)
    assert second_record.worker_pid == next_pid
    assert second.facts["worker_warm"] is True  # the job arrived after the imports
    assert second.facts["worker_import_seconds"] > 0
    assert second.facts["next_worker_pid"] not in (None, next_pid)  # and the next one again


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
