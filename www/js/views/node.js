// A node's page: a chart of each of its host's figures over 1 h, 24 h (history) or 7 d, 30 d (hourly statistics),
// all from one request per range, with hover read-outs; and its containers as a table with confirmed controls.

import { renderChart } from "../chart.js";
import { h, mount } from "../dom.js";
import { UNAVAILABLE, ago, formatState, numeric } from "../format.js";
import { resample, sparkline } from "../uptime.js";
import { controlFor } from "./controls.js";

const HOUR = 3600e3;
const RANGES = [
  { key: "1h", label: "1 h", span: HOUR },
  { key: "24h", label: "24 h", span: 24 * HOUR },
  { key: "7d", label: "7 d", span: 7 * 24 * HOUR, statistics: "hour" },
  { key: "30d", label: "30 d", span: 30 * 24 * HOUR, statistics: "hour" },
];
const CONTAINER_FIELDS = ["state", "health", "cpu", "memory", "network_rx", "network_tx", "restarts", "started"];

export class NodeView {
  constructor(store, app, node) {
    this.store = store;
    this.app = app;
    this.node = node;
    this.range = RANGES[0];
    this.el = h("section.node-page");
    this._load = 0;
    this._boxes = new Map();
    this._data = new Map();
    this._resize = new ResizeObserver(() => this._drawAll());
  }

  /** The node's host figures: numeric sensors with a unit on the node's own device. */
  _figures() {
    return [...this.store.entities.keys()]
      .map((id) => this.store.describe(id))
      .filter((f) => f.deviceId === this.node && f.domain === "sensor" && f.unit && f.deviceClass !== "timestamp")
      .sort((a, b) => a.name.localeCompare(b.name));
  }

  /** Containers: devices connected via this node whose entities are docker's. */
  _containers() {
    const prefix = `${this.node}_docker_`;
    return [...this.store.devices.values()]
      .filter((device) => device.via_device_id === this.node && device.id.startsWith(prefix))
      .map((device) => ({ device, name: device.id.slice(prefix.length) }))
      .sort((a, b) => a.name.localeCompare(b.name));
  }

  render() {
    const figures = this._figures();
    if (!figures.length && !this._containers().length) {
      mount(this.el, h("a.back", { href: "#/" }, "← Fleet"), h("div.empty", `No figures of a node named ${this.node}.`));
      return;
    }
    this._tabs = h("div.tabs", { role: "tablist" }, RANGES.map((range) =>
      h("button.tab", { type: "button", role: "tab", dataset: { range: range.key }, onclick: () => this._select(range) }, range.label)));
    this._boxes = new Map(figures.map((f) => [f.id, h("div.chart-box")]));
    this._containersBody = h("tbody");
    const cpu = this.store.entities.get(`sensor.${this.node}_cpu_percent`);
    const offline = cpu?.state === UNAVAILABLE;
    mount(this.el,
      h("a.back", { href: "#/" }, "← Fleet"),
      h("header.entity-head",
        h("div", h("h2", this.node), h("p.entity-id", offline ? `offline, last seen ${ago(cpu.last_changed)}` : cpu ? "online" : "no host figures")),
        this._tabs),
      h("div.node-charts", figures.map((f) => h("div.panel.node-chart", { dataset: { entity: f.id } },
        h("div.panel-head", h("h3", f.name.startsWith(`${this.node} `) ? f.name.slice(this.node.length + 1) : f.name),
          h("a.check-sub", { href: `#/entity/${encodeURIComponent(f.id)}` }, "details")),
        this._boxes.get(f.id)))),
      this._containers().length ? h("div.panel.table-panel.containers-panel", h("h3.panel-title", "Containers"),
        h("table.checks-table.containers-table",
          h("thead", h("tr", ["Container", "State", "Health", "CPU", "Memory", "Network", "Restarts", "Up", "CPU (1 h)", ""].map((label) => h("th", label)))),
          this._containersBody)) : null);
    for (const box of this._boxes.values()) this._resize.observe(box);
    this._paintContainers();
    this._select(this.range);
  }

