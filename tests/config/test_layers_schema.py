"""The exported layer JSON Schema means the same as the spec's."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from towerwidgets import layer_json_schema

SPEC = Path(__file__).resolve().parents[3] / "shared" / "spec" / "model-structure.md"


def test_schema_has_the_spec_bounds_enums_and_defaults():
    schema = layer_json_schema()
    assert schema["$schema"] == "http://json-schema.org/draft-07/schema#"
    assert schema["type"] == "array" and schema["items"]["required"] == ["type"]
    dense, dropout, batch_norm = schema["items"]["oneOf"]
    assert dense["properties"]["type"] == {"const": "dense"}
    assert dense["properties"]["units"]["type"] == "integer"
    assert (dense["properties"]["units"]["minimum"], dense["properties"]["units"]["maximum"]) == (
        1,
        2048,
    )
    assert dense["properties"]["activation"]["enum"] == [
        "relu",
        "leaky_relu",
        "gelu",
        "tanh",
        "sigmoid",
        None,
    ]
    assert dense["properties"]["activation"]["default"] == "relu"
    assert (
        dense["properties"]["l2_reg"]["minimum"] == 0
        and dense["properties"]["l2_reg"]["maximum"] == 1
    )
    assert dense["properties"]["l2_reg"]["default"] == 0.0
    assert sorted(dense["required"]) == ["type", "units"]
    assert (
        dropout["properties"]["rate"]["maximum"] == 0.9
        and dropout["properties"]["rate"]["default"] == 0.2
    )
    assert batch_norm["properties"] == {"type": {"const": "batch_norm"}} and batch_norm[
        "required"
    ] == ["type"]


@pytest.mark.skipif(not SPEC.exists(), reason="the spec is beside the checkout in development")
def test_schema_agrees_with_the_spec_text():
    import json

    text = SPEC.read_text()
    block = re.search(r"### Layer Configuration Schema\s+```json\n(.*?)```", text, re.S).group(1)
    spec = json.loads(block)
    ours = layer_json_schema()
    for spec_variant, our_variant in zip(
        spec["items"]["oneOf"], ours["items"]["oneOf"], strict=True
    ):
        assert sorted(spec_variant["required"]) == sorted(our_variant["required"])
        for name, prop in spec_variant["properties"].items():
            for key in ("const", "minimum", "maximum", "enum", "default", "type"):
                if key in prop:
                    assert our_variant["properties"][name][key] == prop[key], (name, key)
