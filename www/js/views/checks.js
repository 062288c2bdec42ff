// The Checks page (one row per service check: state, response-time sparkline, 90-bar uptime strip, uptime and
// certificate) and a check's own page (response time history, uptime, outages). Live over `hub/checks/subscribe`.

import { renderChart } from "../chart.js";
import { h, mount } from "../dom.js";
import { ago, formatNumber } from "../format.js";
import { percentText, resample, sparkline, statusText, uptimeHealth, uptimeStrip } from "../uptime.js";

const HOUR = 3600e3;
const SPARK_STEPS = 40;
const RESPONSE_GLOB = "sensor.*_check_*_response_time";
const RELOAD_AFTER_MS = 1500; // a state change moves uptime and outages: fetch them again once things settle
const STATUS_HEALTH = { up: "ok", down: "bad" };

function since(iso) {
  return iso ? ago(Date.parse(iso) / 1000) : "";
}

function msText(value) {
  return value === null || value === undefined ? "—" : `${formatNumber(value)} ms`;
}

function certificateText(certificate) {
  if (!certificate) return "—";
  const days = certificate.days_left;
  if (days < 0) return `expired ${-days} d ago`;
  return `${days} d`;
}

function certificateHealth(certificate) {
  if (!certificate) return "off";
  if (certificate.valid === false || certificate.days_left < 7) return "bad";
  return certificate.days_left < 21 ? "warn" : "ok";
}

/** Live changes (`hub/checks/subscribe`) merged into a fetched listing; `onStatus` when a check goes up or down. */
class LiveChecks {
  constructor(app, onChange) {
    this.app = app;
    this.onChange = onChange;
    this.listing = null;
    this._reload = null;
    this._unsubscribe = null;
  }

  async start() {
    await this.load();
    this._unsubscribe = await this.app.connection.subscribe({ type: "hub/checks/subscribe" }, (event) => this._merge(event.checks));
  }

  async load() {
    this.listing = await this.app.rest.request("GET", "/api/hub/checks");
    this.onChange(null);
  }

  _merge(items) {
    if (!this.listing) return;
    const known = new Map(this.listing.checks.map((check) => [check.name, check]));
    let reload = false;
    for (const item of items) {
      const check = known.get(item.name);
      if (!check) {
        reload = true;
        continue;
      }
      if (check.status !== item.status) reload = true;
      Object.assign(check, item);
      this.onChange(check);
    }
    if (reload) {
      clearTimeout(this._reload);
      this._reload = setTimeout(() => this.load().catch(() => {}), RELOAD_AFTER_MS);
    }
  }

  stop() {
    clearTimeout(this._reload);
    this._unsubscribe?.();
  }
}

export class ChecksView {
  constructor(app) {
    this.app = app;
    this.el = h("section.checks");
    this._rows = new Map();
    this._spark = new Map();
    this.live = new LiveChecks(app, (check) => (check ? this._changed(check) : this._paint()));
  }

  render() {
    mount(this.el, h("h2.page-title", "Checks"), h("div.empty", "Loading…"));
    this.live.start().catch((err) => mount(this.el, h("h2.page-title", "Checks"), h("div.empty.error", `Cannot load checks: ${err.message}`)));
    this._sparklines().catch(() => {});
    this._ticker = setInterval(() => this._sparklines().catch(() => {}), 60e3);
  }

  /** Every check's response time over the last hour, in one history request. */
  async _sparklines() {
    const end = Date.now();
    const start = end - HOUR;
    const byEntity = await this.app.rest.historyMany(RESPONSE_GLOB, new Date(start), new Date(end));
    this._spark = new Map([...byEntity].map(([id, rows]) => [id, resample(rows, start, end, SPARK_STEPS)]));
    for (const check of this.live.listing?.checks || []) this._paintRow(check);
  }

