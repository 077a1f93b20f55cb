"""Leases, not PIDs: recovery never fails a live run of another host sharing the store,
and nothing signals a PID another host recorded. Two hosts are two Store objects whose
host identity differs (what two machines or two containers see), on one SQLite file and
on a PostgreSQL server the test starts."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from datetime import datetime, timedelta, timezone

import pg_server
import pytest

from towerwidgets import FeatureConfig, ModelConfig, QuickTest, Store
from towerwidgets.config import Feature
from towerwidgets.store import lease, schema

NOW = datetime(2026, 12, 1, 8, 0, 0)
DEAD_PID = 2**22 + 7  # above Linux's pid_max default: no such process here


def verdict(**overrides):
    args = {
        "host_id": "b",
        "owner_pid": DEAD_PID,
        "worker_pid": None,
        "last_seen": NOW,
        "now": NOW,
        "this_host": "a",
        "alive": lambda pid: False,
        "lease_seconds": 90,
    }
    return lease.recovery_verdict(**{**args, **overrides})


def test_a_foreign_run_is_judged_by_its_heartbeat_only():
    # Its PIDs mean nothing here (dead or alive), only the heartbeat's age does.
    assert verdict() is None
    assert verdict(alive=lambda pid: True) is None
    assert verdict(now=NOW + timedelta(seconds=90)) is None
    why = verdict(now=NOW + timedelta(seconds=91))
    assert why is not None and "no heartbeat" in why


def test_a_run_of_this_host_with_no_process_left_is_failed_at_once():
    assert "ended" in verdict(host_id="a")
    assert verdict(host_id="a", alive=lambda pid: pid == 123, worker_pid=123) is None
    # A live owner with a lapsed lease (a suspended laptop) is judged by the lease.
    assert verdict(host_id="a", alive=lambda pid: True, now=NOW + timedelta(hours=1))


def test_host_identity_is_stable_and_names_the_machine():
    import socket

    assert lease.host_identity() == lease.host_identity()
    assert lease.host_identity().startswith(socket.gethostname()[:50])


# ── two hosts on one store ──────────────────────────────────────────────────────────────


def _configs(store):
    fc = store.feature_configs.create(
        FeatureConfig(
            name="F",
            buyer_id_column="b",
            product_id_column="p",
            buyer_features=[Feature(column="b")],
            product_features=[Feature(column="p")],
        )
    )
    mc = store.model_configs.create(ModelConfig.from_preset("minimal", name="M"))
    return fc, mc


def _running_test(store, fc, mc, *, worker_pid=None):
    test = store.quick_tests.create(
        QuickTest(
            feature_config_id=fc.id,
            model_config_id=mc.id,
            feature_config_snapshot=fc.to_dict(),
            model_config_snapshot=mc.to_dict(),
            owner_pid=DEAD_PID,  # a PID of host B: not a process of host A
            worker_pid=worker_pid,
        )
    )
    test.status = "running"
    test.current_stage = "train"
    return store.quick_tests.update(test)


# A process that records who sends it SIGTERM (other test runs on a shared machine may
# signal a reused PID: only our own signals count). SIGUSR1 asks for the list so far.
RECORDER = r"""
import signal
wanted = {signal.SIGTERM, signal.SIGUSR1}
signal.pthread_sigmask(signal.SIG_BLOCK, wanted)
print("ready", flush=True)
while True:
    info = signal.sigwaitinfo(wanted)
    if info.si_signo == signal.SIGTERM:
        print("TERM", info.si_pid, flush=True)
        continue
    while signal.SIGTERM in signal.sigpending():
        print("TERM", signal.sigwaitinfo({signal.SIGTERM}).si_pid, flush=True)
    print("mark", flush=True)
