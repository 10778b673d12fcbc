// Issue 18 in the SDK: snapshot on subscribe, conflated messages (skipped), compression with ws.
import { test } from "node:test";
import assert from "node:assert/strict";
import { startServer, client, once, record, msg } from "./fake-server.mjs";

test("snapshot: only channels without a position ask, grouped by N, each group chunked; wildcards and since never ask", async () => {
  const srv = await startServer();
  const c = client(srv.url, { maxChannelsPerRequest: 2 });
  for (const t of ["A", "B", "C"]) c.subscribe(t + ".trade", { snapshot: 5 });
  c.subscribe("D.trade", { snapshot: 2 });
  c.subscribe("E.trade", { snapshot: 5, since: "1:9" }); // a position: recovery, no snapshot
  c.subscribe("F.trade");
  c.subscribe("G.*", { snapshot: 5 }); // wildcards have no snapshot
  const up = once(c, "connected");
  c.connect();
  const conn = await srv.nextConn();
  const reqs = [];
  for (let i = 0; i < 5; i++) reqs.push(await conn.answerSubscribe());
  await up;
  assert.deepEqual(reqs.map((r) => r.data), [
    { channels: ["A.trade", "B.trade"], snapshot: 5 },
    { channels: ["C.trade"], snapshot: 5 },
    { channels: ["D.trade"], snapshot: 2 },
    { channels: ["E.trade", "F.trade"], last_offset: { "E.trade": "1:9" } },
    { channels: ["G.*"] },
  ]);
  assert.throws(() => c.subscribe("H.trade", { snapshot: 1.5 }), RangeError);
  assert.throws(() => c.subscribe("H.trade", { snapshot: -1 }), RangeError);
  assert.equal(c.getSubscription("H.trade"), undefined);
  c.disconnect();
  await srv.close();
});

test("snapshot messages: in order, marked, not dropped though at or before the ack's position; subscribed and connected after snapshot_ack; positions the highest seen", async () => {
  const srv = await startServer();
  const c = client(srv.url);
  const btc = c.subscribe("BTC.trade", { snapshot: 3 });
  const eth = c.subscribe("ETH.trade", { snapshot: 3 });
  const wild = c.subscribe("BTC.*"); // history is for the subscription that asked for it
  const got = record(c, "message");
  const btcGot = record(btc, "message");
  const wildGot = record(wild, "message");
  const gaps = record(c, "gap");
  let connectedAt = -1;
  c.on("connected", () => (connectedAt = got.length));
  const btcSnap = once(btc, "snapshot");
  const ethSnap = once(eth, "snapshot");
  const ack = once(c, "snapshot");
  c.connect();
  const conn = await srv.nextConn();
  const req = await conn.answerSubscribe({ positions: { "BTC.trade": "3:50", "ETH.trade": "7:20" }, snapshot: false });
  assert.deepEqual(req.data, { channels: ["BTC.trade", "ETH.trade"], snapshot: 3 });
  await conn.answerSubscribe(); // BTC.*
  const first = once(c, "message");
  conn.send(msg("BTC.trade", "3:41", { snapshot: true }));
  await first; // so the subscription_acks were handled too
  assert.equal(btc.state, "subscribing", "subscribed waits for snapshot_ack");
  assert.equal(wild.state, "subscribed");
  assert.equal(c.state, "connecting", "connected waits for snapshot_ack");
  for (const p of ["3:45", "3:45", "3:48"]) conn.send(msg("BTC.trade", p, { snapshot: true }));
  const up = once(c, "connected");
  conn.send({
    type: "snapshot_ack",
    messages_sent: 3,
    channels: {
      "BTC.trade": { requested: 3, sent: 3, position: "3:48" },
      "ETH.trade": { requested: 3, sent: 0, position: "7:22", error: "history unavailable (Kafka unreachable)" },
    },
  });
  // fewer than asked, with or without an error about history, is no gap: live joins the snapshot
  await up;
  assert.deepEqual(await btcSnap, { channel: "BTC.trade", requested: 3, sent: 3, position: "3:48" });
  assert.deepEqual(await ethSnap, { channel: "ETH.trade", requested: 3, sent: 0, position: "7:22", error: "history unavailable (Kafka unreachable)" });
  assert.equal((await ack).sent, 3);
  assert.deepEqual([btc.state, eth.state], ["subscribed", "subscribed"]);
  assert.deepEqual(c.positions(), { "BTC.trade": "3:48", "ETH.trade": "7:22" }, "snapshot_ack's positions: live continues after them");
  // live: duplicates of what the snapshot sent are dropped, the rest delivered
  for (const [ch, p] of [["BTC.trade", "3:48"], ["BTC.trade", "3:52"], ["ETH.trade", "7:22"], ["ETH.trade", "7:23"]]) conn.send(msg(ch, p));
  const last = once(c, "message", (m) => m.pos === "7:23");
  await last;
  assert.deepEqual(got.map((m) => m.pos + (m.snapshot ? "s" : "")), ["3:41s", "3:45s", "3:48s", "3:52", "7:23"]);
  assert.equal(connectedAt, 3, "connected after the snapshot, before live messages");
  assert.deepEqual(btcGot.map((m) => m.pos), ["3:41", "3:45", "3:48", "3:52"]);
  assert.deepEqual(wildGot.map((m) => m.pos), ["3:52"], "a wildcard gets live messages, not another subscription's history");
  assert.equal(got[0].replayed, false);
  assert.equal(got[3].snapshot, false);
  assert.deepEqual(gaps, []);
  assert.deepEqual(c.positions(), { "BTC.trade": "3:52", "ETH.trade": "7:23" });

  // a reconnect recovers from the positions: never a snapshot again
  conn.kill();
  const conn2 = await srv.nextConn();
  const req2 = await conn2.answerSubscribe();
  assert.deepEqual(req2.data, { channels: ["BTC.trade", "ETH.trade", "BTC.*"], last_offset: { "BTC.trade": "3:52", "ETH.trade": "7:23" } });
  c.disconnect();
  await srv.close();
});

