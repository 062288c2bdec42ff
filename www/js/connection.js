// The WebSocket link to the hub in Home Assistant's protocol: auth, numbered commands, subscriptions, reconnect.

export class AuthError extends Error {}

const RETRY_MAX_MS = 15000;
// A socket can die without a close (a phone asleep, a NAT timeout): a ping unanswered this long ends it.
const PING_EVERY_MS = 30000;
const PING_TIMEOUT_MS = 10000;

/** One authenticated WebSocket; re-connects and re-subscribes by itself after a drop. */
export class Connection extends EventTarget {
  constructor(url, token) {
    super();
    this.url = url;
    this.token = token;
    this._socket = null;
    this._nextId = 1;
    this._pending = new Map(); // id -> {resolve, reject}
    this._subscriptions = new Map(); // current id -> {message, onEvent}
    this._closed = false;
    this._retryMs = 500;
  }

  /** Connect and authenticate; rejects with AuthError when the hub refuses the token. */
  async open() {
    const socket = await this._connect();
    this._attach(socket);
    await this.command({ type: "supported_features", features: { coalesce_messages: 1 } });
  }

  _connect() {
    return new Promise((resolve, reject) => {
      const socket = new WebSocket(this.url);
      let settled = false;
      const fail = (err) => {
        if (!settled) { settled = true; reject(err); }
      };
      socket.onclose = () => fail(new Error("The hub closed the connection before login finished."));
      socket.onerror = () => fail(new Error("Cannot reach the hub."));
      socket.onmessage = (frame) => {
        const message = JSON.parse(frame.data);
        if (message.type === "auth_required") {
          socket.send(JSON.stringify({ type: "auth", access_token: this.token }));
        } else if (message.type === "auth_ok") {
          settled = true;
          resolve(socket);
        } else if (message.type === "auth_invalid") {
          fail(new AuthError(message.message || "Invalid access token"));
          socket.close();
        }
      };
    });
  }

  _attach(socket) {
    this._socket = socket;
    this._nextId = 1;
    socket.onmessage = (frame) => {
      const data = JSON.parse(frame.data);
      for (const message of Array.isArray(data) ? data : [data]) this._dispatch(message);
    };
    socket.onclose = () => this._dropped();
    socket.onerror = null;
    clearInterval(this._pinger);
    this._pinger = setInterval(() => this._ping(socket), PING_EVERY_MS);
  }

  async _ping(socket) {
    const timeout = new Promise((_, reject) => setTimeout(() => reject(new Error("ping timeout")), PING_TIMEOUT_MS));
    try {
      await Promise.race([this.command({ type: "ping" }), timeout]);
    } catch {
      if (this._socket !== socket) return;
      // Do not wait for a close handshake a dead peer never answers.
      socket.onclose = null;
      socket.close();
      this._dropped();
    }
  }

  _dispatch(message) {
    if (message.type === "event") {
      this._subscriptions.get(message.id)?.onEvent(message.event);
      return;
    }
    const pending = this._pending.get(message.id);
    if (!pending) return;
    this._pending.delete(message.id);
    if (message.type === "pong" || message.success) pending.resolve(message.result ?? null);
    else pending.reject(new Error(message.error?.message || "Command failed"));
  }

  /** Send one command; resolves with its result. */
  command(message) {
    if (!this._socket || this._socket.readyState !== WebSocket.OPEN) {
      return Promise.reject(new Error("Not connected to the hub."));
    }
    const id = this._nextId++;
    return new Promise((resolve, reject) => {
      this._pending.set(id, { resolve, reject });
      this._socket.send(JSON.stringify({ ...message, id }));
    });
  }

  /** Start a subscription (kept across reconnects); resolves with a function that ends it. */
  async subscribe(message, onEvent) {
    const entry = { message, onEvent, id: null };
    await this._start(entry);
    return async () => {
      const id = entry.id;
      this._subscriptions.delete(id);
      await this.command({ type: "unsubscribe_events", subscription: id }).catch(() => {});
    };
  }

  async _start(entry) {
    const id = this._nextId; // the id `command` is about to use: events may arrive with the result
    entry.id = id;
    this._subscriptions.set(id, entry);
    try {
      await this.command(entry.message);
    } catch (err) {
      this._subscriptions.delete(id);
      throw err;
    }
  }

  _dropped() {
    for (const { reject } of this._pending.values()) reject(new Error("Connection to the hub lost."));
    this._pending.clear();
    this._socket = null;
    clearInterval(this._pinger);
    if (this._closed) return;
    this.dispatchEvent(new Event("disconnected"));
    setTimeout(() => this._reconnect(), this._retryMs);
  }

  async _reconnect() {
    if (this._closed) return;
    try {
      const socket = await this._connect();
      this._attach(socket);
      this._retryMs = 500;
      await this.command({ type: "supported_features", features: { coalesce_messages: 1 } });
      const entries = [...this._subscriptions.values()];
      this._subscriptions.clear();
      for (const entry of entries) await this._start(entry);
      this.dispatchEvent(new Event("reconnected"));
    } catch (err) {
      if (err instanceof AuthError) {
        this._closed = true;
        this.dispatchEvent(new CustomEvent("auth-invalid", { detail: err.message }));
        return;
      }
      this._retryMs = Math.min(this._retryMs * 2, RETRY_MAX_MS);
      setTimeout(() => this._reconnect(), this._retryMs);
    }
  }

  close() {
    this._closed = true;
    this._socket?.close();
  }
}
