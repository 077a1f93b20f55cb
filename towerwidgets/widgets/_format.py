"""Small, deterministic text formatters shared by the widgets. Parameter counts and
durations have one formatter each, in codegen.params and runner.estimates (the CLI uses them
too); they are re-exported here."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from towerwidgets.codegen.params import format_params
from towerwidgets.runner.estimates import format_duration

__all__ = [
    "format_duration",
    "format_number",
    "format_params",
    "format_percent",
    "iso",
    "relative_time",
    "short_ago",
]


def format_number(value: Any) -> str:
    """0.1 -> '0.1', 4096 -> '4096', 1e-05 -> '1e-05' (like Python's ``:g``)."""
    if value is None:
        return "—"
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return f"{value:g}" if isinstance(value, float) else str(value)


def relative_time(when: datetime | str | None, now: datetime | None = None) -> str:
    """'just now', '5 minutes ago', '2 hours ago', '1 day ago', '3 weeks ago'."""
    if when is None:
        return "never"
    if isinstance(when, str):
        try:
            when = datetime.fromisoformat(when)
        except ValueError:
            return when
    now = now or datetime.now(timezone.utc)
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    if now.tzinfo is None:
        now = now.replace(tzinfo=timezone.utc)
    seconds = max(0, int((now - when).total_seconds()))
    for unit, size in (
        ("year", 365 * 86400),
        ("week", 7 * 86400),
        ("day", 86400),
        ("hour", 3600),
        ("minute", 60),
    ):
        if seconds >= size:
            count = seconds // size
            return f"{count} {unit}{'' if count == 1 else 's'} ago"
    return "just now"


def short_ago(text: str) -> str:
    """'2 hours ago' -> '2h ago' (the quick-test list's compact form)."""
    parts = text.split()
    if len(parts) == 3 and parts[2] == "ago" and parts[0].isdigit():
        return f"{parts[0]}{parts[1][0]} ago"
    return text


def format_percent(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


def iso(when: datetime | None) -> str | None:
    return when.isoformat() if when is not None else None
