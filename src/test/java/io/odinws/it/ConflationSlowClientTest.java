package io.odinws.it;

import io.odinws.stats.ShardStats;
import io.odinws.testkit.Await;
import io.odinws.testkit.EmbeddedKafka;
import io.odinws.testkit.KafkaBrokerExtension;
import io.odinws.testkit.OdinTopics;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue 18, point 2: a client reading at a tenth of the publish rate stays connected on {@code latest} channels
 * (analytics) for 60 s with bounded memory in the server, every value it gets at most one socket drain behind
 * (PROTOCOL.md section 9: once publishing pauses, it holds the newest value of every channel after reading at most
 * what was queued for it, the kernel's socket buffers and one kept message per channel), skipped counts exact and
 * the skipped messages recoverable; the same client on an {@code all} channel (trade) is closed with 1008.
 */
@ExtendWith(KafkaBrokerExtension.class)
class ConflationSlowClientTest {

  private static final int HIGH_WATER = 64 * 1024;
  private static final String[] TOKENS = {"AAA", "BBB", "CCC", "DDD"};
  /**
   * Published per second, over all channels: about 400 KB/s, so that the client's backlog outgrows the kernel's socket
   * buffers within the first seconds of the run; few records, for CPU.
   */
  private static final int RATE = 100;
  private static final int VALUE_BYTES = 4000;
  /** Seconds of slow reading before each check that the client is current: 60 in all. */
  private static final int[] PHASES = {45, 15};
  private static final int READ_BYTES_PER_SECOND = RATE * VALUE_BYTES / 10;
  private static final String PAD = "x".repeat(VALUE_BYTES - 40);

  private static JsonObject config() {
    return new JsonObject().put("shards", 1)
        .put("ws", new JsonObject().put("idleTimeoutMs", 120_000))
        .put("limits", new JsonObject().put("outboundHighWaterBytes", HIGH_WATER).put("slowClientGraceMs", 2_000));
  }

  @Test
  void aClientReadingATenthOfTheRateOnLatestChannelsStaysConnectedAndCurrent(EmbeddedKafka kafka) throws Exception {
    OdinTopics.createAll(kafka);
    try (ServerHarness server = ServerHarness.start(kafka, config());
         KafkaProducer<String, String> producer = OdinTopics.producer(kafka.bootstrap());
         RawWsClient raw = RawWsClient.connect(server.port(), 4096)) {
      ShardStats stats = server.slots().get(0).stats();
      List<String> channels = java.util.Arrays.stream(TOKENS).map(t -> t + ".analytics").toList();
      raw.sendText(new JsonObject().put("type", "subscribe").put("data", new JsonObject().put("channels", new JsonArray(channels))).encode());
      assertEquals("subscription_ack", new JsonObject(raw.readUntil(0x1).text()).getString("type"));
      Publisher publisher = new Publisher(producer, OdinTopics.ANALYTICS);
      Reader reader = new Reader(raw);
      reader.start();
      publisher.start();
      // the server fixes the send buffer of a connection on latest channels at 64 KiB, which Linux doubles
      long kernelBytes = 2L * 64 * 1024 + 2L * raw.socket.getReceiveBufferSize();
      try {
        // two phases, each ending with a check that the client is one drain behind at most
        for (int phase = 0; phase < PHASES.length; phase++) {
          // the reader's pace makes the phase last PHASES[phase] seconds at least
          long phaseEnd = reader.bytes + (long) READ_BYTES_PER_SECOND * PHASES[phase];
          Await.until("the slow client read " + PHASES[phase] + " s of data at its rate", Duration.ofSeconds(3L * PHASES[phase]),
              () -> reader.bytes >= phaseEnd || reader.failure.get() != null || reader.closeCode != null);
          assertNull(reader.failure.get());
          assertTrue(stats.keptMessagesPeak() <= channels.size(), "kept: at most one per channel, " + stats.keptMessagesPeak());
          long published = publisher.pause();
          Await.until("the server took every published value", Duration.ofSeconds(60),
              () -> server.server.ingest().received() >= published);
          Map<String, Integer> newest = publisher.newest();
          long readBefore = reader.fast();
          Await.until("the client holds the newest value of every channel", Duration.ofSeconds(60),
              () -> newest.entrySet().stream().allMatch(e -> reader.lastValue(e.getKey()) == e.getValue()),
              () -> "newest " + newest + ", client " + reader.last + ", failure " + reader.failure.get());
          long read = reader.bytes - readBefore;
          long bound = stats.slowQueuedPeak() + kernelBytes + (long) channels.size() * (VALUE_BYTES + 200);
          System.out.printf("event=conflation_phase phase=%d read_to_current=%d bound=%d queued_peak=%d conflated=%d%n",
              phase, read, bound, stats.slowQueuedPeak(), stats.conflatedMessages());
          assertTrue(read <= bound, "read " + read + " bytes to be current, more than one drain: " + bound);
          reader.slow();
          publisher.resume();
        }
      } finally {
        publisher.stop();
      }
      assertNull(reader.failure.get());
      assertNull(reader.closeCode, "still connected after 60 s");
      assertEquals(0, stats.slowClientsClosed());
      assertTrue(stats.conflatedMessages() > 0, "it was slow: messages were skipped");
      // the Netty queue stayed near the high water mark: one flush of messages beyond it at most
      assertTrue(stats.slowQueuedPeak() <= HIGH_WATER + 512 * 1024, "queued peak " + stats.slowQueuedPeak());
      assertTrue(reader.skippedTotal > 0);

      // The skipped messages are recoverable: reconnect from the position before a skip.
      Reader.Skip skip = reader.firstSkip;
      try (RawWsClient again = RawWsClient.connect(server.port())) {
        again.sendText(new JsonObject().put("type", "reconnect").put("data", new JsonObject()
            .put("last_offset", new JsonObject().put(skip.channel(), skip.previousPos()))).encode());
        List<Integer> replayed = new ArrayList<>();
        for (RawWsClient.Frame f = again.read(); f != null; f = again.read()) {
          JsonObject m = new JsonObject(f.text());
          if ("reconnect_ack".equals(m.getString("type"))) {
            break;
          }
          if ("replay:message".equals(m.getString("type"))) {
            replayed.add(m.getJsonObject("data").getInteger("i"));
          }
        }
        for (int i = skip.previousValue() + 1; i <= skip.value(); i++) {
          assertTrue(replayed.contains(i), "value " + i + " of " + skip.channel() + " replayed: " + replayed.subList(0, Math.min(20, replayed.size())));
        }
        assertEquals(skip.previousValue() + 1, replayed.get(0), "recovery starts right after the previous position");
      }
    }
  }

  @Test
  void theSameClientOnAnAllChannelIsClosedWith1008(EmbeddedKafka kafka) throws Exception {
    OdinTopics.createAll(kafka);
    try (ServerHarness server = ServerHarness.start(kafka, config());
         KafkaProducer<String, String> producer = OdinTopics.producer(kafka.bootstrap());
         RawWsClient raw = RawWsClient.connect(server.port(), 4096)) {
      ShardStats stats = server.slots().get(0).stats();
      raw.sendText("{\"type\":\"subscribe\",\"data\":{\"channels\":[\"AAA.trade\",\"BBB.trade\",\"CCC.trade\",\"DDD.trade\"]}}");
      assertEquals("subscription_ack", new JsonObject(raw.readUntil(0x1).text()).getString("type"));
      Publisher publisher = new Publisher(producer, OdinTopics.TRADES);
      Reader reader = new Reader(raw);
      reader.start();
      publisher.start();
      try {
        Await.until("the slow client is closed", Duration.ofSeconds(60), () -> stats.slowClientsClosed() == 1);
      } finally {
        publisher.stop();
      }
      Await.until("closed as a slow client", Duration.ofSeconds(30),
          () -> stats.disconnects(io.odinws.stats.DisconnectReason.SLOW_CLIENT) == 1);
      reader.fast();
      Await.until("the connection ends for the client", Duration.ofSeconds(60), () -> !reader.isAlive());
      // it finds its backlog then the close frame, unless the close timed out in the full socket (then a reset)
      if (reader.closeCode != null) {
        assertEquals(1008, reader.closeCode);
      }
      assertEquals(0, stats.conflatedMessages());
      assertEquals(0, reader.skippedTotal);
    }
  }

  /** Publishes RATE values per second, round robin over the channels, each with its channel's counter {@code i}. */
  private static final class Publisher {
    private final KafkaProducer<String, String> producer;
    private final String topic;
    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor();
    private final int[] next = new int[TOKENS.length];
    private long published;
    private boolean paused;
    private int turn;

    Publisher(KafkaProducer<String, String> producer, String topic) {
      this.producer = producer;
      this.topic = topic;
    }

    void start() {
      timer.scheduleAtFixedRate(this::tick, 0, 100, TimeUnit.MILLISECONDS);
    }

    private synchronized void tick() {
      if (paused) {
        return;
      }
      for (int k = 0; k < RATE / 10; k++) {
        int t = turn++ % TOKENS.length;
        producer.send(new ProducerRecord<>(topic, TOKENS[t], "{\"i\":" + next[t]++ + ",\"pad\":\"" + PAD + "\"}"));
        published++;
      }
    }

    /** Stops publishing until {@link #resume}; every value sent is acknowledged. @return values published so far */
    synchronized long pause() {
      paused = true;
      producer.flush();
      return published;
    }

    synchronized void resume() {
      paused = false;
    }

    /** Channel to the newest value published. */
    synchronized Map<String, Integer> newest() {
      Map<String, Integer> m = new java.util.HashMap<>();
      for (int t = 0; t < TOKENS.length; t++) {
        if (next[t] > 0) {
          m.put(TOKENS[t] + ".analytics", next[t] - 1);
        }
      }
      return m;
    }

    void stop() throws InterruptedException {
      timer.shutdownNow();
      timer.awaitTermination(10, TimeUnit.SECONDS);
    }
  }

  /**
   * Reads at READ_BYTES_PER_SECOND (or as fast as it can after {@link #fast}), answers pings, and checks every
   * data message: per channel, values increase and {@code skipped} is exactly the number of values between.
   */
  private static final class Reader extends Thread {
    record Skip(String channel, String previousPos, int previousValue, int value) {
    }

    private final RawWsClient client;
    final Map<String, Integer> last = new ConcurrentHashMap<>();
    private final Map<String, String> lastPos = new ConcurrentHashMap<>();
    final AtomicReference<Throwable> failure = new AtomicReference<>();
    volatile long bytes;
    volatile Integer closeCode;
    volatile long skippedTotal;
    volatile Skip firstSkip;
    private volatile boolean fast;
    private long paceStartNanos = System.nanoTime();
    private long paceStartBytes;

    Reader(RawWsClient client) {
      super("slow-reader");
      setDaemon(true);
      this.client = client;
    }

    int lastValue(String channel) {
      return last.getOrDefault(channel, -1);
    }

    /** @return bytes read so far */
    long fast() {
      fast = true;
      return bytes;
    }

    void slow() {
      paceStartNanos = System.nanoTime();
      paceStartBytes = bytes;
      fast = false;
    }

    @Override
    public void run() {
      try {
        for (RawWsClient.Frame f = client.read(); f != null; f = client.read()) {
          bytes += f.payload().length + (f.payload().length < 126 ? 2 : 4);
          if (f.opcode() == 0x9) {
            client.send(0xA, true, f.payload());
          } else if (f.opcode() == 0x8) {
            closeCode = f.closeCode();
            return;
          } else if (f.opcode() == 0x1) {
            check(new JsonObject(f.text()));
          }
          if (!fast) {
            // a tenth of the rate: sleep until the bytes read so far are due
            long due = paceStartNanos + (bytes - paceStartBytes) * 1_000_000_000L / READ_BYTES_PER_SECOND;
            long wait = due - System.nanoTime();
            if (wait > 0) {
              TimeUnit.NANOSECONDS.sleep(wait);
            }
          }
        }
      } catch (Throwable e) {
        if (closeCode == null) {
          failure.compareAndSet(null, e);
        }
      }
    }

    private void check(JsonObject m) {
      String channel = m.getString("channel");
      int i = m.getJsonObject("data").getInteger("i");
      long skipped = m.getLong("skipped", 0L);
      Integer before = last.get(channel);
      if (before != null) {
        if (i <= before || i - before - 1 != skipped) {
          failure.compareAndSet(null, new AssertionError(channel + ": " + before + " then " + i + " with skipped " + skipped));
        }
        if (skipped > 0 && firstSkip == null) {
          firstSkip = new Skip(channel, lastPos.get(channel), before, i);
        }
      }
      if (!m.getString("pos").endsWith(":" + m.getLong("seq"))) {
        failure.compareAndSet(null, new AssertionError("pos " + m.getString("pos") + " is not seq " + m.getLong("seq")));
      }
      skippedTotal += skipped;
      last.put(channel, i);
      lastPos.put(channel, m.getString("pos"));
    }
  }
}
