// Each component: renders, follows trait changes, sends the right commands, escapes data,
// and its cleanup removes every listener it added.
import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import widget, { keepKeys } from "../../js/index.js";

const { render } = widget;
import { renderMetricsTable, sortRows } from "../../js/metrics_table.js";
import { renderTowerBuilder } from "../../js/tower_builder.js";
import { renderWizard } from "../../js/wizard.js";
import { renderModelStructure } from "../../js/structure.js";
import { renderQuickTest } from "../../js/quick_test.js";
import { renderModelingPage } from "../../js/page.js";
import { tokenize } from "../../js/highlight.js";
import { XSS, fakeModel, tick } from "./fake_model.js";

const vectors = JSON.parse(readFileSync(resolve(dirname(fileURLToPath(import.meta.url)), "../vectors/model_configs.json"), "utf8"));
const byName = Object.fromEntries(vectors.cases.map((c) => [c.name, c]));
const standard = () => structuredClone(byName["standard preset"].config_json);

function builderState(overrides = {}) {
  return {
    _view: "tower_builder",
    config_data: standard(),
    errors: [],
    warnings: [],
    estimates: { total_params_text: "≈40K", quick_test_time: "~35s", params_assumption: "assumes 64 input features per tower", buyer: { params_text: "≈23K" }, product: { params_text: "≈23K" } },
    presets: [
      { key: "minimal", name: "Minimal", buyer_summary: "64→32", product_summary: "64→32", symmetric: true, extras: [], estimated_time: "~3 min" },
      { key: "standard", name: "Standard", buyer_summary: "128→64→32", product_summary: "128→64→32", symmetric: true, extras: [], estimated_time: "~8 min" },
      { key: "asymmetric", name: "Asymmetric", buyer_summary: "256→128→64", product_summary: "128→64", symmetric: false, extras: [], estimated_time: "~10 min" },
    ],
    preset: "standard",
    input_dims: { buyer: null, product: null, feature_config: null },
    notice: "",
    ...overrides,
  };
}

/** @param {HTMLElement} el @param {string} text */
const buttonByText = (el, text) => /** @type {HTMLButtonElement} */ ([...el.querySelectorAll("button")].find((b) => b.textContent.trim() === text));

let el;
beforeEach(() => { el = document.createElement("div"); document.body.appendChild(el); });
// Real timers again even when a fake-timer test failed half-way (no leak into the next test).
afterEach(() => { vi.useRealTimers(); el.remove(); document.body.replaceChildren(); });

