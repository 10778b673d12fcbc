package io.odinws.shard;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.util.ReferenceCountUtil;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The handshake deadline and the per-address socket count of a shard's sockets, on EmbeddedChannels. */
class ShardAdmissionTest {

  private static final long DEADLINE_MS = 300;

  private static JsonObject config(int maxPerAddress) {
    return new JsonObject()
        .put("ws", new JsonObject().put("handshakeTimeoutMs", DEADLINE_MS))
        .put("admission", new JsonObject().put("ipMaxConnections", maxPerAddress));
  }

  private static void send(EmbeddedShard s, String bytes) {
    s.channel.writeInbound(Unpooled.copiedBuffer(bytes, StandardCharsets.US_ASCII));
  }

  private static InetAddress peer(EmbeddedShard s) {
    return ((InetSocketAddress) s.channel.remoteAddress()).getAddress();
  }

  @Test
  void aTrickleOfHeaderBytesDoesNotExtendTheHandshakeDeadline() {
    try (EmbeddedShard s = new EmbeddedShard(config(200))) {
      long accepted = System.nanoTime();
      long deadline = TimeUnit.MILLISECONDS.toNanos(DEADLINE_MS);
      long step = deadline / 6;
      send(s, "GET /ws HTTP/1.1\r\n");
      String header = "X-Slow: " + "a".repeat(1000);
      long lastByte = 0;
      int i = 0;
      // One byte every sixth of the deadline, each followed by a sweep: never silent for the deadline.
      while (s.channel.isActive() && System.nanoTime() - accepted < 4 * deadline) {
        LockSupport.parkNanos(step);
        send(s, header.substring(i, i + 1));
        i++;
        lastByte = System.nanoTime();
        s.connection().tick(System.nanoTime(), s.policy());
        s.channel.runPendingTasks();
      }
      long closedAfter = System.nanoTime() - accepted;
      assertFalse(s.channel.isActive(), "a socket trickling a byte every " + step / 1_000_000 + " ms is closed");
      assertTrue(closedAfter > deadline, "not before the deadline");
      assertTrue(System.nanoTime() - lastByte < deadline, "closed while its last byte was recent");
      assertEquals(1, s.stats().handshakeTimeouts());
      assertEquals(0, s.admission.connections(peer(s)), "its count is given back");
    }
  }

  @Test
  void aKeepAliveHttpConnectionGetsTheDeadlineFromItsLastAnswer() {
    try (EmbeddedShard s = new EmbeddedShard(config(200))) {
      long deadline = TimeUnit.MILLISECONDS.toNanos(DEADLINE_MS);
      long accepted = System.nanoTime();
      while (System.nanoTime() - accepted <= deadline + deadline / 2) {
        LockSupport.parkNanos(deadline / 4); // past the deadline from accept, without a sweep
      }
      assertTrue(s.http("GET /health HTTP/1.1\r\nHost: localhost\r\n\r\n").startsWith("HTTP/1.1 200 "));
      long answered = System.nanoTime();
      s.connection().tick(answered + deadline / 2, s.policy());
      assertTrue(s.channel.isActive(), "within the deadline of its last answer");
      s.connection().tick(answered + deadline + TimeUnit.MILLISECONDS.toNanos(50), s.policy());
      s.channel.runPendingTasks();
      assertFalse(s.channel.isActive(), "no request answered for the deadline: closed");
      assertEquals(1, s.stats().handshakeTimeouts());
    }
  }

  @Test
  void anUpgradedSocketIsNotClosedByTheHandshakeDeadline() {
    try (EmbeddedShard s = new EmbeddedShard(config(200))) {
      s.upgrade();
      s.connection().tick(System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(DEADLINE_MS * 3), s.policy());
      s.channel.runPendingTasks();
      assertTrue(s.channel.isActive());
      assertEquals(0, s.stats().handshakeTimeouts());
    }
  }

  @Test
  void theSocketCountIsHeldFromAcceptAndGivenBackOnceOnEveryEnd() {
    // a refused upgrade, a WebSocket closed by its client, a WebSocket aborted, a socket that never sends
    for (String end : new String[] {"refused", "client-close", "abort", "silent"}) {
      try (EmbeddedShard s = new EmbeddedShard(config(200))) {
        InetAddress peer = peer(s);
        assertEquals(1, s.admission.connections(peer), end + ": counted from accept");
        switch (end) {
          case "refused" -> assertTrue(s.http(EmbeddedShard.upgradeRequest("/ws", "8")).startsWith("HTTP/1.1 426 "));
          case "client-close" -> {
            s.upgrade();
            s.send(new io.netty.handler.codec.http.websocketx.CloseWebSocketFrame(1000, "bye"));
            s.received();
          }
          case "abort" -> {
            s.upgrade();
            s.connection().abort();
          }
          default -> s.connection().tick(System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(DEADLINE_MS * 2), s.policy());
        }
        s.channel.runPendingTasks();
        s.channel.close();
        s.channel.runPendingTasks();
        assertFalse(s.channel.isActive(), end);
        assertEquals(0, s.admission.connections(peer), end + ": given back");
        assertEquals(0, s.admission.addressesHolding(), end + ": no counter left");
      }
    }
  }

  @Test
  void aSocketOverItsAddressLimitGets429AtAcceptAndIsNotServed() {
    try (EmbeddedShard s = new EmbeddedShard(config(1))) {
      SocketAddress same = s.channel.remoteAddress();
      EmbeddedChannel second = new EmbeddedChannel() {
        @Override
        protected SocketAddress remoteAddress0() {
          return same;
        }
      };
      try {
        s.shard.initChannel(second);
        second.runPendingTasks();
        StringBuilder out = new StringBuilder();
        for (Object o; (o = second.readOutbound()) != null; ) {
          out.append(((ByteBuf) o).toString(StandardCharsets.US_ASCII));
          ReferenceCountUtil.release(o);
        }
        String response = out.toString();
        assertTrue(response.startsWith("HTTP/1.1 429 "), response);
        assertTrue(response.toLowerCase().contains("\r\nretry-after: "), response);
        assertTrue(response.endsWith("Too many connections from this address\n"), response);
        assertFalse(second.isActive(), "closed after the answer");
        assertEquals(1, s.admission.refused("ip_connections"));
        assertEquals(1, s.admission.connections(peer(s)), "the refused socket holds nothing");
        s.upgrade(); // the first socket is served
      } finally {
        second.finishAndReleaseAll();
      }
    }
  }

  @Test
  void aRefusedUpgradeGetsTheWholeAnswerAndIsClosed() {
    JsonObject conf = config(200);
    conf.getJsonObject("admission").put("enabled", true).put("allowedOrigins", new io.vertx.core.json.JsonArray().add("https://odin.example"));
    for (String method : new String[] {"GET", "HEAD", "GET"}) {
      try (EmbeddedShard s = new EmbeddedShard(conf)) {
        String request = EmbeddedShard.upgradeRequest("/ws", "13").replaceFirst("^GET", method)
            .replace("\r\n\r\n", "\r\nOrigin: https://elsewhere.example\r\n\r\n");
        String body = "Origin not allowed\n";
        String expected = "HTTP/1.1 403 Forbidden\r\ncontent-type: text/plain; charset=utf-8\r\ncontent-length: " + body.length()
            + "\r\ncache-control: no-store\r\nconnection: close\r\n\r\n" + (method.equals("HEAD") ? "" : body);
        assertEquals(expected, s.http(request), method);
        s.channel.runPendingTasks();
        assertFalse(s.channel.isActive(), method + ": closed after the answer");
        assertEquals(1, s.stats().handshakesFailed(), method);
      }
    }
  }
}
