// One SDK client in Node for the Java integration test SdkMarketDataTest (src/test/java/io/odinws/it): `ws` as it
// comes (it offers permessage-deflate), one exact channel subscribed with a snapshot. What the application sees goes
// to stdout as JSON lines:
//
//   node snapshot.mjs '{"url":"ws://127.0.0.1:8080/ws","channel":"A.trade","snapshot":10}'
//
//   {"ev":"upgrade","extensions":"permessage-deflate; ..."}     the server's answer to the offer
//   {"ev":"msg","pos":"3:41","snapshot":true,"skipped":0,"i":7}  each message the subscription's callback got
//   {"ev":"snapshot","requested":10,"sent":10,"position":"3:41"} the subscription's snapshot event
import WebSocket from "ws";
import { OdinClient } from "../../dist/index.mjs";

const config = JSON.parse(process.argv[2]);

function emit(obj) {
  process.stdout.write(JSON.stringify(obj) + "\n");
}

/** `ws` with its defaults, reporting the extensions the server agreed to. */
class Watched extends WebSocket {
  constructor(url, protocols, options) {
    super(url, protocols, options);
    this.on("upgrade", (res) => emit({ ev: "upgrade", extensions: res.headers["sec-websocket-extensions"] ?? "" }));
  }
}

const client = new OdinClient(config.url, { WebSocket: Watched });
client.on("error", (e) => emit({ ev: "error", kind: e.kind, code: e.code, message: e.message }));
const sub = client.subscribe(config.channel, { snapshot: config.snapshot });
sub.on("message", (m) => emit({ ev: "msg", pos: m.pos, snapshot: m.snapshot, skipped: m.skipped, i: m.data?.data?.i }));
sub.on("snapshot", (s) => emit({ ev: "snapshot", requested: s.requested, sent: s.sent, position: s.position, error: s.error ?? null }));
client.connect();
