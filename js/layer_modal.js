// The ⚙ layer configuration modals (Dense, Dropout, BatchNorm): Apply / Cancel / ✕ / Escape.
import { chips, cssEscape, focusField, h, info, rebuild, uid } from "./dom.js";

export const ACTIVATIONS = [
  { value: "relu", label: "ReLU", text: "ReLU: Fast and effective for most cases. Outputs 0 for negative inputs, passes positive inputs unchanged." },
  { value: "leaky_relu", label: "LeakyReLU", text: "LeakyReLU: Like ReLU, but lets a small slope through for negative inputs, so units cannot get stuck at 0." },
  { value: "gelu", label: "GELU", text: "GELU: A smooth version of ReLU used in Transformers. Slightly slower, sometimes a little more accurate." },
  { value: "tanh", label: "Tanh", text: "Tanh: Squashes outputs to the range -1 to 1. Rarely better than ReLU in deep towers." },
  { value: "sigmoid", label: "Sigmoid", text: "Sigmoid: Squashes outputs to the range 0 to 1. Mostly useful for gates and probabilities." },
  { value: null, label: "None (Linear)", text: "None (Linear): No activation. Recommended for a tower's output embedding layer, so embeddings can take any sign." },
];
export const UNIT_CHOICES = [32, 64, 128, 256, 512];
export const RATE_CHOICES = [0.1, 0.2, 0.3, 0.5];
export const L2_CHOICES = [0, 0.001, 0.01, 0.1];
const TITLES = /** @type {Record<string, string>} */ ({
  dense: "Configure Dense Layer",
  dropout: "Configure Dropout Layer",
  batch_norm: "Configure Batch Normalization",
});

/**
 * Open a modal dialog editing a copy of `layer`. Returns `close()`.
 * @param {Object} opts
 * @param {HTMLElement} opts.container element the overlay is appended to
 * @param {any} opts.layer the layer dict
 * @param {(params: Record<string, any>) => void} opts.onApply
 * @param {() => void} [opts.onClose]
 * @param {string} [opts.note] extra line (e.g. "Output Embedding: units change both towers")
 * @param {HTMLElement} [opts.scope] where the opener lives: if a re-render replaced it while
 *   the modal was open, focus returns to its successor (the element with the same data-key)
 */
export function openLayerModal({ container, layer, onApply, onClose, note, scope }) {
  const draft = { ...layer };
  const titleId = uid("tw-modal-title");
  const returnTo = /** @type {HTMLElement|null} */ (document.activeElement);
  const returnKey = returnTo && returnTo.dataset ? returnTo.dataset.key : undefined;
  const body = h("div", { class: "tw-modal-body" });
  const dialog = h("div", {
    class: "tw-modal", role: "dialog", "aria-modal": "true", "aria-labelledby": titleId, tabindex: "-1",
  });
  const overlay = h("div", { class: "tw-modal-overlay" }, dialog);
  let closed = false;

  const close = () => {
    if (closed) return;
    closed = true;
    overlay.removeEventListener("keydown", onKey);
    overlay.remove();
    if (onClose) onClose();
    // Python's answers (errors, warnings, estimates…) may have rebuilt the opener meanwhile.
    const back = returnTo && returnTo.isConnected ? returnTo
      : (returnKey && scope ? /** @type {HTMLElement|null} */ (scope.querySelector(`[data-key="${cssEscape(returnKey)}"]`)) : null);
    if (back) back.focus();
  };
  const apply = () => {
    // A value the fields refused stays on screen with its message: Apply does not close
    // the dialog over it, it takes the user back to that field.
    const invalid = /** @type {HTMLElement|null} */ (dialog.querySelector('[aria-invalid="true"]'));
    if (invalid) { focusField(invalid); return; }
    /** @type {Record<string, any>} */
    const params = {};
    if (draft.type === "dense") Object.assign(params, { units: draft.units, activation: draft.activation ?? null, l2_reg: draft.l2_reg ?? 0 });
    if (draft.type === "dropout") params.rate = draft.rate;
    onApply(params);
    close();
  };
  /** @param {Event} e */
  function onKey(e) {
    const ev = /** @type {KeyboardEvent} */ (e);
    if (ev.key === "Escape") { ev.preventDefault(); ev.stopPropagation(); close(); return; }
    if (ev.key === "Tab") { // keep focus inside the dialog
      const items = /** @type {HTMLElement[]} */ ([...dialog.querySelectorAll("button, input, select")]).filter((x) => !(/** @type {any} */ (x).disabled));
      if (!items.length) return;
      const first = items[0];
      const last = items[items.length - 1];
      if (ev.shiftKey && document.activeElement === first) { ev.preventDefault(); last.focus(); }
      else if (!ev.shiftKey && document.activeElement === last) { ev.preventDefault(); first.focus(); }
    }
  }
  overlay.addEventListener("keydown", onKey);
  overlay.addEventListener("mousedown", (e) => { if (e.target === overlay) close(); });

  const draw = () => rebuild(body, () => {
    if (draft.type === "dense") return denseBody(draft, draw);
    if (draft.type === "dropout") return dropoutBody(draft, draw);
    return [h("p", { class: "tw-modal-text", text: "Batch normalization has no settings. It normalizes the previous layer's activations to zero mean and unit variance per batch, which often makes training faster and more stable." })];
  });
  draw();

  dialog.append(...[
    h("div", { class: "tw-modal-header" },
      h("h3", { id: titleId, class: "tw-modal-title", text: TITLES[draft.type] || "Configure Layer" }),
      h("button", { type: "button", class: "tw-icon-btn tw-modal-x", "aria-label": "Close", text: "✕", onclick: close })),
    note ? h("p", { class: "tw-modal-note", text: note }) : null,
    body,
    h("div", { class: "tw-modal-footer" },
      h("button", { type: "button", class: "tw-btn", text: "Cancel", "data-action": "cancel", onclick: close }),
      h("button", { type: "button", class: "tw-btn tw-btn-primary", text: "Apply", "data-action": "apply", onclick: apply })),
  ].filter((node) => node !== null));
  container.appendChild(overlay);
  const firstFocus = /** @type {HTMLElement|null} */ (dialog.querySelector(".tw-selected") || dialog.querySelector("button"));
  (firstFocus || dialog).focus();
  return close;
}

