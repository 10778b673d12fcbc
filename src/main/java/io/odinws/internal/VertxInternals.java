package io.odinws.internal;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.socket.nio.NioChannelOption;
import io.netty.channel.unix.UnixChannelOption;
import java.net.StandardSocketOptions;
import io.netty.channel.ChannelFactory;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.ServerChannel;
import io.vertx.core.Context;
import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.eventbus.impl.MessageConsumerImpl;
import io.vertx.core.internal.ContextInternal;
import io.vertx.core.internal.VertxInternal;
import io.vertx.core.spi.transport.Transport;

import java.util.concurrent.ThreadFactory;

/**
 * The Vert.x internals the server needs, in one place ({@code io.vertx.core.internal} is the package
 * Vert.x documents for integrators; the EventBus discard hook is implementation API). {@link #check}
 * runs at startup, so a Vert.x that changed one of them stops the server with a message naming it,
 * instead of failing later (or leaking, for the discard hook). Everything else uses public API.
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

  /** Sets {@code SO_REUSEPORT} on {@code bootstrap}'s listening socket: the Unix option on a native transport (epoll, io_uring), the JDK's standard one on NIO. */
  public static void reusePort(Vertx vertx, ServerBootstrap bootstrap) {
    if (vertx.isNativeTransportEnabled()) {
      bootstrap.option(UnixChannelOption.SO_REUSEPORT, true);
    } else {
      bootstrap.option(NioChannelOption.of(StandardSocketOptions.SO_REUSEPORT), true);
    }
  }

  /** A Vert.x context on {@code loop}: callbacks of Vert.x APIs called there come back to that thread. */
  public static Context contextOn(Vertx vertx, EventLoop loop) {
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

  /**
   * Installs the handler of the messages the bus discards for {@code consumer} (its queue is full, or
   * it was unregistered with messages still queued): without it a discarded message is dropped unseen.
   */
  public static <T> void discardHandler(MessageConsumer<T> consumer, Handler<Message<T>> handler) {
    if (!(consumer instanceof MessageConsumerImpl<T> impl)) {
      throw new IllegalStateException(incompatible("MessageConsumerImpl.discardHandler", consumer.getClass().getName()));
    }
    impl.discardHandler(handler);
  }

  /**
   * Checks every internal above against this Vert.x, without side effects that outlive the call.
   *
   * @throws IllegalStateException naming the internal that changed
   */
  public static void check(Vertx vertx) {
    if (!(vertx instanceof VertxInternal internal)) {
      throw new IllegalStateException(incompatible("VertxInternal", vertx.getClass().getName()));
    }
    try {
      if (internal.acceptorEventLoopGroup() == null || serverChannelFactory(vertx) == null) {
        throw new IllegalStateException(incompatible("VertxInternal.acceptorEventLoopGroup/transport", "null"));
      }
      if (eventLoop(contextOn(vertx, eventLoopPool(vertx).next())) == null) {
        throw new IllegalStateException(incompatible("ContextInternal.nettyEventLoop", "null"));
      }
      MessageConsumer<Object> probe = vertx.eventBus().localConsumer("odin.internals-check." + System.nanoTime());
      try {
        discardHandler(probe, m -> { });
      } finally {
        probe.unregister();
      }
    } catch (LinkageError changed) {
      // a method or class of the internal API is gone or has another signature
      throw new IllegalStateException(incompatible(changed.getMessage(), changed.getClass().getSimpleName()), changed);
    }
  }

  private static String incompatible(String what, String found) {
    return "this Vert.x (" + vertxVersion() + ") does not offer the internal " + what + " odin-ws was built against (found " + found
        + "); run odin-ws with the Vert.x version its pom names";
  }

  private static String vertxVersion() {
    try (var in = Vertx.class.getResourceAsStream("/META-INF/vertx/vertx-version.txt")) {
      return in == null ? "unknown version" : new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8).strip();
    } catch (java.io.IOException e) {
      return "unknown version";
    }
  }
}
