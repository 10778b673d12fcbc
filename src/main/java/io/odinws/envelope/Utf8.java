package io.odinws.envelope;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;

/**
 * Strict UTF-8 validation (RFC 3629 section 4): no overlong forms (C0, C1, E0 80-9F, F0 80-8F), no
 * surrogates (ED A0-BF), nothing above U+10FFFF (F4 90-BF, F5-FF), no stray continuation bytes, no
 * truncated sequence. A WebSocket client must fail the connection on a text frame that breaks any of
 * these (RFC 6455 section 8.1), so every record value is checked before it is embedded in one.
 *
 * <p>Allocation-free and stateless. Jackson's parser does not check this (it skips string contents),
 * and Netty's {@code ByteBufUtil.isText} is strict but needs a {@code ByteBuf} around the record's
 * array and reads byte by byte; here runs of ASCII are checked eight bytes at a time.
 */
final class Utf8 {

  private static final VarHandle LONGS = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);
  private static final long HIGH_BITS = 0x8080808080808080L;

  private Utf8() {
  }

  static boolean isValid(byte[] b) {
    return isValid(b, 0, b.length);
  }

  /** True when {@code b[from, to)} is well-formed UTF-8. */
  static boolean isValid(byte[] b, int from, int to) {
    int i = from;
    while (i < to) {
      if (to - i >= Long.BYTES && ((long) LONGS.get(b, i) & HIGH_BITS) == 0) {
        i += Long.BYTES;
        continue;
      }
      int b0 = b[i];
      if (b0 >= 0) {
        i++;
        continue;
      }
      b0 &= 0xff;
      if (b0 < 0xC2) {
        return false; // a continuation byte in first position, or an overlong 2-byte form (C0, C1)
      }
      if (b0 < 0xE0) {
        if (to - i < 2 || !continuation(b[i + 1])) {
          return false;
        }
        i += 2;
      } else if (b0 < 0xF0) {
        if (to - i < 3) {
          return false;
        }
        int b1 = b[i + 1] & 0xff;
        // E0 A0-BF (below: overlong), ED 80-9F (above: UTF-16 surrogates)
        if (b1 < (b0 == 0xE0 ? 0xA0 : 0x80) || b1 > (b0 == 0xED ? 0x9F : 0xBF) || !continuation(b[i + 2])) {
          return false;
        }
        i += 3;
      } else if (b0 < 0xF5) {
        if (to - i < 4) {
          return false;
        }
        int b1 = b[i + 1] & 0xff;
        // F0 90-BF (below: overlong), F4 80-8F (above: beyond U+10FFFF)
        if (b1 < (b0 == 0xF0 ? 0x90 : 0x80) || b1 > (b0 == 0xF4 ? 0x8F : 0xBF)
            || !continuation(b[i + 2]) || !continuation(b[i + 3])) {
          return false;
        }
        i += 4;
      } else {
        return false; // F5-FF never occur in UTF-8
      }
    }
    return true;
  }

  /** 80-BF. */
  private static boolean continuation(byte b) {
    return b < (byte) 0xC0;
  }
}
