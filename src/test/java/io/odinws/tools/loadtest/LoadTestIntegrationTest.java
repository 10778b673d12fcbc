package io.odinws.tools.loadtest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.odinws.testkit.Await;
import io.odinws.testkit.Paced;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The generator against {@link FakeOdinServer}: exact fault accounting, expectations, ramp and progress. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class LoadTestIntegrationTest {
    private FakeOdinServer server;
    private int port;
    private final ByteArrayOutputStream outBuf = new ByteArrayOutputStream();
    private final ByteArrayOutputStream errBuf = new ByteArrayOutputStream();
    private final PrintStream out = new PrintStream(outBuf, true, StandardCharsets.UTF_8);
    private final PrintStream err = new PrintStream(errBuf, true, StandardCharsets.UTF_8);

    @BeforeEach
    void start() throws Exception {
        server = new FakeOdinServer();
        port = server.start(0);
    }

    @AfterEach
    void stop() throws Exception {
        server.close();
    }

    private LoadTestOptions options(String... extra) {
        List<String> a = new ArrayList<>(List.of("--url", "ws://127.0.0.1:" + port + "/ws", "--seed", "1"));
        a.addAll(List.of(extra));
        return LoadTestOptions.parse(a.toArray(new String[0]));
    }

    private CompletableFuture<LoadTest.Result> runAsync(LoadTestOptions o, GroundTruth truth) {
        return CompletableFuture.supplyAsync(() -> {
            try {
                return LoadTest.execute(o, truth, "injected", out, err);
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
    }

    private void awaitSubscribed(int sessions) {
        Await.until(sessions + " sessions subscribed", Duration.ofSeconds(10), () -> server.subscribedSessions() >= sessions,
                () -> "only " + server.subscribedSessions());
    }

    /**
     * Per channel 20 records; the server DROPS k=2 and k=9, sends k=7 and k=12 TWICE, sends k=15 again after
     * k=17 (a duplicate below the highest), and SWAPS k=5/6 and k=14/15. Per client and channel that is 2
     * missing, 3 duplicates and 2 out of order; 4 clients x 3 channels.
     */
    @Test
    void reportCountsExactlyTheScriptedDropsDuplicatesAndReorders() throws Exception {
        LoadTestOptions o = options("--connections", "4", "--subscribe", "all", "--channels", "BTC.trade,ETH.trade,SOL.liquidity",
                "--duration", "3", "--heartbeat", "0", "--loss-grace-ms", "100", "--expect-connections", "4", "--max-loss", "0");
        CompletableFuture<LoadTest.Result> run = runAsync(o, server.truth());
        awaitSubscribed(4);
        // Loss is counted from each client's ack + --loss-grace-ms: produce only once that window is open for all
        // (the client reads its ack a moment after the server sent it, hence the margin).
        long windowOpen = server.lastAckSentMillis() + 100 + 100;
        Await.until("every client's loss window open", Duration.ofSeconds(10), () -> System.currentTimeMillis() >= windowOpen);
        String[] channels = {"BTC.trade", "ETH.trade", "SOL.liquidity"};
        long[] base = {1000, 1000, 7}; // BTC and ETH reuse the same offsets: order is per channel
        long[] step = {3, 2, 5};       // gaps: a partition carries other tokens too
        Set<Integer> drop = Set.of(2, 9);
        Set<Integer> dup = Set.of(7, 12);
        Set<Integer> swapFirst = Set.of(5, 14);
        String[] held = new String[3];
        String[] frame15 = new String[3];
        for (int k = 0; k < 20; k++) {
            for (int c = 0; c < 3; c++) {
                String ch = channels[c];
                String f = server.produce(ch, c, base[c] + step[c] * k);
                if (k == 15) frame15[c] = f;
                if (drop.contains(k)) continue;
                if (swapFirst.contains(k)) {
                    held[c] = f; // sent after the next one
                    continue;
                }
                server.send(ch, f);
                if (held[c] != null) {
                    server.send(ch, held[c]);
                    held[c] = null;
                }
                if (dup.contains(k)) server.send(ch, f);
                if (k == 17) server.send(ch, frame15[c]);
            }
        }
        LoadTest.Result result = run.get(20, TimeUnit.SECONDS);
        JsonObject r = result.report();
        int pairs = 4 * 3;
        JsonObject m = r.getJsonObject("messages");
        assertEquals((20L - 2 + 3) * pairs, m.getLong("received"), r.encodePrettily());
        assertEquals(3L * pairs, m.getLong("duplicates"));
        assertEquals(2L * pairs, m.getLong("out_of_order"));
        assertEquals(0L, m.getLong("beyond_seq_window"));
        for (String ch : channels) {
            JsonObject per = m.getJsonObject("order_by_channel").getJsonObject(ch);
            assertEquals(3L * 4, per.getLong("duplicates"), ch);
            assertEquals(2L * 4, per.getLong("out_of_order"), ch);
        }
        assertEquals(0L, m.getLong("unexpected_channel"));
        assertEquals(0L, m.getLong("unparsable"));
        JsonObject loss = r.getJsonObject("loss");
        assertEquals(20L * pairs, loss.getLong("expected"));
        assertEquals(2L * pairs, loss.getLong("missing"));
        assertEquals(4L, loss.getLong("clients_with_loss"));
        assertEquals("injected", loss.getString("source"));
        // latency: every delivered, non-duplicate message measured both ways
        long delivered = (20L - 2) * pairs;
        assertEquals(delivered, r.getJsonObject("latency_ms").getJsonObject("producer_to_client").getLong("count"));
        assertEquals(delivered, r.getJsonObject("latency_ms").getJsonObject("server_to_client").getLong("count"));
        assertEquals(4L, r.getJsonObject("connections").getLong("held_at_end"));
        assertEquals(4L, r.getJsonObject("acks").getLong("subscription_ack"));
        assertEquals(0L, r.getJsonObject("errors").getLong("total"), r.getJsonObject("errors").encode());
        // --expect-connections met, --max-loss 0 not: exit status 1 and a line saying which
        assertEquals(1, result.exitStatus());
        JsonArray ex = r.getJsonArray("expectations");
        assertTrue(ex.getJsonObject(0).getBoolean("ok"), ex.encode());
        assertFalse(ex.getJsonObject(1).getBoolean("ok"), ex.encode());
        String errText = errBuf.toString(StandardCharsets.UTF_8);
        assertTrue(errText.contains("FAILED --max-loss 0: 24 of 240 expected deliveries missing"), errText);
        assertTrue(outBuf.toString(StandardCharsets.UTF_8).contains("\"exit_status\" : 1"), "report on stdout");
    }

    @Test
    void expectConnectionsFailsWhenTheServerRefusesSome() throws Exception {
        server.capacity = 3;
        LoadTestOptions o = options("--connections", "5", "--duration", "2", "--channels", "A.x,B.y", "--expect-connections", "5");
        LoadTest.Result result = runAsync(o, null).get(20, TimeUnit.SECONDS);
        JsonObject r = result.report();
        assertEquals(1, result.exitStatus());
        JsonObject c = r.getJsonObject("connections");
        assertEquals(5L, c.getLong("attempted"));
        assertEquals(3L, c.getLong("opened"));
        assertEquals(2L, c.getLong("failed"));
        assertEquals(3L, c.getLong("held_at_end"));
        assertEquals(2L, r.getJsonObject("errors").getJsonObject("by_kind").getLong("handshake_http_503"));
        assertEquals(2L, r.getJsonObject("refusals_by_status").getLong("503"), "reported by status");
        assertEquals(null, r.getValue("loss"), "no truth: loss is null");
        assertTrue(errBuf.toString(StandardCharsets.UTF_8).contains("FAILED --expect-connections 5: 3 clients"), errBuf.toString());
    }

    /**
     * The first three upgrades get 429 with Retry-After 2: with --recover each refused client comes back no sooner
     * than 2 s later (its usual first backoff is 50 to 100 ms), and the report counts the refusals by status.
     */
    @Test
    void recoverHonoursRetryAfterAndReportsRefusalsByStatus() throws Exception {
        server.rateLimitFirst = 3;
        server.rateRetryAfter = "2";
        LoadTestOptions o = options("--connections", "3", "--duration", "6", "--channels", "A.x", "--recover", "--heartbeat", "0",
                "--expect-connections", "3");
        LoadTest.Result result = runAsync(o, null).get(30, TimeUnit.SECONDS);
        JsonObject r = result.report();
        assertEquals(0, result.exitStatus(), r.encodePrettily());
        assertEquals(3L, r.getJsonObject("refusals_by_status").getLong("429"), r.encodePrettily());
        assertEquals(null, r.getJsonObject("refusals_by_status").getValue("503"));
        JsonObject c = r.getJsonObject("connections");
        assertEquals(3L, c.getLong("retry_after_waits"));
        assertEquals(3L, c.getLong("held_at_end"));
        assertEquals(3, server.rateLimitedAt.size());
        assertEquals(3, server.acceptedAt.size(), "each refused client came back once");
        long firstRefusal = server.rateLimitedAt.stream().mapToLong(Long::longValue).min().orElseThrow();
        long firstRetry = server.acceptedAt.stream().mapToLong(Long::longValue).min().orElseThrow();
        assertTrue(firstRetry - firstRefusal >= TimeUnit.SECONDS.toNanos(2),
                "no client retried before Retry-After: " + (firstRetry - firstRefusal) / 1_000_000 + " ms");
    }

    @Test
    void expectationsMetMeansExitZero() throws Exception {
        LoadTestOptions o = options("--connections", "3", "--duration", "1", "--channels", "A.x", "--expect-connections", "3",
                "--max-loss", "0");
        LoadTest.Result result = runAsync(o, server.truth()).get(20, TimeUnit.SECONDS);
        assertEquals(0, result.exitStatus(), result.report().encodePrettily());
        assertEquals(0L, result.report().getJsonObject("loss").getLong("expected"));
    }

    @Test
    void serverClosesAreCountedByCodeAndRecoverReconnectsWithLastOffset() throws Exception {
        LoadTestOptions o = options("--connections", "2", "--duration", "3", "--channels", "A.x", "--recover", "--heartbeat", "0");
        CompletableFuture<LoadTest.Result> run = runAsync(o, null);
        awaitSubscribed(2);
        server.publish("A.x", 4, 41);
        // no wait: the close frame follows the message on the same socket, so each client reads 4:41 first
        for (FakeOdinServer.Session s : server.sessions) s.ws.close((short) 1012, "restart");
        LoadTest.Result result = run.get(20, TimeUnit.SECONDS);
        JsonObject r = result.report();
        assertEquals(2L, r.getJsonObject("closes_by_code").getLong("1012"), r.encodePrettily());
        assertEquals(2L, r.getJsonObject("connections").getLong("reconnected"));
        assertEquals(2L, r.getJsonObject("connections").getLong("held_at_end"));
        assertEquals(2L, r.getJsonObject("acks").getLong("reconnect_ack"), "reconnect sent with last_offset 4:41");
        assertEquals(4L, r.getJsonObject("acks").getLong("subscription_ack"));
    }

    /**
     * --drop-fraction 0.5 of 40 clients at 2 s: the 20 chosen ones (even indexes) are reset, which the server sees
     * as a session ended without a close frame; they come back, and each sends reconnect with its positions.
     */
    @Test
    void dropResetsHalfTheClientsThatComeBackAndRecover() throws Exception {
        LoadTestOptions o = options("--connections", "40", "--duration", "4", "--channels", "A.x,B.y", "--subscribe", "all",
                "--recover", "--heartbeat", "0", "--drop-fraction", "0.5", "--drop-after", "2");
        CompletableFuture<LoadTest.Result> run = runAsync(o, null);
        awaitSubscribed(40);
        server.publish("A.x", 3, 30); // every client then has a position to send on reconnect
        server.publish("B.y", 5, 50);
        Await.until("the 20 resets", Duration.ofSeconds(10), () -> server.closedWithoutFrame.get() == 20);
        LoadTest.Result result = run.get(20, TimeUnit.SECONDS);
        JsonObject r = result.report();
        JsonObject d = r.getJsonObject("drop");
        assertEquals(0.5, d.getDouble("fraction"), r.encodePrettily());
        assertEquals(2, d.getInteger("after_s"));
        assertTrue(d.getDouble("dropped_at_s") >= 2.0, d.encode()); // not before --drop-after; how late is the machine's
        assertEquals(20L, d.getLong("selected"));
        assertEquals(20L, d.getLong("dropped"), d.encode());
        assertEquals(20L, d.getLong("back"), d.encode());
        assertEquals(20L, d.getLong("recovered"), d.encode());
        assertEquals(0L, d.getLong("not_recovered"));
        double allBack = d.getDouble("all_back_ms");
        assertTrue(allBack > 0 && d.getDouble("p50_back_ms") <= allBack, d.encode());
        assertTrue(d.getDouble("all_recovered_ms") > 0, d.encode());
        assertEquals(20, server.reconnects.get(), "one reconnect per dropped client");
        assertEquals(20, server.closedWithoutFrame.get(), "resets only: the run's end closes with a close frame");
        assertEquals(20L, r.getJsonObject("connections").getLong("reconnected"));
        assertEquals(40L, r.getJsonObject("connections").getLong("held_at_end"));
        assertEquals(20L, r.getJsonObject("acks").getLong("reconnect_ack"));
        assertTrue(r.getJsonObject("closes_by_code").isEmpty(), "the drop is not a close the clients saw");
        assertEquals(80L, r.getJsonObject("messages").getLong("received"));
        assertTrue(errBuf.toString(StandardCharsets.UTF_8).contains("dropped 20 back 20"), errBuf.toString());
    }

    /**
     * 8 clients, one channel each (round-robin over 4): the dropped ones are 0 and 4 on A.x, which has had a message
     * and which the server reports recovered:false, and 2 and 6 on C.z, which have no position: back is recovered.
     */
    @Test
    void dropCountsNotRecoveredAndRecoversClientsWithoutAPosition() throws Exception {
        server.notRecovered.add("A.x");
        LoadTestOptions o = options("--connections", "8", "--duration", "4", "--channels", "A.x,B.y,C.z,D.w",
                "--recover", "--heartbeat", "0", "--drop-fraction", "0.5", "--drop-after", "2");
        CompletableFuture<LoadTest.Result> run = runAsync(o, null);
        awaitSubscribed(8);
        server.publish("A.x", 0, 7);
        JsonObject d = run.get(20, TimeUnit.SECONDS).report().getJsonObject("drop");
        assertEquals(4L, d.getLong("dropped"), d.encode());
        assertEquals(4L, d.getLong("back"), d.encode());
        assertEquals(2L, d.getLong("recovered"), d.encode());
        assertEquals(2L, d.getLong("not_recovered"), d.encode());
        assertTrue(d.getDouble("all_back_ms") > 0, d.encode());
        assertNull(d.getValue("all_recovered_ms"), "not all recovered");
        assertEquals(2, server.reconnects.get(), "only the clients with a position ask");
    }

    /** Two child JVMs (source addresses 127.0.0.2 and .3), their reports merged by the parent. */
    @Test
    void spreadOverTwoProcessesMergesReports() throws Exception {
        // Each child is a JVM of its own: on a loaded machine it can take several seconds to start and connect,
        // and clients not connected when its --duration ends would fail --expect-connections.
        LoadTestOptions o = options("--connections", "20", "--processes", "2", "--duration", "10", "--channels", "A.x,B.y",
                "--subscribe", "all", "--expect-connections", "20");
        LoadTest.Result result;
        try (Paced producing = Paced.every(Duration.ofMillis(20), "fake-publisher", offset -> {
            server.publish("A.x", 0, offset);
            server.publish("B.y", 1, offset);
        })) {
            result = CompletableFuture.supplyAsync(() -> {
                try {
                    return LoadTest.execute(o, 2, null, "none", out, err);
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            }).get(40, TimeUnit.SECONDS);
        }
        JsonObject r = result.report();
        assertEquals(0, result.exitStatus(), r.encodePrettily() + errBuf);
        assertEquals(2, r.getInteger("processes"));
        assertEquals(20L, r.getJsonObject("connections").getLong("held_at_end"));
        JsonArray per = r.getJsonArray("per_process");
        assertEquals(10L, per.getJsonObject(0).getLong("held_at_end"));
        assertEquals(10L, per.getJsonObject(1).getLong("held_at_end"));
        long received = r.getJsonObject("messages").getLong("received");
        assertEquals(per.getJsonObject(0).getLong("received") + per.getJsonObject(1).getLong("received"), received);
        assertTrue(received > 0);
        assertEquals(received, r.getJsonObject("latency_ms").getJsonObject("server_to_client").getLong("count"),
                "merged histogram holds every sample");
        assertTrue(errBuf.toString(StandardCharsets.UTF_8).contains("2 processes, 20 connections"));
        boolean fromSecondAddress = false;
        for (FakeOdinServer.Session s : server.sessionsSeen) fromSecondAddress |= s.ws.remoteAddress().host().equals("127.0.0.3");
        assertTrue(fromSecondAddress, "the second process binds 127.0.0.3");
    }

    @Test
    void badCommandLineIsExitStatusTwo() {
        assertEquals(LoadTest.USAGE_ERROR, LoadTest.run(new String[] {"--connections", "0"}, out, err));
        assertTrue(errBuf.toString(StandardCharsets.UTF_8).contains("--connections"));
    }

    /**
     * 200 clients at 100/s: progress shows the ramp, and the run ends on its own. The duration is well past the ramp,
     * which a busy machine stretches, so the last clients are subscribed before the end.
     */
    @Test
    void smoke200ConnectionsRampProgressAndSelfStop() throws Exception {
        LoadTestOptions o = options("--connections", "200", "--ramp", "100/s", "--duration", "6", "--heartbeat", "1",
                "--subscribe", "random:2", "--tokens", "BTC,ETH,SOL", "--categories", "trade,analytics",
                "--expect-connections", "200"); // no --max-p99-ms: latency is the machine's; ReportTest checks that expectation
        LoadTest.Result result;
        // every 100 ms: enough messages, not a load the fake server falls behind on
        try (Paced producing = Paced.every(Duration.ofMillis(100), "fake-publisher", offset -> {
            for (String ch : o.channels()) server.publish(ch, 0, offset);
        })) {
            result = runAsync(o, null).get(30, TimeUnit.SECONDS);
        }
        // it ended by itself: the get above
        JsonObject r = result.report();
        assertEquals(0, result.exitStatus(), r.encodePrettily());
        JsonObject c = r.getJsonObject("connections");
        assertEquals(200L, c.getLong("opened"));
        assertEquals(200L, c.getLong("held_at_end"));
        double ramp = r.getDouble("ramp_s");
        assertTrue(ramp > 1.7, "paced by the ramp: last client opened at " + ramp + " s");
        assertTrue(r.getJsonObject("messages").getLong("received") > 1000, r.getJsonObject("messages").encode());
        assertTrue(server.heartbeats.get() >= 200, "heartbeats: " + server.heartbeats.get());
        // progress: one line per second, the open count climbing with the ramp
        String text = errBuf.toString(StandardCharsets.UTF_8);
        Matcher mm = Pattern.compile("\\] open (\\d+)/200 acks (\\d+) recv/s (\\d+) e2e p50/p99 (\\S+)").matcher(text);
        List<Integer> open = new ArrayList<>();
        while (mm.find()) open.add(Integer.parseInt(mm.group(1)));
        assertTrue(open.size() >= 3, text);
        assertTrue(open.get(0) < 200, "the first line shows the ramp under way: " + open);
        for (int i = 1; i < open.size(); i++) assertTrue(open.get(i) >= open.get(i - 1), "climbing: " + open);
        assertEquals(200, open.get(open.size() - 1), text);
        assertTrue(text.contains("recv/s") && text.contains("closes {}"), text);
    }
}
