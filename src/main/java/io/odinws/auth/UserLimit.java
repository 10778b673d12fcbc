package io.odinws.auth;

import io.odinws.config.AuthConfig;
import io.odinws.ratelimit.HeldCounts;

import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Simultaneous authenticated connections per {@code sub} on this server ({@code auth.maxConnectionsPerUser};
 * 0: no limit), shared by every shard. Each connection takes a {@link Hold} and gives it back once,
 * whichever way it ends.
 */
public final class UserLimit {

  private final HeldCounts<String> counts = new HeldCounts<>();
  private final int max;

  /** @param max the most connections per user; 0 = no limit */
  public UserLimit(int max) {
    if (max < 0) {
      throw new IllegalArgumentException("max must be 0 (no limit) or more: " + max);
    }
    this.max = max == 0 ? Integer.MAX_VALUE : max;
  }

  public static UserLimit of(AuthConfig config) {
    return new UserLimit(config.maxConnectionsPerUser());
  }

  /**
   * A hold on one of {@code subject}'s connections, or null when it has the most it may. A refresh for
   * the same {@code sub} keeps its hold rather than taking another.
   */
  public Hold tryAcquire(String subject) {
    return counts.tryAcquire(subject, max) ? new Hold(subject) : null;
  }

  /** How many connections {@code subject} holds. */
  public int held(String subject) {
    return counts.held(subject);
  }

  /** How many users hold at least one connection. */
  public int users() {
    return counts.keys();
  }

  /** One connection's count against its user: released once; later releases do nothing. Thread-safe. */
  public final class Hold {

    private final String subject;
    private final AtomicBoolean released = new AtomicBoolean();

    private Hold(String subject) {
      this.subject = subject;
    }

    public String subject() {
      return subject;
    }

    /** Gives the count back; later calls do nothing. */
    public void release() {
      if (released.compareAndSet(false, true)) {
        counts.release(subject);
      }
    }
  }
}
