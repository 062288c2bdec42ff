// The dashboard application: login, the shell (header, navigation, dialogs), routing and live wiring.

import { forgetToken, redeemCode, storeToken, storedToken, takeLinkCode } from "./auth.js";
import { AuthError, Connection } from "./connection.js";
import { h, mount } from "./dom.js";
import { Rest } from "./rest.js";
import { Store } from "./store.js";
import { AlertsView } from "./views/alerts.js";
import { CheckView, ChecksView } from "./views/checks.js";
import { EntityView } from "./views/entity.js";
import { Landing } from "./views/fleet.js";
import { NodeView } from "./views/node.js";
import { IntegrationsView } from "./views/integrations.js";
import { loginView } from "./views/login.js";
import { Overview } from "./views/overview.js";

const INTEGRATIONS_REFRESH_MS = 15000;
const REFUSED = "The hub refused this token: it is wrong or has been revoked. Paste a valid token.";
const root = document.getElementById("app");

class App {
  constructor() {
    this.connection = null;
    this.integrations = new Map();
    this.view = null;
    this._changed = new Set();
    this._frame = null;
    window.addEventListener("hashchange", async () => (await this._fromLink()) || this._route());
  }

  async boot() {
    if (await this._fromLink()) return;
    const token = storedToken();
    if (!token) return this.login();
    let problem = await this.connect(token);
    // A refused token is forgotten; while it is still kept the hub was only unreachable: keep trying.
    for (let delay = 1000; problem && storedToken() === token; delay = Math.min(delay * 2, 15000)) {
      mount(root, h("p.booting", `${problem} Retrying…`));
      await new Promise((resolve) => setTimeout(resolve, delay));
      problem = await this.connect(token);
    }
    if (problem) this.login(problem);
  }

  /** Log in through a login link (`#token=CODE`) if the address holds one; true if it did. */
  async _fromLink() {
    const code = takeLinkCode();
    if (!code) return false;
    let token = null;
    let problem = "This login link was already used or is not valid. Paste a token instead.";
    try {
      token = await redeemCode(code);
    } catch (err) {
      problem = err.message;
    }
    if (!token) {
      if (this.store) this.toast(problem, "bad");
      else this.login(problem);
      return true;
    }
    if (this.store) this._teardown();
    problem = await this.connect(token);
    if (problem) this.login(problem);
    return true;
  }

  login(message) {
    document.documentElement.dataset.view = "login";
    loginView(root, { message, onSubmit: (token) => this.connect(token) });
    registerServiceWorkerSoon();
  }

  /** Log in with `token`; returns a message for the login screen when that fails. */
  async connect(token) {
    const connection = new Connection(`${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/api/websocket`, token);
    try {
      await connection.open();
    } catch (err) {
      if (err instanceof AuthError) {
        forgetToken();
        return REFUSED;
      }
      return navigator.onLine === false
        ? "You are offline: the hub cannot be reached from here."
        : `${err.message} Is it running?`;
    }
    performance.mark("hub:authenticated");
    storeToken(token);
    this.connection = connection;
    this.rest = new Rest(token);
    this.store = new Store(connection);
    this._wire();
    this._shell();
    await Promise.all([this.store.start(), this.loadIntegrations().catch(() => [])]);
    performance.mark("hub:loaded");
    document.title = this.store.node ? `${this.store.node} · homelab-hub` : "homelab-hub";
    this._integrationTimer = setInterval(() => this.loadIntegrations().catch(() => {}), INTEGRATIONS_REFRESH_MS);
    this._route();
    registerServiceWorkerSoon();
    return null;
  }

  _wire() {
    this.store.addEventListener("structure", () => this._schedule(null));
    this.store.addEventListener("states", (event) => this._schedule(event.detail));
    this.store.addEventListener("lifecycle", () => {
      if (this._starting) this._starting.hidden = this.store.hubState !== "STARTING";
    });
    this.connection.addEventListener("disconnected", () => this._status("offline", "Reconnecting…"));
    this.connection.addEventListener("reconnected", () => this._status("online", "Live"));
    this.connection.addEventListener("auth-invalid", () => this.logout(REFUSED));
  }

  /** Coalesce updates to one repaint per frame; `null` means the structure changed and views rebuild. */
  _schedule(changed) {
    if (changed === null) this._structural = true;
    else for (const id of changed) this._changed.add(id);
    this._frame ??= requestAnimationFrame(() => {
      this._frame = null;
      const changedIds = this._changed;
      this._changed = new Set();
      if (this._structural && this.view?.structure) this.view.structure();
      else this.view?.update?.(changedIds);
      this._structural = false;
    });
  }

