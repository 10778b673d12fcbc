import { backoffDelay } from "./backoff.js";
import { Emitter } from "./emitter.js";
import { isAfter } from "./positions.js";
import { Subscription } from "./subscription.js";
import type {
  ClientEvents,
  ClientOptions,
  ConnectionState,
  OdinMessage,
  SubscribeOptions,
  WebSocketConstructor,
  WebSocketLike,
} from "./types.js";

type Opts = Required<Omit<ClientOptions, "getToken" | "WebSocket" | "webSocketOptions">> &
  Pick<ClientOptions, "getToken" | "WebSocket" | "webSocketOptions">;

const noop = () => {};
const now = () => Date.now();
/** The longest URL the client builds to subscribe on the upgrade (the server reads request lines of up to 4,096 bytes). */
const MAX_UPGRADE_URL = 2048;

/** A subscribe carried by the upgrade's URL (docs/protocol.md section 3): its channels and snapshot size. */
interface UrlSubscribe {
  url: string;
  subs: Subscription[];
  n: number;
}

/**
 * A connection to odin-ws that follows docs/protocol.md section 12: auth first, one subscribe per chunk with
 * last_offset, duplicate suppression by position, gaps, heartbeat watchdog, close codes, full-jitter backoff.
 */
export class OdinClient extends Emitter<ClientEvents> {
  private readonly _url: string;
  private readonly _o: Opts;
  private _state: ConnectionState = "disconnected";
  private readonly _subs = new Map<string, Subscription>();
  private readonly _pos = new Map<string, string>();
  private _ws: WebSocketLike | null = null;
  /** bumped per connection attempt and by disconnect(): stale callbacks compare it */
  private _gen = 0;
  /** backoff attempt counter */
  private _attempt = 0;
  /** the application wants a connection */
  private _want = false;
  /** authenticated (or anonymous) and subscribes sent on the current socket */
  private _ready = false;
  /** subscription_acks and reconnect_acks still awaited before `connected` */
  private _acks = 0;
  private _recoveries = 0;
  /** per subscribe request that asked for a snapshot, in order: its subscriptions, until its snapshot_ack */
  private _snapQ: Subscription[][] = [];
  /** last inbound frame other than pong: a replay in progress */
  private _progress = 0;
  /** last sign of the snapshots' progress: live messages alone do not show it (a server without snapshots) */
  private _snapAt = 0;
  private _connectedAt = 0;
  private _lastRx = 0;
  /** when the outstanding heartbeat was sent */
  private _hbAt = 0;
  private _token: string | null = null;
  private _refused: string | null = null;
  /** HTTP status and Retry-After (ms) of a refused upgrade */
  private _http = 0;
  private _retryAfter = 0;
  private _expiresAt: number | null = null;
  private _refreshAttempt = 0;
  private _reconnectT: any;
  private _connectT: any;
  private _hbT: any;
  private _refreshT: any;
  /** the current socket's upgrade carried the subscribe */
  private _viaUrl = false;
  /** a connection subscribed by its URL opened and failed before `connected`: subscribe by message from now on */
  private _urlFailed = false;
  /** browsers: the network is back, so a reconnect waiting out its backoff goes now */
  private readonly _online = () => {
    if (this._want && !this._ws) {
      clearTimeout(this._reconnectT);
      this._open();
    }
  };

  constructor(url: string, options: ClientOptions = {}) {
    super();
    this._url = url;
    this._o = {
      minReconnectDelay: 500,
      maxReconnectDelay: 30_000,
      stableAfter: 10_000,
      heartbeatInterval: 20_000,
      heartbeatTimeout: 10_000,
      connectTimeout: 10_000,
      refreshRatio: 0.8,
      maxChannelsPerRequest: 200,
      subscribeOnUpgrade: true,
      random: Math.random,
    };
    // an option given as undefined keeps its default
    for (const k in options) if ((options as any)[k] !== undefined) (this._o as any)[k] = (options as any)[k];
  }

  get state(): ConnectionState {
    return this._state;
  }

