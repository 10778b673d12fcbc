#!/usr/bin/env bash
# Builds the SDK's browser bundle and the operations port's pages into OUT (default: ../target/classes/webroot):
#   OUT/sdk/odin-ws.min.js, OUT/market/{index.html,...}, OUT/operator/{index.html,...}
# Maven runs it in generate-resources with OUT=target/classes/webroot, so the jar serves them (skip with
# -Dclients.skip=true). Without npm it warns and exits 0: the server then answers the page paths with 404
# "pages not built". `npm ci` runs when clients/node_modules is missing or older than package-lock.json; nothing is
# rebuilt while every output is newer than every source.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
out=${1:-$here/../target/classes/webroot}
mkdir -p "$out"
out=$(cd "$out" && pwd)

if ! command -v npm >/dev/null 2>&1 || ! command -v node >/dev/null 2>&1; then
  echo "clients/build.sh: WARNING: pages and SDK bundle not built: install Node 20+ and npm (the operations port answers /market/, /operator/ and /sdk/ with 404)" >&2
  exit 0
fi
major=$(node -p 'process.versions.node.split(".")[0]')
if [ "$major" -lt 20 ]; then
  echo "clients/build.sh: WARNING: Node $(node --version) is older than the 20 the clients are written for; building anyway" >&2
fi

# What each part needs before it can be built; a part whose build script is not there yet is skipped.
has_sdk=; [ -f "$here/js/build.mjs" ] && has_sdk=1
has_pages=; [ -f "$here/pages/build.mjs" ] && has_pages=1
[ -n "$has_sdk" ] || echo "clients/build.sh: clients/js/build.mjs is missing: SDK bundle not built" >&2
[ -n "$has_pages" ] || echo "clients/build.sh: clients/pages/build.mjs is missing: pages not built" >&2

outputs=()
[ -n "$has_sdk" ] && outputs+=("$out/sdk/odin-ws.min.js")
[ -n "$has_pages" ] && outputs+=("$out/market/index.html" "$out/operator/index.html")
[ ${#outputs[@]} -gt 0 ] || exit 0

# The inputs of the outputs: sources, build scripts, package manifests, the lockfile and this script.
sources=("$here/build.sh" "$here/package.json" "$here/package-lock.json")
for part in js pages; do
  for f in "$here/$part/src" "$here/$part/build.mjs" "$here/$part/package.json" "$here/$part/tsconfig.json"; do
    [ -e "$f" ] && sources+=("$f")
  done
done
stale=
for o in "${outputs[@]}"; do
  if [ ! -f "$o" ] || [ -n "$(find "${sources[@]}" -type f -newer "$o" -print -quit)" ]; then
    stale=1
    break
  fi
done
if [ -z "$stale" ]; then
  echo "clients/build.sh: $out is up to date"
  exit 0
fi

cd "$here"
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "clients/build.sh: npm ci (clients/node_modules is missing or older than package-lock.json)"
  npm ci --no-audit --no-fund --loglevel=error
fi
t0=$(date +%s)
if [ -n "$has_sdk" ]; then
  npm run --silent build -w js
  mkdir -p "$out/sdk"
  cp js/dist/odin-ws.min.js "$out/sdk/odin-ws.min.js"
fi
if [ -n "$has_pages" ]; then
  rm -rf "$out/market" "$out/operator"
  node pages/build.mjs "$out"
fi
echo "clients/build.sh: built $(cd "$out" && find . -type f | sort | tr '\n' ' ')in $(( $(date +%s) - t0 )) s"
