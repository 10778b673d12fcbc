package io.odinws.tools.publish;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.odinws.testkit.Await;
import io.odinws.testkit.EmbeddedKafka;
import io.odinws.testkit.KafkaBrokerExtension;
import io.odinws.testkit.OdinTopics;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import javax.management.MalformedObjectNameException;
import javax.management.ObjectName;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.record.TimestampType;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The publishing loop against the real in-process Kafka broker. The class owns its eight topics (one per
 * category, 12 partitions like production), so nothing else writes to them; each test measures what it
 * added as the growth of the partitions' end offsets. Failures and stalls come from a real producer
 * pointed at a port where nothing listens: every send then blocks max.block.ms (1 s) and fails.
 */
@ExtendWith(KafkaBrokerExtension.class)
class DemoPublisherTest {
    private static final Map<String, String> TOPICS = topics("demo-publisher-test.");
    /** The publisher's own producer registers this MBean (client.id odin-ws-publisher) and removes it on close. */
    private static final ObjectName PRODUCER_MBEAN = objectName("kafka.producer:type=app-info,id=odin-ws-publisher");

    private static EmbeddedKafka kafka;
    private static Admin admin;
    private static List<TopicPartition> partitions;

    @BeforeAll
    static void createTopics(EmbeddedKafka broker) {
        kafka = broker;
        Map<String, Integer> partitionsByTopic = new LinkedHashMap<>();
        TOPICS.keySet().forEach(t -> partitionsByTopic.put(t, OdinTopics.PARTITIONS));
        kafka.createTopics(partitionsByTopic); // returns once every partition answers listOffsets
        admin = kafka.createAdmin();
        partitions = new ArrayList<>();
        partitionsByTopic.forEach((t, n) -> {
            for (int i = 0; i < n; i++) partitions.add(new TopicPartition(t, i));
        });
    }

    @AfterAll
    static void closeAdmin() {
        if (admin != null) admin.close(Duration.ofSeconds(5));
    }

    private static Map<String, String> topics(String prefix) {
        Map<String, String> m = new LinkedHashMap<>();
        for (String category : OdinEventType.CATEGORIES) m.put(prefix + category, category);
        return m;
    }

    private static PublisherOptions options(String bootstrap, int rate, long durationSeconds, long maxEvents) {
        return new PublisherOptions(bootstrap, rate, PublisherOptions.DEFAULT_TOKENS, durationSeconds, TOPICS, 11,
                maxEvents);
    }

    private static PublisherOptions options(int rate, long durationSeconds, long maxEvents) {
        return options(kafka.bootstrap(), rate, durationSeconds, maxEvents);
    }