  /** Starts connecting; idempotent. Throws when there is no WebSocket implementation (Node 20: pass `ws`). */
  connect(): void {
    if (!this._o.WebSocket && !(globalThis as any).WebSocket) {
      throw new Error("no WebSocket: pass options.WebSocket (the ws package on Node 20)");
    }
    if (!this._want) {
      this._want = true;
      (globalThis as any).addEventListener?.("online", this._online);
      this._open();
    }
  }

  /** Closes the connection and stays disconnected; subscriptions and positions are kept: connect() recovers. */
  disconnect(): void {
    this._want = false;
    (globalThis as any).removeEventListener?.("online", this._online);
    this._gen++;
    clearTimeout(this._reconnectT);
    if (this._ws) this._drop(1000, "disconnect");
    else if (this._state !== "disconnected") this._closed(1000, "disconnect");
  }

  /**
   * Subscribes a channel (exact, or a wildcard BTC.* / *.trade); the existing subscription if already subscribed.
   * `since`: a saved position to recover from; `snapshot`: the last N messages first while there is no position.
   */
  subscribe(channel: string, options: SubscribeOptions = {}): Subscription {
    let s = this._subs.get(channel);
    if (!s) {
      const n = options.snapshot || 0;
      // the server refuses the whole subscribe otherwise: fail here, where the application can see it
      if (!(Number.isInteger(n) && n >= 0)) throw new RangeError("snapshot must be a whole number >= 0");
      s = new Subscription(this, channel);
      this._subs.set(channel, s);
      if (s._exact) s._snap = n;
      if (options.since && s._exact) this._pos.set(channel, options.since);
      if (this._ready) this._subscribe([s]);
    }
    return s;
  }

  getSubscription(channel: string): Subscription | undefined {
    return this._subs.get(channel);
  }

  subscriptions(): Subscription[] {
    return [...this._subs.values()];
  }

  /** A copy: exact channel -> pos of the last message delivered (to save, e.g. in localStorage). */
  positions(): Record<string, string> {
    return Object.fromEntries(this._pos);
  }

  /** @internal */
  _position(channel: string): string | undefined {
    return this._pos.get(channel);
  }

  /** @internal */
  _unsubscribe(s: Subscription): void {
    if (this._subs.get(s.channel) === s) {
      this._end(s);
      if (this._ready) this._send("unsubscribe", { channels: [s.channel] });
    }
  }

  private _end(s: Subscription, reason?: string): void {
    this._subs.delete(s.channel);
    this._pos.delete(s.channel);
    s._set("unsubscribed");
    if (reason) s._emit("error", { reason });
  }

  private _setState(state: ConnectionState): void {
    const previous = this._state;
    if (previous !== state) {
      this._state = state;
      this._emit("state", { state, previous });
    }
  }

  private _error(kind: "transport" | "auth" | "server" | "protocol", message: string, code?: string): void {
    this._emit("error", code ? { kind, code, message } : { kind, message });
  }

  private _send(type: string, data?: object): void {
    try {
      this._ws?.send(JSON.stringify(data ? { type, data } : { type }));
    } catch {} // a socket closing under us: its onclose follows
  }

  private async _getToken(): Promise<string | null> {
    return this._o.getToken ? await this._o.getToken() : null;
  }

