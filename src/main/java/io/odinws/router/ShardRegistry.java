package io.odinws.router;

import java.util.Arrays;
import java.util.Comparator;
import java.util.List;

/**
 * The live shards, shared by the router (which picks one per accepted socket on the acceptor thread)
 * and the shards (which join on start and leave on stop). Copy-on-write: picks never lock.
 */
public final class ShardRegistry {

  private volatile ShardSlot[] slots = new ShardSlot[0];

  public synchronized void add(ShardSlot slot) {
    ShardSlot[] next = Arrays.copyOf(slots, slots.length + 1);
    next[slots.length] = slot;
    Arrays.sort(next, Comparator.comparingInt(ShardSlot::id));
    slots = next;
  }

  public synchronized void remove(ShardSlot slot) {
    slots = Arrays.stream(slots).filter(s -> s != slot).toArray(ShardSlot[]::new);
  }

  public List<ShardSlot> slots() {
    return List.of(slots);
  }

  /**
   * The shard with the fewest sockets among those with room (ties: the lowest id), counted as
   * taken; null when every shard is full.
   */
  ShardSlot acquireLeastLoaded() {
    ShardSlot best = null;
    int bestCount = Integer.MAX_VALUE;
    for (ShardSlot s : slots) {
      int n = s.connections().get();
      if (n < s.maxConnections() && n < bestCount) {
        best = s;
        bestCount = n;
      }
    }
    if (best != null) {
      best.connections().incrementAndGet();
    }
    return best;
  }

  public int totalConnections() {
    int sum = 0;
    for (ShardSlot s : slots) {
      sum += s.connections().get();
    }
    return sum;
  }

  public int totalCapacity() {
    int sum = 0;
    for (ShardSlot s : slots) {
      sum += s.maxConnections();
    }
    return sum;
  }
}
