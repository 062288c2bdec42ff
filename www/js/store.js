// What the dashboard knows: live entity states, the entity and device registries, and who belongs to which node.

const REGISTRY_REFRESH_MS = 300;

/** An entity's domain: `sensor` of `sensor.nas_cpu_percent`. */
export const domainOf = (entityId) => entityId.slice(0, entityId.indexOf("."));

export class Store extends EventTarget {
  constructor(connection) {
    super();
    this.connection = connection;
    this.entities = new Map(); // entity_id -> {state, attributes, last_changed, last_updated}
    this.registry = new Map(); // entity_id -> entity registry entry
    this.devices = new Map(); // device id -> device registry entry
    this.services = {};
    this.node = null; // this hub's own node name
    this.hubState = null; // NOT_RUNNING, STARTING, RUNNING... as get_config says; RUNNING on homeassistant_started
    this._refreshTimer = null;
    this._resync = false; // after a reconnect the next full snapshot replaces what we had
    connection.addEventListener("disconnected", () => (this._resync = true));
    connection.addEventListener("reconnected", () => {
      this.loadRegistries().catch(() => {});
      this._loadConfig().catch(() => {}); // a restarted hub is STARTING again
    });
  }

  async start() {
    await Promise.all([this.loadRegistries(), this._loadServices(), this._loadConfig().catch(() => {})]);
    await this.connection.subscribe({ type: "subscribe_entities" }, (event) => this._apply(event));
    await this.connection
      .subscribe({ type: "subscribe_events", event_type: "homeassistant_started" }, () => this._setHubState("RUNNING"))
      .catch(() => {});
    await this.connection
      .subscribe({ type: "subscribe_events", event_type: "entity_registry_updated" }, () => this._refreshSoon())
      .catch(() => {}); // a hub that refuses it still works; new devices then show up on the next load
  }

  async loadRegistries() {
    const [entries, devices] = await Promise.all([
      this.connection.command({ type: "config/entity_registry/list" }),
      this.connection.command({ type: "config/device_registry/list" }),
    ]);
    this.registry = new Map(entries.map((entry) => [entry.entity_id, entry]));
    this.devices = new Map(devices.map((device) => [device.id, device]));
    this.dispatchEvent(new Event("structure"));
  }

  async _loadConfig() {
    const config = await this.connection.command({ type: "get_config" });
    this.node = config.location_name || null;
    this._setHubState(config.state || null);
  }

  _setHubState(state) {
    if (state === this.hubState) return;
    this.hubState = state;
    this.dispatchEvent(new Event("lifecycle"));
  }

  async _loadServices() {
    this.services = await this.connection.command({ type: "get_services" }).catch(() => ({}));
  }

  _refreshSoon() {
    clearTimeout(this._refreshTimer);
    this._refreshTimer = setTimeout(() => this.loadRegistries().catch(() => {}), REGISTRY_REFRESH_MS);
  }

  /** Apply a `subscribe_entities` event (ha-protocols 1.8), as home-assistant-js-websocket does. */
  _apply(event) {
    const changed = new Set();
    let structural = false;
    if (this._resync && event.a) {
      this._resync = false;
      for (const id of this.entities.keys()) {
        if (!(id in event.a)) structural = this.entities.delete(id) || structural;
      }
    }
    for (const [id, full] of Object.entries(event.a || {})) {
      structural ||= !this.entities.has(id);
      this.entities.set(id, {
        state: full.s,
        attributes: full.a,
        last_changed: full.lc,
        last_updated: full.lu ?? full.lc,
      });
      changed.add(id);
    }
    for (const id of event.r || []) {
      structural = this.entities.delete(id) || structural;
    }
    for (const [id, diff] of Object.entries(event.c || {})) {
      const entity = this.entities.get(id);
      if (!entity) continue;
      const plus = diff["+"] || {};
      if ("s" in plus) entity.state = plus.s;
      if ("lc" in plus) entity.last_changed = entity.last_updated = plus.lc;
      else if ("lu" in plus) entity.last_updated = plus.lu;
      if (plus.a || diff["-"]?.a) {
        entity.attributes = { ...entity.attributes, ...plus.a };
        for (const key of diff["-"]?.a || []) delete entity.attributes[key];
      }
      changed.add(id);
    }
    if (changed.size) this.dispatchEvent(new CustomEvent("states", { detail: changed }));
    if (structural) {
      if ([...changed].some((id) => !this.registry.has(id))) this._refreshSoon();
      this.dispatchEvent(new Event("structure"));
    }
  }

  /** The node a device belongs to: the root of its `via_device` chain (the hub's own device is its node). */
  nodeOfDevice(deviceId) {
    let device = this.devices.get(deviceId);
    const seen = new Set();
    while (device?.via_device_id && this.devices.has(device.via_device_id) && !seen.has(device.id)) {
      seen.add(device.id);
      device = this.devices.get(device.via_device_id);
    }
    return device ? device.name_by_user || device.name : null;
  }

  /** Display facts of one entity, from its state and registry entry. */
  describe(entityId) {
    const state = this.entities.get(entityId);
    const entry = this.registry.get(entityId);
    const attributes = state?.attributes || {};
    const deviceId = entry?.device_id ?? null;
    return {
      id: entityId,
      domain: domainOf(entityId),
      name: attributes.friendly_name || entry?.original_name || entityId,
      unit: attributes.unit_of_measurement || "",
      deviceClass: attributes.device_class || null,
      category: entry?.entity_category || null,
      integration: entry?.platform || null,
      deviceId,
      node: deviceId ? this.nodeOfDevice(deviceId) : null,
      state,
    };
  }

  /** Whether the hub offers `domain.service`. */
  hasService(domain, service) {
    return Boolean(this.services[domain]?.[service]);
  }

  callService(domain, service, entityId) {
    return this.connection.command({ type: "call_service", domain, service, target: { entity_id: entityId } });
  }
}
