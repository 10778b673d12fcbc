package io.odinws.shard;

import io.odinws.stats.ShardStats;

import java.util.HashMap;
import java.util.Map;
import java.util.Set;

/**
 * One shard's subscription key to subscribers map, kept in step with each connection's own set of
 * channels, and the shard's subscription gauge.
 *
 * <p>Two parts. Public: key to subscribers, for public records. Private: key, then owner ({@code sub}) to
 * subscribers, for records of a private category, so a private record reaches its owners' connections by
 * lookups, never by a scan of every subscriber. An exact channel or {@code *.c} of a private category is
 * in the private part only, under the connection's subject; a token wildcard {@code T.*} is in the public
 * part, and also in the private part under the subject once the connection is authenticated. A
 * connection's subject never changes once set (a refresh keeps it), so detaching finds what attaching put.
 * Owned by the shard's event loop: no locks.
 */
final class SubscriptionIndex {

  private final Map<String, Subscribers> byChannel = new HashMap<>();
  private final Map<String, Map<String, Subscribers>> byOwner = new HashMap<>();
  private final Set<String> privateCategories;
  private final ShardStats stats;
  private long subscriptions;

  /** @param stats where the subscription gauge is published, at every change */
  SubscriptionIndex(ShardStats stats) {
    this(stats, Set.of());
  }

  /**
   * @param stats             where the subscription gauge is published, at every change
   * @param privateCategories categories whose records go to their owners only (none when authentication is off)
   */
  SubscriptionIndex(ShardStats stats, Set<String> privateCategories) {
    this.stats = stats;
    this.privateCategories = Set.copyOf(privateCategories);
  }

  /** Public subscribers of a key (channel or wildcard). */
  Subscribers get(String channel) {
    return byChannel.get(channel);
  }

  /** Subscribers of a key for the private records of {@code owner}; no allocation. */
  Subscribers get(String channel, String owner) {
    Map<String, Subscribers> owners = byOwner.get(channel);
    return owners == null ? null : owners.get(owner);
  }

  /**
   * Whether {@code channel} is an exact channel or a category wildcard ({@code *.c}) of a private category:
   * an anonymous connection cannot subscribe to it. A token wildcard ({@code T.*}) is not private.
   */
  boolean isPrivate(String channel) {
    if (privateCategories.isEmpty()) {
      return false;
    }
    int dot = channel.lastIndexOf('.');
    return dot > 0 && privateCategories.contains(channel.substring(dot + 1));
  }

  /** @return false when the connection already had it (subscribing twice is idempotent) */
  boolean add(Connection c, String channel) {
    if (!c.addChannel(channel)) {
      return false;
    }
    stats.subscriptions(++subscriptions);
    if (!isPrivate(channel)) {
      byChannel.computeIfAbsent(channel, k -> new Subscribers()).add(c);
    }
    String subject = c.subject();
    if (hasPrivatePart(channel, subject)) {
      byOwner.computeIfAbsent(channel, k -> new HashMap<>()).computeIfAbsent(subject, k -> new Subscribers()).add(c);
    }
    return true;
  }

  /**
   * The connection has just authenticated (anonymous until now): its subscriptions gain their private part,
   * so a {@code T.*} subscription now also receives the connection's own private records. Idempotent: a
   * refresh (same subject) adds nothing.
   */
  void authenticated(Connection c) {
    String subject = c.subject();
    if (subject == null || privateCategories.isEmpty()) {
      return;
    }
    for (String channel : c.channels()) {
      if (hasPrivatePart(channel, subject)) {
        Subscribers subs = byOwner.computeIfAbsent(channel, k -> new HashMap<>()).computeIfAbsent(subject, k -> new Subscribers());
        if (!subs.contains(c)) {
          subs.add(c);
        }
      }
    }
  }

  /** @return false when the connection did not have it (not an error) */
  boolean remove(Connection c, String channel) {
    if (!c.removeChannel(channel)) {
      return false;
    }
    stats.subscriptions(--subscriptions);
    detach(c, channel);
    return true;
  }

  void removeAll(Connection c) {
    Set<String> channels = c.takeChannels();
    if (!channels.isEmpty()) {
      subscriptions -= channels.size();
      stats.subscriptions(subscriptions);
    }
    for (String channel : channels) {
      detach(c, channel);
    }
  }

  /** Whether {@code channel}, subscribed by a connection authenticated as {@code subject}, has a private entry. */
  private boolean hasPrivatePart(String channel, String subject) {
    // An anonymous private subscription is refused by the request handler; if one came here, it reaches nobody.
    return subject != null && !privateCategories.isEmpty() && (isPrivate(channel) || channel.endsWith(".*"));
  }

  private void detach(Connection c, String channel) {
    Subscribers subs = byChannel.get(channel);
    if (subs != null && subs.remove(c) && subs.size() == 0) {
      byChannel.remove(channel);
    }
    String subject = c.subject();
    Map<String, Subscribers> owners = subject == null ? null : byOwner.get(channel);
    if (owners != null) {
      Subscribers mine = owners.get(subject);
      if (mine != null && mine.remove(c) && mine.size() == 0) {
        owners.remove(subject);
        if (owners.isEmpty()) {
          byOwner.remove(channel);
        }
      }
    }
  }

  /** Subscription keys with at least one subscriber, public or private. */
  int channelCount() {
    int n = byChannel.size();
    for (String key : byOwner.keySet()) {
      if (!byChannel.containsKey(key)) {
        n++;
      }
    }
    return n;
  }

  long subscriptionCount() {
    return subscriptions;
  }
}
