// Issue 14 ("A UI you can trust"): no lost click, every message in sight, readable in both
// themes. Each test here failed before its fix.
import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { renderTowerBuilder } from "../../js/tower_builder.js";
import { renderWizard } from "../../js/wizard.js";
import { fakeModel, tick } from "./fake_model.js";

const here = dirname(fileURLToPath(import.meta.url));
const vectors = JSON.parse(readFileSync(resolve(here, "../vectors/model_configs.json"), "utf8"));
const standard = () => structuredClone(vectors.cases.find((c) => c.name === "standard preset").config_json);

function builderState(overrides = {}) {
  return {
    _view: "tower_builder", config_data: standard(), errors: [], warnings: [],
    estimates: { total_params_text: "~40K", quick_test_time: "~35 s" },
    presets: [
      { key: "minimal", name: "Minimal", buyer_summary: "64→32", product_summary: "64→32", symmetric: true, extras: [], estimated_time: "~3 min" },
      { key: "standard", name: "Standard", buyer_summary: "128→64→32", product_summary: "128→64→32", symmetric: true, extras: [], estimated_time: "~8 min" },
    ],
    preset: "standard", input_dims: { buyer: null, product: null, feature_config: null }, notice: "",
    ...overrides,
  };
}
const wizardState = (overrides = {}) => ({ ...builderState({ _view: "wizard" }), step: 1, step_errors: [], mode: "create", closed: false, saved: {}, ...overrides });
/** @param {Element} target @param {string} type */
const pointer = (target, type) => target.dispatchEvent(new Event(type, { bubbles: true }));

let el;
beforeEach(() => { el = document.createElement("div"); document.body.appendChild(el); });
afterEach(async () => { pointer(document.body, "pointerup"); await tick(); el.remove(); document.body.replaceChildren(); });

describe("1. no click is lost to a rebuild under the pointer", () => {
  it("a model-type card pressed right after typing the name is still there when the click lands", async () => {
    const model = fakeModel(wizardState());
    const cleanup = renderWizard({ model, el });
    const name = /** @type {HTMLInputElement} */ (el.querySelector('[data-key="name"]'));
    name.focus();
    name.value = "My model";
    name.dispatchEvent(new Event("input"));
    const ranking = el.querySelector('[data-key="type:ranking"]');
    // mousedown: the press lands on the card and blurs the name field, which syncs the name…
    pointer(ranking, "pointerdown");
    name.blur();
    await tick();
    expect(model.state.config_data.name).toBe("My model");
    // …and Python answers (config, errors, estimates) before the mouse button comes up.
    model.update({ config_data: { ...model.state.config_data }, estimates: { total_params_text: "~41K" } });
    expect(ranking.isConnected).toBe(true);
    pointer(ranking, "pointerup");
    ranking.click();
    expect(model.state.config_data.model_type).toBe("ranking");
    model.update({ config_data: { ...model.state.config_data } });
    expect(ranking.isConnected).toBe(true); // updated in place, not rebuilt
    expect(ranking.getAttribute("aria-checked")).toBe("true");
    expect(ranking.classList.contains("tw-selected")).toBe(true);
    expect(el.querySelector('[data-key="type:retrieval"]').getAttribute("aria-checked")).toBe("false");
    cleanup();
    expect(model.listenerCount()).toBe(0);
  });

  it("the builder waits with its rebuild until the click on a pressed preset card has run", async () => {
    const model = fakeModel(builderState());
    const cleanup = renderTowerBuilder({ model, el });
    const card = el.querySelector('[data-key="preset:minimal"]');
    pointer(card, "pointerdown");
    model.update({ warnings: ["Deep towers on little data may overfit"] });
    expect(card.isConnected).toBe(true);
    pointer(card, "pointerup");
    card.click();
    expect(model.lastSent("apply_preset")).toMatchObject({ name: "minimal" });
    await tick();
    expect(card.isConnected).toBe(false); // the deferred rebuild ran after the click
    expect(el.textContent).toContain("Deep towers on little data may overfit");
    cleanup();
  });
});

