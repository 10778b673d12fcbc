package io.odinws.it;

import io.odinws.envelope.SkipReason;
import io.odinws.shard.TestIdentities;
import io.odinws.testkit.Await;
import io.odinws.testkit.EmbeddedKafka;
import io.odinws.testkit.KafkaBrokerExtension;
import io.odinws.testkit.OdinTopics;
import io.vertx.core.Vertx;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Private categories over real Kafka and real sockets (issue 15, points 3 and 4): balance and transfer
 * records reach only their owners' connections, live through exact, category and token wildcard
 * subscriptions, on a replay from the server's memory, and on a replay read from Kafka after a restart.
 * Identities are set on the server's connections directly (TestIdentities), not by a token: this test is
 * about what happens downstream of authentication.
 */
@ExtendWith({KafkaBrokerExtension.class, VertxExtension.class})
class PrivateDeliveryTest {

  private static final String ALICE = "0xalice";
  private static final String BOB = "0xbob";

  private static String balance(String user) {
    return "{\"type\":\"BALANCE_UPDATED\",\"timestamp\":1732000000000,\"data\":{\"user\":\"" + user + "\",\"balance\":\"10\",\"change\":\"1\"}}";
  }

  private static String transfer(String from, String to) {
    return "{\"type\":\"TRANSFER_COMPLETED\",\"timestamp\":1732000000000,\"data\":{\"from\":\"" + from + "\",\"to\":\"" + to
        + "\",\"amount\":\"3\",\"txHash\":\"0xabc\"}}";
  }

  private static JsonObject overrides(String balances, String trades, Path secret) {
    return new JsonObject()
        .put("shards", 2)
        .put("kafka", new JsonObject().put("topics", new JsonObject().put(balances, "balances").put(trades, "trade")))
        .put("auth", new JsonObject().put("mode", "optional").put("hmacSecretFile", secret.toString())
            .put("privateTopics", new JsonObject().put(balances, List.of("/data/user", "/data/from", "/data/to"))));
  }

  private static List<Long> seqs(WsTestClient c, String type) {
    return c.data().stream().filter(r -> r.type().equals(type)).map(r -> r.json().getLong("seq")).toList();
  }

  private static List<String> channels(WsTestClient c) {
    return c.data().stream().map(r -> r.json().getString("channel")).toList();
  }

  private static WsTestClient as(ServerHarness server, WebSocketClient ws, String subject) throws Exception {
    WsTestClient c = WsTestClient.open(ws, server.port());
    if (subject != null) {
      TestIdentities.authenticate(server.server.shardVerticles(), c.localPort(), subject);
    }
    return c;
  }

  private static String reconnect(String channel, String position) {
    return new JsonObject().put("type", "reconnect").put("data", new JsonObject().put("client_id", "c")
        .put("last_offset", new JsonObject().put(channel, position))).encode();
  }

  private static long privateDeliveries(ServerHarness server) {
    return server.slots().stream().mapToLong(s -> s.stats().privateDeliveries()).sum();
  }

