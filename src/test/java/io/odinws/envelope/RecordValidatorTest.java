package io.odinws.envelope;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.HexFormat;
import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A record value reaches a client only as strict UTF-8 holding exactly one JSON value (issue 14, point 5). */
class RecordValidatorTest {

  private static final HexFormat HEX = HexFormat.of();

  /** The sequences and their kin: overlong forms, surrogates, beyond U+10FFFF, bytes that never occur. */
  private static final List<String> ILL_FORMED = List.of(
      "c080",       // overlong NUL
      "c0a2",       // overlong '"': would close the string early for a lenient reader
      "c1bf",       // overlong 2-byte
      "e080af",     // overlong '/'
      "e09fbf",     // overlong 3-byte (U+07FF)
      "eda080",     // high surrogate U+D800
      "edbfbf",     // low surrogate U+DFFF
      "eda0bdedb880", // a surrogate pair encoded as two 3-byte sequences (CESU-8)
      "f08fbfbf",   // overlong 4-byte (U+FFFF)
      "f4908080",   // U+110000
      "f5808080",
      "f7bfbfbf",
      "f888808080", // 5-byte form
      "fc8480808080", // 6-byte form
      "fe", "ff",
      "80", "bf",   // continuation bytes in first position
      "c3",         // truncated 2-byte
      "e282",       // truncated 3-byte
      "f09f98",     // truncated 4-byte
      "c341",       // lead byte followed by ASCII
      "e2c2a9",     // lead byte followed by another lead
      "f09f98c3a9");

  /** Boundaries of every length: U+0080, U+07FF, U+0800, U+D7FF, U+E000, U+FFFD, U+FFFF, U+10000, U+10FFFF. */
  private static final List<String> WELL_FORMED = List.of(
      "c280", "c3a9", "dfbf", "e0a080", "e282ac", "ed9fbf", "ee8080", "efbfbd", "efbfbf",
      "f0908080", "f09f9880", "f48fbfbf", "7f", "00");

  @Test
  void illFormedSequencesAreRejectedAloneInsideAStringAtTheEndAndInTheMiddle() {
    for (String hex : ILL_FORMED) {
      byte[] seq = HEX.parseHex(hex);
      assertFalse(Utf8.isValid(seq), hex);
      byte[] inString = json("{\"s\":\"", seq, "\"}");
      assertEquals(SkipReason.INVALID_UTF8, RecordValidator.checkValue(inString), "in a string: " + hex);
      // after and before runs long enough for the eight-byte ASCII path
      assertFalse(Utf8.isValid(json("{\"long ascii prefix\":\"", seq, "")), "at the end: " + hex);
      assertFalse(Utf8.isValid(json("", seq, "\"and a long ascii suffix\"")), "at the start: " + hex);
      assertFalse(Utf8.isValid(json("{\"é€😀 text\":\"", seq, "\" , \"more\":\"ü\"}")), "between multi-byte characters: " + hex);
    }
  }

  @Test
  void truncatedCharactersAreRejectedAtTheEndAndInTheMiddle() {
    byte[] euro = "€".getBytes(StandardCharsets.UTF_8);
    byte[] emoji = "😀".getBytes(StandardCharsets.UTF_8);
    for (byte[] c : List.of("é".getBytes(StandardCharsets.UTF_8), euro, emoji)) {
      for (int cut = 1; cut < c.length; cut++) {
        byte[] prefix = java.util.Arrays.copyOf(c, cut);
        assertEquals(SkipReason.INVALID_UTF8, RecordValidator.checkValue(json("\"abc", prefix, "")), "at the end: " + HEX.formatHex(prefix));
        assertEquals(SkipReason.INVALID_UTF8, RecordValidator.checkValue(json("{\"s\":\"", prefix, "\"}")), "in the middle: " + HEX.formatHex(prefix));
        assertEquals(SkipReason.INVALID_UTF8, RecordValidator.checkValue(json("{\"s\":\"", prefix, "0123456789abcdef\"}")), "before ASCII: " + HEX.formatHex(prefix));
      }
    }
  }

