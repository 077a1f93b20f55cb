"""Kernel-side stages of a quick test: validate the inputs and prepare the data splits.

Uses pandas and the standard library only. The transform module's column types are read
with ``ast`` (they are pure literals by contract), so nothing here imports TensorFlow.
"""

from __future__ import annotations

import ast
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from towerwidgets.runner.baselines import compute_baselines

if TYPE_CHECKING:
    import pandas as pd

CACHE_VERSION = 1
EVAL_FRACTION = 0.2
# A config's identity for caching: its content, not its name, id, author or timestamps.
_NON_CONTENT_FIELDS = ("id", "name", "description", "created_at", "updated_at", "created_by")


class QuickTestInputError(ValueError):
    """The inputs of a quick test cannot run; ``stage`` says where it was found."""

    def __init__(self, message: str, stage: str = "validate"):
        super().__init__(message)
        self.stage = stage


@dataclass
class PreparedData:
    paths: dict[str, str]
    fingerprint: str
    cache_key: str
    split: dict[str, Any]
    vocabulary_stats: dict[str, Any]
    warnings: list[str] = field(default_factory=list)
    n_rows: int = 0
    cached: bool = False


def load_data(data: Any) -> pd.DataFrame:
    """A DataFrame as given, or read from a CSV/TSV/Parquet path."""
    import pandas as pd

    if isinstance(data, pd.DataFrame):
        return data
    if isinstance(data, str | Path):
        path = Path(data).expanduser()
        if not path.is_file():
            raise QuickTestInputError(f"Data file {str(path)!r} does not exist")
        suffix = path.suffix.lower()
        try:
            if suffix in (".parquet", ".pq"):
                return pd.read_parquet(path)
            if suffix in (".tsv", ".tab"):
                return pd.read_csv(path, sep="\t")
            return pd.read_csv(path)
        except Exception as error:
            raise QuickTestInputError(f"Cannot read {str(path)!r}: {error}") from error
    raise QuickTestInputError(
        f"data must be a pandas DataFrame or a CSV/Parquet path, not {type(data).__name__}"
    )


def module_constants(code: str) -> dict[str, Any]:
    """Module-level literal assignments of a generated module (RAW_COLUMN_TYPES, keys...)."""
    constants: dict[str, Any] = {}
    for node in ast.parse(code).body:
        if isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if node.value is None:
                continue
            for target in targets:
                if isinstance(target, ast.Name) and target.id.isupper():
                    try:
                        constants[target.id] = ast.literal_eval(node.value)
                    except ValueError:
                        continue
    return constants


def content_hash(config: Any) -> str:
    data = config.to_dict() if hasattr(config, "to_dict") else dict(config)
    for name in _NON_CONTENT_FIELDS:
        data.pop(name, None)
    return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()


