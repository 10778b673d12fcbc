#!/usr/bin/env bash
# Stops the nginx that bench/nchan/start.sh started (RUN_DIR: $NCHAN_RUN_DIR, default bench/nchan/run):
# SIGTERM to the master from RUN_DIR/nginx.pid, up to 10 s for it and its workers to exit, then SIGKILL to
# whatever is left of them. Only processes whose command line is this nginx and this run directory's
# configuration are signalled. Exits 0 when nothing of it is running any more (also when none was).
set -uo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
RUN_DIR="${NCHAN_RUN_DIR:-$HERE/run}"
[[ -d "$RUN_DIR" ]] || { echo "nchan stop: not running (no $RUN_DIR)"; exit 0; }
RUN_DIR="$(cd "$RUN_DIR" && pwd)"
PIDFILE="$RUN_DIR/nginx.pid"
CONF="$RUN_DIR/nginx.conf"

# Parent pid of PID from /proc/PID/stat (the command name in parentheses may contain spaces), or nothing.
ppid_of() { local st; st="$(cat "/proc/$1/stat" 2>/dev/null)" || return 1; st="${st##*) }"; set -- $st; echo "$2"; }
# Child pids of PID (no dependency on procps).
children_of() { local d p; for d in /proc/[0-9]*; do p="${d#/proc/}"; [[ "$(ppid_of "$p")" == "$1" ]] && echo "$p"; done; return 0; }
ours() { # PID is a live nginx master or worker of this run directory
  local pid="$1" cmd
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  cmd="$({ tr '\0' ' ' < "/proc/$pid/cmdline"; } 2>/dev/null)" || return 1
  [[ -n "$cmd" ]] || return 1 # gone, or a zombie (exited, not yet reaped: nothing left to stop)
  # master: ".../nginx -p RUN_DIR/ -c RUN_DIR/nginx.conf ..."; worker: "nginx: worker process" (child of it)
  [[ "$cmd" == *"$CONF"* ]] && return 0
  local ppid; ppid="$(ppid_of "$pid")"
  [[ -n "$ppid" && "$cmd" == nginx:* ]] && [[ "$({ tr '\0' ' ' < "/proc/$ppid/cmdline"; } 2>/dev/null)" == *"$CONF"* ]]
}

pids=()
master="$(cat "$PIDFILE" 2>/dev/null || true)"
if ours "$master"; then
  pids+=("$master")
  for c in $(children_of "$master"); do ours "$c" && pids+=("$c"); done
fi
worker="$(cat "$RUN_DIR/worker.pid" 2>/dev/null || true)"
if ours "$worker" && [[ " ${pids[*]} " != *" $worker "* ]]; then pids+=("$worker"); fi

if [[ ${#pids[@]} -eq 0 ]]; then
  echo "nchan stop: not running"
  rm -f "$PIDFILE" "$RUN_DIR/worker.pid"
  exit 0
fi

# After the check above, a pid is "still ours" while it lives with an nginx command line (a worker whose
# master is gone has parent 1, so the parent test of ours() no longer applies).
still() { local cmd; cmd="$({ tr '\0' ' ' < "/proc/$1/cmdline"; } 2>/dev/null)" && [[ "$cmd" == nginx:* || "$cmd" == *"$CONF"* ]]; }
alive() { local n=0; for p in "${pids[@]}"; do still "$p" && n=$((n + 1)); done; echo "$n"; }

kill -TERM "${pids[0]}" 2>/dev/null
for _ in $(seq 1 100); do
  [[ "$(alive)" == 0 ]] && break
  sleep 0.1
done
if [[ "$(alive)" != 0 ]]; then
  echo "nchan stop: still running after SIGTERM + 10 s: SIGKILL" >&2
  for p in "${pids[@]}"; do still "$p" && kill -KILL "$p" 2>/dev/null; done
  for _ in $(seq 1 50); do [[ "$(alive)" == 0 ]] && break; sleep 0.1; done
fi
rm -f "$PIDFILE" "$RUN_DIR/worker.pid"
if [[ "$(alive)" != 0 ]]; then echo "nchan stop: could not stop ${pids[*]}" >&2; exit 1; fi
echo "nchan stop: stopped (pids ${pids[*]})"
