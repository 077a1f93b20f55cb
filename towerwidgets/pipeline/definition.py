"""``build_pipeline``: a FeatureConfig, a ModelConfig and a data source → a TFX pipeline.

The kernel side of the pipeline stage (light: no TensorFlow, no tfx). It generates the two
modules with ``generate_trainer_code`` (written byte for byte as module files), prepares
the data when it is local (the quick test's own split, so both runs train and evaluate on
the same rows), and writes the JSON spec that ``tfx_pipeline.py`` turns into a real
``tfx.dsl.Pipeline`` in the TFX environment:

    CsvExampleGen | BigQueryExampleGen → StatisticsGen → SchemaGen → Transform → Trainer → Pusher
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from towerwidgets.pipeline.environment import PipelineError, run_tfx
from towerwidgets.pipeline.sources import (
    DataSource,
    PipelineInputError,
    hash_buckets,
    parse_source,
)

__all__ = [
    "DEFAULT_IMAGE",
    "PipelineDefinition",
    "build_pipeline",
    "compile_pipeline",
    "dataflow_args",
    "default_image",
]

DEFAULT_SEED = 42
EVAL_FRACTION = 0.2
TFX_VERSION = "1.16.0"
# The pipeline image (image/Dockerfile): the TFX image of the pinned version plus
# tensorflow-recommenders. Push it to your project's Artifact Registry (README).
DEFAULT_IMAGE = "{region}-docker.pkg.dev/{project}/towerwidgets/tfx-tfrs:" + TFX_VERSION
LOCAL_BEAM_ARGS = ("--direct_running_mode=in_memory", "--direct_num_workers=1")


def default_image(project: str | None, region: str | None) -> str:
    """The pipeline image's name in a project's Artifact Registry."""
    if not project:
        raise PipelineInputError(
            "Compiling for Vertex AI needs the pipeline image: pass image= (--image), or "
            "project= (--project) to use " + DEFAULT_IMAGE
        )
    return DEFAULT_IMAGE.format(project=project, region=region or "us-central1")


def dataflow_args(
    project: str,
    region: str,
    temp_location: str,
    *,
    machine_type: str | None = None,
    max_workers: int | None = None,
    service_account: str | None = None,
) -> list[str]:
    """``beam_pipeline_args`` that run StatisticsGen and Transform on Dataflow (data that
    outgrows one machine) instead of Beam's DirectRunner."""
    if not temp_location.startswith("gs://"):
        raise PipelineInputError("Dataflow's temp_location must be a gs:// path")
    args = [
        "--runner=DataflowRunner",
        f"--project={project}",
        f"--region={region}",
        f"--temp_location={temp_location}",
    ]
    if machine_type:
        args.append(f"--machine_type={machine_type}")
    if max_workers:
        args.append(f"--max_num_workers={int(max_workers)}")
    if service_account:
        args.append(f"--service_account_email={service_account}")
    return args


def _slug(text: str) -> str:
    """A pipeline name Vertex AI accepts: lowercase letters, digits and dashes."""
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return (slug or "towerwidgets")[:100].rstrip("-")


