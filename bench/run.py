#!/usr/bin/env python3
"""odin-ws benchmark runner (`make bench`, `make bench QUICK=1`).

Runs six bounded scenarios against the production jar on this machine and writes a dated report:
bench/results/<UTC date-time>/report.md, report.json, *.png, and a copy of the report as
bench/results/latest.md.

  startup        fresh starts of the server alone: process start to /health/ready 200 (the worst is issue 17's
                 ready_s) and the server's CPU seconds until then
  S1 idle        many idle connections, one channel each, subscribed by the upgrade's URL: connect rate, memory per
                 connection; then rounds of connects on the same (warm) server, by URL and by subscribe message in
                 turn: CPU per connect once the JIT has compiled the connect path
  S2 hot channel one channel, many subscribers, publish rate stepped: deliveries/s, CPU per delivery
  S3 market      market-shaped load (tokens x categories, Zipf subscriptions), event rate stepped
  S3z deflate    S3's mix at one rate, clients offering permessage-deflate or not (interleaved): wire bytes and
                 server CPU per delivery
  S4 slow        S3 at one rate with 5 % of the clients not reading: healthy p99, RSS, slow closes
  S4C conflation S4's slow clients reading at a tenth of the rate, on one hot channel delivered `all` (BTC.trade),
                 then on one delivered `latest` (BTC.analytics, conflated): slow closes, server RSS, how far behind
                 the slow clients' values are, messages skipped (issue 18)
  S5 storm       half of N clients with --recover dropped at once (reset, no close frame) while the server
                 runs: time until all are back and recovered; messages recovered, missed, duplicated
  S6 restart     server restart under N clients with --recover: time to all back, recovered/missed
  S7 edge        S3's load on 10,000 healthy clients, alone (baseline), then while 2,000 hostile sockets
                 (`odin-ws hostile`: slow-loris, half-open, flood, reconnect loop, oversize frame) from 20 other
                 loopback addresses attack the server, twice over: healthy p99 against the baseline (the mean of
                 the rounds), loss against Kafka, RSS over the run, every hostile socket's fate by reason
  S8 auth cost   K clients connect at a fixed rate, without a token and with an HS256 / RS256 / ES256 token
                 (auth.mode optional, one server per algorithm): server CPU seconds per 1,000 connects, ratio to
                 no token
  S9 private     10,000 authenticated clients, each on S3's public mix plus its own balances (*.balances, records
                 owned by its user), against the same clients on the public mix alone: server CPU per delivery,
                 ratio (issue 15 goal: within 10 %), loss and leaks against Kafka
  floor          the kernel's floor for S2: a C program (bench/floor/fanout.c) that only writes one frame to
                 each of S2's connections per message, at S2's rates: the least any server spends per delivery here

Placement: server pinned to core 0, load generator to core 1 (taskset -c); the Kafka broker and the
publisher are not pinned and share both cores. Everything listens on and targets 127.0.0.1 only.
Every process this script starts runs in its own process group and is stopped at the end (SIGTERM,
then SIGKILL), also on failure or Ctrl-C.

Standard library only; charts need matplotlib (Debian's python3-matplotlib; `make bench` installs it
when missing) and are skipped, with a note in the report, when it cannot be imported.
"""

import argparse
import atexit
import datetime as dt
import json
import math
import os
import platform
import random
import re
import shutil
import signal
import statistics
import socket
import subprocess
import sys
import threading
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BENCH = os.path.join(ROOT, "bench")
RESULTS = os.path.join(BENCH, "results")
NCHAN = os.path.join(BENCH, "nchan")
LOOPBACK = "127.0.0.1"
SOURCE_ADDRESSES = "127.0.0.2-127.0.0.40"
# S7: the healthy clients spread over 1,024 addresses (about 10 each, like users behind their own addresses) so that
# the server's production per-address limits, loopback not exempt, throttle the hostile sockets and not them; the
# hostile sockets come from 20 addresses of their own.
S7_HEALTHY_ADDRESSES = "127.0.4.0-127.0.7.255"
S7_HOSTILE_ADDRESSES = "127.0.1.1-127.0.1.20"
S7_HOSTILE_KINDS = ("slow_loris", "half_open", "flood", "reconnect", "oversize")
# Issue 14's goal for S7: the healthy clients' p99 under attack within this factor of the baseline's.
S7_P99_GOAL = 1.2
# S7's p99 is the steady state's: from this many seconds after the publisher's records arrive, in both steps. The
# seconds before (a fresh generator JVM meeting the stream, the publisher's first batches) are shown per second.
S7_STEADY_AFTER_S = 5
# A step's CPU window starts this many seconds after the publisher's first records arrive. S2's latency counts from
# the same moment (from the tool's next whole second): each step's generator is a fresh JVM whose receive path
# compiles while the first records arrive, and at 10 msg/s it fell behind by hundreds of ms in that first second
# while the server's own poll-to-written times (ws_delivery_latency_seconds) stayed under the floor's fan-out.
# The whole step's server-to-client percentiles stay in the report beside the window's.
WINDOW_AFTER_S = 2.0
# S8: how the clients present their tokens: the upgrade's Authorization header (the token checked at the door, the
# servers' and tools' way) and the auth message (the browsers' way: each connect then also costs the message and its
# auth_ack); and the algorithms measured, each against a server configured for it.
S8_PRESENTS = ("header", "message")
S8_ALGORITHMS = ("HS256", "RS256", "ES256")
# S1 subscribes each client by its upgrade URL, as nchan's clients subscribe (docs/protocol.md, subscribe on the upgrade)
S1_BY_URL = ["--subscribe-on-upgrade"]
# S2's channel: a token outside the demo publisher's set (pages.marketTokens), so that the broker's own publisher (one
# event a second over the demo tokens) never adds records to it and each step carries exactly its rate, as the floor
# and nchan's S2 do. On BTC.trade it added about 0.23 messages a second, each able to queue behind a step's fan-out.
S2_TOKEN = "HOT"
S2_CHANNEL = f"{S2_TOKEN}.trade"
# S9: the public part of S3's mix (S3's categories but balances) and the private channel each client adds.
S9_PUBLIC_CATEGORIES = "trade,liquidity,metadata,social,community,creation,analytics"
S9_PRIVATE = "*.balances"
# Issue 15's goal for S9: CPU per delivery with private balances within this factor of the public-only run.
S9_CPU_GOAL = 1.10
# Issue 17's targets: report.json's `targets`, one entry per key, each {"value", "goal", "met"}; value <= goal meets it.
TARGETS = (
    ("cpu_per_connect_vs_nchan", 1.5, "S1 server CPU per connect over nchan's in the same ramp"),
    ("cpu_per_delivery_vs_nchan", 0.8, "S2 CPU per delivery over nchan's, the worst of the rates both ran"),
    ("cpu_per_delivery_vs_floor_light", 1.1, "S2 CPU per delivery over the floor's CPU per write, the worse of 2 and 5 msg/s"),
    ("p99_vs_floor_fanout", 1.2, "S2 server-to-client p99 (over the step's window) over the floor's fan-out max at that rate, the worst rate below saturation (neither the server's nor the generator's core saturated)"),
    ("s6_all_back_s", 3.0, "S6 SIGTERM to every client back, s"),
    ("ready_s", 0.6, "process start to /health/ready 200, the worst fresh start, s"),
    ("jvm_bytes_per_idle_conn", 2048, "S1 heap after GC plus direct memory (NMT Other) per idle connection, bytes"),
    ("rss_per_conn_vs_nchan", 0.4, "S1 RSS growth per connection over nchan's"),
)
SERVER_CORE = "0"
# start_server: how often the server is probed until it logs its Kafka assignment (see there)
PROBE_EARLY_S = 0.05
GENERATOR_CORE = "1"
P99_LIMIT_MS = 100.0
CLK_TCK = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")
# Receive packet steering of the loopback device: which cores process what arrives on it (see --rps).
RPS_CPUS = "/sys/class/net/lo/queues/rx-0/rps_cpus"

def dockerfile_java_opts():
    """The JAVA_OPTS of the Dockerfile's runtime stage: the bench runs the server with the image's JVM settings."""
    with open(os.path.join(ROOT, "Dockerfile")) as f:
        text = f.read().replace("\\\n", " ")
    m = re.findall(r'^ENV JAVA_OPTS="([^"]*)"', text, re.M)
    if not m:
        raise SystemExit("bench: no ENV JAVA_OPTS=\"...\" in the Dockerfile")
    return m[-1].split()


# The image's JVM flags (Dockerfile JAVA_OPTS; its class-data sharing archive path is replaced by the bench's
# own, see prepare), with -XX:MaxRAM=2g standing in for the 2 GiB memory limit of k8s/base (so percentages
# of the memory are taken of 2 GiB, as in the pod, instead of this machine's 24 GiB), and NMT summary so
# that Netty's direct memory (allocated through Unsafe, invisible to the JVM buffer-pool gauges) can be read
# ("Other"). NMT summary costs a few bytes per malloc and next to no CPU.
IMAGE_JVM_FLAGS = dockerfile_java_opts()
SERVER_JVM_FLAGS = ["-XX:MaxRAM=2g", *IMAGE_JVM_FLAGS, "-XX:NativeMemoryTracking=summary"]
# Extra server flags for one run, e.g. a profiler agent: BENCH_SERVER_JAVA_OPTS="-agentpath:...". Recorded in
# the report with the other flags.
SERVER_JVM_FLAGS += os.environ.get("BENCH_SERVER_JAVA_OPTS", "").split()

# BENCH_SERVER_JAVA=/usr/lib/jvm/temurin-25-jdk-amd64/bin/java: the server on another JDK (the tools stay on `java`).
# On a JDK 25 or later the bench writes that JDK's ahead-of-time cache (-XX:AOTCacheOutput, same training run as
# the class-data sharing archive) and starts the server with -XX:AOTCache instead of -XX:SharedArchiveFile.
SERVER_JAVA = os.environ.get("BENCH_SERVER_JAVA") or "java"

# Issue 7's target for S5: every dropped client back and recovered within this many seconds of the drop.
S5_TARGET_S = 10.0

# Scenario sizes. Rates are far below the issue's examples (200..5,000 events/s for S3, 10..400 msg/s on
# one channel for S2): on this machine one server core delivers on the order of 100,000 messages/s over
# loopback, so the steps are chosen to cross that limit rather than start beyond it.
FULL = {
    "ramp": 2000,
    "s1_connections": 19000, "s1_hold_s": 15, "s1_warm_connects": 5000, "s1_warm_rounds": 10,
    "s2_subscribers": 10000, "s2_rates": [2, 5, 10, 20, 40, 80], "s2_publish_s": 20,
    "s2_warmup_rate": 10, "s2_warmup_s": 15,
    "floor_s": 10, "floor_batching_rate": 5, "floor_repeats": 3,
    "s3_clients": 19000, "s3_rates": [25, 50, 100, 200, 400], "s3_publish_s": 25,
    "s3z_clients": 10000, "s3z_rate": 100, "s3z_publish_s": 20, "s3z_rounds": 3,
    "s4_clients": 19000, "s4_publish_s": 75,
    "s4c_clients": 100, "s4c_rate": 800, "s4c_publish_s": 75,
    "s5_clients": 10000, "s5_rate": 10, "s5_steady_s": 10, "s5_after_s": 25,
    "s6_clients": 10000, "s6_rate": 10, "s6_steady_s": 10, "s6_after_s": 25,
    "s7_clients": 10000, "s7_ramp": 1000, "s7_hostile": 2000, "s7_rate": 50, "s7_publish_s": 60, "s7_warmup_s": 20,
    "s7_warmup_rounds": 2, "s7_rounds": 4,
    "s8_connections": 3000, "s8_ramp": 1000,
    "s9_clients": 10000, "s9_rate": 50, "s9_publish_s": 30, "s9_warmup_s": 15,
    "startup_runs": 5,
    "deadline_s": 50 * 60,
}
QUICK = {
    "ramp": 2000,
    "s1_connections": 2000, "s1_hold_s": 5, "s1_warm_connects": 1000, "s1_warm_rounds": 4,
    "s2_subscribers": 2000, "s2_rates": [5, 20, 50], "s2_publish_s": 8,
    "s2_warmup_rate": 0, "s2_warmup_s": 0,
    "floor_s": 5, "floor_batching_rate": 20, "floor_repeats": 1,
    "s3_clients": 2000, "s3_rates": [50, 200], "s3_publish_s": 8,
    "s3z_clients": 1000, "s3z_rate": 100, "s3z_publish_s": 8, "s3z_rounds": 1,
    "s4_clients": 2000, "s4_publish_s": 25,
    "s4c_clients": 40, "s4c_rate": 1000, "s4c_publish_s": 30,
    "s5_clients": 2000, "s5_rate": 10, "s5_steady_s": 5, "s5_after_s": 12,
    "s6_clients": 2000, "s6_rate": 10, "s6_steady_s": 5, "s6_after_s": 12,
    "s7_clients": 2000, "s7_ramp": 500, "s7_hostile": 400, "s7_rate": 50, "s7_publish_s": 20, "s7_warmup_s": 0,
    "s7_warmup_rounds": 0, "s7_rounds": 1,
    "s8_connections": 1000, "s8_ramp": 500,
    "s9_clients": 2000, "s9_rate": 50, "s9_publish_s": 12, "s9_warmup_s": 0,
    "startup_runs": 3,
    "deadline_s": 12 * 60,
}


def log(msg):
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", flush=True)


class BenchError(Exception):
    pass


# ------------------------------------------------------------------------------------------------
# processes
# ------------------------------------------------------------------------------------------------

class Procs:
    """Every process the run starts, each in its own session/process group, stopped at exit."""

    def __init__(self):
        self.items = []  # (name, Popen)
        self.lock = threading.Lock()

    def start(self, name, cmd, log_path, cwd=None, env=None):
        out = open(log_path, "ab")
        p = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, cwd=cwd,
                             env=env, start_new_session=True)
        out.close()
        with self.lock:
            self.items.append((name, p))
        return p

    def start_piped(self, name, cmd, cwd=None, stdin=subprocess.DEVNULL):
        """stderr piped (the load generator's progress), stdout to /dev/null (the report goes to --report)."""
        p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, stdin=stdin,
                             cwd=cwd, start_new_session=True)
        with self.lock:
            self.items.append((name, p))
        return p

    @staticmethod
    def stop(p, grace=15.0, sig=signal.SIGTERM):
        """SIGTERM to the process (its own handlers run: drain, report), then SIGKILL to its whole group."""
        if p.poll() is None:
            try:
                p.send_signal(sig)
            except ProcessLookupError:
                pass
            try:
                p.wait(grace)
            except subprocess.TimeoutExpired:
                pass
        try:
            os.killpg(p.pid, signal.SIGKILL)  # leftovers in its group (loadtest children); our own group only
        except (ProcessLookupError, PermissionError):
            pass
        try:
            p.wait(5)
        except subprocess.TimeoutExpired:
            pass

    def stop_all(self):
        with self.lock:
            items = list(reversed(self.items))
        for _, p in items:
            if p.poll() is None:
                try:
                    p.send_signal(signal.SIGTERM)
                except ProcessLookupError:
                    pass
        deadline = time.monotonic() + 12
        for _, p in items:
            try:
                p.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                pass
        for _, p in items:
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
            try:
                p.wait(5)
            except subprocess.TimeoutExpired:
                pass


PROCS = Procs()


# ------------------------------------------------------------------------------------------------
# /proc readers
# ------------------------------------------------------------------------------------------------

def proc_cpu_s(pid):
    """utime + stime of one process, seconds; None if gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLK_TCK
    except (OSError, IndexError, ValueError):
        return None


def idle_cpu_rate(pid, seconds=3.0):
    """A process's CPU per second over `seconds` of doing nothing asked of it (the server's background: the broker's
    event a second, timers), to take off a window's CPU."""
    c0, t0 = proc_cpu_s(pid), time.monotonic()
    time.sleep(seconds)
    return max(0.0, (proc_cpu_s(pid) - c0) / (time.monotonic() - t0))


def descendants(pid):
    """pid and all its descendants (loadtest children, nginx workers)."""
    children = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            children.setdefault(ppid, []).append(int(d))
        except (OSError, IndexError, ValueError):
            continue
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(children.get(p, []))
    return out


def tree_cpu_s(pid):
    return sum(c for c in (proc_cpu_s(p) for p in descendants(pid)) if c is not None)


