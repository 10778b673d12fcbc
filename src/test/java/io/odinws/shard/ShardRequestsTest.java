package io.odinws.shard;

import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.netty.handler.codec.http.websocketx.BinaryWebSocketFrame;
import io.odinws.protocol.ErrorReply;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Client requests on an upgraded socket (PROTOCOL.md sections 3, 4 and 7), on an EmbeddedChannel. */
class ShardRequestsTest {

  @Test
  void subscribeAcknowledgesTheChannelsAndCountsThem() {
    try (EmbeddedShard s = new EmbeddedShard()) {
      s.upgrade();
      JsonObject ack = s.subscribe("BTC.trade", "ETH.trade", "BTC.*", "*.liquidity");
      assertEquals(List.of("BTC.trade", "ETH.trade", "BTC.*", "*.liquidity"), ack.getJsonArray("subscribed").getList());
      assertEquals(4, ack.getInteger("count"));
      assertNull(ack.getJsonArray("rejected"), "nothing rejected: " + ack);
      assertEquals(4, s.connection().subscriptionCount());

      JsonObject again = s.subscribe("BTC.trade", "BTC.trade");
      assertEquals(List.of("BTC.trade"), again.getJsonArray("subscribed").getList(), "a channel named twice is answered once");
      assertEquals(4, again.getInteger("count"), "subscribing twice is idempotent");
      assertEquals(4, s.connection().subscriptionCount());
    }
  }

  @Test
  void invalidChannelsAreRejectedWithTheirReasonAndTheOthersSubscribed() {
    try (EmbeddedShard s = new EmbeddedShard()) {
      s.upgrade();
      JsonObject ack = s.subscribe("BTC.nosuch", "SOL.trade", "nodot", "A A.trade", "*.*", "B*C.trade");
      assertEquals(List.of("SOL.trade"), ack.getJsonArray("subscribed").getList());
      assertEquals(1, ack.getInteger("count"));
      JsonArray rejected = ack.getJsonArray("rejected");
      assertEquals(new JsonArray()
          .add(rejection("BTC.nosuch", "unknown category 'nosuch'"))
          .add(rejection("nodot", "expected <token>.<category>"))
          .add(rejection("A A.trade", "token contains whitespace, control or quote characters"))
          .add(rejection("*.*", "'*.*' is not allowed: subscribe to <token>.* or *.<category>"))
          .add(rejection("B*C.trade", "'*' is only allowed as a whole token (*.trade) or a whole category (BTC.*)")), rejected);
      assertEquals(1, s.connection().subscriptionCount());
    }
  }

  @Test
  void channelsOverTheLimitAreRejectedAndAnErrorNamesTheLimit() {
    try (EmbeddedShard s = new EmbeddedShard(new JsonObject().put("ws", new JsonObject().put("maxChannelsPerConnection", 2)))) {
      s.upgrade();
      s.sendText("{\"type\":\"subscribe\",\"data\":{\"channels\":[\"A.trade\",\"B.trade\",\"C.trade\"]}}");
      List<EmbeddedShard.Received> replies = s.received();
      assertEquals(2, replies.size(), "the ack, then the error: " + replies);
      JsonObject ack = replies.get(0).json();
      assertEquals("subscription_ack", ack.getString("type"));
      assertEquals(List.of("A.trade", "B.trade"), ack.getJsonArray("subscribed").getList());
      assertEquals(2, ack.getInteger("count"));
      assertEquals(new JsonArray().add(rejection("C.trade", "limit of 2 channels")), ack.getJsonArray("rejected"));
      JsonObject error = replies.get(1).json();
      assertEquals("error", error.getString("type"));
      assertEquals("CHANNEL_LIMIT_EXCEEDED", error.getString("code"));
      assertEquals("Subscription limit reached: at most 2 channels per connection", error.getString("message"));

      // at the limit, a channel already held is still acknowledged, without an error
      JsonObject held = s.subscribe("A.trade");
      assertEquals(List.of("A.trade"), held.getJsonArray("subscribed").getList());
      assertEquals(2, held.getInteger("count"));
    }
  }

  @Test
  void requestsReadTogetherAreAnsweredWithOneFlush() {
    try (EmbeddedShard s = new EmbeddedShard()) {
      s.upgrade();
      AtomicInteger flushes = new AtomicInteger();
      s.channel.pipeline().addFirst(new ChannelOutboundHandlerAdapter() {
        @Override
        public void flush(ChannelHandlerContext ctx) {
          flushes.incrementAndGet();
          ctx.flush();
        }
      });
      s.sendTogether("{\"type\":\"heartbeat\"}", "{\"type\":\"heartbeat\"}",
          "{\"type\":\"subscribe\",\"data\":{\"channels\":[\"BTC.trade\"]}}");
      List<EmbeddedShard.Received> replies = s.received();
      assertEquals(List.of("pong", "pong", "subscription_ack"), replies.stream().map(EmbeddedShard.Received::type).toList());
      assertEquals(1, flushes.get(), "one flush for the read's three replies");

      JsonObject alone = s.request("{\"type\":\"heartbeat\"}");
      assertEquals("pong", alone.getString("type"));
      assertEquals(2, flushes.get(), "a request read alone is flushed at once");
    }
  }

