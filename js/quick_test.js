// QuickTestPanel: selectors, summaries, rating column, overrides, validation, run, progress, results.
import { band, childModel, command, h, listen, rebuild, uid } from "./dom.js";
import { g } from "./model.js";
import { renderMetricsTable } from "./metrics_table.js";
import { renderCompare } from "./compare.js";
import { renderPreview } from "./preview.js";

export const QUICK_TEST_TRAITS = [
  "feature_configs", "model_configs", "feature_config_id", "model_config_id", "feature_summary", "model_summary",
  "needs_rating", "rating_columns", "rating_column", "epochs_override", "batch_size_override", "learning_rate_override",
  "choices", "defaults", "checks", "estimate", "vertex_machine", "can_start", "running", "stage", "progress", "status",
  "message", "result", "recent", "metrics", "run_on", "vertex_settings", "compare_ids", "comparison", "preview",
];

/** The synced choices made before Start (towerwidgets/widgets/quick_test.py, SELECTION_TRAITS). */
const SELECTION = ["feature_config_id", "model_config_id", "rating_column", "epochs_override",
  "batch_size_override", "learning_rate_override", "vertex_machine", "run_on", "vertex_settings"];

/** @param {{model: import("./dom.js").AnyModel, el: HTMLElement, host?: any}} props */
export function renderQuickTest({ model, el, host }) {
  const headId = uid("tw-qt-title");
  const top = h("div", { class: "tw-qt-top" });
  const runBox = h("div", { class: "tw-qt-run" });
  const metricsSlot = h("div", { class: "tw-qt-metrics" });
  const recentBox = h("div", { class: "tw-qt-recent" });
  const previewSlot = h("div", { class: "tw-qt-preview" });
  const compareSlot = h("div", { class: "tw-qt-compare" });
  const root = h("section", { class: "tw-chapter tw-quick-test", "aria-labelledby": headId },
    h("div", { class: "tw-chapter-head" }, h("h2", { id: headId, class: "tw-chapter-title", text: "Chapter: Quick Test" })),
    top, runBox, metricsSlot, recentBox, compareSlot, previewSlot);
  el.appendChild(root);
  /** @type {(() => void)|null} */
  let metricsCleanup = null;
  let token = 0;
  /** @type {(() => void)|null} */
  let compareCleanup = null;
  let compareToken = 0;

  /** @param {string} name @param {any} value */
  const set = (name, value) => { model.set(name, value); model.save_changes(); };

  /**
   * @param {string} label @param {any[]} items @param {any} value @param {(v: any) => void} onChange
   * @param {string} key @param {(it: any) => [any, string]} [pair]
   */
  function select(label, items, value, onChange, key, pair = (it) => [it.id, it.name]) {
    const id = uid("tw-sel");
    // Nothing chosen (or the choice was deleted elsewhere): say so, rather than let the
    // browser show the first option as if it were the selection.
    const chosen = items.some((it) => pair(it)[0] === value);
    const placeholder = chosen ? [] : [h("option", { value: "", text: "(choose one)", selected: true, disabled: true })];
    return h("div", { class: "tw-field" },
      h("label", { for: id, class: "tw-field-label", text: label }),
      h("select", {
        id, class: "tw-select", "data-key": key,
        onchange: (/** @type {Event} */ e) => onChange(/** @type {HTMLSelectElement} */ (e.target).value),
      }, items.length ? [...placeholder, ...items.map((it) => { const [v, text] = pair(it); return h("option", { value: String(v), text, selected: v === value }); })]
        : h("option", { value: "", text: "(none in the store)" })));
  }

  function drawTop() {
    const fs = model.get("feature_summary") || {};
    const ms = model.get("model_summary") || {};
    const choices = model.get("choices") || {};
    const defaults = model.get("defaults") || {};
    const checks = model.get("checks") || [];
    const est = model.get("estimate") || {};
    /** @param {string} name @param {string} label @param {number[]} options @param {(v: any) => string} fmt */
    const override = (name, label, options, fmt) => {
      const id = uid("tw-ovr");
      const current = model.get(name);
      const def = defaults[name.replace("_override", "")];
      const opts = options.includes(current) || current === null || current === undefined ? options : [...options, current];
      return h("div", { class: "tw-field" },
        h("label", { for: id, class: "tw-field-label", text: label }),
        h("select", {
          id, class: "tw-select", "data-key": name,
          onchange: (/** @type {Event} */ e) => { const raw = /** @type {HTMLSelectElement} */ (e.target).value; set(name, raw === "" ? null : Number(raw)); },
        },
        h("option", { value: "", text: def !== undefined ? `${fmt(def)} (default)` : "(default)", selected: current === null || current === undefined }),
        opts.map((o) => h("option", { value: String(o), text: fmt(o), selected: o === current }))),
        h("div", { class: "tw-muted", text: `(default: ${def !== undefined ? fmt(def) : "—"})` }));
    };
    const columns = model.get("rating_columns") || [];
    const rc = columns.find((/** @type {any} */ c) => c.name === model.get("rating_column"));
    rebuild(top, () => [
      band("Step 1: Select Configurations"),
      h("div", { class: "tw-two" },
        h("div", { class: "tw-box", "aria-label": "Feature config" },
          select("Feature Config", model.get("feature_configs") || [], model.get("feature_config_id"), (v) => set("feature_config_id", v === "" ? null : Number(v)), "fc"),
          fs.name ? h("dl", { class: "tw-facts" },
            h("dt", { text: "Dataset:" }), h("dd", { text: fs.dataset ? `${fs.dataset}${fs.rows ? ` (${thousands(fs.rows)} rows)` : ""}` : (fs.rows ? `${thousands(fs.rows)} rows` : "no data") }),
            h("dt", { text: "Buyer Tensor:" }), h("dd", { text: `${fs.buyer_tensor_dim}D` }),
            h("dt", { text: "Product Tensor:" }), h("dd", { text: `${fs.product_tensor_dim}D` }),
            h("dt", { text: "Cross Features:" }), h("dd", { text: String(fs.cross_features) }),
            h("dt", { text: "Transform:" }), h("dd", { class: fs.valid ? "tw-ok" : "tw-bad", text: fs.valid ? "✓ Valid" : `✗ ${(fs.problems || []).join("; ")}` })) : null),
        h("div", { class: "tw-box", "aria-label": "Model config" },
          select("Model Config", model.get("model_configs") || [], model.get("model_config_id"), (v) => set("model_config_id", v === "" ? null : Number(v)), "mc"),
          ms.name ? h("dl", { class: "tw-facts" },
            h("dt", { text: "Type:" }), h("dd", { text: ms.type_label }),
            h("dt", { text: "Buyer:" }), h("dd", { class: "tw-mono", text: ms.buyer_summary }),
            h("dt", { text: "Product:" }), h("dd", { class: "tw-mono", text: ms.product_summary }),
            ms.model_type !== "retrieval" ? [h("dt", { text: "Rating head:" }), h("dd", { class: "tw-mono", text: ms.rating_head_summary })] : null,
            h("dt", { text: "Output:" }), h("dd", { text: `${ms.output_dim}D` }),
            ms.params_text ? [h("dt", { text: "Parameters:" }), h("dd", { text: ms.params_text, title: ms.params_assumption || null })] : null,
            h("dt", { text: "Optimizer:" }), h("dd", { text: `${ms.optimizer} @ ${ms.learning_rate}` }),
            h("dt", { text: "Batch:" }), h("dd", { text: `${ms.batch_size} • Epochs: ${ms.epochs}` })) : null)),
      model.get("needs_rating") ? h("div", { class: "tw-box tw-rating", role: "group", "aria-label": "Rating column" },
        h("p", { text: rc ? "Ranking and Multitask models learn from this rating column:" : "⚠ Ranking and Multitask models need a rating column: choose one." }),
        columns.length
          ? select("Rating Column:", [{ name: "" }, ...columns], model.get("rating_column"), (v) => set("rating_column", v), "rating", (c) => [c.name, c.name || "(choose a column)"])
          : h("p", { class: "tw-bad", text: "The data has no numeric column to use as a rating." }),
        rc ? h("p", { class: "tw-muted", text: `Column info: ${rc.dtype} • Range: ${fmtNum(rc.min)} - ${fmtNum(rc.max)} • Mean: ${fmtNum(rc.mean)}` }) : null,
        rc && rc.warning ? h("p", { class: "tw-warn", role: "note", text: `⚠ ${rc.warning}` }) : null,
        columns.length ? h("p", { class: "tw-muted", text: `Available: ${columns.map((/** @type {any} */ c) => c.name).join(", ")}` }) : null) : null,
      band("Step 2: Quick Test Settings"),
      h("p", { text: "Override model defaults for quick iteration:" }),
      h("div", { class: "tw-three" },
        override("epochs_override", "Epochs", choices.epochs || [], String),
        override("batch_size_override", "Batch Size", choices.batch_size || [], String),
        override("learning_rate_override", "Learning Rate", choices.learning_rate || [], g)),
      runOn(),
      band("Validation & Estimate"),
      h("div", { class: "tw-box tw-checks", "aria-label": "Validation" },
        h("ul", { class: "tw-plain" }, checks.map((/** @type {any} */ c) => h("li", { class: c.ok ? "tw-ok" : "tw-bad", text: `${c.ok ? "✓" : "✗"} ${c.label}: ${c.text}` }))),
        est.duration ? h("p", { text: `Estimated Duration: ${est.duration}` }) : null,
        est.cost ? h("p", { text: `Estimated Cost:     ${est.cost}` }) : null,
        est.vertex ? vertexLine(est.vertex, choices.vertex_machine || []) : null),
    ]);
  }

  /**
   * The same test priced on a Vertex AI machine type (chosen here), next to the local one.
   * @param {{machine: string, duration: string, cost: string}} vertex @param {string[]} machines
   */
  function vertexLine(vertex, machines) {
    const id = uid("tw-vertex");
    return h("div", { class: "tw-vertex-estimate" },
      h("label", { for: id, class: "tw-field-label", text: "On Vertex AI: " }),
      h("select", {
        id, class: "tw-select", "data-key": "vertex_machine",
        onchange: (/** @type {Event} */ e) => set("vertex_machine", /** @type {HTMLSelectElement} */ (e.target).value),
      }, machines.map((m) => h("option", { value: m, text: m, selected: m === (model.get("vertex_machine") || vertex.machine) }))),
      h("span", { class: "tw-muted", text: ` ${vertex.duration} • ${vertex.cost} (startup included)` }));
  }

  /** "Run on: This machine | Vertex AI", with where on Vertex AI (no secrets: ADC signs in). */
  function runOn() {
    const where = model.get("run_on") || "local";
    const vs = model.get("vertex_settings") || {};
    const group = uid("tw-runon");
    /** @param {string} value @param {string} text */
    const radio = (value, text) => h("label", { class: "tw-radio" },
      h("input", { type: "radio", name: group, checked: where === value, "data-key": `run_on:${value}`, onchange: () => set("run_on", value) }), ` ${text}`);
    /** @param {string} key @param {string} label @param {string} placeholder */
    const field = (key, label, placeholder) => {
      const id = uid("tw-vx");
      return h("div", { class: "tw-field" },
        h("label", { for: id, class: "tw-field-label", text: label }),
        h("input", {
          id, type: "text", class: "tw-input", value: vs[key] || "", placeholder, "data-key": `vertex:${key}`,
          onchange: (/** @type {Event} */ e) => set("vertex_settings", { ...(model.get("vertex_settings") || {}), [key]: /** @type {HTMLInputElement} */ (e.target).value.trim() }),
        }));
    };
    return h("div", { class: "tw-run-on" },
      h("div", { class: "tw-radios", role: "radiogroup", "aria-label": "Run on" }, h("span", { text: "Run on:" }), radio("local", "This machine"), radio("vertex", "Vertex AI")),
      where === "vertex" ? h("div", { class: "tw-three" },
        field("project", "Project", "my-project"), field("region", "Region", "us-central1"), field("bucket", "Bucket", "gs://my-bucket/towerwidgets")) : null);
  }

  /** @param {any} r */
  const consoleLink = (r) => (r.console_url
    ? h("a", { href: r.console_url, target: "_blank", rel: "noopener noreferrer", "data-key": `console:${r.id}`, text: "Open in the Vertex AI console ↗" })
    : null);

  function drawRun() {
    const running = !!model.get("running");
    const progress = Number(model.get("progress") || 0);
    const stage = model.get("stage");
    const message = model.get("message");
    const status = model.get("status");
    const result = model.get("result") || {};
    rebuild(runBox, () => [
      h("div", { class: "tw-actions tw-right" },
        running ? h("button", { type: "button", class: "tw-btn tw-btn-danger", "data-key": "cancel-run", text: "Cancel", onclick: () => command(model, "cancel") }) : null,
        h("button", {
          type: "button", class: "tw-btn tw-btn-primary", "data-key": "start", text: "▶ Start Quick Test",
          disabled: !model.get("can_start") || running, "aria-disabled": !model.get("can_start") || running ? "true" : "false",
          // The selections travel with the command: a state update made just before it
          // may still be held back by ipywidgets while the kernel is busy.
          onclick: () => command(model, "start", { selection: Object.fromEntries(SELECTION.map((k) => [k, model.get(k)])) }),
        })),
      // Python clears status/stage/progress when another test's results are opened.
      running || status ? h("div", { class: "tw-progress-wrap" },
        h("div", { class: "tw-progress-label", text: `${status ? `${capital(status)}` : ""}${stage ? ` • Stage: ${stage}` : ""} • ${progress}%` }),
        h("div", { class: "tw-progress", role: "progressbar", "aria-valuemin": "0", "aria-valuemax": "100", "aria-valuenow": String(progress), "aria-label": "Quick test progress" },
          h("div", { class: "tw-progress-bar", style: { width: `${Math.max(0, Math.min(100, progress))}%` } }))) : null,
      message ? h("p", { class: "tw-status", role: "status", text: message }) : null,
      result.id ? h("div", { class: "tw-box tw-result", "aria-label": "Result" },
        h("div", { class: "tw-card-head" }, h("strong", { text: result.title }), h("span", { text: `${result.status_label}  ${result.ago}` })),
        result.settings ? h("p", { class: "tw-muted tw-run-settings", text: result.settings }) : null,
        h("p", { text: resultLine(result) }),
        consoleLink(result),
        result.error ? h("p", { class: "tw-bad", text: `Error${result.error_stage ? ` in ${result.error_stage}` : ""}: ${result.error}` }) : null,
        (result.baseline_notes || []).map((/** @type {string} */ w) => h("p", { class: "tw-warn tw-baseline-note", text: `⚠ ${w}` })),
        (result.warnings || []).map((/** @type {string} */ w) => h("p", { class: "tw-warn", text: `⚠ ${w}` }))) : null,
    ]);
  }

  function drawRecent() {
    const recent = model.get("recent") || [];
    rebuild(recentBox, () => [
      band("Recent Quick Tests"),
      recent.length ? h("ul", { class: "tw-plain tw-recent" }, recent.map((/** @type {any} */ r) => h("li", { class: "tw-box tw-recent-item" },
        h("div", { class: "tw-card-head" }, h("strong", { text: r.title }), h("span", { class: `tw-status-${r.status}`, text: `${r.status_label}  ${r.ago}` })),
        r.settings ? h("p", { class: "tw-muted tw-run-settings", text: r.settings }) : null,
        h("p", { text: resultLine(r) }),
        h("div", { class: "tw-actions tw-right" }, comparePick(r), consoleLink(r), r.status === "completed" ? h("button", {
          type: "button", class: "tw-btn tw-btn-small", "data-key": `preview:${r.id}`, "aria-label": `Preview recommendations of ${r.title}`, text: "Preview",
          onclick: () => command(model, "preview", { test_id: r.id }),
        }) : null, h("button", {
          type: "button", class: "tw-btn tw-btn-small", "data-key": `results:${r.id}`, "aria-label": `View results of ${r.title}`, text: "View Results",
          onclick: () => command(model, "view_results", { test_id: r.id }),
        }))))) : h("p", { class: "tw-muted", text: "No quick tests yet." }),
    ]);
  }

  /** A checkbox per run: ticked runs (two or more) are compared below. @param {any} r */
  function comparePick(r) {
    const ticked = (model.get("compare_ids") || []).includes(r.id);
    return h("label", { class: "tw-compare-pick" },
      h("input", {
        type: "checkbox", checked: ticked, "data-key": `compare:${r.id}`, "aria-label": `Compare ${r.title} (#${r.id})`,
        onchange: (/** @type {Event} */ e) => {
          const on = /** @type {HTMLInputElement} */ (e.target).checked;
          const ids = /** @type {number[]} */ (model.get("compare_ids") || []).filter((id) => id !== r.id);
          set("compare_ids", on ? [...ids, r.id] : ids);
        },
      }), " Compare");
  }

  /** Python may drop ticks (a run deleted elsewhere): follow without rebuilding the rows. */
  function syncTicks() {
    const ids = model.get("compare_ids") || [];
    for (const box of /** @type {NodeListOf<HTMLInputElement>} */ (recentBox.querySelectorAll('input[data-key^="compare:"]'))) {
      const want = ids.includes(Number(box.dataset.key?.slice("compare:".length)));
      if (box.checked !== want) box.checked = want;
    }
  }

  async function mountCompare() {
    compareToken += 1;
    const mine = compareToken;
    if (compareCleanup) { compareCleanup(); compareCleanup = null; }
    compareSlot.replaceChildren();
    const child = await childModel(model, host, model.get("comparison"));
    if (!child || mine !== compareToken) return;
    compareCleanup = renderCompare({ model: child, el: compareSlot });
  }

  async function mountMetrics() {
    token += 1;
    const mine = token;
    if (metricsCleanup) { metricsCleanup(); metricsCleanup = null; }
    metricsSlot.replaceChildren();
    const child = await childModel(model, host, model.get("metrics"));
    if (!child || mine !== token) return;
    metricsCleanup = renderMetricsTable({ model: child, el: metricsSlot });
  }

  /** @type {(() => void)|null} */
  let previewCleanup = null;
  let previewToken = 0;
  async function mountPreview() {
    previewToken += 1;
    const mine = previewToken;
    if (previewCleanup) { previewCleanup(); previewCleanup = null; }
    previewSlot.replaceChildren();
    const ref = model.get("preview");
    const child = ref ? await childModel(model, host, ref) : null;
    if (!child || mine !== previewToken) return;
    previewCleanup = renderPreview({ model: child, el: previewSlot });
  }

  const offs = [
    listen(model, ["preview"], () => { mountPreview(); }),
    listen(model, ["feature_configs", "model_configs", "feature_config_id", "model_config_id", "feature_summary", "model_summary",
      "needs_rating", "rating_columns", "rating_column", "epochs_override", "batch_size_override", "learning_rate_override",
      "choices", "defaults", "checks", "estimate", "vertex_machine", "run_on", "vertex_settings"], drawTop),
    listen(model, ["can_start", "running", "stage", "progress", "status", "message", "result"], drawRun),
    listen(model, ["recent"], drawRecent),
    listen(model, ["metrics"], () => { mountMetrics(); }),
    listen(model, ["compare_ids"], syncTicks),
    listen(model, ["comparison"], () => { mountCompare(); }),
  ];
  drawTop(); drawRun(); drawRecent(); mountMetrics(); mountCompare(); mountPreview();
  return () => {
    for (const off of offs) off();
    token += 1;
    compareToken += 1;
    previewToken += 1;
    if (previewCleanup) previewCleanup();
    if (metricsCleanup) metricsCleanup();
    if (compareCleanup) compareCleanup();
    root.remove();
  };
}

/** @param {any} r */
function resultLine(r) {
  const parts = [];
  if (r.model_type !== "ranking") parts.push(`Recall@100: ${r.recall_at_100}`);
  if (r.loss !== null && r.loss !== undefined) parts.push(`Loss: ${r.loss}`);
  if (r.rmse !== null && r.rmse !== undefined) parts.push(`RMSE: ${r.rmse}`);
  parts.push(`Duration: ${r.duration}`);
  if (r.params_text) parts.push(`Parameters: ${r.params_text}`);
  return parts.join(" • ");
}

/** @param {string} s */
const capital = (s) => s.charAt(0).toUpperCase() + s.slice(1);
/** 100836 -> "100,836". @param {number} n */
const thousands = (n) => Number(n).toLocaleString("en-US");
/** @param {number|null} x */
const fmtNum = (x) => (x === null || x === undefined ? "—" : g(x));