test("snapshot interrupted: before subscription_ack a snapshot again; after some snapshot messages, recovery from the last one", async () => {
  const srv = await startServer();
  const c = client(srv.url);
  const s = c.subscribe("BTC.trade", { snapshot: 5 });
  c.connect();
  const conn = await srv.nextConn();
  assert.deepEqual((await conn.next("subscribe")).data, { channels: ["BTC.trade"], snapshot: 5 });
  conn.kill(); // no position known yet
  const conn2 = await srv.nextConn();
  const req2 = await conn2.answerSubscribe({ positions: { "BTC.trade": "3:50" }, snapshot: false });
  assert.deepEqual(req2.data, { channels: ["BTC.trade"], snapshot: 5 });
  const two = once(s, "message", (m) => m.pos === "3:45");
  conn2.send(msg("BTC.trade", "3:41", { snapshot: true }));
  conn2.send(msg("BTC.trade", "3:45", { snapshot: true }));
  await two;
  conn2.kill();
  const conn3 = await srv.nextConn();
  const up = once(c, "connected");
  const req3 = await conn3.answerSubscribe({ replay: [msg("BTC.trade", "3:48", { replayed: true })] });
  assert.deepEqual(req3.data, { channels: ["BTC.trade"], last_offset: { "BTC.trade": "3:45" } }, "the rest of the snapshot is replayed");
  await up;
  assert.equal(s.state, "subscribed");
  assert.equal(s.position, "3:48");
  c.disconnect();
  await srv.close();
});

test("subscribe with snapshot while connected: the request carries it; a snapshot message after the snapshot is deduplicated", async () => {
  const srv = await startServer();
  const c = client(srv.url);
  c.subscribe("ETH.trade");
  const up = once(c, "connected");
  c.connect();
  const conn = await srv.nextConn();
  await conn.answerSubscribe({ positions: { "ETH.trade": "7:1" } });
  await up;
  const s = c.subscribe("BTC.trade", { snapshot: 2 });
  const snap = once(s, "snapshot");
  const got = record(s, "message");
  const req = await conn.answerSubscribe({ positions: { "BTC.trade": "3:9" }, snapshot: { history: { "BTC.trade": ["3:2", "3:5", "3:8"] } } });
  assert.deepEqual(req.data, { channels: ["BTC.trade"], snapshot: 2 });
  assert.deepEqual(await snap, { channel: "BTC.trade", requested: 2, sent: 2, position: "3:8" });
  conn.send(msg("BTC.trade", "3:8", { snapshot: true })); // not in a snapshot any more: a duplicate
  const live = once(s, "message", (m) => m.pos === "3:10");
  conn.send(msg("BTC.trade", "3:10"));
  await live;
  assert.deepEqual(got.map((m) => m.pos), ["3:5", "3:8", "3:10"]);
  assert.equal(s.state, "subscribed");
  c.disconnect();
  await srv.close();
});

