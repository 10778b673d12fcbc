package io.odinws.tools.publish;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTimeout;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.odinws.testkit.Await;
import io.odinws.testkit.EmbeddedKafka;
import io.odinws.testkit.KafkaBrokerExtension;
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
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import javax.management.MalformedObjectNameException;
import javax.management.ObjectName;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.record.TimestampType;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;
import org.junit.jupiter.api.extension.ExtendWith;

/**
  * The publishing loop against the real in-process Kafka broker. It asserts what the loop does (every event of the
  * bound accounted for as sent, failed or skipped; records keyed, routed and stamped; pacing never ahead of the
  * schedule; a prompt stop), never how fast: the rate the loop sustains is measured by {@code make bench}. Each test
  * publishes to topics of its own, so records that land late (after a close) cannot reach another test's count.
  * Failures and stalls come from a real producer pointed at a port where nothing listens: every send then blocks
  * max.block.ms (1 s) and fails.
  */
@ExtendWith(KafkaBrokerExtension.class)
class DemoPublisherTest {
    /** The publisher's own producer registers this MBean (client.id odin-ws-publisher) and removes it on close. */
    private static final ObjectName PRODUCER_MBEAN = objectName("kafka.producer:type=app-info,id=odin-ws-publisher");
    /** Generous: a deadline for something to happen on a machine whose cores are busy with other work. */
    private static final Duration WITHIN = Duration.ofSeconds(60);
    private static final AtomicInteger RUNS = new AtomicInteger();

    /** The eight category topics of one test (two partitions each: routing and per-partition order are what matter). */
    private record Topics(EmbeddedKafka kafka, Map<String, String> byTopic, List<TopicPartition> partitions) {
        static Topics create(EmbeddedKafka kafka, TestInfo test) {
            String prefix = "demo-publisher-test." + test.getTestMethod().orElseThrow().getName() + "-" + RUNS.incrementAndGet() + ".";
            Map<String, String> byTopic = new LinkedHashMap<>();
            Map<String, Integer> partitionsByTopic = new LinkedHashMap<>();
            List<TopicPartition> partitions = new ArrayList<>();
            for (String category : OdinEventType.CATEGORIES) {
                byTopic.put(prefix + category, category);
                partitionsByTopic.put(prefix + category, 2);
                partitions.add(new TopicPartition(prefix + category, 0));
                partitions.add(new TopicPartition(prefix + category, 1));
            }
            kafka.createTopics(partitionsByTopic); // returns once every partition answers listOffsets
            return new Topics(kafka, byTopic, partitions);
        }

        PublisherOptions options(int rate, long durationSeconds, long maxEvents) {
            return new PublisherOptions(kafka.bootstrap(), rate, PublisherOptions.DEFAULT_TOKENS, durationSeconds, byTopic, 11,
                    maxEvents);
        }
    }

    private static PublisherOptions unreachable(int rate, long maxEvents) throws IOException {
        return new PublisherOptions(unreachableBootstrap(), rate, PublisherOptions.DEFAULT_TOKENS, 0,
                PublisherOptions.DEFAULT_TOPICS, 11, maxEvents);
    }

