package io.odinws.log;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import ch.qos.logback.core.spi.FilterReply;
import io.odinws.testkit.Await;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

class WarningRateLimiterTest {

  private static final long SECOND = TimeUnit.SECONDS.toNanos(1);
  private static final Pattern SUPPRESSED = Pattern.compile("suppressed=(\\d+)");

  private final AtomicLong clock = new AtomicLong(1_000 * SECOND);
  private LoggerContext lc;
  private ListAppender<ILoggingEvent> appender;
  private WarningRateLimiter filter;
  private Logger log;

  @BeforeEach
  void setUp() {
    lc = new LoggerContext();
    lc.setName("warning-rate-limiter-test");
    appender = new ListAppender<>();
    appender.setContext(lc);
    appender.start();
    lc.getLogger(Logger.ROOT_LOGGER_NAME).addAppender(appender);
    lc.getLogger(Logger.ROOT_LOGGER_NAME).setLevel(Level.INFO);
    filter = newFilter(5, 60, 1_000);
    log = lc.getLogger("io.odinws.shard.ShardVerticle");
  }

  @AfterEach
  void tearDown() {
    lc.stop();
  }

  private WarningRateLimiter newFilter(int burst, int periodSeconds, int maxKeys) {
    WarningRateLimiter f = new WarningRateLimiter(clock::get);
    f.setContext(lc);
    f.setBurst(burst);
    f.setPeriodSeconds(periodSeconds);
    f.setMaxKeys(maxKeys);
    f.start();
    lc.resetTurboFilterList();
    lc.addTurboFilter(f);
    return f;
  }

  private FilterReply warn(Logger logger, String pattern, Object arg) {
    return filter.decide(null, logger, Level.WARN, pattern, new Object[] {arg}, null);
  }

  private List<ILoggingEvent> summaries() {
    return appender.list.stream().filter(e -> e.getFormattedMessage().startsWith("event=log_suppressed")).toList();
  }

  private static long suppressedOf(ILoggingEvent e) {
    Matcher m = SUPPRESSED.matcher(e.getFormattedMessage());
    assertTrue(m.find(), e.getFormattedMessage());
    return Long.parseLong(m.group(1));
  }

  @Test
  void sameKeyWithDifferentArgumentsPassesBurstThenDenies() {
    int passed = 0;
    int denied = 0;
    for (int i = 0; i < 100; i++) {
      FilterReply r = warn(log, "event=connection_error shard={} remote={}", "10.0.0." + i);
      if (r == FilterReply.NEUTRAL) {
        passed++;
      } else if (r == FilterReply.DENY) {
        denied++;
      }
    }
    assertEquals(5, passed);
    assertEquals(95, denied);
    assertEquals(List.of(), summaries(), "no summary before the window ends");
    assertEquals(1, filter.keyCount());
  }

  @Test
  void differentPatternOrLoggerIsIndependent() {
    for (int i = 0; i < 20; i++) {
      warn(log, "event=connection_error remote={}", i);
    }
    assertEquals(FilterReply.DENY, warn(log, "event=connection_error remote={}", 99));
    for (int i = 0; i < 5; i++) {
      assertEquals(FilterReply.NEUTRAL, warn(log, "event=kafka_unreachable error=\"{}\"", i));
    }
    assertEquals(FilterReply.DENY, warn(log, "event=kafka_unreachable error=\"{}\"", 5));
    Logger other = lc.getLogger("org.apache.kafka.clients.NetworkClient");
    for (int i = 0; i < 5; i++) {
      assertEquals(FilterReply.NEUTRAL, warn(other, "event=connection_error remote={}", i));
    }
  }

  @Test
  void infoDebugAndLevelChecksAreNeverDenied() {
    log.setLevel(Level.DEBUG);
    for (int i = 0; i < 1_000; i++) {
      assertEquals(FilterReply.NEUTRAL, filter.decide(null, log, Level.INFO, "event=x n={}", new Object[] {i}, null));
      assertEquals(FilterReply.NEUTRAL, filter.decide(null, log, Level.DEBUG, "event=x n={}", new Object[] {i}, null));
      // isWarnEnabled(): no pattern, not an event
      assertEquals(FilterReply.NEUTRAL, filter.decide(null, log, Level.WARN, null, null, null));
    }
    assertEquals(0, filter.keyCount());
    for (int i = 0; i < 100; i++) {
      log.info("event=x n={}", i);
    }
    assertEquals(100, appender.list.size());
  }

  @Test
  void errorIsLimitedToo() {
    for (int i = 0; i < 5; i++) {
      assertEquals(FilterReply.NEUTRAL, filter.decide(null, log, Level.ERROR, "event=boom n={}", new Object[] {i}, null));
    }
    assertEquals(FilterReply.DENY, filter.decide(null, log, Level.ERROR, "event=boom n={}", new Object[] {5}, null));
  }

