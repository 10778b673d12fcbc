import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";

// The published declarations compile against an application written to the contract's API, with the DOM's and
// the ws package's WebSocket classes as options.WebSocket (strict mode).
function typeCheck(dir) {
  const tsc = createRequire(import.meta.url).resolve("typescript/bin/tsc");
  const project = fileURLToPath(new URL(`../${dir}/tsconfig.json`, import.meta.url));
  try {
    execFileSync(process.execPath, [tsc, "-p", project], { encoding: "utf8" });
  } catch (e) {
    assert.fail("tsc: " + e.stdout + e.stderr);
  }
}

test("type declarations: the public API type-checks in a strict application", () => typeCheck("types"));

// and in a CommonJS one (module Node16, where TypeScript refuses require() of an ES module's declarations),
// through the exports map's "require" condition
test("type declarations: a CommonJS application type-checks with require()", () => typeCheck("types-cjs"));
