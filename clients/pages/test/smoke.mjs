// Smoke test of the two pages in Debian's headless Chromium (puppeteer-core, no browser download).
//
//   node clients/pages/test/smoke.mjs                 build into clients/pages/dist, serve it with fakes
//   node clients/pages/test/smoke.mjs --out DIR       serve DIR (built before unless --no-build)
//   node clients/pages/test/smoke.mjs --server http://127.0.0.1:9090
//                                                     the real operations port (a publisher running)
//   --shots DIR   where market.png and operator.png go (default docs/images; --shots '' for none)
//   --chromium P  the browser (default $CHROMIUM, else /usr/bin/chromium)
//   --scheme dark the screenshots in the dark colour scheme (default light)
//
// With fakes: a tiny HTTP server (the pages, /api/pages/config, /api/operator, /api/operator/stream) and
// a tiny WebSocket server speaking the protocol minimally (subscription_ack with positions, data with
// channel and pos, replay:message and reconnect_ack for last_offset, snapshot:message and snapshot_ack for
// snapshot, pong). Checks: both pages render, their numbers move, the trade tape starts with the snapshot's
// history (marked), asked only at load, "Drop connection" recovers the missed trades, the operator page falls
// back to polling when the stream fails, no console error, no request leaves the servers under test.
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { createServer } from "node:http";
import { dirname, extname, join, normalize, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import puppeteer from "puppeteer-core";
import { WebSocketServer } from "ws";

const here = dirname(fileURLToPath(import.meta.url));
const pagesDir = resolve(here, "..");
const repo = resolve(pagesDir, "../..");
const argv = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : dflt;
};
const serverUrl = opt("--server", process.env.ODIN_OPS_URL ?? null);
const outDir = resolve(opt("--out", join(pagesDir, "dist")));
const shotsOpt = opt("--shots", join(repo, "docs/images"));
const shots = shotsOpt ? resolve(shotsOpt) : null;
const chromium = opt("--chromium", process.env.CHROMIUM ?? "/usr/bin/chromium");
const scheme = opt("--scheme", "light"); // prefers-color-scheme for the screenshots
const TOKENS = ["BTC", "ETH", "SOL", "DOGE", "ODIN", "AVAX", "MATIC", "LINK", "UNI", "AAVE",
  "SUSHI", "COMP", "MKR", "SNX", "YFI", "CRV", "BAL", "RUNE", "LUNA", "ATOM"];

const failures = [];
const log = (event, fields = {}) => console.log(JSON.stringify({ event, ...fields }));
function check(ok, what, fields = {}) {
  log(ok ? "pass" : "FAIL", { what, ...fields });
  if (!ok) failures.push(what);
}

if (!existsSync(chromium)) {
  console.log(`browser test skipped: no Chromium at ${chromium} (apt-get install chromium)`);
  process.exit(0);
}

// ---------------------------------------------------------------- fakes

