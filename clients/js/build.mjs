// Builds the SDK: dist/index.mjs (ESM), dist/index.cjs (CommonJS), dist/odin-ws.min.js (minified IIFE, global
// OdinWs, for a <script> tag) with esbuild, and the type declarations with tsc (for ESM, and a copy for CommonJS).
import { build } from "esbuild";
import { execFileSync } from "node:child_process";
import { copyFileSync, mkdirSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";

const common = { entryPoints: ["src/index.ts"], bundle: true, target: "es2020", logLevel: "warning" };
rmSync("dist", { recursive: true, force: true });
await Promise.all([
  build({ ...common, format: "esm", outfile: "dist/index.mjs" }),
  build({ ...common, format: "cjs", outfile: "dist/index.cjs" }),
  build({ ...common, format: "esm", minify: true, outfile: "dist/index.min.mjs" }),
  build({ ...common, format: "iife", globalName: "OdinWs", minify: true, outfile: "dist/odin-ws.min.js" }),
]);
const tsc = createRequire(import.meta.url).resolve("typescript/bin/tsc");
execFileSync(process.execPath, [tsc, "-p", ".", "--emitDeclarationOnly"], { stdio: "inherit" });
// CommonJS consumers get the same declarations in a folder whose package.json says commonjs, so TypeScript
// (module NodeNext) reads them as CommonJS rather than refusing an ES module under require().
mkdirSync("dist/cjs");
writeFileSync("dist/cjs/package.json", '{"type":"commonjs"}\n');
for (const f of readdirSync("dist")) if (f.endsWith(".d.ts")) copyFileSync("dist/" + f, "dist/cjs/" + f);
