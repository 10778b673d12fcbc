package io.odinws.shard;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.WriteBufferWaterMark;
import io.odinws.bench.FastThreadExecutor;
import io.odinws.bench.InlineEventLoop;
import io.odinws.bench.OdinValues;
import io.odinws.bench.SinkChannel;
import io.odinws.envelope.ChannelKeys;
import io.odinws.bus.FrameBatch;
import io.odinws.envelope.OutboundMessage;
import io.odinws.config.ConfigLoader;
import io.odinws.config.LimitsConfig;
import io.odinws.config.OdinConfig;
import io.odinws.envelope.FrameEncoder;
import io.odinws.stats.ServerMeters;
import io.odinws.stats.ShardStats;
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

import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The shard's fan-out: the real, private {@code ShardVerticle.onBatch} (called through a method
 * handle: it is private, and a benchmark must not need a change to production code), on a
 * {@code ShardVerticle} built with the default configuration but never deployed, so no Vert.x
 * instance is involved. Its connections are real {@link Connection} handlers, subscribed through its
 * real {@link SubscriptionIndex}, in the pipelines of {@link SinkChannel}s on an inline event loop.
 * Every frame is a real {@link FrameEncoder} frame (a 280-byte TRADE_EXECUTED value) from the pooled
 * allocator. One operation is one delivered message, so ns/op and B/op are per delivery.
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

  /** {@code ShardVerticle.onBatch(FrameBatch)}, private. */
  private static final MethodHandle ON_BATCH;
  private static final MethodHandle INDEX;
  private static final MethodHandle STATS;
  /** {@code ShardVerticle.loop}, set by {@code start()} in the server: the flush is a task on it. */
  private static final MethodHandle LOOP;

  static {
    try {
      MethodHandles.Lookup shard = MethodHandles.privateLookupIn(ShardVerticle.class, MethodHandles.lookup());
      ON_BATCH = shard.findVirtual(ShardVerticle.class, "onBatch", MethodType.methodType(void.class, FrameBatch.class));
      INDEX = shard.findGetter(ShardVerticle.class, "index", SubscriptionIndex.class);
      STATS = shard.findGetter(ShardVerticle.class, "stats", ShardStats.class);
      LOOP = shard.findSetter(ShardVerticle.class, "loop", io.netty.channel.EventLoop.class);
    } catch (ReflectiveOperationException e) {
      throw new ExceptionInInitializerError("ShardVerticle changed: update FanOutBench (" + e + ")");
    }
  }

  /** A shard, its connections and a ring of batches; subclasses subscribe and build the batches. */
  public abstract static class Fixture {

    private final InlineEventLoop loop = new InlineEventLoop();
    private final List<Channel> channels = new ArrayList<>();
    private final FrameEncoder encoder = new FrameEncoder(PooledByteBufAllocator.DEFAULT);
    private final byte[] value = OdinValues.value(280);
    private ShardVerticle shard;
    private LimitsConfig limits;
    private WriteBufferWaterMark waterMark;
    SubscriptionIndex index;
    private ShardStats stats;
    private FrameBatch[] batches;
    private int next;
    private long offset = 48_213_377L;

    abstract String sink();

    void createShard() throws Throwable {
      OdinConfig config = ConfigLoader.resolve(new JsonObject(), Map.of());
      limits = config.limits();
      int high = limits.outboundHighWaterBytes();
      waterMark = new WriteBufferWaterMark(high / 2, high); // as ShardVerticle.initChannel
      // Only the meters are used by the fan-out (one latency sample per batch), as in the server on a Prometheus registry.
      ServerMeters meters = ServerMeters.create(new PrometheusMeterRegistry(PrometheusConfig.DEFAULT));
      shard = new ShardVerticle(0, config, new ShardServices(null, null, null, null, null, meters));
      index = (SubscriptionIndex) INDEX.invokeExact(shard);
      stats = (ShardStats) STATS.invokeExact(shard);
      LOOP.invokeExact(shard, (io.netty.channel.EventLoop) loop);
    }

    /** An upgraded WebSocket connection on its own channel, as the shard holds it after the handshake. */
    Connection connect() {
      Connection c = new Connection(shard, System.nanoTime(), limits.messageBurst());
      Channel ch = switch (sink()) {
        case "discard" -> new SinkChannel(loop, SinkChannel.DISCARD, c);
        case "socket" -> new SinkChannel(loop, c);
        default -> throw new IllegalArgumentException("sink=" + sink());
      };
      ch.config().setWriteBufferWaterMark(waterMark);
      c.upgraded = true;
      channels.add(ch);
      return c;
    }

    OutboundMessage message(ChannelKeys keys, int partition) {
      long o = offset++;
      return new OutboundMessage(keys, partition, o, encoder.encodeLive(keys.channelUtf8(), partition, o, OdinValues.TS, value));
    }

    /** Installs the ring and checks one round: {@code perBatch} deliveries each, every duplicate released. */
    void batches(FrameBatch[] ring, long perBatch) throws Throwable {
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
    final void deliverNext() throws Throwable {
      FrameBatch batch = batches[next];
      if (++next == batches.length) {
        next = 0;
      }
      ON_BATCH.invokeExact(shard, batch.retain());
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

    /** Checks that nothing leaked, then frees every frame and closes every channel. */
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
      }
    }
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
    public void setup() throws Throwable {
      createShard();
      List<String> categories = OdinValues.categories();
      String[] tokens = OdinValues.tokens(WIDE_CHANNELS / categories.size());
      List<ChannelKeys> all = new ArrayList<>(WIDE_CHANNELS);
      for (String token : tokens) {
        for (String category : categories) {
          ChannelKeys keys = ChannelKeys.of(token, category);
          all.add(keys);
          index.add(connect(), new String(keys.channel()));
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
    public void setup() throws Throwable {
      createShard();
      ChannelKeys keys = ChannelKeys.of("BTC", "trade");
      boolean wildcards = switch (subscriptions) {
        case "exact" -> false;
        case "wildcards" -> true;
        default -> throw new IllegalArgumentException("subscriptions=" + subscriptions);
      };
      for (int i = 0; i < HOT_SUBSCRIBERS; i++) {
        Connection c = connect();
        int kind = wildcards ? i & 3 : 0;
        if (kind == 0 || kind == 3) {
          index.add(c, new String(keys.channel()));
        }
        if (kind == 1 || kind == 3) {
          index.add(c, new String(keys.tokenWildcard()));
        }
        if (kind == 2 || kind == 3) {
          index.add(c, new String(keys.categoryWildcard()));
        }
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
  public void wide(Wide s) throws Throwable {
    s.deliverNext();
  }

  /** 1 channel x 10,000 subscribers, one batch of 10 messages per invocation: ns per delivery. */
  @Benchmark
  @OperationsPerInvocation(HOT_BATCH * HOT_SUBSCRIBERS)
  public void hot(Hot s) throws Throwable {
    s.deliverNext();
  }
}
