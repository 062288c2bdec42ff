// One entity: its state, attributes, device, controls and a history chart over 1 h, 24 h or 7 days.

import { renderChart } from "../chart.js";
import { h, mount } from "../dom.js";
import { UNAVAILABLE, ago, displayState, numeric, stateHealth } from "../format.js";
import { controlFor } from "./controls.js";

const HOUR = 3600e3;
const RANGES = [
  { key: "1h", label: "1 h", span: HOUR },
  { key: "24h", label: "24 h", span: 24 * HOUR },
  { key: "7d", label: "7 d", span: 7 * 24 * HOUR, statistics: "hour" },
];
const HIDDEN_ATTRIBUTES = new Set(["friendly_name"]);

export class EntityView {
  constructor(store, app, entityId) {
    this.store = store;
    this.app = app;
    this.entityId = entityId;
    this.range = RANGES[0];
    this.data = null;
    this._load = 0;
    this.el = h("section.entity");
    this._chart = h("div.chart-box");
    this._resize = new ResizeObserver(() => this._draw());
  }

  render() {
    const facts = this.store.describe(this.entityId);
    if (!facts.state) {
      mount(this.el, h("a.back", { href: "#/" }, "← Overview"), h("div.empty", `No entity ${this.entityId}.`));
      return;
    }
    this.facts = facts;
    const device = facts.deviceId ? this.store.devices.get(facts.deviceId) : null;
    this._state = h("div.big-state");
    this._since = h("div.since");
    this._attributes = h("tbody");
    this._control = controlFor(this.store, facts, this.app);
    const tabs = h("div.tabs", { role: "tablist" }, RANGES.map((range) =>
      h("button.tab", {
        type: "button", role: "tab", dataset: { range: range.key },
        onclick: () => this._select(range),
      }, range.label)));
    this._tabs = tabs;
    mount(this.el,
      h("a.back", { href: "#/" }, "← Overview"),
      h("header.entity-head",
        h("div", h("h2", facts.name), h("p.entity-id", facts.id)),
        h("div.entity-state", this._state, this._since, this._control)),
      h("div.panel.chart-panel", h("div.panel-head", h("h3", "History"), tabs), this._chart),
      h("div.panel-grid",
        h("div.panel", h("h3", "Attributes"), h("table.attributes", this._attributes)),
        h("div.panel", h("h3", "Device"), h("table.attributes", h("tbody",
          fact("Device", device ? device.name : "—"),
          fact("Model", device ? [device.manufacturer, device.model].filter(Boolean).join(" ") || "—" : "—"),
          fact("Node", facts.node || "—"),
          fact("Integration", facts.integration || "—"),
          fact("Domain", facts.domain))))));
    this.update();
    this._resize.observe(this._chart);
    this._ticker = setInterval(() => this._paintSince(), 10000);
    this._select(this.range);
  }

  /** Live: the state, attributes and the newest chart point. */
  update(changed) {
    if (changed && !changed.has(this.entityId)) return;
    const state = this.store.entities.get(this.entityId);
    if (!state || !this.facts) return;
    const { unit, deviceClass, domain } = this.facts;
    this._state.textContent = displayState(this.facts, state.state) || "never pressed";
    this._state.className = `big-state h-${stateHealth(state.state, unit, deviceClass, domain)}`;
    this._paintSince();
    this._control?.paint?.(state.state);
    mount(this._attributes, Object.entries(state.attributes)
      .filter(([key]) => !HIDDEN_ATTRIBUTES.has(key))
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([key, value]) => fact(key, typeof value === "object" ? JSON.stringify(value) : String(value))));
    if (this.data && !this.range.statistics) {
      const t = state.last_updated * 1000;
      this.data.points.push({ t, v: numeric(state.state) });
      this.data.states.push({ t, s: state.state });
      this.data.range = { start: Date.now() - this.range.span, end: Date.now() };
      this._draw();
    }
  }

  _paintSince() {
    const state = this.store.entities.get(this.entityId);
    if (state) this._since.textContent = state.state === UNAVAILABLE ? "unavailable" : `changed ${ago(state.last_changed)}`;
  }

  async _select(range) {
    this.range = range;
    for (const tab of this._tabs.children) tab.setAttribute("aria-selected", String(tab.dataset.range === range.key));
    const load = ++this._load;
    mount(this._chart, h("div.chart-empty", "Loading…"));
    try {
      const data = await this._fetch(range);
      if (load !== this._load) return;
      this.data = data;
      this._draw();
    } catch (err) {
      if (load === this._load) mount(this._chart, h("div.chart-empty.error", err.message));
    }
  }

  async _fetch(range) {
    const end = new Date();
    const start = new Date(end.getTime() - range.span);
    const window = { start: start.getTime(), end: end.getTime() };
    if (range.statistics) {
      const rows = await this.app.rest.statistics(this.entityId, range.statistics, start, end).catch(() => []);
      if (rows.length) return { range: window, ...fromStatistics(rows) };
    }
    const rows = await this.app.rest.history(this.entityId, start, end);
    const data = fromHistory(rows, window.start);
    // The recorder commits in batches: the live state may be newer than its last row.
    const current = this.store.entities.get(this.entityId);
    const last = data.states[data.states.length - 1];
    if (current && (!last || current.last_updated * 1000 > last.t) && current.state !== last?.s) {
      const t = current.last_updated * 1000;
      data.points.push({ t, v: numeric(current.state) });
      data.states.push({ t, s: current.state });
    }
    return { range: window, ...data };
  }

  _draw() {
    if (!this.data) return;
    // A state holds until the next change: carry the last value to the right edge of the chart.
    const points = [...this.data.points];
    const last = points[points.length - 1];
    if (!this.data.band.length && last && last.v !== null && last.t < this.data.range.end) {
      points.push({ t: this.data.range.end, v: last.v });
    }
    renderChart(this._chart, { ...this.data, points }, this.data.range, this.facts.unit);
  }

  destroy() {
    clearInterval(this._ticker);
    this._resize.disconnect();
    this._load += 1;
  }
}

function fact(key, value) {
  return h("tr", h("th", key), h("td", value));
}

/** History rows as chart points; the state at `start` is drawn from `start`. */
function fromHistory(rows, start) {
  const points = [];
  const states = [];
  for (const row of rows) {
    const t = Math.max(Date.parse(row.last_changed ?? row.last_updated), start);
    points.push({ t, v: numeric(row.state) });
    states.push({ t, s: row.state });
  }
  return { points, states, band: [] };
}

/** Statistics rows (`start` as ISO text or epoch ms, with mean/min/max) as a line with a min/max band. */
function fromStatistics(rows) {
  const time = (value) => (typeof value === "number" ? (value < 1e12 ? value * 1000 : value) : Date.parse(value));
  const points = rows.map((row) => ({ t: time(row.start), v: row.mean ?? row.state ?? null }));
  const band = rows.filter((row) => row.min !== undefined && row.max !== undefined && row.min !== null)
    .map((row) => ({ t: time(row.start), min: row.min, max: row.max, mean: row.mean }));
  return { points, states: [], band };
}