  @Test
  void wellFormedCharactersOfEveryLengthAreAccepted() {
    for (String hex : WELL_FORMED) {
      byte[] seq = HEX.parseHex(hex);
      assertTrue(Utf8.isValid(seq), hex);
      if (!hex.equals("00") && !hex.equals("7f")) {
        assertNull(RecordValidator.checkValue(json("{\"s\":\"", seq, "\"}")), hex);
        assertNull(RecordValidator.checkValue(json("{\"0123456789\":\"", seq, seq, seq, "0123456789\"}")), hex);
      }
    }
    assertNull(RecordValidator.checkValue("{\"token\":\"ÆTHER\",\"price\":\"1,5 €\",\"note\":\"🚀 to the 🌕\",\"ja\":\"取引\"}"
        .getBytes(StandardCharsets.UTF_8)));
    assertTrue(Utf8.isValid(new byte[0]));
  }

  @Test
  void aByteOrderMarkIsRejectedBeforeValidJson() {
    byte[] bom = HEX.parseHex("efbbbf");
    assertEquals(SkipReason.INVALID_JSON, RecordValidator.checkValue(json("", bom, "{\"a\":1}")));
    assertEquals(SkipReason.INVALID_JSON, RecordValidator.checkValue(json("", bom, "1")));
    assertEquals(SkipReason.INVALID_JSON, RecordValidator.checkValue(json(" ", bom, "{\"a\":1}")));
    assertEquals(SkipReason.INVALID_JSON, RecordValidator.checkValue(json("{\"a\":1}", bom, "")));
    // U+FEFF inside a string is just a character
    assertNull(RecordValidator.checkValue(json("{\"a\":\"", bom, "\"}")));
  }

  @Test
  void exactlyOneJsonValueWithOnlyJsonWhitespaceAround() {
    for (String ok : List.of("{}", "[]", "1", "-0.5e3", "\"s\"", "true", "null", " \t\r\n{\"a\":[1,{\"b\":null}]}\n\r\t ")) {
      assertNull(RecordValidator.checkValue(ok.getBytes(StandardCharsets.UTF_8)), ok);
    }
    for (String bad : List.of("", " ", "{", "{}}", "{} {}", "1 2", "{} x", "{\"a\":1,}", "'a'", "NaN", "01", "\u00a0{}", "{}\u00a0",
        "\u000b{}", "{}\f", "{}\u2028", "/*c*/{}", "{}//c", "{\"a\":\"\u0001\"}")) {
      assertEquals(SkipReason.INVALID_JSON, RecordValidator.checkValue(bad.getBytes(StandardCharsets.UTF_8)), bad);
    }
    assertEquals(SkipReason.INVALID_JSON, RecordValidator.checkValue(null));
  }

  @Test
  void jsonInUtf16OrUtf32OrWithNulBytesIsRejected() {
    for (String hex : List.of("007b007d", "7b007d00", "0000007b0000007d", "7b0000007d000000", "feff007b007d", "fffe7b007d00",
        "7b7d00", "007b7d", "20207b7d00", "5b315d0000")) {
      assertTrue(RecordValidator.checkValue(HEX.parseHex(hex)) != null, hex);
    }
  }

  @Test
  void aOneMebibyteJsonValueIsAccepted() {
    byte[] ascii = bigJson(1 << 20, "x");
    assertEquals(1 << 20, ascii.length);
    assertNull(RecordValidator.checkValue(ascii));
    byte[] mixed = bigJson(1 << 20, "é€😀a");
    assertEquals(1 << 20, mixed.length);
    assertNull(RecordValidator.checkValue(mixed));
    mixed[mixed.length / 2 + 1] = (byte) 0xC0; // one bad byte deep inside
    assertEquals(SkipReason.INVALID_UTF8, RecordValidator.checkValue(mixed));
  }

