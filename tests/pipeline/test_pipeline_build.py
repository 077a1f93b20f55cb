"""Building a pipeline in the kernel (no TFX, no TensorFlow): sources, options, errors."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from tests.pipeline.conftest import minimal
from towerwidgets.codegen import generate_trainer_code
from towerwidgets.pipeline import (
    PipelineInputError,
    TFXEnvironmentError,
    build_pipeline,
    dataflow_args,
    default_image,
    tfx_python,
)
from towerwidgets.pipeline.sources import parse_source


def test_module_files_are_the_generated_code_byte_for_byte(
    pipeline_features, pipeline_data, tmp_path
):
    mc = minimal("ranking")
    stamp = "2026-12-01T12:00:00Z"
    definition = build_pipeline(
        pipeline_features,
        mc,
        pipeline_data,
        rating_column="rating",
        home=tmp_path,
        generated_at=stamp,
    )
    code = generate_trainer_code(pipeline_features, mc, rating_column="rating", generated_at=stamp)
    assert Path(definition.spec["transform_module"]).read_bytes() == code.transform_code.encode()
    assert Path(definition.spec["trainer_module"]).read_bytes() == code.trainer_code.encode()
    # each module alone in its folder: TFX packages the whole folder into the module's wheel
    assert Path(definition.spec["transform_module"]).parent.name == "transform"
    assert Path(definition.spec["trainer_module"]).parent.name == "trainer"


def test_a_dataframe_is_split_like_a_quick_test(pipeline_features, pipeline_data, tmp_path):
    import pandas as pd

    definition = build_pipeline(
        pipeline_features,
        minimal("retrieval"),
        pipeline_data,
        home=tmp_path,
        seed=7,
        epochs=3,
        batch_size=128,
        learning_rate=0.05,
    )
    gen = definition.spec["example_gen"]
    assert gen["kind"] == "csv" and gen["splits"] == {"train": "train/*", "eval": "eval/*"}
    train = pd.read_csv(Path(gen["input_base"]) / "train" / "data.csv")
    evaluation = pd.read_csv(Path(gen["input_base"]) / "eval" / "data.csv")
    assert len(train) + len(evaluation) == len(pipeline_data)
    assert definition.split["seed"] == 7 and definition.split["eval_rows"] == len(evaluation)
    assert definition.spec["custom_config"] == {
        "epochs": 3,
        "batch_size": 128,
        "learning_rate": 0.05,
        "seed": 7,
    }
    assert definition.spec["beam_pipeline_args"][0].startswith("--direct_running_mode")
    assert definition.spec["metadata_path"].endswith("metadata.sqlite")
    assert definition.spec["vertex_trainer"] is None


def test_a_csv_folder_is_hash_split_and_a_presplit_folder_keeps_its_splits(
    pipeline_features, pipeline_data, tmp_path
):
    folder = tmp_path / "csv"
    folder.mkdir()
    pipeline_data.to_csv(folder / "part-0.csv", index=False)
    definition = build_pipeline(
        pipeline_features,
        minimal("retrieval"),
        str(folder),
        home=tmp_path,
        split={"kind": "random", "eval_fraction": 0.25},
    )
    assert definition.spec["example_gen"] == {
        "kind": "csv",
        "input_base": str(folder),
        "pattern": "*",
        "hash_buckets": {"train": 75, "eval": 25},
    }
    presplit = tmp_path / "presplit"
    for part in ("train", "eval"):
        (presplit / part).mkdir(parents=True)
        pipeline_data.to_csv(presplit / part / "rows.csv", index=False)
    definition = build_pipeline(pipeline_features, minimal("retrieval"), presplit, home=tmp_path)
    assert definition.spec["example_gen"]["splits"] == {"train": "train/*", "eval": "eval/*"}


def test_cloud_sources_need_no_cloud_call(pipeline_features, tmp_path):
    mc = minimal("retrieval")
    gcs = build_pipeline(
        pipeline_features,
        mc,
        "gs://bucket/ratings/",
        home=tmp_path,
        pipeline_root="gs://bucket/root",
        image="img:1",
    )
    assert gcs.spec["example_gen"]["input_base"] == "gs://bucket/ratings"
    assert gcs.spec["metadata_path"] is None
    one_file = parse_source("gs://bucket/ratings/all.csv")
    assert (one_file.input_base, one_file.pattern) == ("gs://bucket/ratings", "all.csv")
    bq = build_pipeline(pipeline_features, mc, "bq://proj.shop.purchases", home=tmp_path)
    assert bq.spec["example_gen"]["query"] == "SELECT * FROM `proj.shop.purchases`"
    query = "SELECT * FROM shop.purchases WHERE day > '2024-01-01'"
    assert parse_source(query).query == query


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ("/no/such/folder", "does not exist"),
        ("bq://just-a-table", "bq://PROJECT.DATASET.TABLE"),
        ("gs://", "needs a bucket"),
        (42, "data must be a DataFrame"),
    ],
)
def test_bad_sources_say_what_to_do(pipeline_features, tmp_path, data, message):
    with pytest.raises(PipelineInputError, match=message.replace(".", r"\.")):
        build_pipeline(pipeline_features, minimal("retrieval"), data, home=tmp_path)


def test_an_empty_folder_and_missing_columns_are_refused(
    pipeline_features, pipeline_data, tmp_path
):
    (tmp_path / "empty").mkdir()
    with pytest.raises(PipelineInputError, match=r"no \.csv files"):
        build_pipeline(pipeline_features, minimal("retrieval"), tmp_path / "empty", home=tmp_path)
    folder = tmp_path / "partial"
    folder.mkdir()
    pipeline_data.drop(columns=["category"]).to_csv(folder / "a.csv", index=False)
    with pytest.raises(PipelineInputError, match="category"):
        build_pipeline(pipeline_features, minimal("retrieval"), folder, home=tmp_path)
    with pytest.raises(PipelineInputError, match="rating column"):
        build_pipeline(pipeline_features, minimal("ranking"), pipeline_data, home=tmp_path)


def test_a_temporal_split_of_a_folder_is_refused(pipeline_features, tmp_path):
    with pytest.raises(PipelineInputError, match="temporal split"):
        build_pipeline(
            pipeline_features,
            minimal("retrieval"),
            "gs://b/data",
            home=tmp_path,
            split="temporal",
        )


def test_vertex_options(pipeline_features, pipeline_data, tmp_path):
    with pytest.raises(PipelineInputError, match="needs project= and region="):
        build_pipeline(
            pipeline_features,
            minimal("retrieval"),
            pipeline_data,
            home=tmp_path,
            trainer_machine="n1-standard-8",
        )
    with pytest.raises(PipelineInputError, match="pipeline image"):
        default_image(None, None)
    assert default_image("p", "europe-west4").startswith("europe-west4-docker.pkg.dev/p/")
    args = dataflow_args(
        "p", "europe-west4", "gs://b/tmp", machine_type="n1-standard-4", max_workers=10
    )
    assert "--runner=DataflowRunner" in args and "--max_num_workers=10" in args
    with pytest.raises(PipelineInputError, match="gs://"):
        dataflow_args("p", "r", "/tmp/x")
    definition = build_pipeline(
        pipeline_features,
        minimal("retrieval"),
        pipeline_data,
        home=tmp_path,
        pipeline_root="gs://b/root",
        project="p",
        region="us-central1",
        trainer_machine="n1-standard-8",
        accelerator_type="NVIDIA_TESLA_T4",
        accelerator_count=1,
    )
    with pytest.raises(PipelineInputError, match="local pipeline_root"):
        definition.run_local()
    remotes = [remote for _, remote in definition.uploads]
    assert all(r.startswith("gs://b/root/data/") for r in remotes) and len(remotes) == 2


def test_names_are_sanitized_for_vertex(pipeline_features, pipeline_data, tmp_path):
    definition = build_pipeline(
        pipeline_features,
        minimal("retrieval"),
        pipeline_data,
        home=tmp_path,
        pipeline_name="My Model; rm -rf / ÄÖ",
    )
    assert definition.name == "my-model-rm-rf"


def test_a_missing_tfx_environment_is_a_clear_error(monkeypatch, tmp_path):
    monkeypatch.setenv("TOWERWIDGETS_TFX_PYTHON", str(tmp_path / "nope" / "python"))
    with pytest.raises(TFXEnvironmentError, match="make tfx-env"):
        tfx_python()


def test_the_cli_reports_a_missing_environment_without_a_traceback(monkeypatch, tmp_path, capsys):
    from towerwidgets.cli import main

    monkeypatch.setenv("TOWERWIDGETS_TFX_PYTHON", str(tmp_path / "nope" / "python"))
    code = main(["pipeline", "run-local", "--sample", "--home", str(tmp_path)])
    err = capsys.readouterr().err
    assert code == 1
    assert "The TFX environment is missing" in err and "Traceback" not in err
    code = main(
        [
            "pipeline",
            "compile",
            "--data",
            str(tmp_path / "missing.csv"),
            "--buyer-columns",
            "u",
            "--product-columns",
            "p",
            "-o",
            str(tmp_path / "p.json"),
            "--pipeline-root",
            "gs://b/r",
            "--image",
            "i",
        ]
    )
    err = capsys.readouterr().err
    assert code == 1 and "does not exist" in err and "Traceback" not in err


def test_the_tfx_side_imports_nothing_of_towerwidgets():
    """tfx_pipeline.py runs from its path alone in the TFX environment."""
    source = Path(sys.modules["towerwidgets.pipeline"].__file__).with_name("tfx_pipeline.py")
    text = source.read_text()
    assert "import towerwidgets" not in text and "from towerwidgets" not in text


def test_the_image_and_the_tfx_environment_share_one_pinned_file():
    folder = Path(sys.modules["towerwidgets.pipeline"].__file__).parent / "image"
    pins = [
        line
        for line in (folder / "requirements.txt").read_text().splitlines()
        if line and not line.startswith("#")
    ]
    assert all("==" in line for line in pins)
    names = {line.split("==")[0].lower() for line in pins}
    assert {"tfx", "tensorflow-recommenders", "tf-keras", "dill", "kfp"} <= names
    dockerfile = (folder / "Dockerfile").read_text()
    assert "FROM gcr.io/tfx-oss-public/tfx:${TFX_VERSION}" in dockerfile
    assert (
        "ARG TFX_VERSION=" + next(p.split("==")[1] for p in pins if p.startswith("tfx=="))
        in dockerfile
    )
    assert "requirements.txt" in dockerfile
    makefile = (Path(__file__).parents[2] / "Makefile").read_text()
    assert "towerwidgets/pipeline/image/requirements.txt" in makefile


def test_line_breaks_are_refused_in_names_and_replaced_in_values(
    pipeline_features, pipeline_data, tmp_path
):
    """CsvExampleGen reads CSV line by line: a line break would split a record."""
    import pandas as pd

    data = pipeline_data.copy()
    data.loc[data.index[:5], "category"] = "home\ngarden"
    definition = build_pipeline(pipeline_features, minimal("retrieval"), data, home=tmp_path)
    folder = Path(definition.spec["example_gen"]["input_base"])
    written = pd.concat(pd.read_csv(folder / part / "data.csv") for part in ("train", "eval"))
    assert len(written) == len(data) and (written["category"] == "home garden").sum() == 5
    assert any("5 values of 'category' held line breaks" in w for w in definition.warnings)

    for name in ("cat\negory", 'cat "egory"', "cat,egory"):
        fc = pipeline_features.model_copy(deep=True)
        fc.product_features[1].column = name
        with pytest.raises(PipelineInputError, match="comma, a double quote or a line break"):
            build_pipeline(
                fc,
                minimal("retrieval"),
                data.rename(columns={"category": name}),
                home=tmp_path,
            )
