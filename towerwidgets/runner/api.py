"""``run_quick_test`` / ``start_quick_test``: the kernel side of a quick test.

The kernel validates and prepares the data (pandas only), generates the modules, hands the
heavy stages to a backend (a worker process locally) and applies every event it streams
back to the QuickTest record, the store and the listeners. Nothing here imports TensorFlow,
and nothing a run does can raise into the caller: failures end as a ``failed`` record.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import shutil
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from towerwidgets.runner import reducer
from towerwidgets.runner.estimates import estimate_quick_test
from towerwidgets.runner.events import QuickTestEvent, stage_percent
from towerwidgets.runner.prepare import (
    PreparedData,
    QuickTestInputError,
    load_data,
    prepare_data,
    validate_inputs,
)

if TYPE_CHECKING:
    from towerwidgets.config import QuickTest

__all__ = [
    "QuickTestHandle",
    "attach_quick_test",
    "run_quick_test",
    "start_quick_test",
    "towerwidgets_home",
]

COLLAPSE_WARNING_THRESHOLD = reducer.COLLAPSE_WARNING_THRESHOLD
STORE_PROGRESS_INTERVAL = 1.0
STORE_POLL_INTERVAL = 0.5
DEFAULT_SEED = 42


def towerwidgets_home() -> Path:
    """``TOWERWIDGETS_HOME`` or ./.towerwidgets: runs, exports and the transform cache."""
    return Path(os.environ.get("TOWERWIDGETS_HOME") or ".towerwidgets").resolve()


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _coerce_config(value: Any, cls: type, repository: Any, what: str) -> Any:
    if isinstance(value, cls):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return repository.get(value)
    if isinstance(value, dict):
        return cls.from_dict(value)
    raise TypeError(
        f"{what} must be a {cls.__name__}, a dict or a stored id, not {type(value).__name__}"
    )


def _remote_source(data: Any, backend: Any) -> str:
    """A ``gs://`` or ``bq://`` source, which only a pipeline backend reads; else ""."""
    if not isinstance(data, str) or not data.startswith(("gs://", "bq://")):
        return ""
    if not getattr(backend, "reads_remote_data", False):
        raise QuickTestInputError(
            f"{data!r} is read by the TFX pipeline on Vertex AI, not on this machine: pass "
            "backend=VertexBackend(...), or give a local file or DataFrame"
        )
    return data


def _short(error: BaseException) -> str:
    """One readable line (TensorFlow errors carry pages of graph traceback)."""
    text = str(error).strip()
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    if len(lines) > 3:
        text = lines[-1]
    name = type(error).__name__
    return text if text.startswith(name) else f"{name}: {text}"


