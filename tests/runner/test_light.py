"""Runner pieces that never touch TensorFlow: imports, estimates, events, data preparation."""

from __future__ import annotations

import inspect
import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from runner_helpers import generated_code, model_config

from towerwidgets.config import Feature
from towerwidgets.runner import estimate_quick_test
from towerwidgets.runner.estimates import MACHINE_PRICES, format_duration
from towerwidgets.runner.events import QuickTestEvent, decode_line, encode_event, stage_percent
from towerwidgets.runner.prepare import (
    QuickTestInputError,
    module_constants,
    prepare_data,
    validate_inputs,
)


def _modules_loaded(code: str) -> dict:
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            code + "\nimport sys, json\n"
            "print(json.dumps({m: m in sys.modules for m in ('tensorflow', 'apache_beam', 'pandas')}))",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_importing_the_runner_does_not_import_tensorflow():
    loaded = _modules_loaded(
        "import towerwidgets, towerwidgets.runner\n"
        "from towerwidgets.runner import estimate_quick_test, start_quick_test, run_quick_test\n"
        "from towerwidgets.runner import LocalBackend, QuickTestEvent\n"
        "towerwidgets.run_quick_test"
    )
    assert not loaded["tensorflow"] and not loaded["apache_beam"]


def test_estimates_module_is_light():
    loaded = _modules_loaded("import towerwidgets.runner.estimates")
    assert loaded == {"tensorflow": False, "apache_beam": False, "pandas": False}


def test_estimate_local_is_free_and_grows_with_rows_and_epochs(feature_config):
    mc = model_config(epochs=3)
    small = estimate_quick_test(feature_config, mc, n_rows=10_000)
    big = estimate_quick_test(feature_config, mc, n_rows=1_000_000)
    more = estimate_quick_test(feature_config, mc, n_rows=10_000, epochs=30)
    assert small.cost_usd == 0 and "no cost" in small.text
    assert big.seconds > small.seconds and more.seconds > small.seconds
    cached = estimate_quick_test(feature_config, mc, n_rows=1_000_000, transform_cached=True)
    assert cached.seconds < big.seconds


def test_estimate_vertex_costs_money_from_the_price_table(feature_config):
    mc = model_config()
    cheap = estimate_quick_test(feature_config, mc, n_rows=100_000, machine="n1-standard-4")
    assert cheap.cost_usd > 0 and "$" in cheap.text and "n1-standard-4" in cheap.text
    assert set(MACHINE_PRICES) >= {"local", "n1-standard-4", "n1-standard-8"}
    with pytest.raises(ValueError, match="Unknown machine type"):
        estimate_quick_test(feature_config, mc, machine="quantum-9000")


def test_estimate_accepts_plain_dicts():
    est = estimate_quick_test({}, {"epochs": 2, "batch_size": 512, "buyer_tower_layers": []})
    assert est.seconds > 0 and est.text


def test_format_duration():
    """One format for measured durations and (with "~", rounded) estimates."""
    assert format_duration(5) == "5s"
    assert format_duration(503) == "8m 23s"
    assert format_duration(3720) == "1h 02m"
    assert format_duration(None) == "—"
    assert format_duration(5, approx=True) == "~5s"
    assert format_duration(33, approx=True) == "~35s"
    assert format_duration(600, approx=True) == "~10m"
    assert format_duration(7200, approx=True) == "~2h 00m"


def test_event_lines_round_trip_and_are_json_safe():
    line = encode_event(
        {"kind": "epoch", "epoch": 1, "metrics": {"loss": float("nan"), "n": np.int64(3)}}
    )
    data = decode_line(line)
    assert data["metrics"] == {"loss": "nan", "n": 3}
    assert decode_line("some library printed this") is None
    assert decode_line('{"not": "an event"}') is None
    event = QuickTestEvent.from_dict({**data, "unknown": 1})
    assert event.kind == "epoch" and event.epoch == 1
    assert QuickTestEvent("status", status="failed").is_final


def test_stage_percent_is_monotonic():
    stages = ["validate", "prepare data", "transform", "train", "evaluate", "export", "done"]
    values = [stage_percent(s) for s in stages]
    assert values == sorted(values) and values[-1] == 100
    assert stage_percent("train", 0.5) == (stage_percent("train") + stage_percent("evaluate")) // 2


def test_module_constants_reads_literals_without_running_code(feature_config):
    code = generated_code(feature_config, model_config())
    transform = code["transform_code"] if isinstance(code, dict) else code.transform_code
    constants = module_constants(transform)
    assert constants["BUYER_ID_KEY"] == "buyer_id"
    assert constants["RAW_COLUMN_TYPES"]["buyer_id"] == "string"


