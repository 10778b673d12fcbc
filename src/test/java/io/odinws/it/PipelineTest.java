package io.odinws.it;

import io.netty.channel.Channel;
import io.odinws.shard.ShardVerticle;
import io.odinws.testkit.Await;
import io.odinws.testkit.EmbeddedKafka;
import io.odinws.testkit.KafkaBrokerExtension;
import io.odinws.testkit.OdinTopics;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketClientOptions;
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

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Kafka to WebSocket, end to end, over three shards. */
@ExtendWith({KafkaBrokerExtension.class, VertxExtension.class})
class PipelineTest {

  private static ServerHarness server;
  private static Vertx clientVertx;
  private static WebSocketClient wsClient;
  private static EmbeddedKafka kafka;

  @BeforeAll
  @Timeout(value = 120, timeUnit = TimeUnit.SECONDS)
  static void start(EmbeddedKafka broker, Vertx vertx, VertxTestContext ctx) {
    kafka = broker;
    OdinTopics.createAll(kafka);
    ServerHarness.deploy(kafka, new JsonObject().put("mode", "multi").put("shards", 3).put("maxConnections", 300))
        .onComplete(ctx.succeeding(h -> {
          server = h;
          ctx.completeNow();
        }));
    clientVertx = vertx; // VertxExtension closes it after the class
    wsClient = clientVertx.createWebSocketClient(new WebSocketClientOptions().setMaxConnections(1000));
  }

  @AfterAll
  static void stop(VertxTestContext ctx) {
    ServerHarness.stop(server).onComplete(ctx.succeedingThenComplete());
  }

