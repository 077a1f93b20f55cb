"""A hostile config name stays text; the tower builder works from the keyboard alone; the
wizard stays readable in JupyterLab's dark theme."""

from __future__ import annotations

import json

import pytest
from playwright.sync_api import expect

XSS = '<img src=x onerror="window.__xss=1">'
SETUP = """
import towerwidgets as tw

store = tw.Store()
data = tw.datasets.sample(n_buyers=60, n_products=50, n_interactions=600, seed=1)
fc = store.feature_configs.create(tw.FeatureConfig.infer(
    data, buyer_columns=["buyer_id", "buyer_region"],
    product_columns=["product_id", "category", "price"], name="Sample features"))
"""


def _no_script_ran(page) -> None:
    page.wait_for_timeout(300)  # give an injected onerror handler time to fire
    assert page.evaluate("() => typeof window.__xss") == "undefined"
    assert page.locator(".jp-OutputArea-output img[src='x']").count() == 0


def test_hostile_name_renders_as_text_everywhere(notebook, lab):
    cells = [
        SETUP,
        "wiz = tw.ModelWizard(store=store, feature_config=fc)\nwiz",
        "page = tw.ModelingPage(store=store, data=data)\npage",
    ]
    nb = notebook(cells, run=True)
    page = nb.page
    wiz = nb.output(1).locator(".tw-wizard")
    wiz.wait_for(state="visible", timeout=60_000)

    # Typed into the wizard by a person and saved through the browser.
    wiz.locator('[data-key="name"]').click()
    page.keyboard.type(XSS)
    wiz.locator('[data-key="continue"]').click()
    nb.kernel.wait_for("wiz.step == 2", timeout=30)
    # The page shows step 2 before its Continue is pressed (not step 1's stale button).
    expect(wiz.locator(".tw-step-count")).to_have_text("Step 2 of 3")
    wiz.locator('[data-key="continue"]').click()
    nb.kernel.wait_for("wiz.step == 3", timeout=30)
    expect(wiz.locator(".tw-step-count")).to_have_text("Step 3 of 3")
    wiz.locator(".tw-summary").get_by_text(XSS).wait_for()
    wiz.locator('[data-key="save"]').click()
    nb.kernel.wait_for("wiz.closed", timeout=30)
    assert [c.name for c in lab.store().model_configs.list()] == [XSS]
    _no_script_ran(page)

    # Everywhere the name shows up on the Modeling page it is text.
    nb.kernel.execute("page.refresh()")
    modeling = nb.output(2).locator(".tw-page")
    card = modeling.locator(".tw-structure .tw-config-card").first
    card.wait_for(state="visible")
    assert card.locator(".tw-card-name").text_content() == XSS
    config_id = lab.store().model_configs.list()[0].id
    card.locator(f'[data-key="view:{config_id}"]').click()
    view = modeling.locator(".tw-view")
    view.wait_for(state="visible")
    expect(view).to_contain_text(f"View: {XSS}")
    # The Quick Test chapter gets its refreshed list in its own message: wait for it.
    option = modeling.locator('.tw-quick-test [data-key="mc"] option').first
    expect(option).to_have_text(XSS)
    _no_script_ran(page)
    assert page.page_errors == []


