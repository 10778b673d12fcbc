package io.odinws.shard.admission;

import io.odinws.config.AdmissionConfig;
import io.odinws.stats.SystemProbe;

import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.lang.management.MemoryUsage;
import java.util.List;
import java.util.function.DoubleSupplier;

/**
 * Refuses new upgrades while the process is short of CPU or heap, so that existing connections keep their
 * service instead of every client degrading together (PROTOCOL.md section 7: 503 "Server overloaded").
 *
 * <p>Probing is done by {@link #sample()} once per second on a timer, never on the upgrade path; the upgrade path
 * only reads one volatile field.
 *
 * <p>CPU is the CPU time of the shards' event loops ({@link io.odinws.stats.ThreadCpu}), not the process's: what
 * else shares the process (JIT compiler and GC threads, a broker and a publisher in {@code make run}) is not the
 * server's work, and refusing clients does not make it lighter. It trips only on sustained overload: every sample
 * of the last {@code cpuSustainSeconds} above the threshold, so the JIT's warm-up, a GC or a burst of reconnects
 * turns nobody away. Once tripped it stays so until the mean of that window falls to the threshold, so that one
 * quieter second does not let a still saturated server take a wave of new clients.
 *
 * <p>Heap trips on a single sample but is measured after GC (see {@link #heapAfterGcPercent()}), which is
 * already a settled figure.
 *
 * <p>A threshold of 0 or less disables that check.
 */
public final class ResourceGuard {

  /** Heap pools, looked up once: the set of pools does not change while the JVM runs. */
  private static final List<MemoryPoolMXBean> HEAP_POOLS = ManagementFactory.getMemoryPoolMXBeans().stream()
      .filter(p -> p.getType() == MemoryType.HEAP)
      .toList();

  private final double cpuRejectPercent;
  private final double heapRejectPercent;
  private final DoubleSupplier cpu;
  private final DoubleSupplier heap;

  /** The last CPU samples, a ring; it and the fields below only touched inside synchronized {@link #sample()}. */
  private final double[] cpuWindow;
  private int cpuNext;
  private int cpuFilled;
  private boolean cpuTripped;
  private volatile String reason;
  private volatile double lastCpuPercent;
  private volatile double lastHeapPercent;
  /** Samples taken since start; written inside {@link #sample()} only. */
  private volatile long samples;

  /**
   * The configured thresholds and window, heap after GC.
   *
   * @param cpu the CPU of the server's own threads, percent of the cores they can use (the shards' loops)
   */
  public ResourceGuard(AdmissionConfig config, DoubleSupplier cpu) {
    this(config.cpuRejectPercent(), config.heapRejectPercent(), config.cpuSustainSeconds(), cpu,
        ResourceGuard::heapAfterGcPercent);
  }

  /**
   * Injectable thresholds and probes (percent, 0..100), for tests.
   *
   * @param cpuSustainSamples consecutive samples above {@code cpuRejectPercent} that trip the CPU check, at least 1
   */
  public ResourceGuard(double cpuRejectPercent, double heapRejectPercent, int cpuSustainSamples, DoubleSupplier cpu,
                       DoubleSupplier heap) {
    if (cpuSustainSamples < 1) {
      throw new IllegalArgumentException("cpuSustainSamples must be at least 1: " + cpuSustainSamples);
    }
    this.cpuRejectPercent = cpuRejectPercent;
    this.heapRejectPercent = heapRejectPercent;
    this.cpuWindow = new double[cpuSustainSamples];
    this.cpu = cpu;
    this.heap = heap;
  }

  /** A guard that never trips. */
  public static ResourceGuard disabled() {
    return new ResourceGuard(0, 0, 1, () -> 0, () -> 0);
  }

  /**
   * Takes one sample of each probe and updates {@link #overloaded()}. Call once per second. Synchronized only
   * to keep the window right if two timers ever overlap; the upgrade path never takes this lock.
   */
  public synchronized void sample() {
    double c = cpu.getAsDouble();
    double h = heap.getAsDouble();
    lastCpuPercent = c;
    lastHeapPercent = h;
    cpuWindow[cpuNext] = c;
    cpuNext = (cpuNext + 1) % cpuWindow.length;
    cpuFilled = Math.min(cpuFilled + 1, cpuWindow.length);
    if (cpuRejectPercent <= 0) {
      cpuTripped = false;
    } else if (!cpuTripped) {
      cpuTripped = cpuFilled == cpuWindow.length && windowMin() > cpuRejectPercent;
    } else {
      cpuTripped = windowMean() > cpuRejectPercent;
    }
    boolean heapHigh = heapRejectPercent > 0 && h > heapRejectPercent;
    // heap first: running out of heap ends in OutOfMemoryError for everyone, CPU only in slowness
    reason = heapHigh ? "heap" : cpuTripped ? "cpu" : null;
    samples++; // written only here, under the lock
  }

  /** How many samples the guard has taken: a window of them can be awaited, rather than guessed from the clock. */
  public long samples() {
    return samples;
  }

  private double windowMin() {
    double min = Double.MAX_VALUE;
    for (double v : cpuWindow) {
      min = Math.min(min, v);
    }
    return min;
  }

  private double windowMean() {
    double sum = 0;
    for (double v : cpuWindow) {
      sum += v;
    }
    return sum / cpuWindow.length;
  }

  /** True while the last sample says new upgrades should be refused. One volatile read. */
  public boolean overloaded() {
    return reason != null;
  }

  /** {@code "heap"}, {@code "cpu"} or null when not overloaded. */
  public String reason() {
    return reason;
  }

  /** The last CPU sample: the shards' loops, percent of the cores they can use. */
  public double lastCpuPercent() {
    return lastCpuPercent;
  }

  public double lastHeapPercent() {
    return lastHeapPercent;
  }

  /**
   * Heap in use as a percentage of max heap, counting only what was still live after the last collection of
   * each heap pool ({@link MemoryPoolMXBean#getCollectionUsage()}, summed).
   *
   * <p>Why after GC: the current usage includes garbage. A healthy JVM fills its young generation to the top
   * between collections, so current usage saw-tooths and routinely reads high just before a GC that frees most
   * of it; rejecting on it would flap on a server that has plenty of room. What is left after a collection is
   * the live set, which is what actually runs out. Falls back to current usage when no collection has happened
   * yet (or the collector reports no collection usage), since then there is no after-GC figure.
   */
  public static double heapAfterGcPercent() {
    long afterGc = 0;
    for (MemoryPoolMXBean pool : HEAP_POOLS) {
      MemoryUsage u = pool.isValid() ? pool.getCollectionUsage() : null;
      if (u != null) {
        afterGc += u.getUsed();
      }
    }
    if (afterGc <= 0) {
      return SystemProbe.heapPercent();
    }
    MemoryUsage heap = SystemProbe.heap();
    long max = heap.getMax() > 0 ? heap.getMax() : heap.getCommitted();
    return max <= 0 ? 0 : 100.0 * afterGc / max;
  }
}
