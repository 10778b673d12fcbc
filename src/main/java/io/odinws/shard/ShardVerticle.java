package io.odinws.shard;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.EventLoop;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.unix.IovArray;
import io.netty.handler.codec.PrematureChannelClosureException;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.websocketx.CloseWebSocketFrame;
import io.netty.handler.codec.http.websocketx.CorruptedWebSocketFrameException;
import io.netty.handler.codec.http.websocketx.WebSocketCloseStatus;
import io.odinws.bus.BatchBus;
import io.odinws.envelope.ChannelKeys;
import io.odinws.bus.FrameBatch;
import io.odinws.envelope.OutboundMessage;
import io.odinws.config.LimitsConfig;
import io.odinws.config.OdinConfig;
import io.odinws.config.WsConfig;
import io.odinws.stats.DisconnectReason;
import io.odinws.stats.ShardStats;
import io.odinws.protocol.CloseCodes;
import io.odinws.protocol.ErrorReply;
import io.odinws.router.ShardRegistry;
import io.odinws.router.ShardSlot;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.internal.ContextInternal;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A shard: one event loop that owns its sockets (HTTP upgrade and WebSocket protocol), its
 * subscription index, and the fan-out of every batch to its subscribers. Everything here runs on
 * that loop, so nothing is locked.
 */
public final class ShardVerticle extends VerticleBase {

  private static final Logger LOG = LoggerFactory.getLogger(ShardVerticle.class);
  /** A complete ping frame (FIN, opcode 9, empty, unmasked), shared by every connection. */
  private static final ByteBuf PING = Unpooled.unreleasableBuffer(Unpooled.directBuffer(2).writeByte(0x89).writeByte(0).asReadOnly());
  private static final long SWEEP_INTERVAL_MS = 1_000;
  private static final int MAX_QUEUED_BATCHES = 10_000;
  private static final long CLOSE_TIMEOUT_SECONDS = 2;
  /** Bounds what waits for a flush: the connections' pending arrays and how long the first of them waits. */
  private static final int MAX_UNFLUSHED_WRITES = 1 << 16;

  private final int id;
  private final OdinConfig config;
  private final WsConfig ws;
  private final LimitsConfig limits;
  private final ShardRegistry registry;
  private final ShardStats stats = new ShardStats();
  private final SubscriptionIndex index = new SubscriptionIndex();
  private final WriteBufferWaterMark waterMark;
  private final long flushDelayNanos;
  private RequestHandler requests;
  private HttpHandler httpHandler;
  private WebSocketHandler webSocketHandler;

  private ShardSlot slot;
  private EventLoop loop;
  private MessageConsumer<FrameBatch> consumer;
  private long sweepTimer = -1;
  /** Every socket on this shard, upgraded or not; {@link Connection#slot} is its index. */
  private Connection[] connections = new Connection[64];
  private int connectionCount;
  private int webSocketCount;
  /**
   * Connections written to since the last flush. The flush runs as its own loop task, after the
   * batches already queued on the loop: under load several batches share one flush, so one syscall
   * per connection carries all their frames (it costs about 10 µs on loopback, most of the fan-out).
   */
  private Connection[] dirty = new Connection[64];
  private int dirtyCount;
  /** Frames written since the last flush; past {@link #MAX_UNFLUSHED_WRITES} the batch flushes inline. */
  private int unflushedWrites;
  private boolean flushScheduled;
  private final Runnable flushTask = this::flushDirty;
  /**
   * One reference to each frame queued on a connection since the last flush ({@link Connection#queue}
   * takes none): taken per message, not per delivery, and released when the flush has run.
   */
  private ByteBuf[] held = new ByteBuf[64];
  private int heldCount;
  /** The shard's scratch vector for direct {@code writev}s (native memory, reused by every flush). */
  private IovArray iov;
  /** When each batch written since the last flush was received, for the delivery-latency histogram. */
  private long[] unflushedReceivedAt = new long[16];
  private int unflushedBatches;
  /** Bytes read from this shard's sockets since the last sweep (see {@link Connection#channelRead}). */
  long bytesReceived;
  /** Increases per message that has wildcard subscribers; see {@link Connection#deliveredStamp}. */
  private long stamp;
  /** Set while an overload close of every client is scheduled (see {@link #onDroppedBatch}). */
  private final java.util.concurrent.atomic.AtomicBoolean shedding = new java.util.concurrent.atomic.AtomicBoolean();
  /** Completed when the last socket closes after {@link #drain()}. */
  private Promise<Void> drained;

