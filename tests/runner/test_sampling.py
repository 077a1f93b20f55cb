"""``sample=``: whole buyers kept or dropped, seeded, and shown in the record."""

from __future__ import annotations

import pytest
from runner_helpers import generated_code, model_config

from towerwidgets.datasets import sample
from towerwidgets.runner import run_quick_test
from towerwidgets.runner.backends import LocalBackend
from towerwidgets.runner.prepare import QuickTestInputError
from towerwidgets.runner.sampling import sample_by_buyer


@pytest.fixture(scope="module")
def data():
    return sample(n_buyers=200, n_products=50, n_interactions=4000, n_categories=4, seed=7)


def _histories_whole(full, part):
    kept = set(part["buyer_id"])
    assert full[full["buyer_id"].isin(kept)].shape[0] == len(part)
    return kept


def test_a_fraction_of_buyers_keeps_their_whole_histories(data):
    part, info = sample_by_buyer(data, "buyer_id", 0.25, seed=1)
    kept = _histories_whole(data, part)
    buyers = data["buyer_id"].nunique()
    assert len(kept) == info["buyers"] == round(buyers / 4) and info["of_buyers"] == buyers
    assert info["rows"] == len(part) and info["of_rows"] == 4000
    assert f"{info['buyers']} of {buyers} buyers" in info["description"]
    assert list(part.index) == sorted(part.index)  # original order
    again, _ = sample_by_buyer(data, "buyer_id", 0.25, seed=1)
    assert again.equals(part)
    other, _ = sample_by_buyer(data, "buyer_id", 0.25, seed=2)
    assert set(other["buyer_id"]) != kept


def test_a_row_count_takes_buyers_until_it_is_reached(data):
    part, info = sample_by_buyer(data, "buyer_id", 1000, seed=1)
    _histories_whole(data, part)
    biggest = data["buyer_id"].value_counts().max()
    assert 1000 <= len(part) < 1000 + biggest
    whole, info = sample_by_buyer(data, "buyer_id", 10**9, seed=1)
    assert len(whole) == len(data) and info["buyers"] == info["of_buyers"]


@pytest.mark.parametrize("bad", [0, -1, 0.0, "10%", True])
def test_nonsense_samples_are_refused(data, bad):
    with pytest.raises(QuickTestInputError, match="sample must be"):
        sample_by_buyer(data, "buyer_id", bad, seed=1)


@pytest.mark.slow
def test_a_sampled_quick_test_shows_its_sample(store, home, data, feature_config):
    mc = model_config("retrieval", epochs=1)
    record = run_quick_test(
        feature_config,
        mc,
        data,
        store=store,
        home=home,
        backend=LocalBackend(keep_warm=False),
        code=generated_code(feature_config, mc),
        sample=0.5,
    )
    assert record.status == "completed", record.error_message
    info = store.quick_tests.get(record.id).split["sample"]
    assert info["buyers"] == round(info["of_buyers"] / 2) and info["of_rows"] == 4000
    assert record.split["train_rows"] + record.split["eval_rows"] == info["rows"] < 4000
