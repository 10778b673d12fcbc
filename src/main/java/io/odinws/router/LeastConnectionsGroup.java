package io.odinws.router;

import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelPromise;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.util.AttributeKey;
import io.odinws.stats.ServerState;
import io.netty.util.concurrent.AbstractEventExecutorGroup;
import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.Future;

import java.util.Iterator;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The child group of the router's server channel. Netty's acceptor calls {@link #register(Channel)}
 * once per accepted socket: this is where the shard is chosen (fewest sockets, with room) and the
 * socket is registered directly on that shard's event loop. No proxy, no second socket, no copy.
 *
 * <p>It owns no threads: shutting it down is a no-op; the loops belong to Vert.x.
 */
final class LeastConnectionsGroup extends AbstractEventExecutorGroup implements EventLoopGroup {

  /** The shard a socket was given to; absent on a refused socket. */
  static final AttributeKey<ShardSlot> SLOT = AttributeKey.valueOf("odin.shard");
  /** Why a socket is refused: {@link #FULL} or {@link #SHUTTING_DOWN}. */
  static final AttributeKey<String> REFUSAL = AttributeKey.valueOf("odin.refusal");
  static final String FULL = "full";
  static final String SHUTTING_DOWN = "shutting_down";

  private final ShardRegistry registry;
  private final EventLoop refusalLoop;
  private final ServerState state;

  /**
   * @param refusalLoop where refused sockets are registered to be answered with 503 (and counted there, when the
   *                    answer goes out: a socket that sends no request, or asks for a probe, is no refused upgrade)
   */
  LeastConnectionsGroup(ShardRegistry registry, EventLoop refusalLoop, ServerState state) {
    this.registry = registry;
    this.refusalLoop = refusalLoop;
    this.state = state;
  }

  @Override
  public ChannelFuture register(Channel channel) {
    // Called on the acceptor thread only (Vert.x runs one), so pick-and-count cannot race with
    // another pick; decrements come from the shards' loops through the atomic counter.
    if (state.draining()) {
      channel.attr(REFUSAL).set(SHUTTING_DOWN);
      return refusalLoop.register(channel);
    }
    ShardSlot slot = registry.acquireLeastLoaded();
    if (slot == null) {
      channel.attr(REFUSAL).set(FULL);
      return refusalLoop.register(channel);
    }
    channel.attr(SLOT).set(slot);
    channel.closeFuture().addListener(slot);
    return slot.loop().register(channel);
  }

  @Override
  public ChannelFuture register(ChannelPromise promise) {
    return register(promise.channel()).addListener(f -> {
      if (f.isSuccess()) {
        promise.trySuccess();
      } else {
        promise.tryFailure(f.cause());
      }
    });
  }

  @Override
  @Deprecated
  public ChannelFuture register(Channel channel, ChannelPromise promise) {
    return register(promise);
  }

  @Override
  public EventLoop next() {
    return refusalLoop;
  }

  @Override
  public Iterator<EventExecutor> iterator() {
    return List.<EventExecutor>of(refusalLoop).iterator();
  }

  @Override
  public boolean isShuttingDown() {
    return false;
  }

  @Override
  public Future<?> shutdownGracefully(long quietPeriod, long timeout, TimeUnit unit) {
    return terminationFuture();
  }

  @Override
  public Future<?> terminationFuture() {
    return refusalLoop.newSucceededFuture(null);
  }

  @Override
  @Deprecated
  public void shutdown() {
  }

  @Override
  public boolean isShutdown() {
    return false;
  }

  @Override
  public boolean isTerminated() {
    return false;
  }

  @Override
  public boolean awaitTermination(long timeout, TimeUnit unit) {
    return false;
  }
}
