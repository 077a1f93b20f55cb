"""``QuickTestPanel``: the Quick Test chapter — select, check, estimate, run, watch, compare."""

from __future__ import annotations

import contextlib
import logging
import threading
from typing import Any, ClassVar

import traitlets

from towerwidgets.codegen.params import count_params, vocabulary_sizes
from towerwidgets.config.quick_test import metrics_frame
from towerwidgets.results.comparison import compare
from towerwidgets.runner.baselines import verdicts
from towerwidgets.runner.estimates import MACHINE_PRICES
from towerwidgets.widgets._base import StoreWatching, TowerWidget, _message, child_trait
from towerwidgets.widgets._format import (
    format_duration,
    format_number,
    format_percent,
    relative_time,
    short_ago,
)
from towerwidgets.widgets.compare import EMPTY_TEXT, CompareView
from towerwidgets.widgets.metrics import MetricsTable
from towerwidgets.widgets.structure import OPTIMIZER_LABELS, TYPE_LABELS

BASELINE_METRICS = ("recall_at_10", "recall_at_50", "recall_at_100", "rmse", "mae")

log = logging.getLogger(__name__)

EPOCH_CHOICES = [1, 2, 3, 5, 10, 20]
BATCH_CHOICES = [256, 512, 1024, 2048, 4096, 8192]
LR_CHOICES = [0.001, 0.01, 0.05, 0.1]
# What the user chooses before Start (synced traits); "start" carries them too.
SELECTION_TRAITS = (
    "feature_config_id",
    "model_config_id",
    "rating_column",
    "epochs_override",
    "batch_size_override",
    "learning_rate_override",
    "vertex_machine",
    "run_on",
    "vertex_settings",
)
VERTEX_MACHINES = [name for name in MACHINE_PRICES if name != "local"]
STATUS_LABELS = {
    "pending": "Pending",
    "running": "Running",
    "completed": "✓ Completed",
    "failed": "✗ Failed",
    "cancelled": "Cancelled",
}
METRIC_KEYS = ("loss", "val_loss", "recall_at_10", "recall_at_50", "recall_at_100", "rmse", "mae")


def _as_dict(event: Any) -> dict[str, Any]:
    if isinstance(event, dict):
        return event
    if hasattr(event, "to_dict"):
        return event.to_dict()
    if hasattr(event, "__dataclass_fields__"):
        import dataclasses

        return dataclasses.asdict(event)
    return {k: v for k, v in vars(event).items() if not k.startswith("_")}