describe("TowerBuilder", () => {
  it("renders presets, both towers with colour-coded blocks and footers", () => {
    const model = fakeModel(builderState());
    const cleanup = renderTowerBuilder({ model, el });
    expect(el.querySelectorAll(".tw-preset").length).toBe(3);
    expect(el.querySelector('[data-key="preset:standard"]').getAttribute("aria-checked")).toBe("true");
    expect(el.querySelectorAll(".tw-tower").length).toBe(2);
    const buyer = el.querySelector(".tw-tower-buyer");
    expect(buyer.querySelectorAll(".tw-layer").length).toBe(3);
    expect(buyer.querySelectorAll(".tw-layer-dense").length).toBe(2);
    const output = buyer.querySelector(".tw-layer-output");
    expect(output.textContent).toContain("Dense(32)");
    expect(output.textContent).toContain("Output Embedding");
    expect(buyer.querySelector(".tw-tower-footer").textContent).toBe("3 layers • ≈23K params"); // Python's figure
    expect(el.querySelector(".tw-tower-product").textContent).toContain("Copy from Buyer");
    expect(el.querySelectorAll(".tw-layer .tw-handle")[0].textContent).toBe("≡");
    cleanup();
    expect(model.listenerCount()).toBe(0);
    expect(el.children.length).toBe(0);
  });

  it("re-renders when Python changes the config and shows input dims", () => {
    const model = fakeModel(builderState());
    const cleanup = renderTowerBuilder({ model, el });
    const cfg = standard();
    cfg.buyer_tower_layers.splice(1, 0, { type: "dropout", rate: 0.2 }, { type: "batch_norm" });
    model.update({ config_data: cfg, input_dims: { buyer: 104, product: 72, feature_config: "Rich v2" }, estimates: { buyer: { params_text: "375,457", embedding_params: 331000 } } });
    const buyer = el.querySelector(".tw-tower-buyer");
    expect(buyer.querySelector(".tw-layer-dropout").textContent).toContain("20% drop rate");
    expect(buyer.querySelector(".tw-layer-batch_norm").textContent).toContain("Normalize activations");
    expect(buyer.textContent).toContain('104D from "Rich v2"');
    expect(buyer.querySelector(".tw-tower-footer").textContent).toBe("5 layers • 375,457 params (embeddings included)");
    cleanup();
  });

  it("sends commands: preset, add layer via the menu, delete, copy, output dim", () => {
    const model = fakeModel(builderState());
    const cleanup = renderTowerBuilder({ model, el });
    el.querySelector('[data-key="preset:minimal"]').click();
    expect(model.lastSent("apply_preset")).toMatchObject({ name: "minimal" });
    const add = el.querySelector('[data-key="add:buyer"]');
    add.click();
    const menu = el.querySelector(".tw-menu");
    expect(menu.getAttribute("role")).toBe("menu");
    const items = [...menu.querySelectorAll('[role="menuitem"]')].map((b) => b.textContent);
    expect(items[0]).toContain("Dense Layer");
    expect(items[1]).toContain("Randomly drop units during training");
    expect(items[2]).toContain("Batch Normalization");
    menu.querySelectorAll('[role="menuitem"]')[1].click();
    expect(model.lastSent("add_layer")).toMatchObject({ tower: "buyer", type: "dropout" });
    expect(el.querySelector(".tw-menu")).toBeNull();
    el.querySelector('[data-key="trash:product:0"]').click();
    expect(model.lastSent("remove_layer")).toMatchObject({ tower: "product", index: 0 });
    el.querySelector('[data-key="copy-from-buyer"]').click();
    expect(model.lastSent("copy_from_buyer")).toBeTruthy();
    el.querySelector('[data-key="output-dim:64"]').click();
    expect(model.lastSent("set_output_dim")).toMatchObject({ dim: 64 });
    cleanup();
    expect(model.listenerCount()).toBe(0);
  });

  it("focus moves to a newly added block only once Python's config arrives", () => {
    const model = fakeModel(builderState());
    const cleanup = renderTowerBuilder({ model, el });
    el.querySelector('[data-key="add:buyer"]').click();
    el.querySelectorAll('.tw-menu [role="menuitem"]')[1].click();
    // Before the answer: the old output block (index 2) must not take focus.
    expect(document.activeElement.dataset.key).toBe("add:buyer");
    const cfg = standard();
    cfg.buyer_tower_layers.splice(2, 0, { type: "dropout", rate: 0.2 });
    model.update({ config_data: cfg });
    expect(document.activeElement.dataset.key).toBe("layer:buyer:2");
    expect(document.activeElement.textContent).toContain("Dropout");
    cleanup();
  });

  it("Alt+Arrow and 🗑 move focus only once Python's config arrives, not on an earlier re-render", () => {
    const model = fakeModel(builderState());
    const cleanup = renderTowerBuilder({ model, el });
    const cfg = standard();
    cfg.buyer_tower_layers.splice(1, 0, { type: "dropout", rate: 0.2 });
    model.update({ config_data: cfg });
    const block = el.querySelector('[data-key="layer:buyer:1"]');
    expect(block.textContent).toContain("Dropout");
    block.focus();
    block.dispatchEvent(new KeyboardEvent("keydown", { key: "ArrowUp", altKey: true, bubbles: true }));
    expect(model.lastSent("move_layer")).toMatchObject({ tower: "buyer", src: 1, dst: 0 });
    // A late trait of an earlier edit re-renders first: focus stays on the Dropout block.
    model.update({ warnings: ["a late warning"] });
    expect(document.activeElement.dataset.key).toBe("layer:buyer:1");
    expect(document.activeElement.textContent).toContain("Dropout");
    // Keys on a block are ignored until Python answers: index 1 is about to be Dense(128).
    document.activeElement.dispatchEvent(new KeyboardEvent("keydown", { key: "Enter", bubbles: true }));
    expect(el.querySelector('[role="dialog"]')).toBeNull();
    const moved = standard();
    moved.buyer_tower_layers.splice(0, 0, { type: "dropout", rate: 0.2 });
    model.update({ config_data: moved });
    expect(document.activeElement.dataset.key).toBe("layer:buyer:0");
    expect(document.activeElement.textContent).toContain("Dropout");
    document.activeElement.dispatchEvent(new KeyboardEvent("keydown", { key: "Enter", bubbles: true }));
    expect(el.querySelector('[role="dialog"]').textContent).toContain("Configure Dropout Layer");
    el.querySelector('[role="dialog"]').dispatchEvent(new KeyboardEvent("keydown", { key: "Escape", bubbles: true }));
    // Delete: focus goes to the previous block only when the shorter tower arrives.
    const dense = el.querySelector('[data-key="layer:buyer:2"]');
    dense.focus();
    dense.dispatchEvent(new KeyboardEvent("keydown", { key: "Delete", bubbles: true }));
    expect(model.lastSent("remove_layer")).toMatchObject({ tower: "buyer", index: 2 });
    model.update({ estimates: { total_params_text: "~30K", quick_test_time: "~30 s" } });
    expect(document.activeElement.dataset.key).toBe("layer:buyer:2");
    const removed = structuredClone(moved);
    removed.buyer_tower_layers.splice(2, 1);
    model.update({ config_data: removed });
    expect(document.activeElement.dataset.key).toBe("layer:buyer:1");
    cleanup();
  });

  it("Escape returns focus to the block even if Python's answers re-rendered it meanwhile", () => {
    const model = fakeModel(builderState());
    const cleanup = renderTowerBuilder({ model, el });
    const block = el.querySelector('[data-key="layer:buyer:1"]');
    block.focus();
    block.dispatchEvent(new KeyboardEvent("keydown", { key: "Enter", bubbles: true }));
    const dialog = el.querySelector('[role="dialog"]');
    expect(dialog).not.toBeNull();
    // The late traits of the previous edit arrive while the modal is open: the block is rebuilt.
    model.update({ warnings: ["a late warning"], estimates: { total_params_text: "~41K", quick_test_time: "~36 s" } });
    expect(block.isConnected).toBe(false);
    dialog.dispatchEvent(new KeyboardEvent("keydown", { key: "Escape", bubbles: true }));
    expect(el.querySelector('[role="dialog"]')).toBeNull();
    expect(document.activeElement.dataset.key).toBe("layer:buyer:1");
    // The same for a modal opened by ⚙ and closed with ✕.
    el.querySelector('[data-key="gear:buyer:0"]').focus();
    el.querySelector('[data-key="gear:buyer:0"]').click();
    model.update({ warnings: [] });
    el.querySelector('[aria-label="Close"]').click();
    expect(document.activeElement.dataset.key).toBe("gear:buyer:0");
    cleanup();
  });

  it("Alt+ArrowDown moves the focused layer and Escape closes the add menu", () => {
    const model = fakeModel(builderState());
    const cleanup = renderTowerBuilder({ model, el });
    const block = el.querySelector('[data-key="layer:buyer:0"]');
    block.focus();
    block.dispatchEvent(new KeyboardEvent("keydown", { key: "ArrowDown", altKey: true, bubbles: true }));
    expect(model.lastSent("move_layer")).toMatchObject({ tower: "buyer", src: 0, dst: 1 });
    block.dispatchEvent(new KeyboardEvent("keydown", { key: "ArrowUp", altKey: true, bubbles: true }));
    expect(model.sent.filter((m) => m.kind === "move_layer").length).toBe(1); // already at the top
    el.querySelector('[data-key="add:product"]').click();
    const menu = el.querySelector(".tw-menu");
    menu.dispatchEvent(new KeyboardEvent("keydown", { key: "Escape", bubbles: true }));
    expect(el.querySelector(".tw-menu")).toBeNull();
    cleanup();
  });

  it("⚙ opens the Dense modal; Apply sends the edit, Escape and ✕ close it", () => {
    const model = fakeModel(builderState());
    const cleanup = renderTowerBuilder({ model, el });
    el.querySelector('[data-key="gear:buyer:0"]').click();
    let dialog = el.querySelector('[role="dialog"]');
    expect(dialog.textContent).toContain("Configure Dense Layer");
    expect(dialog.textContent).toContain("Powers of 2 are recommended");
    expect(dialog.textContent).toContain("ReLU: Fast and effective");
    expect(dialog.textContent).not.toContain("null");
    dialog.querySelector('[data-key="units:256"]').click();
    const gelu = [...dialog.querySelectorAll('input[type="radio"]')][2];
    gelu.checked = true;
    gelu.dispatchEvent(new Event("change"));
    expect(el.querySelector('[role="dialog"]').textContent).toContain("GELU:");
    const select = dialog.querySelector("select");
    select.value = "0.01";
    select.dispatchEvent(new Event("change"));
    buttonByText(el.querySelector('[role="dialog"]'), "Apply").click();
    expect(model.lastSent("update_layer")).toMatchObject({ tower: "buyer", index: 0, params: { units: 256, activation: "gelu", l2_reg: 0.01 } });
    expect(el.querySelector('[role="dialog"]')).toBeNull();
    el.querySelector('[data-key="gear:buyer:0"]').click();
    dialog = el.querySelector('[role="dialog"]');
    dialog.dispatchEvent(new KeyboardEvent("keydown", { key: "Escape", bubbles: true }));
    expect(el.querySelector('[role="dialog"]')).toBeNull();
    el.querySelector('[data-key="gear:buyer:0"]').click();
    el.querySelector('[aria-label="Close"]').click();
    expect(el.querySelector('[role="dialog"]')).toBeNull();
    expect(model.sent.filter((m) => m.kind === "update_layer").length).toBe(1);
    cleanup();
  });

  it("Dropout modal offers rate chips and guidance; custom values apply", () => {
    const cfg = standard();
    cfg.buyer_tower_layers.splice(1, 0, { type: "dropout", rate: 0.2 });
    const model = fakeModel(builderState({ config_data: cfg }));
    const cleanup = renderTowerBuilder({ model, el });
    el.querySelector('[data-key="gear:buyer:1"]').click();
    const dialog = el.querySelector('[role="dialog"]');
    expect(dialog.textContent).toContain("Configure Dropout Layer");
    expect(dialog.textContent).toContain("0.3-0.5: Strong regularization");
    const custom = dialog.querySelector('[data-key="rate:custom"]');
    custom.value = "0.45";
    custom.dispatchEvent(new Event("change"));
    buttonByText(el.querySelector('[role="dialog"]'), "Apply").click();
    expect(model.lastSent("update_layer").params).toEqual({ rate: 0.45 });
    cleanup();
  });

  it("shows the rating head with a fixed Dense(1) for ranking", () => {
    const cfg = structuredClone(byName["ranking with default head"].config_json);
    const model = fakeModel(builderState({ config_data: cfg }));
    const cleanup = renderTowerBuilder({ model, el });
    const head = el.querySelector(".tw-rating-head");
    expect(head.textContent).toContain("After concatenating Buyer + Product embeddings (64D total):");
    const fixed = head.querySelector(".tw-layer-fixed");
    expect(fixed.textContent).toContain("Dense(1)");
    expect(fixed.textContent).toContain("Linear • Rating Output");
    expect(fixed.querySelector("button")).toBeNull();
    expect(head.querySelectorAll(".tw-layer").length).toBe(3);
    cleanup();
    expect(model.listenerCount()).toBe(0);
  });

  it("share weights checkbox writes config_data", () => {
    const model = fakeModel(builderState());
    const cleanup = renderTowerBuilder({ model, el });
    const box = el.querySelector('[data-key="share"]');
    box.checked = true;
    box.dispatchEvent(new Event("change"));
    expect(model.state.config_data.share_tower_weights).toBe(true);
    expect(model.saves).toBe(1);
    cleanup();
  });
});

