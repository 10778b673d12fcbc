package io.odinws.log;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.turbo.TurboFilter;
import ch.qos.logback.core.Context;
import ch.qos.logback.core.spi.FilterReply;
import org.slf4j.Marker;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.LongSupplier;

/**
 * Logback turbo filter that rate-limits repeated warnings: events at WARN and above are keyed by
 * (logger name, unformatted message pattern), so {@code event=x remote={}} with different arguments is
 * one key. Per key at most {@code burst} events pass in a fixed window of {@code periodSeconds} that
 * starts with the key's first event; the rest are denied and counted. When a window with suppressions
 * ends (on the key's next event, or within about a second by the sweep), one summary is logged at WARN
 * through the logger named after this class:
 * {@code event=log_suppressed logger=... pattern="..." suppressed=N period_s=60}.
 *
 * <p>Events below WARN, level checks ({@code isWarnEnabled()}, no pattern), events their logger would
 * drop anyway, and the summaries themselves are left alone (NEUTRAL). Summaries are logged with a
 * per-thread guard, so logging from inside the filter does not re-enter it. At most {@code maxKeys} keys
 * are tracked; beyond that the least recently seen are dropped (and their pending suppressions
 * reported). Keys whose window ended are dropped by the sweep, which runs on Logback's scheduler every
 * second and opportunistically from {@link #decide}. No lock is taken: a {@link ConcurrentHashMap} of
 * keys, each with an atomically swapped window holding one atomic counter. {@code burst <= 0} disables
 * the filter.
 *
 * <p>Installed by {@link LogConfigurator} ({@code LOG_WARN_BURST}, {@code LOG_WARN_PERIOD_SECONDS}); in an
 * XML configuration: {@code <turboFilter class="io.odinws.log.WarningRateLimiter">
 * <burst>5</burst><periodSeconds>60</periodSeconds><maxKeys>1000</maxKeys></turboFilter>}.
 */
public final class WarningRateLimiter extends TurboFilter {

  /** Logger of the {@code event=log_suppressed} summaries; never rate-limited. */
  public static final String SUMMARY_LOGGER = WarningRateLimiter.class.getName();

  static final int DEFAULT_BURST = 5;
  static final int DEFAULT_PERIOD_SECONDS = 60;
  static final int DEFAULT_MAX_KEYS = 1_000;

  private static final String SUMMARY_FORMAT = "event=log_suppressed logger={} pattern=\"{}\" suppressed={} period_s={}";
  private static final long SWEEP_INTERVAL_NANOS = TimeUnit.SECONDS.toNanos(1);
  /** lastSeen is only rewritten when it moved this much: LRU order at this granularity, few shared writes. */
  private static final long TOUCH_GRANULARITY_NANOS = TimeUnit.MILLISECONDS.toNanos(100);
  private static final int MAX_PATTERN_CHARS = 300;

  /** A window that is closed for good: its entry has left the map. */
  private static final Window RETIRED = new Window(0);

  static {
    RETIRED.count.set(Long.MIN_VALUE);
  }

  private record Key(String logger, String pattern) {
  }

  /** One fixed window of one key. {@code count} goes negative once the window is closed. */
  private static final class Window {
    final long start;
    final AtomicLong count = new AtomicLong();

    Window(long start) {
      this.start = start;
    }
  }

  private static final class Entry {
    final Key key;
    final long seq;
    final AtomicReference<Window> window;
    volatile long lastSeen;

    Entry(Key key, long seq, long now) {
      this.key = key;
      this.seq = seq;
      this.window = new AtomicReference<>(new Window(now));
      this.lastSeen = now;
    }
  }

  /** An entry with its lastSeen read once: sorting live entries, which other threads touch, breaks the sort's contract. */
  private record Seen(Entry entry, long lastSeen) {
  }

  private static final Comparator<Seen> LEAST_RECENT_FIRST =
      Comparator.<Seen>comparingLong(Seen::lastSeen).thenComparingLong(s -> s.entry().seq);

  private final LongSupplier nanoClock;
  private final boolean scheduleSweep;
  private final ConcurrentHashMap<Key, Entry> entries = new ConcurrentHashMap<>();
  private final AtomicLong sequence = new AtomicLong();
  private final AtomicLong lastSweep;
  private final AtomicBoolean evicting = new AtomicBoolean();
  private final ThreadLocal<Boolean> emitting = new ThreadLocal<>();

