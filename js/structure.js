// ModelStructure: the chapter with config cards, View / Edit / Clone / Delete and the wizard.
import { childModel, command, h, listen, rebuild, uid } from "./dom.js";
import { highlight } from "./highlight.js";
import { renderWizard } from "./wizard.js";

export const STRUCTURE_TRAITS = ["configs", "viewing", "feature_configs", "feature_config_id", "code", "code_error", "confirm_delete", "message", "wizard"];

/** "128→64→32" -> "128 → 64 → 32" (the card's spaced form). @param {string} s */
const spaced = (s) => String(s).split("→").join(" → ");

/** @param {{model: import("./dom.js").AnyModel, el: HTMLElement, host?: any}} props */
export function renderModelStructure({ model, el, host }) {
  const headId = uid("tw-ms-title");
  const header = h("div", { class: "tw-chapter-head" },
    h("h2", { id: headId, class: "tw-chapter-title", text: "Chapter: Model Structure" }),
    h("button", { type: "button", class: "tw-btn tw-btn-primary", "data-action": "new", "data-key": "new", text: "+ New Model", onclick: () => { opener = "new"; command(model, "new"); } }));
  const status = h("p", { class: "tw-status", role: "status", "aria-live": "polite" });
  const wizardSlot = h("div", { class: "tw-wizard-slot" });
  const confirmBox = h("div", { class: "tw-confirm-slot" });
  const viewBox = h("div", { class: "tw-view-slot" });
  const list = h("div", { class: "tw-config-list", role: "list", "aria-label": "Model configurations" });
  const root = h("section", { class: "tw-chapter tw-structure", "aria-labelledby": headId }, header, status, wizardSlot, confirmBox, viewBox, list);
  el.appendChild(root);

  /** @type {(() => void)|null} */
  let wizardCleanup = null;
  let wizardToken = 0;
  let lastFocus = "";
  // The control that opened the wizard or the View dialog: focus returns there on close.
  let opener = "";

  const act = (/** @type {string} */ kind, /** @type {number} */ id) => {
    lastFocus = `${kind}:${id}`;
    if (kind === "view" || kind === "edit") opener = lastFocus;
    return command(model, kind, { config_id: id });
  };

  /**
   * The wizard and the View panel are modal dialogs over the chapter: while one is open the
   * rest of the chapter is inert (no focus, no clicks, hidden from assistive tech) and
   * dimmed; on close, focus returns to the button that opened it.
   */
  function syncModal() {
    const open = wizardSlot.childElementCount > 0 ? wizardSlot : viewBox.childElementCount > 0 ? viewBox : null;
    const wasOpen = root.classList.contains("tw-modal-open");
    root.classList.toggle("tw-modal-open", !!open);
    for (const part of [header, status, wizardSlot, confirmBox, viewBox, list]) {
      const blocked = !!open && part !== open;
      part.toggleAttribute("inert", blocked);
      if (blocked) part.setAttribute("aria-hidden", "true"); else part.removeAttribute("aria-hidden");
    }
    if (wasOpen && !open && opener) {
      const back = /** @type {HTMLElement|null} */ (root.querySelector(`[data-key="${opener}"]`));
      if (back && !root.contains(document.activeElement)) back.focus(); // the dialog took focus with it
      opener = "";
    }
  }

  function drawList() {
    const configs = model.get("configs") || [];
    rebuild(list, () => (configs.length ? configs.map(card) : [
      h("div", { class: "tw-empty", role: "listitem" },
        h("p", { text: "No model configurations yet." }),
        h("p", { class: "tw-muted", text: "Click + New Model to create one: pick a model type, start from a preset such as Standard (128→64→32), and adjust the towers." })),
    ]));
  }

  /** @param {any} c */
  function card(c) {
    return h("article", { class: "tw-config-card", role: "listitem", "aria-label": c.name || "(unnamed)" },
      h("div", { class: "tw-card-head" },
        h("h3", { class: "tw-card-name", text: c.name }),
        h("div", { class: "tw-actions" },
          h("button", { type: "button", class: "tw-btn tw-btn-small", "data-key": `view:${c.id}`, "aria-label": `View ${c.name}`, text: "View", onclick: () => act("view", c.id) }),
          h("button", { type: "button", class: "tw-btn tw-btn-small", "data-key": `edit:${c.id}`, "aria-label": `Edit ${c.name}`, text: "Edit", onclick: () => act("edit", c.id) }))),
      h("div", { class: "tw-card-main" },
        h("div", { class: `tw-badge tw-badge-${c.model_type}` },
          h("div", { class: "tw-badge-title", text: String(c.type_label).toUpperCase() }),
          h("div", { text: c.type_subtitle })),
        h("dl", { class: "tw-facts" },
          h("dt", { text: "Type:" }), h("dd", { text: c.type_label }),
          h("dt", { text: "Buyer Tower:" }), h("dd", { class: "tw-mono", text: `${spaced(c.buyer_summary)}${c.buyer_extras ? `  ${c.buyer_extras}` : ""}` }),
          h("dt", { text: "Product Tower:" }), h("dd", { class: "tw-mono", text: `${spaced(c.product_summary)}${c.product_extras ? `  ${c.product_extras}` : ""}` }),
          c.model_type !== "retrieval" ? [h("dt", { text: "Rating Head:" }), h("dd", { class: "tw-mono", text: spaced(c.rating_head_summary) })] : null,
          h("dt", { text: "Output:" }), h("dd", { text: `${c.output_dim}D embedding` }))),
      h("p", { class: "tw-card-params", text: `Optimizer: ${c.optimizer} @ ${c.learning_rate}    Batch: ${c.batch_size}    Epochs: ${c.epochs}` }),
      h("div", { class: "tw-card-foot" },
        h("span", { class: "tw-muted", text: `Updated: ${c.updated}` }),
        h("div", { class: "tw-actions" },
          h("button", { type: "button", class: "tw-btn tw-btn-small", "data-key": `clone:${c.id}`, "aria-label": `Clone ${c.name}`, text: "Clone", onclick: () => act("clone", c.id) }),
          h("button", { type: "button", class: "tw-btn tw-btn-small tw-btn-danger", "data-key": `delete:${c.id}`, "aria-label": `Delete ${c.name}`, text: "Del", onclick: () => act("delete", c.id) }))));
  }

  function drawConfirm() {
    const pending = model.get("confirm_delete") || {};
    if (!pending.id) { rebuild(confirmBox, () => []); return; }
    const titleId = uid("tw-confirm");
    const tests = pending.quick_tests || [];
    const cancel = h("button", { type: "button", class: "tw-btn", "data-key": "confirm-cancel", text: "Cancel", onclick: () => command(model, "cancel_delete") });
    const box = h("div", { class: "tw-confirm", role: "alertdialog", "aria-modal": "false", "aria-labelledby": titleId },
      h("p", { id: titleId, class: "tw-confirm-title", text: `Delete "${pending.name}"?` }),
      tests.length
        ? [h("p", { text: `This also removes ${tests.length} quick test${tests.length === 1 ? "" : "s"}:` }),
          h("ul", null, tests.map((/** @type {string} */ t) => h("li", { text: t })))]
        : h("p", { class: "tw-muted", text: "No quick tests use it." }),
      h("div", { class: "tw-actions" }, cancel,
        h("button", { type: "button", class: "tw-btn tw-btn-danger", "data-key": "confirm-delete", text: "Delete", onclick: () => command(model, "confirm_delete") })));
    box.addEventListener("keydown", (e) => { if (/** @type {KeyboardEvent} */ (e).key === "Escape") { e.preventDefault(); command(model, "cancel_delete"); } });
    rebuild(confirmBox, () => [box], () => cancel.focus());
  }

  function drawView() {
    const v = model.get("viewing") || {};
    if (!v.id) { rebuild(viewBox, () => [], syncModal); return; }
    const titleId = uid("tw-view");
    const fcs = model.get("feature_configs") || [];
    const selId = uid("tw-fc-select");
    const code = model.get("code");
    const codeError = model.get("code_error");
    const tower = (/** @type {string} */ title, /** @type {any[]} */ layers, /** @type {number|null} */ dim) => h("div", { class: "tw-view-tower" },
      h("div", { class: "tw-card-title", text: title }),
      h("div", { class: "tw-input-block tw-muted", text: dim ? `INPUT ${dim}D` : "INPUT (dimension from Features)" }),
      h("ol", { class: "tw-layers tw-readonly" }, layers.map((l, i) => h("li", { class: `tw-layer tw-layer-${i === lastDense(layers) && title !== "Rating Head" ? "output" : l.type}` },
        h("div", { class: "tw-layer-text" }, h("div", { class: "tw-layer-title", text: l.label }), h("div", { class: "tw-layer-detail", text: l.detail }))))));
    // data-key: Python's answers (the code preview) rebuild the panel; focus stays in it.
    const panel = h("section", { class: "tw-view", role: "dialog", "aria-modal": "true", "aria-labelledby": titleId, tabindex: "-1", "data-key": "view-panel" },
      h("div", { class: "tw-card-head" },
        h("h3", { id: titleId, text: `View: ${v.name}` }),
        h("button", { type: "button", class: "tw-btn tw-btn-small", "data-key": "close-view", text: "Close", onclick: () => command(model, "close_view") })),
      v.description ? h("p", { class: "tw-muted", text: v.description }) : null,
      h("h4", { text: "Architecture (read-only)" }),
      h("div", { class: "tw-view-towers" },
        tower("Buyer Tower", v.buyer_layers || [], v.buyer_input_dim),
        tower("Product Tower", v.product_layers || [], v.product_input_dim),
        v.model_type !== "retrieval" ? tower("Rating Head", v.rating_head_layers || [], v.output_dim * 2) : null),
      h("p", { text: `Output: ${v.output_dim}D embedding${v.share_tower_weights ? " • Shared tower weights" : ""} • ${v.params_text} params` }),
      v.params_assumption ? h("p", { class: "tw-muted", text: `(${v.params_assumption})` }) : null,
      (v.summary_rows || []).length ? summaryTable(v) : null,
      h("h4", { text: "Training Parameters" }),
      h("p", { text: `Optimizer: ${v.optimizer} @ ${v.learning_rate} • Batch: ${v.batch_size} • Epochs: ${v.epochs}${v.model_type === "multitask" ? ` • Loss weights: retrieval ${v.retrieval_weight}, ranking ${v.ranking_weight}` : ""}` }),
      h("h4", { text: "Generated Trainer Code" }),
      h("div", { class: "tw-row" },
        h("label", { for: selId, text: "Feature Config: " }),
        h("select", {
          id: selId, class: "tw-select", "data-key": "fc-select",
          onchange: (/** @type {Event} */ e) => {
            const raw = /** @type {HTMLSelectElement} */ (e.target).value;
            model.set("feature_config_id", raw === "" ? null : Number(raw));
            model.save_changes();
          },
        },
        h("option", { value: "", text: "(select to preview code)", selected: model.get("feature_config_id") === null }),
        fcs.map((/** @type {any} */ fc) => h("option", { value: String(fc.id), text: fc.name, selected: fc.id === model.get("feature_config_id") })))),
      code ? h("div", { class: "tw-actions" },
        h("button", {
          type: "button", class: "tw-btn tw-btn-small", "data-key": "copy-code", text: "Copy code",
          onclick: () => copyCode(code),
        }),
        h("span", { class: "tw-muted", role: "status", "data-role": "copy-status" })) : null,
      codeError ? h("p", { class: "tw-errors", role: "alert", text: codeError }) : null,
      code ? highlight(code) : (!codeError ? h("p", { class: "tw-muted", text: fcs.length ? "Select a Feature Config to preview the generated trainer code." : "No Feature Configs in the store yet: create one to preview the generated code." }) : null));
    panel.addEventListener("keydown", (e) => { if (/** @type {KeyboardEvent} */ (e).key === "Escape") { e.preventDefault(); command(model, "close_view"); } });
    const hadFocus = viewBox.contains(document.activeElement);
    rebuild(viewBox, () => [panel], () => {
      syncModal();
      if (!hadFocus && lastFocus.startsWith("view:")) { panel.focus(); lastFocus = ""; }
    });
  }

  /** Copy the generated code; say whether it worked (the clipboard may be refused). @param {string} code */
  async function copyCode(code) {
    let text = "Copied";
    try { await navigator.clipboard.writeText(code); } catch { text = "Copy failed: select the code and press Ctrl+C"; }
    const line = /** @type {HTMLElement|null} */ (viewBox.querySelector('[data-role="copy-status"]'));
    if (line) line.textContent = text;
  }

  async function drawWizard() {
    const ref = model.get("wizard");
    wizardToken += 1;
    const token = wizardToken;
    if (wizardCleanup) { wizardCleanup(); wizardCleanup = null; }
    wizardSlot.replaceChildren();
    syncModal();
    if (!ref) return;
    const child = await childModel(model, host, ref);
    if (!child || token !== wizardToken) return;
    wizardCleanup = renderWizard({ model: child, el: wizardSlot });
    const dialog = wizardSlot.querySelector('[role="dialog"]');
    if (dialog) dialog.setAttribute("aria-modal", "true");
    syncModal();
    const first = /** @type {HTMLElement|null} */ (wizardSlot.querySelector("input, button"));
    if (first) first.focus();
  }

  const drawStatus = () => { status.textContent = model.get("message") || ""; };
  const offs = [
    listen(model, ["configs"], drawList),
    listen(model, ["confirm_delete"], drawConfirm),
    listen(model, ["viewing", "code", "code_error", "feature_configs", "feature_config_id"], drawView),
    listen(model, ["message"], drawStatus),
    listen(model, ["wizard"], () => { drawWizard(); }),
  ];
  drawList(); drawConfirm(); drawView(); drawStatus(); drawWizard();
  return () => {
    for (const off of offs) off();
    wizardToken += 1;
    if (wizardCleanup) wizardCleanup();
    root.remove();
  };
}

