"""Column profiles and the proposed FeatureConfig (the Features chapter's rows)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from towerwidgets import datasets
from towerwidgets.config.profile import guess_ids, histogram, profile, read_table

MOVIELENS = Path(
    os.environ.get(
        "TOWERWIDGETS_MOVIELENS",
        Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "movielens-latest-small",
    )
)


@pytest.fixture(scope="module")
def movielens() -> pd.DataFrame:
    if not MOVIELENS.is_dir():
        pytest.skip("MovieLens latest-small is not next to the repository")
    return datasets.movielens(MOVIELENS)


def by_name(rows):
    return {row["name"]: row for row in rows}


def test_movielens_proposal_is_sensible(movielens):
    rows, cfg = profile(movielens)
    row = by_name(rows)
    assert (cfg.buyer_id_column, cfg.product_id_column) == ("userId", "movieId")
    assert row["userId"]["proposed_tower"] == "buyer"
    assert row["movieId"]["proposed_tower"] == "product"
    assert row["userId"]["distinct"] == 610 and row["movieId"]["distinct"] == 9724
    # rating is the label, timestamp a time, title one per movie: all left out, with reasons
    assert row["rating"]["proposed_tower"] is None and "label" in row["rating"]["why"]
    assert row["timestamp"]["proposed_tower"] is None
    assert row["timestamp"]["proposed"]["transform"] == "cyclical"
    assert row["title"]["proposed_tower"] is None and "product id" in row["title"]["why"]
    # genres (pipe-separated) is one category string per movie: an embedding
    assert row["genres"]["proposed_tower"] == "product"
    assert row["genres"]["proposed"]["transform"] == "embedding"
    assert row["year"]["proposed"]["transform"] == "bucketize"
    assert [f.column for f in cfg.buyer_features] == ["userId"]
    assert [f.column for f in cfg.product_features] == ["movieId", "genres", "genre", "year"]
    assert cfg.validate_against(movielens) == []
    assert row["rating"]["nulls"] == 0 and row["rating"]["numeric"] is True


def test_sample_data_puts_attributes_in_their_towers():
    df = datasets.sample(n_buyers=60, n_products=50, n_interactions=600, seed=1)
    rows, cfg = profile(df)
    row = by_name(rows)
    assert row["buyer_region"]["proposed_tower"] == "buyer"
    assert row["category"]["proposed_tower"] == "product"
    assert row["price"]["proposed"] == {
        "column": "price",
        "transform": "bucketize",
        "num_buckets": 10,
        "embedding_dim": 8,
    }
    assert cfg.buyer_tensor_dim == 32 + row["buyer_region"]["proposed"]["embedding_dim"]


def test_histogram_of_numbers_has_edges_one_longer_than_counts():
    h = histogram(pd.Series([0.0, 1.0, 1.0, 2.0, np.nan, np.inf]), bins=4)
    assert h["kind"] == "numeric"
    assert h["edges"] == [0.0, 0.5, 1.0, 1.5, 2.0]
    assert h["counts"] == [1, 0, 2, 1]


def test_histogram_of_text_lists_top_values_and_other():
    values = [f"v{i}" for i in range(12) for _ in range(12 - i)]
    h = histogram(pd.Series(values))
    assert h["kind"] == "top"
    assert h["labels"][:2] == ["v0", "v1"] and h["labels"][-1] == "other"
    assert sum(h["counts"]) == len(values) and len(h["counts"]) == 9


def test_histogram_of_many_valued_text_shows_popularity_in_log_bins():
    values = [f"u{i}" for i in range(40) for _ in range(1 + i * i)]  # 1 to 1522 rows each
    h = histogram(pd.Series(values))
    assert h["kind"] == "frequency"
    assert sum(h["counts"]) == 40  # every value counted once
    assert h["edges"][0] == 1.0 and h["edges"][-1] >= 1 + 39 * 39
    assert h["edges"] == sorted(set(h["edges"]))
    assert histogram(pd.Series([f"x{i}" for i in range(30)]))["counts"] == [30]


def test_histogram_of_a_constant_and_of_nothing():
    assert histogram(pd.Series([3, 3, 3])) == {
        "kind": "numeric",
        "counts": [3],
        "edges": [3.0, 3.0],
    }
    assert histogram(pd.Series([None, None], dtype=object)) == {
        "kind": "top",
        "counts": [],
        "labels": [],
    }


@settings(max_examples=40, deadline=None)
@given(st.lists(st.one_of(st.none(), st.floats(-1e6, 1e6)), min_size=1, max_size=60))
def test_histogram_counts_every_present_number_once(values):
    series = pd.Series(values, dtype="float64")
    h = histogram(series)
    assert sum(h["counts"]) == int(series.notna().sum())
    if h["kind"] == "numeric":
        assert len(h["edges"]) == len(h["counts"]) + 1
        assert h["edges"] == sorted(h["edges"])


def test_histogram_of_dates_is_in_epoch_seconds_whatever_the_zone():
    naive = pd.Series(pd.to_datetime(["2024-01-01", "2024-01-02", None]))
    aware = naive.dt.tz_localize("Europe/Paris")
    h = histogram(naive, bins=2)
    assert h["edges"][0] == 1704067200.0 and sum(h["counts"]) == 2
    assert histogram(aware, bins=2)["edges"][0] == 1704067200.0 - 3600


column_values = st.one_of(
    st.lists(st.one_of(st.none(), st.integers(-5, 5)), min_size=3, max_size=3),
    st.lists(
        st.one_of(st.none(), st.floats(allow_nan=True, allow_infinity=True)), min_size=3, max_size=3
    ),
    st.lists(st.one_of(st.none(), st.text(max_size=4)), min_size=3, max_size=3),
    st.lists(st.booleans(), min_size=3, max_size=3),
)


@settings(max_examples=60, deadline=None)
@given(st.dictionaries(st.text(min_size=1, max_size=8), column_values, min_size=1, max_size=5))
def test_any_small_frame_gets_one_row_per_column_and_a_valid_proposal(columns):
    df = pd.DataFrame(columns)
    rows, cfg = profile(df)
    assert [row["name"] for row in rows] == list(df.columns)
    for row in rows:
        assert row["nulls"] == int(df[row["name"]].isna().sum())
        assert row["distinct"] == int(df[row["name"]].nunique())
        assert sum(row["histogram"]["counts"]) <= len(df)
    # every proposed feature reads a column of the data, and fits it (no dtype message)
    assert cfg.validate_against(df) == []


def test_ids_are_guessed_from_names():
    frame = pd.DataFrame(columns=["customer_name", "customerId", "sku", "itemId", "qty"])
    assert guess_ids(frame) == ("customerId", "itemId")
    assert guess_ids(pd.DataFrame(columns=["a", "b"])) == ("", "")


def test_a_large_frame_is_profiled_on_a_sample_with_exact_nulls():
    rng = np.random.default_rng(0)
    n = 1_000_000
    price = rng.lognormal(3, 1, n)
    price[::1000] = np.nan
    df = pd.DataFrame(
        {"user_id": rng.integers(0, 5000, n).astype(str), "item_id": rng.integers(0, 900, n)}
    )
    df["price"] = price
    rows, _ = profile(df, limit=50_000)
    row = by_name(rows)
    assert row["price"]["nulls"] == 1000  # exact, from the whole column
    assert row["price"]["distinct_exact"] is False
    assert sum(row["price"]["histogram"]["counts"]) <= 50_000


def test_bad_input_gets_a_clear_message(tmp_path):
    with pytest.raises(FileNotFoundError, match="No file at"):
        read_table(tmp_path / "nope.csv")
    (tmp_path / "notes.txt").write_text("x")
    with pytest.raises(ValueError, match=r"neither \.csv nor \.parquet"):
        read_table(tmp_path / "notes.txt")
    with pytest.raises(TypeError, match="DataFrame or a path"):
        read_table([1, 2, 3])
    with pytest.raises(ValueError, match="no columns"):
        profile(pd.DataFrame())
    twice = pd.DataFrame([[1, 2]], columns=["a", "a"])
    with pytest.raises(ValueError, match="appear twice: a"):
        profile(twice)


def test_csv_and_parquet_paths_read_alike(tmp_path):
    df = datasets.sample(n_buyers=10, n_products=10, n_interactions=50, seed=2)
    df.to_csv(tmp_path / "d.csv", index=False)
    df.to_parquet(tmp_path / "d.parquet")
    assert list(read_table(tmp_path / "d.csv").columns) == list(df.columns)
    assert len(read_table(str(tmp_path / "d.parquet"))) == 50
