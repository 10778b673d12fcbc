package io.odinws.envelope;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;

import java.util.Arrays;
import java.util.zip.Deflater;

/**
 * The permessage-deflate form of a complete, unmasked text frame (RFC 7692 7.2.1): its payload as raw deflate,
 * flushed with SYNC_FLUSH and without the trailing {@code 00 00 ff ff}, behind a header with RSV1 set. Built
 * from nothing but the message (no context kept between messages: {@code server_no_context_takeover}), so one
 * compressed frame serves every connection that negotiated the extension.
 *
 * <p>Not thread-safe: one Deflater and one scratch array, reused; each thread that compresses owns its own.
 */
public final class FrameDeflater {

  private static final byte FIN_RSV1_TEXT = (byte) 0xC1;
  /** What SYNC_FLUSH ends with, removed from the payload (7.2.1) and appended again by the receiver. */
  private static final int SYNC_TAIL = 4;

  private final ByteBufAllocator alloc;
  private final int minBytes;
  private final Deflater deflater;
  private byte[] out = new byte[4096];

  /**
   * @param level    the zlib level, 1 (fastest) to 9
   * @param minBytes payloads shorter than this are not compressed
   */
  public FrameDeflater(ByteBufAllocator alloc, int level, int minBytes) {
    this.alloc = alloc;
    this.minBytes = minBytes;
    this.deflater = new Deflater(level, true); // raw deflate: no zlib header or checksum
  }

  /**
   * @param frame a complete FIN text frame as {@link FrameEncoder} builds it; not modified or released
   * @return its compressed frame, a new buffer (refCnt 1) owned by the caller; null when its payload is under
   *         {@code minBytes} or does not get smaller (it then goes uncompressed to everyone: 7692 allows it per message)
   */
  public ByteBuf deflate(ByteBuf frame) {
    int start = frame.readerIndex();
    int header = FrameHeader.lengthAt(frame, start);
    int payloadLen = frame.writerIndex() - start - header;
    if (payloadLen < minBytes) {
      return null;
    }
    int n = compress(frame, start + header, payloadLen);
    int compressedLen = n - SYNC_TAIL;
    if (compressedLen >= payloadLen) {
      return null;
    }
    int size = FrameHeader.length(compressedLen) + compressedLen;
    ByteBuf compressed = alloc.directBuffer(size, size);
    FrameHeader.write(compressed, FIN_RSV1_TEXT, compressedLen);
    compressed.writeBytes(out, 0, compressedLen);
    return compressed;
  }

  /** @return the bytes of {@link #out} written, ending with the sync flush's {@code 00 00 ff ff} */
  private int compress(ByteBuf frame, int from, int len) {
    deflater.reset();
    deflater.setInput(frame.nioBuffer(from, len)); // a direct frame is read in place, not copied
    int n = 0;
    while (true) {
      n += deflater.deflate(out, n, out.length - n, Deflater.SYNC_FLUSH);
      if (n < out.length) {
        break; // SYNC_FLUSH wrote everything it had: the output did not fill the space it was given
      }
      out = Arrays.copyOf(out, out.length * 2);
    }
    deflater.setInput(out, 0, 0); // drop the reference to the frame's memory
    return n;
  }

  /** Frees the Deflater's native memory; the instance is unusable afterwards. */
  public void close() {
    deflater.end();
  }
}
