"""How a quick test grows with the data: 100K and 1M synthetic interactions (10M with --10m).

Each size runs in its own "kernel" process (so its peak RSS is that size's alone): it
generates ``towerwidgets.datasets.sample`` scaled to the size, waits for a warm worker
(the TensorFlow import is a constant, not part of the scaling), and runs one cold quick
test (empty transform cache): Minimal retrieval, ids + category + price, 1 epoch, batch
4096. Reported per size: time per stage (from the record's stage history), peak RSS of
the kernel process and of the worker, the in-memory size of the data, and rows/s.

The kernel's peak is measured twice: over the whole process (the sample generator's
temporaries included) and during the quick test alone (Linux: the peak is reset through
``/proc/self/clear_refs`` once the data exists), against the data's size ("two copies").
The worker's peak is its own ``ru_maxrss``. ``--svg`` draws time and memory against rows
on log-log axes, with a dashed line of slope 1 (linear cost) through the smallest size.

    python benchmarks/scaling.py                       # 100K and 1M, markdown table
    python benchmarks/scaling.py --10m --json out.json
    python benchmarks/scaling.py --from a.json b.json --svg docs/img/scaling.svg
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

STAGES = ("validate", "prepare data", "transform", "train", "evaluate", "export")
COLUMNS = ("validate + prepare", "transform", "train", "evaluate", "export")


def _columns(r: dict) -> dict[str, float | None]:
    """Seconds per table column. Evaluation runs inside the last epoch (the generated
    callback): its time is the epoch's ``eval_seconds``, taken out of "train"."""
    stages = r["stages"]
    trained = stages.get("train", 0.0) + stages.get("evaluate", 0.0)
    evaluated = r.get("eval_seconds")  # None in runs before it was recorded: in "train"
    return {
        "validate + prepare": stages.get("validate", 0.0) + stages.get("prepare data", 0.0),
        "transform": stages.get("transform", 0.0),
        "train": trained - (evaluated or 0.0),
        "evaluate": evaluated,
        "export": stages.get("export", 0.0),
    }


def _load() -> str:
    try:
        return " / ".join(f"{x:.1f}" for x in os.getloadavg())
    except OSError:
        return "?"


def _status_mb(field: str) -> float | None:
    """A VmRSS/VmHWM line of /proc/self/status in MB (None off Linux)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return round(int(line.split()[1]) / 1024, 1)
    except (OSError, ValueError, IndexError):
        pass
    return None


def _reset_peak() -> bool:
    """Reset this process's peak RSS (VmHWM) to its current RSS (Linux ≥ 4.0)."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def _stage_seconds(history: list[dict]) -> dict[str, float]:
    """Seconds spent in each stage: from entering it to entering the next one."""
    out: dict[str, float] = {}
    for here, after in itertools.pairwise(history):
        start = datetime.fromisoformat(here["at"])
        end = datetime.fromisoformat(after["at"])
        out[here["stage"]] = out.get(here["stage"], 0.0) + (end - start).total_seconds()
    return out


