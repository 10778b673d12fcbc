package io.odinws.testkit;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.IThrowableProxy;
import ch.qos.logback.classic.spi.ThrowableProxyUtil;
import ch.qos.logback.core.AppenderBase;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.util.ResourceLeakDetector;
import java.lang.ref.Reference;
import java.lang.ref.ReferenceQueue;
import java.lang.ref.WeakReference;
import java.lang.reflect.Modifier;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.slf4j.LoggerFactory;

/**
 * Fails a test class when Netty's leak detector reported a leak while it ran. Registered for every test through
 * {@code META-INF/services/org.junit.jupiter.api.extension.Extension} and
 * {@code junit.jupiter.extensions.autodetection.enabled} in {@code junit-platform.properties}.
 *
 * <p>Netty reports a leak late: only once the garbage collector found the unreleased buffer and a later tracked
 * allocation polls the detector's queue. So after the class's own {@code @AfterAll} (servers closed), this forces
 * that sequence: two collections, each awaited through a sentinel reference (the second sentinel is enqueued only
 * after every reference the first collection found, as one thread enqueues them in order), then one allocation
 * tracked whatever the configured level. The check is per class because a full collection per test would cost more
 * than the suite's own work; the failure names the tests that were running when reports arrived, and Netty's report
 * carries the leaked buffer's allocation and access records.
 *
 * <p>Reports are read from the detector's logger ({@value #DETECTOR_LOGGER}): Netty 4.2 offers a leak listener only
 * per detector instance, and the one for buffers is not public.
 */
public final class NettyLeakExtension implements BeforeAllCallback, BeforeEachCallback, AfterEachCallback, AfterAllCallback {

  static final String DETECTOR_LOGGER = "io.netty.util.ResourceLeakDetector";
  private static final ExtensionContext.Namespace NAMESPACE = ExtensionContext.Namespace.create(NettyLeakExtension.class);
  private static final Duration COLLECTION_DEADLINE = Duration.ofSeconds(30);

  @Override
  public void beforeAll(ExtensionContext context) {
    if (isTopLevel(context)) {
      Reports.ensureAttached();
      context.getStore(NAMESPACE).put("window", new Window(Reports.size()));
    }
  }

  @Override
  public void beforeEach(ExtensionContext context) {
    Window w = window(context);
    if (w != null) {
      w.testStart = Reports.size();
    }
  }

  @Override
  public void afterEach(ExtensionContext context) {
    Window w = window(context);
    if (w != null && Reports.size() > w.testStart) {
      w.reportedDuring.add(context.getDisplayName());
    }
  }

  @Override
  public void afterAll(ExtensionContext context) {
    Window w = window(context);
    if (w == null || !isTopLevel(context) || ResourceLeakDetector.getLevel() == ResourceLeakDetector.Level.DISABLED) {
      return;
    }
    surfaceLeaks();
    List<String> leaks = Reports.claimSince(w.start);
    if (!leaks.isEmpty()) {
      throw new AssertionError(leaks.size() + " Netty leak report(s) while " + context.getDisplayName() + " ran"
          + (w.reportedDuring.isEmpty() ? " (surfaced by the collection after its last test)"
              : " (first seen during " + w.reportedDuring + ")")
          + ":\n" + leaks.stream().limit(3).collect(Collectors.joining("\n---\n")));
    }
  }

  /**
   * Makes the detector report every buffer that is unreachable and was never released, now rather than at some later
   * allocation.
   */
  public static void surfaceLeaks() {
    for (int round = 0; round < 2; round++) {
      ReferenceQueue<Object> queue = new ReferenceQueue<>();
      WeakReference<Object> sentinel = new WeakReference<>(new Object(), queue);
      Await.until("a full collection's references enqueued", COLLECTION_DEADLINE, () -> {
        System.gc();
        try {
          return queue.remove(100) != null;
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          return false;
        }
      });
      Reference.reachabilityFence(sentinel); // a reference object must outlive its enqueueing
    }
    // Below paranoid the detector samples allocations, and only a sampled one polls its queue.
    ResourceLeakDetector.Level level = ResourceLeakDetector.getLevel();
    ResourceLeakDetector.setLevel(ResourceLeakDetector.Level.PARANOID);
    try {
      PooledByteBufAllocator.DEFAULT.directBuffer(1).release();
    } finally {
      ResourceLeakDetector.setLevel(level);
    }
  }

  private static Window window(ExtensionContext context) {
    // the class's store, also seen from its methods' contexts
    return context.getStore(NAMESPACE).get("window", Window.class);
  }

  /** Nested classes run inside their enclosing class's window, which reports for them. */
  private static boolean isTopLevel(ExtensionContext context) {
    return context.getTestClass()
        .map(c -> c.getEnclosingClass() == null || Modifier.isStatic(c.getModifiers()))
        .orElse(false);
  }

  /** One class's span of the report list, and the tests during which reports arrived. */
  private static final class Window {
    final int start;
    volatile int testStart;
    final List<String> reportedDuring = new ArrayList<>();

    Window(int start) {
      this.start = start;
      this.testStart = start;
    }
  }

  /**
   * Every leak report of the JVM, in order. A report is claimed by the first class window that fails with it, so a
   * test class that runs another (through the engine test kit) is not failed by its inner class's leaks.
   */
  static final class Reports extends AppenderBase<ILoggingEvent> {
    private static final Reports INSTANCE = new Reports();
    private static final List<String> texts = new ArrayList<>();
    private static final List<Boolean> claimed = new ArrayList<>();

    static synchronized void ensureAttached() {
      if (!(LoggerFactory.getLogger(DETECTOR_LOGGER) instanceof Logger logger)) {
        throw new IllegalStateException("SLF4J is not bound to Logback: cannot watch Netty's leak reports");
      }
      if (!logger.isErrorEnabled()) {
        logger.setLevel(Level.ERROR); // the detector reports nothing when its logger is off
      }
      // attached again after a reset of the logging context, which detaches every appender
      if (logger.getAppender(INSTANCE.getName()) == null) {
        INSTANCE.setContext(logger.getLoggerContext());
        INSTANCE.start();
        logger.addAppender(INSTANCE);
      }
    }

    private Reports() {
      setName("netty-leak-reports");
    }

    @Override
    protected void append(ILoggingEvent e) {
      if (!e.getLevel().isGreaterOrEqual(Level.ERROR)) {
        return;
      }
      IThrowableProxy t = e.getThrowableProxy();
      add(e.getFormattedMessage() + (t == null ? "" : "\n" + ThrowableProxyUtil.asString(t)));
    }

    private static synchronized void add(String text) {
      texts.add(text);
      claimed.add(false);
    }

    static synchronized int size() {
      return texts.size();
    }

    static synchronized List<String> claimSince(int start) {
      List<String> out = new ArrayList<>();
      for (int i = start; i < texts.size(); i++) {
        if (!claimed.get(i)) {
          claimed.set(i, true);
          out.add(texts.get(i));
        }
      }
      return out;
    }
  }
}