  @Test
  void afterRolloverNextEventPassesAndExactlyOneSummaryIsLogged() {
    for (int i = 0; i < 100; i++) {
      log.warn("event=connection_error remote={}", "10.0.0." + i);
    }
    assertEquals(5, appender.list.size(), "5 of 100 reach the appender");

    clock.addAndGet(60 * SECOND);
    log.warn("event=connection_error remote={}", "10.0.0.200");

    List<ILoggingEvent> s = summaries();
    assertEquals(1, s.size(), appender.list.toString());
    ILoggingEvent summary = s.get(0);
    assertEquals(WarningRateLimiter.SUMMARY_LOGGER, summary.getLoggerName());
    assertEquals(Level.WARN, summary.getLevel());
    assertEquals("event=log_suppressed logger=io.odinws.shard.ShardVerticle pattern=\"event=connection_error remote={}\""
        + " suppressed=95 period_s=60", summary.getFormattedMessage());
    assertEquals(7, appender.list.size(), "5 + summary + the next event");
    assertEquals("event=connection_error remote=10.0.0.200", appender.list.get(6).getFormattedMessage(),
        "the summary comes before the event that rolled the window over");

    // The new window passes its burst again, and a window without suppressions reports nothing.
    for (int i = 0; i < 4; i++) {
      log.warn("event=connection_error remote={}", i);
    }
    assertEquals(11, appender.list.size());
    clock.addAndGet(61 * SECOND);
    log.warn("event=connection_error remote={}", "x");
    filter.sweepNow(lc);
    assertEquals(1, summaries().size());
  }

  @Test
  void keyThatNeverLogsAgainIsReportedByTheSweep() {
    for (int i = 0; i < 10; i++) {
      warn(log, "event=kafka_unreachable error=\"{}\"", i);
    }
    clock.addAndGet(61 * SECOND);
    // Any later warning (another key) runs the sweep.
    warn(log, "event=something_else n={}", 1);
    List<ILoggingEvent> s = summaries();
    assertEquals(1, s.size());
    assertEquals(5, suppressedOf(s.get(0)));
    assertTrue(s.get(0).getFormattedMessage().contains("pattern=\"event=kafka_unreachable error=\\\"{}\\\"\""),
        s.get(0).getFormattedMessage());
    assertEquals(1, filter.keyCount(), "the ended key is dropped");

    // Without any further warning: the periodic sweep entry point.
    for (int i = 0; i < 7; i++) {
      warn(log, "event=y n={}", i);
    }
    clock.addAndGet(61 * SECOND);
    filter.sweepNow(lc);
    assertEquals(2, summaries().size());
    assertEquals(2, suppressedOf(summaries().get(1)));
    assertEquals(0, filter.keyCount());
  }

  @Test
  void eventsTheLoggerDropsAnywayAreNotCounted() {
    Logger quiet = lc.getLogger("org.apache.kafka.clients.NetworkClient");
    quiet.setLevel(Level.ERROR);
    for (int i = 0; i < 100; i++) {
      assertEquals(FilterReply.NEUTRAL, warn(quiet, "Connection to node {} could not be established.", i));
    }
    assertEquals(0, filter.keyCount());
  }

  @Test
  void summaryLoggerIsNeverLimited() {
    Logger summaryLogger = lc.getLogger(WarningRateLimiter.SUMMARY_LOGGER);
    for (int i = 0; i < 100; i++) {
      assertEquals(FilterReply.NEUTRAL, warn(summaryLogger, "event=log_suppressed suppressed={}", i));
    }
  }

  @Test
  void keyCountStaysBoundedWithManyDistinctPatterns() {
    for (int i = 0; i < 5_000; i++) {
      assertEquals(FilterReply.NEUTRAL, warn(log, "event=distinct_" + i + " n={}", i));
      assertTrue(filter.keyCount() <= 1_000, "keys: " + filter.keyCount());
    }
    // The newest key is still tracked.
    String last = "event=distinct_4999 n={}";
    for (int i = 0; i < 4; i++) {
      assertEquals(FilterReply.NEUTRAL, warn(log, last, i));
    }
    assertEquals(FilterReply.DENY, warn(log, last, 5));
  }

