package io.odinws.shard;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.CompositeByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocket13FrameEncoder;
import io.odinws.envelope.OutboundMessage;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.List;

import static io.odinws.shard.EmbeddedShard.upgradeRequest;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The HTTP side of a shard's socket until the upgrade (PROTOCOL.md sections 1 and 7), on an EmbeddedChannel. */
class ShardUpgradeTest {

  @Test
  void aValidHandshakeGets101AndTheSocketCountsAsAWebSocket() {
    try (EmbeddedShard s = new EmbeddedShard()) {
      assertEquals(0, s.stats().webSockets(), "an accepted socket is not a WebSocket yet");
      String response = s.upgrade();
      assertTrue(response.toLowerCase().contains("\r\nsec-websocket-accept: " + EmbeddedShard.ACCEPT.toLowerCase() + "\r\n"), response);
      assertTrue(s.connection().isUpgraded());
      assertEquals(1, s.stats().webSockets());
      assertEquals(0, s.stats().handshakesFailed());
      // the HTTP handlers are gone: a frame now reaches the protocol
      assertEquals("pong", s.request("{\"type\":\"heartbeat\"}").getString("type"));
      assertTrue(s.channel.isActive());
    }
  }

  @Test
  void the101IsExactlyWhatRfc6455AsksAndTheDeflateAnswerIsItsFirstHeader() {
    try (EmbeddedShard s = new EmbeddedShard()) {
      assertEquals("HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\nconnection: upgrade\r\n"
          + "sec-websocket-accept: " + EmbeddedShard.ACCEPT + "\r\n\r\n", s.upgrade("/ws"));
    }
    try (EmbeddedShard s = new EmbeddedShard()) {
      String response = s.http(upgradeRequest("/ws", "13").replace("\r\n\r\n", "\r\nSec-WebSocket-Extensions: permessage-deflate\r\n\r\n"));
      assertEquals("HTTP/1.1 101 Switching Protocols\r\n"
          + "sec-websocket-extensions: permessage-deflate; server_no_context_takeover; client_no_context_takeover\r\n"
          + "upgrade: websocket\r\nconnection: upgrade\r\nsec-websocket-accept: " + EmbeddedShard.ACCEPT + "\r\n\r\n", response);
    }
  }

  @Test
  void aQueryStringOnTheWebSocketPathIsIgnored() {
    try (EmbeddedShard s = new EmbeddedShard()) {
      String response = s.http(upgradeRequest("/ws?client=web&v=2", "13"));
      assertTrue(response.startsWith("HTTP/1.1 101 "), response);
      assertEquals(1, s.stats().webSockets());
    }
  }

  @Test
  void anUnsupportedWebSocketVersionGets426AndTheSocketIsClosed() {
    try (EmbeddedShard s = new EmbeddedShard()) {
      String response = s.http(upgradeRequest("/ws", "8"));
      assertTrue(response.startsWith("HTTP/1.1 426 "), response);
      assertTrue(response.toLowerCase().contains("sec-websocket-version: 13"), "names the version it speaks: " + response);
      assertTrue(response.endsWith("only WebSocket version 13 (RFC 6455) is supported\n"), response);
      s.channel.runPendingTasks();
      assertFalse(s.channel.isActive(), "closed after the refusal");
      assertEquals(1, s.stats().handshakesFailed());
      assertEquals(0, s.stats().webSockets());
    }
  }

  @Test
  void aPlainGetOfTheWebSocketPathGets400SayingHowToConnect() {
    try (EmbeddedShard s = new EmbeddedShard()) {
      String response = s.http("GET /ws HTTP/1.1\r\nHost: localhost\r\n\r\n");
      assertTrue(response.startsWith("HTTP/1.1 400 "), response);
      assertTrue(response.toLowerCase().contains("content-type: text/plain"), response);
      assertTrue(response.endsWith("Bad Request: not a WebSocket handshake (connect with a WebSocket client to /ws)\n"), response);
      s.channel.runPendingTasks();
      assertFalse(s.channel.isActive(), "closed after the refusal");
      assertEquals(0, s.stats().webSockets());
    }
  }

  @Test
  void aPostToTheWebSocketPathGets400() {
    try (EmbeddedShard s = new EmbeddedShard()) {
      String response = s.http("POST /ws HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}");
      assertTrue(response.startsWith("HTTP/1.1 400 "), response);
      assertTrue(response.contains("connect with a WebSocket client to /ws"), response);
    }
  }

