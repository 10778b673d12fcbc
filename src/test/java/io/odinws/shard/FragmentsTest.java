package io.odinws.shard;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.websocketx.ContinuationWebSocketFrame;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.Utf8FrameValidator;
import io.netty.handler.codec.http.websocketx.WebSocketFrameAggregator;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A connection without compression holds no validator or aggregator of its own until it sends a fragmented message;
 * whole messages are checked for UTF-8 and fragmented ones reassembled, checked and bounded all the same.
 */
class FragmentsTest {

  private static final String SUBSCRIBE = "{\"type\":\"subscribe\",\"data\":{\"channels\":[\"BTC.trade\"]}}";

  @Test
  void anIdleConnectionHasNoValidatorOrAggregatorOfItsOwn() {
    try (EmbeddedShard s = new EmbeddedShard()) {
      s.upgrade();
      assertEquals("subscription_ack", s.request(SUBSCRIBE).getString("type"));
      assertNull(s.channel.pipeline().get(Utf8FrameValidator.class));
      assertNull(s.channel.pipeline().get(WebSocketFrameAggregator.class));
    }
  }

  @Test
  void aFragmentedMessageIsAnsweredWholeAndTheConnectionKeepsItsOwnAggregator() {
    try (EmbeddedShard s = new EmbeddedShard()) {
      s.upgrade();
      int a = SUBSCRIBE.length() / 3;
      int b = 2 * a;
      s.send(new TextWebSocketFrame(false, 0, SUBSCRIBE.substring(0, a)));
      s.send(new ContinuationWebSocketFrame(false, 0, SUBSCRIBE.substring(a, b)));
      s.send(new ContinuationWebSocketFrame(true, 0, SUBSCRIBE.substring(b)));
      s.channel.runPendingTasks();
      List<EmbeddedShard.Received> frames = s.received();
      assertEquals(1, frames.size(), frames.toString());
      assertEquals("subscription_ack", frames.get(0).type());
      assertNotNull(s.channel.pipeline().get(Utf8FrameValidator.class));
      assertNotNull(s.channel.pipeline().get(WebSocketFrameAggregator.class));
      // and whole messages still pass
      assertEquals("subscription_ack", s.request(SUBSCRIBE.replace("BTC", "ETH")).getString("type"));
    }
  }

  @Test
  void aCharacterSplitAcrossFragmentsIsValidAndABrokenOneGets1007() {
    byte[] euro = "{\"type\":\"subscribe\",\"data\":{\"channels\":[\"\u20ac.trade\"]}}".getBytes(StandardCharsets.UTF_8);
    int split = indexOf(euro, (byte) 0xE2) + 1; // inside the three bytes of the euro sign
    try (EmbeddedShard s = new EmbeddedShard()) {
      s.upgrade();
      s.send(new TextWebSocketFrame(false, 0, Unpooled.wrappedBuffer(euro, 0, split)));
      s.send(new ContinuationWebSocketFrame(true, 0, Unpooled.wrappedBuffer(euro, split, euro.length - split)));
      s.channel.runPendingTasks();
      List<EmbeddedShard.Received> frames = s.received();
      assertEquals(1, frames.size(), frames.toString());
      assertFalse(frames.get(0).kind().equals("close"), "valid UTF-8 split between frames: " + frames);
    }
    try (EmbeddedShard s = new EmbeddedShard()) {
      s.upgrade();
      s.send(new TextWebSocketFrame(false, 0, Unpooled.wrappedBuffer(euro, 0, split)));
      s.send(new ContinuationWebSocketFrame(true, 0, Unpooled.wrappedBuffer(new byte[] {'"', '}'})));
      assertEquals(1007, s.onlyCloseFrame().closeCode());
      assertFalse(s.channel.isActive());
    }
  }

  @Test
  void fragmentsOverTheMessageLimitGet1009() {
    try (EmbeddedShard s = new EmbeddedShard()) {
      s.upgrade();
      String part = " ".repeat(40_000);
      s.send(new TextWebSocketFrame(false, 0, part));
      s.send(new ContinuationWebSocketFrame(true, 0, part)); // 80,000 bytes against 65,536
      assertEquals(1009, s.onlyCloseFrame().closeCode());
    }
  }

  private static int indexOf(byte[] b, byte x) {
    for (int i = 0; i < b.length; i++) {
      if (b[i] == x) {
        return i;
      }
    }
    throw new AssertionError();
  }
}
