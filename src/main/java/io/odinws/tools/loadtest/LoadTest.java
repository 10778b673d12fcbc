package io.odinws.tools.loadtest;

import io.odinws.cli.Main;
import io.vertx.core.json.JsonObject;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine;

/**
 * {@code odin-ws loadtest [options]}: the load generator's entry point; its command line is {@link LoadTestCommand}.
 * Exit status: 0 all expectations met, 1 an expectation failed, 2 bad command line, 3 the run could not be done.
 */
public final class LoadTest {
    public static final int OK = 0;
    public static final int EXPECTATION_FAILED = 1;
    public static final int USAGE_ERROR = 2;
    public static final int RUN_ERROR = 3;

    /** The report of a finished run and the exit status it implies. */
    public record Result(JsonObject report, int exitStatus) {}

    /** Something that can end a run early (SIGINT/SIGTERM). */
    private interface Stoppable {
        void requestStop();
    }

    private static volatile Stoppable current;

    private LoadTest() {
    }

    /** {@code odin-ws loadtest [options]} on its own, as the child processes of a spread run are started. */
    public static void main(String[] args) {
        System.exit(Main.commandLine(new LoadTestCommand()).execute(args));
    }

    /** Parses the command line, runs, prints the report; returns the exit status instead of exiting. */
    public static int run(String[] args, PrintStream out, PrintStream err) {
        CommandLine cl = Main.commandLine(new LoadTestCommand(out, err, false));
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        return cl.execute(args);
    }

    /** {@link #run(LoadTestOptions, int, PrintStream, PrintStream)}, ended early by Ctrl-C / SIGTERM, which still prints the report. */
    static int runUntilSignal(LoadTestOptions options, int processes, PrintStream out, PrintStream err) {
        CountDownLatch done = new CountDownLatch(1);
        Thread hook = new Thread(() -> {
            Stoppable s = current;
            if (s != null) s.requestStop();
            try {
                done.await(30, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, "loadtest-shutdown");
        Runtime.getRuntime().addShutdownHook(hook);
        int status = run(options, processes, out, err);
        done.countDown();
        try {
            Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException shuttingDown) {
            // a signal ended the run; the JVM is already exiting
        }
        return status;
    }

    /** Runs checked options in this process or spread over {@code processes}; returns the exit status. */
    static int run(LoadTestOptions options, int processes, PrintStream out, PrintStream err) {
        try {
            if (options.child()) return runChild(options, out);
            GroundTruth truth = options.kafka() == null ? null : new KafkaGroundTruth(options.kafka(), options.topics(),
                options.auth() == null ? java.util.Map.of() : options.auth().privateOwners());
            return execute(options, processes, truth, "kafka", out, err).exitStatus();
        } catch (Exception e) {
            err.println("odin-ws loadtest: run failed: " + e);
            return RUN_ERROR;
        }
    }

    /**
     * Runs with the given ground truth (null: loss not measured) in this process, prints the report to
     * {@code out} (and to --report), prints failed expectations to {@code err}, and returns both.
     */
    public static Result execute(LoadTestOptions options, GroundTruth truth, String truthSource, PrintStream out,
                                 PrintStream err) throws Exception {
        return execute(options, 1, truth, truthSource, out, err);
    }

    static Result execute(LoadTestOptions options, int processes, GroundTruth truth, String truthSource, PrintStream out,
                          PrintStream err) throws Exception {
        List<String> failures = new ArrayList<>();
        NchanPublisher.InRun publisher = NchanPublisher.startForRun(options, err); // null unless --nchan-publish
        JsonObject report;
        try {
            report = runClients(options, processes, truth, truthSource, failures, err);
        } finally {
            if (publisher != null) publisher.publisher().stop();
        }
        current = null;
        if (options.nchan() != null) {
            report.put("protocol", options.protocol());
            if (publisher != null) report.put("nchan_publisher", publisher.finish());
        }
        List<Report.Check> checks = new ArrayList<>(Report.check(options, report));
        for (String f : failures) checks.add(new Report.Check("--processes", false, f));
        int status = Report.conclude(report, checks);
        out.println(report.encodePrettily());
        out.flush();
        if (options.reportFile() != null) Report.writeFile(options.reportFile(), report);
        for (Report.Check c : checks) if (!c.ok()) err.println("loadtest: FAILED " + c.message());
        if (status == OK && !checks.isEmpty()) err.println("loadtest: all " + checks.size() + " expectations met");
        return new Result(report, status);
    }

    /** The clients' part of a run, in this process or spread over child processes; returns the (merged) report. */
    private static JsonObject runClients(LoadTestOptions options, int processes, GroundTruth truth, String truthSource,
                                         List<String> failures, PrintStream err) throws Exception {
        if (processes > 1) {
            if (truth != null) truth.close(); // each child runs its own consumer
            ProcessSpreader spreader = new ProcessSpreader(options, processes, err);
            current = spreader::requestStop;
            return spreader.run(failures);
        }
        err.println("loadtest: " + options.connections() + " connections to " + options.url() + ", subscribe "
                + options.subscribe() + " over " + options.channels().size() + " channels, " + options.durationSeconds() + " s"
                + (options.nchan() != null ? ", protocol nchan" : ""));
        Progress progress = new Progress(err);
        LoadRunner runner = new LoadRunner(options, truth, truthSource, progress::print);
        // the first connect follows this line at once (tokens minted, ground truth started): make bench's S8 times
        // the server's CPU from here
        runner.onConnecting(() -> err.println("loadtest: connecting"));
        current = runner::requestStop;
        try {
            return runner.run();
        } finally {
            if (truth != null) truth.close();
        }
    }

    /** A child: progress and report as marked JSON lines on stdout, read by the parent. */
    private static int runChild(LoadTestOptions options, PrintStream out) throws Exception {
        GroundTruth truth = options.kafka() == null ? null : new KafkaGroundTruth(options.kafka(), options.topics(),
                options.auth() == null ? java.util.Map.of() : options.auth().privateOwners());
        LoadRunner runner = new LoadRunner(options, truth, "kafka", s -> {
            synchronized (out) {
                out.println(ProcessSpreader.MARK + Progress.toJson(s).encode());
                out.flush();
            }
        });
        current = runner::requestStop;
        JsonObject report;
        try {
            report = runner.run();
        } finally {
            if (truth != null) truth.close();
        }
        synchronized (out) {
            out.println(ProcessSpreader.MARK + report.encode());
            out.flush();
        }
        return OK;
    }
}
