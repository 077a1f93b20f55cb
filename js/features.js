// FeatureEditor: the Features chapter's editor. One row per data column (dtype, distinct,
// nulls, a tiny histogram computed in Python), its tower and transforms, crosses, the
// towers' input widths and the kernel's validation messages. Every edit is a command;
// Python answers with the new config, errors and dims (it is the authority).
import "./features.css";
import { command, h, listen, rebuild, uid } from "./dom.js";

/**
 * @typedef {Object} FeatureEditorModel synced traits of towerwidgets.widgets.FeatureEditor
 * @property {Array<any>} columns one profile per column (name, dtype, distinct, nulls, histogram, proposed, why)
 * @property {string} source where the data came from, in words
 * @property {any} config_data the draft FeatureConfig as JSON
 * @property {string[]} errors validate() then validate_against(data)
 * @property {Record<string, string[]>} column_errors the errors naming each column
 * @property {{buyer: number, product: number}} dims the towers' input widths
 * @property {string} notice the last refused edit or failed save
 * @property {string} mode "create" | "edit"
 * @property {boolean} closed saved or cancelled
 * @property {any} saved {id, name} of the last save
 */
export const FEATURES_TRAITS = ["columns", "source", "config_data", "errors", "column_errors", "dims", "notice", "mode", "closed", "saved"];

export const TRANSFORMS = ["embedding", "normalize", "bucketize", "cyclical"];
const PERIODS = ["day", "week", "year"];
const SVG = "http://www.w3.org/2000/svg";

/**
 * Bars of a tiny histogram, in a `width` × `height` box (pure: tested on its own).
 * Numeric histograms get one bar per bin, left to right; "top" ones one per value.
 * @param {{kind: string, counts: number[], edges?: number[], labels?: string[]}} hist
 * @param {number} width @param {number} height
 * @returns {{x: number, y: number, w: number, h: number, count: number, label: string}[]}
 */
export function histogramBars(hist, width, height) {
  const counts = (hist && hist.counts) || [];
  if (!counts.length) return [];
  const max = Math.max(...counts);
  const slot = width / counts.length;
  const gap = counts.length > 1 ? Math.min(1, slot * 0.2) : 0;
  return counts.map((count, i) => {
    const barH = max > 0 ? (count / max) * height : 0;
    // A non-zero count stays visible (at least one pixel tall).
    const hh = count > 0 ? Math.max(1, barH) : 0;
    return { x: i * slot, y: height - hh, w: Math.max(0.5, slot - gap), h: hh, count, label: binLabel(hist, i) };
  });
}

/** @param {any} hist @param {number} i */
function binLabel(hist, i) {
  if (hist.kind === "frequency" && hist.edges) {
    // Bins of whole row counts, [lo, hi) except the last, which holds its upper edge.
    const last = i === hist.counts.length - 1;
    const lo = hist.edges[i], hi = last ? hist.edges[i + 1] : hist.edges[i + 1] - 1;
    return `${hi > lo ? `${formatNumber(lo)}–${formatNumber(hi)}` : formatNumber(lo)} rows per value`;
  }
  if (hist.kind === "numeric" && hist.edges) {
    const lo = hist.edges[i], hi = hist.edges[Math.min(i + 1, hist.edges.length - 1)];
    return lo === hi ? formatNumber(lo) : `${formatNumber(lo)} – ${formatNumber(hi)}`;
  }
  return (hist.labels && hist.labels[i]) || "";
}

/** @param {number} n */
export function formatNumber(n) {
  if (!Number.isFinite(n)) return String(n);
  if (Number.isInteger(n)) return n.toLocaleString("en-US");
  return Math.abs(n) >= 100 ? n.toFixed(0) : Math.abs(n) >= 1 ? n.toFixed(2) : n.toPrecision(2);
}

/**
 * The histogram as SVG (text in <title> elements only: never markup from data).
 * @param {any} hist @param {string} column
 */
