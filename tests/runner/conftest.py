"""Fixtures for runner tests: tiny data, a FeatureConfig the test modules read, the code."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def home(tmp_path_factory):
    """One towerwidgets home per session, so later tests reuse the transform cache."""
    return tmp_path_factory.mktemp("twhome")


@pytest.fixture(scope="session")
def tiny_data():
    from towerwidgets.datasets import sample

    return sample(n_buyers=150, n_products=120, n_interactions=3000, n_categories=8, seed=3)


@pytest.fixture
def feature_config():
    from towerwidgets.config import Feature, FeatureConfig

    return FeatureConfig(
        name="tiny features",
        buyer_id_column="buyer_id",
        product_id_column="product_id",
        buyer_features=[Feature(column="buyer_id", embedding_dim=16)],
        product_features=[
            Feature(column="product_id", embedding_dim=16),
            Feature(column="category", embedding_dim=8),
            Feature(column="price", transform="normalize"),
        ],
    )


@pytest.fixture(autouse=True)
def _isolated_home(home, monkeypatch):
    """Runs, exports and the transform cache go to the session's temporary home."""
    monkeypatch.setenv("TOWERWIDGETS_HOME", str(home))
