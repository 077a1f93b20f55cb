"""``tw.sweep``: runs in sequence on warm workers, one comparison row per run."""

from __future__ import annotations

import pytest
from runner_helpers import model_config

import towerwidgets as tw
from towerwidgets.runner import backends
from towerwidgets.runner.backends import LocalBackend
from towerwidgets.runner.sweeps import _as_run

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def small_data():
    from towerwidgets.datasets import sample

    return sample(n_buyers=40, n_products=30, n_interactions=400, n_categories=4, seed=5)


def test_sweep_compares_overrides_and_configs_in_one_table(
    store, home, small_data, feature_config, monkeypatch
):
    monkeypatch.setattr(backends, "available_memory_mb", lambda: 64_000.0)
    LocalBackend.shutdown()
    base = model_config("retrieval", epochs=1, batch_size=128)
    other = model_config("retrieval", epochs=1, batch_size=64, name="smaller batches")
    seen = []
    table = tw.sweep(
        feature_config,
        [{"learning_rate": 0.05}, {"learning_rate": 0.2, "label": "fast"}, other],
        small_data,
        model_config=base,
        store=store,
        home=home,
        on_result=seen.append,
    )
    assert list(table.index) == [1, 2, 3] and len(seen) == 3
    assert list(table["label"]) == ["learning_rate=0.05", "fast", "smaller batches"]
    assert (table["status"] == "completed").all(), table["error"].tolist()
    assert list(table["learning_rate"])[:2] == [0.05, 0.2]
    assert list(table["batch_size"]) == [128, 128, 64]
    for column in ("loss", "val_loss", "recall_at_10", "recall_at_100", "duration_seconds"):
        assert table[column].notna().all(), column
    # one FeatureConfig, one data set: the transform runs once, later runs reuse it
    assert list(table["transform_cached"])[1:] == [True, True]
    # one worker served the whole sweep: each run after the first took it warm
    tests = [store.quick_tests.get(i) for i in table["test_id"]]
    assert len({t.worker_pid for t in tests}) == 1
    assert all(t.status == "completed" and t.epoch_metrics for t in tests)


def test_a_failing_run_is_a_row_and_the_sweep_goes_on(store, home, small_data, feature_config):
    base = model_config("ranking", epochs=1, batch_size=128)
    table = tw.run_quick_tests(
        feature_config,
        [{}, {"epochs": 1}],
        small_data.assign(rating="bad"),  # not numeric: validation fails, no worker needed
        model_config=base,
        rating_column="rating",
        store=store,
        home=home,
        backend=LocalBackend(keep_warm=False),
    )
    assert list(table["status"]) == ["failed", "failed"]
    assert "must be numeric" in table["error"].iloc[0]


def test_run_specs():
    base = model_config("ranking", epochs=2)
    assert _as_run({}, base, 0)["label"] == "tiny ranking"
    assert _as_run({"epochs": 3, "batch_size": 64}, base, 1)["label"] == "epochs=3, batch_size=64"
    preset = _as_run("standard", base, 2)
    assert preset["model_config"].model_type == "ranking" and preset["label"] == "standard"
    with pytest.raises(ValueError, match="no model_config"):
        _as_run({"epochs": 1}, None, 0)
