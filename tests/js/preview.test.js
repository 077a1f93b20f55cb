// RecommendationPreview view: the buyer search box (debounced query, listbox, keyboard),
// the results/history/ratings tables, the typed-features form, text-only rendering, cleanup.
import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it, vi } from "vitest";
import widget from "../../js/index.js";
import { cellText, renderPreview } from "../../js/preview.js";
import { renderQuickTest } from "../../js/quick_test.js";
import { XSS, fakeModel, tick } from "./fake_model.js";

const { render } = widget;
const BUYERS = ["1", "10", "11", "12", "2", "20", "3"];

function previewState(overrides = {}) {
  return {
    _view: "recommendation_preview",
    quick_test_id: 4,
    heading: "Quick test 4: movielens + Minimal",
    model_type: "retrieval",
    n_buyers: BUYERS.length,
    query: "",
    matches: BUYERS.slice(0, 5),
    buyer: "",
    k: 10,
    exclude_history: false,
    fields: [{ column: "userId", kind: "string", value: null }, { column: "age", kind: "float", value: null }],
    results: {},
    history_table: {},
    ratings_table: {},
    status: "",
    error: "",
    ...overrides,
  };
}

/** A model whose "Python" filters `matches` by the query, like RecommendationPreview. */
function pythonLike(state = {}) {
  const model = fakeModel(previewState(state));
  const set = model.set.bind(model);
  model.set = (name, value) => {
    set(name, value);
    if (name === "query") model.update({ matches: BUYERS.filter((b) => b.startsWith(value)) });
  };
  return model;
}

const mounted = [];
function mount(model) {
  const el = document.createElement("div");
  document.body.appendChild(el);
  const cleanup = render({ model, el });
  mounted.push({ el, cleanup });
  return { el, cleanup };
}

afterEach(() => {
  for (const { el, cleanup } of mounted.splice(0)) { cleanup(); el.remove(); }
  vi.useRealTimers();
});

const key = (el, k) => el.dispatchEvent(new KeyboardEvent("keydown", { key: k, bubbles: true, cancelable: true }));
const options = (el) => [...el.querySelectorAll("[role=option]")].map((o) => o.textContent);

describe("buyer search", () => {
  it("filters the list by what is typed (debounced) and picks with the keyboard", () => {
    vi.useFakeTimers();
    const model = pythonLike();
    const { el } = mount(model);
    const box = el.querySelector("input[role=combobox]");
    box.focus();
    box.dispatchEvent(new Event("focus"));
    expect(options(el)).toEqual(["1", "10", "11", "12", "2"]);
    expect(box.getAttribute("aria-expanded")).toBe("true");

    box.value = "1";
    box.dispatchEvent(new Event("input"));
    box.value = "1 ";
    box.dispatchEvent(new Event("input"));
    expect(model.saves).toBe(0); // debounced
    vi.advanceTimersByTime(200);
    expect(model.saves).toBe(1);
    expect(model.get("query")).toBe("1");
    expect(options(el)).toEqual(["1", "10", "11", "12"]);

    key(box, "ArrowDown");
    key(box, "ArrowDown");
    const active = el.querySelector("[aria-selected=true]");
    expect(active.textContent).toBe("10");
    expect(box.getAttribute("aria-activedescendant")).toBe(active.id);
    key(box, "ArrowUp");
    key(box, "ArrowUp"); // wraps around to the last one
    expect(el.querySelector("[aria-selected=true]").textContent).toBe("12");
    key(box, "Enter");
    expect(model.lastSent("show").buyer).toBe("12");
    expect(options(el)).toEqual([]); // the list closes after a pick
    expect(box.value).toBe("12");
  });

  it("Enter on typed text asks for that buyer; Escape closes the list; a click picks", () => {
    const model = pythonLike();
    const { el } = mount(model);
    const box = el.querySelector("input[role=combobox]");
    box.focus();
    box.dispatchEvent(new Event("focus"));
    key(box, "Escape");
    expect(options(el)).toEqual([]);
    box.value = " 42 ";
    key(box, "Enter");
    expect(model.lastSent("show").buyer).toBe("42");
    box.dispatchEvent(new Event("focus"));
    el.querySelectorAll("[role=option]")[1].click();
    expect(model.lastSent("show").buyer).toBe("10");
    el.querySelector(".tw-preview-pick .tw-btn-primary").click();
    expect(model.sent.filter((m) => m.kind === "show").length).toBe(3);
  });
});

