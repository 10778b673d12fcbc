// The live market page: the 20 demo tokens' trades, built only on the odin-ws client SDK.
// It subscribes `<token>.trade` (exact channels, so recoverable) and shows what the SDK delivers;
// "Drop connection" goes offline for a few seconds so that the reconnect's recovery is visible. At load it asks for
// a snapshot of each channel's last trades (history, marked as such) to fill the tape and the prices at once.
import { OdinClient } from "../../../js/src/index.ts";
import type { ConnectionState, Gap, OdinMessage, Recovery } from "../../../js/src/index.ts";
import { byId, el, finite, fmtInt, fmtTime, setText } from "../common/dom";

const OFFLINE_SECONDS = 3;
const TAPE_ROWS = 30;
/** trades of history per channel at load: with 20 tokens, enough to fill the tape */
const SNAPSHOT_TRADES = 5;
const MAX_GAPS_SHOWN = 8;
const FALLBACK_TOKENS = ["BTC", "ETH", "SOL", "DOGE", "ODIN", "AVAX", "MATIC", "LINK", "UNI", "AAVE",
  "SUSHI", "COMP", "MKR", "SNX", "YFI", "CRV", "BAL", "RUNE", "LUNA", "ATOM"];
const SIDES: Record<string, string> = { TRADE_EXECUTED: "trade", BUY_COMPLETED: "buy", SELL_COMPLETED: "sell" };

interface PagesConfig { wsUrl: string; tokens: string[] }

interface TokenView {
  root: HTMLElement;
  price: HTMLElement;
  dir: HTMLElement;
  count: HTMLElement;
  last?: number;
  trades: number;
  dirty: boolean;
  flash: "up" | "down" | null;
}

interface Trade { time: number; token: string; side: string; price: number; amount: number | undefined; replayed: boolean; history: boolean }

const ui = {
  state: byId("state"),
  drop: byId<HTMLButtonElement>("drop"),
  countdown: byId("countdown"),
  recovery: byId("recovery"),
  notice: byId("notice"),
  gaps: byId("gaps"),
  msgCount: byId("msg-count"),
  msgRate: byId("msg-rate"),
  replayed: byId("replayed-count"),
  history: byId("history-count"),
  reconnects: byId("reconnect-count"),
  gapCount: byId("gap-count"),
  channels: byId("channel-count"),
  grid: byId("grid"),
  tape: byId<HTMLTableElement>("tape").tBodies[0],
  endpoint: byId("endpoint"),
};

const counters = { messages: 0, replayed: 0, history: 0, reconnects: 0, gaps: 0 };
const tokens = new Map<string, TokenView>();
const tape: Trade[] = [];
const tapeRows: HTMLTableRowElement[] = [];
let tapeDirty = false;
let frame = 0;
let offline = false;

