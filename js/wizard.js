// ModelWizard: "Create Model Configuration", three steps, Cancel / ← Back / Continue → / Save Config.
import { activatable, band, chips, focusField, h, info, infoIcon, listen, rebuild, requester, setText, showFieldError, uid } from "./dom.js";
import { ACTIVATION_LABELS, OPTIMIZER_LABELS, TYPE_LABELS, TYPE_SUBTITLES, g, layerLabel, layerLines, lastDenseIndex } from "./model.js";
import { BUILDER_TRAITS, errorStep, renderTowerBuilder } from "./tower_builder.js";

/**
 * @typedef {import("./tower_builder.js").BuilderModel & {
 *   step: number, step_errors: string[], mode: "create"|"edit", closed: boolean, saved: Record<string, any>
 * }} WizardModel
 */
export const WIZARD_TRAITS = [...BUILDER_TRAITS, "step", "step_errors", "mode", "closed", "saved"];

export const MODEL_TYPES = [
  {
    value: "retrieval", title: "RETRIEVAL", heading: "Two-Tower Architecture",
    diagram: [
      "┌───────────┐       ┌───────────┐",
      "│   Buyer   │       │  Product  │",
      "│   Tower   │       │   Tower   │",
      "│  Dense    │       │  Dense    │",
      "│  layers   │       │  layers   │",
      "│     ↓     │       │     ↓     │",
      "│{EMB}│       │{EMB}│",
      "└─────┬─────┘       └─────┬─────┘",
      "      └────────┬──────────┘",
      "         [dot product]",
      "               ↓",
      "          similarity",
    ],
    bullets: [
      "Best for large product catalogs (millions of items)",
      "Enables fast Approximate Nearest Neighbor (ANN) serving",
      "Optimizes Recall@K metrics",
    ],
  },
  {
    value: "ranking", title: "RANKING", heading: "Two Towers + Rating Head",
    diagram: [
      "┌───────────┐   ┌───────────┐",
      "│   Buyer   │   │  Product  │",
      "│   Tower   │   │   Tower   │",
      "└─────┬─────┘   └─────┬─────┘",
      "      └───────┬───────┘",
      "          [concat]",
      "              ↓",
      "      ┌─────────────┐",
      "      │ Rating Head │",
      "      │   Dense     │",
      "      │   layers    │",
      "      └──────┬──────┘",
      "             ↓",
      "          rating",
    ],
    bullets: [
      "Best for re-ranking a shortlist of candidates",
      "Predicts explicit ratings (e.g., 1-5 stars)",
      "Optimizes RMSE/MAE metrics",
      "Requires: Rating column in dataset",
    ],
  },
  {
    value: "multitask", title: "MULTITASK", heading: "Combined Retrieval + Ranking",
    diagram: [
      "┌───────────┐   ┌───────────┐",
      "│   Buyer   │   │  Product  │",
      "│   Tower   │   │   Tower   │",
      "└─────┬─────┘   └─────┬─────┘",
      "      ├───────────────┤",
      "[dot product]     [concat]",
      "      ↓               ↓",
      " similarity   ┌─────────────┐",
      "      │       │ Rating Head │",
      "      │       └──────┬──────┘",
      "      │              ↓",
      "      │           rating",
      "      └───────┬──────┘",
      "              ↓",
      "      [weighted loss]",
    ],
    bullets: [
      "Best for sparse interaction data (transfer learning)",
      "Learns from both implicit (watches) and explicit (ratings)",
      "Configurable loss weights for each task",
      "Requires: Rating column in dataset",
    ],
  },
];

export const OPTIMIZERS = [
  { value: "adagrad", title: "Adagrad", text: "Adaptive learning rate per param. Excellent for sparse data.", lr: "0.05 - 0.1", hint: "Adagrad typically works well with 0.1 for recommender systems" },
  { value: "adam", title: "Adam", text: "Most popular, good general purpose optimizer", lr: "0.001 - 0.01", hint: "Adam typically works well with 0.001 - 0.01" },
  { value: "sgd", title: "SGD", text: "Simple, requires careful tuning of learning rate", lr: "0.01 - 0.1", hint: "SGD needs careful tuning; start around 0.01 - 0.1" },
];
export const LR_CHOICES = [0.001, 0.01, 0.05, 0.1];
export const BATCH_CHOICES = [1024, 2048, 4096, 8192];
export const EPOCH_CHOICES = [2, 3, 5, 10, 20];

