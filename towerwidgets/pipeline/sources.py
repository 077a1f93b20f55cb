"""Where a pipeline's data comes from: a DataFrame or file (split here, like a quick test),
a folder of CSV files (local or ``gs://``), or BigQuery (``bq://project.dataset.table`` or a
``SELECT`` query). Light: pandas and the standard library only."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from towerwidgets.errors import TowerwidgetsError

__all__ = ["DataSource", "PipelineInputError", "hash_buckets", "parse_source"]

_BQ_TABLE = re.compile(r"^bq://([A-Za-z0-9_.:-]+)\.([A-Za-z0-9_]+)\.([A-Za-z0-9_$-]+)$")
_TABLE_SUFFIXES = (".csv", ".tsv", ".tab", ".parquet", ".pq")


class PipelineInputError(TowerwidgetsError, ValueError):
    """A pipeline cannot be built from these inputs; the message says what to change."""


@dataclass
class DataSource:
    """``kind``: ``frame`` (a DataFrame or a local table file: split here), ``csv`` (a
    folder or file pattern read by CsvExampleGen) or ``bigquery`` (a query)."""

    kind: str
    frame: Any = None
    input_base: str = ""
    pattern: str = "*"
    presplit: bool = False  # the folder holds train/ and eval/ subfolders
    query: str = ""
    description: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


def hash_buckets(eval_fraction: float) -> dict[str, int]:
    """ExampleGen's hash split as bucket counts out of 100 (e.g. 0.2 → 80 / 20)."""
    if not 0 < eval_fraction < 1:
        raise PipelineInputError(f"eval_fraction must be between 0 and 1, not {eval_fraction}")
    eval_buckets = min(max(round(eval_fraction * 100), 1), 99)
    return {"train": 100 - eval_buckets, "eval": eval_buckets}


def parse_source(data: Any) -> DataSource:
    """Classify ``data`` and check what can be checked without a cloud call."""
    import pandas as pd

    if isinstance(data, pd.DataFrame):
        if data.empty:
            raise PipelineInputError("The DataFrame is empty: a pipeline needs rows to train on")
        return DataSource("frame", frame=data, description=f"a DataFrame of {len(data):,} rows")
    if not isinstance(data, str | Path):
        raise PipelineInputError(
            "data must be a DataFrame, a CSV/Parquet file, a folder of CSV files, a gs:// path, "
            f"bq://project.dataset.table or a SELECT query, not {type(data).__name__}"
        )
    text = str(data).strip()
    if text.lower().startswith("select ") or text.lower().startswith("with "):
        return DataSource("bigquery", query=text, description="a BigQuery query")
    if text.startswith("bq://"):
        match = _BQ_TABLE.match(text)
        if not match:
            raise PipelineInputError(
                f"{text!r} is not a BigQuery table: write bq://PROJECT.DATASET.TABLE"
            )
        project, dataset, table = match.groups()
        return DataSource(
            "bigquery",
            query=f"SELECT * FROM `{project}.{dataset}.{table}`",
            description=f"BigQuery table {project}.{dataset}.{table}",
        )
    if text.startswith("gs://"):
        if len(text) <= len("gs://") or text == "gs:///":
            raise PipelineInputError("A gs:// path needs a bucket: gs://BUCKET/FOLDER")
        if text.lower().endswith(".csv"):
            base, _, name = text.rpartition("/")
            return DataSource("csv", input_base=base, pattern=name, description=text)
        return DataSource("csv", input_base=text.rstrip("/"), description=text)
    path = Path(text).expanduser()
    if not path.exists():
        raise PipelineInputError(f"Data source {text!r} does not exist")
    if path.is_file():
        if path.suffix.lower() not in _TABLE_SUFFIXES:
            raise PipelineInputError(
                f"{text!r} is not a CSV, TSV or Parquet file; pass a table file or a folder"
            )
        from towerwidgets.runner.prepare import load_data

        return DataSource("frame", frame=load_data(path), description=str(path))
    presplit = (path / "train").is_dir() and (path / "eval").is_dir()
    csvs = sorted((path / "train").glob("*.csv") if presplit else path.glob("*.csv"))
    if not csvs:
        raise PipelineInputError(
            f"The folder {text!r} holds no .csv files"
            + (" in train/" if presplit else " (or train/ and eval/ subfolders of them)")
        )
    header = pd.read_csv(csvs[0], nrows=1000)
    return DataSource(
        "csv",
        input_base=str(path.resolve()),
        presplit=presplit,
        description=str(path),
        extra={"sample": header},
    )
