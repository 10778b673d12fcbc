package io.odinws.tools.loadtest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.json.JsonObject;
import java.io.PipedInputStream;
import java.io.PipedOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class ReportTest {
    private static JsonObject report(LoadTestOptions o, long[] micros, int held, LossCalculator.Loss loss) {
        Stats s = new Stats(o.channels().size());
        for (long m : micros) {
            Stats.record(s.producerToClient, m, s.clockSkew);
            Stats.record(s.serverToClient, m / 2, s.clockSkew);
        }
        s.received.add(micros.length);
        s.attempted.add(held + 1);
        s.opened.add(held);
        s.close(1006);
        s.error("connect_refused");
        s.ack("subscription_ack");
        s.duplicate(0);
        s.interval();
        return Report.build(new Report.Local(o, s, 0, 10, held, 1.5, loss, "injected"));
    }

    /** One delivery's latency, the same from the producer and from the server. */
    private static void delivery(Stats s, long micros) {
        Stats.record(s.producerToClient, micros, s.clockSkew);
        Stats.record(s.serverToClient, micros, s.clockSkew);
    }

    /** Ends the current second, then builds the report of {@code s} with {@code received} messages. */
    private static JsonObject lastSecondReported(LoadTestOptions o, Stats s, long received) {
        s.interval();
        s.received.add(received);
        return Report.build(new Report.Local(o, s, 0, 10, 10, 1.5, null, "injected"));
    }

    @Test
    void measureRestartsTheLatencyTotalsFromTheNextSecond() throws Exception {
        LoadTestOptions o = LoadTestOptions.parse(new String[] {"--connections", "10", "--control-stdin"});
        assertTrue(o.controlStdin());
        assertTrue(o.toArgs().contains("--control-stdin"), "passed on to child processes");
        Stats s = new Stats(o.channels().size());
        PipedOutputStream harness = new PipedOutputStream();
        CountDownLatch told = new CountDownLatch(1);
        StdinCommands.read(new PipedInputStream(harness), line -> {
            if (StdinCommands.apply(line, s) != null) {
                told.countDown();
            }
        });
        for (long slow : new long[] {900_000, 800_000}) { // the stream's first second: left out
            delivery(s, slow);
        }
        harness.write((StdinCommands.MEASURE + "\n").getBytes(StandardCharsets.UTF_8));
        harness.flush();
        assertTrue(told.await(10, TimeUnit.SECONDS), "the command was read");
        s.interval(); // the second in which it came: still before the window
        for (int i = 0; i < 100; i++) {
            delivery(s, 1_000);
        }
        JsonObject r = lastSecondReported(o, s, 102);
        JsonObject p = r.getJsonObject("latency_ms").getJsonObject("producer_to_client");
        assertEquals(100L, p.getLong("count"));
        assertEquals(1.0, p.getDouble("max"), 0.01);
        assertEquals(2L, r.getJsonObject("messages").getLong("latency_left_out"));
        JsonObject whole = r.getJsonObject("latency_ms").getJsonObject(Report.WHOLE_RUN);
        assertEquals(102L, whole.getLong("count"), "the window's samples and those it left out");
        assertEquals(900.0, whole.getDouble("max"), 1.0);
        JsonObject merged = Report.merge(List.of(r, r)).getJsonObject("latency_ms");
        assertEquals(200L, merged.getJsonObject("server_to_client").getLong("count"));
        assertEquals(204L, merged.getJsonObject(Report.WHOLE_RUN).getLong("count"));
        harness.close();
    }

    @Test
    void holdEndsTheLatencyTotalsWithTheCurrentSecond() {
        LoadTestOptions o = LoadTestOptions.parse(new String[] {"--connections", "10", "--control-stdin"});
        Stats s = new Stats(o.channels().size());
        assertNull(StdinCommands.apply("bogus", s), "an unknown command does nothing");
        StdinCommands.apply(StdinCommands.MEASURE, s);
        s.interval(); // nothing yet: the window starts at the next second
        for (int i = 0; i < 100; i++) {
            delivery(s, 1_000);
        }
        StdinCommands.apply(StdinCommands.HOLD, s);
        delivery(s, 2_000); // the same second: still in the window
        s.interval();
        for (long slow : new long[] {700_000, 600_000, 500_000}) { // after the window: the harness's own end
            delivery(s, slow);
        }
        JsonObject r = lastSecondReported(o, s, 104);
        JsonObject window = r.getJsonObject("latency_ms").getJsonObject("server_to_client");
        assertEquals(101L, window.getLong("count"));
        assertEquals(2.0, window.getDouble("max"), 0.01);
        assertEquals(101L, r.getJsonObject("latency_ms").getJsonObject("producer_to_client").getLong("count"));
        assertEquals(3L, r.getJsonObject("messages").getLong("latency_left_out"));
        JsonObject whole = r.getJsonObject("latency_ms").getJsonObject(Report.WHOLE_RUN);
        assertEquals(104L, whole.getLong("count"), "the window's samples and those after it");
        assertEquals(700.0, whole.getDouble("max"), 1.0);
    }

    @Test
    void buildPercentilesAndChecks() {
        LoadTestOptions o = LoadTestOptions.parse(new String[] {"--connections", "10", "--expect-connections", "10",
                "--max-p99-ms", "50", "--max-loss", "0.01"});
        long[] lat = new long[1000];
        for (int i = 0; i < lat.length; i++) lat[i] = (i + 1) * 100L; // 0.1 .. 100 ms
        JsonObject r = report(o, lat, 9, new LossCalculator.Loss(1000, 5, 9, 9, 1));
        JsonObject p = r.getJsonObject("latency_ms").getJsonObject("producer_to_client");
        assertEquals(1000L, p.getLong("count"));
        assertEquals(50.0, p.getDouble("p50"), 0.1);
        assertEquals(99.0, p.getDouble("p99"), 0.1);
        assertEquals(100.0, p.getDouble("max"), 0.1);
        assertFalse(r.getJsonObject("latency_ms").containsKey(Report.WHOLE_RUN), "no measure: the totals are the whole run");
        assertEquals(0.005, r.getJsonObject("loss").getDouble("fraction"), 1e-12);
        assertEquals(100.0, r.getJsonObject("messages").getDouble("rate_per_s"));
        List<Report.Check> checks = Report.check(o, r);
        assertEquals(3, checks.size());
        assertFalse(checks.get(0).ok(), "9 held < 10 expected: " + checks.get(0).message());
        assertTrue(checks.get(0).message().contains("--expect-connections 10: 9"), checks.get(0).message());
        assertFalse(checks.get(1).ok(), "p99 99 ms > 50: " + checks.get(1).message());
        assertTrue(checks.get(1).message().contains("producer_to_client"), checks.get(1).message());
        assertTrue(checks.get(2).ok(), checks.get(2).message());
        assertEquals(1, Report.conclude(r, checks));
        assertEquals(1, r.getInteger("exit_status"));
    }

    @Test
    void maxLossWithoutTruthFails() {
        LoadTestOptions o = LoadTestOptions.parse(new String[] {"--max-loss", "0.5"});
        JsonObject r = report(o, new long[] {1000}, 1, null);
        List<Report.Check> checks = Report.check(o, r);
        assertFalse(checks.get(0).ok());
        assertTrue(checks.get(0).message().contains("needs --kafka"), checks.get(0).message());
    }

    @Test
    void mergeAddsCountsAndHistogramsExactly() {
        LoadTestOptions o = LoadTestOptions.parse(new String[] {"--connections", "10"});
        long[] fast = new long[900];
        java.util.Arrays.fill(fast, 1_000); // 1 ms
        long[] slow = new long[100];
        java.util.Arrays.fill(slow, 200_000); // 200 ms
        JsonObject a = report(o, fast, 5, new LossCalculator.Loss(100, 1, 5, 5, 1));
        // through JSON text, as it comes from a child process
        JsonObject b = new JsonObject(report(o, slow, 4, new LossCalculator.Loss(300, 2, 4, 4, 2)).encode());
        JsonObject m = Report.merge(List.of(a, b));
        assertEquals(2, m.getInteger("processes"));
        assertEquals(9L, m.getJsonObject("connections").getLong("held_at_end"));
        assertEquals(20L, m.getJsonObject("connections").getLong("target"));
        assertEquals(2L, m.getJsonObject("connections").getLong("failed"));
        assertEquals(1000L, m.getJsonObject("messages").getLong("received"));
        assertEquals(2L, m.getJsonObject("closes_by_code").getLong("1006"));
        assertEquals(2L, m.getJsonObject("messages").getJsonObject("order_by_channel").getJsonObject("BTC.trade").getLong("duplicates"));
        assertEquals(2L, m.getJsonObject("errors").getJsonObject("by_kind").getLong("connect_refused"));
        JsonObject p = m.getJsonObject("latency_ms").getJsonObject("producer_to_client");
        assertEquals(1000L, p.getLong("count"));
        assertEquals(1.0, p.getDouble("p50"), 0.01);
        assertEquals(200.0, p.getDouble("p99"), 0.5, "p99 of the merged histogram, not an average of p99s");
        JsonObject loss = m.getJsonObject("loss");
        assertEquals(400L, loss.getLong("expected"));
        assertEquals(3L, loss.getLong("missing"));
        assertEquals(2000L, loss.getLong("grace_ms"), "grace is not summed");
        assertEquals(0.0075, loss.getDouble("fraction"), 1e-12);
        assertEquals(2, m.getJsonArray("per_process").size());
        JsonObject unknown = Report.merge(List.of(a, report(o, slow, 4, null)));
        assertEquals(null, unknown.getValue("loss"), "one process without truth: loss unknown");
        assertTrue(m.containsKey("drop") && m.getValue("drop") == null, "no drop configured: drop is null");
    }

    /** One process's drop: {@code backMs[i]} / {@code recoveredMs[i]} per dropped client, -1 = never. */
    private static JsonObject dropReport(LoadTestOptions o, long atMillis, long[] backMs, long[] recoveredMs, int notRecovered) {
        Stats s = new Stats(o.channels().size());
        s.dropSelected.add(backMs.length);
        s.dropped.add(backMs.length);
        s.dropAtMillis = atMillis;
        for (long b : backMs) {
            if (b < 0) continue;
            s.dropBack.increment();
            s.dropToBack.recordValue(b * 1000);
        }
        for (long r : recoveredMs) {
            s.dropRecovered.increment();
            s.dropToRecovered.recordValue(r * 1000);
        }
        s.dropNotRecovered.add(notRecovered);
        s.interval();
        return Report.build(new Report.Local(o, s, 0, 10, backMs.length, 1, null, "none"));
    }

    @Test
    void dropSectionIsBuiltAndMergedAcrossProcesses() {
        LoadTestOptions o = LoadTestOptions.parse(new String[] {"--connections", "10", "--recover", "--drop-fraction", "0.5",
                "--drop-after", "5"});
        JsonObject a = dropReport(o, 5_010, new long[] {100, 200, 300, 400, 500}, new long[] {150, 250, 350, 450}, 1);
        JsonObject da = a.getJsonObject("drop");
        assertEquals(0.5, da.getDouble("fraction"));
        assertEquals(5, da.getInteger("after_s"));
        assertEquals(5.01, da.getDouble("dropped_at_s"));
        assertEquals(5L, da.getLong("back"));
        assertEquals(500.0, da.getDouble("all_back_ms"), 0.5);
        assertEquals(300.0, da.getDouble("p50_back_ms"), 0.5);
        assertNull(da.getValue("all_recovered_ms"), "one of five not recovered");
        // through JSON text, as it comes from a child process
        JsonObject b = new JsonObject(dropReport(o, 5_020, new long[] {700, 900, 800, 600}, new long[] {710, 910, 810, 610}, 0).encode());
        assertEquals(910.0, b.getJsonObject("drop").getDouble("all_recovered_ms"), 1.0, "all four recovered");
        JsonObject d = Report.merge(List.of(a, b)).getJsonObject("drop");
        assertEquals(0.5, d.getDouble("fraction"), "settings are not summed");
        assertEquals(5, d.getInteger("after_s"));
        assertEquals(5.02, d.getDouble("dropped_at_s"), "the later of the two processes' drops");
        assertEquals(9L, d.getLong("selected"));
        assertEquals(9L, d.getLong("dropped"));
        assertEquals(9L, d.getLong("back"));
        assertEquals(8L, d.getLong("recovered"));
        assertEquals(1L, d.getLong("not_recovered"));
        assertEquals(900.0, d.getDouble("all_back_ms"), 1.0, "max over both processes");
        assertEquals(500.0, d.getDouble("p50_back_ms"), 0.5, "median of the merged histogram");
        assertNull(d.getValue("all_recovered_ms"));
        assertEquals(450.0, d.getDouble("p50_recovered_ms"), 0.5);
        // a client that never came back: nobody can say when all were back
        JsonObject late = dropReport(o, 5_000, new long[] {100, -1}, new long[] {100}, 0);
        assertNull(Report.merge(List.of(b, late)).getJsonObject("drop").getValue("all_back_ms"));
        assertEquals(910.0, Report.merge(List.of(b, b)).getJsonObject("drop").getDouble("all_recovered_ms"), 1.0);
    }
}
