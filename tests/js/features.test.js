// FeatureEditor: one row per column with a histogram drawn from Python's bins, commands for
// every edit, the kernel's messages shown where the eye is, no markup from data, keyboard
// use, and a cleanup that leaves no listener. Plus the page's + New / Edit wiring.
import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import widget from "../../js/index.js";
import { FEATURES_TRAITS, formatNumber, histogramBars, renderFeatureEditor } from "../../js/features.js";
import { renderModelingPage } from "../../js/page.js";
import { XSS, fakeModel, tick } from "./fake_model.js";

const here = dirname(fileURLToPath(import.meta.url));

function editorState(overrides = {}) {
  return {
    _view: "feature_editor",
    source: "600 rows · 4 columns",
    mode: "create",
    closed: false,
    saved: {},
    notice: "",
    errors: [],
    column_errors: {},
    dims: { buyer: 32, product: 40 },
    columns: [
      { name: "userId", dtype: "str", kind: "text", numeric: true, distinct: 610, distinct_exact: true, nulls: 0,
        histogram: { kind: "top", counts: [30, 20, 10], labels: ["1", "2", "other"] }, proposed_tower: "buyer", why: "the buyer id" },
      { name: "movieId", dtype: "str", kind: "text", numeric: true, distinct: 9724, distinct_exact: true, nulls: 0,
        histogram: { kind: "top", counts: [5], labels: ["1"] }, proposed_tower: "product", why: "the product id" },
      { name: "genre", dtype: "object", kind: "text", numeric: false, distinct: 19, distinct_exact: false, nulls: 2,
        histogram: { kind: "top", counts: [8, 4], labels: ["Drama", "Comedy"] }, proposed_tower: "product", why: "one value per product" },
      { name: "timestamp", dtype: "int64", kind: "number", numeric: true, distinct: 85043, distinct_exact: true, nulls: 0,
        histogram: { kind: "numeric", counts: [4, 0, 2, 8], edges: [0, 10, 20, 30, 40] }, proposed_tower: null, why: "a time" },
    ],
    config_data: {
      name: "Movies", buyer_id_column: "userId", product_id_column: "movieId",
      buyer_features: [{ column: "userId", transform: "embedding", embedding_dim: 32 }],
      product_features: [
        { column: "movieId", transform: "embedding", embedding_dim: 32 },
        { column: "genre", transform: "embedding", embedding_dim: 8 },
      ],
      crosses: [],
    },
    ...overrides,
  };
}

let el;
beforeEach(() => { el = document.createElement("div"); document.body.appendChild(el); });
afterEach(() => { el.remove(); });

const row = (name) => el.querySelector(`tr[data-column="${name}"]`);
const pick = (select, value) => { select.value = value; select.dispatchEvent(new Event("change")); };

describe("histogramBars", () => {
  it("gives one bar per bin, scaled to the tallest, with zero bins flat", () => {
    const bars = histogramBars({ kind: "numeric", counts: [4, 0, 2, 8], edges: [0, 10, 20, 30, 40] }, 96, 24);
    expect(bars).toHaveLength(4);
    expect(bars.map((b) => b.x)).toEqual([0, 24, 48, 72]);
    expect(bars.map((b) => b.h)).toEqual([12, 0, 6, 24]);
    for (const b of bars) expect(b.y + b.h).toBe(24); // bars stand on the baseline
    expect(bars[3].label).toBe("30 – 40");
    expect(bars.every((b) => b.w > 0 && b.x + b.w <= 96)).toBe(true);
  });

  it("keeps a tiny count visible and labels top values", () => {
    const bars = histogramBars({ kind: "top", counts: [1000, 1], labels: ["a", "other"] }, 50, 20);
    expect(bars[1].h).toBe(1);
    expect(bars.map((b) => b.label)).toEqual(["a", "other"]);
    expect(histogramBars({ kind: "top", counts: [], labels: [] }, 50, 20)).toEqual([]);
  });

  it("labels popularity bins in rows per value", () => {
    const model = fakeModel(editorState({ columns: [{ name: "userId", dtype: "str", kind: "text", numeric: true, distinct: 610, distinct_exact: true, nulls: 0,
      histogram: { kind: "frequency", counts: [3, 0, 5], edges: [1, 2, 4, 9] }, proposed_tower: "buyer", why: "the buyer id" }] }));
    const cleanup = renderFeatureEditor({ model, el });
    const titles = [...el.querySelectorAll("svg rect title")].map((t) => t.textContent);
    expect(titles).toEqual(["1 rows per value: 3 values", "2–3 rows per value: 0 values", "4–9 rows per value: 5 values"]);
    cleanup();
  });

  it("formats numbers for people", () => {
    expect(formatNumber(100836)).toBe("100,836");
    expect(formatNumber(3.14159)).toBe("3.14");
    expect(formatNumber(1234.5)).toBe("1235");
  });
});

