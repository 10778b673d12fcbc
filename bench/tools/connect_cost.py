#!/usr/bin/env python3
"""Connect cost and idle memory of one warm server (issue 17, targets 1 and 5).

Starts the bench's broker and one server (bench/run.py's settings: the Dockerfile's JVM flags, server on core 0,
generator on core 1), then:
  - rounds of K connects (accept, upgrade, one subscribe, its ack) at RAMP/s, each measured as bench/run.py's S8
    measures a round: server CPU from the generator's first connect to its last ack, less the idle CPU;
  - N idle connections held: heap after a full GC, NMT "Other" (Netty's direct memory) and the direct buffer pool,
    before and after, per connection.
BENCH_SERVER_JAR and BENCH_SERVER_JAVA_OPTS work as in bench/run.py (another build; a profiler agent).

  python3 bench/tools/connect_cost.py --rounds 4 --connects 3000 --idle 5000 [--out DIR]
"""
import argparse
import json
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import run as bench  # noqa: E402


def histogram(text):
    """jcmd GC.class_histogram: class -> (instances, bytes)."""
    out = {}
    for line in text.splitlines():
        parts = line.split()
        if len(parts) >= 4 and parts[0].endswith(":") and parts[1].isdigit():
            out[parts[3]] = (int(parts[1]), int(parts[2]))
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=4)
    ap.add_argument("--connects", type=int, default=3000)
    ap.add_argument("--ramp", type=int, default=1000)
    ap.add_argument("--idle", type=int, default=5000)
    ap.add_argument("--out")
    a = ap.parse_args()
    args = argparse.Namespace(quick=True, out=a.out, command="bench/tools/connect_cost.py", only=None, peer=None,
                              rps=False, keep_work=False)
    b = bench.Bench(args)
    res = {"server_jar": os.environ.get("BENCH_SERVER_JAR") or "target/odin-ws.jar",
           "java_opts": os.environ.get("BENCH_SERVER_JAVA_OPTS", ""), "rounds": [], "idle": None}
    try:
        b.loopback_receive = None
        b.prepare()
        b.start_broker()
        b.start_server("connect_cost")
        time.sleep(2)
        for i in range(a.rounds):
            r = b.s8_round(f"round{i}", a.connects, a.ramp, [])
            r["us_per_connect"] = round(1000 * r["server_cpu_s_per_1000_connects"], 1) if r.get("server_cpu_s_per_1000_connects") else None
            res["rounds"].append(r)
        if a.idle:
            b.wait_connections_gone()
            before = bench.memory_snapshot(b.server.pid, b.ops_port)
            hist0 = histogram(bench.jcmd(b.server.pid, "GC.class_histogram"))
            gen = b.generator("idle", a.idle, int(a.idle / a.ramp + 120), ["--subscribe", "single", "--heartbeat", "0"],
                              ramp=a.ramp)
            reached = gen.wait_subscribed(a.idle, a.idle / a.ramp + 60)
            time.sleep(3)
            after = bench.memory_snapshot(b.server.pid, b.ops_port)
            hist1 = histogram(bench.jcmd(b.server.pid, "GC.class_histogram"))
            gen.finish()
            held = int(after["connections_active"] or 0)
            diff = sorted(((hist1.get(k, (0, 0))[1] - v0[1], hist1.get(k, (0, 0))[0] - v0[0], k)
                           for k, v0 in {**{k: (0, 0) for k in hist1}, **hist0}.items()), reverse=True)
            with open(os.path.join(b.out, "class_histogram_diff.txt"), "w") as f:
                f.write(f"# heap after a full GC: {held} idle connections minus none, per connection\n")
                f.write(f"# bytes/conn instances/conn class; total {sum(d[0] for d in diff) / max(1, held):.1f} B\n")
                for db, dn, k in diff:
                    if abs(db) >= held * 4:
                        f.write(f"{db / held:8.1f} {dn / held:6.2f} {k}\n")
            per = {k: round((after[k] - before[k]) / held, 1) for k in
                   ("heap_used_after_gc_bytes", "nmt_other_bytes", "direct_buffer_pool_bytes", "rss_bytes")
                   if before.get(k) is not None and after.get(k) is not None and held}
            per["jvm_bytes"] = round(per.get("heap_used_after_gc_bytes", 0) + per.get("nmt_other_bytes", 0), 1)
            res["idle"] = {"subscribed": reached, "held": held, "per_connection_bytes": per, "before": before, "after": after}
    finally:
        bench.PROCS.stop_all()
    with open(os.path.join(b.out, "connect_cost.json"), "w") as f:
        json.dump(res, f, indent=1)
    us = [r["us_per_connect"] for r in res["rounds"]]
    print(json.dumps({"us_per_connect": us, "idle_per_connection": (res["idle"] or {}).get("per_connection_bytes"),
                      "out": b.out}))


if __name__ == "__main__":
    main()
