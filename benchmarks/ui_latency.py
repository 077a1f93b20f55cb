"""UI latency in a real JupyterLab driven by Debian's Chromium (headless).

Three numbers, each over several repetitions (median, p90, max):

1. **First render** — from pressing Ctrl+Enter on ``tw.ModelWizard(...)`` to the wizard being
   on screen (the first animation frame after its root element is in the page). "cold" is the
   first widget in a freshly loaded page (the bundle is fetched and parsed); "warm" re-runs
   the cell in the same page. Target ≤ 300 ms.
2. **Edit → estimate** — from the click on "Dense Layer" in "+ Add Layer ▼" to the tower's
   footer showing the new layer count and parameter estimate (a round trip through the
   kernel, which validates the edit). Target ≤ 50 ms.
3. **Epoch → row** — from the worker emitting an epoch's metrics (its wall-clock timestamp)
   to that epoch's row appearing in the QuickTestPanel's metrics table. Target ≤ 250 ms.

Page times come from ``performance.now()`` with MutationObserver + requestAnimationFrame, the
worker's from ``time.time()``; both are wall clock on the same machine.

    .venv/bin/python benchmarks/ui_latency.py [--repeat 9] [--epochs 6] [--json out.json]

Uses the e2e suite's JupyterLab machinery (``tests/e2e/labkit.py``) with a temporary store.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "e2e"))

import labkit  # noqa: E402

TARGETS_MS = {"first render (cold)": 300, "first render (warm)": 300, "edit → estimate": 50}
TARGETS_MS["epoch → row"] = 250

SETUP = """
import towerwidgets as tw
import towerwidgets.widgets  # the widget classes load here, not in the timed cell

store = tw.Store()
data = tw.datasets.sample(n_buyers=150, n_products=150, n_interactions=2000, seed=5)
fc = store.feature_configs.create(tw.FeatureConfig.infer(
    data, buyer_columns=["buyer_id", "buyer_region"],
    product_columns=["product_id", "category", "price"], name="Sample features"))
mc = store.model_configs.create(tw.ModelConfig.from_preset(
    "minimal", name="Minimal Retrieval", optimizer="adam", learning_rate=0.01, batch_size=256))
