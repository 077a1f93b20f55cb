"""``sweep``: several quick tests one after another, compared in one table.

Each run is a full quick test (its own record in the store). They run in sequence on one
local backend, so every run after the first takes the worker the previous run finished on
(TensorFlow already imported), and runs that share the FeatureConfig and data reuse the
cached transform: a sweep costs about the training, not the start-up.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

from towerwidgets.config.quick_test import KEY_METRICS

__all__ = ["run_quick_tests", "sweep"]

OVERRIDES = ("epochs", "batch_size", "learning_rate")
RUN_KEYS = frozenset({"model_config", "label", *OVERRIDES})


def _as_run(item: Any, base: Any, index: int) -> dict[str, Any]:
    """One run as {"model_config", "label", overrides...}."""
    from towerwidgets.config import ModelConfig

    if isinstance(item, dict) and (not item or set(item) <= RUN_KEYS):
        run = dict(item)
    elif isinstance(item, str):  # a preset's name, on the base config's task
        model_type = getattr(base, "model_type", None) or "retrieval"
        fields: dict[str, Any] = {"name": item, "model_type": model_type}
        if isinstance(base, ModelConfig):
            fields.update(epochs=base.epochs, batch_size=base.batch_size)
        run = {"model_config": ModelConfig.from_preset(item, **fields), "label": item}
    else:  # a ModelConfig, its dict, or a stored id
        run = {"model_config": item}
    run.setdefault("model_config", base)
    if run["model_config"] is None:
        raise ValueError(f"run {index} names no model_config and sweep() was given none")
    if "label" not in run:
        parts = [f"{k}={run[k]}" for k in OVERRIDES if run.get(k) is not None]
        name = getattr(run["model_config"], "name", None)
        if run["model_config"] is not base or not parts:
            parts.insert(0, str(name) if name else f"run {index + 1}")
        run["label"] = ", ".join(parts)
    return run


def _row(index: int, run: dict[str, Any], handle: Any, seconds: float) -> dict[str, Any]:
    record = handle.record
    last = record.epoch_metrics[-1] if record.epoch_metrics else {}
    row: dict[str, Any] = {
        "run": index + 1,
        "label": run["label"],
        "model_config": record.model_config_snapshot.get("name", ""),
        "model_type": record.model_config_snapshot.get("model_type", ""),
        "status": record.status,
        "epochs": len(record.epoch_metrics),
        "batch_size": record.get_effective_batch_size(),
        "learning_rate": record.get_effective_learning_rate(),
    }
    for name in KEY_METRICS[1:]:
        value = last.get(name)
        if isinstance(value, int | float):
            row[name] = float(value)
    row["duration_seconds"] = round(seconds, 2)
    row["worker_warm"] = handle.facts.get("worker_warm")
    row["transform_cached"] = record.vocabulary_stats.get("transform_cache_hit")
    sampled = record.split.get("sample") if isinstance(record.split, dict) else None
    if sampled:
        row["sample"] = sampled.get("description", "")
    row["test_id"] = record.id
    row["error"] = record.error_message or ""
    return row


def sweep(
    feature_config: Any,
    runs: Sequence[Any],
    data: Any,
    model_config: Any = None,
    rating_column: str | None = None,
    store: Any = None,
    *,
    backend: Any = None,
    on_result: Callable[[dict[str, Any]], None] | None = None,
    **options: Any,
) -> Any:
    """Run quick tests one after another on warm workers; one comparison row per run.

    ``runs`` items are ModelConfigs (or their dicts or stored ids), preset names (on
    ``model_config``'s task), or dicts of overrides ``{"epochs", "batch_size",
    "learning_rate", "label", "model_config"}`` applied to ``model_config``. ``options``
    go to every :func:`start_quick_test` (``seed``, ``split``, ``home``, ...). Returns a
    pandas DataFrame: label, status, final-epoch metrics, wall-clock duration, whether
    the worker was warm and the transform cached. A run that fails is a row with its error;
    Ctrl+C cancels the current run and returns the rows so far. ``on_result(row)`` is
    called after each run (e.g. to show progress).
    """
    import pandas as pd

    from towerwidgets.runner.api import start_quick_test
    from towerwidgets.runner.backends import LocalBackend

    if store is None:
        from towerwidgets.store import Store

        store = Store()
    backend = backend or LocalBackend()
    plan = [_as_run(item, model_config, i) for i, item in enumerate(runs)]
    rows: list[dict[str, Any]] = []
    for index, run in enumerate(plan):
        started = time.time()
        handle = start_quick_test(
            feature_config,
            run["model_config"],
            data,
            rating_column=rating_column,
            epochs=run.get("epochs"),
            batch_size=run.get("batch_size"),
            learning_rate=run.get("learning_rate"),
            store=store,
            backend=backend,
            **options,
        )
        try:
            handle.wait()
        except KeyboardInterrupt:
            handle.cancel()
            rows.append(_row(index, run, handle, time.time() - started))
            break
        rows.append(_row(index, run, handle, time.time() - started))
        if on_result is not None:
            on_result(rows[-1])
    return pd.DataFrame(rows).set_index("run") if rows else pd.DataFrame()


run_quick_tests = sweep
