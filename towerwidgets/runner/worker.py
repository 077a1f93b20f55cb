"""The quick-test worker: ``python -m towerwidgets.runner.worker``.

Runs in its own process so TensorFlow never loads in the kernel. It sets
``TF_USE_LEGACY_KERAS=1`` before importing TensorFlow, imports the heavy stack (warm-up),
says ``ready``, then reads one job file path per line on stdin and runs it:

1. transform: the generated ``preprocessing_fn`` through tensorflow-transform on Beam's
   DirectRunner, train analysed + transformed, eval and candidates transformed, written as
   gzipped TFRecords of tf.Example, cached under the job's ``cache_dir`` by key;
2. train / evaluate / export: the generated ``run_fn(fn_args)`` with a FnArgs-compatible
   object whose callbacks stream per-epoch metrics and throttled in-batch progress.

Events are JSON lines on the original stdout, closed after the last one (``done``) so the
kernel need not wait for the exit; anything libraries print goes to stderr. A
``--reusable`` worker instead says ``released`` after ``done``, clears what the job left
(Keras' session, the generated modules), says ``ready`` again and waits for the next job
path, up to ``MAX_JOBS_PER_WORKER`` jobs and ``REUSE_MAX_RSS_MB`` of resident memory.
"""

from __future__ import annotations

import os

os.environ["TF_USE_LEGACY_KERAS"] = "1"
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import contextlib
import gc
import importlib.util
import json
import math
import select
import shutil
import sys
import time
import traceback
import uuid
from pathlib import Path
from typing import Any

from towerwidgets.runner.events import encode_event, stage_percent

CACHE_VERSION = 1
_EVENT_STREAM = None  # the original stdout, kept for events


_CURRENT_STAGE = "transform"


class WorkerError(Exception):
    """A failure with a readable message for the user (no traceback needed)."""

    def __init__(self, message: str, stage: str | None = None):
        super().__init__(message)
        self.stage = stage


def emit(kind: str, **payload: Any) -> None:
    stream = _EVENT_STREAM or sys.stdout
    stream.write(encode_event({"kind": kind, "time": time.time(), **payload}))
    stream.flush()


def stage(name: str, fraction: float = 0.0, **extra: Any) -> None:
    global _CURRENT_STAGE
    _CURRENT_STAGE = name
    emit("stage", stage=name, progress_percent=stage_percent(name, fraction), **extra)


def _redirect_stdout() -> None:
    """Keep fd 1 for events; point Python's and C's stdout at stderr."""
    global _EVENT_STREAM
    events_fd = os.dup(1)
    os.dup2(2, 1)
    _EVENT_STREAM = os.fdopen(events_fd, "w", buffering=1, encoding="utf-8")
    sys.stdout = sys.stderr


def warm_up() -> None:
    """Import the heavy stack once, before any job arrives."""
    import apache_beam  # noqa: F401
    import tensorflow as tf
    import tensorflow_recommenders  # noqa: F401
    import tensorflow_transform
    import tensorflow_transform.beam  # noqa: F401
    from tfx_bsl.public import tfxio  # noqa: F401

    tf.get_logger().setLevel("ERROR")
    # What the imports created lives as long as the worker: keep it out of the garbage
    # collector's full passes, which otherwise scan it all (~0.25 s each, at random points
    # of a run, e.g. during the export).
    gc.freeze()


def warm_up_niced(nice: int) -> None:
    """``warm_up`` in a thread at a lower CPU priority (Linux nice is per thread): a spare
    started while a test runs takes only what that test leaves of the CPU, and the main
    thread, which runs the next job, keeps its normal priority."""
    import threading

    failure: list[BaseException] = []

    def run() -> None:
        with contextlib.suppress(OSError, AttributeError):
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), nice)
        try:
            warm_up()
        except BaseException as error:  # re-raised in the main thread
            failure.append(error)

    thread = threading.Thread(target=run, name="tw-warm-up")
    thread.start()
    thread.join()
    if failure:
        raise failure[0]


