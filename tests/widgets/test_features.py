"""FeatureEditor state without a browser: inference, edits, validation messages, save."""

from __future__ import annotations

import pandas as pd
import pytest
from widget_helpers import XSS, front_end

import towerwidgets as tw
from towerwidgets.config import FeatureConfig
from towerwidgets.errors import ConfigValidationError
from towerwidgets.widgets import FeatureEditor


@pytest.fixture
def editor(store, sample_df):
    return FeatureEditor(sample_df, store=store, name="Sample features")


def test_opens_on_the_proposal_with_one_row_per_column(editor, sample_df):
    assert [row["name"] for row in editor.columns] == list(sample_df.columns)
    cfg = editor.config
    assert (cfg.buyer_id_column, cfg.product_id_column) == ("buyer_id", "product_id")
    assert editor.errors == []
    assert editor.dims == {"buyer": cfg.buyer_tensor_dim, "product": cfg.product_tensor_dim}
    assert editor.config_data["name"] == "Sample features"
    assert editor.source == "600 rows · 7 columns"
    assert repr(editor).startswith("FeatureEditor(config='Sample features', buyer=")
    assert tw.FeatureEditor is FeatureEditor


def test_set_column_as_in_the_issue(editor):
    before = editor.dims["product"]
    editor.set_column("price", tower="product", transform="bucketize", num_buckets=10)
    [price] = editor.transforms_of("price")
    assert (price.transform, price.num_buckets, price.embedding_dim) == ("bucketize", 10, 8)
    editor.set_column("price", embedding_dim=16)  # tower and transform kept
    assert editor.dims["product"] == before + 8
    editor.set_column("price", tower="buyer")  # moves with its transform
    assert (
        editor.tower_of("price") == "buyer" and editor.transforms_of("price")[0].embedding_dim == 16
    )
    editor.leave_out("price")
    assert editor.tower_of("price") is None
    assert "price" not in editor.config.columns()


def test_a_left_out_column_joins_with_its_proposed_transform(editor):
    assert editor.tower_of("timestamp") is None
    editor.set_column("timestamp", tower="buyer")
    [ts] = editor.transforms_of("timestamp")
    assert (ts.transform, ts.period) == ("cyclical", "week")
    editor.add_transform("timestamp", "normalize")
    assert [f.transform for f in editor.transforms_of("timestamp")] == ["cyclical", "normalize"]
    editor.update_transform("timestamp", 0, period="day")
    assert editor.transforms_of("timestamp")[0].period == "day"
    editor.remove_transform("timestamp", 1)
    assert editor.dims["buyer"] == editor.config.buyer_tensor_dim


def test_validation_against_the_data_uses_validate_against_messages(editor, sample_df):
    editor.set_column("category", transform="normalize")
    expected = editor.config.validate_against(sample_df)
    assert expected and editor.errors == expected
    assert "needs numbers" in editor.errors[0]
    assert editor.column_errors == {"category": expected}
    editor.set_column("category", transform="embedding")
    assert editor.errors == [] and editor.column_errors == {}


def test_config_problems_come_first_then_the_data_ones(editor):
    editor.set_name("   ")
    editor.set_column("buyer_region", transform="bucketize")
    assert editor.errors[0] == "Feature config name is required"
    assert "'buyer_region'" in editor.errors[1]


def test_refused_edits_change_nothing_and_say_why(editor):
    before = editor.config_data
    with pytest.raises(ValueError, match="num buckets must be at least 2"):
        editor.set_column("price", num_buckets=1)
    with pytest.raises(ValueError, match="Column 'nope' is not in the data"):
        editor.set_column("nope", tower="buyer")
    with pytest.raises(ValueError, match="Unknown tower"):
        editor.set_column("price", tower="left")
    with pytest.raises(TypeError, match="Unknown parameter"):
        editor.set_column("price", buckets=3)
    assert editor.config_data == before
    front_end(editor, "set_column", column="price", tower="product", num_buckets=0)
    assert editor.notice.startswith("Not applied: ") and "num buckets" in editor.notice
    assert editor.config_data == before


