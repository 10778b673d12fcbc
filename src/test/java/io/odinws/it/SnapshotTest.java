package io.odinws.it;

import io.odinws.testkit.Await;
import io.odinws.testkit.EmbeddedKafka;
import io.odinws.testkit.KafkaBrokerExtension;
import io.odinws.testkit.OdinTopics;
import io.odinws.testkit.Paced;
import io.vertx.core.Vertx;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static io.odinws.it.AuthWs.claims;
import static io.odinws.it.AuthWs.hs256;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Snapshot on subscribe (issue 18 point 1; PROTOCOL.md section 6): the last N messages of each exact channel
 * before live, from memory or from Kafka, with no gap and no duplicate between them, against what Kafka holds.
 * The class's own single-partition topics, authentication optional with a private balances topic.
 */
@ExtendWith(KafkaBrokerExtension.class)
class SnapshotTest {

  private static final int MAX = 50;
  private static final Duration WITHIN = Duration.ofSeconds(30);

  private static EmbeddedKafka kafka;
  private static AuthWs.Topics topics;
  private static JsonObject conf;
  private static ServerHarness server;
  private static Vertx vertx;
  private static WebSocketClient ws;
  private static KafkaProducer<String, String> producer;

  @BeforeAll
  static void start(EmbeddedKafka broker, @TempDir Path dir) throws Exception {
    kafka = broker;
    topics = AuthWs.Topics.create(kafka);
    Path secret = Files.write(dir.resolve("secret"), AuthWs.SECRET);
    conf = new JsonObject().put("shards", 2).put("kafka", topics.kafka())
        .put("auth", new JsonObject().put("mode", "optional").put("hmacSecretFile", secret.toString())
            .put("privateTopics", topics.privateTopics()))
        .put("recovery", new JsonObject().put("maxSnapshotMessages", MAX));
    server = ServerHarness.start(kafka, conf);
    vertx = Vertx.vertx();
    ws = vertx.createWebSocketClient();
    producer = OdinTopics.producer(kafka.bootstrap());
  }

  @AfterAll
  static void stop() throws Exception {
    if (producer != null) {
      producer.close();
    }
    if (vertx != null) {
      vertx.close().await(30, TimeUnit.SECONDS);
    }
    if (server != null) {
      server.close();
    }
  }

  @Test
  void fromMemoryTheLastNThenEveryLiveMessageOnceWhileRecordsArrive() throws Exception {
    String channel = "SM.trade";
    produceAndAwait(server, topics.trades(), "SM", 30);
    long reads = server.server.replayReader().reads();
    try (Paced traffic = liveTraffic(topics.trades(), "SM"); AuthWs.Client c = AuthWs.Client.open(ws, server.port())) {
      JsonObject ack = subscribe(c, new JsonObject().put("channels", List.of(channel)).put("snapshot", 10));
      Await.until("live messages after the snapshot", WITHIN, () -> live(c, channel) >= 20);
      traffic.close();
      assertSnapshotThenLive(c, channel, topics.trades(), ack, 10);
    }
    assertEquals(reads, server.server.replayReader().reads(), "no Kafka read: the history had them");
  }

