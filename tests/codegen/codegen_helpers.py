"""Helpers for the codegen tests: small data, three FeatureConfigs, a local TFX stand-in.

The TF-side helpers (``run_transform``, ``FnArgs``, ``DataAccessor``) import TensorFlow only
when called; TFX itself does not install here, so these mimic the parts of TFX the
generated modules use (``FnArgs`` attributes and ``data_accessor.tf_dataset_factory``).
"""

from __future__ import annotations

import dataclasses
import importlib.util
import os
import random
import sys
import uuid
from pathlib import Path
from typing import Any

from towerwidgets.config import Cross, Feature, FeatureConfig, ModelConfig

PRESETS = ("minimal", "standard", "deep", "asymmetric", "regularized")
MODEL_TYPES = ("retrieval", "ranking", "multitask")
GENERATED_AT = "2026-01-01T00:00:00Z"


def feature_configs() -> dict[str, FeatureConfig]:
    """ids only; ids + numeric + timestamp; with crosses (one per tower)."""
    return {
        "ids": FeatureConfig(
            id=1,
            name="IDs only",
            buyer_id_column="user_id",
            product_id_column="item_id",
            buyer_features=[Feature(column="user_id", embedding_dim=16)],
            product_features=[Feature(column="item_id", embedding_dim=16)],
        ),
        "rich": FeatureConfig(
            id=2,
            name="IDs + numeric + timestamp",
            buyer_id_column="user_id",
            product_id_column="item_id",
            buyer_features=[
                Feature(column="user_id", embedding_dim=16),
                Feature(column="age", transform="normalize"),
                Feature(column="ts", transform="normalize"),
                Feature(column="ts", transform="cyclical", period="week"),
            ],
            product_features=[
                Feature(column="item_id", embedding_dim=16),
                Feature(column="genre", embedding_dim=4),
                Feature(column="price", transform="bucketize", num_buckets=5, embedding_dim=4),
            ],
        ),
        "cross": FeatureConfig(
            id=3,
            name="With crosses",
            buyer_id_column="user_id",
            product_id_column="item_id",
            buyer_features=[
                Feature(column="user_id", embedding_dim=8),
                Feature(column="country", embedding_dim=4),
            ],
            product_features=[
                Feature(column="item_id", embedding_dim=8),
                Feature(column="price", transform="normalize"),
            ],
            crosses=[
                Cross(tower="buyer", columns=["country", "age"], hash_buckets=50, embedding_dim=4),
                Cross(
                    tower="product", columns=["genre", "price"], hash_buckets=64, embedding_dim=4
                ),
            ],
        ),
    }


def model_config(preset: str, model_type: str, **fields: Any) -> ModelConfig:
    """A preset's config; ``fields`` are set afterwards (they win over the preset)."""
    config = ModelConfig.from_preset(
        preset, model_type=model_type, id=7, name=fields.pop("name", f"{preset} {model_type}")
    )
    for key, value in fields.items():
        setattr(config, key, value)
    return config


def rows(n: int = 1600, seed: int = 0, columns: dict[str, str] | None = None) -> list[dict]:
    """Interactions of 120 users with 240 items; users prefer one genre (learnable)."""
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        user = rng.randrange(120)
        genre = user % 6 if rng.random() < 0.8 else rng.randrange(6)
        item = genre + 6 * rng.randrange(40)
        row = {
            "user_id": f"u{user}",
            "item_id": f"i{item}",
            "age": float(18 + user % 50),
            "country": ["fr", "de", "us", "jp"][user % 4],
            "ts": 1_700_000_000 + rng.randrange(30 * 86_400),
            "genre": f"g{genre}",
            "price": float(item % 37) + 0.5,
            "rating": float(1 + (user + item) % 5),
        }
        if columns:  # rename to hostile column names
            row = {columns.get(k, k): v for k, v in row.items()}
        out.append(row)
    return out


def load_module(path: str | Path, name: str | None = None) -> Any:
    name = name or f"generated_{uuid.uuid4().hex}"
    spec = importlib.util.spec_from_file_location(name, str(path))
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def run_transform(transform_module: Any, data: list[dict], out_dir: Path) -> dict[str, str]:
    """tensorflow-transform on Beam's DirectRunner: 80/20 split, gzipped transformed
    TFRecords plus the TFTransformOutput directory (what TFX's Transform hands the Trainer).
    """
    os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
    import apache_beam as beam
    import tensorflow_transform as tft
    import tensorflow_transform.beam as tft_beam
    from apache_beam.options.pipeline_options import PipelineOptions
    from tensorflow_transform.tf_metadata import dataset_metadata, schema_utils

    # Like the runner: every column as the type RAW_COLUMN_TYPES declares.
    cast = {"string": str, "float": float, "int": int}
    types = transform_module.RAW_COLUMN_TYPES
    data = [{c: cast[t](row[c]) for c, t in types.items()} for row in data]
    cut = int(len(data) * 0.8)
    train, evaluation = data[:cut], data[cut:]
    schema = schema_utils.schema_from_feature_spec(transform_module.raw_feature_spec())
    metadata = dataset_metadata.DatasetMetadata(schema)
    options = PipelineOptions(["--direct_num_workers=1", "--direct_running_mode=in_memory"])
    with (
        beam.Pipeline(runner="DirectRunner", options=options) as pipeline,
        tft_beam.Context(temp_dir=str(out_dir / "tmp")),
    ):
        raw_train = pipeline | "train" >> beam.Create(train)
        raw_eval = pipeline | "eval" >> beam.Create(evaluation)
        (t_train, t_meta), transform_fn = (
            raw_train,
            metadata,
        ) | tft_beam.AnalyzeAndTransformDataset(transform_module.preprocessing_fn)
        t_eval, _ = ((raw_eval, metadata), transform_fn) | tft_beam.TransformDataset()
        coder = tft.coders.ExampleProtoCoder(t_meta.schema)
        for split, data_ in (("train", t_train), ("eval", t_eval)):
            _ = (
                data_
                | f"encode_{split}" >> beam.Map(coder.encode)
                | f"write_{split}"
                >> beam.io.WriteToTFRecord(
                    str(out_dir / split / "part"), file_name_suffix=".gz", num_shards=1
                )
            )
        _ = transform_fn | tft_beam.WriteTransformFn(str(out_dir / "transform_output"))
    return {
        "train": str(out_dir / "train" / "*.gz"),
        "eval": str(out_dir / "eval" / "*.gz"),
        "transform_output": str(out_dir / "transform_output"),
    }


class DataAccessor:
    """TFX's DataAccessor, the part trainer modules use."""

    def tf_dataset_factory(self, file_pattern: Any, options: Any, schema: Any) -> Any:
        from tfx_bsl.public import tfxio

        patterns = [file_pattern] if isinstance(file_pattern, str) else list(file_pattern)
        return tfxio.TFExampleRecord(file_pattern=patterns, schema=schema).TensorFlowDataset(
            options
        )


@dataclasses.dataclass
class FnArgs:
    """The attributes of TFX's FnArgs that run_fn reads."""

    train_files: list[str]
    eval_files: list[str]
    transform_output: str
    serving_model_dir: str
    data_accessor: Any = dataclasses.field(default_factory=DataAccessor)
    custom_config: dict[str, Any] | None = None
    train_steps: int | None = None
    eval_steps: int | None = None
