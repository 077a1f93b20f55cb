"""Where the heavy stages run: a local worker process, or Vertex AI Pipelines (vertex.py).

A backend takes a job (a JSON file naming the generated modules, the prepared splits, the
transform cache and the export directory) and returns a :class:`Run` that streams the same
events (dicts, see ``events.py``) to a callback and can be waited on or cancelled.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import signal
import subprocess
import sys
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from towerwidgets.runner.events import decode_line

if TYPE_CHECKING:  # re-exported lazily (see __getattr__ at the end): no cloud SDK on import
    from towerwidgets.runner.vertex import VertexBackend, VertexRun

__all__ = ["Backend", "LocalBackend", "LocalRun", "Run", "VertexBackend", "VertexRun"]

EventCallback = Callable[[dict[str, Any]], None]
CANCEL_GRACE_SECONDS = 1.0


class Run(ABC):
    """One submitted job."""

    pid: int | None = None

    @abstractmethod
    def wait(self, timeout: float | None = None) -> int | None:
        """The exit code (negative: killed by that signal), or None if still running
        (a local worker that finished and closed its event stream counts as exited, 0)."""

    @abstractmethod
    def cancel(self) -> None:
        """Stop the job as fast as possible (local: within 2 seconds)."""

    @abstractmethod
    def failure_reason(self, stage: str) -> str:
        """A readable reason for an exit without an error event."""


class Backend(ABC):
    """Runs the transform/train/evaluate/export stages of a quick test."""

    name = "abstract"
    machine = "local"

    @abstractmethod
    def submit(self, job: dict[str, Any], job_path: Path, on_event: EventCallback) -> Run:
        """Start the job; events arrive on ``on_event`` from a background thread."""

    def prewarm(self) -> None:  # noqa: B027 - optional hook
        """Get ready for the next job (a local backend starts a worker early)."""

    def check(self) -> None:  # noqa: B027 - optional hook
        """Raise a clear error when this backend cannot run, before any work is sent
        (a remote backend checks its project, bucket and credentials)."""


# ── local ───────────────────────────────────────────────────────────────────────────────


def _worker_env() -> dict[str, str]:
    env = dict(os.environ)
    env["TF_USE_LEGACY_KERAS"] = "1"
    env["PYTHONUNBUFFERED"] = "1"
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    # The worker imports this very package, also from a source checkout.
    root = str(Path(__file__).resolve().parents[2])
    env["PYTHONPATH"] = root + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    return env


def available_memory_mb() -> float | None:
    """``MemAvailable`` from /proc/meminfo in MB (None where there is no such file)."""
    try:
        with open("/proc/meminfo") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) / 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def _spawn_worker(
    log_path: Path | None = None,
    idle_timeout: float | None = None,
    warm_nice: int = 0,
    reusable: bool = False,
) -> subprocess.Popen:
    log = open(log_path, "ab") if log_path else subprocess.DEVNULL
    args = [sys.executable, "-m", "towerwidgets.runner.worker"]
    if idle_timeout is not None:
        args += ["--idle-timeout", str(idle_timeout)]
    if warm_nice:
        args += ["--warm-nice", str(warm_nice)]
    if reusable:
        args.append("--reusable")
    try:
        return subprocess.Popen(
            args,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=log,
            env=_worker_env(),
            start_new_session=True,  # its own process group: cancel kills it and its children
            close_fds=True,
        )
    finally:
        if log_path:
            log.close()


class LocalRun(Run):
    def __init__(
        self,
        process: subprocess.Popen,
        on_event: EventCallback,
        log_path: Path,
        on_release: Callable[[subprocess.Popen], None] | None = None,
        on_exit: Callable[[], None] | None = None,
    ):
        self.process = process
        self.pid = process.pid
        self.log_path = log_path
        self.next_worker_pid: int | None = None  # the worker that will serve the next test
        self._on_event = on_event
        self._on_release = on_release
        self._on_exit = on_exit
        self._cancelled = False
        self._finished = False  # the worker reported its last stage, "done"
        self._released = False  # ... and stayed for the next test: no longer this run's
        self._stream_closed = threading.Event()
        self._reader = threading.Thread(
            target=self._read, name=f"tw-worker-{self.pid}", daemon=True
        )
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            event = decode_line(line)
            if event is None:
                continue
            if event.get("kind") == "released" and self._finished:
                # The job is over and the worker stays: it serves the next test once it
                # has tidied up (its "ready", read here so one thread reads at a time).
                self._released = True
                self.process._tw_ready = False  # type: ignore[attr-defined]
                self.process._tw_reader = threading.current_thread()  # type: ignore[attr-defined]
                if self._on_release is not None:
                    with contextlib.suppress(Exception):
                        self._on_release(self.process)
                self._stream_closed.set()
                for rest in self.process.stdout:
                    ready = decode_line(rest)
                    if ready is not None and ready.get("kind") == "ready":
                        self.process._tw_ready = True  # type: ignore[attr-defined]
                        return
                break  # it exited while tidying up
            if event.get("kind") == "stage" and event.get("stage") == "done":
                self._finished = True
            with contextlib.suppress(Exception):
                self._on_event(event)
        self._stream_closed.set()
        self.process.wait()  # reap the worker once it has freed its memory
        if self._on_exit is not None:
            with contextlib.suppress(Exception):
                self._on_exit()

    def wait(self, timeout: float | None = None) -> int | None:
        # A worker that finished closes its event stream before it exits: the run is over
        # then, without waiting the ~0.1 s the process takes to free its memory.
        closed = self._stream_closed.wait(timeout)
        if closed and self._finished:
            return 0
        try:
            code = self.process.wait(timeout if closed else 0)
        except subprocess.TimeoutExpired:
            return None
        self._stream_closed.wait(5)  # deliver the last events before the caller looks
        return code

    def cancel(self) -> None:
        self._cancelled = True
        self.kill(grace=CANCEL_GRACE_SECONDS)

    def kill(self, grace: float = 0.0) -> None:
        if self._released or self.process.poll() is not None:
            return  # a released worker belongs to the next test now
        for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 1.0)):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.process.pid, sig)
            try:
                self.process.wait(wait)
                return
            except subprocess.TimeoutExpired:
                continue

    def failure_reason(self, stage: str) -> str:
        code = self.process.returncode
        if code is not None and code < 0:
            name = (
                signal.Signals(-code).name
                if -code in signal.Signals._value2member_map_
                else str(-code)
            )
            reason = f"The worker process was killed by {name} during the {stage!r} stage"
            if -code == signal.SIGKILL:
                reason += (
                    " (SIGKILL is what the out-of-memory killer sends: the data, vocabularies or "
                    "batch size may be too large for this machine's memory)"
                )
            return reason
        tail = ""
        with contextlib.suppress(OSError):
            lines = [ln for ln in self.log_path.read_text(errors="replace").splitlines() if ln]
            lines = [ln for ln in lines if not ln.startswith(("I0000", "W0000", "E0000"))]
            tail = " | ".join(lines[-3:])
        return (
            f"The worker process exited with code {code} during the {stage!r} stage"
            + (f": {tail}" if tail else "")
            + f" (log: {self.log_path})"
        )


class LocalBackend(Backend):
    """Runs the job in ``python -m towerwidgets.runner.worker`` on this machine.

    ``keep_warm`` keeps one worker with TensorFlow already imported. The first is started
    when a test is created (its import overlaps the kernel's validation); then the worker
    that finished a test stays for the next one (``--reusable``: it says ``released``,
    tidies up, says ``ready``), so the next test, even one started right after (a notebook
    loop, a sweep), skips the import, and nothing imports beside a running test. Bounded:
    at most one waiting worker per kernel, none kept while ``MemAvailable`` is below
    ``min_available_mb``, a worker leaves after its job bound or above its memory bound
    (``worker.py``) and is replaced, and a waiting worker nobody takes exits after
    ``idle_timeout`` seconds (or with the kernel).
    """

    name = "local"
    machine = "local"
    _lock = threading.Lock()
    _spare: subprocess.Popen | None = None

    def __init__(
        self,
        keep_warm: bool = True,
        idle_timeout: float = 600.0,
        min_available_mb: float = 3072.0,
        warm_nice: int = 10,
    ):
        self.keep_warm = keep_warm
        self.idle_timeout = idle_timeout
        self.min_available_mb = min_available_mb
        self.warm_nice = warm_nice
        self.skipped_prewarm = ""  # why the last prewarm started no spare ("" if it did)

    def prewarm(self, beside_a_test: bool = False) -> None:
        """Start the spare worker unless one is alive or memory is short (never blocks).
        ``beside_a_test``: a test is running, so the spare imports at ``warm_nice`` and
        does not slow that test down (measured: at normal priority it did, on 2 cores)."""
        if not self.keep_warm:
            return
        with LocalBackend._lock:
            spare = LocalBackend._spare
            if spare is not None and spare.poll() is None:
                self.skipped_prewarm = ""
                return
            available = available_memory_mb()
            if available is not None and available < self.min_available_mb:
                # A spare holds ~0.5 GB, a running test 1-2 GB more: don't push the machine
                # (or a colleague's job) into swap or the OOM killer for a faster start.
                self.skipped_prewarm = (
                    f"low memory: {available:.0f} MB available < {self.min_available_mb:.0f} MB"
                )
                LocalBackend._spare = None
                return
            self.skipped_prewarm = ""
            LocalBackend._spare = _spawn_worker(
                idle_timeout=self.idle_timeout,
                warm_nice=self.warm_nice if beside_a_test else 0,
                reusable=True,
            )

    def _memory_allows_a_spare(self) -> bool:
        if not self.keep_warm:
            return False
        available = available_memory_mb()
        return available is None or available >= self.min_available_mb

    def _keep_released(self, process: subprocess.Popen) -> None:
        """A worker that finished its test becomes the spare (it has TensorFlow imported
        and nothing imports beside the next test), unless one is there already or memory
        is short: then its stdin closes and it exits."""
        with LocalBackend._lock:
            spare = LocalBackend._spare
            if (spare is None or spare.poll() is not None) and self._memory_allows_a_spare():
                LocalBackend._spare = process
                return
        with contextlib.suppress(OSError, AttributeError):
            process.stdin.close()  # type: ignore[union-attr]

    def _after_exit(self) -> None:
        """A worker that ended without staying (a failure, a cancel, its bounds): start
        the next one now, so the next test still finds one warm."""
        with contextlib.suppress(Exception):
            self.prewarm()

    @classmethod
    def spare_pid(cls) -> int | None:
        """The pid of the live spare worker, if any."""
        with cls._lock:
            spare = cls._spare
        return spare.pid if spare is not None and spare.poll() is None else None

    def wait_until_warm(self, timeout: float = 60.0) -> bool:
        """Block until the spare worker has imported TensorFlow (False if none or timeout)."""
        import select

        with LocalBackend._lock:
            spare = LocalBackend._spare
        reader = getattr(spare, "_tw_reader", None)
        if reader is not None:  # a released worker tidying up: its run's reader waits
            reader.join(timeout)
            return bool(getattr(spare, "_tw_ready", False)) and spare.poll() is None
        if spare is None or spare.poll() is not None or spare.stdout is None:
            return False
        if getattr(spare, "_tw_ready", False):
            return True
        ready, _, _ = select.select([spare.stdout], [], [], timeout)
        if not ready:
            return False
        event = decode_line(spare.stdout.readline())
        spare._tw_ready = bool(event and event.get("kind") == "ready")  # type: ignore[attr-defined]
        return spare._tw_ready  # type: ignore[attr-defined]

    def _take_worker(self, log_path: Path) -> subprocess.Popen:
        with LocalBackend._lock:
            spare, LocalBackend._spare = LocalBackend._spare, None
        reader = getattr(spare, "_tw_reader", None)
        if reader is not None:  # one reader at a time on its stdout
            reader.join(60)
            if reader.is_alive():  # stuck tidying up: not worth waiting for
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(spare.pid, signal.SIGKILL)  # type: ignore[union-attr]
                spare = None
            else:
                spare._tw_reader = None  # type: ignore[union-attr]
        if spare is not None and spare.poll() is None:
            return spare
        return self._spawn_for_job(log_path)

    def _spawn_for_job(self, log_path: Path) -> subprocess.Popen:
        """A worker started for a waiting job (no spare): it stays afterwards if warm."""
        return _spawn_worker(log_path, idle_timeout=self.idle_timeout, reusable=self.keep_warm)

    def submit(self, job: dict[str, Any], job_path: Path, on_event: EventCallback) -> LocalRun:
        log_path = Path(job["run_dir"]) / "worker.log"

        def start(process: subprocess.Popen) -> LocalRun:
            return LocalRun(
                process,
                on_event,
                log_path,
                on_release=self._keep_released,
                on_exit=self._after_exit if self.keep_warm else None,
            )

        process = self._take_worker(log_path)
        run = start(process)
        assert process.stdin is not None
        try:
            process.stdin.write(f"{job_path}\n".encode())
            process.stdin.flush()
        except OSError:  # the spare died between the check and the write: start afresh
            run.kill()
            process = self._spawn_for_job(log_path)
            run = start(process)
            assert process.stdin is not None
            process.stdin.write(f"{job_path}\n".encode())
            process.stdin.flush()
        if "--reusable" in process.args and self._memory_allows_a_spare():  # type: ignore[operator]
            # This worker serves the next test when it is done: nothing needs to import
            # TensorFlow beside this test (which slowed it down, even at idle priority).
            run.next_worker_pid = process.pid
            return run
        # The next test's worker starts importing now, not when this one ends: a test
        # started right after this one finds it warm.
        with contextlib.suppress(Exception):
            self.prewarm(beside_a_test=True)
            run.next_worker_pid = self.spare_pid()
        return run

    @classmethod
    def shutdown(cls) -> None:
        """Stop the spare worker (also done at interpreter exit)."""
        with cls._lock:
            spare, cls._spare = cls._spare, None
        if spare is not None and spare.poll() is None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(spare.pid, signal.SIGKILL)
            with contextlib.suppress(subprocess.TimeoutExpired):
                spare.wait(2)


atexit.register(LocalBackend.shutdown)


# ── Vertex AI Pipelines (towerwidgets.runner.vertex, loaded on first use) ───────────────


def __getattr__(name: str) -> Any:
    if name in ("VertexBackend", "VertexRun"):
        from towerwidgets.runner import vertex

        return getattr(vertex, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