  /** One connection attempt: token, socket, then auth and subscribes once open. */
  private async _open(): Promise<void> {
    const gen = ++this._gen;
    this._setState("connecting");
    let token: string | null;
    try {
      token = await this._getToken();
    } catch (e) {
      if (gen === this._gen) {
        this._error("auth", "getToken failed: " + e);
        this._retry(1006, "no token", this._backoff());
      }
      return;
    }
    if (gen !== this._gen) return;
    if (token && token === this._refused) {
      this._error("auth", "getToken returned the token the server refused");
      this._retry(1006, "token refused", this._backoff());
      return;
    }
    this._token = token;
    this._http = this._retryAfter = 0;
    const byUrl = token ? null : this._urlSubscribe();
    const url = byUrl ? byUrl.url : this._url;
    const WS: WebSocketConstructor = this._o.WebSocket || (globalThis as any).WebSocket;
    let ws: WebSocketLike;
    try {
      ws = this._o.webSocketOptions ? new WS(url, undefined, this._o.webSocketOptions) : new WS(url);
    } catch (e) {
      this._error("transport", "" + e);
      this._retry(1006, "" + e, this._backoff());
      return;
    }
    this._ws = ws;
    this._viaUrl = !!byUrl;
    this._ready = false;
    this._acks = this._recoveries = 0;
    this._snapQ = [];
    this._connectT = setTimeout(() => this._connectTimeout(), this._o.connectTimeout);
    // The ws package exposes the HTTP answer of a refused upgrade (browsers cannot): 401, 429, 503 + Retry-After.
    (ws as any).on?.("unexpected-response", (_req: unknown, res: { statusCode: number; headers: any }) => {
      if (ws === this._ws) {
        const ra = res.headers["retry-after"];
        const n = +ra;
        this._http = res.statusCode;
        if (ra) this._retryAfter = Math.max(0, isNaN(n) ? Date.parse(ra) - now() : n * 1000) || 0;
      }
      ws.close(); // ws leaves aborting the request to whoever listens
    });
    ws.onopen = () => {
      this._rx();
      if (this._o.heartbeatInterval > 0) this._watch(this._o.heartbeatInterval);
      if (token) this._send("auth", { token });
      else if (byUrl) this._subscribedByUrl(byUrl);
      else this._subscribeAll();
    };
    ws.onmessage = (e) => {
      this._rx();
      let m: any;
      try {
        m = JSON.parse(e.data);
      } catch {
        return this._error("protocol", "not JSON");
      }
      if (m && typeof m === "object") this._onMessage(m);
    };
    // ws says why, browsers do not; a refused upgrade is reported with its status on close
    ws.onerror = (e) => this._http || this._error("transport", (e && e.message) || "WebSocket error");
    ws.onclose = (e) => this._closed(e.code, e.reason || "");
  }

  /** Closes our socket without waiting for its close handshake (it may be dead), then handles the close. */
  private _drop(code: number, reason: string, error?: boolean): void {
    const ws = this._ws;
    if (ws) {
      ws.onopen = ws.onmessage = ws.onclose = ws.onerror = noop;
      try {
        ws.close(1000);
      } catch {}
      if (error) this._error("transport", reason);
      this._closed(code, reason);
    }
  }

  private _closed(code: number, reason: string): void {
    const up = this._state === "connected" && now() - this._connectedAt >= this._o.stableAfter;
    // opened (or refused as a bad request) and not connected: the server may not read the URL's subscribe
    if (this._viaUrl && this._want && this._state !== "connected" && (this._ready || this._http === 400)) this._urlFailed = true;
    this._viaUrl = false;
    this._ws = null;
    this._ready = false;
    clearTimeout(this._connectT);
    clearTimeout(this._hbT);
    clearTimeout(this._refreshT);
    for (const s of this._subs.values()) s._set("subscribing");
    if (up) this._attempt = 0;
    if (!this._want) {
      this._setState("disconnected");
      this._emit("disconnected", { code, reason, reconnect: false, delay: -1 });
      return;
    }
    const http = this._http;
    let delay: number;
    if (http) {
      this._error(http === 401 ? "auth" : "transport", "upgrade refused: HTTP " + http, "HTTP_" + http);
      if (http === 401) this._refused = this._token;
      reason ||= "HTTP " + http;
      delay = Math.max(this._retryAfter, this._backoff());
    } else if (code === 1001 || code === 1012 || code === 4001) {
      // 1001/1012: reconnect soon, not a failure; 4001: a new token, at once
      delay = this._o.random() * 1000;
    } else {
      delay = this._backoff();
    }
    this._retry(code, reason, delay);
  }

  private _backoff(): number {
    const o = this._o;
    return backoffDelay(this._attempt++, o.minReconnectDelay, o.maxReconnectDelay, o.random);
  }