  @Test
  void fromKafkaOnAFreshServerAndForAPrivateChannelOnlyTheOwnersRecords() throws Exception {
    String channel = "SK.trade";
    for (int i = 0; i < 40; i++) {
      producer.send(new ProducerRecord<>(topics.trades(), "SK", AuthWs.trade("sk-" + i)));
    }
    // alice's and bob's balances, alternating: alice has 4
    for (int i = 0; i < 8; i++) {
      producer.send(new ProducerRecord<>(topics.balances(), "SPK", AuthWs.balance(i % 2 == 0 ? "alice" : "bob", "spk-" + i)));
    }
    producer.flush();
    try (ServerHarness fresh = ServerHarness.start(kafka, conf)) {
      try (Paced traffic = liveTraffic(topics.trades(), "SK");
           AuthWs.Client c = AuthWs.Client.bearer(ws, fresh.port(), hs256(claims("alice", 600, null)))) {
        JsonObject ack = subscribe(c, new JsonObject().put("channels", List.of(channel, "SPK.balances")).put("snapshot", 15));
        Await.until("live messages after the snapshot", WITHIN, () -> live(c, channel) >= 20);
        traffic.close();
        assertSnapshotThenLive(c, channel, topics.trades(), ack, 15);
        assertTrue(fresh.server.replayReader().reads() > 0, "read from Kafka: the fresh server's history has none of them");

        JsonObject balances = snapshotAck(c).getJsonObject("channels").getJsonObject("SPK.balances");
        assertEquals(4, balances.getInteger("sent"), balances.encode());
        assertNull(balances.getString("error"), balances.encode());
        List<JsonObject> got = c.data("SPK.balances");
        assertEquals(List.of("alice", "alice", "alice", "alice"), got.stream().map(m -> m.getJsonObject("data").getJsonObject("data").getString("user")).toList());
        assertEquals(List.of("spk-0", "spk-2", "spk-4", "spk-6"),
            got.stream().map(m -> m.getJsonObject("data").getJsonObject("data").getString("change")).toList());
        assertTrue(got.stream().allMatch(m -> "snapshot:message".equals(m.getString("type"))));
      }
    }
  }

  @Test
  void aChannelWithFewerGetsThemAndOneWithNoneGetsItsPosition() throws Exception {
    produceAndAwait(server, topics.trades(), "SF", 3);
    try (AuthWs.Client c = AuthWs.Client.open(ws, server.port())) {
      JsonObject subAck = subscribe(c, new JsonObject().put("channels", List.of("SF.trade", "SNONE.trade")).put("snapshot", 10));
      JsonObject channels = snapshotAck(c).getJsonObject("channels");
      List<Long> truth = KafkaTruth.offsets(kafka.bootstrap(), topics.trades(), 0, 0, "SF");
      assertEquals(3, truth.size());
      assertEquals(new JsonObject().put("requested", 10).put("sent", 3).put("position", "0:" + truth.get(2)), channels.getJsonObject("SF.trade"));
      assertEquals(new JsonObject().put("requested", 10).put("sent", 0)
          .put("position", subAck.getJsonObject("positions").getString("SNONE.trade")), channels.getJsonObject("SNONE.trade"));
      assertEquals(truth, c.data("SF.trade").stream().map(m -> m.getLong("seq")).toList());
      assertTrue(c.data("SNONE.trade").isEmpty());
    }
  }

  @Test
  void anAskOverTheMaximumIsClampedToIt() throws Exception {
    produceAndAwait(server, topics.trades(), "SC", MAX + 10);
    String before = AuthWs.metrics(server);
    try (AuthWs.Client c = AuthWs.Client.open(ws, server.port())) {
      subscribe(c, new JsonObject().put("channels", List.of("SC.trade")).put("snapshot", 1000));
      JsonObject channel = snapshotAck(c).getJsonObject("channels").getJsonObject("SC.trade");
      assertEquals(1000, channel.getInteger("requested"));
      assertEquals(MAX, channel.getInteger("sent"));
      assertEquals("snapshot limit reached", channel.getString("error"));
      List<Long> truth = KafkaTruth.offsets(kafka.bootstrap(), topics.trades(), 0, 0, "SC");
      assertEquals(truth.subList(truth.size() - MAX, truth.size()), c.data("SC.trade").stream().map(m -> m.getLong("seq")).toList());
      assertEquals(MAX, AuthWs.delta(before, AuthWs.metrics(server), "ws_snapshot_messages_total", null));
    }
  }

