package io.odinws.shard;

import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.http.websocketx.CloseWebSocketFrame;
import io.netty.handler.codec.http.websocketx.ContinuationWebSocketFrame;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.util.ReferenceCountUtil;
import io.odinws.envelope.OutboundMessage;
import io.odinws.stats.DisconnectReason;
import io.vertx.core.Promise;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** How a shard's WebSocket ends (PROTOCOL.md section 7 and RFC 6455 section 7), on an EmbeddedChannel. */
class ShardCloseTest {

  @Test
  void aClientCloseIsEchoedWithItsCodeThenTheSocketCloses() {
    try (EmbeddedShard s = new EmbeddedShard()) {
      s.upgrade();
      s.subscribe("BTC.trade");
      s.send(new CloseWebSocketFrame(1000, "bye"));
      s.channel.runPendingTasks();
      List<EmbeddedShard.Received> frames = s.received();
      assertEquals(1, frames.size(), frames.toString());
      assertEquals(1000, EmbeddedShard.closeFrame(frames).closeCode());
      assertFalse(s.channel.isActive(), "closed once the echo is written");
      assertEquals(1, s.stats().disconnects(DisconnectReason.CLIENT_CLOSE));
      assertEquals(0, s.stats().webSockets());
    }
  }

  @Test
  void aServerCloseTheSocketTakesAtOnceLeavesNoTimerBehind() {
    try (EmbeddedShard s = new EmbeddedShard()) {
      s.upgrade();
      s.subscribe("BTC.trade");
      long timersBefore = s.channel.runScheduledPendingTasks();
      s.connection().close(Disconnect.SHUTDOWN);
      assertFalse(s.channel.isActive(), "closed as soon as the close frame is written");
      assertEquals(1001, EmbeddedShard.closeFrame(s.received()).closeCode());
      // the 2 s fallback is for a close frame the socket cannot take yet: none here (a drain of every socket made one each)
      assertEquals(timersBefore, s.channel.runScheduledPendingTasks());
    }
  }

  @Test
  void connectionsUpgradedTogetherArePingedSpreadOverTheInterval() {
    try (EmbeddedShard s = new EmbeddedShard(new JsonObject().put("admission", new JsonObject().put("enabled", false)))) {
      List<EmbeddedShard.Client> clients = new java.util.ArrayList<>();
      for (int i = 0; i < 10; i++) {
        EmbeddedShard.Client c = s.client();
        c.upgrade();
        clients.add(c);
      }
      ConnectionPolicy policy = s.policy();
      long now = System.nanoTime();
      long halfway = now + policy.pingEveryNanos() / 2;
      int pinged = 0;
      for (EmbeddedShard.Client c : clients) {
        c.connection().tick(halfway, policy); // due: marked
        c.connection().tick(halfway + TimeUnit.SECONDS.toNanos(1), policy); // no fan-out came: sent alone
        pinged += c.pings();
      }
      // the phases are the golden ratio's multiples modulo one (0, .618, .236, .854, .472, .090, .708, .326, .944, .562):
      // five start over half an interval early, so are pinged half an interval in; the others later
      assertEquals(5, pinged, "half of them half an interval after they upgraded together");
      for (EmbeddedShard.Client c : clients) {
        c.connection().tick(now + policy.pingEveryNanos(), policy);
        c.connection().tick(now + policy.pingEveryNanos() + TimeUnit.SECONDS.toNanos(1), policy);
        pinged += c.pings();
      }
      assertEquals(10, pinged, "each once within the first interval");
    }
  }

