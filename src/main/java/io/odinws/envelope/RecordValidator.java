package io.odinws.envelope;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

/** Decides whether a record may be embedded verbatim in an envelope. Worker-thread only. */
final class RecordValidator {

  private static final JsonFactory JSON = JsonFactory.builder().build();

  private RecordValidator() {
  }

  /** @return null when the key is a valid token, else the reason. */
  static SkipReason checkKey(byte[] key) {
    if (key == null || key.length == 0) {
      return SkipReason.EMPTY_KEY;
    }
    if (key.length > ChannelName.MAX_TOKEN_BYTES) {
      return SkipReason.INVALID_KEY;
    }
    for (byte b : key) {
      // ASCII whitespace and controls, DEL, and the characters that would need JSON escaping or
      // clash with wildcards. Bytes >= 0x80 are UTF-8 sequences, checked by the decoder below.
      if ((b >= 0 && b <= 0x20) || b == 0x7f || b == '"' || b == '\\' || b == '*') {
        return SkipReason.INVALID_KEY;
      }
    }
    return null;
  }

  /**
   * The token of a key that passed {@link #checkKey}: strict UTF-8 with no Unicode whitespace or
   * control characters; null when it is not.
   */
  static String token(byte[] key) {
    String token;
    try {
      token = StandardCharsets.UTF_8.newDecoder()
          .onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT)
          .decode(ByteBuffer.wrap(key)).toString();
    } catch (CharacterCodingException e) {
      return null;
    }
    for (int i = 0; i < token.length(); i++) {
      char c = token.charAt(i);
      if (c >= 0x80 && (Character.isWhitespace(c) || Character.isSpaceChar(c) || Character.isISOControl(c))) {
        return null;
      }
    }
    return token;
  }

  /**
   * @return null when {@code value} is strict UTF-8 (see {@link Utf8}) holding exactly one JSON value
   *     with nothing but JSON whitespace around it, else the reason
   */
  static SkipReason checkValue(byte[] value) {
    if (value == null || value.length == 0) {
      return SkipReason.INVALID_JSON;
    }
    if (!Utf8.isValid(value)) {
      return SkipReason.INVALID_UTF8;
    }
    // Jackson sniffs the encoding from the first four bytes: it skips a UTF-8 byte-order mark, and a
    // NUL there makes it read UTF-16 or UTF-32. Neither may start JSON text embedded as UTF-8.
    int head = Math.min(4, value.length);
    for (int i = 0; i < head; i++) {
      if (value[i] == 0) {
        return SkipReason.INVALID_JSON;
      }
    }
    if (value.length >= 3 && value[0] == (byte) 0xEF && value[1] == (byte) 0xBB && value[2] == (byte) 0xBF) {
      return SkipReason.INVALID_JSON;
    }
    return isJson(value) ? null : SkipReason.INVALID_JSON;
  }

  /**
   * True when {@code value} holds exactly one JSON value and nothing else, as Jackson reads it: only
   * half the check (Jackson neither checks UTF-8 inside strings nor refuses a byte-order mark); records
   * go through {@link #checkValue}.
   */
  static boolean isJson(byte[] value) {
    if (value == null || value.length == 0) {
      return false;
    }
    try (JsonParser p = JSON.createParser(value)) {
      if (p.nextToken() == null) {
        return false;
      }
      p.skipChildren();
      return p.nextToken() == null;
    } catch (IOException e) {
      return false;
    }
  }
}
