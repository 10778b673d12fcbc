package io.odinws.envelope;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.buffer.UnpooledByteBufAllocator;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocket13FrameDecoder;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class FrameHeaderTest {

  /** Each length form at its edges: 7 bits up to 125, 16 bits from 126 to 65,535, 64 bits above. */
  private static final int[] LENGTHS = {0, 125, 126, 65_535, 65_536};

  @Test
  void writesTheShortestLengthFormWithTheMaskBitClear() {
    assertArrayEquals(new byte[] {(byte) 0x81, 125}, header(0x81, 125));
    assertArrayEquals(new byte[] {(byte) 0x81, 126, 0, 126}, header(0x81, 126));
    assertArrayEquals(new byte[] {(byte) 0xC1, 126, (byte) 0xFF, (byte) 0xFF}, header(0xC1, 65_535));
    assertArrayEquals(new byte[] {(byte) 0x81, 127, 0, 0, 0, 0, 0, 1, 0, 0}, header(0x81, 65_536));
  }

  @Test
  void lengthAndLengthAtAgreeWithWhatIsWritten() {
    for (int len : LENGTHS) {
      ByteBuf buf = Unpooled.buffer();
      buf.writeZero(3); // a frame need not start at index 0
      FrameHeader.write(buf, 0x81, len);
      assertEquals(FrameHeader.length(len), buf.readableBytes() - 3, "length(" + len + ")");
      assertEquals(FrameHeader.length(len), FrameHeader.lengthAt(buf, 3), "lengthAt for " + len);
      buf.release();
    }
  }

  @Test
  void nettysDecoderReadsTheFramesAsWritten() {
    // the client side's view: Netty's RFC 6455 decoder, which expects unmasked frames from a server
    EmbeddedChannel client = new EmbeddedChannel(new WebSocket13FrameDecoder(false, false, 1 << 20));
    for (int len : LENGTHS) {
      ByteBuf frame = UnpooledByteBufAllocator.DEFAULT.buffer();
      FrameHeader.write(frame, 0x81, len);
      frame.writeZero(len);
      assertTrue(client.writeInbound(frame));
      TextWebSocketFrame read = client.readInbound();
      assertEquals(len, read.content().readableBytes(), "payload of " + len + " bytes");
      assertTrue(read.isFinalFragment());
      read.release();
    }
    client.finishAndReleaseAll();
  }

  private static byte[] header(int first, int len) {
    ByteBuf buf = Unpooled.buffer();
    FrameHeader.write(buf, first, len);
    byte[] out = new byte[buf.readableBytes()];
    buf.readBytes(out);
    buf.release();
    return out;
  }
}
