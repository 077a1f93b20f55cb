"""Properties: any dict is a valid ModelConfig or a ValidationError with field paths;
validate() and warnings() never raise; JSON round trips are lossless."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from towerwidgets import ModelConfig
from towerwidgets.config import friendly_errors

values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-5000, 5000)
    | st.floats(allow_nan=True)
    | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=6), children, max_size=3)
    ),
    max_leaves=8,
)
layer = st.fixed_dictionaries(
    {"type": st.sampled_from(["dense", "dropout", "batch_norm", "conv"])},
    optional={
        "units": st.integers(-5, 3000) | values,
        "activation": st.sampled_from(["relu", "gelu", None, "swish"]),
        "l2_reg": st.floats(-1, 2),
        "rate": st.floats(-1, 1),
    },
)
config_dicts = st.fixed_dictionaries(
    {},
    optional={
        "name": st.text(max_size=20) | values,
        "model_type": st.sampled_from(["retrieval", "ranking", "multitask", "other"]),
        "buyer_tower_layers": st.lists(layer, max_size=4),
        "product_tower_layers": st.lists(layer, max_size=4),
        "rating_head_layers": st.lists(layer, max_size=3),
        "output_embedding_dim": st.integers(-10, 2000),
        "share_tower_weights": st.booleans(),
        "optimizer": st.sampled_from(["adagrad", "adam", "sgd", "rmsprop"]),
        "learning_rate": st.floats(-1, 100, allow_nan=False),
        "batch_size": st.integers(-10, 100000),
        "epochs": st.integers(-1, 2000),
        "retrieval_weight": st.floats(-1, 2, allow_nan=False),
        "ranking_weight": st.floats(-1, 2, allow_nan=False),
        "bogus": values,
    },
)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(config_dicts)
def test_any_dict_is_a_config_or_a_validation_error_with_paths(data):
    try:
        config = ModelConfig.model_validate(data)
    except ValidationError as exc:
        lines = friendly_errors(exc)
        assert lines and all(line[:1].isupper() and "Input should" not in line for line in lines)
        return
    assert isinstance(config.validate(), list)
    assert all(isinstance(m, str) and m for m in config.validate())
    assert isinstance(config.warnings(), list)
    assert ModelConfig.from_json(config.to_json()) == config
    assert config.estimate_params() >= 0
