"""Keras-style summaries and notebook displays of configs and quick test records."""

from __future__ import annotations

import pytest

from towerwidgets.codegen.params import count_params, param_breakdown
from towerwidgets.config import Feature, FeatureConfig, ModelConfig, QuickTest


def _features() -> FeatureConfig:
    return FeatureConfig(
        name="IDs + age",
        buyer_id_column="user_id",
        product_id_column="item_id",
        buyer_features=[
            Feature(column="user_id", embedding_dim=16),
            Feature(column="age", transform="normalize"),
        ],
        product_features=[Feature(column="item_id", embedding_dim=8)],
    )


@pytest.mark.parametrize("model_type", ["retrieval", "ranking", "multitask"])
@pytest.mark.parametrize("share", [False, True])
def test_summary_totals_equal_the_parameter_count(model_type, share):
    fc = _features()
    mc = ModelConfig.from_preset("regularized", name="m", model_type=model_type)
    if share:
        mc.product_tower_layers = list(mc.buyer_tower_layers)
        mc.share_tower_weights = True
    vocab = {"user_id": 50, "item_id": 30}
    summary = mc.model_summary(fc, vocab)
    counted = param_breakdown(fc, vocab, mc)
    assert (summary.trainable, summary.non_trainable) == (
        counted["trainable"],
        counted["non_trainable"],
    )
    assert sum(r.params for r in summary.rows) == summary.total
    assert not summary.estimated and "≈" not in str(summary)


def test_summary_prints_a_keras_style_table_marked_estimated_before_vocabularies():
    mc = ModelConfig.from_preset("standard", name="Standard")
    lines: list[str] = []
    mc.summary(_features(), print_fn=lines.append)
    text = lines[0]
    assert text.startswith('Model: "Standard (retrieval)"')
    assert "Layer (type)" in text and "Output Shape" in text and "Param #" in text
    assert "buyer_user_id (Embedding)" in text and "(None, 16)" in text
    assert "Total params: ≈" in text and "not known yet are not counted" in text
    # the one count every screen shows (issue 14): the same total, the same assumption
    assert f"Total params: ≈{count_params(mc, _features())['total']:,}" in text
    assert str(mc) == str(mc.model_summary())  # print(config) shows the same table
    assert "<table>" in mc._repr_html_()


def test_summary_without_features_marks_the_assumed_inputs():
    mc = ModelConfig.from_preset("minimal", name="m")
    summary = mc.model_summary()
    assert summary.estimated and summary.total == count_params(mc)["total"]
    assert "no FeatureConfig" in str(summary)


def test_quick_test_history_summary_and_html():
    fc, mc = _features(), ModelConfig.from_preset("minimal", name="m")
    record = QuickTest(
        id=7,
        feature_config_snapshot=fc.to_dict(),
        model_config_snapshot=mc.to_dict(),
        epoch_metrics=[
            {"epoch": 1, "loss": 0.9, "recall_at_10": 0.1, "train_seconds": 1.0},
            {"epoch": 2, "loss": 0.7, "recall_at_10": 0.2, "train_seconds": 1.0},
        ],
        vocabulary_stats={"transform_vocabularies": {"user_id": 50, "item_id": 30}},
    )
    assert list(record.history.columns) == ["epoch", "loss", "recall_at_10"]
    assert len(record.history) == 2
    lines: list[str] = []
    record.summary(print_fn=lines.append)
    assert "≈" not in lines[0]
    text = str(record)
    assert text.startswith("QuickTest 7: IDs + age + m — pending") and "Param #" in text
    html = record._repr_html_()
    assert "QuickTest 7" in html and "recall_at_10" in html and "Param #" in html
    assert "<table" in fc._repr_html_()


def test_load_model_needs_an_export_and_imports_tensorflow_only_when_called():
    record = QuickTest(id=3)
    with pytest.raises(FileNotFoundError, match="no exported model"):
        record.load_model()
