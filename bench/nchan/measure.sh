#!/usr/bin/env bash
# One-off measurement of nchan (bench/nchan/setup.sh first): the nginx worker's memory per idle WebSocket
# subscriber, and its CPU time per delivered message on a hot channel.
#
#   bench/nchan/measure.sh [PORT] [SUBSCRIBERS] [RATE] [SECONDS]     defaults: 18181 5000 20 30
#
#  1. start.sh PORT; the worker's VmRSS / RssAnon / RssShmem from /proc/WORKER/status (baseline)
#  2. the load generator opens SUBSCRIBERS nchan WebSocket subscribers on one channel (HOT.trade); once nchan
#     counts them all (GET /pub/HOT.trade) and 3 s have passed: the worker's memory again
#     -> (RSS after - RSS before) / SUBSCRIBERS = bytes per idle subscriber
#  3. utime+stime of the worker (/proc/WORKER/stat); NchanPublisher posts RATE msg/s for SECONDS s to
#     HOT.trade; once the generator has received nothing for 2 s, utime+stime again
#     -> CPU time / deliveries (the generator's received count)
#  4. stop.sh. Prints a JSON summary (also written to RUN_DIR/measure.json).
#
# The generator uses $GEN_THREADS event-loop threads (default 2).
# Java class path: $JAVA_CP, else a copy of target/classes + target/dev-classpath.txt (after `mvn test-compile`),
# else target/odin-ws-tools.jar (after `make jar`).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
PORT="${1:-18181}"
SUBS="${2:-5000}"
RATE="${3:-20}"
SECS="${4:-30}"
CHANNEL=HOT.trade
RUN_DIR="${NCHAN_RUN_DIR:-$HERE/run}"
mkdir -p "$RUN_DIR"
RUN_DIR="$(cd "$RUN_DIR" && pwd)"

if [[ -z "${JAVA_CP:-}" ]]; then
  if [[ -d "$REPO/target/classes/io/odinws/tools/loadtest" && -f "$REPO/target/dev-classpath.txt" ]]; then
    # a snapshot: a concurrent build may rewrite target/classes during the run
    rm -rf "$RUN_DIR/classes" && cp -r "$REPO/target/classes" "$RUN_DIR/classes"
    JAVA_CP="$RUN_DIR/classes:$(cat "$REPO/target/dev-classpath.txt")"
  elif [[ -f "$REPO/target/odin-ws-tools.jar" ]]; then
    JAVA_CP="$REPO/target/odin-ws-tools.jar"
  else
    echo "measure: no Java build: run 'mvn -q test-compile' or 'make jar' first" >&2
    exit 2
  fi
fi

mem() { # VmRSS RssAnon RssShmem of PID, in kB
  awk '/^VmRSS:/ {r=$2} /^RssAnon:/ {a=$2} /^RssShmem:/ {s=$2} END {print r, a, s}' "/proc/$1/status"
}
cpu_ticks() { # utime + stime of PID (fields 14, 15 after the command name)
  local st; st="$(cat "/proc/$1/stat")"; st="${st##*) }"; set -- $st; echo $(( ${12} + ${13} ))
}
subscribers() { # nchan's subscriber count on the channel (0 if the channel does not exist yet)
  curl -s -H 'Accept: text/json' "http://127.0.0.1:$PORT/pub/$CHANNEL" | grep -o '"subscribers": *[0-9]*' | grep -o '[0-9]*$' || echo 0
}

cleanup() { [[ -n "${GEN:-}" ]] && kill "$GEN" 2>/dev/null; "$HERE/stop.sh" >/dev/null 2>&1 || true; }
trap cleanup EXIT

"$HERE/start.sh" "$PORT"
WORKER="$(cat "$RUN_DIR/worker.pid")"
TCK="$(getconf CLK_TCK)"
read -r RSS0 ANON0 SHM0 < <(mem "$WORKER")
echo "measure: worker $WORKER baseline VmRSS ${RSS0} kB (anon ${ANON0}, shmem ${SHM0})"

DURATION=$(( SUBS / 1000 + 40 + SECS ))
java -cp "$JAVA_CP" io.odinws.tools.loadtest.LoadTest --protocol nchan --url "ws://127.0.0.1:$PORT" \
  --connections "$SUBS" --channels "$CHANNEL" --heartbeat 0 --duration "$DURATION" --threads "${GEN_THREADS:-2}" \
  --report "$RUN_DIR/measure-clients.json" > /dev/null 2> "$RUN_DIR/measure-clients.log" &
