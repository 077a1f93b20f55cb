"""Data people have: concatenated frames, time zones, dates as text (issue 11, items 2-4)."""

from __future__ import annotations

import pandas as pd
import pytest
from runner_helpers import generated_code, model_config

from towerwidgets.config import Feature, FeatureConfig
from towerwidgets.runner.prepare import QuickTestInputError, prepare_data, validate_inputs

N = 50


def _features(time_transform: str | None = "cyclical") -> FeatureConfig:
    buyer = [Feature(column="buyer_id", embedding_dim=8)]
    if time_transform:
        buyer.append(Feature(column="timestamp", transform=time_transform))
    return FeatureConfig(
        name="f",
        buyer_id_column="buyer_id",
        product_id_column="product_id",
        buyer_features=buyer,
        product_features=[Feature(column="product_id", embedding_dim=8)],
    )


def _frame(n: int = N) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "buyer_id": [f"b{i}" for i in range(n)],  # the buyer id encodes the time order
            "product_id": [f"p{i % 5}" for i in range(n)],
            "timestamp": [1_700_000_000 + 3600 * i for i in range(n)],
        }
    )


def _prepare(tmp_path, df, fc, **kw):
    mc = model_config()
    code = generated_code(fc, mc)
    validate_inputs(fc, mc, df, "")
    return prepare_data(df, fc, code.transform_code, tmp_path, seed=1, **kw)


def _eval_buyers(prepared) -> set[str]:
    return set(pd.read_parquet(prepared.paths["eval"])["buyer_id"])


