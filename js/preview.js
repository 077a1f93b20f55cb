// RecommendationPreview: search a buyer by id (a combobox), or type the buyer's raw
// features; the kernel answers with the model's top-k products beside the buyer's history.
// Python computes everything (the model runs in a serving worker); this view only shows it.
import "./preview.css";
import { command, h, listen } from "./dom.js";

/**
 * @typedef {{columns: string[], rows: Record<string, any>[], total: number}} Table
 * @typedef {Object} PreviewModel synced traits of towerwidgets.widgets.preview.RecommendationPreview
 * @property {number} quick_test_id
 * @property {string} heading
 * @property {string} model_type
 * @property {number} n_buyers
 * @property {string} query
 * @property {string[]} matches
 * @property {string} buyer
 * @property {number} k
 * @property {boolean} exclude_history
 * @property {{column: string, kind: string, value: any}[]} fields
 * @property {Table|{}} results
 * @property {Table|{}} history_table
 * @property {Table|{}} ratings_table
 * @property {string} status
 * @property {string} error
 */
export const PREVIEW_TRAITS = ["quick_test_id", "heading", "model_type", "n_buyers", "query", "matches", "buyer", "k",
  "exclude_history", "fields", "results", "history_table", "ratings_table", "status", "error"];

const SEARCH_DEBOUNCE_MS = 150;

/** Cell text: scores and ratings with 4 significant decimals, booleans as ✓. @param {any} value */
export function cellText(value) {
  if (value === null || value === undefined) return "—";
  if (typeof value === "boolean") return value ? "✓" : "";
  if (typeof value === "number") return Number.isInteger(value) ? String(value) : value.toFixed(4);
  return String(value);
}

/**
 * A table of rows (every cell as text). @param {Table} table @param {string} label
 * @returns {HTMLElement}
 */
export function dataTable(table, label) {
  const columns = table.columns || [];
  const rows = table.rows || [];
  // Numbers (not ids, which are text) align right, like a spreadsheet.
  const numeric = new Set(columns.filter((c) => rows.some((r) => typeof r[c] === "number")));
  return h("div", { class: "tw-table-scroll tw-preview-scroll", tabindex: "0", role: "region", "aria-label": `${label} (scrolls)` },
    h("table", { class: "tw-table tw-preview-table", "aria-label": label },
      h("thead", null, h("tr", null, columns.map((c) => h("th", { scope: "col", class: numeric.has(c) ? "tw-num" : null, text: c.replace(/_/g, " ") })))),
      h("tbody", null, rows.map((row) => h("tr", null, columns.map((c) => h("td", {
        class: numeric.has(c) ? "tw-num" : (typeof row[c] === "string" && row[c].length > 24 ? "tw-text" : null),
        text: cellText(row[c]),
      })))))));
}

