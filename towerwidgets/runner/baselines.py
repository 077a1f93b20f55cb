"""Trivial baselines on a quick test's own split, so every metric has something to beat.

- **Most popular** for Recall@K: every buyer gets the same list, the products ranked by how
  often they occur in the training split. Scored with the trained model's rule (the
  runtime contract's tie-aware recall): a positive's rank is the number of candidates at
  least as popular as it, itself included, and it counts at K only if that rank is <= K.
- **Train mean** for RMSE/MAE: every evaluation rating predicted as the training mean.

Computed in the kernel with pandas from the prepared split (train, eval, candidates), in
a few milliseconds for MovieLens-sized data; recorded in ``QuickTest.split["baselines"]``.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

RECALL_AT = (10, 50, 100)  # the trainer's RECALL_AT
# A metric "beats" its baseline only by more than this (relative), not by noise.
MARGIN = 0.01


def compute_baselines(
    train: pd.DataFrame,
    evaluation: pd.DataFrame,
    candidates: pd.DataFrame,
    product_key: str,
    rating_key: str | None = None,
) -> dict[str, float]:
    """``{"recall_at_10": …, "recall_at_50": …, "recall_at_100": …, "rmse": …, "mae": …}``;
    the rating metrics only when ``rating_key`` is a numeric column with training values."""
    import numpy as np
    import pandas as pd

    out: dict[str, float] = {}
    if len(evaluation) and len(candidates):
        # ids as plain strings: any dtype (categorical, pyarrow, nullable) counts alike
        train_ids = train[product_key].astype(str)
        candidate_ids = candidates[product_key].astype(str)
        eval_ids = evaluation[product_key].astype(str)
        counts = train_ids.value_counts()
        popularity = candidate_ids.map(counts).fillna(0).to_numpy(dtype=float)
        # rank of a product with popularity p: candidates with popularity >= p
        descending = -np.sort(-popularity)
        positive = eval_ids.map(counts).fillna(0).to_numpy(dtype=float)
        known = eval_ids.isin(set(candidate_ids)).to_numpy(dtype=bool)
        # count of candidates with popularity >= p, via a search in the descending array
        ranks = (-descending).searchsorted(-positive, side="right")
        for k in RECALL_AT:
            out[f"recall_at_{k}"] = round(float(((ranks <= k) & known).mean()), 6)
    if rating_key and rating_key in train.columns and rating_key in evaluation.columns:
        ratings = pd.to_numeric(train[rating_key], errors="coerce").astype("float64").to_numpy()
        actual = pd.to_numeric(evaluation[rating_key], errors="coerce").astype("float64").to_numpy()
        ratings, actual = ratings[np.isfinite(ratings)], actual[np.isfinite(actual)]
        if len(ratings) and len(actual):
            error = actual - float(ratings.mean())
            out["rmse"] = round(float(math.sqrt(float((error**2).mean()))), 6)
            out["mae"] = round(float(np.abs(error).mean()), 6)
    return out


def lower_is_better(metric: str) -> bool:
    return metric in ("rmse", "mae") or metric.endswith(("_rmse", "_mae", "loss"))


def beats(metric: str, value: float | None, baseline: float | None) -> bool | None:
    """Does ``value`` beat the baseline by more than the margin? None when unknown."""
    if value is None or baseline is None or not math.isfinite(value):
        return None
    if lower_is_better(metric):
        return value < baseline * (1 - MARGIN)
    return value > baseline * (1 + MARGIN) if baseline > 0 else value > 0


def verdicts(metrics: dict[str, Any], baselines: dict[str, float]) -> list[str]:
    """One sentence per metric that does not beat its baseline ("RMSE 1.0448 is no better
    than predicting the training mean (1.0425)")."""
    lines = []
    for metric, baseline in baselines.items():
        value = metrics.get(metric)
        if beats(metric, value, baseline) is not False:
            continue
        if metric.startswith("recall_at_"):
            k = metric.removeprefix("recall_at_")
            lines.append(
                f"Recall@{k} {value:.1%} does not beat recommending the most popular "
                f"products ({baseline:.1%})"
            )
        else:
            lines.append(
                f"{metric.upper()} {value:.4f} is no better than predicting the training "
                f"mean rating ({baseline:.4f})"
            )
    return lines