@dataclass
class PipelineDefinition:
    """A built pipeline: its spec (what the TFX side builds), module files and data.

    ``run_local()`` runs it with TFX's LocalDagRunner; ``compile(output)`` writes the
    Vertex AI pipeline JSON; ``to_tfx()`` returns the ``tfx.dsl.Pipeline`` itself where
    tfx imports in this Python.
    """

    spec: dict[str, Any]
    workdir: Path
    transform_code: str
    trainer_code: str
    split: dict[str, Any] = field(default_factory=dict)
    uploads: list[tuple[str, str]] = field(default_factory=list)  # (local, remote)
    warnings: list[str] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.spec["pipeline_name"]

    @property
    def pipeline_root(self) -> str:
        return self.spec["pipeline_root"]

    def to_tfx(self) -> Any:
        """The real ``tfx.dsl.Pipeline`` (imports tfx, so only in an environment that has it;
        the kernel normally goes through ``run_local`` / ``compile``, which do not)."""
        import importlib.util

        script = Path(__file__).with_name("tfx_pipeline.py")
        spec = importlib.util.spec_from_file_location("towerwidgets_tfx_pipeline", script)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module.build(self.spec)

    def write_spec(self, spec: dict[str, Any] | None = None, name: str = "spec.json") -> Path:
        path = self.workdir / name
        path.write_text(json.dumps(spec or self.spec, indent=2, sort_keys=True))
        return path

    def run_local(
        self,
        *,
        on_event: Callable[[dict[str, Any]], None] | None = None,
        timeout: float | None = None,
    ) -> Any:
        """Run the whole pipeline here with TFX's LocalDagRunner (in the TFX environment);
        returns a ``towerwidgets.pipeline.results.PipelineRun``."""
        from towerwidgets.pipeline.results import PipelineRun

        if self.pipeline_root.startswith("gs://"):
            raise PipelineInputError(
                "A local run needs a local pipeline_root (this one is on Cloud Storage); "
                "compile it for Vertex AI instead"
            )
        if self.spec.get("vertex_trainer"):
            raise PipelineInputError(
                "This pipeline trains on Vertex AI Training (trainer_machine=...): it cannot run "
                "locally; build it without trainer_machine to run it here"
            )
        started = time.time()
        log_path = self.workdir / f"tfx-run-{int(started)}.log"
        events = run_tfx(
            "run-local",
            str(self.write_spec()),
            log_path=log_path,
            on_event=on_event,
            timeout=timeout,
        )
        return PipelineRun.from_local(self, events, log_path, time.time() - started)

    def compile(
        self,
        output: str | Path,
        *,
        on_event: Callable[[dict[str, Any]], None] | None = None,
    ) -> Path:
        """Compile for Vertex AI Pipelines with KubeflowV2DagRunner; returns the JSON path.

        Module files are packaged the TFX way, as wheels under ``{pipeline_root}/_wheels``;
        for a ``gs://`` root they are built locally first. Everything that must be copied
        to Cloud Storage before submitting (those wheels, and the data split when it was
        local) is listed in ``<output>.uploads.json`` as ``{"local": ..., "remote": ...}``.
        """
        output = Path(output).resolve()
        output.parent.mkdir(parents=True, exist_ok=True)
        if not self.spec.get("image"):
            raise PipelineInputError("Compiling needs the pipeline image: pass image=")
        remote = self.pipeline_root.startswith("gs://")
        spec = dict(self.spec, output=str(output))
        staging = self.workdir / "staging"
        if remote:
            spec["wheel_staging_dir"] = str(staging)
        events = run_tfx(
            "compile",
            str(self.write_spec(spec, "compile-spec.json")),
            log_path=self.workdir / "tfx-compile.log",
            on_event=on_event,
        )
        done = [e for e in events if e.get("event") == "compiled"]
        if not output.is_file() or not done:
            raise PipelineError("The compiler wrote no pipeline JSON", self.workdir)
        uploads = list(self.uploads)
        root = self.pipeline_root.rstrip("/")
        for wheel in done[-1].get("wheels", []):
            uploads.append((wheel, f"{root}/_wheels/{Path(wheel).name}"))
        manifest = output.with_name(output.name + ".uploads.json")
        manifest.write_text(
            json.dumps([{"local": local, "remote": rem} for local, rem in uploads], indent=2)
        )
        return output


def check_csv_column_names(columns: list[Any]) -> None:
    """TFX's CsvExampleGen splits the header line at every comma and reads records line by
    line: a column name with a comma, a double quote or a line break cannot pass."""
    broken = [str(c) for c in columns if any(ch in str(c) for ch in ',"\n\r')]
    if broken:
        raise PipelineInputError(
            "TFX's CsvExampleGen cannot read a column name holding a comma, a double quote or "
            f"a line break: rename {', '.join(map(repr, broken))} in the data and the "
            "FeatureConfig (quick tests accept such names; the pipeline's CSV does not)"
        )


