package io.odinws.shard;

import io.odinws.envelope.OutboundMessage;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Batches from the bus to one socket (PROTOCOL.md section 5): only subscribed channels, once per
 * message despite wildcards, in order with the replies written around them, every frame released.
 */
class ShardFanOutTest {

  @Test
  void aBatchDeliveredBetweenTwoRepliesArrivesBetweenThem() {
    try (EmbeddedShard s = new EmbeddedShard()) {
      s.upgrade();
      s.subscribe("BTC.trade");
      s.sendText("{\"type\":\"heartbeat\"}");
      OutboundMessage m = s.message("BTC", "trade", "{\"price\":42.17}");
      s.shard.onBatch(EmbeddedShard.batch(m));
      // The fan-out's flush is a loop task that has not run yet: the next reply must not overtake the message.
      s.sendText("{\"type\":\"heartbeat\"}");
      s.channel.runPendingTasks();
      List<EmbeddedShard.Received> frames = s.received();
      assertEquals(List.of("pong", "price:update", "pong"), frames.stream().map(EmbeddedShard.Received::type).toList(), frames.toString());
      JsonObject data = frames.get(1).json();
      assertEquals("BTC.trade", data.getString("channel"));
      assertEquals(m.offset(), data.getLong("seq"));
      assertEquals(new JsonObject().put("price", 42.17), data.getJsonObject("data"), "the record value, verbatim");
      assertEquals(0, m.frame().refCnt(), "the batch and the fan-out released the frame once written");
    }
  }

  @Test
  void aFlushedBatchArrivesBeforeTheNextReply() {
    try (EmbeddedShard s = new EmbeddedShard()) {
      s.upgrade();
      s.subscribe("BTC.trade");
      OutboundMessage first = s.message("BTC", "trade", "{\"n\":1}");
      OutboundMessage second = s.message("BTC", "trade", "{\"n\":2}");
      s.shard.onBatch(EmbeddedShard.batch(first));
      s.shard.onBatch(EmbeddedShard.batch(second));
      s.channel.runPendingTasks(); // the flush: both batches in one
      s.sendText("{\"type\":\"heartbeat\"}");
      List<EmbeddedShard.Received> frames = s.received();
      assertEquals(List.of("price:update", "price:update", "pong"), frames.stream().map(EmbeddedShard.Received::type).toList());
      assertEquals(List.of(first.offset(), second.offset()), frames.subList(0, 2).stream().map(r -> r.json().getLong("seq")).toList(),
          "offset order");
      assertEquals(2, s.stats().messagesSent());
      assertEquals(1, s.stats().socketFlushes(), "one flush for both batches");
      assertEquals(0, first.frame().refCnt());
      assertEquals(0, second.frame().refCnt());
    }
  }

  @Test
  void aBatchArrivingDuringAFlushSharesTheSyscallOfTheConnectionsNotFlushedYet() {
    // hundreds of sockets from one address, at once: no admission
    try (EmbeddedShard s = new EmbeddedShard(new JsonObject().put("admission", new JsonObject().put("enabled", false).put("ipMaxConnections", 0)))) {
      int rest = 44;
      List<EmbeddedShard.Client> clients = new java.util.ArrayList<>();
      for (int i = 0; i < FanOut.FLUSH_CHUNK + rest; i++) {
        EmbeddedShard.Client c = s.client();
        c.upgrade();
        c.subscribe("BTC.trade");
        clients.add(c);
      }
      OutboundMessage first = s.message("BTC", "trade", "{\"n\":1}");
      OutboundMessage second = s.message("BTC", "trade", "{\"n\":2}");
      s.shard.onBatch(EmbeddedShard.batch(first)); // queues the flush's first chunk
      // queued after that chunk, as a batch the bus hands over while the flush is under way
      s.channel.eventLoop().execute(() -> s.shard.onBatch(EmbeddedShard.batch(second)));
      s.channel.runPendingTasks();
      for (EmbeddedShard.Client c : clients) {
        assertEquals(List.of(1, 2), c.received().stream().map(j -> j.getJsonObject("data").getInteger("n")).toList(), "in order");
      }
      assertEquals(2L * clients.size(), s.stats().messagesSent());
      assertEquals(FanOut.FLUSH_CHUNK + clients.size(), s.stats().socketFlushes(),
          "the first chunk flushed before the second batch came; every other connection took both in one flush");
      assertEquals(0, first.frame().refCnt());
      assertEquals(0, second.frame().refCnt());
    }
  }

  @Test
  void aDuePingGoesOutWithTheNextMessageInTheSameFlush() {
    try (EmbeddedShard s = new EmbeddedShard()) {
      s.upgrade();
      s.subscribe("BTC.trade");
      ConnectionPolicy policy = s.policy();
      long due = System.nanoTime() + policy.pingEveryNanos();
      s.connection().tick(due, policy);
      assertEquals(List.of(), s.received(), "not on its own at the sweep");
      OutboundMessage m = s.message("BTC", "trade", "{\"n\":1}");
      s.shard.onBatch(EmbeddedShard.batch(m));
      s.channel.runPendingTasks();
      assertEquals(List.of("text", "ping"), s.received().stream().map(EmbeddedShard.Received::kind).toList(),
          "right behind the message");
      assertEquals(1, s.stats().socketFlushes());
      s.shard.onBatch(EmbeddedShard.batch(s.message("BTC", "trade", "{\"n\":2}")));
      s.channel.runPendingTasks();
      s.connection().tick(due + TimeUnit.SECONDS.toNanos(1), policy);
      assertEquals(List.of("text"), s.received().stream().map(EmbeddedShard.Received::kind).toList(),
          "one ping per interval: the next message and the next sweep carry none");
      assertEquals(0, m.frame().refCnt());
    }
  }