  private int burst = DEFAULT_BURST;
  private int periodSeconds = DEFAULT_PERIOD_SECONDS;
  private int maxKeys = DEFAULT_MAX_KEYS;
  private long periodNanos = TimeUnit.SECONDS.toNanos(DEFAULT_PERIOD_SECONDS);
  private volatile ScheduledFuture<?> sweeper;

  public WarningRateLimiter() {
    this(System::nanoTime, true);
  }

  /**
   * For tests: {@code nanoClock} replaces {@link System#nanoTime()}, and there is no scheduled sweep (it
   * would run on real time); the sweep still runs from {@link #decide} and {@link #sweepNow}.
   */
  WarningRateLimiter(LongSupplier nanoClock) {
    this(nanoClock, false);
  }

  private WarningRateLimiter(LongSupplier nanoClock, boolean scheduleSweep) {
    this.nanoClock = nanoClock;
    this.scheduleSweep = scheduleSweep;
    this.lastSweep = new AtomicLong(nanoClock.getAsLong());
  }

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

  public void setMaxKeys(int maxKeys) {
    this.maxKeys = maxKeys;
  }

  public int getMaxKeys() {
    return maxKeys;
  }

  @Override
  public void start() {
    if (periodSeconds < 1) {
      addWarn("periodSeconds must be at least 1, was " + periodSeconds + "; using " + DEFAULT_PERIOD_SECONDS);
      periodSeconds = DEFAULT_PERIOD_SECONDS;
    }
    if (maxKeys < 1) {
      addWarn("maxKeys must be at least 1, was " + maxKeys + "; using " + DEFAULT_MAX_KEYS);
      maxKeys = DEFAULT_MAX_KEYS;
    }
    periodNanos = TimeUnit.SECONDS.toNanos(periodSeconds);
    Context context = getContext();
    if (scheduleSweep && context != null && burst > 0 && sweeper == null) {
      // Reports a key's last suppressions even when it never logs again (e.g. Kafka came back).
      sweeper = context.getScheduledExecutorService()
          .scheduleAtFixedRate(this::scheduledSweep, 1, 1, TimeUnit.SECONDS);
    }
    super.start();
  }

  @Override
  public void stop() {
    ScheduledFuture<?> s = sweeper;
    if (s != null) {
      s.cancel(false);
      sweeper = null;
    }
    super.stop();
  }

  @Override
  public FilterReply decide(Marker marker, Logger logger, Level level, String format, Object[] params, Throwable t) {
    try {
      return limit(logger, level, format);
    } catch (RuntimeException e) {
      return FilterReply.NEUTRAL; // a logging filter must never break logging: fail open
    }
  }

  private FilterReply limit(Logger logger, Level level, String format) {
    if (format == null || level == null || logger == null || level.levelInt < Level.WARN_INT || burst <= 0) {
      return FilterReply.NEUTRAL;
    }
    if (level.levelInt < logger.getEffectiveLevel().levelInt) {
      return FilterReply.NEUTRAL; // dropped by its level anyway: neither counted nor summarized
    }
    String name = logger.getName();
    if (SUMMARY_LOGGER.equals(name) || emitting.get() != null) {
      return FilterReply.NEUTRAL; // our own summary, or logging from inside an emission
    }
    long now = nanoClock.getAsLong();
    List<Object[]> summaries = new ArrayList<>(0);
    FilterReply reply = admit(new Key(name, format), now, summaries);
    long last = lastSweep.get();
    if (now - last >= SWEEP_INTERVAL_NANOS && lastSweep.compareAndSet(last, now)) {
      sweep(now, summaries);
    }
    emit(summaries, logger.getLoggerContext());
    return reply;
  }

  private FilterReply admit(Key key, long now, List<Object[]> summaries) {
    for (;;) {
      Entry e = entries.get(key);
      if (e == null) {
        Entry fresh = new Entry(key, sequence.incrementAndGet(), now);
        e = entries.putIfAbsent(key, fresh);
        if (e == null) {
          e = fresh;
          if (entries.size() > maxKeys) {
            evict(summaries);
          }
        }
      }
      Window w = e.window.get();
      if (w == RETIRED) {
        entries.remove(key, e);
        continue;
      }
      if (now - w.start >= periodNanos) {
        if (e.window.compareAndSet(w, new Window(now))) {
          close(e.key, w, summaries);
        }
        continue;
      }
      long n = w.count.incrementAndGet();
      if (n < 0) {
        continue; // closed concurrently: count in the window that replaced it
      }
      if (now - e.lastSeen >= TOUCH_GRANULARITY_NANOS) {
        e.lastSeen = now;
      }
      return n <= burst ? FilterReply.NEUTRAL : FilterReply.DENY;
    }
  }

