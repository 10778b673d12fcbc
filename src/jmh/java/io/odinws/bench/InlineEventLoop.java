package io.odinws.bench;

import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelPromise;
import io.netty.channel.DefaultChannelPromise;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.util.concurrent.AbstractEventExecutor;
import io.netty.util.concurrent.Future;

import java.util.ArrayDeque;
import java.util.concurrent.TimeUnit;

/**
 * An event loop that is whatever thread calls it: {@code inEventLoop()} is always true, so pipeline
 * operations run inline on the benchmark thread, as they run on a shard's loop in the server. Tasks
 * handed to {@link #execute} (Netty's deferred {@code channelInactive} and deregistration on close)
 * wait for {@link #runTasks()}. Unlike Netty's {@code EmbeddedEventLoop}, nothing runs after each
 * write or flush, so the measured path is the transport's own. Single-threaded; no scheduling.
 */
public final class InlineEventLoop extends AbstractEventExecutor implements EventLoop {

  private final ArrayDeque<Runnable> tasks = new ArrayDeque<>();
  private final Future<?> termination = newSucceededFuture(null);

  @Override
  public EventLoopGroup parent() {
    return null;
  }

  @Override
  public EventLoop next() {
    return this;
  }

  @Override
  public boolean inEventLoop(Thread thread) {
    return true;
  }

  @Override
  public void execute(Runnable task) {
    tasks.add(task);
  }

  /** Runs the deferred tasks, including the ones they add. */
  public void runTasks() {
    Runnable task;
    while ((task = tasks.poll()) != null) {
      task.run();
    }
  }

  @Override
  public ChannelFuture register(Channel channel) {
    return register(new DefaultChannelPromise(channel, this));
  }

  @Override
  public ChannelFuture register(ChannelPromise promise) {
    promise.channel().unsafe().register(this, promise);
    return promise;
  }

  @Deprecated
  @Override
  public ChannelFuture register(Channel channel, ChannelPromise promise) {
    channel.unsafe().register(this, promise);
    return promise;
  }

  @Override
  public boolean isShuttingDown() {
    return false;
  }

  @Override
  public Future<?> shutdownGracefully(long quietPeriod, long timeout, TimeUnit unit) {
    return termination;
  }

  @Override
  public Future<?> terminationFuture() {
    return termination;
  }

  @Deprecated
  @Override
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
