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
    """The built-in sample's FeatureConfig, as the demo and `pipeline run-local --sample`."""
    from towerwidgets.cli import sample_feature_config

    return sample_feature_config()


def minimal(model_type: str):
    from towerwidgets.config import ModelConfig

    return ModelConfig.from_preset("minimal", name=f"Minimal {model_type}", model_type=model_type)
