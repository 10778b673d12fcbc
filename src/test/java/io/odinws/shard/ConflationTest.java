package io.odinws.shard;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.odinws.envelope.OutboundMessage;
import io.odinws.stats.DisconnectReason;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Conflation for slow clients (PROTOCOL.md sections 5 and 9) on an EmbeddedChannel: what a connection over its high
 * water mark keeps, replaces and writes once its socket drains, and who owns the kept frames (every test ends with
 * the shard closed and NettyLeakExtension watching).
 */
class ConflationTest {

  /** The smallest outbound limits the configuration accepts; analytics is {@code latest} by default, trade {@code all}. */
  private static final JsonObject SMALL_OUTBOUND_LIMITS = new JsonObject().put("limits",
      new JsonObject().put("outboundHighWaterBytes", 1024).put("outboundHardCapBytes", 64 * 1024));

  @Test
  void overTheHighWaterMarkALatestChannelKeepsItsNewestMessageAndSaysHowManyItSkipped() {
    try (EmbeddedShard s = new EmbeddedShard(SMALL_OUTBOUND_LIMITS)) {
      s.upgrade();
      s.subscribe("BTC.analytics", "ETH.analytics");
      StalledSocket socket = stall(s);
      // two big messages: queued (the connection was writable), then over the mark
      s.shard.onBatch(EmbeddedShard.batch(big(s, "BTC", 0), big(s, "BTC", 1)));
      s.channel.runPendingTasks();
      assertFalse(s.channel.isWritable());
      List<OutboundMessage> btc = new ArrayList<>();
      for (int i = 2; i < 12; i++) {
        btc.add(s.message("BTC", "analytics", "{\"i\":" + i + "}"));
      }
      OutboundMessage eth = s.message("ETH", "analytics", "{\"i\":0}");
      btc.add(5, eth);
      s.shard.onBatch(EmbeddedShard.batch(btc.toArray(OutboundMessage[]::new)));
      s.channel.runPendingTasks();
      assertEquals(2, s.connection().keptCount(), "one per channel");
      assertEquals(2, s.stats().keptMessages());
      assertEquals(9, s.stats().conflatedMessages(), "BTC 2..10 replaced by 11");

      socket.resume();
      s.channel.runPendingTasks();
      List<JsonObject> got = s.received().stream().map(EmbeddedShard.Received::json).toList();
      assertEquals(4, got.size(), got.toString());
      assertEquals(0, got.get(0).getJsonObject("data").getInteger("i"));
      assertEquals(1, got.get(1).getJsonObject("data").getInteger("i"));
      assertNull(got.get(1).getValue("skipped"));
      JsonObject newestBtc = got.get(2);
      assertEquals("BTC.analytics", newestBtc.getString("channel"));
      assertEquals(11, newestBtc.getJsonObject("data").getInteger("i"));
      assertEquals(9, newestBtc.getLong("skipped"));
      assertEquals("price:update", newestBtc.getString("type"));
      // seq and pos are the real message's
      assertEquals(btc.get(btc.size() - 1).offset(), newestBtc.getLong("seq"));
      assertEquals("3:" + newestBtc.getLong("seq"), newestBtc.getString("pos"));
      JsonObject onlyEth = got.get(3);
      assertEquals("ETH.analytics", onlyEth.getString("channel"));
      assertNull(onlyEth.getValue("skipped"), "kept but nothing skipped: the shared frame");
      assertEquals(eth.offset(), onlyEth.getLong("seq"));
      assertEquals(0, s.connection().keptCount());
      assertEquals(0, s.stats().keptMessages());
      assertTrue(s.channel.isActive());

      // Writable again: live messages go as before, the skipped count starts again.
      s.shard.onBatch(EmbeddedShard.batch(s.message("BTC", "analytics", "{\"i\":12}")));
      s.channel.runPendingTasks();
      JsonObject next = s.received().get(0).json();
      assertEquals(12, next.getJsonObject("data").getInteger("i"));
      assertNull(next.getValue("skipped"));
    }
  }

