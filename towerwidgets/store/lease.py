"""Leases on running quick tests: who runs a test, and whether it still does.

A store may be shared (PostgreSQL, one SQLite file on a shared disk, containers with their
own PID namespaces), so a PID means nothing outside the host that wrote it. A running test
records its owner's host identity and a heartbeat the owner refreshes every
``HEARTBEAT_SECONDS``. Recovery fails a test only when its heartbeat is older than
``LEASE_SECONDS`` — or at once when it belongs to this very host (same kernel boot, same PID
namespace) and neither its kernel nor its worker process exists any more. Only the owning
host ever signals a process. Pure standard library; the rules are plain functions so tests
need neither threads nor clocks.
"""

from __future__ import annotations

import functools
import os
import socket
from collections.abc import Callable
from datetime import datetime, timedelta

__all__ = [
    "HEARTBEAT_SECONDS",
    "LEASE_SECONDS",
    "host_identity",
    "pid_alive",
    "recovery_verdict",
]

HEARTBEAT_SECONDS = 10.0
# A heartbeat older than this means the owner is gone (several missed beats, plus room for
# clock differences between hosts and a busy database).
LEASE_SECONDS = 90.0


def _read(path: str) -> str:
    try:
        with open(path) as handle:
            return handle.read().strip()
    except OSError:
        return ""


@functools.lru_cache(maxsize=1)
def host_identity() -> str:
    """``hostname/boot-id/pid-namespace``: processes sharing it see the same PIDs.

    The boot id tells machines (and reboots) apart; the PID namespace tells containers on
    one kernel apart. Where /proc is missing the hostname alone is used.
    """
    boot = _read("/proc/sys/kernel/random/boot_id")[:8]
    try:
        namespace = os.readlink("/proc/self/ns/pid").strip("pid:[]")
    except OSError:
        namespace = ""
    return "/".join(part for part in (socket.gethostname(), boot, namespace) if part)[:200]


def pid_alive(pid: int | None) -> bool:
    """Whether a process with this PID exists on this host (never signals it)."""
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    except OSError:
        return False
    return True


def recovery_verdict(
    *,
    host_id: str | None,
    owner_pid: int | None,
    worker_pid: int | None,
    last_seen: datetime | None,
    now: datetime,
    this_host: str,
    alive: Callable[[int | None], bool] = pid_alive,
    lease_seconds: float | None = None,
) -> str | None:
    """Why a pending/running test is interrupted, or None while it may still be running.

    ``last_seen`` is the latest heartbeat (naive UTC, as stored). A test of this host whose
    processes are all gone is interrupted at once; any other only once its lease lapsed.
    """
    lease = LEASE_SECONDS if lease_seconds is None else lease_seconds
    if host_id and host_id == this_host and not alive(owner_pid) and not alive(worker_pid):
        return "the process running it ended"
    if last_seen is None:
        return None  # never seen at all: cannot judge; its owner writes a heartbeat on create
    if now - last_seen > timedelta(seconds=lease):
        where = f" on {host_id.split('/')[0]}" if host_id else ""
        return f"its owner{where} sent no heartbeat for over {int(lease)} s"
    return None
