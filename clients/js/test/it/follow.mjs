// N SDK clients following exact channels through their own TCP proxy (proxy.mjs), for the Java
// integration test SdkRecoveryTest (src/test/java/io/odinws/it): what each application callback
// sees goes to stdout as JSON lines, commands come on stdin.
//
//   node follow.mjs '{"url":"ws://127.0.0.1:8080/ws","clients":[["A.trade","B.liquidity"],...],
//                     "duplicate":[1],"options":{"heartbeatInterval":1000,...}}'
//
// Out (one JSON object a line):
//   {"ev":"ready","proxies":[port,...]}
//   {"ev":"msgs","client":i,"msgs":[[channel,pos],...]}  every message the subscriptions' callbacks got, per 50 ms
//   {"ev":"state","client":i,"state":..,"previous":..}  {"ev":"connected","client":i,"attempt":n}
//   {"ev":"disconnected","client":i,"code":..,"reason":..,"reconnect":..,"delay":..}
//   {"ev":"recovered","client":i,"replayed":n,"recovered":bool,"channels":{...}}
//   {"ev":"gap","client":i,"channel":..,"reason":..}   {"ev":"error","client":i,...}
//   {"ev":"bad","client":i,"channel":..,"pos":..,"why":..}  a message whose content is not what was produced
//   {"ev":"end","clients":[{"client":i,"positions":{...},"delivered":n,"clientMessages":n,"duplicated":n},...]}
// In: `offline <i> <ms>` (client i's network black-holes for ms), `end` (report and exit).
import readline from "node:readline";
import WebSocket from "ws";
import { OdinClient } from "../../dist/index.mjs";
import { Proxy } from "./proxy.mjs";

const config = JSON.parse(process.argv[2]);
const target = new URL(config.url);
const duplicate = new Set(config.duplicate ?? []);

/** `ws` without permessage-deflate: the proxy's duplicating reads plain frames (the server offers none anyway). */
class PlainWebSocket extends WebSocket {
  constructor(url, protocols) {
    super(url, protocols, { perMessageDeflate: false });
  }
}

function emit(obj) {
  process.stdout.write(JSON.stringify(obj) + "\n");
}

const followers = [];
for (let i = 0; i < config.clients.length; i++) {
  const proxy = new Proxy({ host: target.hostname, port: Number(target.port) }, duplicate.has(i));
  const port = await proxy.listen();
  const url = `ws://127.0.0.1:${port}${target.pathname}`;
  const client = new OdinClient(url, { WebSocket: PlainWebSocket, ...config.options });
  const f = { i, proxy, port, client, pending: [], delivered: 0, clientMessages: 0 };
  client.on("state", (e) => emit({ ev: "state", client: i, state: e.state, previous: e.previous }));
  client.on("connected", (e) => emit({ ev: "connected", client: i, attempt: e.attempt }));
  client.on("disconnected", (e) => emit({ ev: "disconnected", client: i, ...e }));
  client.on("recovered", (r) => emit({ ev: "recovered", client: i, replayed: r.replayed, recovered: r.recovered, channels: r.channels }));
  client.on("gap", (g) => emit({ ev: "gap", client: i, channel: g.channel, reason: g.reason }));
  client.on("error", (e) => emit({ ev: "error", client: i, kind: e.kind, code: e.code, message: e.message }));
  client.on("message", () => f.clientMessages++);
  for (const channel of config.clients[i]) {
    const sub = client.subscribe(channel);
    sub.on("message", (m) => {
      f.delivered++;
      f.pending.push([m.channel, m.pos]);
      // the producer writes the channel into each value: the SDK handed over the parsed record
      if (m.channel !== channel || m.data?.data?.channel !== channel) {
        emit({ ev: "bad", client: i, channel, pos: m.pos, why: `channel ${m.channel}, value ${JSON.stringify(m.data)}` });
      }
    });
    sub.on("error", (e) => emit({ ev: "error", client: i, kind: "subscription", channel, message: e.reason }));
  }
  followers.push(f);
}

function flush() {
  for (const f of followers) {
    if (f.pending.length) {
      emit({ ev: "msgs", client: f.i, msgs: f.pending });
      f.pending = [];
    }
  }
}
const flusher = setInterval(flush, 50);

for (const f of followers) f.client.connect();
emit({ ev: "ready", proxies: followers.map((f) => f.port) });

function end() {
  clearInterval(flusher);
  flush();
  emit({
    ev: "end",
    clients: followers.map((f) => ({
      client: f.i, state: f.client.state, positions: f.client.positions(), delivered: f.delivered,
      clientMessages: f.clientMessages, duplicated: f.proxy.duplicated, refused: f.proxy.refused,
    })),
  });
  for (const f of followers) {
    f.client.disconnect();
    f.proxy.close();
  }
  process.stdout.write("", () => process.exit(0));
}

const commands = readline.createInterface({ input: process.stdin });
commands.on("line", (line) => {
  const [cmd, ...args] = line.trim().split(/\s+/);
  if (cmd === "offline") {
    const f = followers[Number(args[0])];
    f.proxy.offline(Number(args[1]));
    emit({ ev: "offline", client: f.i, ms: Number(args[1]) });
  } else if (cmd === "end") {
    end();
  } else if (cmd) {
    process.stderr.write(`follow.mjs: unknown command ${line}\n`);
  }
});
// The test's end closes stdin: nothing is left running.
commands.on("close", () => process.exit(0));
