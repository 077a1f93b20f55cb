// Compare runs: the SVG chart module's geometry (scales, ticks, paths) for known data, its
// tooltips, legend and keyboard focus; the CompareView (diff table, text-only rendering,
// cleanup); the Compare checkbox per row of Recent Quick Tests.
import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { SERIES_STYLES, layout, lineChart, linePath, linearScale, markerPath, niceStep, niceTicks, swatch, tooltipText } from "../../js/chart.js";
import { diffTable, legend, renderCompare } from "../../js/compare.js";
import { renderQuickTest } from "../../js/quick_test.js";
import { XSS, fakeModel, tick } from "./fake_model.js";

const here = dirname(fileURLToPath(import.meta.url));
let el;
beforeEach(() => { el = document.createElement("div"); document.body.appendChild(el); });
afterEach(() => { el.remove(); });

/** @param {Element} target @param {string} key */
const press = (target, key) => target.dispatchEvent(new KeyboardEvent("keydown", { key, bubbles: true, cancelable: true }));

describe("scales and ticks", () => {
  it("maps a domain linearly onto a range, inverted for y", () => {
    expect(linearScale([0, 10], [0, 100])(5)).toBe(50);
    expect(linearScale([0.2, 0.3], [188, 14])(0.25)).toBeCloseTo(101, 9);
    expect(linearScale([3, 3], [0, 100])(3)).toBe(50); // one value: the middle
  });

  it("picks 1-2-5 steps and widens the domain to round ticks", () => {
    expect(niceStep(0.16, 5)).toBeCloseTo(0.05, 12);
    expect(niceStep(900, 5)).toBe(200);
    expect(niceTicks(0.18, 0.34)).toEqual({ ticks: [0.15, 0.2, 0.25, 0.3, 0.35], domain: [0.15, 0.35], step: 0.05 });
    expect(niceTicks(610, 950).ticks).toEqual([600, 700, 800, 900, 1000]);
    expect(niceTicks(1, 3, { count: 6, integer: true }).ticks).toEqual([1, 2, 3]); // epochs: no 1.5
    expect(niceTicks(1, 20, { count: 6, integer: true }).ticks).toEqual([0, 5, 10, 15, 20]);
    expect(niceTicks(5, 5).ticks).toEqual([4.4, 4.6, 4.8, 5, 5.2, 5.4, 5.6]); // a band around one value
  });

  it("places every point of known data where the axes say", () => {
    const geo = layout({ title: "Recall@100", xLabel: "Epoch", yLabel: "Recall@100", series: [{ label: "a", index: 0, points: [[1, 0.2], [2, 0.25], [3, 0.3]] }] });
    expect(geo.plot).toEqual({ left: 60, right: 364, top: 14, bottom: 188 });
    expect(geo.xTicks).toEqual([1, 2, 3]);
    expect(geo.yTicks).toEqual([0.2, 0.22, 0.24, 0.26, 0.28, 0.3]);
    expect(linePath([[1, 0.2], [2, 0.25], [3, 0.3]], geo.x, geo.y)).toBe("M60,188 L212,101 L364,14");
  });

  it("draws distinct marker shapes", () => {
    expect(markerPath("square", 10, 10, 2)).toBe("M8,8 L12,8 L12,12 L8,12 Z");
    expect(markerPath("circle", 10, 10, 2)).toBe("M8,10 a2,2 0 1,0 4,0 a2,2 0 1,0 -4,0 Z");
    const shapes = SERIES_STYLES.map((s) => s.marker);
    expect(new Set(shapes).size).toBe(SERIES_STYLES.length);
    expect(new Set(SERIES_STYLES.map((s) => s.dash)).size).toBe(SERIES_STYLES.length);
    expect(SERIES_STYLES.slice(0, 3).map((s) => s.color)).toEqual(["#0072B2", "#D55E00", "#009E73"]); // Okabe–Ito
  });
});

const SPEC = {
  title: "Loss", xLabel: "Epoch", yLabel: "Loss",
  series: [
    { label: "#1 Sample + Small", index: 0, points: [[1, 812.5], [2, 640.25]] },
    { label: "#2 Sample + Big", index: 1, points: [[1, 900], [2, 700], [3, 610]] },
  ],
};