function fakeMarket() {
  const partitions = 4;
  const next = [1000, 2000, 3000, 4000]; // next offset per partition
  const history = new Map(); // channel -> [{offset, partition, frame}]
  const prices = new Map(TOKENS.map((t, i) => [t, 10 ** ((i % 6) - 1) * (1 + i / 7)]));
  const wss = new WebSocketServer({ host: "127.0.0.1", port: 0, path: "/ws" });
  const stats = { delivered: 0, connections: 0, replayed: 0, generated: 0, snapshotSent: 0, snapshotRequests: 0 };
  const state = { lose: null, paused: false }; // lose: a channel the next recovery reports recovered:false
  wss.on("connection", (ws) => {
    stats.connections++;
    ws.subs = new Set();
    ws.on("close", () => stats.connections--);
    ws.on("message", (raw) => {
      let m;
      try { m = JSON.parse(String(raw)); } catch { return; }
      if (m.type === "heartbeat") return send({ type: "pong", ts: Date.now() });
      if (m.type === "auth") return send({ type: "auth_error", code: "AUTH_DISABLED", message: "Authentication is off on this server" });
      if (m.type === "unsubscribe") {
        for (const c of m.data.channels) ws.subs.delete(c);
        return send({ type: "unsubscription_ack", unsubscribed: m.data.channels, count: ws.subs.size });
      }
      if (m.type !== "subscribe") return send({ type: "error", code: "UNKNOWN_TYPE", message: `Unknown message type '${m.type}'` });
      const positions = {};
      for (const c of m.data.channels) {
        ws.subs.add(c);
        const p = partitionOf(c);
        positions[c] = `${p}:${next[p] - 1}`;
      }
      send({ type: "subscription_ack", subscribed: m.data.channels, count: ws.subs.size, positions });
      const lastOffset = m.data.last_offset;
      if (lastOffset) recover(lastOffset);
      if (m.data.snapshot > 0) snapshot(m.data.snapshot, m.data.channels.filter((c) => !lastOffset?.[c]), positions);
    });
    const send = (o) => ws.send(JSON.stringify(o));
    /** The last n messages of each channel, then snapshot_ack (docs/protocol.md, the snapshot subsection). */
    function snapshot(n, names, positions) {
      stats.snapshotRequests++;
      const channels = {};
      let total = 0;
      for (const c of names) {
        const sent = (history.get(c) ?? []).slice(-n);
        for (const h of sent) ws.send(JSON.stringify({ ...h.frame, type: "snapshot:message", priority: 2 }));
        channels[c] = { requested: n, sent: sent.length, position: sent.length ? sent.at(-1).frame.pos : positions[c] };
        total += sent.length;
      }
      stats.snapshotSent += total;
      send({ type: "snapshot_ack", messages_sent: total, channels });
    }
    function recover(lastOffset) {
      const channels = {};
      let total = 0;
      for (const [c, pos] of Object.entries(lastOffset)) {
        if (c === state.lose) {
          channels[c] = { recovered: false, replayed: 0, error: "position older than the topic's retention" };
          continue;
        }
        const [p, o] = String(pos).split(":").map(Number);
        let n = 0;
        for (const h of history.get(c) ?? []) {
          if (h.partition !== p || h.offset <= o) continue;
          ws.send(JSON.stringify({ ...h.frame, type: "replay:message", priority: 2 }));
          n++;
        }
        channels[c] = { recovered: true, replayed: n };
        total += n;
      }
      stats.replayed += total;
      const recovered = Object.values(channels).every((c) => c.recovered);
      send({ type: "reconnect_ack", status: "completed", messages_replayed: total, message: `Replayed ${total} missed messages`, recovered, channels });
    }
  });
  function partitionOf(channel) {
    const token = channel.slice(0, channel.lastIndexOf("."));
    return Math.max(0, TOKENS.indexOf(token)) % partitions;
  }
  const types = ["TRADE_EXECUTED", "BUY_COMPLETED", "SELL_COMPLETED"];
  // a history before any page connects: 10 trades per token, in the last 2.5 s
  for (let k = 200; k > 0; k--) trade(Date.now() - Math.round(k * 12.5), TOKENS[k % TOKENS.length]);
  const timer = setInterval(() => {
    if (!state.paused) for (let k = 0; k < 2; k++) trade(Date.now());
  }, 25);
  function trade(now, token = TOKENS[Math.floor(Math.random() * TOKENS.length)]) {
    const type = types[Math.floor(Math.random() * 3)];
    const drift = type === "BUY_COMPLETED" ? 0.003 : type === "SELL_COMPLETED" ? -0.003 : 0;
    const price = prices.get(token) * (1 + drift + (Math.random() - 0.5) * 0.01);
    prices.set(token, price);
    const channel = `${token}.trade`;
    const partition = partitionOf(channel);
    const offset = next[partition]++;
    const frame = {
      seq: offset, ts: now, type: "price:update", priority: 1, channel, pos: `${partition}:${offset}`,
      data: { type, timestamp: now, data: { price: +price.toPrecision(8), amount: +(Math.random() * 900 + 1).toFixed(3), buyer: "0xaa", seller: "0xbb", txHash: "0x01" } },
    };
    const list = history.get(channel) ?? [];
    list.push({ partition, offset, frame });
    if (list.length > 2000) list.shift();
    history.set(channel, list);
    stats.generated++;
    const text = JSON.stringify(frame);
    for (const ws of wss.clients) if (ws.subs?.has(channel) && ws.readyState === 1) { ws.send(text); stats.delivered++; }
  }
  return { wss, stats, state, close: () => { clearInterval(timer); for (const c of wss.clients) c.terminate(); wss.close(); } };
}

