"""Quick Test in the browser: start one on the sample, see a metrics row while it still runs,
see it complete and listed under Recent Quick Tests; Cancel a second one."""

from __future__ import annotations

from playwright.sync_api import expect

SETUP = """
import towerwidgets as tw

store = tw.Store()
data = tw.datasets.sample(n_buyers=200, n_products=200, n_interactions=3000, seed=3)
fc = store.feature_configs.create(tw.FeatureConfig.infer(
    data, buyer_columns=["buyer_id", "buyer_region"],
    product_columns=["product_id", "category", "price"], name="Sample features"))
mc = store.model_configs.create(tw.ModelConfig.from_preset(
    "minimal", name="Minimal Retrieval", optimizer="adam", learning_rate=0.01, batch_size=256))
"""
PANEL = "qt = tw.QuickTestPanel(store=store, data=data)\nqt"

# Checked on every change of the panel's DOM (a MutationObserver latch), not only when a
# poll happens to look: a short "running with a row" window cannot slip between two polls.
ROW_WHILE_RUNNING = """(root) => {
  const check = () => {
    const label = root.querySelector('.tw-progress-label');
    const rows = root.querySelectorAll('.tw-qt-metrics tbody tr');
    if (!!label && label.textContent.startsWith('Running') && rows.length >= 1) {
      window.__twRowWhileRunning = true;
    }
  };
  window.__twRowWhileRunning = false;
  new MutationObserver(check).observe(root, {childList: true, subtree: true, characterData: true});
  check();
}"""


def test_run_complete_recent_and_cancel(notebook, lab, shot):
    nb = notebook([SETUP, PANEL], run=True)
    panel = nb.output(1).locator(".tw-quick-test")
    panel.wait_for(state="visible", timeout=60_000)
    panel.get_by_text("✓ Model Config: Valid architecture").wait_for()
    panel.get_by_text("No quick tests yet.").wait_for()

    panel.locator('[data-key="epochs_override"]').select_option("3")
    nb.kernel.wait_for("qt.epochs_override == 3", timeout=30)
    start = panel.locator('[data-key="start"]')
    expect(start).to_be_enabled()
    panel.evaluate(ROW_WHILE_RUNNING)
    start.click()

    # A metrics row shows while the status still says Running (checked in one DOM state).
    nb.page.wait_for_function("() => window.__twRowWhileRunning === true", timeout=120_000)
    shot(panel, "quick-test-running")
    running = lab.store().quick_tests.list()
    assert len(running) == 1 and running[0].status in ("running", "completed")

    # It completes; the store has every epoch; Recent Quick Tests lists it.
    nb.kernel.wait_for("not qt.running and qt.status == 'completed'", timeout=180)
    record = lab.store().quick_tests.list()[0]
    assert record.status == "completed", record.error_message
    assert [row["epoch"] for row in record.epoch_metrics] == [1, 2, 3]
    assert record.recall_at_100 is not None and 0 <= record.recall_at_100 <= 1
    # The kernel is done; the page follows (the metrics table is its own widget).
    expect(panel.locator(".tw-qt-metrics tbody tr")).to_have_count(3)
    recent = panel.locator(".tw-recent .tw-recent-item")
    expect(recent).to_have_count(1)
    expect(recent.first).to_contain_text("Completed")
    expect(recent.first).to_contain_text(f"Recall@100: {record.recall_at_100 * 100:.1f}%")

    # A second test, cancelled while it runs, ends as cancelled. It gets 20 epochs, so it
    # is still running when Cancel lands, however fast the machine.
    panel.locator('[data-key="epochs_override"]').select_option("20")
    nb.kernel.wait_for("qt.epochs_override == 20", timeout=30)
    expect(start).to_be_enabled()
    start.click()
    nb.kernel.wait_for("qt.running", timeout=30)
    cancel = panel.locator('[data-key="cancel-run"]')
    cancel.wait_for(state="visible")
    cancel.click()
    nb.kernel.wait_for("not qt.running", timeout=60)
    tests = sorted(lab.store().quick_tests.list(), key=lambda t: t.id)
    assert [t.status for t in tests] == ["completed", "cancelled"]
    panel.locator(".tw-progress-label", has_text="Cancelled").wait_for()
    expect(recent).to_have_count(2)
    expect(panel.locator(".tw-recent")).to_contain_text("Cancelled")
    assert nb.page.page_errors == []
