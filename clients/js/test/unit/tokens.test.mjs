import { test } from "node:test";
import assert from "node:assert/strict";
import { startServer, client, once, record } from "./fake-server.mjs";

test("4001: getToken is asked again and the client reconnects at once with the new token", async () => {
  const srv = await startServer();
  let n = 0;
  const c = client(srv.url, { getToken: () => "t" + ++n, minReconnectDelay: 60_000, maxReconnectDelay: 60_000 });
  c.subscribe("BTC.trade");
  c.connect();
  const conn = await srv.nextConn();
  assert.equal((await conn.next("auth")).data.token, "t1");
  conn.send({ type: "auth_ack", sub: "u", expires_at: Math.floor(Date.now() / 1000) + 3600 });
  await conn.answerSubscribe({ positions: { "BTC.trade": "1:1" } });
  const gone = once(c, "disconnected");
  conn.close(4001, "Token expired");
  const d = await gone;
  assert.equal(d.code, 4001);
  assert.ok(d.delay < 1000);
  const conn2 = await srv.nextConn();
  assert.deepEqual(await conn2.next(), { type: "auth", data: { token: "t2" } });
  conn2.send({ type: "auth_ack", sub: "u", expires_at: null });
  const req = await conn2.answerSubscribe();
  assert.deepEqual(req.data.last_offset, { "BTC.trade": "1:1" }, "recovers after the new auth");
  assert.equal(n, 2);
  c.disconnect();
  await srv.close();
});

test("token refresh: auth with a new token on the open connection before expiry; subscriptions kept", async () => {
  const srv = await startServer();
  let n = 0;
  const c = client(srv.url, { getToken: () => "t" + ++n, refreshRatio: 0.01, random: () => 0 });
  const s = c.subscribe("BTC.trade");
  const up = once(c, "connected");
  c.connect();
  const conn = await srv.nextConn();
  await conn.next("auth");
  // refresh due at 1 % of a 120 s lifetime: long before the end, with no clock in the assertions
  const expires = Math.floor(Date.now() / 1000) + 120;
  const dis = record(c, "disconnected");
  conn.send({ type: "auth_ack", sub: "u", expires_at: expires });
  await conn.answerSubscribe();
  await up;
  const refresh = await conn.next();
  assert.deepEqual(refresh, { type: "auth", data: { token: "t2" } }, "a new token on the open connection");
  assert.deepEqual(dis, [], "without reconnecting");
  const auth = once(c, "auth");
  conn.send({ type: "auth_ack", sub: "u", expires_at: expires + 3600 });
  assert.equal((await auth).expiresAt, expires + 3600);
  assert.equal(c.state, "connected");
  assert.equal(s.state, "subscribed");
  assert.equal(srv.conns.length, 1, "same connection");
  assert.deepEqual(conn.all.map((m) => m.type), ["auth", "subscribe", "auth"]);
  c.disconnect();
  await srv.close();
});

test("a refresh refused with auth_error is retried with a new token until expiry", async () => {
  const srv = await startServer();
  let n = 0;
  const c = client(srv.url, { getToken: () => "t" + ++n, refreshRatio: 0, random: () => 0 });
  const errors = record(c, "error");
  const up = once(c, "connected");
  c.connect();
  const conn = await srv.nextConn();
  await conn.next("auth");
  conn.send({ type: "auth_ack", sub: "u", expires_at: Date.now() / 1000 + 30 });
  await up;
  assert.equal((await conn.next("auth")).data.token, "t2");
  conn.send({ type: "auth_error", code: "TOKEN_SIGNATURE", message: "no key verifies it" });
  assert.equal((await conn.next("auth")).data.token, "t3");
  assert.deepEqual(errors.map((e) => [e.kind, e.code]), [["auth", "TOKEN_SIGNATURE"]]);
  assert.equal(c.state, "connected");
  c.disconnect();
  await srv.close();
});

test("HTTP 401 on the upgrade: getToken is asked again, and the refused token is never retried", async () => {
  const srv = await startServer();
  srv.refuse.push({ status: 401, headers: { "WWW-Authenticate": 'Bearer error="invalid_token"' } });
  const tokens = ["bad", "bad", "good"];
  let calls = 0;
  const c = client(srv.url, { getToken: () => tokens[calls++] });
  const errors = record(c, "error");
  c.connect();
  const conn = await srv.nextConn();
  assert.deepEqual(await conn.next(), { type: "auth", data: { token: "good" } });
  assert.equal(calls, 3);
  assert.equal(srv.upgrades.length, 2, "no upgrade with the refused token");
  assert.deepEqual(errors.filter((e) => e.kind === "auth").map((e) => e.code || e.message), [
    "HTTP_401",
    "getToken returned the token the server refused",
  ]);
  c.disconnect();
  await srv.close();
});

test("auth_error at connect: reported, then a new connection with a new token after backoff", async () => {
  const srv = await startServer();
  let n = 0;
  const c = client(srv.url, { getToken: () => "t" + ++n });
  c.subscribe("BTC.trade");
  const err = once(c, "error", (e) => e.kind === "auth");
  c.connect();
  const conn = await srv.nextConn();
  await conn.next("auth");
  conn.send({ type: "auth_error", code: "TOKEN_EXPIRED", message: "The token has expired: fetch a new one" });
  assert.deepEqual(await err, { kind: "auth", code: "TOKEN_EXPIRED", message: "The token has expired: fetch a new one" });
  assert.equal(conn.inbox.length, 0, "no subscribe after auth_error");
  const conn2 = await srv.nextConn();
  assert.deepEqual(await conn2.next(), { type: "auth", data: { token: "t2" } });
  c.disconnect();
  await srv.close();
});
