"""The Features chapter in JupyterLab: a FeatureConfig built from MovieLens by clicks (and a
few keys) only, checked against the data in the kernel, saved, and found in the store."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from playwright.sync_api import expect
from test_accessibility import AXE
from test_accessibility import _check as check_accessibility

MOVIELENS = Path(
    os.environ.get(
        "TOWERWIDGETS_MOVIELENS",
        Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "movielens-latest-small",
    )
).resolve()

SETUP = f"""
import towerwidgets as tw

store = tw.Store()
# ratings.csv merged with movies.csv (title, genres, first genre, year)
data = tw.datasets.movielens({str(MOVIELENS)!r})
page = tw.ModelingPage(store, data=data, title="MovieLens")
page
"""


@pytest.mark.skipif(not MOVIELENS.is_dir(), reason="MovieLens latest-small is not next to the repo")
def test_build_a_feature_config_from_movielens_by_clicks(notebook, lab, shot):
    nb = notebook([SETUP], run=True)
    chapter = nb.output(0).locator(".tw-features-chapter")
    chapter.wait_for(state="visible", timeout=120_000)
    chapter.locator('[data-key="new-features"]').click()
    editor = chapter.locator(".tw-feature-editor")
    editor.wait_for(state="visible", timeout=120_000)
    dims = editor.locator('[data-testid="fe-dims"]')
    rows = editor.locator("tbody tr")
    expect(rows).to_have_count(8)
    # The proposal: ids embedded, rating (the label), timestamp and title left out.
    expect(dims).to_have_text("Buyer tower input: 32DProduct tower input: 80D")
    row = {
        name: editor.locator(f'tr[data-column="{name}"]')
        for name in ("userId", "movieId", "rating", "timestamp", "title", "genres", "genre", "year")
    }
    expect(row["rating"]).to_contain_text("looks like the label")
    expect(row["userId"].locator("td").nth(1)).to_have_text("610")
    expect(row["movieId"].locator("svg rect").first).to_be_attached()

    editor.locator('[data-key="fe-name"]').fill("MovieLens by clicks")
    editor.locator('[data-key="fe-name"]').press("Tab")
    nb.kernel.wait_for("page.feature_editor.config.name == 'MovieLens by clicks'")

    # The timestamp joins the buyer tower (cyclical per week, its proposal), plus a z-score.
    row["timestamp"].locator('[data-key="tower:timestamp"]').select_option("buyer")
    expect(dims).to_contain_text("Buyer tower input: 34D")
    row["timestamp"].locator('[data-key="add:timestamp"]').click()
    expect(dims).to_contain_text("Buyer tower input: 35D")

    # The first genre duplicates genres: out, from the keyboard (two steps up the menu).
    tower_genre = row["genre"].locator('[data-key="tower:genre"]')
    tower_genre.focus()
    nb.page.keyboard.press("ArrowUp")  # Product → Buyer
    expect(dims).to_contain_text("Buyer tower input: 43D")
    expect(row["genre"].locator('[data-key="tower:genre"]')).to_be_focused()
    nb.page.keyboard.press("ArrowUp")  # Buyer → left out
    expect(dims).to_have_text("Buyer tower input: 35DProduct tower input: 72D")

    # A transform the data cannot take: the kernel's validate_against message, in the row.
    row["genres"].locator('[data-key="transform:genres:0"]').select_option("normalize")
    problem = row["genres"].locator(".tw-field-error")
    expect(problem).to_contain_text("Column 'genres' has dtype")
    expect(problem).to_contain_text("needs numbers; use transform 'embedding' for categories")
    message = nb.kernel.eval("page.feature_editor.errors[0]")
    assert message == nb.kernel.eval("page.feature_editor.config.validate_against(data)[0]")
    row["genres"].locator('[data-key="transform:genres:0"]').select_option("embedding")
    expect(problem).to_have_count(0)

    # Year in 20 buckets, and a genres × year cross in the product tower.
    buckets = row["year"].locator('[data-key="buckets:year:0"]')
    buckets.fill("20")
    buckets.press("Enter")
    nb.kernel.wait_for("page.feature_editor.transforms_of('year')[0].num_buckets == 20")
    editor.locator('[data-key="cross-col:genres"]').check()
    editor.locator('[data-key="cross-col:year"]').check()
    editor.locator('[data-key="add-cross"]').click()
    expect(dims).to_have_text("Buyer tower input: 35DProduct tower input: 88D")
    expect(editor.locator(".tw-fe-cross-list")).to_contain_text("genres × year")
    expect(editor.locator(".tw-fe-ok")).to_have_text("✓ Valid against the data")
    shot(chapter, "features-chapter")

    editor.locator('[data-key="fe-save"]').click()
    editor.wait_for(state="detached")
    card = chapter.locator(".tw-config-card", has_text="MovieLens by clicks")
    expect(card).to_contain_text("Buyer: 35D • Product: 88D • Crosses: 1 • ✓ Valid")
    expect(chapter.locator(".tw-features-status")).to_have_text("Saved “MovieLens by clicks”")

    # In the store, seen from the kernel and from here.
    stored = nb.kernel.eval(
        "[(c.name, c.buyer_tensor_dim, c.product_tensor_dim, c.validate_against(data)) "
        "for c in store.feature_configs.list()]"
    )
    assert stored == [["MovieLens by clicks", 35, 88, []]]
    [fc] = lab.store().feature_configs.list()
    assert (fc.buyer_id_column, fc.product_id_column) == ("userId", "movieId")
    assert [(f.column, f.transform) for f in fc.buyer_features] == [
        ("userId", "embedding"),
        ("timestamp", "cyclical"),
        ("timestamp", "normalize"),
    ]
    assert [(f.column, f.transform) for f in fc.product_features] == [
        ("movieId", "embedding"),
        ("genres", "embedding"),
        ("year", "bucketize"),
    ]
    assert fc.product_features[2].num_buckets == 20
    assert [(c.tower, c.columns) for c in fc.crosses] == [("product", ["genres", "year"])]

    # Edit on the card reopens it on the stored config; Cancel changes nothing.
    chapter.locator(f'[data-key="edit-features:{fc.id}"]').click()
    editor.wait_for(state="visible", timeout=120_000)
    expect(editor.locator(".tw-fe-title")).to_have_text("Edit Feature Config")
    expect(editor.locator('[data-key="fe-name"]')).to_have_value("MovieLens by clicks")
    expect(dims).to_have_text("Buyer tower input: 35DProduct tower input: 88D")
    editor.locator('[data-key="fe-cancel"]').click()
    editor.wait_for(state="detached")
    assert len(lab.store().feature_configs.list()) == 1
    assert nb.page.page_errors == []


@pytest.mark.skipif(not AXE.is_file(), reason="axe-core is not installed (npm ci)")
def test_the_editor_is_accessible_in_light_and_dark(theme, notebook):
    nb = notebook(
        [
            "import towerwidgets as tw\n"
            "data = tw.datasets.sample(n_buyers=60, n_products=50, n_interactions=600)\n"
            "ed = tw.FeatureEditor(data, name='Accessible')\n"
            "ed.set_column('category', transform='normalize')  # a problem on show\n"
            "ed"
        ],
        run=True,
    )
    light = "true" if theme == "light" else "false"
    nb.page.wait_for_function(f"() => document.body.dataset.jpThemeLight === '{light}'")
    nb.page.add_script_tag(path=str(AXE))
    editor = nb.output(0).locator(".tw-root")
    editor.locator(".tw-feature-editor").wait_for(state="visible", timeout=60_000)
    expect(editor.locator('tr[data-column="category"] .tw-field-error')).to_be_visible()
    check_accessibility(nb.page, editor, f"feature editor ({theme})")
