"""Trivial baselines on the quick test's own split (issue 14): most popular, training mean."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from towerwidgets.runner.baselines import beats, compute_baselines, verdicts


def _frames():
    # popularity in train: a=3, b=2, c=1, d=0 (d only in eval)
    train = pd.DataFrame(
        {"product": ["a", "a", "a", "b", "b", "c"], "rating": [5.0, 4.0, 3.0, 4.0, 2.0, 1.0]}
    )
    evaluation = pd.DataFrame({"product": ["a", "b", "c", "d"], "rating": [4.0, 3.0, 2.0, 5.0]})
    candidates = pd.DataFrame({"product": ["a", "b", "c", "d"]})
    return train, evaluation, candidates


def test_most_popular_recall_uses_the_models_tie_aware_rank(monkeypatch):
    import towerwidgets.runner.baselines as baselines

    monkeypatch.setattr(baselines, "RECALL_AT", (1, 2, 3, 4))
    out = compute_baselines(*_frames(), product_key="product")
    # ranks: a=1, b=2, c=3, d=4 (d: 0 train rows, ties with nothing above it)
    assert [out[f"recall_at_{k}"] for k in (1, 2, 3, 4)] == [0.25, 0.5, 0.75, 1.0]


def test_ties_count_against_the_positive_like_the_trainer():
    train = pd.DataFrame({"product": ["a", "b"]})  # a and b tie at 1
    evaluation = pd.DataFrame({"product": ["a"]})
    candidates = pd.DataFrame({"product": ["a", "b"] + [f"x{i}" for i in range(200)]})
    out = compute_baselines(train, evaluation, candidates, "product")
    assert out["recall_at_10"] == 1.0  # rank 2 (a and b both >= 1)
    flat = compute_baselines(train.iloc[:0], evaluation, candidates, "product")
    assert flat["recall_at_100"] == 0.0  # all 202 tie at 0: rank 202, a miss, as in TFRS eval


def test_train_mean_rmse_and_mae():
    train, evaluation, candidates = _frames()
    out = compute_baselines(train, evaluation, candidates, "product", rating_key="rating")
    mean = train["rating"].mean()  # 19 / 6
    errors = evaluation["rating"] - mean
    assert out["rmse"] == pytest.approx(math.sqrt((errors**2).mean()), abs=1e-6)
    assert out["mae"] == pytest.approx(errors.abs().mean(), abs=1e-6)


def test_the_summary_says_when_the_model_does_not_beat_the_baseline():
    """The saved ranking config reached RMSE 1.0448 with the ratings' spread at 1.0425."""
    notes = verdicts(
        {"rmse": 1.0448, "mae": 0.70, "recall_at_100": None}, {"rmse": 1.0425, "mae": 0.84}
    )
    assert notes == ["RMSE 1.0448 is no better than predicting the training mean rating (1.0425)"]
    assert verdicts({"recall_at_100": 0.05}, {"recall_at_100": 0.30}) == [
        "Recall@100 5.0% does not beat recommending the most popular products (30.0%)"
    ]
    assert beats("recall_at_100", 0.40, 0.30) and beats("rmse", 0.9, 1.0)
    assert beats("rmse", 1.0, 1.005) is False  # within the 1% margin is not a win
    assert beats("rmse", None, 1.0) is None


def test_prepare_data_records_the_baselines_in_the_split(tmp_path):
    from towerwidgets import datasets, generate_trainer_code
    from towerwidgets.config import FeatureConfig, ModelConfig
    from towerwidgets.runner.prepare import prepare_data

    df = datasets.sample(n_buyers=40, n_products=30, n_interactions=400, seed=2)
    fc = FeatureConfig.infer(df, buyer_columns=["buyer_id"], product_columns=["product_id"])
    mc = ModelConfig.from_preset("minimal", name="m", model_type="ranking")
    rating = next(c for c in df.columns if "rating" in c)
    code = generate_trainer_code(fc, mc, rating_column=rating)
    prepared = prepare_data(df, fc, code.transform_code, tmp_path / "run", seed=1)
    base = prepared.split["baselines"]
    assert set(base) == {"recall_at_10", "recall_at_50", "recall_at_100", "rmse", "mae"}
    assert 0 <= base["recall_at_10"] <= base["recall_at_50"] <= base["recall_at_100"] <= 1
    assert base["rmse"] >= base["mae"] > 0


def test_the_cli_summary_lists_the_baselines_and_what_the_model_does_not_beat():
    import io

    from rich.console import Console

    from towerwidgets.config import QuickTest
    from towerwidgets.runner.console import print_summary

    record = QuickTest(
        id=7,
        feature_config_id=1,
        model_config_id=2,
        feature_config_snapshot={"name": "F"},
        model_config_snapshot={"name": "M"},
        rmse=1.0448,
        mae=0.80,
        duration_seconds=24,
        estimated_duration_seconds=31,
        split={
            "kind": "random",
            "train_rows": 8,
            "eval_rows": 2,
            "candidates": 3,
            "baselines": {"rmse": 1.0425, "mae": 0.84},
        },
    )
    out = io.StringIO()
    print_summary(record, Console(file=out, width=200))
    text = out.getvalue()
    assert "Baselines (same split): rmse: 1.042 • mae: 0.84" in text
    assert "RMSE 1.0448 is no better than predicting the training mean rating (1.0425)" in text
    assert "Duration: 24s (estimated ~30s)" in text  # the one duration format


def test_any_id_or_rating_dtype_gives_the_same_baselines():
    """Categorical, pyarrow-backed and nullable columns count like plain ones."""
    train, evaluation, candidates = _frames()
    plain = compute_baselines(train, evaluation, candidates, "product", rating_key="rating")
    typed = [
        (frame.assign(product=frame["product"].astype(dtype)))
        for frame in (train, evaluation, candidates)
        for dtype in ("category",)
    ]
    assert compute_baselines(*typed, "product") == {
        k: v for k, v in plain.items() if k.startswith("recall")
    }
    nullable = evaluation.assign(rating=pd.array([4, None, 2, 5], dtype="Int64"))
    out = compute_baselines(train, nullable, candidates, "product", rating_key="rating")
    assert math.isfinite(out["rmse"]) and math.isfinite(out["mae"])
    assert compute_baselines(train, evaluation.iloc[:0], candidates, "product") == {}
