package io.odinws.router;

import io.odinws.internal.VertxInternals;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.AdaptiveRecvByteBufAllocator;
import io.netty.channel.ChannelOption;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpServerCodec;
import io.odinws.config.HttpConfig;
import io.odinws.http.PublicEndpoints;
import io.odinws.stats.ServerState;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.VerticleBase;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.InetSocketAddress;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Owns the public port. Replaces Vert.x's round-robin accept with least-connections: the server
 * channel's child group is a {@link LeastConnectionsGroup}, so each accepted socket is registered
 * straight onto the chosen shard's event loop, where the shard builds its pipeline. When every
 * shard is full the socket gets HTTP 503 "Server overloaded". Started by {@code Main}, it adopts the port that
 * {@link PreboundPort} bound before the rest of the server started; otherwise it binds the port itself.
 */
public final class RouterVerticle extends VerticleBase {

  private static final Logger LOG = LoggerFactory.getLogger(RouterVerticle.class);
  private static final int REFUSAL_TIMEOUT_SECONDS = 5;
  /** Held connections handed to the acceptor per task, and the pause between two such tasks (see handOverHeld). */
  private static final int HAND_OVER_SLICE = 64;
  private static final long HAND_OVER_PAUSE_MICROS = 100;

  private final HttpConfig http;
  private final ShardRegistry registry;
  private final AtomicLong acceptedTotal = new AtomicLong();
  private final AtomicLong rejectedFull = new AtomicLong();
  private final AtomicLong rejectedDraining = new AtomicLong();
  private final ServerState state;
  private final RefusalHandler overloaded;
  private final RefusalHandler shuttingDown;
  private volatile Channel serverChannel;
  private volatile int port = -1;
  /** The port bound before the server started, when there is one: adopted at start instead of binding. */
  private final PreboundPort prebound;
  /** Whether the server channel is the prebound port's. */
  private volatile boolean adopted;

  public RouterVerticle(HttpConfig http, ShardRegistry registry, PublicEndpoints endpoints, ServerState state) {
    this(http, registry, endpoints, state, null);
  }

  /** @param prebound the public port already listening ({@link PreboundPort}), or null to bind it at start */
  public RouterVerticle(HttpConfig http, ShardRegistry registry, PublicEndpoints endpoints, ServerState state, PreboundPort prebound) {
    this.http = http;
    this.prebound = prebound;
    this.registry = registry;
    this.state = state;
    this.overloaded = new RefusalHandler(HttpResponseStatus.SERVICE_UNAVAILABLE, "Server overloaded", 5, endpoints, rejectedFull);
    this.shuttingDown = new RefusalHandler(HttpResponseStatus.SERVICE_UNAVAILABLE, "Server is shutting down", 5, endpoints, rejectedDraining);
  }

  /** The bound port (useful when configured as 0). */
  public int port() {
    return port;
  }

  /** Sockets given to a shard since start. */
  public long acceptedTotal() {
    return acceptedTotal.get();
  }

  /** Requests answered 503 because the server was shutting down (probes answered are not counted). */
  public long rejectedDraining() {
    return rejectedDraining.get();
  }

  /** Requests answered 503 because every shard was full (probes answered are not counted). */
  public long rejectedFull() {
    return rejectedFull.get();
  }

  @Override
  public Future<?> start() {
    LeastConnectionsGroup children = new LeastConnectionsGroup(registry, VertxInternals.eventLoop(context), state);
    ServerBootstrap bootstrap = new ServerBootstrap()
        .group(VertxInternals.acceptorGroup(vertx), children)
        .option(ChannelOption.SO_BACKLOG, PreboundPort.BACKLOG)
        .option(ChannelOption.SO_REUSEADDR, true)
        // No TCP_NODELAY child option: Netty's epoll sockets turn Nagle off as they are created (every platform but
        // Android), and a child option would set it a second time, one more setsockopt per connect (PipelineTest checks).
        // One allocator for every socket (Netty's default is a new one per socket); each keeps its own handle.
        .childOption(ChannelOption.RCVBUF_ALLOCATOR, new AdaptiveRecvByteBufAllocator())
        .childHandler(new ChannelInitializer<>() {
          @Override
          @SuppressWarnings("deprecation")
          protected void initChannel(Channel ch) {
            // Removed, not only read: an attribute left on the channel is kept for the socket's whole life
            // (getAndRemove is deprecated for attributes shared between handlers; this one is read here only).
            ShardSlot slot = ch.attr(LeastConnectionsGroup.SLOT).getAndRemove();
            if (slot == null) {
              boolean full = LeastConnectionsGroup.FULL.equals(ch.attr(LeastConnectionsGroup.REFUSAL).get());
              ch.pipeline().addLast(new HttpServerCodec(4096, 8192, 8192), new HttpObjectAggregator(8192), full ? overloaded : shuttingDown);
              ch.eventLoop().schedule(() -> {
                ch.close();
              }, REFUSAL_TIMEOUT_SECONDS, TimeUnit.SECONDS);
            } else {
              acceptedTotal.incrementAndGet();
              slot.initializer().accept(ch);
            }
          }
        });
    if (http.reusePort()) {
      VertxInternals.reusePort(vertx, bootstrap);
    }
    return adoptPrebound(bootstrap).recover(notAdopted -> bind(bootstrap)).map(ch -> {
      serverChannel = ch;
      port = ((InetSocketAddress) ch.localAddress()).getPort();
      LOG.info("event=router_listening host={} port={} shards={} capacity={} prebound={}", http.host(), port, registry.slots().size(),
          registry.totalCapacity(), adopted);
      return null;
    });
  }