def rss_bytes(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def tree_rss_bytes(pid):
    return sum(r for r in (rss_bytes(p) for p in descendants(pid)) if r is not None)


def cpu_jiffies():
    """{'cpu': (busy, total), 'cpu0': ..., 'cpu1': ...} from /proc/stat."""
    out = {}
    with open("/proc/stat") as f:
        for line in f:
            if not line.startswith("cpu"):
                break
            parts = line.split()
            vals = [int(x) for x in parts[1:]]
            idle = vals[3] + (vals[4] if len(vals) > 4 else 0)
            total = sum(vals[:8])
            out[parts[0]] = (total - idle, total)
    return out


def sockstat():
    """TCP line of /proc/net/sockstat: inuse, orphan, tw, alloc, mem (pages)."""
    try:
        with open("/proc/net/sockstat") as f:
            for line in f:
                if line.startswith("TCP:"):
                    parts = line.split()[1:]
                    return {parts[i]: int(parts[i + 1]) for i in range(0, len(parts) - 1, 2)}
    except OSError:
        pass
    return {}


SOCKET_SLABS = ("TCP", "sock_inode_cache", "filp", "dentry", "eventpoll_epi")


def slab_object_sizes():
    """Object sizes of the slab caches one TCP socket held by an epoll-driven process takes one object of each
    (the socket, its inode, its file, its dentry, the epoll item); needs a readable /proc/slabinfo (root)."""
    out = {}
    try:
        with open("/proc/slabinfo") as f:
            for line in f:
                parts = line.split()
                if parts and parts[0] in SOCKET_SLABS:
                    out[parts[0]] = int(parts[3])
    except (OSError, IndexError, ValueError):
        pass
    return out


SKMEM = re.compile(r"skmem:\(r(\d+),rb\d+,t(\d+),tb\d+,f(\d+),w(\d+),o(\d+)")


def server_socket_buffers(port):
    """Established sockets on the server's port and the buffer memory they hold (rmem + wmem + forward alloc +
    queued + options, from `ss -tm`), for the server end only."""
    try:
        r = subprocess.run(["ss", "-tmnH", "state", "established", f"( sport = :{port} )"], capture_output=True,
                           text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return None, None
    n, total = 0, 0
    for m in SKMEM.finditer(r.stdout):
        n += 1
        total += sum(int(x) for x in m.groups())
    return n, total


class CpuSampler:
    """One process's utime + stime every `every_s` seconds in a thread of its own, for CPU between two instants known
    only afterwards (interpolated between samples)."""

    def __init__(self, pid, every_s=0.05):
        self.pid, self.every_s = pid, every_s
        self.samples = []  # (monotonic, cpu seconds)
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while not self.stopping.is_set():
            c = proc_cpu_s(self.pid)
            if c is not None:
                self.samples.append((time.monotonic(), c))
            self.stopping.wait(self.every_s)

    def stop(self):
        self.stopping.set()
        self.thread.join(2)

    def at(self, t):
        """CPU seconds at monotonic time t (linear between the samples around it)."""
        s = self.samples
        if not s:
            return None
        if t <= s[0][0]:
            return s[0][1]
        for (t0, c0), (t1, c1) in zip(s, s[1:]):
            if t0 <= t <= t1:
                return c0 + (c1 - c0) * (t - t0) / max(1e-9, t1 - t0)
        return s[-1][1]


class CpuWindow:
    """CPU used between two samples: per process (tree), per core, and by the rest of the machine."""

    def __init__(self, pids):
        self.pids = {k: v for k, v in pids.items() if v}
        self.t0 = time.monotonic()
        self.c0 = {k: tree_cpu_s(p) for k, p in self.pids.items()}
        self.j0 = cpu_jiffies()

    def finish(self):
        t1 = time.monotonic()
        c1 = {k: tree_cpu_s(p) for k, p in self.pids.items()}
        j1 = cpu_jiffies()
        wall = max(1e-6, t1 - self.t0)
        res = {"wall_s": round(wall, 3), "cpu_s": {}, "cores_used": {}, "core_busy_pct": {}}
        ours = 0.0
        for k in self.pids:
            d = max(0.0, c1[k] - self.c0[k])
            ours += d
            res["cpu_s"][k] = round(d, 3)
            res["cores_used"][k] = round(d / wall, 3)
        for core in ("cpu0", "cpu1", "cpu"):
            if core in j1 and core in self.j0:
                busy = j1[core][0] - self.j0[core][0]
                total = max(1, j1[core][1] - self.j0[core][1])
                res["core_busy_pct"][core] = round(100.0 * busy / total, 1)
        if "cpu" in j1:
            busy_s = (j1["cpu"][0] - self.j0["cpu"][0]) / CLK_TCK
            res["cores_used"]["other_processes"] = round(max(0.0, busy_s - ours) / wall, 3)
        return res


# ------------------------------------------------------------------------------------------------
# HTTP, metrics, jcmd
# ------------------------------------------------------------------------------------------------

def floor_repeats(floor):
    """How many runs each one-frame floor rate had (floor_median); 1 in runs made before it."""
    return max((len(st.get("runs", [])) for st in floor.get("steps", [])), default=0) or 1


def floor_saturated(steps):
    """The floor's last one-frame run filled its writer's core: higher rates would only queue."""
    return bool(steps) and steps[-1]["writer_core_share"] > 0.95


def log_contains(path, offset, text):
    """Whether the log file at `path` has `text` after byte `offset` (a process's log, appended to by restarts)."""
    try:
        with open(path, "rb") as f:
            f.seek(offset)
            return text.encode() in f.read()
    except OSError:
        return False


def http_get(url, timeout=2.0):
    assert url.startswith(f"http://{LOOPBACK}:"), url  # loopback only
    with urllib.request.urlopen(url, timeout=timeout) as r:
        return r.status, r.read().decode("utf-8", "replace")


METRIC_LINE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)")


class ProbeTimer:
    """GET /health/live once a second on one port, in a thread of its own: how long a Kubernetes probe would
    wait while the step runs. A probe that fails or takes over `timeout_s` counts as failed."""

    def __init__(self, port, every_s=1.0, timeout_s=5.0):
        self.url, self.every_s, self.timeout_s = f"http://{LOOPBACK}:{port}/health/live", every_s, timeout_s
        self.samples = []
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while not self.stopping.is_set():
            t = time.monotonic()
            try:
                st, _ = http_get(self.url, timeout=self.timeout_s)
                self.samples.append((time.monotonic() - t) * 1000 if st == 200 else None)
            except Exception:
                self.samples.append(None)
            self.stopping.wait(max(0.0, self.every_s - (time.monotonic() - t)))

    def finish(self):
        self.stopping.set()
        self.thread.join(self.timeout_s + 1)
        ok = sorted(x for x in self.samples if x is not None)
        return {"probes": len(self.samples), "failed": len(self.samples) - len(ok),
                "p50_ms": round(ok[len(ok) // 2], 1) if ok else None, "max_ms": round(ok[-1], 1) if ok else None}


def scrape(port, timeout=5.0):
    """Prometheus text into {'name{labels}': value}; plus plain names summed over labels."""
    try:
        _, text = http_get(f"http://{LOOPBACK}:{port}/metrics", timeout=timeout)
    except Exception:
        return {}
    out, sums = {}, {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = METRIC_LINE.match(line)
        if not m:
            continue
        try:
            v = float(m.group(3))
        except ValueError:
            continue
        out[m.group(1) + (m.group(2) or "")] = v
        sums[m.group(1)] = sums.get(m.group(1), 0.0) + v
    for k, v in sums.items():
        out.setdefault(k, v)
        out["sum:" + k] = v
    return out


def scrape_sure(port, total_timeout=30.0):
    """A scrape that waits for a server that does not answer at once (the peer, a public port's /metrics
    queued behind the delivery backlog); {} if it never answers."""
    end = time.monotonic() + total_timeout
    while time.monotonic() < end:
        m = scrape(port, timeout=max(1.0, end - time.monotonic()))
        if m:
            return m
        time.sleep(0.2)
    return {}


def delta(m1, m0, name):
    """Counter difference, None when either scrape failed."""
    if not m1 or not m0:
        return None
    return metric_sum(m1, name) - metric_sum(m0, name)


def histogram_window(m1, m0, name):
    """A Prometheus histogram (seconds) between two scrapes: the count, and the bucket bounds in ms under which 99 %
    and all of the window's samples fall; None when a scrape failed or nothing was recorded."""
    if not m1 or not m0:
        return None
    counts = {}
    for k, v in m1.items():
        if k.startswith(name + "_bucket{"):
            le = re.search(r'le="([^"]+)"', k)
            if le:
                bound = float("inf") if le.group(1) == "+Inf" else float(le.group(1))
                counts[bound] = counts.get(bound, 0.0) + v - m0.get(k, 0.0)
    total = counts.get(float("inf"), 0.0)
    if total <= 0:
        return None

    def under(share):
        return next((round(b * 1000, 1) if b != float("inf") else None)
                    for b in sorted(counts) if counts[b] >= share * total - 1e-9)

    return {"count": int(total), "p99_le_ms": under(0.99), "max_le_ms": under(1.0)}


def labelled_sum(m, name, label):
    """The sum of the series of counter `name` whose labels include `label` (e.g. 'result="ok"')."""
    return sum(v for k, v in m.items() if k.startswith(name + "{") and label in k)


def metric_sum(m, name):
    return m.get("sum:" + name, m.get(name, 0.0))


def heap_used(m):
    return sum(v for k, v in m.items() if k.startswith('jvm_memory_used_bytes{area="heap"'))


def jcmd(pid, *args, timeout=60):
    try:
        r = subprocess.run(["jcmd", str(pid), *args], capture_output=True, text=True, timeout=timeout)
        return r.stdout
    except (OSError, subprocess.TimeoutExpired) as e:
        return f"jcmd failed: {e}"


NMT_TOTAL = re.compile(r"Total: reserved=(\d+)KB, committed=(\d+)KB")
NMT_CAT = re.compile(r"^-\s+(.+?) \(reserved=(\d+)KB, committed=(\d+)KB\)", re.M)


def nmt(pid):
    text = jcmd(pid, "VM.native_memory", "summary")
    out = {}
    m = NMT_TOTAL.search(text)
    if m:
        out["Total"] = int(m.group(2)) * 1024
    for m in NMT_CAT.finditer(text):
        out[m.group(1).strip()] = int(m.group(3)) * 1024
    return out


def memory_snapshot(pid, port, gc=True):
    """RSS, heap after a full GC, direct memory (NMT 'Other' and the buffer-pool gauge), kernel TCP memory."""
    if gc:
        jcmd(pid, "GC.run")
        time.sleep(0.5)
    m = scrape(port)
    n = nmt(pid)
    ss = sockstat()
    sockets, buffers = server_socket_buffers(port)
    return {
        "server_sockets": sockets,
        "server_socket_buffers_bytes": buffers,
        "rss_bytes": rss_bytes(pid),
        "heap_used_after_gc_bytes": heap_used(m),
        "nmt_committed_bytes": n.get("Total"),
        "nmt_other_bytes": n.get("Other"),  # Netty's direct memory (Unsafe) and NIO direct buffers
        "nmt_java_heap_committed_bytes": n.get("Java Heap"),
        "nmt_thread_bytes": n.get("Thread"),
        "direct_buffer_pool_bytes": m.get('jvm_buffer_memory_used_bytes{id="direct"}'),
        "kernel_tcp_mem_bytes": ss.get("mem", 0) * PAGE if ss else None,
        "kernel_tcp_sockets_alloc": ss.get("alloc") if ss else None,
        "connections_active": m.get("ws_connections_active"),
    }


def reconnect_figures(rep, m_after):
    """What S5 and S6 report alike: the generator's reconnect, message and loss figures, the server's replay totals."""
    msgs = rep["messages"]
    return {
        "reconnect_attempts": rep["connections"]["reconnect_attempts"],
        "reconnected": rep["connections"]["reconnected"],
        "held_at_end": rep["connections"]["held_at_end"],
        "closes_by_code": rep["closes_by_code"],
        "errors_by_kind": rep["errors"]["by_kind"],
        "messages_received": msgs["received"], "messages_replayed": msgs["replayed"],
        "duplicates": msgs["duplicates"], "out_of_order": msgs["out_of_order"],
        "loss": rep.get("loss"),
        "server_replay_requests": metric_sum(m_after, "ws_replay_requests_total") if m_after else None,
        "server_replayed_messages": metric_sum(m_after, "ws_replayed_messages_total") if m_after else None,
        "server_channels_not_recovered":
            metric_sum(m_after, "ws_replay_channels_not_recovered_total") if m_after else None,
        "latency_ms": rep["latency_ms"],
    }


# ------------------------------------------------------------------------------------------------
# the bench
# ------------------------------------------------------------------------------------------------

PROGRESS = re.compile(r"\[\s*([\d.]+)s\] open (\d+)/(\d+) acks (\d+) recv/s (\d+) e2e p50/p99 (\S+)/(\S+) ms "
                      r"srv p50/p99 (\S+)/(\S+) ms errors (\d+)")


class Generator:
    """One `loadtest` run (pinned to the generator core): progress parsed live, report read at the end."""

    def __init__(self, bench, name, args, report_path, control=False):
        """control: the tool reads commands on its stdin (--control-stdin), for measure() and hold()."""
        self.bench = bench
        self.name = name
        self.report_path = report_path
        self.lines = []  # (monotonic, dict)
        self.last = None
        self.t_connecting = None  # when the tool said it opens its first connection (tokens minted by then)
        cmd = ["taskset", "-c", GENERATOR_CORE, "java", "-jar", bench.tools_jar, "loadtest", *args,
               "--report", report_path, *(["--control-stdin"] if control else [])]
        self.cmd = cmd
        self.log_path = os.path.join(bench.logs, f"{name}.generator.log")
        self.log = open(self.log_path, "a")
        self.log.write("$ " + " ".join(cmd) + "\n")
        self.p = PROCS.start_piped(name, cmd, cwd=bench.work, stdin=subprocess.PIPE if control else subprocess.DEVNULL)
        self.measured_at = None
        self.held_at = None
        self.t_start = time.monotonic()
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self):
        for raw in self.p.stderr:
            line = raw.decode("utf-8", "replace")
            self.log.write(line)
            if self.t_connecting is None and line.startswith("loadtest: connecting"):
                self.t_connecting = time.monotonic()
            m = PROGRESS.search(line)
            if m:
                d = {"t": float(m.group(1)), "open": int(m.group(2)), "target": int(m.group(3)),
                     "acks": int(m.group(4)), "recv_per_s": int(m.group(5)), "errors": int(m.group(10))}
                self.last = d
                self.lines.append((time.monotonic(), d))
        self.log.flush()

    def measure(self):
        """The report's latency percentiles start again from the tool's next second (--control-stdin)."""
        self._command(b"measure\n")
        self.measured_at = time.monotonic()

    def hold(self):
        """The report's latency percentiles end with the tool's current second (--control-stdin)."""
        self._command(b"hold\n")
        self.held_at = time.monotonic()

    def _command(self, line):
        self.p.stdin.write(line)
        self.p.stdin.flush()

    def alive(self):
        return self.p.poll() is None

    def wait_subscribed(self, n, timeout):
        """Until n clients have their first ack (or timeout); returns the count reached."""
        end = time.monotonic() + timeout
        while time.monotonic() < end and self.alive():
            if self.last and self.last["acks"] >= n:
                return self.last["acks"]
            time.sleep(0.2)
        return self.last["acks"] if self.last else 0

    def recv_rate(self, t0, t1):
        vals = [d["recv_per_s"] for (t, d) in self.lines if t0 + 0.5 <= t <= t1 + 0.5]
        return round(sum(vals) / len(vals), 1) if vals else None

    def finish(self, timeout=90):
        """SIGTERM (the tool ends early but still writes its report), then the report."""
        Procs.stop(self.p, grace=timeout)
        self.thread.join(5)
        self.log.close()
        try:
            with open(self.report_path) as f:
                r = json.load(f)
        except (OSError, ValueError) as e:
            raise BenchError(f"{self.name}: no generator report ({e}); see {self.log_path}")
        r.pop("histograms_us", None)
        return r


# The attacker runs where no core is left for it on this machine, so that what S7 measures is what its sockets cost
# the server, not what its process costs the healthy clients' generator beside it on the same core (an attacker has
# its own machines): SCHED_IDLE, it gets a core only when nothing else wants it.
HOSTILE_SCHED = ["chrt", "--idle", "0"] if shutil.which("chrt") else []


class Hostile:
    """One `odin-ws hostile` run (pinned to the generator core, as the client side): it ends by itself after its
    duration and writes its summary of every socket's fate to --report."""

    def __init__(self, bench, name, args, duration_s):
        self.name = name
        self.duration_s = duration_s
        self.report_path = os.path.join(bench.logs, f"{name}.report.json")
        self.log_path = os.path.join(bench.logs, f"{name}.log")
        self.cmd = ["taskset", "-c", GENERATOR_CORE, *HOSTILE_SCHED, "java", "-jar", bench.tools_jar, "hostile", *args,
                    "--duration", str(duration_s), "--report", self.report_path]
        with open(self.log_path, "a") as f:
            f.write("$ " + " ".join(self.cmd) + "\n")
        self.p = PROCS.start(name, self.cmd, self.log_path, cwd=bench.work)
        # SCHED_IDLE alone is not enough: every process the bench starts has a session of its own, and with the
        # kernel's autogroup scheduling (kernel.sched_autogroup_enabled) a session is a group that competes with the
        # other groups at the group's nice, whatever the policy of its threads. Measured so, the starting attacker
        # got half of the generator's core while the generator's threads queued. The lowest group nice (19) gives
        # the group the weight of an idle task.
        self.autogroup_nice = set_autogroup_nice(self.p.pid, 19)

    def finish(self):
        """Waits for the tool's own end (its duration and the closes), then reads its summary."""
        try:
            self.p.wait(self.duration_s + 60)
        except subprocess.TimeoutExpired:
            pass
        Procs.stop(self.p, grace=10)
        try:
            with open(self.report_path) as f:
                return json.load(f)
        except (OSError, ValueError) as e:
            raise BenchError(f"{self.name}: no hostile summary ({e}); see {self.log_path}")


def set_autogroup_nice(pid, nice):
    """Sets the nice of the scheduling autogroup of {pid} (its session); returns it, or None where the kernel has
    no autogroups or refuses."""
    try:
        with open(f"/proc/{pid}/autogroup", "w") as f:
            f.write(str(nice))
        return nice
    except OSError:
        return None


def jar_defaults(jar):
    """The built-in configuration (conf/default.json) of a server jar: which keys that build knows."""
    import zipfile
    try:
        with zipfile.ZipFile(jar) as z:
            return json.loads(z.read("conf/default.json"))
    except (OSError, KeyError, ValueError, zipfile.BadZipFile):
        return {}


class Bench:
    def __init__(self, args):
        self.args = args
        self.cfg = QUICK if args.quick else FULL
        self.t0 = time.monotonic()
        stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H%M%SZ")
        self.out = os.path.abspath(args.out) if args.out else os.path.join(RESULTS, stamp)
        self.logs = os.path.join(self.out, "logs")
        self.work = os.path.join(self.out, "work")
        os.makedirs(self.logs, exist_ok=True)
        os.makedirs(self.work, exist_ok=True)
        self.report = {
            "started_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
            "mode": "quick" if args.quick else "full",
            "command": args.command or ("make bench QUICK=1" if args.quick else "make bench"),
            "argv": [os.path.relpath(sys.argv[0], ROOT)] + sys.argv[1:],
            "machine": machine_info(),
            "setup": {},
            "startups": [],
            "scenarios": {},
            "peer": {"run": False, "reason": "not asked (--peer nchan)"},
            "charts": {},
            "errors": [],
        }
        self.server = None
        self.server_port = None
        self.ops_port = None  # the server's operations port: /metrics and health, off the shards' loops
        self.broker = None
        self.bootstrap = None
        self.publishers = []
        self.conf_overrides = None  # sections merged over the bench's server configuration for one scenario (S7)
        self.floor_after_s2 = True  # whether the floor's rates run next to S2's steps (the floor is among the scenarios)
        self.floor_s2_steps = []  # those runs, for the floor scenario
        self.floor_built = None  # (the floor's executable, whether it has io_uring), once built

    # -- time budget --
    def left(self):
        return self.cfg["deadline_s"] - (time.monotonic() - self.t0)

    def has_time(self, need_s):
        return self.left() >= need_s

    # -- setup --
    def prepare(self):
        """Private copies of the jars and classes: other people may rebuild target/ during the run."""
        t = os.path.join(ROOT, "target")
        for f in ("odin-ws.jar", "odin-ws-tools.jar", "dev-classpath.txt"):
            if not os.path.exists(os.path.join(t, f)):
                raise BenchError(f"target/{f} missing: run `make jar build` first (make bench does)")
        # BENCH_SERVER_JAR: another build of the server, e.g. to measure before and after a change
        shutil.copy(os.environ.get("BENCH_SERVER_JAR") or os.path.join(t, "odin-ws.jar"),
                    os.path.join(self.work, "odin-ws.jar"))
        shutil.copy(os.path.join(t, "odin-ws-tools.jar"), self.work)
        shutil.copytree(os.path.join(t, "classes"), os.path.join(self.work, "classes"))
        shutil.copytree(os.path.join(t, "test-classes"), os.path.join(self.work, "test-classes"))
        self.server_jar = os.path.join(self.work, "odin-ws.jar")
        self.tools_jar = os.path.join(self.work, "odin-ws-tools.jar")
        self.cds_archive()
        with open(os.path.join(t, "dev-classpath.txt")) as f:
            self.dev_cp = ":".join([os.path.join(self.work, "classes"), os.path.join(self.work, "test-classes"),
                                    f.read().strip()])
        help_text = subprocess.run(["java", "-jar", self.tools_jar, "loadtest", "--help"], capture_output=True,
                                   text=True, timeout=60).stdout
        self.generator_help = help_text
        self.report["setup"] = {
            "server_core": int(SERVER_CORE), "generator_core": int(GENERATOR_CORE),
            "pinning": f"server: taskset -c {SERVER_CORE}; load generator: taskset -c {GENERATOR_CORE}; Kafka "
                       "broker and publisher unpinned (they share both cores with the server and the generator)",
            "server_jvm_flags": SERVER_JVM_FLAGS,
            "server_mode": "multi, shards 0 (one per available core): the JVM pinned to one core sees 1 CPU, so "
                           "this is one shard, the production default configuration on a 1-CPU pod; single mode "
                           "would also be one shard",
            "gc_note": "JVM flags are the Dockerfile's JAVA_OPTS (Serial collector, 48 MiB young generation, "
                       "class-data sharing archive; each explained there)",
            "p99_limit_ms": P99_LIMIT_MS,
            "source_addresses": SOURCE_ADDRESSES,
            "loopback_receive": self.loopback_receive,
        }

    def steer_loopback_receive(self):
        """--rps: the receiving side's TCP work for loopback packets runs on the generator's core (receive packet
        steering) instead of inside the sender's write. On a network the client's receive runs on the client's
        machine, so this charges the server (and the peer, and the floor) with its own sending only. Restored at
        exit. Without --rps, the kernel runs the receive in the sender's syscall and the server pays for both ends."""
        if not self.args.rps:
            return "processed in the sending process's syscall (loopback default): the server's CPU includes the clients' TCP receive"
        try:
            with open(RPS_CPUS) as f:
                before = f.read().strip()
            with open(RPS_CPUS, "w") as f:
                f.write(format(1 << int(GENERATOR_CORE), "x"))
        except OSError as e:
            raise BenchError(f"--rps: cannot write {RPS_CPUS} ({e.strerror}); it needs root. Run without --rps.")

        def restore():
            with open(RPS_CPUS, "w") as f:
                f.write(before)
        atexit.register(restore)
        log(f"loopback receive steered to core {GENERATOR_CORE} ({RPS_CPUS} was {before}; restored at exit)")
        return (f"steered to the generator's core {GENERATOR_CORE} (--rps: {RPS_CPUS} = "
                f"{format(1 << int(GENERATOR_CORE), 'x')}): the server's CPU is its own sending, as over a network")

    def cds_archive(self):
        """The image's class-data sharing archive, written the way the Dockerfile does, for this jar copy."""
        global SERVER_JVM_FLAGS
        jsa = os.path.join(self.work, "odin-ws.jsa")
        flags = [f for f in SERVER_JVM_FLAGS if f.startswith("-XX:SharedArchiveFile=")]
        if not flags:
            return
        version = subprocess.run([SERVER_JAVA, "-version"], capture_output=True, text=True).stderr
        m = re.search(r'version "(\d+)', version)
        if m and int(m.group(1)) >= 25:
            # the JDK's ahead-of-time cache (JEP 483/514/515), trained by the same run, with the image's collector
            aot = os.path.join(self.work, "odin-ws.aot")
            log(f"writing the ahead-of-time cache ({SERVER_JAVA} -XX:AOTCacheOutput ... cds-training)")
            # the cache is only used by a JVM with the same object layout: train with the run's compact headers flag
            layout = [f for f in SERVER_JVM_FLAGS if f.endswith("UseCompactObjectHeaders")]
            train, flag = ["-XX:+UseSerialGC", *layout, f"-XX:AOTCacheOutput={aot}"], f"-XX:AOTCache={aot}"
            out = aot
        else:
            log("writing the class-data sharing archive (java -XX:ArchiveClassesAtExit ... cds-training)")
            train, flag, out = [f"-XX:ArchiveClassesAtExit={jsa}"], f"-XX:SharedArchiveFile={jsa}", jsa
        r = subprocess.run([SERVER_JAVA, *train, "-jar", self.server_jar, "cds-training"],
                           capture_output=True, text=True, timeout=180, cwd=self.work)
        if r.returncode != 0 or not os.path.exists(out):
            log(f"cds-training failed ({r.returncode}): the server starts without the archive")
            SERVER_JVM_FLAGS = [f for f in SERVER_JVM_FLAGS if f not in flags]
            return
        SERVER_JVM_FLAGS = [flag if f in flags else f for f in SERVER_JVM_FLAGS]

    def start_broker(self):
        log("starting the Kafka broker (DevStack --no-server --rate 1)")
        conf = os.path.join(self.work, "target", "dev-conf.json")
        cmd = ["java", "-cp", self.dev_cp, "io.odinws.dev.DevStack", "--no-server", "--rate", "1"]
        # cwd = work: DevStack writes target/dev-kafka and target/dev-conf.json relative to it, so the
        # project's own target/dev-* (someone's `make dev`) is left alone.
        self.broker = PROCS.start("broker", cmd, os.path.join(self.logs, "broker.log"), cwd=self.work)
        end = time.monotonic() + 120
        while time.monotonic() < end:
            if self.broker.poll() is not None:
                raise BenchError("the Kafka broker exited; see logs/broker.log")
            if os.path.exists(conf):
                try:
                    with open(conf) as f:
                        self.bootstrap = json.load(f)["kafka"]["bootstrap"]
                    break
                except (ValueError, KeyError):
                    pass
            time.sleep(0.5)
        if not self.bootstrap:
            raise BenchError("the Kafka broker did not start within 120 s")
        host = self.bootstrap.split(":")[0]
        if host not in ("127.0.0.1", "localhost"):
            raise BenchError(f"broker bootstrap {self.bootstrap} is not loopback")
        self.report["setup"]["kafka"] = ("in-process KRaft broker (DevStack --no-server), 8 topics x 12 partitions, "
                                         "its demo publisher at 1 event/s in the background")
        log(f"broker at {self.bootstrap}")

    # -- server --
    def server_conf(self, port, ops_port):
        conf = {
            "mode": "multi", "shards": 0, "maxConnections": 20000,
            "http": {"host": LOOPBACK, "port": port},
            "ops": {"host": LOOPBACK, "port": ops_port},
            "kafka": {"bootstrap": self.bootstrap},
            "admission": {"enabled": False, "cpuRejectPercent": 100, "heapRejectPercent": 100},
        }
        for k, v in (self.conf_overrides or {}).items():
            conf[k] = {**conf[k], **v} if isinstance(v, dict) and isinstance(conf.get(k), dict) else v
        # BENCH_SERVER_CONF='{"ws":{"flushDelayMicros":500}}': sections merged over the above, to measure a setting
        for k, v in json.loads(os.environ.get("BENCH_SERVER_CONF") or "{}").items():
            conf[k] = {**conf[k], **v} if isinstance(v, dict) and isinstance(conf.get(k), dict) else v
        return conf

    def start_server(self, label, port=None, required=True, ready_timeout=60, log_name="server"):
        port = port or free_port()
        ops_port = free_port()
        while ops_port == port:
            ops_port = free_port()
        conf_path = os.path.join(self.work, "server-conf.json")
        with open(conf_path, "w") as f:
            json.dump(self.server_conf(port, ops_port), f, indent=1)
        self.report["setup"]["server_conf"] = self.server_conf("<port>", "<ops port>")
        cmd = ["taskset", "-c", SERVER_CORE, SERVER_JAVA, *SERVER_JVM_FLAGS, "-jar", self.server_jar, "-conf", conf_path]
        self.report["setup"]["server_command"] = " ".join(cmd).replace(self.work + "/", "")
        log_path = os.path.join(self.logs, f"{log_name}.log")
        log_from = os.path.getsize(log_path) if os.path.exists(log_path) else 0
        t0 = time.monotonic()
        p = PROCS.start("server", cmd, log_path, cwd=self.work)
        ready = live = None
        # Probes are not free for a server starting on one core (each is a connection, a request and an answer in a
        # JVM still interpreting), nor for the bench's own core share: every 10 ms they took a measurable part of the
        # start. So probe every PROBE_EARLY_S until the server logs its Kafka assignment (it cannot be ready before),
        # then every 10 ms; a Kubernetes probe comes at most once a second.
        assigned = False
        last_probe = -1.0
        while time.monotonic() - t0 < ready_timeout:
            if p.poll() is not None:
                raise BenchError(f"server exited with {p.returncode} during startup; see logs/{log_name}.log")
            if not assigned:
                assigned = log_contains(log_path, log_from, "event=kafka_assigned")
            now = time.monotonic()
            if assigned or now - last_probe >= PROBE_EARLY_S:
                last_probe = now
                try:
                    # on the operations port, as Kubernetes probes (k8s/base readinessProbe port: ops): the public port's
                    # answer waits behind every client knocking at a restart (S6), which says nothing of readiness
                    if live is None:
                        st, _ = http_get(f"http://{LOOPBACK}:{ops_port}/health/live", timeout=1)
                        if st == 200:
                            live = time.monotonic() - t0
                    st, _ = http_get(f"http://{LOOPBACK}:{ops_port}/health/ready", timeout=1)
                    if st == 200:
                        ready = time.monotonic() - t0
                        break
                except Exception:
                    pass
            time.sleep(0.01 if assigned else 0.005)
        self.server, self.server_port, self.ops_port = p, port, ops_port
        entry = {"label": label, "live_s": round(live, 3) if live else None,
                 "ready_s": round(ready, 3) if ready else None}
        self.report["startups"].append(entry)
        if ready is None:
            if required:
                raise BenchError(f"server not ready within {ready_timeout} s; see logs/{log_name}.log")
            log(f"server for {label}: /health/ready not 200 within {ready_timeout} s")
            return p
        log(f"server up for {label}: pid {p.pid}, port {port}, /health/ready 200 after {ready:.2f} s")
        return p

    def stop_server(self):
        if self.server is None:
            return None
        t0 = time.monotonic()
        Procs.stop(self.server, grace=20)
        took = time.monotonic() - t0
        self.server = None
        return round(took, 3)

    # -- publisher --
    def start_publisher(self, name, rate, duration, tokens=None, topics=None, extra=None):
        cmd = ["java", "-jar", self.tools_jar, "publish", "--bootstrap", self.bootstrap, "--rate", str(rate),
               "--duration", str(duration)]
        if tokens:
            cmd += ["--tokens", tokens]
        if topics:
            cmd += ["--topics", topics]
        cmd += extra or []
        p = PROCS.start(name, cmd, os.path.join(self.logs, f"{name}.publisher.log"), cwd=self.work)
        self.publishers.append(p)
        return p

    def wait_publishing(self, rate, gen, timeout=40):
        """Until the publisher's records arrive (its JVM start and metadata warm-up take a second or more): the
        first of the generator receiving data and the server counting records read. /metrics is answered on the
        shard's event loop, so an overloaded server answers it late; the generator's progress is the other clock."""
        base = metric_sum(scrape(self.ops_port, timeout=1), "ws_kafka_messages_received_total")
        need = max(3, rate // 2)
        # the broker's own demo publisher (1 event/s) already delivers a little: look for clearly more than that
        t_start = self._pub_started
        before = [d["recv_per_s"] for (t, d) in list(gen.lines) if t_start - 3.5 <= t <= t_start]
        floor = 2 * max(before, default=0) + 10
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            time.sleep(0.1)
            if gen.last and gen.last["recv_per_s"] > floor and gen.lines[-1][0] > t_start:
                return time.monotonic()
            m = scrape(self.ops_port, timeout=0.5)
            if m and base and metric_sum(m, "ws_kafka_messages_received_total") - base >= need:
                return time.monotonic()
        raise BenchError(f"no published record reached the server or the clients within {timeout} s")

    def generator(self, name, connections, duration, extra, sources=SOURCE_ADDRESSES, ramp=None, control=False):
        url = f"ws://{LOOPBACK}:{self.server_port}/ws"
        args = ["--url", url, "--connections", str(connections), "--ramp", str(ramp or self.cfg["ramp"]),
                "--duration", str(duration), "--source-addresses", sources, *extra]
        return Generator(self, name, args, os.path.join(self.logs, f"{name}.report.json"), control)

    def pids(self, gen=None, pub=None):
        return {"server": self.server.pid if self.server else None, "generator": gen.p.pid if gen else None,
                "broker": self.broker.pid if self.broker else None, "publisher": pub.pid if pub else None}

    # ---------------------------------------------------------------------------------------------
    # startup: fresh starts with nobody connecting
    # ---------------------------------------------------------------------------------------------
    def startup(self):
        """Several fresh starts of the server alone (no clients), each to /health/ready 200 and stopped: the worst is
        issue 17's ready_s. Also the server's CPU seconds until ready, which depend less on the machine's load."""
        n = self.cfg["startup_runs"]
        log(f"startup: {n} fresh starts, process start to /health/ready 200")
        runs = []
        for i in range(n):
            p = self.start_server(f"fresh start {i + 1} of {n}")
            entry = self.report["startups"][-1]
            cpu = proc_cpu_s(p.pid) if entry["ready_s"] is not None else None
            entry["cpu_s_at_ready"] = round(cpu, 3) if cpu is not None else None
            runs.append(entry)
            self.stop_server()
            time.sleep(0.5)
        ready = [r["ready_s"] for r in runs if r["ready_s"] is not None]
        cpu = sorted(r["cpu_s_at_ready"] for r in runs if r.get("cpu_s_at_ready") is not None)
        self.report["scenarios"]["startup"] = {
            "runs": n, "ready_s": [r["ready_s"] for r in runs], "live_s": [r["live_s"] for r in runs],
            "cpu_s_at_ready": [r.get("cpu_s_at_ready") for r in runs],
            "worst_ready_s": max(ready) if len(ready) == n else None,
            "median_ready_s": sorted(ready)[len(ready) // 2] if ready else None,
            "median_cpu_s_at_ready": cpu[len(cpu) // 2] if cpu else None,
        }
        log(f"startup: ready after {ready} s (worst {max(ready) if ready else None})")

    # ---------------------------------------------------------------------------------------------
    # S1 idle
    # ---------------------------------------------------------------------------------------------
    def s1(self):
        n = self.cfg["s1_connections"]
        log(f"S1 idle: {n} connections, ramp {self.cfg['ramp']}/s, one channel each, no publishing")
        self.start_server("S1")
        time.sleep(2)
        before = memory_snapshot(self.server.pid, self.ops_port)
        # the server's idle CPU (the broker's event a second, timers), measured just before the ramp and taken off it,
        # as the warm rounds and S8 take it off theirs: a connect's cost, not what the process spends meanwhile
        idle_rate = idle_cpu_rate(self.server.pid)
        ramp_s = n / self.cfg["ramp"]
        # subscribed as nchan's clients are, by the URL (docs/protocol.md, subscribe on the upgrade): one subscribe
        # and its ack per connect all the same, without the message's round trip
        gen = self.generator("s1", n, int(ramp_s + 60 + self.cfg["s1_hold_s"] + 30), ["--subscribe", "single", *S1_BY_URL])
        w = CpuWindow(self.pids(gen))
        reached = gen.wait_subscribed(n, ramp_s + 40)
        ramp_cpu = w.finish()
        time.sleep(self.cfg["s1_hold_s"])
        after = memory_snapshot(self.server.pid, self.ops_port)
        m = scrape(self.ops_port)
        rep = gen.finish()
        held = int(after["connections_active"] or 0)
        per = {}
        for k in ("rss_bytes", "heap_used_after_gc_bytes", "nmt_committed_bytes", "nmt_other_bytes",
                  "direct_buffer_pool_bytes", "kernel_tcp_mem_bytes"):
            if before.get(k) is not None and after.get(k) is not None and held > 0:
                per[k] = round((after[k] - before[k]) / held, 1)
        slabs = slab_object_sizes()
        if slabs and after.get("server_sockets"):
            # kernel memory of the server's end of one connection: one object of each socket slab + its buffers
            per["kernel_slab_objects_bytes"] = sum(slabs.values())
            per["kernel_socket_buffers_bytes"] = round(after["server_socket_buffers_bytes"] / after["server_sockets"], 1)
            per["kernel_server_end_bytes"] = round(per["kernel_slab_objects_bytes"] + per["kernel_socket_buffers_bytes"], 1)
        c = rep["connections"]
        res = {
            "connections_target": n, "subscribed_reached": reached, "held_at_measurement": held,
            "opened": c["opened"], "failed": c["failed"], "errors": rep["errors"]["total"],
            "errors_by_kind": rep["errors"]["by_kind"], "closes_by_code": rep["closes_by_code"],
            "ramp_s": rep["ramp_s"],
            "connect_rate_per_s": round(c["opened"] / rep["ramp_s"], 1) if rep["ramp_s"] else None,
            "cpu_during_ramp": ramp_cpu,
            "server_idle_cpu_s": round(idle_rate * ramp_cpu["wall_s"], 3),
            "server_cpu_s_per_1000_connects_raw": round(1000 * ramp_cpu["cpu_s"].get("server", 0) / max(1, c["opened"]), 3),
            "server_cpu_s_per_1000_connects": round(1000 * max(0.0, ramp_cpu["cpu_s"].get("server", 0) - idle_rate * ramp_cpu["wall_s"])
                                                    / max(1, c["opened"]), 3),
            "memory_before": before, "memory_after": after, "per_connection_bytes": per,
            "slab_object_sizes": slabs,
            "server_subscriptions": metric_sum(m, "ws_shard_subscriptions"),
            "notes": "kernel, server end: one object of each of the slabs a socket takes (TCP, sock_inode_cache, "
                     "filp, dentry, eventpoll_epi; sizes from /proc/slabinfo) plus the buffers `ss -tm` shows on "
                     "the server's sockets; the sockstat TCP memory is machine-wide (both ends of every loopback "
                     "connection and anything else running) and only informative",
        }
        res["limit"] = ("none: all connections opened at the requested ramp" if c["failed"] == 0 and reached >= n
                        else f"{c['failed']} failed, {reached} of {n} subscribed")
        res["warm"] = self.s1_warm()
        self.report["scenarios"]["S1"] = res
        self.stop_server()
        log(f"S1: {held} held, RSS/conn {per.get('rss_bytes')} B, heap/conn {per.get('heap_used_after_gc_bytes')} B")

    def s1_warm(self):
        """Issue 17's warm JVM: after S1's fresh ramp, rounds of connects at S1's ramp on the same server, each
        measured as S8 measures a round (net of the server's idle CPU), subscribing by the URL and by a subscribe
        message in turn. The JIT compiles the connect path over the first tens of thousands of connects on one core,
        and a single round's figure moves by tens of percent (the idle CPU subtracted, a collection landing in it), so
        each way's warm figure is the median of its rounds after the first two rounds."""
        k, rounds = self.cfg["s1_warm_connects"], []
        for i in range(self.cfg["s1_warm_rounds"]):
            if not self.has_time(k / self.cfg["ramp"] + 30):
                break
            by_url = i % 2 == 0
            r = self.s8_round(f"s1-warm-{i + 1}-{'url' if by_url else 'message'}", k, self.cfg["ramp"], S1_BY_URL if by_url else None)
            rounds.append({"subscribe": "url" if by_url else "message",
                           **{x: r.get(x) for x in ("connects", "subscribed", "window_s", "server_cpu_s",
                                                    "server_idle_cpu_s", "server_cpu_s_per_1000_connects")}})

        def median(way):
            v = [x["server_cpu_s_per_1000_connects"] for x in rounds[2:]
                 if x["subscribe"] == way and x["server_cpu_s_per_1000_connects"] is not None]
            return round(statistics.median(v), 4) if v else None
        if median("url") is None:
            return {"skipped": "time budget", "rounds": rounds}
        return {"rounds": rounds, "server_cpu_s_per_1000_connects": median("url"),
                "by_message_server_cpu_s_per_1000_connects": median("message"), "median_of_rounds": f"3-{len(rounds)}"}

    # ---------------------------------------------------------------------------------------------
    # one measured step: generator up, publisher at a rate, window, generator report
    # ---------------------------------------------------------------------------------------------
    def step(self, name, clients, gen_extra, rate, publish_s, pub_tokens=None, pub_topics=None, expected_fanout=None,
             rss_every_s=None, sources=SOURCE_ADDRESSES, before_publish=None, ramp=None, pub_extra=None,
             latency_from_s=None):
        """before_publish: called once the clients are subscribed, just before the publisher starts; returns
        {name: pid} of what it started, whose CPU the window then reports (S7's hostile sockets).
        latency_from_s: the step's latency percentiles count from this many seconds after the publisher's records
        arrive (S7: the steady state) and end with the step's window; None: every delivery."""
        ramp_s = clients / (ramp or self.cfg["ramp"])
        gen = self.generator(name, clients, int(ramp_s + publish_s + 120), gen_extra, sources, ramp,
                             control=latency_from_s is not None)
        try:
            return self._step(name, gen, clients, ramp_s, rate, publish_s, pub_tokens, pub_topics, expected_fanout,
                              rss_every_s, before_publish, pub_extra, latency_from_s)
        finally:
            if gen.alive():
                Procs.stop(gen.p, grace=30)

    def _step(self, name, gen, clients, ramp_s, rate, publish_s, pub_tokens, pub_topics, expected_fanout, rss_every_s,
              before_publish=None, pub_extra=None, latency_from_s=None):
        reached = gen.wait_subscribed(clients, ramp_s + 40)
        if reached < clients:
            log(f"{name}: only {reached} of {clients} subscribed; measuring anyway")
        time.sleep(1.0)
        m0 = scrape_sure(self.ops_port)
        extra_pids = before_publish() if before_publish else {}
        self._pub_started = time.monotonic()
        pub = self.start_publisher(name, rate, publish_s, pub_tokens, pub_topics, pub_extra)
        t_pub = self.wait_publishing(rate, gen)
        time.sleep(WINDOW_AFTER_S)  # warm-up inside the publishing period
        w0 = time.monotonic()
        ma = scrape_sure(self.ops_port)
        w = CpuWindow({**self.pids(gen, pub), **extra_pids})
        probes = {"public": ProbeTimer(self.server_port), "ops": ProbeTimer(self.ops_port)}
        rss = []
        end = t_pub + publish_s - 1.0
        measure_at = t_pub + latency_from_s if latency_from_s is not None else None
        # A measured step's latency percentiles end with its window, as its CPU figures do: the tool ends them at its
        # first second boundary after hold(), so by the window's end. What follows (the window's scrape, the
        # publisher's end, the drain) is the harness's, and only the whole-run figure has it.
        hold_at = end - 1.0 if measure_at is not None else None
        while time.monotonic() < end:
            if measure_at is not None and gen.measured_at is None and time.monotonic() >= measure_at:
                gen.measure()
            if hold_at is not None and gen.measured_at is not None and gen.held_at is None and time.monotonic() >= hold_at:
                gen.hold()
            # wake for the measure() and the hold() too
            due = min([t for t, done in ((measure_at, gen.measured_at), (hold_at, gen.held_at))
                       if t is not None and done is None] + [end])
            if rss_every_s:
                ms = scrape(self.ops_port, timeout=1.5)
                rss.append((round(time.monotonic() - t_pub, 1), rss_bytes(self.server.pid),
                            metric_sum(ms, "ws_slow_clients_disconnected_total") if ms else None))
                time.sleep(max(0.0, min(rss_every_s, end - time.monotonic(), due - time.monotonic())))
            else:
                time.sleep(max(0.0, min(0.5, end - time.monotonic(), due - time.monotonic())))
        cpu = w.finish()
        probes = {k: t.finish() for k, t in probes.items()}
        w1 = time.monotonic()
        mb = scrape_sure(self.ops_port)
        try:
            pub.wait(15)
        except subprocess.TimeoutExpired:
            Procs.stop(pub)
        time.sleep(2.0)  # drain what is queued
        m1 = scrape_sure(self.ops_port)
        rep = gen.finish()
        wall = w1 - w0
        gen_rate = gen.recv_rate(w0, w1)
        sent = delta(mb, ma, "ws_messages_sent_total")
        counter_note = None
        if sent is None or sent < 0:
            # /metrics not answered in time: fall back on the generator's count
            counter_note = "server /metrics not answered during the window: deliveries from the generator"
            sent = (gen_rate or 0) * wall
        sent_bytes = delta(mb, ma, "ws_bytes_sent_total") or 0
        records = delta(mb, ma, "ws_kafka_messages_received_total") or 0
        srv_cpu = cpu["cpu_s"].get("server", 0.0)
        lat = rep["latency_ms"]
        res = {
            "publish_rate": rate, "clients": clients, "subscribed": reached,
            "window_s": round(wall, 2),
            "records_per_s": round(records / wall, 1),
            "server_deliveries_per_s": round(sent / wall, 1),
            "generator_deliveries_per_s": gen_rate,
            "counter_note": counter_note,
            # offered load, where it is known: the publish rate times the subscribers of its one channel (S2)
            "expected_deliveries_per_s": round(expected_fanout * rate, 1) if expected_fanout else None,
            "hot_channel_subscribers": expected_fanout,
            "fanout_per_record": round(sent / records, 1) if records else None,
            "bytes_per_client_per_s": round(sent_bytes / wall / max(1, clients), 1),
            "server_cpu_us_per_delivery": round(1e6 * srv_cpu / sent, 3) if sent else None,
            "server_cores": cpu["cores_used"].get("server"),
            "generator_cores": cpu["cores_used"].get("generator"),
            "core0_busy_pct": cpu["core_busy_pct"].get("cpu0"),
            "core1_busy_pct": cpu["core_busy_pct"].get("cpu1"),
            "other_processes_cores": cpu["cores_used"].get("other_processes"),
            "broker_cores": cpu["cores_used"].get("broker"),
            "publisher_cores": cpu["cores_used"].get("publisher"),
            "latency_ms": lat,
            # with latency_from_s: the percentiles count from the tool's first second after measure(), this many
            # seconds after the publisher's records arrived; the deliveries before are left out
            "latency_from_s": round(gen.measured_at - t_pub, 1) if gen.measured_at else None,
            # ... and end by this many seconds after them (hold(); the window ends one second later)
            "latency_to_s": round(gen.held_at - t_pub, 1) if gen.held_at else None,
            "latency_left_out": rep["messages"].get("latency_left_out"),
            "messages": {**{k: rep["messages"].get(k) for k in ("received", "duplicates", "out_of_order", "replayed", "bytes", "wire_bytes")},
                         **{k: v for k, v in rep["messages"].items() if k.startswith("slow_")}},
            "connections": rep["connections"], "closes_by_code": rep["closes_by_code"],
            "errors": rep["errors"]["total"],
            "server_dropped_broadcasts": delta(m1, m0, "ws_dropped_broadcasts_total"),
            "server_slow_clients_disconnected": delta(m1, m0, "ws_slow_clients_disconnected_total"),
            "probe_latency": probes,
            "loss": rep.get("loss"),
            "auth": rep.get("auth"),
            "server_private_deliveries": delta(mb, ma, "ws_private_deliveries_total"),
            "errors_by_kind": rep["errors"]["by_kind"],
            "extra_cores": {k: cpu["cores_used"].get(k) for k in extra_pids},
            # the server's own time from the poll to the batch's last write, over the window (bucket bounds)
            "server_batch_latency_ms": histogram_window(mb, ma, "ws_delivery_latency_seconds"),
            "server_counter_deltas": counter_deltas(m1, m0, ("ws_capacity_rejections", "ws_connection_rate_limited",
                                                              "ws_connections_failed", "ws_connection_errors",
                                                              "ws_disconnects", "ws_rate_limited_messages")),
        }
        if rss:
            res["rss_series"] = [{"t_s": t, "rss_bytes": r, "slow_closed": s} for t, r, s in rss]
        res["limit"] = verdict(res)
        p99 = lat["producer_to_client"]["p99"]
        log(f"{name}: rate {rate}/s, server {res['server_deliveries_per_s']:.0f} deliveries/s, "
            f"gen {res['generator_deliveries_per_s']}, p99 {p99} ms, server {res['server_cores']} cores, "
            f"gen {res['generator_cores']} cores -> {res['limit']}")
        return res

    # ---------------------------------------------------------------------------------------------
    # S2 hot channel
    # ---------------------------------------------------------------------------------------------
    def s2(self):
        n = self.cfg["s2_subscribers"]
        log(f"S2 hot channel: {n} subscribers of {S2_CHANNEL}, rates {self.cfg['s2_rates']} msg/s")
        self.start_server("S2")
        per_step = n / self.cfg["ramp"] + self.cfg["s2_publish_s"] + 20
        s2_gen = ["--subscribe", "single", "--channels", S2_CHANNEL]
        s2_pub = {"pub_tokens": S2_TOKEN, "pub_topics": "odin.trades=trade", "expected_fanout": n}
        warmup = None
        if self.cfg["s2_warmup_s"]:
            # A fresh JVM compiles its hot paths during its first tens of seconds (in the first step that was a
            # quarter of the server's CPU); a server runs for days, so the steps measure it compiled. Reported.
            w = self.step("s2-warmup", n, s2_gen, self.cfg["s2_warmup_rate"], self.cfg["s2_warmup_s"], **s2_pub)
            warmup = {k: w.get(k) for k in ("publish_rate", "window_s", "server_deliveries_per_s",
                                            "server_cpu_us_per_delivery", "server_cores")}
        steps = []
        for rate in self.cfg["s2_rates"]:
            if not self.has_time(per_step + 300):
                steps.append({"publish_rate": rate, "skipped": "time budget"})
                break
            r = self.step(f"s2-{rate}", n, s2_gen, rate, self.cfg["s2_publish_s"], latency_from_s=WINDOW_AFTER_S, **s2_pub)
            steps.append(r)
            self.floor_next_to_s2(r)
            if stop_stepping(r, self.args.quick):
                break
        self.stop_server()
        self.report["scenarios"]["S2"] = {"subscribers": n, "channel": S2_CHANNEL, "warmup": warmup, "steps": steps,
                                          "summary": summarize_steps(steps)}

    # ---------------------------------------------------------------------------------------------
    # floor: the kernel's cost of S2's writes, without a server
    # ---------------------------------------------------------------------------------------------
    def floor_exe(self):
        """bench/floor/fanout.c built once in the work directory: (path, whether it has io_uring)."""
        if self.floor_built:
            return self.floor_built
        exe = os.path.join(self.work, "fanout")
        src = os.path.join(BENCH, "floor", "fanout.c")
        # with io_uring where liburing-dev is installed (make bench installs it), else without
        r = subprocess.run(["gcc", "-O2", "-DWITH_URING", "-o", exe, src, "-luring"], capture_output=True, text=True, timeout=120)
        uring = r.returncode == 0
        if not uring:
            r = subprocess.run(["gcc", "-O2", "-o", exe, src], capture_output=True, text=True, timeout=120)
        if r.returncode != 0:
            raise BenchError(f"gcc bench/floor/fanout.c failed: {r.stderr.strip()[:300]}")
        self.floor_built = (exe, uring)
        return self.floor_built

    def floor_run(self, rate, per_write, frame, syscall="send"):
        """One run of the floor: `per_write` frames of `frame` bytes to each of S2's connections per message."""
        exe, _ = self.floor_exe()
        n, seconds = self.cfg["s2_subscribers"], self.cfg["floor_s"]
        out = subprocess.run([exe, str(n), str(frame), str(rate), str(seconds), str(per_write), SERVER_CORE,
                              GENERATOR_CORE, syscall], capture_output=True, text=True, timeout=seconds + 120)
        if out.returncode != 0:
            raise BenchError(f"fanout failed: {out.stderr.strip()[:300]}")
        res = json.loads(out.stdout)
        log(f"floor: {rate} msg/s x {n} connections, {per_write} frame(s) of {frame} B per {res['syscall']}: "
            f"{res['cpu_us_per_write']} us per write, {res['cpu_us_per_frame']} us per frame, "
            f"writer {res['writer_core_share'] * 100:.0f} % of its core, fan-out {res['fanout_ms_mean']} ms")
        return res

    @staticmethod
    def s2_frame_bytes(step):
        """S2's frame at one step: bytes per client per second over the publish rate (pings add under 0.1 %)."""
        b = step.get("bytes_per_client_per_s")
        return int(round(b / step["publish_rate"])) if b else None

    def floor_next_to_s2(self, step):
        """The floor at an S2 step's rate and frame, right after the step, with the S2 server stopped (SIGSTOP) so
        that it takes none of the writer's core: this machine's speed drifts by tens of percent within an hour, so
        the floor is measured next to the step it is compared with, not minutes later. The server runs between
        the floor's repeats, so that no stop outlasts one run."""
        frame = self.s2_frame_bytes(step)
        if not self.floor_after_s2 or frame is None or step.get("skipped") or floor_saturated(self.floor_s2_steps):
            return

        def stopped(run):
            self.server.send_signal(signal.SIGSTOP)
            try:
                return run()
            finally:
                self.server.send_signal(signal.SIGCONT)
        self.floor_s2_steps.append(self.floor_median(step["publish_rate"], frame, stopped))

    def floor_median(self, rate, frame, around=lambda run: run()):
        """The one-frame floor at `rate`, run floor_repeats times: the run with the median CPU per send, with every
        run's figures beside it. Back-to-back runs of the same binary differ by up to a fifth on this machine, now
        and then more, and the targets compare one S2 step with this one figure."""
        runs = [around(lambda: self.floor_run(rate, 1, frame)) for _ in range(self.cfg["floor_repeats"])]
        mid = sorted(runs, key=lambda r: r["cpu_us_per_write"])[len(runs) // 2]
        if len(runs) > 1:
            mid = {**mid, "runs": [{k: r[k] for k in ("cpu_us_per_write", "fanout_ms_mean", "fanout_ms_max")}
                                   for r in runs]}
        return mid

    def floor(self):
        """bench/floor/fanout.c at S2's connections, frame size and rates (one send per connection per message),
        then at one rate with 1..10 frames per write: what the kernel alone costs per delivery on this machine,
        under the same placement (writer on the server's core, reader on the generator's). The one-frame rates ran
        next to S2's steps when S2 ran (floor_next_to_s2); here otherwise."""
        _, uring = self.floor_exe()
        n = self.cfg["s2_subscribers"]
        s2_steps = measured_steps(self.report["scenarios"], "S2")
        sizes = [b for b in map(self.s2_frame_bytes, s2_steps) if b]
        frame = int(round(sum(sizes) / len(sizes))) if sizes else 300
        rates = [st["publish_rate"] for st in s2_steps] or self.cfg["s2_rates"][:4]
        steps = list(self.floor_s2_steps)
        next_to_s2 = bool(steps)
        if not steps:
            log(f"floor: C writer, {n} loopback connections, {frame} B frames, rates {rates} msg/s")
            for rate in rates:
                if floor_saturated(steps):
                    break
                steps.append(self.floor_median(rate, frame))
        batching_rate = self.cfg["floor_batching_rate"]
        batching = [self.floor_run(batching_rate, k, frame) for k in (1, 2, 5, 10)]
        # the same one-frame sends submitted through io_uring: what is left without a syscall per send
        io_uring = self.floor_run(batching_rate, 1, frame, "uring") if uring else {"skipped": "built without io_uring (no liburing-dev)"}
        self.report["scenarios"]["floor"] = {"connections": n, "frame_bytes": frame, "seconds": self.cfg["floor_s"],
                                             "steps": steps, "next_to_s2": next_to_s2, "batching_rate": batching_rate,
                                             "batching": batching, "io_uring": io_uring}

    # ---------------------------------------------------------------------------------------------
    # S3 market shape
    # ---------------------------------------------------------------------------------------------
    def s3_args(self, slow=0.0):
        a = ["--subscribe", "zipf:5"]  # channels: the 20 tokens x the 8 categories (the defaults)
        if slow:
            a += ["--slow-fraction", str(slow)]
        return a

    def s3(self):
        n = self.cfg["s3_clients"]
        log(f"S3 market: {n} clients, zipf:5 over 20 tokens x 8 categories, rates {self.cfg['s3_rates']} events/s")
        self.start_server("S3")
        steps = []
        per_step = n / self.cfg["ramp"] + self.cfg["s3_publish_s"] + 20
        for rate in self.cfg["s3_rates"]:
            if not self.has_time(per_step + 200):
                steps.append({"publish_rate": rate, "skipped": "time budget"})
                break
            r = self.step(f"s3-{rate}", n, self.s3_args(), rate, self.cfg["s3_publish_s"])
            steps.append(r)
            if stop_stepping(r, self.args.quick):
                break
        self.stop_server()
        self.report["scenarios"]["S3"] = {"clients": n, "subscribe": "zipf:5", "channels": 160, "steps": steps,
                                          "summary": summarize_steps(steps)}

    # ---------------------------------------------------------------------------------------------
    # S3z: S3's mix with and without permessage-deflate (issue 18 point 3)
    # ---------------------------------------------------------------------------------------------
    def s3_deflate(self):
        """S3's clients and mix at one rate, the clients offering permessage-deflate (--deflate: they inflate what comes
        compressed) or not, interleaved plain, deflate, plain, deflate... on one server (ws.compression on, the default:
        it compresses only while a client negotiated). Per delivery: the bytes the clients read from their sockets
        (wire) and the server's CPU, which includes the ingest's compression (once per message)."""
        n, rate, publish_s = self.cfg["s3z_clients"], self.cfg["s3z_rate"], self.cfg["s3z_publish_s"]
        log(f"S3z deflate: {n} clients, zipf:5, S3's mix at {rate} events/s, {self.cfg['s3z_rounds']} round(s) of plain then deflate")
        self.start_server("S3z")
        runs = []
        for i in range(self.cfg["s3z_rounds"]):
            for mode in ("plain", "deflate"):
                if not self.has_time(n / self.cfg["ramp"] + publish_s + 120):
                    runs.append({"mode": mode, "skipped": "time budget"})
                    continue
                m0 = scrape_sure(self.ops_port)
                extra = self.s3_args() + (["--deflate"] if mode == "deflate" else [])
                r = self.step(f"s3z-{mode}-{i + 1}", n, extra, rate, publish_s)
                m1 = scrape_sure(self.ops_port)
                msgs = r.get("messages", {})
                received = msgs.get("received") or 0
                r["mode"] = mode
                r["wire_bytes_per_delivery"] = round(msgs["wire_bytes"] / received, 1) if received and msgs.get("wire_bytes") is not None else None
                r["plain_bytes_per_delivery"] = round(msgs["bytes"] / received, 1) if received and msgs.get("bytes") is not None else None
                r["messages_compressed"] = delta(m1, m0, "ws_kafka_messages_compressed_total")
                r["records"] = delta(m1, m0, "ws_kafka_messages_received_total")
                runs.append(r)
        self.stop_server()

        def med(mode, key):
            v = sorted(x[key] for x in runs if x.get("mode") == mode and x.get(key) is not None)
            return {"median": v[len(v) // 2], "min": v[0], "max": v[-1], "n": len(v)} if v else None

        for x in runs:
            lat = x.get("latency_ms")
            if lat:
                x["p99_ms"] = lat["producer_to_client"]["p99"]
        summary = {m: {"wire_bytes_per_delivery": med(m, "wire_bytes_per_delivery"),
                       "server_cpu_us_per_delivery": med(m, "server_cpu_us_per_delivery"),
                       "p99_ms": med(m, "p99_ms")} for m in ("plain", "deflate")}
        p, d = summary["plain"], summary["deflate"]
        if p["wire_bytes_per_delivery"] and d["wire_bytes_per_delivery"]:
            summary["wire_ratio"] = round(d["wire_bytes_per_delivery"]["median"] / p["wire_bytes_per_delivery"]["median"], 3)
        if p["server_cpu_us_per_delivery"] and d["server_cpu_us_per_delivery"]:
            summary["cpu_ratio"] = round(d["server_cpu_us_per_delivery"]["median"] / p["server_cpu_us_per_delivery"]["median"], 3)
        self.report["scenarios"]["S3z"] = {"clients": n, "publish_rate": rate, "publish_s": publish_s, "runs": runs, "summary": summary}

    # ---------------------------------------------------------------------------------------------
    # S4 slow consumers
    # ---------------------------------------------------------------------------------------------
    def s4(self):
        n = self.cfg["s4_clients"]
        s3 = self.report["scenarios"].get("S3", {})
        ok = [s for s in s3.get("steps", []) if "latency_ms" in s and (s["latency_ms"]["producer_to_client"]["p99"] or 1e9) <= P99_LIMIT_MS]
        ran = [s for s in s3.get("steps", []) if "latency_ms" in s]
        base = ok[-1] if ok else (ran[0] if ran else None)
        rate = base["publish_rate"] if base else self.cfg["s3_rates"][0]
        log(f"S4 slow consumers: {n} clients, 5 % not reading, {rate} events/s for {self.cfg['s4_publish_s']} s")
        self.start_server("S4")
        r = self.step("s4", n, self.s3_args(0.05), rate, self.cfg["s4_publish_s"], rss_every_s=2.0)
        self.stop_server()
        res = {"clients": n, "slow_fraction": 0.05, "publish_rate": rate, "step": r}
        if base:
            b99 = base["latency_ms"]["producer_to_client"]["p99"]
            s99 = r["latency_ms"]["producer_to_client"]["p99"]
            res["s3_p99_ms"] = b99
            res["healthy_p99_ms"] = s99
            res["p99_ratio_vs_s3"] = round(s99 / b99, 2) if b99 and s99 is not None else None
        series = [x["rss_bytes"] for x in r.get("rss_series", []) if x["rss_bytes"]]
        if series:
            half = series[len(series) // 2:]
            res["rss_min_bytes"] = min(series)
            res["rss_max_bytes"] = max(series)
            res["rss_second_half_growth_bytes"] = half[-1] - half[0]
            res["rss_flat"] = abs(half[-1] - half[0]) < 0.05 * max(series)
        res["slow_clients"] = r["connections"].get("slow")
        res["slow_closed_by_server"] = r["server_slow_clients_disconnected"]
        # what one client was sent over the whole publishing period (the slow ones alike): the kernel's socket
        # buffers on both ends of a loopback connection absorb megabytes before the server queues anything
        res["bytes_per_client_sent"] = round(r["bytes_per_client_per_s"] * self.cfg["s4_publish_s"])
        res["closes_by_code"] = r["closes_by_code"]
        self.report["scenarios"]["S4"] = res

    # ---------------------------------------------------------------------------------------------
    # S4C slow consumers on a conflated channel (issue 18)
    # ---------------------------------------------------------------------------------------------
    # Every client subscribes one hot channel; 5 % read at a tenth of what they are sent. The per-client rate must
    # outgrow the kernel's socket buffers (megabytes on loopback) within the run for the server to see them slow at
    # all, hence few clients and a high rate. Run twice: on BTC.trade (delivered `all`: queued, then closed with 1008)
    # and on BTC.analytics (`latest` by default: conflated, kept connected).
    # the publisher's mean frame size per channel (measured: bytes sent per client / events), for "a tenth of the rate"
    S4C_FRAME_BYTES = {"all": 390, "latest": 250}

    def s4c(self):
        n = self.cfg["s4c_clients"]
        rate = self.cfg["s4c_rate"]
        publish_s = self.cfg["s4c_publish_s"]
        log(f"S4C conflation: {n} clients on one channel, 5 % reading a tenth, {rate} events/s for {publish_s} s")
        res = {"clients": n, "slow_fraction": 0.05, "publish_rate": rate}
        for mode, channel, topic in (("all", "BTC.trade", "odin.trades=trade"), ("latest", "BTC.analytics", "odin.analytics=analytics")):
            read_bps = max(1, int(rate * self.S4C_FRAME_BYTES[mode] / 10))
            if not self.has_time(n / self.cfg["ramp"] + publish_s + 200):
                res[mode] = {"skipped": "time budget"}
                continue
            self.start_server("S4C")
            m0 = scrape_sure(self.ops_port)
            gen = ["--subscribe", "single", "--channels", channel, "--slow-fraction", "0.05", "--slow-read-rate", str(read_bps)]
            r = self.step(f"s4c-{mode}", n, gen, rate, publish_s, pub_tokens="BTC", pub_topics=topic, expected_fanout=n,
                          rss_every_s=2.0)
            m1 = scrape_sure(self.ops_port)
            self.stop_server()
            msgs = r.get("messages", {})
            slow = r["connections"].get("slow") or 0
            out = {"channel": channel, "step": r, "slow_clients": slow, "slow_read_bytes_per_s": read_bps,
                   "slow_closed_by_server": r["server_slow_clients_disconnected"],
                   "closes_by_code": r["closes_by_code"],
                   "conflated_messages": delta(m1, m0, "ws_conflated_messages_total"),
                   "slow_received": msgs.get("slow_received"), "slow_skipped": msgs.get("slow_skipped")}
            hw = jar_defaults(self.server_jar).get("limits", {}).get("outboundHighWaterBytes")
            if hw:
                # "one drain" (docs/protocol.md section 9) at this read rate: the server's queue up to its high water
                # mark, the kernel's send buffer (128 KiB once fixed for `latest`) and the client's (32 KiB)
                out["one_drain_s"] = round((hw + 128 * 1024 + 32 * 1024) / read_bps, 1)
            if msgs.get("slow_received"):
                # client clock minus the server's ts of each value a slow client read: how far behind its values are
                out["slow_behind_ms_mean"] = round(msgs["slow_behind_ms_sum"] / msgs["slow_received"], 1)
            if slow and r.get("bytes_per_client_per_s"):
                # what a slow client read against what a healthy one was sent: the "tenth" actually achieved
                out["slow_read_fraction"] = round(msgs.get("slow_bytes", 0) / slow / (r["window_s"] + 3.0) / r["bytes_per_client_per_s"], 3)
            series = [x["rss_bytes"] for x in r.get("rss_series", []) if x["rss_bytes"]]
            if series:
                half = series[len(series) // 2:]
                out["rss_min_bytes"] = min(series)
                out["rss_max_bytes"] = max(series)
                out["rss_second_half_growth_bytes"] = half[-1] - half[0]
            out["healthy_p50_ms"] = r["latency_ms"]["producer_to_client"]["p50"]
            out["healthy_p99_ms"] = r["latency_ms"]["producer_to_client"]["p99"]
            res[mode] = out
        self.report["scenarios"]["S4C"] = res

    # ---------------------------------------------------------------------------------------------
    # S5 reconnect storm
    # ---------------------------------------------------------------------------------------------
    def s5(self):
        n = self.cfg["s5_clients"]
        rate = self.cfg["s5_rate"]
        ramp_s = n / self.cfg["ramp"]
        # The generator drops half of its clients at the first progress tick at or after this many seconds
        # from its start: after the ramp and a steady phase, so that every client holds positions.
        drop_after = math.ceil(ramp_s + self.cfg["s5_steady_s"])
        total = drop_after + self.cfg["s5_after_s"]
        log(f"S5 reconnect storm: {n} clients with --recover, half of them dropped at once after {drop_after} s, "
            f"{rate} events/s")
        self.start_server("S5", free_port())
        # Trade events only (20 channels, rate/20 per channel), clients on 3 of those 20 by Zipf, positions
        # seeded from the subscription_ack: every client can name a position for each of its channels.
        pub = self.start_publisher("s5", rate, total + 30, topics="odin.trades=trade")
        gen = self.generator("s5", n, total, ["--subscribe", "zipf:3", "--categories", "trade", "--recover",
                                              "--kafka", self.bootstrap, "--drop-fraction", "0.5",
                                              "--drop-after", str(drop_after)])
        reached = gen.wait_subscribed(n, ramp_s + 60)
        log(f"S5: {reached} subscribed; the generator drops half of them {drop_after} s after its start")
        end = time.monotonic() + total + 60
        while gen.alive() and time.monotonic() < end:  # the generator ends by itself after --duration
            time.sleep(0.5)
        m_after = scrape_sure(self.ops_port)
        rep = gen.finish()
        Procs.stop(pub)
        self.stop_server()
        msgs = rep["messages"]
        d = rep.get("drop") or {}

        def seconds(ms):
            return round(ms / 1000, 3) if ms is not None else None

        back_s, recovered_s = seconds(d.get("all_back_ms")), seconds(d.get("all_recovered_ms"))
        res = {
            "clients": n, "publish_rate": rate, "subscribed_before": reached,
            "what_is_dropped": "half of the clients (every other one by index), all at the same instant: the "
                               "generator resets their sockets (SO_LINGER 0: a RST, no close frame, as in a network "
                               "failure) while the server keeps running; each reconnects with jittered backoff "
                               "(50-100 ms at first) and sends reconnect with its last position per channel.",
            "drop_fraction": d.get("fraction"), "drop_after_s": drop_after, "dropped_at_s": d.get("dropped_at_s"),
            "dropped": d.get("dropped"), "back": d.get("back"), "recovered": d.get("recovered"),
            "not_recovered": d.get("not_recovered"),
            "drop_to_all_back_s": back_s, "drop_to_all_recovered_s": recovered_s,
            "p50_back_ms": d.get("p50_back_ms"), "p50_recovered_ms": d.get("p50_recovered_ms"),
            "target_s": S5_TARGET_S,
            "target_met": bool(d.get("dropped")) and back_s is not None and recovered_s is not None
                          and max(back_s, recovered_s) <= S5_TARGET_S,
            # a server of its own: its totals are this scenario's
            **reconnect_figures(rep, m_after),
        }
        self.report["scenarios"]["S5"] = res
        log(f"S5: {res['back']} of {res['dropped']} back after {back_s} s, {res['recovered']} recovered after "
            f"{recovered_s} s ({res['not_recovered']} not); replayed {msgs['replayed']}, duplicates "
            f"{msgs['duplicates']}, loss {rep.get('loss')}")

    # ---------------------------------------------------------------------------------------------
    # S6 server restart under clients
    # ---------------------------------------------------------------------------------------------
    def s6(self):
        n = self.cfg["s6_clients"]
        rate = self.cfg["s6_rate"]
        log(f"S6 server restart under clients: {n} clients with --recover, server restarted under them, {rate} events/s")
        port = free_port()
        # http.reusePort (when this jar has it) lets the hand-over below start a second process on the port
        handover = "reusePort" in jar_defaults(self.server_jar).get("http", {})
        saved_overrides = self.conf_overrides
        if handover:
            self.conf_overrides = {**(saved_overrides or {}), "http": {**(saved_overrides or {}).get("http", {}), "reusePort": True}}
        self.start_server("S6 first start", port)
        ramp_s = n / self.cfg["ramp"]
        total = int(ramp_s + self.cfg["s6_steady_s"] + 2 * self.cfg["s6_after_s"] + (150 if handover else 90))
        # Trade events only (20 channels, rate/20 per channel), clients on 3 of those 20 by Zipf: every client
        # then holds a position on each of its channels before the drop. A client that has received nothing on
        # a channel has no position to send, so what it misses there cannot be asked for (protocol), and the
        # Kafka ground truth would count it as loss.
        pub = self.start_publisher("s6", rate, total + 30, topics="odin.trades=trade")
        gen = self.generator("s6", n, total, ["--subscribe", "zipf:3", "--categories", "trade", "--recover",
                                              "--kafka", self.bootstrap])
        reached = gen.wait_subscribed(n, ramp_s + 60)
        time.sleep(self.cfg["s6_steady_s"])
        m_before = scrape(self.ops_port)
        log(f"S6: {reached} subscribed; SIGTERM to the server")
        t_kill = time.monotonic()
        drain_s = self.stop_server()
        t_down = time.monotonic()
        self.start_server("S6 restart under reconnecting clients", port, required=False, ready_timeout=60)
        ready_s = self.report["startups"][-1]["ready_s"]
        t_ready = t_down + ready_s if ready_s is not None else None
        t_poll = time.monotonic()
        back_at = None
        series = []
        end = t_poll + 60
        while time.monotonic() < end:
            m = scrape(self.ops_port, timeout=2)
            subs = metric_sum(m, "ws_connections_active") if m else None
            g = gen.last["open"] if gen.last else None
            series.append((round(time.monotonic() - t_kill, 2), subs, g))
            if ((subs is not None and subs >= n) or (g is not None and g >= n and gen.lines[-1][0] > t_down)) \
                    and back_at is None:
                back_at = time.monotonic()
                break
            time.sleep(0.2)
        time.sleep(self.cfg["s6_after_s"])
        m_after = scrape(self.ops_port)
        handed = self.s6_handover(n, port, gen) if handover else None
        self.conf_overrides = saved_overrides
        rep = gen.finish()
        Procs.stop(pub)
        self.stop_server()
        msgs = rep["messages"]
        res = {
            "clients": n, "publish_rate": rate, "subscribed_before": reached,
            "what_is_dropped": "all clients: the server is restarted (SIGTERM: drain, every socket gets 1001, "
                               "exit; then a new process on the same port); each client reconnects with "
                               "jittered backoff and sends reconnect with its last position per channel. The "
                               "new process has an empty history, so positions are served from Kafka reads.",
            "drain_and_exit_s": drain_s,
            "restart_ready_s": ready_s,
            "sigterm_to_ready_s": round(t_ready - t_kill, 3) if t_ready else None,
            "sigterm_to_all_back_s": round(back_at - t_kill, 3) if back_at else None,
            "ready_to_all_back_s": round(back_at - t_ready, 3) if back_at and t_ready else None,
            "connections_series": series,
            **reconnect_figures(rep, m_after),
            "server_messages_sent_before_restart": metric_sum(m_before, "ws_messages_sent_total"),
            "handover": handed or "not run: this server jar has no http.reusePort",
        }
        self.report["scenarios"]["S6"] = res
        log(f"S6: all back {res['sigterm_to_all_back_s']} s after SIGTERM; replayed {msgs['replayed']}, "
            f"duplicates {msgs['duplicates']}, loss {rep.get('loss')}")

    def s6_handover(self, n, port, gen):
        """The restart a production rollout makes: the new process starts beside the running one on the same port
        (http.reusePort; on Kubernetes a surge pod), and the old one gets SIGTERM once the new one is ready. Its
        clients get 1001 and reconnect to the new process, recovering from Kafka. From SIGTERM to every client back."""
        old, old_ops = self.server, self.ops_port
        log("S6 hand-over: a second process on the same port; SIGTERM to the first once it is ready")
        self.server = None
        self.start_server("S6 hand-over: new process beside the running one", port, required=False, log_name="server-handover")
        new_ready = self.report["startups"][-1]["ready_s"]
        t_kill = time.monotonic()
        old.send_signal(signal.SIGTERM)  # not Procs.stop: it would wait for the exit; the clock runs from the signal
        back_at = None
        series = []
        end = t_kill + 60
        while time.monotonic() < end:
            m = scrape(self.ops_port, timeout=2)
            subs = metric_sum(m, "ws_connections_active") if m else None
            series.append((round(time.monotonic() - t_kill, 2), subs))
            if subs is not None and subs >= n:
                back_at = time.monotonic()
                break
            time.sleep(0.1)
        try:
            old.wait(timeout=30)
        except subprocess.TimeoutExpired:
            Procs.stop(old, grace=1)
        old_exit_s = round(time.monotonic() - t_kill, 3)
        time.sleep(self.cfg["s6_after_s"])
        res = {"new_process_ready_s": new_ready, "old_process_exit_s": old_exit_s,
               "sigterm_to_all_back_s": round(back_at - t_kill, 3) if back_at else None, "connections_series": series}
        log(f"S6 hand-over: all back {res['sigterm_to_all_back_s']} s after SIGTERM to the old process "
            f"(it exited after {old_exit_s} s)")
        return res

    # ---------------------------------------------------------------------------------------------
    # S7 edge soak: healthy clients under hostile sockets
    # ---------------------------------------------------------------------------------------------
    def s7_conf(self):
        """The server configuration of S7: the production admission limits on (the other scenarios turn them off),
        loopback not exempt where the server has that setting, so the hostile sockets' 127.0.1.x addresses meet
        every per-address limit. The resource guard stays off as in the other scenarios (the server pinned to one
        core would refuse on its own fan-out work, baseline and attack alike). Returns (overrides, notes)."""
        known = jar_defaults(self.server_jar).get("admission", {})
        adm = {"enabled": True}
        notes = ["admission.enabled true: per-address and global connection rates at their defaults "
                 f"(ipBurst {known.get('ipBurst')}, ipPerSecond {known.get('ipPerSecond')}, globalBurst "
                 f"{known.get('globalBurst')}, globalPerSecond {known.get('globalPerSecond')})"]
        if "exemptLoopback" in known:
            adm["exemptLoopback"] = False
            notes.append("admission.exemptLoopback false (the server's default exempts loopback addresses)")
        else:
            notes.append("this server build has no admission.exemptLoopback: loopback is limited like any address")
        per_address = math.ceil(self.cfg["s7_clients"] / address_count(S7_HEALTHY_ADDRESSES))
        if "ipMaxConnections" in known:
            limit = known["ipMaxConnections"]
            if limit < 2 * per_address:
                limit = 2 * per_address
                adm["ipMaxConnections"] = limit
                notes.append(f"admission.ipMaxConnections raised to {limit} (its default "
                             f"{known['ipMaxConnections']} is below twice the healthy clients per address)")
            else:
                notes.append(f"admission.ipMaxConnections {limit} (default): about {per_address} healthy "
                             f"clients per address, {self.cfg['s7_hostile'] // 20} hostile sockets per address")
        else:
            notes.append("this server build has no admission.ipMaxConnections: no per-address socket limit")
        return {"admission": adm}, notes

    def s7(self):
        n = self.cfg["s7_clients"]
        rate = self.cfg["s7_rate"]
        publish_s = self.cfg["s7_publish_s"]
        per_kind = self.cfg["s7_hostile"] // len(S7_HOSTILE_KINDS)
        # a gentler ramp than the other scenarios': S7 measures the steady state, and on a busy machine 2,000
        # handshakes a second time out before the measurement starts
        ramp = self.cfg["s7_ramp"]
        overrides, notes = self.s7_conf()
        max_message = jar_defaults(self.server_jar).get("ws", {}).get("maxMessageBytes", 65536)
        # The hostile tool runs over the whole publishing period: started before the publisher, ended after it.
        hostile_s = publish_s + 6
        hostile_args = ["--url", f"ws://{LOOPBACK}:<port>/ws", "--source-addresses", S7_HOSTILE_ADDRESSES,
                        *[x for k in S7_HOSTILE_KINDS for x in (f"--{k.replace('_', '-')}", str(per_kind))],
                        "--ramp", "1000", "--pause-ms", "200", "--trickle-ms", "1000", "--flood-rate", "200",
                        "--oversize-bytes", str(2 * max_message)]
        log(f"S7 edge: {n} healthy clients (zipf:5, S3's mix at {rate} events/s, {publish_s} s), first alone, then "
            f"with {per_kind} x {len(S7_HOSTILE_KINDS)} hostile sockets from {S7_HOSTILE_ADDRESSES}")
        self.conf_overrides = overrides
        # One seed for both steps of a round, drawn per round: the publisher sends the same events in the same order
        # and the generator's clients take the same channels, so the two steps carry the same load second by second.
        # With a seed each, a step's p99 followed which seconds happened to draw bursts of high fan-out (deliveries
        # per second ranged over 7,000-40,000 within a step) rather than the attack. A seed per round: the baseline's
        # p99 follows its seed's bursts (110-220 ms across runs), and the attack adds tens of milliseconds to it, so a
        # ratio drawn on one seed says as much about that seed as about the attack.
        seeds = [random.getrandbits(62) for _ in range(self.cfg["s7_rounds"])]
        res = {"clients": n, "ramp": ramp, "publish_rate": rate, "publish_s": publish_s, "hostile_s": hostile_s,
               "seeds": seeds,
               "hostile_per_kind": per_kind, "hostile_kinds": list(S7_HOSTILE_KINDS),
               "healthy_addresses": S7_HEALTHY_ADDRESSES, "hostile_addresses": S7_HOSTILE_ADDRESSES,
               "server_conf_overrides": overrides, "conf_notes": notes,
               "hostile_command": None}
        hostile = {}

        def start_hostile(name="s7-hostile", duration_s=hostile_s):
            args = [a.replace("<port>", str(self.server_port)) for a in hostile_args]
            hostile["h"] = Hostile(self, name, args, duration_s)
            if name == "s7-hostile":
                res["hostile_command"] = " ".join(hostile["h"].cmd).replace(self.work + "/", "")
                res["hostile_autogroup_nice"] = hostile["h"].autogroup_nice
            time.sleep(2.5)  # the hostile slots open (1,000/s) before the publisher starts
            return {"hostile": hostile["h"].p.pid}

        try:
            self.start_server("S7")
            for rnd in range(1, self.cfg["s7_warmup_rounds"] + 1):
                # As S2's warm-up: neither step should pay for the JIT's first compilations. The attack runs in it too:
                # its paths (refusals, closes, the flood's frames) otherwise reach the JIT for the first time in the
                # attack step, whose hottest loop methods are then deoptimized and compiled again while it measures.
                # Two rounds: with one (15 s), the server still compiled and deoptimized through the baseline (about
                # 130 compiles and 100 deoptimizations per 5 s, a fifth of them during its ramp) and far less in the
                # attacked step after it, which then compared a settled JVM with a settling one.
                w = self.step(f"s7-warmup-{rnd}", n, self.s3_args(), rate, self.cfg["s7_warmup_s"],
                              sources=S7_HEALTHY_ADDRESSES, ramp=ramp,
                              before_publish=lambda: start_hostile(f"s7-warmup-{rnd}-hostile", self.cfg["s7_warmup_s"] + 6))
                res["warmup"] = {k: w.get(k) for k in ("publish_rate", "window_s", "server_cores")}
                res["warmup"]["rounds"] = rnd
                res["warmup"]["hostile"] = hostile.pop("h").finish().get("total", {}).get("fates")
                self.wait_connections_gone()
            # Alone, attacked, alone, attacked...: a step's p99 also moves with what else the machine does meanwhile
            # (single runs' baselines ranged over 106-284 ms at one load), so the ratio is taken over rounds, each
            # pair run back to back. The first round's steps are the ones the tables detail.
            res["rounds"] = []
            for rnd in range(1, self.cfg["s7_rounds"] + 1):
                suffix = "" if rnd == 1 else f"-{rnd}"
                seed = seeds[rnd - 1]
                gen_extra = [*self.s3_args(), "--kafka", self.bootstrap, "--seed", str(seed)]
                pub_extra = ["--seed", str(seed)]
                b = self.step(f"s7-baseline{suffix}", n, gen_extra, rate, publish_s, rss_every_s=2.0,
                              sources=S7_HEALTHY_ADDRESSES, ramp=ramp, pub_extra=pub_extra,
                              latency_from_s=S7_STEADY_AFTER_S)
                e = self.step(f"s7-edge{suffix}", n, gen_extra, rate, publish_s, rss_every_s=2.0,
                              sources=S7_HEALTHY_ADDRESSES,
                              before_publish=lambda: start_hostile("s7-hostile" if rnd == 1 else f"s7-hostile{suffix}"),
                              ramp=ramp, pub_extra=pub_extra, latency_from_s=S7_STEADY_AFTER_S)
                fates = hostile.pop("h").finish() if "h" in hostile else {}
                if rnd == 1:
                    res["baseline"], res["edge"], res["hostile"] = b, e, fates
                b99r = b["latency_ms"]["producer_to_client"]["p99"]
                e99r = e["latency_ms"]["producer_to_client"]["p99"]
                res["rounds"].append({
                    "seed": seed, "baseline_p99_ms": b99r, "edge_p99_ms": e99r,
                    "ratio": round(e99r / b99r, 2) if b99r and e99r is not None else None,
                    "baseline_subscribed": b["subscribed"], "edge_subscribed": e["subscribed"],
                    "edge_missing": (e.get("loss") or {}).get("missing"),
                    "server_cores": [b["server_cores"], e["server_cores"]],
                    "other_processes_cores": [b.get("other_processes_cores"), e.get("other_processes_cores")],
                    "hostile_fates": (fates.get("total") or {}).get("fates")})
                log(f"S7 round {rnd}: healthy p99 {e99r} ms under attack vs {b99r} ms alone")
            m_end = scrape_sure(self.ops_port)
            res["connections_active_after"] = metric_sum(m_end, "ws_connections_active") if m_end else None
        finally:
            if "h" in hostile and hostile["h"].p.poll() is None:
                Procs.stop(hostile["h"].p)
            self.conf_overrides = None
            self.stop_server()
        for key in ("baseline", "edge"):
            res[key]["per_second"] = per_second_p99(os.path.join(self.logs, f"s7-{key}.generator.log"), publish_s,
                                                    S7_STEADY_AFTER_S)
        rounds = res["rounds"]
        # the p99 of each condition as the mean of its rounds' p99s
        b99 = mean_of([r["baseline_p99_ms"] for r in rounds])
        e99 = mean_of([r["edge_p99_ms"] for r in rounds])
        res["baseline_p99_ms"], res["edge_p99_ms"] = b99, e99
        res["p99_ratio"] = round(e99 / b99, 2) if b99 and e99 is not None else None
        # the same load on both sides, or the ratio compares two different things
        res["comparable"] = all(r[k] >= 0.95 * n for r in rounds for k in ("baseline_subscribed", "edge_subscribed"))
        res["p99_goal_met"] = res["comparable"] and res["p99_ratio"] is not None and res["p99_ratio"] <= S7_P99_GOAL
        missing = [r["edge_missing"] for r in rounds]
        res["healthy_missing"] = None if None in missing else sum(missing)
        res["loss_goal_met"] = res["healthy_missing"] == 0
        for key in ("baseline", "edge"):
            series = [x["rss_bytes"] for x in res[key].get("rss_series", []) if x["rss_bytes"]]
            if series:
                half = series[len(series) // 2:]
                res[f"{key}_rss"] = {"min_bytes": min(series), "max_bytes": max(series),
                                     "second_half_growth_bytes": half[-1] - half[0],
                                     "flat": abs(half[-1] - half[0]) < 0.05 * max(series)}
        self.report["scenarios"]["S7"] = res
        log(f"S7: healthy p99 {e99} ms under attack vs {b99} ms alone, means of {len(rounds)} rounds "
            f"(x{res['p99_ratio']}; rounds {[r['ratio'] for r in rounds]}), missing "
            f"{res['healthy_missing']}, hostile fates {(res.get('hostile') or {}).get('total', {}).get('fates')}")

    # ---------------------------------------------------------------------------------------------
    # S8 / S9: identity (issue 15)
    # ---------------------------------------------------------------------------------------------
    def auth_keys(self):
        """Keys for S8 and S9, made once in the work directory: an HS256 secret (64 hex characters, no newline, so
        that a server reading the file raw or trimmed sees the same secret), RS256 and ES256 key pairs from openssl
        (PKCS#8 private key for the generator, PEM public key for the server). Returns {alg: {"conf": the auth.*
        keys of the server, "gen": the generator's arguments}} for the algorithms that could be made, and notes."""
        if getattr(self, "_auth_keys", None) is not None:
            return self._auth_keys
        d = os.path.join(self.work, "auth")
        os.makedirs(d, exist_ok=True)
        keys, notes = {}, []
        secret = os.path.join(d, "hs256.secret")
        with open(secret, "w") as f:
            f.write(os.urandom(32).hex())
        os.chmod(secret, 0o600)
        keys["HS256"] = {"conf": {"algorithm": "HS256", "hmacSecretFile": secret},
                         "gen": ["--auth-secret-file", secret]}
        openssl = shutil.which("openssl")
        for alg, gen_args in (("RS256", ["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"]),
                              ("ES256", ["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"])):
            if not openssl:
                notes.append(f"{alg} not measured: openssl not found")
                continue
            key, pub = os.path.join(d, f"{alg.lower()}.key.pem"), os.path.join(d, f"{alg.lower()}.pub.pem")
            r1 = subprocess.run([openssl, "genpkey", *gen_args, "-out", key], capture_output=True, text=True, timeout=60)
            r2 = subprocess.run([openssl, "pkey", "-in", key, "-pubout", "-out", pub], capture_output=True, text=True,
                                timeout=60) if r1.returncode == 0 else r1
            if r2.returncode != 0:
                notes.append(f"{alg} not measured: openssl failed ({(r2.stderr or '').strip()[:200]})")
                continue
            keys[alg] = {"conf": {"algorithm": alg, "publicKeyFile": pub},
                         "gen": ["--auth-private-key", key, "--auth-alg", alg]}
        self._auth_keys = (keys, notes)
        return self._auth_keys

    def auth_support(self):
        """None when the server build and the generator know auth (issue 15), else why not."""
        if "auth" not in jar_defaults(self.server_jar):
            return "this server build has no auth.* configuration"
        if "--auth-secret-file" not in self.generator_help:
            return "this load generator has no --auth-* options"
        return None

    def wait_connections_gone(self, timeout=20):
        """Until the server holds no client connection (the previous round's closes are not in the next window)."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            m = scrape(self.ops_port, timeout=1)
            if m and metric_sum(m, "ws_connections_active") == 0:
                return True
            time.sleep(0.25)
        return False

    def s8_round(self, name, k, ramp, more_args):
        """One batch of k connects at `ramp`/s, each client subscribed to one channel, no heartbeats: server CPU from
        /proc/<pid>/stat (utime + stime, sampled every 50 ms) from the generator's "connecting" line (its JVM started
        and its tokens minted) to its first progress line counting every subscription ack, less the server's idle CPU
        over as long (measured for 3 s just before: the broker's background events, timers)."""
        self.wait_connections_gone()
        m0 = scrape_sure(self.ops_port)
        idle_rate = idle_cpu_rate(self.server.pid)
        extra = ["--subscribe", "single", "--heartbeat", "0", *(more_args or [])]
        duration = int(k / ramp + 60)
        sampler = CpuSampler(self.server.pid)
        t_gen = time.monotonic()
        gen = self.generator(name, k, duration, extra, ramp=ramp)
        try:
            reached = gen.wait_subscribed(k, k / ramp + 50)
            done = next((t for t, d in list(gen.lines) if d["acks"] >= k), None) or time.monotonic()
            time.sleep(0.2)
        finally:
            sampler.stop()
            rep = gen.finish()
        m1 = scrape_sure(self.ops_port)
        t1 = gen.t_connecting or t_gen  # an older generator without the line: from its start
        t2 = done
        c1, c2 = sampler.at(t1), sampler.at(t2)
        window = t2 - t1
        raw = max(0.0, c2 - c1)
        net = max(0.0, raw - idle_rate * window)
        opened = rep["connections"]["opened"]
        auth = rep.get("auth") or {}
        res = {"connects": opened, "subscribed": reached, "window_s": round(window, 2),
               "server_cpu_s": round(raw, 3), "server_idle_cpu_s": round(idle_rate * window, 3),
               "server_cpu_s_per_1000_connects": round(1000 * net / opened, 4) if opened else None,
               "auth_acks": auth.get("acks"), "auth_failed": auth.get("failed"),
               "auth_failures_by_code": auth.get("failures_by_code"),
               # the server's own count of tokens it accepted (issue 15's metric), None when it has no such metric
               "server_auth_ok": labelled_sum(m1, "ws_auth_total", 'result="ok"') - labelled_sum(m0, "ws_auth_total", 'result="ok"')
               if m1 and m0 and "ws_auth_total" in m1 else None,
               "refusals_by_status": rep["refusals_by_status"], "errors_by_kind": rep["errors"]["by_kind"]}
        log(f"{name}: {opened} connects, {reached} subscribed, server {raw:.2f} s CPU ({net:.2f} s net of idle) = "
            f"{res['server_cpu_s_per_1000_connects']} s per 1,000; auth acks {auth.get('acks')}, failed {auth.get('failed')}")
        return res

    def s8(self):
        k, ramp = self.cfg["s8_connections"], self.cfg["s8_ramp"]
        why = self.auth_support()
        if why:
            self.report["scenarios"]["S8"] = {"skipped": why}
            log(f"S8 skipped: {why}")
            return
        keys, notes = self.auth_keys()
        log(f"S8 auth connect cost: {k} connects at {ramp}/s without a token and with {', '.join(a for a in S8_ALGORITHMS if a in keys)} "
            f"tokens ({' / '.join(S8_PRESENTS)}), one server per algorithm")
        res = {"connections": k, "ramp": ramp, "presents": list(S8_PRESENTS), "auth_mode": "optional", "notes": notes,
               "algorithms": {}}
        for alg in S8_ALGORITHMS:
            if alg not in keys:
                res["algorithms"][alg] = {"skipped": "no key (see the notes)"}
                continue
            if not self.has_time((3 + len(S8_PRESENTS)) * (k / ramp + 25) + 30):
                res["algorithms"][alg] = {"skipped": "time budget"}
                continue
            self.conf_overrides = {"auth": {"mode": "optional", **keys[alg]["conf"]}}
            try:
                self.start_server(f"S8 {alg}")
                # a fresh JVM compiles its connect path during the first thousands of connects: one round unmeasured
                self.s8_round(f"s8-{alg.lower()}-warmup", k, ramp, None)
                base = self.s8_round(f"s8-{alg.lower()}-none", k, ramp, None)
                out = {"no_token": base, "token": {}}
                for present in S8_PRESENTS:
                    tok = self.s8_round(f"s8-{alg.lower()}-{present}", k, ramp,
                                        [*keys[alg]["gen"], "--auth-present", present, "--auth-users", str(k),
                                         "--private-categories", "none"])
                    b, t = base["server_cpu_s_per_1000_connects"], tok["server_cpu_s_per_1000_connects"]
                    # accepted: the server's ws_auth_total{result="ok"} counted them (header: no reply to count),
                    # or with the message every client got its auth_ack
                    ok = tok.get("server_auth_ok")
                    verified = (ok is not None and ok >= 0.99 * k) if present == "header" else \
                        ((tok.get("auth_acks") or 0) >= 0.99 * k and not tok.get("auth_failed"))
                    tok.update({"ratio_to_no_token": round(t / b, 2) if b and t is not None else None,
                                "extra_cpu_ms_per_connect": round(t - b, 3) if b is not None and t is not None else None,
                                "tokens_verified": verified})
                    if not verified:
                        tok["note"] = ("the server did not count (ws_auth_total ok) or acknowledge (auth_ack) every token: "
                                       "this build may not verify tokens yet, so the figure is not a verification cost")
                    out["token"][present] = tok
                res["algorithms"][alg] = out
            except Exception as e:
                res["algorithms"][alg] = {"error": str(e)}
                log(f"S8 {alg} failed: {e}")
            finally:
                self.conf_overrides = None
                self.stop_server()
        self.report["scenarios"]["S8"] = res

    def s9(self):
        n, rate, publish_s = self.cfg["s9_clients"], self.cfg["s9_rate"], self.cfg["s9_publish_s"]
        why = self.auth_support()
        if why:
            self.report["scenarios"]["S9"] = {"skipped": why}
            log(f"S9 skipped: {why}")
            return
        keys, _ = self.auth_keys()
        public = ["--subscribe", "zipf:5", "--categories", S9_PUBLIC_CATEGORIES]
        truth = ["--kafka", self.bootstrap]  # the measured steps only: loss, and leaks of private records
        # the publisher's balance and transfer parties are the generator's users: user-0 .. user-(n-1)
        pub_extra = ["--wallets", str(n), "--wallet-prefix", "user-"]
        auth_gen = [*keys["HS256"]["gen"], "--auth-present", "message", "--auth-users", str(n)]
        log(f"S9 private mix: {n} clients, zipf:5 over 20 tokens x 7 public categories + {S9_PRIVATE}, S3's mix at "
            f"{rate} events/s for {publish_s} s: the public mix alone (auth off), then HS256 with each client's own balances added")
        res = {"clients": n, "publish_rate": rate, "publish_s": publish_s, "public_categories": S9_PUBLIC_CATEGORIES,
               "private_channel": S9_PRIVATE, "goal_ratio": S9_CPU_GOAL}
        # The public-only run is the issue's baseline: the same clients on S3's public mix, no balances; the private run
        # adds each client's own balance and transfer records (*.balances, authenticated), as the issue's scenario says.
        runs = (("public", None, public),
                ("private", {"auth": {"mode": "optional", **keys["HS256"]["conf"]}},
                 [*public, "--private-channels", S9_PRIVATE, *auth_gen]))
        for key, overrides, gen_args in runs:
            if not self.has_time(2 * (n / self.cfg["ramp"] + publish_s + 40)):
                res[key] = {"skipped": "time budget"}
                continue
            self.conf_overrides = overrides
            try:
                self.start_server(f"S9 {key}")
                if self.cfg["s9_warmup_s"]:
                    self.step(f"s9-{key}-warmup", n, gen_args, rate, self.cfg["s9_warmup_s"], pub_extra=pub_extra)
                res[key] = self.step(f"s9-{key}", n, [*gen_args, *truth], rate, publish_s, pub_extra=pub_extra)
            except Exception as e:
                res[key] = {"error": str(e)}
                log(f"S9 {key} failed: {e}")
            finally:
                self.conf_overrides = None
                self.stop_server()
        pub, priv = res.get("public") or {}, res.get("private") or {}
        a, b = pub.get("server_cpu_us_per_delivery"), priv.get("server_cpu_us_per_delivery")
        res["cpu_ratio_private_over_public"] = round(b / a, 3) if a and b else None
        loss = priv.get("loss") or {}
        auth = priv.get("auth") or {}
        res["private_leaked"] = loss.get("leaked")
        res["private_missing"] = loss.get("missing")
        res["authenticated"] = auth.get("acks")
        res["goal_met"] = (res["cpu_ratio_private_over_public"] is not None and res["cpu_ratio_private_over_public"] <= S9_CPU_GOAL
                           and loss.get("leaked") == 0 and (auth.get("acks") or 0) >= 0.99 * n)
        if (auth.get("acks") or 0) < 0.99 * n:
            res["note"] = ("the server did not acknowledge (auth_ack) the clients' tokens: this build may not authenticate "
                           "or deliver privately yet, so the private run measures something else")
        self.report["scenarios"]["S9"] = res
        log(f"S9: CPU/delivery public {a} µs, private {b} µs (x{res['cpu_ratio_private_over_public']}); private run: "
            f"{auth.get('acks')} authenticated, missing {loss.get('missing')}, leaked {loss.get('leaked')}")

    # ---------------------------------------------------------------------------------------------
    # peer (nchan)
    # ---------------------------------------------------------------------------------------------
    def peer_nchan(self):
        """S1 and S2 against nchan (bench/nchan, written separately): nginx + nchan with one worker, pinned to the
        server's core; the generator in --protocol nchan mode, which also publishes (--nchan-publish) from the
        generator's core. Memory: RSS of nginx's master + worker; CPU: their utime + stime."""
        start = os.path.join(NCHAN, "start.sh")
        stop = os.path.join(NCHAN, "stop.sh")
        setup = os.path.join(NCHAN, "setup.sh")
        if not os.path.exists(start) or not os.path.exists(stop):
            return {"run": False, "reason": "peer not run: bench/nchan/start.sh and stop.sh are not there yet"}
        if "--protocol" not in self.generator_help or "--nchan-publish" not in self.generator_help:
            return {"run": False, "reason": "peer not run: the load generator has no --protocol nchan / --nchan-publish yet"}
        if not os.path.exists(os.path.join(NCHAN, "root", "usr", "sbin", "nginx")) and os.path.exists(setup):
            log("peer: bench/nchan/setup.sh (extracts nginx + nchan from Debian's packages)")
            r = subprocess.run([setup], capture_output=True, text=True, timeout=600)
            if r.returncode != 0:
                return {"run": False, "reason": f"peer not run: bench/nchan/setup.sh failed: {r.stderr.strip()[-300:]}"}
        run_dir = os.path.join(self.work, "nchan-run")  # our own run directory: someone else's nchan may be running
        env = dict(os.environ, NCHAN_RUN_DIR=run_dir)
        port = free_port()
        ws_url, pub_url = f"ws://{LOOPBACK}:{port}", f"http://{LOOPBACK}:{port}"
        out = {"run": True, "port": port, "placement": f"nginx (master + 1 worker) taskset -c {SERVER_CORE}; the "
               f"generator, which also publishes to nchan over HTTP, taskset -c {GENERATOR_CORE}"}

        def up():
            r = subprocess.run(["taskset", "-c", SERVER_CORE, start, str(port)], capture_output=True, text=True,
                               timeout=60, env=env)
            if r.returncode != 0:
                raise BenchError(f"bench/nchan/start.sh failed ({r.returncode}): {r.stderr.strip()[-300:]}")
            with open(os.path.join(run_dir, "nginx.pid")) as f:
                return int(f.read().strip())

        def down():
            subprocess.run([stop], capture_output=True, timeout=60, env=env)

        def gen(name, n, duration, extra, control=False):
            args = ["--protocol", "nchan", "--url", ws_url, "--connections", str(n), "--ramp", str(self.cfg["ramp"]),
                    "--duration", str(duration), "--source-addresses", SOURCE_ADDRESSES, *extra]
            return Generator(self, name, args, os.path.join(self.logs, f"{name}.report.json"), control)

        try:
            log("peer: S1 against nchan")
            n = self.cfg["s1_connections"]
            pid = up()
            time.sleep(2)
            before = tree_rss_bytes(pid)
            g = gen("peer-s1", n, int(n / self.cfg["ramp"] + 60 + self.cfg["s1_hold_s"]), ["--subscribe", "single"])
            w = CpuWindow({"server": pid, "generator": g.p.pid})
            reached = g.wait_subscribed(n, n / self.cfg["ramp"] + 40)
            ramp_cpu = w.finish()
            time.sleep(self.cfg["s1_hold_s"])
            after = tree_rss_bytes(pid)
            rep = g.finish()
            down()
            out["S1"] = {"connections": n, "subscribed": reached, "failed": rep["connections"]["failed"],
                         "ramp_s": rep["ramp_s"], "rss_before_bytes": before, "rss_after_bytes": after,
                         "rss_per_connection_bytes": round((after - before) / max(1, reached), 1),
                         "cpu_s_per_1000_connects": round(1000 * ramp_cpu["cpu_s"].get("server", 0) / max(1, reached), 3)}
            n2 = self.cfg["s2_subscribers"]
            steps = []
            out["S2"] = {"subscribers": n2, "steps": steps}  # the steps measured stay in the report if a later one fails
            odin_rates = [st["publish_rate"] for st in measured_steps(self.report["scenarios"], "S2")] or self.cfg["s2_rates"]
            pid = up()
            for rate in odin_rates:
                if not self.has_time(n2 / self.cfg["ramp"] + self.cfg["s2_publish_s"] + 40):
                    break
                log(f"peer: S2 against nchan at {rate} msg/s")
                g = gen(f"peer-s2-{rate}", n2, int(n2 / self.cfg["ramp"] + self.cfg["s2_publish_s"] + 4),
                        ["--subscribe", "single", "--channels", S2_CHANNEL, "--nchan-publish", pub_url,
                         "--nchan-rate", str(rate)], control=True)
                g.wait_subscribed(n2, n2 / self.cfg["ramp"] + 40)
                end = time.monotonic() + 30
                while time.monotonic() < end and g.alive() and not (g.last and g.last["recv_per_s"] > 0):
                    time.sleep(0.1)
                time.sleep(WINDOW_AFTER_S)
                g.measure()  # latency over the CPU window, as odin-ws's S2 steps
                w = CpuWindow({"server": pid, "generator": g.p.pid})
                t0 = time.monotonic()
                time.sleep(max(2, self.cfg["s2_publish_s"] - 4))
                cpu = w.finish()
                t1 = time.monotonic()
                rep = g.finish()
                rate_d = g.recv_rate(t0, t1) or 0
                st = {"publish_rate": rate, "deliveries_per_s": rate_d,
                      "cpu_us_per_delivery": round(1e6 * cpu["cpu_s"]["server"] / (rate_d * (t1 - t0)), 3) if rate_d else None,
                      "nchan_cores": cpu["cores_used"].get("server"),
                      "generator_cores": cpu["cores_used"].get("generator"),
                      "core0_busy_pct": cpu["core_busy_pct"].get("cpu0"),
                      "core1_busy_pct": cpu["core_busy_pct"].get("cpu1"),
                      "other_processes_cores": cpu["cores_used"].get("other_processes"),
                      "received": rep["messages"]["received"], "latency_ms": rep["latency_ms"]}
                steps.append(st)
                log(f"peer S2 {rate}/s: {rate_d} deliveries/s, {st['cpu_us_per_delivery']} us/delivery, "
                    f"p99 {rep['latency_ms']['server_to_client']['p99']} ms")
        except Exception as e:  # the peer is a comparison: its failure must not fail the run
            out["error"] = str(e)
            log(f"peer failed: {e}")
        finally:
            try:
                down()
            except Exception:
                pass
        # ratios odin-ws / nchan
        ratios = {}
        s1 = self.report["scenarios"].get("S1", {}).get("per_connection_bytes", {}).get("rss_bytes")
        if s1 and out.get("S1", {}).get("rss_per_connection_bytes"):
            ratios["rss_per_connection"] = round(s1 / out["S1"]["rss_per_connection_bytes"], 2)
        odin_steps = {s["publish_rate"]: s for s in measured_steps(self.report["scenarios"], "S2")}
        r2 = {}
        for s in out.get("S2", {}).get("steps", []):
            o = odin_steps.get(s["publish_rate"])
            if o and o.get("server_cpu_us_per_delivery") and s.get("cpu_us_per_delivery"):
                r2[str(s["publish_rate"])] = round(o["server_cpu_us_per_delivery"] / s["cpu_us_per_delivery"], 2)
        ratios["cpu_per_delivery_by_rate"] = r2
        out["ratios_odin_over_nchan"] = ratios
        return out

    # ---------------------------------------------------------------------------------------------
    def run(self):
        scenarios = [("startup", self.startup), ("S1", self.s1), ("S2", self.s2), ("floor", self.floor), ("S3", self.s3), ("S3z", self.s3_deflate), ("S4", self.s4),
                     ("S4C", self.s4c), ("S5", self.s5), ("S6", self.s6), ("S7", self.s7), ("S8", self.s8), ("S9", self.s9)]
        only = set(self.args.only.split(",")) if self.args.only else None
        self.floor_after_s2 = only is None or "floor" in only
        try:
            self.loopback_receive = self.steer_loopback_receive()
            self.prepare()
            self.start_broker()
            for name, fn in scenarios:
                if only and name not in only:
                    continue
                if not self.has_time(60):
                    self.report["scenarios"][name] = {"skipped": "time budget"}
                    continue
                with open("/proc/loadavg") as f:
                    self.report.setdefault("loadavg_at_scenario_start", {})[name] = f.read().split()[:3]
                try:
                    fn()
                except Exception as e:
                    log(f"{name} failed: {e}")
                    self.report["errors"].append(f"{name}: {e}")
                    self.report["scenarios"].setdefault(name, {})["error"] = str(e)
                    if self.server is not None:
                        self.stop_server()
            if self.args.peer == "nchan":
                self.report["peer"] = self.peer_nchan()
        finally:
            for p in self.publishers:
                if p.poll() is None:
                    Procs.stop(p)
            PROCS.stop_all()
        self.report["targets"] = targets(self.report)
        self.report["finished_at"] = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
        self.report["elapsed_s"] = round(time.monotonic() - self.t0, 1)
        self.report["charts"] = draw_charts(self.report, self.out)
        write_reports(self.report, self.out)
        if not self.args.keep_work:
            shutil.rmtree(self.work, ignore_errors=True)
        return 0 if not self.report["errors"] else 1


# ------------------------------------------------------------------------------------------------
# helpers
# ------------------------------------------------------------------------------------------------

PER_SECOND_LINE = re.compile(r"\[\s*(\d+)s\].*?recv/s (\d+) e2e p50/p99 ([\d.]+)/([\d.]+) ms")


def mean_of(values):
    """The mean of the values, rounded to 0.1; None when one of them is missing."""
    if not values or any(v is None for v in values):
        return None
    return round(sum(values) / len(values), 1)


def per_second_p99(log_path, publish_s, onset_s=5):
    """The generator's once-a-second lines of one step: the producer-to-client p99 of each second of the publishing
    (the {publish_s} seconds up to the last second that received a tenth of the busiest second: before publishing,
    the ramp's seconds can be as busy, the broker's own publisher feeding a hot channel); and a summary that sets the
    first {onset_s} seconds apart from the rest (S7: the attack starts with the publishing). None without a log."""
    try:
        with open(log_path, errors="replace") as f:
            rows = [(int(m[1]), int(m[2]), float(m[4])) for m in map(PER_SECOND_LINE.search, f) if m]
    except OSError:
        return None
    if not rows:
        return None
    busiest = max(r[1] for r in rows)
    end = max(i for i, r in enumerate(rows) if r[1] >= 0.1 * busiest)
    publishing = rows[max(0, end - publish_s + 1):end + 1]
    first, rest = publishing[:onset_s], publishing[onset_s:]
    return {"p99_by_second_ms": [r[2] for r in publishing], "onset_s": onset_s,
            "onset_max_p99_ms": max((r[2] for r in first), default=None),
            "rest_median_p99_ms": statistics.median([r[2] for r in rest]) if rest else None,
            "rest_max_p99_ms": max((r[2] for r in rest), default=None)}


def address_count(spec):
    """How many addresses a --source-addresses list (a.b.c.d-e.f.g.h ranges, commas) names."""
    def ip(x):
        return int.from_bytes(socket.inet_aton(x.strip()), "big")
    total = 0
    for part in spec.split(","):
        lo, _, hi = part.partition("-")
        total += (ip(hi) if hi else ip(lo)) - ip(lo) + 1
    return total


def free_port():
    with socket.socket() as s:
        s.bind((LOOPBACK, 0))
        return s.getsockname()[1]


def counter_deltas(m1, m0, prefixes):
    """Every labelled series of the counters named by prefixes: its increase between two scrapes (0s left out)."""
    if not m1 or not m0:
        return None
    out = {}
    for k, v in m1.items():
        if k.startswith("sum:") or not k.startswith(prefixes):
            continue
        d = v - m0.get(k, 0.0)
        if d:
            out[k] = round(d, 1)
    return out


def verdict(r):
    """What limited a step: the server core, the generator core, or nothing yet."""
    p99 = r["latency_ms"]["producer_to_client"]["p99"]
    srv = r.get("server_cores") or 0
    gen = r.get("generator_cores") or 0
    c0 = r.get("core0_busy_pct") or 0
    c1 = r.get("core1_busy_pct") or 0
    exp = r.get("expected_deliveries_per_s")
    behind = exp and r["server_deliveries_per_s"] < 0.95 * exp
    over = p99 is not None and p99 > P99_LIMIT_MS
    if not over and not behind:
        return f"none (p99 {p99} ms <= {P99_LIMIT_MS:.0f} ms)"
    parts = []
    other = (r.get("other_processes_cores") or 0) * 100
    if srv >= 0.85:
        parts.append(f"server saturated its core ({srv * 100:.0f} % of core 0)")
    elif c0 >= 95:
        parts.append(f"core 0 was {c0:.0f} % busy but the server got only {srv * 100:.0f} % of it: contention "
                     f"(other processes used {other:.0f} % of a core), not the server's own limit")
    if gen >= 0.85:
        parts.append(f"generator saturated its core ({gen * 100:.0f} % of core 1)")
    elif c1 >= 95:
        parts.append(f"core 1 was {c1:.0f} % busy, the generator got {gen * 100:.0f} % of it (contention)")
    if not parts:
        parts.append(f"no core at 100 % (server {srv * 100:.0f} %, generator {gen * 100:.0f} %, other processes "
                     f"{other:.0f} % of a core)")
        hot = r.get("hot_channel_subscribers")
        us = r.get("server_cpu_us_per_delivery")
        if hot and us:
            t = hot * us / 1000
            parts.append(f"fan-out bound: one shard writes each message to {hot:,} subscribers one after the other, "
                         f"about {hot:,} x {us:.1f} µs = {t:.0f} ms, so the last subscriber gets it about {t:.0f} ms "
                         "after the first")
    return ("p99 over the limit: " if over else "deliveries behind: ") + "; ".join(parts)


def stop_stepping(r, quick=False):
    """After a step: stop when the server (or the generator) has reached its limit. A p99 over the limit alone
    does not stop the stepping when the server still keeps up on a core it does not get (other processes on
    the machine): the next steps then show where the server itself saturates."""
    if quick:
        return False  # the smoke test runs every step
    p99 = r["latency_ms"]["producer_to_client"]["p99"]
    if (r.get("generator_cores") or 0) >= 0.95:
        return True
    if p99 is None or p99 <= P99_LIMIT_MS:
        return False
    exp = r.get("expected_deliveries_per_s")
    behind = exp and r["server_deliveries_per_s"] < 0.9 * exp
    return (r.get("server_cores") or 0) >= 0.85 or bool(behind) or p99 > 20 * P99_LIMIT_MS


def summarize_steps(steps):
    ran = [s for s in steps if "latency_ms" in s]
    ok = [s for s in ran if (s["latency_ms"]["producer_to_client"]["p99"] or 1e9) <= P99_LIMIT_MS]
    out = {"steps_run": len(ran)}
    if ok:
        best = max(ok, key=lambda s: s["server_deliveries_per_s"])
        out["max_deliveries_per_s_within_p99_limit"] = best["server_deliveries_per_s"]
        out["at_publish_rate"] = best["publish_rate"]
    if ran:
        out["max_deliveries_per_s_seen"] = max(s["server_deliveries_per_s"] for s in ran)
        out["last_step_limit"] = ran[-1]["limit"]
    return out


def read_first(path, pattern):
    try:
        with open(path) as f:
            for line in f:
                m = re.match(pattern, line)
                if m:
                    return m.group(1).strip()
    except OSError:
        pass
    return None


def machine_info():
    mem_kb = read_first("/proc/meminfo", r"MemTotal:\s+(\d+)")
    jdk = subprocess.run([SERVER_JAVA, "-version"], capture_output=True, text=True).stderr.strip().splitlines()
    try:
        commit = subprocess.run(["git", "-C", ROOT, "rev-parse", "HEAD"], capture_output=True, text=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", ROOT, "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True).stdout.strip() != ""
    except OSError:
        commit, dirty = None, None
    try:
        with open("/proc/loadavg") as f:
            loadavg = f.read().split()[:3]
    except OSError:
        loadavg = None
    return {
        "cpu_model": read_first("/proc/cpuinfo", r"model name\s*:\s*(.*)"),
        "cores": os.cpu_count(),
        "memory_gib": round(int(mem_kb) / 1024 / 1024, 1) if mem_kb else None,
        "kernel": read_first("/proc/version", r"(.*)"),
        "jdk": jdk,
        "python": platform.python_version(),
        "git_commit": commit,
        "git_worktree_modified": dirty,
        "open_files_limit": subprocess.run(["sh", "-c", "ulimit -n"], capture_output=True, text=True).stdout.strip(),
        "loadavg_at_start": loadavg,
    }


# ------------------------------------------------------------------------------------------------
# charts (matplotlib, optional)
# ------------------------------------------------------------------------------------------------

def rate_ticks(ax, rates):
    """Log-scaled rate axis labelled with the rates themselves."""
    from matplotlib.ticker import NullFormatter, NullLocator
    ax.set_xscale("log")
    ax.xaxis.set_minor_locator(NullLocator())
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set_xticks(rates)
    ax.set_xticklabels([f"{r:g}" for r in rates])
    if len(rates) == 1:
        ax.set_xlim(rates[0] / 2, rates[0] * 2)


def draw_charts(report, out):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except Exception as e:
        return {"skipped": f"matplotlib not available ({e.__class__.__name__}); `make bench` installs python3-matplotlib"}
    charts = {}
    sc = report["scenarios"]
    try:
        steps = measured_steps(sc, "S2")
        if steps:
            fig, ax = plt.subplots(figsize=(7, 4.2))
            x = [s["publish_rate"] for s in steps]
            ax.plot(x, [s["server_deliveries_per_s"] for s in steps], "o-", label="deliveries/s (server counter)")
            ax.plot(x, [s.get("generator_deliveries_per_s") or 0 for s in steps], "s--", label="deliveries/s (generator)")
            ax.plot(x, [s["expected_deliveries_per_s"] or 0 for s in steps], ":", color="grey", label="offered (rate x subscribers)")
            ax.set_xlabel(f"publish rate on {sc['S2'].get('channel', S2_CHANNEL)} (msg/s)")
            ax.set_ylabel("deliveries per second")
            ax.set_ylim(bottom=0)
            rate_ticks(ax, x)
            ax2 = ax.twinx()
            ax2.plot(x, [s["latency_ms"]["producer_to_client"]["p99"] for s in steps], "r^-", label="p99 producer->client (ms)")
            ax2.axhline(P99_LIMIT_MS, color="r", lw=0.6, ls=":")
            ax2.set_ylabel("p99 latency (ms)", color="r")
            ax2.set_yscale("log")
            h1, l1 = ax.get_legend_handles_labels()
            h2, l2 = ax2.get_legend_handles_labels()
            ax.legend(h1 + h2, l1 + l2, fontsize=8, loc="upper left")
            ax.set_title(f"S2 hot channel: {sc['S2']['subscribers']} subscribers")
            fig.tight_layout()
            fig.savefig(os.path.join(out, "s2_deliveries_p99.png"), dpi=110)
            plt.close(fig)
            charts["S2"] = "s2_deliveries_p99.png"
        steps = measured_steps(sc, "S3")
        if steps:
            fig, axes = plt.subplots(1, 2, figsize=(9, 4), sharey=True)
            x = [s["publish_rate"] for s in steps]
            for ax, key, title in ((axes[0], "producer_to_client", "producer -> client"),
                                   (axes[1], "server_to_client", "server -> client")):
                for pct, style in (("p50", "o-"), ("p90", "s-"), ("p99", "^-"), ("p99_9", "v-")):
                    ax.plot(x, [max(0.01, s["latency_ms"][key][pct] or 0.01) for s in steps], style, label=pct.replace("_", "."))
                rate_ticks(ax, x)
                ax.set_yscale("log")
                ax.set_xlabel("published events/s")
                ax.set_title(title)
                ax.axhline(P99_LIMIT_MS, color="r", lw=0.6, ls=":")
            axes[0].set_ylabel("latency (ms)")
            axes[0].legend(fontsize=8)
            fig.suptitle(f"S3 market shape: {sc['S3']['clients']} clients, zipf:5 over 160 channels")
            fig.tight_layout()
            fig.savefig(os.path.join(out, "s3_latency.png"), dpi=110)
            plt.close(fig)
            charts["S3"] = "s3_latency.png"
        per = sc.get("S1", {}).get("per_connection_bytes")
        if per:
            labels = [("rss_bytes", "process RSS"), ("heap_used_after_gc_bytes", "heap live\n(after full GC)"),
                      ("nmt_other_bytes", "direct / native\n(NMT Other)"), ("nmt_committed_bytes", "JVM committed\n(NMT total)"),
                      ("kernel_server_end_bytes", "kernel, server end\n(slabs + buffers)")]
            vals = [(lab, per.get(k)) for k, lab in labels if per.get(k) is not None]
            fig, ax = plt.subplots(figsize=(7.5, 4))
            bars = ax.bar([v[0] for v in vals], [v[1] for v in vals], color=["#4c72b0", "#55a868", "#c44e52", "#8172b2", "#937860"][:len(vals)])
            for b, (_, v) in zip(bars, vals):
                ax.text(b.get_x() + b.get_width() / 2, b.get_height(), f"{v:,.0f} B", ha="center", va="bottom", fontsize=8)
            ax.set_ylabel("bytes per connection")
            ax.set_title(f"S1 idle: memory per connection ({sc['S1'].get('held_at_measurement')} connections)")
            ax.tick_params(axis="x", labelsize=8)
            fig.tight_layout()
            fig.savefig(os.path.join(out, "s1_memory_per_connection.png"), dpi=110)
            plt.close(fig)
            charts["S1"] = "s1_memory_per_connection.png"
        series = sc.get("S4", {}).get("step", {}).get("rss_series")
        if series:
            fig, ax = plt.subplots(figsize=(7, 3.5))
            ax.plot([p["t_s"] for p in series], [p["rss_bytes"] / 2 ** 20 for p in series], "-", label="server RSS (MiB)")
            ax.set_xlabel("seconds since publishing started")
            ax.set_ylabel("RSS (MiB)")
            ax.set_ylim(bottom=0)
            ax2 = ax.twinx()
            ax2.plot([p["t_s"] for p in series], [float("nan") if p["slow_closed"] is None else p["slow_closed"] for p in series],
                     "r.--", label="slow clients closed")
            ax2.set_ylabel("slow clients closed", color="r")
            ax.set_title("S4 slow consumers: server RSS over time")
            fig.tight_layout()
            fig.savefig(os.path.join(out, "s4_rss.png"), dpi=110)
            plt.close(fig)
            charts["S4"] = "s4_rss.png"
        s7 = sc.get("S7", {})
        if s7.get("edge", {}).get("rss_series"):
            fig, ax = plt.subplots(figsize=(7, 3.5))
            top = 0
            for key, style in (("baseline", "b.-"), ("edge", "r.-")):
                ser = s7.get(key, {}).get("rss_series") or []
                ys = [(p["rss_bytes"] or 0) / 2 ** 20 for p in ser]
                top = max([top, *ys])
                ax.plot([p["t_s"] for p in ser], ys, style, label="healthy alone" if key == "baseline" else "under attack")
            ax.set_xlabel("seconds since publishing started")
            ax.set_ylabel("server RSS (MiB)")
            ax.set_ylim(0, top * 1.15 or 1)
            ax.legend(fontsize=8)
            ax.set_title("S7 edge soak: server RSS")
            fig.tight_layout()
            fig.savefig(os.path.join(out, "s7_rss.png"), dpi=110)
            plt.close(fig)
            charts["S7"] = "s7_rss.png"
    except Exception as e:
        charts["error"] = f"{e.__class__.__name__}: {e}"
    return charts


# ------------------------------------------------------------------------------------------------
# report.md
# ------------------------------------------------------------------------------------------------

def measured_steps(scenarios, name):
    """The steps of scenario `name` that ran to a measurement (not skipped, not failed)."""
    return [st for st in scenarios.get(name, {}).get("steps", []) if "latency_ms" in st]


def fmt(v, unit="", digits=1):
    if v is None:
        return "-"
    if isinstance(v, float):
        if abs(v) >= 1000:
            return f"{v:,.0f}{unit}"
        return f"{v:.{digits}f}{unit}"
    if isinstance(v, int):
        return f"{v:,}{unit}"
    return f"{v}{unit}"


def mib(v):
    return "-" if v is None else f"{v / 2 ** 20:,.1f} MiB"


def pct(v):
    return "-" if v is None else f"{v * 100:.0f} %"


def step_table(steps, rate_label):
    rows = [f"| {rate_label} | records/s | deliveries/s (server) | deliveries/s (generator) | server CPU µs/delivery | server core | generator core | core0 / core1 busy | other procs | p50 / p99 / p99.9 producer→client (ms) | p99 / p99.9 server→client (ms) | limit |",
            "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---|---|"]
    for s in steps:
        if "latency_ms" not in s:
            rows.append(f"| {s.get('publish_rate')} | | | | | | | | | | | not run: {s.get('skipped', s.get('error', '?'))} |")
            continue
        p, v = s["latency_ms"]["producer_to_client"], s["latency_ms"]["server_to_client"]
        rows.append(
            f"| {s['publish_rate']} | {fmt(s['records_per_s'])} | {fmt(s['server_deliveries_per_s'])} | "
            f"{fmt(s.get('generator_deliveries_per_s'))} | {fmt(s['server_cpu_us_per_delivery'], digits=2)} | "
            f"{pct(s['server_cores'])} | {pct(s['generator_cores'])} | {fmt(s['core0_busy_pct'], '%', 0)} / "
            f"{fmt(s['core1_busy_pct'], '%', 0)} | {pct(s.get('other_processes_cores'))} | "
            f"{fmt(p['p50'], digits=2)} / {fmt(p['p99'], digits=2)} / {fmt(p['p99_9'], digits=2)} | "
            f"{fmt(v['p99'], digits=2)} / {fmt(v['p99_9'], digits=2)} | {s['limit']} |")
    return "\n".join(rows)


def s2_latency_lines(steps):
    """Below S2's table: each step's server-to-client p99 over the whole step, next to the window's, and the
    server's own time from the poll to the batch's last write (its ws_delivery_latency_seconds histogram)."""
    rows = []
    for s in steps:
        lat = s.get("latency_ms") or {}
        whole = (lat.get("server_to_client_whole_run") or {}).get("p99")
        own = s.get("server_batch_latency_ms") or {}
        if whole is None and not own:
            continue
        rows.append(f"| {s['publish_rate']} | {fmt(lat.get('server_to_client', {}).get('p99'), digits=2)} | "
                    f"{fmt(whole, digits=2)} | {fmt(own.get('count'))} | ≤ {fmt(own.get('p99_le_ms'))} / "
                    f"≤ {fmt(own.get('max_le_ms'))} |")
    if not rows:
        return []
    return ["Server→client p99 over the window and over the whole step (from the first record: the generator's first "
            "second included), and the server's own time from the poll to the last write of each batch "
            "(`ws_delivery_latency_seconds` over the window, its histogram's bucket bounds).", "",
            "| msg/s | p99 window (ms) | p99 whole step (ms) | batches | server poll→written p99 / max (ms) |",
            "|---:|---:|---:|---:|---|", *rows, ""]


def probe_table(steps, rate_label):
    """How long GET /health/live took during each step, on the public port (a shard's loop answers it) and on
    the operations port (a thread of its own)."""
    steps = [st for st in steps if st.get("probe_latency")]
    if not steps:
        return []

    def cell(p):
        return f"{fmt(p.get('p50_ms'))} / {fmt(p.get('max_ms'))} ({p['failed']} of {p['probes']})"

    out = ["`GET /health/live` once a second during each window, as a Kubernetes probe would ask it: p50 / max "
           "in ms, and (failed or over 5 s, of probes). On the public port a shard's loop answers it after the "
           "fan-out in hand; on the operations port a thread of its own does.", "",
           f"| {rate_label} | public port | operations port |", "|---:|---|---|"]
    out += [f"| {st['publish_rate']} | {cell(st['probe_latency']['public'])} | {cell(st['probe_latency']['ops'])} |"
            for st in steps]
    return out + [""]


def reconnect_rows(x):
    """The rows S5 and S6 share: messages, the server's replay totals, duplicates and order, loss, latency."""
    loss = x.get("loss") or {}
    lat = (x.get("latency_ms") or {}).get("producer_to_client") or {}
    missed = (f"{fmt(loss.get('missing'))} of {fmt(loss.get('expected'))} ({fmt((loss.get('fraction') or 0) * 100, ' %', 4)})"
              f" in {fmt(loss.get('clients_with_loss'))} clients") if loss else "not measured"
    return [
        ("messages received / of which replayed", f"{fmt(x.get('messages_received'))} / {fmt(x.get('messages_replayed'))}"),
        ("server: replay requests / replayed messages / channels not recovered",
         f"{fmt(x.get('server_replay_requests'), digits=0)} / {fmt(x.get('server_replayed_messages'), digits=0)} / "
         f"{fmt(x.get('server_channels_not_recovered'), digits=0)}"),
        ("duplicates / out of order", f"{fmt(x.get('duplicates'))} / {fmt(x.get('out_of_order'))}"),
        ("missed (Kafka ground truth)", missed),
        ("p99 / p99.9 producer→client over the run", f"{fmt(lat.get('p99'), ' ms', 1)} / {fmt(lat.get('p99_9'), ' ms', 1)}"),
    ]


def saturation(st):
    """Why an S2 step's latency is not the server's below saturation: None when the server kept up (its core not
    saturated, every expected delivery made) and the generator could still measure it (its core not saturated: a
    generator behind on reading adds its own delay to every message)."""
    exp = st.get("expected_deliveries_per_s")
    if (st.get("server_cores") or 0) >= 0.85 or (exp and (st.get("server_deliveries_per_s") or 0) < 0.95 * exp):
        return "server saturated"
    # A core with no idle time is saturated whoever used the rest of it (the broker and the publisher run on either
    # core): the server's or the generator's share of it can stay under 85 % while its work queues all the same.
    if (st.get("core0_busy_pct") or 0) >= 95:
        return f"server's core saturated ({st['core0_busy_pct']:.0f} % busy, the server {100 * (st.get('server_cores') or 0):.0f} %)"
    if (st.get("generator_cores") or 0) >= 0.85:
        return "generator's core saturated"
    if (st.get("core1_busy_pct") or 0) >= 95:
        return f"generator's core saturated ({st['core1_busy_pct']:.0f} % busy, the generator {100 * (st.get('generator_cores') or 0):.0f} %)"
    return None


def targets(r):
    """Issue 17's targets from the scenarios that ran: {key: {"value", "goal", "met", "from"}}; a target whose scenario
    did not run has value None, met False and a "missing" note naming what it needs."""
    sc = r.get("scenarios", {})
    peer = r.get("peer", {}) if r.get("peer", {}).get("run") else {}
    s2 = {st["publish_rate"]: st for st in measured_steps(sc, "S2")}
    floor = {st["rate"]: st for st in sc.get("floor", {}).get("steps", []) if st.get("frames_per_write", 1) == 1}
    values, missing, how = {}, {}, {}

    o = sc.get("S1", {}).get("server_cpu_s_per_1000_connects")
    n = peer.get("S1", {}).get("cpu_s_per_1000_connects")
    if o is not None and n:
        values["cpu_per_connect_vs_nchan"] = round(o / n, 2)
        raw = sc.get("S1", {}).get("server_cpu_s_per_1000_connects_raw")
        how["cpu_per_connect_vs_nchan"] = (f"fresh JVM (S1): {o} / {n} CPU s per 1,000 connects, net of idle"
                                           + (f" ({raw} s with it, {round(raw / n, 2)}x)" if raw else ""))
        # warm (nginx has no JIT to warm): S1's warm rounds on the same server until the figure settles, net of the
        # server's idle CPU; else S8's round without a token, after one unmeasured round
        w1 = sc.get("S1", {}).get("warm") or {}
        if w1.get("server_cpu_s_per_1000_connects"):
            warm = w1["server_cpu_s_per_1000_connects"]
            how["cpu_per_connect_vs_nchan"] += (f"; warm JVM (S1's rounds of 5,000 more connects, the median of rounds "
                                                f"{w1.get('median_of_rounds')}, net of idle): {warm} s, {round(warm / n, 2)}x")
            bym = w1.get("by_message_server_cpu_s_per_1000_connects")
            if bym:
                how["cpu_per_connect_vs_nchan"] += f"; warm, subscribed by a message instead of the URL: {bym} s, {round(bym / n, 2)}x"
        else:
            warm = next((a["no_token"]["server_cpu_s_per_1000_connects"] for a in (sc.get("S8", {}).get("algorithms") or {}).values()
                         if isinstance(a, dict) and (a.get("no_token") or {}).get("server_cpu_s_per_1000_connects")), None)
            how["cpu_per_connect_vs_nchan"] += (f"; warm JVM (S8, no token, after a warm-up round): {warm} s, {round(warm / n, 2)}x"
                                                if warm else "; warm JVM: needs S1's warm rounds or S8")
    else:
        missing["cpu_per_connect_vs_nchan"] = "needs S1 and the peer (--peer nchan)"

    by_rate = peer.get("ratios_odin_over_nchan", {}).get("cpu_per_delivery_by_rate", {})
    light = {k: v for k, v in by_rate.items() if int(k) <= 20} or by_rate
    if light:
        worst = max(light, key=light.get)
        values["cpu_per_delivery_vs_nchan"] = light[worst]
        how["cpu_per_delivery_vs_nchan"] = f"at {worst} msg/s (rates {', '.join(sorted(light, key=int))})"
    else:
        missing["cpu_per_delivery_vs_nchan"] = "needs S2 and the peer (--peer nchan)"

    ratios = {rate: round(s2[rate]["server_cpu_us_per_delivery"] / floor[rate]["cpu_us_per_write"], 2)
              for rate in (2, 5) if rate in s2 and rate in floor and s2[rate].get("server_cpu_us_per_delivery")
              and floor[rate].get("cpu_us_per_write")}
    if ratios:
        worst = max(ratios, key=ratios.get)
        values["cpu_per_delivery_vs_floor_light"] = ratios[worst]
        how["cpu_per_delivery_vs_floor_light"] = f"at {worst} msg/s ({', '.join(f'{k}: {v}' for k, v in ratios.items())})"
    else:
        missing["cpu_per_delivery_vs_floor_light"] = "needs S2 and floor at 2 or 5 msg/s"

    ratios, whole, left_out = {}, {}, []
    for rate, st in s2.items():
        lat = st.get("latency_ms", {})
        p99 = lat.get("server_to_client", {}).get("p99")
        fan = floor.get(rate, {}).get("fanout_ms_max")
        if p99 is not None and fan:
            why = saturation(st)
            if why is None:
                ratios[rate] = round(p99 / fan, 2)
                if lat.get("server_to_client_whole_run", {}).get("p99") is not None:
                    whole[rate] = round(lat["server_to_client_whole_run"]["p99"] / fan, 2)
            else:
                left_out.append(f"{rate} msg/s {round(p99 / fan, 2)}, {why}")
    if ratios:
        worst = max(ratios, key=ratios.get)
        values["p99_vs_floor_fanout"] = ratios[worst]
        how["p99_vs_floor_fanout"] = (f"at {worst} msg/s ({', '.join(f'{k}: {v}' for k, v in sorted(ratios.items()))})"
                                      + (f"; over the whole step, the generator's first second included: "
                                         f"{', '.join(f'{k}: {v}' for k, v in sorted(whole.items()))}" if whole else "")
                                      + (f"; not counted: {'; '.join(left_out)}" if left_out else ""))
    else:
        missing["p99_vs_floor_fanout"] = "needs S2 (a step below saturation) and floor at the same rate"

    back = sc.get("S6", {}).get("sigterm_to_all_back_s")
    if back is not None:
        values["s6_all_back_s"] = back
        ho = sc["S6"].get("handover")
        how["s6_all_back_s"] = (f"{sc['S6'].get('clients')} clients, in place (stop, then start): restart ready after "
                                f"{sc['S6'].get('restart_ready_s')} s"
                                + (f"; hand-over (new process ready first, as a rolling update): all back "
                                   f"{ho.get('sigterm_to_all_back_s')} s after SIGTERM" if isinstance(ho, dict) else ""))
    else:
        missing["s6_all_back_s"] = "needs S6 (or not all clients came back within 60 s)"

    st = sc.get("startup", {})
    fresh = [s["ready_s"] for s in r.get("startups", []) if "restart under" not in s["label"]]
    if st.get("worst_ready_s") is not None:
        values["ready_s"] = st["worst_ready_s"]
        how["ready_s"] = f"worst of {st['runs']} fresh starts ({', '.join(str(x) for x in st['ready_s'])} s)"
    elif fresh and None not in fresh:
        values["ready_s"] = max(fresh)
        how["ready_s"] = f"worst of the {len(fresh)} scenario starts (the startup scenario did not run)"
    else:
        missing["ready_s"] = "needs the startup scenario (or a scenario's start that got ready)"

    per = sc.get("S1", {}).get("per_connection_bytes", {})
    if per.get("heap_used_after_gc_bytes") is not None and per.get("nmt_other_bytes") is not None:
        values["jvm_bytes_per_idle_conn"] = round(per["heap_used_after_gc_bytes"] + per["nmt_other_bytes"], 1)
        how["jvm_bytes_per_idle_conn"] = f"heap {per['heap_used_after_gc_bytes']} + direct {per['nmt_other_bytes']} B"
    else:
        missing["jvm_bytes_per_idle_conn"] = "needs S1"

    rss = peer.get("ratios_odin_over_nchan", {}).get("rss_per_connection")
    if rss is not None:
        values["rss_per_conn_vs_nchan"] = rss
        how["rss_per_conn_vs_nchan"] = f"{per.get('rss_bytes')} / {peer.get('S1', {}).get('rss_per_connection_bytes')} B"
    else:
        missing["rss_per_conn_vs_nchan"] = "needs S1 and the peer (--peer nchan)"

    out = {}
    for key, goal, _what in TARGETS:
        v = values.get(key)
        out[key] = {"value": v, "goal": goal, "met": v is not None and v <= goal}
        if v is None:
            out[key]["missing"] = missing[key]
        else:
            out[key]["from"] = how[key]
    return out


def targets_section(r):
    t = r.get("targets") or targets(r)
    L = ["## Issue 17 targets", "", "| target | value | goal | met | from |", "|---|---:|---:|---|---|"]
    for key, goal, what in TARGETS:
        e = t.get(key, {"value": None, "goal": goal, "met": False, "missing": "not computed"})
        met = "yes" if e["met"] else ("**no**" if e["value"] is not None else "not measured")
        L.append(f"| `{key}`: {what} | {fmt(e['value'], '', 2)} | {e['goal']} | {met} | {e.get('from') or e.get('missing')} |")
    L.append("")
    return L


def render_md(r, chart_prefix=""):
    m = r["machine"]
    sc = r["scenarios"]
    su = r["setup"]
    L = []
    L.append(f"# odin-ws benchmark, {r['started_at']} ({r['mode']})")
    L.append("")
    argv = list(r["argv"])
    if "--command" in argv:  # set by make bench: the command itself is shown already
        i = argv.index("--command")
        del argv[i:i + 2]
    L.append(f"- Command: `{r['command']}` (runs `{' '.join(['python3'] + argv)}` after `make jar` and `make build`); "
             f"took {r.get('elapsed_s')} s.")
    L.append(f"- Machine: {m['cpu_model']}, {m['cores']} cores, {m['memory_gib']} GiB, {m['kernel']}; "
             f"open files limit {m['open_files_limit']}; load average at start {' '.join(m['loadavg_at_start'] or [])}.")
    L.append(f"- JDK: {'; '.join(m['jdk'])}.")
    L.append(f"- Git commit: `{m['git_commit']}`{' (work tree had uncommitted changes)' if m.get('git_worktree_modified') else ''}.")
    L.append(f"- Placement: {su.get('pinning', '-')}. All traffic on loopback (server on 127.0.0.1, clients bound "
             f"to {su.get('source_addresses')}); loopback receive: {su.get('loopback_receive', 'processed in the sending process (default)')}.")
    L.append(f"- Server: `{su.get('server_command', '-')}`; mode {su.get('server_mode', '-')}; {su.get('gc_note', '')}.")
    L.append(f"- Server configuration: `{json.dumps(su.get('server_conf', {}), separators=(',', ':'))}`.")
    L.append(f"- Kafka: {su.get('kafka', '-')}.")
    la = m.get("loadavg_at_start") or []
    if la and float(la[0]) > 1.5:
        L.append(f"- **The machine was busy with other work** (load average {la[0]} on {m['cores']} cores at the start): "
                 "see 'other procs' in the tables; figures taken under contention understate the server.")
    L.append("- 'other procs' in the tables is the CPU used on the machine by processes that are not the server, "
             "the generator, the broker or the publisher (anything else running at the same time).")
    L.append("")
    L += targets_section(r)
    L.append("## Startup")
    L.append("")
    L.append("Time from `java` process start to `/health/ready` 200 on the operations port (Kafka reachable, every partition assigned); "
             "issue 7 target: 1.5 s.")
    L.append("")
    L.append("| start | /health/live 200 | /health/ready 200 |")
    L.append("|---|---:|---:|")
    for s in r["startups"]:
        L.append(f"| {s['label']} | {fmt(s['live_s'], ' s', 2)} | {fmt(s['ready_s'], ' s', 2)} |")
    L.append("")
    st = sc.get("startup", {})
    if "worst_ready_s" in st:
        L.append(f"Fresh starts alone (startup scenario, {st['runs']} runs): ready after {st['ready_s']} s, worst "
                 f"**{fmt(st['worst_ready_s'], ' s', 2)}**; the server's CPU until ready {st['cpu_s_at_ready']} s "
                 f"(median {st['median_cpu_s_at_ready']} s; less dependent on the machine's load than the wall time).")
        L.append("")

    s1 = sc.get("S1", {})
    L.append("## S1 idle connections")
    L.append("")
    if "per_connection_bytes" in s1:
        b, a, per = s1["memory_before"], s1["memory_after"], s1["per_connection_bytes"]
        L.append(f"{s1['connections_target']:,} connections at {r['mode'] == 'quick' and QUICK['ramp'] or FULL['ramp']}/s, "
                 f"each subscribed to one channel (round-robin over 160), no publishing except the broker's 1 event/s.")
        L.append("")
        L.append(f"- Opened {s1['opened']:,}, failed {s1['failed']}, errors {s1['errors']} {s1['errors_by_kind'] or ''}; "
                 f"held at measurement {s1['held_at_measurement']:,}; ramp {s1['ramp_s']} s = "
                 f"**{fmt(s1['connect_rate_per_s'])} connections/s**; server CPU during the ramp "
                 f"{pct(s1['cpu_during_ramp']['cores_used'].get('server'))} of its core "
                 f"({s1['server_cpu_s_per_1000_connects']} CPU s per 1,000 connects net of the server's idle CPU, "
                 f"{s1.get('server_cpu_s_per_1000_connects_raw', s1['server_cpu_s_per_1000_connects'])} s with it); other processes on the machine "
                 f"used {pct(s1['cpu_during_ramp']['cores_used'].get('other_processes'))} of a core meanwhile.")
        L.append(f"- Limit: {s1['limit']}.")
        w = s1.get("warm") or {}
        if w.get("rounds"):
            L.append(f"- Warm JVM: then, on the same server, {len(w['rounds'])} rounds of {w['rounds'][0]['connects']:,} "
                     "connects at the same ramp (each measured as S8 measures a round: from the generator's first connect "
                     "to its last ack, net of the server's idle CPU): "
                     + ", ".join(f"{x['server_cpu_s_per_1000_connects']} ({x.get('subscribe', 'message')})" for x in w["rounds"])
                     + f" CPU s per 1,000 connects; **{w.get('server_cpu_s_per_1000_connects')} s warm** subscribed by the URL"
                     + (f", {w['by_message_server_cpu_s_per_1000_connects']} s by a subscribe message"
                        if w.get("by_message_server_cpu_s_per_1000_connects") else "")
                     + f" (the medians of rounds {w.get('median_of_rounds')}: the first two still pay for the JIT).")
        L.append("")
        L.append("| memory | before (idle server) | after (connections held) | per connection |")
        L.append("|---|---:|---:|---:|")
        for k, lab in (("rss_bytes", "process RSS (VmRSS)"), ("heap_used_after_gc_bytes", "heap used after full GC"),
                       ("nmt_other_bytes", "direct/native memory (NMT Other: Netty, NIO)"),
                       ("direct_buffer_pool_bytes", "JVM direct buffer pool gauge"),
                       ("nmt_committed_bytes", "JVM committed (NMT total)"),
                       ("kernel_tcp_mem_bytes", "kernel TCP buffer memory (sockstat: machine-wide, both ends, other work too)")):
            L.append(f"| {lab} | {mib(b.get(k))} | {mib(a.get(k))} | {fmt(per.get(k), ' B', 0)} |")
        if per.get("kernel_server_end_bytes") is not None:
            L.append(f"| kernel, server end of a connection: slab objects ({', '.join(SOCKET_SLABS)}) + socket buffers "
                     f"(`ss -tm`) | | | {fmt(per['kernel_slab_objects_bytes'], ' B', 0)} + {fmt(per['kernel_socket_buffers_bytes'], ' B', 0)} "
                     f"= {fmt(per['kernel_server_end_bytes'], ' B', 0)} |")
        L.append("")
        L.append(f"Heap committed (NMT Java Heap) {mib(a.get('nmt_java_heap_committed_bytes'))}: RSS includes the heap "
                 "pages the allocator has touched, live or not, so the heap-after-GC row is the live cost.")
    else:
        L.append(f"Not measured: {s1.get('error') or s1.get('skipped') or 'not run'}")
    L.append("")

    s2 = sc.get("S2", {})
    L.append("## S2 hot channel")
    L.append("")
    if s2.get("steps"):
        L.append(f"{s2['subscribers']:,} subscribers of `{s2.get('channel', 'BTC.trade')}`; the publisher sends only "
                 f"{S2_TOKEN} trade events (`publish --tokens {S2_TOKEN} --topics odin.trades=trade`) at each rate, on a "
                 f"token the broker's demo publisher does not use; every record goes to every subscriber. Each step: fresh clients, then {FULL['s2_publish_s'] if r['mode'] == 'full' else QUICK['s2_publish_s']} s "
                 f"of publishing; rates, CPU, core load and latency over the window from {WINDOW_AFTER_S:.0f} s after "
                 "the first record to a second before the end of publishing (latency from the generator's next whole "
                 "second, as each step's generator is a fresh JVM and the seconds before are its own warm-up, to its "
                 "last whole second in the window, as what follows is the harness's: its scrape, the publisher's "
                 "end; the whole step's server→client p99 is below the table). Stepping stops after the first step "
                 f"whose p99 passes {P99_LIMIT_MS:.0f} ms with the server saturated (85 % of its core or more, or "
                 "delivering under 90 % of what is offered) or p99 over 2 s, or whose generator uses ~100 % of its core.")
        L.append("")
        wu = s2.get("warmup")
        if wu:
            L.append(f"Before the steps, a warm-up of {wu['window_s']:.0f} s at {wu['publish_rate']} msg/s (its own fresh "
                     "clients; not in the table): a fresh JVM compiles its hot paths in its first tens of seconds, a "
                     f"server runs for days. During it the server spent {fmt(wu.get('server_cpu_us_per_delivery'), ' µs', 2)} "
                     f"per delivery ({pct(wu.get('server_cores'))} of its core at {fmt(wu.get('server_deliveries_per_s'))} "
                     "deliveries/s), JIT compilation included.")
            L.append("")
        L.append(step_table(s2["steps"], "msg/s"))
        L.append("")
        L.extend(s2_latency_lines(s2["steps"]))
        L.append("'deliveries/s (server)' is `ws_messages_sent_total`: a message counts when the shard writes it "
                 "to the connection, so on an overloaded step it runs ahead of what the generator has read (the "
                 "rest is queued in the server and in the sockets): figures of such a step are approximate. The "
                 "counters are read on the operations port, which answers at once. CPU per delivery falls as the rate rises: "
                 "fixed costs (Kafka polling, timers, GC) are spread over more deliveries, and several messages "
                 "per connection share one flush.")
        L.append("")
        sm = s2.get("summary", {})
        L.append(f"Highest delivery rate within p99 ≤ {P99_LIMIT_MS:.0f} ms: "
                 f"**{fmt(sm.get('max_deliveries_per_s_within_p99_limit'))} deliveries/s** (at {sm.get('at_publish_rate', '-')} msg/s); "
                 f"highest seen {fmt(sm.get('max_deliveries_per_s_seen'))}/s. Last step: {sm.get('last_step_limit', '-')}.")
    else:
        L.append(f"Not measured: {s2.get('error') or s2.get('skipped') or 'not run'}")
    L.append("")

    fl = sc.get("floor", {})
    L.append("## Kernel floor for S2")
    L.append("")
    if fl.get("steps"):
        L.append(f"`bench/floor/fanout.c`: a C program, no server around it, writes one {fl['frame_bytes']} B frame "
                 f"(S2's size) to each of {fl['connections']:,} loopback TCP connections per message, one "
                 f"`{fl['steps'][0].get('syscall', 'write')}(2)` per connection, for {fl['seconds']} s per rate"
                 + (f", {floor_repeats(fl)} times, the run with the median CPU per send shown" if floor_repeats(fl) > 1 else "")
                 + "; the writer is pinned to the server's core, a child "
                 "reading everything through epoll to the generator's, as in S2. Its CPU time per write is the least "
                 "any server, in any language, spends per delivery on this machine when each message to a "
                 "connection goes out in its own syscall; the fan-out time is how long one message takes to reach "
                 "the last of the connections. 'Reader behind at the end' is how long the reader still read after "
                 "the last write: over a fraction of a second, the generator's core, not the writer, was the limit."
                 + (" Each rate ran right after S2's step at that rate, with S2's server stopped (SIGSTOP) meanwhile: "
                    "the machine's speed drifts within the hour, so the floor is measured next to what it is compared with."
                    if fl.get("next_to_s2") else ""))
        L.append("")
        odin = {st["publish_rate"]: st for st in measured_steps(sc, "S2")}
        peer = {st["publish_rate"]: st for st in r.get("peer", {}).get("S2", {}).get("steps", [])}
        L.append("| msg/s | writes/s | C writer CPU µs per write | C writer core | fan-out of one message, mean / max (ms) "
                 "| reader behind at the end | odin-ws CPU µs/delivery (S2) | nchan CPU µs/delivery (peer S2) |")
        L.append("|---:|---:|---:|---:|---|---:|---:|---:|")
        for st in fl["steps"]:
            rate = st["rate"]
            o, q = odin.get(rate, {}), peer.get(rate, {})
            L.append(f"| {rate:g} | {fmt(st['writes'] / st['seconds'])} | {st['cpu_us_per_write']:.2f} | "
                     f"{pct(st['writer_core_share'])} | {st['fanout_ms_mean']:.1f} / {st['fanout_ms_max']:.1f} | "
                     f"{fmt(st.get('reader_behind_s'), ' s', 1)} | "
                     f"{fmt(o.get('server_cpu_us_per_delivery'), '', 2)} | {fmt(q.get('cpu_us_per_delivery'), '', 2)} |")
        L.append("")
        L.append(f"Several frames per write (`writev`), at {fl['batching_rate']} msg/s: what coalescing messages that "
                 "queued up for a connection saves.")
        L.append("")
        L.append("| frames per write | CPU µs per write | CPU µs per frame (delivery) |")
        L.append("|---:|---:|---:|")
        for st in fl["batching"]:
            L.append(f"| {st['frames_per_write']} | {st['cpu_us_per_write']:.2f} | {st['cpu_us_per_frame']:.2f} |")
        L.append("")
        ur = fl.get("io_uring")
        if ur and "cpu_us_per_write" in ur:
            one = fl["batching"][0]["cpu_us_per_write"]
            L.append(f"The same one-frame sends submitted through io_uring (thousands per `io_uring_enter`, not one "
                     f"syscall each), at {fl['batching_rate']} msg/s: **{ur['cpu_us_per_write']:.2f} µs per send** "
                     f"against {one:.2f} µs with `{fl['batching'][0].get('syscall', 'write')}(2)` ({ur['cpu_us_per_write'] / one:.2f} ×). The rest is the "
                     "TCP send itself, which no transport avoids while each delivery is its own send.")
        elif ur:
            L.append(f"io_uring row: {ur.get('skipped') or ur.get('error')}.")
        L.append("")
        L.append("odin-ws can come below the one-write floor only where messages to a connection queue up and share a "
                 "flush (the higher S2 rates).")
    else:
        L.append(f"Not measured: {fl.get('error') or fl.get('skipped') or 'not run'}")
    L.append("")

    s3 = sc.get("S3", {})
    L.append("## S3 market shape")
    L.append("")
    if s3.get("steps"):
        L.append(f"{s3['clients']:,} clients, each on 5 distinct channels drawn by Zipf (s = 1.1) over 20 tokens × 8 "
                 "categories (BTC.trade most popular); the demo publisher's realistic mix (all tokens, all 8 topics) "
                 "at each rate. 'records/s' is what the server read; deliveries per record follow from the "
                 "subscriptions. Same windows and stop rule as S2.")
        L.append("")
        L.append(step_table(s3["steps"], "events/s"))
        L.append("")
        L.extend(probe_table(s3["steps"], "events/s"))
        sm = s3.get("summary", {})
        L.append(f"Highest delivery rate within p99 ≤ {P99_LIMIT_MS:.0f} ms: "
                 f"**{fmt(sm.get('max_deliveries_per_s_within_p99_limit'))} deliveries/s** (at {sm.get('at_publish_rate', '-')} events/s). "
                 f"Last step: {sm.get('last_step_limit', '-')}.")
    else:
        L.append(f"Not measured: {s3.get('error') or s3.get('skipped') or 'not run'}")
    L.append("")

    s3z = sc.get("S3z", {})
    L.append("## S3z permessage-deflate")
    L.append("")
    if s3z.get("summary"):
        sm = s3z["summary"]
        L.append(f"S3's mix at {s3z['publish_rate']} events/s to {s3z['clients']:,} clients (zipf:5), the clients offering "
                 "permessage-deflate (`loadtest --deflate`) or not, interleaved on one server. Wire bytes: what the clients "
                 "read from their sockets; server CPU includes the ingest's compression, once per message. Median (min-max) "
                 "over the rounds.")
        L.append("")
        L.append("| clients | wire bytes per delivery | server CPU us per delivery | p99 ms |")
        L.append("|---|---|---|---|")
        for mode in ("plain", "deflate"):
            row = sm.get(mode, {})
            cells = []
            for key in ("wire_bytes_per_delivery", "server_cpu_us_per_delivery", "p99_ms"):
                v = row.get(key)
                cells.append(f"{v['median']} ({v['min']}-{v['max']})" if v else "-")
            L.append(f"| {mode} | " + " | ".join(cells) + " |")
        L.append("")
        L.append(f"Deflate vs plain: wire {sm.get('wire_ratio', '-')}, server CPU per delivery {sm.get('cpu_ratio', '-')}.")
    else:
        L.append(f"Not measured: {s3z.get('error') or s3z.get('skipped') or 'not run'}")
    L.append("")

    s4 = sc.get("S4", {})
    L.append("## S4 slow consumers")
    L.append("")
    if "step" in s4:
        st = s4["step"]
        L.append(f"S3's load at {s4['publish_rate']} events/s (the highest S3 rate within the p99 limit) with "
                 f"`--slow-fraction 0.05`: {s4.get('slow_clients')} of {s4['clients']:,} clients stop reading after "
                 "their ack. Latency is measured on the healthy clients only (slow ones read nothing).")
        L.append("")
        L.append(step_table([st], "events/s"))
        L.append("")
        L.append(f"- Healthy clients' p99 {fmt(s4.get('healthy_p99_ms'), ' ms', 2)} vs S3 at the same rate "
                 f"{fmt(s4.get('s3_p99_ms'), ' ms', 2)}: **ratio {fmt(s4.get('p99_ratio_vs_s3'), digits=2)}**.")
        L.append(f"- Slow clients closed by the server (`ws_slow_clients_disconnected_total`): "
                 f"**{fmt(s4.get('slow_closed_by_server'), digits=0)}** of {s4.get('slow_clients')}; closes seen by "
                 f"clients: {s4.get('closes_by_code') or '{}'}. Over the {fmt(st.get('window_s'))} s window each client "
                 f"was sent on average {fmt(st.get('bytes_per_client_per_s'), ' B/s', 0)}, about "
                 f"{fmt(s4.get('bytes_per_client_sent'), ' B', 0)} over the whole run. A client that stops reading is "
                 "closed only after its socket's kernel buffers (receive and send, autotuned to megabytes on "
                 "loopback) are full and then 1 MiB more is queued in the server for 5 s "
                 "(`limits.outboundHighWaterBytes`, `limits.slowClientGraceMs`); a run that sends less than that "
                 "to each slow client closes none.")
        L.append(f"- Server RSS during the run: min {mib(s4.get('rss_min_bytes'))}, max {mib(s4.get('rss_max_bytes'))}, "
                 f"change over the second half {mib(s4.get('rss_second_half_growth_bytes'))} → "
                 f"{'flat' if s4.get('rss_flat') else 'not flat'}.")
    else:
        L.append(f"Not measured: {s4.get('error') or s4.get('skipped') or 'not run'}")
    L.append("")

    s4c = sc.get("S4C")
    if s4c:
        L.append("## S4C slow consumers on a conflated channel")
        L.append("")
        L.append(f"{s4c.get('clients')} clients on one channel at {s4c.get('publish_rate')} events/s; 5 % read about a "
                 "tenth of what they are sent (`--slow-read-rate`; the fraction achieved is in the table). `all`: "
                 "BTC.trade, every message queued; `latest`: BTC.analytics, conflated over the high water mark "
                 "(`delivery`, docs/protocol.md section 9).")
        L.append("")
        L.append("Conflated: `ws_conflated_messages_total` (the `skipped` counts the slow clients read in parentheses). Values "
                 "behind: the slow clients' clock minus the server's `ts` of each value they read. A slow client is a slow "
                 "link: a 16 KiB receive buffer read 4 KiB at a time. One drain: the time to read, at its rate, what can "
                 "stand before a kept value (the server's queue up to `limits.outboundHighWaterBytes`, then the kernel's "
                 "buffers); conflation keeps the values within it, the high water mark sets how long it is.")
        L.append("")
        L.append("| delivery | slow clients | closed by the server | conflated (skipped) | slow read fraction | slow clients' values behind, mean | one drain | healthy p50 / p99 | server RSS min / max / second-half change |")
        L.append("|---|---:|---:|---:|---:|---:|---:|---|---|")
        for mode in ("all", "latest"):
            o = s4c.get(mode) or {}
            if "step" not in o:
                L.append(f"| {mode} | not measured: {o.get('skipped') or o.get('error') or 'not run'} | | | | | | | |")
                continue
            L.append(f"| {mode} ({o.get('channel')}) | {fmt(o.get('slow_clients'))} | {fmt(o.get('slow_closed_by_server'), '', 0)} "
                     f"| {fmt(o.get('conflated_messages'), '', 0)} ({fmt(o.get('slow_skipped'))}) | {fmt(o.get('slow_read_fraction'), '', 3)} "
                     f"| {fmt(o.get('slow_behind_ms_mean'), ' ms')} | {fmt(o.get('one_drain_s'), ' s')} | {fmt(o.get('healthy_p50_ms'))} / {fmt(o.get('healthy_p99_ms'))} ms "
                     f"| {mib(o.get('rss_min_bytes'))} / {mib(o.get('rss_max_bytes'))} / {mib(o.get('rss_second_half_growth_bytes'))} |")
        L.append("")

    s5 = sc.get("S5", {})
    L.append("## S5 reconnect storm")
    L.append("")
    if "dropped" in s5:
        all_back = s5.get("drop_to_all_back_s")
        all_recovered = s5.get("drop_to_all_recovered_s")
        L.append(f"{s5['clients']:,} clients (`--recover`, each on 3 of the 20 `*.trade` channels by Zipf, positions "
                 f"seeded from the subscription_ack) while the publisher sends {s5['publish_rate']} trade events/s "
                 f"(about {s5['publish_rate'] / 20:g}/s per channel). What is dropped: {s5.get('what_is_dropped')} "
                 f"(`loadtest --drop-fraction {s5.get('drop_fraction')} --drop-after {s5.get('drop_after_s')}`; the "
                 f"drop happened {fmt(s5.get('dropped_at_s'), ' s', 2)} after the generator started.) A client is "
                 "back at its first subscription_ack after the drop, and recovered at its reconnect_ack if nothing "
                 "in it says `recovered:false` (a client with no position to send is recovered once back). Loss is "
                 "checked against Kafka itself (`--kafka`): every offset of a subscribed channel produced in each "
                 "client's window that never arrived.")
        L.append("")
        L.append(f"Issue 7 target, every dropped client back and recovered within {fmt(s5.get('target_s'), ' s', 0)} "
                 f"of the drop: **{'met' if s5.get('target_met') else 'not met'}**.")
        L.append("")
        L.append("| figure | value |")
        L.append("|---|---:|")
        for lab, v in (("subscribed before the drop", fmt(s5.get('subscribed_before'))),
                       ("dropped / back / recovered / not recovered",
                        f"{fmt(s5.get('dropped'))} / {fmt(s5.get('back'))} / {fmt(s5.get('recovered'))} / "
                        f"{fmt(s5.get('not_recovered'))}"),
                       ("drop → all back (median client)",
                        f"{fmt(all_back, ' s', 2) if all_back is not None else 'not all back'} "
                        f"({fmt(s5.get('p50_back_ms'), ' ms', 0)})"),
                       ("drop → all recovered (median client)",
                        f"{fmt(all_recovered, ' s', 2) if all_recovered is not None else 'not all recovered'} "
                        f"({fmt(s5.get('p50_recovered_ms'), ' ms', 0)})"),
                       ("reconnect attempts / reconnected",
                        f"{fmt(s5.get('reconnect_attempts'))} / {fmt(s5.get('reconnected'))}"),
                       ("held at the end", fmt(s5.get('held_at_end'))),
                       ("closes seen by clients (the drop itself not counted)", json.dumps(s5.get('closes_by_code') or {})),
                       ("errors seen by clients", json.dumps(s5.get('errors_by_kind') or {})),
                       *reconnect_rows(s5)):
            L.append(f"| {lab} | {v} |")
    elif "sigterm_to_all_back_s" in s5:
        L.append("Not measured: this report's S5 is the server restart of an earlier run.py, shown under S6 below.")
    else:
        L.append(f"Not measured: {s5.get('error') or s5.get('skipped') or 'not run'}")
    L.append("")

    restart = sc.get("S6") or (s5 if "sigterm_to_all_back_s" in s5 else {})
    L.append("## S6 server restart under clients")
    L.append("")
    if restart is s5:
        L.append("(Measured as S5 by the run.py of this report, before S5 became the drop of half of the clients.)")
        L.append("")
    if "clients" in restart:
        L.append(f"{restart['clients']:,} clients (`--recover`, each on 3 of the 20 `*.trade` channels by Zipf) while the "
                 f"publisher sends {restart['publish_rate']} trade events/s (about {restart['publish_rate'] / 20:g}/s per channel, so "
                 "every client holds a position on each of its channels when it is dropped). "
                 f"What is dropped: {restart['what_is_dropped']} Loss is checked against Kafka itself (`--kafka`): "
                 "every offset of a subscribed channel produced in each client's window that never arrived.")
        L.append("")
        L.append("| figure | value |")
        L.append("|---|---:|")
        for lab, v in (("subscribed before the restart", fmt(restart['subscribed_before'])),
                       ("SIGTERM → old process exited (drain)", fmt(restart['drain_and_exit_s'], ' s', 2)),
                       ("new process start → /health/ready 200 (clients already knocking)", fmt(restart.get('restart_ready_s'), ' s', 2) if restart.get('restart_ready_s') is not None else "not within 60 s"),
                       ("SIGTERM → new process ready", fmt(restart['sigterm_to_ready_s'], ' s', 2)),
                       ("SIGTERM → all clients connected again", fmt(restart['sigterm_to_all_back_s'], ' s', 2)),
                       ("new process ready → all connected", fmt(restart['ready_to_all_back_s'], ' s', 2)),
                       *((("hand-over (new process ready beside the old, then SIGTERM to the old): SIGTERM → all back",
                           fmt(restart['handover'].get('sigterm_to_all_back_s'), ' s', 2)),
                          ("hand-over: SIGTERM → old process exited", fmt(restart['handover'].get('old_process_exit_s'), ' s', 2)))
                         if isinstance(restart.get('handover'), dict) else ()),
                       ("reconnect attempts / reconnected", f"{fmt(restart['reconnect_attempts'])} / {fmt(restart['reconnected'])}"),
                       ("held at the end", fmt(restart['held_at_end'])),
                       ("closes seen by clients", json.dumps(restart['closes_by_code'])),
                       *reconnect_rows(restart)):
            L.append(f"| {lab} | {v} |")
    else:
        L.append(f"Not measured: {restart.get('error') or restart.get('skipped') or 'not run'}")
    L.append("")

    L.extend(s7_section(sc.get("S7", {})))
    L.extend(s8_section(sc.get("S8", {})))
    L.extend(s9_section(sc.get("S9", {})))

    L.append("## Peer comparison (nchan)")
    L.append("")
    peer = r.get("peer", {})
    if not peer.get("run"):
        L.append(f"Peer not run: {peer.get('reason', '-')}.")
    else:
        if peer.get("error"):
            L.append(f"Peer run failed part-way: {peer['error']}")
        L.append(f"Placement: {peer.get('placement')}. Same clients, ramp and channels as S1 and S2; nchan clients send "
                 "nothing (no subscribe message, no heartbeats) and nchan's publisher is HTTP POST from the generator. "
                 "Latency for nchan is publish time → client (the generator stamps the message when it posts it).")
        L.append("")
        ps1 = peer.get("S1", {})
        if ps1:
            o1 = sc.get("S1", {})
            L.append("| S1 idle | odin-ws | nchan |")
            L.append("|---|---:|---:|")
            L.append(f"| connections held | {fmt(o1.get('held_at_measurement'))} | {fmt(ps1['subscribed'])} |")
            L.append(f"| RSS per connection | {fmt((o1.get('per_connection_bytes') or {}).get('rss_bytes'), ' B', 0)} | "
                     f"{fmt(ps1['rss_per_connection_bytes'], ' B', 0)} |")
            L.append(f"| CPU s per 1,000 connects | {fmt(o1.get('server_cpu_s_per_1000_connects'), digits=3)} | "
                     f"{fmt(ps1.get('cpu_s_per_1000_connects'), digits=3)} |")
            L.append("")
        psteps = peer.get("S2", {}).get("steps", [])
        if psteps:
            ost = {x["publish_rate"]: x for x in measured_steps(sc, "S2")}
            L.append("| S2 msg/s | odin-ws deliveries/s | nchan deliveries/s | odin-ws CPU µs/delivery | nchan CPU µs/delivery | odin-ws p99 (ms) | nchan p99 (ms) | nchan core / generator core |")
            L.append("|---:|---:|---:|---:|---:|---:|---:|---|")
            for x in psteps:
                o = ost.get(x["publish_rate"], {})
                op99 = (o.get("latency_ms") or {}).get("producer_to_client", {}).get("p99")
                L.append(f"| {x['publish_rate']} | {fmt(o.get('server_deliveries_per_s'))} | {fmt(x['deliveries_per_s'])} | "
                         f"{fmt(o.get('server_cpu_us_per_delivery'), digits=2)} | {fmt(x['cpu_us_per_delivery'], digits=2)} | "
                         f"{fmt(op99, digits=2)} | {fmt(x['latency_ms']['producer_to_client']['p99'], digits=2)} | "
                         f"{pct(x.get('nchan_cores'))} / {pct(x.get('generator_cores'))} |")
            L.append("")
        L.append(f"- Ratios odin-ws / nchan: {json.dumps(peer.get('ratios_odin_over_nchan', {}))}.")
    L.append("")

    L.append("## Charts")
    L.append("")
    ch = r.get("charts", {})
    if ch.get("skipped"):
        L.append(f"Not drawn: {ch['skipped']}.")
    for k, title in (("S1", "S1 memory per connection"), ("S2", "S2 deliveries/s and p99 vs publish rate"),
                     ("S3", "S3 latency percentiles"), ("S4", "S4 server RSS over time"),
                     ("S7", "S7 server RSS, healthy alone and under attack")):
        if ch.get(k):
            L.append(f"![{title}]({chart_prefix}{ch[k]})")
            L.append("")
    if ch.get("error"):
        L.append(f"Chart error: {ch['error']}")
    if r.get("errors"):
        L.append("## Errors")
        L.append("")
        for e in r["errors"]:
            L.append(f"- {e}")
        L.append("")
    return "\n".join(L) + "\n"


S7_FATES = {
    "http_429": "refused before the upgrade with 429 (a per-address or global connection limit)",
    "http_503": "refused before the upgrade with 503 (server full or overloaded)",
    "close_1008": "closed by the server with 1008 (policy: flooding, slow)",
    "close_1009": "closed by the server with 1009 (message too big)",
    "closed_by_server_before_upgrade": "closed by the server (FIN) before any HTTP answer: the handshake deadline",
    "closed_by_server_without_close_frame": "closed by the server after the upgrade without a close frame",
    "reset_by_server": "reset by the server (RST)",
    "client_close_echoed": "the reconnect loop's own close (1000), answered by the server: the socket did what it came for",
    "client_close_not_answered": "the reconnect loop's close not answered within 5 s",
    "still_open_at_end": "still open when the tool stopped (it then closed it)",
    "connect_failed": "the TCP connect failed",
}


def s7_section(s7):
    L = ["## S7 edge soak", ""]
    if "edge" not in s7:
        return L + [f"Not measured: {s7.get('error') or s7.get('skipped') or 'not run'}", ""]
    b, e = s7["baseline"], s7["edge"]
    kinds = s7.get("hostile_kinds", [])
    L.append(f"{s7['clients']:,} healthy clients (`--subscribe zipf:5` over S3's 160 channels, `--kafka` ground truth), "
             f"bound to {s7['healthy_addresses']} (about {math.ceil(s7['clients'] / address_count(s7['healthy_addresses']))} "
             f"per address, connecting at {s7.get('ramp', '-')}/s), receive S3's mix at {s7['publish_rate']} events/s for {s7['publish_s']} s on one "
             f"server, in {max(1, len(s7.get('rounds') or []))} round(s) of two steps: alone (baseline), then with fresh clients while `odin-ws hostile` holds "
             f"{s7['hostile_per_kind']:,} sockets of each of {len(kinds)} kinds ({', '.join(kinds)}) from "
             f"{s7['hostile_addresses']} for {s7['hostile_s']} s (from 2.5 s before the publisher starts to after it "
             "stops). Each hostile slot opens a new socket 200 ms after its previous one ended, so the table counts "
             "sockets, not slots. The hostile tool is pinned to the generator's core (the client side) and runs "
             "SCHED_IDLE: it uses what that core leaves idle, so that its own CPU does not delay the healthy clients' "
             "generator beside it (an attacker has machines of its own).")
    if s7.get("seeds"):
        L.append(f"The two steps of a round carry the same load: the publisher and the generator take the round's seed "
                 f"({', '.join(str(x) for x in s7['seeds'])}), so the same events are sent in the same order to clients "
                 "on the same channels; each round draws its own, so that the ratio is not one seed's.")
    elif s7.get("seed") is not None:
        L.append(f"Both steps carry the same load: the publisher and the generator take one seed ({s7['seed']}), so the "
                 "same events are sent in the same order to clients on the same channels.")
    if s7.get("warmup"):
        rounds = s7["warmup"].get("rounds", 1)
        L.append(f"A warm-up of {rounds} round{'s' if rounds > 1 else ''} (clients connect, then {s7['warmup'].get('window_s')} s "
                 "of the same load, with the same attack) ran first (not in the tables), so that neither step pays for the "
                 "JIT's compilations of its paths"
                 + (f"; the last warm-up attack's sockets: {s7['warmup']['hostile']}" if s7["warmup"].get("hostile") else "") + ".")
    L.append("")
    L.append("Server configuration for S7 (over the bench's): `" + json.dumps(s7.get("server_conf_overrides"), separators=(",", ":"))
             + "`: " + "; ".join(s7.get("conf_notes", [])) + ".")
    L.append("")
    nice = s7.get("hostile_autogroup_nice")
    L.append(f"Hostile command: `{s7.get('hostile_command')}`"
             + (f"; its scheduling autogroup (its session) at nice {nice}, so that SCHED_IDLE holds against the "
                "generator's session too." if nice is not None else
                " (its scheduling autogroup left at its default nice: SCHED_IDLE holds only within its own session "
                "where the kernel groups sessions)."))
    L.append("")

    def lat(st):
        p = st["latency_ms"]["producer_to_client"]
        return f"{fmt(p['p50'], digits=2)} / {fmt(p['p99'], digits=2)} / {fmt(p['p99_9'], digits=2)}"

    def loss(st):
        x = st.get("loss") or {}
        return f"{fmt(x.get('missing'))} of {fmt(x.get('expected'))}" if x else "not measured"

    def rss(key):
        x = s7.get(f"{key}_rss") or {}
        return (f"{mib(x.get('min_bytes'))} / {mib(x.get('max_bytes'))} / {mib(x.get('second_half_growth_bytes'))} "
                f"({'flat' if x.get('flat') else 'not flat'})") if x else "-"

    ratio = s7.get("p99_ratio")
    busy = max(b.get("other_processes_cores") or 0, e.get("other_processes_cores") or 0)
    if busy > 0.5:
        L.append(f"**Other work on the machine used up to {busy * 100:.0f} % of a core during these runs** (server "
                 f"{pct(b['server_cores'])} / {pct(e['server_cores'])} of its core): the latency figures and their "
                 "ratio measure that contention more than the server; the fates (their lifetimes stretched), the loss and the RSS still tell.")
        L.append("")
    L.append("| figure | baseline (healthy alone) | under attack | goal |")
    L.append("|---|---:|---:|---|")
    verdict_p99 = ("met" if s7.get("p99_goal_met") else "not met") if s7.get("comparable", True) else \
        "not comparable: under 95 % of the healthy clients subscribed in one of the runs"
    steady = b.get("latency_from_s") is not None and e.get("latency_from_s") is not None
    window = (f"from {fmt(b['latency_from_s'], digits=1)} / {fmt(e['latency_from_s'], digits=1)} s after the publisher's "
              f"records arrived to the window's end (the steady state; {fmt(b.get('latency_left_out'))} / "
              f"{fmt(e.get('latency_left_out'))} deliveries before and after it left out, shown per second below)"
              if steady else "every delivery")
    rounds = s7.get("rounds") or []
    L.append(f"| healthy p50 / p99 / p99.9 producer→client (ms), {window}; round 1 | {lat(b)} | {lat(e)} | |")
    if rounds:
        L.append(f"| healthy p99 producer→client (ms) per round, alone then attacked back to back | "
                 f"{' / '.join(fmt(r['baseline_p99_ms'], digits=1) for r in rounds)} | "
                 f"{' / '.join(fmt(r['edge_p99_ms'], digits=1) for r in rounds)} | ratios "
                 f"{' / '.join(fmt(r['ratio'], digits=2) for r in rounds)} |")
    L.append(f"| healthy p99 producer→client (ms), mean of the {max(1, len(rounds))} rounds | {fmt(s7.get('baseline_p99_ms'), digits=1)} | "
             f"{fmt(s7.get('edge_p99_ms'), digits=1)} | within {S7_P99_GOAL} × baseline: **× {fmt(ratio, digits=2)}, {verdict_p99}** |")
    L.append(f"| deliveries missed by healthy clients (Kafka ground truth, subscribed clients), round 1 | {loss(b)} | {loss(e)} | 0 in every round "
             f"({fmt(s7.get('healthy_missing'))} under attack in all): "
             f"**{'met' if s7.get('loss_goal_met') else 'not met'}** |")
    L.append(f"| healthy subscribed / failed to connect | {fmt(b['subscribed'])} / {fmt(b['connections'].get('failed'))} | "
             f"{fmt(e['subscribed'])} / {fmt(e['connections'].get('failed'))} | all / 0 |")
    L.append(f"| closes / errors seen by healthy clients | {json.dumps(b.get('closes_by_code') or {})} / "
             f"{json.dumps(b.get('errors_by_kind') or {})} | {json.dumps(e.get('closes_by_code') or {})} / "
             f"{json.dumps(e.get('errors_by_kind') or {})} | none |")
    def onset(x):
        ps = x.get("per_second") or {}
        if ps.get("onset_max_p99_ms") is None:
            return "-"
        return (f"{fmt(ps['onset_max_p99_ms'], digits=0)} / {fmt(ps.get('rest_median_p99_ms'), digits=0)} / "
                f"{fmt(ps.get('rest_max_p99_ms'), digits=0)}")
    L.append(f"| per-second p99 producer→client (ms): the worst of the first {(e.get('per_second') or {}).get('onset_s', 5)} s "
             f"of publishing (the stream's start) / the median and the worst of the other seconds | {onset(b)} | {onset(e)} | |")
    L.append(f"| server RSS min / max / change over the second half | {rss('baseline')} | {rss('edge')} | flat |")
    L.append(f"| deliveries/s (server) | {fmt(b['server_deliveries_per_s'])} | {fmt(e['server_deliveries_per_s'])} | |")
    L.append(f"| server core / generator core / hostile tool core | {pct(b['server_cores'])} / {pct(b['generator_cores'])} / - | "
             f"{pct(e['server_cores'])} / {pct(e['generator_cores'])} / {pct((e.get('extra_cores') or {}).get('hostile'))} | |")
    L.append(f"| connections held after the attack (healthy clients gone) | | {fmt(s7.get('connections_active_after'), digits=0)} | 0 |")
    L.append("")
    L.append(step_table([dict(b, publish_rate=f"{b['publish_rate']} (baseline)"), dict(e, publish_rate=f"{e['publish_rate']} (attack)")], "events/s"))
    L.append("")
    h = s7.get("hostile") or {}
    if h.get("kinds"):
        L.append("Every hostile socket's fate (the first of: an HTTP answer other than 101, a close frame from the "
                 "server, the server closing or resetting the socket, the end of the run), with how long it lived from "
                 "the start of its connect:")
        L.append("")
        L.append("| kind | slots | sockets opened / upgraded | fate | sockets | lived p50 / p90 / max (s) |")
        L.append("|---|---:|---:|---|---:|---|")
        for kind in kinds:
            k = h["kinds"].get(kind)
            if not k:
                continue
            first = True
            for fate, f in sorted(k["fates"].items(), key=lambda x: -x[1]["count"]):
                head = (f"| {kind} | {fmt(k['slots'])} | {fmt(k['sockets'])} / {fmt(k['upgraded'])}" if first else "| | |")
                L.append(f"{head} | `{fate}` | {fmt(f['count'])} | {f['open_s_p50']} / {f['open_s_p90']} / {f['open_s_max']} |")
                first = False
            if kind == "flood":
                L.append(f"| | | | (messages sent by the flood sockets: {fmt(k.get('messages_sent'))}) | | |")
        L.append("")
        seen = sorted({f for k in h["kinds"].values() for f in k["fates"]})
        L.append("Fates: " + "; ".join(f"`{f}` {S7_FATES.get(f, f)}" for f in seen) + ".")
        L.append("")
    else:
        L.append("No hostile summary.")
        L.append("")
    if e.get("server_counter_deltas") is not None:
        L.append("Server counters over the attack step (healthy clients' connects included): `"
                 + json.dumps(e["server_counter_deltas"], separators=(", ", ": ")) + "`.")
        L.append("")
    return L


def s8_section(s8):
    L = ["## S8 authentication: CPU per connect", ""]
    if not s8.get("algorithms"):
        return L + [f"Not measured: {s8.get('error') or s8.get('skipped') or 'not run'}", ""]
    L.append(f"{s8['connections']:,} clients connect at {s8['ramp']}/s and subscribe to one channel, on a server with "
             f"`auth.mode` {s8['auth_mode']} configured for one algorithm; first without a token, then each with its own "
             "user's token presented in the `Authorization: Bearer` upgrade header, then in an `auth` message after the "
             "upgrade (`auth_ack`, then the subscription)"
             + ". Server CPU is utime + stime from /proc (sampled every 50 ms) from the generator's first connect (its "
             "tokens minted before) to its progress line counting every subscription ack, less the server's idle CPU "
             "over as long (measured for 3 s before); one unmeasured round first warms the JIT.")
    L.append("")
    L.append("| algorithm | token in | no token: s CPU / 1,000 connects | token: s CPU / 1,000 connects | ratio | extra ms per connect | accepted by the server (ws_auth_total ok) / auth_ack / failed | subscribed (none / token) |")
    L.append("|---|---|---:|---:|---:|---:|---|---|")
    notes = []
    for alg, x in s8["algorithms"].items():
        if "token" not in x:
            L.append(f"| {alg} | | | | | | | not measured: {x.get('skipped') or x.get('error')} |")
            continue
        b = x["no_token"]
        for present, t in x["token"].items():
            L.append(f"| {alg} | {present} | {fmt(b['server_cpu_s_per_1000_connects'], digits=3)} | "
                     f"{fmt(t['server_cpu_s_per_1000_connects'], digits=3)} | × {fmt(t.get('ratio_to_no_token'), digits=2)} | "
                     f"{fmt(t.get('extra_cpu_ms_per_connect'), digits=3)} | {fmt(t.get('server_auth_ok'), digits=0)} / "
                     f"{fmt(t.get('auth_acks'))} / {fmt(t.get('auth_failed'))} | {fmt(b['subscribed'])} / {fmt(t['subscribed'])} |")
            if t.get("note"):
                notes.append(f"- **{alg} ({present}): {t['note']}** (refusals `{json.dumps(t.get('refusals_by_status'))}`, "
                             f"failures by code `{json.dumps(t.get('auth_failures_by_code'))}`).")
    if notes:
        L.append("")
        L.extend(notes)
    for n in s8.get("notes") or []:
        L.append(f"- {n}.")
    return L + [""]


def s9_section(s9):
    L = ["## S9 private channels: CPU per delivery", ""]
    if "public" not in s9 and "private" not in s9:
        return L + [f"Not measured: {s9.get('error') or s9.get('skipped') or 'not run'}", ""]
    L.append(f"{s9['clients']:,} clients, each subscribed to 5 channels drawn by Zipf over 20 tokens × the public "
             f"categories ({s9['public_categories']}); S3's event mix at {s9['publish_rate']} events/s for "
             f"{s9['publish_s']} s, the publisher's balance and transfer parties being the clients' users "
             f"(`--wallets {s9['clients']} --wallet-prefix user-`). Public: auth off, the public mix alone (the "
             f"issue's public-only run). Private: HS256, every client authenticated as its own user (`auth` message) "
             f"and also subscribed to `{s9['private_channel']}`, each balance record delivered to its owners only (both "
             "parties of a transfer). Loss and leaks against Kafka: a private record is expected by its owners' clients "
             "only, and one received by any other client is a leak. The goal compares CPU per delivery, as issue 15 asks.")
    L.append("")
    L.append("| figure | public only (auth off) | with private balances (HS256) | goal |")
    L.append("|---|---:|---:|---|")
    pub, prv = s9.get("public") or {}, s9.get("private") or {}

    def g(x, k, d=1):
        return fmt(x.get(k), digits=d) if "latency_ms" in x else (x.get("skipped") or x.get("error") or "-")

    def loss(x):
        lo = x.get("loss") or {}
        return f"{fmt(lo.get('missing'))} of {fmt(lo.get('expected'))}" if lo else "-"

    ratio = s9.get("cpu_ratio_private_over_public")
    L.append(f"| server CPU µs per delivery | {g(pub, 'server_cpu_us_per_delivery', 3)} | {g(prv, 'server_cpu_us_per_delivery', 3)} | "
             f"within × {S9_CPU_GOAL}: **× {fmt(ratio, digits=3)}, {'met' if s9.get('goal_met') else 'not met'}** |")
    L.append(f"| deliveries/s (server) | {g(pub, 'server_deliveries_per_s')} | {g(prv, 'server_deliveries_per_s')} | |")
    L.append(f"| private deliveries (server counter) | - | {fmt(prv.get('server_private_deliveries'), digits=0)} | |")
    L.append(f"| server core | {pct(pub.get('server_cores'))} | {pct(prv.get('server_cores'))} | |")
    L.append(f"| p99 producer→client (ms) | {fmt(((pub.get('latency_ms') or {}).get('producer_to_client') or {}).get('p99'), digits=2)} | "
             f"{fmt(((prv.get('latency_ms') or {}).get('producer_to_client') or {}).get('p99'), digits=2)} | |")
    L.append(f"| authenticated (auth_ack) / failed | - | {fmt((prv.get('auth') or {}).get('acks'))} / {fmt((prv.get('auth') or {}).get('failed'))} | all / 0 |")
    L.append(f"| missed (Kafka ground truth) | {loss(pub)} | {loss(prv)} | 0 |")
    L.append(f"| private records expected by their owners / delivered to another user (LEAK) | - | "
             f"{fmt((prv.get('loss') or {}).get('private_expected'))} / **{fmt((prv.get('loss') or {}).get('leaked'))}** | - / 0 |")
    L.append("")
    if s9.get("note"):
        L.append(f"**{s9['note']}** (failures by code: `{json.dumps((prv.get('auth') or {}).get('failures_by_code'))}`).")
        L.append("")
    steps = [dict(x, publish_rate=f"{s9['publish_rate']} ({k})") for k, x in (("public", pub), ("private", prv)) if "latency_ms" in x]
    if steps:
        L.append(step_table(steps, "events/s"))
        L.append("")
    return L


def write_reports(report, out):
    with open(os.path.join(out, "report.json"), "w") as f:
        json.dump(report, f, indent=1)
    with open(os.path.join(out, "report.md"), "w") as f:
        f.write(render_md(report))
    rel = os.path.relpath(out, RESULTS)
    # latest.md follows the last full run of every scenario (a quick or partial run is in its own directory only)
    if not rel.startswith("..") and report.get("mode") == "full" and "--only" not in report.get("argv", []):
        with open(os.path.join(RESULTS, "latest.md"), "w") as f:
            f.write(f"<!-- copy of {rel}/report.md -->\n" + render_md(report, chart_prefix=rel + "/"))
    log(f"report: {os.path.relpath(out, ROOT)}/report.md")


def main():
    ap = argparse.ArgumentParser(description="odin-ws benchmark (see bench/README.md)")
    ap.add_argument("--quick", action="store_true", help="small counts and short steps (smoke test, ~5 min)")
    ap.add_argument("--peer", choices=["nchan"], help="also run S1 and S2 against the peer (bench/nchan)")
    ap.add_argument("--only", help="comma-separated scenarios to run, e.g. S1,S2 (default: all)")
    ap.add_argument("--out", help="result directory (default bench/results/<UTC date-time>)")
    ap.add_argument("--command", help="the command line to print in the report (set by make bench)")
    ap.add_argument("--rps", action="store_true",
                    help="steer loopback receive processing to the generator's core (needs root; restored at exit)")
    ap.add_argument("--keep-work", action="store_true", help="keep the work directory (jar copies, broker data)")
    ap.add_argument("--render", metavar="REPORT_JSON", help="only re-render report.md and charts from a report.json")
    args = ap.parse_args()
    if args.render:
        with open(args.render) as f:
            report = json.load(f)
        out = os.path.dirname(os.path.abspath(args.render))
        for sc in report.get("scenarios", {}).values():
            for st in sc.get("steps", []) + ([sc["step"]] if "step" in sc else []):
                if "latency_ms" in st:
                    st["limit"] = verdict(st)
        report["targets"] = targets(report)
        report["charts"] = draw_charts(report, out)
        write_reports(report, out)
        return 0
    bench = Bench(args)

    def on_signal(signum, _frame):
        log(f"signal {signum}: stopping everything")
        PROCS.stop_all()
        sys.exit(130)

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    atexit.register(PROCS.stop_all)
    log(f"results in {os.path.relpath(bench.out, ROOT)}; budget {bench.cfg['deadline_s']} s")
    return bench.run()


if __name__ == "__main__":
    sys.exit(main())
