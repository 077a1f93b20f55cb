"""Regenerate model_configs.json from the Python implementation (review the diff!).

    .venv/bin/python tests/vectors/make_vectors.py

The vectors pin what the Python config model answers (summaries, parameter estimates,
validation messages) and what the front end previews (js/model.js); pytest and vitest both
assert against the same file, so the two implementations cannot drift apart.
"""

from __future__ import annotations

import json
import pathlib

from towerwidgets.config import ModelConfig
from towerwidgets.widgets._format import format_params
from towerwidgets.widgets.wizard import error_step

HERE = pathlib.Path(__file__).parent

CASES: list[dict] = [
    {"name": "standard preset", "preset": "standard", "config": {"name": "Standard Retrieval v1"}},
    {
        "name": "minimal preset with feature dims",
        "preset": "minimal",
        "config": {"name": "Minimal"},
        "buyer_input_dim": 104,
        "product_input_dim": 72,
    },
    {
        "name": "deep asymmetric (spec example)",
        "config": {
            "name": "Deep Asymmetric v2",
            "optimizer": "adam",
            "learning_rate": 0.01,
            "batch_size": 8192,
            "output_embedding_dim": 64,
            "buyer_tower_layers": [
                {"type": "dense", "units": 256, "activation": "relu", "l2_reg": 0.0},
                {"type": "dense", "units": 128, "activation": "relu", "l2_reg": 0.0},
                {"type": "dense", "units": 64, "activation": None, "l2_reg": 0.0},
            ],
            "product_tower_layers": [
                {"type": "dense", "units": 128, "activation": "relu", "l2_reg": 0.0},
                {"type": "dense", "units": 64, "activation": None, "l2_reg": 0.0},
            ],
        },
    },
    {"name": "regularized preset", "preset": "regularized", "config": {"name": "Reg"}},
    {
        "name": "ranking with default head",
        "preset": "standard",
        "config": {"name": "Rank", "model_type": "ranking"},
        "rating_head": "default",
    },
    {
        "name": "multitask shared weights",
        "preset": "standard",
        "config": {
            "name": "MT",
            "model_type": "multitask",
            "share_tower_weights": True,
            "retrieval_weight": 0.5,
            "ranking_weight": 0.5,
        },
        "rating_head": "default",
    },
    {"name": "empty draft", "config": {"name": ""}},
    {
        "name": "invalid everything",
        "config": {
            "name": "  ",
            "model_type": "multitask",
            "retrieval_weight": 0.0,
            "ranking_weight": 0.0,
            "share_tower_weights": True,
            "output_embedding_dim": 4,
            "learning_rate": 0.0,
            "batch_size": 0,
            "epochs": 0,
            "buyer_tower_layers": [
                {"type": "dense", "units": 16, "activation": "relu", "l2_reg": 0.01},
                {"type": "dropout", "rate": 0.3},
            ],
            "product_tower_layers": [{"type": "batch_norm"}],
            "rating_head_layers": [
                {"type": "dense", "units": 8, "activation": "gelu", "l2_reg": 0.0}
            ],
        },
    },
    {
        "name": "big tower",
        "config": {
            "name": "Big",
            "output_embedding_dim": 512,
            "buyer_tower_layers": [
                {"type": "dense", "units": 2048, "activation": "relu", "l2_reg": 0.0},
                {"type": "dense", "units": 2048, "activation": "tanh", "l2_reg": 0.001},
                {"type": "dense", "units": 512, "activation": None, "l2_reg": 0.0},
            ],
            "product_tower_layers": [
                {"type": "dense", "units": 512, "activation": "sigmoid", "l2_reg": 0.1}
            ],
        },
        "buyer_input_dim": 300,
        "product_input_dim": 7,
    },
]


def build(case: dict) -> ModelConfig:
    cfg = ModelConfig(**case["config"])
    if case.get("preset"):
        cfg.apply_preset(case["preset"])
    if case.get("rating_head") == "default":
        cfg.rating_head_layers = ModelConfig.get_default_rating_head()
    return cfg


def expect(case: dict) -> dict:
    cfg = build(case)
    b, p = case.get("buyer_input_dim"), case.get("product_input_dim")
    errors = cfg.validate()
    return {
        "buyer_summary": cfg.get_buyer_tower_summary(),
        "product_summary": cfg.get_product_tower_summary(),
        "rating_head_summary": cfg.get_rating_head_summary(),
        "buyer_layers": cfg.count_layers("buyer"),
        "product_layers": cfg.count_layers("product"),
        "towers_identical": cfg.towers_are_identical(),
        "estimate_params": cfg.estimate_params(b, p),
        "params_text": format_params(cfg.estimate_params(b, p)),
        "buyer_params": cfg.tower_params("buyer", b),
        "product_params": cfg.tower_params("product", p),
        "layer_labels": {
            tower: [
                [layer.label(), layer.detail()] for layer in getattr(cfg, f"{tower}_tower_layers")
            ]
            for tower in ("buyer", "product")
        },
        "layer_lines": {"buyer": cfg.layer_lines("buyer"), "product": cfg.layer_lines("product")},
        "errors": errors,
        "error_steps": [error_step(m) for m in errors],
        "warnings": cfg.warnings(),
    }


def main() -> None:
    out = {
        "about": "Shared test vectors: tests/widgets/test_vectors.py and tests/js/vectors.test.js "
        "assert both implementations against them. Regenerate with make_vectors.py.",
        "cases": [
            {
                **case,
                "config_json": build(case).to_dict() | {"created_by": ""},
                "expect": expect(case),
            }
            for case in CASES
        ],
        "format_params": [
            [n, format_params(n)]
            for n in (0, 7, 999, 1000, 1499, 1500, 2500, 23264, 999_499, 1_000_000, 12_345_678)
        ],
    }
    (HERE / "model_configs.json").write_text(json.dumps(out, indent=1, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