def _code_hash(code: str) -> str:
    """Hash of the code without comments/blank lines (the header carries a timestamp)."""
    lines = [ln for ln in code.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()


def validate_inputs(feature_config: Any, model_config: Any, df: pd.DataFrame, rating_column: str):
    """Raise QuickTestInputError with every blocking problem; return non-blocking warnings."""
    import pandas as pd

    problems: list[str] = []
    problems += [f"Feature config: {p}" for p in feature_config.validate()]
    problems += [f"Model config: {p}" for p in model_config.validate()]
    if problems:
        raise QuickTestInputError("; ".join(problems))
    problems = list(feature_config.validate_against(df))
    if model_config.model_type in ("ranking", "multitask"):
        if not rating_column:
            problems.append(
                f"A {model_config.model_type} model needs a rating column: pass rating_column= "
                "naming a numeric column of the data"
            )
        elif rating_column not in df.columns:
            problems.append(
                f"Rating column {rating_column!r} is not in the data; available: "
                + ", ".join(map(str, df.columns))
            )
        else:
            series = df[rating_column]
            numeric = pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(
                series
            )
            if not numeric:
                problems.append(
                    f"Rating column {rating_column!r} must be numeric but has dtype {series.dtype}"
                    " (e.g. text); pick a numeric column such as a rating or a quantity"
                )
            elif len(series) and series.isna().all():
                problems.append(f"Rating column {rating_column!r} has no values (all missing)")
    if problems:
        raise QuickTestInputError("; ".join(problems))
    warnings = list(model_config.warnings()) if hasattr(model_config, "warnings") else []
    return warnings


def _convert(df: pd.DataFrame, column_types: dict[str, str]) -> tuple[pd.DataFrame, list[str]]:
    import numpy as np
    import pandas as pd

    out = {}
    notes = []
    for name, kind in column_types.items():
        if name not in df.columns:
            raise QuickTestInputError(
                f"The generated transform reads column {name!r}, which is not in the data",
                stage="prepare data",
            )
        series = df[name]
        if pd.api.types.is_datetime64_any_dtype(series):
            series = series.astype("datetime64[ns]").astype("int64") // 1_000_000_000
        if kind == "string":
            missing = int(series.isna().sum())
            values = series.astype(str).where(series.notna(), "")
            if missing:
                notes.append(f"{missing} missing values in column {name!r} were read as ''")
            out[name] = values.astype(object)
        else:
            numbers = pd.to_numeric(series, errors="coerce")
            missing = int(numbers.isna().sum())
            if missing:
                fill = float(numbers.mean()) if missing < len(numbers) else 0.0
                numbers = numbers.fillna(fill)
                notes.append(
                    f"{missing} missing or non-numeric values in column {name!r} were "
                    f"replaced by the column mean ({fill:.4g})"
                )
            out[name] = numbers.astype(np.float64 if kind == "float" else np.int64)
    return pd.DataFrame(out, index=df.index), notes


def fingerprint(frame: pd.DataFrame) -> str:
    import pandas as pd

    digest = hashlib.sha256()
    digest.update(json.dumps([[c, str(t)] for c, t in frame.dtypes.items()]).encode())
    digest.update(pd.util.hash_pandas_object(frame, index=False).to_numpy().tobytes())
    return digest.hexdigest()


def _time_column(feature_config: Any, columns: list[str]) -> str | None:
    """The column that orders events in time: a cyclical feature's, else one named so."""
    for feature in feature_config.buyer_features + feature_config.product_features:
        if feature.transform == "cyclical" and feature.column in columns:
            return feature.column
    for name in columns:
        if "timestamp" in str(name).lower() or str(name).lower() in ("time", "date", "ts"):
            return name
    return None


def _time_values(df: pd.DataFrame, column: str, index: Any) -> Any:
    import pandas as pd

    values = df.loc[index, column]
    if pd.api.types.is_datetime64_any_dtype(values):
        return values.astype("datetime64[ns]").astype("int64").to_numpy()
    return pd.to_numeric(values, errors="coerce").fillna(0).to_numpy()


def prepare_data(
    df: pd.DataFrame,
    feature_config: Any,
    transform_code: str,
    run_dir: Path,
    *,
    seed: int,
    split: str | dict[str, Any] = "random",
    cache_dir: Path | None = None,
) -> PreparedData:
    """Typed columns, a seeded 80/20 (or temporal) split, the candidate set; written as
    Parquet into ``run_dir`` with the data fingerprint and the transform cache key."""
    import numpy as np

    constants = module_constants(transform_code)
    column_types = constants.get("RAW_COLUMN_TYPES")
    if not isinstance(column_types, dict) or not column_types:
        raise QuickTestInputError(
            "The transform module declares no RAW_COLUMN_TYPES", stage="prepare data"
        )
    buyer_key = constants.get("BUYER_ID_KEY") or feature_config.buyer_id_column
    product_key = constants.get("PRODUCT_ID_KEY") or feature_config.product_id_column
    frame, warnings = _convert(df, column_types)
    before = len(frame)
    keep = (frame[buyer_key] != "") & (frame[product_key] != "")
    frame = frame[keep]
    if len(frame) < before:
        warnings.append(f"{before - len(frame)} rows without a buyer or product id were dropped")
    if len(frame) < 2:
        raise QuickTestInputError(
            f"The data has {len(frame)} usable rows; a quick test needs at least 2 "
            "(one to train on, one to evaluate)",
            stage="prepare data",
        )

    spec = {"kind": split} if isinstance(split, str) else dict(split)
    kind = spec.get("kind", "random")
    eval_fraction = float(spec.get("eval_fraction", EVAL_FRACTION))
    n = len(frame)
    n_eval = min(max(1, round(n * eval_fraction)), n - 1)
    time_column = _time_column(feature_config, list(df.columns))
    if kind == "temporal":
        column = spec.get("column") or time_column
        if not column or column not in df.columns:
            raise QuickTestInputError(
                "A temporal split needs a timestamp column: pass split={'kind': 'temporal', "
                "'column': NAME}",
                stage="prepare data",
            )
        order = np.argsort(_time_values(df, column, frame.index), kind="stable")
        is_eval = np.zeros(n, dtype=bool)
        is_eval[order[n - n_eval :]] = True
        spec["column"] = column
    elif kind == "random":
        rng = np.random.default_rng(seed)
        is_eval = np.zeros(n, dtype=bool)
        is_eval[rng.permutation(n)[:n_eval]] = True
    else:
        raise QuickTestInputError(f"Unknown split {kind!r}; use 'random' or 'temporal'")
    train, evaluation = frame[~is_eval], frame[is_eval]

    # Candidates: every product once, with the features of its latest occurrence.
    if time_column:
        order = np.argsort(_time_values(df, time_column, frame.index), kind="stable")
        ordered = frame.iloc[order]
    else:
        ordered = frame
    candidates = ordered.drop_duplicates(product_key, keep="last")

    print_fp = fingerprint(frame)
    split_info = {
        "kind": kind,
        "eval_fraction": eval_fraction,
        "seed": seed,
        **({"column": spec["column"]} if "column" in spec else {}),
        "train_rows": len(train),
        "eval_rows": len(evaluation),
        "candidates": len(candidates),
    }
    split_info["baselines"] = compute_baselines(
        train, evaluation, candidates, product_key, constants.get("LABEL_KEY")
    )
    key_source = {
        "version": CACHE_VERSION,
        "feature_config": content_hash(feature_config),
        "transform_code": _code_hash(transform_code),
        "column_types": column_types,
        "data": print_fp,
        "split": {k: split_info[k] for k in ("kind", "eval_fraction", "seed")}
        | ({"column": spec["column"]} if "column" in spec else {}),
    }
    cache_key = hashlib.sha256(json.dumps(key_source, sort_keys=True).encode()).hexdigest()[:32]

    stats: dict[str, Any] = {}
    for name, ctype in column_types.items():
        if ctype != "string":
            continue
        train_values = set(train[name].unique())
        oov = float((~evaluation[name].isin(train_values)).mean()) if len(evaluation) else 0.0
        stats[name] = {"vocabulary_size": len(train_values), "eval_oov_rate": round(oov, 4)}
    unseen_buyers = stats.get(buyer_key, {}).get("eval_oov_rate", 0.0)
    if unseen_buyers > 0.01:
        warnings.append(
            f"{unseen_buyers:.0%} of evaluation rows come from buyers never seen in training: "
            "their embeddings are untrained (out-of-vocabulary), which lowers Recall@K"
        )

    run_dir.mkdir(parents=True, exist_ok=True)
    paths: dict[str, str] = {}
    cached = cache_dir is not None and (cache_dir / cache_key / "DONE.json").is_file()
    for name, part in (("train", train), ("eval", evaluation), ("candidates", candidates)):
        if cached:  # the worker reuses the transformed splits: no need to write these
            continue
        path = run_dir / f"{name}.parquet"
        part.reset_index(drop=True).to_parquet(path, index=False)
        paths[name] = str(path)
    return PreparedData(
        paths=paths,
        fingerprint=print_fp,
        cache_key=cache_key,
        split=split_info,
        vocabulary_stats=stats,
        warnings=warnings,
        n_rows=n,
        cached=cached,
    )
