// A small dependency-free SVG line chart: scales, nice ticks, paths, markers, and a focusable
// point per value with a tooltip (arrow keys move between points). Built with createElementNS
// and textContent only; colours come from CSS (theme-aware) with Okabe–Ito attribute fallbacks.
import { g } from "./model.js";

export const SVG_NS = "http://www.w3.org/2000/svg";

/**
 * Series styles by position: colour (Okabe–Ito, ordered for contrast on white), dash
 * pattern and marker, so lines differ by shape too, not only by colour.
 * @type {{color: string, dash: string, marker: string}[]}
 */
export const SERIES_STYLES = [
  { color: "#0072B2", dash: "", marker: "circle" },
  { color: "#D55E00", dash: "6 3", marker: "square" },
  { color: "#009E73", dash: "2 3", marker: "triangle" },
  { color: "#CC79A7", dash: "8 3 2 3", marker: "diamond" },
  { color: "#E69F00", dash: "4 4", marker: "triangle-down" },
  { color: "#56B4E9", dash: "10 4", marker: "plus" },
  { color: "#000000", dash: "1 3", marker: "cross" },
  { color: "#F0E442", dash: "12 3 3 3", marker: "star" },
];

/** @param {number} index */
export const seriesStyle = (index) => SERIES_STYLES[((index % SERIES_STYLES.length) + SERIES_STYLES.length) % SERIES_STYLES.length];

/**
 * A linear map from `domain` to `range` (a zero-width domain maps to the range's middle).
 * @param {[number, number]} domain @param {[number, number]} range
 * @returns {(v: number) => number}
 */
export function linearScale([d0, d1], [r0, r1]) {
  const span = d1 - d0;
  return (v) => (span === 0 ? (r0 + r1) / 2 : r0 + ((v - d0) / span) * (r1 - r0));
}

/**
 * A "nice" step (1, 2 or 5 × 10^k) giving about `count` intervals over `span`.
 * @param {number} span @param {number} count
 */
export function niceStep(span, count) {
  const raw = span / Math.max(1, count);
  const power = 10 ** Math.floor(Math.log10(raw));
  const fraction = raw / power;
  const nice = fraction <= 1 ? 1 : fraction <= 2 ? 2 : fraction <= 5 ? 5 : 10;
  return nice * power;
}

/**
 * Ticks at nice round values covering [min, max]; the domain widens to the outer ticks.
 * A single value gets a small band around it. `integer` keeps steps ≥ 1 (epochs).
 * @param {number} min @param {number} max @param {{count?: number, integer?: boolean}} [opts]
 * @returns {{ticks: number[], domain: [number, number], step: number}}
 */
export function niceTicks(min, max, { count = 5, integer = false } = {}) {
  if (min > max) [min, max] = [max, min];
  if (min === max) {
    const pad = integer ? 1 : (Math.abs(min) || 1) * 0.1;
    min -= pad;
    max += pad;
  }
  let step = niceStep(max - min, count);
  if (integer) step = Math.max(1, Math.round(step));
  const start = Math.floor(min / step + 1e-9) * step;
  const stop = Math.ceil(max / step - 1e-9) * step;
  const ticks = [];
  const decimals = Math.max(0, -Math.floor(Math.log10(step)));
  for (let v = start, i = 0; v <= stop + step * 1e-9 && i < 100; i += 1, v = start + i * step) {
    ticks.push(Number(v.toFixed(decimals)));
  }
  return { ticks, domain: [ticks[0], ticks[ticks.length - 1]], step };
}

/** Round to 2 decimals for compact, stable path text. @param {number} v */
const r2 = (v) => Math.round(v * 100) / 100;

/**
 * An SVG path through points: "M x,y L x,y …".
 * @param {[number, number][]} points @param {(v: number) => number} x @param {(v: number) => number} y
 */
export function linePath(points, x, y) {
  return points.map(([px, py], i) => `${i ? "L" : "M"}${r2(x(px))},${r2(y(py))}`).join(" ");
}

/**
 * A marker outline centred on (cx, cy) with radius r, as path data.
 * @param {string} shape @param {number} cx @param {number} cy @param {number} [r]
 */
