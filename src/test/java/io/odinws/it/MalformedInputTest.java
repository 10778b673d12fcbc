package io.odinws.it;

import io.odinws.envelope.SkipReason;
import io.odinws.testkit.Await;
import io.odinws.testkit.EmbeddedKafka;
import io.odinws.testkit.KafkaBrokerExtension;
import io.odinws.testkit.OdinTopics;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Bad records from Kafka and bad frames from clients get the documented treatment; valid traffic flows on. */
@ExtendWith({KafkaBrokerExtension.class, VertxExtension.class})
class MalformedInputTest {

  private static EmbeddedKafka kafka;
  private static ServerHarness server;
  private static Vertx clientVertx;
  private static WebSocketClient wsClient;

  @BeforeAll
  @Timeout(value = 120, timeUnit = TimeUnit.SECONDS)
  static void start(EmbeddedKafka broker, Vertx vertx, VertxTestContext ctx) {
    kafka = broker;
    OdinTopics.createAll(kafka);
    ServerHarness.deploy(kafka, new JsonObject().put("mode", "multi").put("shards", 2))
        .onComplete(ctx.succeeding(h -> {
          server = h;
          ctx.completeNow();
        }));
    clientVertx = vertx; // VertxExtension closes it after the class
    wsClient = clientVertx.createWebSocketClient();
  }

  @AfterAll
  static void stop(VertxTestContext ctx) {
    ServerHarness.stop(server).onComplete(ctx.succeedingThenComplete());
  }

  @Test
  void malformedKafkaRecordsAreCountedAndSkippedWhileValidOnesAreDelivered() throws Exception {
    WsTestClient c = WsTestClient.open(wsClient, server.port());
    c.subscribe("LINK.trade");
    var ingest = server.server.ingest();
    long emptyKey = ingest.skipped(SkipReason.EMPTY_KEY);
    long invalidKey = ingest.skipped(SkipReason.INVALID_KEY);
    long invalidJson = ingest.skipped(SkipReason.INVALID_JSON);
    try (KafkaProducer<String, String> producer = OdinTopics.producer(kafka.bootstrap())) {
      for (int i = 0; i < 20; i++) {
        producer.send(new ProducerRecord<>(OdinTopics.TRADES, "LINK", "{\"i\":" + i + "}"));
        if (i % 5 == 0) {
          producer.send(new ProducerRecord<>(OdinTopics.TRADES, null, "{\"nokey\":true}"));
          producer.send(new ProducerRecord<>(OdinTopics.TRADES, "", "{\"emptykey\":true}"));
          producer.send(new ProducerRecord<>(OdinTopics.TRADES, "LI NK", "{\"space\":true}"));
          producer.send(new ProducerRecord<>(OdinTopics.TRADES, "LINK", "{not json"));
          producer.send(new ProducerRecord<>(OdinTopics.TRADES, "LINK", "{} trailing"));
        }
      }
    }
    Await.until("all 20 valid records delivered", Duration.ofSeconds(20), () -> c.data().size() >= 20);
    Await.until("every malformed record counted", Duration.ofSeconds(10),
        () -> ingest.skipped(SkipReason.INVALID_JSON) - invalidJson == 8);
    assertEquals(8, ingest.skipped(SkipReason.EMPTY_KEY) - emptyKey);
    assertEquals(4, ingest.skipped(SkipReason.INVALID_KEY) - invalidKey);
    List<WsTestClient.Received> data = c.data();
    assertEquals(20, data.size());
    for (int i = 0; i < 20; i++) {
      assertEquals(i, data.get(i).json().getJsonObject("data").getInteger("i"));
    }

    String metrics = get("/metrics").body();
    assertTrue(metrics.contains("ws_kafka_records_skipped_total{reason=\"invalid_json\"}"), "skips exported by reason");
    for (String name : List.of("ws_connections_active", "ws_shard_connections{shard_id=\"0\"}", "ws_messages_sent_total",
        "ws_kafka_messages_received_total", "ws_capacity_rejections_total{reason=\"full\"}", "ws_delivery_latency_seconds_bucket",
        "ws_batch_size_bucket", "ws_kafka_lag{partition=\"0\",topic=\"odin.trades\"}", "ws_disconnects_total{initiated_by=\"client\"",
        "ws_slow_clients_disconnected_total", "ws_replay_requests_total", "ws_connection_duration_seconds_bucket",
        "ws_bytes_received_total", "ws_shard_bytes_sent_total{shard_id=\"1\"}")) {
      assertTrue(metrics.contains(name), "metrics expose " + name);
    }
    c.close();
  }

