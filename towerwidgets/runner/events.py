"""Events a quick test emits while it runs: stage changes, progress, epoch metrics, warnings.

The worker writes one JSON object per line; the kernel turns each into a
:class:`QuickTestEvent`, applies it to the QuickTest record and hands it to listeners
(the ``events()`` iterator, widgets, the CLI table). Standard library, plus the stage list
from the config package.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import asdict, dataclass, field
from typing import Any

from towerwidgets.config.quick_test import STAGES  # the one stage list

__all__ = [
    "EVENT_KINDS",
    "STAGE_PROGRESS",
    "QuickTestEvent",
    "decode_line",
    "encode_event",
    "stage_percent",
]

# progress_percent at the start of each stage; a stage runs up to the next one's value.
STAGE_PROGRESS: dict[str, int] = {
    "validate": 0,
    "prepare data": 5,
    "transform": 10,
    "train": 30,
    "evaluate": 85,
    "export": 92,
    "done": 100,
}

# stage:    a stage started (stage, progress_percent)
# progress: progress inside a stage (epoch, batch, steps, loss in metrics)
# epoch:    an epoch finished (epoch, metrics: loss, val_loss, recall_at_k, rmse, mae, ...)
# warning:  a non-blocking problem (message)
# info:     facts for the record (metrics: vocabulary stats, cache hit, export path, ...)
# status:   the status changed (status; message/error_stage when failed)
EVENT_KINDS = ("stage", "progress", "epoch", "warning", "info", "status")


@dataclass
class QuickTestEvent:
    """One thing that happened in a quick test."""

    kind: str
    stage: str = ""
    progress_percent: int | None = None
    epoch: int | None = None
    metrics: dict[str, Any] = field(default_factory=dict)
    message: str = ""
    status: str = ""
    test_id: int | None = None
    time: float = field(default_factory=time.time)

    @property
    def is_final(self) -> bool:
        return self.kind == "status" and self.status in ("completed", "failed", "cancelled")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> QuickTestEvent:
        known = {k: data[k] for k in cls.__dataclass_fields__ if k in data}
        return cls(**known)

    def __str__(self) -> str:
        if self.kind == "stage":
            return f"[{self.progress_percent:>3}%] {self.stage}"
        if self.kind == "epoch":
            shown = ", ".join(
                f"{k}={v:.4g}" for k, v in self.metrics.items() if isinstance(v, float)
            )
            return f"epoch {self.epoch}: {shown}"
        if self.kind == "progress":
            return f"[{self.progress_percent}%] {self.stage} {self.metrics}"
        if self.kind == "status":
            return f"{self.status}" + (f": {self.message}" if self.message else "")
        return f"{self.kind}: {self.message or self.metrics}"


def stage_percent(stage: str, fraction: float = 0.0) -> int:
    """progress_percent for ``fraction`` (0..1) of the way through ``stage``."""
    start = STAGE_PROGRESS.get(stage, 0)
    index = STAGES.index(stage) if stage in STAGES else len(STAGES) - 1
    end = STAGE_PROGRESS[STAGES[index + 1]] if index + 1 < len(STAGES) else 100
    fraction = min(max(fraction, 0.0), 1.0)
    return int(start + (end - start) * fraction)


def _clean(value: Any) -> Any:
    """JSON-safe: NaN/inf become strings, numpy scalars become Python numbers."""
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    if hasattr(value, "item") and callable(value.item):
        try:
            value = value.item()
        except (TypeError, ValueError):
            return str(value)
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    return value


def encode_event(payload: dict[str, Any]) -> str:
    """One line of the worker protocol."""
    return json.dumps(_clean(payload), separators=(",", ":")) + "\n"


def decode_line(line: str | bytes) -> dict[str, Any] | None:
    """Parse one protocol line; None for anything that is not an event (stray output)."""
    if isinstance(line, bytes):
        line = line.decode("utf-8", "replace")
    line = line.strip()
    if not line.startswith("{"):
        return None
    try:
        data = json.loads(line)
    except json.JSONDecodeError:
        return None
    return data if isinstance(data, dict) and "kind" in data else None
