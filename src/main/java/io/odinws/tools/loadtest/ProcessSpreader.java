package io.odinws.tools.loadtest;

import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.HdrHistogram.Histogram;

/**
 * Spreads a run over child processes when one process cannot hold the connections (the file limit caps
 * a process at about 19,500 sockets): re-executes this JVM's java with the same class path on
 * {@link LoadTest}, giving each child a share of the clients and of the ramp, its own source addresses
 * (so every process has its own ephemeral-port space), and {@code --child}. A child writes its progress
 * once a second and its report at the end as JSON lines on stdout (prefixed with {@link #MARK}); the
 * parent prints the summed progress and merges the reports (histograms included).
 */
final class ProcessSpreader {
    static final String MARK = "@loadtest-child ";
    /** Connections per process that auto mode aims at, below the 20,000 file limit with room to spare. */
    static final int AUTO_PER_PROCESS = 19_000;
    private static final long FILE_RESERVE = 500;

    private final LoadTestOptions options;
    private final int processes;
    private final PrintStream err;
    private final List<Process> children = new ArrayList<>();
    private volatile boolean stopRequested;

    ProcessSpreader(LoadTestOptions options, int processes, PrintStream err) {
        this.options = options;
        this.processes = processes;
        this.err = err;
    }

    /** The number of processes to use, or an IllegalArgumentException if the asked-for number is too small. */
    static int processesFor(LoadTestOptions o, long maxOpenFiles) {
        long cap = Math.max(1, Math.min(AUTO_PER_PROCESS, maxOpenFiles - FILE_RESERVE));
        int auto = (int) ((o.connections() + cap - 1) / cap);
        if (o.processes() == 0) {
            if (auto > LoadTestOptions.MAX_PROCESSES) {
                throw new IllegalArgumentException("--connections " + o.connections() + " needs " + auto + " processes of "
                        + cap + " (file limit " + maxOpenFiles + "), more than " + LoadTestOptions.MAX_PROCESSES);
            }
            return auto;
        }
        long perProcess = (o.connections() + o.processes() - 1) / o.processes();
        if (perProcess > maxOpenFiles - FILE_RESERVE) {
            throw new IllegalArgumentException("--processes " + o.processes() + " would put " + perProcess
                    + " connections in one process, over its open-file limit " + maxOpenFiles + "; use --processes auto");
        }
        return o.processes();
    }

    static long maxOpenFiles() {
        var os = ManagementFactory.getOperatingSystemMXBean();
        if (os instanceof com.sun.management.UnixOperatingSystemMXBean u) return u.getMaxFileDescriptorCount();
        return 20_000;
    }

    /** Child i's options: share of clients and ramp, distinct source addresses. */
    static List<LoadTestOptions> split(LoadTestOptions o, int n) {
        List<LoadTestOptions> out = new ArrayList<>();
        List<InetAddress> all = o.sourceAddresses();
        int offset = o.clientOffset();
        for (int i = 0; i < n; i++) {
            int share = o.connections() / n + (i < o.connections() % n ? 1 : 0);
            int ramp = Math.max(1, o.rampPerSecond() / n + (i < o.rampPerSecond() % n ? 1 : 0));
            List<InetAddress> mine = new ArrayList<>();
            if (all.isEmpty()) {
                mine.add(address(127, 0, 0, 2 + i));
            } else if (all.size() >= n) {
                for (int j = i; j < all.size(); j += n) mine.add(all.get(j));
            } else {
                mine.addAll(all); // fewer addresses than processes: they share ports (see the warning)
            }
            out.add(o.forChild(share, ramp, mine, offset));
            offset += share;
        }
        return out;
    }

