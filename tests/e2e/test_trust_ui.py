"""Issue 14 in a real JupyterLab: no click lost to a rebuild under the pointer, a refused
value said beside its field, best values readable in the dark theme.

Every wait is on page or kernel state (``expect``, ``wait_for``), never on time: the
pointer is held down until the front end shows Python's answer, so the rebuild that used to
swallow the click has certainly happened before the button comes up.
"""

from __future__ import annotations

import json

import pytest
from playwright.sync_api import expect
from test_safety_keyboard_theme import CONTRAST, SETUP


def test_a_type_card_pressed_while_the_name_syncs_still_gets_its_click(notebook):
    nb = notebook([SETUP, "wiz = tw.ModelWizard(store=store, feature_config=fc)\nwiz"], run=True)
    page = nb.page
    wiz = nb.output(1).locator(".tw-wizard")
    wiz.wait_for(state="visible", timeout=60_000)
    name = wiz.locator('[data-key="name"]')
    name.fill("")
    wiz.locator('[data-key="continue"]').click()  # empty name: the error shows beside it
    expect(name).to_have_attribute("aria-invalid", "true")
    expect(wiz.locator(".tw-step1 .tw-field-error")).to_have_text("✗ Model name is required")

    name.click()
    page.keyboard.type("Quick")
    card = wiz.locator('[data-key="type:ranking"]')
    card.scroll_into_view_if_needed()
    box = card.bounding_box()
    assert box is not None
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.down()  # blurs the name field: the name goes to Python…
    nb.kernel.wait_for("wiz.config.name == 'Quick'", timeout=30)
    # …and Python's answer (no more name error) is on the page while the button is down.
    expect(name).to_have_attribute("aria-invalid", "false")
    page.mouse.up()
    nb.kernel.wait_for("wiz.config.model_type == 'ranking'", timeout=30)
    expect(card).to_have_attribute("aria-checked", "true")
    assert page.page_errors == []


def test_a_refused_units_value_is_said_beside_the_field_and_not_applied(notebook):
    nb = notebook([SETUP, "tb = tw.TowerBuilder(feature_config=fc)\ntb"], run=True)
    page = nb.page
    builder = nb.output(1).locator(".tw-builder")
    builder.wait_for(state="visible", timeout=60_000)
    builder.locator('[data-key="gear:buyer:0"]').click()
    dialog = page.locator(".tw-modal[role=dialog]")
    dialog.wait_for(state="visible")
    units = dialog.locator('[data-key="units:custom"]')
    units.fill("0")
    dialog.locator('[data-action="apply"]').click()
    error = dialog.locator(".tw-field-error")
    expect(error).to_have_text(
        "✗ Units (neurons) must be a whole number from 1 to 2048 (you entered 0)."
    )
    expect(error).to_be_in_viewport()
    expect(units).to_have_attribute("aria-invalid", "true")
    expect(units).to_be_focused()
    expect(dialog).to_be_visible()  # Apply did not close over the refused value
    assert nb.kernel.eval("tb.config.buyer_tower_layers[0].units") == 128

    units.fill("48")
    dialog.locator('[data-action="apply"]').click()
    dialog.wait_for(state="detached")
    nb.kernel.wait_for("tb.config.buyer_tower_layers[0].units == 48", timeout=30)
    assert page.page_errors == []


@pytest.fixture
def dark_theme(lab):
    lab.set_setting("@jupyterlab/apputils-extension:themes", {"theme": "JupyterLab Dark"})
    try:
        yield
    finally:
        lab.set_setting("@jupyterlab/apputils-extension:themes", {"theme": "JupyterLab Light"})


def test_best_values_are_readable_in_the_dark_theme(dark_theme, notebook):
    table = (
        "import pandas as pd\n"
        "table = tw.MetricsTable(df=pd.DataFrame({'epoch': [1, 2], 'loss': [0.9, 0.5],"
        " 'recall_at_100': [0.2, 0.3]}))\ntable"
    )
    nb = notebook(["import towerwidgets as tw", table], run=True)
    page = nb.page
    page.wait_for_function("() => document.body.dataset.jpThemeLight === 'false'", timeout=30_000)
    best = nb.output(1).locator(".tw-best")
    expect(best).to_have_count(2)
    for i in range(2):
        result = best.nth(i).evaluate(CONTRAST)
        assert result["bgLum"] < 0.2, f"background is not dark: {json.dumps(result)}"
        assert result["ratio"] >= 4.5, f"best value hard to read: {json.dumps(result)}"
    assert page.page_errors == []