  @Test
  void anIdleConnectionIsPingedThenClosedWith1001() {
    try (EmbeddedShard s = new EmbeddedShard()) {
      s.upgrade();
      s.subscribe("BTC.trade");
      ConnectionPolicy policy = s.policy();
      // Connection reads System.nanoTime() itself, with no clock to move: the sweep's "now" is passed to tick() directly.
      long now = System.nanoTime();
      s.connection().tick(now, policy);
      assertEquals(List.of(), s.received(), "nothing due yet");
      s.connection().tick(now + policy.pingEveryNanos(), policy);
      assertEquals(List.of(), s.received(), "due: it waits for a fan-out write to carry it");
      s.connection().tick(now + policy.pingEveryNanos() + TimeUnit.SECONDS.toNanos(1), policy);
      assertEquals(List.of("ping"), s.received().stream().map(EmbeddedShard.Received::kind).toList(), "none came: alone");
      assertTrue(s.channel.isActive());
      s.connection().tick(now + policy.idleAfterNanos() + TimeUnit.SECONDS.toNanos(1), policy);
      s.channel.runPendingTasks();
      EmbeddedShard.Received close = EmbeddedShard.closeFrame(s.received());
      assertEquals(1001, close.closeCode());
      assertEquals("Idle timeout", close.text());
      assertFalse(s.channel.isActive());
      assertEquals(1, s.stats().disconnects(DisconnectReason.IDLE_TIMEOUT));
    }
  }

  @Test
  void aConnectionThatFloodsForTheFloodWindowIsClosedWith1008AtTheSweep() {
    // One flooding second closes (default: 10); a second with over 1 x 10 messages floods (default: 10 x 10).
    JsonObject limits = new JsonObject().put("limits", new JsonObject().put("floodSeconds", 1).put("floodFactor", 1));
    try (EmbeddedShard s = new EmbeddedShard(limits)) {
      s.upgrade();
      for (int i = 0; i < 10; i++) {
        s.sendText("{\"type\":\"heartbeat\"}");
      }
      s.shard.sweep();
      assertEquals(10, s.received().size(), "ten pongs");
      assertTrue(s.channel.isActive(), "ten in a second is not over the threshold");

      for (int i = 0; i < 11; i++) {
        s.sendText("{\"type\":\"heartbeat\"}");
      }
      assertEquals(11, s.received().size(), "within the burst: all answered");
      s.shard.sweep();
      s.channel.runPendingTasks();
      EmbeddedShard.Received close = EmbeddedShard.closeFrame(s.received());
      assertEquals(1008, close.closeCode());
      assertEquals("Flooding: over 10 messages per second", close.text());
      assertFalse(s.channel.isActive());
      assertEquals(1, s.stats().disconnects(DisconnectReason.FLOODING));
    }
  }

  @Test
  void aFlooderReadUnevenlyIsStillClosed() {
    // A busy shard reads a flooder in bursts with quiet seconds between: the flood is counted in messages.
    JsonObject limits = new JsonObject().put("limits", new JsonObject().put("floodSeconds", 2).put("floodFactor", 1));
    try (EmbeddedShard s = new EmbeddedShard(limits)) {
      s.upgrade();
      for (int burst = 0; burst < 2; burst++) {
        for (int i = 0; i < 15; i++) {
          s.sendText("{\"type\":\"heartbeat\"}");
        }
        s.shard.sweep();
        s.shard.sweep(); // a second in which nothing was read
      }
      s.channel.runPendingTasks();
      assertEquals(1008, EmbeddedShard.closeFrame(s.received()).closeCode(), "30 messages, 20 beyond the pace of 10/s");
      assertEquals(1, s.stats().disconnects(DisconnectReason.FLOODING));
    }
  }

  @Test
  void aMessageOverTheSizeLimitClosesWith1009() {
    try (EmbeddedShard s = new EmbeddedShard(new JsonObject().put("ws", new JsonObject().put("maxMessageBytes", 1024)))) {
      s.upgrade();
      s.sendText(" ".repeat(1025));
      s.channel.runPendingTasks();
      assertEquals(1009, EmbeddedShard.closeFrame(s.received()).closeCode());
      assertFalse(s.channel.isActive());
      assertEquals(1, s.stats().disconnects(DisconnectReason.MESSAGE_TOO_BIG));
    }
  }

  @Test
  void aFragmentedMessageOverTheSizeLimitClosesWith1009() {
    try (EmbeddedShard s = new EmbeddedShard(new JsonObject().put("ws", new JsonObject().put("maxMessageBytes", 1024)))) {
      s.upgrade();
      // each fragment is under the frame limit, together they are over the message limit
      s.send(new TextWebSocketFrame(false, 0, Unpooled.copiedBuffer(new byte[600])));
      assertEquals(List.of(), s.received(), "a first fragment is not answered");
      s.send(new ContinuationWebSocketFrame(true, 0, Unpooled.copiedBuffer(new byte[600])));
      s.channel.runPendingTasks();
      EmbeddedShard.Received close = EmbeddedShard.closeFrame(s.received());
      assertEquals(1009, close.closeCode());
      assertEquals("Message too big", close.text());
      assertFalse(s.channel.isActive());
      assertEquals(1, s.stats().disconnects(DisconnectReason.MESSAGE_TOO_BIG));
    }
  }

