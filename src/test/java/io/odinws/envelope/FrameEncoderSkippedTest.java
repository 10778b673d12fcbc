package io.odinws.envelope;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.UnpooledByteBufAllocator;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocket13FrameDecoder;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** {@link FrameEncoder#skippedOf}: the conflated envelope (PROTOCOL.md sections 5 and 9), for every header size. */
class FrameEncoderSkippedTest {

  private final FrameEncoder encoder = new FrameEncoder(UnpooledByteBufAllocator.DEFAULT);

  @Test
  void addsSkippedRightAfterPosAndKeepsEverythingElseForEveryFrameHeaderSize() {
    // payloads of 2-byte, 4-byte and 10-byte headers, and one that crosses from 2 to 4 with the field
    for (int valueLen : new int[] {10, 40, 1_000, 70_000}) {
      String value = "{\"v\":\"" + "x".repeat(valueLen) + "\"}";
      ByteBuf live = encoder.encodeLive("BTC.analytics".getBytes(StandardCharsets.US_ASCII), 3, 1042, 1_732_000_000_000L,
          value.getBytes(StandardCharsets.UTF_8));
      ByteBuf skipped = FrameEncoder.skippedOf(live, 17, UnpooledByteBufAllocator.DEFAULT);
      try {
        assertEquals(1, live.refCnt(), "the live frame is neither modified nor released");
        String liveText = text(live.retainedDuplicate());
        String text = text(skipped);
        assertEquals(liveText.replace("\"pos\":\"3:1042\"", "\"pos\":\"3:1042\",\"skipped\":17"), text);
        JsonObject m = new JsonObject(text);
        assertEquals(17L, m.getLong("skipped"));
        assertEquals(1042L, m.getLong("seq"));
        assertEquals("price:update", m.getString("type"));
      } finally {
        live.release();
      }
    }
  }

  @Test
  void refusesNothingSkipped() {
    ByteBuf live = encoder.encodeLive("BTC.analytics".getBytes(StandardCharsets.US_ASCII), 3, 1, 1L, "1".getBytes(StandardCharsets.US_ASCII));
    try {
      assertThrows(IllegalArgumentException.class, () -> FrameEncoder.skippedOf(live, 0, UnpooledByteBufAllocator.DEFAULT));
    } finally {
      live.release();
    }
  }

  /** Decodes one complete server frame as a client would, releasing it. */
  private static String text(ByteBuf frame) {
    EmbeddedChannel decoder = new EmbeddedChannel(new WebSocket13FrameDecoder(false, false, 1 << 20));
    try {
      decoder.writeInbound(frame);
      TextWebSocketFrame f = decoder.readInbound();
      try {
        return f.text();
      } finally {
        f.release();
      }
    } finally {
      decoder.finishAndReleaseAll();
    }
  }
}
