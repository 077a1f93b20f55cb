"""Comparing quick tests: the tidy frame from stored runs, the config diff, clear refusals."""

from __future__ import annotations

import pytest

import towerwidgets as tw
from towerwidgets.config import FeatureConfig, ModelConfig, QuickTest
from towerwidgets.results.comparison import (
    CompareError,
    Comparison,
    compare,
    config_diff,
    tidy_frame,
)

EPOCHS_A = [
    {"epoch": 1, "loss": 812.5, "recall_at_100": 0.21, "regularization_loss": 0.0, "rmse": None},
    {"epoch": 2, "loss": 640.25, "recall_at_100": 0.34, "regularization_loss": 0.0},
]
EPOCHS_B = [
    {"epoch": 1, "loss": 900.0, "recall_at_100": 0.18, "val_loss": 950.0},
    {"epoch": 2, "loss": 700.0, "recall_at_100": 0.25, "val_loss": 810.0},
    {"epoch": 3, "loss": 610.0, "recall_at_100": 0.29, "val_loss": 790.5},
]


@pytest.fixture
def features(store):
    data = tw.datasets.sample(n_buyers=40, n_products=30, n_interactions=300, seed=2)
    return store.feature_configs.create(
        FeatureConfig.infer(
            data,
            buyer_columns=["buyer_id", "buyer_region"],
            product_columns=["product_id", "category", "price"],
            name="Sample features",
        )
    )


@pytest.fixture
def two_runs(store, features, add_quick_test):
    """Two stored runs with epoch rows in the store's own table, as the runner writes them."""
    small = store.model_configs.create(ModelConfig.from_preset("minimal", name="Small"))
    big = store.model_configs.create(
        ModelConfig.from_preset("standard", name="Big", optimizer="adam", learning_rate=0.01)
    )
    a, b = add_quick_test(store, features, small), add_quick_test(store, features, big)
    for test, rows in ((a, EPOCHS_A), (b, EPOCHS_B)):
        for row in rows:
            store.quick_tests.append_epoch(test.id, row)
    return a.id, b.id


def test_tidy_frame_has_one_row_per_run_epoch_metric(store, two_runs):
    a, b = two_runs
    result = compare([a, b], store=store)
    frame = result.frame
    assert list(frame.columns) == ["run_id", "label", "epoch", "metric", "value"]
    # A: 2 epochs × (loss, recall_at_100); rmse=None and Keras' extra losses are left out.
    # B: 3 epochs × (loss, val_loss, recall_at_100).
    assert len(frame) == 2 * 2 + 3 * 3
    assert set(frame[frame.run_id == a].metric) == {"loss", "recall_at_100"}
    assert set(frame.label) == {f"#{a} Sample features + Small", f"#{b} Sample features + Big"}
    row = frame[(frame.run_id == b) & (frame.epoch == 3) & (frame.metric == "val_loss")]
    assert row.value.tolist() == [790.5]
    assert str(frame.epoch.dtype) == "int64" and str(frame.value.dtype) == "float64"
    # The frame pivots back into one table per run, as people use it.
    wide = frame.pivot_table(index=["run_id", "epoch"], columns="metric", values="value")
    assert wide.loc[(a, 2), "loss"] == 640.25


def test_charts_are_one_per_logged_metric_with_a_series_per_run(store, two_runs):
    a, b = two_runs
    charts = compare([b, a], store=store).charts
    assert [c["metric"] for c in charts] == ["loss", "val_loss", "recall_at_100"]
    loss = charts[0]
    assert loss["label"] == "Loss" and loss["better"] == "lower"
    assert [s["run_id"] for s in loss["series"]] == [b, a]  # the order asked for
    assert loss["series"][1]["points"] == [[1, 812.5], [2, 640.25]]
    val = charts[1]
    assert val["series"][1]["points"] == []  # A logged no val_loss: an empty line, same slot
    assert charts[2]["better"] == "higher"


def test_diff_shows_only_what_differs_with_nested_layers(store, two_runs):
    a, b = two_runs
    result = compare([a, b], store=store)
    rows = {(r["section"], r["field"]): r["values"] for r in result.diff_rows}
    # minimal: 64→32, standard: 128→64→32 — each layer is compared on its own.
    assert rows[("Model", "Buyer tower layer 1")] == ["Dense(64, ReLU)", "Dense(128, ReLU)"]
    assert rows[("Model", "Buyer tower layer 3")] == ["—", "Dense(32, Linear)"]
    assert rows[("Training", "Optimizer")] == ["Adagrad", "Adam"]
    assert rows[("Training", "Learning rate")] == ["0.1", "0.01"]
    assert rows[("Configs", "Model config")] == ["Small", "Big"]
    # Shared settings are not listed: same features, same model type, same output size.
    fields = {field for _, field in rows}
    assert "Model type" not in fields
    assert not any(field.startswith("Buyer feature") for field in fields)
    assert ("Model", "Output embedding dim") not in rows
    # Every listed row really differs.
    assert all(len(set(values)) > 1 for values in rows.values())
    # The DataFrame form: one column per run label.
    diff = result.diff
    assert list(diff.columns) == ["section", "field", *result.labels]
    assert len(diff) == len(result.diff_rows)