GEN=$!

for _ in $(seq 1 600); do
  n="$(subscribers)"
  [[ "$n" -ge "$SUBS" ]] && break
  kill -0 "$GEN" 2>/dev/null || { echo "measure: the load generator exited early" >&2; tail "$RUN_DIR/measure-clients.log" >&2; exit 1; }
  sleep 0.1
done
[[ "$(subscribers)" -ge "$SUBS" ]] || { echo "measure: nchan counts only $(subscribers) of $SUBS subscribers" >&2; exit 1; }
sleep 3
read -r RSS1 ANON1 SHM1 < <(mem "$WORKER")
echo "measure: $SUBS idle subscribers: VmRSS ${RSS1} kB (anon ${ANON1}, shmem ${SHM1})"

LOAD0="$(cut -d' ' -f1 /proc/loadavg)"
T0="$(cpu_ticks "$WORKER")"
W0="$(date +%s.%N)"
java -cp "$JAVA_CP" io.odinws.tools.loadtest.NchanPublisher --url "http://127.0.0.1:$PORT" --channels "$CHANNEL" \
  --rate "$RATE" --count $(( RATE * SECS )) --duration $(( SECS + 10 )) > "$RUN_DIR/measure-publisher.json" \
  || echo "measure: some POSTs failed or were still unanswered after 30 s (nchan behind): see post_failed" >&2
# deliveries go on after the last POST when nchan is behind: wait until the generator receives nothing for 2 s
quiet=0
for _ in $(seq 1 120); do
  sleep 1
  last="$(tail -n 1 "$RUN_DIR/measure-clients.log")"
  if [[ "$last" =~ recv/s\ 0\  ]]; then quiet=$((quiet + 1)); else quiet=0; fi
  [[ $quiet -ge 2 ]] && break
done
T1="$(cpu_ticks "$WORKER")"
LOAD1="$(cut -d' ' -f1 /proc/loadavg)"
W1="$(date +%s.%N)"
read -r RSS2 ANON2 SHM2 < <(mem "$WORKER")
kill -TERM "$GEN" 2>/dev/null || true # end the run now; the generator still writes its report
wait "$GEN" || true
GEN=

python3 - "$RUN_DIR" "$SUBS" "$RSS0" "$ANON0" "$SHM0" "$RSS1" "$ANON1" "$SHM1" "$RSS2" "$T0" "$T1" "$TCK" "$W0" "$W1" "$LOAD0 $LOAD1 (cores: $(nproc))" <<'PY'
import json, sys
run, subs, rss0, anon0, shm0, rss1, anon1, shm1, rss2, t0, t1, tck, w0, w1, load = sys.argv[1:]
subs = int(subs)
clients = json.load(open(run + "/measure-clients.json"))
pub = json.load(open(run + "/measure-publisher.json"))
received = clients["messages"]["received"]
cpu_s = (int(t1) - int(t0)) / int(tck)
out = {
    "subscribers": subs,
    "idle": {
        "worker_rss_kb_before": int(rss0), "worker_rss_kb_after": int(rss1),
        "rss_bytes_per_subscriber": round((int(rss1) - int(rss0)) * 1024 / subs),
        "anon_bytes_per_subscriber": round((int(anon1) - int(anon0)) * 1024 / subs),
        "shmem_bytes_per_subscriber": round((int(shm1) - int(shm0)) * 1024 / subs),
    },
    "hot_channel": {
        "published": pub["sent"], "publish_rate_per_s": pub["rate_per_s"], "post_failed": pub["failed"],
        "deliveries": received, "expected": pub["sent"] * subs,
        "duplicates": clients["messages"]["duplicates"], "out_of_order": clients["messages"]["out_of_order"],
        "worker_cpu_s": cpu_s, "wall_s": round(float(w1) - float(w0), 2),
        "worker_cpu_us_per_delivery": round(cpu_s * 1e6 / received, 3) if received else None,
        "worker_cpu_share": round(cpu_s / (float(w1) - float(w0)), 3),
        "latency_ms": clients["latency_ms"]["server_to_client"],
        "worker_rss_kb_after": int(rss2),
        "machine_load_1min_before_after": load,
    },
}
s = json.dumps(out, indent=2)
open(run + "/measure.json", "w").write(s + "\n")
print(s)
PY
