package io.odinws.shard;

import io.netty.buffer.AbstractByteBufAllocator;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.CompositeByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.buffer.UnpooledByteBufAllocator;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.websocketx.BinaryWebSocketFrame;
import io.netty.handler.codec.http.websocketx.ContinuationWebSocketFrame;
import io.netty.handler.codec.http.websocketx.PingWebSocketFrame;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocket13FrameEncoder;
import io.netty.handler.codec.http.websocketx.WebSocketFrame;
import io.odinws.testkit.Await;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What a connection over its inbound rate costs: the messages the rate limit drops are skipped in the read buffer,
 * unread, and the connection is not read for a second; every other frame is decoded as before, and
 * the answers are the same, however the bytes are split across reads.
 */
class OverRateFrameDecoderTest {

  private static final String HEARTBEAT = "{\"type\":\"heartbeat\"}";
  /** conf/default.json's limits.messageBurst; its flood detector holds 1,000 messages beyond its pace. */
  private static final int BUCKET = 100;

  @Test
  void aMessageOverTheRateCostsNoBufferOfItsOwn() {
    try (EmbeddedShard s = new EmbeddedShard()) {
      s.upgrade();
      s.channel.writeInbound(encode(heartbeats(BUCKET)));
      s.received();
      Allocations counted = new Allocations();
      s.channel.config().setAllocator(counted);
      long droppedBefore = s.stats().rateLimitedMessages();
      s.channel.writeInbound(encode(heartbeats(500)));
      s.channel.runPendingTasks();
      long dropped = s.stats().rateLimitedMessages() - droppedBefore;
      // the refill over this test's milliseconds may admit one or two (and each pong allocates)
      assertTrue(dropped >= 495, "dropped: " + dropped);
      assertTrue(counted.count.get() < 10, "buffers allocated for 500 messages over the rate: " + counted.count.get());
      assertTrue(s.channel.isActive());
    }
  }

  /**
   * The same mix, in one read and one byte per read: the bucket's messages answered, the rest dropped (one
   * error), a ping answered, a fragmented message and an oversize frame handled by Netty's decoder as before.
   */
  @Test
  void everyOtherFrameIsDecodedAsBeforeHoweverTheBytesAreSplit() {
    for (boolean byteByByte : new boolean[] {false, true}) {
      try (EmbeddedShard s = new EmbeddedShard()) {
        s.upgrade();
        List<WebSocketFrame> frames = new ArrayList<>();
        for (int i = 0; i < BUCKET + 20; i++) {
          frames.add(new TextWebSocketFrame(HEARTBEAT));
          if (i == BUCKET + 5) {
            frames.add(new PingWebSocketFrame(Unpooled.copiedBuffer("p", StandardCharsets.US_ASCII)));
            // a fragmented message over the rate: dropped whole once assembled, never skipped in part
            frames.add(new TextWebSocketFrame(false, 0, "{\"type\":"));
            frames.add(new ContinuationWebSocketFrame(true, 0, "\"heartbeat\"}"));
            frames.add(new BinaryWebSocketFrame(Unpooled.wrappedBuffer(new byte[300])));
          }
        }
        ByteBuf wire = encode(frames);
        if (byteByByte) {
          while (wire.isReadable()) {
            s.channel.writeInbound(wire.readRetainedSlice(1));
          }
          wire.release();
        } else {
          s.channel.writeInbound(wire);
        }
        s.channel.runPendingTasks();
        List<EmbeddedShard.Received> out = s.received();
        long pongs = out.stream().filter(r -> "text".equals(r.kind()) && "pong".equals(r.type())).count();
        long errors = out.stream().filter(r -> "text".equals(r.kind()) && "error".equals(r.type())).count();
        long pingAnswers = out.stream().filter(r -> "PongWebSocketFrame".equals(r.kind())).count();
        String how = byteByByte ? "one byte per read" : "one read";
        int messages = BUCKET + 20 + 2; // heartbeats, the fragmented message, the binary one
        assertEquals(messages, s.stats().messagesReceived(), how);
        assertEquals(messages - pongs, s.stats().rateLimitedMessages(), how + ": every message answered or dropped");
        assertTrue(pongs >= BUCKET && pongs < BUCKET + 5, how + ": " + pongs);
        assertEquals(1, errors, how + ": one RATE_LIMIT_EXCEEDED");
        assertEquals(1, pingAnswers, how + ": the ping answered");
        assertTrue(s.channel.isActive(), how);
      }
    }
  }