  @Test
  void balancesAndTransfersReachOnlyTheirOwnersLiveAndOnReplays(EmbeddedKafka kafka, Vertx vertx, @TempDir Path dir) throws Exception {
    String suffix = UUID.randomUUID().toString().substring(0, 8);
    String balances = "private.balances." + suffix;
    String trades = "private.trades." + suffix;
    kafka.createTopics(Map.of(balances, 1, trades, 1));
    Path secret = Files.writeString(dir.resolve("secret"), "a-test-secret-of-at-least-32-bytes-long");
    WebSocketClient ws = vertx.createWebSocketClient();

    try (ServerHarness server = ServerHarness.start(kafka, overrides(balances, trades, secret))) {
      WsTestClient alice = as(server, ws, ALICE);
      WsTestClient bob = as(server, ws, BOB);
      WsTestClient anonymous = as(server, ws, null);
      alice.subscribe("BTC.balances", "*.balances", "BTC.*");
      bob.subscribe("*.balances");
      anonymous.subscribe("BTC.*", "*.trade");

      // partition 0 of the balances topic, offsets 0..5
      try (KafkaProducer<String, String> producer = OdinTopics.producer(kafka.bootstrap())) {
        for (String[] r : new String[][] {
            {"BTC", balance(ALICE)},          // 0
            {"BTC", balance(ALICE)},          // 1
            {"ETH", transfer(ALICE, BOB)},    // 2
            {"BTC", "{\"type\":\"BALANCE_UPDATED\",\"data\":{\"balance\":\"1\"}}"}, // 3: no owner, skipped
            {"BTC", balance(BOB)},            // 4
            {"BTC", transfer(BOB, ALICE)}}) { // 5
          producer.send(new ProducerRecord<>(balances, 0, r[0], r[1])).get(30, TimeUnit.SECONDS);
        }
        producer.send(new ProducerRecord<>(trades, 0, "BTC", "{\"price\":1}")).get(30, TimeUnit.SECONDS);
      }
      // nine deliveries made and received: with the server's count exactly nine, what each client has is all it gets
      Await.until("the deliveries", Duration.ofSeconds(30),
          () -> server.messagesSent() >= 9 && alice.dataCount() + bob.dataCount() + anonymous.dataCount() >= 9,
          () -> "alice " + channels(alice) + " bob " + channels(bob) + " anonymous " + channels(anonymous));
      assertEquals(1, server.server.ingest().skipped(SkipReason.NO_OWNER));
      assertEquals(List.of(0L, 1L, 2L, 5L), alice.data().stream().filter(r -> r.json().getString("channel").endsWith("balances"))
          .map(r -> r.json().getLong("seq")).toList(), "alice: her balances once each, both transfers she is a party to");
      assertEquals(5, alice.dataCount(), "and the public trade: " + channels(alice));
      assertEquals(List.of(2L, 4L, 5L), seqs(bob, "price:update"), "bob: the transfers and his balance, nothing else: " + channels(bob));
      assertEquals(List.of("BTC.trade"), channels(anonymous), "anonymous: the public record only");
      assertEquals(9, server.messagesSent());
      assertEquals(7, privateDeliveries(server));

      // a replay from the server's memory
      WsTestClient alice2 = as(server, ws, ALICE);
      JsonObject ack = alice2.request(reconnect("BTC.balances", "0:0"), "reconnect_ack");
      assertTrue(ack.getJsonObject("channels").getJsonObject("BTC.balances").getBoolean("recovered"), ack.encode());
      assertEquals(List.of(1L, 5L), alice2.data().stream().map(r -> r.json().getLong("seq")).toList(), "alice's BTC records after 0");
      WsTestClient stranger = as(server, ws, "0xcarol");
      stranger.request(reconnect("BTC.balances", "0:0"), "reconnect_ack");
      assertEquals(0, stranger.dataCount(), "nothing of alice's or bob's");
    }

    // a new server: its memory starts at the end, so the same replay is read from Kafka
    try (ServerHarness server = ServerHarness.start(kafka, overrides(balances, trades, secret))) {
      WsTestClient bob = as(server, ws, BOB);
      JsonObject ack = bob.request(reconnect("BTC.balances", "0:0"), "reconnect_ack");
      assertTrue(ack.getJsonObject("channels").getJsonObject("BTC.balances").getBoolean("recovered"), ack.encode());
      assertEquals(List.of(4L, 5L), bob.data().stream().map(r -> r.json().getLong("seq")).toList(), "bob's BTC records after 0, from Kafka");
      assertEquals(2, privateDeliveries(server));
      WsTestClient stranger = as(server, ws, "0xcarol");
      stranger.request(reconnect("BTC.balances", "0:0"), "reconnect_ack");
      assertEquals(0, stranger.dataCount());
    }
  }
}
