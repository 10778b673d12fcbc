package io.odinws.recovery;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.UnpooledByteBufAllocator;
import io.odinws.bus.FrameBatch;
import io.odinws.config.RecoveryConfig;
import io.odinws.envelope.ChannelKeys;
import io.odinws.envelope.FrameEncoder;
import io.odinws.envelope.OutboundMessage;
import io.odinws.protocol.Position;
import io.odinws.stats.ShardStats;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.LongPredicate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The snapshot's algorithm without a broker, as {@link RecoveriesTest} does recovery's: the real history,
 * Kafka reads the test completes, a recording connection, one thread standing in for the shard's loop.
 */
class SnapshotRequestTest {

  private static final String TOPIC = "odin.trades";
  private static final String CHANNEL = "BTC.trade";
  private static final ChannelKeys KEYS = ChannelKeys.of("BTC", "trade");
  private static final ChannelKeys OTHER = ChannelKeys.of("ETH", "trade");

  private final FrameEncoder encoder = new FrameEncoder(UnpooledByteBufAllocator.DEFAULT);
  private final ScheduledExecutorService loop = Executors.newSingleThreadScheduledExecutor();
  private final ShardStats stats = new ShardStats();
  private final List<PendingRead> reads = new CopyOnWriteArrayList<>();
  private History history;

  private record PendingRead(long from, long until, Promise<ReplayRead> result) {
  }

  private final KafkaReplay kafka = new KafkaReplay() {
    @Override
    public Future<ReplayRead> read(String topic, int partition, long fromOffset, long untilOffset) {
      Promise<ReplayRead> p = Promise.promise();
      reads.add(new PendingRead(fromOffset, untilOffset, p));
      return p.future();
    }

    @Override
    public long reads() {
      return reads.size();
    }
  };

  @AfterEach
  void releaseEverything() throws Exception {
    onLoop(() -> {
      history.clear();
      return null;
    });
    loop.shutdownNow();
  }

  @Test
  void lastBeforeFindsTheNewestMatchesBeforeTheEndInOffsetOrder() {
    config(10_000, 10_000, 100);
    history.begin(TOPIC, 0, 0);
    for (long offset = 0; offset < 20; offset++) {
      record(offset % 3 == 0 ? OTHER : KEYS, offset, null);
    }
    History.Snapshot s = history.lastBefore(TOPIC, 0, 15, CHANNEL, 4, null);
    try {
      assertEquals(List.of(10L, 11L, 13L, 14L), s.messages().stream().map(OutboundMessage::offset).toList());
      assertTrue(s.truncated(), "4 found: older ones may exist");
      assertEquals(0, s.start());
      assertEquals(20, s.next());
      assertTrue(s.messages().stream().allMatch(m -> type(m.frame()).equals("snapshot:message")));
    } finally {
      s.release();
    }
    History.Snapshot all = history.lastBefore(TOPIC, 0, 3, CHANNEL, 10, null);
    try {
      assertEquals(List.of(1L, 2L), all.messages().stream().map(OutboundMessage::offset).toList());
      assertFalse(all.truncated());
    } finally {
      all.release();
    }
  }

  @Test
  void lastBeforeOfAPrivateChannelCountsOnlyTheSubjectsRecords() {
    config(10_000, 10_000, 100);
    history.begin(TOPIC, 0, 0);
    for (long offset = 0; offset < 10; offset++) {
      record(KEYS, offset, offset % 2 == 0 ? List.of("alice") : List.of("bob"));
    }
    History.Snapshot s = history.lastBefore(TOPIC, 0, 10, CHANNEL, 3, "alice");
    History.Snapshot anonymous = history.lastBefore(TOPIC, 0, 10, CHANNEL, 3, null);
    try {
      assertEquals(List.of(4L, 6L, 8L), s.messages().stream().map(OutboundMessage::offset).toList());
      assertTrue(anonymous.messages().isEmpty());
    } finally {
      s.release();
      anonymous.release();
    }
  }

