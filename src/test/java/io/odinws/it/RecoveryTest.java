package io.odinws.it;

import io.odinws.testkit.Await;
import io.odinws.testkit.EmbeddedKafka;
import io.odinws.testkit.KafkaBrokerExtension;
import io.odinws.testkit.OdinTopics;
import io.odinws.testkit.Paced;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketClientOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.RecordsToDelete;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Recovery (PROTOCOL.md section 6): exactly what was missed, in order, no duplicates, or a precise recovered:false. */
@ExtendWith({KafkaBrokerExtension.class, VertxExtension.class})
class RecoveryTest {

  private static EmbeddedKafka kafka;
  private static ServerHarness server;
  private static Vertx clientVertx;
  private static WebSocketClient ws;
  private static KafkaProducer<String, String> producer;
  /** Per channel, produced while the 2,000 clients of the storm test were away. */
  private static final int MISSED_IN_STORM = 25;
  private static final Map<String, List<Long>> TRUTH = new java.util.concurrent.ConcurrentHashMap<>();

  @BeforeAll
  @Timeout(value = 120, timeUnit = TimeUnit.SECONDS)
  static void start(EmbeddedKafka broker, Vertx vertx, VertxTestContext ctx) {
    kafka = broker;
    OdinTopics.createAll(kafka);
    ServerHarness.deploy(kafka, new JsonObject().put("shards", 2)
        .put("limits", new JsonObject().put("outboundHighWaterBytes", 256 * 1024).put("slowClientGraceMs", 1000)))
        .onComplete(ctx.succeeding(h -> {
          server = h;
          ctx.completeNow();
        }));
    clientVertx = vertx; // VertxExtension closes it after the class
    ws = clientVertx.createWebSocketClient(new WebSocketClientOptions().setMaxConnections(5000)
        .setMaxFrameSize(1 << 20).setMaxMessageSize(1 << 20));
    producer = OdinTopics.producer(kafka.bootstrap());
  }

  @AfterAll
  static void stop(VertxTestContext ctx) {
    producer.close();
    ServerHarness.stop(server).onComplete(ctx.succeedingThenComplete());
  }

  @Test
  void aReconnectReplaysExactlyWhatWasMissedInOrderWhileLiveTrafficContinues() throws Exception {
    List<String> tokens = List.of("RA", "RB", "RC", "RD", "RE");
    WsTestClient first = WsTestClient.open(ws, server.port());
    first.subscribe(channels(tokens));
    produce(tokens, 10, "before");
    Await.until("the first connection's messages", Duration.ofSeconds(20), () -> first.dataCount() == 50);
    Map<String, String> positions = lastPositions(first);
    first.close();

    long before = server.server.ingest().received();
    produce(tokens, 100, "missed"); // 500 while disconnected
    // The server has them before the reconnect, so they come back as replay, not late as live.
    Await.until("the server polled the missed records", Duration.ofSeconds(30), () -> server.server.ingest().received() - before >= 500);
    Paced traffic = liveTraffic(tokens);
    WsTestClient second = WsTestClient.open(ws, server.port());
    JsonObject ack = second.request(reconnect(positions), "reconnect_ack");
    Await.until("live messages after the switch to live", Duration.ofSeconds(20),
        () -> second.data().stream().filter(r -> "price:update".equals(r.json().getString("type"))).count() >= 25);
    traffic.close();
    producer.flush();

    assertTrue(ack.getBoolean("recovered"), ack.encode());
    int replayed = 0;
    for (String token : tokens) {
      String channel = token + ".trade";
      assertTrue(ack.getJsonObject("channels").getJsonObject(channel).getBoolean("recovered"));
      replayed += assertExactlyAfter(second, channel, positions.get(channel));
    }
    assertEquals(ack.getInteger("messages_replayed"), replayed);
    assertTrue(replayed >= 500, "the 500 missed, at least: " + replayed);
    second.close();
  }