/**
 * The model.summary()-style table: layer, output shape, params, part by part.
 * @param {any} v the viewing dict
 */
function summaryTable(v) {
  /** @type {HTMLElement[]} */
  const body = [];
  let part = "";
  for (const r of v.summary_rows) {
    if (r.part !== part) {
      part = r.part;
      body.push(h("tr", { class: "tw-summary-part" }, h("th", { scope: "rowgroup", colSpan: 3, text: part })));
    }
    body.push(h("tr", null, h("td", { class: "tw-mono", text: r.layer }), h("td", { class: "tw-mono", text: r.shape }),
      h("td", { class: "tw-num", text: r.params === null || r.params === undefined ? "?" : Number(r.params).toLocaleString("en-US") })));
  }
  return h("details", { class: "tw-model-summary" },
    h("summary", { text: "Layers, output shapes and parameters (like Keras' model.summary())" }),
    h("div", { class: "tw-table-scroll", tabindex: "0", role: "region", "aria-label": "Model summary (scrolls)" },
      h("table", { class: "tw-table" },
        h("thead", null, h("tr", null, h("th", { scope: "col", text: "Layer" }), h("th", { scope: "col", text: "Output shape" }), h("th", { scope: "col", text: "Param #" }))),
        h("tbody", null, body),
        h("tfoot", null, h("tr", null, h("th", { scope: "row", colSpan: 2, text: "Total params" }), h("td", { class: "tw-num", text: v.params_text }))))));
}

/** @param {any[]} layers */
function lastDense(layers) {
  for (let i = layers.length - 1; i >= 0; i -= 1) if (layers[i].type === "dense") return i;
  return -1;
}

