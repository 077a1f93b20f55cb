"""Keep ``.towerwidgets/`` from growing without bound: old run folders, the transform cache.

Each quick test leaves a run folder (generated modules, worker log, exported model) under
``<home>/runs/`` and may add a transformed copy of the data under ``<home>/cache/transform/``.
Standard library only.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path

__all__ = ["clear_transform_cache", "disk_usage", "prune_runs"]


def _home(home: str | Path | None) -> Path:
    from towerwidgets.runner.api import towerwidgets_home

    return Path(home).resolve() if home else towerwidgets_home()


def _size(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def disk_usage(home: str | Path | None = None) -> dict[str, int]:
    """Bytes used by run folders and by the transform cache."""
    root = _home(home)
    return {
        name: _size(root / sub) if (root / sub).is_dir() else 0
        for name, sub in (("runs", "runs"), ("transform_cache", "cache/transform"))
    }


def prune_runs(keep_last: int = 20, home: str | Path | None = None) -> list[Path]:
    """Delete all but the ``keep_last`` newest run folders (their exported models too);
    returns the deleted folders. Records in the store keep their metrics and code."""
    runs = _home(home) / "runs"
    if not runs.is_dir():
        return []
    folders = sorted(
        (p for p in runs.iterdir() if p.is_dir()), key=lambda p: p.stat().st_mtime, reverse=True
    )
    removed = folders[max(keep_last, 0) :]
    for folder in removed:
        shutil.rmtree(folder, ignore_errors=True)
    return removed


def clear_transform_cache(
    older_than_days: float | None = None, home: str | Path | None = None
) -> list[Path]:
    """Delete cached transform outputs (all, or those unused for ``older_than_days``)."""
    cache = _home(home) / "cache" / "transform"
    if not cache.is_dir():
        return []
    cutoff = None if older_than_days is None else time.time() - older_than_days * 86_400
    removed = []
    for entry in cache.iterdir():
        marker = entry / "DONE.json"
        last_used = marker.stat().st_mtime if marker.is_file() else entry.stat().st_mtime
        if cutoff is None or last_used < cutoff:
            shutil.rmtree(entry, ignore_errors=True)
            removed.append(entry)
    return removed
