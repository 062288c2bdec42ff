// The Alerts page: every rule, whether it fires and for which entities, when it last fired and cleared, and a
// test-fire button that runs the rule's actions once (after asking).

import { h, mount } from "../dom.js";
import { ago } from "../format.js";

const REFRESH_MS = 5000;

function when(iso) {
  return iso ? ago(Date.parse(iso) / 1000) : "never";
}

export class AlertsView {
  constructor(app) {
    this.app = app;
    this.el = h("section.alerts");
    this._timer = null;
  }

  render() {
    this._body = h("div", h("div.empty", "Loading…"));
    mount(this.el, h("div.page-head", h("h2.page-title", "Alerts"), this._summary = h("p.check-summary")), this._body);
    this.refresh();
    this._timer = setInterval(() => this.refresh(), REFRESH_MS);
  }

  async refresh() {
    let rules;
    try {
      rules = await this.app.rest.request("GET", "/api/hub/alerts");
    } catch (err) {
      mount(this._body, h("div.empty.error", `Cannot load alerts: ${err.message}`));
      return;
    }
    const firing = rules.filter((rule) => rule.firing).length;
    this._summary.textContent = rules.length ? (firing ? `${firing} of ${rules.length} firing` : `None of ${rules.length} firing`) : "";
    this._summary.className = `check-summary h-${firing ? "bad" : "ok"}`;
    if (!rules.length) {
      mount(this._body, h("div.empty", "No alert rules are configured: add them under alerts: in hub.yaml (docs/alerts.md)."));
      return;
    }
    mount(this._body, h("div.panel.table-panel", h("table.checks-table.alerts-table",
      h("thead", h("tr", h("th", "Rule"), h("th", "State"), h("th", "Firing for"), h("th", "Last fired"), h("th", "Last cleared"), h("th", ""))),
      h("tbody", rules.map((rule) => this._row(rule))))));
  }

  _row(rule) {
    return h("tr", { dataset: { alert: rule.name } },
      h("td", h("div.check-link", rule.name), h("div.check-sub", rule.trigger)),
      h("td", h(`span.pill.h-${rule.firing ? "bad" : "ok"}`, rule.firing ? "Firing" : "OK")),
      h("td.alert-entities", rule.entities.length
        ? rule.entities.map((id) => h("a.alert-entity", { href: `#/entity/${encodeURIComponent(id)}` }, id))
        : "—"),
      h("td", when(rule.last_fired)),
      h("td", when(rule.last_cleared)),
      h("td.num", h("button.ghost.test-fire", { type: "button", onclick: () => this._test(rule.name) }, "Test")));
  }

  async _test(name) {
    const ok = await this.app.confirm(`Run the actions of ${name} once now (its notifications go out, marked test)?`, "Test-fire");
    if (!ok) return;
    await this.app.run(this.app.rest.request("POST", `/api/hub/alerts/${encodeURIComponent(name)}/test`), `Alert ${name} test-fired.`);
  }

  destroy() {
    clearInterval(this._timer);
  }
}
