package io.odinws.shard;

import io.odinws.ratelimit.TokenBucket;

/**
 * One connection's inbound protection: a token bucket per message, at most one rate-limit error a
 * second, and the flood detector. Owned by its connection, on one loop.
 *
 * <p>The flood detector is a second bucket, refilled at the flooding threshold and holding
 * {@code floodSeconds} of it: a client is flooding once it has sent that many messages more than
 * the threshold's pace allows. It counts messages, not seconds over the threshold, so a loop that
 * reads a flooder unevenly (a busy shard reads it in bursts, with quiet seconds between) still
 * sees the flood.
 */
final class InboundLimiter {

  enum Verdict { PASS, DROP, DROP_AND_TELL }

  private static final long NANOS_PER_SECOND = 1_000_000_000L;

  private final TokenBucket bucket;
  private final TokenBucket flood;
  private long lastErrorNanos;
  private boolean flooding;

  InboundLimiter(ConnectionPolicy policy, long nowNanos) {
    this.bucket = new TokenBucket(policy.messageBurst(), policy.messagesPerSecond(), nowNanos);
    this.flood = new TokenBucket((int) Math.min(Integer.MAX_VALUE, (long) policy.floodThreshold() * policy.floodSeconds()),
        policy.floodThreshold(), nowNanos);
    this.lastErrorNanos = nowNanos - NANOS_PER_SECOND;
  }

  /** Every inbound data message passes here first. */
  Verdict admit(long nowNanos) {
    if (!flood.tryTake(nowNanos)) {
      flooding = true;
    }
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

  /**
   * For a message not decoded yet: {@link #admit}, when the bucket has no token now (the message is dropped, and
   * counts against the flood detector as any); otherwise PASS with nothing taken, for {@link #admit} to take later.
   */
  Verdict dropIfOver(long nowNanos) {
    return bucket.hasToken(nowNanos) ? Verdict.PASS : admit(nowNanos);
  }

  /**
   * Both buckets full again, no flood, and an error could be told now: a new limiter would behave the
   * same, so the connection may drop this one until its next message.
   */
  boolean isRested(long nowNanos) {
    return !flooding && bucket.isFull(nowNanos) && flood.isFull(nowNanos) && nowNanos - lastErrorNanos >= NANOS_PER_SECOND;
  }

  /** The flood detector's bucket ran dry: the connection is to be closed at the next sweep. */
  boolean flooding() {
    return flooding;
  }
}
