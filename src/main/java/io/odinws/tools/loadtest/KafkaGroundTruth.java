package io.odinws.tools.loadtest;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.core.json.pointer.JsonPointer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.CloseOptions;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/**
 * Ground truth from Kafka: a consumer with no group, manually assigned every partition of the topics of
 * the subscribed categories, starting at the end offsets captured at {@link #start}. It records (offset,
 * record timestamp) for each record whose channel ({@code key + "." + category}) is subscribed. At the end
 * it reads up to the end offsets of that moment (bounded wait), so the run's last records are in.
 * The consumer lives on its own thread (KafkaConsumer is not thread-safe). For a private category it also keeps
 * each record's owners, read from its value at the owner pointers (the records of those categories are few).
 */
final class KafkaGroundTruth implements GroundTruth {
    private static final Duration POLL = Duration.ofMillis(100);
    private static final long CATCH_UP_MILLIS = 10_000;

    private final String bootstrap;
    private final Map<String, String> topicToCategory;
    /** Private category to the JSON pointers of its records' owners; empty = every category is public. */
    private final Map<String, List<JsonPointer>> ownerPointers = new HashMap<>();
    private final Map<String, Growing> records = new HashMap<>();
    private final CountDownLatch started = new CountDownLatch(1);
    private final CountDownLatch finished = new CountDownLatch(1);
    private KafkaConsumer<byte[], byte[]> consumer;
    private Thread thread;
    private volatile boolean draining;
    private volatile boolean closed;
    private volatile Exception failure;

    KafkaGroundTruth(String bootstrap, Map<String, String> topicToCategory) {
        this(bootstrap, topicToCategory, Map.of());
    }

    /** @param privateOwners category to the JSON pointers of its records' owners ({@link AuthOptions#privateOwners}) */
    KafkaGroundTruth(String bootstrap, Map<String, String> topicToCategory, Map<String, List<String>> privateOwners) {
        this.bootstrap = bootstrap;
        this.topicToCategory = topicToCategory;
        privateOwners.forEach((category, pointers) -> ownerPointers.put(category, pointers.stream().map(JsonPointer::from).toList()));
    }

    private static final class Growing {
        long[] offsets = new long[64];
        long[] timestamps = new long[64];
        String[][] owners; // null for a public channel
        int n;

        Growing(boolean owned) {
            if (owned) owners = new String[64][];
        }

        void add(long offset, long ts, String[] recordOwners) {
            if (n == offsets.length) {
                offsets = Arrays.copyOf(offsets, n * 2);
                timestamps = Arrays.copyOf(timestamps, n * 2);
                if (owners != null) owners = Arrays.copyOf(owners, n * 2);
            }
            if (owners != null) owners[n] = recordOwners;
            offsets[n] = offset;
            timestamps[n++] = ts;
        }
    }

    /** The distinct strings at {@code pointers} in a record value; none when it is not a JSON object. */
    static String[] owners(byte[] value, List<JsonPointer> pointers) {
        if (value == null) return new String[0];
        JsonObject json;
        try {
            json = new JsonObject(Buffer.buffer(value));
        } catch (RuntimeException notAnObject) {
            return new String[0];
        }
        Set<String> out = new LinkedHashSet<>();
        for (JsonPointer p : pointers) {
            if (p.queryJson(json) instanceof String s) out.add(s);
        }
        return out.toArray(new String[0]);
    }

    @Override
    public void start(Collection<String> channels) throws Exception {
        Set<String> wanted = new HashSet<>(channels);
        Set<String> categories = new HashSet<>();
        for (String c : wanted) categories.add(c.substring(c.lastIndexOf('.') + 1));
        for (String c : wanted) records.put(c, new Growing(ownerPointers.containsKey(c.substring(c.lastIndexOf('.') + 1))));
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ConsumerConfig.CLIENT_ID_CONFIG, "odin-ws-loadtest-truth");
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest"); // only if a start offset vanished (retention)
        p.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, "5000");
        p.put(ConsumerConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, "15000");
        consumer = new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer());
        List<TopicPartition> parts = new ArrayList<>();
        for (var e : topicToCategory.entrySet()) {
            if (!categories.contains(e.getValue())) continue;
            List<PartitionInfo> infos = consumer.partitionsFor(e.getKey(), Duration.ofSeconds(10));
            if (infos == null || infos.isEmpty()) throw new IllegalStateException("--kafka: topic " + e.getKey() + " not found");
            for (PartitionInfo i : infos) parts.add(new TopicPartition(i.topic(), i.partition()));
        }
        if (parts.isEmpty()) throw new IllegalStateException("--kafka: no topic maps to the subscribed categories " + categories);
        consumer.assign(parts);
        Map<TopicPartition, Long> ends = consumer.endOffsets(parts, Duration.ofSeconds(10));
        ends.forEach(consumer::seek); // start offsets: nothing produced before the run counts
        for (TopicPartition tp : parts) consumer.position(tp, Duration.ofSeconds(10)); // resolve now, not at first poll
        thread = new Thread(() -> loop(parts), "loadtest-truth");
        thread.setDaemon(true);
        thread.start();
        started.countDown();
    }

    private void loop(List<TopicPartition> parts) {
        try {
            Map<TopicPartition, Long> target = null;
            long deadline = Long.MAX_VALUE;
            while (!closed) {
                if (draining && target == null) {
                    target = consumer.endOffsets(parts, Duration.ofSeconds(5));
                    deadline = System.currentTimeMillis() + CATCH_UP_MILLIS;
                }
                if (target != null && (caughtUp(target) || System.currentTimeMillis() > deadline)) break;
                for (ConsumerRecord<byte[], byte[]> r : consumer.poll(POLL)) {
                    if (r.key() == null) continue;
                    String category = topicToCategory.get(r.topic());
                    Growing g = records.get(new String(r.key(), StandardCharsets.UTF_8) + "." + category);
                    if (g != null) g.add(r.offset(), r.timestamp(), g.owners == null ? null : owners(r.value(), ownerPointers.get(category)));
                }
            }
        } catch (Exception e) {
            failure = e;
        } finally {
            finished.countDown();
        }
    }

    private boolean caughtUp(Map<TopicPartition, Long> target) {
        for (var e : target.entrySet()) if (consumer.position(e.getKey()) < e.getValue()) return false;
        return true;
    }

    @Override
    public Map<String, ChannelRecords> collect(long runEndMillis) throws Exception {
        started.await();
        draining = true;
        if (!finished.await(CATCH_UP_MILLIS + 10_000, TimeUnit.MILLISECONDS)) {
            throw new IllegalStateException("--kafka: the ground-truth consumer did not catch up");
        }
        if (failure != null) throw failure;
        Map<String, ChannelRecords> out = new HashMap<>();
        records.forEach((ch, g) -> out.put(ch, new ChannelRecords(Arrays.copyOf(g.offsets, g.n), Arrays.copyOf(g.timestamps, g.n),
                g.owners == null ? null : Arrays.copyOf(g.owners, g.n))));
        return out;
    }

    @Override
    public void close() {
        closed = true;
        try {
            if (thread != null && thread.isAlive()) {
                consumer.wakeup();
                thread.join(5_000);
            }
            if (consumer != null && (thread == null || !thread.isAlive())) consumer.close(CloseOptions.timeout(Duration.ofSeconds(2)));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (RuntimeException e) {
            // closing is best effort; the report is already complete
        }
    }
}