  @Test
  void aPostWithAWebSocketHandshakeGets400NamingTheMethod() {
    try (EmbeddedShard s = new EmbeddedShard()) {
      String response = s.http(upgradeRequest("/ws", "13").replaceFirst("^GET ", "POST "));
      assertTrue(response.startsWith("HTTP/1.1 400 "), response);
      assertTrue(response.contains("POST"), response);
      assertTrue(response.contains("connect with a WebSocket client to /ws"), response);
      assertEquals(0, s.stats().webSockets());
    }
  }

  @Test
  void anotherPathGets404AndTheConnectionStaysUsable() {
    try (EmbeddedShard s = new EmbeddedShard()) {
      String response = s.http("GET /nothing-here HTTP/1.1\r\nHost: localhost\r\n\r\n");
      assertTrue(response.startsWith("HTTP/1.1 404 "), response);
      assertTrue(response.endsWith("Not Found\n"), response);
      assertTrue(s.channel.isActive(), "keep-alive: a 404 does not end the connection");
      s.upgrade();
      assertEquals(1, s.stats().webSockets());
    }
  }

  @Test
  void healthIsServedBeforeAnUpgradeOnTheSameConnection() {
    try (EmbeddedShard s = new EmbeddedShard()) {
      String response = s.http("GET /health HTTP/1.1\r\nHost: localhost\r\n\r\n");
      assertTrue(response.startsWith("HTTP/1.1 200 "), response);
      assertTrue(response.toLowerCase().contains("content-type: application/json"), response);
      assertTrue(response.endsWith(EmbeddedShard.HEALTH_JSON), response);
      assertEquals(0, s.stats().webSockets(), "an HTTP request does not make a WebSocket");
      s.upgrade();
      assertEquals(1, s.stats().webSockets());
    }
  }

  @Test
  void anOriginOutsideTheAllowListIsRefusedBeforeAnyWebSocketWork() {
    JsonObject admission = new JsonObject().put("admission", new JsonObject().put("allowedOrigins", new JsonArray().add("https://app.example")));
    try (EmbeddedShard s = new EmbeddedShard(admission)) {
      String response = s.http(upgradeRequest("/ws", "13").replace("\r\n\r\n", "\r\nOrigin: https://evil.example\r\n\r\n"));
      assertTrue(response.startsWith("HTTP/1.1 403 "), response);
      s.channel.runPendingTasks();
      assertFalse(s.channel.isActive());
      assertEquals(1, s.stats().handshakesFailed());
      assertEquals(0, s.stats().webSockets());
    }
  }

  @Test
  void aSocketThatNeverUpgradesIsClosedOnceTheHandshakeWindowHasPassed() {
    try (EmbeddedShard s = new EmbeddedShard()) {
      ConnectionPolicy policy = s.policy();
      long now = System.nanoTime();
      // Connection reads System.nanoTime() itself: the sweep's "now" is passed explicitly, past the window.
      s.connection().tick(now, policy);
      assertTrue(s.channel.isActive(), "within the handshake window");
      s.connection().tick(now + policy.handshakeWithinNanos() + 1_000_000_000L, policy);
      s.channel.runPendingTasks();
      assertFalse(s.channel.isActive(), "closed without a response: it never sent a request");
      assertNull(s.channel.readOutbound(), "nothing written to a socket that never sent a request");
    }
  }

  // ---- subscribe on the upgrade (docs/protocol.md section 3) ----------------------------------

  @Test
  void aSubscribeOnTheUpgradeIsAckedRightBehindThe101InTheSameFlushThenItsChannelsAreLive() {
    try (EmbeddedShard s = new EmbeddedShard()) {
      int[] flushes = {0};
      s.channel.pipeline().addFirst(new ChannelOutboundHandlerAdapter() {
        @Override
        public void flush(ChannelHandlerContext ctx) {
          flushes[0]++;
          ctx.flush();
        }
      });
      s.upgrade("/ws?subscribe=BTC.trade,ETH.*");
      assertEquals(1, flushes[0], "the 101 and the ack leave in one flush: one send, not two");
      List<EmbeddedShard.Received> frames = s.received();
      assertEquals(1, frames.size(), frames.toString());
      JsonObject ack = frames.get(0).json();
      assertEquals("subscription_ack", ack.getString("type"));
      assertEquals(List.of("BTC.trade", "ETH.*"), ack.getJsonArray("subscribed").getList());
      assertEquals(2, ack.getInteger("count"));
      assertEquals(0, s.stats().messagesReceived(), "not a message: the inbound rate limit does not count it");

      OutboundMessage m = s.message("BTC", "trade", "{\"price\":1}");
      s.shard.onBatch(EmbeddedShard.batch(m));
      s.channel.runPendingTasks();
      assertEquals(List.of("price:update"), s.received().stream().map(EmbeddedShard.Received::type).toList());
    }
  }