def test_diff_of_two_configs_covers_features_split_seed_and_overrides():
    fc = FeatureConfig.infer(
        tw.datasets.sample(n_buyers=20, n_products=20, n_interactions=100, seed=1),
        buyer_columns=["buyer_id", "buyer_region"],
        product_columns=["product_id", "category", "price"],
        name="F",
    )
    other = fc.model_copy(deep=True)
    other.product_features = [f for f in other.product_features if f.column != "price"]
    other.buyer_features[1].embedding_dim = 16
    mc = ModelConfig.from_preset("minimal", name="M")
    split = {"kind": "random", "eval_fraction": 0.2, "seed": 42, "train_rows": 80, "eval_rows": 20}
    one = QuickTest(
        id=1,
        feature_config_snapshot=fc.to_dict(),
        model_config_snapshot=mc.to_dict(),
        split=split,
    )
    two = QuickTest(
        id=2,
        feature_config_snapshot=other.to_dict(),
        model_config_snapshot=mc.to_dict(),
        split={**split, "seed": 7},
        epochs_override=3,
    )
    rows = {(r["section"], r["field"]): r["values"] for r in config_diff([one, two])}
    assert rows == {
        ("Training", "Epochs"): ["5", "3"],
        ("Features", "Buyer feature: buyer_region"): ["embedding (dim 4)", "embedding (dim 16)"],
        ("Features", "Product feature: price"): ["normalize", "—"],
        ("Data", "Seed"): ["42", "7"],
    }
    assert config_diff([one, one.model_copy(update={"id": 3})]) == []


def test_compare_accepts_records_and_the_default_store(store, two_runs):
    a, b = two_runs
    records = [store.quick_tests.get(a), store.quick_tests.get(b)]
    assert compare(records).frame.equals(compare([a, b], store=store).frame)
    # tw.compare is the same function, found lazily.
    assert tw.compare is compare


def test_unknown_ids_are_named_with_the_ids_that_exist(store, two_runs):
    a, b = two_runs
    with pytest.raises(CompareError) as info:
        compare([a, 999, 1000], store=store)
    assert str(info.value) == (
        f"No quick test with id 999, 1000 in the store; stored ids: {a}, {b}"
    )
    assert isinstance(info.value, ValueError)  # the CLI and widgets show it as one line


@pytest.mark.parametrize(
    ("arg", "message"),
    [
        ("3", "takes a list of quick-test ids or records"),
        (3, "takes a list of quick-test ids or records"),
        (["a", "b"], "'a' is not a quick-test id"),
        ([1.5, 2], "1.5 is not a quick-test id"),
    ],
)
def test_bad_arguments_get_a_clear_message(store, arg, message):
    with pytest.raises(CompareError, match=message):
        compare(arg, store=store)


def test_one_run_or_the_same_run_twice_is_too_few(store, two_runs):
    a, _ = two_runs
    with pytest.raises(CompareError, match=rf"two or more different quick tests; got 1 \(#{a}\)"):
        compare([a, a], store=store)
    with pytest.raises(CompareError, match="got 0"):
        compare([], store=store)


def test_script_output_lists_runs_last_epoch_and_differences(store, two_runs):
    a, b = two_runs
    result = compare([a, b], store=store)
    assert isinstance(result, Comparison)
    assert repr(result) == f"Comparison(runs=[{a}, {b}])"
    text = str(result)
    assert f"#{a} Sample features + Small (pending)" in text
    assert "640.25" in text and "610" in text  # last epochs' loss of A and B
    assert "Differences:" in text and "Adagrad" in text and "Adam" in text


def test_tidy_frame_of_runs_without_epochs_is_empty_with_the_columns():
    frame = tidy_frame([QuickTest(id=1), QuickTest(id=2)])
    assert frame.empty and list(frame.columns) == ["run_id", "label", "epoch", "metric", "value"]


def test_cli_compare_prints_the_comparison_and_writes_the_tidy_csv(
    store, two_runs, tmp_path, capsys
):
    import pandas as pd

    from towerwidgets.cli import main

    a, b = two_runs
    out_csv = tmp_path / "runs.csv"
    assert (
        main(["--store", str(store.location), "compare", str(a), str(b), "--csv", str(out_csv)])
        == 0
    )
    out = capsys.readouterr().out
    assert f"#{b} Sample features + Big" in out and "Differences:" in out
    assert "Wrote 13 rows" in out
    assert pd.read_csv(out_csv).equals(compare([a, b], store=store).frame)


def test_cli_compare_unknown_id_is_one_line(store, two_runs, capsys):
    from towerwidgets.cli import main

    assert main(["--store", str(store.location), "compare", "1", "77"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: No quick test with id 77 in the store") and err.count("\n") == 1
