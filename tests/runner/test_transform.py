"""The worker's transform: the analysed graph applied in TensorFlow gives exactly the
examples tensorflow-transform's Beam TransformDataset writes, for every kind of feature."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from runner_helpers import generated_code, model_config

from towerwidgets.config import Cross, Feature, FeatureConfig
from towerwidgets.runner.prepare import prepare_data

pytestmark = pytest.mark.slow
SCRIPT = Path(__file__).parent / "scripts" / "compare_transform_modes.py"


def test_applying_the_transform_graph_matches_beam_transform_dataset(tmp_path, tiny_data):
    features = FeatureConfig(
        name="every transform",
        buyer_id_column="buyer_id",
        product_id_column="product_id",
        buyer_features=[
            Feature(column="buyer_id", embedding_dim=8),
            Feature(column="buyer_region", embedding_dim=4),
            Feature(column="timestamp", transform="normalize"),
            Feature(column="timestamp", transform="cyclical", period="week"),
        ],
        product_features=[
            Feature(column="product_id", embedding_dim=8),
            Feature(column="category", embedding_dim=4),
            Feature(column="price", transform="bucketize", num_buckets=5),
        ],
        crosses=[Cross(tower="buyer", columns=["buyer_region", "category"], hash_buckets=50)],
    )
    mc = model_config("ranking")
    code = generated_code(features, mc, "rating")
    transform = code["transform_code"] if isinstance(code, dict) else code.transform_code
    module = tmp_path / "transform_module.py"
    module.write_text(transform)
    prepared = prepare_data(tiny_data.head(600), features, transform, tmp_path / "run", seed=1)
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    result = subprocess.run(
        [
            sys.executable,
            str(SCRIPT),
            str(module),
            prepared.paths["train"],
            prepared.paths["eval"],
            prepared.paths["candidates"],
            str(tmp_path / "out"),
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["same"] == {"train": True, "eval": True, "candidates": True}
    assert report["counts"] == {
        "train": 480,
        "eval": 120,
        "candidates": prepared.split["candidates"],
    }
    assert len(report["features"]) >= 6
