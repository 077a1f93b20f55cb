// DOM helpers: elements are built with createElement and textContent only (never innerHTML),
// so any string that came from data (a config name, a column name) shows as text.

/**
 * @typedef {Object} AnyModel
 * @property {(name: string) => any} get
 * @property {(name: string, value: any) => void} set
 * @property {(event: string, cb: Function) => void} on
 * @property {(event?: string|null, cb?: Function|null) => void} off
 * @property {() => void} save_changes
 * @property {(content: any, callbacks?: any, buffers?: any[]) => void} send
 * @property {{ get_model: (id: string) => Promise<AnyModel> }} [widget_manager]
 */

/**
 * Create an element. `attrs` keys: class, text, on{Event} handlers, aria-*, data-*, dataset,
 * style (object), and any DOM property (value, checked, disabled, type…).
 * Children are nodes, strings (as text) or falsy (skipped); arrays are flattened.
 * @param {string} tag
 * @param {Record<string, any>|null} [attrs]
 * @param {...any} children
 * @returns {HTMLElement}
 */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") el.className = String(value);
    else if (key === "text") el.textContent = String(value);
    else if (key === "style" && typeof value === "object") Object.assign(el.style, value);
    else if (key === "dataset") Object.assign(el.dataset, value);
    else if (key.startsWith("on") && typeof value === "function") {
      el.addEventListener(key.slice(2).toLowerCase(), value);
    } else if (key.startsWith("aria-") || key.startsWith("data-") || key === "role" || key === "for"
      || key === "tabindex" || key === "title" || key === "name" || key === "id"
      || key === "draggable" || key === "list") {
      el.setAttribute(key, value === true ? "true" : String(value));
    } else {
      // DOM properties (value, checked, disabled, type, min, max, step, placeholder…)
      try { /** @type {any} */ (el)[key] = value; } catch { el.setAttribute(key, String(value)); }
    }
  }
  append(el, children);
  return el;
}

/** @param {Node} el @param {any[]} children */
function append(el, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(el, child);
    else if (child instanceof Node) el.appendChild(child);
    else el.appendChild(document.createTextNode(String(child)));
  }
}

/**
 * Rebuild `root`'s children with `build()` while keeping keyboard focus: the element with
 * the same `data-key` gets focus (and its text selection) back after the rebuild.
 * @param {HTMLElement} root
 * @param {() => (Node|null|false|undefined)[]} build
 */
export function rebuild(root, build) {
  const active = /** @type {HTMLElement|null} */ (document.activeElement);
  const key = active && root.contains(active) ? active.dataset.key : undefined;
  /** @type {[number|null, number|null]|null} */
  let selection = null;
  if (key && active && "selectionStart" in active) {
    try {
      const input = /** @type {HTMLInputElement} */ (active);
      selection = [input.selectionStart, input.selectionEnd];
    } catch { selection = null; }
  }
  root.replaceChildren(...build().filter((n) => n instanceof Node));
  if (key) {
    const next = /** @type {HTMLElement|null} */ (root.querySelector(`[data-key="${cssEscape(key)}"]`));
    if (next) {
      next.focus();
      if (selection && "setSelectionRange" in next) {
        try { /** @type {HTMLInputElement} */ (next).setSelectionRange(selection[0], selection[1]); } catch { /* number inputs */ }
      }
    }
  }
}

