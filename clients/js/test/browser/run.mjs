// Drives headless Chromium (puppeteer-core: Debian's browser, nothing downloaded) for the Java
// integration test BrowserSdkTest (src/test/java/io/odinws/it): opens index.html, which loads the
// bundled SDK (dist/odin-ws.min.js) with a script tag, and starts its application (page.js).
//
//   node run.mjs '{"chromium":"/usr/bin/chromium","url":"ws://127.0.0.1:8080/ws","channels":[...],"options":{...}}'
//
// Out: JSON lines. The page's events as follow.mjs prints them ("msgs", "state", "connected",
// "disconnected", "recovered", "gap", "error", "bad"; with "reportSockets": true in the config also
// "socket", the URL of each socket the client opens), plus
//   {"ev":"console","level":..,"source":..,"text":..}  every console error and uncaught exception
//                                                      (source "network": the browser's own report of a
//                                                      failed connection, e.g. while the server is down)
//   {"ev":"ready"}  the page is loaded and its client started
//   {"ev":"end","clients":[{"client":0,"positions":{...},"delivered":n,"state":..}]}
// In: `end` (report and exit).
import path from "node:path";
import readline from "node:readline";
import { fileURLToPath, pathToFileURL } from "node:url";
import puppeteer from "puppeteer-core";

const config = JSON.parse(process.argv[2]);
const here = path.dirname(fileURLToPath(import.meta.url));

function emit(obj) {
  process.stdout.write(JSON.stringify(obj) + "\n");
}

const browser = await puppeteer.launch({
  executablePath: config.chromium,
  headless: true, // puppeteer passes --headless=new
  args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-crash-reporter"],
});
let ended = false;
browser.on("disconnected", () => {
  if (!ended) {
    process.stderr.write("run.mjs: the browser went away\n");
    process.exit(1);
  }
});
const page = await browser.newPage();

// The page's console and errors, with their source (puppeteer's console event drops it).
const cdp = await page.createCDPSession();
cdp.on("Runtime.consoleAPICalled", (e) => {
  if (e.type === "error" || e.type === "assert") {
    emit({ ev: "console", level: e.type, source: "console-api", text: e.args.map((a) => a.value ?? a.description ?? "").join(" ") });
  }
});
cdp.on("Runtime.exceptionThrown", (e) => {
  const d = e.exceptionDetails;
  emit({ ev: "console", level: "error", source: "exception", text: d.exception?.description ?? d.text });
});
cdp.on("Log.entryAdded", ({ entry }) => {
  if (entry.level === "error") emit({ ev: "console", level: entry.level, source: entry.source, text: entry.text });
});
await cdp.send("Runtime.enable");
await cdp.send("Log.enable");

await page.exposeFunction("report", (event) => emit(event));
await page.goto(pathToFileURL(path.join(here, "index.html")).href, { waitUntil: "load" });
await page.evaluate((c) => start(c), { url: config.url, channels: config.channels, options: config.options ?? {},
  reportSockets: !!config.reportSockets });
emit({ ev: "ready" });

async function end() {
  const result = await page.evaluate(() => window.finish());
  emit({ ev: "end", clients: [result] });
  ended = true;
  await browser.close();
  process.stdout.write("", () => process.exit(0));
}

const commands = readline.createInterface({ input: process.stdin });
commands.on("line", (line) => {
  const cmd = line.trim();
  if (cmd === "end") {
    end().catch((e) => {
      process.stderr.write(`run.mjs: ${e.stack}\n`);
      process.exit(1);
    });
  } else if (cmd) {
    process.stderr.write(`run.mjs: unknown command ${line}\n`);
  }
});
// The test's end closes stdin: the browser goes with the script.
commands.on("close", async () => {
  ended = true;
  await browser.close().catch(() => {});
  process.exit(0);
});
