package io.odinws.stats;

import io.odinws.testkit.Await;
import org.junit.jupiter.api.Test;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Only the tracked threads' CPU counts: a thread spinning beside them in the same process does not. */
class ThreadCpuTest {

  @Test
  void countsOnlyTheTrackedThreads() throws Exception {
    AtomicBoolean stop = new AtomicBoolean();
    AtomicLong sink = new AtomicLong();
    CountDownLatch idleRelease = new CountDownLatch(1);
    Thread spinner = new Thread(() -> {
      long x = 1;
      while (!stop.get()) {
        x ^= x << 13;
        x ^= x >>> 7;
        x ^= x << 17;
      }
      sink.set(x);
    }, "thread-cpu-test-spinner");
    Thread idle = new Thread(() -> {
      try {
        idleRelease.await();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }, "thread-cpu-test-idle");
    spinner.start();
    idle.start();
    try {
      // parked before the first reading: a thread's own start (before it waits) is CPU that would count against it
      Await.until("the idle thread parked", Duration.ofSeconds(60), () -> idle.getState() == Thread.State.WAITING);
      assertTrue(ThreadCpu.supported(), "HotSpot measures thread CPU time");
      ThreadCpu idleOnly = new ThreadCpu(1);
      idleOnly.track(idle);
      ThreadCpu busy = new ThreadCpu(1);
      busy.track(spinner);
      assertEquals(0, idleOnly.percent(), "the first reading has nothing to compare with");
      busy.percent();
      ThreadMXBean mx = ManagementFactory.getThreadMXBean();
      long spunBefore = mx.getThreadCpuTime(spinner.getId());
      Await.until("the spinner to run 100 ms on a core", Duration.ofSeconds(60),
          () -> mx.getThreadCpuTime(spinner.getId()) - spunBefore >= TimeUnit.MILLISECONDS.toNanos(100));
      double idlePercent = idleOnly.percent();
      double busyPercent = busy.percent();
      assertTrue(idlePercent < 1, "a parked thread beside a spinning one: " + idlePercent);
      assertTrue(busyPercent > idlePercent && busyPercent <= 100, "the spinning thread: " + busyPercent);
      busy.untrack(spinner);
      assertEquals(0, busy.percent(), "no thread tracked");
      assertEquals(0, busy.threads());
    } finally {
      stop.set(true);
      idleRelease.countDown();
      spinner.join();
      idle.join();
    }
  }
}
