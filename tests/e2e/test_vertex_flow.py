"""A quick test on Vertex AI from the QuickTestPanel, in a real JupyterLab: choose Vertex AI,
start, watch the stages and epoch rows arrive, follow the console link, cancel.

The kernel talks to Vertex AI and Cloud Storage through the real SDKs, pointed at local
fakes on 127.0.0.1 that the notebook starts (the REST fake of tests/fakes, and
gcp-storage-emulator). The fake's job trains two epochs and then holds until cancelled,
so Cancel always lands while it runs.
"""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import expect

TESTS = Path(__file__).resolve().parents[1]

SETUP = f"""
import os, sys, time
sys.path[:0] = [{str(TESTS)!r}, {str(TESTS / "runner")!r}]
import towerwidgets as tw
from google.auth.credentials import AnonymousCredentials
from google.cloud import storage
from fakes.vertex_fake import success_script
from vertex_helpers import PROJECT, VertexFake, init_sdk, make_backend, start_storage_emulator
from towerwidgets.runner.vertex import PollPolicy

gcs_server, os.environ["STORAGE_EMULATOR_HOST"] = start_storage_emulator()
fake = VertexFake(storage.Client(project=PROJECT, credentials=AnonymousCredentials())).start()
init_sdk(fake.endpoint)
script = success_script(epochs=3)
next(step for step in script if step.epochs == 2).hold = True  # trains until cancelled
fake.scripts.append(script)
backend = make_backend(
    sleep=time.sleep, clock=time.monotonic,
    poll=PollPolicy(initial=0.3, factor=1.0, maximum=0.3, request_timeout=10),
)

store = tw.Store()
data = tw.datasets.sample(n_buyers=200, n_products=200, n_interactions=3000, seed=3)
fc = store.feature_configs.create(tw.FeatureConfig.infer(
    data, buyer_columns=["buyer_id", "buyer_region"],
    product_columns=["product_id", "category", "price"], name="Sample features"))
mc = store.model_configs.create(tw.ModelConfig.from_preset(
    "minimal", name="Minimal Retrieval", batch_size=256))
"""
PANEL = "qt = tw.QuickTestPanel(store=store, data=data, vertex_backend=backend)\nqt"


def test_a_vertex_run_streams_rows_and_cancels(notebook, lab):
    nb = notebook([SETUP, PANEL], run=True)
    panel = nb.output(1).locator(".tw-quick-test")
    panel.wait_for(state="visible", timeout=60_000)
    panel.get_by_text("✓ Model Config: Valid architecture").wait_for()

    panel.locator('[data-key="run_on:vertex"]').check()
    nb.kernel.wait_for("qt.run_on == 'vertex'", timeout=30)
    expect(panel.get_by_text("Vertex AI", exact=False).first).to_be_visible()
    panel.locator('[data-key="epochs_override"]').select_option("3")
    nb.kernel.wait_for("qt.epochs_override == 3", timeout=30)
    start = panel.locator('[data-key="start"]')
    expect(start).to_be_enabled()
    start.click()

    # The fake's Trainer wrote metrics.jsonl twice: two rows, read from "Cloud Storage".
    nb.kernel.wait_for(
        "any(len(t.epoch_metrics) == 2 for t in store.quick_tests.list())", timeout=120
    )
    rows = panel.locator(".tw-qt-metrics tbody tr")
    expect(rows).to_have_count(2, timeout=60_000)
    record = lab.store().quick_tests.list()[0]
    assert record.backend == "vertex" and record.status == "running"
    assert record.vertex_pipeline_id.startswith("projects/123456789/locations/")
    assert record.current_stage == "train"
    link = panel.locator('a[href^="https://console.cloud.google.com/vertex-ai/"]').first
    expect(link).to_be_visible()
    assert link.get_attribute("target") == "_blank"

    cancel = panel.locator('[data-key="cancel-run"]')
    cancel.wait_for(state="visible")
    cancel.click()
    nb.kernel.wait_for("not qt.running", timeout=90)
    record = lab.store().quick_tests.get(record.id)
    assert record.status == "cancelled", record.error_message
    assert [row["epoch"] for row in record.epoch_metrics] == [1, 2]
    assert nb.kernel.eval("bool(fake.jobs) and all(j.cancelled for j in fake.jobs.values())")
    expect(panel.get_by_text("Cancelled").first).to_be_visible()
    nb.kernel.execute("fake.stop(); gcs_server.stop()")