  private _retry(code: number, reason: string, delay: number): void {
    this._setState("connecting");
    this._emit("disconnected", { code, reason, reconnect: true, delay });
    const gen = this._gen;
    this._reconnectT = setTimeout(() => gen === this._gen && this._want && this._open(), delay);
  }

  /** Inbound traffic: what the watchdog reads. */
  private _rx(): void {
    this._lastRx = now();
  }

  /**
   * Heartbeat watchdog: `heartbeat` after heartbeatInterval of inbound silence; dead when nothing at all arrived
   * within heartbeatTimeout of sending it. Measured from the heartbeat actually sent, not from the silence's start,
   * so that timers a background tab throttles (fired late) never condemn a quiet but healthy connection.
   */
  private _watch(ms: number): void {
    const o = this._o;
    this._hbT = setTimeout(() => {
      const t = now();
      const idle = t - this._lastRx;
      if (idle < o.heartbeatInterval) return this._watch(o.heartbeatInterval - idle);
      if (this._hbAt <= this._lastRx) {
        this._hbAt = t;
        this._send("heartbeat");
        return this._watch(o.heartbeatTimeout);
      }
      if (t - this._hbAt >= o.heartbeatTimeout) return this._drop(1006, "heartbeat timeout", true);
      this._watch(o.heartbeatTimeout - (t - this._hbAt));
    }, ms);
  }

  /**
   * The subscribe the upgrade's URL can carry instead of messages: every subscription without a position, one
   * snapshot size (the request `_subscribe` would make), names without a comma (the URL's separator), the URL
   * within MAX_UPGRADE_URL and not naming channels itself. Null: subscribe by message.
   */
  private _urlSubscribe(): UrlSubscribe | null {
    const subs = [...this._subs.values()];
    if (!this._o.subscribeOnUpgrade || this._urlFailed || !subs.length || subs.length > this._o.maxChannelsPerRequest) return null;
    if (/[?&]subscribe=/.test(this._url)) return null;
    const n = subs[0]._snap;
    for (const s of subs) if (s._snap !== n || this._pos.get(s.channel) || s.channel.includes(",")) return null;
    const query = "subscribe=" + subs.map((s) => encodeURIComponent(s.channel)).join(",") + (n ? "&snapshot=" + n : "");
    const url = this._url + (this._url.includes("?") ? "&" : "?") + query;
    return url.length <= MAX_UPGRADE_URL ? { url, subs, n } : null;
  }

  /**
   * Open, subscribed by the URL: its answer comes as a message's would, so it is awaited as one. What changed since
   * the URL was built goes by message: subscriptions added meanwhile are subscribed, those ended are unsubscribed.
   */
  private _subscribedByUrl(u: UrlSubscribe): void {
    this._ready = true;
    const kept = u.subs.filter((s) => this._subs.get(s.channel) === s);
    this._request(kept, u.n, false);
    const gone = u.subs.filter((s) => this._subs.get(s.channel) !== s).map((s) => s.channel);
    if (gone.length) this._send("unsubscribe", { channels: gone });
    const added = [...this._subs.values()].filter((s) => !kept.includes(s));
    if (added.length) this._subscribe(added);
    this._check();
  }

  private _subscribeAll(): void {
    this._ready = true;
    this._subscribe([...this._subs.values()]);
    this._check();
  }

  /**
   * Subscribe requests: channels grouped by the snapshot they ask for (a snapshot only without a position: with
   * one, recovery), each group in requests of maxChannelsPerRequest.
   */
  private _subscribe(subs: Subscription[]): void {
    const groups = new Map<number, Subscription[]>();
    for (const s of subs) {
      const n = this._pos.get(s.channel) ? 0 : s._snap;
      groups.get(n)?.push(s) || groups.set(n, [s]);
    }
    const max = this._o.maxChannelsPerRequest;
    for (const [n, g] of groups) for (let i = 0; i < g.length; i += max) this._request(g.slice(i, i + max), n);
  }