function wizardState(overrides = {}) {
  return { ...builderState({ _view: "wizard" }), step: 1, step_errors: [], mode: "create", closed: false, saved: {}, ...overrides };
}

describe("ModelWizard", () => {
  it("step 1: name, description, three model type cards with diagrams and bullets", () => {
    const model = fakeModel(wizardState());
    const cleanup = renderWizard({ model, el });
    expect(el.textContent).toContain("Create Model Configuration");
    expect(el.textContent).toContain("Step 1 of 3");
    expect(el.querySelector('[data-key="name"]')).toBeTruthy();
    const cards = el.querySelectorAll(".tw-type-card");
    expect(cards.length).toBe(3);
    expect(cards[0].querySelector("pre").textContent).toContain("[dot product]");
    expect(cards[1].textContent).toContain("Predicts explicit ratings");
    expect(cards[2].querySelector("pre").textContent).toContain("[weighted loss]");
    expect(buttonByText(el, "Continue →")).toBeTruthy();
    expect(buttonByText(el, "← Back")).toBeUndefined();
    cards[1].click();
    expect(model.state.config_data.model_type).toBe("ranking");
    cleanup();
    expect(model.listenerCount()).toBe(0);
  });

  it("typing the name is debounced into config_data; Continue sends a command", async () => {
    vi.useFakeTimers();
    const model = fakeModel(wizardState());
    const cleanup = renderWizard({ model, el });
    const input = el.querySelector('[data-key="name"]');
    input.value = "Standard Retrieval v1";
    input.dispatchEvent(new Event("input"));
    expect(model.saves).toBe(0);
    vi.advanceTimersByTime(350);
    expect(model.state.config_data.name).toBe("Standard Retrieval v1");
    buttonByText(el, "Continue →").click();
    expect(model.lastSent("continue")).toBeTruthy();
    vi.useRealTimers();
    cleanup();
  });

  it("Continue right after typing carries the typed name in its command", async () => {
    vi.useFakeTimers();
    const model = fakeModel(wizardState());
    const cleanup = renderWizard({ model, el });
    const input = el.querySelector('[data-key="name"]');
    input.value = "Typed just now";
    input.dispatchEvent(new Event("input"));
    buttonByText(el, "Continue →").click(); // before the debounce sent it
    expect(model.lastSent("continue").fields).toEqual({ name: "Typed just now" });
    expect(model.state.config_data.name).toBe("Typed just now"); // and the state, too
    vi.useRealTimers();
    cleanup();
  });

  it("keeps the text fields (and what is typed) across Python updates", async () => {
    const model = fakeModel(wizardState());
    const cleanup = renderWizard({ model, el });
    const name = el.querySelector('[data-key="name"]');
    name.focus();
    name.value = "Typed";
    name.dispatchEvent(new Event("input"));
    model.update({ config_data: { ...standard(), name: "" }, estimates: { total_params_text: "~1K" } });
    expect(el.querySelector('[data-key="name"]')).toBe(name);
    expect(name.value).toBe("Typed");
    name.blur();
    await tick();
    expect(model.state.config_data.name).toBe("Typed");
    model.update({ config_data: { ...standard(), name: "From Python" } });
    expect(name.value).toBe("From Python");
    cleanup();
  });

  it("shows inline step errors, then steps 2 and 3", () => {
    const model = fakeModel(wizardState());
    const cleanup = renderWizard({ model, el });
    model.update({ step_errors: ["Model name is required"] });
    expect(el.querySelector('[role="alert"]').textContent).toContain("Model name is required");
    expect(el.querySelector('[data-key="name"]').getAttribute("aria-invalid")).toBe("true");
    model.update({ step_errors: [], step: 2 });
    expect(el.textContent).toContain("Step 2 of 3");
    expect(el.querySelector(".tw-builder")).toBeTruthy();
    expect(buttonByText(el, "← Back")).toBeTruthy();
    model.update({ step: 3 });
    expect(el.querySelector(".tw-builder")).toBeNull();
    expect(el.querySelectorAll(".tw-opt-card").length).toBe(3);
    expect(el.textContent).toContain("Configuration Summary".toUpperCase() === "CONFIGURATION SUMMARY" ? "Configuration Summary" : "");
    expect(el.querySelector(".tw-summary").textContent).toContain("Adagrad @ 0.1");
    expect(el.querySelector(".tw-summary").textContent).toContain("Parameters: ≈40K(assumes 64 input features per tower)");
    expect(buttonByText(el, "Save Config")).toBeTruthy();
    el.querySelector('[data-key="lr:0.01"]').click();
    expect(model.state.config_data.learning_rate).toBe(0.01);
    el.querySelector('[data-key="batch:8192"]').click();
    expect(model.state.config_data.batch_size).toBe(8192);
    el.querySelector('[data-key="optimizer:adam"]').click();
    expect(model.state.config_data.optimizer).toBe("adam");
    buttonByText(el, "Save Config").click();
    expect(model.lastSent("save")).toBeTruthy();
    cleanup();
    expect(model.listenerCount()).toBe(0);
  });

  it("multitask shows the loss-weight slider", () => {
    const cfg = structuredClone(byName["multitask shared weights"].config_json);
    const model = fakeModel(wizardState({ config_data: cfg, step: 3 }));
    const cleanup = renderWizard({ model, el });
    expect(el.textContent).toContain("Current weights: Retrieval = 0.5, Ranking = 0.5 (balanced)");
    const slider = el.querySelector('input[type="range"]');
    slider.value = "0.25";
    slider.dispatchEvent(new Event("change"));
    expect(model.state.config_data.ranking_weight).toBe(0.25);
    expect(model.state.config_data.retrieval_weight).toBe(0.75);
    cleanup();
  });

  it("escapes a hostile name everywhere it shows", () => {
    const cfg = { ...standard(), name: XSS };
    const model = fakeModel(wizardState({ config_data: cfg, step: 3 }));
    const cleanup = renderWizard({ model, el });
    expect(el.querySelector("img")).toBeNull();
    expect(el.querySelector(".tw-summary").textContent).toContain(XSS);
    cleanup();
  });
});

