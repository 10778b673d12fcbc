package io.odinws.recovery;

import io.netty.buffer.ByteBuf;
import io.odinws.bus.FrameBatch;
import io.odinws.envelope.OutboundMessage;
import io.odinws.config.KafkaConfig;
import io.odinws.config.RecoveryConfig;
import io.odinws.testkit.Await;
import io.odinws.testkit.EmbeddedKafka;
import io.odinws.testkit.KafkaBrokerExtension;
import io.odinws.testkit.OdinTopics;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.RecordsToDelete;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.stream.LongStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@link KafkaReplayReader} against the embedded broker (no mocks). */
@ExtendWith(KafkaBrokerExtension.class)
class KafkaReplayReaderTest {

  private static final Logger LOG = LoggerFactory.getLogger(KafkaReplayReaderTest.class);
  private static final String CATEGORY = "trade";

  @Test
  void readsTheValidRecordsOfARangeInOffsetOrderAsReplayFrames(EmbeddedKafka kafka) throws Exception {
    String topic = topic("trades");
    kafka.createTopics(Map.of(topic, 3));
    // Partition 1: offsets 0..19, three of them invalid (3: no key, 7: not JSON, 11: key with a space); a few records on the other partitions too.
    Map<Long, String[]> sent = new LinkedHashMap<>(); // offset -> key, value
    Map<Long, Long> timestamps = new LinkedHashMap<>();
    try (KafkaProducer<String, String> producer = OdinTopics.producer(kafka.bootstrap())) {
      List<java.util.concurrent.Future<RecordMetadata>> acks = new ArrayList<>();
      List<String[]> records = new ArrayList<>();
      for (int i = 0; i < 20; i++) {
        String key = "T" + i;
        String value = "{\"i\":" + i + ",\"s\":\"x\"}";
        if (i == 3) {
          key = null;
        } else if (i == 7) {
          value = "{bad";
        } else if (i == 11) {
          key = "A B";
        } else if (i == 15) {
          value = "[1, 2 ,3]"; // valid, embedded verbatim with its odd spacing
        }
        records.add(new String[] {key, value});
        acks.add(producer.send(new ProducerRecord<>(topic, 1, key, value)));
      }
      producer.send(new ProducerRecord<>(topic, 0, "OTHER", "{}"));
      producer.send(new ProducerRecord<>(topic, 2, "OTHER", "{}"));
      producer.flush();
      for (int i = 0; i < acks.size(); i++) {
        RecordMetadata md = acks.get(i).get(30, TimeUnit.SECONDS);
        assertEquals(i, md.offset());
        sent.put(md.offset(), records.get(i));
        timestamps.put(md.offset(), md.timestamp());
      }
    }

    try (KafkaReplayReader reader = new KafkaReplayReader(kafkaConfig(kafka.bootstrap(), topic), recoveryConfig(10_000, 10_000))) {
      long t0 = System.nanoTime();
      ReplayRead read = await(reader.read(topic, 1, 2, 16));
      LOG.info("timing: first read (consumer creation included) {} ms", millisSince(t0));
      FrameBatch batch = read.batch();
      try {
        assertEquals(2, read.fromOffset());
        assertEquals(16, read.untilOffset());
        assertEquals(0, read.logStartOffset());
        assertEquals(20, read.logEndOffset());
        assertTrue(read.complete());
        assertEquals(List.of(2L, 4L, 5L, 6L, 8L, 9L, 10L, 12L, 13L, 14L, 15L), offsets(batch), "valid records only, in offset order");
        for (OutboundMessage m : batch.messages()) {
          String[] kv = sent.get(m.offset());
          assertEquals(1, m.partition());
          assertEquals(kv[0] + "." + CATEGORY, m.channel());
          ByteBuf frame = m.frame();
          assertEquals((byte) 0x81, frame.getByte(frame.readerIndex()), "FIN text frame");
          String payload = payload(frame);
          JsonObject json = new JsonObject(payload);
          assertEquals("replay:message", json.getString("type"));
          assertEquals(2, json.getInteger("priority"));
          assertEquals(m.offset(), json.getLong("seq"));
          assertEquals("1:" + m.offset(), json.getString("pos"));
          assertEquals(kv[0] + "." + CATEGORY, json.getString("channel"));
          assertEquals(timestamps.get(m.offset()), json.getLong("ts"), "ts is the record's timestamp");
          assertTrue(payload.endsWith(",\"data\":" + kv[1] + "}"), "data verbatim: " + payload);
          Object data = json.getValue("data");
          if (m.offset() == 15) {
            assertEquals(new JsonArray("[1,2,3]"), data);
          } else {
            assertEquals(new JsonObject(kv[1]), data);
          }
        }
      } finally {
        batch.release();
      }
      assertReleased(batch);

      // A second read on the same thread's consumer: a different partition, then the whole of partition 1.
      t0 = System.nanoTime();
      ReplayRead other = await(reader.read(topic, 0, 0, 100));
      LOG.info("timing: read with a reused consumer {} ms", millisSince(t0));
      assertEquals(1, other.batch().size());
      assertEquals("OTHER.trade", other.batch().messages()[0].channel());
      assertTrue(other.complete());
      assertEquals(1, other.logEndOffset());
      other.batch().release();
      assertReleased(other.batch());

      ReplayRead all = await(reader.read(topic, 1, 0, 20));
      assertEquals(LongStream.range(0, 20).filter(o -> o != 3 && o != 7 && o != 11).boxed().toList(), offsets(all.batch()));
      assertTrue(all.complete());
      all.batch().release();
      assertReleased(all.batch());

      assertEquals(3, reader.reads());
      assertEquals(3, reader.requests());
    }
  }

