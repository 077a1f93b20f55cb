"""Profile a table's columns and propose a FeatureConfig from them (the Features chapter).

Pure pandas, no widgets: each column gets its dtype, distinct count, missing count and a
tiny histogram, plus a proposed role (buyer id, product id, a buyer or product feature, or
left out with a reason) and transform. Large frames are profiled on a seeded sample (the
missing count is always exact: it is one vectorised pass), so a million rows stay quick.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from towerwidgets.config.feature_config import (
    DEFAULT_NUM_BUCKETS,
    Feature,
    FeatureConfig,
    _embedding_dim,
    _looks_like_time,
    reads_as_numbers,
)

if TYPE_CHECKING:
    import pandas as pd

SAMPLE_ROWS = 200_000
HISTOGRAM_BINS = 12
TOP_VALUES = 8
MANY_VALUES = 24  # more distinct text values than this: a popularity histogram

_BUYER_WORDS = ("user", "buyer", "customer", "client", "member", "account", "visitor")
_PRODUCT_WORDS = ("movie", "item", "product", "sku", "article", "book", "song", "track")
_LABEL_WORDS = ("rating", "label", "target", "score", "click", "clicked", "purchased")


def read_table(source: Any) -> pd.DataFrame:
    """A DataFrame as given, or read from a ``.csv``/``.parquet`` path; a clear error else."""
    import pandas as pd

    if isinstance(source, pd.DataFrame):
        return source
    if not isinstance(source, str | Path):
        raise TypeError(
            f"data must be a pandas DataFrame or a path to a .csv or .parquet file, "
            f"not {type(source).__name__}"
        )
    path = Path(source).expanduser()
    if not path.is_file():
        raise FileNotFoundError(f"No file at {str(path)!r}: give a .csv or .parquet file")
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".parquet", ".pq"):
        raise ValueError(f"{path.name!r} is neither .csv nor .parquet; read it with pandas first")
    try:
        return pd.read_csv(path) if suffix == ".csv" else pd.read_parquet(path)
    except Exception as exc:  # a malformed file: say which and why, without a traceback
        raise ValueError(f"Could not read {path.name!r}: {exc}") from None


def sample_rows(df: pd.DataFrame, limit: int = SAMPLE_ROWS) -> pd.DataFrame:
    """At most ``limit`` rows, the same ones every time (seeded), for the costly statistics."""
    return df if len(df) <= limit else df.sample(n=limit, random_state=0)


def _kind(series: pd.Series) -> str:
    import pandas as pd

    if pd.api.types.is_bool_dtype(series):
        return "bool"
    if pd.api.types.is_datetime64_any_dtype(series):
        return "datetime"
    if pd.api.types.is_numeric_dtype(series):
        return "number"
    return "text"


def histogram(series: pd.Series, bins: int = HISTOGRAM_BINS) -> dict[str, Any]:
    """Numbers and dates: equal-width bins (``edges`` has one more entry than ``counts``);
    text with many values: how many values have 1, 2-3, ... rows (``frequency``, log bins);
    other text: the most frequent values (``labels``), the rest summed as "other"."""
    import numpy as np
    import pandas as pd

    present = series.dropna()
    kind = _kind(series)
    if kind in ("number", "datetime") and len(present):
        if kind == "datetime":  # as epoch seconds, whatever the unit or time zone
            naive = present.dt.tz_convert(None) if present.dt.tz is not None else present
            values = naive.to_numpy().astype("datetime64[s]").astype("int64")
        else:
            values = present.to_numpy()
        values = np.asarray(values, dtype="float64")
        values = values[np.isfinite(values)]
        if len(values):
            lo, hi = float(values.min()), float(values.max())
            if lo == hi:
                return {"kind": "numeric", "counts": [len(values)], "edges": [lo, hi]}
            counts, edges = np.histogram(values, bins=bins, range=(lo, hi))
            return {
                "kind": "numeric",
                "counts": [int(c) for c in counts],
                "edges": [float(e) for e in edges],
            }
    counts = present.astype(str).value_counts(sort=True) if len(present) else pd.Series([])
    if len(counts) > MANY_VALUES:
        # Ids and other many-valued text: how many rows each value has (its popularity),
        # in log-spaced bins: a top-8 list would show only "other".
        per_value = counts.to_numpy()
        top_count = int(per_value.max())
        if top_count == 1:
            return {"kind": "frequency", "counts": [len(per_value)], "edges": [1.0, 1.0]}
        edges = np.unique(np.round(np.geomspace(1, top_count + 1, bins + 1)))
        binned, edges = np.histogram(per_value, bins=edges)
        return {
            "kind": "frequency",
            "counts": [int(c) for c in binned],
            "edges": [float(e) for e in edges],
        }
    top = counts.head(TOP_VALUES)
    other = int(counts.iloc[TOP_VALUES:].sum()) if len(counts) > TOP_VALUES else 0
    labels = [str(v) for v in top.index]
    values_ = [int(c) for c in top]
    if other:
        labels.append("other")
        values_.append(other)
    return {"kind": "top", "counts": values_, "labels": labels}


def _role_word(name: str, words: tuple[str, ...]) -> bool:
    spaced = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name).lower()  # userId -> user_id
    parts = [p for p in re.split(r"[^a-z0-9]+", spaced) if p]
    return any(p in words or p.rstrip("s") in words for p in parts)


def _id_score(name: str, words: tuple[str, ...]) -> int:
    """2: a word of the role plus "id" (userId, product_id); 1: the word alone; 0: neither."""
    if not _role_word(name, words):
        return 0
    return 2 if re.search(r"id$", name, re.IGNORECASE) else 1


def guess_ids(df: pd.DataFrame) -> tuple[str, str]:
    """The likeliest buyer and product id columns ("" when nothing looks like one)."""
    names = [str(c) for c in df.columns]

    def best(words: tuple[str, ...], avoid: str = "") -> str:
        scored = [(_id_score(n, words), -i, n) for i, n in enumerate(names) if n != avoid]
        scored = [s for s in scored if s[0] > 0]
        return max(scored)[2] if scored else ""

    buyer = best(_BUYER_WORDS)
    return buyer, best(_PRODUCT_WORDS, avoid=buyer)


def _constant_within(sample: pd.DataFrame, key: str, column: str) -> bool:
    """Whether ``column`` takes one value per ``key`` (an attribute of that buyer/product)."""
    if not key or key == column or key not in sample.columns:
        return False
    pair = sample[[key, column]].dropna()
    if not len(pair):
        return False
    return bool((pair.groupby(key, sort=False)[column].nunique() <= 1).all())


def propose_column(
    series: pd.Series,
    distinct: int,
    *,
    tower: str | None,
    buyer_id: str,
    product_id: str,
    id_distinct: int | None,
) -> tuple[str | None, Feature | None, str]:
    """(tower or None, its proposed feature, why) for one column."""
    name = str(series.name)
    kind = _kind(series)
    numeric = kind != "bool" and reads_as_numbers(series)
    if name in (buyer_id, product_id):
        which = "buyer" if name == buyer_id else "product"
        return which, Feature(column=name, transform="embedding"), f"the {which} id"
    if _role_word(name, _LABEL_WORDS) and numeric:
        return None, Feature(column=name, transform="normalize"), "looks like the label"
    if kind == "datetime" or (numeric and _looks_like_time(name)):
        feature = Feature(column=name, transform="cyclical", period="week")
        return None, feature, "a time: add it as cyclical to a tower if the hour or day matters"
    if numeric and kind != "text" and (series.dtype.kind == "f" or distinct > 50):
        feature = Feature(column=name, transform="bucketize", num_buckets=DEFAULT_NUM_BUCKETS)
    elif numeric and kind == "text":
        feature = Feature(column=name, transform="normalize")
    else:
        feature = Feature(
            column=name, transform="embedding", embedding_dim=_embedding_dim(distinct)
        )
    if tower is None:
        return None, feature, "varies within both buyers and products"
    if kind == "text" and id_distinct and distinct >= 0.9 * id_distinct:
        return None, feature, f"about one value per {tower}: the {tower} id already says it"
    return tower, feature, f"one value per {tower}"


def profile(
    df: pd.DataFrame,
    *,
    buyer_id: str | None = None,
    product_id: str | None = None,
    limit: int = SAMPLE_ROWS,
) -> tuple[list[dict[str, Any]], FeatureConfig]:
    """One profile per column (what the chapter's rows show) and the proposed config."""
    if len(df.columns) == 0:
        raise ValueError("The data has no columns")
    names = [str(c) for c in df.columns]
    if len(set(names)) != len(names):
        twice = sorted({n for n in names if names.count(n) > 1})
        raise ValueError(f"Column names appear twice: {', '.join(twice)}; rename them first")
    guessed = guess_ids(df)
    buyer_id = guessed[0] if buyer_id is None else buyer_id
    product_id = guessed[1] if product_id is None else product_id
    sample = sample_rows(df, limit)
    missing = df.isna().sum()
    ids = {
        "buyer": int(sample[buyer_id].nunique()) if buyer_id in sample else None,
        "product": int(sample[product_id].nunique()) if product_id in sample else None,
    }
    rows: list[dict[str, Any]] = []
    buyer_features: list[Feature] = []
    product_features: list[Feature] = []
    for column in df.columns:
        series = sample[column]
        name = str(column)
        distinct = int(series.nunique(dropna=True))
        owner = None
        if _constant_within(sample, product_id, column):
            owner = "product"
        elif _constant_within(sample, buyer_id, column):
            owner = "buyer"
        tower, feature, why = propose_column(
            series,
            distinct,
            tower=owner,
            buyer_id=buyer_id,
            product_id=product_id,
            id_distinct=ids.get(owner) if owner else None,
        )
        if tower == "buyer" and feature is not None:
            buyer_features.append(feature)
        elif tower == "product" and feature is not None:
            product_features.append(feature)
        rows.append(
            {
                "name": name,
                "dtype": str(df[column].dtype),
                "kind": _kind(series),
                "numeric": _kind(series) != "bool" and reads_as_numbers(series),
                "distinct": distinct,
                "distinct_exact": len(sample) == len(df),
                "nulls": int(missing[column]),
                "histogram": histogram(series),
                "proposed": feature.model_dump(exclude_none=True) if feature else None,
                "proposed_tower": tower,
                "why": why,
            }
        )
    config = FeatureConfig(
        name="",
        buyer_id_column=buyer_id,
        product_id_column=product_id,
        buyer_features=sorted(buyer_features, key=lambda f: f.column != buyer_id),
        product_features=sorted(product_features, key=lambda f: f.column != product_id),
    )
    return rows, config
