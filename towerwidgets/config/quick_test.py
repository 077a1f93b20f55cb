"""QuickTest: one run of the generated modules on data, with everything it did recorded."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

from pydantic import Field

from towerwidgets.config.base import StoredModel
from towerwidgets.config.feature_config import FeatureConfig
from towerwidgets.config.model_config import ModelConfig
from towerwidgets.errors import InvalidTransitionError

if TYPE_CHECKING:
    import pandas as pd

Status = Literal["pending", "running", "completed", "failed", "cancelled"]
STAGES = ("validate", "prepare data", "transform", "train", "evaluate", "export", "done")
FINAL_STATUSES = ("completed", "failed", "cancelled")
# pending -> running -> completed | failed | cancelled. A pending test may also fail to start
# (its worker could not be launched) or be cancelled before it starts.
TRANSITIONS: dict[str, tuple[str, ...]] = {
    "pending": ("running", "failed", "cancelled"),
    "running": ("completed", "failed", "cancelled"),
    "completed": (),
    "failed": (),
    "cancelled": (),
}


# The metrics a quick test reports, in the order tables show them.
KEY_METRICS = (
    "epoch",
    "loss",
    "val_loss",
    "recall_at_10",
    "recall_at_50",
    "recall_at_100",
    "rmse",
    "mae",
)


def metrics_frame(rows: list[dict[str, Any]], *, key_only: bool = False) -> pd.DataFrame:
    """Epoch rows as a DataFrame, key metrics first; ``key_only`` drops the rest
    (Keras' regularization/total losses, timings) that only clutter a comparison."""
    import pandas as pd

    frame = pd.DataFrame(rows)
    if frame.empty:
        return pd.DataFrame(columns=list(KEY_METRICS[:3]))
    ordered = [c for c in KEY_METRICS if c in frame.columns]
    rest = [] if key_only else [c for c in frame.columns if c not in ordered]
    return frame[ordered + rest]


class QuickTest(StoredModel):
    """The spec's QuickTest, plus snapshots of both configs and per-epoch metrics."""

    # configuration references (None when a config was never stored) and snapshots
    feature_config_id: int | None = None
    model_config_id: int | None = None
    feature_config_snapshot: dict[str, Any] = Field(default_factory=dict)
    model_config_snapshot: dict[str, Any] = Field(default_factory=dict)

    # runtime configuration
    rating_column: str = ""
    epochs_override: int | None = Field(default=None, ge=1)
    batch_size_override: int | None = Field(default=None, ge=1)
    learning_rate_override: float | None = Field(default=None, gt=0)

    # status tracking
    status: Status = "pending"
    vertex_pipeline_id: str = ""
    vertex_console_url: str = ""
    current_stage: str = ""
    progress_percent: int = Field(default=0, ge=0, le=100)
    stage_history: list[dict[str, Any]] = Field(default_factory=list)
    backend: str = "local"
    owner_pid: int | None = None
    worker_pid: int | None = None
    # The owner's host (hostname/boot id/PID namespace): only that host signals its PIDs.
    host_id: str = ""

    # results
    loss: float | None = None
    recall_at_10: float | None = None
    recall_at_50: float | None = None
    recall_at_100: float | None = None
    rmse: float | None = None
    mae: float | None = None
    epoch_metrics: list[dict[str, Any]] = Field(default_factory=list)
    vocabulary_stats: dict[str, Any] = Field(default_factory=dict)
    warnings: list[str] = Field(default_factory=list)
    export_path: str = ""
    trainer_code: str = ""
    transform_code: str = ""
    seed: int | None = None
    split: dict[str, Any] = Field(default_factory=dict)
    data_fingerprint: str = ""

    # cost and duration
    duration_seconds: int | None = None
    estimated_duration_seconds: int | None = None
    cost_usd: float | None = None

    # error information
    error_message: str = ""
    error_stage: str = ""

    started_at: datetime | None = None
    completed_at: datetime | None = None

    def __setattr__(self, name: str, value: Any) -> None:
        if name == "status" and value != self.status:
            allowed = TRANSITIONS.get(self.status, ())
            if value not in allowed:
                raise InvalidTransitionError(
                    f"A quick test cannot go from {self.status!r} to {value!r}; from "
                    f"{self.status!r} it can go to: {', '.join(allowed) or 'nothing (final)'}"
                )
        super().__setattr__(name, value)

    @property
    def is_finished(self) -> bool:
        return self.status in FINAL_STATUSES

    # ── the spec's helpers ──────────────────────────────────────────────────────────────

    @property
    def model_config_obj(self) -> ModelConfig:
        """The ModelConfig as it was when the test started."""
        return ModelConfig.from_dict(self.model_config_snapshot)

    @property
    def feature_config_obj(self) -> FeatureConfig:
        return FeatureConfig.from_dict(self.feature_config_snapshot)

    def get_effective_epochs(self) -> int:
        """Epochs to use: the override, else the model config's default."""
        return self.epochs_override or int(self.model_config_snapshot.get("epochs", 5))

    def get_effective_batch_size(self) -> int:
        return self.batch_size_override or int(self.model_config_snapshot.get("batch_size", 4096))

    def get_effective_learning_rate(self) -> float:
        return self.learning_rate_override or float(
            self.model_config_snapshot.get("learning_rate", 0.1)
        )

    @property
    def metrics(self) -> pd.DataFrame:
        """Per-epoch metrics, one row per epoch (every value the trainer logged)."""
        return metrics_frame(self.epoch_metrics)

    @property
    def key_metrics(self) -> pd.DataFrame:
        """The columns people compare: epoch, loss, val_loss, Recall@K, RMSE, MAE."""
        return metrics_frame(self.epoch_metrics, key_only=True)

    @property
    def history(self) -> pd.DataFrame:
        """Like Keras' ``History``: one row per epoch, the columns the metrics table shows
        (epoch, loss, val_loss, Recall@K or RMSE/MAE). Every logged value: ``metrics``."""
        return self.key_metrics

    def load_model(self) -> Any:
        """The exported SavedModel, ready for ``model.signatures["serving_default"]``.

        Imports TensorFlow (in this process) only when called; everything else in
        towerwidgets keeps TensorFlow out of the kernel. Raises ``FileNotFoundError`` when
        the test exported nothing (not completed, or its export was deleted).
        """
        from pathlib import Path

        if not self.export_path or not Path(self.export_path).is_dir():
            raise FileNotFoundError(
                f"Quick test {self.id} has no exported model (status {self.status!r}"
                + (f", export_path {self.export_path!r} is gone)" if self.export_path else ")")
            )
        import tensorflow as tf

        return tf.saved_model.load(self.export_path)

    def vocabulary_sizes(self) -> dict[str, int]:
        """Vocabulary sizes the run counted (empty before the transform finished)."""
        counted = self.vocabulary_stats.get("transform_vocabularies")
        if isinstance(counted, dict) and counted:
            return {k: int(v) for k, v in counted.items() if isinstance(v, int | float)}
        columns = self.vocabulary_stats.get("columns") or {}
        return {
            k: int(v["vocabulary_size"])
            for k, v in columns.items()
            if isinstance(v, dict) and "vocabulary_size" in v
        }

    def summary(self, *, print_fn: Any = print) -> None:
        """Print the tested model's Keras-style summary, exact once vocabularies are known."""
        print_fn(str(self._model_summary()))

    def _model_summary(self) -> Any:
        from towerwidgets.config.summary import model_summary

        fc = self.feature_config_obj if self.feature_config_snapshot else None
        return model_summary(self.model_config_obj, fc, self.vocabulary_sizes())

    def __str__(self) -> str:
        """Status line, the per-epoch history and the model summary, as text."""
        head = f"QuickTest {self.id}: {self.title()} — {self.status}"
        if self.error_message:
            head += f" at {self.error_stage}: {self.error_message}"
        parts = [head, *(f"⚠ {w}" for w in self.warnings)]
        if self.epoch_metrics:
            parts.append(self.history.to_string(index=False))
        if self.model_config_snapshot:
            parts.append(str(self._model_summary()))
        return "\n".join(parts)

    def _repr_html_(self) -> str:
        import html

        status = html.escape(self.status)
        head = f"<b>QuickTest {self.id}: {html.escape(self.title())}</b> — {status}"
        if self.error_message:
            head += f" at {html.escape(self.error_stage)}: {html.escape(self.error_message)}"
        warnings = "".join(f"<br>⚠ {html.escape(w)}" for w in self.warnings)
        history = self.history.to_html(index=False) if self.epoch_metrics else ""
        model = self._model_summary()._repr_html_() if self.model_config_snapshot else ""
        return f"<div>{head}{warnings}{history}{model}</div>"

    def title(self) -> str:
        """'Feature config name + Model config name'."""
        fc = self.feature_config_snapshot.get("name") or "?"
        mc = self.model_config_snapshot.get("name") or "?"
        return f"{fc} + {mc}"