/** Escape a value for a `[data-key="…"]` selector. @param {string} value */
export function cssEscape(value) {
  return value.replace(/["\\]/g, "\\$&");
}

let counter = 0;
/** A unique id for aria-labelledby/for pairs. @param {string} prefix */
export function uid(prefix) {
  counter += 1;
  return `${prefix}-${counter}`;
}

/**
 * Send a command to Python: `{kind, id, ...payload}` (fire and forget; Python answers by
 * changing traits, and with a `{kind: "reply", id, ok}` message that `requester` can await).
 * @param {AnyModel} model @param {string} kind @param {Record<string, any>} [payload]
 * @returns {string} the message id
 */
export function command(model, kind, payload = {}) {
  counter += 1;
  const id = `c${counter}`;
  model.send({ kind, id, ...payload });
  return id;
}

/**
 * Commands whose replies a view awaits. `dispose()` drops every pending wait and its
 * listener (call it in the view's cleanup).
 * @param {AnyModel} model
 */
export function requester(model) {
  /** @type {Map<string, (reply: {ok: boolean, result?: any, error?: string}) => void>} */
  const pending = new Map();
  /** @param {any} msg */
  const handler = (msg) => {
    if (!msg || msg.kind !== "reply" || !pending.has(msg.id)) return;
    const resolve = /** @type {Function} */ (pending.get(msg.id));
    pending.delete(msg.id);
    resolve({ ok: !!msg.ok, result: msg.result, error: msg.error });
  };
  model.on("msg:custom", handler);
  return {
    /** @param {string} kind @param {Record<string, any>} [payload] @param {number} [timeout] @returns {Promise<{ok: boolean, result?: any, error?: string}>} */
    request(kind, payload = {}, timeout = 15000) {
      return new Promise((resolve) => {
        const id = command(model, kind, payload);
        const timer = setTimeout(() => { if (pending.delete(id)) resolve({ ok: false, error: "no reply from the kernel" }); }, timeout);
        pending.set(id, (/** @type {any} */ reply) => { clearTimeout(timer); resolve(reply); });
      });
    },
    dispose() {
      model.off("msg:custom", handler);
      for (const resolve of pending.values()) resolve({ ok: false, error: "disposed" });
      pending.clear();
    },
  };
}

/**
 * Listen to `change:<name>` for each name; returns a function removing those listeners.
 * @param {AnyModel} model @param {string[]} names @param {() => void} callback
 */
export function listen(model, names, callback) {
  for (const name of names) model.on(`change:${name}`, callback);
  return () => { for (const name of names) model.off(`change:${name}`, callback); };
}

/**
 * Make Enter and Space activate an element that is not a native button.
 * @param {HTMLElement} el @param {(e: Event) => void} activate
 */
export function activatable(el, activate) {
  el.addEventListener("click", activate);
  el.addEventListener("keydown", (e) => {
    const ev = /** @type {KeyboardEvent} */ (e);
    if (ev.key === "Enter" || ev.key === " ") { ev.preventDefault(); activate(ev); }
  });
  if (!el.hasAttribute("tabindex")) el.setAttribute("tabindex", "0");
  return el;
}

/**
 * A radio group of chips plus an optional "Custom: ____" number input.
 * @param {Object} opts
 * @param {string} opts.label accessible name of the group
 * @param {string} opts.key data-key prefix (focus restore)
 * @param {any[]} opts.options values
 * @param {any} opts.value current value
 * @param {(v: any) => string} [opts.format]
 * @param {(v: any) => void} opts.onChange
 * @param {{min?: number, max?: number, step?: number|string, integer?: boolean}|null} [opts.custom]
 */
export function chips({ label, key, options, value, format = String, onChange, custom = null }) {
  const isCustom = !options.some((o) => o === value);
  const group = h("div", { class: "tw-chips", role: "radiogroup", "aria-label": label });
  const buttons = options.map((option) => {
    const selected = option === value;
    return h("button", {
      type: "button",
      class: `tw-chip${selected ? " tw-selected" : ""}`,
      role: "radio",
      "aria-checked": selected ? "true" : "false",
      "data-key": `${key}:${option}`,
      text: format(option),
      onclick: () => onChange(option),
    });
  });
  group.append(...buttons);
  if (custom) {
    const id = uid(`${key}-custom`);
    const input = h("input", {
      id,
      type: "number",
      class: "tw-custom-input",
      "data-key": `${key}:custom`,
      "aria-label": `${label}: custom value`,
      placeholder: "____",
      min: custom.min ?? "",
      max: custom.max ?? "",
      step: custom.step ?? "any",
      value: isCustom && value !== null && value !== undefined ? String(value) : "",
    });
    const commit = () => {
      const raw = /** @type {HTMLInputElement} */ (input).value.trim();
      if (raw === "") return;
      const n = Number(raw);
      if (!Number.isFinite(n)) return;
      onChange(custom.integer ? Math.round(n) : n);
    };
    input.addEventListener("change", commit);
    input.addEventListener("keydown", (e) => {
      if (/** @type {KeyboardEvent} */ (e).key === "Enter") { e.preventDefault(); commit(); }
    });
    group.append(h("label", { class: `tw-chip tw-chip-custom${isCustom ? " tw-selected" : ""}`, for: id },
      "Custom: ", input));
  }
  // Arrow keys move between chips, like a radio group.
  group.addEventListener("keydown", (e) => {
    const ev = /** @type {KeyboardEvent} */ (e);
    if (!["ArrowLeft", "ArrowRight"].includes(ev.key)) return;
    const items = /** @type {HTMLElement[]} */ ([...group.querySelectorAll("button")]);
    const at = items.indexOf(/** @type {HTMLElement} */ (document.activeElement));
    if (at < 0) return;
    ev.preventDefault();
    const next = items[(at + (ev.key === "ArrowRight" ? 1 : items.length - 1)) % items.length];
    next.focus();
  });
  return group;
}

/** A section heading like the mockups' ════ TITLE ════ bands. @param {string} text @param {...any} extra */
export function band(text, ...extra) {
  return h("div", { class: "tw-band" }, h("h3", { class: "tw-band-title", text }), ...extra);
}

/** An "ⓘ" info line. @param {...any} children */
export function info(...children) {
  return h("p", { class: "tw-info" }, h("span", { "aria-hidden": "true", text: "ⓘ " }), ...children);
}

/**
 * Resolve a child widget reference ("anywidget:<id>" or "IPY_MODEL_<id>") to its model.
 * @param {AnyModel} model @param {any} host @param {string} ref
 * @returns {Promise<AnyModel|null>}
 */
export async function childModel(model, host, ref) {
  if (!ref || typeof ref !== "string") return null;
  if (host && typeof host.getModel === "function" && ref.startsWith("anywidget:")) {
    return host.getModel(ref);
  }
  const id = ref.replace(/^anywidget:/, "").replace(/^IPY_MODEL_/, "");
  if (!model.widget_manager) return null;
  return model.widget_manager.get_model(id);
}
