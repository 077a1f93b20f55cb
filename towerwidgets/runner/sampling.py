"""``sample=``: a quick test on part of a big data set, drawn by buyer.

Whole buyers are kept or dropped, so every kept buyer's history stays complete (a
per-row sample would thin every history and make retrieval look worse than it is).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from towerwidgets.runner.prepare import QuickTestInputError

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["sample_by_buyer"]


def sample_by_buyer(
    df: pd.DataFrame, buyer_column: str, sample: float | int, seed: int
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Keep a seeded random set of buyers with their whole histories.

    ``sample`` in (0, 1): that fraction of the buyers; an integer ≥ 1: random buyers until
    at least that many rows. Returns the rows (original order) and what was done, for the
    record (``split["sample"]``).
    """
    import numpy as np

    if isinstance(sample, bool) or not isinstance(sample, int | float) or sample <= 0:
        raise QuickTestInputError(
            f"sample must be a fraction of the buyers in (0, 1) or a number of rows, not {sample!r}",
            stage="prepare data",
        )
    codes, buyers = df[buyer_column].factorize()
    counts = np.bincount(codes[codes >= 0], minlength=len(buyers))
    order = np.random.default_rng(seed).permutation(len(buyers))
    if isinstance(sample, float) and sample < 1:
        keep_n = max(1, round(sample * len(buyers)))
        asked = f"{sample:.0%} of buyers"
    else:
        keep_n = int(np.searchsorted(np.cumsum(counts[order]), int(sample))) + 1
        asked = f"≥ {int(sample):,} rows"
    keep_n = min(keep_n, len(buyers))
    keep = np.zeros(len(buyers), dtype=bool)
    keep[order[:keep_n]] = True
    mask = keep[codes] & (codes >= 0)
    out = df[mask] if keep_n < len(buyers) else df
    info = {
        "by": buyer_column,
        "asked": sample,
        "buyers": int(keep_n),
        "of_buyers": len(buyers),
        "rows": len(out),
        "of_rows": len(df),
        "seed": seed,
        "description": (
            f"{keep_n:,} of {len(buyers):,} buyers ({asked}), whole histories: "
            f"{len(out):,} of {len(df):,} rows"
        ),
    }
    return out, info
