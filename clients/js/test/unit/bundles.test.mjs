import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import vm from "node:vm";
import { startServer, once, msg, WebSocket } from "./fake-server.mjs";

/** Connects with the given build's OdinClient (its defaults: subscribed by the URL), receives one message, disconnects. */
async function roundTrip(OdinClient) {
  const srv = await startServer();
  const c = new OdinClient(srv.url, { WebSocket, heartbeatInterval: 0 });
  try {
    const s = c.subscribe("BTC.trade");
    const up = once(c, "connected");
    c.connect();
    const conn = await srv.nextConn();
    conn.answerUpgrade({ positions: { "BTC.trade": "0:1" } });
    await up;
    const got = once(s, "message");
    conn.send(msg("BTC.trade", "0:2"));
    assert.equal((await got).pos, "0:2");
  } finally {
    c.disconnect(); // also when failed: a client left reconnecting would keep the test process alive
    await srv.close();
  }
}

test("odin-ws.min.js (the <script> bundle) defines the global OdinWs with the exports, and works", async () => {
  const code = readFileSync(new URL("../../dist/odin-ws.min.js", import.meta.url), "utf8");
  const sandbox = { setTimeout, clearTimeout, JSON, Date, Math };
  vm.createContext(sandbox);
  vm.runInContext(code, sandbox);
  assert.deepEqual(Object.keys(sandbox.OdinWs).sort(), ["OdinClient", "Subscription", "backoffDelay", "isAfter", "isEvent", "parsePos"]);
  await roundTrip(sandbox.OdinWs.OdinClient);
});

test("the CommonJS build works", async () => {
  const { OdinClient } = createRequire(import.meta.url)("../../dist/index.cjs");
  await roundTrip(OdinClient);
});

test("connect() without any WebSocket implementation throws a clear error", { skip: !!globalThis.WebSocket && "this Node has a global WebSocket" }, async () => {
  const { OdinClient } = await import("../../dist/index.mjs");
  assert.throws(() => new OdinClient("ws://127.0.0.1:1/ws").connect(), /pass options.WebSocket/);
});
