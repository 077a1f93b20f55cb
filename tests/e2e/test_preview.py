"""Recommendation preview in the browser: a MovieLens quick test finishes in the kernel, the
preview opens, a buyer is searched and picked with the keyboard, and a recommended
title (from movies.csv) shows beside the buyer's history. Also: a ranking preview passes
axe-core and WCAG AA contrast in both themes; Preview in Recent Quick Tests opens one."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import expect
from test_accessibility import AXE, _check

MOVIELENS = Path("/work/shared/data/movielens-latest-small")
for parent in Path(__file__).resolve().parents:
    if (parent / "shared" / "data" / "movielens-latest-small").is_dir():
        MOVIELENS = parent / "shared" / "data" / "movielens-latest-small"
        break

SETUP = f"""
import pandas as pd
import towerwidgets as tw

store = tw.Store()
ratings = pd.read_csv({str(MOVIELENS / "ratings.csv")!r})
ratings = ratings[ratings["userId"] <= 80]
fc = tw.FeatureConfig(
    name="MovieLens ids", buyer_id_column="userId", product_id_column="movieId",
    buyer_features=[{{"column": "userId", "embedding_dim": 32}}],
    product_features=[{{"column": "movieId", "embedding_dim": 32}}],
)
mc = tw.ModelConfig.from_preset(
    "minimal", name="Minimal Retrieval", optimizer="adam", learning_rate=0.01, batch_size=256
)
record = tw.run_quick_test(fc, mc, ratings, epochs=3, store=store)
record.status
"""
PREVIEW = f"p = tw.preview(record.id, products={str(MOVIELENS / 'movies.csv')!r}, store=store)\np"


def test_open_a_preview_and_read_a_title(notebook, shot):
    nb = notebook([SETUP, PREVIEW], run=True)
    nb.wait_done(timeout=600)
    assert nb.kernel.eval("record.status", timeout=600) == "completed"
    view = nb.output(1).locator(".tw-preview")
    view.wait_for(state="visible", timeout=120_000)
    expect(view.locator(".tw-preview-title")).to_contain_text("MovieLens ids + Minimal Retrieval")
    expect(view).to_contain_text("80 buyers in the training split")

    # Search by id prefix: "7" lists 7, 70…79; ArrowDown + Enter picks the first (7).
    box = view.get_by_role("combobox", name="Buyer id")
    box.click()
    box.press_sequentially("7")
    options = view.get_by_role("option")
    expect(options.first).to_have_text("7", timeout=30_000)
    expect(options).to_have_count(11)  # 7 and 70…79
    box.press("ArrowDown")
    expect(options.first).to_have_attribute("aria-selected", "true")
    box.press("Enter")

    results = view.locator(".tw-preview-results")
    expect(results.locator("h4")).to_have_text("Top 10 for buyer 7", timeout=300_000)
    expect(results.locator("tbody tr")).to_have_count(10)
    expected = nb.kernel.eval("list(p.recommend(7)['title'])")
    header = [t.strip() for t in results.locator("thead th").all_inner_texts()]
    title_col = header.index("title")
    first_title = results.locator("tbody tr").first.locator("td").nth(title_col)
    expect(first_title).to_have_text(expected[0])
    assert expected[0].endswith(")")  # a MovieLens title with its year, e.g. "… (1995)"
    history = view.locator(".tw-preview-history")
    expect(history.locator("h4")).to_contain_text("History of buyer 7 (training split")
    n_history = nb.kernel.eval("len(p.history(7))")
    expect(history.locator("h4")).to_contain_text(f"{n_history} rows")
    expect(history.locator("tbody tr").first).to_be_visible()
    shot(view, "recommendation-preview")

    # A buyer that does not exist: a message where the eye is, the results stay.
    box.fill("")
    box.press_sequentially("99999")
    box.press("Enter")
    expect(view.get_by_role("alert")).to_contain_text("Buyer '99999' is not in quick test")
    expect(results.locator("tbody tr")).to_have_count(10)

    pid = nb.kernel.eval("p._previewer.worker.pid")
    nb.kernel.execute("p.close()")
    assert nb.kernel.wait_for(
        f"not __import__('os').path.exists('/proc/{pid}') or "
        f"open('/proc/{pid}/stat').read().rsplit(')', 1)[1].split()[0] == 'Z'",
        timeout=60,
    )
    assert not nb.page.page_errors


RANKING = """
import towerwidgets as tw