def _frame_split(
    source: DataSource,
    feature_config: Any,
    model_config: Any,
    code: Any,
    rating_column: str | None,
    workdir: Path,
    seed: int,
    split: str | dict[str, Any],
) -> tuple[Path, dict[str, Any], list[str]]:
    """Validate a DataFrame and split it exactly as a quick test does; write CSV folders."""
    import pandas as pd

    from towerwidgets.runner.prepare import (
        QuickTestInputError,
        module_constants,
        prepare_data,
        validate_inputs,
    )

    try:
        warnings = validate_inputs(feature_config, model_config, source.frame, rating_column or "")
        prepared = prepare_data(
            source.frame,
            feature_config,
            code.transform_code,
            workdir / "prepared",
            seed=seed,
            split=split,
        )
    except QuickTestInputError as error:
        raise PipelineInputError(str(error)) from error
    columns = list(module_constants(code.transform_code)["RAW_COLUMN_TYPES"])
    check_csv_column_names(columns)
    data_dir = workdir / "data" / prepared.fingerprint[:16]
    notes: dict[str, int] = {}  # column -> values whose line breaks became spaces
    for name in ("train", "eval"):
        frame = pd.read_parquet(prepared.paths[name], columns=columns)
        for column in frame.columns:
            if frame[column].dtype.kind not in "OSU" and str(frame[column].dtype) != "str":
                continue
            text = frame[column].astype(str)
            breaks = text.str.contains(r"[\r\n]", regex=True)
            if breaks.any():  # line breaks would split a CSV record in two
                frame[column] = text.str.replace(r"\r\n|\r|\n", " ", regex=True)
                notes[column] = notes.get(column, 0) + int(breaks.sum())
        (data_dir / name).mkdir(parents=True, exist_ok=True)
        frame.to_csv(data_dir / name / "data.csv", index=False)
    for column, count in notes.items():
        warnings.append(
            f"{count} values of {column!r} held line breaks; the pipeline's CSV has spaces "
            "there (CsvExampleGen reads line by line)"
        )
    return data_dir, prepared.split, warnings + prepared.warnings