  @Test
  void malformedClientFramesGetErrorsAndTheConnectionStaysUseful() throws Exception {
    WsTestClient c = WsTestClient.open(wsClient, server.port());

    assertError(c, "{not json", "INVALID_MESSAGE");
    assertError(c, "[1,2]", "INVALID_MESSAGE");
    assertError(c, "{\"data\":{}}", "INVALID_MESSAGE");
    assertError(c, "{\"type\":\"subscribe\",\"data\":\"BTC.trade\"}", "INVALID_MESSAGE");
    assertError(c, "{\"type\":\"subscribe\",\"data\":{\"channels\":[1]}}", "INVALID_MESSAGE");
    assertError(c, "{\"type\":\"teleport\"}", "UNKNOWN_TYPE");
    int from = c.received.size();
    c.ws.writeBinaryMessage(Buffer.buffer(new byte[] {1, 2, 3}));
    assertEquals("BINARY_NOT_SUPPORTED", c.awaitMessage(from, m -> "error".equals(m.type()), Duration.ofSeconds(30)).json().getString("code"));

    JsonObject ack = c.request("{\"type\":\"subscribe\",\"data\":{\"channels\":[\"AAVE.trade\",\"nodot\",\"AAVE.nosuch\",\"A A.trade\",\"AAVE.trade\"]}}",
        "subscription_ack");
    assertEquals(List.of("AAVE.trade"), ack.getJsonArray("subscribed").getList());
    assertEquals(1, ack.getInteger("count"));
    JsonArray rejected = ack.getJsonArray("rejected");
    assertEquals(3, rejected.size());
    assertEquals("nodot", rejected.getJsonObject(0).getString("channel"));
    assertFalse(rejected.getJsonObject(0).getString("reason").isEmpty());

    JsonObject pong = c.request("{\"type\":\"heartbeat\"}", "pong");
    assertTrue(Math.abs(pong.getLong("ts") - System.currentTimeMillis()) < 60_000);

    JsonObject unack = c.request("{\"type\":\"unsubscribe\",\"data\":{\"channels\":[\"UNI.trade\"]}}", "unsubscription_ack");
    assertEquals(1, unack.getInteger("count"), "unsubscribing a channel not subscribed is not an error");

    JsonObject topicKeyed = c.request("{\"type\":\"reconnect\",\"data\":{\"client_id\":\"c-1\",\"last_offset\":{\"odin.trades\":123}}}",
        "reconnect_error");
    assertTrue(topicKeyed.getString("message").contains("BTC.trade"), "explains the channel-keyed form");
    assertTrue(c.request("{\"type\":\"reconnect\",\"data\":{}}", "reconnect_error").getString("message").startsWith("Invalid reconnect request format"));

    // reconnect subscribes the channels it names; one it cannot subscribe says why. No replay yet: recovered is false.
    JsonObject reconnectAck = c.request("{\"type\":\"reconnect\",\"data\":{\"client_id\":\"c-1\",\"last_offset\":{\"UNI.trade\":\"2:3\",\"nodot\":5}}}",
        "reconnect_ack");
    assertFalse(reconnectAck.getBoolean("recovered"));
    assertFalse(reconnectAck.getJsonObject("channels").getJsonObject("UNI.trade").getBoolean("recovered"));
    assertTrue(reconnectAck.getJsonObject("channels").getJsonObject("nodot").containsKey("error"));
    assertEquals(2, c.request("{\"type\":\"unsubscribe\",\"data\":{\"channels\":[]}}", "unsubscription_ack").getInteger("count"),
        "AAVE.trade and UNI.trade");

    try (KafkaProducer<String, String> producer = OdinTopics.producer(kafka.bootstrap())) {
      producer.send(new ProducerRecord<>(OdinTopics.TRADES, "AAVE", "{\"still\":\"alive\"}"));
    }
    Await.until("the connection still receives data", Duration.ofSeconds(20), () -> c.data().size() == 1);
    assertNull(c.closeCode, "the connection stayed open");
    c.close();
  }

  @Test
  void healthReportsTheDocumentedFields() throws Exception {
    HttpResponse<String> res = get("/health");
    assertEquals(200, res.statusCode());
    JsonObject h = new JsonObject(res.body());
    assertTrue(h.getBoolean("healthy"));
    assertEquals("healthy", h.getString("status"));
    JsonObject checks = h.getJsonObject("checks");
    assertTrue(checks.getJsonObject("capacity").containsKey("current"));
    assertTrue(checks.getJsonObject("capacity").getInteger("max") > 0);
    assertTrue(checks.getJsonObject("cpu").containsKey("percentage"));
    assertTrue(checks.getJsonObject("memory").containsKey("percentage"));
    assertTrue(checks.getJsonObject("kafka").getBoolean("healthy"));
    assertEquals(2, h.getJsonArray("shards").size());
    JsonObject shard = h.getJsonArray("shards").getJsonObject(0);
    assertTrue(shard.containsKey("id") && shard.containsKey("connections") && shard.containsKey("max_connections"));
    assertEquals(404, get("/nothing-here").statusCode());
  }

  private static void assertError(WsTestClient c, String frame, String code) {
    JsonObject error = c.request(frame, "error");
    assertEquals(code, error.getString("code"), "reply to " + frame);
    assertFalse(error.getString("message").isEmpty());
  }

  private static HttpResponse<String> get(String path) throws Exception {
    return HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + path)).build(),
        HttpResponse.BodyHandlers.ofString());
  }
}
