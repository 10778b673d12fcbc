// The operator page: one snapshot a second from the operations port (server-sent events, or polling
// when the stream fails), shown as numbers, tables and 5-minute uPlot charts.
import uPlot from "uplot";
import { byId, el, finite, fmtDuration, fmtInt, fmtRate, fmtTime, setText } from "../common/dom";

const WINDOW_SECONDS = 300;
const POLL_MS = 1000;
const STREAM_RETRY_MS = 15_000;
const STALE_MS = 3500;
const CHART_HEIGHT = 200;
const PALETTE = ["#4e79a7", "#f28e2b", "#e15759", "#59a14f", "#b07aa1", "#76b7b2", "#edc948", "#ff9da7",
  "#9c755f", "#bab0ac"];

interface Shard { id: number; connections: number; websockets: number; subscriptions: number }
interface Snapshot {
  ts: number; uptimeSeconds: number; connections: number; shards: Shard[];
  deliveriesPerSecond: number; kafka: { connected: boolean; lag: number; recordsPerSecond: number };
  latencyMs: { p50: number; p90: number; p99: number; max: number };
  slowClientCloses: number; rejections: Record<string, number>; disconnects: Record<string, number>;
}

const ui = {
  transport: byId("transport"),
  updated: byId("updated"),
  connections: byId("connections"),
  deliveries: byId("deliveries-rate"),
  lag: byId("lag"),
  records: byId("records-rate"),
  p50: byId("p50"),
  p90: byId("p90"),
  p99: byId("p99"),
  slowCloses: byId("slow-closes"),
  slowClosesTotal: byId("slow-closes-total"),
  slowClosesRate: byId("slow-closes-rate"),
  shardCount: byId("shard-count"),
  kafka: byId("kafka-state"),
  uptime: byId("uptime"),
  rejections: byId<HTMLTableElement>("rejections").tBodies[0],
  disconnects: byId<HTMLTableElement>("disconnects").tBodies[0],
  shards: byId<HTMLTableElement>("shards").tBodies[0],
};

// ---- the 5-minute history, one point per snapshot (x in Unix seconds, as uPlot expects)

type Column = (number | null)[];
const history = {
  t: [] as number[],
  deliveries: [] as Column, records: [] as Column, lag: [] as Column,
  p50: [] as Column, p90: [] as Column, p99: [] as Column,
  shards: new Map<number, Column>(),
};

function record(s: Snapshot): void {
  const t = s.ts / 1000;
  const n = history.t.length;
  history.t.push(t);
  history.deliveries.push(s.deliveriesPerSecond);
  history.records.push(s.kafka.recordsPerSecond);
  history.lag.push(s.kafka.lag);
  history.p50.push(s.latencyMs.p50);
  history.p90.push(s.latencyMs.p90);
  history.p99.push(s.latencyMs.p99);
  const seen = new Set<number>();
  for (const shard of s.shards) {
    let col = history.shards.get(shard.id);
    if (!col) history.shards.set(shard.id, (col = new Array<number | null>(n).fill(null)));
    col.push(shard.connections);
    seen.add(shard.id);
  }
  for (const [id, col] of history.shards) if (!seen.has(id)) col.push(null);
  let drop = 0;
  while (drop < history.t.length && history.t[drop] < t - WINDOW_SECONDS) drop++;
  if (drop > 0) {
    for (const col of [history.t, history.deliveries, history.records, history.lag, history.p50, history.p90, history.p99]) col.splice(0, drop);
    for (const [id, col] of history.shards) {
      col.splice(0, drop);
      if (col.every((v) => v === null)) history.shards.delete(id);
    }
  }
}

// ---- charts

interface SeriesDef { label: string; scale?: string; format: (v: number) => string }
interface ChartDef {
  container: HTMLElement;
  series: () => SeriesDef[];
  data: () => uPlot.AlignedData;
  rightScale?: string;
  /** scales that count things (connections, lag): whole-number ticks only */
  integer?: string[];
}

const INTEGER_STEPS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1e3, 2e3, 5e3, 1e4, 2e4, 5e4, 1e5, 2e5, 5e5, 1e6, 2e6, 5e6, 1e7, 1e8, 1e9];