describe("results", () => {
  const results = {
    columns: ["rank", "movieId", "score", "in_history", "title"],
    rows: [
      { rank: 1, movieId: "318", score: 0.91234567, in_history: true, title: "Shawshank Redemption, The (1994)" },
      { rank: 2, movieId: "9", score: 0.5, in_history: false, title: XSS },
    ],
    total: 2,
  };
  const history = { columns: ["movieId", "title"], rows: [{ movieId: "1", title: "Toy Story (1995)" }], total: 340 };

  it("shows the top products beside the history, as text only", () => {
    const model = pythonLike();
    const { el } = mount(model);
    expect(el.querySelector(".tw-preview-results").textContent).toContain("Pick a buyer");
    model.update({ buyer: "7", results, history_table: history });
    const tables = el.querySelectorAll("table");
    expect(tables.length).toBe(2);
    const cells = [...tables[0].querySelectorAll("tbody tr")].map((tr) => [...tr.children].map((td) => td.textContent));
    expect(cells[0]).toEqual(["1", "318", "0.9123", "✓", "Shawshank Redemption, The (1994)"]);
    expect(cells[1][4]).toBe(XSS); // shown as text
    expect(el.querySelector("img")).toBeNull();
    expect([...tables[0].querySelectorAll("th")].map((th) => th.textContent)).toEqual(["rank", "movieId", "score", "in history", "title"]);
    expect(el.querySelector(".tw-preview-results h4").textContent).toBe("Top 2 for buyer 7");
    expect(el.querySelector(".tw-preview-history h4").textContent).toContain("340 rows, first 1 shown");
    expect(el.querySelector(".tw-preview-ratings").children.length).toBe(0);
  });

  it("shows predicted vs actual for a ranking model, and status and errors where read", () => {
    const model = pythonLike({ model_type: "ranking" });
    const { el } = mount(model);
    const status = el.querySelector("[role=status]");
    const alert = el.querySelector("[role=alert]");
    expect(status.hidden).toBe(true);
    expect(alert.hidden).toBe(true);
    model.update({ status: "Loading the model (first preview)…" });
    expect(status.hidden).toBe(false);
    expect(status.textContent).toContain("Loading the model");
    model.update({ status: "", error: `Buyer '${XSS}' is not in quick test 4's data` });
    expect(alert.textContent).toContain(XSS);
    expect(alert.hidden).toBe(false);
    model.update({
      error: "",
      buyer: "B1",
      results: { columns: ["rank", "product_id", "score"], rows: [{ rank: 1, product_id: "P1", score: 4.2 }], total: 1 },
      ratings_table: { columns: ["product_id", "actual", "predicted", "error"], rows: [{ product_id: "P9", actual: 4, predicted: 3.5, error: -0.5 }], total: 1 },
    });
    const rated = el.querySelector(".tw-preview-ratings table");
    expect([...rated.querySelectorAll("td")].map((td) => td.textContent)).toEqual(["P9", "4", "3.5000", "-0.5000"]);
    expect(el.querySelector(".tw-preview-subtitle, .tw-preview-sub").textContent).toContain("ranking model");
  });

  it("formats cells", () => {
    expect(cellText(null)).toBe("—");
    expect(cellText(3)).toBe("3");
    expect(cellText(0.123456)).toBe("0.1235");
    expect(cellText(false)).toBe("");
    expect(cellText("Heat (1995)")).toBe("Heat (1995)");
  });
});

describe("options", () => {
  it("the history checkbox follows and sets exclude_history", () => {
    const model = pythonLike();
    const { el } = mount(model);
    const box = el.querySelector('input[type=checkbox][data-key="exclude_history"]');
    expect(box.checked).toBe(false);
    expect(box.closest("label").textContent).toContain("Hide products already in the history");
    box.checked = true;
    box.dispatchEvent(new Event("change"));
    expect(model.get("exclude_history")).toBe(true);
    expect(model.saves).toBe(1);
    model.update({ exclude_history: false });
    expect(box.checked).toBe(false);
  });
});