describe("lineChart", () => {
  it("draws axes with labels, one line and marker per value, in the series' style", () => {
    const chart = lineChart(SPEC);
    el.appendChild(chart.el);
    expect(chart.el.querySelector("figcaption").textContent).toBe("Loss");
    expect(chart.el.querySelector(".tw-chart-xlabel").textContent).toBe("Epoch");
    expect(chart.el.querySelector(".tw-chart-ylabel").textContent).toBe("Loss");
    expect([...chart.el.querySelectorAll(".tw-chart-xtick")].map((t) => t.textContent)).toEqual(["1", "2", "3"]);
    expect([...chart.el.querySelectorAll(".tw-chart-ytick")].map((t) => t.textContent)).toEqual(["600", "700", "800", "900"]);
    const lines = chart.el.querySelectorAll("path.tw-chart-line");
    expect(lines).toHaveLength(2);
    // x: 1→60, 2→212 ; y: 600..900 over 188..14, so 812.5 → 64.75 and 640.25 → 164.66
    expect(lines[0].getAttribute("d")).toBe("M60,64.75 L212,164.66");
    expect(lines[0].getAttribute("stroke-dasharray")).toBeNull();
    expect(lines[1].getAttribute("stroke-dasharray")).toBe("6 3");
    expect(lines[1].getAttribute("stroke")).toBe("#D55E00");
    expect(lines[1].closest("g").getAttribute("class")).toContain("tw-series-1");
    expect(chart.points).toHaveLength(5);
    expect(chart.points[0].el.getAttribute("aria-label")).toBe("#1 Sample + Small, Epoch 1, Loss: 812.5");
    chart.cleanup();
    expect(el.querySelector(".tw-chart")).toBeNull();
  });

  it("shows the exact value in a tooltip on focus and on hover", () => {
    const chart = lineChart(SPEC);
    el.appendChild(chart.el);
    const tip = chart.el.querySelector(".tw-chart-tip");
    expect(tip.hidden).toBe(true);
    chart.points[1].el.focus();
    expect(tip.hidden).toBe(false);
    expect([...tip.children].map((d) => d.textContent)).toEqual(["#1 Sample + Small", "Epoch 2", "Loss: 640.25"]);
    expect(tip.style.left).toBe(`${(212 / 380) * 100}%`);
    press(chart.points[1].el, "Escape");
    expect(tip.hidden).toBe(true);
    chart.points[4].el.dispatchEvent(new MouseEvent("mouseover", { bubbles: true }));
    expect(tip.textContent).toContain("Loss: 610");
    expect(tooltipText("r", "Recall@100", 3, 0.123456789)).toEqual(["r", "Epoch 3", "Recall@100: 0.123457"]);
    chart.cleanup();
  });

  it("moves focus between points with the arrow keys (one tab stop per chart)", () => {
    const chart = lineChart(SPEC);
    el.appendChild(chart.el);
    const [a1, a2, b1, b2, b3] = chart.points.map((p) => p.el);
    expect(chart.points.map((p) => p.el.getAttribute("tabindex"))).toEqual(["0", "-1", "-1", "-1", "-1"]);
    a1.focus();
    press(a1, "ArrowRight");
    expect(document.activeElement).toBe(a2);
    expect(a2.getAttribute("tabindex")).toBe("0");
    expect(a1.getAttribute("tabindex")).toBe("-1");
    press(a2, "ArrowRight"); // the end of the line: stays
    expect(document.activeElement).toBe(a2);
    press(a2, "ArrowDown"); // the next run at the same epoch
    expect(document.activeElement).toBe(b2);
    press(b2, "End");
    expect(document.activeElement).toBe(b3);
    press(b3, "ArrowUp"); // run 1 has no epoch 3: its nearest point
    expect(document.activeElement).toBe(a2);
    press(a2, "ArrowLeft");
    expect(document.activeElement).toBe(a1);
    press(a1, "ArrowUp"); // wraps around to the last run
    expect(document.activeElement).toBe(b1);
    expect(chart.el.querySelector(".tw-chart-tip").textContent).toContain("Loss: 900");
    chart.cleanup();
  });

  it("renders labels from data as text, never as markup", () => {
    const chart = lineChart({ ...SPEC, title: XSS, yLabel: XSS, series: [{ label: XSS, index: 0, points: [[1, 1]] }] });
    el.appendChild(chart.el);
    chart.points[0].el.focus();
    expect(el.querySelector("img")).toBeNull();
    expect(chart.el.querySelector(".tw-chart-tip-run").textContent).toBe(XSS);
    expect(chart.el.querySelector("figcaption").textContent).toBe(XSS);
    chart.cleanup();
  });

  it("chart and compare modules never use innerHTML", () => {
    for (const file of ["chart.js", "compare.js"]) {
      expect(readFileSync(resolve(here, "../../js", file), "utf8")).not.toMatch(/innerHTML|outerHTML|insertAdjacentHTML/);
    }
  });
});

