package io.odinws.recovery;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.UnpooledByteBufAllocator;
import io.odinws.bus.FrameBatch;
import io.odinws.config.RecoveryConfig;
import io.odinws.envelope.ChannelKeys;
import io.odinws.envelope.FrameEncoder;
import io.odinws.envelope.OutboundMessage;
import io.odinws.stats.ShardStats;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.stream.LongStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Recovery's algorithm without a broker: the history is the real in-memory one, Kafka reads are
 * futures the test completes, and the connection is a recording {@link ReplayTarget}. Everything runs
 * on one thread standing in for the shard's loop, as in the server.
 */
class RecoveriesTest {

  private static final String TOPIC = "odin.trades";
  private static final String CHANNEL = "BTC.trade";
  private static final ChannelKeys KEYS = ChannelKeys.of("BTC", "trade");
  private static final ChannelKeys OTHER = ChannelKeys.of("ETH", "trade");

  private final FrameEncoder encoder = new FrameEncoder(UnpooledByteBufAllocator.DEFAULT);
  private final ScheduledExecutorService loop = Executors.newSingleThreadScheduledExecutor();
  private final ShardStats stats = new ShardStats();
  private final List<PendingRead> reads = new ArrayList<>();
  private History history;

  /** A Kafka read the test completes by hand. */
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
  void replaysFromTheHistoryAfterThePositionThenAcks() throws Exception {
    Recoveries recoveries = recoveries(config(10_000, 10_000, 10_000));
    fillHistory(0, 10);
    RecordingTarget client = new RecordingTarget();
    onLoop(() -> {
      recoveries.start(client, Map.of(CHANNEL, "0:4"), Map.of());
      return null;
    });
    assertEquals(List.of(5L, 6L, 7L, 8L, 9L), client.replayedOffsets());
    JsonObject ack = client.ack();
    assertTrue(ack.getJsonObject("channels").getJsonObject(CHANNEL).getBoolean("recovered"));
    assertEquals(5, ack.getInteger("messages_replayed"));
    assertEquals("ack", client.written.get(client.written.size() - 1), "the ack (which flushes) after the replay");
  }

  @Test
  void liveMessagesDuringAKafkaReadAreHeldThenWrittenOnceInOffsetOrder() throws Exception {
    Recoveries recoveries = recoveries(config(10_000, 10_000, 10_000));
    fillHistory(100, 105); // the history starts at 100: older positions come from Kafka
    RecordingTarget client = new RecordingTarget();
    onLoop(() -> {
      recoveries.start(client, Map.of(CHANNEL, "0:49"), Map.of());
      return null;
    });
    assertEquals(1, reads.size(), "one Kafka read for the part before the history");
    assertEquals(50, reads.get(0).from());
    assertEquals(100, reads.get(0).until());
    // live traffic while the read is out: gated, not written
    assertFalse(onLoop(() -> passes(client, KEYS, 105)));
    assertFalse(onLoop(() -> passes(client, KEYS, 106)));
    assertTrue(onLoop(() -> passes(client, OTHER, 106)), "other channels are not gated");
    assertTrue(client.written.isEmpty());

    completeRead(reads.get(0), 50, 100, 0, 105);
    awaitAck(client);
    assertEquals(LongStream.range(50, 105).boxed().toList(), client.replayedOffsets(), "Kafka, then the history");
    assertEquals(List.of(105L, 106L), client.liveOffsets(), "then the held live messages");
    assertTrue(client.ack().getJsonObject("channels").getJsonObject(CHANNEL).getBoolean("recovered"));

    // a batch queued before the replay may repeat an offset the client has: the floor drops it
    assertFalse(onLoop(() -> passes(client, KEYS, 106)));
    assertTrue(onLoop(() -> passes(client, KEYS, 107)));
    assertTrue(onLoop(() -> client.gate().isEmpty()), "past the floor the channel is live again");
  }