test("a channel's live messages before the snapshot_ack (another channel's snapshot still going): the ack does not move its position back", async () => {
  const srv = await startServer();
  const c = client(srv.url);
  const btc = c.subscribe("BTC.trade", { snapshot: 2 });
  c.subscribe("ETH.trade", { snapshot: 2 });
  const got = record(btc, "message");
  const up = once(c, "connected");
  c.connect();
  const conn = await srv.nextConn();
  await conn.answerSubscribe({ positions: { "BTC.trade": "3:50", "ETH.trade": "7:20" }, snapshot: false });
  conn.send(msg("BTC.trade", "3:48", { snapshot: true }));
  conn.send(msg("BTC.trade", "3:52")); // BTC's gate opened
  conn.send(msg("ETH.trade", "7:19", { snapshot: true }));
  conn.send({
    type: "snapshot_ack",
    messages_sent: 2,
    channels: { "BTC.trade": { requested: 2, sent: 1, position: "3:48" }, "ETH.trade": { requested: 2, sent: 1, position: "7:19" } },
  });
  await up;
  assert.equal(btc.position, "3:52");
  conn.send(msg("BTC.trade", "3:52"));
  const last = once(btc, "message", (m) => m.pos === "3:53");
  conn.send(msg("BTC.trade", "3:53"));
  await last;
  assert.deepEqual(got.map((m) => m.pos), ["3:48", "3:52", "3:53"]);
  c.disconnect();
  await srv.close();
});

test("a server that never answers the snapshot (no snapshots): live messages do not hold the connection; the next one recovers", async () => {
  const srv = await startServer();
  const c = client(srv.url, { connectTimeout: 400 });
  const s = c.subscribe("BTC.trade", { snapshot: 5 });
  const up = once(c, "connected");
  c.connect();
  const conn = await srv.nextConn();
  await conn.answerSubscribe({ positions: { "BTC.trade": "3:50" }, snapshot: false });
  let off = 50;
  const live = setInterval(() => conn.send(msg("BTC.trade", "3:" + ++off)), 20);
  try {
    const conn2 = await srv.nextConn();
    clearInterval(live);
    const req = await conn2.answerSubscribe();
    assert.equal(req.data.snapshot, undefined);
    assert.equal(req.data.last_offset["BTC.trade"], s.position);
    await up;
    assert.equal(s.state, "subscribed");
  } finally {
    clearInterval(live);
  }
  c.disconnect();
  await srv.close();
});

test("a slow snapshot that keeps progressing holds the connection past 3 x connectTimeout", async () => {
  const srv = await startServer();
  const c = client(srv.url, { connectTimeout: 400 });
  const s = c.subscribe("BTC.trade", { snapshot: 20 });
  const drops = record(c, "disconnected");
  const up = once(c, "connected");
  c.connect();
  const conn = await srv.nextConn();
  await conn.answerSubscribe({ positions: { "BTC.trade": "3:50" }, snapshot: false });
  for (let i = 0; i < 20; i++) {
    conn.send(msg("BTC.trade", "3:" + (30 + i), { snapshot: true }));
    await new Promise((r) => setTimeout(r, 100)); // 2 s in all, over the 1.2 s limit
  }
  conn.send({ type: "snapshot_ack", messages_sent: 20, channels: { "BTC.trade": { requested: 20, sent: 20, position: "3:49" } } });
  await up;
  assert.deepEqual(drops, []);
  assert.equal(srv.conns.length, 1);
  assert.equal(s.position, "3:49");
  c.disconnect();
  await srv.close();
});

test("a long recovery, then another request's snapshot: the snapshot's time counts from the reconnect_ack", async () => {
  const srv = await startServer();
  const c = client(srv.url, { connectTimeout: 400 });
  c.subscribe("ETH.trade", { since: "7:1" });
  const btc = c.subscribe("BTC.trade", { snapshot: 5 });
  const drops = record(c, "disconnected");
  const up = once(c, "connected");
  c.connect();
  const conn = await srv.nextConn();
  const pause = (ms) => new Promise((r) => setTimeout(r, ms));
  const r1 = await conn.next("subscribe");
  const r2 = await conn.next("subscribe");
  assert.deepEqual([r1.data.last_offset, r2.data.snapshot], [{ "ETH.trade": "7:1" }, 5]);
  conn.send({ type: "subscription_ack", subscribed: ["BTC.trade"], count: 1, positions: { "BTC.trade": "3:9" } });
  conn.send({ type: "subscription_ack", subscribed: ["ETH.trade"], count: 2, positions: { "ETH.trade": "7:20" } });
  // limit 3 x 400 ms: a replay that progresses for 1.4 s, then the snapshot 400 ms later, for 1 s
  for (let i = 2; i < 16; i++) {
    conn.send(msg("ETH.trade", "7:" + i, { replayed: true }));
    await pause(100);
  }
  conn.send({ type: "reconnect_ack", status: "completed", messages_replayed: 14, recovered: true, channels: { "ETH.trade": { recovered: true, replayed: 14 } } });
  await pause(400);
  for (let i = 0; i < 5; i++) {
    conn.send(msg("BTC.trade", "3:" + (3 + i), { snapshot: true }));
    await pause(200);
  }
  conn.send({ type: "snapshot_ack", messages_sent: 5, channels: { "BTC.trade": { requested: 5, sent: 5, position: "3:7" } } });
  await up;
  assert.deepEqual(drops, []);
  assert.equal(btc.position, "3:7");
  c.disconnect();
  await srv.close();
});