  @Test
  void aClientQueuedOverTheHardCapIsClosedWith1008AtTheFlush() {
    try (EmbeddedShard s = new EmbeddedShard(SMALL_OUTBOUND_LIMITS)) {
      s.upgrade();
      s.subscribe("BTC.trade");
      StalledSocket socket = new StalledSocket();
      s.channel.pipeline().addFirst(socket); // a peer that stopped reading: written bytes stay queued
      s.shard.onBatch(EmbeddedShard.batch(bigMessages(s, 5))); // over 5,000 bytes: over the 4,096-byte cap
      s.channel.runPendingTasks();
      assertTrue(s.channel.isActive(), "the close frame is queued behind the messages");

      socket.resume();
      s.channel.runPendingTasks();
      List<EmbeddedShard.Received> frames = s.received();
      assertEquals(6, frames.size(), "the five messages, then the close frame: " + frames.size());
      EmbeddedShard.Received close = EmbeddedShard.closeFrame(frames);
      assertEquals(1008, close.closeCode());
      assertEquals("Client too slow to process messages", close.text());
      assertFalse(s.channel.isActive());
      assertEquals(1, s.stats().slowClientsClosed());
      assertEquals(1, s.stats().disconnects(DisconnectReason.SLOW_CLIENT));
    }
  }

  @Test
  void aClientOverTheHighWaterMarkForTheGracePeriodIsClosedWith1008() {
    try (EmbeddedShard s = new EmbeddedShard(SMALL_OUTBOUND_LIMITS)) {
      s.upgrade();
      s.subscribe("BTC.trade");
      StalledSocket socket = new StalledSocket();
      s.channel.pipeline().addFirst(socket);
      s.shard.onBatch(EmbeddedShard.batch(bigMessages(s, 2))); // over the 1,024-byte mark, under the cap
      s.channel.runPendingTasks();
      assertFalse(s.channel.isWritable());
      ConnectionPolicy policy = s.policy();
      long now = System.nanoTime();
      s.connection().tick(now, policy);
      assertEquals(0, s.stats().slowClientsClosed(), "slow, but within the grace period");
      s.connection().tick(now + policy.slowGraceNanos() + TimeUnit.SECONDS.toNanos(1), policy);

      socket.resume();
      s.channel.runPendingTasks();
      EmbeddedShard.Received close = EmbeddedShard.closeFrame(s.received());
      assertEquals(1008, close.closeCode());
      assertEquals("Client too slow to process messages", close.text());
      assertFalse(s.channel.isActive());
      assertEquals(1, s.stats().disconnects(DisconnectReason.SLOW_CLIENT));
    }
  }

  @Test
  void drainSends1001AndCompletesWhenTheSocketHasClosed() {
    try (EmbeddedShard s = new EmbeddedShard()) {
      s.upgrade();
      HeldWrites held = new HeldWrites();
      s.channel.pipeline().addFirst(held); // the socket takes nothing until released: the close frame waits
      Promise<Void> drained = Promise.promise();
      s.shard.drain(Disconnect.SHUTDOWN, drained);
      s.channel.runPendingTasks();
      assertFalse(drained.future().isComplete(), "the close frame is not written yet");
      assertTrue(s.channel.isActive());

      held.release();
      s.channel.runPendingTasks();
      EmbeddedShard.Received close = EmbeddedShard.closeFrame(s.received());
      assertEquals(1001, close.closeCode());
      assertEquals("Server shutting down", close.text());
      assertFalse(s.channel.isActive());
      assertTrue(drained.future().succeeded(), "complete once the last socket closed");
      assertEquals(1, s.stats().disconnects(DisconnectReason.SHUTDOWN));
      assertEquals(0, s.stats().webSockets());
    }
  }

