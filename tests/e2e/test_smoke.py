"""Browser smoke test: every towerwidgets widget renders in a real JupyterLab and answers a click.

Run: ``python -m pytest tests/e2e/test_smoke.py -m e2e`` (needs the built bundle,
``npm run build``, and Debian's ``/usr/bin/chromium``). Screenshots go to
``$TOWERWIDGETS_SCREENSHOTS`` when set.
"""

from __future__ import annotations

import os
import pathlib

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.e2e

ROOT = pathlib.Path(__file__).resolve().parents[2]
XSS = "<img src=x onerror=alert(1)>"

SETUP = f"""
import pandas as pd
import towerwidgets as tw
from towerwidgets import datasets
from towerwidgets.config import FeatureConfig, ModelConfig

store = tw.Store()
df = datasets.sample(n_buyers=60, n_products=50, n_interactions=600, seed=1)
fc = store.feature_configs.create(FeatureConfig.infer(
    df, buyer_columns=["buyer_id", "buyer_region"], product_columns=["product_id", "category", "price"],
    name="Rich Features v2"))
std = store.model_configs.create(ModelConfig.from_preset("standard", name="Standard Retrieval v1"))
store.model_configs.create(ModelConfig.from_preset("asymmetric", name={XSS!r}, optimizer="adam",
                                                   learning_rate=0.01, batch_size=8192))
"""

CELLS = [
    SETUP,
    "wiz = tw.ModelWizard(store=store, feature_config=fc)\nwiz",
    "tb = tw.TowerBuilder()\ntb",
    "ms = tw.ModelStructure(store)\nms",
    "qt = tw.QuickTestPanel(store, data=df)\nqt",
    "mt = tw.MetricsTable(df=pd.DataFrame({'epoch': [1, 2, 3], 'loss': [0.9, 0.5, 0.6],"
    " 'recall_at_100': [0.2, 0.35, 0.31]}))\nmt",
    "page = tw.ModelingPage(store, data=df)\npage",
]


def _shot(page, name: str) -> None:
    folder = os.environ.get("TOWERWIDGETS_SCREENSHOTS")
    if folder:
        pathlib.Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(pathlib.Path(folder) / f"{name}.png"), full_page=True)


def _element_shot(locator, name: str) -> None:
    folder = os.environ.get("TOWERWIDGETS_SCREENSHOTS")
    if folder:
        pathlib.Path(folder).mkdir(parents=True, exist_ok=True)
        locator.screenshot(path=str(pathlib.Path(folder) / f"{name}.png"))


@pytest.fixture(scope="module", autouse=True)
def _bundle_built():
    if not (ROOT / "towerwidgets" / "static" / "widget.js").exists():
        pytest.skip("front-end bundle missing: run `npm ci && npm run build` first")


