// TEMPORARY, test-only: the few parts of the SDK's public API the market page uses, so the page can be
// built and smoke-tested before clients/js lands (ODIN_PAGES_SDK=test/sdk-stub.ts node build.mjs).
// Not the SDK: no backoff, no heartbeat, no tokens. Removed once the SDK is merged.
type Fn = (e: any) => void;
export type ConnectionState = "disconnected" | "connecting" | "connected";
export interface OdinMessage { channel: string; pos: string; seq: number; ts: number; replayed: boolean; data: any }
export interface Gap { channel: string; reason: string }
export interface Recovery { replayed: number; recovered: boolean; channels: Record<string, { recovered: boolean; replayed: number; error?: string }> }

class Emitter {
  private l = new Map<string, Set<Fn>>();
  on(ev: string, fn: Fn): () => void {
    if (!this.l.has(ev)) this.l.set(ev, new Set());
    this.l.get(ev)!.add(fn);
    return () => this.l.get(ev)!.delete(fn);
  }
  emit(ev: string, e: any): void { this.l.get(ev)?.forEach((f) => f(e)); }
}

export class Subscription extends Emitter {
  constructor(readonly channel: string) { super(); }
}

export class OdinClient extends Emitter {
  state: ConnectionState = "disconnected";
  private ws: WebSocket | null = null;
  private subs = new Map<string, Subscription>();
  private pos: Record<string, string> = {};
  private wanted = false;
  constructor(private url: string) { super(); }
  subscribe(channel: string): Subscription {
    let s = this.subs.get(channel);
    if (!s) this.subs.set(channel, (s = new Subscription(channel)));
    return s;
  }
  subscriptions(): Subscription[] { return [...this.subs.values()]; }
  positions(): Record<string, string> { return { ...this.pos }; }
  private set(state: ConnectionState): void {
    const previous = this.state;
    if (previous === state) return;
    this.state = state;
    this.emit("state", { state, previous });
  }
  connect(): void {
    if (this.ws) return;
    this.wanted = true;
    this.set("connecting");
    const ws = (this.ws = new WebSocket(this.url));
    const hadPositions = Object.keys(this.pos).length > 0;
    ws.onopen = () => ws.send(JSON.stringify({ type: "subscribe", data: { channels: [...this.subs.keys()], ...(hadPositions ? { last_offset: this.pos } : {}) } }));
    ws.onmessage = (e) => {
      const m = JSON.parse(e.data);
      if (m.type === "subscription_ack") {
        for (const [c, p] of Object.entries(m.positions ?? {})) if (!(c in this.pos)) this.pos[c] = p as string;
        if (!hadPositions) { this.set("connected"); this.emit("connected", { attempt: 0 }); }
      } else if (m.type === "reconnect_ack") {
        for (const [channel, c] of Object.entries<any>(m.channels)) if (!c.recovered) this.emit("gap", { channel, reason: c.error });
        this.set("connected");
        this.emit("connected", { attempt: 0 });
        this.emit("recovered", { replayed: m.messages_replayed, recovered: m.recovered, channels: m.channels });
      } else if (m.channel && m.pos) {
        const [p, o] = m.pos.split(":").map(Number);
        const last = this.pos[m.channel]?.split(":").map(Number);
        if (last && last[0] === p && o <= last[1]) return;
        this.pos[m.channel] = m.pos;
        this.emit("message", { channel: m.channel, pos: m.pos, seq: m.seq, ts: m.ts, replayed: m.type === "replay:message", data: m.data });
      }
    };
    ws.onclose = () => {
      if (this.ws !== ws) return;
      this.ws = null;
      this.set("disconnected");
      if (this.wanted) setTimeout(() => this.connect(), 500);
    };
  }
  disconnect(): void {
    this.wanted = false;
    const ws = this.ws;
    this.ws = null;
    ws?.close(1000);
    this.set("disconnected");
  }
}
