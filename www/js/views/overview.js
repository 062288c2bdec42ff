// The overview: one card per device, grouped by node when there are several, live, with search and filters.

import { h, mount } from "../dom.js";
import { UNAVAILABLE, UNKNOWN, displayState, integrationHealth, numeric, stateHealth, worse } from "../format.js";
import { sparkline } from "../uptime.js";
import { controlFor } from "./controls.js";

const KEY_ROWS = 6;
const SPARK_POINTS = 24; // points kept per sparkline: an hour of 5-minute means, then the live values
const OTHER_DEVICE = "__other__";
// Key entities first: measurements with a unit, then binary states and controls, diagnostics last.
const DOMAIN_RANK = { sensor: 0, binary_sensor: 1, switch: 2, button: 3 };

export class Overview {
  constructor(store, app) {
    this.store = store;
    this.app = app;
    this.filter = { text: "", domain: "", node: "", integration: "" };
    this.rows = new Map(); // entity id -> {row, value, meter, card, facts}
    this.cards = new Map(); // device key -> {card, dot, rows: [...], more}
    this._expanded = new Set(); // device keys whose cards show every row, kept across rebuilds
    this._series = new Map(); // entity id -> recent values for its sparkline
    this._sparkLoad = null;
    this.el = h("section.overview");
    this._toolbar = this._buildToolbar();
    this._body = h("div.overview-body");
    mount(this.el, this._toolbar, this._body);
  }

  _buildToolbar() {
    const search = h("input.search", {
      type: "search", placeholder: "Search devices and entities", "aria-label": "Search",
      oninput: (e) => this._setFilter("text", e.target.value.trim().toLowerCase()),
    });
    this._selects = {};
    const select = (key, label) => {
      const el = h("select", { "aria-label": label, onchange: (e) => this._setFilter(key, e.target.value) });
      this._selects[key] = { el, label };
      return el;
    };
    return h("div.toolbar", search, select("domain", "Domain"), select("node", "Node"),
      select("integration", "Integration"), this._summary = h("span.summary"));
  }

  _fillSelects(facts) {
    const options = { domain: new Set(), node: new Set(), integration: new Set() };
    for (const f of facts) {
      options.domain.add(f.domain);
      if (f.node) options.node.add(f.node);
      if (f.integration) options.integration.add(f.integration);
    }
    for (const [key, { el, label }] of Object.entries(this._selects)) {
      const values = [...options[key]].sort();
      mount(el, h("option", { value: "" }, `All ${label.toLowerCase()}s`), values.map((v) => h("option", { value: v }, v)));
      el.value = values.includes(this.filter[key]) ? this.filter[key] : "";
      el.hidden = key === "node" && values.length < 2;
    }
  }

  _setFilter(key, value) {
    this.filter[key] = value;
    this._applyFilter();
  }

  /** Rebuild every card: on first load and whenever entities, devices or registries come or go. */
  render() {
    const store = this.store;
    const facts = [...store.entities.keys()].map((id) => store.describe(id));
    this._fillSelects(facts);
    const byDevice = new Map();
    for (const f of facts) {
      const key = f.deviceId && store.devices.has(f.deviceId) ? f.deviceId : OTHER_DEVICE;
      if (!byDevice.has(key)) byDevice.set(key, []);
      byDevice.get(key).push(f);
    }
    const byNode = new Map();
    for (const [deviceId, list] of byDevice) {
      const node = deviceId === OTHER_DEVICE ? "" : store.nodeOfDevice(deviceId) || "";
      if (!byNode.has(node)) byNode.set(node, []);
      byNode.get(node).push([deviceId, list]);
    }
    this.rows.clear();
    this.cards.clear();
    const grouped = [...byNode.keys()].filter(Boolean).length > 1;
    const sections = [...byNode.entries()]
      .sort(([a], [b]) => this._nodeOrder(a) - this._nodeOrder(b) || a.localeCompare(b))
      .map(([node, devices]) => this._section(node, devices, grouped));
    mount(this._body, facts.length ? sections : h("div.empty", "No entities yet. Integrations report within their interval."));
    this._applyFilter();
    this.updateHealth();
    this._loadSparklines();
  }

  _section(node, devices, grouped) {
    devices.sort(([a, la], [b, lb]) => this._deviceOrder(a) - this._deviceOrder(b) ||
      this._deviceName(a, la).localeCompare(this._deviceName(b, lb)));
    const grid = h("div.cards", devices.map(([deviceId, list]) => this._card(deviceId, list)));
    const title = grouped ? h("h2.node-title", h("span.node-icon", "◆"), node || "Other") : null;
    return h("section.node", { dataset: { node } }, title, grid);
  }

