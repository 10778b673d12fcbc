// A CommonJS TypeScript application: require() resolves the package's "require" condition and its declarations.
import odin = require("@odin-ws/client");
import WS = require("ws");

const c = new odin.OdinClient("ws://localhost:8080/ws", { WebSocket: WS });
c.on("message", (m: odin.OdinMessage) => m.pos);
c.subscribe("BTC.trade").on("gap", (g: odin.Gap) => g.reason);
c.connect();