  @Test
  void aRequestsChannelsGoOutTogetherWithItsAckNotOneFlushEach() throws Exception {
    Recoveries recoveries = recoveries(config(10_000, 10_000, 10_000));
    fillHistory(100, 105);
    onLoop(() -> {
      for (long offset = 105; offset < 108; offset++) {
        OutboundMessage m = live(OTHER, offset);
        history.record(TOPIC, 0, offset, m, System.currentTimeMillis());
        m.frame().release();
      }
      return null;
    });
    RecordingTarget client = new RecordingTarget();
    Map<String, Object> positions = new LinkedHashMap<>();
    positions.put(CHANNEL, "0:49"); // before the history: a Kafka read
    positions.put("ETH.trade", "0:104"); // in the history: written at once
    onLoop(() -> {
      recoveries.start(client, positions, Map.of());
      return null;
    });
    assertEquals(3, client.written.size(), "ETH.trade's replay is written while BTC.trade's read is out");
    assertEquals(0, client.flushed, "and waits for the request's ack instead of a flush of its own");

    completeRead(reads.get(0), 50, 100, 0, 108);
    awaitAck(client);
    assertEquals(0, client.flushed);
    assertEquals(3 + 55 + 1, client.written.size(), "ETH.trade's 3, BTC.trade's 50 from Kafka and 5 from the history, the ack");
    assertEquals("ack", client.written.get(client.written.size() - 1));
    assertEquals(2, client.ack().getJsonObject("channels").stream().filter(e -> ((JsonObject) e.getValue()).getBoolean("recovered")).count());
  }

  @Test
  void theRequestBudgetCutsTheReplayAndSaysSo() throws Exception {
    Recoveries recoveries = recoveries(config(3, 10_000, 10_000));
    fillHistory(0, 10);
    RecordingTarget client = new RecordingTarget();
    onLoop(() -> {
      recoveries.start(client, Map.of(CHANNEL, "0:0"), Map.of());
      return null;
    });
    assertEquals(List.of(1L, 2L, 3L), client.replayedOffsets());
    JsonObject channel = client.ack().getJsonObject("channels").getJsonObject(CHANNEL);
    assertFalse(channel.getBoolean("recovered"));
    assertTrue(channel.getString("error").startsWith("replay limit reached"), channel.encode());
  }

  @Test
  void theShardsPerSecondBucketIsSharedByItsRequests() throws Exception {
    Recoveries recoveries = recoveries(config(10_000, 1, 10_000));
    fillHistory(0, 10);
    RecordingTarget first = new RecordingTarget();
    RecordingTarget second = new RecordingTarget();
    onLoop(() -> {
      recoveries.start(first, Map.of(CHANNEL, "0:0"), Map.of());
      recoveries.start(second, Map.of(CHANNEL, "0:0"), Map.of());
      return null;
    });
    // both ask for 9: one token a second cannot serve 18 within one task, however slow the machine
    int total = first.replayedOffsets().size() + second.replayedOffsets().size();
    assertTrue(total < 18, "replayed " + total);
    assertFalse(first.recovered() && second.recovered());
    assertTrue(second.ack().getJsonObject("channels").getJsonObject(CHANNEL).getString("error", "").startsWith("replay limit reached")
        || first.ack().getJsonObject("channels").getJsonObject(CHANNEL).getString("error", "").startsWith("replay limit reached"));
  }

  @Test
  void tooManyLiveMessagesDuringTheReplayMeanNotRecovered() throws Exception {
    Recoveries recoveries = recoveries(config(10_000, 10_000, 1));
    fillHistory(100, 101);
    RecordingTarget client = new RecordingTarget();
    onLoop(() -> {
      recoveries.start(client, Map.of(CHANNEL, "0:97"), Map.of());
      return null;
    });
    onLoop(() -> passes(client, KEYS, 101));
    onLoop(() -> passes(client, KEYS, 102)); // over maxHeldBackPerChannel: dropped, and said
    completeRead(reads.get(0), 98, 100, 0, 101);
    awaitAck(client);
    JsonObject channel = client.ack().getJsonObject("channels").getJsonObject(CHANNEL);
    assertFalse(channel.getBoolean("recovered"));
    assertEquals("too many live messages arrived during the replay", channel.getString("error"));
  }

