package io.odinws.shard;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.epoll.Epoll;
import io.odinws.bench.FastThreadExecutor;
import io.odinws.bench.InlineEventLoop;
import io.odinws.bench.OdinValues;
import io.odinws.bench.SinkChannel;
import io.odinws.envelope.ChannelKeys;
import io.odinws.bus.FrameBatch;
import io.odinws.envelope.OutboundMessage;
import io.odinws.config.ConfigLoader;
import io.odinws.config.OdinConfig;
import io.odinws.envelope.FrameEncoder;
import io.odinws.recovery.History;
import io.odinws.shard.admission.Admission;
import io.odinws.shard.admission.ResourceGuard;
import io.odinws.stats.ServerMeters;
import io.odinws.stats.ShardStats;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The shard's fan-out: {@link Shard#onBatch} of a real {@link Shard} built with the default
 * configuration on an inline event loop, no Vert.x instance involved. Its connections are real:
 * {@link SinkChannel}s whose pipelines the shard builds ({@link Shard#initChannel}), each upgraded
 * with a WebSocket handshake and subscribed with a client's subscribe frame, so the subscriptions
 * are in the shard's own index. Every frame is a real {@link FrameEncoder} frame (a 280-byte
 * TRADE_EXECUTED value) from the pooled allocator. One operation is one delivered message, so ns/op
 * and B/op are per delivery.
 *
 * <p>{@code sink}: {@code discard} releases each write in a handler before the channel (the shard's
 * own cost: lookups, checks, queueing, one flush per connection, which hands the queued frames to
 * Netty as retained duplicates: a {@link SinkChannel} has no socket for the shard's direct writes);
 * {@code socket} lets each write through Netty's channel write path and outbound buffer to a socket
 * that takes everything (see {@link SinkChannel}); the difference is Netty's per-write cost.
 *
 * <ul>
 *   <li>{@link #wide}: 10,000 channels with one subscriber each (10,000 connections); batches of
 *       100 messages to 100 distinct channels, 100 batches in turn covering every channel: 100
 *       deliveries, 300 lookups and 100 flushes per batch.</li>
 *   <li>{@link #hot}: one channel, 10,000 subscribers; batches of 10 messages: 100,000 deliveries and
 *       10,000 flushes per batch. {@code subscriptions=wildcards}: a quarter subscribe
 *       {@code BTC.trade}, a quarter {@code BTC.*}, a quarter {@code *.trade}, a quarter all three (the
 *       de-duplicating path); every connection still gets each message once.</li>
 * </ul>
 *
 * <p>Setup checks the delivery count of one round through the shard's own counters, and teardown that
 * every frame is back to the batch's single reference (every duplicate released); either failing
 * fails the run.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsPrepend = {"-Xms1g", "-Xmx1g", FastThreadExecutor.EXECUTOR, FastThreadExecutor.EXECUTOR_CLASS,
    FastThreadExecutor.NO_LEAK_SAMPLING})
public class FanOutBench {

  static final int WIDE_CHANNELS = 10_000;
  static final int WIDE_BATCH = 100;
  static final int HOT_SUBSCRIBERS = 10_000;
  static final int HOT_BATCH = 10;
  static final int HOT_BATCHES = 8;

  /** A client's handshake: every connection is upgraded as in the server. */
  private static final String UPGRADE = "GET /ws HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
      + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";

  /** A shard, its connections and a ring of batches; subclasses subscribe and build the batches. */
  public abstract static class Fixture {

    private final InlineEventLoop loop = new InlineEventLoop();
    private final List<Channel> channels = new ArrayList<>();
    private final FrameEncoder encoder = new FrameEncoder(PooledByteBufAllocator.DEFAULT);
    private final byte[] value = OdinValues.value(280);
    private Shard shard;
    private ShardStats stats;
    private FrameBatch[] batches;
    private int next;
    private long offset = 48_213_377L;

    abstract String sink();

    Shard shard() {
      return shard;
    }

    InlineEventLoop loop() {
      return loop;
    }

    void createShard() {
      // The fan-out's writev vector (Netty's IovArray) needs the native transport's library, loaded by the server at start.
      Epoll.ensureAvailability();
      // Defaults, except admission: 10,000 upgrades from one address in the setup would be refused by its rate limits.
      OdinConfig config = ConfigLoader.resolve(new JsonObject().put("admission", new JsonObject().put("enabled", false)), Map.of());
      // The fan-out records into the meters (one latency sample per batch), as in the server on a Prometheus registry.
      ServerMeters meters = ServerMeters.create(new PrometheusMeterRegistry(PrometheusConfig.DEFAULT));
      // A subscribe reads the history for the channel's position; no endpoint, registry or Kafka replay is used.
      ShardServices services = new ShardServices(null, null, new Admission(config.admission(), ResourceGuard.disabled()),
          new History(config.recovery(), encoder), null, meters, io.odinws.auth.AuthContext.off(config.auth()));
      shard = new Shard(0, config, services, loop);
      stats = shard.stats();
    }

    /** A WebSocket connection subscribed to {@code subscriptions}, through the handshake and a subscribe frame as a client would. */
    void connect(String... subscriptions) {
      Channel ch = switch (sink()) {
        case "discard" -> new SinkChannel(loop, SinkChannel.DISCARD);
        case "socket" -> new SinkChannel(loop);
        default -> throw new IllegalArgumentException("sink=" + sink());
      };
      shard.initChannel(ch);
      channels.add(ch);
      ch.pipeline().fireChannelRead(Unpooled.copiedBuffer(UPGRADE, StandardCharsets.US_ASCII)).fireChannelReadComplete();
      String subscribe = new JsonObject().put("type", "subscribe")
          .put("data", new JsonObject().put("channels", new JsonArray(List.of(subscriptions)))).encode();
      ch.pipeline().fireChannelRead(maskedText(subscribe)).fireChannelReadComplete();
      loop.runTasks();
      Connection c = (Connection) ch.pipeline().get(Connection.NAME);
      if (c == null || !c.isUpgraded() || c.subscriptionCount() != subscriptions.length) {
        throw new IllegalStateException("connection not upgraded and subscribed to " + List.of(subscriptions));
      }
    }

    OutboundMessage message(ChannelKeys keys, int partition) {
      long o = offset++;
      return new OutboundMessage(keys, partition, o, encoder.encodeLive(keys.channelUtf8(), partition, o, OdinValues.TS, value));
    }

    /** Installs the ring and checks one round: {@code perBatch} deliveries each, every duplicate released. */
    void batches(FrameBatch[] ring, long perBatch) {
      batches = ring;
      System.gc(); // the setup's objects (10,000 channels) to the old generation, not copied by the measured young collections
      long before = stats.messagesSent();
      for (int i = 0; i < ring.length; i++) {
        deliverNext();
      }
      long delivered = stats.messagesSent() - before;
      if (delivered != perBatch * ring.length) {
        throw new IllegalStateException("delivered " + delivered + ", expected " + perBatch * ring.length);
      }
      checkFramesHeldOnlyByBatches();
    }

    /** One batch through the shard, as the bus hands it over: the shard owns (and releases) one reference. */
    final void deliverNext() {
      FrameBatch batch = batches[next];
      if (++next == batches.length) {
        next = 0;
      }
      shard.onBatch(batch.retain());
      loop.runTasks(); // the flush, a task of its own after the batch, as on the shard's loop
    }

    private void checkFramesHeldOnlyByBatches() {
      for (FrameBatch b : batches) {
        if (b.refCnt() != 1) {
          throw new IllegalStateException("batch refCnt " + b.refCnt() + " after delivery, expected 1");
        }
        for (OutboundMessage m : b.messages()) {
          if (m.frame().refCnt() != 1) {
            throw new IllegalStateException("frame refCnt " + m.frame().refCnt() + " after delivery: a duplicate was not released");
          }
        }
      }
      for (Channel ch : channels) {
        var out = ch.unsafe().outboundBuffer();
        if (out != null && out.totalPendingWriteBytes() != 0) {
          throw new IllegalStateException("bytes left queued on a channel after the batch flush");
        }
      }
    }

    /** Checks that nothing leaked, then frees every frame, closes every channel and stops the shard. */
    void release() {
      try {
        checkFramesHeldOnlyByBatches();
      } finally {
        for (FrameBatch b : batches) {
          b.release(); // the last reference: frees every frame
        }
        for (Channel ch : channels) {
          ch.close();
        }
        loop.runTasks();
        shard.stop(); // frees the fan-out's native write vector
      }
    }
  }

  /** One text frame as a client sends it: masked (RFC 6455 5.3), payload under 64 KiB. */
  static ByteBuf maskedText(String text) {
    byte[] payload = text.getBytes(StandardCharsets.UTF_8);
    byte[] mask = {0x37, (byte) 0xfa, 0x21, 0x3d};
    ByteBuf frame = Unpooled.buffer(8 + payload.length);
    frame.writeByte(0x81); // FIN, text
    if (payload.length < 126) {
      frame.writeByte(0x80 | payload.length);
    } else {
      frame.writeByte(0x80 | 126).writeShort(payload.length);
    }
    frame.writeBytes(mask);
    for (int i = 0; i < payload.length; i++) {
      frame.writeByte(payload[i] ^ mask[i & 3]);
    }
    return frame;
  }

  @State(Scope.Thread)
  public static class Wide extends Fixture {

    @Param({"discard", "socket"})
    public String sink;

    @Override
    String sink() {
      return sink;
    }

    @Setup(Level.Trial)
    public void setup() {
      createShard();
      List<String> categories = OdinValues.categories();
      String[] tokens = OdinValues.tokens(WIDE_CHANNELS / categories.size());
      List<ChannelKeys> all = new ArrayList<>(WIDE_CHANNELS);
      for (String token : tokens) {
        for (String category : categories) {
          ChannelKeys keys = ChannelKeys.of(token, category);
          all.add(keys);
          connect(keys.channel());
        }
      }
      java.util.Collections.shuffle(all, new java.util.Random(3));
      FrameBatch[] ring = new FrameBatch[WIDE_CHANNELS / WIDE_BATCH];
      for (int b = 0; b < ring.length; b++) {
        OutboundMessage[] messages = new OutboundMessage[WIDE_BATCH];
        for (int i = 0; i < WIDE_BATCH; i++) {
          ChannelKeys keys = all.get(b * WIDE_BATCH + i);
          messages[i] = message(keys, Math.floorMod(keys.channel().hashCode(), 16));
        }
        ring[b] = new FrameBatch(messages, OdinValues.TS);
      }
      batches(ring, WIDE_BATCH);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
      release();
    }
  }

  @State(Scope.Thread)
  public static class Hot extends Fixture {

    @Param({"discard", "socket"})
    public String sink;

    @Param({"exact", "wildcards"})
    public String subscriptions;

    @Override
    String sink() {
      return sink;
    }

    @Setup(Level.Trial)
    public void setup() {
      createShard();
      ChannelKeys keys = ChannelKeys.of("BTC", "trade");
      boolean wildcards = switch (subscriptions) {
        case "exact" -> false;
        case "wildcards" -> true;
        default -> throw new IllegalArgumentException("subscriptions=" + subscriptions);
      };
      for (int i = 0; i < HOT_SUBSCRIBERS; i++) {
        int kind = wildcards ? i & 3 : 0;
        List<String> names = new ArrayList<>(3);
        if (kind == 0 || kind == 3) {
          names.add(keys.channel());
        }
        if (kind == 1 || kind == 3) {
          names.add(keys.tokenWildcard());
        }
        if (kind == 2 || kind == 3) {
          names.add(keys.categoryWildcard());
        }
        connect(names.toArray(String[]::new));
      }
      FrameBatch[] ring = new FrameBatch[HOT_BATCHES];
      for (int b = 0; b < ring.length; b++) {
        OutboundMessage[] messages = new OutboundMessage[HOT_BATCH];
        for (int i = 0; i < HOT_BATCH; i++) {
          messages[i] = message(keys, 5);
        }
        ring[b] = new FrameBatch(messages, OdinValues.TS);
      }
      batches(ring, (long) HOT_BATCH * HOT_SUBSCRIBERS);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
      release();
    }
  }

  /** 10,000 channels x 1 subscriber, one batch of 100 messages per invocation: ns per delivery. */
  @Benchmark
  @OperationsPerInvocation(WIDE_BATCH)
  public void wide(Wide s) {
    s.deliverNext();
  }

  /** 1 channel x 10,000 subscribers, one batch of 10 messages per invocation: ns per delivery. */
  @Benchmark
  @OperationsPerInvocation(HOT_BATCH * HOT_SUBSCRIBERS)
  public void hot(Hot s) {
    s.deliverNext();
  }
}
