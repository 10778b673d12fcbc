package io.odinws.it;

import io.netty.channel.Channel;
import io.odinws.testkit.Await;
import io.odinws.testkit.EmbeddedKafka;
import io.odinws.testkit.KafkaBrokerExtension;
import io.odinws.testkit.OdinTopics;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.UpgradeRejectedException;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketClientOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The router: least-connections over the shards, counted at accept, and 503 when all are full. */
@ExtendWith({KafkaBrokerExtension.class, VertxExtension.class})
class RouterBalancingTest {

  private static EmbeddedKafka kafka;
  private ServerHarness server;
  private Vertx clientVertx;
  private WebSocketClient wsClient;
  private final List<WsTestClient> clients = new ArrayList<>();

  @BeforeAll
  static void topics(EmbeddedKafka broker) {
    kafka = broker;
    OdinTopics.createAll(kafka);
  }

  @BeforeEach
  void clientSide(Vertx vertx) {
    clientVertx = vertx; // the test's own: VertxExtension closes it after the test
    wsClient = clientVertx.createWebSocketClient(new WebSocketClientOptions().setMaxConnections(1000));
  }

  @AfterEach
  void stop() throws Exception {
    if (server != null) {
      server.close();
    }
  }

  @Test
  void sequentialRefillAndBurstConnectionsSpreadEvenly() throws Exception {
    server = ServerHarness.start(kafka, new JsonObject().put("mode", "multi").put("shards", 3).put("maxConnections", 300));

    for (int i = 0; i < 30; i++) {
      clients.add(WsTestClient.open(wsClient, server.port()));
    }
    assertEquals("[10, 10, 10]", Arrays.toString(server.connectionsPerShard()));

    // Close six of shard 1's clients: the next six connections must all land on shard 1.
    Set<Integer> shard1Ports = remotePorts(1);
    List<WsTestClient> onShard1 = clients.stream().filter(c -> shard1Ports.contains(c.localPort())).limit(6).toList();
    assertEquals(6, onShard1.size());
    onShard1.forEach(WsTestClient::close);
    clients.removeAll(onShard1);
    Await.until("the server to see six closes on shard 1", Duration.ofSeconds(10),
        () -> Arrays.equals(new int[] {10, 4, 10}, server.connectionsPerShard()), () -> Arrays.toString(server.connectionsPerShard()));
    Set<Integer> before = remotePorts(1);
    List<WsTestClient> refill = new ArrayList<>();
    for (int i = 0; i < 6; i++) {
      refill.add(WsTestClient.open(wsClient, server.port()));
    }
    clients.addAll(refill);
    assertEquals("[10, 10, 10]", Arrays.toString(server.connectionsPerShard()));
    Set<Integer> after = remotePorts(1);
    after.removeAll(before);
    Set<Integer> refillPorts = new HashSet<>();
    refill.forEach(c -> refillPorts.add(c.localPort()));
    assertEquals(refillPorts, after, "all six refills on the emptied shard");

    // A burst of 60 concurrent handshakes from empty ends within one of even.
    clients.forEach(WsTestClient::close);
    clients.clear();
    Await.until("all sockets closed", Duration.ofSeconds(10), () -> Arrays.stream(server.connectionsPerShard()).sum() == 0);
    List<Future<WsTestClient>> burst = new ArrayList<>();
    for (int i = 0; i < 60; i++) {
      burst.add(WsTestClient.connect(wsClient, server.port()));
    }
    for (Future<WsTestClient> f : burst) {
      clients.add(f.await(20, TimeUnit.SECONDS));
    }
    int[] counts = server.connectionsPerShard();
    assertEquals(60, Arrays.stream(counts).sum());
    for (int n : counts) {
      assertTrue(Math.abs(n - 20) <= 1, "burst spread within ±1: " + Arrays.toString(counts));
    }
  }

  @Test
  void whenEveryShardIsFullTheNextHandshakeGets503AndTheOthersKeepReceiving() throws Exception {
    server = ServerHarness.start(kafka, new JsonObject().put("mode", "multi").put("shards", 3).put("maxConnections", 6));
    for (int i = 0; i < 6; i++) {
      WsTestClient c = WsTestClient.open(wsClient, server.port());
      c.subscribe("ODIN.trade");
      clients.add(c);
    }
    assertEquals("[2, 2, 2]", Arrays.toString(server.connectionsPerShard()));

    UpgradeRejectedException rejection = assertThrows(UpgradeRejectedException.class,
        () -> WsTestClient.connect(wsClient, server.port()).await(30, TimeUnit.SECONDS));
    assertEquals(503, rejection.getStatus());
    assertEquals("5", rejection.getHeaders().get("Retry-After"));
    assertEquals("Server overloaded\n", rejection.getBody().toString());

    // The probe is still answered when full, and says so.
    HttpResponse<String> health = HttpClient.newHttpClient().send(
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + "/health")).build(), HttpResponse.BodyHandlers.ofString());
    JsonObject h = new JsonObject(health.body());
    assertEquals(6, h.getJsonObject("checks").getJsonObject("capacity").getInteger("max"));
    assertEquals("degraded", h.getString("status"));

    try (KafkaProducer<String, String> producer = OdinTopics.producer(kafka.bootstrap())) {
      for (int i = 0; i < 5; i++) {
        producer.send(new ProducerRecord<>(OdinTopics.TRADES, "ODIN", "{\"type\":\"TRADE_EXECUTED\",\"i\":" + i + "}"));
      }
    }
    Await.until("the six admitted clients receive all five", Duration.ofSeconds(20),
        () -> clients.stream().allMatch(c -> c.data().size() == 5));
  }

  private Set<Integer> remotePorts(int shardId) throws Exception {
    Set<Integer> ports = new HashSet<>();
    for (Channel ch : server.server.shardVerticles().stream().filter(s -> s.id() == shardId).findFirst().orElseThrow()
        .channels().await(30, TimeUnit.SECONDS)) {
      ports.add(((InetSocketAddress) ch.remoteAddress()).getPort());
    }
    return ports;
  }
}