describe("FeatureEditor", () => {
  it("renders one row per column with dtype, distinct, nulls and an SVG histogram", () => {
    const model = fakeModel(editorState());
    const cleanup = renderFeatureEditor({ model, el });
    expect(el.querySelectorAll("tbody tr")).toHaveLength(4);
    const genre = row("genre");
    const cells = [...genre.querySelectorAll("td")].map((td) => td.textContent);
    expect(cells.slice(0, 3)).toEqual(["object", "≈19", "2"]);
    const rects = row("timestamp").querySelectorAll("svg rect");
    expect(rects).toHaveLength(4);
    expect(rects[3].getAttribute("height")).toBe("24.00");
    expect(rects[0].querySelector("title").textContent).toBe("0 – 10: 4");
    expect(row("timestamp").textContent).toContain("Left out: a time");
    const cfg = structuredClone(model.get("config_data"));
    cfg.product_features = cfg.product_features.filter((f) => f.column !== "genre");
    model.update({ config_data: cfg });
    expect(row("genre").textContent).toContain("Left out (proposed: product tower, one value per product)");
    expect(row("userId").textContent).toContain("buyer id");
    expect(el.querySelector('[data-testid="fe-dims"]').textContent).toBe("Buyer tower input: 32DProduct tower input: 40D");
    expect(el.textContent).toContain("✓ Valid against the data");
    cleanup();
    expect(model.listenerCount()).toBe(0);
    expect(el.children).toHaveLength(0);
  });

  it("sends a command for each edit and follows Python's answer", () => {
    const model = fakeModel(editorState());
    const cleanup = renderFeatureEditor({ model, el });
    pick(row("timestamp").querySelector('[data-key="tower:timestamp"]'), "buyer");
    expect(model.lastSent("set_column")).toMatchObject({ column: "timestamp", tower: "buyer" });
    pick(row("genre").querySelector('[data-key="transform:genre:0"]'), "bucketize");
    expect(model.lastSent("update_transform")).toMatchObject({ column: "genre", index: 0, transform: "bucketize" });
    const dim = row("genre").querySelector('[data-key="dim:genre:0"]');
    dim.value = "16";
    dim.dispatchEvent(new Event("change"));
    expect(model.lastSent("update_transform")).toMatchObject({ column: "genre", embedding_dim: 16 });
    row("genre").querySelector('[data-key="add:genre"]').click();
    expect(model.lastSent("add_transform")).toMatchObject({ column: "genre", transform: "normalize" });
    pick(el.querySelector('[data-key="fe-buyer_id_column"]'), "genre");
    expect(model.lastSent("set_field")).toMatchObject({ field: "buyer_id_column", value: "genre" });
    const name = el.querySelector('[data-key="fe-name"]');
    name.value = "Renamed";
    name.dispatchEvent(new Event("change"));
    expect(model.lastSent("set_field")).toMatchObject({ field: "name", value: "Renamed" });
    // Python answers: the timestamp joins the buyer tower as cyclical, the dims follow.
    const cfg = structuredClone(model.get("config_data"));
    cfg.buyer_features.push({ column: "timestamp", transform: "cyclical", period: "week" });
    model.update({ config_data: cfg, dims: { buyer: 34, product: 40 } });
    expect(row("timestamp").querySelector('[data-key="period:timestamp:0"]').value).toBe("week");
    expect(el.querySelector('[data-testid="fe-dims"]').textContent).toContain("Buyer tower input: 34D");
    el.querySelector('[data-key="fe-save"]').click();
    expect(model.lastSent("save")).toBeTruthy();
    el.querySelector('[data-key="fe-cancel"]').click();
    expect(model.lastSent("cancel")).toBeTruthy();
    cleanup();
    expect(model.listenerCount()).toBe(0);
  });

  it("shows the kernel's messages in the row they name and in the list", () => {
    const message = "Column 'genre' has dtype object but transform 'normalize' needs numbers; use transform 'embedding' for categories";
    const model = fakeModel(editorState({ errors: [message], column_errors: { genre: [message] }, notice: "Not saved: fix the problems listed below." }));
    const cleanup = renderFeatureEditor({ model, el });
    const rowError = row("genre").querySelector(".tw-field-error");
    expect(rowError.textContent).toBe(`✗ ${message}`);
    expect(row("genre").querySelector('[data-key="tower:genre"]').getAttribute("aria-describedby")).toBe(rowError.id);
    expect(el.querySelector(".tw-fe-errors").textContent).toContain("1 problem to fix before saving:");
    expect(el.querySelector(".tw-fe-notice").getAttribute("role")).toBe("alert");
    cleanup();
  });

  it("adds a cross from ticked columns and keeps the ticks until Python adds it", () => {
    const model = fakeModel(editorState());
    const cleanup = renderFeatureEditor({ model, el });
    for (const name of ["genre", "timestamp"]) {
      const box = el.querySelector(`[data-key="cross-col:${name}"]`);
      box.checked = true;
      box.dispatchEvent(new Event("change"));
    }
    el.querySelector('[data-key="add-cross"]').click();
    expect(model.lastSent("add_cross")).toMatchObject({ tower: "product", columns: ["genre", "timestamp"], hash_buckets: 1000, embedding_dim: 16 });
    model.update({ notice: "Not applied: something" }); // a refusal: the ticks survive the redraw
    expect(el.querySelector('[data-key="cross-col:genre"]').checked).toBe(true);
    const cfg = structuredClone(model.get("config_data"));
    cfg.crosses = [{ tower: "product", columns: ["genre", "timestamp"], hash_buckets: 1000, embedding_dim: 16 }];
    model.update({ config_data: cfg, notice: "" });
    expect(el.querySelector('[data-key="cross-col:genre"]').checked).toBe(false);
    expect(el.querySelector(".tw-fe-cross-list").textContent).toContain("genre × timestamp");
    el.querySelector('[data-key="remove-cross:0"]').click();
    expect(model.lastSent("remove_cross")).toMatchObject({ index: 0 });
    cleanup();
  });

  it("keeps data as text: column names and values never become markup", () => {
    const state = editorState();
    state.columns[2] = { ...state.columns[2], name: XSS, histogram: { kind: "top", counts: [3], labels: [XSS] } };
    state.config_data.name = XSS;
    state.config_data.product_features[1].column = XSS;
    const model = fakeModel({ ...state, errors: [XSS] });
    const cleanup = renderFeatureEditor({ model, el });
    expect(el.querySelector("img")).toBeNull();
    expect(el.textContent).toContain(XSS);
    expect(el.querySelector('[data-key="fe-name"]').value).toBe(XSS);
    cleanup();
  });

  it("has no innerHTML in its source", () => {
    for (const file of ["features.js", "page.js"]) {
      const source = readFileSync(resolve(here, "../../js", file), "utf8");
      expect(source).not.toMatch(/innerHTML|outerHTML|insertAdjacentHTML/);
    }
  });

  it("is keyboard-operable: focus stays on the control across Python's redraw", () => {
    const model = fakeModel(editorState());
    const cleanup = renderFeatureEditor({ model, el });
    const select = row("timestamp").querySelector('[data-key="tower:timestamp"]');
    select.focus();
    expect(document.activeElement).toBe(select);
    pick(select, "product");
    const cfg = structuredClone(model.get("config_data"));
    cfg.product_features.push({ column: "timestamp", transform: "cyclical", period: "week" });
    model.update({ config_data: cfg });
    const again = row("timestamp").querySelector('[data-key="tower:timestamp"]');
    expect(again).not.toBe(select); // redrawn…
    expect(document.activeElement).toBe(again); // …and focus came back
    // every control is a native, focusable form element or button with an accessible name
    for (const control of el.querySelectorAll("tbody select, tbody button, tbody input")) {
      expect(control.getAttribute("aria-label") || control.textContent).toBeTruthy();
    }
    const keysSeen = [];
    const outer = (e) => keysSeen.push(e.key);
    document.body.addEventListener("keydown", outer);
    cleanup();
    const root = fakeModel(editorState());
    const off = widget.render({ model: root, el });
    el.querySelector('[data-key="tower:genre"]').dispatchEvent(new KeyboardEvent("keydown", { key: "ArrowDown", bubbles: true }));
    expect(keysSeen).toEqual([]); // the widget keeps its keys from JupyterLab
    document.body.removeEventListener("keydown", outer);
    off();
    expect(root.listenerCount()).toBe(0);
  });

  it("lists the same synced traits as the Python class", () => {
    expect(FEATURES_TRAITS).toContain("config_data");
    expect(FEATURES_TRAITS).toContain("column_errors");
  });
});

