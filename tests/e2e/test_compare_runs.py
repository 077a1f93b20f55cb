"""Compare runs in the browser: two real quick tests on the sample finish, the user ticks both
in Recent Quick Tests, sees a chart per metric with a line per run and the settings that
differ, and reads an exact value from a point's tooltip (keyboard and pointer)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from test_accessibility import AXE, _check

SETUP = """
import towerwidgets as tw

store = tw.Store()
data = tw.datasets.sample(n_buyers=200, n_products=200, n_interactions=3000, seed=3)
fc = store.feature_configs.create(tw.FeatureConfig.infer(
    data, buyer_columns=["buyer_id", "buyer_region"],
    product_columns=["product_id", "category", "price"], name="Sample features"))
mc_adam = store.model_configs.create(tw.ModelConfig.from_preset(
    "minimal", name="Minimal Adam", optimizer="adam", learning_rate=0.01, batch_size=256))
mc_adagrad = store.model_configs.create(tw.ModelConfig.from_preset(
    "minimal", name="Minimal Adagrad", optimizer="adagrad", learning_rate=0.1, batch_size=256))
"""
PANEL = "qt = tw.QuickTestPanel(store=store, data=data)\nqt"
RUNS = """
a = tw.run_quick_test(fc, mc_adam, data, epochs=3, store=store)
b = tw.run_quick_test(fc, mc_adagrad, data, epochs=3, store=store)
"""


# The value a point shows, as Python formats it (6 significant digits, like JS's g()).
def value(epoch: int) -> str:
    """Python code for run b's Recall@100 at ``epoch`` in the comparison's tidy frame."""
    return (
        "format(qt.comparison.frame.query("
        f"'run_id == @b.id and epoch == {epoch} and metric == \"recall_at_100\"'"
        ").value.item(), '.6g')"
    )


def test_compare_two_finished_runs(notebook, lab, shot):
    nb = notebook([SETUP, PANEL], run=True)
    panel = nb.output(1).locator(".tw-quick-test")
    panel.wait_for(state="visible", timeout=60_000)
    panel.get_by_text("No quick tests yet.").wait_for()

    # Two short real quick tests (TensorFlow in worker processes), run from the kernel.
    nb.kernel.execute(RUNS, timeout=600)
    a, b = nb.kernel.eval("[a.id, b.id]")
    assert nb.kernel.eval("[a.status, b.status]") == ["completed", "completed"]
    recent = panel.locator(".tw-recent .tw-recent-item")
    expect(recent).to_have_count(2, timeout=60_000)
    compare = panel.locator(".tw-qt-compare .tw-compare")
    expect(compare).to_contain_text("Tick two or more runs", timeout=30_000)

    # Tick both runs: the view draws once Python has compared them.
    panel.locator(f'[data-key="compare:{a}"]').check()
    expect(compare).to_contain_text(f"Tick one more run to compare it with #{a}.", timeout=30_000)
    panel.locator(f'[data-key="compare:{b}"]').check()
    # (the kernel may answer between two trait assignments: wait for the charts themselves)
    nb.kernel.wait_for(
        f"qt.compare_ids == [{a}, {b}] and len(qt.comparison.charts) >= 2", timeout=30
    )
    metrics = nb.kernel.eval("[c['metric'] for c in qt.comparison.charts]")
    assert {"loss", "recall_at_100"} <= set(metrics)
    charts = compare.locator(".tw-chart")
    expect(charts).to_have_count(len(metrics), timeout=30_000)

    legend = compare.locator(".tw-legend-item")
    expect(legend).to_have_count(2)
    expect(legend.nth(0)).to_have_text(f"#{a} Sample features + Minimal Adam")
    expect(legend.nth(1)).to_have_text(f"#{b} Sample features + Minimal Adagrad")

    # Only what differs: optimizer and learning rate (and the config names), not the features.
    diff = compare.locator("table.tw-diff")
    expect(diff.locator('tr[data-field="Training:Optimizer"] td')).to_have_text(["Adam", "Adagrad"])
    expect(diff.locator('tr[data-field="Training:Learning rate"] td')).to_have_text(["0.01", "0.1"])
    expect(diff.locator('tr[data-field^="Features:"]')).to_have_count(0)
    expect(diff.locator('tr[data-field="Training:Epochs"]')).to_have_count(0)

    # One line per run, one point per epoch.
    recall = compare.locator('.tw-chart[data-metric="recall_at_100"]')
    expect(recall.locator("path.tw-chart-line")).to_have_count(2)
    points = recall.locator(".tw-chart-point")
    expect(points).to_have_count(6)
    expect(recall.locator(".tw-chart-xlabel")).to_have_text("Epoch")

    # Keyboard: focus run b's first point, → moves to its epoch 2; the tooltip shows the value.
    tip = recall.locator(".tw-chart-tip")
    first_b = recall.locator('.tw-series-1 .tw-chart-point[data-epoch="1"]')
    first_b.focus()
    expect(tip).to_be_visible()
    expect(tip.locator(".tw-chart-tip-value")).to_have_text(
        f"Recall@100: {nb.kernel.eval(value(1))}"
    )
    nb.page.keyboard.press("ArrowRight")
    expect(recall.locator('.tw-series-1 .tw-chart-point[data-epoch="2"]')).to_be_focused()
    expect(tip.locator(".tw-chart-tip-run")).to_have_text(f"#{b} Sample features + Minimal Adagrad")
    expect(tip.locator(".tw-chart-tip-epoch")).to_have_text("Epoch 2")
    expect(tip.locator(".tw-chart-tip-value")).to_have_text(
        f"Recall@100: {nb.kernel.eval(value(2))}"
    )

    # Pointer: hovering run b's last point shows its value.
    recall.locator('.tw-series-1 .tw-chart-point[data-epoch="3"]').hover()
    expect(tip.locator(".tw-chart-tip-value")).to_have_text(
        f"Recall@100: {nb.kernel.eval(value(3))}"
    )
    shot(panel.locator(".tw-qt-compare"), "compare-runs")

    # Series colours follow the theme attribute JupyterLab sets on <body>: Okabe–Ito blue in
    # the light theme, its lighter sky blue in a dark one (our CSS, applied by the browser).
    stroke = (
        "() => getComputedStyle(document.querySelector("
        "'.tw-qt-compare .tw-series-0 path.tw-chart-line')).stroke"
    )
    light = nb.page.evaluate("() => document.body.dataset.jpThemeLight")
    assert light == "true"
    assert nb.page.evaluate(stroke) == "rgb(0, 114, 178)"
    nb.page.evaluate("() => { document.body.dataset.jpThemeLight = 'false'; }")
    assert nb.page.evaluate(stroke) == "rgb(86, 180, 233)"
    nb.page.evaluate("() => { document.body.dataset.jpThemeLight = 'true'; }")

    # Unticking one run clears the charts again.
    panel.locator(f'[data-key="compare:{a}"]').uncheck()
    expect(compare).to_contain_text(f"Tick one more run to compare it with #{b}.", timeout=30_000)
    expect(charts).to_have_count(0)
    assert nb.page.page_errors == []


STORED_RUNS = """
import towerwidgets as tw
from towerwidgets.config import QuickTest

