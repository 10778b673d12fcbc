package io.odinws.router;

import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;

import io.odinws.stats.ShardStats;

/**
 * The live shards, shared by the router (which picks one per accepted socket on the acceptor thread)
 * and the shards (which join on start and leave on stop). Copy-on-write: picks never lock.
 */
public final class ShardRegistry {

  private volatile ShardSlot[] slots = new ShardSlot[0];
  /** Stats of shards that left: counters summed over shards must not go back when one is removed. */
  private final List<ShardStats> retired = new CopyOnWriteArrayList<>();
  private final List<Consumer<ShardSlot>> onAdd = new CopyOnWriteArrayList<>();

  public synchronized void add(ShardSlot slot) {
    ShardSlot[] next = Arrays.copyOf(slots, slots.length + 1);
    next[slots.length] = slot;
    Arrays.sort(next, Comparator.comparingInt(ShardSlot::id));
    slots = next;
    retired.remove(slot.stats());
    onAdd.forEach(l -> l.accept(slot));
  }

  public synchronized void remove(ShardSlot slot) {
    int before = slots.length;
    slots = Arrays.stream(slots).filter(s -> s != slot).toArray(ShardSlot[]::new);
    if (slots.length < before) {
      retired.add(slot.stats());
    }
  }

  /** Called for every shard that joins, now and later (metrics per shard). */
  public void onAdd(Consumer<ShardSlot> listener) {
    onAdd.add(listener);
    slots().forEach(listener);
  }

  /** Stats of every shard that ever ran: live ones and those that left. */
  public List<ShardStats> allStats() {
    List<ShardStats> all = new java.util.ArrayList<>(retired);
    for (ShardSlot s : slots) {
      all.add(s.stats());
    }
    return all;
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