    /** 127.0.0.1 and a port that was just free and is closed again: connections to it are refused. */
    private static String unreachableBootstrap() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return "127.0.0.1:" + s.getLocalPort();
        }
    }

    @Test
    void publishesAtThePreciseRateWithKeysTopicsAndTimestamps() throws Exception {
        Map<TopicPartition, Long> before = endOffsets();
        long wallBefore = System.currentTimeMillis();
        long t0 = System.nanoTime();
        try (DemoPublisher p = DemoPublisher.start(options(20_000, 0, 4_000))) {
            assertTrue(p.awaitDone(10, TimeUnit.SECONDS), "the publisher did not stop by itself");
            double seconds = (System.nanoTime() - t0) / 1e9;
            // Event 3999 is due at 199.95 ms after the schedule starts; events are sent at most 50 µs early.
            // The upper bound leaves room for the warm-up (metadata of the eight topics) before the schedule.
            assertTrue(seconds >= 0.199, "paced by the rate, not faster: took " + seconds + " s");
            p.close(); // flushes: every acknowledged record is in the log afterwards
            assertEquals(4_000, p.sent());
            assertEquals(0, p.failed());
            assertEquals(0, p.skipped());
        }
        long wallAfter = System.currentTimeMillis();
        awaitAdded(before, 4_000);

        List<ConsumerRecord<String, byte[]>> records = readAdded(before);
        assertEquals(4_000, records.size());
        Map<String, String> topicByCategory = new HashMap<>();
        TOPICS.forEach((topic, category) -> topicByCategory.put(category, topic));
        Map<TopicPartition, Long> lastTsByPartition = new HashMap<>();
        for (ConsumerRecord<String, byte[]> r : records) {
            JsonObject value = new JsonObject(new String(r.value(), StandardCharsets.UTF_8));
            String where = r.topic() + "-" + r.partition() + "@" + r.offset();
            assertTrue(PublisherOptions.DEFAULT_TOKENS.contains(r.key()), "key " + r.key() + " at " + where);
            OdinEventType type = OdinEventType.valueOf(value.getString("type"));
            assertEquals(topicByCategory.get(type.category()), r.topic(), type + " at " + where);
            assertNotNull(value.getJsonObject("data"), where);
            Long ts = value.getLong("timestamp");
            assertNotNull(ts, "no timestamp at " + where);
            assertEquals(TimestampType.CREATE_TIME, r.timestampType(), where);
            assertEquals(r.timestamp(), ts, "record time = event time at " + where);
            assertTrue(ts >= wallBefore && ts <= wallAfter,
                    "event time " + ts + " outside the run [" + wallBefore + ", " + wallAfter + "] at " + where);
            TopicPartition tp = new TopicPartition(r.topic(), r.partition());
            Long last = lastTsByPartition.put(tp, ts);
            assertTrue(last == null || ts >= last, "time went backwards at " + where);
        }
    }

    @Test
    void durationSendsExactlyDurationTimesRate() throws Exception {
        Map<TopicPartition, Long> before = endOffsets();
        long t0 = System.nanoTime();
        try (DemoPublisher p = DemoPublisher.start(options(200, 1, 0))) {
            assertTrue(p.awaitDone(10, TimeUnit.SECONDS), "the publisher did not stop by itself");
            double seconds = (System.nanoTime() - t0) / 1e9;
            assertTrue(seconds >= 0.99, "ran for its duration: took " + seconds + " s");
            p.close();
            assertEquals(200, p.sent());
            assertEquals(0, p.failed());
            assertEquals(0, p.skipped());
        }
        awaitAdded(before, 200);
    }

    @Test
    void failedSendsAreCountedNotFatal() throws Exception {
        // Unreachable broker: the warm-up gives up after 1 s, then each send blocks 1 s and fails. At one event
        // per second the loop keeps pace (the backlog never exceeds a second), so both events are attempted.
        long t0 = System.nanoTime();
        try (DemoPublisher p = DemoPublisher.start(options(unreachableBootstrap(), 1, 0, 2))) {
            assertTrue(p.awaitDone(10, TimeUnit.SECONDS), "the publisher did not stop by itself");
            double seconds = (System.nanoTime() - t0) / 1e9;
            assertTrue(seconds >= 2.9 && seconds < 6.0, "took " + seconds + " s"); // warm-up + two 1 s sends
            assertEquals(2, p.failed());
            assertEquals(0, p.sent());
            assertEquals(0, p.skipped());
            long c0 = System.nanoTime();
            p.close();
            double closeSeconds = (System.nanoTime() - c0) / 1e9;
            assertTrue(closeSeconds < 1.5, "close took " + closeSeconds + " s");
            assertEquals(2, p.failed());
        }
    }

    @Test
    void closeStopsPromptlyEvenWhileParked() throws Exception {
        Map<TopicPartition, Long> before = endOffsets();
        DemoPublisher p = DemoPublisher.start(options(1, 0, 0)); // event 0 is due at the start, event 1 a second later
        try {
            // Event 0 acknowledged by the broker: the loop is now parked until event 1 is due.
            Await.until("event 0 acknowledged", Duration.ofSeconds(10), () -> p.sent() == 1,
                    () -> "sent=" + p.sent() + " failed=" + p.failed());
            assertTrue(isRegistered(PRODUCER_MBEAN), "the publisher's producer is not registered");
            long t0 = System.nanoTime();
            p.close();
            double seconds = (System.nanoTime() - t0) / 1e9;
            assertTrue(seconds < 0.5, "close took " + seconds + " s");
            assertTrue(p.awaitDone(0, TimeUnit.SECONDS));
            assertEquals(1, p.sent());
            assertEquals(0, p.failed());
            assertFalse(isRegistered(PRODUCER_MBEAN), "the producer was not closed");
        } finally {
            p.close();
        }
        awaitAdded(before, 1);
    }

    @Test
    void aLongStallCatchesUpAtMostOneSecondAndCountsTheRestAsSkipped() throws Exception {
        // Unreachable broker: every send stalls 1 s (max.block.ms) and fails, so after each send more than one
        // second of events is due. The loop keeps only the newest second (1000 events) of backlog and counts the
        // older ones as skipped: a handful of sends are attempted (at ~0, 1 and 2 s), not 2000. It also stops on
        // its own once the uncapped due count passes the limit plus one second, i.e. ~3 s into the schedule
        // (after the 1 s warm-up), instead of needing 2000 s to try every event.
        long t0 = System.nanoTime();
        try (DemoPublisher p = DemoPublisher.start(options(unreachableBootstrap(), 1_000, 0, 2_000))) {
            assertTrue(p.awaitDone(15, TimeUnit.SECONDS), "the publisher did not stop by itself");
            double seconds = (System.nanoTime() - t0) / 1e9;
            p.close();
            String counts = "sent=" + p.sent() + " failed=" + p.failed() + " skipped=" + p.skipped();
            assertEquals(0, p.sent(), counts);
            assertEquals(2_000, p.failed() + p.skipped(), counts);
            assertTrue(p.failed() >= 2 && p.failed() <= 5, counts);
            assertTrue(seconds >= 3.9 && seconds < 8.0, "took " + seconds + " s, " + counts);
        }
    }

    @Test
    void sustainsOneHundredThousandEventsPerSecond() throws Exception {
        Map<TopicPartition, Long> before = endOffsets();
        int total = 200_000;
        long t0 = System.nanoTime();
        try (DemoPublisher p = DemoPublisher.start(options(100_000, 0, total))) {
            assertTrue(p.awaitDone(15, TimeUnit.SECONDS), "the publisher did not stop by itself");
            double seconds = (System.nanoTime() - t0) / 1e9;
            p.close();
            System.out.printf("100k/s run: sent=%d failed=%d skipped=%d in %.3f s%n", p.sent(), p.failed(),
                    p.skipped(), seconds);
            assertEquals(0, p.failed());
            assertEquals(total, p.sent() + p.skipped());
            assertTrue(p.skipped() < total / 20, "fell behind: skipped " + p.skipped());
            awaitAdded(before, p.sent());
        }
    }

    // ---- observing the broker ------------------------------------------------------------------------------

    private static Map<TopicPartition, Long> endOffsets() throws InterruptedException, ExecutionException, TimeoutException {
        Map<TopicPartition, OffsetSpec> request = new HashMap<>();
        partitions.forEach(tp -> request.put(tp, OffsetSpec.latest()));
        Map<TopicPartition, Long> result = new HashMap<>();
        admin.listOffsets(request).all().get(10, TimeUnit.SECONDS).forEach((tp, info) -> result.put(tp, info.offset()));
        return result;
    }

    private static long added(Map<TopicPartition, Long> before) {
        try {
            long n = 0;
            for (Map.Entry<TopicPartition, Long> e : endOffsets().entrySet()) n += e.getValue() - before.get(e.getKey());
            return n;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted", e);
        } catch (ExecutionException | TimeoutException e) {
            throw new AssertionError("listOffsets failed", e);
        }
    }

    /** Waits until exactly {@code expected} records were added to the topics since {@code before}. */
    private static void awaitAdded(Map<TopicPartition, Long> before, long expected) {
        long[] last = {-1};
        Await.until(expected + " records in Kafka", Duration.ofSeconds(10), () -> (last[0] = added(before)) >= expected,
                () -> "found " + last[0]);
        assertEquals(expected, added(before), "records in Kafka");
    }

    /** The records added since {@code before}, read with manual assignment (no consumer group), in offset order. */
    private static List<ConsumerRecord<String, byte[]>> readAdded(Map<TopicPartition, Long> before) throws Exception {
        Map<TopicPartition, Long> end = endOffsets();
        Properties props = new Properties();
        props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrap());
        props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "none");
        props.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, "5000");
        props.put(ConsumerConfig.CLIENT_ID_CONFIG, "demo-publisher-test-reader");
        List<ConsumerRecord<String, byte[]>> records = new ArrayList<>();
        try (KafkaConsumer<String, byte[]> consumer =
                     new KafkaConsumer<>(props, new StringDeserializer(), new ByteArrayDeserializer())) {
            consumer.assign(partitions);
            partitions.forEach(tp -> consumer.seek(tp, before.get(tp)));
            Await.until("reading the added records", Duration.ofSeconds(15), () -> {
                for (ConsumerRecord<String, byte[]> r : consumer.poll(Duration.ofMillis(100))) {
                    if (r.offset() < end.get(new TopicPartition(r.topic(), r.partition()))) records.add(r);
                }
                return partitions.stream().allMatch(tp -> consumer.position(tp) >= end.get(tp));
            }, () -> records.size() + " read");
        }
        return records;
    }

    private static boolean isRegistered(ObjectName name) {
        return ManagementFactory.getPlatformMBeanServer().isRegistered(name);
    }

    private static ObjectName objectName(String name) {
        try {
            return new ObjectName(name);
        } catch (MalformedObjectNameException e) {
            throw new IllegalArgumentException(name, e);
        }
    }
}
