"""Compare quick tests: a tidy frame of their per-epoch metrics and a diff of their configs.

Pure logic (no widget, no TensorFlow): ``tw.compare([3, 4])`` works in a script and in the
CLI; in a notebook the returned ``Comparison`` displays as a ``CompareView`` widget (one
chart per metric, a line per run, and the settings that differ).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from towerwidgets.config.layers import ACTIVATION_LABELS, parse_layers
from towerwidgets.config.model_config import MODEL_TYPE_LABELS, OPTIMIZER_LABELS
from towerwidgets.config.quick_test import KEY_METRICS, QuickTest

if TYPE_CHECKING:
    import pandas as pd

# The metrics charted, in the order of the metrics table, with the names people read.
METRIC_LABELS = {
    "loss": "Loss",
    "val_loss": "Validation loss",
    "recall_at_10": "Recall@10",
    "recall_at_50": "Recall@50",
    "recall_at_100": "Recall@100",
    "rmse": "RMSE",
    "mae": "MAE",
}
LOWER_IS_BETTER = frozenset({"loss", "val_loss", "rmse", "mae"})
FRAME_COLUMNS = ["run_id", "label", "epoch", "metric", "value"]
MISSING = "—"


class CompareError(ValueError):
    """The runs asked for cannot be compared (unknown id, too few runs, not a run)."""


def run_label(test: QuickTest) -> str:
    """'#3 Sample features + Minimal Retrieval': the id tells two runs of one config apart."""
    return f"#{test.id} {test.title()}"


def load_runs(ids_or_records: Iterable[Any], store: Any = None) -> list[QuickTest]:
    """Quick tests from ids (read from ``store``, the default store when None) or records,
    in the order given, each once. Unknown ids are all named in one message."""
    if isinstance(ids_or_records, str | bytes | int | QuickTest):
        raise CompareError(
            "compare() takes a list of quick-test ids or records, e.g. tw.compare([3, 4])"
        )
    items = list(ids_or_records)
    runs: list[QuickTest] = []
    missing: list[str] = []
    seen: set[Any] = set()
    for item in items:
        if isinstance(item, QuickTest):
            test = item
        elif isinstance(item, int) and not isinstance(item, bool):
            if store is None:
                from towerwidgets.store import Store

                store = Store()
            try:
                test = store.quick_tests.get(item)
            except LookupError:
                missing.append(str(item))
                continue
        else:
            raise CompareError(
                f"{item!r} is not a quick-test id: pass integer ids (like 3) or QuickTest records"
            )
        key = test.id if test.id is not None else id(test)
        if key not in seen:
            seen.add(key)
            runs.append(test)
    if missing:
        known = _known_ids(store)
        raise CompareError(
            f"No quick test with id {', '.join(missing)} in the store"
            + (f"; stored ids: {known}" if known else "; the store has no quick tests")
        )
    if len(runs) < 2:
        raise CompareError(
            f"Comparing needs two or more different quick tests; got {len(runs)}"
            + (f" (#{runs[0].id})" if runs else "")
        )
    return runs


def _known_ids(store: Any) -> str:
    """'1, 2, 5' (or the 20 most recent ids, when there are more)."""
    recent = store.quick_tests.list(limit=21) if store is not None else []
    ids = ", ".join(str(i) for i in sorted(t.id for t in recent[:20]))
    return ids if len(recent) <= 20 else f"{ids} (the 20 most recent)"


def tidy_frame(runs: Iterable[QuickTest]) -> pd.DataFrame:
    """One row per run × epoch × metric (run_id, label, epoch, metric, value): the shape
    plotting libraries and ``groupby`` want. Only the key metrics, only numbers."""
    import pandas as pd

    rows = []
    for test in runs:
        label = run_label(test)
        for entry in sorted(test.epoch_metrics, key=lambda r: int(r.get("epoch", 0))):
            for metric in KEY_METRICS[1:]:
                value = entry.get(metric)
                if _is_number(value):
                    rows.append((test.id, label, int(entry["epoch"]), metric, float(value)))
    frame = pd.DataFrame(rows, columns=FRAME_COLUMNS)
    return frame.astype({"epoch": "int64", "value": "float64"})


def _is_number(value: Any) -> bool:
    return (
        isinstance(value, int | float) and not isinstance(value, bool) and value == value
    )  # NaN != NaN


def chart_specs(runs: list[QuickTest]) -> list[dict[str, Any]]:
    """One chart per metric any run logged: its series (points per run, in run order)."""
    frame = tidy_frame(runs)
    charts = []
    for metric in KEY_METRICS[1:]:
        part = frame[frame["metric"] == metric]
        if part.empty:
            continue
        series = []
        for index, test in enumerate(runs):
            points = part[part["run_id"] == test.id]
            series.append(
                {
                    "run_id": test.id,
                    "index": index,
                    "points": [
                        [int(e), float(v)]
                        for e, v in zip(points["epoch"], points["value"], strict=True)
                    ],
                }
            )
        charts.append(
            {
                "metric": metric,
                "label": METRIC_LABELS[metric],
                "better": "lower" if metric in LOWER_IS_BETTER else "higher",
                "series": series,
            }
        )
    return charts


# ── the config diff ─────────────────────────────────────────────────────────────────────


def _layer_text(layer: Any) -> str:
    if layer.type == "dense":
        text = f"Dense({layer.units}, {ACTIVATION_LABELS[layer.activation]}"
        return text + (f", L2 {layer.l2_reg:g})" if layer.l2_reg else ")")
    return layer.label()


def _feature_text(feature: dict[str, Any]) -> str:
    transform = feature.get("transform", "embedding")
    extra = []
    if feature.get("num_buckets"):
        extra.append(f"{feature['num_buckets']} buckets")
    if feature.get("embedding_dim"):
        extra.append(f"dim {feature['embedding_dim']}")
    if feature.get("period"):
        extra.append(f"period {feature['period']}")
    return transform + (f" ({', '.join(extra)})" if extra else "")


def _fmt(value: Any) -> str:
    if value is None or value == "":
        return MISSING
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def config_facts(test: QuickTest) -> dict[tuple[str, str], str]:
    """Everything that shapes a run, flattened to (section, field) -> text: layers one row
    each, features one row per column, the split and seed the data came from."""
    mc = test.model_config_snapshot
    fc = test.feature_config_snapshot
    split = test.split or {}
    facts: dict[tuple[str, str], str] = {
        ("Configs", "Feature config"): _fmt(fc.get("name")),
        ("Configs", "Model config"): _fmt(mc.get("name")),
        ("Model", "Model type"): MODEL_TYPE_LABELS.get(mc.get("model_type", ""), MISSING),
    }
    for key, title in (
        ("buyer_tower_layers", "Buyer tower"),
        ("product_tower_layers", "Product tower"),
        ("rating_head_layers", "Rating head"),
    ):
        for n, layer in enumerate(parse_layers(mc.get(key) or []), start=1):
            facts[("Model", f"{title} layer {n}")] = _layer_text(layer)
    for key, title in (
        ("output_embedding_dim", "Output embedding dim"),
        ("share_tower_weights", "Shared tower weights"),
        ("retrieval_weight", "Retrieval weight"),
        ("ranking_weight", "Ranking weight"),
    ):
        facts[("Model", title)] = _fmt(mc.get(key))
    facts[("Training", "Optimizer")] = OPTIMIZER_LABELS.get(mc.get("optimizer", ""), MISSING)
    facts[("Training", "Learning rate")] = _fmt(test.get_effective_learning_rate())
    facts[("Training", "Batch size")] = _fmt(test.get_effective_batch_size())
    facts[("Training", "Epochs")] = _fmt(test.get_effective_epochs())
    facts[("Features", "Buyer ID column")] = _fmt(fc.get("buyer_id_column"))
    facts[("Features", "Product ID column")] = _fmt(fc.get("product_id_column"))
    for key, title in (("buyer_features", "Buyer"), ("product_features", "Product")):
        for feature in fc.get(key) or []:
            facts[("Features", f"{title} feature: {feature.get('column')}")] = _feature_text(
                feature
            )
    for cross in fc.get("crosses") or []:
        name = " × ".join(cross.get("columns") or [])
        facts[("Features", f"Cross {name}")] = (
            f"{cross.get('tower')} tower ({cross.get('hash_buckets')} buckets, "
            f"dim {cross.get('embedding_dim')})"
        )
    facts[("Data", "Rating column")] = _fmt(test.rating_column)
    facts[("Data", "Data fingerprint")] = _fmt(test.data_fingerprint[:12])
    sample = split.get("sample")
    if isinstance(sample, dict):
        facts[("Data", "Sample")] = ", ".join(f"{k} {_fmt(v)}" for k, v in sorted(sample.items()))
    facts[("Data", "Split")] = (
        f"{split['kind']}, {_fmt(split.get('eval_fraction'))} held out"
        + (f" by {split['column']}" if split.get("column") else "")
        if split.get("kind")
        else MISSING
    )
    facts[("Data", "Seed")] = _fmt(split.get("seed", test.seed))
    facts[("Data", "Train / eval rows")] = (
        f"{split['train_rows']:,} / {split['eval_rows']:,}"
        if _is_number(split.get("train_rows")) and _is_number(split.get("eval_rows"))
        else MISSING
    )
    facts[("Data", "Backend")] = _fmt(test.backend)
    return facts


def config_diff(runs: list[QuickTest]) -> list[dict[str, Any]]:
    """The (section, field) rows whose text differs between the runs, with one value per run
    (``—`` where a run has no such layer or feature). Identical settings are left out."""
    facts = [config_facts(test) for test in runs]
    keys: dict[tuple[str, str], None] = {}
    for one in facts:
        keys.update(dict.fromkeys(one))
    order = {"Configs": 0, "Model": 1, "Training": 2, "Features": 3, "Data": 4}
    rows = []
    for section, name in sorted(keys, key=lambda k: order[k[0]]):  # stable: first-seen order
        values = [one.get((section, name), MISSING) for one in facts]
        if len(set(values)) > 1:
            rows.append({"section": section, "field": name, "values": values})
    return rows


# ── the result ──────────────────────────────────────────────────────────────────────────


@dataclass(eq=False)
class Comparison:
    """Runs side by side. ``frame``: tidy metrics; ``diff``: differing settings as a
    DataFrame; ``widget()``: the chart view (what a notebook displays)."""

    runs: list[QuickTest]
    frame: pd.DataFrame = field(repr=False)
    diff_rows: list[dict[str, Any]] = field(repr=False)
    _view: Any = field(default=None, init=False, repr=False, compare=False)

    @property
    def labels(self) -> list[str]:
        return [run_label(test) for test in self.runs]

    @property
    def diff(self) -> pd.DataFrame:
        """section, field, then one column per run label: only what differs."""
        import pandas as pd

        return pd.DataFrame(
            [[r["section"], r["field"], *r["values"]] for r in self.diff_rows],
            columns=["section", "field", *self.labels],
        )

    @property
    def charts(self) -> list[dict[str, Any]]:
        return chart_specs(self.runs)

    def widget(self) -> Any:
        """The ``CompareView`` showing this comparison (charts, legend, diff); made once."""
        if self._view is None:
            from towerwidgets.widgets.compare import CompareView

            self._view = CompareView(comparison=self)
        return self._view

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        return self.widget()._repr_mimebundle_(**kwargs)

    def __str__(self) -> str:
        """The runs, the final value of each metric, and what differs (for scripts)."""
        lines = [f"Comparing {len(self.runs)} quick tests:"]
        lines += [
            f"  {label} ({test.status})" for label, test in zip(self.labels, self.runs, strict=True)
        ]
        if not self.frame.empty:
            last = self.frame.sort_values("epoch").groupby(["metric", "label"], sort=False).last()
            table = last["value"].unstack("label").reindex(columns=self.labels)
            order = [m for m in KEY_METRICS if m in table.index]
            lines += ["Last epoch:", table.reindex(order).to_string()]
        if self.diff_rows:
            lines += ["Differences:", self.diff.to_string(index=False)]
        else:
            lines.append("The runs' settings are identical.")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"Comparison(runs={[t.id for t in self.runs]})"


def compare(ids_or_records: Iterable[Any], store: Any = None) -> Comparison:
    """Compare two or more quick tests by id (or record): ``.frame`` is the tidy metrics
    DataFrame, ``.diff`` the settings that differ; a notebook shows the charts.

    Raises ``CompareError`` (a ``ValueError``) naming unknown ids or too few runs.
    """
    runs = load_runs(ids_or_records, store)
    return Comparison(runs=runs, frame=tidy_frame(runs), diff_rows=config_diff(runs))