store = tw.Store()
data = tw.datasets.sample(n_buyers=50, n_products=40, n_interactions=400, seed=3)
fc = store.feature_configs.create(tw.FeatureConfig.infer(
    data, buyer_columns=["buyer_id", "buyer_region"],
    product_columns=["product_id", "category", "price"], name="Sample features"))
ids = []
for name, lr, shift in (("Adam", 0.01, 0.0), ("Adagrad", 0.1, 0.05), ("SGD", 0.05, 0.1)):
    mc = store.model_configs.create(tw.ModelConfig.from_preset(
        "minimal", name=f"Minimal {name}", optimizer=name.lower(), learning_rate=lr))
    test = store.quick_tests.create(QuickTest(
        feature_config_id=fc.id, model_config_id=mc.id,
        feature_config_snapshot=fc.to_dict(), model_config_snapshot=mc.to_dict()))
    for epoch in (1, 2, 3):
        store.quick_tests.append_epoch(test.id, {
            "epoch": epoch, "loss": 6 - epoch / 2 + shift, "val_loss": 6.2 - epoch / 3 + shift,
            "recall_at_10": 0.1 * epoch - shift / 2, "recall_at_100": 0.25 * epoch - shift})
    ids.append(test.id)
"""


@pytest.mark.skipif(not AXE.is_file(), reason="axe-core is not installed (npm ci)")
def test_tw_compare_displays_accessibly_in_both_themes(theme, notebook):
    """``tw.compare([...])`` as a cell's value shows the CompareView; axe-core finds no serious
    violation and every text is at WCAG AA contrast, in the light and the dark theme."""
    nb = notebook([STORED_RUNS, "result = tw.compare(ids)\nresult"], run=True)
    page = nb.page
    light = "true" if theme == "light" else "false"
    page.wait_for_function(f"() => document.body.dataset.jpThemeLight === '{light}'")
    page.add_script_tag(path=str(AXE))
    view = nb.output(1).locator(".tw-root")
    expect(view.locator(".tw-chart")).to_have_count(4, timeout=60_000)
    expect(view.locator(".tw-legend-item")).to_have_count(3)
    expect(view.locator('tr[data-field="Training:Optimizer"] td')).to_have_text(
        ["Adam", "Adagrad", "SGD"]
    )
    view.locator(".tw-chart-point").first.focus()  # with a tooltip showing
    expect(view.locator(".tw-chart-tip").first).to_be_visible()
    _check(page, view, f"compare view ({theme})")
    colours = view.evaluate(
        "(root) => [...root.querySelectorAll('.tw-chart-legend path.tw-chart-marker')]"
        ".map((p) => getComputedStyle(p).fill)"
    )
    assert len(set(colours)) == 3, colours  # three runs, three colours in this theme
    assert page.page_errors == []