/** Centre `text` in `width` columns (the diagrams' boxes). @param {string} text @param {number} width */
function center(text, width) {
  const left = Math.max(0, Math.floor((width - text.length) / 2));
  return (" ".repeat(left) + text).padEnd(width, " ");
}

/** @param {{model: import("./dom.js").AnyModel, el: HTMLElement}} props */
export function renderWizard({ model, el }) {
  const titleId = uid("tw-wizard-title");
  const header = h("div", { class: "tw-wizard-header" });
  const body = h("div", { class: "tw-wizard-body" });
  const errorsBox = h("div", { class: "tw-step-errors" });
  const footer = h("div", { class: "tw-wizard-footer" });
  const root = h("div", { class: "tw-wizard", role: "dialog", "aria-labelledby": titleId }, header, body, errorsBox, footer);
  el.appendChild(root);

  /** @type {(() => void)|null} */
  let builderCleanup = null;
  /** @type {HTMLElement|null} */
  let builderEl = null;
  /** @type {Record<string, string>} */
  const pending = {};
  /** @type {ReturnType<typeof setTimeout>|null} */
  let timer = null;
  let busy = false;
  let alive = true;
  const requests = requester(model);

  const send = async (/** @type {string} */ kind, /** @type {Record<string, any>} */ payload = {}) => {
    busy = true;
    drawFooter();
    const reply = await requests.request(kind, payload);
    if (!alive) return reply;
    busy = false;
    drawFooter();
    return reply;
  };

  /** @param {Record<string, any>} fields */
  const setFields = (fields) => {
    model.set("config_data", { ...(model.get("config_data") || {}), ...fields });
    model.save_changes();
  };
  /** Send what is typed; returns it (commands carry it too, see `next`). */
  const flushText = () => {
    if (timer) { clearTimeout(timer); timer = null; }
    const fields = { ...pending };
    if (Object.keys(fields).length) setFields(fields);
    return fields;
  };
  // On blur, send after focus has landed on the next element: the update re-renders the
  // type cards, and the re-render can only keep focus it can see.
  const flushSoon = () => { if (timer) clearTimeout(timer); timer = setTimeout(flushText, 0); };
  /** @param {string} field @param {string} value */
  const typeText = (field, value) => {
    pending[field] = value;
    if (timer) clearTimeout(timer);
    timer = setTimeout(flushText, 300);
  };

  function drawHeader() {
    const editing = model.get("mode") === "edit";
    rebuild(header, () => [
      h("h2", { id: titleId, class: "tw-wizard-title", text: editing ? "Edit Model Configuration" : "Create Model Configuration" }),
      h("span", { class: "tw-step-count", "aria-live": "polite", text: model.get("closed") ? "" : `Step ${model.get("step")} of 3` }),
    ]);
  }

  function drawBody() {
    const step = model.get("step");
    if (model.get("closed")) {
      unmountBuilder();
      step1El = null;
      const saved = model.get("saved") || {};
      rebuild(body, () => [h("p", { class: "tw-closed", role: "status", text: saved.name ? `Saved "${saved.name}" (id ${saved.id}).` : "Closed without saving." })]);
      return;
    }
    if (step === 2) {
      step1El = null;
      if (!builderEl) {
        body.replaceChildren();
        builderEl = h("div", { class: "tw-wizard-builder" });
        body.appendChild(builderEl);
        builderCleanup = renderTowerBuilder({ model, el: builderEl, showErrors: false });
      }
      return;
    }
    unmountBuilder();
    if (step === 1) { mountStep1(); return; }
    step1El = null;
    rebuild(body, step3);
  }

  function unmountBuilder() {
    if (builderCleanup) builderCleanup();
    builderCleanup = null;
    builderEl = null;
  }

  /** @type {{root: HTMLElement, name: HTMLInputElement, desc: HTMLTextAreaElement, cards: HTMLElement, nameError: HTMLElement}|null} */
  let step1El = null;

  /** Step 1 keeps its text fields across updates (rebuilding them would drop keystrokes). */
  function mountStep1() {
    if (!step1El) {
      const nameId = uid("tw-name");
      const descId = uid("tw-desc");
      const name = /** @type {HTMLInputElement} */ (h("input", {
        id: nameId, type: "text", class: "tw-input", "data-key": "name", maxLength: 255,
        placeholder: "e.g. Standard Retrieval v1", "aria-required": "true",
        oninput: (/** @type {Event} */ e) => typeText("name", /** @type {HTMLInputElement} */ (e.target).value),
        onblur: flushSoon,
      }));
      name.addEventListener("keydown", (e) => { if (/** @type {KeyboardEvent} */ (e).key === "Enter") { e.preventDefault(); next(); } });
      const desc = /** @type {HTMLTextAreaElement} */ (h("textarea", {
        id: descId, class: "tw-input tw-textarea", "data-key": "description", rows: 2,
        placeholder: "Optional description of this configuration",
        oninput: (/** @type {Event} */ e) => typeText("description", /** @type {HTMLTextAreaElement} */ (e.target).value),
        onblur: flushSoon,
      }));
      const cards = h("div", { class: "tw-type-cards", role: "radiogroup", "aria-label": "Model type" });
      const nameError = h("p", { id: `${nameId}-error`, class: "tw-field-error", role: "alert", hidden: true });
      const nameHelp = h("p", { id: `${nameId}-help`, class: "tw-muted tw-field-help", "aria-live": "polite" });
      name.setAttribute("aria-describedby", nameHelp.id);
      name.addEventListener("input", () => {
        // The field stops at 255 characters; say so instead of cutting silently.
        setText(nameHelp, name.value.length >= 255 ? "Names are at most 255 characters; the rest was not kept." : "");
      });
      const root = h("div", { class: "tw-step1" },
        h("label", { class: "tw-field-label", for: nameId, text: "Model Name *" }), name, nameError, nameHelp,
        h("label", { class: "tw-field-label", for: descId, text: "Description" }), desc,
        band("Model Type"), cards);
      step1El = { root, name, desc, cards, nameError };
      body.replaceChildren(root);
    }
    const cfg = model.get("config_data") || {};
    for (const f of Object.keys(pending)) if (cfg[f] === pending[f]) delete pending[f];
    const { name, desc, cards } = step1El;
    // Python's value shows unless the user is typing there (focused, or not yet sent).
    if (document.activeElement !== name && pending.name === undefined) name.value = cfg.name ?? "";
    if (document.activeElement !== desc && pending.description === undefined) desc.value = cfg.description ?? "";
    const nameErrors = (model.get("step_errors") || []).filter((/** @type {string} */ m) => errorStep(m) === 1);
    showFieldError(name, step1El.nameError, nameErrors.join(" "));
    if (nameErrors.length && nameErrors.join("\n") !== shownNameErrors) focusField(name);
    shownNameErrors = nameErrors.join("\n");
    updateTypeCards(cards, cfg);
  }

  /** The text of the name errors last shown (focus moves to the field only when they change). */
  let shownNameErrors = "";

  /**
   * The model-type cards are built once and then updated in place (class, aria-checked,
   * text): a click that started on a card survives Python's answer to the name typed just
   * before (the mousedown blurs the name field, which syncs it).
   * @param {HTMLElement} cards @param {any} cfg
   */
  function updateTypeCards(cards, cfg) {
    if (!cards.children.length) {
      cards.append(...MODEL_TYPES.map((t) => {
        const card = h("div", {
          class: "tw-card tw-type-card", role: "radio", "aria-checked": "false",
          "data-key": `type:${t.value}`, "aria-label": `${t.title}: ${t.heading}`,
        },
        h("div", { class: "tw-card-title" }),
        h("pre", { class: "tw-diagram", "aria-hidden": "true" }),
        h("div", { class: "tw-type-heading", text: t.heading }),
        h("ul", { class: "tw-bullets" }, t.bullets.map((b) => h("li", { text: b }))));
        activatable(card, () => {
          if ((model.get("config_data") || {}).model_type !== t.value) { flushText(); setFields({ model_type: t.value }); }
        });
        return card;
      }));
    }
    const dim = cfg.output_embedding_dim || 32;
    MODEL_TYPES.forEach((t, i) => {
      const card = /** @type {HTMLElement} */ (cards.children[i]);
      const selected = cfg.model_type === t.value;
      card.classList.toggle("tw-selected", selected);
      card.setAttribute("aria-checked", selected ? "true" : "false");
      setText(/** @type {HTMLElement} */ (card.querySelector(".tw-card-title")), `${selected ? "●" : "○"} ${t.title}`);
      setText(/** @type {HTMLElement} */ (card.querySelector(".tw-diagram")), t.diagram.join("\n").replaceAll("{EMB}", center(`${dim}D emb`, 11)));
    });
  }

  function step3() {
    const cfg = model.get("config_data") || {};
    const est = model.get("estimates") || {};
    const opt = OPTIMIZERS.find((o) => o.value === cfg.optimizer) || OPTIMIZERS[0];
    const optCards = OPTIMIZERS.map((o) => {
      const selected = o.value === cfg.optimizer;
      const card = h("div", {
        class: `tw-card tw-opt-card${selected ? " tw-selected" : ""}`, role: "radio", "aria-checked": selected ? "true" : "false",
        "data-key": `optimizer:${o.value}`, "aria-label": `${o.title}. Recommended learning rate ${o.lr}`,
      },
      h("div", { class: "tw-card-title", text: `${selected ? "●" : "○"} ${o.title}` }),
      h("p", { text: o.text }),
      h("p", { class: "tw-muted", text: "Recommended LR:" }),
      h("p", { class: "tw-mono", text: o.lr }));
      activatable(card, () => setFields({ optimizer: o.value }));
      return card;
    });
    const multitask = cfg.model_type === "multitask";
    return [
      band("Optimizer"),
      h("div", { class: "tw-opt-cards", role: "radiogroup", "aria-label": "Optimizer" }, optCards),
      h("h4", { class: "tw-field-label", text: "Learning Rate" }),
      chips({ label: "Learning rate", key: "lr", options: LR_CHOICES, value: cfg.learning_rate, format: g,
        onChange: (v) => setFields({ learning_rate: v }), custom: { min: 0, max: 10, step: "any" } }),
      info(opt.hint),
      band("Training Schedule"),
      h("h4", { class: "tw-field-label", text: "Batch Size" }),
      chips({ label: "Batch size", key: "batch", options: BATCH_CHOICES, value: cfg.batch_size,
        onChange: (v) => setFields({ batch_size: v }), custom: { min: 1, max: 65536, step: 1, integer: true } }),
      info("Larger batches train faster but use more memory. 4096 is a good starting point for most datasets."),
      h("h4", { class: "tw-field-label", text: "Default Epochs" }),
      chips({ label: "Default epochs", key: "epochs", options: EPOCH_CHOICES, value: cfg.epochs,
        onChange: (v) => setFields({ epochs: v }), custom: { min: 1, max: 1000, step: 1, integer: true } }),
      info("Quick tests typically use 2-5 epochs. Full training uses 10-20+. This can be overridden when starting a Quick Test."),
      multitask ? lossWeights(cfg) : null,
      band("Configuration Summary"),
      summary(cfg, est),
      (model.get("warnings") || []).length ? h("ul", { class: "tw-warnings", "aria-label": "Warnings" },
        model.get("warnings").map((/** @type {string} */ m) => h("li", { text: `⚠ ${m}` }))) : null,
    ];
  }

  /** @param {any} cfg */
  function lossWeights(cfg) {
    const sliderId = uid("tw-weights");
    const ranking = Number(cfg.ranking_weight ?? 0);
    const retrieval = Number(cfg.retrieval_weight ?? 1);
    const balanced = Math.abs(retrieval - ranking) < 1e-9 ? " (balanced)" : "";
    const slider = h("input", {
      id: sliderId, type: "range", min: 0, max: 1, step: 0.05, value: String(ranking), class: "tw-slider", "data-key": "weights",
      "aria-valuetext": `Retrieval ${g(retrieval)}, Ranking ${g(ranking)}`,
      onchange: (/** @type {Event} */ e) => {
        const v = Math.round(Number(/** @type {HTMLInputElement} */ (e.target).value) * 100) / 100;
        setFields({ ranking_weight: v, retrieval_weight: Math.round((1 - v) * 100) / 100 });
      },
    });
    return h("section", { class: "tw-section", "aria-label": "Loss weights" },
      band("Loss Weights"),
      h("label", { for: sliderId, text: "Balance between retrieval and ranking objectives:" }),
      h("div", { class: "tw-slider-row" }, h("span", { text: "Retrieval" }), slider, h("span", { text: "Ranking" })),
      h("div", { class: "tw-slider-ticks", "aria-hidden": "true" }, h("span", { text: "1.0" }), h("span", { text: "0.5" }), h("span", { text: "0.0" })),
      h("p", { "aria-live": "polite", text: `Current weights: Retrieval = ${g(retrieval)}, Ranking = ${g(ranking)}${balanced}` }),
      h("div", { class: "tw-explain", role: "note" },
        h("p", null, infoIcon(), "Adjust based on your optimization priorities:"),
        h("ul", null,
          h("li", { text: "Higher retrieval weight → Better Recall@K metrics. Good when you care most about finding relevant items." }),
          h("li", { text: "Higher ranking weight → Better RMSE on ratings. Good when predicting exact ratings is important." }),
          h("li", { text: "Balanced (0.5/0.5) → Good starting point. Benefits from transfer learning between tasks." }))));
  }

  /** @param {any} cfg @param {any} est */
  function summary(cfg, est) {
    /** @param {string} title @param {any[]} layers */
    const towerBox = (title, layers) => {
      const out = lastDenseIndex(layers);
      return h("div", { class: "tw-summary-tower" },
        h("div", { class: "tw-card-title", text: title }),
        layers.map((/** @type {any} */ l, /** @type {number} */ i) => h("div", { class: "tw-mono", text: l.type === "dense" ? `${layerLabel(l)} ${ACTIVATION_LABELS[String(l.activation ?? null)]}` : layerLabel(l), "data-output": i === out ? "true" : null })),
        h("div", { class: "tw-mono", text: `→ ${cfg.output_embedding_dim}D embedding` }));
    };
    const ranking = cfg.model_type === "ranking" || cfg.model_type === "multitask";
    const defaultEpochs = 5;
    return h("div", { class: "tw-box tw-summary", "aria-label": "Configuration summary" },
      h("div", null, h("strong", { text: "Model: " }), cfg.name || "(unnamed)"),
      h("div", null, h("strong", { text: "Type: " }), `${TYPE_LABELS[cfg.model_type]} (${TYPE_SUBTITLES[cfg.model_type]})`),
      h("div", { class: "tw-summary-towers" },
        towerBox("Buyer Tower", cfg.buyer_tower_layers || []),
        towerBox("Product Tower", cfg.product_tower_layers || []),
        ranking ? h("div", { class: "tw-summary-tower" },
          h("div", { class: "tw-card-title", text: "Rating Head" }),
          layerLines(cfg.rating_head_layers || []).map((line) => h("div", { class: "tw-mono", text: line })),
          h("div", { class: "tw-mono", text: "→ rating" })) : null),
      h("div", null, h("strong", { text: "Optimizer: " }), `${OPTIMIZER_LABELS[cfg.optimizer]} @ ${g(cfg.learning_rate)}`),
      h("div", null, h("strong", { text: "Batch Size: " }), String(cfg.batch_size)),
      h("div", null, h("strong", { text: "Epochs: " }), `${cfg.epochs}${cfg.epochs === defaultEpochs ? " (default)" : ""}`),
      cfg.share_tower_weights ? h("div", null, h("strong", { text: "Shared tower weights: " }), "yes") : null,
      multitaskLine(cfg),
      h("div", null, h("strong", { text: "Parameters: " }), est.total_params_text || "—"),
      est.params_assumption ? h("div", { class: "tw-muted", text: `(${est.params_assumption})` }) : null,
      h("div", null, h("strong", { text: "Est. Quick Test: " }), est.quick_test_time || "—"));
  }

  /** @param {any} cfg */
  function multitaskLine(cfg) {
    if (cfg.model_type !== "multitask") return null;
    return h("div", null, h("strong", { text: "Loss weights: " }), `Retrieval ${g(cfg.retrieval_weight)} • Ranking ${g(cfg.ranking_weight)}`);
  }

  let shownProblems = "";
  function drawErrors() {
    // Step 1's problems show beside the name field; the list below holds the others.
    const onStep1 = model.get("step") === 1 && !model.get("closed");
    const problems = (model.get("step_errors") || []).filter((/** @type {string} */ m) => !(onStep1 && errorStep(m) === 1));
    rebuild(errorsBox, () => (problems.length
      ? [h("ul", { class: "tw-errors", role: "alert", "aria-label": "Fix these to continue" }, problems.map((/** @type {string} */ m) => h("li", { text: `✗ ${m}` })))]
      : []));
    // New problems (a refused Save, a step that cannot continue) come into view by Save.
    const text = problems.join("\n");
    if (text && text !== shownProblems && typeof errorsBox.scrollIntoView === "function") errorsBox.scrollIntoView({ block: "nearest" });
    shownProblems = text;
  }

  // The command carries the typed text itself: ipywidgets holds a state update back while
  // an earlier one is unanswered (a busy kernel), but sends custom messages at once, so
  // "continue" could otherwise arrive before the name typed just before it.
  async function next() {
    await send("continue", { fields: flushText() });
  }

  // Cancel asks before it throws edits away: the config as it was when the wizard opened.
  const initial = JSON.stringify(model.get("config_data") || {});
  let confirmingCancel = false;
  const cancel = () => {
    flushText();
    if (JSON.stringify(model.get("config_data") || {}) === initial) { send("cancel"); return; }
    confirmingCancel = true;
    drawFooter(() => {
      const keep = /** @type {HTMLElement|null} */ (footer.querySelector('[data-key="keep-editing"]'));
      if (keep) keep.focus();
    });
  };

  /** @param {() => void} [after] runs once the footer is in place */
  function drawFooter(after) {
    const step = model.get("step");
    if (model.get("closed")) { rebuild(footer, () => []); return; }
    if (confirmingCancel) {
      rebuild(footer, () => [
        h("p", { class: "tw-confirm-title", role: "alert", text: "Discard your changes to this configuration?" }),
        h("button", { type: "button", class: "tw-btn", "data-key": "keep-editing", text: "Keep editing", onclick: () => { confirmingCancel = false; drawFooter(); } }),
        h("button", { type: "button", class: "tw-btn tw-btn-danger", "data-key": "discard", text: "Discard changes", onclick: () => { confirmingCancel = false; send("cancel"); } }),
      ], after);
      return;
    }
    rebuild(footer, () => [
      h("button", { type: "button", class: "tw-btn", "data-key": "cancel", text: "Cancel", onclick: cancel }),
      step > 1 ? h("button", { type: "button", class: "tw-btn", "data-key": "back", text: "← Back", onclick: () => send("back") }) : null,
      step < 3
        ? h("button", { type: "button", class: "tw-btn tw-btn-primary", "data-key": "continue", text: "Continue →", disabled: busy, onclick: next })
        : h("button", { type: "button", class: "tw-btn tw-btn-primary", "data-key": "save", text: "Save Config", disabled: busy, onclick: () => send("save", { fields: flushText() }) }),
    ]);
  }

  const drawAll = () => { drawHeader(); drawBody(); drawErrors(); drawFooter(); };
  const offA = listen(model, ["step", "closed", "mode", "saved"], drawAll);
  const offB = listen(model, ["config_data", "estimates", "warnings"], () => { if (model.get("step") !== 2) drawBody(); });
  const offC = listen(model, ["step_errors"], () => { drawErrors(); drawBody(); });
  const onKey = (/** @type {KeyboardEvent} */ e) => {
    if (e.key === "Escape" && !root.querySelector(".tw-modal-overlay") && !root.querySelector(".tw-menu")) {
      // Escape in the wizard itself does nothing destructive; it only leaves text fields.
      const active = /** @type {HTMLElement|null} */ (document.activeElement);
      if (active && root.contains(active) && active.tagName !== "BODY") active.blur();
    }
  };
  root.addEventListener("keydown", onKey);
  drawAll();
  return () => {
    alive = false;
    requests.dispose();
    offA(); offB(); offC();
    root.removeEventListener("keydown", onKey);
    if (timer) clearTimeout(timer);
    unmountBuilder();
    root.remove();
  };
}
