#!/usr/bin/env python3
"""S2's CPU per delivery and p99 with the floor's reader in front of the server, against the bench's generator (issue 17).

S2 counts the server's CPU per delivery; on loopback the receiving side's TCP work runs inside the server's send(2),
so the figure includes what the reading client makes the kernel do. The floor (bench/floor/fanout.c) reads with a
small C epoll loop; S2's clients are the generator (`loadtest`). This runs, on one server (bench/run.py's settings:
the Dockerfile's JVM flags, server on core 0, readers on core 1), S2's 10,000 subscribers of HOT.trade at one rate,
round by round: C for bench/tools/wsreader.c (the floor's read loop, upgrading with ?subscribe=), L for the
generator as S2 runs it, F for the floor itself at the same rate (the server stopped meanwhile, as the bench does).
Each C round: the same publisher and rate, the server's CPU and the reader's server-to-client latency over a 15 s
window from 9 s after the publisher starts, deliveries from the server's counter. Prints one JSON line per round.
BENCH_SERVER_JAR and BENCH_SERVER_JAVA_OPTS work as in bench/run.py.

  python3 bench/tools/reader_cost.py --rate 2 --order CLFCLF [--sources 39] [--out DIR]
"""
import argparse
import json
import os
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import run as bench  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
WINDOW_S = 15
FRAME_BYTES = 386  # S2's frame


def c_round(b, name, n, rate, sources, reader):
    """One round with wsreader's clients: server CPU per delivery over the window."""
    rd = subprocess.Popen([reader, str(b.server_port), str(n), bench.S2_CHANNEL, "60", bench.GENERATOR_CORE, str(sources)],
                          stdout=subprocess.PIPE, stderr=open(os.path.join(b.logs, f"{name}.wsreader.log"), "w"), text=True)
    try:
        if rd.stdout.readline().strip() != "connected":
            raise SystemExit(f"reader_cost: wsreader did not connect (see {b.logs})")
        time.sleep(2)
        pub = b.start_publisher(name, rate, 30, bench.S2_TOKEN, "odin.trades=trade")
        time.sleep(9)  # the publisher's JVM start, then as S2's window: well inside the publishing
        m0 = bench.scrape_sure(b.ops_port)
        w = bench.CpuWindow({"server": b.server.pid, "reader": rd.pid})
        rd.send_signal(signal.SIGUSR1)
        time.sleep(WINDOW_S)
        rd.send_signal(signal.SIGUSR2)
        cpu = w.finish()
        m1 = bench.scrape_sure(b.ops_port)
        latency = json.loads(rd.stdout.readline())
        sent = bench.delta(m1, m0, "ws_messages_sent_total")
        pub.wait(40)
        return {"reader": "C", "us_per_delivery": round(1e6 * cpu["cpu_s"]["server"] / sent, 3) if sent else None,
                "deliveries_per_s": round(sent / cpu["wall_s"], 1), "reader_cores": cpu["cores_used"].get("reader"),
                "p99_ms": latency["p99_ms"], "latency": latency}
    finally:
        rd.kill()
        rd.wait()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rate", type=int, default=2)
    ap.add_argument("--order", default="CLCLCL",
                    help="C: the C reader, L: the generator, F: the floor (server stopped meanwhile), one round each, in this order")
    ap.add_argument("--sources", type=int, default=39, help="source addresses of the C reader (the generator's 127.0.0.2-40)")
    ap.add_argument("--out")
    a = ap.parse_args()
    if not a.order or set(a.order) - {"C", "L", "F"}:
        raise SystemExit("reader_cost: --order is a string of C, L and F")
    args = argparse.Namespace(quick=False, out=a.out, command="bench/tools/reader_cost.py", only=None, peer=None,
                              rps=False, keep_work=False)
    b = bench.Bench(args)
    try:
        b.loopback_receive = None
        b.prepare()
        reader = os.path.join(b.work, "wsreader")
        subprocess.run(["gcc", "-O2", "-o", reader, os.path.join(HERE, "wsreader.c")], check=True)
        b.start_broker()
        b.start_server("reader_cost")
        n = b.cfg["s2_subscribers"]
        for i, kind in enumerate(a.order):
            name = f"round{i}-{kind}"
            if kind == "C":
                r = c_round(b, name, n, a.rate, a.sources, reader)
            elif kind == "F":
                b.server.send_signal(signal.SIGSTOP)
                try:
                    f = b.floor_run(a.rate, 1, FRAME_BYTES)
                finally:
                    b.server.send_signal(signal.SIGCONT)
                r = {"reader": "floor", "us_per_write": f["cpu_us_per_write"], "fanout_ms_mean": f["fanout_ms_mean"],
                     "fanout_ms_max": f["fanout_ms_max"]}
            else:
                s = b.step(name, n, ["--subscribe", "single", "--channels", bench.S2_CHANNEL], a.rate, b.cfg["s2_publish_s"],
                           pub_tokens=bench.S2_TOKEN, pub_topics="odin.trades=trade", expected_fanout=n,
                           latency_from_s=bench.WINDOW_AFTER_S)
                r = {"reader": "L", "us_per_delivery": s.get("server_cpu_us_per_delivery"),
                     "deliveries_per_s": s.get("server_deliveries_per_s"), "reader_cores": s.get("generator_cores"),
                     "p99_ms": ((s.get("latency_ms") or {}).get("server_to_client") or {}).get("p99")}
            b.wait_connections_gone()
            print(json.dumps({"round": i, "rate": a.rate, **r}), flush=True)
    finally:
        bench.PROCS.stop_all()


if __name__ == "__main__":
    main()