describe("MetricsTable", () => {
  const rows = [
    { epoch: 1, loss: 0.9, recall_at_100: 0.2 },
    { epoch: 2, loss: 0.5, recall_at_100: 0.35 },
    { epoch: 3, loss: 0.6, recall_at_100: 0.31 },
  ];
  const state = () => ({ _view: "metrics_table", columns: ["epoch", "loss", "recall_at_100"], rows: [], best: {}, sort_by: "", sort_descending: false, title: "Metrics", empty_text: "No metrics yet." });

  it("gains rows, highlights the best value and draws sparklines", () => {
    const model = fakeModel(state());
    const cleanup = renderMetricsTable({ model, el });
    expect(el.textContent).toContain("No metrics yet.");
    model.update({ rows: rows.slice(0, 1) });
    expect(el.querySelectorAll("tbody tr").length).toBe(1);
    model.update({ rows, best: { loss: { row: 1, value: 0.5, mode: "min" }, recall_at_100: { row: 1, value: 0.35, mode: "max" } } });
    expect(el.querySelectorAll("tbody tr").length).toBe(3);
    const best = [...el.querySelectorAll(".tw-best")].map((td) => td.textContent);
    expect(best).toEqual(["0.5000 (best)", "35.0% (best)"]);
    expect(el.querySelectorAll("svg.tw-spark").length).toBe(2);
    expect(el.querySelector("polyline").getAttribute("points").split(" ").length).toBe(3);
    cleanup();
    expect(model.listenerCount()).toBe(0);
  });

  it("sorts by a clicked header (view only)", () => {
    const model = fakeModel({ ...state(), rows });
    const cleanup = renderMetricsTable({ model, el });
    el.querySelector('[data-key="sort:loss"]').click();
    expect(model.state.sort_by).toBe("loss");
    expect([...el.querySelectorAll("tbody tr td:first-child")].map((td) => td.textContent)).toEqual(["2", "3", "1"]);
    el.querySelector('[data-key="sort:loss"]').click();
    expect(model.state.sort_descending).toBe(true);
    expect(el.querySelector('th[aria-sort="descending"]')).toBeTruthy();
    expect(sortRows([{ a: null }, { a: 1 }], "a", false).map((r) => r.a)).toEqual([1, null]);
    cleanup();
  });

  it("escapes column names and cells", () => {
    const model = fakeModel({ ...state(), columns: [XSS], rows: [{ [XSS]: XSS }] });
    const cleanup = renderMetricsTable({ model, el });
    expect(el.querySelector("img")).toBeNull();
    expect(el.textContent).toContain(XSS);
    cleanup();
  });
});