/** @param {{model: import("./dom.js").AnyModel, el: HTMLElement}} props */
export function renderPreview({ model, el }) {
  const root = h("div", { class: "tw-preview" });
  el.appendChild(root);
  const listId = `tw-preview-list-${Math.random().toString(36).slice(2, 9)}`;
  /** @type {ReturnType<typeof setTimeout>|null} */
  let timer = null;
  let active = -1; // the highlighted option of the buyer list

  const title = h("h3", { class: "tw-preview-title" });
  const subtitle = h("p", { class: "tw-muted tw-preview-sub" });
  const search = /** @type {HTMLInputElement} */ (h("input", {
    type: "search", class: "tw-input tw-preview-search", role: "combobox", autocomplete: "off",
    "aria-autocomplete": "list", "aria-controls": listId, "aria-expanded": "false",
    "aria-label": "Buyer id", placeholder: "Buyer id (type to search)", "data-key": "search",
  }));
  search.value = model.get("query") || "";
  const list = h("ul", { class: "tw-preview-list", id: listId, role: "listbox", "aria-label": "Matching buyers" });
  const go = h("button", { type: "button", class: "tw-btn tw-btn-primary", text: "Recommend" });
  const hide = /** @type {HTMLInputElement} */ (h("input", { type: "checkbox", "data-key": "exclude_history" }));
  const hideLabel = h("label", { class: "tw-preview-hide" }, hide, " Hide products already in the history");
  const form = h("form", { class: "tw-preview-form", "aria-label": "Buyer features" });
  const details = h("details", { class: "tw-preview-typed" },
    h("summary", { text: "…or type the buyer's features" }), form);
  const status = h("p", { class: "tw-muted tw-preview-status", role: "status", "aria-live": "polite" });
  const error = h("p", { class: "tw-errors tw-preview-error", role: "alert" });
  const results = h("section", { class: "tw-preview-results", "aria-label": "Recommendations" });
  const history = h("section", { class: "tw-preview-history", "aria-label": "Buyer history" });
  const ratings = h("section", { class: "tw-preview-ratings", "aria-label": "Predicted vs actual ratings" });
  root.append(title, subtitle,
    h("div", { class: "tw-preview-pick" },
      h("div", { class: "tw-preview-combo" }, search, list), go, hideLabel),
    details, status, error,
    h("div", { class: "tw-preview-body" }, results, history), ratings);

  /** Show buyer `id` (ask Python). @param {string} id */
  function show(id) {
    const buyer = id.trim();
    if (!buyer) return;
    closeList();
    search.value = buyer;
    command(model, "show", { buyer });
  }

  function options() { return /** @type {HTMLElement[]} */ ([...list.querySelectorAll("[role=option]")]); }
  function closeList() {
    list.replaceChildren();
    list.hidden = true;
    active = -1;
    search.setAttribute("aria-expanded", "false");
    search.removeAttribute("aria-activedescendant");
  }
  /** @param {number} index */
  function highlight(index) {
    const opts = options();
    if (!opts.length) return;
    active = (index + opts.length) % opts.length;
    opts.forEach((o, i) => o.setAttribute("aria-selected", i === active ? "true" : "false"));
    search.setAttribute("aria-activedescendant", opts[active].id);
    opts[active].scrollIntoView?.({ block: "nearest" });
  }
  function drawList() {
    const matches = /** @type {string[]} */ (model.get("matches") || []);
    if (document.activeElement !== search || !matches.length) { closeList(); return; }
    list.replaceChildren(...matches.map((id, i) => h("li", {
      id: `${listId}-${i}`, role: "option", class: "tw-preview-option", "aria-selected": "false", text: id,
      onmousedown: (/** @type {Event} */ e) => e.preventDefault(), // keep focus in the box
      onclick: () => show(id),
    })));
    list.hidden = false;
    active = -1;
    search.setAttribute("aria-expanded", "true");
    search.removeAttribute("aria-activedescendant");
  }

  const onInput = () => {
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => { timer = null; model.set("query", search.value.trim()); model.save_changes(); }, SEARCH_DEBOUNCE_MS);
  };
  /** @param {KeyboardEvent} e */
  const onKey = (e) => {
    if (e.key === "ArrowDown") { e.preventDefault(); if (list.hidden) drawList(); highlight(active + 1); }
    else if (e.key === "ArrowUp") { e.preventDefault(); highlight(active - 1); }
    else if (e.key === "Escape") { closeList(); }
    else if (e.key === "Enter") {
      e.preventDefault();
      const opts = options();
      show(active >= 0 && opts[active] ? String(opts[active].textContent) : search.value);
    }
  };
  const onFocus = () => drawList();
  const onBlur = () => closeList();
  search.addEventListener("input", onInput);
  search.addEventListener("keydown", onKey);
  search.addEventListener("focus", onFocus);
  search.addEventListener("blur", onBlur);
  const onGo = () => show(search.value);
  go.addEventListener("click", onGo);
  /** @param {Event} e */
  const onSubmit = (e) => {
    e.preventDefault();
    /** @type {Record<string, string>} */
    const values = {};
    for (const input of /** @type {HTMLInputElement[]} */ ([...form.querySelectorAll("input[name]")])) values[input.name] = input.value;
    command(model, "recommend_features", { values });
  };
  form.addEventListener("submit", onSubmit);
  const onHide = () => { model.set("exclude_history", hide.checked); model.save_changes(); };
  hide.addEventListener("change", onHide);

  function drawFields() {
    const fields = /** @type {{column: string, kind: string, value: any}[]} */ (model.get("fields") || []);
    form.replaceChildren(
      ...fields.map((f, i) => {
        const id = `${listId}-f${i}`;
        return h("div", { class: "tw-field" },
          h("label", { for: id, class: "tw-field-label", text: `${f.column} (${f.kind === "string" ? "text" : "number"})` }),
          h("input", { id, name: f.column, class: "tw-input", type: f.kind === "string" ? "text" : "number",
            step: f.kind === "float" ? "any" : null, value: f.value === null || f.value === undefined ? "" : String(f.value) }));
      }),
      h("button", { type: "submit", class: "tw-btn", text: "Recommend for these features" }));
  }

  function drawTables() {
    const top = /** @type {Table} */ (model.get("results") || {});
    const buyer = model.get("buyer") || "";
    const k = model.get("k") || 10;
    const who = buyer ? `buyer ${buyer}` : "the typed features";
    results.replaceChildren(...(top.columns ? [
      h("h4", { text: `Top ${Math.min(k, top.rows.length)} for ${who}` }),
      dataTable(top, `Top products for ${who}`)] : [
      h("p", { class: "tw-muted", text: "Pick a buyer to see what the model recommends." })]));
    const hist = /** @type {Table} */ (model.get("history_table") || {});
    history.replaceChildren(...(hist.columns ? [
      h("h4", { text: `History of buyer ${buyer} (training split, ${hist.total} rows${hist.total > hist.rows.length ? `, first ${hist.rows.length} shown` : ""})` }),
      hist.rows.length ? dataTable(hist, `Training history of buyer ${buyer}`) : h("p", { class: "tw-muted", text: "No training rows." })] : []));
    const rated = /** @type {Table} */ (model.get("ratings_table") || {});
    ratings.replaceChildren(...(rated.columns ? [
      h("h4", { text: `Predicted vs actual rating, buyer ${buyer}'s eval rows (${rated.total})` }),
      rated.rows.length ? dataTable(rated, `Predicted vs actual ratings of buyer ${buyer}`) : h("p", { class: "tw-muted", text: "This buyer has no eval rows." })] : []));
  }

  function drawHead() {
    title.textContent = `Recommendation preview — ${model.get("heading") || ""}`;
    subtitle.textContent = `${model.get("model_type")} model · ${model.get("n_buyers")} buyers in the training split`;
  }
  function drawOptions() { hide.checked = !!model.get("exclude_history"); }
  function drawStatus() {
    const text = model.get("status") || "";
    status.textContent = text;
    status.hidden = !text;
    go.toggleAttribute("aria-busy", !!text);
    const message = model.get("error") || "";
    error.textContent = message;
    error.hidden = !message;
  }

  const offs = [
    listen(model, ["heading", "model_type", "n_buyers"], drawHead),
    listen(model, ["matches"], drawList),
    listen(model, ["fields"], drawFields),
    listen(model, ["results", "history_table", "ratings_table", "buyer", "k"], drawTables),
    listen(model, ["status", "error"], drawStatus),
    listen(model, ["exclude_history"], drawOptions),
  ];
  drawHead(); drawFields(); drawTables(); drawStatus(); drawOptions(); closeList();
  return () => {
    if (timer) clearTimeout(timer);
    for (const off of offs) off();
    search.removeEventListener("input", onInput);
    search.removeEventListener("keydown", onKey);
    search.removeEventListener("focus", onFocus);
    search.removeEventListener("blur", onBlur);
    go.removeEventListener("click", onGo);
    form.removeEventListener("submit", onSubmit);
    hide.removeEventListener("change", onHide);
    root.remove();
  };
}