  @Test
  void aMalformedSnapshotIsAnErrorAndSubscribesNothing() throws Exception {
    try (AuthWs.Client c = AuthWs.Client.open(ws, server.port())) {
      for (Object bad : new Object[] {"10", -1, 2.5, true, new JsonObject(), new JsonArray()}) {
        JsonObject error = c.request(new JsonObject().put("type", "subscribe")
            .put("data", new JsonObject().put("channels", List.of("SX.trade")).put("snapshot", bad)).encode(), "error");
        assertEquals("INVALID_MESSAGE", error.getString("code"), String.valueOf(bad));
        assertEquals("Malformed data for 'subscribe': \"snapshot\" must be a whole number from 0 to " + MAX, error.getString("message"));
      }
      JsonObject unsub = c.request("{\"type\":\"unsubscribe\",\"data\":{\"channels\":[\"SX.trade\"]}}", "unsubscription_ack");
      assertEquals(0, unsub.getInteger("count"), "nothing was subscribed");
    }
  }

  @Test
  void withLastOffsetTheRecoveredChannelGetsNoSnapshotAndWildcardsAreListed() throws Exception {
    produceAndAwait(server, topics.trades(), "SL", 5);
    produceAndAwait(server, topics.trades(), "SR", 5);
    List<Long> sl = KafkaTruth.offsets(kafka.bootstrap(), topics.trades(), 0, 0, "SL");
    List<Long> sr = KafkaTruth.offsets(kafka.bootstrap(), topics.trades(), 0, 0, "SR");
    try (AuthWs.Client c = AuthWs.Client.open(ws, server.port())) {
      int from = c.received.size();
      c.send(new JsonObject().put("type", "subscribe").put("data", new JsonObject()
          .put("channels", List.of("SL.trade", "SR.trade", "SL.*")).put("snapshot", 4)
          .put("last_offset", new JsonObject().put("SL.trade", "0:" + sl.get(2)))).encode());
      JsonObject snapshotAck = c.await(from, m -> "snapshot_ack".equals(m.getString("type")), "snapshot_ack");
      JsonObject channels = snapshotAck.getJsonObject("channels");
      assertEquals(2, channels.size(), channels.encode());
      assertEquals(4, channels.getJsonObject("SR.trade").getInteger("sent"));
      assertEquals(new JsonObject().put("requested", 4).put("sent", 0).put("error", "only exact channels have a snapshot"),
          channels.getJsonObject("SL.*"));
      List<String> order = c.received.subList(from, c.received.size()).stream()
          .map(m -> m.containsKey("seq") ? m.getString("type") + "@" + m.getString("channel") + "@" + m.getLong("seq") : m.getString("type"))
          .toList();
      List<String> expected = new ArrayList<>();
      expected.add("subscription_ack");
      expected.add("replay:message@SL.trade@" + sl.get(3));
      expected.add("replay:message@SL.trade@" + sl.get(4));
      expected.add("reconnect_ack");
      sr.subList(1, 5).forEach(o -> expected.add("snapshot:message@SR.trade@" + o));
      expected.add("snapshot_ack");
      assertEquals(expected, order.subList(0, Math.min(order.size(), expected.size())));
      JsonObject reconnectAck = c.received.stream().filter(m -> "reconnect_ack".equals(m.getString("type"))).findFirst().orElseThrow();
      assertTrue(reconnectAck.getBoolean("recovered"), reconnectAck.encode());
    }
  }

  @Test
  void askedOnTheUpgradeTheSameAnswerWithoutAMessage() throws Exception {
    String channel = "SU.trade";
    produceAndAwait(server, topics.trades(), "SU", 12);
    try (Paced traffic = liveTraffic(topics.trades(), "SU");
         AuthWs.Client c = AuthWs.Client.open(ws, server.port(), "/ws?subscribe=" + channel + "&snapshot=5", null)) {
      JsonObject ack = c.await(0, m -> "subscription_ack".equals(m.getString("type")), "the upgrade's subscription_ack");
      Await.until("live messages after the snapshot", WITHIN, () -> live(c, channel) >= 10);
      traffic.close();
      assertSnapshotThenLive(c, channel, topics.trades(), ack, 5);
      assertEquals(ack, c.received.get(0), "the ack is the first thing the client reads");
    }
  }

