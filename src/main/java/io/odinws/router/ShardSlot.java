package io.odinws.router;

import io.netty.channel.Channel;
import io.netty.channel.EventLoop;
import io.odinws.ops.ShardStats;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

/**
 * A shard as the router sees it: its event loop, its capacity, and the sockets it holds. The count
 * goes up when the router assigns a socket (so a burst of handshakes spreads evenly) and down when
 * the socket closes.
 *
 * @param initializer builds a new socket's pipeline; runs on {@code loop}
 */
public record ShardSlot(int id, EventLoop loop, int maxConnections, AtomicInteger connections,
                        Consumer<Channel> initializer, ShardStats stats) {

  public ShardSlot(int id, EventLoop loop, int maxConnections, Consumer<Channel> initializer, ShardStats stats) {
    this(id, loop, maxConnections, new AtomicInteger(), initializer, stats);
  }

  public boolean hasRoom() {
    return connections.get() < maxConnections;
  }
}
