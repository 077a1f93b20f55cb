// ModelingPage: the Features summary, the Model Structure chapter and the Quick Test chapter.
import { childModel, command, h, listen, rebuild, uid } from "./dom.js";
import { renderModelStructure } from "./structure.js";
import { renderQuickTest } from "./quick_test.js";
import { renderFeatureEditor } from "./features.js";

export const PAGE_TRAITS = ["title", "subtitle", "features", "compare", "feature_editor", "has_data", "features_message", "structure", "quick_test"];

/** @param {{model: import("./dom.js").AnyModel, el: HTMLElement, host?: any}} props */
export function renderModelingPage({ model, el, host }) {
  const head = h("header", { class: "tw-page-head" });
  const featuresId = uid("tw-features");
  const features = h("div", { class: "tw-features-body" });
  const compareBtn = h("button", {
    type: "button", class: "tw-btn tw-btn-small", "data-key": "compare", text: "Compare",
    onclick: () => command(model, "toggle_compare"),
  });
  const newBtn = h("button", {
    type: "button", class: "tw-btn tw-btn-primary tw-btn-small", "data-key": "new-features", text: "+ New Feature Config",
    onclick: () => command(model, "new_features"),
  });
  const featuresStatus = h("p", { class: "tw-features-status", role: "status" });
  const editorSlot = h("div", { class: "tw-slot tw-feature-editor-slot" });
  const featuresChapter = h("section", { class: "tw-chapter tw-features-chapter", "aria-labelledby": featuresId },
    h("div", { class: "tw-chapter-head" }, h("h2", { id: featuresId, class: "tw-chapter-title", text: "Chapter: Features" }),
      h("div", { class: "tw-features-actions" }, newBtn, compareBtn)),
    featuresStatus, editorSlot, features);
  const structureSlot = h("div", { class: "tw-slot" });
  const quickSlot = h("div", { class: "tw-slot" });
  const root = h("div", { class: "tw-page" }, head, featuresChapter, structureSlot, quickSlot);
  el.appendChild(root);
  /** @type {Record<string, (() => void)|null>} */
  const cleanups = { structure: null, quick_test: null, feature_editor: null };
  /** @type {Record<string, number>} */
  const tokens = { structure: 0, quick_test: 0, feature_editor: 0 };

  function drawHead() {
    rebuild(head, () => [
      h("h1", { class: "tw-page-title", text: model.get("title") }),
      model.get("subtitle") ? h("p", { class: "tw-muted", text: model.get("subtitle") }) : null,
    ]);
  }

  function drawFeatures() {
    const list = model.get("features") || [];
    const compare = !!model.get("compare");
    compareBtn.setAttribute("aria-pressed", compare ? "true" : "false");
    rebuild(features, () => {
      if (!list.length) return [h("p", { class: "tw-muted", text: model.get("has_data") ? "No Feature Configs in the store yet. + New Feature Config builds one from the page's data." : "No Feature Configs in the store yet. Create one with FeatureConfig.infer(df, …) and store.feature_configs.create(…), or give the page data=df." })];
      if (compare) {
        return [h("table", { class: "tw-table", "aria-label": "Feature configs compared" },
          h("thead", null, h("tr", null, h("th", { scope: "col", text: "" }), list.map((/** @type {any} */ f) => h("th", { scope: "col", text: f.name })))),
          h("tbody", null,
            row("Buyer tensor", list.map((/** @type {any} */ f) => `${f.buyer_tensor_dim}D`)),
            row("Product tensor", list.map((/** @type {any} */ f) => `${f.product_tensor_dim}D`)),
            row("Buyer features", list.map((/** @type {any} */ f) => f.buyer_features.join(", "))),
            row("Product features", list.map((/** @type {any} */ f) => f.product_features.join(", "))),
            row("Crosses", list.map((/** @type {any} */ f) => f.crosses.join(", ") || "—")),
            row("Valid", list.map((/** @type {any} */ f) => (f.valid ? "✓" : "✗")))))];
      }
      return [h("div", { class: "tw-feature-cards", role: "list" }, list.map((/** @type {any} */ f) => h("article", { class: "tw-config-card", role: "listitem", "aria-label": f.name },
        h("h3", { class: "tw-card-name", text: f.name }),
        h("p", { class: "tw-muted", text: `Buyer: ${f.buyer_tensor_dim}D • Product: ${f.product_tensor_dim}D • Crosses: ${f.crosses.length} • ${f.valid ? "✓ Valid" : "✗ Invalid"}` }),
        model.get("has_data") ? h("button", {
          type: "button", class: "tw-btn tw-btn-small", "data-key": `edit-features:${f.id}`, text: "Edit",
          "aria-label": `Edit ${f.name}`, onclick: () => command(model, "edit_features", { config_id: f.id }),
        }) : null)))];
    });
  }

  /** @param {string} label @param {string[]} cells */
  function row(label, cells) {
    return h("tr", null, h("th", { scope: "row", text: label }), cells.map((c) => h("td", { text: c })));
  }

  function drawStatus() {
    const message = model.get("features_message") || "";
    featuresStatus.textContent = message;
    featuresStatus.hidden = !message;
    newBtn.disabled = !model.get("has_data") || !!model.get("feature_editor");
    newBtn.title = model.get("has_data") ? "" : "Give the page data: tw.ModelingPage(store, data=df)";
  }

  /** @param {"structure"|"quick_test"|"feature_editor"} name @param {HTMLElement} slot @param {Function} render */
  async function mount(name, slot, render) {
    tokens[name] += 1;
    const mine = tokens[name];
    const old = cleanups[name];
    if (old) { old(); cleanups[name] = null; }
    slot.replaceChildren();
    const child = await childModel(model, host, model.get(name));
    if (!child || mine !== tokens[name]) return;
    cleanups[name] = render({ model: child, el: slot, host });
  }

  const offs = [
    listen(model, ["title", "subtitle"], drawHead),
    listen(model, ["features", "compare", "has_data"], drawFeatures),
    listen(model, ["features_message", "has_data", "feature_editor"], drawStatus),
    listen(model, ["feature_editor"], async () => {
      const wasInside = editorSlot.contains(document.activeElement);
      await mount("feature_editor", editorSlot, renderFeatureEditor);
      // Keyboard users land in the editor when it opens, and back on + New when it closes.
      const first = /** @type {HTMLElement|null} */ (editorSlot.querySelector("input, select, button"));
      if (first) first.focus();
      else if (wasInside || !document.activeElement || document.activeElement === document.body) newBtn.focus();
    }),
    listen(model, ["structure"], () => { mount("structure", structureSlot, renderModelStructure); }),
    listen(model, ["quick_test"], () => { mount("quick_test", quickSlot, renderQuickTest); }),
  ];
  drawHead(); drawFeatures(); drawStatus();
  mount("feature_editor", editorSlot, renderFeatureEditor);
  mount("structure", structureSlot, renderModelStructure);
  mount("quick_test", quickSlot, renderQuickTest);
  return () => {
    for (const off of offs) off();
    for (const name of Object.keys(cleanups)) { tokens[name] += 1; const c = cleanups[name]; if (c) c(); }
    root.remove();
  };
}