class QuickTestPanel(StoreWatching, TowerWidget):
    """Pick a FeatureConfig and a ModelConfig, check them, start a quick test, watch it run.

    The config lists and Recent Quick Tests follow the store: configs saved or deleted and
    quick tests run elsewhere show up without a manual refresh; see ``StoreWatching``.
    """

    _view = traitlets.Unicode("quick_test").tag(sync=True)
    feature_configs = traitlets.List(traitlets.Dict()).tag(sync=True)
    model_configs = traitlets.List(traitlets.Dict()).tag(sync=True)
    feature_config_id = traitlets.Int(None, allow_none=True).tag(sync=True)
    model_config_id = traitlets.Int(None, allow_none=True).tag(sync=True)
    feature_summary = traitlets.Dict().tag(sync=True)
    model_summary = traitlets.Dict().tag(sync=True)
    needs_rating = traitlets.Bool(False).tag(sync=True)
    rating_columns = traitlets.List(traitlets.Dict()).tag(sync=True)
    rating_column = traitlets.Unicode("").tag(sync=True)
    epochs_override = traitlets.Int(None, allow_none=True).tag(sync=True)
    batch_size_override = traitlets.Int(None, allow_none=True).tag(sync=True)
    learning_rate_override = traitlets.Float(None, allow_none=True).tag(sync=True)
    choices = traitlets.Dict().tag(sync=True)
    defaults = traitlets.Dict().tag(sync=True)
    checks = traitlets.List(traitlets.Dict()).tag(sync=True)
    estimate = traitlets.Dict().tag(sync=True)
    # The Vertex AI machine type whose duration and cost the estimate also shows, so a
    # user can weigh a local quick test against a run in the cloud before starting.
    vertex_machine = traitlets.Unicode("n1-standard-8").tag(sync=True)
    # Where Start runs the test: "local" (a worker here) or "vertex" (Vertex AI Pipelines in
    # vertex_settings' project/region/bucket, remembered in <home>/vertex.json; no secrets).
    run_on = traitlets.Unicode("local").tag(sync=True)
    vertex_settings = traitlets.Dict().tag(sync=True)
    can_start = traitlets.Bool(False).tag(sync=True)
    running = traitlets.Bool(False).tag(sync=True)
    stage = traitlets.Unicode("").tag(sync=True)
    progress = traitlets.Int(0).tag(sync=True)
    status = traitlets.Unicode("").tag(sync=True)
    message = traitlets.Unicode("").tag(sync=True)
    result = traitlets.Dict().tag(sync=True)
    recent = traitlets.List(traitlets.Dict()).tag(sync=True)
    metrics = child_trait(MetricsTable)
    # Runs ticked in Recent Quick Tests (in ticking order); two or more are compared in
    # ``comparison`` (charts per metric and the settings that differ).
    compare_ids = traitlets.List(traitlets.Int()).tag(sync=True)
    comparison = child_trait(CompareView)
    # What a completed test's model recommends (Preview in Recent Quick Tests), or None.
    preview = child_trait("towerwidgets.widgets.preview.RecommendationPreview")
    # The product table the preview joins (titles, genres…): a DataFrame or a path.
    preview_products: Any = None

    _watch_tables: ClassVar[tuple[str, ...]] = ("feature_configs", "model_configs", "quick_tests")
    _commands: ClassVar[dict[str, str]] = {
        "start": "_cmd_start",
        "cancel": "_cmd_cancel",
        "view_results": "_cmd_view_results",
        "refresh": "_cmd_refresh",
        "preview": "_cmd_preview",
    }

    def __init__(
        self, store: Any = None, data: Any = None, vertex_backend: Any = None, **kwargs: Any
    ) -> None:
        if store is None:
            from towerwidgets.store import Store

            store = Store()
        self._store = store
        self._data = data
        self._vertex_backend = vertex_backend  # a configured VertexBackend to use as is
        self._handle: Any = None
        self._thread: threading.Thread | None = None
        self._rows: list[dict[str, Any]] = []
        # The table shows one test at a time: the live run (None) or the one whose results
        # the user opened; live epochs never land under another test's title.
        self._viewing: int | None = None
        self._live_title = ""
        self._refreshing = False
        self._stamps: tuple[Any, Any] = (None, None)
        super().__init__(**kwargs)
        if vertex_backend is None:  # a test here is likely: import TensorFlow in a spare now
            from towerwidgets.runner.warm import prewarm_on_display

            prewarm_on_display()
        self._watch_store()
        self.metrics = MetricsTable(title="Metrics per epoch")
        self.comparison = CompareView()
        self.choices = {
            "epochs": EPOCH_CHOICES,
            "batch_size": BATCH_CHOICES,
            "learning_rate": LR_CHOICES,
            "vertex_machine": VERTEX_MACHINES,
        }
        self._load_vertex_settings()
        self.refresh()

    @property
    def store(self) -> Any:
        return self._store

    @property
    def data(self) -> Any:
        return self._data

    @data.setter
    def data(self, frame: Any) -> None:
        self._data = frame
        self._update()

    @property
    def handle(self) -> Any:
        """The runner's handle of the test started last (``.wait()``, ``.cancel()``)."""
        return self._handle

    # ── selection and derived panels ────────────────────────────────────────────────────

    def refresh(self) -> None:
        """Reload both config lists and the recent tests from the store."""
        self._rebaseline()
        with self._store_lock:
            self._load_configs({"feature_configs", "model_configs"}, force=True)
            self._load_recent()

    def _store_changed(self, tables: set[str]) -> None:
        if tables & {"feature_configs", "model_configs"}:
            self._load_configs(tables)
        if "quick_tests" in tables:
            self._load_recent()

    def _load_configs(self, tables: set[str], force: bool = False) -> None:
        """Reload the changed lists. A selection that still exists is kept; one deleted
        elsewhere is cleared with a notice; an empty selection takes the first config."""
        notices = []
        self._refreshing = True
        try:
            if "feature_configs" in tables:
                fcs = self._store.feature_configs.list()
                notices += self._reselect(
                    "feature_config", [{"id": fc.id, "name": fc.name} for fc in fcs], force
                )
            if "model_configs" in tables:
                mcs = self._store.model_configs.list()
                items = [{"id": mc.id, "name": mc.name, "model_type": mc.model_type} for mc in mcs]
                notices += self._reselect("model_config", items, force)
        finally:
            self._refreshing = False
        if notices and not self.running:
            self.message = "; ".join(notices) + "; select another."
        fc, mc = self._configs()
        stamps = (getattr(fc, "updated_at", None), getattr(mc, "updated_at", None))
        if force or notices or stamps != self._stamps:
            self._update(fc, mc)  # the selection or a selected config changed

    def select(
        self, feature_config_id: int | None = None, model_config_id: int | None = None
    ) -> None:
        if feature_config_id is not None:
            self.feature_config_id = feature_config_id
        if model_config_id is not None:
            self.model_config_id = model_config_id

    def _load_vertex_settings(self) -> None:
        from towerwidgets.runner.vertex import VertexSettings

        settings = VertexSettings.load()
        self.vertex_settings = {
            "project": settings.project,
            "region": settings.region,
            "bucket": settings.bucket,
        }
        if settings.machine in VERTEX_MACHINES:
            self.vertex_machine = settings.machine

    @traitlets.validate("run_on")
    def _valid_run_on(self, proposal: Any) -> str:
        if proposal["value"] not in ("local", "vertex"):
            raise traitlets.TraitError("run_on is 'local' (this machine) or 'vertex' (Vertex AI)")
        return proposal["value"]

    @traitlets.validate("vertex_machine")
    def _valid_machine(self, proposal: Any) -> str:
        value = proposal["value"]
        if value not in VERTEX_MACHINES:
            raise traitlets.TraitError(
                f"Unknown Vertex AI machine type {value!r}; choose one of: "
                + ", ".join(VERTEX_MACHINES)
            )
        return value

    @traitlets.observe(*SELECTION_TRAITS)
    def _on_selection(self, change: Any) -> None:
        if not self._refreshing:
            with self._store_lock:
                self._update()

    def _reselect(self, kind: str, items: list[dict[str, Any]], force: bool) -> list[str]:
        """Set the ``<kind>s`` list; keep the selected ``<kind>_id`` if it still exists, clear
        it if it was deleted elsewhere (returns that notice), or take the first item when
        nothing was selected (on a full refresh, or when the list used to be empty)."""
        known = {item["id"]: item["name"] for item in getattr(self, f"{kind}s")}
        setattr(self, f"{kind}s", items)
        selected = getattr(self, f"{kind}_id")
        if selected is not None and selected not in {item["id"] for item in items}:
            setattr(self, f"{kind}_id", None)
            if selected in known:
                label = kind.replace("_", " ").capitalize()
                return [f"{label} {known[selected]!r} was deleted elsewhere"]
        elif selected is None and items and (force or not known):
            setattr(self, f"{kind}_id", items[0]["id"])
        return []

    def _configs(self) -> tuple[Any, Any]:
        fc = mc = None
        if self.feature_config_id is not None:
            try:
                fc = self._store.feature_configs.get(self.feature_config_id)
            except LookupError:
                fc = None
        if self.model_config_id is not None:
            try:
                mc = self._store.model_configs.get(self.model_config_id)
            except LookupError:
                mc = None
        return fc, mc

    def _update(self, fc: Any = None, mc: Any = None) -> None:
        if fc is None and mc is None:
            fc, mc = self._configs()
        self._stamps = (getattr(fc, "updated_at", None), getattr(mc, "updated_at", None))
        self.feature_summary = self._feature_summary(fc)
        self.model_summary = self._model_summary(mc, fc)
        self.needs_rating = bool(mc and mc.model_type in ("ranking", "multitask"))
        self.rating_columns = self._numeric_columns(fc) if self.needs_rating else []
        names = [c["name"] for c in self.rating_columns]
        if self.needs_rating and self.rating_column not in names:
            preferred = [n for n in names if n.lower() in ("rating", "user_rating", "score")]
            self._refreshing = True
            try:
                # Only an obvious name is chosen for the user; otherwise they choose (a
                # timestamp or a price is never silently taken for a rating).
                self.rating_column = (preferred or [""])[0]
            finally:
                self._refreshing = False
        self.defaults = (
            {"epochs": mc.epochs, "batch_size": mc.batch_size, "learning_rate": mc.learning_rate}
            if mc
            else {}
        )
        self.checks = self._checks(fc, mc)
        self.estimate = self._estimate(fc, mc)
        self.can_start = (
            not self.running and all(c["ok"] for c in self.checks) and self._data is not None
        )

    def _feature_summary(self, fc: Any) -> dict[str, Any]:
        if fc is None:
            return {}
        problems = fc.validate()
        return {
            "name": fc.name,
            "dataset": getattr(self._data, "attrs", {}).get("name", "")
            if self._data is not None
            else "",
            "rows": len(self._data) if self._data is not None else None,
            "buyer_tensor_dim": fc.buyer_tensor_dim,
            "product_tensor_dim": fc.product_tensor_dim,
            "cross_features": len(fc.crosses),
            "valid": not problems,
            "problems": problems,
        }

    def _model_summary(self, mc: Any, fc: Any = None) -> dict[str, Any]:
        if mc is None:
            return {}
        sizes = vocabulary_sizes(fc, self._data)
        counts = count_params(mc, fc, sizes, vocabularies_from="the whole data" if sizes else "")
        return {
            "params_text": counts["text"],
            "params_assumption": counts["assumption"],
            "name": mc.name,
            "model_type": mc.model_type,
            "type_label": TYPE_LABELS[mc.model_type],
            "buyer_summary": mc.get_buyer_tower_summary(),
            "product_summary": mc.get_product_tower_summary(),
            "rating_head_summary": mc.get_rating_head_summary(),
            "output_dim": mc.output_embedding_dim,
            "optimizer": OPTIMIZER_LABELS[mc.optimizer],
            "learning_rate": format_number(mc.learning_rate),
            "batch_size": mc.batch_size,
            "epochs": mc.epochs,
        }

    def _numeric_columns(self, fc: Any) -> list[dict[str, Any]]:
        frame = self._data
        if frame is None or not hasattr(frame, "select_dtypes"):
            return []
        skip = {fc.buyer_id_column, fc.product_id_column} if fc is not None else set()
        out = []
        for name in frame.select_dtypes("number").columns:
            if name in skip:
                continue
            column = frame[name]
            out.append(
                {
                    "name": str(name),
                    "dtype": str(column.dtype).upper(),
                    "min": _num(column.min()),
                    "max": _num(column.max()),
                    "mean": _num(column.mean()),
                    "warning": rating_warning(str(name), column),
                }
            )
        return out

    def _checks(self, fc: Any, mc: Any) -> list[dict[str, Any]]:
        checks = []
        if fc is None:
            checks.append(
                {"ok": False, "label": "Feature Config", "text": "Select a feature config"}
            )
        else:
            problems = fc.validate()
            checks.append(
                {
                    "ok": not problems,
                    "label": "Feature Config",
                    "text": "; ".join(problems) or "Valid transform code",
                }
            )
        if mc is None:
            checks.append({"ok": False, "label": "Model Config", "text": "Select a model config"})
        else:
            problems = mc.validate()
            checks.append(
                {
                    "ok": not problems,
                    "label": "Model Config",
                    "text": "; ".join(problems) or "Valid architecture",
                }
            )
        if fc is not None and mc is not None:
            problems = self._compatibility(fc, mc)
            checks.append(
                {
                    "ok": not problems,
                    "label": "Compatibility",
                    "text": "; ".join(problems) or "Configurations are compatible",
                }
            )
        if self.needs_rating and self._data is not None:
            chosen = next((c for c in self.rating_columns if c["name"] == self.rating_column), None)
            if chosen is None:
                text = "Choose the column that holds the ratings (Ranking/Multitask need one)"
            else:
                text = f"⚠ {chosen['warning']}" if chosen["warning"] else f"{chosen['name']}"
            checks.append({"ok": chosen is not None, "label": "Rating Column", "text": text})
        if self.run_on == "vertex":
            checks.append(self._vertex_check())
        if self._data is None:
            checks.append(
                {
                    "ok": False,
                    "label": "Data",
                    "text": "No data: pass data= to QuickTestPanel (a pandas DataFrame)",
                }
            )
        return checks

    def _vertex_check(self) -> dict[str, Any]:
        if self._vertex_backend is not None:
            backend = self._vertex_backend
            where = f"{backend.project} • {backend.region} • {backend.pipeline_root}"
            return {"ok": True, "label": "Vertex AI", "text": f"{where} • {backend.machine}"}
        vs = self.vertex_settings
        missing = [name for name in ("project", "bucket") if not vs.get(name)]
        if missing:
            text = f"Set the {' and the '.join(missing)} (or TOWERWIDGETS_VERTEX_*)"
            return {"ok": False, "label": "Vertex AI", "text": text}
        if not str(vs["bucket"]).startswith("gs://"):
            return {"ok": False, "label": "Vertex AI", "text": "The bucket is a gs:// path"}
        where = f"{vs['project']} • {vs.get('region') or 'us-central1'} • {vs['bucket']}"
        return {"ok": True, "label": "Vertex AI", "text": f"{where} • {self.vertex_machine}"}

    def _backend(self) -> Any:
        """None for this machine; for Vertex AI the given backend, else one from the
        settings shown (saved for next time: project, region, bucket, machine)."""
        if self.run_on != "vertex":
            return None
        if self._vertex_backend is not None:
            return self._vertex_backend
        from towerwidgets.runner.vertex import VertexBackend, VertexSettings

        vs = self.vertex_settings
        settings = VertexSettings.load()
        settings.project = vs.get("project") or ""
        settings.region = vs.get("region") or "us-central1"
        settings.bucket = vs.get("bucket") or ""
        settings.machine = self.vertex_machine
        try:
            settings.save()
        except OSError as exc:
            log.warning("could not save the Vertex AI settings: %s", exc)
        return VertexBackend(settings=settings)

    def _compatibility(self, fc: Any, mc: Any) -> list[str]:
        problems = []
        if self._data is not None and hasattr(self._data, "columns"):
            missing = [c for c in fc.columns() if c not in self._data.columns]
            if missing:
                problems.append(f"Columns missing from the data: {', '.join(missing)}")
        if mc.model_type in ("ranking", "multitask"):
            if not self.rating_column:
                problems.append(f"A {mc.model_type} model needs a numeric rating column")
        from towerwidgets.codegen import generate_trainer_code

        if not problems:
            try:
                result = generate_trainer_code(
                    fc, mc, rating_column=self.rating_column or None, data=self._data
                )
                if not getattr(result, "is_valid", True):
                    problems.append(result.validation_error or "Generated code is not valid")
            except Exception as exc:
                problems.append(_message(exc))
        return problems

    def _estimate(self, fc: Any, mc: Any) -> dict[str, Any]:
        if mc is None:
            return {}
        from towerwidgets.runner.estimates import estimate_quick_test

        rows = len(self._data) if self._data is not None else None
        overrides = {"epochs": self.epochs_override, "batch_size": self.batch_size_override}
        est = estimate_quick_test(fc, mc, n_rows=rows, **overrides)
        cloud = estimate_quick_test(fc, mc, n_rows=rows, machine=self.vertex_machine, **overrides)
        return {
            "seconds": est.seconds,
            "duration": format_duration(est.seconds, approx=True),
            "cost": f"~${est.cost_usd:.2f}" if est.cost_usd else "$0.00 (local, no cost)",
            "text": est.text,
            "vertex": {
                "machine": cloud.machine,
                "seconds": cloud.seconds,
                "duration": format_duration(cloud.seconds, approx=True),
                "cost": f"~${cloud.cost_usd:.2f}",
                "text": cloud.text,
            },
        }

    # ── running ─────────────────────────────────────────────────────────────────────────

    def start(self) -> Any:
        """▶ Start Quick Test: starts the runner (non-blocking) and streams its events."""
        if self.running:
            raise ValueError("A quick test is already running; cancel it or wait for it")
        self._update()
        failed = [f"{c['label']}: {c['text']}" for c in self.checks if not c["ok"]]
        if failed:
            raise ValueError("Cannot start: " + "; ".join(failed))
        from towerwidgets.runner import start_quick_test

        fc, mc = self._configs()
        handle = start_quick_test(
            fc,
            mc,
            self._data,
            rating_column=self.rating_column or None if self.needs_rating else None,
            epochs=self.epochs_override,
            batch_size=self.batch_size_override,
            learning_rate=self.learning_rate_override,
            store=self._store,
            backend=self._backend(),
        )
        self._handle = handle
        self._rows = []
        self._viewing = None
        record = getattr(handle, "record", None)
        self._live_title = (
            f"Metrics: {record.title()} (running)"
            if record is not None
            else f"Metrics: {fc.name} + {mc.name} (running)"
        )
        self.metrics.clear()
        self.metrics.title = self._live_title
        self.result = {}
        self.running, self.can_start = True, False
        self.stage, self.progress, self.status = "starting", 0, "running"
        self.message = f"Started: {fc.name} + {mc.name}"
        self._thread = threading.Thread(
            target=self._follow, args=(handle,), name="towerwidgets-quick-test", daemon=True
        )
        self._thread.start()
        return handle

    def _follow(self, handle: Any) -> None:
        """Background thread: turn runner events into trait updates; the kernel stays free."""
        try:
            for event in handle.events():
                self.apply_event(event)
        except Exception as exc:  # the runner's problem must not kill this thread silently
            log.exception("quick test event stream failed")
            self.message = f"Lost the event stream: {_message(exc)}"
        record = None
        try:
            record = handle.wait()
        except Exception as exc:
            self.message = f"Quick test ended with an error: {_message(exc)}"
        self._finish(record if record is not None else getattr(handle, "record", None))

    def apply_event(self, event: Any) -> None:
        """Apply one runner event (stage, progress, epoch metrics, status) to the panel."""
        data = _as_dict(event)
        stage = data.get("stage") or data.get("current_stage")
        if stage:
            self.stage = str(stage)
        progress = data.get("progress_percent", data.get("progress"))
        if isinstance(progress, int | float):
            self.progress = int(
                progress * 100
                if isinstance(progress, float) and progress <= 1 and "progress_percent" not in data
                else progress
            )
        status = data.get("status")
        if isinstance(status, str) and status:
            self.status = status
        kind = data.get("kind")
        metrics = data.get("metrics") if isinstance(data.get("metrics"), dict) else None
        if kind in (None, "epoch") and data.get("epoch") is not None:
            if not metrics:
                metrics = {k: data[k] for k in METRIC_KEYS if k in data}
            row = {"epoch": data.get("epoch"), **(metrics or {})}
            self._rows = [r for r in self._rows if r.get("epoch") != row["epoch"]] + [row]
            if self._viewing is None:  # another test's results stay as they are
                self.metrics.set_baselines(self._live_baselines(), flush=False)
                self.metrics.df = metrics_frame(self._rows, key_only=True)
            live = getattr(getattr(self._handle, "record", None), "id", None)
            if live is not None and live in self.compare_ids:  # a ticked run grows a point
                with self._store_lock:  # the runner stored the epoch before publishing it
                    self._update_comparison()
        if kind == "info" and metrics and metrics.get("vertex_console_url"):
            # A Vertex run is known to the console now: its Recent row links there.
            with contextlib.suppress(Exception):
                self._load_recent()
        text = data.get("message")
        if isinstance(text, str) and text:
            self.message = f"⚠ {text}" if kind == "warning" else text

    def _finish(self, record: Any) -> None:
        # The run's end is the news: the table and the result box return to it, together.
        self._viewing = None
        self.metrics.flush()
        if record is not None:
            self.metrics.title = f"Metrics: {record.title()}"
            self.metrics.set_baselines(record.split.get("baselines"), flush=False)
            self.status = record.status
            self.stage = record.current_stage or self.stage
            self.progress = 100 if record.status == "completed" else self.progress
            self.result = self._record_summary(record)
            if record.status == "failed":
                self.message = f"Failed in {record.error_stage or 'an unknown stage'}: " + (
                    record.error_message or "no message"
                )
            elif record.status == "completed":
                self.message = f"Completed in {format_duration(record.duration_seconds)}"
            else:
                self.message = record.status.capitalize()
            if record.epoch_metrics:
                self.metrics.df = record.key_metrics
                self.metrics.flush()
        self.running = False
        with self._store_lock:  # a store notification may be refreshing on another thread
            self._load_recent()
            self._update()

    def cancel(self) -> None:
        """Cancel the running quick test."""
        if self._handle is None or not self.running:
            raise ValueError("No quick test is running")
        self.message = "Cancelling…"  # first: the run's end may come on the follower thread
        self._handle.cancel(timeout=0)  # never block the kernel's message handler

    def wait(self, timeout: float | None = None) -> Any:
        """Block until the background follower finished (scripts and tests)."""
        if self._thread is not None:
            self._thread.join(timeout)
        return self._handle.record if self._handle is not None else None

    # ── results ─────────────────────────────────────────────────────────────────────────

    def _live_baselines(self) -> dict[str, float]:
        record = getattr(self._handle, "record", None)
        return dict((getattr(record, "split", None) or {}).get("baselines") or {})

    def _record_summary(self, test: Any) -> dict[str, Any]:
        ago = relative_time(test.created_at) if test.created_at else ""
        final = {name: getattr(test, name) for name in BASELINE_METRICS}
        return {
            "params_text": _trained_params(test),
            # The model against the trivial baselines on the same split (issue 14).
            "baseline_notes": verdicts(final, test.split.get("baselines") or {}),
            # what tells two runs of the same configs apart
            "settings": f"#{test.id} • {test.get_effective_epochs()} epochs • batch "
            f"{test.get_effective_batch_size()} • lr {format_number(test.get_effective_learning_rate())}",
            "id": test.id,
            "title": test.title(),
            "status": test.status,
            "status_label": STATUS_LABELS.get(test.status, test.status),
            "recall_at_100": format_percent(test.recall_at_100),
            "loss": format_number(round(test.loss, 4)) if test.loss is not None else None,
            "rmse": format_number(round(test.rmse, 4)) if test.rmse is not None else None,
            "duration": format_duration(test.duration_seconds),
            "ago": short_ago(ago),
            "error": test.error_message,
            "error_stage": test.error_stage,
            "warnings": list(test.warnings),
            "model_type": test.model_config_snapshot.get("model_type", "retrieval"),
            "backend": test.backend,
            "console_url": test.vertex_console_url,
        }

    def _load_recent(self) -> None:
        tests = self._store.quick_tests.list(limit=10)
        self.recent = [self._record_summary(test) for test in tests]
        if self.compare_ids:  # a ticked run finished, or was deleted elsewhere
            self._update_comparison()

    # ── comparing runs ──────────────────────────────────────────────────────────────────

    def compare(self, test_ids: list[int]) -> CompareView:
        """Tick these runs (replacing the ticks) and compare them below Recent Quick Tests."""
        self.compare_ids = [int(i) for i in test_ids]
        return self.comparison

    @traitlets.validate("compare_ids")
    def _valid_compare_ids(self, proposal: Any) -> list[int]:
        return list(dict.fromkeys(proposal["value"]))  # each run once, in ticking order

    @traitlets.observe("compare_ids")
    def _on_compare_ids(self, change: Any) -> None:
        if self.comparison is not None:
            with self._store_lock:
                self._update_comparison()

    def _update_comparison(self) -> None:
        """Show the ticked runs that still exist; drop (and say so) the ones deleted."""
        runs, gone = [], []
        for test_id in self.compare_ids:
            try:
                runs.append(self._store.quick_tests.get(test_id))
            except LookupError:
                gone.append(test_id)
        if gone:
            self.compare_ids = [t.id for t in runs]  # runs this again, without them
            self.message = "Quick test " + ", ".join(f"#{i}" for i in gone) + " no longer exists"
            return
        if len(runs) < 2:
            hint = f"Tick one more run to compare it with #{runs[0].id}." if runs else EMPTY_TEXT
            self.comparison.show(None, hint)
        else:
            self.comparison.show(compare(runs, self._store))

    def view_results(self, test_id: int) -> Any:
        """View Results: the test's metrics in the table and its summary."""
        test = self._store.quick_tests.get(test_id)
        live = getattr(getattr(self._handle, "record", None), "id", None) if self.running else None
        with self.hold_sync():
            if live is not None and test_id == live:  # back to the run in progress
                self._viewing = None
                self.result = {}
                self.metrics.title = self._live_title
                self.metrics.set_baselines(self._live_baselines(), flush=False)
                self.metrics.df = metrics_frame(self._rows, key_only=True)
                self.metrics.flush()
                return test
            self._viewing = test_id
            self.result = self._record_summary(test)
            if not self.running:  # the last run's progress and status are not this test's
                self.status, self.stage, self.progress, self.message = "", "", 0, ""
            self.metrics.title = f"Metrics: {test.title()}"
            self.metrics.set_baselines(test.split.get("baselines"), flush=False)
            self.metrics.df = test.key_metrics  # the live table's columns, not every log
            self.metrics.flush()
        return test

    # ── commands ────────────────────────────────────────────────────────────────────────

    def _cmd_start(self, msg: dict[str, Any]) -> None:
        # The command carries the selections the user saw: ipywidgets holds a state update
        # back while an earlier one is unanswered (a busy kernel) but sends commands at
        # once, so a choice made just before Start could otherwise arrive after it.
        selection = msg.get("selection")
        if isinstance(selection, dict):
            changed = {
                k: v
                for k, v in selection.items()
                if k in SELECTION_TRAITS and v != getattr(self, k)
            }
            if changed:
                self.set_state(changed)
        self.start()

    def _cmd_cancel(self, msg: dict[str, Any]) -> None:
        self.cancel()

    def _cmd_view_results(self, msg: dict[str, Any]) -> None:
        self.view_results(int(msg["test_id"]))

    def _cmd_refresh(self, msg: dict[str, Any]) -> None:
        self.refresh()

    def open_preview(self, test_id: int) -> Any:
        """Preview: a ``RecommendationPreview`` of a completed test below the panel (it
        replaces the one shown before, whose serving worker stops)."""
        from towerwidgets.widgets.preview import RecommendationPreview

        new = RecommendationPreview(test_id, products=self.preview_products, store=self._store)
        old, self.preview = self.preview, new
        if old is not None:
            old.close()
        return new

    def _cmd_preview(self, msg: dict[str, Any]) -> None:
        self.open_preview(int(msg["test_id"]))

    def _command_failed(self, kind: str, exc: BaseException) -> None:
        self.message = _message(exc)

    def __repr__(self) -> str:
        return (
            f"QuickTestPanel(feature_config_id={self.feature_config_id}, "
            f"model_config_id={self.model_config_id}, status={self.status!r})"
        )


