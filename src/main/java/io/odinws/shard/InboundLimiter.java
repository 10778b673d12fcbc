package io.odinws.shard;

import io.odinws.ratelimit.TokenBucket;

/**
 * One connection's inbound protection: a token bucket per message, at most one rate-limit error a
 * second, and the flood detector's per-second window. Owned by its connection, on one loop.
 */
final class InboundLimiter {

  enum Verdict { PASS, DROP, DROP_AND_TELL }

  private static final long NANOS_PER_SECOND = 1_000_000_000L;

  private final TokenBucket bucket;
  private long lastErrorNanos;
  private int windowMessages;
  private int floodSeconds;

  InboundLimiter(ConnectionPolicy policy, long nowNanos) {
    this.bucket = new TokenBucket(policy.messageBurst(), policy.messagesPerSecond(), nowNanos);
    this.lastErrorNanos = nowNanos - NANOS_PER_SECOND;
  }

  /** Every inbound data message passes here first. */
  Verdict admit(long nowNanos) {
    windowMessages++;
    if (bucket.tryTake(nowNanos)) {
      return Verdict.PASS;
    }
    // One error per second at most: answering every dropped message would turn a flood around.
    if (nowNanos - lastErrorNanos >= NANOS_PER_SECOND) {
      lastErrorNanos = nowNanos;
      return Verdict.DROP_AND_TELL;
    }
    return Verdict.DROP;
  }

  /** Ends a one-second window. @return consecutive flooding seconds so far */
  int endSecond(int threshold) {
    floodSeconds = windowMessages > threshold ? floodSeconds + 1 : 0;
    windowMessages = 0;
    return floodSeconds;
  }
}
