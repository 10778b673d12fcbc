package io.odinws.shard;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.websocketx.CloseWebSocketFrame;
import io.netty.handler.codec.http.websocketx.CorruptedWebSocketFrameException;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.odinws.bus.BatchBus;
import io.odinws.bus.FrameBatch;
import io.odinws.bus.OutboundMessage;
import io.odinws.config.OdinConfig;
import io.odinws.config.WsConfig;
import io.odinws.ops.PublicEndpoints;
import io.odinws.ops.ShardStats;
import io.odinws.protocol.ChannelName;
import io.odinws.protocol.ClientRequest;
import io.odinws.protocol.CloseCodes;
import io.odinws.protocol.ErrorReply;
import io.odinws.protocol.Replies;
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
import java.util.LinkedHashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
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

  private final int id;
  private final OdinConfig config;
  private final WsConfig ws;
  private final ShardRegistry registry;
  private final PublicEndpoints endpoints;
  private final ShardStats stats = new ShardStats();
  private final SubscriptionIndex index = new SubscriptionIndex();
  private final Set<String> categories;
  private final Set<String> topics;
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
  /** Connections written to during the current batch, flushed once at its end. */
  private Connection[] dirty = new Connection[64];
  private int dirtyCount;

  public ShardVerticle(int id, OdinConfig config, ShardRegistry registry, PublicEndpoints endpoints) {
    this.id = id;
    this.config = config;
    this.ws = config.ws();
    this.registry = registry;
    this.endpoints = endpoints;
    this.categories = Set.copyOf(config.kafka().topics().values());
    this.topics = config.kafka().topics().keySet();
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
    httpHandler = new HttpHandler(this, ws, endpoints);
    webSocketHandler = new WebSocketHandler(this);
    consumer = BatchBus.consume(vertx.eventBus(), MAX_QUEUED_BATCHES, this::onBatch, this::onDroppedBatch);
    sweepTimer = vertx.setPeriodic(SWEEP_INTERVAL_MS, t -> sweep());
    slot = new ShardSlot(id, loop, config.maxConnectionsOfShard(id), this::initChannel, stats);
    return consumer.completion().onSuccess(v -> {
      registry.add(slot);
      LOG.info("event=shard_started shard={} max_connections={} thread={}", id, slot.maxConnections(), Thread.currentThread().getName());
    });
  }

  @Override
  public Future<?> stop() {
    registry.remove(slot); // nothing new lands here from now on
    vertx.cancelTimer(sweepTimer);
    for (int i = connectionCount - 1; i >= 0; i--) {
      Connection c = connections[i];
      if (c.upgraded) {
        close(c, CloseCodes.GOING_AWAY, "Server shutting down");
      } else {
        c.channel.close();
      }
    }
    return consumer.unregister();
  }

  // ---- accept and close ------------------------------------------------------------------

  /** Builds an accepted socket's pipeline. Called by the router, on this shard's loop. */
  private void initChannel(Channel ch) {
    Connection c = new Connection(this, System.nanoTime());
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
    webSocketCount++;
    publishGauges();
  }

  void onClosed(Connection c) {
    if (c.slot < 0) {
      return;
    }
    index.removeAll(c);
    int last = --connectionCount;
    Connection moved = connections[last];
    connections[c.slot] = moved;
    moved.slot = c.slot;
    connections[last] = null;
    c.slot = -1;
    if (c.upgraded) {
      webSocketCount--;
    }
    publishGauges();
  }

  /** Sends a close frame, then closes the socket once it is written (or after 2 s if it cannot be). */
  void close(Connection c, int code, String reason) {
    if (c.closing) {
      return;
    }
    c.closing = true;
    Channel ch = c.channel;
    ch.writeAndFlush(new CloseWebSocketFrame(code, reason)).addListener(ChannelFutureListener.CLOSE);
    ch.eventLoop().schedule(() -> {
      ch.close();
    }, 2, TimeUnit.SECONDS);
  }

  /** The client started the closing handshake: echo its code (RFC 6455 5.5.1) and close. */
  void closeEcho(Connection c, int statusCode) {
    if (c.closing) {
      return;
    }
    c.closing = true;
    CloseWebSocketFrame reply = statusCode > 0 ? new CloseWebSocketFrame(statusCode, null) : new CloseWebSocketFrame();
    c.channel.writeAndFlush(reply).addListener(ChannelFutureListener.CLOSE);
  }

  /** An exception on one connection closes that connection only. */
  void onConnectionError(ChannelHandlerContext ctx, Throwable cause) {
    Connection c = (Connection) ctx.pipeline().first();
    if (cause instanceof IOException || cause instanceof CorruptedWebSocketFrameException) {
      // peer reset, or a protocol violation the decoder already answered with its close code
      LOG.debug("event=connection_closed_on_error shard={} remote={} error=\"{}\"", id, ctx.channel().remoteAddress(), cause.toString());
      ctx.close();
      return;
    }
    stats.connectionError();
    LOG.warn("event=connection_error shard={} remote={} error=\"{}\" action=\"connection closed with 1011; the shard continues\"",
        id, ctx.channel().remoteAddress(), cause.toString(), cause);
    if (c.upgraded) {
      close(c, CloseCodes.INTERNAL_ERROR, "Internal error");
    } else {
      ctx.close();
    }
  }

  // ---- fan-out ---------------------------------------------------------------------------

  /**
   * Writes every message of the batch to its subscribers, then flushes each touched connection
   * once. Per delivery: one retained duplicate of the shared frame (no copy, no encoding, no
   * promise), and no flush.
   */
  private void onBatch(FrameBatch batch) {
    long delivered = 0;
    long bytes = 0;
    try {
      for (OutboundMessage m : batch.messages()) {
        Subscribers subs = index.get(m.channel());
        if (subs == null) {
          continue;
        }
        ByteBuf frame = m.frame();
        Connection[] items = subs.items;
        int n = subs.size;
        for (int i = 0; i < n; i++) {
          Connection c = items[i];
          if (c.closing) {
            continue;
          }
          c.writeFrame(frame.retainedDuplicate());
          if (!c.dirty) {
            c.dirty = true;
            if (dirtyCount == dirty.length) {
              dirty = Arrays.copyOf(dirty, dirtyCount * 2);
            }
            dirty[dirtyCount++] = c;
          }
          delivered++;
          bytes += frame.readableBytes();
        }
      }
    } finally {
      for (int i = 0; i < dirtyCount; i++) {
        Connection c = dirty[i];
        c.dirty = false;
        c.ctx.flush();
        dirty[i] = null;
      }
      dirtyCount = 0;
      batch.release();
      if (delivered > 0) {
        stats.addSent(delivered, bytes);
      }
    }
  }

  private void onDroppedBatch() {
    stats.droppedBatch();
    LOG.warn("event=batch_dropped shard={} action=\"the shard is over {} batches behind; its clients miss these messages\"", id, MAX_QUEUED_BATCHES);
  }

  // ---- keep-alive --------------------------------------------------------------------------

  /** One timer per shard, not per connection: pings due connections, closes idle ones. */
  private void sweep() {
    long now = System.nanoTime();
    long pingEvery = TimeUnit.MILLISECONDS.toNanos(ws.pingIntervalMs());
    long idleAfter = TimeUnit.MILLISECONDS.toNanos(ws.idleTimeoutMs());
    long handshakeWithin = TimeUnit.MILLISECONDS.toNanos(ws.handshakeTimeoutMs());
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
      } else if (idle > idleAfter) {
        close(c, CloseCodes.GOING_AWAY, "Idle timeout");
      } else if (now - c.lastPingNanos >= pingEvery) {
        c.lastPingNanos = now;
        c.ctx.writeAndFlush(PING.duplicate(), c.ctx.voidPromise());
      }
    }
  }

  // ---- protocol ----------------------------------------------------------------------------

  void onText(Connection c, ChannelHandlerContext ctx, String text) {
    stats.received();
    ClientRequest req = ClientRequest.parse(text);
    if (req instanceof ClientRequest.Subscribe s) {
      send(ctx, subscribe(c, s.channels()).ack());
      if (s.lastOffset() != null) {
        reconnect(c, ctx, s.lastOffset().getMap());
      }
    } else if (req instanceof ClientRequest.Unsubscribe u) {
      send(ctx, unsubscribe(c, u.channels()));
    } else if (req instanceof ClientRequest.Heartbeat) {
      send(ctx, Replies.pong(System.currentTimeMillis()));
    } else if (req instanceof ClientRequest.Reconnect r) {
      reconnect(c, ctx, r.lastOffset());
    } else if (req instanceof ClientRequest.InvalidReconnect r) {
      send(ctx, Replies.reconnectError(r.message()));
    } else if (req instanceof ClientRequest.Invalid i) {
      sendError(ctx, i.error());
    }
  }

  /** What a subscribe did: the ack to send and the channels refused, with why. */
  private record SubscribeResult(String ack, Map<String, String> rejected) {
  }

  private SubscribeResult subscribe(Connection c, List<String> channels) {
    List<String> accepted = new ArrayList<>(channels.size());
    List<Replies.Rejected> rejected = new ArrayList<>();
    for (String channel : new LinkedHashSet<>(channels)) { // a channel named twice is answered once
      String problem = ChannelName.problem(channel, categories);
      if (problem == null && c.subscriptionCount() >= ws.maxChannelsPerConnection()
          && (c.channels == null || !c.channels.contains(channel))) {
        problem = "channel limit reached: at most " + ws.maxChannelsPerConnection() + " channels per connection";
      }
      if (problem != null) {
        rejected.add(new Replies.Rejected(channel, problem));
      } else {
        index.add(c, channel);
        accepted.add(channel);
      }
    }
    publishGauges();
    Map<String, String> refused = new LinkedHashMap<>();
    rejected.forEach(r -> refused.put(r.channel(), r.reason()));
    return new SubscribeResult(Replies.subscriptionAck(accepted, rejected, c.subscriptionCount()), refused);
  }

  private String unsubscribe(Connection c, List<String> channels) {
    List<String> removed = new ArrayList<>(channels.size());
    for (String channel : new LinkedHashSet<>(channels)) {
      index.remove(c, channel);
      removed.add(channel); // unsubscribing a channel not subscribed is not an error
    }
    publishGauges();
    return Replies.unsubscriptionAck(removed, List.of(), c.subscriptionCount());
  }

  /**
   * Subscribes every channel named in {@code lastOffset} and answers reconnect_ack. Replay from
   * history is not implemented yet, so no channel is reported as recovered (recovered:false tells
   * the client to resynchronise from its own source).
   */
  private void reconnect(Connection c, ChannelHandlerContext ctx, Map<String, Object> lastOffset) {
    for (String key : lastOffset.keySet()) {
      if (topics.contains(key)) {
        send(ctx, Replies.reconnectError("last_offset is keyed by topic ('" + key + "'); key it by channel instead, with the pos"
            + " of the last message received on it, e.g. {\"BTC.trade\":\"3:1042\"}"));
        return;
      }
    }
    List<String> missing = new ArrayList<>();
    for (String channel : lastOffset.keySet()) {
      if (c.channels == null || !c.channels.contains(channel)) {
        missing.add(channel);
      }
    }
    Map<String, String> refused = missing.isEmpty() ? Map.of() : subscribe(c, missing).rejected();
    Map<String, Replies.ChannelRecovery> result = new LinkedHashMap<>();
    for (String channel : lastOffset.keySet()) {
      result.put(channel, new Replies.ChannelRecovery(false, 0, refused.get(channel)));
    }
    send(ctx, Replies.reconnectAck(result));
  }

  void sendError(ChannelHandlerContext ctx, ErrorReply error) {
    send(ctx, Replies.error(error));
  }

  private static void send(ChannelHandlerContext ctx, String json) {
    ctx.writeAndFlush(new TextWebSocketFrame(json));
  }

  WebSocketHandler webSocketHandler() {
    return webSocketHandler;
  }

  private void publishGauges() {
    stats.gauges(webSocketCount, index.subscriptionCount());
  }
}
