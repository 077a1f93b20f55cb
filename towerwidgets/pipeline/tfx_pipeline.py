"""The TFX side of the pipeline stage: build a real ``tfx.dsl.Pipeline``, run or compile it.

This file runs where ``tfx`` imports: the TFX environment (``.venv-tfx``, tfx 1.16 on
Python 3.10), reached from the kernel through a subprocess, or in-process where the
kernel's own environment has tfx. It imports only tfx and the standard library, never the
rest of towerwidgets, so it runs from its file path alone:

    python tfx_pipeline.py run-local SPEC.json
    python tfx_pipeline.py compile SPEC.json
    python tfx_pipeline.py query MODEL_DIR FEATURES.json

``SPEC.json`` is written by ``towerwidgets.pipeline.definition`` (the ``spec`` of a
``PipelineDefinition``). Progress goes to stdout as JSON lines (``{"event": ...}``); the
libraries' own logging goes to stderr.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import time
from typing import Any

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")  # TFRS needs Keras 2, also on TF 2.16
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

COMPONENTS = ("CsvExampleGen", "BigQueryExampleGen", "StatisticsGen", "SchemaGen")
COMPONENTS += ("Transform", "Trainer", "Pusher")
_EVENTS = sys.stdout


def emit(event: str, **payload: Any) -> None:
    _EVENTS.write(json.dumps({"event": event, "time": time.time(), **payload}) + "\n")
    _EVENTS.flush()


def _report_components() -> None:
    """Component events around each launch of the local orchestrator (its log lines are
    not reliable: Beam reconfigures logging during Transform)."""
    from tfx.orchestration.portable import launcher

    launch = launcher.Launcher.launch

    def reporting_launch(self: Any) -> Any:
        name = self._pipeline_node.node_info.id
        emit("component", name=name, state="running")
        result = launch(self)
        emit("component", name=name, state="done")
        return result

    launcher.Launcher.launch = reporting_launch


def build(spec: dict[str, Any]) -> Any:
    """The pipeline: ExampleGen → StatisticsGen → SchemaGen → Transform → Trainer → Pusher."""
    from tfx import v1 as tfx

    example_gen = _example_gen(tfx, spec["example_gen"])
    statistics_gen = tfx.components.StatisticsGen(examples=example_gen.outputs["examples"])
    schema_gen = tfx.components.SchemaGen(
        statistics=statistics_gen.outputs["statistics"], infer_feature_shape=True
    )
    transform = tfx.components.Transform(
        examples=example_gen.outputs["examples"],
        schema=schema_gen.outputs["schema"],
        module_file=spec["transform_module"],
    )
    custom_config = dict(spec.get("custom_config") or {})
    vertex = spec.get("vertex_trainer")
    trainer_args = {
        "module_file": spec["trainer_module"],
        "examples": transform.outputs["transformed_examples"],
        "transform_graph": transform.outputs["transform_graph"],
        "schema": schema_gen.outputs["schema"],
        "train_args": tfx.proto.TrainArgs(splits=["train"]),
        "eval_args": tfx.proto.EvalArgs(splits=["eval"]),
    }
    if vertex:
        ai_platform = tfx.extensions.google_cloud_ai_platform
        custom_config.update(
            {
                ai_platform.ENABLE_VERTEX_KEY: True,
                ai_platform.VERTEX_REGION_KEY: vertex["region"],
                ai_platform.TRAINING_ARGS_KEY: _training_args(vertex),
            }
        )
        trainer = ai_platform.Trainer(custom_config=custom_config, **trainer_args)
    else:
        trainer = tfx.components.Trainer(custom_config=custom_config, **trainer_args)
    pusher = tfx.components.Pusher(
        model=trainer.outputs["model"],
        push_destination=tfx.proto.PushDestination(
            filesystem=tfx.proto.PushDestination.Filesystem(
                base_directory=spec["serving_model_dir"]
            )
        ),
    )
    metadata = None
    if spec.get("metadata_path"):
        metadata = tfx.orchestration.metadata.sqlite_metadata_connection_config(
            spec["metadata_path"]
        )
    return tfx.dsl.Pipeline(
        pipeline_name=spec["pipeline_name"],
        pipeline_root=spec["pipeline_root"],
        components=[example_gen, statistics_gen, schema_gen, transform, trainer, pusher],
        enable_cache=bool(spec.get("enable_cache", True)),
        metadata_connection_config=metadata,
        beam_pipeline_args=list(spec.get("beam_pipeline_args") or []),
    )


def _training_args(vertex: dict[str, Any]) -> dict[str, Any]:
    """Vertex AI Training's CustomJob worker pool: one machine, optional accelerators."""
    machine_spec: dict[str, Any] = {"machine_type": vertex["machine_type"]}
    if vertex.get("accelerator_type") and int(vertex.get("accelerator_count") or 0) > 0:
        machine_spec["accelerator_type"] = vertex["accelerator_type"]
        machine_spec["accelerator_count"] = int(vertex["accelerator_count"])
    return {
        "project": vertex["project"],
        "worker_pool_specs": [
            {
                "machine_spec": machine_spec,
                "replica_count": 1,
                "container_spec": {"image_uri": vertex["image"]},
            }
        ],
    }