  /**
   * Agrees with the JDK's decoder (strict per RFC 3629) on every one- and two-byte sequence, on every
   * three- and four-byte sequence built from each lead byte and the bytes around every range boundary,
   * and on random input.
   */
  @Test
  void agreesWithTheJdkDecoderEverywhere() {
    Jdk jdk = new Jdk();
    for (int a = 0; a < 256; a++) {
      check(jdk, new byte[] {(byte) a});
      for (int b = 0; b < 256; b++) {
        check(jdk, new byte[] {(byte) a, (byte) b});
      }
    }
    byte[] edges = HEX.parseHex("00417f808f909f" + "a0bfc0c1c2dfe0edeff0f4f5ff");
    for (int a = 0xC0; a < 256; a++) {
      for (byte b : edges) {
        for (byte c : edges) {
          check(jdk, new byte[] {(byte) a, b, c});
          for (byte d : edges) {
            check(jdk, new byte[] {(byte) a, b, c, d});
          }
        }
      }
    }
    SplittableRandom random = new SplittableRandom(14);
    byte[] pool = HEX.parseHex("00417f80bfc0c1c2dfe0e1eceded9fa0eef0f1f3f4f58f90ff");
    for (int n = 0; n < 50_000; n++) {
      byte[] b = new byte[random.nextInt(1, 24)];
      for (int i = 0; i < b.length; i++) {
        b[i] = random.nextInt(3) == 0 ? (byte) random.nextInt(256) : pool[random.nextInt(pool.length)];
      }
      check(jdk, b);
      int from = random.nextInt(b.length);
      assertEquals(jdk.valid(java.util.Arrays.copyOfRange(b, from, b.length)), Utf8.isValid(b, from, b.length),
          HEX.formatHex(b) + " from " + from);
    }
  }

  private static void check(Jdk jdk, byte[] b) {
    if (Utf8.isValid(b) != jdk.valid(b)) {
      assertEquals(jdk.valid(b), Utf8.isValid(b), HEX.formatHex(b));
    }
  }

  /** The JDK's UTF-8 decoder, reporting malformed input. */
  private static final class Jdk {
    final CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder()
        .onMalformedInput(CodingErrorAction.REPORT).onUnmappableCharacter(CodingErrorAction.REPORT);
    final CharBuffer out = CharBuffer.allocate(64);

    boolean valid(byte[] b) {
      decoder.reset();
      out.clear();
      ByteBuffer in = ByteBuffer.wrap(b);
      return !decoder.decode(in, out, true).isError() && !decoder.flush(out).isError() && !in.hasRemaining();
    }
  }

  /** {@code {"pad":"<fill repeated>"}} of exactly {@code size} bytes, padded with ASCII where the fill does not divide. */
  static byte[] bigJson(int size, String fill) {
    byte[] head = "{\"pad\":\"".getBytes(StandardCharsets.UTF_8);
    byte[] tail = "\"}".getBytes(StandardCharsets.UTF_8);
    byte[] unit = fill.getBytes(StandardCharsets.UTF_8);
    ByteArrayOutputStream out = new ByteArrayOutputStream(size);
    out.writeBytes(head);
    while (out.size() + unit.length + tail.length <= size) {
      out.writeBytes(unit);
    }
    while (out.size() + tail.length < size) {
      out.write('y');
    }
    out.writeBytes(tail);
    return out.toByteArray();
  }

  private static byte[] json(String before, byte[] middle, String after) {
    return json(before, middle, new byte[0], new byte[0], after);
  }

  private static byte[] json(String before, byte[] a, byte[] b, byte[] c, String after) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.writeBytes(before.getBytes(StandardCharsets.UTF_8));
    out.writeBytes(a);
    out.writeBytes(b);
    out.writeBytes(c);
    out.writeBytes(after.getBytes(StandardCharsets.UTF_8));
    return out.toByteArray();
  }
}
