// The visual tower builder (wizard step 2, and the TowerBuilder widget on its own).
import { band, chips, command, h, info, listen, rebuild } from "./dom.js";
import { openLayerModal } from "./layer_modal.js";
import { lastDenseIndex, layerDetail, layerLabel } from "./model.js";

/**
 * @typedef {Object} BuilderModel  synced traits shared by TowerBuilder and ModelWizard
 * @property {Record<string, any>} config_data  the draft ModelConfig as JSON
 * @property {string[]} errors
 * @property {string[]} warnings
 * @property {Record<string, any>} estimates
 * @property {Array<Record<string, any>>} presets
 * @property {string} preset
 * @property {{buyer?: number|null, product?: number|null, feature_config?: string|null}} input_dims
 * @property {string} notice
 */
export const BUILDER_TRAITS = ["config_data", "errors", "warnings", "estimates", "presets", "preset", "input_dims", "notice"];

export const OUTPUT_DIMS = [8, 16, 32, 64, 128];
export const LAYER_MENU = [
  { type: "dense", title: "Dense Layer", text: "Fully connected layer with configurable units" },
  { type: "dropout", title: "Dropout", text: "Randomly drop units during training (regularization)" },
  { type: "batch_norm", title: "Batch Normalization", text: "Normalize layer activations for faster training" },
];
const TOWER_NAMES = /** @type {Record<string, string>} */ ({ buyer: "Buyer", product: "Product", rating_head: "Rating head" });
const FIELDS = /** @type {Record<string, string>} */ ({ buyer: "buyer_tower_layers", product: "product_tower_layers", rating_head: "rating_head_layers" });

/** Which wizard step shows a validation message (Python: widgets.wizard.error_step). @param {string} message */
export function errorStep(message) {
  if (message.toLowerCase().includes("name")) return 1;
  if (["Learning rate", "Batch size", "Epochs", "loss weight"].some((w) => message.includes(w))) return 3;
  return 2;
}

/**
 * Render the builder into `el`; returns the cleanup.
 * @param {{model: import("./dom.js").AnyModel, el: HTMLElement, showErrors?: boolean}} props
 */