  @Test
  void recentlySeenKeySurvivesAFloodOfDistinctPatterns() {
    String hot = "event=kafka_unreachable error=\"{}\"";
    for (int i = 0; i < 6; i++) {
      warn(log, hot, i);
    }
    for (int i = 0; i < 5_000; i++) {
      clock.addAndGet(TimeUnit.MILLISECONDS.toNanos(5));
      warn(log, "event=distinct_" + i + " n={}", i);
      if (i % 100 == 0) {
        assertEquals(FilterReply.DENY, warn(log, hot, i));
      }
    }
    assertEquals(FilterReply.DENY, warn(log, hot, -1), "the hot key kept its window");
    assertTrue(filter.keyCount() <= 1_000);
  }

  @Test
  void evictedKeyReportsItsSuppressions() {
    filter = newFilter(5, 60, 10);
    for (int i = 0; i < 8; i++) {
      warn(log, "event=first n={}", i);
    }
    for (int i = 0; i < 20; i++) {
      clock.addAndGet(TimeUnit.MILLISECONDS.toNanos(200));
      warn(log, "event=distinct_" + i + " n={}", i);
    }
    List<ILoggingEvent> s = summaries();
    assertEquals(1, s.size());
    assertTrue(s.get(0).getFormattedMessage().contains("pattern=\"event=first n={}\" suppressed=3"), s.get(0).getFormattedMessage());
  }

  @Test
  void burstZeroDisables() {
    filter = newFilter(0, 60, 1_000);
    for (int i = 0; i < 100; i++) {
      assertEquals(FilterReply.NEUTRAL, warn(log, "event=x n={}", i));
    }
    assertEquals(0, filter.keyCount());
  }

  @Test
  void concurrentSameKeyPassesExactlyBurst() throws Exception {
    int threads = 8;
    int perThread = 20_000;
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    try {
      CountDownLatch go = new CountDownLatch(1);
      List<Future<long[]>> results = new ArrayList<>();
      for (int t = 0; t < threads; t++) {
        results.add(pool.submit(() -> {
          go.await();
          long passed = 0;
          long denied = 0;
          for (int i = 0; i < perThread; i++) {
            if (warn(log, "event=connection_error remote={}", i) == FilterReply.NEUTRAL) {
              passed++;
            } else {
              denied++;
            }
          }
          return new long[] {passed, denied};
        }));
      }
      go.countDown();
      long passed = 0;
      long denied = 0;
      for (Future<long[]> f : results) {
        long[] r = f.get(60, TimeUnit.SECONDS);
        passed += r[0];
        denied += r[1];
      }
      assertEquals(5, passed);
      assertEquals(threads * perThread - 5, denied);
      clock.addAndGet(60 * SECOND);
      filter.sweepNow(lc);
      assertEquals(1, summaries().size());
      assertEquals(denied, suppressedOf(summaries().get(0)));
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  void concurrentChurnReportsEveryDeniedEventExactlyOnce() throws Exception {
    filter = newFilter(5, 1, 20);
    int threads = 8;
    int perThread = 20_000;
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    try {
      CountDownLatch go = new CountDownLatch(1);
      List<Future<Long>> results = new ArrayList<>();
      for (int t = 0; t < threads; t++) {
        int seed = t;
        results.add(pool.submit(() -> {
          go.await();
          long denied = 0;
          for (int i = 0; i < perThread; i++) {
            if (seed == 0 && i % 500 == 0) {
              clock.addAndGet(SECOND / 4); // windows roll over and the sweep runs while others log
            }
            String pattern = "event=e" + ((i * 7 + seed) % 50) + " n={}";
            if (warn(log, pattern, i) == FilterReply.DENY) {
              denied++;
            }
          }
          return denied;
        }));
      }
      go.countDown();
      long denied = 0;
      for (Future<Long> f : results) {
        denied += f.get(60, TimeUnit.SECONDS);
      }
      assertTrue(denied > 0);
      assertTrue(filter.keyCount() <= 20 + threads, "keys: " + filter.keyCount());
      clock.addAndGet(2 * SECOND);
      filter.sweepNow(lc);
      assertEquals(0, filter.keyCount());
      long reported = summaries().stream().mapToLong(WarningRateLimiterTest::suppressedOf).sum();
      assertEquals(denied, reported, "every denied event is counted in exactly one summary");
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  void scheduledSweepReportsWithoutFurtherEvents() throws Exception {
    WarningRateLimiter real = new WarningRateLimiter();
    real.setContext(lc);
    real.setPeriodSeconds(1);
    real.start();
    lc.resetTurboFilterList();
    lc.addTurboFilter(real);
    for (int i = 0; i < 12; i++) {
      log.warn("event=kafka_unreachable error=\"{}\"", i);
    }
    assertEquals(5, appender.list.size());
    Await.until("the period's summary line", Duration.ofSeconds(10), () -> !summaries().isEmpty());
    assertEquals(1, summaries().size());
    assertEquals(7, suppressedOf(summaries().get(0)));
    real.stop();
  }
}