  @Test
  void fromTheHistoryTheLastNThenTheAckThenLiveAfterThem() throws Exception {
    Recoveries recoveries = config(10_000, 10_000, 100);
    fill(0, 10, o -> true);
    RecordingTarget client = new RecordingTarget();
    onLoop(() -> {
      recoveries.openSnapshot(client, 3, List.of(CHANNEL)).start();
      return null;
    });
    assertEquals(List.of("snapshot:message@7", "snapshot:message@8", "snapshot:message@9", "ack"), client.written);
    JsonObject channel = client.ack().getJsonObject("channels").getJsonObject(CHANNEL);
    assertEquals(new JsonObject().put("requested", 3).put("sent", 3).put("position", "0:9"), channel);
    assertEquals(3, client.ack().getInteger("messages_sent"));
    assertTrue(reads.isEmpty(), "no Kafka read: the history had them");
    assertFalse(onLoop(() -> passes(client, KEYS, 9)), "a late batch repeating the snapshot's last is dropped");
    assertTrue(onLoop(() -> passes(client, KEYS, 10)));
    assertEquals(3, stats.snapshotMessages());
  }

  @Test
  void theAcksPositionIsWhereTheGateOpenedEvenWhenTheIngestWorkerRecordedMoreMeanwhile() throws Exception {
    Recoveries recoveries = config(10_000, 10_000, 100);
    fill(0, 10, o -> true);
    RecordingTarget client = new RecordingTarget();
    SnapshotRequest snapshot = onLoop(() -> recoveries.openSnapshot(client, 3, List.of(CHANNEL)));
    record(KEYS, 10, null); // recorded by the ingest worker between the gate and the subscription_ack
    record(KEYS, 11, null);
    assertEquals(new Position(0, 9), snapshot.switchPosition(CHANNEL), "the snapshot ends at 9: live continues after it");
    assertEquals(new Position(0, 11), snapshot.switchPosition("ETH.trade"), "a channel without a snapshot: as of now");
    onLoop(() -> {
      snapshot.start();
      return null;
    });
    assertEquals(List.of("snapshot:message@7", "snapshot:message@8", "snapshot:message@9", "ack"), client.written);
    assertEquals("0:9", client.ack().getJsonObject("channels").getJsonObject(CHANNEL).getString("position"));
  }

  @Test
  void whatTheHistoryLacksComesFromKafkaBackwardsAndLiveMeanwhileIsHeldUntilAfterTheAck() throws Exception {
    Recoveries recoveries = config(10_000, 10_000, 100);
    fill(1000, 1003, o -> true); // the history starts at 1000
    RecordingTarget client = new RecordingTarget();
    SnapshotRequest snapshot = onLoop(() -> recoveries.openSnapshot(client, 6, List.of(CHANNEL)));
    // a record the ingest worker had before the gate opened, reaching this shard after it: held
    assertFalse(onLoop(() -> passes(client, KEYS, 1002)));
    onLoop(() -> {
      snapshot.start();
      return null;
    });
    awaitReads(1);
    assertEquals(1000 - SnapshotRequest.FIRST_WINDOW, reads.get(0).from());
    assertEquals(1000, reads.get(0).until());
    assertFalse(onLoop(() -> passes(client, KEYS, 1003)), "live during the read: held");
    assertTrue(onLoop(() -> passes(client, OTHER, 1004)), "other channels are not gated");
    complete(reads.get(0), 0, 2000, o -> o % 100 == 0); // no BTC in this window but 800 and 900
    awaitReads(2);
    assertEquals(1000 - 3 * SnapshotRequest.FIRST_WINDOW, reads.get(1).from(), "the next window, twice as wide, before it");
    assertEquals(1000 - SnapshotRequest.FIRST_WINDOW, reads.get(1).until());
    complete(reads.get(1), 0, 2000, o -> o % 100 == 0); // 300 .. 700: the newest one is still wanted
    awaitAck(client);
    assertEquals(List.of("price:update@1004", "snapshot:message@700", "snapshot:message@800", "snapshot:message@900",
        "snapshot:message@1000", "snapshot:message@1001", "snapshot:message@1002", "ack", "price:update@1003"), client.written);
    assertEquals("0:1002", client.ack().getJsonObject("channels").getJsonObject(CHANNEL).getString("position"));
    assertNull(client.ack().getJsonObject("channels").getJsonObject(CHANNEL).getString("error"));
  }

