package io.odinws.envelope;

import io.netty.buffer.ByteBuf;

/**
 * The header of a frame the server writes (RFC 6455 section 5.2): the first byte (FIN, RSV bits, opcode), then the
 * payload's length in 7, 7+16 or 7+64 bits with the mask bit 0, as a server's frames are never masked.
 */
public final class FrameHeader {

  private FrameHeader() {
  }

  /** @return the bytes of the header of a frame with {@code payloadLen} bytes of payload: 2, 4 or 10 */
  public static int length(int payloadLen) {
    return payloadLen < 126 ? 2 : payloadLen <= 0xFFFF ? 4 : 10;
  }

  /** @return the header's bytes of the unmasked frame that starts at {@code start} in {@code frame} */
  public static int lengthAt(ByteBuf frame, int start) {
    int b1 = frame.getUnsignedByte(start + 1) & 0x7F;
    return b1 < 126 ? 2 : b1 == 126 ? 4 : 10;
  }

  /** Writes the header: {@code first}, then the length. */
  public static void write(ByteBuf buf, int first, int payloadLen) {
    buf.writeByte(first);
    if (payloadLen < 126) {
      buf.writeByte(payloadLen);
    } else if (payloadLen <= 0xFFFF) {
      buf.writeByte(126);
      buf.writeShort(payloadLen);
    } else {
      buf.writeByte(127);
      buf.writeLong(payloadLen);
    }
  }
}