def test_crosses_add_to_the_tower_dimension(editor):
    before = editor.dims["product"]
    editor.add_cross(["category", "price"], "product", hash_buckets=500, embedding_dim=12)
    assert editor.dims["product"] == before + 12
    assert editor.config.crosses[0].columns == ["category", "price"]
    with pytest.raises(ValueError, match="at least 2"):
        editor.add_cross(["category"], "product")
    front_end(editor, "remove_cross", index=0)
    assert editor.dims["product"] == before


def test_ids_chosen_in_the_front_end_join_their_tower(store):
    df = pd.DataFrame({"a": ["x", "y", "x"], "b": [1, 2, 3], "c": [0.5, 1.5, 2.5]})
    editor = FeatureEditor(df, store=store, name="abc")
    assert editor.errors == [
        "Buyer id column is required",
        "Product id column is required",
        "The buyer tower needs at least one feature",
        "The product tower needs at least one feature",
    ]
    front_end(editor, "set_field", field="buyer_id_column", value="a")
    front_end(editor, "set_field", field="product_id_column", value="b")
    assert editor.tower_of("a") == "buyer" and editor.tower_of("b") == "product"
    assert editor.errors == []


def test_save_stores_the_config_and_edit_updates_it(store, sample_df):
    editor = FeatureEditor(sample_df, store=store, name="Mine")
    seen = []
    editor.on_save(seen.append)
    front_end(editor, "set_column", column="timestamp", tower="buyer", transform="cyclical")
    front_end(editor, "save")
    [stored] = store.feature_configs.list()
    assert stored.name == "Mine" and editor.saved == {"id": stored.id, "name": "Mine"}
    assert [f.column for f in stored.buyer_features] == ["buyer_id", "buyer_region", "timestamp"]
    assert seen == [stored] and editor.closed

    again = FeatureEditor(sample_df, store=store, config=stored)
    assert again.mode == "edit" and again.tower_of("timestamp") == "buyer"
    again.leave_out("timestamp")
    again.save()
    [updated] = store.feature_configs.list()
    assert updated.id == stored.id and "timestamp" not in updated.columns()


def test_save_refuses_an_invalid_config_and_keeps_the_edits(store, sample_df):
    editor = FeatureEditor(sample_df, store=store, name="x")
    editor.set_column("category", transform="normalize")
    with pytest.raises(ConfigValidationError, match="needs numbers"):
        editor.save()
    assert store.feature_configs.list() == []
    assert editor.notice.startswith("Not saved")
    assert editor.transforms_of("category")[0].transform == "normalize"


def test_a_config_deleted_elsewhere_is_saved_again_as_new(store, sample_df):
    stored = store.feature_configs.create(
        FeatureConfig.infer(sample_df, ["buyer_id"], ["product_id"], name="gone")
    )
    editor = FeatureEditor(sample_df, store=store, config=stored)
    store.feature_configs.delete(stored.id)
    with pytest.raises(ValueError, match="deleted elsewhere"):
        editor.save()
    assert editor.mode == "create"
    again = editor.save()
    assert again.id is not None and [c.name for c in store.feature_configs.list()] == ["gone"]


def test_a_stored_config_opened_on_other_data_lists_the_missing_columns(store, sample_df):
    other = FeatureConfig.infer(
        pd.DataFrame({"user": ["a"], "item": ["b"]}), ["user"], ["item"], name="elsewhere"
    )
    editor = FeatureEditor(sample_df, store=store, config=other)
    assert editor.errors[0].startswith("Column 'user' (buyer id column) is not in the data")
    assert editor.errors == other.validate_against(sample_df)
    editor.set_ids(buyer="buyer_id", product="product_id")
    assert editor.tower_of("buyer_id") == "buyer"


