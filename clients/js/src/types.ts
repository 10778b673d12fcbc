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
export type WebSocketConstructor = new (url: string, protocols?: string | string[]) => WebSocketLike;

export interface ClientOptions {
  /** Default globalThis.WebSocket (browsers, Node 22+); on Node 20 pass the `ws` package's WebSocket. */
  WebSocket?: WebSocketConstructor;
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
   * From opening the socket to auth_ack and every subscription_ack, ms (10 000). A recovery may take longer while
   * it progresses: it fails after 3 x connectTimeout without a replayed message or an ack.
   */
  connectTimeout?: number;
  /** Refresh the token at this share of the time left until expires_at (0.8). */
  refreshRatio?: number;
  /** Channels per `subscribe` request (200). */
  maxChannelsPerRequest?: number;
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
  /** the Kafka record value, parsed */
  data: E;
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
  gap: Gap;
  /** expiresAt: the token's exp, Unix seconds (as auth_ack.expires_at), null when it has none */
  auth: { sub: string; expiresAt: number | null };
  error: ClientError;
}

export interface SubscriptionEvents {
  message: OdinMessage;
  gap: Gap;
  state: { state: SubscriptionState; previous: SubscriptionState };
  /** rejected by the server, or revoked by a token refresh (state -> unsubscribed) */
  error: { reason: string };
}
