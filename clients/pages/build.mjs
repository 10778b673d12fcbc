// Builds the operations port's two pages into OUT (argv[2], default dist/):
//   OUT/market/{index.html,main.js,style.css}, OUT/operator/{index.html,main.js,style.css}
// Everything is bundled (the SDK from its TypeScript source, uPlot and its CSS from npm), so a page
// loads only its own three files, by relative URL: it works under /market/ and /operator/ or any prefix.
// Options: --sourcemap (linked .map files next to main.js).
import { build } from "esbuild";
import { existsSync } from "node:fs";
import { copyFile, mkdir, rm } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const sourcemap = args.includes("--sourcemap");
const out = resolve(args.find((a) => !a.startsWith("--")) ?? join(here, "dist"));
// ODIN_PAGES_SDK=<file> builds the market page against another SDK source (another checkout of clients/js).
const sdkOverride = process.env.ODIN_PAGES_SDK ? resolve(process.env.ODIN_PAGES_SDK) : null;
const sdkEntry = resolve(here, "../js/src/index.ts");

const redirectSdk = {
  name: "sdk-override",
  setup(b) {
    if (!sdkOverride) return;
    b.onResolve({ filter: /js\/src\/index\.ts$/ }, (a) =>
      resolve(a.resolveDir, a.path) === sdkEntry ? { path: sdkOverride } : undefined);
  },
};

if (!sdkOverride && !existsSync(sdkEntry)) {
  console.error(`pages not built: the market page is built on the SDK's source, ${sdkEntry}, which is missing`);
  process.exit(1);
}

const started = Date.now();
for (const page of ["market", "operator"]) {
  const src = join(here, "src", page);
  const dst = join(out, page);
  await rm(dst, { recursive: true, force: true });
  await mkdir(dst, { recursive: true });
  await build({
    entryPoints: { main: join(src, "main.ts"), style: join(src, "style.css") },
    outdir: dst,
    bundle: true,
    minify: true,
    format: "iife",
    target: ["es2020", "chrome100", "firefox100", "safari15"],
    sourcemap: sourcemap ? "linked" : false,
    legalComments: "none",
    logLevel: "warning",
    plugins: [redirectSdk],
  });
  await copyFile(join(src, "index.html"), join(dst, "index.html"));
}
console.log(`pages built into ${out} in ${Date.now() - started} ms`);
