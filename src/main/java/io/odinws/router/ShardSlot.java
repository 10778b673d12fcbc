package io.odinws.router;

import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.EventLoop;
import io.odinws.stats.ShardStats;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

/**
 * A shard as the router sees it: its event loop, its capacity, and the sockets it holds. The count
 * goes up when the router assigns a socket (so a burst of handshakes spreads evenly) and down when
 * the socket closes. The capacity changes when the configuration does (re-sharding, a new total).
 */
public final class ShardSlot implements ChannelFutureListener {

  private final int id;
  private final EventLoop loop;
  private final AtomicInteger connections = new AtomicInteger();
  private final Consumer<Channel> initializer;
  private final ShardStats stats;
  private volatile int maxConnections;

  /** @param initializer builds a new socket's pipeline; runs on {@code loop} */
  public ShardSlot(int id, EventLoop loop, int maxConnections, Consumer<Channel> initializer, ShardStats stats) {
    this.id = id;
    this.loop = loop;
    this.maxConnections = maxConnections;
    this.initializer = initializer;
    this.stats = stats;
  }

  public int id() {
    return id;
  }

  public EventLoop loop() {
    return loop;
  }

  public int maxConnections() {
    return maxConnections;
  }

  /** Applies from the next accept; sockets already held stay. */
  public void maxConnections(int max) {
    this.maxConnections = max;
  }

  public AtomicInteger connections() {
    return connections;
  }

  public Consumer<Channel> initializer() {
    return initializer;
  }

  public ShardStats stats() {
    return stats;
  }

  /** A socket of this shard closed (the slot listens to each socket's close future: no listener object per socket). */
  @Override
  public void operationComplete(ChannelFuture closed) {
    connections.decrementAndGet();
  }

  public boolean hasRoom() {
    return connections.get() < maxConnections;
  }
}
