// The integrations page: each integration's health, errors, poll durations, and "poll now".

import { h, mount } from "../dom.js";
import { ago, duration, integrationHealth } from "../format.js";

const REFRESH_MS = 5000;
const SINK_NAMES = { recorder: "Recorder", redis: "Redis", mqtt: "MQTT" };

export class IntegrationsView {
  constructor(app) {
    this.app = app;
    this.el = h("section.integrations");
    this._timer = null;
  }

  render() {
    this._list = h("div.cards.integration-cards");
    this._sinks = h("div.cards.integration-cards");
    this._sinkSection = h("section", { hidden: true }, h("h2.page-title.sub-title", "Sinks"), this._sinks);
    mount(this.el, h("h2.page-title", "Integrations"), this._list, this._sinkSection);
    this.refresh();
    this._timer = setInterval(() => this.refresh(), REFRESH_MS);
  }

  async refresh() {
    // `/api/hub/integrations` lists each integration (kind "integration") and then each sink (kind "sink").
    let items;
    try {
      items = await this.app.loadIntegrations();
    } catch (err) {
      mount(this._list, h("div.empty.error", `Cannot load integrations: ${err.message}`));
      return;
    }
    const integrations = items.filter((item) => item.kind !== "sink");
    const sinks = items.filter((item) => item.kind === "sink");
    mount(this._list, integrations.length ? integrations.map((item) => this._card(item)) : h("div.empty", "No integrations are configured."));
    this._sinkSection.hidden = !sinks.length;
    mount(this._sinks, sinks.map((sink) => this._sinkCard(sink)));
  }

  _sinkCard(sink) {
    const health = sink.health || {};
    const status = health.status || "unknown";
    return h("article.card.integration", { dataset: { sink: sink.id } },
      h("header.card-head", h(`span.dot.h-${integrationHealth(status)}`), h("div.card-title", h("h3", SINK_NAMES[sink.id] || sink.id), h("p.card-sub", "sink"))),
      h("dl.stats",
        h("dt", "Status"), h("dd", h(`span.pill.h-${integrationHealth(status)}`, status)),
        h("dt", "Errors"), h("dd", `${health.error_count ?? 0} (${health.consecutive_errors ?? 0} in a row)`),
        h("dt", "Queue"), h("dd", String(health.queue_depth ?? 0)),
        h("dt", "Last success"), h("dd", health.last_success_at ? ago(Date.parse(health.last_success_at) / 1000) : "never")),
      lastError(health));
  }

  _card(item) {
    const health = item.health || {};
    const status = health.status || "unknown";
    // Only an integration that polls can be asked to; one that only pushes (the mqtt ingest) gets no button.
    const poll = item.polls && h("button.primary", {
      type: "button",
      onclick: async () => {
        poll.disabled = true;
        await this.app.run(this.app.rest.pollNow(item.id), `Poll of ${item.id} requested`);
        poll.disabled = false;
        setTimeout(() => this.refresh(), 1000);
      },
    }, "Poll now");
    const stats = [
      ["Status", h(`span.pill.h-${integrationHealth(status)}`, status)],
      ["Errors", `${health.error_count ?? 0} (${health.consecutive_errors ?? 0} in a row)`],
      ["Last poll", duration(health.last_duration)],
      ["Mean poll", duration(health.mean_duration)],
      ["Interval", item.polls ? duration(item.interval) : "push"],
      ["Entities", String(item.entities?.length ?? "—")],
      ["Last success", health.last_success_at ? ago(Date.parse(health.last_success_at) / 1000) : "—"],
    ];
    return h("article.card.integration", { dataset: { integration: item.id } },
      h("header.card-head", h(`span.dot.h-${integrationHealth(status)}`),
        h("div.card-title", h("h3", item.name || item.id), h("p.card-sub", item.platform === item.id ? item.platform : `${item.platform} · ${item.id}`)), poll),
      h("dl.stats", stats.map(([k, v]) => [h("dt", k), h("dd", v)])),
      lastError(health));
  }

  destroy() {
    clearInterval(this._timer);
  }
}

function lastError(health) {
  if (!health.last_error) return null;
  return h("div.last-error", h("strong", "Last error"),
    health.last_error_at ? h("span.when", ago(Date.parse(health.last_error_at) / 1000)) : null,
    h("code", health.last_error));
}