describe("1b. a rebuild that waited for the click still does what follows it", () => {
  it("the add-layer menu opened by a pointer click gets focus, and Escape closes it", async () => {
    const model = fakeModel(builderState());
    const cleanup = renderTowerBuilder({ model, el });
    const add = el.querySelector('[data-key="add:buyer"]');
    pointer(add, "pointerdown");
    pointer(add, "pointerup");
    add.click();
    await tick();
    expect(document.activeElement.dataset.key).toBe("menu:buyer:0");
    document.activeElement.dispatchEvent(new KeyboardEvent("keydown", { key: "Escape", bubbles: true }));
    expect(el.querySelector(".tw-menu")).toBeNull();
    expect(document.activeElement.dataset.key).toBe("add:buyer");
    cleanup();
  });
});

describe("2. a refused value is said next to its field and never applied", () => {
  /** @param {string} typed */
  function typeUnits(typed) {
    const model = fakeModel(builderState());
    const cleanup = renderTowerBuilder({ model, el });
    el.querySelector('[data-key="gear:buyer:0"]').click();
    const dialog = el.querySelector('[role="dialog"]');
    const input = /** @type {HTMLInputElement} */ (dialog.querySelector('[data-key="units:custom"]'));
    input.value = typed;
    input.dispatchEvent(new Event("change"));
    return { model, cleanup, dialog, input };
  }

  it.each([["0"], ["-5"], ["1e9"], ["12.5"]])("Units %s: message beside the field, aria wired, Apply keeps the dialog", (typed) => {
    const { model, cleanup, dialog, input } = typeUnits(typed);
    expect(input.getAttribute("aria-invalid")).toBe("true");
    const message = document.getElementById(input.getAttribute("aria-describedby").split(" ")[0]);
    expect(message.textContent).toBe(`✗ Units (neurons) must be a whole number from 1 to 2048 (you entered ${typed}).`);
    expect(message.hidden).toBe(false);
    expect(input.closest(".tw-chips").contains(message)).toBe(true); // beside the field, not far below
    [...dialog.querySelectorAll("button")].find((b) => b.textContent === "Apply").click();
    expect(el.querySelector('[role="dialog"]')).toBe(dialog);
    expect(model.lastSent("update_layer")).toBeUndefined();
    expect(document.activeElement).toBe(input);
    cleanup();
  });

  it("a valid value clears the message and applies", () => {
    const { model, cleanup, input } = typeUnits("0");
    input.value = "48";
    input.dispatchEvent(new Event("change"));
    const dialog = el.querySelector('[role="dialog"]');
    expect(dialog.querySelector('[aria-invalid="true"]')).toBeNull();
    [...dialog.querySelectorAll("button")].find((b) => b.textContent === "Apply").click();
    expect(model.lastSent("update_layer").params.units).toBe(48);
    expect(el.querySelector('[role="dialog"]')).toBeNull();
    cleanup();
  });

  it("the empty-name error shows right under the name field, which gets focus and aria", () => {
    const model = fakeModel(wizardState());
    const cleanup = renderWizard({ model, el });
    const name = el.querySelector('[data-key="name"]');
    model.update({ step_errors: ["Model name is required"] });
    const message = name.nextElementSibling;
    expect(message.textContent).toBe("✗ Model name is required");
    expect(name.getAttribute("aria-invalid")).toBe("true");
    expect(name.getAttribute("aria-describedby").split(" ")).toContain(message.id);
    expect(document.activeElement).toBe(name);
    // shown once, beside the field (not again in the list below the step)
    expect(el.querySelector(".tw-step-errors").textContent).not.toContain("Model name is required");
    model.update({ step_errors: [] });
    expect(name.getAttribute("aria-invalid")).toBe("false");
    expect(message.hidden).toBe(true);
    cleanup();
  });

  it("7. a name cut at 255 characters says so", () => {
    const model = fakeModel(wizardState());
    const cleanup = renderWizard({ model, el });
    const name = el.querySelector('[data-key="name"]');
    name.value = "x".repeat(255); // what the field keeps of a 10,000-character paste
    name.dispatchEvent(new Event("input"));
    const help = document.getElementById(name.getAttribute("aria-describedby"));
    expect(help.textContent).toContain("at most 255 characters");
    cleanup();
  });

  it("the builder's refused-edit notice shows above the towers, not below them", () => {
    const model = fakeModel(builderState());
    const cleanup = renderTowerBuilder({ model, el });
    model.update({ notice: "Not applied: Buyer tower, layer 1: units must be at least 1 (got 0)" });
    const notice = el.querySelector(".tw-notice");
    const towers = el.querySelector(".tw-towers");
    expect(notice.compareDocumentPosition(towers) & Node.DOCUMENT_POSITION_FOLLOWING).toBeTruthy();
    cleanup();
  });
});