class QuickTestHandle:
    """A running (or finished) quick test: its record, its events, wait and cancel.

    The record changes themselves are the pure functions of ``reducer.py``; this class runs
    them on its thread, writes the store, renews the test's lease and tells listeners.
    """

    def __init__(
        self,
        record: Any,
        store: Any,
        backend: Any,
        run_dir: Path,
        on_event: Callable[[QuickTestEvent], None] | None = None,
    ):
        self.record = record
        self.store = store
        self.backend = backend
        self.run_dir = run_dir
        self._history: list[QuickTestEvent] = []
        self._cond = threading.Condition()
        self._listeners: list[Callable[[QuickTestEvent], None]] = [on_event] if on_event else []
        self._record_lock = threading.RLock()
        self._run: Any = None
        self._cancel_requested = False
        self._lost: tuple[str, str] | None = None  # (status, reason) the store imposed
        self._worker_error: dict[str, Any] | None = None
        self._last_store_write = 0.0
        self._done = threading.Event()
        self._thread: threading.Thread | None = None
        self._started = time.time()
        self.facts: dict[str, Any] = {}

    # ── public ──────────────────────────────────────────────────────────────────────────

    @property
    def id(self) -> int | None:
        return self.record.id

    @property
    def status(self) -> str:
        return self.record.status

    @property
    def done(self) -> bool:
        return self._done.is_set()

    def add_listener(self, listener: Callable[[QuickTestEvent], None]) -> None:
        """Call ``listener(event)`` for every later event (from a background thread)."""
        self._listeners.append(listener)

    def events(self, timeout: float | None = None) -> Iterator[QuickTestEvent]:
        """Every event from the start, then new ones as they come, until the final status."""
        index = 0
        deadline = None if timeout is None else time.time() + timeout
        while True:
            with self._cond:
                while index >= len(self._history) and not self._done.is_set():
                    remaining = None if deadline is None else deadline - time.time()
                    if remaining is not None and remaining <= 0:
                        return
                    self._cond.wait(remaining if remaining is not None else 1.0)
                batch = self._history[index:]
                index = len(self._history)
                finished = self._done.is_set()
            yield from batch
            if finished and index >= len(self._history):
                return

    def wait(self, timeout: float | None = None) -> Any:
        """Block until the test ends (or ``timeout`` seconds); returns the record."""
        self._done.wait(timeout)
        return self.record

    def cancel(self, timeout: float | None = 5.0) -> Any:
        """Stop the test: the worker ends within 2 s and the record becomes ``cancelled``.
        Waits up to ``timeout`` seconds for that; ``timeout=0`` only asks (widgets must
        not block the kernel's message handler) and the final event follows."""
        self._cancel_requested = True
        run = self._run
        if run is not None:
            threading.Thread(target=run.cancel, name="tw-cancel", daemon=True).start()
        if timeout:
            self._done.wait(timeout)
        return self.record

    def __repr__(self) -> str:
        return (
            f"QuickTestHandle(id={self.record.id}, status={self.record.status!r}, "
            f"stage={self.record.current_stage!r}, progress={self.record.progress_percent}%)"
        )

    # ── events → record ─────────────────────────────────────────────────────────────────

    def _publish(self, event: QuickTestEvent) -> None:
        event.test_id = self.record.id
        with self._cond:
            self._history.append(event)
            self._cond.notify_all()
        for listener in list(self._listeners):
            with contextlib.suppress(Exception):
                listener(event)

    def _lose(self, stored: Any | None) -> None:
        """The store moved on without us (cancel, delete, recovery): stop the worker."""
        if self._lost is None:
            self._lost = reducer.lost_ownership(stored)
        self._cancel_requested = True
        if self._run is not None:
            self._run.cancel()

    def _stored_or_none(self) -> Any | None:
        from towerwidgets.errors import NotFoundError

        try:
            return self.store.quick_tests.get(self.record.id)
        except NotFoundError:
            return None

    def _save(self, force: bool = True) -> None:
        """Write the record. A cancel, delete or recovery made elsewhere wins: the run
        stops and ends as the store says; a busy store is retried on the next event."""
        if self.store is None or self._lost is not None:
            return
        now = time.time()
        if not force and now - self._last_store_write < STORE_PROGRESS_INTERVAL:
            return
        self._last_store_write = now
        from towerwidgets.errors import InvalidTransitionError, NotFoundError

        try:
            self.store.quick_tests.update(self.record)
        except NotFoundError:
            self._lose(None)
        except InvalidTransitionError:
            try:
                stored = self._stored_or_none()
            except Exception:  # cannot tell why: it moved on to a final status elsewhere
                stored = self.record.model_copy(update={"status": "cancelled"})
            self._lose(stored)
        except Exception:  # the store is busy or gone: keep running, try again next event
            self.facts.setdefault("store_errors", []).append(traceback.format_exc(limit=1))

    def _apply(self, step: reducer.Step) -> None:
        """Carry out a reducer step's facts and store writes (under the record lock); the
        caller publishes ``step.publish`` after releasing it."""
        if step.facts:
            self.facts.update(step.facts)
        if step.worker_error is not None:
            self._worker_error = step.worker_error
        if step.epoch_row is not None and self.store is not None and self._lost is None:
            from towerwidgets.errors import NotFoundError

            try:
                self.store.quick_tests.append_epoch(self.record.id, step.epoch_row)
            except NotFoundError:
                self._lose(None)
            except Exception:
                self.facts.setdefault("store_errors", []).append(traceback.format_exc(limit=1))
        if step.save:
            self._save(force=step.save == reducer.SAVE_NOW)

    def _set_stage(self, stage: str, fraction: float = 0.0, percent: int | None = None) -> None:
        with self._record_lock:
            if percent is None:
                percent = stage_percent(stage, fraction)
            step = reducer.set_stage(self.record, stage, _now(), percent)
            self._apply(step)
        for event in step.publish:
            self._publish(event)

    def _warn(self, message: str) -> None:
        with self._record_lock:
            step = reducer.add_warning(self.record, message)
            self._apply(step)
        for event in step.publish:
            self._publish(event)

    def _on_worker_event(self, data: dict[str, Any]) -> None:
        with self._record_lock:
            step = reducer.apply_worker_event(self.record, data, _now())
            self._apply(step)
        for event in step.publish:
            self._publish(event)

    def _heartbeat(self) -> None:
        """Renew the lease every HEARTBEAT_SECONDS until the run ends; learn of a cancel or
        a delete made elsewhere even while the kernel validates or prepares."""
        from towerwidgets.store.lease import HEARTBEAT_SECONDS

        while not self._done.wait(HEARTBEAT_SECONDS):
            if self.store is None or self.record.id is None or self._lost is not None:
                continue
            try:
                stored = self.store.quick_tests.heartbeat(self.record.id)
            except Exception:  # busy: the next beat tries again, the lease is generous
                continue
            if stored is None:
                self._lose(None)
            elif stored in ("completed", "failed", "cancelled") and not self._done.is_set():
                with contextlib.suppress(Exception):
                    self._lose(self._stored_or_none())

    # ── the run ─────────────────────────────────────────────────────────────────────────

    def _finish(self, status: str, message: str = "", stage: str = "") -> None:
        if self._lost is not None:  # the store decided: end as it says, with its reason
            status, message = self._lost
        with self._record_lock:
            step = reducer.finish(
                self.record,
                status,
                _now(),
                duration_seconds=round(time.time() - self._started),
                message=message,
                stage=stage,
                local=self.backend.machine == "local",
            )
            if not step.publish:
                self._done.set()
                return
            self._save()
        for event in step.publish:
            self._publish(event)
        if getattr(self.backend, "keep_warm", False):
            with contextlib.suppress(Exception):
                self.backend.prewarm()  # the next test starts with TensorFlow imported
        with self._cond:
            self._done.set()
            self._cond.notify_all()

    def _check_store_cancel(self) -> bool:
        """Whether the record was cancelled, deleted or failed elsewhere (a read)."""
        if self.store is None or self.record.id is None:
            return False
        if self._lost is not None:
            return True
        try:
            stored = self._stored_or_none()
        except Exception:  # busy: look again at the next poll
            return False
        if stored is None or stored.status in ("cancelled", "failed"):
            self._lose(stored)
            return True
        return False

    def _final_warnings(self) -> None:
        for message in reducer.final_warnings(self.record):
            self._warn(message)

    def _execute(self, job: dict[str, Any]) -> None:
        """Runs on a background thread: validate → prepare → backend → final status."""
        try:
            self._execute_stages(job)
        except QuickTestInputError as error:
            self._finish("failed", str(error), error.stage)
        except Exception as error:  # the kernel never crashes: record it and stop
            self._finish("failed", f"Internal error: {_short(error)}", self.record.current_stage)
            self.facts["traceback"] = traceback.format_exc()
        finally:
            if job.get("cleanup", True):
                for name in ("train", "eval", "candidates", "source"):
                    with contextlib.suppress(OSError):
                        (self.run_dir / f"{name}.parquet").unlink()

    def _execute_stages(self, job: dict[str, Any]) -> None:
        rec = self.record
        with self._record_lock:
            rec.status = "running"
            rec.started_at = _now()
            self._save()
        self._set_stage("validate")
        fc, mc, rating_column = job["feature_config"], job["model_config"], job["rating_column"]
        remote = _remote_source(job["data"], self.backend)
        df = None if remote else load_data(job["data"])
        warnings = [] if remote else validate_inputs(fc, mc, df, rating_column)
        sampled = None
        if job.get("sample") is not None:
            if df is None:
                raise QuickTestInputError(
                    "sample= works on local data; sample the table before the pipeline reads it",
                    stage="validate",
                )
            from towerwidgets.runner.sampling import sample_by_buyer

            df, sampled = sample_by_buyer(df, fc.buyer_id_column, job["sample"], rec.seed)
        code = job["code"]
        if code is None:
            from towerwidgets.codegen import generate_trainer_code
            from towerwidgets.errors import TowerwidgetsError

            try:
                code = generate_trainer_code(fc, mc, rating_column=rating_column or None)
            except (TowerwidgetsError, ValueError) as error:  # incompatible configs
                raise QuickTestInputError(f"Code generation failed: {error}") from error
        valid = getattr(code, "is_valid", True)
        if not valid:
            raise QuickTestInputError(
                f"Code generation failed: {getattr(code, 'validation_error', '') or 'unknown'}"
            )
        transform_code = code["transform_code"] if isinstance(code, dict) else code.transform_code
        trainer_code = code["trainer_code"] if isinstance(code, dict) else code.trainer_code
        with self._record_lock:
            rec.transform_code = transform_code
            rec.trainer_code = trainer_code
        for message in warnings:
            self._warn(message)
        check = getattr(self.backend, "check", None)
        if check is not None:  # a remote backend says what is missing before any upload
            check()
        if self._cancel_requested:
            return self._finish("cancelled")

        if remote:  # the pipeline reads (and splits) it: nothing to prepare here
            prepared = PreparedData(
                paths={"source": remote},
                fingerprint="",
                cache_key="",
                split={"kind": "pipeline", "source": remote, "candidates": None},
                vocabulary_stats={},
            )
        else:
            self._set_stage("prepare data")
            prepared = prepare_data(
                df,
                fc,
                transform_code,
                self.run_dir,
                seed=rec.seed,
                split=job["split"],
                # A remote backend needs the splits themselves, not a local cache hit.
                cache_dir=job["cache_dir"]
                if getattr(self.backend, "uses_local_cache", True)
                else None,
            )
        with self._record_lock:
            rec.split = {**prepared.split, "sample": sampled} if sampled else prepared.split
            rec.data_fingerprint = prepared.fingerprint
            rec.vocabulary_stats = {**rec.vocabulary_stats, "columns": prepared.vocabulary_stats}
            estimate = estimate_quick_test(
                fc,
                mc,
                n_rows=prepared.n_rows,
                epochs=rec.get_effective_epochs(),
                batch_size=rec.get_effective_batch_size(),
                machine=self.backend.machine,
                transform_cached=prepared.cached,
                dataflow=bool(getattr(self.backend, "dataflow", False)),
                n_candidates=prepared.split["candidates"],
            )
            rec.estimated_duration_seconds = round(estimate.seconds)
            rec.cost_usd = estimate.cost_usd
            self._save()
        for message in prepared.warnings:
            self._warn(message)
        if self._cancel_requested:
            return self._finish("cancelled")

        source_data = ""
        if df is not None and getattr(self.backend, "wants_source_data", False):
            # A pipeline compiler splits the very same rows again, the way prepare_data did.
            with contextlib.suppress(Exception):  # else the backend uses the splits
                df.to_parquet(self.run_dir / "source.parquet", index=False)
                source_data = str(self.run_dir / "source.parquet")
        transform_path = self.run_dir / "transform_module.py"
        trainer_path = self.run_dir / "trainer_module.py"
        transform_path.write_text(transform_code)
        trainer_path.write_text(trainer_code)
        custom_config = {
            "epochs": rec.epochs_override,
            "batch_size": rec.batch_size_override,
            "learning_rate": rec.learning_rate_override,
            "seed": rec.seed,
        }
        worker_job = {
            "test_id": rec.id,
            "run_dir": str(self.run_dir),
            "transform_module": str(transform_path),
            "trainer_module": str(trainer_path),
            "data": prepared.paths,
            "cache_dir": str(job["cache_dir"]),
            "cache_key": prepared.cache_key,
            "custom_config": {k: v for k, v in custom_config.items() if v is not None},
            "serving_model_dir": str(self.run_dir / "model"),
            "progress_interval": job["progress_interval"],
            # what a pipeline backend compiles from (the local worker reads the modules)
            "feature_config": fc.to_dict(),
            "model_config": mc.to_dict(),
            "feature_config_id": fc.id,
            "model_config_id": mc.id,
            "rating_column": rating_column or "",
            "source_data": source_data,
            "split": job["split"],
        }
        job_path = self.run_dir / "job.json"
        job_path.write_text(json.dumps(worker_job, indent=2))
        if self._cancel_requested:
            return self._finish("cancelled")
        try:
            self._run = self.backend.submit(worker_job, job_path, self._on_worker_event)
        except QuickTestInputError:
            raise  # the backend's own message says what to do
        except Exception as error:
            raise QuickTestInputError(
                f"Could not start the worker: {_short(error)}", stage="transform"
            ) from error
        if self._run.pid:
            with self._record_lock:
                rec.worker_pid = self._run.pid
                self._save()
        next_worker = getattr(self._run, "next_worker_pid", None)
        if next_worker:  # the worker that will serve the next test (this one, or a spare)
            self.facts["next_worker_pid"] = next_worker
        if self._cancel_requested:
            self._run.cancel()
        self._follow_run()

    def _follow_run(self) -> None:
        """Wait for the backend's run and end the record as it says."""
        rec = self.record
        code_ = None
        while code_ is None:
            code_ = self._run.wait(STORE_POLL_INTERVAL)
            if code_ is None and not self._cancel_requested and self._check_store_cancel():
                self._run.cancel()
        # A remote job may also be cancelled from its own console.
        cancelled_remotely = getattr(self._run, "ended_cancelled", False) is True
        if self._cancel_requested or cancelled_remotely or self._check_store_cancel():
            return self._finish("cancelled")
        if self._worker_error is not None:
            err = self._worker_error
            return self._finish(
                "failed", err.get("message") or "The worker failed", err.get("stage") or ""
            )
        if code_ != 0:
            stage = rec.current_stage or "transform"
            return self._finish("failed", self._run.failure_reason(stage), stage)
        self._final_warnings()
        self._finish("completed")


