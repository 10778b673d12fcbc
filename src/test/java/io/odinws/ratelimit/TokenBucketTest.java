package io.odinws.ratelimit;


import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TokenBucketTest {

  private static final long MS = 1_000_000L;
  private static final long S = 1_000_000_000L;

  @Test
  void burstThenRefill() {
    long t0 = 123_456_789L;
    TokenBucket b = new TokenBucket(50, 20, t0);
    assertEquals(50 * MS, b.nanosPerToken());
    assertEquals(50, b.available(t0));
    for (int i = 0; i < 50; i++) {
      assertTrue(b.tryTake(t0), "token " + i);
    }
    assertFalse(b.tryTake(t0));
    assertEquals(0, b.available(t0));
    assertEquals(50 * MS, b.nanosUntilAvailable(t0));

    assertFalse(b.tryTake(t0 + 49 * MS), "one token takes 50 ms to refill");
    assertEquals(MS, b.nanosUntilAvailable(t0 + 49 * MS));
    assertTrue(b.tryTake(t0 + 50 * MS));
    assertFalse(b.tryTake(t0 + 50 * MS));

    // 1 s later: 20 more tokens
    long t1 = t0 + 50 * MS + S;
    assertEquals(20, b.available(t1));
    for (int i = 0; i < 20; i++) {
      assertTrue(b.tryTake(t1));
    }
    assertFalse(b.tryTake(t1));
  }

  @Test
  void hasTokenSaysWhatTryTakeWouldDoAndTakesNothing() {
    TokenBucket b = new TokenBucket(3, 10, 0);
    long t = 0;
    for (int i = 0; i < 40; i++, t += 37_000_000L) { // neither a token's interval nor a multiple of it
      for (int k = 0; k < 4; k++) {
        boolean has = b.hasToken(t);
        assertEquals(has, b.hasToken(t), "takes nothing");
        assertEquals(has, b.tryTake(t), "at " + t);
      }
    }
  }

  @Test
  void refillIsCappedAtCapacity() {
    TokenBucket b = new TokenBucket(5, 100, 0);
    for (int i = 0; i < 5; i++) {
      assertTrue(b.tryTake(0));
    }
    long later = 3600 * S;
    assertTrue(b.isFull(later));
    assertEquals(5, b.available(later));
    for (int i = 0; i < 5; i++) {
      assertTrue(b.tryTake(later));
    }
    assertFalse(b.tryTake(later));
  }

  @Test
  void refusedTakeChangesNothingAndRefundReturnsAToken() {
    TokenBucket b = new TokenBucket(2, 1, 0);
    assertTrue(b.tryTake(0));
    assertTrue(b.tryTake(0));
    for (int i = 0; i < 1000; i++) {
      assertFalse(b.tryTake(0));
    }
    assertEquals(S, b.nanosUntilAvailable(0), "hammering an empty bucket does not push refill further out");
    b.refund();
    assertEquals(1, b.available(0));
    assertTrue(b.tryTake(0));
    b.refund();
    b.refund();
    b.refund();
    assertEquals(2, b.available(0), "refunds never overfill");
  }

  @Test
  void worksAcrossNanoTimeWrapAround() {
    long t0 = Long.MAX_VALUE - 10 * MS;
    TokenBucket b = new TokenBucket(1, 10, t0);
    assertTrue(b.tryTake(t0));
    assertFalse(b.tryTake(t0 + 50 * MS)); // this instant overflows to a negative long
    assertTrue(b.tryTake(t0 + 100 * MS));
    assertTrue(b.isFull(t0 + 300 * MS));
  }

  @Test
  void fullnessAndNanosUntilAvailableOnAFreshBucket() {
    TokenBucket b = new TokenBucket(3, 1, -5 * S);
    assertTrue(b.isFull(-5 * S));
    assertEquals(0, b.nanosUntilAvailable(-5 * S));
    assertTrue(b.tryTake(-5 * S));
    assertFalse(b.isFull(-5 * S));
    assertTrue(b.isFull(-4 * S));
  }

  @Test
  void fractionalRatesRoundTowardsStricter() {
    TokenBucket b = new TokenBucket(1, 3, 0);
    assertEquals(333_333_334L, b.nanosPerToken());
    assertTrue(b.tryTake(0));
    assertFalse(b.tryTake(333_333_333L));
    assertTrue(b.tryTake(333_333_334L));
  }

  @Test
  void rejectsBadSettings() {
    assertThrows(IllegalArgumentException.class, () -> new TokenBucket(0, 1, 0));
    assertThrows(IllegalArgumentException.class, () -> new TokenBucket(1, 0, 0));
    assertThrows(IllegalArgumentException.class, () -> new TokenBucket(1, Double.NaN, 0));
    assertThrows(IllegalArgumentException.class, () -> new TokenBucket(1, Double.POSITIVE_INFINITY, 0));
  }

  @Test
  void glacialSettingsAreClampedNotOverflowed() {
    TokenBucket b = new TokenBucket(10_000_000, 0.001, 0);
    assertTrue(b.tryTake(0));
    assertTrue(b.tryTake(S));
    assertTrue(b.available(0) > 1000);
  }
}
