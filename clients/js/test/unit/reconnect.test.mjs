import { test } from "node:test";
import assert from "node:assert/strict";
import { backoffDelay, parsePos, isAfter } from "../../dist/index.mjs";
import { startServer, client, once, record, msg, within } from "./fake-server.mjs";

test("backoffDelay: full jitter in [0, min(max, base * 2^n)]", () => {
  for (let n = 0; n < 12; n++) {
    const cap = Math.min(30000, 500 * 2 ** n);
    assert.equal(backoffDelay(n, 500, 30000, () => 0), 0);
    assert.equal(backoffDelay(n, 500, 30000, () => 0.999999), cap * 0.999999);
    assert.equal(backoffDelay(n, 500, 30000, () => 0.5), cap / 2);
  }
  assert.equal(backoffDelay(6, 500, 30000, () => 0.5), 15000, "capped at max from n = 6");
  assert.equal(backoffDelay(40, 500, 30000, () => 1), 30000);
  for (let i = 0; i < 1000; i++) {
    const d = backoffDelay(3, 500, 30000);
    assert.ok(d >= 0 && d < 4000);
  }
});

test("positions: parse and compare", () => {
  assert.deepEqual(parsePos("3:1042"), [3, 1042]);
  assert.deepEqual(parsePos("1042"), [-1, 1042]);
  assert.equal(parsePos("x:1"), undefined);
  assert.equal(parsePos(""), undefined);
  assert.equal(isAfter("3:11", "3:10"), true);
  assert.equal(isAfter("3:10", "3:10"), false);
  assert.equal(isAfter("3:9", "3:10"), false);
  assert.equal(isAfter("4:0", "3:10"), true, "another partition");
  assert.equal(isAfter("3:11", undefined), true);
  assert.equal(isAfter("3:11", "10"), true);
  assert.equal(isAfter("3:9", "10"), false, "a bare offset compares offsets");
});

test("backoff between failed attempts grows, and the attempt counter resets after stableAfter connected", async () => {
  const srv = await startServer();
  const c = client(srv.url, { random: () => 1, minReconnectDelay: 10, maxReconnectDelay: 1000, stableAfter: 1500 });
  const delays = record(c, "disconnected");
  c.connect();
  for (let i = 0; i < 3; i++) (await srv.nextConn()).close(1011, "Internal error");
  let conn = await srv.nextConn();
  assert.deepEqual(delays.map((d) => [d.code, d.delay]), [[1011, 10], [1011, 20], [1011, 40]]);
  conn.close(1008, "Client too slow to process messages");
  conn = await srv.nextConn();
  assert.equal(delays.at(-1).delay, 80, "connected (nothing to subscribe) but not for stableAfter: still counting");
  const up = once(c, "connected");
  await up;
  await new Promise((r) => setTimeout(r, 1600)); // connected for longer than stableAfter
  conn.close(1011, "Internal error");
  await srv.nextConn();
  assert.equal(delays.at(-1).delay, 10, "counter reset");
  c.disconnect();
  await srv.close();
});

test("1012 and 1001 reconnect soon (under a second, not counted) even with a long backoff", async () => {
  const srv = await startServer();
  const c = client(srv.url, { minReconnectDelay: 60_000, maxReconnectDelay: 60_000, random: () => 0.1 });
  const dis = record(c, "disconnected");
  const up = once(c, "connected");
  c.connect();
  (await srv.nextConn());
  await up;
  for (const code of [1012, 1001, 1012]) {
    const again = once(c, "connected");
    srv.conns.at(-1).close(code, "Service restart: reconnect now");
    await srv.nextConn();
    assert.deepEqual(await again, { attempt: 0 }, "not counted as a failed attempt");
  }
  assert.deepEqual(dis.map((d) => [d.code, d.delay, d.reconnect]), [[1012, 100, true], [1001, 100, true], [1012, 100, true]]);
  c.disconnect();
  await srv.close();
});

test("heartbeat watchdog: a silent server gets a heartbeat, then the connection is closed and reconnected", async () => {
  const srv = await startServer();
  const c = client(srv.url, { heartbeatInterval: 300, heartbeatTimeout: 300 });
  c.subscribe("BTC.trade");
  const up = once(c, "connected");
  c.connect();
  const conn = await srv.nextConn();
  await conn.answerSubscribe();
  await up;
  // a live server answers: pongs keep the connection
  for (let i = 0; i < 3; i++) {
    await conn.next("heartbeat");
    conn.send({ type: "pong", ts: Date.now() });
  }
  assert.equal(c.state, "connected");
  assert.equal(srv.conns.length, 1);
  // now the server goes silent with the TCP connection open
  const gone = once(c, "disconnected");
  await conn.next("heartbeat");
  const d = await gone;
  assert.equal(d.reason, "heartbeat timeout");
  assert.equal(d.reconnect, true);
  const conn2 = await srv.nextConn();
  const again = once(c, "connected");
  await conn2.answerSubscribe();
  await again;
  c.disconnect();
  await srv.close();
});

test("connectTimeout: no answer to subscribe closes the socket and reconnects", async () => {
  const srv = await startServer();
  const c = client(srv.url, { connectTimeout: 200 });
  c.subscribe("BTC.trade");
  const gone = once(c, "disconnected");
  c.connect();
  const conn = await srv.nextConn();
  await conn.next("subscribe");
  assert.equal((await gone).reason, "connect timeout");
  const conn2 = await srv.nextConn();
  const up = once(c, "connected");
  await conn2.answerSubscribe();
  await up;
  c.disconnect();
  await srv.close();
});