// ── 4. contrast of the best-value cell in JupyterLab's light and dark themes ───────────
const THEMES = {
  light: { "--jp-layout-color1": "#ffffff", "--jp-layout-color2": "#eeeeee", "--jp-ui-font-color0": "#000000", "--jp-ui-font-color1": "rgba(0,0,0,.87)", "--jp-success-color1": "#4caf50", "--jp-success-color3": "#c8e6c9" },
  dark: { "--jp-layout-color1": "#212121", "--jp-layout-color2": "#424242", "--jp-ui-font-color0": "#ffffff", "--jp-ui-font-color1": "rgba(255,255,255,.87)", "--jp-success-color1": "#4caf50", "--jp-success-color3": "#c8e6c9" },
};
const css = readFileSync(resolve(here, "../../js/styles.css"), "utf8");
/** @param {string} selector */
function declarations(selector) {
  const match = css.match(new RegExp(`${selector.replace(/[.*]/g, "\\$&")}\\s*\\{([^}]*)\\}`));
  return Object.fromEntries((match ? match[1] : "").split(";").map((d) => d.split(/:(.*)/s).map((x) => x.trim())).filter((d) => d[0]));
}
/** @param {string} value @param {Record<string, string>} vars */
function resolveVar(value, vars) {
  const m = value.match(/^var\((--[\w-]+)\s*(?:,\s*(.*))?\)$/s);
  if (!m) return value;
  return vars[m[1]] !== undefined ? resolveVar(vars[m[1]], vars) : resolveVar((m[2] || "").trim(), vars);
}
/** @param {string} c @returns {number[]} r, g, b, a */
function rgba(c) {
  if (c.startsWith("#")) return [1, 3, 5].map((i) => parseInt(c.slice(i, i + 2), 16)).concat(1);
  const parts = c.replace(/rgba?\(|\)/g, "").split(",").map(Number);
  return [parts[0], parts[1], parts[2], parts[3] ?? 1];
}
/** @param {number[]} fg @param {number[]} bg */
const over = (fg, bg) => [0, 1, 2].map((i) => fg[i] * fg[3] + bg[i] * (1 - fg[3]));
/** @param {number[]} c */
const luminance = (c) => {
  const [r, g, b] = c.map((v) => { const s = v / 255; return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4; });
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
};

describe("4. the best-value cell is readable in both themes", () => {
  it.each(Object.keys(THEMES))("%s theme: contrast of .tw-best is at least 4.5:1", (theme) => {
    const vars = { ...THEMES[theme] };
    const root = declarations(".tw-root");
    for (const [k, v] of Object.entries(root)) if (k.startsWith("--")) vars[k] = vars[k] ?? v;
    const best = declarations(".tw-root .tw-best");
    const page = rgba(resolveVar(vars["--tw-bg"], vars));
    const bg = over(rgba(resolveVar(best.background || best["background-color"] || "var(--tw-bg)", vars)), page);
    const fg = over(rgba(resolveVar(best.color || "var(--tw-fg)", vars)), bg);
    const [hi, lo] = [luminance(fg), luminance(bg)].sort((a, b) => b - a);
    expect((hi + 0.05) / (lo + 0.05)).toBeGreaterThanOrEqual(4.5);
  });
});

describe("baselines beside every metric", () => {
  it("the table shows the baseline row and says which metric the model does not beat", async () => {
    const { renderMetricsTable } = await import("../../js/metrics_table.js");
    const model = fakeModel({
      _view: "metrics_table", columns: ["epoch", "loss", "recall_at_100"], best: {}, sort_by: "", sort_descending: false, title: "Metrics: A + B", empty_text: "",
      rows: [{ epoch: 1, loss: 0.5, recall_at_100: 0.2 }, { epoch: 2, loss: 0.4, recall_at_100: 0.25 }],
      baseline: { label: "Baseline", title: "Most popular products (Recall@K) and the training mean (RMSE, MAE), on the same split", values: { recall_at_100: 0.3 }, beaten: { recall_at_100: false } },
    });
    const cleanup = renderMetricsTable({ model, el });
    const row = el.querySelector("tfoot .tw-baseline-row");
    expect([...row.children].map((c) => c.textContent)).toEqual(["Baseline", "", "30.0% ✗ not beaten"]);
    expect(el.querySelector(".tw-baseline-note").textContent).toContain("does not beat the trivial baseline for recall_at_100");
    model.update({ baseline: { values: { recall_at_100: 0.1 }, beaten: { recall_at_100: true } } });
    expect(el.querySelector(".tw-baseline-note")).toBeNull();
    expect(el.querySelector("tfoot").textContent).toBe("Baseline10.0%");
    cleanup();
    expect(model.listenerCount()).toBe(0);
  });
});