  @Test
  void aSlowClientClosedWith1008RecoversWhatItMissed() throws Exception {
    String channel = "SLOWR.trade";
    String pad = "x".repeat(8000);
    int lastReadOffset;
    String lastPos = null;
    try (RawWsClient slow = RawWsClient.connect(server.port(), 4096)) {
      slow.sendText("{\"type\":\"subscribe\",\"data\":{\"channels\":[\"" + channel + "\"]}}");
      slow.readUntil(0x1);
      long closedBefore = server.slots().stream().mapToLong(s -> s.stats().slowClientsClosed()).sum();
      for (int i = 0; i < 750; i++) {
        producer.send(new ProducerRecord<>(OdinTopics.TRADES, "SLOWR", "{\"i\":" + i + ",\"pad\":\"" + pad + "\"}"));
      }
      producer.flush();
      Await.until("the server closes the slow client", Duration.ofSeconds(30),
          () -> server.slots().stream().mapToLong(s -> s.stats().slowClientsClosed()).sum() > closedBefore);
      // Now it reads what reached it, up to the close frame.
      for (RawWsClient.Frame f = slow.read(); f != null && f.opcode() != 0x8; f = slow.read()) {
        if (f.opcode() == 0x1) {
          lastPos = new JsonObject(f.text()).getString("pos");
        }
      }
    } catch (java.net.SocketException closed) {
      // reset after the close: what was read is what counts
    }
    assertTrue(lastPos != null, "the slow client read something before it was closed");
    // Its close frame came after everything queued for it: what it missed is what came after.
    long receivedBefore = server.server.ingest().received();
    for (int i = 750; i < 800; i++) {
      producer.send(new ProducerRecord<>(OdinTopics.TRADES, "SLOWR", "{\"i\":" + i + ",\"pad\":\"after\"}"));
    }
    producer.flush();
    // In the server's history before the reconnect, so that they come back as replayed, not live.
    Await.until("the server read the messages sent after the close", Duration.ofSeconds(20),
        () -> server.server.ingest().received() - receivedBefore >= 50);
    WsTestClient again = WsTestClient.open(ws, server.port());
    JsonObject ack = again.request(reconnect(Map.of(channel, lastPos)), "reconnect_ack");
    assertTrue(ack.getBoolean("recovered"), ack.encode());
    int replayed = assertExactlyAfter(again, channel, lastPos);
    assertTrue(replayed >= 50, "it had missed the messages after its close: " + replayed);
    again.close();
  }

  @Test
  void aFreshSecondInstanceRecoversFromKafka() throws Exception {
    List<String> tokens = List.of("XA", "XB");
    WsTestClient first = WsTestClient.open(ws, server.port());
    first.subscribe(channels(tokens));
    produce(tokens, 5, "before");
    Await.until("first messages", Duration.ofSeconds(20), () -> first.dataCount() == 10);
    Map<String, String> positions = lastPositions(first);
    first.close();
    produce(tokens, 150, "missed");
    producer.flush();
    try (ServerHarness other = ServerHarness.start(kafka, new JsonObject().put("shards", 1))) {
      WsTestClient c = WsTestClient.open(ws, other.port());
      // The ext form: subscribe with last_offset: ack, replay, reconnect_ack.
      JsonObject sub = new JsonObject().put("type", "subscribe").put("data", new JsonObject()
          .put("channels", channels(tokens)).put("last_offset", new JsonObject(new HashMap<>(positions))));
      int from = c.received.size();
      c.send(sub.encode());
      c.awaitMessage(from, m -> "subscription_ack".equals(m.type()), Duration.ofSeconds(10));
      JsonObject ack = c.awaitMessage(from, m -> "reconnect_ack".equals(m.type()), Duration.ofSeconds(30)).json();
      assertTrue(ack.getBoolean("recovered"), ack.encode());
      for (String token : tokens) {
        assertEquals(150, assertExactlyAfter(c, token + ".trade", positions.get(token + ".trade")));
      }
      assertTrue(other.server.replayReader().reads() > 0, "served from Kafka: the new instance had no history of them");
      c.close();
    }
  }

  @Test
  void positionsOlderThanRetentionOrBeyondTheEndAreNotRecovered() throws Exception {
    produce(List.of("OLDR"), 20, "old");
    producer.flush();
    String channel = "OLDR.trade";
    int partition = KafkaTruth.partitionOf("OLDR", OdinTopics.PARTITIONS);
    List<Long> offsets = KafkaTruth.offsets(kafka.bootstrap(), OdinTopics.TRADES, partition, 0, "OLDR");
    long firstOffset = offsets.get(0);
    // Retention, simulated: everything before the last record of the partition is deleted.
    try (Admin admin = kafka.createAdmin()) {
      TopicPartition tp = new TopicPartition(OdinTopics.TRADES, partition);
      long end = admin.listOffsets(Map.of(tp, org.apache.kafka.clients.admin.OffsetSpec.latest())).partitionResult(tp).get().offset();
      admin.deleteRecords(Map.of(tp, RecordsToDelete.beforeOffset(end - 1))).all().get(10, TimeUnit.SECONDS);
    }
    try (ServerHarness fresh = ServerHarness.start(kafka, new JsonObject().put("shards", 1))) {
      WsTestClient c = WsTestClient.open(fresh.port() > 0 ? ws : ws, fresh.port());
      JsonObject tooOld = c.request(reconnect(Map.of(channel, partition + ":" + (firstOffset - 1))), "reconnect_ack");
      JsonObject result = tooOld.getJsonObject("channels").getJsonObject(channel);
      assertFalse(result.getBoolean("recovered"), tooOld.encode());
      assertTrue(result.getString("error").contains("retention"), tooOld.encode());
      assertFalse(tooOld.getBoolean("recovered"));

      JsonObject beyond = c.request(reconnect(Map.of("BEYOND.trade", KafkaTruth.partitionOf("BEYOND", 12) + ":999999999")), "reconnect_ack");
      assertFalse(beyond.getJsonObject("channels").getJsonObject("BEYOND.trade").getBoolean("recovered"), beyond.encode());
      assertTrue(beyond.getJsonObject("channels").getJsonObject("BEYOND.trade").getString("error").contains("beyond"), beyond.encode());

      JsonObject unknown = c.request(reconnect(Map.of("UNK.trade", "99:5")), "reconnect_ack");
      assertFalse(unknown.getJsonObject("channels").getJsonObject("UNK.trade").getBoolean("recovered"));
      c.close();
    }
  }

