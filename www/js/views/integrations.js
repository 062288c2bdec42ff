// The integrations page: each integration's health, errors, poll durations, and "poll now".

import { h, mount } from "../dom.js";
import { ago, duration, integrationHealth } from "../format.js";

const REFRESH_MS = 5000;

export class IntegrationsView {
  constructor(app) {
    this.app = app;
    this.el = h("section.integrations");
    this._timer = null;
  }

  render() {
    mount(this.el, h("h2.page-title", "Integrations"), this._list = h("div.cards.integration-cards"));
    this.refresh();
    this._timer = setInterval(() => this.refresh(), REFRESH_MS);
  }

  async refresh() {
    try {
      const items = await this.app.loadIntegrations();
      mount(this._list, items.length ? items.map((item) => this._card(item)) : h("div.empty", "No integrations are configured."));
    } catch (err) {
      mount(this._list, h("div.empty.error", `Cannot load integrations: ${err.message}`));
    }
  }

  _card(item) {
    const health = item.health || {};
    const status = health.status || "unknown";
    const poll = h("button.primary", {
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
      ["Interval", item.interval ? duration(item.interval) : "push"],
      ["Entities", String(item.entities?.length ?? "—")],
      ["Last success", health.last_success_at ? ago(Date.parse(health.last_success_at) / 1000) : "—"],
    ];
    return h("article.card.integration", { dataset: { integration: item.id } },
      h("header.card-head", h(`span.dot.h-${integrationHealth(status)}`),
        h("div.card-title", h("h3", item.name || item.id), h("p.card-sub", item.platform === item.id ? item.platform : `${item.platform} · ${item.id}`)), poll),
      h("dl.stats", stats.map(([k, v]) => [h("dt", k), h("dd", v)])),
      health.last_error ? h("div.last-error", h("strong", "Last error"),
        health.last_error_at ? h("span.when", ago(Date.parse(health.last_error_at) / 1000)) : null,
        h("code", health.last_error)) : null);
  }

  destroy() {
    clearInterval(this._timer);
  }
}