  /** This hub's node first, then the others by name, entities of no node last. */
  _nodeOrder(node) {
    return node === this.store.node ? 0 : node ? 1 : 2;
  }

  /** The node's own device first, then its containers and the rest. */
  _deviceOrder(deviceId) {
    const device = this.store.devices.get(deviceId);
    return device && !device.via_device_id ? 0 : 1;
  }

  _deviceName(deviceId, list) {
    const device = this.store.devices.get(deviceId);
    if (device) return device.name_by_user || device.name;
    return list.length === 1 ? list[0].name : "Other entities";
  }

  _card(deviceId, list) {
    const device = this.store.devices.get(deviceId);
    const name = this._deviceName(deviceId, list);
    list.sort((a, b) => rank(a) - rank(b) || a.name.localeCompare(b.name));
    const dot = h("span.dot", { title: "Health" });
    const subtitle = device ? [device.manufacturer, device.model].filter(Boolean).join(" · ") : "";
    const rows = list.map((f) => this._row(f, name));
    const more = h("button.more", {
      type: "button",
      onclick: () => {
        const expanded = card.classList.toggle("expanded");
        if (expanded) this._expanded.add(deviceId);
        else this._expanded.delete(deviceId);
        this._labelMore(entry);
      },
    });
    const card = h(`article.card${this._expanded.has(deviceId) ? ".expanded" : ""}`, { dataset: { device: deviceId } },
      h("header.card-head", dot, h("div.card-title", h("h3", name), subtitle && h("p.card-sub", subtitle))),
      h("ul.rows", rows.map((r) => r.row)), more);
    const entry = { card, dot, rows, more, name: name.toLowerCase() };
    for (const r of rows) {
      r.card = entry;
      this.rows.set(r.facts.id, r);
    }
    this.cards.set(deviceId, entry);
    return card;
  }

  _row(facts, deviceName) {
    const label = shortName(facts.name, deviceName);
    const value = h("span.value");
    const meter = facts.unit === "%" ? h("span.meter", h("span.meter-fill")) : null;
    const spark = facts.domain === "sensor" && facts.unit ? h("span.row-spark") : null;
    const control = controlFor(this.store, facts, this.app);
    const row = h("li.row", { dataset: { entity: facts.id }, title: facts.id },
      h("a.row-link", { href: `#/entity/${facts.id}` }, h("span.row-name", label), spark, meter, value), control);
    const entry = { row, value, meter, spark, control, facts, search: `${facts.name} ${facts.id}`.toLowerCase() };
    this._paint(entry);
    return entry;
  }

  _paint(entry) {
    const { facts } = entry;
    const state = this.store.entities.get(facts.id);
    const text = state?.state;
    // A switch shows its state in the toggle itself.
    entry.value.textContent = entry.control && facts.domain === "switch" && text !== UNAVAILABLE ? "" : displayState(facts, text);
    entry.value.className = `value h-${stateHealth(text, facts.unit, facts.deviceClass, facts.domain)}`;
    entry.row.classList.toggle("unavailable", text === UNAVAILABLE);
    entry.row.classList.toggle("unknown", text === UNKNOWN && facts.domain !== "button");
    entry.control?.paint?.(text);
    if (entry.spark) this._drawSpark(entry);
    if (entry.meter) {
      const v = numeric(text);
      entry.meter.firstChild.style.width = `${v === null ? 0 : Math.max(0, Math.min(100, v))}%`;
      entry.meter.className = `meter h-${stateHealth(text, facts.unit)}`;
    }
  }

  structure() {
    this.render();
  }

  /** Every row's last hour from one request (the 5-minute means of every measurement), once per view. */
  _loadSparklines() {
    this._sparkLoad ??= this.app.rest.sparklines("sensor", 1).then((series) => {
      for (const [id, points] of Object.entries(series)) {
        const live = this._series.get(id) || [];
        this._series.set(id, [...points.map(([, mean]) => mean), ...live].slice(-SPARK_POINTS));
      }
      for (const entry of this.rows.values()) if (entry.spark) this._drawSpark(entry);
    }).catch(() => {}); // no recorder: rows keep their live values only
  }

