package io.odinws.it;

import io.odinws.testkit.BlockedLoops;
import io.odinws.testkit.Await;
import io.odinws.testkit.EmbeddedKafka;
import io.odinws.testkit.KafkaBrokerExtension;
import io.odinws.testkit.OdinTopics;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The operations port answers health and metrics on a thread of its own: while every shard's loop,
 * and every other loop of Vert.x's pool, is blocked (a fan-out, a stuck task) probes still get an
 * answer, and liveness turns 503 once a shard's loop has been stuck for {@code ops.shardStallMs},
 * then 200 again when it runs.
 */
@ExtendWith(KafkaBrokerExtension.class)
class OpsPortTest {

  private static final Duration PROBE_TIMEOUT = Duration.ofSeconds(5);

  @Test
  void healthAndMetricsAreAnsweredWhileEveryShardLoopIsBlocked(EmbeddedKafka kafka) throws Exception {
    OdinTopics.createAll(kafka);
    JsonObject conf = new JsonObject().put("mode", "multi").put("shards", 2)
        .put("ops", new JsonObject().put("shardStallMs", 1_000));
    try (ServerHarness server = ServerHarness.start(kafka, conf)) {
      int ops = server.server.opsPort();
      assertTrue(ops > 0, "the operations port is bound");
      assertNotEquals(server.port(), ops);
      HttpClient http = HttpClient.newBuilder().connectTimeout(PROBE_TIMEOUT).build();
      assertEquals(200, get(http, ops, "/health/live").statusCode());
      assertEquals(404, get(http, ops, "/ws").statusCode(), "no WebSockets on the operations port");

      // the shards' loops and the others, any of which re-sharding may give a shard
      try (BlockedLoops blocked = BlockedLoops.all(server.vertx)) {
        assertTrue(server.slots().stream().allMatch(s -> blocked.loops().contains(s.loop())), "the shards run on Vert.x's pool");
        // each of these would wait for a shard's loop on the public port
        HttpResponse<String> metrics = get(http, ops, "/metrics");
        assertEquals(200, metrics.statusCode());
        assertTrue(metrics.body().contains("ws_connections"), "Prometheus text with the server's meters");
        HttpResponse<String> ready = get(http, ops, "/health/ready");
        assertEquals(200, ready.statusCode(), ready.body());
        // answered at once; 200, or already 503 for the stall below when the machine is slow
        HttpResponse<String> early = get(http, ops, "/health");
        assertTrue(early.statusCode() == 200 || early.body().contains("shard loop stuck"), early.body());

        // stuck for longer than shardStallMs: liveness fails, naming the shards, and /health says why
        int shards = server.slots().size();
        Await.until("liveness fails, naming every stuck shard", Duration.ofSeconds(30), () -> {
          HttpResponse<String> live = get(http, ops, "/health/live");
          return live.statusCode() == 503 && new JsonObject(live.body()).getJsonArray("stalled_shards").size() == shards;
        });
        assertEquals("DOWN", new JsonObject(get(http, ops, "/health/live").body()).getString("status"));
        HttpResponse<String> health = get(http, ops, "/health");
        assertEquals(503, health.statusCode());
        assertTrue(health.body().contains("shard loop stuck"), health.body());
      }
      // the loops run again and sweep: alive
      Await.until("liveness recovers", Duration.ofSeconds(30), () -> get(http, ops, "/health/live").statusCode() == 200);
    }
  }

  private static HttpResponse<String> get(HttpClient http, int port, String path) {
    try {
      return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).timeout(PROBE_TIMEOUT).build(),
          HttpResponse.BodyHandlers.ofString());
    } catch (Exception e) {
      throw new AssertionError("GET " + path + " on the operations port: " + e, e);
    }
  }
}
