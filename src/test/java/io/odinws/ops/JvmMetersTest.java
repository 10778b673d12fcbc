package io.odinws.ops;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Vertx;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertTrue;

/** The JVM's meters, bound after the start instead of by Vert.x: the names the dashboards and README rely on are served. */
class JvmMetersTest {

  @Test
  void bindLaterServesTheJvmAndProcessMeters() throws Exception {
    Vertx vertx = Vertx.vertx();
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    try {
      JvmMeters.bindLater(vertx, registry).await(30, TimeUnit.SECONDS);
      String scrape = registry.scrape();
      for (String name : List.of("jvm_memory_used_bytes", "jvm_gc_memory_allocated_bytes_total", "jvm_threads_live_threads",
          "jvm_classes_loaded_classes", "jvm_compilation_time_ms_total", "jvm_info", "jvm_gc_overhead", "process_cpu_usage",
          "system_cpu_count", "process_uptime_seconds")) {
        assertTrue(scrape.contains("\n" + name), name + " served");
      }
    } finally {
      registry.close();
      vertx.close().await(30, TimeUnit.SECONDS);
    }
  }
}