  private final ShardServices services;

  public ShardVerticle(int id, OdinConfig config, ShardServices services) {
    this.id = id;
    this.services = services;
    this.config = config;
    this.ws = config.ws();
    this.limits = config.limits();
    this.registry = services.registry();
    int high = limits.outboundHighWaterBytes();
    this.waterMark = new WriteBufferWaterMark(high / 2, high);
    this.flushDelayNanos = TimeUnit.MICROSECONDS.toNanos(ws.flushDelayMicros());
  }

  public int id() {
    return id;
  }

  public EventLoop eventLoop() {
    return loop;
  }

  public ShardSlot slot() {
    return slot;
  }

  ShardStats stats() {
    return stats;
  }

  /** The shard's sockets, read on its own loop (for operations and tests). */
  public Future<List<Channel>> channels() {
    Promise<List<Channel>> result = Promise.promise();
    loop.execute(() -> {
      List<Channel> out = new ArrayList<>(connectionCount);
      for (int i = 0; i < connectionCount; i++) {
        out.add(connections[i].channel);
      }
      result.complete(out);
    });
    return result.future();
  }

  @Override
  public Future<?> start() {
    loop = ((ContextInternal) context).nettyEventLoop();
    iov = new IovArray(Unpooled.directBuffer(Connection.MAX_DIRECT_FRAMES * IovArray.IOV_SIZE));
    Recovery recovery = new Recovery(this, services.history(), services.kafkaReplay(), config.recovery(), config.kafka().topics(), stats, loop);
    requests = new RequestHandler(index, stats, ws, limits, config.kafka().topics(), recovery);
    httpHandler = new HttpHandler(this, ws, services.endpoints(), services.admission());
    webSocketHandler = new WebSocketHandler(this);
    consumer = BatchBus.consume(vertx.eventBus(), MAX_QUEUED_BATCHES, this::onBatch, this::onDroppedBatch);
    sweepTimer = vertx.setPeriodic(SWEEP_INTERVAL_MS, t -> sweep());
    slot = new ShardSlot(id, loop, config.maxConnectionsOfShard(id), this::initChannel, stats);
    return consumer.completion().onSuccess(v -> {
      registry.add(slot);
      LOG.info("event=shard_started shard={} max_connections={} thread={}", id, slot.maxConnections(), Thread.currentThread().getName());
    });
  }

  /**
   * Leaves the router (nothing new lands here), sends every WebSocket close {@code code}, and
   * completes when the last socket is gone. Callers bound the wait.
   */
  public Future<Void> drain(int code, String reason, DisconnectReason why) {
    Promise<Void> done = Promise.promise();
    loop.execute(() -> {
      registry.remove(slot);
      drained = done;
      for (int i = connectionCount - 1; i >= 0; i--) {
        Connection c = connections[i];
        if (c.upgraded) {
          close(c, code, reason, why);
        } else {
          c.closing = true;
          c.channel.close();
        }
      }
      if (connectionCount == 0) {
        done.tryComplete();
      }
    });
    return done.future();
  }

  @Override
  public Future<?> stop() {
    registry.remove(slot);
    vertx.cancelTimer(sweepTimer);
    for (int i = connectionCount - 1; i >= 0; i--) {
      Connection c = connections[i];
      if (c.upgraded && !c.closing) {
        close(c, CloseCodes.GOING_AWAY, "Server shutting down", DisconnectReason.SHUTDOWN);
      }
      c.channel.close(); // the event loop outlives this verticle: leave no socket behind
    }
    flushDirty(); // releases the held frames; later flushes (none expected) go through Netty's queue
    iov.release();
    iov = null;
    return consumer.unregister();
  }

  // ---- accept and close ------------------------------------------------------------------

  /** Builds an accepted socket's pipeline. Called by the router, on this shard's loop. */
  private void initChannel(Channel ch) {
    Connection c = new Connection(this, System.nanoTime(), limits.messageBurst());
    ch.config().setWriteBufferWaterMark(waterMark);
    ch.pipeline().addLast("conn", c)
        .addLast("http", new HttpServerCodec(4096, 8192, 8192))
        .addLast("http-aggregator", new HttpObjectAggregator(8192))
        .addLast("http-handler", httpHandler);
    if (connectionCount == connections.length) {
      connections = Arrays.copyOf(connections, connectionCount * 2);
    }
    c.slot = connectionCount;
    connections[connectionCount++] = c;
  }

