package io.odinws.tools.loadtest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.odinws.tools.loadtest.LoadTestOptions.Subscribe.Kind;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

class LoadTestOptionsTest {
    private static LoadTestOptions parse(String... args) {
        return LoadTestOptions.parse(args);
    }

    /** The message must name the option, and say what is accepted. */
    private static void rejects(String option, String accepted, String... args) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> parse(args));
        assertTrue(e.getMessage().contains(option), e.getMessage());
        assertTrue(e.getMessage().contains(accepted), e.getMessage());
    }

    @Test
    void defaults() {
        LoadTestOptions o = parse();
        assertEquals("ws://127.0.0.1:8080/ws", o.url().toString());
        assertEquals(8080, o.port());
        assertEquals(100, o.connections());
        assertEquals(1000, o.rampPerSecond());
        assertEquals(Kind.SINGLE, o.subscribe().kind());
        assertEquals(160, o.channels().size(), "20 tokens x 8 categories");
        assertEquals("BTC.trade", o.channels().get(0));
        assertEquals("ATOM.balances", o.channels().get(159));
        assertEquals(30, o.heartbeatSeconds());
        assertEquals(60, o.durationSeconds());
        assertFalse(o.recover());
        assertEquals(0.0, o.slowFraction());
        assertEquals(0.0, o.dropFraction());
        assertEquals(0, o.dropAfterSeconds());
        assertTrue(o.sourceAddresses().isEmpty());
        assertEquals(0, o.processes(), "auto");
        assertNull(o.reportFile());
        assertEquals(-1, o.expectConnections());
        assertTrue(Double.isNaN(o.maxP99Millis()));
        assertTrue(Double.isNaN(o.maxLoss()));
        assertNull(o.kafka());
        assertEquals("trade", o.topics().get("odin.trades"));
        assertEquals(1, o.threads());
        assertEquals(2000, o.lossGraceMillis());
        assertFalse(o.child());
    }

    @Test
    void everyOption() {
        LoadTestOptions o = parse("--url", "ws://localhost:9000/ws?x=1", "--connections", "25000", "--ramp", "2000/s",
                "--subscribe", "zipf:3", "--tokens", "BTC,ETH", "--categories", "trade,analytics", "--heartbeat", "0",
                "--duration=120", "--recover", "--slow-fraction", "0.1", "--drop-fraction", "0.5", "--drop-after=30", "--source-addresses", "127.0.0.2-127.0.0.4,127.0.1.1",
                "--processes", "2", "--report", "/tmp/r.json", "--expect-connections", "24000", "--max-p99-ms", "12.5",
                "--max-loss", "0.001", "--kafka", "127.0.0.1:9092,localhost:9093", "--topics", "t1=trade,t2=analytics",
                "--threads", "2", "--seed", "-7", "--loss-grace-ms", "500");
        assertEquals(9000, o.port());
        assertEquals(25000, o.connections());
        assertEquals(2000, o.rampPerSecond());
        assertEquals(new LoadTestOptions.Subscribe(Kind.ZIPF, 3), o.subscribe());
        assertEquals(List.of("BTC.trade", "BTC.analytics", "ETH.trade", "ETH.analytics"), o.channels());
        assertEquals(0, o.heartbeatSeconds());
        assertEquals(120, o.durationSeconds());
        assertTrue(o.recover());
        assertEquals(0.1, o.slowFraction());
        assertEquals(0.5, o.dropFraction());
        assertEquals(30, o.dropAfterSeconds());
        assertEquals(4, o.sourceAddresses().size());
        assertEquals("127.0.0.3", o.sourceAddresses().get(1).getHostAddress());
        assertEquals("127.0.1.1", o.sourceAddresses().get(3).getHostAddress());
        assertEquals(2, o.processes());
        assertEquals("/tmp/r.json", o.reportFile());
        assertEquals(24000, o.expectConnections());
        assertEquals(12.5, o.maxP99Millis());
        assertEquals(0.001, o.maxLoss());
        assertEquals("127.0.0.1:9092,localhost:9093", o.kafka());
        assertEquals("analytics", o.topics().get("t2"));
        assertEquals(2, o.threads());
        assertEquals(-7, o.seed());
        assertEquals(500, o.lossGraceMillis());
    }

    @Test
    void subscribeModesAndExplicitChannels() {
        assertEquals(Kind.ALL, parse("--subscribe", "all").subscribe().kind());
        LoadTestOptions r = parse("--subscribe", "random:3", "--channels", "A.x,B.y,C.z");
        assertEquals(new LoadTestOptions.Subscribe(Kind.RANDOM, 3), r.subscribe());
        assertEquals(List.of("A.x", "B.y", "C.z"), r.channels());
        assertEquals(500, parse("--ramp", "500").rampPerSecond(), "the /s suffix is optional");
        assertEquals(0, parse("--processes", "AUTO").processes());
    }

    @Test
    void toArgsRoundTrips() {
        LoadTestOptions o = parse("--connections", "10", "--subscribe", "random:2", "--channels", "A.x,B.y,C.z",
                "--recover", "--source-addresses", "127.0.0.5", "--kafka", "localhost:9092", "--max-loss", "0.5", "--seed", "3",
                "--drop-fraction", "0.25", "--drop-after", "7", "--slow-fraction", "0.1", "--slow-read-rate", "35000");
        assertEquals(o, parse(o.toArgs().toArray(new String[0])));
        assertEquals(35_000, o.slowReadBytesPerSecond());
        assertTrue(o.toArgs().containsAll(List.of("--slow-read-rate", "35000")), "child processes read slowly too");
        assertTrue(o.toArgs().containsAll(List.of("--drop-fraction", "0.25", "--drop-after", "7")), "child processes drop too");
    }

    @Test
    void deflateIsOffAndReachesChildProcessesWhenOn() {
        assertFalse(parse("--connections", "10").deflate());
        LoadTestOptions o = parse("--connections", "10", "--deflate");
        assertTrue(o.deflate());
        assertTrue(o.toArgs().contains("--deflate"), "child processes offer it too");
        assertEquals(o, parse(o.toArgs().toArray(new String[0])));
    }

    @Test
    void dropNeedsATimeInTheRunAndRecover() {
        rejects("--drop-fraction", "0..1", "--drop-fraction", "1.5", "--drop-after", "5", "--recover");
        rejects("--drop-fraction", "0..1", "--drop-fraction", "-0.1", "--drop-after", "5", "--recover");
        rejects("--drop-after", "1..86400", "--drop-fraction", "0.5", "--drop-after", "0", "--recover");
        rejects("--drop-after", "'soon' is not an int", "--drop-fraction", "0.5", "--drop-after", "soon", "--recover");
        rejects("--drop-fraction", "--drop-after SECONDS", "--drop-fraction", "0.5", "--recover");
        rejects("--drop-after", "--drop-fraction", "--drop-after", "5", "--recover");
        rejects("--drop-after", "--duration", "--drop-fraction", "0.5", "--drop-after", "60", "--recover");
        rejects("--drop-fraction", "--recover", "--drop-fraction", "0.5", "--drop-after", "5");
        rejects("--drop-fraction", "nchan", "--protocol", "nchan", "--drop-fraction", "0.5", "--drop-after", "5");
        LoadTestOptions o = parse("--drop-fraction", "1", "--drop-after", "59", "--recover");
        assertEquals(1.0, o.dropFraction());
        assertEquals(59, o.dropAfterSeconds());
        assertEquals(0.0, parse("--drop-fraction", "0").dropFraction(), "0 = no drop, --drop-after not needed");
    }

    /** Which clients are dropped depends on the global index only: spread evenly, and apart from the slow ones. */
    @Test
    void droppedClientsAreSpreadEvenlyAndAreNotTheSlowOnes() {
        List<String> channels = List.of("A.x", "B.y");
        LoadTestOptions.Subscribe single = new LoadTestOptions.Subscribe(Kind.SINGLE, 1);
        ChannelPlan half = new ChannelPlan(channels, single, 0.5, 0.5, 1);
        ChannelPlan usual = new ChannelPlan(channels, single, 0.05, 0.5, 1);
        ChannelPlan tenth = new ChannelPlan(channels, single, 0.1, 0.1, 1);
        int dropped = 0;
        for (int i = 0; i < 1000; i++) {
            if (half.isDropped(i)) dropped++;
            if (i < 40) assertEquals(i % 2 == 0, half.isDropped(i), "client " + i);
            assertFalse(half.isDropped(i) && half.isSlow(i), "client " + i);
            assertFalse(usual.isDropped(i) && usual.isSlow(i), "client " + i);
            assertFalse(tenth.isDropped(i) && tenth.isSlow(i), "client " + i);
        }
        assertEquals(500, dropped);
        int tenthDropped = 0;
        for (int i = 0; i < 1000; i++) if (tenth.isDropped(i)) tenthDropped++;
        assertEquals(100, tenthDropped);
        assertFalse(new ChannelPlan(channels, single, 0, 0, 1).isDropped(0), "fraction 0 drops nobody");
    }

    @Test
    void badValuesNameTheOption() {
        rejects("--connections", "1..500000", "--connections", "0");
        rejects("--connections", "'many' is not an int", "--connections", "many");
        rejects("--ramp", "N/s", "--ramp", "fast");
        rejects("--subscribe", "all, single, random:N or zipf:N", "--subscribe", "some");
        rejects("--subscribe random", "1..1000", "--subscribe", "random:0");
        rejects("--subscribe zipf:9", "1..4", "--subscribe", "zipf:9", "--tokens", "A,B", "--categories", "x,y");
        rejects("--heartbeat", "0..3600", "--heartbeat", "-1");
        rejects("--duration", "1..86400", "--duration", "0");
        rejects("--slow-fraction", "0..1", "--slow-fraction", "1.5");
        rejects("--slow-read-rate", "0..1073741824", "--slow-read-rate", "-1");
        rejects("--source-addresses", "127.x.y.z", "--source-addresses", "10.0.0.1");
        rejects("--source-addresses", "backwards", "--source-addresses", "127.0.0.9-127.0.0.2");
        rejects("--source-addresses", "not an IPv4 address", "--source-addresses", "127.0.0");
        rejects("--processes", "auto or 1..64", "--processes", "0");
        rejects("--expect-connections", "--connections", "--connections", "10", "--expect-connections", "11");
        rejects("--max-p99-ms", "positive", "--max-p99-ms", "0");
        rejects("--max-loss", "0..1", "--max-loss", "2");
        rejects("--kafka", "HOST:PORT", "--kafka", "localhost");
        rejects("--kafka", "loopback", "--kafka", "kafka.example.com:9092");
        rejects("--topics", "TOPIC=CATEGORY", "--topics", "odin.trades");
        rejects("--threads", "1..16", "--threads", "32");
        rejects("--loss-grace-ms", "0..60000", "--loss-grace-ms", "-5");
        rejects("--channels", "distinct", "--channels", "A.x,A.x");
        rejects("--channels", "TOKEN.CATEGORY", "--channels", "nodot");
        rejects("--channels", "wildcards", "--channels", "BTC.*");
        rejects("--channels", "--tokens", "--channels", "A.x", "--tokens", "A");
        rejects("--tokens", "printable", "--tokens", "A B");
        rejects("--channels", "TOKEN.CATEGORY", "--channels", "A.x,,B.y");
        rejects("--seed", "'x' is not a long", "--seed", "x");
    }

    @Test
    void onlyLoopbackTargets() {
        rejects("--url", "loopback", "--url", "ws://example.com:8080/ws");
        rejects("--url", "loopback", "--url", "ws://10.1.2.3:8080/ws");
        rejects("--url", "ws://", "--url", "http://127.0.0.1:8080/ws");
        rejects("--url", "ws://", "--url", "wss://127.0.0.1:8080/ws");
        assertEquals("127.0.0.9", parse("--url", "ws://127.0.0.9:1/ws").url().getHost());
        assertEquals("[::1]", parse("--url", "ws://[::1]:1/ws").url().getHost());
    }

    @Test
    void unknownOrIncompleteOptions() {
        rejects("--bogus", "Unknown option", "--bogus", "1");
        rejects("--connections", "Missing required parameter", "--connections");
    }

    @Test
    void helpPrintsUsageAndReturnsNull() {
        PrintStream old = System.out;
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        System.setOut(new PrintStream(buf, true, StandardCharsets.UTF_8));
        try {
            assertNull(parse("--help"));
        } finally {
            System.setOut(old);
        }
        String usage = buf.toString(StandardCharsets.UTF_8);
        for (String opt : List.of("--url", "--connections", "--ramp", "--subscribe", "--channels", "--tokens", "--categories",
                "--heartbeat", "--duration", "--recover", "--slow-fraction", "--source-addresses", "--processes", "--report",
                "--expect-connections", "--max-p99-ms", "--max-loss", "--kafka", "--drop-fraction", "--drop-after")) {
            assertTrue(usage.contains(opt), opt);
        }
    }

    /** The command lines bench/run.py builds (its generator(), the scenarios' extras, the nchan peer) keep parsing. */
    @Test
    void benchCommandLinesParse() {
        List<String> base = List.of("--url", "ws://127.0.0.1:18080/ws", "--connections", "19000", "--ramp", "2000",
                "--duration", "250", "--source-addresses", "127.0.0.2-127.0.0.40");
        List<List<String>> extras = List.of(
                List.of("--subscribe", "single"),
                List.of("--subscribe", "single", "--channels", "BTC.trade"),
                List.of("--subscribe", "zipf:5", "--slow-fraction", "0.05"),
                List.of("--subscribe", "single", "--channels", "BTC.analytics", "--slow-fraction", "0.05", "--slow-read-rate", "17500"),
                List.of("--subscribe", "zipf:3", "--categories", "trade", "--recover", "--kafka", "127.0.0.1:19092",
                        "--drop-fraction", "0.5", "--drop-after", "40"),
                List.of("--subscribe", "zipf:3", "--categories", "trade", "--recover", "--kafka", "127.0.0.1:19092"));
        for (List<String> extra : extras) {
            List<String> args = new java.util.ArrayList<>(base);
            args.addAll(extra);
            args.addAll(List.of("--report", "/tmp/s.report.json"));
            LoadTestOptions o = parse(args.toArray(new String[0]));
            assertEquals(39, o.sourceAddresses().size(), args.toString());
            assertEquals("/tmp/s.report.json", o.reportFile());
        }
        LoadTestOptions nchan = parse("--protocol", "nchan", "--url", "ws://127.0.0.1:18181", "--connections", "10000",
                "--ramp", "2000", "--duration", "29", "--source-addresses", "127.0.0.2-127.0.0.40", "--subscribe", "single",
                "--channels", "BTC.trade", "--nchan-publish", "http://127.0.0.1:18181", "--nchan-rate", "20",
                "--report", "/tmp/p.report.json");
        assertEquals(20, nchan.nchan().rate());
        assertEquals("http://127.0.0.1:18181", nchan.nchan().publishUrl().toString());
    }

    @Test
    void processesAutoSpreadsOverTheFileLimit() {
        assertEquals(1, ProcessSpreader.processesFor(parse("--connections", "19000"), 20_000));
        assertEquals(2, ProcessSpreader.processesFor(parse("--connections", "19001"), 20_000));
        assertEquals(6, ProcessSpreader.processesFor(parse("--connections", "100000"), 20_000));
        assertEquals(3, ProcessSpreader.processesFor(parse("--connections", "2500"), 1_500), "a lower limit means more processes");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ProcessSpreader.processesFor(parse("--connections", "30000", "--processes", "1"), 20_000));
        assertTrue(e.getMessage().contains("--processes"), e.getMessage());
    }

    @Test
    void childSharesSplitClientsRampAndAddresses() {
        LoadTestOptions o = parse("--connections", "10", "--ramp", "7/s", "--source-addresses", "127.0.0.2-127.0.0.5");
        List<LoadTestOptions> parts = ProcessSpreader.split(o, 3);
        assertEquals(List.of(4, 3, 3), parts.stream().map(LoadTestOptions::connections).toList());
        assertEquals(List.of(0, 4, 7), parts.stream().map(LoadTestOptions::clientOffset).toList());
        assertEquals(List.of(3, 2, 2), parts.stream().map(LoadTestOptions::rampPerSecond).toList());
        assertEquals("[127.0.0.2, 127.0.0.5]", parts.get(0).sourceAddresses().stream().map(a -> a.getHostAddress()).toList().toString());
        assertEquals("[127.0.0.3]", parts.get(1).sourceAddresses().stream().map(a -> a.getHostAddress()).toList().toString());
        assertTrue(parts.stream().allMatch(LoadTestOptions::child));
        LoadTestOptions drop = parse("--connections", "10", "--recover", "--drop-fraction", "0.5", "--drop-after", "3");
        for (LoadTestOptions part : ProcessSpreader.split(drop, 2)) {
            assertEquals(0.5, part.dropFraction());
            assertEquals(3, part.dropAfterSeconds());
        }
        List<LoadTestOptions> noAddr = ProcessSpreader.split(parse("--connections", "4"), 2);
        assertEquals("127.0.0.2", noAddr.get(0).sourceAddresses().get(0).getHostAddress());
        assertEquals("127.0.0.3", noAddr.get(1).sourceAddresses().get(0).getHostAddress());
    }
}