def test_every_widget_renders_and_answers_a_click(notebook):
    nb = notebook(CELLS, run=True)
    page = nb.page
    out = nb.output

    # ModelWizard: type a name, Continue → step 2 in the kernel and the tower builder shows.
    wizard = out(1).locator(".tw-wizard")
    wizard.wait_for(state="visible", timeout=60_000)
    assert "Step 1 of 3" in wizard.inner_text()
    _element_shot(wizard, "wizard-step1")
    wizard.locator('[data-key="name"]').fill("Smoke Test Model")
    # Keyboard: Space and Enter choose a model type card (JupyterLab does not take the keys).
    wizard.locator('[data-key="type:multitask"]').focus()
    page.keyboard.press(" ")
    assert nb.kernel.wait_for("wiz.config.model_type == 'multitask'", timeout=30)
    wizard.locator('[data-key="type:retrieval"]').focus()
    page.keyboard.press("Enter")
    assert nb.kernel.wait_for("wiz.config.model_type == 'retrieval'", timeout=30)
    wizard.locator('[data-key="continue"]').click()
    assert nb.kernel.wait_for("wiz.step == 2", timeout=30)
    wizard.locator(".tw-builder .tw-tower-buyer").wait_for(state="visible")
    assert nb.kernel.eval("wiz.config.name") == "Smoke Test Model"
    _element_shot(wizard, "wizard-step2")

    # TowerBuilder: + Add Layer ▼ → Dropout adds a layer in Python; the block appears.
    builder = out(2).locator(".tw-builder")
    builder.wait_for(state="visible")
    builder.locator('[data-key="add:buyer"]').click()
    builder.locator(".tw-menu [role=menuitem]", has_text="Dropout").click()
    assert nb.kernel.wait_for("tb.config.count_layers('buyer') == 4", timeout=30)
    builder.locator(".tw-tower-buyer .tw-layer-dropout").wait_for(state="visible")
    # Keyboard: Alt+ArrowDown moves the focused layer block.
    builder.locator('[data-key="layer:buyer:0"]').focus()
    page.keyboard.press("Alt+ArrowDown")
    assert nb.kernel.wait_for("tb.config.buyer_tower_layers[1].units == 128", timeout=30)
    # The page has the moved tower before ⚙ is clicked (not the stale block at index 0).
    expect(builder.locator('[data-key="layer:buyer:1"]')).to_contain_text("Dense(128)")
    expect(builder.locator('[data-key="layer:buyer:0"]')).to_contain_text("Dense(64)")
    # ⚙ opens the modal; Escape closes it.
    builder.locator('[data-key="gear:buyer:0"]').click()
    dialog = page.locator(".tw-modal[role=dialog]")
    dialog.wait_for(state="visible")
    _element_shot(dialog, "dense-modal")
    page.keyboard.press("Escape")
    dialog.wait_for(state="detached")

    # ModelStructure: cards render (a hostile name as text); Clone reaches the store.
    structure = out(3).locator(".tw-structure")
    structure.wait_for(state="visible")
    expect(structure).to_contain_text(XSS)
    assert structure.locator("img").count() == 0
    _element_shot(structure, "model-structure")
    # View: read-only towers, then generated code once a Feature Config is chosen.
    structure.get_by_role("button", name="View Standard Retrieval v1").click()
    view = structure.locator(".tw-view")
    view.wait_for(state="visible")
    assert "Architecture (read-only)" in view.inner_text()
    view.locator('[data-key="fc-select"]').select_option(label="Rich Features v2")
    view.locator("pre.tw-code .tw-tok-keyword").first.wait_for(timeout=30_000)
    assert "def run_fn" in view.locator("pre.tw-code").inner_text()
    _element_shot(view, "model-structure-view")
    view.get_by_role("button", name="Close").click()
    view.wait_for(state="detached")
    structure.locator(".tw-config-card", has_text="Standard Retrieval v1").get_by_role(
        "button", name="Clone Standard Retrieval v1"
    ).click()
    assert nb.kernel.wait_for("len(store.model_configs.list()) == 3", timeout=30)
    # + New Model opens the wizard inside the chapter; three steps later the card is there.
    structure.get_by_role("button", name="+ New Model").click()
    inner = structure.locator(".tw-wizard")
    inner.wait_for(state="visible")
    inner.locator('[data-key="name"]').fill("Made In The Browser")
    inner.locator('[data-key="continue"]').click()
    inner.get_by_text("Step 2 of 3").wait_for()
    inner.locator('[data-key="preset:deep"]').click()
    assert nb.kernel.wait_for("ms.wizard is not None and ms.wizard.preset == 'deep'", timeout=30)
    inner.locator('[data-key="continue"]').click()
    inner.get_by_text("Step 3 of 3").wait_for()
    inner.locator('[data-key="optimizer:adam"]').click()
    inner.locator('[data-key="save"]').click()
    structure.locator(".tw-config-card", has_text="Made In The Browser").wait_for()
    assert nb.kernel.eval(
        "[(c.optimizer, c.get_buyer_tower_summary()) for c in store.model_configs.list()"
        " if c.name == 'Made In The Browser']"
    ) == [["adam", "256→128→64→32"]]

    # QuickTestPanel: the validation lines show; an override reaches the kernel.
    quick = out(4).locator(".tw-quick-test")
    quick.wait_for(state="visible")
    quick.get_by_text("✓ Model Config: Valid architecture").wait_for()
    quick.locator('[data-key="epochs_override"]').select_option("2")
    assert nb.kernel.wait_for("qt.epochs_override == 2", timeout=30)
    _element_shot(quick, "quick-test")

    # MetricsTable: best values highlighted; clicking a header sorts in the kernel's state.
    table = out(5).locator(".tw-metrics")
    table.wait_for(state="visible")
    expect(table.locator(".tw-best")).to_have_count(2)
    table.locator('[data-key="sort:loss"]').click()
    assert nb.kernel.wait_for("mt.sort_by == 'loss'", timeout=30)

    # ModelingPage: three chapters with their nested widgets; Compare toggles.
    modeling = out(6).locator(".tw-page")
    modeling.wait_for(state="visible")
    modeling.locator(".tw-structure .tw-config-card").first.wait_for(state="visible")
    modeling.locator(".tw-quick-test").wait_for(state="visible")
    modeling.locator('[data-key="compare"]').click()
    assert nb.kernel.wait_for("page.compare", timeout=30)
    modeling.locator('table[aria-label="Feature configs compared"]').wait_for()
    _element_shot(modeling, "modeling-page")
    _shot(page, "notebook-light")
    assert page.page_errors == []


