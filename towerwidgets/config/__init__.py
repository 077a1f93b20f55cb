"""Config models: FeatureConfig (what features), ModelConfig (how towers work), QuickTest."""

from towerwidgets.config.feature_config import Cross, Feature, FeatureConfig
from towerwidgets.config.layers import (
    BatchNormLayer,
    DenseLayer,
    DropoutLayer,
    Layer,
    layer_json_schema,
    parse_layers,
)
from towerwidgets.config.messages import friendly_errors
from towerwidgets.config.model_config import ModelConfig
from towerwidgets.config.presets import PRESET_NAMES, presets
from towerwidgets.config.quick_test import STAGES, TRANSITIONS, QuickTest

__all__ = [
    "PRESET_NAMES",
    "STAGES",
    "TRANSITIONS",
    "BatchNormLayer",
    "Cross",
    "DenseLayer",
    "DropoutLayer",
    "Feature",
    "FeatureConfig",
    "Layer",
    "ModelConfig",
    "QuickTest",
    "friendly_errors",
    "layer_json_schema",
    "parse_layers",
    "presets",
]
