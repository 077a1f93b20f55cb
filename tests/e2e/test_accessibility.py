"""axe-core (the npm package) on our widgets in JupyterLab's light and dark themes: the
wizard (steps 1 and 2), the Model Structure chapter with View open, the Quick Test panel
and a metrics table with best values and baselines. No serious or critical violation, and
every text element at WCAG AA contrast (measured here: see CONTRAST_ALL). Only our own DOM
is checked (``.tw-root``): JupyterLab's chrome is not ours to fix."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from playwright.sync_api import expect
from test_safety_keyboard_theme import SETUP

AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"

RUN_AXE = """async (root) => {
  const result = await window.axe.run(root, {
    runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"] },
  });
  const violations = result.violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => ({ id: v.id, impact: v.impact, help: v.help,
                   nodes: v.nodes.slice(0, 5).map((n) => [n.target.join(" "), n.failureSummary]) }));
  return { violations };
}"""


# axe-core decides that text inside JupyterLab's windowed notebook (a scrolling region in a
# `contain: strict` panel) is not "visible on screen", so its colour-contrast rule skips our
# widgets there. This measures every text element ourselves, with WCAG's formula: the text
# colour (alpha composited) against the first opaque background behind it.
CONTRAST_ALL = """(root) => {
  // "rgb(…)", "rgba(…)", or "color(srgb r g b / a)" (0-1 channels: what color-mix() gives)
  const rgba = (s) => {
    const n = (s.match(/[\\d.]+/g) || []).map(Number);
    return s.startsWith("color(srgb") ? [n[0] * 255, n[1] * 255, n[2] * 255, n.length > 3 ? n[3] : 1] : n;
  };
  const lum = ([r, g, b]) => {
    const f = (c) => { c /= 255; return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4; };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  };
  const background = (el) => {
    for (let n = el; n && n.nodeType === 1; n = n.parentElement) {
      const c = rgba(getComputedStyle(n).backgroundColor);
      if (c.length >= 3 && (c.length < 4 || c[3] > 0.5)) return c.slice(0, 3);
    }
    return [255, 255, 255];
  };
  const failures = [];
  let checked = 0;
  for (const el of root.querySelectorAll("*")) {
    const own = [...el.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim());
    if (!own || el.closest("[aria-hidden=true], [hidden], :disabled, .tw-sr, svg")) continue;
    const style = getComputedStyle(el);
    const rect = el.getBoundingClientRect();
    if (!rect.width || !rect.height || style.visibility === "hidden") continue;
    const bg = background(el);
    const c = rgba(style.color);
    const a = c.length > 3 ? c[3] : 1;
    const fg = [0, 1, 2].map((i) => c[i] * a + bg[i] * (1 - a));
    const [hi, lo] = [lum(fg), lum(bg)].sort((x, y) => y - x);
    const ratio = (hi + 0.05) / (lo + 0.05);
    const size = parseFloat(style.fontSize);
    const large = size >= 24 || (size >= 18.66 && Number(style.fontWeight) >= 700);
    checked += 1;
    if (ratio < (large ? 3 : 4.5)) {
      failures.push({ text: el.textContent.trim().slice(0, 40), cls: el.className, ratio: Math.round(ratio * 100) / 100,
                      fg: fg.map(Math.round), bg });
    }
  }
  return { checked, failures: failures.slice(0, 12) };
}"""


def _check(page, locator, where: str) -> None:
    """axe-core on ``locator`` (top, middle and bottom scrolled into view in turn), then the
    contrast of every text element in it (see CONTRAST_ALL)."""
    for block in ("start", "center", "end"):
        locator.evaluate(f"(el) => el.scrollIntoView({{block: '{block}'}})")
        result = locator.evaluate(RUN_AXE)
        violations = result["violations"]
        assert violations == [], f"{where}: " + json.dumps(violations, indent=1, ensure_ascii=False)
    contrast = locator.evaluate(CONTRAST_ALL)
    assert contrast["checked"] > 10, f"{where}: hardly any text measured: {contrast}"
    assert contrast["failures"] == [], f"{where}: low contrast: " + json.dumps(
        contrast["failures"], indent=1, ensure_ascii=False
    )


@pytest.mark.skipif(not AXE.is_file(), reason="axe-core is not installed (npm ci)")
def test_no_serious_accessibility_violation(theme, notebook):
    mc = (
        "mc = store.model_configs.create(tw.ModelConfig.from_preset("
        "'standard', name='Standard Retrieval v1'))"
    )
    nb = notebook(
        [
            SETUP + mc,
            "wiz = tw.ModelWizard(store=store, feature_config=fc)\nwiz",
            "page = tw.ModelingPage(store=store, data=data)\npage",
            "import pandas as pd\n"
            "table = tw.MetricsTable(df=pd.DataFrame({'epoch': [1, 2], 'loss': [0.9, 0.5],"
            " 'recall_at_100': [0.2, 0.25], 'rmse': [1.1, 0.9]}))\n"
            "table.set_baselines({'recall_at_100': 0.3, 'rmse': 1.0})\ntable",
        ],
        run=True,
    )
    page = nb.page
    light = "true" if theme == "light" else "false"
    page.wait_for_function(f"() => document.body.dataset.jpThemeLight === '{light}'")
    page.add_script_tag(path=str(AXE))

    wizard = nb.output(1).locator(".tw-root")
    wizard.locator(".tw-type-card").first.wait_for(state="visible", timeout=60_000)
    _check(page, wizard, f"wizard step 1 ({theme})")
    wizard.locator('[data-key="name"]').fill("Accessible")
    wizard.locator('[data-key="continue"]').click()
    nb.kernel.wait_for("wiz.step == 2", timeout=30)
    expect(wizard.locator(".tw-step-count")).to_have_text("Step 2 of 3")
    wizard.locator(".tw-tower-buyer .tw-layer").first.wait_for()
    _check(page, wizard, f"wizard step 2 ({theme})")

    modeling = nb.output(2).locator(".tw-root").first
    structure = modeling.locator(".tw-structure")
    card = structure.locator(".tw-config-card").first
    card.wait_for(state="visible", timeout=60_000)
    panel = modeling.locator(".tw-quick-test")
    panel.get_by_text("✓ Model Config: Valid architecture").wait_for()
    _check(page, modeling, f"structure chapter and quick test panel ({theme})")
    card.locator('[data-key^="view:"]').click()
    view = structure.locator(".tw-view")
    view.wait_for(state="visible")
    view.locator(".tw-code").first.wait_for()
    view.locator(".tw-model-summary summary").click()  # the model.summary() table
    view.locator(".tw-model-summary table").wait_for(state="visible")
    _check(page, modeling, f"View ({theme})")

    table = nb.output(3).locator(".tw-root")
    expect(table.locator(".tw-baseline-row")).to_be_visible()
    expect(table.locator(".tw-best")).not_to_have_count(0)
    _check(page, table, f"metrics table with best values and baselines ({theme})")
    assert page.page_errors == []