_OLD_POSITIONAL = ("rating_column", "epochs", "batch_size", "learning_rate", "store")


def _keyword_only_after_data(func: Callable[..., Any]) -> Callable[..., Any]:
    """Turn the old call forms into a TypeError that says what to write instead."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        name = func.__name__
        if len(args) > 3:
            extra = ", ".join(
                f"{key}={value!r}" for key, value in zip(_OLD_POSITIONAL, args[3:], strict=False)
            )
            raise TypeError(
                f"{name}() takes feature_config, model_config and data positionally; pass the "
                f"rest by keyword, e.g. {name}(features, model, data, {extra})"
            )
        if "wait" in kwargs:
            raise TypeError(
                f"{name}() has no 'wait' argument: run_quick_test(...) always blocks and "
                "returns the finished record; start_quick_test(...) returns a handle at once"
            )
        return func(*args, **kwargs)

    return wrapper


@_keyword_only_after_data
def start_quick_test(
    feature_config: Any,
    model_config: Any,
    data: Any,
    *,
    rating_column: str | None = None,
    epochs: int | None = None,
    batch_size: int | None = None,
    learning_rate: float | None = None,
    store: Any = None,
    seed: int = DEFAULT_SEED,
    split: str | dict[str, Any] = "random",
    backend: Any = None,
    code: Any = None,
    on_event: Callable[[QuickTestEvent], None] | None = None,
    home: str | Path | None = None,
    progress_interval: float = 0.5,
    sample: float | int | None = None,
) -> QuickTestHandle:
    """Start a quick test in the background and return its handle at once.

    ``data`` is a DataFrame or a CSV/Parquet path; ``epochs``/``batch_size``/
    ``learning_rate`` override the ModelConfig (the spec's ``*_override`` fields); ``store``
    defaults to ``Store()``. ``split`` is ``"random"`` (seeded 80/20) or ``"temporal"``, or a
    dict with ``kind``, ``eval_fraction`` and ``max_eval_rows`` (evaluate on at most that many
    seeded held-out rows: exact Recall@K costs eval rows × candidates).
    ``code`` runs given modules (an object or dict with ``transform_code`` and
    ``trainer_code``) instead of generating them. ``sample`` runs on part of big data, drawn
    by buyer so histories stay whole: a fraction of the buyers (``0.1``) or at least that
    many rows (``50_000``); what was kept is in ``record.split["sample"]``. The record is
    created ``pending`` in the store before this returns.
    """
    from towerwidgets.config import FeatureConfig, ModelConfig, QuickTest
    from towerwidgets.runner.backends import LocalBackend
    from towerwidgets.store.lease import host_identity

    if store is None:
        from towerwidgets.store import Store

        store = Store()
    fc = _coerce_config(feature_config, FeatureConfig, store.feature_configs, "feature_config")
    mc = _coerce_config(model_config, ModelConfig, store.model_configs, "model_config")
    backend = backend or LocalBackend()
    home_dir = Path(home).resolve() if home else towerwidgets_home()

    n_rows = len(data) if hasattr(data, "__len__") and not isinstance(data, str | Path) else None
    estimate = None
    with contextlib.suppress(Exception):
        estimate = estimate_quick_test(
            fc,
            mc,
            n_rows=n_rows,
            epochs=epochs,
            batch_size=batch_size,
            machine=backend.machine,
            dataflow=bool(getattr(backend, "dataflow", False)),
        )
    record = QuickTest(
        feature_config_id=fc.id,
        model_config_id=mc.id,
        feature_config_snapshot=fc.to_dict(),
        model_config_snapshot=mc.to_dict(),
        rating_column=rating_column or "",
        epochs_override=epochs,
        batch_size_override=batch_size,
        learning_rate_override=learning_rate,
        seed=seed,
        backend=backend.name,
        owner_pid=os.getpid(),
        host_id=host_identity(),
        estimated_duration_seconds=round(estimate.seconds) if estimate else None,
        cost_usd=estimate.cost_usd if estimate else None,
    )
    record = store.quick_tests.create(record)
    run_dir = home_dir / "runs" / f"quicktest-{record.id}-{int(time.time())}"
    if run_dir.exists():
        shutil.rmtree(run_dir, ignore_errors=True)
    run_dir.mkdir(parents=True, exist_ok=True)
    backend.prewarm()  # import TensorFlow in a worker while the kernel validates and prepares
    handle = QuickTestHandle(record, store, backend, run_dir, on_event=on_event)
    job = {
        "feature_config": fc,
        "model_config": mc,
        "data": data,
        "rating_column": rating_column or "",
        "code": code,
        "split": split,
        "cache_dir": home_dir / "cache" / "transform",
        "progress_interval": progress_interval,
        "sample": sample,
    }
    handle._thread = threading.Thread(
        target=handle._execute, args=(job,), name=f"tw-quicktest-{record.id}", daemon=True
    )
    handle._thread.start()
    threading.Thread(target=handle._heartbeat, name=f"tw-lease-{record.id}", daemon=True).start()
    return handle


def attach_quick_test(
    record: Any,
    store: Any,
    backend: Any,
    attach: Callable[[Callable[[dict[str, Any]], None], int, int], Any],
    *,
    on_event: Callable[[QuickTestEvent], None] | None = None,
) -> QuickTestHandle:
    """A handle that follows a run another process started (a remote job whose kernel
    restarted). ``attach(on_event, seen_epochs, epochs)`` returns the backend's run; it is
    called here, so a failure to reach the job raises to the caller and leaves the record
    untouched. A finished record gives a finished handle."""
    run_dir = towerwidgets_home() / "runs" / f"quicktest-{record.id}"
    handle = QuickTestHandle(record, store, backend, run_dir, on_event=on_event)
    if record.started_at is not None:
        started = record.started_at
        started = started if started.tzinfo else started.replace(tzinfo=timezone.utc)
        handle._started = started.timestamp()
    if record.is_finished:
        handle._done.set()
        return handle
    seen = max((int(r.get("epoch", 0)) for r in record.epoch_metrics), default=0)
    handle._run = attach(handle._on_worker_event, seen, record.get_effective_epochs())
    with handle._record_lock:
        record.owner_pid = os.getpid()
        handle._save()

    def follow() -> None:
        try:
            handle._follow_run()
        except Exception as error:  # the kernel never crashes: record it and stop
            handle._finish("failed", f"Internal error: {_short(error)}", record.current_stage)

    handle._thread = threading.Thread(target=follow, name=f"tw-attach-{record.id}", daemon=True)
    handle._thread.start()
    return handle


@_keyword_only_after_data
def run_quick_test(
    feature_config: Any,
    model_config: Any,
    data: Any,
    *,
    rating_column: str | None = None,
    epochs: int | None = None,
    batch_size: int | None = None,
    learning_rate: float | None = None,
    store: Any = None,
    **options: Any,
) -> QuickTest:
    """Run a quick test, block until it ends and return the finished ``QuickTest`` record.

    Takes the same keyword arguments as ``start_quick_test`` (which returns a
    ``QuickTestHandle`` at once instead). A failure ends as a ``failed`` record, never
    as an exception; Ctrl-C (KeyboardInterrupt) cancels the run and returns the record.
    """
    handle = start_quick_test(
        feature_config,
        model_config,
        data,
        rating_column=rating_column,
        epochs=epochs,
        batch_size=batch_size,
        learning_rate=learning_rate,
        store=store,
        **options,
    )
    try:
        return handle.wait()
    except KeyboardInterrupt:
        return handle.cancel()
