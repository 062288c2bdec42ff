// The fleet overview, the landing page: one row per node (this hub and every node it ingests) with its status,
// CPU, memory, disk and network as bars with a one-hour sparkline each, uptime, containers, checks and alerts;
// sortable, filterable and live. The sparklines come from one history request for the whole fleet.

import { h, mount } from "../dom.js";
import { UNAVAILABLE, ago, formatState, numeric, stateHealth } from "../format.js";
import { resample, sparkline } from "../uptime.js";

const HOUR = 3600e3;
const SPARK_STEPS = 30;
const SPARK_REFRESH_MS = 60e3;
const HISTORY_FILTER = "sensor.*_cpu_percent,sensor.*_memory_percent,sensor.*_disk_*_percent,sensor.*_network_*_rx,sensor.*_network_*_tx";
const COLUMNS = [
  { key: "node", label: "Node" },
  { key: "cpu", label: "CPU" },
  { key: "memory", label: "Memory" },
  { key: "disk", label: "Disk" },
  { key: "network", label: "Network" },
  { key: "uptime", label: "Up" },
  { key: "containers", label: "Containers" },
  { key: "checks", label: "Checks" },
  { key: "alerts", label: "Alerts" },
];

/** Entity ids by the node whose name prefixes their object id (the longest such node), in one pass. */
function byNode(ids, nodes) {
  const longestFirst = [...nodes].sort((a, b) => b.length - a.length);
  const groups = new Map(nodes.map((node) => [node, []]));
  for (const id of ids) {
    const object = id.slice(id.indexOf(".") + 1);
    const node = longestFirst.find((candidate) => object.startsWith(`${candidate}_`));
    if (node) groups.get(node).push(id);
  }
  return groups;
}

/** The figures of one node, read from the store's live states by the entity ids system_info and docker give. */
function nodeFigures(store, node, ids) {
  const state = (id) => store.entities.get(id);
  const value = (id) => numeric(state(id)?.state);
  const prefix = `${node}_`;
  const mine = (domain, test) => ids.filter((id) => id.startsWith(`${domain}.${prefix}`) && test(id.slice(domain.length + 1 + prefix.length)));
  const disks = mine("sensor", (rest) => /^disk_.+_percent$/.test(rest));
  const busiest = disks.reduce((best, id) => ((value(id) ?? -1) > (value(best) ?? -1) ? id : best), disks[0] || null);
  const rates = mine("sensor", (rest) => /^network_.+_(rx|tx)$/.test(rest));
  const network = rates.reduce((sum, id) => sum + (value(id) ?? 0), 0);
  const cpu = state(`sensor.${prefix}cpu_percent`);
  const boot = state(`sensor.${prefix}boot_time`);
  const checks = mine("binary_sensor", (rest) => rest.startsWith("check_"));
  const up = checks.filter((id) => state(id)?.state === "on").length;
  const alerts = [...store.entities.entries()].filter(([id, s]) => id.startsWith("binary_sensor.alert_") && s.state === "on"
    && (s.attributes?.entities || []).some((watched) => watched.slice(watched.indexOf(".") + 1).startsWith(prefix)));
  return {
    node,
    offline: cpu?.state === UNAVAILABLE,
    reporting: Boolean(cpu),
    lastSeen: cpu ? cpu.last_changed : null,
    cpu: value(`sensor.${prefix}cpu_percent`),
    cpuId: `sensor.${prefix}cpu_percent`,
    memory: value(`sensor.${prefix}memory_percent`),
    memoryId: `sensor.${prefix}memory_percent`,
    disk: busiest ? value(busiest) : null,
    diskId: busiest,
    diskName: busiest ? busiest.slice(`sensor.${prefix}disk_`.length, -"_percent".length) : null,
    network: rates.length ? network : null,
    networkIds: rates,
    uptime: boot && !Number.isNaN(Date.parse(boot.state)) ? (Date.now() - Date.parse(boot.state)) / 1000 : null,
    containers: value(`sensor.${prefix}docker_containers_running`),
    containersTotal: value(`sensor.${prefix}docker_containers_total`),
    checksUp: up,
    checksTotal: checks.length,
    alerts: alerts.length,
  };
}