"""
WIZARD = "tw.ModelWizard(store=store, feature_config=fc)"
BUILDER = "tb = tw.TowerBuilder(feature_config=fc)\ntb"
PANEL = "qt = tw.QuickTestPanel(store=store, data=data)\nqt.epochs_override = {epochs}\nqt"

# Marks: window.__marks[name] = performance.now() of the first frame where predicate() holds.
WATCH = """([name, predicate]) => {
  window.__marks = window.__marks || {};
  delete window.__marks[name];
  const test = new Function('return (' + predicate + ')();');
  const observer = new MutationObserver(() => {
    if (window.__marks[name] !== undefined || !test()) return;
    observer.disconnect();
    requestAnimationFrame(() => { window.__marks[name] = performance.now(); });
  });
  observer.observe(document.body, { childList: true, subtree: true, characterData: true,
                                    attributes: true });
}"""
# The time of the triggering key press or click (event.timeStamp is on performance.now()'s clock).
TRIGGER = """([name, kind, selector]) => {
  window.__marks = window.__marks || {};
  delete window.__marks[name];
  const handler = (event) => {
    if (selector && !(event.target.closest && event.target.closest(selector))) return;
    if (kind === 'keydown' && !(event.key === 'Enter' && event.ctrlKey)) return;
    window.__marks[name] = event.timeStamp;
    document.removeEventListener(kind, handler, true);
  };
  document.addEventListener(kind, handler, true);
}"""
# Wall-clock time at which each row count was first on screen.
ROWS = """(selector) => {
  window.__rows = {};
  const observer = new MutationObserver(() => {
    const n = document.querySelectorAll(selector).length;
    if (n && window.__rows[n] === undefined) {
      window.__rows[n] = null;
      requestAnimationFrame(() => { window.__rows[n] = performance.timeOrigin + performance.now(); });
    }
  });
  observer.observe(document.body, { childList: true, subtree: true });
  window.__rowsObserver = observer;
}"""


def _stats(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    p90 = ordered[min(len(ordered) - 1, round(0.9 * (len(ordered) - 1)))]
    return {
        "n": len(values),
        "median": round(statistics.median(values), 1),
        "p90": round(p90, 1),
        "max": round(ordered[-1], 1),
    }


def _cell(page: Any, index: int) -> Any:
    return page.locator(".jp-NotebookPanel .jp-Notebook .jp-Cell").nth(index)


def _run_cell(page: Any, index: int) -> None:
    """Select cell ``index`` and run it in place (Ctrl+Enter)."""
    _cell(page, index).locator(".jp-InputArea-editor").click()
    page.keyboard.press("Control+Enter")


def _mark(page: Any, name: str, timeout_s: float = 30.0) -> float:
    page.wait_for_function(
        f"() => window.__marks && window.__marks[{json.dumps(name)}] !== undefined",
        timeout=timeout_s * 1000,
    )
    return page.evaluate(f"() => window.__marks[{json.dumps(name)}]")


def first_render(nb: labkit.Notebook, repeat: int) -> dict[str, list[float]]:
    """Cold: reload the page, run the wizard cell; warm: run it again in the same page."""
    page = nb.page
    cold, warm = [], []
    visible = "() => { const w = document.querySelector('.tw-wizard'); return !!w && w.offsetHeight > 0; }"
    for attempt in range(repeat):
        nb.open(workspace=f"bench{attempt}")  # a fresh page: the bundle is not loaded yet
        for series in (cold, warm):
            nb.kernel.execute("pass")  # the kernel is idle before the clock starts
            page.evaluate(TRIGGER, ["t0", "keydown", None])
            page.evaluate(WATCH, ["t1", visible])
            # Clear the old output first so the watcher sees the new wizard, not the old one.
            page.evaluate("() => document.querySelectorAll('.tw-wizard').forEach(w => w.remove())")
            _run_cell(page, 1)
            series.append(_mark(page, "t1") - _mark(page, "t0"))
    return {"first render (cold)": cold, "first render (warm)": warm}


def edit_to_estimate(nb: labkit.Notebook, repeat: int) -> dict[str, list[float]]:
    page = nb.page
    builder = nb.output(2).locator(".tw-builder")
    builder.wait_for(state="visible", timeout=60_000)
    footer = ".tw-builder .tw-tower-buyer .tw-tower-footer"
    samples = []
    for _ in range(repeat):
        layers = nb.kernel.eval("len(tb.config.buyer_tower_layers)")
        before = builder.locator(".tw-tower-buyer .tw-tower-footer").inner_text()
        builder.locator('[data-key="add:buyer"]').click()
        item = builder.locator('[data-key="menu:buyer:0"]')
        item.wait_for(state="visible")
        page.evaluate(TRIGGER, ["e0", "click", '[data-key="menu:buyer:0"]'])
        predicate = (
            f"() => {{ const f = document.querySelector({json.dumps(footer)}); "
            f"return !!f && f.textContent.startsWith('{layers + 1} layers') "
            f"&& f.textContent !== {json.dumps(before)}; }}"
        )
        page.evaluate(WATCH, ["e1", predicate])
        item.click()
        samples.append(_mark(page, "e1") - _mark(page, "e0"))
        nb.kernel.wait_for(f"len(tb.config.buyer_tower_layers) == {layers + 1}")
        if layers + 1 >= 8:  # keep the tower a realistic size
            nb.kernel.execute("tb.apply_preset('standard')")
            builder.locator(".tw-tower-buyer .tw-tower-footer", has_text="3 layers").wait_for()
    return {"edit → estimate": samples}


def epoch_to_row(nb: labkit.Notebook, runs: int) -> dict[str, list[float]]:
    page = nb.page
    panel = nb.output(3).locator(".tw-quick-test")
    panel.wait_for(state="visible", timeout=60_000)
    samples = []
    for _ in range(runs):
        page.evaluate(ROWS, ".tw-quick-test .tw-qt-metrics tbody tr")
        panel.locator('[data-key="start"]').click()
        nb.kernel.wait_for("qt.running", timeout=30)
        nb.kernel.wait_for("not qt.running", timeout=300)
        status = nb.kernel.eval("qt.status")
        if status != "completed":
            raise RuntimeError(f"quick test ended {status}: {nb.kernel.eval('qt.message')}")
        epochs = nb.kernel.eval(
            "[(e.epoch, e.time) for e in qt.handle.events(timeout=5) if e.kind == 'epoch']"
        )
        page.wait_for_timeout(300)
        rows = page.evaluate("() => window.__rows")
        page.evaluate("() => window.__rowsObserver.disconnect()")
        for epoch, worker_time in epochs:
            shown = rows.get(str(epoch))
            if shown:
                samples.append(shown - worker_time * 1000.0)
    return {"epoch → row": samples}


def machine() -> dict[str, Any]:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        chromium = subprocess.run(
            [labkit.CHROMIUM, "--version"], capture_output=True, text=True, timeout=30
        ).stdout.strip()
    except Exception:
        chromium = "unknown"
    import jupyterlab

    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "python": platform.python_version(),
        "jupyterlab": jupyterlab.__version__,
        "chromium": chromium,
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=9, help="repetitions of 1 and 2")
    parser.add_argument("--runs", type=int, default=2, help="quick tests for 3")
    parser.add_argument("--epochs", type=int, default=6, help="epochs per quick test")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args(argv)

    from playwright.sync_api import sync_playwright

    results: dict[str, list[float]] = {}
    with tempfile.TemporaryDirectory(prefix="tw-ui-latency-") as tmp:
        lab = labkit.start_lab(Path(tmp))
        try:
            with sync_playwright() as pw:
                browser = labkit.launch_browser(pw)
                context = browser.new_context(viewport=labkit.VIEWPORT)
                page = context.new_page()
                # Autosave would store widget outputs that render again on reload.
                lab.set_setting("@jupyterlab/docmanager-extension:plugin", {"autosave": False})
                path = "ui_latency.ipynb"
                lab.write_notebook(path, [SETUP, WIZARD, BUILDER, PANEL.format(epochs=args.epochs)])
                nb = labkit.Notebook(lab, page, path).open()
                nb.run_all()
                nb.wait_done()
                nb.widget(".tw-quick-test")
                results.update(edit_to_estimate(nb, args.repeat))
                results.update(epoch_to_row(nb, args.runs))
                results.update(first_render(nb, args.repeat))
                nb.close()
                browser.close()
        finally:
            labkit.stop_lab(lab)

    summary = {name: _stats(values) for name, values in results.items() if values}
    info = machine()
    print(f"\nUI latency — {info['cpu']} ({info['cores']} cores), load {info['load_average']},")
    print(f"JupyterLab {info['jupyterlab']}, {info['chromium']} headless, {info['date']}\n")
    print("| measure | n | median ms | p90 ms | max ms | target ms |")
    print("|---|---|---|---|---|---|")
    for name, stats in summary.items():
        target = TARGETS_MS.get(name, "")
        flag = "" if not target or stats["median"] <= target else " ✗"
        print(
            f"| {name} | {stats['n']} | {stats['median']}{flag} | {stats['p90']} | "
            f"{stats['max']} | ≤ {target} |"
        )
    if args.json:
        args.json.write_text(
            json.dumps({"machine": info, "summary": summary, "samples": results}, indent=1)
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