function compact(v: number): string {
  const a = Math.abs(v);
  if (a >= 1e9) return `${+(v / 1e9).toFixed(1)}G`;
  if (a >= 1e6) return `${+(v / 1e6).toFixed(1)}M`;
  if (a >= 1e3) return `${+(v / 1e3).toFixed(1)}k`;
  return `${+v.toFixed(a > 0 && a < 10 ? 2 : 0)}`;
}

function zeroBased(_u: uPlot, _min: number | null, max: number | null): uPlot.Range.MinMax {
  return [0, max !== null && Number.isFinite(max) && max > 0 ? max * 1.1 : 1];
}

class Chart {
  private plot: uPlot | null = null;
  private key = "";

  constructor(private readonly def: ChartDef) {
    new ResizeObserver(() => this.plot?.setSize(this.size())).observe(def.container);
  }

  private size(): { width: number; height: number } {
    return { width: Math.max(200, this.def.container.clientWidth), height: CHART_HEIGHT };
  }

  /** Rebuilt when the series change (a shard appears) or the colour scheme does. */
  rebuild(): void {
    this.plot?.destroy();
    this.plot = null;
    this.key = "";
    this.update();
  }

  update(): void {
    const series = this.def.series();
    const key = series.map((s) => s.label).join("|");
    if (this.plot && key === this.key) {
      const data = this.def.data();
      this.plot.setData(data);
      // the legend shows the newest values unless the pointer is over the chart
      if (!(this.plot.cursor.left! >= 0) && data[0].length > 0) this.plot.setLegend({ idx: data[0].length - 1 });
      return;
    }
    this.plot?.destroy();
    this.key = key;
    const css = getComputedStyle(document.documentElement);
    const fg = css.getPropertyValue("--muted").trim() || "#888";
    const grid = css.getPropertyValue("--border").trim() || "#ddd";
    // side 3 is the left, 1 the right (only the left axis draws the grid)
    const axis = (scale: string, side: 1 | 3): uPlot.Axis => ({
      scale, side, stroke: fg, size: 52,
      ...(this.def.integer?.includes(scale) ? { incrs: INTEGER_STEPS } : {}),
      grid: { stroke: grid, width: 1, show: side === 3 },
      ticks: { stroke: grid, width: 1 },
      values: (_u, vals) => vals.map((v) => (v == null ? "" : compact(v))),
    });
    const scales: uPlot.Scales = { x: { time: true }, y: { range: zeroBased } };
    const axes: uPlot.Axis[] = [{ stroke: fg, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid, width: 1 } }, axis("y", 3)];
    if (this.def.rightScale) {
      scales[this.def.rightScale] = { range: zeroBased };
      axes.push(axis(this.def.rightScale, 1));
    }
    this.plot = new uPlot({
      ...this.size(),
      scales,
      axes,
      cursor: { drag: { x: false, y: false } },
      series: [{}, ...series.map((s, i): uPlot.Series => ({
        label: s.label,
        scale: s.scale ?? "y",
        stroke: PALETTE[i % PALETTE.length],
        width: 1.5,
        points: { show: false },
        spanGaps: false,
        value: (_u, v) => (v == null ? "–" : s.format(v)),
      }))],
    }, this.def.data(), this.def.container);
  }
}

const ms = (v: number) => `${fmtRate(v)} ms`;
const shardIds = () => [...history.shards.keys()].sort((a, b) => a - b);
const charts = [
  new Chart({
    container: byId("chart-shards"),
    series: () => shardIds().map((id) => ({ label: `shard ${id}`, format: fmtInt })),
    data: () => [history.t, ...shardIds().map((id) => history.shards.get(id)!)] as uPlot.AlignedData,
    integer: ["y"],
  }),
  new Chart({
    container: byId("chart-deliveries"),
    series: () => [{ label: "deliveries/s", format: fmtRate }],
    data: () => [history.t, history.deliveries] as uPlot.AlignedData,
  }),
  new Chart({
    container: byId("chart-latency"),
    series: () => [{ label: "p50", format: ms }, { label: "p90", format: ms }, { label: "p99", format: ms }],
    data: () => [history.t, history.p50, history.p90, history.p99] as uPlot.AlignedData,
  }),
  new Chart({
    container: byId("chart-kafka"),
    series: () => [{ label: "records/s", format: fmtRate }, { label: "lag (right)", scale: "lag", format: fmtInt }],
    data: () => [history.t, history.records, history.lag] as uPlot.AlignedData,
    rightScale: "lag",
    integer: ["lag"],
  }),
];
matchMedia("(prefers-color-scheme: dark)").addEventListener("change", () => charts.forEach((c) => c.rebuild()));