  _paint() {
    const { listing } = this.live;
    const checks = listing.checks;
    const down = checks.filter((check) => check.status === "down").length;
    const summary = checks.length === 0
      ? "No checks are configured: add a checks integration (docs/checks.md)."
      : down ? `${down} of ${checks.length} down` : `All ${checks.length} up`;
    this._rows = new Map();
    const body = h("tbody", checks.map((check) => {
      const row = h("tr.check-row", { dataset: { check: check.name } });
      this._rows.set(check.name, row);
      this._fill(row, check);
      return row;
    }));
    mount(this.el,
      h("div.page-head", h("h2.page-title", "Checks"), h(`p.check-summary.h-${down ? "bad" : "ok"}`, summary),
        listing.recorder ? null : h("p.muted", "No recorder runs: uptime is not kept.")),
      checks.length ? h("div.panel.table-panel", h("table.checks-table",
        h("thead", h("tr", h("th", "Check"), h("th", "Response (1 h)"), h("th.check-bars", "Last 90 days"),
          h("th.num", "24 h"), h("th.num", "30 d"), h("th.num", "Certificate"))),
        body)) : null);
  }

  /** A live change: the newest response time joins the row's sparkline. */
  _changed(check) {
    const spark = this._spark.get(check.response_time_entity_id);
    if (spark && check.response_time_ms !== null) {
      spark.push(check.response_time_ms);
      spark.shift();
    }
    this._paintRow(check);
  }

  _paintRow(check) {
    const row = this._rows.get(check.name);
    if (row) this._fill(row, check);
  }

  _fill(row, check) {
    const bars = this.live.listing.bars;
    const spark = this._spark.get(check.response_time_entity_id) || [];
    mount(row,
      h("td", h("div.check-name",
        h(`span.dot.h-${STATUS_HEALTH[check.status] || "off"}`, { title: statusText(check.status) }),
        h("div",
          h("a.check-link", { href: `#/check/${encodeURIComponent(check.name)}` }, check.name),
          h("div.check-sub", `${check.kind || ""} · ${statusText(check.status)} ${since(check.since)}`),
          check.status === "down" && check.reason ? h("div.check-reason", check.reason) : null))),
      h("td.check-response", h("span.value", msText(check.response_time_ms)), sparkline(spark, `${check.name} response time, last hour`)),
      h("td.check-bars", uptimeStrip(check.bars, bars.starts, bars.period)),
      h(`td.num.u-text-${uptimeHealth(check.uptime["24h"])}`, percentText(check.uptime["24h"])),
      h(`td.num.u-text-${uptimeHealth(check.uptime["30d"])}`, percentText(check.uptime["30d"])),
      h(`td.num.h-${certificateHealth(check.certificate)}`, certificateText(check.certificate)));
  }

  destroy() {
    clearInterval(this._ticker);
    this.live.stop();
  }
}

const RANGES = [
  { key: "1h", label: "1 h", span: HOUR },
  { key: "24h", label: "24 h", span: 24 * HOUR },
  { key: "7d", label: "7 d", span: 7 * 24 * HOUR, statistics: "hour" },
];

export class CheckView {
  constructor(app, name) {
    this.app = app;
    this.name = name;
    this.range = RANGES[1];
    this.el = h("section.check");
    this._chart = h("div.chart-box");
    this._resize = new ResizeObserver(() => this._draw());
    this.live = new LiveChecks(app, () => this._paint());
  }

  render() {
    mount(this.el, h("a.back", { href: "#/checks" }, "← Checks"), h("div.empty", "Loading…"));
    this.live.start().catch((err) => mount(this.el, h("a.back", { href: "#/checks" }, "← Checks"), h("div.empty.error", err.message)));
  }

  _check() {
    return this.live.listing?.checks.find((check) => check.name === this.name);
  }