  @Test
  void wildcardsUnknownCategoriesAndBadPositionsAreRefusedPerChannel() throws Exception {
    Recoveries recoveries = recoveries(config(10_000, 10_000, 10_000));
    fillHistory(0, 3);
    RecordingTarget client = new RecordingTarget();
    onLoop(() -> {
      Map<String, Object> positions = new java.util.LinkedHashMap<>();
      positions.put("BTC.*", "0:1");
      positions.put(CHANNEL, "not a position");
      positions.put("BTC.nosuch", "0:1");
      recoveries.start(client, positions, Map.of());
      return null;
    });
    JsonObject channels = client.ack().getJsonObject("channels");
    assertEquals("only exact channels can be recovered", channels.getJsonObject("BTC.*").getString("error"));
    assertTrue(channels.getJsonObject(CHANNEL).getString("error").startsWith("invalid position"));
    assertEquals("only exact channels can be recovered", channels.getJsonObject("BTC.nosuch").getString("error"));
    assertEquals(List.of("ack"), client.written);
    assertTrue(reads.isEmpty());
  }

  @Test
  void aConnectionThatClosesDuringTheReadGetsNothingAndLeaksNothing() throws Exception {
    Recoveries recoveries = recoveries(config(10_000, 10_000, 10_000));
    fillHistory(100, 102);
    RecordingTarget client = new RecordingTarget();
    onLoop(() -> {
      recoveries.start(client, Map.of(CHANNEL, "0:10"), Map.of());
      passes(client, KEYS, 102);
      client.closing = true;
      client.gate().discard(); // as the connection does when its socket closes
      return null;
    });
    completeRead(reads.get(0), 11, 100, 0, 102);
    onLoop(() -> null); // the read's completion hopped to the loop and ran before this
    assertTrue(client.written.isEmpty());
    assertNull(client.ackText);
  }

  @Test
  void theCurrentPositionNamesThePartitionAndTheLastOffsetProcessed() throws Exception {
    Recoveries recoveries = recoveries(config(10_000, 10_000, 10_000));
    fillHistory(0, 8);
    assertEquals("0:7", onLoop(() -> recoveries.currentPosition(CHANNEL)));
    assertNull(onLoop(() -> recoveries.currentPosition("BTC.*")));
    assertNull(onLoop(() -> recoveries.currentPosition("BTC.nosuch")));
  }

  // ---- private channels (issue 15) ----------------------------------------------------------

  /** Even offsets are alice's balance updates, odd ones bob's, and every fifth a transfer between them. */
  private static List<String> owners(long offset) {
    return offset % 5 == 0 ? List.of("alice", "bob") : offset % 2 == 0 ? List.of("alice") : List.of("bob");
  }