    /** Runs the children to the end; returns the merged report and, via {@code failures}, what went wrong. */
    JsonObject run(List<String> failures) throws Exception {
        if (!options.sourceAddresses().isEmpty() && options.sourceAddresses().size() < processes) {
            err.println("loadtest: warning: " + options.sourceAddresses().size() + " source addresses for " + processes
                    + " processes; processes sharing an address share its ephemeral ports");
        }
        List<LoadTestOptions> shares = split(options, processes);
        List<ChildProgress> latest = new ArrayList<>();
        List<AtomicReference<JsonObject>> reports = new ArrayList<>();
        List<Thread> readers = new ArrayList<>();
        for (int i = 0; i < processes; i++) {
            Process p = new ProcessBuilder(command(shares.get(i))).redirectError(ProcessBuilder.Redirect.INHERIT).start();
            children.add(p);
            ChildProgress last = new ChildProgress();
            AtomicReference<JsonObject> report = new AtomicReference<>();
            latest.add(last);
            reports.add(report);
            int child = i;
            Thread t = new Thread(() -> read(child, p, last, report), "loadtest-child-" + i);
            t.setDaemon(true);
            t.start();
            readers.add(t);
        }
        if (options.controlStdin()) {
            // each child measures its own clients: every command goes to all of them
            StdinCommands.read(System.in, line -> {
                for (Process p : children) {
                    try {
                        p.getOutputStream().write((line + "\n").getBytes(StandardCharsets.UTF_8));
                        p.getOutputStream().flush();
                    } catch (IOException gone) {
                        // a child that ended takes no more commands
                    }
                }
            });
        }
        err.println("loadtest: " + processes + " processes, " + options.connections() + " connections");
        Progress progress = new Progress(err);
        long start = System.nanoTime();
        long deadline = start + TimeUnit.SECONDS.toNanos(options.durationSeconds() + 60L);
        long nextPrint = start + 1_000_000_000L;
        while (children.stream().anyMatch(Process::isAlive)) {
            if (System.nanoTime() > deadline) {
                failures.add("child processes did not finish in time; killed");
                children.forEach(Process::destroyForcibly);
                break;
            }
            Thread.sleep(50);
            if (System.nanoTime() >= nextPrint) {
                nextPrint += 1_000_000_000L;
                List<Progress.Sample> now = new ArrayList<>();
                for (ChildProgress l : latest) {
                    Progress.Sample x = l.take();
                    if (x != null) now.add(x);
                }
                progress.print(Progress.sum(now, (System.nanoTime() - start) / 1e9, options.connections()));
            }
        }
        for (Thread t : readers) t.join(5_000);
        List<JsonObject> parts = new ArrayList<>();
        for (int i = 0; i < processes; i++) {
            Process p = children.get(i);
            JsonObject r = reports.get(i).get();
            if (r == null) {
                failures.add("child process " + i + " ended without a report (exit status "
                        + (p.isAlive() ? "none" : String.valueOf(p.exitValue())) + ")");
            } else {
                parts.add(r);
            }
        }
        if (parts.isEmpty()) throw new IllegalStateException("no child process produced a report");
        return Report.merge(parts);
    }

    /** Asks the children to end early (SIGTERM: each still reports). */
    void requestStop() {
        stopRequested = true;
        for (Process p : children) p.destroy();
    }

    boolean stopRequested() {
        return stopRequested;
    }

    private void read(int child, Process p, ChildProgress last, AtomicReference<JsonObject> report) {
        try (BufferedReader in = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
            for (String line; (line = in.readLine()) != null; ) {
                if (!line.startsWith(MARK)) { // not ours (a library printing to stdout): pass it on
                    err.println("[child " + child + "] " + line);
                    continue;
                }
                JsonObject n;
                try {
                    n = new JsonObject(line.substring(MARK.length()));
                } catch (DecodeException e) {
                    err.println("loadtest: bad line from child " + child + ": " + e.getMessage());
                    continue;
                }
                if ("progress".equals(n.getString("kind"))) {
                    last.offer(Progress.fromJson(n));
                } else if (n.containsKey("connections")) {
                    report.set(n);
                }
            }
        } catch (IOException e) {
            err.println("loadtest: reading child " + child + ": " + e);
        }
    }

    /**
     * A child's progress as the parent sees it: its latest cumulative counters (kept, so a child whose line
     * is late still counts) and the latency samples of the intervals not printed yet (each printed once).
     */
    private static final class ChildProgress {
        private Progress.Sample last;
        private final Histogram producer = new Histogram(Stats.MAX_MICROS, Stats.DIGITS);
        private final Histogram server = new Histogram(Stats.MAX_MICROS, Stats.DIGITS);

        synchronized void offer(Progress.Sample s) {
            last = s;
            producer.add(s.producer());
            server.add(s.server());
        }

        /** The latest counters with the pending intervals' histograms; null before the first sample. */
        synchronized Progress.Sample take() {
            if (last == null) return null;
            Progress.Sample out = new Progress.Sample(last.elapsedSeconds(), last.open(), last.target(), last.subscribed(),
                    last.received(), last.errors(), last.closes(), producer.copy(), server.copy(), last.dropped(), last.back());
            producer.reset();
            server.reset();
            return out;
        }
    }

    private static List<String> command(LoadTestOptions share) {
        List<String> cmd = new ArrayList<>();
        cmd.add(ProcessHandle.current().info().command().orElse(System.getProperty("java.home") + "/bin/java"));
        for (String a : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
            if (a.startsWith("-agentlib") || a.startsWith("-javaagent") || a.startsWith("-Xrunjdwp") || a.startsWith("-Xdebug")) continue;
            cmd.add(a);
        }
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.add(LoadTest.class.getName());
        cmd.addAll(share.toArgs());
        return cmd;
    }

    private static InetAddress address(int a, int b, int c, int d) {
        try {
            return InetAddress.getByAddress(new byte[] {(byte) a, (byte) b, (byte) c, (byte) d});
        } catch (UnknownHostException e) {
            throw new AssertionError(e);
        }
    }
}