def test_keyboard_only_add_configure_and_move_a_layer(notebook):
    nb = notebook([SETUP, "tb = tw.TowerBuilder(feature_config=fc)\ntb"], run=True)
    page = nb.page
    builder = nb.output(1).locator(".tw-builder")
    builder.wait_for(state="visible", timeout=60_000)
    assert nb.kernel.eval("[l.type for l in tb.config.buyer_tower_layers]") == ["dense"] * 3

    # Focus lands on "+ Add Layer ▼" (no pointer from here on).
    builder.locator('[data-key="add:buyer"]').focus()
    page.keyboard.press("ArrowDown")  # opens the menu on "Dense Layer"
    page.locator(".tw-menu[role=menu]").wait_for(state="visible")
    page.wait_for_function("() => document.activeElement.dataset.key === 'menu:buyer:0'")
    page.keyboard.press("ArrowDown")  # → "Dropout"
    page.wait_for_function("() => document.activeElement.dataset.key === 'menu:buyer:1'")
    page.keyboard.press("Enter")
    nb.kernel.wait_for("len(tb.config.buyer_tower_layers) == 4", timeout=30)
    assert nb.kernel.eval("[l.type for l in tb.config.buyer_tower_layers]") == [
        "dense",
        "dense",
        "dropout",
        "dense",
    ]
    # Focus follows the new block (once the front end has Python's new config).
    page.wait_for_function(
        "() => document.activeElement.dataset.key === 'layer:buyer:2'"
        " && document.activeElement.textContent.includes('Dropout')"
    )

    # Enter opens its modal, Escape closes it and focus returns to the block.
    page.keyboard.press("Enter")
    dialog = page.locator(".tw-modal[role=dialog]")
    dialog.wait_for(state="visible")
    expect(dialog).to_contain_text("Configure Dropout Layer")
    page.keyboard.press("Escape")
    dialog.wait_for(state="detached")
    # (Python's late traits may have re-rendered the block meanwhile; focus finds its successor.)
    page.wait_for_function(
        "() => document.activeElement.dataset.key === 'layer:buyer:2'"
        " && document.activeElement.textContent.includes('Dropout')"
    )

    # Alt+↑ moves it above Dense(64); focus stays with it.
    page.keyboard.press("Alt+ArrowUp")
    nb.kernel.wait_for("tb.config.buyer_tower_layers[1].type == 'dropout'", timeout=30)
    assert nb.kernel.eval("[l.type for l in tb.config.buyer_tower_layers]") == [
        "dense",
        "dropout",
        "dense",
        "dense",
    ]
    # Focus is on the Dropout block at its new place (not the stale block at index 1).
    page.wait_for_function(
        "() => document.activeElement.dataset.key === 'layer:buyer:1'"
        " && document.activeElement.textContent.includes('Dropout')"
    )
    # The keys stayed in the widget: JupyterLab did not run a notebook command instead.
    assert nb.page.locator(".jp-NotebookPanel .jp-Cell").count() == 2
    assert page.page_errors == []


CONTRAST = """(el) => {
  const rgba = (s) => (s.match(/[\\d.]+/g) || []).map(Number);
  const lum = ([r, g, b]) => {
    const f = (c) => { c /= 255; return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4; };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  };
  let node = el, bg = null;
  while (node && node.nodeType === 1) {
    const c = rgba(getComputedStyle(node).backgroundColor);
    if (c.length >= 3 && (c.length < 4 || c[3] > 0.5)) { bg = c; break; }
    node = node.parentElement;
  }
  bg = bg || [255, 255, 255];
  const fg = rgba(getComputedStyle(el).color);
  const [a, b] = [lum(fg), lum(bg)].sort((x, y) => y - x);
  return { fg: fg.slice(0, 3), bg: bg.slice(0, 3), ratio: (a + 0.05) / (b + 0.05),
           bgLum: lum(bg), themeLight: document.body.dataset.jpThemeLight };
}"""


@pytest.fixture
def dark_theme(lab):
    lab.set_setting("@jupyterlab/apputils-extension:themes", {"theme": "JupyterLab Dark"})
    try:
        yield
    finally:
        lab.set_setting("@jupyterlab/apputils-extension:themes", {"theme": "JupyterLab Light"})


def test_dark_theme_text_and_background_differ_clearly(dark_theme, notebook, shot):
    nb = notebook([SETUP, "wiz = tw.ModelWizard(store=store, feature_config=fc)\nwiz"], run=True)
    page = nb.page
    page.wait_for_function("() => document.body.dataset.jpThemeLight === 'false'", timeout=30_000)
    wiz = nb.output(1).locator(".tw-wizard")
    wiz.wait_for(state="visible", timeout=60_000)
    wiz.locator('[data-key="name"]').fill("Dark check")
    wiz.locator('[data-key="continue"]').click()
    nb.kernel.wait_for("wiz.step == 2", timeout=30)
    expect(wiz.locator(".tw-step-count")).to_have_text("Step 2 of 3")
    wiz.locator(".tw-tower-buyer .tw-layer").first.wait_for()

    samples = {
        "title": wiz.locator(".tw-wizard-title"),
        "layer": wiz.locator(".tw-tower-buyer .tw-layer-title").first,
        "preset": wiz.locator(".tw-preset .tw-card-title").first,
        "footer": wiz.locator(".tw-tower-footer").first,
    }
    for name, locator in samples.items():
        result = locator.evaluate(CONTRAST)
        assert result["bgLum"] < 0.2, f"{name}: background is not dark: {json.dumps(result)}"
        assert result["ratio"] >= 4.5, f"{name}: text hard to read: {json.dumps(result)}"
    shot(wiz, "wizard-dark-theme")
    assert page.page_errors == []
