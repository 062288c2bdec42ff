// The history chart, drawn by hand as SVG: a line (with a min/max band from statistics) or a state timeline.

import { h, mount, svg } from "./dom.js";
import { formatNumber, scaleFor } from "./format.js";

const MARGIN = { top: 14, right: 14, bottom: 28, left: 56 };
const MINUTE = 60e3;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const TIME_STEPS = [MINUTE, 5 * MINUTE, 10 * MINUTE, 15 * MINUTE, 30 * MINUTE, HOUR, 2 * HOUR, 3 * HOUR, 6 * HOUR,
  12 * HOUR, DAY, 2 * DAY];

/** About `count` round numbers covering [min, max]. */
function niceTicks(min, max, count) {
  if (min === max) {
    const pad = Math.abs(min) * 0.1 || 1;
    min -= pad;
    max += pad;
  }
  const raw = (max - min) / count;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * magnitude).find((s) => s >= raw);
  const ticks = [];
  for (let v = Math.floor(min / step) * step; v <= max + step * 1e-9; v += step) ticks.push(+v.toPrecision(12));
  if (ticks[ticks.length - 1] < max) ticks.push(+(ticks[ticks.length - 1] + step).toPrecision(12));
  return ticks;
}

function timeTicks(start, end, width) {
  const wanted = Math.max(2, Math.floor(width / 62));
  const step = TIME_STEPS.find((s) => (end - start) / s <= wanted) || 7 * DAY;
  const offset = new Date(start).getTimezoneOffset() * MINUTE;
  const ticks = [];
  for (let t = Math.ceil((start - offset) / step) * step + offset; t <= end; t += step) ticks.push(t);
  return { ticks, step };
}

function timeLabel(t, step) {
  const date = new Date(t);
  if (step >= DAY) return date.toLocaleDateString(undefined, { weekday: "short", day: "numeric" });
  return date.toLocaleTimeString(undefined, { hour: "2-digit", minute: "2-digit" });
}

function fullTime(t) {
  return new Date(t).toLocaleString(undefined, { weekday: "short", hour: "2-digit", minute: "2-digit", second: "2-digit" });
}

/**
 * Draw into `container`. `data.points`: [{t, v}] (v null = a gap), `data.band`: [{t, min, max}] or empty,
 * `data.states`: [{t, s}] for non-numeric entities; `range`: {start, end} in ms; `unit` for axis and readout.
 */
export function renderChart(container, data, range, unit) {
  const width = Math.max(container.clientWidth, 280);
  const height = width < 500 ? 200 : 260;
  const numericData = data.points.some((p) => p.v !== null) || data.band.length;
  if (!numericData && !data.states.length) {
    mount(container, h("div.chart-empty", "No history recorded in this range yet."));
    return;
  }
  const draw = numericData ? drawLine : drawTimeline;
  draw(container, data, range, unit, width, height);
}

function frame(width, height, range, yTicks, yScale, unit) {
  const plotWidth = width - MARGIN.left - MARGIN.right;
  const x = (t) => MARGIN.left + ((t - range.start) / (range.end - range.start)) * plotWidth;
  x.invert = (px) => range.start + ((px - MARGIN.left) / plotWidth) * (range.end - range.start);
  const { ticks, step } = timeTicks(range.start, range.end, width - MARGIN.left - MARGIN.right);
  const grid = svg("g", { class: "grid" });
  for (const v of yTicks || []) {
    const y = yScale(v);
    grid.append(svg("line", { x1: MARGIN.left, x2: width - MARGIN.right, y1: y, y2: y }));
    grid.append(svg("text", { x: MARGIN.left - 8, y: y + 4, "text-anchor": "end", class: "axis-label" }, formatNumber(v)));
  }
  for (const t of ticks) {
    grid.append(svg("line", { x1: x(t), x2: x(t), y1: MARGIN.top, y2: height - MARGIN.bottom, class: "vgrid" }));
    grid.append(svg("text", { x: x(t), y: height - 8, "text-anchor": "middle", class: "axis-label" }, timeLabel(t, step)));
  }
  if (unit) grid.append(svg("text", { x: 6, y: MARGIN.top - 2, class: "axis-unit" }, unit));
  return { x, grid };
}

