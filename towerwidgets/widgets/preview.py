"""``RecommendationPreview``: what a completed quick test's model recommends to a buyer.

Pick a buyer (search by id prefix) or type the buyer tower's raw features; the widget shows
the exported model's top-k products with scores and product attributes, beside the buyer's
history from the training split (and, for ranking models, predicted vs actual ratings on
the buyer's eval rows). The model runs in a serving worker process (``runner/preview.py``);
answers are computed on one background thread, which alone writes the result traits.
"""

from __future__ import annotations

import threading
from typing import Any, ClassVar

import traitlets

from towerwidgets.runner.preview import DEFAULT_K, MAX_BUYERS_LISTED, Previewer, PreviewError
from towerwidgets.widgets._base import TowerWidget
from towerwidgets.widgets.metrics import _clean

MAX_HISTORY_ROWS = 200  # a long history is cut for the table (``history()`` has it all)


def _table(frame: Any, limit: int | None = None) -> dict[str, Any]:
    """A DataFrame as ``{"columns", "rows", "total"}`` with JSON-safe cells."""
    shown = frame if limit is None else frame.head(limit)
    columns = [str(c) for c in shown.columns]
    rows = [{str(k): _clean(v) for k, v in record.items()} for record in shown.to_dict("records")]
    return {"columns": columns, "rows": rows, "total": len(frame)}