// ---- numbers and tables

class ReasonTable {
  private readonly rows = new Map<string, { total: HTMLElement; rate: HTMLElement }>();
  private previous: Record<string, number> = {};

  constructor(private readonly body: HTMLTableSectionElement) {}

  update(totals: Record<string, number>, seconds: number): void {
    const reasons = Object.keys(totals).sort();
    for (const reason of reasons) {
      let row = this.rows.get(reason);
      if (!row) {
        const tr = el("tr");
        tr.dataset.reason = reason;
        const total = el("td", "r num"), rate = el("td", "r num");
        tr.append(el("td", undefined, reason), total, rate);
        row = { total, rate };
        this.rows.set(reason, row);
        const after = reasons.slice(reasons.indexOf(reason) + 1).find((r) => this.rows.has(r) && r !== reason);
        this.body.insertBefore(tr, after ? this.body.querySelector(`tr[data-reason="${CSS.escape(after)}"]`) : null);
      }
      const total = totals[reason];
      const delta = reason in this.previous && seconds > 0 ? Math.max(0, total - this.previous[reason]) / seconds : 0;
      setText(row.total, fmtInt(total));
      setText(row.rate, fmtRate(delta));
      row.rate.dataset.hot = String(delta > 0);
    }
    this.previous = { ...totals };
  }
}

const rejections = new ReasonTable(ui.rejections);
const disconnects = new ReasonTable(ui.disconnects);
const shardRows = new Map<number, HTMLTableCellElement[]>();
let last: Snapshot | null = null;
let lastArrival = 0;

function numbers(o: unknown): Record<string, number> {
  const out: Record<string, number> = {};
  if (o && typeof o === "object") for (const [k, v] of Object.entries(o)) out[k] = finite(v) ?? 0;
  return out;
}

/** Accepts what the endpoint promises and nothing else; a malformed snapshot is dropped. */
function parse(raw: unknown): Snapshot | null {
  if (!raw || typeof raw !== "object") return null;
  const r = raw as Record<string, any>;
  const ts = finite(r.ts);
  if (ts === undefined) return null;
  const n = (x: unknown) => finite(x) ?? 0;
  return {
    ts, uptimeSeconds: n(r.uptimeSeconds), connections: n(r.connections),
    shards: Array.isArray(r.shards) ? r.shards.map((s: any, i: number) => ({
      id: finite(s?.id) ?? i, connections: n(s?.connections), websockets: n(s?.websockets), subscriptions: n(s?.subscriptions),
    })) : [],
    deliveriesPerSecond: n(r.deliveriesPerSecond),
    kafka: { connected: r.kafka?.connected === true, lag: n(r.kafka?.lag), recordsPerSecond: n(r.kafka?.recordsPerSecond) },
    latencyMs: { p50: n(r.latencyMs?.p50), p90: n(r.latencyMs?.p90), p99: n(r.latencyMs?.p99), max: n(r.latencyMs?.max) },
    slowClientCloses: n(r.slowClientCloses), rejections: numbers(r.rejections), disconnects: numbers(r.disconnects),
  };
}

