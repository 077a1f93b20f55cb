"""FeatureConfig: derived dimensions, validation, validation against data, inference."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from pydantic import ValidationError

from towerwidgets import FeatureConfig
from towerwidgets.config import Cross, Feature


def rich() -> FeatureConfig:
    return FeatureConfig(
        name="Rich Features v2",
        buyer_id_column="user_id",
        product_id_column="item_id",
        buyer_features=[
            Feature(column="user_id", embedding_dim=64),
            Feature(column="age", transform="normalize"),
            Feature(column="ts", transform="cyclical", period="week"),
        ],
        product_features=[
            Feature(column="item_id", embedding_dim=32),
            Feature(column="price", transform="bucketize", num_buckets=20, embedding_dim=8),
        ],
        crosses=[
            Cross(
                tower="product", columns=["category", "brand"], hash_buckets=500, embedding_dim=16
            )
        ],
    )


def frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "user_id": ["u1", "u2", "u3"],
            "item_id": [1, 2, 3],
            "age": [31, 40, 22],
            "ts": [1_700_000_000, 1_700_100_000, 1_700_200_000],
            "price": [9.5, 3.0, 12.0],
            "category": ["a", "b", "a"],
            "brand": ["x", "y", "z"],
        }
    )


def test_tensor_dims_are_derived():
    config = rich()
    assert config.buyer_tensor_dim == 64 + 1 + 2
    assert config.product_tensor_dim == 32 + 8 + 16
    assert config.summary() == {
        "id": None,
        "name": "Rich Features v2",
        "buyer_tensor_dim": 67,
        "product_tensor_dim": 56,
        "cross_features": 1,
    }


def test_defaults_are_filled_per_transform():
    assert Feature(column="a").embedding_dim == 32
    bucket = Feature(column="a", transform="bucketize")
    assert (bucket.num_buckets, bucket.embedding_dim, bucket.output_dim) == (10, 8, 8)
    assert Feature(column="a", transform="cyclical").period == "day"
    assert Feature(column="a", transform="normalize").output_dim == 1


def test_valid_config_and_its_columns():
    config = rich()
    assert config.validate() == []
    assert config.columns() == ["user_id", "item_id", "age", "ts", "price", "category", "brand"]


def test_validate_reports_each_problem():
    config = FeatureConfig(
        buyer_id_column="id",
        product_id_column="id",
        buyer_features=[Feature(column="a"), Feature(column="a")],
        crosses=[Cross(tower="buyer", columns=["a", "a"])],
    )
    errors = config.validate()
    assert "Feature config name is required" in errors
    assert "Buyer and product id columns must be different columns" in errors
    assert "The product tower needs at least one feature" in errors
    assert "The buyer tower uses column 'a' with transform 'embedding' twice" in errors
    assert "Cross a × a repeats a column" in errors


def test_structure_is_refused():
    with pytest.raises(ValidationError):
        Feature(column="a", transform="pca")
    with pytest.raises(ValidationError):
        Cross(tower="buyer", columns=["only-one"])
    with pytest.raises(ValidationError):
        FeatureConfig(buyer_features=[{"column": "a", "unknown": 1}])


def test_validate_against_data():
    assert rich().validate_against(frame()) == []
    df = frame().drop(columns=["brand"]).assign(age=["old", "young", "mid"])
    errors = rich().validate_against(df)
    assert any(
        e.startswith("Column 'brand' (product cross) is not in the data; available: user_id")
        for e in errors
    )
    assert "Column 'age' has dtype" in " ".join(errors)
    assert "needs numbers; use transform 'embedding' for categories" in " ".join(errors)
    assert rich().validate_against(frame().iloc[0:0]) == ["The data has no rows"]


def test_datetimes_count_as_numbers():
    df = frame().assign(ts=pd.to_datetime(frame()["ts"], unit="s"))
    assert rich().validate_against(df) == []


def test_infer_proposes_a_valid_config():
    rng = np.random.default_rng(0)
    df = pd.DataFrame(
        {
            "buyer_id": rng.integers(0, 100, 500).astype(str),
            "country": rng.choice(["de", "fr", "us"], 500),
            "product_id": rng.integers(0, 40, 500),
            "price": rng.random(500) * 10,
            "timestamp": rng.integers(1_600_000_000, 1_700_000_000, 500),
            "stars": rng.integers(1, 6, 500),
        }
    )
    config = FeatureConfig.infer(
        df,
        buyer_columns=["buyer_id", "country"],
        product_columns=["product_id", "price", "timestamp", "stars"],
    )
    assert config.buyer_id_column == "buyer_id" and config.product_id_column == "product_id"
    transforms = {(f.column, f.transform) for f in config.product_features}
    assert ("product_id", "embedding") in transforms
    assert ("price", "normalize") in transforms
    assert {("timestamp", "normalize"), ("timestamp", "cyclical")} <= transforms
    assert ("stars", "embedding") in transforms  # few distinct integers: a category
    assert config.validate_against(df) == []
    config.name = "ok"
    assert config.validate() == []


def test_infer_names_missing_columns():
    with pytest.raises(ValueError, match="Columns not in the data: 'nope'"):
        FeatureConfig.infer(frame(), buyer_columns=["nope"], product_columns=["item_id"])


def test_round_trip():
    config = rich()
    assert FeatureConfig.from_json(config.to_json()) == config
