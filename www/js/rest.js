// REST calls to the hub with the bearer token: history, statistics, integrations, checks, poll now.

export class RestError extends Error {
  constructor(message, status) {
    super(message);
    this.status = status;
  }
}

export class Rest {
  constructor(token) {
    this.token = token;
  }

  async request(method, path, body) {
    const headers = { Authorization: `Bearer ${this.token}` };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    const response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    const type = response.headers.get("Content-Type") || "";
    const data = type.includes("json") ? await response.json() : await response.text();
    if (!response.ok) throw new RestError(data?.message || String(data) || response.statusText, response.status);
    return data;
  }

  /** HA history rows of one entity between two dates, oldest first. */
  async history(entityId, start, end) {
    const query = new URLSearchParams({ filter_entity_id: entityId, end_time: end.toISOString() });
    const path = `/api/history/period/${encodeURIComponent(start.toISOString())}?${query}&minimal_response&no_attributes`;
    const lists = await this.request("GET", path);
    return lists[0] || [];
  }

  /** History of every entity a filter (ids, a domain or a glob) matches, in one request: entity id -> [{t, v}]. */
  async historyMany(filter, start, end) {
    const query = new URLSearchParams({ filter_entity_id: filter, end_time: end.toISOString() });
    const path = `/api/history/period/${encodeURIComponent(start.toISOString())}?${query}&minimal_response&no_attributes`;
    const lists = await this.request("GET", path);
    const found = new Map();
    for (const rows of lists) {
      if (!rows.length) continue;
      found.set(rows[0].entity_id, rows.map((row) => {
        const value = Number.parseFloat(row.state);
        return { t: Date.parse(row.last_changed ?? row.last_updated), v: Number.isFinite(value) ? value : null };
      }));
    }
    return found;
  }

  /** Long-term statistics rows (mean/min/max per period) of one entity. */
  async statistics(entityId, period, start, end) {
    const query = new URLSearchParams({
      statistic_ids: entityId,
      period,
      start: start.toISOString(),
      end_time: end.toISOString(),
    });
    const result = await this.request("GET", `/api/hub/statistics?${query}`);
    return result[entityId] || [];
  }

  /** Hourly (or 5-minute) statistics of many entities in one request, as chart data: entity id -> {points, band}. */
  async statisticsMany(entityIds, period, start, end) {
    const query = new URLSearchParams({
      statistic_ids: entityIds.join(","),
      period,
      start: start.toISOString(),
      end_time: end.toISOString(),
    });
    const result = await this.request("GET", `/api/hub/statistics?${query}`);
    const found = new Map();
    for (const [id, rows] of Object.entries(result)) {
      found.set(id, {
        points: rows.map((row) => ({ t: row.start, v: row.mean ?? row.state ?? null })),
        band: rows.filter((row) => row.min !== null && row.min !== undefined)
          .map((row) => ({ t: row.start, min: row.min, max: row.max, mean: row.mean })),
        states: [],
      });
    }
    return found;
  }

  /** The 5-minute means of every measurement the filter matches over the last `hours`: id -> [[ms, mean], ...]. */
  sparklines(filter, hours) {
    const query = new URLSearchParams({ filter_entity_id: filter, hours: String(hours) });
    return this.request("GET", `/api/hub/sparklines?${query}`);
  }

  integrations() {
    return this.request("GET", "/api/hub/integrations");
  }

  pollNow(id) {
    return this.request("POST", `/api/hub/integrations/${encodeURIComponent(id)}/poll`);
  }
}
