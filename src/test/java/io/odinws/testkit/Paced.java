package io.odinws.testkit;

import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.LongConsumer;

/**
 * A test's background traffic: {@code step} runs on a thread of its own (tick 0, 1, 2, ...), {@code pause} after the
 * end of each run, until closed. The pause is the traffic's pace, not a wait for anything; a step that blocks (a
 * producer waiting for a broker that is down) delays the next one rather than making a burst. A step that throws stops
 * the traffic, and {@link #close()} reports it.
 */
public final class Paced implements AutoCloseable {

  private final ScheduledExecutorService thread;
  private final AtomicLong ticks = new AtomicLong();
  private final AtomicReference<Throwable> failure = new AtomicReference<>();

  private Paced(String name, Duration pause, LongConsumer step) {
    thread = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, name);
      t.setDaemon(true);
      return t;
    });
    thread.scheduleWithFixedDelay(() -> {
      try {
        step.accept(ticks.get());
        ticks.incrementAndGet();
      } catch (RuntimeException | Error e) {
        failure.compareAndSet(null, e);
        thread.shutdown();
      }
    }, 0, pause.toNanos(), TimeUnit.NANOSECONDS);
  }

  /** Starts running {@code step}, {@code pause} between runs. */
  public static Paced every(Duration pause, String name, LongConsumer step) {
    return new Paced(name, pause, step);
  }

  /** The steps run so far. */
  public long ticks() {
    return ticks.get();
  }

  /** Stops the traffic: no step runs once this returns. Idempotent. */
  @Override
  public void close() throws InterruptedException {
    thread.shutdown();
    if (!thread.awaitTermination(30, TimeUnit.SECONDS)) {
      throw new AssertionError("the traffic's step did not end within 30 s");
    }
    if (failure.get() != null) {
      throw new AssertionError("the traffic's step failed", failure.get());
    }
  }
}
