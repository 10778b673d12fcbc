package io.odinws.shard.admission;

import java.net.InetAddress;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Simultaneous sockets per client address, shared by every shard's loop: lock-free, and an address
 * leaves the map when its last socket is released, so memory follows the sockets held.
 *
 * <p>A counter that reached zero is dead: it is never incremented again (an acquire only moves a
 * counter up from one or more) and is replaced by a fresh one, so a release racing an acquire can
 * neither lose a count nor remove a live counter.
 */
final class AddressCounts {

  private final ConcurrentHashMap<InetAddress, AtomicInteger> counts = new ConcurrentHashMap<>();

  /** @return true if {@code address} held fewer than {@code max} and now holds one more */
  boolean tryAcquire(InetAddress address, int max) {
    for (;;) {
      AtomicInteger c = counts.get(address);
      if (c == null) {
        if (counts.putIfAbsent(address, new AtomicInteger(1)) == null) {
          return true;
        }
        continue;
      }
      int n = c.get();
      if (n == 0) {
        counts.remove(address, c); // its releaser is about to remove it: help, then start again
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

  /** Gives back one of {@code address}'s sockets, acquired before. */
  void release(InetAddress address) {
    AtomicInteger c = counts.get(address);
    if (c != null && c.decrementAndGet() == 0) {
      counts.remove(address, c);
    }
  }

  int held(InetAddress address) {
    AtomicInteger c = counts.get(address);
    return c == null ? 0 : c.get();
  }

  int addresses() {
    return counts.size();
  }
}
