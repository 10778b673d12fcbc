#!/usr/bin/env bash
# Starts the extracted nginx + nchan (bench/nchan/setup.sh) on 127.0.0.1:PORT with a private configuration.
#
#   bench/nchan/start.sh PORT
#
# Writes RUN_DIR/nginx.conf from nginx.conf.template (RUN_DIR: $NCHAN_RUN_DIR, default bench/nchan/run),
# starts nginx as a daemon (master + 1 worker) with its pid file, error log and temp files under RUN_DIR,
# and waits (up to 15 s) until GET /nchan_status answers 200. Prints "nchan: listening on 127.0.0.1:PORT,
# master PID, worker PID" and exits 0; the worker's pid is also written to RUN_DIR/worker.pid.
# Exit status: 2 bad usage / not set up, 1 failed to start (error log tail printed), 3 already running.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$HERE/root"
NGINX="$ROOT/usr/sbin/nginx"
MODULE="$ROOT/usr/lib/nginx/modules/ngx_nchan_module.so"
RUN_DIR="${NCHAN_RUN_DIR:-$HERE/run}"

usage() { echo "usage: $0 PORT   (1024..65535; NCHAN_RUN_DIR=DIR to use another run directory)" >&2; exit 2; }
[[ $# -eq 1 && "$1" =~ ^[0-9]+$ ]] || usage
PORT="$1"
(( PORT >= 1024 && PORT <= 65535 )) || usage
if [[ ! -x "$NGINX" || ! -f "$MODULE" ]]; then
  echo "nchan start: $NGINX or its module is missing: run bench/nchan/setup.sh first" >&2
  exit 2
fi
# Parent pid of PID from /proc/PID/stat (the command name in parentheses may contain spaces), or nothing.
ppid_of() { local st; st="$(cat "/proc/$1/stat" 2>/dev/null)" || return 1; st="${st##*) }"; set -- $st; echo "$2"; }
# Child pids of PID (no dependency on procps).
children_of() { local d p; for d in /proc/[0-9]*; do p="${d#/proc/}"; [[ "$(ppid_of "$p")" == "$1" ]] && echo "$p"; done; return 0; }
export LD_LIBRARY_PATH="$ROOT/usr/lib/x86_64-linux-gnu:$ROOT/lib/x86_64-linux-gnu${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"

mkdir -p "$RUN_DIR/tmp"
RUN_DIR="$(cd "$RUN_DIR" && pwd)"
PIDFILE="$RUN_DIR/nginx.pid"
if [[ -s "$PIDFILE" ]] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null; then
  echo "nchan start: already running from $RUN_DIR (master pid $(cat "$PIDFILE")); run bench/nchan/stop.sh first" >&2
  exit 3
fi
rm -f "$PIDFILE" "$RUN_DIR/worker.pid"

# Is something already listening on the port? (nginx would fail with a less direct message)
if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then
  echo "nchan start: 127.0.0.1:$PORT is already in use" >&2
  exit 1
fi

sed -e "s|@PORT@|$PORT|g" -e "s|@RUN_DIR@|$RUN_DIR|g" -e "s|@MODULE@|$MODULE|g" \
  "$HERE/nginx.conf.template" > "$RUN_DIR/nginx.conf"
: > "$RUN_DIR/error.log"

fail() {
  echo "nchan start: $*" >&2
  tail -n 20 "$RUN_DIR/error.log" >&2 2>/dev/null || true
  "$HERE/stop.sh" >/dev/null 2>&1 || true
  exit 1
}

# -e: messages before the configuration is read go to the log too. The daemon keeps none of our stdio open
# (a caller reading this script's output until EOF must not wait for nginx).
"$NGINX" -p "$RUN_DIR/" -c "$RUN_DIR/nginx.conf" -e "$RUN_DIR/error.log" </dev/null >/dev/null 2>>"$RUN_DIR/error.log" \
  || fail "nginx did not start"

status() { # HTTP status of GET /nchan_status, or nothing
  local line
  exec 3<>"/dev/tcp/127.0.0.1/$PORT" || return 1
  printf 'GET /nchan_status HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' >&3
  IFS= read -r -t 2 line <&3 || true
  exec 3>&- 3<&-
  echo "$line" | awk '{print $2}'
}

for _ in $(seq 1 150); do
  if [[ -s "$PIDFILE" ]] && [[ "$(status 2>/dev/null || true)" == 200 ]]; then
    master="$(cat "$PIDFILE")"
    worker="$(children_of "$master" | head -1)"
    echo "$worker" > "$RUN_DIR/worker.pid"
    echo "nchan: listening on 127.0.0.1:$PORT, master $master, worker $worker (run dir $RUN_DIR)"
    exit 0
  fi
  if [[ -s "$PIDFILE" ]] && ! kill -0 "$(cat "$PIDFILE")" 2>/dev/null; then fail "nginx exited"; fi
  sleep 0.1
done
fail "nginx did not answer on 127.0.0.1:$PORT within 15 s"