describe("ModelingPage's Features chapter", () => {
  const card = { id: 3, name: "Movies", buyer_tensor_dim: 32, product_tensor_dim: 40, buyer_features: [], product_features: [], crosses: [], valid: true };

  it("+ New opens the editor in the chapter; Edit on a card asks for that config", async () => {
    const editor = fakeModel(editorState());
    const model = fakeModel({ _view: "modeling_page", title: "Modeling", subtitle: "", features: [card], compare: false,
      feature_editor: null, has_data: true, features_message: "", structure: null, quick_test: null }, { children: { e: editor } });
    const cleanup = renderModelingPage({ model, el });
    el.querySelector('[data-key="new-features"]').click();
    expect(model.lastSent("new_features")).toBeTruthy();
    el.querySelector('[data-key="edit-features:3"]').click();
    expect(model.lastSent("edit_features")).toMatchObject({ config_id: 3 });
    model.update({ feature_editor: "anywidget:e" });
    await tick();
    expect(el.querySelector(".tw-feature-editor")).toBeTruthy();
    expect(document.activeElement).toBe(el.querySelector('[data-key="fe-name"]'));
    expect(el.querySelector('[data-key="new-features"]').disabled).toBe(true);
    model.update({ feature_editor: null, features_message: "Saved “Movies”" });
    await tick();
    expect(el.querySelector(".tw-feature-editor")).toBeNull();
    expect(el.querySelector(".tw-features-status").textContent).toBe("Saved “Movies”");
    cleanup();
    expect(model.listenerCount()).toBe(0);
    expect(editor.listenerCount()).toBe(0);
  });

  it("without data, + New is disabled and cards have no Edit", () => {
    const model = fakeModel({ _view: "modeling_page", title: "Modeling", subtitle: "", features: [card], compare: false,
      feature_editor: null, has_data: false, features_message: "", structure: null, quick_test: null });
    const cleanup = renderModelingPage({ model, el });
    expect(el.querySelector('[data-key="new-features"]').disabled).toBe(true);
    expect(el.querySelector('[data-key="edit-features:3"]')).toBeNull();
    cleanup();
  });
});
