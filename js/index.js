// The one bundle every towerwidgets widget loads; `render` dispatches on the synced `_view`.
import "./styles.css";
import { renderMetricsTable } from "./metrics_table.js";
import { renderModelingPage } from "./page.js";
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
};

/**
 * anywidget entry point.
 * @param {{model: import("./dom.js").AnyModel, el: HTMLElement, host?: any}} props
 * @returns {() => void} cleanup
 */
export function render({ model, el, host }) {
  el.classList.add("tw-root");
  const view = VIEWS[model.get("_view")];
  if (!view) {
    const p = document.createElement("p");
    p.textContent = `towerwidgets: unknown view ${JSON.stringify(model.get("_view"))}`;
    el.appendChild(p);
    return () => { p.remove(); el.classList.remove("tw-root"); };
  }
  const cleanup = view({ model, el, host });
  return () => { cleanup(); el.classList.remove("tw-root"); };
}

export default { render };