  @Test
  void theUpgradesSubscribeFollowsTheMessagesRules() {
    try (EmbeddedShard s = new EmbeddedShard()) {
      // repeated parameter, empty names skipped, a name twice answered once, %-escapes decoded, an unknown category refused
      s.upgrade("/ws?subscribe=BTC.trade,,BTC.trade,BTC.nope&client=web&subscribe=SOL.%2A");
      JsonObject ack = s.received().get(0).json();
      assertEquals(List.of("BTC.trade", "SOL.*"), ack.getJsonArray("subscribed").getList(), ack.encode());
      JsonArray rejected = ack.getJsonArray("rejected");
      assertEquals(1, rejected.size(), ack.encode());
      assertEquals("BTC.nope", rejected.getJsonObject(0).getString("channel"));
      assertTrue(s.connection().isSubscribed("BTC.trade") && s.connection().isSubscribed("SOL.*"));
      assertEquals(2, s.connection().subscriptionCount());
    }
  }

  @Test
  void anUpgradeThatNamesNoChannelGetsNoAck() {
    try (EmbeddedShard s = new EmbeddedShard()) {
      s.upgrade("/ws?subscribe=&snapshot=3&subscribed=BTC.trade");
      assertEquals(List.of(), s.received());
      assertEquals(0, s.connection().subscriptionCount());
      assertEquals(1, s.stats().webSockets());
    }
  }

  @Test
  void aBadSnapshotOrAQueryThatDoesNotDecodeIsRefusedWith400() {
    for (String query : new String[] {"subscribe=BTC.trade&snapshot=ten", "subscribe=BTC.trade&snapshot=-1", "subscribe=BTC.trade&snapshot=",
        "subscribe=BTC.tr%zzade"}) {
      try (EmbeddedShard s = new EmbeddedShard()) {
        String response = s.http(upgradeRequest("/ws?" + query, "13"));
        assertTrue(response.startsWith("HTTP/1.1 400 "), query + ": " + response);
        String expected = query.contains("%") ? "the query does not decode (a bad %-escape)" : "snapshot must be a whole number >= 0";
        assertTrue(response.endsWith("Bad Request: " + expected + " (connect with a WebSocket client to /ws)\n"), query + ": " + response);
        s.channel.runPendingTasks();
        assertFalse(s.channel.isActive(), "closed after the refusal");
        assertEquals(0, s.stats().webSockets());
        assertEquals(1, s.stats().handshakesFailed());
      }
    }
  }

  @Test
  void aFrameTheClientSentRightBehindItsUpgradeRequestIsAnswered() {
    try (EmbeddedShard s = new EmbeddedShard()) {
      // a client that does not wait for the 101 (RFC 6455 4.1 says it should): its first frame in the same read
      EmbeddedChannel masker = new EmbeddedChannel(new WebSocket13FrameEncoder(true));
      masker.writeOutbound(new TextWebSocketFrame("{\"type\":\"heartbeat\"}"));
      CompositeByteBuf together = Unpooled.compositeBuffer()
          .addComponent(true, Unpooled.copiedBuffer(upgradeRequest("/ws", "13"), StandardCharsets.US_ASCII));
      for (Object bytes; (bytes = masker.readOutbound()) != null; ) {
        together.addComponent(true, (ByteBuf) bytes);
      }
      s.channel.writeInbound(together);
      ByteBuf head = (ByteBuf) s.channel.readOutbound();
      try {
        assertTrue(head.toString(StandardCharsets.US_ASCII).startsWith("HTTP/1.1 101 "));
      } finally {
        head.release();
      }
      assertEquals(List.of("pong"), s.received().stream().map(EmbeddedShard.Received::type).toList());
      masker.finishAndReleaseAll();
    }
  }
}