/** `3 d`, `5 h`, `12 min`. */
function uptimeText(seconds) {
  if (seconds === null) return "—";
  if (seconds >= 86400) return `${Math.floor(seconds / 86400)} d`;
  if (seconds >= 3600) return `${Math.floor(seconds / 3600)} h`;
  return `${Math.max(1, Math.floor(seconds / 60))} min`;
}

export class FleetView {
  constructor(store, app) {
    this.store = store;
    this.app = app;
    this.sort = { key: "node", descending: false };
    this.text = "";
    this.el = h("section.fleet");
    this._series = new Map(); // entity id -> resampled values of the last hour
    this._rows = new Map(); // node -> row
  }

  /** Every node (the roots of the device registry's via_device chains) that has entities, with their ids. */
  nodes() {
    const found = new Set();
    for (const device of this.store.devices.values()) {
      if (!device.via_device_id) found.add(device.id);
    }
    if (this.store.node) found.add(this.store.node);
    const groups = byNode([...this.store.entities.keys()], [...found]);
    return [...groups].filter(([, ids]) => ids.length);
  }

  render() {
    this._search = h("input.search", {
      type: "search", placeholder: "Filter the fleet by name", "aria-label": "Fleet filter",
      oninput: (event) => { this.text = event.target.value.trim().toLowerCase(); this._paint(); },
    });
    this._head = h("tr", COLUMNS.map((column) => h("th", {
      scope: "col", dataset: { sort: column.key },
      onclick: () => this._sortBy(column.key),
    }, column.label)));
    this._body = h("tbody");
    this._summary = h("span.summary");
    mount(this.el,
      h("div.toolbar", this._search, this._summary),
      h("div.panel.table-panel", h("table.checks-table.fleet-table", h("thead", this._head), this._body)));
    this._paint();
    this._loadSparklines();
    this._timer = setInterval(() => this._loadSparklines(), SPARK_REFRESH_MS);
    this._ticker = setInterval(() => this._paint(), 30e3); // "last seen" and uptime move with time
  }

  structure() {
    this._paint();
  }

  update() {
    this._paint();
  }

  _sortBy(key) {
    this.sort = { key, descending: this.sort.key === key ? !this.sort.descending : key !== "node" };
    this._paint();
  }

  _paint() {
    const figures = this.nodes().map(([node, ids]) => nodeFigures(this.store, node, ids))
      .filter((f) => !this.text || f.node.toLowerCase().includes(this.text));
    const { key, descending } = this.sort;
    const sortValue = (f) => (key === "node" ? f.node : key === "checks" ? f.checksTotal - f.checksUp : f[key] ?? -1);
    figures.sort((a, b) => {
      const [x, y] = [sortValue(a), sortValue(b)];
      const order = typeof x === "string" ? x.localeCompare(y) : x - y;
      return descending ? -order : order;
    });
    for (const th of this._head.children) {
      th.setAttribute("aria-sort", th.dataset.sort === key ? (descending ? "descending" : "ascending") : "none");
    }
    const offline = figures.filter((f) => f.offline).length;
    this._summary.textContent = `${figures.length} node${figures.length === 1 ? "" : "s"}${offline ? `, ${offline} offline` : ""}`;
    mount(this._body, figures.length
      ? figures.map((f) => this._row(f))
      : h("tr", h("td.empty", { colSpan: COLUMNS.length }, "No node reports yet: system_info gives this hub's figures within its interval.")));
  }

