import type { OdinEvent } from "./events.js";

export type ConnectionState = "disconnected" | "connecting" | "connected";
export type SubscriptionState = "unsubscribed" | "subscribing" | "subscribed";

/**
 * Anything shaped like the browser's WebSocket (the `ws` package's WebSocket is). The client reads `data` of
 * onmessage's event and `code`, `reason` of onclose's; the parameters are `any` so that the DOM's and ws's
 * WebSocket classes, whose handlers take richer event types, are assignable under strict function types.
 */
export interface WebSocketLike {
  readonly readyState: number;
  onopen: ((ev: any) => void) | null;
  onmessage: ((ev: any /* { data: any } */) => void) | null;
  onclose: ((ev: any /* { code: number; reason: string; wasClean?: boolean } */) => void) | null;
  onerror: ((ev: any) => void) | null;
  send(data: string): void;
  close(code?: number, reason?: string): void;
}
/** The third argument is passed only when `ClientOptions.webSocketOptions` is given (the ws package's options). */
export type WebSocketConstructor = new (url: string, protocols?: string | string[], options?: any) => WebSocketLike;

export interface ClientOptions {
  /** Default globalThis.WebSocket (browsers, Node 22+); on Node 20 pass the `ws` package's WebSocket. */
  WebSocket?: WebSocketConstructor;
  /**
   * Third argument of the WebSocket constructor, for the `ws` package (browsers take none): e.g.
   * `{perMessageDeflate: false}` to stop offering compression, which `ws` offers by default.
   */
  webSocketOptions?: object;
  /** Asked before each connection and for each refresh; null: connect anonymously. */
  getToken?: () => string | null | Promise<string | null>;
  /** Backoff base, ms (500). */
  minReconnectDelay?: number;
  /** Backoff cap, ms (30 000). */
  maxReconnectDelay?: number;
  /** Time connected, ms, after which the attempt counter resets (10 000). */
  stableAfter?: number;
  /** Inbound silence, ms, before a `heartbeat` is sent (20 000); 0 turns the watchdog off. */
  heartbeatInterval?: number;
  /** Further silence, ms, after which the connection is declared dead, closed and reconnected (10 000). */
  heartbeatTimeout?: number;
  /**
   * From opening the socket to auth_ack and every subscription_ack, ms (10 000). A recovery or a snapshot may take
   * longer while it progresses: it fails after 3 x connectTimeout without one of its messages or an ack.
   */
  connectTimeout?: number;
  /** Refresh the token at this share of the time left until expires_at (0.8). */
  refreshRatio?: number;
  /** Channels per `subscribe` request (200). */
  maxChannelsPerRequest?: number;
  /**
   * Name the channels in the upgrade's URL when nothing needs a message first: no token, no position to recover
   * from, one snapshot size for all (true). The subscription then costs no round trip. After a connection so
   * subscribed that opened but failed before `connected` (a server that ignores the URL), the client subscribes
   * by message.
   */
  subscribeOnUpgrade?: boolean;
  /** Math.random; tests inject it. */
  random?: () => number;
}

export interface OdinMessage<E extends OdinEvent = OdinEvent> {
  channel: string;
  /** "<partition>:<offset>" */
  pos: string;
  /** Kafka offset */
  seq: number;
  /** server time the record entered the server, Unix ms */
  ts: number;
  /** the message was replayed (type replay:message) */
  replayed: boolean;
  /** the message is history sent for the subscribe option `snapshot` (type snapshot:message) */
  snapshot: boolean;
  /**
   * messages of this channel the server skipped for this connection before this one (a slow connection on a
   * channel delivered "latest"); 0 when none. Not a gap: positions stay exact, the skipped ones can be fetched.
   */
  skipped: number;
  /** the Kafka record value, parsed */
  data: E;
}

export interface SubscribeOptions {
  /** Start from a saved position (exact channels): recover what came after it. */
  since?: string;
  /**
   * Ask for the channel's last N messages (a whole number) before its live ones, when the client has no position
   * for it (never with `since`, never on a reconnect that recovers). Exact channels only; the server may send fewer.
   */
  snapshot?: number;
}

/** A channel's entry in `snapshot_ack`. */
export interface SnapshotResult {
  requested: number;
  sent: number;
  /** the position the channel's live messages continue after */
  position: string;
  /** why fewer than requested were sent, when it was not the channel's short history */
  error?: string;
}
/** The subscription event `snapshot`: its snapshot is complete. */
export interface Snapshot extends SnapshotResult {
  channel: string;
}
/** The client event `snapshot`: one `snapshot_ack` (one per subscribe request that asked for a snapshot). */
export interface SnapshotAck {
  sent: number;
  channels: Record<string, SnapshotResult>;
}

/** Messages of `channel` may have been missed (recovered:false, or a wildcard after a reconnect): reload its state. */
export interface Gap {
  channel: string;
  reason: string;
}
export interface Recovery {
  replayed: number;
  recovered: boolean;
  channels: Record<string, { recovered: boolean; replayed: number; error?: string }>;
}
/** delay: ms before the next attempt, -1 when not reconnecting. */
export interface Disconnect {
  code: number;
  reason: string;
  reconnect: boolean;
  delay: number;
}
export interface ClientError {
  kind: "transport" | "auth" | "server" | "protocol";
  code?: string;
  message: string;
}

export interface ClientEvents {
  state: { state: ConnectionState; previous: ConnectionState };
  /** every answer in; attempt: failed attempts before this connection (0: the first try worked) */
  connected: { attempt: number };
  disconnected: Disconnect;
  message: OdinMessage;
  recovered: Recovery;
  snapshot: SnapshotAck;
  gap: Gap;
  /** expiresAt: the token's exp, Unix seconds (as auth_ack.expires_at), null when it has none */
  auth: { sub: string; expiresAt: number | null };
  error: ClientError;
}

export interface SubscriptionEvents {
  message: OdinMessage;
  gap: Gap;
  /** its snapshot_ack entry (the subscription is then `subscribed`) */
  snapshot: Snapshot;
  state: { state: SubscriptionState; previous: SubscriptionState };
  /** rejected by the server, or revoked by a token refresh (state -> unsubscribed) */
  error: { reason: string };
}
