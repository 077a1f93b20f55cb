// The one bundle every towerwidgets widget loads; `render` dispatches on the synced `_view`.
import "./styles.css";
import { renderCompare } from "./compare.js";
import { renderFeatureEditor } from "./features.js";
import { renderMetricsTable } from "./metrics_table.js";
import { renderModelingPage } from "./page.js";
import { renderPreview } from "./preview.js";
import { renderQuickTest } from "./quick_test.js";
import { renderModelStructure } from "./structure.js";
import { renderTowerBuilder } from "./tower_builder.js";
import { renderWizard } from "./wizard.js";

/** @type {Record<string, (props: {model: any, el: HTMLElement, host?: any}) => () => void>} */
export const VIEWS = {
  wizard: renderWizard,
  tower_builder: renderTowerBuilder,
  model_structure: renderModelStructure,
  quick_test: renderQuickTest,
  metrics_table: renderMetricsTable,
  modeling_page: renderModelingPage,
  compare: renderCompare,
  feature_editor: renderFeatureEditor,
  recommendation_preview: renderPreview,
};

/**
 * anywidget entry point.
 * @param {{model: import("./dom.js").AnyModel, el: HTMLElement, host?: any}} props
 * @returns {() => void} cleanup
 */
export function renderWidget({ model, el, host }) {
  el.classList.add("tw-root");
  // Keys pressed inside the widget belong to it: without this, JupyterLab's command-mode
  // shortcuts (Enter, arrows…) would take Enter on a card or the arrows of a slider.
  el.setAttribute("data-lm-suppress-shortcuts", "true");
  el.addEventListener("keydown", keepKeys);
  const view = VIEWS[model.get("_view")];
  if (!view) {
    const p = document.createElement("p");
    p.textContent = `towerwidgets: unknown view ${JSON.stringify(model.get("_view"))}`;
    el.appendChild(p);
    return () => { p.remove(); el.classList.remove("tw-root"); };
  }
  const cleanup = view({ model, el, host });
  return () => { cleanup(); el.classList.remove("tw-root"); el.removeAttribute("data-lm-suppress-shortcuts"); el.removeEventListener("keydown", keepKeys); };
}

const OWN_KEYS = new Set(["Enter", " ", "Escape", "Delete", "Home", "End", "PageUp", "PageDown", "ArrowUp", "ArrowDown", "ArrowLeft", "ArrowRight"]);

/**
 * Keys used inside the widget stop here, so notebook-level handlers cannot cancel their
 * default action (a slider's arrows, a select's arrows, Enter on a button). Keys with
 * Ctrl/Meta/Shift+Enter still reach JupyterLab (Shift+Enter runs the cell).
 * @param {KeyboardEvent} e
 */
export function keepKeys(e) {
  if (e.ctrlKey || e.metaKey || (e.shiftKey && e.key === "Enter")) return;
  const target = /** @type {HTMLElement} */ (e.target);
  const typing = !!target && typeof target.matches === "function" && target.matches("input, select, textarea");
  if (typing || OWN_KEYS.has(e.key)) e.stopPropagation();
}

// Only the default export carries `render`: anywidget warns about a directly exported one.
export default { render: renderWidget };
