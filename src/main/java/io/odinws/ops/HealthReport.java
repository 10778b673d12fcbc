package io.odinws.ops;

import io.odinws.config.AdmissionConfig;
import io.odinws.http.PublicEndpoints;

import io.odinws.stats.SystemProbe;
import io.odinws.stats.ServerState;

import io.odinws.ingest.IngestStats;
import io.odinws.router.ShardRegistry;
import io.odinws.router.ShardSlot;
import io.odinws.shard.admission.ResourceGuard;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.lang.management.MemoryUsage;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * {@code GET /health} (PROTOCOL.md section 7): unhealthy (503) when Kafka is not consumed, no shard
 * runs or a shard's loop is stuck; degraded (200) above 90 % of capacity; otherwise healthy (200).
 * {@code GET /health/live}: 503 only while a shard's loop is stuck (no batch or sweep finished for
 * {@code shardStallMs}).
 */
public final class HealthReport {

  private static final double DEGRADED_ABOVE = 90.0;
  private final ShardRegistry registry;
  private final IngestStats ingest;
  private final ServerState state;
  private final long stallNanos;
  private final long startedAtMillis = System.currentTimeMillis();
  /** admission.cpuRejectPercent: new upgrades are refused while CPU stays above it (0 or less: never). */
  private final double cpuThreshold;
  private final Supplier<ResourceGuard> guard;

  /**
   * @param admission   for the CPU threshold it reports
   * @param guard       the admission's resource guard, or null before admission is built
   */
  public HealthReport(ShardRegistry registry, IngestStats ingest, ServerState state, long shardStallMs, AdmissionConfig admission,
                      Supplier<ResourceGuard> guard) {
    this.registry = registry;
    this.ingest = ingest;
    this.state = state;
    this.stallNanos = TimeUnit.MILLISECONDS.toNanos(shardStallMs);
    this.cpuThreshold = admission.cpuRejectPercent();
    this.guard = guard;
  }

  /**
   * Liveness. A loop that is busy, even far behind, still finishes batches and sweeps; only a loop
   * stuck in one task (blocked, spinning) finishes neither, and a restart is then the cure.
   */
  public PublicEndpoints.Health live() {
    JsonArray stalled = stalledShards(System.nanoTime());
    return stalled.isEmpty()
        ? new PublicEndpoints.Health(200, "{\"status\":\"UP\"}")
        : new PublicEndpoints.Health(503, new JsonObject().put("status", "DOWN").put("stalled_shards", stalled).encode());
  }

  private JsonArray stalledShards(long now) {
    JsonArray stalled = new JsonArray();
    for (ShardSlot s : registry.slots()) {
      if (now - s.stats().progressAtNanos() > stallNanos) {
        stalled.add(s.id());
      }
    }
    return stalled;
  }

  public PublicEndpoints.Health render() {
    List<ShardSlot> slots = registry.slots();
    int current = 0;
    int max = 0;
    JsonArray shards = new JsonArray();
    for (ShardSlot s : slots) {
      int n = s.connections().get();
      current += n;
      max += s.maxConnections();
      shards.add(new JsonObject()
          .put("id", s.id())
          .put("connections", n)
          .put("websockets", s.stats().webSockets())
          .put("max_connections", s.maxConnections())
          .put("available_slots", Math.max(0, s.maxConnections() - n))
          .put("utilization", round(s.maxConnections() == 0 ? 100.0 : 100.0 * n / s.maxConnections()))
          .put("status", shardStatus(n, s.maxConnections())));
    }
    double capacityPercent = max == 0 ? 100.0 : 100.0 * current / max;
    JsonArray warnings = new JsonArray();
    JsonArray errors = new JsonArray();
    boolean kafkaOk = ingest.assigned() && ingest.connected();
    if (!kafkaOk) {
      errors.add(ingest.assigned()
          ? "Kafka unreachable: " + ingest.lastError()
          : "Kafka partitions not assigned yet" + (ingest.lastError().isEmpty() ? "" : ": " + ingest.lastError()));
    }
    if (state.draining()) {
      errors.add("shutting down");
    } else if (slots.isEmpty()) {
      errors.add("no shard is running");
    }
    JsonArray stalled = stalledShards(System.nanoTime());
    if (!stalled.isEmpty()) {
      errors.add("shard loop stuck (no batch or sweep finished for " + TimeUnit.NANOSECONDS.toMillis(stallNanos) + " ms): shards " + stalled.encode()
          + "; /health/live fails so the orchestrator restarts the process");
    }
    if (capacityPercent > DEGRADED_ABOVE) {
      warnings.add(String.format("capacity at %.1f%%", capacityPercent));
    }
    String status = !errors.isEmpty() ? "unhealthy" : !warnings.isEmpty() ? "degraded" : "healthy";

    MemoryUsage heap = SystemProbe.heap();
    long limit = heap.getMax() > 0 ? heap.getMax() : heap.getCommitted();
    // cpu and memory are unhealthy while the resource guard refuses new upgrades for them
    ResourceGuard g = guard.get();
    String refusing = g == null ? null : g.reason();
    JsonObject checks = new JsonObject()
        .put("capacity", new JsonObject()
            .put("healthy", capacityPercent <= DEGRADED_ABOVE)
            .put("current", current).put("max", max).put("percentage", round(capacityPercent)))
        .put("cpu", new JsonObject()
            .put("healthy", !"cpu".equals(refusing))
            .put("percentage", round(SystemProbe.cpuPercent()))
            // what the guard compares with the threshold: the shards' loops, not the whole process
            .put("shard_loops_percentage", round(g == null ? 0 : g.lastCpuPercent()))
            .put("threshold", cpuThreshold))
        .put("memory", new JsonObject()
            .put("healthy", !"heap".equals(refusing))
            .put("used_mb", heap.getUsed() >> 20)
            .put("limit_mb", limit >> 20)
            .put("percentage", round(SystemProbe.heapPercent())))
        .put("kafka", new JsonObject()
            .put("healthy", kafkaOk)
            .put("status", kafkaOk ? "connected" : ingest.assigned() ? "disconnected" : "assigning")
            .put("partitions", ingest.partitions())
            .put("records_received", ingest.received()));
    JsonObject body = new JsonObject()
        .put("healthy", !"unhealthy".equals(status))
        .put("status", status)
        .put("uptime", (System.currentTimeMillis() - startedAtMillis) / 1000)
        .put("checks", checks)
        .put("shards", shards)
        .put("warnings", warnings)
        .put("errors", errors);
    return new PublicEndpoints.Health("unhealthy".equals(status) ? 503 : 200, body.encode());
  }

  static String shardStatus(int connections, int max) {
    if (connections >= max) {
      return "full";
    }
    double pct = 100.0 * connections / max;
    return pct > 90 ? "high" : pct > 75 ? "medium" : "available";
  }

  private static double round(double v) {
    return Math.round(v * 10.0) / 10.0;
  }
}