  structure() {
    this.render();
  }

  update(changed) {
    if (changed && [...changed].some((id) => id.startsWith(`sensor.${this.node}_docker_`) || id.startsWith(`switch.${this.node}_docker_`))) {
      this._paintContainers();
    }
  }

  _value(id) {
    return this.store.entities.get(id)?.state;
  }

  _paintContainers() {
    if (!this._containersBody) return;
    mount(this._containersBody, this._containers().map(({ name }) => {
      const id = (field) => `sensor.${this.node}_docker_${name}_${field}`;
      const started = Date.parse(this._value(id("started")));
      const rx = numeric(this._value(id("network_rx")));
      const tx = numeric(this._value(id("network_tx")));
      const controls = [`switch.${this.node}_docker_${name}_running`, `button.${this.node}_docker_${name}_restart`]
        .filter((entityId) => this.store.entities.has(entityId))
        .map((entityId) => controlFor(this.store, this.store.describe(entityId), this.app));
      const state = this._value(id("state")) ?? "—";
      return h("tr", { dataset: { container: name } },
        h("td", h("div.check-name", h(`span.dot.h-${state === "running" ? "ok" : state === UNAVAILABLE ? "off" : "bad"}`), h("span.check-link", name))),
        h("td", state),
        h("td", this._value(id("health")) ?? "—"),
        h("td.num", formatState(this._value(id("cpu")) ?? "—", "%")),
        h("td.num", formatState(this._value(id("memory")) ?? "—", "B")),
        h("td.num", rx === null && tx === null ? "—" : `↓ ${formatState(String(rx ?? 0), "B/s")} ↑ ${formatState(String(tx ?? 0), "B/s")}`),
        h("td.num", this._value(id("restarts")) ?? "—"),
        h("td.num", Number.isNaN(started) ? "—" : ago(started / 1000).replace(" ago", "")),
        h("td", sparkline(this._containerSpark?.get(id("cpu")) || [], `${name} CPU, last hour`)),
        h("td", h("div.container-controls", controls)));
    }));
  }

  async _select(range) {
    this.range = range;
    for (const tab of this._tabs.children) tab.setAttribute("aria-selected", String(tab.dataset.range === range.key));
    const load = ++this._load;
    const ids = [...this._boxes.keys()];
    for (const box of this._boxes.values()) mount(box, h("div.chart-empty", "Loading…"));
    const end = new Date();
    const start = new Date(end.getTime() - range.span);
    try {
      const [series, containers] = await Promise.all([
        range.statistics
          ? this.app.rest.statisticsMany(ids, range.statistics, start, end)
          : this.app.rest.historyMany(ids.join(","), start, end),
        this._containerSpark ? null : this.app.rest.historyMany(`sensor.${this.node}_docker_*_cpu`, new Date(end - HOUR), end),
      ]);
      if (load !== this._load) return;
      if (containers) {
        this._containerSpark = new Map([...containers].map(([id, rows]) => [id, resample(rows, end - HOUR, end.getTime(), 30)]));
        this._paintContainers();
      }
      this._window = { start: start.getTime(), end: end.getTime() };
      const empty = { points: [], band: [], states: [] };
      this._data = new Map(ids.map((id) => [id, range.statistics
        ? series.get(id) || empty
        : { points: series.get(id) || [], band: [], states: [] }]));
      this._drawAll();
    } catch (err) {
      if (load === this._load) for (const box of this._boxes.values()) mount(box, h("div.chart-empty.error", err.message));
    }
  }

  _drawAll() {
    if (!this._window) return;
    for (const [id, box] of this._boxes) {
      const data = this._data.get(id);
      if (!data) continue;
      const points = [...data.points];
      const last = points[points.length - 1];
      if (!data.band.length && last && last.v !== null && last.t < this._window.end) points.push({ t: this._window.end, v: last.v });
      renderChart(box, { ...data, points }, this._window, this.store.describe(id).unit);
    }
  }

  destroy() {
    this._resize.disconnect();
    this._load += 1;
  }
}