  @Test
  void rangeStartingBeforeTheLogStartReportsTheLogStart(EmbeddedKafka kafka) throws Exception {
    String topic = topic("retention");
    kafka.createTopics(Map.of(topic, 1));
    produce(kafka, topic, 0, 30);
    TopicPartition tp = new TopicPartition(topic, 0);
    try (Admin admin = kafka.createAdmin()) {
      admin.deleteRecords(Map.of(tp, RecordsToDelete.beforeOffset(10))).all().get(30, TimeUnit.SECONDS);
    }
    try (KafkaReplayReader reader = new KafkaReplayReader(kafkaConfig(kafka.bootstrap(), topic), recoveryConfig(10_000, 10_000))) {
      ReplayRead read = await(reader.read(topic, 0, 0, 30));
      try {
        assertEquals(0, read.fromOffset());
        assertEquals(10, read.logStartOffset(), "records before the log start are gone: the caller cannot recover");
        assertTrue(read.logStartOffset() > read.fromOffset());
        assertEquals(30, read.logEndOffset());
        assertEquals(LongStream.range(10, 30).boxed().toList(), offsets(read.batch()));
        assertTrue(read.complete(), "every offset still in the log was read");
      } finally {
        read.batch().release();
      }
      assertReleased(read.batch());
    }
  }

