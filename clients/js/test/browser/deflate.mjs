// Headless Chromium's own WebSocket (no SDK) against the server, for the Java integration test
// BrowserDeflateTest (src/test/java/io/odinws/it): the browser offers permessage-deflate by itself; the page
// subscribes one channel and reports every message's text as the browser's WebSocket delivers it.
//
//   node deflate.mjs '{"chromium":"/usr/bin/chromium","url":"ws://127.0.0.1:8080/ws","channel":"X.trade"}'
//
// Out: JSON lines: {"ev":"open","extensions":..} (what the server answered), {"ev":"msg","text":..} per message,
// {"ev":"close","code":..}, {"ev":"console",..} for any console error. In: stdin closed: the browser goes.
import readline from "node:readline";
import puppeteer from "puppeteer-core";

const config = JSON.parse(process.argv[2]);
const emit = (obj) => process.stdout.write(JSON.stringify(obj) + "\n");

const browser = await puppeteer.launch({
  executablePath: config.chromium,
  headless: true,
  args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-crash-reporter"],
});
const page = await browser.newPage();
page.on("console", (m) => {
  if (m.type() === "error") emit({ ev: "console", text: m.text() });
});
page.on("pageerror", (e) => emit({ ev: "console", text: String(e) }));
await page.exposeFunction("report", (event) => emit(event));
await page.evaluate((c) => {
  const ws = new WebSocket(c.url);
  ws.onopen = () => {
    window.report({ ev: "open", extensions: ws.extensions });
    ws.send(JSON.stringify({ type: "subscribe", data: { channels: [c.channel] } }));
  };
  ws.onmessage = (e) => window.report({ ev: "msg", text: e.data });
  ws.onclose = (e) => window.report({ ev: "close", code: e.code });
}, { url: config.url, channel: config.channel });

readline.createInterface({ input: process.stdin }).on("close", async () => {
  await browser.close().catch(() => {});
  process.exit(0);
});
