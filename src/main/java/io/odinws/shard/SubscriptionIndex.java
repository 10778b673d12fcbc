package io.odinws.shard;

import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

/**
 * One shard's channel to subscribers map, and each connection's own set of channels. Owned by the
 * shard's event loop: no locks.
 */
final class SubscriptionIndex {

  private final Map<String, Subscribers> byChannel = new HashMap<>();
  private long subscriptions;

  Subscribers get(String channel) {
    return byChannel.get(channel);
  }

  /** @return false when the connection already had it (subscribing twice is idempotent) */
  boolean add(Connection c, String channel) {
    Set<String> own = c.channels;
    if (own == null) {
      own = c.channels = new HashSet<>(4);
    }
    if (!own.add(channel)) {
      return false;
    }
    byChannel.computeIfAbsent(channel, k -> new Subscribers()).add(c);
    subscriptions++;
    return true;
  }

  /** @return false when the connection did not have it (not an error) */
  boolean remove(Connection c, String channel) {
    if (c.channels == null || !c.channels.remove(channel)) {
      return false;
    }
    detach(c, channel);
    return true;
  }

  void removeAll(Connection c) {
    if (c.channels == null) {
      return;
    }
    for (String channel : c.channels) {
      detach(c, channel);
    }
    c.channels = null;
  }

  private void detach(Connection c, String channel) {
    Subscribers subs = byChannel.get(channel);
    if (subs != null && subs.remove(c)) {
      subscriptions--;
      if (subs.size == 0) {
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