function structureState(overrides = {}) {
  return {
    _view: "model_structure",
    configs: [{
      id: 1, name: "Standard Retrieval v1", description: "", model_type: "retrieval", type_label: "Retrieval", type_subtitle: "Two-Tower",
      buyer_summary: "128→64→32", product_summary: "128→64→32", rating_head_summary: "None", optimizer: "Adagrad", learning_rate: "0.1",
      batch_size: 4096, epochs: 5, output_dim: 32, updated: "2 hours ago",
    }],
    viewing: {}, feature_configs: [], feature_config_id: null, code: "", code_error: "", confirm_delete: {}, message: "", wizard: null,
    ...overrides,
  };
}

describe("ModelStructure", () => {
  it("renders cards with every button and sends their commands", () => {
    const model = fakeModel(structureState());
    const cleanup = renderModelStructure({ model, el });
    const card = el.querySelector(".tw-config-card");
    expect(card.textContent).toContain("Buyer Tower:128 → 64 → 32");
    expect(card.textContent).toContain("Optimizer: Adagrad @ 0.1");
    expect(card.textContent).toContain("Updated: 2 hours ago");
    for (const [text, kind] of [["View", "view"], ["Edit", "edit"], ["Clone", "clone"], ["Del", "delete"]]) {
      buttonByText(card, text).click();
      expect(model.lastSent(kind)).toMatchObject({ config_id: 1 });
    }
    buttonByText(el, "+ New Model").click();
    expect(model.lastSent("new")).toBeTruthy();
    cleanup();
    expect(model.listenerCount()).toBe(0);
  });

  it("shows the empty state", () => {
    const model = fakeModel(structureState({ configs: [] }));
    const cleanup = renderModelStructure({ model, el });
    expect(el.textContent).toContain("No model configurations yet.");
    cleanup();
  });

  it("asks for delete confirmation naming the quick tests", () => {
    const model = fakeModel(structureState());
    const cleanup = renderModelStructure({ model, el });
    model.update({ confirm_delete: { id: 1, name: XSS, quick_tests: ["#4 Rich + Standard (completed)"] } });
    const box = el.querySelector('[role="alertdialog"]');
    expect(box.textContent).toContain(`Delete "${XSS}"?`);
    expect(box.textContent).toContain("This also removes 1 quick test:");
    expect(el.querySelector("img")).toBeNull();
    buttonByText(box, "Delete").click();
    expect(model.lastSent("confirm_delete")).toBeTruthy();
    box.dispatchEvent(new KeyboardEvent("keydown", { key: "Escape", bubbles: true }));
    expect(model.lastSent("cancel_delete")).toBeTruthy();
    cleanup();
  });

  it("View shows the read-only architecture and highlighted code without parsing it as HTML", () => {
    const model = fakeModel(structureState());
    const cleanup = renderModelStructure({ model, el });
    model.update({
      feature_configs: [{ id: 3, name: "Rich v2" }], feature_config_id: 3,
      viewing: { id: 1, name: "Standard Retrieval v1", model_type: "retrieval", optimizer: "Adagrad", learning_rate: "0.1", batch_size: 4096, epochs: 5, output_dim: 32,
        buyer_layers: [{ type: "dense", label: "Dense(128)", detail: "ReLU" }, { type: "dense", label: "Dense(32)", detail: "Linear" }],
        product_layers: [{ type: "dense", label: "Dense(32)", detail: "Linear" }], rating_head_layers: [], params_text: "~20K", buyer_input_dim: 104, product_input_dim: 72 },
      code: `# ${XSS}\ndef run_fn(fn_args):\n    return "${XSS}"  # done\n`,
    });
    const view = el.querySelector(".tw-view");
    expect(view.textContent).toContain("Architecture (read-only)");
    expect(view.querySelectorAll(".tw-layer").length).toBe(3);
    expect(view.querySelector(".tw-tok-comment").textContent).toBe(`# ${XSS}`);
    expect(view.querySelector(".tw-tok-keyword").textContent).toBe("def");
    expect(view.querySelector(".tw-tok-def").textContent).toBe("run_fn");
    expect(view.querySelector(".tw-tok-string").textContent).toBe(`"${XSS}"`);
    expect(el.querySelector("img")).toBeNull();
    const select = view.querySelector("select");
    select.value = "";
    select.dispatchEvent(new Event("change"));
    expect(model.state.feature_config_id).toBeNull();
    cleanup();
  });

  it("View is a modal dialog: the chapter is inert meanwhile, focus returns to View on close", () => {
    const model = fakeModel(structureState());
    const cleanup = renderModelStructure({ model, el });
    const viewButton = el.querySelector('[data-key="view:1"]');
    viewButton.focus();
    viewButton.click();
    model.update({ viewing: { id: 1, name: "Standard Retrieval v1", model_type: "retrieval", buyer_layers: [], product_layers: [], rating_head_layers: [], output_dim: 32 } });
    const dialog = el.querySelector(".tw-view");
    expect(dialog.getAttribute("role")).toBe("dialog");
    expect(dialog.getAttribute("aria-modal")).toBe("true");
    expect(el.querySelector(".tw-config-list").hasAttribute("inert")).toBe(true);
    expect(el.querySelector(".tw-config-list").getAttribute("aria-hidden")).toBe("true");
    expect(document.activeElement).toBe(dialog);
    dialog.dispatchEvent(new KeyboardEvent("keydown", { key: "Escape", bubbles: true }));
    expect(model.lastSent("close_view")).toBeTruthy();
    model.update({ viewing: {} });
    expect(el.querySelector(".tw-view")).toBeNull();
    expect(el.querySelector(".tw-config-list").hasAttribute("inert")).toBe(false);
    expect(el.querySelector(".tw-config-list").hasAttribute("aria-hidden")).toBe(false);
    expect(document.activeElement.dataset.key).toBe("view:1");
    cleanup();
    expect(model.listenerCount()).toBe(0);
  });

  it("mounts the wizard child when Python opens it, and unmounts it", async () => {
    const wizard = fakeModel(wizardState());
    const model = fakeModel(structureState(), { children: { w1: wizard } });
    const cleanup = renderModelStructure({ model, el });
    const newButton = buttonByText(el, "+ New Model");
    newButton.focus();
    newButton.click();
    model.update({ wizard: "anywidget:w1" });
    await tick();
    expect(el.querySelector(".tw-wizard")).toBeTruthy();
    // Modal over the chapter: the wizard is an aria-modal dialog, the rest is inert.
    expect(el.querySelector('.tw-wizard[role="dialog"]').getAttribute("aria-modal")).toBe("true");
    expect(el.querySelector(".tw-structure").classList.contains("tw-modal-open")).toBe(true);
    expect(el.querySelector(".tw-config-list").hasAttribute("inert")).toBe(true);
    expect(el.querySelector(".tw-chapter-head").hasAttribute("inert")).toBe(true);
    expect(el.querySelector(".tw-wizard-slot").hasAttribute("inert")).toBe(false);
    expect(el.querySelector(".tw-wizard").contains(document.activeElement)).toBe(true);
    model.update({ wizard: null });
    await tick();
    expect(el.querySelector(".tw-wizard")).toBeNull();
    expect(wizard.listenerCount()).toBe(0);
    expect(el.querySelector(".tw-config-list").hasAttribute("inert")).toBe(false);
    expect(el.querySelector(".tw-structure").classList.contains("tw-modal-open")).toBe(false);
    expect(document.activeElement).toBe(buttonByText(el, "+ New Model")); // back to the opener
    cleanup();
    expect(model.listenerCount()).toBe(0);
  });
});

