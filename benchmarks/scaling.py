"""How a quick test grows with the data: 100K and 1M synthetic interactions (10M with --10m).

Each size runs in its own "kernel" process (so its peak RSS is that size's alone): it
generates ``towerwidgets.datasets.sample`` scaled to the size, waits for a warm worker
(the TensorFlow import is a constant, not part of the scaling), and runs one cold quick
test (empty transform cache): Minimal retrieval, ids + category + price, 1 epoch, batch
4096. Reported per size: time per stage (from the record's stage history), peak RSS of
the kernel process and of the worker, the in-memory size of the data, and rows/s.

    python benchmarks/scaling.py                       # 100K and 1M, markdown table
    python benchmarks/scaling.py --10m --json out.json
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
COLUMNS = {  # table column -> stages summed (evaluation runs inside the epochs)
    "validate + prepare": ("validate", "prepare data"),
    "transform": ("transform",),
    "train + eval": ("train", "evaluate"),
    "export": ("export",),
}


def _load() -> str:
    try:
        return " / ".join(f"{x:.1f}" for x in os.getloadavg())
    except OSError:
        return "?"


def _stage_seconds(history: list[dict]) -> dict[str, float]:
    """Seconds spent in each stage: from entering it to entering the next one."""
    out: dict[str, float] = {}
    for here, after in itertools.pairwise(history):
        start = datetime.fromisoformat(here["at"])
        end = datetime.fromisoformat(after["at"])
        out[here["stage"]] = out.get(here["stage"], 0.0) + (end - start).total_seconds()
    return out


def one_size(n: int, epochs: int, batch_size: int, sample: str | None) -> dict:
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
        options = {"sample": sample} if sample else {}
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
        "generate_seconds": round(generate_seconds, 2),
        "stages": {k: round(v, 2) for k, v in stages.items()},
        "total_seconds": round(wall, 2),
        "rows_per_second": round(n / wall),
        "worker_warm": handle.facts.get("worker_warm"),
        "worker_peak_rss_mb": handle.facts.get("worker_peak_rss_mb"),
        "kernel_rss_after_data_mb": round(rss_after_data, 1),
        "kernel_peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "recall_at_100": record.recall_at_100,
        "load_before": load_before,
        "load_after": _load(),
    }


def markdown(results: list[dict]) -> str:
    head = (
        "| interactions | buyers / products | data in kernel | "
        + " | ".join(COLUMNS)
        + " | total | rows/s | kernel RSS after data / peak | worker peak RSS | load (1/5/15 min) |"
    )
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    for r in results:
        stages = " | ".join(
            f"{sum(r['stages'].get(s, 0.0) for s in names):.1f} s" for names in COLUMNS.values()
        )
        label = f"{r['interactions']:,}" + (f" (sample: {r['sample']})" if r["sample"] else "")
        lines.append(
            f"| {label} | {r['buyers']:,} / {r['products']:,} | {r['data_mb']:.0f} MB | {stages} "
            f"| {r['total_seconds']:.1f} s | {r['rows_per_second']:,} "
            f"| {r['kernel_rss_after_data_mb']:.0f} / {r['kernel_peak_rss_mb']:.0f} MB "
            f"| {r['worker_peak_rss_mb'] or 0:.0f} MB "
            f"| {r['load_before']} → {r['load_after']} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="*", default=[100_000, 1_000_000])
    parser.add_argument("--10m", dest="ten_m", action="store_true", help="also 10M (slow)")
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--batch-size", type=int, default=4096)
    parser.add_argument("--sample", help="quick-test sample= option, e.g. 0.1 or 5000")
    parser.add_argument("--json", metavar="FILE", help="also write the results to FILE")
    parser.add_argument("--role", type=int, help=argparse.SUPPRESS)  # one size, in-process
    args = parser.parse_args()
    if args.role:
        result = one_size(args.role, args.epochs, args.batch_size, args.sample)
        print(json.dumps(result), flush=True)
        return
    from quicktest_vs_tfrs import machine

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
        out = subprocess.run(command, stdout=subprocess.PIPE, env=env, check=True)
        results.append(json.loads(out.stdout.decode().strip().splitlines()[-1]))
        print(json.dumps(results[-1]), flush=True)
    print(markdown(results))
    if args.json:
        Path(args.json).write_text(json.dumps({"machine": machine(), "results": results}, indent=2))


if __name__ == "__main__":
    main()
