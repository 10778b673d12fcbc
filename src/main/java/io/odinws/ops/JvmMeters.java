package io.odinws.ops;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.MeterBinder;
import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmCompilationMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmHeapPressureMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmInfoMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.vertx.core.Future;
import io.vertx.core.Vertx;

import java.util.List;

/**
 * The JVM's and the process's meters ({@code jvm_*}, {@code process_*}, {@code system_*}): the binders Vert.x's
 * {@code jvmMetricsEnabled} would add while Vert.x is built, added instead once the server has started, on a worker
 * thread. Each looks up its platform MXBeans, which a fresh JVM creates then, on a start's critical path otherwise.
 * The meters stay for the life of the process (their GC listeners with them), as Vert.x's would.
 */
public final class JvmMeters {

  private JvmMeters() {
  }

  /** Binds them to {@code registry} on one of {@code vertx}'s worker threads; completes when they are bound. */
  public static Future<Void> bindLater(Vertx vertx, MeterRegistry registry) {
    return vertx.executeBlocking(() -> {
      for (MeterBinder binder : binders()) {
        binder.bindTo(registry);
      }
      return null;
    }, false);
  }

  private static List<MeterBinder> binders() {
    return List.of(new ClassLoaderMetrics(), new JvmCompilationMetrics(), new JvmGcMetrics(), new JvmHeapPressureMetrics(),
        new JvmInfoMetrics(), new JvmMemoryMetrics(), new JvmThreadMetrics(), new ProcessorMetrics(), new UptimeMetrics());
  }
}