export function markerPath(shape, cx, cy, r = 4) {
  /** @param {[number, number][]} pts */
  const poly = (pts) => `${pts.map(([dx, dy], i) => `${i ? "L" : "M"}${r2(cx + dx)},${r2(cy + dy)}`).join(" ")} Z`;
  switch (shape) {
    case "square": return poly([[-r, -r], [r, -r], [r, r], [-r, r]]);
    case "triangle": return poly([[0, -r * 1.2], [r * 1.1, r * 0.8], [-r * 1.1, r * 0.8]]);
    case "triangle-down": return poly([[0, r * 1.2], [r * 1.1, -r * 0.8], [-r * 1.1, -r * 0.8]]);
    case "diamond": return poly([[0, -r * 1.3], [r * 1.1, 0], [0, r * 1.3], [-r * 1.1, 0]]);
    case "plus": {
      const t = r / 3;
      return poly([[-t, -r], [t, -r], [t, -t], [r, -t], [r, t], [t, t], [t, r], [-t, r], [-t, t], [-r, t], [-r, -t], [-t, -t]]);
    }
    case "cross": {
      const t = r / 2.5;
      return poly([[-r, -r + t], [-r + t, -r], [0, -t], [r - t, -r], [r, -r + t], [t, 0], [r, r - t], [r - t, r], [0, t], [-r + t, r], [-r, r - t], [-t, 0]]);
    }
    case "star": {
      /** @type {[number, number][]} */
      const pts = [];
      for (let i = 0; i < 10; i += 1) {
        const a = -Math.PI / 2 + (i * Math.PI) / 5;
        const rr = i % 2 ? r * 0.5 : r * 1.3;
        pts.push([rr * Math.cos(a), rr * Math.sin(a)]);
      }
      return poly(pts);
    }
    default: // circle, as two arcs
      return `M${r2(cx - r)},${r2(cy)} a${r},${r} 0 1,0 ${2 * r},0 a${r},${r} 0 1,0 ${-2 * r},0 Z`;
  }
}

/** A value as people read it exactly enough: up to 6 significant digits (Python's :g). @param {number} v */
export const formatValue = (v) => g(v);

/**
 * @param {string} tag @param {Record<string, string|number>} [attrs] @param {string} [text]
 * @returns {SVGElement}
 */
export function svg(tag, attrs = {}, text) {
  const el = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  if (text !== undefined) el.textContent = text;
  return /** @type {SVGElement} */ (el);
}

/**
 * A small legend swatch: the series' line (dash pattern) with its marker.
 * @param {number} index
 */
export function swatch(index) {
  const style = seriesStyle(index);
  const el = svg("svg", { width: 30, height: 12, viewBox: "0 0 30 12", class: `tw-swatch tw-series tw-series-${index % SERIES_STYLES.length}`, "aria-hidden": "true", focusable: "false" });
  el.appendChild(svg("line", { x1: 1, y1: 6, x2: 29, y2: 6, class: "tw-chart-line", stroke: style.color, "stroke-width": 2, ...(style.dash ? { "stroke-dasharray": style.dash } : {}) }));
  el.appendChild(svg("path", { d: markerPath(style.marker, 15, 6, 3.5), class: "tw-chart-marker", fill: style.color, stroke: style.color }));
  return el;
}

/**
 * @typedef {{label: string, index: number, points: [number, number][]}} Series
 * @typedef {{title: string, xLabel: string, yLabel: string, series: Series[],
 *   width?: number, height?: number, note?: string}} ChartSpec
 * @typedef {{x: number, y: number, sx: number, sy: number, series: number, i: number, el: SVGElement}} Point
 */

export const MARGIN = { top: 14, right: 16, bottom: 42, left: 60 };

/**
 * The chart's geometry without any DOM: scales, ticks and the pixel position of every point
 * (what the tests check against known data).
 * @param {ChartSpec} spec
 */
export function layout(spec) {
  const width = spec.width || 380;
  const height = spec.height || 230;
  const all = spec.series.flatMap((s) => s.points);
  const xs = all.map((p) => p[0]);
  const ys = all.map((p) => p[1]);
  const xt = all.length ? niceTicks(Math.min(...xs), Math.max(...xs), { count: 6, integer: true }) : niceTicks(1, 2, { integer: true });
  const yt = all.length ? niceTicks(Math.min(...ys), Math.max(...ys), { count: 5 }) : niceTicks(0, 1);
  const plot = { left: MARGIN.left, right: width - MARGIN.right, top: MARGIN.top, bottom: height - MARGIN.bottom };
  const x = linearScale(xt.domain, [plot.left, plot.right]);
  const y = linearScale(yt.domain, [plot.bottom, plot.top]);
  return { width, height, plot, x, y, xTicks: xt.ticks, yTicks: yt.ticks };
}

