package io.odinws.it;

import io.odinws.OdinServer;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** With no reachable broker the server still starts, serves clients, and reports itself unhealthy. */
@ExtendWith(VertxExtension.class)
class KafkaDownHealthTest {

  /** @param vertx closed by the extension after the test, with the server deployed on it */
  @Test
  void healthIs503AndKafkaConnectedIs0WhileTheBrokerIsUnreachable(Vertx vertx) throws Exception {
    int deadPort;
    try (ServerSocket s = new ServerSocket(0)) {
      deadPort = s.getLocalPort(); // closed again: nothing listens there
    }
    OdinServer server = new OdinServer();
    JsonObject conf = new JsonObject().put("shards", 2)
        .put("http", new JsonObject().put("host", "127.0.0.1").put("port", 0))
        .put("ops", new JsonObject().put("host", "127.0.0.1").put("port", 0))
        .put("kafka", new JsonObject().put("bootstrap", "127.0.0.1:" + deadPort))
        .put("recovery", new JsonObject().put("kafkaReadTimeoutMs", 1000));
    vertx.deployVerticle(server, new DeploymentOptions().setConfig(conf)).await(20, TimeUnit.SECONDS);
    HttpClient http = HttpClient.newHttpClient();
    HttpResponse<String> health = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + "/health")).build(),
        HttpResponse.BodyHandlers.ofString());
    assertEquals(503, health.statusCode());
    JsonObject h = new JsonObject(health.body());
    assertFalse(h.getBoolean("healthy"));
    assertEquals("unhealthy", h.getString("status"));
    assertFalse(h.getJsonObject("checks").getJsonObject("kafka").getBoolean("healthy"));
    assertFalse(h.getJsonArray("errors").isEmpty());
    HttpResponse<String> opsHealth = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.opsPort() + "/health")).build(),
        HttpResponse.BodyHandlers.ofString());
    assertEquals(503, opsHealth.statusCode(), "the operations port gives the same report");
    assertFalse(new JsonObject(opsHealth.body()).getJsonObject("checks").getJsonObject("kafka").getBoolean("healthy"));
    String metrics = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + "/metrics")).build(),
        HttpResponse.BodyHandlers.ofString()).body();
    assertTrue(metrics.contains("ws_kafka_connected 0.0"), "ws_kafka_connected is 0");

    // A reconnect before the partitions are known waits for them (up to recovery.kafkaReadTimeoutMs),
    // then says why it could not recover rather than "unknown partition".
    WsTestClient c = WsTestClient.open(vertx.createWebSocketClient(), server.port());
    long t0 = System.nanoTime();
    JsonObject ack = c.request("{\"type\":\"reconnect\",\"data\":{\"last_offset\":{\"BTC.trade\":\"3:100\"}}}", "reconnect_ack");
    assertTrue((System.nanoTime() - t0) / 1_000_000 >= 900, "it waited for the partitions");
    JsonObject channel = ack.getJsonObject("channels").getJsonObject("BTC.trade");
    assertFalse(channel.getBoolean("recovered"));
    assertTrue(channel.getString("error").contains("not assigned"), ack.encode());
    c.close();
  }
}