def build_pipeline(
    feature_config: Any,
    model_config: Any,
    data: Any,
    *,
    rating_column: str | None = None,
    pipeline_name: str | None = None,
    pipeline_root: str | Path | None = None,
    serving_model_dir: str | None = None,
    epochs: int | None = None,
    batch_size: int | None = None,
    learning_rate: float | None = None,
    seed: int = DEFAULT_SEED,
    split: str | dict[str, Any] = "random",
    beam_pipeline_args: list[str] | None = None,
    enable_cache: bool = True,
    image: str | None = None,
    project: str | None = None,
    region: str | None = None,
    trainer_machine: str | None = None,
    accelerator_type: str | None = None,
    accelerator_count: int = 0,
    home: str | Path | None = None,
    generated_at: Any = None,
) -> PipelineDefinition:
    """Build the TFX pipeline of these configs over ``data``.

    ``data``: a DataFrame or CSV/Parquet file (validated, then split here like a quick test:
    ``split="random"`` seeded 80/20 or ``"temporal"``, or ``{"kind": ..., "eval_fraction":
    ..., "column": ...}``), a folder of CSV files (local or ``gs://``; with ``train/`` and
    ``eval/`` subfolders they are the splits, else ExampleGen hash-splits by
    ``eval_fraction``), or BigQuery (``bq://project.dataset.table`` or a ``SELECT``).
    ``epochs``/``batch_size``/``learning_rate`` override the ModelConfig's values.
    ``beam_pipeline_args`` default to DirectRunner here (see ``dataflow_args``).
    ``trainer_machine`` (with ``project``, ``region`` and optional accelerator) trains on
    Vertex AI Training; ``image`` is the pipeline image (default: ``default_image``).
    ``generated_at`` fixes the modules' header timestamp (as for ``generate_trainer_code``).
    """
    from towerwidgets.codegen import generate_trainer_code
    from towerwidgets.runner.api import towerwidgets_home

    fc, mc = feature_config, model_config
    code = generate_trainer_code(
        fc, mc, rating_column=rating_column or None, generated_at=generated_at
    )
    if not code.is_valid:
        raise PipelineInputError(f"Code generation failed: {code.validation_error}")
    source = parse_source(data)
    name = _slug(pipeline_name or f"towerwidgets-{fc.name}-{mc.name}")
    home_dir = Path(home).resolve() if home else towerwidgets_home()
    digest = hashlib.sha256((code.transform_code + code.trainer_code).encode()).hexdigest()[:12]
    workdir = home_dir / "pipelines" / name / f"build-{digest}"
    workdir.mkdir(parents=True, exist_ok=True)
    root = str(pipeline_root) if pipeline_root else str(home_dir / "pipelines" / name / "root")
    remote = root.startswith("gs://")
    if not remote:
        root = str(Path(root).expanduser().resolve())

    # The module files, byte for byte, each alone in its folder (TFX packages a module's
    # whole folder into its wheel).
    modules = {}
    for kind, text in (("transform", code.transform_code), ("trainer", code.trainer_code)):
        path = workdir / "modules" / kind / f"{kind}_module.py"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(text.encode("utf-8"))
        modules[kind] = str(path)

    spec_split: dict[str, Any] = {}
    uploads: list[tuple[str, str]] = []
    warnings: list[str] = []
    split_kind = split if isinstance(split, str) else split.get("kind", "random")
    eval_fraction = EVAL_FRACTION if isinstance(split, str) else split.get("eval_fraction", 0.2)
    if source.kind == "frame":
        data_dir, spec_split, warnings = _frame_split(
            source, fc, mc, code, rating_column, workdir, seed, split
        )
        input_base = str(data_dir)
        if remote:
            input_base = f"{root.rstrip('/')}/data/{data_dir.name}"
            for part in ("train", "eval"):
                uploads.append((str(data_dir / part / "data.csv"), f"{input_base}/{part}/data.csv"))
        example_gen = {
            "kind": "csv",
            "input_base": input_base,
            "splits": {"train": "train/*", "eval": "eval/*"},
        }
    else:
        if split_kind == "temporal":
            raise PipelineInputError(
                "A temporal split is made here, before ExampleGen: pass the data as a DataFrame "
                "or file, or give a folder with train/ and eval/ subfolders already split"
            )
        if source.kind == "csv" and "sample" in source.extra:
            from towerwidgets.runner.prepare import QuickTestInputError, validate_inputs

            try:
                warnings = validate_inputs(fc, mc, source.extra["sample"], rating_column or "")
            except QuickTestInputError as error:
                raise PipelineInputError(f"{source.description}: {error}") from error
            check_csv_column_names(list(source.extra["sample"].columns))
        if source.kind == "csv":
            example_gen = {"kind": "csv", "input_base": source.input_base}
            if source.presplit:
                example_gen["splits"] = {"train": "train/*", "eval": "eval/*"}
            else:
                example_gen["pattern"] = source.pattern
                example_gen["hash_buckets"] = hash_buckets(float(eval_fraction))
        else:
            example_gen = {
                "kind": "bigquery",
                "query": source.query,
                "hash_buckets": hash_buckets(float(eval_fraction)),
            }
        spec_split = {
            "kind": "presplit" if source.presplit else "hash",
            "eval_fraction": eval_fraction,
        }

    custom = {"epochs": epochs, "batch_size": batch_size, "learning_rate": learning_rate}
    custom = {k: v for k, v in custom.items() if v is not None} | {"seed": int(seed)}
    vertex_trainer = None
    if trainer_machine:
        if not project or not region:
            raise PipelineInputError(
                "Training on Vertex AI (trainer_machine=) needs project= and region="
            )
        vertex_trainer = {
            "project": project,
            "region": region,
            "machine_type": trainer_machine,
            "accelerator_type": accelerator_type,
            "accelerator_count": int(accelerator_count or 0),
            "image": image or default_image(project, region),
        }
    if image is None and (remote or project):
        image = default_image(project, region)
    spec = {
        "pipeline_name": name,
        "pipeline_root": root,
        "metadata_path": None if remote else str(Path(root) / "metadata.sqlite"),
        "example_gen": example_gen,
        "transform_module": modules["transform"],
        "trainer_module": modules["trainer"],
        "custom_config": custom,
        "serving_model_dir": serving_model_dir or f"{root.rstrip('/')}/serving_model",
        "beam_pipeline_args": list(
            beam_pipeline_args if beam_pipeline_args is not None else LOCAL_BEAM_ARGS
        ),
        "enable_cache": bool(enable_cache),
        "vertex_trainer": vertex_trainer,
        "image": image,
        "model_type": mc.model_type,
    }
    return PipelineDefinition(
        spec=spec,
        workdir=workdir,
        transform_code=code.transform_code,
        trainer_code=code.trainer_code,
        split=spec_split,
        uploads=uploads,
        warnings=warnings,
    )


def compile_pipeline(
    feature_config: Any,
    model_config: Any,
    data: Any,
    *,
    output: str | Path,
    pipeline_root: str,
    on_event: Callable[[dict[str, Any]], None] | None = None,
    **options: Any,
) -> Path:
    """Build the pipeline (see ``build_pipeline`` for the options) and compile it to a
    Vertex AI pipeline JSON at ``output``; returns its path."""
    definition = build_pipeline(
        feature_config, model_config, data, pipeline_root=pipeline_root, **options
    )
    return definition.compile(output, on_event=on_event)