function histogramSvg(hist, column) {
  const width = 96, height = 24;
  const svg = document.createElementNS(SVG, "svg");
  svg.setAttribute("class", "tw-fe-hist");
  svg.setAttribute("width", String(width));
  svg.setAttribute("height", String(height));
  svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
  svg.setAttribute("role", "img");
  const bars = histogramBars(hist, width, height);
  const what = !hist ? "distribution" : hist.kind === "top" ? "most frequent values" : hist.kind === "frequency" ? "values by how many rows they have" : "distribution";
  svg.setAttribute("aria-label", `${column} ${what}: ${bars.map((b) => `${b.label} ${b.count}`).join(", ") || "no values"}`);
  for (const bar of bars) {
    const rect = document.createElementNS(SVG, "rect");
    rect.setAttribute("x", bar.x.toFixed(2));
    rect.setAttribute("y", bar.y.toFixed(2));
    rect.setAttribute("width", bar.w.toFixed(2));
    rect.setAttribute("height", bar.h.toFixed(2));
    const title = document.createElementNS(SVG, "title");
    const unit = hist.kind === "frequency" ? ` value${bar.count === 1 ? "" : "s"}` : "";
    title.textContent = `${bar.label}: ${bar.count.toLocaleString("en-US")}${unit}`;
    rect.appendChild(title);
    svg.appendChild(rect);
  }
  return svg;
}