function show(raw: unknown): void {
  const s = parse(raw);
  if (!s || (last && s.ts <= last.ts)) return; // a snapshot seen twice when switching between stream and polling
  const seconds = last ? (s.ts - last.ts) / 1000 : 0;
  lastArrival = Date.now();
  setText(ui.updated, fmtTime(s.ts));
  setText(ui.connections, fmtInt(s.connections));
  setText(ui.deliveries, fmtRate(s.deliveriesPerSecond));
  setText(ui.lag, fmtInt(s.kafka.lag));
  setText(ui.records, fmtRate(s.kafka.recordsPerSecond));
  setText(ui.p50, fmtRate(s.latencyMs.p50));
  setText(ui.p90, fmtRate(s.latencyMs.p90));
  setText(ui.p99, fmtRate(s.latencyMs.p99));
  setText(ui.slowCloses, fmtInt(s.slowClientCloses));
  setText(ui.slowClosesTotal, fmtInt(s.slowClientCloses));
  const slowRate = last && seconds > 0 ? Math.max(0, s.slowClientCloses - last.slowClientCloses) / seconds : 0;
  setText(ui.slowClosesRate, fmtRate(slowRate));
  ui.slowClosesRate.dataset.hot = String(slowRate > 0);
  setText(ui.shardCount, fmtInt(s.shards.length));
  setText(ui.kafka, s.kafka.connected ? "Kafka connected" : "Kafka down");
  ui.kafka.dataset.state = s.kafka.connected ? "connected" : "disconnected";
  setText(ui.uptime, fmtDuration(s.uptimeSeconds));
  rejections.update(s.rejections, seconds);
  disconnects.update(s.disconnects, seconds);
  showShards(s.shards);
  last = s;
  record(s);
  charts.forEach((c) => c.update());
}

function showShards(shards: Shard[]): void {
  const ids = new Set(shards.map((s) => s.id));
  for (const [id, cells] of shardRows) if (!ids.has(id)) { cells[0].parentElement?.remove(); shardRows.delete(id); }
  for (const s of [...shards].sort((a, b) => a.id - b.id)) {
    let cells = shardRows.get(s.id);
    if (!cells) {
      const tr = el("tr");
      tr.dataset.shard = String(s.id);
      cells = [el("td", undefined, String(s.id)), el("td", "r num"), el("td", "r num"), el("td", "r num")];
      tr.append(...cells);
      ui.shards.append(tr);
      shardRows.set(s.id, cells);
    }
    setText(cells[1], fmtInt(s.connections));
    setText(cells[2], fmtInt(s.websockets));
    setText(cells[3], fmtInt(s.subscriptions));
  }
}

// ---- transport: the event stream, or polling while the stream fails

let source: EventSource | null = null;
let pollTimer = 0;
let mode: "stream" | "polling" | "offline" = "offline";

function showTransport(m: typeof mode, stale = false): void {
  mode = m;
  const state = stale ? "offline" : m;
  ui.transport.dataset.state = state;
  setText(ui.transport, stale ? `${m}: no data` : m);
}

const api = (path: string) => new URL(path, location.href).toString();

function openStream(): void {
  if (typeof EventSource === "undefined") return startPolling();
  const es = (source = new EventSource(api("../api/operator/stream")));
  es.onmessage = (e) => {
    stopPolling();
    if (mode !== "stream") showTransport("stream");
    try {
      show(JSON.parse(e.data));
    } catch {
      // a malformed event is dropped; the next one follows within a second
    }
  };
  es.onerror = () => {
    // EventSource would retry by itself, silently; poll instead so the page keeps moving, and try the stream again later.
    es.close();
    if (source === es) source = null;
    startPolling();
    setTimeout(openStream, STREAM_RETRY_MS);
  };
}

function startPolling(): void {
  if (pollTimer) return;
  showTransport("polling");
  const poll = async () => {
    try {
      const res = await fetch(api("../api/operator"), { cache: "no-store" });
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      show(await res.json());
    } catch {
      // shown as stale by the watchdog below
    }
  };
  void poll();
  pollTimer = window.setInterval(poll, POLL_MS);
}

function stopPolling(): void {
  if (!pollTimer) return;
  clearInterval(pollTimer);
  pollTimer = 0;
}

setInterval(() => {
  if (Date.now() - lastArrival > STALE_MS) showTransport(mode, true);
  else if (ui.transport.dataset.state === "offline" && mode !== "offline") showTransport(mode);
}, 1000);

charts.forEach((c) => c.update());
openStream();