  void onUpgraded(Connection c) {
    if (c.closing) {
      return;
    }
    c.upgraded = true;
    c.lastPingNanos = System.nanoTime();
    c.upgradedAtNanos = c.lastPingNanos;
    webSocketCount++;
    publishGauges();
  }

  void onClosed(Connection c) {
    if (c.slot < 0) {
      return;
    }
    index.removeAll(c);
    if (c.recovering != null) {
      c.recovering.values().forEach(HeldBack::discard);
      c.recovering = null;
    }
    int last = --connectionCount;
    Connection moved = connections[last];
    connections[c.slot] = moved;
    moved.slot = c.slot;
    connections[last] = null;
    c.slot = -1;
    if (c.upgraded) {
      webSocketCount--;
      stats.disconnected(c.closeReason != null ? c.closeReason : DisconnectReason.CONNECTION_LOST);
      services.meters().connectionLength().record(System.nanoTime() - c.upgradedAtNanos, TimeUnit.NANOSECONDS);
    }
    publishGauges();
    if (drained != null && connectionCount == 0) {
      drained.tryComplete();
    }
  }

  /** Sends a close frame, then closes the socket once it is written (or after 2 s if it cannot be). */
  void close(Connection c, int code, String reason, DisconnectReason why) {
    if (c.closing) {
      return;
    }
    c.closing = true;
    c.closeReason = why;
    Channel ch = c.channel;
    ch.writeAndFlush(new CloseWebSocketFrame(code, reason)).addListener(ChannelFutureListener.CLOSE);
    ch.eventLoop().schedule(() -> {
      ch.close();
    }, CLOSE_TIMEOUT_SECONDS, TimeUnit.SECONDS);
  }

  /** The client started the closing handshake: echo its code (RFC 6455 5.5.1) and close. */
  void closeEcho(Connection c, int statusCode) {
    if (c.closing) {
      return;
    }
    c.closing = true;
    c.closeReason = DisconnectReason.CLIENT_CLOSE;
    CloseWebSocketFrame reply = statusCode > 0 ? new CloseWebSocketFrame(statusCode, null) : new CloseWebSocketFrame();
    c.channel.writeAndFlush(reply).addListener(ChannelFutureListener.CLOSE);
  }

  /** An exception on one connection closes that connection only. */
  void onConnectionError(ChannelHandlerContext ctx, Throwable cause) {
    Connection c = (Connection) ctx.pipeline().first();
    if (cause instanceof IOException || cause instanceof CorruptedWebSocketFrameException || cause instanceof PrematureChannelClosureException) {
      // peer reset or gone mid-message, or a protocol violation the decoder already answered with its close code
      LOG.debug("event=connection_closed_on_error shard={} remote={} error=\"{}\"", id, ctx.channel().remoteAddress(), cause.toString());
      if (c.closeReason == null) {
        c.closeReason = cause instanceof CorruptedWebSocketFrameException corrupted
            ? (corrupted.closeStatus() == WebSocketCloseStatus.MESSAGE_TOO_BIG ? DisconnectReason.MESSAGE_TOO_BIG : DisconnectReason.PROTOCOL_ERROR)
            : DisconnectReason.CONNECTION_LOST; // IOException, PrematureChannelClosureException
      }
      ctx.close();
      return;
    }
    stats.connectionError();
    LOG.warn("event=connection_error shard={} remote={} error=\"{}\" action=\"connection closed with 1011; the shard continues\"",
        id, ctx.channel().remoteAddress(), cause.toString(), cause);
    if (c.upgraded) {
      close(c, CloseCodes.INTERNAL_ERROR, "Internal error", DisconnectReason.INTERNAL_ERROR);
    } else {
      ctx.close();
    }
  }

  // ---- inbound -----------------------------------------------------------------------------

  void onText(Connection c, ChannelHandlerContext ctx, String text) {
    stats.received();
    if (requests.admit(c, ctx, System.nanoTime())) {
      requests.onText(c, ctx, text);
    }
  }

  void onBinary(Connection c, ChannelHandlerContext ctx) {
    stats.received();
    if (requests.admit(c, ctx, System.nanoTime())) {
      requests.sendError(ctx, ErrorReply.BINARY);
    }
  }

  // ---- fan-out ---------------------------------------------------------------------------

