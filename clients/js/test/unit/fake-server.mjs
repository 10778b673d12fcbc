// A scripted fake odin-ws for the unit tests: the test plays the server's side of each connection.
import { createServer } from "node:http";
import { after } from "node:test";
import { WebSocketServer, WebSocket } from "ws";
import { OdinClient } from "../../dist/index.mjs";

export { WebSocket };

const LIMIT = 5000;

// A failed test must not leave a socket or a timer that keeps the test process alive.
const clients = [];
const servers = [];
after(async () => {
  for (const c of clients) c.disconnect();
  for (const s of servers) await s.close();
});

/** Resolves with the first value `register(resolve)` yields, or rejects after `ms` with `what` in the message. */
export function within(what, register, ms = LIMIT) {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error("timed out waiting for " + what)), ms);
    register((v) => {
      clearTimeout(t);
      resolve(v);
    });
  });
}

/** One accepted connection, seen from the server: what the client sent, in order. */
export class Conn {
  constructor(ws, req) {
    this.ws = ws;
    this.req = req;
    this.inbox = [];
    this.all = [];
    this._waiters = [];
    ws.on("message", (d) => {
      const m = JSON.parse(d.toString());
      this.all.push(m);
      this.inbox.push(m);
      this._wake();
    });
    this.closed = new Promise((r) => ws.on("close", (code, reason) => r({ code, reason: reason.toString() })));
  }

  _wake() {
    for (const w of [...this._waiters]) {
      const i = this.inbox.findIndex(w.match);
      if (i >= 0) {
        this._waiters.splice(this._waiters.indexOf(w), 1);
        w.resolve(this.inbox.splice(i, 1)[0]);
      }
    }
  }

  /** The next message the client sent (of `type` when given), removed from the inbox. */
  next(type) {
    const match = (m) => !type || m.type === type;
    return within("client message " + (type || "any"), (resolve) => {
      this._waiters.push({ match, resolve });
      this._wake();
    });
  }

  send(obj) {
    this.ws.send(JSON.stringify(obj));
  }

  /** Answers the next subscribe: subscription_ack with `positions`, then (when it carried last_offset) `replay`
   * messages and reconnect_ack with `channels` (default: every channel recovered), then (when it asked for a
   * snapshot) the snapshot (see answerSnapshot). Returns the request. */
  async answerSubscribe(answer = {}) {
    return this.answer(await this.next("subscribe"), answer);
  }

  /** The subscribe the upgrade's URL carried ({type, data} as a message's), null when it named no channel. */
  upgradeSubscribe() {
    const q = new URL(this.req.url, "http://x").searchParams;
    const channels = q.getAll("subscribe").flatMap((v) => v.split(",")).filter((c) => c);
    if (!channels.length) return null;
    const data = { channels };
    if (+q.get("snapshot")) data.snapshot = +q.get("snapshot");
    return { type: "subscribe", data };
  }

  /** Answers the upgrade's subscribe as answerSubscribe answers a message (throws when the URL named none). */
  answerUpgrade(answer = {}) {
    const req = this.upgradeSubscribe();
    if (!req) throw new Error("the upgrade named no channel: " + this.req.url);
    return this.answer(req, answer);
  }

  /** Answers subscribe request `req` (see answerSubscribe). */
  answer(req, { positions = {}, rejected, replay = [], channels, snapshot } = {}) {
    const names = req.data.channels.filter((c) => !(rejected || []).some((r) => r.channel === c));
    const ack = { type: "subscription_ack", subscribed: names, count: names.length, positions };
    if (rejected) ack.rejected = rejected;
    this.send(ack);
    if (req.data.last_offset) {
      for (const r of replay) this.send(r);
      const ch = channels || Object.fromEntries(Object.keys(req.data.last_offset).map((c) => [c, { recovered: true, replayed: 0 }]));
      this.send({
        type: "reconnect_ack",
        status: "completed",
        messages_replayed: replay.length,
        message: "Replayed",
        recovered: Object.values(ch).every((c) => c.recovered),
        channels: ch,
      });
    }
    if (req.data.snapshot && snapshot !== false) this.answerSnapshot(req, { positions, ...snapshot });
    return req;
  }