  @Test
  void rangeBeyondTheEndIsEmptyAndUnknownPartitionsFail(EmbeddedKafka kafka) throws Exception {
    String topic = topic("end");
    String missing = topic("missing"); // configured, never created
    kafka.createTopics(Map.of(topic, 2));
    produce(kafka, topic, 0, 30);
    KafkaConfig config = new KafkaConfig(kafka.bootstrap(), Map.of(topic, CATEGORY, missing, "other"), 100, 100, 1_000);
    // a read timeout far beyond awaitFailure's 30 s: a failure seen at all is a failure before the timeout
    try (KafkaReplayReader reader = new KafkaReplayReader(config, recoveryConfig(10_000, 120_000))) {
      ReplayRead beyond = await(reader.read(topic, 0, 50, 60));
      assertEquals(0, beyond.batch().size());
      assertEquals(30, beyond.logEndOffset());
      assertEquals(50, beyond.fromOffset());
      assertEquals(60, beyond.untilOffset());
      assertTrue(beyond.complete(), "nothing of the effective range was left unread");
      beyond.batch().release();
      assertReleased(beyond.batch());

      ReplayRead across = await(reader.read(topic, 0, 25, 60));
      assertEquals(List.of(25L, 26L, 27L, 28L, 29L), offsets(across.batch()));
      assertEquals(30, across.logEndOffset());
      across.batch().release();
      assertReleased(across.batch());

      ReplayRead emptyPartition = await(reader.read(topic, 1, 0, 10));
      assertEquals(0, emptyPartition.batch().size());
      assertEquals(0, emptyPartition.logEndOffset());
      emptyPartition.batch().release();

      long t0 = System.nanoTime();
      Throwable unknownPartition = awaitFailure(reader.read(topic, 7, 0, 10));
      LOG.info("timing: unknown partition failed in {} ms: {}", millisSince(t0), unknownPartition.toString());
      t0 = System.nanoTime();
      Throwable unknownTopic = awaitFailure(reader.read(missing, 0, 0, 10));
      long unknownTopicMs = millisSince(t0);
      LOG.info("timing: unknown topic failed in {} ms: {}", unknownTopicMs, unknownTopic.toString());
      assertTrue(unknownTopicMs < 30_000, "fails fast, not at the read timeout: " + unknownTopicMs + " ms");
      Throwable unmapped = awaitFailure(reader.read("not.configured", 0, 0, 10));
      assertInstanceOf(IllegalArgumentException.class, unmapped);
      assertInstanceOf(IllegalArgumentException.class, awaitFailure(reader.read(topic, 0, 10, 5)));
    }
  }

  @Test
  void aReconnectStormIsServedByFewReads(EmbeddedKafka kafka) throws Exception {
    String topic = topic("storm");
    kafka.createTopics(Map.of(topic, 1));
    produce(kafka, topic, 0, 300);
    int requests = 2_000;
    try (KafkaReplayReader reader = new KafkaReplayReader(kafkaConfig(kafka.bootstrap(), topic), recoveryConfig(10_000, 10_000))) {
      // Four threads fire at once, like event loops after a drain; from offsets spread over [100, 200).
      long[] froms = new long[requests];
      @SuppressWarnings("unchecked")
      CompletableFuture<ReplayRead>[] byIndex = new CompletableFuture[requests];
      CountDownLatch go = new CountDownLatch(1);
      List<Thread> threads = new ArrayList<>();
      int perThread = requests / 4;
      for (int t = 0; t < 4; t++) {
        int first = t * perThread;
        Thread thread = new Thread(() -> {
          try {
            go.await();
          } catch (InterruptedException e) {
            return;
          }
          for (int i = first; i < first + perThread; i++) {
            froms[i] = 100 + ThreadLocalRandom.current().nextInt(100);
            byIndex[i] = reader.read(topic, 0, froms[i], 300).toCompletionStage().toCompletableFuture();
          }
        });
        thread.start();
        threads.add(thread);
      }
      long t0 = System.nanoTime();
      go.countDown();
      for (Thread thread : threads) {
        thread.join(30_000);
      }
      CompletableFuture.allOf(byIndex).get(30, TimeUnit.SECONDS);
      long stormMs = millisSince(t0);
      LOG.info("timing: {} requests served by {} reads in {} ms", requests, reader.reads(), stormMs);

      assertEquals(requests, reader.requests());
      // coalesced: a read per request would be 2,000; a slow machine may need a few more than the usual 2
      assertTrue(reader.reads() < requests / 20, "reads: " + reader.reads());
      Set<FrameBatch> batches = Collections.newSetFromMap(new IdentityHashMap<>());
      for (int i = 0; i < requests; i++) {
        ReplayRead read = byIndex[i].get();
        assertEquals(froms[i], read.fromOffset());
        assertEquals(300, read.untilOffset());
        assertEquals(300, read.logEndOffset());
        assertTrue(read.complete());
        long from = froms[i];
        List<Long> own = offsets(read.batch()).stream().filter(o -> o >= from && o < 300).toList();
        assertEquals(LongStream.range(from, 300).boxed().toList(), own, "request " + i);
        assertTrue(read.batch().refCnt() > 0);
        batches.add(read.batch());
      }
      assertTrue(batches.size() <= 3, "batches: " + batches.size());
      int total = batches.stream().mapToInt(FrameBatch::refCnt).sum();
      assertEquals(requests, total, "one reference per request, the reader's own released");
      for (int i = 0; i < requests; i++) {
        byIndex[i].get().batch().release();
      }
      for (FrameBatch b : batches) {
        assertReleased(b);
      }
    }
  }