const TYPES = { ".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8", ".map": "application/json" };

function fakeOps(market) {
  const started = Date.now();
  const state = { streamBroken: false };
  const totals = { rejections: { ip_rate: 0, full: 0, origin: 0 }, disconnects: { client: 0, idle: 0 }, slow: 0 };
  let lastDelivered = 0, lastGenerated = 0, lastTick = Date.now();
  let current = null;
  function snapshot() {
    const now = Date.now();
    const dt = Math.max(0.001, (now - lastTick) / 1000);
    const deliveries = (market.stats.delivered - lastDelivered) / dt;
    const records = (market.stats.generated - lastGenerated) / dt;
    lastDelivered = market.stats.delivered; lastGenerated = market.stats.generated; lastTick = now;
    if (Math.random() < 0.5) totals.rejections.ip_rate += 1 + Math.floor(Math.random() * 3);
    if (Math.random() < 0.2) totals.rejections.full++;
    if (Math.random() < 0.3) totals.disconnects.client++;
    if (Math.random() < 0.1) totals.slow++;
    const conns = market.stats.connections + 40;
    const shards = [0, 1, 2, 3].map((id) => {
      const c = Math.floor(conns / 4) + (id < conns % 4 ? 1 : 0) + Math.floor(Math.random() * 3);
      return { id, connections: c, websockets: c, subscriptions: c * 20 };
    });
    const p50 = 0.6 + Math.random() * 0.4;
    current = {
      ts: now, uptimeSeconds: Math.floor((now - started) / 1000) + 3600,
      connections: shards.reduce((a, s) => a + s.connections, 0), shards,
      deliveriesPerSecond: +deliveries.toFixed(1),
      kafka: { connected: true, lag: Math.floor(Math.random() * 40), recordsPerSecond: +records.toFixed(1) },
      latencyMs: { p50, p90: p50 * 2.1, p99: p50 * 4 + Math.random() * 3, max: p50 * 9 },
      slowClientCloses: totals.slow, rejections: { ...totals.rejections }, disconnects: { ...totals.disconnects },
    };
    return current;
  }
  snapshot();
  const streams = new Set();
  const tick = setInterval(() => {
    const s = JSON.stringify(snapshot());
    for (const res of streams) res.write(`data: ${s}\n\n`);
  }, 1000);
  const server = createServer((req, res) => {
    const url = new URL(req.url, "http://x");
    const path = url.pathname;
    const json = (o) => { res.writeHead(200, { "content-type": "application/json", "cache-control": "no-store" }); res.end(JSON.stringify(o)); };
    if (path === "/") { res.writeHead(302, { location: "/market/" }); return res.end(); }
    if (path === "/api/pages/config") return json({ wsUrl: `ws://127.0.0.1:${market.wss.address().port}/ws`, tokens: TOKENS });
    if (path === "/api/operator") return json(current);
    if (path === "/api/operator/stream") {
      if (state.streamBroken) { res.writeHead(503, { "content-type": "text/plain" }); return res.end("stream unavailable"); }
      res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-store" });
      res.write(`data: ${JSON.stringify(current)}\n\n`);
      streams.add(res);
      req.on("close", () => streams.delete(res));
      return;
    }
    const m = /^\/(market|operator)(\/.*)?$/.exec(path);
    if (m && !m[2]) { res.writeHead(301, { location: `/${m[1]}/` }); return res.end(); }
    if (m) {
      const rel = normalize(m[2] === "/" ? "/index.html" : m[2]);
      const file = join(outDir, m[1], rel);
      if (!rel.includes("..") && existsSync(file)) {
        res.writeHead(200, { "content-type": TYPES[extname(file)] ?? "application/octet-stream" });
        return res.end(readFileSync(file));
      }
    }
    res.writeHead(404, { "content-type": "text/plain" });
    res.end("not found");
  });
  return {
    server, state,
    close: () => { clearInterval(tick); for (const r of streams) r.end(); server.closeAllConnections?.(); server.close(); },
  };
}