@pytest.mark.parametrize("split", ["random", "temporal"])
def test_a_duplicate_index_from_concat_prepares_like_a_fresh_one(tmp_path, split):
    df = _frame()
    halves = pd.concat([df.iloc[: N // 2], df.iloc[N // 2 :].reset_index(drop=True)])
    assert not halves.index.is_unique
    fc = _features()
    got = _prepare(tmp_path / "a", halves, fc, split=split)
    expected = _prepare(tmp_path / "b", df, fc, split=split)
    assert got.split == expected.split and got.fingerprint == expected.fingerprint
    assert _eval_buyers(got) == _eval_buyers(expected)


def test_a_timezone_aware_time_column_is_read_as_utc_seconds(tmp_path):
    df = _frame()
    naive = _prepare(tmp_path / "a", df, _features(), split="temporal")
    aware = df.assign(
        timestamp=pd.to_datetime(df["timestamp"], unit="s", utc=True).dt.tz_convert("Asia/Tokyo")
    )
    fc = FeatureConfig.infer(
        aware, buyer_columns=["buyer_id", "timestamp"], product_columns=["product_id"], name="f"
    )
    assert {f.transform for f in fc.buyer_features} >= {"normalize", "cyclical"}
    assert fc.validate_against(aware) == []
    prepared = _prepare(tmp_path / "b", aware, fc, split="temporal")
    train = pd.read_parquet(prepared.paths["train"])
    assert sorted(train["timestamp"]) == sorted(df["timestamp"].iloc[: N - N // 5])
    assert _eval_buyers(prepared) == _eval_buyers(naive)


@pytest.mark.parametrize("order", ["ascending", "descending", "shuffled"])
def test_a_temporal_split_on_text_dates_evaluates_on_the_latest_rows(tmp_path, order):
    df = _frame()
    df["timestamp"] = pd.to_datetime(df["timestamp"], unit="s").dt.strftime("%Y-%m-%d %H:%M")
    if order == "descending":
        df = df.iloc[::-1]
    elif order == "shuffled":
        df = df.sample(frac=1, random_state=3)
    prepared = _prepare(
        tmp_path, df, _features(None), split={"kind": "temporal", "column": "timestamp"}
    )
    latest = {f"b{i}" for i in range(N - N // 5, N)}
    assert _eval_buyers(prepared) == latest


def test_a_temporal_split_column_that_is_not_time_is_refused_by_name(tmp_path):
    df = _frame()
    df["when"] = ["soon"] + ["2024-01-02"] * (N - 1)
    with pytest.raises(QuickTestInputError) as error:
        _prepare(tmp_path, df, _features(None), split={"kind": "temporal", "column": "when"})
    assert "'when'" in str(error.value) and "'soon'" in str(error.value)
    assert error.value.stage == "prepare data"


@pytest.mark.parametrize(
    ("values", "works"),
    [
        (pd.array(range(N), dtype="Int64"), True),
        (pd.array([None, *range(1, N)], dtype="Int64"), True),
        (pd.array(range(N), dtype="int64[pyarrow]"), True),
        ([str(1_700_000_000 + i) for i in range(N)], True),  # numbers as text
        (pd.Categorical([i % 3 for i in range(N)]), False),
        ([True, False] * (N // 2), False),
        ([1, "a"] * (N // 2), False),
    ],
)
def test_column_kinds_work_or_are_refused_at_validation(tmp_path, values, works):
    df = _frame().assign(timestamp=values)
    fc = _features("normalize")
    if works:
        prepared = _prepare(tmp_path, df, fc)
        assert prepared.split["train_rows"] + prepared.split["eval_rows"] == N
    else:
        problems = fc.validate_against(df)
        assert len(problems) == 1 and "'timestamp'" in problems[0]


def test_a_duplicated_column_name_is_refused_by_name():
    df = pd.concat([_frame(), _frame()[["timestamp"]]], axis=1)
    problems = _features().validate_against(df)
    assert problems == [
        "Column 'timestamp' (buyer feature) appears 2 times in the data; rename or drop the copies"
    ]


def test_max_eval_rows_evaluates_on_a_seeded_subset_and_trains_on_the_same_rows(tmp_path):
    from towerwidgets.datasets import sample

    data = sample(n_buyers=200, n_products=100, n_interactions=5000, n_categories=5, seed=2)
    fc = FeatureConfig(
        name="cap",
        buyer_id_column="buyer_id",
        product_id_column="product_id",
        buyer_features=[Feature(column="buyer_id", embedding_dim=8)],
        product_features=[Feature(column="product_id", embedding_dim=8)],
    )
    code = generated_code(fc, model_config("retrieval"))
    transform = code["transform_code"] if isinstance(code, dict) else code.transform_code

    def prepared(split, where):
        return prepare_data(data, fc, transform, tmp_path / where, seed=7, split=split)

    full = prepared("random", "full")
    capped = prepared({"kind": "random", "max_eval_rows": 300}, "capped")
    again = prepared({"kind": "random", "max_eval_rows": 300}, "again")
    assert capped.split["eval_rows"] == 300
    assert capped.split["eval_rows_held_out"] == full.split["eval_rows"] == 1000
    assert capped.split["train_rows"] == full.split["train_rows"] == 4000  # same training
    assert capped.split["candidates"] == full.split["candidates"]
    assert capped.cache_key not in (full.cache_key, "")
    assert any("300" in w and "max_eval_rows" in w for w in capped.warnings)
    train = pd.read_parquet(capped.paths["train"])
    evaluation = pd.read_parquet(capped.paths["eval"])
    full_eval = pd.read_parquet(full.paths["eval"])
    pd.testing.assert_frame_equal(train, pd.read_parquet(full.paths["train"]))
    # a subset of the held-out rows, the same one for the same seed
    merged = evaluation.merge(full_eval.drop_duplicates(), how="left", indicator=True)
    assert (merged["_merge"] == "both").all()
    pd.testing.assert_frame_equal(evaluation, pd.read_parquet(again.paths["eval"]))
    # a cap above the held-out count changes nothing but the record
    roomy = prepared({"kind": "random", "max_eval_rows": 5000}, "roomy")
    assert roomy.split["eval_rows"] == 1000


@pytest.mark.parametrize("bad", [0, -5, 2.5, "100", True])
def test_a_bad_max_eval_rows_is_refused_by_name(tmp_path, bad):
    from towerwidgets.datasets import sample

    data = sample(n_buyers=50, n_products=40, n_interactions=400, n_categories=3, seed=2)
    fc = FeatureConfig(
        name="cap",
        buyer_id_column="buyer_id",
        product_id_column="product_id",
        buyer_features=[Feature(column="buyer_id", embedding_dim=8)],
        product_features=[Feature(column="product_id", embedding_dim=8)],
    )
    code = generated_code(fc, model_config("retrieval"))
    transform = code["transform_code"] if isinstance(code, dict) else code.transform_code
    with pytest.raises(QuickTestInputError, match="max_eval_rows"):
        prepare_data(
            data, fc, transform, tmp_path, seed=1, split={"kind": "random", "max_eval_rows": bad}
        )