test("snapshot_ack 'too many live messages arrived during the snapshot': a gap on that channel (live messages were dropped)", async () => {
  const srv = await startServer();
  const c = client(srv.url);
  const btc = c.subscribe("BTC.trade", { snapshot: 3 });
  const eth = c.subscribe("ETH.trade", { snapshot: 3 });
  const gap = once(btc, "gap");
  const ethGaps = record(eth, "gap");
  const up = once(c, "connected");
  c.connect();
  const conn = await srv.nextConn();
  const reason = "too many live messages arrived during the snapshot";
  await conn.answerSubscribe({
    positions: { "BTC.trade": "3:50", "ETH.trade": "7:20" },
    snapshot: { history: { "BTC.trade": ["3:49"], "ETH.trade": ["7:19"] }, errors: { "BTC.trade": reason, "ETH.trade": "snapshot limit reached" } },
  });
  await up;
  assert.deepEqual(await gap, { channel: "BTC.trade", reason });
  assert.deepEqual(ethGaps, []);
  assert.equal(btc.state, "subscribed");
  c.disconnect();
  await srv.close();
});

test("a message with skipped: handed over with skipped N, not a gap; the position moves on", async () => {
  const srv = await startServer();
  const c = client(srv.url);
  const s = c.subscribe("BTC.analytics");
  const up = once(c, "connected");
  c.connect();
  const conn = await srv.nextConn();
  await conn.answerSubscribe({ positions: { "BTC.analytics": "3:10" } });
  await up;
  const gaps = record(c, "gap");
  const got = record(s, "message");
  conn.send(msg("BTC.analytics", "3:11"));
  conn.send(msg("BTC.analytics", "3:20", { skipped: 4 }));
  const last = once(s, "message", (m) => m.pos === "3:21");
  conn.send(msg("BTC.analytics", "3:21"));
  await last;
  assert.deepEqual(got.map((m) => [m.pos, m.skipped]), [["3:11", 0], ["3:20", 4], ["3:21", 0]]);
  assert.deepEqual(gaps, []);
  assert.equal(s.position, "3:21");
  c.disconnect();
  await srv.close();
});

test("compression: ws offers permessage-deflate by default and decompresses; webSocketOptions {perMessageDeflate:false} turns the offer off", async () => {
  const srv = await startServer(0, { perMessageDeflate: { threshold: 0 } });
  const c = client(srv.url);
  const s = c.subscribe("BTC.trade");
  const up = once(c, "connected");
  c.connect();
  const conn = await srv.nextConn();
  assert.match(conn.req.headers["sec-websocket-extensions"] || "", /permessage-deflate/);
  assert.match(conn.ws.extensions, /permessage-deflate/, "negotiated");
  await conn.answerSubscribe();
  await up;
  const big = { type: "TRADE_EXECUTED", timestamp: 1, data: { price: 1, amount: 2, txHash: "0x" + "ab".repeat(2000) } };
  const got = once(s, "message");
  conn.send(msg("BTC.trade", "3:1", { data: big }));
  assert.deepEqual((await got).data, big);
  c.disconnect();

  const plain = client(srv.url, { webSocketOptions: { perMessageDeflate: false } });
  plain.subscribe("BTC.trade");
  const up2 = once(plain, "connected");
  plain.connect();
  const conn2 = await srv.nextConn();
  assert.equal(conn2.req.headers["sec-websocket-extensions"], undefined, "no offer");
  assert.equal(conn2.ws.extensions, "");
  await conn2.answerSubscribe();
  await up2;
  plain.disconnect();
  await srv.close();
});
