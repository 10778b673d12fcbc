import { test } from "node:test";
import assert from "node:assert/strict";
import { startServer, client, once, record, msg } from "./fake-server.mjs";

/** A connected client on BTC.trade and ETH.trade, positions seeded by the ack. */
async function connected(srv, options, subs = ["BTC.trade", "ETH.trade"]) {
  const c = client(srv.url, options);
  for (const s of subs) c.subscribe(s);
  const up = once(c, "connected");
  c.connect();
  const conn = await srv.nextConn();
  await conn.answerSubscribe({ positions: { "BTC.trade": "3:10", "ETH.trade": "7:5" } });
  await up;
  return { c, conn };
}

test("after a drop, one subscribe carries last_offset: the ack's positions, or the last delivered pos", async () => {
  const srv = await startServer();
  const { c, conn } = await connected(srv);
  const got = once(c, "message");
  conn.send(msg("BTC.trade", "3:11"));
  await got;
  const dropped = once(c, "disconnected");
  conn.kill();
  const d = await dropped;
  assert.equal(d.code, 1006);
  assert.equal(d.reconnect, true);
  assert.ok(d.delay >= 0 && d.delay <= 10, "first backoff is within [0, base]");
  assert.equal(c.state, "connecting");
  const conn2 = await srv.nextConn();
  const up = once(c, "connected");
  const rec = once(c, "recovered");
  const req = await conn2.answerSubscribe({ positions: { "BTC.trade": "3:50", "ETH.trade": "7:60" } });
  assert.deepEqual(req.data, {
    channels: ["BTC.trade", "ETH.trade"],
    last_offset: { "BTC.trade": "3:11", "ETH.trade": "7:5" },
  });
  assert.equal((await rec).recovered, true);
  await up;
  assert.deepEqual(c.positions(), { "BTC.trade": "3:11", "ETH.trade": "7:5" }, "the ack does not overwrite a kept position");
  assert.equal(conn2.all.length, 1, "exactly one subscribe");
  c.disconnect();
  await srv.close();
});

test("duplicates across an overlapping replay are suppressed; another partition is delivered and adopted", async () => {
  const srv = await startServer();
  const { c, conn } = await connected(srv);
  const got = record(c, "message");
  const first = once(c, "message");
  conn.send(msg("BTC.trade", "3:11"));
  await first;
  conn.kill();
  const conn2 = await srv.nextConn();
  await conn2.answerSubscribe({
    replay: ["3:10", "3:11", "3:12", "3:13"].map((p) => msg("BTC.trade", p, { replayed: true })),
  });
  for (const p of ["3:13", "3:14", "3:12"]) conn2.send(msg("BTC.trade", p));
  // re-partitioned: another partition is delivered and its position kept, then offsets of it must grow
  for (const p of ["5:1", "5:1", "5:0", "5:2"]) conn2.send(msg("BTC.trade", p));
  const last = once(c, "message", (m) => m.channel === "ETH.trade");
  conn2.send(msg("ETH.trade", "7:6"));
  await last;
  assert.deepEqual(
    got.map((m) => m.pos + (m.replayed ? "r" : "")),
    ["3:11", "3:12r", "3:13r", "3:14", "5:1", "5:2", "7:6"],
  );
  assert.equal(c.getSubscription("BTC.trade").position, "5:2");
  c.disconnect();
  await srv.close();
});

test("recovered:false: 'gap' on the subscription and the client with the server's reason; 'recovered' reports it", async () => {
  const srv = await startServer();
  const { c, conn } = await connected(srv);
  conn.kill();
  const conn2 = await srv.nextConn();
  const gap = once(c, "gap");
  const subGap = once(c.getSubscription("BTC.trade"), "gap");
  const rec = once(c, "recovered");
  const ethGaps = record(c.getSubscription("ETH.trade"), "gap");
  const reason = "position older than the topic's retention";
  await conn2.answerSubscribe({
    channels: { "BTC.trade": { recovered: false, replayed: 0, error: reason }, "ETH.trade": { recovered: true, replayed: 0 } },
  });
  assert.deepEqual(await gap, { channel: "BTC.trade", reason });
  assert.deepEqual(await subGap, { channel: "BTC.trade", reason });
  const r = await rec;
  assert.equal(r.recovered, false);
  assert.equal(r.channels["BTC.trade"].error, reason);
  assert.deepEqual(ethGaps, []);
  c.disconnect();
  await srv.close();
});

test("a wildcard subscription gets a 'gap' on every reconnect after the first", async () => {
  const srv = await startServer();
  const c = client(srv.url);
  const w = c.subscribe("BTC.*");
  const gaps = record(w, "gap");
  const up = once(c, "connected");
  c.connect();
  const conn = await srv.nextConn();
  await conn.answerSubscribe();
  await up;
  assert.deepEqual(gaps, [], "no gap on the first connection");
  for (let i = 0; i < 2; i++) {
    const gap = once(w, "gap");
    (await srv.conns.at(-1)).kill();
    const next = await srv.nextConn();
    const req = await next.answerSubscribe();
    assert.deepEqual(req.data, { channels: ["BTC.*"] }, "a wildcard has no position");
    assert.equal((await gap).channel, "BTC.*");
  }
  assert.equal(gaps.length, 2);
  c.disconnect();
  await srv.close();
});

test("disconnect() then connect(): subscriptions and positions kept, recovered with last_offset", async () => {
  const srv = await startServer();
  const { c, conn } = await connected(srv);
  const got = once(c, "message");
  conn.send(msg("ETH.trade", "7:9"));
  await got;
  c.disconnect();
  assert.equal(c.state, "disconnected");
  assert.equal(c.getSubscription("ETH.trade").state, "subscribing");
  assert.deepEqual(c.positions(), { "BTC.trade": "3:10", "ETH.trade": "7:9" });
  await conn.closed;
  const up = once(c, "connected");
  c.connect();
  const conn2 = await srv.nextConn();
  const req = await conn2.answerSubscribe({ replay: [msg("ETH.trade", "7:10", { replayed: true })] });
  assert.deepEqual(req.data.last_offset, { "BTC.trade": "3:10", "ETH.trade": "7:9" });
  await up;
  assert.equal(c.getSubscription("ETH.trade").position, "7:10");
  c.disconnect();
  await srv.close();
});

test("subscribe(channel, {since}) starts from a saved position (a page reload)", async () => {
  const srv = await startServer();
  const c = client(srv.url);
  c.subscribe("BTC.trade", { since: "3:100" });
  c.subscribe("BTC.*", { since: "3:100" }); // ignored: wildcards have no position
  const up = once(c, "connected");
  c.connect();
  const conn = await srv.nextConn();
  const req = await conn.answerSubscribe({ positions: { "BTC.trade": "3:120" }, replay: [msg("BTC.trade", "3:101", { replayed: true })] });
  assert.deepEqual(req.data, { channels: ["BTC.trade", "BTC.*"], last_offset: { "BTC.trade": "3:100" } });
  await up;
  assert.deepEqual(c.positions(), { "BTC.trade": "3:101" });
  c.disconnect();
  await srv.close();
});
