package io.odinws.shard.admission;

import org.junit.jupiter.api.Test;

import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ResourceGuardTest {

  private static final int SUSTAIN = 10;

  private final AtomicReference<Double> cpu = new AtomicReference<>(10.0);
  private final AtomicReference<Double> heap = new AtomicReference<>(10.0);
  private final ResourceGuard guard = new ResourceGuard(75, 90, SUSTAIN, cpu::get, heap::get);

  private void samples(double percent, int n) {
    cpu.set(percent);
    for (int i = 0; i < n; i++) {
      guard.sample();
    }
  }

  @Test
  void aSpikeShorterThanTheWindowDoesNotTrip() {
    samples(100, SUSTAIN - 1); // a warm-up, from the first sample on
    assertFalse(guard.overloaded(), "9 busy seconds are not sustained overload");
    samples(10, 1);
    samples(100, SUSTAIN - 1);
    assertFalse(guard.overloaded(), "one quiet second in between: the window starts again");
    samples(75, SUSTAIN);
    assertFalse(guard.overloaded(), "at the threshold is fine; only above trips");
  }

  @Test
  void sustainedOverloadTripsAndRecoveryUntrips() {
    samples(80, SUSTAIN - 1);
    assertFalse(guard.overloaded());
    samples(80, 1);
    assertTrue(guard.overloaded(), "every sample of the window above 75");
    assertEquals("cpu", guard.reason());
    samples(60, 2);
    assertTrue(guard.overloaded(), "two quieter seconds: the window's mean (76) is still above");
    samples(60, 1);
    assertFalse(guard.overloaded(), "the mean falls to 74: untripped");
    assertNull(guard.reason());
    samples(80, SUSTAIN - 1);
    assertFalse(guard.overloaded(), "tripping again needs a whole window above");
    samples(80, 1);
    assertTrue(guard.overloaded());
    samples(0, SUSTAIN);
    assertFalse(guard.overloaded(), "load gone");
  }

  @Test
  void heapTripsOnOneSampleAndWinsOverCpu() {
    heap.set(91.0);
    guard.sample();
    assertTrue(guard.overloaded());
    assertEquals("heap", guard.reason());
    samples(99, SUSTAIN);
    assertEquals("heap", guard.reason());
    heap.set(50.0);
    guard.sample();
    assertEquals("cpu", guard.reason());
    assertEquals(99.0, guard.lastCpuPercent());
    assertEquals(50.0, guard.lastHeapPercent());
  }

  @Test
  void zeroThresholdsDisableTheChecks() {
    ResourceGuard off = new ResourceGuard(0, 0, 1, () -> 100, () -> 100);
    for (int i = 0; i < 5; i++) {
      off.sample();
    }
    assertFalse(off.overloaded());
    ResourceGuard.disabled().sample();
    assertFalse(ResourceGuard.disabled().overloaded());
    assertThrows(IllegalArgumentException.class, () -> new ResourceGuard(75, 90, 0, () -> 0, () -> 0));
  }

  @Test
  void realHeapProbeIsAPercentage() {
    System.gc();
    double p = ResourceGuard.heapAfterGcPercent();
    assertTrue(p > 0 && p <= 100, "heap after GC " + p);
  }
}
