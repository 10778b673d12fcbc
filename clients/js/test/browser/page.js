// The application of the browser test (run.mjs opens index.html and calls start): one OdinClient
// following exact channels; what its callbacks see goes to `report` (run.mjs's exposed function,
// or the page's own log when the page is opened by hand, with the config in the URL's hash).
"use strict";

function start(config) {
  const report = typeof window.report === "function"
    ? window.report
    : (e) => { document.getElementById("log").textContent += JSON.stringify(e) + "\n"; };
  const options = config.options || {};
  if (config.reportSockets) {
    // each socket the client opens, with its URL (what the upgrade asked for)
    const Native = window.WebSocket;
    options.WebSocket = class extends Native {
      constructor(url, protocols) {
        report({ ev: "socket", client: 0, url });
        super(url, protocols);
      }
    };
  }
  const client = new OdinWs.OdinClient(config.url, options);
  let batch = [];
  let delivered = 0;
  client.on("state", (e) => report({ ev: "state", client: 0, state: e.state, previous: e.previous }));
  client.on("connected", (e) => report({ ev: "connected", client: 0, attempt: e.attempt }));
  client.on("disconnected", (e) => report({ ev: "disconnected", client: 0, code: e.code, reason: e.reason, reconnect: e.reconnect, delay: e.delay }));
  client.on("recovered", (r) => report({ ev: "recovered", client: 0, replayed: r.replayed, recovered: r.recovered, channels: r.channels }));
  client.on("gap", (g) => report({ ev: "gap", client: 0, channel: g.channel, reason: g.reason }));
  client.on("error", (e) => report({ ev: "error", client: 0, kind: e.kind, code: e.code, message: e.message }));
  for (const channel of config.channels) {
    const sub = client.subscribe(channel);
    sub.on("message", (m) => {
      delivered++;
      batch.push([m.channel, m.pos]);
      if (m.channel !== channel || !m.data || !m.data.data || m.data.data.channel !== channel) {
        report({ ev: "bad", client: 0, channel, pos: m.pos, why: "channel " + m.channel + ", value " + JSON.stringify(m.data) });
      }
    });
    sub.on("error", (e) => report({ ev: "error", client: 0, kind: "subscription", channel, message: e.reason }));
  }
  function flush() {
    if (batch.length) {
      report({ ev: "msgs", client: 0, msgs: batch });
      batch = [];
    }
  }
  const flusher = setInterval(flush, 50);
  client.connect();
  window.finish = () => {
    clearInterval(flusher);
    flush();
    const result = { client: 0, state: client.state, positions: client.positions(), delivered };
    client.disconnect();
    return result;
  };
}

if (location.hash.length > 1) {
  window.addEventListener("load", () => start(JSON.parse(decodeURIComponent(location.hash.slice(1)))));
}