  @Test
  void twoThousandClientsReconnectingAfterADrainAllRecoverWithFewKafkaReads() throws Exception {
    List<String> tokens = List.of("STA", "STB", "STC", "STD");
    int clientsCount = 2000;
    List<String> positionsOf = new ArrayList<>();
    try (ServerHarness a = ServerHarness.start(kafka, new JsonObject().put("shards", 2))) {
      List<WsTestClient> clients = connect(a.port(), clientsCount);
      // All subscribes at once, then their acks: one request at a time would wait out a poll per client.
      for (int i = 0; i < clientsCount; i++) {
        clients.get(i).send(WsTestClient.subscribeRequest(tokens.get(i % tokens.size()) + ".trade"));
      }
      Await.until("every client's subscription_ack", Duration.ofSeconds(60),
          () -> clients.stream().allMatch(c -> c.received.stream().anyMatch(r -> "subscription_ack".equals(r.type()))));
      // A position per client is all the storm needs: few messages before, and a missed stretch that every
      // client replays; the load under test is the number of clients reconnecting at once.
      produce(tokens, 5, "before");
      Await.until("every client has its messages", Duration.ofSeconds(60), () -> clients.stream().allMatch(c -> c.dataCount() == 5));
      for (WsTestClient c : clients) {
        positionsOf.add(c.data().get(c.dataCount() - 1).json().getString("pos"));
      }
      a.server.drain().await(20, TimeUnit.SECONDS);
      Await.until("every client got 1001", Duration.ofSeconds(20), () -> clients.stream().allMatch(c -> c.closeCode != null));
    }
    produce(tokens, MISSED_IN_STORM, "missed");
    producer.flush();
    try (ServerHarness b = ServerHarness.start(kafka, new JsonObject().put("shards", 2))) {
      List<WsTestClient> back = connect(b.port(), clientsCount);
      for (int i = 0; i < clientsCount; i++) {
        back.get(i).send(reconnect(Map.of(tokens.get(i % tokens.size()) + ".trade", positionsOf.get(i))));
      }
      Await.until("every client recovered", Duration.ofSeconds(120), () -> back.stream().allMatch(c -> c.dataCount() >= MISSED_IN_STORM
          && c.received.stream().anyMatch(r -> "reconnect_ack".equals(r.type()))));
      for (int i = 0; i < clientsCount; i++) {
        WsTestClient c = back.get(i);
        JsonObject ack = c.received.stream().filter(r -> "reconnect_ack".equals(r.type())).findFirst().orElseThrow().json();
        assertTrue(ack.getBoolean("recovered"), ack.encode());
        assertEquals(MISSED_IN_STORM, assertExactlyAfter(c, tokens.get(i % tokens.size()) + ".trade", positionsOf.get(i)));
      }
      long reads = b.server.replayReader().reads();
      long requests = b.server.replayReader().requests();
      System.out.println("reconnect storm: " + clientsCount + " reconnects, Kafka reads " + reads + " for " + requests + " requests");
      // Coalescing: requests that arrive while a read of their partition is in flight share the next read. How
      // many share one depends on how the requests and reads interleave on this machine, so the bound only says
      // that reads were shared at all, which without coalescing (one read per request) they never are.
      assertTrue(reads >= 1 && reads * 4 <= requests, "Kafka reads shared between requests: " + reads + " for " + requests);
      back.forEach(WsTestClient::close);
    }
  }