  @Test
  void aMemoryReplayOfAPrivateChannelWritesOnlyTheSubjectsRecordsAndBudgetsOnlyThose() throws Exception {
    Recoveries recoveries = recoveries(config(10_000, 10_000, 10_000));
    fillPrivateHistory(0, 12);
    RecordingTarget alice = new RecordingTarget();
    alice.subject = "alice";
    RecordingTarget bob = new RecordingTarget();
    bob.subject = "bob";
    RecordingTarget anonymous = new RecordingTarget();
    onLoop(() -> {
      recoveries.start(alice, Map.of(CHANNEL, "0:0"), Map.of());
      recoveries.start(bob, Map.of(CHANNEL, "0:0"), Map.of());
      recoveries.start(anonymous, Map.of(CHANNEL, "0:0"), Map.of());
      return null;
    });
    assertEquals(List.of(2L, 4L, 5L, 6L, 8L, 10L), alice.replayedOffsets());
    assertEquals(List.of(1L, 3L, 5L, 7L, 9L, 10L, 11L), bob.replayedOffsets());
    assertEquals(List.of(), anonymous.replayedOffsets(), "a private record is never for an anonymous connection");
    assertEquals(6, alice.ack().getInteger("messages_replayed"));
    assertTrue(alice.recovered());
    assertEquals(13, stats.privateDeliveries());

    // a budget of 3 is three of alice's records, whatever bob's in between
    onLoop(() -> {
      history.clear(); // the next history replaces this one
      return null;
    });
    Recoveries small = recoveries(config(3, 10_000, 10_000));
    fillPrivateHistory(0, 12);
    RecordingTarget again = new RecordingTarget();
    again.subject = "alice";
    onLoop(() -> {
      small.start(again, Map.of(CHANNEL, "0:0"), Map.of());
      return null;
    });
    assertEquals(List.of(2L, 4L, 5L), again.replayedOffsets());
    assertFalse(again.recovered(), "more of alice's records were left");
  }

  @Test
  void aKafkaReplayOfAPrivateChannelWritesOnlyTheSubjectsRecords() throws Exception {
    Recoveries recoveries = recoveries(config(10_000, 10_000, 10_000));
    fillPrivateHistory(100, 106);
    RecordingTarget bob = new RecordingTarget();
    bob.subject = "bob";
    onLoop(() -> {
      recoveries.start(bob, Map.of(CHANNEL, "0:89"), Map.of());
      return null;
    });
    assertEquals(1, reads.size());
    completePrivateRead(reads.get(0), 90, 100, 0, 106);
    awaitAck(bob);
    assertEquals(List.of(90L, 91L, 93L, 95L, 97L, 99L, 100L, 101L, 103L, 105L), bob.replayedOffsets(), "Kafka, then the history: bob's only");
    assertTrue(bob.recovered());
    assertEquals(10, bob.ack().getInteger("messages_replayed"));
  }

  /** As {@link #fillHistory}, each record private to {@link #owners}. */
  private void fillPrivateHistory(long from, long until) {
    history.begin(TOPIC, 0, from);
    for (long offset = from; offset < until; offset++) {
      OutboundMessage m = live(KEYS, offset);
      history.record(TOPIC, 0, offset, new OutboundMessage(m.keys(), 0, offset, m.frame(), owners(offset)), System.currentTimeMillis());
      m.frame().release();
    }
  }

  /** As {@link #completeRead}, each record private to {@link #owners}, as the replay reader builds them. */
  private void completePrivateRead(PendingRead read, long from, long until, long logStart, long logEnd) {
    List<OutboundMessage> messages = new ArrayList<>();
    for (long offset = from; offset < until; offset++) {
      byte[] value = ("{\"n\":" + offset + "}").getBytes(StandardCharsets.UTF_8);
      messages.add(new OutboundMessage(KEYS, 0, offset, encoder.encodeReplay(KEYS.channelUtf8(), 0, offset, offset, value), owners(offset)));
    }
    FrameBatch batch = new FrameBatch(messages.toArray(OutboundMessage[]::new), System.currentTimeMillis());
    read.result().complete(new ReplayRead(batch, read.from(), read.until(), logStart, logEnd, true));
  }

  // ---- kit ---------------------------------------------------------------------------------

  private static RecoveryConfig config(int perRequest, int perSecond, int heldPerChannel) {
    return new RecoveryConfig(1L << 20, 60_000, perRequest, perSecond, 5_000, 10_000, heldPerChannel, 100);
  }

  private Recoveries recoveries(RecoveryConfig config) {
    history = new History(config, encoder);
    history.partitions(Map.of(TOPIC, 1));
    return new Recoveries(history, kafka, config, Map.of(TOPIC, "trade"), stats, loop);
  }