  /**
   * Queues every message of the batch on its subscribers and schedules one flush of every touched
   * connection (see {@link #dirty}). Per delivery: a reference in the connection's pending array (no
   * copy, no encoding, no reference count, no allocation); per message: one reference held until the
   * flush.
   */
  private void onBatch(FrameBatch batch) {
    long delivered = 0;
    long bytes = 0;
    try {
      for (OutboundMessage m : batch.messages()) {
        ChannelKeys keys = m.keys();
        Subscribers exact = index.get(keys.channel());
        Subscribers byToken = index.get(keys.tokenWildcard());
        Subscribers byCategory = index.get(keys.categoryWildcard());
        int n;
        if (byToken == null && byCategory == null) {
          // the common case: a connection is at most once in one list, no de-duplication needed
          n = exact == null ? 0 : deliver(exact, m, false);
        } else {
          stamp++;
          n = deliver(exact, m, true) + deliver(byToken, m, true) + deliver(byCategory, m, true);
        }
        if (n > 0) {
          holdUntilFlush(m.frame());
        }
        delivered += n;
        bytes += (long) n * m.frame().readableBytes();
      }
    } finally {
      batch.release();
      // liveness: a loop that is behind still finishes batches; the sweep's timer would queue behind them
      stats.progressed(System.nanoTime());
      if (delivered > 0) {
        stats.addSent(delivered, bytes);
        unflushedWrites += (int) Math.min(delivered, MAX_UNFLUSHED_WRITES);
        if (unflushedBatches == unflushedReceivedAt.length) {
          unflushedReceivedAt = Arrays.copyOf(unflushedReceivedAt, unflushedBatches * 2);
        }
        unflushedReceivedAt[unflushedBatches++] = batch.receivedAtMillis();
      }
      if (unflushedWrites >= MAX_UNFLUSHED_WRITES) {
        flushDirty();
      } else if (dirtyCount > 0 && !flushScheduled) {
        flushScheduled = true;
        if (flushDelayNanos == 0) {
          loop.execute(flushTask);
        } else {
          loop.schedule(flushTask, flushDelayNanos, TimeUnit.NANOSECONDS);
        }
      }
    }
  }

  /** Keeps {@code frame} alive until the next flush has written it to its connections. */
  private void holdUntilFlush(ByteBuf frame) {
    if (heldCount == held.length) {
      held = Arrays.copyOf(held, heldCount * 2);
    }
    held[heldCount++] = frame.retain();
  }

  /** Flushes every connection written since the last flush: one syscall each for all their frames. */
  private void flushDirty() {
    flushScheduled = false;
    for (int i = 0; i < dirtyCount; i++) {
      Connection c = dirty[i];
      c.dirty = false;
      dirty[i] = null;
      flushChecked(c);
    }
    // every pending frame is now in a socket or in Netty's queue (which holds its own references)
    for (int i = 0; i < heldCount; i++) {
      held[i].release();
      held[i] = null;
    }
    heldCount = 0;
    stats.addSocketFlushes(dirtyCount);
    dirtyCount = 0;
    unflushedWrites = 0;
    long now = System.currentTimeMillis();
    for (int i = 0; i < unflushedBatches; i++) {
      services.meters().deliveryLatency().record(now - unflushedReceivedAt[i], TimeUnit.MILLISECONDS);
    }
    unflushedBatches = 0;
  }

  /** Flushes a connection and closes it at once if its queue passed the hard cap. */
  void flushChecked(Connection c) {
    c.flush(iov);
    if (c.slowSinceNanos != 0 && c.pendingBytes() > limits.outboundHardCapBytes()) {
      closeSlow(c, "queued over the hard cap");
    }
  }

  /** @param dedupe skip connections this message already reached through another key */
  private int deliver(Subscribers subs, OutboundMessage m, boolean dedupe) {
    if (subs == null) {
      return 0;
    }
    ByteBuf frame = m.frame();
    int written = 0;
    Connection[] items = subs.items;
    for (int i = 0, n = subs.size; i < n; i++) {
      Connection c = items[i];
      if (c.closing) {
        continue;
      }
      if (dedupe) {
        if (c.deliveredStamp == stamp) {
          continue;
        }
        c.deliveredStamp = stamp;
      }
      if (c.recovering != null) {
        HeldBack held = c.recovering.get(m.channel());
        if (held != null) {
          if (!held.replayed) {
            held.hold(m, frame.retainedDuplicate()); // written after this channel's replay
            continue;
          }
          if (m.offset() <= held.lastSent) {
            continue; // the replay already sent it
          }
          c.recovering.remove(m.channel()); // past the floor: plain live delivery from here
          if (c.recovering.isEmpty()) {
            c.recovering = null;
          }
        }
      }
      c.queue(frame); // the shard holds the reference until the flush (holdUntilFlush)
      written++;
      if (!c.dirty) {
        c.dirty = true;
        if (dirtyCount == dirty.length) {
          dirty = Arrays.copyOf(dirty, dirtyCount * 2);
        }
        dirty[dirtyCount++] = c;
      }
    }
    return written;
  }