def _trained_params(test: Any) -> str:
    """The model's exact parameter count once its transform counted the vocabularies
    ('' before): the same figure Keras' count_params() gives for the trained model."""
    sizes = (test.vocabulary_stats or {}).get("transform_vocabularies")
    if not sizes:
        return ""
    try:
        counts = count_params(test.model_config_obj, test.feature_config_obj, sizes)
    except Exception:  # an old record whose snapshots no longer validate: say nothing
        return ""
    return counts["text"] if counts["exact"] else ""


def rating_warning(name: str, column: Any) -> str:
    """Why a numeric column does not look like a rating ("" when it does): ratings are a
    handful of small values (1-5 stars, 0-10, 0/1); a time or an id is not."""
    values = column.dropna()
    if values.empty:
        return f"{name} has no values"
    low, high = float(values.min()), float(values.max())
    if any(word in name.lower() for word in ("time", "date", "_at", "epoch")) or (
        low > 1e8 and high < 1e10
    ):
        return f"{name} looks like a time ({low:.3g} - {high:.3g}), not a rating"
    if high - low > 100 or values.nunique() > 100:
        return (
            f"{name} spans {low:.3g} - {high:.3g} with {values.nunique()} distinct values; "
            "ratings are usually a few small values (1-5, 0-10)"
        )
    return ""


def _num(value: Any) -> float | None:
    try:
        out = float(value)
    except (TypeError, ValueError):
        return None
    return round(out, 4) if out == out else None