  /**
   * The snapshot for subscribe request `req`, as the contract orders it: per exact channel without last_offset,
   * `history[channel]` (positions) as snapshot:message, then one snapshot_ack whose `position` is the last one
   * sent, else `positions[channel]`; `errors[channel]` adds an error.
   */
  answerSnapshot(req, { history = {}, positions = {}, errors = {} } = {}) {
    const n = req.data.snapshot;
    const out = {};
    let total = 0;
    for (const c of req.data.channels) {
      if (req.data.last_offset?.[c] !== undefined) continue;
      const sent = (history[c] || []).slice(-n);
      for (const p of sent) this.send(msg(c, p, { snapshot: true }));
      total += sent.length;
      out[c] = { requested: n, sent: sent.length, position: sent.at(-1) || positions[c] };
      if (errors[c]) out[c].error = errors[c];
    }
    this.send({ type: "snapshot_ack", messages_sent: total, channels: out });
  }

  close(code, reason) {
    this.ws.close(code, reason);
  }

  /** A dropped network: the TCP connection ends without a close frame (the client sees 1006). */
  kill() {
    this.ws.terminate();
  }
}

/** A data message as the server sends it. */
export function msg(channel, pos, { replayed = false, snapshot = false, skipped, data } = {}) {
  const seq = +pos.split(":")[1];
  const m = {
    seq,
    ts: Date.now(),
    type: replayed ? "replay:message" : snapshot ? "snapshot:message" : "price:update",
    priority: replayed || snapshot ? 2 : 1,
    channel,
    pos,
  };
  if (skipped) m.skipped = skipped; // right after pos, as the server writes it
  m.data = data || { type: "TRADE_EXECUTED", timestamp: Date.now(), data: { price: seq, amount: 1 } };
  return m;
}

/**
 * Starts a fake server on 127.0.0.1 (port 0: any free one). `refuse`: HTTP answers for the next upgrades ({status, headers}), taken in order.
 * `wsOptions`: the ws server's options (perMessageDeflate).
 */
export async function startServer(port = 0, wsOptions = {}) {
  const http = createServer((req, res) => res.writeHead(404).end());
  const wss = new WebSocketServer({ noServer: true, ...wsOptions });
  const conns = [];
  const waiters = [];
  const upgrades = [];
  const refuse = [];
  http.on("upgrade", (req, socket, head) => {
    upgrades.push(Date.now());
    const r = refuse.shift();
    if (r) {
      const h = Object.entries(r.headers || {}).map(([k, v]) => `${k}: ${v}\r\n`).join("");
      socket.end(`HTTP/1.1 ${r.status} Refused\r\n${h}Content-Length: 0\r\nConnection: close\r\n\r\n`);
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      const c = new Conn(ws, req);
      conns.push(c);
      const w = waiters.shift();
      if (w) w(c);
    });
  });
  await new Promise((r) => http.listen(port, "127.0.0.1", r));
  let taken = 0;
  let closed = false;
  const srv = {
    url: `ws://127.0.0.1:${http.address().port}/ws`,
    conns,
    upgrades,
    refuse,
    /** The next connection accepted after the ones already taken. */
    nextConn() {
      if (taken < conns.length) return Promise.resolve(conns[taken++]);
      return within("a connection", (resolve) => waiters.push((c) => (taken++, resolve(c))));
    },
    async close() {
      if (closed) return;
      closed = true;
      for (const c of wss.clients) c.terminate();
      wss.close();
      http.closeAllConnections?.();
      await new Promise((r) => http.close(r));
    },
  };
  servers.push(srv);
  return srv;
}

/**
 * A client with the `ws` WebSocket (Node 20) and short timers; heartbeats off unless asked; subscribing by message
 * unless asked (upgrade.test.mjs tests the subscribe on the upgrade, the default).
 */
export function client(url, options = {}) {
  const c = new OdinClient(url, {
    WebSocket,
    minReconnectDelay: 10,
    maxReconnectDelay: 50,
    heartbeatInterval: 0,
    connectTimeout: 3000,
    subscribeOnUpgrade: false,
    ...options,
  });
  clients.push(c);
  return c;
}

/** Resolves with the next `event` of `emitter` (a client or a subscription) that satisfies `pred`. */
export function once(emitter, event, pred = () => true) {
  let off;
  return within("event " + event, (resolve) => {
    off = emitter.on(event, (e) => {
      if (pred(e)) {
        off();
        resolve(e);
      }
    });
  }).finally(() => off && off());
}

/** Collects every `event` of `emitter`. */
export function record(emitter, event) {
  const out = [];
  emitter.on(event, (e) => out.push(e));
  return out;
}

/** Serves a connection the ordinary way (no auth): answers the first subscribe. Returns the subscribe request. */
export async function serve(conn, answer) {
  return conn.answerSubscribe(answer);
}