  _paint() {
    const check = this._check();
    if (!check) {
      mount(this.el, h("a.back", { href: "#/checks" }, "← Checks"), h("div.empty", `No check named ${this.name}.`));
      return;
    }
    const first = !this._tabs;
    this._tabs ??= h("div.tabs", { role: "tablist" }, RANGES.map((range) =>
      h("button.tab", { type: "button", role: "tab", dataset: { range: range.key }, onclick: () => this._select(range) }, range.label)));
    const bars = this.live.listing.bars;
    mount(this.el,
      h("a.back", { href: "#/checks" }, "← Checks"),
      h("header.entity-head",
        h("div", h("h2", check.name), h("p.entity-id", `${check.kind} · ${check.target}`)),
        h("div.entity-state",
          h(`div.big-state.h-${STATUS_HEALTH[check.status] || "off"}`, statusText(check.status)),
          h("div.since", `${check.reason || ""} · since ${since(check.since)}`))),
      h("div.panel.uptime-panel",
        h("div.uptime-figures", ["24h", "7d", "30d"].map((window) =>
          h("div.uptime-figure", h(`strong.u-text-${uptimeHealth(check.uptime[window])}`, percentText(check.uptime[window])), h("span", `uptime ${window.replace("h", " h").replace("d", " d")}`))),
          h("div.uptime-figure", h("strong", msText(check.response_time_ms)), h("span", "response time")),
          h("div.uptime-figure", h(`strong.h-${certificateHealth(check.certificate)}`, certificateText(check.certificate)), h("span", "certificate"))),
        uptimeStrip(check.bars, bars.starts, bars.period)),
      h("div.panel.chart-panel", h("div.panel-head", h("h3", "Response time"), this._tabs), this._chart),
      h("div.panel", h("h3", "Outages"), this._outages(check)));
    if (first) {
      this._resize.observe(this._chart);
      this._select(this.range);
    } else this._draw();
  }

  _outages(check) {
    if (!check.outages.length) return h("p.muted", "No outages recorded.");
    return h("table.outages", h("thead", h("tr", h("th", "Began"), h("th", "Ended"), h("th", "Lasted"), h("th", "Why"))),
      h("tbody", check.outages.map((outage) => h("tr",
        h("td", new Date(outage.start).toLocaleString()),
        h("td", outage.end ? new Date(outage.end).toLocaleString() : "ongoing"),
        h("td", lasted(outage.duration_s)),
        h("td", outage.reason || "—")))));
  }

  async _select(range) {
    this.range = range;
    for (const tab of this._tabs.children) tab.setAttribute("aria-selected", String(tab.dataset.range === range.key));
    const check = this._check();
    if (!check?.response_time_entity_id) return;
    const end = new Date();
    const start = new Date(end.getTime() - range.span);
    let points;
    let band = [];
    if (range.statistics) {
      const rows = await this.app.rest.statistics(check.response_time_entity_id, range.statistics, start, end).catch(() => []);
      points = rows.map((row) => ({ t: row.start, v: row.mean }));
      band = rows.filter((row) => row.min !== null).map((row) => ({ t: row.start, min: row.min, max: row.max, mean: row.mean }));
    } else {
      const rows = await this.app.rest.history(check.response_time_entity_id, start, end);
      points = rows.map((row) => ({ t: Math.max(Date.parse(row.last_changed ?? row.last_updated), start.getTime()), v: numberOrNull(row.state) }));
    }
    this.data = { points, band, states: [], range: { start: start.getTime(), end: end.getTime() } };
    this._draw();
  }

  _draw() {
    if (this.data) renderChart(this._chart, this.data, this.data.range, "ms");
  }

  destroy() {
    this._resize.disconnect();
    this.live.stop();
  }
}

function numberOrNull(state) {
  const value = Number.parseFloat(state);
  return Number.isFinite(value) ? value : null;
}

function lasted(seconds) {
  if (seconds < 60) return `${Math.round(seconds)} s`;
  if (seconds < 3600) return `${Math.round(seconds / 60)} min`;
  if (seconds < 86400) return `${formatNumber(seconds / 3600)} h`;
  return `${formatNumber(seconds / 86400)} d`;
}
