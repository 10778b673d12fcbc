package io.odinws.stats;

import java.lang.management.ManagementFactory;
import java.lang.management.MemoryUsage;

/** Process CPU and heap, as health and metrics report them. */
public final class SystemProbe {

  private static final com.sun.management.OperatingSystemMXBean OS =
      ManagementFactory.getPlatformMXBean(com.sun.management.OperatingSystemMXBean.class);

  private SystemProbe() {
  }

  /** Recent process CPU use, 0 to 100 across all cores; 0 when unknown. */
  public static double cpuPercent() {
    double load = OS == null ? -1 : OS.getProcessCpuLoad();
    return load < 0 ? 0 : load * 100.0;
  }

  public static MemoryUsage heap() {
    return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage();
  }

  /** Heap used as a percentage of the maximum heap. */
  public static double heapPercent() {
    MemoryUsage heap = heap();
    long max = heap.getMax() > 0 ? heap.getMax() : heap.getCommitted();
    return max <= 0 ? 0 : 100.0 * heap.getUsed() / max;
  }
}