def _example_gen(tfx: Any, source: dict[str, Any]) -> Any:
    """CsvExampleGen over a folder (or BigQueryExampleGen over a query), with either the
    given train/eval file patterns or a hash split by the given bucket counts."""
    if "splits" in source:
        input_config = tfx.proto.Input(
            splits=[
                tfx.proto.Input.Split(name=name, pattern=pattern)
                for name, pattern in source["splits"].items()
            ]
        )
        output_config = None
    else:
        input_config = tfx.proto.Input(
            splits=[tfx.proto.Input.Split(name="single_split", pattern=source.get("pattern", "*"))]
        )
        output_config = tfx.proto.Output(
            split_config=tfx.proto.SplitConfig(
                splits=[
                    tfx.proto.SplitConfig.Split(name=name, hash_buckets=int(buckets))
                    for name, buckets in source["hash_buckets"].items()
                ]
            )
        )
    if source["kind"] == "bigquery":
        big_query = tfx.extensions.google_cloud_big_query
        if "splits" in source:  # one query per split
            input_config = tfx.proto.Input(
                splits=[
                    tfx.proto.Input.Split(name=name, pattern=query)
                    for name, query in source["splits"].items()
                ]
            )
            return big_query.BigQueryExampleGen(input_config=input_config)
        return big_query.BigQueryExampleGen(query=source["query"], output_config=output_config)
    if output_config is None:
        return tfx.components.CsvExampleGen(
            input_base=source["input_base"], input_config=input_config
        )
    return tfx.components.CsvExampleGen(
        input_base=source["input_base"], input_config=input_config, output_config=output_config
    )


def package_modules(pipeline: Any, pipeline_root: str, staging_dir: str) -> list[str]:
    """Package each module file as TFX does (a wheel under ``{pipeline_root}/_wheels``), but
    build the wheels into a local staging folder: the kernel uploads them to the (remote)
    pipeline root with its own storage client, so compiling needs no cloud credentials."""
    from tfx.components.util import udf_utils

    wheels = []
    for component in pipeline.components:
        properties = component.exec_properties
        module_file = properties.get("module_file")
        if not module_file:
            continue
        local_wheel, module_path = udf_utils.package_user_module_file(
            component.id, module_file, staging_dir
        )
        name, _ = module_path.split("@", 1)
        remote_wheel = f"{pipeline_root.rstrip('/')}/_wheels/{os.path.basename(local_wheel)}"
        properties["module_path"] = f"{name}@{remote_wheel}"
        properties["module_file"] = None
        wheels.append(local_wheel)
    return wheels


def run_local(spec: dict[str, Any]) -> None:
    from tfx import v1 as tfx

    pipeline = build(spec)
    emit("built", components=[c.id for c in pipeline.components])
    _report_components()
    tfx.orchestration.LocalDagRunner().run(pipeline)
    emit("done")


def compile_for_vertex(spec: dict[str, Any]) -> None:
    from tfx import v1 as tfx

    pipeline = build(spec)
    wheels = []
    if spec.get("wheel_staging_dir"):
        wheels = package_modules(pipeline, spec["pipeline_root"], spec["wheel_staging_dir"])
    output = spec["output"]
    runner = tfx.orchestration.experimental.KubeflowV2DagRunner(
        config=tfx.orchestration.experimental.KubeflowV2DagRunnerConfig(
            default_image=spec["image"]
        ),
        output_dir=os.path.dirname(os.path.abspath(output)),
        output_filename=os.path.basename(output),
    )
    runner.run(pipeline)
    emit("compiled", output=output, wheels=wheels, components=[c.id for c in pipeline.components])


def query(model_dir: str, features_path: str) -> None:
    """Call the pushed model's serving signature on raw features (a JSON object of
    column → list of values) and print its outputs: proof that it serves on this stack."""
    import tensorflow as tf

    with open(features_path, encoding="utf-8") as file:
        request = json.load(file)
    model = tf.saved_model.load(model_dir)
    signature = model.signatures[request.get("signature", "serving_default")]
    inputs = signature.structured_input_signature[1]
    tensors = {
        name: tf.constant(request["features"][name], dtype=spec.dtype)
        for name, spec in inputs.items()
    }
    outputs = signature(**tensors)
    result = {}
    for key, value in outputs.items():
        array = value.numpy()
        if array.dtype.kind in "OSU":
            array = [[v.decode() for v in row] for row in array.tolist()]
        else:
            array = array.tolist()
        result[key] = array
    emit("answer", outputs=result)


def main(argv: list[str]) -> int:
    global _EVENTS
    # Events on the real stdout; anything the libraries print goes to stderr.
    _EVENTS = os.fdopen(os.dup(1), "w", buffering=1, encoding="utf-8")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    logging.basicConfig(level=logging.INFO, stream=sys.stderr)
    command, *args = argv
    try:
        if command == "query":
            query(*args)
            return 0
        with open(args[0], encoding="utf-8") as file:
            spec = json.load(file)
        if command == "run-local":
            run_local(spec)
        elif command == "compile":
            compile_for_vertex(spec)
        else:
            raise SystemExit(f"unknown command {command!r}")
    except Exception as error:  # reported to the kernel, which says what to do
        import traceback

        emit("error", message=f"{type(error).__name__}: {error}", traceback=traceback.format_exc())
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