def test_dark_theme_reads_from_jupyterlab_variables(notebook, lab):
    lab.set_setting("@jupyterlab/apputils-extension:themes", {"theme": "JupyterLab Dark"})
    try:
        nb = notebook([SETUP, "tb = tw.TowerBuilder(feature_config=fc)\ntb"], run=True)
        builder = nb.output(1).locator(".tw-builder")
        builder.wait_for(state="visible", timeout=60_000)
        nb.page.wait_for_function(
            "() => document.body.dataset.jpThemeLight === 'false'", timeout=30_000
        )
        colours = nb.page.evaluate(
            """() => {
              const root = document.querySelector('.tw-root');
              const s = getComputedStyle(root);
              return [s.color, s.backgroundColor];
            }"""
        )
        assert colours[0] != "rgb(26, 26, 26)"  # not the light fallback: the theme's colour
        _element_shot(builder, "tower-builder-dark")
        assert nb.page.page_errors == []
    finally:
        lab.set_setting("@jupyterlab/apputils-extension:themes", {"theme": "JupyterLab Light"})


def test_rating_head_and_loss_weights_render_for_multitask(notebook):
    cells = [
        SETUP,
        "mt_cfg = ModelConfig.from_preset('standard', name='Multitask v1', model_type='multitask')\n"
        "wiz = tw.ModelWizard(store=store, config=mt_cfg)\n"
        "wiz.step = 2\nwiz",
    ]
    nb = notebook(cells, run=True)
    wizard = nb.output(1).locator(".tw-wizard")
    wizard.wait_for(state="visible", timeout=60_000)
    head = wizard.locator(".tw-rating-head")
    head.wait_for(state="visible")
    assert "After concatenating Buyer + Product embeddings (64D total):" in head.inner_text()
    assert "Linear • Rating Output" in head.locator(".tw-layer-fixed").inner_text()
    _element_shot(head, "rating-head")
    wizard.locator('[data-key="continue"]').click()
    assert nb.kernel.wait_for("wiz.step == 3", timeout=30)
    expect(wizard.locator(".tw-step-count")).to_have_text("Step 3 of 3")
    slider = wizard.locator('input[type="range"]')
    slider.wait_for(state="visible")
    assert "Current weights: Retrieval = 0.5, Ranking = 0.5 (balanced)" in wizard.inner_text()
    slider.focus()
    nb.page.keyboard.press("ArrowRight")  # the keyboard moves the slider
    assert nb.kernel.wait_for("wiz.config.ranking_weight == 0.55", timeout=30)
    assert nb.kernel.eval("wiz.config.retrieval_weight") == 0.45
    _element_shot(wizard.locator('[aria-label="Loss weights"]'), "loss-weights")
    assert nb.page.page_errors == []


RUN_SETUP = """
import towerwidgets as tw
from towerwidgets import datasets
from towerwidgets.config import Feature, FeatureConfig, ModelConfig

store = tw.Store()
df = datasets.sample(n_buyers=150, n_products=120, n_interactions=3000, n_categories=8, seed=3)
fc = store.feature_configs.create(FeatureConfig(
    name="tiny features", buyer_id_column="buyer_id", product_id_column="product_id",
    buyer_features=[Feature(column="buyer_id", embedding_dim=16)],
    product_features=[Feature(column="product_id", embedding_dim=16),
                      Feature(column="category", embedding_dim=8)]))
mc = store.model_configs.create(
    ModelConfig.from_preset("minimal", name="Minimal", epochs=3, batch_size=256))
qt = tw.QuickTestPanel(store, data=df)
qt
"""


@pytest.mark.slow
def test_start_quick_test_streams_epochs_while_the_kernel_stays_free(notebook, tmp_path):
    nb = notebook(
        [f"import os\nos.environ['TOWERWIDGETS_HOME'] = {str(tmp_path / 'home')!r}", RUN_SETUP],
        run=True,
    )
    panel = nb.output(1).locator(".tw-quick-test")
    panel.wait_for(state="visible", timeout=60_000)
    start = panel.get_by_role("button", name="▶ Start Quick Test")
    start.wait_for()
    expect(start).to_be_enabled()
    start.click()
    panel.locator('[role="progressbar"]').wait_for(state="visible", timeout=30_000)
    # The kernel answers while the worker trains.
    assert nb.kernel.eval("qt.running", timeout=30) is True
    assert nb.kernel.eval("1 + 1", timeout=30) == 2
    panel.locator(".tw-metrics tbody tr").first.wait_for(state="visible", timeout=300_000)
    nb.kernel.wait_for("not qt.running", timeout=300)
    assert nb.kernel.eval("qt.status") == "completed", nb.kernel.eval("qt.message")
    expect(panel.locator(".tw-metrics tbody tr")).to_have_count(3)
    panel.locator(".tw-recent-item", has_text="tiny features + Minimal").wait_for()
    _element_shot(panel, "quick-test-finished")
    assert nb.page.page_errors == []
