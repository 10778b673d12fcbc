import { test } from "node:test";
import assert from "node:assert/strict";
import { startServer, client, once, record, msg, within } from "./fake-server.mjs";

test("states and events: connecting, then connected only after every ack; disconnect() stays disconnected", async () => {
  const srv = await startServer();
  const c = client(srv.url);
  const seen = [];
  c.on("state", (e) => seen.push(e.previous + ">" + e.state));
  const sub = c.subscribe("BTC.trade");
  assert.equal(c.state, "disconnected");
  assert.equal(sub.state, "subscribing");
  const connected = once(c, "connected");
  c.connect();
  c.connect(); // idempotent
  assert.equal(c.state, "connecting");
  const conn = await srv.nextConn();
  const req = await conn.next();
  assert.deepEqual(req, { type: "subscribe", data: { channels: ["BTC.trade"] } });
  assert.equal(c.state, "connecting");
  conn.send({ type: "subscription_ack", subscribed: ["BTC.trade"], count: 1, positions: { "BTC.trade": "3:41" } });
  assert.deepEqual(await connected, { attempt: 0 });
  assert.equal(sub.state, "subscribed");
  assert.equal(sub.position, "3:41");
  assert.deepEqual(c.positions(), { "BTC.trade": "3:41" });

  const got = once(sub, "message");
  conn.send(msg("BTC.trade", "3:42"));
  const m = await got;
  assert.equal(m.pos, "3:42");
  assert.equal(m.seq, 42);
  assert.equal(m.replayed, false);
  assert.equal(m.data.type, "TRADE_EXECUTED");

  const gone = once(c, "disconnected");
  c.disconnect();
  assert.deepEqual(await gone, { code: 1000, reason: "disconnect", reconnect: false, delay: -1 });
  assert.equal(c.state, "disconnected");
  assert.deepEqual(seen, ["disconnected>connecting", "connecting>connected", "connected>disconnected"]);
  assert.equal(c.subscriptions().length, 1, "subscriptions are kept");
  assert.equal((await conn.closed).code, 1000);
  await srv.close();
});

test("auth first: auth with getToken's token, subscribe only after auth_ack, 'auth' event", async () => {
  const srv = await startServer();
  let calls = 0;
  const c = client(srv.url, { getToken: async () => "tok-" + ++calls });
  c.subscribe("BTC.trade");
  c.connect();
  const conn = await srv.nextConn();
  assert.deepEqual(await conn.next(), { type: "auth", data: { token: "tok-1" } });
  assert.equal(conn.inbox.length, 0, "nothing before auth_ack");
  const auth = once(c, "auth");
  conn.send({ type: "auth_ack", sub: "u1", expires_at: null });
  assert.deepEqual(await auth, { sub: "u1", expiresAt: null });
  const connected = once(c, "connected");
  await conn.answerSubscribe();
  await connected;
  assert.deepEqual(conn.all.map((m) => m.type), ["auth", "subscribe"]);
  assert.equal(calls, 1);
  c.disconnect();
  await srv.close();
});

test("auth_error AUTH_DISABLED: the client subscribes anonymously", async () => {
  const srv = await startServer();
  const c = client(srv.url, { getToken: () => "t" });
  c.subscribe("BTC.trade");
  const err = once(c, "error");
  c.connect();
  const conn = await srv.nextConn();
  await conn.next("auth");
  conn.send({ type: "auth_error", code: "AUTH_DISABLED", message: "off" });
  assert.equal((await err).code, "AUTH_DISABLED");
  const connected = once(c, "connected");
  await conn.answerSubscribe();
  await connected;
  c.disconnect();
  await srv.close();
});

