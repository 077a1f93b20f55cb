// MetricsTable: rows per epoch, sortable headers, best value highlighted, a sparkline per metric.
import { h, listen, rebuild } from "./dom.js";

export const METRICS_TRAITS = ["columns", "rows", "best", "sort_by", "sort_descending", "title", "empty_text", "baseline"];
const SVG = "http://www.w3.org/2000/svg";

/** "0.4731" / "47.3%" style cell text. @param {string} column @param {any} value */
export function formatCell(column, value) {
  if (value === null || value === undefined) return "—";
  if (typeof value !== "number") return String(value);
  if (column === "epoch" || Number.isInteger(value)) return String(value);
  if (column.startsWith("recall")) return `${(value * 100).toFixed(1)}%`;
  return value.toFixed(4);
}

/**
 * Sort a copy of rows (keeps original indices in `_i`). Nulls sort last.
 * @param {Record<string, any>[]} rows @param {string} column @param {boolean} descending
 */
export function sortRows(rows, column, descending) {
  const indexed = rows.map((row, i) => ({ ...row, _i: i }));
  if (!column) return indexed;
  return indexed.sort((a, b) => {
    const x = a[column];
    const y = b[column];
    if (x === null || x === undefined) return 1;
    if (y === null || y === undefined) return -1;
    const cmp = typeof x === "number" && typeof y === "number" ? x - y : String(x).localeCompare(String(y));
    return descending ? -cmp : cmp;
  });
}

/**
 * A small SVG polyline of `values` (nulls skipped). @param {(number|null)[]} values
 * @param {string} label
 */
export function sparkline(values, label) {
  const width = 80;
  const height = 20;
  const svg = document.createElementNS(SVG, "svg");
  svg.setAttribute("width", String(width));
  svg.setAttribute("height", String(height));
  svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
  svg.setAttribute("class", "tw-spark");
  svg.setAttribute("role", "img");
  svg.setAttribute("aria-label", label);
  const nums = values.map((v, i) => [i, v]).filter(([, v]) => typeof v === "number");
  if (nums.length >= 1) {
    const ys = nums.map(([, v]) => /** @type {number} */ (v));
    const min = Math.min(...ys);
    const max = Math.max(...ys);
    const span = max - min || 1;
    const n = Math.max(1, values.length - 1);
    const points = nums.map(([i, v]) => `${((/** @type {number} */ (i) / n) * (width - 4) + 2).toFixed(1)},${(height - 2 - ((/** @type {number} */ (v) - min) / span) * (height - 4)).toFixed(1)}`);
    const line = document.createElementNS(SVG, "polyline");
    line.setAttribute("points", points.join(" "));
    line.setAttribute("fill", "none");
    line.setAttribute("class", "tw-spark-line");
    svg.appendChild(line);
  }
  return svg;
}

/** @param {{model: import("./dom.js").AnyModel, el: HTMLElement}} props */
export function renderMetricsTable({ model, el }) {
  const root = h("div", { class: "tw-metrics" });
  el.appendChild(root);
  const draw = () => rebuild(root, build);

  function build() {
    const columns = /** @type {string[]} */ (model.get("columns") || []);
    const rows = /** @type {Record<string, any>[]} */ (model.get("rows") || []);
    const best = model.get("best") || {};
    const sortBy = model.get("sort_by") || "";
    const desc = !!model.get("sort_descending");
    const title = model.get("title");
    if (!rows.length) {
      return [title ? h("div", { class: "tw-metrics-title", text: title }) : null,
        h("p", { class: "tw-muted", role: "status", text: model.get("empty_text") || "No metrics yet." })];
    }
    const sorted = sortRows(rows, sortBy, desc);
    const head = h("tr", null, columns.map((c) => {
      const active = c === sortBy;
      return h("th", { scope: "col", "aria-sort": active ? (desc ? "descending" : "ascending") : "none" },
        h("button", {
          type: "button", class: "tw-sort", "data-key": `sort:${c}`,
          "aria-label": `Sort by ${c}${active ? (desc ? ", sorted descending" : ", sorted ascending") : ""}`,
          text: `${c}${active ? (desc ? " ▼" : " ▲") : ""}`,
          onclick: () => {
            model.set("sort_descending", active ? !desc : false);
            model.set("sort_by", c);
            model.save_changes();
          },
        }));
    }));
    const sparks = h("tr", { class: "tw-spark-row" }, columns.map((c) => {
      const isMetric = c !== "epoch" && rows.some((r) => typeof r[c] === "number");
      return h("td", null, isMetric ? sparkline(rows.map((r) => (typeof r[c] === "number" ? r[c] : null)), `${c} per epoch`) : null);
    }));
    const body = sorted.map((row) => h("tr", null, columns.map((c) => {
      const b = best[c];
      const isBest = b && b.row === row._i;
      return h("td", {
        class: isBest ? "tw-best" : null,
        title: isBest ? `Best ${c} (${b.mode === "min" ? "lowest" : "highest"})` : null,
      }, formatCell(c, row[c]), isBest ? h("span", { class: "tw-sr", text: " (best)" }) : null);
    })));
    const baseline = model.get("baseline") || {};
    const values = baseline.values || {};
    const beaten = baseline.beaten || {};
    const notBeaten = columns.filter((c) => c in values && beaten[c] === false);
    const foot = Object.keys(values).length ? h("tfoot", null, h("tr", { class: "tw-baseline-row", title: baseline.title || null },
      columns.map((c, i) => {
        if (i === 0) return h("th", { scope: "row", text: baseline.label || "Baseline" });
        if (!(c in values)) return h("td", { text: "" });
        const lost = beaten[c] === false;
        return h("td", { class: lost ? "tw-not-beaten" : null },
          formatCell(c, values[c]), lost ? h("span", { text: " ✗ not beaten" }) : null);
      }))) : null;
    return [
      title ? h("div", { class: "tw-metrics-title", text: title }) : null,
      h("div", { class: "tw-table-scroll", tabindex: "0", role: "region", "aria-label": `${title || "Metrics per epoch"} (scrolls)` },
        h("table", { class: "tw-table", "aria-label": title || "Metrics per epoch" },
          h("thead", null, head, sparks),
          h("tbody", null, body),
          foot)),
      notBeaten.length ? h("p", { class: "tw-warn tw-baseline-note", role: "note",
        text: `⚠ The model does not beat the trivial baseline for ${notBeaten.join(", ")} (${baseline.title || "same split"}).` }) : null,
    ];
  }

  const off = listen(model, METRICS_TRAITS, draw);
  draw();
  return () => { off(); root.remove(); };
}
