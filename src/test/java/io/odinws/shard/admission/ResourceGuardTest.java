package io.odinws.shard.admission;

import org.junit.jupiter.api.Test;

import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ResourceGuardTest {

  private final AtomicReference<Double> cpu = new AtomicReference<>(10.0);
  private final AtomicReference<Double> heap = new AtomicReference<>(10.0);
  private final ResourceGuard guard = new ResourceGuard(75, 90, cpu::get, heap::get);

  @Test
  void cpuNeedsTwoConsecutiveHighSamples() {
    guard.sample();
    assertFalse(guard.overloaded());
    cpu.set(80.0);
    guard.sample();
    assertFalse(guard.overloaded(), "one busy second is not overload");
    cpu.set(10.0);
    guard.sample();
    cpu.set(80.0);
    guard.sample();
    assertFalse(guard.overloaded(), "not consecutive");
    guard.sample();
    assertTrue(guard.overloaded());
    assertEquals("cpu", guard.reason());
    guard.sample();
    assertEquals("cpu", guard.reason());
    cpu.set(75.0);
    guard.sample();
    assertFalse(guard.overloaded(), "at the threshold is fine; only above trips");
    assertNull(guard.reason());
  }

  @Test
  void heapTripsOnOneSampleAndWinsOverCpu() {
    heap.set(91.0);
    guard.sample();
    assertTrue(guard.overloaded());
    assertEquals("heap", guard.reason());
    cpu.set(99.0);
    guard.sample();
    guard.sample();
    assertEquals("heap", guard.reason());
    heap.set(50.0);
    guard.sample();
    assertEquals("cpu", guard.reason());
    assertEquals(99.0, guard.lastCpuPercent());
    assertEquals(50.0, guard.lastHeapPercent());
  }

  @Test
  void zeroThresholdsDisableTheChecks() {
    ResourceGuard off = new ResourceGuard(0, 0, () -> 100, () -> 100);
    for (int i = 0; i < 5; i++) {
      off.sample();
    }
    assertFalse(off.overloaded());
    ResourceGuard.disabled().sample();
    assertFalse(ResourceGuard.disabled().overloaded());
  }

  @Test
  void realHeapProbeIsAPercentage() {
    System.gc();
    double p = ResourceGuard.heapAfterGcPercent();
    assertTrue(p > 0 && p <= 100, "heap after GC " + p);
  }
}