/** @param {{model: import("./dom.js").AnyModel, el: HTMLElement}} props */
export function renderFeatureEditor({ model, el }) {
  const titleId = uid("tw-fe-title");
  const body = h("div", { class: "tw-fe-body" });
  const root = h("section", { class: "tw-feature-editor", role: "region", "aria-labelledby": titleId }, body);
  el.appendChild(root);
  /** @type {{tower: string, columns: Set<string>, hash_buckets: string, embedding_dim: string}} */
  const cross = { tower: "product", columns: new Set(), hash_buckets: "1000", embedding_dim: "16" };
  let crossCount = ((model.get("config_data") || {}).crosses || []).length;

  /** @param {string} kind @param {Record<string, any>} payload */
  const send = (kind, payload) => command(model, kind, payload);

  function draw() {
    rebuild(body, () => {
      const cfg = model.get("config_data") || {};
      const dims = model.get("dims") || {};
      const columns = model.get("columns") || [];
      const errors = model.get("errors") || [];
      const notice = model.get("notice") || "";
      const names = columns.map((/** @type {any} */ c) => c.name);
      return [
        h("div", { class: "tw-fe-head" },
          h("h3", { id: titleId, class: "tw-fe-title", text: model.get("mode") === "edit" ? "Edit Feature Config" : "New Feature Config" }),
          h("span", { class: "tw-muted", text: model.get("source") || "" })),
        h("div", { class: "tw-fe-fields" },
          field("Name", h("input", {
            type: "text", class: "tw-input", "data-key": "fe-name", value: cfg.name || "",
            onchange: (/** @type {Event} */ e) => send("set_field", { field: "name", value: /** @type {HTMLInputElement} */ (e.target).value }),
          })),
          field("Buyer id column", idSelect("buyer_id_column", names, cfg.buyer_id_column)),
          field("Product id column", idSelect("product_id_column", names, cfg.product_id_column))),
        h("p", { class: "tw-fe-dims", "aria-live": "polite", "data-testid": "fe-dims" },
          h("span", { class: "tw-fe-dim tw-fe-dim-buyer", text: `Buyer tower input: ${dims.buyer ?? 0}D` }),
          h("span", { class: "tw-fe-dim tw-fe-dim-product", text: `Product tower input: ${dims.product ?? 0}D` })),
        notice ? h("p", { class: "tw-fe-notice", role: "alert", text: notice }) : null,
        table(columns, cfg),
        crossesPart(cfg, names),
        errors.length
          ? h("div", { class: "tw-fe-errors", role: "alert" },
            h("p", { class: "tw-fe-errors-title", text: `${errors.length} problem${errors.length === 1 ? "" : "s"} to fix before saving:` }),
            h("ul", null, errors.map((/** @type {string} */ m) => h("li", { text: m }))))
          : h("p", { class: "tw-fe-ok", text: "✓ Valid against the data" }),
        h("div", { class: "tw-fe-actions" },
          h("button", { type: "button", class: "tw-btn", "data-key": "fe-cancel", text: "Cancel", onclick: () => send("cancel", {}) }),
          h("button", { type: "button", class: "tw-btn tw-btn-primary", "data-key": "fe-save", text: "Save Feature Config", onclick: () => send("save", {}) })),
      ];
    });
  }

  /** @param {string} label @param {HTMLElement} control */
  function field(label, control) {
    const id = uid("tw-fe-field");
    control.id = id;
    return h("div", { class: "tw-fe-field" }, h("label", { for: id, text: label }), control);
  }

  /** @param {string} which @param {string[]} names @param {string} value */
  function idSelect(which, names, value) {
    return h("select", {
      class: "tw-input", "data-key": `fe-${which}`,
      onchange: (/** @type {Event} */ e) => send("set_field", { field: which, value: /** @type {HTMLSelectElement} */ (e.target).value }),
    }, h("option", { value: "", text: "(none)", selected: !value }),
    names.map((n) => h("option", { value: n, text: n, selected: n === value })));
  }

  /** @param {any[]} columns @param {any} cfg */
  function table(columns, cfg) {
    const byColumn = model.get("column_errors") || {};
    return h("table", { class: "tw-table tw-fe-table", "aria-label": "Columns of the data" },
      h("thead", null, h("tr", null, ["Column", "Type", "Distinct", "Nulls", "Distribution", "Tower", "Transform"].map((t) => h("th", { scope: "col", text: t })))),
      h("tbody", null, columns.map((col) => columnRow(col, cfg, byColumn[col.name] || []))));
  }

  /** @param {any} cfg @param {string} name @returns {[string|null, any[]]} */
  function featuresOf(cfg, name) {
    for (const tower of ["buyer", "product"]) {
      const mine = (cfg[`${tower}_features`] || []).filter((/** @type {any} */ f) => f.column === name);
      if (mine.length) return [tower, mine];
    }
    return [null, []];
  }

  /** @param {any} col @param {any} cfg @param {string[]} problems */
  function columnRow(col, cfg, problems) {
    const [tower, features] = featuresOf(cfg, col.name);
    const key = col.name;
    const errorId = uid("tw-fe-err");
    const towerSelect = h("select", {
      class: "tw-input", "data-key": `tower:${key}`, "aria-label": `Tower for ${col.name}`,
      onchange: (/** @type {Event} */ e) => {
        const value = /** @type {HTMLSelectElement} */ (e.target).value;
        send("set_column", { column: col.name, tower: value || null });
      },
    }, [["", "— left out —"], ["buyer", "Buyer"], ["product", "Product"]].map(([v, t]) => h("option", { value: v, text: t, selected: (tower || "") === v })));
    const idRole = col.name === cfg.buyer_id_column ? "buyer id" : col.name === cfg.product_id_column ? "product id" : "";
    const transformCell = h("td", { class: "tw-fe-transforms" },
      tower
        ? [features.map((f, i) => transformLine(col.name, f, i, features.length)),
          h("button", {
            type: "button", class: "tw-btn tw-btn-small tw-fe-add", "data-key": `add:${key}`, text: "+ transform",
            "aria-label": `Add a transform to ${col.name}`,
            onclick: () => send("add_transform", { column: col.name, transform: nextTransform(features, col) }),
          })]
        : h("span", { class: "tw-muted", text: leftOutText(col) }),
      problems.length ? h("div", { id: errorId, class: "tw-field-error", role: "alert" }, problems.map((m) => h("div", { text: `✗ ${m}` }))) : null);
    if (problems.length) towerSelect.setAttribute("aria-describedby", errorId);
    return h("tr", { "data-column": col.name, class: `${tower ? "" : "tw-fe-out"}${problems.length ? " tw-fe-bad" : ""}` },
      h("th", { scope: "row", class: "tw-fe-name" }, h("span", { text: col.name }),
        idRole ? h("span", { class: "tw-fe-role", text: idRole }) : null),
      h("td", { class: "tw-fe-dtype", text: col.dtype }),
      h("td", { class: "tw-fe-num", text: `${col.distinct_exact ? "" : "≈"}${formatNumber(col.distinct)}` }),
      h("td", { class: "tw-fe-num", text: formatNumber(col.nulls) }),
      h("td", null, histogramSvg(col.histogram, col.name)),
      h("td", null, towerSelect),
      transformCell);
  }

  /** Why a column is out: the proposal's reason, or what was proposed instead. @param {any} col */
  function leftOutText(col) {
    if (!col.proposed_tower) return col.why ? `Left out: ${col.why}` : "Left out";
    return `Left out (proposed: ${col.proposed_tower} tower, ${col.why})`;
  }

  /** A transform the column does not use yet (numbers get z-score first). @param {any[]} features @param {any} col */
  function nextTransform(features, col) {
    const used = new Set(features.map((f) => f.transform));
    const order = col.numeric ? ["normalize", "cyclical", "bucketize", "embedding"] : ["embedding", ...TRANSFORMS];
    return order.find((t) => !used.has(t)) || "embedding";
  }

  /** @param {string} column @param {any} f @param {number} i @param {number} count */
  function transformLine(column, f, i, count) {
    const key = `${column}:${i}`;
    /** @param {Record<string, any>} change */
    const update = (change) => send("update_transform", { column, index: i, ...change });
    const parts = [
      h("select", {
        class: "tw-input", "data-key": `transform:${key}`, "aria-label": `Transform ${i + 1} of ${column}`,
        onchange: (/** @type {Event} */ e) => update({ transform: /** @type {HTMLSelectElement} */ (e.target).value }),
      }, TRANSFORMS.map((t) => h("option", { value: t, text: t, selected: t === f.transform }))),
    ];
    if (f.transform === "bucketize") parts.push(numberField(`buckets:${key}`, `Buckets for ${column}`, "buckets", f.num_buckets, 2, 10000, (v) => update({ num_buckets: v })));
    if (f.transform === "embedding" || f.transform === "bucketize") parts.push(numberField(`dim:${key}`, `Embedding dimension for ${column}`, "dim", f.embedding_dim, 1, 1024, (v) => update({ embedding_dim: v })));
    if (f.transform === "cyclical") {
      parts.push(h("select", {
        class: "tw-input", "data-key": `period:${key}`, "aria-label": `Period for ${column}`,
        onchange: (/** @type {Event} */ e) => update({ period: /** @type {HTMLSelectElement} */ (e.target).value }),
      }, PERIODS.map((p) => h("option", { value: p, text: `per ${p}`, selected: p === f.period }))));
    }
    parts.push(h("button", {
      type: "button", class: "tw-btn tw-btn-small tw-fe-remove", "data-key": `remove:${key}`,
      "aria-label": count > 1 ? `Remove ${f.transform} of ${column}` : `Leave ${column} out`, text: "×",
      onclick: () => send("remove_transform", { column, index: i }),
    }));
    return h("div", { class: "tw-fe-line" }, parts);
  }

  /**
   * @param {string} key @param {string} label @param {string} short @param {number} value
   * @param {number} min @param {number} max @param {(v: number) => void} commit
   */
  function numberField(key, label, short, value, min, max, commit) {
    const input = h("input", {
      type: "number", class: "tw-input tw-fe-number", "data-key": key, "aria-label": label,
      min, max, step: 1, value: value ?? "",
    });
    const fire = () => {
      const raw = /** @type {HTMLInputElement} */ (input).value.trim();
      // Python checks the range and answers in the notice; only an empty box is ignored.
      if (raw !== "") commit(Number(raw));
    };
    input.addEventListener("change", fire);
    return h("label", { class: "tw-fe-param" }, h("span", { class: "tw-muted", text: short }), input);
  }

  /** @param {any} cfg @param {string[]} names */
  function crossesPart(cfg, names) {
    const crosses = cfg.crosses || [];
    if (crosses.length > crossCount) cross.columns.clear();
    crossCount = crosses.length;
    const list = crosses.length
      ? h("ul", { class: "tw-fe-cross-list" }, crosses.map((/** @type {any} */ c, /** @type {number} */ i) => h("li", null,
        h("span", { text: `${c.tower}: ${c.columns.join(" × ")} → hash(${c.hash_buckets}) → embedding(${c.embedding_dim})` }),
        h("button", {
          type: "button", class: "tw-btn tw-btn-small", "data-key": `remove-cross:${i}`, text: "×",
          "aria-label": `Remove cross ${c.columns.join(" × ")}`, onclick: () => send("remove_cross", { index: i }),
        }))))
      : h("p", { class: "tw-muted", text: "No crosses yet." });
    const boxes = h("fieldset", { class: "tw-fe-cross-columns" }, h("legend", { text: "Columns to cross (2–4)" }),
      names.map((n) => {
        const id = uid("tw-fe-x");
        return h("span", { class: "tw-fe-check" },
          h("input", {
            type: "checkbox", id, "data-key": `cross-col:${n}`, checked: cross.columns.has(n),
            onchange: (/** @type {Event} */ e) => {
              if (/** @type {HTMLInputElement} */ (e.target).checked) cross.columns.add(n); else cross.columns.delete(n);
            },
          }),
          h("label", { for: id, text: n }));
      }));
    const towerSel = h("select", {
      class: "tw-input", "data-key": "cross-tower", "aria-label": "Tower of the cross",
      onchange: (/** @type {Event} */ e) => { cross.tower = /** @type {HTMLSelectElement} */ (e.target).value; },
    }, ["buyer", "product"].map((t) => h("option", { value: t, text: t, selected: t === cross.tower })));
    /** @param {"hash_buckets"|"embedding_dim"} name @param {string} label */
    const num = (name, label) => h("label", { class: "tw-fe-param" }, h("span", { class: "tw-muted", text: label }),
      h("input", {
        type: "number", class: "tw-input tw-fe-number", "data-key": `cross-${name}`, value: cross[name], min: 1,
        oninput: (/** @type {Event} */ e) => { cross[name] = /** @type {HTMLInputElement} */ (e.target).value; },
      }));
    return h("div", { class: "tw-fe-crosses" },
      h("h4", { class: "tw-fe-subtitle", text: "Feature crosses" }),
      list,
      h("div", { class: "tw-fe-cross-form" }, boxes, h("label", { class: "tw-fe-param" }, h("span", { class: "tw-muted", text: "tower" }), towerSel), num("hash_buckets", "hash buckets"), num("embedding_dim", "dim"),
        h("button", {
          type: "button", class: "tw-btn tw-btn-small", "data-key": "add-cross", text: "Add cross",
          onclick: () => {
            const payload = { tower: cross.tower, columns: names.filter((n) => cross.columns.has(n)), hash_buckets: Number(cross.hash_buckets) || null, embedding_dim: Number(cross.embedding_dim) || null };
            send("add_cross", payload); // the ticks stay until the cross is added (a refusal loses nothing)
          },
        })));
  }

  const off = listen(model, ["columns", "source", "config_data", "errors", "column_errors", "dims", "notice", "mode"], draw);
  draw();
  return () => { off(); root.remove(); };
}
