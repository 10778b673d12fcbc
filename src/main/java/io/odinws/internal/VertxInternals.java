package io.odinws.internal;

import io.netty.channel.ChannelFactory;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.ServerChannel;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.core.internal.ContextInternal;
import io.vertx.core.internal.VertxInternal;
import io.vertx.core.spi.transport.Transport;

import java.util.concurrent.ThreadFactory;

/**
 * The Vert.x internals the router and the operations port need, in one place ({@code io.vertx.core.internal}
 * is the package Vert.x documents for integrators). Everything else uses public API.
 */
public final class VertxInternals {

  private VertxInternals() {
  }

  /** The Netty event loop behind a Vert.x context. */
  public static EventLoop eventLoop(Context context) {
    return ((ContextInternal) context).nettyEventLoop();
  }

  /** Vert.x's acceptor group: the parent group of the router's server channel. */
  public static EventLoopGroup acceptorGroup(Vertx vertx) {
    return ((VertxInternal) vertx).acceptorEventLoopGroup();
  }

  /** A server channel of the transport Vert.x runs on (NIO, epoll or io_uring), so accepted sockets fit the shards' loops. */
  public static ChannelFactory<? extends ServerChannel> serverChannelFactory(Vertx vertx) {
    return ((VertxInternal) vertx).transport().serverChannelFactory(false);
  }

  /** A Vert.x context on {@code loop}: callbacks of Vert.x APIs called there come back to that thread. */
  public static ContextInternal contextOn(Vertx vertx, EventLoop loop) {
    return ((VertxInternal) vertx).contextBuilder().withEventLoop(loop).build();
  }

  /** Vert.x's event-loop pool: the loops verticles are given (tests block them all to show the operations port is outside). */
  public static EventLoopGroup eventLoopPool(Vertx vertx) {
    return ((VertxInternal) vertx).nettyEventLoopGroup();
  }

  /** A new event-loop group of Vert.x's transport, outside Vert.x's pools: threads no verticle is given. */
  public static EventLoopGroup newEventLoopGroup(Vertx vertx, int threads, ThreadFactory factory) {
    return ((VertxInternal) vertx).transport().eventLoopGroup(Transport.IO_EVENT_LOOP_GROUP, threads, factory, 0);
  }
}
