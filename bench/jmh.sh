#!/usr/bin/env bash
# JMH microbenchmarks of the hot paths (sources in src/jmh/java, built only with the `jmh` Maven
# profile; the default build and `make test` never compile or run them):
#   FrameEncodingBench       envelope -> WebSocket frame, JSON validation, the ingest worker's per-record work
#   SubscriptionLookupBench  SubscriptionIndex.get with 160 and 10,000 channels
#   FanOutBench              Shard.onBatch to 10,000 channels x 1 subscriber and 1 channel x 10,000
#   ConnectBench             a connect's Java side on a shard (upgrade, subscribe by the URL or a message, ack, close)
#
# Usage (from anywhere; 3 to 4 minutes with the defaults, build included: one fork per benchmark and parameter set):
#   bench/jmh.sh                         all benchmarks
#   bench/jmh.sh FanOut                  only the benchmarks matching a regular expression (JMH's filter)
#   LEAK_CHECK=1 bench/jmh.sh            Netty paranoid leak detection, shorter runs; exits 1 on any LEAK report
#   JMH_RUN="-f 1 -wi 5 -w 2s -i 10 -r 2s" bench/jmh.sh   other run lengths (default below)
#   JMH_OPTS="-p sink=socket" bench/jmh.sh    further JMH options, e.g. one parameter value, or
#     JMH_OPTS="-jvmArgsAppend '-Dio.netty.leakDetection.level=simple -Dio.netty.leakDetection.samplingInterval=1'"
#     (every frame sampled by the leak detector: the server's default detection costs 1/128 of the difference)
#   SKIP_BUILD=1 bench/jmh.sh            reuse the last build
#
# Writes bench/results/jmh-latest.json (JMH's JSON) and the full JMH log to
# bench/results/tmp/jmh-latest.log (with LEAK_CHECK=1: bench/results/tmp/jmh-leakcheck.{json,log});
# prints a short table.
# Score: ns per operation (FanOutBench: per delivered message); Alloc: bytes allocated per operation.
set -euo pipefail

cd "$(dirname "$0")/.."
MVN=${MVN:-mvn -B}
JAVA=${JAVA:-java}

mkdir -p bench/results/tmp
extra=()
if [[ -n "${LEAK_CHECK:-}" ]]; then
  out=bench/results/tmp/jmh-leakcheck.json
  log=bench/results/tmp/jmh-leakcheck.log
  extra=(-jvmArgsAppend "-Dio.netty.leakDetection.level=paranoid")
else
  out=bench/results/jmh-latest.json
  log=bench/results/tmp/jmh-latest.log
fi

if [[ -z "${SKIP_BUILD:-}" ]]; then
  echo "jmh: building (mvn -Pjmh process-test-classes)..."
  $MVN -q -Pjmh -DskipTests process-test-classes
fi
if [[ ! -f target/jmh-classes/META-INF/BenchmarkList || ! -f target/jmh-classpath.txt ]]; then
  echo "jmh: no benchmarks built; run without SKIP_BUILD" >&2
  exit 1
fi
# Run from a copy of the compiled classes, so that a build in this tree during the run (another
# terminal, an IDE) cannot pull classes from under the forked benchmark JVMs.
snap=$(mktemp -d "${TMPDIR:-/tmp}/odin-jmh.XXXXXX")
trap 'rm -rf "$snap"' EXIT
cp -R target/classes "$snap/classes"
cp -R target/jmh-classes "$snap/jmh-classes"
cp="$snap/jmh-classes:$snap/classes:$(cat target/jmh-classpath.txt)"

# Short, bounded settings: 1 fork, 3 x 1 s warm-up, 5 x 1 s measurement per benchmark and parameter set.
# -foe: a failing benchmark (e.g. FanOutBench's check that every duplicate was released) fails the run.
# The leak check runs shorter: paranoid detection records a stack trace per buffer access.
if [[ -n "${LEAK_CHECK:-}" ]]; then
  run=${JMH_RUN:--f 1 -wi 1 -w 1s -i 2 -r 1s}
else
  run=${JMH_RUN:--f 1 -wi 3 -w 1s -i 5 -r 1s}
fi
eval "opts=(${JMH_OPTS:-})"
echo "jmh: running; full log in $log"
if [[ -r /proc/loadavg ]]; then
  echo "jmh: $(nproc 2>/dev/null || echo '?') CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg) (other load skews the figures)"
fi
set +e
# shellcheck disable=SC2086
"$JAVA" -cp "$cp" org.openjdk.jmh.Main $run -prof gc -foe true -rf json -rff "$out" \
    ${extra[@]+"${extra[@]}"} ${opts[@]+"${opts[@]}"} "$@" 2>&1 \
  | tee "$log" \
  | awk '/^# Benchmark: /{b=$3; p=""} /^# Parameters: /{p=substr($0, 15)} /^# Fork: /{print "jmh:   " b " " p; fflush()}'
status=${PIPESTATUS[0]}
set -e
if [[ $status -ne 0 ]]; then
  echo "jmh: FAILED (exit $status); the end of $log:" >&2
  tail -n 40 "$log" >&2
  exit 1
fi

echo
"$JAVA" -cp "$cp" io.odinws.bench.JmhSummary "$out"
echo "(Score: time per operation; FanOutBench's operation is one delivered message. Alloc: bytes allocated"
echo " per operation, -prof gc. Error: 99.9% confidence half-width over the measurement iterations.)"
echo "jmh: results in $out"

if [[ -n "${LEAK_CHECK:-}" ]]; then
  if grep -q "LEAK:" "$log"; then
    echo "jmh: Netty reported $(grep -c "LEAK:" "$log") buffer leak(s); the first (whole reports in $log):" >&2
    grep -m 1 "LEAK:" "$log" | sed 's/\\n/\n/g; s/\\t/  /g' | head -n 30 >&2
    exit 1
  fi
  echo "jmh: leak check passed (paranoid detection on every buffer, no LEAK report)"
fi