  @Test
  void requestsArrivingDuringAReadAttachOrWaitForOneMoreRead(EmbeddedKafka kafka) throws Exception {
    String topic = topic("pending");
    kafka.createTopics(Map.of(topic, 1));
    produce(kafka, topic, 0, 100);
    Gate gate = new Gate();
    try (KafkaReplayReader reader = new KafkaReplayReader(kafkaConfig(kafka.bootstrap(), topic), recoveryConfig(10_000, 10_000), 2, gate)) {
      Future<ReplayRead> first = reader.read(topic, 0, 50, 80);
      gate.awaitHeld(); // the first read has started: its range [50, 80) is fixed
      Future<ReplayRead> covered = reader.read(topic, 0, 60, 70);
      List<Future<ReplayRead>> lower = new ArrayList<>();
      for (int i = 0; i < 200; i++) {
        lower.add(reader.read(topic, 0, 10 + i % 20, 80));
      }
      Future<ReplayRead> longer = reader.read(topic, 0, 40, 90);
      gate.open();

      ReplayRead firstRead = await(first);
      ReplayRead coveredRead = await(covered);
      ReplayRead longerRead = await(longer);
      assertEquals(2, reader.reads(), "one read in flight per partition, one more for all that waited");
      assertTrue(firstRead.batch() == coveredRead.batch(), "the covered request shares the first read");
      assertEquals(LongStream.range(50, 80).boxed().toList(), offsets(firstRead.batch()));
      assertEquals(60, coveredRead.fromOffset());
      assertEquals(70, coveredRead.untilOffset());
      assertTrue(coveredRead.complete());
      assertEquals(LongStream.range(10, 90).boxed().toList(), offsets(longerRead.batch()), "[min from, max until) of the waiting ones");
      assertEquals(40, longerRead.fromOffset());
      assertEquals(90, longerRead.untilOffset());
      assertTrue(longerRead.complete());
      assertEquals(2, firstRead.batch().refCnt());
      assertEquals(201, longerRead.batch().refCnt());
      List<ReplayRead> lowerReads = new ArrayList<>();
      for (int i = 0; i < lower.size(); i++) {
        ReplayRead r = await(lower.get(i));
        lowerReads.add(r);
        assertTrue(r.batch() == longerRead.batch());
        assertEquals(10 + i % 20, r.fromOffset());
        assertTrue(r.complete());
      }
      firstRead.batch().release();
      coveredRead.batch().release();
      longerRead.batch().release();
      lowerReads.forEach(r -> r.batch().release());
      assertReleased(firstRead.batch());
      assertReleased(longerRead.batch());
    }
  }

