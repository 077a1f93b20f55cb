"""The generated modules in real TFX (tfx 1.16 in the TFX environment): a local run of
each model type with LocalDagRunner, its metrics beside a quick test's on the same split,
the pushed model answering raw-feature queries, and the Vertex AI compilation.

One pipeline name and root for all model types, with TFX's caching on: ExampleGen,
StatisticsGen and SchemaGen run once (about a minute per model type on two cores).
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest

from tests.pipeline.conftest import minimal
from towerwidgets.pipeline import build_pipeline, dataflow_args

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("tfx")]

EPOCHS, BATCH = 2, 256


@pytest.fixture(scope="module")
def tfx_home(tmp_path_factory):
    return tmp_path_factory.mktemp("tfx-home")


def _local_run(features, data, model_type, home, rating=None):
    definition = build_pipeline(
        features,
        minimal(model_type),
        data,
        rating_column=rating,
        epochs=EPOCHS,
        batch_size=BATCH,
        seed=42,
        home=home,
        pipeline_name="tfx-test",
    )
    events = []
    run = definition.run_local(on_event=events.append)
    done = [e["name"] for e in events if e.get("event") == "component" and e["state"] == "done"]
    return definition, run, done


def _quick_test(features, data, model_type, store, home, rating=None):
    from towerwidgets.runner import run_quick_test

    record = run_quick_test(
        features,
        minimal(model_type),
        data,
        rating_column=rating,
        epochs=EPOCHS,
        batch_size=BATCH,
        store=store,
        seed=42,
        home=home,
    )
    assert record.status == "completed", record.error_message
    return record.metrics.iloc[-1]


def _report(record_property, model_type, quick, tfx, keys):
    text = f"{model_type}: " + " · ".join(
        f"{k} quick test {float(quick[k]):.4f} / TFX {float(tfx[k]):.4f}" for k in keys
    )
    print(text)
    record_property("tfx_vs_quicktest", text)


def test_retrieval_runs_in_tfx_like_the_quick_test(
    pipeline_features, pipeline_data, tfx_home, store, tmp_path, record_property
):
    _, run, done = _local_run(pipeline_features, pipeline_data, "retrieval", tfx_home)
    assert done[:1] == ["CsvExampleGen"] and done[-3:] == ["Transform", "Trainer", "Pusher"]
    metrics = run.metrics
    assert list(metrics.index) == [1, 2]  # metrics.jsonl: one line per epoch
    assert {"loss", "val_loss", "recall_at_10", "recall_at_50", "recall_at_100"} <= set(
        metrics.columns
    )
    quick = _quick_test(pipeline_features, pipeline_data, "retrieval", store, tmp_path)
    tfx = run.final_metrics()
    _report(record_property, "retrieval", quick, tfx, ("loss", "recall_at_10", "recall_at_100"))
    assert abs(float(quick["recall_at_100"]) - tfx["recall_at_100"]) <= 0.01
    assert 0 < tfx["recall_at_100"] <= 1

    answer = run.query({"buyer_id": ["B00001", "B00002"], "buyer_region": ["north", "south"]})
    ids = answer["product_ids"]
    assert len(ids) == 2 and len(ids[0]) == 100  # top-K of 150 candidates, K = 100
    assert all(isinstance(p, str) and p for p in ids[0])
    assert answer["scores"][0] == sorted(answer["scores"][0], reverse=True)
    assert set(ids[0]) <= set(pipeline_data["product_id"].astype(str))


def test_ranking_runs_in_tfx_like_the_quick_test(
    pipeline_features, pipeline_data, tfx_home, store, tmp_path, record_property
):
    _, run, done = _local_run(pipeline_features, pipeline_data, "ranking", tfx_home, "rating")
    # ExampleGen, StatisticsGen and SchemaGen come from TFX's cache after the first model
    assert done[-3:] == ["Transform", "Trainer", "Pusher"]
    quick = _quick_test(pipeline_features, pipeline_data, "ranking", store, tmp_path, "rating")
    tfx = run.final_metrics()
    _report(record_property, "ranking", quick, tfx, ("loss", "rmse", "mae"))
    assert abs(float(quick["rmse"]) - tfx["rmse"]) <= 0.02
    row = pipeline_data.iloc[0]
    answer = run.query(
        {
            "buyer_id": [str(row.buyer_id)],
            "buyer_region": [str(row.buyer_region)],
            "product_id": [str(row.product_id)],
            "category": [str(row.category)],
            "price": [float(row.price)],
        }
    )
    assert len(answer["rating"]) == 1 and 0 < answer["rating"][0] < 10


def test_multitask_runs_in_tfx(pipeline_features, pipeline_data, tfx_home):
    _, run, _ = _local_run(pipeline_features, pipeline_data, "multitask", tfx_home, "rating")
    final = run.final_metrics()
    assert {"recall_at_100", "rmse", "mae", "val_loss"} <= set(final)
    buyer = {"buyer_id": ["B00001"], "buyer_region": ["north"]}
    assert len(run.query(buyer)["product_ids"][0]) == 100
    rating = run.query(
        {**buyer, "product_id": ["P00001"], "category": ["audio"], "price": [10.0]},
        signature="rating",
    )
    assert len(rating["rating"]) == 1


def test_compiled_for_vertex_with_dataflow_and_a_vertex_trainer(
    pipeline_features, pipeline_data, tmp_path
):
    image = "europe-west4-docker.pkg.dev/proj/towerwidgets/tfx-tfrs:1.16.0"
    definition = build_pipeline(
        pipeline_features,
        minimal("retrieval"),
        pipeline_data,
        home=tmp_path,
        pipeline_name="compiled",
        pipeline_root="gs://bucket/pipelines/compiled",
        project="proj",
        region="europe-west4",
        image=image,
        trainer_machine="n1-standard-8",
        accelerator_type="NVIDIA_TESLA_T4",
        accelerator_count=1,
        beam_pipeline_args=dataflow_args("proj", "europe-west4", "gs://bucket/tmp"),
        epochs=3,
    )
    output = definition.compile(tmp_path / "out" / "pipeline.json")
    document = json.loads(output.read_text())
    spec = document["pipelineSpec"]
    assert document["runtimeConfig"]["gcsOutputDirectory"] == "gs://bucket/pipelines/compiled"
    assert spec["pipelineInfo"]["name"] == "compiled"
    executors = spec["deploymentSpec"]["executors"]
    names = ("CsvExampleGen", "StatisticsGen", "SchemaGen", "Transform", "Trainer", "Pusher")
    assert sorted(executors) == sorted(f"{n}_executor" for n in names)
    for executor in executors.values():  # every component runs in the pinned image
        assert executor["container"]["image"] == image
    for beam_component in ("StatisticsGen", "Transform"):
        args = executors[f"{beam_component}_executor"]["container"]["args"]
        assert "--runner=DataflowRunner" in args and "--temp_location=gs://bucket/tmp" in args
    trainer_args = executors["Trainer_executor"]["container"]["args"]
    assert any("google_cloud_ai_platform.trainer.executor" in a for a in trainer_args)

    tasks = spec["root"]["dag"]["tasks"]
    params = {
        name: {
            key: next(iter(value["runtimeValue"]["constantValue"].values()))
            for key, value in tasks[name]["inputs"]["parameters"].items()
        }
        for name in ("Transform", "Trainer")
    }
    uploads = json.loads(Path(f"{output}.uploads.json").read_text())
    remote = {u["remote"]: Path(u["local"]) for u in uploads}
    for name, module in (("Transform", "transform_module"), ("Trainer", "trainer_module")):
        module_name, wheel = params[name]["module_path"].split("@")
        assert module_name == module
        assert wheel.startswith("gs://bucket/pipelines/compiled/_wheels/") and wheel in remote
        with zipfile.ZipFile(remote[wheel]) as packaged:  # the generated code, byte for byte
            code = definition.trainer_code if name == "Trainer" else definition.transform_code
            assert packaged.read(f"{module}.py") == code.encode()
    custom = json.loads(params["Trainer"]["custom_config"])
    assert custom["epochs"] == 3 and custom["seed"] == 42
    assert custom["ai_platform_enable_vertex"] is True
    assert custom["ai_platform_vertex_region"] == "europe-west4"
    pool = custom["ai_platform_training_args"]["worker_pool_specs"][0]
    assert pool["machine_spec"] == {
        "machine_type": "n1-standard-8",
        "accelerator_type": "NVIDIA_TESLA_T4",
        "accelerator_count": 1,
    }
    assert pool["container_spec"]["image_uri"] == image
    data_uploads = [r for r in remote if "/data/" in r]
    assert sorted(Path(r).parent.name for r in data_uploads) == ["eval", "train"]


def test_the_cli_compiles_the_sample(tmp_path, capsys):
    from towerwidgets.cli import main

    output = tmp_path / "pipeline.json"
    code = main(
        [
            "pipeline",
            "compile",
            "--sample",
            "--preset",
            "minimal",
            "--epochs",
            "1",
            "--pipeline-root",
            "gs://bucket/cli",
            "--image",
            "registry/tfx-tfrs:1",
            "--home",
            str(tmp_path),
            "-o",
            str(output),
        ]
    )
    out = capsys.readouterr().out
    assert code == 0, out
    assert f"Pipeline JSON: {output}" in out
    spec = json.loads(output.read_text())["pipelineSpec"]
    assert {e["container"]["image"] for e in spec["deploymentSpec"]["executors"].values()} == {
        "registry/tfx-tfrs:1"
    }
    uploads = json.loads(Path(f"{output}.uploads.json").read_text())
    assert sum(u["remote"].endswith(".whl") for u in uploads) == 2


def test_hostile_column_names_run_through_tfx(pipeline_data, tmp_path):
    """Quotes, code-looking text, spaces and non-ASCII in column names: the modules take
    them only as literals or sanitized names, in TFX as in a quick test."""
    from towerwidgets.config import Feature, FeatureConfig

    names = {
        "buyer_id": "user id 'quoted'",
        "product_id": "item 'id' #2",
        "category": "__import__('os').system('exit 3')",
        "price": "prix (€)",
    }
    data = pipeline_data.rename(columns=names)
    fc = FeatureConfig(
        name="hostile\n'''\"\"\"",
        buyer_id_column=names["buyer_id"],
        product_id_column=names["product_id"],
        buyer_features=[Feature(column=names["buyer_id"], embedding_dim=8)],
        product_features=[
            Feature(column=names["product_id"], embedding_dim=8),
            Feature(column=names["category"], embedding_dim=4),
            Feature(column=names["price"], transform="normalize"),
        ],
    )
    definition = build_pipeline(
        fc,
        minimal("retrieval"),
        data,
        epochs=1,
        batch_size=BATCH,
        home=tmp_path,
        pipeline_name="hostile",
    )
    run = definition.run_local()
    assert 0 <= run.final_metrics()["recall_at_100"] <= 1
    answer = run.query({names["buyer_id"]: ["B00001"]})
    assert len(answer["product_ids"][0]) == 100
