"""``CompareView``: quick tests side by side — a chart per metric, a line per run, and the
settings that differ. Python computes the series and the diff; the front end draws them."""

from __future__ import annotations

from typing import Any

import traitlets

from towerwidgets.results.comparison import Comparison, run_label
from towerwidgets.widgets._base import TowerWidget

EMPTY_TEXT = "Tick two or more runs in Recent Quick Tests to compare them."


class CompareView(TowerWidget):
    """Charts and config diff of a ``Comparison`` (``tw.compare([...])`` displays one; the
    QuickTestPanel holds one for the runs ticked in Recent Quick Tests)."""

    _view = traitlets.Unicode("compare").tag(sync=True)
    # [{id, label, status, epochs}] in the order given; a run's position picks its colour,
    # marker and dash pattern in every chart and in the legend.
    runs = traitlets.List(traitlets.Dict()).tag(sync=True)
    # [{metric, label, better: "lower"|"higher", series: [{run_id, index, points: [[epoch, value]]}]}]
    charts = traitlets.List(traitlets.Dict()).tag(sync=True)
    # [{section, field, values: [text per run]}]: only the settings that differ.
    diff = traitlets.List(traitlets.Dict()).tag(sync=True)
    # Shown instead of the charts when there is nothing to compare (fewer than two runs).
    message = traitlets.Unicode(EMPTY_TEXT).tag(sync=True)

    def __init__(self, comparison: Comparison | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._comparison: Comparison | None = None
        if comparison is not None:
            self.show(comparison)

    @property
    def comparison(self) -> Comparison | None:
        """What is shown (None when fewer than two runs are)."""
        return self._comparison

    @property
    def frame(self) -> Any:
        """The tidy metrics DataFrame of what is shown (None when nothing is)."""
        return self._comparison.frame if self._comparison is not None else None

    def show(self, comparison: Comparison | None, message: str = EMPTY_TEXT) -> None:
        """Show ``comparison``, or clear the view and show ``message``."""
        self._comparison = comparison
        with self.hold_sync():
            if comparison is None:
                self.runs, self.charts, self.diff = [], [], []
                self.message = message
                return
            self.runs = [
                {
                    "id": test.id,
                    "label": run_label(test),
                    "status": test.status,
                    "epochs": len(test.epoch_metrics),
                }
                for test in comparison.runs
            ]
            self.charts = comparison.charts
            self.diff = comparison.diff_rows
            self.message = ""

    def __repr__(self) -> str:
        return f"CompareView(runs={[run['id'] for run in self.runs]})"