describe("typed features", () => {
  it("sends the form's values and labels every field", () => {
    const model = pythonLike();
    const { el } = mount(model);
    model.update({ fields: [{ column: XSS, kind: "string", value: "a" }, { column: "age", kind: "float", value: 31.5 }] });
    const inputs = [...el.querySelectorAll(".tw-preview-form input")];
    expect(inputs.map((i) => i.type)).toEqual(["text", "number"]);
    expect(inputs[1].value).toBe("31.5");
    for (const input of inputs) expect(el.querySelector(`label[for="${input.id}"]`)).not.toBeNull();
    expect(el.querySelector(".tw-preview-form label").textContent).toBe(`${XSS} (text)`);
    inputs[0].value = "B7";
    inputs[1].value = "40";
    el.querySelector(".tw-preview-form").dispatchEvent(new Event("submit", { cancelable: true }));
    expect(model.lastSent("recommend_features").values).toEqual({ [XSS]: "B7", age: "40" });
  });
});

describe("hygiene", () => {
  it("cleanup removes every listener and timer", () => {
    vi.useFakeTimers();
    const model = pythonLike();
    const { el, cleanup } = mount(model);
    expect(model.listenerCount()).toBeGreaterThan(0);
    const box = el.querySelector("input[role=combobox]");
    box.value = "1";
    box.dispatchEvent(new Event("input"));
    cleanup();
    mounted.pop();
    expect(model.listenerCount()).toBe(0);
    vi.advanceTimersByTime(1000);
    expect(model.saves).toBe(0);
    expect(el.querySelector(".tw-preview")).toBeNull();
  });

  it("never uses innerHTML", () => {
    const source = readFileSync(resolve(dirname(fileURLToPath(import.meta.url)), "../../js/preview.js"), "utf8");
    expect(source).not.toMatch(/innerHTML|outerHTML|insertAdjacentHTML/);
    expect(typeof renderPreview).toBe("function");
  });
});

describe("QuickTestPanel's Preview action", () => {
  const row = (id, status) => ({ id, title: `run ${id}`, status, status_label: status, ago: "1m ago", recall_at_100: null, loss: null, rmse: null, duration: "", model_type: "retrieval" });
  function panelState(overrides = {}) {
    return {
      _view: "quick_test", feature_configs: [], model_configs: [], feature_config_id: null, model_config_id: null,
      feature_summary: {}, model_summary: {}, needs_rating: false, rating_columns: [], rating_column: "",
      epochs_override: null, batch_size_override: null, learning_rate_override: null, choices: {}, defaults: {},
      checks: [], estimate: {}, can_start: false, running: false, stage: "", progress: 0, status: "", message: "",
      result: {}, recent: [row(3, "completed"), row(4, "failed")], metrics: null, preview: null, ...overrides,
    };
  }

  it("offers Preview on completed tests only and shows the preview the kernel opens", async () => {
    const child = fakeModel(previewState({ heading: "Quick test 3: run 3" }));
    const model = fakeModel(panelState(), { children: { p1: child } });
    const el = document.createElement("div");
    document.body.appendChild(el);
    const cleanup = renderQuickTest({ model, el });
    const buttons = [...el.querySelectorAll("button")].filter((b) => b.textContent === "Preview");
    expect(buttons.map((b) => b.getAttribute("aria-label"))).toEqual(["Preview recommendations of run 3"]);
    buttons[0].click();
    expect(model.lastSent("preview").test_id).toBe(3);
    model.update({ preview: "anywidget:p1" });
    await tick();
    expect(el.querySelector(".tw-qt-preview .tw-preview-title").textContent).toContain("Quick test 3: run 3");
    expect(child.listenerCount()).toBeGreaterThan(0);
    model.update({ preview: null }); // closed: the view goes, with its listeners
    await tick();
    expect(el.querySelector(".tw-preview")).toBeNull();
    expect(child.listenerCount()).toBe(0);
    cleanup();
    expect(model.listenerCount()).toBe(0);
    el.remove();
  });
});
