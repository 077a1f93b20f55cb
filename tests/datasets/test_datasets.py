"""The synthetic sample and the MovieLens loader."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from towerwidgets.datasets import movielens, sample

MOVIELENS = Path(
    os.environ.get(
        "TOWERWIDGETS_MOVIELENS",
        Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "movielens-latest-small",
    )
)


def test_sample_is_seeded_and_has_the_documented_columns():
    a, b, c = sample(seed=1), sample(seed=1), sample(seed=2)
    assert a.equals(b) and not a.equals(c)
    assert list(a.columns) == [
        "buyer_id",
        "buyer_region",
        "product_id",
        "category",
        "price",
        "timestamp",
        "rating",
    ]
    assert len(a) == 25_000
    assert a["rating"].between(1, 5).all() and a["price"].gt(0).all()
    assert a["timestamp"].is_monotonic_increasing
    assert a.groupby("product_id")["category"].nunique().max() == 1  # one category per product


def test_sample_sizes_are_configurable():
    df = sample(n_buyers=10, n_products=30, n_interactions=500, n_categories=3, seed=0)
    assert len(df) == 500 and df["buyer_id"].nunique() <= 10 and df["category"].nunique() <= 3
    with pytest.raises(ValueError):
        sample(n_buyers=0)


def test_sample_has_planted_structure_far_above_chance():
    """Recommending each buyer's favourite categories' popular products beats chance by far."""
    df = sample(seed=0)
    rng = np.random.default_rng(0)
    is_train = rng.random(len(df)) < 0.8
    train, evaluation = df[is_train], df[~is_train]
    chance = 100 / df["product_id"].nunique()
    taste = train.groupby(["buyer_id", "category"]).size().unstack(fill_value=0)
    taste = taste.div(taste.sum(axis=1), axis=0)
    popularity = train.groupby(["category", "product_id"]).size()
    share = popularity / popularity.groupby(level=0).transform("sum")
    hits = 0
    for buyer, rows in evaluation.groupby("buyer_id"):
        if buyer not in taste.index:
            continue
        scores = share * taste.loc[buyer].reindex(share.index.get_level_values(0)).to_numpy()
        top = set(scores.nlargest(100).index.get_level_values(1))
        hits += rows["product_id"].isin(top).sum()
    assert hits / len(evaluation) > 4 * chance
    # Ratings follow the buyer's taste for the category.
    merged = evaluation.join(taste.stack().rename("taste"), on=["buyer_id", "category"])
    assert merged["taste"].corr(merged["rating"]) > 0.2


@pytest.mark.skipif(not (MOVIELENS / "ratings.csv").is_file(), reason="MovieLens not available")
def test_movielens_joins_ratings_with_titles_and_genres():
    df = movielens(MOVIELENS)
    assert len(df) == 100_836
    assert {"userId", "movieId", "rating", "timestamp", "title", "genres", "genre", "year"} <= set(
        df.columns
    )
    assert df["userId"].nunique() == 610
    assert pd.api.types.is_string_dtype(df["movieId"]) and df["title"].ne("").all()
    toy = df[df["movieId"] == "1"].iloc[0]
    assert (
        toy["title"] == "Toy Story (1995)" and toy["year"] == 1995 and toy["genre"] == "Adventure"
    )


def test_movielens_names_the_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"ratings\.csv"):
        movielens(tmp_path)