  @Test
  void aRequestTheSharedReadsLimitLeftShortIsReadAgain(EmbeddedKafka kafka) throws Exception {
    String topic = topic("requeue");
    kafka.createTopics(Map.of(topic, 1));
    produce(kafka, topic, 0, 30);
    Gate gate = new Gate();
    try (KafkaReplayReader reader = new KafkaReplayReader(kafkaConfig(kafka.bootstrap(), topic), recoveryConfig(5, 10_000), 1, gate)) {
      Future<ReplayRead> big = reader.read(topic, 0, 0, 30);
      gate.awaitHeld();
      Future<ReplayRead> small = reader.read(topic, 0, 2, 4);   // inside what the limit lets the first read take
      Future<ReplayRead> mid = reader.read(topic, 0, 3, 9);     // 6 offsets: more than the limit on its own too
      Future<ReplayRead> tail = reader.read(topic, 0, 26, 30);  // fits the limit on its own: read again
      gate.open();
      ReplayRead bigRead = await(big);
      ReplayRead smallRead = await(small);
      ReplayRead midRead = await(mid);
      ReplayRead tailRead = await(tail);
      assertEquals(2, reader.reads());
      assertFalse(bigRead.complete());
      assertEquals(List.of(0L, 1L, 2L, 3L, 4L), offsets(bigRead.batch()));
      assertTrue(smallRead.complete());
      assertTrue(smallRead.batch() == bigRead.batch());
      assertFalse(midRead.complete());
      assertTrue(tailRead.complete());
      assertEquals(List.of(26L, 27L, 28L, 29L), offsets(tailRead.batch()));
      for (ReplayRead r : List.of(bigRead, smallRead, midRead, tailRead)) {
        r.batch().release();
      }
      assertReleased(bigRead.batch());
      assertReleased(tailRead.batch());
    }
  }

  @Test
  void theRecordLimitCutsAReadShort(EmbeddedKafka kafka) throws Exception {
    String topic = topic("limit");
    kafka.createTopics(Map.of(topic, 1));
    produce(kafka, topic, 0, 30);
    try (KafkaReplayReader reader = new KafkaReplayReader(kafkaConfig(kafka.bootstrap(), topic), recoveryConfig(5, 10_000))) {
      ReplayRead cut = await(reader.read(topic, 0, 0, 30));
      assertFalse(cut.complete());
      assertEquals(List.of(0L, 1L, 2L, 3L, 4L), offsets(cut.batch()));
      cut.batch().release();
      assertReleased(cut.batch());

      ReplayRead small = await(reader.read(topic, 0, 10, 15));
      assertTrue(small.complete());
      assertEquals(List.of(10L, 11L, 12L, 13L, 14L), offsets(small.batch()));
      small.batch().release();

      // Together: whether or not the two coalesce, the small request (which fits the limit on its
      // own) is answered completely, and the large one is not.
      Future<ReplayRead> big = reader.read(topic, 0, 0, 30);
      Future<ReplayRead> tail = reader.read(topic, 0, 26, 30);
      ReplayRead bigRead = await(big);
      ReplayRead tailRead = await(tail);
      assertFalse(bigRead.complete());
      assertTrue(tailRead.complete());
      assertEquals(List.of(26L, 27L, 28L, 29L), offsets(tailRead.batch()).stream().filter(o -> o >= 26).toList());
      bigRead.batch().release();
      tailRead.batch().release();
      assertReleased(bigRead.batch());
      assertReleased(tailRead.batch());
    }
  }

  @Test
  void anUnreachableBrokerFailsTheReadWithinTheTimeout() throws Exception {
    String topic = topic("nobroker");
    long timeoutMs = 1_500;
    try (KafkaReplayReader reader = new KafkaReplayReader(kafkaConfig("127.0.0.1:" + closedPort(), topic), recoveryConfig(1_000, timeoutMs))) {
      long t0 = System.nanoTime();
      Future<ReplayRead> a = reader.read(topic, 0, 0, 10);
      Future<ReplayRead> b = reader.read(topic, 0, 5, 10);
      Future<ReplayRead> c = reader.read(topic, 1, 0, 10);
      Throwable error = awaitFailure(a);
      long elapsed = millisSince(t0);
      LOG.info("timing: unreachable broker failed in {} ms (timeout {} ms): {}", elapsed, timeoutMs, error.toString());
      assertTrue(elapsed >= timeoutMs - 100, "gave up early: " + elapsed);
      assertNotNull(awaitFailure(b));
      assertNotNull(awaitFailure(c)); // each within awaitFailure's deadline: they gave up by themselves
    }
  }

