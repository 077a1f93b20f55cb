"""Recommendation preview in the browser: a MovieLens quick test finishes in the kernel, the
preview opens, a buyer is searched and picked with the keyboard, and a recommended
title (from movies.csv) shows beside the buyer's history."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import expect

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
