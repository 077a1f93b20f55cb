"""Property: any frame either gets a clear QuickTestInputError / validation message naming
the column (or the row count), or a prepared split whose rows add up to the input's usable
rows. Never another exception: nothing the data holds may crash inside a worker.

Random frames with duplicate, unsorted and multi indexes; NaN/None in every column; empty,
unicode and hostile ids; single-row buyers, one product for all; tz-aware, text and broken
dates; numbers as text; huge ids; a few rows; an eval share of 0.
"""

from __future__ import annotations

import functools
import math
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from runner_helpers import generated_code, model_config

from towerwidgets.config import Feature, FeatureConfig
from towerwidgets.runner.prepare import QuickTestInputError, prepare_data, validate_inputs

SETTINGS = settings(
    max_examples=100,
    deadline=None,
    derandomize=True,  # the same examples every run: a failure reproduces
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
COLUMNS = ("buyer_id", "product_id", "price", "timestamp", "category")

hostile = st.sampled_from(
    ["", " ", "'; DROP TABLE x;--", "\x00", "a\nb", "ü", "日本", "😀", "None", "nan", "0", "-1"]
)
ids = st.one_of(
    st.none(),
    st.just(float("nan")),
    st.integers(-(2**63), 2**64),  # huge ids
    st.text(max_size=6),
    hostile,
)
missing = st.sampled_from([None, float("nan")])
# Mostly valid values with a few holes; the "garbage" kind mixes in anything at all.
numbers = st.one_of(
    st.floats(-1e12, 1e12), st.integers(-(10**12), 10**12), missing, st.just(float("inf"))
)
numbers_as_text = st.integers(-(10**6), 10**6).map(str) | st.none()
epochs = st.integers(0, 2_000_000_000) | st.none()
text_dates = (
    st.datetimes(
        min_value=pd.Timestamp("1971-01-01").to_pydatetime(),
        max_value=pd.Timestamp("2100-01-01").to_pydatetime(),
    ).map(lambda d: d.strftime("%Y-%m-%d %H:%M:%S"))
    | st.none()
)
garbage = st.one_of(ids, numbers, text_dates, hostile)


@st.composite
def column(draw, values, n, kinds):
    """A column of ``n`` values in one of several storage kinds."""
    kind = draw(st.sampled_from(kinds))
    if kind == "constant":
        return [draw(values)] * n
    if kind == "garbage":
        return draw(st.lists(garbage, min_size=n, max_size=n))
    if kind == "tz":
        base = draw(st.integers(0, 2_000_000_000))
        stamps = pd.to_datetime([base + 3600 * i for i in range(n)], unit="s", utc=True)
        return stamps.tz_convert(draw(st.sampled_from(["Asia/Tokyo", "America/New_York"])))
    if kind == "nullable":
        raw = draw(st.lists(st.none() | st.integers(-(10**9), 10**9), min_size=n, max_size=n))
        return pd.array(raw, dtype="Int64")
    if kind == "pyarrow":
        raw = draw(st.lists(st.none() | st.integers(-(10**9), 10**9), min_size=n, max_size=n))
        return pd.array(raw, dtype="int64[pyarrow]")
    if kind == "category":
        return pd.Categorical(
            draw(st.lists(st.sampled_from(["a", "b", "c"]), min_size=n, max_size=n))
        )
    return draw(st.lists(values, min_size=n, max_size=n))


@st.composite
def frames(draw):
    n = draw(st.sampled_from([0, 1, 2, 3, 5, 8, 12]))
    price = draw(st.sampled_from([numbers, numbers_as_text]))
    time = draw(st.sampled_from([epochs, text_dates]))
    data = {
        "buyer_id": draw(column(ids, n, ["mixed", "constant", "category"])),
        "product_id": draw(column(ids, n, ["mixed", "constant"])),  # all-identical products
        "price": draw(
            column(price, n, ["mixed", "nullable", "pyarrow", "constant", "category", "garbage"])
        ),
        "timestamp": draw(column(time, n, ["mixed", "tz", "nullable", "constant", "garbage"])),
        "category": draw(column(ids, n, ["mixed", "category"])),
    }
    df = pd.DataFrame(data)
    index = draw(st.sampled_from(["default", "duplicate", "unsorted", "multi"]))
    if index == "duplicate":
        df.index = [0] * n
    elif index == "unsorted":
        df.index = list(range(n))[::-1]
    elif index == "multi":
        df.index = pd.MultiIndex.from_arrays([[i % 2 for i in range(n)], [0] * n])
    return df


@functools.cache
def feature_config(time_transform: str) -> FeatureConfig:
    return FeatureConfig(
        name="props",
        buyer_id_column="buyer_id",
        product_id_column="product_id",
        buyer_features=[
            Feature(column="buyer_id", embedding_dim=4),
            Feature(column="timestamp", transform=time_transform),
        ],
        product_features=[
            Feature(column="product_id", embedding_dim=4),
            Feature(column="category", embedding_dim=4),
            Feature(column="price", transform="normalize"),
        ],
    )


@functools.cache
def transform_code(time_transform: str) -> str:
    return generated_code(feature_config(time_transform), model_config()).transform_code


def _usable(series: pd.Series) -> np.ndarray:
    """Rows whose id is present and not empty (what preparation keeps)."""
    return np.array(
        [
            not (
                v is None or (isinstance(v, float) and math.isnan(v)) or v is pd.NA or str(v) == ""
            )
            for v in series
        ],
        dtype=bool,
    )


def _clear(error: QuickTestInputError) -> bool:
    text = str(error)
    return any(repr(c) in text for c in COLUMNS) or "rows" in text


def check(df: pd.DataFrame, time_transform: str, split: dict) -> None:
    fc, mc = feature_config(time_transform), model_config()
    try:
        validate_inputs(fc, mc, df, "")
        with tempfile.TemporaryDirectory() as tmp:
            prepared = prepare_data(
                df, fc, transform_code(time_transform), Path(tmp), seed=3, split=split
            )
            parts = {name: pd.read_parquet(path) for name, path in prepared.paths.items()}
    except QuickTestInputError as error:
        assert _clear(error), f"unclear message: {error}"
        return
    kept = int((_usable(df["buyer_id"]) & _usable(df["product_id"])).sum())
    assert prepared.split["train_rows"] + prepared.split["eval_rows"] == kept
    assert len(parts["train"]) + len(parts["eval"]) == kept
    assert prepared.split["eval_rows"] >= 1 and prepared.split["train_rows"] >= 1
    assert parts["candidates"]["product_id"].is_unique
    for part in parts.values():  # what the worker reads: typed, finite, no missing values
        assert not part.isna().any().any()
        assert np.isfinite(part["price"]).all() and part["timestamp"].dtype.kind in "if"


@SETTINGS
@given(frames(), st.sampled_from(["normalize", "cyclical"]), st.sampled_from([0.0, 0.2, 0.5]))
def test_random_split_prepares_or_explains(df, time_transform, eval_fraction):
    check(df, time_transform, {"kind": "random", "eval_fraction": eval_fraction})


@SETTINGS
@given(frames(), st.sampled_from(["normalize", "cyclical"]))
def test_temporal_split_prepares_or_explains(df, time_transform):
    check(df, time_transform, {"kind": "temporal", "column": "timestamp"})


@SETTINGS
@given(frames())
def test_validation_messages_never_raise(df):
    problems = feature_config("cyclical").validate_against(df)
    assert all(isinstance(p, str) and p for p in problems)