  /**
   * One subscribe request, with last_offset for the exact channels that have a position, and `snapshot` N;
   * `send` false: the upgrade's URL made it, only its answer is awaited.
   */
  private _request(subs: Subscription[], n: number, send = true): void {
    const data: any = { channels: subs.map((s) => s.channel) };
    const last: Record<string, string> = {};
    let any = false;
    for (const s of subs) {
      const p = this._pos.get(s.channel);
      if (p) (last[s.channel] = p), (any = true);
      s._snapping = n > 0;
      s._snapLast = undefined;
    }
    this._acks++;
    if (any) this._recoveries++, (data.last_offset = last);
    if (n) this._snapQ.push(subs), (data.snapshot = n);
    if (send) this._send("subscribe", data);
  }

  /**
   * connectTimeout: the socket, auth_ack and every subscription_ack must be in by then. A recovery only has to
   * keep progressing (a replay read from Kafka can take the server's 10 s read timeout before its first message):
   * it fails after 3 x connectTimeout without a replayed message or an ack. So does a snapshot, without a snapshot
   * message or ack once the recoveries are done; the next connection has positions, so it recovers instead.
   */
  private _connectTimeout(): void {
    const limit = 3 * this._o.connectTimeout;
    const idle = now() - (this._snapQ.length && this._recoveries <= 0 ? this._snapAt : this._progress);
    if (!this._ready || this._acks > 0 || idle >= limit) this._drop(1006, "connect timeout", true);
    else this._connectT = setTimeout(() => this._connectTimeout(), limit - idle);
  }

  /** `connected` once every answer is in. */
  private _check(): void {
    if (this._acks <= 0 && this._recoveries <= 0 && !this._snapQ.length && this._ready && this._state === "connecting") {
      clearTimeout(this._connectT);
      this._connectedAt = now();
      this._setState("connected");
      this._emit("connected", { attempt: this._attempt });
    }
  }

  private _onMessage(m: any): void {
    const d = m.data;
    if (m.type !== "pong") this._progress = now();
    if (typeof m.channel === "string" && typeof m.pos === "string" && d !== undefined) return this._deliver(m);
    if (/^(snapshot|reconnect|subscription)_ack$/.test(m.type)) this._snapAt = this._progress;
    switch (m.type) {
      case "auth_ack":
        return this._authAck(m);
      case "auth_error":
        return this._authError(m);
      case "subscription_ack":
        this._acks--;
        for (const c of m.subscribed || []) {
          const s = this._subs.get(c);
          if (!s) continue;
          const p = m.positions?.[c];
          if (p && s._exact && !this._pos.has(c)) this._pos.set(c, p);
          if (!s._snapping) s._set("subscribed"); // else once its snapshot_ack is in
          // subscribed before and nothing to recover from: messages may have been missed (wildcards always)
          if (s._live && !this._pos.get(c)) this._gap(s, s._exact ? "no position to recover from" : "wildcard subscriptions are not recovered");
          s._live = true;
        }
        for (const r of m.rejected || []) {
          const s = this._subs.get(r.channel);
          if (s) {
            this._end(s, r.reason);
            this._error("server", r.channel + ": " + r.reason, "SUBSCRIPTION_REJECTED");
          }
        }
        return this._check();
      case "reconnect_ack": {
        this._recoveries--;
        const channels = m.channels || {};
        for (const c in channels) {
          const s = this._subs.get(c);
          if (s && !channels[c].recovered) this._gap(s, channels[c].error || "not recovered");
        }
        this._emit("recovered", { replayed: m.messages_replayed || 0, recovered: !!m.recovered, channels });
        return this._check();
      }
      case "snapshot_ack":
        return this._snapshotAck(m);
      case "reconnect_error":
        this._recoveries--;
        this._error("server", m.message, "RECONNECT_ERROR");
        return this._check();
      case "error":
        return this._error("server", m.message, m.code);
    }
  }

  private _gap(s: Subscription, reason: string): void {
    const g = { channel: s.channel, reason };
    s._emit("gap", g);
    this._emit("gap", g);
  }

