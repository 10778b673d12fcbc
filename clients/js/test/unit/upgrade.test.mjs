// Subscribing on the upgrade (docs/protocol.md section 3): the channels in the URL when nothing needs a message.
import { test } from "node:test";
import assert from "node:assert/strict";
import { OdinClient } from "../../dist/index.mjs";
import { startServer, client, once, msg, WebSocket } from "./fake-server.mjs";

const URL_SUB = { subscribeOnUpgrade: true };

test("by default a first connection names its channels in the URL, sends nothing and is connected on the ack", async () => {
  const srv = await startServer();
  const c = new OdinClient(srv.url, { WebSocket, heartbeatInterval: 0 }); // the defaults
  try {
    const trade = c.subscribe("BTC.trade");
    const any = c.subscribe("ETH.*");
    const connected = once(c, "connected");
    c.connect();
    const conn = await srv.nextConn();
    assert.equal(conn.req.url, "/ws?subscribe=BTC.trade,ETH.*");
    conn.answerUpgrade({ positions: { "BTC.trade": "3:41" } });
    await connected;
    assert.equal(trade.state, "subscribed");
    assert.equal(any.state, "subscribed");
    assert.equal(trade.position, "3:41");
    const got = once(trade, "message");
    conn.send(msg("BTC.trade", "3:42"));
    assert.equal((await got).pos, "3:42");
    assert.deepEqual(conn.all, [], "no subscribe message");
  } finally {
    c.disconnect(); // not the helper's client: a failed test must not leave it reconnecting
    await srv.close();
  }
});

test("a snapshot size goes in the URL; the snapshot is awaited as a message's would be", async () => {
  const srv = await startServer();
  const c = client(srv.url, URL_SUB);
  const sub = c.subscribe("BTC.trade", { snapshot: 2 });
  const got = [];
  sub.on("message", (m) => got.push(m.pos));
  const connected = once(c, "connected");
  c.connect();
  const conn = await srv.nextConn();
  assert.equal(conn.req.url, "/ws?subscribe=BTC.trade&snapshot=2");
  conn.answerUpgrade({ snapshot: { history: { "BTC.trade": ["3:7", "3:8", "3:9"] } } });
  await connected;
  assert.deepEqual(got, ["3:8", "3:9"]);
  assert.equal(sub.position, "3:9");
  assert.deepEqual(conn.all, []);
  c.disconnect();
  await srv.close();
});

test("a reconnect with positions recovers by message, its URL naming nothing", async () => {
  const srv = await startServer();
  const c = client(srv.url, URL_SUB);
  c.subscribe("BTC.trade");
  c.connect();
  const first = await srv.nextConn();
  first.answerUpgrade({ positions: { "BTC.trade": "3:41" } });
  await once(c, "connected");
  first.kill();
  const second = await srv.nextConn();
  assert.equal(second.req.url, "/ws");
  const recovered = once(c, "recovered");
  const req = await second.answerSubscribe();
  assert.deepEqual(req.data, { channels: ["BTC.trade"], last_offset: { "BTC.trade": "3:41" } });
  await recovered;
  c.disconnect();
  await srv.close();
});

test("by message when a message must come first or the URL cannot carry it", async () => {
  const cases = [
    ["a token (auth first)", { getToken: () => "t" }, (c) => c.subscribe("BTC.trade")],
    ["a saved position", {}, (c) => c.subscribe("BTC.trade", { since: "3:1" })],
    ["two snapshot sizes", {}, (c) => (c.subscribe("BTC.trade", { snapshot: 5 }), c.subscribe("ETH.trade"))],
    ["a comma in a name", {}, (c) => c.subscribe("A,B.trade")],
    ["too long a URL", {}, (c) => { for (let i = 0; i < 150; i++) c.subscribe("TOKEN" + i + ".trade"); }],
    ["turned off", { subscribeOnUpgrade: false }, (c) => c.subscribe("BTC.trade")],
  ];
  for (const [what, options, subscribe] of cases) {
    const srv = await startServer();
    const c = client(srv.url, { ...URL_SUB, ...options });
    subscribe(c);
    c.connect();
    const conn = await srv.nextConn();
    assert.equal(conn.req.url, "/ws", what);
    const first = await conn.next();
    assert.equal(first.type, options.getToken ? "auth" : "subscribe", what);
    c.disconnect();
    await srv.close();
  }
});

test("the URL's own query is kept; names are percent-encoded", async () => {
  const srv = await startServer();
  const c = client(srv.url + "?app=1", URL_SUB);
  c.subscribe("A#B.trade");
  c.connect();
  const conn = await srv.nextConn();
  assert.equal(conn.req.url, "/ws?app=1&subscribe=A%23B.trade");
  assert.deepEqual(conn.upgradeSubscribe().data.channels, ["A#B.trade"]);
  c.disconnect();
  await srv.close();
});

test("subscriptions added while connecting go by message, those ended are unsubscribed", async () => {
  const srv = await startServer();
  const c = client(srv.url, URL_SUB);
  const kept = c.subscribe("BTC.trade");
  const ended = c.subscribe("ETH.trade");
  c.connect();
  const conn = await srv.nextConn(); // the URL is built: the socket is open or opening
  assert.equal(conn.req.url, "/ws?subscribe=BTC.trade,ETH.trade");
  ended.unsubscribe();
  const added = c.subscribe("SOL.trade");
  assert.deepEqual(await conn.next(), { type: "unsubscribe", data: { channels: ["ETH.trade"] } });
  const connected = once(c, "connected");
  conn.answerUpgrade();
  assert.deepEqual((await conn.answerSubscribe()).data, { channels: ["SOL.trade"] });
  await connected;
  assert.equal(kept.state, "subscribed");
  assert.equal(added.state, "subscribed");
  assert.deepEqual(c.subscriptions().map((s) => s.channel), ["BTC.trade", "SOL.trade"]);
  c.disconnect();
  await srv.close();
});

test("a server that ignores the URL's subscribe: the connect timeout, then subscribed by message", async () => {
  const srv = await startServer();
  const c = client(srv.url, { ...URL_SUB, connectTimeout: 300 });
  c.subscribe("BTC.trade");
  c.connect();
  const first = await srv.nextConn();
  assert.equal(first.req.url, "/ws?subscribe=BTC.trade");
  const second = await srv.nextConn(); // nothing answered: the client gave up on the first
  assert.equal(second.req.url, "/ws");
  const connected = once(c, "connected");
  await second.answerSubscribe();
  await connected;
  c.disconnect();
  await srv.close();
});

test("a server that is down keeps the URL's subscribe for the next attempt", async () => {
  const srv = await startServer();
  const port = new URL(srv.url).port;
  await srv.close();
  const c = client(`ws://127.0.0.1:${port}/ws`, URL_SUB);
  c.subscribe("BTC.trade");
  const failed = once(c, "disconnected");
  c.connect();
  await failed;
  const back = await startServer(+port);
  const conn = await back.nextConn();
  assert.equal(conn.req.url, "/ws?subscribe=BTC.trade");
  c.disconnect();
  await back.close();
});
