"""Exact parameter counts of the generated model, without building it.

Mirrors the generated Trainer module layer by layer: embedding tables
((vocabulary + OOV buckets) × dim, buckets × dim, hash buckets × dim), the dense towers
(weights + biases), batch norm (gamma and beta trainable; moving mean and variance not),
the rating head for ranking/multitask, and a product tower that reuses the buyer tower's
dense layers when ``share_tower_weights`` is on.
"""

from __future__ import annotations

from typing import Any

from towerwidgets.codegen.plan import NUM_OOV_BUCKETS, Plan, build_plan
from towerwidgets.config.layers import stack_params


def _vocabulary_size(plan_feature: Any, vocabulary_sizes: dict[str, int]) -> int | None:
    """Vocabulary size by vocabulary name (the transformed key) or by raw column name."""
    for name in (plan_feature.key, plan_feature.column):
        if name in vocabulary_sizes:
            return int(vocabulary_sizes[name])
    return None


def _layers_params(layers: list[Any], input_dim: int) -> tuple[int, int, int]:
    """(trainable, non_trainable, output_dim) of a stack of dense/dropout/batch_norm layers."""
    stack = stack_params(layers, input_dim)
    return stack.trainable, stack.frozen, stack.width


def param_breakdown(
    feature_config: Any,
    vocabulary_sizes: dict[str, int],
    model_config: Any,
    plan: Plan | None = None,
) -> dict[str, Any]:
    """Per-part counts: ``buyer``/``product`` towers (embeddings by feature key, dense),
    ``rating_head``, and totals ``trainable``, ``non_trainable``, ``total``.

    ``vocabulary_sizes`` maps a raw column (or a vocabulary name) to its number of distinct
    values, as tensorflow-transform counts them (OOV buckets are added here). Columns
    missing from it are listed in ``missing_vocabularies`` and counted as 0.
    """
    plan = plan or build_plan(feature_config)
    missing: list[str] = []
    result: dict[str, Any] = {}
    outputs: dict[str, int] = {}
    trainable = non_trainable = 0
    for tower in ("buyer", "product"):
        embeddings: dict[str, int] = {}
        for f in plan.tower(tower):
            if f.kind == "embedding":
                size = _vocabulary_size(f, vocabulary_sizes)
                if size is None:
                    missing.append(f.column)
                    size = 0
                    embeddings[f.key] = 0
                    continue
                embeddings[f.key] = (size + NUM_OOV_BUCKETS) * f.embedding_dim
            elif f.kind in ("bucketize", "cross"):
                embeddings[f.key] = f.num_buckets * f.embedding_dim
        layers = (
            model_config.buyer_tower_layers
            if tower == "buyer"
            else model_config.product_tower_layers
        )
        dense, frozen, width = _layers_params(list(layers), plan.tensor_dim(tower))
        outputs[tower] = width
        if tower == "product" and model_config.share_tower_weights:
            dense = frozen = 0  # the buyer tower's dense layers, counted once
        tower_trainable = sum(embeddings.values()) + dense
        result[tower] = {
            "embeddings": embeddings,
            "dense": dense,
            "trainable": tower_trainable,
            "non_trainable": frozen,
        }
        trainable += tower_trainable
        non_trainable += frozen
    head_trainable = head_frozen = 0
    if model_config.model_type in ("ranking", "multitask"):
        head_trainable, head_frozen, _ = _layers_params(
            list(model_config.rating_head_layers), outputs["buyer"] + outputs["product"]
        )
    result["rating_head"] = {"trainable": head_trainable, "non_trainable": head_frozen}
    trainable += head_trainable
    non_trainable += head_frozen
    result.update(
        trainable=trainable,
        non_trainable=non_trainable,
        total=trainable + non_trainable,
        missing_vocabularies=list(dict.fromkeys(missing)),
    )
    return result


def estimate_params_detailed(
    feature_config: Any, vocabulary_sizes: dict[str, int], model_config: Any
) -> int:
    """Exact trainable parameters of the generated model, embeddings included.

    Equals the sum of the built Keras model's ``trainable_weights`` sizes; with no
    BatchNormalization layer it also equals ``count_params()`` (batch norm's moving
    statistics are weights but not trainable: see ``param_breakdown``).
    """
    return int(param_breakdown(feature_config, vocabulary_sizes, model_config)["trainable"])


# Before a feature config is chosen, each tower's input width is unknown: assume this many
# features per tower (the same for both, so identical towers show identical counts).
ASSUMED_INPUT_DIM = 64


def format_params(n: int | None) -> str:
    """'~950', '~12K', '~1.2M': a rounded parameter count (the one formatter)."""
    if n is None:
        return "—"
    n = int(n)
    if n < 1000:
        return f"~{n}"
    if n < 1_000_000:
        return f"~{round(n / 1000)}K"
    return f"~{n / 1_000_000:.1f}M"


def params_text(n: int, exact: bool) -> str:
    """'375,457' once every figure is known, '≈44K' while something is assumed."""
    return f"{n:,}" if exact else "≈" + format_params(n).removeprefix("~")


def vocabulary_sizes(feature_config: Any, data: Any) -> dict[str, int]:
    """Distinct values of each vocabulary column in ``data`` (pandas), as tft counts them."""
    sizes: dict[str, int] = {}
    if feature_config is None or data is None:
        return sizes
    plan = build_plan(feature_config)
    for tower in ("buyer", "product"):
        for f in plan.tower(tower):
            if f.kind == "embedding" and f.column in getattr(data, "columns", ()):
                sizes[f.column] = int(data[f.column].astype("string").nunique(dropna=True))
    return sizes