def _prepare(tmp_path, df, feature_config, **kw):
    code = generated_code(feature_config, model_config())
    transform = code["transform_code"] if isinstance(code, dict) else code.transform_code
    return prepare_data(df, feature_config, transform, tmp_path, seed=kw.pop("seed", 7), **kw)


def test_prepare_splits_80_20_with_a_seed_and_one_candidate_per_product(
    tmp_path, tiny_data, feature_config
):
    a = _prepare(tmp_path / "a", tiny_data, feature_config)
    b = _prepare(tmp_path / "b", tiny_data, feature_config)
    c = _prepare(tmp_path / "c", tiny_data, feature_config, seed=8)
    assert a.split["train_rows"] + a.split["eval_rows"] == len(tiny_data)
    assert a.split["eval_rows"] == round(0.2 * len(tiny_data))
    assert a.cache_key == b.cache_key and a.cache_key != c.cache_key
    assert pd.read_parquet(a.paths["eval"]).equals(pd.read_parquet(b.paths["eval"]))
    candidates = pd.read_parquet(a.paths["candidates"])
    assert candidates["product_id"].is_unique
    assert set(candidates["product_id"]) == set(tiny_data["product_id"])
    assert a.split["candidates"] == tiny_data["product_id"].nunique()
    assert a.vocabulary_stats["buyer_id"]["vocabulary_size"] > 0


def test_candidates_carry_the_latest_product_features(tmp_path, feature_config):
    df = pd.DataFrame(
        {
            "buyer_id": ["b1", "b2", "b3", "b4"],
            "product_id": ["p1", "p1", "p2", "p2"],
            "category": ["old", "new", "x", "x"],
            "price": [1.0, 2.0, 3.0, 4.0],
            "timestamp": [10, 20, 30, 5],
            "rating": [1.0, 2.0, 3.0, 4.0],
        }
    )
    prepared = _prepare(tmp_path, df, feature_config)
    candidates = pd.read_parquet(prepared.paths["candidates"]).set_index("product_id")
    assert candidates.loc["p1", "category"] == "new"


def test_cache_key_is_the_transform_code_and_the_data(tmp_path, tiny_data, feature_config):
    base = _prepare(tmp_path / "a", tiny_data, feature_config)
    renamed = _prepare(tmp_path / "b", tiny_data, feature_config.copy_as_new(name="other name"))
    assert renamed.cache_key == base.cache_key
    # An embedding width is the trainer's business: the transform code is the same.
    wider = feature_config.copy_as_new()
    wider.product_features[1].embedding_dim = 4
    assert _prepare(tmp_path / "c", tiny_data, wider).cache_key == base.cache_key
    bucketized = feature_config.copy_as_new()
    bucketized.product_features[2] = Feature(column="price", transform="bucketize", num_buckets=5)
    assert _prepare(tmp_path / "e", tiny_data, bucketized).cache_key != base.cache_key
    edited = tiny_data.copy()
    edited.loc[0, "price"] += 1
    assert _prepare(tmp_path / "d", edited, feature_config).cache_key != base.cache_key


def test_temporal_split_puts_the_latest_rows_in_eval(tmp_path, feature_config):
    n = 100
    df = pd.DataFrame(
        {
            "buyer_id": [f"b{i}" for i in range(n)],  # the buyer id encodes the time order
            "product_id": [f"p{i % 7}" for i in range(n)],
            "category": "c",
            "price": 1.0,
            "rating": 3.0,
            "timestamp": np.arange(n)[::-1] * 10,  # newest first in the file
        }
    )
    prepared = _prepare(tmp_path, df, feature_config, split="temporal")
    evaluation = pd.read_parquet(prepared.paths["eval"])
    assert prepared.split["kind"] == "temporal" and prepared.split["column"] == "timestamp"
    assert sorted(evaluation["buyer_id"]) == sorted(f"b{i}" for i in range(20))


def test_unseen_eval_buyers_give_a_warning(tmp_path, feature_config):
    rng = np.random.default_rng(0)
    df = pd.DataFrame(
        {
            "buyer_id": [f"b{i}" for i in range(200)],  # every buyer appears once
            "product_id": rng.choice(["p1", "p2", "p3"], 200),
            "category": "c",
            "price": rng.random(200),
            "rating": 3.0,
        }
    )
    prepared = _prepare(tmp_path, df, feature_config)
    assert prepared.vocabulary_stats["buyer_id"]["eval_oov_rate"] == 1.0
    assert any("never seen in training" in w for w in prepared.warnings)