/**
 * Tooltip text of one point: run label, epoch, metric and the exact value.
 * @param {string} seriesLabel @param {string} metricLabel @param {number} epoch @param {number} value
 */
export function tooltipText(seriesLabel, metricLabel, epoch, value) {
  return [seriesLabel, `Epoch ${epoch}`, `${metricLabel}: ${formatValue(value)}`];
}

/**
 * Render one line chart into a new element. Points are focusable (one tab stop per chart;
 * arrows move: ←/→ along the line, ↑/↓ to the other runs at the same epoch, Home/End);
 * hover or focus shows a tooltip with the exact value.
 * @param {ChartSpec} spec
 * @returns {{el: HTMLElement, cleanup: () => void, points: Point[]}}
 */
export function lineChart(spec) {
  const geo = layout(spec);
  const { width, height, plot, x, y } = geo;
  const wrap = document.createElement("figure");
  wrap.className = "tw-chart";
  const caption = document.createElement("figcaption");
  caption.className = "tw-chart-title";
  caption.textContent = spec.title;
  if (spec.note) {
    const note = document.createElement("span");
    note.className = "tw-muted tw-chart-note";
    note.textContent = ` (${spec.note})`;
    caption.appendChild(note);
  }
  const area = document.createElement("div");
  area.className = "tw-chart-area";
  const root = svg("svg", { viewBox: `0 0 ${width} ${height}`, class: "tw-chart-svg", role: "group", "aria-label": `${spec.title}: ${spec.yLabel} by ${spec.xLabel.toLowerCase()}, one line per run` });

  // grid and axes
  const axes = svg("g", { class: "tw-chart-axes", "aria-hidden": "true" });
  for (const t of geo.yTicks) {
    const py = r2(y(t));
    axes.appendChild(svg("line", { x1: plot.left, x2: plot.right, y1: py, y2: py, class: "tw-chart-gridline" }));
    axes.appendChild(svg("text", { x: plot.left - 6, y: py, class: "tw-chart-tick tw-chart-ytick", "text-anchor": "end", "dominant-baseline": "middle" }, formatValue(t)));
  }
  for (const t of geo.xTicks) {
    const px = r2(x(t));
    axes.appendChild(svg("line", { x1: px, x2: px, y1: plot.bottom, y2: plot.bottom + 4, class: "tw-chart-axis" }));
    axes.appendChild(svg("text", { x: px, y: plot.bottom + 16, class: "tw-chart-tick tw-chart-xtick", "text-anchor": "middle" }, String(t)));
  }
  axes.appendChild(svg("line", { x1: plot.left, x2: plot.right, y1: plot.bottom, y2: plot.bottom, class: "tw-chart-axis" }));
  axes.appendChild(svg("line", { x1: plot.left, x2: plot.left, y1: plot.top, y2: plot.bottom, class: "tw-chart-axis" }));
  axes.appendChild(svg("text", { x: (plot.left + plot.right) / 2, y: height - 6, class: "tw-chart-axis-label tw-chart-xlabel", "text-anchor": "middle" }, spec.xLabel));
  axes.appendChild(svg("text", { x: 0, y: 0, class: "tw-chart-axis-label tw-chart-ylabel", "text-anchor": "middle", transform: `translate(14 ${r2((plot.top + plot.bottom) / 2)}) rotate(-90)` }, spec.yLabel));
  root.appendChild(axes);

  /** @type {Point[][]} */
  const bySeries = [];
  for (const s of spec.series) {
    const style = seriesStyle(s.index);
    const group = svg("g", { class: `tw-series tw-series-${s.index % SERIES_STYLES.length}`, "data-series": s.index, role: "list", "aria-label": s.label });
    if (s.points.length > 1) {
      group.appendChild(svg("path", { d: linePath(s.points, x, y), class: "tw-chart-line", fill: "none", stroke: style.color, "stroke-width": 2, ...(style.dash ? { "stroke-dasharray": style.dash } : {}), "aria-hidden": "true" }));
    }
    /** @type {Point[]} */
    const pts = [];
    s.points.forEach(([px, py], i) => {
      const sx = r2(x(px));
      const sy = r2(y(py));
      const lines = tooltipText(s.label, spec.yLabel, px, py);
      const el = svg("path", {
        d: markerPath(style.marker, sx, sy), class: "tw-chart-point tw-chart-marker", fill: style.color, stroke: style.color,
        tabindex: -1, role: "listitem", "aria-label": lines.join(", "), "data-epoch": px, "data-value": py,
      });
      group.appendChild(el);
      pts.push({ x: px, y: py, sx, sy, series: bySeries.length, i, el });
    });
    bySeries.push(pts);
    root.appendChild(group);
  }
  area.appendChild(root);

  const tip = document.createElement("div");
  tip.className = "tw-chart-tip";
  tip.setAttribute("aria-hidden", "true"); // the focused point's own label is what is read
  tip.hidden = true;
  area.appendChild(tip);
  wrap.append(caption, area);

  const points = bySeries.flat();
  /** @type {Point|null} */
  let current = points[0] || null;
  if (current) current.el.setAttribute("tabindex", "0");

  /** @param {Point} p */
  function showTip(p) {
    const s = spec.series[p.series];
    tip.replaceChildren(...tooltipText(s.label, spec.yLabel, p.x, p.y).map((line, i) => {
      const div = document.createElement("div");
      div.className = i === 0 ? "tw-chart-tip-run" : i === 2 ? "tw-chart-tip-value" : "tw-chart-tip-epoch";
      div.textContent = line;
      return div;
    }));
    tip.style.left = `${(p.sx / width) * 100}%`;
    tip.style.top = `${(p.sy / height) * 100}%`;
    tip.classList.toggle("tw-chart-tip-left", p.sx > width * 0.6);
    tip.hidden = false;
    for (const q of points) q.el.classList.toggle("tw-chart-point-active", q === p);
  }
  function hideTip() {
    tip.hidden = true;
    for (const q of points) q.el.classList.remove("tw-chart-point-active");
  }
  /** @param {Point} p */
  function move(p) {
    if (current) current.el.setAttribute("tabindex", "-1");
    current = p;
    p.el.setAttribute("tabindex", "0");
    /** @type {any} */ (p.el).focus();
  }
  /** @param {Element|null} el */
  const pointOf = (el) => points.find((p) => p.el === el) || null;

  /** @param {Point} p @param {number} dir */
  function neighbourSeries(p, dir) {
    for (let k = 1; k < bySeries.length; k += 1) {
      const line = bySeries[(p.series + dir * k + bySeries.length * k) % bySeries.length];
      if (!line.length) continue;
      const same = line.find((q) => q.x === p.x);
      if (same) return same;
      return line.reduce((a, b) => (Math.abs(b.x - p.x) < Math.abs(a.x - p.x) ? b : a));
    }
    return null;
  }

  /** @param {Event} e */
  const onKey = (e) => {
    const ke = /** @type {KeyboardEvent} */ (e);
    const p = pointOf(/** @type {Element} */ (ke.target));
    if (!p) return;
    const line = bySeries[p.series];
    /** @type {Point|null|undefined} */
    let next = null;
    if (ke.key === "ArrowRight") next = line[p.i + 1];
    else if (ke.key === "ArrowLeft") next = line[p.i - 1];
    else if (ke.key === "ArrowDown") next = neighbourSeries(p, 1);
    else if (ke.key === "ArrowUp") next = neighbourSeries(p, -1);
    else if (ke.key === "Home") next = line[0];
    else if (ke.key === "End") next = line[line.length - 1];
    else if (ke.key === "Escape") { hideTip(); return; }
    else return;
    ke.preventDefault();
    if (next) move(next);
  };
  /** @param {Event} e */
  const onFocus = (e) => { const p = pointOf(/** @type {Element} */ (e.target)); if (p) { if (current !== p) move(p); showTip(p); } };
  /** @param {Event} e */
  const onOver = (e) => { const p = pointOf(/** @type {Element} */ (e.target)); if (p) showTip(p); };
  const onOut = () => { if (!root.contains(document.activeElement)) hideTip(); };
  /** @param {Event} e */
  const onBlur = (e) => { const to = /** @type {FocusEvent} */ (e).relatedTarget; if (!to || !pointOf(/** @type {Element} */ (to))) hideTip(); };
  /** @type {[EventTarget, string, (e: Event) => void][]} */
  const bound = [[root, "keydown", onKey], [root, "mouseover", onOver], [root, "mouseleave", onOut]];
  for (const p of points) bound.push([p.el, "focus", onFocus], [p.el, "blur", onBlur]);
  for (const [target, type, fn] of bound) target.addEventListener(type, fn);
  const cleanup = () => {
    for (const [target, type, fn] of bound) target.removeEventListener(type, fn);
    wrap.remove();
  };
  return { el: wrap, cleanup, points };
}
