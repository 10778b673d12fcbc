package io.odinws.it;

import io.odinws.testkit.Await;
import io.odinws.testkit.EmbeddedKafka;
import io.odinws.testkit.KafkaBrokerExtension;
import io.odinws.testkit.OdinTopics;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.UpgradeRejectedException;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketClientOptions;
import io.vertx.core.http.WebSocketConnectOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Admission before the upgrade: connection rates (429), Origin (403), resource guard (503). */
@ExtendWith({KafkaBrokerExtension.class, VertxExtension.class})
class AdmissionTest {

  private static EmbeddedKafka kafka;
  private ServerHarness server;
  private Vertx clientVertx;

  @BeforeAll
  static void topics(EmbeddedKafka broker) {
    kafka = broker;
    OdinTopics.createAll(kafka);
  }

  @BeforeEach
  void clients(Vertx vertx) {
    clientVertx = vertx; // the test's own: VertxExtension closes it after the test
  }

  @AfterEach
  void stop() throws Exception {
    if (server != null) {
      server.close();
    }
  }

  @Test
  void fiveHundredAttemptsInASecondFromOneAddressAreLimitedWhileAnotherAddressIsServed() throws Exception {
    server = ServerHarness.start(kafka, new JsonObject().put("shards", 2).put("admission", new JsonObject()
        .put("enabled", true).put("ipBurst", 50).put("ipPerSecond", 20).put("globalBurst", 4000).put("globalPerSecond", 2000)
        .put("exemptLoopback", false).put("ipMaxConnections", 0)));
    WebSocketClient flooder = clientVertx.createWebSocketClient(new WebSocketClientOptions().setMaxConnections(1000)
        .setLocalAddress("127.0.0.1"));
    List<Future<?>> attempts = new ArrayList<>();
    long t0 = System.nanoTime();
    for (int i = 0; i < 500; i++) {
      attempts.add(flooder.connect(server.port(), "127.0.0.1", "/ws"));
    }
    int admitted = 0;
    int limited = 0;
    for (Future<?> f : attempts) {
      try {
        f.await(20, TimeUnit.SECONDS);
        admitted++;
      } catch (UpgradeRejectedException e) {
        assertEquals(429, e.getStatus());
        assertTrue(Integer.parseInt(e.getHeaders().get("Retry-After")) >= 1);
        assertEquals("Rate limit exceeded\n", e.getBody().toString());
        limited++;
      }
    }
    double seconds = (System.nanoTime() - t0) / 1e9;
    flooder.close(); // after the awaits, which it also keeps reachable: Vert.x closes a collected client's sockets
    assertEquals(500, admitted + limited);
    assertTrue(admitted >= 50 && admitted <= 50 + Math.ceil(20 * seconds) + 1,
        "burst of 50 plus 20/s over " + seconds + " s, admitted " + admitted);

    // Meanwhile another address is served normally: connects, subscribes, receives.
    WebSocketClient other = clientVertx.createWebSocketClient(new WebSocketClientOptions().setLocalAddress("127.0.0.2"));
    WsTestClient c = WsTestClient.open(other, server.port());
    c.subscribe("YFI.trade");
    try (KafkaProducer<String, String> producer = OdinTopics.producer(kafka.bootstrap())) {
      producer.send(new ProducerRecord<>(OdinTopics.TRADES, "YFI", "{\"ok\":true}"));
    }
    Await.until("the other address receives data", Duration.ofSeconds(20), () -> c.data().size() == 1);
    String metrics = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + "/metrics")).build(),
        HttpResponse.BodyHandlers.ofString()).body();
    assertTrue(metrics.contains("ws_connection_rate_limited_total{type=\"ip\"} " + limited + ".0"), "refusals counted by reason");
  }

  @Test
  void anOriginOutsideTheAllowListGets403() throws Exception {
    server = ServerHarness.start(kafka, new JsonObject().put("shards", 1)
        .put("admission", new JsonObject().put("allowedOrigins", List.of("https://app.example.com"))));
    WebSocketClient client = clientVertx.createWebSocketClient();
    WebSocketConnectOptions bad = new WebSocketConnectOptions().setPort(server.port()).setHost("127.0.0.1").setURI("/ws")
        .addHeader("Origin", "https://evil.example.com");
    try {
      client.connect(bad).await(10, TimeUnit.SECONDS);
      throw new AssertionError("a foreign origin was admitted");
    } catch (UpgradeRejectedException e) {
      assertEquals(403, e.getStatus());
    }
    WebSocketConnectOptions good = new WebSocketConnectOptions().setPort(server.port()).setHost("127.0.0.1").setURI("/ws")
        .addHeader("Origin", "https://app.example.com");
    client.connect(good).await(10, TimeUnit.SECONDS).close();
  }

  @Test
  void theResourceGuardRefusesUpgradesWith503ButNotTheProbes() throws Exception {
    // A heap threshold no running JVM stays under: the guard trips at its first sample.
    server = ServerHarness.start(kafka, new JsonObject().put("shards", 1)
        .put("admission", new JsonObject().put("heapRejectPercent", 0.01)));
    WebSocketClient client = clientVertx.createWebSocketClient();
    int[] status = new int[1];
    Await.until("the guard refuses an upgrade", Duration.ofSeconds(10), () -> {
      try {
        client.connect(server.port(), "127.0.0.1", "/ws").await(30, TimeUnit.SECONDS).close();
        return false;
      } catch (UpgradeRejectedException e) {
        status[0] = e.getStatus();
        assertEquals("Server overloaded\n", e.getBody().toString());
        return true;
      } catch (Exception e) {
        throw new AssertionError(e);
      }
    });
    assertEquals(503, status[0]);
    HttpResponse<String> health = HttpClient.newHttpClient().send(
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + "/health")).build(), HttpResponse.BodyHandlers.ofString());
    assertEquals(200, health.statusCode(), "probes are still served");
  }
}