def test_validation_rejects_text_rating_column(tiny_data, feature_config):
    df = tiny_data.assign(rating=tiny_data["rating"].map(lambda r: f"{r} stars"))
    with pytest.raises(QuickTestInputError, match="must be numeric"):
        validate_inputs(feature_config, model_config("ranking"), df, "rating")
    with pytest.raises(QuickTestInputError, match="needs a rating column"):
        validate_inputs(feature_config, model_config("ranking"), tiny_data, "")
    with pytest.raises(QuickTestInputError, match="not in the data"):
        validate_inputs(feature_config, model_config("multitask"), tiny_data, "stars")


def test_validation_warns_about_a_relu_output_layer(tiny_data, feature_config):
    mc = model_config()
    layers = [dict(layer.model_dump()) for layer in mc.buyer_tower_layers]
    layers[-1]["activation"] = "relu"
    mc.buyer_tower_layers = layers
    warnings = validate_inputs(feature_config, mc, tiny_data, "")
    assert any("ReLU" in w for w in warnings)


def test_housekeeping_prunes_runs_and_clears_the_cache(tmp_path):
    import os
    import time

    from towerwidgets.runner.housekeeping import clear_transform_cache, disk_usage, prune_runs

    for i in range(5):
        run = tmp_path / "runs" / f"quicktest-{i}"
        run.mkdir(parents=True)
        (run / "trainer_module.py").write_text("x" * 10)
        os.utime(run, (time.time() - 100 + i, time.time() - 100 + i))
    old = tmp_path / "cache" / "transform" / "old"
    new = tmp_path / "cache" / "transform" / "new"
    for entry, age in ((old, 40), (new, 0)):
        entry.mkdir(parents=True)
        (entry / "DONE.json").write_text("{}")
        stamp = time.time() - age * 86_400
        os.utime(entry / "DONE.json", (stamp, stamp))
    assert disk_usage(tmp_path)["runs"] == 50
    removed = prune_runs(keep_last=2, home=tmp_path)
    assert sorted(p.name for p in removed) == ["quicktest-0", "quicktest-1", "quicktest-2"]
    assert clear_transform_cache(older_than_days=30, home=tmp_path) == [old]
    assert new.is_dir() and clear_transform_cache(home=tmp_path) == [new]


def _fake_worker(tmp_path, script: str):
    from towerwidgets.runner.backends import LocalRun

    process = subprocess.Popen(
        [sys.executable, "-c", script],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        start_new_session=True,  # like a real worker: kill() stops its process group
    )
    events = []
    return LocalRun(process, events.append, tmp_path / "worker.log"), events


def test_a_finished_worker_ends_the_run_when_it_closes_its_event_stream(tmp_path):
    """The kernel does not wait while a finished worker frees its memory and exits."""
    import time

    done = encode_event({"kind": "stage", "stage": "done"}).strip()
    run, events = _fake_worker(
        tmp_path,
        f"import os, sys, time\nprint({done!r}, flush=True)\nos.close(1)\ntime.sleep(5)",
    )
    start = time.time()
    assert run.wait(15) == 0
    assert time.time() - start < 4
    assert events == [{"kind": "stage", "stage": "done"}]
    run.kill()


def test_a_worker_that_stops_without_done_reports_its_exit_code(tmp_path):
    error = encode_event({"kind": "error", "stage": "train", "message": "boom"}).strip()
    run, events = _fake_worker(
        tmp_path, f"import os, sys, time\nprint({error!r}, flush=True)\nos.close(1)\nsys.exit(3)"
    )
    assert run.wait(15) == 3
    assert events[0]["kind"] == "error"
    lingering, _ = _fake_worker(tmp_path, "import os, time\nos.close(1)\ntime.sleep(1.5)")
    assert lingering.wait(0.2) is None  # stream closed without "done": still running
    assert lingering.wait(15) == 0


def test_old_quick_test_call_forms_say_what_to_write_instead():
    from towerwidgets.runner import run_quick_test, start_quick_test

    with pytest.raises(TypeError, match=r"rating_column='rating', epochs=3"):
        run_quick_test("f", "m", "data.csv", "rating", 3)
    with pytest.raises(TypeError, match=r"start_quick_test\(\.\.\.\) returns a handle"):
        run_quick_test("f", "m", "data.csv", wait=False)
    with pytest.raises(TypeError, match="pass the rest by keyword"):
        start_quick_test("f", "m", "data.csv", None, 2)
    params = inspect.signature(run_quick_test).parameters
    assert [p.name for p in params.values() if p.kind is p.POSITIONAL_OR_KEYWORD] == [
        "feature_config",
        "model_config",
        "data",
    ]
