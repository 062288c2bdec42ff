// How values, times and health read on screen.

export const UNAVAILABLE = "unavailable";
export const UNKNOWN = "unknown";

const numberFormat = new Intl.NumberFormat(undefined, { maximumFractionDigits: 1 });
const preciseFormat = new Intl.NumberFormat(undefined, { maximumFractionDigits: 3 });

/** A number if the state is one, else null. */
export function numeric(state) {
  if (state === null || state === undefined || state === "") return null;
  const value = Number(state);
  return Number.isFinite(value) ? value : null;
}

/** A state as text with its unit: `42.5 %`, `on`, `unavailable`. */
export function formatState(state, unit) {
  const value = numeric(state);
  if (value === null) return String(state ?? "—");
  const text = Math.abs(value) < 10 && !Number.isInteger(value) ? preciseFormat.format(value) : numberFormat.format(value);
  return unit ? `${text} ${unit}` : text;
}

export function formatNumber(value) {
  return Math.abs(value) < 10 && !Number.isInteger(value) ? preciseFormat.format(value) : numberFormat.format(value);
}

/** An entity's state as it reads on a card: problems as OK/Problem, a button's state as when it was pressed. */
export function displayState(facts, state) {
  if (state === UNAVAILABLE || state === UNKNOWN) return facts.domain === "button" && state === UNKNOWN ? "" : state;
  if (facts.deviceClass === "problem") return state === "on" ? "Problem" : "OK";
  if (facts.domain === "button") {
    const pressed = Date.parse(state);
    return Number.isNaN(pressed) ? state : `pressed ${ago(pressed / 1000)}`;
  }
  return formatState(state, facts.unit);
}

/** `3 s ago`, `5 min ago`, `2 h ago`, `4 d ago` from epoch seconds. */
export function ago(epochSeconds) {
  if (!epochSeconds) return "";
  const seconds = Math.max(0, Date.now() / 1000 - epochSeconds);
  if (seconds < 60) return `${Math.round(seconds)} s ago`;
  if (seconds < 3600) return `${Math.round(seconds / 60)} min ago`;
  if (seconds < 86400) return `${Math.round(seconds / 3600)} h ago`;
  return `${Math.round(seconds / 86400)} d ago`;
}

/** Seconds as `120 ms` or `1.4 s`. */
export function duration(seconds) {
  if (seconds === null || seconds === undefined) return "—";
  return seconds < 1 ? `${Math.round(seconds * 1000)} ms` : `${formatNumber(seconds)} s`;
}

/** The health class of one entity state: ok, warn, bad or off. */
export function stateHealth(state, unit, deviceClass, domain) {
  if (state === UNAVAILABLE) return "off";
  if (domain === "button") return "ok"; // a button that was never pressed reads `unknown`, as in HA
  if (state === UNKNOWN) return "warn";
  if (deviceClass === "problem") return state === "on" ? "bad" : "ok";
  const value = numeric(state);
  if (unit === "%" && value !== null) return value >= 95 ? "bad" : value >= 85 ? "warn" : "ok";
  return "ok";
}

const RANK = { ok: 0, off: 1, warn: 2, bad: 3 };

/** The worse of two health classes. */
export function worse(a, b) {
  return RANK[b] > RANK[a] ? b : a;
}

/** An integration health status (ok | degraded | failing) as a health class. */
export function integrationHealth(status) {
  return { ok: "ok", degraded: "warn", failing: "bad" }[status] || "off";
}