test("chunking: one subscribe per maxChannelsPerRequest channels, last_offset only for channels with a position; connected after every ack", async () => {
  const srv = await startServer();
  const c = client(srv.url, { maxChannelsPerRequest: 3 });
  const names = ["A", "B", "C", "D", "E", "F", "G"].map((t) => t + ".trade");
  for (const n of names) c.subscribe(n, n === "E.trade" ? { since: "1:5" } : {});
  let connected = false;
  c.on("connected", () => (connected = true));
  c.connect();
  const conn = await srv.nextConn();
  const r1 = await conn.next();
  const r2 = await conn.next();
  const r3 = await conn.next();
  assert.deepEqual([r1, r2, r3].map((r) => r.data.channels), [names.slice(0, 3), names.slice(3, 6), names.slice(6)]);
  assert.equal(r1.data.last_offset, undefined, "no empty last_offset");
  assert.deepEqual(r2.data.last_offset, { "E.trade": "1:5" });
  const ack = (r) => conn.send({ type: "subscription_ack", subscribed: r.data.channels, count: 0, positions: {} });
  const lastAcked = once(c.getSubscription("G.trade"), "state", (e) => e.state === "subscribed");
  ack(r1);
  ack(r2);
  ack(r3);
  const done = once(c, "connected");
  await lastAcked; // every subscription_ack handled (in order)...
  assert.equal(connected, false, "...but connected waits for the reconnect_ack of the chunk that carried a position");
  conn.send({ type: "reconnect_ack", status: "completed", messages_replayed: 0, recovered: true, channels: { "E.trade": { recovered: true, replayed: 0 } } });
  await done;
  assert.equal(c.state, "connected");
  c.disconnect();
  await srv.close();
});

test("a rejected channel: the subscription's 'error', state unsubscribed, removed; the others stay", async () => {
  const srv = await startServer();
  const c = client(srv.url);
  const good = c.subscribe("BTC.trade");
  const bad = c.subscribe("BTC.nope");
  const badStates = record(bad, "state");
  const err = once(bad, "error");
  const connected = once(c, "connected");
  c.connect();
  const conn = await srv.nextConn();
  await conn.answerSubscribe({ rejected: [{ channel: "BTC.nope", reason: "unknown category 'nope'" }] });
  assert.deepEqual(await err, { reason: "unknown category 'nope'" });
  await connected;
  assert.equal(bad.state, "unsubscribed");
  assert.deepEqual(badStates, [{ state: "unsubscribed", previous: "subscribing" }]);
  assert.equal(c.getSubscription("BTC.nope"), undefined);
  assert.equal(good.state, "subscribed");
  assert.deepEqual(c.subscriptions(), [good]);
  c.disconnect();
  await srv.close();
});

test("subscribe() and unsubscribe() while connected are sent at once; subscribe() of a subscribed channel returns it", async () => {
  const srv = await startServer();
  const c = client(srv.url);
  const connected = once(c, "connected");
  c.connect();
  const conn = await srv.nextConn();
  await connected; // no subscription: nothing to subscribe, connected once open
  const s = c.subscribe("ETH.trade", { since: "2:9" });
  assert.equal(c.subscribe("ETH.trade"), s);
  const req = await conn.next("subscribe");
  assert.deepEqual(req.data, { channels: ["ETH.trade"], last_offset: { "ETH.trade": "2:9" } });
  s.unsubscribe();
  assert.deepEqual((await conn.next("unsubscribe")).data, { channels: ["ETH.trade"] });
  assert.equal(s.state, "unsubscribed");
  assert.deepEqual(c.positions(), {});
  c.disconnect();
  await srv.close();
});