function quickState(overrides = {}) {
  return {
    _view: "quick_test",
    feature_configs: [{ id: 1, name: "Rich v2" }], model_configs: [{ id: 2, name: "Standard", model_type: "retrieval" }],
    feature_config_id: 1, model_config_id: 2,
    feature_summary: { name: "Rich v2", dataset: "", rows: 1000, buyer_tensor_dim: 104, product_tensor_dim: 72, cross_features: 2, valid: true, problems: [] },
    model_summary: { name: "Standard", model_type: "retrieval", type_label: "Retrieval", buyer_summary: "128→64→32", product_summary: "128→64→32", rating_head_summary: "None", output_dim: 32, optimizer: "Adagrad", learning_rate: "0.1", batch_size: 4096, epochs: 5 },
    needs_rating: false, rating_columns: [], rating_column: "",
    epochs_override: null, batch_size_override: null, learning_rate_override: null,
    choices: { epochs: [1, 2, 3], batch_size: [1024, 4096], learning_rate: [0.01, 0.1] }, defaults: { epochs: 5, batch_size: 4096, learning_rate: 0.1 },
    checks: [{ ok: true, label: "Feature Config", text: "Valid transform code" }, { ok: true, label: "Model Config", text: "Valid architecture" }],
    estimate: { duration: "~35 s", cost: "$0.00 (local, no cost)" }, can_start: true, running: false, stage: "", progress: 0, status: "", message: "", result: {}, recent: [], metrics: null,
    ...overrides,
  };
}

