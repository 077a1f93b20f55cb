"""Fault injection on real runs: a full disk at export, a kernel killed mid-run.
(A worker killed mid-epoch by SIGKILL: test_quicktest.py.)"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from runner_helpers import generated_code, model_config

from towerwidgets.runner import LocalBackend, run_quick_test
from towerwidgets.store import Store, lease, schema

pytestmark = pytest.mark.slow


@pytest.fixture
def full_disk(tmp_path):
    """A 64 KiB tmpfs: anything larger written there fails with ENOSPC."""
    mount = tmp_path / "tiny-disk"
    mount.mkdir()
    out = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(mount)],
        capture_output=True,
        text=True,
    )
    if out.returncode:
        pytest.skip(f"cannot mount a tmpfs here (needs root): {out.stderr.strip()}")
    yield mount
    subprocess.run(["umount", "-l", str(mount)], check=False)


class ExportTo(LocalBackend):
    """The local backend, exporting to another folder (the fault's injection point)."""

    def __init__(self, serving_model_dir: Path):
        super().__init__(keep_warm=False)
        self.serving_model_dir = serving_model_dir

    def submit(self, job, job_path, on_event):
        job = {**job, "serving_model_dir": str(self.serving_model_dir)}
        Path(job_path).write_text(json.dumps(job))
        return super().submit(job, job_path, on_event)


def test_a_full_disk_at_export_fails_the_test_with_that_reason(
    store, tmp_path, tiny_data, feature_config, full_disk
):
    fc = store.feature_configs.create(feature_config)
    mc = store.model_configs.create(model_config(epochs=1))
    record = run_quick_test(
        fc,
        mc,
        tiny_data,
        store=store,
        home=tmp_path / "home",  # its own transform cache: other tests expect a cold one
        backend=ExportTo(full_disk / "model"),
        code=generated_code(fc, mc),
    )
    assert record.status == "failed" and record.error_stage == "export", record.error_message
    assert "No space left on device" in record.error_message
    stored = store.quick_tests.get(record.id)  # the row is intact and says the same
    assert stored.status == "failed" and stored.error_message == record.error_message
    assert len(stored.epoch_metrics) == 1 and stored.trainer_code
    assert store.model_configs.get(mc.id).name == mc.name


def test_a_killed_kernel_is_failed_when_its_lease_lapses_not_before(tmp_path, monkeypatch):
    script = Path(__file__).parent / "scripts" / "dying_kernel.py"
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    db = tmp_path / "kernel.db"
    out = subprocess.run(
        [sys.executable, str(script), str(db), str(tmp_path / "home")],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    test_id, worker_pid = (int(x) for x in out.stdout.split())
    deadline = time.time() + 30  # the orphaned worker notices the closed pipe and exits
    while time.time() < deadline:
        try:
            os.kill(worker_pid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.2)
    else:
        os.kill(worker_pid, signal.SIGKILL)
        raise AssertionError("the orphaned worker kept running")

    # Seen from another host, the dead kernel's test is alive until its lease lapses...
    monkeypatch.setattr(lease, "host_identity", lambda: "another-host/0/0")
    other = Store(db, recover=False)
    with other.transaction("read") as conn:
        beat = conn.execute(
            sa.select(schema.quick_tests.c.heartbeat_at).where(schema.quick_tests.c.id == test_id)
        ).scalar()
    lease_time = timedelta(seconds=lease.LEASE_SECONDS)
    assert other.quick_tests.mark_interrupted(now=beat + lease_time - timedelta(seconds=1)) == []
    assert other.quick_tests.get(test_id).status == "running"
    # ... and then failed as interrupted, keeping the epochs it finished.
    assert other.quick_tests.mark_interrupted(now=beat + lease_time + timedelta(seconds=1)) == [
        test_id
    ]
    record = other.quick_tests.get(test_id)
    assert record.status == "failed" and "Interrupted" in record.error_message
    assert "no heartbeat" in record.error_message and record.epoch_metrics
    other.close()