  _shell() {
    document.documentElement.dataset.view = "app";
    this._dot = h("span.conn-dot.online", { title: "Live" });
    this._nav = h("nav.nav",
      h("a", { href: "#/", dataset: { nav: "overview" } }, "Overview"),
      h("a", { href: "#/checks", dataset: { nav: "checks" } }, "Checks"),
      h("a", { href: "#/alerts", dataset: { nav: "alerts" } }, "Alerts"),
      h("a", { href: "#/integrations", dataset: { nav: "integrations" } }, "Integrations"));
    this._main = h("main.main");
    this._banner = h("div.banner.offline", { role: "status", hidden: true },
      "Connection to the hub lost. Reconnecting… the values shown may be out of date.");
    this._starting = h("div.banner.starting", { role: "status", hidden: this.store.hubState !== "STARTING" },
      "The hub is starting: values appear as each integration gives its first reading.");
    this._toast = h("div.toast", { role: "status", hidden: true });
    this._dialog = h("dialog.confirm");
    mount(root,
      h("header.topbar",
        h("a.brand", { href: "#/", "aria-label": "homelab-hub" }, h("span.logo", "◆"), h("span.brand-name", "homelab-hub")),
        this._nav,
        h("div.topbar-end", this._dot, h("button.ghost.logout", { type: "button", onclick: () => this.logout() }, "Log out"))),
      this._banner, this._starting, this._main, this._toast, this._dialog);
  }

  _status(kind, title) {
    this._dot.className = `conn-dot ${kind}`;
    this._dot.title = title;
    this._banner.hidden = kind === "online";
  }

  _route() {
    if (!this.store) return;
    this.view?.destroy?.();
    const hash = decodeURIComponent(location.hash.slice(1));
    let view;
    let nav = "overview";
    if (hash.startsWith("/entity/")) view = new EntityView(this.store, this, hash.slice("/entity/".length));
    else if (hash.startsWith("/node/")) view = new NodeView(this.store, this, hash.slice("/node/".length));
    else if (hash === "/checks" || hash.startsWith("/check/")) {
      view = hash === "/checks" ? new ChecksView(this) : new CheckView(this, hash.slice("/check/".length));
      nav = "checks";
    } else if (hash === "/alerts") {
      view = new AlertsView(this);
      nav = "alerts";
    } else if (hash === "/integrations") {
      view = new IntegrationsView(this);
      nav = "integrations";
    } else view = this._overview ??= new Landing(this.store, this, new Overview(this.store, this));
    for (const link of this._nav.children) link.classList.toggle("active", link.dataset.nav === nav);
    this.view = view;
    mount(this._main, view.el);
    view.render();
    // The view was just built from the store as it is: updates queued before now are in it already.
    this._structural = false;
    this._changed.clear();
    if (view === this._overview) this._markReady();
    window.scrollTo(0, 0);
  }

  /** Time to interactive, for the browser test and for anyone curious (`window.hubReadyMs`). */
  _markReady() {
    if (document.documentElement.dataset.ready) return;
    requestAnimationFrame(() => {
      window.hubReadyMs = performance.now();
      document.documentElement.dataset.ready = "1";
    });
  }

  integrationStatus(id) {
    return id ? this.integrations.get(id)?.health?.status ?? null : null;
  }

  async loadIntegrations() {
    const items = await this.rest.integrations();
    this.integrations = new Map(items.map((item) => [item.id, item]));
    if (this.view === this._overview) this._overview?.updateHealth();
    return items;
  }

  confirm(message, action) {
    return new Promise((resolve) => {
      const close = (answer) => {
        this._dialog.close();
        resolve(answer);
      };
      mount(this._dialog, h("form.confirm-body", { method: "dialog", onsubmit: (e) => { e.preventDefault(); close(true); } },
        h("p", message),
        h("div.confirm-actions",
          h("button.ghost", { type: "button", onclick: () => close(false) }, "Cancel"),
          h("button.primary", { type: "submit" }, action))));
      this._dialog.oncancel = () => resolve(false);
      this._dialog.showModal();
    });
  }

  /** Await an action and say how it went. */
  async run(promise, success) {
    try {
      await promise;
      this.toast(success, "ok");
    } catch (err) {
      this.toast(err.message, "bad");
    }
  }

  toast(message, kind) {
    this._toast.textContent = message;
    this._toast.className = `toast h-${kind}`;
    this._toast.hidden = false;
    clearTimeout(this._toastTimer);
    this._toastTimer = setTimeout(() => (this._toast.hidden = true), 4000);
  }

  logout(message) {
    forgetToken();
    this._teardown();
    this.login(message);
  }

  _teardown() {
    clearInterval(this._integrationTimer);
    this.view?.destroy?.();
    this.connection?.close();
    this.connection = this.store = this.view = this._overview = null;
    delete document.documentElement.dataset.ready;
  }
}

/** Installable (manifest, icons) and opening offline: the shell comes from the service worker's cache. Registered
 * when the browser is next idle after the first screen (login or a view) is drawn, so caching the shell never
 * competes with the first paint. Browsers allow service workers on https and on localhost only; elsewhere the
 * dashboard works as a plain page. */
function registerServiceWorkerSoon() {
  if (!("serviceWorker" in navigator) || !window.isSecureContext) return;
  const register = () => navigator.serviceWorker.register("/sw.js").catch(() => {});
  if ("requestIdleCallback" in window) requestIdleCallback(register, { timeout: 3000 });
  else setTimeout(register, 500);
}

new App().boot();
