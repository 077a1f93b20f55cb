"""The five architecture presets of the spec.

Deviation from the spec (see README): each tower's output layer is linear (activation
None) instead of ReLU. A ReLU on the output can collapse embeddings to zero, and the TFRS
deep-recommender tutorials keep the output layer linear. Sizes, dropouts and L2 are the spec's.
"""

from __future__ import annotations

import copy
from typing import Any


def _dense(units: int, l2: float = 0.0, activation: str | None = "relu") -> dict[str, Any]:
    return {"type": "dense", "units": units, "activation": activation, "l2_reg": l2}


def _tower(*units: int) -> list[dict[str, Any]]:
    *hidden, out = units
    return [*(_dense(u) for u in hidden), _dense(out, activation=None)]


_REGULARIZED = [
    _dense(128, 0.01),
    {"type": "dropout", "rate": 0.2},
    _dense(64, 0.01),
    {"type": "dropout", "rate": 0.1},
    _dense(32, activation=None),
]

PRESETS: dict[str, dict[str, Any]] = {
    "minimal": {
        "name": "Minimal",
        "description": "Fast training, 2 layers, good for initial testing",
        "buyer_tower_layers": _tower(64, 32),
        "product_tower_layers": _tower(64, 32),
        "output_embedding_dim": 32,
    },
    "standard": {
        "name": "Standard",
        "description": "Balanced architecture, 3 layers, recommended starting point",
        "buyer_tower_layers": _tower(128, 64, 32),
        "product_tower_layers": _tower(128, 64, 32),
        "output_embedding_dim": 32,
    },
    "deep": {
        "name": "Deep",
        "description": "Maximum capacity, 4 layers, best for large datasets",
        "buyer_tower_layers": _tower(256, 128, 64, 32),
        "product_tower_layers": _tower(256, 128, 64, 32),
        "output_embedding_dim": 32,
    },
    "asymmetric": {
        "name": "Asymmetric",
        "description": "Larger buyer tower for context-heavy features, smaller product tower",
        "buyer_tower_layers": _tower(256, 128, 64),
        "product_tower_layers": _tower(128, 64),
        "output_embedding_dim": 64,
    },
    "regularized": {
        "name": "Regularized",
        "description": "With dropout and L2 regularization to prevent overfitting",
        "buyer_tower_layers": _REGULARIZED,
        "product_tower_layers": _REGULARIZED,
        "output_embedding_dim": 32,
    },
}

PRESET_NAMES: tuple[str, ...] = tuple(PRESETS)

DEFAULT_RATING_HEAD: list[dict[str, Any]] = [
    _dense(256),
    _dense(64),
    {"type": "dense", "units": 1, "activation": None},
]


def presets() -> dict[str, dict[str, Any]]:
    """All presets, name -> preset dict (a fresh copy: callers may edit it)."""
    return copy.deepcopy(PRESETS)


def get_preset(name: str) -> dict[str, Any]:
    """One preset; an unknown name gives the standard preset, as in the spec."""
    return copy.deepcopy(PRESETS.get(name, PRESETS["standard"]))