  /**
   * Closes a window that is no longer reachable for new events; increments racing with the close see a
   * negative count and retry, so every denied event is in exactly one summary.
   */
  private void close(Key key, Window w, List<Object[]> summaries) {
    long suppressed = w.count.getAndSet(Long.MIN_VALUE) - burst;
    if (suppressed > 0) {
      summaries.add(new Object[] {key.logger(), quote(key.pattern()), suppressed, periodSeconds});
    }
  }

  /** Drops keys whose window has ended, reporting their suppressions. */
  private void sweep(long now, List<Object[]> summaries) {
    for (Entry e : entries.values()) {
      Window w = e.window.get();
      if (w != RETIRED && now - w.start >= periodNanos && e.window.compareAndSet(w, RETIRED)) {
        entries.remove(e.key, e);
        close(e.key, w, summaries);
      }
    }
  }

  /**
   * Over {@code maxKeys}: drops the least recently seen keys down to 90 % so eviction stays rare. One thread
   * evicts at a time; the others go on, so the map can exceed the bound by about the number of threads
   * inserting at that moment.
   */
  private void evict(List<Object[]> summaries) {
    if (!evicting.compareAndSet(false, true)) {
      return;
    }
    try {
      int size;
      while ((size = entries.size()) > maxKeys) {
        int target = Math.max(1, maxKeys - maxKeys / 10);
        List<Seen> all = new ArrayList<>(entries.size());
        for (Entry e : entries.values()) {
          all.add(new Seen(e, e.lastSeen));
        }
        all.sort(LEAST_RECENT_FIRST);
        for (int i = 0, n = Math.min(all.size(), size - target); i < n; i++) {
          retire(all.get(i).entry(), summaries);
        }
      }
    } finally {
      evicting.set(false);
    }
  }

  private void retire(Entry e, List<Object[]> summaries) {
    for (;;) {
      Window w = e.window.get();
      if (w == RETIRED) {
        break;
      }
      if (e.window.compareAndSet(w, RETIRED)) {
        close(e.key, w, summaries);
        break;
      }
    }
    entries.remove(e.key, e);
  }

  private void scheduledSweep() {
    try {
      if (burst <= 0 || !(getContext() instanceof LoggerContext lc)) {
        return;
      }
      long now = nanoClock.getAsLong();
      long last = lastSweep.get();
      if (now - last >= SWEEP_INTERVAL_NANOS / 2 && lastSweep.compareAndSet(last, now)) {
        List<Object[]> summaries = new ArrayList<>(0);
        sweep(now, summaries);
        emit(summaries, lc);
      }
    } catch (RuntimeException e) {
      addError("sweep failed", e); // keep the periodic task alive
    }
  }

  /** Logs the summaries, outside any lock, with the re-entry guard set. */
  private void emit(List<Object[]> summaries, LoggerContext lc) {
    if (summaries.isEmpty() || lc == null) {
      return;
    }
    Logger out = lc.getLogger(SUMMARY_LOGGER);
    emitting.set(Boolean.TRUE);
    try {
      for (Object[] args : summaries) {
        out.warn(SUMMARY_FORMAT, args);
      }
    } finally {
      emitting.remove();
    }
  }

  /** Escapes quotes, backslashes and line breaks so the summary stays one line and its pattern="..." parses. */
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
    if (pattern.length() > len) {
      b.append("...");
    }
    return b.toString();
  }

  /** Number of tracked keys (tests). */
  int keyCount() {
    return entries.size();
  }

  /** Runs the sweep now, at the filter's clock (tests). */
  void sweepNow(LoggerContext lc) {
    List<Object[]> summaries = new ArrayList<>(0);
    long now = nanoClock.getAsLong();
    lastSweep.set(now);
    sweep(now, summaries);
    emit(summaries, lc);
  }
}