describe("QuickTestPanel", () => {
  it("renders selectors, summaries, overrides, checks, estimate and Start", () => {
    const model = fakeModel(quickState());
    const cleanup = renderQuickTest({ model, el });
    expect(el.textContent).toContain("Buyer Tensor:104D");
    expect(el.textContent).toContain("Transform:✓ Valid");
    expect(el.textContent).toContain("(default: 5)");
    expect(el.textContent).toContain("✓ Model Config: Valid architecture");
    expect(el.textContent).toContain("Estimated Duration: ~35 s");
    expect(el.querySelector(".tw-rating")).toBeNull();
    const epochs = el.querySelector('[data-key="epochs_override"]');
    epochs.value = "2";
    epochs.dispatchEvent(new Event("change"));
    expect(model.state.epochs_override).toBe(2);
    buttonByText(el, "▶ Start Quick Test").click();
    // Start carries the choices made just before it (a held-back state update can't lose them).
    const { selection } = model.lastSent("start");
    expect(selection.epochs_override).toBe(2);
    expect(Object.keys(selection)).toEqual(expect.arrayContaining(["feature_config_id", "model_config_id", "run_on"]));
    expect(selection).not.toHaveProperty("running");
    cleanup();
    expect(model.listenerCount()).toBe(0);
  });

  it("prices the test on a chosen Vertex AI machine next to the local estimate", () => {
    const model = fakeModel(quickState({
      choices: { epochs: [1], batch_size: [4096], learning_rate: [0.1], vertex_machine: ["n1-standard-4", "n1-standard-8"] },
      estimate: { duration: "~35 s", cost: "$0.00 (local, no cost)", vertex: { machine: "n1-standard-8", duration: "~7 min", cost: "~$0.09" } },
    }));
    const cleanup = renderQuickTest({ model, el });
    const line = el.querySelector(".tw-vertex-estimate");
    expect(line.textContent).toContain("On Vertex AI:");
    expect(line.textContent).toContain("~7 min • ~$0.09");
    const picker = line.querySelector('[data-key="vertex_machine"]');
    expect(picker.value).toBe("n1-standard-8");
    expect([...picker.options].map((o) => o.value)).toEqual(["n1-standard-4", "n1-standard-8"]);
    picker.value = "n1-standard-4";
    picker.dispatchEvent(new Event("change"));
    expect(model.state.vertex_machine).toBe("n1-standard-4");
    model.update({ estimate: { duration: "~35 s", cost: "$0.00 (local, no cost)" } });
    expect(el.querySelector(".tw-vertex-estimate")).toBeNull();
    cleanup();
  });

  it("shows the rating column section, live progress, cancel and recent tests", async () => {
    const table = fakeModel({ _view: "metrics_table", columns: [], rows: [], best: {}, sort_by: "", sort_descending: false, title: "", empty_text: "none" });
    const model = fakeModel(quickState({ metrics: "anywidget:m1" }), { children: { m1: table } });
    const cleanup = renderQuickTest({ model, el });
    await tick();
    expect(el.querySelector(".tw-metrics")).toBeTruthy();
    model.update({ needs_rating: true, rating_columns: [{ name: "user_rating", dtype: "FLOAT64", min: 1, max: 5, mean: 3.52 }], rating_column: "user_rating" });
    expect(el.querySelector(".tw-rating").textContent).toContain("Column info: FLOAT64 • Range: 1 - 5 • Mean: 3.52");
    model.update({ running: true, can_start: false, stage: "train", progress: 40, status: "running" });
    expect(el.querySelector('[role="progressbar"]').getAttribute("aria-valuenow")).toBe("40");
    expect(buttonByText(el, "▶ Start Quick Test").disabled).toBe(true);
    buttonByText(el, "Cancel").click();
    expect(model.lastSent("cancel")).toBeTruthy();
    model.update({ recent: [{ id: 9, title: XSS, status: "completed", status_label: "✓ Completed", ago: "2h ago", recall_at_100: "47.3%", loss: "0.38", rmse: null, duration: "8m 23s", model_type: "retrieval" }] });
    expect(el.querySelector(".tw-recent").textContent).toContain("Recall@100: 47.3% • Loss: 0.38 • Duration: 8m 23s");
    expect(el.querySelector("img")).toBeNull();
    buttonByText(el, "View Results").click();
    expect(model.lastSent("view_results")).toMatchObject({ test_id: 9 });
    cleanup();
    expect(model.listenerCount()).toBe(0);
    expect(table.listenerCount()).toBe(0);
  });
});