// ---------------------------------------------------------------- browser

const text = (page, sel) => page.$eval(sel, (e) => e.textContent.trim()).catch(() => null);
const number = async (page, sel) => {
  const t = await text(page, sel);
  return t === null ? NaN : Number(t.replace(/,/g, ""));
};
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function watch(page, name, allowedOrigins, allowConsole = () => false) {
  const problems = [];
  page.on("console", (m) => {
    if (m.type() === "error" && !allowConsole(m.text())) problems.push(`console error: ${m.text()}`);
  });
  page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
  page.on("request", (r) => {
    const u = new URL(r.url());
    if (u.protocol === "data:") return;
    if (!allowedOrigins.has(u.origin)) problems.push(`external request: ${r.url()}`);
  });
  return () => {
    check(problems.length === 0, `${name}: no console error, no external request`, problems.length ? { problems } : {});
  };
}

async function main() {
  let market = null, ops = null, base = serverUrl?.replace(/\/$/, "");
  if (!base) {
    if (!argv.includes("--no-build")) {
      execFileSync(process.execPath, [join(pagesDir, "build.mjs"), outDir], { stdio: "inherit" });
    }
    market = fakeMarket();
    ops = fakeOps(market);
    await new Promise((r) => ops.server.listen(0, "127.0.0.1", r));
    base = `http://127.0.0.1:${ops.server.address().port}`;
  }
  log("start", { base, fakes: !serverUrl, out: serverUrl ? undefined : outDir });
  const config = await (await fetch(`${base}/api/pages/config`)).json();
  const wsOrigin = new URL(config.wsUrl.replace(/^ws/, "http")).origin;
  const allowed = new Set([new URL(base).origin, wsOrigin]);
  if (shots) mkdirSync(shots, { recursive: true });

  const browser = await puppeteer.launch({
    executablePath: chromium, headless: true, protocolTimeout: 60_000,
    args: ["--no-sandbox", "--headless=new", "--disable-gpu", "--no-first-run", "--disable-extensions"],
  });
  try {
    // ---- market
    const mp = await browser.newPage();
    await mp.setViewport({ width: 1280, height: 800 });
    await mp.emulateMediaFeatures([{ name: "prefers-color-scheme", value: scheme }]);
    const marketDone = watch(mp, "market", allowed);
    if (market) market.state.paused = true; // nothing live until the history is checked
    await mp.goto(`${base}/market/`, { waitUntil: "load" });
    await mp.waitForFunction(() => document.querySelector("#state")?.textContent === "connected", { timeout: 20_000 });
    check(true, "market: connected");
    // connected once every snapshot_ack is in: the tape is the snapshot's history, newest first
    await mp.waitForFunction(() => document.querySelector("#history-count").textContent !== "0", { timeout: 5000 }).catch(() => {});
    const historyCount = await number(mp, "#history-count");
    if (market) {
      const rows = await mp.$$eval("#tape tbody tr:not([hidden])", (els) => els.map((e) => e.dataset.history));
      const times = await mp.$$eval("#tape tbody tr:not([hidden]) td.time", (els) => els.map((e) => e.textContent));
      check(historyCount > 0 && historyCount === market.stats.snapshotSent, "market: history count is the snapshot's", { historyCount, server: market.stats.snapshotSent });
      check(rows.length === 30 && rows.every((h) => h === "true"), "market: the tape starts full of history, marked", { rows: rows.length, marked: rows.filter((h) => h === "true").length });
      check(times.every((t, i) => i === 0 || t <= times[i - 1]), "market: history newest first");
      const pricedAtLoad = await mp.$$eval("[data-token] .price", (els) => els.filter((e) => e.textContent !== "–").length);
      check(pricedAtLoad === config.tokens.length, "market: every price known from the history", { pricedAtLoad });
      check((await number(mp, "#msg-count")) === 0, "market: history is not counted as live messages");
      market.state.paused = false;
    } else log("info", { what: "market: history (snapshot) trades at load", historyCount });
    await mp.waitForFunction(() => Number(document.querySelector("#msg-count").textContent.replace(/,/g, "")) >= 10, { timeout: 30_000 });
    const m0 = await number(mp, "#msg-count");
    await sleep(2500);
    const m1 = await number(mp, "#msg-count");
    check(m1 > m0, "market: message count moves", { before: m0, after: m1 });
    const priced = await mp.$$eval("[data-token] .price", (els) => els.filter((e) => e.textContent !== "–").length);
    const cards = await mp.$$eval("[data-token]", (els) => els.length);
    check(cards === config.tokens.length, "market: one card per token", { cards });
    check(priced >= Math.min(5, cards), "market: prices shown", { priced });
    const tapeRows = await mp.$$eval("#tape tbody tr:not([hidden])", (els) => els.length);
    check(tapeRows > 0, "market: trades tape fills", { tapeRows });
    const channels = await number(mp, "#channel-count");
    check(channels === config.tokens.length, "market: one channel per token", { channels });

    await mp.click("#drop");
    await mp.waitForFunction(() => document.querySelector("#state").textContent === "disconnected", { timeout: 5000 });
    const countdown = await text(mp, "#countdown");
    check(/reconnecting in \d s/.test(countdown ?? ""), "market: countdown while offline", { countdown });
    const offlineCount = await number(mp, "#msg-count");
    await sleep(1500);
    check((await number(mp, "#msg-count")) === offlineCount, "market: nothing delivered while offline");
    await mp.waitForFunction(() => /^recovered \d/.test(document.querySelector("#recovery").textContent), { timeout: 20_000 });
    await mp.waitForFunction(() => document.querySelector("#state").textContent === "connected", { timeout: 20_000 });
    const recovery = await text(mp, "#recovery");
    const replayed = await number(mp, "#replayed-count");
    const reconnects = await number(mp, "#reconnect-count");
    check(reconnects === 1, "market: one reconnect counted", { reconnects });
    if (market) check(replayed > 0 && replayed === market.stats.replayed, "market: replayed count is the server's", { replayed, server: market.stats.replayed, recovery });
    else check(replayed > 0, "market: messages published while offline are replayed", { replayed, recovery });
    check((await number(mp, "#gap-count")) === 0, "market: no gap");
    if (market) check(market.stats.snapshotRequests === 1, "market: a snapshot only at load, recovery after", { requests: market.stats.snapshotRequests });
    await sleep(1500);
    check((await number(mp, "#msg-count")) > offlineCount, "market: live again after recovery");
    if (shots) await mp.screenshot({ path: join(shots, "market.png") });

    // ---- operator (the market page stays open: it is a connected client)
    const op = await browser.newPage();
    await op.setViewport({ width: 1280, height: 800 });
    await op.emulateMediaFeatures([{ name: "prefers-color-scheme", value: scheme }]);
    const operatorDone = watch(op, "operator", allowed);
    await op.goto(`${base}/operator/`, { waitUntil: "load" });
    await op.waitForFunction(() => document.querySelector("#transport").textContent === "stream", { timeout: 15_000 });
    check(true, "operator: stream");
    await op.waitForFunction(() => document.querySelector("#connections").textContent !== "–", { timeout: 15_000 });
    const u0 = await text(op, "#updated");
    const conns = await number(op, "#connections");
    check(conns >= 1, "operator: connections shown", { connections: conns });
    await sleep(3000);
    const u1 = await text(op, "#updated");
    check(u1 !== u0, "operator: snapshot time moves", { before: u0, after: u1 });
    const rate = await number(op, "#deliveries-rate");
    check(rate > 0, "operator: deliveries per second > 0 with the market page open", { rate });
    for (const id of ["#lag", "#records-rate", "#p50", "#p90", "#p99", "#uptime", "#shard-count", "#slow-closes"]) {
      const t = await text(op, id);
      check(t !== null && t !== "–", `operator: ${id} shown`, { value: t });
    }
    const canvases = await op.$$eval(".chart canvas", (els) => els.length);
    check(canvases === 4, "operator: four charts drawn", { canvases });
    const shardRows = await op.$$eval("#shards tbody tr", (els) => els.length);
    check(shardRows >= 1, "operator: shard table", { shardRows });
    if (ops) {
      const reasons = await op.$$eval("#rejections tbody tr", (els) => els.map((e) => e.dataset.reason));
      check(reasons.includes("ip_rate"), "operator: rejections by reason", { reasons });
    }
    await sleep(5000); // a few more points on the charts for the screenshot
    if (shots) await op.screenshot({ path: join(shots, "operator.png") });

    // ---- operator falls back to polling when the stream fails (fakes only)
    if (ops) {
      ops.state.streamBroken = true;
      const fp = await browser.newPage();
      await fp.setViewport({ width: 1280, height: 800 });
      // The failed stream itself is reported by Chromium; nothing else may be.
      const fallbackDone = watch(fp, "operator fallback", allowed, (t) => /503|event-stream|Service Unavailable/i.test(t));
      await fp.goto(`${base}/operator/`, { waitUntil: "load" });
      await fp.waitForFunction(() => document.querySelector("#transport").textContent === "polling", { timeout: 15_000 });
      await fp.waitForFunction(() => document.querySelector("#connections").textContent !== "–", { timeout: 15_000 });
      const f0 = await text(fp, "#updated");
      await sleep(2500);
      const f1 = await text(fp, "#updated");
      check(f1 !== f0 && (await text(fp, "#transport")) === "polling", "operator: polling moves when the stream fails", { before: f0, after: f1 });
      fallbackDone();
      ops.state.streamBroken = false;
    }
    // ---- a channel the server cannot recover is shown as a gap (fakes only)
    if (market) {
      market.state.lose = "LUNA.trade";
      await mp.bringToFront(); // a background tab runs no animation frame: neither the page's rendering nor click()
      await mp.click("#drop");
      await mp.waitForFunction(() => /with a gap/.test(document.querySelector("#recovery").textContent), { timeout: 20_000 });
      const gap = await mp.$eval('#gaps li[data-channel="LUNA.trade"]', (e) => e.textContent).catch(() => null);
      const gaps = await number(mp, "#gap-count");
      check(gaps === 1 && /retention/.test(gap ?? ""), "market: unrecovered channel listed as a gap", { gaps, gap, recovery: await text(mp, "#recovery") });
      check((await number(mp, "#reconnect-count")) === 2, "market: second reconnect counted");
      // the server closes with 1012 (a re-shard): the client reconnects by itself and recovers
      market.state.lose = null;
      const before = await number(mp, "#replayed-count");
      for (const ws of market.wss.clients) ws.close(1012, "Service restart");
      await mp.waitForFunction(() => document.querySelector("#reconnect-count").textContent === "3"
        && document.querySelector("#state").textContent === "connected", { timeout: 20_000 });
      await mp.waitForFunction((n) => Number(document.querySelector("#replayed-count").textContent.replace(/,/g, "")) >= n, { timeout: 5000 }, before);
      check(true, "market: reconnects by itself after a 1012 close", { replayed: (await number(mp, "#replayed-count")) - before });
    }
    marketDone();
    operatorDone();
  } finally {
    await browser.close();
    market?.close();
    ops?.close();
  }
  if (shots) log("screenshots", { dir: shots });
  if (failures.length) {
    log("result", { ok: false, failures });
    process.exit(1);
  }
  log("result", { ok: true });
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