const RUNS = [
  { id: 1, label: "#1 Sample + Small", status: "completed", epochs: 2 },
  { id: 2, label: "#2 Sample + Big", status: "running", epochs: 3 },
];
const DIFF = [
  { section: "Model", field: "Buyer tower layer 3", values: ["—", "Dense(32, Linear)"] },
  { section: "Training", field: "Optimizer", values: ["Adagrad", "Adam"] },
  { section: "Training", field: "Learning rate", values: ["0.1", "0.01"] },
];

function compareState(overrides = {}) {
  return {
    _view: "compare", runs: RUNS, message: "",
    charts: [
      { metric: "loss", label: "Loss", better: "lower", series: [{ run_id: 1, index: 0, points: [[1, 812.5], [2, 640.25]] }, { run_id: 2, index: 1, points: [[1, 900], [2, 700], [3, 610]] }] },
      { metric: "recall_at_100", label: "Recall@100", better: "higher", series: [{ run_id: 1, index: 0, points: [[1, 0.21], [2, 0.34]] }, { run_id: 2, index: 1, points: [] }] },
    ],
    diff: DIFF,
    ...overrides,
  };
}

describe("CompareView", () => {
  it("shows a legend, a chart per metric and only the differing settings", () => {
    const model = fakeModel(compareState());
    const cleanup = renderCompare({ model, el });
    const items = [...el.querySelectorAll(".tw-legend-item")];
    expect(items.map((li) => li.textContent)).toEqual(["#1 Sample + Small", "#2 Sample + Big (running)"]);
    expect(items[1].querySelector("line").getAttribute("stroke-dasharray")).toBe("6 3");
    const charts = [...el.querySelectorAll(".tw-chart")];
    expect(charts.map((c) => c.dataset.metric)).toEqual(["loss", "recall_at_100"]);
    expect(charts[0].querySelector("figcaption").textContent).toBe("Loss (lower is better)");
    expect(charts[1].querySelectorAll(".tw-chart-point")).toHaveLength(2); // an empty series draws nothing
    const table = el.querySelector("table.tw-diff");
    expect([...table.querySelectorAll("thead th")].map((th) => th.textContent)).toEqual(["Setting", "#1 Sample + Small", "#2 Sample + Big"]);
    const rows = [...table.querySelectorAll("tbody tr")].map((tr) => [...tr.children].map((c) => c.textContent));
    expect(rows).toEqual([
      ["Model"], ["Buyer tower layer 3", "—", "Dense(32, Linear)"],
      ["Training"], ["Optimizer", "Adagrad", "Adam"], ["Learning rate", "0.1", "0.01"],
    ]);
    expect(table.querySelector(".tw-diff-missing").textContent).toBe("—");
    cleanup();
    expect(model.listenerCount()).toBe(0);
    expect(el.children).toHaveLength(0);
  });

  it("follows Python: fewer than two runs shows its message; identical settings say so", () => {
    const model = fakeModel(compareState({ runs: [], charts: [], diff: [], message: "Tick two or more runs in Recent Quick Tests to compare them." }));
    const cleanup = renderCompare({ model, el });
    expect(el.querySelector('[role="status"]').textContent).toBe("Tick two or more runs in Recent Quick Tests to compare them.");
    expect(el.querySelector(".tw-chart")).toBeNull();
    model.update(compareState({ diff: [] }));
    expect(el.querySelectorAll(".tw-chart")).toHaveLength(2);
    expect(el.querySelector(".tw-compare-same").textContent).toBe("The runs' settings are identical: only their results differ.");
    cleanup();
  });

  it("keeps the focused point focused when Python redraws the view", () => {
    const model = fakeModel(compareState());
    const cleanup = renderCompare({ model, el });
    const point = () => el.querySelector('.tw-chart[data-metric="loss"] [data-series="1"] .tw-chart-point[data-epoch="2"]');
    const before = point();
    before.focus();
    model.update({ runs: RUNS.map((r) => ({ ...r, status: "completed" })) }); // run 2 finished
    expect(point()).not.toBe(before); // a new chart…
    expect(document.activeElement).toBe(point()); // …with the same point focused
    expect(el.querySelector('.tw-chart[data-metric="loss"] .tw-chart-tip').textContent).toContain("Loss: 700");
    cleanup();
  });

  it("renders run labels and diff values from data as text", () => {
    const runs = [{ id: 1, label: XSS, status: "completed", epochs: 1 }, { id: 2, label: "b", status: "completed", epochs: 1 }];
    const table = diffTable(runs, [{ section: XSS, field: XSS, values: [XSS, "x"] }]);
    const list = legend(runs);
    el.append(table, list);
    expect(el.querySelector("img")).toBeNull();
    expect(table.querySelector("tbody td").textContent).toBe(XSS);
    expect(list.textContent).toContain(XSS);
    expect(swatch(9).getAttribute("class")).toContain("tw-series-1"); // styles cycle past eight runs
  });
});