  @Test
  void aCloseFrameThatCannotBeWrittenStillClosesTheSocketAfterTwoSeconds() {
    try (EmbeddedShard s = new EmbeddedShard()) {
      s.channel.freezeTime(); // the close timeout is a task on the channel's loop, whose clock the test moves
      s.upgrade();
      HeldWrites held = new HeldWrites();
      s.channel.pipeline().addFirst(held); // a peer that never reads
      Promise<Void> drained = Promise.promise();
      s.shard.drain(Disconnect.SHUTDOWN, drained);
      s.channel.advanceTimeBy(1, TimeUnit.SECONDS);
      s.channel.runPendingTasks();
      assertTrue(s.channel.isActive(), "not before the close timeout");
      s.channel.advanceTimeBy(1, TimeUnit.SECONDS);
      s.channel.runPendingTasks();
      assertFalse(s.channel.isActive(), "closed without its close frame");
      assertTrue(drained.future().succeeded());
      held.discard();
    }
  }

  @Test
  void whatAClosingConnectionStillSendsIsNotRead() {
    try (EmbeddedShard s = new EmbeddedShard()) {
      s.channel.freezeTime();
      s.upgrade();
      HeldWrites held = new HeldWrites();
      s.channel.pipeline().addFirst(held); // the close frame waits in the socket: the connection is closing
      s.shard.drain(Disconnect.SHUTDOWN, Promise.promise());
      for (int i = 0; i < 200; i++) {
        s.sendText("{\"type\":\"heartbeat\"}"); // a flooder that goes on after its close
      }
      assertEquals(0, s.stats().messagesReceived(), "neither served nor counted against the rate limit");
      assertEquals(0, s.stats().rateLimitedMessages());
      held.release();
      List<EmbeddedShard.Received> frames = s.received();
      assertEquals(List.of("close"), frames.stream().map(EmbeddedShard.Received::kind).toList(), frames.toString());
    }
  }

  @Test
  void drainClosesASocketThatHasNotUpgradedWithoutAFrame() {
    try (EmbeddedShard s = new EmbeddedShard()) {
      Promise<Void> drained = Promise.promise();
      s.shard.drain(Disconnect.SHUTDOWN, drained);
      s.channel.runPendingTasks();
      assertFalse(s.channel.isActive());
      assertTrue(drained.future().succeeded());
      assertNull(s.channel.readOutbound(), "no WebSocket close frame on an HTTP connection");
    }
  }

  /** The smallest outbound limits the configuration accepts: a few messages make a client slow. */
  private static final JsonObject SMALL_OUTBOUND_LIMITS = new JsonObject().put("limits",
      new JsonObject().put("outboundHighWaterBytes", 1024).put("outboundHardCapBytes", 4096));

  /** {@code n} messages on BTC.trade of a little over 1,000 bytes each. */
  private static OutboundMessage[] bigMessages(EmbeddedShard s, int n) {
    OutboundMessage[] messages = new OutboundMessage[n];
    for (int i = 0; i < n; i++) {
      messages[i] = s.message("BTC", "trade", "{\"pad\":\"" + "x".repeat(900) + "\"}");
    }
    return messages;
  }

  /**
   * Lets writes into the channel's outbound buffer but holds back flushes until resumed: a peer that
   * stopped reading, so the buffer fills and the channel's writability follows it.
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
  }

  /** Holds every write and flush below the connection until released: a socket whose buffer is full. */
  private static final class HeldWrites extends ChannelOutboundHandlerAdapter {

    private final List<Object> messages = new ArrayList<>();
    private final List<ChannelPromise> promises = new ArrayList<>();
    private ChannelHandlerContext ctx;

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
      this.ctx = ctx;
    }

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
      messages.add(msg);
      promises.add(promise);
    }

    @Override
    public void flush(ChannelHandlerContext ctx) {
    }

    /** The socket drains: everything held is written, in order. */
    void release() {
      for (int i = 0; i < messages.size(); i++) {
        ctx.write(messages.get(i), promises.get(i));
      }
      messages.clear();
      promises.clear();
      ctx.flush();
    }

    /** The socket is gone: what it held is freed. */
    void discard() {
      messages.forEach(ReferenceCountUtil::release);
      messages.clear();
      promises.clear();
    }
  }
}