describe("10. the rating column is sanity-checked", () => {
  it("offers no silent default and shows the kernel's warning beside the choice", async () => {
    const { renderQuickTest } = await import("../../js/quick_test.js");
    const model = fakeModel({
      _view: "quick_test", feature_configs: [], model_configs: [], feature_config_id: null, model_config_id: null, feature_summary: {}, model_summary: {},
      needs_rating: true, rating_column: "", epochs_override: null, batch_size_override: null, learning_rate_override: null,
      rating_columns: [{ name: "timestamp", dtype: "INT64", min: 8e8, max: 1.5e9, mean: 1.1e9, warning: "timestamp looks like a time (8e+08 - 1.5e+09), not a rating" }],
      choices: {}, defaults: {}, checks: [], estimate: {}, can_start: false, running: false, stage: "", progress: 0, status: "", message: "", result: {}, recent: [], metrics: null,
    });
    const cleanup = renderQuickTest({ model, el });
    const select = el.querySelector('[data-key="rating"]');
    expect([...select.options].map((o) => o.textContent)).toEqual(["(choose a column)", "timestamp"]);
    expect(select.value).toBe("");
    expect(el.querySelector(".tw-rating").textContent).toContain("need a rating column: choose one");
    model.update({ rating_column: "timestamp" });
    expect(el.querySelector(".tw-rating").textContent).not.toContain("choose one");
    expect(el.querySelector(".tw-rating .tw-warn").textContent).toBe("⚠ timestamp looks like a time (8e+08 - 1.5e+09), not a rating");
    cleanup();
  });
});

describe("11. labels and dialogs", () => {
  it("the Ranking card names its two towers", () => {
    const model = fakeModel(wizardState());
    const cleanup = renderWizard({ model, el });
    expect(el.querySelector('[data-key="type:ranking"]').textContent).toContain("Two Towers + Rating Head");
    cleanup();
  });

  it("View keeps focus across the code preview's re-render, so Escape still closes it; the code can be copied", async () => {
    const { renderModelStructure } = await import("../../js/structure.js");
    const written = [];
    Object.defineProperty(navigator, "clipboard", { configurable: true, value: { writeText: async (t) => { written.push(t); } } });
    const model = fakeModel({
      _view: "model_structure", configs: [{ id: 1, name: "S", model_type: "retrieval", type_label: "Retrieval", type_subtitle: "Two-Tower", buyer_summary: "32", product_summary: "32", rating_head_summary: "None", optimizer: "Adagrad", learning_rate: "0.1", batch_size: 4096, epochs: 5, output_dim: 32, updated: "now" }],
      viewing: {}, feature_configs: [{ id: 3, name: "Only one" }], feature_config_id: 3, code: "", code_error: "", confirm_delete: {}, message: "", wizard: null,
    });
    const cleanup = renderModelStructure({ model, el });
    el.querySelector('[data-key="view:1"]').click();
    model.update({ viewing: { id: 1, name: "S", model_type: "retrieval", buyer_layers: [], product_layers: [], rating_head_layers: [], output_dim: 32, params_text: "≈2K" } });
    expect(document.activeElement).toBe(el.querySelector(".tw-view"));
    model.update({ code: "def run_fn(fn_args):\n    pass\n" }); // Python's answer rebuilds the panel
    const view = el.querySelector(".tw-view");
    expect(view.contains(document.activeElement)).toBe(true);
    document.activeElement.dispatchEvent(new KeyboardEvent("keydown", { key: "Escape", bubbles: true }));
    expect(model.lastSent("close_view")).toBeTruthy();
    view.querySelector('[data-key="copy-code"]').click();
    await tick();
    expect(written).toEqual(["def run_fn(fn_args):\n    pass\n"]);
    expect(view.querySelector('[data-role="copy-status"]').textContent).toBe("Copied");
    cleanup();
  });

  it("wizard Cancel asks before discarding edits, and closes at once when nothing changed", () => {
    const model = fakeModel(wizardState());
    const cleanup = renderWizard({ model, el });
    const cancel = () => [...el.querySelectorAll("button")].find((b) => b.textContent === "Cancel").click();
    cancel();
    expect(model.lastSent("cancel")).toBeTruthy();
    model.sent.length = 0;
    model.set("config_data", { ...model.state.config_data, model_type: "ranking" });
    cancel();
    expect(model.lastSent("cancel")).toBeUndefined();
    expect(el.querySelector(".tw-wizard-footer").textContent).toContain("Discard your changes");
    expect(document.activeElement.dataset.key).toBe("keep-editing");
    document.activeElement.click();
    expect(el.querySelector(".tw-wizard-footer").textContent).not.toContain("Discard");
    cancel();
    el.querySelector('[data-key="discard"]').click();
    expect(model.lastSent("cancel")).toBeTruthy();
    cleanup();
  });
});

