package io.odinws.envelope;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;

import java.nio.charset.StandardCharsets;

/**
 * Encodes a record's data envelope (PROTOCOL.md section 5) straight into a complete WebSocket text
 * frame: header and payload in one exactly-sized buffer, built once and shared by every receiver.
 *
 * <pre>{"seq":O,"ts":T,"type":"price:update","priority":1,"channel":"C","pos":"P:O","data":VALUE}</pre>
 *
 * <p>Hand-written, not a JSON library: the value goes in verbatim behind a header whose length is
 * known before writing, which a generator cannot do without a second copy, once per record.
 *
 * <p>Not thread-safe: it reuses one scratch array for the envelope prefix; each thread that encodes
 * owns its own encoder.
 */
public final class FrameEncoder {

  private static final byte[] SEQ = ascii("{\"seq\":");
  private static final byte[] TS = ascii(",\"ts\":");
  private static final byte[] LIVE = ascii(",\"type\":\"price:update\",\"priority\":1,\"channel\":\"");
  private static final byte[] REPLAY = ascii(",\"type\":\"replay:message\",\"priority\":2,\"channel\":\"");
  private static final byte[] SNAPSHOT = ascii(",\"type\":\"snapshot:message\",\"priority\":2,\"channel\":\"");
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
    return encode(LIVE, channel, partition, offset, tsMillis, value, 0, value.length);
  }

  /** The same envelope as a recovered message: {@code "type":"replay:message","priority":2}. */
  public ByteBuf encodeReplay(byte[] channel, int partition, long offset, long tsMillis, byte[] value) {
    return encode(REPLAY, channel, partition, offset, tsMillis, value, 0, value.length);
  }

  /**
   * The replay frame of a live frame this encoder's format produced: the same seq, ts, channel, pos
   * and data, only the type and priority differ. The live frame is not modified or released.
   */
  public ByteBuf replayOf(ByteBuf liveFrame) {
    ByteBuf frame = retyped(liveFrame, LIVE, REPLAY);
    if (frame == null) {
      throw new IllegalArgumentException("not a live frame of this encoder");
    }
    return frame;
  }

  /**
   * The snapshot frame (PROTOCOL.md section 6, snapshot on subscribe) of a live or replay frame this
   * encoder's format produced: {@code "type":"snapshot:message","priority":2}, everything else the same.
   * The given frame is not modified or released.
   */
  public ByteBuf snapshotOf(ByteBuf liveOrReplayFrame) {
    ByteBuf frame = retyped(liveOrReplayFrame, LIVE, SNAPSHOT);
    if (frame == null) {
      frame = retyped(liveOrReplayFrame, REPLAY, SNAPSHOT);
    }
    if (frame == null) {
      throw new IllegalArgumentException("not a live or replay frame of this encoder");
    }
    return frame;
  }

  /** A copy of {@code source} with its type prefix {@code from} replaced by {@code to}; null when it has no {@code from}. */
  private ByteBuf retyped(ByteBuf source, byte[] from, byte[] to) {
    int i = source.readerIndex();
    int header = FrameHeader.lengthAt(source, i);
    int payloadStart = i + header;
    int payloadEnd = source.writerIndex();
    byte[] payload = new byte[payloadEnd - payloadStart];
    source.getBytes(payloadStart, payload);
    int typeAt = indexOf(payload, from);
    if (typeAt < 0) {
      return null;
    }
    // payload = {"seq":O,"ts":T  TYPE  channel","pos":"P:O","data":VALUE}
    int afterType = typeAt + from.length;
    ByteBuf frame = headed(alloc, typeAt + to.length + (payload.length - afterType));
    frame.writeBytes(payload, 0, typeAt);
    frame.writeBytes(to);
    frame.writeBytes(payload, afterType, payload.length - afterType);
    return frame;
  }

  /**
   * The envelope a slow connection gets for a live frame after skipping older messages of its channel (PROTOCOL.md
   * section 5): the same bytes with {@code ,"skipped":N} right after {@code pos}. Built per connection, only on the
   * conflation path. The live frame is not modified or released.
   *
   * @param skipped messages of the channel not sent to the connection before this one (at least 1)
   * @return a new buffer (refCnt 1) owned by the caller
   */
  public static ByteBuf skippedOf(ByteBuf liveFrame, long skipped, ByteBufAllocator alloc) {
    int i = liveFrame.readerIndex();
    int header = FrameHeader.lengthAt(liveFrame, i);
    int payloadStart = i + header;
    int payloadEnd = liveFrame.writerIndex();
    // the first "," "data": closes pos (channel names and positions never hold a quote)
    int dataAt = indexOf(liveFrame, payloadStart, payloadEnd, DATA);
    if (dataAt < 0 || skipped < 1) {
      throw new IllegalArgumentException("not a live frame of this encoder, or nothing skipped");
    }
    int insertAt = dataAt + 1; // after the closing quote of pos
    byte[] field = ascii(",\"skipped\":" + skipped);
    int payloadLen = payloadEnd - payloadStart + field.length;
    ByteBuf frame = headed(alloc, payloadLen);
    frame.writeBytes(liveFrame, payloadStart, insertAt - payloadStart);
    frame.writeBytes(field);
    frame.writeBytes(liveFrame, insertAt, payloadEnd - insertAt);
    return frame;
  }

  private static int indexOf(ByteBuf haystack, int from, int to, byte[] needle) {
    outer:
    for (int i = from; i + needle.length <= to; i++) {
      for (int j = 0; j < needle.length; j++) {
        if (haystack.getByte(i + j) != needle[j]) {
          continue outer;
        }
      }
      return i;
    }
    return -1;
  }

  private ByteBuf encode(byte[] type, byte[] channel, int partition, long offset, long tsMillis, byte[] value, int valueFrom, int valueLen) {
    prefixLen = 0;
    put(SEQ);
    putLong(offset);
    put(TS);
    putLong(tsMillis);
    put(type);
    put(channel);
    put(POS);
    putLong(partition);
    putByte((byte) ':');
    putLong(offset);
    put(DATA);
    ByteBuf frame = headed(alloc, prefixLen + valueLen + 1);
    frame.writeBytes(prefix, 0, prefixLen);
    frame.writeBytes(value, valueFrom, valueLen);
    frame.writeByte('}');
    return frame;
  }

  /** An exactly-sized buffer holding a FIN text frame header for {@code payloadLen}; the payload follows. */
  private static ByteBuf headed(ByteBufAllocator alloc, int payloadLen) {
    int size = FrameHeader.length(payloadLen) + payloadLen;
    ByteBuf frame = alloc.directBuffer(size, size);
    FrameHeader.write(frame, FIN_TEXT, payloadLen);
    return frame;
  }

  private static int indexOf(byte[] haystack, byte[] needle) {
    outer:
    for (int i = 0; i + needle.length <= haystack.length; i++) {
      for (int j = 0; j < needle.length; j++) {
        if (haystack[i + j] != needle[j]) {
          continue outer;
        }
      }
      return i;
    }
    return -1;
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
