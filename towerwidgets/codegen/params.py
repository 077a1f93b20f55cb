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


def _vocabulary_size(plan_feature: Any, vocabulary_sizes: dict[str, int]) -> int | None:
    """Vocabulary size by vocabulary name (the transformed key) or by raw column name."""
    for name in (plan_feature.key, plan_feature.column):
        if name in vocabulary_sizes:
            return int(vocabulary_sizes[name])
    return None


def _layers_params(layers: list[Any], input_dim: int) -> tuple[int, int, int]:
    """(trainable, non_trainable, output_dim) of a stack of dense/dropout/batch_norm layers."""
    trainable = non_trainable = 0
    width = input_dim
    for layer in layers:
        if layer.type == "dense":
            trainable += width * layer.units + layer.units
            width = layer.units
        elif layer.type == "batch_norm":
            trainable += 2 * width
            non_trainable += 2 * width
    return trainable, non_trainable, width


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