def test_user_text_stays_text(store):
    df = pd.DataFrame({XSS: ["a", "b"], "user_id": ["u", "v"], "item_id": [1, 2]})
    editor = FeatureEditor(df, store=store, name=XSS)
    editor.set_column(XSS, tower="product")
    assert editor.config.name == XSS
    assert XSS in [f.column for f in editor.config.product_features]


def test_bad_input_gets_a_clear_message(store, tmp_path):
    with pytest.raises(FileNotFoundError, match="No file at"):
        FeatureEditor(tmp_path / "missing.csv")
    with pytest.raises(TypeError, match="unexpected keyword"):
        FeatureEditor(pd.DataFrame({"a": [1]}), colour="red")
    path = tmp_path / "ratings.csv"
    pd.DataFrame({"userId": [1, 2], "movieId": [3, 4], "rating": [4.0, 5.0]}).to_csv(
        path, index=False
    )
    editor = FeatureEditor(str(path), store=store)
    assert editor.config.name == "ratings features"
    assert editor.source.startswith("ratings.csv · 2 rows")


# ── in ModelingPage's Features chapter ───────────────────────────────────────────────────


def test_page_new_feature_config_opens_the_editor_and_save_adds_a_card(store, sample_df):
    page = tw.ModelingPage(store, data=sample_df)
    assert page.has_data and page.features == []
    front_end(page, "new_features")
    editor = page.feature_editor
    assert isinstance(editor, FeatureEditor) and editor.mode == "create"
    front_end(editor, "set_field", field="name", value="From the page")
    front_end(editor, "save")
    assert page.feature_editor is None
    assert [card["name"] for card in page.features] == ["From the page"]
    assert page.features_message == "Saved “From the page”"
    page.close()


def test_page_edit_opens_the_stored_config_and_cancel_closes(store, sample_df, feature_config):
    page = tw.ModelingPage(store, data=sample_df)
    front_end(page, "edit_features", config_id=feature_config.id)
    assert page.feature_editor.mode == "edit"
    assert page.feature_editor.config.id == feature_config.id
    front_end(page.feature_editor, "cancel")
    assert page.feature_editor is None and page.features_message == ""
    front_end(page, "edit_features", config_id=9999)
    assert page.feature_editor is None and "9999" in page.features_message
    page.close()


def test_page_without_data_says_how_to_give_it(store):
    page = tw.ModelingPage(store)
    assert page.has_data is False
    front_end(page, "new_features")
    assert page.feature_editor is None
    assert "tw.ModelingPage(store, data=df)" in page.features_message
    page.close()


def test_large_data_is_profiled_on_a_sample_and_rechecked_only_when_uses_change(
    store, sample_df, monkeypatch
):
    editor = FeatureEditor(sample_df, store=store, sample_rows=100)
    assert editor.source == "600 rows (statistics from a sample of 100) · 7 columns"
    assert all(not row["distinct_exact"] for row in editor.columns)
    assert next(r for r in editor.columns if r["name"] == "price")["nulls"] == 0
    calls = []
    original = FeatureConfig.validate_against
    monkeypatch.setattr(
        FeatureConfig,
        "validate_against",
        lambda self, df: calls.append(1) or original(self, df),
    )
    editor.set_column("price", num_buckets=30)  # a parameter: the same answer as before
    editor.set_name("Renamed")
    assert calls == []  # answered from the check made when the editor opened
    editor.set_column("price", tower="buyer")  # a new use: checked again
    assert calls == [1]
    assert editor.errors == editor.config.validate_against(sample_df)


def test_an_edit_reaches_the_front_end_as_one_state_message(editor):
    sent = []
    editor._send = lambda msg, buffers=None: sent.append(msg)
    editor.set_column("timestamp", tower="buyer")
    states = [m for m in sent if m.get("method") == "update"]
    assert len(states) == 1
    assert {"config_data", "dims"} <= set(states[0]["state"])  # unchanged errors stay home
    sent.clear()
    editor.set_column("category", transform="normalize")
    [state] = [m for m in sent if m.get("method") == "update"]
    assert {"config_data", "errors", "column_errors"} <= set(state["state"])
