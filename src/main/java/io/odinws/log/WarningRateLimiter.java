package io.odinws.log;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.turbo.TurboFilter;
import ch.qos.logback.core.spi.FilterReply;
import org.slf4j.Marker;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * Keeps a repeated warning from flooding the log (Kafka's client warns on every connection attempt
 * while the broker is unreachable). Events at WARN and above are keyed by (logger, message pattern),
 * so one pattern with different arguments is one key; per key at most {@code burst} pass per window
 * of {@code periodSeconds}, and when the window ends every key that lost events gets one line through
 * the logger named after this class:
 * {@code event=log_suppressed logger=... pattern="..." suppressed=N period_s=60}. Windows end on
 * Logback's scheduler, so a warning that stops still gets its line. At most {@link #MAX_KEYS} keys are
 * counted; beyond that the least recently seen is reported early and forgotten. {@code burst <= 0}
 * turns it off.
 *
 * <p>Logback's {@code DuplicateMessageFilter} does not fit: it keys by pattern alone, never lets a
 * pattern through again while it stays in its cache, and counts nothing.
 */
public final class WarningRateLimiter extends TurboFilter {

  /** Logger of the {@code event=log_suppressed} lines; never limited. */
  public static final String SUMMARY_LOGGER = WarningRateLimiter.class.getName();

  static final int DEFAULT_BURST = 5;
  static final int DEFAULT_PERIOD_SECONDS = 60;
  static final int MAX_KEYS = 1_000;

  private static final String SUMMARY_FORMAT = "event=log_suppressed logger={} pattern=\"{}\" suppressed={} period_s={}";
  private static final int MAX_PATTERN_CHARS = 300;

  /**
   * Equality written out: a record's generated equals and hashCode are linked at run time on their first call, and
   * the first key is often made while the server starts (a library's warning then).
   */
  private record Key(String logger, String pattern) {
    @Override
    public boolean equals(Object o) {
      return o instanceof Key k && logger.equals(k.logger) && pattern.equals(k.pattern);
    }

    @Override
    public int hashCode() {
      return 31 * logger.hashCode() + pattern.hashCode();
    }
  }

  private record Suppressed(Key key, long events) {
  }

  /** Events per key in the current window, least recently seen first. A lock is enough: only warnings come here. */
  private final LinkedHashMap<Key, Long> window = new LinkedHashMap<>(16, 0.75f, true);
  private int burst = DEFAULT_BURST;
  private int periodSeconds = DEFAULT_PERIOD_SECONDS;
  private ScheduledFuture<?> windowEnds;

  public void setBurst(int burst) {
    this.burst = burst;
  }

  public int getBurst() {
    return burst;
  }

  public void setPeriodSeconds(int periodSeconds) {
    this.periodSeconds = periodSeconds;
  }

  public int getPeriodSeconds() {
    return periodSeconds;
  }

  @Override
  public void start() {
    if (periodSeconds < 1) {
      addWarn("periodSeconds must be at least 1, was " + periodSeconds + "; using " + DEFAULT_PERIOD_SECONDS);
      periodSeconds = DEFAULT_PERIOD_SECONDS;
    }
    if (burst > 0) {
      windowEnds = getContext().getScheduledExecutorService()
          .scheduleAtFixedRate(this::endWindow, periodSeconds, periodSeconds, TimeUnit.SECONDS);
    }
    super.start();
  }

  @Override
  public void stop() {
    if (windowEnds != null) {
      windowEnds.cancel(false);
      windowEnds = null;
    }
    super.stop();
  }

  @Override
  public FilterReply decide(Marker marker, Logger logger, Level level, String format, Object[] params, Throwable t) {
    // format is null for isWarnEnabled(); an event its logger drops anyway is not counted
    if (burst <= 0 || format == null || level.levelInt < Level.WARN_INT || level.levelInt < logger.getEffectiveLevel().levelInt
        || SUMMARY_LOGGER.equals(logger.getName())) {
      return FilterReply.NEUTRAL;
    }
    long events;
    Suppressed evicted = null;
    synchronized (window) {
      events = window.merge(new Key(logger.getName(), format), 1L, Long::sum);
      if (window.size() > MAX_KEYS) {
        Iterator<Map.Entry<Key, Long>> eldest = window.entrySet().iterator();
        Map.Entry<Key, Long> e = eldest.next();
        evicted = new Suppressed(e.getKey(), e.getValue());
        eldest.remove();
      }
    }
    if (evicted != null) {
      report(List.of(evicted));
    }
    return events <= burst ? FilterReply.NEUTRAL : FilterReply.DENY;
  }

  /** Ends the window: reports what each key lost and starts every key afresh. */
  void endWindow() {
    List<Suppressed> ended = new ArrayList<>();
    synchronized (window) {
      window.forEach((key, events) -> ended.add(new Suppressed(key, events)));
      window.clear();
    }
    report(ended);
  }

  private void report(List<Suppressed> counts) {
    Logger out = ((LoggerContext) getContext()).getLogger(SUMMARY_LOGGER);
    for (Suppressed s : counts) {
      if (s.events() > burst) {
        out.warn(SUMMARY_FORMAT, s.key().logger(), quote(s.key().pattern()), s.events() - burst, periodSeconds);
      }
    }
  }

  /** Escapes quotes, backslashes and line breaks so the line stays one line and its pattern="..." parses. */
  static String quote(String pattern) {
    int len = Math.min(pattern.length(), MAX_PATTERN_CHARS);
    StringBuilder b = new StringBuilder(len + 8);
    for (int i = 0; i < len; i++) {
      char c = pattern.charAt(i);
      switch (c) {
        case '"' -> b.append("\\\"");
        case '\\' -> b.append("\\\\");
        case '\n' -> b.append("\\n");
        case '\r' -> b.append("\\r");
        case '\t' -> b.append("\\t");
        default -> b.append(c);
      }
    }
    return pattern.length() > len ? b.append("...").toString() : b.toString();
  }
}