  @Test
  void aConnectionOverItsRateIsNotReadForASecond() {
    try (EmbeddedShard s = new EmbeddedShard()) {
      s.upgrade();
      s.channel.writeInbound(encode(heartbeats(BUCKET)));
      assertTrue(s.channel.config().isAutoRead(), "the bucket's messages pause nothing");
      long pausedAt = System.nanoTime();
      s.channel.writeInbound(encode(heartbeats(10)));
      assertFalse(s.channel.config().isAutoRead(), "a message dropped: reading paused");
      s.shard.sweep();
      assertFalse(s.channel.config().isAutoRead(), "not resumed by the sweep: each connection has its own second");
      // EmbeddedChannel runs a scheduled task only when asked: each poll asks
      Await.until("read again after the pause", Duration.ofSeconds(10), () -> {
        s.channel.runScheduledPendingTasks();
        return s.channel.config().isAutoRead();
      });
      assertTrue(System.nanoTime() - pausedAt >= 1_000_000_000L, "not before a second");
      assertTrue(s.channel.isActive());
    }
  }

  @Test
  void anOversizeFrameOverTheRateIsStillAnsweredWith1009() {
    try (EmbeddedShard s = new EmbeddedShard()) {
      s.upgrade();
      s.channel.writeInbound(encode(heartbeats(BUCKET + 10)));
      s.received();
      s.channel.writeInbound(encode(List.of(new TextWebSocketFrame(Unpooled.wrappedBuffer(new byte[70_000])))));
      assertEquals(1009, s.onlyCloseFrame().closeCode());
    }
  }

  private static List<WebSocketFrame> heartbeats(int n) {
    List<WebSocketFrame> frames = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      frames.add(new TextWebSocketFrame(HEARTBEAT));
    }
    return frames;
  }

  /** The frames as a client writes them (masked), in one buffer. */
  private static ByteBuf encode(List<WebSocketFrame> frames) {
    EmbeddedChannel encoder = new EmbeddedChannel(new WebSocket13FrameEncoder(true));
    for (WebSocketFrame f : frames) {
      encoder.writeOutbound(f);
    }
    CompositeByteBuf wire = Unpooled.compositeBuffer(Integer.MAX_VALUE);
    for (Object bytes; (bytes = encoder.readOutbound()) != null; ) {
      wire.addComponent(true, (ByteBuf) bytes);
    }
    encoder.finishAndReleaseAll();
    ByteBuf flat = Unpooled.copiedBuffer(wire);
    wire.release();
    return flat;
  }

  /** Counts the buffers the channel's handlers allocate. */
  private static final class Allocations extends AbstractByteBufAllocator {
    final AtomicInteger count = new AtomicInteger();

    @Override
    protected ByteBuf newHeapBuffer(int initialCapacity, int maxCapacity) {
      count.incrementAndGet();
      return UnpooledByteBufAllocator.DEFAULT.heapBuffer(initialCapacity, maxCapacity);
    }

    @Override
    protected ByteBuf newDirectBuffer(int initialCapacity, int maxCapacity) {
      count.incrementAndGet();
      return UnpooledByteBufAllocator.DEFAULT.directBuffer(initialCapacity, maxCapacity);
    }

    @Override
    public boolean isDirectBufferPooled() {
      return false;
    }
  }
}
