package io.odinws.tools.loadtest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.odinws.testkit.FreePorts;
import io.vertx.core.json.JsonObject;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The generator in nchan mode against a real nchan (nginx + libnginx-mod-nchan extracted by
 * bench/nchan/setup.sh), started with bench/nchan/start.sh on a free port in a private run directory.
 * Skipped, not failed, where nchan is not set up (a fresh machine or CI).
 */
@Timeout(value = 90, unit = TimeUnit.SECONDS)
class NchanIntegrationTest {
    private static final Path BENCH = Path.of("bench", "nchan").toAbsolutePath();
    private static final boolean SET_UP = Files.isExecutable(BENCH.resolve("root/usr/sbin/nginx"))
            && Files.isRegularFile(BENCH.resolve("start.sh"));
    private static Path runDir;
    private static int port;

    @BeforeAll
    static void startNchan() throws Exception {
        if (!SET_UP) return; // each test is skipped, with the reason
        runDir = Files.createTempDirectory("nchan-it");
        Files.setPosixFilePermissions(runDir, PosixFilePermissions.fromString("rwxr-xr-x")); // nginx's worker runs as nobody
        port = FreePorts.one(); // nginx binds it later
        String out = script("start.sh", String.valueOf(port));
        assertNotNull(out);
    }

    @AfterAll
    static void stopNchan() throws Exception {
        if (runDir == null) return;
        try {
            script("stop.sh");
        } finally {
            try (Stream<Path> files = Files.walk(runDir)) {
                files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }

    /** Runs a bench/nchan script with the private run directory; fails the test on a non-zero exit. */
    private static String script(String name, String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of("bash", BENCH.resolve(name).toString()));
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        pb.environment().put("NCHAN_RUN_DIR", runDir.toString());
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError(name + " did not finish: " + out);
        }
        assertEquals(0, p.exitValue(), name + " failed: " + out);
        return out;
    }

    private static JsonObject run(String... args) throws Exception {
        assumeTrue(SET_UP, "nchan is not set up (bench/nchan/setup.sh extracts it into bench/nchan/root/): skipped");
        List<String> a = new ArrayList<>(List.of("--protocol", "nchan", "--url", "ws://127.0.0.1:" + port,
                "--nchan-publish", "http://127.0.0.1:" + port, "--seed", "1", "--heartbeat", "0"));
        a.addAll(List.of(args));
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        LoadTest.Result r = LoadTest.execute(LoadTestOptions.parse(a.toArray(new String[0])), null, "none",
                new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));
        assertEquals(LoadTest.OK, r.exitStatus(), err.toString(StandardCharsets.UTF_8));
        return r.report();
    }

    @Test
    void hundredSubscribersReceiveEveryOneOfFiftyMessages() throws Exception {
        JsonObject r = run("--connections", "100", "--channels", "HOT.trade", "--duration", "10",
                "--nchan-rate", "100", "--nchan-count", "50", "--expect-connections", "100");
        String report = r.encodePrettily();
        assertEquals("nchan", r.getString("protocol"));
        JsonObject c = r.getJsonObject("connections");
        assertEquals(100L, c.getLong("opened"), report);
        assertEquals(100L, c.getLong("subscribed"), report);
        assertEquals(100L, c.getLong("held_at_end"), report);
        JsonObject pub = r.getJsonObject("nchan_publisher");
        assertEquals(50L, pub.getLong("sent"), report);
        assertEquals(50L, pub.getLong("delivered_201"), "every POST found subscribers: " + report);
        assertEquals(0L, pub.getLong("failed"), report);
        JsonObject m = r.getJsonObject("messages");
        assertEquals(100L * 50, m.getLong("received"), report);
        assertEquals(100L * 50, m.getLong("live"), report);
        assertEquals(0L, m.getLong("duplicates"), report);
        assertEquals(0L, m.getLong("out_of_order"), report);
        assertEquals(0L, m.getLong("unexpected_channel"), report);
        assertEquals(0L, m.getLong("unparsable"), report);
        assertEquals(0L, m.getLong("heartbeats_sent"), "nchan clients send nothing");
        assertEquals(0L, r.getJsonObject("errors").getLong("total"), report);
        assertEquals(100L * 50, r.getJsonObject("latency_ms").getJsonObject("producer_to_client").getLong("count"), report);
        assertEquals(100L * 50, r.getJsonObject("latency_ms").getJsonObject("server_to_client").getLong("count"), report);
    }

    @Test
    void eachClientGetsOnlyItsOwnChannel() throws Exception {
        // 4 channels, 25 subscribers each (single: round-robin); 40 messages round-robin = 10 per channel
        JsonObject r = run("--connections", "100", "--channels", "A.x,B.x,C.x,D.x", "--duration", "10",
                "--nchan-rate", "100", "--nchan-count", "40");
        String report = r.encodePrettily();
        assertEquals(25L * 40, r.getJsonObject("messages").getLong("received"), report);
        assertEquals(0L, r.getJsonObject("messages").getLong("unexpected_channel"), report);
        assertEquals(0L, r.getJsonObject("messages").getLong("out_of_order"), report);
        assertEquals(40L, r.getJsonObject("nchan_publisher").getLong("delivered_201"), report);
    }
}