  @Test
  void closeFailsWaitingRequestsAndLaterOnes() throws Exception {
    String topic = topic("close");
    // Only this reader's threads are waited for below: in a suite run other classes' servers have threads of the
    // same name, and waiting out each of those would only add time.
    Set<Thread> others = replayThreads();
    KafkaReplayReader reader = new KafkaReplayReader(kafkaConfig("127.0.0.1:" + closedPort(), topic), recoveryConfig(1_000, 20_000));
    Future<ReplayRead> inflight = reader.read(topic, 0, 10, 20);
    // a thread has taken it (reads counts taken jobs), so the next one is not covered and waits
    Await.until("a reader thread took the first read", Duration.ofSeconds(10), () -> reader.reads() >= 1);
    Future<ReplayRead> pending = reader.read(topic, 0, 0, 30);
    long t0 = System.nanoTime();
    reader.close();
    long closeMs = millisSince(t0);
    LOG.info("timing: close with a read in flight {} ms", closeMs);
    assertTrue(closeMs < 15_000, "close took " + closeMs + " ms"); // did not wait for the read's timeout
    assertNotNull(awaitFailure(inflight));
    assertNotNull(awaitFailure(pending));
    assertNotNull(awaitFailure(reader.read(topic, 0, 0, 1)));
    for (Thread t : replayThreads()) {
      if (!others.contains(t)) {
        t.join(2_000);
      }
    }
    reader.close(); // idempotent
  }

  private static Set<Thread> replayThreads() {
    Set<Thread> threads = Collections.newSetFromMap(new IdentityHashMap<>());
    for (Thread t : Thread.getAllStackTraces().keySet()) {
      if (t.getName().startsWith("odin-replay-") && t.isAlive()) {
        threads.add(t);
      }
    }
    return threads;
  }

  // ----------------------------------------------------------------------------------------------

  /** Holds the first read a reader starts until {@link #open()}. */
  private static final class Gate implements java.util.function.Consumer<TopicPartition> {
    private final CountDownLatch held = new CountDownLatch(1);
    private final CountDownLatch open = new CountDownLatch(1);
    private final java.util.concurrent.atomic.AtomicBoolean first = new java.util.concurrent.atomic.AtomicBoolean(true);