    /** 127.0.0.1 and a port that was just free and is closed again: connections to it are refused. */
    private static String unreachableBootstrap() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return "127.0.0.1:" + s.getLocalPort();
        }
    }

    // ---- the bound on the number of events (pure) -----------------------------------------------------------

    @Test
    void theLimitIsTheSmallerOfMaxEventsAndDurationTimesRate() {
        assertEquals(4_000, DemoPublisher.limit(bounds(20_000, 0, 4_000)), "max events alone");
        assertEquals(200, DemoPublisher.limit(bounds(200, 1, 0)), "duration alone: duration x rate");
        assertEquals(150, DemoPublisher.limit(bounds(50, 3, 1_000)), "both: the duration ends first");
        assertEquals(70, DemoPublisher.limit(bounds(50, 3, 70)), "both: max events ends first");
        assertEquals(Long.MAX_VALUE, DemoPublisher.limit(bounds(100, 0, 0)), "neither: until stopped");
        // a duration whose product with the rate overflows is no bound rather than a negative one
        assertEquals(Long.MAX_VALUE, DemoPublisher.limit(bounds(100_000, Long.MAX_VALUE / 10_000, 0)));
    }

    private static PublisherOptions bounds(int rate, long durationSeconds, long maxEvents) {
        return new PublisherOptions("127.0.0.1:9", rate, PublisherOptions.DEFAULT_TOKENS, durationSeconds,
                PublisherOptions.DEFAULT_TOPICS, 11, maxEvents);
    }

    // ---- against the broker ---------------------------------------------------------------------------------

    @Test
    void publishesMaxEventsKeyedRoutedStampedAndPaced(EmbeddedKafka kafka, TestInfo test) throws Exception {
        Topics topics = Topics.create(kafka, test);
        int rate = 200;
        int total = 2 * rate; // a schedule longer than the warm-up before it, so a burst would show
        long wallBefore = System.currentTimeMillis();
        DemoPublisher p = DemoPublisher.start(topics.options(rate, 0, total));
        try (p) {
            awaitAccounted(p, total);
        }
        long wallAfter = System.currentTimeMillis();
        assertEquals(0, p.failed(), "a healthy broker fails nothing");
        assertTrue(p.sent() > 0, counts(p));
        // skipped only if this machine stalled the loop for over a second; every event is accounted for either way
        assertEquals(total, p.sent() + p.skipped(), counts(p));

        List<ConsumerRecord<String, byte[]>> records = readAll(topics);
        assertEquals(p.sent(), records.size(), "every acknowledged event is in the log, and nothing else");
        Map<String, String> topicByCategory = new HashMap<>();
        topics.byTopic().forEach((topic, category) -> topicByCategory.put(category, topic));
        Map<TopicPartition, Long> lastTsByPartition = new HashMap<>();
        long lastTs = Long.MIN_VALUE;
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
            Long last = lastTsByPartition.put(new TopicPartition(r.topic(), r.partition()), ts);
            assertTrue(last == null || ts >= last, "time went backwards at " + where);
            lastTs = Math.max(lastTs, ts);
        }
        // Paced, not one burst: no event leaves before its due time, and the schedule starts after start() was
        // called, so the last event is at least the schedule's span after that. A lower bound, which a slow machine
        // only makes easier to meet; it needs the last event sent, which a stall long enough to skip it prevents.
        if (p.skipped() == 0) {
            long spanMillis = (total - 1) * 1_000L / rate;
            assertTrue(lastTs - wallBefore >= spanMillis - 1,
                    "last event " + (lastTs - wallBefore) + " ms after the start; scheduled at " + spanMillis);
        }
    }

    @Test
    void aDurationBoundsTheRunToDurationTimesRate(EmbeddedKafka kafka, TestInfo test) throws Exception {
        Topics topics = Topics.create(kafka, test);
        DemoPublisher p = DemoPublisher.start(topics.options(50, 1, 0));
        try (p) {
            awaitAccounted(p, 50);
        }
        assertEquals(0, p.failed());
        assertEquals(50, p.sent() + p.skipped(), counts(p));
        assertEquals(p.sent(), readAll(topics).size());
    }

    @Test
    void atTheTopRateEveryEventIsAccountedFor(EmbeddedKafka kafka, TestInfo test) throws Exception {
        Topics topics = Topics.create(kafka, test);
        int total = 5_000;
        DemoPublisher p = DemoPublisher.start(topics.options(PublisherOptions.MAX_RATE, 0, total));
        try (p) {
            awaitAccounted(p, total);
        }
        // whether this machine keeps up is for make bench; here: nothing lost, nothing counted twice
        assertEquals(0, p.failed());
        assertTrue(p.sent() > 0, counts(p));
        assertEquals(total, p.sent() + p.skipped(), counts(p));
        assertEquals(p.sent(), readAll(topics).size());
    }

    @Test
    void failedSendsAreCountedNotFatal() throws Exception {
        // Unreachable broker: the warm-up gives up after max.block.ms, then each send blocks as long and fails.
        DemoPublisher p = DemoPublisher.start(unreachable(1, 2));
        try {
            assertTrue(p.awaitDone(WITHIN.toSeconds(), TimeUnit.SECONDS), "the publisher did not stop by itself: " + counts(p));
            assertEquals(0, p.sent(), counts(p));
            assertTrue(p.failed() >= 1, "the first event is attempted and its failure counted: " + counts(p));
            // the second is attempted too, unless this machine stalled the loop for over a second after the first
            assertEquals(2, p.failed() + p.skipped(), counts(p));
            long failed = p.failed();
            assertTimeout(Duration.ofSeconds(10), p::close, "close returns within its budget");
            assertEquals(failed, p.failed(), "nothing sent after close");
        } finally {
            p.close();
        }
    }

    @Test
    void closeStopsTheLoopAndTheProducer(EmbeddedKafka kafka, TestInfo test) throws Exception {
        Topics topics = Topics.create(kafka, test);
        DemoPublisher p = DemoPublisher.start(topics.options(1, 0, 0)); // until stopped; event 0 due at the start
        try {
            Await.until("event 0 acknowledged", WITHIN, () -> p.sent() >= 1, () -> counts(p));
            assertTrue(isRegistered(PRODUCER_MBEAN), "the publisher's producer is not registered");
            assertFalse(p.awaitDone(0, TimeUnit.SECONDS), "an unbounded run goes on until closed");
            assertTimeout(Duration.ofSeconds(10), p::close, "close returns within its budget");
            assertTrue(p.awaitDone(0, TimeUnit.SECONDS), "the loop ended before close returned");
            assertFalse(isRegistered(PRODUCER_MBEAN), "the producer was not closed");
            // what was acknowledged is in the log; an event the close's flush gave up on may or may not be
            int records = readAll(topics).size();
            assertTrue(records >= p.sent() && records <= p.sent() + p.failed(), records + " records, " + counts(p));
        } finally {
            p.close();
        }
    }

    @Test
    void aLongStallCatchesUpAtMostOneSecondAndCountsTheRestAsSkipped() throws Exception {
        // Unreachable broker: every send stalls at least a second (max.block.ms) and fails, so after each send more
        // than a second of events is due. The loop keeps only the newest second (1000 events) of backlog and counts
        // the older ones as skipped, and stops once the due count passes the limit plus one second: a handful of sends
        // are attempted, not 2000, and the run ends after a few seconds instead of the 2000 s trying each would take.
        // A busier machine only makes each stall longer, hence fewer attempts.
        DemoPublisher p = DemoPublisher.start(unreachable(1_000, 2_000));
        try (p) {
            assertTrue(p.awaitDone(WITHIN.toSeconds(), TimeUnit.SECONDS), "the publisher did not stop by itself: " + counts(p));
        }
        assertEquals(0, p.sent(), counts(p));
        assertEquals(2_000, p.failed() + p.skipped(), counts(p));
        assertTrue(p.failed() >= 1 && p.failed() <= 5, "attempted: one per stalled second, " + counts(p));
    }

    // ---- observing the broker ---------------------------------------------------------------------------------

    /** Waits until the loop ended and every event it handed the producer was acknowledged or failed. */
    private static void awaitAccounted(DemoPublisher p, long total) throws InterruptedException {
        assertTrue(p.awaitDone(WITHIN.toSeconds(), TimeUnit.SECONDS), "the publisher did not stop by itself: " + counts(p));
        Await.until("every event acknowledged, failed or skipped", WITHIN,
                () -> p.sent() + p.failed() + p.skipped() == total, () -> counts(p));
    }

    private static String counts(DemoPublisher p) {
        return "sent=" + p.sent() + " failed=" + p.failed() + " skipped=" + p.skipped();
    }

    /** Every record in the test's topics, read with manual assignment (no consumer group), in offset order. */
    private static List<ConsumerRecord<String, byte[]>> readAll(Topics topics) throws Exception {
        Properties props = new Properties();
        props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, topics.kafka().bootstrap());
        props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        props.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, "5000");
        props.put(ConsumerConfig.CLIENT_ID_CONFIG, "demo-publisher-test-reader");
        List<ConsumerRecord<String, byte[]>> records = new ArrayList<>();
        try (KafkaConsumer<String, byte[]> consumer =
                          new KafkaConsumer<>(props, new StringDeserializer(), new ByteArrayDeserializer())) {
            consumer.assign(topics.partitions());
            Map<TopicPartition, Long> end = consumer.endOffsets(topics.partitions(), WITHIN);
            consumer.seekToBeginning(topics.partitions());
            Await.until("reading the test's topics to their end", WITHIN, () -> {
                consumer.poll(Duration.ofMillis(100)).forEach(records::add);
                return topics.partitions().stream().allMatch(tp -> consumer.position(tp) >= end.get(tp));
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
