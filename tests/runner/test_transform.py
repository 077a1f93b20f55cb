"""The worker's transform: tft's analysis run in memory writes the same transform graph as
the analysis on Beam (vocabularies byte for byte, schema, examples), and the analysed graph
applied in TensorFlow gives exactly the examples tensorflow-transform's Beam
TransformDataset writes, for every kind of feature."""

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


def _run_report(script: Path, *args: object) -> dict:
    """Run a script in a fresh interpreter (TensorFlow stays out of pytest's process)
    and return the JSON report it prints last."""
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    result = subprocess.run(
        [sys.executable, str(script), *map(str, args)],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


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
    report = _run_report(
        SCRIPT,
        module,
        prepared.paths["train"],
        prepared.paths["eval"],
        prepared.paths["candidates"],
        tmp_path / "out",
    )
    assert report["same"] == {"train": True, "eval": True, "candidates": True}
    assert report["same_vocabularies"] and report["same_schema"]
    assert report["analyses"] == {"memory": "in-memory", "beam_analysis": "beam", "beam": "beam"}
    # buyer_id, product_id (twice: the candidate id and the tower input), buyer_region,
    # category: every vocabulary the generated code asks for was written, none empty.
    assert len(report["vocabularies"]) >= 4 and min(report["vocabularies"].values()) > 1
    assert report["counts"] == {
        "train": 480,
        "eval": 120,
        "candidates": prepared.split["candidates"],
    }
    assert len(report["features"]) >= 6


ANALYSIS_SCRIPT = Path(__file__).parent / "scripts" / "compare_analysis.py"
ANALYSIS_MODULE = Path(__file__).parent / "scripts" / "analysis_module.py"


def _analysis_data(path: Path) -> None:
    """2,000 rows with tied word counts, non-ASCII words and numbers that repeat."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(7)
    words = ["café", "日本", "zebra", "apple", "Apple", "a b", "x\u00a0y", ""]
    # Two pairs of words with equal counts, so the order of ties is tested too.
    counts = [400, 300, 300, 250, 250, 200, 180, 120]
    column = np.repeat(words, counts)
    rng.shuffle(column)
    frame = pd.DataFrame(
        {
            "word": column,
            "number": rng.normal(5.0, 2.0, len(column)).astype("float64"),
            "count": rng.integers(0, 30, len(column)),
        }
    )
    frame.to_parquet(path, index=False)


def test_in_memory_analysis_writes_the_graph_beam_writes(tmp_path):
    train = tmp_path / "train.parquet"
    _analysis_data(train)
    report = _run_report(ANALYSIS_SCRIPT, ANALYSIS_MODULE, train, tmp_path, 700)
    assert report["analyses"] == {"memory": "in-memory", "beam_analysis": "beam"}
    assert report["batches"] == 3  # 2,000 rows read 700 at a time: accumulators merged
    assert report["same_vocabularies"]
    # Eight words, the empty one left out of text vocabularies by tft; six of them seen
    # at least 190 times; the top 3; thirty distinct counts as tokens.
    assert report["vocabularies"] == {
        "by_frequency": 7,
        "count_token": 30,
        "frequent": 6,
        "shuffled": 7,
        "top_3": 3,
        "with_counts": 7,
    }
    # Vocabulary indices and buckets are equal; means, variances, min and max agree to
    # float32 rounding (Beam merges the per-batch accumulators in another order).
    for name in ("by_frequency", "top_3", "frequent", "count_token", "buckets"):
        assert report["differences"][name] == 0, name
    for name in ("z", "unit", "centred_count"):
        assert report["differences"][name] < 1e-5, name


def test_an_analyzer_without_an_in_memory_version_falls_back_to_beam(tmp_path):
    """A vocabulary written as gzipped TFRecords is Beam's only: "analyze" uses Beam for
    it, "memory" refuses before writing anything."""
    module = tmp_path / "tfrecord_vocabulary.py"
    module.write_text(
        ANALYSIS_MODULE.read_text().replace(
            'vocab_filename="by_frequency"',
            'vocab_filename="by_frequency", file_format="tfrecord_gzip"',
        )
    )
    script = tmp_path / "fallback.py"
    script.write_text(
        "import json, os, sys\n"
        "os.environ['TF_USE_LEGACY_KERAS'] = '1'\n"
        "from towerwidgets.runner import worker, analysis\n"
        "events = []\n"
        "worker.emit = lambda kind, **payload: events.append(payload)\n"
        "module = worker.load_module(sys.argv[1], 'fallback_under_test')\n"
        "data = {'train': sys.argv[2], 'eval': sys.argv[2], 'candidates': sys.argv[2]}\n"
        "try:\n"
        "    worker.run_transform({'cache_dir': sys.argv[3], 'cache_key': 'memory', 'data': data,"
        " 'transform_mode': 'memory'}, module)\n"
        "    refused = ''\n"
        "except analysis.Unsupported as error:\n"
        "    refused = str(error)\n"
        "out = worker.run_transform({'cache_dir': sys.argv[3], 'cache_key': 'auto', 'data': data}, module)\n"
        "print(json.dumps({'refused': refused, 'analysis': out['analysis'],"
        " 'leftovers': sorted(os.listdir(sys.argv[3])),"
        " 'reasons': [e['metrics'].get('reason') for e in events if 'reason' in e.get('metrics', {})]}))\n"
    )
    train = tmp_path / "train.parquet"
    _analysis_data(train)
    report = _run_report(script, module, train, tmp_path / "cache")
    assert "tfrecord_gzip" in report["refused"]
    assert report["analysis"] == "beam"
    assert report["leftovers"] == ["auto"]  # the refused run left no half-written cache
    assert report["reasons"] and "tfrecord_gzip" in report["reasons"][0]
