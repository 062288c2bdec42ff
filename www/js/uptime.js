// Uptime pictures shared by the Checks page and the public status page: the 90-bar strip, uptime percentages
// and a response-time sparkline, all plain SVG.

import { svg } from "./dom.js";

/** A share of time up (percent, or null when nothing is known) as a health class. */
export function uptimeHealth(percent) {
  if (percent === null || percent === undefined) return "none";
  if (percent >= 99.9) return "ok";
  if (percent >= 99) return "good";
  if (percent >= 95) return "warn";
  return "bad";
}

/** `99.95 %`, `100 %`, or `—` when nothing is known. */
export function percentText(percent) {
  if (percent === null || percent === undefined) return "—";
  if (percent === 100) return "100 %";
  // Rounded down: 99.999 % up is not 100 % up.
  const digits = percent >= 99 ? 2 : 1;
  return `${(Math.floor(percent * 10 ** digits) / 10 ** digits).toFixed(digits)} %`;
}

/** A check status as words a person reads. */
export function statusText(status) {
  return { up: "Up", down: "Down" }[status] || "Pending";
}

function barLabel(start, period) {
  const date = new Date(start);
  const when = period === "hour"
    ? date.toLocaleString(undefined, { weekday: "short", hour: "2-digit", minute: "2-digit" })
    : date.toLocaleDateString(undefined, { month: "short", day: "numeric" });
  return when;
}

/** The strip of bars, oldest left: one per period, coloured by the share of it up, grey where nothing is known. */
export function uptimeStrip(bars, starts, period) {
  const width = 3;
  const gap = 1;
  const el = svg("svg", {
    class: "uptime-strip",
    viewBox: `0 0 ${bars.length * (width + gap) - gap} 24`,
    preserveAspectRatio: "none",
    role: "img",
    "aria-label": `uptime per ${period}, last ${bars.length}`,
  });
  bars.forEach((value, index) => {
    const text = value === null ? "no data" : `${percentText(value)} up`;
    el.append(svg("rect", {
      x: index * (width + gap), y: 0, width, height: 24, rx: 1,
      class: `bar u-${uptimeHealth(value)}`,
    }, svg("title", {}, `${barLabel(starts[index], period)}: ${text}`)));
  });
  return el;
}

/** A small line of numbers (nulls are gaps), scaled to its own range. */
export function sparkline(values, label) {
  const width = 120;
  const height = 28;
  const numbers = values.filter((v) => v !== null && Number.isFinite(v));
  const el = svg("svg", { class: "sparkline", viewBox: `0 0 ${width} ${height}`, preserveAspectRatio: "none", role: "img", "aria-label": label });
  if (numbers.length < 2) return el;
  const min = Math.min(...numbers);
  const max = Math.max(...numbers);
  const span = max - min;
  let path = "";
  let pen = false;
  values.forEach((value, index) => {
    if (value === null || !Number.isFinite(value)) {
      pen = false;
      return;
    }
    const x = (index / (values.length - 1)) * width;
    const y = span ? height - 2 - ((value - min) / span) * (height - 4) : height / 2;  // steady: a line mid-height
    path += `${pen ? "L" : "M"}${x.toFixed(1)},${y.toFixed(1)}`;
    pen = true;
  });
  el.append(svg("path", { d: path, fill: "none", "vector-effect": "non-scaling-stroke" }));
  return el;
}

/** Values of history rows resampled to `count` equal steps over [start, end] (each the last value before it). */
export function resample(rows, start, end, count) {
  const values = [];
  let index = 0;
  let current = null;
  for (let step = 0; step < count; step++) {
    const t = start + ((end - start) * (step + 1)) / count;
    while (index < rows.length && rows[index].t <= t) current = rows[index++].v;
    values.push(current);
  }
  return values;
}
