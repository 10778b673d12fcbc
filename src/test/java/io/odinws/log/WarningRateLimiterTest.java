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
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Repeated warnings: a burst per (logger, pattern) and window, one summary line per key that lost events. */
class WarningRateLimiterTest {

  private static final Pattern SUPPRESSED = Pattern.compile("suppressed=(\\d+)");

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
    filter = newFilter(5, 60);
    log = lc.getLogger("io.odinws.shard.ShardVerticle");
  }

  @AfterEach
  void tearDown() {
    lc.stop();
  }

  private WarningRateLimiter newFilter(int burst, int periodSeconds) {
    WarningRateLimiter f = new WarningRateLimiter();
    f.setContext(lc);
    f.setBurst(burst);
    f.setPeriodSeconds(periodSeconds);
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
    for (int i = 0; i < 100; i++) {
      log.info("event=x n={}", i);
    }
    assertEquals(100, appender.list.size());
    assertTrue(log.isWarnEnabled());
  }

  @Test
  void errorIsLimitedToo() {
    for (int i = 0; i < 5; i++) {
      assertEquals(FilterReply.NEUTRAL, filter.decide(null, log, Level.ERROR, "event=boom n={}", new Object[] {i}, null));
    }
    assertEquals(FilterReply.DENY, filter.decide(null, log, Level.ERROR, "event=boom n={}", new Object[] {5}, null));
  }

  @Test
  void theWindowsEndReportsEachKeyThatLostEventsOnceAndStartsAfresh() {
    for (int i = 0; i < 100; i++) {
      log.warn("event=connection_error remote={}", "10.0.0." + i);
    }
    for (int i = 0; i < 3; i++) {
      log.warn("event=rare n={}", i);
    }
    assertEquals(8, appender.list.size(), "5 of 100 and 3 of 3 reach the appender");

    filter.endWindow();
    List<ILoggingEvent> s = summaries();
    assertEquals(1, s.size(), "a key that lost nothing reports nothing: " + appender.list);
    ILoggingEvent summary = s.get(0);
    assertEquals(WarningRateLimiter.SUMMARY_LOGGER, summary.getLoggerName());
    assertEquals(Level.WARN, summary.getLevel());
    assertEquals("event=log_suppressed logger=io.odinws.shard.ShardVerticle pattern=\"event=connection_error remote={}\""
        + " suppressed=95 period_s=60", summary.getFormattedMessage());

    // the next window passes the burst again, and a window without losses reports nothing
    for (int i = 0; i < 5; i++) {
      assertEquals(FilterReply.NEUTRAL, warn(log, "event=connection_error remote={}", i));
    }
    filter.endWindow();
    assertEquals(1, summaries().size());
  }

  @Test
  void theSummaryQuotesThePatternOnOneLine() {
    for (int i = 0; i < 7; i++) {
      warn(log, "event=kafka_unreachable error=\"{}\"\nnext", i);
    }
    filter.endWindow();
    assertEquals("event=log_suppressed logger=io.odinws.shard.ShardVerticle pattern=\"event=kafka_unreachable error=\\\"{}\\\"\\nnext\""
        + " suppressed=2 period_s=60", summaries().get(0).getFormattedMessage());
  }

  @Test
  void eventsTheLoggerDropsAnywayAreNotCounted() {
    Logger quiet = lc.getLogger("org.apache.kafka.clients.NetworkClient");
    quiet.setLevel(Level.ERROR);
    for (int i = 0; i < 100; i++) {
      assertEquals(FilterReply.NEUTRAL, warn(quiet, "Connection to node {} could not be established.", i));
    }
    quiet.setLevel(Level.WARN);
    for (int i = 0; i < 5; i++) {
      assertEquals(FilterReply.NEUTRAL, warn(quiet, "Connection to node {} could not be established.", i));
    }
    filter.endWindow();
    assertEquals(List.of(), summaries());
  }

  @Test
  void summaryLoggerIsNeverLimited() {
    Logger summaryLogger = lc.getLogger(WarningRateLimiter.SUMMARY_LOGGER);
    for (int i = 0; i < 100; i++) {
      assertEquals(FilterReply.NEUTRAL, warn(summaryLogger, "event=log_suppressed suppressed={}", i));
    }
  }

  @Test
  void aRecentlySeenKeyOutlivesAFloodOfDistinctPatterns() {
    String hot = "event=kafka_unreachable error=\"{}\"";
    for (int i = 0; i < 6; i++) {
      warn(log, hot, i);
    }
    for (int i = 0; i < 5 * WarningRateLimiter.MAX_KEYS; i++) {
      assertEquals(FilterReply.NEUTRAL, warn(log, "event=distinct_" + i + " n={}", i));
      if (i % 100 == 0) {
        assertEquals(FilterReply.DENY, warn(log, hot, i));
      }
    }
    assertEquals(FilterReply.DENY, warn(log, hot, -1), "the hot key kept its count");
  }

  @Test
  void theLeastRecentlySeenKeyIsForgottenBeyondTheBoundAndReportsItsLosses() {
    for (int i = 0; i < 8; i++) {
      warn(log, "event=first n={}", i);
    }
    for (int i = 0; i < WarningRateLimiter.MAX_KEYS - 1; i++) {
      warn(log, "event=distinct_" + i + " n={}", i);
    }
    assertEquals(List.of(), summaries(), "within the bound");
    warn(log, "event=one_more n={}", 0);
    assertEquals(1, summaries().size());
    assertTrue(summaries().get(0).getFormattedMessage().contains("pattern=\"event=first n={}\" suppressed=3"),
        summaries().get(0).getFormattedMessage());
    assertEquals(FilterReply.NEUTRAL, warn(log, "event=first n={}", 8), "counted afresh");
  }

  @Test
  void burstZeroDisables() {
    filter = newFilter(0, 60);
    for (int i = 0; i < 100; i++) {
      assertEquals(FilterReply.NEUTRAL, warn(log, "event=x n={}", i));
    }
    filter.endWindow();
    assertEquals(List.of(), summaries());
  }

  @Test
  void concurrentLoggingAndWindowEndsCountEveryDeniedEventInExactlyOneSummary() throws Exception {
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
              filter.endWindow(); // windows end while the others log
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
      filter.endWindow();
      long reported = summaries().stream().mapToLong(WarningRateLimiterTest::suppressedOf).sum();
      assertEquals(denied, reported, "every denied event is counted in exactly one summary");
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  void windowsEndOnTheirOwnSoAWarningThatStopsIsReported() {
    filter = newFilter(5, 1);
    for (int i = 0; i < 12; i++) {
      log.warn("event=kafka_unreachable error=\"{}\"", i);
    }
    // the window may end between two of the warnings; whatever was held back is reported
    Await.until("the window's summary line", Duration.ofSeconds(10),
        () -> appender.list.size() - summaries().size() + summaries().stream().mapToLong(WarningRateLimiterTest::suppressedOf).sum() == 12,
        () -> appender.list.toString());
  }
}
