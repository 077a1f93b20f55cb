"""Fixtures for the pipeline stage: small data and the configs every TFX test uses."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def pipeline_data():
    """Small enough for a whole TFX pipeline in well under a minute on two cores."""
    from towerwidgets.datasets import sample

    return sample(n_buyers=200, n_products=150, n_interactions=3000, seed=0)


@pytest.fixture(scope="session")
def pipeline_features():
    from towerwidgets.config import Feature, FeatureConfig

    return FeatureConfig(
        name="Sample features",
        buyer_id_column="buyer_id",
        product_id_column="product_id",
        buyer_features=[
            Feature(column="buyer_id", embedding_dim=16),
            Feature(column="buyer_region", embedding_dim=4),
        ],
        product_features=[
            Feature(column="product_id", embedding_dim=16),
            Feature(column="category", embedding_dim=4),
            Feature(column="price", transform="normalize"),
        ],
    )


def minimal(model_type: str):
    from towerwidgets.config import ModelConfig

    return ModelConfig.from_preset("minimal", name=f"Minimal {model_type}", model_type=model_type)
