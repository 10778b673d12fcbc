package io.odinws.router;

import io.netty.channel.ChannelFactory;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.ServerChannel;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.core.internal.ContextInternal;
import io.vertx.core.internal.VertxInternal;

/**
 * The three Vert.x internals the router needs, in one place ({@code io.vertx.core.internal} is the
 * package Vert.x documents for integrators). Everything else uses public API.
 */
public final class VertxInternals {

  private VertxInternals() {
  }

  /** The Netty event loop behind a Vert.x context. */
  public static EventLoop eventLoop(Context context) {
    return ((ContextInternal) context).nettyEventLoop();
  }

  /** Vert.x's acceptor group: the parent group of the router's server channel. */
  static EventLoopGroup acceptorGroup(Vertx vertx) {
    return ((VertxInternal) vertx).acceptorEventLoopGroup();
  }

  /** A server channel of the transport Vert.x runs on (NIO, epoll or io_uring), so accepted sockets fit the shards' loops. */
  static ChannelFactory<? extends ServerChannel> serverChannelFactory(Vertx vertx) {
    return ((VertxInternal) vertx).transport().serverChannelFactory(false);
  }
}
