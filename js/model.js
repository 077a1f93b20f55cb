// Instant previews of what Python computes (summaries and labels). Parameter counts and
// durations are not here: the front end shows the figures Python sends (one estimator).
// tests/vectors/model_configs.json keeps the previews equal to Python's answers.

/** @typedef {{type: "dense", units: number, activation?: string|null, l2_reg?: number}
 *   | {type: "dropout", rate: number} | {type: "batch_norm"}} Layer */

export const ACTIVATION_LABELS = /** @type {Record<string, string>} */ ({
  relu: "ReLU", leaky_relu: "LeakyReLU", gelu: "GELU", tanh: "Tanh", sigmoid: "Sigmoid", null: "Linear",
});
export const TYPE_LABELS = /** @type {Record<string, string>} */ ({
  retrieval: "Retrieval", ranking: "Ranking", multitask: "Multitask",
});
export const TYPE_SUBTITLES = /** @type {Record<string, string>} */ ({
  retrieval: "Two-Tower", ranking: "Rating Head", multitask: "Retrieval + Ranking",
});
export const OPTIMIZER_LABELS = /** @type {Record<string, string>} */ ({
  adagrad: "Adagrad", adam: "Adam", sgd: "SGD",
});

/** Python's `:g` for the numbers we show (0.1, 0.001, 1e-05, 4096). @param {number} x */
export function g(x) {
  if (x === null || x === undefined || Number.isNaN(x)) return "—";
  if (Number.isInteger(x)) return String(x);
  const abs = Math.abs(x);
  if (abs !== 0 && (abs < 1e-4 || abs >= 1e16)) {
    const [m, e] = x.toExponential().split("e");
    const exp = Number(e);
    return `${Number(m).toPrecision(6).replace(/\.?0+$/, "")}e${exp < 0 ? "-" : "+"}${String(Math.abs(exp)).padStart(2, "0")}`;
  }
  return String(Number(x.toPrecision(6)));
}

/** "Dense(128)", "Dropout(0.2)", "BatchNorm". @param {Layer} layer */
export function layerLabel(layer) {
  if (layer.type === "dense") return `Dense(${layer.units})`;
  if (layer.type === "dropout") return `Dropout(${g(layer.rate)})`;
  return "BatchNorm";
}

/** "ReLU • L2: 0.01", "20% drop rate", "Normalize activations". @param {Layer} layer */
export function layerDetail(layer) {
  if (layer.type === "dense") {
    let text = ACTIVATION_LABELS[String(layer.activation ?? null)] ?? String(layer.activation);
    if (layer.l2_reg) text += ` • L2: ${g(layer.l2_reg)}`;
    return text;
  }
  if (layer.type === "dropout") return `${Math.round(layer.rate * 100)}% drop rate`;
  return "Normalize activations";
}

/** @param {Layer[]} layers */
export function denseUnits(layers) {
  return (layers || []).filter((l) => l.type === "dense").map((l) => /** @type {any} */ (l).units);
}

/** "128→64→32" or `empty`. @param {Layer[]} layers @param {string} [empty] */
export function towerSummary(layers, empty = "Empty") {
  const units = denseUnits(layers);
  return units.length ? units.join("→") : empty;
}

/** Index of the last Dense layer (a tower's output layer), or -1. @param {Layer[]} layers */
export function lastDenseIndex(layers) {
  for (let i = (layers || []).length - 1; i >= 0; i -= 1) if (layers[i].type === "dense") return i;
  return -1;
}

/** Both towers have the same layers (needed for weight sharing). @param {any} cfg */
export function towersIdentical(cfg) {
  return JSON.stringify(cfg.buyer_tower_layers) === JSON.stringify(cfg.product_tower_layers);
}

/** "Dense(128) ReLU"-style lines of the configuration summary. @param {Layer[]} layers */
export function layerLines(layers) {
  return (layers || []).map((l) => (l.type === "dense"
    ? `${layerLabel(l)} ${ACTIVATION_LABELS[String(l.activation ?? null)]}`
    : layerLabel(l)));
}
