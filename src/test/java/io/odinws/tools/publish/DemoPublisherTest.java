package io.odinws.tools.publish;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.producer.Callback;
import org.apache.kafka.clients.producer.MockProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;

/** The publishing loop against Kafka's MockProducer: no broker needed. */
class DemoPublisherTest {
    private static PublisherOptions options(int rate, long durationSeconds, long maxEvents) {
        return new PublisherOptions("localhost:9092", rate, PublisherOptions.DEFAULT_TOKENS, durationSeconds,
                PublisherOptions.DEFAULT_TOPICS, 11, maxEvents);
    }

    private static MockProducer<String, byte[]> mock(boolean autoComplete) {
        return new MockProducer<>(autoComplete, null, new StringSerializer(), new ByteArraySerializer());
    }

    @Test
    void publishesAtThePreciseRateWithKeysTopicsAndTimestamps() throws Exception {
        MockProducer<String, byte[]> producer = mock(true);
        long t0 = System.nanoTime();
        try (DemoPublisher p = DemoPublisher.start(options(20_000, 0, 4_000), producer)) {
            assertTrue(p.awaitDone(5, TimeUnit.SECONDS));
            double seconds = (System.nanoTime() - t0) / 1e9;
            // Event 3999 is due at 199.95 ms; events are sent at most 50 µs early.
            assertTrue(seconds >= 0.199 && seconds < 1.0, "took " + seconds + " s");
            p.close();
            assertEquals(4_000, p.sent());
            assertEquals(0, p.failed());
            assertEquals(0, p.skipped());
        }
        List<ProducerRecord<String, byte[]>> records = producer.history();
        assertEquals(4_000, records.size());
        assertTrue(producer.closed());
        long lastTs = 0;
        for (ProducerRecord<String, byte[]> r : records) {
            JsonObject value = new JsonObject(new String(r.value(), StandardCharsets.UTF_8));
            assertTrue(PublisherOptions.DEFAULT_TOKENS.contains(r.key()));
            assertTrue(PublisherOptions.DEFAULT_TOPICS.containsKey(r.topic()));
            assertEquals(r.timestamp(), value.getLong("timestamp")); // record time = event time
            assertTrue(r.timestamp() >= lastTs);
            lastTs = r.timestamp();
        }
    }

    @Test
    void durationSendsExactlyDurationTimesRate() throws Exception {
        MockProducer<String, byte[]> producer = mock(true);
        long t0 = System.nanoTime();
        try (DemoPublisher p = DemoPublisher.start(options(200, 1, 0), producer)) {
            assertTrue(p.awaitDone(5, TimeUnit.SECONDS));
            double seconds = (System.nanoTime() - t0) / 1e9;
            assertTrue(seconds >= 0.99 && seconds < 2.0, "took " + seconds + " s");
        }
        assertEquals(200, producer.history().size());
    }

    @Test
    void failedSendsAreCountedNotFatal() throws Exception {
        MockProducer<String, byte[]> producer = mock(false);
        try (DemoPublisher p = DemoPublisher.start(options(10_000, 0, 100), producer)) {
            assertTrue(p.awaitDone(5, TimeUnit.SECONDS));
            int errored = 0;
            while (producer.errorNext(new org.apache.kafka.common.errors.TimeoutException("broker down"))) errored++;
            assertEquals(100, errored);
            assertEquals(100, p.failed());
            assertEquals(0, p.sent());
        }
    }

    @Test
    void closeStopsPromptlyEvenWhileParked() throws Exception {
        MockProducer<String, byte[]> producer = mock(true);
        DemoPublisher p = DemoPublisher.start(options(1, 0, 0), producer); // next event a second away
        Thread.sleep(100);
        long t0 = System.nanoTime();
        p.close();
        double seconds = (System.nanoTime() - t0) / 1e9;
        assertTrue(seconds < 0.5, "close took " + seconds + " s");
        assertTrue(p.awaitDone(0, TimeUnit.SECONDS));
        assertEquals(1, p.sent()); // event 0 is due at the start
        assertTrue(producer.closed());
    }

    @Test
    void aLongStallCatchesUpAtMostOneSecondAndCountsTheRestAsSkipped() throws Exception {
        // The first send blocks 1.5 s (as with an unreachable broker): 1.5 s of events fall due meanwhile.
        MockProducer<String, byte[]> producer = new MockProducer<>(true, null, new StringSerializer(),
                new ByteArraySerializer()) {
            private boolean stalled;

            @Override
            public synchronized Future<RecordMetadata> send(ProducerRecord<String, byte[]> r, Callback cb) {
                if (!stalled) {
                    stalled = true;
                    try {
                        Thread.sleep(1_500);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                }
                return super.send(r, cb);
            }
        };
        try (DemoPublisher p = DemoPublisher.start(options(1_000, 0, 2_000), producer)) {
            assertTrue(p.awaitDone(10, TimeUnit.SECONDS));
            p.close();
            assertEquals(2_000, p.sent() + p.skipped());
            assertTrue(p.skipped() >= 400 && p.skipped() <= 600, "skipped " + p.skipped());
        }
    }

    @Test
    void sustainsOneHundredThousandEventsPerSecond() throws Exception {
        MockProducer<String, byte[]> producer = mock(true);
        int total = 200_000;
        long t0 = System.nanoTime();
        try (DemoPublisher p = DemoPublisher.start(options(100_000, 0, total), producer)) {
            // Keep the mock's history from holding every record.
            while (!p.awaitDone(100, TimeUnit.MILLISECONDS)) producer.clear();
            double seconds = (System.nanoTime() - t0) / 1e9;
            p.close();
            System.out.printf("100k/s run: sent=%d skipped=%d in %.3f s%n", p.sent(), p.skipped(), seconds);
            assertEquals(total, p.sent() + p.skipped());
            assertTrue(p.skipped() < total / 20, "fell behind: skipped " + p.skipped());
            assertFalse(seconds > 3.5, "took " + seconds + " s");
        }
    }
}