def count_params(
    model_config: Any,
    feature_config: Any = None,
    vocabulary_sizes: dict[str, int] | None = None,
    vocabularies_from: str = "",
) -> dict[str, Any]:
    """The one parameter count every screen shows: per tower and in total, embeddings
    included, equal to Keras ``count_params()`` of the generated model once the feature
    config and its vocabularies are known; otherwise ``exact`` is False and ``assumption``
    says what was assumed (shown next to the "≈" figure).

    Returns ``{"buyer": {...}, "product": {...}, "rating_head": {...}, "total", "exact",
    "assumption", "text"}``; each part has ``params``, ``dense``, ``embeddings``, ``text``.
    ``vocabularies_from`` names where sizes that are not the transform's own came from
    ("the whole data"): the figure is then "≈" too (the transform counts its training split).
    """
    parts: dict[str, dict[str, Any]] = {}
    if feature_config is None:
        out = {}
        for tower in ("buyer", "product"):
            layers = getattr(model_config, f"{tower}_tower_layers")
            stack = stack_params(list(layers), ASSUMED_INPUT_DIM)
            out[tower] = stack.width
            shared = tower == "product" and model_config.share_tower_weights
            n = 0 if shared else stack.total
            parts[tower] = {"params": n, "dense": n, "embeddings": 0}
        head = 0
        if model_config.model_type in ("ranking", "multitask"):
            head = stack_params(
                list(model_config.rating_head_layers), out["buyer"] + out["product"]
            ).total
        parts["rating_head"] = {"params": head, "dense": head, "embeddings": 0}
        exact = False
        assumption = (
            f"assumes {ASSUMED_INPUT_DIM} input features per tower and no embedding tables "
            "(choose a feature config for the real figure)"
        )
    else:
        detail = param_breakdown(feature_config, dict(vocabulary_sizes or {}), model_config)
        for tower in ("buyer", "product"):
            d = detail[tower]
            embeddings = sum(d["embeddings"].values())
            parts[tower] = {
                "params": d["trainable"] + d["non_trainable"],
                "dense": d["trainable"] + d["non_trainable"] - embeddings,
                "embeddings": embeddings,
            }
        head = detail["rating_head"]["trainable"] + detail["rating_head"]["non_trainable"]
        parts["rating_head"] = {"params": head, "dense": head, "embeddings": 0}
        missing = detail["missing_vocabularies"]
        exact = not missing and not vocabularies_from
        if missing:
            assumption = (
                "embedding tables of "
                + ", ".join(missing)
                + " not counted: their vocabularies are known once data is loaded"
            )
        elif vocabularies_from:
            assumption = (
                f"vocabularies counted on {vocabularies_from}; "
                "the quick test's transform counts its training split"
            )
        else:
            assumption = ""
    total = sum(part["params"] for part in parts.values())
    for part in parts.values():
        part["text"] = params_text(part["params"], exact)
    return {
        **parts,
        "total": total,
        "exact": exact,
        "assumption": assumption,
        "text": params_text(total, exact),
    }


def summary_rows(
    model_config: Any, feature_config: Any = None, vocabulary_sizes: dict[str, int] | None = None
) -> list[dict[str, Any]]:
    """A ``model.summary()``-style table of the generated model: one row per layer with
    its output shape and parameters (``None`` where a vocabulary is not known yet), part
    by part (buyer tower, product tower, rating head). Sums to ``count_params``."""
    sizes = dict(vocabulary_sizes or {})
    rows: list[dict[str, Any]] = []

    def row(part: str, layer: str, width: int | None, params: int | None) -> None:
        shape = f"(None, {width})" if width is not None else "(None, ?)"
        rows.append({"part": part, "layer": layer, "shape": shape, "params": params})

    def stack(part: str, layers: Any, width: int, shared: bool = False) -> int:
        for layer in layers:
            one = stack_params([layer], width)
            width = one.width
            if layer.type == "dense":
                name = f"Dense({layer.units})"
            elif layer.type == "dropout":
                name = f"Dropout({layer.rate:g})"
            else:
                name = "BatchNormalization"
            row(part, name + (" (shared)" if shared else ""), width, 0 if shared else one.total)
        return width

    plan = build_plan(feature_config) if feature_config is not None else None
    outputs = {}
    for tower in ("buyer", "product"):
        part = f"{tower.capitalize()} tower"
        if plan is None:
            width = ASSUMED_INPUT_DIM
            row(part, f"features (assumed {width})", width, 0)
        else:
            for f in plan.tower(tower):
                if f.kind == "embedding":
                    size = _vocabulary_size(f, sizes)
                    params = None if size is None else (size + NUM_OOV_BUCKETS) * f.embedding_dim
                    row(part, f"Embedding {f.key}", f.embedding_dim, params)
                elif f.kind in ("bucketize", "cross"):
                    row(
                        part, f"Embedding {f.key}", f.embedding_dim, f.num_buckets * f.embedding_dim
                    )
            width = plan.tensor_dim(tower)
            row(part, "Concatenate features", width, 0)
        layers = getattr(model_config, f"{tower}_tower_layers")
        shared = tower == "product" and model_config.share_tower_weights
        outputs[tower] = stack(part, layers, width, shared)
    if model_config.model_type in ("ranking", "multitask"):
        width = outputs["buyer"] + outputs["product"]
        row("Rating head", "Concatenate embeddings", width, 0)
        stack("Rating head", model_config.rating_head_layers, width)
    return rows