  /**
   * A subscribe's snapshot is complete: its channels continue after the ack's position (unless a live message
   * already came) and are `subscribed`.
   */
  private _snapshotAck(m: any): void {
    const channels = m.channels || {};
    for (const s of this._snapQ.shift() || []) {
      const c = s.channel;
      const r = channels[c];
      if (this._subs.get(c) !== s) continue; // unsubscribed or rejected meanwhile
      if (s._snapping && r?.position) this._pos.set(c, r.position);
      s._snapping = false;
      if (r) s._emit("snapshot", { channel: c, ...r });
      // the server dropped live messages it held back during the snapshot: a hole after `position`
      if (/live/.test(r?.error)) this._gap(s, r.error);
      s._set("subscribed");
    }
    this._emit("snapshot", { sent: m.messages_sent || 0, channels });
    this._check();
  }

  private _deliver(m: any): void {
    const c: string = m.channel;
    const i = c.lastIndexOf(".");
    const own = this._subs.get(c);
    // history goes to the exact subscription that asked for it, a live message to every matching one
    const snap = m.type === "snapshot:message";
    if (snap) this._snapAt = this._progress;
    const targets: Subscription[] = [];
    for (const k of snap ? [c] : [c, c.slice(0, i) + ".*", "*" + c.slice(i)]) {
      const s = this._subs.get(k);
      if (s) targets.push(s);
    }
    if (!targets.length) return;
    if (own) {
      // A snapshot's messages are at or before the ack's position: compared with each other, not with it. The
      // first other message ends the snapshot. Either way the position becomes the message's (the highest seen).
      const inSnap = own._snapping && snap;
      if (!snap) own._snapping = false;
      if (!isAfter(m.pos, inSnap ? own._snapLast : this._pos.get(c))) return; // a duplicate at the edge of a recovery
      if (inSnap) own._snapLast = m.pos;
      this._pos.set(c, m.pos);
    }
    const msg: OdinMessage = {
      channel: c,
      pos: m.pos,
      seq: m.seq,
      ts: m.ts,
      replayed: m.type === "replay:message",
      snapshot: snap,
      skipped: +m.skipped || 0,
      data: m.data,
    };
    this._emit("message", msg);
    for (const s of targets) s._emit("message", msg);
  }

  private _authAck(m: any): void {
    const exp = typeof m.expires_at === "number" ? m.expires_at : null;
    this._expiresAt = exp;
    this._refreshAttempt = 0;
    for (const c of m.revoked || []) {
      const s = this._subs.get(c);
      if (s) this._end(s, "revoked: not permitted by the token");
    }
    this._emit("auth", { sub: m.sub, expiresAt: exp });
    if (exp !== null) {
      const left = exp * 1000 - now();
      this._refreshIn(left * this._o.refreshRatio + this._o.random() * Math.min(5000, left * (1 - this._o.refreshRatio) * 0.5));
    }
    if (!this._ready) this._subscribeAll();
  }

  private _authError(m: any): void {
    this._error("auth", m.message, m.code);
    if (this._ready) {
      // a refresh failed: retry with a new token until expires_at (then the server closes with 4001)
      const left = (this._expiresAt || 0) * 1000 - now();
      const o = this._o;
      if (left > 0) this._refreshIn(Math.min(left, backoffDelay(this._refreshAttempt++, o.minReconnectDelay, o.maxReconnectDelay, o.random)));
    } else if (m.code === "AUTH_DISABLED") {
      this._subscribeAll(); // the server does not use tokens
    } else {
      this._drop(1006, "auth_error " + m.code);
    }
  }

  private _refreshIn(ms: number): void {
    clearTimeout(this._refreshT);
    // at least 1 s (a client clock far ahead must not loop), at most setTimeout's 2^31-1 ms (a far exp)
    ms = Math.min(Math.max(1000, ms), 2 ** 31 - 1);
    const ws = this._ws;
    this._refreshT = setTimeout(async () => {
      let token: string | null = null;
      try {
        token = await this._getToken();
      } catch (e) {
        this._error("auth", "getToken failed: " + e);
      }
      if (ws !== this._ws) return;
      if (token) {
        this._token = token;
        this._send("auth", { token });
      } else this._authError({ message: "no token for the refresh" });
    }, ms);
  }
}
