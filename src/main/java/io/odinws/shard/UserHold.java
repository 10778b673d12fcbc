package io.odinws.shard;

import io.odinws.ratelimit.HeldCounts;

/**
 * The per-user connection count one authenticated connection holds: taken at its first
 * authentication, given back once when it closes. Touched only on its shard's loop.
 */
final class UserHold {

  private HeldCounts<String> counts;
  private String subject;

  /** @return true when counted against {@code subject} (or already counted), false over {@code max} (0: no limit) */
  boolean acquire(HeldCounts<String> counts, String subject, int max) {
    if (this.subject != null) {
      return true;
    }
    if (!counts.tryAcquire(subject, max == 0 ? Integer.MAX_VALUE : max)) {
      return false;
    }
    this.counts = counts;
    this.subject = subject;
    return true;
  }

  /** Gives the count back; later calls do nothing. */
  void release() {
    String s = subject;
    if (s != null) {
      subject = null;
      counts.release(s);
    }
  }
}