  @Test
  void recordsReachExactlyTheSubscribersOnEveryShardInOrderWithIdenticalBytes() throws Exception {
    // Sequential connects land round-robin over the three shards: two clients per shard.
    Map<String, List<String>> subscriptions = new LinkedHashMap<>();
    subscriptions.put("c0", List.of("BTC.trade", "ETH.trade"));
    subscriptions.put("c1", List.of("BTC.trade"));
    subscriptions.put("c2", List.of("ETH.liquidity"));
    subscriptions.put("c3", List.of("BTC.trade", "SOL.trade"));
    subscriptions.put("c4", List.of());
    subscriptions.put("c5", List.of("BTC.trade", "ETH.liquidity"));
    Map<String, WsTestClient> clients = new LinkedHashMap<>();
    for (Map.Entry<String, List<String>> e : subscriptions.entrySet()) {
      WsTestClient c = WsTestClient.open(wsClient, server.port());
      clients.put(e.getKey(), c);
      if (!e.getValue().isEmpty()) {
        JsonObject ack = c.subscribe(e.getValue().toArray(String[]::new));
        assertEquals(e.getValue(), ack.getJsonArray("subscribed").getList());
        assertEquals(e.getValue().size(), ack.getInteger("count"));
      }
    }
    assertEquals(List.of(2, 2, 2), toList(server.connectionsPerShard()));

    // Produce: channel -> record count.
    Map<String, Integer> produce = new LinkedHashMap<>();
    produce.put("BTC.trade", 50);
    produce.put("ETH.trade", 30);
    produce.put("ETH.liquidity", 20);
    produce.put("SOL.trade", 10);
    produce.put("DOGE.trade", 10); // nobody subscribed
    Map<String, String> valueByChannelAndIndex = new HashMap<>();
    long receivedBefore = server.server.ingest().received();
    long sentBefore = server.messagesSent();
    int total = 0;
    try (KafkaProducer<String, String> producer = OdinTopics.producer(kafka.bootstrap())) {
      for (int i = 0; i < 50; i++) {
        for (Map.Entry<String, Integer> e : produce.entrySet()) {
          if (i >= e.getValue()) {
            continue;
          }
          String[] parts = e.getKey().split("\\.");
          String topic = parts[1].equals("trade") ? OdinTopics.TRADES : OdinTopics.LIQUIDITY;
          String value = "{\"type\":\"TRADE_EXECUTED\",\"timestamp\":" + System.currentTimeMillis()
              + ",\"data\":{\"i\":" + i + ",\"price\":42.17,\"note\":\"caf\\u00e9 \\\"quoted\\\"\"}}";
          valueByChannelAndIndex.put(e.getKey() + "#" + i, value);
          producer.send(new ProducerRecord<>(topic, parts[0], value));
          total++;
        }
      }
      producer.flush();
    }
    int produced = total;
    Map<String, Integer> expected = new LinkedHashMap<>();
    int expectedDeliveries = 0;
    for (Map.Entry<String, List<String>> e : subscriptions.entrySet()) {
      int n = e.getValue().stream().mapToInt(produce::get).sum();
      expected.put(e.getKey(), n);
      expectedDeliveries += n;
    }
    int deliveries = expectedDeliveries;
    Await.until("the server polled every produced record", Duration.ofSeconds(30),
        () -> server.server.ingest().received() - receivedBefore >= produced);
    Await.until("every expected delivery", Duration.ofSeconds(30),
        () -> clients.entrySet().stream().allMatch(e -> e.getValue().data().size() >= expected.get(e.getKey())),
        () -> clients.entrySet().stream().map(e -> e.getKey() + "=" + e.getValue().data().size()).toList().toString());
    Await.until("the server's delivery count to settle", Duration.ofSeconds(10), () -> server.messagesSent() - sentBefore >= deliveries);
    // The server wrote exactly the expected deliveries: nothing went to a client that did not subscribe.
    assertEquals(deliveries, server.messagesSent() - sentBefore);

    Map<String, Buffer> bytesByPosition = new HashMap<>();
    for (Map.Entry<String, WsTestClient> e : clients.entrySet()) {
      List<WsTestClient.Received> data = e.getValue().data();
      assertEquals((int) expected.get(e.getKey()), data.size(), e.getKey() + " got exactly its channels' records");
      Map<String, Long> lastSeq = new HashMap<>();
      Map<String, Integer> index = new HashMap<>();
      for (WsTestClient.Received r : data) {
        JsonObject m = r.json();
        String channel = m.getString("channel");
        assertTrue(subscriptions.get(e.getKey()).contains(channel), e.getKey() + " received unsubscribed " + channel);
        assertEquals("price:update", m.getString("type"));
        assertEquals(1, m.getInteger("priority"));
        long seq = m.getLong("seq");
        String[] pos = m.getString("pos").split(":");
        assertEquals(seq, Long.parseLong(pos[1]));
        assertTrue(m.getLong("ts") > 0);
        Long prev = lastSeq.put(channel, seq);
        assertTrue(prev == null || seq > prev, "offset order within " + channel);
        int i = index.merge(channel, 1, Integer::sum) - 1;
        String value = valueByChannelAndIndex.get(channel + "#" + i);
        // The record value is embedded verbatim: the raw frame ends with it, unescaped.
        assertTrue(r.raw().toString().endsWith(",\"data\":" + value + "}"), "verbatim data: " + r.raw());
        Buffer other = bytesByPosition.putIfAbsent(channel + "@" + m.getString("pos"), r.raw());
        if (other != null) {
          assertEquals(other, r.raw(), "identical bytes on every connection for " + channel + "@" + m.getString("pos"));
        }
      }
    }

    // One server socket per client, each on its shard's own event loop.
    Set<Integer> clientPorts = new HashSet<>();
    clients.values().forEach(c -> clientPorts.add(c.localPort()));
    assertEquals(clients.size(), TcpTable.establishedWithLocalPort(server.port(), clientPorts));
    Set<Integer> seen = new HashSet<>();
    for (ShardVerticle shard : server.server.shardVerticles()) {
      List<Channel> channels = shard.channels().await(30, TimeUnit.SECONDS);
      assertEquals(2, channels.size());
      for (Channel ch : channels) {
        assertTrue(ch.eventLoop() == shard.eventLoop(), "socket registered on its shard's loop");
        // Nagle off, so that a message is not held back behind the client's delayed ACK (Netty's epoll default)
        assertEquals(Boolean.TRUE, ch.config().getOption(io.netty.channel.ChannelOption.TCP_NODELAY), "TCP_NODELAY on the accepted socket");
        seen.add(((java.net.InetSocketAddress) ch.remoteAddress()).getPort());
      }
    }
    assertEquals(clientPorts, seen);
    clients.values().forEach(WsTestClient::close);
  }

  private static List<Integer> toList(int[] a) {
    List<Integer> l = new ArrayList<>();
    for (int v : a) {
      l.add(v);
    }
    return l;
  }
}
