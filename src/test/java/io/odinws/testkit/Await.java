package io.odinws.testkit;

import java.time.Duration;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/** Waits for a condition the test can observe, failing with a description of what never happened. */
public final class Await {

  private static final Duration DEFAULT_POLL = Duration.ofMillis(5);

  private Await() {
  }

  public static void until(String what, Duration timeout, BooleanSupplier condition) {
    until(what, timeout, condition, () -> "");
  }

  public static void until(String what, Duration timeout, BooleanSupplier condition, Supplier<String> state) {
    until(what, timeout, DEFAULT_POLL, condition, state);
  }

  /** @param poll how often to check, for a condition that is work to check (a request, an upgrade) */
  public static void until(String what, Duration timeout, Duration poll, BooleanSupplier condition) {
    until(what, timeout, poll, condition, () -> "");
  }

  public static void until(String what, Duration timeout, Duration poll, BooleanSupplier condition, Supplier<String> state) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("timed out after " + timeout.toMillis() + " ms waiting for: " + what + " " + state.get());
      }
      try {
        Thread.sleep(poll.toMillis()); // a poll interval for an observed condition, not a guess at timing
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AssertionError("interrupted waiting for " + what);
      }
    }
  }
}
