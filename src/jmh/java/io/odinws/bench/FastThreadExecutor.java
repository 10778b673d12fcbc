package io.odinws.bench;

import io.netty.util.concurrent.FastThreadLocalThread;

import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * JMH's benchmark threads as Netty {@link FastThreadLocalThread}s, like the threads the measured
 * code runs on in the server (Vert.x event loops and workers are {@code FastThreadLocalThread}s).
 * Without it the measured thread is a plain {@code Thread}, on which Netty's {@code Recycler} (pooled
 * duplicates, outbound-buffer entries) and the pooled allocator's thread caches behave differently
 * from production, and the allocation figures would not be the server's.
 *
 * <p>Selected with {@code -Djmh.executor=CUSTOM -Djmh.executor.class=io.odinws.bench.FastThreadExecutor}
 * (the constants below, in each benchmark's {@code @Fork(jvmArgsPrepend = ...)}); JMH calls the
 * {@code (int, String)} constructor.
 */
public final class FastThreadExecutor extends ThreadPoolExecutor {

  /** The forked JVM's arguments every benchmark class puts in {@code @Fork(jvmArgsPrepend = ...)}. */
  public static final String EXECUTOR = "-Djmh.executor=CUSTOM";
  public static final String EXECUTOR_CLASS = "-Djmh.executor.class=io.odinws.bench.FastThreadExecutor";
  /**
   * Netty's leak detection off in the benchmarks, so that figures do not depend on which buffers the
   * detector happened to sample (by default 1 in 128 allocations, each duplicate of a sampled frame
   * then records stack traces). {@code bench/jmh.sh} overrides it (appended, so it wins) for the leak
   * check and for measuring the sampling's cost.
   */
  public static final String NO_LEAK_SAMPLING = "-Dio.netty.leakDetection.level=disabled";

  public FastThreadExecutor(int maxThreads, String prefix) {
    super(maxThreads, maxThreads, 1, TimeUnit.MINUTES, new LinkedBlockingQueue<>(), new Factory(prefix));
  }

  private static final class Factory implements java.util.concurrent.ThreadFactory {
    private final String prefix;
    private final AtomicInteger n = new AtomicInteger();

    Factory(String prefix) {
      this.prefix = prefix;
    }

    @Override
    public Thread newThread(Runnable r) {
      Thread t = new FastThreadLocalThread(r, prefix + "-fast-" + n.incrementAndGet());
      t.setDaemon(true);
      return t;
    }
  }
}
