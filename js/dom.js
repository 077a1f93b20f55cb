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
 * the same `data-key` gets focus (and its text selection) back after the rebuild. `after`
 * runs once the new children are in place (at once, or after a deferred rebuild).
 * @param {HTMLElement} root
 * @param {() => (Node|null|false|undefined)[]} build
 * @param {() => void} [after]
 */
export function rebuild(root, build, after) {
  // A control is never rebuilt under the pointer: between pointerdown and the click that
  // follows it, a rebuild of the subtree holding the pressed element waits (the last one
  // wins), otherwise the element under the pointer is replaced and the click is lost.
  watchPointer(root.ownerDocument);
  if (pressed && root.contains(pressed)) { deferred.set(root, { build, after }); return; }
  deferred.delete(root);
  rebuildNow(root, build);
  if (after) after();
}

/** @type {Element|null} the element a pointer is pressed on (until its click has run) */
let pressed = null;
/** @type {Map<HTMLElement, {build: () => (Node|null|false|undefined)[], after?: () => void}>} */
const deferred = new Map();
/** @type {WeakSet<Document>} */
const watched = new WeakSet();

/** Is a pointer pressed on an element inside `root`? (tests, and views deciding to diff) @param {Element} root */
export function pointerHeldIn(root) {
  return !!pressed && root.contains(pressed);
}

/**
 * Track presses on `doc` once (shared by every view, so no view has listeners to remove).
 * The deferred rebuilds run after the click: pointerup's task dispatches the click first.
 * @param {Document|null} doc
 */
function watchPointer(doc) {
  if (!doc || watched.has(doc)) return;
  watched.add(doc);
  doc.addEventListener("pointerdown", (e) => { pressed = /** @type {Element} */ (e.target); }, true);
  const release = () => {
    if (!pressed) return;
    setTimeout(() => {
      pressed = null;
      const jobs = [...deferred.entries()];
      deferred.clear();
      for (const [root, { build, after }] of jobs) {
        if (!root.isConnected) continue;
        rebuildNow(root, build);
        if (after) after();
      }
    }, 0);
  };
  doc.addEventListener("pointerup", release, true);
  doc.addEventListener("pointercancel", release, true);
}

/** @param {HTMLElement} root @param {() => (Node|null|false|undefined)[]} build */
function rebuildNow(root, build) {
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
    const errorEl = h("span", { id: `${id}-error`, class: "tw-field-error", role: "alert", hidden: true });
    const commit = () => {
      const field = /** @type {HTMLInputElement} */ (input);
      const raw = field.value.trim();
      const bad = !!(field.validity && field.validity.badInput);
      if (raw === "" && !bad) { showFieldError(field, errorEl, ""); return; }
      const problem = customProblem(label, raw, bad, custom);
      showFieldError(field, errorEl, problem);
      if (problem) return;
      onChange(Number(raw));
    };
    input.addEventListener("change", commit);
    input.addEventListener("keydown", (e) => {
      if (/** @type {KeyboardEvent} */ (e).key === "Enter") { e.preventDefault(); commit(); }
    });
    group.append(h("label", { class: `tw-chip tw-chip-custom${isCustom ? " tw-selected" : ""}`, for: id },
      "Custom: ", input), errorEl);
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

/**
 * What is wrong with a custom value, in our words ("" when it is fine).
 * @param {string} label @param {string} raw what was typed @param {boolean} bad the browser could not read it
 * @param {{min?: number, max?: number, integer?: boolean}} rule
 */
export function customProblem(label, raw, bad, { min, max, integer }) {
  const n = Number(raw);
  const range = min !== undefined && max !== undefined ? ` from ${min} to ${max}` : "";
  const kind = integer ? "a whole number" : "a number";
  if (bad || raw === "" || !Number.isFinite(n) || (integer && !Number.isInteger(n))
      || (min !== undefined && n < min) || (max !== undefined && n > max)) {
    return `${label} must be ${kind}${range}${raw === "" ? "" : ` (you entered ${raw})`}.`;
  }
  return "";
}

/** A section heading like the mockups' ════ TITLE ════ bands. @param {string} text @param {...any} extra */
export function band(text, ...extra) {
  return h("div", { class: "tw-band" }, h("h3", { class: "tw-band-title", text }), ...extra);
}

/** An info line: an "i" drawn in a CSS circle (Debian's fonts have no ⓘ glyph). @param {...any} children */
export function info(...children) {
  return h("p", { class: "tw-info" }, infoIcon(), ...children);
}

/** The info mark alone. */
export function infoIcon() {
  return h("span", { class: "tw-info-icon", "aria-hidden": "true", text: "i" });
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

/** Set an element's text only when it changed (no needless mutation). @param {HTMLElement} el @param {string} text */
export function setText(el, text) {
  if (el.textContent !== text) el.textContent = text;
}

/**
 * Show (or clear) a field's message right next to it: the message element gets the text and
 * is unhidden, the field gets `aria-invalid` and names the message in `aria-describedby`.
 * @param {HTMLElement} field @param {HTMLElement} messageEl (has an id) @param {string} message ("" clears)
 */
export function showFieldError(field, messageEl, message) {
  setText(messageEl, message ? `✗ ${message}` : "");
  messageEl.hidden = !message;
  field.setAttribute("aria-invalid", message ? "true" : "false");
  const ids = (field.getAttribute("aria-describedby") || "").split(/\s+/).filter((x) => x && x !== messageEl.id);
  if (message) ids.unshift(messageEl.id);
  if (ids.length) field.setAttribute("aria-describedby", ids.join(" "));
  else field.removeAttribute("aria-describedby");
}

/** Bring a field with a problem into view and give it focus. @param {HTMLElement} field */
export function focusField(field) {
  if (typeof field.scrollIntoView === "function") field.scrollIntoView({ block: "center" });
  field.focus();
}