function drawLine(container, data, range, rawUnit, width, height) {
  const values = data.points.filter((p) => p.v !== null).map((p) => p.v);
  for (const b of data.band) values.push(b.min, b.max);
  // Data rates and sizes in readable units: the axis in MB/s rather than millions of B/s.
  const { divisor, unit } = scaleFor(rawUnit, Math.max(...values.map(Math.abs)));
  if (divisor !== 1) {
    data = {
      ...data,
      points: data.points.map((p) => ({ t: p.t, v: p.v === null ? null : p.v / divisor })),
      band: data.band.map((b) => ({ ...b, min: b.min / divisor, max: b.max / divisor, mean: b.mean / divisor })),
    };
    values.splice(0, values.length, ...values.map((v) => v / divisor));
  }
  const yTicks = niceTicks(Math.min(...values), Math.max(...values), height < 220 ? 4 : 5);
  const [lo, hi] = [yTicks[0], yTicks[yTicks.length - 1]];
  const y = (v) => height - MARGIN.bottom - ((v - lo) / (hi - lo)) * (height - MARGIN.top - MARGIN.bottom);
  const { x, grid } = frame(width, height, range, yTicks, y, unit);
  const chart = svg("svg", {
    class: "chart", width, height, viewBox: `0 0 ${width} ${height}`, role: "img",
    "aria-label": `History chart, ${data.points.length} points`, "data-points": data.points.length,
  });
  chart.append(grid);
  if (data.band.length) {
    const top = data.band.map((b) => `${x(b.t).toFixed(1)},${y(b.max).toFixed(1)}`);
    const bottom = data.band.map((b) => `${x(b.t).toFixed(1)},${y(b.min).toFixed(1)}`).reverse();
    chart.append(svg("polygon", { class: "band", points: [...top, ...bottom].join(" ") }));
  }
  const segments = [];
  let current = [];
  for (const p of data.points) {
    if (p.v === null) {
      if (current.length) segments.push(current);
      current = [];
    } else current.push(`${x(p.t).toFixed(1)},${y(p.v).toFixed(1)}`);
  }
  if (current.length) segments.push(current);
  const base = y(Math.max(lo, Math.min(hi, 0)));
  for (const segment of segments) {
    const first = segment[0].split(",")[0];
    const last = segment[segment.length - 1].split(",")[0];
    chart.append(svg("path", { class: "area", d: `M${first},${base} L${segment.join(" L")} L${last},${base} Z` }));
    chart.append(svg("path", { class: "line", d: `M${segment.join(" L")}` }));
  }
  const series = data.points.filter((p) => p.v !== null);
  attachHover(container, chart, width, height, x, (t) => {
    const p = nearest(series.length ? series : data.band.map((b) => ({ t: b.t, v: b.mean ?? b.max })), t);
    if (!p) return null;
    const band = data.band.length ? nearest(data.band, t) : null;
    const extra = band && band.t === p.t ? ` (min ${formatNumber(band.min)}, max ${formatNumber(band.max)})` : "";
    return { t: p.t, y: y(p.v), text: `${formatNumber(p.v)}${unit ? " " + unit : ""}${extra}` };
  });
  mount(container, chart);
}

function nearest(points, t) {
  let lo = 0;
  let hi = points.length - 1;
  if (hi < 0) return null;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (points[mid].t < t) lo = mid + 1;
    else hi = mid;
  }
  if (lo > 0 && Math.abs(points[lo - 1].t - t) < Math.abs(points[lo].t - t)) lo -= 1;
  return points[lo];
}

const TIMELINE_COLORS = 6;

function drawTimeline(container, data, range, _unit, width, height) {
  const barHeight = 36;
  const total = Math.min(height, barHeight + MARGIN.top + MARGIN.bottom + 8);
  const { x, grid } = frame(width, total, range, null, null, "");
  const chart = svg("svg", {
    class: "chart timeline", width, height: total, viewBox: `0 0 ${width} ${total}`, role: "img",
    "aria-label": `State timeline, ${data.states.length} changes`, "data-points": data.states.length,
  });
  chart.append(grid);
  const palette = new Map();
  const colorOf = (s) => {
    if (s === "unavailable" || s === "unknown") return "state-off";
    if (s === "on" || s === "off") return `state-${s}`;
    if (!palette.has(s)) palette.set(s, `state-c${palette.size % TIMELINE_COLORS}`);
    return palette.get(s);
  };
  data.states.forEach((entry, i) => {
    const next = data.states[i + 1]?.t ?? range.end;
    const x0 = x(Math.max(entry.t, range.start));
    chart.append(svg("rect", {
      x: x0, y: MARGIN.top, width: Math.max(1, x(next) - x0), height: barHeight, class: colorOf(entry.s),
    }));
  });
  attachHover(container, chart, width, total, x, (t) => {
    let entry = null;
    for (const candidate of data.states) if (candidate.t <= t) entry = candidate;
    return entry ? { t, y: null, text: entry.s, since: entry.t } : null;
  });
  mount(container, chart);
}

function attachHover(container, chart, width, height, x, lookup) {
  const cursor = svg("line", { class: "cursor", y1: MARGIN.top, y2: height - MARGIN.bottom, visibility: "hidden" });
  const dot = svg("circle", { class: "cursor-dot", r: 4, visibility: "hidden" });
  const overlay = svg("rect", {
    x: MARGIN.left, y: 0, width: width - MARGIN.left - MARGIN.right, height, class: "overlay",
  });
  chart.append(cursor, dot, overlay);
  const tip = h("div.chart-tip", { hidden: true });
  overlay.addEventListener("pointermove", (event) => {
    const box = chart.getBoundingClientRect();
    const px = event.clientX - box.left;
    const hit = lookup(x.invert(px));
    if (!hit) return;
    const cx = x(hit.t);
    cursor.setAttribute("x1", cx);
    cursor.setAttribute("x2", cx);
    cursor.setAttribute("visibility", "visible");
    if (hit.y !== null) {
      dot.setAttribute("cx", cx);
      dot.setAttribute("cy", hit.y);
      dot.setAttribute("visibility", "visible");
    }
    mount(tip, h("strong", hit.text), h("span", hit.since ? `since ${fullTime(hit.since)}` : fullTime(hit.t)));
    tip.hidden = false;
    tip.style.left = `${Math.min(Math.max(cx, 70), width - 70)}px`;
  });
  overlay.addEventListener("pointerleave", () => {
    tip.hidden = true;
    cursor.setAttribute("visibility", "hidden");
    dot.setAttribute("visibility", "hidden");
  });
  queueMicrotask(() => container.append(tip));
}