  /** Offsets {@code [from, until)} of partition 0 processed by the ingest worker, all on {@link #CHANNEL}. */
  private void fillHistory(long from, long until) {
    history.begin(TOPIC, 0, from);
    for (long offset = from; offset < until; offset++) {
      OutboundMessage m = live(KEYS, offset);
      history.record(TOPIC, 0, offset, m, System.currentTimeMillis());
      m.frame().release(); // the history took its own reference
    }
  }

  /** Offers a live message to the client's gate, as the fan-out does, then drops the fan-out's reference. */
  private boolean passes(RecordingTarget client, ChannelKeys keys, long offset) {
    OutboundMessage m = live(keys, offset);
    try {
      return client.gate().passes(m);
    } finally {
      m.frame().release();
    }
  }

  /** A live message as the ingest worker builds it; the caller owns its frame. */
  private OutboundMessage live(ChannelKeys keys, long offset) {
    byte[] value = ("{\"n\":" + offset + "}").getBytes(StandardCharsets.UTF_8);
    return new OutboundMessage(keys, 0, offset, encoder.encodeLive(keys.channelUtf8(), 0, offset, offset, value));
  }

  /** Completes a Kafka read with replay frames for {@code [from, until)} of {@link #CHANNEL}. */
  private void completeRead(PendingRead read, long from, long until, long logStart, long logEnd) {
    List<OutboundMessage> messages = new ArrayList<>();
    for (long offset = from; offset < until; offset++) {
      byte[] value = ("{\"n\":" + offset + "}").getBytes(StandardCharsets.UTF_8);
      messages.add(new OutboundMessage(KEYS, 0, offset, encoder.encodeReplay(KEYS.channelUtf8(), 0, offset, offset, value)));
    }
    FrameBatch batch = new FrameBatch(messages.toArray(OutboundMessage[]::new), System.currentTimeMillis());
    read.result().complete(new ReplayRead(batch, read.from(), read.until(), logStart, logEnd, true));
  }

  private void awaitAck(RecordingTarget client) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (onLoop(() -> client.ackText) == null) {
      assertTrue(System.nanoTime() < deadline, "no reconnect_ack");
      Thread.onSpinWait();
    }
  }

  private <T> T onLoop(Callable<T> task) throws Exception {
    return loop.submit(task).get(30, TimeUnit.SECONDS);
  }

  /** A connection as recovery sees it: what was written, in order, as (type, offset). */
  private static final class RecordingTarget implements ReplayTarget {
    final List<String> written = new ArrayList<>();
    RecoveryGate gate;
    boolean closing;
    int flushed;
    String ackText;
    String subject;

    @Override
    public String subject() {
      return subject;
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
        JsonObject json = new JsonObject(frame.toString(frame.readerIndex() + headerLength(frame), frame.readableBytes() - headerLength(frame),
            StandardCharsets.UTF_8));
        written.add(json.getString("type") + "@" + json.getLong("seq"));
      } finally {
        frame.release();
      }
    }

    private static int headerLength(ByteBuf frame) {
      int len = frame.getUnsignedByte(frame.readerIndex() + 1) & 0x7F;
      return len < 126 ? 2 : len == 126 ? 4 : 10;
    }

    @Override
    public void flush() {
      flushed++;
    }

    @Override
    public void reply(String json) {
      ackText = json;
      written.add("ack"); // a reply flushes what was written before it
    }

    JsonObject ack() {
      assertTrue(ackText != null, "no reconnect_ack");
      return new JsonObject(ackText);
    }

    boolean recovered() {
      return ack().getJsonObject("channels").getJsonObject(CHANNEL).getBoolean("recovered");
    }

    List<Long> replayedOffsets() {
      return offsets("replay:message");
    }

    List<Long> liveOffsets() {
      return offsets("price:update");
    }

    private List<Long> offsets(String type) {
      return written.stream().filter(w -> w.startsWith(type + "@")).map(w -> Long.parseLong(w.substring(w.indexOf('@') + 1))).toList();
    }
  }
}