/** @param {any} draft @param {() => void} redraw */
function denseBody(draft, redraw) {
  const current = ACTIVATIONS.find((a) => a.value === (draft.activation ?? null)) || ACTIVATIONS[0];
  const groupName = uid("tw-activation");
  const l2Id = uid("tw-l2");
  const l2Options = L2_CHOICES.includes(draft.l2_reg ?? 0) ? L2_CHOICES : [...L2_CHOICES, draft.l2_reg];
  return [
    h("h4", { class: "tw-field-label", text: "Units (neurons)" }),
    chips({
      label: "Units (neurons)", key: "units", options: UNIT_CHOICES, value: draft.units,
      onChange: (v) => { draft.units = v; redraw(); }, custom: { min: 1, max: 2048, step: 1, integer: true },
    }),
    info("Powers of 2 are recommended for GPU efficiency"),
    h("h4", { class: "tw-field-label", text: "Activation Function" }),
    h("div", { class: "tw-radios", role: "radiogroup", "aria-label": "Activation Function" },
      ACTIVATIONS.map((a) => h("label", { class: "tw-radio" },
        h("input", {
          type: "radio", name: groupName, checked: a.value === (draft.activation ?? null),
          "data-key": `activation:${a.value}`,
          onchange: () => { draft.activation = a.value; redraw(); },
        }),
        ` ${a.label}`))),
    h("div", { class: "tw-explain", role: "note", text: current.text }),
    h("label", { class: "tw-field-label", for: l2Id, text: "L2 Regularization" }),
    h("select", {
      id: l2Id, class: "tw-select", "data-key": "l2",
      onchange: (/** @type {Event} */ e) => { draft.l2_reg = Number(/** @type {HTMLSelectElement} */ (e.target).value); redraw(); },
    }, l2Options.map((v) => h("option", { value: String(v), selected: v === (draft.l2_reg ?? 0), text: v === 0 ? "0 (none)" : String(v) }))),
    h("p", { class: "tw-muted", text: "Options: 0 (none), 0.001, 0.01, 0.1" }),
    info("Penalizes large weights to reduce overfitting. Start with 0, try 0.001-0.01 if model overfits."),
  ];
}

/** @param {any} draft @param {() => void} redraw */
function dropoutBody(draft, redraw) {
  return [
    h("h4", { class: "tw-field-label", text: "Dropout Rate" }),
    chips({
      label: "Dropout Rate", key: "rate", options: RATE_CHOICES, value: draft.rate,
      onChange: (v) => { draft.rate = v; redraw(); },
      custom: { min: 0, max: 0.9, step: 0.05 },
    }),
    h("div", { class: "tw-explain", role: "note" },
      h("p", { text: "Dropout randomly sets a fraction of inputs to 0 during training, which helps prevent overfitting." }),
      h("ul", null,
        h("li", { text: "0.1-0.2: Light regularization" }),
        h("li", { text: "0.3-0.5: Strong regularization (use carefully)" })),
      h("p", { text: "Note: Dropout is only applied during training, not inference." })),
  ];
}
