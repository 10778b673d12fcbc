package io.odinws.deploy;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * dashboards/odin-ws.json stays importable (one data source input, used everywhere) and queries
 * only metrics the server registers, each listed in dashboards/README.md.
 */
class DashboardTest {

  static final String DS = "${DS_PROMETHEUS}";

  /** Metrics the dashboard must show (issue 6). */
  static final List<String> REQUIRED = List.of("ws_shard_connections", "ws_connections_active", "ws_connections_max",
      "ws_messages_sent_total", "ws_bytes_sent_total", "ws_kafka_messages_received_total", "ws_kafka_records_skipped_total",
      "ws_delivery_latency_seconds_bucket", "ws_slow_clients_disconnected_total", "ws_capacity_rejections_total",
      "ws_disconnects_total", "ws_kafka_lag", "ws_kafka_connected", "jvm_memory_used_bytes", "jvm_gc_pause_seconds",
      "ws_cpu_usage_percent");

  /**
   * Metrics being added to the server while the dashboard was written; a name here may be missing
   * from src/main. Remove it once the server registers it.
   */
  static final Set<String> PENDING = Set.of();

  final JsonNode dashboard = DeployFiles.json(DeployFiles.read(DeployFiles.path("dashboards/odin-ws.json")), "dashboards/odin-ws.json");

  @Test
  void importableWithOnePrometheusInput() {
    JsonNode inputs = dashboard.path("__inputs");
    assertEquals(1, inputs.size(), "one data source input");
    assertEquals("DS_PROMETHEUS", inputs.get(0).path("name").asText());
    assertEquals("datasource", inputs.get(0).path("type").asText());
    assertEquals("prometheus", inputs.get(0).path("pluginId").asText());
    assertTrue(dashboard.path("id").isNull() || dashboard.path("id").isMissingNode(), "an exported dashboard has id null");
    assertFalse(dashboard.path("uid").asText().isEmpty(), "uid");
    assertFalse(dashboard.path("title").asText().isEmpty(), "title");

    for (JsonNode p : panels()) {
      if (p.path("type").asText().equals("row")) {
        continue;
      }
      assertEquals(DS, p.path("datasource").path("uid").asText(), "panel '" + p.path("title").asText() + "' data source");
      assertFalse(p.path("targets").isEmpty(), "panel '" + p.path("title").asText() + "' has no query");
      for (JsonNode t : p.path("targets")) {
        assertEquals(DS, t.path("datasource").path("uid").asText(), "panel '" + p.path("title").asText() + "' query data source");
        assertFalse(t.path("expr").asText().isBlank(), "panel '" + p.path("title").asText() + "' has an empty query");
      }
    }
    for (JsonNode v : dashboard.path("templating").path("list")) {
      if (v.has("datasource")) {
        assertEquals(DS, v.path("datasource").path("uid").asText(), "variable " + v.path("name").asText() + " data source");
      }
    }
  }

  @Test
  void panelsHaveUniqueIdsAndDoNotOverlap() {
    Set<Integer> ids = new TreeSet<>();
    List<int[]> boxes = new ArrayList<>();
    for (JsonNode p : panels()) {
      assertTrue(ids.add(p.path("id").asInt()), "panel id " + p.path("id").asInt() + " twice");
      JsonNode g = p.path("gridPos");
      int[] box = {g.path("x").asInt(), g.path("y").asInt(), g.path("w").asInt(), g.path("h").asInt()};
      assertTrue(box[2] > 0 && box[3] > 0 && box[0] + box[2] <= 24, "panel '" + p.path("title").asText() + "' gridPos " + g);
      for (int[] b : boxes) {
        boolean overlap = box[0] < b[0] + b[2] && b[0] < box[0] + box[2] && box[1] < b[1] + b[3] && b[1] < box[1] + box[3];
        assertFalse(overlap, "panel '" + p.path("title").asText() + "' overlaps another panel");
      }
      boxes.add(box);
    }
  }

  @Test
  void showsTheRequiredMetrics() {
    String exprs = String.join("\n", expressions());
    for (String metric : REQUIRED) {
      assertTrue(Pattern.compile("\\b" + Pattern.quote(metric)).matcher(exprs).find(), "no panel queries " + metric);
    }
    assertTrue(exprs.contains("histogram_quantile(0.5,") && exprs.contains("histogram_quantile(0.99,"), "delivery latency p50 and p99");
  }

  @Test
  void queriesOnlyMetricsTheServerRegistersAndTheReadmeLists() throws IOException {
    String sources = mainSources();
    String readme = DeployFiles.read(DeployFiles.path("dashboards/README.md"));
    Set<String> unregistered = new TreeSet<>();
    Set<String> unlisted = new TreeSet<>();
    for (String metric : metricNames()) {
      if (!readme.contains("`" + metric)) {
        unlisted.add(metric);
      }
      if (metric.startsWith("ws_") && candidates(metric).stream().noneMatch(c -> sources.contains("\"" + c + "\"") || PENDING.contains(c))) {
        unregistered.add(metric);
      }
    }
    assertTrue(unregistered.isEmpty(), "dashboard queries ws_ metrics that src/main does not register (renamed?): " + unregistered);
    assertTrue(unlisted.isEmpty(), "dashboards/README.md does not list: " + unlisted);
  }

  /** The names a Micrometer meter may have been registered under for a Prometheus series name. */
  static List<String> candidates(String series) {
    List<String> names = new ArrayList<>();
    names.add(series);
    String base = series.replaceFirst("_(bucket|count|sum|max|total|created)$", "");
    names.add(base);
    names.add(base.replaceFirst("_(seconds|bytes)$", ""));
    List<String> dotted = names.stream().map(n -> n.replace('_', '.')).toList();
    names.addAll(dotted);
    return names;
  }

  Set<String> metricNames() {
    Set<String> names = new TreeSet<>();
    Matcher m = Pattern.compile("\\b((?:ws|jvm|process|system|vertx)_[a-zA-Z0-9_]+)").matcher(String.join("\n", expressions()));
    while (m.find()) {
      names.add(m.group(1));
    }
    return names;
  }

  List<String> expressions() {
    List<String> out = new ArrayList<>();
    for (JsonNode p : panels()) {
      p.path("targets").forEach(t -> out.add(t.path("expr").asText()));
    }
    return out;
  }

  List<JsonNode> panels() {
    List<JsonNode> out = new ArrayList<>();
    for (JsonNode p : dashboard.path("panels")) {
      out.add(p);
      p.path("panels").forEach(out::add); // panels of a collapsed row
    }
    return out;
  }

  private static String mainSources() throws IOException {
    try (Stream<Path> files = Files.walk(DeployFiles.path("src/main/java"))) {
      return files.filter(f -> f.toString().endsWith(".java")).map(DeployFiles::read).collect(Collectors.joining("\n"));
    }
  }
}
