// How values, times and health read on screen.

export const UNAVAILABLE = "unavailable";
export const UNKNOWN = "unknown";

const numberFormat = new Intl.NumberFormat(undefined, { maximumFractionDigits: 1 });
const preciseFormat = new Intl.NumberFormat(undefined, { maximumFractionDigits: 2 });

/** A number if the state is one, else null. */
export function numeric(state) {
  if (state === null || state === undefined || state === "") return null;
  const value = Number(state);
  return Number.isFinite(value) ? value : null;
}

const SCALED_UNITS = { B: ["B", "kB", "MB", "GB", "TB"], "B/s": ["B/s", "kB/s", "MB/s", "GB/s", "TB/s"] };

/** The divisor and unit that show `value` of `unit` readably: 1,234,000 B/s as 1.2 MB/s. */
export function scaleFor(unit, value) {
  const scale = SCALED_UNITS[unit];
  let step = 0;
  while (scale && Math.abs(value) >= 1000 ** (step + 1) && step < scale.length - 1) step += 1;
  return { divisor: 1000 ** step, unit: scale ? scale[step] : unit };
}

/** A state as text with its unit: `42.5 %`, `1.2 MB/s`, `on`, `unavailable`. */
export function formatState(state, unit) {
  const value = numeric(state);
  if (value === null) return String(state ?? "—");
  const scaled = scaleFor(unit, value);
  const text = formatNumber(value / scaled.divisor);
  return scaled.unit ? `${text} ${scaled.unit}` : text;
}

/** Seconds as `4 d 3 h`, `2 h 5 min`, `42 s`. */
function longDuration(seconds) {
  const parts = [[86400, "d"], [3600, "h"], [60, "min"], [1, "s"]];
  const found = [];
  let rest = Math.round(seconds);
  for (const [size, name] of parts) {
    if (rest >= size || (size === 1 && !found.length)) {
      found.push(`${Math.floor(rest / size)} ${name}`);
      rest %= size;
    }
    if (found.length === 2) break;
  }
  return found.join(" ");
}

export function formatNumber(value) {
  return Math.abs(value) < 10 && !Number.isInteger(value) ? preciseFormat.format(value) : numberFormat.format(value);
}

/** An entity's state as it reads on a card: problems as OK/Problem, a button's state as when it was pressed. */
export function displayState(facts, state) {
  if (state === UNAVAILABLE || state === UNKNOWN) return facts.domain === "button" && state === UNKNOWN ? "" : state;
  if (facts.deviceClass === "problem") return state === "on" ? "Problem" : "OK";
  if (facts.deviceClass === "duration" && facts.unit === "s" && numeric(state) !== null) {
    return longDuration(numeric(state));
  }
  if (facts.deviceClass === "timestamp" && !Number.isNaN(Date.parse(state))) {
    return new Date(state).toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
  }
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
  if (state === UNKNOWN) return "ok"; // not yet known (a rate before its second reading) is no fault
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
