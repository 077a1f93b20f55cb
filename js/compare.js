// CompareView: quick tests side by side — a legend, one chart per metric (a line per run),
// and a table of the settings that differ. Python computes the series and the diff.
import "./compare.css";
import { lineChart, swatch } from "./chart.js";
import { cssEscape, h, listen, uid } from "./dom.js";

export const COMPARE_TRAITS = ["runs", "charts", "diff", "message"];

/**
 * @typedef {{id: number, label: string, status: string, epochs: number}} Run
 * @typedef {{metric: string, label: string, better: "lower"|"higher",
 *   series: {run_id: number, index: number, points: [number, number][]}[]}} ChartData
 * @typedef {{section: string, field: string, values: string[]}} DiffRow
 */

/**
 * The diff as a table: one column per run, rows grouped under their section.
 * @param {Run[]} runs @param {DiffRow[]} rows
 */
export function diffTable(runs, rows) {
  if (!rows.length) {
    return h("p", { class: "tw-muted tw-compare-same", text: "The runs' settings are identical: only their results differ." });
  }
  /** @type {HTMLElement[]} */
  const body = [];
  let section = "";
  for (const row of rows) {
    if (row.section !== section) {
      section = row.section;
      body.push(h("tr", { class: "tw-diff-section" }, h("th", { scope: "colgroup", colSpan: runs.length + 1, text: section })));
    }
    const distinct = new Set(row.values);
    body.push(h("tr", { "data-field": `${row.section}:${row.field}` },
      h("th", { scope: "row", text: row.field }),
      row.values.map((value, i) => h("td", {
        class: value === "—" ? "tw-diff-missing" : null,
        title: distinct.size > 1 && i > 0 && value !== row.values[0] ? `differs from ${runs[0]?.label ?? "the first run"}` : null,
      }, value))));
  }
  return h("div", { class: "tw-table-scroll", tabindex: "0", role: "region", "aria-label": "Settings that differ (scrolls)" },
    h("table", { class: "tw-table tw-diff", "aria-label": "Settings that differ between the runs" },
      h("thead", null, h("tr", null,
        h("th", { scope: "col", text: "Setting" }),
        runs.map((run, i) => h("th", { scope: "col", class: "tw-diff-run" }, swatch(i), h("span", { text: run.label }))))),
      h("tbody", null, body)));
}

/** @param {Run[]} runs */
export function legend(runs) {
  return h("ul", { class: "tw-plain tw-chart-legend", "aria-label": "Runs" }, runs.map((run, i) => h("li", { class: "tw-legend-item", "data-run": String(run.id) },
    swatch(i), h("span", { class: "tw-legend-label", text: run.label }),
    run.status !== "completed" ? h("span", { class: "tw-muted", text: ` (${run.status}${run.epochs ? "" : ", no epochs yet"})` }) : null)));
}

/** @param {{model: import("./dom.js").AnyModel, el: HTMLElement}} props */
export function renderCompare({ model, el }) {
  const headId = uid("tw-cmp");
  const body = h("div", { class: "tw-compare-body" });
  const root = h("section", { class: "tw-compare", "aria-labelledby": headId },
    h("h3", { id: headId, class: "tw-compare-title", text: "Compare runs" }), body);
  el.appendChild(root);
  /** @type {(() => void)[]} */
  let chartCleanups = [];

  /** The focused point (chart, run, epoch), to focus again after Python redraws the view. */
  function focusedPoint() {
    const active = /** @type {Element|null} */ (document.activeElement);
    if (!active || !body.contains(active) || !active.classList.contains("tw-chart-point")) return null;
    const metric = /** @type {HTMLElement|null} */ (active.closest(".tw-chart"))?.dataset.metric;
    const series = active.closest("[data-series]")?.getAttribute("data-series");
    return metric && series ? `.tw-chart[data-metric="${cssEscape(metric)}"] [data-series="${series}"] .tw-chart-point[data-epoch="${active.getAttribute("data-epoch")}"]` : null;
  }

  function draw() {
    const refocus = focusedPoint();
    build();
    const again = refocus ? /** @type {SVGElement|null} */ (body.querySelector(refocus)) : null;
    if (again) again.focus();
  }

  function build() {
    for (const c of chartCleanups) c();
    chartCleanups = [];
    const runs = /** @type {Run[]} */ (model.get("runs") || []);
    const charts = /** @type {ChartData[]} */ (model.get("charts") || []);
    const message = model.get("message");
    if (runs.length < 2) {
      body.replaceChildren(h("p", { class: "tw-muted tw-compare-empty", role: "status", text: message || "Nothing to compare." }));
      return;
    }
    const labels = new Map(runs.map((r) => [r.id, r.label]));
    const grid = h("div", { class: "tw-chart-grid" });
    for (const chart of charts) {
      const made = lineChart({
        title: chart.label,
        note: `${chart.better} is better`,
        xLabel: "Epoch",
        yLabel: chart.label,
        series: chart.series.map((s) => ({ label: labels.get(s.run_id) || `#${s.run_id}`, index: s.index, points: s.points })),
      });
      made.el.dataset.metric = chart.metric;
      grid.appendChild(made.el);
      chartCleanups.push(made.cleanup);
    }
    body.replaceChildren(
      legend(runs),
      charts.length ? grid : h("p", { class: "tw-muted", text: "None of these runs has logged an epoch yet." }),
      h("h4", { class: "tw-compare-subtitle", text: "What differs" }),
      diffTable(runs, model.get("diff") || []),
    );
  }

  const off = listen(model, COMPARE_TRAITS, draw);
  draw();
  return () => {
    off();
    for (const c of chartCleanups) c();
    root.remove();
  };
}