test("HTTP 503 with Retry-After on the upgrade: the next attempt waits at least Retry-After", async () => {
  const srv = await startServer();
  srv.refuse.push({ status: 503, headers: { "Retry-After": "1" } });
  const c = client(srv.url, { random: () => 0 });
  const errors = record(c, "error");
  const gone = once(c, "disconnected");
  c.connect();
  const d = await gone;
  assert.equal(d.delay, 1000);
  assert.deepEqual(errors, [{ kind: "transport", code: "HTTP_503", message: "upgrade refused: HTTP 503" }], "one error, with the status");
  await srv.nextConn();
  const waited = srv.upgrades[1] - srv.upgrades[0];
  assert.ok(waited >= 950, `waited ${waited} ms`);
  c.disconnect();
  await srv.close();
});

test("HTTP 429 with Retry-After as an HTTP date is honoured too", async () => {
  const srv = await startServer();
  srv.refuse.push({ status: 429, headers: { "Retry-After": new Date(Date.now() + 2000).toUTCString() } });
  const c = client(srv.url, { random: () => 0 });
  const gone = once(c, "disconnected");
  c.connect();
  const d = await gone;
  assert.ok(d.delay > 500 && d.delay <= 2000, `delay ${d.delay}`);
  c.disconnect();
  await srv.close();
});

test("a server that cannot be reached: attempts back off until it is up, then the client connects", async () => {
  const srv = await startServer();
  const port = new URL(srv.url).port;
  await srv.close();
  const c = client(srv.url, { random: () => 1, minReconnectDelay: 20, maxReconnectDelay: 80 });
  const dis = record(c, "disconnected");
  c.subscribe("BTC.trade");
  c.connect();
  await once(c, "disconnected", () => dis.length >= 4);
  assert.deepEqual(dis.slice(0, 4).map((d) => [d.code, d.delay]), [[1006, 20], [1006, 40], [1006, 80], [1006, 80]]);
  assert.equal(c.state, "connecting");
  const srv2 = await startServer(+port);
  const conn = await srv2.nextConn();
  const up = once(c, "connected");
  await conn.answerSubscribe();
  assert.ok((await up).attempt >= 4);
  c.disconnect();
  await srv2.close();
});

test("connectTimeout does not cut a recovery that is slow to start (a Kafka read), but one that stalls for 3x", async () => {
  const srv = await startServer();
  const c = client(srv.url, { connectTimeout: 500 });
  c.subscribe("BTC.trade", { since: "0:5" });
  const dis = record(c, "disconnected");
  const up = once(c, "connected");
  c.connect();
  const conn = await srv.nextConn();
  const req = await conn.next("subscribe");
  conn.send({ type: "subscription_ack", subscribed: req.data.channels, count: 1, positions: {} });
  await new Promise((r) => setTimeout(r, 800)); // the server reads history: silence beyond connectTimeout
  conn.send(msg("BTC.trade", "0:6", { replayed: true }));
  conn.send({ type: "reconnect_ack", status: "completed", messages_replayed: 1, recovered: true, channels: { "BTC.trade": { recovered: true, replayed: 1 } } });
  await up;
  assert.deepEqual(dis, []);
  c.disconnect();

  // the same, but the recovery never ends
  const c2 = client(srv.url, { connectTimeout: 500 });
  c2.subscribe("BTC.trade", { since: "0:5" });
  const gone = once(c2, "disconnected");
  const t0 = Date.now();
  c2.connect();
  const conn2 = await srv.nextConn();
  const req2 = await conn2.next("subscribe");
  conn2.send({ type: "subscription_ack", subscribed: req2.data.channels, count: 1, positions: {} });
  assert.equal((await gone).reason, "connect timeout");
  assert.ok(Date.now() - t0 >= 1400, "allowed 3 x connectTimeout of silence");
  c2.disconnect();
  await srv.close();
});

test("heartbeat watchdog: a timer that fires late (a throttled background tab) sends a heartbeat before condemning", async () => {
  const srv = await startServer();
  const c = client(srv.url, { heartbeatInterval: 300, heartbeatTimeout: 300 });
  const dis = record(c, "disconnected");
  const up = once(c, "connected");
  c.connect();
  const conn = await srv.nextConn();
  conn.ws.on("message", (d) => {
    if (JSON.parse(d.toString()).type === "heartbeat") conn.send({ type: "pong", ts: Date.now() });
  });
  await up;
  const end = Date.now() + 800; // the event loop is blocked past interval + timeout: the watchdog's timer fires late
  while (Date.now() < end);
  for (let i = 0; i < 3; i++) await conn.next("heartbeat");
  assert.deepEqual(dis, [], "a quiet, healthy connection is kept");
  assert.equal(srv.conns.length, 1);
  c.disconnect();
  await srv.close();
});

test("a browser's 'online' event cuts a reconnect's backoff short", async () => {
  const target = new EventTarget(); // what a browser's window is to this; Node has no global one
  globalThis.addEventListener = target.addEventListener.bind(target);
  globalThis.removeEventListener = target.removeEventListener.bind(target);
  try {
    const srv = await startServer();
    const c = client(srv.url, { minReconnectDelay: 60_000, maxReconnectDelay: 60_000, random: () => 0.5 });
    const dis = once(c, "disconnected");
    c.connect();
    (await srv.nextConn()).close(1011, "Internal error");
    assert.equal((await dis).delay, 30_000, "a long backoff");
    const next = srv.nextConn();
    target.dispatchEvent(new Event("online"));
    await within("a connection at once after 'online'", (r) => next.then(r), 5000);
    c.disconnect();
    await srv.close();
  } finally {
    delete globalThis.addEventListener;
    delete globalThis.removeEventListener;
  }
});
