"""What a pipeline run left behind: per-epoch metrics (``metrics.jsonl``), the pushed model,
and a way to query it. Light: pandas and the standard library."""

from __future__ import annotations

import contextlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from towerwidgets.pipeline.environment import PipelineError, run_tfx

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["PipelineRun", "latest_run_dir", "read_metrics"]


def read_metrics(path: str | Path) -> pd.DataFrame:
    """``metrics.jsonl`` (or the folder holding it) as a DataFrame, one row per epoch.

    A line still being written (a partial last line) is skipped, so a file can be read
    while the Trainer runs."""
    import pandas as pd

    path = Path(path)
    if path.is_dir():
        path = path / "metrics.jsonl"
    rows = []
    with contextlib.suppress(FileNotFoundError):
        for line in path.read_text(encoding="utf-8").splitlines():
            with contextlib.suppress(ValueError):
                rows.append(json.loads(line))
    frame = pd.DataFrame(rows)
    if "epoch" in frame.columns:
        frame = frame.set_index("epoch")
    return frame


def latest_run_dir(parent: str | Path) -> Path | None:
    """The newest numbered folder under ``parent`` (TFX names artifact folders by
    execution id and the Pusher its pushes by timestamp)."""
    parent = Path(parent)
    if not parent.is_dir():
        return None
    numbered = [p for p in parent.iterdir() if p.is_dir() and p.name.isdigit()]
    return max(numbered, key=lambda p: int(p.name)) if numbered else None


@dataclass
class PipelineRun:
    """A finished local run: where things are, the metrics, and a query helper."""

    pipeline_root: Path
    model_run_dir: Path | None
    pushed_model_dir: Path | None
    log_path: Path
    seconds: float
    components: list[str] = field(default_factory=list)
    definition: Any = None

    @classmethod
    def from_local(
        cls, definition: Any, events: list[dict[str, Any]], log_path: Path, seconds: float
    ) -> PipelineRun:
        root = Path(definition.pipeline_root)
        pushed = latest_run_dir(definition.spec["serving_model_dir"])
        if pushed is None:
            raise PipelineError("The pipeline finished but pushed no model", log_path, "Pusher")
        return cls(
            pipeline_root=root,
            model_run_dir=latest_run_dir(root / "Trainer" / "model_run"),
            pushed_model_dir=pushed,
            log_path=log_path,
            seconds=seconds,
            components=[
                e["name"]
                for e in events
                if e.get("event") == "component" and e.get("state") == "done"
            ],
            definition=definition,
        )

    @property
    def metrics(self) -> pd.DataFrame:
        """Per-epoch metrics the generated Trainer wrote to ``metrics.jsonl``."""
        import pandas as pd

        if self.model_run_dir is None:
            return pd.DataFrame()
        return read_metrics(self.model_run_dir)

    def final_metrics(self) -> dict[str, float]:
        frame = self.metrics
        return {} if frame.empty else {k: float(v) for k, v in frame.iloc[-1].items()}

    def query(self, features: dict[str, list[Any]], signature: str = "serving_default") -> dict:
        """Call the pushed model's signature on raw features (column or signature input
        name → list of values), in the TFX environment; returns its outputs as lists."""
        assert self.pushed_model_dir is not None
        request = self.pipeline_root / "query.json"
        names = {}
        if self.definition is not None:
            from towerwidgets.runner.prepare import module_constants

            names = module_constants(self.definition.transform_code).get("SERVING_INPUT_NAMES", {})
        request.write_text(
            json.dumps(
                {
                    "signature": signature,
                    "features": {names.get(k, k): v for k, v in features.items()},
                }
            )
        )
        events = run_tfx(
            "query",
            str(self.pushed_model_dir),
            str(request),
            log_path=self.pipeline_root / "query.log",
        )
        answers = [e for e in events if e.get("event") == "answer"]
        if not answers:
            raise PipelineError("The model gave no answer", self.pipeline_root / "query.log")
        return answers[-1]["outputs"]
