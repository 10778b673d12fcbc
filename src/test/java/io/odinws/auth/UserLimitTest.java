package io.odinws.auth;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

class UserLimitTest {

  @Test
  void eachUserHoldsAtMostTheMaximumAndAHoldIsReleasedOnce() {
    UserLimit limit = new UserLimit(2);
    UserLimit.Hold a1 = held(limit.tryAcquire("alice"));
    UserLimit.Hold a2 = held(limit.tryAcquire("alice"));
    assertNull(limit.tryAcquire("alice"), "a third connection for alice");
    org.junit.jupiter.api.Assertions.assertNotNull(limit.tryAcquire("bob"), "other users are counted apart");
    assertEquals(2, limit.held("alice"));

    a1.release();
    a1.release(); // twice: counted once
    assertEquals(1, limit.held("alice"));
    UserLimit.Hold a3 = held(limit.tryAcquire("alice"));
    assertNull(limit.tryAcquire("alice"));
    a2.release();
    a3.release();
    assertEquals(0, limit.held("alice"));
    assertEquals(1, limit.users(), "alice's entry is gone; bob's stays");
  }

  @Test
  void zeroMeansNoLimit() {
    UserLimit limit = new UserLimit(0);
    List<UserLimit.Hold> holds = new ArrayList<>();
    for (int i = 0; i < 10_000; i++) {
      holds.add(held(limit.tryAcquire("alice")));
    }
    holds.forEach(UserLimit.Hold::release);
    assertEquals(0, limit.users());
  }

  private static <T> T held(T value) {
    org.junit.jupiter.api.Assertions.assertNotNull(value);
    return value;
  }
}