describe("ModelingPage and the entry point", () => {
  it("mounts both chapters, toggles Compare and cleans up", async () => {
    const structure = fakeModel(structureState());
    const quick = fakeModel(quickState());
    const model = fakeModel({ _view: "modeling_page", title: "Modeling", subtitle: "", features: [
      { id: 1, name: XSS, buyer_tensor_dim: 104, product_tensor_dim: 72, buyer_features: ["age"], product_features: ["genre"], crosses: [], valid: true }],
      compare: false, structure: "anywidget:s", quick_test: "anywidget:q" }, { children: { s: structure, q: quick } });
    const cleanup = render({ model, el });
    await tick();
    expect(el.classList.contains("tw-root")).toBe(true);
    expect(el.textContent).toContain("Chapter: Features");
    expect(el.textContent).toContain("Chapter: Model Structure");
    expect(el.textContent).toContain("Chapter: Quick Test");
    expect(el.querySelector("img")).toBeNull();
    buttonByText(el, "Compare").click();
    expect(model.lastSent("toggle_compare")).toBeTruthy();
    model.update({ compare: true });
    expect(el.querySelector('table[aria-label="Feature configs compared"]')).toBeTruthy();
    cleanup();
    expect(el.classList.contains("tw-root")).toBe(false);
    for (const m of [model, structure, quick]) expect(m.listenerCount()).toBe(0);
  });

  it("dispatches every view name and reports an unknown one", () => {
    for (const view of ["wizard", "tower_builder", "metrics_table"]) {
      const model = fakeModel(view === "metrics_table" ? { _view: view, columns: [], rows: [], best: {} } : wizardState({ _view: view }));
      const cleanup = render({ model, el });
      expect(el.children.length).toBeGreaterThan(0);
      cleanup();
      expect(model.listenerCount()).toBe(0);
      expect(el.children.length).toBe(0);
    }
    const cleanup = render({ model: fakeModel({ _view: "nope" }), el });
    expect(el.textContent).toContain("unknown view");
    cleanup();
  });

  it("keeps its keys from JupyterLab, but lets Shift+Enter run the cell", () => {
    const model = fakeModel(builderState());
    const cleanup = render({ model, el });
    expect(el.getAttribute("data-lm-suppress-shortcuts")).toBe("true");
    const seen = [];
    const outer = (e) => seen.push(e.key);
    document.body.addEventListener("keydown", outer);
    const block = el.querySelector('[data-key="layer:buyer:0"]');
    block.dispatchEvent(new KeyboardEvent("keydown", { key: "Enter", bubbles: true }));
    block.dispatchEvent(new KeyboardEvent("keydown", { key: "ArrowRight", bubbles: true }));
    block.dispatchEvent(new KeyboardEvent("keydown", { key: "Enter", shiftKey: true, bubbles: true }));
    expect(seen).toEqual(["Enter"]);
    document.body.removeEventListener("keydown", outer);
    document.body.replaceChildren();
    el = document.createElement("div");
    cleanup();
    expect(typeof keepKeys).toBe("function");
  });

  it("tokenizes Python", () => {
    const kinds = tokenize('@tf.function\ndef f(x=1.5):  # hi\n    return "s"').map(([k]) => k).filter((k) => k !== "text");
    expect(kinds).toEqual(["decorator", "keyword", "def", "number", "comment", "keyword", "string"]);
  });
});

describe("QuickTestPanel selections", () => {
  it("shows no config as chosen when the selection was cleared (deleted elsewhere)", () => {
    const model = fakeModel(quickState({ model_config_id: null }));
    const cleanup = renderQuickTest({ model, el });
    const mc = el.querySelector('[data-key="mc"]');
    expect(mc.value).toBe("");
    expect(mc.selectedOptions[0].textContent).toBe("(choose one)");
    expect(el.querySelector('[data-key="fc"]').value).toBe("1");
    mc.value = "2";
    mc.dispatchEvent(new Event("change"));
    expect(model.state.model_config_id).toBe(2);
    cleanup();
  });
});
