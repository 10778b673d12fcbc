package io.odinws.stats;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * CPU time of a chosen set of threads (the shards' event loops), as a percentage of the cores those threads can
 * use, between two readings. Unlike the process CPU it leaves out what else shares the process (JIT and GC
 * threads, a broker or publisher in the same JVM), so it says how busy the server's own work keeps its threads.
 *
 * <p>Threads join and leave with re-sharding; {@link #percent()} is called by one timer, once a second.
 */
public final class ThreadCpu {

  private static final ThreadMXBean MX = threadMxBean();

  private final Set<Long> tracked = ConcurrentHashMap.newKeySet();
  private final int cores;
  /** Thread id to its CPU nanoseconds at the last reading; only touched in synchronized {@link #percent()}. */
  private final Map<Long, Long> last = new HashMap<>();
  private long lastNanos;

  public ThreadCpu() {
    this(Runtime.getRuntime().availableProcessors());
  }

  ThreadCpu(int cores) {
    this.cores = Math.max(1, cores);
  }

  /** True when the JVM can measure the CPU time of a thread (HotSpot on Linux, macOS, Windows can). */
  public static boolean supported() {
    return MX != null;
  }

  public void track(Thread thread) {
    tracked.add(thread.getId());
  }

  public void untrack(Thread thread) {
    tracked.remove(thread.getId());
  }

  public int threads() {
    return tracked.size();
  }

  /**
   * CPU used by the tracked threads since the previous call, 0 to 100 of {@code min(threads, cores)} cores: 100
   * means every tracked thread ran all the time (or all cores were theirs). A thread counts from its second
   * reading on; 0 on the first call and when nothing can be measured.
   */
  public synchronized double percent() {
    long now = System.nanoTime();
    long elapsed = now - lastNanos;
    boolean first = lastNanos == 0;
    lastNanos = now;
    long used = 0;
    int measured = 0;
    for (Iterator<Map.Entry<Long, Long>> it = last.entrySet().iterator(); it.hasNext(); ) {
      if (!tracked.contains(it.next().getKey())) {
        it.remove();
      }
    }
    if (MX == null) {
      return 0;
    }
    for (long id : tracked) {
      long cpu = MX.getThreadCpuTime(id);
      if (cpu < 0) { // the thread has ended
        last.remove(id);
        continue;
      }
      Long before = last.put(id, cpu);
      if (before != null) {
        used += cpu - before;
        measured++;
      }
    }
    if (first || measured == 0 || elapsed <= 0) {
      return 0;
    }
    double percent = 100.0 * used / ((double) elapsed * Math.min(measured, cores));
    return Math.min(100, Math.max(0, percent));
  }

  private static ThreadMXBean threadMxBean() {
    ThreadMXBean mx = ManagementFactory.getThreadMXBean();
    if (!mx.isThreadCpuTimeSupported()) {
      return null;
    }
    if (!mx.isThreadCpuTimeEnabled()) {
      mx.setThreadCpuTimeEnabled(true);
    }
    return mx;
  }
}