class RecommendationPreview(TowerWidget):
    """A completed quick test's recommendations for one buyer, beside the buyer's history.

    ``RecommendationPreview(quick_test, products=None, store=None)``: ``quick_test`` is a
    stored id or a ``QuickTest``; ``products`` an optional product table (DataFrame or
    CSV/Parquet path keyed by the product id column, e.g. MovieLens ``movies.csv``).
    """

    _view = traitlets.Unicode("recommendation_preview").tag(sync=True)
    # the previewed test: id, "features + model" title, model type, buyers in training
    quick_test_id = traitlets.Int(0).tag(sync=True)
    heading = traitlets.Unicode("").tag(sync=True)
    model_type = traitlets.Unicode("").tag(sync=True)
    n_buyers = traitlets.Int(0).tag(sync=True)
    # the search box (set by the front end) and the buyer ids starting with it (≤ 50)
    query = traitlets.Unicode("").tag(sync=True)
    matches = traitlets.List(traitlets.Unicode()).tag(sync=True)
    # what is shown: the buyer id ("" for typed features) and how many products
    buyer = traitlets.Unicode("").tag(sync=True)
    k = traitlets.Int(DEFAULT_K).tag(sync=True)
    # leave out the products the buyer already has in the training split
    exclude_history = traitlets.Bool(False).tag(sync=True)
    # the buyer tower's raw columns for the typed-features form: {column, kind, value}
    fields = traitlets.List(traitlets.Dict()).tag(sync=True)
    # tables as {"columns", "rows", "total"}: top-k, training history, eval ratings
    results = traitlets.Dict().tag(sync=True)
    history_table = traitlets.Dict().tag(sync=True)
    ratings_table = traitlets.Dict().tag(sync=True)
    # "" when idle, else what is being done ("Loading the model…"); a message on failure
    status = traitlets.Unicode("").tag(sync=True)
    error = traitlets.Unicode("").tag(sync=True)

    _commands: ClassVar[dict[str, str]] = {
        "show": "_cmd_show",
        "recommend_features": "_cmd_features",
    }

    def __init__(
        self, quick_test: Any = None, products: Any = None, store: Any = None, **kwargs: Any
    ) -> None:
        if quick_test is None:
            raise TypeError("RecommendationPreview() needs a quick test (a stored id or record)")
        self._previewer = Previewer(quick_test, products=products, store=store)
        self._lock = threading.Lock()
        self._generation = 0
        self._thread: threading.Thread | None = None
        record = self._previewer.record
        super().__init__(**kwargs)
        with self.hold_sync():
            self.quick_test_id = int(record.id or 0)
            self.heading = f"Quick test {record.id}: {record.title()}"
            self.model_type = self._previewer.model_type
            self.n_buyers = self._previewer.n_buyers
            self.fields = self._previewer.feature_fields()
            self.matches = self._previewer.buyers(self.query)
        self._previewer.start()  # the model loads while the user picks a buyer

    # ── Python face ─────────────────────────────────────────────────────────────────────

    def recommend(
        self, buyer_id: Any = None, *, features: dict[str, Any] | None = None, k: int | None = None
    ) -> Any:
        """The top-k products for a buyer id (or raw buyer ``features``) as a DataFrame."""
        return self._previewer.recommend(
            buyer_id, features=features, k=k or self.k, exclude_history=self.exclude_history
        )

    def history(self, buyer_id: Any) -> Any:
        """The buyer's rows of the training split, with product attributes."""
        return self._previewer.history(buyer_id)

    def ratings(self, buyer_id: Any) -> Any:
        """Ranking/multitask: the buyer's eval rows, predicted vs actual rating."""
        return self._previewer.ratings(buyer_id)

    def buyers(self, prefix: str = "", limit: int = MAX_BUYERS_LISTED) -> list[str]:
        """Buyer ids of the training split starting with ``prefix``."""
        return self._previewer.buyers(prefix, limit)

    def show(self, buyer_id: Any = None, *, features: dict[str, Any] | None = None) -> None:
        """Show a buyer (or typed features) in the widget; blocks until it is shown. A
        mistake (an unknown buyer, a bad value) is shown in ``error`` and raised."""
        self._start(buyer_id, features)
        self.wait()
        if self.error:
            raise PreviewError(self.error)

    def wait(self, timeout: float | None = None) -> None:
        """Block until the latest request has been answered."""
        thread = self._thread
        if thread is not None:
            thread.join(timeout)

    def close(self) -> None:
        """Close the widget and stop its serving worker."""
        self._generation = getattr(self, "_generation", 0) + 1  # a late answer is dropped
        previewer = getattr(self, "_previewer", None)  # None: the constructor refused
        if previewer is not None:
            previewer.close()
        super().close()

    # ── commands ────────────────────────────────────────────────────────────────────────

    @traitlets.observe("query")
    def _on_query(self, change: dict[str, Any]) -> None:
        self.matches = self._previewer.buyers(str(change["new"]))

    @traitlets.observe("exclude_history", "k")
    def _on_options(self, change: dict[str, Any]) -> None:
        if self.buyer:  # show the buyer again with the new option
            self._start(self.buyer, None)

    @traitlets.validate("k")
    def _valid_k(self, proposal: dict[str, Any]) -> int:
        value = proposal["value"]
        if not 1 <= value <= 100:
            raise traitlets.TraitError(f"k must be between 1 and 100, not {value}")
        return value

    def _cmd_show(self, msg: dict[str, Any]) -> None:
        buyer = str(msg.get("buyer") or "").strip()
        if not buyer:
            raise ValueError("Type or pick a buyer id")
        self._start(buyer, None)

    def _cmd_features(self, msg: dict[str, Any]) -> None:
        values = msg.get("values")
        if not isinstance(values, dict):
            raise ValueError("values must be an object of buyer column -> value")
        self._start(None, values)

    def _start(self, buyer_id: Any, features: dict[str, Any] | None) -> None:
        with self._lock:
            self._generation += 1
            generation = self._generation
            first = not self._previewer.worker.signatures
            self.status = "Loading the model (first preview)…" if first else "Scoring…"
            self.error = ""
            self._thread = threading.Thread(
                target=self._answer,
                args=(generation, buyer_id, features),
                name="tw-preview",
                daemon=True,
            )
            self._thread.start()

    def _answer(self, generation: int, buyer_id: Any, features: dict[str, Any] | None) -> None:
        """Runs on the background thread; only the latest request writes its answer."""
        p = self._previewer
        update: dict[str, Any] = {}
        try:
            top = self.recommend(buyer_id, features=features)
            update["results"] = _table(top)
            if features is None:
                update["history_table"] = _table(p.history(buyer_id), MAX_HISTORY_ROWS)
                update["fields"] = p.feature_fields(buyer_id)
                update["ratings_table"] = (
                    _table(p.ratings(buyer_id)) if self.model_type != "retrieval" else {}
                )
                update["buyer"] = str(buyer_id).strip()
            else:
                update["history_table"] = {}
                update["ratings_table"] = {}
                update["buyer"] = ""
            update["error"] = ""
        except PreviewError as error:
            update = {"error": str(error)}
        except Exception as error:  # a bug: a message, never a dead widget
            update = {"error": f"The preview failed: {type(error).__name__}: {error}"}
        with self._lock:
            if generation != self._generation or self.comm is None:
                return
            with self.hold_sync():
                for name, value in update.items():
                    setattr(self, name, value)
                self.status = ""

    def __repr__(self) -> str:
        return (
            f"RecommendationPreview(quick_test={self.quick_test_id}, "
            f"model_type={self.model_type!r}, buyer={self.buyer!r})"
        )


def preview(quick_test: Any, products: Any = None, store: Any = None) -> RecommendationPreview:
    """A ``RecommendationPreview`` of a completed quick test (an id or a record), with an
    optional product table whose columns (titles, genres…) are joined to the products."""
    return RecommendationPreview(quick_test, products=products, store=store)
