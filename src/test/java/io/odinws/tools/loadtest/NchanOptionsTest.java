package io.odinws.tools.loadtest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/** --protocol nchan: option parsing, URL building, and the publisher's message body. */
class NchanOptionsTest {
    private static LoadTestOptions parse(String... args) {
        return LoadTestOptions.parse(args);
    }

    private static void rejects(String expected, String... args) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> parse(args));
        assertTrue(e.getMessage().contains(expected), e.getMessage());
    }

    @Test
    void subscriberUrlIsThePathPrefixPlusTheChannel() {
        assertEquals("ws://127.0.0.1:9000/sub/BTC.trade", NchanOptions.subscriberUri(URI.create("ws://127.0.0.1:9000"), "BTC.trade").toString());
        assertEquals("ws://127.0.0.1:9000/sub/BTC.trade", NchanOptions.subscriberUri(URI.create("ws://127.0.0.1:9000/"), "BTC.trade").toString());
        assertEquals("ws://127.0.0.1:9000/sub/BTC.trade", NchanOptions.subscriberUri(URI.create("ws://127.0.0.1:9000/sub/"), "BTC.trade").toString());
        assertEquals("ws://127.0.0.1:9000/x/y/A_1.b-c", NchanOptions.subscriberUri(URI.create("ws://127.0.0.1:9000/x/y"), "A_1.b-c").toString());
        assertEquals("ws://[::1]:9000/sub/A.b?k=v", NchanOptions.subscriberUri(URI.create("ws://[::1]:9000?k=v"), "A.b").toString());
    }

    @Test
    void publisherUrlDefaultsToPub() {
        assertEquals("http://127.0.0.1:9000/pub/ETH.trade", NchanOptions.publisherUri(URI.create("http://127.0.0.1:9000"), "ETH.trade").toString());
        assertEquals("http://127.0.0.1:9000/pub/ETH.trade", NchanOptions.publisherUri(URI.create("http://127.0.0.1:9000/pub/"), "ETH.trade").toString());
        assertEquals("http://localhost:1/p/ETH.trade", NchanOptions.publisherUri(URI.create("http://localhost:1/p"), "ETH.trade").toString());
        assertThrows(IllegalArgumentException.class, () -> NchanOptions.publisherUri(URI.create("http://127.0.0.1:1"), "a/b"));
        assertThrows(IllegalArgumentException.class, () -> NchanOptions.publisherUri(URI.create("http://127.0.0.1:1"), "a b"));
    }

    @Test
    void publisherBodyIsAnOdinEnvelopeTheScannerMeasures() {
        String body = NchanPublisher.body("BTC.trade", 7, 1_732_000_000_456L);
        JsonObject j = new JsonObject(body); // valid JSON
        assertEquals(7L, j.getLong("seq"));
        assertEquals(1_732_000_000_456L, j.getLong("ts"));
        assertEquals("BTC.trade", j.getString("channel"));
        assertEquals(1_732_000_000_456L, j.getJsonObject("data").getLong("timestamp"));
        byte[] b = body.getBytes(StandardCharsets.UTF_8);
        FrameScanner s = new FrameScanner();
        assertTrue(s.scan(b, 0, b.length));
        assertTrue(s.hasSeq());
        assertEquals(7, s.seq);
        assertEquals(1_732_000_000_456L, s.ts, "server->client latency: publish time");
        assertEquals(1_732_000_000_456L, s.eventTimestamp, "producer->client latency: publish time");
        assertEquals("BTC.trade", s.channel());
        assertEquals(1, s.priority, "not a replay");
    }

    @Test
    void nchanModeOptions() {
        LoadTestOptions o = parse("--protocol", "nchan", "--url", "ws://127.0.0.1:9000", "--channels", "HOT.trade",
                "--nchan-publish", "http://127.0.0.1:9000", "--nchan-rate", "20/s", "--nchan-count", "50", "--nchan-delay-ms", "1500");
        assertEquals("nchan", o.protocol());
        assertEquals(new NchanOptions(URI.create("http://127.0.0.1:9000"), 20, 50, 1500), o.nchan());
        assertEquals(1500, o.nchan().effectiveDelayMillis(o.connections(), o.rampPerSecond()));
        LoadTestOptions d = parse("--protocol", "nchan", "--connections", "5000", "--ramp", "1000");
        assertEquals("ws://127.0.0.1:8080", d.url().toString(), "nchan's default URL has no /ws path");
        assertNull(d.nchan().publishUrl());
        assertEquals(10, d.nchan().rate());
        assertEquals(-1, d.nchan().delayMillis(), "auto");
        assertEquals(6000, d.nchan().effectiveDelayMillis(5000, 1000), "auto: the ramp (5 s) + 1 s");
        assertEquals("odin", parse().protocol());
        assertNull(parse("--protocol", "odin").nchan());
        assertEquals(LoadTestOptions.DEFAULT_URL, parse("--protocol", "odin").url().toString());
    }

    @Test
    void nchanModeRoundTripsAndChildrenDoNotPublish() {
        LoadTestOptions o = parse("--protocol", "nchan", "--url", "ws://127.0.0.1:9000", "--connections", "40000",
                "--nchan-publish", "http://127.0.0.1:9000/pub", "--nchan-rate", "100", "--seed", "3");
        assertEquals(o, parse(o.toArgs().toArray(new String[0])));
        List<LoadTestOptions> children = ProcessSpreader.split(o, 3);
        for (LoadTestOptions c : children) {
            assertEquals("nchan", c.protocol());
            assertNull(c.nchan().publishUrl(), "the parent publishes, once");
            assertEquals(c, parse(c.toArgs().toArray(new String[0])));
        }
    }

    @Test
    void nchanModeRejectsWhatItCannotDo() {
        rejects("--protocol must be odin or nchan", "--protocol", "mqtt");
        rejects("need --protocol nchan", "--nchan-publish", "http://127.0.0.1:1");
        rejects("need --protocol nchan", "--nchan-rate", "5");
        rejects("one channel", "--protocol", "nchan", "--subscribe", "random:2");
        rejects("one channel", "--protocol", "nchan", "--subscribe", "all");
        assertEquals(1, parse("--protocol", "nchan", "--subscribe", "all", "--channels", "A.b").channels().size());
        assertEquals(1, parse("--protocol", "nchan", "--subscribe", "zipf:1").subscribe().count());
        rejects("--recover", "--protocol", "nchan", "--recover");
        rejects("--kafka", "--protocol", "nchan", "--kafka", "127.0.0.1:9092");
        rejects("[A-Za-z0-9_.-]", "--protocol", "nchan", "--channels", "A+B.trade");
        rejects("--nchan-publish", "--protocol", "nchan", "--nchan-publish", "ws://127.0.0.1:1");
        rejects("loopback", "--protocol", "nchan", "--nchan-publish", "http://example.com:80");
        rejects("--nchan-rate", "--protocol", "nchan", "--nchan-rate", "0");
        rejects("--nchan-count", "--protocol", "nchan", "--nchan-count", "-1");
        rejects("--nchan-delay-ms", "--protocol", "nchan", "--nchan-delay-ms", "soon");
    }
}
