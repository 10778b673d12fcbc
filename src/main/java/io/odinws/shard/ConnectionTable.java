package io.odinws.shard;

import io.netty.channel.Channel;
import io.odinws.stats.ServerMeters;
import io.odinws.stats.ShardStats;
import io.vertx.core.Promise;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Every socket of one shard, upgraded or not, from accept to close; the shard's WebSocket gauge;
 * and the drain that waits for the last one. On the shard's loop only.
 */
final class ConnectionTable {

  private static final double GOLDEN_RATIO_FRACTION = 0.6180339887498949;

  private final ShardStats stats;
  private final ServerMeters meters;
  private final SubscriptionIndex index;
  private Connection[] connections = new Connection[64];
  private int count;
  private int webSockets;
  /** Upgrades so far, for the ping phases (see {@link #upgraded}). */
  private long upgrades;
  /** Bytes read from this shard's sockets since the last sweep: a plain field, published once a second. */
  private long bytesReceived;
  /** Completed when the last socket closes after {@link #drain}. */
  private Promise<Void> drained;

  ConnectionTable(ShardStats stats, ServerMeters meters, SubscriptionIndex index) {
    this.stats = stats;
    this.meters = meters;
    this.index = index;
  }

  void add(Connection c) {
    if (count == connections.length) {
      connections = Arrays.copyOf(connections, count * 2);
    }
    c.tableSlot(count);
    connections[count++] = c;
  }

  /**
   * Counts the upgrade and returns how far into its first ping interval {@code c} starts: a fraction of
   * {@code pingEveryNanos} from a low-discrepancy sequence (the golden ratio's multiples, modulo one) over this shard's
   * upgrades. Connections that upgrade together (a reconnect storm, a deploy, a bench's ramp) would otherwise have
   * their pings due at the same sweeps, every interval, and their pongs read in the same fan-outs; spread, a shard
   * pings an even share of its connections each second. The first connection starts at 0.
   */
  long upgraded(Connection c, long pingEveryNanos) {
    stats.webSockets(++webSockets);
    double phase = (upgrades++ * GOLDEN_RATIO_FRACTION) % 1.0;
    return (long) (phase * pingEveryNanos);
  }

  /** The socket is closed: forget it, its subscriptions, and count why it ended. */
  void closed(Connection c) {
    int slot = c.tableSlot();
    if (slot < 0) {
      return;
    }
    index.removeAll(c);
    int last = --count;
    Connection moved = connections[last];
    connections[slot] = moved;
    moved.tableSlot(slot);
    connections[last] = null;
    c.tableSlot(-1);
    if (c.isUpgraded()) {
      stats.webSockets(--webSockets);
      stats.disconnected(c.disconnectReason());
      meters.connectionLength().record(System.nanoTime() - c.upgradedAtNanos(), TimeUnit.NANOSECONDS);
    }
    if (drained != null && count == 0) {
      drained.tryComplete();
    }
  }

  void received(int bytes) {
    bytesReceived += bytes;
  }

  /** The once-a-second sweep of every connection (see {@link Connection#tick}). */
  void sweep(long now, ConnectionPolicy policy) {
    stats.addReceivedBytes(bytesReceived);
    bytesReceived = 0;
    for (int i = count - 1; i >= 0; i--) {
      connections[i].tick(now, policy);
    }
  }

  /** Ends every connection: WebSockets with {@code why}, the others without a handshake. */
  void endAll(Disconnect why) {
    for (int i = count - 1; i >= 0; i--) {
      connections[i].end(why);
    }
  }

  /** Closes every WebSocket with {@code why}; HTTP connections are left to finish. */
  void closeWebSockets(Disconnect why) {
    for (int i = count - 1; i >= 0; i--) {
      if (connections[i].isUpgraded()) {
        connections[i].close(why);
      }
    }
  }

  /** {@link #endAll}, then {@code done} completes when the last socket has closed. */
  void drain(Disconnect why, Promise<Void> done) {
    drained = done;
    endAll(why);
    if (count == 0) {
      done.tryComplete();
    }
  }

  /** Closes every socket at once (the shard stops; its event loop outlives it). */
  void closeSockets() {
    for (int i = count - 1; i >= 0; i--) {
      connections[i].channel().close();
    }
  }

  List<Channel> channels() {
    List<Channel> out = new ArrayList<>(count);
    for (int i = 0; i < count; i++) {
      out.add(connections[i].channel());
    }
    return out;
  }
}
