package io.odinws.shard;

import io.odinws.stats.ShardStats;

import java.util.HashMap;
import java.util.Map;

/**
 * One shard's channel to subscribers map, kept in step with each connection's own set of channels,
 * and the shard's subscription gauge.
 * Owned by the shard's event loop: no locks.
 */
final class SubscriptionIndex {

  private final Map<String, Subscribers> byChannel = new HashMap<>();
  private final ShardStats stats;
  private long subscriptions;

  /** @param stats where the subscription gauge is published, at every change */
  SubscriptionIndex(ShardStats stats) {
    this.stats = stats;
  }

  Subscribers get(String channel) {
    return byChannel.get(channel);
  }

  /** @return false when the connection already had it (subscribing twice is idempotent) */
  boolean add(Connection c, String channel) {
    if (!c.addChannel(channel)) {
      return false;
    }
    byChannel.computeIfAbsent(channel, k -> new Subscribers()).add(c);
    stats.subscriptions(++subscriptions);
    return true;
  }

  /** @return false when the connection did not have it (not an error) */
  boolean remove(Connection c, String channel) {
    if (!c.removeChannel(channel)) {
      return false;
    }
    detach(c, channel);
    return true;
  }

  void removeAll(Connection c) {
    for (String channel : c.takeChannels()) {
      detach(c, channel);
    }
  }

  private void detach(Connection c, String channel) {
    Subscribers subs = byChannel.get(channel);
    if (subs != null && subs.remove(c)) {
      stats.subscriptions(--subscriptions);
      if (subs.size() == 0) {
        byChannel.remove(channel);
      }
    }
  }

  int channelCount() {
    return byChannel.size();
  }

  long subscriptionCount() {
    return subscriptions;
  }
}
