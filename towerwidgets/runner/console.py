"""A live-updating metrics table for quick tests in a terminal (rich), used by the CLI."""

from __future__ import annotations

import sys
import time
from typing import Any

from towerwidgets.runner.baselines import verdicts
from towerwidgets.runner.estimates import format_duration
from towerwidgets.runner.events import QuickTestEvent

_COLUMNS = [
    ("loss", "Loss"),
    ("val_loss", "Val loss"),
    ("recall_at_10", "R@10"),
    ("recall_at_50", "R@50"),
    ("recall_at_100", "R@100"),
    ("rmse", "RMSE"),
    ("mae", "MAE"),
]


def _fmt(name: str, value: Any) -> str:
    if not isinstance(value, int | float):
        return "–"
    if name.startswith("recall"):
        return f"{value:.1%}"
    return f"{value:.4g}"


class LiveMetrics:
    """Feeds on QuickTestEvents and renders stage, progress and one row per epoch."""

    def __init__(self, title: str, model_type: str = "retrieval"):
        self.title = title
        self.model_type = model_type
        self.stage = "validate"
        self.percent = 0
        self.rows: list[dict[str, Any]] = []
        self.batch_note = ""
        self.notes: list[str] = []
        self.started = time.time()

    def columns(self) -> list[tuple[str, str]]:
        keep = {"loss", "val_loss"}
        if self.model_type in ("retrieval", "multitask"):
            keep |= {"recall_at_10", "recall_at_50", "recall_at_100"}
        if self.model_type in ("ranking", "multitask"):
            keep |= {"rmse", "mae"}
        return [c for c in _COLUMNS if c[0] in keep]

    def update(self, event: QuickTestEvent) -> None:
        if event.progress_percent is not None:
            self.percent = max(self.percent, int(event.progress_percent))
        if event.kind == "stage":
            self.stage = event.stage
            self.batch_note = ""
        elif event.kind == "progress" and event.metrics.get("vertex_task"):
            self.batch_note = f"Vertex AI task {event.metrics['vertex_task']}"
        elif event.kind == "progress":
            metrics = event.metrics
            steps = metrics.get("steps")
            loss = metrics.get("loss")
            self.batch_note = (
                f"epoch {event.epoch}, batch {metrics.get('batch')}"
                + (f"/{steps}" if steps else "")
                + (f", loss {loss:.4g}" if isinstance(loss, float) else "")
            )
        elif event.kind == "epoch":
            self.rows.append(dict(event.metrics))
            self.batch_note = ""
        elif event.kind == "warning":
            self.notes.append(event.message)
        elif event.kind == "status":
            self.stage = event.status
            self.batch_note = ""
        elif event.kind == "info" and "transform_cache_hit" in event.metrics:
            if event.metrics["transform_cache_hit"]:
                self.notes.append("Transform output reused from the cache")

    def __rich__(self) -> Any:
        from rich.console import Group
        from rich.table import Table
        from rich.text import Text

        width = 30
        filled = int(width * self.percent / 100)
        bar = "█" * filled + "░" * (width - filled)
        elapsed = format_duration(time.time() - self.started)
        header = Text.assemble(
            (f"{self.title}\n", "bold"),
            (f"{bar} {self.percent:>3}%  ", "cyan"),
            (f"{self.stage}", "bold cyan"),
            (f"  {self.batch_note}" if self.batch_note else "", "dim"),
            (f"  ({elapsed})", "dim"),
        )
        table = Table(show_edge=True, header_style="bold")
        table.add_column("Epoch", justify="right")
        for _, label in self.columns():
            table.add_column(label, justify="right")
        for row in self.rows:
            table.add_row(
                str(row.get("epoch", "")), *[_fmt(k, row.get(k)) for k, _ in self.columns()]
            )
        return Group(header, table)


def print_summary(record: Any, console: Any) -> None:
    """The final summary of a finished quick test."""
    from rich.panel import Panel
    from rich.text import Text

    lines = Text()
    status_style = {"completed": "bold green", "failed": "bold red"}.get(record.status, "yellow")
    lines.append(f"Quick test #{record.id}: ", "bold")
    lines.append(f"{record.status}\n", status_style)
    if record.status == "failed":
        lines.append(f"Failed during {record.error_stage!r}: {record.error_message}\n", "red")
    metrics = [
        ("Loss", record.loss, "{:.4g}"),
        ("Recall@10", record.recall_at_10, "{:.1%}"),
        ("Recall@50", record.recall_at_50, "{:.1%}"),
        ("Recall@100", record.recall_at_100, "{:.1%}"),
        ("RMSE", record.rmse, "{:.4f}"),
        ("MAE", record.mae, "{:.4f}"),
    ]
    shown = [f"{name}: {fmt.format(value)}" for name, value, fmt in metrics if value is not None]
    if shown:
        lines.append(" • ".join(shown) + "\n")
    estimate = record.estimated_duration_seconds
    lines.append(
        f"Duration: {format_duration(record.duration_seconds)}"
        + (f" (estimated {format_duration(estimate, approx=True)})" if estimate else "")
        + f" • Cost: ${record.cost_usd or 0:.2f} ({record.backend})\n"
    )
    if getattr(record, "vertex_console_url", ""):
        lines.append(f"Vertex AI: {record.vertex_console_url}\n")
    split = record.split or {}
    if split.get("kind") == "pipeline":
        lines.append(f"Data: {split.get('source')} (read and split by the pipeline)\n")
    elif split:
        lines.append(
            f"Data: {split.get('train_rows')} train / {split.get('eval_rows')} eval rows, "
            f"{split.get('candidates')} candidates ({split.get('kind')} split, seed {record.seed})\n"
        )
    if record.export_path:
        lines.append(f"Exported model: {record.export_path}\n")
    baselines = split.get("baselines") or {}
    if baselines:
        lines.append(
            "Baselines (same split): "
            + " • ".join(f"{name}: {_fmt(name, value)}" for name, value in baselines.items())
            + "\n"
        )
    final = {name: getattr(record, name, None) for name in baselines}
    for note in verdicts(final, baselines):
        lines.append(f"⚠ {note}\n", "yellow")
    for warning in record.warnings:
        lines.append(f"⚠ {warning}\n", "yellow")
    lines.rstrip()
    console.print(Panel(lines, title=record.title(), expand=False))


def run_with_live_table(handle: Any, title: str, model_type: str) -> Any:
    """Follow a handle's events in a live table; Ctrl-C cancels the test."""
    from rich.console import Console
    from rich.live import Live

    console = Console()
    view = LiveMetrics(title, model_type)
    live_ok = console.is_terminal
    try:
        if live_ok:
            with Live(view, console=console, refresh_per_second=4, transient=False):
                for event in handle.events():
                    view.update(event)
        else:  # piped output: one line per stage and epoch
            for event in handle.events():
                view.update(event)
                if event.kind in ("stage", "epoch", "warning"):
                    print(event, flush=True)
            console.print(view)
    except KeyboardInterrupt:
        console.print("[yellow]Cancelling…[/yellow]")
        handle.cancel()
    record = handle.wait()
    print_summary(record, console)
    sys.stdout.flush()
    return record