    @Override
    public void accept(TopicPartition tp) {
      if (first.getAndSet(false)) {
        held.countDown();
        try {
          open.await(30, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
    }

    void awaitHeld() throws InterruptedException {
      assertTrue(held.await(30, TimeUnit.SECONDS), "no read started");
    }

    void open() {
      open.countDown();
    }
  }

  @Test
  void aPrivateTopicsRecordsCarryTheirOwnersAndOneWithoutOwnerIsOmitted(EmbeddedKafka kafka) throws Exception {
    String topic = topic("balances");
    kafka.createTopics(Map.of(topic, 1));
    String[] values = {
        "{\"type\":\"BALANCE_UPDATED\",\"timestamp\":1,\"data\":{\"user\":\"0xalice\",\"balance\":\"1\",\"change\":\"1\"}}",
        "{\"type\":\"TRANSFER_COMPLETED\",\"timestamp\":2,\"data\":{\"from\":\"0xalice\",\"to\":\"0xbob\",\"amount\":\"1\"}}",
        "{\"type\":\"BALANCE_UPDATED\",\"timestamp\":3,\"data\":{\"balance\":\"1\"}}", // no owner: omitted
        "{\"type\":\"TRANSFER_COMPLETED\",\"timestamp\":4,\"data\":{\"from\":\"0xbob\",\"to\":\"0xbob\",\"amount\":\"1\"}}",
    };
    try (KafkaProducer<String, String> producer = OdinTopics.producer(kafka.bootstrap())) {
      for (String value : values) {
        producer.send(new ProducerRecord<>(topic, 0, "BTC", value)).get(30, TimeUnit.SECONDS);
      }
    }
    io.odinws.envelope.RecordOwners owners = new io.odinws.envelope.RecordOwners(Map.of(topic, List.of("/data/user", "/data/from", "/data/to")));
    try (KafkaReplayReader reader = new KafkaReplayReader(kafkaConfig(kafka.bootstrap(), topic), recoveryConfig(10_000, 10_000), owners)) {
      ReplayRead read = await(reader.read(topic, 0, 0, Long.MAX_VALUE));
      try {
        List<Long> offsets = new ArrayList<>();
        List<List<String>> found = new ArrayList<>();
        for (OutboundMessage m : read.batch().messages()) {
          offsets.add(m.offset());
          found.add(m.owners());
        }
        assertEquals(List.of(0L, 1L, 3L), offsets, "the record without owner is skipped, as live");
        assertEquals(List.of(List.of("0xalice"), List.of("0xalice", "0xbob"), List.of("0xbob")), found);
      } finally {
        read.batch().release();
      }
    }
  }

  private static String topic(String name) {
    return "replay-test." + name + "." + UUID.randomUUID().toString().substring(0, 8);
  }

  private static KafkaConfig kafkaConfig(String bootstrap, String topic) {
    return new KafkaConfig(bootstrap, Map.of(topic, CATEGORY), 100, 100, 1_000);
  }

  private static RecoveryConfig recoveryConfig(int maxRecordsPerRead, long timeoutMs) {
    return new RecoveryConfig(64L << 20, 60_000, 10_000, 10_000, timeoutMs, maxRecordsPerRead, 10_000, 100);
  }

  /** {@code count} valid records with keys {@code K0, K1, ...} at offsets 0.. of the partition. */
  private static void produce(EmbeddedKafka kafka, String topic, int partition, int count) throws Exception {
    try (KafkaProducer<String, String> producer = OdinTopics.producer(kafka.bootstrap())) {
      List<java.util.concurrent.Future<RecordMetadata>> acks = new ArrayList<>();
      for (int i = 0; i < count; i++) {
        acks.add(producer.send(new ProducerRecord<>(topic, partition, "K" + i, "{\"n\":" + i + "}")));
      }
      producer.flush();
      for (java.util.concurrent.Future<RecordMetadata> ack : acks) {
        ack.get(30, TimeUnit.SECONDS);
      }
    }
  }

  private static ReplayRead await(Future<ReplayRead> f) throws Exception {
    return f.toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
  }

  private static Throwable awaitFailure(Future<ReplayRead> f) throws Exception {
    CompletableFuture<ReplayRead> cf = f.toCompletionStage().toCompletableFuture();
    ExecutionException e = assertThrows(ExecutionException.class, () -> {
      ReplayRead unexpected = cf.get(30, TimeUnit.SECONDS);
      unexpected.batch().release();
    });
    return e.getCause();
  }

  private static List<Long> offsets(FrameBatch batch) {
    List<Long> out = new ArrayList<>();
    for (OutboundMessage m : batch.messages()) {
      out.add(m.offset());
    }
    return out;
  }

  private static void assertReleased(FrameBatch batch) {
    assertEquals(0, batch.refCnt(), "batch refCnt");
    for (OutboundMessage m : batch.messages()) {
      assertEquals(0, m.frame().refCnt(), "frame of offset " + m.offset());
    }
  }

  /** The payload of an unmasked server frame. */
  private static String payload(ByteBuf frame) {
    int i = frame.readerIndex();
    int b1 = frame.getUnsignedByte(i + 1);
    int header = b1 < 126 ? 2 : b1 == 126 ? 4 : 10;
    return frame.toString(i + header, frame.writerIndex() - i - header, StandardCharsets.UTF_8);
  }

  /** A loopback port nothing listens on. */
  private static int closedPort() throws Exception {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }

  private static long millisSince(long t0) {
    return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
  }
}
