package io.odinws.ingest;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;

import java.nio.charset.StandardCharsets;

/**
 * Encodes a record's data envelope (PROTOCOL.md section 5) straight into a complete WebSocket text
 * frame: header and payload in one exactly-sized buffer, built once and shared by every receiver.
 *
 * <pre>{"seq":O,"ts":T,"type":"price:update","priority":1,"channel":"C","pos":"P:O","data":VALUE}</pre>
 *
 * <p>Not thread-safe: it reuses one scratch array for the envelope prefix; the ingest worker owns one.
 */
public final class FrameEncoder {

  private static final byte[] SEQ = ascii("{\"seq\":");
  private static final byte[] TS = ascii(",\"ts\":");
  private static final byte[] LIVE = ascii(",\"type\":\"price:update\",\"priority\":1,\"channel\":\"");
  private static final byte[] POS = ascii("\",\"pos\":\"");
  private static final byte[] DATA = ascii("\",\"data\":");
  private static final byte FIN_TEXT = (byte) 0x81;

  private final ByteBufAllocator alloc;
  private byte[] prefix = new byte[256];
  private int prefixLen;

  public FrameEncoder(ByteBufAllocator alloc) {
    this.alloc = alloc;
  }

  /**
   * @param channel channel name bytes (validated: nothing in it needs JSON escaping)
   * @param value   the record value, valid JSON, embedded verbatim
   * @return a new buffer (refCnt 1) owned by the caller
   */
  public ByteBuf encodeLive(byte[] channel, int partition, long offset, long tsMillis, byte[] value) {
    prefixLen = 0;
    put(SEQ);
    putLong(offset);
    put(TS);
    putLong(tsMillis);
    put(LIVE);
    put(channel);
    put(POS);
    putLong(partition);
    putByte((byte) ':');
    putLong(offset);
    put(DATA);
    int payloadLen = prefixLen + value.length + 1;
    int headerLen = payloadLen < 126 ? 2 : payloadLen <= 0xFFFF ? 4 : 10;
    ByteBuf frame = alloc.directBuffer(headerLen + payloadLen, headerLen + payloadLen);
    frame.writeByte(FIN_TEXT);
    if (payloadLen < 126) {
      frame.writeByte(payloadLen); // server frames are unmasked: mask bit 0
    } else if (payloadLen <= 0xFFFF) {
      frame.writeByte(126);
      frame.writeShort(payloadLen);
    } else {
      frame.writeByte(127);
      frame.writeLong(payloadLen);
    }
    frame.writeBytes(prefix, 0, prefixLen);
    frame.writeBytes(value);
    frame.writeByte('}');
    return frame;
  }

  private void ensure(int extra) {
    if (prefixLen + extra > prefix.length) {
      prefix = java.util.Arrays.copyOf(prefix, Math.max(prefix.length * 2, prefixLen + extra));
    }
  }

  private void put(byte[] bytes) {
    ensure(bytes.length);
    System.arraycopy(bytes, 0, prefix, prefixLen, bytes.length);
    prefixLen += bytes.length;
  }

  private void putByte(byte b) {
    ensure(1);
    prefix[prefixLen++] = b;
  }

  /** Decimal digits of a non-negative long, written without allocating a String. */
  private void putLong(long v) {
    if (v < 0) {
      putByte((byte) '-');
      v = -v;
    }
    ensure(20);
    int start = prefixLen;
    do {
      prefix[prefixLen++] = (byte) ('0' + (v % 10));
      v /= 10;
    } while (v != 0);
    for (int i = start, j = prefixLen - 1; i < j; i++, j--) {
      byte t = prefix[i];
      prefix[i] = prefix[j];
      prefix[j] = t;
    }
  }

  private static byte[] ascii(String s) {
    return s.getBytes(StandardCharsets.US_ASCII);
  }
}
