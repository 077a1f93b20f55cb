"""Duration and cost estimates for a quick test, shown before it starts.

Light on purpose: the widgets import this module on every config change, so it uses only
the standard library and the config package's layer arithmetic (``stack_params``), and reads
the configs by attribute (pydantic models) or key (dicts).
It never imports TensorFlow, pandas or the store.

The local model is calibrated on this project's benchmark machine (2 cores, see
BENCHMARKS.md); Vertex AI figures come from the price table below (public list prices,
us-central1, on-demand) plus a fixed pipeline start-up overhead.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from towerwidgets.config.layers import stack_params

__all__ = [
    "MACHINE_PRICES",
    "MACHINE_SPECS",
    "VERTEX_PIPELINE_FEE_USD",
    "Estimate",
    "estimate_quick_test",
    "format_duration",
    "machine_spec",
]

# USD per hour, Vertex AI custom training, us-central1 list prices (CPU machine types),
# with a relative speed factor against the local reference machine (2 cores).
MACHINE_PRICES: dict[str, dict[str, float]] = {
    "local": {"usd_per_hour": 0.0, "speed": 1.0, "overhead_s": 0.0},
    "n1-standard-4": {"usd_per_hour": 0.2185, "speed": 1.6, "overhead_s": 420.0},
    "n1-standard-8": {"usd_per_hour": 0.4370, "speed": 2.6, "overhead_s": 420.0},
    "n1-standard-16": {"usd_per_hour": 0.8741, "speed": 3.8, "overhead_s": 420.0},
    "n1-highmem-8": {"usd_per_hour": 0.5442, "speed": 2.6, "overhead_s": 420.0},
    "e2-standard-8": {"usd_per_hour": 0.3097, "speed": 2.4, "overhead_s": 420.0},
    "n1-standard-8+t4": {"usd_per_hour": 0.8395, "speed": 5.0, "overhead_s": 480.0},
}

# What each priced machine is when submitted: the Vertex AI Training machine type and
# accelerator. The estimate and the submission read the same key, so a run costs what the
# panel said it would.
MACHINE_SPECS: dict[str, dict[str, str | int]] = {
    "n1-standard-4": {"machine_type": "n1-standard-4"},
    "n1-standard-8": {"machine_type": "n1-standard-8"},
    "n1-standard-16": {"machine_type": "n1-standard-16"},
    "n1-highmem-8": {"machine_type": "n1-highmem-8"},
    "e2-standard-8": {"machine_type": "e2-standard-8"},
    "n1-standard-8+t4": {
        "machine_type": "n1-standard-8",
        "accelerator_type": "NVIDIA_TESLA_T4",
        "accelerator_count": 1,
    },
}


def machine_spec(machine: str) -> dict[str, str | int]:
    """``machine_type``, ``accelerator_type`` and ``accelerator_count`` of a priced Vertex AI
    machine; a ValueError naming the choices for any other name."""
    if machine not in MACHINE_SPECS:
        known = ", ".join(sorted(MACHINE_SPECS))
        raise ValueError(f"Unknown Vertex AI machine type {machine!r}; choose one of: {known}")
    return {"accelerator_type": "", "accelerator_count": 0, **MACHINE_SPECS[machine]}


# Transform and StatisticsGen on Dataflow (beam_pipeline_args --runner=DataflowRunner):
# job start-up, n1-standard-4 workers (vCPU + memory list price, us-central1), each about
# twice the local reference machine, autoscaling to one worker per 5M rows, at most 20.
DATAFLOW_STARTUP_S = 240.0
DATAFLOW_WORKER_USD_PER_HOUR = 0.2747
DATAFLOW_WORKER_SPEED = 2.0
DATAFLOW_ROWS_PER_WORKER = 5_000_000
DATAFLOW_MAX_WORKERS = 20

# Vertex AI Pipelines charges a flat fee per pipeline run.
VERTEX_PIPELINE_FEE_USD = 0.03

# Local cost model (seconds), calibrated on the 2-core benchmark machine (BENCHMARKS.md:
# MovieLens 100k, batch 4096, 3 epochs).
_WORKER_START_S = 5.0  # interpreter + TensorFlow/TFRS/tft import (0 with a warm worker)
_TRANSFORM_FIXED_S = 5.0  # Beam DirectRunner pipeline set-up, TFT analyzers, graph export
_TRANSFORM_PER_ROW_FEATURE_S = 1.5e-5
_TRAIN_PER_EXAMPLE_S = 4.0e-6  # embedding lookups, input pipeline
_TRAIN_PER_EXAMPLE_PARAM_S = 4.0e-10  # forward+backward per example per dense parameter
_TRAIN_PER_LOGIT_DIM_S = 3.3e-10  # retrieval: in-batch softmax, batch_size x dim per example
_TRAIN_FIRST_EPOCH_S = 1.0  # tracing the train step (once: variables exist before fit)
_EVAL_PER_SCORE_DIM_S = 1.5e-10  # brute-force scores: eval rows x candidates x dim
_EXPORT_S = 0.5  # signatures traced once, no per-layer Keras traces
_DEFAULT_ROWS = 100_000


@dataclass(frozen=True)
class Estimate:
    """A duration and cost estimate, with the one-line text the UI shows."""

    seconds: float
    cost_usd: float
    text: str
    machine: str = "local"
    breakdown: dict[str, float] = field(default_factory=dict)
    # What the figure counts, in words (for a Vertex AI machine: start-up, Transform,
    # training, the price per hour and the region it is the list price of).
    explanation: str = ""


def _get(obj: Any, name: str, default: Any = None) -> Any:
    if obj is None:
        return default
    if isinstance(obj, dict):
        return obj.get(name, default)
    return getattr(obj, name, default)


def _dense_params(layers: Any, input_dim: int) -> tuple[int, int]:
    stack = stack_params(layers, input_dim)
    return stack.trainable, stack.width


def _feature_count(feature_config: Any) -> int:
    count = 0
    for side in ("buyer_features", "product_features", "crosses", "cross_features"):
        value = _get(feature_config, side)
        if isinstance(value, list | tuple):
            count += len(value)
    return max(count, 2)


def _tensor_dims(feature_config: Any) -> tuple[int, int]:
    dims = []
    for name, default in (("buyer_tensor_dim", 64), ("product_tensor_dim", 64)):
        try:
            value = _get(feature_config, name)
            value = value() if callable(value) else value
            dims.append(int(value) if value else default)
        except Exception:
            dims.append(default)
    return dims[0], dims[1]


def format_duration(seconds: float | None, approx: bool = False) -> str:
    """The one duration format. Measured: '45s', '8m 23s', '1h 02m'. An estimate
    (``approx=True``) is rounded to what it can promise: '~35s', '~8m', '~1h 20m'."""
    if seconds is None:
        return "—"
    seconds = max(0.0, float(seconds))
    if approx:
        if seconds < 90:
            return f"~{max(1, round(seconds / 5) * 5 if seconds > 10 else round(seconds))}s"
        minutes = round(seconds / 60)
        if minutes < 90:
            return f"~{minutes}m"
        hours, rest = divmod(minutes, 60)
        return f"~{hours}h {rest:02d}m"
    whole = round(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h {minutes:02d}m"
    if minutes:
        return f"{minutes}m {secs}s"
    return f"{secs}s"


def estimate_quick_test(
    feature_config: Any,
    model_config: Any,
    n_rows: int | None = None,
    epochs: int | None = None,
    batch_size: int | None = None,
    machine: str = "local",
    transform_cached: bool = False,
    n_candidates: int | None = None,
    dataflow: bool = False,
) -> Estimate:
    """Estimate how long a quick test takes and what it costs on ``machine``.

    ``n_rows`` is the number of interaction rows (default 100,000 when unknown);
    ``epochs``/``batch_size`` default to the ModelConfig's values. ``machine`` is
    ``"local"`` (cost 0) or a key of :data:`MACHINE_PRICES` (Vertex AI).
    ``n_candidates`` (distinct products) defaults to a tenth of the rows. ``dataflow``
    (Vertex AI only) prices the Transform on Dataflow workers instead of inside the
    pipeline's own container.
    """
    if machine not in MACHINE_PRICES:
        known = ", ".join(sorted(MACHINE_PRICES))
        raise ValueError(f"Unknown machine type {machine!r}; choose one of: {known}")
    price = MACHINE_PRICES[machine]
    rows = int(n_rows) if n_rows else _DEFAULT_ROWS
    epochs = int(epochs or _get(model_config, "epochs", 5) or 5)
    batch_size = int(batch_size or _get(model_config, "batch_size", 4096) or 4096)
    buyer_dim, product_dim = _tensor_dims(feature_config)

    params = 0
    p, buyer_out = _dense_params(_get(model_config, "buyer_tower_layers"), buyer_dim)
    params += p
    if not _get(model_config, "share_tower_weights", False):
        p, _ = _dense_params(_get(model_config, "product_tower_layers"), product_dim)
        params += p
    model_type = _get(model_config, "model_type", "retrieval") or "retrieval"
    if model_type in ("ranking", "multitask"):
        emb = int(_get(model_config, "output_embedding_dim", buyer_out) or buyer_out or 32)
        p, _ = _dense_params(_get(model_config, "rating_head_layers"), 2 * emb)
        params += p

    train_rows = 0.8 * rows
    eval_rows = rows - train_rows
    candidates = int(n_candidates) if n_candidates else max(1, min(rows // 10, 50_000))
    dim = int(_get(model_config, "output_embedding_dim", 32) or 32)
    retrieval = model_type in ("retrieval", "multitask")
    per_example = _TRAIN_PER_EXAMPLE_S + params * _TRAIN_PER_EXAMPLE_PARAM_S
    if retrieval:
        per_example += batch_size * dim * _TRAIN_PER_LOGIT_DIM_S
    train_s = train_rows * epochs * per_example + _TRAIN_FIRST_EPOCH_S
    n_features = _feature_count(feature_config)
    transform_s = (
        0.0
        if transform_cached
        else _TRANSFORM_FIXED_S + rows * n_features * _TRANSFORM_PER_ROW_FEATURE_S
    )
    eval_s = epochs * 0.3 * eval_rows * per_example  # validation loss
    if retrieval:
        eval_s += epochs * eval_rows * candidates * dim * _EVAL_PER_SCORE_DIM_S
    dataflow = dataflow and machine != "local"
    workers = 0
    if dataflow and not transform_cached:
        workers = min(DATAFLOW_MAX_WORKERS, max(1, math.ceil(rows / DATAFLOW_ROWS_PER_WORKER)))
        # reported on the machine's clock below, so scale back up by its speed
        transform_s = (
            DATAFLOW_STARTUP_S + transform_s / (workers * DATAFLOW_WORKER_SPEED)
        ) * price["speed"]
    breakdown = {
        "start": _WORKER_START_S,
        "transform": transform_s,
        "train": train_s,
        "evaluate": eval_s,
        "export": _EXPORT_S,
    }
    compute_s = sum(breakdown.values()) / price["speed"]
    seconds = compute_s + price["overhead_s"]
    breakdown = {k: round(v / price["speed"], 2) for k, v in breakdown.items()}
    breakdown["overhead"] = price["overhead_s"]

    explanation = ""
    if machine == "local":
        cost = 0.0
        text = f"Estimated duration: {format_duration(seconds, approx=True)} (local, no cost)"
    else:
        cost = price["usd_per_hour"] * seconds / 3600 + VERTEX_PIPELINE_FEE_USD
        if workers:
            cost += workers * DATAFLOW_WORKER_USD_PER_HOUR * breakdown["transform"] / 3600
        cost = math.ceil(cost * 100) / 100
        text = (
            f"Estimated duration: {format_duration(seconds, approx=True)} • "
            f"Estimated cost: ~${cost:.2f} ({machine})"
        )
        explanation = (
            f"Counts pipeline start-up ({format_duration(price['overhead_s'], approx=True)}: queueing, "
            "container pulls, ExampleGen/StatisticsGen/SchemaGen), Transform "
            f"({format_duration(breakdown['transform'], approx=True)}, "
            + (
                f"Dataflow: {workers} n1-standard-4 worker{'s' if workers > 1 else ''} at "
                f"${DATAFLOW_WORKER_USD_PER_HOUR:.4f}/h each, with its own start-up"
                if workers
                else "Beam DirectRunner inside the pipeline's container"
            )
            + "), training and evaluation "
            f"({format_duration(breakdown['train'] + breakdown['evaluate'], approx=True)}) on {machine} at "
            f"${price['usd_per_hour']:.4f}/h (us-central1 list price; other regions differ), "
            f"plus ${VERTEX_PIPELINE_FEE_USD:.2f} per pipeline run. Storage and network are "
            "not counted."
        )
    return Estimate(
        seconds=round(seconds, 1),
        cost_usd=cost,
        text=text,
        machine=machine,
        breakdown=breakdown,
        explanation=explanation,
    )