  @Test
  void aChannelWithFewerOrNoMessagesGetsWhatThereIsAndItsPosition() throws Exception {
    Recoveries recoveries = config(10_000, 10_000, 100);
    fill(500, 510, o -> o == 505);
    RecordingTarget client = new RecordingTarget();
    onLoop(() -> {
      recoveries.openSnapshot(client, 5, List.of(CHANNEL, "SOL.trade")).start();
      return null;
    });
    awaitReads(2);
    for (PendingRead read : reads) {
      complete(read, 300, 2000, o -> o == 400); // the log starts at 300: nothing older
    }
    awaitAck(client);
    JsonObject channels = client.ack().getJsonObject("channels");
    assertEquals(new JsonObject().put("requested", 5).put("sent", 2).put("position", "0:505"), channels.getJsonObject(CHANNEL));
    assertEquals(new JsonObject().put("requested", 5).put("sent", 0).put("position", "0:509"), channels.getJsonObject("SOL.trade"));
    assertEquals(List.of("snapshot:message@400", "snapshot:message@505", "ack"), client.written);
  }

  @Test
  void theRequestBudgetKeepsTheNewestSoThatLiveStillJoinsWithoutAGap() throws Exception {
    Recoveries recoveries = config(2, 10_000, 100);
    fill(0, 10, o -> true);
    RecordingTarget client = new RecordingTarget();
    onLoop(() -> {
      recoveries.openSnapshot(client, 5, List.of(CHANNEL)).start();
      return null;
    });
    assertEquals(List.of("snapshot:message@8", "snapshot:message@9", "ack"), client.written);
    JsonObject channel = client.ack().getJsonObject("channels").getJsonObject(CHANNEL);
    assertEquals(2, channel.getInteger("sent"));
    assertEquals(SnapshotRequest.LIMIT, channel.getString("error"));
  }

  @Test
  void anAskOverTheMaximumIsClampedAndSaysSoWildcardsAreListed() throws Exception {
    Recoveries recoveries = config(10_000, 10_000, 3);
    fill(0, 10, o -> true);
    RecordingTarget client = new RecordingTarget();
    onLoop(() -> {
      recoveries.openSnapshot(client, 50, List.of(CHANNEL, "BTC.*")).start();
      return null;
    });
    JsonObject channels = client.ack().getJsonObject("channels");
    assertEquals(new JsonObject().put("requested", 50).put("sent", 3).put("position", "0:9").put("error", SnapshotRequest.LIMIT),
        channels.getJsonObject(CHANNEL));
    assertEquals(new JsonObject().put("requested", 50).put("sent", 0).put("error", SnapshotRequest.WILDCARD), channels.getJsonObject("BTC.*"));
  }

  @Test
  void kafkaUnreachableSendsWhatTheHistoryHadAndSaysSo() throws Exception {
    Recoveries recoveries = config(10_000, 10_000, 100);
    fill(1000, 1002, o -> true);
    RecordingTarget client = new RecordingTarget();
    onLoop(() -> {
      recoveries.openSnapshot(client, 5, List.of(CHANNEL)).start();
      return null;
    });
    awaitReads(1);
    reads.get(0).result().fail(new IllegalStateException("broker down"));
    awaitAck(client);
    JsonObject channel = client.ack().getJsonObject("channels").getJsonObject(CHANNEL);
    assertEquals(2, channel.getInteger("sent"));
    assertEquals(SnapshotRequest.UNAVAILABLE, channel.getString("error"));
    assertEquals(List.of("snapshot:message@1000", "snapshot:message@1001", "ack"), client.written);
  }

  @Test
  void tooManyLiveMessagesDuringTheSnapshotAreSaid() throws Exception {
    Recoveries recoveries = new Recoveries(newHistory(), kafka, new RecoveryConfig(1L << 20, 60_000, 10_000, 10_000, 5_000, 10_000, 1, 100),
        Map.of(TOPIC, "trade"), stats, loop);
    fill(1000, 1001, o -> true);
    RecordingTarget client = new RecordingTarget();
    onLoop(() -> {
      recoveries.openSnapshot(client, 5, List.of(CHANNEL)).start();
      return null;
    });
    awaitReads(1);
    onLoop(() -> passes(client, KEYS, 1001));
    onLoop(() -> passes(client, KEYS, 1002)); // over maxHeldBackPerChannel
    complete(reads.get(0), 0, 2000, o -> false);
    awaitReads(2);
    complete(reads.get(1), 0, 2000, o -> false);
    awaitReads(3);
    complete(reads.get(2), 0, 2000, o -> false); // reaches offset 0
    awaitAck(client);
    assertEquals(SnapshotRequest.OVERFLOW, client.ack().getJsonObject("channels").getJsonObject(CHANNEL).getString("error"));
  }