"""


class SignalRecorder:
    def __init__(self):
        self.process = subprocess.Popen(
            [sys.executable, "-c", RECORDER], stdout=subprocess.PIPE, text=True
        )
        assert self.process.stdout.readline().strip() == "ready"
        self.pid = self.process.pid

    def terms_from_us(self) -> int:
        """SIGTERMs this test process sent since the last call."""
        os.kill(self.pid, signal.SIGUSR1)
        count = 0
        for line in self.process.stdout:
            if line.strip() == "mark":
                return count
            count += line.split() == ["TERM", str(os.getpid())]
        raise AssertionError("the recorder died")

    def close(self):
        self.process.kill()
        self.process.wait()


def two_hosts_share_a_store(url, monkeypatch):
    """Host B runs a test; host A opens the store, lists, cancels nothing and recovers
    nothing while B's lease holds; once it lapses A fails it as interrupted."""
    monkeypatch.setattr(lease, "host_identity", lambda: "host-b/0000/1")
    host_b = Store(url)
    fc, mc = _configs(host_b)
    worker = SignalRecorder()  # on host A, B's worker PID is some unrelated process
    try:
        test = _running_test(host_b, fc, mc, worker_pid=worker.pid)
        other = _running_test(host_b, fc, mc, worker_pid=worker.pid)
        assert test.host_id == other.host_id == "host-b/0000/1"

        monkeypatch.setattr(lease, "host_identity", lambda: "host-a/ffff/2")
        host_a = Store(url)  # recovery runs on open, as `towerwidgets configs list` does
        assert host_a.quick_tests.get(test.id).status == "running"
        assert host_a.quick_tests.mark_interrupted() == []

        # A cancel from host A marks the record; the PID that B recorded is not signalled.
        assert host_a.quick_tests.cancel(other.id).status == "cancelled"
        assert worker.terms_from_us() == 0
        # A test of host A's own is (the recorder does hear that one).
        own = _running_test(host_a, fc, mc, worker_pid=worker.pid)
        host_a.quick_tests.cancel(own.id)
        assert worker.terms_from_us() == 1

        # B's heartbeat keeps the lease; its last one ages past the lease on A's clock.
        assert host_b.quick_tests.heartbeat(test.id) == "running"
        later = datetime.now(timezone.utc) + timedelta(seconds=lease.LEASE_SECONDS - 5)
        assert host_a.quick_tests.mark_interrupted(now=later) == []
        lapsed = datetime.now(timezone.utc) + timedelta(seconds=lease.LEASE_SECONDS + 5)
        assert host_a.quick_tests.mark_interrupted(now=lapsed) == [test.id]
        failed = host_a.quick_tests.get(test.id)
        assert failed.status == "failed" and failed.error_stage == "train"
        assert "Interrupted" in failed.error_message and "host-b" in failed.error_message
        # B learns it on its next beat (and its handle then stops its worker).
        assert host_b.quick_tests.heartbeat(test.id) == "failed"
        host_a.close()
        host_b.close()
    finally:
        worker.close()


def test_two_hosts_on_one_sqlite_file(tmp_path, monkeypatch):
    two_hosts_share_a_store(f"sqlite:///{tmp_path / 'shared.db'}", monkeypatch)


@pytest.fixture(scope="module")
def postgres_url():
    if pg_server.binaries() is None:
        pytest.skip(
            "PostgreSQL binaries not installed (Debian package 'postgresql'; `make postgresql`)"
        )
    pytest.importorskip("psycopg", reason="the psycopg driver is in the test extra")
    with pg_server.server() as url:
        yield url


def test_two_hosts_on_one_postgresql_server(postgres_url, monkeypatch):
    two_hosts_share_a_store(postgres_url, monkeypatch)


def test_the_store_api_round_trips_on_postgresql(postgres_url):
    with Store(postgres_url) as store:
        fc, mc = _configs(store)
        test = _running_test(store, fc, mc)
        store.quick_tests.append_epoch(test.id, {"epoch": 1, "loss": 0.5})
        assert store.quick_tests.get(test.id).metrics["loss"].tolist() == [0.5]
        assert store.model_configs.delete(mc.id, force=True) == 1
        assert store.schema_version == 3
        # A sequence never hands a deleted id out again (SQLite needs AUTOINCREMENT for it).
        assert _configs(store)[1].id > mc.id


def test_a_row_from_before_leases_is_judged_by_its_last_update(tmp_path):
    with Store(tmp_path / "s.db") as store:
        fc, mc = _configs(store)
        test = _running_test(store, fc, mc)
        with store.transaction("forget the lease, as schema 1 rows have none") as conn:
            conn.execute(
                schema.quick_tests.update()
                .where(schema.quick_tests.c.id == test.id)
                .values(host_id=None, heartbeat_at=None)
            )
        assert store.quick_tests.mark_interrupted() == []  # updated a moment ago
        later = datetime.now(timezone.utc) + timedelta(seconds=lease.LEASE_SECONDS + 5)
        assert store.quick_tests.mark_interrupted(now=later) == [test.id]
