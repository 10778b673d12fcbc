package io.odinws.ratelimit;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * Lock-free token bucket (burst {@code capacity}, refill {@code refillPerSecond}) driven by a caller-supplied
 * {@link System#nanoTime()}-style clock, so it is pure and testable with a fake clock.
 *
 * <p>Why one {@code long}: it is implemented as the equivalent GCRA ("generic cell rate algorithm"). The whole
 * state is the <em>theoretical arrival time</em> (TAT): the instant at which the bucket would be full again.
 * Taking a token pushes TAT forward by one token's worth of nanos; a take is allowed while TAT stays within
 * {@code capacity} tokens of now. A single CAS on that long replaces a lock around (tokens, lastRefill), so
 * many event-loop threads can share a bucket without blocking, and a refused take writes nothing (a flooding
 * client does not dig itself a deeper hole, it just waits for refill).
 *
 * <p>All clock comparisons use differences, so the arbitrary origin of {@code nanoTime} does not matter.
 * Every {@code nowNanos} given to one bucket must come from the same clock as the one it was created with.
 */
public final class TokenBucket {

  private static final VarHandle TAT;

  static {
    try {
      TAT = MethodHandles.lookup().findVarHandle(TokenBucket.class, "tat", long.class);
    } catch (ReflectiveOperationException e) {
      throw new ExceptionInInitializerError(e);
    }
  }

  /** Bound on how far TAT may run ahead of now (~36 years), so clock differences can never overflow. */
  private static final long MAX_AHEAD_NANOS = Long.MAX_VALUE / 8;

  private final int capacity;
  /** Refill interval per token, rounded up so that rounding can only make the limit stricter. */
  private final long nanosPerToken;
  /** {@code capacity * nanosPerToken}: how far ahead of now TAT may run. */
  private final long burstNanos;
  private volatile long tat;

  /**
   * @param capacity        burst size, at least 1
   * @param refillPerSecond tokens added per second, positive
   * @param nowNanos        creation time; the bucket starts full
   */
  public TokenBucket(int capacity, double refillPerSecond, long nowNanos) {
    if (capacity < 1) {
      throw new IllegalArgumentException("capacity must be >= 1: " + capacity);
    }
    if (!(refillPerSecond > 0) || Double.isInfinite(refillPerSecond)) {
      throw new IllegalArgumentException("refillPerSecond must be positive and finite: " + refillPerSecond);
    }
    double interval = Math.ceil(1e9 / refillPerSecond);
    this.capacity = capacity;
    this.nanosPerToken = (long) Math.min(MAX_AHEAD_NANOS, Math.max(1.0, interval));
    // absurd settings (huge burst, glacial refill: centuries to refill) are clamped, not refused
    this.burstNanos = interval * capacity >= MAX_AHEAD_NANOS ? MAX_AHEAD_NANOS : capacity * nanosPerToken;
    this.tat = nowNanos;
  }

  /** Takes one token if there is one. Never blocks; on contention it retries the CAS. */
  public boolean tryTake(long nowNanos) {
    for (;;) {
      long cur = tat;
      long next = (cur - nowNanos < 0 ? nowNanos : cur) + nanosPerToken;
      if (next - nowNanos > burstNanos) {
        return false;
      }
      if (TAT.compareAndSet(this, cur, next)) {
        return true;
      }
    }
  }

  /** Whether {@link #tryTake} would succeed now; takes nothing. */
  public boolean hasToken(long nowNanos) {
    long cur = tat;
    return (cur - nowNanos < 0 ? nowNanos : cur) + nanosPerToken - nowNanos <= burstNanos;
  }

  /**
   * Returns a token taken by {@link #tryTake} that ended up unused (another limit refused the request), so that
   * a refusal elsewhere does not cost this bucket. Cannot overfill: TAT below now simply means "full".
   */
  public void refund() {
    TAT.getAndAdd(this, -nanosPerToken);
  }

  /** Nanos until {@link #tryTake} could succeed; 0 if a token is available now. Used for Retry-After. */
  public long nanosUntilAvailable(long nowNanos) {
    long cur = tat;
    long ahead = cur - nowNanos < 0 ? 0 : cur - nowNanos;
    long wait = ahead - (burstNanos - nanosPerToken);
    return Math.max(0L, wait);
  }

  /** Whole tokens available now (for tests and diagnostics). */
  public int available(long nowNanos) {
    long cur = tat;
    long ahead = cur - nowNanos < 0 ? 0 : cur - nowNanos;
    return (int) ((burstNanos - ahead) / nanosPerToken);
  }

  /** True when refill has caught up completely: the bucket is indistinguishable from a new one. */
  public boolean isFull(long nowNanos) {
    return tat - nowNanos <= 0;
  }

  public int capacity() {
    return capacity;
  }

  public long nanosPerToken() {
    return nanosPerToken;
  }
}