test("a message is handed to every matching subscription (exact and wildcards) and to the client once; unknown types ignored", async () => {
  const srv = await startServer();
  const c = client(srv.url);
  const exact = c.subscribe("BTC.trade");
  const tok = c.subscribe("BTC.*");
  const cat = c.subscribe("*.trade");
  const other = c.subscribe("ETH.*");
  const all = record(c, "message");
  const per = [exact, tok, cat, other].map((s) => record(s, "message"));
  const errors = record(c, "error");
  const connected = once(c, "connected");
  c.connect();
  const conn = await srv.nextConn();
  await conn.answerSubscribe({ positions: { "BTC.trade": "0:1" } });
  await connected;
  conn.send({ type: "something_new", x: 1 });
  conn.send(msg("BTC.trade", "0:2"));
  const last = once(c, "message", (m) => m.channel === "SOL.trade");
  conn.send(msg("SOL.trade", "4:7"));
  await last;
  assert.deepEqual(all.map((m) => m.pos), ["0:2", "4:7"]);
  assert.deepEqual(per.map((l) => l.map((m) => m.pos)), [["0:2"], ["0:2"], ["0:2", "4:7"], []]);
  assert.deepEqual(errors, []);
  c.disconnect();
  await srv.close();
});

test("a listener that throws does not break delivery; its exception surfaces asynchronously", async () => {
  const srv = await startServer();
  const saved = process.listeners("uncaughtException");
  process.removeAllListeners("uncaughtException");
  const thrown = [];
  let surfaced;
  const rethrown = new Promise((r) => (surfaced = r));
  process.on("uncaughtException", (e) => {
    thrown.push(e.message);
    surfaced();
  });
  try {
    const c = client(srv.url);
    const s = c.subscribe("BTC.trade");
    s.on("message", (m) => {
      if (m.pos === "0:2") throw new Error("app bug");
    });
    const got = record(s, "message");
    const clientGot = record(c, "message");
    const connected = once(c, "connected");
    c.connect();
    const conn = await srv.nextConn();
    await conn.answerSubscribe({ positions: { "BTC.trade": "0:1" } });
    await connected;
    const third = once(s, "message", (m) => m.pos === "0:4");
    for (const p of ["0:2", "0:3", "0:4"]) conn.send(msg("BTC.trade", p));
    await third;
    await within("the exception rethrown", (resolve) => rethrown.then(resolve));
    assert.deepEqual(got.map((m) => m.pos), ["0:2", "0:3", "0:4"]);
    assert.deepEqual(clientGot.map((m) => m.pos), ["0:2", "0:3", "0:4"]);
    assert.deepEqual(thrown, ["app bug"]);
    assert.equal(c.state, "connected");
    c.disconnect();
  } finally {
    process.removeAllListeners("uncaughtException");
    for (const l of saved) process.on("uncaughtException", l);
    await srv.close();
  }
});

test("revoked in auth_ack ends those subscriptions", async () => {
  const srv = await startServer();
  const c = client(srv.url, { getToken: () => "t" });
  const s = c.subscribe("ETH.trade");
  c.subscribe("BTC.trade");
  const connected = once(c, "connected");
  c.connect();
  const conn = await srv.nextConn();
  await conn.next("auth");
  conn.send({ type: "auth_ack", sub: "u", expires_at: null });
  await conn.answerSubscribe();
  await connected;
  const err = once(s, "error");
  conn.send({ type: "auth_ack", sub: "u", expires_at: null, revoked: ["ETH.trade"] });
  assert.match((await err).reason, /revoked/);
  assert.equal(s.state, "unsubscribed");
  assert.deepEqual(c.subscriptions().map((x) => x.channel), ["BTC.trade"]);
  c.disconnect();
  await srv.close();
});

test("an option given as undefined keeps its default", async () => {
  const srv = await startServer();
  const c = client(srv.url, { maxChannelsPerRequest: undefined, minReconnectDelay: undefined });
  const names = Array.from({ length: 201 }, (_, i) => "T" + i + ".trade");
  for (const n of names) c.subscribe(n);
  c.connect();
  const conn = await srv.nextConn();
  assert.equal((await conn.next("subscribe")).data.channels.length, 200, "default 200 per request");
  assert.equal((await conn.next("subscribe")).data.channels.length, 1);
  c.disconnect();
  await srv.close();
});
