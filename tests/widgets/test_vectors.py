"""Python answers what tests/vectors/model_configs.json says (vitest asserts the JS side)."""

from __future__ import annotations

import json
import pathlib
import re

import pytest

from towerwidgets.config import ModelConfig
from towerwidgets.widgets import (
    CompareView,
    FeatureEditor,
    MetricsTable,
    ModelingPage,
    ModelStructure,
    ModelWizard,
    QuickTestPanel,
    TowerBuilder,
)
from towerwidgets.widgets._format import format_params
from towerwidgets.widgets.wizard import error_step

ROOT = pathlib.Path(__file__).resolve().parents[2]
VECTORS = json.loads((ROOT / "tests" / "vectors" / "model_configs.json").read_text())


@pytest.mark.parametrize("case", VECTORS["cases"], ids=lambda c: c["name"])
def test_python_matches_the_vectors(case):
    cfg = ModelConfig.from_dict(case["config_json"])
    e = case["expect"]
    b, p = case.get("buyer_input_dim"), case.get("product_input_dim")
    assert cfg.get_buyer_tower_summary() == e["buyer_summary"]
    assert cfg.get_product_tower_summary() == e["product_summary"]
    assert cfg.get_rating_head_summary() == e["rating_head_summary"]
    assert cfg.count_layers("buyer") == e["buyer_layers"]
    assert cfg.count_layers("product") == e["product_layers"]
    assert cfg.towers_are_identical() == e["towers_identical"]
    assert cfg.estimate_params(b, p) == e["estimate_params"]
    assert format_params(e["estimate_params"]) == e["params_text"]
    assert cfg.tower_params("buyer", b) == e["buyer_params"]
    assert cfg.tower_params("product", p) == e["product_params"]
    for tower in ("buyer", "product"):
        layers = getattr(cfg, f"{tower}_tower_layers")
        assert [[layer.label(), layer.detail()] for layer in layers] == e["layer_labels"][tower]
        assert cfg.layer_lines(tower) == e["layer_lines"][tower]
    assert cfg.validate() == e["errors"]
    assert [error_step(m) for m in e["errors"]] == e["error_steps"]
    assert cfg.warnings() == e["warnings"]


def test_format_params_vectors():
    for n, text in VECTORS["format_params"]:
        assert format_params(n) == text


def _js_trait_lists() -> dict[str, list[str]]:
    """The `export const X_TRAITS = [...]` lists of js/ (spreads of other lists resolved)."""
    lists: dict[str, list[str]] = {}
    raw: dict[str, str] = {}
    for path in (ROOT / "js").glob("*.js"):
        for name, body in re.findall(
            r"export const (\w+_TRAITS) = \[(.*?)\];", path.read_text(), re.S
        ):
            raw[name] = body
    for _ in range(3):
        for name, body in raw.items():
            items: list[str] = []
            for spread in re.findall(r"\.\.\.(\w+_TRAITS)", body):
                items += lists.get(spread, [])
            items += re.findall(r'"(\w+)"', body)
            lists[name] = items
    return lists


SYNCED_BY_JS = {
    TowerBuilder: "BUILDER_TRAITS",
    ModelWizard: "WIZARD_TRAITS",
    ModelStructure: "STRUCTURE_TRAITS",
    QuickTestPanel: "QUICK_TEST_TRAITS",
    MetricsTable: "METRICS_TRAITS",
    ModelingPage: "PAGE_TRAITS",
    CompareView: "COMPARE_TRAITS",
    FeatureEditor: "FEATURES_TRAITS",
}
# Synced by every widget (ipywidgets/anywidget machinery, and our view dispatch).
BASE = {"_view", "_esm", "_css", "_anywidget_id", "layout", "tabbable", "tooltip", "_dom_classes"}


@pytest.mark.parametrize("cls", list(SYNCED_BY_JS), ids=lambda c: c.__name__)
def test_js_reads_exactly_the_synced_traits(cls):
    js = set(_js_trait_lists()[SYNCED_BY_JS[cls]])
    synced = {
        name
        for name, trait in cls.class_traits(sync=True).items()
        if not name.startswith("_model") and not name.startswith("_view_")
    } - BASE
    assert js == synced