describe("12. cosmetics", () => {
  it("no ⓘ glyph (an empty box with Debian's fonts): the info mark is an 'i' in a CSS circle", () => {
    const model = fakeModel(wizardState({ step: 3, config_data: { ...standard(), model_type: "multitask", retrieval_weight: 0.5, ranking_weight: 0.5 } }));
    const cleanup = renderWizard({ model, el });
    expect(el.textContent).not.toContain("ⓘ");
    expect(el.querySelectorAll(".tw-info-icon").length).toBeGreaterThan(2);
    cleanup();
  });

  it("the module exports render only through its default export (no anywidget warning)", async () => {
    const mod = await import("../../js/index.js");
    expect("render" in mod).toBe(false);
    expect(typeof mod.default.render).toBe("function");
  });

  it("row counts have thousands separators", async () => {
    const { renderQuickTest } = await import("../../js/quick_test.js");
    const model = fakeModel({
      _view: "quick_test", feature_configs: [{ id: 1, name: "F" }], model_configs: [], feature_config_id: 1, model_config_id: null,
      feature_summary: { name: "F", dataset: "", rows: 100836, buyer_tensor_dim: 8, product_tensor_dim: 8, cross_features: 0, valid: true, problems: [] }, model_summary: {},
      needs_rating: false, rating_columns: [], rating_column: "", epochs_override: null, batch_size_override: null, learning_rate_override: null,
      choices: {}, defaults: {}, checks: [], estimate: {}, can_start: false, running: false, stage: "", progress: 0, status: "", message: "", result: {}, recent: [], metrics: null,
    });
    const cleanup = renderQuickTest({ model, el });
    expect(el.textContent).toContain("100,836 rows");
    cleanup();
  });
});

describe("View's model summary", () => {
  it("lists layer, output shape and params per part, '?' where a vocabulary is unknown", async () => {
    const { renderModelStructure } = await import("../../js/structure.js");
    const model = fakeModel({
      _view: "model_structure", configs: [], feature_configs: [], feature_config_id: null, code: "", code_error: "", confirm_delete: {}, message: "", wizard: null,
      viewing: { id: 1, name: "S", model_type: "retrieval", buyer_layers: [], product_layers: [], rating_head_layers: [], output_dim: 32, params_text: "≈2K",
        summary_rows: [
          { part: "Buyer tower", layer: "Embedding user_id", shape: "(None, 32)", params: null },
          { part: "Buyer tower", layer: "Dense(32)", shape: "(None, 32)", params: 1056 },
          { part: "Product tower", layer: "Dense(32)", shape: "(None, 32)", params: 1056 },
        ] },
    });
    const cleanup = renderModelStructure({ model, el });
    const table = el.querySelector(".tw-model-summary table");
    const cells = [...table.querySelectorAll("tbody tr")].map((tr) => tr.textContent);
    expect(cells).toEqual(["Buyer tower", "Embedding user_id(None, 32)?", "Dense(32)(None, 32)1,056", "Product tower", "Dense(32)(None, 32)1,056"]);
    expect(table.querySelector("tfoot").textContent).toBe("Total params≈2K");
    cleanup();
  });
});
