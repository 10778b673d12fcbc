package io.odinws.envelope;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.UnpooledByteBufAllocator;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.zip.Inflater;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The compressed frame is what RFC 7692 7.2 says a receiver inflates back into the uncompressed frame's payload. */
class FrameDeflaterTest {

  private final FrameEncoder encoder = new FrameEncoder(UnpooledByteBufAllocator.DEFAULT);
  private final FrameDeflater deflater = new FrameDeflater(UnpooledByteBufAllocator.DEFAULT, 1, 100);

  @Test
  void aLargeMessageInflatesBackToItsEnvelope() throws Exception {
    for (int size : new int[] {200, 5_000, 100_000}) {
      StringBuilder v = new StringBuilder("{\"bids\":[");
      for (int i = 0; v.length() < size; i++) {
        v.append(i == 0 ? "" : ",").append("[\"").append(60_000 + i % 97).append(".5\",\"0.").append(i % 13).append("\"]");
      }
      byte[] value = v.append("]}").toString().getBytes(StandardCharsets.UTF_8);
      ByteBuf frame = encoder.encodeLive(ChannelKeys.of("BTC", "orderbook").channelUtf8(), 3, 1041, 1_700_000_000_000L, value);
      ByteBuf compressed = deflater.deflate(frame);
      try {
        assertEquals(0xC1, compressed.getUnsignedByte(0), "FIN, RSV1, text");
        byte[] payload = payload(compressed);
        assertTrue(payload.length < (size < 1000 ? value.length : value.length / 2), "compressed " + payload.length + " of " + value.length);
        assertArrayEquals(payload(frame), inflate(payload), "size " + size);
        assertEquals(1, frame.refCnt(), "the frame is neither released nor retained");
      } finally {
        frame.release();
        compressed.release();
      }
    }
  }

  @Test
  void aMessageUnderTheThresholdOrThatDoesNotShrinkStaysUncompressed() {
    ByteBuf small = encoder.encodeLive(ChannelKeys.of("BTC", "trade").channelUtf8(), 0, 1, 1, "{\"p\":1}".getBytes(StandardCharsets.UTF_8));
    assertNull(new FrameDeflater(UnpooledByteBufAllocator.DEFAULT, 1, payload(small).length + 1).deflate(small), "under minBytes");
    assertTrue(payload(small).length >= 80, "the envelope alone is most of a small message");
    small.release();
    byte[] random = new byte[600];
    new java.util.Random(7).nextBytes(random);
    String noise = "\"" + java.util.Base64.getEncoder().encodeToString(random) + "\"";
    ByteBuf incompressible = encoder.encodeLive(ChannelKeys.of("BTC", "trade").channelUtf8(), 0, 1, 1, noise.getBytes(StandardCharsets.US_ASCII));
    // random bytes as JSON numbers' worth of text do not shrink: 7692 lets such a message go uncompressed
    byte[] raw = new byte[600];
    new java.util.Random(7).nextBytes(raw);
    ByteBuf frame = UnpooledByteBufAllocator.DEFAULT.directBuffer(604).writeByte(0x81).writeByte(126).writeShort(600).writeBytes(raw);
    assertNull(new FrameDeflater(UnpooledByteBufAllocator.DEFAULT, 9, 0).deflate(frame));
    frame.release();
    incompressible.release();
  }

  static byte[] payload(ByteBuf frame) {
    int b1 = frame.getUnsignedByte(frame.readerIndex() + 1) & 0x7F;
    int header = b1 < 126 ? 2 : b1 == 126 ? 4 : 10;
    return ByteBufUtil.getBytes(frame, frame.readerIndex() + header, frame.readableBytes() - header);
  }

  /** As a client does (7.2.2): append 00 00 ff ff, inflate raw deflate. */
  static byte[] inflate(byte[] compressed) throws Exception {
    Inflater inflater = new Inflater(true);
    byte[] in = java.util.Arrays.copyOf(compressed, compressed.length + 4);
    in[in.length - 2] = (byte) 0xFF;
    in[in.length - 1] = (byte) 0xFF;
    inflater.setInput(in);
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    byte[] buf = new byte[8192];
    int n;
    while ((n = inflater.inflate(buf)) > 0) {
      out.write(buf, 0, n);
    }
    inflater.end();
    return out.toByteArray();
  }
}