  _row(f) {
    const status = f.offline
      ? h("div.check-sub.h-bad", `offline, last seen ${ago(f.lastSeen)}`)
      : h("div.check-sub", f.reporting ? "online" : "no host figures (no system_info)");
    return h("tr.fleet-row", { dataset: { node: f.node } },
      h("td", h("div.check-name",
        h(`span.dot.h-${f.offline ? "bad" : !f.reporting ? "off" : f.alerts ? "warn" : "ok"}`),
        h("div", h("a.check-link", { href: `#/node/${encodeURIComponent(f.node)}` }, f.node), status))),
      this._gauge(f.cpu, "%", f.cpuId, "cpu"),
      this._gauge(f.memory, "%", f.memoryId, "memory"),
      this._gauge(f.disk, "%", f.diskId, "disk", f.diskName),
      this._rate(f),
      h("td.num", uptimeText(f.uptime)),
      h("td.num", f.containersTotal === null ? "—" : `${f.containers ?? 0} / ${f.containersTotal}`),
      h(`td.num.h-${f.checksTotal && f.checksUp < f.checksTotal ? "bad" : "ok"}`, f.checksTotal ? `${f.checksUp} / ${f.checksTotal} up` : "—"),
      h(`td.num.h-${f.alerts ? "bad" : "ok"}`, f.alerts ? `${f.alerts} firing` : "none"));
  }

  _gauge(value, unit, entityId, name, detail) {
    if (value === null) return h("td.fleet-gauge", { dataset: { metric: name } }, "—");
    const health = stateHealth(String(value), unit);
    return h("td.fleet-gauge", { dataset: { metric: name } },
      h("div.gauge-line",
        h(`span.meter.h-${health}`, h("span.meter-fill", { style: `width: ${Math.max(0, Math.min(100, value))}%` })),
        h("span.value", formatState(String(value), unit))),
      detail ? h("div.check-sub", detail) : null,
      sparkline(this._series.get(entityId) || [], `${name}, last hour`));
  }

  _rate(f) {
    if (f.network === null) return h("td.fleet-gauge", { dataset: { metric: "network" } }, "—");
    const series = f.networkIds.map((id) => this._series.get(id) || []);
    const summed = series.length ? series[0].map((_, index) => series.reduce((sum, s) => sum + (s[index] ?? 0), 0)) : [];
    return h("td.fleet-gauge", { dataset: { metric: "network" } },
      h("div.gauge-line", h("span.value", formatState(String(f.network), "B/s"))),
      sparkline(summed, "network, last hour"));
  }

  /** One history request for every node's figures over the last hour. */
  async _loadSparklines() {
    const end = Date.now();
    const start = end - HOUR;
    try {
      const byEntity = await this.app.rest.historyMany(HISTORY_FILTER, new Date(start), new Date(end));
      this._series = new Map([...byEntity].map(([id, rows]) => [id, resample(rows, start, end, SPARK_STEPS)]));
      this._paint();
    } catch {
      // no recorder: the bars stay, without their lines
    }
  }

  destroy() {
    clearInterval(this._timer);
    clearInterval(this._ticker);
  }
}

const FLEET_ENTITY = /^(sensor\.[a-z0-9_]+_(cpu_percent|memory_percent|disk_.+_percent|network_.+_(rx|tx)|boot_time|docker_containers_(running|total))|binary_sensor\.([a-z0-9_]+_check_.+|alert_.+))$/;

/** The landing page: the fleet table, then every device's card (the overview) below it. */
export class Landing {
  constructor(store, app, devices) {
    this.fleet = new FleetView(store, app);
    this.devices = devices;
    this.el = h("div.landing", this.fleet.el, h("h2.page-title.sub-title", "Devices"), devices.el);
  }

  render() {
    this.fleet.render();
    this.devices.render();
  }

  structure() {
    this.fleet.structure();
    this.devices.structure();
  }

  update(changed) {
    if (!changed || [...changed].some((id) => FLEET_ENTITY.test(id))) this.fleet.update();
    this.devices.update(changed);
  }

  updateHealth() {
    this.devices.updateHealth();
  }

  destroy() {
    this.fleet.destroy();
    this.devices.destroy?.();
  }
}