  _drawSpark(entry) {
    const values = this._series.get(entry.facts.id);
    // Rows with nothing to draw get no element: a fleet's first paint has thousands of rows and no history yet.
    if (!values || values.length < 2) {
      if (entry.spark.firstChild) entry.spark.replaceChildren();
      return;
    }
    entry.spark.replaceChildren(sparkline(values, `${entry.facts.name}, last hour`));
  }

  /** Live update of the rows whose entities changed; no rebuild. */
  update(changed) {
    const cards = new Set();
    for (const id of changed) {
      const entry = this.rows.get(id);
      if (!entry) continue;
      if (entry.spark) {
        const value = numeric(this.store.entities.get(id)?.state);
        if (value !== null) this._series.set(id, [...(this._series.get(id) || []), value].slice(-SPARK_POINTS));
      }
      this._paint(entry);
      cards.add(entry.card);
    }
    for (const card of cards) this._paintCard(card);
  }

  /** Re-colour every card (after integration health arrives). */
  updateHealth() {
    for (const card of this.cards.values()) this._paintCard(card);
  }

  _paintCard(card) {
    let health = "ok";
    let unavailable = 0;
    for (const { facts } of card.rows) {
      const state = this.store.entities.get(facts.id)?.state;
      if (state === UNAVAILABLE) unavailable += 1;
      else health = worse(health, stateHealth(state, facts.unit, facts.deviceClass, facts.domain));
      const status = this.app.integrationStatus(facts.integration);
      if (status) health = worse(health, integrationHealth(status));
    }
    if (unavailable) health = unavailable === card.rows.length ? "off" : worse(health, "warn");
    card.dot.className = `dot h-${health}`;
    card.dot.title = { ok: "Healthy", warn: "Degraded", bad: "Failing", off: "Unavailable" }[health];
    card.card.classList.toggle("card-off", health === "off");
  }

  _labelMore(card) {
    card.more.textContent = card.card.classList.contains("expanded") ? "Show less" : `Show ${card.hiddenExtra} more`;
  }

  _applyFilter() {
    const { text, domain, node, integration } = this.filter;
    const filtering = Boolean(text || domain || node || integration);
    let devices = 0;
    let entities = 0;
    for (const card of this.cards.values()) {
      const cardHit = text && card.name.includes(text);
      let shown = 0;
      card.rows.forEach((r, i) => {
        const f = r.facts;
        const hit = (!text || cardHit || r.search.includes(text)) && (!domain || f.domain === domain) &&
          (!node || f.node === node) && (!integration || f.integration === integration);
        r.row.hidden = !hit;
        r.row.classList.toggle("extra", !filtering && i >= KEY_ROWS);
        if (hit) shown += 1;
      });
      card.card.hidden = shown === 0;
      const hiddenExtra = filtering ? 0 : Math.max(0, card.rows.length - KEY_ROWS);
      card.more.hidden = hiddenExtra === 0;
      card.hiddenExtra = hiddenExtra;
      this._labelMore(card);
      if (shown) {
        devices += 1;
        entities += shown;
      }
    }
    for (const section of this._body.querySelectorAll("section.node")) {
      section.hidden = !section.querySelector("article.card:not([hidden])");
    }
    this._summary.textContent = `${devices} devices · ${entities} entities`;
  }
}

// What a homelab owner looks at first, by entity id (system_info, docker and hubs over MQTT name them so).
const KEY_ENTITIES = [
  /^sensor\..*_state$/,
  /^binary_sensor\..*_health$/,
  /_cpu(_percent)?$/,
  /_memory_percent$/,
  /_load_1m$/,
  /temperature/,
  /_disk_.*_percent$/,
  /^switch\./,
  /^button\./,
  /_network_.*_(rx|tx)$/,
];

function rank(facts) {
  // A key entity first even when diagnostic: the hub's own `binary_sensor.*_health` rows are.
  const key = KEY_ENTITIES.findIndex((pattern) => pattern.test(facts.id));
  if (key >= 0) return key;
  if (facts.category) return 100 + (DOMAIN_RANK[facts.domain] ?? 5);
  const unitless = facts.domain === "sensor" && !facts.unit ? 0.5 : 0;
  return KEY_ENTITIES.length + (DOMAIN_RANK[facts.domain] ?? 5) + unitless;
}

/** `nas CPU` on device `nas` reads `CPU`; the card already names the device. */
function shortName(name, deviceName) {
  if (deviceName && name.toLowerCase().startsWith(deviceName.toLowerCase() + " ")) {
    return name.slice(deviceName.length + 1);
  }
  return name;
}