  @Test
  void theFrameWrittenIsTheBatchFrameByteForByte() {
    try (EmbeddedShard s = new EmbeddedShard()) {
      s.upgrade();
      s.subscribe("ETH.liquidity");
      OutboundMessage m = s.message("ETH", "liquidity", "{\"type\":\"LIQUIDITY_ADDED\",\"note\":\"caf\\u00e9 \\\"q\\\"\"}");
      int lengthByte = m.frame().getUnsignedByte(m.frame().readerIndex() + 1);
      int header = lengthByte < 126 ? 2 : lengthByte == 126 ? 4 : 10; // an unmasked frame: no masking key
      String expected = m.frame().toString(m.frame().readerIndex() + header, m.frame().readableBytes() - header, StandardCharsets.UTF_8);
      s.shard.onBatch(EmbeddedShard.batch(m));
      s.channel.runPendingTasks();
      List<EmbeddedShard.Received> frames = s.received();
      assertEquals(1, frames.size());
      assertEquals(expected, frames.get(0).text());
      assertTrue(expected.endsWith(",\"data\":{\"type\":\"LIQUIDITY_ADDED\",\"note\":\"caf\\u00e9 \\\"q\\\"\"}}"), expected);
    }
  }

  @Test
  void aMessageOnAChannelNotSubscribedDoesNotArrive() {
    try (EmbeddedShard s = new EmbeddedShard()) {
      s.upgrade();
      s.subscribe("BTC.trade", "SOL.trade");
      s.request("{\"type\":\"unsubscribe\",\"data\":{\"channels\":[\"SOL.trade\"]}}");
      OutboundMessage eth = s.message("ETH", "trade", "{\"n\":1}");
      OutboundMessage btcLiquidity = s.message("BTC", "liquidity", "{\"n\":2}");
      OutboundMessage sol = s.message("SOL", "trade", "{\"n\":3}");
      OutboundMessage btc = s.message("BTC", "trade", "{\"n\":4}");
      s.shard.onBatch(EmbeddedShard.batch(eth, btcLiquidity, sol, btc));
      s.channel.runPendingTasks();
      List<EmbeddedShard.Received> frames = s.received();
      assertEquals(List.of("BTC.trade"), frames.stream().map(r -> r.json().getString("channel")).toList(), frames.toString());
      assertEquals(1, s.stats().messagesSent());
      for (OutboundMessage m : List.of(eth, btcLiquidity, sol, btc)) {
        assertEquals(0, m.frame().refCnt(), "every frame of the batch released: " + m.channel());
      }
    }
  }

  @Test
  void wildcardAndExactSubscriptionsDeliverEachMessageOnce() {
    try (EmbeddedShard s = new EmbeddedShard()) {
      s.upgrade();
      s.subscribe("BTC.trade", "BTC.*", "*.trade");
      OutboundMessage all3 = s.message("BTC", "trade", "{\"n\":1}");       // exact, token and category
      OutboundMessage byToken = s.message("BTC", "social", "{\"n\":2}");   // BTC.*
      OutboundMessage byCategory = s.message("ETH", "trade", "{\"n\":3}"); // *.trade
      OutboundMessage none = s.message("ETH", "social", "{\"n\":4}");
      OutboundMessage again = s.message("BTC", "trade", "{\"n\":5}");
      s.shard.onBatch(EmbeddedShard.batch(all3, byToken, byCategory, none, again));
      s.channel.runPendingTasks();
      List<EmbeddedShard.Received> frames = s.received();
      assertEquals(List.of(all3.offset(), byToken.offset(), byCategory.offset(), again.offset()),
          frames.stream().map(r -> r.json().getLong("seq")).toList(), frames.toString());
      assertEquals(4, s.stats().messagesSent());
    }
  }

  @Test
  void aClosedConnectionLeavesTheIndexAndGetsNoMoreMessages() {
    try (EmbeddedShard s = new EmbeddedShard()) {
      s.upgrade();
      s.subscribe("BTC.trade");
      s.connection().close(Disconnect.SHUTDOWN);
      s.channel.runPendingTasks();
      assertEquals(1001, EmbeddedShard.closeFrame(s.received()).closeCode());
      OutboundMessage m = s.message("BTC", "trade", "{\"n\":1}");
      s.shard.onBatch(EmbeddedShard.batch(m));
      s.channel.runPendingTasks();
      assertEquals(List.of(), s.received());
      assertEquals(0, s.stats().messagesSent());
      assertEquals(0, m.frame().refCnt());
    }
  }
}