  /**
   * Registers the prebound port's socket, already listening, as the server channel: the connections held while the
   * server started, then those that waited in its queue, are accepted from now on. Fails (and closes the socket)
   * when there is none to adopt, it is for another address, or Vert.x runs on a transport other than epoll.
   */
  private Future<Channel> adoptPrebound(ServerBootstrap bootstrap) {
    if (prebound == null) {
      return Future.failedFuture("no prebound port");
    }
    if (!prebound.serves(http) || !vertx.isNativeTransportEnabled()) {
      prebound.close();
      LOG.warn("event=prebound_port_unused port={} why=\"{}\"", prebound.port(),
          vertx.isNativeTransportEnabled() ? "configured for another address" : "Vert.x runs without the native transport");
      return Future.failedFuture("prebound port not usable");
    }
    Promise<Channel> registered = Promise.promise();
    bootstrap.clone().channelFactory(prebound::adopt).register().addListener(f -> {
      Channel ch = ((io.netty.channel.ChannelFuture) f).channel();
      if (f.isSuccess()) {
        adopted = true;
        List<Channel> held = prebound.takeHeld();
        if (!held.isEmpty()) {
          LOG.info("event=early_connections_handed count={}", held.size());
          // a task, not here: the bootstrap adds its acceptor to the pipeline in a task queued during the registration
          ch.eventLoop().execute(() -> handOverHeld(ch, held, 0));
        }
        registered.complete(ch);
      } else {
        prebound.close();
        if (ch != null) {
          ch.close();
        }
        LOG.warn("event=prebound_port_unused port={} error=\"{}\"", prebound.port(), f.cause().getMessage());
        registered.fail(f.cause());
      }
    });
    return registered.future();
  }

  /**
   * The connections the prebound port held while the server started, through the server channel's acceptor like
   * every accepted socket (least connections, the shard's pipeline), on the channel's loop: a slice at a time, the
   * loop accepting from the queue in between, so that the queue does not fill (and drop connects) meanwhile.
   */
  private void handOverHeld(Channel server, List<Channel> held, int from) {
    if (!server.isOpen()) { // stopped meanwhile: the rest were never registered, so nothing else closes them
      for (int i = from; i < held.size(); i++) {
        held.get(i).unsafe().closeForcibly();
      }
      return;
    }
    int to = Math.min(held.size(), from + HAND_OVER_SLICE);
    for (int i = from; i < to; i++) {
      server.pipeline().fireChannelRead(held.get(i));
    }
    server.pipeline().fireChannelReadComplete();
    if (to < held.size()) {
      // scheduled, not executed: the loop polls its sockets before a scheduled task comes due
      server.eventLoop().schedule(() -> handOverHeld(server, held, to), HAND_OVER_PAUSE_MICROS, TimeUnit.MICROSECONDS);
    }
  }

  private Future<Channel> bind(ServerBootstrap bootstrap) {
    Promise<Channel> bound = Promise.promise();
    bootstrap.clone().channelFactory(VertxInternals.serverChannelFactory(vertx)).bind(http.host(), http.port()).addListener(f -> {
      if (f.isSuccess()) {
        bound.complete(((io.netty.channel.ChannelFuture) f).channel());
      } else {
        bound.fail(new IllegalStateException(cannotListen(http, f.cause()), f.cause()));
      }
    });
    return bound.future();
  }

  /** What a failed bind of the public port says. */
  public static String cannotListen(HttpConfig http, Throwable cause) {
    return "cannot listen on " + http.host() + ":" + http.port() + ": " + cause.getMessage()
        + " (is another process using the port? set http.port or WS_PORT)";
  }

  /**
   * Draining: with {@code http.reusePort} the port stops listening now, so that new connections reach the process
   * that shares the port (what was already accepted is answered as before); without it, this process goes on
   * refusing them with 503 until it exits, so that clients are told rather than reset.
   */
  public Future<Void> draining() {
    if (!http.reusePort()) {
      return Future.succeededFuture();
    }
    LOG.info("event=router_stopped_listening port={} why=\"draining with http.reusePort: another process takes new connections\"", port);
    return stop().mapEmpty();
  }

  @Override
  public Future<?> stop() {
    Channel listening = serverChannel;
    if (listening == null) {
      return Future.succeededFuture();
    }
    serverChannel = null;
    Promise<Void> closed = Promise.promise();
    listening.close().addListener(f -> closed.complete());
    return closed.future();
  }
}