  private void closeSlow(Connection c, String why) {
    stats.slowClientClosed();
    LOG.info("event=slow_client_closed shard={} remote={} queued_bytes={} why=\"{}\"", id, c.channel.remoteAddress(), c.pendingBytes(), why);
    close(c, CloseCodes.POLICY, "Client too slow to process messages", DisconnectReason.SLOW_CLIENT);
  }

  /**
   * The bus dropped a batch: this shard is over {@link #MAX_QUEUED_BATCHES} behind. Its clients
   * would miss messages, so each is closed with 1012 to reconnect (to a less loaded shard or
   * instance) and recover what it missed. Runs on the ingest thread; the closing hops to the loop.
   */
  private void onDroppedBatch() {
    stats.droppedBatch();
    if (shedding.compareAndSet(false, true)) {
      LOG.warn("event=shard_overloaded shard={} action=\"over {} batches behind: clients closed with 1012 to reconnect and recover\"",
          id, MAX_QUEUED_BATCHES);
      loop.execute(() -> {
        for (int i = connectionCount - 1; i >= 0; i--) {
          Connection c = connections[i];
          if (c.upgraded) {
            close(c, CloseCodes.SERVICE_RESTART, "Server overloaded: reconnect and recover", DisconnectReason.OVERLOAD);
          }
        }
        shedding.set(false);
      });
    }
  }

  // ---- timers ------------------------------------------------------------------------------

  /**
   * One timer per shard, not per connection: pings due connections, closes idle, slow and
   * flooding ones, and rolls each connection's one-second flood window.
   */
  private void sweep() {
    long now = System.nanoTime();
    stats.progressed(now); // liveness: this loop still runs its tasks
    stats.addReceivedBytes(bytesReceived);
    bytesReceived = 0;
    long pingEvery = TimeUnit.MILLISECONDS.toNanos(ws.pingIntervalMs());
    long idleAfter = TimeUnit.MILLISECONDS.toNanos(ws.idleTimeoutMs());
    long handshakeWithin = TimeUnit.MILLISECONDS.toNanos(ws.handshakeTimeoutMs());
    long slowGrace = TimeUnit.MILLISECONDS.toNanos(limits.slowClientGraceMs());
    int floodThreshold = limits.floodFactor() * limits.messagesPerSecond();
    for (int i = connectionCount - 1; i >= 0; i--) {
      Connection c = connections[i];
      if (c.closing) {
        continue;
      }
      long idle = now - c.lastActivityNanos;
      if (!c.upgraded) {
        if (idle > handshakeWithin) {
          c.closing = true;
          c.channel.close(); // an HTTP connection with no request for the handshake window
        }
        continue;
      }
      c.floodSeconds = c.windowMessages > floodThreshold ? c.floodSeconds + 1 : 0;
      c.windowMessages = 0;
      if (c.floodSeconds >= limits.floodSeconds()) {
        LOG.info("event=flooding_client_closed shard={} remote={} seconds={}", id, c.channel.remoteAddress(), c.floodSeconds);
        close(c, CloseCodes.POLICY, "Flooding: over " + floodThreshold + " messages per second", DisconnectReason.FLOODING);
      } else if (c.slowSinceNanos != 0 && now - c.slowSinceNanos > slowGrace) {
        closeSlow(c, "over the high water mark for the grace period");
      } else if (idle > idleAfter) {
        close(c, CloseCodes.GOING_AWAY, "Idle timeout", DisconnectReason.IDLE_TIMEOUT);
      } else if (now - c.lastPingNanos >= pingEvery) {
        c.lastPingNanos = now;
        c.ctx.writeAndFlush(PING.duplicate(), c.ctx.voidPromise());
      }
    }
  }

  WebSocketHandler webSocketHandler() {
    return webSocketHandler;
  }

  private void publishGauges() {
    stats.gauges(webSocketCount, index.subscriptionCount());
  }
}
