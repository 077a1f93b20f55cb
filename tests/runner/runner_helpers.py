"""Helpers shared by the runner tests (imported by name; pytest puts this folder on sys.path)."""

from __future__ import annotations

import os
import re
from pathlib import Path

HANDWRITTEN = Path(__file__).parent / "handwritten"


def model_config(model_type: str = "retrieval", **fields):
    from towerwidgets.config import ModelConfig

    fields.setdefault("name", f"tiny {model_type}")
    fields.setdefault("batch_size", 256)
    fields.setdefault("epochs", 2)
    return ModelConfig.from_preset("minimal", model_type=model_type, **fields)


def generated_code(feature_config, config, rating_column=None):
    """The real generator's modules, or the hand-written pair with TW_RUNNER_TEST_CODE=handwritten."""
    if os.environ.get("TW_RUNNER_TEST_CODE", "generated") != "handwritten":
        from towerwidgets.codegen import generate_trainer_code

        result = generate_trainer_code(feature_config, config, rating_column=rating_column)
        assert result.is_valid, result.validation_error
        return result
    trainer = (HANDWRITTEN / "trainer_module.py").read_text()
    trainer = re.sub(
        r'^MODEL_TYPE = ".*"$', f'MODEL_TYPE = "{config.model_type}"', trainer, flags=re.M
    )
    return {
        "transform_code": (HANDWRITTEN / "transform_module.py").read_text(),
        "trainer_code": trainer,
    }
