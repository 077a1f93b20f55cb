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

CACHE_VERSION = 2
SPLITS_DIR = "splits"  # <run_dir>/splits/{train,eval,candidates}.parquet, kept after the run
EVAL_FRACTION = 0.2
_EPOCH = "1970-01-01"


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


def _code_hash(code: str) -> str:
    """Hash of the code without comments/blank lines (the header carries a timestamp)."""
    lines = [ln for ln in code.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()


def validate_inputs(
    feature_config: Any, model_config: Any, df: pd.DataFrame, rating_column: str
) -> list[str]:
    """Raise QuickTestInputError with every blocking problem; return non-blocking warnings.
    Everything a worker could trip on is refused here, naming the column."""
    import pandas as pd

    from towerwidgets.config.feature_config import reads_as_numbers

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
        elif list(df.columns).count(rating_column) > 1:
            problems.append(f"Rating column {rating_column!r} appears more than once in the data")
        else:
            series = df[rating_column]
            if not reads_as_numbers(series) or pd.api.types.is_datetime64_any_dtype(series):
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


def epoch_seconds(series: pd.Series) -> pd.Series:
    """Seconds since 1970-01-01 UTC as finite floats (NaN where a value is no time).

    Datetimes count in UTC (naive ones are taken as UTC, aware ones converted), numbers
    are epoch seconds already, text is read as numbers if it all is, else parsed as dates.
    Positional: the result has a fresh 0..n-1 index.
    """
    import numpy as np
    import pandas as pd

    values = series.reset_index(drop=True)
    if not pd.api.types.is_datetime64_any_dtype(values):
        numbers = _numbers(values)
        if (
            pd.api.types.is_numeric_dtype(values)
            or numbers[values.notna().to_numpy()].notna().all()
        ):
            return numbers
        if isinstance(values.dtype, pd.CategoricalDtype):
            values = values.astype(object)
        try:
            values = pd.to_datetime(values, utc=True, errors="coerce", format="mixed")
        except (ValueError, TypeError, OverflowError):
            return pd.Series(np.full(len(values), np.nan))
    stamps = pd.to_datetime(values, utc=True)
    seconds = (stamps - pd.Timestamp(_EPOCH, tz="UTC")) / pd.Timedelta(seconds=1)
    return pd.Series(np.asarray(seconds, dtype=float))


def _numbers(series: pd.Series) -> pd.Series:
    """Finite floats (NaN for anything else: text, inf, missing), positional index."""
    import numpy as np
    import pandas as pd

    values = series.reset_index(drop=True)
    if isinstance(values.dtype, pd.CategoricalDtype) or pd.api.types.is_bool_dtype(values):
        values = values.astype(object)
    numbers = pd.to_numeric(values, errors="coerce")
    array = np.asarray(pd.Series(numbers).astype("Float64").to_numpy(na_value=np.nan), float)
    array[~np.isfinite(array)] = np.nan
    return pd.Series(array)


def _convert(df: pd.DataFrame, column_types: dict[str, str]) -> tuple[pd.DataFrame, list[str]]:
    """The columns the transform reads, typed as it declares them (positional index)."""
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
        series = df[name].reset_index(drop=True)
        if kind == "string":
            missing = series.isna().to_numpy(dtype=bool)
            if missing.any():
                notes.append(
                    f"{int(missing.sum())} missing values in column {name!r} were read as ''"
                )
            if isinstance(series.dtype, pd.StringDtype):
                # Text kept as Arrow strings (pandas' default): no Python object per value,
                # which at 10M rows would be gigabytes in the kernel.
                out[name] = series.fillna("") if missing.any() else series
                continue
            values = series.astype(object).astype(str).to_numpy(dtype=object)
            values[missing] = ""
            out[name] = pd.Series(values, dtype=object)
        else:
            numbers = epoch_seconds(series)  # numbers, or times as seconds (validated)
            missing = int(numbers.isna().sum())
            if missing:
                fill = float(numbers.mean()) if missing < len(numbers) else 0.0
                numbers = numbers.fillna(fill)
                notes.append(
                    f"{missing} missing or non-numeric values in column {name!r} were "
                    f"replaced by the column mean ({fill:.4g})"
                )
            if kind == "float":
                out[name] = numbers.clip(-3.4e38, 3.4e38).astype(np.float64)
            else:
                out[name] = numbers.clip(-(2**62), 2**62).round().astype(np.int64)
    return pd.DataFrame(out), notes


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


def _split_times(df: pd.DataFrame, column: str) -> Any:
    """The times a temporal split orders by, or a clear refusal when some are no time."""
    times = epoch_seconds(df[column])
    bad = times.isna().to_numpy()
    if bad.any():
        raw = df[column].reset_index(drop=True)[bad]
        missing = int(raw.isna().sum())
        unparsed = [repr(v) for v in raw[raw.notna()].head(3).tolist()]
        what = []
        if missing:
            what.append(f"{missing} missing")
        if unparsed:
            what.append(
                f"{int(bad.sum()) - missing} not a date or a number (e.g. {', '.join(unparsed)})"
            )
        raise QuickTestInputError(
            f"Column {column!r} cannot order a temporal split: {' and '.join(what)} of "
            f"{len(times)} values. Use dates (e.g. 2024-05-01 12:00), datetimes or epoch "
            "seconds, drop those rows, or use split='random'",
            stage="prepare data",
        )
    return times.to_numpy()


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
    Parquet into ``run_dir`` with the data fingerprint and the transform cache key.

    ``split`` may be a dict: ``kind``, ``eval_fraction``, ``column`` (temporal) and
    ``max_eval_rows``, which evaluates on a seeded subset of the held-out rows when there
    are more (exact Recall@K costs eval rows × candidates: quadratic on growing data)."""
    import numpy as np

    constants = module_constants(transform_code)
    column_types = constants.get("RAW_COLUMN_TYPES")
    if not isinstance(column_types, dict) or not column_types:
        raise QuickTestInputError(
            "The transform module declares no RAW_COLUMN_TYPES", stage="prepare data"
        )
    buyer_key = constants.get("BUYER_ID_KEY") or feature_config.buyer_id_column
    product_key = constants.get("PRODUCT_ID_KEY") or feature_config.product_id_column
    df = df.reset_index(drop=True)  # positions only: duplicate or multi indexes are normal
    frame, warnings = _convert(df, column_types)
    before = len(frame)
    keep = ((frame[buyer_key] != "") & (frame[product_key] != "")).to_numpy()
    if not keep.all():  # (a boolean mask copies every column even when it keeps all)
        frame = frame[keep].reset_index(drop=True)
        df = df[keep].reset_index(drop=True)
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
        order = np.argsort(_split_times(df, column), kind="stable")
        is_eval = np.zeros(n, dtype=bool)
        is_eval[order[n - n_eval :]] = True
        spec["column"] = column
    elif kind == "random":
        rng = np.random.default_rng(seed)
        is_eval = np.zeros(n, dtype=bool)
        is_eval[rng.permutation(n)[:n_eval]] = True
    else:
        raise QuickTestInputError(f"Unknown split {kind!r}; use 'random' or 'temporal'")
    train = frame[~is_eval]
    n_eval_all = int(is_eval.sum())
    max_eval = spec.get("max_eval_rows")
    if max_eval is not None:
        if isinstance(max_eval, bool) or not isinstance(max_eval, int) or max_eval < 1:
            raise QuickTestInputError(
                f"split max_eval_rows must be a whole number of rows ≥ 1, not {max_eval!r}",
                stage="prepare data",
            )
        if n_eval_all > max_eval:
            # Exact Recall@K scores every eval row against every candidate: its cost is
            # eval rows × catalog, which grows with the square of the data when both grow.
            # A seeded subset keeps it linear; the rest of the eval split is not trained on.
            chosen = np.random.default_rng(seed + 1).choice(
                np.flatnonzero(is_eval), size=max_eval, replace=False
            )
            is_eval = np.zeros(n, dtype=bool)
            is_eval[chosen] = True
            warnings.append(
                f"Evaluated on {max_eval:,} seeded random rows of the {n_eval_all:,} held out "
                "(split max_eval_rows): metrics are estimates from that subset"
            )
    evaluation = frame[is_eval]

    # Candidates: every product once, with the features of its latest occurrence (rows
    # without a readable time count as the oldest).
    # Found on the id column alone, then taken: sorting the whole frame copied all of it.
    order = None
    if time_column:
        times = epoch_seconds(df[time_column]).fillna(-np.inf).to_numpy()
        order = np.argsort(times, kind="stable")
    ids = frame[product_key] if order is None else frame[product_key].iloc[order]
    latest = ~ids.duplicated(keep="last").to_numpy()
    rows = np.flatnonzero(latest) if order is None else order[latest]
    candidates = frame.iloc[rows]

    print_fp = fingerprint(frame)
    split_info = {
        "kind": kind,
        "eval_fraction": eval_fraction,
        "seed": seed,
        **({"column": spec["column"]} if "column" in spec else {}),
        "train_rows": len(train),
        "eval_rows": len(evaluation),
        **(
            {"max_eval_rows": max_eval, "eval_rows_held_out": n_eval_all}
            if max_eval is not None
            else {}
        ),
        "candidates": len(candidates),
    }
    split_info["baselines"] = compute_baselines(
        train, evaluation, candidates, product_key, constants.get("LABEL_KEY")
    )
    # What the transform reads, nothing else: its code (the column types are in it) and
    # the data. Model-side edits (an embedding_dim, the towers) reuse the cached transform.
    key_source = {
        "version": CACHE_VERSION,
        "transform_code": _code_hash(transform_code),
        "column_types": column_types,
        "data": print_fp,
        "split": {k: split_info[k] for k in ("kind", "eval_fraction", "seed")}
        | ({"column": spec["column"]} if "column" in spec else {})
        | ({"max_eval_rows": max_eval} if max_eval is not None else {}),
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
    # Kept after the run (also on a cache hit): the recommendation preview reads a buyer's
    # history, eval rows and the products from them (runner/preview.py).
    split_dir = run_dir / SPLITS_DIR
    split_dir.mkdir(exist_ok=True)
    for name, part in (("train", train), ("eval", evaluation), ("candidates", candidates)):
        path = split_dir / f"{name}.parquet"
        part.reset_index(drop=True).to_parquet(path, index=False)
        if not cached:  # on a hit the worker reuses the transformed splits
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
