"""The Model Structure chapter: + New Model shows the new card, View shows the generated
trainer code, Clone and Delete change the store."""

from __future__ import annotations

from playwright.sync_api import expect

SETUP = """
import towerwidgets as tw

store = tw.Store()
data = tw.datasets.sample(n_buyers=60, n_products=50, n_interactions=600, seed=1)
fc = store.feature_configs.create(tw.FeatureConfig.infer(
    data, buyer_columns=["buyer_id", "buyer_region"],
    product_columns=["product_id", "category", "price"], name="Sample features"))
store.model_configs.create(tw.ModelConfig.from_preset(
    "asymmetric", name="Deep Asymmetric v2", optimizer="adam", learning_rate=0.01,
    batch_size=8192))
"""
CHAPTER = "ms = tw.ModelStructure(store=store, feature_config=fc)\nms"


def test_new_view_clone_delete(notebook, lab, shot):
    nb = notebook([SETUP, CHAPTER], run=True)
    chapter = nb.output(1).locator(".tw-structure")
    chapter.wait_for(state="visible", timeout=60_000)
    cards = chapter.locator(".tw-config-card")
    assert cards.count() == 1
    card = cards.first
    assert "Deep Asymmetric v2" in card.inner_text()
    assert "256 → 128 → 64" in card.inner_text() and "128 → 64" in card.inner_text()
    assert "Adam @ 0.01" in card.inner_text() and "8192" in card.inner_text()

    # + New Model opens the wizard inside the chapter; Save adds a card.
    chapter.locator('[data-action="new"]').click()
    wizard = chapter.locator(".tw-wizard")
    wizard.wait_for(state="visible")
    wizard.locator('[data-key="name"]').fill("Standard Retrieval v1")
    wizard.locator('[data-key="continue"]').click()
    wizard.locator(".tw-tower-buyer").wait_for(state="visible")
    wizard.locator('[data-key="continue"]').click()
    wizard.locator('[data-key="save"]').click()
    chapter.locator(".tw-config-card", has_text="Standard Retrieval v1").wait_for()
    wizard.wait_for(state="detached")
    assert sorted(c.name for c in lab.store().model_configs.list()) == [
        "Deep Asymmetric v2",
        "Standard Retrieval v1",
    ]
    expect(cards).to_have_count(2)
    shot(chapter, "model-structure-chapter")

    # View: read-only architecture and the generated trainer code for the feature config.
    new_id = nb.kernel.eval(
        "[c['id'] for c in ms.configs if c['name'] == 'Standard Retrieval v1'][0]"
    )
    chapter.locator(f'[data-key="view:{new_id}"]').click()
    view = chapter.locator(".tw-view")
    view.wait_for(state="visible")
    assert "View: Standard Retrieval v1" in view.inner_text()
    view.get_by_text("def run_fn(fn_args)").first.wait_for(timeout=30_000)
    kernel_code = nb.kernel.eval("ms.code")
    assert "def run_fn(fn_args)" in kernel_code
    assert "class BuyerModel" in view.inner_text()
    shot(view, "model-structure-view-code")
    view.locator('[data-key="close-view"]').click()
    view.wait_for(state="detached")

    # Clone → a third card and a third stored config.
    chapter.locator(f'[data-key="clone:{new_id}"]').click()
    nb.kernel.wait_for("len(ms.configs) == 3", timeout=30)
    expect(cards).to_have_count(3)
    assert len(lab.store().model_configs.list()) == 3
    clone_id = nb.kernel.eval(
        "[c['id'] for c in ms.configs if c['name'] not in "
        "('Standard Retrieval v1', 'Deep Asymmetric v2')][0]"
    )
    cloned = lab.store().model_configs.get(clone_id)
    original = lab.store().model_configs.get(new_id)
    assert cloned.buyer_tower_layers == original.buyer_tower_layers
    assert cloned.name != original.name

    # Del asks first; Cancel keeps it, Delete removes it from the store and the page.
    chapter.locator(f'[data-key="delete:{clone_id}"]').click()
    confirm = chapter.locator(".tw-confirm[role=alertdialog]")
    confirm.wait_for(state="visible")
    assert cloned.name in confirm.inner_text()
    confirm.locator('[data-key="confirm-cancel"]').click()
    confirm.wait_for(state="detached")
    assert len(lab.store().model_configs.list()) == 3
    chapter.locator(f'[data-key="delete:{clone_id}"]').click()
    confirm.locator('[data-key="confirm-delete"]').click()
    nb.kernel.wait_for("len(ms.configs) == 2", timeout=30)
    assert [c.id for c in lab.store().model_configs.list() if c.id == clone_id] == []
    chapter.locator(f'[data-key="delete:{clone_id}"]').wait_for(state="detached")
    expect(cards).to_have_count(2)
    assert nb.page.page_errors == []