const priceFormats = [2, 4, 6, 8].map((d) => new Intl.NumberFormat("en-US", { minimumFractionDigits: d, maximumFractionDigits: d }));
const amountFormat = new Intl.NumberFormat("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 });

function fmtPrice(p: number): string {
  const a = Math.abs(p);
  return priceFormats[a >= 1000 ? 0 : a >= 1 ? 1 : a >= 0.01 ? 2 : 3].format(p);
}

async function loadConfig(): Promise<PagesConfig> {
  const params = new URLSearchParams(location.search);
  let config: Partial<PagesConfig> = {};
  try {
    const res = await fetch(new URL("../api/pages/config", location.href), { cache: "no-store" });
    if (res.ok) config = await res.json();
  } catch {
    // Reported below only when nothing else gives a WebSocket URL.
  }
  const wsParam = params.get("ws");
  const wsUrl = wsParam && /^wss?:\/\//.test(wsParam) ? wsParam : config.wsUrl;
  if (typeof wsUrl !== "string") throw new Error("no WebSocket URL: /api/pages/config unreachable (or pass ?ws=ws://host:port/ws)");
  const fromParam = params.get("tokens")?.split(",").map((t) => t.trim()).filter(Boolean);
  const list = fromParam?.length ? fromParam : Array.isArray(config.tokens) ? config.tokens : FALLBACK_TOKENS;
  return { wsUrl, tokens: list.filter((t): t is string => typeof t === "string" && t.length > 0) };
}

function buildGrid(list: string[]): void {
  for (const token of list) {
    const root = el("div", "card");
    root.dataset.token = token;
    root.dataset.testid = `token-${token}`;
    const name = el("div", "name");
    name.append(el("span", undefined, token));
    const dir = el("span", "dir", "");
    name.append(dir);
    const price = el("div", "price", "–");
    const count = el("div", "count", "0 trades");
    root.append(name, price, count);
    root.addEventListener("animationend", () => root.classList.remove("flash-up", "flash-down"));
    ui.grid.append(root);
    tokens.set(token, { root, price, dir, count, trades: 0, dirty: false, flash: null });
  }
  for (let i = 0; i < TAPE_ROWS; i++) {
    const tr = el("tr");
    for (const cls of ["time", "token", "side", "r price", "r amount"]) tr.append(el("td", cls));
    tr.hidden = true;
    ui.tape.append(tr);
    tapeRows.push(tr);
  }
}

/** Newest first: a live trade goes on top, history (a snapshot, channel after channel) where its time puts it. */
function addTrade(t: Trade): void {
  let i = 0;
  if (t.history) while (i < tape.length && tape[i].time > t.time) i++;
  if (i >= TAPE_ROWS) return;
  tape.splice(i, 0, t);
  if (tape.length > TAPE_ROWS) tape.length = TAPE_ROWS;
  tapeDirty = true;
}

function onMessage(m: OdinMessage): void {
  if (m.snapshot) counters.history++;
  else counters.messages++;
  const event = m.data as { type?: unknown; timestamp?: unknown; data?: { price?: unknown; amount?: unknown } };
  const side = typeof event?.type === "string" ? SIDES[event.type] : undefined;
  const token = m.channel.slice(0, m.channel.lastIndexOf("."));
  const view = tokens.get(token);
  const price = finite(event?.data?.price);
  if (side && view && price !== undefined) {
    if (view.last !== undefined && price !== view.last && !m.snapshot) view.flash = price > view.last ? "up" : "down";
    view.last = price;
    view.trades++;
    view.dirty = true;
    addTrade({ time: finite(event.timestamp) ?? m.ts, token, side, price, amount: finite(event.data?.amount), replayed: m.replayed, history: m.snapshot });
  }
  schedule();
}

function schedule(): void {
  if (!frame) frame = requestAnimationFrame(render);
}

/** One DOM update per frame, however many messages arrived (a replay can bring thousands at once). */
function render(): void {
  frame = 0;
  setText(ui.msgCount, fmtInt(counters.messages));
  setText(ui.replayed, fmtInt(counters.replayed));
  setText(ui.history, fmtInt(counters.history));
  setText(ui.reconnects, fmtInt(counters.reconnects));
  setText(ui.gapCount, fmtInt(counters.gaps));
  for (const v of tokens.values()) {
    if (!v.dirty) continue;
    v.dirty = false;
    setText(v.price, v.last === undefined ? "–" : fmtPrice(v.last));
    setText(v.count, `${fmtInt(v.trades)} trade${v.trades === 1 ? "" : "s"}`);
    if (v.flash) {
      v.root.dataset.dir = v.flash;
      setText(v.dir, v.flash === "up" ? "▲" : "▼");
      v.root.classList.remove("flash-up", "flash-down");
      void v.root.offsetWidth; // restarts the animation when the same direction repeats
      v.root.classList.add(`flash-${v.flash}`);
      v.flash = null;
    }
  }
  if (tapeDirty) {
    tapeDirty = false;
    tapeRows.forEach((tr, i) => {
      const t = tape[i];
      tr.hidden = !t;
      if (!t) return;
      tr.dataset.side = t.side;
      tr.dataset.replayed = String(t.replayed);
      tr.dataset.history = String(t.history);
      const cells = tr.cells;
      setText(cells[0], fmtTime(t.time));
      setText(cells[1], t.token);
      setText(cells[2], t.side);
      setText(cells[3], fmtPrice(t.price));
      setText(cells[4], t.amount === undefined ? "" : amountFormat.format(t.amount));
    });
  }
}

function showState(state: ConnectionState): void {
  ui.state.dataset.state = state;
  setText(ui.state, state);
  ui.drop.disabled = offline || state !== "connected";
}

function showRecovery(r: Recovery): void {
  counters.replayed += r.replayed;
  const lost = Object.entries(r.channels).filter(([, c]) => !c.recovered);
  let text = `recovered ${fmtInt(r.replayed)} message${r.replayed === 1 ? "" : "s"}`;
  if (lost.length) text += `, ${lost.length} channel${lost.length === 1 ? "" : "s"} with a gap`;
  ui.recovery.dataset.ok = String(r.recovered);
  ui.recovery.dataset.replayed = String(r.replayed);
  setText(ui.recovery, `${text} · ${fmtTime(Date.now())}`);
  schedule();
}

function showGap(g: Gap): void {
  counters.gaps++;
  const li = el("li", undefined, `${fmtTime(Date.now())} gap on ${g.channel}: ${g.reason}`);
  li.dataset.channel = g.channel;
  ui.gaps.prepend(li);
  while (ui.gaps.children.length > MAX_GAPS_SHOWN) ui.gaps.lastElementChild?.remove();
  schedule();
}

function dropConnection(client: OdinClient): void {
  if (offline) return;
  offline = true;
  ui.drop.disabled = true;
  setText(ui.recovery, "");
  client.disconnect();
  let left = OFFLINE_SECONDS;
  const tick = () => {
    if (left > 0) {
      setText(ui.countdown, `offline · reconnecting in ${left} s`);
      left--;
      setTimeout(tick, 1000);
      return;
    }
    offline = false;
    setText(ui.countdown, "");
    setText(ui.recovery, "recovering…");
    delete ui.recovery.dataset.ok;
    client.connect();
  };
  tick();
}

function startRateMeter(): void {
  let previous = counters.messages;
  setInterval(() => {
    setText(ui.msgRate, fmtInt(counters.messages - previous));
    previous = counters.messages;
  }, 1000);
}

async function main(): Promise<void> {
  let config: PagesConfig;
  try {
    config = await loadConfig();
  } catch (e) {
    setText(ui.notice, (e as Error).message);
    return;
  }
  buildGrid(config.tokens);
  setText(ui.endpoint, config.wsUrl);
  const client = new OdinClient(config.wsUrl);
  let connectedOnce = false;
  client.on("state", (e) => showState(e.state));
  client.on("connected", () => {
    if (connectedOnce) counters.reconnects++;
    connectedOnce = true;
    setText(ui.notice, "");
    setText(ui.channels, fmtInt(client.subscriptions().length));
    schedule();
  });
  client.on("message", onMessage);
  client.on("recovered", showRecovery);
  client.on("gap", showGap);
  client.on("error", (e) => setText(ui.notice, `${e.kind}${e.code ? ` ${e.code}` : ""}: ${e.message}`));
  client.on("disconnected", (d) => {
    // the server or the network ended the connection: say why and when the client tries again
    if (d.reconnect) setText(ui.notice, `closed${d.code ? ` ${d.code}` : ""}${d.reason ? ` "${d.reason}"` : ""} · reconnecting in ${(Math.max(0, d.delay) / 1000).toFixed(1)} s`);
  });
  // history only at load: the SDK asks while it has no position, then recovers on every reconnect
  for (const token of config.tokens) client.subscribe(`${token}.trade`, { snapshot: SNAPSHOT_TRADES });
  ui.drop.addEventListener("click", () => dropConnection(client));
  startRateMeter();
  showState(client.state);
  client.connect();
  (window as unknown as { odinMarket: unknown }).odinMarket = { client, counters };
}

void main();