describe("Recent Quick Tests: Compare checkboxes", () => {
  const recent = [
    { id: 7, title: "Sample + Small", status: "completed", status_label: "✓ Completed", ago: "1m ago", recall_at_100: "30.0%", loss: "640", rmse: null, duration: "20s", model_type: "retrieval" },
    { id: 8, title: "Sample + Big", status: "completed", status_label: "✓ Completed", ago: "now", recall_at_100: "29.0%", loss: "610", rmse: null, duration: "30s", model_type: "retrieval" },
  ];
  const base = {
    _view: "quick_test", feature_configs: [], model_configs: [], feature_config_id: null, model_config_id: null, feature_summary: {}, model_summary: {},
    needs_rating: false, rating_columns: [], rating_column: "", epochs_override: null, batch_size_override: null, learning_rate_override: null,
    choices: {}, defaults: {}, checks: [], estimate: {}, can_start: false, running: false, stage: "", progress: 0, status: "", message: "", result: {},
    metrics: null, run_on: "local", vertex_settings: {},
  };

  it("ticks runs into compare_ids, follows Python's ticks, and mounts the comparison", async () => {
    const view = fakeModel(compareState());
    const model = fakeModel({ ...base, recent, compare_ids: [], comparison: "anywidget:c1" }, { children: { c1: view } });
    const cleanup = renderQuickTest({ model, el });
    await tick();
    const box7 = el.querySelector('[data-key="compare:7"]');
    const box8 = el.querySelector('[data-key="compare:8"]');
    expect(box7.getAttribute("aria-label")).toBe("Compare Sample + Small (#7)");
    box8.checked = true; box8.dispatchEvent(new Event("change"));
    box7.checked = true; box7.dispatchEvent(new Event("change"));
    expect(model.state.compare_ids).toEqual([8, 7]);
    box8.checked = false; box8.dispatchEvent(new Event("change"));
    expect(model.state.compare_ids).toEqual([7]);
    model.update({ compare_ids: [8] }); // Python changed the ticks: the boxes follow in place
    expect(el.querySelector('[data-key="compare:7"]')).toBe(box7);
    expect([box7.checked, box8.checked]).toEqual([false, true]);
    // The comparison child renders below the list.
    expect(el.querySelector(".tw-qt-compare .tw-compare")).toBeTruthy();
    expect(el.querySelectorAll(".tw-qt-compare .tw-chart")).toHaveLength(2);
    cleanup();
    expect(model.listenerCount()).toBe(0);
    expect(view.listenerCount()).toBe(0);
  });
});