  @Test
  void aConnectionClosingDuringTheReadGetsNothing() throws Exception {
    Recoveries recoveries = config(10_000, 10_000, 100);
    fill(1000, 1002, o -> true);
    RecordingTarget client = new RecordingTarget();
    onLoop(() -> {
      recoveries.openSnapshot(client, 5, List.of(CHANNEL)).start();
      return null;
    });
    awaitReads(1);
    onLoop(() -> {
      client.closing = true;
      client.gate().discard();
      return null;
    });
    ByteBuf[] frame = new ByteBuf[1];
    List<OutboundMessage> messages = new ArrayList<>();
    messages.add(new OutboundMessage(KEYS, 0, 999, frame[0] = encoder.encodeReplay(KEYS.channelUtf8(), 0, 999, 999, "1".getBytes(StandardCharsets.UTF_8))));
    reads.get(0).result().complete(new ReplayRead(new FrameBatch(messages.toArray(OutboundMessage[]::new), 0), 744, 1000, 0, 1002, true));
    onLoop(() -> null); // the completion's hop to the loop has run
    onLoop(() -> null);
    assertTrue(client.written.isEmpty());
    assertEquals(0, frame[0].refCnt(), "the read's batch was released");
  }

  // ---- kit ---------------------------------------------------------------------------------

  /**
   * Quiet channels are found by reading backwards; the records one subscribe reads are bounded over all its
   * channels, not per channel: three channels with nothing in the log share 1,000 records of reads.
   */
  @Test
  void theKafkaScansOfOneSubscribeShareOneReadLimit() throws Exception {
    Recoveries recoveries = config(10_000, 10_000, 100, 1_000);
    fill(100_000, 100_001, o -> false);
    RecordingTarget client = new RecordingTarget();
    onLoop(() -> {
      recoveries.openSnapshot(client, 5, List.of(CHANNEL, "SOL.trade", "DOGE.trade")).start();
      return null;
    });
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (onLoop(() -> client.ackText) == null) {
      assertTrue(System.nanoTime() < deadline, "no snapshot_ack");
      for (PendingRead read : reads) {
        if (!read.result().future().isComplete()) {
          complete(read, 0, 200_000, o -> false);
        }
      }
      Thread.onSpinWait();
    }
    long asked = reads.stream().mapToLong(r -> r.until() - r.from()).sum();
    assertTrue(asked <= 1_000, "records read for one subscribe: " + asked);
    JsonObject channels = client.ack().getJsonObject("channels");
    for (String channel : List.of(CHANNEL, "SOL.trade", "DOGE.trade")) {
      assertEquals(SnapshotRequest.LIMIT, channels.getJsonObject(channel).getString("error"), channels.encode());
    }
  }

  private Recoveries config(int perRequest, int perSecond, int maxSnapshot) {
    return config(perRequest, perSecond, maxSnapshot, 10_000);
  }

  private Recoveries config(int perRequest, int perSecond, int maxSnapshot, int recordsPerRead) {
    RecoveryConfig config = new RecoveryConfig(1L << 20, 60_000, perRequest, perSecond, 5_000, recordsPerRead, 10_000, maxSnapshot);
    history = new History(config, encoder);
    history.partitions(Map.of(TOPIC, 1));
    return new Recoveries(history, kafka, config, Map.of(TOPIC, "trade"), stats, loop);
  }

  private History newHistory() {
    history = new History(new RecoveryConfig(1L << 20, 60_000, 10_000, 10_000, 5_000, 10_000, 10_000, 100), encoder);
    history.partitions(Map.of(TOPIC, 1));
    return history;
  }

  /** Offsets {@code [from, until)} of partition 0 processed by the ingest worker: BTC where {@code btc}, else ETH. */
  private void fill(long from, long until, LongPredicate btc) {
    history.begin(TOPIC, 0, from);
    for (long offset = from; offset < until; offset++) {
      record(btc.test(offset) ? KEYS : OTHER, offset, null);
    }
  }

