import { WebSocket as WS } from "ws";
import {
  OdinClient, isEvent, type OdinMessage, type Gap, type WebSocketConstructor, type SubscribeOptions, type Snapshot,
  type SnapshotAck, type SnapshotResult,
} from "@odin-ws/client";

const c = new OdinClient("ws://localhost:8080/ws", { WebSocket: WS, getToken: async () => "t" });
const c2 = new OdinClient("ws://localhost:8080/ws", { WebSocket: globalThis.WebSocket });
const off = c.on("message", (m: OdinMessage) => {
  if (isEvent(m.data, "TRADE_EXECUTED")) console.log(m.data.data.price.toFixed(2));
  if (m.data.type === "BALANCE_UPDATED") console.log(m.data);
});
off();
c.on("state", (e) => e.state === "connected");
c.on("gap", (g: Gap) => g.reason);
c.on("disconnected", (d) => d.delay);
c.on("recovered", (r) => r.channels["x"]?.error);
c.on("auth", (a) => a.expiresAt);
c.on("error", (e) => e.kind);
c.on("connected", (e) => e.attempt);
const s = c.subscribe("BTC.trade", { since: "1:2" });
s.on("message", (m) => m.pos);
s.on("error", (e) => e.reason);
s.on("state", (e) => e.previous);
s.on("gap", (g) => g.channel);
const st: "unsubscribed" | "subscribing" | "subscribed" = s.state;
const p: string | undefined = s.position;
c.getSubscription("x")?.unsubscribe();
c.subscriptions().map((x) => x.channel);
const pos: Record<string, string> = c.positions();
c.connect(); c.disconnect(); c2.state;
// issue 18: snapshot, skipped, compression off with ws
const c3 = new OdinClient("ws://localhost:8080/ws", { WebSocket: WS, webSocketOptions: { perMessageDeflate: false } });
const so: SubscribeOptions = { snapshot: 20 };
const t = c3.subscribe("BTC.trade", so);
t.on("snapshot", (e: Snapshot) => e.sent + e.requested + e.position.length + (e.error?.length ?? 0) + e.channel.length);
t.on("message", (m) => (m.snapshot ? "history" : m.skipped > 0 ? "skipped " + m.skipped : m.replayed));
c3.on("snapshot", (a: SnapshotAck) => {
  const r: SnapshotResult | undefined = a.channels["BTC.trade"];
  return a.sent + (r?.sent ?? 0);
});
void st; void p; void pos;
const W: WebSocketConstructor = WS;
void W;
