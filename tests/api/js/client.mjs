// Home Assistant's own WebSocket client against the hub: node client.mjs <hub url> <token>.
// Prints one JSON line per step; tests/api/test_js_client.py drives it and checks each.
import {
  callService,
  createConnection,
  createLongLivedTokenAuth,
  subscribeEntities,
} from "home-assistant-js-websocket";

// Node 20 has no global WebSocket; the library expects one (DESIGN 8).
globalThis.WebSocket = (await import("ws")).default;

const [url, token] = process.argv.slice(2);
const print = (step, data) => console.log(JSON.stringify({ step, ...data }));

let entities = null;
let waiter = null;
const until = (predicate) =>
  new Promise((resolve) => {
    if (entities && predicate(entities)) return resolve(entities);
    waiter = { predicate, resolve };
  });

const conn = await createConnection({ auth: createLongLivedTokenAuth(url, token) });
print("connected", { haVersion: conn.haVersion });
subscribeEntities(conn, (map) => {
  entities = map;
  if (waiter && waiter.predicate(map)) {
    const { resolve } = waiter;
    waiter = null;
    resolve(map);
  }
});
print("initial", { entities: await until(() => true) });

const result = await callService(conn, "test", "set_state", { value: "42" });
const afterCall = await until((map) => map["sensor.js_target"]?.state === "42");
print("called", { result, entities: afterCall });

const final = await until((map) => map["sensor.external"]?.state === "go");
print("final", { entities: final });
conn.close();
process.exit(0);
