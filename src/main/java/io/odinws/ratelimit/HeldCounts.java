package io.odinws.ratelimit;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Simultaneous holdings per key (sockets per client address, connections per user), shared by every
 * shard's loop: lock-free, and a key leaves the map when its last holding is released, so memory
 * follows what is held.
 *
 * <p>A counter that reached zero is dead: it is never incremented again (an acquire only moves a
 * counter up from one or more) and is replaced by a fresh one, so a release racing an acquire can
 * neither lose a count nor remove a live counter.
 */
public final class HeldCounts<K> {

  private final ConcurrentHashMap<K, AtomicInteger> counts = new ConcurrentHashMap<>();

  /** @return true if {@code key} held fewer than {@code max} and now holds one more */
  public boolean tryAcquire(K key, int max) {
    for (;;) {
      AtomicInteger c = counts.get(key);
      if (c == null) {
        if (counts.putIfAbsent(key, new AtomicInteger(1)) == null) {
          return true;
        }
        continue;
      }
      int n = c.get();
      if (n == 0) {
        counts.remove(key, c); // its releaser is about to remove it: help, then start again
        continue;
      }
      if (n >= max) {
        return false;
      }
      if (c.compareAndSet(n, n + 1)) {
        return true;
      }
    }
  }

  /** Gives back one of {@code key}'s holdings, acquired before. */
  public void release(K key) {
    AtomicInteger c = counts.get(key);
    if (c != null && c.decrementAndGet() == 0) {
      counts.remove(key, c);
    }
  }

  public int held(K key) {
    AtomicInteger c = counts.get(key);
    return c == null ? 0 : c.get();
  }

  public int keys() {
    return counts.size();
  }
}