  @Test
  void anAllChannelIsQueuedAsBeforeAndNothingIsKept() {
    try (EmbeddedShard s = new EmbeddedShard(SMALL_OUTBOUND_LIMITS)) {
      s.upgrade();
      s.subscribe("BTC.trade");
      StalledSocket socket = stall(s);
      s.shard.onBatch(EmbeddedShard.batch(big(s, "BTC", "trade", 0), big(s, "BTC", "trade", 1)));
      s.channel.runPendingTasks();
      assertFalse(s.channel.isWritable());
      OutboundMessage[] more = new OutboundMessage[10];
      for (int i = 0; i < more.length; i++) {
        more[i] = s.message("BTC", "trade", "{\"i\":" + (i + 2) + "}");
      }
      s.shard.onBatch(EmbeddedShard.batch(more));
      s.channel.runPendingTasks();
      assertEquals(0, s.connection().keptCount());
      assertEquals(0, s.stats().conflatedMessages());
      socket.resume();
      s.channel.runPendingTasks();
      List<EmbeddedShard.Received> got = s.received();
      assertEquals(12, got.size());
      for (int i = 0; i < 12; i++) {
        assertEquals(i, got.get(i).json().getJsonObject("data").getInteger("i"));
        assertNull(got.get(i).json().getValue("skipped"));
      }
    }
  }

  @Test
  void aMessageMatchedByAWildcardIsKeptPerItsOwnChannel() {
    try (EmbeddedShard s = new EmbeddedShard(SMALL_OUTBOUND_LIMITS)) {
      s.upgrade();
      s.subscribe("*.analytics", "BTC.*");
      StalledSocket socket = stall(s);
      s.shard.onBatch(EmbeddedShard.batch(big(s, "SOL", 0), big(s, "SOL", 1)));
      s.channel.runPendingTasks();
      s.shard.onBatch(EmbeddedShard.batch(s.message("BTC", "analytics", "{\"i\":2}"), s.message("SOL", "analytics", "{\"i\":3}"),
          s.message("BTC", "analytics", "{\"i\":4}"), s.message("DOGE", "analytics", "{\"i\":5}"), s.message("SOL", "analytics", "{\"i\":6}")));
      s.channel.runPendingTasks();
      assertEquals(3, s.connection().keptCount());
      socket.resume();
      s.channel.runPendingTasks();
      List<JsonObject> got = s.received().stream().map(EmbeddedShard.Received::json).toList();
      assertEquals(List.of(0, 1, 4, 6, 5), got.stream().map(j -> j.getJsonObject("data").getInteger("i")).toList());
      assertEquals(1L, got.get(2).getLong("skipped"), "BTC: 2 skipped, delivered once although two subscriptions match");
      assertEquals(1L, got.get(3).getLong("skipped"), "SOL: 3 skipped");
      assertNull(got.get(4).getValue("skipped"));
    }
  }

  @Test
  void unsubscribeAndCloseReleaseWhatIsKept() {
    try (EmbeddedShard s = new EmbeddedShard(SMALL_OUTBOUND_LIMITS)) {
      s.upgrade();
      s.subscribe("BTC.analytics", "ETH.analytics", "SOL.analytics");
      StalledSocket socket = stall(s);
      s.shard.onBatch(EmbeddedShard.batch(big(s, "BTC", 0), big(s, "BTC", 1)));
      s.channel.runPendingTasks();
      s.shard.onBatch(EmbeddedShard.batch(s.message("BTC", "analytics", "{\"i\":2}"), s.message("ETH", "analytics", "{\"i\":3}"),
          s.message("SOL", "analytics", "{\"i\":4}"), s.message("ETH", "analytics", "{\"i\":5}")));
      s.channel.runPendingTasks();
      assertEquals(3, s.connection().keptCount());
      s.sendText("{\"type\":\"unsubscribe\",\"data\":{\"channels\":[\"ETH.analytics\"]}}");
      s.channel.runPendingTasks();
      assertEquals(2, s.connection().keptCount(), "ETH's kept message released with its subscription");
      assertEquals(2, s.stats().keptMessages());
      socket.resume();
      s.channel.runPendingTasks();
      List<EmbeddedShard.Received> got = s.received();
      assertEquals(List.of(0, 1), got.subList(0, 2).stream().map(r -> r.json().getJsonObject("data").getInteger("i")).toList());
      assertEquals("unsubscription_ack", got.get(2).type(), got.toString());
      assertEquals(List.of(2, 4), got.subList(3, 5).stream().map(r -> r.json().getJsonObject("data").getInteger("i")).toList());

      // stalled again with messages kept, then the socket closes: the kept frames are released (the leak check sees it)
      socket.stall();
      s.shard.onBatch(EmbeddedShard.batch(big(s, "BTC", 6), big(s, "BTC", 7)));
      s.channel.runPendingTasks();
      s.shard.onBatch(EmbeddedShard.batch(s.message("SOL", "analytics", "{\"i\":8}"), s.message("SOL", "analytics", "{\"i\":9}")));
      s.channel.runPendingTasks();
      assertEquals(1, s.connection().keptCount());
      s.channel.close();
      s.channel.runPendingTasks();
      assertEquals(0, s.stats().keptMessages());
    }
  }

