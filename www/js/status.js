// The public status page (`/status/<slug>`): no login; the checks its config names, their state, uptime and
// 90 daily bars, refreshed every minute.

import { h, mount } from "./dom.js";
import { percentText, statusText, uptimeHealth, uptimeStrip } from "./uptime.js";

const REFRESH_MS = 60e3;
const root = document.getElementById("status-page");
const slug = decodeURIComponent(location.pathname.split("/").filter(Boolean).pop() || "");

function overall(checks) {
  const down = checks.filter((check) => check.status === "down");
  if (!checks.length) return { kind: "off", text: "No services are listed on this page." };
  if (!down.length) return { kind: "ok", text: "All services are up" };
  return { kind: "bad", text: down.length === 1 ? `${down[0].name} is down` : `${down.length} services are down` };
}

function lastOutage(check) {
  const outage = check.outages[0];
  if (!outage) return "No outages recorded";
  if (!outage.end) return `Down since ${new Date(outage.start).toLocaleString()}`;
  return `Last outage ended ${new Date(outage.end).toLocaleString()}`;
}

function render(page) {
  document.title = page.title;
  const state = overall(page.checks);
  mount(root,
    h("header.status-head", h("h1", page.title), h(`div.status-overall.h-${state.kind}`, state.text)),
    h("div.status-list", page.checks.map((check) => h("article.status-check", { dataset: { check: check.name } },
      h("div.status-check-head",
        h(`span.dot.h-${{ up: "ok", down: "bad" }[check.status] || "off"}`),
        h("h2", check.name),
        h(`span.status-word.h-${{ up: "ok", down: "bad" }[check.status] || "off"}`, statusText(check.status)),
        h(`span.status-uptime.u-text-${uptimeHealth(check.uptime["30d"])}`, `${percentText(check.uptime["30d"])} in 30 days`)),
      uptimeStrip(check.bars, page.bars.starts, page.bars.period),
      h("div.status-foot", h("span", "90 days ago"), h("span", "today")),
      h("p.status-outage", lastOutage(check))))),
    h("footer.status-footer", `Updated ${new Date().toLocaleTimeString()} · homelab-hub`));
}

async function refresh() {
  try {
    const response = await fetch(`/api/status/${encodeURIComponent(slug)}`);
    if (!response.ok) throw new Error(response.status === 404 ? "There is no such status page." : `The hub answered ${response.status}.`);
    render(await response.json());
  } catch (err) {
    mount(root, h("p.empty.error", err.message));
  }
}

refresh();
setInterval(refresh, REFRESH_MS);