  @Test
  void unsubscribeEchoesTheChannelsAndCountsWhatIsLeft() {
    try (EmbeddedShard s = new EmbeddedShard()) {
      s.upgrade();
      s.subscribe("BTC.trade", "ETH.trade");
      JsonObject ack = s.request("{\"type\":\"unsubscribe\",\"data\":{\"channels\":[\"BTC.trade\",\"UNI.trade\"]}}");
      assertEquals("unsubscription_ack", ack.getString("type"));
      assertEquals(List.of("BTC.trade", "UNI.trade"), ack.getJsonArray("unsubscribed").getList(),
          "a channel not subscribed is not an error");
      assertEquals(1, ack.getInteger("count"));
      assertEquals(1, s.connection().subscriptionCount());
    }
  }

  @Test
  void theSubscriptionGaugeFollowsSubscribeAndUnsubscribe() {
    try (EmbeddedShard s = new EmbeddedShard()) {
      s.upgrade();
      s.subscribe("BTC.trade", "ETH.trade");
      assertEquals(2, s.stats().subscriptions());
      s.request("{\"type\":\"unsubscribe\",\"data\":{\"channels\":[\"BTC.trade\"]}}");
      assertEquals(1, s.stats().subscriptions());
    }
  }

  @Test
  void heartbeatIsAnsweredWithPong() {
    try (EmbeddedShard s = new EmbeddedShard()) {
      s.upgrade();
      long before = System.currentTimeMillis();
      JsonObject pong = s.request("{\"type\":\"heartbeat\"}");
      long after = System.currentTimeMillis();
      assertEquals("pong", pong.getString("type"));
      long ts = pong.getLong("ts");
      assertTrue(ts >= before && ts <= after, "server time in Unix ms: " + ts);
    }
  }

  @Test
  void aBinaryMessageIsRefusedWithTheDocumentedErrorAndTheConnectionStaysOpen() {
    try (EmbeddedShard s = new EmbeddedShard()) {
      s.upgrade();
      s.send(new BinaryWebSocketFrame(Unpooled.wrappedBuffer(new byte[] {1, 2, 3})));
      List<EmbeddedShard.Received> replies = s.received();
      assertEquals(1, replies.size(), replies.toString());
      JsonObject error = replies.get(0).json();
      assertEquals("error", error.getString("type"));
      assertEquals(ErrorReply.BINARY.code(), error.getString("code"));
      assertEquals("BINARY_NOT_SUPPORTED", error.getString("code"));
      assertEquals(ErrorReply.BINARY.message(), error.getString("message"));
      assertTrue(s.channel.isActive());
      assertEquals("subscription_ack", s.subscribe("BTC.trade").getString("type"), "still useful");
    }
  }

  @Test
  void malformedRequestsGetErrorsAndTheConnectionStaysOpen() {
    try (EmbeddedShard s = new EmbeddedShard()) {
      s.upgrade();
      assertEquals("INVALID_MESSAGE", s.request("{not json").getString("code"));
      assertEquals("INVALID_MESSAGE", s.request("{\"type\":\"subscribe\",\"data\":\"BTC.trade\"}").getString("code"));
      JsonObject unknown = s.request("{\"type\":\"teleport\"}");
      assertEquals("UNKNOWN_TYPE", unknown.getString("code"));
      assertTrue(unknown.getString("message").contains("'teleport'"), unknown.encode());
      assertTrue(s.channel.isActive());
      assertEquals(0, s.connection().subscriptionCount());
    }
  }

  @Test
  void messagesOverTheBucketAreDroppedWithOneRateLimitError() {
    // A bucket of 1 refilled once a second: of 20 messages sent at once, the first passes and the rest are dropped.
    try (EmbeddedShard s = new EmbeddedShard(new JsonObject().put("limits",
        new JsonObject().put("messageBurst", 1).put("messagesPerSecond", 1)))) {
      s.upgrade();
      int sent = 20;
      for (int i = 0; i < sent; i++) {
        s.sendText("{\"type\":\"heartbeat\"}");
      }
      List<EmbeddedShard.Received> replies = s.received();
      long pongs = replies.stream().filter(r -> "pong".equals(r.type())).count();
      List<JsonObject> errors = replies.stream().map(EmbeddedShard.Received::json).filter(j -> "error".equals(j.getString("type"))).toList();
      assertEquals(replies.size(), pongs + errors.size(), "pongs and errors only: " + replies);
      assertTrue(pongs >= 1, "the first message passes");
      assertFalse(errors.isEmpty(), "a dropped message is answered");
      assertEquals("RATE_LIMIT_EXCEEDED", errors.get(0).getString("code"));
      assertEquals("Too many messages, please slow down (limit: 1/sec)", errors.get(0).getString("message"));
      // Errors are limited to one a second, so fewer than the dropped messages (a refill adds a pong, never an error per drop).
      assertTrue(pongs + errors.size() < sent, "some dropped messages are not answered: " + pongs + " pongs, " + errors.size() + " errors");
      assertEquals(sent - pongs, s.stats().rateLimitedMessages());
      assertTrue(s.channel.isActive(), "a burst alone does not close the connection");
    }
  }

  private static JsonObject rejection(String channel, String reason) {
    return new JsonObject().put("channel", channel).put("reason", reason);
  }
}