  @Test
  void aLatestOnlyConnectionThatKeepsDrainingOutlastsTheGraceOneThatStopsDoesNot() {
    try (EmbeddedShard s = new EmbeddedShard(SMALL_OUTBOUND_LIMITS)) {
      s.upgrade();
      s.subscribe("BTC.analytics");
      StalledSocket socket = stall(s);
      s.shard.onBatch(EmbeddedShard.batch(big(s, "BTC", 0), big(s, "BTC", 1), big(s, "BTC", 2)));
      s.channel.runPendingTasks();
      s.shard.onBatch(EmbeddedShard.batch(s.message("BTC", "analytics", "{\"i\":3}")));
      s.channel.runPendingTasks();
      assertFalse(s.channel.isWritable());
      ConnectionPolicy policy = s.policy();
      long now = System.nanoTime();
      long grace = policy.slowGraceNanos() + TimeUnit.SECONDS.toNanos(1);
      // it drained a frame during the grace period (still over the mark): not closed, its grace starts again
      socket.writeOne();
      assertFalse(s.channel.isWritable());
      s.connection().tick(now + grace, policy);
      assertTrue(s.channel.isActive());
      assertEquals(0, s.stats().slowClientsClosed());
      // no progress during the next grace period: closed with 1008 as any slow client
      s.connection().tick(now + 2 * grace + 1, policy);
      socket.resume();
      s.channel.runPendingTasks();
      EmbeddedShard.Received close = EmbeddedShard.closeFrame(s.received());
      assertEquals(1008, close.closeCode());
      assertEquals(1, s.stats().disconnects(DisconnectReason.SLOW_CLIENT));
    }
  }

  @Test
  void aConnectionThatQueuedAnAllMessageWhileSlowKeepsTodaysGrace() {
    try (EmbeddedShard s = new EmbeddedShard(SMALL_OUTBOUND_LIMITS)) {
      s.upgrade();
      s.subscribe("BTC.analytics", "BTC.trade");
      StalledSocket socket = stall(s);
      s.shard.onBatch(EmbeddedShard.batch(big(s, "BTC", 0), big(s, "BTC", 1), big(s, "BTC", 2)));
      s.channel.runPendingTasks();
      s.shard.onBatch(EmbeddedShard.batch(s.message("BTC", "analytics", "{\"i\":3}"), s.message("BTC", "trade", "{\"i\":4}")));
      s.channel.runPendingTasks();
      ConnectionPolicy policy = s.policy();
      socket.writeOne();
      s.connection().tick(System.nanoTime() + policy.slowGraceNanos() + TimeUnit.SECONDS.toNanos(1), policy);
      socket.resume();
      s.channel.runPendingTasks();
      assertEquals(1008, EmbeddedShard.closeFrame(s.received()).closeCode());
    }
  }

  private static StalledSocket stall(EmbeddedShard s) {
    StalledSocket socket = new StalledSocket();
    s.channel.pipeline().addFirst(socket);
    return socket;
  }

  /** A message of a little over 1,000 bytes on {@code token.analytics}, {@code "i"} its data's counter. */
  private static OutboundMessage big(EmbeddedShard s, String token, int i) {
    return big(s, token, "analytics", i);
  }

  private static OutboundMessage big(EmbeddedShard s, String token, String category, int i) {
    return s.message(token, category, "{\"i\":" + i + ",\"pad\":\"" + "x".repeat(900) + "\"}");
  }

  /**
   * Lets writes into the channel's outbound buffer but holds back flushes until resumed: a peer that stopped
   * reading, so the buffer fills and the channel's writability follows it. {@link #writeOne} lets one frame out.
   */
  private static final class StalledSocket extends ChannelOutboundHandlerAdapter {

    private ChannelHandlerContext ctx;
    private boolean stalled = true;

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
      this.ctx = ctx;
    }

    @Override
    public void flush(ChannelHandlerContext ctx) {
      if (!stalled) {
        ctx.flush();
      }
    }

    void resume() {
      stalled = false;
      ctx.flush();
    }

    void stall() {
      stalled = true;
    }

    /** The peer reads one frame: only the first of the queued messages leaves. */
    void writeOne() {
      io.netty.channel.ChannelOutboundBuffer out = ctx.channel().unsafe().outboundBuffer();
      out.addFlush();
      Object first = out.current();
      if (first != null) {
        out.remove(); // read by nobody: the tests that use it look only at what follows
      }
    }
  }
}
