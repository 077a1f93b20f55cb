"""ModelConfig: the spec's unit tests, ported, plus our additions to validate() and warnings()."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from towerwidgets import ModelConfig, presets
from towerwidgets.config import DenseLayer, friendly_errors


def dense(units, activation="relu", l2=0.0):
    return {"type": "dense", "units": units, "activation": activation, "l2_reg": l2}


# ── the spec's ModelConfigTestCase ─────────────────────────────────────────────────────


def test_create_model_config():
    config = ModelConfig(
        name="Test Config",
        model_type="retrieval",
        buyer_tower_layers=[
            {"type": "dense", "units": 128, "activation": "relu"},
            {"type": "dense", "units": 32, "activation": "relu"},
        ],
        product_tower_layers=[
            {"type": "dense", "units": 64, "activation": "relu"},
            {"type": "dense", "units": 32, "activation": "relu"},
        ],
    )
    assert config.get_buyer_tower_summary() == "128→32"
    assert config.get_product_tower_summary() == "64→32"


def test_preset_loading():
    preset = ModelConfig.get_preset("standard")
    assert len(preset["buyer_tower_layers"]) == 3


def test_validation_weight_sharing():
    config = ModelConfig(
        name="Invalid",
        share_tower_weights=True,
        buyer_tower_layers=[{"type": "dense", "units": 128}],
        product_tower_layers=[{"type": "dense", "units": 64}],
    )
    assert "Weight sharing requires identical tower architectures" in config.validate()


def test_parameter_estimation():
    config = ModelConfig(
        name="Test",
        buyer_tower_layers=[dense(128), dense(32)],
        product_tower_layers=[dense(64), dense(32)],
    )
    params = config.estimate_params(buyer_input_dim=100, product_input_dim=50)
    assert params > 0
    # The spec's formula, by hand: (100*128+128) + (128*32+32) + (50*64+64) + (64*32+32)
    assert params == 12928 + 4128 + 3264 + 2080


# ── the spec's helpers in detail ───────────────────────────────────────────────────────


def test_defaults_match_the_spec():
    config = ModelConfig()
    assert config.model_type == "retrieval"
    assert config.output_embedding_dim == 32
    assert config.optimizer == "adagrad"
    assert config.learning_rate == 0.1
    assert config.batch_size == 4096
    assert config.epochs == 5
    assert (config.retrieval_weight, config.ranking_weight) == (1.0, 0.0)
    assert config.share_tower_weights is False
    assert config.buyer_tower_layers == [] and config.rating_head_layers == []


def test_summaries_of_empty_towers_and_heads():
    config = ModelConfig()
    assert config.get_buyer_tower_summary() == "Empty"
    assert config.get_product_tower_summary() == "Empty"
    assert config.get_rating_head_summary() == "None"


def test_summary_skips_dropout_and_batch_norm():
    config = ModelConfig(
        buyer_tower_layers=[
            dense(128),
            {"type": "dropout", "rate": 0.2},
            {"type": "batch_norm"},
            dense(32),
        ]
    )
    assert config.get_buyer_tower_summary() == "128→32"
    assert config.count_layers("buyer") == 4
    assert config.count_layers("product") == 0


def test_estimate_params_defaults_and_sharing_and_rating_head():
    config = ModelConfig.from_preset("standard", name="x")
    # Default input estimates: buyer 100, product 50.
    tower = lambda d: (d * 128 + 128) + (128 * 64 + 64) + (64 * 32 + 32)  # noqa: E731
    assert config.estimate_params() == tower(100) + tower(50)
    config.share_tower_weights = True
    assert config.estimate_params() == tower(100)
    ranking = ModelConfig.from_preset("minimal", name="r", model_type="ranking")
    head = (64 * 256 + 256) + (256 * 64 + 64) + (64 * 1 + 1)
    towers = (10 * 64 + 64) + (64 * 32 + 32) + (20 * 64 + 64) + (64 * 32 + 32)
    assert ranking.estimate_params(10, 20) == towers + head


def test_default_rating_head_and_layers():
    head = ModelConfig.get_default_rating_head()
    assert [layer["units"] for layer in head] == [256, 64, 1]
    assert head[-1]["activation"] is None
    assert [layer["units"] for layer in ModelConfig.get_default_layers()] == [128, 64, 32]


def test_unknown_preset_gives_standard_like_the_spec():
    assert ModelConfig.get_preset("nope")["name"] == "Standard"


@pytest.mark.parametrize(
    ("key", "buyer", "product", "dim"),
    [
        ("minimal", "64→32", "64→32", 32),
        ("standard", "128→64→32", "128→64→32", 32),
        ("deep", "256→128→64→32", "256→128→64→32", 32),
        ("asymmetric", "256→128→64", "128→64", 64),
        ("regularized", "128→64→32", "128→64→32", 32),
    ],
)
def test_presets_keep_the_spec_sizes_with_linear_outputs(key, buyer, product, dim):
    preset = presets()[key]
    config = ModelConfig(
        name=preset["name"],
        **{
            k: preset[k]
            for k in ("buyer_tower_layers", "product_tower_layers", "output_embedding_dim")
        },
    )
    assert config.get_buyer_tower_summary() == buyer
    assert config.get_product_tower_summary() == product
    assert config.output_embedding_dim == dim
    # No fixed time: the spec's "~8 min" contradicted every other estimate (issue 14 item 6);
    # the cards, the wizard, the panel and the CLI show runner.estimates' one estimate.
    assert "estimated_time" not in preset
    assert preset["description"]
    # Our deviation: every tower's output layer is linear, and every preset is valid as-is.
    assert config.buyer_tower_layers[-1].activation is None
    assert config.product_tower_layers[-1].activation is None
    assert config.validate() == []
    assert config.warnings() == []


def test_regularized_preset_has_dropout_and_l2():
    layers = presets()["regularized"]["buyer_tower_layers"]
    assert [layer["type"] for layer in layers] == ["dense", "dropout", "dense", "dropout", "dense"]
    assert layers[0]["l2_reg"] == 0.01 and layers[1]["rate"] == 0.2


def test_presets_returns_copies():
    presets()["standard"]["buyer_tower_layers"].clear()
    assert len(presets()["standard"]["buyer_tower_layers"]) == 3


# ── validate(): the spec's messages, verbatim ───────────────────────────────────────────


def test_drafts_construct_and_validate_reports_every_spec_message():
    config = ModelConfig(
        name="Draft",
        model_type="multitask",
        output_embedding_dim=4,
        retrieval_weight=0,
        ranking_weight=0,
        rating_head_layers=[dense(64)],
    )
    errors = config.validate()
    for message in (
        "Buyer tower must have at least one layer",
        "Product tower must have at least one layer",
        "Rating head must end with Dense(1) for scalar output",
        "At least one loss weight must be greater than 0",
        "Output embedding dimension should be at least 8",
    ):
        assert message in errors
    assert (
        "Output embedding dimension should not exceed 512"
        in ModelConfig(output_embedding_dim=1024).validate()
    )
    assert (
        "Rating head layers required for ranking/multitask models"
        in ModelConfig(model_type="ranking").validate()
    )


def test_validate_output_layer_must_match_the_embedding_dim():
    config = ModelConfig.from_preset("standard", name="x")
    config.output_embedding_dim = 64
    errors = config.validate()
    assert (
        "Buyer tower's output layer has 32 units but the output embedding dimension is 64; "
        "they must match"
    ) in errors
    assert any(e.startswith("Product tower's output layer has 32 units") for e in errors)


def test_validate_name_weights_learning_rate_batch_and_epochs():
    config = ModelConfig.from_preset("standard", name=" ")
    config.retrieval_weight = 1.5
    config.learning_rate = 0
    config.batch_size = 0
    config.epochs = 100000
    errors = config.validate()
    assert "Model name is required" in errors
    assert "Retrieval loss weight must be between 0 and 1 (got 1.5)" in errors
    assert "Learning rate must be greater than 0 (got 0)" in errors
    assert "Batch size must be between 1 and 65536 (got 0)" in errors
    assert "Epochs must be between 1 and 1000 (got 100000)" in errors


def test_validate_tower_without_dense():
    config = ModelConfig(
        name="x",
        buyer_tower_layers=[{"type": "dropout", "rate": 0.1}],
        product_tower_layers=[dense(32, None)],
    )
    assert "Buyer tower must contain at least one Dense layer" in config.validate()


def test_rating_head_ignored_for_retrieval():
    config = ModelConfig.from_preset("minimal", name="x")
    config.rating_head_layers = [dense(7)]
    assert config.validate() == []


# ── warnings() ───────────────────────────────────────────────────────────────────────────


def test_warnings_relu_output_trailing_dropout_and_learning_rate():
    config = ModelConfig(
        name="x",
        buyer_tower_layers=[dense(64), dense(32)],
        product_tower_layers=[dense(64), dense(32, None), {"type": "dropout", "rate": 0.3}],
        optimizer="adam",
        learning_rate=1.0,
    )
    notes = config.warnings()
    assert any("Buyer tower's output layer uses ReLU" in n for n in notes)
    assert any("Product tower has Dropout after its output layer" in n for n in notes)
    assert any("far outside the range recommended for Adam (0.001 - 0.01)" in n for n in notes)
    assert config.validate() == []  # warnings never block


def test_multitask_with_one_zero_weight_warns():
    config = ModelConfig.from_preset(
        "standard", name="m", model_type="multitask", ranking_weight=0.0
    )
    assert any("ranking loss weight is 0" in n for n in config.warnings())


# ── structure: refused at construction, in our words, naming the field as the screen does ─────────────────────


@pytest.mark.parametrize(
    ("layer", "fragment"),
    [
        (
            {"type": "dense", "units": 0},
            "Buyer tower, layer 1: units must be at least 1 (got 0)",
        ),
        (
            {"type": "dense", "units": 4096},
            "Buyer tower, layer 1: units must be at most 2048 (got 4096)",
        ),
        (
            {"type": "dense", "units": 8, "activation": "swish"},
            "Buyer tower, layer 1: activation must be one of",
        ),
        (
            {"type": "dense", "units": 8, "l2_reg": 2},
            "L2 regularization must be at most 1",
        ),
        ({"type": "dropout", "rate": 0.95}, "dropout rate must be at most 0.9 (got 0.95)"),
        (
            {"type": "conv2d"},
            "Buyer tower, layer 1 has an unknown layer type 'conv2d'; use 'dense', 'dropout', 'batch_norm'",
        ),
        ({"type": "dense"}, "Buyer tower, layer 1: units is required"),
        (
            {"type": "batch_norm", "momentum": 0.9},
            "Buyer tower, layer 1: momentum is not a known field",
        ),
    ],
)
def test_layers_outside_the_schema_are_refused(layer, fragment):
    with pytest.raises(ValidationError) as info:
        ModelConfig(buyer_tower_layers=[layer])
    assert any(fragment in line for line in friendly_errors(info.value)), friendly_errors(
        info.value
    )


def test_assignments_are_validated():
    config = ModelConfig()
    with pytest.raises(ValidationError):
        config.model_type = "clustering"
    config.buyer_tower_layers = [dense(16)]
    assert isinstance(config.buyer_tower_layers[0], DenseLayer)


def test_layer_dict_access_keeps_the_spec_helpers_valid():
    layer = ModelConfig(buyer_tower_layers=[dense(16)]).buyer_tower_layers[0]
    assert layer["units"] == 16 and layer.get("type") == "dense" and layer.get("rate") is None


def test_json_round_trip_is_lossless():
    config = ModelConfig.from_preset(
        "regularized", name="Round 'trip' \"v1\"", model_type="multitask"
    )
    again = ModelConfig.from_json(config.to_json())
    assert again == config
    assert ModelConfig.from_dict(config.to_dict()) == config


def test_str_and_created_by():
    config = ModelConfig(name="Deep Asymmetric v2", model_type="ranking")
    assert config.label == "Deep Asymmetric v2 (Ranking)"
    assert str(config).startswith('Model: "Deep Asymmetric v2 (ranking)"')
    assert isinstance(config.created_by, str)


def test_from_preset_rejects_unknown_names():
    with pytest.raises(ValueError, match="Unknown preset 'huge'"):
        ModelConfig.from_preset("huge")