def load_module(path: str, name: str) -> Any:
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise WorkerError(f"Cannot load module {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


# ── transform ───────────────────────────────────────────────────────────────────────────


ROWS_PER_BATCH = 100_000  # rows read from a split's Parquet file at a time
# Above this many training rows the analysis runs on Beam, which streams the split; the
# in-memory analysis holds the split and the analyzers' inputs at once.
IN_MEMORY_ANALYSIS_ROWS = 2_000_000
_ARROW_TYPES = {"string": "large_binary", "float": "float32", "int": "int64"}


def _split_rows(path: str) -> int:
    import pyarrow.parquet as pq

    return pq.ParquetFile(path).metadata.num_rows


def _flat_batches(path: str, column_types: dict[str, str], rows_per_batch: int | None = None):
    """A split's Parquet file a batch at a time (``ROWS_PER_BATCH`` rows unless told), its
    columns typed as the transform declares them: memory holds one batch, not the split.

    The kernel wrote strings as strings, numbers as float64/int64 (``prepare_data``);
    strings become bytes, as tf.Example carries them.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    names = list(column_types)
    types = [getattr(pa, _ARROW_TYPES[column_types[n]])() for n in names]
    with pq.ParquetFile(path) as source:
        for batch in source.iter_batches(
            batch_size=rows_per_batch or ROWS_PER_BATCH, columns=names
        ):
            if batch.num_rows == 0:
                continue
            arrays = []
            for name, kind in zip(names, types, strict=True):
                column = batch.column(name)
                if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
                    column = column.cast(pa.large_string())
                elif not (pa.types.is_binary(column.type) or pa.types.is_large_binary(column.type)):
                    if kind == pa.large_binary():  # numbers read as text: their str()
                        column = pa.array(
                            [str(v) for v in column.to_pylist()], type=pa.large_string()
                        )
                arrays.append(column.cast(kind))
            yield pa.RecordBatch.from_arrays(arrays, names)


def _list_schema(column_types: dict[str, str]) -> Any:
    """The Arrow schema tfx-bsl's TensorAdapter reads: one value per row, as list columns."""
    import pyarrow as pa

    return pa.schema(
        [
            pa.field(name, pa.large_list(getattr(pa, _ARROW_TYPES[kind])()))
            for name, kind in column_types.items()
        ]
    )


def _as_lists(batch: Any) -> Any:
    """A flat batch as tfx-bsl's list-typed RecordBatch (one value per row)."""
    import numpy as np
    import pyarrow as pa

    offsets = pa.array(np.arange(batch.num_rows + 1, dtype=np.int64))
    return pa.RecordBatch.from_arrays(
        [pa.LargeListArray.from_arrays(offsets, column) for column in batch.columns],
        batch.schema.names,
    )


def _record_batches(path: str, column_types: dict[str, str]) -> list:
    """A whole split as list-typed RecordBatches (the "beam" check mode holds them all)."""
    return [_as_lists(batch) for batch in _flat_batches(path, column_types)]


def _read_list_batches(path: str, column_types: dict[str, str]):
    """Beam source step: a split's rows, streamed from Parquet as list-typed batches."""
    for batch in _flat_batches(path, column_types):
        yield _as_lists(batch)


def _encode_examples(item: Any) -> list[bytes]:
    from tfx_bsl.coders import example_coder

    record_batch = item[0] if isinstance(item, tuple) else item
    return example_coder.RecordBatchToExamples(record_batch)


def _pipeline_options() -> Any:
    from apache_beam.options.pipeline_options import PipelineOptions

    return PipelineOptions(["--direct_num_workers=1", "--direct_running_mode=in_memory"])


def _analyze_in_beam(
    transform_module: Any,
    train_path: str,
    column_types: dict[str, str],
    adapter_config: Any,
    out: Path,
) -> None:
    """The full-pass analyzers (vocabularies, means, quantiles) over the training split with
    tensorflow-transform on Beam's DirectRunner; writes the transform graph. The rows are
    read inside the pipeline, a Parquet batch at a time, not handed to ``beam.Create``
    (which pickles every value into the pipeline: several copies of the split)."""
    import apache_beam as beam
    import tensorflow_transform.beam as tft_beam

    with (
        beam.Pipeline(runner="DirectRunner", options=_pipeline_options()) as pipeline,
        tft_beam.Context(temp_dir=str(out / "tft_tmp"), force_tf_compat_v1=False),
    ):
        raw_train = (
            pipeline
            | "train" >> beam.Create([train_path])
            | "ReadTrain" >> beam.FlatMap(_read_list_batches, column_types)
        )
        transform_fn = (raw_train, adapter_config) | "Analyze" >> tft_beam.AnalyzeDataset(
            transform_module.preprocessing_fn
        )
        _ = transform_fn | "WriteTransformFn" >> tft_beam.WriteTransformFn(
            str(out / "transform_output")
        )


def _analyze(
    transform_module: Any,
    train_path: str,
    train_rows: int,
    column_types: dict[str, str],
    adapter_config: Any,
    out: Path,
    mode: str,
) -> str:
    """Analyse the training split in this process (tft's analysis graph without Beam,
    ``runner/analysis.py``) when it fits in memory and every analyzer has an in-memory
    version, else on Beam. ``mode``: "analyze" chooses; "memory" or "beam_analysis"
    force one (tests compare them). Returns which one ran."""
    from towerwidgets.runner import analysis

    if mode == "beam_analysis" or (mode == "analyze" and train_rows > IN_MEMORY_ANALYSIS_ROWS):
        _analyze_in_beam(transform_module, train_path, column_types, adapter_config, out)
        gc.collect()  # Beam's leftovers, before the TensorFlow stages
        return "beam"
    try:
        analysis.analyze(
            transform_module.preprocessing_fn,
            _read_list_batches(train_path, column_types),
            adapter_config,
            str(out / "tft_tmp"),
            str(out / "transform_output"),
        )
        return "in-memory"
    except analysis.Unsupported as unsupported:
        if mode == "memory":
            raise
        emit("info", stage="transform", metrics={"analysis": "beam", "reason": str(unsupported)})
        shutil.rmtree(out / "tft_tmp", ignore_errors=True)
        shutil.rmtree(out / "transform_output", ignore_errors=True)
        _analyze_in_beam(transform_module, train_path, column_types, adapter_config, out)
        gc.collect()
        return "beam"


def _transform_all_in_beam(
    transform_module: Any, splits: dict[str, list], adapter_config: Any, out: Path
) -> None:
    """Analyze and transform every split inside one Beam pipeline (mode "beam"; slower,
    kept to check that applying the transform graph directly gives the same examples)."""
    import apache_beam as beam
    import tensorflow_transform.beam as tft_beam

    with (
        beam.Pipeline(runner="DirectRunner", options=_pipeline_options()) as pipeline,
        tft_beam.Context(temp_dir=str(out / "tft_tmp"), force_tf_compat_v1=False),
    ):
        raw_train = pipeline | "train" >> beam.Create(splits["train"])
        (train_data, _), transform_fn = (
            raw_train,
            adapter_config,
        ) | "AnalyzeAndTransform" >> tft_beam.AnalyzeAndTransformDataset(
            transform_module.preprocessing_fn, output_record_batches=True
        )
        _ = transform_fn | "WriteTransformFn" >> tft_beam.WriteTransformFn(
            str(out / "transform_output")
        )
        outputs = {"train": train_data}
        for split in ("eval", "candidates"):
            if not splits[split]:
                continue
            raw = pipeline | split >> beam.Create(splits[split])
            data, _ = ((raw, adapter_config), transform_fn) | (
                f"Transform{split}" >> tft_beam.TransformDataset(output_record_batches=True)
            )
            outputs[split] = data
        for split, data in outputs.items():
            _ = (
                data
                | f"Encode{split}" >> beam.FlatMap(_encode_examples)
                | f"Write{split}"
                >> beam.io.WriteToTFRecord(
                    str(out / split / "part"), file_name_suffix=".gz", num_shards=1
                )
            )


def _to_list_array(tensor: Any) -> Any:
    """A transformed feature (dense, sparse or ragged tensor) as an Arrow list column."""
    import numpy as np
    import pyarrow as pa
    import tensorflow as tf

    if isinstance(tensor, tf.SparseTensor):
        tensor = tf.RaggedTensor.from_sparse(tensor)
    if isinstance(tensor, tf.RaggedTensor):
        offsets = tensor.row_splits.numpy().astype(np.int64)
        values = tensor.flat_values.numpy()
    else:
        array = tensor.numpy()
        rows = array.shape[0]
        array = array.reshape(rows, -1)
        offsets = np.arange(rows + 1, dtype=np.int64) * array.shape[1]
        values = array.reshape(-1)
    if values.dtype.kind in ("S", "O", "U"):
        values = pa.array(values.tolist(), type=pa.large_binary())
    elif values.dtype.kind == "f":
        values = pa.array(values.astype(np.float32))
    else:
        values = pa.array(values.astype(np.int64))
    return pa.LargeListArray.from_arrays(pa.array(offsets), values)


def _apply_transform_fn(
    transform_output: Path,
    paths: dict[str, str],
    column_types: dict[str, str],
    out: Path,
    rows_per_batch: int = 50_000,
) -> None:
    """Apply the analysed transform graph to every split in TensorFlow (what TFX's
    Transform does row by row in Beam), and write gzipped TFRecords of tf.Example,
    streaming each split from its Parquet file a batch at a time."""
    import pyarrow as pa
    import tensorflow as tf
    import tensorflow_transform as tft
    from tfx_bsl.coders import example_coder

    tft_output = tft.TFTransformOutput(str(transform_output))
    dtypes = {"string": tf.string, "float": tf.float32, "int": tf.int64}
    for split, source in paths.items():
        (out / split).mkdir(parents=True, exist_ok=True)
        path = out / split / "part-00000-of-00001.gz"
        with tf.io.TFRecordWriter(str(path), options="GZIP") as writer:
            for part in _flat_batches(source, column_types, rows_per_batch):
                raw = {}
                for name, kind in column_types.items():
                    values = part.column(name).to_numpy(zero_copy_only=False)
                    raw[name] = tf.constant(values, dtype=dtypes[kind])
                transformed = tft_output.transform_raw_features(raw, drop_unused_features=True)
                names = sorted(transformed)
                batch = pa.RecordBatch.from_arrays(
                    [_to_list_array(transformed[name]) for name in names], names
                )
                for example in example_coder.RecordBatchToExamples(batch):
                    writer.write(example)


def run_transform(job: dict[str, Any], transform_module: Any) -> dict[str, Any]:
    """Transform the prepared splits (or reuse the cache); returns the output locations."""
    cache_dir = Path(job["cache_dir"]) / job["cache_key"]
    marker = cache_dir / "DONE.json"
    if marker.is_file():
        info = json.loads(marker.read_text())
        emit(
            "info",
            stage="transform",
            metrics={"transform_cache": "hit", "cache_dir": str(cache_dir)},
        )
        os.utime(marker)  # last use, for cache clean-up
        return {**info, "dir": str(cache_dir), "cache_hit": True}

    from tensorflow_transform.tf_metadata import dataset_metadata, metadata_io, schema_utils
    from tfx_bsl.public import tfxio
    from tfx_bsl.tfxio import tensor_representation_util

    emit(
        "info", stage="transform", metrics={"transform_cache": "miss", "cache_dir": str(cache_dir)}
    )
    column_types: dict[str, str] = dict(transform_module.RAW_COLUMN_TYPES)
    schema = schema_utils.schema_from_feature_spec(transform_module.raw_feature_spec())
    representations = tensor_representation_util.InferTensorRepresentationsFromSchema(schema)
    paths = {split: job["data"][split] for split in ("train", "eval", "candidates")}
    rows = {split: _split_rows(path) for split, path in paths.items()}
    if not rows["train"]:
        raise WorkerError("The training split is empty")
    adapter_config = tfxio.TensorAdapterConfig(_list_schema(column_types), representations)

    tmp_dir = cache_dir.parent / f".tmp-{cache_dir.name}-{uuid.uuid4().hex[:8]}"
    tmp_dir.mkdir(parents=True)
    start = time.time()
    mode = job.get("transform_mode", "analyze")
    analysis = None
    try:
        if mode == "beam":
            splits = {split: _record_batches(path, column_types) for split, path in paths.items()}
            _transform_all_in_beam(transform_module, splits, adapter_config, tmp_dir)
            analysis = "beam"
        else:
            analysis = _analyze(
                transform_module,
                paths["train"],
                rows["train"],
                column_types,
                adapter_config,
                tmp_dir,
                mode,
            )
            _apply_transform_fn(tmp_dir / "transform_output", paths, column_types, tmp_dir)
    except Exception:
        shutil.rmtree(tmp_dir, ignore_errors=True)
        raise
    shutil.rmtree(tmp_dir / "tft_tmp", ignore_errors=True)
    # The raw schema beside the transform graph, as TFX's Transform writes it: the
    # generated export reads the raw types and shapes from it (raw_feature_spec()).
    metadata_io.write_metadata(
        dataset_metadata.DatasetMetadata(schema),
        str(tmp_dir / "transform_output" / "metadata"),
    )
    info = {
        "version": CACHE_VERSION,
        "seconds": round(time.time() - start, 2),
        "rows": rows,
        "mode": mode,
        "analysis": analysis,
        "created": time.time(),
    }
    (tmp_dir / "DONE.json").write_text(json.dumps(info))
    try:
        tmp_dir.rename(cache_dir)
    except OSError:  # another worker finished the same transform first: use theirs
        shutil.rmtree(tmp_dir, ignore_errors=True)
    return {**info, "dir": str(cache_dir), "cache_hit": False}


def vocabulary_sizes(transform_output: str) -> dict[str, int]:
    assets = Path(transform_output) / "transform_fn" / "assets"
    sizes = {}
    if assets.is_dir():
        for file in sorted(assets.iterdir()):
            if file.is_file():
                with file.open("rb") as handle:
                    sizes[file.name] = sum(1 for _ in handle)
    return sizes


# ── train / evaluate / export ───────────────────────────────────────────────────────────


class _DataAccessor:
    """The part of TFX's DataAccessor that generated trainer modules use.

    Same contract as TFX's ``tf_dataset_factory`` (batches of parsed tf.Examples, records
    reshuffled every pass when ``options.shuffle``, ``(features, label)`` pairs when
    ``options.label_key`` is set), but the decompressed records stay in memory after the
    first pass, so later epochs and evaluations do not re-read and gunzip the files.

    Fixed parallelism instead of ``AUTOTUNE``, with tf.data's autotuning off: destroying an
    autotuned iterator waits for its model thread to finish an optimisation pass, and that
    wait (after ``fit`` returned, before the export) was caught at 15–42 s in 1M-row
    quick tests (native stack: ``RootDataset::Iterator::~Iterator`` waiting on an
    ``UnboundedThreadPool`` thread). The examples and their order are the same.
    """

    def tf_dataset_factory(self, file_pattern: Any, options: Any, schema: Any) -> Any:
        import tensorflow as tf
        from tensorflow_transform.tf_metadata import schema_utils

        patterns = [file_pattern] if isinstance(file_pattern, str) else list(file_pattern)
        files = sorted({f for pattern in patterns for f in tf.io.gfile.glob(pattern)})
        if not files:
            raise WorkerError(f"No transformed data files match {patterns}")
        feature_spec = schema_utils.schema_as_feature_spec(schema).feature_spec
        records = tf.data.TFRecordDataset(files, compression_type="GZIP").cache()
        if getattr(options, "shuffle", False):
            records = records.shuffle(
                getattr(options, "shuffle_buffer_size", None) or 10_000,
                seed=getattr(options, "shuffle_seed", None),
                reshuffle_each_iteration=True,
            )
        num_epochs = getattr(options, "num_epochs", None)
        if num_epochs != 1:  # TFX: None repeats forever
            records = records.repeat(num_epochs)
        batches = records.batch(
            options.batch_size, drop_remainder=bool(getattr(options, "drop_final_batch", False))
        )
        dataset = batches.map(
            lambda serialized: tf.io.parse_example(serialized, feature_spec),
            num_parallel_calls=max(2, os.cpu_count() or 2),
            deterministic=True,
        )
        label_key = getattr(options, "label_key", None)
        if label_key:
            dataset = dataset.map(
                lambda features: (
                    {k: v for k, v in features.items() if k != label_key},
                    features[label_key],
                )
            )
        tuning = tf.data.Options()
        tuning.autotune.enabled = False
        return dataset.prefetch(2).with_options(tuning)


class FnArgs:
    """A TFX ``FnArgs``-compatible bag of attributes for ``run_fn``."""

    def __init__(self, **values: Any):
        self.train_steps = None
        self.eval_steps = None
        self.schema_path = None
        self.schema_file = None
        self.model_run_dir = None
        self.base_model = None
        self.hyperparameters = None
        self.__dict__.update(values)

    @property
    def transform_graph_path(self) -> str:  # TFX's older name for transform_output
        return self.transform_output


def _make_progress_callback(epochs: int, interval: float) -> Any:
    import tensorflow as tf

    class StreamingCallback(tf.keras.callbacks.Callback):
        """Streams epoch metrics and throttled in-epoch progress; fails on NaN loss."""

        def __init__(self) -> None:
            super().__init__()
            self.epochs = max(int(epochs), 1)
            self.epoch = 0
            self.steps: int | None = None
            self.last_emit = 0.0
            self.last_batch_end: float | None = None
            self.batches = 0
            self.in_evaluate = False
            self.epoch_start = time.time()
            self.train_ended: float | None = None

        def _fraction(self, batch: int) -> float:
            within = (batch + 1) / self.steps if self.steps else 0.0
            return (self.epoch + min(within, 1.0)) / self.epochs

        def on_epoch_begin(self, epoch: int, logs: Any = None) -> None:
            self.epoch = epoch
            self.epoch_start = time.time()
            self.last_batch_end = None
            self.batches = 0

        def on_train_batch_end(self, batch: int, logs: Any = None) -> None:
            loss = (logs or {}).get("loss")
            if loss is not None and not math.isfinite(float(loss)):
                raise WorkerError(
                    f"Loss became NaN at epoch {self.epoch + 1} (batch {batch + 1}); "
                    "lower the learning rate or check the input data",
                    stage="train",
                )
            now = time.time()
            self.last_batch_end = now
            self.batches = batch + 1
            if (
                self.steps
                and batch + 1 >= self.steps
                and self.epoch + 1 >= self.epochs
                and not self.in_evaluate
            ):  # the last batch: the generated callback evaluates next
                self.in_evaluate = True
                stage("evaluate")
            if now - self.last_emit >= interval:
                self.last_emit = now
                emit(
                    "progress",
                    stage="train",
                    progress_percent=stage_percent("train", self._fraction(batch)),
                    epoch=self.epoch + 1,
                    metrics={
                        "batch": batch + 1,
                        "steps": self.steps,
                        "loss": None if loss is None else float(loss),
                    },
                )

        def on_epoch_end(self, epoch: int, logs: Any = None) -> None:
            logs = dict(logs or {})
            if self.steps is None:
                self.steps = (self.params or {}).get("steps") or self.batches or None
            row: dict[str, Any] = {"epoch": epoch + 1}
            for key, value in logs.items():
                try:
                    row[key] = float(value)
                except (TypeError, ValueError):
                    continue
            now = time.time()
            row["epoch_seconds"] = round(now - self.epoch_start, 3)
            if self.last_batch_end is not None:
                # The callbacks before this one (the generated evaluation) ran since the
                # epoch's last batch: that is the evaluation time.
                row["eval_seconds"] = round(now - self.last_batch_end, 3)
            emit(
                "epoch",
                stage="train",
                epoch=epoch + 1,
                metrics=row,
                progress_percent=stage_percent("train", (epoch + 1) / self.epochs),
            )
            loss = row.get("loss")
            if loss is not None and not math.isfinite(loss):
                raise WorkerError(
                    f"Loss became NaN at epoch {epoch + 1}; lower the learning rate or check "
                    "the input data",
                    stage="train",
                )

        def on_train_batch_begin(self, batch: int, logs: Any = None) -> None:
            if self.steps is None and self.params and self.params.get("steps"):
                self.steps = self.params["steps"]

        def on_train_end(self, logs: Any = None) -> None:
            self.train_ended = time.time()
            if not self.in_evaluate:
                self.in_evaluate = True
                stage("evaluate", 0.5)
            stage("export")

    return StreamingCallback()


def _reset_peak_rss() -> None:
    """Start this job's peak resident set from now (Linux: VmHWM), so a reused worker
    reports each job's own peak, not the largest of its jobs."""
    with contextlib.suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5")


def _status_mb(field: str) -> float | None:
    """A memory figure of this process from /proc/self/status (VmRSS, VmHWM) in MB."""
    with contextlib.suppress(OSError, ValueError, IndexError):
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(f"{field}:"):
                return int(line.split()[1]) / 1024
    return None


def _peak_rss_mb() -> float:
    peak = _status_mb("VmHWM")
    if peak is not None:
        return round(peak, 1)
    import resource

    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def run_job(job: dict[str, Any]) -> None:
    started = time.time()
    try:
        stage("transform")
        transform_module = load_module(job["transform_module"], f"tw_transform_{uuid.uuid4().hex}")
        out = run_transform(job, transform_module)
        transform_output = str(Path(out["dir"]) / "transform_output")
        emit(
            "info",
            stage="transform",
            metrics={
                "transform_seconds": out.get("seconds") if not out["cache_hit"] else 0.0,
                "transform_cache_hit": out["cache_hit"],
                "transform_analysis": out.get("analysis"),
                "transform_vocabularies": vocabulary_sizes(transform_output),
            },
        )

        stage("train")
        trainer = load_module(job["trainer_module"], f"tw_trainer_{uuid.uuid4().hex}")
        custom = dict(job.get("custom_config") or {})
        epochs = int(custom.get("epochs") or getattr(trainer, "EPOCHS", 1) or 1)
        callback = _make_progress_callback(epochs, float(job.get("progress_interval", 0.5)))
        custom["callbacks"] = [*custom.get("callbacks", []), callback]
        candidates = Path(out["dir"]) / "candidates"
        if candidates.is_dir():
            custom.setdefault("candidate_files", str(candidates / "*.gz"))
        serving_dir = job["serving_model_dir"]
        fn_args = FnArgs(
            train_files=[str(Path(out["dir"]) / "train" / "*.gz")],
            eval_files=[str(Path(out["dir"]) / "eval" / "*.gz")],
            transform_output=transform_output,
            serving_model_dir=serving_dir,
            data_accessor=_DataAccessor(),
            custom_config=custom,
            working_dir=job.get("run_dir"),
        )
        train_start = time.time()
        trainer.run_fn(fn_args)
        if not callback.in_evaluate:
            stage("evaluate")
        saved = Path(serving_dir) / "saved_model.pb"
        if not saved.is_file():
            raise WorkerError(f"run_fn finished but exported no model to {serving_dir}")
        emit(
            "info",
            stage="export",
            metrics={
                "export_path": serving_dir,
                "train_seconds": round(time.time() - train_start, 2),
                "export_seconds": round(time.time() - callback.train_ended, 2)
                if callback.train_ended
                else None,
                "worker_seconds": round(time.time() - started, 2),
                "worker_peak_rss_mb": _peak_rss_mb(),
            },
        )
        stage("done")
    except WorkerError as error:
        emit("error", stage=error.stage or _CURRENT_STAGE, message=str(error))
        raise SystemExit(1) from None
    except Exception as error:
        emit(
            "error",
            stage=_CURRENT_STAGE,
            message=f"{type(error).__name__}: {error}",
            traceback=traceback.format_exc(),
        )
        raise SystemExit(1) from None


def _read_job_path(idle_timeout: float) -> str | None:
    """One job path from stdin; None on EOF (the kernel went away) or idle timeout."""
    ready, _, _ = select.select([sys.stdin], [], [], idle_timeout)
    if not ready:
        return None
    line = sys.stdin.readline()
    return line.strip() or None


# A worker that finished a job serves the next one (``--reusable``) unless one of these
# says it has grown too much: then it exits and the kernel starts a fresh one.
MAX_JOBS_PER_WORKER = int(os.environ.get("TOWERWIDGETS_WORKER_MAX_JOBS", "10"))
REUSE_MAX_RSS_MB = 2500.0


def _reset_between_jobs() -> None:
    """What one job leaves behind, cleared before the next: Keras' graph and layer-name
    counters, the generated modules, the garbage of the run (its datasets and model)."""
    import tensorflow as tf

    tf.keras.backend.clear_session()
    for name in [n for n in sys.modules if n.startswith(("tw_transform_", "tw_trainer_"))]:
        del sys.modules[name]
    gc.collect()


def _run_one(path: str, warm: bool, import_seconds: float, jobs_done: int) -> None:
    job = json.loads(Path(path).read_text())
    if job.get("run_dir"):  # a spare worker started without a log: log into the run now
        with contextlib.suppress(OSError):
            log = open(Path(job["run_dir"]) / "worker.log", "ab")
            os.dup2(log.fileno(), 2)
            log.close()
    _reset_peak_rss()
    emit(
        "info",
        stage="transform",
        metrics={
            "worker_pid": os.getpid(),
            "worker_warm": warm,
            "worker_import_seconds": import_seconds,
            "worker_reused": jobs_done > 0,
        },
    )
    run_job(job)


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m towerwidgets.runner.worker")
    parser.add_argument("job", nargs="?", help="job JSON file (default: read a path from stdin)")
    parser.add_argument("--idle-timeout", type=float, default=900.0)
    parser.add_argument("--warm-nice", type=int, default=0, help="import at this niceness")
    parser.add_argument(
        "--reusable",
        action="store_true",
        help="after a job, say 'released' and wait for the next one (bounded)",
    )
    args = parser.parse_args(argv)
    _redirect_stdout()
    try:
        os.setpgid(0, 0)
    except OSError:
        pass
    warm_start = time.time()
    if args.warm_nice > 0:
        warm_up_niced(args.warm_nice)
    else:
        warm_up()
    import_seconds = round(time.time() - warm_start, 2)
    # Warm: no job was waiting when the imports ended, so the test paid none of them.
    job_waiting = bool(args.job) or bool(select.select([sys.stdin], [], [], 0)[0])
    emit("ready", pid=os.getpid(), metrics={"import_seconds": import_seconds})
    jobs_done = 0
    while True:
        path = args.job or _read_job_path(args.idle_timeout)  # a job argument: one job
        if not path:
            return 0
        _run_one(path, not job_waiting or jobs_done > 0, import_seconds, jobs_done)
        jobs_done += 1
        rss = _status_mb("VmRSS")
        if (
            not args.reusable
            or args.job
            or jobs_done >= MAX_JOBS_PER_WORKER
            or (rss is not None and rss > REUSE_MAX_RSS_MB)
        ):
            break
        # The run is over for the kernel; this process tidies up, then is ready again.
        emit("released", pid=os.getpid(), metrics={"jobs": jobs_done})
        _reset_between_jobs()
        emit("ready", pid=os.getpid(), metrics={"import_seconds": 0.0, "reused": True})
    # Everything is written: close the event stream (the kernel then knows the run is over,
    # while this process still frees its memory) and skip TensorFlow's slow interpreter
    # teardown.
    if _EVENT_STREAM is not None:
        _EVENT_STREAM.close()
    sys.stderr.flush()
    os._exit(0)


if __name__ == "__main__":
    sys.exit(main())
