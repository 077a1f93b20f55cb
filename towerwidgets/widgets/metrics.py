"""``MetricsTable``: per-epoch metrics as a sortable table with best values and sparklines."""

from __future__ import annotations

import math
import threading
import time
from typing import Any

import traitlets

from towerwidgets.runner.baselines import beats, lower_is_better
from towerwidgets.widgets._base import TowerWidget

# Which way is better, by column name. Unknown numeric columns get no "best" highlight.
LOWER_IS_BETTER = ("loss", "val_loss", "rmse", "mae", "total_loss", "regularization_loss")
HIGHER_IS_BETTER_PREFIXES = ("recall", "accuracy", "auc", "precision", "ndcg", "map")
MIN_INTERVAL_S = 0.1  # at most 10 updates per second reach the front end


def better(column: str) -> str | None:
    """'min', 'max' or None: how the best value of ``column`` is chosen."""
    name = column.lower()
    if name in LOWER_IS_BETTER or name.endswith(("loss", "_rmse", "_mae")):
        return "min"
    if name.startswith(HIGHER_IS_BETTER_PREFIXES) or name.startswith("val_recall"):
        return "max"
    return None


def _clean(value: Any) -> Any:
    """JSON-safe cell: NaN/inf become None, numpy scalars become Python numbers."""
    if hasattr(value, "item") and not isinstance(value, str | bytes):
        try:
            value = value.item()
        except Exception:
            value = str(value)
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


class MetricsTable(TowerWidget):
    """Feed it a pandas DataFrame (``table.df = frame``); it shows the latest, ≤10 times/s."""

    _view = traitlets.Unicode("metrics_table").tag(sync=True)
    columns = traitlets.List(traitlets.Unicode()).tag(sync=True)
    rows = traitlets.List(traitlets.Dict()).tag(sync=True)
    best = traitlets.Dict().tag(sync=True)
    sort_by = traitlets.Unicode("").tag(sync=True)
    sort_descending = traitlets.Bool(False).tag(sync=True)
    title = traitlets.Unicode("").tag(sync=True)
    empty_text = traitlets.Unicode("No metrics yet: rows appear as epochs finish.").tag(sync=True)
    # The trivial baselines on the same split (most popular, training mean) as a last row:
    # {"label", "values": {column: number}, "beaten": {column: bool}} ({} when none).
    baseline = traitlets.Dict().tag(sync=True)

    def __init__(self, df: Any = None, **kwargs: Any) -> None:
        self._df = None
        self._lock = threading.Lock()
        self._last_push = 0.0
        self._timer: threading.Timer | None = None
        self._baselines: dict[str, float] = {}
        self.push_count = 0
        super().__init__(**kwargs)
        if df is not None:
            self.df = df
            self.flush()

    @property
    def df(self) -> Any:
        """The latest DataFrame assigned (a copy); an empty frame before any."""
        import pandas as pd

        return pd.DataFrame() if self._df is None else self._df.copy()

    @df.setter
    def df(self, frame: Any) -> None:
        import pandas as pd

        if frame is None:
            frame = pd.DataFrame()
        if not isinstance(frame, pd.DataFrame):
            frame = pd.DataFrame(frame)
        with self._lock:
            self._df = frame.copy()
            wait = self._last_push + MIN_INTERVAL_S - time.monotonic()
            if wait > 0:
                if self._timer is None:
                    self._timer = threading.Timer(wait, self.flush)
                    self._timer.daemon = True
                    self._timer.start()
                return
        self.flush()

    def flush(self) -> None:
        """Send the latest DataFrame now (the throttle calls this; tests may too)."""
        with self._lock:
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
            frame = self._df
            self._last_push = time.monotonic()
        if frame is None:
            return
        columns = [str(c) for c in frame.columns]
        rows = [
            {str(k): _clean(v) for k, v in record.items()}
            for record in frame.to_dict(orient="records")
        ]
        best: dict[str, Any] = {}
        for column in columns:
            mode = better(column)
            values = [
                (i, row[column])
                for i, row in enumerate(rows)
                if isinstance(row.get(column), int | float) and not isinstance(row[column], bool)
            ]
            if mode and values and len({value for _, value in values}) > 1:  # ties tell nothing
                pick = min if mode == "min" else max
                index, value = pick(values, key=lambda pair: pair[1])
                best[column] = {"row": index, "value": value, "mode": mode}
        self.push_count += 1
        baseline: dict[str, Any] = {}
        shown = {c: v for c, v in self._baselines.items() if c in columns}
        if shown and rows:
            beaten = {}
            for column, value in shown.items():
                numbers = [r[column] for r in rows if isinstance(r.get(column), int | float)]
                pick = min if lower_is_better(column) else max
                beaten[column] = bool(numbers) and bool(beats(column, pick(numbers), value))
            baseline = {
                "label": "Baseline",
                "title": "Most popular products (Recall@K) and the training mean (RMSE, "
                "MAE), on the same split",
                "values": shown,
                "beaten": beaten,
            }
        with self.hold_sync():
            self.columns = columns
            self.rows = rows
            self.best = best
            self.baseline = baseline

    def set_baselines(self, baselines: dict[str, float] | None, *, flush: bool = True) -> None:
        """The trivial baselines of the test shown (``QuickTest.split["baselines"]``)."""
        self._baselines = dict(baselines or {})
        if flush:
            self.flush()

    def clear(self) -> None:
        """Empty the table, title and baselines included (the next rows may be another
        test's)."""
        import pandas as pd

        self._baselines = {}
        self.df = pd.DataFrame()
        self.flush()
        self.title = ""

    def sort(self, column: str, descending: bool = False) -> None:
        """Sort the view by ``column`` (the data in ``.df`` keeps its order)."""
        if column and column not in self.columns:
            raise ValueError(f"Unknown column {column!r}; choose one of: {', '.join(self.columns)}")
        self.sort_by, self.sort_descending = column, descending

    def __repr__(self) -> str:
        return f"MetricsTable(rows={len(self.rows)}, columns={self.columns!r})"