store = tw.Store()
data = tw.datasets.sample(n_buyers=100, n_products=60, n_interactions=2000, seed=4)
fc = tw.FeatureConfig.infer(
    data, buyer_columns=["buyer_id", "buyer_region"],
    product_columns=["product_id", "category", "price"], name="Sample features")
mc = tw.ModelConfig.from_preset("minimal", name="Minimal Ranking", model_type="ranking")
record = tw.run_quick_test(fc, mc, data, rating_column="rating", epochs=2, store=store)
buyer = data["buyer_id"].iloc[0]
p = tw.preview(record.id, store=store)
p
"""


@pytest.mark.skipif(not AXE.is_file(), reason="axe-core is not installed (npm ci)")
def test_a_ranking_preview_is_accessible_in_light_and_dark(theme, notebook):
    nb = notebook([RANKING], run=True)
    light = "true" if theme == "light" else "false"
    nb.page.wait_for_function(f"() => document.body.dataset.jpThemeLight === '{light}'")
    view = nb.output(0).locator(".tw-preview")
    view.wait_for(state="visible", timeout=600_000)
    buyer = nb.kernel.eval("buyer")
    box = view.get_by_role("combobox", name="Buyer id")
    box.fill(buyer)
    box.press("Enter")
    expect(view.locator(".tw-preview-results h4")).to_have_text(
        f"Top 10 for buyer {buyer}", timeout=300_000
    )
    ratings = view.locator(".tw-preview-ratings")
    expect(ratings.locator("h4")).to_contain_text("Predicted vs actual rating")
    n_eval = nb.kernel.eval("len(p.ratings(buyer))")
    if n_eval:
        expect(ratings.locator("tbody tr")).to_have_count(n_eval)
    view.locator("summary").click()  # the typed-features form, open
    expect(view.locator(".tw-preview-form input").first).to_be_visible()
    nb.page.add_script_tag(path=str(AXE))
    _check(nb.page, view, f"recommendation preview ({theme})")
    nb.kernel.execute("p.close()")


PANEL = """
import towerwidgets as tw

store = tw.Store()
data = tw.datasets.sample(n_buyers=100, n_products=60, n_interactions=2000, seed=4)
fc = tw.FeatureConfig.infer(
    data, buyer_columns=["buyer_id"], product_columns=["product_id", "category"],
    name="Sample features")
mc = tw.ModelConfig.from_preset("minimal", name="Minimal Retrieval")
record = tw.run_quick_test(fc, mc, data, epochs=1, store=store)
qt = tw.QuickTestPanel(store=store, data=data)
qt
"""


def test_preview_from_recent_quick_tests(notebook):
    nb = notebook([PANEL], run=True)
    panel = nb.output(0).locator(".tw-quick-test")
    panel.wait_for(state="visible", timeout=600_000)
    test_id = nb.kernel.eval("record.id")
    button = panel.get_by_role("button", name="Preview recommendations of Sample features")
    expect(button).to_have_count(1, timeout=60_000)
    button.click()
    view = panel.locator(".tw-qt-preview .tw-preview")
    expect(view.locator(".tw-preview-title")).to_contain_text(f"Quick test {test_id}:")
    assert nb.kernel.wait_for("qt.preview is not None and qt.preview.quick_test_id", timeout=60)
    buyer = nb.kernel.eval("qt.preview.buyers('B')[0]")
    box = view.get_by_role("combobox", name="Buyer id")
    box.fill(buyer)
    box.press("Enter")
    expect(view.locator(".tw-preview-results tbody tr")).to_have_count(10, timeout=300_000)
    expected = nb.kernel.eval(f"list(qt.preview.recommend({buyer!r})['product_id'])")
    first = view.locator(".tw-preview-results tbody tr").first.locator("td").nth(1)
    expect(first).to_have_text(expected[0])
    nb.kernel.execute("qt.close()")
