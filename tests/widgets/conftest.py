"""Widget-state fixtures: a sample DataFrame, a stored FeatureConfig, a reply catcher."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def sample_df():
    from towerwidgets import datasets

    return datasets.sample(n_buyers=60, n_products=50, n_interactions=600, seed=1)


@pytest.fixture
def feature_config(store, sample_df):
    from towerwidgets.config import FeatureConfig

    fc = FeatureConfig.infer(
        sample_df,
        buyer_columns=["buyer_id", "buyer_region"],
        product_columns=["product_id", "category", "price"],
        name="Rich Features v2",
    )
    return store.feature_configs.create(fc)


@pytest.fixture
def replies():
    """Patch ``w.send`` of widgets to capture their replies: ``replies.attach(w)``."""

    class Replies(list):
        def attach(self, widget):
            widget.send = lambda content, buffers=None: self.append(content)
            return widget

        def last(self):
            return self[-1] if self else None

    return Replies()