  @Test
  void recoveringAThousandChannelsAtOnceStaysWithinTheLimits() throws Exception {
    List<String> tokens = new ArrayList<>();
    for (int i = 0; i < 1000; i++) {
      tokens.add("K" + i);
    }
    try (ServerHarness limited = ServerHarness.start(kafka, new JsonObject().put("shards", 1)
        .put("recovery", new JsonObject().put("maxMessagesPerRequest", 500)))) {
      WsTestClient first = WsTestClient.open(ws, limited.port());
      first.subscribe(channels(tokens));
      produce(tokens, 1, "before");
      Await.until("one message per channel", Duration.ofSeconds(30), () -> first.dataCount() == 1000);
      Map<String, String> positions = lastPositions(first);
      first.close();
      produce(tokens, 2, "missed"); // 2,000 missed, 500 allowed
      producer.flush();
      Await.until("the server has them", Duration.ofSeconds(30), () -> limited.server.ingest().received() >= 3000);
      WsTestClient c = WsTestClient.open(ws, limited.port());
      JsonObject ack = c.request(reconnect(positions), "reconnect_ack");
      assertEquals(500, ack.getInteger("messages_replayed"));
      assertFalse(ack.getBoolean("recovered"));
      assertEquals(1000, ack.getJsonObject("channels").size(), "every channel is answered");
      long notRecovered = ack.getJsonObject("channels").stream().filter(e -> !((JsonObject) e.getValue()).getBoolean("recovered")).count();
      assertTrue(notRecovered >= 750, "channels beyond the limit are reported, not silently cut: " + notRecovered);
      assertEquals(500, c.data().stream().filter(r -> "replay:message".equals(r.json().getString("type"))).count());
      c.close();
    }
  }

  // ---- helpers -------------------------------------------------------------------------------

  /** Checks the channel's messages after {@code pos} on this connection are exactly Kafka's, in order; returns how many were replayed. */
  private static int assertExactlyAfter(WsTestClient c, String channel, String pos) {
    Map.Entry<Integer, Long> p = KafkaTruth.pos(pos);
    String token = channel.substring(0, channel.lastIndexOf('.'));
    // Many clients share a (channel, position): read Kafka once for each, after production stopped.
    List<Long> expected = TRUTH.computeIfAbsent(channel + "@" + pos,
        k -> KafkaTruth.offsets(kafka.bootstrap(), OdinTopics.TRADES, p.getKey(), p.getValue() + 1, token));
    Await.until(channel + ": every expected message", Duration.ofSeconds(30),
        () -> c.data().stream().filter(r -> channel.equals(r.json().getString("channel"))).count() >= expected.size(),
        () -> c.data().stream().filter(r -> channel.equals(r.json().getString("channel"))).count() + " of " + expected.size());
    List<WsTestClient.Received> got = c.data().stream().filter(r -> channel.equals(r.json().getString("channel"))).toList();
    List<Long> seqs = got.stream().map(r -> r.json().getLong("seq")).toList();
    assertEquals(expected, seqs, channel + ": exactly the messages after " + pos + ", in order, no duplicates");
    int replayed = 0;
    boolean live = false;
    for (WsTestClient.Received r : got) {
      if ("replay:message".equals(r.json().getString("type"))) {
        assertFalse(live, channel + ": a replayed message after live ones");
        assertEquals(2, r.json().getInteger("priority"));
        replayed++;
      } else {
        live = true;
      }
    }
    return replayed;
  }

  private static List<WsTestClient> connect(int port, int n) throws Exception {
    List<Future<WsTestClient>> opening = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      opening.add(WsTestClient.connect(ws, port));
    }
    List<WsTestClient> out = new ArrayList<>();
    for (Future<WsTestClient> f : opening) {
      out.add(f.await(60, TimeUnit.SECONDS));
    }
    return out;
  }

  private static String[] channels(List<String> tokens) {
    return tokens.stream().map(t -> t + ".trade").toArray(String[]::new);
  }

  private static void produce(List<String> tokens, int perToken, String phase) {
    for (int i = 0; i < perToken; i++) {
      for (String token : tokens) {
        producer.send(new ProducerRecord<>(OdinTopics.TRADES, token, "{\"phase\":\"" + phase + "\",\"i\":" + i + "}"));
      }
    }
    producer.flush();
  }

  /** One live record per token every 10 ms, numbered by the tick. */
  private static Paced liveTraffic(List<String> tokens) {
    return Paced.every(Duration.ofMillis(10), "live-traffic", i -> {
      for (String token : tokens) {
        producer.send(new ProducerRecord<>(OdinTopics.TRADES, token, "{\"phase\":\"live\",\"i\":" + i + "}"));
      }
    });
  }

  private static Map<String, String> lastPositions(WsTestClient c) {
    Map<String, String> positions = new LinkedHashMap<>();
    for (WsTestClient.Received r : c.data()) {
      positions.put(r.json().getString("channel"), r.json().getString("pos"));
    }
    return positions;
  }

  private static String reconnect(Map<String, String> positions) {
    return new JsonObject().put("type", "reconnect").put("data", new JsonObject().put("client_id", "test")
        .put("last_offset", new JsonObject(new HashMap<>(positions)))).encode();
  }
}