  private void record(ChannelKeys keys, long offset, List<String> owners) {
    OutboundMessage m = live(keys, offset);
    history.record(TOPIC, 0, offset, new OutboundMessage(keys, 0, offset, m.frame(), owners), System.currentTimeMillis());
    m.frame().release();
  }

  private boolean passes(RecordingTarget client, ChannelKeys keys, long offset) {
    OutboundMessage m = live(keys, offset);
    try {
      boolean passes = client.gate().passes(m);
      if (passes) {
        client.writeFrame(m.frame().retainedDuplicate()); // as the connection would
      }
      return passes;
    } finally {
      m.frame().release();
    }
  }

  private OutboundMessage live(ChannelKeys keys, long offset) {
    byte[] value = ("{\"n\":" + offset + "}").getBytes(StandardCharsets.UTF_8);
    return new OutboundMessage(keys, 0, offset, encoder.encodeLive(keys.channelUtf8(), 0, offset, offset, value));
  }

  /** Completes a read with replay frames of the partition's records in its range: BTC where {@code btc}, else ETH. */
  private void complete(PendingRead read, long logStart, long logEnd, LongPredicate btc) {
    List<OutboundMessage> messages = new ArrayList<>();
    for (long offset = Math.max(read.from(), logStart); offset < read.until(); offset++) {
      ChannelKeys keys = btc.test(offset) ? KEYS : OTHER;
      byte[] value = ("{\"n\":" + offset + "}").getBytes(StandardCharsets.UTF_8);
      messages.add(new OutboundMessage(keys, 0, offset, encoder.encodeReplay(keys.channelUtf8(), 0, offset, offset, value)));
    }
    FrameBatch batch = new FrameBatch(messages.toArray(OutboundMessage[]::new), System.currentTimeMillis());
    read.result().complete(new ReplayRead(batch, read.from(), read.until(), logStart, logEnd, true));
  }

  private void awaitReads(int n) {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (reads.size() < n) {
      assertTrue(System.nanoTime() < deadline, "Kafka read " + n + " never asked");
      Thread.onSpinWait();
    }
  }

  private void awaitAck(RecordingTarget client) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (onLoop(() -> client.ackText) == null) {
      assertTrue(System.nanoTime() < deadline, "no snapshot_ack");
      Thread.onSpinWait();
    }
  }

  private <T> T onLoop(Callable<T> task) throws Exception {
    return loop.submit(task).get(30, TimeUnit.SECONDS);
  }

  private static String type(ByteBuf frame) {
    int len = frame.getUnsignedByte(frame.readerIndex() + 1) & 0x7F;
    int header = len < 126 ? 2 : len == 126 ? 4 : 10;
    return new JsonObject(frame.toString(frame.readerIndex() + header, frame.readableBytes() - header, StandardCharsets.UTF_8)).getString("type");
  }

  /** A connection as the snapshot sees it: frames as (type, seq) and replies as "ack", in order. */
  private static final class RecordingTarget implements ReplayTarget {
    final List<String> written = new CopyOnWriteArrayList<>();
    RecoveryGate gate;
    volatile boolean closing;
    volatile String ackText;

    @Override
    public String subject() {
      return null;
    }

    @Override
    public boolean isClosing() {
      return closing;
    }

    @Override
    public RecoveryGate gate() {
      if (gate == null) {
        gate = new RecoveryGate();
      }
      return gate;
    }

    @Override
    public void writeFrame(ByteBuf frame) {
      try {
        int len = frame.getUnsignedByte(frame.readerIndex() + 1) & 0x7F;
        int header = len < 126 ? 2 : len == 126 ? 4 : 10;
        JsonObject json = new JsonObject(frame.toString(frame.readerIndex() + header, frame.readableBytes() - header, StandardCharsets.UTF_8));
        written.add(json.getString("type") + "@" + json.getLong("seq"));
      } finally {
        frame.release();
      }
    }

    @Override
    public void flush() {
    }

    @Override
    public void reply(String json) {
      written.add("ack");
      ackText = json;
    }

    JsonObject ack() {
      assertTrue(ackText != null, "no snapshot_ack");
      return new JsonObject(ackText);
    }
  }
}
