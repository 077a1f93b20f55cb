// A small stand-in for anywidget's model: get/set/on/off/save_changes/send, plus helpers
// the tests use to play the Python side (update traits, answer commands, count listeners).

/**
 * @param {Record<string, any>} state initial traits
 * @param {{onSend?: (msg: any, model: any) => void, children?: Record<string, any>}} [opts]
 */
export function fakeModel(state, opts = {}) {
  /** @type {Map<string, Set<Function>>} */
  const listeners = new Map();
  const sent = [];
  const model = {
    state,
    sent,
    saves: 0,
    /** @param {string} name */
    get(name) { return state[name]; },
    /** @param {string} name @param {any} value */
    set(name, value) { state[name] = value; emit(`change:${name}`, value); },
    save_changes() { model.saves += 1; },
    /** @param {string} event @param {Function} cb */
    on(event, cb) { if (!listeners.has(event)) listeners.set(event, new Set()); listeners.get(event).add(cb); },
    /** @param {string} [event] @param {Function} [cb] */
    off(event, cb) {
      if (!event) { listeners.clear(); return; }
      if (!cb) { listeners.delete(event); return; }
      listeners.get(event)?.delete(cb);
    },
    /** @param {any} msg */
    send(msg) { sent.push(msg); if (opts.onSend) opts.onSend(msg, model); },
    widget_manager: {
      /** @param {string} id */
      async get_model(id) { return opts.children?.[id] ?? null; },
    },
    // ── test helpers ──
    /** Python changed traits. @param {Record<string, any>} patch */
    update(patch) { for (const [k, v] of Object.entries(patch)) { state[k] = v; emit(`change:${k}`, v); } },
    /** Reply to a command as Python would. @param {any} msg @param {Record<string, any>} [fields] */
    reply(msg, fields = { ok: true }) { emit("msg:custom", { kind: "reply", id: msg.id, ...fields }); },
    listenerCount() { let n = 0; for (const set of listeners.values()) n += set.size; return n; },
    /** @param {string} kind */
    lastSent(kind) { return [...sent].reverse().find((m) => m.kind === kind); },
  };
  /** @param {string} event @param {any} payload */
  function emit(event, payload) { for (const cb of [...(listeners.get(event) || [])]) cb(payload); }
  return model;
}

export const XSS = "<img src=x onerror=alert(1)>";

/** Flush pending promises (child widgets mount asynchronously). */
export const tick = () => new Promise((r) => setTimeout(r, 0));