export function renderTowerBuilder({ model, el, showErrors = true }) {
  const root = h("div", { class: "tw-builder" });
  const modalHost = h("div", { class: "tw-modal-host" });
  el.append(root, modalHost);
  /** @type {{tower: string, at: number}|null} */
  let openMenu = null;
  /** @type {string|null} */
  let focusAfter = null;
  // A focus target that exists only once Python's answer arrives (a newly added, moved or
  // removed block): until then focus stays where it is, so a quick key press never lands on
  // a stale block, even when other traits re-render the builder first. Python's next
  // config_data is its answer; if the target is not there as expected, focus stays put.
  /** @type {{key: string, base: any, ready: (cfg: any) => boolean, since: number}|null} */
  let focusWhen = null;
  /** @param {string} key @param {(cfg: any) => boolean} ready */
  const focusOnAnswer = (key, ready) => { focusWhen = { key, base: model.get("config_data"), ready, since: Date.now() }; };
  // While Python has not answered an edit (at most 2 s), the blocks on screen are stale: a
  // key press on one would act on the layer that used to be at its index.
  const awaitingAnswer = () => !!focusWhen && Date.now() - focusWhen.since < 2000;
  /** A moved block: a layer of its type at `dst` (Python may adjust its units). @param {string} tower @param {number} dst @param {any} layer */
  const movedTo = (tower, dst, layer) => focusOnAnswer(`layer:${tower}:${dst}`,
    (cfg) => ((cfg[FIELDS[tower]] || [])[dst] || {}).type === layer.type);
  /** @type {(() => void)|null} */
  let closeModal = null;
  /** @type {{tower: string, index: number}|null} */
  let dragging = null;

  const send = (/** @type {string} */ kind, /** @type {Record<string, any>} */ payload = {}) => command(model, kind, payload);

  let shownNotice = "";
  const draw = () => rebuild(root, build, afterDraw);
  // Focus and scrolling once the blocks are in place (a rebuild may wait for a click).
  const afterDraw = () => {
    const notice = model.get("notice") || "";
    if (notice && notice !== shownNotice) {
      const line = /** @type {HTMLElement|null} */ (root.querySelector(".tw-notice"));
      if (line && typeof line.scrollIntoView === "function") line.scrollIntoView({ block: "nearest" });
    }
    shownNotice = notice;
    const current = model.get("config_data");
    if (focusWhen && current !== focusWhen.base) {
      if (focusWhen.ready(current || {})) focusAfter = focusWhen.key;
      focusWhen = null;
    }
    if (focusAfter) {
      const target = /** @type {HTMLElement|null} */ (root.querySelector(`[data-key="${focusAfter}"]`));
      if (target) { target.focus(); focusAfter = null; }
    }
  };

  function build() {
    const cfg = model.get("config_data") || {};
    const ranking = cfg.model_type === "ranking" || cfg.model_type === "multitask";
    const errors = (model.get("errors") || []).filter((/** @type {string} */ m) => errorStep(m) === 2);
    const warnings = model.get("warnings") || [];
    const notice = model.get("notice");
    return [
      presetsSection(),
      // Python's answer to a refused edit shows above the towers, where the edit was made.
      notice ? h("p", { class: "tw-notice", role: "status", "data-key": "notice", tabindex: "-1", text: notice }) : null,
      band("Tower Configuration"),
      h("div", { class: "tw-towers" }, towerColumn("buyer", cfg), towerColumn("product", cfg)),
      outputSection(cfg),
      ranking ? ratingHeadSection(cfg) : null,
      showErrors && errors.length ? h("ul", { class: "tw-errors", role: "alert", "aria-label": "Problems" },
        errors.map((/** @type {string} */ m) => h("li", { text: `✗ ${m}` }))) : null,
      warnings.length ? h("ul", { class: "tw-warnings", "aria-label": "Warnings" },
        warnings.map((/** @type {string} */ m) => h("li", { text: `⚠ ${m}` }))) : null,
    ];
  }

  function presetsSection() {
    const current = model.get("preset");
    const cards = (model.get("presets") || []).map((/** @type {any} */ p) => {
      const selected = p.key === current;
      const lines = p.symmetric
        ? [h("div", { class: "tw-mono", text: p.buyer_summary }), h("div", { class: "tw-mono", text: p.product_summary })]
        : [h("div", { class: "tw-mono", text: `Buyer: ${p.buyer_summary}` }), h("div", { class: "tw-mono", text: `Product: ${p.product_summary}` })];
      return h("button", {
        type: "button", role: "radio", "aria-checked": selected ? "true" : "false",
        class: `tw-card tw-preset${selected ? " tw-selected" : ""}`, "data-key": `preset:${p.key}`,
        title: p.description, onclick: () => send("apply_preset", { name: p.key }),
      },
      h("div", { class: "tw-card-title", text: `${selected ? "●" : "○"} ${p.name}` }),
      ...lines,
      ...(p.extras || []).map((/** @type {string} */ x) => h("div", { class: "tw-muted", text: x })),
      h("div", { class: "tw-preset-time", text: p.estimated_time }));
    });
    const custom = h("button", {
      type: "button", role: "radio", "aria-checked": current === "custom" ? "true" : "false",
      class: `tw-btn tw-btn-small${current === "custom" ? " tw-selected" : ""}`, "data-key": "preset:custom",
      text: "Custom", onclick: () => send("custom"),
    });
    return h("section", { class: "tw-section", "aria-label": "Architecture presets" },
      band("Architecture Presets", custom),
      h("div", { class: "tw-preset-grid", role: "radiogroup", "aria-label": "Architecture presets" }, cards),
      info("Select a preset to start, then customize below"));
  }

  /** @param {string} tower @param {any} cfg */
  function towerColumn(tower, cfg) {
    const layers = cfg[FIELDS[tower]] || [];
    const dims = model.get("input_dims") || {};
    const dim = dims[tower];
    const out = lastDenseIndex(layers);
    const name = TOWER_NAMES[tower];
    const est = (model.get("estimates") || {})[tower] || {};
    return h("section", { class: `tw-tower tw-tower-${tower}`, "aria-label": `${name} tower` },
      h("div", { class: "tw-tower-head" },
        h("h4", { class: "tw-tower-title", text: `${name.toUpperCase()} TOWER` }),
        tower === "product" ? h("button", {
          type: "button", class: "tw-btn tw-btn-small", "data-key": "copy-from-buyer", text: "Copy from Buyer",
          onclick: () => send("copy_from_buyer"),
        }) : null),
      h("div", { class: "tw-input-block" },
        h("div", { class: "tw-layer-title", text: "▼ INPUT" }),
        h("div", { text: `${name} features tensor` }),
        h("div", { class: "tw-muted", text: dim ? `${dim}D${dims.feature_config ? ` from "${dims.feature_config}"` : ""}` : "(dimension from Features; 64D assumed)" })),
      layerList(tower, layers, { outputIndex: out, fixedLast: false }),
      addLayerMenu(tower, layers),
      h("div", { class: "tw-tower-footer", "aria-live": "polite", text: `${layers.length} layer${layers.length === 1 ? "" : "s"} • ${est.params_text || "—"} params${est.embedding_params ? " (embeddings included)" : ""}` }));
  }

  /**
   * @param {string} tower @param {any[]} layers
   * @param {{outputIndex: number, fixedLast: boolean}} opts
   */
  function layerList(tower, layers, { outputIndex, fixedLast }) {
    const list = h("ol", { class: "tw-layers", "aria-label": `${TOWER_NAMES[tower]} layers` });
    layers.forEach((layer, index) => {
      const fixed = fixedLast && index === layers.length - 1;
      list.append(h("li", { class: "tw-connector", "aria-hidden": "true", text: "│\n▼" }));
      list.append(fixed ? fixedBlock(layer) : layerBlock(tower, layers, index, index === outputIndex));
    });
    return list;
  }

  /** @param {any} layer */
  function fixedBlock(layer) {
    return h("li", { class: "tw-layer tw-layer-output tw-layer-fixed", tabindex: "0", "aria-label": `${layerLabel(layer)}, Linear, rating output (fixed)` },
      h("span", { class: "tw-handle tw-handle-blank", "aria-hidden": "true" }),
      h("div", { class: "tw-layer-text" },
        h("div", { class: "tw-layer-title", text: layerLabel(layer) }),
        h("div", { class: "tw-layer-detail", text: "Linear • Rating Output" })));
  }

  /** @param {string} tower @param {any[]} layers @param {number} index @param {boolean} isOutput */
  function layerBlock(tower, layers, index, isOutput) {
    const layer = layers[index];
    const label = layerLabel(layer);
    const detail = isOutput ? `${layerDetail(layer)} • Output Embedding` : layerDetail(layer);
    const kind = isOutput ? "output" : layer.type;
    const last = tower === "rating_head" ? layers.length - 2 : layers.length - 1;
    const move = (/** @type {number} */ dst) => {
      if (dst < 0 || dst > last || dst === index) return;
      movedTo(tower, dst, layer);
      send("move_layer", { tower, src: index, dst });
    };
    const gear = h("button", {
      type: "button", class: "tw-icon-btn", "data-key": `gear:${tower}:${index}`, "aria-label": `Configure ${label} (${TOWER_NAMES[tower]} layer ${index + 1})`,
      title: "Configure", text: "⚙",
      onclick: () => openModal(tower, index, layer, isOutput),
    });
    const trash = h("button", {
      type: "button", class: "tw-icon-btn", "data-key": `trash:${tower}:${index}`, "aria-label": `Delete ${label} (${TOWER_NAMES[tower]} layer ${index + 1})`,
      title: "Delete", text: "🗑",
      onclick: () => {
        const count = layers.length;
        focusOnAnswer(`layer:${tower}:${Math.max(0, index - 1)}`, (cfg) => (cfg[FIELDS[tower]] || []).length < count);
        send("remove_layer", { tower, index });
      },
    });
    const block = h("li", {
      class: `tw-layer tw-layer-${kind}`, tabindex: "0", "data-key": `layer:${tower}:${index}`,
      "aria-label": `${label}, ${detail}. Layer ${index + 1} of ${layers.length}. Alt+Up or Alt+Down moves it.`,
      "aria-roledescription": "layer block",
    },
    h("span", { class: "tw-handle", draggable: "true", title: "Drag to reorder", "aria-hidden": "true", text: "≡" }),
    h("div", { class: "tw-layer-text" },
      h("div", { class: "tw-layer-title", text: label }),
      h("div", { class: "tw-layer-detail", text: detail })),
    h("div", { class: "tw-layer-actions" }, gear, trash));
    block.addEventListener("keydown", (e) => {
      const ev = /** @type {KeyboardEvent} */ (e);
      if (ev.target !== block) return;
      if (awaitingAnswer() && (ev.altKey || ["Enter", " ", "Delete"].includes(ev.key))) { ev.preventDefault(); return; }
      if (ev.altKey && ev.key === "ArrowUp") { ev.preventDefault(); move(index - 1); }
      else if (ev.altKey && ev.key === "ArrowDown") { ev.preventDefault(); move(index + 1); }
      else if (ev.key === "Enter" || ev.key === " ") { ev.preventDefault(); openModal(tower, index, layer, isOutput); }
      else if (ev.key === "Delete") { ev.preventDefault(); trash.click(); }
    });
    const handle = /** @type {HTMLElement} */ (block.querySelector(".tw-handle"));
    handle.addEventListener("dragstart", (e) => {
      dragging = { tower, index };
      const dt = /** @type {DragEvent} */ (e).dataTransfer;
      if (dt) { dt.effectAllowed = "move"; dt.setData("text/plain", `${tower}:${index}`); try { dt.setDragImage(block, 10, 10); } catch { /* old browsers */ } }
      block.classList.add("tw-dragging");
    });
    handle.addEventListener("dragend", () => { dragging = null; block.classList.remove("tw-dragging"); });
    block.addEventListener("dragover", (e) => {
      if (dragging && dragging.tower === tower && index <= last) { e.preventDefault(); block.classList.add("tw-drop-target"); }
    });
    block.addEventListener("dragleave", () => block.classList.remove("tw-drop-target"));
    block.addEventListener("drop", (e) => {
      e.preventDefault();
      block.classList.remove("tw-drop-target");
      if (dragging && dragging.tower === tower && dragging.index !== index && index <= last) {
        const src = dragging.index;
        dragging = null;
        movedTo(tower, index, layers[src]);
        send("move_layer", { tower, src, dst: index });
      }
    });
    return block;
  }

  /** @param {string} tower @param {number} index @param {any} layer @param {boolean} isOutput */
  function openModal(tower, index, layer, isOutput) {
    if (closeModal) closeModal();
    closeModal = openLayerModal({
      container: modalHost,
      scope: root,
      layer,
      note: isOutput ? "This is the tower's output layer: its units set the output embedding dimension of both towers." : undefined,
      onApply: (params) => { focusAfter = `layer:${tower}:${index}`; send("update_layer", { tower, index, params }); },
      onClose: () => { closeModal = null; },
    });
  }

  /** @param {string} tower @param {any[]} layers */
  function addLayerMenu(tower, layers) {
    const open = openMenu?.tower === tower;
    const menuId = `tw-add-menu-${tower}`;
    const button = h("button", {
      type: "button", class: "tw-btn tw-add-layer", "data-key": `add:${tower}`,
      "aria-haspopup": "menu", "aria-expanded": open ? "true" : "false", "aria-controls": menuId,
      text: tower === "rating_head" ? "+ Add Layer" : "+ Add Layer ▼",
      onclick: (/** @type {Event} */ e) => { e.stopPropagation(); openMenu = open ? null : { tower, at: 0 }; if (!open) focusAfter = `menu:${tower}:0`; draw(); },
    });
    button.addEventListener("keydown", (e) => {
      if (/** @type {KeyboardEvent} */ (e).key === "ArrowDown") { e.preventDefault(); openMenu = { tower, at: 0 }; focusAfter = `menu:${tower}:0`; draw(); }
    });
    const wrap = h("div", { class: "tw-menu-wrap" }, button);
    if (open) {
      const items = LAYER_MENU.map((item, i) => h("button", {
        type: "button", role: "menuitem", class: "tw-menu-item", "data-key": `menu:${tower}:${i}`, tabindex: "-1",
        onclick: (/** @type {Event} */ e) => {
          e.stopPropagation();
          openMenu = null;
          const fixedEnd = tower === "rating_head" && layers.length && layers[layers.length - 1].type === "dense" && layers[layers.length - 1].units === 1;
          const dense = layers.map((l, j) => (l.type === "dense" ? j : -1)).filter((j) => j >= 0);
          const at = fixedEnd ? layers.length - 1 : (dense.length ? dense[dense.length - 1] : layers.length);
          const field = FIELDS[tower];
          const count = layers.length;
          focusAfter = `add:${tower}`;
          focusOnAnswer(`layer:${tower}:${at}`, (cfg) => (cfg[field] || []).length > count);
          send("add_layer", { tower, type: item.type });
          draw();
        },
      }, h("div", { class: "tw-menu-title", text: item.title }), h("div", { class: "tw-menu-text", text: item.text })));
      const menu = h("div", { class: "tw-menu", role: "menu", id: menuId, "aria-label": `Add a layer to the ${TOWER_NAMES[tower]} ${tower === "rating_head" ? "" : "tower"}`.trim() }, items);
      menu.addEventListener("keydown", (e) => {
        const ev = /** @type {KeyboardEvent} */ (e);
        const at = items.indexOf(/** @type {HTMLElement} */ (document.activeElement));
        if (ev.key === "Escape") { ev.preventDefault(); ev.stopPropagation(); openMenu = null; focusAfter = `add:${tower}`; draw(); }
        else if (ev.key === "ArrowDown") { ev.preventDefault(); items[(at + 1) % items.length].focus(); }
        else if (ev.key === "ArrowUp") { ev.preventDefault(); items[(at + items.length - 1) % items.length].focus(); }
        else if (ev.key === "Tab") { openMenu = null; setTimeout(draw, 0); }
      });
      wrap.append(menu);
    }
    return wrap;
  }

  /** @param {any} cfg */
  function outputSection(cfg) {
    const shareId = `tw-share-${Math.random().toString(36).slice(2, 8)}`;
    return h("section", { class: "tw-section", "aria-label": "Output embedding" },
      band("Output Embedding"),
      h("div", { class: "tw-row" }, h("span", { class: "tw-field-label", text: "Dimension: " }),
        chips({
          label: "Output embedding dimension", key: "output-dim", options: OUTPUT_DIMS, value: cfg.output_embedding_dim,
          onChange: (v) => send("set_output_dim", { dim: v }), custom: { min: 1, max: 2048, step: 1, integer: true },
        })),
      info("Both towers output embeddings of this size for dot-product similarity"),
      h("div", { class: "tw-check" },
        h("input", {
          type: "checkbox", id: shareId, checked: !!cfg.share_tower_weights, "data-key": "share",
          onchange: (/** @type {Event} */ e) => setField("share_tower_weights", /** @type {HTMLInputElement} */ (e.target).checked),
        }),
        h("label", { for: shareId, text: " Share tower weights" }),
        h("p", { class: "tw-muted tw-check-help", text: "Use identical weights for both towers. Requires identical architecture. Recommended for small datasets to reduce overfitting." })));
  }

  /** @param {any} cfg */
  function ratingHeadSection(cfg) {
    const layers = cfg.rating_head_layers || [];
    const fixedLast = layers.length > 0 && layers[layers.length - 1].type === "dense" && layers[layers.length - 1].units === 1;
    return h("section", { class: "tw-section tw-rating-head", "aria-label": "Rating head architecture" },
      band("Rating Head Architecture"),
      h("p", { text: `After concatenating Buyer + Product embeddings (${cfg.output_embedding_dim * 2}D total):` }),
      h("div", { class: "tw-box" },
        layerList("rating_head", layers, { outputIndex: -1, fixedLast }),
        addLayerMenu("rating_head", layers)));
  }

  /** @param {string} name @param {any} value */
  function setField(name, value) {
    const cfg = model.get("config_data") || {};
    model.set("config_data", { ...cfg, [name]: value });
    model.save_changes();
  }

  const onDocClick = () => { if (openMenu) { openMenu = null; draw(); } };
  document.addEventListener("click", onDocClick);
  const unlisten = listen(model, BUILDER_TRAITS, draw);
  draw();
  return () => {
    unlisten();
    document.removeEventListener("click", onDocClick);
    if (closeModal) closeModal();
    root.remove();
    modalHost.remove();
  };
}
