// The SDK must stay under 6 KiB minified and gzipped (level 9): the minified ESM bundle and odin-ws.min.js.
import { readFileSync } from "node:fs";
import { gzipSync } from "node:zlib";

const LIMIT = 6144;
let over = false;
for (const f of ["dist/index.min.mjs", "dist/odin-ws.min.js"]) {
  const raw = readFileSync(new URL("../" + f, import.meta.url));
  const gz = gzipSync(raw, { level: 9 }).length;
  console.log(`${f}: ${raw.length} bytes minified, ${gz} bytes gzipped (limit ${LIMIT})`);
  if (gz >= LIMIT) over = true;
}
if (over) {
  console.error("size check failed: over " + LIMIT + " bytes gzipped");
  process.exit(1);
}