  // ---- helpers -------------------------------------------------------------------------------

  /** Sends a subscribe and returns its subscription_ack. */
  private static JsonObject subscribe(AuthWs.Client c, JsonObject data) {
    return c.request(new JsonObject().put("type", "subscribe").put("data", data).encode(), "subscription_ack");
  }

  private static JsonObject snapshotAck(AuthWs.Client c) {
    return c.await(0, m -> "snapshot_ack".equals(m.getString("type")), "snapshot_ack");
  }

  private static long live(AuthWs.Client c, String channel) {
    return c.data(channel).stream().filter(m -> "price:update".equals(m.getString("type"))).count();
  }

  /**
   * On the wire, for {@code channel}: its subscription_ack, exactly its last {@code n} messages at or before the
   * ack's position as snapshot:message, the snapshot_ack naming them, then as live every later record of the
   * channel in Kafka, each once, in order.
   */
  private static void assertSnapshotThenLive(AuthWs.Client c, String channel, String topic, JsonObject subAck, int n) {
    producer.flush();
    String token = channel.substring(0, channel.indexOf('.'));
    List<Long> truth = KafkaTruth.offsets(kafka.bootstrap(), topic, 0, 0, token);
    long switchAt = KafkaTruth.pos(subAck.getJsonObject("positions").getString(channel)).getValue();
    int before = (int) truth.stream().filter(o -> o <= switchAt).count();
    assertTrue(before >= n, "the test produced at least " + n + " before subscribing: " + before);
    List<Long> expected = truth.subList(before - n, truth.size());
    Await.until(channel + ": every record up to Kafka's end", WITHIN, () -> c.data(channel).size() >= expected.size(),
        () -> c.data(channel).size() + " of " + expected.size());
    List<JsonObject> got = c.data(channel);
    assertEquals(expected, got.stream().map(m -> m.getLong("seq")).toList(), channel + ": the last " + n + " then every later one once");
    for (int i = 0; i < got.size(); i++) {
      assertEquals(i < n ? "snapshot:message" : "price:update", got.get(i).getString("type"), channel + " message " + i);
      assertEquals(i < n ? 2 : 1, got.get(i).getInteger("priority"));
    }
    JsonObject snapshotAck = snapshotAck(c);
    JsonObject result = snapshotAck.getJsonObject("channels").getJsonObject(channel);
    assertEquals(n, result.getInteger("sent"), snapshotAck.encode());
    assertNull(result.getString("error"), snapshotAck.encode());
    assertEquals(got.get(n - 1).getString("pos"), result.getString("position"));
    // the ack after the channel's snapshot messages and before its live ones
    int ackAt = c.received.indexOf(snapshotAck);
    assertTrue(c.received.indexOf(got.get(n - 1)) < ackAt && ackAt < c.received.indexOf(got.get(n)), "snapshot, snapshot_ack, live");
    assertTrue(c.received.indexOf(subAck) < c.received.indexOf(got.get(0)));
  }

  /** Produces {@code count} records of {@code key} and waits until the server has polled them (so they are in its history). */
  private static void produceAndAwait(ServerHarness s, String topic, String key, int count) throws Exception {
    long before = s.server.ingest().received();
    for (int i = 0; i < count; i++) {
      producer.send(new ProducerRecord<>(topic, key, AuthWs.trade(key + "-" + i)));
    }
    producer.flush();
    Await.until("the server polled " + key + "'s records", WITHIN, () -> s.server.ingest().received() - before >= count);
  }

  private static Paced liveTraffic(String topic, String key) {
    return Paced.every(Duration.ofMillis(10), "live-traffic",
        i -> producer.send(new ProducerRecord<>(topic, key, AuthWs.trade(key + "-live-" + i))));
  }
}