def one_size(
    n: int, epochs: int, batch_size: int, sample: str | None, max_eval_rows: int | None = None
) -> dict:
    """The kernel side for one size (runs in a fresh process)."""
    import resource

    from towerwidgets.config import Feature, FeatureConfig, ModelConfig
    from towerwidgets.datasets import sample as make_sample
    from towerwidgets.runner import start_quick_test
    from towerwidgets.runner.backends import LocalBackend
    from towerwidgets.store import Store

    load_before = _load()
    started = time.time()
    data = make_sample(
        n_buyers=max(1000, n // 20),
        n_products=max(1000, n // 100),
        n_interactions=n,
        n_categories=20,
        seed=1,
    )
    generate_seconds = time.time() - started
    data_mb = data.memory_usage(deep=True).sum() / 2**20
    rss_after_data = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    import gc

    gc.collect()
    rss_before_test = _status_mb("VmRSS")
    peak_reset = _reset_peak()
    fc = FeatureConfig(
        name="scaling",
        buyer_id_column="buyer_id",
        product_id_column="product_id",
        buyer_features=[Feature(column="buyer_id", embedding_dim=32)],
        product_features=[
            Feature(column="product_id", embedding_dim=32),
            Feature(column="category", embedding_dim=8),
            Feature(column="price", transform="normalize"),
        ],
    )
    mc = ModelConfig.from_preset(
        "minimal", name="scaling", model_type="retrieval", epochs=epochs, batch_size=batch_size
    )
    with tempfile.TemporaryDirectory(prefix="twscale-") as tmp:
        home = Path(tmp)
        store = Store(home / "bench.db")
        backend = LocalBackend(keep_warm=True, min_available_mb=0)
        backend.prewarm()
        backend.wait_until_warm(300)  # the import is a constant: keep it out of the curve
        backend.keep_warm = False  # no second spare competing for the 2 cores
        options: dict = {"sample": sample} if sample else {}
        if max_eval_rows:
            options["split"] = {"kind": "random", "max_eval_rows": max_eval_rows}
        begin = time.time()
        handle = start_quick_test(fc, mc, data, store=store, home=home, backend=backend, **options)
        record = handle.wait()
        wall = time.time() - begin
        LocalBackend.shutdown()
        store.close()
    if record.status != "completed":
        raise SystemExit(f"{n}: {record.status}: {record.error_stage}: {record.error_message}")
    stages = _stage_seconds(record.stage_history)
    return {
        "interactions": n,
        "buyers": int(data["buyer_id"].nunique()),
        "products": int(data["product_id"].nunique()),
        "sample": (record.split.get("sample") or {}).get("description", "") if sample else "",
        "data_mb": round(data_mb, 1),
        "eval_rows": record.split.get("eval_rows"),
        "max_eval_rows": max_eval_rows,
        "candidates": record.split.get("candidates"),
        "generate_seconds": round(generate_seconds, 2),
        "stages": {k: round(v, 2) for k, v in stages.items()},
        "total_seconds": round(wall, 2),
        "rows_per_second": round(n / wall),
        "worker_warm": handle.facts.get("worker_warm"),
        "worker_peak_rss_mb": handle.facts.get("worker_peak_rss_mb"),
        "kernel_rss_after_data_mb": round(rss_after_data, 1),
        # (after the reset below, ru_maxrss is the peak since the reset, on Linux)
        "kernel_peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "kernel_rss_before_test_mb": rss_before_test,
        "kernel_peak_during_test_mb": _status_mb("VmHWM") if peak_reset else None,
        # the last epoch's split of train + eval (the generated evaluation callback's time)
        "epoch_seconds": (record.epoch_metrics or [{}])[-1].get("epoch_seconds"),
        "eval_seconds": (record.epoch_metrics or [{}])[-1].get("eval_seconds"),
        "worker_facts": {
            k: handle.facts.get(k)
            for k in ("transform_seconds", "train_seconds", "export_seconds", "worker_seconds")
        },
        "recall_at_100": record.recall_at_100,
        "load_before": load_before,
        "load_after": _load(),
    }


def markdown(results: list[dict]) -> str:
    head = (
        "| interactions | buyers / products | data in kernel | "
        + " | ".join(COLUMNS)
        + " | total | rows/s | kernel: RSS before test → peak during test (+ vs data)"
        " | kernel peak with generator | worker peak RSS | load (1/5/15 min) |"
    )
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    for r in results:
        stages = " | ".join(
            "(in train)" if seconds is None else f"{seconds:.1f} s"
            for seconds in _columns(r).values()
        )
        label = f"{r['interactions']:,}" + (f" (sample: {r['sample']})" if r["sample"] else "")
        if r.get("max_eval_rows"):
            label += f" (eval on {r['eval_rows']:,} rows)"
        before, during = r.get("kernel_rss_before_test_mb"), r.get("kernel_peak_during_test_mb")
        kernel = "n/a"
        if before is not None and during is not None:
            grew = during - before
            kernel = f"{before:.0f} → {during:.0f} MB (+{grew:.0f} MB, {grew / r['data_mb']:.1f}×)"
        lines.append(
            f"| {label} | {r['buyers']:,} / {r['products']:,} | {r['data_mb']:.0f} MB | {stages} "
            f"| {r['total_seconds']:.1f} s | {r['rows_per_second']:,} | {kernel} "
            f"| {max(r['kernel_peak_rss_mb'], r['kernel_rss_after_data_mb']):.0f} MB "
            f"| {r['worker_peak_rss_mb'] or 0:.0f} MB "
            f"| {r['load_before']} → {r['load_after']} |"
        )
    return "\n".join(lines)


def _series(results: list[dict]) -> dict[str, list[tuple[float, float]]]:
    """Seconds per stage and in total, against rows."""
    out: dict[str, list[tuple[float, float]]] = {"total": []}
    for r in results:
        n = r["interactions"]
        out["total"].append((n, r["total_seconds"]))
        for column, seconds in _columns(r).items():
            if seconds:
                out.setdefault(column, []).append((n, seconds))
    return out


def _log_panel(
    x0: float,
    title: str,
    unit: str,
    series: dict[str, list[tuple[float, float]]],
    guide: tuple[float, float] | None,
) -> list[str]:
    """One log-log chart (SVG elements) at horizontal offset x0."""
    import math
    from html import escape

    w, h, left, top, bottom = 360, 260, 58, 34, 40
    points = [p for values in series.values() for p in values]
    xs = [p[0] for p in points]
    ys = [p[1] for p in points]
    lx0, lx1 = math.floor(math.log10(min(xs))), math.ceil(math.log10(max(xs)))
    ly0, ly1 = math.floor(math.log10(min(ys))), math.ceil(math.log10(max(ys)))
    lx1, ly1 = max(lx1, lx0 + 1), max(ly1, ly0 + 1)

    def px(x: float) -> float:
        return x0 + left + (math.log10(x) - lx0) / (lx1 - lx0) * (w - left - 10)

    def py(y: float) -> float:
        return top + (ly1 - math.log10(y)) / (ly1 - ly0) * (h - top - bottom)

    out = [
        f'<text x="{x0 + left}" y="18" class="title">{title}</text>',
        f'<rect x="{x0 + left}" y="{top}" width="{w - left - 10}" height="{h - top - bottom}" '
        'class="frame"/>',
    ]
    for e in range(lx0, lx1 + 1):
        x = px(10**e)
        label = {3: "1K", 4: "10K", 5: "100K", 6: "1M", 7: "10M", 8: "100M"}.get(e, f"1e{e}")
        out.append(f'<line x1="{x:.1f}" y1="{top}" x2="{x:.1f}" y2="{h - bottom}" class="grid"/>')
        out.append(
            f'<text x="{x:.1f}" y="{h - bottom + 16}" class="tick" '
            f'text-anchor="middle">{label}</text>'
        )
    for e in range(ly0, ly1 + 1):
        y = py(10**e)
        out.append(
            f'<line x1="{x0 + left}" y1="{y:.1f}" x2="{x0 + w - 10}" y2="{y:.1f}" class="grid"/>'
        )
        out.append(
            f'<text x="{x0 + left - 6}" y="{y + 4:.1f}" class="tick" '
            f'text-anchor="end">{10**e:g} {unit}</text>'
        )
    out.append(
        f'<text x="{x0 + left + (w - left) / 2:.0f}" y="{h - 8}" class="tick" '
        'text-anchor="middle">interactions</text>'
    )
    if guide is not None:  # slope 1 through the first point: linear cost
        gx, gy = guide
        x_end = 10**lx1
        y_end = gy * x_end / gx
        if y_end > 10**ly1:
            x_end, y_end = gx * 10**ly1 / gy, 10**ly1
        out.append(
            f'<line x1="{px(gx):.1f}" y1="{py(gy):.1f}" x2="{px(x_end):.1f}" '
            f'y2="{py(y_end):.1f}" class="linear"/>'
        )
    legend = []  # below the chart, two columns: never over a curve
    for i, (name, values) in enumerate(series.items()):
        values = sorted(values)
        colour = PALETTE[i % len(PALETTE)]
        path = " ".join(f"{px(x):.1f},{py(y):.1f}" for x, y in values)
        out.append(f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2"/>')
        for x, y in values:
            out.append(f'<circle cx="{px(x):.1f}" cy="{py(y):.1f}" r="3" fill="{colour}"/>')
        lx = x0 + left + (i % 2) * 160
        ly = h + 8 + 15 * (i // 2)
        legend.append(
            f'<line x1="{lx}" y1="{ly - 4}" x2="{lx + 16}" y2="{ly - 4}" '
            f'stroke="{colour}" stroke-width="2"/>'
        )
        legend.append(f'<text x="{lx + 20}" y="{ly}" class="legend">{escape(name)}</text>')
    return out + legend


# Okabe-Ito: distinguishable with the common colour-vision deficiencies.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#D55E00", "#56B4E9")


def svg(results: list[dict], machine_name: str) -> str:
    """Time per stage and peak memory against rows, log-log, as a standalone SVG."""
    from html import escape

    results = sorted(results, key=lambda r: r["interactions"])
    times = _series(results)
    memory = {
        "worker peak": [
            (r["interactions"], r["worker_peak_rss_mb"]) for r in results if r["worker_peak_rss_mb"]
        ],
        "kernel peak during test": [
            (r["interactions"], r["kernel_peak_during_test_mb"])
            for r in results
            if r.get("kernel_peak_during_test_mb")
        ],
        "data in kernel": [(r["interactions"], max(r["data_mb"], 0.1)) for r in results],
    }
    memory = {k: v for k, v in memory.items() if v}
    first = results[0]
    elements = _log_panel(
        0, "Quick test time (1 epoch)", "s", times, (first["interactions"], first["total_seconds"])
    )
    elements += _log_panel(
        380,
        "Peak memory",
        "MB",
        memory,
        (first["interactions"], first["data_mb"]) if first["data_mb"] else None,
    )
    caption = escape(f"{machine_name} · dashed: slope 1 (cost linear in rows)")
    rows = (max(len(times), len(memory)) + 1) // 2
    height = 260 + 15 * rows + 30
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="760" height="{height}" '
        f'viewBox="0 0 760 {height}" font-family="sans-serif">\n'
        "<style>.title{font-size:13px;font-weight:bold}.tick,.legend{font-size:10px}"
        ".frame{fill:#fff;stroke:#888}.grid{stroke:#ddd}"
        ".linear{stroke:#555;stroke-dasharray:5 4;stroke-width:1.5}"
        ".caption{font-size:10px;fill:#555}"
        "</style>\n"
        f'<rect width="760" height="{height}" fill="#fff"/>\n'
        + "\n".join(elements)
        + f'\n<text x="10" y="{height - 8}" class="caption">{caption}</text>\n</svg>\n'
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="*", default=[100_000, 1_000_000])
    parser.add_argument("--10m", dest="ten_m", action="store_true", help="also 10M (slow)")
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--batch-size", type=int, default=4096)
    parser.add_argument("--sample", help="quick-test sample= option, e.g. 0.1 or 5000")
    parser.add_argument(
        "--max-eval-rows", type=int, help="split max_eval_rows: evaluate on at most N rows"
    )
    parser.add_argument("--json", metavar="FILE", help="also write the results to FILE")
    parser.add_argument("--svg", metavar="FILE", help="also draw the log-log plot into FILE")
    parser.add_argument(
        "--from", dest="sources", nargs="+", metavar="JSON", help="table/plot from earlier runs"
    )
    parser.add_argument("--role", type=int, help=argparse.SUPPRESS)  # one size, in-process
    args = parser.parse_args()
    if args.role:
        result = one_size(args.role, args.epochs, args.batch_size, args.sample, args.max_eval_rows)
        print(json.dumps(result), flush=True)
        return
    from quicktest_vs_tfrs import machine

    if args.sources:
        results = []
        for source in args.sources:
            results += json.loads(Path(source).read_text())["results"]
        results.sort(key=lambda r: r["interactions"])
        print(markdown(results))
        if args.svg:
            name = json.loads(Path(args.sources[0]).read_text())["machine"]
            Path(args.svg).parent.mkdir(parents=True, exist_ok=True)
            Path(args.svg).write_text(svg(results, name))
        return
    sizes = [*args.sizes, *([10_000_000] if args.ten_m else [])]
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    print(f"Machine: {machine()}", flush=True)
    results = []
    for n in sizes:
        print(f"[{n:,}] quick test … (load {_load()})", flush=True)
        command = [sys.executable, __file__, "--role", str(n), "--epochs", str(args.epochs)]
        command += ["--batch-size", str(args.batch_size)]
        if args.sample:
            command += ["--sample", args.sample]
        if args.max_eval_rows:
            command += ["--max-eval-rows", str(args.max_eval_rows)]
        out = subprocess.run(command, stdout=subprocess.PIPE, env=env, check=True)
        results.append(json.loads(out.stdout.decode().strip().splitlines()[-1]))
        print(json.dumps(results[-1]), flush=True)
    print(markdown(results))
    if args.json:
        Path(args.json).write_text(json.dumps({"machine": machine(), "results": results}, indent=2))
    if args.svg:
        Path(args.svg).parent.mkdir(parents=True, exist_ok=True)
        Path(args.svg).write_text(svg(results, machine()))


if __name__ == "__main__":
    main()
